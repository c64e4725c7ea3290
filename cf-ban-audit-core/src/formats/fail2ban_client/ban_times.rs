//! Saved `fail2ban-client get <JAIL> banip --with-time` output: one ban a line,
//! `ADDRESS \tSTART + BANTIME = END`, as fail2ban's `BanManager.getBanList(ordered=True,
//! withTime=True)` formats it (`'%s \t%s + %d = %s'`, times by `MyTime.time2str`, local time
//! `%Y-%m-%d %H:%M:%S`) and the client's beautifier joins with line breaks.
//!
//! A negative ban time is permanent (fail2ban writes `-1`, and its end as `9999-12-31
//! 23:59:59` or another far date): such a ban has no end. The output names no jail: the jail
//! is taken from the file name (see [`jail_from_name`]), else the scope is [`UNNAMED_JAIL`].

use std::path::Path;
use std::sync::Arc;

use chrono::{Datelike, NaiveDateTime};

use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::{quote, Format, LineParser, ParseCtx, Sink};

/// The scope of bans read from a file whose name does not give the jail.
pub const UNNAMED_JAIL: &str = "fail2ban (jail not named)";

/// The length of a time as `MyTime.time2str` writes it (`2026-11-24 03:06:42`).
const TIME_LEN: usize = 19;

/// One line of the output.
#[derive(Debug, PartialEq, Eq)]
struct Entry<'a> {
    id: &'a [u8],
    start: NaiveDateTime,
    bantime: i64,
    end: NaiveDateTime,
}

/// A time as `MyTime.time2str` writes it.
fn parse_time(text: &[u8]) -> Option<NaiveDateTime> {
    if text.len() != TIME_LEN || !text.is_ascii() {
        return None;
    }
    let text = std::str::from_utf8(text).ok()?;
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()
}

/// Reads one line: `ID \tSTART + BANTIME = END` (trailing white space tolerated). `None`
/// when the line does not have that shape; nothing is allocated.
fn parse_entry(line: &[u8]) -> Option<Entry<'_>> {
    let line = line.trim_ascii_end();
    let tab = memchr::memchr(b'\t', line)?;
    let id = line[..tab].trim_ascii_end();
    if id.is_empty() || id.len() == tab || id.iter().any(|b| b.is_ascii_whitespace()) {
        // No address, or no space before the tab as the writer puts it.
        return None;
    }
    let rest = &line[tab + 1..];
    let start = parse_time(rest.get(..TIME_LEN)?)?;
    let rest = rest[TIME_LEN..].strip_prefix(b" + ")?;
    let eq = memchr::memmem::find(rest, b" = ")?;
    let number = &rest[..eq];
    let digits = number.strip_prefix(b"-").unwrap_or(number);
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let bantime: i64 = std::str::from_utf8(number).ok()?.parse().ok()?;
    let end = parse_time(&rest[eq + 3..])?;
    Some(Entry {
        id,
        start,
        bantime,
        end,
    })
}

/// Whether the first bytes of a file are `fail2ban-client get <JAIL> banip --with-time`
/// output: every non-empty line has the shape `ADDRESS \tSTART + BANTIME = END`, and there is
/// at least one. A last line without its line break may have been cut by the head and is not
/// judged (unless it is the only line).
pub fn looks_like_ban_times(head: &[u8]) -> bool {
    let judged = match memchr::memrchr(b'\n', head) {
        Some(last) if last + 1 < head.len() => &head[..last],
        _ => head,
    };
    let mut any = false;
    for line in judged.split(|&b| b == b'\n') {
        if line.trim_ascii().is_empty() {
            continue;
        }
        if parse_entry(line).is_none() {
            return false;
        }
        any = true;
    }
    any
}

/// The jail a saved file's name gives: the name must hold `-banip` (or `_banip`, either
/// optionally followed by `-with-time` / `_with_time`) at its end or before a `.` (an
/// extension), and the jail is what stands before it, after a `get-` (or `get_`) that starts the name or follows a `-`, `_` or `.`
/// (`fail2ban-client-get-sshd-banip-with-time.txt`, `get-nginx-limit-req-banip.txt`,
/// `sshd-banip.txt` give `sshd`, `nginx-limit-req`, `sshd`). A leading `fail2ban-client-` is
/// dropped. `None` when the name has no such shape or the jail would hold other characters than
/// letters, digits and `-_.@`.
pub fn jail_from_name(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let (cut, _) = lower.rmatch_indices("banip").find(|&(i, _)| {
        let after = &lower[i + 5..];
        let after = after
            .strip_prefix("-with-time")
            .or_else(|| after.strip_prefix("_with_time"))
            .unwrap_or(after);
        i > 0 && matches!(bytes[i - 1], b'-' | b'_') && (after.is_empty() || after.starts_with('.'))
    })?;
    let mut jail = &name[..cut - 1];
    for prefix in ["fail2ban-client-", "fail2ban-client_", "fail2ban_client_"] {
        if let Some(rest) = jail.strip_prefix(prefix) {
            jail = rest;
        }
    }
    let bytes = jail.as_bytes();
    let mut from = None;
    for i in 0..bytes.len() {
        let at_boundary = i == 0 || matches!(bytes[i - 1], b'-' | b'_' | b'.');
        let tail = &bytes[i..];
        if at_boundary && (tail.starts_with(b"get-") || tail.starts_with(b"get_")) {
            from = Some(i + 4);
            break;
        }
    }
    if let Some(i) = from {
        jail = &jail[i..];
    }
    // `get-banip`: the command without its jail.
    let valid = !jail.is_empty()
        && !jail.eq_ignore_ascii_case("get")
        && jail.len() <= 64
        && jail
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'));
    valid.then(|| jail.to_string())
}

/// Parser of `fail2ban-client get <JAIL> banip --with-time` output (see the
/// [module documentation](self)). Each line is an [`Action::Listed`] event whose time is the
/// ban's start and whose end is the ban's end (none for a permanent ban), so that a scan
/// decides from its own time whether the ban still stands.
pub struct BanTimesParser {
    path: Arc<Path>,
    jail: String,
}

impl BanTimesParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        let jail = ctx
            .path
            .file_name()
            .and_then(|n| jail_from_name(&n.to_string_lossy()))
            .unwrap_or_else(|| UNNAMED_JAIL.to_string());
        BanTimesParser {
            path: ctx.path.clone(),
            jail,
        }
    }
}

impl LineParser for BanTimesParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if line.trim_ascii().is_empty() {
            return;
        }
        let Some(entry) = parse_entry(line) else {
            sink.malformed(
                lineno,
                format!(
                    "fail2ban-ban-times: not `ADDRESS \\tSTART + BANTIME = END`: {}",
                    quote(line)
                ),
            );
            return;
        };
        let Some(net) = parse_net(entry.id) else {
            sink.malformed(
                lineno,
                format!(
                    "fail2ban-ban-times: jail {}: not an address: {}",
                    self.jail,
                    quote(entry.id)
                ),
            );
            return;
        };
        // A negative ban time is permanent; fail2ban then writes a far end (its maximum
        // time, or the year 9999) that is no end.
        let expires = (entry.bantime >= 0 && entry.end.year() < 9999).then_some(entry.end);
        sink.event(
            BanEvent::new(
                net,
                Tool::Fail2ban,
                Format::Fail2banBanTimes,
                self.jail.clone(),
                Action::Listed,
                Location::new(self.path.clone(), lineno),
            )
            .at(entry.start)
            .until(expires),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::{ctx, Collect};

    #[test]
    fn entry_shape() {
        let e = parse_entry(b"2606:4700::1 \t2026-11-24 03:06:42 + 86400 = 2026-11-25 03:06:42\r")
            .unwrap();
        assert_eq!(e.id, b"2606:4700::1");
        assert_eq!(e.bantime, 86400);
        assert_eq!(e.end.to_string(), "2026-11-25 03:06:42");
        let bad: &[&[u8]] = &[
            b"",
            b"\t",
            b"104.16.0.1\t2026-11-24 03:06:42 + 1 = 2026-11-24 03:06:43",
            b" \t2026-11-24 03:06:42 + 1 = 2026-11-24 03:06:43",
            b"104.16.0.1 \t2026-11-24 03:06:42 + x = 2026-11-24 03:06:43",
            b"104.16.0.1 \t2026-11-24 03:06:42 + - = 2026-11-24 03:06:43",
            b"104.16.0.1 \t2026-11-24 03:06:42 + 1 = 2026-11-24 03:06",
            b"104.16.0.1 \t2026-11-24 03:06:42 + 1 = 2026-11-24 03:06:43 x",
            b"104.16.0.1 \t2026-13-24 03:06:42 + 1 = 2026-11-24 03:06:43",
            b"104.16.0.1 \t2026-11-24 03:06:42 + 99999999999999999999 = 2026-11-24 03:06:43",
            b"104.16.0.1 \t\xff\xfe26-11-24 03:06:42 + 1 = 2026-11-24 03:06:43",
            b"104.16.0.1 \t2026-11-24 03:06:\xc3\xa9 + 1 = 2026-11-24 03:06:43",
            b"\xff \t2026-11-24 03:06:42 + 1 =",
        ];
        for line in bad {
            assert_eq!(
                parse_entry(line),
                None,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn names() {
        assert_eq!(
            jail_from_name("target-sshd-banip.txt").as_deref(),
            Some("target-sshd")
        );
        assert_eq!(jail_from_name("x.get-sshd-banip").as_deref(), Some("sshd"));
        assert_eq!(
            jail_from_name("get-my.jail-banip.txt.gz").as_deref(),
            Some("my.jail")
        );
        assert_eq!(jail_from_name("sshd-banip-list.txt"), None);
        assert_eq!(
            jail_from_name("host1_get_sshd_banip.txt").as_deref(),
            Some("sshd")
        );
        assert_eq!(jail_from_name("my jail-banip.txt"), None);
        assert_eq!(jail_from_name("-banip"), None);
        assert_eq!(jail_from_name("\u{e9}\u{e9}-banip"), None);
    }

    fn read(name: &str, input: &[u8]) -> Collect {
        let mut parser = BanTimesParser::new(&ctx(name));
        let mut sink = Collect::default();
        crate::lines::for_each_line(&mut &input[..], |n, l| parser.line(n, l, &mut sink)).unwrap();
        parser.finish(&mut sink);
        sink
    }

    const SAMPLE: &[u8] = b"104.16.1.1 \t2026-11-23 10:00:00 + 600 = 2026-11-23 10:10:00\n\
        2606:4700::1 \t2026-11-24 03:06:42 + 86400 = 2026-11-25 03:06:42\n\
        173.245.48.0/20 \t2026-11-24 03:06:42 + -1 = 9999-12-31 23:59:59\n\
        172.64.0.9 \t2026-11-24 03:06:42 + -5 = 2026-11-24 03:06:37\n\
        \n";

    #[test]
    fn events_keep_start_and_end() {
        let got = read(
            "/tmp/fail2ban-client-get-nginx-limit-req-banip-with-time.txt",
            SAMPLE,
        );
        assert!(got.malformed.is_empty(), "{:?}", got.malformed);
        let rows: Vec<_> = got
            .events
            .iter()
            .map(|e| {
                (
                    crate::addr::display_net(&e.net),
                    e.scope.as_str(),
                    e.action,
                    e.time.map(|t| t.to_string()),
                    e.expires.map(|t| t.to_string()),
                    e.location.line,
                )
            })
            .collect();
        let t = |s: &str| Some(s.to_string());
        assert_eq!(
            rows,
            [
                (
                    "104.16.1.1".into(),
                    "nginx-limit-req",
                    Action::Listed,
                    t("2026-11-23 10:00:00"),
                    t("2026-11-23 10:10:00"),
                    1
                ),
                (
                    "2606:4700::1".into(),
                    "nginx-limit-req",
                    Action::Listed,
                    t("2026-11-24 03:06:42"),
                    t("2026-11-25 03:06:42"),
                    2
                ),
                (
                    "173.245.48.0/20".into(),
                    "nginx-limit-req",
                    Action::Listed,
                    t("2026-11-24 03:06:42"),
                    None,
                    3
                ),
                (
                    "172.64.0.9".into(),
                    "nginx-limit-req",
                    Action::Listed,
                    t("2026-11-24 03:06:42"),
                    None,
                    4
                ),
            ]
        );
        assert!(got
            .events
            .iter()
            .all(|e| e.format == Format::Fail2banBanTimes));
    }

    #[test]
    fn an_unnamed_file_has_the_unnamed_scope() {
        let got = read("-", SAMPLE);
        assert_eq!(got.events.len(), 4);
        assert!(got.events.iter().all(|e| e.scope == UNNAMED_JAIL));
    }

    #[test]
    fn garbage_and_invalid_utf8_are_malformed_never_a_panic() {
        let input: &[u8] = b"hello\n\xff\xfe\x00\t+ =\n\
            not-an-ip \t2026-11-24 03:06:42 + 1 = 2026-11-24 03:06:43\n\
            104.16.0.\xff \t2026-11-24 03:06:42 + 1 = 2026-11-24 03:06:43\n\
            104.16.0.2 \t2026-11-24 03:06:42 + 1 = 2026-11-24 03:06:43\n";
        let got = read("sshd-banip.txt", input);
        assert_eq!(got.events.len(), 1);
        let lines: Vec<u64> = got.malformed.iter().map(|m| m.0).collect();
        assert_eq!(lines, [1, 2, 3, 4]);
        assert!(
            got.malformed[2].1.contains("not an address"),
            "{:?}",
            got.malformed
        );
        for cut in 0..SAMPLE.len() {
            let _ = read("x", &SAMPLE[..cut]);
            let _ = looks_like_ban_times(&SAMPLE[..cut]);
        }
    }

    #[test]
    fn detection_needs_every_line_in_shape() {
        assert!(looks_like_ban_times(SAMPLE));
        // The head may end inside a line.
        assert!(looks_like_ban_times(&SAMPLE[..70]));
        assert!(!looks_like_ban_times(b""));
        assert!(!looks_like_ban_times(b"\n\n"));
        assert!(!looks_like_ban_times(b"104.16.1.1\n104.16.1.2\n"));
        let mut mixed = SAMPLE.to_vec();
        mixed.extend_from_slice(b"# comment\n");
        assert!(!looks_like_ban_times(&mixed));
        assert!(!looks_like_ban_times(
            b"\xff\xff \t2026-11-24 03:06:42 + 1 =\n"
        ));
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn looks_like_ban_times() {
        use crate::formats::fail2ban_client::looks_like_ban_times;
        assert!(looks_like_ban_times(
            b"172.64.155.20 \t2026-11-24 03:06:42 + 86400 = 2026-11-25 03:06:42\n"
        ));
        assert!(looks_like_ban_times(
            b"104.16.0.1 \t2026-11-24 03:06:42 + -1 = 9999-12-31 23:59:59\n"
        ));
        assert!(!looks_like_ban_times(b"172.64.155.20\n"));
        assert!(!looks_like_ban_times(
            b"104.16.0.1 \t2026-11-24 03:06:42 + 1 = 2026-11-24 03:06:43\nhello\n"
        ));
    }

    #[test]
    fn jail_from_name() {
        use crate::formats::fail2ban_client::jail_from_name;
        assert_eq!(
            jail_from_name("fail2ban-client-get-sshd-banip-with-time.txt").as_deref(),
            Some("sshd")
        );
        assert_eq!(
            jail_from_name("get-nginx-limit-req-banip.log").as_deref(),
            Some("nginx-limit-req")
        );
        assert_eq!(
            jail_from_name("recidive_banip").as_deref(),
            Some("recidive")
        );
        assert_eq!(jail_from_name("bans.txt"), None);
        assert_eq!(jail_from_name("get-banip.txt"), None);
    }

    #[test]
    fn ban_times_parser() {
        use crate::formats::fail2ban_client::BanTimesParser;
        use crate::formats::LineParser;

        let ctx = crate::formats::test_support::ctx("get-sshd-banip.txt");
        let mut parser = BanTimesParser::new(&ctx);
        let mut sink = crate::formats::test_support::Collect::default();
        parser.line(
            1,
            b"104.16.9.9 \t2026-11-24 03:06:42 + -1 = 9999-12-31 23:59:59",
            &mut sink,
        );
        assert_eq!(sink.events[0].scope, "sshd");
        assert_eq!(sink.events[0].expires, None);
    }
}
