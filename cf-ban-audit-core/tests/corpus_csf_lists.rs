//! Conformance of the CSF/LFD, plain list and BT-Panel firewall readers over the shared corpus
//! (`../shared/corpus`, see its SOURCES.md): real `csf.deny`, `csf.allow` and `csf.ignore`
//! files of the csf project and of a real server, a real `lfd.log`, and fail2ban's `ignoreip`
//! file. Skipped with a notice when the corpus is absent; required in CI.

mod common;

use common::everything;

use std::collections::BTreeSet;

use cf_ban_audit_core::{cloudflare, Format, Report, Scanner, Tool};

/// (format, scope, address) of the findings of one tool.
fn findings(report: &Report, tool: Tool) -> BTreeSet<(Format, String, String)> {
    common::sources(report)
        .into_iter()
        .filter(|s| s.tool == tool)
        .map(|s| (s.format, s.scope, s.address))
        .collect()
}

fn set(items: &[(Format, &str, &str)]) -> BTreeSet<(Format, String, String)> {
    items
        .iter()
        .map(|(f, s, a)| (*f, s.to_string(), a.to_string()))
        .collect()
}

#[test]
fn csf_corpus_reads_as_csf_applies_it() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let report = Scanner::new(everything()).path(corpus.join("csf")).scan();
    assert!(report.errors.is_empty(), "{:#?}", report.errors);

    let file = |name: &str| report.files.iter().find(|f| f.path.ends_with(name));
    // The real server's csf.deny: ten port closures to 0.0.0.0/0, eight lfd (CT) blocks.
    let deny = file("stuarteske-csf.deny").expect("stuarteske-csf.deny read");
    assert_eq!(
        (deny.format, deny.events, deny.malformed),
        (Format::CsfDeny, 18, 0)
    );
    // csf's template: comments only (its example CIDR and rule sit in comments).
    let template = file("aetherinox-template-csf.deny").expect("template csf.deny read");
    assert_eq!(
        (template.format, template.events, template.malformed),
        (Format::CsfDeny, 0, 0)
    );
    let lfd = file("hub-lfd.log").expect("hub-lfd.log read");
    assert_eq!(
        (lfd.format, lfd.events, lfd.malformed),
        (Format::Syslog, 3, 0)
    );
    // csf.allow, cpanel.allow, cpanel.comodo.allow and csf.ignore are allow lists: none is read
    // as a ban list (their advanced rules and Include lines make them no plain lists either).
    for f in &report.files {
        let name = f.path.rsplit('/').next().unwrap();
        if name.ends_with(".allow") || name.ends_with(".ignore") {
            assert_eq!(f.events, 0, "{f:?}");
        }
    }

    // Its ten port closures to 0.0.0.0/0 are port policies, not bans: no finding, a note.
    assert!(
        deny.notes
            .iter()
            .any(|n| n.starts_with("entries on every address")),
        "{:?}",
        deny.notes
    );
    let mut expected = Vec::new();
    for ip in [
        "169.254.169.254",
        "83.244.220.46",
        "109.156.215.133",
        "85.255.233.120",
        "2.222.155.67",
        "194.74.67.211",
        "83.166.162.51",
        "81.158.173.181",
    ] {
        expected.push((Format::CsfDeny, "csf.deny", ip));
    }
    for ip in ["93.108.242.140", "107.170.39.69", "121.177.70.228"] {
        expected.push((Format::Syslog, "LF_SSHD", ip));
    }
    assert_eq!(findings(&report, Tool::Csf), set(&expected));
    assert!(
        report.findings.iter().all(|f| f.tool == Tool::Csf),
        "{:#?}",
        report.findings
    );
    // Every entry of a csf.deny stands; the lfd blocks are permanent ones (lfd says so).
    assert!(
        report.findings.iter().all(|f| f.active),
        "{:#?}",
        report.findings
    );
}

#[test]
fn csf_corpus_against_cloudflare() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let report = Scanner::new(cloudflare::embedded())
        .path(corpus.join("csf"))
        .scan();
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    // `tcp|in|d=443|s=0.0.0.0/0` (and nine more ports) closes the port to every source,
    // Cloudflare's edge included (csf's checkip lets the /0 through), but it is a policy for
    // the port, not a ban of Cloudflare: no finding (the doctor judges the rules csf makes of
    // it, per port). Nothing else in csf's files is Cloudflare's.
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}

#[test]
fn fail2ban_ignoreip_file_is_no_finding() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let path = corpus
        .join("fail2ban")
        .join("f2b-tests-files-test-ign-ips-file");
    let report = Scanner::new(everything()).path(&path).scan();
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    // host names among the addresses: not even a list
    assert!(report.files.iter().all(|f| f.format != Format::PlainList));
}

#[test]
fn whole_corpus_claims_of_csf_lists_and_bt_firewall() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let report = Scanner::new(cloudflare::embedded()).path(&corpus).scan();
    // csf.deny's port closures to 0.0.0.0/0 are port policies: no finding.
    assert!(findings(&report, Tool::Csf).is_empty());
    assert!(findings(&report, Tool::BtFirewall).is_empty());
    // The one plain list of the corpus that names itself a ban list: the output of
    // `firewall-cmd --ipset=bad-hosts-v4 --get-entries`, the members of an ipset that a rich
    // rule drops on (generated/README.md). Nothing else may read as a banning list.
    let entries = "firewall-cmd-ipset-bad-hosts-v4-get-entries.txt";
    let allowed = set(&[
        (Format::PlainList, entries, "173.245.49.77"),
        (Format::PlainList, entries, "104.18.32.7"),
    ]);
    let lists = findings(&report, Tool::List);
    assert!(lists.is_subset(&allowed), "{lists:#?}");
}
