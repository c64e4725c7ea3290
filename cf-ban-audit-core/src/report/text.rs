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
