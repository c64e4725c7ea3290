//! Output for monitoring: node_exporter textfile metrics ([`prometheus()`]) and a
//! Nagios/Icinga plugin status line ([`nagios()`]).

pub mod nagios;
mod prometheus;

pub use nagios::nagios;
pub use prometheus::{parse_label, prometheus, PromOptions};

use cf_ban_audit_core::Report;

/// Lines of all files that looked like entries but could not be read.
pub fn malformed(report: &Report) -> u64 {
    report.files.iter().map(|f| f.malformed).sum()
}
