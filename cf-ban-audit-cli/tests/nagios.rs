//! `scan --format nagios` as the monitoring programs run it: directly as NRPE does (through
//! `/bin/sh -c`, stdout only, an empty environment), through the real `check_by_ssh` against a
//! real sshd ([`nagios_ssh`]), with its performance data checked against the monitoring
//! plugins' own range semantics (`check_cluster`), and a reader that goes away early (`| head`).

mod common;
mod nagios_ssh;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;

/// A ban in force in a fail2ban log and saved `fail2ban-client banned` output.
const BAN_LINE: &str =
    "2026-11-24 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 172.64.155.20\n";
const BANNED: &str = "[{'sshd': ['172.64.155.20']}]\n";

/// The monitoring plugins' programs the tests compare with.
const PLUGINS: &str = "/usr/lib/nagios/plugins";

/// One run of the plugin: its arguments after `scan --format nagios`, the exit status and the
/// start of the status line it must give.
pub struct Case {
    pub name: &'static str,
    /// Keeps the inputs alive.
    pub env: TestEnv,
    pub args: Vec<String>,
    pub code: i32,
    pub prefix: &'static str,
}

/// OK, WARNING, CRITICAL and UNKNOWN (an unreadable path, a usage error).
pub fn cases() -> Vec<Case> {
    let banned = || {
        let env = TestEnv::new();
        env.write("fail2ban.log", BAN_LINE);
        env.write("fail2ban-client-banned.txt", BANNED);
        env
    };
    let at = |env: &TestEnv, extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        args.push(env.path().display().to_string());
        args
    };
    let clean = TestEnv::new();
    clean.write("fail2ban.log", "");
    let warning = banned();
    let critical = banned();
    let missing = TestEnv::new();
    let bogus = TestEnv::new();
    vec![
        Case {
            name: "OK",
            args: at(&clean, &[]),
            env: clean,
            code: 0,
            prefix: "CF-BAN-AUDIT OK - no bans of Cloudflare addresses in force | 'active'=0;0;0;0 ",
        },
        Case {
            name: "WARNING",
            args: at(&warning, &["-w", "0", "-c", "5"]),
            env: warning,
            code: 1,
            prefix: "CF-BAN-AUDIT WARNING - 1 Cloudflare addresses banned now (fail2ban sshd 172.64.155.20) | 'active'=1;0;5;0 ",
        },
        Case {
            name: "CRITICAL",
            args: at(&critical, &[]),
            env: critical,
            code: 2,
            prefix: "CF-BAN-AUDIT CRITICAL - 1 Cloudflare addresses banned now (fail2ban sshd 172.64.155.20) | 'active'=1;0;0;0 ",
        },
        Case {
            name: "UNKNOWN (a path that does not exist)",
            args: vec![missing.path().join("nope").display().to_string()],
            env: missing,
            code: 3,
            prefix: "CF-BAN-AUDIT UNKNOWN - 1 errors while scanning: ",
        },
        Case {
            name: "UNKNOWN (a usage error)",
            args: at(&bogus, &["--since", "bogus"]),
            env: bogus,
            code: 3,
            prefix: "CF-BAN-AUDIT UNKNOWN - --since \"bogus\": expected ",
        },
    ]
}

/// The command line that runs a case, for a shell: the test cache, UTC, the binary.
pub fn command_line(case: &Case) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut words = vec![
        "env".to_string(),
        format!("CF_BAN_AUDIT_CACHE={NO_CACHE}"),
        "TZ=UTC".to_string(),
        quote(env!("CARGO_BIN_EXE_cf-ban-audit")),
        "scan".to_string(),
        "--format".to_string(),
        "nagios".to_string(),
    ];
    words.extend(case.args.iter().map(|a| quote(a)));
    words.join(" ")
}

/// Checks what a plugin printed: the status line first, with `|` once (before the performance
/// data), nothing that looks like performance data on the long output lines.
pub fn assert_plugin_output(case: &Case, out: &str) {
    let status = out.lines().next().unwrap_or_default();
    assert!(
        status.starts_with(case.prefix),
        "{}: want {:?}, got:\n{out}",
        case.name,
        case.prefix
    );
    assert!(status.matches('|').count() <= 1, "{status}");
    for line in out.lines().skip(1) {
        assert!(
            !line.contains('|'),
            "{}: long output with a |: {line}",
            case.name
        );
    }
}

#[test]
fn nrpe_style_invocation_gives_one_status_line_and_the_exit_status() {
    for case in cases() {
        // As NRPE runs a command: /bin/sh -c, no terminal, an almost empty environment; it
        // reads standard output only.
        let o = Command::new("/bin/sh")
            .arg("-c")
            .arg(command_line(&case))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .current_dir("/")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let out = stdout(&o);
        assert_eq!(code(&o), case.code, "{}: {out}", case.name);
        assert_plugin_output(&case, &out);
        assert!(o.stderr.is_empty(), "{}: stderr {}", case.name, stderr(&o));
    }
}

/// The performance data of a status line: label → (value, warning, critical).
fn perfdata(status: &str) -> Vec<(String, String, String, String)> {
    let (_, perf) = status.split_once(" | ").expect("performance data");
    perf.split(' ')
        .map(|item| {
            let (label, rest) = item.split_once('=').unwrap();
            let mut fields = rest.split(';').map(str::to_string);
            let value = fields.next().unwrap();
            let warn = fields.next().unwrap_or_default();
            let crit = fields.next().unwrap_or_default();
            (label.trim_matches('\'').to_string(), value, warn, crit)
        })
        .collect()
}

/// The state the monitoring plugins give `value` against the thresholds: `check_cluster`
/// counts the non-OK items of its `-d` list and compares that count with `-w`/`-c` by the
/// library's own range code.
fn check_cluster(value: usize, warn: &str, crit: &str) -> i32 {
    let data = if value == 0 {
        "0".to_string()
    } else {
        vec!["2"; value].join(",")
    };
    let mut cmd = Command::new(format!("{PLUGINS}/check_cluster"));
    cmd.args(["-s", "-d", &data]);
    if !warn.is_empty() {
        cmd.args(["-w", warn]);
    }
    if !crit.is_empty() {
        cmd.args(["-c", crit]);
    }
    let o = cmd.output().unwrap();
    code(&o)
}

#[test]
fn perfdata_thresholds_agree_with_the_monitoring_plugins_range_logic() {
    if !std::path::Path::new(PLUGINS).join("check_cluster").exists() {
        let why = "needs check_cluster (apt-get install monitoring-plugins-basic)";
        assert!(std::env::var_os("CI").is_none(), "required in CI: {why}");
        skip(&format!("Nagios threshold test: {why}"));
        return;
    }
    let banned = TestEnv::new();
    banned.write("fail2ban.log", BAN_LINE);
    banned.write("fail2ban-client-banned.txt", BANNED);
    // The log alone: an unconfirmed ban (counted with --past-since all).
    let unconfirmed = TestEnv::new();
    unconfirmed.write("fail2ban.log", BAN_LINE);
    let clean = TestEnv::new();
    clean.write("fail2ban.log", "");
    let runs: &[(&TestEnv, &[&str])] = &[
        (&banned, &[]),
        (&banned, &["-w", "0", "-c", "5"]),
        (&banned, &["-w", "5", "-c", "10"]),
        (&banned, &["-c", "@1:3"]),
        (&banned, &["-w", "~:0", "-c", "10:"]),
        (
            &banned,
            &["-w", "active=2:,unconfirmed=0", "-c", "active=@5:"],
        ),
        (&clean, &[]),
        (&clean, &["-c", "1:"]),
        (&unconfirmed, &["--past-since", "all"]),
        (
            &unconfirmed,
            &[
                "--past-since",
                "all",
                "-w",
                "unconfirmed=1",
                "-c",
                "unconfirmed=@1",
            ],
        ),
        (
            &unconfirmed,
            &["--past-since", "all", "-w", "unconfirmed=5"],
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (env, extra) in runs {
        let mut args = vec!["scan", "--format", "nagios"];
        args.extend_from_slice(extra);
        args.push(env.path().to_str().unwrap());
        let o = run(&args);
        let out = stdout(&o);
        let status = out.lines().next().unwrap();
        let perf = perfdata(status);
        let mut want = 0;
        for metric in ["active", "unconfirmed", "challenge"] {
            let (_, value, warn, crit) = perf
                .iter()
                .find(|p| p.0 == metric)
                .unwrap_or_else(|| panic!("no '{metric}' in {status}"));
            let value: usize = value.parse().unwrap();
            want = want.max(check_cluster(value, warn, crit));
        }
        assert_eq!(code(&o), want, "{extra:?}: {status}");
        let state = ["OK", "WARNING", "CRITICAL"][want as usize];
        assert!(
            status.starts_with(&format!("CF-BAN-AUDIT {state} - ")),
            "{status}"
        );
        seen.insert(want);
    }
    assert_eq!(seen.len(), 3, "OK, WARNING and CRITICAL each given");
}

#[test]
fn usage_errors_are_unknown_on_stdout_in_nagios_mode_only() {
    for extra in [
        &["--since", "bogus"][..],
        &["--bogus"],
        &["-w", "5:1"],
        &["-c", "nope=1"],
        &["--past-since", "yesterday"],
        &["-t", "0"],
    ] {
        let mut args = vec!["scan", "--format", "nagios"];
        args.extend_from_slice(extra);
        args.push("fixtures");
        let o = run(&args);
        assert_eq!(code(&o), 3, "{extra:?}: {}", stdout(&o));
        assert!(
            stdout(&o).starts_with("CF-BAN-AUDIT UNKNOWN - "),
            "{extra:?}: {}",
            stdout(&o)
        );
        assert!(o.stderr.is_empty(), "{extra:?}: {}", stderr(&o));
    }
    // `--format=nagios` too, whatever the order.
    let o = run(&["scan", "--bogus", "--format=nagios"]);
    assert_eq!(code(&o), 3, "{}", stdout(&o));
    // Other formats keep the usual usage errors (stderr, exit 2), and the plugin's options
    // are refused without --format nagios.
    let o = run(&["scan", "--since", "bogus", "fixtures"]);
    assert_eq!(code(&o), 2);
    assert!(o.stdout.is_empty() && !o.stderr.is_empty());
    let o = run(&["scan", "-w", "1", "fixtures"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--format nagios"), "{}", stderr(&o));
    // Help is help.
    let o = run(&["scan", "--format", "nagios", "--help"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("--past-since"), "{}", stdout(&o));
}

#[test]
fn the_timeout_is_an_unknown_status_line() {
    // Standard input that never ends: the scan waits until -t ends it.
    let mut child = Command::new(env!("CARGO_BIN_EXE_cf-ban-audit"))
        .args(["scan", "--format", "nagios", "-t", "1", "-"])
        .env("CF_BAN_AUDIT_CACHE", NO_CACHE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take();
    let o = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(code(&o), 3, "{}", stdout(&o));
    assert!(
        stdout(&o).starts_with("CF-BAN-AUDIT UNKNOWN - timed out after 1 seconds"),
        "{}",
        stdout(&o)
    );
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

/// Runs `scan ARGS -` with its standard output a pipe whose reader is gone before anything
/// is written (the ban comes on standard input once the reader closed); the exit status.
fn scan_into_a_closed_pipe(args: &[&str]) -> i32 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cf-ban-audit"))
        .arg("scan")
        .args(args)
        .arg("-")
        .env("CF_BAN_AUDIT_CACHE", NO_CACHE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(BANNED.as_bytes()).unwrap();
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    code(&o)
}

#[test]
fn a_broken_pipe_keeps_the_exit_status_of_the_findings() {
    assert_eq!(scan_into_a_closed_pipe(&[]), 1, "text: a ban in force");
    assert_eq!(scan_into_a_closed_pipe(&["--format", "json"]), 1);
    assert_eq!(scan_into_a_closed_pipe(&["--format", "nagios"]), 2);
    // As a shell pipeline reports it.
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; env CF_BAN_AUDIT_CACHE={NO_CACHE} '{}' scan fixtures | head -1 >/dev/null",
            env!("CARGO_BIN_EXE_cf-ban-audit")
        ))
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "scan fixtures | head -1: {}", stderr(&o));
}
