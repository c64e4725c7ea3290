//! ModSecurity's JSON audit logs, one object per line (`SecAuditLogFormat JSON`), in serial
//! logs and in concurrent per-transaction files:
//!
//! - v2 (2.9+, `apache2/msc_logging.c`): `{"transaction":{"time":"24/Nov/2026:03:04:39.384777 +0000",
//!   "transaction_id":…,"remote_address":…,"remote_port":…,"local_address":…,"local_port":…},
//!   "request":{…},"response":{"status":403,…},"audit_data":{"messages":["Access denied with code 403
//!   (phase 1). …"],"error_messages":["[file \"apache2_util.c\"] … [client 173.245.60.33] ModSecurity: …"],
//!   "action":{"intercepted":true,"phase":1,…},…}}`;
//! - v3 (libmodsecurity, `src/transaction.cc toJSON`): `{"transaction":{"client_ip":…,
//!   "time_stamp":"Tue Nov 24 03:03:00 2026","client_port":0,"host_ip":…,"unique_id":…
//!   (`"id"` in 3.0.2),"request":{…},"response":{"http_code":403,…},"producer":{…,
//!   "secrules_engine":"Enabled",…},"messages":[{"message":"…","details":{"ruleId":"100001",…}}]}}`.
//!
//! Each line is parsed as JSON (lines that are not valid UTF-8, such as v2's raw response
//! bodies, are read with the bad bytes replaced), so request data inside strings can never
//! pass for structure; repeated keys keep their last value. A line that is not a JSON object
//! with a `transaction` object holding a client address is malformed. A line is read whole up
//! to [`MAX_ENTRY`] (64 MiB); a longer one is cut, and that is an error of the scan.
//!
//! v2 entries are judged as the native ones are ([`super::modsec_audit`]): the first
//! `Access denied` message decides, else `audit_data.action.intercepted`; the address is the
//! `[client X]` of `error_messages` (Apache's address after mod_remoteip), with
//! `remote_address` as the peer when it differs (ModSecurity 2.9 records the proxy there for
//! phase-1 denials), or `remote_address` when there is no such message.
//!
//! # v3: no word of the refusal
//!
//! An entry is a denial only when it says that ModSecurity refused the request, never because
//! of its HTTP status. libmodsecurity's JSON writer (`Transaction::toJSON` in
//! src/transaction.cc, 3.0.0 to 3.0.13 and master) writes, per message, `message` (the rule's
//! `msg`) and `details` (`match`, `reference`, `ruleId`, `file`, `lineNumber`, `data`,
//! `severity`, `ver`, `rev`, `tags`, `maturity`, `accuracy`), and no field of the
//! transaction's intervention: `RuleMessage::m_isDisruptive`, which the native log (section H,
//! `ModSecurity: Access denied with code N (phase P)` against `ModSecurity: Warning.`) and the
//! nginx error log show, is left out. A warning-only entry answered with the application's
//! own 403 or 405 and an entry whose rule denied the request with 403 are the same but for
//! `msg`. So a libmodsecurity entry is no denial; the entries that answered with a refusal
//! status (4xx, 5xx) after rule messages, with the rule engine on, are counted in a note on
//! the file that says where their verdict is: nginx's error log, where the connector logs
//! each interruption (`[client X] ModSecurity: Access denied ...`, read by
//! [`super::nginx_error`]), and the native audit log. Coraza, which writes the same layout,
//! adds `transaction.is_interrupted`: when present it decides, and the scope is the `ruleId`
//! (Coraza: `data.id`) of the last message, the rule that ran last before the interruption.
//! The event is on `client_ip`, the address after the connector restored it (nginx realip);
//! v3 keeps no TCP peer. `request.headers` keeps `CF-Connecting-IP` / `X-Forwarded-For`,
//! which next to a Cloudflare `client_ip` shows that visitor addresses are not restored.

use super::registry::{Detection, FormatDescriptor};
use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;
use serde_json::Value;

use super::grammar::modsec::{Dialect, Verdict, UNKNOWN_RULE};
use super::grammar::num::month;
use super::grammar::time::parse_audit_time;
use super::{Format, LineParser, ParseCtx, Sink};
use crate::addr::{host_net, parse_ip};
use crate::event::{Action, BanEvent, Location, Tool};

/// The largest entry read: one line holds a whole transaction, request and response bodies
/// included (12.5 MiB of request body by ModSecurity's default `SecRequestBodyLimit`, more
/// once escaped in JSON). A longer line is cut, and that is an error of the scan.
pub const MAX_ENTRY: usize = 64 << 20;

/// Whether a line opens a JSON object whose first key is `transaction`.
fn opens_transaction(line: &[u8]) -> bool {
    let Some(rest) = line.trim_ascii_start().strip_prefix(b"{") else {
        return false;
    };
    let Some(rest) = rest.trim_ascii_start().strip_prefix(b"\"transaction\"") else {
        return false;
    };
    rest.trim_ascii_start()
        .strip_prefix(b":")
        .is_some_and(|r| r.trim_ascii_start().starts_with(b"{"))
}

/// Decides whether a file is a JSON audit log: its first line opens an object whose first key
/// is `transaction`.
pub fn detect(_path: &Path, head: &[u8]) -> Option<Format> {
    head.split(|&b| b == b'\n')
        .find(|l| !l.trim_ascii().is_empty())
        .filter(|l| opens_transaction(l))
        .map(|_| Format::ModsecJson)
}

/// Reads v3's `time_stamp`, C's `asctime` without the newline: `Tue Nov  5 16:10:57 2024`.
pub fn parse_asctime_c(s: &str) -> Option<NaiveDateTime> {
    let mut f = s.split_ascii_whitespace();
    let _weekday = f.next()?;
    let mon = month(f.next()?.as_bytes())?;
    let day: u32 = f.next()?.parse().ok()?;
    let hms = f.next()?;
    let year: i32 = f.next()?.parse().ok()?;
    if f.next().is_some() {
        return None;
    }
    let mut t = hms.split(':').map(|p| p.parse::<u32>().ok());
    let (h, m, sec) = (t.next()??, t.next()??, t.next()??);
    NaiveDate::from_ymd_opt(year, mon, day)?.and_hms_opt(h, m, sec)
}

/// The parser of JSON audit logs.
pub struct JsonAuditParser {
    path: Arc<Path>,
    /// libmodsecurity entries that answered with a refusal status after rule messages, whose
    /// JSON does not say whether ModSecurity refused them: how many, and the first line.
    unsaid: (u64, u64),
}

impl JsonAuditParser {
    /// A parser for one file.
    pub fn new(ctx: &ParseCtx) -> Self {
        JsonAuditParser {
            path: ctx.path.clone(),
            unsaid: (0, 0),
        }
    }
}

/// The parts of an entry that matter; everything else (the request, bodies, headers) is
/// skipped unread. Values whose type varies between writers are kept as [`Value`].
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Entry<'a> {
    #[serde(borrow)]
    transaction: Option<Transaction<'a>>,
    /// v2.
    #[serde(borrow)]
    audit_data: Option<AuditData<'a>>,
    /// Coraza keeps v3's messages beside the transaction.
    messages: Option<Vec<Message>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Transaction<'a> {
    /// v2.
    #[serde(borrow)]
    remote_address: Option<Cow<'a, str>>,
    /// v2.
    #[serde(borrow)]
    time: Option<Cow<'a, str>>,
    /// v3.
    #[serde(borrow)]
    client_ip: Option<Cow<'a, str>>,
    /// v3.
    #[serde(borrow)]
    time_stamp: Option<Cow<'a, str>>,
    is_interrupted: Option<Value>,
    response: Option<Response>,
    #[serde(borrow)]
    producer: Option<Producer<'a>>,
    messages: Option<Vec<Message>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Producer<'a> {
    #[serde(borrow)]
    secrules_engine: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Response {
    http_code: Option<Value>,
    status: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AuditData<'a> {
    #[serde(borrow)]
    messages: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow)]
    error_messages: Option<Vec<Cow<'a, str>>>,
    action: Option<AuditAction>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AuditAction {
    intercepted: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Message {
    /// v3.
    details: Option<Details>,
    /// Coraza.
    data: Option<CorazaData>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Details {
    #[serde(rename = "ruleId")]
    rule_id: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CorazaData {
    id: Option<Value>,
}

/// Reads one line. Repeated keys (the last wins) and values of unexpected types go through a
/// [`Value`] first.
fn read(text: &str) -> Result<Entry<'_>, serde_json::Error> {
    match serde_json::from_str::<Entry<'_>>(text) {
        Ok(entry) => Ok(entry),
        Err(e) if e.is_data() => Entry::deserialize(serde_json::from_str::<Value>(text)?),
        Err(e) => Err(e),
    }
}

/// A rule id written as a string or a number.
fn rule_id(v: Option<&Value>) -> Option<String> {
    let id = match v? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let valid = !id.is_empty()
        && id != "-1"
        && id != "0"
        && id.len() <= 64
        && !id.chars().any(char::is_whitespace);
    valid.then_some(id)
}

/// A status written as a number or a string.
fn status(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl JsonAuditParser {
    fn v2(&self, entry: &Entry<'_>, addr: &str, location: Location, sink: &mut dyn Sink) {
        let Some(recorded) = parse_ip(addr.as_bytes()) else {
            return sink.malformed(
                location.line,
                format!("ModSecurity JSON remote_address is not an address: {addr:?}"),
            );
        };
        let time = entry
            .transaction
            .as_ref()
            .and_then(|t| t.time.as_deref())
            .and_then(|t| {
                let (time, n) = parse_audit_time(t.as_bytes())?;
                (n == t.len()).then_some(time)
            });
        let mut verdict = Verdict::default();
        if let Some(audit) = &entry.audit_data {
            for m in audit.messages.iter().flatten() {
                verdict.message(m.as_bytes(), Dialect::V2);
            }
            for m in audit.error_messages.iter().flatten() {
                verdict.apache_error(m.as_bytes());
            }
            verdict.intercepted = audit
                .action
                .as_ref()
                .and_then(|a| a.intercepted.as_ref())
                .and_then(Value::as_bool)
                .unwrap_or(false);
        }
        verdict.emit(recorded, time, Format::ModsecJson, location, sink);
    }

    fn v3(
        &mut self,
        entry: &Entry<'_>,
        tx: &Transaction<'_>,
        addr: &str,
        location: Location,
        sink: &mut dyn Sink,
    ) {
        let Some(client) = parse_ip(addr.as_bytes()) else {
            return sink.malformed(
                location.line,
                format!("ModSecurity JSON client_ip is not an address: {addr:?}"),
            );
        };
        let messages = tx
            .messages
            .as_deref()
            .or(entry.messages.as_deref())
            .unwrap_or_default();
        let Some(interrupted) = tx.is_interrupted.as_ref().and_then(Value::as_bool) else {
            // libmodsecurity: nothing says whether the status was ModSecurity's.
            let engine = tx
                .producer
                .as_ref()
                .and_then(|p| p.secrules_engine.as_deref())
                .unwrap_or("Enabled");
            let code = tx
                .response
                .as_ref()
                .and_then(|r| status(r.http_code.as_ref()).or_else(|| status(r.status.as_ref())));
            if !matches!(engine, "DetectionOnly" | "Disabled")
                && !messages.is_empty()
                && code.is_some_and(|c| (400..600).contains(&c))
            {
                if self.unsaid.0 == 0 {
                    self.unsaid.1 = location.line;
                }
                self.unsaid.0 += 1;
            }
            return;
        };
        if !interrupted {
            return;
        }
        let scope = messages
            .iter()
            .rev()
            .find_map(|m| {
                rule_id(m.details.as_ref().and_then(|d| d.rule_id.as_ref()))
                    .or_else(|| rule_id(m.data.as_ref().and_then(|d| d.id.as_ref())))
            })
            .unwrap_or_else(|| UNKNOWN_RULE.to_string());
        let time = tx.time_stamp.as_deref().and_then(parse_asctime_c);
        sink.event(
            BanEvent::new(
                host_net(client),
                Tool::Modsecurity,
                Format::ModsecJson,
                scope,
                Action::Deny,
                location,
            )
            .at(time),
        );
    }
}

impl LineParser for JsonAuditParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let line = line.trim_ascii();
        if line.is_empty() {
            return;
        }
        let text: Cow<'_, str> = match std::str::from_utf8(line) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(line),
        };
        let entry = match read(&text) {
            Ok(entry) => entry,
            Err(e) => {
                return sink.malformed(
                    lineno,
                    format!("ModSecurity JSON audit line is not an audit entry: {e}"),
                )
            }
        };
        let Some(tx) = &entry.transaction else {
            return sink.malformed(
                lineno,
                "JSON audit line without a transaction object".into(),
            );
        };
        let location = Location::new(self.path.clone(), lineno);
        if let Some(addr) = tx.remote_address.as_deref() {
            self.v2(&entry, addr, location, sink);
        } else if let Some(addr) = tx.client_ip.as_deref() {
            self.v3(&entry, tx, addr, location, sink);
        } else {
            sink.malformed(
                lineno,
                "JSON audit transaction without remote_address or client_ip".into(),
            );
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        let (n, first) = self.unsaid;
        if n > 0 {
            sink.note(format!(
                "{n} libmodsecurity JSON entr{} (the first on line {first}) answered with a \
                 refusal status after rule messages; libmodsecurity's JSON log does not say \
                 whether ModSecurity refused a request, so none is counted as a denial: its \
                 refusals are in nginx's error log (`ModSecurity: Access denied`) and in the \
                 native audit log (SecAuditLogFormat Native)",
                if n == 1 { "y" } else { "ies" }
            ));
        }
    }
}

/// Returns the request header `name` (compared without case) of a v3 entry, for callers that
/// look for `CF-Connecting-IP` / `X-Forwarded-For` next to a Cloudflare client address.
#[cfg(test)]
pub fn v3_request_header<'a>(entry: &'a Value, name: &str) -> Option<&'a str> {
    entry
        .get("transaction")?
        .get("request")?
        .get("headers")?
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// ModSecurity JSON audit log (v2 `SecAuditLogFormat JSON`, v3 JSON lines).
    pub const ModsecJson: Format = Format::builtin(8, "modsec-json");
}

/// The JSON audit log's descriptor.
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::new(
    Format::ModsecJson,
    &[Tool::Modsecurity],
    "ModSecurity JSON audit log, v2 and v3",
    |ctx| Box::new(JsonAuditParser::new(ctx)),
)
.line_limit(MAX_ENTRY)
.usual_paths(&[
    "/var/log/modsec_audit.json",
    "/var/log/nginx/modsec_audit.log",
])
.detected_by(&[Detection::text(210, |path, head| {
    detect(path, head).is_some()
})]);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::{ctx, Collect};

    fn run(lines: &[&[u8]]) -> Collect {
        let mut p = JsonAuditParser::new(&ctx("modsec_audit.json"));
        let mut sink = Collect::default();
        for (i, l) in lines.iter().enumerate() {
            p.line(i as u64 + 1, l, &mut sink);
        }
        p.finish(&mut sink);
        sink
    }

    /// A v3 entry with Coraza's `is_interrupted`.
    fn interrupted(client: &str, code: &str, messages: &str, yes: bool) -> Vec<u8> {
        String::from_utf8(v3(client, code, "Enabled", messages))
            .unwrap()
            .replace(
                "\"unique_id\"",
                &format!("\"is_interrupted\":{yes},\"unique_id\""),
            )
            .into_bytes()
    }

    fn found(c: &Collect) -> Vec<(String, String, Option<String>)> {
        c.events
            .iter()
            .map(|e| {
                (
                    e.net.addr().to_string(),
                    e.scope.clone(),
                    e.peer.map(|p| p.to_string()),
                )
            })
            .collect()
    }

    const V3: &str = r#"{"transaction":{"client_ip":"CLIENT","time_stamp":"Tue Nov 24 03:03:00 2026","server_id":"2ce1","client_port":0,"host_ip":"127.0.0.1","host_port":18081,"unique_id":"179548938033.862421","request":{"method":"GET","http_version":1.1,"uri":"/wp-login.php","headers":{"Host":"127.0.0.1:18081","CF-Connecting-IP":"CLIENT"}},"response":{"body":"","http_code":CODE,"headers":{}},"producer":{"modsecurity":"ModSecurity v3.0.9 (Linux)","connector":"ModSecurity-nginx v1.0.3","secrules_engine":"ENGINE","components":[]},"messages":MESSAGES}}"#;

    fn v3(client: &str, code: &str, engine: &str, messages: &str) -> Vec<u8> {
        V3.replace("CLIENT", client)
            .replace("CODE", code)
            .replace("ENGINE", engine)
            .replace("MESSAGES", messages)
            .into_bytes()
    }

    const MSG: &str = r#"[{"message":"Blocked WordPress login probe","details":{"match":"Matched","reference":"o0,13v4,13","ruleId":"100001","file":"/x.conf","lineNumber":"10","data":"","severity":"0","ver":"","rev":"","tags":[],"maturity":"0","accuracy":"0"}}]"#;

    #[test]
    fn libmodsecurity_entries_never_say_they_are_denials() {
        // A deny rule's 403 and a warning next to the application's own 405 or 403 look the
        // same in libmodsecurity's JSON: no status makes a denial; the entries that might be
        // are counted in a note.
        let c = run(&[
            &v3("104.16.1.10", "403", "Enabled", MSG),
            &v3("104.16.1.11", "403", "DetectionOnly", MSG),
            &v3("104.16.1.12", "404", "Enabled", MSG),
            &v3("104.16.1.13", "500", "Enabled", "[]"),
            &v3("104.16.1.14", "200", "Enabled", MSG),
            &v3("104.16.1.15", "405", "Enabled", MSG),
            &v3("2606:4700::1", "\"403\"", "Enabled", MSG),
        ]);
        assert!(c.events.is_empty(), "{:?}", found(&c));
        assert!(c.malformed.is_empty());
        assert_eq!(c.notes.len(), 1);
        assert!(
            c.notes[0].starts_with("4 libmodsecurity JSON entries (the first on line 1)"),
            "{}",
            c.notes[0]
        );
    }

    #[test]
    fn is_interrupted_decides_when_present() {
        let c = run(&[
            &interrupted("104.16.1.10", "200", MSG, true),
            &interrupted("104.16.1.11", "403", MSG, false),
            &interrupted(
                "2606:4700::1",
                "\"403\"",
                &MSG.replace("\"100001\"", "100002"),
                true,
            ),
        ]);
        assert_eq!(
            found(&c),
            [
                ("104.16.1.10".into(), "100001".into(), None),
                ("2606:4700::1".into(), "100002".into(), None)
            ]
        );
        assert_eq!(c.events[0].time.unwrap().to_string(), "2026-11-24 03:03:00");
        assert!(c.notes.is_empty());
    }

    #[test]
    fn v2_entries() {
        let phase1 = br#"{"transaction":{"time":"24/Nov/2026:03:04:39.384777 +0000","transaction_id":"awT","remote_address":"127.0.0.1","remote_port":57544,"local_address":"127.0.0.1","local_port":18093},"request":{"request_line":"GET /wp-login.php HTTP/1.1","headers":{"Host":"h","Host":"h2"}},"response":{"protocol":"HTTP/1.1","status":403},"audit_data":{"messages":["Access denied with code 403 (phase 1). String match \"/wp-login.php\" at REQUEST_URI. [file \"/r.conf\"] [line \"11\"] [id \"200001\"] [msg \"m\"]"],"error_messages":["[file \"apache2_util.c\"] [line 275] [level 3] [client 173.245.60.33] ModSecurity: Access denied with code 403 (phase 1). String match \"/wp-login.php\" at REQUEST_URI. [file \"/r.conf\"] [line \"11\"] [id \"200001\"] [msg \"m\"] [hostname \"127.0.0.1\"] [uri \"/wp-login.php\"] [unique_id \"awT\"]"],"action":{"intercepted":true,"phase":1,"message":"x"}}}"#;
        let evasive = br#"{"transaction":{"time":"24/Nov/2026:03:05:00.468048 +0000","transaction_id":"awT","remote_address":"162.159.36.1","remote_port":41640,"local_address":"127.0.0.1","local_port":18093},"response":{"status":403},"audit_data":{"error_messages":["[file \"mod_evasive20.c\"] [line 258] [level 3] client denied by server configuration: /var/www/html/xmlrpc.php"]}}"#;
        let warning = br#"{"transaction":{"time":"13/May/2017:08:39:31 --0400","remote_address":"104.16.0.9"},"response":{"status":403},"audit_data":{"messages":["Warning. Matched phrase \"nikto\" at REQUEST_HEADERS:User-Agent. [file \"/x\"] [line \"1\"] [id \"913100\"]"]}}"#;
        let c = run(&[phase1, evasive, warning]);
        assert_eq!(
            found(&c),
            [(
                "173.245.60.33".into(),
                "200001".into(),
                Some("127.0.0.1".into())
            )]
        );
        assert_eq!(
            c.events[0].time.unwrap().to_string(),
            "2026-11-24 03:04:39.384777"
        );
    }

    #[test]
    fn bad_lines_are_malformed_and_bad_bytes_tolerated() {
        let mut bad_utf8 = interrupted("104.16.1.10", "403", MSG, true);
        let at = bad_utf8.windows(4).position(|w| w == b"Host").unwrap();
        bad_utf8.splice(at..at, [0xff, 0xfe]);
        let c = run(&[
            b"",
            b"{\"transaction\":{\"client_ip\":",
            b"[1,2]",
            br#"{"transaction":{"client_ip":"nope"}}"#,
            br#"{"transaction":{"other":1}}"#,
            &bad_utf8,
        ]);
        assert_eq!(c.malformed_lines(), [2, 3, 4, 5]);
        assert_eq!(found(&c), [("104.16.1.10".into(), "100001".into(), None)]);
    }

    #[test]
    fn repeated_keys_keep_the_last_value() {
        let line = String::from_utf8(interrupted("104.16.1.10", "403", MSG, true))
            .unwrap()
            .replace(
                "\"server_id\"",
                "\"client_ip\":\"104.16.1.11\",\"server_id\"",
            );
        let c = run(&[line.as_bytes()]);
        assert_eq!(found(&c), [("104.16.1.11".into(), "100001".into(), None)]);
    }

    #[test]
    fn strings_cannot_forge_entries() {
        // A request body holding a whole entry is a string inside the real one.
        let body = r#"{\"transaction\":{\"client_ip\":\"104.16.66.67\",\"response\":{\"http_code\":403}},\"messages\":[{\"details\":{\"ruleId\":\"9\"}}]}"#;
        let line = String::from_utf8(v3("192.0.2.45", "200", "Enabled", MSG))
            .unwrap()
            .replace("\"uri\":", &format!("\"body\":\"{body}\",\"uri\":"));
        let c = run(&[line.as_bytes()]);
        assert!(c.events.is_empty() && c.malformed.is_empty());
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn detect() {
        use crate::formats::{modsec_json, Format};
        use std::path::Path;
        let head = br#"{"transaction":{"client_ip":"104.16.1.10","time_stamp":"Tue Nov 24 03:03:00 2026"}}"#;
        assert_eq!(
            modsec_json::detect(Path::new("modsec_audit.json"), head),
            Some(Format::ModsecJson)
        );
        assert_eq!(
            modsec_json::detect(Path::new("x.json"), br#"{"level":"info"}"#),
            None
        );
    }

    #[test]
    fn parse_asctime_c() {
        use crate::formats::modsec_json::parse_asctime_c;
        assert_eq!(
            parse_asctime_c("Tue Nov  5 16:10:57 2024")
                .unwrap()
                .to_string(),
            "2024-11-05 16:10:57"
        );
        assert!(parse_asctime_c("Tue Nov 31 16:10:57 2024").is_none());
    }

    #[test]
    fn v3_request_header() {
        use crate::formats::modsec_json::v3_request_header;
        let entry: serde_json::Value = serde_json::from_str(r#"{"transaction":{"client_ip":"104.16.1.10","request":{"headers":{"CF-Connecting-IP":"104.16.1.10"}}}}"#).unwrap();
        assert_eq!(
            v3_request_header(&entry, "cf-connecting-ip"),
            Some("104.16.1.10")
        );
    }
}
