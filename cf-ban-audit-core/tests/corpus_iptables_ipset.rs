//! Conformance of the iptables and ipset readers over the shared corpus: the dumps the real
//! fail2ban 1.0.2 and ufw 0.36.2 left in iptables and ipset (ground truth in
//! `generated/README.md`), and the real test inputs of netfilter's iptables and ipset
//! (`corpus/iptables`, `corpus/ipset`, see `SOURCES.md`).

mod common;

use common::{everything, found, set};

use std::collections::BTreeSet;
use std::path::Path;

use cf_ban_audit_core::{cloudflare, BanState, Format, Report, Scanner, Tool};

fn scan(path: &Path) -> Report {
    let report = Scanner::new(cloudflare::embedded()).path(path).scan();
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    report
}

fn format_of(report: &Report, name: &str) -> Option<Format> {
    report
        .files
        .iter()
        .find(|f| Path::new(&f.path).file_name().is_some_and(|n| n == name))
        .map(|f| f.format)
}

const NGINX_LIMIT_REQ: &[(&str, &str)] = &[
    ("f2b-nginx-limit-req", "172.67.140.9"),
    ("f2b-nginx-limit-req", "2400:cb00:a0::1"),
    ("f2b-nginx-limit-req", "173.245.48.0/20"),
    ("f2b-nginx-limit-req", "2a06:98c0:3600::/48"),
];

const APACHE_MODSECURITY: &[(&str, &str)] = &[
    ("f2b-modsec", "104.21.33.4"),
    ("f2b-modsec", "172.68.10.20"),
    ("f2b-modsec", "173.245.60.33"),
    ("f2b-modsec", "162.159.36.1"),
    ("f2b-modsec6", "2606:4700:4700::1111:0"),
    ("f2b-modsec6", "2a06:98c0:3600::103:0"),
];

#[test]
fn generated_fail2ban_dumps_give_exactly_the_iptables_and_ipset_bans() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("generated").join("fail2ban");
    let report = scan(&dir);
    for name in [
        "iptables-save.txt",
        "ip6tables-save.txt",
        "iptables-L-n-v.txt",
        "ip6tables-L-n-v.txt",
    ] {
        assert_eq!(
            format_of(&report, name),
            Some(Format::IptablesSave),
            "{name}"
        );
    }
    for name in ["ipset-save.txt", "ipset-list.txt"] {
        assert_eq!(format_of(&report, name), Some(Format::Ipset), "{name}");
    }
    assert_eq!(found(&report, Tool::Iptables, None), set(NGINX_LIMIT_REQ));
    assert_eq!(found(&report, Tool::Ipset, None), set(APACHE_MODSECURITY));
    // Each dump on its own holds them all (its own family's half for iptables).
    let v4: Vec<_> = NGINX_LIMIT_REQ
        .iter()
        .copied()
        .filter(|(_, a)| !a.contains(':'))
        .collect();
    let v6: Vec<_> = NGINX_LIMIT_REQ
        .iter()
        .copied()
        .filter(|(_, a)| a.contains(':'))
        .collect();
    for (name, want) in [
        ("iptables-save.txt", &v4),
        ("iptables-L-n-v.txt", &v4),
        ("ip6tables-save.txt", &v6),
        ("ip6tables-L-n-v.txt", &v6),
    ] {
        assert_eq!(
            found(&report, Tool::Iptables, Some(name)),
            set(want),
            "{name}"
        );
    }
    for name in ["ipset-save.txt", "ipset-list.txt"] {
        assert_eq!(
            found(&report, Tool::Ipset, Some(name)),
            set(APACHE_MODSECURITY),
            "{name}"
        );
    }
    // Every member is a current entry: active by itself. (The fail2ban finding each is
    // evidence of follows the later word of fail2ban's log, which ends with the stop.)
    assert!(common::sources(&report)
        .iter()
        .filter(|s| matches!(s.tool, Tool::Iptables | Tool::Ipset))
        .all(|s| s.state == BanState::Active));
}

#[test]
fn ipset_members_alone_are_kept_by_the_set_name() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    // No rule in sight: `f2b-*` names a ban set.
    let report = scan(&corpus.join("generated/fail2ban/ipset-save.txt"));
    assert_eq!(found(&report, Tool::Ipset, None), set(APACHE_MODSECURITY));
}

#[test]
fn generated_ufw_dumps_give_the_denied_sources_and_never_the_allowed_one() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = corpus.join("generated").join("ufw");
    for (name, want) in [
        (
            "iptables-save-ufw.txt",
            set(&[
                ("ufw-user-input", "162.158.0.0/15"),
                ("ufw-user-input", "104.16.123.96"),
                ("ufw-user-input", "172.65.32.248"),
                ("ufw-user-input", "173.245.48.0/20"),
            ]),
        ),
        (
            "ip6tables-save-ufw.txt",
            set(&[
                ("ufw6-user-input", "2606:4700::6810:7b60"),
                ("ufw6-user-input", "2400:cb00::/32"),
            ]),
        ),
    ] {
        let report = scan(&dir.join(name));
        assert_eq!(
            format_of(&report, name),
            Some(Format::IptablesSave),
            "{name}"
        );
        assert_eq!(found(&report, Tool::Iptables, None), want, "{name}");
        // With every address counted, the documentation bans show and the allowed one does not.
        let all = Scanner::new(everything()).path(dir.join(name)).scan();
        // The chain is ufw's: its rules are evidence of ufw's findings, named as iptables wrote
        // them.
        assert!(all.findings.iter().all(|f| f.tool == Tool::Ufw), "{name}");
        let addrs: BTreeSet<String> = found(&all, Tool::Iptables, None)
            .into_iter()
            .map(|(_, address)| address)
            .collect();
        assert!(!addrs.contains("192.0.2.10"), "{name}: {addrs:?}");
        assert!(
            addrs.contains("203.0.113.0/24") || addrs.contains("2001:db8::/32"),
            "{name}: {addrs:?}"
        );
    }
}

#[test]
fn netfilter_test_inputs_read_without_errors() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    for dir in ["iptables", "ipset"] {
        let report = Scanner::new(everything()).path(corpus.join(dir)).scan();
        assert!(report.errors.is_empty(), "{dir}: {:#?}", report.errors);
        for f in &report.files {
            if matches!(f.format, Format::IptablesSave | Format::Ipset) {
                assert_eq!(f.malformed, 0, "{}: {f:?}", f.path);
            }
        }
    }
    let ipt = Scanner::new(everything())
        .path(corpus.join("iptables"))
        .scan();
    let saves = ipt
        .files
        .iter()
        .filter(|f| f.format == Format::IptablesSave)
        .count();
    assert!(saves >= 9, "{:#?}", ipt.files);
    // Sources of DROP/REJECT rules only (netfilter's nft-only test: `-s 1.2.3.0/24 ... -j DROP`);
    // its `-s 1.2.3.4/32 ... -j ACCEPT` is not a ban.
    let addrs: BTreeSet<String> = ipt
        .findings
        .iter()
        .filter(|f| f.tool == Tool::Iptables)
        .map(|f| f.address_text())
        .collect();
    assert!(addrs.contains("1.2.3.0/24"), "{addrs:?}");
    assert!(!addrs.contains("1.2.3.4"), "{addrs:?}");
    assert!(
        !addrs.contains("192.168.0.0/24"),
        "negated source: {addrs:?}"
    );

    let sets = Scanner::new(everything()).path(corpus.join("ipset")).scan();
    let read = sets
        .files
        .iter()
        .filter(|f| f.format == Format::Ipset)
        .count();
    assert!(read >= 14, "{:#?}", sets.files);
}

/// Every file of the corpus, whatever its format, goes through both readers without a panic.
#[test]
fn any_corpus_file_fed_to_both_readers_never_panics() {
    use cf_ban_audit_core::formats::{LineParser, ParseCtx, Sink};
    use cf_ban_audit_core::{BanEvent, Format};

    struct Count(u64);
    impl Sink for Count {
        fn event(&mut self, _: BanEvent) {
            self.0 += 1;
        }
        fn malformed(&mut self, _: u64, _: String) {}
    }

    let Some(corpus) = common::corpus() else {
        return;
    };
    let now = "2026-11-24T12:00:00".parse().unwrap();
    let mut stack = vec![corpus];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if bytes.len() > 4 << 20 {
                continue;
            }
            files += 1;
            let ctx = ParseCtx {
                path: std::sync::Arc::from(path.as_path()),
                reference: now,
                now,
            };
            let parsers: Vec<Box<dyn LineParser>> = [Format::IptablesSave, Format::Ipset]
                .iter()
                .map(|f| f.descriptor().unwrap().line_parser(&ctx).unwrap())
                .collect();
            for mut parser in parsers {
                let mut sink = Count(0);
                // Lines as the scanner hands them over: without their terminator, cut at
                // the longest line it hands over.
                let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
                for (n, line) in body.split(|&b| b == b'\n').enumerate() {
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    let line = &line[..line.len().min(cf_ban_audit_core::MAX_LINE)];
                    parser.line(n as u64 + 1, line, &mut sink);
                }
                parser.finish(&mut sink);
            }
        }
    }
    assert!(files > 100, "{files}");
}
