//! Conformance of the mod_evasive readers over the files the real mod_evasive 1.10.1 wrote
//! (`generated/mod_evasive/`, ground truth in `generated/README.md`): its syslog lines and its
//! DOSLogDir lock files. (Its Apache error-log lines are read by the Apache error-log parser
//! and checked with it.) There is no btwaf corpus: btwaf is checked on `fixtures/btwaf/`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cf_ban_audit_core::{cloudflare, Format, Report, Scanner, Tool};
use chrono::NaiveDateTime;

fn now() -> NaiveDateTime {
    "2026-11-24T12:00:00".parse().unwrap()
}

fn scan(path: &Path) -> Report {
    Scanner::new(cloudflare::embedded())
        .path(path)
        .now(now())
        .scan()
}

/// The (scope, address) pairs of the mod_evasive findings read from `format`.
fn found(report: &Report, format: Format) -> BTreeSet<(String, String)> {
    common::sources(report)
        .into_iter()
        .filter(|s| s.tool == Tool::ModEvasive && s.format == format)
        .map(|s| (s.scope, s.address))
        .collect()
}

fn pairs(addresses: &[&str]) -> BTreeSet<(String, String)> {
    addresses
        .iter()
        .map(|a| ("mod_evasive".to_string(), a.to_string()))
        .collect()
}

/// Checks that every file was read, as `format`, without errors.
fn read_cleanly(report: &Report, files: &[PathBuf], format: Format) {
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    for file in files {
        let stats = report
            .files
            .iter()
            .find(|s| Path::new(&s.path) == file)
            .unwrap_or_else(|| panic!("{} was not read: {:#?}", file.display(), report.files));
        assert_eq!(stats.format, format, "{}", file.display());
        assert_eq!(stats.malformed, 0, "{}", file.display());
        assert!(stats.events > 0, "{}", file.display());
    }
}

/// The Cloudflare addresses blacklisted in `netns-direct/` (generated/README.md).
const NETNS_CF: &[&str] = &[
    "104.16.5.6",
    "172.70.1.2",
    "2606:4700:8d9b::1",
    "2a06:98c0:3600::200",
];

/// Every address blacklisted in `netns-direct/`, with the documentation ones.
const NETNS_ALL: &[&str] = &[
    "104.16.5.6",
    "172.70.1.2",
    "2606:4700:8d9b::1",
    "2a06:98c0:3600::200",
    "192.0.2.55",
    "203.0.113.99",
];

#[test]
fn netns_direct_syslog_holds_the_blacklisted_cloudflare_addresses() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let file = corpus.join("generated/mod_evasive/netns-direct/syslog-mod_evasive.log");
    let report = scan(&file);
    read_cleanly(&report, std::slice::from_ref(&file), Format::Syslog);
    assert_eq!(found(&report, Format::Syslog), pairs(NETNS_CF));
    // Blacklisted at 03:05, for 10 s: long over at noon.
    assert!(
        report.findings.iter().all(|f| !f.active),
        "{:#?}",
        report.findings
    );
    // One event a line: the six addresses, documentation ones included.
    assert_eq!(report.files[0].events, NETNS_ALL.len() as u64);
}

#[test]
fn netns_direct_lock_files_are_the_blacklisted_addresses() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("generated/mod_evasive/netns-direct/dos");
    let files: Vec<PathBuf> = NETNS_ALL
        .iter()
        .map(|a| dir.join(format!("dos-{a}")))
        .collect();
    let report = scan(&dir);
    read_cleanly(&report, &files, Format::ModEvasiveLock);
    assert_eq!(report.files.len(), NETNS_ALL.len());
    assert_eq!(found(&report, Format::ModEvasiveLock), pairs(NETNS_CF));
    // mod_evasive never removes its lock files: they stand while they exist.
    assert!(
        report.findings.iter().all(|f| f.active),
        "{:#?}",
        report.findings
    );
}

#[test]
fn loopback_remoteip_blacklisted_only_loopback() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("generated/mod_evasive/loopback-remoteip");
    let syslog = dir.join("syslog-mod_evasive.log");
    let lock = dir.join("dos-127.0.0.1");
    let report = scan(&syslog);
    read_cleanly(&report, std::slice::from_ref(&syslog), Format::Syslog);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    let report = scan(&lock);
    read_cleanly(&report, std::slice::from_ref(&lock), Format::ModEvasiveLock);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    // The whole folder: mod_evasive blacklisted no Cloudflare address there, whatever the
    // access log (with Cloudflare clients that were served) says.
    let report = scan(&dir);
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert!(
        found(&report, Format::Syslog).is_empty()
            && found(&report, Format::ModEvasiveLock).is_empty(),
        "{:#?}",
        report.findings
    );
}

#[test]
fn the_whole_mod_evasive_tree() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let report = scan(&corpus.join("generated/mod_evasive"));
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert_eq!(found(&report, Format::Syslog), pairs(NETNS_CF));
    assert_eq!(found(&report, Format::ModEvasiveLock), pairs(NETNS_CF));
    let peers: BTreeSet<String> = report
        .findings
        .iter()
        .filter(|f| f.tool == Tool::ModEvasive)
        .map(|f| f.address_text())
        .collect();
    // 162.158.9.9 sent one request and was served (access.log only).
    assert!(!peers.contains("162.158.9.9"), "{peers:?}");
}

/// The btwaf fixtures, read as their formats and without errors; their findings are checked
/// by `tests/fixtures.rs`.
#[test]
fn btwaf_fixtures_are_detected_and_read() {
    let dir = common::fixtures().join("btwaf");
    for (file, format, malformed) in [
        ("drop_ip.log", Format::BtwafDropIp, 3),
        (
            "wwwlogs/btwaf/example.com_2026-11-23.log",
            Format::BtwafSiteLog,
            2,
        ),
        ("totla_db.db", Format::BtwafDb, 1),
    ] {
        let path = dir.join(file);
        let report = scan(&path);
        assert!(report.errors.is_empty(), "{file}: {:#?}", report.errors);
        assert_eq!(report.files.len(), 1, "{file}");
        assert_eq!(report.files[0].format, format, "{file}");
        assert_eq!(report.files[0].malformed, malformed, "{file}");
        assert!(
            report.findings.iter().all(|f| f.tool == Tool::Btwaf),
            "{file}"
        );
    }
}
