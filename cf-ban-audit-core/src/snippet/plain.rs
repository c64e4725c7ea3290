//! A plain list: one CIDR a line, for tools that read such files (fail2ban 1.1's
//! `ignoreip = file:...`, nginx `include`, `@ipMatchFromFile`, `RemoteIPTrustedProxyList`).

use std::fmt::Write;

use super::merge_list;
use crate::ranges::RangeSet;

/// One CIDR a line, IPv4 first.
///
/// ```
/// let s = cf_ban_audit_core::snippet::plain::generate(&cf_ban_audit_core::cloudflare::embedded());
/// assert_eq!(s.lines().count(), 22);
/// ```
pub fn generate(ranges: &RangeSet) -> String {
    let mut s = String::new();
    for net in ranges.nets() {
        let _ = writeln!(s, "{net}");
    }
    s
}

/// Merges the ranges into an existing list, keeping every line.
pub fn merge(existing: &str, ranges: &RangeSet) -> String {
    merge_list(
        existing,
        ranges,
        "",
        "# Cloudflare ranges added by cf-ban-audit",
    )
}
