//! Conformance of the nftables reader over the shared corpus: the rulesets real fail2ban 1.0.2
//! and firewalld 1.3.3 left in nft (ground truth in `generated/README.md`), and the real nft
//! test dumps of `corpus/nftables` (every one read without errors or unreadable lines).

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use cf_ban_audit_core::{cloudflare, BanState, Format, Report, Scanner, Tool};
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

/// The (scope, address) pairs of the nftables findings of a report, checking the tool.
fn findings(report: &Report, format: Format) -> BTreeSet<(String, String)> {
    common::sources(report)
        .into_iter()
        .filter(|s| s.format == format)
        .map(|s| {
            assert_eq!(s.tool, Tool::Nftables, "{s:?}");
            assert_eq!(s.finding_state, BanState::Active, "{s:?}");
            (s.scope, s.address)
        })
        .collect()
}

fn set(pairs: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    pairs
        .iter()
        .map(|(s, a)| (s.to_string(), a.to_string()))
        .collect()
}

fn assert_clean(report: &Report) {
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    for f in &report.files {
        assert_eq!(f.malformed, 0, "{f:#?}");
    }
}

/// fail2ban's `table inet f2b-table` (sshd and mod-evasive sets) and the iptables-nft tables of
/// its nginx-limit-req jail. The apache-modsecurity bans live in ipsets that nft shows only as
/// `xt match set`: not readable from the ruleset, and noted as such.
const FAIL2BAN: &[(&str, &str)] = &[
    ("f2b-table/addr-set-sshd", "172.64.155.20"),
    ("f2b-table/addr-set-sshd", "104.20.15.9"),
    ("f2b-table/addr6-set-sshd", "2606:4700:3108::ac42:2b08"),
    ("f2b-table/addr-set-evasive", "104.16.5.6"),
    ("f2b-table/addr-set-evasive", "172.70.1.2"),
    ("f2b-table/addr6-set-evasive", "2606:4700:8d9b::1"),
    ("f2b-table/addr6-set-evasive", "2a06:98c0:3600::200"),
    ("filter/f2b-nginx-limit-req", "172.67.140.9"),
    ("filter/f2b-nginx-limit-req", "173.245.48.0/20"),
    ("filter/f2b-nginx-limit-req", "2400:cb00:a0::1"),
    ("filter/f2b-nginx-limit-req", "2a06:98c0:3600::/48"),
];

#[test]
fn fail2ban_nft_ruleset_text_and_json_give_exactly_the_banned_cloudflare_addresses() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("generated").join("fail2ban");
    for (file, format) in [
        ("nft-list-ruleset.txt", Format::NftRuleset),
        ("nft-list-ruleset.json", Format::NftJson),
    ] {
        let report = scan(&dir.join(file));
        assert_clean(&report);
        assert_eq!(report.files.len(), 1, "{file}");
        assert_eq!(report.files[0].format, format, "{file}");
        assert_eq!(findings(&report, format), set(FAIL2BAN), "{file}");
        assert!(
            report.files[0].notes.iter().any(|n| n.contains("xt set")),
            "{file}: {:?}",
            report.files[0].notes
        );
    }
}

/// firewalld's runtime ruleset: ipsets as nft sets, sent to the drop zone by
/// `ip saddr @set goto filter_IN_drop` (a chain that ends in `drop`) or dropped by a rich rule;
/// rich rules with addresses in `filter_IN_public_deny`. Not bans: the `goto` into nat and
/// mangle zone chains (they decide nothing), `ip daddr @cf-blocklist-v4 accept`, the log-only
/// rule, the accept rule for 192.0.2.10.
const FIREWALLD: &[(&str, &str)] = &[
    ("firewalld/cf-blocklist-v4", "104.16.0.0/13"),
    ("firewalld/cf-blocklist-v4", "172.64.0.0/13"),
    ("firewalld/cf-blocklist-v4", "162.158.42.0/24"),
    ("firewalld/bad-hosts-v4", "173.245.49.77"),
    ("firewalld/bad-hosts-v4", "104.18.32.7"),
    ("firewalld/bad-hosts-v6", "2606:4700::/32"),
    ("firewalld/bad-hosts-v6", "2a06:98c0:3600::103"),
    ("firewalld/filter_IN_public_deny", "162.159.200.1"),
    ("firewalld/filter_IN_public_deny", "172.67.0.0/16"),
    ("firewalld/filter_IN_public_deny", "2400:cb00:2049::/48"),
];

#[test]
fn firewalld_nft_ruleset_gives_exactly_the_blocked_cloudflare_addresses() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let file = corpus
        .join("generated")
        .join("firewalld")
        .join("nft-list-ruleset-firewalld.txt");
    let report = scan(&file);
    assert_clean(&report);
    assert_eq!(report.files[0].format, Format::NftRuleset);
    assert_eq!(findings(&report, Format::NftRuleset), set(FIREWALLD));
}

#[test]
fn nft_test_dumps_read_without_errors() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("nftables");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert!(names.len() > 50, "{names:?}");
    for path in names {
        let report = scan(&path);
        assert_clean(&report);
        assert_eq!(report.files.len(), 1, "{}", path.display());
        assert_eq!(
            report.files[0].format,
            Format::NftRuleset,
            "{}",
            path.display()
        );
    }
    // The iptables-nft native dump: `ip saddr 1.2.3.0/24 ... drop` is its only drop of a source.
    let report = scan(&dir.join("iptables-tests-nft-only-0010-nft-native.txt"));
    assert!(report.findings.is_empty());
    let everything = Scanner::new(
        ["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()]
            .into_iter()
            .collect(),
    )
    .path(dir.join("iptables-tests-nft-only-0010-nft-native.txt"))
    .now(now())
    .scan();
    let got: BTreeSet<_> = everything
        .findings
        .iter()
        .map(|f| (f.scope.clone(), f.address_text()))
        .collect();
    assert_eq!(got, set(&[("filter/INPUT", "1.2.3.0/24")]));
}
