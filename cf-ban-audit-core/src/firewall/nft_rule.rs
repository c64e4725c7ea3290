//! The expressions of an nft rule, typed: the statements that decide nothing, the matches
//! (a selector, an operator and a value), verdict maps and the verdict, read from the rule's
//! tokens ([`NftRule::exprs`]).

use super::nft::{NftRule, Tok};
use super::Verdict;

/// The words that give a rule its verdict (or hand the packet elsewhere).
pub const VERDICTS: &[&str] = &[
    "accept",
    "drop",
    "reject",
    "return",
    "continue",
    "jump",
    "goto",
    "queue",
    "dnat",
    "snat",
    "masquerade",
    "redirect",
    "tproxy",
    "synproxy",
];

/// The comparison operators.
const OPS: &[&str] = &[
    "==", "!=", "eq", "ne", "<", ">", "<=", ">=", "lt", "gt", "le", "ge",
];

/// What a match reads from the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Selector {
    /// `ip saddr` (`v6` false) or `ip6 saddr`.
    Saddr {
        /// `ip6`.
        v6: bool,
    },
    /// `ip daddr` or `ip6 daddr`.
    Daddr {
        /// `ip6`.
        v6: bool,
    },
    /// The transport protocol: `ip protocol` (`Some(false)`), `ip6 nexthdr` (`Some(true)`),
    /// `meta l4proto` (`None`).
    L4Proto {
        /// The header family it is read from, if any.
        v6: Option<bool>,
    },
    /// Another field of the `ip` or `ip6` header.
    IpField {
        /// `ip6`.
        v6: bool,
    },
    /// `tcp dport` or `th dport`.
    Dport,
    /// `tcp sport` or `th sport`.
    Sport,
    /// Another field of the TCP header (`tcp flags`).
    TcpField,
    /// A header of another protocol (`udp dport`, `icmp type`): never on a TCP packet.
    OtherProtocol,
    /// `meta nfproto` or `meta protocol`.
    Nfproto,
    /// `iif`, `iifname` (or with `meta`).
    Iif,
    /// `pkttype` or `meta pkttype`.
    Pkttype,
    /// Another `meta` key (`meta mark`).
    MetaField,
    /// `oif`, `oifname`, `mark`, `skuid`, `skgid`.
    Other,
    /// `ct state`.
    CtState,
    /// `ct direction`.
    CtDirection,
    /// Another `ct` key (`ct mark`; `ct count` is not a selector here).
    CtField,
    /// `fib daddr type`, compared with `local`.
    FibDaddrType,
}

/// One expression or statement of a rule, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NftExpr {
    /// A statement that decides nothing (`counter`, `log ...`, `comment "..."`, `notrack`,
    /// `meta mark set 1`).
    Statement(Vec<Tok>),
    /// `add @set { ... }` or `update @set { ... }`.
    SetUpdate(Vec<Tok>),
    /// `SELECTOR [OP] VALUE`.
    Match {
        /// What is compared.
        selector: Selector,
        /// The selector's tokens (`ip saddr`).
        key: Vec<Tok>,
        /// The operator, when written (`!=`, `>`).
        op: Option<String>,
        /// The value: a literal, a comma list, an anonymous set `{ ... }`, a set `@name`.
        value: Vec<Tok>,
    },
    /// A selector combined in a way the model does not type (`ip saddr . tcp dport ...`,
    /// `meta mark & 0xff ...`, a data `map`): the selector's tokens and what follows up to the
    /// next verdict word.
    Combined {
        /// The selector's tokens.
        key: Vec<Tok>,
        /// The rest.
        rest: Vec<Tok>,
    },
    /// `SELECTOR vmap VALUE`: the verdict comes from the map.
    Vmap {
        /// What is looked up.
        selector: Selector,
        /// The selector's tokens.
        key: Vec<Tok>,
        /// The map: `{ ... }` or `@name`.
        map: Vec<Tok>,
    },
    /// The verdict, and its tokens with what follows (`jump chain`, `reject with tcp reset`).
    Verdict {
        /// What it does.
        verdict: Verdict,
        /// Its tokens.
        tokens: Vec<Tok>,
    },
    /// What the model does not read, from here to the end of the rule.
    Unknown(Vec<Tok>),
}

impl NftRule {
    /// The rule's expressions in order.
    pub fn exprs(&self) -> Vec<NftExpr> {
        exprs(&self.tokens)
    }
}

/// The verdict that `tokens` start with (`drop`, `jump chain`), if they start with one.
pub fn verdict(tokens: &[Tok]) -> Option<Verdict> {
    let next = || {
        tokens
            .get(1)
            .and_then(Tok::text)
            .unwrap_or_default()
            .to_string()
    };
    Some(match tokens.first().and_then(Tok::text)? {
        "accept" => Verdict::Accept,
        "drop" => Verdict::Drop,
        "reject" => Verdict::Reject,
        "return" => Verdict::Return,
        "continue" => Verdict::Continue,
        "jump" => Verdict::Jump(next()),
        "goto" => Verdict::Goto(next()),
        "queue" => Verdict::Queue,
        "dnat" | "snat" | "masquerade" | "redirect" => Verdict::Nat,
        w @ ("tproxy" | "synproxy") => Verdict::Other(w.to_string()),
        _ => return None,
    })
}

/// Reads a rule's tokens into expressions.
fn exprs(toks: &[Tok]) -> Vec<NftExpr> {
    let word = |i: usize| toks.get(i).and_then(Tok::text).unwrap_or("");
    let slice = |a: usize, b: usize| toks[a.min(toks.len())..b.min(toks.len())].to_vec();
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let start = i;
        // Statements that change nothing for the verdict.
        match word(i) {
            "counter" => {
                i += 1;
                if word(i) == "packets" {
                    i += 4;
                } else if word(i) == "name" {
                    i += 2;
                }
                out.push(NftExpr::Statement(slice(start, i)));
                continue;
            }
            "log" => {
                i += 1;
                while matches!(
                    word(i),
                    "prefix" | "level" | "group" | "snaplen" | "queue-threshold" | "flags"
                ) {
                    i += 2;
                    while toks.get(i) == Some(&Tok::Comma) {
                        i += 2;
                    }
                }
                out.push(NftExpr::Statement(slice(start, i)));
                continue;
            }
            "comment" => {
                i += 2;
                out.push(NftExpr::Statement(slice(start, i)));
                continue;
            }
            "notrack" => {
                i += 1;
                out.push(NftExpr::Statement(slice(start, i)));
                continue;
            }
            "add" | "update" if word(i + 1).starts_with('@') => {
                i = group_end(toks, i + 2);
                out.push(NftExpr::SetUpdate(slice(start, i)));
                continue;
            }
            w if VERDICTS.contains(&w) => {
                let tokens = slice(i, toks.len());
                if let Some(verdict) = verdict(&tokens) {
                    out.push(NftExpr::Verdict { verdict, tokens });
                }
                break;
            }
            _ => {}
        }
        let Some((selector, used)) = selector(toks, i) else {
            out.push(NftExpr::Unknown(slice(i, toks.len())));
            break;
        };
        let used = used.min(toks.len() - i);
        let key = slice(i, i + used);
        i += used;
        // `meta mark set 1`, `ct mark set ...`: statements.
        if word(i) == "set" {
            i += 2;
            out.push(NftExpr::Statement(slice(start, i)));
            continue;
        }
        if matches!(word(i), "." | "&" | "|" | "map") {
            let end = toks[i..]
                .iter()
                .position(|t| t.text().is_some_and(|w| VERDICTS.contains(&w)))
                .map_or(toks.len(), |p| i + p);
            out.push(NftExpr::Combined {
                key,
                rest: slice(i, end),
            });
            i = end;
            continue;
        }
        if word(i) == "vmap" {
            let end = group_end(toks, i + 1);
            out.push(NftExpr::Vmap {
                selector,
                key,
                map: slice(i + 1, end),
            });
            break;
        }
        let mut op = None;
        // An ordering operator takes one value; equality (or none) a whole right-hand side.
        let end = if OPS.contains(&word(i)) {
            op = Some(word(i).to_string());
            i += 1;
            if matches!(word(i - 1), "==" | "!=" | "eq" | "ne") {
                rhs_end(toks, i)
            } else {
                group_end(toks, i)
            }
        } else {
            rhs_end(toks, i)
        };
        out.push(NftExpr::Match {
            selector,
            key,
            op,
            value: slice(i, end),
        });
        i = end;
    }
    out
}

/// The end of a value: a `{ ... }` group, an `@set`, or words joined by commas.
fn rhs_end(toks: &[Tok], i: usize) -> usize {
    if toks.get(i) == Some(&Tok::Open) {
        return group_end(toks, i);
    }
    let mut j = i;
    if j < toks.len() {
        j += 1;
    }
    while toks.get(j) == Some(&Tok::Comma) && toks.get(j + 1).and_then(Tok::text).is_some() {
        j += 2;
    }
    j
}

/// The index after a `{ ... }` group starting at `i` (or after the single token there).
fn group_end(toks: &[Tok], i: usize) -> usize {
    if toks.get(i) != Some(&Tok::Open) {
        return (i + 1).min(toks.len());
    }
    let mut depth = 0usize;
    for (j, t) in toks.iter().enumerate().skip(i) {
        match t {
            Tok::Open => depth += 1,
            Tok::Close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
    }
    toks.len()
}

/// The selector at `i` and how many tokens it takes; `None` when there is none the model
/// reads.
fn selector(toks: &[Tok], i: usize) -> Option<(Selector, usize)> {
    let w = |k: usize| toks.get(i + k).and_then(Tok::text).unwrap_or("");
    Some(match (w(0), w(1)) {
        ("ip", "saddr") => (Selector::Saddr { v6: false }, 2),
        ("ip6", "saddr") => (Selector::Saddr { v6: true }, 2),
        ("ip", "daddr") => (Selector::Daddr { v6: false }, 2),
        ("ip6", "daddr") => (Selector::Daddr { v6: true }, 2),
        ("ip", "protocol") => (Selector::L4Proto { v6: Some(false) }, 2),
        ("ip6", "nexthdr") => (Selector::L4Proto { v6: Some(true) }, 2),
        ("ip", _) => (Selector::IpField { v6: false }, 2),
        ("ip6", _) => (Selector::IpField { v6: true }, 2),
        ("tcp" | "th", "dport") => (Selector::Dport, 2),
        ("tcp" | "th", "sport") => (Selector::Sport, 2),
        ("tcp", _) => (Selector::TcpField, 2),
        (
            "udp" | "udplite" | "icmp" | "icmpv6" | "sctp" | "dccp" | "esp" | "ah" | "igmp" | "gre"
            | "comp",
            _,
        ) => (Selector::OtherProtocol, 2),
        ("meta", "l4proto") => (Selector::L4Proto { v6: None }, 2),
        ("meta", "nfproto" | "protocol") => (Selector::Nfproto, 2),
        ("meta", "iif" | "iifname") => (Selector::Iif, 2),
        ("meta", "pkttype") => (Selector::Pkttype, 2),
        ("meta", _) => (Selector::MetaField, 2),
        ("iif" | "iifname", _) => (Selector::Iif, 1),
        ("pkttype", _) => (Selector::Pkttype, 1),
        ("oif" | "oifname" | "mark" | "skuid" | "skgid", _) => (Selector::Other, 1),
        ("ct", "state") => (Selector::CtState, 2),
        ("ct", "direction") => (Selector::CtDirection, 2),
        ("ct", "count") => return None,
        ("ct", _) => (Selector::CtField, 2),
        ("fib", _) => {
            // fib daddr type local: the packet is for this host, as it is on the input hook.
            let text = super::nft::render(&toks[i..(i + 4).min(toks.len())]);
            if text == "fib daddr type local" || text == "fib daddr . iif type local" {
                return Some((Selector::FibDaddrType, 3));
            }
            return None;
        }
        _ => return None,
    })
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn exprs() {
        use crate::firewall::nft::{NftRule, Tok};
        use crate::firewall::nft_rule::{NftExpr, Selector};
        use crate::firewall::Verdict;
        let w = |s: &str| Tok::Word(s.into());
        let rule = NftRule {
            line: 1,
            tokens: ["ip", "saddr", "!=", "10.0.0.0/8", "counter", "drop"]
                .map(w)
                .to_vec(),
        };
        let e = rule.exprs();
        assert!(
            matches!(&e[0], NftExpr::Match { selector: Selector::Saddr { v6: false }, op: Some(op), .. } if op == "!=")
        );
        assert!(matches!(&e[1], NftExpr::Statement(_)));
        assert!(matches!(
            &e[2],
            NftExpr::Verdict {
                verdict: Verdict::Drop,
                ..
            }
        ));
    }

    #[test]
    fn verdict() {
        use crate::firewall::{nft::Tok, nft_rule::verdict, Verdict};
        let w = |s: &str| Tok::Word(s.into());
        assert_eq!(
            verdict(&[w("goto"), w("bans")]),
            Some(Verdict::Goto("bans".into()))
        );
        assert_eq!(verdict(&[w("masquerade")]), Some(Verdict::Nat));
        assert_eq!(verdict(&[w("counter")]), None);
    }
}
