//! ConfigServer Security & Firewall (CSF) and its Login Failure Daemon (LFD), read as csf
//! itself reads them (`csf.pl` `linefilter`, `ConfigServer::CheckIP::checkip`, `lfd.pl`
//! `ipblock`/`ipunblock`, Aetherinox/csf-firewall):
//!
//! - `/etc/csf/csf.deny` ([`Format::CsfDeny`]): one entry a line, its first white-space
//!   separated token. An address or CIDR (IPv4 or IPv6; `127.0.0.1` and `::1` are refused by
//!   csf) is dropped in both directions; an advanced rule `proto|in|d=PORT|s=ADDR` drops
//!   incoming packets from `ADDR` to `PORT`. Advanced rules that name no source (`d=ADDR`: a
//!   local destination; `out`: the host's own outgoing packets; `u=`/`g=` owner rules) ban
//!   nobody. `#` comments, and csf skips any line that holds the word `Include`.
//!   `Include /path` (at the start of a line) reads another file as more lines of the list:
//!   followed when it is a regular file, its entries reported with its own path and line
//!   numbers; a relative path is taken from the directory of the including file; loops and
//!   missing files are noted, never fatal (csf skips a missing file too). Every entry is
//!   [`Action::Listed`] with scope `csf.deny`; its time is the date csf and lfd append to the
//!   comment (`# lfd: (sshd) ... - Thu Oct 30 06:27:30 2025`).
//! - `/var/lib/csf/csf.tempban` ([`Format::CsfTempban`]): `time|ip|port|inout|timeout|message`,
//!   an [`Action::Listed`] entry (scope `csf.tempban`) from `time` (epoch, turned into local
//!   time) until `time + timeout`, when the block drops incoming packets (`inout` holds `in`).
//! - `lfd.log` lines (syslog tag `lfd`, read by [`super::syslog`] through [`lfd_message`]):
//!   `MESSAGE - *Blocked in csf* [TRIGGER]` (permanent), `... port=N [TRIGGER]` (permanent, one
//!   port) and `... for N secs [TRIGGER]` (temporary) are [`Action::Ban`]s with scope = the
//!   trigger; `Incoming IP ADDR[:PORT] temporary block removed` is an [`Action::Unban`].
//!
//! lfd's messages quote attacker-controlled text: the reverse DNS name of the address (in the
//! parentheses after it) and account names. The address is therefore found by the structure
//! lfd gives each message, never by searching: the block marker must end the line, and the
//! address is where lfd's template puts it (for login failures, just before the trailing
//! `: N in the last N secs`, read from the end of the line).

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeDelta};
use ipnet::IpNet;

use super::{Format, LineParser, ParseCtx, Parser, Sink};
use crate::addr::{host_net, parse_ip, parse_net};
use crate::event::{Action, BanEvent, Location, Tool};
use crate::purpose::{purpose_from_name, Purpose};

/// The scope of `csf.deny` entries.
pub const DENY_SCOPE: &str = "csf.deny";
/// The scope of `csf.tempban` entries.
pub const TEMPBAN_SCOPE: &str = "csf.tempban";
/// How deep `Include`s may nest.
const MAX_INCLUDE_DEPTH: usize = 16;
/// The marker lfd puts after every block message.
const BLOCK_MARK: &[u8] = b" - *Blocked in csf*";

/// Decides whether a file is `csf.deny` or `csf.tempban`, from its name (also when it ends
/// with it: `old-csf.deny`) or else from its first bytes: a `csf.tempban` line, or an entry
/// with a comment only csf writes (`# lfd: ...`, `# do not delete`).
///
/// ```
/// use cf_ban_audit_core::formats::{csf, Format};
/// use std::path::Path;
/// assert_eq!(csf::detect(Path::new("/etc/csf/csf.deny"), b""), Some(Format::CsfDeny));
/// let deny = b"104.16.0.1 # lfd: (sshd) Failed SSH login from 104.16.0.1 (US/United States/-): 5 in the last 3600 secs - Thu Oct 30 06:27:30 2025\n";
/// assert_eq!(csf::detect(Path::new("/backup/deny-list"), deny), Some(Format::CsfDeny));
/// let temp = b"1700000000|192.0.2.1|22|in|3600|lfd - (sshd) Failed SSH login\n";
/// assert_eq!(csf::detect(Path::new("/backup/tempban"), temp), Some(Format::CsfTempban));
/// assert_eq!(csf::detect(Path::new("/var/lib/csf/csf.tempallow"), temp), None);
/// ```
pub fn detect(path: &Path, head: &[u8]) -> Option<Format> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    // `csf.deny`, and copies named after it (`old-csf.deny`, `host1_csf.deny`).
    if name.ends_with("csf.deny") {
        return Some(Format::CsfDeny);
    }
    if name.ends_with("csf.tempban") {
        return Some(Format::CsfTempban);
    }
    // csf.allow, csf.ignore, csf.tempallow share these shapes but allow.
    if purpose_from_name(name) == Purpose::Allow {
        return None;
    }
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty());
    let first = lines.next()?;
    if parse_tempban_line(first).is_some() {
        return Some(Format::CsfTempban);
    }
    std::iter::once(first)
        .chain(lines)
        .take(40)
        .any(looks_like_csf_entry)
        .then_some(Format::CsfDeny)
}

/// An entry line with a comment only csf and lfd write: `ADDR # lfd: ...` or `... # do not
/// delete`.
fn looks_like_csf_entry(line: &[u8]) -> bool {
    let (token, comment) = split_token(line);
    let comment = comment.trim_ascii();
    let Some(text) = comment.strip_prefix(b"#") else {
        return false;
    };
    let csf_comment = text.trim_ascii_start().starts_with(b"lfd: ")
        || text
            .to_ascii_lowercase()
            .windows(13)
            .any(|w| w == b"do not delete");
    let lower = token.to_ascii_lowercase();
    csf_comment
        && (check_ip(&lower).is_some()
            || (lower.contains(&b'|') && (contains(&lower, b"s=") || contains(&lower, b"d="))))
}

/// The parser of `format` for one input.
pub fn parser(format: Format, ctx: &ParseCtx) -> Parser {
    match format {
        Format::CsfTempban => Parser::Lines(Box::new(CsfTempbanParser::new(ctx))),
        _ => Parser::Lines(Box::new(CsfDenyParser::new(ctx))),
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

/// Splits a line at its first white space: csf's `split(/\s/, $line, 2)`.
fn split_token(line: &[u8]) -> (&[u8], &[u8]) {
    match line.iter().position(u8::is_ascii_whitespace) {
        Some(i) => (&line[..i], &line[i..]),
        None => (line, &[]),
    }
}

/// csf's `checkip`: an IPv4 or IPv6 address with an optional `/prefix` (1 to 32 or 128, or
/// `0`, which csf lets through), never `127.0.0.1` or `::1`.
fn check_ip(token: &[u8]) -> Option<IpNet> {
    let (ip_text, prefix) = match memchr::memchr(b'/', token) {
        Some(i) => (&token[..i], Some(&token[i + 1..])),
        None => (token, None),
    };
    let ip = parse_ip(ip_text)?;
    if let Some(prefix) = prefix {
        if prefix.is_empty() || !prefix.iter().all(u8::is_ascii_digit) {
            return None;
        }
    }
    match ip {
        std::net::IpAddr::V4(v4) if v4 == std::net::Ipv4Addr::new(127, 0, 0, 1) => None,
        std::net::IpAddr::V6(v6) if v6 == std::net::Ipv6Addr::LOCALHOST => None,
        _ => parse_net(token),
    }
}

/// What one line of `csf.deny` holds, read as csf reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyLine<'a> {
    /// Blank, a comment, or a line csf skips (one holding `Include` that is not an include).
    Skip,
    /// `Include PATH`: csf reads the file as more lines of the list.
    Include(&'a [u8]),
    /// The line bans this source: an address or CIDR, or an advanced rule `...|in|...|s=ADDR`.
    Ban {
        /// The banned address or network.
        net: IpNet,
        /// When the entry was added, from the date csf appends to the comment.
        time: Option<NaiveDateTime>,
    },
    /// A rule that bans no source: outgoing, on a local destination, or by user or group.
    NoSource,
    /// Something csf cannot read either (a host name, a bad address) and skips.
    Unreadable(String),
}

/// Reads one line of `csf.deny` (or of a file it includes).
///
/// ```
/// use cf_ban_audit_core::formats::csf::{parse_deny_line, DenyLine};
/// let DenyLine::Ban { net, time } = parse_deny_line(b"158.173.23.58 # lfd: (smtpauth) Failed SMTP AUTH login from 158.173.23.58 (GB/United Kingdom/-): 5 in the last 3600 secs - Thu Oct 30 06:27:30 2025") else { panic!() };
/// assert_eq!((net.to_string(), time.unwrap().to_string()), ("158.173.23.58/32".into(), "2025-10-30 06:27:30".into()));
/// assert!(matches!(parse_deny_line(b"tcp|in|d=443|s=104.16.0.0/13"), DenyLine::Ban { .. }));
/// assert_eq!(parse_deny_line(b"tcp|out|d=25|d=104.16.0.1"), DenyLine::NoSource);
/// assert_eq!(parse_deny_line(b"# 104.16.0.1"), DenyLine::Skip);
/// assert_eq!(parse_deny_line(b"Include /etc/csf/csf.mydeny"), DenyLine::Include(b"/etc/csf/csf.mydeny"));
/// ```
pub fn parse_deny_line(raw: &[u8]) -> DenyLine<'_> {
    // csf follows `^Include\s*(.*)$` on the raw line, before trimming it.
    if let Some(rest) = raw.strip_prefix(b"Include") {
        let target = rest.trim_ascii();
        return if target.is_empty() {
            DenyLine::Unreadable("Include without a file".into())
        } else {
            DenyLine::Include(target)
        };
    }
    let line = raw.trim_ascii();
    if line.is_empty() || line.starts_with(b"#") || contains(line, b"Include") {
        return DenyLine::Skip;
    }
    let (token, comment) = split_token(line);
    let time = comment_time(comment);
    let lower = token.to_ascii_lowercase();
    if let Some(net) = check_ip(&lower) {
        return DenyLine::Ban { net, time };
    }
    if lower.contains(&b'|') || lower.contains(&b':') {
        return advanced_rule(&lower, time);
    }
    DenyLine::Unreadable(format!(
        "not an address (csf skips host names): {:?}",
        String::from_utf8_lossy(token)
    ))
}

/// The text after the first `key` in a field (`/d=(.*)/`).
fn after<'a>(field: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    memchr::memmem::find(field, key).map(|i| &field[i + key.len()..])
}

/// csf's advanced filter `[tcp|udp|icmp|][in|out|](d|s)=PORT|(d|s)=ADDR[|u=UID|g=GID]`
/// (`linefilter` in csf.pl; the old `:` separator is read as `|`), already lower-cased.
fn advanced_rule(lower: &[u8], time: Option<NaiveDateTime>) -> DenyLine<'static> {
    let owned: Vec<u8>;
    let text = if lower.contains(&b'|') {
        lower
    } else {
        owned = lower
            .iter()
            .map(|&b| if b == b':' { b'|' } else { b })
            .collect();
        &owned
    };
    let fields: Vec<&[u8]> = text.split(|&b| b == b'|').collect();
    let field = |x: usize| -> &[u8] { fields.get(x).copied().unwrap_or(&[]) };
    let mut from = usize::from(matches!(field(0), b"tcp" | b"udp" | b"icmp"));
    let mut inout: &[u8] = b"";
    for x in from..2 {
        if matches!(field(x), b"out" | b"in") {
            inout = field(x);
            from = x + 1;
            break;
        }
    }
    let mut port = false;
    for x in from..3 {
        if after(field(x), b"d=").is_some() || after(field(x), b"s=").is_some() {
            port = true;
            from = x + 1;
            break;
        }
    }
    let (mut source, mut destination, mut bad) = (None, false, None);
    for x in from..4 {
        if let Some(addr) = after(field(x), b"d=") {
            match check_ip(addr) {
                Some(_) => destination = true,
                None => bad = Some(addr),
            }
            break;
        }
        if let Some(addr) = after(field(x), b"s=") {
            match check_ip(addr) {
                Some(net) => source = Some(net),
                None => bad = Some(addr),
            }
            break;
        }
    }
    let owner =
        (from..5).any(|x| after(field(x), b"u=").is_some() || after(field(x), b"g=").is_some());
    if owner {
        return DenyLine::NoSource;
    }
    if (source.is_some() || destination) && port {
        return match source {
            Some(net) if matches!(inout, b"" | b"in") => DenyLine::Ban { net, time },
            _ => DenyLine::NoSource,
        };
    }
    match bad {
        Some(addr) => DenyLine::Unreadable(format!(
            "advanced rule with a bad address {:?} (csf skips it)",
            String::from_utf8_lossy(addr)
        )),
        None => DenyLine::Unreadable(
            "advanced rule without both a port and an address (csf applies nothing)".into(),
        ),
    }
}

/// The date csf and lfd append to a comment: `# ... - Thu Oct 30 06:27:30 2025`.
fn comment_time(comment: &[u8]) -> Option<NaiveDateTime> {
    let comment = comment.trim_ascii();
    comment.strip_prefix(b"#")?;
    let dash = memchr::memmem::rfind(comment, b" - ")?;
    parse_localtime(comment[dash + 3..].trim_ascii())
}

const WEEKDAYS: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn number(b: &[u8]) -> Option<u64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Perl's scalar `localtime`: `Thu Oct 30 06:27:30 2025` (the day padded with a space).
fn parse_localtime(b: &[u8]) -> Option<NaiveDateTime> {
    if b.len() != 24 || b[3] != b' ' || b[7] != b' ' || b[10] != b' ' || b[19] != b' ' {
        return None;
    }
    if !WEEKDAYS.iter().any(|d| &b[..3] == *d) || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let month = MONTHS.iter().position(|m| &b[4..7] == *m)? as u32 + 1;
    let num = |r: std::ops::Range<usize>| {
        number(b[r].trim_ascii_start()).and_then(|n| u32::try_from(n).ok())
    };
    NaiveDate::from_ymd_opt(i32::try_from(num(20..24)?).ok()?, month, num(8..10)?)?.and_hms_opt(
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    )
}

/// The parser of `csf.deny` and of the files it includes.
pub struct CsfDenyParser {
    path: Arc<Path>,
    /// The files read so far (canonical paths), so that an `Include` loop ends.
    read: HashSet<PathBuf>,
}

impl CsfDenyParser {
    /// A parser for one `csf.deny`.
    pub fn new(ctx: &ParseCtx) -> Self {
        let mut read = HashSet::new();
        if let Ok(canonical) = std::fs::canonicalize(&ctx.path) {
            read.insert(canonical);
        }
        CsfDenyParser {
            path: ctx.path.clone(),
            read,
        }
    }
}

impl LineParser for CsfDenyParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let path = self.path.clone();
        deny_line(&mut self.read, 0, &path, lineno, line, sink);
    }
}

fn deny_line(
    read: &mut HashSet<PathBuf>,
    depth: usize,
    path: &Arc<Path>,
    lineno: u64,
    line: &[u8],
    sink: &mut dyn Sink,
) {
    match parse_deny_line(line) {
        DenyLine::Skip | DenyLine::NoSource => {}
        DenyLine::Include(target) => include(read, depth, path, lineno, target, sink),
        DenyLine::Ban { net, time } => sink.event(BanEvent {
            net,
            tool: Tool::Csf,
            format: Format::CsfDeny,
            scope: DENY_SCOPE.into(),
            peer: None,
            action: Action::Listed,
            time,
            expires: None,
            location: Location {
                path: path.clone(),
                line: lineno,
            },
        }),
        DenyLine::Unreadable(message) => {
            sink.malformed(lineno, format!("{}:{lineno}: {message}", path.display()))
        }
    }
}

/// Reads the file an `Include` names, as more lines of `csf.deny`.
fn include(
    read: &mut HashSet<PathBuf>,
    depth: usize,
    from: &Arc<Path>,
    lineno: u64,
    target: &[u8],
    sink: &mut dyn Sink,
) {
    let shown = String::from_utf8_lossy(target);
    let place = format!("{}:{lineno}: Include {shown}", from.display());
    let Ok(text) = std::str::from_utf8(target) else {
        sink.note(format!("{place}: not a UTF-8 path, not read"));
        return;
    };
    let mut path = PathBuf::from(text);
    if path.is_relative() {
        if let Some(dir) = from.parent() {
            path = dir.join(path);
        }
    }
    if depth >= MAX_INCLUDE_DEPTH {
        sink.note(format!("{place}: Includes nested too deep, not read"));
        return;
    }
    match std::fs::metadata(&path) {
        Err(_) => {
            sink.note(format!("{place}: no such file (csf skips it too)"));
            return;
        }
        Ok(meta) if !meta.is_file() => {
            sink.note(format!("{place}: not a regular file, not read"));
            return;
        }
        Ok(_) => {}
    }
    let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    if !read.insert(canonical) {
        sink.note(format!(
            "{place}: already read (an Include loop?), not read again"
        ));
        return;
    }
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            sink.note(format!("{place}: {e}"));
            return;
        }
    };
    let included: Arc<Path> = Arc::from(path.as_path());
    let result = crate::lines::for_each_line(&mut file, |n, l| {
        deny_line(&mut *read, depth + 1, &included, n, l, &mut *sink)
    });
    if let Err((e, n)) = result {
        sink.note(format!("{}:{n}: read error: {e}", included.display()));
    }
}

/// One line of `csf.tempban`: `time|ip|port|inout|timeout|message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TempbanEntry<'a> {
    /// When the block began (seconds since the epoch).
    pub time: i64,
    /// The blocked address, as written.
    pub ip: &'a [u8],
    /// The ports (`22`, `22,80`, `53;udp`), empty for all.
    pub port: &'a [u8],
    /// `in`, `out` or `inout`.
    pub inout: &'a [u8],
    /// How long the block lasts, in seconds.
    pub timeout: u64,
    /// Why (`lfd - (sshd) Failed SSH login ...`).
    pub message: &'a [u8],
}

/// Reads one line of `csf.tempban` (or `csf.tempallow`, which has the same shape).
///
/// ```
/// use cf_ban_audit_core::formats::csf::parse_tempban_line;
/// let e = parse_tempban_line(b"1700000000|192.0.2.1|22|in|3600|lfd - (sshd) Failed SSH login").unwrap();
/// assert_eq!((e.time, e.ip, e.inout, e.timeout), (1700000000, &b"192.0.2.1"[..], &b"in"[..], 3600));
/// assert!(parse_tempban_line(b"192.0.2.1|1|1700000000|message").is_none());
/// ```
pub fn parse_tempban_line(line: &[u8]) -> Option<TempbanEntry<'_>> {
    let mut fields = line.trim_ascii().splitn(6, |&b| b == b'|');
    let time = fields.next()?;
    let ip = fields.next()?;
    let port = fields.next()?;
    let inout = fields.next()?;
    let timeout = fields.next()?;
    let message = fields.next().unwrap_or(b"");
    if !(1..=12).contains(&time.len()) || !(1..=12).contains(&timeout.len()) {
        return None;
    }
    if ip.is_empty() || !matches!(inout, b"in" | b"out" | b"inout") {
        return None;
    }
    Some(TempbanEntry {
        time: i64::try_from(number(time)?).ok()?,
        ip,
        port,
        inout,
        timeout: number(timeout)?,
        message,
    })
}

/// Seconds since the epoch as host-local wall-clock time.
fn local_time(secs: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp(secs, 0).map(|t| t.with_timezone(&Local).naive_local())
}

fn plus_secs(time: NaiveDateTime, secs: u64) -> Option<NaiveDateTime> {
    time.checked_add_signed(TimeDelta::try_seconds(i64::try_from(secs).ok()?)?)
}

/// The parser of `csf.tempban`.
pub struct CsfTempbanParser {
    path: Arc<Path>,
}

impl CsfTempbanParser {
    /// A parser for one `csf.tempban`.
    pub fn new(ctx: &ParseCtx) -> Self {
        CsfTempbanParser {
            path: ctx.path.clone(),
        }
    }
}

impl LineParser for CsfTempbanParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if line.trim_ascii().is_empty() {
            return;
        }
        let Some(entry) = parse_tempban_line(line) else {
            sink.malformed(
                lineno,
                "not a csf.tempban line (time|ip|port|inout|timeout|message)".into(),
            );
            return;
        };
        // Outgoing-only blocks stop the host's own connections, not a source.
        if !contains(entry.inout, b"in") {
            return;
        }
        let Some(net) = check_ip(&entry.ip.to_ascii_lowercase()) else {
            sink.malformed(
                lineno,
                format!("not an address: {:?}", String::from_utf8_lossy(entry.ip)),
            );
            return;
        };
        let time = local_time(entry.time);
        sink.event(BanEvent {
            net,
            tool: Tool::Csf,
            format: Format::CsfTempban,
            scope: TEMPBAN_SCOPE.into(),
            peer: None,
            action: Action::Listed,
            time,
            expires: time.and_then(|t| plus_secs(t, entry.timeout)),
            location: Location {
                path: self.path.clone(),
                line: lineno,
            },
        });
    }
}

/// A block that lfd logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LfdBlock<'a> {
    /// The blocked address or network, as written.
    pub addr: &'a [u8],
    /// What triggered it (`LF_SSHD`, `PS_LIMIT`, `LF_CUSTOMTRIGGER`, ...).
    pub trigger: &'a [u8],
    /// For a temporary block, its length in seconds; `None` for a permanent one.
    pub secs: Option<u64>,
}

/// Leading decimal digits (1 to 15) and the rest.
fn lead_digits(b: &[u8]) -> Option<(u64, &[u8])> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 15 {
        return None;
    }
    Some((number(&b[..n])?, &b[n..]))
}

/// Strips trailing decimal digits (at least one).
fn strip_trailing_digits(b: &[u8]) -> Option<&[u8]> {
    let n = b.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    (n > 0).then(|| &b[..b.len() - n])
}

/// The address that starts `tok` (lfd's `$tip` is `ADDR` or `ADDR (lookup)`), allowing one
/// trailing `,`, `.` or `:` where lfd's template follows it with punctuation.
fn address_token(tok: &[u8]) -> Option<&[u8]> {
    if tok.is_empty() {
        return None;
    }
    if parse_net(tok).is_some() {
        return Some(tok);
    }
    let cut = &tok[..tok.len() - 1];
    (matches!(tok[tok.len() - 1], b',' | b'.' | b':') && parse_net(cut).is_some()).then_some(cut)
}

/// The first token of `s`, when it is an address.
fn tip_at_start(s: &[u8]) -> Option<&[u8]> {
    let end = memchr::memchr(b' ', s).unwrap_or(s.len());
    address_token(&s[..end])
}

/// The address of a `$tip` that ends `s`: `ADDR` or `ADDR (lookup)`. The lookup's host name
/// is the attacker's, but it holds no space, so the right `(` is the last ` (` preceded by an
/// address.
fn tip_at_end(s: &[u8]) -> Option<&[u8]> {
    if !s.ends_with(b")") {
        let start = memchr::memrchr(b' ', s).map_or(0, |i| i + 1);
        return address_token(&s[start..]);
    }
    let mut end = s.len();
    while let Some(open) = memchr::memmem::rfind(&s[..end], b" (") {
        let start = memchr::memrchr(b' ', &s[..open]).map_or(0, |i| i + 1);
        let tok = &s[start..open];
        if !tok.is_empty() && parse_net(tok).is_some() {
            return Some(tok);
        }
        end = open;
    }
    None
}

/// For a login-failure block (`($apps) $failtext $tip: $count in the last $secs secs`, with
/// ` (CF_ENABLE)` when the block went to Cloudflare too): the text before `: $count`.
fn failure_prefix(body: &[u8]) -> Option<&[u8]> {
    let b = body.strip_suffix(b" (CF_ENABLE)").unwrap_or(body);
    let b = b.strip_suffix(b" secs")?;
    let b = strip_trailing_digits(b)?.strip_suffix(b" in the last ")?;
    strip_trailing_digits(b)?.strip_suffix(b": ")
}

/// For `$app - $n logins in $secs secs from $tip for $account exceeds $rate/hour`: the text
/// after `from `.
fn after_logins(body: &[u8]) -> Option<&[u8]> {
    let dash = memchr::memmem::find(body, b" - ")?;
    if body[..dash].contains(&b' ') {
        return None;
    }
    let (_, rest) = lead_digits(&body[dash + 3..])?;
    let (_, rest) = lead_digits(rest.strip_prefix(b" logins in ")?)?;
    rest.strip_prefix(b" secs from ")
}

/// Where lfd's templates put the blocked address.
fn blocked_address(body: &[u8]) -> Option<&[u8]> {
    if let Some(prefix) = failure_prefix(body) {
        return tip_at_end(prefix);
    }
    for lead in [
        &b"(PERMBLOCK) "[..],
        b"(NETBLOCK) ",
        b"(CT) IP ",
        b"(CT) subnet ",
        b"*Port Scan* detected from ",
    ] {
        if let Some(rest) = body.strip_prefix(lead) {
            return tip_at_start(rest);
        }
    }
    if let Some(rest) = after_logins(body) {
        return tip_at_start(rest);
    }
    // `$tip, N distributed ...`, `$tip, more than N Apache 404 hits ...`,
    // `$tip RELAY limit exceeded`.
    tip_at_start(body)
}

/// Reads an lfd block message (`... - *Blocked in csf* [LF_SSHD]`, `... for 3600 secs
/// [PS_LIMIT]`, `... port=22 [LF_SSHD]`).
///
/// ```
/// use cf_ban_audit_core::formats::csf::parse_lfd_block;
/// let b = parse_lfd_block(b"(sshd) Failed SSH login from 93.108.242.140 (PT/Portugal/140.242.108.93.rev.vodafone.pt): 5 in the last 300 secs - *Blocked in csf* [LF_SSHD]").unwrap();
/// assert_eq!((b.addr, b.trigger, b.secs), (&b"93.108.242.140"[..], &b"LF_SSHD"[..], None));
/// let p = parse_lfd_block(b"*Port Scan* detected from 198.51.100.4 (US/United States/-). 16 hits in the last 161 seconds - *Blocked in csf* for 3600 secs [PS_LIMIT]").unwrap();
/// assert_eq!((p.addr, p.secs), (&b"198.51.100.4"[..], Some(3600)));
/// // a reverse DNS name cannot make itself the blocked address
/// let f = parse_lfd_block(b"(sshd) Failed SSH login from 203.0.113.7 (US/United States/104.16.0.1): 5 in the last 300 secs - *Blocked in csf* [LF_SSHD]").unwrap();
/// assert_eq!(f.addr, b"203.0.113.7");
/// ```
pub fn parse_lfd_block(message: &[u8]) -> Option<LfdBlock<'_>> {
    let msg = message.trim_ascii_end();
    let at = memchr::memmem::rfind(msg, BLOCK_MARK)?;
    let mut tail = &msg[at + BLOCK_MARK.len()..];
    let mut secs = None;
    if let Some(rest) = tail.strip_prefix(b" for ") {
        let (n, rest) = lead_digits(rest)?;
        tail = rest.strip_prefix(b" secs")?;
        secs = Some(n);
    } else if let Some(rest) = tail.strip_prefix(b" port=") {
        tail = lead_digits(rest)?.1;
    }
    let trigger = tail.strip_prefix(b" [")?.strip_suffix(b"]")?;
    if trigger.is_empty()
        || trigger.len() > 64
        || !trigger
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return None;
    }
    let addr = blocked_address(&msg[..at])?;
    Some(LfdBlock {
        addr,
        trigger,
        secs,
    })
}

/// Reads lfd's unblock message `Incoming IP ADDR temporary block removed` (`ADDR:PORT` for a
/// block of some ports); returns the `ADDR[:PORT]` token.
///
/// ```
/// use cf_ban_audit_core::formats::csf::parse_lfd_unblock;
/// assert_eq!(parse_lfd_unblock(b"Incoming IP 192.0.2.1 temporary block removed"), Some(&b"192.0.2.1"[..]));
/// assert_eq!(parse_lfd_unblock(b"Outgoing IP 192.0.2.1 temporary block removed"), None);
/// ```
pub fn parse_lfd_unblock(message: &[u8]) -> Option<&[u8]> {
    let token = message
        .trim_ascii_end()
        .strip_prefix(b"Incoming IP ")?
        .strip_suffix(b" temporary block removed")?;
    (!token.is_empty() && !token.contains(&b' ')).then_some(token)
}

/// The addresses an unblock token may mean: `ADDR`, or `ADDR:PORT` (for IPv6 both readings,
/// since lfd writes `2001:db8::1:22` for port 22 of `2001:db8::1`).
fn unblock_nets(token: &[u8]) -> Vec<IpNet> {
    let mut nets = Vec::with_capacity(2);
    if let Some(net) = parse_net(token) {
        nets.push(net);
    }
    if let Some(colon) = memchr::memrchr(b':', token) {
        let port = &token[colon + 1..];
        if (1..=5).contains(&port.len()) && port.iter().all(u8::is_ascii_digit) {
            if let Some(ip) = parse_ip(&token[..colon]) {
                nets.push(host_net(ip));
            }
        }
    }
    nets.dedup();
    nets
}

/// Reads the message of a syslog line tagged `lfd` (lfd.log: `... *Blocked in csf* ...`,
/// `Incoming IP X temporary block removed`), with the line's time and place.
///
/// A block is an [`Action::Ban`] scoped by its trigger, expiring after its length when it is
/// temporary. An unblock is an [`Action::Unban`] with an empty scope: lfd does not say which
/// trigger the lifted block came from (temporary blocks expire by themselves anyway).
///
/// ```
/// use cf_ban_audit_core::formats::{csf, Format, Sink};
/// use cf_ban_audit_core::{BanEvent, Location};
/// struct Events(Vec<BanEvent>);
/// impl Sink for Events {
///     fn event(&mut self, e: BanEvent) { self.0.push(e) }
///     fn malformed(&mut self, _: u64, _: String) {}
/// }
/// let mut sink = Events(Vec::new());
/// let location = Location { path: std::sync::Arc::from(std::path::Path::new("lfd.log")), line: 1 };
/// let time = "2026-11-24T03:00:00".parse().ok();
/// csf::lfd_message(b"(CT) IP 104.16.0.9 (US/United States/-) found to have 300 connections - *Blocked in csf* for 1800 secs [CT_LIMIT]", time, location, Format::Syslog, &mut sink);
/// let e = &sink.0[0];
/// assert_eq!((e.net.to_string(), e.scope.as_str()), ("104.16.0.9/32".into(), "CT_LIMIT"));
/// assert_eq!(e.expires.unwrap().to_string(), "2026-11-24 03:30:00");
/// ```
pub fn lfd_message(
    message: &[u8],
    time: Option<chrono::NaiveDateTime>,
    location: crate::event::Location,
    format: Format,
    sink: &mut dyn Sink,
) {
    if contains(message, b"*Blocked in csf*") {
        let Some(block) = parse_lfd_block(message) else {
            sink.malformed(
                location.line,
                "lfd block message in a form lfd does not write".into(),
            );
            return;
        };
        let Some(net) = parse_net(block.addr) else {
            return;
        };
        sink.event(BanEvent {
            net,
            tool: Tool::Csf,
            format,
            scope: String::from_utf8_lossy(block.trigger).into_owned(),
            peer: None,
            action: Action::Ban,
            time,
            expires: block
                .secs
                .and_then(|secs| time.and_then(|t| plus_secs(t, secs))),
            location,
        });
    } else if let Some(token) = parse_lfd_unblock(message) {
        for net in unblock_nets(token) {
            sink.event(BanEvent {
                net,
                tool: Tool::Csf,
                format,
                scope: String::new(),
                peer: None,
                action: Action::Unban,
                time,
                expires: None,
                location: location.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        events: Vec<BanEvent>,
        malformed: Vec<u64>,
        notes: Vec<String>,
    }

    impl Sink for Collect {
        fn event(&mut self, event: BanEvent) {
            self.events.push(event);
        }
        fn malformed(&mut self, line: u64, _message: String) {
            self.malformed.push(line);
        }
        fn note(&mut self, text: String) {
            self.notes.push(text);
        }
    }

    fn ban(line: &str) -> Option<String> {
        match parse_deny_line(line.as_bytes()) {
            DenyLine::Ban { net, .. } => Some(net.to_string()),
            _ => None,
        }
    }

    fn block(msg: &str) -> Option<(String, String, Option<u64>)> {
        parse_lfd_block(msg.as_bytes()).map(|b| {
            (
                String::from_utf8_lossy(b.addr).into_owned(),
                String::from_utf8_lossy(b.trigger).into_owned(),
                b.secs,
            )
        })
    }

    fn ctx(path: &Path) -> ParseCtx {
        let now = NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        ParseCtx {
            path: Arc::from(path),
            reference: now,
            now,
        }
    }

    #[test]
    fn deny_entries_as_csf_reads_them() {
        assert_eq!(ban("104.16.0.1").as_deref(), Some("104.16.0.1/32"));
        assert_eq!(
            ban("  104.16.0.0/13\t# do not delete").as_deref(),
            Some("104.16.0.0/13")
        );
        assert_eq!(
            ban("2606:4700::/32 # manual - Mon Nov  3 10:00:00 2025").as_deref(),
            Some("2606:4700::/32")
        );
        assert_eq!(
            ban("TCP|IN|D=443|S=104.16.0.0/12").as_deref(),
            Some("104.16.0.0/12")
        );
        assert_eq!(
            ban("tcp|in|d=22,443|s=0.0.0.0/0").as_deref(),
            Some("0.0.0.0/0")
        );
        assert_eq!(
            ban("udp|s=53|s=104.16.0.2").as_deref(),
            Some("104.16.0.2/32")
        );
        assert_eq!(ban("d=80|s=104.16.0.3").as_deref(), Some("104.16.0.3/32"));
        assert_eq!(
            ban("tcp:in:d=80:s=104.16.0.4").as_deref(),
            Some("104.16.0.4/32")
        );
        // no source banned
        assert_eq!(
            parse_deny_line(b"tcp|in|d=443|d=104.16.0.1"),
            DenyLine::NoSource
        );
        assert_eq!(
            parse_deny_line(b"tcp|out|d=443|s=104.16.0.1"),
            DenyLine::NoSource
        );
        assert_eq!(parse_deny_line(b"tcp|out|d=25|u=500"), DenyLine::NoSource);
        // csf skips these
        for skipped in [
            "#104.16.0.1",
            "  # 104.16.0.1",
            "104.16.0.9 # Include me",
            "",
        ] {
            assert_eq!(
                parse_deny_line(skipped.as_bytes()),
                DenyLine::Skip,
                "{skipped}"
            );
        }
        for unreadable in [
            "127.0.0.1",
            "::1",
            "example.com",
            "tcp|in|s=104.16.0.1",
            "tcp|in|d=22|s=104.16.0.999",
            "104.16.0.1#x",
        ] {
            assert!(
                matches!(
                    parse_deny_line(unreadable.as_bytes()),
                    DenyLine::Unreadable(_)
                ),
                "{unreadable}"
            );
        }
        assert_eq!(parse_deny_line(b" Include /etc/x"), DenyLine::Skip);
    }

    #[test]
    fn deny_comment_dates() {
        let DenyLine::Ban { time, .. } = parse_deny_line(b"1.2.3.4 # x - Mon Nov  3 10:00:00 2025")
        else {
            panic!()
        };
        assert_eq!(time.unwrap().to_string(), "2025-11-03 10:00:00");
        let DenyLine::Ban { time, .. } = parse_deny_line(b"1.2.3.4 # x - yesterday") else {
            panic!()
        };
        assert_eq!(time, None);
        assert_eq!(parse_localtime(b"Xyz Nov  3 10:00:00 2025"), None);
        assert_eq!(parse_localtime(b"Mon Nov 31 10:00:00 2025"), None);
    }

    #[test]
    fn includes_are_followed_once_with_their_own_lines() {
        let dir = tempfile::tempdir().unwrap();
        let deny = dir.path().join("csf.deny");
        std::fs::write(
            &deny,
            "104.16.0.1\nInclude extra.deny\nInclude missing.deny\nInclude /\nInclude csf.deny\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("extra.deny"),
            "# more\n104.16.0.2\nInclude csf.deny\n",
        )
        .unwrap();
        let mut parser = CsfDenyParser::new(&ctx(&deny));
        let mut sink = Collect::default();
        let text = std::fs::read(&deny).unwrap();
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            parser.line(i as u64 + 1, line, &mut sink);
        }
        let got: Vec<(String, String, u64)> = sink
            .events
            .iter()
            .map(|e| {
                (
                    e.net.to_string(),
                    e.location
                        .path
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                    e.location.line,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("104.16.0.1/32".into(), "csf.deny".into(), 1),
                ("104.16.0.2/32".into(), "extra.deny".into(), 2)
            ]
        );
        assert_eq!(sink.notes.len(), 4, "{:?}", sink.notes);
        assert!(sink.notes[1].contains("no such file"));
        assert!(sink.notes[2].contains("not a regular file"));
    }

    #[test]
    fn tempban_entries_expire() {
        let path = Path::new("/var/lib/csf/csf.tempban");
        let mut parser = CsfTempbanParser::new(&ctx(path));
        let mut sink = Collect::default();
        for (i, line) in [
            "1700000000|104.16.0.1|22|in|3600|lfd - (sshd) Failed SSH login",
            "1700000000|104.16.0.2||out|3600|outgoing only",
            "1700000000|2606:4700::1|||inout",
            "garbage",
            "",
        ]
        .iter()
        .enumerate()
        {
            parser.line(i as u64 + 1, line.as_bytes(), &mut sink);
        }
        assert_eq!(sink.events.len(), 1);
        assert_eq!(sink.malformed, [3, 4]);
        let e = &sink.events[0];
        assert_eq!(
            e.expires.unwrap() - e.time.unwrap(),
            TimeDelta::try_hours(1).unwrap()
        );
        assert_eq!(e.scope, TEMPBAN_SCOPE);
    }

    #[test]
    fn every_lfd_block_form() {
        let ok = |m: &str, addr: &str, trig: &str, secs: Option<u64>| {
            assert_eq!(block(m), Some((addr.into(), trig.into(), secs)), "{m}");
        };
        ok("(sshd) Failed SSH login from 104.16.0.1 (US/United States/-): 5 in the last 3600 secs - *Blocked in csf* [LF_SSHD]", "104.16.0.1", "LF_SSHD", None);
        ok("(sshd) Failed SSH login from 104.16.0.1: 5 in the last 3600 secs - *Blocked in csf* for 3600 secs [LF_SSHD]", "104.16.0.1", "LF_SSHD", Some(3600));
        ok("(smtpauth) Failed SMTP AUTH login from 2606:4700::1 (-): 5 in the last 3600 secs (CF_ENABLE) - *Blocked in csf* for 86400 secs [LF_SMTPAUTH]", "2606:4700::1", "LF_SMTPAUTH", Some(86400));
        ok("(nginx_444) Nginx 444 104.16.0.2 (CA/Canada/Toronto (Downtown)/-): 5 in the last 3600 secs - *Blocked in csf* for 86400 secs [LF_CUSTOMTRIGGER]", "104.16.0.2", "LF_CUSTOMTRIGGER", Some(86400));
        ok("104.16.0.3 (CN/China/-), 5 distributed sshd attacks on account [root] in the last 3600 secs - *Blocked in csf* [LF_DISTATTACK]", "104.16.0.3", "LF_DISTATTACK", None);
        ok("104.16.0.3, 12 distributed FTP Logins on account [bob] in the last 300 secs - *Blocked in csf* [LF_DISTFTP]", "104.16.0.3", "LF_DISTFTP", None);
        ok("104.16.0.4 (-), more than 50 Apache 404 hits in the last 3600 secs - *Blocked in csf* for 3600 secs [LF_APACHE_404]", "104.16.0.4", "LF_APACHE_404", Some(3600));
        ok("pop3d - 120 logins in 3600 secs from 104.16.0.5 (US/United States/-) for bob exceeds 60/hour - *Blocked in csf* for 600 secs [LT_POP3D]", "104.16.0.5", "LT_POP3D", Some(600));
        ok("*Port Scan* detected from 104.16.0.6. 16 hits in the last 161 seconds - *Blocked in csf* for 3600 secs [PS_LIMIT]", "104.16.0.6", "PS_LIMIT", Some(3600));
        ok(
            "(CT) IP 104.16.0.7 (-/-/-) found to have 18 connections - *Blocked in csf* [CT_LIMIT]",
            "104.16.0.7",
            "CT_LIMIT",
            None,
        );
        ok("(CT) subnet 104.16.1.0/24 (-) found to have 300 connections - *Blocked in csf* for 1800 secs [CT_SUBNET_LIMIT]", "104.16.1.0/24", "CT_SUBNET_LIMIT", Some(1800));
        ok("(PERMBLOCK) 104.16.0.8 (US/United States/-) has had more than 3 temp blocks in the last 86400 secs - *Blocked in csf* [LF_SSHD]", "104.16.0.8", "LF_SSHD", None);
        ok("(NETBLOCK) 104.16.2.0/24 has had more than 3 blocks in the last 86400 secs - *Blocked in csf* [LF_SSHD]", "104.16.2.0/24", "LF_SSHD", None);
        ok(
            "104.16.0.9 (-) RELAY limit exceeded - *Blocked in csf* for 3600 secs [RT_RELAY_LIMIT]",
            "104.16.0.9",
            "RT_RELAY_LIMIT",
            Some(3600),
        );
        ok("(sshd) Failed SSH login from 104.16.0.10 (US/United States/-): 5 in the last 3600 secs - *Blocked in csf* port=22 [LF_SSHD]", "104.16.0.10", "LF_SSHD", None);
    }

    #[test]
    fn forged_blocks_are_not_read() {
        // the reverse DNS name is the attacker's
        let rdns = "(sshd) Failed SSH login from 203.0.113.7 (US/United States/104.16.0.1.-*Blocked-in-csf*-[LF_SSHD]): 5 in the last 300 secs - *Blocked in csf* [LF_SSHD]";
        assert_eq!(block(rdns).unwrap().0, "203.0.113.7");
        // a custom trigger that quotes attacker text before the address
        let quoted = "(wp) Bad agent 104.16.0.1 (US/x/y): 9 in the last 9 secs - *Blocked in csf* [X] from 203.0.113.8 (US/United States/-): 5 in the last 300 secs - *Blocked in csf* [LF_CUSTOMTRIGGER]";
        assert_eq!(block(quoted).unwrap().0, "203.0.113.8");
        for forged in [
            // the marker must end the line
            "(sshd) Failed SSH login from 203.0.113.7 (-): 5 in the last 300 secs - *Blocked in csf* [LF_SSHD] by 104.16.0.1",
            "*SSH login* from 203.0.113.9 into the root account using password authentication - *Blocked in csf* [LF_SSHD]",
            "(sshd) Failed SSH login from host-104.16.0.1 (-): 5 in the last 300 secs - *Blocked in csf* [LF_SSHD]",
            "104.16.0.1 - *Blocked in csf* [LF SSHD]",
            "- *Blocked in csf* [LF_SSHD]",
        ] {
            let got = block(forged);
            assert!(got.as_ref().is_none_or(|g| g.0 != "104.16.0.1"), "{forged}: {got:?}");
        }
    }

    #[test]
    fn unblocks() {
        assert_eq!(
            unblock_nets(b"104.16.0.1:22"),
            [parse_net(b"104.16.0.1").unwrap()]
        );
        assert_eq!(unblock_nets(b"2606:4700::1:22").len(), 2);
        assert_eq!(
            unblock_nets(b"2606:4700::1"),
            [parse_net(b"2606:4700::1").unwrap()]
        );
        let mut sink = Collect::default();
        let location = Location {
            path: Arc::from(Path::new("lfd.log")),
            line: 3,
        };
        lfd_message(
            b"Incoming IP 104.16.0.1 temporary block removed",
            None,
            location,
            Format::Syslog,
            &mut sink,
        );
        assert_eq!(sink.events[0].action, Action::Unban);
    }

    #[test]
    fn detection() {
        let p = Path::new("/tmp/list");
        assert_eq!(
            detect(p, b"tcp|in|d=22|s=104.16.0.1 # do not delete\n"),
            Some(Format::CsfDeny)
        );
        assert_eq!(detect(p, b"104.16.0.1 # some comment\n"), None);
        assert_eq!(
            detect(Path::new("/etc/csf/csf.allow"), b"104.16.0.1 # lfd: x\n"),
            None
        );
        assert_eq!(detect(p, b"Nov 24 03:06:43 vm lfd[1]: (sshd) Failed SSH login from 104.16.0.1 (-): 5 in the last 300 secs - *Blocked in csf* [LF_SSHD]\n"), None);
    }
}
