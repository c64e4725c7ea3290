//! The log of crowdsec-firewall-bouncer (`/var/log/crowdsec-firewall-bouncer.log`,
//! [`Format::CrowdsecBouncerLog`]): what the firewall bouncer put into, and took out of, its
//! nftables or ipset set.
//!
//! The bouncer writes through logrus' text formatter to a lumberjack file
//! (`crowdsec-firewall-bouncer.log`, backups `crowdsec-firewall-bouncer-<time>.log(.gz)`):
//! `time="03-12-2026 14:19:36" level=info msg="2 decisions added"` (the time `02-01-2006
//! 15:04:05` in local time up to 0.0.2x, RFC 3339 later; the message quoted with Go's `%q`).
//! For each batch the Local API's stream gives it (`main.go` in 0.0.25, `cmd/root.go` later)
//! it writes:
//!
//! - at level **info**, counts only: `<n> decision(s) deleted`, `<n> decision(s) added`.
//!   These name no address. A log at the default level (`log_level: info`, what the Debian
//!   package ships) therefore says *that* the bouncer applied decisions, never *whom* it
//!   banned: its counts go into the file's notes and it gives no finding. The decisions
//!   themselves are in CrowdSec's database, `cscli decisions list` or the firewall's set,
//!   which are read by their own readers.
//! - at level **debug**, one line per decision: `Adding '<value>' for '<duration>'` after the
//!   backend took it (a failure is logged as `unable to insert decision for ...` instead), and
//!   `deleted '<value>'` after it removed it (0.0.25; later releases log removals at trace
//!   level only). Decisions of a type the bouncer does not apply (`supported_decisions_types`,
//!   `[ban]` by default) are logged as `decisions for ip '<value>' will not be added because
//!   its type is '<type>'` and counted in a note.
//!
//! Each `Adding` line is an [`Action::Ban`] of its value at the line's time, ending after its
//! duration (the time left of the decision, as the Local API computed it); each `deleted`
//! line an [`Action::Unban`] of its value. When it stops (`Shutting down firewall-bouncer
//! service`) the bouncer removes its nftables tables, or flushes its set (`set-only`), or
//! cleans its ipset up (`ShutDown` of each backend): every address it added and had not
//! removed is then unbanned at that line's time; a restart adds them again (`Adding` lines
//! for the whole stream, `startup=true`). The log names no scenario: the scope of both is
//! `crowdsec-firewall-bouncer`, so a removal lifts only what this bouncer added, never a
//! decision another source reports. A message is read whole, anchored at both ends, after
//! logrus' quoting is read ([`split_entry`]): text a decision's reason or a user name holds
//! is only ever inside the quoted message of another line (the stream's body, logged at debug
//! level as `Response: ...`), never a line of its own.
//!
//! [`Action::Ban`]: crate::event::Action::Ban
//! [`Action::Unban`]: crate::event::Action::Unban

use std::path::Path;
use std::sync::Arc;

use super::log::{parse_log_time, split_entry};
use super::time::parse_go_duration;
use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::{quote, Format, LineParser, ParseCtx, Sink};

/// The scope of every event of the log (it names no scenario).
pub const SCOPE: &str = "crowdsec-firewall-bouncer";

/// What the bouncer says of one decision, or of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BouncerMessage<'a> {
    /// `Adding '<value>' for '<duration>'` (debug).
    Added {
        /// The decision's value, as written.
        value: &'a [u8],
        /// The time left, a Go duration.
        duration: &'a [u8],
    },
    /// `deleted '<value>'` (debug).
    Deleted(&'a [u8]),
    /// `decisions for ip '<value>' will not be added because its type is '<type>'` (debug).
    NotAdded,
    /// `<n> decision(s) added` (info).
    AddedCount(u64),
    /// `<n> decision(s) deleted` (info).
    DeletedCount(u64),
    /// `Shutting down firewall-bouncer service` (info): the bouncer removes its table or
    /// flushes its set as it stops.
    ShuttingDown,
}

/// `'<text>'` at the start of `s` up to `end`: the text, with `end` and what follows it.
fn quoted<'a>(s: &'a [u8], end: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    let s = s.strip_prefix(b"'")?;
    let at = memchr::memmem::find(s, end)?;
    Some((&s[..at], &s[at + end.len()..]))
}

/// `<n> decision(s) <verb>`: `n`.
fn count(msg: &[u8], verb: &[u8]) -> Option<u64> {
    let rest = msg.strip_suffix(verb)?;
    let rest = rest
        .strip_suffix(b" decisions ")
        .or_else(|| rest.strip_suffix(b" decision "))?;
    if rest.is_empty() || rest.len() > 19 || !rest.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(rest).ok()?.parse().ok()
}

/// Reads one message (unescaped) of the bouncer's log, anchored at both ends: `None` for any
/// other message.
pub fn parse_bouncer_message(msg: &[u8]) -> Option<BouncerMessage<'_>> {
    if let Some(rest) = msg.strip_prefix(b"Adding ") {
        let (value, rest) = quoted(rest, b"' for ")?;
        let (duration, rest) = quoted(rest, b"'")?;
        return rest
            .is_empty()
            .then_some(BouncerMessage::Added { value, duration });
    }
    if let Some(rest) = msg.strip_prefix(b"deleted ") {
        let (value, rest) = quoted(rest, b"'")?;
        return rest.is_empty().then_some(BouncerMessage::Deleted(value));
    }
    if msg.starts_with(b"decisions for ip '") && msg.ends_with(b"'") {
        return memchr::memmem::find(msg, b"' will not be added because its type is '")
            .map(|_| BouncerMessage::NotAdded);
    }
    if msg == b"Shutting down firewall-bouncer service" {
        return Some(BouncerMessage::ShuttingDown);
    }
    count(msg, b"added")
        .map(BouncerMessage::AddedCount)
        .or_else(|| count(msg, b"deleted").map(BouncerMessage::DeletedCount))
}

/// Whether a file name is the bouncer's log or a rotated copy of it:
/// `crowdsec-firewall-bouncer.log`, `.log.1`, `.log.2.gz`, `.log-20261203`, and lumberjack's
/// backups `crowdsec-firewall-bouncer-2026-12-03T14-19-33.000.log(.gz)`.
fn is_bouncer_log_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let name = crate::decompress::strip_suffixes(name);
    const BASE: &str = "crowdsec-firewall-bouncer";
    let Some(rest) = name.strip_prefix(BASE) else {
        return false;
    };
    rest == ".log"
        || rest.starts_with(".log.")
        || rest.starts_with(".log-")
        || rest
            .strip_prefix('-')
            .and_then(|s| s.strip_suffix(".log"))
            .is_some_and(|s| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'T' | b'.'))
            })
}

/// The messages the bouncer writes when it starts (any backend).
fn is_start_message(msg: &[u8]) -> bool {
    msg.starts_with(b"backend type : ")
        || msg == b"Processing new and deleted decisions . . ."
        || msg.starts_with(b"crowdsec-firewall-bouncer ")
}

/// Decides whether a file is the bouncer's log, by its structure: its first non-empty line
/// is a logrus text line, and either the file has the log's name (or a rotated one) or its
/// first lines hold two of the bouncer's own messages (its start, or its counts).
pub fn looks_like_bouncer_log(path: &Path, head: &[u8]) -> bool {
    let named = is_bouncer_log_name(path);
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.trim_ascii().is_empty())
        .take(64);
    let Some(first) = lines.next() else {
        return named;
    };
    if !first.starts_with(b"time=") || !matches!(split_entry(first), Ok(Some(_))) {
        return false;
    }
    if named {
        return true;
    }
    let own = std::iter::once(first)
        .chain(lines)
        .filter_map(|l| split_entry(l).ok().flatten())
        .filter(|e| {
            is_start_message(&e.msg)
                || matches!(
                    parse_bouncer_message(&e.msg),
                    Some(BouncerMessage::AddedCount(_) | BouncerMessage::DeletedCount(_))
                )
        })
        .count();
    own >= 2
}

/// The line parser of the bouncer's log.
pub struct CrowdsecBouncerLogParser {
    path: Arc<Path>,
    /// Decisions named in `Adding` and `deleted` lines.
    named_added: u64,
    named_deleted: u64,
    /// What the info lines count.
    counted_added: u64,
    counted_deleted: u64,
    /// Decisions of types the bouncer does not apply.
    not_added: u64,
    /// What the bouncer added and has not removed (in its firewall until it stops).
    applied: std::collections::BTreeSet<ipnet::IpNet>,
}

impl CrowdsecBouncerLogParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        CrowdsecBouncerLogParser {
            path: ctx.path.clone(),
            named_added: 0,
            named_deleted: 0,
            counted_added: 0,
            counted_deleted: 0,
            not_added: 0,
            applied: Default::default(),
        }
    }

    fn read(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) -> Result<(), String> {
        let Some(entry) = split_entry(line)? else {
            return Err(format!("not a logrus line: {}", quote(line)));
        };
        // The messages read hold an address and a duration: nothing that Go's quoting
        // escapes. A message with an escape is another one (or a value that is no address).
        let Some(m) = parse_bouncer_message(&entry.msg) else {
            return Ok(());
        };
        let (value, action, duration) = match m {
            BouncerMessage::Added { value, duration } => (value, Action::Ban, Some(duration)),
            BouncerMessage::Deleted(value) => (value, Action::Unban, None),
            BouncerMessage::ShuttingDown => {
                let time = parse_log_time(&entry.time)
                    .ok_or_else(|| format!("unreadable time {}", quote(&entry.time)))?;
                for net in std::mem::take(&mut self.applied) {
                    self.event(net, Action::Unban, time, None, lineno, sink);
                }
                return Ok(());
            }
            BouncerMessage::NotAdded => {
                self.not_added += 1;
                return Ok(());
            }
            BouncerMessage::AddedCount(n) => {
                self.counted_added = self.counted_added.saturating_add(n);
                return Ok(());
            }
            BouncerMessage::DeletedCount(n) => {
                self.counted_deleted = self.counted_deleted.saturating_add(n);
                return Ok(());
            }
        };
        let net = parse_net(value)
            .ok_or_else(|| format!("a value that is not an address: {}", quote(value)))?;
        let time = parse_log_time(&entry.time)
            .ok_or_else(|| format!("unreadable time {}", quote(&entry.time)))?;
        let expires = match duration {
            Some(d) => {
                let delta = std::str::from_utf8(d)
                    .ok()
                    .and_then(parse_go_duration)
                    .ok_or_else(|| format!("unreadable duration {}", quote(d)))?;
                time.checked_add_signed(delta)
            }
            None => None,
        };
        match action {
            Action::Ban => {
                self.named_added += 1;
                self.applied.insert(net);
            }
            _ => {
                self.named_deleted += 1;
                self.applied.remove(&net);
            }
        }
        self.event(net, action, time, expires, lineno, sink);
        Ok(())
    }

    fn event(
        &self,
        net: ipnet::IpNet,
        action: Action,
        time: chrono::NaiveDateTime,
        expires: Option<chrono::NaiveDateTime>,
        lineno: u64,
        sink: &mut dyn Sink,
    ) {
        sink.event(
            BanEvent::new(
                net,
                Tool::Crowdsec,
                Format::CrowdsecBouncerLog,
                SCOPE.to_string(),
                action,
                Location::new(self.path.clone(), lineno),
            )
            .at(Some(time))
            .until(expires),
        );
    }
}

impl LineParser for CrowdsecBouncerLogParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if line.trim_ascii().is_empty() {
            return;
        }
        if let Err(why) = self.read(lineno, line, sink) {
            sink.malformed(lineno, format!("crowdsec-firewall-bouncer log: {why}"));
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if self.counted_added > 0 || self.counted_deleted > 0 {
            let named = if self.named_added + self.named_deleted == 0 {
                "; its lines name no address (level info): not findings, read CrowdSec's \
                 decisions or the firewall's set for them"
                    .to_string()
            } else {
                format!(
                    "; {} addition(s) and {} removal(s) named at level debug",
                    self.named_added, self.named_deleted
                )
            };
            sink.note(format!(
                "the firewall bouncer logged {} decision(s) added and {} deleted{named}",
                self.counted_added, self.counted_deleted
            ));
        }
        if self.not_added > 0 {
            sink.note(format!(
                "{} decision(s) of a type the bouncer does not apply (not in \
                 supported_decisions_types): not added",
                self.not_added
            ));
        }
    }
}

#[cfg(test)]
#[path = "bouncer_log_tests.rs"]
mod tests;
