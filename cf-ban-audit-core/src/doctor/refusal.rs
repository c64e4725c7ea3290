//! The Cloudflare addresses the doctor probes beyond each range's representative, and what it
//! says of each one the firewall refuses.
//!
//! A per-address ban (fail2ban's `-s 173.245.49.12/32 -j REJECT`, an element of its nft set or
//! ipset) refuses one edge and leaves the range's first address through, so probing ranges
//! alone says "ACCEPT" during the very outage it should explain. The doctor therefore also
//! probes every Cloudflare address or network that the scan's findings name (logs, ban lists,
//! databases, live state) and every one written in the firewall listings themselves. An extra
//! probe can only find a refusal the rules really make: the verdict is always the evaluator's,
//! never the text's, so an address planted in a rule comment can add a probe but not a failure.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use super::firewall_check::representative;
use super::firewall_eval::Ipsets;
use super::nft_eval::NftRuleset;
use super::verdict::{Decision, Verdict};
use crate::firewall::nft::render;
use crate::ranges::RangeSet;
use crate::report::Report;

/// The most named addresses probed (per port): beyond them the check says how many were
/// left out.
pub const MAX_NAMED: usize = 1024;

/// The most refused addresses the check's evidence lines name (the JSON has them all).
pub const MAX_REFUSALS_SHOWN: usize = 12;

/// The longest token read as an address from a firewall listing.
const MAX_TOKEN: usize = 49;

/// The Cloudflare addresses to probe beyond the ranges' representatives, with what names
/// each, and the lift commands the scan's findings give for them.
#[derive(Debug, Clone, Default)]
pub(super) struct Named {
    /// Each address (the first usable one of a named network), with what names it.
    pub addresses: Vec<(IpAddr, Vec<String>)>,
    /// Named addresses not probed (past [`MAX_NAMED`]).
    pub left_out: usize,
    /// Findings of Cloudflare addresses: (address, who bans it, lift command or why none).
    findings: Vec<Held>,
}

/// A finding of a Cloudflare address, as a refusal needs it.
#[derive(Debug, Clone)]
struct Held {
    /// The address or network banned.
    net: IpNet,
    /// The tool and scope that ban it.
    who: String,
    /// Whether the ban is in force.
    active: bool,
    /// The command that lifts it, or why none is given.
    lift: Result<Vec<String>, String>,
}

impl Named {
    /// The addresses `scan` and the listings `texts` ((label, text)) name inside `ranges`,
    /// leaving out each range's own representative (probed anyway) and networks wider than
    /// the range they fall in (its representative stands for them).
    pub(super) fn collect(
        ranges: &RangeSet,
        scan: Option<&Report>,
        texts: &[(&str, &str)],
    ) -> Named {
        let mut named = Named::default();
        let representatives: Vec<IpAddr> = ranges.nets().iter().map(representative).collect();
        let mut by: BTreeMap<IpAddr, Vec<String>> = BTreeMap::new();
        let mut add = |net: IpNet, why: String| {
            let addr = representative(&net);
            let Some(range) = ranges.nets().iter().find(|r| r.contains(&addr)) else {
                return;
            };
            if net.prefix_len() < range.prefix_len() || representatives.contains(&addr) {
                return;
            }
            let whys = by.entry(addr).or_default();
            if whys.len() < 4 && !whys.contains(&why) {
                whys.push(why);
            }
        };
        if let Some(scan) = scan {
            for f in &scan.findings {
                let at = f
                    .locations
                    .last()
                    .map(|l| format!(", {l}"))
                    .unwrap_or_default();
                let who = format!("{} {}", f.tool, f.scope);
                add(f.address, format!("{who} ({}{at})", f.state));
                if ranges.contains(representative(&f.address)) {
                    let lift = match (&f.lift, &f.lift_unavailable) {
                        (Some(argv), _) => Ok(argv.clone()),
                        (None, Some(why)) => Err(why.clone()),
                        (None, None) => Err("no lift command is known for this ban".into()),
                    };
                    named.findings.push(Held {
                        net: f.address,
                        who,
                        active: f.active,
                        lift,
                    });
                }
            }
        }
        for (label, text) in texts {
            for token in
                text.split(|c: char| !(c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '/')))
            {
                if token.len() < 3 || token.len() > MAX_TOKEN {
                    continue;
                }
                let net = token
                    .parse::<IpNet>()
                    .ok()
                    .or_else(|| token.parse::<IpAddr>().ok().map(IpNet::from));
                if let Some(net) = net {
                    add(net.trunc(), format!("written in {label}"));
                }
            }
        }
        named.left_out = by.len().saturating_sub(MAX_NAMED);
        named.addresses = by.into_iter().take(MAX_NAMED).collect();
        named
    }
}

/// A Cloudflare address the firewall refuses, with the rule that refuses it and how to lift
/// the ban.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Refusal {
    /// The address probed.
    pub address: IpAddr,
    /// The Cloudflare range it is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<IpNet>,
    /// `drop` or `reject`.
    pub verdict: Verdict,
    /// The rule (or policy) that refuses it.
    pub by: String,
    /// What names the address: the findings (tool, scope, state, place) and listings.
    pub named_by: Vec<String>,
    /// The commands that lift the bans of it (argument lists, one element, rule or decision
    /// each: never a whole rule, set or chain of a ban tool).
    pub lift: Vec<Vec<String>>,
    /// For bans of it that no command lifts, why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lift_unavailable: Vec<String>,
    /// The address's own element of the set the refusing rule matches, removed from the
    /// firewall directly (`nft delete element ...`, `ipset del ...`): for when the ban tool no
    /// longer runs. Its tool's record of the ban stays until the tool is told ([`Refusal::lift`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub direct: Vec<Vec<String>>,
}

/// The commands that remove `address`'s own element from the sets the rule `by` (a label of
/// the evaluators: `nft FAMILY TABLE CHAIN #N: RULE` or `TABLE CHAIN #N: -A ...`) matches on:
/// one element each, never the rule or the set.
pub(super) fn element_lifts(
    by: &str,
    address: IpAddr,
    nft: Option<&NftRuleset>,
    ipsets: Option<&Ipsets>,
) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let Some((head, rule)) = by.split_once(": ") else {
        return out;
    };
    let words: Vec<&str> = head.split_whitespace().collect();
    if let (["nft", family, table, ..], Some(nft)) = (words.as_slice(), nft) {
        let Some(t) = nft
            .tables
            .iter()
            .find(|t| t.family == *family && t.name == *table)
        else {
            return out;
        };
        for name in rule.split_whitespace().filter_map(|w| w.strip_prefix('@')) {
            let Some(set) = t.sets.get(name) else {
                continue;
            };
            for e in &set.elements {
                let key = render(&e.key);
                let net = key
                    .parse::<IpNet>()
                    .ok()
                    .or_else(|| key.parse::<IpAddr>().ok().map(IpNet::from));
                if net.is_some_and(|n| n.contains(&address)) {
                    out.push(vec![
                        "nft".into(),
                        "delete".into(),
                        "element".into(),
                        family.to_string(),
                        table.to_string(),
                        name.to_string(),
                        format!("{{ {key} }}"),
                    ]);
                }
            }
        }
    } else if let Some(ipsets) = ipsets {
        let words: Vec<&str> = rule.split_whitespace().collect();
        for pair in words.windows(2) {
            if pair[0] != "--match-set" {
                continue;
            }
            let Some(set) = ipsets.sets.get(pair[1]) else {
                continue;
            };
            for m in set
                .members
                .iter()
                .filter(|m| !m.nomatch && m.net.contains(&address))
            {
                out.push(vec![
                    "ipset".into(),
                    "del".into(),
                    pair[1].to_string(),
                    crate::addr::display_net(&m.net),
                ]);
            }
        }
    }
    out.dedup();
    out
}

impl Refusal {
    /// The refusal of `address` (in `range`) by `decision`, named by `named_by`, with the
    /// lift commands of the findings in `named` that hold it (bans in force first).
    pub(super) fn new(
        address: IpAddr,
        range: Option<IpNet>,
        decision: Decision,
        named_by: Vec<String>,
        named: &Named,
        direct: Vec<Vec<String>>,
    ) -> Refusal {
        let mut holding: Vec<&Held> = named
            .findings
            .iter()
            .filter(|h| h.net.contains(&address))
            .collect();
        holding.sort_by_key(|h| !h.active);
        let mut lift: Vec<Vec<String>> = Vec::new();
        let mut lift_unavailable = Vec::new();
        for Held { who, lift: l, .. } in holding {
            match l {
                Ok(argv) if !lift.contains(argv) => lift.push(argv.clone()),
                Ok(_) => {}
                Err(why) => {
                    let why = format!("{who}: {why}");
                    if !lift_unavailable.contains(&why) {
                        lift_unavailable.push(why);
                    }
                }
            }
        }
        Refusal {
            address,
            range,
            verdict: decision.verdict,
            by: decision.by,
            named_by,
            lift,
            lift_unavailable,
            direct,
        }
    }

    /// One line for the checklist.
    pub fn describe(&self) -> String {
        let range = self.range.map(|r| format!(" (in {r})")).unwrap_or_default();
        let mut s = format!(
            "{} for Cloudflare address {}{range}, named by {}: {}",
            self.verdict.name(),
            self.address,
            self.named_by.join("; "),
            self.by
        );
        for argv in &self.lift {
            let words: Vec<&str> = argv.iter().map(String::as_str).collect();
            s.push_str(&format!("; lift: `{}`", crate::lift::shown(&words)));
        }
        for argv in &self.direct {
            let words: Vec<&str> = argv.iter().map(String::as_str).collect();
            s.push_str(&format!(
                "; or, if the tool no longer runs, its element alone: `{}`",
                crate::lift::shown(&words)
            ));
        }
        for why in &self.lift_unavailable {
            s.push_str(&format!("; no lift command: {why}"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cloudflare_addresses_of_listings_but_not_representatives_or_wider_nets() {
        let cf = crate::cloudflare::embedded();
        let text = "-A f2b-x -s 173.245.49.12/32 -j REJECT\n-A INPUT -s 173.245.48.1 -j DROP\n\
                    -A INPUT -s 203.0.113.5 -j DROP\n-A INPUT -s 104.16.0.0/12 -j DROP\n\
                    add addr-set-x { 2606:4700:10::6816:1 }\n-m comment --comment \"1.2.3.4:80\"";
        let named = Named::collect(&cf, None, &[("saved iptables-save", text)]);
        let addrs: Vec<String> = named.addresses.iter().map(|(a, _)| a.to_string()).collect();
        assert_eq!(addrs, ["173.245.49.12", "2606:4700:10::6816:1"]);
        assert_eq!(named.addresses[0].1, ["written in saved iptables-save"]);
        assert_eq!(named.left_out, 0);
    }
}
