//! The iptables/ip6tables evaluator: what the rules of `iptables-save` (or `iptables -S`) do
//! with a new TCP connection from one address to one port.
//!
//! The rules come as the firewall model reads them ([`IptablesRuleset`], with the sets of
//! [`Ipsets`]); the chains a packet for this host goes through are walked in the kernel's
//! order: raw, mangle and nat `PREROUTING`, then mangle, filter, security and nat `INPUT`.
//! Each rule's typed matches are compiled into a three-valued match:
//!
//! - understood: `-s`/`-d` (with `!`, comma lists, CIDR or mask), `-p`, `-i` (`lo` never
//!   matches Cloudflare; other names against the interface of the default route), `-f`,
//!   `--dport`/`--sport`, `--syn`, `--tcp-flags`, `-m multiport --dports/--ports`,
//!   `-m conntrack --ctstate/--ctdir/--ctproto`, `-m state --state`, `-m set --match-set NAME
//!   src` (with the members from `ipset save`), `-m iprange`, `-m addrtype --dst-type LOCAL`,
//!   `-m pkttype`, `-m comment`; targets `ACCEPT`, `DROP`, `REJECT`, `TARPIT` (a drop),
//!   `RETURN`, jumps (`-j CHAIN`) and gotos (`-g CHAIN`) into user chains, and the targets
//!   that change nothing for the verdict (`LOG`, `NFLOG`, `MARK`, `CT`, `SET`, ...).
//! - anything else (`-m limit`, `-m recent`, `-m geoip`, `NFQUEUE`, `DNAT`, an ipset whose
//!   members were not read) is undecided: the walk follows both branches, and the verdict is
//!   `UNKNOWN` naming the rule when they disagree.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;

pub use crate::firewall::ipset::Ipsets;
pub use crate::firewall::iptables::IptablesRuleset;
use crate::firewall::iptables::{Chain, MatchKind, Rule, Target};
use crate::firewall::Verdict;

use super::verdict::{
    base_chain_paths, iface_tri, Action, End, EvalRule, Layer, Probe, Tri, Walker,
};
#[cfg(test)]
use super::verdict::{decide, Decision};

impl IptablesRuleset {
    /// The base chains a probe goes through, walked: one [`Layer`] each.
    pub fn layers(&self, probe: &Probe, ipsets: Option<&Ipsets>) -> Vec<Layer> {
        // (table, chain, hook, priority), in the kernel's order.
        const BASE: &[(&str, &str, u8, i32)] = &[
            ("raw", "PREROUTING", 1, -300),
            ("mangle", "PREROUTING", 1, -150),
            ("nat", "PREROUTING", 1, -100),
            ("mangle", "INPUT", 2, -150),
            ("filter", "INPUT", 2, 0),
            ("security", "INPUT", 2, 50),
            ("nat", "INPUT", 2, 100),
        ];
        let mut layers = Vec::new();
        for &(table, chain, hook, priority) in BASE {
            let Some(chains) = self.tables.get(table).map(|t| &t.chains) else {
                continue;
            };
            let Some(base) = chains.get(chain) else {
                continue;
            };
            let policy = base.policy.clone().unwrap_or_else(|| "ACCEPT".into());
            if base.rules.is_empty() && policy == "ACCEPT" {
                continue;
            }
            let compiled: HashMap<String, Vec<EvalRule>> = chains
                .iter()
                .map(|(name, def)| {
                    let rules = def
                        .rules
                        .iter()
                        .enumerate()
                        .map(|(i, rule)| {
                            compile(
                                rule,
                                &format!("{table} {name} #{}", i + 1),
                                probe,
                                ipsets,
                                chains,
                            )
                        })
                        .collect();
                    (name.clone(), rules)
                })
                .collect();
            let walked = Walker { chains: &compiled }.run(chain);
            let end = match policy.as_str() {
                "ACCEPT" => End::Accept,
                "DROP" => End::Drop,
                other => End::Unknown(format!("policy {other}")),
            };
            let label = format!("policy {policy} of {table} {chain}");
            layers.push(Layer {
                order: (hook, priority),
                paths: base_chain_paths(walked, end, &label),
            });
        }
        layers
    }

    /// The verdict for a probe by these rules alone.
    #[cfg(test)]
    pub fn evaluate(&self, probe: &Probe, ipsets: Option<&Ipsets>) -> Decision {
        decide(self.layers(probe, ipsets))
    }
}

fn compile(
    rule: &Rule,
    label: &str,
    probe: &Probe,
    ipsets: Option<&Ipsets>,
    chains: &BTreeMap<String, Chain>,
) -> EvalRule {
    let label = format!("{label}: {}", rule.text);
    let mut cond = Tri::Yes;
    for m in &rule.matches {
        let t = match &m.kind {
            MatchKind::Source(v) => addr_list_tri(v, Some(probe.source)).or_maybe(String::new),
            MatchKind::Destination(v) => addr_list_tri(v, probe.destination)
                .or_maybe(|| format!("-d {v}: the destination address is not known")),
            MatchKind::Protocol(p) => {
                let p = p.to_ascii_lowercase();
                Tri::from_bool(matches!(p.as_str(), "tcp" | "6" | "all" | "0"))
            }
            MatchKind::InInterface(v) => iface_tri(v, probe),
            MatchKind::OutInterface(v) => Tri::Maybe(format!("-o {v}")),
            MatchKind::Fragment => Tri::No,
            MatchKind::Module(_) | MatchKind::Counters | MatchKind::Syn => Tri::Yes,
            MatchKind::UnknownModule { name, options } => {
                let shown = if options.is_empty() {
                    String::new()
                } else {
                    format!(" {}", options.join(" "))
                };
                Tri::Maybe(format!("-m {name}{shown} is beyond the evaluator"))
            }
            MatchKind::DestPort(v) => port_range_tri(v, probe.port),
            MatchKind::SourcePort(v) | MatchKind::SourcePorts(v) => source_port_tri(v),
            MatchKind::DestPorts(v) => port_list_tri(v, probe.port),
            MatchKind::Ports(v) => match port_list_tri(v, probe.port) {
                Tri::Yes => Tri::Yes,
                _ => Tri::Maybe(format!("--ports {v}: the source port is not known")),
            },
            MatchKind::TcpFlags { mask, comp } => tcp_flags_tri(mask, comp),
            MatchKind::State(v) => {
                Tri::from_bool(v.split(',').any(|s| s.eq_ignore_ascii_case("NEW")))
            }
            MatchKind::CtDir(v) => Tri::from_bool(v.eq_ignore_ascii_case("ORIGINAL")),
            MatchKind::CtProto(v) => {
                Tri::from_bool(matches!(v.to_ascii_lowercase().as_str(), "tcp" | "6"))
            }
            MatchKind::CtOrigSrc(v) => addr_list_tri(v, Some(probe.source)).or_maybe(String::new),
            MatchKind::MatchSet { name, flags } => set_tri(name, flags, probe, ipsets),
            MatchKind::ReturnNomatch => Tri::Maybe("--return-nomatch".into()),
            MatchKind::UpdateCounters | MatchKind::LimitIfaceIn | MatchKind::Comment(_) => Tri::Yes,
            MatchKind::SrcRange(v) => range_tri(v, Some(probe.source)).or_maybe(String::new),
            MatchKind::DstRange(v) => range_tri(v, probe.destination)
                .or_maybe(|| format!("--dst-range {v}: the destination address is not known")),
            MatchKind::DstType(v) => match v.as_str() {
                "LOCAL" => Tri::Yes,
                "UNICAST" | "UNSPEC" => Tri::Maybe(format!("--dst-type {v}")),
                _ => Tri::No,
            },
            MatchKind::SrcType(v) => match v.as_str() {
                "UNICAST" => Tri::Yes,
                "LOCAL" | "BROADCAST" | "MULTICAST" | "ANYCAST" | "BLACKHOLE" | "UNREACHABLE"
                | "PROHIBIT" => Tri::No,
                other => Tri::Maybe(format!("--src-type {other}")),
            },
            MatchKind::PktType(v) => Tri::from_bool(v == "unicast"),
            MatchKind::Other { option, value } => {
                Tri::Maybe(format!("{option} {value} is beyond the evaluator"))
            }
            MatchKind::Word(w) => Tri::Maybe(format!("{w} is beyond the evaluator")),
            MatchKind::Incomplete(option) => Tri::Maybe(format!("{option} without a value")),
        };
        cond = cond.and(t.negate(m.negated));
        if cond == Tri::No {
            break;
        }
    }
    let action = match &rule.target {
        Some(target) if cond != Tri::No => target_action(target, chains),
        _ => Action::Continue,
    };
    EvalRule {
        label,
        cond,
        action,
    }
}

fn target_action(target: &Target, chains: &BTreeMap<String, Chain>) -> Action {
    let name = target.name.as_str();
    match target.verdict() {
        Verdict::Accept => Action::Accept,
        Verdict::Drop => Action::Drop,
        Verdict::Reject => Action::Reject,
        Verdict::Return => Action::Return,
        Verdict::Continue => Action::Continue,
        Verdict::Queue => Action::Unknown(format!("{name}: a user-space program decides")),
        Verdict::Nat => Action::Unknown(format!(
            "{name} {}: the connection is translated; where it goes is beyond the evaluator",
            target.options.join(" ")
        )),
        Verdict::Jump(t) if chains.contains_key(&t) => Action::Jump(t),
        Verdict::Goto(t) if chains.contains_key(&t) => Action::Goto(t),
        _ => Action::Unknown(format!("target {name} is beyond the evaluator")),
    }
}

trait OrMaybe {
    fn or_maybe(self, why: impl FnOnce() -> String) -> Tri;
}

impl OrMaybe for Option<Tri> {
    fn or_maybe(self, why: impl FnOnce() -> String) -> Tri {
        self.unwrap_or_else(|| Tri::Maybe(why()))
    }
}

/// Parses `1.2.3.4`, `1.2.3.0/24` or `1.2.3.0/255.255.255.0`.
pub fn parse_addr_net(text: &str) -> Option<IpNet> {
    if let Ok(net) = text.parse::<IpNet>() {
        return Some(net);
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(IpNet::from(ip));
    }
    let (addr, mask) = text.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    let mask: IpAddr = mask.parse().ok()?;
    let prefix = match mask {
        IpAddr::V4(m) => u32::from(m).leading_ones() as u8,
        IpAddr::V6(m) => u128::from(m).leading_ones() as u8,
    };
    IpNet::new(addr, prefix).ok().map(|n| n.trunc())
}

/// `Some(Yes/No)` when the address is known; `None` when it is not.
fn addr_list_tri(list: &str, addr: Option<IpAddr>) -> Option<Tri> {
    let addr = addr?;
    let mut nets = Vec::new();
    for part in list.split(',') {
        match parse_addr_net(part.trim()) {
            Some(n) => nets.push(n),
            None => return Some(Tri::Maybe(format!("address {part} not understood"))),
        }
    }
    Some(Tri::from_bool(nets.iter().any(|n| n.contains(&addr))))
}

fn range_tri(range: &str, addr: Option<IpAddr>) -> Option<Tri> {
    let addr = addr?;
    let Some((a, b)) = range.split_once('-') else {
        return Some(Tri::Maybe(format!("range {range} not understood")));
    };
    match (a.trim().parse::<IpAddr>(), b.trim().parse::<IpAddr>()) {
        (Ok(a), Ok(b)) => Some(Tri::from_bool(
            a <= addr && addr <= b && a.is_ipv4() == addr.is_ipv4(),
        )),
        _ => Some(Tri::Maybe(format!("range {range} not understood"))),
    }
}

/// `443` or `400:500` (either end may be empty).
fn port_range_tri(spec: &str, port: u16) -> Tri {
    match port_in(spec, port) {
        Some(b) => Tri::from_bool(b),
        None => Tri::Maybe(format!("port {spec} not understood")),
    }
}

fn port_in(spec: &str, port: u16) -> Option<bool> {
    let spec = spec.trim();
    let (lo, hi) = match spec.split_once(':') {
        Some((a, b)) => (
            if a.is_empty() { 0 } else { service_port(a)? },
            if b.is_empty() {
                65535
            } else {
                service_port(b)?
            },
        ),
        None => {
            let p = service_port(spec)?;
            (p, p)
        }
    };
    Some(lo <= port && port <= hi)
}

/// A port number or a common service name.
pub fn service_port(s: &str) -> Option<u16> {
    if let Ok(p) = s.parse() {
        return Some(p);
    }
    Some(match s {
        "http" | "www" => 80,
        "https" => 443,
        "ssh" => 22,
        "http-alt" | "webcache" => 8080,
        "ftp" => 21,
        "smtp" => 25,
        "domain" => 53,
        _ => return None,
    })
}

fn port_list_tri(list: &str, port: u16) -> Tri {
    let mut out = Tri::No;
    for part in list.split(',') {
        match port_in(part, port) {
            Some(true) => return Tri::Yes,
            Some(false) => {}
            None => out = Tri::Maybe(format!("port {part} not understood")),
        }
    }
    out
}

fn source_port_tri(spec: &str) -> Tri {
    if spec
        .split(',')
        .any(|p| matches!(p, "0:65535" | "1:65535" | ":" | "0:" | "1:"))
    {
        Tri::Yes
    } else {
        Tri::Maybe(format!(
            "source port {spec}: Cloudflare's source ports vary"
        ))
    }
}

/// `--tcp-flags MASK COMP` for a SYN.
fn tcp_flags_tri(mask: &str, comp: &str) -> Tri {
    let bits = |s: &str| -> Option<u8> {
        let mut v = 0u8;
        for f in s.split(',') {
            v |= match f {
                "FIN" => 1,
                "SYN" => 2,
                "RST" => 4,
                "PSH" => 8,
                "ACK" => 16,
                "URG" => 32,
                "ECE" => 64,
                "CWR" => 128,
                "ALL" => 255,
                "NONE" => 0,
                _ => return None,
            };
        }
        Some(v)
    };
    match (bits(mask), bits(comp)) {
        // A SYN may carry ECE and CWR (ECN negotiation): decided only when they do not matter.
        (Some(m), Some(c)) => {
            let plain = (2 & m) == c;
            let ecn = (2 | 64 | 128) & m == c;
            if plain == ecn {
                Tri::from_bool(plain)
            } else {
                Tri::Maybe(format!("--tcp-flags {mask} {comp}: depends on ECN"))
            }
        }
        _ => Tri::Maybe(format!("--tcp-flags {mask} {comp} not understood")),
    }
}

fn set_tri(name: &str, flags: &str, probe: &Probe, ipsets: Option<&Ipsets>) -> Tri {
    let dims: Vec<&str> = flags.split(',').collect();
    if dims.len() != 1 {
        return Tri::Maybe(format!("--match-set {name} {flags}: several dimensions"));
    }
    let addr = match dims[0] {
        "src" => Some(probe.source),
        "dst" => probe.destination,
        _ => None,
    };
    let Some(addr) = addr else {
        return Tri::Maybe(format!(
            "--match-set {name} {flags}: the address is not known"
        ));
    };
    match ipsets {
        None => Tri::Maybe(format!(
            "ipset {name}: its members were not read (ipset save)"
        )),
        Some(sets) => set_contains(sets, name, addr, 0),
    }
}

/// Whether the set holds `addr` (as a `src` match).
fn set_contains(sets: &Ipsets, name: &str, addr: IpAddr, depth: usize) -> Tri {
    let Some(set) = sets.sets.get(name) else {
        return Tri::Maybe(format!("ipset {name} is not in the ipset listing"));
    };
    if set.kind == "list:set" {
        if depth > 8 {
            return Tri::Maybe(format!("ipset {name}: nested too deep"));
        }
        let mut out = Tri::No;
        for s in &set.sets {
            match set_contains(sets, s, addr, depth + 1) {
                Tri::Yes => return Tri::Yes,
                Tri::Maybe(w) => out = Tri::Maybe(w),
                Tri::No => {}
            }
        }
        return out;
    }
    if !matches!(set.kind.as_str(), "hash:ip" | "hash:net" | "bitmap:ip") {
        return Tri::Maybe(format!(
            "ipset {name} of type {} is beyond the evaluator",
            set.kind
        ));
    }
    // The most specific entry decides (a `nomatch` entry excludes its network).
    let best = set
        .members
        .iter()
        .filter(|m| m.net.contains(&addr))
        .max_by_key(|m| m.net.prefix_len());
    Tri::from_bool(best.is_some_and(|m| !m.nomatch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::verdict::Verdict;

    /// The crate's range splitter, with an empty list for what it refuses.
    fn range_nets(first: IpAddr, last: IpAddr) -> Vec<IpNet> {
        crate::addr::range_nets(first, last).unwrap_or_default()
    }

    fn probe(src: &str, port: u16) -> Probe {
        Probe {
            source: src.parse().unwrap(),
            port,
            interface: Some("eth0".into()),
            destination: None,
        }
    }

    fn verdict(rules: &str, src: &str) -> Decision {
        IptablesRuleset::parse(rules).evaluate(&probe(src, 443), None)
    }

    #[test]
    fn policy_and_ssh_only() {
        let d = verdict("*filter\n:INPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n", "104.16.0.1");
        assert_eq!(d.verdict, Verdict::Drop);
        assert_eq!(d.by, "policy DROP of filter INPUT");
    }

    #[test]
    fn negation_multiport_and_reject() {
        let rules = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT ! -s 10.0.0.0/8 -p tcp -m multiport --dports 80,443 -j REJECT --reject-with tcp-reset\n";
        assert_eq!(verdict(rules, "104.16.0.1").verdict, Verdict::Reject);
        assert_eq!(verdict(rules, "10.1.1.1").verdict, Verdict::Accept);
        let d = IptablesRuleset::parse(rules).evaluate(&probe("104.16.0.1", 22), None);
        assert_eq!(d.verdict, Verdict::Accept);
    }

    #[test]
    fn user_chains_return_goto_and_log() {
        let rules = "*filter\n:INPUT DROP [0:0]\n:f2b - [0:0]\n:cf - [0:0]\n-A INPUT -j LOG --log-prefix \"in -j DROP \"\n-A INPUT -p tcp -m multiport --dports 80,443 -j f2b\n-A INPUT -p tcp --dport 443 -g cf\n-A f2b -s 1.2.3.4/32 -j REJECT\n-A f2b -j RETURN\n-A cf -s 104.16.0.0/13 -j ACCEPT\n";
        let d = verdict(rules, "104.16.0.1");
        assert_eq!(
            (d.verdict, d.by.as_str()),
            (
                Verdict::Accept,
                "filter cf #1: -A cf -s 104.16.0.0/13 -j ACCEPT"
            )
        );
        // Falling off a chain entered by goto returns to INPUT's caller: the policy.
        let d = verdict(rules, "198.41.128.1");
        assert_eq!(
            (d.verdict, d.by.as_str()),
            (Verdict::Drop, "policy DROP of filter INPUT")
        );
        assert_eq!(verdict(rules, "1.2.3.4").verdict, Verdict::Reject);
    }

    #[test]
    fn ranges_split_into_blocks() {
        let nets = range_nets("10.0.0.1".parse().unwrap(), "10.0.0.6".parse().unwrap());
        let s: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            s,
            ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]
        );
        assert_eq!(
            range_nets(
                "0.0.0.0".parse().unwrap(),
                "255.255.255.255".parse().unwrap()
            )[0]
            .to_string(),
            "0.0.0.0/0"
        );
    }

    #[test]
    fn ipsets_decide_or_stay_unknown() {
        let rules =
            "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m set --match-set bans src -j DROP\n";
        let sets = Ipsets::parse("create bans hash:net family inet hashsize 1024\nadd bans 104.16.0.0/13\nadd bans 104.16.0.0/24 nomatch\n");
        let r = IptablesRuleset::parse(rules);
        assert_eq!(
            r.evaluate(&probe("104.17.0.1", 443), Some(&sets)).verdict,
            Verdict::Drop
        );
        assert_eq!(
            r.evaluate(&probe("104.16.0.1", 443), Some(&sets)).verdict,
            Verdict::Accept
        );
        let d = r.evaluate(&probe("104.17.0.1", 443), None);
        assert_eq!(d.verdict, Verdict::Unknown);
        assert!(d.by.contains("ipset bans"), "{}", d.by);
    }

    #[test]
    fn unknown_matches_only_matter_when_they_change_the_verdict() {
        let rules = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 443 -m limit --limit 5/s -j ACCEPT\n";
        let d = verdict(rules, "104.16.0.1");
        assert_eq!(d.verdict, Verdict::Unknown);
        assert!(d.by.contains("-m limit --limit 5/s"), "{}", d.by);
        let rules = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m recent --rcheck -j LOG\n-A INPUT -s 104.16.0.0/13 -j DROP\n";
        let d = verdict(rules, "104.16.0.1");
        assert_eq!(d.verdict, Verdict::Drop);
        assert_eq!(d.undecided.len(), 1);
        // NFQUEUE: a program decides.
        assert_eq!(
            verdict(
                "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j NFQUEUE --queue-num 0\n",
                "104.16.0.1"
            )
            .verdict,
            Verdict::Unknown
        );
    }

    #[test]
    fn raw_prerouting_and_tcp_flags() {
        let rules = "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -s 104.16.0.0/12 -j DROP\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -j DROP\nCOMMIT\n";
        let d = verdict(rules, "104.16.0.1");
        assert_eq!(
            d.by,
            "raw PREROUTING #1: -A PREROUTING -s 104.16.0.0/12 -j DROP"
        );
        assert_eq!(verdict(rules, "172.64.0.1").verdict, Verdict::Accept);
        assert!(
            IptablesRuleset::parse("-P INPUT ACCEPT\n-A INPUT -s 1.2.3.0/255.255.255.0 -j DROP\n")
                .evaluate(&probe("1.2.3.9", 443), None)
                .verdict
                == Verdict::Drop
        );
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn evaluate() {
        use crate::doctor::firewall_eval::IptablesRuleset;
        use crate::doctor::{Probe, Verdict};
        let rules = IptablesRuleset::parse(
            "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n",
        );
        let probe = Probe {
            source: "104.16.0.1".parse().unwrap(),
            port: 443,
            interface: None,
            destination: None,
        };
        let d = rules.evaluate(&probe, None);
        assert_eq!(d.verdict, Verdict::Drop);
        assert!(d.by.contains("policy DROP"), "{}", d.by);
    }
}
