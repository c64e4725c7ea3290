//! Durations and times as CrowdSec writes them: Go durations (`3h59m12.5s`) and RFC 3339
//! or Go `time.Time.String()` times.

use chrono::{DateTime, Datelike, Local, NaiveDateTime, TimeDelta};

/// Reads a Go duration (`time.Duration.String()` and `time.ParseDuration` syntax: an optional
/// sign, then numbers with an optional fraction, each followed by a unit `ns`, `us`, `µs`,
/// `ms`, `s`, `m`, `h`; CrowdSec also accepts `d` for days). `0` alone is zero.
pub fn parse_go_duration(text: &str) -> Option<TimeDelta> {
    let text = text.trim();
    let (negative, mut rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(TimeDelta::zero());
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_end];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += value * seconds;
    }
    // Go's Duration holds about 292 years; anything longer is not a duration.
    if !total.is_finite() || total > 9.3e9 {
        return None;
    }
    let millis = (total * 1000.0).round() as i64;
    let delta = TimeDelta::try_milliseconds(millis)?;
    Some(if negative { -delta } else { delta })
}

/// Reads a time as CrowdSec writes it, RFC 3339 (`2026-11-24T03:09:23Z`) or Go's
/// `time.Time.String()` (`2026-11-24 03:09:23 +0000 UTC`, as `start_at` in CrowdSec 1.4),
/// into the host's local time. Go's zero time (year 1) is no time.
pub fn parse_time(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    let parsed = DateTime::parse_from_rfc3339(text).ok().or_else(|| {
        let mut parts = text.split_ascii_whitespace();
        let (date, time, offset) = (parts.next()?, parts.next()?, parts.next()?);
        DateTime::parse_from_str(
            &format!("{date} {time} {offset}"),
            "%Y-%m-%d %H:%M:%S%.f %z",
        )
        .ok()
    })?;
    let local = parsed.with_timezone(&Local).naive_local();
    (local.year() > 1970).then_some(local)
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn parse_go_duration() {
        use crate::formats::crowdsec::parse_go_duration;
        assert_eq!(
            parse_go_duration("3h59m12.5s").unwrap().num_milliseconds(),
            14_352_500
        );
        assert_eq!(parse_go_duration("-1h2m").unwrap().num_seconds(), -3720);
        assert_eq!(
            parse_go_duration("59m15.2061326s").unwrap().num_seconds(),
            3555
        );
        assert_eq!(parse_go_duration("1d").unwrap().num_hours(), 24);
        assert!(parse_go_duration("4 hours").is_none());
    }

    #[test]
    fn parse_time() {
        use crate::formats::crowdsec::parse_time;
        let a = parse_time("2026-11-24T03:09:23Z").unwrap();
        let b = parse_time("2026-11-24 03:09:23 +0000 UTC").unwrap();
        assert_eq!(a, b);
        assert!(parse_time("0001-01-01T00:00:00Z").is_none());
        assert!(parse_time("yesterday").is_none());
    }
}
