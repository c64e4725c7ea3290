//! What the iptables and nftables evaluators share: the probe (a new TCP connection), the
//! three-valued match result, the compiled rule, and the chain walker.
//!
//! A rule the evaluator cannot decide for the probe (an unknown match, an interface whose name
//! the probe does not know, an ipset whose members were not read) is `Maybe`: the walker then
//! follows both branches, as if the rule matched and as if it did not. When every branch ends in
//! the same verdict, that verdict is certain whatever the rule does; when they differ the
//! verdict is [`Verdict::Unknown`], naming the rules it depends on. The evaluator never guesses.

use std::collections::BTreeSet;
use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

/// A new TCP connection (a SYN, conntrack state NEW) arriving at this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The source address (a representative address of a Cloudflare range).
    pub source: IpAddr,
    /// The destination port.
    pub port: u16,
    /// The interface the packet arrives on, when known (`eth0`); never `lo` for Cloudflare.
    pub interface: Option<String>,
    /// The destination address, when known.
    pub destination: Option<IpAddr>,
}

/// What the firewall does with a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Verdict {
    /// The connection reaches the listening socket.
    Accept,
    /// Silently dropped: Cloudflare's connection attempt times out (Error 521/522).
    Drop,
    /// Rejected (ICMP error or TCP reset): Cloudflare sees a refused connection (Error 521).
    Reject,
    /// The rules do not say for certain (see [`Decision::by`]).
    Unknown,
}

impl Verdict {
    /// `ACCEPT`, `DROP`, `REJECT` or `UNKNOWN`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Accept => "ACCEPT",
            Verdict::Drop => "DROP",
            Verdict::Reject => "REJECT",
            Verdict::Unknown => "UNKNOWN",
        }
    }
}

/// A verdict with the rule (or policy) that decides it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The verdict.
    pub verdict: Verdict,
    /// The deciding rule or policy; for [`Verdict::Unknown`], what it depends on.
    pub by: String,
    /// Rules the evaluator could not decide for the probe (they did not change the verdict
    /// unless it is [`Verdict::Unknown`]).
    pub undecided: Vec<String>,
}

/// The three-valued result of a match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tri {
    /// Matches the probe.
    Yes,
    /// Does not match the probe.
    No,
    /// Cannot be decided: why.
    Maybe(String),
}

impl Tri {
    /// `Yes` for true, `No` for false.
    pub fn from_bool(b: bool) -> Tri {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }

    /// Negated (`!`): `Maybe` stays `Maybe`.
    pub fn negate(self, neg: bool) -> Tri {
        match (self, neg) {
            (Tri::Yes, true) => Tri::No,
            (Tri::No, true) => Tri::Yes,
            (t, _) => t,
        }
    }

    /// Logical and: `No` wins, then `Maybe`.
    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Maybe(a), Tri::Maybe(b)) => Tri::Maybe(format!("{a}; {b}")),
            (Tri::Maybe(a), _) | (_, Tri::Maybe(a)) => Tri::Maybe(a),
            _ => Tri::Yes,
        }
    }
}

/// What a rule does when it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Ends this base chain; the packet goes on to the next base chain or hook.
    Accept,
    /// Final.
    Drop,
    /// Final, with an ICMP error or a reset.
    Reject,
    /// Evaluates the named chain, then goes on after this rule unless it decided.
    Jump(String),
    /// Evaluates the named chain instead of the rest of this one.
    Goto(String),
    /// Back to the calling chain (in a base chain: the policy).
    Return,
    /// Nothing decided (counter, log, mark): the next rule.
    Continue,
    /// A verdict the evaluator does not know (a queue to user space, NAT, an unknown target).
    Unknown(String),
}

/// A rule compiled for one probe.
#[derive(Debug, Clone)]
pub struct EvalRule {
    /// How the rule is named in reports (`filter INPUT #3: -A INPUT ... -j DROP`).
    pub label: String,
    /// Whether it matches the probe.
    pub cond: Tri,
    /// What it does then.
    pub action: Action,
}

/// How a walk through a chain ended.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum End {
    /// Accepted by this chain (or base chain).
    Accept,
    /// Dropped.
    Drop,
    /// Rejected.
    Reject,
    /// Fell off the chain or hit `RETURN`.
    Return,
    /// Beyond the evaluator: why.
    Unknown(String),
}

/// One possible way through the rules, with the undecided rules it assumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// How it ended.
    pub end: End,
    /// The deciding rule or policy.
    pub by: String,
    /// The undecided rules this path assumed something about.
    pub assumed: BTreeSet<String>,
}

/// The most distinct paths kept before giving up with `Unknown`.
const MAX_PATHS: usize = 512;
/// The deepest chain nesting followed (iptables allows no loops; nft neither).
const MAX_DEPTH: usize = 64;

/// Merges paths that end the same way by the same rule.
fn dedup(paths: Vec<Path>) -> Vec<Path> {
    let mut out: Vec<Path> = Vec::new();
    for p in paths {
        if let Some(q) = out.iter_mut().find(|q| q.end == p.end && q.by == p.by) {
            q.assumed.extend(p.assumed);
        } else {
            out.push(p);
        }
    }
    if out.len() > MAX_PATHS {
        let assumed = out
            .iter()
            .flat_map(|p| p.assumed.iter().cloned())
            .take(8)
            .collect();
        return vec![Path {
            end: End::Unknown("too many rules beyond the evaluator".into()),
            by: "too many undecided rules".into(),
            assumed,
        }];
    }
    out
}

/// Walks chains of compiled rules.
pub struct Walker<'a> {
    /// Chains by name.
    pub chains: &'a HashMap<String, Vec<EvalRule>>,
}

impl Walker<'_> {
    /// Every way through `chain`; `Return` ends mean it fell through (or returned).
    pub fn run(&self, chain: &str) -> Vec<Path> {
        self.run_chain(chain, 0)
    }

    fn run_chain(&self, chain: &str, depth: usize) -> Vec<Path> {
        if depth > MAX_DEPTH {
            return vec![unknown_path(format!(
                "chains nested deeper than {MAX_DEPTH} at {chain}"
            ))];
        }
        let Some(rules) = self.chains.get(chain) else {
            return vec![unknown_path(format!(
                "a jump to chain {chain}, which is not defined"
            ))];
        };
        self.run_from(chain, rules, 0, depth)
    }

    fn run_from(&self, chain: &str, rules: &[EvalRule], start: usize, depth: usize) -> Vec<Path> {
        let mut i = start;
        // Rules that surely do not match are skipped without recursion.
        while i < rules.len() && rules[i].cond == Tri::No {
            i += 1;
        }
        let Some(rule) = rules.get(i) else {
            return vec![Path {
                end: End::Return,
                by: format!("end of chain {chain}"),
                assumed: BTreeSet::new(),
            }];
        };
        let mut out = Vec::new();
        let assumption = match &rule.cond {
            Tri::Maybe(why) => Some(format!("{} ({why})", rule.label)),
            _ => None,
        };
        // The branch where the rule matches.
        let mut taken = match &rule.action {
            Action::Accept => vec![leaf(End::Accept, &rule.label)],
            Action::Drop => vec![leaf(End::Drop, &rule.label)],
            Action::Reject => vec![leaf(End::Reject, &rule.label)],
            Action::Return => vec![leaf(End::Return, &rule.label)],
            Action::Unknown(why) => vec![leaf(End::Unknown(why.clone()), &rule.label)],
            Action::Continue => self.run_from(chain, rules, i + 1, depth),
            Action::Goto(target) => self.run_chain(target, depth + 1),
            Action::Jump(target) => {
                let mut v = Vec::new();
                for p in self.run_chain(target, depth + 1) {
                    if p.end == End::Return {
                        for mut q in self.run_from(chain, rules, i + 1, depth) {
                            q.assumed.extend(p.assumed.iter().cloned());
                            v.push(q);
                        }
                    } else {
                        v.push(p);
                    }
                }
                dedup(v)
            }
        };
        if let Some(a) = &assumption {
            for p in &mut taken {
                p.assumed.insert(a.clone());
            }
        }
        out.extend(taken);
        if let Some(a) = assumption {
            for mut p in self.run_from(chain, rules, i + 1, depth) {
                p.assumed.insert(a.clone());
                out.push(p);
            }
        }
        dedup(out)
    }
}

fn leaf(end: End, by: &str) -> Path {
    Path {
        end,
        by: by.to_string(),
        assumed: BTreeSet::new(),
    }
}

fn unknown_path(why: String) -> Path {
    Path {
        end: End::Unknown(why.clone()),
        by: why,
        assumed: BTreeSet::new(),
    }
}

/// One base chain (a hook of the packet's way in), already walked.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Ordering key: the hook (0 ingress, 1 prerouting, 2 input), then the priority.
    pub order: (u8, i32),
    /// Every way through it: `Accept` goes on to the next layer.
    pub paths: Vec<Path>,
}

/// Turns a base chain's walk into a layer: falling through applies `policy`.
pub fn base_chain_paths(paths: Vec<Path>, policy: End, policy_label: &str) -> Vec<Path> {
    paths
        .into_iter()
        .map(|mut p| {
            if p.end == End::Return {
                p.end = policy.clone();
                p.by = policy_label.to_string();
            }
            p
        })
        .collect()
}

/// Runs a probe through the layers in order (ingress, prerouting, input; by priority) and
/// decides: a drop or reject in any layer is final, an accept goes on to the next layer.
pub fn decide(mut layers: Vec<Layer>) -> Decision {
    layers.sort_by_key(|l| l.order);
    const NOTHING: &str = "no rule (nothing filters this traffic)";
    let mut current = vec![Path {
        end: End::Accept,
        by: NOTHING.into(),
        assumed: BTreeSet::new(),
    }];
    for layer in &layers {
        let mut next = Vec::new();
        for p in current {
            if p.end != End::Accept {
                next.push(p);
                continue;
            }
            for q in &layer.paths {
                let mut q = q.clone();
                q.assumed.extend(p.assumed.iter().cloned());
                if q.end == End::Accept && p.by != NOTHING {
                    q.by = format!("{}, then {}", p.by, q.by);
                }
                next.push(q);
            }
        }
        current = dedup(next);
    }
    let verdicts: BTreeSet<Verdict> = current.iter().map(|p| end_verdict(&p.end)).collect();
    let undecided: BTreeSet<String> = current
        .iter()
        .flat_map(|p| p.assumed.iter().cloned())
        .collect();
    let undecided: Vec<String> = undecided.into_iter().collect();
    if verdicts.len() == 1 {
        let verdict = *verdicts.iter().next().expect("one");
        let mut bys: Vec<String> = Vec::new();
        for p in &current {
            let by = match &p.end {
                End::Unknown(why) if why != &p.by => format!("{} ({why})", p.by),
                _ => p.by.clone(),
            };
            if !bys.contains(&by) {
                bys.push(by);
            }
        }
        let by = if bys.len() > 3 {
            format!("{} or {} other rules", bys[..3].join(" or "), bys.len() - 3)
        } else {
            bys.join(" or ")
        };
        Decision {
            verdict,
            by,
            undecided,
        }
    } else {
        let outcomes: Vec<String> = current
            .iter()
            .map(|p| format!("{} by {}", end_verdict(&p.end).name(), p.by))
            .collect();
        Decision {
            verdict: Verdict::Unknown,
            by: format!(
                "depends on rules beyond the evaluator: {}; possible outcomes: {}",
                undecided.join("; "),
                outcomes.join(" | ")
            ),
            undecided,
        }
    }
}

fn end_verdict(end: &End) -> Verdict {
    match end {
        End::Accept | End::Return => Verdict::Accept,
        End::Drop => Verdict::Drop,
        End::Reject => Verdict::Reject,
        End::Unknown(_) => Verdict::Unknown,
    }
}

/// Whether an interface name pattern (`eth+` in iptables, `eth*` in nft) names `name`.
pub fn iface_matches(pattern: &str, name: &str) -> bool {
    match pattern
        .strip_suffix('+')
        .or_else(|| pattern.strip_suffix('*'))
    {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// Matches an interface pattern against the probe: never loopback for Cloudflare; unknown when
/// the probe's interface is not known.
pub fn iface_tri(pattern: &str, probe: &Probe) -> Tri {
    if pattern == "lo" {
        return Tri::No;
    }
    match &probe.interface {
        Some(name) => Tri::from_bool(iface_matches(pattern, name)),
        None => Tri::Maybe(format!(
            "interface {pattern}: the interface Cloudflare's packets arrive on is not known"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(label: &str, cond: Tri, action: Action) -> EvalRule {
        EvalRule {
            label: label.into(),
            cond,
            action,
        }
    }

    #[test]
    fn maybe_rules_fork_and_agreeing_branches_decide() {
        let mut chains = HashMap::new();
        chains.insert(
            "INPUT".to_string(),
            vec![
                rule("limit", Tri::Maybe("-m limit".into()), Action::Continue),
                rule("drop-cf", Tri::Yes, Action::Drop),
            ],
        );
        let paths = base_chain_paths(
            Walker { chains: &chains }.run("INPUT"),
            End::Accept,
            "policy",
        );
        let d = decide(vec![Layer {
            order: (2, 0),
            paths,
        }]);
        assert_eq!(d.verdict, Verdict::Drop);
        assert_eq!(d.by, "drop-cf");

        chains.insert(
            "INPUT".to_string(),
            vec![rule(
                "maybe-accept",
                Tri::Maybe("-m recent".into()),
                Action::Accept,
            )],
        );
        let paths = base_chain_paths(
            Walker { chains: &chains }.run("INPUT"),
            End::Drop,
            "policy DROP",
        );
        let d = decide(vec![Layer {
            order: (2, 0),
            paths,
        }]);
        assert_eq!(d.verdict, Verdict::Unknown);
        assert!(d.by.contains("maybe-accept"), "{}", d.by);
    }

    #[test]
    fn jumps_return_and_layers_compose() {
        let mut chains = HashMap::new();
        chains.insert(
            "INPUT".to_string(),
            vec![
                rule("jump", Tri::Yes, Action::Jump("f2b".into())),
                rule("accept", Tri::Yes, Action::Accept),
            ],
        );
        chains.insert(
            "f2b".to_string(),
            vec![
                rule("other", Tri::No, Action::Reject),
                rule("ret", Tri::Yes, Action::Return),
            ],
        );
        let first = base_chain_paths(Walker { chains: &chains }.run("INPUT"), End::Drop, "policy");
        let second = vec![leaf(End::Drop, "nft drop")];
        let d = decide(vec![
            Layer {
                order: (2, 10),
                paths: second,
            },
            Layer {
                order: (2, 0),
                paths: first.clone(),
            },
        ]);
        assert_eq!((d.verdict, d.by.as_str()), (Verdict::Drop, "nft drop"));
        let d = decide(vec![Layer {
            order: (2, 0),
            paths: first,
        }]);
        assert_eq!((d.verdict, d.by.as_str()), (Verdict::Accept, "accept"));
        // A jump to a missing chain is unknown, never a guess.
        chains.insert(
            "INPUT".to_string(),
            vec![rule("jump", Tri::Yes, Action::Jump("nope".into()))],
        );
        let d = decide(vec![Layer {
            order: (2, 0),
            paths: Walker { chains: &chains }.run("INPUT"),
        }]);
        assert_eq!(d.verdict, Verdict::Unknown);
    }

    #[test]
    fn interfaces() {
        let probe = Probe {
            source: "104.16.0.1".parse().unwrap(),
            port: 443,
            interface: Some("eth0".into()),
            destination: None,
        };
        assert_eq!(iface_tri("lo", &probe), Tri::No);
        assert_eq!(iface_tri("eth+", &probe), Tri::Yes);
        assert_eq!(iface_tri("ens3", &probe), Tri::No);
        let blind = Probe {
            interface: None,
            ..probe
        };
        assert!(matches!(iface_tri("eth0", &blind), Tri::Maybe(_)));
    }
}
