//! ModSecurity's native audit logs: the serial log of v2 (`--xxxxxxxx-A--` boundaries,
//! `apache2/msc_logging.c`) and of v3/libmodsecurity (`---xxxxxxxx---A--`,
//! `src/transaction.cc toOldAuditLogFormat`), the per-transaction files of the concurrent mode
//! (the same layout, one entry per file, under `StorageDir/YYYYMMDD/YYYYMMDD-HHMM/`), and the
//! concurrent mode's index ([`Format::ModsecAuditIndex`]).
//!
//! # What counts as a denial
//!
//! An entry is a denial ([`Action::Deny`]) when ModSecurity refused the request, as its trailer
//! (section H) says: the first disruptive message (`Message: Access denied ...` of v2,
//! `ModSecurity: Access denied ...` of v3, or the `Apache-Error:` copy of it) is a refusal
//! (`with code N`, N ≥ 400, or `with connection close`); or, with no such message, v2's
//! `Action: Intercepted (phase N)` line. `Warning.` messages, `Access allowed`, redirections
//! and proxying are not refusals, and neither is an entry logged only for its status
//! (`SecAuditLogRelevantStatus`), such as a 404 or another module's 403. The scope is the rule
//! id of the disruptive message, or `modsecurity` when no message names one. Entries without
//! section H (`SecAuditLogParts` without `H`) say nothing of the verdict and give no events.
//!
//! # The address
//!
//! v3 writes the client address in section A after the connector restored it (nginx realip);
//! it keeps no TCP peer. v2's section A holds `msr->remote_addr`, which ModSecurity 2.9 takes
//! before mod_remoteip has run in some requests (every phase-1 denial, and more: the corpus and
//! the fixtures show section A holding the proxy's address while the rule matched the
//! visitor's request). Its `Apache-Error:` lines, however, carry `[client X]` with Apache's
//! `useragent_ip`, the address the request was refused for. So for v2 the event is on that
//! `[client X]` address when the entry has one, and section A's address, when it differs, is
//! the event's `peer` (a Cloudflare peer with another client shows restored visitor addresses);
//! without an `Apache-Error:` line the event is on section A's address.
//!
//! # The concurrent index
//!
//! Index lines give a status and the client, never the rule nor whether ModSecurity or some
//! other module or the application produced that status (the generated corpus holds
//! mod_evasive 403s indexed next to ModSecurity's). The per-transaction files they point to say
//! all of it and are read on their own when the scan reaches the storage directory (by default
//! next to the index, or `SecAuditLogStorageDir`). Index lines therefore give no events; they
//! are checked, so a line of another shape is counted as malformed, and recognising the index
//! keeps it from being read as an access log.
//!
//! # Attacker text
//!
//! Sections B, C, E, I, J and K copy the request and the response: headers and bodies hold
//! whatever the client sent, including whole fake entries. Only section H lines are read, and
//! once an entry's A boundary is seen only boundaries with that entry's own random id are
//! structure. A boundary with another id starts a new entry only outside body sections (a
//! truncated entry followed by the next one); inside C, E, I, J and K it is body text. In
//! section H, attacker text appears inside a message (matched values, argument names, the
//! URI), never at the start of a line. The rule id is the structural `[id "..."]` tag: in v2
//! messages the tags after the id (`msg`, `data`) escape quotes, so the last `[id "` is
//! ModSecurity's own; v3 escapes nothing, so its id is the first complete
//! `[file "..."] [line "N"] [id "N"]` run, which a request crafted to carry such a run in a
//! matched value can imitate: the rule id of v3 native logs is best effort (the JSON log's
//! `ruleId` is exact). The address and the verdict never come from attacker text.
//!
//! # Peers and real-IP hints
//!
//! v2: section A (`remote_addr remote_port local_addr local_port`) and `[client X]`; v3:
//! section A only (the client port is 0 after nginx's realip). Section B keeps the request
//! headers, so a `CF-Connecting-IP` or `X-Forwarded-For` header next to a Cloudflare client
//! address shows that the web server does not restore visitor addresses.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};

use super::{Format, LineParser, ParseCtx, Parser, Sink};
use crate::addr::{host_net, parse_ip};
use crate::event::{Action, BanEvent, Location, Tool};

/// The scope of a denial whose rule is not named.
pub const UNKNOWN_RULE: &str = "modsecurity";

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

fn digits(b: &[u8]) -> Option<u32> {
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

/// Whether a ModSecurity message (the text after `Message: ` or `ModSecurity: `) reports a
/// disruptive action, and if so whether that action refused the request: `Some(true)` for
/// `Access denied with code N` (N ≥ 400, or `%d` as v3 writes it when it does not know) and
/// `Access denied with connection close`; `Some(false)` for other `Access denied` forms
/// (`with code 200` or `302`, redirections, proxying); `None` for everything else
/// (`Warning.`, `Access allowed`).
///
/// ```
/// use cf_ban_audit_core::formats::modsec_audit::refusal;
/// assert_eq!(refusal(b"Access denied with code 403 (phase 2). Pattern match"), Some(true));
/// assert_eq!(refusal(b"Access denied with redirection to https://x/ using status 302 (phase 2)."), Some(false));
/// assert_eq!(refusal(b"Warning. Pattern match \"Access denied with code 403\""), None);
/// ```
pub fn refusal(msg: &[u8]) -> Option<bool> {
    let rest = msg.strip_prefix(b"Access denied ")?;
    if let Some(code) = rest.strip_prefix(b"with code ") {
        if code.starts_with(b"%d") {
            return Some(true);
        }
        let len = code.iter().take_while(|c| c.is_ascii_digit()).count();
        return Some(digits(&code[..len]).is_some_and(|c| c >= 400));
    }
    Some(rest.starts_with(b"with connection close"))
}

/// The value of a `[name "value"]` tag starting at `at` (where `[` is), if the value is a
/// plain token (no quote, no white space, at most 64 bytes) closed by `"]`.
fn tag_value<'a>(msg: &'a [u8], at: usize, name: &[u8]) -> Option<&'a [u8]> {
    let rest = msg.get(at..)?.strip_prefix(b"[")?.strip_prefix(name)?;
    let rest = rest.strip_prefix(b" \"")?;
    let end = memchr::memchr(b'"', rest)?;
    let value = &rest[..end];
    (rest[end..].starts_with(b"\"]")
        && !value.is_empty()
        && value.len() <= 64
        && !value.iter().any(|b| b.is_ascii_whitespace()))
    .then_some(value)
}

/// The rule id of a v2 message: the last `[id "..."]` tag. v2 escapes quotes in the tags
/// that follow the id (`msg`, `data`) and in the URI of `Apache-Error:` copies, so no attacker
/// text can form a later tag.
///
/// ```
/// use cf_ban_audit_core::formats::modsec_audit::rule_id_v2;
/// let m = br#"Access denied with code 403 (phase 2). Pattern match "x" at ARGS:a [id "666"]. [file "/r.conf"] [line "46"] [id "300002"] [msg "SQLi"] [data "Matched ARGS:a [id \x22666\x22]"]"#;
/// assert_eq!(rule_id_v2(m), Some(&b"300002"[..]));
/// ```
pub fn rule_id_v2(msg: &[u8]) -> Option<&[u8]> {
    memchr::memmem::rfind_iter(msg, b"[id \"").find_map(|at| tag_value(msg, at, b"id"))
}

/// The rule id of a v3 message: the id of the first complete
/// `[file "..."] [line "N"] [id "N"]` run (libmodsecurity writes `_details` in that order after
/// the matched text; `-1`, a message without a rule, gives none).
///
/// ```
/// use cf_ban_audit_core::formats::modsec_audit::rule_id_v3;
/// let m = br#"Access denied with code 403 (phase 1). Matched "Operator `BeginsWith' with parameter `/wp-login.php' against variable `REQUEST_URI' (Value: `/wp-login.php' ) [file "/etc/nginx/modsec/modsec-common.conf"] [line "10"] [id "100001"] [rev ""] [msg "Blocked"]"#;
/// assert_eq!(rule_id_v3(m), Some(&b"100001"[..]));
/// ```
pub fn rule_id_v3(msg: &[u8]) -> Option<&[u8]> {
    for at in memchr::memmem::find_iter(msg, b"[file \"") {
        let rest = &msg[at + 7..];
        let Some(end) = memchr::memchr(b'"', rest) else {
            continue;
        };
        let Some(rest) = rest[end..].strip_prefix(b"\"] ") else {
            continue;
        };
        let base = msg.len() - rest.len();
        let Some(line) = tag_value(msg, base, b"line") else {
            continue;
        };
        if digits(line).is_none() {
            continue;
        }
        let id_at = base + b"[line \"\"] ".len() + line.len();
        if let Some(id) = tag_value(msg, id_at, b"id") {
            let n = id.strip_prefix(b"-").unwrap_or(id);
            if digits(n).is_some() && id != b"-1" {
                return Some(id);
            }
        }
    }
    None
}

/// Reads v2's copy of an Apache error message (`Apache-Error:` lines in section H, and
/// `audit_data.error_messages` of the JSON format):
/// `[file "apache2_util.c"] [line 275] [level 3] [client 192.0.2.1] ModSecurity: <message>`.
/// Returns the client (Apache's `useragent_ip`, after mod_remoteip) and the message; messages
/// of other modules give `None`.
///
/// ```
/// use cf_ban_audit_core::formats::modsec_audit::apache_error_client;
/// let (ip, msg) = apache_error_client(br#"[file "apache2_util.c"] [line 275] [level 3] [client 2606:4700:4700::1111] ModSecurity: Access denied with code 403 (phase 1)."#).unwrap();
/// assert_eq!(ip.to_string(), "2606:4700:4700::1111");
/// assert!(msg.starts_with(b"Access denied"));
/// assert!(apache_error_client(br#"[file "mod_authz_core.c"] [line 879] [level 3] AH01630: client denied by server configuration: /x"#).is_none());
/// ```
pub fn apache_error_client(em: &[u8]) -> Option<(IpAddr, &[u8])> {
    let mut rest = em.trim_ascii_start();
    loop {
        let inner = rest.strip_prefix(b"[")?;
        let close = memchr::memchr(b']', inner)?;
        let tag = &inner[..close];
        rest = &inner[close + 1..];
        if let Some(addr) = tag.strip_prefix(b"client ") {
            let msg = rest.strip_prefix(b" ModSecurity: ")?;
            return Some((parse_ip(addr)?, msg.trim_ascii_start()));
        }
        let known = [&b"file "[..], b"line ", b"level ", b"status "];
        if !known.iter().any(|k| tag.starts_with(k)) {
            return None;
        }
        rest = rest.strip_prefix(b" ")?;
    }
}

/// What an entry's trailer said, gathered line by line (shared with the JSON reader).
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    /// The first disruptive message: whether it refused the request, and its rule id.
    disruptive: Option<(bool, Option<String>)>,
    /// v2's `Action: Intercepted` / `"intercepted": true`.
    pub(crate) intercepted: bool,
    /// v2's `[client X]` of its Apache error messages: the first, and that of the first
    /// disruptive one.
    client: Option<IpAddr>,
    disruptive_client: Option<IpAddr>,
}

impl Verdict {
    /// One ModSecurity message (without its `Message: ` / `ModSecurity: ` prefix).
    pub(crate) fn message(&mut self, msg: &[u8], dialect: Dialect) {
        if self.disruptive.is_some() {
            return;
        }
        if let Some(refused) = refusal(msg) {
            let id = match dialect {
                Dialect::V2 => rule_id_v2(msg),
                Dialect::V3 => rule_id_v3(msg),
            };
            let id = id.map(|i| String::from_utf8_lossy(i).into_owned());
            self.disruptive = Some((refused, id));
        }
    }

    /// One of v2's Apache error messages (`Apache-Error:` without its prefix).
    pub(crate) fn apache_error(&mut self, em: &[u8]) {
        if let Some((ip, msg)) = apache_error_client(em) {
            self.client.get_or_insert(ip);
            if refusal(msg).is_some() {
                self.disruptive_client.get_or_insert(ip);
            }
            self.message(msg, Dialect::V2);
        }
    }

    /// The scope of the denial, if the entry is one.
    fn scope(&self) -> Option<String> {
        match &self.disruptive {
            Some((true, id)) => Some(id.clone().unwrap_or_else(|| UNKNOWN_RULE.to_string())),
            Some((false, _)) => None,
            None => self.intercepted.then(|| UNKNOWN_RULE.to_string()),
        }
    }

    /// Emits the denial event of an entry whose recorded address is `recorded`, if it is one.
    pub(crate) fn emit(
        &self,
        recorded: IpAddr,
        time: Option<NaiveDateTime>,
        format: Format,
        location: Location,
        sink: &mut dyn Sink,
    ) {
        let Some(scope) = self.scope() else {
            return;
        };
        let net = self.disruptive_client.or(self.client).unwrap_or(recorded);
        let peer = (net != recorded).then_some(recorded);
        sink.event(BanEvent {
            net: host_net(net),
            tool: Tool::Modsecurity,
            format,
            scope,
            peer,
            action: Action::Deny,
            time,
            expires: None,
            location,
        });
    }
}

/// The sections whose text the client or the application chose, lines and all: a boundary
/// with another id inside them is body text.
fn is_body(part: u8) -> bool {
    !matches!(part, b'A' | b'B' | b'F' | b'H')
}

/// One native entry being read.
struct Entry {
    id: Vec<u8>,
    dialect: Dialect,
    /// The line of the A boundary.
    line: u64,
    part: u8,
    /// Section A's time and address, once read.
    a: Option<(NaiveDateTime, IpAddr)>,
    /// Whether section A's line has been seen (read or not).
    a_seen: bool,
    verdict: Verdict,
}

/// The parser of native audit logs (serial logs and concurrent per-transaction files).
pub struct AuditLogParser {
    path: Arc<Path>,
    entry: Option<Entry>,
}

impl AuditLogParser {
    /// A parser for one file.
    pub fn new(ctx: &ParseCtx) -> Self {
        AuditLogParser {
            path: ctx.path.clone(),
            entry: None,
        }
    }

    fn finish_entry(&mut self, sink: &mut dyn Sink) {
        let Some(e) = self.entry.take() else {
            return;
        };
        if let Some((time, addr)) = e.a {
            let location = Location {
                path: self.path.clone(),
                line: e.line,
            };
            e.verdict
                .emit(addr, Some(time), Format::ModsecAudit, location, sink);
        }
    }

    fn start(&mut self, b: &Boundary<'_>, lineno: u64) {
        self.entry = Some(Entry {
            id: b.id.to_vec(),
            dialect: b.dialect,
            line: lineno,
            part: b'A',
            a: None,
            a_seen: false,
            verdict: Verdict::default(),
        });
    }
}

impl LineParser for AuditLogParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if line.starts_with(b"--") {
            if let Some(b) = parse_boundary(line) {
                enum Step {
                    Close,
                    Restart,
                    Part(u8),
                    Body,
                    Ignore,
                }
                let step = match &self.entry {
                    Some(e) if e.id == b.id && e.dialect == b.dialect => match b.part {
                        b'Z' => Step::Close,
                        b'A' => Step::Restart,
                        part => Step::Part(part),
                    },
                    // Inside a body, a boundary with another id is body text.
                    Some(e) if is_body(e.part) => Step::Body,
                    // Outside an entry, or a new entry after a truncated one.
                    _ if b.part == b'A' => Step::Restart,
                    _ => Step::Ignore,
                };
                match step {
                    Step::Close => return self.finish_entry(sink),
                    Step::Restart => {
                        self.finish_entry(sink);
                        return self.start(&b, lineno);
                    }
                    Step::Part(part) => {
                        if let Some(e) = &mut self.entry {
                            e.part = part;
                        }
                        return;
                    }
                    Step::Ignore => return,
                    Step::Body => {}
                }
            }
        }
        let Some(e) = &mut self.entry else {
            return;
        };
        match e.part {
            b'A' if !e.a_seen => {
                if line.trim_ascii().is_empty() {
                    return;
                }
                e.a_seen = true;
                match parse_section_a(line) {
                    Some(a) => e.a = Some((a.time, a.client)),
                    None => sink.malformed(
                        lineno,
                        format!(
                            "ModSecurity audit section A not of the form \
                             `[time] id client port server port`: {:?}",
                            String::from_utf8_lossy(&line[..line.len().min(200)])
                        ),
                    ),
                }
            }
            b'H' => {
                if let Some(msg) = line.strip_prefix(b"Message: ") {
                    e.verdict.message(msg, Dialect::V2);
                } else if let Some(msg) = line.strip_prefix(b"ModSecurity: ") {
                    e.verdict.message(msg, Dialect::V3);
                } else if let Some(em) = line.strip_prefix(b"Apache-Error: ") {
                    e.verdict.apache_error(em);
                } else if line.starts_with(b"Action: Intercepted") {
                    e.verdict.intercepted = true;
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        self.finish_entry(sink);
    }
}

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
///
/// ```
/// use cf_ban_audit_core::formats::modsec_audit::parse_index_line;
/// let l = br#"127.0.0.1 172.68.10.20 - - [24/Nov/2026:03:04:39.341800 +0000] "GET /x HTTP/1.1" 403 239 "-" "-" awT-x1yPaHSWVd4rknlj4QAAAAg "-" /www-data/20261124/20261124-0304/20261124-030439-awT-x1yPaHSWVd4rknlj4QAAAAg 0 1398 md5:b96a82de441c7046bf507ea300557041 "#;
/// let i = parse_index_line(l).unwrap();
/// assert_eq!(i.client.to_string(), "172.68.10.20");
/// assert!(i.file.ends_with(b"awT-x1yPaHSWVd4rknlj4QAAAAg"));
/// ```
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

/// The first lines of a file's first bytes, for detection.
fn head_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take(200)
}

/// Decides whether a file is a native audit log (a part boundary among its first lines) or a
/// concurrent index (its first line reads as one).
///
/// ```
/// use cf_ban_audit_core::formats::{modsec_audit, Format};
/// use std::path::Path;
/// let head = b"--622ca252-A--\n[01/May/2018:08:05:00 +0200] WugN3pjbflCiqw4yEJ3nggAAAAk 172.16.0.2 22387 192.168.0.1 80\n";
/// assert_eq!(modsec_audit::detect(Path::new("/var/log/x"), head), Some(Format::ModsecAudit));
/// ```
pub fn detect(_path: &Path, head: &[u8]) -> Option<Format> {
    if let Some(first) = head_lines(head).find(|l| !l.trim_ascii().is_empty()) {
        if parse_index_line(first).is_some() {
            return Some(Format::ModsecAuditIndex);
        }
    }
    // The last line of the head may be cut; boundary lines are short, so a cut one fails.
    head_lines(head)
        .any(|l| l.starts_with(b"--") && parse_boundary(l).is_some())
        .then_some(Format::ModsecAudit)
}

/// The parser of `format` for one input.
pub fn parser(format: Format, ctx: &ParseCtx) -> Parser {
    match format {
        Format::ModsecAuditIndex => Parser::Lines(Box::new(IndexParser)),
        _ => Parser::Lines(Box::new(AuditLogParser::new(ctx))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        events: Vec<BanEvent>,
        malformed: Vec<u64>,
    }

    impl Sink for Collect {
        fn event(&mut self, event: BanEvent) {
            self.events.push(event);
        }
        fn malformed(&mut self, line: u64, _message: String) {
            self.malformed.push(line);
        }
    }

    fn run(text: &str) -> Collect {
        let ctx = ParseCtx {
            path: Arc::from(Path::new("modsec_audit.log")),
            reference: "2026-11-24T12:00:00".parse().unwrap(),
            now: "2026-11-24T12:00:00".parse().unwrap(),
        };
        let mut p = AuditLogParser::new(&ctx);
        let mut sink = Collect::default();
        for (i, l) in text.split('\n').enumerate() {
            p.line(i as u64 + 1, l.as_bytes(), &mut sink);
        }
        p.finish(&mut sink);
        sink
    }

    fn found(c: &Collect) -> Vec<(String, String, Option<String>, u64)> {
        c.events
            .iter()
            .map(|e| {
                (
                    e.net.addr().to_string(),
                    e.scope.clone(),
                    e.peer.map(|p| p.to_string()),
                    e.location.line,
                )
            })
            .collect()
    }

    const V2_PHASE1: &str = r#"--9991b327-A--
[24/Nov/2026:03:04:39.334629 +0000] awT-x1yPaHSWVd4rknlj4AAAAAU 127.0.0.1 42922 127.0.0.1 18092
--9991b327-B--
GET /wp-login.php HTTP/1.1
Host: 127.0.0.1:18092

--9991b327-F--
HTTP/1.1 403 Forbidden

--9991b327-H--
Message: Access denied with code 403 (phase 1). String match "/wp-login.php" at REQUEST_URI. [file "/etc/modsecurity/modsec-rules.conf"] [line "11"] [id "200001"] [msg "Blocked WordPress login probe"] [tag "cf-ban-audit/test"]
Apache-Error: [file "apache2_util.c"] [line 275] [level 3] [client 104.21.33.4] ModSecurity: Access denied with code 403 (phase 1). String match "/wp-login.php" at REQUEST_URI. [file "/etc/modsecurity/modsec-rules.conf"] [line "11"] [id "200001"] [msg "Blocked WordPress login probe"] [tag "cf-ban-audit/test"] [hostname "127.0.0.1"] [uri "/wp-login.php"] [unique_id "awT-x1yPaHSWVd4rknlj4AAAAAU"]
Action: Intercepted (phase 1)
Stopwatch: 1795489479334053 589 (- - -)

--9991b327-Z--
"#;

    #[test]
    fn v2_denial_is_on_the_apache_client_with_section_a_as_peer() {
        let c = run(V2_PHASE1);
        assert_eq!(
            found(&c),
            [(
                "104.21.33.4".into(),
                "200001".into(),
                Some("127.0.0.1".into()),
                1
            )]
        );
        assert_eq!(
            c.events[0].time.unwrap().to_string(),
            "2026-11-24 03:04:39.334629"
        );
        assert!(c.malformed.is_empty());
    }

    #[test]
    fn crlf_and_v3_boundaries() {
        let v3 = "---KKKAPzWp---A--\r\n[24/Nov/2026:03:03:00 +0000] 179548938037.728597 162.159.200.1 0 127.0.0.1 18082\r\n---KKKAPzWp---H--\r\nModSecurity: Access denied with code 403 (phase 1). Matched \"Operator `BeginsWith' with parameter `/wp-login.php' against variable `REQUEST_URI' (Value: `/wp-login.php' ) [file \"/etc/nginx/modsec/modsec-common.conf\"] [line \"10\"] [id \"100001\"] [rev \"\"] [msg \"x\"]\r\n\r\n---KKKAPzWp---Z--\r\n";
        let c = run(v3);
        assert_eq!(
            found(&c),
            [("162.159.200.1".into(), "100001".into(), None, 1)]
        );
    }

    #[test]
    fn warnings_statuses_and_other_modules_are_not_denials() {
        for h in [
            "Message: Warning. Matched phrase \"nikto\" at REQUEST_HEADERS:User-Agent. [file \"/x\"] [line \"1\"] [id \"913100\"]",
            "Apache-Error: [file \"mod_evasive20.c\"] [line 258] [level 3] client denied by server configuration: /var/www/html/xmlrpc.php",
            "Message: Access allowed (phase 1). Pattern match \"^10\\\\.0\\\\.5\\\\.20$\" at REMOTE_ADDR. [file \"/x\"] [line \"2\"] [id \"999946\"]",
            "ModSecurity: Warning. Matched \"Operator `Ge' with parameter `5' against variable `TX:ANOMALY_SCORE' (Value: `20' ) [file \"/x\"] [line \"79\"] [id \"949110\"] [rev \"\"]",
            "ModSecurity: Access denied with code 200 (phase 1). [file \"/x\"] [line \"1\"] [id \"5\"] [rev \"\"]",
            "Message: Access denied with redirection to https://example.com/ using status 302 (phase 2). [file \"/x\"] [line \"1\"] [id \"6\"]\nAction: Intercepted (phase 2)",
        ] {
            let text = format!(
                "--0afe053a-A--\n[24/Nov/2026:03:04:39 +0000] X 104.16.0.1 1 127.0.0.1 80\n--0afe053a-F--\nHTTP/1.1 403 Forbidden\n\n--0afe053a-H--\n{h}\n\n--0afe053a-Z--\n"
            );
            assert!(run(&text).events.is_empty(), "{h}");
        }
        // An interception without a message: a denial of an unnamed rule.
        let text = "--0afe053a-A--\n[24/Nov/2026:03:04:39 +0000] X 104.16.0.1 1 127.0.0.1 80\n--0afe053a-H--\nAction: Intercepted (phase 2)\n--0afe053a-Z--\n";
        assert_eq!(
            found(&run(text)),
            [("104.16.0.1".into(), "modsecurity".into(), None, 1)]
        );
    }

    #[test]
    fn bodies_cannot_forge_or_end_entries() {
        let text = r#"--d974ea35-A--
[24/Nov/2026:04:03:03.944052 +0000] awUMd3KkOTup9ytPx0MtygAAABg 192.0.2.45 48614 127.0.0.1 18201
--d974ea35-B--
POST /comment.php HTTP/1.1
Message: Access denied with code 403 (phase 2). [file "/x"] [line "1"] [id "999001"]
Action: Intercepted (phase 2)

--d974ea35-C--
trap=1&note=
--deadbeef-A--
[24/Nov/2026:03:00:00 +0000] FAKE 104.16.66.67 1234 127.0.0.1 80
--deadbeef-H--
Message: Access denied with code 403 (phase 2). [id "999004"]
Action: Intercepted (phase 2)
--deadbeef-Z--
--d974ea35-F--
HTTP/1.1 404 Not Found

--d974ea35-H--
Message: Warning. String match "trap" at ARGS_NAMES:trap. [file "/x"] [line "49"] [id "300011"]

--d974ea35-Z--
"#;
        let c = run(text);
        assert!(c.events.is_empty(), "{:?}", found(&c));
        assert!(c.malformed.is_empty());
    }

    #[test]
    fn a_truncated_entry_is_closed_by_the_next_one() {
        let text = "--11111111-A--\n[24/Nov/2026:03:04:39 +0000] X 104.16.0.1 1 127.0.0.1 80\n--11111111-H--\nMessage: Access denied with code 403 (phase 2). [file \"/x\"] [line \"1\"] [id \"7\"]\n--22222222-A--\n[24/Nov/2026:03:04:40 +0000] Y 104.16.0.2 1 127.0.0.1 80\n--22222222-H--\nAction: Intercepted (phase 1)\n";
        assert_eq!(
            found(&run(text)),
            [
                ("104.16.0.1".into(), "7".into(), None, 1),
                ("104.16.0.2".into(), "modsecurity".into(), None, 5)
            ]
        );
    }

    #[test]
    fn rule_ids_come_from_the_structural_tags() {
        // v2: an argument name shaped like a tag comes before the real one.
        let m = br#"Access denied with code 403 (phase 2). Pattern match "(?i)union\\s+select" at ARGS:x [id "666"]. [file "/r.conf"] [line "46"] [id "300002"] [msg "SQL injection attempt"] [data "Matched ARGS:x [id \x22666\x22]"]"#;
        assert_eq!(rule_id_v2(m), Some(&b"300002"[..]));
        // v3: a variable name shaped like a tag is not a complete file/line/id run.
        let m = br#"Access denied with code 403 (phase 2). Matched "Operator `Rx' with parameter `x' against variable `ARGS:x [id "666"]' (Value: `union select 1' ) [file "/r.conf"] [line "7"] [id "400002"] [rev ""] [msg "SQLi"] [data "Matched ARGS:x [id \x22666\x22]"] [severity "0"] [ver ""] [maturity "0"] [accuracy "0"] [hostname "127.0.0.1"] [uri "/search"] [unique_id "1"] [ref "v4,1"]"#;
        assert_eq!(rule_id_v3(m), Some(&b"400002"[..]));
        assert_eq!(
            rule_id_v3(br#"[file ""] [line "0"] [id "-1"] [rev ""]"#),
            None
        );
    }

    #[test]
    fn section_a_and_times() {
        assert!(parse_section_a(b"[07/Dec/2015:19:35:54 +0000] VmXfmn8AAAEAAANSL4MAAABw 10.0.220.75 14882 10.0.220.50 443").is_some());
        assert!(
            parse_section_a(b"[07/Dec/2015:19:35:54 +0000] id 10.0.220.75 x 10.0.220.50 443")
                .is_none()
        );
        assert!(
            parse_section_a(b"[07/Dec/2015:19:35:54 +0000] id host.example 1 10.0.220.50 443")
                .is_none()
        );
        assert!(parse_audit_time(b"13/Aug/2022:00:06:11.341644 +0000").is_some());
        assert!(parse_audit_time(b"31/Feb/2022:00:06:11 +0000").is_none());
        assert!(parse_audit_time(b"13/Aug/2022:00:06").is_none());
    }

    #[test]
    fn unreadable_section_a_is_malformed() {
        let c = run("--11111111-A--\n[24/Nov/2026:03:04:39 +0000] X not-an-address 1 127.0.0.1 80\n--11111111-H--\nAction: Intercepted (phase 1)\n--11111111-Z--\n");
        assert!(c.events.is_empty());
        assert_eq!(c.malformed, [2]);
    }

    #[test]
    fn index_lines() {
        let v3 = br#"127.0.0.1:18303 172.69.7.80 - [24/Nov/2026:04:03:08 +0000] "GET /search?q=1 HTTP/1.1" 403 153 - "curl/7.88.1" 179549298889.270362 - /var/log/audit/20261124/20261124-0403/20261124-040308-179549298889.270362 0 1317.000000 md5:9ffa5813a4ef15d1ea6f14afe4aa927c"#;
        assert_eq!(
            parse_index_line(v3).unwrap().client.to_string(),
            "172.69.7.80"
        );
        let cut = br#"h 192.0.2.1 - - [24/Nov/2026:03:04:39 +0000] "GET /x HTTP/1.1" 403 239 "-" "-" id "-" /a/b 0 1 md5:b96a82de441c7046bf507ea300557041 L"#;
        assert!(parse_index_line(cut).is_some());
        assert!(parse_index_line(
            b"192.0.2.1 - - [24/Nov/2026:03:04:39 +0000] \"GET / HTTP/1.1\" 200 1"
        )
        .is_none());
        assert_eq!(
            detect(Path::new("modsec_audit.log"), v3),
            Some(Format::ModsecAuditIndex)
        );
    }
}
