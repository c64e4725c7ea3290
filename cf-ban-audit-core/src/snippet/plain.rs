//! A plain list: one CIDR a line, for tools that read such files (fail2ban 1.1's
//! `ignoreip = file:...`, csf's `Include`, `@ipMatchFromFile`, `RemoteIPTrustedProxyList`).
//!
//! An existing list is read as strictly as lfd reads `csf.ignore` (see [`super::csf`]), the
//! strictest of those readers: only the first whitespace-separated word of a line counts, and
//! a line containing `Include` counts for nothing, so every range ends up on a line each of
//! them loads.

use std::fmt::Write;

use super::csf::read_list;
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

/// The reader named in the warnings about lines of the list.
pub(crate) const READER: &str = "a list reader such as lfd";

/// Merges the ranges into an existing list, keeping every line.
pub fn merge(existing: &str, ranges: &RangeSet) -> String {
    merge_list(
        existing,
        &read_list(existing, READER),
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

    #[test]
    fn merge() {
        let cf = crate::cloudflare::embedded();
        let old = "103.22.200.0/22#x\n141.101.64.0/18 # Included by hand\n104.16.0.0/13\n";
        let merged = crate::snippet::plain::merge(old, &cf);
        assert!(merged.contains("\n103.22.200.0/22\n"), "{merged}");
        assert!(merged.contains("\n141.101.64.0/18\n"), "{merged}");
        assert!(
            !merged[old.len()..].contains("\n104.16.0.0/13\n"),
            "{merged}"
        );
        assert_eq!(crate::snippet::plain::merge(&merged, &cf), merged);
    }
}
