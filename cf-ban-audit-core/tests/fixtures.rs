//! Every fixture under `fixtures/` with its expected result: `NAME.expected.json` beside an
//! input file `NAME`, or `expected.json` inside a directory that is scanned as a whole. An
//! expected result with `"written"` is checked on a copy whose files were last modified then.
//! Each expected finding names its address, scope and state (`CF_BAN_AUDIT_BLESS=1` rewrites
//! the findings of every expected file from the scan, keeping its other keys: review the diff).

mod common;

use std::path::{Path, PathBuf};

use cf_ban_audit_core::{cloudflare, Scanner};
use chrono::NaiveDateTime;
use serde_json::Value;

fn cases(dir: &Path, out: &mut Vec<(PathBuf, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            cases(&path, out);
        } else if name == "expected.json" {
            out.push((dir.to_path_buf(), path.clone()));
        } else if let Some(input) = name.strip_suffix(".expected.json") {
            out.push((dir.join(input), path.clone()));
        }
    }
}

/// A copy of `input` (a file or a directory) in a temporary directory, every file's
/// modification time set to `written` (host local time): inputs whose timed entries count
/// from the time the file was written (`ipset save`, `nft list`) get the same result on
/// every checkout.
fn pinned_copy(input: &Path, written: NaiveDateTime) -> (tempfile::TempDir, PathBuf) {
    use chrono::TimeZone;
    let dir = tempfile::tempdir().unwrap();
    let base = input.parent().unwrap();
    let when = std::time::SystemTime::from(chrono::Local.from_local_datetime(&written).unwrap());
    for entry in walkdir::WalkDir::new(input) {
        let entry = entry.unwrap();
        let to = dir.path().join(entry.path().strip_prefix(base).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
            let file = std::fs::File::options().write(true).open(&to).unwrap();
            file.set_modified(when).unwrap();
        }
    }
    let copy = dir.path().join(input.file_name().unwrap());
    (dir, copy)
}

/// (address, scope, state) triples, sorted: no two findings share an address and a scope
/// within one tool, so duplicates are kept (and fail).
fn triples(findings: &[Value]) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = findings
        .iter()
        .map(|f| {
            (
                f["address"].as_str().unwrap().to_string(),
                f["scope"].as_str().unwrap().to_string(),
                f["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// `original` with its findings replaced, in the files' layout: the keys before `"findings"`
/// as they were (`note`, `now`, `written`), then one finding a line.
fn blessed(original: &str, findings: &Value) -> String {
    let at = original
        .find("\"findings\"")
        .expect("an expected file lists its findings last");
    let lines: Vec<String> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "  {}",
                serde_json::to_string(f)
                    .unwrap()
                    .replace("\",\"", "\", \"")
                    .replace("\":", "\": ")
            )
        })
        .collect();
    let body = if lines.is_empty() {
        String::new()
    } else {
        format!("{}\n", lines.join(",\n"))
    };
    format!("{}\"findings\": [\n{body} ]\n}}\n", &original[..at])
}

/// The findings as an expected file writes them.
fn expected_findings(findings: &[Value]) -> Value {
    Value::Array(
        findings
            .iter()
            .map(|f| {
                serde_json::json!({
                    "address": f["address"],
                    "scope": f["scope"],
                    "state": f["state"],
                })
            })
            .collect(),
    )
}

#[test]
fn every_fixture_gives_its_expected_findings() {
    let mut all = Vec::new();
    cases(&common::fixtures(), &mut all);
    assert!(all.len() >= 7, "fixtures missing: {all:?}");
    let mut failures = Vec::new();
    for (input, expected_path) in &all {
        let expected: Value =
            serde_json::from_slice(&std::fs::read(expected_path).unwrap()).unwrap();
        let now: NaiveDateTime = expected["now"]
            .as_str()
            .map(|s| s.parse().expect("now is a date-time"))
            .unwrap_or_else(|| "2026-11-24T12:00:00".parse().unwrap());
        let written: Option<NaiveDateTime> = expected["written"]
            .as_str()
            .map(|s| s.parse().expect("written is a date-time"));
        let pinned = written.map(|w| pinned_copy(input, w));
        let path = pinned
            .as_ref()
            .map_or(input.as_path(), |(_, p)| p.as_path());
        let report = Scanner::new(cloudflare::embedded())
            .path(path)
            .now(now)
            .scan();
        let json = serde_json::to_value(&report).unwrap();
        let got = triples(json["findings"].as_array().unwrap());
        if std::env::var_os("CF_BAN_AUDIT_BLESS").is_some() {
            let findings = expected_findings(json["findings"].as_array().unwrap());
            let original = std::fs::read_to_string(expected_path).unwrap();
            std::fs::write(expected_path, blessed(&original, &findings)).unwrap();
            continue;
        }
        let want = triples(expected["findings"].as_array().unwrap());
        if got != want || !report.errors.is_empty() {
            failures.push(format!(
                "=== {}\n--- expected\n{want:#?}\n--- actual\n{got:#?}\n--- errors\n{:#?}",
                input.display(),
                report.errors
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn sequential_and_parallel_scans_agree() {
    let now: NaiveDateTime = "2026-11-24T12:00:00".parse().unwrap();
    let one = Scanner::new(cloudflare::embedded())
        .path(common::fixtures())
        .now(now)
        .threads(1)
        .scan();
    let many = Scanner::new(cloudflare::embedded())
        .path(common::fixtures())
        .now(now)
        .threads(4)
        .scan();
    assert_eq!(one, many);
    assert!(!one.findings.is_empty());
}

/// The buffer search (nginx's and Apache's error logs, CrowdSec's logs, syslog, the journal)
/// and the runs of lines (every other format read in lines) give the same report as the
/// line-by-line reading, line numbers, counts, malformed lines and notes included: over every
/// fixture and the tree written by the real programs, with the Cloudflare ranges and with
/// every address (so that every event is a finding).
#[test]
fn buffer_search_and_line_by_line_reading_agree() {
    let now: NaiveDateTime = "2026-11-24T12:00:00".parse().unwrap();
    let realtree = common::fixtures().join("realtree/tree");
    for ranges in [cloudflare::embedded(), common::everything()] {
        for root in [common::fixtures(), realtree.clone()] {
            let scan = |search: bool| {
                Scanner::new(ranges.clone())
                    .path(&root)
                    .now(now)
                    .threads(2)
                    .buffer_search(search)
                    .scan()
            };
            let searched = scan(true);
            assert_eq!(searched, scan(false), "{}", root.display());
            assert!(!searched.findings.is_empty());
        }
    }
}

/// One large log cut into chunks read in parallel gives the same report as one sequential read,
/// line numbers included.
#[test]
fn chunked_scan_of_a_large_log_equals_the_sequential_scan() {
    use std::fmt::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for i in 0..60_000u32 {
        let ip = format!("104.16.{}.{}", (i / 250) % 250, i % 250);
        let action = if i % 7 == 3 { "Unban" } else { "Ban" };
        let (h, m, s) = (i / 3600 % 24, i / 60 % 60, i % 60);
        let _ = writeln!(
            log,
            "2026-11-2{} {h:02}:{m:02}:{s:02},000 fail2ban.actions        [7]: NOTICE  [jail{}] {action} {ip}",
            1 + i / 86_400,
            i % 3
        );
        if i % 5 == 0 {
            let _ = writeln!(log, "2026-11-21 00:00:00,000 fail2ban.filter         [7]: INFO    [sshd] Found 192.0.2.{} - x", i % 250);
        }
    }
    let path = dir.path().join("fail2ban.log");
    std::fs::write(&path, &log).unwrap();
    let now: NaiveDateTime = "2026-11-24T12:00:00".parse().unwrap();
    let one = Scanner::new(cloudflare::embedded())
        .path(&path)
        .now(now)
        .threads(1)
        .scan();
    let chunked = Scanner::new(cloudflare::embedded())
        .path(&path)
        .now(now)
        .threads(4)
        .chunk_threshold(64 * 1024)
        .scan();
    assert_eq!(one, chunked);
    assert_eq!(one.files[0].lines, log.lines().count() as u64);
    assert!(one.findings.len() > 1000);
}

/// Rules and entries on every address (`0.0.0.0/0`, `::/0`) are policies for a port or a
/// service, not bans of Cloudflare: no finding in any format, and each file that holds one
/// says so in a note.
#[test]
fn entries_on_every_address_are_noted_never_findings() {
    let now: NaiveDateTime = "2026-11-24T12:00:00".parse().unwrap();
    let dir = common::fixtures().join("catch-all");
    for ranges in [cloudflare::embedded(), common::everything()] {
        let report = Scanner::new(ranges).path(&dir).now(now).scan();
        assert!(report.errors.is_empty(), "{:#?}", report.errors);
        assert!(
            report.findings.iter().all(|f| f.address.prefix_len() > 0),
            "{:#?}",
            report.findings
        );
        let noted: Vec<&str> = report
            .files
            .iter()
            .filter(|f| {
                f.notes
                    .iter()
                    .any(|n| n.starts_with("entries on every address (0.0.0.0/0 or ::/0)"))
            })
            .map(|f| f.path.rsplit('/').next().unwrap())
            .collect();
        // iptables writes no source for 0.0.0.0/0 (its reader skips one written by hand), and
        // ufw says Anywhere: neither gives an entry on every address.
        assert_eq!(
            noted,
            [
                "cscli-decisions-list-raw.csv",
                "csf.deny",
                "public.xml",
                "nft-list-ruleset.txt",
                "admin.conf",
            ],
            "{:#?}",
            report.files
        );
    }
}

/// A `cscli decisions list` saved after `cscli decisions delete` (crowdsec.log says nothing of
/// a deletion) is the latest word on the decisions it does not hold: the log's older bans of
/// those addresses are lifted, named in the conflict, with the listing as evidence ("absent");
/// a ban the log writes after the listing was saved stands. Saved before the log's bans, the
/// same listing lifts nothing.
#[test]
fn a_saved_listing_newer_than_the_log_lifts_what_it_does_not_hold() {
    use cf_ban_audit_core::BanState;
    let input = common::fixtures().join("crowdsec").join("deleted");
    let now: NaiveDateTime = "2026-11-24T05:00:00".parse().unwrap();
    let state = |written: &str| {
        let (_dir, copy) = pinned_copy(&input, written.parse().unwrap());
        Scanner::new(cloudflare::embedded())
            .path(&copy)
            .now(now)
            .scan()
    };
    let after = state("2026-11-24T04:00:00");
    let find = |report: &cf_ban_audit_core::Report, addr: &str| {
        report
            .findings
            .iter()
            .find(|f| f.address_text() == addr)
            .unwrap_or_else(|| panic!("{addr}: {:#?}", report.findings))
            .clone()
    };
    let deleted = find(&after, "104.16.1.10");
    assert_eq!(deleted.state, BanState::Lifted);
    let conflict = deleted.conflict.as_deref().unwrap();
    assert!(
        conflict.contains("crowdsec-log") && conflict.contains("the state follows crowdsec-csv"),
        "{conflict}"
    );
    assert_eq!(
        (
            deleted.evidence[0].format.name(),
            deleted.evidence[0].action.as_str()
        ),
        ("crowdsec-csv", "absent")
    );
    assert_eq!(find(&after, "162.158.0.0/15").state, BanState::Lifted);
    // Banned again by the log after the listing was saved: in force.
    assert_eq!(find(&after, "104.26.10.78").state, BanState::Active);
    assert_eq!(find(&after, "104.17.96.13").state, BanState::Active);
    // Held by the listing: in force.
    assert_eq!(
        find(&after, "2606:4700:3033::6815:1a2b").state,
        BanState::Active
    );
    assert_eq!(find(&after, "172.64.33.2").state, BanState::Challenge);
    // Saved before the log's bans, the listing is the older word.
    let before = state("2026-11-24T03:00:00");
    assert_eq!(find(&before, "104.16.1.10").state, BanState::Active);
    assert_eq!(find(&before, "162.158.0.0/15").state, BanState::Active);
}
