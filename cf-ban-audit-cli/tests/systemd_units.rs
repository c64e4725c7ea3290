//! The systemd units in `contrib/systemd/`: `systemd-analyze verify` finds nothing to say
//! about them (with ExecStart= pointing at the built binary), `systemd-analyze security`
//! scores the logs-and-lists scan under 2.0 and the others under 3.0, and the one capability
//! the scan units keep, `CAP_DAC_READ_SEARCH`, is enough for root to read a log another user
//! owns (run through `setpriv` with that bounding set). Without the programs or root it prints
//! `SKIP:` (with `CI` set it fails instead).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::*;

const UNITS: &[&str] = &[
    "cf-ban-audit.service",
    "cf-ban-audit-live.service",
    "cf-ban-audit.timer",
    "cf-ban-audit-ranges.service",
    "cf-ban-audit-ranges.timer",
];

/// Copies of the units whose ExecStart= runs the built binary.
fn units_here(dir: &std::path::Path) {
    for unit in UNITS {
        let text = std::fs::read_to_string(root().join("contrib/systemd").join(unit)).unwrap();
        let text = text.replace("/usr/bin/cf-ban-audit", env!("CARGO_BIN_EXE_cf-ban-audit"));
        std::fs::write(dir.join(unit), text).unwrap();
    }
}

#[test]
fn the_units_verify_and_score_as_readme_says() {
    if require(
        "systemd units",
        &["systemd-analyze"],
        "apt-get install systemd",
    )
    .is_none()
    {
        return;
    }
    let env = TestEnv::new();
    units_here(env.path());
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(UNITS)
        .current_dir(env.path())
        .output()
        .unwrap();
    // verify exits 0 even for an unknown key: only silence is a pass.
    assert!(
        out.status.success() && out.stderr.is_empty() && out.stdout.is_empty(),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    for (unit, most) in [
        ("cf-ban-audit.service", 2.0),
        ("cf-ban-audit-live.service", 3.0),
        ("cf-ban-audit-ranges.service", 2.0),
    ] {
        let out = Command::new("systemd-analyze")
            .args(["security", "--offline=yes", "--no-pager", unit])
            .current_dir(env.path())
            .output()
            .unwrap();
        let text = stdout(&out);
        let score: f64 = text
            .lines()
            .find_map(|l| l.split(&format!("{unit}: ")).nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no score for {unit}: {text}{}", stderr(&out)));
        assert!(score < most, "{unit} scores {score}, not under {most}");
    }
}

#[test]
fn the_one_capability_of_the_scan_unit_reads_other_users_logs() {
    if require(
        "the scan unit's capability",
        &["setpriv"],
        "apt-get install util-linux",
    )
    .is_none()
    {
        return;
    }
    let env = TestEnv::new();
    let log = env.write(
        "fail2ban.log",
        std::fs::read(root().join("fixtures/fail2ban/log/debug-level.log")).unwrap(),
    );
    // Another user's file, mode 0640: root reads it only with a DAC capability.
    std::os::unix::fs::chown(&log, Some(33), Some(4)).unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o640)).unwrap();
    let scan = |caps: &str| {
        Command::new("setpriv")
            .args(["--bounding-set", caps, "--inh-caps=-all", "--"])
            .arg(env!("CARGO_BIN_EXE_cf-ban-audit"))
            .args(["scan", "--format", "json"])
            .arg(env.path())
            .env("CF_BAN_AUDIT_CACHE", NO_CACHE)
            .output()
            .unwrap()
    };
    let with = scan("-all,+dac_read_search");
    assert_eq!(code(&with), 1, "{}", stderr(&with));
    assert_eq!(json(&with)["findings"][0]["address"], "104.16.0.1");
    // Without it the file is refused: the capability is what the unit needs.
    let without = scan("-all");
    assert_eq!(code(&without), 2, "{}", stdout(&without));
    assert!(
        stderr(&without).contains("ermission denied"),
        "{}",
        stderr(&without)
    );
}
