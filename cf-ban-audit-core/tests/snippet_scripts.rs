//! The shell scripts of the `firewalld` and `imunify360` snippets, run by the real `/bin/sh`
//! (dash on Debian) against stand-ins for `firewall-cmd` and `imunify360-agent`: neither
//! program runs in the tests (firewalld needs its daemon, Imunify360 is not in Debian). The
//! stand-ins log their arguments and answer as the programs do by their sources and
//! documentation: `firewall-cmd --permanent --new-ipset` of an existing name prints
//! `Error: NAME_CONFLICT: new_ipset(): 'NAME'` and exits 26, `--info-ipset` prints
//! `  type: ...` and `  options: family=...`, `--query-*` print yes/no and exit 0/1
//! (firewalld's `firewall-cmd` and `firewall/command.py`); `imunify360-agent ip-list local add`
//! prints `OK` (Imunify360 CLI documentation).

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
        .env_remove("ZONE")
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
    for target in [
        Target::Firewalld,
        Target::Imunify360,
        Target::Iptables,
        Target::Ufw,
        Target::GcpFirewall,
        Target::AzureNsg,
        Target::AlibabaSg,
        Target::TencentSg,
    ] {
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

/// `firewall-cmd` with `cloudflare4` already there (a hash:net holding 173.245.48.0/20) and
/// `cloudflare6` new.
const FIREWALL_CMD: &str = r#"#!/bin/sh
echo "$*" >> "$LOG"
case "$*" in
*--new-ipset=cloudflare4*)
    echo "Error: NAME_CONFLICT: new_ipset(): 'cloudflare4'" >&2
    exit 26 ;;
*--info-ipset=cloudflare4*)
    printf 'cloudflare4\n  type: %s\n  options: family=inet\n  entries: 173.245.48.0/20\n' "${CF4_TYPE:-hash:net}"
    exit 0 ;;
*--ipset=cloudflare4\ --query-entry=173.245.48.0/20*)
    echo yes
    exit 0 ;;
*--query-entry=*|*--query-rich-rule=*)
    echo no
    exit 1 ;;
esac
echo success
"#;

#[test]
fn firewalld_reuses_an_existing_ipset_and_takes_the_zone() {
    let cf = cloudflare::embedded();
    let script = Target::Firewalld.generate(&cf);
    let (out, calls) = run_with_stub(&script, "firewall-cmd", FIREWALL_CMD, &[("ZONE", "dmz")]);
    assert!(out.status.success(), "{}\n{calls}", text(&out));
    assert!(
        text(&out).contains("ipset cloudflare4 exists (NAME_CONFLICT): reusing it"),
        "{}",
        text(&out)
    );
    let calls: Vec<&str> = calls.lines().collect();
    let adds: Vec<&str> = calls
        .iter()
        .filter_map(|c| c.split("--add-entry=").nth(1))
        .collect();
    // Every range but the one the ipset had, each once.
    let expected: Vec<String> = cf
        .nets()
        .iter()
        .map(|n| n.to_string())
        .filter(|n| n != "173.245.48.0/20")
        .collect();
    assert_eq!(adds, expected);
    assert!(calls
        .contains(&"--permanent --new-ipset=cloudflare6 --type=hash:net --option=family=inet6"));
    let rules: Vec<&&str> = calls
        .iter()
        .filter(|c| c.contains("--add-rich-rule="))
        .collect();
    assert_eq!(rules.len(), 4, "{calls:?}");
    assert!(
        rules
            .iter()
            .all(|c| c.starts_with("--permanent --zone=dmz ")),
        "{rules:?}"
    );
    assert_eq!(calls.last(), Some(&"--reload"));
}

#[test]
fn firewalld_zone_defaults_to_public() {
    let cf = cloudflare::embedded();
    let (out, calls) = run_with_stub(
        &Target::Firewalld.generate(&cf),
        "firewall-cmd",
        FIREWALL_CMD,
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        calls
            .matches("--permanent --zone=public --add-rich-rule=")
            .count(),
        4
    );
}

#[test]
fn firewalld_refuses_an_ipset_of_another_type_and_says_so() {
    let cf = cloudflare::embedded();
    let (out, calls) = run_with_stub(
        &Target::Firewalld.generate(&cf),
        "firewall-cmd",
        FIREWALL_CMD,
        &[("CF4_TYPE", "hash:ip")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ipset cloudflare4 exists and is not hash:net"),
        "{stderr}"
    );
    assert!(stderr.contains("not done: cloudflare4"), "{stderr}");
    // The IPv6 half still ran.
    assert!(
        !calls.contains("--ipset=cloudflare4 --add-entry="),
        "{calls}"
    );
    assert_eq!(calls.matches("--ipset=cloudflare6 --add-entry=").count(), 7);
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
