//! fail2ban's jail configuration decides what a ban seen only in a log means: its `bantime`
//! says when it ends, and an address the jail now ignores is not restored on restart.

mod common;

use std::path::Path;

use cf_ban_audit_core::{cloudflare, BanState, Finding, Report, Scanner};
use chrono::NaiveDateTime;

/// Bans at 10:00 (sshd, recidive) and a restored ban at 10:30 (sshd).
const LOG: &str = "\
2026-11-24 10:00:00,100 fail2ban.actions        [1]: NOTICE  [sshd] Ban 104.16.0.1
2026-11-24 10:00:00,200 fail2ban.actions        [1]: NOTICE  [recidive] Ban 104.16.0.2
2026-11-24 10:00:00,300 fail2ban.actions        [1]: NOTICE  [sshd] Ban 172.64.0.9
";

const JAIL_LOCAL: &str = "\
[DEFAULT]
bantime = 1h
ignoreip = 127.0.0.1/8 ::1

[sshd]
enabled = true
ignoreip = %(known/ignoreip)s 172.64.0.0/13

[recidive]
enabled = true
bantime = 1w
bantime.increment = true
";

fn write_tree(dir: &Path, config: Option<&str>) {
    std::fs::create_dir_all(dir.join("log")).unwrap();
    std::fs::write(dir.join("log/fail2ban.log"), LOG).unwrap();
    if let Some(config) = config {
        std::fs::create_dir_all(dir.join("etc/fail2ban")).unwrap();
        std::fs::write(dir.join("etc/fail2ban/jail.local"), config).unwrap();
    }
}

fn scan(scanner: Scanner, now: &str) -> Report {
    let now: NaiveDateTime = now.parse().unwrap();
    scanner.now(now).scan()
}

fn finding<'r>(report: &'r Report, address: &str) -> &'r Finding {
    report
        .findings
        .iter()
        .find(|f| f.address_text() == address)
        .unwrap_or_else(|| panic!("{address}: {:#?}", report.findings))
}

#[test]
fn without_a_configuration_log_bans_are_unconfirmed_with_their_age() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), None);
    let report = scan(
        Scanner::new(cloudflare::embedded()).path(dir.path()),
        "2026-11-24T13:00:00",
    );
    let f = finding(&report, "104.16.0.1");
    assert_eq!(f.state, BanState::Unconfirmed);
    assert_eq!(
        f.note.as_deref(),
        Some("banned 2 h ago, length unknown"),
        "{f:#?}"
    );
    assert!(report.notes.is_empty(), "{:?}", report.notes);
}

#[test]
fn the_configuration_in_the_scan_gives_ban_lengths_and_ignore_lists() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), Some(JAIL_LOCAL));
    let scanner = || Scanner::new(cloudflare::embedded()).path(dir.path());

    // 30 minutes after: sshd's hour-long ban is in force, until 11:00.
    let report = scan(scanner(), "2026-11-24T10:30:00");
    assert!(
        report.notes[0].starts_with("fail2ban's jail configuration in "),
        "{:?}",
        report.notes
    );
    let f = finding(&report, "104.16.0.1");
    assert_eq!(f.state, BanState::Active, "{f:#?}");
    assert_eq!(
        f.expires,
        Some("2026-11-24T11:00:00.100".parse().unwrap()),
        "{f:#?}"
    );
    assert!(
        f.note.as_deref().unwrap().contains("jail.local:2"),
        "{f:#?}"
    );

    // Three hours after: ended.
    let report = scan(scanner(), "2026-11-24T13:00:00");
    assert_eq!(finding(&report, "104.16.0.1").state, BanState::Expired);
    // recidive bans for a week: the first ban is not incremented.
    let f = finding(&report, "104.16.0.2");
    assert_eq!(f.state, BanState::Active, "{f:#?}");
    assert_eq!(
        f.expires,
        Some("2026-12-01T10:00:00.200".parse().unwrap()),
        "{f:#?}"
    );

    // The jail now ignores 172.64.0.0/13: fail2ban does not restore that ban when it
    // restarts. Possibly still in force until then: unconfirmed, never an all-clear.
    let report = scan(scanner(), "2026-11-24T10:30:00");
    let f = finding(&report, "172.64.0.9");
    assert_eq!(f.state, BanState::Unconfirmed, "{f:#?}");
    assert!(
        f.note.as_deref().unwrap().contains("ignoreip of jail sshd"),
        "{f:#?}"
    );
}

#[test]
fn a_configuration_given_by_name_wins_and_several_found_are_none() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), Some(JAIL_LOCAL));
    // A second configuration elsewhere in the scan: which one holds is unknown.
    let other = dir.path().join("other/fail2ban");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(
        other.join("jail.local"),
        "[DEFAULT]\nbantime = 5m\n\n[sshd]\nenabled = true\n",
    )
    .unwrap();
    let report = scan(
        Scanner::new(cloudflare::embedded()).path(dir.path()),
        "2026-11-24T10:30:00",
    );
    assert!(
        report.notes[0].starts_with("several fail2ban configurations in the scan"),
        "{:?}",
        report.notes
    );
    assert_eq!(finding(&report, "104.16.0.1").state, BanState::Unconfirmed);
    // Named: five minutes, ended at 10:05.
    let report = scan(
        Scanner::new(cloudflare::embedded())
            .path(dir.path().join("log"))
            .fail2ban_config(&other),
        "2026-11-24T10:30:00",
    );
    assert_eq!(finding(&report, "104.16.0.1").state, BanState::Expired);
    // A directory that is no configuration is an error naming it.
    let report = scan(
        Scanner::new(cloudflare::embedded())
            .path(dir.path().join("log"))
            .fail2ban_config(dir.path().join("log")),
        "2026-11-24T10:30:00",
    );
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert!(report.errors[0]
        .message
        .contains("no jail.conf or jail.local"));
}

/// The real fail2ban's own configuration as Debian installs it: `bantime = 10m`.
#[test]
fn the_installed_configuration_reads() {
    let dir = Path::new("/etc/fail2ban");
    let Some(dir) = common::need(
        dir.join("jail.conf").is_file().then_some(dir),
        "fail2ban's configuration (/etc/fail2ban, apt-get install fail2ban)",
    ) else {
        return;
    };
    let log = tempfile::tempdir().unwrap();
    std::fs::write(log.path().join("fail2ban.log"), LOG).unwrap();
    let report = scan(
        Scanner::new(cloudflare::embedded())
            .path(log.path())
            .fail2ban_config(dir),
        "2026-11-24T10:05:00",
    );
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let f = finding(&report, "104.16.0.1");
    assert_eq!(f.state, BanState::Active, "{f:#?}");
    let report = scan(
        Scanner::new(cloudflare::embedded())
            .path(log.path())
            .fail2ban_config(dir),
        "2026-11-24T10:11:00",
    );
    assert_eq!(finding(&report, "104.16.0.1").state, BanState::Expired);
}

/// fail2ban logs `Unban` alike when a ban runs out and when `unbanip` lifts it: an `Unban` at
/// or after the end of the ban it closes (its database row's end, or the jail's `bantime` after
/// the logged ban) is the ban expiring, one before that end is a lift.
#[test]
fn an_unban_at_the_end_of_the_ban_is_its_expiry_and_one_before_it_a_lift() {
    const LOG: &str = "\
2026-11-24 10:00:00,100 fail2ban.actions        [1]: NOTICE  [nginx-short] Ban 188.114.96.3
2026-11-24 10:00:01,100 fail2ban.actions        [1]: NOTICE  [nginx-short] Ban 104.16.0.1
2026-11-24 10:00:04,000 fail2ban.actions        [1]: NOTICE  [nginx-short] Unban 104.16.0.1
2026-11-24 10:00:08,300 fail2ban.actions        [1]: NOTICE  [nginx-short] Unban 188.114.96.3
";
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("log")).unwrap();
    std::fs::write(dir.path().join("log/fail2ban.log"), LOG).unwrap();
    std::fs::create_dir_all(dir.path().join("etc/fail2ban")).unwrap();
    std::fs::write(
        dir.path().join("etc/fail2ban/jail.local"),
        "[nginx-short]\nenabled = true\nbantime = 8s\n",
    )
    .unwrap();
    let report = scan(
        Scanner::new(cloudflare::embedded()).path(dir.path()),
        "2026-11-24T10:05:00",
    );
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    let expired = finding(&report, "188.114.96.3");
    assert_eq!(expired.state, BanState::Expired, "{expired:#?}");
    assert_eq!(
        expired.expires,
        Some("2026-11-24T10:00:08.100".parse().unwrap())
    );
    assert_eq!(finding(&report, "104.16.0.1").state, BanState::Lifted);
    // Without the configuration nothing says when the ban was due to end: a lift.
    std::fs::remove_dir_all(dir.path().join("etc")).unwrap();
    let report = scan(
        Scanner::new(cloudflare::embedded()).path(dir.path()),
        "2026-11-24T10:05:00",
    );
    assert_eq!(finding(&report, "188.114.96.3").state, BanState::Lifted);
}
