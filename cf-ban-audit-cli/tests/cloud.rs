//! Cloud security groups (issue #21): `check` of the vendors' exports in `fixtures/cloud`
//! against the verdict beside each (`NAME.check.json`), forged twins that must change nothing,
//! and the rules each cloud snippet would create, fed back into an export, which `check` must
//! pass.

mod common;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use common::*;

fn cloud_dir() -> PathBuf {
    root().join("fixtures/cloud")
}

/// The exports of `fixtures/cloud`, each with its expected verdict.
fn fixtures() -> Vec<(PathBuf, Value)> {
    let mut out: Vec<(PathBuf, Value)> = std::fs::read_dir(cloud_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.ends_with(".json") && !name.ends_with(".check.json")
        })
        .map(|p| {
            let expected = p.with_file_name(format!(
                "{}.check.json",
                p.file_name().unwrap().to_string_lossy()
            ));
            let text = std::fs::read_to_string(&expected)
                .unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
            (p, serde_json::from_str(&text).unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 10, "{out:?}");
    out
}

/// `check --format json` of one file: (exit status, the file's result).
fn check_json(path: &Path) -> (i32, Value) {
    let o = run(&["check", "--format", "json", path.to_str().unwrap()]);
    let doc = json(&o);
    (code(&o), doc["files"][0].clone())
}

/// The embedded ranges, by family.
fn embedded(which: &str) -> Vec<String> {
    let cf = cf_ban_audit_core::cloudflare::embedded();
    cf.nets()
        .iter()
        .filter(|n| match which {
            "v4" => matches!(n, ipnet::IpNet::V4(_)),
            "v6" => matches!(n, ipnet::IpNet::V6(_)),
            _ => true,
        })
        .map(|n| n.to_string())
        .collect()
}

/// An expected group's ranges: `all`, `v4`, `v6` or a list (`"range"`, or `"range [part
/// part]"` for a part of one).
fn expected_ranges(v: &Value) -> Vec<String> {
    let mut out = match v.as_str() {
        Some(which) => embedded(which),
        None => v
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect(),
    };
    out.sort();
    out
}

/// The (range or part) of the entries of `list` on `port` whose rule starts with `rule`.
fn actual_ranges(list: &Value, port: u64, rule: &str) -> Vec<String> {
    let mut out: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["port"] == port && x["rule"].as_str().unwrap().starts_with(rule))
        .map(|x| {
            let range = x["range"].as_str().unwrap();
            let nets: Vec<&str> = x["nets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect();
            if nets == [range] {
                range.to_string()
            } else {
                format!("{range} [{}]", nets.join(" "))
            }
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_cloud_export_gets_its_expected_verdict() {
    for (path, want) in fixtures() {
        let name = path.display().to_string();
        let (status, got) = check_json(&path);
        assert_eq!(status, want["exit"], "{name}: {got:#}");
        assert_eq!(got["kind"], want["kind"], "{name}");
        let cloud = &got["cloud"];
        for key in ["refused", "unresolved"] {
            let mut counted = 0;
            for group in want[key].as_array().unwrap() {
                let port = group["port"].as_u64().unwrap();
                let rule = group["rule"].as_str().unwrap();
                let want_ranges = expected_ranges(&group["ranges"]);
                assert_eq!(
                    actual_ranges(&cloud[key], port, rule),
                    want_ranges,
                    "{name}: {key} on {port} by {rule}: {cloud:#}"
                );
                counted += want_ranges.len();
            }
            assert_eq!(
                cloud[key].as_array().unwrap().len(),
                counted,
                "{name}: {key} has more than expected: {cloud:#}"
            );
        }
        for note in want["notes"].as_array().unwrap() {
            let note = note.as_str().unwrap();
            assert!(
                cloud["notes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|n| n.as_str().unwrap().contains(note)),
                "{name}: no note with {note:?}: {cloud:#}"
            );
        }
    }
}

/// A description, name or tag holding a CIDR, `Allow`, a priority or a protocol is text: the
/// twin gets exactly its original's verdict.
#[test]
fn forged_twins_change_nothing() {
    let mut twins = 0;
    for (path, _) in fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(original) = name.strip_suffix(".forged.json") else {
            continue;
        };
        twins += 1;
        let (s1, twin) = check_json(&path);
        let (s2, orig) = check_json(&path.with_file_name(format!("{original}.json")));
        assert_eq!(s1, s2, "{name}");
        for key in ["refused", "unresolved", "notes"] {
            assert_eq!(twin["cloud"][key], orig["cloud"][key], "{name}: {key}");
        }
    }
    assert!(twins >= 3);
}

/// Issue #21's Done-when, in the text output: the office-only AWS group names all 22 ranges
/// as refused on 443 (and 80) by "no rule allows", exit 1.
#[test]
fn an_office_only_aws_group_refuses_all_22_ranges_by_no_rule_allows() {
    let path = cloud_dir().join("aws-office-443.json");
    let o = run(&["check", path.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("(aws-security-groups, 2 rules evaluated on TCP): REFUSED"),
        "{text}"
    );
    for port in [80, 443] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("  refused on {port}/tcp by no rule allows")))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(line.contains(": 22 ranges: "), "{line}");
        for range in embedded("all") {
            assert!(line.contains(&range), "{range} not in {line}");
        }
    }
}

#[test]
fn a_damaged_export_is_an_error_naming_the_file() {
    let env = TestEnv::new();
    let whole = std::fs::read_to_string(cloud_dir().join("aws-office-443.json")).unwrap();
    let cut = env.write("sg.json", &whole[..whole.len() / 2]);
    let o = run(&["check", cut.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(
        stderr(&o).contains(&format!(
            "{}: looks like a cloud security group export",
            cut.display()
        )),
        "{}",
        stderr(&o)
    );
    let bad = env.write(
        "gcp.json",
        whole_gcp_with(json!({"IPProtocol": "tcp", "ports": ["80-8O"]})),
    );
    let o = run(&["check", bad.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(
        stderr(&o).contains("gcp-firewall export: allow-web: bad port"),
        "{}",
        stderr(&o)
    );
}

fn whole_gcp_with(entry: Value) -> String {
    json!([{"name": "allow-web", "network": "global/networks/default", "direction": "INGRESS",
        "priority": 1000, "allowed": [entry], "sourceRanges": ["0.0.0.0/0"]}])
    .to_string()
}
