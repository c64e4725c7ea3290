//! How report fields that are typed in Rust are written as text in the JSON report.

/// A banned address or network: a bare address for a single address (`172.64.155.20`), CIDR
/// text otherwise (`104.16.0.0/13`), as [`crate::addr::display_net`] writes it.
pub(super) mod net {
    use std::net::IpAddr;

    use ipnet::IpNet;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(net: &IpNet, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::addr::display_net(net))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<IpNet, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse(&text).ok_or_else(|| D::Error::custom(format!("not an address or CIDR: {text:?}")))
    }

    /// The inverse of [`crate::addr::display_net`].
    pub(crate) fn parse(text: &str) -> Option<IpNet> {
        if text.contains('/') {
            text.parse().ok()
        } else {
            text.parse::<IpAddr>().ok().map(IpNet::from)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::net;

    #[test]
    fn nets_read_back_as_written() {
        for text in [
            "172.64.155.20",
            "104.16.0.0/13",
            "2606:4700::1",
            "2400:cb00::/32",
        ] {
            let parsed = net::parse(text).unwrap();
            assert_eq!(crate::addr::display_net(&parsed), text);
        }
        assert_eq!(net::parse("2606:4700::1").unwrap().prefix_len(), 128);
        assert!(net::parse("example.com").is_none());
        assert!(net::parse("104.16.0.0/33").is_none());
    }
}

/// An [`std::io::ErrorKind`], by the kebab-case form of its name (`permission-denied`).
pub(super) mod error_kind {
    use std::io::ErrorKind;

    use serde::{Deserialize, Deserializer, Serializer};

    /// The kinds a report names; any other reads back as [`ErrorKind::Other`].
    const KINDS: &[ErrorKind] = &[
        ErrorKind::NotFound,
        ErrorKind::PermissionDenied,
        ErrorKind::ConnectionRefused,
        ErrorKind::ConnectionReset,
        ErrorKind::HostUnreachable,
        ErrorKind::NetworkUnreachable,
        ErrorKind::ConnectionAborted,
        ErrorKind::NotConnected,
        ErrorKind::AddrInUse,
        ErrorKind::AddrNotAvailable,
        ErrorKind::NetworkDown,
        ErrorKind::BrokenPipe,
        ErrorKind::AlreadyExists,
        ErrorKind::WouldBlock,
        ErrorKind::NotADirectory,
        ErrorKind::IsADirectory,
        ErrorKind::DirectoryNotEmpty,
        ErrorKind::ReadOnlyFilesystem,
        ErrorKind::StaleNetworkFileHandle,
        ErrorKind::InvalidInput,
        ErrorKind::InvalidData,
        ErrorKind::TimedOut,
        ErrorKind::WriteZero,
        ErrorKind::StorageFull,
        ErrorKind::NotSeekable,
        ErrorKind::FileTooLarge,
        ErrorKind::ResourceBusy,
        ErrorKind::ExecutableFileBusy,
        ErrorKind::Deadlock,
        ErrorKind::CrossesDevices,
        ErrorKind::TooManyLinks,
        ErrorKind::ArgumentListTooLong,
        ErrorKind::Interrupted,
        ErrorKind::Unsupported,
        ErrorKind::UnexpectedEof,
        ErrorKind::OutOfMemory,
        ErrorKind::Other,
    ];

    /// `PermissionDenied` as `permission-denied`.
    pub(crate) fn name(kind: ErrorKind) -> String {
        let debug = format!("{kind:?}");
        let mut out = String::with_capacity(debug.len() + 4);
        for (i, c) in debug.chars().enumerate() {
            if c.is_ascii_uppercase() {
                if i > 0 {
                    out.push('-');
                }
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }

    pub fn serialize<S: Serializer>(kind: &Option<ErrorKind>, s: S) -> Result<S::Ok, S::Error> {
        match kind {
            Some(kind) => s.serialize_some(&name(*kind)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ErrorKind>, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
        Ok(text.map(|text| {
            KINDS
                .iter()
                .copied()
                .find(|k| name(*k) == text)
                .unwrap_or(ErrorKind::Other)
        }))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn names_are_kebab_case_and_read_back() {
            assert_eq!(name(ErrorKind::PermissionDenied), "permission-denied");
            assert_eq!(name(ErrorKind::NotFound), "not-found");
            for &kind in KINDS {
                let json = serde_json::to_string(&name(kind)).unwrap();
                let mut de = serde_json::Deserializer::from_str(&json);
                assert_eq!(deserialize(&mut de).unwrap(), Some(kind));
            }
        }
    }
}

/// A time of the host's clock (a `NaiveDateTime` in local time, as the logs and the scan use
/// it), written as RFC 3339 in UTC with `Z` (`2026-12-03T14:18:20Z`), so that reports of hosts
/// in different time zones compare and merge, and a report says the same whatever `TZ` the
/// scan ran under. Read back from RFC 3339 with any offset (converted to local time), or from
/// a report written before times had an offset (taken as local time).
pub(super) mod time {
    use chrono::{DateTime, Local, NaiveDateTime, SecondsFormat, TimeZone, Utc};
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&write(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        read(&text).ok_or_else(|| D::Error::custom(format!("not an RFC 3339 time: {text:?}")))
    }

    /// `t`, a local time, as RFC 3339 in UTC. A local time the clock skipped (a daylight
    /// saving gap) is written as if it were UTC; one it passed twice, at its first passing.
    pub(crate) fn write(t: &NaiveDateTime) -> String {
        utc(t).to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    /// `t`, a local time, in UTC.
    fn utc(t: &NaiveDateTime) -> DateTime<Utc> {
        match Local.from_local_datetime(t).earliest() {
            Some(local) => local.with_timezone(&Utc),
            None => t.and_utc(),
        }
    }

    /// [`write`] to the second, for people (`2026-12-03T14:18:20Z`).
    pub(crate) fn write_seconds(t: &NaiveDateTime) -> String {
        utc(t).to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// The inverse of [`write`]: RFC 3339 with any offset, or a time without one (local).
    pub(crate) fn read(text: &str) -> Option<NaiveDateTime> {
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Some(t.with_timezone(&Local).naive_local());
        }
        text.parse::<NaiveDateTime>().ok()
    }
}

/// [`time`] for an optional time.
pub(super) mod opt_time {
    use chrono::NaiveDateTime;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::time::write(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDateTime>, D::Error> {
        let Some(text) = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)? else {
            return Ok(None);
        };
        super::time::read(&text)
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("not an RFC 3339 time: {text:?}")))
    }
}

#[cfg(test)]
mod time_tests {
    use super::time;
    use chrono::NaiveDateTime;

    #[test]
    fn times_are_written_in_utc_and_read_back_from_any_offset() {
        let t: NaiveDateTime = "2026-12-03T14:18:20".parse().unwrap();
        let written = time::write(&t);
        assert!(written.ends_with('Z'), "{written}");
        assert_eq!(time::read(&written), Some(t));
        // An old report's time without an offset is local time, as it was written.
        assert_eq!(time::read("2026-12-03T14:18:20"), Some(t));
        // The same instant with another offset reads back as the same local time.
        let utc = chrono::DateTime::parse_from_rfc3339(&written).unwrap();
        let plus_one = utc
            .with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap())
            .to_rfc3339();
        assert_eq!(time::read(&plus_one), Some(t));
        assert_eq!(time::read("yesterday"), None);
    }
}
