//! The chains of a dump and what decides a ban: which chains drop what reaches them, which
//! chains the built-in chains reach, and the events and set uses the rules make.

use std::collections::{HashMap, HashSet};

use ipnet::IpNet;

use super::{lossy, IptablesParser};
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::{Format, Sink, Verdict};
use crate::purpose::{purpose_from_name, Purpose};

/// How deep jumps between user chains are followed.
const MAX_DEPTH: usize = 64;

/// Targets of iptables itself (and of its extensions) that are neither verdicts nor chains.
const BUILTIN_TARGETS: &[&str] = &[
    "LOG",
    "ULOG",
    "NFLOG",
    "MARK",
    "CONNMARK",
    "CT",
    "NOTRACK",
    "TRACE",
    "TCPMSS",
    "DNAT",
    "SNAT",
    "MASQUERADE",
    "REDIRECT",
    "NETMAP",
    "QUEUE",
    "NFQUEUE",
    "CLASSIFY",
    "DSCP",
    "TOS",
    "TTL",
    "HL",
    "ECN",
    "SET",
    "AUDIT",
    "CHECKSUM",
    "TEE",
    "TPROXY",
    "SECMARK",
    "CONNSECMARK",
    "LED",
    "IDLETIMER",
    "SYNPROXY",
    "CLUSTERIP",
    "HMARK",
    "RATEEST",
    "TCPOPTSTRIP",
    "SAME",
    "MIRROR",
    "IPV4OPTSSTRIP",
    "CONNLIMIT",
    "NPT",
    "DNPT",
    "SNPT",
    "BALANCE",
    "ROUTE",
];

/// The chain cPHulk fills when it blocks at the firewall level
/// (`Cpanel::IpTables::TempBan::add_temp_block`, on the chain `cphulk`): `-A cphulk -s
/// ADDR/32 -m state --state NEW -m time --datestop T --utc -j DROP`.
pub const CPHULK_CHAIN: &str = "cphulk";

/// A set match on the source: `-m set [!] --match-set NAME src[,...]`.
#[derive(Debug, Clone)]
pub(super) struct SetMatch {
    pub(super) name: String,
    pub(super) negated: bool,
}

/// One rule, reduced to what decides bans.
#[derive(Debug, Default)]
pub(super) struct Rule {
    pub(super) line: u64,
    /// Positive sources (not `0.0.0.0/0`).
    pub(super) sources: Vec<IpNet>,
    /// The rule applies to some sources only (a positive source or source set).
    pub(super) source_specific: bool,
    /// Set matches on the source.
    pub(super) sets: Vec<SetMatch>,
    /// The rule matches on something besides its sources (ports, interfaces, state...).
    pub(super) conditional: bool,
    /// `-j` / `-g` target.
    pub(super) target: Option<String>,
    /// The rule as its table's `iptables` command adds it (`-t filter -A INPUT ...`), for the
    /// save forms (see [`crate::Evidence::spec`]).
    pub(super) spec: Option<String>,
    /// The time (host local time) after which the rule matches nothing: `-m time
    /// --datestop`, as cPHulk's temporary blocks use it.
    pub(super) datestop: Option<chrono::NaiveDateTime>,
}

#[derive(Debug)]
pub(super) struct Chain {
    name: String,
    builtin: bool,
    pub(super) rules: Vec<Rule>,
}

/// One table of one dump (rules jump only within a table).
#[derive(Debug, Default)]
pub(super) struct Section {
    pub(super) chains: Vec<Chain>,
    index: HashMap<String, usize>,
    /// Chains given a header in `-L` output (a second header starts a new dump).
    pub(super) listed: HashSet<String>,
    pub(super) has_rules: bool,
    /// The table, when the dump names it (`*filter`).
    pub(super) table: Option<String>,
}

impl Section {
    pub(super) fn chain(&mut self, name: &[u8], builtin: bool) -> usize {
        let name = lossy(name);
        if let Some(&i) = self.index.get(&name) {
            if builtin {
                self.chains[i].builtin = true;
            }
            return i;
        }
        let builtin = builtin || is_builtin_name(&name);
        self.chains.push(Chain {
            name: name.clone(),
            builtin,
            rules: Vec::new(),
        });
        self.index.insert(name, self.chains.len() - 1);
        self.chains.len() - 1
    }
}

fn is_builtin_name(name: &str) -> bool {
    matches!(
        name,
        "INPUT" | "OUTPUT" | "FORWARD" | "PREROUTING" | "POSTROUTING"
    )
}

/// What jumping to a user chain does to the packets that reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Summary {
    /// Drops everything (after logging, perhaps).
    DropAll,
    /// Accepts everything.
    AcceptAll,
    /// Accepts some and drops the rest, or the reverse.
    Mixed,
    /// Returns (or falls off its end), having dropped and/or accepted some traffic before.
    Falls { accept: bool, drop: bool },
}

/// What a rule's target does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Drop,
    Accept,
    Return,
    Other,
    Chain(Summary),
}

impl Effect {
    fn verdict(self) -> Option<Verdict> {
        match self {
            Effect::Drop
            | Effect::Chain(Summary::DropAll)
            | Effect::Chain(Summary::Falls {
                accept: false,
                drop: true,
            }) => Some(Verdict::Drop),
            Effect::Accept
            | Effect::Chain(Summary::AcceptAll)
            | Effect::Chain(Summary::Falls {
                accept: true,
                drop: false,
            }) => Some(Verdict::Accept),
            _ => None,
        }
    }
}

fn effect(
    section: &Section,
    target: Option<&str>,
    memo: &mut [Option<Summary>],
    depth: usize,
) -> Effect {
    let Some(target) = target else {
        return Effect::Other;
    };
    match target {
        "DROP" | "REJECT" | "TARPIT" => Effect::Drop,
        "ACCEPT" => Effect::Accept,
        "RETURN" => Effect::Return,
        name => match section.index.get(name) {
            Some(&i) => Effect::Chain(summarize(section, i, memo, depth + 1)),
            None if BUILTIN_TARGETS.contains(&name) => Effect::Other,
            // A chain the dump does not hold (a partial listing): its name says what it does
            // (`LOGDROPIN`, `ALLOWIN`), or nothing.
            None => match purpose_from_name(name) {
                Purpose::Ban => Effect::Drop,
                Purpose::Allow => Effect::Accept,
                Purpose::Unknown => Effect::Other,
            },
        },
    }
}

fn summarize(section: &Section, idx: usize, memo: &mut [Option<Summary>], depth: usize) -> Summary {
    let through = Summary::Falls {
        accept: false,
        drop: false,
    };
    if let Some(s) = memo[idx] {
        return s;
    }
    if depth > MAX_DEPTH {
        return through;
    }
    // A loop back to this chain does nothing.
    memo[idx] = Some(through);
    let (mut accept, mut drop) = (false, false);
    let mut result = None;
    for rule in &section.chains[idx].rules {
        if rule.source_specific {
            continue;
        }
        let always = !rule.conditional;
        match effect(section, rule.target.as_deref(), memo, depth) {
            Effect::Other => {}
            Effect::Drop | Effect::Chain(Summary::DropAll) => {
                if always {
                    result = Some(if accept {
                        Summary::Mixed
                    } else {
                        Summary::DropAll
                    });
                    break;
                }
                drop = true;
            }
            Effect::Accept | Effect::Chain(Summary::AcceptAll) => {
                if always {
                    result = Some(if drop {
                        Summary::Mixed
                    } else {
                        Summary::AcceptAll
                    });
                    break;
                }
                accept = true;
            }
            Effect::Return => {
                if always {
                    break;
                }
                accept = true;
            }
            Effect::Chain(Summary::Mixed) => {
                accept = true;
                drop = true;
                if always {
                    result = Some(Summary::Mixed);
                    break;
                }
            }
            Effect::Chain(Summary::Falls { accept: a, drop: d }) => {
                accept |= a;
                drop |= d;
            }
        }
    }
    let summary = result.unwrap_or(Summary::Falls { accept, drop });
    memo[idx] = Some(summary);
    summary
}

impl IptablesParser {
    pub(super) fn emit(&self, sink: &mut dyn Sink) {
        for section in &self.sections {
            let mut memo = vec![None; section.chains.len()];
            let reached = reachable(section);
            let any_builtin = section.chains.iter().any(|c| c.builtin);
            for (ci, chain) in section.chains.iter().enumerate() {
                if chain.builtin && matches!(chain.name.as_str(), "OUTPUT" | "POSTROUTING") {
                    continue;
                }
                let mut bans = 0u64;
                for rule in &chain.rules {
                    let effect = effect(section, rule.target.as_deref(), &mut memo, 0);
                    // Returning exempts the members of a set from the rest of the chain.
                    let verdict = match effect {
                        Effect::Return => Some(Verdict::Accept),
                        other => other.verdict(),
                    };
                    match verdict {
                        Some(Verdict::Drop) => {
                            // cPHulk's own chain: its blocks are cPHulk's, lifted its way.
                            let tool = if chain.name == CPHULK_CHAIN {
                                Tool::Cphulk
                            } else {
                                Tool::Iptables
                            };
                            for net in &rule.sources {
                                bans += 1;
                                sink.event(
                                    BanEvent::new(
                                        *net,
                                        tool,
                                        Format::IptablesSave,
                                        chain.name.clone(),
                                        Action::Listed,
                                        Location::new(self.path.clone(), rule.line),
                                    )
                                    .spec(rule.spec.clone())
                                    .until(rule.datestop),
                                );
                            }
                            for set in &rule.sets {
                                // Dropping what is not in a set makes it an allow list.
                                let verdict = if set.negated {
                                    Verdict::Accept
                                } else {
                                    Verdict::Drop
                                };
                                sink.set_use(&set.name, verdict);
                            }
                        }
                        Some(Verdict::Accept) => {
                            for set in rule.sets.iter().filter(|s| !s.negated) {
                                sink.set_use(&set.name, Verdict::Accept);
                            }
                        }
                        None => {}
                    }
                }
                if bans > 0 && any_builtin && !reached[ci] {
                    sink.note(format!(
                        "chain {} is not jumped to from a built-in chain: its {bans} source bans may not be in force",
                        chain.name
                    ));
                }
            }
        }
    }
}

/// Which chains the built-in chains reach through jumps and gotos.
fn reachable(section: &Section) -> Vec<bool> {
    let mut seen = vec![false; section.chains.len()];
    let mut stack: Vec<usize> = (0..section.chains.len())
        .filter(|&i| section.chains[i].builtin)
        .collect();
    for &i in &stack {
        seen[i] = true;
    }
    while let Some(i) = stack.pop() {
        for rule in &section.chains[i].rules {
            if let Some(&j) = rule.target.as_deref().and_then(|t| section.index.get(t)) {
                if !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
    }
    seen
}
