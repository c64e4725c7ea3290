//! `scan -`: every format that is not a database reads the same from standard input as from
//! its file, since the readers see only bytes and the scanner opens everything (csf's
//! `Include` targets included).

use std::path::Path;

use cf_ban_audit_core::{cloudflare, Report, Scanner};

fn fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

/// (address, scope) of every finding, sorted.
fn found(report: &Report) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = report
        .findings
        .iter()
        .map(|f| (f.address_text(), f.scope.clone()))
        .collect();
    v.sort();
    v
}

fn from_stdin(bytes: Vec<u8>) -> Report {
    let now = "2026-11-24T12:00:00".parse().unwrap();
    Scanner::new(cloudflare::embedded())
        .now(now)
        .stdin_bytes(bytes)
        .scan()
}

fn from_file(path: &Path) -> Report {
    let now = "2026-11-24T12:00:00".parse().unwrap();
    Scanner::new(cloudflare::embedded())
        .now(now)
        .path(path)
        .scan()
}

#[test]
fn csf_deny_follows_its_includes_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let extra = dir.path().join("extra.deny");
    std::fs::copy(fixture("csf/extra.deny"), &extra).unwrap();
    // On standard input a relative Include has no directory to resolve against: name the
    // included file by its absolute path.
    let deny = std::fs::read_to_string(fixture("csf/csf.deny"))
        .unwrap()
        .replace(
            "Include extra.deny",
            &format!("Include {}", extra.display()),
        );
    let report = from_stdin(deny.clone().into_bytes());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let got = found(&report);
    assert!(
        got.contains(&("188.114.97.3".into(), "csf.deny".into())),
        "the included file's ban is found: {got:?}"
    );
    let on_disk = dir.path().join("csf.deny");
    std::fs::write(&on_disk, deny).unwrap();
    assert_eq!(got, found(&from_file(&on_disk)));
    assert_eq!(got.len(), 5);
}

#[test]
fn nft_json_reads_whole_from_standard_input() {
    let path = fixture("nftables/crowdsec-ruleset.json");
    let report = from_stdin(std::fs::read(&path).unwrap());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let got = found(&report);
    // The bouncer's set is CrowdSec's: with no decision of its own in sight, the finding is
    // CrowdSec's, named after the set.
    assert!(got.contains(&(
        "104.16.5.5".into(),
        "nftables crowdsec/crowdsec-blacklists-CAPI".into()
    )));
    assert_eq!(report.files[0].format.name(), "nftables-json");
    assert_eq!(got, found(&from_file(&path)));
}

#[test]
fn mod_evasive_syslog_lines_read_from_standard_input() {
    let path = fixture("mod_evasive/syslog");
    let report = from_stdin(std::fs::read(&path).unwrap());
    let got = found(&report);
    assert!(got.iter().any(|(a, _)| a == "104.16.5.6"), "{got:?}");
    assert!(
        !got.iter().any(|(a, _)| a == "104.16.0.1"),
        "forged line: {got:?}"
    );
    assert_eq!(got, found(&from_file(&path)));
}

#[test]
fn a_database_on_standard_input_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fail2ban.sqlite3");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE fail2banDb(version INTEGER);")
        .unwrap();
    let report = from_stdin(std::fs::read(&path).unwrap());
    // Nothing tells it apart without its name: skipped, never misread as text.
    assert!(report.findings.is_empty());
    assert_eq!(report.skipped_files, 1);
}
