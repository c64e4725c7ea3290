//! The formats cf-ban-audit reads: the [`Format`] registry, detection from a file's name and
//! first bytes, and dispatch to one parser module per format family.
//!
//! Adding a format means one module here, one variant of [`Format`], one line in
//! [`Format::ALL`] and its arms in `detect` and `parser`.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::error::Error;
use crate::event::{BanEvent, Tool};

pub mod fail2ban_client;
pub mod fail2ban_db;
pub mod fail2ban_log;
pub mod syslog;
pub mod timestamp;

/// A file format cf-ban-audit reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// fail2ban's own log file (`/var/log/fail2ban.log`, rotated and gzipped copies).
    Fail2banLog,
    /// A syslog or journal text file holding lines of several programs (`/var/log/syslog`,
    /// `/var/log/messages`, `journalctl` output); the lines of the supported tools are read.
    Syslog,
    /// fail2ban's SQLite database (`/var/lib/fail2ban/fail2ban.sqlite3`).
    Fail2banDb,
    /// Saved output of `fail2ban-client status <jail>` (or `status --all`).
    Fail2banStatus,
    /// Saved output of `fail2ban-client banned` (a Python repr of `[{jail: [ip, ...]}]`).
    Fail2banBanned,
}

impl Format {
    /// Every format, in display order.
    pub const ALL: &'static [Format] = &[
        Format::Fail2banLog,
        Format::Syslog,
        Format::Fail2banDb,
        Format::Fail2banStatus,
        Format::Fail2banBanned,
    ];

    /// The name used in reports (`fail2ban-log`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Format::Fail2banLog => "fail2ban-log",
            Format::Syslog => "syslog",
            Format::Fail2banDb => "fail2ban-db",
            Format::Fail2banStatus => "fail2ban-status",
            Format::Fail2banBanned => "fail2ban-banned",
        }
    }

    /// The tools whose bans this format can hold.
    pub fn tools(self) -> &'static [Tool] {
        match self {
            Format::Fail2banLog
            | Format::Syslog
            | Format::Fail2banDb
            | Format::Fail2banStatus
            | Format::Fail2banBanned => &[Tool::Fail2ban],
        }
    }

    /// Where the format usually lives, for `cf-ban-audit formats` and for scans without a path.
    pub fn usual_paths(self) -> &'static [&'static str] {
        match self {
            Format::Fail2banLog => &["/var/log/fail2ban.log"],
            Format::Syslog => &[
                "/var/log/syslog",
                "/var/log/messages",
                "/var/log/daemon.log",
            ],
            Format::Fail2banDb => &["/var/lib/fail2ban/fail2ban.sqlite3"],
            Format::Fail2banStatus => &["(saved output of fail2ban-client status <jail>)"],
            Format::Fail2banBanned => &["(saved output of fail2ban-client banned)"],
        }
    }

    /// One line saying what the format is.
    pub fn description(self) -> &'static str {
        match self {
            Format::Fail2banLog => {
                "fail2ban log: Ban, Restore Ban, Unban, already banned (0.8 to 1.x)"
            }
            Format::Syslog => {
                "syslog/journal text: fail2ban lines logged through syslog or journald"
            }
            Format::Fail2banDb => "fail2ban SQLite database, schema v1 to v4 (bips, bans)",
            Format::Fail2banStatus => "fail2ban-client status output (Banned IP list)",
            Format::Fail2banBanned => "fail2ban-client banned output (Python repr)",
        }
    }

    /// Looks a format up by the name [`Format::name`] gives it.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.iter().copied().find(|f| f.name() == name)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a parser needs to know about the input besides its bytes.
#[derive(Debug, Clone)]
pub struct ParseCtx {
    /// The input's path (`-` for standard input), shared by every event read from it.
    pub path: Arc<Path>,
    /// The time the input was last written (or now): years missing from syslog timestamps
    /// are taken so that no date lies after it.
    pub reference: NaiveDateTime,
    /// The time of the scan, to decide whether a timed ban has expired.
    pub now: NaiveDateTime,
}

/// Where parsers put what they read.
pub trait Sink {
    /// One event.
    fn event(&mut self, event: BanEvent);
    /// A line that looked like an entry of the format but could not be read (counted, reported
    /// in the file's statistics, never fatal).
    fn malformed(&mut self, line: u64, message: String);
}

/// A parser fed one line at a time.
pub trait LineParser: Send {
    /// Reads one line (without its terminator); `lineno` counts from 1.
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink);
    /// The input has ended.
    fn finish(&mut self, _sink: &mut dyn Sink) {}
}

/// How a format is read.
pub enum Parser {
    /// A stream of lines.
    Lines(Box<dyn LineParser>),
    /// A whole file opened by the parser itself (a database).
    File(fn(&Path, &ParseCtx, &mut dyn Sink) -> Result<(), Error>),
}

impl Format {
    /// The parser of this format for one input.
    pub fn parser(self, ctx: &ParseCtx) -> Parser {
        match self {
            Format::Fail2banLog => {
                Parser::Lines(Box::new(fail2ban_log::Fail2banLogParser::new(ctx)))
            }
            Format::Syslog => Parser::Lines(Box::new(syslog::SyslogParser::new(ctx))),
            Format::Fail2banDb => Parser::File(fail2ban_db::parse),
            Format::Fail2banStatus => {
                Parser::Lines(Box::new(fail2ban_client::StatusParser::new(ctx)))
            }
            Format::Fail2banBanned => {
                Parser::Lines(Box::new(fail2ban_client::BannedParser::new(ctx)))
            }
        }
    }
}

/// The SQLite file header.
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

/// Decides the format of a file from its name and its first bytes (decompressed, when the
/// file is gzip). `None` means the file is of no known format and is skipped.
///
/// Names decide between formats that look alike; content decides for files under other
/// names, so that a log moved or renamed is still read, and a file with a log's name but
/// other content is not misread.
///
/// ```
/// use cf_ban_audit_core::formats::{detect, Format};
/// use std::path::Path;
/// let head = b"2026-11-24 03:06:43,825 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 172.64.155.20\n";
/// assert_eq!(detect(Path::new("/var/log/fail2ban.log.2.gz"), head), Some(Format::Fail2banLog));
/// assert_eq!(detect(Path::new("/tmp/whatever.txt"), head), Some(Format::Fail2banLog));
/// assert_eq!(detect(Path::new("/tmp/notes.txt"), b"hello\n"), None);
/// ```
pub fn detect(path: &Path, head: &[u8]) -> Option<Format> {
    if head.starts_with(SQLITE_MAGIC) {
        return fail2ban_db::looks_like(path).then_some(Format::Fail2banDb);
    }
    if looks_binary(head) {
        return None;
    }
    let lines = || {
        head.split(|&b| b == b'\n')
            .map(|l| l.trim_ascii())
            .filter(|l| !l.is_empty())
            .take(20)
    };
    if fail2ban_client::looks_like_status(head) {
        return Some(Format::Fail2banStatus);
    }
    if fail2ban_client::looks_like_banned(head) {
        return Some(Format::Fail2banBanned);
    }
    if lines().any(fail2ban_log::looks_like) {
        return Some(Format::Fail2banLog);
    }
    if lines().any(syslog::looks_like) {
        return Some(Format::Syslog);
    }
    None
}

/// Mostly non-text bytes in the first block: a binary file. (A stray NUL is not enough: logs
/// of crashed machines hold runs of NULs where a write was lost.)
fn looks_binary(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(1024)];
    let odd = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x1b))
        .count();
    odd * 10 > sample.len()
}
