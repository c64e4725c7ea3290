//! The syslog header: `TIMESTAMP HOST TAG[PID]: MESSAGE`, the timestamp being the BSD form
//! without a year (`Nov 24 03:06:43`) or RFC 3339 (rsyslog's high-precision format,
//! `journalctl -o short-iso`).

use chrono::NaiveDateTime;

use super::time::{parse_iso, parse_syslog};

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

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn split() {
        use crate::formats::syslog::split;
        use chrono::NaiveDate;
        let reference = NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let l = split(
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
    }
}
