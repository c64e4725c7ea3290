//! The syslog header: `TIMESTAMP HOST TAG[PID]: MESSAGE`, or `TIMESTAMP TAG[PID]: MESSAGE`
//! where the host is left out (`journalctl --no-hostname`). The timestamp is the BSD form
//! without a year (`Nov 24 03:06:43`) or RFC 3339 (rsyslog's high-precision format,
//! `journalctl -o short-iso`).
//!
//! # Which layout
//!
//! The two layouts differ in the first token after the timestamp: a host name (`vm`,
//! `web-1.example.com`, `2001:db8::1`), or the tag itself, which ends with `:` (`sshd[3141]:`,
//! `kernel:`). A host name holds no brackets and does not end with `:` (the [`Layout`] of a
//! line is therefore never both), so the first token, which the logger writes, says which layout
//! a line has; a message, which comes after the tag, cannot change it. A file has one layout:
//! [`head_layout`] finds it from the file's first lines (most of them must have it), and readers
//! keep to it ([`split_as`]). So in `Dec 03 12:56:48 myapp[14013]: fail2ban[1]: [sshd] Ban
//! 104.16.0.1` (no host) the tag is `myapp`, never the `fail2ban` of the message.

use chrono::NaiveDateTime;

use super::time::{parse_iso, parse_syslog};

/// The parts of a syslog line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyslogLine<'a> {
    /// When.
    pub time: NaiveDateTime,
    /// The host name (empty in the [`Layout::NoHost`] layout).
    pub host: &'a [u8],
    /// The tag (program name) without the PID.
    pub program: &'a [u8],
    /// The message, after `: `.
    pub message: &'a [u8],
}

/// Whether the lines of a file name their host before the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `TIMESTAMP HOST TAG[PID]: MESSAGE`: rsyslog, syslog-ng, `journalctl`.
    Host,
    /// `TIMESTAMP TAG[PID]: MESSAGE`: `journalctl --no-hostname`.
    NoHost,
}

/// A far reference date, for reading BSD timestamps where only the shape matters.
fn far() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2100, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("valid date")
}

/// Splits a line of the given layout into its parts; `None` for a line of another shape (of
/// the other layout among them). `reference` gives the year of BSD timestamps.
pub fn split_as(layout: Layout, line: &[u8], reference: NaiveDateTime) -> Option<SyslogLine<'_>> {
    let (time, n) = parse_syslog(line, reference).or_else(|| parse_iso(line))?;
    let rest = line[n..].strip_prefix(b" ")?;
    let (host, rest) = match layout {
        Layout::Host => {
            let host_end = memchr::memchr(b' ', rest)?;
            let host = &rest[..host_end];
            if !is_host(host) {
                return None;
            }
            (host, &rest[host_end + 1..])
        }
        Layout::NoHost => (&b""[..], rest),
    };
    let (program, message) = tag(rest)?;
    Some(SyslogLine {
        time,
        host,
        program,
        message,
    })
}

/// A host name as syslog writes it: a name or an address, never with brackets, white space or
/// a `:` at its end (which would make it a tag).
fn is_host(host: &[u8]) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && !host.ends_with(b":")
        && !host
            .iter()
            .any(|&b| matches!(b, b'[' | b']') || b.is_ascii_whitespace() || b.is_ascii_control())
}

/// Reads `TAG[PID]: MESSAGE` / `TAG: MESSAGE` into the program and the message. The tag is the
/// text up to the first `:`; it holds no white space.
fn tag(rest: &[u8]) -> Option<(&[u8], &[u8])> {
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
    Some((program, message))
}

/// The layout of one line's header, if it is a syslog line.
pub fn layout_of(line: &[u8]) -> Option<Layout> {
    let reference = far();
    [Layout::Host, Layout::NoHost]
        .into_iter()
        .find(|&layout| split_as(layout, line, reference).is_some())
}

/// The layout of a file, from the lines of its head: the one that more than half of them have.
/// `None` when no layout has a majority (a file of another format, maybe with a syslog line or
/// two in it).
pub fn head_layout<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Option<Layout> {
    let (mut host, mut no_host, mut total) = (0usize, 0usize, 0usize);
    for line in lines {
        total += 1;
        match layout_of(line) {
            Some(Layout::Host) => host += 1,
            Some(Layout::NoHost) => no_host += 1,
            None => {}
        }
    }
    if host * 2 > total {
        Some(Layout::Host)
    } else if no_host * 2 > total {
        Some(Layout::NoHost)
    } else {
        None
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn split_as() {
        use crate::formats::grammar::syslog::{split_as, Layout};
        use chrono::NaiveDate;
        let reference = NaiveDate::from_ymd_opt(2026, 12, 3)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let l = split_as(
            Layout::Host,
            b"Nov 24 03:06:43 vm fail2ban.actions[1]: NOTICE [sshd] Ban 104.16.0.1",
            reference,
        )
        .unwrap();
        assert_eq!(
            (l.host, l.program, l.message),
            (
                &b"vm"[..],
                &b"fail2ban.actions"[..],
                &b"NOTICE [sshd] Ban 104.16.0.1"[..]
            )
        );
        let line = b"Dec 03 12:56:48 myapp[14013]: fail2ban[1]: [sshd] Ban 104.16.0.1";
        let l = split_as(Layout::NoHost, line, reference).unwrap();
        assert_eq!(
            (l.program, l.message),
            (&b"myapp"[..], &b"fail2ban[1]: [sshd] Ban 104.16.0.1"[..])
        );
        // Read as if it named a host, `myapp[14013]:` is no host name.
        assert!(split_as(Layout::Host, line, reference).is_none());
    }

    #[test]
    fn head_layout() {
        use crate::formats::grammar::syslog::{head_layout, Layout};
        let no_host: [&[u8]; 3] = [
            b"Dec 03 12:56:48 kernel: Out of memory",
            b"Dec 03 12:56:48 systemd-journald[14003]: Journal started",
            b"-- Boot 1 --",
        ];
        assert_eq!(head_layout(no_host), Some(Layout::NoHost));
        let app: [&[u8]; 3] = [
            b"INFO:app:login failed for x",
            b"Nov 22 06:30:20 vm fail2ban.actions[1099]: NOTICE [sshd] Ban 104.16.0.1",
            b"INFO:app:login failed for y",
        ];
        assert_eq!(head_layout(app), None);
    }
}
