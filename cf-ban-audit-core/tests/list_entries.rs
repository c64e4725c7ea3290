//! A list's entries outside the scan's ranges are counted without being kept (the sink's
//! `entry` path): the file's event count, the findings and the `--source` filter are what
//! they are when every entry is handed over whole.

use cf_ban_audit_core::{cloudflare, Scanner, Tool};

const LIST: &str = "# banned by hand\n\
                    192.0.2.1\n\
                    172.64.155.20\n\
                    198.51.100.0/24, 2001:db8::1\n\
                    0.0.0.0/0\n\
                    2606:4700::6810:84e5\n";

#[test]
fn entries_outside_the_ranges_count_and_only_cloudflare_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let blocklist = dir.path().join("blocklist");
    std::fs::create_dir(&blocklist).unwrap();
    std::fs::write(blocklist.join("banned-ips.txt"), LIST).unwrap();

    let report = Scanner::new(cloudflare::embedded()).path(dir.path()).scan();
    let mut found: Vec<String> = report.findings.iter().map(|f| f.address_text()).collect();
    found.sort();
    assert_eq!(found, ["172.64.155.20", "2606:4700::6810:84e5"]);
    assert_eq!(report.files.len(), 1);
    // Every entry is an event: the three outside the ranges, the policy on every address,
    // and Cloudflare's two.
    assert_eq!((report.files[0].events, report.files[0].malformed), (6, 0));

    // Read for another tool only: still counted, never found.
    let other = Scanner::new(cloudflare::embedded())
        .sources(&[Tool::Fail2ban])
        .path(dir.path())
        .scan();
    assert!(other.findings.is_empty());
    let list_only = Scanner::new(cloudflare::embedded())
        .sources(&[Tool::List])
        .path(dir.path())
        .scan();
    assert_eq!(list_only.findings.len(), 2);
}
