//! `cf-ban-audit fix` against a real CrowdSec 1.4.6 (Debian's package, unpacked, never
//! installed) whose Local API runs in a network namespace of its own, holding ban decisions on
//! Cloudflare addresses (an IPv4 address, an IPv6 address, a range inside a Cloudflare range)
//! and on documentation addresses. The plan changes nothing; `--apply --yes` deletes exactly
//! the Cloudflare decisions, writes the parser whitelist that `crowdsec -t` accepts, and the
//! re-scan finds nothing in force; `--undo` removes the whitelist (the configuration tree is
//! byte-identical again); a whitelist CrowdSec rejects is left byte-identical; a wider decision
//! that holds other addresses too is never deleted with the edge's. Without root or the
//! package it prints `SKIP:` (with `CI` set it fails instead).

mod common;

use std::process::Output;

use common::crowdsec::Crowdsec;
use common::*;

/// The decisions on Cloudflare addresses, as `cscli decisions list` names them.
const EDGE: [&str; 3] = [
    "Ip:104.16.1.10",
    "Ip:2606:4700:3033::6815:1a2b",
    "Range:162.158.4.0/24",
];

/// The decisions on documentation addresses (never lifted).
const DOC: [&str; 4] = [
    "Ip:192.0.2.44",
    "Ip:203.0.113.7",
    "Ip:2001:db8::15",
    "Range:198.51.100.0/24",
];

/// The scope and value of a decision as `cscli decisions add` takes them.
fn ban(cs: &Crowdsec, decision: &str) {
    let (scope, value) = decision.split_once(':').unwrap();
    let flag = if scope == "Ip" { "--ip" } else { "--range" };
    cs.ban(&[flag, value]);
}

fn sorted(values: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = values.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn fix_lifts_crowdsecs_edge_decisions_writes_its_whitelist_and_undoes() {
    let Some(ns) = Netns::new("fixcs", &[]) else {
        return;
    };
    let Some(cs) = Crowdsec::start(&ns) else {
        return;
    };
    for d in EDGE.iter().chain(&DOC) {
        ban(&cs, d);
    }
    let dir = TestEnv::new();
    // fail2ban's configuration: a jail.local that ignores Cloudflare already (no step).
    let snippet = run(&["snippet", "fail2ban"]);
    let f2b = dir.write("fail2ban/jail.local", snippet.stdout);
    let f2b = f2b.parent().unwrap().display().to_string();
    let scanned = dir.path().join("scanned");
    std::fs::create_dir(&scanned).unwrap();
    let scanned = scanned.display().to_string();
    let config = cs.config().display().to_string();
    let fix = |extra: &[&str]| {
        let mut args = vec![
            "fix",
            "--cscli-config",
            &config,
            "--fail2ban-config",
            &f2b,
            "--csf-dir",
            "/nonexistent/cfba-csf",
            "--btwaf-dir",
            "/nonexistent/cfba-btwaf",
        ];
        args.extend_from_slice(extra);
        args.push(&scanned);
        let out = cs.run_in(&args);
        eprintln!(
            "fix {extra:?}: exit {:?}\n{}{}",
            out.status.code(),
            stdout(&out),
            stderr(&out)
        );
        out
    };
    let whitelist = cs
        .etc()
        .join("parsers/s02-enrich/cf-ban-audit-cloudflare.yaml");

    // The plan: the three lifts and the whitelist; nothing changes.
    let all = sorted(&[&EDGE[..], &DOC[..]].concat());
    assert_eq!(cs.decisions(), all);
    let tree = cs.tree();
    let plan = fix(&[]);
    assert_eq!(code(&plan), 1);
    let text = stdout(&plan);
    for lift in [
        "decisions delete --ip 104.16.1.10 --contained",
        "decisions delete --ip 2606:4700:3033::6815:1a2b --contained",
        "decisions delete --range 162.158.4.0/24 --contained",
    ] {
        assert!(
            text.contains(&format!("cscli -c {config} {lift}")),
            "{lift}: {text}"
        );
    }
    for doc in ["192.0.2.44", "203.0.113.7", "2001:db8::15", "198.51.100.0"] {
        assert!(!text.contains(doc), "{doc}: {text}");
    }
    assert!(
        text.contains(&format!(
            "write   {} (new): the Cloudflare ranges as CrowdSec's parser whitelist",
            whitelist.display()
        )) && text.contains(&format!("checked by crowdsec -c {config} -t first")),
        "{text}"
    );
    // Not the system's crowdsec: its reload is a person's.
    assert!(text.contains("reload the crowdsec that reads"), "{text}");
    let json = fix(&["--format", "json"]);
    assert_eq!(json_of(&json)["plan"]["steps"].as_array().unwrap().len(), 4);
    assert_eq!(cs.decisions(), all, "the plan changes nothing");
    assert_eq!(cs.tree(), tree);

    // Apply: the edge's decisions go, the documentation addresses' stay; the whitelist is in
    // place and crowdsec accepts it.
    let journal = dir.path().join("journal.jsonl").display().to_string();
    let applied = fix(&[
        "--apply",
        "--yes",
        "--journal",
        &journal,
        "--format",
        "json",
    ]);
    let result = json_of(&applied);
    assert_eq!(code(&applied), 0, "{result:#}");
    assert_eq!(cs.decisions(), sorted(&DOC));
    let verdict = &result["verdict"];
    assert_eq!(verdict["still_in_force"].as_array().unwrap().len(), 0);
    assert_eq!(verdict["lifted"].as_array().unwrap().len(), 3);
    assert_eq!(
        verdict["now_ignore"][0]["path"].as_str(),
        Some(whitelist.to_str().unwrap())
    );
    let written = std::fs::read_to_string(&whitelist).unwrap();
    assert!(
        written.contains("whitelist:\n") && written.contains("    - \"2400:cb00::/32\"\n"),
        "{written}"
    );
    let tested = cs.test_config();
    assert!(tested.status.success(), "{}", stderr(&tested));
    // Covered now: a second plan has nothing to do for CrowdSec.
    let again = fix(&[]);
    assert_eq!(code(&again), 0, "{}", stdout(&again));

    // Undo: the configuration tree byte-identical to before.
    let undone = cs.run_in(&["fix", "--undo", &journal]);
    assert_eq!(code(&undone), 0, "{}", stderr(&undone));
    assert_eq!(cs.tree(), tree);

    // A whitelist of ours that crowdsec rejects: merged into, crowdsec's check (its own words
    // about the bad CIDR) fails, and the file is left as it was.
    let broken = "name: local/cf\nwhitelist:\n  reason: cf\n  cidr:\n    - \"104.16.0.0/33\"\n";
    std::fs::write(&whitelist, broken).unwrap();
    let journal2 = dir.path().join("journal2.jsonl").display().to_string();
    let rejected = fix(&["--apply", "--yes", "--journal", &journal2]);
    assert_eq!(code(&rejected), 1);
    let said = stdout(&rejected);
    assert!(
        said.contains("rejected") && said.contains("104.16.0.0/33"),
        "{said}"
    );
    assert_eq!(std::fs::read_to_string(&whitelist).unwrap(), broken);
    std::fs::remove_file(&whitelist).unwrap();
    assert_eq!(cs.tree(), tree);

    // A wider decision that holds the edge and other addresses stays: only the edge's own goes.
    ban(&cs, "Range:104.0.0.0/8");
    ban(&cs, "Ip:104.16.1.12");
    let journal3 = dir.path().join("journal3.jsonl").display().to_string();
    let wide = fix(&["--apply", "--yes", "--journal", &journal3]);
    assert_eq!(code(&wide), 1, "the /8 is still in force");
    assert!(
        stdout(&wide).contains("104.0.0.0/8 is not wholly inside the range set"),
        "{}",
        stdout(&wide)
    );
    let mut left = sorted(&DOC);
    left.push("Range:104.0.0.0/8".to_string());
    left.sort();
    assert_eq!(cs.decisions(), left);
}

fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(out), stderr(out)))
}
