//! Tests of applying a plan and of the verdict.

use super::*;
use crate::cloudflare::embedded;
use crate::{Finding, Format, RangesInfo};

fn lift(address: &str) -> Step {
    Step::Lift {
        tool: Tool::Ipset,
        scope: "s".into(),
        address: address.into(),
        range: "104.16.0.0/13".into(),
        argv: vec!["ipset".into(), "del".into(), "s".into(), address.into()],
    }
}

#[test]
fn the_verdict_follows_the_rescan_not_the_exit_status() {
    let plan = Plan {
        ranges: "cf".into(),
        steps: vec![lift("104.16.0.1"), lift("104.16.0.2")],
        left_for_person: Vec::new(),
        scan_errors: Vec::new(),
    };
    // The first lift failed (gone already), the second said done but the ban stands.
    let outcomes = vec![
        StepOutcome {
            step: plan.steps[0].clone(),
            outcome: "failed: no such element".into(),
        },
        StepOutcome {
            step: plan.steps[1].clone(),
            outcome: "done".into(),
        },
    ];
    let mut rescan = Report::new(
        None,
        chrono::NaiveDateTime::default(),
        RangesInfo::new("cf", 1, 0),
    );
    let mut f = Finding::new(
        "104.16.0.2/32".parse().unwrap(),
        "104.16.0.0/13".parse().unwrap(),
        Tool::Ipset,
        Format::Ipset,
        "s",
    );
    f.active = true;
    rescan.findings.push(f);
    let v = verdict(&plan, &outcomes, &rescan, &embedded());
    assert_eq!(v.lifted.len(), 1);
    assert_eq!(v.lifted[0].address, "104.16.0.1");
    assert_eq!(v.still_in_force.len(), 1);
    assert_eq!(v.still_in_force[0].address, "104.16.0.2");
    assert!(!v.all_clear());
    assert_eq!(v.left_for_person.len(), 1, "{v:?}");
    assert!(v.left_for_person[0].why.starts_with("failed: "));
    // A re-scan with an error is never an all-clear, even with nothing in force.
    rescan.findings.clear();
    assert!(verdict(&plan, &outcomes, &rescan, &embedded()).all_clear());
    rescan.errors.push(crate::ErrorEntry::new(
        None,
        "fail2ban-client: could not reach the server",
    ));
    let v = verdict(&plan, &outcomes, &rescan, &embedded());
    assert!(!v.all_clear());
    assert_eq!(
        v.scan_errors,
        ["fail2ban-client: could not reach the server"]
    );
}

/// The csf write of a plan for a csf directory holding `csf.ignore` with `old`.
fn csf_plan(dir: &Path, old: &str) -> Plan {
    fs::write(dir.join("csf.ignore"), old).unwrap();
    let options = super::super::plan::PlanOptions {
        csf_dir: Some(dir.to_path_buf()),
        ..Default::default()
    };
    let report = Report::new(
        None,
        chrono::NaiveDateTime::default(),
        RangesInfo::new("cf", 1, 0),
    );
    let mut plan = super::super::plan::plan(&report, &embedded(), &options).unwrap();
    // Only the write: a reload would run csf where it is installed.
    plan.steps
        .retain(|s| matches!(s, Step::WriteIgnoreList { .. }));
    assert_eq!(plan.steps.len(), 1, "{plan:?}");
    plan
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn csf_ignore_is_merged_with_a_backup_and_undone_byte_identical() {
    let cf = embedded();
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("csf");
    fs::create_dir(&etc).unwrap();
    fs::write(etc.join("csf.allow"), "192.0.2.2\n").unwrap();
    let old = "# csf.ignore\n127.0.0.1\n192.0.2.1 # office\n103.22.200.0/22#x\n";
    let plan = csf_plan(&etc, old);
    let journal_path = dir.path().join("fix.jsonl");
    let mut journal = Journal::create(&journal_path).unwrap();
    let outcomes = apply(&plan, &cf, &mut journal, "20261203T182300Z").unwrap();
    assert_eq!(outcomes[0].outcome, "done");
    let ignore = etc.join("csf.ignore");
    let new = fs::read_to_string(&ignore).unwrap();
    assert!(new.starts_with(old), "{new}");
    assert!(check::check_text(&ignore, &new, &cf).missing.is_empty());
    assert_eq!(
        fs::read_to_string(etc.join("csf.allow")).unwrap(),
        "192.0.2.2\n"
    );
    assert_eq!(
        names(&etc),
        [
            "csf.allow",
            "csf.ignore",
            "csf.ignore.cf-ban-audit.20261203T182300Z"
        ]
    );
    let rescan = Report::new(
        None,
        chrono::NaiveDateTime::default(),
        RangesInfo::new("cf", 1, 0),
    );
    let v = verdict(&plan, &outcomes, &rescan, &cf);
    assert_eq!(
        v.now_ignore,
        [Ignoring {
            tool: Tool::Csf,
            path: ignore.display().to_string(),
            purpose: None,
        }]
    );
    drop(journal);
    let undone = super::super::journal::undo(&journal_path).unwrap();
    assert_eq!(undone, std::slice::from_ref(&ignore));
    assert_eq!(fs::read(&ignore).unwrap(), old.as_bytes());
}

#[test]
fn a_csf_ignore_not_read_back_as_covering_is_left_byte_identical() {
    let cf = embedded();
    let dir = tempfile::tempdir().unwrap();
    let old = "192.0.2.1 # office\n";
    let good = csf_plan(dir.path(), old);
    let Step::WriteIgnoreList { content, .. } = &good.steps[0] else {
        unreachable!()
    };
    for (bad, why) in [
        // A range lost: lfd would not read it.
        (
            content.replace("\n173.245.48.0/20 ", "\n#173.245.48.0/20 "),
            "would not read 1",
        ),
        // All there, but a new line lfd does not load.
        (
            format!("{content}104.16.0.1#x\n"),
            "a new line lfd does not read",
        ),
    ] {
        let mut plan = good.clone();
        let Step::WriteIgnoreList { content, .. } = &mut plan.steps[0] else {
            unreachable!()
        };
        *content = bad;
        let mut journal =
            Journal::create(&dir.path().join(format!("j{}.jsonl", why.len()))).unwrap();
        let outcomes = apply(&plan, &cf, &mut journal, "20261203T182400Z").unwrap();
        assert!(outcomes[0].outcome.starts_with("failed: "), "{outcomes:?}");
        assert!(outcomes[0].outcome.contains(why), "{outcomes:?}");
        assert_eq!(
            fs::read(dir.path().join("csf.ignore")).unwrap(),
            old.as_bytes()
        );
        assert!(!names(dir.path())
            .iter()
            .any(|n| n.contains(".cf-ban-audit.")));
    }
}

#[test]
fn btwaf_whitelists_are_merged_validated_and_undone_byte_identical() {
    let cf = embedded();
    let dir = tempfile::tempdir().unwrap();
    let waf = dir.path().join("btwaf");
    fs::create_dir_all(waf.join("rule")).unwrap();
    let v4 = waf.join(btwaf::IP_WHITE);
    let old = "[[3221225984,3221226239]]";
    fs::write(&v4, old).unwrap();
    let options = super::super::plan::PlanOptions {
        btwaf_dir: Some(waf.clone()),
        ..Default::default()
    };
    let report = Report::new(
        None,
        chrono::NaiveDateTime::default(),
        RangesInfo::new("cf", 1, 0),
    );
    let plan = super::super::plan::plan(&report, &cf, &options).unwrap();
    assert_eq!(plan.steps.len(), 2, "{plan:?}");
    // A file btwaf's loader would not take is not written.
    let mut bad = plan.clone();
    if let Step::WriteIgnoreList { content, .. } = &mut bad.steps[0] {
        *content = format!("[\"192.0.2.1\",{}", &content[1..]);
    }
    bad.steps.truncate(1);
    let mut journal = Journal::create(&dir.path().join("bad.jsonl")).unwrap();
    let outcomes = apply(&bad, &cf, &mut journal, "20261203T182500Z").unwrap();
    assert!(outcomes[0].outcome.contains("item 1"), "{outcomes:?}");
    assert_eq!(fs::read(&v4).unwrap(), old.as_bytes());
    let journal_path = dir.path().join("fix.jsonl");
    let mut journal = Journal::create(&journal_path).unwrap();
    let outcomes = apply(&plan, &cf, &mut journal, "20261203T182600Z").unwrap();
    assert!(outcomes.iter().all(|o| o.done()), "{outcomes:?}");
    assert_eq!(verdict(&plan, &outcomes, &report, &cf).now_ignore.len(), 2);
    let v6 = waf.join(btwaf::IP_WHITE_V6);
    assert!(btwaf::check_ip_white(&fs::read_to_string(&v4).unwrap(), &cf, false).is_ok());
    assert!(btwaf::check_ip_white(&fs::read_to_string(&v6).unwrap(), &cf, true).is_ok());
    assert_eq!(
        names(&waf.join("rule")),
        [
            "ip_white.json",
            "ip_white.json.cf-ban-audit.20261203T182600Z",
            "ip_white_v6.json"
        ]
    );
    drop(journal);
    super::super::journal::undo(&journal_path).unwrap();
    assert_eq!(fs::read(&v4).unwrap(), old.as_bytes());
    assert!(!v6.exists());
}
