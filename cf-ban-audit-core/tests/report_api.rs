//! The report as a typed value: it reads back from its JSON, it is told to an embedder as the
//! scan goes ([`Scanner::scan_with`]), it quotes the first malformed lines of a file and it
//! keeps the kind of input/output errors.

mod common;

use std::path::{Path, PathBuf};

use cf_ban_audit_core::{
    cloudflare, BanState, ErrorEntry, FileStats, Finding, Report, ReportSink, Scanner,
};
use common::my_waf::MY_WAF;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

#[test]
fn a_report_reads_back_equal() {
    let report = Scanner::new(cloudflare::embedded())
        .ranges_source(cloudflare::embedded_source())
        .path(fixtures())
        .scan();
    assert!(!report.findings.is_empty() && !report.diagnoses.is_empty());
    assert!(report.findings.iter().any(|f| f.expires.is_some()));
    let text = serde_json::to_string(&report).unwrap();
    let back: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(back, report);
    assert_eq!(serde_json::to_string(&back).unwrap(), text);
}

#[test]
fn addresses_are_written_as_before() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fail2ban.log"),
        "2026-11-24 03:06:43,833 fail2ban.actions        [1]: NOTICE  [sshd] Ban 172.64.155.20\n",
    )
    .unwrap();
    let report = Scanner::new(cloudflare::embedded()).path(dir.path()).scan();
    let json = serde_json::to_value(&report).unwrap();
    let f = &json["findings"][0];
    assert_eq!(
        (&f["address"], &f["range"]),
        (&"172.64.155.20".into(), &"172.64.0.0/13".into())
    );
    assert_eq!(report.findings[0].address.to_string(), "172.64.155.20/32");
    // A clean file's statistics have no samples.
    assert!(
        json["files"][0].get("malformed_samples").is_none(),
        "{json}"
    );
}

/// A file of `n` lines whose lines 300, 600, ... are malformed.
fn waf_file(n: u64) -> String {
    let mut text = String::from("MYWAF 1\n");
    for line in 2..=n {
        if line % 300 == 0 {
            text.push_str(&format!("BLOCK bad-{line}\n"));
        } else {
            text.push_str(&format!("BLOCK 104.16.{}.{}\n", line / 250, line % 250));
        }
    }
    text
}

#[test]
fn the_first_malformed_lines_are_quoted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("blocks.txt"), waf_file(2200)).unwrap();
    let whole = Scanner::new(cloudflare::embedded())
        .format(MY_WAF)
        .unwrap()
        .threads(1)
        .path(dir.path())
        .scan();
    // The same file read as many chunks in parallel: line numbers count from the file's start.
    let chunked = Scanner::new(cloudflare::embedded())
        .format(MY_WAF)
        .unwrap()
        .threads(2)
        .chunk_threshold(2048)
        .path(dir.path())
        .scan();
    for report in [&whole, &chunked] {
        let stats = &report.files[0];
        assert_eq!(stats.malformed, 7);
        let samples: Vec<(u64, &str)> = stats
            .malformed_samples
            .iter()
            .map(|m| (m.line, m.message.as_str()))
            .collect();
        assert_eq!(
            samples,
            [
                (300, "not an address: bad-300"),
                (600, "not an address: bad-600"),
                (900, "not an address: bad-900"),
                (1200, "not an address: bad-1200"),
                (1500, "not an address: bad-1500"),
            ]
        );
        let json = serde_json::to_value(stats).unwrap();
        assert_eq!(json["malformed_samples"][4]["line"], 1500);
        assert_eq!(
            json["malformed_samples"][0]["message"],
            "not an address: bad-300"
        );
    }
}

#[test]
fn io_errors_keep_their_kind() {
    let missing = Path::new("/nonexistent/cf-ban-audit/path");
    let report = Scanner::new(cloudflare::embedded()).path(missing).scan();
    let error = &report.errors[0];
    assert_eq!(error.kind, Some(std::io::ErrorKind::NotFound));
    assert_eq!(
        error.message,
        "/nonexistent/cf-ban-audit/path: no such file or directory"
    );
    let json = serde_json::to_value(error).unwrap();
    assert_eq!(json["kind"], "not-found");
    let plain = ErrorEntry::new(None, "x");
    assert!(serde_json::to_value(&plain).unwrap().get("kind").is_none());
}

/// Records what a scan tells it, in order.
#[derive(Default)]
struct Recorder {
    calls: Vec<String>,
    files: Vec<FileStats>,
    findings: Vec<Finding>,
    errors: Vec<ErrorEntry>,
}

impl ReportSink for Recorder {
    fn file(&mut self, stats: &FileStats) {
        self.calls.push(format!("file {}", stats.path));
        self.files.push(stats.clone());
    }

    fn error(&mut self, error: &ErrorEntry) {
        self.calls.push("error".into());
        self.errors.push(error.clone());
    }

    fn finding(&mut self, finding: &Finding) {
        self.calls.push("finding".into());
        self.findings.push(finding.clone());
    }
}

#[test]
fn findings_are_told_once_final() {
    let dir = tempfile::tempdir().unwrap();
    // The ban is in the older file, its lifting in the newer one.
    std::fs::write(
        dir.path().join("fail2ban.log.1"),
        "2026-11-24 03:06:43,833 fail2ban.actions        [1]: NOTICE  [sshd] Ban 172.64.155.20\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("fail2ban.log"),
        "2026-11-24 04:06:43,833 fail2ban.actions        [1]: NOTICE  [sshd] Unban 172.64.155.20\n\
         2026-11-24 04:07:43,833 fail2ban.actions        [1]: NOTICE  [sshd] Ban 104.16.0.1\n",
    )
    .unwrap();
    let scanner = Scanner::new(cloudflare::embedded())
        .path(dir.path())
        .path(dir.path().join("absent"))
        .threads(2);
    let mut rec = Recorder::default();
    let report = scanner.scan_with(&mut rec);
    assert_eq!(report, {
        let mut again = scanner.scan();
        again.scanned_at = report.scanned_at;
        again
    });
    assert_eq!(rec.findings, report.findings);
    // Log lines alone: the ban with no unban is possibly in force (nothing says how long
    // it lasts), the other lifted.
    let states: Vec<(String, BanState)> = rec
        .findings
        .iter()
        .map(|f| (f.address_text(), f.state))
        .collect();
    assert_eq!(
        states,
        [
            ("104.16.0.1".into(), BanState::Unconfirmed),
            ("172.64.155.20".into(), BanState::Lifted)
        ]
    );
    rec.files.sort_by(|a, b| a.path.cmp(&b.path));
    assert_eq!(rec.files, report.files);
    assert_eq!(rec.errors, report.errors);
    // The walk's error first, the files as they finish, the findings at the end.
    assert_eq!(rec.calls[0], "error");
    assert!(rec.calls[1..3].iter().all(|c| c.starts_with("file ")));
    assert_eq!(rec.calls[3..], ["finding", "finding"]);

    // A closure is a sink of findings.
    let mut in_force = Vec::new();
    scanner.scan_with(&mut |f: &Finding| {
        if f.state != BanState::Lifted {
            in_force.push(f.address_text())
        }
    });
    assert_eq!(in_force, ["104.16.0.1"]);
}

/// `report.schema.json` names every tool, state and diagnosis the library writes, and the
/// report still reads back from JSON an older version wrote (times without an offset).
#[test]
fn the_schema_names_every_tool_state_and_kind() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("../report.schema.json")).unwrap(),
    )
    .unwrap();
    let names = |def: &str| -> Vec<String> {
        schema["$defs"][def]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let tools: Vec<String> = cf_ban_audit_core::Tool::ALL
        .iter()
        .map(|t| t.name().to_string())
        .collect();
    assert_eq!(names("tool"), tools);
    for state in [
        BanState::Active,
        BanState::Expired,
        BanState::Lifted,
        BanState::Unconfirmed,
        BanState::Denied,
        BanState::Challenge,
        BanState::Unknown,
    ] {
        assert!(
            names("state").contains(&state.as_str().to_string()),
            "{state:?}"
        );
    }
    let kinds = schema["$defs"]["diagnosis"]["properties"]["kind"]["enum"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(kinds, 4);
    // A report of before times had offsets reads back, as local times.
    let old = r#"{"version":1,"host":"web1","scanned_at":"2026-11-01T10:00:00",
        "ranges":{"source":"cf","v4":1,"v6":0},"findings":[],"diagnoses":[],"files":[],
        "skipped_files":0,"errors":[],"notes":[]}"#;
    let report: Report = serde_json::from_str(old).unwrap();
    assert_eq!(report.scanned_at.to_string(), "2026-11-01 10:00:00");
    let written = serde_json::to_value(&report).unwrap();
    assert!(written["scanned_at"].as_str().unwrap().ends_with('Z'));
}
