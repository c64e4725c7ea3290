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
//!
//! [`Action::Deny`]: crate::event::Action::Deny

mod index;
mod sections;
mod serial;

use super::registry::{Detection, FormatDescriptor};
use crate::event::Tool;
use std::path::Path;

use super::Format;

pub use index::{parse_index_line, IndexParser};
pub use sections::parse_boundary;
#[cfg(test)]
pub use sections::parse_section_a;
pub use serial::AuditLogParser;

/// The first lines of a file's first bytes, for detection.
fn head_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take(200)
}

/// Decides whether a file is a native audit log (a part boundary among its first lines) or a
/// concurrent index (its first line reads as one).
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
        let head = b"--622ca252-A--\n[01/May/2018:08:05:00 +0200] WugN3pjbflCiqw4yEJ3nggAAAAk 172.16.0.2 22387 192.168.0.1 80\n";
        assert_eq!(
            modsec_audit::detect(Path::new("/var/log/x"), head),
            Some(Format::ModsecAudit)
        );
    }
}
