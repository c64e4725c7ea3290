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

use std::borrow::Cow;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Local, NaiveDateTime, TimeDelta};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode};
use serde_json::Value;

use super::sqlite::{is_busy, open_read_only};
use super::{Format, LineParser, ParseCtx, Parser, Sink};
use crate::addr::{host_net, parse_ip};
use crate::error::Error;
use crate::event::{Action, BanEvent, Location, Tool};

/// How long to wait for a lock held by btwaf while it writes.
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// How long detection waits for a lock.
const DETECT_BUSY_TIMEOUT: Duration = Duration::from_millis(500);

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

/// Text for a message, cut short.
fn quote(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTE) {
        Some((at, _)) => format!("{:?}...", &text[..at]),
        None => format!("{text:?}"),
    }
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
// drop_ip.log

/// One entry of `drop_ip.log`: an address blocked on a site for some seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropEntry {
    /// When the block began (Unix time, `os.time()`).
    pub time: i64,
    /// The blocked address.
    pub ip: IpAddr,
    /// The site (`server_name`).
    pub site: String,
    /// How long the block lasts, in seconds (`drop_time`).
    pub seconds: i64,
    /// Why (`cc`, `inc`, `head`, ...), when the entry says.
    pub reason: Option<String>,
}

impl DropEntry {
    /// Reads one entry from its JSON array (see the [module documentation](self)).
    pub fn from_value(value: &Value) -> Result<DropEntry, String> {
        let Value::Array(items) = value else {
            return Err(format!("not a JSON array: {}", quote_value(value)));
        };
        if items.len() < 5 {
            return Err(format!(
                "{} fields, at least 5 expected: {}",
                items.len(),
                quote_value(value)
            ));
        }
        let time = whole(&items[0])
            .filter(|t| (1..MAX_EPOCH).contains(t))
            .ok_or_else(|| format!("not a Unix time: {}", quote_value(&items[0])))?;
        let ip = address(&items[1])?;
        let site = opt_str(items.get(2), "the site")?
            .unwrap_or("-")
            .to_string();
        let seconds = whole(&items[4])
            .filter(|s| (0..MAX_EPOCH).contains(s))
            .ok_or_else(|| format!("not a block duration: {}", quote_value(&items[4])))?;
        let reason = match items.get(5) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            _ => None,
        };
        Ok(DropEntry {
            time,
            ip,
            site,
            seconds,
            reason,
        })
    }

    /// The event of this entry.
    fn event(&self, path: &Arc<Path>, line: u64) -> Result<BanEvent, String> {
        let time = local(self.time).ok_or_else(|| format!("not a date: {}", self.time))?;
        Ok(BanEvent {
            net: host_net(self.ip),
            tool: Tool::Btwaf,
            format: Format::BtwafDropIp,
            scope: scope(&self.site, self.reason.as_deref()),
            peer: None,
            action: Action::Ban,
            time: Some(time),
            expires: local(self.time + self.seconds),
            location: Location {
                path: path.clone(),
                line,
            },
        })
    }
}

/// Reads one line of `drop_ip.log`: one entry, or several when the line is an array of
/// entries; each is read on its own, so one bad entry does not hide the others.
///
/// ```
/// use cf_ban_audit_core::formats::btwaf::read_drop_line;
/// let line = br#"[1795489200,"104.16.8.8","example.com","\/index.php?id=1",86400,"cc"]"#;
/// let entry = read_drop_line(line).remove(0).unwrap();
/// assert_eq!((entry.ip.to_string(), entry.site.as_str()), ("104.16.8.8".into(), "example.com"));
/// assert_eq!((entry.seconds, entry.reason.as_deref()), (86400, Some("cc")));
/// // A URI that looks like another entry is only a URI.
/// let forged = br#"[1795489200,"192.0.2.1","example.com","\"],[1795489200,\"104.16.0.1\",\"x\",\"\/\",86400,\"cc\"]",300,"cc"]"#;
/// let entries = read_drop_line(forged);
/// assert_eq!(entries.len(), 1);
/// assert_eq!(entries[0].as_ref().unwrap().ip.to_string(), "192.0.2.1");
/// ```
pub fn read_drop_line(line: &[u8]) -> Vec<Result<DropEntry, String>> {
    let line = line.trim_ascii();
    let value: Value = match serde_json::from_str(&text(line)) {
        Ok(v) => v,
        Err(e) => {
            return vec![Err(format!(
                "not a JSON array ({e}): {}",
                quote(&text(line))
            ))]
        }
    };
    match &value {
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_array) => {
            items.iter().map(DropEntry::from_value).collect()
        }
        _ => vec![DropEntry::from_value(&value)],
    }
}

/// The parser of `drop_ip.log`.
pub struct DropIpParser {
    path: Arc<Path>,
}

impl DropIpParser {
    /// A parser for one file.
    pub fn new(ctx: &ParseCtx) -> Self {
        DropIpParser {
            path: ctx.path.clone(),
        }
    }
}

impl LineParser for DropIpParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        // The panel empties the file with `echo '' > drop_ip.log`: blank lines are normal.
        if line.trim_ascii().is_empty() {
            return;
        }
        for entry in read_drop_line(line) {
            match entry.and_then(|e| e.event(&self.path, lineno)) {
                Ok(event) => sink.event(event),
                Err(message) => sink.malformed(lineno, message),
            }
        }
    }
}

// ----------------------------------------------------------------------------------------------
// Per-site logs

/// One line of a per-site log: a request btwaf intercepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteEntry {
    /// When, in the host's local time (`ngx.localtime()`).
    pub time: NaiveDateTime,
    /// The client address.
    pub ip: IpAddr,
    /// The rule family that fired (`cc`, `args`, `post`, `user_agent`, `scan`, ...).
    pub rule: String,
    /// What the rule says (a regular expression, or a sentence such as
    /// `60秒内累计超过120次请求,封锁300秒`), when there is one.
    pub text: Option<String>,
    /// The block announced by the text (`封锁N秒`), in seconds.
    pub block_seconds: Option<i64>,
}

/// The seconds of the first `封锁N秒` ("blocked for N seconds") in a rule text.
///
/// ```
/// use cf_ban_audit_core::formats::btwaf::block_seconds;
/// assert_eq!(block_seconds("60秒内累计超过120次请求,封锁300秒"), Some(300));
/// assert_eq!(block_seconds("单IP防护一天内内累计超过3000次请求,封锁86400秒(包括所有静态资源)"), Some(86400));
/// assert_eq!(block_seconds("假蜘蛛拦截"), None);
/// ```
pub fn block_seconds(text: &str) -> Option<i64> {
    const BLOCKED: &str = "封锁";
    let mut rest = text;
    while let Some(at) = rest.find(BLOCKED) {
        rest = &rest[at + BLOCKED.len()..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 && digits <= 12 && rest[digits..].starts_with('秒') {
            return rest[..digits].parse().ok();
        }
    }
    None
}

/// Reads one line of a per-site log.
///
/// ```
/// use cf_ban_audit_core::formats::btwaf::read_site_line;
/// let line = r#"["2026-11-23 23:59:00","172.64.9.9","GET","\/","curl\/8.5.0","cc","60秒内累计超过120次请求,封锁86400秒"]"#;
/// let e = read_site_line(line.as_bytes()).unwrap();
/// assert_eq!((e.ip.to_string(), e.rule.as_str(), e.block_seconds), ("172.64.9.9".into(), "cc", Some(86400)));
/// assert_eq!(e.time.to_string(), "2026-11-23 23:59:00");
/// ```
pub fn read_site_line(line: &[u8]) -> Result<SiteEntry, String> {
    let line = text(line.trim_ascii());
    let value: Value = serde_json::from_str(&line)
        .map_err(|e| format!("not a JSON array ({e}): {}", quote(&line)))?;
    let Value::Array(items) = &value else {
        return Err(format!("not a JSON array: {}", quote(&line)));
    };
    if items.len() < 6 {
        return Err(format!(
            "{} fields, at least 6 expected: {}",
            items.len(),
            quote(&line)
        ));
    }
    let time = items[0]
        .as_str()
        .and_then(|s| NaiveDateTime::parse_from_str(s.trim(), LOCALTIME).ok())
        .ok_or_else(|| format!("not a local time: {}", quote_value(&items[0])))?;
    let ip = address(&items[1])?;
    let rule = opt_str(items.get(5), "the rule name")?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("no rule name: {}", quote(&line)))?;
    let text = opt_str(items.get(6), "the rule text")?.map(str::to_string);
    let block_seconds = text.as_deref().and_then(block_seconds);
    Ok(SiteEntry {
        time,
        ip,
        rule,
        text,
        block_seconds,
    })
}

/// The site a per-site log is about, from its name `<site>_<YYYY-MM-DD>.log` (or the file
/// name without `.log` when it has no date).
///
/// ```
/// use cf_ban_audit_core::formats::btwaf::site_of;
/// use std::path::Path;
/// assert_eq!(site_of(Path::new("/www/wwwlogs/btwaf/www.example.com_2026-11-23.log")), "www.example.com");
/// assert_eq!(site_of(Path::new("/backup/my_site_2026-11-23.log.gz")), "my_site");
/// ```
pub fn site_of(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = name.strip_suffix(".gz").unwrap_or(&name);
    let base = base.strip_suffix(".log").unwrap_or(base);
    match base.rsplit_once('_') {
        Some((site, date)) if !site.is_empty() && is_date(date) => site.to_string(),
        _ => base.to_string(),
    }
}

/// `YYYY-MM-DD`.
fn is_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() && s.len() == 10
}

/// The parser of per-site logs.
pub struct SiteLogParser {
    path: Arc<Path>,
    site: String,
}

impl SiteLogParser {
    /// A parser for one file; the site comes from its name.
    pub fn new(ctx: &ParseCtx) -> Self {
        SiteLogParser {
            path: ctx.path.clone(),
            site: site_of(&ctx.path),
        }
    }
}

impl LineParser for SiteLogParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if line.trim_ascii().is_empty() {
            return;
        }
        let entry = match read_site_line(line) {
            Ok(entry) => entry,
            Err(message) => return sink.malformed(lineno, message),
        };
        let (action, expires) = match entry.block_seconds {
            Some(n) => (
                Action::Ban,
                entry.time.checked_add_signed(TimeDelta::seconds(n)),
            ),
            None => (Action::Deny, None),
        };
        sink.event(BanEvent {
            net: host_net(entry.ip),
            tool: Tool::Btwaf,
            format: Format::BtwafSiteLog,
            scope: scope(&self.site, Some(&entry.rule)),
            peer: None,
            action,
            time: Some(entry.time),
            expires,
            location: Location {
                path: self.path.clone(),
                line: lineno,
            },
        });
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

/// The name of the file, without `.gz` and a rotation number.
fn base_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
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
    let base = name.strip_suffix(".gz").unwrap_or(&name);
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
///
/// ```
/// use cf_ban_audit_core::formats::{btwaf, Format};
/// use std::path::Path;
/// let drop = br#"[1795489200,"104.16.8.8","example.com","\/",86400,"cc"]"#;
/// assert_eq!(btwaf::detect(Path::new("/tmp/blocked.txt"), drop), Some(Format::BtwafDropIp));
/// let site = r#"["2026-11-23 10:00:01","104.16.1.1","GET","\/","curl","args","select.+from"]"#;
/// assert_eq!(btwaf::detect(Path::new("/tmp/x.log"), site.as_bytes()), Some(Format::BtwafSiteLog));
/// assert_eq!(btwaf::detect(Path::new("/tmp/x.json"), br#"[1,2,3,4,5,6]"#), None);
/// ```
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

/// The parser of `format` for one input.
pub fn parser(format: Format, ctx: &ParseCtx) -> Parser {
    match format {
        Format::BtwafDb => Parser::File(parse_db),
        Format::BtwafSiteLog => Parser::Lines(Box::new(SiteLogParser::new(ctx))),
        _ => Parser::Lines(Box::new(DropIpParser::new(ctx))),
    }
}

// ----------------------------------------------------------------------------------------------
// totla_db.db

/// Whether an SQLite file is btwaf's database (`totla_db.db` with a `blocking_ip` table): it
/// opens read-only and has that table. Never fails: a file that cannot be read is not one,
/// except a locked file named like btwaf's, which is taken as one so that [`parse_db`]
/// reports the lock.
///
/// ```
/// use cf_ban_audit_core::formats::btwaf::looks_like_db;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("totla_db.db");
/// let db = rusqlite::Connection::open(&path).unwrap();
/// db.execute_batch("CREATE TABLE blocking_ip(id INTEGER PRIMARY KEY, time INTEGER, ip TEXT, blocking_time INTEGER);").unwrap();
/// assert!(looks_like_db(&path));
/// assert!(!looks_like_db(&dir.path().join("missing.db")));
/// ```
pub fn looks_like_db(path: &Path) -> bool {
    let named = || {
        path.file_name()
            .is_some_and(|n| n.to_string_lossy().contains("totla_db"))
    };
    match open_read_only(path, DETECT_BUSY_TIMEOUT) {
        Ok(conn) => match table_exists(&conn, "blocking_ip") {
            Ok(found) => found,
            Err(e) => is_busy(&e) && named(),
        },
        Err(e) => is_busy(&e) && named(),
    }
}

/// Reads the `blocking_ip` table of a btwaf database: each row an [`Action::Ban`] (see the
/// [module documentation](self)). Rows that cannot be read are skipped and counted as
/// malformed; a file that is not a readable btwaf database is an [`Error::File`].
///
/// ```
/// use cf_ban_audit_core::formats::{btwaf, ParseCtx, Sink};
/// use cf_ban_audit_core::{Action, BanEvent};
/// use std::sync::Arc;
///
/// struct Events(Vec<BanEvent>);
/// impl Sink for Events {
///     fn event(&mut self, e: BanEvent) { self.0.push(e) }
///     fn malformed(&mut self, _: u64, _: String) {}
/// }
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("totla_db.db");
/// rusqlite::Connection::open(&path).unwrap().execute_batch(
///     "CREATE TABLE blocking_ip (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER,
///        time_localtime TEXT, server_name TEXT, ip TEXT, blockade TEXT,
///        blocking_time INTEGER, is_status INTEGER);
///      INSERT INTO blocking_ip(time, time_localtime, server_name, ip, blockade, blocking_time, is_status)
///        VALUES (1795489200, '2026-11-24 11:00:00', 'example.com', '104.16.5.5', 'cc', 86400, 1);",
/// ).unwrap();
///
/// let now = chrono::Local::now().naive_local();
/// let ctx = ParseCtx { path: Arc::from(path.as_path()), reference: now, now };
/// let mut sink = Events(Vec::new());
/// btwaf::parse_db(&path, &ctx, &mut sink).unwrap();
/// let e = &sink.0[0];
/// assert_eq!((e.action, e.scope.as_str()), (Action::Ban, "example.com/cc"));
/// assert_eq!(e.expires.unwrap() - e.time.unwrap(), chrono::TimeDelta::seconds(86400));
/// ```
pub fn parse_db(path: &Path, ctx: &ParseCtx, sink: &mut dyn Sink) -> Result<(), Error> {
    if let Err(source) = std::fs::metadata(path) {
        return Err(Error::Io {
            path: path.to_path_buf(),
            source,
        });
    }
    let fail = |message: String| Error::File {
        path: path.to_path_buf(),
        message: format!("btwaf database: {message}"),
    };
    let conn = open_read_only(path, BUSY_TIMEOUT)
        .map_err(|e| fail(describe("cannot open the database", &e)))?;
    conn.execute_batch("BEGIN")
        .map_err(|e| fail(describe("cannot start a read transaction", &e)))?;
    let result = read_db(&conn, ctx, sink).map_err(fail);
    // Nothing was written; ending the transaction releases the shared lock at once.
    let _ = conn.execute_batch("ROLLBACK");
    result
}

/// A column's name in the query, or `NULL` when the table lacks it.
fn column<'a>(names: &[String], name: &'a str) -> &'a str {
    if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
        name
    } else {
        "NULL"
    }
}

fn read_db(conn: &Connection, ctx: &ParseCtx, sink: &mut dyn Sink) -> Result<(), String> {
    let schema = |e: rusqlite::Error| describe("cannot read the schema", &e);
    if !table_exists(conn, "blocking_ip").map_err(schema)? {
        return Err("no table blocking_ip: not a btwaf database".into());
    }
    let names: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('blocking_ip')")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| row.get::<_, String>(0))?
                .collect::<rusqlite::Result<_>>()
        })
        .map_err(schema)?;
    let has = |c: &str| names.iter().any(|n| n.eq_ignore_ascii_case(c));
    for needed in ["ip", "blocking_time"] {
        if !has(needed) {
            return Err(format!("table blocking_ip has no column {needed}"));
        }
    }
    if !has("time") && !has("time_localtime") {
        return Err("table blocking_ip has no column time or time_localtime".into());
    }
    let query = format!(
        "SELECT {}, {}, ip, {}, {}, blocking_time, {}, {} FROM blocking_ip",
        column(&names, "id"),
        column(&names, "server_name"),
        column(&names, "time"),
        column(&names, "time_localtime"),
        column(&names, "is_status"),
        column(&names, "blockade"),
    );
    let what = |e: rusqlite::Error| describe("cannot read table blocking_ip", &e);
    let mut stmt = conn.prepare(&query).map_err(what)?;
    let mut rows = stmt.query([]).map_err(what)?;
    while let Some(row) = rows.next().map_err(what)? {
        let get = |i| row.get_ref(i).map_err(what);
        let parsed = DbRow {
            id: get(0)?,
            site: get(1)?,
            ip: get(2)?,
            time: get(3)?,
            localtime: get(4)?,
            seconds: get(5)?,
            status: get(6)?,
            blockade: get(7)?,
        }
        .event(ctx);
        match parsed {
            Ok(event) => sink.event(event),
            Err(message) => sink.malformed(0, message),
        }
    }
    Ok(())
}

/// The values of one `blocking_ip` row that matter.
struct DbRow<'a> {
    id: ValueRef<'a>,
    site: ValueRef<'a>,
    ip: ValueRef<'a>,
    time: ValueRef<'a>,
    localtime: ValueRef<'a>,
    seconds: ValueRef<'a>,
    status: ValueRef<'a>,
    blockade: ValueRef<'a>,
}

/// Text of a TEXT (or BLOB) value.
fn value_str(value: ValueRef<'_>) -> Option<Cow<'_, str>> {
    match value {
        ValueRef::Text(b) | ValueRef::Blob(b) => Some(String::from_utf8_lossy(b)),
        _ => None,
    }
}

/// A whole number from an INTEGER, a REAL without fraction or a number in TEXT.
fn value_whole(value: ValueRef<'_>) -> Option<i64> {
    match value {
        ValueRef::Integer(n) => Some(n),
        ValueRef::Real(f) if f.is_finite() && f.abs() < 9.0e15 => Some(f.floor() as i64),
        ValueRef::Text(t) => {
            let s = std::str::from_utf8(t).ok()?.trim();
            s.parse().ok().or_else(|| {
                let f: f64 = s.parse().ok()?;
                (f.is_finite() && f.abs() < 9.0e15).then_some(f.floor() as i64)
            })
        }
        _ => None,
    }
}

/// `is_status`: `Some(false)` for 0 / false, `Some(true)` for other values, `None` for NULL.
fn value_status(value: ValueRef<'_>) -> Option<bool> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n != 0),
        ValueRef::Real(f) => Some(f != 0.0),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            let s = String::from_utf8_lossy(t);
            let s = s.trim();
            Some(!(s.is_empty() || s == "0" || s.eq_ignore_ascii_case("false")))
        }
    }
}

fn value_text(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".to_string(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(b) | ValueRef::Blob(b) => quote(&String::from_utf8_lossy(b)),
    }
}

impl DbRow<'_> {
    fn event(&self, ctx: &ParseCtx) -> Result<BanEvent, String> {
        let id = value_text(self.id);
        let ip = value_str(self.ip)
            .and_then(|s| parse_ip(s.trim().as_bytes()))
            .ok_or_else(|| {
                format!(
                    "blocking_ip row {id}: not an address: {}",
                    value_text(self.ip)
                )
            })?;
        let seconds = value_whole(self.seconds)
            .filter(|s| (0..MAX_EPOCH).contains(s))
            .ok_or_else(|| {
                format!(
                    "blocking_ip row {id}: blocking_time is not a duration: {}",
                    value_text(self.seconds)
                )
            })?;
        let epoch = value_whole(self.time).filter(|t| (1..MAX_EPOCH).contains(t));
        let (time, end) = match epoch {
            Some(t) => (local(t), local(t + seconds)),
            None => {
                let t = value_str(self.localtime)
                    .and_then(|s| NaiveDateTime::parse_from_str(s.trim(), LOCALTIME).ok());
                (
                    t,
                    t.and_then(|t| t.checked_add_signed(TimeDelta::seconds(seconds))),
                )
            }
        };
        let (Some(time), Some(end)) = (time, end) else {
            return Err(format!(
                "blocking_ip row {id}: no time: time {}, time_localtime {}",
                value_text(self.time),
                value_text(self.localtime)
            ));
        };
        // Lifted before its end (is_status false): over, at the latest now.
        let expires = match value_status(self.status) {
            Some(false) => end.min(ctx.now),
            _ => end,
        };
        let site = value_str(self.site).unwrap_or(Cow::Borrowed("-"));
        let rule = value_str(self.blockade);
        Ok(BanEvent {
            net: host_net(ip),
            tool: Tool::Btwaf,
            format: Format::BtwafDb,
            scope: scope(&site, rule.as_deref()),
            peer: None,
            action: Action::Ban,
            time: Some(time),
            expires: Some(expires),
            location: Location {
                path: ctx.path.clone(),
                line: 0,
            },
        })
    }
}

fn table_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
        [name],
        |row| row.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

/// A message naming what failed and why, in words.
fn describe(what: &str, e: &rusqlite::Error) -> String {
    let why = match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => "not an SQLite database".to_string(),
        Some(ErrorCode::DatabaseCorrupt) => format!("the database is corrupt ({e})"),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => format!(
            "the database stayed locked for more than {} s (btwaf writing to it?); try again",
            BUSY_TIMEOUT.as_secs()
        ),
        Some(ErrorCode::CannotOpen) => format!("cannot open the file read-only ({e})"),
        Some(ErrorCode::PermissionDenied) => format!("permission denied ({e})"),
        _ => e.to_string(),
    };
    format!("{what}: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[derive(Default)]
    struct Collect {
        events: Vec<BanEvent>,
        malformed: Vec<(u64, String)>,
    }

    impl Sink for Collect {
        fn event(&mut self, e: BanEvent) {
            self.events.push(e);
        }
        fn malformed(&mut self, line: u64, message: String) {
            self.malformed.push((line, message));
        }
    }

    fn now() -> NaiveDateTime {
        "2026-11-24T12:00:00".parse().unwrap()
    }

    fn ctx(path: &Path) -> ParseCtx {
        ParseCtx {
            path: Arc::from(path),
            reference: now(),
            now: now(),
        }
    }

    fn lines(format: Format, path: &str, text: &str) -> Collect {
        let ctx = ctx(Path::new(path));
        let Parser::Lines(mut p) = parser(format, &ctx) else {
            panic!("a line parser")
        };
        let mut sink = Collect::default();
        for (i, line) in text.lines().enumerate() {
            p.line(i as u64 + 1, line.as_bytes(), &mut sink);
        }
        p.finish(&mut sink);
        sink
    }

    fn addrs(c: &Collect) -> Vec<String> {
        c.events.iter().map(|e| e.net.addr().to_string()).collect()
    }

    #[test]
    fn drop_entries_of_both_lengths() {
        let text = concat!(
            r#"[1795489200,"104.16.8.8","example.com","\/index.php?id=1",86400,"cc"]"#,
            "\n",
            r#"[1795489200,"2a06:98c0:3600::103","shop.example.net","\/login",3600,"inc","POST","Mozilla\/5.0","args","select.+from","POST \/login HTTP\/1.1\r\n\r\nuser=1"]"#,
            "\n\n",
            r#"[1795489200.0,"172.64.1.1","a.example",null,"300"]"#,
            "\n",
        );
        let got = lines(Format::BtwafDropIp, "/www/server/btwaf/drop_ip.log", text);
        assert!(got.malformed.is_empty(), "{:?}", got.malformed);
        assert_eq!(
            addrs(&got),
            ["104.16.8.8", "2a06:98c0:3600::103", "172.64.1.1"]
        );
        let scopes: Vec<_> = got.events.iter().map(|e| e.scope.as_str()).collect();
        assert_eq!(
            scopes,
            ["example.com/cc", "shop.example.net/inc", "a.example"]
        );
        let e = &got.events[0];
        assert_eq!((e.action, e.location.line), (Action::Ban, 1));
        assert_eq!(e.time, local(1_795_489_200));
        assert_eq!(e.expires, local(1_795_489_200 + 86400));
        assert_eq!(got.events[1].location.line, 2);
        assert_eq!(
            got.events[2].expires.unwrap() - got.events[2].time.unwrap(),
            TimeDelta::seconds(300)
        );
    }

    #[test]
    fn forged_entries_inside_strings_are_strings() {
        let text = concat!(
            r#"[1795489200,"203.0.113.50","example.com","\/?q=\"],[1795489200,\"104.16.0.1\",\"example.com\",\"\/\",86400,\"cc\"],[",300,"cc"]"#,
            "\n",
            r#"[1795489200,"203.0.113.51","example.com","\/",300,"cc","GET","[1795489200,\"104.16.0.2\",\"example.com\",\"\/\",86400,\"cc\"]","ua","r","GET \/ HTTP\/1.1\n[1795489200,\"104.16.0.3\",\"e\",\"\/\",86400,\"cc\"]\n"]"#,
            "\n",
            // A line cut short: no entry, whatever it holds.
            r#"[1795489200,"104.16.0.4","example.com","\/",86400,"cc""#,
            "\n",
        );
        let got = lines(Format::BtwafDropIp, "drop_ip.log", text);
        assert_eq!(addrs(&got), ["203.0.113.50", "203.0.113.51"]);
        assert_eq!(got.malformed.len(), 1);
        assert_eq!(got.malformed[0].0, 3);
    }

    #[test]
    fn bad_drop_entries_are_malformed() {
        for line in [
            // btwaf versions that logged the site in the address field
            r#"[1795489200,"example.com","example.com","\/",300,"cc"]"#,
            r#"[1795489200,"unknown","example.com","\/",300,"cc"]"#,
            r#"[1795489200,"104.16.0.1","example.com","\/"]"#,
            r#"["2026-11-24 03:00:00","104.16.0.1","example.com","\/",300,"cc"]"#,
            r#"[1795489200,"104.16.0.1","example.com","\/",-5,"cc"]"#,
            r#"[1795489200,"104.16.0.1","example.com","\/","long","cc"]"#,
            r#"[1795489200,"104.16.0.1",["example.com"],"\/",300,"cc"]"#,
            r#"{"ip":"104.16.0.1"}"#,
            r#"[]"#,
            "garbage 104.16.0.1",
        ] {
            let got = lines(Format::BtwafDropIp, "drop_ip.log", line);
            assert!(got.events.is_empty(), "{line}");
            assert_eq!(got.malformed.len(), 1, "{line}");
        }
    }

    #[test]
    fn an_array_of_entries_on_one_line() {
        let text = concat!(
            r#"[[1795489200,"131.0.72.5","example.com","\/",86400,"cc"],"#,
            r#"[1795489200,"not-an-ip","example.com","\/",86400,"cc"],"#,
            r#"[1795489200,"198.51.100.4","example.com","\/",86400,"head"]]"#
        );
        let got = lines(Format::BtwafDropIp, "drop_ip.log", text);
        assert_eq!(addrs(&got), ["131.0.72.5", "198.51.100.4"]);
        assert_eq!(got.malformed.len(), 1);
    }

    #[test]
    fn site_lines_deny_or_ban() {
        let text = concat!(
            r#"["2026-11-23 10:00:01","104.16.1.1","GET","\/?id=1%20union%20select","Mozilla\/5.0","args","union.+select"]"#,
            "\n",
            r#"["2026-11-23 23:59:00","172.64.9.9","GET","\/","curl\/8.5.0","cc","60秒内累计超过120次请求,封锁86400秒"]"#,
            "\n",
            r#"["2026-11-23 09:00:05","162.158.7.7","POST","\/wp-login.php","Mozilla","post","60秒以内累计超过6次以上非法请求,封锁600秒","POST \/wp-login.php HTTP\/1.1","封锁此IP"]"#,
            "\n",
            r#"["2026-11-23 12:00:00","2400:cb00:2048:1::c629:d7a2","GET","\/",null,"cc","假蜘蛛拦截","GET \/ HTTP\/1.1","假蜘蛛"]"#,
            "\n",
        );
        let got = lines(
            Format::BtwafSiteLog,
            "/www/wwwlogs/btwaf/example.com_2026-11-23.log",
            text,
        );
        assert!(got.malformed.is_empty(), "{:?}", got.malformed);
        let summary: Vec<_> = got
            .events
            .iter()
            .map(|e| {
                (
                    e.net.addr().to_string(),
                    e.scope.clone(),
                    e.action,
                    e.expires.map(|t| t.to_string()),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "104.16.1.1".into(),
                    "example.com/args".into(),
                    Action::Deny,
                    None
                ),
                (
                    "172.64.9.9".into(),
                    "example.com/cc".into(),
                    Action::Ban,
                    Some("2026-11-24 23:59:00".into())
                ),
                (
                    "162.158.7.7".into(),
                    "example.com/post".into(),
                    Action::Ban,
                    Some("2026-11-23 09:10:05".into())
                ),
                (
                    "2400:cb00:2048:1::c629:d7a2".into(),
                    "example.com/cc".into(),
                    Action::Deny,
                    None
                ),
            ]
        );
    }

    #[test]
    fn forged_site_lines_are_strings() {
        let text = concat!(
            // The user agent ends the array and starts another, as text.
            r#"["2026-11-23 10:00:00","198.51.100.5","GET","\/","x\",\"cc\",\"封锁86400秒\"]\n[\"2026-11-23 10:00:00\",\"104.16.0.9\",\"GET\",\"\/\",\"x","user_agent","sqlmap"]"#,
            "\n",
            r#"2026-11-23 10:00:00 104.16.0.10 GET / cc 封锁300秒"#,
            "\n",
            r#"["2026-11-23","104.16.0.11","GET","\/","ua","cc","封锁300秒"]"#,
            "\n",
            r#"["2026-11-23 10:00:00","104.16.0.12","GET","\/","ua"]"#,
            "\n",
        );
        let got = lines(Format::BtwafSiteLog, "example.com_2026-11-23.log", text);
        assert_eq!(addrs(&got), ["198.51.100.5"]);
        assert_eq!(got.events[0].action, Action::Deny);
        assert_eq!(got.events[0].scope, "example.com/user_agent");
        assert_eq!(got.malformed.len(), 3);
    }

    #[test]
    fn block_texts() {
        assert_eq!(
            block_seconds("跳转验证-累计超过5次验证失败,封锁1200秒  (PS:URL级CC防御只在当前页面验证、不影响其他页面)"),
            Some(1200)
        );
        assert_eq!(block_seconds("封锁秒 封锁x秒 封锁60秒"), Some(60));
        assert_eq!(block_seconds("封锁60"), None);
        assert_eq!(block_seconds("60秒"), None);
    }

    #[test]
    fn sites_from_names() {
        for (path, site) in [
            (
                "/www/wwwlogs/btwaf/example.com_2026-11-23.log",
                "example.com",
            ),
            (
                "/www/wwwlogs/free_waf_log/a_b.example_2026-01-02.log",
                "a_b.example",
            ),
            ("/tmp/some.log", "some"),
            ("-", "-"),
            ("/tmp/x_2026-13-40.log", "x_2026-13-40"),
        ] {
            assert_eq!(site_of(Path::new(path)), site, "{path}");
        }
    }

    #[test]
    fn detection_is_strict() {
        let drop = br#"[1795489200,"104.16.8.8","example.com","\/",86400,"cc"]"#;
        let site =
            r#"["2026-11-23 10:00:01","104.16.1.1","GET","\/","curl","args","x"]"#.as_bytes();
        let d = Some(Format::BtwafDropIp);
        let s = Some(Format::BtwafSiteLog);
        for (path, head, want) in [
            ("/www/server/btwaf/drop_ip.log", &drop[..], d),
            ("/www/server/btwaf/drop_ip.log", b"", d),
            ("/www/server/btwaf/drop_ip.log", b"\n", d),
            ("/backup/drop_ip.log.1.gz", b"[", d),
            ("/www/server/btwaf/drop_ip.log", b"hello", None),
            ("/tmp/anything", drop, d),
            ("/tmp/anything", site, s),
            ("/www/wwwlogs/btwaf/example.com_2026-11-23.log", b"", s),
            (
                "/www/wwwlogs/free_waf_log/example.com_2026-11-23.log",
                b"[\"",
                s,
            ),
            (
                "/www/wwwlogs/btwaf/example.com_2026-11-23.log",
                b"nope",
                None,
            ),
            ("/www/wwwlogs/example.com_2026-11-23.log", b"", None),
            ("/www/server/btwaf/config.json", b"{\"open\": true}", None),
            (
                "/www/server/btwaf/rule/ip_white.json",
                b"[[2130706433, 2130706687]]",
                None,
            ),
            (
                "/www/server/btwaf/rule/url.json",
                b"[[1, \"^/admin\", \"x\", 0]]",
                None,
            ),
            ("/tmp/a.json", b"[1,2,3,4,5,6]", None),
            ("/tmp/a.json", b"[\"a\",\"b\"]", None),
            (
                "/tmp/a.json",
                br#"[{"id":1,"types":"drop","address":"104.16.0.1"}]"#,
                None,
            ),
            (
                "/tmp/a.json",
                br#"[1795489200,"104.16.8.8","example.com","/",-1,"cc"]"#,
                None,
            ),
            (
                "/tmp/a.json",
                br#"[1795489200,"nope","example.com","/",300,"cc"]"#,
                None,
            ),
            (
                "/tmp/a.json",
                br#"[[1795489200,"104.16.8.8","example.com","/",300,"cc"]]"#,
                d,
            ),
            (
                "/tmp/a.log",
                br#"["2026-11-23 10:00:01","104.16.1.1","get","/","ua","args"]"#,
                None,
            ),
            (
                "/tmp/a.log",
                br#"["2026-11-23T10:00:01","104.16.1.1","GET","/","ua","args"]"#,
                None,
            ),
        ] {
            assert_eq!(
                detect(Path::new(path), head),
                want,
                "{path} {}",
                String::from_utf8_lossy(head)
            );
        }
        // A first line cut by the end of the head still shows its leading values.
        let mut long = site.to_vec();
        long.truncate(60);
        assert_eq!(detect(Path::new("/tmp/x"), &long), s);
        let mut cut = drop.to_vec();
        cut.truncate(20);
        assert_eq!(detect(Path::new("/tmp/x"), &cut), None);
    }

    const SCHEMA: &str = "CREATE TABLE blocking_ip (
        id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER, time_localtime TEXT,
        server_name TEXT, ip TEXT, ip_city TEXT, ip_country TEXT, ip_subdivisions TEXT,
        ip_continent TEXT, ip_longitude TEXT, ip_latitude TEXT, type TEXT, uri TEXT,
        user_agent TEXT, filter_rule TEXT, incoming_value TEXT, value_risk TEXT, http_log TEXT,
        http_log_path INTEGER, blockade TEXT, blocking_time INTEGER, is_status INTEGER);";

    fn db(dir: &tempfile::TempDir, name: &str, sql: &str) -> PathBuf {
        let path = dir.path().join(name);
        Connection::open(&path).unwrap().execute_batch(sql).unwrap();
        path
    }

    fn run(path: &Path) -> Result<Collect, Error> {
        let mut sink = Collect::default();
        parse_db(path, &ctx(path), &mut sink)?;
        Ok(sink)
    }

    fn row(time: &str, site: &str, ip: &str, blockade: &str, secs: &str, status: &str) -> String {
        format!(
            "INSERT INTO blocking_ip(time, server_name, ip, uri, user_agent, blockade, blocking_time, is_status)
             VALUES ({time}, {site}, {ip}, '/?x=[1795489200,\"104.16.0.66\"]', '104.16.0.67', {blockade}, {secs}, {status});"
        )
    }

    #[test]
    fn database_rows() {
        let dir = tempfile::tempdir().unwrap();
        let t = 1_795_489_200i64;
        let sql = [
            SCHEMA.to_string(),
            row(&t.to_string(), "'example.com'", "'104.16.5.5'", "'cc'", "86400", "1"),
            row(&t.to_string(), "'example.com'", "'104.16.5.6'", "'cc'", "86400", "0"),
            row(&t.to_string(), "NULL", "'104.16.5.7'", "NULL", "'600'", "NULL"),
            row("NULL", "'example.com'", "'104.16.5.8'", "'inc'", "60", "1"),
            row(&t.to_string(), "'example.com'", "'unknown'", "'cc'", "60", "1"),
            row(&t.to_string(), "'example.com'", "'104.16.5.9'", "'cc'", "NULL", "1"),
            "UPDATE blocking_ip SET time_localtime = '2026-11-24 11:00:00' WHERE ip = '104.16.5.8';".into(),
        ]
        .join("\n");
        let path = db(&dir, "totla_db.db", &sql);
        assert!(looks_like_db(&path));
        let got = run(&path).unwrap();
        assert_eq!(
            addrs(&got),
            ["104.16.5.5", "104.16.5.6", "104.16.5.7", "104.16.5.8"]
        );
        assert_eq!(got.malformed.len(), 2, "{:?}", got.malformed);
        assert!(got.malformed[0].1.contains("row 5: not an address"));
        assert!(got.malformed[1].1.contains("row 6: blocking_time"));
        let e = &got.events;
        assert_eq!(
            (e[0].scope.as_str(), e[0].action),
            ("example.com/cc", Action::Ban)
        );
        assert_eq!(e[0].expires, local(t + 86400));
        // Lifted: over at the latest now.
        assert_eq!(e[1].expires, Some(local(t + 86400).unwrap().min(now())));
        assert_eq!(e[2].scope, "-");
        assert_eq!(e[2].expires, local(t + 600));
        // No Unix time: the local time as written.
        assert_eq!(e[3].time.unwrap().to_string(), "2026-11-24 11:00:00");
        assert_eq!(e[3].expires.unwrap().to_string(), "2026-11-24 11:01:00");
    }

    #[test]
    fn database_errors_name_what_failed() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, vec![0x5a; 8192]).unwrap();
        assert!(!looks_like_db(&junk));
        let message = run(&junk).err().unwrap().to_string();
        assert!(message.contains("not an SQLite database"), "{message}");

        let other = db(&dir, "other.db", "CREATE TABLE totla_log(x);");
        assert!(!looks_like_db(&other));
        let message = run(&other).err().unwrap().to_string();
        assert!(message.contains("no table blocking_ip"), "{message}");

        let odd = db(
            &dir,
            "odd.db",
            "CREATE TABLE blocking_ip(ip TEXT, time INTEGER);",
        );
        assert!(looks_like_db(&odd));
        let message = run(&odd).err().unwrap().to_string();
        assert!(message.contains("no column blocking_time"), "{message}");

        let missing = dir.path().join("missing.db");
        assert!(matches!(run(&missing), Err(Error::Io { .. })));
    }

    #[test]
    fn a_wal_database_is_read_without_writing_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = db(
            &dir,
            "totla_db.db",
            &format!(
                "PRAGMA journal_mode = wal; {SCHEMA} {}",
                row(
                    "1795489200",
                    "'example.com'",
                    "'104.16.5.5'",
                    "'cc'",
                    "60",
                    "1"
                )
            ),
        );
        let before = std::fs::read(&path).unwrap();
        assert!(looks_like_db(&path));
        assert_eq!(run(&path).unwrap().events.len(), 1);
        assert_eq!(std::fs::read(&path).unwrap(), before);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        // With btwaf holding it open and a write still in its WAL.
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(&format!(
                "PRAGMA wal_autocheckpoint = 0; {}",
                row(
                    "1795489200",
                    "'example.com'",
                    "'104.16.5.6'",
                    "'cc'",
                    "60",
                    "1"
                )
            ))
            .unwrap();
        assert!(looks_like_db(&path));
        assert_eq!(run(&path).unwrap().events.len(), 2);
    }

    #[test]
    fn the_parser_of_each_format() {
        let c = ctx(Path::new("x"));
        assert!(matches!(parser(Format::BtwafDb, &c), Parser::File(_)));
        assert!(matches!(parser(Format::BtwafDropIp, &c), Parser::Lines(_)));
        assert!(matches!(parser(Format::BtwafSiteLog, &c), Parser::Lines(_)));
    }
}
