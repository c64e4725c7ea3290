//! ModSecurity's message grammar, shared by the readers of its audit logs (native and JSON)
//! and of the web servers' error logs: whether a message reports a refusal, the rule id its
//! `[id "..."]` tags carry (exact in v2, best effort in v3, see [`rule_id_v3`]), the
//! `[client X]` of v2's copies of Apache error messages, and the [`Verdict`] an entry's
//! trailer gives. The address and the verdict never come from attacker text: the module docs
//! of [`modsec_audit`](crate::formats::modsec_audit) say how each piece is anchored.

use std::net::IpAddr;
use std::sync::LazyLock;

use chrono::NaiveDateTime;
use memchr::memmem::{Finder, FinderRev};

use super::num::digits;
use crate::addr::{host_net, parse_ip};
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::{Format, Sink};

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

/// Whether a ModSecurity message (the text after `Message: ` or `ModSecurity: `) reports a
/// disruptive action, and if so whether that action refused the request: `Some(true)` for
/// `Access denied with code N` (N ≥ 400, or `%d` as v3 writes it when it does not know) and
/// `Access denied with connection close`; `Some(false)` for other `Access denied` forms
/// (`with code 200` or `302`, redirections, proxying); `None` for everything else
/// (`Warning.`, `Access allowed`).
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
pub fn rule_id_v2(msg: &[u8]) -> Option<&[u8]> {
    static ID_TAG: LazyLock<FinderRev<'static>> = LazyLock::new(|| FinderRev::new(b"[id \""));
    ID_TAG
        .rfind_iter(msg)
        .find_map(|at| tag_value(msg, at, b"id"))
}

/// The rule id of a v3 message: the id of the first complete
/// `[file "..."] [line "N"] [id "N"]` run (libmodsecurity writes `_details` in that order after
/// the matched text; `-1`, a message without a rule, gives none).
pub fn rule_id_v3(msg: &[u8]) -> Option<&[u8]> {
    static FILE_TAG: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"[file \""));
    for at in FILE_TAG.find_iter(msg) {
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

/// The source file of ModSecurity 2's own error-log messages (`internal_log_ex`).
const MODSEC_SOURCE: &[u8] = b"apache2_util.c";

/// Whether an error message's `[file "..."]` tag names ModSecurity's logging code: the
/// file name, or a path ending in it, as `__FILE__` was given to the compiler.
fn from_modsecurity(em: &[u8]) -> bool {
    let Some(rest) = em.strip_prefix(b"[file \"") else {
        return false;
    };
    let Some(end) = memchr::memchr(b'"', rest) else {
        return false;
    };
    let file = &rest[..end];
    rest[end..].starts_with(b"\"] ")
        && file
            .strip_suffix(MODSEC_SOURCE)
            .is_some_and(|dir| dir.is_empty() || dir.ends_with(b"/"))
}

/// Reads v2's copy of an Apache error message (`Apache-Error:` lines in section H, and
/// `audit_data.error_messages` of the JSON format):
/// `[file "apache2_util.c"] [line 275] [level 3] [client 192.0.2.1] ModSecurity: <message>`.
/// Returns the client (Apache's `useragent_ip`, after mod_remoteip) and the message; messages
/// of other modules give `None`.
///
/// ModSecurity's `hook_error_log` (`apache2/mod_security2.c`) keeps every error message of
/// the request, from any module, and `format_error_log_message` writes it with
/// `log_escape_nq`, which leaves quotes and brackets alone. A script's own message (PHP's
/// `error_log()`, mod_lua's `r:err()`) can start with `[client X] ModSecurity: Access
/// denied ...`, so only messages whose `[file]` tag is ModSecurity's `apache2_util.c`
/// (`internal_log_ex`, which writes the `[client %s] ModSecurity: ` prefix) are read.
pub fn apache_error_client(em: &[u8]) -> Option<(IpAddr, &[u8])> {
    let mut rest = em.trim_ascii_start();
    if !from_modsecurity(rest) {
        return None;
    }
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
        let net = host_net(net);
        let mut build = || {
            let (scope, location) = (scope.clone(), location.clone());
            BanEvent::new(
                net,
                Tool::Modsecurity,
                format,
                scope,
                Action::Deny,
                location,
            )
            .at(time)
            .peer(peer)
        };
        // An event with a peer is evidence of restored addresses whatever its address.
        match peer {
            None => sink.entry(net, Tool::Modsecurity, &mut build),
            Some(_) => sink.event(build()),
        }
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn refusal() {
        use crate::formats::grammar::modsec::refusal;
        assert_eq!(
            refusal(b"Access denied with code 403 (phase 2). Pattern match"),
            Some(true)
        );
        assert_eq!(
            refusal(b"Access denied with redirection to https://x/ using status 302 (phase 2)."),
            Some(false)
        );
        assert_eq!(
            refusal(b"Warning. Pattern match \"Access denied with code 403\""),
            None
        );
    }

    #[test]
    fn rule_id_v2() {
        use crate::formats::grammar::modsec::rule_id_v2;
        let m = br#"Access denied with code 403 (phase 2). Pattern match "x" at ARGS:a [id "666"]. [file "/r.conf"] [line "46"] [id "300002"] [msg "SQLi"] [data "Matched ARGS:a [id \x22666\x22]"]"#;
        assert_eq!(rule_id_v2(m), Some(&b"300002"[..]));
    }

    #[test]
    fn rule_id_v3() {
        use crate::formats::grammar::modsec::rule_id_v3;
        let m = br#"Access denied with code 403 (phase 1). Matched "Operator `BeginsWith' with parameter `/wp-login.php' against variable `REQUEST_URI' (Value: `/wp-login.php' ) [file "/etc/nginx/modsec/modsec-common.conf"] [line "10"] [id "100001"] [rev ""] [msg "Blocked"]"#;
        assert_eq!(rule_id_v3(m), Some(&b"100001"[..]));
    }

    #[test]
    fn apache_error_client() {
        use crate::formats::grammar::modsec::apache_error_client;
        let (ip, msg) = apache_error_client(br#"[file "apache2_util.c"] [line 275] [level 3] [client 2606:4700:4700::1111] ModSecurity: Access denied with code 403 (phase 1)."#).unwrap();
        assert_eq!(ip.to_string(), "2606:4700:4700::1111");
        assert!(msg.starts_with(b"Access denied"));
        assert!(apache_error_client(br#"[file "mod_authz_core.c"] [line 879] [level 3] AH01630: client denied by server configuration: /x"#).is_none());
        // mod_lua's r:err() with the request's text
        assert!(apache_error_client(br#"[file "@/srv/hook.lua"] [line 3] [level 3] [client 104.16.0.1] ModSecurity: Access denied with code 403 (phase 2)."#).is_none());
    }
}
