//! A plain list: one CIDR a line, for tools that read such files (fail2ban 1.1's
//! `ignoreip = file:...`, nginx `include`, `@ipMatchFromFile`, `RemoteIPTrustedProxyList`).

use std::fmt::Write;

use super::merge_list;
use crate::ranges::RangeSet;

/// One CIDR a line, IPv4 first.
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

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn generate() {
        let s = crate::snippet::plain::generate(&crate::cloudflare::embedded());
        assert_eq!(s.lines().count(), 22);
    }
}
