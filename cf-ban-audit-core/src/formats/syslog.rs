//! Syslog and journal text (`/var/log/syslog`, `/var/log/messages`, `journalctl` output): lines
//! of many programs, each `TIMESTAMP HOST TAG[PID]: MESSAGE`. The timestamp is either the BSD
//! form without a year (`Nov 24 03:06:43`) or RFC 3339 (rsyslog's high-precision format,
//! `journalctl -o short-iso`).
//!
//! Lines are handed to the parser of the program named by the tag, never by what the message
//! says, so a message of one program cannot pass for another's. fail2ban writes here in three
//! ways: with `logtarget = SYSLOG` the tag is its logger (`fail2ban.actions[123]: NOTICE [sshd]
//! Ban ...`); with `logtarget = SYSTEMD-JOURNAL` the tag is `fail2ban` and the message bare
//! (`fail2ban[123]: [sshd] Ban ...`); with `logtarget = STDOUT` under systemd the tag is
//! `fail2ban-server` and the message the file form without its date.

use std::sync::{Arc, LazyLock};

use chrono::NaiveDateTime;

use super::prefilter::Prefilter;
use super::registry::{Detection, FormatDescriptor, Registry, SyslogEntry};
use super::timestamp::{parse_iso, parse_syslog};
use super::{Format, LineParser, ParseCtx, Sink};
use crate::event::{Location, Tool};

/// The parts of a syslog line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyslogLine<'a> {
    /// When.
    pub time: NaiveDateTime,
    /// The host name.
    pub host: &'a [u8],
    /// The tag (program name) without the PID.
    pub program: &'a [u8],
    /// The message, after `: `.
    pub message: &'a [u8],
}

/// Splits a syslog line into its parts; `reference` gives the year of BSD timestamps.
///
/// ```
/// use cf_ban_audit_core::formats::syslog::split;
/// use chrono::NaiveDate;
/// let reference = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap().and_hms_opt(12, 0, 0).unwrap();
/// let l = split(b"Nov 24 03:06:43 vm fail2ban.actions[1]: NOTICE [sshd] Ban 104.16.0.1", reference).unwrap();
/// assert_eq!((l.host, l.program, l.message), (&b"vm"[..], &b"fail2ban.actions"[..], &b"NOTICE [sshd] Ban 104.16.0.1"[..]));
/// ```
pub fn split(line: &[u8], reference: NaiveDateTime) -> Option<SyslogLine<'_>> {
    let (time, n) = parse_syslog(line, reference).or_else(|| parse_iso(line))?;
    let rest = line[n..].strip_prefix(b" ")?;
    let host_end = memchr::memchr(b' ', rest)?;
    let host = &rest[..host_end];
    if host.is_empty() {
        return None;
    }
    let rest = &rest[host_end + 1..];
    let colon = memchr::memchr(b':', rest)?;
    let tag = &rest[..colon];
    let program = match memchr::memchr(b'[', tag) {
        Some(open) => {
            let pid = tag[open + 1..].strip_suffix(b"]")?;
            if pid.is_empty() || !pid.iter().all(u8::is_ascii_digit) {
                return None;
            }
            &tag[..open]
        }
        None => tag,
    };
    if program.is_empty() || program.len() > 64 || program.iter().any(|&b| b == b' ' || b == b'\t')
    {
        return None;
    }
    let message = rest[colon + 1..]
        .strip_prefix(b" ")
        .unwrap_or(&rest[colon + 1..]);
    Some(SyslogLine {
        time,
        host,
        program,
        message,
    })
}

/// Whether a line looks like syslog (for detection).
pub fn looks_like(line: &[u8]) -> bool {
    let reference = chrono::NaiveDate::from_ymd_opt(2100, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("valid date");
    split(line, reference).is_some()
}

/// The parser of syslog and journal text.
pub struct SyslogParser {
    path: Arc<std::path::Path>,
    reference: NaiveDateTime,
    format: Format,
}

impl SyslogParser {
    /// A parser for one file.
    pub fn new(ctx: &ParseCtx) -> Self {
        SyslogParser::with_format(ctx, Format::Syslog)
    }

    /// A parser whose events say they come from `format` (for syslog lines inside another
    /// format's file).
    pub fn with_format(ctx: &ParseCtx, format: Format) -> Self {
        SyslogParser {
            path: ctx.path.clone(),
            reference: ctx.reference,
            format,
        }
    }
}

impl LineParser for SyslogParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        // Cheap reject before any parsing: only the lines of the programs some format owns.
        static WORDS: LazyLock<Prefilter> = LazyLock::new(|| {
            let words: Vec<&str> = Registry::builtin()
                .syslog_tags()
                .map(|(t, _)| t.needle)
                .collect();
            Prefilter::new(&words)
        });
        if !WORDS.matches(line) {
            return;
        }
        let Some(l) = split(line, self.reference) else {
            return;
        };
        let Some((tag, _)) = Registry::builtin()
            .syslog_tags()
            .find(|(t, _)| t.owns(l.program))
        else {
            return;
        };
        let entry = SyslogEntry {
            program: l.program,
            message: l.message,
            time: l.time,
            location: Location {
                path: self.path.clone(),
                line: lineno,
            },
            format: self.format,
        };
        (tag.read)(&entry, sink);
    }
}

// The formats are named like the enum variants they once were, so that they read as such in
// `match` patterns and tests.
#[allow(non_upper_case_globals)]
impl Format {
    /// A syslog or journal text file holding lines of several programs (`/var/log/syslog`,
    /// `/var/log/messages`, `journalctl` output); the lines of the supported tools are read.
    pub const Syslog: Format = Format::builtin(1, "syslog");
}

/// The syslog descriptor. The tags it reads are declared by the formats that own them.
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::new(
    Format::Syslog,
    &[
        Tool::Fail2ban,
        Tool::ModEvasive,
        Tool::Csf,
        Tool::NginxLimit,
        Tool::NginxDeny,
        Tool::Modsecurity,
    ],
    "syslog/journal text: fail2ban, mod_evasive, lfd and nginx lines logged through syslog",
    |ctx| Box::new(SyslogParser::new(ctx)),
)
.usual_paths(&[
    "/var/log/syslog",
    "/var/log/messages",
    "/var/log/daemon.log",
])
.detected_by(&[Detection::text(410, |_, head| {
    super::head_lines(head).any(looks_like)
})])
.chunkable();
