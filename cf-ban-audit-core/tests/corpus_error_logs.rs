//! Conformance of the Apache and nginx error-log readers over the shared corpus: the files the
//! real programs wrote (`generated/`, ground truth in `generated/README.md`) give exactly the
//! Cloudflare refusals listed there, and every error log of the corpus is recognised and read
//! without errors. Skipped with a notice when the corpus is absent; required in CI.

mod common;

use common::everything;

use std::collections::BTreeSet;
use std::path::Path;

use cf_ban_audit_core::{cloudflare, Format, RangeSet, Report, Scanner, Tool};

/// (tool, scope, address) of the findings.
type Triples = BTreeSet<(Tool, String, String)>;

fn scan(path: &Path, ranges: RangeSet) -> Report {
    let report = Scanner::new(ranges).path(path).scan();
    assert!(
        report.errors.is_empty(),
        "{}: {:#?}",
        path.display(),
        report.errors
    );
    report
}

fn triples(report: &Report) -> Triples {
    report
        .findings
        .iter()
        .map(|f| (f.tool, f.scope.clone(), f.address_text()))
        .collect()
}

fn want(list: &[(Tool, &str, &str)]) -> Triples {
    list.iter()
        .map(|(t, s, a)| (*t, s.to_string(), a.to_string()))
        .collect()
}

/// Scans one file with the Cloudflare ranges: it must be read as `format`, without errors,
/// giving exactly `expected`, none of them active (a refusal is no standing ban).
fn check(path: &Path, format: Format, expected: &[(Tool, &str, &str)]) {
    let report = scan(path, cloudflare::embedded());
    assert_eq!(report.files.len(), 1, "{}", path.display());
    assert_eq!(report.files[0].format, format, "{}", path.display());
    assert_eq!(triples(&report), want(expected), "{}", path.display());
    assert!(
        report.findings.iter().all(|f| !f.active),
        "{}",
        path.display()
    );
}

#[test]
fn modsecurity2_apache_error_log_gives_the_refused_cloudflare_clients() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("generated").join("modsecurity2-apache");
    use Tool::{ModEvasive, Modsecurity};
    check(
        &dir.join("modsec-error.log"),
        Format::ApacheError,
        &[
            (Modsecurity, "200001", "104.21.33.4"),
            (Modsecurity, "200005", "104.21.33.4"),
            (Modsecurity, "200002", "172.68.10.20"),
            // `[client 2606:4700:4700::1111:0]`: the `:0` is mod_remoteip's port.
            (Modsecurity, "200001", "2606:4700:4700::1111"),
            (Modsecurity, "200005", "2606:4700:4700::1111"),
            (Modsecurity, "200001", "173.245.60.33"),
            (Modsecurity, "200005", "173.245.60.33"),
            (Modsecurity, "200002", "2a06:98c0:3600::103"),
            (Modsecurity, "200003", "162.159.36.1"),
            (ModEvasive, "mod_evasive", "162.159.36.1"),
            (ModEvasive, "mod_evasive", "2400:cb00:2048:1::c629:d7a2"),
        ],
    );
    // Startup notices only.
    check(&dir.join("apache-main-error.log"), Format::ApacheError, &[]);
}

#[test]
fn modsecurity3_nginx_error_logs_give_the_denied_cloudflare_clients() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("generated").join("modsecurity3-nginx");
    use Tool::Modsecurity;
    check(
        &dir.join("error-modsec-json.log"),
        Format::NginxError,
        &[
            (Modsecurity, "100001", "104.16.1.10"),
            (Modsecurity, "100002", "172.64.33.2"),
            (Modsecurity, "100001", "2606:4700:3033::6815:1a2b"),
        ],
    );
    check(
        &dir.join("error-modsec-native.log"),
        Format::NginxError,
        &[
            (Modsecurity, "100001", "162.159.200.1"),
            (Modsecurity, "100002", "173.245.49.77"),
            (Modsecurity, "100001", "2400:cb00:2049:1::a29f:1804"),
            (Modsecurity, "100003", "2a06:98c0:3600::103"),
        ],
    );
}

#[test]
fn nginx_limit_error_logs_give_the_refused_cloudflare_clients_not_the_delayed() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("generated").join("nginx-limits");
    use Tool::NginxLimit;
    check(
        &dir.join("error-limits.log"),
        Format::NginxError,
        &[
            (NginxLimit, "perip_conn", "104.18.7.7"),
            (NginxLimit, "perip_conn", "2606:4700:10::6814:c00"),
            (NginxLimit, "perip_req", "172.67.140.9"),
            (NginxLimit, "perip_req", "2400:cb00:a0::1"),
        ],
    );
    check(
        &dir.join("error-limits-crowdsec-run.log"),
        Format::NginxError,
        &[
            (NginxLimit, "perip_req", "104.17.96.13"),
            (NginxLimit, "perip_req", "2606:4700:4400::ac40:9b1d"),
        ],
    );
    // Each refusal line is one event: 2 per limit_conn address, 3 (resp. 8) per limit_req
    // address, documentation addresses included; the delaying lines give none.
    let everything_report = scan(&dir.join("error-limits.log"), everything());
    let events: u64 = everything_report.findings.iter().map(|f| f.events).sum();
    assert_eq!(events, 3 * 2 + 4 * 3);
    let crowdsec_run = scan(&dir.join("error-limits-crowdsec-run.log"), everything());
    let events: u64 = crowdsec_run.findings.iter().map(|f| f.events).sum();
    assert_eq!(events, 3 * 8);
}

#[test]
fn mod_evasive_apache_error_logs() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("generated").join("mod_evasive");
    // Behind mod_remoteip the tag shows the restored documentation address.
    check(
        &dir.join("loopback-remoteip").join("evasive-error.log"),
        Format::ApacheError,
        &[],
    );
    use Tool::ModEvasive;
    check(
        &dir.join("netns-direct").join("error.log"),
        Format::ApacheError,
        &[
            (ModEvasive, "mod_evasive", "104.16.5.6"),
            (ModEvasive, "mod_evasive", "172.70.1.2"),
            (ModEvasive, "mod_evasive", "2606:4700:8d9b::1"),
            (ModEvasive, "mod_evasive", "2a06:98c0:3600::200"),
        ],
    );
}

/// Every address refused in a file, whatever its range: (tool, scope, address).
fn refused(path: &Path, format: Format) -> Triples {
    let report = scan(path, everything());
    assert_eq!(report.files.len(), 1, "{}", path.display());
    assert_eq!(report.files[0].format, format, "{}", path.display());
    triples(&report)
}

#[test]
fn public_error_log_samples_are_read() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    use Tool::{Modsecurity, NginxLimit};
    // fail2ban's filter samples, with their `# failJSON:` lines: every `match: true` line of
    // apache-modsecurity is a denial.
    assert_eq!(
        refused(
            &corpus.join("fail2ban/f2b-tests-logs-apache-modsecurity.log"),
            Format::ApacheError
        ),
        want(&[
            (Modsecurity, "960015", "173.255.225.101"),
            (Modsecurity, "340069", "32.65.254.69"),
            (Modsecurity, "340069", "192.0.2.1"),
            (Modsecurity, "500000", "192.0.2.2"),
        ])
    );
    // nginx-limit-req matches `delaying request` too; those are not refusals.
    assert_eq!(
        refused(
            &corpus.join("fail2ban/f2b-tests-logs-nginx-limit-req.log"),
            Format::NginxError
        ),
        want(&[
            (NginxLimit, "one", "1.2.3.4"),
            (NginxLimit, "one", "192.0.2.0"),
            (NginxLimit, "one", "13.123.1.123"),
            (NginxLimit, "one", "2001:db8::80da:af6b:8b2c"),
            (NginxLimit, "conn_limit", "128.199.22.141"),
            (NginxLimit, "conn_limit", "162.240.161.123"),
            (NginxLimit, "one", "192.0.2.2"),
        ])
    );
    assert_eq!(
        refused(
            &corpus.join("cc/hub-nginx-limit-req-errorlog.log"),
            Format::NginxError
        ),
        want(&[
            (NginxLimit, "default_root_zone", "::1"),
            (NginxLimit, "nodos_med_tier1", "192.168.1.1"),
        ])
    );
    // CrowdSec hub samples: the Warning lines are not denials.
    assert_eq!(
        refused(
            &corpus.join("modsecurity/hub-modsecurity-logs-apache-errorlog.log"),
            Format::ApacheError
        ),
        want(&[
            (Modsecurity, "949110", "::1"),
            (Modsecurity, "949110", "192.168.1.1"),
        ])
    );
    assert_eq!(
        refused(
            &corpus.join("modsecurity/hub-modsecurity-logs-nginx-errorlog.log"),
            Format::NginxError
        ),
        want(&[
            (Modsecurity, "949110", "161.97.102.240"),
            (Modsecurity, "955003", "1.1.1.1"),
        ])
    );
    assert_eq!(
        refused(
            &corpus.join("modsecurity/hub-modsecurity-nginx-errorlog.log"),
            Format::NginxError
        ),
        want(&[])
    );
}
