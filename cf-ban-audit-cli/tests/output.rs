//! Output and files (issue #15): what reaches a terminal is escaped, `-o` writes devices and
//! FIFOs in place and regular files atomically without following planted symlinks, `-q`
//! and `-o` do not mix, the range cache is trusted only from its owner, and standard input
//! is streamed.

use crate::common::*;

/// A jail name with an escape sequence and a bidirectional override.
const EVIL_JAIL: &str = "ss\x1b[31mhd\u{202e}";
/// A directory name with a newline and an escape sequence.
const EVIL_DIR: &str = "a\nb\x1b[2J";

/// No raw escape character, bidirectional override or newline read from the tree.
fn assert_clean(what: &str, out: &str) {
    assert!(!out.contains('\x1b'), "{what}: raw ESC in {out:?}");
    assert!(!out.contains('\u{202e}'), "{what}: raw U+202E in {out:?}");
    assert!(
        !out.contains("a\nb"),
        "{what}: raw newline of a name in {out:?}"
    );
}

#[test]
fn names_read_from_files_reach_the_terminal_escaped() {
    let env = TestEnv::new();
    env.write(
        &format!("{EVIL_DIR}/fail2ban.log"),
        format!(
            "2026-11-24 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [{EVIL_JAIL}] Ban 172.64.155.20\n"
        ),
    );
    // A malformed line: the text report and Prometheus name its file.
    env.write(
        &format!("{EVIL_DIR}/csf.deny"),
        "104.16.0.4\nnot-an-address.example # \x1b]0;title\x07\n",
    );
    let dir = env.path().to_str().unwrap();
    let text = run(&["scan", "--wide", dir]);
    let text = stdout(&text);
    assert_clean("text", &text);
    assert!(text.contains("ss\\x1b[31mhd\\u{202e}"), "{text}");
    assert!(text.contains("a\\x0ab\\x1b[2J/fail2ban.log"), "{text}");
    assert!(text.contains("a\\x0ab\\x1b[2J/csf.deny:2"), "{text}");
    // The fitted report too (the jail in the lift comment, the shortened places).
    let fitted = stdout(&run(&["scan", dir]));
    assert_clean("fitted text", &fitted);

    let log = env.path().join(EVIL_DIR).join("fail2ban.log");
    let nagios = stdout(&run(&["scan", "--format", "nagios", log.to_str().unwrap()]));
    assert_clean("nagios", &nagios);
    assert_eq!(nagios.lines().count(), 1, "{nagios}");
    assert!(nagios.contains("ss\\x1b[31mhd\\u{202e}"), "{nagios}");

    let prom = stdout(&run(&["scan", "--format", "prometheus", dir]));
    assert_clean("prometheus", &prom);
    // The backslash of the visible escape is escaped as the exposition format wants.
    assert!(
        prom.contains("scope=\"ss\\\\x1b[31mhd\\\\u{202e}\""),
        "{prom}"
    );
    // A newline is the format's own `\n`.
    assert!(prom.contains("a\\nb\\\\x1b[2J/csf.deny\""), "{prom}");
    for line in prom.lines().filter(|l| !l.starts_with('#')) {
        assert!(line.starts_with("cf_ban_audit_"), "a broken line: {line:?}");
    }

    // Errors on standard error: a path that does not exist, named with its escapes.
    let missing = env.path().join("gone\x1b[2J\ndir");
    let o = run(&["scan", "-q", missing.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert_clean("stderr", &err);
    assert!(err.contains("gone\\x1b[2J\\x0adir"), "{err}");
    // Nagios's UNKNOWN names the first error on its one line.
    let o = run(&["scan", "--format", "nagios", missing.to_str().unwrap()]);
    assert_eq!(code(&o), 3);
    let nagios = stdout(&o);
    assert_clean("nagios error", &nagios);
    assert_eq!(nagios.lines().count(), 1, "{nagios}");
    assert!(nagios.contains("gone\\x1b[2J\\x0adir"), "{nagios}");
}

#[test]
fn merge_escapes_what_other_hosts_report() {
    let env = TestEnv::new();
    env.write(
        "logs/fail2ban.log",
        format!(
            "2026-11-24 03:06:43,833 fail2ban.actions        [1]: NOTICE  [{EVIL_JAIL}] Ban 104.16.9.9\n"
        ),
    );
    let o = run(&[
        "scan",
        "--format",
        "json",
        env.path().join("logs").to_str().unwrap(),
    ]);
    let mut report = json(&o);
    report["host"] = serde_json::Value::String("web\x1b]0;pwned\x07\u{2066}1".into());
    let path = env.write("web1.json", serde_json::to_vec(&report).unwrap());
    let o = run(&["merge", path.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let text = stdout(&o);
    assert_clean("merge", &text);
    assert!(
        !text.contains('\x07') && !text.contains('\u{2066}'),
        "{text:?}"
    );
    assert!(text.contains("web\\x1b]0;pwned\\x07\\u{2066}1"), "{text}");
    assert!(text.contains("ss\\x1b[31mhd\\u{202e}"), "{text}");
}
