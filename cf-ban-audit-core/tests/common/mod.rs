//! Helpers shared by the integration tests: where the fixtures and the shared corpus are, and
//! the rule for tests that need something the machine may not have.

#![allow(dead_code)]

pub mod my_waf;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cf_ban_audit_core::{BanState, Format, RangeSet, Report, Tool};

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

/// Prints `SKIP: notice` on standard error past the test harness's capture (it captures
/// `eprintln!` only), so that `cargo test` shows every skipped check without `--nocapture`.
pub fn skip(notice: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "SKIP: {notice}");
}

/// Skips (returns `None` with a printed notice) when something the test needs is missing,
/// and fails instead when running in CI.
pub fn need<T>(what: Option<T>, notice: &str) -> Option<T> {
    if what.is_none() {
        if in_ci() {
            panic!("required in CI: {notice}");
        }
        skip(notice);
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

/// One item of a finding's evidence, with the tool and scope its source named (the
/// `f2b-sshd` chain of iptables for a fail2ban ban in jail `sshd`).
#[derive(Debug, Clone)]
pub struct Source {
    pub tool: Tool,
    pub scope: String,
    pub address: String,
    pub format: Format,
    pub file: String,
    pub state: BanState,
    /// The state of the finding the source is evidence of.
    pub finding_state: BanState,
}

/// Every source of every finding.
pub fn sources(report: &Report) -> Vec<Source> {
    report
        .findings
        .iter()
        .flat_map(|f| {
            f.evidence.iter().map(move |e| {
                let (tool, scope) = match e.object.as_deref().and_then(|o| o.split_once(' ')) {
                    Some((tool, scope)) => (Tool::from_name(tool).unwrap(), scope.to_string()),
                    None => (f.tool, f.scope.clone()),
                };
                Source {
                    tool,
                    scope,
                    address: f.address_text(),
                    format: e.format,
                    file: e
                        .location
                        .path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    state: e.state,
                    finding_state: f.state,
                }
            })
        })
        .collect()
}

/// (scope, address) as the sources of one tool named them, optionally of findings with a ban
/// read from one file.
pub fn found(report: &Report, tool: Tool, file: Option<&str>) -> BTreeSet<(String, String)> {
    let in_file = |address: &str| {
        file.is_none_or(|name| {
            report.findings.iter().any(|f| {
                f.address_text() == address
                    && f.locations
                        .iter()
                        .any(|l| l.path.file_name().is_some_and(|n| n == name))
            })
        })
    };
    sources(report)
        .into_iter()
        .filter(|s| s.tool == tool && in_file(&s.address))
        .map(|s| (s.scope, s.address))
        .collect()
}

/// A program in `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else if path.is_file() {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}
