//! The firewall check: what the host firewall does with a new TCP connection from
//! Cloudflare, evaluated from the saved or live rules.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use super::firewall_eval::{Ipsets, IptablesRuleset};
use super::nft_eval::NftRuleset;
use super::refusal::{element_lifts, Named, Refusal, MAX_NAMED, MAX_REFUSALS_SHOWN};
use super::verdict::{self, Decision, Probe, Verdict};
use super::{proc, Cause, Check, Doctor, Input, Status};
use crate::live::{self, LiveOptions, LiveOutput, LiveSource, UserOption};
use crate::Format;

impl Doctor {
    pub(super) fn firewall_inputs(&self, unreadable: &mut Vec<String>) -> FirewallInputs {
        let saved = self.iptables.is_some()
            || self.ip6tables.is_some()
            || self.ipset.is_some()
            || self.nft.is_some();
        let get = |text: &Option<String>,
                   program: &'static str,
                   args: &'static [&'static str],
                   format: Format|
         -> Input {
            if let Some(t) = text {
                return Input::Text(
                    t.clone(),
                    format!("saved {program} {}", args.join(" "))
                        .trim_end()
                        .to_string(),
                );
            }
            if saved || !self.live_firewall {
                return Input::Absent(format!("{program}: not given"));
            }
            let source = LiveSource {
                program,
                args,
                option: UserOption::None,
                format,
            };
            let options = LiveOptions::default();
            match live::run(&source, &options) {
                LiveOutput::Output(out) => Input::Text(
                    String::from_utf8_lossy(&out).into_owned(),
                    source.label(&options),
                ),
                LiveOutput::Absent => Input::Absent(format!("{program}: not installed")),
                LiveOutput::Failed(e) => Input::Failed(format!("{}: {e}", source.label(&options))),
            }
        };
        let inputs = FirewallInputs {
            v4: get(&self.iptables, "iptables-save", &[], Format::IptablesSave),
            v6: get(&self.ip6tables, "ip6tables-save", &[], Format::IptablesSave),
            ipset: get(&self.ipset, "ipset", &["save"], Format::Ipset),
            nft: get(&self.nft, "nft", &["list", "ruleset"], Format::NftRuleset),
        };
        for i in [&inputs.v4, &inputs.v6, &inputs.ipset, &inputs.nft] {
            if let Input::Failed(e) = i {
                unreadable.push(e.clone());
            }
        }
        inputs
    }

    /// The firewall's decision for a new TCP connection to `port` from the representative
    /// address of each range (see [`representative`]), reading the firewall the way
    /// [`Doctor::run`] does (saved inputs, or the live commands).
    pub fn firewall_verdicts(&self, port: u16) -> Vec<RangeVerdict> {
        let fw = self.firewall_inputs(&mut Vec::new());
        let rules = Rules::parse(&fw);
        let sources: Vec<IpAddr> = self.ranges.nets().iter().map(representative).collect();
        self.ranges
            .nets()
            .iter()
            .zip(self.decisions(port, &rules, &sources))
            .map(|(net, decision)| RangeVerdict {
                range: *net,
                probe: representative(net),
                decision,
            })
            .collect()
    }

    fn interface_in_use(&self) -> Option<String> {
        self.interface
            .clone()
            .or_else(|| proc::default_route_interface(&self.net_dir()))
    }

    /// The decision for a new TCP connection to `port` from each of `sources`.
    fn decisions(&self, port: u16, rules: &Rules, sources: &[IpAddr]) -> Vec<Decision> {
        let interface = self.interface_in_use();
        sources
            .iter()
            .map(|&source| {
                let probe = Probe {
                    source,
                    port,
                    interface: interface.clone(),
                    destination: self.destination,
                };
                let mut layers = Vec::new();
                let ipt = if source.is_ipv4() {
                    &rules.v4
                } else {
                    &rules.v6
                };
                match ipt {
                    Ok(Some(rs)) => layers.extend(rs.layers(&probe, rules.ipsets.as_ref())),
                    Ok(None) => {}
                    Err(e) => layers.push(unknown_layer(e)),
                }
                match &rules.nft {
                    Ok(Some(rs)) => layers.extend(rs.layers(&probe, &rules.skip)),
                    Ok(None) => {}
                    Err(e) => layers.push(unknown_layer(e)),
                }
                verdict::decide(layers)
            })
            .collect()
    }

    /// The check for `port`: every range's representative, and every Cloudflare address the
    /// scan's findings or the rules themselves name (`named`), through the rules.
    pub(super) fn firewall_check(
        &self,
        port: u16,
        fw: &FirewallInputs,
        rules: &Rules,
        named: &Named,
    ) -> Check {
        let title = format!("firewall on port {port}");
        let interface = self.interface_in_use();
        let mut evidence = vec![format!(
            "probe: a new TCP connection (SYN, conntrack NEW) to port {port} from the first usable address of each range ({}) and from {} Cloudflare address(es) that bans, sets, rules or logs name, arriving on {}",
            self.ranges.nets().first().map(|n| format!("{} for {n}", representative(n))).unwrap_or_default(),
            named.addresses.len(),
            interface.as_deref().map(|i| format!("{i} (the default route's interface)")).unwrap_or_else(|| "an unknown interface".into()),
        )];
        let read: Vec<String> = [&fw.v4, &fw.v6, &fw.ipset, &fw.nft]
            .iter()
            .map(|i| match i {
                Input::Text(_, src) => format!("{src}: read"),
                Input::Absent(why) => why.clone(),
                Input::Failed(why) => format!("{why} (not read)"),
            })
            .collect();
        evidence.push(format!("rules: {}", read.join("; ")));
        let sources: Vec<IpAddr> = self.ranges.nets().iter().map(representative).collect();
        let mut groups: BTreeMap<(Verdict, String), Vec<IpNet>> = BTreeMap::new();
        for (net, decision) in self
            .ranges
            .nets()
            .iter()
            .zip(self.decisions(port, rules, &sources))
        {
            groups
                .entry((decision.verdict, decision.by))
                .or_default()
                .push(*net);
        }
        let mut status = Status::Ok;
        let mut deciding: Vec<String> = Vec::new();
        for ((verdict, by), nets) in &groups {
            let list: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
            evidence.push(format!(
                "{} for {} range(s) ({}): {by}",
                verdict.name(),
                nets.len(),
                list.join(", ")
            ));
            match verdict {
                Verdict::Drop | Verdict::Reject => {
                    status = Status::Fail;
                    deciding.push(by.clone());
                }
                Verdict::Unknown if status == Status::Ok => status = Status::Unknown,
                _ => {}
            }
        }
        let addresses: Vec<IpAddr> = named.addresses.iter().map(|(a, _)| *a).collect();
        let mut refused = Vec::new();
        let mut undecided = 0usize;
        for ((address, named_by), decision) in named
            .addresses
            .iter()
            .zip(self.decisions(port, rules, &addresses))
        {
            match decision.verdict {
                Verdict::Drop | Verdict::Reject => {
                    let direct = element_lifts(
                        &decision.by,
                        *address,
                        rules.nft.as_ref().ok().and_then(Option::as_ref),
                        rules.ipsets.as_ref(),
                    );
                    let range = self.ranges.nets().iter().find(|n| n.contains(address));
                    refused.push(Refusal::new(
                        *address,
                        range.copied(),
                        decision,
                        named_by.clone(),
                        named,
                        direct,
                    ))
                }
                Verdict::Unknown => undecided += 1,
                Verdict::Accept => {}
            }
        }
        for r in refused.iter().take(MAX_REFUSALS_SHOWN) {
            evidence.push(r.describe());
        }
        if refused.len() > MAX_REFUSALS_SHOWN {
            evidence.push(format!(
                "... and {} more Cloudflare addresses refused (all are in the JSON report)",
                refused.len() - MAX_REFUSALS_SHOWN
            ));
        }
        if named.left_out > 0 {
            evidence.push(format!(
                "{} more named Cloudflare addresses not evaluated (at most {MAX_NAMED} are): `cf-ban-audit scan --active` lists every ban",
                named.left_out
            ));
        }
        if !refused.is_empty() {
            status = Status::Fail;
        } else if undecided > 0 && status == Status::Ok {
            evidence.push(format!(
                "{undecided} named Cloudflare address(es) depend on rules beyond the evaluator"
            ));
            status = Status::Unknown;
        }
        let fix = match status {
            Status::Fail => firewall_fix(port, &deciding, &refused),
            Status::Unknown => "Read the rules named above by hand (or run as root so that the firewall can be read): \
                 they decide whether Cloudflare gets through."
                .to_string(),
            _ => String::new(),
        };
        Check {
            cause: Cause::Firewall,
            port: Some(port),
            title,
            status,
            evidence,
            fix,
            refused,
        }
    }
}

/// The firewall's decision for one range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RangeVerdict {
    /// The range.
    pub range: IpNet,
    /// The address probed for it.
    pub probe: IpAddr,
    /// What the rules do with a new TCP connection from it.
    pub decision: Decision,
}

/// The rule inputs of a firewall check.
#[derive(Debug, Clone)]
pub(super) struct FirewallInputs {
    v4: Input,
    v6: Input,
    ipset: Input,
    nft: Input,
}

/// The firewall's rules, parsed once for every probe.
pub(super) struct Rules {
    v4: Result<Option<IptablesRuleset>, String>,
    v6: Result<Option<IptablesRuleset>, String>,
    ipsets: Option<Ipsets>,
    nft: Result<Option<NftRuleset>, String>,
    /// Tables that iptables-nft manages: they show in both listings, evaluated once.
    skip: Vec<(String, String)>,
}

impl Rules {
    /// Parses the inputs.
    pub(super) fn parse(fw: &FirewallInputs) -> Rules {
        let v4 = parse_iptables(&fw.v4);
        let v6 = parse_iptables(&fw.v6);
        let ipsets = match &fw.ipset {
            Input::Text(t, _) => Some(Ipsets::parse(t)),
            Input::Absent(_) => Some(Ipsets::default()),
            Input::Failed(_) => None,
        };
        let nft = match &fw.nft {
            Input::Text(t, _) => Ok(Some(NftRuleset::parse(t))),
            Input::Absent(_) => Ok(None),
            Input::Failed(e) => Err(e.clone()),
        };
        let mut skip = Vec::new();
        for (family, rs) in [("ip", &v4), ("ip6", &v6)] {
            if let Ok(Some(rs)) = rs {
                if rs.nf_tables {
                    skip.extend(rs.tables.keys().map(|t| (family.to_string(), t.clone())));
                }
            }
        }
        Rules {
            v4,
            v6,
            ipsets,
            nft,
            skip,
        }
    }
}

impl FirewallInputs {
    /// The listings read, as (label, text).
    pub(super) fn texts(&self) -> Vec<(&str, &str)> {
        self.texts_with_formats()
            .into_iter()
            .map(|(label, text, _)| (label, text))
            .collect()
    }

    /// The listings read, as (label, text, format).
    pub(super) fn texts_with_formats(&self) -> Vec<(&str, &str, Format)> {
        [
            (&self.v4, Format::IptablesSave),
            (&self.v6, Format::IptablesSave),
            (&self.ipset, Format::Ipset),
            (&self.nft, Format::NftRuleset),
        ]
        .into_iter()
        .filter_map(|(i, format)| match i {
            Input::Text(text, label) => Some((label.as_str(), text.as_str(), format)),
            _ => None,
        })
        .collect()
    }
}

fn parse_iptables(input: &Input) -> Result<Option<IptablesRuleset>, String> {
    match input {
        Input::Text(t, _) => Ok(Some(IptablesRuleset::parse(t))),
        Input::Absent(_) => Ok(None),
        Input::Failed(e) => Err(e.clone()),
    }
}

fn unknown_layer(why: &str) -> verdict::Layer {
    let why = format!("rules not read: {why}");
    verdict::Layer {
        order: (0, i32::MIN),
        paths: vec![verdict::Path {
            end: verdict::End::Unknown(why.clone()),
            by: why,
            assumed: Default::default(),
        }],
    }
}

/// The address a range is probed with: its first usable address (the network address + 1,
/// for networks larger than two addresses).
pub fn representative(net: &IpNet) -> IpAddr {
    match net {
        IpNet::V4(n) if n.prefix_len() < 31 => IpAddr::V4((u32::from(n.network()) + 1).into()),
        IpNet::V6(n) if n.prefix_len() < 127 => IpAddr::V6((u128::from(n.network()) + 1).into()),
        n => n.network(),
    }
}

fn firewall_fix(port: u16, deciding: &[String], refused: &[Refusal]) -> String {
    let mut s = String::new();
    if !refused.is_empty() {
        s.push_str(
            "Cloudflare addresses are refused by bans of them (listed above, each with the rule that refuses it). \
             Lift each with the command shown: it removes that one ban (the address's element of the ban set, its \
             rule, or the tool's decision), never the tool's whole rule, set or chain. ",
        );
    }
    if !deciding.is_empty() {
        s.push_str(&format!(
            "Cloudflare's connections to port {port} are stopped by the firewall rule or policy named above. "
        ));
    }
    let all: Vec<&str> = deciding
        .iter()
        .map(String::as_str)
        .chain(refused.iter().map(|r| r.by.as_str()))
        .collect();
    let ban_chain = all.iter().any(|b| {
        let l = b.to_ascii_lowercase();
        l.contains("f2b")
            || l.contains("fail2ban")
            || l.contains("crowdsec")
            || l.contains("lfd")
            || l.contains("deny")
    });
    if deciding.iter().any(|b| b.contains("policy")) {
        s.push_str(&format!(
            "Accept Cloudflare on the port before the policy applies: `cf-ban-audit snippet iptables` (rules \
             `iptables -I INPUT -p tcp --dport {port} -s RANGE -j ACCEPT`) or `cf-ban-audit snippet nftables` \
             (a rule `ip saddr @cf4 tcp dport {port} accept` in the chain with the drop policy), and make it \
             persistent (netfilter-persistent save, /etc/nftables.conf). "
        ));
    }
    let rules: Vec<&String> = deciding.iter().filter(|b| !b.contains("policy")).collect();
    if rules
        .iter()
        .any(|b| b.contains('@') || b.contains("--match-set"))
    {
        s.push_str(
            "Where the rule matches a set (nft `@SET`, iptables `-m set --match-set SET`), remove the Cloudflare \
             elements from the set (`nft delete element FAMILY TABLE SET '{ ADDRESS }'`, `ipset del SET ADDRESS`), \
             not the rule: the rule also holds the tool's other bans. ",
        );
    }
    if rules
        .iter()
        .any(|b| !(b.contains('@') || b.contains("--match-set")))
    {
        s.push_str(
            "Delete the rule that names Cloudflare's addresses (iptables: the same rule with -D instead of -A, e.g. \
             `iptables -D ...`; nftables: `nft -a list ruleset` for its handle, then `nft delete rule FAMILY TABLE \
             CHAIN handle N`) or accept Cloudflare in a rule before it. In nftables a drop in any base chain is \
             final: an accept elsewhere does not help. ",
        );
    }
    if ban_chain {
        s.push_str("The rule belongs to a ban tool: add Cloudflare's ranges to its ignore list (`cf-ban-audit snippet fail2ban`, `crowdsec`, `csf`) so it does not ban them again.");
    }
    s.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn representatives_are_first_usable_addresses() {
        assert_eq!(
            representative(&"104.16.0.0/13".parse().unwrap()).to_string(),
            "104.16.0.1"
        );
        assert_eq!(
            representative(&"2400:cb00::/32".parse().unwrap()).to_string(),
            "2400:cb00::1"
        );
        assert_eq!(
            representative(&"192.0.2.7/32".parse().unwrap()).to_string(),
            "192.0.2.7"
        );
    }

    #[test]
    fn fixes_name_their_tools() {
        let f = firewall_fix(443, &["policy DROP of filter INPUT".into()], &[]);
        assert!(f.contains("snippet iptables"), "{f}");
        let f = firewall_fix(
            443,
            &["filter f2b-sshd #1: -A f2b-sshd -s 104.16.0.0/13 -j REJECT".into()],
            &[],
        );
        assert!(f.contains("ignore list"), "{f}");
    }
}
