//! cf-ban-audit finds the bans that security tools on an origin server put on Cloudflare's edge
//! addresses (the cause of Cloudflare's Error 521 for whole regions), and writes the allow and
//! ignore snippets that stop them.
//!
//! The library reads logs, databases and ban lists, keeps Cloudflare's ranges as a
//! [`RangeSet`] ([`cloudflare`]), joins the two into a [`Report`] of findings ([`Scanner`],
//! or [`Scanner::scan_with`] to be told of each file and finding as the scan goes), and writes
//! snippets ([`snippet::Target`]), checks existing allow lists ([`check`]), diagnoses a 521
//! ([`doctor::Doctor`]) and probes an origin from outside, as a Cloudflare edge would
//! ([`probe::OriginProbe`]). It never prints and never exits: errors are values naming their file,
//! and the exit status is the caller's to decide.
//!
//! The formats it reads are data: [`formats::BUILTIN`] lists one
//! [`FormatDescriptor`](formats::FormatDescriptor) per format, and [`Scanner::format`] adds one
//! of the embedder's own.
//!
//! ```
//! use cf_ban_audit_core::{cloudflare, BanState, Scanner};
//!
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(
//!     dir.path().join("fail2ban.log"),
//!     "2026-11-24 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 172.64.155.20\n",
//! ).unwrap();
//!
//! let report = Scanner::new(cloudflare::embedded()).path(dir.path()).scan();
//! assert_eq!(report.findings.len(), 1);
//! let finding = &report.findings[0];
//! let (address, range) = (finding.address_text(), finding.range.to_string());
//! assert_eq!((address.as_str(), range.as_str()), ("172.64.155.20", "172.64.0.0/13"));
//! // One log line: a ban, but nothing says how long it lasts, and no current source (the
//! // database, `fail2ban-client` output, a live read) confirms it: possibly in force.
//! assert_eq!((finding.scope.as_str(), finding.state), ("sshd", BanState::Unconfirmed));
//! assert_eq!(finding.lift.as_deref().unwrap(), ["fail2ban-client", "set", "sshd", "unbanip", "172.64.155.20"]);
//! ```
#![deny(missing_docs)]

mod addr;
mod audit;
pub mod check;
mod cloud;
pub mod cloudflare;
mod decompress;
mod diagnose;
pub mod doctor;
mod error;
mod event;
mod fail2ban_jails;
mod firewall;
pub mod fix;
mod format_id;
pub mod formats;
mod lift;
mod lines;
mod live;
mod open;
pub mod probe;
mod purpose;
mod ranges;
mod report;
mod scan;
mod scan_paths;
mod scan_queue;
pub mod snippet;

mod verdict;
pub mod web_evidence;

pub use addr::parse_net;
pub use decompress::MIN_EXPANSION_CAP;
pub use error::Error;
pub use event::{Action, BanEvent, Location, Tool, MAX_SPEC};
pub use format_id::Format;
pub use lift::{shell_word, shell_words};
pub use lines::MAX_LINE;
pub use purpose::Purpose;
pub use ranges::RangeSet;
pub use report::{rfc3339, rfc3339_seconds};
pub use report::{
    Authority, BanState, Diagnosis, DiagnosisKind, ErrorEntry, Evidence, FileStats, Finding,
    MalformedLine, RangesInfo, Report, ReportSink, MAX_MALFORMED_SAMPLES, REPORT_VERSION,
};
pub use scan::{existing_default_paths, ProgressFn, Scanner, CHUNK_MIN, DEFAULT_PATHS};

/// Prints `SKIP: notice` on standard error past the test harness's capture, so that `cargo
/// test` shows a unit test's skipped check without `--nocapture`.
#[cfg(test)]
pub(crate) fn test_skip(notice: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "SKIP: {notice}");
}
