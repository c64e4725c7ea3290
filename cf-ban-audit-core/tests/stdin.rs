//! `scan -`: every format that is not a database reads the same from standard input as from
//! its file, since the readers see only bytes and the scanner opens everything (csf's
//! `Include` targets included).

use std::path::Path;

use cf_ban_audit_core::{cloudflare, Report, Scanner};

fn fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

/// (address, scope) of every finding, sorted.
fn found(report: &Report) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = report
        .findings
        .iter()
        .map(|f| (f.address_text(), f.scope.clone()))
        .collect();
    v.sort();
    v
}

fn from_stdin(bytes: Vec<u8>) -> Report {
    let now = "2026-11-24T12:00:00".parse().unwrap();
    Scanner::new(cloudflare::embedded())
        .now(now)
        .stdin_bytes(bytes)
        .scan()
}

fn from_file(path: &Path) -> Report {
    let now = "2026-11-24T12:00:00".parse().unwrap();
    Scanner::new(cloudflare::embedded())
        .now(now)
        .path(path)
        .scan()
}

#[test]
fn csf_deny_follows_its_includes_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let extra = dir.path().join("extra.deny");
    std::fs::copy(fixture("csf/extra.deny"), &extra).unwrap();
    // On standard input a relative Include has no directory to resolve against: name the
    // included file by its absolute path.
    let deny = std::fs::read_to_string(fixture("csf/csf.deny"))
        .unwrap()
        .replace(
            "Include extra.deny",
            &format!("Include {}", extra.display()),
        );
    let report = from_stdin(deny.clone().into_bytes());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let got = found(&report);
    assert!(
        got.contains(&("188.114.97.3".into(), "csf.deny".into())),
        "the included file's ban is found: {got:?}"
    );
    let on_disk = dir.path().join("csf.deny");
    std::fs::write(&on_disk, deny).unwrap();
    assert_eq!(got, found(&from_file(&on_disk)));
    assert_eq!(got.len(), 5);
}

#[test]
fn nft_json_reads_whole_from_standard_input() {
    let path = fixture("nftables/crowdsec-ruleset.json");
    let report = from_stdin(std::fs::read(&path).unwrap());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let got = found(&report);
    // The bouncer's set is CrowdSec's: with no decision of its own in sight, the finding is
    // CrowdSec's, named after the set.
    assert!(got.contains(&(
        "104.16.5.5".into(),
        "nftables crowdsec/crowdsec-blacklists-CAPI".into()
    )));
    assert_eq!(report.files[0].format.name(), "nftables-json");
    assert_eq!(got, found(&from_file(&path)));
}

#[test]
fn mod_evasive_syslog_lines_read_from_standard_input() {
    let path = fixture("mod_evasive/syslog");
    let report = from_stdin(std::fs::read(&path).unwrap());
    let got = found(&report);
    assert!(got.iter().any(|(a, _)| a == "104.16.5.6"), "{got:?}");
    assert!(
        !got.iter().any(|(a, _)| a == "104.16.0.1"),
        "forged line: {got:?}"
    );
    assert_eq!(got, found(&from_file(&path)));
}

#[test]
fn a_database_on_standard_input_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fail2ban.sqlite3");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE fail2banDb(version INTEGER);")
        .unwrap();
    let report = from_stdin(std::fs::read(&path).unwrap());
    // Nothing tells it apart without its name: skipped, never misread as text.
    assert!(report.findings.is_empty());
    assert_eq!(report.skipped_files, 1);
}

/// A reader that hands over at most `step` bytes a call, as a pipe may.
struct Trickle<R> {
    inner: R,
    step: usize,
}

impl<R: std::io::Read> std::io::Read for Trickle<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.step);
        self.inner.read(&mut buf[..n])
    }
}

/// (address, scope, state, last seen, expires, evidence lines) of every finding, sorted.
fn states(report: &Report) -> Vec<String> {
    let mut v: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            let lines: Vec<u64> = f.evidence.iter().map(|e| e.location.line).collect();
            format!(
                "{} {} {:?} {:?} {:?} {lines:?}",
                f.address_text(),
                f.scope,
                f.state,
                f.last_seen,
                f.expires
            )
        })
        .collect();
    v.sort();
    v
}

/// A fail2ban log of about `mb` MiB: bans and unbans of Cloudflare and other addresses in
/// several jails, so that the findings depend on every line and its order.
fn large_fail2ban_log(mb: usize) -> String {
    let mut log = String::with_capacity(mb << 20);
    let jails = ["sshd", "nginx-http-auth", "recidive", "apache-auth"];
    let mut i = 0u64;
    while log.len() < mb << 20 {
        let (h, m, s) = ((i / 3600) % 24, (i / 60) % 60, i % 60);
        let day = 1 + (i / 86_400) % 28;
        let jail = jails[(i % 4) as usize];
        let addr = if i % 7 == 0 {
            format!("104.16.{}.{}", (i / 7) % 200, i % 250)
        } else {
            format!("198.51.100.{}", i % 250)
        };
        let action = if i % 5 == 0 { "Unban" } else { "Ban" };
        log.push_str(&format!(
            "2026-11-{day:02} {h:02}:{m:02}:{s:02},{:03} fail2ban.actions        [{}]: NOTICE  [{jail}] {action} {addr}\n",
            i % 1000,
            1000 + i % 9000,
        ));
        i += 1;
    }
    log
}

/// `scan -` streams: a large standard input read through `Scanner::stdin`, in pieces of any
/// size, gives exactly the findings (states, times, evidence lines) and line count of the same
/// bytes read from a file.
#[test]
fn a_large_standard_input_streams_to_the_findings_of_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fail2ban.log");
    std::fs::write(&path, large_fail2ban_log(6)).unwrap();
    let now = "2026-11-24T12:00:00".parse().unwrap();
    let scanner = || Scanner::new(cloudflare::embedded()).now(now);
    let file = scanner().path(&path).threads(1).scan();
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    assert!(file.findings.len() >= 500, "{}", file.findings.len());
    let expected = states(&file);
    for step in [usize::MAX, 8191, 4097, 1000] {
        let reader = Trickle {
            inner: std::fs::File::open(&path).unwrap(),
            step,
        };
        let report = scanner().stdin(reader).scan();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.files.len(), 1);
        assert_eq!(report.files[0].path, "-");
        assert_eq!(report.files[0].format.name(), "fail2ban-log");
        assert_eq!(report.files[0].lines, file.files[0].lines, "step {step}");
        assert_eq!(states(&report), expected, "step {step}");
    }
}

/// A whole-document format streamed a byte at a time is read as from its file; the reader is
/// read once, so a second scan says standard input is gone instead of finding nothing.
#[test]
fn a_document_streams_and_a_reader_is_read_once() {
    let path = fixture("nftables/crowdsec-ruleset.json");
    let reader = Trickle {
        inner: std::fs::File::open(&path).unwrap(),
        step: 1,
    };
    let scanner = Scanner::new(cloudflare::embedded())
        .now("2026-11-24T12:00:00".parse().unwrap())
        .stdin(reader);
    let report = scanner.clone().scan();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.files[0].format.name(), "nftables-json");
    assert_eq!(found(&report), found(&from_file(&path)));
    let again = scanner.scan();
    assert!(again.findings.is_empty());
    assert_eq!(again.errors.len(), 1);
    assert!(
        again.errors[0]
            .message
            .contains("standard input was read by an earlier scan"),
        "{:?}",
        again.errors
    );
}
