//! `report.schema.json` (JSON Schema 2020-12) against real reports: `scan --format json` and
//! every line of `--format jsonl` over the fixtures validate with Python's `jsonschema`
//! (Debian's `python3-jsonschema`), reports made wrong on purpose do not, and times end in `Z`
//! whatever `TZ` the scan ran under. Without `/usr/bin/python3` and its `jsonschema` it prints
//! `SKIP:` (with `CI` set it fails instead).

mod common;

use std::process::{Command, Stdio};

use common::*;
use serde_json::Value;

/// Validates each of `docs` against the schema (`line`: against `$defs/line`); the errors,
/// one string per document (empty when it validates). `None` without the validator.
fn validate(docs: &[Value], line: bool) -> Option<Vec<String>> {
    let python = "/usr/bin/python3";
    let have = Command::new(python)
        .args(["-c", "import jsonschema"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        assert!(
            std::env::var_os("CI").is_none(),
            "required in CI: {python} with jsonschema (apt-get install python3-jsonschema)"
        );
        skip(&format!(
            "report schema: needs {python} with jsonschema (apt-get install python3-jsonschema)"
        ));
        return None;
    }
    let script = r##"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
if sys.argv[2] == "line":
    schema = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/line"}
v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
for doc in sys.stdin:
    errors = [e.json_path + ": " + e.message[:200] for e in v.iter_errors(json.loads(doc))]
    print(json.dumps("; ".join(errors)))
"##;
    let mut child = Command::new(python)
        .args(["-c", script])
        .arg(root().join("report.schema.json"))
        .arg(if line { "line" } else { "report" })
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input: String = docs.iter().map(|d| format!("{d}\n")).collect();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the validator failed");
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<String>(l).unwrap())
            .collect(),
    )
}

/// `scan ARGS` over the fixtures under `TZ=tz`.
fn scan(tz: &str, format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cf-ban-audit"))
        .args(["scan", "--format", format, "fixtures"])
        .env("CF_BAN_AUDIT_CACHE", NO_CACHE)
        .env("TZ", tz)
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn real_reports_validate_and_wrong_ones_do_not() {
    let report: Value = serde_json::from_str(&scan("Asia/Tokyo", "json")).unwrap();
    let lines: Vec<Value> = scan("America/New_York", "jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // UTC with Z whatever TZ says, in the report and on every line.
    assert!(report["scanned_at"].as_str().unwrap().ends_with('Z'));
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.len() > 100);
    for f in findings {
        for key in ["first_seen", "last_seen", "expires"] {
            if let Some(t) = f[key].as_str() {
                assert!(t.ends_with('Z'), "{key}: {t}");
            }
        }
    }
    for l in &lines {
        assert!(l["scanned_at"].as_str().unwrap().ends_with('Z'), "{l}");
        assert!(l.get("host").is_some(), "{l}");
    }
    let Some(errors) = validate(std::slice::from_ref(&report), false) else {
        return;
    };
    assert_eq!(errors, [""], "the report");
    let errors = validate(&lines, true).unwrap();
    let bad: Vec<&String> = errors.iter().filter(|e| !e.is_empty()).collect();
    assert!(bad.is_empty(), "{} lines: {bad:?}", lines.len());

    // Made wrong on purpose: each must fail.
    let mut wrong = Vec::new();
    let mut r = report.clone();
    r["scanned_at"] = Value::from("2026-12-03T14:18:20");
    wrong.push(r);
    let mut r = report.clone();
    r["findings"][0]["state"] = Value::from("gone");
    wrong.push(r);
    let mut r = report.clone();
    r["findings"][0]["surprise"] = Value::from(1);
    wrong.push(r);
    let mut r = report.clone();
    r["findings"][0]["tool"] = Value::from("iptables-legacy");
    wrong.push(r);
    let mut r = report.clone();
    r.as_object_mut().unwrap().remove("errors");
    wrong.push(r);
    let errors = validate(&wrong, false).unwrap();
    for (i, e) in errors.iter().enumerate() {
        assert!(!e.is_empty(), "wrong report {i} validated");
    }
    let mut l = lines[0].clone();
    l.as_object_mut().unwrap().remove("scanned_at");
    let mut l2 = lines[0].clone();
    l2["extra"] = Value::from(true);
    let errors = validate(&[l, l2], true).unwrap();
    assert!(errors.iter().all(|e| !e.is_empty()), "{errors:?}");
}
