//! Imunify360's agent log, `/var/log/imunify360/console.log` (the FAQ of
//! `cloudlinux/imunify360-documentation`, `docs/faq_and_known_issues/README.md`, "Does
//! Imunify360 log events such as adding or removing an IP to/from the Gray List?"), whose
//! records are Python logging's `LEVEL [DATE TIME,MS] LOGGER: MESSAGE`:
//!
//! ```text
//! INFO [2017-04-15 18:30:00,889]
//! defence360agent.plugins.protector.lazy_init: IP 103.86.52.175 is BLOCKED
//! with 300 sec (expiration: 1492281300) (due to SensorAlert)
//! INFO [2017-04-17 00:51:26,967]
//! defence360agent.plugins.protector.lazy_init: IP 10.101.1.18 is UNBLOCKED
//! (due to ClientUnblock)
//! ```
//!
//! The documentation renders each record broken after its time and again inside the
//! message; whether the file breaks it so is not verified. So a record is its header line
//! (`LEVEL [YYYY-MM-DD HH:MM:SS,mmm]` at the start of a line) and every line up to the next
//! header, joined by single spaces, and it is read only when the whole record is exactly
//! one of the two messages, from a `defence360agent.` logger (the header's own line or the
//! next one starts with it). Other records, such as `the_sink`'s, hold text that visitors
//! choose (a `user_agent`): such text stands inside a record whose message is another one,
//! so it cannot make a block, and it cannot start a line of its own unless the agent wrote a
//! newline into it. A `BLOCKED` record must also agree with itself: its expiration less its
//! seconds is the record's time, read in UTC give or take a whole time-zone offset (the log
//! is written in the host's time), so a record whose numbers were shifted is not read.
//!
//! `BLOCKED` is an [`Action::Ban`] until its expiration (host local time), `UNBLOCKED` an
//! [`Action::Unban`], both with scope `blocked` (the FAQ calls it the Black List and, in its
//! title, the Gray List: the log does not say which list holds the address); the later
//! record decides, and a block whose expiration has passed is over.

use std::path::Path;
use std::sync::Arc;

use chrono::{NaiveDateTime, TimeDelta};

use super::{local_time, LOG_SCOPE};
use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::{Format, LineParser, ParseCtx, Sink};

/// Python logging's level names.
const LEVELS: [&str; 5] = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
/// The agent's loggers' prefix.
const LOGGER: &str = "defence360agent.";
/// The most lines a record may span before it is given up (a traceback is not a block).
const MAX_RECORD_LINES: usize = 4;

/// A header line's time and the rest of the line after it (`""` when the line ends there).
fn header(line: &str) -> Option<(NaiveDateTime, &str)> {
    let (level, rest) = line.split_once(" [")?;
    if !LEVELS.contains(&level) {
        return None;
    }
    let (stamp, rest) = rest.split_once(']')?;
    let time = NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S,%3f").ok()?;
    if stamp.len() != 23 {
        return None;
    }
    match rest {
        "" => Some((time, "")),
        _ => rest.strip_prefix(' ').map(|r| (time, r)),
    }
}

/// Whether `s` is digits only (and not empty).
fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` is a logger's or a reason's name: letters, digits, `_` and `.`.
fn name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

/// What a record says.
#[derive(Debug, PartialEq)]
enum Said<'a> {
    Blocked {
        ip: &'a str,
        secs: i64,
        expiration: i64,
    },
    Unblocked {
        ip: &'a str,
    },
}

/// A whole record's message (after the header), when it is exactly a block or an unblock.
fn message(text: &str) -> Option<Said<'_>> {
    let rest = text.strip_prefix(LOGGER)?;
    let (logger, rest) = rest.split_once(": IP ")?;
    if !name(logger) {
        return None;
    }
    let (ip, rest) = rest.split_once(' ')?;
    if let Some(rest) = rest.strip_prefix("is BLOCKED with ") {
        let (secs, rest) = rest.split_once(" sec (expiration: ")?;
        let (expiration, rest) = rest.split_once(") (due to ")?;
        let reason = rest.strip_suffix(')')?;
        let expiration = expiration.split_once('.').map_or(expiration, |(i, _)| i);
        (digits(secs) && digits(expiration) && name(reason)).then(|| Said::Blocked {
            ip,
            secs: secs.parse().unwrap_or(i64::MAX),
            expiration: expiration.parse().unwrap_or(i64::MAX),
        })
    } else {
        let reason = rest
            .strip_prefix("is UNBLOCKED (due to ")?
            .strip_suffix(')')?;
        name(reason).then_some(Said::Unblocked { ip })
    }
}

/// Whether a block's numbers agree with its record's time: `expiration - secs` is the time
/// in UTC, give or take a whole quarter of an hour (a time zone's offset, at most 14 hours)
/// and a minute (the record is written after the block).
fn agrees(time: NaiveDateTime, secs: i64, expiration: i64) -> bool {
    let start = expiration.saturating_sub(secs);
    let logged = time.and_utc().timestamp();
    let offset = logged - start;
    let quarter = 15 * 60;
    let drift = offset.rem_euclid(quarter);
    offset.abs() <= 14 * 3600 + 60 && (drift <= 60 || quarter - drift <= 60)
}

/// Decides whether a file is Imunify360's `console.log`: by its place
/// (`…/imunify360/console.log`, rotations too), or when its first non-empty line is a
/// record's header and one of the head's lines starts with the agent's logger (after a
/// header or alone).
pub fn detect_console(path: &Path, head: &[u8]) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = path.parent().and_then(Path::file_name);
    if name.starts_with("console.log") && dir.is_some_and(|d| d == "imunify360") {
        return true;
    }
    let text = String::from_utf8_lossy(head);
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    lines.next().is_some_and(|l| header(l).is_some())
        && text.lines().any(|l| {
            l.starts_with(LOGGER) || header(l).is_some_and(|(_, rest)| rest.starts_with(LOGGER))
        })
}

/// A record being gathered: its header's line and time, and its text so far.
struct Record {
    line: u64,
    time: NaiveDateTime,
    text: String,
    lines: usize,
}

/// The parser of `console.log`.
pub struct ConsoleParser {
    path: Arc<Path>,
    record: Option<Record>,
}

impl ConsoleParser {
    /// A parser for one log.
    pub fn new(ctx: &ParseCtx) -> Self {
        ConsoleParser {
            path: ctx.path.clone(),
            record: None,
        }
    }

    fn flush(&mut self, sink: &mut dyn Sink) {
        let Some(r) = self.record.take() else {
            return;
        };
        let Some(said) = message(&r.text) else {
            return;
        };
        let ip = match &said {
            Said::Blocked { ip, .. } | Said::Unblocked { ip } => *ip,
        };
        let Some(net) = parse_net(ip.as_bytes()) else {
            sink.malformed(r.line, format!("IP {ip:?} is not an address"));
            return;
        };
        let location = Location::new(self.path.clone(), r.line);
        let event = match said {
            Said::Blocked {
                secs, expiration, ..
            } => {
                if !agrees(r.time, secs, expiration) {
                    sink.malformed(
                        r.line,
                        format!(
                            "a block of {secs} sec that expires at {expiration}: not the \
                             record's time plus its seconds"
                        ),
                    );
                    return;
                }
                let until = local_time(expiration)
                    .or_else(|| r.time.checked_add_signed(TimeDelta::seconds(secs)));
                BanEvent::new(
                    net,
                    Tool::Imunify360,
                    Format::Imunify360ConsoleLog,
                    LOG_SCOPE,
                    Action::Ban,
                    location,
                )
                .at(r.time)
                .until(until)
            }
            Said::Unblocked { .. } => BanEvent::new(
                net,
                Tool::Imunify360,
                Format::Imunify360ConsoleLog,
                LOG_SCOPE,
                Action::Unban,
                location,
            )
            .at(r.time),
        };
        sink.event(event);
    }
}

impl LineParser for ConsoleParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Ok(text) = std::str::from_utf8(line) else {
            // Not the agent's own text: whatever record it belongs to is no block.
            if let Some(r) = &mut self.record {
                r.lines = MAX_RECORD_LINES + 1;
            }
            return;
        };
        if let Some((time, rest)) = header(text) {
            self.flush(sink);
            self.record = Some(Record {
                line: lineno,
                time,
                text: rest.to_string(),
                lines: 1,
            });
            return;
        }
        let Some(r) = &mut self.record else {
            return;
        };
        if text.trim().is_empty() {
            return;
        }
        r.lines += 1;
        if r.lines > MAX_RECORD_LINES {
            r.text.clear();
            return;
        }
        if !r.text.is_empty() {
            r.text.push(' ');
        } else if !text.starts_with(LOGGER) {
            // The message's first line must begin with the logger.
            r.lines = MAX_RECORD_LINES + 1;
            return;
        }
        r.text.push_str(text);
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        self.flush(sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::run_lines;

    /// The FAQ's records as it renders them, and the same on one line each.
    const BROKEN: &str = "INFO [2017-04-15 18:30:00,889]\n\
        defence360agent.plugins.protector.lazy_init: IP 103.86.52.175 is BLOCKED\n\
        with 300 sec (expiration: 1492281300) (due to SensorAlert)\n\
        INFO [2017-04-15 18:30:00,889]\n\
        defence360agent.plugins.protector.lazy_init: Unblocking 103.86.52.175 in\n\
        CSF as it is already in our graylist\n\
        INFO [2017-04-17 00:51:26,967]\n\
        defence360agent.plugins.protector.lazy_init: IP 103.86.52.175 is UNBLOCKED\n\
        (due to ClientUnblock)\n";

    #[test]
    fn blocks_and_unblocks_broken_or_whole() {
        let whole = "INFO [2017-04-15 18:30:00,889] defence360agent.plugins.protector.lazy_init: IP 104.16.0.1 is BLOCKED with 300 sec (expiration: 1492281300) (due to SensorAlert)\n\
            INFO [2017-04-17 00:51:26,967] defence360agent.plugins.protector.lazy_init: IP 104.16.0.1 is UNBLOCKED (due to ClientUnblock)\n";
        let p = Path::new("/tmp/x.log");
        for (text, lines) in [(BROKEN, [1, 7]), (whole, [1, 2])] {
            assert!(detect_console(p, text.as_bytes()));
            let c = run_lines(Format::Imunify360ConsoleLog, "console.log", text);
            assert!(c.malformed.is_empty(), "{:?}", c.malformed);
            let got: Vec<(Action, u64)> = c
                .events
                .iter()
                .map(|e| (e.action, e.location.line))
                .collect();
            assert_eq!(got, [(Action::Ban, lines[0]), (Action::Unban, lines[1])]);
            let ban = &c.events[0];
            assert_eq!(ban.scope, LOG_SCOPE);
            assert_eq!(ban.time, Some("2017-04-15T18:30:00.889".parse().unwrap()));
            assert_eq!(ban.expires, local_time(1492281300));
        }
        assert!(detect_console(
            Path::new("/var/log/imunify360/console.log.1"),
            b""
        ));
        assert!(!detect_console(
            p,
            b"INFO [2017-04-15 18:30:00,889] other.logger: hi\n"
        ));
    }

    #[test]
    fn visitor_text_and_shifted_numbers_block_nothing() {
        let text = "INFO [2017-04-17 00:51:26,956] defence360agent.internals.the_sink:\n\
            CaptchaEvent:\n\
            {'user_agent': 'x defence360agent.a: IP 104.16.0.1 is BLOCKED with 300 sec (expiration: 1492281300) (due to SensorAlert)', 'attackers_ip': '198.51.100.7'}\n\
            INFO [2017-04-17 00:51:27,000] defence360agent.internals.the_sink: CaptchaEvent: IP 104.16.0.2 is BLOCKED with 300 sec (expiration: 1492404987) (due to X)\n\
            INFO [2017-04-17 00:51:27,000]\n\
            user_agent: defence360agent.a: IP 104.16.0.3 is BLOCKED with 300 sec (expiration: 1492404987) (due to X)\n\
            INFO [2017-04-17 00:51:27,000] defence360agent.a: IP 104.16.0.4 is BLOCKED with 300 sec (expiration: 1492404987) (due to X) and more\n\
            INFO [2017-04-17 00:51:27,000] defence360agent.a: IP 104.16.0.5 is BLOCKED with 300 sec (expiration: 1892404987) (due to X)\n\
            INFO [2017-04-17 00:51:27,000] defence360agent.a: IP 104.16.0.6 is BLOCKED with 300 sec (expiration: 1492404987) (due to X)\n\
            nobody said: defence360agent.a: IP 104.16.0.7 is UNBLOCKED (due to X)\n";
        let c = run_lines(Format::Imunify360ConsoleLog, "console.log", text);
        assert!(c.events.is_empty(), "{:?}", c.events);
        // Only the block whose expiration is years after its record is named.
        assert_eq!(c.malformed_lines(), [8]);
        // 00:51:27 UTC plus 300 sec is 1492404987: read.
        let ok = "INFO [2017-04-17 00:51:27,000] defence360agent.a: IP 104.16.0.6 is BLOCKED with 300 sec (expiration: 1492404987) (due to X)\n";
        assert_eq!(
            run_lines(Format::Imunify360ConsoleLog, "console.log", ok)
                .events
                .len(),
            1
        );
        // So is the same record written in a host whose clock is UTC+5:30.
        let india = "INFO [2017-04-17 06:21:27,000] defence360agent.a: IP 104.16.0.6 is BLOCKED with 300 sec (expiration: 1492404987) (due to X)\n";
        assert_eq!(
            run_lines(Format::Imunify360ConsoleLog, "console.log", india)
                .events
                .len(),
            1
        );
    }
}
