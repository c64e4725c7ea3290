//! `cf-ban-audit fix --apply` on a real terminal (a pseudo-terminal from `script`), in a
//! network namespace of its own so that its live reads see an empty firewall: it asks once,
//! a "no" changes nothing, a "yes" applies. Around it, what the brief asks of every output:
//! a ban no live read confirms is named for a person with its command and never lifted
//! blindly, a failed live read shows in the text and the JSON and makes the exit 2, and
//! `--undo` restores nothing when a file was changed after the fix. Without root or `script`
//! it prints `SKIP:` (with `CI` set it fails instead).

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::*;

/// A fail2ban log whose bans nothing confirms: no server answers, no database bounds them.
const FAIL2BAN_LOG: &str = "fixtures/fail2ban/log/debug-level.log";

/// `fix ARGS` inside `ns` on a pseudo-terminal, `answer` typed at its prompt.
fn on_terminal(ns: &Netns, args: &[String], answer: &str) -> Output {
    let mut line = vec![env!("CARGO_BIN_EXE_cf-ban-audit").to_string()];
    line.extend(args.iter().cloned());
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.0,
            "script",
            "-qec",
            &line.join(" "),
            "/dev/null",
        ])
        .env("CF_BAN_AUDIT_CACHE", NO_CACHE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn fix_asks_once_on_a_terminal_names_what_it_cannot_confirm_and_says_its_errors() {
    let Some(ns) = Netns::new("fixtty", &["script", "fail2ban-client"]) else {
        return;
    };
    let dir = TestEnv::new();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::copy(root().join(FAIL2BAN_LOG), logs.join("fail2ban.log")).unwrap();
    let csf = dir.path().join("csf");
    std::fs::create_dir(&csf).unwrap();
    let ignore = csf.join("csf.ignore");
    let original = "127.0.0.1 # loopback\n192.0.2.1 # office\n";
    std::fs::write(&ignore, original).unwrap();
    let empty = dir.path().join("no-fail2ban");
    std::fs::create_dir(&empty).unwrap();
    let p = |p: &Path| p.display().to_string();
    let journal = dir.path().join("fix.jsonl");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "fix",
            "--fail2ban-config",
            &p(&empty),
            // No server there: the live read of fail2ban fails, every time.
            "--fail2ban-socket",
            &p(&dir.path().join("none.sock")),
            "--csf-dir",
            &p(&csf),
            "--btwaf-dir",
            "/nonexistent/btwaf",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push(p(&logs));
        args
    };
    let run = |extra: &[&str]| {
        let args = args(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_in(&ns.0, &args, &[])
    };

    // The plan: the csf.ignore write; the log's bans named for a person with their lift;
    // the failed live read said, and the exit is 2.
    let plan = run(&[]);
    let text = stdout(&plan);
    assert_eq!(code(&plan), 2, "{text}{}", stderr(&plan));
    assert!(text.contains("Plan (1 steps;"), "{text}");
    for address in ["104.16.0.1", "2606:4700::6810:1"] {
        let named = format!("fail2ban sshd {address}: possibly in force (banned ");
        assert!(text.contains(&named), "{named}: {text}");
        let command = format!("(run: fail2ban-client set sshd unbanip {address})");
        assert!(text.contains(&command), "{command}: {text}");
    }
    assert!(text.contains("The scan met 2 errors"), "{text}");
    assert!(text.contains("none.sock"), "{text}");
    let json = json(&run(&["--format", "json"]));
    let plan_json = &json["plan"];
    assert_eq!(plan_json["steps"].as_array().unwrap().len(), 1, "{json:#}");
    let errors = plan_json["scan_errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().unwrap().contains("none.sock")),
        "{json:#}"
    );
    let unconfirmed = plan_json["left_for_person"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["address"].is_string())
        .count();
    assert_eq!(unconfirmed, 2, "{json:#}");

    // A "no" at the prompt changes nothing; the question is asked once.
    let journal_text = p(&journal);
    let declined = on_terminal(&ns, &args(&["--apply", "--journal", &journal_text]), "n\n");
    let said = String::from_utf8_lossy(&declined.stdout).into_owned();
    assert_eq!(said.matches("Apply this step? [y/N]").count(), 1, "{said}");
    assert!(said.contains("nothing was changed"), "{said}");
    assert_eq!(std::fs::read_to_string(&ignore).unwrap(), original);
    assert!(!journal.exists());

    // A "yes" applies: csf.ignore holds the ranges, the re-scan's errors are said too.
    let applied = on_terminal(&ns, &args(&["--apply", "--journal", &journal_text]), "y\n");
    let said = String::from_utf8_lossy(&applied.stdout).into_owned();
    assert_eq!(code(&applied), 2, "{said}");
    let merged = std::fs::read_to_string(&ignore).unwrap();
    assert!(
        merged.starts_with(original) && merged.contains("173.245.48.0/20"),
        "{merged}"
    );
    assert!(said.contains("now ignores Cloudflare: csf ("), "{said}");
    assert!(said.contains("The re-scan met 2 errors"), "{said}");
    let entry: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&journal).unwrap().trim()).unwrap();
    assert_eq!(entry["action"], "write");
    assert_eq!(entry["after_sha256"].as_str().unwrap().len(), 64, "{entry}");
    assert_ne!(entry["before_sha256"], entry["after_sha256"]);

    // Changed after the fix: undo restores nothing and says why; as the fix left it: undone.
    std::fs::write(&ignore, format!("{merged}198.51.100.4\n")).unwrap();
    let refused = run_in(&ns.0, &["fix", "--undo", &journal_text], &[]);
    assert_eq!(code(&refused), 2);
    assert!(
        stderr(&refused).contains("changed since the fix wrote it"),
        "{}",
        stderr(&refused)
    );
    std::fs::write(&ignore, &merged).unwrap();
    let undone = run_in(&ns.0, &["fix", "--undo", &journal_text], &[]);
    assert_eq!(code(&undone), 0, "{}", stderr(&undone));
    assert_eq!(std::fs::read_to_string(&ignore).unwrap(), original);
}
