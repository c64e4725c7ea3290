//! The shell script of the `imunify360` snippet, run by the real `/bin/sh` (dash on Debian)
//! against a stand-in for `imunify360-agent` (Imunify360 is not in Debian). The stand-in logs
//! its arguments and answers as the program does by its documentation: `imunify360-agent
//! ip-list local add` prints `OK`.

use std::path::Path;
use std::process::{Command, Output};

use cf_ban_audit_core::cloudflare;
use cf_ban_audit_core::snippet::Target;

/// Runs `script` with `sh`, a stand-in `program` (a shell script) first on PATH, and `env`.
/// Returns the output and the stand-in's log, one call a line.
fn run_with_stub(
    script: &str,
    program: &str,
    stub: &str,
    env: &[(&str, &str)],
) -> (Output, String) {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let stub_path = bin.join(program);
    std::fs::write(&stub_path, stub).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&stub_path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script_path = dir.path().join("snippet.sh");
    std::fs::write(&script_path, script).unwrap();
    let log = dir.path().join("calls.log");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .arg(&script_path)
        .env("PATH", path)
        .env("LOG", &log)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    (out, calls)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn scripts_pass_sh_syntax_check() {
    let cf = cloudflare::embedded();
    for target in [Target::Imunify360, Target::Iptables, Target::Ufw] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sh");
        std::fs::write(&path, target.generate(&cf)).unwrap();
        let out = Command::new("sh")
            .arg("-n")
            .arg(Path::new(&path))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}: {}", target.name(), text(&out));
    }
}

/// `imunify360-agent` that refuses one range (as for one already listed) and adds the rest.
const IMUNIFY360_AGENT: &str = r#"#!/bin/sh
echo "$*" >> "$LOG"
case "$*" in
*" 104.16.0.0/13 "*)
    echo "Error: IP 104.16.0.0/13 is already in the list" >&2
    exit 1 ;;
esac
echo OK
"#;

#[test]
fn imunify360_runs_every_add_and_names_the_failures() {
    let cf = cloudflare::embedded();
    let (out, calls) = run_with_stub(
        &Target::Imunify360.generate(&cf),
        "imunify360-agent",
        IMUNIFY360_AGENT,
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls.len(), 22, "every add ran: {calls:?}");
    for (call, net) in calls.iter().zip(cf.nets()) {
        assert_eq!(
            *call,
            format!("ip-list local add --purpose white {net} --comment Cloudflare")
        );
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("these ranges were not added (see the errors above): 104.16.0.0/13\n"),
        "{stderr}"
    );
    // With nothing refused it says so and exits 0.
    let (out, _) = run_with_stub(
        &Target::Imunify360.generate(&cf),
        "imunify360-agent",
        "#!/bin/sh\necho OK\n",
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("all 22 ranges added"));
}
