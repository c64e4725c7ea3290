//! Imunify360's local IP lists as its agent prints them (`cloudlinux/imunify360-documentation`
//! `docs/command_line_interface/README.md`, `docs/features/README.md`; see
//! `../shared/FORMATS.md` §6 A4):
//!
//! - `imunify360-agent ip-list local list --purpose drop` ([`Format::Imunify360Table`]): a
//!   table under a header of column names, as the documentation shows it:
//!
//!   ```text
//!   AUTO_WHITELISTED  COMMENT       COUNTRY  CTIME       DEEP  EXPIRATION  FULL_ACCESS  IMPORTED_FROM  IP           MANUAL  NETMASK     NETWORK_ADDRESS  PURPOSE  SCOPE  VERSION
//!   False             one good IP  US       1715940270  None  0           None         None           11.22.33.44  True    4294967295  185999660        white    local  4
//!   ```
//!
//!   The documentation's rendering does not keep the columns aligned, and `COMMENT` holds
//!   spaces, so a row is read from its right end: every column after `COMMENT` is one word,
//!   and the header says how far from the end `IP`, `PURPOSE` and the others stand.
//! - `--json` output ([`Format::Imunify360Json`]): item objects as the documentation shows
//!   them for the legacy `whitelist ip list --json` (`ip`, `listname`, `expiration`, `ctime`,
//!   `netmask`, `network_address`, `version`, ...), or with `purpose` as the current lists
//!   name it: one object, an array of them, one a line, or an object holding one array of
//!   them (the documentation elides the wrapper around the items, so its key is not
//!   assumed).
//!
//! An entry of the drop list (`PURPOSE` `drop`, the legacy `listname` `BLACK`) is an
//! [`Action::Listed`] event of [`Tool::Imunify360`] with scope `drop`: Imunify360 drops its
//! packets and answers 403 on the web ports, from `CTIME` until `EXPIRATION` (`0`: no end).
//! Other lists (white, captcha/gray, splashscreen) ban nothing. Every entry must be
//! consistent: its `NETMASK` and `NETWORK_ADDRESS` (integers) must be the IPv4 address's own
//! mask and network, so that a row shifted by a comment, or text written into a comment,
//! gives a malformed line (named), never a ban. `COMMENT` is never read for addresses.
//! `list` prints the first 100 entries unless `--limit` says otherwise: a table of exactly
//! 100 rows is noted as possibly cut.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Local, NaiveDateTime};
use ipnet::IpNet;
use serde_json::{Map, Value};

use super::registry::{Detection, FormatDescriptor};
use super::{Format, LineParser, ParseCtx, Sink};
use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool};

/// The most a JSON document may hold before it is refused.
const MAX_DOCUMENT: usize = 32 << 20;

/// The scope of drop list entries.
pub const DROP_SCOPE: &str = "drop";

/// The rows `list` prints unless `--limit` says otherwise.
const DEFAULT_LIMIT: usize = 100;

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// `imunify360-agent ip-list local list` table.
    pub const Imunify360Table: Format = Format::builtin(46, "imunify360-ip-list");
    /// `imunify360-agent ... list --json` items.
    pub const Imunify360Json: Format = Format::builtin(47, "imunify360-ip-list-json");
}

/// The columns a header must have.
const NEEDED: [&str; 5] = ["IP", "PURPOSE", "NETMASK", "NETWORK_ADDRESS", "EXPIRATION"];

/// A table header: column names, each `[A-Z_]+`, with every [`NEEDED`] one and `COMMENT`
/// (if any) left of `IP`.
fn header(line: &[u8]) -> Option<Vec<&str>> {
    let text = std::str::from_utf8(line).ok()?;
    let names: Vec<&str> = text.split_ascii_whitespace().collect();
    let ok = names
        .iter()
        .all(|n| n.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
        && NEEDED.iter().all(|n| names.contains(n));
    let ip = names.iter().position(|n| *n == "IP")?;
    let comment_left = names
        .iter()
        .position(|n| *n == "COMMENT")
        .is_none_or(|c| c < ip);
    (ok && comment_left).then_some(names)
}

/// Decides whether a file is an `ip-list local list` table: its first non-empty line is a
/// [`header`].
pub fn detect_table(_path: &Path, head: &[u8]) -> bool {
    head.split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|l| !l.is_empty())
        .is_some_and(|l| header(l).is_some())
}

/// Whether a JSON object is an ip-list item.
fn is_item(obj: &Map<String, Value>) -> bool {
    obj.get("ip").is_some_and(Value::is_string)
        && (obj.contains_key("listname") || obj.contains_key("purpose"))
        && obj.contains_key("netmask")
        && obj.contains_key("network_address")
}

/// The items of a parsed document: one item, an array of them, or an object holding one
/// array of them; `None` when it is none of those.
fn items(value: &Value) -> Option<Vec<&Value>> {
    match value {
        Value::Object(obj) if is_item(obj) => Some(vec![value]),
        Value::Array(all) => all
            .iter()
            .all(|v| v.as_object().is_some_and(is_item))
            .then(|| all.iter().collect()),
        Value::Object(obj) => {
            let mut arrays = obj
                .values()
                .filter_map(Value::as_array)
                .filter(|a| !a.is_empty() && a.iter().all(|v| v.as_object().is_some_and(is_item)));
            let one = arrays.next()?;
            arrays.next().is_none().then(|| one.iter().collect())
        }
        _ => None,
    }
}

/// Decides whether a file is ip-list `--json` output: its first line or its whole head is a
/// document of items, or the head, cut, has the keys `"ip"`, `"netmask"` and
/// `"network_address"`.
pub fn detect_json(_path: &Path, head: &[u8]) -> bool {
    let text = head.trim_ascii();
    if !text.starts_with(b"{") && !text.starts_with(b"[") {
        return false;
    }
    let first = text.split(|&b| b == b'\n').next().unwrap_or(b"");
    for doc in [first, text] {
        if let Ok(value) = serde_json::from_slice::<Value>(doc) {
            return items(&value).is_some_and(|i| !i.is_empty());
        }
    }
    [&b"\"ip\""[..], b"\"netmask\"", b"\"network_address\""]
        .iter()
        .all(|k| memchr::memmem::find(text, k).is_some())
}

/// What one entry says, whichever output it came from.
struct Entry<'a> {
    ip: &'a str,
    list: &'a str,
    netmask: &'a str,
    network: &'a str,
    ctime: Option<&'a str>,
    expiration: &'a str,
}

/// Seconds since the epoch as host-local wall-clock time.
fn local_time(secs: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp(secs, 0).map(|t| t.with_timezone(&Local).naive_local())
}

/// Whether `netmask` and `network` are the integers of `net`'s own mask and network (IPv4;
/// IPv6 values are not checked past being numbers).
fn consistent(net: IpNet, netmask: &str, network: &str) -> bool {
    match net {
        IpNet::V4(v4) => {
            netmask.parse::<u32>().ok() == Some(u32::from(v4.netmask()))
                && network.parse::<u32>().ok() == Some(u32::from(v4.network()))
        }
        IpNet::V6(_) => netmask.parse::<u128>().is_ok() && network.parse::<u128>().is_ok(),
    }
}

/// The event of one entry (`None` for an entry of another list), or why it is malformed.
fn entry_event(
    e: &Entry<'_>,
    format: Format,
    location: Location,
) -> Result<Option<BanEvent>, String> {
    let list = e.list.to_ascii_lowercase();
    if !matches!(list.as_str(), "drop" | "black") {
        return Ok(None);
    }
    let net = parse_net(e.ip.as_bytes())
        .ok_or_else(|| format!("IP {:?} is not an address or CIDR", e.ip))?;
    if !consistent(net, e.netmask, e.network) {
        return Err(format!(
            "IP {} does not match its NETMASK {} and NETWORK_ADDRESS {}",
            e.ip, e.netmask, e.network
        ));
    }
    let expiration: i64 = e
        .expiration
        .parse()
        .map_err(|_| format!("EXPIRATION {:?} is not a number", e.expiration))?;
    let time = e
        .ctime
        .and_then(|t| t.parse::<f64>().ok())
        .and_then(|t| local_time(t as i64));
    let until = (expiration > 0).then(|| local_time(expiration)).flatten();
    Ok(Some(
        BanEvent::new(
            net,
            Tool::Imunify360,
            format,
            DROP_SCOPE,
            Action::Listed,
            location,
        )
        .at(time)
        .until(until),
    ))
}

/// The parser of the table.
pub struct TableParser {
    path: Arc<Path>,
    /// Where the columns stand, once the header is read.
    columns: Option<Columns>,
    rows: usize,
}

/// The columns' distance from a row's end: `IP` (how many columns stand right of it), the
/// [`NEEDED`] ones, `CTIME`.
struct Columns {
    /// Every column but `COMMENT`, which may be empty, is one word at least.
    least_words: usize,
    count_right_of_ip: usize,
    from_end: [usize; 5],
    ctime: Option<usize>,
}

impl TableParser {
    /// A parser for one table.
    pub fn new(ctx: &ParseCtx) -> Self {
        TableParser {
            path: ctx.path.clone(),
            columns: None,
            rows: 0,
        }
    }
}

impl LineParser for TableParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let line = line.trim_ascii();
        if line.is_empty() {
            return;
        }
        let Some(columns) = &self.columns else {
            match header(line) {
                Some(names) => {
                    let n = names.len();
                    let at = |c: &str| names.iter().position(|x| *x == c).map(|i| n - 1 - i);
                    let ip = at("IP").unwrap_or(0);
                    self.columns = Some(Columns {
                        least_words: n - usize::from(names.contains(&"COMMENT")),
                        count_right_of_ip: ip,
                        from_end: NEEDED.map(|c| at(c).unwrap_or(0)),
                        ctime: at("CTIME").filter(|&c| c > ip),
                    });
                }
                None => sink.malformed(
                    lineno,
                    "not the header of an imunify360-agent ip-list table (IP, PURPOSE, \
                     NETMASK, NETWORK_ADDRESS, EXPIRATION)"
                        .into(),
                ),
            }
            return;
        };
        self.rows += 1;
        let Ok(text) = std::str::from_utf8(line) else {
            sink.malformed(lineno, "a row that is not UTF-8".into());
            return;
        };
        let words: Vec<&str> = text.split_ascii_whitespace().collect();
        if words.len() < columns.least_words || words.len() <= columns.count_right_of_ip {
            sink.malformed(lineno, "a row with fewer columns than its header".into());
            return;
        }
        let word = |from_end: usize| words[words.len() - 1 - from_end];
        let [ip, purpose, netmask, network, expiration] = columns.from_end.map(word);
        let entry = Entry {
            ip,
            list: purpose,
            netmask,
            network,
            ctime: columns.ctime.map(word),
            expiration,
        };
        match entry_event(
            &entry,
            Format::Imunify360Table,
            Location::new(self.path.clone(), lineno),
        ) {
            Ok(Some(event)) => sink.event(event),
            Ok(None) => {}
            Err(why) => sink.malformed(lineno, why),
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if self.rows == DEFAULT_LIMIT {
            sink.note(format!(
                "{DEFAULT_LIMIT} rows, as many as imunify360-agent lists by default: the list \
                 may hold more (list it with --limit)"
            ));
        }
    }
}

/// The parser of `--json` output: the document is kept until its end and read whole, or one
/// item a line.
pub struct JsonParser {
    path: Arc<Path>,
    lines: Vec<(u64, Vec<u8>)>,
    size: usize,
    too_large: bool,
}

impl JsonParser {
    /// A parser for one output.
    pub fn new(ctx: &ParseCtx) -> Self {
        JsonParser {
            path: ctx.path.clone(),
            lines: Vec::new(),
            size: 0,
            too_large: false,
        }
    }

    fn item(&self, value: &Value, line: u64, sink: &mut dyn Sink) {
        let Some(obj) = value.as_object() else {
            return;
        };
        let text = |k: &str| match obj.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let (Some(ip), Some(list), Some(netmask), Some(network), Some(expiration)) = (
            text("ip"),
            text("purpose").or_else(|| text("listname")),
            text("netmask"),
            text("network_address"),
            text("expiration").or_else(|| Some("0".into())),
        ) else {
            sink.malformed(
                line,
                "an ip-list item without ip, list, netmask or network_address".into(),
            );
            return;
        };
        let ctime = text("ctime");
        let entry = Entry {
            ip: &ip,
            list: &list,
            netmask: &netmask,
            network: &network,
            ctime: ctime.as_deref(),
            expiration: &expiration,
        };
        match entry_event(
            &entry,
            Format::Imunify360Json,
            Location::new(self.path.clone(), line),
        ) {
            Ok(Some(event)) => sink.event(event),
            Ok(None) => {}
            Err(why) => sink.malformed(line, why),
        }
    }
}

impl LineParser for JsonParser {
    fn line(&mut self, lineno: u64, line: &[u8], _sink: &mut dyn Sink) {
        if self.too_large || line.trim_ascii().is_empty() {
            return;
        }
        self.size += line.len() + 1;
        if self.size >= MAX_DOCUMENT {
            self.too_large = true;
            return;
        }
        self.lines.push((lineno, line.to_vec()));
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        let Some(&(first, _)) = self.lines.first() else {
            return;
        };
        if self.too_large {
            sink.cut(
                first,
                format!(
                    "an imunify360-agent --json output larger than {MAX_DOCUMENT} bytes: not read"
                ),
            );
            return;
        }
        let whole: Vec<u8> = self
            .lines
            .iter()
            .flat_map(|(_, l)| l.iter().copied().chain(std::iter::once(b'\n')))
            .collect();
        if let Ok(value) = serde_json::from_slice::<Value>(&whole) {
            match items(&value) {
                Some(found) => {
                    // Each item at the line of its `"ip"` key when one a line holds it.
                    let ip_lines: Vec<u64> = self
                        .lines
                        .iter()
                        .filter(|(_, l)| memchr::memmem::find(l, b"\"ip\"").is_some())
                        .map(|(n, _)| *n)
                        .collect();
                    for (i, item) in found.into_iter().enumerate() {
                        let line = if ip_lines.len() > 1 {
                            ip_lines.get(i).copied().unwrap_or(first)
                        } else {
                            first
                        };
                        self.item(item, line, sink);
                    }
                }
                None => sink.malformed(
                    first,
                    "a JSON document that holds no imunify360 ip-list items".into(),
                ),
            }
            return;
        }
        // One item a line.
        for (n, line) in &self.lines {
            match serde_json::from_slice::<Value>(line) {
                Ok(value) if value.as_object().is_some_and(is_item) => self.item(&value, *n, sink),
                _ => sink.malformed(*n, "not an imunify360 ip-list item".into()),
            }
        }
    }
}

/// `ip-list local list` table.
pub(crate) const TABLE: FormatDescriptor = FormatDescriptor::new(
    Format::Imunify360Table,
    &[Tool::Imunify360],
    "Imunify360 imunify360-agent ip-list local list table (drop list)",
    |ctx| Box::new(TableParser::new(ctx)),
)
.detected_by(&[Detection::text(238, detect_table)]);

/// `--json` items.
pub(crate) const JSON: FormatDescriptor = FormatDescriptor::new(
    Format::Imunify360Json,
    &[Tool::Imunify360],
    "Imunify360 imunify360-agent ip-list/blacklist --json items (drop list)",
    |ctx| Box::new(JsonParser::new(ctx)),
)
.detected_by(&[Detection::text(239, detect_json)]);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::run_lines;

    const HEADER: &str = "AUTO_WHITELISTED  COMMENT       COUNTRY  CTIME       DEEP  EXPIRATION  FULL_ACCESS  IMPORTED_FROM  IP           MANUAL  NETMASK     NETWORK_ADDRESS  PURPOSE  SCOPE  VERSION";

    #[test]
    fn drop_rows_are_bans_read_from_the_right() {
        // 104.16.0.1 = 1745879041; 172.64.0.0/16: netmask 4294901760, network 2889875456.
        let text = format!(
            "{HEADER}\n\
             False             one good IP  US       1715940270  None  0           None         None           11.22.33.44  True    4294967295  185999660        white    local  4\n\
             False             blocked by hand 1.2.3.4  US  1764000000  None  0  None  None  104.16.0.1  True  4294967295  1745879041  drop  local  4\n\
             False             sensor  None  1764000000  None  1764003600  None  None  172.64.0.0/16  False  4294901760  2889875456  drop  local  4\n"
        );
        let p = Path::new("/tmp/x");
        assert!(detect_table(p, text.as_bytes()));
        let c = run_lines(Format::Imunify360Table, "list.txt", &text);
        assert!(c.malformed.is_empty(), "{:?}", c.malformed);
        let got: Vec<(String, u64, bool)> = c
            .events
            .iter()
            .map(|e| (e.net.to_string(), e.location.line, e.expires.is_some()))
            .collect();
        assert_eq!(
            got,
            [
                ("104.16.0.1/32".into(), 3, false),
                ("172.64.0.0/16".into(), 4, true)
            ]
        );
        assert!(c
            .events
            .iter()
            .all(|e| e.tool == Tool::Imunify360 && e.scope == DROP_SCOPE));
        assert!(c.events[0].net.addr().is_ipv4());
    }

    #[test]
    fn a_row_whose_numbers_do_not_match_its_address_is_named() {
        let text = format!(
            "{HEADER}\n\
             False  x  US  1764000000  None  0  None  None  104.16.0.1  True  4294967295  185999660  drop  local  4\n\
             False  104.16.0.2  US  1764000000  None  0  None  None  drop\n"
        );
        let c = run_lines(Format::Imunify360Table, "list.txt", &text);
        assert!(c.events.is_empty());
        assert_eq!(c.malformed_lines(), [2, 3]);
    }

    #[test]
    fn json_items_of_the_black_list_are_bans() {
        let doc = r#"{"items": [
{"auto_whitelisted": false, "comment": "104.16.0.9", "country": {"code": "US"}, "ctime": 1662355015, "deep": null, "expiration": 0, "full_access": false, "imported_from": null, "ip": "104.16.0.1", "listname": "BLACK", "manual": true, "netmask": 4294967295, "network_address": 1745879041, "scope": "local", "version": 4},
{"auto_whitelisted": false, "comment": "", "country": null, "ctime": 1662355015, "deep": null, "expiration": 0, "full_access": true, "imported_from": null, "ip": "104.16.0.2", "listname": "WHITE", "manual": true, "netmask": 4294967295, "network_address": 1745879042, "scope": "local", "version": 4}
]}
"#;
        let p = Path::new("/tmp/x");
        assert!(detect_json(p, doc.as_bytes()));
        let c = run_lines(Format::Imunify360Json, "list.json", doc);
        assert!(c.malformed.is_empty(), "{:?}", c.malformed);
        let got: Vec<(String, u64)> = c
            .events
            .iter()
            .map(|e| (e.net.to_string(), e.location.line))
            .collect();
        assert_eq!(got, [("104.16.0.1/32".into(), 2)]);
    }
}
