//! README's Ansible playbooks, run by the real `ansible-playbook` against localhost (connection
//! local). `contrib/ansible/scan.yml` scans, fetches the report, merges it on the controller
//! and keeps a fix plan, without a failed host although the scan finds bans (exit 1).
//! `contrib/ansible/fix-521.yml` runs against a real fail2ban in a network namespace of its
//! own, with a
//! Cloudflare edge and a documentation address banned: `--check` saves the plan and changes
//! nothing; a plain run lifts the edge's ban only, merges `jail.local`, reports `changed`, and
//! saves the verdict. Without root or the programs it prints `SKIP:` (with `CI` set it fails
//! instead).

mod common;

use std::process::{Command, Output};

use common::*;

/// The documentation address banned beside the edge (never lifted).
const DOC_V4: &str = "203.0.113.7";

/// One jail on an empty log, banning with iptables.
const JAIL_LOCAL: &str = "[DEFAULT]
backend = polling
ignoreip = 127.0.0.1/8 ::1

[web]
enabled = true
filter = sshd
port = http,https
logpath = LOGPATH
banaction = iptables-multiport
";

#[test]
fn the_playbook_plans_in_check_mode_and_fixes_otherwise() {
    let Some(ns) = Netns::new(
        "ansible",
        &["ansible-playbook", "fail2ban-client", "iptables"],
    ) else {
        return;
    };
    let dir = TestEnv::new();
    let log = dir.write("auth.log", "");
    let jail_local = JAIL_LOCAL.replace("LOGPATH", &log.display().to_string());
    let Some(f2b) = Fail2ban::start_in("ansible", &ns.0, Fail2banDb::Memory, &["web"], |_| {
        jail_local.clone()
    }) else {
        return;
    };
    let out = f2b.client(&["set", "web", "banip", EDGE_V4, DOC_V4]);
    assert!(out.status.success(), "{}", stderr(&out));
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let scanned = dir.path().join("scanned");
    std::fs::create_dir(&scanned).unwrap();
    let vars = serde_json::json!({
        "target": "localhost",
        "cf_ban_audit_become": false,
        "cf_ban_audit": env!("CARGO_BIN_EXE_cf-ban-audit"),
        "cf_ban_audit_args": [
            "--fail2ban-config", f2b.conf(), "--fail2ban-socket", f2b.socket(),
            "--csf-dir", "/nonexistent/csf", "--btwaf-dir", "/nonexistent/btwaf", scanned,
        ],
        "report_dir": reports,
    });
    let vars_file = dir.write("vars.json", vars.to_string());
    let inventory = dir.write(
        "hosts",
        "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n",
    );
    let ansible_home = dir.path().join("ansible-home");
    let playbook = root().join("contrib/ansible/fix-521.yml");
    let play = |extra: &[&str]| -> Output {
        let out = Command::new("ip")
            .args(["netns", "exec", &ns.0, "ansible-playbook", "-i"])
            .arg(&inventory)
            .arg(&playbook)
            .arg("-e")
            .arg(format!("@{}", vars_file.display()))
            .args(extra)
            .env("CF_BAN_AUDIT_CACHE", NO_CACHE)
            .env("ANSIBLE_HOME", &ansible_home)
            .env("ANSIBLE_LOCAL_TEMP", ansible_home.join("tmp"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
            .output()
            .unwrap();
        eprintln!(
            "ansible-playbook {extra:?}:\n{}{}",
            stdout(&out),
            stderr(&out)
        );
        out
    };
    let report = || -> serde_json::Value {
        let text = std::fs::read_to_string(reports.join("localhost-fix.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let jail_path = f2b.conf().join("jail.local");
    let before = std::fs::read_to_string(&jail_path).unwrap();

    // Check mode: the plan is saved, nothing changes, the host is ok.
    let checked = play(&["--check"]);
    assert_eq!(code(&checked), 0);
    assert!(
        stdout(&checked).contains("changed=0"),
        "{}",
        stdout(&checked)
    );
    let plan = report();
    assert!(plan.get("applied").is_none(), "{plan:#}");
    let steps = plan["plan"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3, "the lift, the write, the reload: {plan:#}");
    assert_eq!(steps[0]["address"], EDGE_V4);
    assert_eq!(std::fs::read_to_string(&jail_path).unwrap(), before);
    let banned = stdout(&f2b.client(&["get", "web", "banned"]));
    assert!(
        banned.contains(EDGE_V4) && banned.contains(DOC_V4),
        "{banned}"
    );

    // Apply: the edge's ban goes, the documentation address's stays, jail.local is merged.
    let applied = play(&[]);
    assert_eq!(code(&applied), 0);
    assert!(
        stdout(&applied).contains("changed=1"),
        "{}",
        stdout(&applied)
    );
    let result = report();
    assert_eq!(result["verdict"]["still_in_force"], serde_json::json!([]));
    assert!(result["journal"].is_string(), "{result:#}");
    let banned = stdout(&f2b.client(&["get", "web", "banned"]));
    assert!(
        !banned.contains(EDGE_V4) && banned.contains(DOC_V4),
        "{banned}"
    );
    assert!(std::fs::read_to_string(&jail_path)
        .unwrap()
        .contains("173.245.48.0/20"));
    let journal = result["journal"].as_str().unwrap().to_string();
    std::fs::remove_file(journal).unwrap();
}

/// `ansible-playbook` with private state, the inventory `localhost` (connection local).
fn playbook(dir: &std::path::Path, name: &str, vars: &serde_json::Value, extra: &[&str]) -> Output {
    let vars_file = dir.join(format!("{name}.vars.json"));
    std::fs::write(&vars_file, vars.to_string()).unwrap();
    let inventory = dir.join("hosts");
    std::fs::write(
        &inventory,
        "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n",
    )
    .unwrap();
    let home = dir.join("ansible-home");
    let out = Command::new("ansible-playbook")
        .arg("-i")
        .arg(&inventory)
        .arg(root().join("contrib/ansible").join(name))
        .arg("-e")
        .arg(format!("@{}", vars_file.display()))
        .args(extra)
        .env("CF_BAN_AUDIT_CACHE", NO_CACHE)
        .env("ANSIBLE_HOME", &home)
        .env("ANSIBLE_LOCAL_TEMP", home.join("tmp"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .current_dir(dir)
        .output()
        .unwrap();
    eprintln!(
        "ansible-playbook {name} {extra:?}:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    out
}

#[test]
fn the_scan_playbook_fetches_and_merges_a_report_with_findings_without_failing() {
    if require(
        "the scan playbook",
        &["ansible-playbook"],
        "apt-get install ansible-core",
    )
    .is_none()
    {
        return;
    }
    let dir = TestEnv::new();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::copy(
        root().join("fixtures/fail2ban/log/fail2ban-1.0.log"),
        logs.join("fail2ban.log"),
    )
    .unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let remote = dir.path().join("remote");
    let empty = dir.path().join("no-fail2ban");
    std::fs::create_dir(&empty).unwrap();
    let vars = serde_json::json!({
        "target": "localhost",
        "cf_ban_audit_become": false,
        "cf_ban_audit": env!("CARGO_BIN_EXE_cf-ban-audit"),
        "cf_ban_audit_local": env!("CARGO_BIN_EXE_cf-ban-audit"),
        "cf_ban_audit_live": false,
        "cf_ban_audit_paths": [logs],
        "report_dir": reports,
        "remote_dir": remote,
        "fix_plan": true,
    });
    let out = playbook(dir.path(), "scan.yml", &vars, &[]);
    assert_eq!(code(&out), 0);
    let said = stdout(&out);
    assert!(said.contains("failed=0"), "{said}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("localhost.json")).unwrap())
            .unwrap();
    assert_eq!(report["host"], "localhost");
    assert!(!report["findings"].as_array().unwrap().is_empty());
    let merged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("merged.json")).unwrap())
            .unwrap();
    assert_eq!(merged["hosts"].as_array().unwrap().len(), 1);
    let findings = merged["findings"].as_array().unwrap();
    assert!(!findings.is_empty() && findings.iter().all(|f| f["host"] == "localhost"));
    assert!(reports.join("localhost-fix-plan.json").is_file());
    let mode = std::fs::metadata(&remote).unwrap().permissions();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        mode.mode() & 0o777,
        0o700,
        "the report's directory is root-only"
    );
}
