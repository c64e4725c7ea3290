//! Conformance of the CrowdSec and web server configuration readers over the shared corpus:
//! the output of the real CrowdSec 1.4.6 in `generated/crowdsec/` against its ground truth
//! (`generated/README.md`, section "crowdsec/"), the CrowdSec Local API test files in
//! `crowdsec/`, and the whole corpus for detection that takes nothing else. Skipped with a
//! notice when the corpus is absent; required in CI.

mod common;

use common::everything;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cf_ban_audit_core::{cloudflare, Format, RangeSet, Report, Scanner, Tool};

/// The ban decisions of the real run that hit Cloudflare, by scope (the scenario, or the reason
/// given to `cscli decisions add`), per generated/README.md. The captcha decision on
/// 172.64.33.2 is not among them: it is a challenge ([`CAPTCHA`]).
const MANUAL: &[(&str, &str)] = &[
    ("manual: wp-login brute force", "104.16.1.10"),
    ("manual: scanner", "2606:4700:3033::6815:1a2b"),
    ("manual: range test", "162.158.0.0/15"),
    ("manual: v6 range test", "2400:cb00::/32"),
    ("manual: scope/value form", "2a06:98c0::/29"),
];
/// The captcha decision of the real run: a finding whose state is `challenge` while it stands
/// (bouncers without a captcha provider ban instead), scoped apart from bans.
const CAPTCHA: &[(&str, &str)] = &[("manual: captcha test (captcha)", "172.64.33.2")];
const SSH_BF: &[(&str, &str)] = &[
    ("crowdsecurity/ssh-bf", "104.26.10.78"),
    ("crowdsecurity/ssh-bf", "2a06:98c0:3600::7"),
];
const NGINX_REQ_LIMIT: &[(&str, &str)] = &[
    ("crowdsecurity/nginx-req-limit-exceeded", "104.17.96.13"),
    (
        "crowdsecurity/nginx-req-limit-exceeded",
        "2606:4700:4400::ac40:9b1d",
    ),
];

/// The Cloudflare decisions of the real run that last longer than six hours (24h and 12h).
const LONGER_THAN_6H: [&str; 3] = [
    "2606:4700:3033::6815:1a2b",
    "162.158.0.0/15",
    "2400:cb00::/32",
];

/// The addresses of the active findings.
fn active(report: &Report) -> BTreeSet<String> {
    report
        .findings
        .iter()
        .filter(|f| f.active)
        .map(|f| f.address_text())
        .collect()
}

fn set(parts: &[&[(&str, &str)]], suffix: &str) -> BTreeSet<(String, String)> {
    parts
        .iter()
        .flat_map(|p| p.iter())
        .map(|(scope, addr)| (format!("{scope}{suffix}"), addr.to_string()))
        .collect()
}

/// The (scope, address) pairs of CrowdSec findings, per file.
fn by_file(report: &Report) -> BTreeMap<String, BTreeSet<(String, String)>> {
    let mut out: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for f in report.findings.iter().filter(|f| f.tool == Tool::Crowdsec) {
        for loc in &f.locations {
            let name = loc.path.file_name().unwrap().to_string_lossy().into_owned();
            out.entry(name)
                .or_default()
                .insert((f.scope.clone(), f.address_text()));
        }
    }
    out
}

fn scan_each(dir: &Path, ranges: RangeSet) -> Report {
    Scanner::new(ranges).path(dir).threads(2).scan()
}

#[test]
fn generated_crowdsec_output_gives_exactly_the_banned_cloudflare_addresses() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("generated").join("crowdsec");
    let report = scan_each(&dir, cloudflare::embedded());
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    let got = by_file(&report);

    let all = set(&[MANUAL, CAPTCHA, SSH_BF, NGINX_REQ_LIMIT], "");
    let mut want: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    want.insert("cscli-decisions-list-raw.csv".into(), all.clone());
    // The Local API's log: one line per decision stored.
    want.insert("crowdsec.log".into(), all.clone());
    want.insert("cscli-decisions-list-raw-machines.csv".into(), all.clone());
    // The default (table) output of the same listing.
    want.insert("cscli-decisions-list-human.txt".into(), all);
    // Alert listings are history, marked as such in the scope.
    want.insert(
        "cscli-alerts-list-raw.csv".into(),
        set(&[MANUAL, SSH_BF, NGINX_REQ_LIMIT], " (alert)"),
    );
    want.insert(
        "cscli-decisions-list-origin-cscli.json".into(),
        set(&[MANUAL, CAPTCHA], ""),
    );
    want.insert(
        "cscli-decisions-list-ssh-bf.json".into(),
        set(&[SSH_BF], ""),
    );
    want.insert(
        "cscli-decisions-list-nginx-req-limit.json".into(),
        set(&[NGINX_REQ_LIMIT], ""),
    );
    // A query for an address inside a banned range returns the range decision.
    want.insert(
        "cscli-decisions-list-ip-162.158.12.34-raw.csv".into(),
        [(
            "manual: range test".to_string(),
            "162.158.0.0/15".to_string(),
        )]
        .into_iter()
        .collect(),
    );
    assert_eq!(got, want);

    // 172.66.0.5 failed only twice: never banned. 172.64.33.2 got a captcha, not a ban: a
    // challenge, never active (its alert in the alert listing is history, counted in a note).
    // 104.26.10.78 is in 104.24.0.0/14.
    assert!(report
        .findings
        .iter()
        .all(|f| f.address_text() != "172.66.0.5"));
    assert!(report
        .findings
        .iter()
        .filter(|f| f.address_text() == "172.64.33.2")
        .all(|f| !f.active && f.scope.ends_with(" (captcha)")));
    let alerts = report
        .files
        .iter()
        .find(|s| s.path.ends_with("cscli-alerts-list-raw.csv"))
        .unwrap();
    assert!(
        alerts
            .notes
            .iter()
            .any(|n| n.starts_with("1 alert(s) whose only decisions were captchas")),
        "{:?}",
        alerts.notes
    );
    let f = report
        .findings
        .iter()
        .find(|f| f.address_text() == "104.26.10.78")
        .unwrap();
    assert_eq!(f.range.to_string(), "104.24.0.0/14");

    // Every CrowdSec output is read, without a malformed line.
    let formats: BTreeMap<String, (Format, u64)> = report
        .files
        .iter()
        .map(|s| {
            let name = Path::new(&s.path)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, (s.format, s.malformed))
        })
        .collect();
    for (name, format) in [
        ("cscli-decisions-list-raw.csv", Format::CrowdsecCsv),
        ("cscli-decisions-list-raw-machines.csv", Format::CrowdsecCsv),
        ("cscli-alerts-list-raw.csv", Format::CrowdsecCsv),
        (
            "cscli-decisions-list-ip-162.158.12.34-raw.csv",
            Format::CrowdsecCsv,
        ),
        (
            "cscli-decisions-list-origin-cscli.json",
            Format::CrowdsecJson,
        ),
        ("cscli-decisions-list-ssh-bf.json", Format::CrowdsecJson),
        (
            "cscli-decisions-list-nginx-req-limit.json",
            Format::CrowdsecJson,
        ),
        ("crowdsec.log", Format::CrowdsecLog),
        ("cscli-decisions-list-human.txt", Format::CrowdsecTable),
    ] {
        assert_eq!(formats.get(name), Some(&(format, 0)), "{name}");
    }
}

/// CrowdSec's own log of the real run, read alone: exactly the 9 Cloudflare ban decisions of
/// the ground truth, each ending at its line's time plus its duration.
#[test]
fn generated_crowdsec_log_gives_exactly_the_banned_cloudflare_addresses() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let file = corpus
        .join("generated")
        .join("crowdsec")
        .join("crowdsec.log");
    // The decisions were stored at 03:09:23 (manual) and 03:10:00-03:10:03 (scenarios), log
    // time: six hours later only the 12h and 24h bans stand.
    let now: chrono::NaiveDateTime = "2026-11-24T09:30:00".parse().unwrap();
    let report = Scanner::new(cloudflare::embedded())
        .path(&file)
        .now(now)
        .scan();
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert_eq!(report.files.len(), 1, "{:#?}", report.files);
    let stats = &report.files[0];
    assert_eq!((stats.format, stats.malformed), (Format::CrowdsecLog, 0));

    let got: BTreeSet<(String, String)> = report
        .findings
        .iter()
        .map(|f| {
            assert_eq!(f.tool, Tool::Crowdsec);
            (f.scope.clone(), f.address_text())
        })
        .collect();
    assert_eq!(got, set(&[MANUAL, CAPTCHA, SSH_BF, NGINX_REQ_LIMIT], ""));
    assert_eq!(report.findings.len(), 10);
    // 172.64.33.2 got a 1h captcha at 03:09:23, not a ban: a challenge until 04:09:23, past
    // at 09:30. 172.66.0.5 was never banned.
    let captcha = report
        .findings
        .iter()
        .find(|f| f.address_text() == "172.64.33.2")
        .unwrap();
    assert_eq!(captcha.state, cf_ban_audit_core::BanState::Expired);
    let early = Scanner::new(cloudflare::embedded())
        .path(&file)
        .now("2026-11-24T04:00:00".parse().unwrap())
        .scan();
    let captcha = early
        .findings
        .iter()
        .find(|f| f.address_text() == "172.64.33.2")
        .unwrap();
    assert_eq!(
        (captcha.state, captcha.active),
        (cf_ban_audit_core::BanState::Challenge, false)
    );
    assert!(report
        .findings
        .iter()
        .all(|f| f.address_text() != "172.66.0.5"));
    let f = report
        .findings
        .iter()
        .find(|f| f.address_text() == "104.26.10.78")
        .unwrap();
    assert_eq!(f.range.to_string(), "104.24.0.0/14");
    assert_eq!(
        active(&report),
        LONGER_THAN_6H.into_iter().map(String::from).collect()
    );
}

#[test]
fn generated_crowdsec_decisions_are_active_until_they_expire() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let file = corpus
        .join("generated")
        .join("crowdsec")
        .join("cscli-decisions-list-raw.csv");
    // The listing was written at the file's modification time; the 24h decision outlives the
    // 4h ones and the captcha (1h).
    let written = std::fs::metadata(&file).unwrap().modified().unwrap();
    let written = chrono::DateTime::<chrono::Local>::from(written).naive_local();
    let report = Scanner::new(cloudflare::embedded())
        .path(&file)
        .now(written + chrono::TimeDelta::hours(6))
        .scan();
    assert_eq!(
        active(&report),
        LONGER_THAN_6H.into_iter().map(String::from).collect()
    );
}

#[test]
fn crowdsec_api_test_files_read_without_errors() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let report = scan_each(&corpus.join("crowdsec"), everything());
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    for s in &report.files {
        assert!(
            matches!(s.format, Format::CrowdsecJson | Format::CrowdsecCsv),
            "{} read as {}",
            s.path,
            s.format
        );
        assert_eq!(s.malformed, 0, "{}", s.path);
    }
    assert_eq!(report.files.len(), 10, "{:#?}", report.files);
    let got = by_file(&report);
    // Alerts whose decisions are null (decided later by the API's profiles) give nothing: the
    // alert's source is not a decision.
    for name in [
        "crowdsec-alert_allowlisted.json",
        "crowdsec-alert_bulk.json",
        "crowdsec-alert_minibulk.json",
        "crowdsec-alert_ssh-bf.json",
    ] {
        assert!(!got.contains_key(name), "{name}: {:?}", got.get(name));
    }
    let imported: BTreeSet<(String, String)> = [
        "1.6.11.16",
        "2.7.12.17",
        "3.8.13.18",
        "4.9.14.19",
        "5.10.15.20",
    ]
    .iter()
    .map(|ip| ("manual import from csv".to_string(), ip.to_string()))
    .collect();
    assert_eq!(got["crowdsec-decisions.csv"], imported);
    assert_eq!(got["crowdsec-decisions.json"], imported);
    let sample: BTreeSet<(String, String)> =
        [("crowdsecurity/test".to_string(), "127.0.0.1".to_string())]
            .into_iter()
            .collect();
    for name in [
        "crowdsec-alert_sample.json",
        "crowdsec-invalidAlert_sample.json",
    ] {
        assert_eq!(got[name], sample, "{name}");
    }
    let stream_fixture: BTreeSet<(String, String)> = [
        "crowdsecurity/ddos",
        "crowdsecurity/http_bf",
        "crowdsecurity/ssh_bf",
    ]
    .iter()
    .map(|s| (s.to_string(), "127.0.0.1".to_string()))
    .collect();
    assert_eq!(got["crowdsec-alert_stream_fixture.json"], stream_fixture);
}

#[test]
fn nothing_else_in_the_corpus_is_taken_for_crowdsec_or_web_server_configuration() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let report = scan_each(&corpus, everything());
    for s in &report.files {
        let path = s.path.replace('\\', "/");
        let crowdsec_dir = path.contains("/crowdsec/");
        match s.format {
            Format::CrowdsecJson
            | Format::CrowdsecCsv
            | Format::CrowdsecLog
            | Format::CrowdsecApiLog => {
                assert!(crowdsec_dir, "{path} taken for {}", s.format)
            }
            Format::NginxConf | Format::ApacheConf => panic!("{path} taken for {}", s.format),
            _ => {}
        }
    }
    let files: BTreeSet<&str> = report
        .files
        .iter()
        .filter(|s| matches!(s.format, Format::CrowdsecJson | Format::CrowdsecCsv))
        .map(|s| s.path.as_str())
        .collect();
    assert_eq!(files.len(), 17, "{files:#?}");
    let logs: Vec<&str> = report
        .files
        .iter()
        .filter(|s| s.format == Format::CrowdsecLog)
        .map(|s| s.path.as_str())
        .collect();
    assert_eq!(logs.len(), 1, "{logs:#?}");
    assert!(logs[0].ends_with("crowdsec.log"), "{logs:#?}");
}
