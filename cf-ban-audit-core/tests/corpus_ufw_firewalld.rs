//! Conformance of the ufw and firewalld readers over the shared corpus: what the real ufw
//! 0.36.2 and firewalld 1.3.3 wrote (ground truth in `generated/README.md`, sections `ufw/`
//! and `firewalld/`), and the real files of ufw's and firewalld's own sources
//! (`corpus/ufw`, `corpus/firewalld`, see `SOURCES.md`).

mod common;

use common::{everything, found, set};

use std::collections::BTreeSet;
use std::path::Path;

use cf_ban_audit_core::{cloudflare, Format, RangeSet, Report, Scanner, Tool};

fn scan_with(ranges: RangeSet, path: &Path) -> Report {
    let report = Scanner::new(ranges).path(path).scan();
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    report
}

fn scan(path: &Path) -> Report {
    scan_with(cloudflare::embedded(), path)
}

/// The format each named file was read as, and that it had no malformed line.
fn assert_read(report: &Report, name: &str, format: Format) {
    let stats = report
        .files
        .iter()
        .find(|f| Path::new(&f.path).file_name().is_some_and(|n| n == name))
        .unwrap_or_else(|| panic!("{name} not read: {:#?}", report.files));
    assert_eq!(stats.format, format, "{name}");
    assert_eq!(stats.malformed, 0, "{name}: {stats:#?}");
}

/// The Cloudflare bans ufw made (generated/README.md, `ufw/`): every rule denies from
/// anywhere to the port shown, so the scope is the rule in the words of `ufw status`.
const UFW_V4: &[(&str, &str)] = &[
    ("deny", "162.158.0.0/15"),
    ("deny", "104.16.123.96"),
    ("deny 22/tcp", "172.65.32.248"),
    ("deny 25,587/tcp", "173.245.48.0/20"),
];

const UFW_V6: &[(&str, &str)] = &[
    ("deny", "2606:4700::6810:7b60"),
    ("reject 443/tcp", "2400:cb00::/32"),
];

#[test]
fn generated_ufw_files_give_exactly_the_denied_cloudflare_addresses() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("generated").join("ufw");
    let both: Vec<(&str, &str)> = UFW_V4.iter().chain(UFW_V6).copied().collect();
    for (name, format, want) in [
        ("user.rules", Format::UfwRules, UFW_V4),
        ("user6.rules", Format::UfwRules, UFW_V6),
        ("ufw-status-numbered.txt", Format::UfwStatus, &both[..]),
        ("ufw-status-verbose.txt", Format::UfwStatus, &both[..]),
        ("ufw-show-added.txt", Format::UfwStatus, &both[..]),
    ] {
        let report = scan(&dir.join(name));
        assert_read(&report, name, format);
        assert_eq!(found(&report, Tool::Ufw, None), set(want), "{name}");
        assert!(report.findings.iter().all(|f| f.active), "{name}");
    }
    // The whole folder: the same bans, and nothing of the allowed 192.0.2.10 or the limit,
    // whatever the ranges.
    let report = scan_with(everything(), &dir);
    let all = found(&report, Tool::Ufw, None);
    let addresses: BTreeSet<&str> = all.iter().map(|(_, a)| a.as_str()).collect();
    assert!(!addresses.contains("192.0.2.10"), "{all:?}");
    assert!(
        !addresses.contains("0.0.0.0/0") && !addresses.contains("::/0"),
        "{all:?}"
    );
    for (_, a) in &both {
        assert!(addresses.contains(a), "{a} missing from {all:?}");
    }
    for doc in ["203.0.113.0/24", "198.51.100.7", "2001:db8::/32"] {
        assert!(addresses.contains(doc), "{doc} missing from {all:?}");
    }
    assert_eq!(addresses.len(), both.len() + 3, "{all:?}");
}

#[test]
fn ufw_sources_corpus_reads_without_errors() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("ufw");
    let report = scan_with(everything(), &dir);
    for name in [
        "jdstrand-ufw-conf-user.rules-template",
        "jdstrand-ufw-conf-user6.rules-template",
        "jdstrand-ufw-tests-good-logging-user.rules",
        "jdstrand-ufw-tests-good-rules-user.rules-deny-in-src",
        "jdstrand-ufw-tests-good-rules-user.rules-reject-out",
        "jdstrand-ufw-tests-ipv6-user6.rules",
    ] {
        assert_read(&report, name, Format::UfwRules);
    }
    // Incoming rejects from 10.0.0.1 (on eth0) and 192.168.0.1 (logged); the outgoing rules,
    // the rules that only name a destination and the allow of 2001:db8::/32 are not bans.
    assert!(found(
        &report,
        Tool::Ufw,
        Some("jdstrand-ufw-tests-good-rules-user.rules-reject-out")
    )
    .is_empty());
    assert!(found(
        &report,
        Tool::Ufw,
        Some("jdstrand-ufw-tests-ipv6-user6.rules")
    )
    .is_empty());
    let deny_in: BTreeSet<String> = found(
        &report,
        Tool::Ufw,
        Some("jdstrand-ufw-tests-good-rules-user.rules-deny-in-src"),
    )
    .into_iter()
    .map(|(_, a)| a)
    .collect();
    assert_eq!(deny_in, BTreeSet::from(["10.0.0.1".to_string()]));
    let logging = found(
        &report,
        Tool::Ufw,
        Some("jdstrand-ufw-tests-good-logging-user.rules"),
    );
    assert_eq!(
        logging,
        set(&[
            ("reject 10.0.0.1 25/tcp", "192.168.0.1"),
            ("reject 10.0.0.1 137,138/udp (Samba)", "192.168.0.1"),
            ("reject 10.0.0.1 139,445/tcp (Samba)", "192.168.0.1"),
        ])
    );
}

/// The Cloudflare bans firewalld held (generated/README.md, `firewalld/`).
const FIREWALLD_SETS: &[(&str, &str)] = &[
    ("cf-blocklist-v4", "104.16.0.0/13"),
    ("cf-blocklist-v4", "172.64.0.0/13"),
    ("cf-blocklist-v4", "162.158.42.0/24"),
    ("bad-hosts-v4", "173.245.49.77"),
    ("bad-hosts-v4", "104.18.32.7"),
    ("bad-hosts-v6", "2606:4700::/32"),
    ("bad-hosts-v6", "2a06:98c0:3600::103"),
];

const FIREWALLD_PUBLIC: &[&str] = &["162.159.200.1", "172.67.0.0/16", "2400:cb00:2049::/48"];

fn public(scope: &str) -> Vec<(&str, &str)> {
    FIREWALLD_PUBLIC.iter().map(|a| (scope, *a)).collect()
}

#[test]
fn generated_firewalld_files_give_exactly_the_blocked_cloudflare_addresses() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("generated").join("firewalld");

    // The XML configuration alone: the ipsets are bans because the drop zone and a drop rich
    // rule use them.
    let report = scan(&dir.join("etc-firewalld"));
    for (name, format) in [
        ("drop.xml", Format::FirewalldZone),
        ("public.xml", Format::FirewalldZone),
        ("bad-hosts-v4.xml", Format::FirewalldIpset),
        ("bad-hosts-v6.xml", Format::FirewalldIpset),
        ("cf-blocklist-v4.xml", Format::FirewalldIpset),
    ] {
        assert_read(&report, name, format);
    }
    let mut want = set(FIREWALLD_SETS);
    want.extend(set(&public("zone:public")));
    assert_eq!(found(&report, Tool::Firewalld, None), want);

    // The firewall-cmd outputs alone: --info-ipset members, made bans by the drop zone's
    // `sources: ipset:...` and public's rich rule; rich rules with and without their zone.
    let mut want_cmd = set(FIREWALLD_SETS);
    want_cmd.extend(set(&public("zone:public")));
    want_cmd.extend(set(&public("rich-rules")));
    let everything_cmd: BTreeSet<(String, String)> = [
        "firewall-cmd-info-ipset-bad-hosts-v4.txt",
        "firewall-cmd-info-ipset-bad-hosts-v6.txt",
        "firewall-cmd-info-ipset-cf-blocklist-v4.txt",
        "firewall-cmd-zone-drop-list-all.txt",
        "firewall-cmd-zone-public-list-all.txt",
        "firewall-cmd-zone-public-list-rich-rules.txt",
    ]
    .iter()
    .fold(Scanner::new(cloudflare::embedded()), |s, name| {
        s.path(dir.join(name))
    })
    .scan()
    .findings
    .iter()
    .filter(|f| f.tool == Tool::Firewalld)
    .map(|f| (f.scope.clone(), f.address_text()))
    .collect();
    assert_eq!(everything_cmd, want_cmd);

    // Each output on its own.
    let report = scan(&dir.join("firewall-cmd-zone-public-list-rich-rules.txt"));
    assert_read(
        &report,
        "firewall-cmd-zone-public-list-rich-rules.txt",
        Format::FirewalldRich,
    );
    assert_eq!(
        found(&report, Tool::Firewalld, None),
        set(&public("rich-rules"))
    );
    let report = scan(&dir.join("firewall-cmd-zone-public-list-all.txt"));
    assert_eq!(
        found(&report, Tool::Firewalld, None),
        set(&public("zone:public"))
    );
    let report = scan(&dir.join("firewall-cmd-zone-drop-list-all.txt"));
    assert_read(
        &report,
        "firewall-cmd-zone-drop-list-all.txt",
        Format::FirewalldRich,
    );
    assert!(found(&report, Tool::Firewalld, None).is_empty());

    // The whole folder (the nft ruleset and the --get-entries list belong to other readers).
    let report = scan(&dir);
    let mut want_all = want_cmd.clone();
    want_all.extend(want);
    assert_eq!(found(&report, Tool::Firewalld, None), want_all);
    assert!(report.findings.iter().all(|f| f.active));

    // Whatever the ranges, the accepted 192.0.2.10 is reported only as a member of
    // bad-hosts-v4 (which a rule drops), never from the accept rule.
    let report = scan_with(everything(), &dir);
    let all = found(&report, Tool::Firewalld, None);
    let scopes: BTreeSet<&str> = all
        .iter()
        .filter(|(_, a)| a == "192.0.2.10")
        .map(|(s, _)| s.as_str())
        .collect();
    assert_eq!(scopes, BTreeSet::from(["bad-hosts-v4"]), "{all:?}");
    for (scope, doc) in [
        ("zone:public", "2001:db8::15"),
        ("zone:public", "198.51.100.0/24"),
        ("cf-blocklist-v4", "203.0.113.0/24"),
        ("bad-hosts-v4", "198.51.100.23"),
        ("bad-hosts-v6", "2001:db8:bad::/48"),
    ] {
        assert!(
            all.contains(&(scope.to_string(), doc.to_string())),
            "{scope} {doc}: {all:?}"
        );
    }
}

#[test]
fn firewalld_sources_corpus_reads_without_errors() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("firewalld");
    let report = scan_with(everything(), &dir);
    for name in [
        "firewalld-config-policies-allow-host-ipv6.xml",
        "firewalld-config-tests-policies-libvirt-to-host.xml",
        "firewalld-config-tests-zones-libvirt.xml",
        "firewalld-config-tests-zones-nm-shared.xml",
        "firewalld-config-zones-block.xml",
        "firewalld-config-zones-drop.xml",
        "firewalld-config-zones-public.xml",
        "firewalld-config-zones-trusted.xml",
    ] {
        assert_read(&report, name, Format::FirewalldZone);
    }
    // Default zones and policies name no source: nothing is banned.
    assert!(found(&report, Tool::Firewalld, None).is_empty());
}
