//! `--source` keeps the events of the named tools only, event by event: a syslog file holds the
//! lines of several tools, and naming one keeps the others' bans out of the report.

use cf_ban_audit_core::{cloudflare, Report, Scanner, Tool};

const SYSLOG: &str = "\
2026-11-24T11:30:00.000000+00:00 web1 lfd[2002]: *Port Scan* detected from 162.158.10.10 (US/United States/-). 16 hits in the last 161 seconds - *Blocked in csf* for 3600 secs [PS_LIMIT]
2026-11-24T11:31:00.000000+00:00 web1 fail2ban.actions[15521]: NOTICE  [sshd] Ban 172.64.155.20
";

fn scan(sources: Option<&[Tool]>) -> Report {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("syslog"), SYSLOG).unwrap();
    let mut scanner = Scanner::new(cloudflare::embedded())
        .now("2026-11-24T12:00:00".parse().unwrap())
        .path(dir.path());
    if let Some(tools) = sources {
        scanner = scanner.sources(tools);
    }
    scanner.scan()
}

fn tools(report: &Report) -> Vec<(Tool, String)> {
    report
        .findings
        .iter()
        .map(|f| (f.tool, f.address_text()))
        .collect()
}

#[test]
fn one_syslog_file_two_tools() {
    assert_eq!(
        tools(&scan(None)),
        [
            (Tool::Fail2ban, "172.64.155.20".to_string()),
            (Tool::Csf, "162.158.10.10".to_string())
        ]
    );
    assert_eq!(
        tools(&scan(Some(&[Tool::Csf]))),
        [(Tool::Csf, "162.158.10.10".to_string())]
    );
    assert_eq!(
        tools(&scan(Some(&[Tool::Fail2ban]))),
        [(Tool::Fail2ban, "172.64.155.20".to_string())]
    );
    // The file is read either way, and its statistics count what it holds.
    let report = scan(Some(&[Tool::Csf]));
    assert_eq!(report.files.len(), 1);
    assert_eq!(report.files[0].events, 2);
    // A tool the file cannot hold skips it.
    assert_eq!(scan(Some(&[Tool::Ufw])).skipped_files, 1);
}
