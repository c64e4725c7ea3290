//! Conformance over the shared corpus (`../shared/corpus`): real files from public projects and
//! output of the real programs with its ground truth (`generated/README.md`). Skipped with a
//! notice when the corpus is absent; required in CI.

mod common;

use common::everything;

use std::collections::BTreeSet;

use cf_ban_audit_core::{cloudflare, BanState, Format, Scanner};

#[test]
fn fail2ban_corpus_reads_without_errors_and_finds_the_database_bans() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let report = Scanner::new(everything())
        .path(corpus.join("fail2ban"))
        .scan();
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    let db: BTreeSet<(String, String)> = report
        .findings
        .iter()
        .filter(|f| f.format == Format::Fail2banDb)
        .map(|f| (f.scope.clone(), f.address_text()))
        .collect();
    for (jail, ip) in [("pam-generic", "1.2.3.7"), ("pam-generic", "1.2.3.8")] {
        assert!(
            db.contains(&(jail.to_string(), ip.to_string())),
            "{jail} {ip} missing: {db:?}"
        );
    }
    assert!(
        db.iter().any(|(_, ip)| ip == "127.0.0.1"),
        "v1 database ban missing: {db:?}"
    );
    // The recidive test log holds real fail2ban lines in the file and syslog forms.
    let logged: BTreeSet<String> = report
        .findings
        .iter()
        .filter(|f| f.format == Format::Fail2banLog)
        .map(|f| f.address_text())
        .collect();
    for ip in ["1.2.3.4", "10.0.0.7", "192.0.2.1", "192.0.2.2"] {
        assert!(logged.contains(ip), "{ip} missing from {logged:?}");
    }
}

/// The Cloudflare addresses the real fail2ban 1.0.2 banned (generated/README.md), per jail.
const BANNED: &[(&str, &[&str])] = &[
    (
        "nginx-limit-req",
        &[
            "172.67.140.9",
            "2400:cb00:a0::1",
            "173.245.48.0/20",
            "2a06:98c0:3600::/48",
        ],
    ),
    (
        "apache-modsecurity",
        &[
            "104.21.33.4",
            "172.68.10.20",
            "173.245.60.33",
            "162.159.36.1",
            "2606:4700:4700::1111:0",
            "2a06:98c0:3600::103:0",
        ],
    ),
    (
        "sshd",
        &["172.64.155.20", "2606:4700:3108::ac42:2b08", "104.20.15.9"],
    ),
    (
        "mod-evasive",
        &[
            "104.16.5.6",
            "172.70.1.2",
            "2606:4700:8d9b::1",
            "2a06:98c0:3600::200",
        ],
    ),
];

fn expected() -> BTreeSet<(String, String)> {
    BANNED
        .iter()
        .flat_map(|(jail, ips)| ips.iter().map(move |ip| (jail.to_string(), ip.to_string())))
        .collect()
}

#[test]
fn generated_fail2ban_tree_gives_exactly_the_banned_cloudflare_addresses() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("generated").join("fail2ban");
    let report = Scanner::new(cloudflare::embedded()).path(&dir).scan();
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    let want = expected();
    // One finding per (jail, address), with the evidence of every source that speaks of it.
    let got: BTreeSet<(String, String)> = report
        .findings
        .iter()
        .map(|f| (f.scope.clone(), f.address_text()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(report.findings.len(), want.len());
    // fail2ban was stopped at the end: its log ends with an Unban for every ban, at
    // 03:07:08. The saved client output is the state while the bans were in force, as of the
    // file's last change: the state follows the later of the two, and the finding names the
    // disagreement.
    let stopped: chrono::NaiveDateTime = "2026-11-24T03:07:08".parse().unwrap();
    let saved = std::fs::metadata(dir.join("fail2ban-client-banned.txt"))
        .unwrap()
        .modified()
        .unwrap();
    let saved_later = chrono::DateTime::<chrono::Local>::from(saved).naive_local() > stopped;
    for f in &report.findings {
        let said = |format: Format| {
            f.evidence
                .iter()
                .find(|e| e.format == format)
                .map(|e| e.state)
                .unwrap_or_else(|| panic!("{format} missing in {f:#?}"))
        };
        assert_eq!(said(Format::Fail2banLog), BanState::Lifted, "{f:#?}");
        if f.scope != "sshd" || f.address_text() != "104.20.15.9" {
            assert_eq!(said(Format::Fail2banStatus), BanState::Active, "{f:#?}");
        }
        assert_eq!(said(Format::Fail2banBanned), BanState::Active, "{f:#?}");
        let want = if saved_later {
            BanState::Active
        } else {
            BanState::Lifted
        };
        assert_eq!(f.state, want, "{f:#?}");
        assert!(f.conflict.is_some(), "{f:#?}");
    }
    // Seen but never banned (below maxretry), and the documentation addresses: never findings.
    for never in [
        "162.158.200.2",
        "192.0.2.200",
        "203.0.113.9",
        "198.51.100.0/25",
    ] {
        assert!(
            report.findings.iter().all(|f| f.address_text() != never),
            "{never}"
        );
    }
}

/// `fail2ban-client get sshd banip --with-time` of the real run: exactly the three Cloudflare
/// addresses the sshd jail banned (jail from the file name), each banned at 03:06:42 for a
/// day: standing on the 24th, ended on the 26th.
#[test]
fn generated_fail2ban_ban_times_give_the_sshd_bans_with_their_end() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let file = corpus.join("generated/fail2ban/fail2ban-client-get-sshd-banip-with-time.txt");
    let scan = |now: &str| {
        Scanner::new(cloudflare::embedded())
            .path(&file)
            .now(now.parse().unwrap())
            .scan()
    };
    let report = scan("2026-11-24T12:00:00");
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert_eq!(report.files.len(), 1);
    assert_eq!(
        (report.files[0].format, report.files[0].malformed),
        (Format::Fail2banBanTimes, 0)
    );
    let got: BTreeSet<(String, String, bool)> = report
        .findings
        .iter()
        .map(|f| (f.scope.clone(), f.address_text(), f.active))
        .collect();
    let want: BTreeSet<(String, String, bool)> =
        ["172.64.155.20", "2606:4700:3108::ac42:2b08", "104.20.15.9"]
            .iter()
            .map(|ip| ("sshd".to_string(), ip.to_string(), true))
            .collect();
    assert_eq!(got, want);
    let later = scan("2026-11-26T12:00:00");
    assert_eq!(later.findings.len(), 3);
    assert!(later.findings.iter().all(|f| !f.active));
}

#[test]
fn whole_corpus_scans_without_panicking() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let report = Scanner::new(cloudflare::embedded()).path(&corpus).scan();
    assert!(!report.files.is_empty());
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
}
