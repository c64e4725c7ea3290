//! The Prometheus output as Prometheus's own tools take it: `promtool check metrics` on real
//! outputs (clean, with findings, with errors), `promtool check rules` and `promtool test
//! rules` on `contrib/prometheus/`, and the real node_exporter's textfile collector serving a
//! clean scan's file, in a network namespace of its own, every family at 0.
//!
//! `promtool` and `prometheus-node-exporter` are used from the system when installed, else
//! taken out of Debian's packages (`prometheus`, `prometheus-node-exporter`) that `.ci/run`
//! downloads to `/var/cache/cf-ban-audit-lab` and never installs: only the one binary is
//! unpacked (`dpkg-deb --fsys-tarfile | tar -x`) under cargo's test temporary directory, so
//! no service is installed or started.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use common::{code, run, skip, stderr, stdout, wait_until, Netns, TestEnv};

/// Every family the metrics have, in the order they are written.
const FAMILIES: &[&str] = &[
    "cf_ban_audit_findings",
    "cf_ban_audit_active_findings",
    "cf_ban_audit_unconfirmed_findings",
    "cf_ban_audit_challenge_findings",
    "cf_ban_audit_diagnoses",
    "cf_ban_audit_files_read",
    "cf_ban_audit_skipped_files",
    "cf_ban_audit_errors",
    "cf_ban_audit_malformed_lines",
    "cf_ban_audit_file_malformed_lines",
    "cf_ban_audit_last_scan_timestamp_seconds",
    "cf_ban_audit_scan_duration_seconds",
    "cf_ban_audit_ranges_age_seconds",
    "cf_ban_audit_build_info",
];

/// The families that are not counts of problems (a time, a duration, an age, the version).
const NOT_COUNTS: &[&str] = &[
    "cf_ban_audit_last_scan_timestamp_seconds",
    "cf_ban_audit_scan_duration_seconds",
    "cf_ban_audit_ranges_age_seconds",
    "cf_ban_audit_build_info",
];

/// Where `.ci/run` leaves the downloaded packages, then apt's cache.
const PACKAGE_DIRS: &[&str] = &["/var/cache/cf-ban-audit-lab", "/var/cache/apt/archives"];

/// `program` from the system, else `member` (`./usr/bin/...`) unpacked from the newest
/// `{package}_*.deb` in [`PACKAGE_DIRS`]; `None` with a SKIP notice (a failure when `CI` is
/// set) when neither is there.
fn program(program: &str, package: &str) -> Option<PathBuf> {
    if let Some(p) = ["/usr/bin", "/usr/sbin", "/usr/local/bin"]
        .iter()
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
    {
        return Some(p);
    }
    let deb = PACKAGE_DIRS.iter().find_map(|dir| {
        let mut debs: Vec<PathBuf> = std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{package}_")) && n.ends_with(".deb"))
            })
            .collect();
        debs.sort();
        debs.pop()
    });
    let Some(deb) = deb else {
        let why = format!(
            "needs {program} (apt-get install {package}, or `apt-get download {package}` in \
             /var/cache/cf-ban-audit-lab as .ci/run does)"
        );
        if std::env::var_os("CI").is_some() {
            panic!("required in CI: {why}");
        }
        skip(&why);
        return None;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("prometheus-debs")
        .join(deb.file_name().unwrap());
    let bin = dir.join(program);
    // One unpacking at a time; the binary appears whole (a rename), never half-written.
    static UNPACK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = UNPACK.lock().unwrap_or_else(|e| e.into_inner());
    if !bin.is_file() {
        std::fs::create_dir_all(&dir).unwrap();
        let tmp = tempfile::tempdir_in(&dir).unwrap();
        let script =
            format!("dpkg-deb --fsys-tarfile \"$0\" | tar -x -C \"$1\" ./usr/bin/{program}");
        let out = Command::new("sh")
            .args(["-c", &script])
            .arg(&deb)
            .arg(tmp.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{deb:?}: {}", stderr(&out));
        std::fs::rename(tmp.path().join("usr/bin").join(program), &bin).unwrap();
    }
    Some(bin)
}

/// Runs `promtool` with `args` in `dir`, `stdin` on its standard input.
fn promtool(tool: &Path, args: &[&str], dir: &Path, stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// The samples of each `cf_ban_audit_*` family in exposition text: family name to (labels,
/// value) pairs.
fn samples(text: &str) -> BTreeMap<String, Vec<(String, f64)>> {
    let mut out: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("cf_ban_audit_")) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = match series.split_once('{') {
            Some((n, l)) => (n, l.trim_end_matches('}')),
            None => (series, ""),
        };
        out.entry(name.to_string())
            .or_default()
            .push((labels.to_string(), value.parse().unwrap()));
    }
    out
}

/// Asserts that every family of [`FAMILIES`] is in `text` with at least one sample and that
/// every count is 0 (a clean scan).
fn assert_every_family_at_zero(text: &str) {
    let all = samples(text);
    for family in FAMILIES {
        let got = all
            .get(*family)
            .unwrap_or_else(|| panic!("{family} has no sample:\n{text}"));
        if !NOT_COUNTS.contains(family) {
            assert!(got.iter().all(|(_, v)| *v == 0.0), "{family}: {got:?}");
        }
    }
    assert_eq!(all.len(), FAMILIES.len(), "families: {:?}", all.keys());
}

/// A log of fail2ban bans of Cloudflare addresses: 60 jails with distinct names, and 5 with
/// 128-character names alike in their first 120 characters.
fn many_jails(env: &TestEnv) -> PathBuf {
    let mut log = String::new();
    let long = "x".repeat(124);
    let jails = (0..60)
        .map(|i| format!("j{i:02}-{}", "y".repeat(60)))
        .chain((0..5).map(|i| format!("{long}{i:04}")));
    for (i, jail) in jails.enumerate() {
        log.push_str(&format!(
            "2026-11-30 10:{:02}:01,123 fail2ban.actions        [812]: NOTICE  [{jail}] Ban 104.16.{i}.1\n",
            i % 60
        ));
    }
    env.write("fail2ban.log", log)
}

#[test]
fn every_family_has_samples_at_zero_on_a_clean_scan() {
    let env = TestEnv::new();
    let o = run(&[
        "scan",
        "--format",
        "prometheus",
        env.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert_every_family_at_zero(&text);
    for family in FAMILIES {
        assert!(text.contains(&format!("# HELP {family} ")), "{family}");
        assert!(
            text.contains(&format!("# TYPE {family} gauge\n")),
            "{family}"
        );
    }
    let all = samples(&text);
    // One zero sample per tool, without a scope, so sum() is 0 rather than empty.
    assert!(all["cf_ban_audit_active_findings"].contains(&("tool=\"fail2ban\"".to_string(), 0.0)));
    assert!(
        all["cf_ban_audit_diagnoses"].contains(&("kind=\"real-ip-not-restored\"".to_string(), 0.0))
    );
    let version = format!("version=\"{}\"", env!("CARGO_PKG_VERSION"));
    assert_eq!(all["cf_ban_audit_build_info"], [(version, 1.0)]);
    // The embedded list's age: from its snapshot date to now, more than 0 and less than 10 years.
    let age = all["cf_ban_audit_ranges_age_seconds"][0].1;
    assert!(age > 0.0 && age < 10.0 * 365.0 * 86400.0, "{age}");
}

#[test]
fn the_range_list_age_is_the_fetch_time_of_the_cache_in_use() {
    let env = TestEnv::new();
    let cache = env.write(
        "ips.json",
        r#"{"result":{"ipv4_cidrs":["173.245.48.0/20"],"ipv6_cidrs":["2400:cb00::/32"],"etag":"e"},"success":true}"#,
    );
    let fetched = std::time::UNIX_EPOCH + Duration::from_secs(1_767_225_600); // 2026-01-01
    std::fs::File::options()
        .write(true)
        .open(&cache)
        .unwrap()
        .set_modified(fetched)
        .unwrap();
    let logs = env.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let args = ["scan", "--format", "prometheus", logs.to_str().unwrap()];
    let o = common::run_with(&args, None, cache.to_str().unwrap());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let all = samples(&stdout(&o));
    let scanned = all["cf_ban_audit_last_scan_timestamp_seconds"][0].1;
    let age = all["cf_ban_audit_ranges_age_seconds"][0].1;
    assert_eq!(scanned - age, 1_767_225_600.0);
    // --no-cloudflare with a --ranges file: that file's modification time.
    let mut args = args.to_vec();
    args.extend(["--no-cloudflare", "--ranges", cache.to_str().unwrap()]);
    let all = samples(&stdout(&run(&args)));
    let scanned = all["cf_ban_audit_last_scan_timestamp_seconds"][0].1;
    assert_eq!(
        scanned - all["cf_ban_audit_ranges_age_seconds"][0].1,
        1_767_225_600.0
    );
}

#[test]
fn scopes_are_cut_and_capped_with_the_rest_under_other() {
    let env = TestEnv::new();
    let log = many_jails(&env);
    let o = run(&["scan", "--format", "prometheus", log.to_str().unwrap()]);
    let text = stdout(&o);
    let findings = &samples(&text)["cf_ban_audit_findings"];
    let fail2ban: Vec<&(String, f64)> = findings
        .iter()
        .filter(|(l, _)| l.starts_with("tool=\"fail2ban\""))
        .collect();
    assert_eq!(fail2ban.len(), 21, "{fail2ban:?}");
    assert!(fail2ban.iter().any(|(l, _)| l.contains("scope=\"other\"")));
    assert_eq!(fail2ban.iter().map(|(_, v)| v).sum::<f64>(), 65.0);
    for (labels, _) in &fail2ban {
        let scope = labels
            .split("scope=\"")
            .nth(1)
            .unwrap()
            .trim_end_matches('"');
        assert!(scope.chars().count() <= 120, "{scope}");
    }
    // The five long names are one scope once cut, with the most findings: kept.
    let cut = format!("scope=\"{}\"", "x".repeat(120));
    assert!(
        fail2ban.iter().any(|(l, v)| l.ends_with(&cut) && *v == 5.0),
        "{fail2ban:?}"
    );
}

#[test]
fn labels_from_the_command_line_are_on_every_sample() {
    let env = TestEnv::new();
    let dir = env.path().to_str().unwrap();
    let o = run(&[
        "scan",
        "--format",
        "prometheus",
        "--label",
        "site=shop",
        "--label",
        "role=a \"b\" \\ c\nd",
        dir,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(
            line.contains("{site=\"shop\",role=\"a \\\"b\\\" \\\\ c\\nd\"")
                || line.contains(",site=\"shop\",role=\"a \\\"b\\\" \\\\ c\\nd\"}"),
            "{line}"
        );
    }
    for bad in ["tool=x", "__name__=x", "9a=x", "a-b=x", "novalue"] {
        let o = run(&["scan", "--format", "prometheus", "--label", bad, dir]);
        assert_eq!(code(&o), 2, "{bad}");
        assert!(stderr(&o).contains("--label"), "{bad}: {}", stderr(&o));
    }
}

#[test]
fn a_new_metrics_file_is_world_readable_whatever_the_umask() {
    let env = TestEnv::new();
    let empty = env.path().join("logs");
    std::fs::create_dir(&empty).unwrap();
    let mode_after = |format: &str, name: &str| {
        let target = env.path().join(name);
        let o = Command::new("sh")
            .args(["-c", "umask 077 && exec \"$0\" \"$@\""])
            .arg(env!("CARGO_BIN_EXE_cf-ban-audit"))
            .args(["scan", "--format", format, "-o"])
            .arg(&target)
            .arg(&empty)
            .env("CF_BAN_AUDIT_CACHE", common::NO_CACHE)
            .output()
            .unwrap();
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        std::fs::metadata(&target).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(mode_after("prometheus", "cf_ban_audit.prom"), 0o644);
    // Other reports keep to the umask.
    assert_eq!(mode_after("json", "report.json"), 0o600);
}

#[test]
fn promtool_accepts_real_outputs() {
    let Some(tool) = program("promtool", "prometheus") else {
        return;
    };
    let env = TestEnv::new();
    let empty = env.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let jails = many_jails(&env);
    let root = common::root();
    let fixtures = root.join("fixtures");
    let cases: [(&str, Vec<&str>); 4] = [
        ("clean", vec![empty.to_str().unwrap()]),
        ("findings", vec![fixtures.to_str().unwrap()]),
        ("capped scopes", vec![jails.to_str().unwrap()]),
        (
            "errors",
            vec![empty.to_str().unwrap(), "/nonexistent/cf-ban-audit/log"],
        ),
    ];
    for (what, paths) in cases {
        let mut args = vec!["scan", "--format", "prometheus", "--label", "site=a\"b"];
        args.extend(paths);
        let o = run(&args);
        let text = stdout(&o);
        assert!(
            text.contains("\ncf_ban_audit_errors{site=\"a\\\"b\"} "),
            "{what}"
        );
        let check = promtool(&tool, &["check", "metrics"], &root, &o.stdout);
        assert!(
            check.status.success() && check.stdout.is_empty() && check.stderr.is_empty(),
            "{what}: promtool check metrics: {}{}\n{text}",
            stdout(&check),
            stderr(&check)
        );
    }
}

#[test]
fn shipped_alert_rules_pass_promtool_check_and_their_unit_test() {
    let Some(tool) = program("promtool", "prometheus") else {
        return;
    };
    let dir = common::root().join("contrib/prometheus");
    let check = promtool(&tool, &["check", "rules", "alerts.yml"], &dir, b"");
    assert!(
        check.status.success(),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    assert!(
        stdout(&check).contains("SUCCESS: 8 rules found"),
        "{}",
        stdout(&check)
    );
    let test = promtool(&tool, &["test", "rules", "alerts_test.yml"], &dir, b"");
    assert!(test.status.success(), "{}{}", stdout(&test), stderr(&test));
}

/// A node_exporter running in a network namespace, killed when dropped.
struct NodeExporter(Child);

impl Drop for NodeExporter {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn node_exporter_serves_every_family_at_zero_from_a_clean_scan() {
    let Some(exporter) = program("prometheus-node-exporter", "prometheus-node-exporter") else {
        return;
    };
    let Some(ns) = Netns::new("node-exporter", &["curl"]) else {
        return;
    };
    ns.exec(&["ip", "link", "set", "lo", "up"]);
    let env = TestEnv::new();
    let logs = env.path().join("logs");
    let textfiles = env.path().join("node-exporter");
    std::fs::create_dir(&logs).unwrap();
    std::fs::create_dir(&textfiles).unwrap();
    let prom = textfiles.join("cf_ban_audit.prom");
    let o = run(&[
        "scan",
        "--format",
        "prometheus",
        "-o",
        prom.to_str().unwrap(),
        logs.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let listen = "127.0.0.1:19100";
    let _exporter = NodeExporter(
        Command::new("ip")
            .args(["netns", "exec", &ns.0])
            .arg(&exporter)
            .arg(format!("--web.listen-address={listen}"))
            .args(["--collector.disable-defaults", "--collector.textfile"])
            .arg(format!(
                "--collector.textfile.directory={}",
                textfiles.display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://{listen}/metrics");
    let served = wait_until(Duration::from_secs(20), || {
        let o = Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns.0,
                "curl",
                "-sf",
                "--max-time",
                "2",
                &url,
            ])
            .output()
            .unwrap();
        o.status.success().then(|| stdout(&o))
    })
    .expect("node_exporter answers on loopback in its namespace");
    assert!(
        served.contains("\nnode_textfile_scrape_error 0\n"),
        "{served}"
    );
    assert_every_family_at_zero(&served);
}
