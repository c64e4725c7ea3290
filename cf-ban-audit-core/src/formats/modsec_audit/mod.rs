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
//! section H (`SecAuditLogParts` without `H`) say nothing of the verdict and give no events,
//! and neither does an entry cut short inside a body section.
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
//! structure. A header with another id (its A boundary, then a section A line) outside body
//! sections starts the next entry: the one before was cut short (counted as malformed). Inside
//! C, E, I, J and K it may be body text, a forged entry, or the next entry after one cut inside
//! its body: the entries it starts are held back until the interrupted entry's own id comes
//! back (they were its body: dropped) or does not (it was cut: they are real). A serial log
//! that starts inside an entry (after `copytruncate`) drops that entry, counted as malformed,
//! and resyncs only on a boundary of that entry's own id (serial.rs says how). Detection needs
//! the same structure ([`detect`]), never one line. In section H, attacker text appears inside a message (matched values, argument names, the
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
//!
//! [`Action::Deny`]: crate::event::Action::Deny

mod index;
mod sections;
mod serial;

use super::grammar::time::starts_log_record;
use super::registry::{Detection, FormatDescriptor};
use crate::event::Tool;
use std::path::Path;

use super::Format;

pub use index::{parse_index_line, IndexParser};
pub use sections::parse_boundary;
#[cfg(test)]
pub use sections::parse_section_a;
pub use serial::AuditLogParser;

/// The first lines of a file's first bytes, for detection, without a last line that the end of
/// the head may have cut.
fn head_lines(head: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take(200)
        .collect();
    if lines.len() > 1 && !head.ends_with(b"\n") && lines.len() < 200 {
        lines.pop();
    }
    lines
}

/// The boundary a line is, if it is one.
fn boundary(line: &[u8]) -> Option<sections::Boundary<'_>> {
    line.starts_with(b"--")
        .then(|| parse_boundary(line))
        .flatten()
}

/// Whether `lines[at]` is an entry header: an A boundary, then section A's line.
fn is_header(lines: &[&[u8]], at: usize) -> bool {
    boundary(lines[at]).is_some_and(|b| b.part == b'A')
        && lines
            .get(at + 1)
            .is_some_and(|l| sections::parse_section_a(l).is_some())
}

/// The order ModSecurity writes the parts of an entry in: v2 (`sec_audit_logger_native` in
/// apache2/msc_logging.c) writes the response headers (F) before the response body (E) and
/// the uploads (J) and matched rules (K) after the trailer (H); libmodsecurity
/// (`Transaction::toOldAuditLogFormat`) writes them in the order of the alphabet.
const WRITE_ORDERS: [&[u8]; 2] = [b"ABCIFEHJKZ", b"ABCDEFGHIJKZ"];

/// Whether part `next` may follow part `part` in an entry, in either writer's order.
fn follows(part: u8, next: u8) -> bool {
    WRITE_ORDERS.iter().any(|order| {
        let at = |p: u8| order.iter().position(|&c| c == p);
        matches!((at(part), at(next)), (Some(a), Some(b)) if b > a)
    })
}

/// Whether the sections that follow the boundary `lines[at]` keep to an entry's structure, as
/// far as the head goes: at least `more` further boundaries of its own id, parts in the order
/// ModSecurity writes them up to its `Z`, and no boundary of another id outside its body
/// sections.
fn sections_in_order(lines: &[&[u8]], at: usize, more: usize) -> bool {
    let Some(own) = boundary(lines[at]) else {
        return false;
    };
    let (mut part, mut sections) = (own.part, 0);
    for line in &lines[at + 1..] {
        let Some(b) = boundary(line) else {
            continue;
        };
        if b.id == own.id && b.dialect == own.dialect {
            if !follows(part, b.part) {
                return false;
            }
            part = b.part;
            sections += 1;
            if part == b'Z' {
                break;
            }
        } else if !serial::is_body(part) {
            return false;
        }
    }
    sections >= more
}

/// Whether the entry whose header is `lines[at]` has the structure of one: section A, then at
/// least one more section of its own id, in order.
fn entry_in_order(lines: &[&[u8]], at: usize) -> bool {
    is_header(lines, at) && sections_in_order(lines, at, 1)
}

/// Decides whether a file is a native audit log or a concurrent index (its first line reads as
/// one).
///
/// A native audit log is told by its structure, never by one line. It starts with an entry
/// header (an A boundary at the start of a line, then section A's `[time] id client port
/// server port`) followed by further sections of the same boundary id in the order
/// ModSecurity writes them, and no boundary of another id outside a body section. Or, as a
/// serial log after `copytruncate`, it starts with the rest of an entry that began before it
/// (at one of its boundaries, or inside a section whose content comes before its first
/// boundary), whose boundaries share one id and come in order up to its `Z`, and then a whole
/// entry as above. A header right after content is body text, and a file whose first line
/// starts a record of another log (nginx's or Apache's error log, syslog, an `asctime` log) is
/// never an audit log: a request for `/x%0A--deadbeef-A--%0A...` writes boundary-shaped lines
/// into nginx's error log, but always inside one of nginx's own records, which the head is
/// mostly made of.
pub fn detect(_path: &Path, head: &[u8]) -> Option<Format> {
    let lines = head_lines(head);
    let first = lines.iter().position(|l| !l.trim_ascii().is_empty())?;
    if parse_index_line(lines[first]).is_some() {
        return Some(Format::ModsecAuditIndex);
    }
    let opens = boundary(lines[first]).is_some();
    if !opens && starts_log_record(lines[first]) {
        return None;
    }
    let audit = if opens {
        if boundary(lines[first]).is_some_and(|b| b.part == b'A') {
            // The file starts with a header, and that entry's sections follow in order.
            entry_in_order(&lines, first)
        } else {
            rest_in_order(&lines, first)
        }
    } else {
        // The file starts inside a section: headers before the entry's first boundary of its
        // own, and the entries they start, are body text.
        let mut body_entry: Option<sections::Boundary<'_>> = None;
        let own = (first..lines.len()).find(|&i| match boundary(lines[i]) {
            Some(b) if b.part == b'A' => {
                body_entry = Some(b);
                false
            }
            Some(b) => !body_entry.is_some_and(|e| e.id == b.id && e.dialect == b.dialect),
            None => false,
        });
        own.is_some_and(|at| rest_in_order(&lines, at))
    };
    audit.then_some(Format::ModsecAudit)
}

/// Whether the rest of an entry that began before the file, from its boundary `lines[at]`,
/// keeps to an entry's structure up to its `Z`, and the next boundary after it, if the head
/// reaches one, is the header of a whole entry in order.
fn rest_in_order(lines: &[&[u8]], at: usize) -> bool {
    let Some(own) = boundary(lines[at]) else {
        return false;
    };
    if !sections_in_order(lines, at, 0) {
        return false;
    }
    let end = (at..lines.len()).find(|&i| {
        boundary(lines[i])
            .is_some_and(|b| b.id == own.id && b.dialect == own.dialect && b.part == b'Z')
    });
    let next = end.and_then(|z| (z + 1..lines.len()).find(|&i| boundary(lines[i]).is_some()));
    next.is_none_or(|h| entry_in_order(lines, h))
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// ModSecurity native audit log: v2 (`--xxxxxxxx-A--`) and v3 (`---xxxxxxxx---A--`) serial
    /// logs, and the per-transaction files of the concurrent mode.
    pub const ModsecAudit: Format = Format::builtin(6, "modsec-audit");
    /// The index of ModSecurity's concurrent audit log (one line per transaction).
    pub const ModsecAuditIndex: Format = Format::builtin(7, "modsec-audit-index");
}

/// The native audit log.
pub(crate) const AUDIT: FormatDescriptor = FormatDescriptor::new(
    Format::ModsecAudit,
    &[Tool::Modsecurity],
    "ModSecurity native audit log, v2 and v3, serial and concurrent",
    |ctx| Box::new(AuditLogParser::new(ctx)),
)
.usual_paths(&[
    "/var/log/apache2/modsec_audit.log",
    "/var/log/httpd/modsec_audit.log",
    "/var/log/modsec_audit.log",
    "/var/log/nginx/modsec_audit.log",
    "/opt/modsecurity/var/audit",
])
.detected_by(&[Detection::text(200, |path, head| {
    detect(path, head) == Some(Format::ModsecAudit)
})]);

/// The concurrent audit log's index.
pub(crate) const INDEX: FormatDescriptor = FormatDescriptor::new(
    Format::ModsecAuditIndex,
    &[Tool::Modsecurity],
    "ModSecurity concurrent audit index",
    |_| Box::new(IndexParser),
)
.usual_paths(&["/var/log/apache2/modsec_audit.log (concurrent mode)"])
.detected_by(&[Detection::text(200, |path, head| {
    detect(path, head) == Some(Format::ModsecAuditIndex)
})]);

#[cfg(test)]
mod tests;

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn detect() {
        use crate::formats::{modsec_audit, Format};
        use std::path::Path;
        let head = b"--622ca252-A--\n[01/May/2018:08:05:00 +0200] WugN3pjbflCiqw4yEJ3nggAAAAk 172.16.0.2 22387 192.168.0.1 80\n--622ca252-B--\nGET / HTTP/1.1\n\n--622ca252-H--\n";
        assert_eq!(
            modsec_audit::detect(Path::new("/var/log/x"), head),
            Some(Format::ModsecAudit)
        );
        // Boundaries that a request put into nginx's error log (its decoded `%0A`): inside one
        // of nginx's records, never an audit log.
        let nginx = b"2026/11/24 06:50:39 [error] 10220#10220: *2 open() \"/var/www/html/x\n--622ca252-A--\n[01/May/2018:08:05:00 +0200] X 104.16.0.1 1 127.0.0.1 80\n--622ca252-H--\n\" failed (2: No such file or directory), client: 192.0.2.80\n";
        assert_eq!(modsec_audit::detect(Path::new("/var/log/x"), nginx), None);
    }
}
