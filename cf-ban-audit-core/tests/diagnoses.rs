//! The diagnoses of whole trees (`fixtures/diagnoses/CASE/`: fail2ban's `jail.local` and log,
//! nginx and Apache configuration): each `expected.json` lists, beside its findings, the
//! diagnoses in order, each with its kind, its subject and text its evidence or fix must hold
//! (paths relative to the case). And the jails' log paths and actions as the real fail2ban
//! reads them (`fail2ban-client -c DIR -d`) are the ones the diagnoses name.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use cf_ban_audit_core::{cloudflare, Report, Scanner};
use chrono::NaiveDateTime;
use serde_json::Value;

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(common::fixtures().join("diagnoses"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn scan(dir: &Path, fail2ban_config: Option<&Path>) -> Report {
    let now: NaiveDateTime = "2026-11-24T12:00:00".parse().unwrap();
    let mut scanner = Scanner::new(cloudflare::embedded()).path(dir).now(now);
    if let Some(config) = fail2ban_config {
        scanner = scanner.fail2ban_config(config);
    }
    scanner.scan()
}

/// `text` with the case directory taken out of its paths.
fn relative(text: &str, dir: &Path) -> String {
    text.replace(&format!("{}/", dir.display()), "")
}

#[test]
fn every_tree_gives_its_expected_diagnoses() {
    let all = cases();
    assert!(all.len() >= 5, "cases missing: {all:?}");
    let mut failures = Vec::new();
    for dir in all {
        let expected: Value =
            serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
        let report = scan(&dir, None);
        let got: Vec<(String, String)> = report
            .diagnoses
            .iter()
            .map(|d| (d.kind.to_string(), relative(&d.subject, &dir)))
            .collect();
        let want: Vec<(String, String)> = expected["diagnoses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["kind"].as_str().unwrap().to_string(),
                    d["subject"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        if got != want {
            failures.push(format!("{}: expected {want:?}, got {got:?}", dir.display()));
            continue;
        }
        for (d, e) in report
            .diagnoses
            .iter()
            .zip(expected["diagnoses"].as_array().unwrap())
        {
            let text = relative(&format!("{}\n{}", d.evidence.join("\n"), d.fix), &dir);
            for says in e["says"].as_array().unwrap() {
                let says = says.as_str().unwrap();
                if !text.contains(says) {
                    failures.push(format!(
                        "{}: {} ({}) does not say {says:?}:\n{text}",
                        dir.display(),
                        d.kind,
                        d.subject
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The fixture's `jail.local` over the installed `jail.conf`, `paths-*.conf`, filters and
/// actions, read by `fail2ban-client -d`: the log path and actions it gives each web jail are
/// the ones `firewall-bans-ineffective` names, for the jail that bans in the firewall only.
#[test]
fn the_jails_named_are_wired_as_fail2ban_reads_them() {
    let client =
        common::which("fail2ban-client").filter(|_| Path::new("/etc/fail2ban/jail.conf").is_file());
    let Some(client) = common::need(
        client,
        "fail2ban-client not installed (apt-get install fail2ban)",
    ) else {
        return;
    };
    let case = common::fixtures().join("diagnoses").join("restored");
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("fail2ban");
    std::fs::create_dir(&conf).unwrap();
    for name in ["filter.d", "action.d"] {
        common::copy_tree(&Path::new("/etc/fail2ban").join(name), &conf.join(name));
    }
    for entry in std::fs::read_dir("/etc/fail2ban").unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("paths-") || name == "fail2ban.conf" || name == "jail.conf" {
            std::fs::copy(&path, conf.join(&name)).unwrap();
        }
    }
    std::fs::copy(
        case.join("etc/fail2ban/jail.local"),
        conf.join("jail.local"),
    )
    .unwrap();
    let out = Command::new(client)
        .arg("-c")
        .arg(&conf)
        .arg("-d")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("ERROR"),
        "{stderr}"
    );
    // ['set', 'nginx-botsearch', 'addlogpath', '/var/log/nginx/access.log', 'head']
    let mut logpaths: Vec<(String, String)> = Vec::new();
    let mut actions: Vec<(String, String)> = Vec::new();
    for line in stdout.lines() {
        let quoted: Vec<&str> = line.split('\'').skip(1).step_by(2).collect();
        match quoted.as_slice() {
            ["set", jail, "addlogpath", path, ..] => {
                logpaths.push((jail.to_string(), path.to_string()))
            }
            ["set", jail, "addaction", action] => {
                actions.push((jail.to_string(), action.to_string()))
            }
            _ => {}
        }
    }
    let of = |v: &[(String, String)], jail: &str| -> Vec<String> {
        v.iter()
            .filter(|(j, _)| j == jail)
            .map(|(_, x)| x.clone())
            .collect()
    };
    assert_eq!(of(&actions, "nginx-http-auth"), ["nginx-block-map"]);
    let report = scan(&case.join("var"), Some(&conf));
    let names: Vec<String> = report
        .diagnoses
        .iter()
        .filter(|d| d.kind == "firewall-bans-ineffective")
        .map(|d| d.subject.clone())
        .collect();
    // Without the nginx configuration nothing says addresses are restored.
    assert!(names.is_empty(), "{names:?}");
    let report = scan(&case, Some(&conf));
    let ineffective: Vec<_> = report
        .diagnoses
        .iter()
        .filter(|d| d.kind == "firewall-bans-ineffective")
        .collect();
    assert_eq!(ineffective.len(), 1, "{:?}", report.diagnoses);
    let d = ineffective[0];
    assert_eq!(d.subject, "fail2ban jail nginx-botsearch");
    let text = d.evidence.join("\n");
    let theirs = of(&actions, "nginx-botsearch");
    assert_eq!(theirs, ["nftables-multiport"]);
    assert!(
        text.contains(&format!(
            "bans with {} in the host firewall",
            theirs.join(", ")
        )),
        "{text}"
    );
    let logpath = of(&logpaths, "nginx-botsearch");
    assert!(text.contains(&format!("it reads {}", logpath[0])), "{text}");
}
