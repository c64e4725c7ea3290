//! The nftables evaluator: what a ruleset (as `nft list ruleset` prints it, or a file in the
//! same block syntax with `define`s) does with a new TCP connection from one address to one
//! port. The ruleset is the firewall model's ([`NftRuleset`], read by the nft reader); this
//! module compiles its rules' expressions into verdicts.
//!
//! Every base chain on the packet's way in (hooks `ingress`, `prerouting` and `input` of the
//! `ip`, `ip6`, `inet` and `netdev` tables) is walked in hook and priority order. Each base
//! chain's verdict applies in turn: an `accept` ends that chain only and the packet goes on to
//! the next one, a `drop` or `reject` in any of them is final.
//!
//! Understood: `ip saddr`/`ip6 saddr`/`ip daddr`/`ip6 daddr`, `tcp dport`/`th dport` (and
//! `sport`, undecided unless it covers every port), `meta l4proto`, `ip protocol`,
//! `ip6 nexthdr`, `meta nfproto`, `iif`/`iifname` (`lo` never matches Cloudflare), `ct state`,
//! `ct direction`, `fib daddr type local`, `meta pkttype`, `udp`/`icmp`/... (never a TCP SYN),
//! with `==`/`!=`, literal values, anonymous sets `{ ... }`, named sets `@name`, `$defines`,
//! verdict maps (`vmap { key : verdict }` and named maps), and the statements `counter`,
//! `log`, `comment`, `meta mark set`, `add/update @set` (without `limit`), `notrack`; verdicts
//! `accept`, `drop`, `reject`, `jump`, `goto`, `return`, `continue`. Anything else (`limit`,
//! `ct count`, concatenations, `xt` compat matches, `queue`, NAT) is undecided: both branches
//! are followed and the verdict is `UNKNOWN` naming the rule when they disagree.

use std::collections::HashMap;
use std::net::IpAddr;

use super::firewall_eval::{parse_addr_net, service_port};
use super::verdict::{
    base_chain_paths, iface_tri, Action, End, EvalRule, Layer, Path, Probe, Tri, Walker,
};
#[cfg(test)]
use super::verdict::{decide, Decision};
pub use crate::firewall::nft::NftRuleset;
use crate::firewall::nft::{inline_elements, render, NftElement, NftRule, NftTable, Tok};
use crate::firewall::nft_rule::{verdict, NftExpr, Selector, VERDICTS};
use crate::firewall::Verdict;

impl NftRuleset {
    /// The base chains a probe goes through, walked, skipping the tables listed in `skip`
    /// (`(family, name)`, such as the tables iptables-nft manages when its rules were
    /// evaluated from `iptables-save`).
    pub fn layers(&self, probe: &Probe, skip: &[(String, String)]) -> Vec<Layer> {
        let v4 = probe.source.is_ipv4();
        let mut layers = Vec::new();
        if !self.unread.is_empty() {
            let why = format!("ruleset statements not read: {}", self.unread.join("; "));
            layers.push(Layer {
                order: (0, i32::MIN),
                paths: vec![Path {
                    end: End::Unknown(why.clone()),
                    by: why,
                    assumed: Default::default(),
                }],
            });
        }
        for table in &self.tables {
            let applies = match table.family.as_str() {
                "ip" => v4,
                "ip6" => !v4,
                "inet" | "netdev" => true,
                _ => false,
            };
            if !applies
                || table.dormant
                || skip
                    .iter()
                    .any(|(f, n)| *f == table.family && *n == table.name)
            {
                continue;
            }
            let compiled: HashMap<String, Vec<EvalRule>> = table
                .chains
                .iter()
                .map(|(name, chain)| {
                    let rules = chain
                        .rules
                        .iter()
                        .enumerate()
                        .map(|(i, rule)| {
                            let label = format!(
                                "nft {} {} {name} #{}: {}",
                                table.family,
                                table.name,
                                i + 1,
                                rule.text()
                            );
                            compile(rule, label, probe, table)
                        })
                        .collect();
                    (name.clone(), rules)
                })
                .collect();
            for (name, chain) in &table.chains {
                let Some(base) = &chain.base else { continue };
                let hook = match base.hook.as_str() {
                    "ingress" => 0,
                    "prerouting" => 1,
                    "input" => 2,
                    _ => continue,
                };
                let walked = Walker { chains: &compiled }.run(name);
                let (end, policy) = match base.policy.as_str() {
                    "accept" => (End::Accept, "accept"),
                    "drop" => (End::Drop, "drop"),
                    other => (End::Unknown(format!("policy {other}")), other),
                };
                let label = format!(
                    "policy {policy} of nft {} {} {name}",
                    table.family, table.name
                );
                let mut paths = base_chain_paths(walked, end, &label);
                if let Some(dev) = &base.device {
                    match iface_tri(dev, probe) {
                        Tri::Yes => {}
                        Tri::No => continue,
                        Tri::Maybe(why) => {
                            let a = format!(
                                "nft {} {} {name} on device {dev} ({why})",
                                table.family, table.name
                            );
                            paths.push(Path {
                                end: End::Accept,
                                by: format!("not through {dev}"),
                                assumed: Default::default(),
                            });
                            for p in &mut paths {
                                p.assumed.insert(a.clone());
                            }
                        }
                    }
                }
                layers.push(Layer {
                    order: (hook, base.priority),
                    paths,
                });
            }
        }
        layers
    }

    /// The verdict for a probe by this ruleset alone.
    #[cfg(test)]
    pub fn evaluate(&self, probe: &Probe, skip: &[(String, String)]) -> Decision {
        decide(self.layers(probe, skip))
    }
}

/// What a selector reads from the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Saddr(bool),
    Daddr(bool),
    Dport,
    Sport,
    Iface,
    CtState,
    L4proto,
    Nfproto,
    Pkttype,
    Direction,
    /// Never true for a TCP SYN (another protocol's header).
    Never,
    /// Cannot be decided.
    Opaque,
}

/// How a selector reads the probe (a probe of one family never has the other's header).
fn kind(selector: Selector, v4: bool) -> Kind {
    let family = |v6: bool, k: Kind| if v6 != v4 { k } else { Kind::Never };
    match selector {
        Selector::Saddr { v6 } => family(v6, Kind::Saddr(!v6)),
        Selector::Daddr { v6 } => family(v6, Kind::Daddr(!v6)),
        Selector::L4Proto { v6: Some(v6) } => family(v6, Kind::L4proto),
        Selector::L4Proto { v6: None } => Kind::L4proto,
        Selector::IpField { v6 } => family(v6, Kind::Opaque),
        Selector::Dport => Kind::Dport,
        Selector::Sport => Kind::Sport,
        Selector::OtherProtocol => Kind::Never,
        Selector::Nfproto => Kind::Nfproto,
        Selector::Iif => Kind::Iface,
        Selector::Pkttype | Selector::FibDaddrType => Kind::Pkttype,
        Selector::CtState => Kind::CtState,
        Selector::CtDirection => Kind::Direction,
        _ => Kind::Opaque,
    }
}

/// How a selector is named in reports.
fn describe(selector: Selector, key: &[Tok]) -> String {
    match selector {
        Selector::FibDaddrType => "fib daddr type".into(),
        _ => render(key),
    }
}

/// Compiles one rule for one probe.
fn compile(rule: &NftRule, label: String, probe: &Probe, table: &NftTable) -> EvalRule {
    let v4 = probe.source.is_ipv4();
    let toks = &rule.tokens;
    let mut cond = Tri::Yes;
    let mut action = Action::Continue;
    for expr in rule.exprs() {
        match expr {
            NftExpr::Statement(_) => {}
            NftExpr::SetUpdate(t) => {
                let inner = render(&t);
                if inner.contains("limit") || inner.contains("ct count") || inner.contains("quota")
                {
                    cond = cond.and(Tri::Maybe(format!("{inner} is beyond the evaluator")));
                }
            }
            NftExpr::Verdict { tokens, .. } => {
                action = verdict_action(&tokens, table);
                break;
            }
            NftExpr::Unknown(t) => {
                // Not understood: undecided; the verdict is the rule's last verdict word.
                cond = cond.and(Tri::Maybe(format!(
                    "{} is beyond the evaluator",
                    render(&t)
                )));
                action = toks
                    .iter()
                    .enumerate()
                    .rev()
                    .find(|(_, t)| t.text().is_some_and(|w| VERDICTS.contains(&w)))
                    .map(|(j, _)| verdict_action(&toks[j..], table))
                    .unwrap_or(Action::Continue);
                break;
            }
            NftExpr::Combined { key, rest } => {
                let all: Vec<Tok> = key.into_iter().chain(rest).collect();
                cond = cond.and(Tri::Maybe(format!(
                    "{} is beyond the evaluator",
                    render(&all)
                )));
            }
            NftExpr::Vmap { selector, key, map } => {
                let desc = describe(selector, &key);
                action = vmap_action(kind(selector, v4), &desc, &map, probe, table);
                break;
            }
            NftExpr::Match {
                selector,
                key,
                op,
                value,
            } => {
                let desc = describe(selector, &key);
                let kind = kind(selector, v4);
                let t = match op.as_deref() {
                    None | Some("==" | "eq") => rhs_tri(kind, &desc, &value, probe, table),
                    Some("!=" | "ne") => rhs_tri(kind, &desc, &value, probe, table).negate(true),
                    Some(other) => {
                        let shown: Vec<Tok> = std::iter::once(Tok::Word(other.to_string()))
                            .chain(value)
                            .collect();
                        cond = cond.and(Tri::Maybe(format!("{desc} {}", render(&shown))));
                        continue;
                    }
                };
                // A header of another protocol: never present on a TCP SYN, whatever the
                // operator.
                cond = cond.and(if kind == Kind::Never { Tri::No } else { t });
                if cond == Tri::No {
                    break;
                }
            }
        }
    }
    EvalRule {
        label,
        cond,
        action,
    }
}

/// The action of the verdict `rest` starts with.
fn verdict_action(rest: &[Tok], table: &NftTable) -> Action {
    match verdict(rest) {
        Some(Verdict::Accept) => Action::Accept,
        Some(Verdict::Drop) => Action::Drop,
        Some(Verdict::Reject) => Action::Reject,
        Some(Verdict::Return) => Action::Return,
        Some(Verdict::Continue) => Action::Continue,
        Some(Verdict::Jump(c)) if table.chains.contains_key(&c) => Action::Jump(c),
        Some(Verdict::Goto(c)) if table.chains.contains_key(&c) => Action::Goto(c),
        Some(Verdict::Jump(c)) => {
            Action::Unknown(format!("jump {c}: no such chain in table {}", table.name))
        }
        Some(Verdict::Goto(c)) => {
            Action::Unknown(format!("goto {c}: no such chain in table {}", table.name))
        }
        _ => Action::Unknown(format!("{} is beyond the evaluator", render(rest))),
    }
}

/// The probe's value for a kind, matched against one literal.
fn literal_tri(kind: Kind, desc: &str, lit: &Tok, probe: &Probe) -> Tri {
    let text = lit.text().unwrap_or("");
    let addr_in = |addr: IpAddr| -> Tri {
        if let Some((a, b)) = text.split_once('-') {
            if let (Ok(a), Ok(b)) = (a.parse::<IpAddr>(), b.parse::<IpAddr>()) {
                return Tri::from_bool(a <= addr && addr <= b && a.is_ipv4() == addr.is_ipv4());
            }
        }
        match parse_addr_net(text) {
            Some(n) => Tri::from_bool(n.contains(&addr)),
            None => Tri::Maybe(format!("{desc} {text}: not an address")),
        }
    };
    match kind {
        Kind::Saddr(_) => addr_in(probe.source),
        Kind::Daddr(_) => match probe.destination {
            Some(d) => addr_in(d),
            None => Tri::Maybe(format!(
                "{desc} {text}: the destination address is not known"
            )),
        },
        Kind::Dport => {
            let (a, b) = text.split_once('-').unwrap_or((text, text));
            match (service_port(a), service_port(b)) {
                (Some(a), Some(b)) => Tri::from_bool(a <= probe.port && probe.port <= b),
                _ => Tri::Maybe(format!("{desc} {text}: not a port")),
            }
        }
        Kind::Sport => {
            if text == "0-65535" || text == "1-65535" {
                Tri::Yes
            } else {
                Tri::Maybe(format!("{desc} {text}: Cloudflare's source ports vary"))
            }
        }
        Kind::Iface => iface_tri(text, probe),
        Kind::CtState => Tri::from_bool(text == "new"),
        Kind::Direction => Tri::from_bool(text == "original"),
        Kind::L4proto => Tri::from_bool(text == "tcp" || text == "6"),
        Kind::Nfproto => Tri::from_bool(match text {
            "ipv4" | "ip" => probe.source.is_ipv4(),
            "ipv6" | "ip6" => probe.source.is_ipv6(),
            _ => false,
        }),
        Kind::Pkttype => Tri::from_bool(matches!(text, "host" | "unicast" | "local")),
        Kind::Never => Tri::No,
        Kind::Opaque => Tri::Maybe(format!("{desc} {text} is beyond the evaluator")),
    }
}

/// Any of several literals.
fn any_tri(kind: Kind, desc: &str, keys: &[Vec<Tok>], probe: &Probe) -> Tri {
    let mut out = Tri::No;
    for key in keys {
        let t = match key.as_slice() {
            [one] => literal_tri(kind, desc, one, probe),
            other => Tri::Maybe(format!(
                "{desc} element {} is beyond the evaluator",
                render(other)
            )),
        };
        match t {
            Tri::Yes => return Tri::Yes,
            Tri::Maybe(w) => out = Tri::Maybe(w),
            Tri::No => {}
        }
    }
    out
}

fn rhs_tri(kind: Kind, desc: &str, rhs: &[Tok], probe: &Probe, table: &NftTable) -> Tri {
    if kind == Kind::Opaque {
        return Tri::Maybe(format!("{desc} {} is beyond the evaluator", render(rhs)));
    }
    match rhs.first() {
        Some(Tok::Open) => {
            let keys: Vec<Vec<Tok>> = inline_elements(rhs).into_iter().map(|e| e.key).collect();
            any_tri(kind, desc, &keys, probe)
        }
        Some(Tok::Word(w)) if w.starts_with('@') => match table.sets.get(&w[1..]) {
            Some(set) if !set.key_type.contains(" . ") => {
                let keys: Vec<Vec<Tok>> = set.elements.iter().map(|e| e.key.clone()).collect();
                any_tri(kind, desc, &keys, probe)
            }
            Some(set) => Tri::Maybe(format!(
                "{desc} {w}: set of type {} is beyond the evaluator",
                set.key_type
            )),
            None => Tri::Maybe(format!("{desc} {w}: no such set in table {}", table.name)),
        },
        Some(_) => {
            let keys: Vec<Vec<Tok>> = rhs
                .iter()
                .filter(|t| **t != Tok::Comma)
                .map(|t| vec![t.clone()])
                .collect();
            any_tri(kind, desc, &keys, probe)
        }
        None => Tri::Maybe(format!("{desc} without a value")),
    }
}

fn vmap_action(kind: Kind, desc: &str, rhs: &[Tok], probe: &Probe, table: &NftTable) -> Action {
    let entries: Vec<NftElement> = match rhs.first() {
        Some(Tok::Open) => inline_elements(rhs),
        Some(Tok::Word(w)) if w.starts_with('@') => match table.sets.get(&w[1..]) {
            Some(set) => set.elements.clone(),
            None => return Action::Unknown(format!("{desc} vmap {w}: no such map")),
        },
        _ => {
            return Action::Unknown(format!(
                "{desc} vmap {} is beyond the evaluator",
                render(rhs)
            ))
        }
    };
    for NftElement { key, value, .. } in entries {
        let t = any_tri(kind, desc, std::slice::from_ref(&key), probe);
        let value = value.unwrap_or_default();
        match t {
            Tri::Yes => return verdict_action(&value, table),
            Tri::No => {}
            Tri::Maybe(why) => {
                return Action::Unknown(format!(
                    "{desc} vmap element {} : {} ({why})",
                    render(&key),
                    render(&value)
                ))
            }
        }
    }
    Action::Continue
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::verdict::Verdict;

    fn probe(src: &str) -> Probe {
        Probe {
            source: src.parse().unwrap(),
            port: 443,
            interface: Some("eth0".into()),
            destination: None,
        }
    }

    fn verdict(text: &str, src: &str) -> Decision {
        NftRuleset::parse(text).evaluate(&probe(src), &[])
    }

    const SSH_ONLY: &str = "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t\tct state established,related accept\n\t\tiif \"lo\" accept\n\t\ttcp dport 22 accept\n\t}\n}\n";

    #[test]
    fn policy_drop_is_named() {
        let d = verdict(SSH_ONLY, "104.16.0.1");
        assert_eq!(
            (d.verdict, d.by.as_str()),
            (Verdict::Drop, "policy drop of nft inet filter input")
        );
    }

    #[test]
    fn every_base_chain_applies() {
        let text = "table inet a {\n chain in { type filter hook input priority 0; policy accept;\n  ip saddr 104.16.0.0/13 accept\n }\n}\ntable ip b {\n chain in { type filter hook input priority 10; policy accept;\n  tcp dport { 80, 443 } drop\n }\n}\n";
        let d = verdict(text, "104.16.0.1");
        assert_eq!(d.verdict, Verdict::Drop);
        assert!(d.by.starts_with("nft ip b in #1"), "{}", d.by);
        // ip tables do not see IPv6.
        assert_eq!(verdict(text, "2400:cb00::1").verdict, Verdict::Accept);
    }

    #[test]
    fn named_sets_defines_jumps_and_vmaps() {
        let text = "define CF = { 104.16.0.0/13, 172.64.0.0/13 }\ntable inet f {\n\tset bans {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 1.2.3.4, 104.16.0.0-104.16.255.255 timeout 1h expires 59m }\n\t}\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t\tct state vmap { established : accept, related : accept, invalid : drop }\n\t\tjump checks\n\t\tip saddr $CF tcp dport https accept\n\t}\n\tchain checks {\n\t\tip saddr @bans counter packets 0 bytes 0 reject with icmp type admin-prohibited\n\t\tip saddr vmap { 198.41.128.0/17 : drop }\n\t}\n}\n";
        assert_eq!(verdict(text, "104.16.0.1").verdict, Verdict::Reject);
        assert_eq!(verdict(text, "104.17.0.1").verdict, Verdict::Accept);
        assert_eq!(verdict(text, "198.41.128.1").verdict, Verdict::Drop);
        assert_eq!(verdict(text, "1.2.3.4").verdict, Verdict::Reject);
        assert_eq!(verdict(text, "9.9.9.9").verdict, Verdict::Drop);
    }

    #[test]
    fn undecided_rules_and_unread_statements() {
        let text = "table inet f {\n chain input { type filter hook input priority 0; policy drop;\n  tcp dport 443 limit rate 10/second accept\n }\n}\n";
        let d = verdict(text, "104.16.0.1");
        assert_eq!(d.verdict, Verdict::Unknown);
        assert!(d.by.contains("limit rate"), "{}", d.by);
        let text = "table inet f {\n chain input { type filter hook input priority 0; policy accept;\n  udp dport 443 limit rate 10/second drop\n  iifname \"lo\" drop\n  xt match set counter drop\n }\n}\n";
        let d = verdict(text, "104.16.0.1");
        assert_eq!(d.verdict, Verdict::Unknown);
        assert!(d.by.contains("xt match set"), "{}", d.by);
        let d = verdict("add rule inet f input drop\n", "104.16.0.1");
        assert_eq!(d.verdict, Verdict::Unknown);
    }
}
