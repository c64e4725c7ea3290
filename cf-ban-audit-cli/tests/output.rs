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
    let nagios = stdout(&run(&[
        "scan",
        "--format",
        "nagios",
        "--past-since",
        "all",
        log.to_str().unwrap(),
    ]));
    assert_clean("nagios", &nagios);
    // The status line names it; the long output after it is escaped too.
    assert!(
        nagios
            .lines()
            .next()
            .unwrap()
            .contains("ss\\x1b[31mhd\\u{202e}"),
        "{nagios}"
    );

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
    assert!(
        nagios
            .lines()
            .next()
            .unwrap()
            .contains("gone\\x1b[2J\\x0adir"),
        "{nagios}"
    );
    assert!(
        stderr(&o).is_empty(),
        "nothing on stderr in Nagios mode: {}",
        stderr(&o)
    );
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

/// `true` when the test may go on as root; without root it prints a SKIP notice (a failure
/// with `CI` set).
fn as_root(what: &str) -> bool {
    if is_root() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("required in CI: {what}: needs root");
    }
    skip(&format!("{what}: needs root"));
    false
}

/// A tree with one ban in force, and its path.
fn banned() -> (TestEnv, String) {
    let env = TestEnv::new();
    env.write(
        "logs/fail2ban.log",
        "2026-11-24 03:06:43,833 fail2ban.actions        [1]: NOTICE  [sshd] Ban 172.64.155.20\n",
    );
    env.write("logs/banned.txt", "[{'sshd': ['172.64.155.20']}]\n");
    let logs = env.path().join("logs").to_str().unwrap().to_string();
    (env, logs)
}

#[test]
fn output_to_dev_null_leaves_the_device() {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let (_env, logs) = banned();
    let before = std::fs::symlink_metadata("/dev/null").unwrap();
    assert!(before.file_type().is_char_device());
    // Without root the rename was refused anyway; the device must be written in place for
    // everyone.
    let o = run(&["scan", "--format", "prometheus", "-o", "/dev/null", &logs]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let after = std::fs::symlink_metadata("/dev/null").unwrap();
    assert!(after.file_type().is_char_device(), "/dev/null was replaced");
    assert_eq!((after.rdev(), after.ino()), (before.rdev(), before.ino()));
    if as_root("-o /dev/null as root") {
        // Root may rename over /dev/null: it must not.
        let o = run(&["scan", "-o", "/dev/null", &logs]);
        assert_eq!(code(&o), 1, "{}", stderr(&o));
        let after = std::fs::symlink_metadata("/dev/null").unwrap();
        assert!(after.file_type().is_char_device(), "/dev/null was replaced");
        assert_eq!((after.rdev(), after.ino()), (before.rdev(), before.ino()));
        let none: Vec<_> = std::fs::read_dir("/dev")
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".null."))
            .collect();
        assert!(none.is_empty(), "temporary files left in /dev: {none:?}");
    }
}

#[test]
fn output_to_dev_stdout_and_a_fifo_is_written_in_place() {
    use std::os::unix::fs::FileTypeExt;
    let (env, logs) = banned();
    let o = run(&["scan", "--format", "nagios", "-o", "/dev/stdout", &logs]);
    assert_eq!(code(&o), 2, "nagios CRITICAL: {}", stderr(&o));
    assert!(
        stdout(&o).starts_with("CF-BAN-AUDIT CRITICAL"),
        "{}",
        stdout(&o)
    );

    let fifo = env.path().join("report.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let o = run(&[
        "scan",
        "--format",
        "nagios",
        "-o",
        fifo.to_str().unwrap(),
        &logs,
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let read = reader.join().unwrap();
    assert!(read.starts_with("CF-BAN-AUDIT CRITICAL"), "{read}");
    let meta = std::fs::symlink_metadata(&fifo).unwrap();
    assert!(meta.file_type().is_fifo(), "the FIFO was replaced");
    assert_eq!(
        std::fs::read_dir(env.path()).unwrap().count(),
        2,
        "no temporary left"
    );
}

#[test]
fn output_replaces_a_file_atomically_and_follows_the_callers_links() {
    use std::os::unix::fs::PermissionsExt;
    let (env, logs) = banned();
    let metrics = env.path().join("metrics");
    std::fs::create_dir(&metrics).unwrap();
    let target = metrics.join("cf.prom");
    std::fs::write(&target, "old\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    // A link of the caller's own: written through, and it stays a link.
    let link = env.path().join("cf-link.prom");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = run(&[
        "scan",
        "--format",
        "prometheus",
        "-o",
        link.to_str().unwrap(),
        &logs,
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.contains("cf_ban_audit_active_findings{tool=\"fail2ban\",scope=\"sshd\"} 1"));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "the file keeps its permissions");
    assert_eq!(
        std::fs::read_dir(&metrics).unwrap().count(),
        1,
        "no temporary left"
    );
    // A directory is an error, not a rename.
    let o = run(&["scan", "-o", metrics.to_str().unwrap(), &logs]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));
}

/// The temporary's name is unpredictable and created with O_EXCL | O_NOFOLLOW: symlinks
/// planted at the names the old code used (`.NAME.tmp.PID`, for the next process ids) lead
/// nowhere.
#[test]
fn a_symlink_at_a_guessable_temporary_name_is_never_followed() {
    let (env, logs) = banned();
    let out = env.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let victim = env.write("victim.conf", "precious\n");
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(std::process::id());
    for pid in last..last + 400 {
        let _ = std::os::unix::fs::symlink(&victim, out.join(format!(".cf.prom.tmp.{pid}")));
    }
    for _ in 0..3 {
        let o = run(&[
            "scan",
            "--format",
            "prometheus",
            "-o",
            out.join("cf.prom").to_str().unwrap(),
            &logs,
        ]);
        assert_eq!(code(&o), 1, "{}", stderr(&o));
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(std::fs::read_to_string(out.join("cf.prom"))
        .unwrap()
        .contains("cf_ban_audit_findings"));
    // Only the report and the planted links: no temporary left behind.
    let extra: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "cf.prom" && !n.starts_with(".cf.prom.tmp."))
        .collect();
    assert!(extra.is_empty(), "{extra:?}");
}

/// As `fs.protected_symlinks` would (whatever the machine's setting): a symlink another user
/// owns in a sticky world-writable directory is not followed, by root least of all.
#[test]
fn a_symlink_planted_in_a_sticky_directory_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    if !as_root("a symlink planted by another user in a sticky directory") {
        return;
    }
    let (env, logs) = banned();
    let tmp = env.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let victim = env.write("etc/victim.conf", "precious\n");
    let planted = tmp.join("report.txt");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    std::os::unix::fs::lchown(&planted, Some(65534), Some(65534)).unwrap();
    // A dangling one, to a file root would create.
    let created = env.path().join("etc/cron-evil");
    let dangling = tmp.join("dangling.txt");
    std::os::unix::fs::symlink(&created, &dangling).unwrap();
    std::os::unix::fs::lchown(&dangling, Some(65534), Some(65534)).unwrap();
    for link in [&planted, &dangling] {
        let o = run(&["scan", "-o", link.to_str().unwrap(), &logs]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        assert!(
            stderr(&o).contains("refusing to follow a symlink owned by user 65534"),
            "{}",
            stderr(&o)
        );
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!created.exists());
    // A FIFO another user made there is not written either.
    let fifo = tmp.join("report.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::os::unix::fs::lchown(&fifo, Some(65534), Some(65534)).unwrap();
    let o = run(&["scan", "-o", fifo.to_str().unwrap(), &logs]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("refusing to write to a FIFO"),
        "{}",
        stderr(&o)
    );
    // A link of root's own there, or a plain new name, is fine.
    let own = tmp.join("own.txt");
    let dest = env.path().join("etc/report.txt");
    std::os::unix::fs::symlink(&dest, &own).unwrap();
    let o = run(&["scan", "-o", own.to_str().unwrap(), &logs]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(std::fs::read_to_string(&dest)
        .unwrap()
        .contains("172.64.155.20"));
    let o = run(&["scan", "-o", tmp.join("new.txt").to_str().unwrap(), &logs]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
}

/// `-q` means no report at all; `-o` asks for one: the two together are refused, and nothing
/// is written.
#[test]
fn quiet_with_output_is_refused() {
    let (env, logs) = banned();
    let target = env.path().join("report.txt");
    for quiet in ["-q", "--quiet"] {
        let o = run(&["scan", quiet, "-o", target.to_str().unwrap(), &logs]);
        assert_eq!(code(&o), 2);
        assert!(
            stderr(&o).contains("'--quiet' cannot be used with '--output <FILE>'"),
            "{}",
            stderr(&o)
        );
        assert!(!target.exists());
    }
    // Each on its own does what it says.
    let o = run(&["scan", "-q", &logs]);
    assert_eq!((code(&o), stdout(&o).as_str()), (1, ""));
    let o = run(&["scan", "-o", target.to_str().unwrap(), &logs]);
    assert_eq!((code(&o), stdout(&o).as_str()), (1, ""));
    assert!(std::fs::read_to_string(&target)
        .unwrap()
        .contains("172.64.155.20"));
}

/// A cache answer that makes the documentation network 198.18.0.0/15 Cloudflare's: whoever
/// can write the cache decides what `contains` and `scan` call Cloudflare.
const FORGED_CACHE: &str = r#"{"result":{"ipv4_cidrs":["173.245.48.0/20","198.18.0.0/15"],"ipv6_cidrs":["2606:4700::/32"],"etag":"f00d"},"success":true,"errors":[],"messages":[]}"#;

#[test]
fn a_cache_file_others_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let cache = env.write("cache/ips.json", FORGED_CACHE);
    let cache_str = cache.to_str().unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o644)).unwrap();
    // The caller's own cache, named by CF_BAN_AUDIT_CACHE: used.
    let o = run_with(&["contains", "198.18.0.1"], None, cache_str);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for mode in [0o666, 0o664] {
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(mode)).unwrap();
        let o = run_with(&["contains", "198.18.0.1"], None, cache_str);
        assert_eq!(code(&o), 1, "the embedded list is used: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("warning: ignoring the range cache (using the embedded list)")
                && err.contains(&format!("writable by other users (mode {mode:04o})")),
            "{err}"
        );
        let listed = run_with(&["ranges"], None, cache_str);
        assert!(
            stdout(&listed).starts_with("# embedded cloudflare"),
            "{}",
            stdout(&listed)
        );
    }
}

/// Runs the binary as user `uid` with only these environment variables (and PATH).
fn run_as(uid: u32, args: &[&str], envs: &[(&str, &std::path::Path)]) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    std::process::Command::new(env!("CARGO_BIN_EXE_cf-ban-audit"))
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .envs(envs.iter().map(|(k, v)| (k, v.as_os_str())))
        .current_dir("/")
        .uid(uid)
        .gid(uid)
        .output()
        .unwrap()
}

/// A user's cache is `$HOME/.cache/cf-ban-audit/ips.json`, trusted only from that user or
/// root; a user without HOME has none (and `ranges update` says so before any fetch).
#[test]
fn a_users_cache_owned_by_another_user_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    if !as_root("the cache of another user (runs the binary as nobody)") {
        return;
    }
    const NOBODY: u32 = 65534;
    const OTHER: u32 = 4242;
    let env = TestEnv::new();
    std::fs::set_permissions(env.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let home = env.path().join("home");
    let cache = env.write("home/.cache/cf-ban-audit/ips.json", FORGED_CACHE);
    let dir = cache.parent().unwrap();
    for d in [&home, &home.join(".cache"), &dir.to_path_buf()] {
        std::os::unix::fs::chown(d, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    let contains = |envs: &[(&str, &std::path::Path)]| {
        let o = run_as(NOBODY, &["contains", "198.18.0.1"], envs);
        (code(&o), stderr(&o))
    };
    let with_home = [("HOME", home.as_path())];
    std::os::unix::fs::chown(&cache, Some(NOBODY), Some(NOBODY)).unwrap();
    assert_eq!(
        contains(&with_home),
        (0, String::new()),
        "the user's own cache is used"
    );
    std::os::unix::fs::chown(&cache, Some(0), Some(0)).unwrap();
    assert_eq!(
        contains(&with_home),
        (0, String::new()),
        "root's file is trusted"
    );
    std::os::unix::fs::chown(&cache, Some(OTHER), Some(OTHER)).unwrap();
    let (status, err) = contains(&with_home);
    assert_eq!(status, 1, "refused: {err}");
    assert!(
        err.contains("the cache file is owned by user 4242, neither you (user 65534) nor root"),
        "{err}"
    );
    // The directory counts as much as the file.
    std::os::unix::fs::chown(&cache, Some(NOBODY), Some(NOBODY)).unwrap();
    std::os::unix::fs::chown(dir, Some(OTHER), Some(OTHER)).unwrap();
    let (status, err) = contains(&with_home);
    assert_eq!(status, 1, "refused: {err}");
    assert!(
        err.contains("the cache directory is owned by user 4242"),
        "{err}"
    );
    std::os::unix::fs::chown(dir, Some(NOBODY), Some(NOBODY)).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (status, err) = contains(&with_home);
    assert_eq!(status, 1, "refused: {err}");
    assert!(
        err.contains("the cache directory is writable by other users"),
        "{err}"
    );
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    // XDG_CACHE_HOME comes first.
    let xdg = env.path().join("xdg");
    std::fs::create_dir(&xdg).unwrap();
    assert_eq!(
        contains(&[("HOME", home.as_path()), ("XDG_CACHE_HOME", xdg.as_path())]).0,
        1,
        "no cache under XDG_CACHE_HOME: the embedded list"
    );
    // No HOME: no cache, never a shared directory; the report's range source says so.
    assert_eq!(contains(&[]), (1, String::new()));
    let o = run_as(NOBODY, &["ranges"], &[]);
    assert!(
        stdout(&o).starts_with("# embedded cloudflare")
            && stdout(&o).contains("no range cache: neither HOME nor XDG_CACHE_HOME is set"),
        "{}",
        stdout(&o)
    );
    let o = run_as(
        NOBODY,
        &["ranges", "update", "--ranges-url", "http://127.0.0.1:9/"],
        &[],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no range cache"), "{}", stderr(&o));
}

/// Root's cache is /var/cache/cf-ban-audit/ips.json (here on a tmpfs in a private mount
/// namespace, so the machine's stays untouched): a file chowned to nobody, or writable by
/// others, is refused with a warning.
#[test]
fn roots_cache_owned_by_nobody_is_refused() {
    if !as_root("root's cache in a private mount namespace") {
        return;
    }
    if !have("unshare") {
        if std::env::var_os("CI").is_some() {
            panic!("required in CI: unshare (util-linux)");
        }
        skip("root's cache: needs unshare (util-linux)");
        return;
    }
    let env = TestEnv::new();
    let forged = env.write("forged.json", FORGED_CACHE);
    let script = r#"
set -e
mount -t tmpfs tmpfs /var/cache
mkdir -m 0755 /var/cache/cf-ban-audit
C=/var/cache/cf-ban-audit/ips.json
cp "$FORGED" $C; chmod 0644 $C
"$B" contains 198.18.0.1 && echo "root: used"
chown nobody $C
"$B" contains 198.18.0.1 || echo "nobody: refused"
chown root $C; chmod 0666 $C
"$B" contains 198.18.0.1 || echo "0666: refused"
chmod 0644 $C; chown nobody /var/cache/cf-ban-audit
"$B" contains 198.18.0.1 || echo "directory: refused"
"#;
    let o = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .env_remove("CF_BAN_AUDIT_CACHE")
        .env_remove("XDG_CACHE_HOME")
        .env("B", env!("CARGO_BIN_EXE_cf-ban-audit"))
        .env("FORGED", &forged)
        .output()
        .unwrap();
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(o.status.success(), "{out}\n{err}");
    assert_eq!(
        out, "root: used\nnobody: refused\n0666: refused\ndirectory: refused\n",
        "{err}"
    );
    assert!(
        err.contains("/var/cache/cf-ban-audit/ips.json: the cache file is owned by user 65534, neither you (user 0) nor root"),
        "{err}"
    );
    assert!(
        err.contains("the cache file is writable by other users (mode 0666)"),
        "{err}"
    );
    assert!(
        err.contains("the cache directory is owned by user 65534"),
        "{err}"
    );
}

/// `scan -` streams standard input (never holding it whole): a log of several MiB piped in
/// gives the findings of the same file.
#[test]
fn a_large_log_on_standard_input_gives_the_findings_of_its_file() {
    let mut log = String::new();
    let mut i = 0u32;
    while log.len() < 4 << 20 {
        let addr = if i % 3 == 0 {
            format!("172.64.{}.{}", (i / 3) % 100, i % 200)
        } else {
            format!("192.0.2.{}", i % 250)
        };
        let action = if i % 4 == 0 { "Unban" } else { "Ban" };
        log.push_str(&format!(
            "2026-11-{:02} {:02}:{:02}:{:02},001 fail2ban.actions        [7]: NOTICE  [sshd] {action} {addr}\n",
            1 + (i / 86_400) % 28,
            (i / 3600) % 24,
            (i / 60) % 60,
            i % 60
        ));
        i += 1;
    }
    let env = TestEnv::new();
    let path = env.write("fail2ban.log", &log);
    let findings = |o: &std::process::Output| {
        let mut v: Vec<String> = json(o)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {} {} {}",
                    f["address"], f["scope"], f["state"], f["last_seen"]
                )
            })
            .collect();
        v.sort();
        v
    };
    let from_file = run(&["scan", "--format", "json", path.to_str().unwrap()]);
    let from_stdin = run_stdin(&["scan", "--format", "json", "-"], Some(log.as_bytes()));
    assert_eq!(
        code(&from_stdin),
        code(&from_file),
        "{}",
        stderr(&from_stdin)
    );
    let expected = findings(&from_file);
    assert!(expected.len() > 100, "{}", expected.len());
    assert_eq!(findings(&from_stdin), expected);
    let files = &json(&from_stdin)["files"];
    assert_eq!(files[0]["path"], "-");
    assert_eq!(files[0]["lines"], json(&from_file)["files"][0]["lines"]);
}
