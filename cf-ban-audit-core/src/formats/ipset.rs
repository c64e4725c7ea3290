//! ipset's sets, as `ipset save` and `ipset list` print them (and as restore files hold them:
//! `/etc/iptables/ipsets`, `/etc/sysconfig/ipset`, `/etc/ipset.conf`).
//!
//! - `ipset save` (the restore format), one command a line:
//!
//!   ```text
//!   create f2b-modsec hash:ip family inet hashsize 1024 maxelem 65536 timeout 0 bucketsize 12 initval 0x36c5fb18
//!   add f2b-modsec 173.245.60.33 timeout 0
//!   add cf4 104.16.0.0/13 timeout 0 comment "hi there"
//!   ```
//!
//!   Restore files may also `del`, `flush`, `destroy`, `rename` and `swap`, and ipset 4.x files
//!   use `-N set iphash` / `-A set 10.0.0.1`; all of these are applied, so the members read are
//!   those the sets hold at the end of the file.
//! - `ipset list`: a block per set, `Name:`, `Type:`, `Header:` (the create options) and
//!   `Members:` followed by one member a line, up to a blank line:
//!
//!   ```text
//!   Name: f2b-modsec
//!   Type: hash:ip
//!   Header: family inet hashsize 1024 maxelem 65536 timeout 0 bucketsize 12 initval 0x36c5fb18
//!   Members:
//!   173.245.60.33 timeout 0
//!   ```
//!
//! A member is an address, a CIDR or an `a-b` range (split into its CIDR blocks), possibly
//! followed by more parts after commas (`1.2.3.4,tcp:80` in `hash:ip,port`, `10.0.0.0/8,eth0`
//! in `hash:net,iface`): the address part is the first. In sets created with `netmask N` a bare
//! member stands for its whole /N. `nomatch` members are exceptions and are not read; sets
//! without addresses (`bitmap:port`, `hash:mac`, `list:set`) are skipped.
//!
//! Every member becomes an [`Action::Listed`] event of [`Format::Ipset`] whose scope is the set
//! name exactly, with `expires` = now + the member's remaining `timeout` when it has one above 0.
//! Whether a set bans or allows is not decided here: rules that use it report it through
//! [`Sink::set_use`], and the aggregator keeps members as findings only
//! for ban sets.
//!
//! Comments are quoted (`comment "text"`), may hold spaces and even line breaks, and are never
//! read as members or commands: a line that ends inside a quote continues on the next one.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use chrono::{NaiveDateTime, TimeDelta};
use ipnet::{IpNet, Ipv4Net, Ipv4Subnets, Ipv6Net, Ipv6Subnets};

use super::{Format, LineParser, ParseCtx, Parser, Sink};
use crate::addr::{normalize_net, parse_ip, parse_net};
use crate::event::{Action, BanEvent, Location, Tool};

/// The most bytes a command continued over several lines (a comment holding line breaks) may
/// take; ipset comments are at most 255 bytes.
const MAX_CONTINUED: usize = 4096;

/// The longest text quoted from the input in a message.
const MAX_QUOTE: usize = 64;

fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_QUOTE)]);
    if bytes.len() > MAX_QUOTE {
        format!("{text:?}...")
    } else {
        format!("{text:?}")
    }
}

/// The smallest list of CIDR blocks that covers exactly the addresses from `first` to `last`
/// (both included). Empty when they are of different families or `first` comes after `last`.
///
/// ```
/// use cf_ban_audit_core::formats::ipset::range_nets;
/// let nets = range_nets("192.0.2.1".parse().unwrap(), "192.0.2.10".parse().unwrap());
/// let text: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
/// assert_eq!(text, ["192.0.2.1/32", "192.0.2.2/31", "192.0.2.4/30", "192.0.2.8/31", "192.0.2.10/32"]);
/// assert!(range_nets("192.0.2.9".parse().unwrap(), "192.0.2.1".parse().unwrap()).is_empty());
/// ```
pub fn range_nets(first: IpAddr, last: IpAddr) -> Vec<IpNet> {
    match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => Ipv4Subnets::new(a, b, 0)
            .map(|n: Ipv4Net| normalize_net(IpNet::V4(n)))
            .collect(),
        (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => Ipv6Subnets::new(a, b, 0)
            .map(|n: Ipv6Net| normalize_net(IpNet::V6(n)))
            .collect(),
        _ => Vec::new(),
    }
}

/// Reads an address, a CIDR or an `a-b` range into the networks it covers.
///
/// ```
/// use cf_ban_audit_core::formats::ipset::parse_nets;
/// assert_eq!(parse_nets(b"104.16.0.0/13").unwrap()[0].to_string(), "104.16.0.0/13");
/// assert_eq!(parse_nets(b"104.16.0.0-104.23.255.255").unwrap()[0].to_string(), "104.16.0.0/13");
/// assert!(parse_nets(b"tcp:80").is_none());
/// ```
pub fn parse_nets(text: &[u8]) -> Option<Vec<IpNet>> {
    if let Some(net) = parse_net(text) {
        return Some(vec![net]);
    }
    let dash = memchr::memchr(b'-', text)?;
    let first = parse_ip(&text[..dash])?;
    let last = parse_ip(&text[dash + 1..])?;
    let nets = range_nets(first, last);
    (!nets.is_empty()).then_some(nets)
}

/// Whether the name of a set type (`hash:ip`, `bitmap:port`, ipset 4.x `iphash`...) is one
/// ipset knows, and whether its members hold addresses.
fn type_kind(name: &[u8]) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    if let Some((family, dims)) = lower.split_once_byte(b':') {
        if !matches!(family, b"hash" | b"bitmap" | b"list") || dims.is_empty() {
            return None;
        }
        let first = dims.split(|&b| b == b',').next().unwrap_or_default();
        return Some(match first {
            b"ip" | b"net" => Kind::Addresses,
            _ => Kind::NoAddresses,
        });
    }
    match lower.as_slice() {
        b"iphash" | b"nethash" | b"ipmap" | b"ipporthash" | b"ipportiphash" | b"ipportnethash"
        | b"iptree" | b"iptreemap" | b"macipmap" => Some(Kind::Addresses),
        b"portmap" | b"setlist" => Some(Kind::NoAddresses),
        _ => None,
    }
}

trait SplitOnce {
    fn split_once_byte(&self, b: u8) -> Option<(&[u8], &[u8])>;
}

impl SplitOnce for [u8] {
    fn split_once_byte(&self, b: u8) -> Option<(&[u8], &[u8])> {
        let i = memchr::memchr(b, self)?;
        Some((&self[..i], &self[i + 1..]))
    }
}

/// Whether the first bytes of a file are ipset output: the first line that is not blank or a
/// `#` comment is `create NAME TYPE ...` (or ipset 4.x `-N NAME TYPE`) with a known type, or
/// `Name: NAME` followed by `Type: TYPE`.
///
/// ```
/// use cf_ban_audit_core::formats::{ipset, Format};
/// use std::path::Path;
/// let p = Path::new("ipsets");
/// assert_eq!(ipset::detect(p, b"create f2b-sshd hash:ip family inet timeout 600\n"), Some(Format::Ipset));
/// assert_eq!(ipset::detect(p, b"Name: f2b-sshd\nType: hash:ip\nRevision: 6\n"), Some(Format::Ipset));
/// assert_eq!(ipset::detect(p, b"create table users\n"), None);
/// ```
pub fn detect(_path: &Path, head: &[u8]) -> Option<Format> {
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty() && !l.starts_with(b"#"));
    let first = lines.next()?;
    let tokens: Vec<&[u8]> = first
        .split(u8::is_ascii_whitespace)
        .filter(|t| !t.is_empty())
        .collect();
    match tokens.as_slice() {
        [b"create" | b"-N", _, kind, ..] if type_kind(kind).is_some() => Some(Format::Ipset),
        [b"Name:", _] => {
            let second = lines.next()?;
            let kind = second.strip_prefix(b"Type:")?.trim_ascii();
            type_kind(kind).map(|_| Format::Ipset)
        }
        _ => None,
    }
}

/// The parser of `format` for one input.
pub fn parser(_format: Format, ctx: &ParseCtx) -> Parser {
    Parser::Lines(Box::new(IpsetParser::new(ctx)))
}

/// Whether a set's members hold addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Addresses,
    NoAddresses,
    /// A type not known (or a set never created in the file): members are read when they
    /// parse, and skipped quietly when not.
    Unknown,
}

/// One set as the file leaves it.
#[derive(Debug)]
struct SetState {
    /// Creation order, for a stable output.
    seq: u64,
    kind: Kind,
    /// `netmask N`: bare members stand for their /N.
    netmask: Option<u8>,
    /// Member network → (line, expiry).
    members: HashMap<IpNet, (u64, Option<NaiveDateTime>)>,
}

impl SetState {
    fn new(seq: u64, kind: Kind) -> Self {
        SetState {
            seq,
            kind,
            netmask: None,
            members: HashMap::new(),
        }
    }
}

/// A token of a line: its bytes and whether they were quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: Vec<u8>,
    quoted: bool,
}

/// Splits a line at white space, keeping `"..."` (which ipset uses for comments, and which
/// cannot hold a `"`) as one token. `None` when a quote is left open.
fn tokenize(line: &[u8]) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut quoted = false;
    let mut in_quote = false;
    let mut has = false;
    for &b in line {
        if in_quote {
            if b == b'"' {
                in_quote = false;
            } else {
                cur.push(b);
            }
        } else if b == b'"' {
            in_quote = true;
            quoted = true;
            has = true;
        } else if b.is_ascii_whitespace() {
            if has {
                out.push(Token {
                    text: std::mem::take(&mut cur),
                    quoted,
                });
                quoted = false;
                has = false;
            }
        } else {
            cur.push(b);
            has = true;
        }
    }
    if in_quote {
        return None;
    }
    if has {
        out.push(Token { text: cur, quoted });
    }
    Some(out)
}

/// Parser of `ipset save` / `ipset list` output (see the [module documentation](self)).
///
/// ```
/// use cf_ban_audit_core::formats::ipset::IpsetParser;
/// use cf_ban_audit_core::formats::{LineParser, ParseCtx, Sink};
/// use cf_ban_audit_core::BanEvent;
/// use std::{path::Path, sync::Arc};
///
/// struct Events(Vec<BanEvent>);
/// impl Sink for Events {
///     fn event(&mut self, e: BanEvent) { self.0.push(e) }
///     fn malformed(&mut self, _: u64, _: String) {}
/// }
///
/// let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap().and_hms_opt(12, 0, 0).unwrap();
/// let ctx = ParseCtx { path: Arc::from(Path::new("ipsets")), reference: now, now };
/// let mut parser = IpsetParser::new(&ctx);
/// let mut sink = Events(Vec::new());
/// let text = "create f2b-sshd hash:ip family inet hashsize 1024 maxelem 65536 timeout 600\n\
///             add f2b-sshd 104.16.0.1 timeout 545\n\
///             add f2b-sshd 192.0.2.7 timeout 0 comment \"add f2b-sshd 104.16.9.9\"\n";
/// for (n, line) in text.lines().enumerate() {
///     parser.line(n as u64 + 1, line.as_bytes(), &mut sink);
/// }
/// parser.finish(&mut sink);
/// assert_eq!(sink.0.len(), 2);
/// assert_eq!(sink.0[0].scope, "f2b-sshd");
/// assert_eq!(sink.0[0].expires, Some(now + chrono::TimeDelta::seconds(545)));
/// assert_eq!(sink.0[1].net.to_string(), "192.0.2.7/32");
/// assert_eq!(sink.0[1].expires, None);
/// ```
pub struct IpsetParser {
    path: Arc<Path>,
    now: NaiveDateTime,
    sets: HashMap<Vec<u8>, SetState>,
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
            now: ctx.now,
            sets: HashMap::new(),
            next_seq: 0,
            listing: None,
            in_members: false,
            pending: None,
            odd_timeouts: 0,
        }
    }

    fn set_mut(&mut self, name: &[u8], kind: Kind) -> &mut SetState {
        let seq = self.next_seq;
        let state = self
            .sets
            .entry(name.to_vec())
            .or_insert_with(|| SetState::new(seq, kind));
        if state.seq == seq {
            self.next_seq += 1;
        }
        state
    }

    /// `create NAME TYPE options` (and `Type:` + `Header:` of a listing).
    fn create(&mut self, name: &[u8], kind_name: &[u8], options: &[Token]) {
        let kind = type_kind(kind_name).unwrap_or(Kind::Unknown);
        let state = self.set_mut(name, kind);
        state.kind = kind;
        apply_header(state, options);
    }

    /// One member of a set, with its options.
    fn member(
        &mut self,
        lineno: u64,
        set: &[u8],
        tokens: &[Token],
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
            match opt.text.as_slice() {
                b"nomatch" => nomatch = true,
                b"timeout" => {
                    match options.get(i + 1).and_then(|t| parse_seconds(&t.text)) {
                        Some(0) => {}
                        Some(n) => {
                            expires = TimeDelta::try_seconds(n)
                                .and_then(|d| self.now.checked_add_signed(d))
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
        if nomatch && !remove {
            // An exception inside a network of the set: not matched, not banned.
            return;
        }
        let addr = elem.text.split(|&b| b == b',').next().unwrap_or_default();
        let nets = if elem.quoted { None } else { parse_nets(addr) };
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
        let first = tokens[0].text.as_slice();
        if tokens[0].quoted {
            sink.malformed(lineno, format!("ipset: not a command: {}", quote(trimmed)));
            return;
        }
        // `ipset list` headers.
        match first {
            b"Name:" => {
                self.in_members = false;
                match tokens.get(1) {
                    Some(name) if tokens.len() == 2 => {
                        let name = name.text.clone();
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
                        let kind_name = tokens.get(1).map(|t| t.text.clone()).unwrap_or_default();
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
        let args: Vec<Token> = tokens
            .into_iter()
            .filter(|t| t.quoted || !matches!(t.text.as_slice(), b"-exist" | b"-!"))
            .collect();
        let name = |i: usize| args.get(i).map(|t| t.text.clone());
        let Some(command) = args.first() else {
            return;
        };
        match command.text.as_slice() {
            b"create" | b"-N" | b"--create" | b"n" => match (name(1), name(2)) {
                (Some(set), Some(kind)) => self.create(&set, &kind, &args[3..]),
                _ => sink.malformed(
                    lineno,
                    format!("ipset: create without a name and type: {}", quote(trimmed)),
                ),
            },
            b"add" | b"-A" | b"--add" | b"a" | b"del" | b"-D" | b"--del" | b"d" => {
                let remove = matches!(command.text.as_slice(), b"del" | b"-D" | b"--del" | b"d");
                match name(1) {
                    Some(set) => self.member(lineno, &set, &args[2..], remove, sink),
                    None => sink.malformed(
                        lineno,
                        format!("ipset: a member without a set: {}", quote(trimmed)),
                    ),
                }
            }
            b"flush" | b"-F" | b"--flush" => match name(1) {
                Some(set) => {
                    if let Some(state) = self.sets.get_mut(&set) {
                        state.members.clear();
                    }
                }
                None => self.sets.values_mut().for_each(|s| s.members.clear()),
            },
            b"destroy" | b"-X" | b"--destroy" | b"x" => match name(1) {
                Some(set) => {
                    self.sets.remove(&set);
                }
                None => self.sets.clear(),
            },
            b"rename" | b"-E" | b"--rename" | b"e" => match (name(1), name(2)) {
                (Some(from), Some(to)) => {
                    if let Some(state) = self.sets.remove(&from) {
                        self.sets.insert(to, state);
                    }
                }
                _ => sink.malformed(
                    lineno,
                    format!("ipset: rename needs two names: {}", quote(trimmed)),
                ),
            },
            b"swap" | b"-W" | b"--swap" | b"w" => match (name(1), name(2)) {
                (Some(a), Some(b)) => {
                    if let (Some(x), Some(y)) = (self.sets.remove(&a), self.sets.remove(&b)) {
                        self.sets.insert(a, y);
                        self.sets.insert(b, x);
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
fn apply_header(state: &mut SetState, options: &[Token]) {
    let mut i = 0;
    while i < options.len() {
        let opt = &options[i];
        if !opt.quoted && matches!(opt.text.as_slice(), b"netmask" | b"--netmask") {
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
            if state.kind == Kind::NoAddresses {
                continue;
            }
            let scope = String::from_utf8_lossy(&name).into_owned();
            let mut members: Vec<(IpNet, (u64, Option<NaiveDateTime>))> =
                state.members.into_iter().collect();
            members.sort_by_key(|(net, (line, _))| (*line, *net));
            for (net, (line, expires)) in members {
                sink.event(BanEvent {
                    net,
                    tool: Tool::Ipset,
                    format: Format::Ipset,
                    scope: scope.clone(),
                    peer: None,
                    action: Action::Listed,
                    time: None,
                    expires,
                    location: Location {
                        path: self.path.clone(),
                        line,
                    },
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        events: Vec<BanEvent>,
        malformed: Vec<(u64, String)>,
        notes: Vec<String>,
    }

    impl Sink for Collect {
        fn event(&mut self, e: BanEvent) {
            self.events.push(e);
        }
        fn malformed(&mut self, line: u64, message: String) {
            self.malformed.push((line, message));
        }
        fn note(&mut self, text: String) {
            self.notes.push(text);
        }
    }

    fn now() -> NaiveDateTime {
        "2026-11-24T12:00:00".parse().unwrap()
    }

    fn run(text: &str) -> Collect {
        let ctx = ParseCtx {
            path: Arc::from(Path::new("ipsets")),
            reference: now(),
            now: now(),
        };
        let mut p = IpsetParser::new(&ctx);
        let mut sink = Collect::default();
        for (n, line) in text.split('\n').enumerate() {
            p.line(n as u64 + 1, line.as_bytes(), &mut sink);
        }
        p.finish(&mut sink);
        sink
    }

    fn members(c: &Collect) -> Vec<(String, String)> {
        c.events
            .iter()
            .map(|e| (e.scope.clone(), crate::addr::display_net(&e.net)))
            .collect()
    }

    #[test]
    fn save_format_with_timeouts_ranges_nomatch_and_ports() {
        let c = run("create a hash:ip family inet timeout 600\n\
                     add a 104.16.0.1 timeout 545\n\
                     add a 192.0.2.1 timeout 0\n\
                     create n hash:net family inet\n\
                     add n 104.16.0.0-104.16.0.255\n\
                     add n 10.1.0.0/16 nomatch\n\
                     create p hash:ip,port family inet6\n\
                     add p 2606:4700::1,tcp:80\n\
                     create ports bitmap:port range 1-1023\n\
                     add ports 22\n\
                     create macs hash:mac\n\
                     add macs aa:bb:cc:dd:ee:ff\n");
        assert!(c.malformed.is_empty(), "{:?}", c.malformed);
        assert_eq!(
            members(&c),
            [
                ("a".into(), "104.16.0.1".into()),
                ("a".into(), "192.0.2.1".into()),
                ("n".into(), "104.16.0.0/24".into()),
                ("p".into(), "2606:4700::1".into()),
            ]
        );
        assert_eq!(c.events[0].expires, Some(now() + TimeDelta::seconds(545)));
        assert_eq!(c.events[1].expires, None);
        assert!(c
            .events
            .iter()
            .all(|e| e.action == Action::Listed && e.format == Format::Ipset));
    }

    #[test]
    fn list_format_and_netmask() {
        let c = run(
            "Name: f2b-sshd\nType: hash:ip\nRevision: 6\nFuture Header: 3\n\
                     Header: family inet hashsize 1024 maxelem 65536 netmask 24 timeout 600\n\
                     Size in memory: 728\nReferences: 1\nNumber of entries: 2\nMembers:\n\
                     104.16.7.0 timeout 12\n192.0.2.0 timeout 0 comment \"x y\"\n\n\
                     Name: other\nType: list:set\nHeader: size 8\nMembers:\nf2b-sshd\n",
        );
        assert!(c.malformed.is_empty(), "{:?}", c.malformed);
        assert_eq!(
            members(&c),
            [
                ("f2b-sshd".into(), "104.16.7.0/24".into()),
                ("f2b-sshd".into(), "192.0.2.0/24".into()),
            ]
        );
    }

    #[test]
    fn comments_never_give_members_even_over_line_breaks() {
        let c = run(
            "create x hash:ip family inet hashsize 1024 maxelem 65536 timeout 300 comment\n\
                     add x 192.0.2.5 timeout 299 comment \"q\nadd x 104.16.0.1\"\n\
                     add x 192.0.2.6 timeout 0 comment \"add x 104.16.0.2 nomatch timeout\"\n\
                     Name: y\nType: hash:ip\nMembers:\n192.0.2.7 comment \"a\n104.16.0.3\"\n",
        );
        assert!(c.malformed.is_empty(), "{:?}", c.malformed);
        assert_eq!(
            members(&c),
            [
                ("x".into(), "192.0.2.5".into()),
                ("x".into(), "192.0.2.6".into()),
                ("y".into(), "192.0.2.7".into()),
            ]
        );
        assert_eq!(c.events[0].location.line, 2);
    }

    #[test]
    fn restore_commands_are_applied() {
        let c = run("create a hash:ip family inet6\nadd a 1::1\nadd a 2::2\n\
                     create b hash:ip family inet6\nadd b 3::3\nadd b 4::4\n\
                     rename a c\nswap c b\nrename c a\nadd a a::a\nadd b b::b\n\
                     del b 1::1\ncreate gone hash:ip\nadd gone 104.16.0.1\ndestroy gone\n\
                     -N old iphash --hashsize 128\n-A old 10.0.0.1\n");
        assert!(c.malformed.is_empty(), "{:?}", c.malformed);
        let mut got = members(&c);
        got.sort();
        let want: Vec<(String, String)> = [
            ("a", "3::3"),
            ("a", "4::4"),
            ("a", "a::a"),
            ("b", "2::2"),
            ("b", "b::b"),
            ("old", "10.0.0.1"),
        ]
        .iter()
        .map(|(s, a)| (s.to_string(), a.to_string()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn bad_members_are_malformed_and_odd_timeouts_noted() {
        let c = run("create a hash:ip\nadd a nothere\nadd a 10.0.0.1 timeout x\nbogus line\nadd a 10.0.0.2 comment \"open");
        assert_eq!(c.malformed.len(), 3, "{:?}", c.malformed);
        assert_eq!(members(&c), [("a".into(), "10.0.0.1".into())]);
        assert_eq!(c.notes.len(), 1);
    }

    #[test]
    fn detects_only_ipset_output() {
        let p = Path::new("x");
        assert_eq!(
            detect(
                p,
                b"# saved\n\n-N test iphash --hashsize 128\n-A test 10.0.0.0\n"
            ),
            Some(Format::Ipset)
        );
        assert_eq!(
            detect(p, b"Name: x\nType: bitmap:port\n"),
            Some(Format::Ipset)
        );
        assert_eq!(detect(p, b"Name: x\nAge: 3\n"), None);
        assert_eq!(detect(p, b"*filter\n:INPUT ACCEPT [0:0]\n"), None);
        assert_eq!(detect(p, b"create x hash:foo\n"), Some(Format::Ipset));
        assert_eq!(detect(p, b"create x fish:ip\n"), None);
    }

    #[test]
    fn ranges_split_into_blocks() {
        let v6 = range_nets(
            "2606:4700::".parse().unwrap(),
            "2606:4700:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap(),
        );
        assert_eq!(v6.len(), 1);
        assert_eq!(v6[0].to_string(), "2606:4700::/32");
        assert_eq!(
            range_nets(
                "0.0.0.0".parse().unwrap(),
                "255.255.255.255".parse().unwrap()
            )
            .len(),
            1
        );
        assert!(range_nets("1.2.3.4".parse().unwrap(), "::1".parse().unwrap()).is_empty());
        assert!(parse_nets(b"1.2.3.4-").is_none());
        assert!(parse_nets(b"-").is_none());
    }

    #[test]
    fn never_panics_on_shuffled_pieces() {
        let pieces = [
            "create ",
            "add ",
            "del ",
            "flush ",
            "destroy ",
            "rename ",
            "swap ",
            "-N ",
            "-A ",
            "s ",
            "t ",
            "hash:ip ",
            "hash:net,port ",
            "list:set ",
            "bitmap:port ",
            "104.16.0.1",
            "/24",
            ",tcp:80",
            "-",
            "104.16.0.9",
            "timeout ",
            "5 ",
            "x ",
            "netmask ",
            "24 ",
            "comment ",
            "\"",
            "nomatch ",
            "Name: s",
            "Type: hash:ip",
            "Header: family inet netmask 200",
            "Members:",
            "-exist ",
            "\n",
            "\n",
            " ",
            "é",
            "\u{0}",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..300 {
            let mut text = String::new();
            for _ in 0..200 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let _ = run(&text);
        }
    }
}
