//! cPanel's cPHulk black list, as `whmapi1 --output=json read_cphulk_records
//! list_name=black` prints it (cPanel API documentation, "WHM API 1 Functions -
//! read_cphulk_records", and docs.cpanel.net "cPHulk Management on the Command Line";
//! `asmrdevelop/cpanel` `Cpanel/Config/Hulk.pm`, `Cpanel/Hulk/Admin/DB.pm`; see
//! `../shared/FORMATS.md` §6 A3). The response, as the API documentation shows it:
//!
//! ```text
//! { "data": { "ips_in_list": { "10.1.4.44": "A helpful comment about the IP address." },
//!             "list_name": "white", "requester_ip": "10.1.4.228", ... },
//!   "metadata": { "command": "read_cphulk_records", "reason": "OK", "result": 1, "version": 1 } }
//! ```
//!
//! `ips_in_list` is an object keyed by the listed address; its value is the admin's comment,
//! never read for addresses. A key is an address, a CIDR, or a range `a-b` (the form the
//! create calls say ranges come back in; the listing's own form of ranges is not verified,
//! so anything else is a malformed entry, named, never guessed). On the black list
//! ([`Format::CphulkRecords`], `list_name` `black`) each is an [`Action::Listed`] event of
//! [`Tool::Cphulk`] with scope `black`: cPHulk refuses logins from it to the services it
//! protects for as long as it is listed (and, with "Block IP addresses at the firewall
//! level", drops it on every port in the `cphulk` iptables chain). A range is
//! reported as its CIDR blocks, each with the record as written ([`BanEvent::spec`]). The
//! white list (`list_name` `white`) bans nothing: the file is noted as such. The response's
//! `requester_ip` is the caller's own address, never a ban.
//!
//! Of whmapi1's output only JSON is read: its default output is YAML, whose layout is not
//! verified (`--output=json` or `--output=jsonpretty` gives JSON). cPHulk's database
//! `/var/cpanel/hulkd/cphulk.sqlite` (the black list, and the address blocks of its login
//! history) is read by [`db`].
//!
//! [`BanEvent::spec`]: crate::event::BanEvent::spec

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::grammar::entry::parse_entry;
use super::registry::{Detection, FormatDescriptor, Reader};
use super::{Format, LineParser, ParseCtx, Sink};
use crate::event::{Action, BanEvent, Location, Tool};

pub mod db;

pub use db::{looks_like_db, read_database};

/// The most a response may hold before it is refused.
const MAX_DOCUMENT: usize = 32 << 20;

/// The scope of black list entries.
pub const BLACK_SCOPE: &str = "black";

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// cPanel cPHulk `whmapi1 --output=json read_cphulk_records` response.
    pub const CphulkRecords: Format = Format::builtin(45, "cphulk-records");
    /// cPanel cPHulk's SQLite database `cphulk.sqlite` (black list, address blocks).
    pub const CphulkDb: Format = Format::builtin(49, "cphulk-db");
}

/// The `"ips_in_list"` key followed by `:` and an object.
fn ips_in_list_key(text: &[u8]) -> bool {
    memchr::memmem::find_iter(text, b"\"ips_in_list\"").any(|at| {
        let rest = text[at + 13..].trim_ascii_start();
        rest.strip_prefix(b":")
            .is_some_and(|r| r.trim_ascii_start().starts_with(b"{"))
    })
}

/// Decides whether a file is a `read_cphulk_records` response: a whole JSON document whose
/// `data` holds an `ips_in_list` object and whose `metadata.command`, when given, is
/// `read_cphulk_records`; or, cut by the end of the head, a JSON object whose `"data"` holds
/// an `"ips_in_list"` object.
pub fn detect(_path: &Path, head: &[u8]) -> bool {
    let text = head.trim_ascii();
    if !text.starts_with(b"{") {
        return false;
    }
    if let Ok(value) = serde_json::from_slice::<Value>(text) {
        return is_response(&value);
    }
    memchr::memmem::find(text, b"\"data\"").is_some() && ips_in_list_key(text)
}

/// Whether a parsed document is a `read_cphulk_records` response.
fn is_response(value: &Value) -> bool {
    let command = value.pointer("/metadata/command");
    value
        .pointer("/data/ips_in_list")
        .is_some_and(Value::is_object)
        && command.is_none_or(|c| c == "read_cphulk_records")
}

/// The parser of a `read_cphulk_records` response: the document is kept until its end and
/// read whole; each entry's line is that of its key.
pub struct CphulkRecordsParser {
    path: Arc<Path>,
    text: Vec<u8>,
    first: u64,
    too_large: bool,
}

impl CphulkRecordsParser {
    /// A parser for one response.
    pub fn new(ctx: &ParseCtx) -> Self {
        CphulkRecordsParser {
            path: ctx.path.clone(),
            text: Vec::new(),
            first: 0,
            too_large: false,
        }
    }

    /// The line of `"key":` inside `ips_in_list`, or the document's first line.
    fn key_line(&self, key: &str) -> u64 {
        let first = self.first.max(1);
        let Some(list) = memchr::memmem::find(&self.text, b"\"ips_in_list\"") else {
            return first;
        };
        let quoted = serde_json::to_string(key).unwrap_or_default();
        let after = &self.text[list..];
        match memchr::memmem::find(after, quoted.as_bytes()) {
            Some(at) => first + memchr::memchr_iter(b'\n', &self.text[..list + at]).count() as u64,
            None => first,
        }
    }
}

impl LineParser for CphulkRecordsParser {
    fn line(&mut self, lineno: u64, line: &[u8], _sink: &mut dyn Sink) {
        if self.too_large {
            return;
        }
        if self.text.len() + line.len() >= MAX_DOCUMENT {
            self.too_large = true;
            return;
        }
        if self.first == 0 {
            if line.trim_ascii().is_empty() {
                return;
            }
            self.first = lineno;
        }
        self.text.extend_from_slice(line);
        self.text.push(b'\n');
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        let first = self.first.max(1);
        if self.too_large {
            sink.cut(
                first,
                format!(
                    "a read_cphulk_records response larger than {MAX_DOCUMENT} bytes: not read"
                ),
            );
            return;
        }
        if self.text.trim_ascii().is_empty() {
            return;
        }
        let value: Value = match serde_json::from_slice(&self.text) {
            Ok(value) => value,
            Err(e) => {
                let line = first + (e.line().max(1) as u64) - 1;
                sink.malformed(
                    line,
                    format!("not a whmapi1 read_cphulk_records JSON response: {e}"),
                );
                return;
            }
        };
        if !is_response(&value) {
            sink.malformed(
                first,
                "not a read_cphulk_records response (no data.ips_in_list object, or another \
                 metadata.command)"
                    .into(),
            );
            return;
        }
        match value.pointer("/data/list_name").and_then(Value::as_str) {
            Some("black") => {}
            Some(other) => {
                sink.note(format!("cPHulk's {other:?} list: its entries are not bans"));
                return;
            }
            None => {
                sink.malformed(
                    first,
                    "a read_cphulk_records response without data.list_name: which list it is \
                     is unknown, so its entries are not read as bans"
                        .into(),
                );
                return;
            }
        }
        let Some(list) = value
            .pointer("/data/ips_in_list")
            .and_then(Value::as_object)
        else {
            return;
        };
        for key in list.keys() {
            let line = self.key_line(key);
            let Some(nets) = parse_entry(key.trim().as_bytes()) else {
                sink.malformed(
                    line,
                    format!("black list key {key:?} is not an address, CIDR or range a-b"),
                );
                continue;
            };
            for net in nets {
                sink.event(
                    BanEvent::new(
                        net,
                        Tool::Cphulk,
                        Format::CphulkRecords,
                        BLACK_SCOPE,
                        Action::Listed,
                        Location::new(self.path.clone(), line),
                    )
                    .spec(key.trim().to_string()),
                );
            }
        }
    }
}

/// `read_cphulk_records` JSON.
pub(crate) const RECORDS: FormatDescriptor = FormatDescriptor::new(
    Format::CphulkRecords,
    &[Tool::Cphulk],
    "cPanel cPHulk whmapi1 read_cphulk_records JSON (black list)",
    |ctx| Box::new(CphulkRecordsParser::new(ctx)),
)
.detected_by(&[Detection::text(237, detect)]);

/// cPHulk's database.
pub(crate) const DB: FormatDescriptor = FormatDescriptor::read_as(
    Format::CphulkDb,
    &[Tool::Cphulk],
    "cPanel cPHulk cphulk.sqlite (ip_lists black list, login_track address blocks)",
    Reader::Sqlite(read_database),
)
.usual_paths(&["/var/cpanel/hulkd/cphulk.sqlite"])
.detected_by(&[Detection::sqlite(114, looks_like_db)]);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::run_lines;

    const BLACK: &str = r#"{
   "data" : {
      "ips_in_list" : {
         "104.16.0.1" : "104.16.0.2 is a friend",
         "198.51.100.4" : "IP reached maximum auth failures",
         "172.64.0.0/30" : "",
         "162.158.0.1-162.158.0.6" : "range"
      },
      "list_name" : "black",
      "requester_ip" : "172.64.9.9",
      "requester_ip_is_whitelisted" : 0
   },
   "metadata" : {
      "command" : "read_cphulk_records",
      "reason" : "OK",
      "result" : 1,
      "version" : 1
   }
}
"#;

    #[test]
    fn black_list_keys_are_bans_and_comments_and_requester_are_not() {
        let p = Path::new("/tmp/x");
        assert!(detect(p, BLACK.as_bytes()));
        assert!(detect(p, &BLACK.as_bytes()[..80]));
        assert!(!detect(p, b"{\"data\": {\"list\": {}}}"));
        let c = run_lines(Format::CphulkRecords, "black.json", BLACK);
        assert!(c.malformed.is_empty(), "{:?}", c.malformed);
        let mut got: Vec<(String, u64, Option<String>)> = c
            .events
            .iter()
            .map(|e| (e.net.to_string(), e.location.line, e.spec.clone()))
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("104.16.0.1/32".into(), 4, Some("104.16.0.1".into())),
                (
                    "162.158.0.1/32".into(),
                    7,
                    Some("162.158.0.1-162.158.0.6".into())
                ),
                (
                    "162.158.0.2/31".into(),
                    7,
                    Some("162.158.0.1-162.158.0.6".into())
                ),
                (
                    "162.158.0.4/31".into(),
                    7,
                    Some("162.158.0.1-162.158.0.6".into())
                ),
                (
                    "162.158.0.6/32".into(),
                    7,
                    Some("162.158.0.1-162.158.0.6".into())
                ),
                ("172.64.0.0/30".into(), 6, Some("172.64.0.0/30".into())),
                ("198.51.100.4/32".into(), 5, Some("198.51.100.4".into())),
            ]
        );
        assert!(c
            .events
            .iter()
            .all(|e| (e.tool, e.scope.as_str(), e.action)
                == (Tool::Cphulk, BLACK_SCOPE, Action::Listed)));
    }

    #[test]
    fn the_white_list_bans_nothing_and_bad_keys_are_named() {
        let white = BLACK.replace("\"black\"", "\"white\"");
        let c = run_lines(Format::CphulkRecords, "white.json", &white);
        assert!(c.events.is_empty());
        assert_eq!(c.notes.len(), 1);
        let bad = BLACK.replace("\"198.51.100.4\"", "\"host.example\"");
        let c = run_lines(Format::CphulkRecords, "black.json", &bad);
        assert_eq!(c.malformed_lines(), [5]);
        let unnamed = BLACK.replace("\"list_name\" : \"black\",", "");
        let c = run_lines(Format::CphulkRecords, "black.json", &unnamed);
        assert!(c.events.is_empty());
        assert_eq!(c.malformed.len(), 1);
        let cut = &BLACK[..200];
        let c = run_lines(Format::CphulkRecords, "black.json", cut);
        assert!(c.events.is_empty());
        assert!(
            c.malformed[0].1.contains("not a whmapi1"),
            "{:?}",
            c.malformed
        );
    }
}
