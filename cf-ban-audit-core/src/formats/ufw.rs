//! ufw (Uncomplicated Firewall): its rule files and the saved output of `ufw status` and
//! `ufw show added`. Every `deny` or `reject` rule of incoming (or routed) traffic from a
//! given source becomes an [`Action::Listed`] event for that source, without time or expiry:
//! the rule stands until it is deleted.
//!
//! - **`/etc/ufw/user.rules`, `/etc/ufw/user6.rules`** ([`Format::UfwRules`], ufw 0.36 layout).
//!   ufw writes one `### tuple ###` comment per rule and below it the `-A ufw-user-input ...`
//!   lines it compiled from the rule. The tuple is what ufw itself reads back, so it is the
//!   source of truth here and the compiled lines are not read (no rule is counted twice):
//!
//!   ```text
//!   ### tuple ### deny any any 0.0.0.0/0 any 104.16.123.96 in comment=6279204661696c3242616e...
//!   -A ufw-user-input -s 104.16.123.96 -j DROP
//!   ```
//!
//!   The fields are `ACTION PROTO DPORT DST SPORT SRC [DAPP SAPP] DIRECTION [comment=HEX]`
//!   (`backend_iptables.py`, `_write_rules`); files of old ufw versions lack the direction (6
//!   or 8 fields, read as `in`). `ACTION` is `allow`, `deny`, `reject` or `limit`, with a
//!   `_log`/`_log-all` suffix for logged rules and a `route:` prefix for routed rules;
//!   `DIRECTION` is `in`, `out`, `in_eth0`, `out_eth0` or `in_eth0!out_eth1`; application
//!   names have their spaces written `%20`. The comment is the hex of the UTF-8 text (fail2ban's
//!   ufw action writes `by Fail2Ban after 5 attempts against sshd`).
//! - **`ufw status` / `ufw status numbered` / `ufw status verbose`** ([`Format::UfwStatus`]):
//!   after `Status: active`, a `To  Action  From` table, one rule a row, in the layout
//!   `%-26s %-12s%-26s` then ` (log)`-like attributes and ` # comment`:
//!
//!   ```text
//!   [ 1] Anywhere                   DENY IN     162.158.0.0/15
//!   [10] 443/tcp                    REJECT IN   2400:cb00::/32             # edge
//!   ```
//!
//!   The action is the first `ALLOW`/`DENY`/`REJECT`/`LIMIT` word after the `To` column,
//!   followed by `IN`, `OUT` or `FWD` (plain `ufw status` omits `IN`); the source is the first
//!   word of the `From` column. Rows are read only after the table's dashes line.
//! - **`ufw show added`** ([`Format::UfwStatus`]): `Added user rules (see 'ufw status' for
//!   running firewall):` then one `ufw deny from 104.16.123.96 ...` command a line.
//!
//! What counts: `deny` and `reject` (logged or not) of incoming traffic, and routed (`route`,
//! `FWD`) rules, from a source other than `0.0.0.0/0`/`::/0`/`Anywhere`. Not bans: `allow`;
//! `limit` (a rate limit of everyone, not a block of a source); outgoing rules (`out`: their
//! far end is the destination, and replies to Cloudflare's connections are not new outgoing
//! connections); rules that only name a destination. Text inside comments is never read as an
//! address (in `user.rules` the comment is hex).
//!
//! The scope is the rule's comment when it has one, else a short description of the rule in
//! the words of `ufw status verbose`: `[route ]ACTION[ DST][ PORTS[/PROTO][ (APP)]][ on IFACE]`,
//! such as `deny`, `deny 22/tcp`, `reject 443/tcp`, `deny 80/tcp on eth0`,
//! `route deny 10.0.0.5 8080/tcp` or `deny 80,443/tcp (WWW Full)`.
//!
//! Backups beside the rules (`user.rules.20261124_030731` left by `ufw reset`, `*.dpkg-old`,
//! `*~`, `*.bak`) are not in force: they are recognised, so that no other format claims them,
//! and not read (the file gets a note saying so).

use std::path::Path;
use std::sync::Arc;

use super::{Format, LineParser, ParseCtx, Parser, Sink};
use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool};

/// The longest comment kept as a scope, in characters.
const MAX_SCOPE: usize = 200;

/// The longest text quoted from the input in a message.
const MAX_QUOTE: usize = 64;

fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_QUOTE)]);
    if bytes.len() > MAX_QUOTE {
        format!("{text:?}...")
    } else {
        format!("{text:?}")
    }
}

/// The non-empty lines of `head`, trimmed.
fn head_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
}

/// Decides whether a file is ufw's: `user.rules`/`user6.rules` (by name with ufw content, or
/// by content: `*filter` and `### RULES ###`), or saved `ufw status` / `ufw show added`
/// output. Backups (`user.rules.<something>`, see [`is_backup_name`]) are detected as
/// [`Format::UfwRules`] and not read.
///
/// ```
/// use cf_ban_audit_core::formats::{ufw, Format};
/// use std::path::Path;
/// let rules = b"*filter\n:ufw-user-input - [0:0]\n### RULES ###\n\n### tuple ### deny any any 0.0.0.0/0 any 104.16.0.1 in\n";
/// assert_eq!(ufw::detect(Path::new("/etc/ufw/user.rules"), rules), Some(Format::UfwRules));
/// assert_eq!(ufw::detect(Path::new("/tmp/saved"), rules), Some(Format::UfwRules));
/// assert_eq!(ufw::detect(Path::new("/etc/ufw/user.rules.20261124_030731"), rules), Some(Format::UfwRules));
/// let status = b"Status: active\n\nTo                         Action      From\n";
/// assert_eq!(ufw::detect(Path::new("status.txt"), status), Some(Format::UfwStatus));
/// assert_eq!(ufw::detect(Path::new("notes.txt"), b"*filter\n-A INPUT -j DROP\nCOMMIT\n"), None);
/// ```
pub fn detect(path: &Path, head: &[u8]) -> Option<Format> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let has = |needle: &[u8]| memchr::memmem::find(head, needle).is_some();
    let first = head_lines(head).next();
    if first == Some(b"Status: active")
        || first.is_some_and(|l| l.starts_with(b"Added user rules (see 'ufw status'"))
    {
        return Some(Format::UfwStatus);
    }
    let rules_marker = has(b"### RULES ###") || has(b"### tuple ###");
    let by_name = matches!(name.as_str(), "user.rules" | "user6.rules")
        && (rules_marker || has(b"ufw-user-input") || has(b"ufw6-user-input"));
    let backup = is_backup_name(&name) && rules_marker;
    let by_content = first == Some(b"*filter") && rules_marker;
    (by_name || backup || by_content).then_some(Format::UfwRules)
}

/// Whether a file name is that of a backup of ufw's rules, not in force:
/// `user.rules.<anything>` (what `ufw reset` leaves), or a name ending in `~`, `.bak`, `.old`,
/// `.orig`, `.dpkg-old`, `.dpkg-dist`, `.ucf-old` or `.ucf-dist`.
///
/// ```
/// use cf_ban_audit_core::formats::ufw::is_backup_name;
/// assert!(is_backup_name("user.rules.20261124_030731"));
/// assert!(is_backup_name("user6.rules~"));
/// assert!(!is_backup_name("user.rules"));
/// ```
pub fn is_backup_name(name: &str) -> bool {
    name.starts_with("user.rules.")
        || name.starts_with("user6.rules.")
        || name.ends_with('~')
        || [
            ".bak",
            ".old",
            ".orig",
            ".dpkg-old",
            ".dpkg-dist",
            ".ucf-old",
            ".ucf-dist",
        ]
        .iter()
        .any(|s| name.ends_with(s))
}

/// The parser of `format` for one input.
pub fn parser(format: Format, ctx: &ParseCtx) -> Parser {
    match format {
        Format::UfwStatus => Parser::Lines(Box::new(StatusParser::new(ctx))),
        _ => Parser::Lines(Box::new(RulesParser::new(ctx))),
    }
}

/// Decodes a ufw comment (the hex of its UTF-8 text, as in `comment=...` of a tuple) the way
/// ufw does: an odd last digit is dropped and invalid UTF-8 is replaced. `None` when the text
/// is not hex.
///
/// ```
/// use cf_ban_audit_core::formats::ufw::decode_comment;
/// let hex = b"6279204661696c3242616e206166746572203520617474656d70747320616761696e73742073736864";
/// assert_eq!(decode_comment(hex).unwrap(), "by Fail2Ban after 5 attempts against sshd");
/// assert_eq!(decode_comment(b"zz"), None);
/// ```
pub fn decode_comment(hex: &[u8]) -> Option<String> {
    let hex = &hex[..hex.len() & !1];
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes: Option<Vec<u8>> = hex
        .chunks_exact(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect();
    Some(String::from_utf8_lossy(&bytes?).into_owned())
}

/// A comment made fit to be a scope: control characters turned into spaces, trimmed, cut.
fn clean_comment(text: &str) -> Option<String> {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_SCOPE)
        .collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty()).then(|| cleaned.to_string())
}

/// Whether a tuple address means any address.
fn is_any(addr: &str) -> bool {
    matches!(addr, "0.0.0.0/0" | "::/0" | "any")
}

/// The description of a rule used as its scope when it has no comment (see the
/// [module documentation](self)).
fn describe(
    route: bool,
    action: &str,
    dst: Option<&str>,
    ports: Option<&str>,
    iface: Option<&str>,
) -> String {
    let mut s = String::new();
    if route {
        s.push_str("route ");
    }
    s.push_str(action);
    for part in [dst, ports].into_iter().flatten() {
        s.push(' ');
        s.push_str(part);
    }
    if let Some(iface) = iface {
        s.push_str(" on ");
        s.push_str(iface);
    }
    s
}

/// The words of `bytes` split at ASCII white space, each with its start offset.
fn words(bytes: &[u8]) -> Vec<(usize, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i > start {
            out.push((start, &bytes[start..i]));
        }
    }
    out
}

/// Text that is meant to be an address (digits, hex, dots, colons and a slash only), so that
/// failing to read it is worth a report rather than a silent skip.
fn looks_like_address(token: &[u8]) -> bool {
    !token.is_empty()
        && token.iter().any(u8::is_ascii_digit)
        && (token.contains(&b'.') || token.contains(&b':'))
        && token
            .iter()
            .all(|&b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'/'))
}

fn listed(
    path: &Arc<Path>,
    format: Format,
    net: ipnet::IpNet,
    scope: String,
    line: u64,
) -> BanEvent {
    BanEvent {
        net,
        tool: Tool::Ufw,
        format,
        scope,
        peer: None,
        action: Action::Listed,
        time: None,
        expires: None,
        location: Location {
            path: path.clone(),
            line,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// user.rules

/// One rule as read from a tuple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuple {
    /// `allow`, `deny`, `reject` or `limit` (without the log suffix and route prefix).
    pub action: String,
    /// Whether it is a routed (`route:`) rule.
    pub route: bool,
    /// The protocol (`any`, `tcp`, `udp`, ...).
    pub proto: String,
    /// The destination ports (`any`, `22`, `25,587`, `8000:8010`).
    pub dport: String,
    /// The destination address (`0.0.0.0/0` or `::/0` for any).
    pub dst: String,
    /// The source ports.
    pub sport: String,
    /// The source address (`0.0.0.0/0` or `::/0` for any).
    pub src: String,
    /// The destination application profile, if any (spaces restored).
    pub dapp: Option<String>,
    /// `in` or `out`.
    pub direction: String,
    /// The incoming interface, if the rule names one.
    pub iface_in: Option<String>,
    /// The outgoing interface, if the rule names one.
    pub iface_out: Option<String>,
    /// The comment, decoded, if any.
    pub comment: Option<String>,
}

impl Tuple {
    /// Whether the rule blocks traffic from its source: `deny`/`reject` of incoming or routed
    /// traffic.
    pub fn blocks_source(&self) -> bool {
        matches!(self.action.as_str(), "deny" | "reject") && (self.route || self.direction == "in")
    }

    /// The scope of the rule's events: its comment, else its description.
    pub fn scope(&self) -> String {
        if let Some(c) = self.comment.as_deref().and_then(clean_comment) {
            return c;
        }
        let dst = (!is_any(&self.dst)).then_some(self.dst.as_str());
        let ports = (self.dport != "any").then(|| {
            let mut p = self.dport.clone();
            if self.proto != "any" {
                p.push('/');
                p.push_str(&self.proto);
            }
            if let Some(app) = &self.dapp {
                p.push_str(&format!(" ({app})"));
            }
            p
        });
        let iface = if self.route {
            self.iface_out.as_deref()
        } else {
            self.iface_in.as_deref()
        };
        describe(self.route, &self.action, dst, ports.as_deref(), iface)
    }
}

/// Reads the text after `### tuple ###`. `Err` names what is wrong.
///
/// ```
/// use cf_ban_audit_core::formats::ufw::parse_tuple;
/// let t = parse_tuple(b" deny tcp 22 0.0.0.0/0 any 172.65.32.248 in").unwrap();
/// assert_eq!((t.action.as_str(), t.src.as_str(), t.scope()), ("deny", "172.65.32.248", "deny 22/tcp".to_string()));
/// let t = parse_tuple(b" reject any any 0.0.0.0/0 any 172.64.155.20 in comment=6564676520726f75746572").unwrap();
/// assert_eq!(t.scope(), "edge router");
/// assert!(parse_tuple(b" deny tcp").is_err());
/// ```
pub fn parse_tuple(text: &[u8]) -> Result<Tuple, String> {
    let (fields_text, comment) = match memchr::memmem::find(text, b" comment=") {
        Some(at) => {
            let hex = text[at + b" comment=".len()..].trim_ascii();
            let decoded = decode_comment(hex)
                .ok_or_else(|| format!("ufw tuple comment is not hex: {}", quote(hex)))?;
            (&text[..at], Some(decoded))
        }
        None => (text, None),
    };
    let fields: Vec<&[u8]> = words(fields_text).into_iter().map(|(_, w)| w).collect();
    if !(6..=9).contains(&fields.len()) {
        return Err(format!(
            "ufw tuple with {} fields (6 to 9 expected): {}",
            fields.len(),
            quote(fields_text.trim_ascii())
        ));
    }
    let field = |i: usize| String::from_utf8_lossy(fields[i]).into_owned();
    let (mut direction, mut iface_in, mut iface_out) = ("in".to_string(), None, None);
    if fields.len() == 7 || fields.len() == 9 {
        let last = field(fields.len() - 1);
        if let Some((a, b)) = last.split_once('!') {
            iface_in = a.strip_prefix("in_").map(str::to_string);
            iface_out = b.strip_prefix("out_").map(str::to_string);
            if iface_in.is_none() || iface_out.is_none() {
                return Err(format!(
                    "ufw tuple with a bad direction: {}",
                    quote(fields[fields.len() - 1])
                ));
            }
        } else if let Some(i) = last.strip_prefix("in_") {
            iface_in = Some(i.to_string());
        } else if let Some(o) = last.strip_prefix("out_") {
            direction = "out".into();
            iface_out = Some(o.to_string());
        } else if last == "out" {
            direction = "out".into();
        } else if last != "in" {
            return Err(format!(
                "ufw tuple with a bad direction: {}",
                quote(fields[fields.len() - 1])
            ));
        }
    }
    let raw_action = field(0);
    let (route, action) = match raw_action.split_once(':') {
        Some((_, a)) => (true, a.to_string()),
        None => (false, raw_action.clone()),
    };
    let action = action.split('_').next().unwrap_or_default().to_string();
    if !matches!(action.as_str(), "allow" | "deny" | "reject" | "limit") {
        return Err(format!(
            "ufw tuple with an unknown action: {}",
            quote(fields[0])
        ));
    }
    let dapp = (fields.len() >= 8 && fields[6] != b"-").then(|| field(6).replace("%20", " "));
    Ok(Tuple {
        action,
        route,
        proto: field(1),
        dport: field(2),
        dst: field(3),
        sport: field(4),
        src: field(5),
        dapp,
        direction,
        iface_in,
        iface_out,
        comment,
    })
}

/// Parser of `user.rules` / `user6.rules` (see the [module documentation](self)).
///
/// ```
/// use cf_ban_audit_core::formats::ufw::RulesParser;
/// use cf_ban_audit_core::formats::{LineParser, ParseCtx, Sink};
/// use cf_ban_audit_core::BanEvent;
/// use std::{path::Path, sync::Arc};
///
/// struct Events(Vec<BanEvent>);
/// impl Sink for Events {
///     fn event(&mut self, e: BanEvent) { self.0.push(e) }
///     fn malformed(&mut self, _: u64, _: String) {}
/// }
///
/// let now = chrono::Local::now().naive_local();
/// let ctx = ParseCtx { path: Arc::from(Path::new("/etc/ufw/user.rules")), reference: now, now };
/// let mut parser = RulesParser::new(&ctx);
/// let mut sink = Events(Vec::new());
/// let text = "### RULES ###\n\n### tuple ### deny any any 0.0.0.0/0 any 162.158.0.0/15 in\n\
///             -A ufw-user-input -s 162.158.0.0/15 -j DROP\n\n\
///             ### tuple ### allow tcp 22 0.0.0.0/0 any 192.0.2.10 in\n\
///             -A ufw-user-input -p tcp --dport 22 -s 192.0.2.10 -j ACCEPT\n";
/// for (n, line) in text.lines().enumerate() {
///     parser.line(n as u64 + 1, line.as_bytes(), &mut sink);
/// }
/// assert_eq!(sink.0.len(), 1);
/// assert_eq!((sink.0[0].net.to_string(), sink.0[0].scope.as_str()), ("162.158.0.0/15".to_string(), "deny"));
/// ```
pub struct RulesParser {
    path: Arc<Path>,
    /// The file is a backup ([`is_backup_name`]): noted, not read.
    backup: bool,
}

impl RulesParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        let name = ctx
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        RulesParser {
            path: ctx.path.clone(),
            backup: is_backup_name(&name),
        }
    }
}

impl LineParser for RulesParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if self.backup {
            return;
        }
        let Some(rest) = line.strip_prefix(b"### tuple ###") else {
            return;
        };
        let tuple = match parse_tuple(rest) {
            Ok(t) => t,
            Err(message) => return sink.malformed(lineno, message),
        };
        if !tuple.blocks_source() || is_any(&tuple.src) {
            return;
        }
        match parse_net(tuple.src.as_bytes()) {
            Some(net) => sink.event(listed(
                &self.path,
                Format::UfwRules,
                net,
                tuple.scope(),
                lineno,
            )),
            None => sink.malformed(
                lineno,
                format!(
                    "ufw tuple source is not an address: {}",
                    quote(tuple.src.as_bytes())
                ),
            ),
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if self.backup {
            sink.note("a backup of ufw's rules, not in force: not read".into());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ufw status, ufw show added

/// What part of a saved output the parser is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    /// Before any rule table (or after an unknown line between outputs).
    None,
    /// After `Status:`, before the dashes line.
    Header,
    /// Inside the `To Action From` table.
    Table,
    /// After `Added user rules`.
    Added,
}

/// Parser of saved `ufw status` (plain, `numbered`, `verbose`) and `ufw show added` output
/// (see the [module documentation](self)). Several outputs one after another are read as such.
///
/// ```
/// use cf_ban_audit_core::formats::ufw::StatusParser;
/// use cf_ban_audit_core::formats::{LineParser, ParseCtx, Sink};
/// use cf_ban_audit_core::BanEvent;
/// use std::{path::Path, sync::Arc};
///
/// struct Events(Vec<BanEvent>);
/// impl Sink for Events {
///     fn event(&mut self, e: BanEvent) { self.0.push(e) }
///     fn malformed(&mut self, _: u64, _: String) {}
/// }
///
/// let now = chrono::Local::now().naive_local();
/// let ctx = ParseCtx { path: Arc::from(Path::new("status.txt")), reference: now, now };
/// let mut parser = StatusParser::new(&ctx);
/// let mut sink = Events(Vec::new());
/// let text = "Status: active\n\n     To                         Action      From\n     \
///             --                         ------      ----\n\
///             [ 1] Anywhere                   DENY IN     104.16.123.96              # by Fail2Ban after 5 attempts against sshd\n\
///             [ 2] 443/tcp                    REJECT IN   2400:cb00::/32\n\
///             [ 3] 22/tcp                     ALLOW IN    172.64.0.1\n";
/// for (n, line) in text.lines().enumerate() {
///     parser.line(n as u64 + 1, line.as_bytes(), &mut sink);
/// }
/// let got: Vec<_> = sink.0.iter().map(|e| (e.net.to_string(), e.scope.clone())).collect();
/// assert_eq!(got, [
///     ("104.16.123.96/32".to_string(), "by Fail2Ban after 5 attempts against sshd".to_string()),
///     ("2400:cb00::/32".to_string(), "reject 443/tcp".to_string()),
/// ]);
/// ```
pub struct StatusParser {
    path: Arc<Path>,
    section: Section,
}

impl StatusParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        StatusParser {
            path: ctx.path.clone(),
            section: Section::None,
        }
    }

    fn emit(&self, lineno: u64, src: &[u8], scope: String, sink: &mut dyn Sink) {
        if let Some(net) = parse_net(src) {
            sink.event(listed(&self.path, Format::UfwStatus, net, scope, lineno));
        } else if looks_like_address(src) {
            sink.malformed(
                lineno,
                format!("ufw: source is not an address: {}", quote(src)),
            );
        }
        // Anything else is an application profile name or `Anywhere`: no single source.
    }

    /// One row of the rule table.
    fn row(&self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let mut text = line.trim_ascii();
        // `[ 1] ` of `ufw status numbered`.
        if text.first() == Some(&b'[') {
            let Some(close) = memchr::memchr(b']', text) else {
                return sink.malformed(
                    lineno,
                    format!("ufw status: bad rule number: {}", quote(text)),
                );
            };
            let number = text[1..close].trim_ascii();
            if number.is_empty() || !number.iter().all(u8::is_ascii_digit) {
                return sink.malformed(
                    lineno,
                    format!("ufw status: bad rule number: {}", quote(text)),
                );
            }
            text = &text[close + 1..];
        }
        let ws = words(text);
        let Some(ai) = ws
            .iter()
            .skip(1)
            .position(|(_, w)| matches!(*w, b"ALLOW" | b"DENY" | b"REJECT" | b"LIMIT"))
            .map(|i| i + 1)
        else {
            return sink.malformed(
                lineno,
                format!("ufw status: row without an action: {}", quote(text)),
            );
        };
        let action = ws[ai].1;
        let (dir, from_i) = match ws.get(ai + 1).map(|(_, w)| *w) {
            Some(d @ (b"IN" | b"OUT" | b"FWD")) => (d, ai + 2),
            _ => (&b"IN"[..], ai + 1),
        };
        let Some(&(from_at, from)) = ws.get(from_i) else {
            return sink.malformed(
                lineno,
                format!("ufw status: row without a source: {}", quote(text)),
            );
        };
        if !matches!(action, b"DENY" | b"REJECT") || dir == b"OUT" {
            return;
        }
        let route = dir == b"FWD";
        let comment = memchr::memmem::find(&text[from_at..], b" # ")
            .map(|at| String::from_utf8_lossy(&text[from_at + at + 3..]).into_owned())
            .and_then(|c| clean_comment(&c));
        let scope = comment.unwrap_or_else(|| {
            let to = String::from_utf8_lossy(text[..ws[ai].0].trim_ascii()).replace(" (v6)", "");
            let to = to
                .strip_prefix("Anywhere")
                .unwrap_or(&to)
                .trim()
                .to_string();
            let (dst, iface) = match to.split_once(" on ") {
                Some((d, i)) => (d.trim().to_string(), Some(i.trim().to_string())),
                None if to.starts_with("on ") => (String::new(), Some(to[3..].trim().to_string())),
                None => (to, None),
            };
            let action = String::from_utf8_lossy(action).to_lowercase();
            describe(
                route,
                &action,
                (!dst.is_empty()).then_some(dst.as_str()),
                None,
                iface.as_deref(),
            )
        });
        self.emit(lineno, from, scope, sink);
    }

    /// One `ufw ...` command of `ufw show added`.
    fn command(&self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let Some(args) = shell_words(line) else {
            return sink.malformed(
                lineno,
                format!("ufw show added: unbalanced quotes: {}", quote(line)),
            );
        };
        let mut it = args.iter().map(String::as_str).peekable();
        if it.next() != Some("ufw") {
            return;
        }
        let mut route = false;
        if it.peek() == Some(&"route") {
            route = true;
            it.next();
        }
        match it.peek() {
            Some(&"insert") => {
                it.next();
                it.next();
            }
            Some(&"prepend") => {
                it.next();
            }
            _ => {}
        }
        let Some(action) = it.next() else {
            return sink.malformed(
                lineno,
                format!("ufw show added: no action: {}", quote(line)),
            );
        };
        if !matches!(action, "allow" | "deny" | "reject" | "limit") {
            return sink.malformed(
                lineno,
                format!("ufw show added: unknown action: {}", quote(line)),
            );
        }
        let (mut out, mut iface_in, mut iface_out) = (false, None, None);
        let (mut from, mut to, mut dport, mut proto, mut app, mut comment) =
            (None, None, None, None, None, None);
        let mut last_dir = "";
        while let Some(word) = it.next() {
            match word {
                "in" | "out" => {
                    out = word == "out";
                    if it.peek() == Some(&"on") {
                        it.next();
                        let iface = it.next().map(str::to_string);
                        if out {
                            iface_out = iface;
                        } else {
                            iface_in = iface;
                        }
                    }
                }
                "log" | "log-all" => {}
                "from" | "to" => {
                    last_dir = word;
                    let addr = it.next().map(str::to_string);
                    if word == "from" {
                        from = addr;
                    } else {
                        to = addr;
                    }
                }
                "port" => {
                    let p = it.next().map(str::to_string);
                    if last_dir == "to" {
                        dport = p;
                    }
                }
                "app" => {
                    let a = it.next().map(str::to_string);
                    if last_dir == "to" {
                        app = a;
                    }
                }
                "proto" => proto = it.next().map(str::to_string),
                "comment" => comment = it.next().map(str::to_string),
                // The short form: `ufw deny 22/tcp` (no source).
                _ => {}
            }
        }
        if !matches!(action, "deny" | "reject") || (out && !route) {
            return;
        }
        let Some(src) = from.filter(|f| f != "any") else {
            return;
        };
        let scope = comment
            .as_deref()
            .and_then(clean_comment)
            .unwrap_or_else(|| {
                let dst = to.filter(|t| t != "any");
                let ports = match (dport, app) {
                    (_, Some(app)) => Some(app),
                    (Some(p), None) => Some(match &proto {
                        Some(pr) => format!("{p}/{pr}"),
                        None => p,
                    }),
                    (None, None) => None,
                };
                let iface = if route { iface_out } else { iface_in };
                describe(
                    route,
                    action,
                    dst.as_deref(),
                    ports.as_deref(),
                    iface.as_deref(),
                )
            });
        self.emit(lineno, src.as_bytes(), scope, sink);
    }
}

/// Splits a command line into words the way a POSIX shell does for quotes (`'...'`, `"..."`)
/// and backslashes; `None` when a quote is left open.
pub(crate) fn shell_words(line: &[u8]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut in_word = false;
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        match b {
            b'\'' => {
                let end = memchr::memchr(b'\'', &line[i + 1..])?;
                cur.extend_from_slice(&line[i + 1..i + 1 + end]);
                i += end + 2;
                in_word = true;
                continue;
            }
            b'"' => {
                let mut j = i + 1;
                loop {
                    match *line.get(j)? {
                        b'"' => break,
                        b'\\' if matches!(line.get(j + 1), Some(b'"' | b'\\' | b'$' | b'`')) => {
                            cur.push(line[j + 1]);
                            j += 2;
                        }
                        c => {
                            cur.push(c);
                            j += 1;
                        }
                    }
                }
                i = j + 1;
                in_word = true;
                continue;
            }
            b'\\' if i + 1 < line.len() => {
                cur.push(line[i + 1]);
                i += 2;
                in_word = true;
                continue;
            }
            b if b.is_ascii_whitespace() => {
                if in_word {
                    out.push(String::from_utf8_lossy(&cur).into_owned());
                    cur.clear();
                    in_word = false;
                }
            }
            b => {
                cur.push(b);
                in_word = true;
            }
        }
        i += 1;
    }
    if in_word {
        out.push(String::from_utf8_lossy(&cur).into_owned());
    }
    Some(out)
}

impl LineParser for StatusParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let trimmed = line.trim_ascii();
        if trimmed.starts_with(b"Status:") {
            self.section = Section::Header;
            return;
        }
        if trimmed.starts_with(b"Added user rules") {
            self.section = Section::Added;
            return;
        }
        match self.section {
            Section::None => {}
            Section::Header => {
                let ws = words(trimmed);
                if !ws.is_empty() && ws.iter().all(|(_, w)| w.iter().all(|&b| b == b'-')) {
                    self.section = Section::Table;
                }
            }
            Section::Table => {
                if !trimmed.is_empty() {
                    self.row(lineno, trimmed, sink);
                }
            }
            Section::Added => {
                if trimmed.starts_with(b"ufw ") {
                    self.command(lineno, trimmed, sink);
                } else if !trimmed.is_empty() {
                    self.section = Section::None;
                }
            }
        }
    }
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

    fn ctx(path: &str) -> ParseCtx {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        ParseCtx {
            path: Arc::from(PathBuf::from(path).as_path()),
            reference: now,
            now,
        }
    }

    fn run(mut parser: impl LineParser, text: &str) -> Collect {
        let mut sink = Collect::default();
        for (n, line) in text.lines().enumerate() {
            parser.line(n as u64 + 1, line.as_bytes(), &mut sink);
        }
        parser.finish(&mut sink);
        sink
    }

    fn got(c: &Collect) -> Vec<(String, String, u64)> {
        c.events
            .iter()
            .map(|e| {
                (
                    crate::addr::display_net(&e.net),
                    e.scope.clone(),
                    e.location.line,
                )
            })
            .collect()
    }

    #[test]
    fn tuples_of_every_shape() {
        let text = "\
### tuple ### reject any any 0.0.0.0/0 any 172.64.155.20 in comment=6279204661696c3242616e206166746572203320617474656d70747320616761696e7374206e67696e782d687474702d61757468
-A ufw-user-input -s 172.64.155.20 -j REJECT
### tuple ### allow tcp 443 0.0.0.0/0 any 173.245.48.0/20 in comment=436c6f7564666c617265
### tuple ### deny any any 0.0.0.0/0 any 203.0.113.9 in comment=62616e203130342e31362e302e3120746f6f
### tuple ### deny any any 104.24.0.1 any 0.0.0.0/0 out
### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### deny tcp 80 0.0.0.0/0 any 198.41.128.0/17 in_eth0
### tuple ### route:deny tcp 8080 10.0.0.5 any 141.101.64.0/18 in
### tuple ### deny_log any any 0.0.0.0/0 any 190.93.240.7 in
### tuple ### deny any any 104.16.0.7 any 198.51.100.0/24 in
### tuple ### reject tcp 80,443 0.0.0.0/0 any 131.0.72.0/22 WWW%20Full - in
### tuple ### deny any any 0.0.0.0/0 any 104.16.1.1
### tuple ### deny any any 0.0.0.0/0 any 104.16.1.2 out_eth0
### tuple ### reject_log-all tcp 25 10.0.0.1 25 104.16.1.3 in
# ### tuple ### deny any any 0.0.0.0/0 any 104.16.1.4 in
### tuple ### deny tcp
### tuple ### deny any any 0.0.0.0/0 any 104.16.1.500 in
### tuple ### deny any any 0.0.0.0/0 any 104.16.1.5 in comment=xyz
";
        let c = run(RulesParser::new(&ctx("/etc/ufw/user.rules")), text);
        assert_eq!(
            got(&c),
            [
                (
                    "172.64.155.20".into(),
                    "by Fail2Ban after 3 attempts against nginx-http-auth".into(),
                    1
                ),
                ("203.0.113.9".into(), "ban 104.16.0.1 too".into(), 4),
                ("198.41.128.0/17".into(), "deny 80/tcp on eth0".into(), 7),
                (
                    "141.101.64.0/18".into(),
                    "route deny 10.0.0.5 8080/tcp".into(),
                    8
                ),
                ("190.93.240.7".into(), "deny".into(), 9),
                ("198.51.100.0/24".into(), "deny 104.16.0.7".into(), 10),
                (
                    "131.0.72.0/22".into(),
                    "reject 80,443/tcp (WWW Full)".into(),
                    11
                ),
                ("104.16.1.1".into(), "deny".into(), 12),
                ("104.16.1.3".into(), "reject 10.0.0.1 25/tcp".into(), 14),
            ]
        );
        let bad: Vec<u64> = c.malformed.iter().map(|m| m.0).collect();
        assert_eq!(bad, [16, 17, 18]);
        assert!(c
            .events
            .iter()
            .all(|e| e.action == Action::Listed && e.tool == Tool::Ufw));
    }

    #[test]
    fn comments_are_cleaned() {
        // "a\nb" with a control character.
        let t = parse_tuple(b" deny any any 0.0.0.0/0 any 104.16.0.1 in comment=610a62").unwrap();
        assert_eq!(t.scope(), "a b");
        // An odd digit is dropped, as ufw does.
        assert_eq!(decode_comment(b"616").unwrap(), "a");
        // An empty comment falls back to the description.
        let t = parse_tuple(b" deny any any 0.0.0.0/0 any 104.16.0.1 in comment=2020").unwrap();
        assert_eq!(t.scope(), "deny");
    }

    #[test]
    fn status_rows_of_every_kind() {
        let text = "\
Status: active
Logging: on (low)
Default: deny (incoming), allow (outgoing), disabled (routed)
New profiles: skip

To                         Action      From
--                         ------      ----
Anywhere                   REJECT IN   172.64.155.20              # by Fail2Ban after 3 attempts against nginx-http-auth
443/tcp                    ALLOW IN    173.245.48.0/20            # Cloudflare 173.245.48.0/20
Anywhere                   DENY IN     203.0.113.9                # ban 104.16.0.1 too
22/tcp                     LIMIT IN    Anywhere
80/tcp on eth0             DENY IN     198.41.128.0/17
Anywhere                   DENY IN     190.93.240.7               (log)
104.16.0.7                 DENY IN     198.51.100.0/24
80,443/tcp (WWW Full)      REJECT IN   131.0.72.0/22
Anywhere (v6)              DENY IN     2a06:98c0:3600::103        # by Fail2Ban after 2 attempts against recidive
22/tcp (v6)                LIMIT IN    Anywhere (v6)
WWW Full                   DENY        Anywhere

104.24.0.1                 DENY OUT    Anywhere

10.0.0.5 8080/tcp          DENY FWD    141.101.64.0/18
Anywhere                   DENY IN     104.16.1.999
";
        let c = run(StatusParser::new(&ctx("status.txt")), text);
        assert_eq!(
            got(&c),
            [
                (
                    "172.64.155.20".into(),
                    "by Fail2Ban after 3 attempts against nginx-http-auth".into(),
                    8
                ),
                ("203.0.113.9".into(), "ban 104.16.0.1 too".into(), 10),
                ("198.41.128.0/17".into(), "deny 80/tcp on eth0".into(), 12),
                ("190.93.240.7".into(), "deny".into(), 13),
                ("198.51.100.0/24".into(), "deny 104.16.0.7".into(), 14),
                (
                    "131.0.72.0/22".into(),
                    "reject 80,443/tcp (WWW Full)".into(),
                    15
                ),
                (
                    "2a06:98c0:3600::103".into(),
                    "by Fail2Ban after 2 attempts against recidive".into(),
                    16
                ),
                (
                    "141.101.64.0/18".into(),
                    "route deny 10.0.0.5 8080/tcp".into(),
                    22
                ),
            ]
        );
        assert_eq!(c.malformed.len(), 1);
        assert_eq!(c.malformed[0].0, 23);
    }

    #[test]
    fn rows_before_the_table_are_not_read() {
        let text = "Status: active\nAnywhere DENY IN 104.16.0.1\n";
        let c = run(StatusParser::new(&ctx("status.txt")), text);
        assert!(c.events.is_empty());
    }

    #[test]
    fn show_added_commands() {
        let text = "\
Added user rules (see 'ufw status' for running firewall):
ufw reject from 172.64.155.20 comment 'by Fail2Ban after 3 attempts against nginx-http-auth'
ufw allow from 173.245.48.0/20 to any port 443 proto tcp comment 'Cloudflare 173.245.48.0/20'
ufw deny from 203.0.113.9 comment 'ban 104.16.0.1 too'
ufw deny out to 104.24.0.1
ufw limit 22/tcp
ufw deny in on eth0 from 198.41.128.0/17 to any port 80 proto tcp
ufw route deny from 141.101.64.0/18 to 10.0.0.5 port 8080 proto tcp
ufw deny log from 190.93.240.7
ufw deny from 198.51.100.0/24 to 104.16.0.7
ufw reject from 131.0.72.0/22 to any app 'WWW Full' comment 'edge'
ufw deny from 172.65.32.248 to any port 22 proto tcp
ufw deny 23
ufw deny from 'open
";
        let c = run(StatusParser::new(&ctx("show-added.txt")), text);
        assert_eq!(
            got(&c),
            [
                (
                    "172.64.155.20".into(),
                    "by Fail2Ban after 3 attempts against nginx-http-auth".into(),
                    2
                ),
                ("203.0.113.9".into(), "ban 104.16.0.1 too".into(), 4),
                ("198.41.128.0/17".into(), "deny 80/tcp on eth0".into(), 7),
                (
                    "141.101.64.0/18".into(),
                    "route deny 10.0.0.5 8080/tcp".into(),
                    8
                ),
                ("190.93.240.7".into(), "deny".into(), 9),
                ("198.51.100.0/24".into(), "deny 104.16.0.7".into(), 10),
                ("131.0.72.0/22".into(), "edge".into(), 11),
                ("172.65.32.248".into(), "deny 22/tcp".into(), 12),
            ]
        );
        assert_eq!(c.malformed.len(), 1);
    }

    #[test]
    fn shell_words_quotes() {
        assert_eq!(
            shell_words(br#"ufw deny from 1.2.3.4 comment 'a b' x"y z"'q'"#).unwrap(),
            ["ufw", "deny", "from", "1.2.3.4", "comment", "a b", "xy zq"]
        );
        assert!(shell_words(b"ufw 'open").is_none());
    }
}
