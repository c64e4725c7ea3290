use std::net::IpAddr;
use std::path::Path;

use super::record::{looks_like, read, Layout, Record};
use super::*;
use crate::formats::test_support::run_lines;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn client(line: &str) -> Option<(IpAddr, u16)> {
    match read(line.as_bytes()) {
        Some((Record::Client(ip, status), _)) => Some((ip, status)),
        _ => None,
    }
}

#[test]
fn combined_common_and_vhost_records() {
    // nginx combined.
    assert_eq!(
        client(
            r#"203.0.113.50 - - [24/Nov/2026:03:06:43 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/7.88.1""#
        ),
        Some((ip("203.0.113.50"), 200))
    );
    // Apache common, IPv6.
    assert_eq!(
        client(
            r#"2606:4700:10::6816:1 - - [24/Nov/2026:03:06:43 +0000] "GET /x HTTP/1.1" 403 199"#
        ),
        Some((ip("2606:4700:10::6816:1"), 403))
    );
    // Apache vhost_combined.
    assert_eq!(
        read(br#"www.example.com:80 173.245.49.12 - - [24/Nov/2026:03:06:43 +0000] "GET / HTTP/1.1" 429 10 "-" "-""#),
        Some((Record::Client(ip("173.245.49.12"), 429), Layout::VhostClf))
    );
    // A host name before the client, without port (a `$host $remote_addr` layout), even one
    // that reads as an address.
    assert_eq!(
        client(
            r#"173.245.49.13 203.0.113.50 - - [24/Nov/2026:03:06:43 +0000] "GET / HTTP/1.1" 403 1"#
        ),
        Some((ip("203.0.113.50"), 403))
    );
    // nginx's 000 and 009.
    assert_eq!(
        client(r#"203.0.113.50 - - [24/Nov/2026:03:06:43 +0000] "GET /" 009 1"#),
        Some((ip("203.0.113.50"), 9))
    );
    // IPv4-mapped IPv6 is the IPv4 address.
    assert_eq!(
        client(r#"::ffff:173.245.49.12 - - [24/Nov/2026:03:06:43 +0000] "GET / HTTP/1.1" 200 1"#),
        Some((ip("173.245.49.12"), 200))
    );
}

#[test]
fn quoted_text_and_the_user_never_give_the_client_or_status() {
    // nginx: a quote in the request is `\x22`, so the request ends at the raw quote.
    assert_eq!(
        client(
            r#"203.0.113.50 - - [24/Nov/2026:03:06:43 +0000] "GET /a\x22 403 1 \x22-\x22 HTTP/1.1" 404 5 "173.245.49.12 - - [x] \x22GET\x22 403" "-""#
        ),
        Some((ip("203.0.113.50"), 404))
    );
    // Apache: `\"` and `\\` inside the request.
    assert_eq!(
        client(
            r#"203.0.113.50 - - [24/Nov/2026:03:06:43 +0000] "GET /a\\\" 403 1 \"-\" HTTP/1.1" 404 5 "-" "-""#
        ),
        Some((ip("203.0.113.50"), 404))
    );
    // A user with spaces, brackets and an escaped quote; Apache's empty user `""`.
    assert_eq!(
        client(
            r#"203.0.113.50 - 173.245.49.12 - [1/Jan/2026:00:00:00 +0000] \x22GET / HTTP/1.1\x22 403 [24/Nov/2026:03:06:43 +0000] "GET / HTTP/1.1" 401 5"#
        ),
        Some((ip("203.0.113.50"), 401))
    );
    assert_eq!(
        client(
            r#"203.0.113.50 - a] \"x\" 403 [ [24/Nov/2026:03:06:43 +0000] "GET / HTTP/1.1" 401 5"#
        ),
        Some((ip("203.0.113.50"), 401))
    );
    assert_eq!(
        client(r#"203.0.113.50 - "" [24/Nov/2026:03:06:43 +0000] "GET / HTTP/1.1" 401 5"#),
        Some((ip("203.0.113.50"), 401))
    );
}

#[test]
fn records_without_an_address_and_lines_of_no_layout() {
    let no = |line: &str| read(line.as_bytes()).map(|(r, _)| r);
    assert_eq!(
        no(r#"host.example.net - - [24/Nov/2026:03:06:43 +0000] "GET / HTTP/1.1" 200 1"#),
        Some(Record::NoAddress)
    );
    assert_eq!(
        no(r#"unix: - - [24/Nov/2026:03:06:43 +0000] "GET / HTTP/1.1" 200 1"#),
        Some(Record::NoAddress)
    );
    assert_eq!(
        no(r#"203.0.113.50 - - [24/Nov/2026:03:06:43 +0000] "GET / HTTP/1.1" - 1"#),
        Some(Record::NoAddress)
    );
    for bad in [
        "",
        "hello world",
        r#"203.0.113.50 - - [24/Nov/2026:03:06:43 +0000] "GET / HTTP/1.1 200 1"#,
        r#"203.0.113.50 - - [24/Nov/2026:03:06:43 +0000] "GET / HTTP/1.1" 2000 1"#,
        r#"203.0.113.50 x y [24/Nov/2026:03:06:43 +0000] "GET / HTTP/1.1" 200 1"#,
        "2026/11/24 03:06:43 [error] 1#1: *1 open() failed, client: 173.245.49.12",
        "{\"remote_addr\":\"173.245.49.12\"}",
        "{\"remote_addr\":\"173.245.49.12\",\"status\":\"200\"",
        "{\"remote_addr\":\"173.245.49.12\",\"status\":\"200\"} x",
    ] {
        assert_eq!(no(bad), None, "{bad}");
    }
}

#[test]
fn json_records_read_top_level_members_only() {
    assert_eq!(
        read(br#"{"time":"2026-11-24T03:06:43+00:00","remote_addr":"2606:4700:10::6816:1","request":"GET / HTTP/1.1","status":"403","ua":"x"}"#),
        Some((Record::Client(ip("2606:4700:10::6816:1"), 403), Layout::Json))
    );
    // A number status, other names, white space, nested members skipped.
    assert_eq!(
        client(
            r#"{ "Client-IP" : "203.0.113.50", "extra": {"status": 999, "ip": "173.245.49.12"}, "status_code": 200 }"#
        ),
        Some((ip("203.0.113.50"), 200))
    );
    // remote_addr wins over a header-like `client`, wherever it is.
    assert_eq!(
        client(r#"{"client":"173.245.49.12","status":"200","remote_addr":"203.0.113.50"}"#),
        Some((ip("203.0.113.50"), 200))
    );
    // Escaped quotes in a value never end it: the forged members are inside the string.
    assert_eq!(
        client(
            r#"{"request":"GET /\",\"remote_addr\":\"173.245.49.12\",\"status\":\"403","remote_addr":"203.0.113.50","status":"200"}"#
        ),
        Some((ip("203.0.113.50"), 200))
    );
    assert_eq!(
        read(br#"{"remote_addr":"unix:","status":"200"}"#).map(|(r, _)| r),
        Some(Record::NoAddress)
    );
}

#[test]
fn parser_reports_records_and_malformed_lines() {
    let text = [
        r#"173.245.49.12 - - [24/Nov/2026:03:06:43 +0000] "GET / HTTP/1.1" 403 5 "-" "-""#,
        "",
        "garbage",
        "# failJSON: { \"match\": true }",
        r#"{"remote_addr":"203.0.113.50","status":"200"}"#,
    ]
    .join("\n");
    let got = run_lines(Format::AccessLog, "/var/log/nginx/access.log", &text);
    assert_eq!(
        got.access,
        vec![(1, ip("173.245.49.12"), 403), (5, ip("203.0.113.50"), 200)]
    );
    assert_eq!(got.malformed_lines(), vec![3]);
    assert!(got.events.is_empty());
}

const NGINX: &str = r#"203.0.113.50 - - [24/Nov/2026:03:06:43 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/7.88.1"
173.245.49.12 - - [24/Nov/2026:03:06:44 +0000] "GET /x HTTP/1.1" 404 153 "-" "curl/7.88.1"
173.245.49.12 - bob [24/Nov/2026:03:06:45 +0000] "GET /y HTTP/1.1" 403 153 "-" "curl/7.88.1"
"#;

#[test]
fn detection_weighs_the_name_and_the_head() {
    let named = Path::new("/var/log/nginx/access.log");
    let other = Path::new("/srv/logs/site.log");
    assert!(detect(named, NGINX.as_bytes()));
    assert!(detect(other, NGINX.as_bytes()));
    // One record named as an access log; not without the name.
    let one = NGINX.lines().next().unwrap().to_string() + "\n";
    assert!(detect(named, one.as_bytes()));
    assert!(!detect(other, one.as_bytes()));
    // An access-looking line inside another log is not enough, named or not.
    let fail2ban = format!(
        "2026-11-24 03:06:43,825 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 203.0.113.9\n{one}\
         2026-11-24 03:06:44,825 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 203.0.113.8\n"
    );
    assert!(!detect(
        Path::new("/var/log/fail2ban.log"),
        fail2ban.as_bytes()
    ));
    assert!(!detect(named, fail2ban.as_bytes()));
    let mixed = format!("{NGINX}2026/11/24 03:06:43 [error] 1#1: *1 x, client: 1.2.3.4\n");
    assert!(!detect(other, mixed.as_bytes()));
    assert!(detect(named, mixed.as_bytes()));
    // The default time is required of text records.
    let iso = "203.0.113.50 - - [2026-11-24T03:06:43] \"GET / HTTP/1.1\" 200 1\n".repeat(4);
    assert!(!detect(other, iso.as_bytes()));
    assert_eq!(
        looks_like(NGINX.lines().next().unwrap().as_bytes()),
        Some(Layout::Clf)
    );
    // JSON.
    let json = "{\"remote_addr\":\"203.0.113.50\",\"status\":\"200\"}\n".repeat(3);
    assert!(detect(other, json.as_bytes()));
    assert!(!detect(
        other,
        b"{\"ip\":\"203.0.113.50\"}\n{\"ip\":\"203.0.113.50\"}\n{\"ip\":\"203.0.113.50\"}\n"
    ));
}

#[test]
fn access_log_names() {
    for name in [
        "access.log",
        "access.log.1",
        "access.log.2.gz",
        "access.log-20261124",
        "access.log-20261124.xz",
        "access_log",
        "ssl_access_log",
        "example.com-access.log",
        "example_access.log",
        "other_vhosts_access.log",
        "other_vhosts_access.log.3.gz",
        "ACCESS.LOG",
    ] {
        assert!(access_name(Path::new(name)), "{name}");
    }
    for name in [
        "error.log",
        "access.log.txt",
        "myaccess.log",
        "fail2ban.log",
        "access",
    ] {
        assert!(!access_name(Path::new(name)), "{name}");
    }
}

#[test]
fn detected_among_the_builtin_formats() {
    use crate::formats::detect as detect_any;
    assert_eq!(
        detect_any(Path::new("/var/log/nginx/access.log"), NGINX.as_bytes()),
        Some(Format::AccessLog)
    );
    let error_log = "2026/11/24 03:02:50 [notice] 14233#14233: using the \"epoll\" event method\n";
    assert_eq!(
        detect_any(
            Path::new("/var/log/nginx/error.log"),
            format!("{error_log}{NGINX}").as_bytes()
        ),
        Some(Format::NginxError)
    );
}

/// The records of a fixture written by the real server (fixtures/access-log/lab).
fn fixture_records(path: &str) -> Vec<(u64, IpAddr, u16)> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(path);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(detect(&file, text.as_bytes()), "{path} is detected");
    let got = run_lines(Format::AccessLog, path, &text);
    assert!(got.malformed.is_empty() && got.events.is_empty(), "{path}");
    got.access
}

/// `(client, status)` in order, numbered from line 1.
fn numbered(records: &[(&str, u16)]) -> Vec<(u64, IpAddr, u16)> {
    (1..)
        .zip(records)
        .map(|(n, (client, status))| (n, ip(client), *status))
        .collect()
}

const EDGE4: &str = "173.245.49.12";
const EDGE6: &str = "2606:4700:10::6816:1";
const VISITOR4: &str = "203.0.113.50";
const VISITOR6: &str = "2001:db8:113::50";

#[test]
fn real_nginx_and_apache_logs_give_every_record() {
    let mut nginx = vec![(EDGE4, 200), (VISITOR4, 200), (EDGE6, 200), (VISITOR6, 200)];
    for status in [403, 404, 429, 444, 503] {
        nginx.extend([(EDGE4, status), (EDGE6, status)]);
    }
    nginx.push((VISITOR4, 403));
    let nginx = numbered(&nginx);
    assert_eq!(fixture_records("access-log/nginx/access.log"), nginx);
    assert_eq!(fixture_records("access-log/nginx/json_access.log"), nginx);
    let mut apache = vec![(EDGE4, 200), (VISITOR4, 200), (EDGE6, 200), (VISITOR6, 200)];
    for status in [403, 404] {
        apache.extend([(EDGE4, status), (EDGE6, status)]);
    }
    apache.push((VISITOR4, 403));
    let apache = numbered(&apache);
    assert_eq!(fixture_records("access-log/apache2/access.log"), apache);
    assert_eq!(
        fixture_records("access-log/apache2/other_vhosts_access.log"),
        apache
    );
}

#[test]
fn forged_requests_referers_agents_and_users_count_only_the_visitor() {
    let twice = |statuses: [u16; 6]| {
        let mut v: Vec<(&str, u16)> = statuses.iter().map(|&s| (VISITOR4, s)).collect();
        v.extend(statuses.iter().map(|&s| (VISITOR6, s)));
        numbered(&v)
    };
    let nginx = twice([400, 404, 200, 200, 200, 200]);
    assert_eq!(
        fixture_records("injection/access-log/nginx/access.log"),
        nginx
    );
    assert_eq!(
        fixture_records("injection/access-log/nginx/json_access.log"),
        nginx
    );
    assert_eq!(
        fixture_records("injection/access-log/apache2/access.log"),
        twice([400, 404, 200, 200, 200, 401])
    );
}
