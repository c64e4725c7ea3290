//! A format defined outside the crate, registered through `Scanner::format`: detected among the
//! built-in formats by its own test and rank, read by its own parser, reported under its name.

mod common;

use cf_ban_audit_core::formats::FormatDescriptor;
use cf_ban_audit_core::{cloudflare, Format, Scanner, Tool};
use common::my_waf::{MyWaf, MY_WAF};

#[test]
fn a_registered_format_is_detected_read_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("blocks.txt"),
        "MYWAF 1\nBLOCK 172.64.155.20\nBLOCK 192.0.2.1\nBLOCK nonsense\n",
    )
    .unwrap();

    // Without it, the file is of no known format.
    let plain = Scanner::new(cloudflare::embedded()).path(dir.path()).scan();
    assert!(plain.findings.is_empty());
    assert_eq!(plain.skipped_files, 1);

    let scanner = Scanner::new(cloudflare::embedded())
        .format(MY_WAF)
        .unwrap()
        .path(dir.path());
    let report = scanner.scan();
    let found: Vec<(String, String, bool)> = report
        .findings
        .iter()
        .map(|f| (f.address_text(), f.format.to_string(), f.active))
        .collect();
    assert_eq!(found, [("172.64.155.20".into(), "my-waf".into(), true)]);
    assert_eq!(report.files.len(), 1);
    assert_eq!((report.files[0].events, report.files[0].malformed), (2, 1));

    // `--source` filters by the tools its descriptor names.
    let other = Scanner::new(cloudflare::embedded())
        .format(MY_WAF)
        .unwrap()
        .sources(&[Tool::Fail2ban])
        .path(dir.path())
        .scan();
    assert!(other.findings.is_empty());
}

#[test]
fn a_name_already_taken_is_refused() {
    let taken = FormatDescriptor::new(Format::custom("fail2ban-log"), &[Tool::List], "x", |ctx| {
        Box::new(MyWaf {
            path: ctx.path.clone(),
        })
    });
    let err = Scanner::new(cloudflare::embedded())
        .format(taken)
        .unwrap_err();
    assert!(err.contains("fail2ban-log"), "{err}");
    let twice = Scanner::new(cloudflare::embedded()).format(MY_WAF).unwrap();
    assert!(twice.format(MY_WAF).is_err());
}

#[test]
fn a_registered_set_format_is_judged_by_the_rules_that_use_it() {
    use cf_ban_audit_core::formats::Membership;
    // The same lines as members of a set that no rule is seen to use: no findings, as for
    // the built-in set formats (an nginx geo list with no `if` refusing on it).
    let members = MY_WAF.membership(Membership::ByRules);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("blocks.txt"),
        "MYWAF 1\nBLOCK 172.64.155.20\n",
    )
    .unwrap();
    let report = Scanner::new(cloudflare::embedded())
        .format(members)
        .unwrap()
        .path(dir.path())
        .scan();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!(report.files[0].events, 1);
}
