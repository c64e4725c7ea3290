//! The 521 lab: a real nginx and a real fail2ban in an origin namespace ban the Cloudflare
//! address of an edge namespace after failed logins (the edge's requests then fail to
//! connect: Cloudflare's 521), with the `iptables-multiport` and the `nftables-multiport`
//! banaction. The scan of the log, the database and the live state must show that one ban,
//! in force, with its evidence and the command that lifts it; once the ignoreip snippet is
//! merged into jail.local and fail2ban restarted its jails, the edge gets through again and
//! the scan must show the ban lifted.
//!
//! Each run prints the scans' JSON and text (and keeps its directories when
//! `CF_BAN_AUDIT_LAB_KEEP` is set). The expected report shape is in [`expected_shape`].

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use common::*;

const JAIL: &str = "nginx-http-auth";

/// The origin's site: a page, and a location behind basic authentication whose failures
/// fail2ban's stock `nginx-http-auth` filter matches in the error log.
const SERVER: &str = r#"  server {
    listen 80;
    server_name origin.test;
    root PREFIX/www;
    location / { }
    location /private/ {
      auth_basic "lab";
      auth_basic_user_file PREFIX/htpasswd;
    }
  }"#;

/// The jail: two failures within 10 minutes ban for an hour, with the banaction under test.
const JAIL_LOCAL: &str = "[DEFAULT]
backend = polling
ignoreip = 127.0.0.1/8 ::1

[nginx-http-auth]
enabled = true
port = 80
logpath = LOGPATH
maxretry = 2
findtime = 10m
bantime = 1h
banaction = BANACTION
";

#[test]
fn lab_521_fail2ban_iptables_multiport() {
    lab_521("iptables-multiport", "iptables");
}

#[test]
fn lab_521_fail2ban_nftables_multiport() {
    lab_521("nftables-multiport", "nft");
}

/// One scan's outputs, saved under the lab directory and printed.
struct Scan {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Scan {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", self.stdout, self.stderr))
    }
}

/// The two phases the report is checked in.
enum Phase<'a> {
    /// fail2ban holds the ban: `scan --live --format json`.
    Banned { json: &'a Scan },
    /// After the ignoreip fix and `reload --restart`: `scan --live --format json`,
    /// `scan --live --active` and `scan --live --format nagios`.
    Fixed {
        json: &'a Scan,
        active: &'a Scan,
        nagios: &'a Scan,
    },
}

/// What the report should say about the edge's ban. Returns every mismatch (the test prints
/// them all with the JSON). Points marked NEW are the behaviour being built in the core:
/// one finding per ban with its `evidence` from every source (the log, the database and the
/// live state, where a fail2ban chain or set counts as fail2ban's), `lift` in the JSON, and a
/// ban that fail2ban dropped on restart because the address is now ignored counted as lifted
/// although its database row may remain.
fn expected_shape(phase: &Phase, banaction: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            bad.push(what);
        }
    };
    let findings_for = |r: &Value| -> Vec<Value> {
        r["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|f| f["address"] == EDGE_V4)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    };
    match phase {
        Phase::Banned { json } => {
            let r = json.json();
            check(
                r["errors"].as_array().is_some_and(|e| e.is_empty()),
                format!("no errors, got {}", r["errors"]),
            );
            check(json.code == 1, format!("exit status 1, got {}", json.code));
            let mine = findings_for(&r);
            check(
                mine.len() == 1,
                format!(
                    "NEW: exactly one finding for {EDGE_V4}, got {}: {:?}",
                    mine.len(),
                    mine.iter().map(describe).collect::<Vec<_>>()
                ),
            );
            let Some(f) = mine
                .iter()
                .find(|f| f["tool"] == "fail2ban" && f["scope"] == JAIL)
            else {
                check(false, format!("a fail2ban finding in jail {JAIL}"));
                return bad;
            };
            check(
                f["state"] == "active" && f["active"] == true,
                format!("state active, got {} (active {})", f["state"], f["active"]),
            );
            let evidence = f["evidence"].as_array().cloned().unwrap_or_default();
            check(!evidence.is_empty(), "NEW: an evidence array".to_string());
            for e in &evidence {
                check(
                    ["format", "path", "line", "state"]
                        .iter()
                        .all(|k| e.get(k).is_some()),
                    format!("NEW: evidence items with format, path, line, state: {e}"),
                );
            }
            let formats: Vec<&str> = evidence
                .iter()
                .filter_map(|e| e["format"].as_str())
                .collect();
            for want in ["fail2ban-log", "fail2ban-db"] {
                check(
                    formats.contains(&want),
                    format!("NEW: evidence from {want}, got {formats:?}"),
                );
            }
            let firewall = if banaction.starts_with("iptables") {
                "iptables-save"
            } else {
                "nftables"
            };
            check(
                formats.contains(&"fail2ban-banned") || formats.contains(&firewall),
                format!("NEW: live evidence (fail2ban-banned or {firewall}), got {formats:?}"),
            );
            // With `-s SOCKET` when the scan asked the server on that socket.
            let lift: Vec<&str> = f["lift"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let unban = ["set", JAIL, "unbanip", EDGE_V4];
            check(
                matches!(lift.as_slice(), ["fail2ban-client", rest @ ..]
                    if rest == unban || (rest.len() == 6 && rest[0] == "-s" && rest[2..] == unban)),
                format!("NEW: lift in the JSON, got {}", f["lift"]),
            );
        }
        Phase::Fixed {
            json,
            active,
            nagios,
        } => {
            let r = json.json();
            check(
                r["errors"].as_array().is_some_and(|e| e.is_empty()),
                format!("no errors, got {}", r["errors"]),
            );
            let mine = findings_for(&r);
            let states: Vec<String> = mine
                .iter()
                .map(|f| format!("{}: {}", describe(f), text(&f["state"])))
                .collect();
            check(
                !mine
                    .iter()
                    .any(|f| f["state"] == "active" || f["active"] == true),
                format!("NEW: no finding for {EDGE_V4} active, got {states:?}"),
            );
            check(
                mine.len() == 1 && mine[0]["state"] == "lifted",
                format!("NEW: one finding for {EDGE_V4}, lifted, got {states:?}"),
            );
            check(
                active.code == 0
                    // The findings part: a diagnosis may name the edge as its evidence.
                    && !active.stdout.split("\nDiagnosis:").next().unwrap_or_default().contains(EDGE_V4)
                    && active
                        .stdout
                        .contains("No bans of Cloudflare addresses found."),
                format!(
                    "NEW: scan --active exits 0 with no findings, got {}:\n{}",
                    active.code, active.stdout
                ),
            );
            check(
                nagios.code == 0 && nagios.stdout.starts_with("CF-BAN-AUDIT OK"),
                format!(
                    "NEW: Nagios OK, got {}: {}",
                    nagios.code,
                    nagios.stdout.trim()
                ),
            );
        }
    }
    bad
}

/// `tool/format/scope` of a finding.
fn describe(f: &Value) -> String {
    format!(
        "{}/{}/{}",
        text(&f["tool"]),
        text(&f["format"]),
        text(&f["scope"])
    )
}

/// A JSON string as text, anything else as JSON.
fn text(v: &Value) -> String {
    v.as_str()
        .map(String::from)
        .unwrap_or_else(|| v.to_string())
}

fn lab_521(banaction: &str, firewall: &str) {
    let what = format!("521 lab ({banaction})");
    let short = if firewall == "nft" { "nft" } else { "ipt" };
    let Some((topo, lab, keep)) = lab_start(&what, firewall, &format!("lab-{short}"), "cfba-lab-")
    else {
        return;
    };
    let www = lab.path().join("www");
    std::fs::create_dir_all(www.join("private")).unwrap();
    std::fs::write(www.join("index.html"), "origin\n").unwrap();
    std::fs::write(www.join("private/index.html"), "secret\n").unwrap();
    std::fs::write(lab.path().join("htpasswd"), "admin:{PLAIN}right-password\n").unwrap();
    let nginx = Nginx::start(&topo.origin, lab.path(), SERVER);
    let error_log = nginx.error_log();
    let url = format!("http://{ORIGIN_V4}/");
    let private = format!("http://{ORIGIN_V4}/private/");
    let (rc, status, said) = topo.edge_curl(&url, &[]);
    assert_eq!((rc, status.as_str()), (0, "200"), "{said}");

    let jail_local = JAIL_LOCAL
        .replace("LOGPATH", &error_log.display().to_string())
        .replace("BANACTION", banaction);
    let Some(mut f2b) =
        Fail2ban::start_in(&what, &topo.origin.0, Fail2banDb::File, &[JAIL], |_| {
            jail_local
        })
    else {
        return;
    };
    f2b.dir.disable_cleanup(keep);
    eprintln!(
        "lab {what}: nginx prefix {}, fail2ban dir {}{}",
        lab.path().display(),
        f2b.dir.path().display(),
        if keep { " (kept)" } else { "" }
    );

    // Failed logins from the edge until fail2ban bans it: after each, wait for fail2ban to
    // count it (`Found`) or to ban.
    let ban_line = format!("[{JAIL}] Ban {EDGE_V4}");
    let found_line = format!("[{JAIL}] Found {EDGE_V4}");
    let mut banned_log = None;
    for attempt in 1..=6 {
        let (rc, status, said) = topo.edge_curl(&private, &["-u", "admin:wrong"]);
        if rc == 0 {
            assert_eq!(status, "401", "{said}");
        }
        let seen = wait_until(Duration::from_secs(5), || {
            let log = f2b.log_text();
            (log.contains(&ban_line) || log.matches(&found_line).count() >= attempt).then_some(log)
        });
        if let Some(log) = seen.filter(|log| log.contains(&ban_line)) {
            banned_log = Some(log);
            break;
        }
    }
    let Some(banned_log) = banned_log else {
        panic!(
            "no {ban_line:?}; fail2ban log:\n{}\nnginx error log:\n{}",
            f2b.log_text(),
            std::fs::read_to_string(&error_log).unwrap_or_default()
        );
    };
    // The 521: the edge cannot connect any more (the firewall rule follows the log line).
    let refused = wait_until(Duration::from_secs(10), || {
        let (rc, _, said) = topo.edge_curl(&url, &[]);
        (rc == 7 || rc == 28).then_some((rc, said))
    });
    let (rc, said) = refused.unwrap_or_else(|| panic!("the edge still connects after the ban"));
    eprintln!("lab {what}: banned edge: curl exit {rc}: {said}");
    let banned = stdout(&f2b.client(&["banned"]));
    assert!(banned.contains(EDGE_V4), "{banned}");
    eprintln!(
        "===== lab {what}: fail2ban log up to the ban =====\n{banned_log}\n\
         ===== fail2ban-client banned: {}",
        banned.trim()
    );

    let scan = |name: &str, extra: &[&str]| -> Scan {
        let socket = f2b.socket();
        let log = f2b.log();
        let db = f2b.db();
        let mut args = vec![
            "scan",
            "--live",
            // The lab is fail2ban's: another tool installed on the host running the test
            // (cscli without its Local API, say) must not turn its verdict into an error.
            "--source",
            "fail2ban",
            "--fail2ban-socket",
            socket.to_str().unwrap(),
            "--color",
            "never",
        ];
        args.extend_from_slice(extra);
        args.push(log.to_str().unwrap());
        args.push(db.to_str().unwrap());
        let o: Output = run_in(&topo.origin.0, &args, &[]);
        let s = Scan {
            code: code(&o),
            stdout: stdout(&o),
            stderr: stderr(&o),
        };
        save(lab.path(), name, &s);
        eprintln!(
            "===== lab {what}: cf-ban-audit {} (exit {}) =====\n{}{}",
            args.join(" "),
            s.code,
            s.stdout,
            if s.stderr.is_empty() {
                String::new()
            } else {
                format!("stderr:\n{}", s.stderr)
            }
        );
        s
    };
    let before_json = scan("before.json", &["--format", "json"]);
    scan("before.txt", &[]);

    // The fix: merge the ignoreip snippet, restart the jails, wait for the ban to go.
    let jail_file = f2b.conf().join("jail.local");
    let merged = run(&[
        "snippet",
        "fail2ban",
        "--existing",
        jail_file.to_str().unwrap(),
    ]);
    assert_eq!(code(&merged), 0, "{}", stderr(&merged));
    let new = f2b.conf().join("jail.local.new");
    std::fs::write(&new, &merged.stdout).unwrap();
    std::fs::rename(&new, &jail_file).unwrap();
    let log_before_reload = f2b.log_text().len();
    let reload = f2b.client(&["reload", "--restart"]);
    assert!(
        reload.status.success(),
        "reload --restart: {}{}",
        stdout(&reload),
        stderr(&reload)
    );
    let gone = wait_until(Duration::from_secs(20), || {
        let out = f2b.client(&["banned"]);
        (out.status.success() && !stdout(&out).contains(EDGE_V4)).then(|| stdout(&out))
    });
    assert!(
        gone.is_some(),
        "fail2ban still bans {EDGE_V4} after reload --restart:\n{}",
        f2b.log_text()
    );
    let back = wait_until(Duration::from_secs(10), || {
        let (rc, status, _) = topo.edge_curl(&url, &[]);
        (rc == 0 && status == "200").then_some(())
    });
    assert!(
        back.is_some(),
        "the edge still cannot connect after the fix"
    );
    eprintln!(
        "===== lab {what}: fail2ban log after reload --restart =====\n{}",
        &f2b.log_text()[log_before_reload..]
    );
    eprintln!(
        "===== lab {what}: fail2ban-client banned after the fix: {}",
        gone.unwrap().trim()
    );
    print_db_bans(&f2b.db());

    let after_json = scan("after.json", &["--format", "json"]);
    scan("after.txt", &[]);
    let after_active = scan("after-active.txt", &["--active"]);
    let after_nagios = scan("after-nagios.txt", &["--format", "nagios"]);

    let mut bad = expected_shape(&Phase::Banned { json: &before_json }, banaction);
    let before_bad = bad.len();
    bad.extend(expected_shape(
        &Phase::Fixed {
            json: &after_json,
            active: &after_active,
            nagios: &after_nagios,
        },
        banaction,
    ));
    if !bad.is_empty() {
        let (before, after) = bad.split_at(before_bad);
        panic!(
            "{what}: the report differs from the expected shape.\nBanned:\n  - {}\nFixed:\n  - {}\n\
             JSON while banned:\n{}\nJSON after the fix:\n{}",
            before.join("\n  - "),
            after.join("\n  - "),
            before_json.stdout,
            after_json.stdout
        );
    }
}

/// Writes one scan's outputs beside the lab (`NAME`, and `NAME.stderr` when it said anything).
fn save(dir: &Path, name: &str, s: &Scan) {
    std::fs::write(dir.join(name), &s.stdout).unwrap();
    if !s.stderr.is_empty() {
        std::fs::write(dir.join(format!("{name}.stderr")), &s.stderr).unwrap();
    }
}

/// Prints the database's bans (`sqlite3`, when installed): whether the row survives the fix.
fn print_db_bans(db: &Path) {
    if !have("sqlite3") {
        return;
    }
    let out = std::process::Command::new("sqlite3")
        .arg("-readonly")
        .arg(db)
        .arg(
            "SELECT 'bans', jail, ip, timeofban, bantime, bancount FROM bans; \
             SELECT 'bips', jail, ip, timeofban, bantime, bancount FROM bips;",
        )
        .output()
        .unwrap();
    eprintln!(
        "===== fail2ban database bans after the fix (table|jail|ip|timeofban|bantime|bancount) =====\n{}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// [`expected_shape`] accepts the report being built (and refuses today's shape), so a lab
/// failure is the scanner's, not a typo in the expectations. Needs no root.
#[test]
fn expected_shape_accepts_the_target_report() {
    let scan = |code: i32, stdout: String| Scan {
        code,
        stdout,
        stderr: String::new(),
    };
    let finding = |state: &str, evidence: Value| {
        serde_json::json!({
            "address": EDGE_V4, "range": "173.245.48.0/20", "tool": "fail2ban",
            "format": "fail2ban-log", "scope": JAIL, "active": state == "active",
            "state": state, "evidence": evidence,
            "lift": ["fail2ban-client", "set", JAIL, "unbanip", EDGE_V4],
        })
    };
    let item = |format: &str, state: &str| serde_json::json!({"format": format, "path": "p", "line": 1, "state": state});
    let report = |f: Value| serde_json::json!({"findings": [f], "errors": []}).to_string();
    let banned = scan(
        1,
        report(finding(
            "active",
            serde_json::json!([
                item("fail2ban-log", "active"),
                item("fail2ban-db", "active"),
                item("nftables", "active")
            ]),
        )),
    );
    assert_eq!(
        expected_shape(&Phase::Banned { json: &banned }, "nftables-multiport"),
        Vec::<String>::new()
    );
    // The nftables set is no evidence for the iptables banaction.
    assert_eq!(
        expected_shape(&Phase::Banned { json: &banned }, "iptables-multiport").len(),
        1
    );
    let fixed = scan(
        1,
        report(finding(
            "lifted",
            serde_json::json!([
                item("fail2ban-log", "lifted"),
                item("fail2ban-db", "lifted")
            ]),
        )),
    );
    let active = scan(
        0,
        "Ranges: x\n\nNo bans of Cloudflare addresses found.\n".to_string(),
    );
    let nagios = scan(
        0,
        "CF-BAN-AUDIT OK - no bans of Cloudflare addresses in force\n".to_string(),
    );
    let phase = Phase::Fixed {
        json: &fixed,
        active: &active,
        nagios: &nagios,
    };
    assert_eq!(
        expected_shape(&phase, "iptables-multiport"),
        Vec::<String>::new()
    );
    // Today's shape: one finding per source, no evidence, the database's still active.
    let mut today = finding("active", Value::Null);
    today.as_object_mut().unwrap().remove("lift");
    let today = scan(1, report(today));
    assert_eq!(
        expected_shape(&Phase::Banned { json: &today }, "iptables-multiport").len(),
        5
    );
}
