//! nginx's error log (`/var/log/nginx/error.log`; BT-Panel `/www/wwwlogs/nginx_error.log`):
//! requests refused by `limit_req`, `limit_conn`, `deny` and ModSecurity (v3, through the
//! ModSecurity-nginx connector).
//!
//! # The line
//!
//! `ngx_log_error_core` writes `YYYY/MM/DD HH:MM:SS [level] PID#TID: *CONN message`, the
//! connection number only for lines about a connection. For lines about a request, the HTTP
//! module's log handler (`ngx_http_log_error` and `ngx_http_log_error_handler`) appends the
//! context: ` while <action>` when one is set, then `, client: <addr_text>, server:
//! <server_name>`, then `, request: "<request line>"`, `, upstream: "..."`, `, host: "..."`,
//! `, referrer: "..."`. The address is `c->addr_text`, after the realip module, IPv6 without
//! brackets. nginx escapes nothing: the request line, host and referrer are raw client text.
//! Lines are cut at 2048 bytes (`NGX_MAX_ERROR_STR`). The same lines reach the journal with a
//! prefix (`host nginx[983479]: 2023/12/09 ...`, `Nov 24 03:06:43 host nginx[1]: 2023/...`),
//! read here too.
//!
//! # Events (all [`Action::Deny`], at whatever level they are logged)
//!
//! - `limiting requests, excess: N.NNN by zone "Z"` (`ngx_http_limit_req_module`) and
//!   `limiting connections by zone "Z"` (`ngx_http_limit_conn_module`): a 503 (or
//!   `limit_req_status`) from the zone Z: [`Tool::NginxLimit`], scope Z. The `, dry run`
//!   forms refuse nothing and `delaying request, ...` only delays: no event.
//! - `access forbidden by rule` (`ngx_http_access_module`, a `deny` matched): a 403,
//!   [`Tool::NginxDeny`], scope the `server:` name (`nginx` when empty).
//! - `[client X] ModSecurity: Access denied with code N (phase P). ...` (libmodsecurity's
//!   `RuleMessage::log`, logged by the connector for an intervention): [`Tool::Modsecurity`],
//!   scope the rule id ([`super::modsec_audit::rule_id_v3`], best effort as v3 escapes
//!   nothing) or `modsecurity`. `ModSecurity: Warning.` lines and those without the
//!   `[client X]` tag (the per-rule copy, at level info) are not refusals.
//!
//! # Attacker text
//!
//! Each event is recognised by its message's fixed words right after the line's prefix, and
//! its address is read at a fixed place: for the limit and access lines, the messages hold no
//! client text, so the context nginx appends right after them starts with its own
//! `, client: `; text like `, client: 104.16.0.1` in the request line comes later and is never
//! read. For ModSecurity lines, the address is libmodsecurity's `[client X]` tag that opens the
//! message (the same `addr_text`); nginx's `client:` is not looked for, since the matched value
//! and the URI before it are raw client text. One limit remains: nginx writes raw newlines
//! that an upstream sent on stderr (`FastCGI sent in stderr: "..."`), and the decoded path of
//! a missing file (`open() "/var/www/html/x<LF>..." failed`, after a request for `/x%0A...`:
//! `ngx_http_parse_complex_uri` decodes `%0A`), so a line forged whole by a request or a script
//! cannot be told from nginx's own (tests/forgery.rs shows one).

use super::registry::{Detection, FormatDescriptor, SyslogTag};
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use chrono::{NaiveDate, NaiveDateTime};

use super::grammar::modsec::{refusal, rule_id_v3, UNKNOWN_RULE};
use super::grammar::num::{digits_u64, fixed};
use super::grammar::quote::{shown, MAX_QUOTE};
use super::grammar::{head, syslog};
use super::prefilter::Prefilter;
use super::{Format, LineParser, ParseCtx, Sink};
use crate::addr::{host_net, parse_ip};
use crate::event::{Action, BanEvent, Location, Tool};

/// The scope of `access forbidden by rule` in a server without a name.
pub const UNNAMED_SERVER: &str = "nginx";

/// The parts of an nginx error-log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NginxLine<'a> {
    /// When, as written (the host's local time).
    pub time: NaiveDateTime,
    /// The level (`error`, `warn`, ...).
    pub level: &'a [u8],
    /// The connection number (`*15372`), when the line is about a connection.
    pub connection: Option<u64>,
    /// The message with nginx's context, after the connection number, trailing white space
    /// trimmed.
    pub message: &'a [u8],
}

const LEVELS: [&[u8]; 9] = [
    b"stderr", b"emerg", b"alert", b"crit", b"error", b"warn", b"notice", b"info", b"debug",
];

fn number(b: &[u8]) -> Option<u64> {
    digits_u64(b, 19)
}

fn two(b: &[u8]) -> Option<u32> {
    fixed(b, 2)
}

/// Reads nginx's `YYYY/MM/DD HH:MM:SS` (`ngx_cached_err_log_time`).
fn parse_time(b: &[u8]) -> Option<NaiveDateTime> {
    if b.len() != 19
        || b[4] != b'/'
        || b[7] != b'/'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    NaiveDate::from_ymd_opt(number(&b[..4])? as i32, two(&b[5..])?, two(&b[8..])?)?.and_hms_opt(
        two(&b[11..])?,
        two(&b[14..])?,
        two(&b[17..])?,
    )
}

/// Reads a line as nginx writes it to its file.
fn parse_plain(line: &[u8]) -> Option<NginxLine<'_>> {
    let time = parse_time(line.get(..19)?)?;
    let rest = line[19..].strip_prefix(b" [")?;
    let close = memchr::memchr(b']', rest)?;
    let level = &rest[..close];
    if !LEVELS.contains(&level) {
        return None;
    }
    let rest = rest[close + 1..].strip_prefix(b" ")?;
    let hash = memchr::memchr(b'#', rest)?;
    number(&rest[..hash])?;
    let rest = &rest[hash + 1..];
    let colon = memchr::memchr(b':', rest)?;
    number(&rest[..colon])?;
    let mut message = rest[colon + 1..].strip_prefix(b" ").unwrap_or(b"");
    let mut connection = None;
    if let Some(r) = message.strip_prefix(b"*") {
        let end = memchr::memchr(b' ', r).unwrap_or(r.len());
        if let Some(n) = number(&r[..end]) {
            connection = Some(n);
            message = r.get(end + 1..).unwrap_or(b"");
        }
    }
    Some(NginxLine {
        time,
        level,
        connection,
        message,
    })
}

/// The nginx line inside a journal or syslog line: `TIMESTAMP HOST TAG[PID]: ` (syslog, or
/// `journalctl`), `TIMESTAMP TAG[PID]: ` (`journalctl --no-hostname`), or `HOST TAG[PID]: `
/// (the journal as fail2ban's systemd backend prints it).
fn strip_log_prefix(line: &[u8]) -> Option<&[u8]> {
    let far = NaiveDate::from_ymd_opt(2100, 1, 1)?.and_hms_opt(0, 0, 0)?;
    if let Some(layout) = syslog::layout_of(line) {
        return syslog::split_as(layout, line, far).map(|l| l.message);
    }
    let space = memchr::memchr(b' ', line)?;
    if space == 0 {
        return None;
    }
    let rest = &line[space + 1..];
    let colon = memchr::memmem::find(rest, b": ")?;
    let tag = &rest[..colon];
    let program = match memchr::memchr(b'[', tag) {
        Some(open) => {
            number(tag[open + 1..].strip_suffix(b"]")?)?;
            &tag[..open]
        }
        None => tag,
    };
    let plain = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/');
    (!program.is_empty() && program.len() <= 64 && program.iter().all(plain))
        .then(|| &rest[colon + 2..])
}

/// Splits an nginx error-log line (with or without a journal or syslog prefix) into its
/// parts; `None` for a line of another shape.
pub fn parse_line(line: &[u8]) -> Option<NginxLine<'_>> {
    let line = line.trim_ascii_end();
    if line.first().is_some_and(u8::is_ascii_digit) {
        if let Some(l) = parse_plain(line) {
            return Some(l);
        }
    }
    parse_plain(strip_log_prefix(line)?)
}

/// Whether a line is an nginx error-log line (for detection).
pub fn looks_like(line: &[u8]) -> bool {
    parse_line(line).is_some()
}

/// A refusal read from a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal<'a> {
    /// `limiting requests` / `limiting connections`: the zone and the client, as written.
    Limit {
        /// The zone's name.
        zone: &'a [u8],
        /// nginx's `client:`.
        client: &'a [u8],
    },
    /// `access forbidden by rule`: the server's name (maybe empty) and the client.
    Forbidden {
        /// nginx's `server:`.
        server: &'a [u8],
        /// nginx's `client:`.
        client: &'a [u8],
    },
    /// ModSecurity's `Access denied`: the client of its `[client X]` tag and the rule id.
    Modsecurity {
        /// libmodsecurity's client address.
        client: &'a [u8],
        /// The rule id, when found.
        rule: Option<&'a [u8]>,
    },
}

/// nginx's context right after a message: ` while <action>` (optional), then
/// `, client: X` and `, server: Y` (or the end). Returns the client and the server.
fn context(rest: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let rest = match rest.strip_prefix(b" while ") {
        Some(r) => {
            let at = memchr::memmem::find(r, b", client: ").ok_or("no client after the action")?;
            if r[..at].contains(&b',') {
                return Err("no client after the action".into());
            }
            &r[at..]
        }
        None => rest,
    };
    let rest = rest
        .strip_prefix(b", client: ")
        .ok_or("no client right after the message")?;
    let end = memchr::memchr(b',', rest).unwrap_or(rest.len());
    let client = &rest[..end];
    let rest = &rest[end..];
    let server = match rest.strip_prefix(b", server: ") {
        Some(r) => &r[..memchr::memchr(b',', r).unwrap_or(r.len())],
        None if rest.is_empty() => b"",
        None => return Err("no server after the client".into()),
    };
    Ok((client, server))
}

/// `by zone "Z"` followed by the context: the zone, the client.
fn zone_and_client(rest: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let rest = rest.strip_prefix(b"by zone \"").ok_or("no zone")?;
    let end = memchr::memchr(b'"', rest).ok_or("no zone")?;
    let zone = &rest[..end];
    if zone.is_empty() {
        return Err("empty zone".into());
    }
    let (client, _) = context(&rest[end + 1..])?;
    Ok((zone, client))
}

/// Reads an nginx message (what follows `*CONN `): `Ok(Some(_))` for a refusal, `Ok(None)`
/// for any other message, `Err(reason)` for a refusal that cannot be read.
pub fn parse_message(msg: &[u8]) -> Result<Option<Refusal<'_>>, String> {
    if let Some(rest) = msg.strip_prefix(b"limiting requests, excess: ") {
        let dot = memchr::memchr(b'.', rest).ok_or("no excess")?;
        number(&rest[..dot]).ok_or("no excess")?;
        let frac = rest.get(dot + 1..dot + 4).ok_or("no excess")?;
        number(frac).ok_or("no excess")?;
        let rest = rest[dot + 4..].strip_prefix(b" ").ok_or("no zone")?;
        let (zone, client) = zone_and_client(rest)?;
        return Ok(Some(Refusal::Limit { zone, client }));
    }
    if let Some(rest) = msg.strip_prefix(b"limiting connections ") {
        let (zone, client) = zone_and_client(rest)?;
        return Ok(Some(Refusal::Limit { zone, client }));
    }
    if let Some(rest) = msg.strip_prefix(b"access forbidden by rule") {
        let (client, server) = context(rest)?;
        return Ok(Some(Refusal::Forbidden { server, client }));
    }
    if let Some(rest) = msg.strip_prefix(b"[client ") {
        let Some(close) = memchr::memchr(b']', rest) else {
            return Ok(None);
        };
        let Some(text) = rest[close + 1..].strip_prefix(b" ModSecurity: ") else {
            return Ok(None);
        };
        if refusal(text) != Some(true) {
            return Ok(None);
        }
        return Ok(Some(Refusal::Modsecurity {
            client: &rest[..close],
            rule: rule_id_v3(text),
        }));
    }
    Ok(None)
}

/// Decides whether a file is an nginx error log: its first line (comment lines `#` and blank
/// lines aside) is an nginx error-log line; or every one of those lines is an nginx line
/// behind a journal or syslog prefix (a syslog file that mixes programs is left to
/// [`super::syslog`]).
///
/// nginx's error log holds nginx's records and nothing else, but a record can go on over
/// several lines: nginx writes raw the newlines that a request decoded (`open()
/// "/var/www/html/x<LF>..." failed` after a request for `/x%0A...`), or that an upstream wrote
/// on its stderr. So one request can add any number of lines of its choosing after one of
/// nginx's records (shaped like an audit log's entries, fail2ban's lines or syslog's), but
/// never before the first one; the file is told by that first record, and no count of the
/// lines after it can make it another format. The lines that continue a record are never
/// read as records of their own unless they have nginx's exact form (see the module
/// documentation).
pub fn detect(_path: &Path, head: &[u8]) -> Option<Format> {
    let first = head::log_lines(head).next()?;
    if parse_plain(first).is_some() {
        return Some(Format::NginxError);
    }
    head::log_lines(head)
        .all(|l| parse_plain(l).is_none() && looks_like(l))
        .then_some(Format::NginxError)
}

/// Turns an nginx line into its event, if it is a refusal (`format` names the file's format,
/// for nginx lines met inside another one, such as a syslog file).
pub fn line_event(l: &NginxLine<'_>, format: Format, location: Location, sink: &mut dyn Sink) {
    let refusal = match parse_message(l.message) {
        Ok(Some(r)) => r,
        Ok(None) => return,
        Err(reason) => {
            sink.malformed(location.line, format!("nginx refusal: {reason}"));
            return;
        }
    };
    // The scope's text is made only for an event the sink keeps (see `Sink::entry`).
    let (client, tool, scope): (_, _, &dyn Fn() -> String) = match refusal {
        Refusal::Limit { zone, client } => (client, Tool::NginxLimit, &move || {
            String::from_utf8_lossy(zone).into_owned()
        }),
        Refusal::Forbidden { server, client } => (client, Tool::NginxDeny, &move || {
            if server.is_empty() {
                UNNAMED_SERVER.to_string()
            } else {
                String::from_utf8_lossy(server).into_owned()
            }
        }),
        Refusal::Modsecurity { client, rule } => (client, Tool::Modsecurity, &move || {
            rule.map_or_else(
                || UNKNOWN_RULE.to_string(),
                |r| String::from_utf8_lossy(r).into_owned(),
            )
        }),
    };
    // Connections over a UNIX-domain socket have no address.
    if client.starts_with(b"unix:") {
        return;
    }
    let Some(ip): Option<IpAddr> = parse_ip(client) else {
        sink.malformed(
            location.line,
            format!(
                "nginx refusal of something that is not an address: {}",
                shown(client, MAX_QUOTE)
            ),
        );
        return;
    };
    let net = host_net(ip);
    sink.entry(net, tool, &mut || {
        BanEvent::new(net, tool, format, scope(), Action::Deny, location.clone()).at(l.time)
    });
}

/// Reads a journal or syslog message whose tag is nginx's (the nginx line, with its own
/// timestamp), for syslog files that mix programs.
pub fn syslog_message(message: &[u8], format: Format, location: Location, sink: &mut dyn Sink) {
    if let Some(l) = parse_plain(message.trim_ascii_end()) {
        line_event(&l, format, location, sink);
    }
}

/// The line parser of nginx error logs.
pub struct NginxErrorParser {
    path: Arc<Path>,
}

impl NginxErrorParser {
    /// A parser for one file.
    pub fn new(ctx: &ParseCtx) -> Self {
        NginxErrorParser {
            path: ctx.path.clone(),
        }
    }
}

/// The words of the messages read here: a line holding none is no refusal.
static WORDS: LazyLock<Prefilter> =
    LazyLock::new(|| Prefilter::new(&["limiting ", "access forbidden", "ModSecurity: Access"]));

impl LineParser for NginxErrorParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        // Cheap reject: only the messages read here.
        if !WORDS.matches(line) {
            return;
        }
        let Some(l) = parse_line(line) else {
            return;
        };
        let location = Location::new(self.path.clone(), lineno);
        line_event(&l, Format::NginxError, location, sink);
    }
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// nginx's error log (ModSecurity denials, `limiting requests`, `limiting connections`,
    /// `access forbidden by rule`).
    pub const NginxError: Format = Format::builtin(10, "nginx-error");
}

/// The nginx error log's descriptor; it also owns the syslog tag `nginx` (`error_log
/// syslog:server=...`).
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::new(
    Format::NginxError,
    &[Tool::Modsecurity, Tool::NginxLimit, Tool::NginxDeny],
    "nginx error log: ModSecurity, limiting requests/connections, deny",
    |ctx| Box::new(NginxErrorParser::new(ctx)),
)
.usual_paths(&["/var/log/nginx/error.log"])
.detected_by(&[Detection::text(340, |path, head| {
    detect(path, head).is_some()
})])
.syslog_tags(&[SyslogTag::exact(b"nginx", " nginx", |e, sink| {
    syslog_message(e.message, e.format, e.location.clone(), sink)
})])
.searched_for(|| &WORDS);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::{addr_tool_scope, run_lines, Collect};

    fn run(text: &str) -> Collect {
        run_lines(Format::NginxError, "error.log", text)
    }

    fn seen(text: &str) -> Vec<(String, Tool, String)> {
        addr_tool_scope(&run(text))
    }

    #[test]
    fn limits_and_delays() {
        let got = seen(concat!(
            r#"2026/11/24 03:03:22 [error] 14412#14412: *7 limiting connections by zone "perip_conn", client: 2606:4700:10::6814:c00, server: , request: "GET /download/big.bin HTTP/1.1", host: "127.0.0.1:18083""#,
            "\n",
            r#"2026/11/24 03:03:26 [warn] 14412#14412: *10 delaying request, excess: 0.848, by zone "perip_req", client: 172.67.140.9, server: , request: "GET /api/status HTTP/1.1", host: "127.0.0.1:18083""#,
            "\n",
            r#"2026/11/24 03:03:26 [error] 14412#14412: *17 limiting requests, excess: 3.800 by zone "perip_req", client: 2400:cb00:a0::1, server: , request: "GET /api/status HTTP/1.1", host: "127.0.0.1:18083""#,
            "\n",
            r#"2026/11/24 03:03:26 [error] 1#1: *17 limiting requests, dry run, excess: 3.800 by zone "perip_req", client: 104.16.0.1, server: x"#,
            "\n",
            r#"2026/11/24 03:03:26 [error] 1#1: *17 limiting connections, dry run, by zone "c", client: 104.16.0.1, server: x"#,
            "\n",
        ));
        assert_eq!(
            got,
            vec![
                (
                    "2606:4700:10::6814:c00".into(),
                    Tool::NginxLimit,
                    "perip_conn".into()
                ),
                (
                    "2400:cb00:a0::1".into(),
                    Tool::NginxLimit,
                    "perip_req".into()
                ),
            ]
        );
    }

    #[test]
    fn journal_and_syslog_prefixes() {
        let got = seen(concat!(
            r#"host nginx[983479]: 2023/12/09 21:35:20 [notice] 983479#983479: *22174 limiting requests, excess: 1.495 by zone "one", client: 104.16.0.2, server: example.com, request: "GET /index.htm HTTP/1.1", host: "example.com", referrer: "https://example.com""#,
            "\n",
            r#"Nov 24 03:06:43 vm nginx[1]: 2026/11/24 03:06:43 [error] 1#1: *5 access forbidden by rule, client: 104.16.0.3, server: www.example.com, request: "GET /admin HTTP/1.1", host: "www.example.com""#,
            "\n",
            r#"2026-11-24T03:06:43.000000+00:00 vm nginx: 2026/11/24 03:06:43 [error] 1#1: *6 access forbidden by rule, client: 104.16.0.4, server: , request: "GET / HTTP/1.1""#,
            "\n",
        ));
        assert_eq!(
            got,
            vec![
                ("104.16.0.2".into(), Tool::NginxLimit, "one".into()),
                (
                    "104.16.0.3".into(),
                    Tool::NginxDeny,
                    "www.example.com".into()
                ),
                ("104.16.0.4".into(), Tool::NginxDeny, "nginx".into()),
            ]
        );
    }

    #[test]
    fn modsecurity_denials_not_warnings() {
        let got = seen(concat!(
            r#"2026/11/24 03:03:00 [error] 14239#14239: *3 [client 173.245.49.77] ModSecurity: Access denied with code 403 (phase 2). Matched "Operator `Rx' with parameter `(?i)union\s+select' against variable `ARGS:user' (Value: `admin' UNION SELECT * FROM users--' ) [file "/etc/nginx/modsec/modsec-common.conf"] [line "11"] [id "100002"] [rev ""] [msg "SQL injection attempt"] [data "Matched ARGS:user"] [severity "0"] [ver ""] [maturity "0"] [accuracy "0"] [tag "cf-ban-audit/test"] [hostname "127.0.0.1"] [uri "/login"] [unique_id "179548938040.355045"] [ref "o7,12v16,34"], client: 173.245.49.77, server: , request: "GET /login?user=x HTTP/1.1", host: "127.0.0.1:18082""#,
            "\n",
            r#"2021/11/18 08:34:27 [info] 86596#86596: *1083 ModSecurity: Warning. Matched "Operator `Ge' with parameter `5' against variable `TX:ANOMALY_SCORE' (Value: `20' ) [file "/r.conf"] [line "79"] [id "949110"], client: 104.16.0.5, server: f"#,
            "\n",
            r#"2021/11/18 08:34:27 [error] 86596#86596: *1083 [client 104.16.0.6] ModSecurity: Warning. Matched "Access denied with code 403" [id "949110"], client: 104.16.0.6, server: f"#,
            "\n",
        ));
        assert_eq!(
            got,
            vec![("173.245.49.77".into(), Tool::Modsecurity, "100002".into())]
        );
    }

    #[test]
    fn forged_text_in_the_request_is_never_read() {
        let got = seen(concat!(
            // The request line and the host carry a whole fake limit line.
            r#"2026/11/24 03:03:26 [error] 1#1: *9 open() "/var/www/html/x" failed (2: No such file or directory), client: 198.51.100.1, server: , request: "GET /x?limiting requests, excess: 1.000 by zone "z", client: 104.16.0.7, server: HTTP/1.1", host: "access forbidden by rule, client: 104.16.0.8""#,
            "\n",
            // The matched value carries a fake client tag; the real one opens the message.
            r#"2026/11/24 03:03:00 [error] 1#1: *3 [client 198.51.100.2] ModSecurity: Access denied with code 403 (phase 2). Matched "Operator `Rx' with parameter `x' against variable `ARGS:q' (Value: `[client 104.16.0.9] ModSecurity: Access denied with code 403' ) [file "/r.conf"] [line "1"] [id "100002"] [rev ""], client: 198.51.100.2, server: "#,
            "\n",
            // Limits in a zone name are text of the configuration, not the client's.
            r#"2026/11/24 03:03:26 [error] 1#1: *9 limiting requests, excess: 1.000 by zone "z", client: 198.51.100.3, server: , request: "GET /?, client: 104.16.0.10 HTTP/1.1""#,
            "\n",
        ));
        assert_eq!(
            got,
            vec![
                ("198.51.100.2".into(), Tool::Modsecurity, "100002".into()),
                ("198.51.100.3".into(), Tool::NginxLimit, "z".into()),
            ]
        );
    }

    #[test]
    fn while_action_and_unix_sockets() {
        let got = seen(concat!(
            r#"2026/11/24 03:03:26 [error] 1#1: *9 access forbidden by rule while sending to client, client: 104.16.0.11, server: s"#,
            "\n",
            r#"2026/11/24 03:03:26 [error] 1#1: *9 access forbidden by rule, client: unix:, server: s"#,
            "\n",
        ));
        assert_eq!(
            got,
            vec![("104.16.0.11".into(), Tool::NginxDeny, "s".into())]
        );
    }

    #[test]
    fn broken_refusals_are_malformed() {
        let c = run(concat!(
            "2026/11/24 03:03:26 [error] 1#1: *9 limiting requests, excess: 1.000 by zone \"z\", client: nope, server: s\n",
            "2026/11/24 03:03:26 [error] 1#1: *9 limiting connections by zone \"z\"\n",
        ));
        assert!(c.events.is_empty());
        assert_eq!(c.malformed.len(), 2, "{:?}", c.malformed);
    }

    #[test]
    fn detection_is_strict() {
        let p = Path::new("x");
        assert!(detect(
            p,
            b"\n# failJSON: {}\n2015/10/29 20:01:02 [error] 256554#0: *99927 limiting requests\n"
        )
        .is_some());
        assert!(detect(
            p,
            b"host nginx[983479]: 2023/12/09 21:35:20 [notice] 983479#983479: x\n"
        )
        .is_some());
        assert!(detect(p, b"2015/10/29 20:01:02 [loud] 1#0: x\n").is_none());
        let mixed = b"Nov 24 03:06:43 vm nginx[1]: 2023/12/09 21:35:20 [notice] 1#1: x\nNov 24 03:06:44 vm sshd[2]: y\n";
        assert!(detect(p, mixed).is_none());
        assert!(detect(
            p,
            b"2015-10-29 20:01:02,123 fail2ban.actions [1]: NOTICE [x] Ban 1.2.3.4\n"
        )
        .is_none());
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn parse_line() {
        use crate::formats::nginx_error::parse_line;
        let l = parse_line(b"host nginx[983479]: 2023/12/09 21:35:20 [notice] 983479#983479: *22174 limiting requests, excess: 1.495 by zone \"one\", client: 192.0.2.2, server: example.com").unwrap();
        assert_eq!((l.level, l.connection), (&b"notice"[..], Some(22174)));
        assert!(l.message.starts_with(b"limiting requests"));
        assert!(parse_line(b"[Tue Nov 24 03:04:39 2026] [error] x").is_none());
    }

    #[test]
    fn parse_message() {
        use crate::formats::nginx_error::{parse_message, Refusal};
        let m = br#"limiting requests, excess: 3.692 by zone "perip_req", client: 172.67.140.9, server: , request: "GET /api/status?, client: 104.16.0.1 HTTP/1.1", host: "127.0.0.1:18083""#;
        assert_eq!(
            parse_message(m),
            Ok(Some(Refusal::Limit {
                zone: b"perip_req",
                client: b"172.67.140.9"
            }))
        );
        let delayed = br#"delaying request, excess: 0.848, by zone "perip_req", client: 172.67.140.9, server: "#;
        assert_eq!(parse_message(delayed), Ok(None));
    }

    #[test]
    fn detect() {
        use crate::formats::{nginx_error, Format};
        use std::path::Path;
        let head = b"2026/11/24 03:02:50 [notice] 14233#14233: using the \"epoll\" event method\n";
        assert_eq!(
            nginx_error::detect(Path::new("/var/log/x"), head),
            Some(Format::NginxError)
        );
        assert_eq!(
            nginx_error::detect(
                Path::new("/var/log/x"),
                b"Nov 24 03:06:43 vm sshd[1]: hello\n"
            ),
            None
        );
    }
}
