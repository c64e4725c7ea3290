//! The parser of ModSecurity rule files: directives joined across `\` line ends, the rules
//! that test `REMOTE_ADDR` with `@ipMatch` / `@ipMatchFromFile`, and what their (chain's)
//! actions and the file's defaults make of them. See the module docs for the grammar.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ipnet::IpNet;

use super::words::{actions, directive_words};
use crate::addr::parse_net;
use crate::event::Tool;
use crate::formats::grammar::modsec::UNKNOWN_RULE;
use crate::formats::grammar::webconf::{listed, shown};
use crate::formats::{Format, IncludeError, LineParser, ParseCtx, Sink};

/// The disruptive actions (the last one of a rule is the one it takes).
const DISRUPTIVE: &[&[u8]] = &[
    b"deny",
    b"drop",
    b"block",
    b"allow",
    b"pass",
    b"redirect",
    b"proxy",
];

/// The longest directive kept (continued lines joined); real rules are a few KiB.
const MAX_DIRECTIVE: usize = 1 << 20;

/// Whether a rule (chain) refuses the requests it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refuses {
    Yes,
    No,
    /// `block` with no `SecDefaultAction` of this file for its phase.
    Unknown,
}

/// A rule (a chain's starter) and the addresses its `@ipMatch` links name.
#[derive(Debug)]
struct Rule {
    id: Option<String>,
    refuses: Refuses,
    bans: Vec<(IpNet, Arc<Path>, u64)>,
}

/// The parser of ModSecurity rule files ([`Format::ModsecRules`]).
pub struct ModsecRulesParser {
    path: Arc<Path>,
    /// A directive continued on the next line: its first line and its text so far.
    pending: Option<(u64, Vec<u8>)>,
    rules: Vec<Rule>,
    /// The rule whose chain the next `SecRule` continues.
    chain: Option<usize>,
    /// Per phase, whether this file's `SecDefaultAction` refuses.
    defaults: HashMap<u8, bool>,
    /// The last `SecRuleEngine` value, lower case.
    engine: Option<Vec<u8>>,
}

impl ModsecRulesParser {
    /// A parser for one rule file.
    pub fn new(ctx: &ParseCtx) -> Self {
        ModsecRulesParser {
            path: ctx.path.clone(),
            pending: None,
            rules: Vec::new(),
            chain: None,
            defaults: HashMap::new(),
            engine: None,
        }
    }

    /// One whole directive, from its first line.
    fn directive(&mut self, lineno: u64, text: &[u8], sink: &mut dyn Sink) {
        let text = text.trim_ascii();
        if text.is_empty() || text.starts_with(b"#") {
            return;
        }
        let Some(words) = directive_words(text) else {
            sink.malformed(
                lineno,
                "ModSecurity directive with a quote not closed".into(),
            );
            return;
        };
        let Some((name, args)) = words.split_first() else {
            return;
        };
        match name.to_ascii_lowercase().as_slice() {
            b"secrule" => self.rule(lineno, args, sink),
            b"secaction" => self.chain = None,
            b"secruleengine" => self.engine = args.first().map(|a| a.to_ascii_lowercase()),
            b"secdefaultaction" => {
                if let Some(acts) = args.first().and_then(|a| actions(a)) {
                    let refuses = matches!(last_disruptive(&acts), Some(b"deny" | b"drop"));
                    self.defaults.insert(phase(&acts), refuses);
                }
            }
            b"secruleremovebyid" => {
                for arg in args {
                    for part in arg.split(|&b| b == b',' || b == b' ') {
                        self.remove(part);
                    }
                }
            }
            _ => {}
        }
    }

    /// `SecRule VARIABLES OPERATOR [ACTIONS]`.
    fn rule(&mut self, lineno: u64, args: &[Vec<u8>], sink: &mut dyn Sink) {
        let (targets, operator, acts) = match args {
            [t, o] => (t, o, Some(Vec::new())),
            [t, o, a] => (t, o, actions(a)),
            _ => {
                sink.malformed(
                    lineno,
                    format!("SecRule with {} arguments instead of 2 or 3", args.len()),
                );
                return;
            }
        };
        let Some(acts) = acts else {
            sink.malformed(lineno, "SecRule whose actions cannot be read".into());
            return;
        };
        let index = match self.chain {
            Some(starter) => starter,
            None => {
                let refuses = self.refuses(&acts);
                let id = acts
                    .iter()
                    .find(|(n, _)| n == b"id")
                    .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
                self.rules.push(Rule {
                    id,
                    refuses,
                    bans: Vec::new(),
                });
                self.rules.len() - 1
            }
        };
        self.chain = acts.iter().any(|(n, _)| n == b"chain").then_some(index);
        if !on_remote_addr(targets) {
            return;
        }
        let Some((name, param)) = ip_operator(operator) else {
            return;
        };
        let bans = match name.as_slice() {
            b"ipmatch" => self.ip_match(lineno, param, sink),
            _ => self.ip_match_file(lineno, param, sink),
        };
        self.rules[index].bans.extend(bans);
    }

    /// What a chain starter's actions make of the requests it matches.
    fn refuses(&self, acts: &[(Vec<u8>, Vec<u8>)]) -> Refuses {
        let phase = phase(acts);
        if phase == 5 {
            return Refuses::No;
        }
        let default = self.defaults.get(&phase).copied();
        let yes = |b: bool| if b { Refuses::Yes } else { Refuses::No };
        match last_disruptive(acts) {
            Some(b"deny" | b"drop") => Refuses::Yes,
            Some(b"block") => default.map_or(Refuses::Unknown, yes),
            Some(_) => Refuses::No,
            None => yes(default.unwrap_or(false)),
        }
    }

    /// The networks of `@ipMatch a,b/n,...`, each at the rule's line.
    fn ip_match(
        &self,
        lineno: u64,
        param: &[u8],
        sink: &mut dyn Sink,
    ) -> Vec<(IpNet, Arc<Path>, u64)> {
        let mut out = Vec::new();
        for entry in param.split(|&b| b == b',').filter(|e| !e.is_empty()) {
            match parse_net(entry) {
                Some(net) => out.push((net, self.path.clone(), lineno)),
                None => sink.malformed(
                    lineno,
                    format!("@ipMatch entry that is not an address: {}", shown(entry)),
                ),
            }
        }
        out
    }

    /// The networks of the file `@ipMatchFromFile` names, each at its line there.
    fn ip_match_file(
        &self,
        lineno: u64,
        param: &[u8],
        sink: &mut dyn Sink,
    ) -> Vec<(IpNet, Arc<Path>, u64)> {
        let param = param.trim_ascii();
        let place = format!(
            "{}:{lineno}: @ipMatchFromFile {}",
            self.path.display(),
            shown(param)
        );
        if param.starts_with(b"https://") || param.starts_with(b"http://") {
            sink.note(format!(
                "{place}: a list fetched over the network, not read"
            ));
            return Vec::new();
        }
        let Ok(text) = std::str::from_utf8(param) else {
            sink.note(format!("{place}: not a UTF-8 path, not read"));
            return Vec::new();
        };
        let mut path = PathBuf::from(text);
        if path.is_relative() {
            if let Some(dir) = self.path.parent() {
                path = dir.join(path);
            }
        }
        let bytes = match sink.include(&self.path, &path) {
            Ok(bytes) => bytes,
            Err(why) => {
                let why = match why {
                    IncludeError::Missing => "no such file".to_string(),
                    IncludeError::NotRegular => "not a regular file, not read".to_string(),
                    IncludeError::AlreadyRead => "already read for this file".to_string(),
                    IncludeError::TooLarge(max) => format!("larger than {max} bytes, not read"),
                    IncludeError::Unreadable(e) => e,
                    _ => "not followed here".to_string(),
                };
                sink.note(format!("{place}: {why}"));
                return Vec::new();
            }
        };
        let included: Arc<Path> = Arc::from(path.as_path());
        let mut out = Vec::new();
        for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
            let line = line.trim_ascii_start();
            let end = line
                .iter()
                .position(|b| !(b.is_ascii_hexdigit() || matches!(b, b'.' | b'/' | b':')))
                .unwrap_or(line.len());
            if end == 0 {
                continue;
            }
            match parse_net(&line[..end]) {
                Some(net) => out.push((net, included.clone(), n as u64 + 1)),
                None => sink.malformed(
                    lineno,
                    format!(
                        "{}:{}: @ipMatchFromFile entry that is not an address: {}",
                        included.display(),
                        n + 1,
                        shown(&line[..end])
                    ),
                ),
            }
        }
        out
    }

    /// `SecRuleRemoveById N` or `N-M`: drops the rules of those ids.
    fn remove(&mut self, part: &[u8]) {
        let number = |b: &[u8]| std::str::from_utf8(b).ok()?.trim().parse::<u64>().ok();
        let (low, high) = match memchr::memchr(b'-', part) {
            Some(dash) => (number(&part[..dash]), number(&part[dash + 1..])),
            None => (number(part), number(part)),
        };
        let (Some(low), Some(high)) = (low, high) else {
            return;
        };
        self.rules.retain(|r| {
            r.id.as_deref()
                .and_then(|id| id.parse::<u64>().ok())
                .is_none_or(|id| id < low || id > high)
        });
    }
}

/// Whether a rule's variables hold the connecting address (`REMOTE_ADDR`, not excluded with
/// `!` nor counted with `&`).
fn on_remote_addr(targets: &[u8]) -> bool {
    targets
        .split(|&b| b == b'|' || b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"REMOTE_ADDR"))
}

/// `@ipMatch PARAM`, `@ipMatchFromFile PARAM` or `@ipMatchF PARAM`, not negated: the
/// operator's name (lower case, `ipmatch` or `ipmatchfromfile`) and its parameter.
fn ip_operator(op: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    if op.starts_with(b"!") {
        return None;
    }
    let rest = op.strip_prefix(b"@")?;
    let end = rest
        .iter()
        .position(u8::is_ascii_whitespace)
        .unwrap_or(rest.len());
    let name = rest[..end].to_ascii_lowercase();
    let param = rest[end..].trim_ascii_start();
    match name.as_slice() {
        b"ipmatch" => Some((name, param)),
        b"ipmatchfromfile" | b"ipmatchf" => Some((b"ipmatchfromfile".to_vec(), param)),
        _ => None,
    }
}

/// The last disruptive action of a list.
fn last_disruptive(acts: &[(Vec<u8>, Vec<u8>)]) -> Option<&[u8]> {
    acts.iter()
        .rev()
        .map(|(n, _)| n.as_slice())
        .find(|n| DISRUPTIVE.contains(n))
}

/// The phase of a rule (2 when it names none).
fn phase(acts: &[(Vec<u8>, Vec<u8>)]) -> u8 {
    let Some((_, v)) = acts.iter().rev().find(|(n, _)| n == b"phase") else {
        return 2;
    };
    match v.to_ascii_lowercase().as_slice() {
        b"request" => 2,
        b"response" => 4,
        b"logging" => 5,
        v => std::str::from_utf8(v)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2),
    }
}

impl LineParser for ModsecRulesParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let trimmed = line.trim_ascii_end();
        let (start, mut text) = match self.pending.take() {
            Some((start, text)) => (start, text),
            None => (lineno, Vec::new()),
        };
        if let Some(part) = trimmed.strip_suffix(b"\\") {
            if text.len() + part.len() <= MAX_DIRECTIVE {
                text.extend_from_slice(part);
            }
            self.pending = Some((start, text));
            return;
        }
        if text.len() + trimmed.len() <= MAX_DIRECTIVE {
            text.extend_from_slice(trimmed);
        }
        self.directive(start, &text, sink);
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if let Some((start, text)) = self.pending.take() {
            self.directive(start, &text, sink);
        }
        let rules = std::mem::take(&mut self.rules);
        if let Some(engine) = self.engine.as_deref().filter(|e| *e != b"on") {
            let bans: usize = rules
                .iter()
                .filter(|r| r.refuses == Refuses::Yes)
                .map(|r| r.bans.len())
                .sum();
            if bans > 0 {
                sink.note(format!(
                    "SecRuleEngine {}: the {bans} address(es) that rules would refuse are not \
                     refused",
                    String::from_utf8_lossy(engine)
                ));
            }
            return;
        }
        for rule in rules {
            let scope = rule.id.unwrap_or_else(|| UNKNOWN_RULE.to_string());
            match rule.refuses {
                Refuses::Yes => {
                    for (net, path, line) in rule.bans {
                        sink.event(listed(
                            net,
                            Tool::Modsecurity,
                            Format::ModsecRules,
                            scope.clone(),
                            &path,
                            line,
                        ));
                    }
                }
                Refuses::Unknown if !rule.bans.is_empty() => sink.note(format!(
                    "rule {scope}: block takes the SecDefaultAction of its phase, which this file \
                     does not set (ModSecurity's default passes): not read"
                )),
                _ => {}
            }
        }
    }
}
