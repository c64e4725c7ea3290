//! The whole rule set as the firewall model ([`IptablesRuleset`]): every table, chain, policy
//! and rule, each rule's arguments (split by [`split_args`]) read into typed matches and a
//! target. The scan's reader of the save forms reads each rule with the same [`rule`], and
//! reduces the typed rule to what decides bans.

use std::borrow::Cow;

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
        if !command(&mut rs, &table, &args, text(line), lineno as u64) {
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

/// Where `-A`/`-I` puts a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// `-A`: at the end.
    Append,
    /// `-I CHAIN [N]`: before rule N (1 when not given).
    Insert(usize),
}

/// Reads `[counters] -A CHAIN rule...` or `-I CHAIN [N] rule...`: the chain, the place and
/// the index of the rule's first argument. `None` for any other command.
pub(super) fn rule_command(args: &[Arg]) -> Option<(String, Place, usize)> {
    let mut i = 0;
    if args
        .first()
        .is_some_and(|a| !a.quoted && is_counters(&a.text))
    {
        i = 1;
    }
    let cmd = args.get(i).filter(|a| !a.quoted)?;
    let insert = match cmd.text.as_slice() {
        b"-A" | b"--append" => false,
        b"-I" | b"--insert" => true,
        _ => return None,
    };
    let chain = &args.get(i + 1)?.text;
    if chain.is_empty() || chain.starts_with(b"-") {
        return None;
    }
    i += 2;
    let mut place = Place::Append;
    if insert {
        place = Place::Insert(1);
        if let Some(a) = args.get(i) {
            if !a.text.is_empty() && a.text.iter().all(u8::is_ascii_digit) {
                place = Place::Insert(text(&a.text).parse().unwrap_or(usize::MAX));
                i += 1;
            }
        }
    }
    Some((text(chain), place, i))
}

/// Applies one command (`-A`, `-I`, `-P`, `-N`); false when it is none of them.
fn command(rs: &mut IptablesRuleset, table: &str, args: &[Arg], line: String, lineno: u64) -> bool {
    if let Some((chain, place, start)) = rule_command(args) {
        let rule = rule(&args[start..], line, lineno);
        let chain = chain_mut(rs, table, &chain);
        match place {
            Place::Append => chain.rules.push(rule),
            Place::Insert(n) => {
                let pos = (n.max(1) - 1).min(chain.rules.len());
                chain.rules.insert(pos, rule);
            }
        }
        return true;
    }
    let words: Vec<String> = args.iter().map(|a| text(&a.text)).collect();
    match words.first().map(String::as_str) {
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

/// Options whose single value is free text (quoted by iptables-save when it needs to be): the
/// value is never read as an option.
const FREE_TEXT: &[&str] = &[
    "--comment",
    "--log-prefix",
    "--nflog-prefix",
    "--string",
    "--hex-string",
    "--name",
    "--helper",
];

/// Options read as matches wherever they stand, even after the target (iptables takes its
/// options in any order) and inside the options of a module the model does not type.
fn is_base_option(a: &str) -> bool {
    matches!(
        a,
        "-s" | "--source"
            | "--src"
            | "-d"
            | "--destination"
            | "--dst"
            | "-p"
            | "--protocol"
            | "-i"
            | "--in-interface"
            | "-o"
            | "--out-interface"
            | "-c"
            | "--set-counters"
            | "--match-set"
            | "--src-range"
            | "-m"
            | "--match"
            | "-j"
            | "--jump"
            | "-g"
            | "--goto"
    )
}

/// Reads a rule's arguments (after `-A CHAIN`) into its matches and target.
///
/// A quoted argument is a value, never an option: standing where an option belongs it is a
/// [`MatchKind::Word`]. After the target, the arguments are the target's options, except the
/// options of [`is_base_option`], which are matches wherever they stand.
pub(super) fn rule(args: &[Arg], written: String, line: u64) -> Rule {
    let mut out = Rule {
        text: written,
        line,
        ..Rule::default()
    };
    let word = |i: usize| -> Option<Cow<'_, str>> {
        args.get(i)
            .filter(|a| !a.quoted)
            .map(|a| String::from_utf8_lossy(&a.text))
    };
    let value = |i: usize| args.get(i + 1).map(|a| text(&a.text));
    let mut negated = false;
    let mut module = String::new();
    let mut after_target = false;
    let mut i = 0;
    while i < args.len() {
        let current = word(i);
        let Some(a) = current.as_deref() else {
            // Quoted: a value standing alone.
            if after_target {
                if let Some(t) = &mut out.target {
                    t.options.push(text(&args[i].text));
                }
            } else {
                out.matches.push(Match {
                    negated,
                    kind: MatchKind::Word(text(&args[i].text)),
                });
            }
            negated = false;
            i += 1;
            continue;
        };
        if a == "!" {
            negated = true;
            i += 1;
            continue;
        }
        if after_target && !is_base_option(a) && !(a == "--set" && module == "set") {
            // An option of the target (`--reject-with tcp-reset`, `--log-prefix "x "`).
            let mut options = vec![a.to_string()];
            if FREE_TEXT.contains(&a) {
                if let Some(v) = value(i) {
                    options.push(v);
                    i += 1;
                }
            }
            if let Some(t) = &mut out.target {
                t.options.extend(options);
            }
            negated = false;
            i += 1;
            continue;
        }
        let mut used = 2; // the option and one value
        let needs_value = !matches!(
            a,
            "-f" | "--fragment"
                | "--syn"
                | "--return-nomatch"
                | "--update-counters"
                | "--update-subcounters"
                | "--limit-iface-in"
        ) && a.starts_with('-');
        // The value of an option read wherever it stands (or of a free-text option) is the next
        // argument, whatever it is; that of any other option is never one of those options
        // (nor a `!`).
        let base = is_base_option(a) || FREE_TEXT.contains(&a) || (a == "--set" && module == "set");
        let special = |w: &str| {
            w == "!"
                || is_base_option(w)
                || FREE_TEXT.contains(&w)
                || (w == "--set" && module == "set")
        };
        let value_ok =
            |j: usize| args.get(j).is_some() && (base || word(j).is_none_or(|w| !special(&w)));
        if needs_value && !value_ok(i + 1) {
            if matches!(a, "-j" | "--jump" | "-g" | "--goto") {
                out.target = None;
            }
            out.matches.push(Match {
                negated,
                kind: MatchKind::Incomplete(a.to_string()),
            });
            negated = false;
            i += 1;
            continue;
        }
        let v = value(i).unwrap_or_default();
        let kind = match a {
            "-s" | "--source" | "--src" | "-d" | "--destination" | "--dst" => {
                // iptables before 1.4.3 wrote `-s ! ADDR`.
                let (neg, at) = if word(i + 1).as_deref() == Some("!") {
                    (true, i + 2)
                } else {
                    (negated, i + 1)
                };
                let Some(v) = args.get(at).map(|a| text(&a.text)) else {
                    out.matches.push(Match {
                        negated: neg,
                        kind: MatchKind::Incomplete(a.to_string()),
                    });
                    break;
                };
                negated = neg;
                used = at + 1 - i;
                if a.starts_with("-s") || a == "--source" || a == "--src" {
                    MatchKind::Source(v)
                } else {
                    MatchKind::Destination(v)
                }
            }
            "-p" | "--protocol" => MatchKind::Protocol(v),
            "-i" | "--in-interface" => MatchKind::InInterface(v),
            "-o" | "--out-interface" => MatchKind::OutInterface(v),
            "-f" | "--fragment" => {
                used = 1;
                MatchKind::Fragment
            }
            "-m" | "--match" => {
                module = v.clone();
                if TYPED_MODULES.contains(&v.as_str()) {
                    MatchKind::Module(v)
                } else {
                    let (options, next) = module_options(args, i + 2);
                    used = next - i;
                    MatchKind::UnknownModule { name: v, options }
                }
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                out.target = Some(Target {
                    name: v,
                    goto: matches!(a, "-g" | "--goto"),
                    options: Vec::new(),
                });
                after_target = true;
                negated = false;
                i += 2;
                continue;
            }
            "-c" | "--set-counters" => {
                used = 3;
                MatchKind::Counters
            }
            "--dport" | "--destination-port" => MatchKind::DestPort(v),
            "--sport" | "--source-port" => MatchKind::SourcePort(v),
            "--dports" | "--destination-ports" => MatchKind::DestPorts(v),
            "--sports" | "--source-ports" => MatchKind::SourcePorts(v),
            "--ports" => MatchKind::Ports(v),
            "--syn" => {
                used = 1;
                MatchKind::Syn
            }
            "--tcp-flags" => {
                let comp = if value_ok(i + 2) {
                    used = 3;
                    value(i + 1).unwrap_or_default()
                } else {
                    String::new()
                };
                MatchKind::TcpFlags { mask: v, comp }
            }
            "--ctstate" | "--state" => MatchKind::State(v),
            "--ctdir" => MatchKind::CtDir(v),
            "--ctproto" => MatchKind::CtProto(v),
            "--ctorigsrc" => MatchKind::CtOrigSrc(v),
            // `--set` is the name ipset matches had before iptables 1.4.4 (and a flag of
            // `-m recent`, without a value).
            _ if a == "--match-set" || (a == "--set" && module == "set") => {
                used = 3;
                MatchKind::MatchSet {
                    name: v,
                    flags: value(i + 1).unwrap_or_default(),
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
            "--src-range" => MatchKind::SrcRange(v),
            "--dst-range" => MatchKind::DstRange(v),
            "--dst-type" => MatchKind::DstType(v),
            "--src-type" => MatchKind::SrcType(v),
            "--limit-iface-in" => {
                used = 1;
                MatchKind::LimitIfaceIn
            }
            "--pkt-type" => MatchKind::PktType(v),
            "--comment" => MatchKind::Comment(v),
            other if !other.starts_with('-') => {
                used = 1;
                MatchKind::Word(other.to_string())
            }
            other => {
                // The value, unless what follows is an option of its own.
                let takes = FREE_TEXT.contains(&other)
                    || word(i + 1).is_none_or(|w| !w.starts_with('-') && w != "!");
                if !takes {
                    used = 1;
                }
                MatchKind::Other {
                    option: other.to_string(),
                    value: if takes { v } else { String::new() },
                }
            }
        };
        out.matches.push(Match { negated, kind });
        negated = false;
        i += used;
    }
    out
}

/// The options of a module the model does not type, from `start`: up to the next option read
/// wherever it stands (see [`is_base_option`], a `!` before one included); free-text values
/// are taken whatever they hold. Returns them and the index after them.
fn module_options(args: &[Arg], start: usize) -> (Vec<String>, usize) {
    let plain = |i: usize| args.get(i).filter(|a| !a.quoted).map(|a| a.text.as_slice());
    let base =
        |i: usize| plain(i).is_some_and(|w| std::str::from_utf8(w).is_ok_and(is_base_option));
    let mut out = Vec::new();
    let mut i = start;
    while i < args.len() {
        if base(i) || (plain(i) == Some(b"!") && base(i + 1)) {
            break;
        }
        out.push(text(&args[i].text));
        let free = plain(i).is_some_and(|w| FREE_TEXT.iter().any(|f| f.as_bytes() == w));
        i += 1;
        if free && i < args.len() {
            out.push(text(&args[i].text));
            i += 1;
        }
    }
    (out, i)
}
