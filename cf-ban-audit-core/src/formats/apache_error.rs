//! Apache's error log (`/var/log/apache2/error.log`, `/var/log/httpd/error_log`): the
//! requests that ModSecurity 2, mod_evasive and Apache's own access control refused.
//!
//! # The line
//!
//! Apache 2.4's default `ErrorLogFormat` (`do_errorlog_default` in `server/log.c`) writes
//! `[%{u}t] [%m:%l] [pid %P:tid %T] [client %a] %M, referer: %{Referer}i`:
//!
//! ```text
//! [Tue Nov 24 03:04:39.352114 2026] [security2:error] [pid 14920:tid 14932] [client 2606:4700:4700::1111:0] [client 2606:4700:4700::1111] ModSecurity: Access denied with code 403 (phase 1). ...
//! ```
//!
//! The `[client %s:%d]` tag (`[remote ...]` on connections without a scoreboard handle) is
//! the request's `useragent_ip` (after mod_remoteip) and its port, joined by a colon with no
//! brackets, so an IPv6 address reads `2606:4700:4700::1111:0` (mod_remoteip sets the port to
//! 0); the tag always carries the port, so its last `:N` is removed (Apache 2.4.71 writes
//! `[client 2606:4700:10::9:52984]`, never brackets). Apache 2.2 writes
//! `[Mon Dec 23 13:12:31 2013] [error] [client 192.0.2.1] message`, with no module, no PID
//! and an address without port. A `[client [2001:db8::1]:443]` form is read too.
//!
//! # ModSecurity 2
//!
//! ModSecurity (`apache2/apache2_util.c`, `internal_log_ex`) logs
//! `[client %s] ModSecurity: %s%s [uri "%s"]%s` itself: on Apache 2.4 through
//! `ap_log_rerror` (so Apache's own `[client a:p]` tag comes first, and ModSecurity's tag,
//! `r->useragent_ip` without port, second), on 2.2 through `ap_log_error` (its tag only). The
//! message starts with the action (`Access denied with code 403 (phase 2).`, `Warning.`,
//! `Access allowed`, ...), after tags `[file "..."] [line "..."] [id "..."] ...` in old
//! versions; it is read by [`super::modsec_audit::refusal`], the same rule as the audit logs:
//! a refusal (`with code N`, N ≥ 400, or `with connection close`) is an [`Action::Deny`];
//! warnings, allows, redirections and proxying are not. The scope is the rule's id (see
//! [`super::modsec_audit::rule_id_v2`]) or `modsecurity`.
//!
//! # mod_evasive
//!
//! mod_evasive 1.10 refuses a request with `client denied by server configuration: <file>`
//! under its own module name (`[evasive20:error]`): an [`Action::Deny`] with scope
//! `mod_evasive`. mod_evasive counts the TCP peer, while the tag shows the address mod_remoteip
//! restored: with a proxy in front, the address refused is the one logged, but the one
//! mod_evasive blacklisted is the proxy.
//!
//! # Apache's access control
//!
//! A request that the authorization rules refuse (`Require not ip`, `Require all denied`,
//! `<RequireNone>`) is logged by mod_authz_core (`modules/aaa/mod_authz_core.c`,
//! `authorize_user_core`) as `AH01630: client denied by server configuration: <file>` under
//! `[authz_core:error]`, and one that 2.2's `Deny from` refuses by mod_access_compat
//! (`modules/aaa/mod_access_compat.c`, `check_dir_access`) as `AH01797: client denied by server
//! configuration: <file>` under `[access_compat:error]`. Each is a one-off refusal of the
//! request's client: an [`Action::Deny`] of [`Tool::ApacheDeny`], scope the module
//! (`authz_core`, `access_compat`). Only that module with that message number counts, and the
//! line must hold exactly Apache's one client tag. Apache 2.2's lines (no module, no number) are
//! not read: mod_evasive writes the same words there.
//!
//! # Attacker text
//!
//! Only the structure before the message gives addresses: the timestamp, `[module:level]`,
//! `[pid ...]`, then at most two `[client ...]` tags, which no client writes. The
//! authorization refusals name a module no script logs under, and their message number comes
//! right after the one tag: a path or a Referer holding the same words (`AH00128: File does not
//! exist: /var/www/AH01630: client denied ...`, `, referer: ... [client X] AH01630: ...`) is
//! later in the line and never read. The message must
//! begin with the words of the module named by the line (`security2`, or, where Apache names
//! none, the ModSecurity prefix right after the tags). Apache escapes messages
//! (`ap_escape_errorlog_item` doubles backslashes, and ModSecurity escapes quotes in `[msg]`,
//! `[data]`, `[uri]`...), so fake tags in attacker text never complete; the `Referer` Apache
//! appends after `, referer: ` is cut off before the rule id is looked for. A message written
//! by a script (PHP's `error_log()`), which can start with anything, is logged under the
//! script's module (`[php:notice]`, `[proxy_fcgi:error] ... AH01071:`); the lines that name
//! no module (Apache 2.2, `[:error]`) are ModSecurity's only when their two client tags agree,
//! so a script cannot name an address other than its own client's.

use super::registry::{Detection, FormatDescriptor};
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use chrono::{NaiveDate, NaiveDateTime};

use super::grammar::modsec::{refusal, rule_id_v2, UNKNOWN_RULE};
use super::grammar::num::{digits, digits_u64, month};
use super::grammar::quote::{shown, MAX_QUOTE};
use super::grammar::{head, syslog, MOD_EVASIVE_SCOPE};
use super::prefilter::Prefilter;
use super::{Format, LineParser, ParseCtx, Sink};
use crate::addr::{host_net, parse_ip};
use crate::event::{Action, BanEvent, Location, Tool};

/// The parts of an Apache error-log line, up to the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorLine<'a> {
    /// When, as written (the host's local time).
    pub time: NaiveDateTime,
    /// The module (`security2`, `evasive20`, `core`; empty in `[:error]`), or `None` where
    /// Apache writes only a level (2.2 and custom `ErrorLogFormat`s).
    pub module: Option<&'a [u8]>,
    /// The level (`error`, `notice`, `trace3`, ...).
    pub level: &'a [u8],
    /// The text of the `[client ...]` / `[remote ...]` tags before the message, at most two
    /// (Apache's, then ModSecurity's own), as written.
    pub clients: [Option<&'a [u8]>; 2],
    /// The message, after the tags, trailing white space trimmed.
    pub message: &'a [u8],
}

const LEVELS: [&[u8]; 8] = [
    b"emerg", b"alert", b"crit", b"error", b"warn", b"notice", b"info", b"debug",
];

fn is_level(level: &[u8]) -> bool {
    LEVELS.contains(&level)
        || level
            .strip_prefix(b"trace")
            .is_some_and(|n| matches!(n, [b'1'..=b'8']))
}

/// `HH:MM:SS` with an optional fraction (`.389262`), as the time of day and its nanoseconds.
fn time_of_day(b: &[u8]) -> Option<(u32, u32, u32, u32)> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, s) = (digits(&b[..2])?, digits(&b[3..5])?, digits(&b[6..8])?);
    let nanos = match &b[8..] {
        [] => 0,
        [b'.', frac @ ..] if !frac.is_empty() && frac.len() <= 9 => {
            digits(frac)? * 10u32.pow(9 - frac.len() as u32)
        }
        _ => return None,
    };
    Some((h, m, s, nanos))
}

/// Reads the time between the brackets: `ctime` as Apache 2.2 and 2.4 write it
/// (`Tue Nov 24 03:04:39 2026`, `Tue Nov 24 03:04:39.334147 2026`), or the compact ISO form
/// of `%{cu}t` (`2026-11-24 03:04:39.334147`).
fn parse_time(b: &[u8]) -> Option<NaiveDateTime> {
    // At most five fields, kept on the stack: this runs for every candidate line.
    let mut fields: [&[u8]; 5] = [&[]; 5];
    let mut n = 0;
    for field in b.split(|&c| c == b' ').filter(|f| !f.is_empty()) {
        *fields.get_mut(n)? = field;
        n += 1;
    }
    let (date, tod) = match &fields[..n] {
        [wday, mon, day, tod, year] => {
            if wday.len() != 3 || !wday.iter().all(u8::is_ascii_alphabetic) || year.len() != 4 {
                return None;
            }
            let date = NaiveDate::from_ymd_opt(digits(year)? as i32, month(mon)?, digits(day)?)?;
            (date, *tod)
        }
        [ymd, tod] => {
            if ymd.len() != 10 || ymd[4] != b'-' || ymd[7] != b'-' {
                return None;
            }
            let date = NaiveDate::from_ymd_opt(
                digits(&ymd[..4])? as i32,
                digits(&ymd[5..7])?,
                digits(&ymd[8..])?,
            )?;
            (date, *tod)
        }
        _ => return None,
    };
    let (h, m, s, nanos) = time_of_day(tod)?;
    date.and_hms_nano_opt(h, m, s, nanos)
}

/// Splits `[inner] rest` (one space after the bracket, or the end of the line).
fn bracket(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let inner = s.strip_prefix(b"[")?;
    let close = memchr::memchr(b']', inner)?;
    let rest = &inner[close + 1..];
    let rest = match rest.strip_prefix(b" ") {
        Some(r) => r,
        None if rest.is_empty() => rest,
        None => return None,
    };
    Some((&inner[..close], rest))
}

/// Reads a `[client X] ` / `[remote X] ` tag at the start of `s`: X is the text up to the
/// first space, less the closing bracket (so `[client [2001:db8::1]:443]` keeps its inner
/// brackets).
fn client_tag(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = s
        .strip_prefix(b"[client ")
        .or_else(|| s.strip_prefix(b"[remote "))?;
    let end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
    let token = rest[..end].strip_suffix(b"]")?;
    if token.is_empty() {
        return None;
    }
    Some((token, rest.get(end + 1..).unwrap_or(b"")))
}

/// Splits an Apache error-log line into its parts; `None` for a line of another shape.
pub fn parse_line(line: &[u8]) -> Option<ErrorLine<'_>> {
    let line = line.trim_ascii_end();
    let (time, rest) = bracket(line)?;
    parse_after_time(parse_time(time)?, rest)
}

/// Reads an Apache error-log line that went through syslog (`ErrorLog syslog:...`):
/// `Feb 15 16:23:00 srv httpd[22034]: [authz_core:error] [pid 22034] [client ...] ...`, where
/// the syslog timestamp replaces Apache's (`reference` gives the year) and the tag is Apache's
/// (`apache2`, `httpd`, or `httpd/<name>` as `syslog:facility:name` sets it).
pub fn parse_syslog_line(line: &[u8], reference: NaiveDateTime) -> Option<ErrorLine<'_>> {
    let line = line.trim_ascii_end();
    let l = syslog::split_as(syslog::layout_of(line)?, line, reference)?;
    if !(l.program.starts_with(b"apache") || l.program.starts_with(b"httpd")) {
        return None;
    }
    parse_after_time(l.time, l.message)
}

/// The rest of a line after its time: `[module:level] [pid ...] [client ...] message`.
fn parse_after_time(time: NaiveDateTime, rest: &[u8]) -> Option<ErrorLine<'_>> {
    let (field, mut rest) = bracket(rest)?;
    let (module, level) = match memchr::memchr(b':', field) {
        Some(colon) => {
            let module = &field[..colon];
            if !module
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            {
                return None;
            }
            (Some(module), &field[colon + 1..])
        }
        None => (None, field),
    };
    if !is_level(level) {
        return None;
    }
    if rest.starts_with(b"[pid ") {
        let (pid, r) = bracket(rest)?;
        let pid = &pid[4..];
        let ok = match memchr::memchr(b':', pid) {
            Some(colon) => {
                digits(&pid[..colon]).is_some()
                    && pid[colon + 1..]
                        .strip_prefix(b"tid ")
                        .and_then(number_u64)
                        .is_some()
            }
            None => digits(pid).is_some(),
        };
        if !ok {
            return None;
        }
        rest = r;
    }
    let mut clients = [None, None];
    for slot in &mut clients {
        match client_tag(rest) {
            Some((token, r)) => {
                *slot = Some(token);
                rest = r;
            }
            None => break,
        }
    }
    Some(ErrorLine {
        time,
        module,
        level,
        clients,
        message: rest,
    })
}

/// A thread id (`tid 139985298601728`): larger than a `u32`.
fn number_u64(b: &[u8]) -> Option<u64> {
    digits_u64(b, 20)
}

/// Whether a line is an Apache error-log line (for detection).
pub fn looks_like(line: &[u8]) -> bool {
    parse_line(line).is_some()
}

/// Reads the address of a client tag. `[a]:p` is an IPv6 address in brackets; otherwise the
/// text is either an address or an address, a colon and a port. `with_port` says which is
/// expected when both readings are addresses (`2606:4700:4700::1111:0`); `like`, an address
/// the tag is known to hold (ModSecurity's own tag beside Apache's), decides first.
pub fn tag_address(token: &[u8], with_port: bool, like: Option<IpAddr>) -> Option<IpAddr> {
    if let Some(inner) = token.strip_prefix(b"[") {
        let close = memchr::memchr(b']', inner)?;
        let tail = &inner[close + 1..];
        if !(tail.is_empty() || tail.strip_prefix(b":").and_then(digits).is_some()) {
            return None;
        }
        return parse_ip(&inner[..close]);
    }
    // One colon is an IPv4 address and a port: no IPv6 address has fewer than two.
    let colons = memchr::memchr_iter(b':', token).take(2).count();
    let whole = if colons == 1 { None } else { parse_ip(token) };
    let stripped = memchr::memrchr(b':', token).and_then(|colon| {
        let port = &token[colon + 1..];
        (port.len() <= 5 && digits(port).is_some())
            .then(|| parse_ip(&token[..colon]))
            .flatten()
    });
    if let Some(like) = like {
        if let Some(ip) = [stripped, whole]
            .into_iter()
            .flatten()
            .find(|ip| *ip == like)
        {
            return Some(ip);
        }
    }
    if with_port {
        stripped.or(whole)
    } else {
        whole.or(stripped)
    }
}

/// Skips the `[name "value"]` (or `[name value]`) tags that old ModSecurity versions put
/// between `ModSecurity:` and the action, and white space.
fn skip_leading_tags(mut s: &[u8]) -> &[u8] {
    loop {
        s = s.trim_ascii_start();
        match tag_len(s) {
            Some(n) => s = &s[n..],
            None => return s,
        }
    }
}

/// The length of a `[name "value"]` / `[name value]` tag at the start of `s`. In a quoted
/// value, a quote closes it only after a number of backslashes that is a multiple of four:
/// ModSecurity writes an escaped quote `\"` and Apache doubles the backslash (`\\"`), while a
/// value ending in an escaped backslash reads `\\\\"`.
fn tag_len(s: &[u8]) -> Option<usize> {
    let rest = s.strip_prefix(b"[")?;
    let name = rest
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    if name == 0 || rest.get(name) != Some(&b' ') {
        return None;
    }
    let value = &rest[name + 1..];
    let used = if let Some(quoted) = value.strip_prefix(b"\"") {
        let mut backslashes = 0;
        let mut end = None;
        for (i, &b) in quoted.iter().enumerate() {
            if b == b'\\' {
                backslashes += 1;
                continue;
            }
            if b == b'"' && backslashes % 4 == 0 {
                end = Some(i);
                break;
            }
            backslashes = 0;
        }
        let end = end?;
        if quoted.get(end + 1) != Some(&b']') {
            return None;
        }
        1 + end + 2
    } else {
        let end = memchr::memchr(b']', value)?;
        if value[..end].iter().any(|&b| b == b'[' || b == b'"') {
            return None;
        }
        end + 1
    };
    Some(1 + name + 1 + used)
}

/// The message of ModSecurity's own lines cut where Apache appends the request's `Referer`,
/// which no one escapes.
fn without_referer(msg: &[u8]) -> &[u8] {
    static REFERER: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(b"\"], referer: "));
    match REFERER.find(msg) {
        Some(at) => &msg[..at + 2],
        None => msg,
    }
}

/// What a line says, when it is an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal<'a> {
    /// ModSecurity refused the request of `client` under the rule `rule` (`None`: not named);
    /// `peer` is Apache's tag when it names another address.
    Modsecurity {
        /// The address ModSecurity acted on (its own `[client X]`).
        client: IpAddr,
        /// Apache's tag, when it differs.
        peer: Option<IpAddr>,
        /// The rule id, as written.
        rule: Option<&'a [u8]>,
    },
    /// mod_evasive refused the request of `client`.
    ModEvasive {
        /// The address in Apache's tag.
        client: IpAddr,
    },
    /// Apache's access control (mod_authz_core `AH01630`, mod_access_compat `AH01797`)
    /// refused the request of `client`.
    Authz {
        /// The address in Apache's tag.
        client: IpAddr,
        /// The module that refused it (`authz_core`, `access_compat`).
        module: &'static str,
    },
}

/// The modules of Apache's access control, with the number of their refusal message.
const AUTHZ_REFUSALS: [(&str, &[u8]); 2] = [
    ("authz_core", b"AH01630: "),
    ("access_compat", b"AH01797: "),
];

/// The words of a refusal by access control (and by mod_evasive).
const DENIED: &[u8] = b"client denied by server configuration";

/// Reads what a parsed line says: `Ok(Some(_))` for a refusal, `Ok(None)` for any other line,
/// `Err(reason)` for a refusal whose client cannot be read.
pub fn refusal_of<'a>(l: &ErrorLine<'a>) -> Result<Option<Refusal<'a>>, String> {
    let module = l.module.unwrap_or(b"");
    if let Some(msg) = l.message.strip_prefix(b"ModSecurity:") {
        // ModSecurity's lines name it (`security2`), or no module at all (Apache 2.2, and
        // `[:error]` of builds without APLOG_USE_MODULE).
        if !(module.is_empty() || module == b"security2") {
            return Ok(None);
        }
        if refusal(skip_leading_tags(msg)) != Some(true) {
            return Ok(None);
        }
        let rule = rule_id_v2(without_referer(msg));
        let (client, peer) = modsecurity_client(l)?;
        return Ok(Some(Refusal::Modsecurity { client, peer, rule }));
    }
    for (name, number) in AUTHZ_REFUSALS {
        if module != name.as_bytes() {
            continue;
        }
        let refused = l
            .message
            .strip_prefix(number)
            .is_some_and(|m| m.starts_with(DENIED));
        if !refused {
            return Ok(None);
        }
        let [Some(tag), None] = l.clients else {
            return Err(format!("{name} refusal without one client tag"));
        };
        let client = tag_address(tag, true, None).ok_or_else(|| {
            format!(
                "{name} refusal of an unreadable client {}",
                shown(tag, MAX_QUOTE)
            )
        })?;
        return Ok(Some(Refusal::Authz {
            client,
            module: name,
        }));
    }
    if module.starts_with(b"evasive") {
        let msg = match l.message.strip_prefix(b"AH") {
            Some(r)
                if r.len() > 7 && r[..5].iter().all(u8::is_ascii_digit) && &r[5..7] == b": " =>
            {
                &r[7..]
            }
            _ => l.message,
        };
        if !msg.starts_with(DENIED) {
            return Ok(None);
        }
        let [Some(tag), None] = l.clients else {
            return Err("mod_evasive refusal without one client tag".into());
        };
        let client = tag_address(tag, true, None).ok_or_else(|| {
            format!(
                "mod_evasive refusal of an unreadable client {}",
                shown(tag, MAX_QUOTE)
            )
        })?;
        return Ok(Some(Refusal::ModEvasive { client }));
    }
    Ok(None)
}

/// The address of a ModSecurity refusal and, when Apache's tag names another, that address.
fn modsecurity_client(l: &ErrorLine<'_>) -> Result<(IpAddr, Option<IpAddr>), String> {
    let unreadable = |tag: &[u8]| {
        format!(
            "ModSecurity refusal of an unreadable client {}",
            shown(tag, MAX_QUOTE)
        )
    };
    // Apache 2.4 (a module field) puts the port in its tag; 2.2 writes ModSecurity's tag only.
    let apache_port = l.module.is_some();
    match l.clients {
        [Some(first), Some(second)] => {
            let own = tag_address(second, false, None).ok_or_else(|| unreadable(second))?;
            let apache =
                tag_address(first, apache_port, Some(own)).ok_or_else(|| unreadable(first))?;
            if apache == own {
                Ok((own, None))
            } else if l.module == Some(b"security2") {
                Ok((own, Some(apache)))
            } else {
                // With no module named, a script's message could carry the second tag.
                Err(format!(
                    "ModSecurity line whose client tags disagree ({apache} and {own})"
                ))
            }
        }
        [Some(only), None] => {
            let ip = tag_address(only, apache_port, None).ok_or_else(|| unreadable(only))?;
            Ok((ip, None))
        }
        _ => Err("ModSecurity refusal without a client tag".into()),
    }
}

/// Decides whether a file is an Apache error log: at least half of its first lines (comment
/// lines `#` and blank lines aside) have the shape of one. (Not all: Apache writes what went
/// to its standard error, such as `AH00016: Configuration Failed`, into the same file.)
pub fn detect(_path: &Path, head: &[u8]) -> Option<Format> {
    let (mut hits, mut total) = (0, 0);
    for line in head::log_lines(head) {
        total += 1;
        hits += usize::from(looks_like(line));
    }
    (hits > 0 && hits * 2 >= total).then_some(Format::ApacheError)
}

/// The line parser of Apache error logs.
pub struct ApacheErrorParser {
    path: Arc<Path>,
    reference: NaiveDateTime,
}

impl ApacheErrorParser {
    /// A parser for one file.
    pub fn new(ctx: &ParseCtx) -> Self {
        ApacheErrorParser {
            path: ctx.path.clone(),
            reference: ctx.reference,
        }
    }
}

/// The words of ModSecurity's lines and the refusals (mod_evasive, access control): a line
/// holding none is no refusal.
static WORDS: LazyLock<Prefilter> =
    LazyLock::new(|| Prefilter::new(&["ModSecurity:", "client denied"]));

impl LineParser for ApacheErrorParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        // Cheap reject: only ModSecurity's lines and the refusals (mod_evasive, access control).
        if !WORDS.matches(line) {
            return;
        }
        let Some(l) = parse_line(line).or_else(|| parse_syslog_line(line, self.reference)) else {
            return;
        };
        let refusal = match refusal_of(&l) {
            Ok(None) => return,
            Err(message) => {
                sink.malformed(lineno, message);
                return;
            }
            Ok(Some(refusal)) => refusal,
        };
        let (net, tool, peer) = match refusal {
            Refusal::Modsecurity { client, peer, .. } => (client, Tool::Modsecurity, peer),
            Refusal::ModEvasive { client } => (client, Tool::ModEvasive, None),
            Refusal::Authz { client, .. } => (client, Tool::ApacheDeny, None),
        };
        // The scope's text is made only for an event that is kept (see `Sink::entry`).
        let scope = || match refusal {
            Refusal::Modsecurity { rule, .. } => rule.map_or_else(
                || UNKNOWN_RULE.to_string(),
                |id| String::from_utf8_lossy(id).into_owned(),
            ),
            Refusal::ModEvasive { .. } => MOD_EVASIVE_SCOPE.to_string(),
            Refusal::Authz { module, .. } => module.to_string(),
        };
        let net = host_net(net);
        let mut build = || {
            BanEvent::new(
                net,
                tool,
                Format::ApacheError,
                scope(),
                Action::Deny,
                Location::new(self.path.clone(), lineno),
            )
            .at(l.time)
            .peer(peer)
        };
        // An event with a peer is evidence of restored addresses whatever its address.
        match peer {
            None => sink.entry(net, tool, &mut build),
            Some(_) => sink.event(build()),
        }
    }
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// Apache's error log (ModSecurity, mod_evasive and access-control denials).
    pub const ApacheError: Format = Format::builtin(9, "apache-error");
}

/// The Apache error log's descriptor.
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::new(
    Format::ApacheError,
    &[Tool::Modsecurity, Tool::ModEvasive, Tool::ApacheDeny],
    "Apache error log: ModSecurity Access denied, mod_evasive and access-control denials",
    |ctx| Box::new(ApacheErrorParser::new(ctx)),
)
.usual_paths(&["/var/log/apache2/error.log", "/var/log/httpd/error_log"])
.detected_by(&[Detection::text(330, |path, head| {
    detect(path, head).is_some()
})])
.searched_for(|| &WORDS);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::{addr_tool_scope, run_lines, Collect};

    fn run(text: &str) -> Collect {
        run_lines(Format::ApacheError, "error.log", text)
    }

    fn seen(text: &str) -> Vec<(String, Tool, String)> {
        addr_tool_scope(&run(text))
    }

    #[test]
    fn apache_24_with_remoteip_and_ipv6_ports() {
        let got = seen(concat!(
            r#"[Tue Nov 24 03:04:39.352114 2026] [security2:error] [pid 14920:tid 14932] [client 2606:4700:4700::1111:0] [client 2606:4700:4700::1111] ModSecurity: Access denied with code 403 (phase 1). String match "/wp-login.php" at REQUEST_URI. [file "/etc/modsecurity/modsec-rules.conf"] [line "11"] [id "200001"] [msg "Blocked WordPress login probe"] [hostname "127.0.0.1"] [uri "/wp-login.php"] [unique_id "awT-x1yPaHSWVd4rknlj4gAAAAo"]"#,
            "\n",
            "[Tue Nov 24 03:05:00.474737 2026] [evasive20:error] [pid 15074:tid 15087] [client 2400:cb00:2048:1::c629:d7a2:0] client denied by server configuration: /var/www/html/xmlrpc.php\n",
        ));
        assert_eq!(
            got,
            vec![
                (
                    "2606:4700:4700::1111".into(),
                    Tool::Modsecurity,
                    "200001".into()
                ),
                (
                    "2400:cb00:2048:1::c629:d7a2".into(),
                    Tool::ModEvasive,
                    "mod_evasive".into()
                ),
            ]
        );
    }

    #[test]
    fn apache_22_and_old_tag_order() {
        let got = seen(concat!(
            r#"[Mon Dec 23 13:12:31 2013] [error] [client 104.16.0.3] ModSecurity:  [file "/etc/httpd/modsecurity.d/activated_rules/modsecurity_crs_21_protocol_anomalies.conf"] [line "47"] [id "960015"] [rev "1"] [msg "Request Missing an Accept Header"] [severity "NOTICE"] [tag "WASCTC/WASC-21"][tag "OWASP_TOP_10/A7"] Access denied with code 403 (phase 2). Operator EQ matched 0 at REQUEST_HEADERS. [hostname "www.mysite.net"] [uri "/"] [unique_id "Urf@f12qgHIAACrFOlgAAABA"]"#,
            "\n",
            r#"[Sat Sep 28 09:18:06 2018] [error] [client 104.16.0.4:55555] [client 104.16.0.4] ModSecurity: [file "/etc/httpd/modsecurity.d/10_asl_rules.conf"] [line "635"] [id "340069"] [rev "4"] [msg "Atomicorp.com \\"quoted\\" Rules"] [severity "CRITICAL"] Access denied with code 403 (phase 2). Pattern match "x" at REQUEST_URI. [hostname "h"] [uri "/"]"#,
            "\n",
        ));
        assert_eq!(
            got,
            vec![
                ("104.16.0.3".into(), Tool::Modsecurity, "960015".into()),
                ("104.16.0.4".into(), Tool::Modsecurity, "340069".into()),
            ]
        );
    }

    #[test]
    fn warnings_allows_and_other_modules_are_not_refusals() {
        let got = seen(concat!(
            r#"[Thu Sep 30 13:27:06.010022 2021] [:error] [pid 2560:tid 140496349419264] [client 104.16.0.5:37752] [client 104.16.0.5] ModSecurity: Warning. Pattern match "Access denied with code 403" at ARGS:a. [id "930100"]"#,
            "\n",
            r#"[Thu Sep 30 13:27:06.010022 2021] [security2:error] [pid 2560] [client 104.16.0.5:37752] [client 104.16.0.5] ModSecurity: Access allowed (phase 1). [id "1"]"#,
            "\n",
            "[Thu Sep 30 13:27:06 2021] [error] [client 104.16.0.6] client denied by server configuration: /var/www/html/.git\n",
            "[Thu Sep 30 13:27:06.010022 2021] [authz_core:error] [pid 2560] [client 104.16.0.6:1] AH01797: client denied by server configuration: /var/www/html/.git\n",
            "[Thu Sep 30 13:27:06.010022 2021] [php:error] [pid 2560] [client 104.16.0.6:1] AH01630: client denied by server configuration: /var/www/html/.git\n",
            "[Thu Sep 30 13:27:06.010022 2021] [authz_core:error] [pid 2560] [client 104.16.0.6:1] AH01631: user x: authorization failure for \"/\": \n",
            r#"[Thu Sep 30 13:27:06.010022 2021] [php:notice] [pid 2560] [client 198.51.100.9:4242] [client 104.16.0.7] ModSecurity: Access denied with code 403 (phase 2). [id "1"]"#,
            "\n",
        ));
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn access_control_refusals_ipv4_and_ipv6() {
        let got = seen(concat!(
            "[Thu Dec 03 14:36:37.574612 2026] [authz_core:error] [pid 7119:tid 7130] [client 104.16.9.9:60656] AH01630: client denied by server configuration: /tmp/webrules/www/members/\n",
            "[Thu Dec 03 14:36:37.652635 2026] [authz_core:error] [pid 7119:tid 7132] [client 2606:4700:10::9:52984] AH01630: client denied by server configuration: /tmp/webrules/www/members/\n",
            "[Thu Dec 03 14:36:37.773469 2026] [access_compat:error] [pid 7119:tid 7134] [client 172.64.9.9:47480] AH01797: client denied by server configuration: /tmp/webrules/www/old/\n",
            "[Thu Dec 03 14:36:37.854309 2026] [access_compat:error] [pid 7119:tid 7136] [client 2606:4700:10::a:35198] AH01797: client denied by server configuration: /tmp/webrules/www/old/, referer: http://x/\n",
            "[Thu Dec 03 14:36:37.854309 2026] [authz_core:error] [pid 7119:tid 7136] [client [2606:4700:10::b]:443] AH01630: client denied by server configuration: /x\n",
            "Feb 15 16:23:00 srv httpd[22034]: [authz_core:error] [pid 22034] [client 104.16.9.11:58585] AH01630: client denied by server configuration: /home/www/\n",
        ));
        assert_eq!(
            got,
            vec![
                ("104.16.9.9".into(), Tool::ApacheDeny, "authz_core".into()),
                (
                    "2606:4700:10::9".into(),
                    Tool::ApacheDeny,
                    "authz_core".into()
                ),
                (
                    "172.64.9.9".into(),
                    Tool::ApacheDeny,
                    "access_compat".into()
                ),
                (
                    "2606:4700:10::a".into(),
                    Tool::ApacheDeny,
                    "access_compat".into()
                ),
                (
                    "2606:4700:10::b".into(),
                    Tool::ApacheDeny,
                    "authz_core".into()
                ),
                ("104.16.9.11".into(), Tool::ApacheDeny, "authz_core".into()),
            ]
        );
        let c = run("[Thu Dec 03 14:36:37.574612 2026] [authz_core:error] [pid 7119:tid 7130] AH01630: client denied by server configuration: /x\n");
        assert!(c.events.is_empty());
        assert_eq!(c.malformed.len(), 1, "{:?}", c.malformed);
        assert!(c.events.iter().all(|e| e.action == Action::Deny));
    }

    #[test]
    fn forged_second_tag_without_module_is_refused() {
        let c = run(concat!(
            r#"[Thu Sep 30 13:27:06 2021] [error] [client 198.51.100.9] [client 104.16.0.8] ModSecurity: Access denied with code 403 (phase 2). [id "1"]"#,
            "\n"
        ));
        assert!(c.events.is_empty());
        assert_eq!(c.malformed.len(), 1);
    }

    #[test]
    fn referer_and_data_cannot_name_the_rule() {
        let got = seen(concat!(
            r#"[Tue Nov 24 03:04:39.341574 2026] [security2:error] [pid 1:tid 2] [client 172.68.10.20:0] [client 172.68.10.20] ModSecurity: Access denied with code 403 (phase 2). Pattern match "x" at ARGS:id. [file "/r.conf"] [line "12"] [id "200002"] [msg "SQL"] [data "Matched [id \\"7\\"]"] [hostname "127.0.0.1"] [uri "/[id \\"8\\"]"] [unique_id "u"], referer: http://x/[id "9"]"#,
            "\n"
        ));
        assert_eq!(
            got,
            vec![("172.68.10.20".into(), Tool::Modsecurity, "200002".into())]
        );
    }

    #[test]
    fn peer_when_the_tags_differ_under_security2() {
        let c = run(concat!(
            r#"[Tue Nov 24 03:04:39.341574 2026] [security2:error] [pid 1] [remote 104.16.0.9:0] [client 198.51.100.10] ModSecurity: Access denied with connection close (phase 2). [id "5"]"#,
            "\n"
        ));
        let e = &c.events[0];
        assert_eq!(e.net.addr().to_string(), "198.51.100.10");
        assert_eq!(e.peer.map(|p| p.to_string()).as_deref(), Some("104.16.0.9"));
    }

    #[test]
    fn unreadable_client_is_malformed() {
        let c = run("[Tue Nov 24 03:04:39.341574 2026] [security2:error] [pid 1] ModSecurity: Access denied with code 403 (phase 2).\n[Tue Nov 24 03:04:39 2026] [evasive20:error] [pid 1] [client nope:0] client denied by server configuration: /x\n");
        assert!(c.events.is_empty());
        assert_eq!(c.malformed.len(), 2, "{:?}", c.malformed);
    }

    #[test]
    fn through_syslog() {
        let got = seen(concat!(
            "Feb 15 16:23:00 srv httpd[22034]: [evasive20:error] [pid 22034] [client 104.16.0.30:58585] client denied by server configuration: /home/www/\n",
            "Feb 15 16:23:01 srv apache2[22034]: [security2:error] [pid 22034:tid 5] [client 104.16.0.31:0] [client 104.16.0.31] ModSecurity: Access denied with code 403 (phase 1). [id \"7\"]\n",
            "Feb 15 16:23:02 srv php[22034]: [security2:error] [pid 22034:tid 5] [client 104.16.0.32:0] [client 104.16.0.32] ModSecurity: Access denied with code 403 (phase 1). [id \"7\"]\n",
        ));
        assert_eq!(
            got,
            vec![
                ("104.16.0.30".into(), Tool::ModEvasive, "mod_evasive".into()),
                ("104.16.0.31".into(), Tool::Modsecurity, "7".into()),
            ]
        );
    }

    #[test]
    fn times() {
        let l = parse_line(b"[2026-11-24 03:04:39.334147] [core:info] [pid 1] x").unwrap();
        assert_eq!(l.time.to_string(), "2026-11-24 03:04:39.334147");
        let l = parse_line(b"[Tue Nov  3 03:04:39 2026] [notice] x").unwrap();
        assert_eq!(l.time.to_string(), "2026-11-03 03:04:39");
        assert!(parse_line(b"[Tue Nov 31 03:04:39 2026] [notice] x").is_none());
        assert!(parse_line(b"[Tue Nov 24 03:04:39 2026] [loud] x").is_none());
    }

    #[test]
    fn detection_is_strict() {
        let p = Path::new("x");
        assert!(detect(
            p,
            b"# failJSON: {}\n[Mon Dec 23 13:12:31 2013] [error] [client 1.2.3.4] x\n\n"
        )
        .is_some());
        assert!(detect(p, b"[24-Nov-2026 03:04:39] WARNING: [pool www] child 1\n").is_none());
        assert!(detect(p, b"hello\nhello\n[Mon Dec 23 13:12:31 2013] [error] x\n").is_none());
        assert!(detect(
            p,
            b"AH00016: Configuration Failed\n[Mon Dec 23 13:12:31 2013] [error] x\n"
        )
        .is_some());
        // A cut last line does not count against the file.
        assert!(detect(p, b"[Mon Dec 23 13:12:31 2013] [error] x\n[Mon Dec 23 13:1").is_some());
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn parse_line() {
        use crate::formats::apache_error::parse_line;
        let l = parse_line(b"[Tue Nov 24 03:05:00.467900 2026] [evasive20:error] [pid 15074:tid 15085] [client 162.159.36.1:0] client denied by server configuration: /var/www/html/xmlrpc.php").unwrap();
        assert_eq!(l.module, Some(&b"evasive20"[..]));
        assert_eq!(l.clients[0], Some(&b"162.159.36.1:0"[..]));
        assert!(l.message.starts_with(b"client denied"));
        let l = parse_line(
            b"[Mon Dec 23 13:12:31 2013] [error] [client 198.51.100.1] ModSecurity: Warning.",
        )
        .unwrap();
        assert_eq!((l.module, l.level), (None, &b"error"[..]));
        assert!(
            parse_line(b"2026/11/24 03:03:22 [error] 14412#14412: *1 limiting connections")
                .is_none()
        );
    }

    #[test]
    fn parse_syslog_line() {
        use crate::formats::apache_error::parse_syslog_line;
        use chrono::NaiveDate;
        let reference = NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let l = parse_syslog_line(b"Feb 15 16:23:00 srv httpd[22034]: [evasive20:error] [pid 22034] [client 192.0.2.1:58585] client denied by server configuration: /home/www/", reference).unwrap();
        assert_eq!(
            (l.time.to_string().as_str(), l.module),
            ("2026-02-15 16:23:00", Some(&b"evasive20"[..]))
        );
        assert!(parse_syslog_line(
            b"Feb 15 16:23:00 srv php[1]: [security2:error] [client 104.16.0.1] ModSecurity: x",
            reference
        )
        .is_none());
    }

    #[test]
    fn tag_address() {
        use crate::formats::apache_error::tag_address;
        let v6 = tag_address(b"2606:4700:4700::1111:0", true, None).unwrap();
        assert_eq!(v6.to_string(), "2606:4700:4700::1111");
        assert_eq!(
            tag_address(b"2606:4700:4700::1111:0", false, None)
                .unwrap()
                .to_string(),
            "2606:4700:4700::1111:0"
        );
        assert_eq!(
            tag_address(b"104.21.33.4:0", false, None)
                .unwrap()
                .to_string(),
            "104.21.33.4"
        );
        assert_eq!(
            tag_address(b"[2001:db8::1]:443", true, None)
                .unwrap()
                .to_string(),
            "2001:db8::1"
        );
    }

    #[test]
    fn refusal_of() {
        use crate::formats::apache_error::{parse_line, refusal_of, Refusal};
        let l = parse_line(br#"[Sat May 09 00:35:52.389262 2020] [:error] [pid 22406:tid 139985298601728] [client 104.16.0.2:47762] [client 104.16.0.2] ModSecurity: Access denied with code 401 (phase 2). Operator EQ matched 1 at IP:blocked. [file "/etc/httpd/modsecurity.d/activated_rules/modsecurity_wp_login.conf"] [line "14"] [id "500000"] [msg "Ip address blocked"] [hostname "example.com"] [uri "/wp-login.php"] [unique_id "XrYlGL5IY3I@EoLOgAAAA8"], referer: https://example.com/[id "1"]"#).unwrap();
        let Ok(Some(Refusal::Modsecurity { client, peer, rule })) = refusal_of(&l) else {
            panic!()
        };
        assert_eq!(
            (client.to_string(), peer, rule),
            ("104.16.0.2".into(), None, Some(&b"500000"[..]))
        );
    }

    #[test]
    fn detect() {
        use crate::formats::{apache_error, Format};
        use std::path::Path;
        let head = b"[Tue Nov 24 03:04:32.958327 2026] [security2:notice] [pid 14917:tid 14917] ModSecurity for Apache/2.9.7 (http://www.modsecurity.org/) configured.\n";
        assert_eq!(
            apache_error::detect(Path::new("/var/log/x"), head),
            Some(Format::ApacheError)
        );
        assert_eq!(
            apache_error::detect(Path::new("/var/log/x"), b"[Tue] hello\n"),
            None
        );
    }
}
