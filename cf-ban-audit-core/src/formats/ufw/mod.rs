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

mod rules;
mod status;

use super::registry::{Detection, FormatDescriptor};
use std::path::Path;
use std::sync::Arc;

use super::grammar::head;
use super::Format;
use crate::event::{Action, BanEvent, Location, Tool};

#[cfg(test)]
pub use rules::parse_tuple;
pub use rules::RulesParser;
pub use status::StatusParser;

/// The longest comment kept as a scope, in characters.
const MAX_SCOPE: usize = 200;

/// Decides whether a file is ufw's: `user.rules`/`user6.rules` (by name with ufw content, or
/// by content: `*filter` and `### RULES ###`), or saved `ufw status` / `ufw show added`
/// output. Backups (`user.rules.<something>`, see [`is_backup_name`]) are detected as
/// [`Format::UfwRules`] and not read.
pub fn detect(path: &Path, head: &[u8]) -> Option<Format> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let has = |needle: &[u8]| memchr::memmem::find(head, needle).is_some();
    let first = head::lines(head).next();
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

/// Decodes a ufw comment (the hex of its UTF-8 text, as in `comment=...` of a tuple) the way
/// ufw does: an odd last digit is dropped and invalid UTF-8 is replaced. `None` when the text
/// is not hex.
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
    BanEvent::new(
        net,
        Tool::Ufw,
        format,
        scope,
        Action::Listed,
        Location::new(path.clone(), line),
    )
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// ufw `user.rules` / `user6.rules`.
    pub const UfwRules: Format = Format::builtin(21, "ufw-rules");
    /// Saved `ufw status` output.
    pub const UfwStatus: Format = Format::builtin(22, "ufw-status");
}

/// `user.rules`.
pub(crate) const RULES: FormatDescriptor = FormatDescriptor::new(
    Format::UfwRules,
    &[Tool::Ufw],
    "ufw user.rules tuples (deny/reject)",
    |ctx| Box::new(RulesParser::new(ctx)),
)
.usual_paths(&["/etc/ufw/user.rules", "/etc/ufw/user6.rules"])
.detected_by(&[Detection::text(280, |path, head| {
    detect(path, head) == Some(Format::UfwRules)
})]);

/// `ufw status`.
pub(crate) const STATUS: FormatDescriptor = FormatDescriptor::new(
    Format::UfwStatus,
    &[Tool::Ufw],
    "ufw status output (DENY/REJECT rows)",
    |ctx| Box::new(StatusParser::new(ctx)),
)
.usual_paths(&["(saved output of ufw status)"])
.detected_by(&[Detection::text(280, |path, head| {
    detect(path, head) == Some(Format::UfwStatus)
})]);

#[cfg(test)]
mod tests;

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn detect() {
        use crate::formats::{ufw, Format};
        use std::path::Path;
        let rules = b"*filter\n:ufw-user-input - [0:0]\n### RULES ###\n\n### tuple ### deny any any 0.0.0.0/0 any 104.16.0.1 in\n";
        assert_eq!(
            ufw::detect(Path::new("/etc/ufw/user.rules"), rules),
            Some(Format::UfwRules)
        );
        assert_eq!(
            ufw::detect(Path::new("/tmp/saved"), rules),
            Some(Format::UfwRules)
        );
        assert_eq!(
            ufw::detect(Path::new("/etc/ufw/user.rules.20261124_030731"), rules),
            Some(Format::UfwRules)
        );
        let status = b"Status: active\n\nTo                         Action      From\n";
        assert_eq!(
            ufw::detect(Path::new("status.txt"), status),
            Some(Format::UfwStatus)
        );
        assert_eq!(
            ufw::detect(
                Path::new("notes.txt"),
                b"*filter\n-A INPUT -j DROP\nCOMMIT\n"
            ),
            None
        );
    }

    #[test]
    fn is_backup_name() {
        use crate::formats::ufw::is_backup_name;
        assert!(is_backup_name("user.rules.20261124_030731"));
        assert!(is_backup_name("user6.rules~"));
        assert!(!is_backup_name("user.rules"));
    }

    #[test]
    fn decode_comment() {
        use crate::formats::ufw::decode_comment;
        let hex =
            b"6279204661696c3242616e206166746572203520617474656d70747320616761696e73742073736864";
        assert_eq!(
            decode_comment(hex).unwrap(),
            "by Fail2Ban after 5 attempts against sshd"
        );
        assert_eq!(decode_comment(b"zz"), None);
    }
}
