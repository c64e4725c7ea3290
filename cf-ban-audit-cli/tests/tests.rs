//! End-to-end tests: the real binary run on fixtures and on trees made in a fresh temp dir.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A fresh temp dir to write inputs into, and a way to run the binary.
struct TestEnv {
    dir: tempfile::TempDir,
}

impl TestEnv {
    fn new() -> TestEnv {
        TestEnv {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        p
    }
}

fn run(args: &[&str]) -> Output {
    run_stdin(args, None)
}

fn run_stdin(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cf-ban-audit"))
        .args(args)
        .current_dir(root())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

const BAN_LINE: &str =
    "2026-11-24 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 172.64.155.20\n";

#[test]
fn scan_fixtures_reports_findings_with_exit_1_and_the_v1_fields() {
    let o = run(&["scan", "--format", "json", "fixtures"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let r = json(&o);
    assert_eq!(r["version"], 1);
    assert_eq!(r["ranges"]["v4"], 15);
    assert_eq!(r["ranges"]["v6"], 7);
    assert!(r["ranges"]["source"]
        .as_str()
        .unwrap()
        .starts_with("embedded cloudflare"));
    let f = &r["findings"][0];
    for key in [
        "address",
        "range",
        "tool",
        "format",
        "scope",
        "active",
        "first_seen",
        "last_seen",
        "events",
        "locations",
    ] {
        assert!(f.get(key).is_some(), "finding lacks {key}: {f}");
    }
    assert!(f["locations"][0]["path"].is_string() && f["locations"][0]["line"].is_u64());
    assert!(
        r["diagnoses"].is_array()
            && r["files"].is_array()
            && r["errors"].as_array().unwrap().is_empty()
    );
}

#[test]
fn nothing_found_is_exit_0() {
    let env = TestEnv::new();
    env.write(
        "fail2ban.log",
        "2026-11-24 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 192.0.2.1\n",
    );
    let o = run(&["scan", env.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains("No bans of Cloudflare addresses found"));
}

#[test]
fn a_missing_path_is_exit_2_and_findings_are_still_printed() {
    let env = TestEnv::new();
    env.write("fail2ban.log", BAN_LINE);
    let missing = env.path().join("no-such-dir");
    let o = run(&[
        "scan",
        "--format",
        "jsonl",
        missing.to_str().unwrap(),
        env.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("no-such-dir") && err.lines().count() == 1,
        "{err}"
    );
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["address"], "172.64.155.20");
}

#[test]
fn text_report_lists_active_bans_and_the_commands_that_lift_them() {
    let env = TestEnv::new();
    env.write("fail2ban.log", BAN_LINE);
    let o = run(&["scan", env.path().to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(out.contains("ACTIVE"), "{out}");
    assert!(
        out.contains("fail2ban-client set sshd unbanip 172.64.155.20"),
        "{out}"
    );
    assert!(
        out.contains("cf-ban-audit snippet fail2ban --existing /etc/fail2ban/jail.local"),
        "{out}"
    );
}

#[test]
fn forged_ban_lines_are_not_findings() {
    let env = TestEnv::new();
    env.write(
        "auth.log",
        "Nov 24 03:06:43 vm sshd[1]: Invalid user NOTICE  [sshd] Ban 104.16.0.1 from 192.0.2.1 port 22\n\
         Nov 24 03:06:44 vm sshd[1]: Invalid user fail2ban.actions[1]: NOTICE [sshd] Ban 104.16.0.2 from 192.0.2.1\n",
    );
    env.write(
        "fail2ban.log",
        "2026-11-24 03:06:43,825 fail2ban.filter         [15521]: WARNING Found a match for 'Invalid user NOTICE  [sshd] Ban 104.16.0.3' but no valid date/time found\n",
    );
    let o = run(&["scan", env.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn active_and_source_filters() {
    let env = TestEnv::new();
    env.write(
        "fail2ban.log",
        "2026-11-24 03:06:43,833 fail2ban.actions        [1]: NOTICE  [sshd] Ban 104.16.0.1\n\
         2026-11-24 03:06:44,833 fail2ban.actions        [1]: NOTICE  [sshd] Unban 104.16.0.1\n",
    );
    let o = run(&["scan", "--active", env.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let o = run(&[
        "scan",
        "--source",
        "fail2ban",
        "--format",
        "json",
        env.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1);
    assert_eq!(json(&o)["findings"][0]["active"], false);
    let o = run(&["scan", "--source", "nope", env.path().to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("unknown tool"), "{}", stderr(&o));
    let o = run(&[
        "scan",
        "--since",
        "2026-11-25",
        env.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    let o = run(&["scan", "--since", "whenever", env.path().to_str().unwrap()]);
    assert_eq!(code(&o), 2);
}

#[test]
fn extra_ranges_and_no_cloudflare() {
    let env = TestEnv::new();
    env.write(
        "logs/fail2ban.log",
        "2026-11-24 03:06:43,833 fail2ban.actions        [1]: NOTICE  [sshd] Ban 192.0.2.77\n",
    );
    let ranges = env.write("mine.txt", "# my proxies\n192.0.2.0/24\n");
    let o = run(&[
        "scan",
        "--no-cloudflare",
        "--ranges",
        ranges.to_str().unwrap(),
        "--format",
        "json",
        env.path().join("logs").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(json(&o)["findings"][0]["range"], "192.0.2.0/24");
    let o = run(&["scan", "--no-cloudflare", env.path().to_str().unwrap()]);
    assert_eq!(code(&o), 2);
}

#[test]
fn scanning_writes_nothing() {
    let env = TestEnv::new();
    let log = env.write("fail2ban.log", BAN_LINE);
    let before = std::fs::metadata(&log).unwrap().modified().unwrap();
    let entries_before = std::fs::read_dir(env.path()).unwrap().count();
    let o = run(&["scan", env.path().to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert_eq!(std::fs::read(&log).unwrap(), BAN_LINE.as_bytes());
    assert_eq!(std::fs::metadata(&log).unwrap().modified().unwrap(), before);
    assert_eq!(
        std::fs::read_dir(env.path()).unwrap().count(),
        entries_before
    );
}

#[test]
fn ranges_prints_the_embedded_list() {
    let o = run(&["ranges"]);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    assert!(out.starts_with("# embedded cloudflare"), "{out}");
    assert_eq!(out.lines().filter(|l| !l.starts_with('#')).count(), 22);
}

#[test]
fn formats_lists_every_fail2ban_source() {
    let out = stdout(&run(&["formats"]));
    for name in [
        "fail2ban-log",
        "syslog",
        "fail2ban-db",
        "fail2ban-status",
        "fail2ban-banned",
    ] {
        assert!(out.contains(name), "{out}");
    }
}

#[test]
fn snippet_fail2ban_has_every_range() {
    let o = run(&["snippet", "fail2ban"]);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    assert!(
        out.contains("[DEFAULT]") && out.contains("ignoreip"),
        "{out}"
    );
    for net in cf_ranges() {
        assert!(out.contains(&net), "{net} missing");
    }
}

#[test]
fn snippet_fail2ban_existing_keeps_the_file() {
    let env = TestEnv::new();
    let jail = env.write(
        "jail.local",
        "[DEFAULT]\nbantime = 1h\nignoreip = 127.0.0.1/8 ::1 office.example.org ; office\n\n[sshd]\nenabled = true\n",
    );
    let o = run(&["snippet", "fail2ban", "--existing", jail.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    for keep in [
        "bantime = 1h",
        "office.example.org ; office",
        "[sshd]",
        "enabled = true",
    ] {
        assert!(out.contains(keep), "{keep} lost:\n{out}");
    }
    for net in cf_ranges() {
        assert!(out.contains(&net), "{net} missing");
    }
}

fn cf_ranges() -> Vec<String> {
    stdout(&run(&["ranges"]))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(String::from)
        .collect()
}
