//! The parser of `ipset save` / `ipset list` output: the commands and blocks applied in
//! order, so that the members read are those the sets hold at the end of the file.

use std::path::Path;
use std::sync::Arc;

use chrono::{NaiveDateTime, TimeDelta};
use ipnet::IpNet;

use super::tokens::{tokenize, Token};
use super::{parse_nets, type_kind, Kind, Map, SetState, MAX_CONTINUED};
use crate::addr::normalize_net;
use crate::event::{Action, BanEvent, Location, Tool};
use crate::firewall::ipset::{Ipset, Ipsets, SetMember};
use crate::formats::{quote, Format, LineParser, ParseCtx, Sink};

/// Parser of `ipset save` / `ipset list` output (see the [module documentation](super)).
pub struct IpsetParser {
    path: Arc<Path>,
    /// When the dump was written: remaining timeouts count from then.
    written: NaiveDateTime,
    sets: Map<Vec<u8>, SetState>,
    next_seq: u64,
    /// `ipset list`: the set being listed, and whether its members are being read.
    listing: Option<Vec<u8>>,
    in_members: bool,
    /// A line ending inside a quote: its first line number and the text so far.
    pending: Option<(u64, Vec<u8>)>,
    /// Members whose timeout is not a number (ipset's test files print `timeout x`).
    odd_timeouts: u64,
}

impl IpsetParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        IpsetParser {
            path: ctx.path.clone(),
            written: ctx.reference,
            sets: Map::default(),
            next_seq: 0,
            listing: None,
            in_members: false,
            pending: None,
            odd_timeouts: 0,
        }
    }

    fn set_mut(&mut self, name: &[u8], kind: Kind) -> &mut SetState {
        // Looked up first: a member line names a set that is there (no copy of its name).
        if !self.sets.contains_key(name) {
            self.sets
                .insert(name.to_vec(), SetState::new(self.next_seq, kind));
            self.next_seq += 1;
        }
        self.sets.get_mut(name).expect("inserted above")
    }

    /// `create NAME TYPE options` (and `Type:` + `Header:` of a listing).
    fn create(&mut self, name: &[u8], kind_name: &[u8], options: &[Token<'_>]) {
        let kind = type_kind(kind_name).unwrap_or(Kind::Unknown);
        let state = self.set_mut(name, kind);
        state.kind = kind;
        state.type_name = kind_name.to_vec();
        apply_header(state, options);
    }

    /// One member of a set, with its options.
    fn member(
        &mut self,
        lineno: u64,
        set: &[u8],
        tokens: &[Token<'_>],
        remove: bool,
        sink: &mut dyn Sink,
    ) {
        let Some((elem, options)) = tokens.split_first() else {
            sink.malformed(
                lineno,
                format!("ipset: set {}: a member line without a member", quote(set)),
            );
            return;
        };
        let state = self.set_mut(set, Kind::Unknown);
        if is_list_type(&state.type_name) {
            // The members of a `list:set` are set names.
            state.list.retain(|s| **s != *elem.text);
            if !remove {
                state.list.push(elem.text.to_vec());
            }
            return;
        }
        if state.kind == Kind::NoAddresses {
            return;
        }
        let mut expires = None;
        let mut nomatch = false;
        let mut odd_timeout = false;
        let mut i = 0;
        while i < options.len() {
            let opt = &options[i];
            if opt.quoted {
                i += 1;
                continue;
            }
            match &*opt.text {
                b"nomatch" => nomatch = true,
                b"timeout" => {
                    match options.get(i + 1).and_then(|t| parse_seconds(&t.text)) {
                        Some(0) => {}
                        Some(n) => {
                            expires = TimeDelta::try_seconds(n)
                                .and_then(|d| self.written.checked_add_signed(d))
                        }
                        None => odd_timeout = true,
                    }
                    i += 1;
                }
                // Options with a value, which is never a keyword.
                b"comment" | b"packets" | b"bytes" | b"skbmark" | b"skbprio" | b"skbqueue"
                | b"before" | b"after" => i += 1,
                _ => {}
            }
            i += 1;
        }
        if odd_timeout {
            self.odd_timeouts += 1;
        }
        let state = self.set_mut(set, Kind::Unknown);
        let addr = elem.text.split(|&b| b == b',').next().unwrap_or_default();
        let nets = if elem.quoted { None } else { parse_nets(addr) };
        if nomatch && !remove {
            // An exception inside a network of the set: not matched, not banned.
            for net in nets.into_iter().flatten() {
                state.exceptions.insert(net, lineno);
            }
            return;
        }
        let Some(mut nets) = nets else {
            if state.kind == Kind::Addresses {
                sink.malformed(
                    lineno,
                    format!(
                        "ipset: set {}: not an address: {}",
                        quote(set),
                        quote(&elem.text)
                    ),
                );
            }
            return;
        };
        if let Some(mask) = state.netmask {
            let bare = memchr::memchr2(b'/', b'-', addr).is_none();
            if bare {
                for net in &mut nets {
                    if let Ok(masked) = IpNet::new(net.addr(), mask) {
                        *net = normalize_net(masked);
                    }
                }
            }
        }
        for net in nets {
            if remove {
                state.members.remove(&net);
                state.exceptions.remove(&net);
            } else {
                state.members.insert(net, (lineno, expires));
            }
        }
    }

    /// One complete command line (after joining lines continued inside a quote).
    fn command(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            self.in_members = false;
            return;
        }
        if trimmed.starts_with(b"#") {
            return;
        }
        let Some(tokens) = tokenize(trimmed) else {
            sink.malformed(lineno, "ipset: a quote is not closed".to_string());
            return;
        };
        let Some(head) = tokens.first() else {
            return;
        };
        let first = &*head.text;
        if head.quoted {
            sink.malformed(lineno, format!("ipset: not a command: {}", quote(trimmed)));
            return;
        }
        // `ipset list` headers.
        match first {
            b"Name:" => {
                self.in_members = false;
                match tokens.get(1) {
                    Some(name) if tokens.len() == 2 => {
                        let name = name.text.to_vec();
                        self.set_mut(&name, Kind::Unknown);
                        self.listing = Some(name);
                    }
                    _ => {
                        self.listing = None;
                        sink.malformed(
                            lineno,
                            format!("ipset: bad set name line: {}", quote(trimmed)),
                        );
                    }
                }
                return;
            }
            b"Type:" | b"Header:" => {
                self.in_members = false;
                if let Some(name) = self.listing.clone() {
                    if first == b"Type:" {
                        let kind_name = tokens.get(1).map(|t| t.text.to_vec()).unwrap_or_default();
                        self.create(&name, &kind_name, &[]);
                    } else {
                        let state = self.set_mut(&name, Kind::Unknown);
                        apply_header(state, &tokens[1..]);
                    }
                }
                return;
            }
            b"Members:" => {
                self.in_members = self.listing.is_some();
                return;
            }
            _ => {}
        }
        if self.in_members {
            if let Some(name) = self.listing.clone() {
                self.member(lineno, &name, &tokens, false, sink);
                return;
            }
        }
        if self.listing.is_some() && is_list_header(trimmed) {
            // `Revision:`, `Size in memory:`, `References:`, `Number of entries:` and any
            // header a later ipset adds.
            return;
        }
        // Restore commands; `-exist` / `-!` may stand anywhere.
        let mut args = tokens;
        args.retain(|t| t.quoted || !matches!(&*t.text, b"-exist" | b"-!"));
        let name = |i: usize| args.get(i).map(|t| &*t.text);
        let Some(command) = args.first() else {
            return;
        };
        match &*command.text {
            b"create" | b"-N" | b"--create" | b"n" => match (name(1), name(2)) {
                (Some(set), Some(kind)) => self.create(set, kind, &args[3..]),
                _ => sink.malformed(
                    lineno,
                    format!("ipset: create without a name and type: {}", quote(trimmed)),
                ),
            },
            b"add" | b"-A" | b"--add" | b"a" | b"del" | b"-D" | b"--del" | b"d" => {
                let remove = matches!(&*command.text, b"del" | b"-D" | b"--del" | b"d");
                match name(1) {
                    Some(set) => self.member(lineno, set, &args[2..], remove, sink),
                    None => sink.malformed(
                        lineno,
                        format!("ipset: a member without a set: {}", quote(trimmed)),
                    ),
                }
            }
            b"flush" | b"-F" | b"--flush" => match name(1) {
                Some(set) => {
                    if let Some(state) = self.sets.get_mut(set) {
                        state.flush();
                    }
                }
                None => self.sets.values_mut().for_each(SetState::flush),
            },
            b"destroy" | b"-X" | b"--destroy" | b"x" => match name(1) {
                Some(set) => {
                    self.sets.remove(set);
                }
                None => self.sets.clear(),
            },
            b"rename" | b"-E" | b"--rename" | b"e" => match (name(1), name(2)) {
                (Some(from), Some(to)) => {
                    if let Some(state) = self.sets.remove(from) {
                        self.sets.insert(to.to_vec(), state);
                    }
                }
                _ => sink.malformed(
                    lineno,
                    format!("ipset: rename needs two names: {}", quote(trimmed)),
                ),
            },
            b"swap" | b"-W" | b"--swap" | b"w" => match (name(1), name(2)) {
                (Some(a), Some(b)) => {
                    if let (Some(x), Some(y)) = (self.sets.remove(a), self.sets.remove(b)) {
                        self.sets.insert(a.to_vec(), y);
                        self.sets.insert(b.to_vec(), x);
                    }
                }
                _ => sink.malformed(
                    lineno,
                    format!("ipset: swap needs two names: {}", quote(trimmed)),
                ),
            },
            b"test" | b"-T" | b"--test" | b"t" | b"COMMIT" | b"commit" => {}
            _ => sink.malformed(
                lineno,
                format!("ipset: not an ipset command: {}", quote(trimmed)),
            ),
        }
    }
}

impl SetState {
    /// `flush`: the set keeps its type and loses its members.
    fn flush(&mut self) {
        self.members.clear();
        self.exceptions.clear();
        self.list.clear();
    }
}

/// Whether a set type holds other sets (`list:set`, ipset 4.x `setlist`).
fn is_list_type(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"list:set") || name.eq_ignore_ascii_case(b"setlist")
}

/// Reads a whole dump into the firewall model's sets (see [`Ipsets::parse`]).
pub(crate) fn read_sets(text: &[u8]) -> Ipsets {
    struct Discard;
    impl Sink for Discard {
        fn event(&mut self, _: BanEvent) {}
        fn malformed(&mut self, _: u64, _: String) {}
    }
    let ctx = ParseCtx {
        path: Arc::from(Path::new("-")),
        reference: NaiveDateTime::default(),
        now: NaiveDateTime::default(),
    };
    let mut parser = IpsetParser::new(&ctx);
    for (n, line) in text.split(|&b| b == b'\n').enumerate() {
        parser.line(n as u64 + 1, line, &mut Discard);
    }
    let mut sets: Vec<(Vec<u8>, SetState)> = std::mem::take(&mut parser.sets).into_iter().collect();
    sets.sort_by_key(|(_, s)| s.seq);
    let mut out = Ipsets::default();
    for (name, state) in sets {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let mut members: Vec<SetMember> = state
            .members
            .into_iter()
            .map(|(net, (line, _))| SetMember {
                net,
                nomatch: false,
                line,
            })
            .chain(state.exceptions.into_iter().map(|(net, line)| SetMember {
                net,
                nomatch: true,
                line,
            }))
            .collect();
        members.sort_by_key(|m| (m.line, m.net));
        out.sets.insert(
            text(&name),
            Ipset {
                kind: text(&state.type_name),
                members,
                sets: state.list.iter().map(|s| text(s)).collect(),
            },
        );
    }
    out
}

/// `Capitalised words: value`, a header line of `ipset list`.
fn is_list_header(line: &[u8]) -> bool {
    let Some(colon) = memchr::memchr(b':', line) else {
        return false;
    };
    let key = &line[..colon];
    key.first().is_some_and(u8::is_ascii_uppercase)
        && key.iter().all(|&b| b.is_ascii_alphabetic() || b == b' ')
}

/// Reads the create options that matter: `netmask N` (`--netmask N` in ipset 4.x).
fn apply_header(state: &mut SetState, options: &[Token<'_>]) {
    let mut i = 0;
    while i < options.len() {
        let opt = &options[i];
        if !opt.quoted && matches!(&*opt.text, b"netmask" | b"--netmask") {
            state.netmask = options
                .get(i + 1)
                .and_then(|t| std::str::from_utf8(&t.text).ok())
                .and_then(|t| t.parse::<u8>().ok())
                .filter(|&n| n <= 128);
            i += 1;
        }
        i += 1;
    }
}

/// A number of seconds (ipset prints whole seconds).
fn parse_seconds(text: &[u8]) -> Option<i64> {
    if text.is_empty() || text.len() > 12 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

impl LineParser for IpsetParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if let Some((start, mut text)) = self.pending.take() {
            text.push(b'\n');
            text.extend_from_slice(line);
            if tokenize(&text).is_some() {
                self.command(start, &text, sink);
            } else if text.len() > MAX_CONTINUED {
                sink.malformed(start, "ipset: a quote is not closed".to_string());
            } else {
                self.pending = Some((start, text));
            }
            return;
        }
        if memchr::memchr(b'"', line).is_some() && tokenize(line).is_none() {
            // A comment holding a line break: the command goes on on the next line.
            self.pending = Some((lineno, line.to_vec()));
            return;
        }
        self.command(lineno, line, sink);
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if let Some((start, _)) = self.pending.take() {
            sink.malformed(
                start,
                "ipset: a quote is not closed at the end of the input".to_string(),
            );
        }
        if self.odd_timeouts > 0 {
            sink.note(format!(
                "{} members with a timeout that is not a number of seconds (read as without expiry)",
                self.odd_timeouts
            ));
        }
        let mut sets: Vec<(Vec<u8>, SetState)> =
            std::mem::take(&mut self.sets).into_iter().collect();
        sets.sort_by_key(|(_, s)| s.seq);
        for (name, state) in sets {
            if is_list_type(&state.type_name) {
                let list = String::from_utf8_lossy(&name);
                for member in &state.list {
                    sink.set_member(&list, &String::from_utf8_lossy(member));
                }
            }
            if state.kind == Kind::NoAddresses {
                continue;
            }
            let scope = String::from_utf8_lossy(&name).into_owned();
            let mut members: Vec<(IpNet, (u64, Option<NaiveDateTime>))> =
                state.members.into_iter().collect();
            // Distinct keys (a set holds a network once): the unstable sort gives the same order.
            members.sort_unstable_by_key(|(net, (line, _))| (*line, *net));
            for (net, (line, expires)) in members {
                sink.entry(net, Tool::Ipset, &mut || {
                    BanEvent::new(
                        net,
                        Tool::Ipset,
                        Format::Ipset,
                        scope.clone(),
                        Action::Listed,
                        Location::new(self.path.clone(), line),
                    )
                    .until(expires)
                });
            }
        }
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn ipset_parser() {
        use crate::formats::ipset::IpsetParser;
        use crate::formats::{LineParser, ParseCtx};

        use std::{path::Path, sync::Arc};

        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let ctx = ParseCtx {
            path: Arc::from(Path::new("ipsets")),
            reference: now,
            now,
        };
        let mut parser = IpsetParser::new(&ctx);
        let mut sink = crate::formats::test_support::Collect::default();
        let text = "create f2b-sshd hash:ip family inet hashsize 1024 maxelem 65536 timeout 600\n\
                    add f2b-sshd 104.16.0.1 timeout 545\n\
                    add f2b-sshd 192.0.2.7 timeout 0 comment \"add f2b-sshd 104.16.9.9\"\n";
        for (n, line) in text.lines().enumerate() {
            parser.line(n as u64 + 1, line.as_bytes(), &mut sink);
        }
        parser.finish(&mut sink);
        assert_eq!(sink.events.len(), 2);
        assert_eq!(sink.events[0].scope, "f2b-sshd");
        assert_eq!(
            sink.events[0].expires,
            Some(now + chrono::TimeDelta::seconds(545))
        );
        assert_eq!(sink.events[1].net.to_string(), "192.0.2.7/32");
        assert_eq!(sink.events[1].expires, None);
    }
}
