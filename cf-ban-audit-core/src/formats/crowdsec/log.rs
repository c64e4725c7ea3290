//! CrowdSec's own log (`/var/log/crowdsec.log`, [`Format::CrowdsecLog`]): the line the Local
//! API writes for each decision it stores.
//!
//! The Local API's database client logs every alert it stores with decisions, one line per
//! decision (`formatAlertAsString` in `pkg/database/alerts.go`, later
//! `Alert.FormatAsStrings` in `pkg/models/helpers.go`):
//!
//! ```text
//! (<machine>/<origin>) <scenario> by <source> : <duration> <type> on <Scope> <value>
//! (<machine>/<origin>) <scenario> for <i>/<n> decisions : <duration> <type> on <Scope> <value>
//! ```
//!
//! where `<source>` is `ip <address>` or `range <network>` (either followed by ` (<CC>/<ASN>)`
//! when known), `<Scope> <value>` for other scopes, or `empty source`; `(<origin>)` alone when
//! no machine is known; and `(simulated alert)` or `(simulated decision)` is glued before the
//! duration of a simulated decision. `<scenario>` is the alert's scenario (the reason given to
//! `cscli decisions add`), else its message. The line is written through logrus, in its text
//! form (`time="24-11-2026 03:09:23" level=info msg="..."`, the message quoted with Go's `%q`,
//! so `"` is `\"`; the time `02-01-2006 15:04:05` in local time up to 1.4, RFC 3339 since 1.5),
//! or, with `log_format: json`, its JSON form (`{"level":"info","msg":"...","time":"..."}`).
//!
//! Each decision line of scope `Ip` or `Range` becomes an [`Action::Ban`] at the line's time,
//! ending after the decision's duration; captchas, simulated decisions and other types are
//! handled as in the other CrowdSec readers (see [the module](super)). The scope of the event
//! is the scenario.
//!
//! What the log says of a decision's end:
//!
//! - **Expiry**: nothing. No release writes a line when a decision's time runs out (the flush
//!   only counts what it removes, `%d deleted orphan decisions`, with no address); the end is
//!   the line's time plus the duration it gives, which the event carries.
//! - **`cscli decisions delete`**: nothing either, in 1.4.6 as in every later release. The
//!   Local API's handler (`DeleteDecisions`, `SoftDeleteDecisionsWithFilter`, which sets the
//!   decisions' `until` to now) logs only its failures; the request itself goes to the Local
//!   API's access log, `crowdsec_api.log` (`DELETE /v1/decisions?ip=...`, read by
//!   [`super::api_log`]), not to this file. A `cscli decisions list` taken after it, saved or
//!   live (`--live`), says it too, as the latest word (see `crate::verdict`).
//! - **A deletion from the console** (CrowdSec 1.5 and later, the Polling API): one line per
//!   decision, `Decision from '<origin>' for '<value>' (<type>) has been deleted`
//!   ([`parse_deletion`]). It names no scenario, so it is an [`Action::Unban`] with an empty
//!   scope at the line's time (`(captcha)`, and marked a challenge, when its type is
//!   `captcha`), which the verdict joins to every finding of the address of that kind: it lifts
//!   the bans of the address in every scenario (or its challenges) that no later source holds.
//!   The message is read whole, anchored at both ends, so text that only quotes it (a request
//!   path in another message) is never a deletion.
//!
//! The scenario can hold anything an administrator typed (`cscli decisions add --reason`),
//! addresses and ` : 4h ban on Ip ...` included, so a line is read from its end: the value is
//! the last word, after `on <Scope>`, the type and ` : <duration>`. Other CrowdSec messages
//! are skipped by a prefilter (`on Ip `, `on Range `) without further work. A value of a
//! custom scope may hold spaces (a user name read from a log); a line whose decision text
//! appears twice (such a value ending in ` : 4h ban on Ip ...`) is ambiguous, and reported as
//! malformed rather than read.
//!
//! Lines are independent of each other, but the parser counts captchas, simulated decisions
//! and other types over the whole file for its notes, so the format is not
//! chunkable (see `FormatDescriptor::chunkable`): a file is read in one piece (CrowdSec
//! rotates it at `log_max_size`, and the prefilter skips other lines at memory speed).
//!
//! Not read here: the same lines sent to the journal or syslog (`log_media: stdout` under
//! systemd), and logrus' colored form (`force_colors`), whose message is not quoted.
//!
//! [`Action::Ban`]: crate::event::Action::Ban
//! [`Action::Unban`]: crate::event::Action::Unban

use std::borrow::Cow;
use std::path::Path;
use std::sync::LazyLock;

use chrono::NaiveDateTime;
use serde::Deserialize;

use super::decision::{Decision, Emitter};
use super::time::{parse_go_duration, parse_time};
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::prefilter::Prefilter;
use crate::formats::{quote, Format, LineParser, ParseCtx, Sink};

/// What every decision line holds (the scope, in the cases CrowdSec writes), and what a
/// deletion line holds.
pub(super) static WORDS: LazyLock<Prefilter> = LazyLock::new(|| {
    Prefilter::new(&[
        "on Ip ",
        "on Range ",
        "on ip ",
        "on range ",
        "on IP ",
        "on RANGE ",
        DELETED,
    ])
});

/// The end of the line the Local API writes for each decision the console deletes.
const DELETED: &str = ") has been deleted";

/// The prefix a TTY formatter of CrowdSec 1.5+ writes before each line (carriage return, erase
/// line).
const CLEAR_LINE: &[u8] = b"\r\x1b[K";

/// One log entry: its time and its message (unescaped when it may be a decision; as written
/// otherwise, see [`split_entry`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The `time` field as written (`24-11-2026 03:09:23`, or RFC 3339).
    pub time: Cow<'a, [u8]>,
    /// The `msg` field.
    pub msg: Cow<'a, [u8]>,
}

/// One decision as the Local API logs it; every part as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogDecision<'a> {
    /// The origin (`crowdsec`, `cscli`, `console`, ...), without the machine.
    pub origin: &'a [u8],
    /// The alert's scenario, the reason of a manual decision, or its message.
    pub scenario: &'a [u8],
    /// The duration, a Go duration (`4h`, `3h59m12.5s`).
    pub duration: &'a [u8],
    /// The type (`ban`, `captcha`, ...).
    pub kind: &'a [u8],
    /// The scope, `Ip` or `Range` (in any case).
    pub scope: &'a [u8],
    /// The decision's value: the address or network.
    pub value: &'a [u8],
    /// Marked `(simulated alert)` or `(simulated decision)`.
    pub simulated: bool,
}

/// A logrus JSON line (`log_format: json`).
#[derive(Deserialize)]
struct JsonEntry<'a> {
    #[serde(borrow, default)]
    time: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    msg: Option<Cow<'a, str>>,
    level: Option<serde::de::IgnoredAny>,
}

/// A quoted (`"..."`, Go escapes) or bare logrus value at the start of `s`: its raw text and
/// the rest after it. `None` when a quote is not closed.
fn value(s: &[u8]) -> Option<(&[u8], bool, &[u8])> {
    match s.strip_prefix(b"\"") {
        Some(body) => {
            let mut i = 0;
            while i < body.len() {
                match body[i] {
                    b'\\' => i += 2,
                    b'"' => return Some((&body[..i], true, &body[i + 1..])),
                    _ => i += 1,
                }
            }
            None
        }
        None => {
            let end = memchr::memchr(b' ', s).unwrap_or(s.len());
            Some((&s[..end], false, &s[end..]))
        }
    }
}

/// The raw (still escaped) fields of a logrus text line.
struct TextLine<'a> {
    time: &'a [u8],
    msg: &'a [u8],
    /// Whether the message was quoted (a message of one word is not).
    quoted: bool,
}

/// The raw fields of a logrus text line: `Ok(None)` for a line of another shape, `Err` for a
/// logrus line that cannot be read (a quote never closed).
fn split_text(line: &[u8]) -> Result<Option<TextLine<'_>>, &'static str> {
    let line = line.strip_prefix(CLEAR_LINE).unwrap_or(line);
    let Some(rest) = line.strip_prefix(b"time=") else {
        return Ok(None);
    };
    const BROKEN: &str = "logrus line whose quoting is broken";
    let (time, _, rest) = value(rest).ok_or(BROKEN)?;
    let Some(rest) = rest.strip_prefix(b" level=") else {
        return Ok(None);
    };
    let (_, _, rest) = value(rest).ok_or(BROKEN)?;
    let Some(rest) = rest.strip_prefix(b" msg=") else {
        return Ok(None);
    };
    let (msg, quoted, rest) = value(rest).ok_or(BROKEN)?;
    if !(rest.is_empty() || rest.starts_with(b" ")) {
        return Err(BROKEN);
    }
    Ok(Some(TextLine { time, msg, quoted }))
}

/// Undoes Go's `%q` (`strconv.Quote`): `\"`, `\\`, `\n` and the other one-letter escapes,
/// `\xHH`, `\uHHHH`, `\UHHHHHHHH` and octal `\NNN`. Borrows when there is nothing to undo.
pub fn unquote(raw: &[u8]) -> Option<Cow<'_, [u8]>> {
    if !raw.contains(&b'\\') {
        return Some(Cow::Borrowed(raw));
    }
    fn hex(digits: &[u8]) -> Option<u32> {
        let text = std::str::from_utf8(digits).ok()?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(text, 16).ok()
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'\\' {
            out.push(raw[i]);
            i += 1;
            continue;
        }
        let e = *raw.get(i + 1)?;
        i += 2;
        match e {
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'\\' | b'"' | b'\'' => out.push(e),
            b'x' => {
                out.push(hex(raw.get(i..i + 2)?)? as u8);
                i += 2;
            }
            b'u' | b'U' => {
                let n = if e == b'u' { 4 } else { 8 };
                let c = char::from_u32(hex(raw.get(i..i + n)?)?)?;
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                i += n;
            }
            b'0'..=b'7' => {
                let digits = raw.get(i - 1..i + 2)?;
                if !digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                    return None;
                }
                let v = digits.iter().fold(0u32, |v, d| v * 8 + u32::from(d - b'0'));
                out.push(u8::try_from(v).ok()?);
                i += 2;
            }
            _ => return None,
        }
    }
    Some(Cow::Owned(out))
}

/// Whether a message (raw or unescaped) ends like a decision of scope Ip or Range:
/// `... on Ip <value>`.
fn ends_like_decision(msg: &[u8]) -> bool {
    let msg = msg.trim_ascii_end();
    let Some(sp) = memchr::memrchr(b' ', msg) else {
        return false;
    };
    let rest = &msg[..sp];
    let Some(sp2) = memchr::memrchr(b' ', rest) else {
        return false;
    };
    let scope = &rest[sp2 + 1..];
    sp + 1 < msg.len()
        && (scope.eq_ignore_ascii_case(b"ip") || scope.eq_ignore_ascii_case(b"range"))
        && rest[..sp2].ends_with(b" on")
}

/// Reads one line of CrowdSec's log, text or JSON: `Ok(None)` for a line of another shape.
/// Messages are unescaped only when they may be a decision of scope Ip or Range.
pub fn split_entry(line: &[u8]) -> Result<Option<Entry<'_>>, &'static str> {
    let trimmed = line.trim_ascii_start();
    if trimmed.starts_with(b"{") {
        let Ok(entry) = serde_json::from_slice::<JsonEntry<'_>>(trimmed) else {
            return Err("JSON log line that cannot be read");
        };
        let (Some(msg), Some(_)) = (entry.msg, entry.level) else {
            return Ok(None);
        };
        fn bytes(c: Cow<'_, str>) -> Cow<'_, [u8]> {
            match c {
                Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
                Cow::Owned(s) => Cow::Owned(s.into_bytes()),
            }
        }
        return Ok(Some(Entry {
            time: entry.time.map(bytes).unwrap_or_default(),
            msg: bytes(msg),
        }));
    }
    let Some(TextLine { time, msg, quoted }) = split_text(line)? else {
        return Ok(None);
    };
    // Only a message that may be a decision is unescaped (and so may allocate).
    if !quoted || !ends_like_decision(msg) {
        return Ok(Some(Entry {
            time: Cow::Borrowed(time),
            msg: Cow::Borrowed(msg),
        }));
    }
    let bad = "logrus line with an invalid escape";
    Ok(Some(Entry {
        time: unquote(time).ok_or(bad)?,
        msg: unquote(msg).ok_or(bad)?,
    }))
}

/// Reads the time of a CrowdSec log line: `24-11-2026 03:09:23` (up to 1.4, local time) or
/// RFC 3339 (1.5 and later), into the host's local time.
pub fn parse_log_time(text: &[u8]) -> Option<NaiveDateTime> {
    let text = std::str::from_utf8(text).ok()?.trim();
    NaiveDateTime::parse_from_str(text, "%d-%m-%Y %H:%M:%S")
        .ok()
        .or_else(|| parse_time(text))
}

/// `<msg> for <i>/<n> decisions`: the `<msg>`.
fn strip_count(reason: &[u8]) -> Option<&[u8]> {
    let rest = reason.strip_suffix(b" decisions")?;
    let sp = memchr::memrchr(b' ', rest)?;
    let (count, head) = (&rest[sp + 1..], rest[..sp].strip_suffix(b" for")?);
    let slash = memchr::memchr(b'/', count)?;
    let digits = |d: &[u8]| !d.is_empty() && d.len() < 10 && d.iter().all(u8::is_ascii_digit);
    (digits(&count[..slash]) && digits(&count[slash + 1..])).then_some(head)
}

/// Whether the text after ` by ` is a source as CrowdSec writes it.
fn is_source(src: &[u8]) -> bool {
    if src == b"empty source" {
        return true;
    }
    let Some(sp) = memchr::memchr(b' ', src) else {
        return false;
    };
    let (scope, rest) = (&src[..sp], &src[sp + 1..]);
    if !(scope == b"ip" || scope == b"range") {
        // `<Scope> <value>` of another scope: the value may hold anything.
        return !scope.is_empty() && !rest.is_empty();
    }
    let end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
    let geo = &rest[end..];
    end > 0
        && (geo.is_empty()
            || geo
                .strip_prefix(b" (")
                .and_then(|g| g.strip_suffix(b")"))
                .is_some_and(|g| !g.contains(&b' ')))
}

/// Reads a decision message (the `msg` of the line, unescaped) from its end: `Ok(None)` when
/// it does not end like a decision of scope Ip or Range, `Err` when it does but the rest of it
/// is not what CrowdSec writes.
pub fn parse_message(msg: &[u8]) -> Result<Option<LogDecision<'_>>, &'static str> {
    let msg = msg.trim_ascii_end();
    if !ends_like_decision(msg) {
        return Ok(None);
    }
    // `ends_like_decision` found both spaces and ` on`.
    let sp = memchr::memrchr(b' ', msg).unwrap_or(0);
    let value = &msg[sp + 1..];
    let sp2 = memchr::memrchr(b' ', &msg[..sp]).unwrap_or(0);
    let scope = &msg[sp2 + 1..sp];
    let rest = &msg[..sp2 - 3];
    let sp3 = memchr::memrchr(b' ', rest).ok_or("no decision type")?;
    let kind = &rest[sp3 + 1..];
    let rest = &rest[..sp3];
    let colon = memchr::memmem::rfind(rest, b" : ").ok_or("no \" : \" before the decision")?;
    let (head, tail) = (&rest[..colon], &msg[colon..]);
    let mut duration = &rest[colon + 3..];
    let mut simulated = false;
    for mark in [&b"(simulated alert)"[..], b"(simulated decision)"] {
        if let Some(d) = duration.strip_prefix(mark) {
            (duration, simulated) = (d, true);
        }
    }
    if kind.is_empty() || duration.is_empty() || duration.contains(&b' ') {
        return Err("no duration and type before the scope");
    }
    let head = head.strip_prefix(b"(").ok_or("no (origin) at the start")?;
    let close = memchr::memmem::find(head, b") ").ok_or("no (origin) at the start")?;
    let machine_origin = &head[..close];
    let origin = match memchr::memrchr(b'/', machine_origin) {
        Some(slash) => &machine_origin[slash + 1..],
        None => machine_origin,
    };
    let reason = &head[close + 2..];
    let scenario = match strip_count(reason) {
        Some(m) => m,
        None => {
            let by = memchr::memmem::rfind(reason, b" by ").ok_or("no \" by <source>\"")?;
            if !is_source(&reason[by + 4..]) {
                return Err("no source after \" by \"");
            }
            &reason[..by]
        }
    };
    // A custom scope's value ending in a decision text reads as a second decision: the same
    // decision text then also stands before (in the source, or in the value).
    if memchr::memmem::find(&msg[..colon], tail).is_some() {
        return Err("ambiguous: the decision text appears twice");
    }
    Ok(Some(LogDecision {
        origin,
        scenario,
        duration,
        kind,
        scope,
        value,
        simulated,
    }))
}

/// A decision the console deleted, as the Local API logs it (CrowdSec 1.5 and later,
/// `pkg/apiserver/papi_cmd.go`): `Decision from '<origin>' for '<value>' (<type>) has been
/// deleted`, every part as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogDeletion<'a> {
    /// The decision's origin (`crowdsec`, `cscli`, `CAPI`, ...).
    pub origin: &'a [u8],
    /// Its value: for a decision of scope Ip or Range, the address or network.
    pub value: &'a [u8],
    /// Its type (`ban`, `captcha`, ...).
    pub kind: &'a [u8],
}

/// Reads a deletion message (the whole `msg` of a line), anchored at both ends: `None` for any
/// other message, such as one that only holds the text of a deletion after words of its own.
pub fn parse_deletion(msg: &[u8]) -> Option<LogDeletion<'_>> {
    let rest = msg
        .strip_prefix(b"Decision from '")?
        .strip_suffix(DELETED.as_bytes())?;
    let open = memchr::memmem::rfind(rest, b"' (")?;
    let (head, kind) = (&rest[..open], &rest[open + 3..]);
    let sep = memchr::memmem::find(head, b"' for '")?;
    let (origin, value) = (&head[..sep], &head[sep + 7..]);
    let word = |w: &[u8]| {
        !w.is_empty()
            && w.iter()
                .all(|&b| b.is_ascii_graphic() && !matches!(b, b'\'' | b'(' | b')' | b'"'))
    };
    (word(origin) && word(value) && word(kind)).then_some(LogDeletion {
        origin,
        value,
        kind,
    })
}

/// Whether a file name is CrowdSec's log or a rotated copy of it: `crowdsec.log`,
/// `crowdsec.log.1`, `crowdsec.log.2.gz`, `crowdsec.log-20261124`, and lumberjack's backups
/// `crowdsec-2026-11-24T03-09-23.000.log(.gz)`, whatever the compression suffix
/// ([`crate::decompress::strip_suffixes`]).
fn is_log_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let name = crate::decompress::strip_suffixes(name);
    if name.ends_with(".json") {
        return false;
    }
    name == "crowdsec.log"
        || name.starts_with("crowdsec.log.")
        || name.starts_with("crowdsec.log-")
        || name
            .strip_prefix("crowdsec-")
            .and_then(|s| s.strip_suffix(".log"))
            .is_some_and(|s| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'T' | b'.'))
            })
}

/// Decides whether a file is CrowdSec's log: logrus lines under the log's name (or a rotated
/// one), or, under any name, logrus lines among which CrowdSec's start banner
/// (`Crowdsec v1.4.6-...`) or a decision.
pub fn looks_like_log(path: &Path, head: &[u8]) -> bool {
    let named = is_log_name(path);
    for line in head.split(|&b| b == b'\n').take(64) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Ok(Some(entry)) = split_entry(line) else {
            continue;
        };
        if named
            || entry.msg.starts_with(b"Crowdsec v")
            || matches!(parse_message(&entry.msg), Ok(Some(_)))
        {
            return true;
        }
    }
    named && head.trim_ascii().is_empty()
}

/// The line parser of CrowdSec's log.
pub struct CrowdsecLogParser {
    emit: Emitter,
    /// Decisions deleted from the console.
    deletions: u64,
}

impl CrowdsecLogParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        CrowdsecLogParser {
            emit: Emitter::new(ctx, Format::CrowdsecLog),
            deletions: 0,
        }
    }

    /// Reads one line that holds a scope word; `Err` is a malformed decision line.
    fn read(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) -> Result<(), String> {
        let Some(entry) = split_entry(line)? else {
            return Ok(());
        };
        if let Some(deleted) = parse_deletion(&entry.msg) {
            return self.deletion(lineno, &entry, deleted, sink);
        }
        let Some(d) =
            parse_message(&entry.msg).map_err(|why| format!("{why}: {}", quote(&entry.msg)))?
        else {
            return Ok(());
        };
        let time = parse_log_time(&entry.time)
            .ok_or_else(|| format!("unreadable time {}", quote(&entry.time)))?;
        fn text(b: &[u8]) -> Result<&str, String> {
            std::str::from_utf8(b).map_err(|_| format!("not UTF-8: {}", quote(b)))
        }
        let (scope, value, kind, duration) = (
            text(d.scope)?,
            text(d.value)?,
            text(d.kind)?,
            text(d.duration)?,
        );
        let delta = parse_go_duration(duration)
            .ok_or_else(|| format!("unreadable duration {}", quote(d.duration)))?;
        let scenario = match d.scenario.trim_ascii() {
            [] => String::from_utf8_lossy(d.origin),
            s => String::from_utf8_lossy(s),
        };
        let decision = Decision {
            scope,
            value,
            kind,
            scenario: &scenario,
            simulated: d.simulated,
            time: Some(time),
            expires: time.checked_add_signed(delta),
            action: Some(Action::Ban),
            ..Decision::default()
        };
        self.emit.emit(&decision, lineno, sink);
        Ok(())
    }
}

impl CrowdsecLogParser {
    /// A decision the console deleted: an unban of its address, in every scenario (the line
    /// names none), of bans or of challenges as its type says, at the line's time. A value
    /// that is no address (a decision of another scope) is skipped.
    fn deletion(
        &mut self,
        lineno: u64,
        entry: &Entry<'_>,
        deleted: LogDeletion<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), String> {
        let Some(net) = crate::addr::parse_net(deleted.value) else {
            return Ok(());
        };
        let time = parse_log_time(&entry.time)
            .ok_or_else(|| format!("unreadable time {}", quote(&entry.time)))?;
        self.deletions += 1;
        let challenge = deleted.kind.eq_ignore_ascii_case(b"captcha");
        // No scenario: every scenario of the address, of bans or of challenges.
        let scope = if challenge {
            super::CAPTCHA_SUFFIX.trim_start()
        } else {
            ""
        };
        sink.event(
            BanEvent::new(
                net,
                Tool::Crowdsec,
                Format::CrowdsecLog,
                scope,
                Action::Unban,
                Location::new(self.emit.path.clone(), lineno),
            )
            .at(time)
            .challenge(challenge),
        );
        Ok(())
    }
}

impl LineParser for CrowdsecLogParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if !WORDS.matches(line) {
            return;
        }
        if let Err(why) = self.read(lineno, line, sink) {
            sink.malformed(lineno, format!("CrowdSec log decision line: {why}"));
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        self.emit.notes(sink);
        if self.deletions > 0 {
            sink.note(format!(
                "{} decision(s) deleted from the console: read as unbans of their address in \
                 every scenario",
                self.deletions
            ));
        }
    }
}

#[cfg(test)]
#[path = "log_tests.rs"]
mod tests;

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn split_entry() {
        use crate::formats::crowdsec::split_entry;
        let line = br#"time="24-11-2026 03:09:23" level=info msg="(m/cscli) manual: say \"hi\" by ip 104.16.1.10 : 4h ban on Ip 104.16.1.10""#;
        let e = split_entry(line).unwrap().unwrap();
        assert_eq!(&e.time[..], b"24-11-2026 03:09:23");
        assert_eq!(
            &e.msg[..],
            &br#"(m/cscli) manual: say "hi" by ip 104.16.1.10 : 4h ban on Ip 104.16.1.10"#[..]
        );
        assert!(split_entry(b"Nov 24 03:09:23 host sshd[1]: x")
            .unwrap()
            .is_none());
    }

    #[test]
    fn parse_log_time() {
        use crate::formats::crowdsec::parse_log_time;
        let t = parse_log_time(b"24-11-2026 03:09:23").unwrap();
        assert_eq!(t.to_string(), "2026-11-24 03:09:23");
        assert!(parse_log_time(b"2026-11-24T03:09:23Z").is_some());
        assert!(parse_log_time(b"yesterday").is_none());
    }

    #[test]
    fn parse_message() {
        use crate::formats::crowdsec::parse_message;
        let d = parse_message(b"(m/cscli) manual: x : 4h ban on Ip 104.16.0.1 by ip 192.0.2.7 : 4h ban on Ip 192.0.2.7").unwrap().unwrap();
        assert_eq!(
            (d.value, d.scenario),
            (
                &b"192.0.2.7"[..],
                &b"manual: x : 4h ban on Ip 104.16.0.1"[..]
            )
        );
        assert!(
            parse_message(b"CrowdSec Local API listening on 127.0.0.1:8080")
                .unwrap()
                .is_none()
        );
        assert!(parse_message(b"garbage 4h ban on Ip 192.0.2.7").is_err());
    }

    #[test]
    fn looks_like_log() {
        use crate::formats::crowdsec::looks_like_log;
        use std::path::Path;
        let head = b"time=\"24-11-2026 03:09:14\" level=info msg=\"Crowdsec v1.4.6\"\n";
        assert!(looks_like_log(Path::new("/backup/agent.txt"), head));
        let other =
            b"time=\"24-11-2026 03:09:14\" level=info msg=\"Decision successfully added\"\n";
        assert!(!looks_like_log(Path::new("/tmp/cscli-output.txt"), other));
        assert!(looks_like_log(
            Path::new("/var/log/crowdsec.log.2.gz"),
            other
        ));
    }
}
