//! fail2ban's log, in every form fail2ban writes it:
//!
//! - 0.9 and later, to a file: `%(asctime)s %(name)-24s[%(process)d]: %(levelname)-7s %(message)s`
//!   (`2026-11-24 03:06:43,825 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 172.64.155.20`);
//! - 0.8: the same with `%(name)-16s` and bans at WARNING
//!   (`2013-06-01 12:00:00,123 fail2ban.actions[1234]: WARNING [ssh] Ban 192.0.2.1`);
//! - very old, without a PID (`2006-02-13 15:52:30,388 fail2ban.actions: NOTICE [sendmail] Ban 1.2.3.4`);
//! - the verbose layouts of a server started with `-vv`, `-vvv` or more, each line indented by
//!   one space, with the thread and, from `-vvv` on, the logger but no date ([`verbose`]);
//! - through syslog or the journal (see [`super::syslog`]): with `logtarget = SYSLOG` the tag is
//!   the logger (`fail2ban.actions[15521]: NOTICE [sshd] Ban ...`); with `STDOUT` under systemd
//!   the tag is `fail2ban-server` and the message the whole file form, date included; with
//!   `SYSOUT` the file form without its date; with `SYSTEMD-JOURNAL` the tag is `fail2ban` and
//!   the message bare (`[sshd] Ban ...`).
//!
//! # Detection
//!
//! A file is fail2ban's log when more than half of its first records (blank lines, `#`
//! comments and indented continuation lines aside; a line indented by one space is a record of
//! a verbose layout) are fail2ban's own: `asctime`, a `fail2ban.<logger>`, `[pid]:` (when
//! written), a level, or one of the verbose layouts ([`detect`]). fail2ban writes nothing
//! else to its file (server/server.py `setLogTarget`, the format of helpers.py
//! `getVerbosityFormat`), so its head is all records; an application log that holds one line
//! shaped like them (a CWE-117 line break in a logged request value, such as PHP's
//! `error_log()` of a user name) is mostly the application's own lines and is not read as
//! fail2ban's. Inside a file of another format a line of this shape is never read: the other
//! format's reader reads its own lines only, and syslog hands lines over by their tag.
//!
//! # Lines
//!
//! A line counts only when its logger is fail2ban's own (`fail2ban.actions` for bans,
//! `fail2ban.observer` for `Increase Ban`; in the `-vv` layout, which names no logger, the
//! level fail2ban logs the message at) and its whole message has the exact shape fail2ban
//! gives it, from the `[jail]` to the end of the line. Text that an attacker put into a logged
//! line (fail2ban quotes failing lines in `Found a match for ...` warnings) therefore never
//! reads as a ban.

use super::registry::{Detection, FormatDescriptor, SyslogEntry, SyslogTag};
use std::sync::Arc;

use chrono::NaiveDateTime;

use super::grammar::head;
use super::grammar::time::parse_asctime;
use super::{Format, LineParser, ParseCtx, Sink};
use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool};

pub mod verbose;

/// What a fail2ban message says about an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// `Ban`, `Reban`, `Increase Ban`: a ban (the [`Action`] it maps to).
    Act(Action),
    /// `Found`: a failure was seen; context, never a finding.
    Found,
    /// `Ignore ... by ...`: the address was ignored; context, never a finding.
    Ignore,
}

/// One fail2ban message about one address: `[jail] Ban 192.0.2.1` and its kin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The jail, as written between the brackets.
    pub jail: &'a [u8],
    /// What happened.
    pub kind: MessageKind,
    /// The address or CIDR as written.
    pub addr: &'a [u8],
    /// For `Increase Ban`, the end of the prolonged ban.
    pub until: Option<NaiveDateTime>,
}

/// Splits `[jail] rest`; the jail holds no white space or `]`.
fn split_jail(msg: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = msg.strip_prefix(b"[")?;
    let close = memchr::memchr(b']', rest)?;
    let jail = &rest[..close];
    if jail.is_empty() || jail.len() > 128 || jail.iter().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    Some((jail, rest[close + 1..].strip_prefix(b" ")?))
}

/// A token that is the whole of `s` and holds no space: the address of the message.
fn whole_token(s: &[u8]) -> Option<&[u8]> {
    (!s.is_empty() && !s.contains(&b' ')).then_some(s)
}

/// Reads a fail2ban message (the `%(message)s` part, trailing white space trimmed).
pub fn parse_message(msg: &[u8]) -> Option<Message<'_>> {
    let (jail, rest) = split_jail(msg.trim_ascii_end())?;
    let mut until = None;
    let (kind, addr) = if let Some(a) = rest.strip_prefix(b"Ban ") {
        (MessageKind::Act(Action::Ban), whole_token(a)?)
    } else if let Some(a) = rest.strip_prefix(b"Restore Ban ") {
        (MessageKind::Act(Action::RestoreBan), whole_token(a)?)
    } else if let Some(a) = rest.strip_prefix(b"Unban ") {
        (MessageKind::Act(Action::Unban), whole_token(a)?)
    } else if let Some(a) = rest.strip_prefix(b"Reban ") {
        // `Reban ADDR` or `Reban ADDR, action 'NAME'` (1.x).
        let addr = match memchr::memchr(b',', a) {
            Some(comma) => {
                let tail = &a[comma..];
                if !(tail.starts_with(b", action '") && tail.ends_with(b"'")) {
                    return None;
                }
                &a[..comma]
            }
            None => a,
        };
        (MessageKind::Act(Action::Ban), whole_token(addr)?)
    } else if let Some(a) = rest.strip_prefix(b"Increase Ban ") {
        // `Increase Ban ADDR (3 # 4:00:00 -> 2025-11-03 08:12:55)`
        let space = memchr::memchr(b' ', a)?;
        let tail = a[space + 1..].strip_prefix(b"(")?.strip_suffix(b")")?;
        let arrow = memchr::memmem::find(tail, b" -> ")?;
        let (count, _) = tail[..arrow].split_at(memchr::memchr(b' ', &tail[..arrow])?);
        if count.is_empty() || !count.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let date = &tail[arrow + 4..];
        until = match parse_asctime(date) {
            Some((t, n)) if n == date.len() => Some(t),
            _ => None,
        };
        (MessageKind::Act(Action::Ban), &a[..space])
    } else if let Some(a) = rest.strip_suffix(b" already banned") {
        (MessageKind::Act(Action::AlreadyBanned), whole_token(a)?)
    } else if let Some(a) = rest.strip_prefix(b"Found ") {
        let addr = match memchr::memmem::find(a, b" - ") {
            Some(dash) => &a[..dash],
            None => a,
        };
        (MessageKind::Found, whole_token(addr)?)
    } else if let Some(a) = rest.strip_prefix(b"Ignore ") {
        let end = memchr::memchr2(b' ', b',', a).unwrap_or(a.len());
        (MessageKind::Ignore, &a[..end])
    } else {
        return None;
    };
    Some(Message {
        jail,
        kind,
        addr,
        until,
    })
}

/// The logger part of a line: `fail2ban.MOD`, then `   [PID]: ` / `[PID]: ` / `: `, then the
/// level, then the message. Returns the module name, the level and the message.
pub fn split_logger(s: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let rest = s.strip_prefix(b"fail2ban.")?;
    let end = rest
        .iter()
        .position(|&b| b == b' ' || b == b'[' || b == b':')?;
    let module = &rest[..end];
    if module.is_empty()
        || !module
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'_')
    {
        return None;
    }
    let mut rest = rest[end..].trim_ascii_start();
    if let Some(r) = rest.strip_prefix(b"[") {
        let close = memchr::memchr(b']', r)?;
        if close == 0 || !r[..close].iter().all(u8::is_ascii_digit) {
            return None;
        }
        rest = &r[close + 1..];
    }
    let rest = rest.strip_prefix(b":")?.trim_ascii_start();
    let (level, msg) = split_level(rest)?;
    Some((module, level, msg))
}

/// Splits `LEVEL   message` into the level (one of Python's and fail2ban's) and the message.
fn split_level(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let level_end = memchr::memchr(b' ', s)?;
    let level = &s[..level_end];
    is_level(level).then(|| (level, s[level_end..].trim_ascii_start()))
}

fn is_level(level: &[u8]) -> bool {
    verbose::is_level(level)
        || matches!(
            level,
            b"CRITICAL"
                | b"ERROR"
                | b"WARNING"
                | b"NOTICE"
                | b"INFO"
                | b"DEBUG"
                | b"HEAVYDEBUG"
                | b"TRACEDEBUG"
                | b"MSG"
        )
}

/// Whether a module may log this kind of message (fail2ban's own loggers only).
fn module_fits(module: &[u8], kind: MessageKind) -> bool {
    match kind {
        MessageKind::Act(_) => module == b"actions" || module == b"observer",
        MessageKind::Found | MessageKind::Ignore => {
            module == b"filter" || module.starts_with(b"filter")
        }
    }
}

/// Reads a logger part plus message (what follows `asctime` in the file, or the syslog tag
/// `fail2ban-server[pid]:` in the journal) into a [`Message`], checking that the module may
/// say it.
pub fn parse_logged(s: &[u8]) -> Option<Message<'_>> {
    let (module, _level, msg) = split_logger(s)?;
    let m = parse_message(msg)?;
    module_fits(module, m.kind).then_some(m)
}

/// Reads `LEVEL message` logged by fail2ban's logger `fail2ban.<module>` (the syslog target,
/// where the logger name is the syslog tag).
pub fn parse_module_message<'a>(module: &[u8], s: &'a [u8]) -> Option<Message<'a>> {
    let (_level, msg) = split_level(s)?;
    let m = parse_message(msg)?;
    module_fits(module, m.kind).then_some(m)
}

/// Decides whether a file is fail2ban's log: more than half of its first records are lines of
/// fail2ban's log file.
pub fn detect(head: &[u8]) -> bool {
    let (mut own, mut total) = (0, 0);
    for line in head_records(head) {
        total += 1;
        own += usize::from(looks_like(line));
    }
    head::mostly(own, total)
}

/// The first 20 records of `head`, as [`head::record_lines`] gives them, except that a line
/// indented by exactly one space is a record (every line of the verbose layouts is; Python's
/// tracebacks indent by two or more) and keeps its indent.
fn head_records(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    if lines.len() > 1 && !head.ends_with(b"\n") {
        lines.pop();
    }
    lines
        .into_iter()
        .filter(|l| !l.starts_with(b"\t") && !l.starts_with(b"  ") && !l.starts_with(b" \t"))
        .map(|l| l.trim_ascii_end())
        .filter(|l| {
            let t = l.trim_ascii_start();
            !t.is_empty() && !t.starts_with(b"#")
        })
        .take(20)
}

/// Whether a line looks like a line of fail2ban's log file (for detection).
pub fn looks_like(line: &[u8]) -> bool {
    if line.starts_with(b" ") {
        return verbose::split(line).is_some();
    }
    match parse_asctime(line) {
        Some((_, n)) => line[n..]
            .strip_prefix(b" ")
            .is_some_and(|r| split_logger(r).is_some()),
        None => false,
    }
}

/// Turns a message into an event, when it is one (bans and unbans; not `Found`/`Ignore`).
pub(crate) fn message_event(
    m: &Message<'_>,
    format: Format,
    time: Option<NaiveDateTime>,
    location: Location,
    sink: &mut dyn Sink,
) {
    let MessageKind::Act(action) = m.kind else {
        return;
    };
    let Some(net) = parse_net(m.addr) else {
        sink.malformed(
            location.line,
            format!(
                "fail2ban {action:?} of something that is not an address: {:?}",
                String::from_utf8_lossy(m.addr)
            ),
        );
        return;
    };
    let jail = String::from_utf8_lossy(m.jail);
    sink.jail_entry(net, &jail, action, time, &mut || {
        BanEvent::new(
            net,
            Tool::Fail2ban,
            format,
            jail.as_ref(),
            action,
            location.clone(),
        )
        .at(time)
        .until(m.until)
    });
}

/// The parser of fail2ban's own log file. Lines in the syslog or journal form (a log that
/// changed `logtarget`, or lines pasted from `journalctl`) are read as [`super::syslog`] reads
/// them.
pub struct Fail2banLogParser {
    path: Arc<std::path::Path>,
    syslog: super::syslog::SyslogParser,
}

impl Fail2banLogParser {
    /// A parser for one file.
    pub fn new(ctx: &ParseCtx) -> Self {
        Fail2banLogParser {
            path: ctx.path.clone(),
            syslog: super::syslog::SyslogParser::with_format(ctx, Format::Fail2banLog),
        }
    }
}

impl Fail2banLogParser {
    /// A line of one of the verbose layouts: the message counts when the logger may say it or,
    /// where the layout names no logger (`-vv`), when it has the level fail2ban says it at.
    fn verbose_line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let Some(v) = verbose::split(line) else {
            return;
        };
        let Some(m) = parse_message(v.message) else {
            return;
        };
        let fits = match v.module {
            Some(module) => module_fits(module, m.kind),
            None => verbose::level_fits(v.level, m.kind),
        };
        if fits {
            let location = Location::new(self.path.clone(), lineno);
            message_event(&m, Format::Fail2banLog, v.time, location, sink);
        }
    }
}

impl LineParser for Fail2banLogParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if line.starts_with(b" ") {
            self.verbose_line(lineno, line, sink);
            return;
        }
        // Fast path: most lines are `fail2ban.filter` (Found) or other loggers that never ban;
        // only `fail2ban.actions` and `fail2ban.observer` lines can.
        if let Some(logger) = line.get(23..).and_then(|r| r.strip_prefix(b" fail2ban.")) {
            if !(logger.starts_with(b"actions") || logger.starts_with(b"observer")) {
                return;
            }
        }
        let Some((time, n)) = parse_asctime(line) else {
            self.syslog.line(lineno, line, sink);
            return;
        };
        let Some(rest) = line[n..].strip_prefix(b" ") else {
            return;
        };
        if let Some(m) = parse_logged(rest) {
            let location = Location::new(self.path.clone(), lineno);
            message_event(&m, Format::Fail2banLog, Some(time), location, sink);
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        self.syslog.finish(sink);
    }
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// fail2ban's own log file (`/var/log/fail2ban.log`, rotated and compressed copies).
    pub const Fail2banLog: Format = Format::builtin(0, "fail2ban-log");
}

/// The fail2ban log's descriptor; it also owns fail2ban's syslog tags (its loggers
/// `fail2ban.*` with `logtarget = SYSLOG`, `fail2ban` with `SYSTEMD-JOURNAL`, and
/// `fail2ban-server` with `STDOUT` under systemd).
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::new(
    Format::Fail2banLog,
    &[Tool::Fail2ban],
    "fail2ban log: Ban, Restore Ban, Unban, already banned (0.8 to 1.x, and the -vv/-vvv layouts)",
    |ctx| Box::new(Fail2banLogParser::new(ctx)),
)
.usual_paths(&["/var/log/fail2ban.log"])
.detected_by(&[Detection::text(400, |_, head| detect(head))])
.chunkable()
.syslog_tags(&[
    SyslogTag::prefix(b"fail2ban.", "fail2ban", syslog_logger),
    SyslogTag::exact(b"fail2ban-server", "fail2ban", syslog_bare),
    SyslogTag::exact(b"fail2ban", "fail2ban", syslog_bare),
]);

/// A syslog line of one of fail2ban's loggers (`logtarget = SYSLOG`): the tag is the logger,
/// the message `LEVEL message`.
fn syslog_logger(e: &SyslogEntry<'_>, sink: &mut dyn Sink) {
    let module = &e.program[b"fail2ban.".len()..];
    if let Some(m) = parse_module_message(module, e.message) {
        message_event(&m, e.format, Some(e.time), e.location.clone(), sink);
    }
}

/// A syslog line tagged `fail2ban` or `fail2ban-server`: `logtarget = STDOUT` captured by the
/// journal (the file form, with its date), `SYSOUT` (the file form without its date), or the
/// bare message of `SYSTEMD-JOURNAL`.
fn syslog_bare(e: &SyslogEntry<'_>, sink: &mut dyn Sink) {
    let message = match parse_asctime(e.message) {
        Some((_, n)) => match e.message[n..].strip_prefix(b" ") {
            Some(rest) => rest,
            None => return,
        },
        None => e.message,
    };
    let m = if split_logger(message).is_some() {
        parse_logged(message)
    } else {
        parse_message(message)
    };
    if let Some(m) = m {
        message_event(&m, e.format, Some(e.time), e.location.clone(), sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(s: &str) -> Option<(String, MessageKind, String)> {
        let line = s.as_bytes();
        let (_, n) = parse_asctime(line)?;
        let m = parse_logged(&line[n + 1..])?;
        Some((
            String::from_utf8_lossy(m.jail).into(),
            m.kind,
            String::from_utf8_lossy(m.addr).into(),
        ))
    }

    #[test]
    fn every_version_of_the_line() {
        let ban = MessageKind::Act(Action::Ban);
        for line in [
            "2026-11-24 03:06:43,825 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 104.16.0.1",
            "2013-06-01 12:00:00,123 fail2ban.actions[1234]: WARNING [sshd] Ban 104.16.0.1",
            "2006-02-13 15:52:30,388 fail2ban.actions: NOTICE [sshd] Ban 104.16.0.1",
            "2026-11-24 03:06:43,825 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 104.16.0.1  \r",
        ] {
            assert_eq!(logged(line), Some(("sshd".into(), ban, "104.16.0.1".into())), "{line}");
        }
        let restore = logged("2024-05-01 10:00:00,123 fail2ban.actions        [812]: NOTICE  [sshd] Restore Ban 2606:4700::1").unwrap();
        assert_eq!(restore.1, MessageKind::Act(Action::RestoreBan));
        let inc = "2025-11-03 04:12:55,000 fail2ban.observer       [812]: NOTICE  [sshd] Increase Ban 104.16.0.1 (3 # 4:00:00 -> 2025-11-03 08:12:55)";
        assert_eq!(logged(inc).unwrap().1, ban);
        let reban = "2025-11-03 04:12:55,000 fail2ban.actions        [812]: NOTICE  [sshd] Reban 104.16.0.1, action 'iptables-multiport'";
        assert_eq!(logged(reban).unwrap().2, "104.16.0.1");
    }

    #[test]
    fn forged_text_is_not_a_ban() {
        for line in [
            // fail2ban quotes a failing line that an attacker wrote.
            "2026-11-24 03:06:43,825 fail2ban.filter         [15521]: WARNING Found a match for 'sshd[1]: Invalid user NOTICE  [sshd] Ban 104.16.0.1' but no valid date/time found",
            // a Ban message from a logger that does not ban
            "2026-11-24 03:06:43,825 fail2ban.filter         [15521]: NOTICE  [sshd] Ban 104.16.0.1",
            // text after the address
            "2026-11-24 03:06:43,825 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 104.16.0.1 x",
            // a lookalike logger
            "2026-11-24 03:06:43,825 xfail2ban.actions       [15521]: NOTICE  [sshd] Ban 104.16.0.1",
            "2026-11-24 03:06:43,825 fail2ban.actions        [15521]: NOTICE  [ss hd] Ban 104.16.0.1",
            "2026-11-24 03:06:43,825 fail2ban.actions        [15521]: BANNED  [sshd] Ban 104.16.0.1",
        ] {
            assert!(!matches!(logged(line), Some((_, MessageKind::Act(_), _))), "{line}");
        }
    }

    #[test]
    fn context_lines() {
        let found = logged("2020-12-04 18:53:55,849 fail2ban.filter         [1799251]: INFO    [sshd] Found 104.16.0.200 - 2020-12-04 18:53:55").unwrap();
        assert_eq!(found.1, MessageKind::Found);
        let ignore = logged("2016-05-19 02:00:29,518 fail2ban.filter         [28253]: INFO    [courier-smtp] Ignore 104.16.0.1 by ip").unwrap();
        assert_eq!(
            (ignore.1, ignore.2.as_str()),
            (MessageKind::Ignore, "104.16.0.1")
        );
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn detect() {
        use crate::formats::fail2ban_log::detect;
        let log = b"2026-11-24 03:06:40,001 fail2ban.server         [15521]: INFO    Starting Fail2ban v1.0.2\n\
                    2026-11-24 03:06:43,825 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 172.64.155.20\n";
        assert!(detect(log));
        // An application's log with one line shaped like fail2ban's.
        let app = b"2026-11-24 03:06:40,001 INFO app: login failed for x\n\
                    2026-11-24 03:06:43,825 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 104.16.0.1\n\
                    2026-11-24 03:06:44,002 INFO app: login failed for y\n";
        assert!(!detect(app));
    }

    #[test]
    fn parse_message() {
        use crate::formats::fail2ban_log::{parse_message, MessageKind};
        use crate::Action;
        let m = parse_message(b"[nginx-limit-req] Ban 173.245.48.0/20").unwrap();
        assert_eq!(
            (m.jail, m.kind, m.addr),
            (
                &b"nginx-limit-req"[..],
                MessageKind::Act(Action::Ban),
                &b"173.245.48.0/20"[..]
            )
        );
        assert_eq!(
            parse_message(b"[sshd] 104.16.0.1 already banned")
                .unwrap()
                .kind,
            MessageKind::Act(Action::AlreadyBanned)
        );
        assert!(parse_message(b"[sshd] Ban 104.16.0.1 from user x").is_none());
    }
}
