//! README's Ansible playbook for `fix` (`contrib/ansible/fix-521.yml`), run by the real
//! `ansible-playbook` against a real fail2ban in a network namespace of its own, with a
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
