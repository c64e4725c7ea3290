//! Helpers shared by the integration tests: where the fixtures and the shared corpus are, and
//! the rule for tests that need something the machine may not have.

#![allow(dead_code)]

pub mod my_waf;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cf_ban_audit_core::{RangeSet, Report, Tool};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The bundled fixtures.
pub fn fixtures() -> PathBuf {
    root().join("fixtures")
}

/// Whether this run is CI, where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// Skips (returns `None` with a printed notice) when something the test needs is missing,
/// and fails instead when running in CI.
pub fn need<T>(what: Option<T>, notice: &str) -> Option<T> {
    if what.is_none() {
        if in_ci() {
            panic!("required in CI: {notice}");
        }
        eprintln!("SKIP: {notice}");
    }
    what
}

/// The shared conformance corpus (`../shared/corpus` beside the checkout, or
/// `$CF_BAN_AUDIT_CORPUS`), if present.
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("CF_BAN_AUDIT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("..").join("shared").join("corpus"));
    need(
        dir.is_dir().then_some(dir),
        "the shared corpus (../shared/corpus) is absent",
    )
}

/// Every address: a range set under which every ban is a finding.
pub fn everything() -> RangeSet {
    ["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()]
        .into_iter()
        .collect()
}

/// (scope, address) pairs, as the tests write their expectations.
pub fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(s, a)| (s.to_string(), a.to_string()))
        .collect()
}

/// (scope, address) of the findings of one tool, optionally of one file.
pub fn found(report: &Report, tool: Tool, file: Option<&str>) -> BTreeSet<(String, String)> {
    report
        .findings
        .iter()
        .filter(|f| f.tool == tool)
        .filter(|f| {
            file.is_none_or(|name| {
                f.locations
                    .iter()
                    .any(|l| l.path.file_name().is_some_and(|n| n == name))
            })
        })
        .map(|f| (f.scope.clone(), f.address_text()))
        .collect()
}
