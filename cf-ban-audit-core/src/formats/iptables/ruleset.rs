//! The whole rule set as the firewall model ([`IptablesRuleset`]): every table, chain, policy
//! and rule, each rule's arguments (split by [`split_args`]) read into typed matches and a
//! target.

use super::save::{is_counters, split_args, Arg};
use super::MAX_CONTINUED;
use crate::firewall::iptables::{Chain, IptablesRuleset, Match, MatchKind, Rule, Target};

/// Modules whose options are read as matches of their own.
const TYPED_MODULES: &[&str] = &[
    "tcp",
    "udp",
    "comment",
    "multiport",
    "conntrack",
    "state",
    "set",
    "iprange",
    "addrtype",
    "pkttype",
];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Reads `iptables-save` output (or `iptables -S`) into the model (see
/// [`IptablesRuleset::parse`]). A rule whose quote runs over a line break goes on on the next
/// line, as `iptables-restore` reads it.
pub(crate) fn read_ruleset(input: &[u8]) -> IptablesRuleset {
    let mut rs = IptablesRuleset::default();
    let mut table = String::from("filter");
    let mut pending: Option<(usize, Vec<u8>)> = None;
    for (n, raw) in input.split(|&b| b == b'\n').enumerate() {
        let (lineno, joined);
        let line = match pending.take() {
            Some((start, mut so_far)) => {
                so_far.push(b'\n');
                so_far.extend_from_slice(raw);
                lineno = start;
                joined = so_far;
                joined.trim_ascii()
            }
            None => {
                lineno = n + 1;
                raw.trim_ascii()
            }
        };
        if line.is_empty() {
            continue;
        }
        if line.starts_with(b"#") {
            let has = |w: &[u8]| memchr::memmem::find(line, w).is_some();
            if has(b"iptables-save") && has(b"nf_tables") {
                rs.nf_tables = true;
            }
            continue;
        }
        if let Some(t) = line.strip_prefix(b"*") {
            table = text(t.trim_ascii());
            rs.tables.entry(table.clone()).or_default();
            continue;
        }
        if line == b"COMMIT" {
            continue;
        }
        if let Some(decl) = line.strip_prefix(b":") {
            let mut words = decl
                .split(u8::is_ascii_whitespace)
                .filter(|w| !w.is_empty());
            if let (Some(name), Some(policy)) = (words.next(), words.next()) {
                let chain = chain_mut(&mut rs, &table, &text(name));
                chain.policy = (policy != b"-").then(|| text(policy));
            }
            continue;
        }
        // Counters in front (`iptables-save -c`).
        let line = match line.split_first() {
            Some((b'[', rest)) => match memchr::memchr(b']', rest) {
                Some(end) if is_counters(&line[..end + 2]) => rest[end + 1..].trim_ascii(),
                _ => line,
            },
            _ => line,
        };
        let Some(args) = split_args(line) else {
            if line.len() <= MAX_CONTINUED {
                pending = Some((lineno, line.to_vec()));
            } else {
                rs.notes
                    .push(format!("line {lineno}: unbalanced quotes: {}", text(line)));
            }
            continue;
        };
        if !command(&mut rs, &table, &args, text(line)) {
            rs.notes
                .push(format!("line {lineno}: not understood: {}", text(line)));
        }
    }
    if let Some((start, line)) = pending {
        rs.notes
            .push(format!("line {start}: unbalanced quotes: {}", text(&line)));
    }
    rs
}

fn chain_mut<'a>(rs: &'a mut IptablesRuleset, table: &str, chain: &str) -> &'a mut Chain {
    rs.tables
        .entry(table.to_string())
        .or_default()
        .chains
        .entry(chain.to_string())
        .or_default()
}

/// Applies one command (`-A`, `-I`, `-P`, `-N`); false when it is none of them.
fn command(rs: &mut IptablesRuleset, table: &str, args: &[Arg], line: String) -> bool {
    let words: Vec<String> = args.iter().map(|a| text(&a.text)).collect();
    match words.first().map(String::as_str) {
        Some("-A" | "--append") if words.len() >= 2 => {
            let rule = rule(&words[2..], line);
            chain_mut(rs, table, &words[1]).rules.push(rule);
        }
        Some("-I" | "--insert") if words.len() >= 2 => {
            let (pos, rest) = match words.get(2).and_then(|a| a.parse::<usize>().ok()) {
                Some(p) => (p.max(1) - 1, &words[3..]),
                None => (0, &words[2..]),
            };
            let rule = rule(rest, line);
            let chain = chain_mut(rs, table, &words[1]);
            let pos = pos.min(chain.rules.len());
            chain.rules.insert(pos, rule);
        }
        Some("-P" | "--policy") if words.len() >= 3 => {
            chain_mut(rs, table, &words[1]).policy = Some(words[2].clone());
        }
        Some("-N" | "--new-chain") if words.len() >= 2 => {
            chain_mut(rs, table, &words[1]);
        }
        _ => return false,
    }
    true
}

/// Reads a rule's arguments (after `-A CHAIN`) into its matches and target.
fn rule(args: &[String], text: String) -> Rule {
    let mut out = Rule {
        text,
        ..Rule::default()
    };
    let value = |i: usize| args.get(i + 1).cloned().unwrap_or_default();
    let mut negated = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "!" {
            negated = true;
            i += 1;
            continue;
        }
        let mut used = 2; // the option and one value
        let kind = match a {
            "-s" | "--source" | "--src" => MatchKind::Source(value(i)),
            "-d" | "--destination" | "--dst" => MatchKind::Destination(value(i)),
            "-p" | "--protocol" => MatchKind::Protocol(value(i)),
            "-i" | "--in-interface" => MatchKind::InInterface(value(i)),
            "-o" | "--out-interface" => MatchKind::OutInterface(value(i)),
            "-f" | "--fragment" => {
                used = 1;
                MatchKind::Fragment
            }
            "-m" | "--match" => {
                let name = value(i);
                if TYPED_MODULES.contains(&name.as_str()) {
                    MatchKind::Module(name)
                } else {
                    let options: Vec<String> = args[(i + 2).min(args.len())..]
                        .iter()
                        .take_while(|a| {
                            !matches!(
                                a.as_str(),
                                "-m" | "--match" | "-j" | "--jump" | "-g" | "--goto"
                            )
                        })
                        .cloned()
                        .collect();
                    used = 2 + options.len();
                    MatchKind::UnknownModule { name, options }
                }
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                out.target = Some(Target {
                    name: value(i),
                    goto: matches!(a, "-g" | "--goto"),
                    options: args[(i + 2).min(args.len())..].to_vec(),
                });
                break;
            }
            "-c" | "--set-counters" => {
                used = 3;
                MatchKind::Counters
            }
            "--dport" | "--destination-port" => MatchKind::DestPort(value(i)),
            "--sport" | "--source-port" => MatchKind::SourcePort(value(i)),
            "--dports" | "--destination-ports" => MatchKind::DestPorts(value(i)),
            "--sports" | "--source-ports" => MatchKind::SourcePorts(value(i)),
            "--ports" => MatchKind::Ports(value(i)),
            "--syn" => {
                used = 1;
                MatchKind::Syn
            }
            "--tcp-flags" => {
                used = 3;
                MatchKind::TcpFlags {
                    mask: value(i),
                    comp: value(i + 1),
                }
            }
            "--ctstate" | "--state" => MatchKind::State(value(i)),
            "--ctdir" => MatchKind::CtDir(value(i)),
            "--ctproto" => MatchKind::CtProto(value(i)),
            "--ctorigsrc" => MatchKind::CtOrigSrc(value(i)),
            "--match-set" => {
                used = 3;
                MatchKind::MatchSet {
                    name: value(i),
                    flags: value(i + 1),
                }
            }
            "--return-nomatch" => {
                used = 1;
                MatchKind::ReturnNomatch
            }
            "--update-counters" | "--update-subcounters" => {
                used = 1;
                MatchKind::UpdateCounters
            }
            "--src-range" => MatchKind::SrcRange(value(i)),
            "--dst-range" => MatchKind::DstRange(value(i)),
            "--dst-type" => MatchKind::DstType(value(i)),
            "--src-type" => MatchKind::SrcType(value(i)),
            "--limit-iface-in" => {
                used = 1;
                MatchKind::LimitIfaceIn
            }
            "--pkt-type" => MatchKind::PktType(value(i)),
            "--comment" => MatchKind::Comment(value(i)),
            other => MatchKind::Other {
                option: other.to_string(),
                value: value(i),
            },
        };
        out.matches.push(Match { negated, kind });
        negated = false;
        i += used;
    }
    out
}
