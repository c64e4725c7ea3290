//! The generated corpus and the scanner agree: a small seeded corpus gives exactly its ground
//! truth, every format of the generator included.

use std::collections::BTreeSet;

use cf_ban_audit_core::{cloudflare, Scanner};

/// The (tool, address) pairs a scan of `out` finds, each source as it named its tool.
fn found(out: &std::path::Path) -> BTreeSet<(String, String)> {
    let report = Scanner::new(cloudflare::embedded()).path(out).scan();
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    // Each source as it named its tool: a fail2ban ban's `f2b-*` ipset is ipset's word.
    report
        .findings
        .iter()
        .flat_map(|f| {
            // A source that only lifted the ban (an unban) is evidence, not a ban.
            f.evidence.iter().filter(|e| e.events > 0).map(move |e| {
                let tool = e
                    .object
                    .as_deref()
                    .and_then(|o| o.split_once(' '))
                    .map_or(f.tool.name(), |(tool, _)| tool);
                (tool.to_string(), f.address_text())
            })
        })
        .collect()
}

/// The scan found exactly the truth: nothing missing, nothing extra.
fn assert_exactly(truth: &BTreeSet<(String, String)>, got: &BTreeSet<(String, String)>) {
    let missing: Vec<_> = truth.difference(got).collect();
    let extra: Vec<_> = got.difference(truth).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nunexpected {extra:?}"
    );
}

#[test]
fn a_seeded_corpus_gives_exactly_its_truth() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("corpus");
    let truth = cf_ban_audit_benches::generate(&out, 8, 2, 42).unwrap();
    assert_exactly(&truth, &found(&out));
    let tools: BTreeSet<&str> = truth.iter().map(|(t, _)| t.as_str()).collect();
    assert!(tools.len() >= 10, "every format in play: {tools:?}");
}

/// The `web-host` profile too: its access logs (combined, JSON, rotated, gzipped) give no
/// finding, its rare bans all of theirs.
#[test]
fn a_seeded_web_host_corpus_gives_exactly_its_truth() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("corpus");
    let truth = cf_ban_audit_benches::generate_web_host(&out, 8, 2, 42).unwrap();
    assert_exactly(&truth, &found(&out));
    let tools: BTreeSet<&str> = truth.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        tools,
        ["fail2ban", "ipset", "list", "nginx-limit"]
            .into_iter()
            .collect()
    );
}
