//! Scans as a user without root, the configuration file and `--exclude`. The tests that need
//! another user run the binary as `nobody` in group `adm` through `setpriv` (root reads
//! everything, so only another user meets a permission error); without root or setpriv they
//! skip with a SKIP notice, and fail under `CI`.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::*;

const BAN: &str =
    "2026-11-24 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 172.64.155.20\n";

/// Whether the tests as `nobody` can run: root and setpriv; a SKIP notice (a failure under
/// `CI`) when not.
fn can_switch_user(test: &str) -> bool {
    if is_root() && have("setpriv") {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("required in CI: root and setpriv (util-linux) for {test}");
    }
    skip(&format!(
        "{test}: needs root and setpriv (util-linux) to run as nobody"
    ));
    false
}

/// The binary run as `nobody` with group `adm` only, as a monitoring user would be.
fn run_as_nobody(args: &[&str]) -> Output {
    Command::new("setpriv")
        .args(["--reuid", "nobody", "--regid", "adm", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_cf-ban-audit"))
        .args(args)
        .env("CF_BAN_AUDIT_CACHE", NO_CACHE)
        .env("HOME", "/nonexistent")
        .env("TZ", "UTC")
        .current_dir("/")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// A tree `nobody` may walk: a readable log with a ban, and `secret.log`, root's only.
fn tree_with_a_secret() -> TestEnv {
    let env = TestEnv::new();
    std::fs::set_permissions(env.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = env.write("fail2ban.log", BAN);
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
    let secret = env.write("secret.log", BAN);
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    env
}

fn notes(o: &Output) -> Vec<String> {
    json(o)["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_default_scan_as_nobody_in_adm_ends_0_or_1_with_notes_for_what_root_would_read() {
    if !can_switch_user("default scan as nobody") {
        return;
    }
    let out = run_as_nobody(&["scan", "--format", "json"]);
    assert!(
        matches!(code(&out), 0 | 1),
        "exit {}: {}",
        code(&out),
        stderr(&out)
    );
    let report = json(&out);
    assert_eq!(report["errors"].as_array().unwrap().len(), 0, "{report}");
    // On a Debian layout /var/log/btmp is root's and the adm group's cannot read it.
    let btmp = Path::new("/var/log/btmp");
    let unreadable = std::fs::metadata(btmp).is_ok_and(|m| m.permissions().mode() & 0o044 == 0);
    if unreadable {
        let notes = notes(&out);
        assert!(
            notes.contains(&"not readable as this user: run as root to read /var/log/btmp".into()),
            "{notes:?}"
        );
    }
}

#[test]
fn an_unreadable_path_the_user_named_stays_an_error() {
    if !can_switch_user("named unreadable path") {
        return;
    }
    let env = tree_with_a_secret();
    let dir = env.path().to_str().unwrap();
    let out = run_as_nobody(&["scan", "--format", "json", dir]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let report = json(&out);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report}");
    assert!(errors[0]["path"].as_str().unwrap().ends_with("secret.log"));
    assert_eq!(errors[0]["kind"], "permission-denied", "{report}");
    // The readable file is still read.
    assert_eq!(report["findings"].as_array().unwrap().len(), 1);
    // The file named on its own, too.
    let secret = env.path().join("secret.log");
    let out = run_as_nobody(&["scan", secret.to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("secret.log"), "{}", stderr(&out));
}

#[test]
fn an_excluded_file_is_never_opened() {
    if !can_switch_user("excluded unreadable file") {
        return;
    }
    let env = tree_with_a_secret();
    let dir = env.path().to_str().unwrap();
    // Opened, secret.log would be a permission error (exit 2).
    let out = run_as_nobody(&["scan", "--format", "json", "--exclude", "secret.*", dir]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(json(&out)["errors"].as_array().unwrap().len(), 0);
    let glob = format!("{dir}/secret.log");
    let out = run_as_nobody(&["scan", "--exclude", &glob, dir]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
}

#[test]
fn exclude_leaves_out_names_and_whole_directories() {
    let env = TestEnv::new();
    env.write("fail2ban.log", BAN);
    env.write("fail2ban.log.1", BAN);
    env.write("old/deep/fail2ban.log", BAN);
    let dir = env.path().to_str().unwrap();
    let files = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["scan", "--format", "json", dir];
        args.extend_from_slice(extra);
        let out = run(&args);
        let mut files: Vec<String> = json(&out)["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                f["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches(dir)
                    .to_string()
            })
            .collect();
        files.sort();
        files
    };
    assert_eq!(files(&[]).len(), 3);
    assert_eq!(
        files(&["--exclude", "*.1", "--exclude", "old"]),
        ["/fail2ban.log"]
    );
    let deep = format!("{dir}/**/deep");
    assert_eq!(files(&["--exclude", &deep]).len(), 2);
    let out = run(&["scan", dir, "--exclude", "[oops"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("\"[oops\""), "{}", stderr(&out));
}

#[test]
fn the_configuration_file_gives_excludes_and_since_and_the_command_line_adds_to_them() {
    let env = TestEnv::new();
    env.write("logs/fail2ban.log", BAN);
    env.write("logs/fail2ban.log.1", BAN);
    let config = env.write(
        "config.toml",
        "exclude = [\"*.1\"]\nsince = \"2026-11-25\"\n",
    );
    let (config, logs) = (config.to_str().unwrap(), env.path().join("logs"));
    let logs = logs.to_str().unwrap();
    let out = run(&["scan", "--format", "json", "--config", config, logs]);
    // The one ban left (fail2ban.log.1 excluded) is older than the file's since.
    let report = json(&out);
    assert_eq!(report["files"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["findings"].as_array().unwrap().len(), 0);
    assert_eq!(code(&out), 0);
    // --since overrides the file's.
    let args = [
        "scan",
        "--format",
        "json",
        "--config",
        config,
        "--since",
        "2026-01-01",
        logs,
    ];
    let out = run(&args);
    assert_eq!(json(&out)["findings"].as_array().unwrap().len(), 1);
    // --exclude adds to the file's.
    let args = [
        "scan",
        "--format",
        "json",
        "--config",
        config,
        "--exclude",
        "*.log",
        logs,
    ];
    assert_eq!(json(&run(&args))["files"].as_array().unwrap().len(), 0);
}

#[test]
fn a_bad_or_missing_configuration_file_is_an_error_naming_file_line_and_key() {
    let env = TestEnv::new();
    let config = env.write("config.toml", "since = \"7d\"\nexlcude = [\"*.gz\"]\n");
    let out = run(&["scan", "--config", config.to_str().unwrap(), "-"]);
    assert_eq!(code(&out), 2);
    let expected = format!("{}:2: key exlcude: unknown field", config.display());
    assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
    let missing = env.path().join("none.toml");
    let out = run(&["doctor", "--no-live", "--config", missing.to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains(&missing.display().to_string()),
        "{}",
        stderr(&out)
    );
}
