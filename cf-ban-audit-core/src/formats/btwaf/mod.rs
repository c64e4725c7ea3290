//! BT-Panel (Baota) / aaPanel web firewall "btwaf" and its free variant "free_waf": the ban
//! log `drop_ip.log`, the per-site interception logs and the SQLite database `totla_db.db`.
//!
//! All three are written by btwaf's Lua code inside nginx (or Apache) and read by the panel's
//! Python plugin (`btwaf_main.py`). What each holds, and how it is read:
//!
//! - **`drop_ip.log`** (`/www/server/btwaf/drop_ip.log`, `/www/server/free_waf/drop_ip.log`):
//!   one JSON array per line, written by `write_drop_ip` with `json.encode(logtmp) .. "\n"`:
//!   - `[os.time(), ip, server_name, request_uri, drop_time, is_drop]` (older versions);
//!   - `[os.time(), ip, server_name, request_uri, drop_time, is_drop, method, user_agent,
//!     name, rule, http_log]` (later versions; the newest write the database instead);
//!
//!   where `is_drop` is the reason (`cc`, `inc`, `head`, `smart_cc`, ...) and `drop_time` the
//!   block in seconds. Each entry is an [`Action::Ban`] from `os.time()` (Unix time, turned into
//!   the host's local time) that ends `drop_time` seconds later: the panel's own rule
//!   (`get_safe_logs`: active while `now - arr[0] < arr[4]`). Fields are found by position,
//!   as the panel does; at least the first five must be there, with their types (missing
//!   values that cjson writes as `null` are tolerated where they do not matter). A line that
//!   holds a JSON array of such arrays is read as several entries.
//! - **per-site logs** (`/www/wwwlogs/btwaf/<site>_<YYYY-MM-DD>.log`, `config.logs_path`;
//!   `/www/wwwlogs/free_waf_log/` for free_waf): one JSON array per interception, written by
//!   `write_log` / `lan_ip`:
//!   - `[ngx.localtime(), ip, method, request_uri, user_agent, rule_name, rule_text]`;
//!   - the same with `http_log, lan_type` (or `"", "cc"`) appended, 9 elements.
//!
//!   `ngx.localtime()` is the host's local time, kept as written. A line is an
//!   [`Action::Deny`] (one refused request), except when `rule_text` announces a block,
//!   `…封锁N秒` ("blocked for N s", as in `60秒内累计超过120次请求,封锁300秒` or
//!   `60秒以内累计超过6次以上非法请求,封锁600秒`): then it is an [`Action::Ban`] that ends N
//!   seconds after the line. The site is taken from the file name.
//! - **`totla_db.db`** (`/www/server/btwaf/totla_db/totla_db.db`, newer versions), table
//!   `blocking_ip` (`time INTEGER` Unix time, `server_name`, `ip`, `blockade` the reason as
//!   `is_drop` above, `blocking_time INTEGER` seconds, `is_status INTEGER`): each row is an
//!   [`Action::Ban`] from `time` to `time + blocking_time`. The Lua writer inserts every row
//!   with `is_status = true` (stored as 1); the panel (`is_feng`, `get_total_all_overview`)
//!   counts a row as blocked only while `is_status` is true **and** `time + blocking_time` lies
//!   in the future, so a row whose `is_status` is false (0) is a block lifted early, taken to
//!   be over at the latest now. A `NULL` `is_status` leaves the time rule alone. The database is
//!   opened strictly read-only (`mode=ro`, falling back to `immutable=1` where SQLite cannot
//!   set up its shared state, as the WAL database btwaf creates needs), in one read
//!   transaction.
//!
//! The scope of every event is `<site>/<rule>`: the site (`server_name`, or the site of the
//! log file) and the reason or rule (`is_drop` / `blockade` / `rule_name`), or the site alone
//! when there is none. Everything is read with a JSON parser (or from typed columns), field by
//! field, so text an attacker controls (the URI, the user agent, the raw request in
//! `http_log`) is only ever a string, whatever it looks like.
//!
//! btwaf reads the client address from a header (`cdn_header`) when the site is in CDN mode,
//! else from the TCP peer: a Cloudflare address here means CDN mode is off for a site behind
//! Cloudflare. The live bans (nginx `lua_shared_dict drop_ip`) are not on disk.
//!
//! [`Action::Ban`]: crate::event::Action::Ban
//! [`Action::Deny`]: crate::event::Action::Deny

mod db;
mod drop_ip;
mod site_log;

use super::registry::{Detection, FormatDescriptor, Reader};
use crate::event::Tool;
use std::borrow::Cow;
use std::net::IpAddr;
use std::path::Path;

use chrono::{DateTime, Local, NaiveDateTime};
use serde_json::Value;

use super::grammar::quote::quote_chars;
use super::Format;
use crate::addr::parse_ip;
use site_log::is_date;

pub use db::{looks_like_db, read_database};
#[cfg(test)]
pub use drop_ip::read_drop_line;
pub use drop_ip::DropIpParser;
pub use site_log::SiteLogParser;
#[cfg(test)]
pub use site_log::{block_seconds, read_site_line, site_of};

/// The longest text quoted from the input in a message.
const MAX_QUOTE: usize = 80;

/// Unix times read as such: 2000-01-01 to 2100-01-01 (detection), and anything chrono can
/// date below 1e11 s (parsing).
const DETECT_EPOCHS: std::ops::Range<i64> = 946_684_800..4_102_444_800;
const MAX_EPOCH: i64 = 100_000_000_000;

/// The format of `ngx.localtime()`.
const LOCALTIME: &str = "%Y-%m-%d %H:%M:%S";

// ----------------------------------------------------------------------------------------------
// Shared helpers

/// The scope of an event: `site/rule`, or the site alone.
fn scope(site: &str, rule: Option<&str>) -> String {
    let site = if site.trim().is_empty() {
        "-"
    } else {
        site.trim()
    };
    match rule.map(str::trim).filter(|r| !r.is_empty()) {
        Some(rule) => format!("{site}/{rule}"),
        None => site.to_string(),
    }
}

/// A Unix time as the host's local time.
fn local(secs: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp(secs, 0).map(|t| t.with_timezone(&Local).naive_local())
}

/// A whole number from a JSON number (an integer, or a float without fraction as cjson may
/// write one) or from a number in a string.
fn whole(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            let f = n.as_f64()?;
            (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The line as text: UTF-8, or with invalid bytes replaced (cjson copies raw bytes of URIs).
fn text(line: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(line)
}

/// Text for a message, cut short (after [`MAX_QUOTE`] characters).
fn quote(text: &str) -> String {
    quote_chars(text, MAX_QUOTE)
}

/// A JSON value for a message.
fn quote_value(value: &Value) -> String {
    quote(&value.to_string())
}

/// The address in a JSON string.
fn address(value: &Value) -> Result<IpAddr, String> {
    match value {
        Value::String(s) => {
            parse_ip(s.trim().as_bytes()).ok_or_else(|| format!("not an address: {}", quote(s)))
        }
        other => Err(format!("not an address: {}", quote_value(other))),
    }
}

/// A JSON string or `null` (as `None`); anything else is an error naming `what`.
fn opt_str<'a>(value: Option<&'a Value>, what: &str) -> Result<Option<&'a str>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("{what} is not text: {}", quote_value(other))),
    }
}

// ----------------------------------------------------------------------------------------------
// Detection

/// A value at the start of a JSON array, read without reading the whole line (the first line
/// of a per-site log may be longer than the bytes detection sees).
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Str(String),
    Int(i64),
    Float,
    Null,
    Other,
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// The first `max` values of the JSON array that `line` starts with (fewer when the line is
/// cut short); `None` when it is no JSON array. Nested arrays and objects end the walk.
fn leading_scalars(line: &[u8], max: usize) -> Option<Vec<Scalar>> {
    let mut i = skip_ws(line, 0);
    if line.get(i) != Some(&b'[') {
        return None;
    }
    i += 1;
    let mut out = Vec::new();
    while out.len() < max {
        i = skip_ws(line, i);
        let Some(&c) = line.get(i) else { break };
        match c {
            b']' if out.is_empty() => break,
            b'"' => {
                let start = i;
                i += 1;
                loop {
                    match line.get(i) {
                        None => return Some(out),
                        Some(b'\\') => i += 2,
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                let s: String = serde_json::from_str(&text(&line[start..i])).ok()?;
                out.push(Scalar::Str(s));
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while line.get(i).is_some_and(|c| {
                    c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E')
                }) {
                    i += 1;
                }
                if i == line.len() {
                    // Cut inside the number.
                    return Some(out);
                }
                let n = std::str::from_utf8(&line[start..i]).ok()?;
                out.push(match n.parse::<i64>() {
                    Ok(v) => Scalar::Int(v),
                    Err(_) => {
                        n.parse::<f64>().ok()?;
                        Scalar::Float
                    }
                });
            }
            b'n' if line[i..].starts_with(b"null") => {
                i += 4;
                out.push(Scalar::Null);
            }
            _ => {
                out.push(Scalar::Other);
                return Some(out);
            }
        }
        i = skip_ws(line, i);
        match line.get(i) {
            Some(b',') => i += 1,
            Some(b']') | None => break,
            Some(_) => return None,
        }
    }
    Some(out)
}

/// `[Unix time, address, site, uri, seconds, ...]`.
fn drop_shape(s: &[Scalar]) -> bool {
    s.len() >= 5
        && matches!(s[0], Scalar::Int(t) if DETECT_EPOCHS.contains(&t))
        && matches!(&s[1], Scalar::Str(ip) if parse_ip(ip.trim().as_bytes()).is_some())
        && matches!(s[2], Scalar::Str(_))
        && matches!(s[3], Scalar::Str(_) | Scalar::Null)
        && matches!(s[4], Scalar::Int(n) if n >= 0)
}

/// `["YYYY-MM-DD HH:MM:SS", address, METHOD, uri, user agent, rule, ...]`.
fn site_shape(s: &[Scalar]) -> bool {
    s.len() >= 6
        && matches!(&s[0], Scalar::Str(t) if NaiveDateTime::parse_from_str(t, LOCALTIME).is_ok())
        && matches!(&s[1], Scalar::Str(ip) if parse_ip(ip.trim().as_bytes()).is_some())
        && matches!(&s[2], Scalar::Str(m) if !m.is_empty() && m.len() <= 20
            && m.bytes().all(|b| b.is_ascii_uppercase() || b == b'-' || b == b'_'))
        && matches!(s[3], Scalar::Str(_) | Scalar::Null)
        && matches!(s[4], Scalar::Str(_) | Scalar::Null)
        && matches!(&s[5], Scalar::Str(r) if !r.trim().is_empty())
}

/// The name of the file, without compression suffixes (`.gz`, `.xz`, ...) and a rotation
/// number.
fn base_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = crate::decompress::strip_suffixes(&name);
    match name.rsplit_once('.') {
        Some((base, n))
            if !n.is_empty() && n.len() <= 4 && n.bytes().all(|b| b.is_ascii_digit()) =>
        {
            base.to_string()
        }
        _ => name.to_string(),
    }
}

/// Whether the file is named like a per-site log and sits in a btwaf or free_waf log folder.
fn site_log_place(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = crate::decompress::strip_suffixes(&name);
    let dated = base
        .strip_suffix(".log")
        .and_then(|b| b.rsplit_once('_'))
        .is_some_and(|(site, date)| !site.is_empty() && is_date(date));
    dated
        && path.parent().is_some_and(|dir| {
            dir.components()
                .any(|c| matches!(c.as_os_str().to_str(), Some("btwaf" | "free_waf_log")))
        })
}

/// Decides whether a file is `drop_ip.log` or a per-site log, from its name and first bytes.
///
/// By name: `drop_ip.log`, and `<site>_<YYYY-MM-DD>.log` inside a `btwaf` or `free_waf_log`
/// folder, when empty or starting with a JSON array. By content, under any name: a first line
/// whose leading values have the types of a `drop_ip.log` entry (a Unix time, an address, a
/// site, a URI, whole seconds) or of a per-site log line (a local time, an address, an HTTP
/// method, a URI, a user agent, a rule name).
pub fn detect(path: &Path, head: &[u8]) -> Option<Format> {
    let first = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|l| !l.is_empty());
    let array_or_nothing = first.is_none_or(|l| l.starts_with(b"["));
    if base_name(path) == "drop_ip.log" && array_or_nothing {
        return Some(Format::BtwafDropIp);
    }
    if site_log_place(path) && array_or_nothing {
        return Some(Format::BtwafSiteLog);
    }
    let first = first?;
    // A line holding an array of entries: look at the first one.
    let inner = first
        .strip_prefix(b"[")
        .map(<[u8]>::trim_ascii_start)
        .filter(|rest| rest.starts_with(b"["));
    let values = leading_scalars(inner.unwrap_or(first), 7)?;
    if drop_shape(&values) {
        Some(Format::BtwafDropIp)
    } else if inner.is_none() && site_shape(&values) {
        Some(Format::BtwafSiteLog)
    } else {
        None
    }
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// btwaf's `drop_ip.log` (JSON arrays of blocked addresses).
    pub const BtwafDropIp: Format = Format::builtin(12, "btwaf-drop-ip");
    /// btwaf's per-site logs `/www/wwwlogs/btwaf/<site>_<date>.log`.
    pub const BtwafSiteLog: Format = Format::builtin(13, "btwaf-site-log");
    /// btwaf's SQLite database (`totla_db.db`, table `blocking_ip`).
    pub const BtwafDb: Format = Format::builtin(14, "btwaf-db");
}

/// `drop_ip.log`.
pub(crate) const DROP_IP: FormatDescriptor = FormatDescriptor::new(
    Format::BtwafDropIp,
    &[Tool::Btwaf],
    "btwaf/free_waf drop_ip.log (blocked addresses with duration)",
    |ctx| Box::new(DropIpParser::new(ctx)),
)
.usual_paths(&[
    "/www/server/btwaf/drop_ip.log",
    "/www/server/free_waf/drop_ip.log",
])
.detected_by(&[Detection::text(220, |path, head| {
    detect(path, head) == Some(Format::BtwafDropIp)
})]);

/// The per-site logs.
pub(crate) const SITE_LOG: FormatDescriptor = FormatDescriptor::new(
    Format::BtwafSiteLog,
    &[Tool::Btwaf],
    "btwaf/free_waf per-site interception log",
    |ctx| Box::new(SiteLogParser::new(ctx)),
)
.usual_paths(&[
    "/www/wwwlogs/btwaf/<site>_<date>.log",
    "/www/wwwlogs/free_waf_log/",
])
.detected_by(&[Detection::text(220, |path, head| {
    detect(path, head) == Some(Format::BtwafSiteLog)
})]);

/// `totla_db.db`. A database that cannot be opened under the name `totla_db` is still btwaf's:
/// its reader then names the file in an error instead of skipping it.
pub(crate) const DB: FormatDescriptor = FormatDescriptor::read_as(
    Format::BtwafDb,
    &[Tool::Btwaf],
    "btwaf totla_db.db SQLite (blocking_ip)",
    Reader::Sqlite(read_database),
)
.usual_paths(&["/www/server/btwaf/totla_db/totla_db.db"])
.detected_by(&[
    Detection::sqlite(110, looks_like_db),
    Detection::sqlite(130, |path, _| {
        super::lower_file_name(path).contains("totla_db")
    }),
]);

#[cfg(test)]
mod tests;

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn detect() {
        use crate::formats::{btwaf, Format};
        use std::path::Path;
        let drop = br#"[1795489200,"104.16.8.8","example.com","\/",86400,"cc"]"#;
        assert_eq!(
            btwaf::detect(Path::new("/tmp/blocked.txt"), drop),
            Some(Format::BtwafDropIp)
        );
        let site =
            r#"["2026-11-23 10:00:01","104.16.1.1","GET","\/","curl","args","select.+from"]"#;
        assert_eq!(
            btwaf::detect(Path::new("/tmp/x.log"), site.as_bytes()),
            Some(Format::BtwafSiteLog)
        );
        assert_eq!(
            btwaf::detect(Path::new("/tmp/x.json"), br#"[1,2,3,4,5,6]"#),
            None
        );
    }
}
