//! The save forms: `iptables-save` / `ip6tables-save` dumps and `iptables -S`, each rule
//! split into its arguments the way `iptables-restore` does it.

use ipnet::IpNet;

use super::chains::{Rule, SetMatch};
use super::ruleset::{self, rule_command};
use super::{lossy, parse_addr, IptablesParser};
use crate::event::MAX_SPEC;
use crate::firewall::iptables::{self as model, MatchKind};
use crate::formats::ipset::parse_nets;
use crate::formats::{quote, Sink};

/// One argument of a rule: its text and whether it was (partly) quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// The argument, quotes and escapes removed.
    pub text: Vec<u8>,
    /// Whether it was written in double quotes (then it is a value, never an option).
    pub quoted: bool,
}

/// Splits a rule line into arguments the way `iptables-restore` does: at spaces and tabs,
/// except inside double quotes, where `\` escapes the next character; a closing quote ends the
/// argument. `None` when a quote is left open (the rule goes on on the next line).
pub fn split_args(line: &[u8]) -> Option<Vec<Arg>> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut quoted = false;
    let mut in_quote = false;
    let mut escaped = false;
    for &c in line {
        if in_quote {
            if escaped {
                buf.push(c);
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_quote = false;
                out.push(Arg {
                    text: std::mem::take(&mut buf),
                    quoted: true,
                });
                quoted = false;
            } else {
                buf.push(c);
            }
            continue;
        }
        match c {
            b'"' => {
                in_quote = true;
                quoted = true;
            }
            b' ' | b'\t' | b'\n' | b'\r' => {
                if !buf.is_empty() {
                    out.push(Arg {
                        text: std::mem::take(&mut buf),
                        quoted,
                    });
                    quoted = false;
                }
            }
            _ => buf.push(c),
        }
    }
    if in_quote {
        return None;
    }
    if !buf.is_empty() {
        out.push(Arg { text: buf, quoted });
    }
    Some(out)
}

/// `[packets:bytes]`.
pub(super) fn is_counters(t: &[u8]) -> bool {
    t.len() >= 5
        && t.starts_with(b"[")
        && t.ends_with(b"]")
        && t[1..t.len() - 1]
            .iter()
            .all(|&b| b.is_ascii_digit() || b == b':')
        && memchr::memchr(b':', t).is_some()
}

/// `:NAME POLICY [p:b]` → (name, whether built-in).
pub(super) fn chain_declaration(line: &[u8]) -> Option<(&[u8], bool)> {
    let mut it = line[1..]
        .split(u8::is_ascii_whitespace)
        .filter(|t| !t.is_empty());
    let name = it.next()?;
    let policy = it.next()?;
    let counters = it.next();
    if it.next().is_some() || counters.is_some_and(|c| !is_counters(c)) {
        return None;
    }
    let builtin = match policy {
        b"-" => false,
        b"ACCEPT" | b"DROP" | b"QUEUE" | b"RETURN" | b"REJECT" => true,
        _ => return None,
    };
    Some((name, builtin))
}

impl IptablesParser {
    /// One complete line of the save / `-S` forms.
    pub(super) fn save_line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if line.starts_with(b"#") {
            return;
        }
        if let Some(table) = line.strip_prefix(b"*") {
            if table.is_empty() || table.iter().any(u8::is_ascii_whitespace) {
                sink.malformed(lineno, format!("iptables: bad table line: {}", quote(line)));
            }
            self.new_section();
            self.section().table = Some(lossy(table.trim_ascii()));
            return;
        }
        if line.starts_with(b":") {
            match chain_declaration(line) {
                Some((name, builtin)) => {
                    self.section().chain(name, builtin);
                }
                None => {
                    sink.malformed(lineno, format!("iptables: bad chain line: {}", quote(line)))
                }
            }
            return;
        }
        if line == b"COMMIT" {
            return;
        }
        let Some(args) = split_args(line) else {
            sink.malformed(lineno, "iptables: a quote is not closed".to_string());
            return;
        };
        let words: Vec<&[u8]> = args.iter().map(|a| a.text.as_slice()).collect();
        match words.as_slice() {
            [b"-P", name, _] => {
                if self.section().has_rules {
                    // `iptables -S` of another table or family, one after another.
                    self.new_section();
                }
                self.section().chain(name, true);
            }
            [b"-N", name] => {
                self.section().chain(name, false);
            }
            _ => match parse_rule(&args, lineno, sink) {
                Some((chain, mut rule)) => {
                    let section = self.section();
                    rule.spec =
                        (line.len() <= MAX_SPEC).then(|| rule_spec(section.table.as_deref(), line));
                    let i = section.chain(&chain, false);
                    section.chains[i].rules.push(rule);
                    section.has_rules = true;
                }
                None => sink.malformed(lineno, format!("iptables: not a rule: {}", quote(line))),
            },
        }
    }
}

/// The rule of `line` (`[counters] -A CHAIN ...`) as the command that adds it: `-t TABLE `
/// in front when the table is known, the counters left out.
fn rule_spec(table: Option<&str>, line: &[u8]) -> String {
    let line = match line.first() {
        Some(b'[') => match memchr::memchr(b']', line) {
            Some(end) if is_counters(&line[..=end]) => line[end + 1..].trim_ascii(),
            _ => line,
        },
        _ => line,
    };
    let rule = String::from_utf8_lossy(line);
    match table {
        Some(t) => format!("-t {t} {rule}"),
        None => rule.into_owned(),
    }
}

/// Adds the sources of one `-s` value (a comma list) to a rule.
fn add_sources(rule: &mut Rule, value: &[u8], negated: bool, lineno: u64, sink: &mut dyn Sink) {
    let mut nets = Vec::new();
    for item in value.split(|&b| b == b',') {
        match parse_addr(item.trim_ascii()) {
            Some(net) => nets.push(net),
            None => sink.malformed(
                lineno,
                format!("iptables: source is not an address: {}", quote(item)),
            ),
        }
    }
    add_nets(rule, nets, negated);
}

pub(super) fn add_nets(rule: &mut Rule, nets: Vec<IpNet>, negated: bool) {
    if negated {
        rule.conditional = true;
        return;
    }
    for net in nets {
        // `0.0.0.0/0` and `::/0` are every address: no restriction on the source.
        if net.prefix_len() > 0 {
            rule.sources.push(net);
            rule.source_specific = true;
        }
    }
}

/// Reads one `-A CHAIN ...` rule, with the firewall model's rule reader, into its chain name
/// and what matters of it for bans.
fn parse_rule(args: &[Arg], lineno: u64, sink: &mut dyn Sink) -> Option<(Vec<u8>, Rule)> {
    let (chain, _place, start) = rule_command(args)?;
    let typed = ruleset::rule(&args[start..], String::new(), lineno);
    Some((chain.into_bytes(), reduce(&typed, lineno, sink)))
}

/// What decides bans in a rule: its positive sources and source sets, whether it matches on
/// anything else, and its target.
fn reduce(typed: &model::Rule, lineno: u64, sink: &mut dyn Sink) -> Rule {
    let mut rule = Rule {
        line: lineno,
        target: typed.target.as_ref().map(|t| t.name.clone()),
        ..Rule::default()
    };
    for m in &typed.matches {
        let negated = m.negated;
        match &m.kind {
            MatchKind::Source(v) => add_sources(&mut rule, v.as_bytes(), negated, lineno, sink),
            MatchKind::SrcRange(range) => match parse_nets(range.as_bytes()) {
                Some(nets) => add_nets(&mut rule, nets, negated),
                None => sink.malformed(
                    lineno,
                    format!("iptables: bad --src-range: {}", quote(range.as_bytes())),
                ),
            },
            MatchKind::MatchSet { name, flags } => {
                if flags.starts_with("src") && !name.is_empty() {
                    rule.sets.push(SetMatch {
                        name: name.clone(),
                        negated,
                    });
                    if negated {
                        rule.conditional = true;
                    } else {
                        rule.source_specific = true;
                    }
                } else {
                    rule.conditional = true;
                }
            }
            MatchKind::Incomplete(option) => match option.as_str() {
                "-s" | "--source" | "--src" => {
                    sink.malformed(lineno, "iptables: -s without a value".to_string())
                }
                "--src-range" => {
                    sink.malformed(lineno, format!("iptables: bad --src-range: {}", quote(b"")))
                }
                "-c" | "--set-counters" | "--comment" | "-j" | "--jump" | "-g" | "--goto" => {}
                _ => rule.conditional = true,
            },
            MatchKind::UnknownModule { name, options } if name == "time" && !negated => {
                rule.conditional = true;
                rule.datestop = datestop(options);
            }
            MatchKind::Module(name) | MatchKind::UnknownModule { name, .. } => {
                if name != "comment" {
                    rule.conditional = true;
                }
            }
            MatchKind::Comment(_) | MatchKind::Counters | MatchKind::Word(_) => {}
            // Destinations, protocols, interfaces, ports, states...
            _ => rule.conditional = true,
        }
    }
    rule
}

/// The end of a `-m time` match's dates, in host local time: `--datestop`'s date with the
/// time of `--timestop` when there is one, else `--datestop`'s own time (midnight when it has
/// none), as cPanel's `Cpanel::IpTables::TempBan::expire_time_based_rules` reads the three
/// renderings iptables versions give of the one `--datestop` it sets; in UTC unless
/// `--kerneltz` says the kernel's time zone (xt_time's default is UTC). None without a
/// readable `--datestop`.
fn datestop(options: &[String]) -> Option<chrono::NaiveDateTime> {
    use chrono::{Local, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
    let value = |key: &str| {
        let at = options.iter().position(|o| o == key)?;
        options.get(at + 1).map(String::as_str)
    };
    let stop = value("--datestop")?;
    let (date, time) = stop.split_once('T').unwrap_or((stop, "00:00:00"));
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let time = NaiveTime::parse_from_str(value("--timestop").unwrap_or(time), "%H:%M:%S").ok()?;
    let stop = NaiveDateTime::new(date, time);
    if options
        .iter()
        .any(|o| o == "--kerneltz" || o == "--localtz")
    {
        Some(stop)
    } else {
        Some(
            Utc.from_utc_datetime(&stop)
                .with_timezone(&Local)
                .naive_local(),
        )
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn split_args() {
        use crate::formats::iptables::split_args;
        let args =
            split_args(br#"-A X -m comment --comment "a \"b\" -s 104.16.0.1" -j DROP"#).unwrap();
        let text: Vec<&[u8]> = args.iter().map(|a| a.text.as_slice()).collect();
        assert_eq!(
            text,
            [
                &b"-A"[..],
                b"X",
                b"-m",
                b"comment",
                b"--comment",
                br#"a "b" -s 104.16.0.1"#,
                b"-j",
                b"DROP"
            ]
        );
        assert!(args[5].quoted);
        assert!(split_args(b"-A X -m comment --comment \"open").is_none());
    }
}
