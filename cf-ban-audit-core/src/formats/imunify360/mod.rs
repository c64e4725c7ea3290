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
//!
//! Also read, each in its own part: the legacy `imunify360-agent blacklist ip list` table
//! ([`Format::Imunify360LegacyTable`], `legacy.rs`: scope `drop`, lifted with the legacy
//! `imunify360-agent blacklist ip delete IP`), the external black list files
//! `/etc/imunify360/blacklist/*.txt` ([`Format::Imunify360ListFile`], `files.rs`: scope
//! `blacklist-file`, lifted by deleting the line and `imunify360-agent reload-lists`), and the
//! agent's `console.log` block and unblock records ([`Format::Imunify360ConsoleLog`],
//! `console.rs`: scope `blocked`). `check` reads the white list (`ip-list local list
//! --purpose white` and `/etc/imunify360/whitelist/*.txt`).

mod console;
mod files;
mod json;
mod legacy;
mod table;
mod white;

use std::path::Path;

use chrono::{DateTime, Local, NaiveDateTime};
use ipnet::IpNet;
use serde_json::{Map, Value};

use super::registry::{Detection, FormatDescriptor};
use super::{Format, Sink};
use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool};

pub use console::{detect_console, ConsoleParser};
pub use files::{detect_list_file, ListFileParser};
pub use json::JsonParser;
pub use legacy::{detect_legacy, LegacyParser};
pub use table::TableParser;
pub(crate) use white::{is_white_source, white_list};

/// The most a JSON document may hold before it is refused.
const MAX_DOCUMENT: usize = 32 << 20;

/// The scope of drop list entries.
pub const DROP_SCOPE: &str = "drop";

/// The lists (by `PURPOSE`, or the legacy `listname`, in lower case) whose entries are bans.
pub(crate) const DROP_LISTS: &[&str] = &["drop", "black"];

/// The lists whose entries are allowed.
pub(crate) const WHITE_LISTS: &[&str] = &["white"];

/// The scope of the entries of the external black list files (`/etc/imunify360/blacklist/*.txt`).
pub const FILE_SCOPE: &str = "blacklist-file";

/// The scope of the blocks `console.log` records (the log does not say which list holds them).
pub const LOG_SCOPE: &str = "blocked";

/// The rows `list` prints unless `--limit` says otherwise.
const DEFAULT_LIMIT: usize = 100;

/// A table of exactly [`DEFAULT_LIMIT`] rows may be a listing `imunify360-agent` cut there:
/// a note says so.
fn note_if_cut(rows: usize, sink: &mut dyn Sink) {
    if rows == DEFAULT_LIMIT {
        sink.note(format!(
            "{DEFAULT_LIMIT} rows, as many as imunify360-agent lists by default: the list may \
             hold more (list it with --limit)"
        ));
    }
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// `imunify360-agent ip-list local list` table.
    pub const Imunify360Table: Format = Format::builtin(46, "imunify360-ip-list");
    /// `imunify360-agent ... list --json` items.
    pub const Imunify360Json: Format = Format::builtin(47, "imunify360-ip-list-json");
    /// The legacy `imunify360-agent blacklist ip list` table.
    pub const Imunify360LegacyTable: Format = Format::builtin(53, "imunify360-blacklist-table");
    /// `/etc/imunify360/blacklist/*.txt`, the external black list files.
    pub const Imunify360ListFile: Format = Format::builtin(54, "imunify360-blacklist-file");
    /// `/var/log/imunify360/console.log`, the agent's log (its block and unblock records).
    pub const Imunify360ConsoleLog: Format = Format::builtin(55, "imunify360-console-log");
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
    lists: &[&str],
    e: &Entry<'_>,
    format: Format,
    location: Location,
) -> Result<Option<BanEvent>, String> {
    let list = e.list.to_ascii_lowercase();
    if !lists.contains(&list.as_str()) {
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

/// The legacy `blacklist ip list` table.
pub(crate) const LEGACY: FormatDescriptor = FormatDescriptor::new(
    Format::Imunify360LegacyTable,
    &[Tool::Imunify360],
    "Imunify360 legacy imunify360-agent blacklist ip list table (a file named as the black list)",
    |ctx| Box::new(LegacyParser::new(ctx)),
)
.detected_by(&[Detection::text(240, detect_legacy)]);

/// The external black list files.
pub(crate) const LIST_FILE: FormatDescriptor = FormatDescriptor::new(
    Format::Imunify360ListFile,
    &[Tool::Imunify360],
    "Imunify360 external black list files (an address or CIDR a line)",
    |ctx| Box::new(ListFileParser::new(ctx)),
)
.usual_paths(&["/etc/imunify360/blacklist/*.txt"])
.detected_by(&[Detection::text(241, detect_list_file)]);

/// `console.log`.
pub(crate) const CONSOLE_LOG: FormatDescriptor = FormatDescriptor::new(
    Format::Imunify360ConsoleLog,
    &[Tool::Imunify360],
    "Imunify360 agent log console.log (IP ... is BLOCKED / UNBLOCKED records)",
    |ctx| Box::new(ConsoleParser::new(ctx)),
)
.usual_paths(&["/var/log/imunify360/console.log"])
.detected_by(&[Detection::text(415, detect_console)]);
