//! The concurrent mode's index: one line per transaction, checked but giving no events (the
//! per-transaction files it points to are read on their own).

use std::net::IpAddr;

use chrono::NaiveDateTime;

use crate::addr::parse_ip;
use crate::formats::grammar::num::digits;
use crate::formats::grammar::time::parse_audit_time;
use crate::formats::{LineParser, Sink};

/// The fields of a concurrent index line that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexLine<'a> {
    /// The client address (field 2).
    pub client: IpAddr,
    /// The time.
    pub time: NaiveDateTime,
    /// The per-transaction file, relative to the storage directory (v2) or absolute (v3).
    pub file: &'a [u8],
}

/// Reads a line of the concurrent index. v2 (`construct_log_vcombinedus_limited`):
/// `host client user user [time] "request" status bytes "-" "-" id "session" FILE 0 SIZE md5:HEX `
/// (a trailing space, or ` L` when fields were cut); v3 (`toOldAuditLogFormatIndex`):
/// `host client user [time] "request" status bytes referer "agent" id referer FILE 0 SIZE md5:HEX`.
pub fn parse_index_line(line: &[u8]) -> Option<IndexLine<'_>> {
    let mut line = line.trim_ascii_end();
    if let Some(l) = line.strip_suffix(b" L") {
        line = l;
    }
    let mut tail = line.rsplitn(5, |&b| b == b' ');
    let md5 = tail.next()?.strip_prefix(b"md5:")?;
    let size = tail.next()?;
    let offset = tail.next()?;
    let file = tail.next()?;
    let head = tail.next()?;
    if md5.len() != 32 || !md5.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let size_int = size.split(|&b| b == b'.').next()?;
    digits(size_int)?;
    digits(offset)?;
    if !file.contains(&b'/') {
        return None;
    }
    let mut fields = head.splitn(3, |&b| b == b' ');
    let _host = fields.next()?;
    let client = parse_ip(fields.next()?)?;
    let rest = fields.next()?;
    let open = memchr::memchr(b'[', rest)?;
    let (time, _) = parse_audit_time(&rest[open + 1..])?;
    Some(IndexLine { client, time, file })
}

/// The parser of the concurrent index: checks each line, gives no events (see the module
/// documentation).
pub struct IndexParser;

impl LineParser for IndexParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if line.trim_ascii().is_empty() || parse_index_line(line).is_some() {
            return;
        }
        sink.malformed(
            lineno,
            format!(
                "not a ModSecurity concurrent index line: {:?}",
                String::from_utf8_lossy(&line[..line.len().min(200)])
            ),
        );
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn parse_index_line() {
        use crate::formats::modsec_audit::parse_index_line;
        let l = br#"127.0.0.1 172.68.10.20 - - [24/Nov/2026:03:04:39.341800 +0000] "GET /x HTTP/1.1" 403 239 "-" "-" awT-x1yPaHSWVd4rknlj4QAAAAg "-" /www-data/20261124/20261124-0304/20261124-030439-awT-x1yPaHSWVd4rknlj4QAAAAg 0 1398 md5:b96a82de441c7046bf507ea300557041 "#;
        let i = parse_index_line(l).unwrap();
        assert_eq!(i.client.to_string(), "172.68.10.20");
        assert!(i.file.ends_with(b"awT-x1yPaHSWVd4rknlj4QAAAAg"));
    }
}
