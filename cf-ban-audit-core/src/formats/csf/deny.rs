//! `csf.deny`: addresses, CIDRs and advanced rules, one a line, with csf's `Include`s
//! followed, read as `csf.pl` `linefilter` reads them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use ipnet::IpNet;

use super::{check_ip, contains, number, split_token, DENY_SCOPE};
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::{Format, IncludeError, LineParser, ParseCtx, Sink};

/// How deep `Include`s may nest.
const MAX_INCLUDE_DEPTH: usize = 16;

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

/// Perl's scalar `localtime`: `Thu Oct 30 06:27:30 2025` (the day padded with a space).
pub(super) fn parse_localtime(b: &[u8]) -> Option<NaiveDateTime> {
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

/// The parser of `csf.deny` and of the files it includes. An `Include` is asked of the sink
/// ([`Sink::include`]): the scanner opens the file (regular files only, each once, so that an
/// `Include` loop ends) and its lines are read here as more of the list.
pub struct CsfDenyParser {
    path: Arc<Path>,
}

impl CsfDenyParser {
    /// A parser for one `csf.deny`.
    pub fn new(ctx: &ParseCtx) -> Self {
        CsfDenyParser {
            path: ctx.path.clone(),
        }
    }
}

impl LineParser for CsfDenyParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        deny_line(0, &self.path, lineno, line, sink);
    }
}

fn deny_line(depth: usize, path: &Arc<Path>, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
    match parse_deny_line(line) {
        DenyLine::Skip | DenyLine::NoSource => {}
        DenyLine::Include(target) => include(depth, path, lineno, target, sink),
        DenyLine::Ban { net, time } => sink.event(
            BanEvent::new(
                net,
                Tool::Csf,
                Format::CsfDeny,
                DENY_SCOPE,
                Action::Listed,
                Location::new(path.clone(), lineno),
            )
            .at(time),
        ),
        DenyLine::Unreadable(message) => {
            sink.malformed(lineno, format!("{}:{lineno}: {message}", path.display()))
        }
    }
}

/// Reads the file an `Include` names, as more lines of `csf.deny`.
fn include(depth: usize, from: &Arc<Path>, lineno: u64, target: &[u8], sink: &mut dyn Sink) {
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
    let bytes = match sink.include(from, &path) {
        Ok(bytes) => bytes,
        Err(why) => {
            let why = match why {
                IncludeError::Missing => "no such file (csf skips it too)".to_string(),
                IncludeError::NotRegular => "not a regular file, not read".to_string(),
                IncludeError::AlreadyRead => {
                    "already read (an Include loop?), not read again".to_string()
                }
                IncludeError::TooLarge(max) => format!("larger than {max} bytes, not read"),
                IncludeError::Unreadable(e) => e,
                _ => "not followed here".to_string(),
            };
            sink.note(format!("{place}: {why}"));
            return;
        }
    };
    let included: Arc<Path> = Arc::from(path.as_path());
    let result = crate::lines::for_each_line(&mut bytes.as_slice(), |n, l| {
        deny_line(depth + 1, &included, n, l, &mut *sink)
    });
    if let Err((e, n)) = result {
        sink.note(format!("{}:{n}: read error: {e}", included.display()));
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn parse_deny_line() {
        use crate::formats::csf::{parse_deny_line, DenyLine};
        let DenyLine::Ban { net, time } = parse_deny_line(b"158.173.23.58 # lfd: (smtpauth) Failed SMTP AUTH login from 158.173.23.58 (GB/United Kingdom/-): 5 in the last 3600 secs - Thu Oct 30 06:27:30 2025") else { panic!() };
        assert_eq!(
            (net.to_string(), time.unwrap().to_string()),
            ("158.173.23.58/32".into(), "2025-10-30 06:27:30".into())
        );
        assert!(matches!(
            parse_deny_line(b"tcp|in|d=443|s=104.16.0.0/13"),
            DenyLine::Ban { .. }
        ));
        assert_eq!(
            parse_deny_line(b"tcp|out|d=25|d=104.16.0.1"),
            DenyLine::NoSource
        );
        assert_eq!(parse_deny_line(b"# 104.16.0.1"), DenyLine::Skip);
        assert_eq!(
            parse_deny_line(b"Include /etc/csf/csf.mydeny"),
            DenyLine::Include(b"/etc/csf/csf.mydeny")
        );
    }
}
