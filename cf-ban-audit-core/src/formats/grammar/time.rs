//! Timestamps at the start of log lines, read from bytes: Python's `asctime`
//! (`2026-11-24 03:06:43,825`), the BSD syslog stamp without a year (`Nov 24 03:06:43`),
//! ISO 8601 / RFC 3339 (`2026-11-24T03:06:43.123456+01:00`, rsyslog and `journalctl -o short-iso`),
//! and ModSecurity's audit time (`24/Nov/2026:03:04:39.334629 +0000`).
//!
//! Times are kept as the wall-clock time written in the log (the host's local time).

use chrono::{Datelike, NaiveDate, NaiveDateTime};

use super::num::{digits, fixed, month};

fn hms(b: &[u8]) -> Option<(u32, u32, u32)> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    Some((fixed(b, 2)?, fixed(&b[3..], 2)?, fixed(&b[6..], 2)?))
}

fn ymd(b: &[u8]) -> Option<NaiveDate> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(fixed(b, 4)? as i32, fixed(&b[5..], 2)?, fixed(&b[8..], 2)?)
}

/// Reads `YYYY-MM-DD HH:MM:SS` with an optional `,mmm` (Python `asctime`); returns the time
/// and the number of bytes it took (`2026-11-24 03:06:43,825 fail2ban` gives
/// 2026-11-24 03:06:43.825 and 23).
pub fn parse_asctime(b: &[u8]) -> Option<(NaiveDateTime, usize)> {
    let date = ymd(b)?;
    if b.get(10) != Some(&b' ') {
        return None;
    }
    let (h, m, s) = hms(&b[11..])?;
    let mut len = 19;
    let mut millis = 0;
    if b.get(19) == Some(&b',') {
        millis = fixed(&b[20..], 3)?;
        len = 23;
    }
    Some((date.and_hms_milli_opt(h, m, s, millis)?, len))
}

/// Reads an ISO 8601 / RFC 3339 timestamp (`T` separator, optional fraction and offset). The
/// wall-clock time as written is kept; the offset is read and dropped
/// (`2026-11-24T03:06:43.123456+01:00 vm` gives 2026-11-24 03:06:43.123456 and 32).
pub fn parse_iso(b: &[u8]) -> Option<(NaiveDateTime, usize)> {
    let date = ymd(b)?;
    if b.get(10) != Some(&b'T') {
        return None;
    }
    let (h, m, s) = hms(&b[11..])?;
    let mut i = 19;
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 9 {
            nanos = nanos * 10 + u32::from(b[i] - b'0');
            i += 1;
        }
        if i == start {
            return None;
        }
        nanos *= 10u32.pow((9 - (i - start)) as u32);
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    match b.get(i) {
        Some(b'Z') => i += 1,
        Some(b'+') | Some(b'-') => {
            fixed(&b[i + 1..], 2)?;
            if b.get(i + 3) == Some(&b':') {
                fixed(&b[i + 4..], 2)?;
                i += 6;
            } else {
                fixed(&b[i + 3..], 2)?;
                i += 5;
            }
        }
        _ => {}
    }
    Some((date.and_hms_nano_opt(h, m, s, nanos)?, i))
}

/// Reads a BSD syslog timestamp `Mmm dd HH:MM:SS` (day space- or zero-padded). The year is
/// the latest that does not put the date more than a day after `reference` (with a
/// reference of 2026-01-05, `Dec 31 23:59:59` is 2025-12-31 23:59:59).
pub fn parse_syslog(b: &[u8], reference: NaiveDateTime) -> Option<(NaiveDateTime, usize)> {
    if b.len() < 15 || b[3] != b' ' || b[6] != b' ' {
        return None;
    }
    let month = month(&b[..3])?;
    let day = match (b[4], b[5]) {
        (b' ', d) if d.is_ascii_digit() => u32::from(d - b'0'),
        _ => fixed(&b[4..], 2)?,
    };
    let (h, m, s) = hms(&b[7..])?;
    let mut year = reference.year();
    for _ in 0..8 {
        // Feb 29 exists only in leap years: walk back until the date exists and is not later.
        if let Some(t) =
            NaiveDate::from_ymd_opt(year, month, day).and_then(|d| d.and_hms_opt(h, m, s))
        {
            if t <= reference + chrono::Duration::days(1) {
                return Some((t, 15));
            }
        }
        year -= 1;
    }
    None
}

/// Reads the time of ModSecurity's audit logs (section A, v2 JSON, the concurrent index),
/// `%d/%b/%Y:%H:%M:%S` with optional microseconds and a zone (`+0000`, `-0400`, or Apache's
/// `--0400`), as the wall-clock time written; returns it and the number of bytes it took.
pub fn parse_audit_time(b: &[u8]) -> Option<(NaiveDateTime, usize)> {
    if b.len() < 20 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' || b[14] != b':' {
        return None;
    }
    if b[17] != b':' {
        return None;
    }
    let day = digits(&b[0..2])?;
    let mon = month(&b[3..6])?;
    let year = digits(&b[7..11])?;
    let (h, m, s) = (
        digits(&b[12..14])?,
        digits(&b[15..17])?,
        digits(&b[18..20])?,
    );
    let mut n = 20;
    let mut micro = 0u32;
    if b.get(n) == Some(&b'.') {
        let frac: &[u8] = &b[n + 1..];
        let len = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 || len > 9 {
            return None;
        }
        let mut v = digits(&frac[..len.min(6)])?;
        for _ in len..6 {
            v *= 10;
        }
        micro = v;
        n += 1 + len;
    }
    // The zone: ` +hhmm`, ` -hhmm` or ` --hhmm` (negative offsets through apr_strftime).
    if b.get(n) == Some(&b' ') {
        let z = &b[n + 1..];
        let sign = z.iter().take_while(|&&c| c == b'+' || c == b'-').count();
        if (1..=2).contains(&sign) && z.len() >= sign + 4 && digits(&z[sign..sign + 4]).is_some() {
            n += 1 + sign + 4;
        }
    }
    let date = NaiveDate::from_ymd_opt(year as i32, mon, day)?;
    Some((date.and_hms_micro_opt(h, m, s, micro)?, n))
}

/// Whether a line begins with the timestamp of a line-by-line log: Python's `asctime` and
/// ISO 8601 (`2026-11-24 03:06:43`, `2026-11-24T03:06:43`), nginx's error log
/// (`2026/11/24 03:06:43`), BSD syslog (`Nov 24 03:06:43`) or Apache's error log
/// (`[Tue Nov 24 03:04:39...`). Such a line starts a record of one of those logs; no
/// ModSecurity audit entry begins its lines that way but by chance of its request or response
/// text.
pub fn starts_log_record(line: &[u8]) -> bool {
    let far = NaiveDate::from_ymd_opt(2100, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("valid date");
    let slashed = |b: &[u8]| {
        b.len() >= 19
            && b[4] == b'/'
            && b[7] == b'/'
            && b[10] == b' '
            && fixed(b, 4).is_some()
            && fixed(&b[5..], 2).is_some()
            && fixed(&b[8..], 2).is_some()
            && hms(&b[11..]).is_some()
    };
    let apache = |b: &[u8]| {
        b.len() >= 20
            && b[0] == b'['
            && b[4] == b' '
            && b[1..4].iter().all(u8::is_ascii_alphabetic)
            && month(&b[5..8]).is_some()
    };
    parse_asctime(line).is_some()
        || parse_iso(line).is_some()
        || slashed(line)
        || parse_syslog(line, far).is_some()
        || apache(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_records() {
        for line in [
            &b"2026/11/24 06:50:39 [error] 10220#10220: *2 open() \"/var/www/html/x"[..],
            b"[Tue Nov 24 03:04:39.352114 2026] [security2:error] [pid 1] x",
            b"Nov 24 03:06:43 vm sshd[1]: x",
            b"2026-11-24 03:06:43,825 fail2ban.actions [1]: x",
            b"2026-11-24T03:06:43+0000 vm sshd[1]: x",
        ] {
            assert!(starts_log_record(line), "{}", String::from_utf8_lossy(line));
        }
        for line in [
            &b"--9991b327-A--"[..],
            b"[24/Nov/2026:03:04:39.334629 +0000] awT 127.0.0.1 42922 127.0.0.1 18092",
            b"Host: 127.0.0.1:18092",
            b"Message: Access denied with code 403 (phase 2).",
        ] {
            assert!(
                !starts_log_record(line),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    fn reference() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
    }

    #[test]
    fn documented_examples() {
        let (t, n) = parse_asctime(b"2026-11-24 03:06:43,825 fail2ban").unwrap();
        assert_eq!(t.to_string(), "2026-11-24 03:06:43.825");
        assert_eq!(n, 23);
        let (t, n) = parse_iso(b"2026-11-24T03:06:43.123456+01:00 vm fail2ban").unwrap();
        assert_eq!(t.to_string(), "2026-11-24 03:06:43.123456");
        assert_eq!(n, 32);
        let reference = NaiveDate::from_ymd_opt(2026, 1, 5)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let (t, n) = parse_syslog(b"Dec 31 23:59:59 vm fail2ban", reference).unwrap();
        assert_eq!(t.to_string(), "2025-12-31 23:59:59");
        assert_eq!(n, 15);
    }

    #[test]
    fn syslog_space_padded_day_and_leap_day() {
        let (t, _) = parse_syslog(b"Sep  6 00:44:55 x", reference()).unwrap();
        assert_eq!(t.to_string(), "2026-09-06 00:44:55");
        let (t, _) = parse_syslog(b"Feb 29 10:00:00 x", reference()).unwrap();
        assert_eq!(t.to_string(), "2024-02-29 10:00:00");
        assert!(parse_syslog(b"Foo 29 10:00:00 x", reference()).is_none());
        assert!(parse_syslog(b"Feb 30 10:00:00 x", reference()).is_none());
    }

    #[test]
    fn rejects_near_misses() {
        assert!(parse_asctime(b"2026-13-24 03:06:43,825").is_none());
        assert!(parse_asctime(b"2026-11-24T03:06:43").is_none());
        assert!(parse_asctime(b"2026-11-24 03:06").is_none());
        assert!(parse_iso(b"2026-11-24 03:06:43").is_none());
        assert!(parse_iso(b"2026-11-24T03:06:43+0").is_none());
        let (_, n) = parse_iso(b"2026-11-24T03:06:43Z").unwrap();
        assert_eq!(n, 20);
        let (_, n) = parse_iso(b"2026-11-24T03:06:43+0100 host").unwrap();
        assert_eq!(n, 24);
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn parse_audit_time() {
        use crate::formats::grammar::time::parse_audit_time;
        let (t, n) = parse_audit_time(b"24/Nov/2026:03:04:39.334629 +0000] x").unwrap();
        assert_eq!(
            (t.to_string().as_str(), n),
            ("2026-11-24 03:04:39.334629", 33)
        );
        let (t, _) = parse_audit_time(b"10/Mar/2020:12:13:30 --0400").unwrap();
        assert_eq!(t.to_string(), "2020-03-10 12:13:30");
    }
}
