//! The structure of a native entry: the part boundaries of v2 and v3, the time format of
//! section A and the addresses section A names.

use std::net::IpAddr;

use chrono::{NaiveDate, NaiveDateTime};

use crate::addr::parse_ip;

/// Which ModSecurity wrote a boundary or a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// ModSecurity 2.x (Apache): `--xxxxxxxx-A--`, `Message: ...` lines.
    V2,
    /// libmodsecurity 3.x: `---xxxxxxxx---A--`, `ModSecurity: ...` lines.
    V3,
}

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
///
/// ```
/// use cf_ban_audit_core::formats::modsec_audit::{parse_boundary, Dialect};
/// let b = parse_boundary(b"--90491855-A--").unwrap();
/// assert_eq!((b.id, b.part, b.dialect), (&b"90491855"[..], b'A', Dialect::V2));
/// let b = parse_boundary(b"---B40Spanu---H--\r").unwrap();
/// assert_eq!((b.id, b.part, b.dialect), (&b"B40Spanu"[..], b'H', Dialect::V3));
/// assert!(parse_boundary(b"--90491855-A-- x").is_none());
/// ```
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

pub(super) fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |v, &c| v * 10 + u32::from(c - b'0')))
}

/// The month number of an English abbreviated month name.
pub(crate) fn month(b: &[u8]) -> Option<u32> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    MONTHS
        .iter()
        .position(|m| &m[..] == b)
        .map(|i| i as u32 + 1)
}

/// Reads the time of section A, of v2 JSON and of the index, `%d/%b/%Y:%H:%M:%S` with optional
/// microseconds and a zone (`+0000`, `-0400`, or Apache's `--0400`), as the wall-clock time
/// written; returns it and the number of bytes it took.
///
/// ```
/// use cf_ban_audit_core::formats::modsec_audit::parse_audit_time;
/// let (t, n) = parse_audit_time(b"24/Nov/2026:03:04:39.334629 +0000] x").unwrap();
/// assert_eq!((t.to_string().as_str(), n), ("2026-11-24 03:04:39.334629", 33));
/// let (t, _) = parse_audit_time(b"10/Mar/2020:12:13:30 --0400").unwrap();
/// assert_eq!(t.to_string(), "2020-03-10 12:13:30");
/// ```
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
///
/// ```
/// use cf_ban_audit_core::formats::modsec_audit::parse_section_a;
/// let a = parse_section_a(b"[20/Jun/2024:18:20:33 +0200] 171890043326.958509 2606:4700::1 0 10.3.27.226 80").unwrap();
/// assert_eq!(a.client.to_string(), "2606:4700::1");
/// assert_eq!(a.unique_id, b"171890043326.958509");
/// ```
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
