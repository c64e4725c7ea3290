//! The structure of a native entry: the part boundaries of v2 and v3 and the line of section A
//! (its time format, shared with the JSON log and the index, is read in the grammar layer).

use std::net::IpAddr;

use chrono::NaiveDateTime;

use crate::addr::parse_ip;
use crate::formats::grammar::modsec::Dialect;
use crate::formats::grammar::num::digits;
use crate::formats::grammar::time::parse_audit_time;

/// A part boundary of a native audit log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Boundary<'a> {
    /// The entry's random id.
    pub id: &'a [u8],
    /// The part letter (`A` starts an entry, `Z` ends it).
    pub part: u8,
    /// Which form the boundary has.
    pub dialect: Dialect,
}

/// Reads a part boundary: the whole line is `--<id>-<PART>--` (v2) or `---<id>---<PART>--`
/// (v3), the id being 8 to 32 letters and digits.
pub fn parse_boundary(line: &[u8]) -> Option<Boundary<'_>> {
    let line = line.trim_ascii_end();
    let inner = line.strip_suffix(b"--")?;
    let (&part, inner) = inner.split_last()?;
    if !part.is_ascii_uppercase() {
        return None;
    }
    let (id, dialect) = if let Some(id) = inner
        .strip_prefix(b"---")
        .and_then(|i| i.strip_suffix(b"---"))
    {
        (id, Dialect::V3)
    } else {
        let id = inner.strip_prefix(b"--")?.strip_suffix(b"-")?;
        (id, Dialect::V2)
    };
    ((8..=32).contains(&id.len()) && id.iter().all(u8::is_ascii_alphanumeric)).then_some(Boundary {
        id,
        part,
        dialect,
    })
}

/// Section A of a native entry: `[time] <unique_id> <client> <client port> <server> <server port>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionA<'a> {
    /// The time, as written.
    pub time: NaiveDateTime,
    /// The transaction's unique id.
    pub unique_id: &'a [u8],
    /// The client address (v2: `msr->remote_addr`; v3: the connector's client address).
    pub client: IpAddr,
    /// The server address.
    pub server: &'a [u8],
}

/// Reads the line of section A.
pub fn parse_section_a(line: &[u8]) -> Option<SectionA<'_>> {
    let line = line.trim_ascii();
    let rest = line.strip_prefix(b"[")?;
    let (time, n) = parse_audit_time(rest)?;
    let rest = rest[n..].strip_prefix(b"] ")?;
    let mut fields = rest.rsplitn(5, |&b| b == b' ');
    let server_port = fields.next()?;
    let server = fields.next()?;
    let client_port = fields.next()?;
    let client = fields.next()?;
    let unique_id = fields.next()?;
    digits(server_port)?;
    digits(client_port)?;
    if unique_id.is_empty() || server.is_empty() {
        return None;
    }
    Some(SectionA {
        time,
        unique_id,
        client: parse_ip(client)?,
        server,
    })
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn parse_boundary() {
        use crate::formats::grammar::modsec::Dialect;
        use crate::formats::modsec_audit::parse_boundary;
        let b = parse_boundary(b"--90491855-A--").unwrap();
        assert_eq!(
            (b.id, b.part, b.dialect),
            (&b"90491855"[..], b'A', Dialect::V2)
        );
        let b = parse_boundary(b"---B40Spanu---H--\r").unwrap();
        assert_eq!(
            (b.id, b.part, b.dialect),
            (&b"B40Spanu"[..], b'H', Dialect::V3)
        );
        assert!(parse_boundary(b"--90491855-A-- x").is_none());
    }

    #[test]
    fn parse_section_a() {
        use crate::formats::modsec_audit::parse_section_a;
        let a = parse_section_a(
            b"[20/Jun/2024:18:20:33 +0200] 171890043326.958509 2606:4700::1 0 10.3.27.226 80",
        )
        .unwrap();
        assert_eq!(a.client.to_string(), "2606:4700::1");
        assert_eq!(a.unique_id, b"171890043326.958509");
    }
}
