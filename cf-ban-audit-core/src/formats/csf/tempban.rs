//! `csf.tempban`: `time|ip|port|inout|timeout|message`, a block from `time` until
//! `time + timeout`.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Local, NaiveDateTime};

use super::{check_ip, contains, number, plus_secs, TEMPBAN_SCOPE};
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::{Format, LineParser, ParseCtx, Sink};

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
        sink.event(
            BanEvent::new(
                net,
                Tool::Csf,
                Format::CsfTempban,
                TEMPBAN_SCOPE,
                Action::Listed,
                Location::new(self.path.clone(), lineno),
            )
            .at(time)
            .until(time.and_then(|t| plus_secs(t, entry.timeout))),
        );
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn parse_tempban_line() {
        use crate::formats::csf::parse_tempban_line;
        let e =
            parse_tempban_line(b"1700000000|192.0.2.1|22|in|3600|lfd - (sshd) Failed SSH login")
                .unwrap();
        assert_eq!(
            (e.time, e.ip, e.inout, e.timeout),
            (1700000000, &b"192.0.2.1"[..], &b"in"[..], 3600)
        );
        assert!(parse_tempban_line(b"192.0.2.1|1|1700000000|message").is_none());
    }
}
