use super::*;
use crate::event::Action;
use crate::formats::test_support::{ctx, Collect};

fn read(text: &str) -> Collect {
    let mut sink = Collect::default();
    let mut p = CrowdsecBouncerLogParser::new(&ctx("crowdsec-firewall-bouncer.log"));
    for (i, line) in text.lines().enumerate() {
        p.line(i as u64 + 1, line.as_bytes(), &mut sink);
    }
    p.finish(&mut sink);
    sink
}

const DEBUG: &str = r#"time="03-12-2026 14:19:33" level=info msg="backend type : nftables"
time="03-12-2026 14:19:33" level=info msg="Processing new and deleted decisions . . ."
time="03-12-2026 14:19:36" level=debug msg="Adding '104.16.1.10' for '3h59m58.589774732s'"
time="03-12-2026 14:19:36" level=debug msg="Adding '2400:cb00::/32' for '11h59m58.5s'"
time="03-12-2026 14:19:36" level=info msg="2 decisions added"
time="03-12-2026 14:19:37" level=debug msg="decisions for ip '172.64.33.2' will not be added because its type is 'captcha'"
time="03-12-2026 14:19:40" level=debug msg="deleted '104.16.1.10'"
time="03-12-2026 14:19:40" level=info msg="1 decision deleted"
"#;

#[test]
fn debug_lines_name_the_addresses() {
    let got = read(DEBUG);
    assert!(got.malformed.is_empty(), "{:?}", got.malformed);
    let events: Vec<(String, Action, Option<String>)> = got
        .events
        .iter()
        .map(|e| {
            (
                crate::addr::display_net(&e.net),
                e.action,
                e.expires.map(|t| t.to_string()),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            (
                "104.16.1.10".to_string(),
                Action::Ban,
                Some("2026-12-03 18:19:34.590".to_string())
            ),
            (
                "2400:cb00::/32".to_string(),
                Action::Ban,
                Some("2026-12-04 02:19:34.500".to_string())
            ),
            ("104.16.1.10".to_string(), Action::Unban, None),
        ]
    );
    assert!(got.events.iter().all(|e| e.scope == SCOPE));
    assert_eq!(got.events[2].location.line, 7);
    assert!(
        got.notes
            .iter()
            .any(|n| n.contains("2 decision(s) added and 1 deleted")),
        "{:?}",
        got.notes
    );
    assert!(got
        .notes
        .iter()
        .any(|n| n.contains("1 decision(s) of a type")));
}

#[test]
fn info_lines_only_count() {
    let info: String = DEBUG
        .lines()
        .filter(|l| !l.contains("level=debug"))
        .map(|l| format!("{l}\n"))
        .collect();
    let got = read(&info);
    assert!(got.events.is_empty());
    assert!(
        got.notes.iter().any(|n| n.contains("name no address")),
        "{:?}",
        got.notes
    );
}

#[test]
fn quoted_text_is_never_a_line_of_its_own() {
    // A decision's reason in the stream body logged at debug level, and messages that only
    // resemble the bouncer's.
    let got = read(
        r#"time="03-12-2026 14:22:27" level=debug msg="Response: HTTP/1.1 200 OK\r\n\r\n{\"new\":[{\"scenario\":\"\\\" level=debug msg=\\\"Adding '104.16.0.3' for '4h0m0s'\\\"\",\"value\":\"203.0.113.11\"}]}"
time="03-12-2026 14:22:27" level=debug msg="Adding '203.0.113.11' for '3h59m58.5s'"
time="03-12-2026 14:22:27" level=debug msg="Adding '104.16.0.3' for '4h' x"
time="03-12-2026 14:22:27" level=debug msg="x deleted '104.16.0.3'"
time="03-12-2026 14:22:27" level=error msg="unable to insert decision for '104.16.0.4': netlink"
"#,
    );
    assert!(got.malformed.is_empty(), "{:?}", got.malformed);
    let addrs: Vec<String> = got
        .events
        .iter()
        .map(|e| crate::addr::display_net(&e.net))
        .collect();
    assert_eq!(addrs, ["203.0.113.11"]);
}

#[test]
fn broken_lines_are_malformed_not_fatal() {
    let got = read(
        "time=\"03-12-2026 14:19:36\" level=debug msg=\"Adding 'not-an-ip' for '4h'\"\n\
         time=\"03-12-2026 14:19:36\" level=debug msg=\"Adding '104.16.0.1' for 'soon'\"\n\
         panic: runtime error\n\
         time=\"03-12-2026 14:19:36\" level=debug msg=\"unterminated\n\
         time=\"03-12-2026 14:19:37\" level=debug msg=\"deleted '104.16.0.1'\"\n",
    );
    assert_eq!(got.malformed.len(), 4, "{:?}", got.malformed);
    assert_eq!(got.events.len(), 1);
}

#[test]
fn messages() {
    assert_eq!(
        parse_bouncer_message(b"Adding '192.0.2.1' for '4h'"),
        Some(BouncerMessage::Added {
            value: b"192.0.2.1",
            duration: b"4h"
        })
    );
    assert_eq!(
        parse_bouncer_message(b"12 decisions added"),
        Some(BouncerMessage::AddedCount(12))
    );
    assert_eq!(
        parse_bouncer_message(b"1 decision deleted"),
        Some(BouncerMessage::DeletedCount(1))
    );
    assert_eq!(parse_bouncer_message(b"x decisions added"), None);
    assert_eq!(parse_bouncer_message(b"Decision successfully added"), None);
}

#[test]
fn detection() {
    let head = DEBUG.as_bytes();
    assert!(looks_like_bouncer_log(
        Path::new("/var/log/crowdsec-firewall-bouncer.log"),
        head
    ));
    assert!(looks_like_bouncer_log(Path::new("/tmp/saved.txt"), head));
    assert!(looks_like_bouncer_log(
        Path::new("/var/log/crowdsec-firewall-bouncer-2026-12-03T14-19-33.000.log.gz"),
        b"time=\"03-12-2026 14:19:36\" level=info msg=\"2 decisions added\"\n"
    ));
    // One line of the bouncer's shape in another program's logrus log is not enough.
    assert!(!looks_like_bouncer_log(
        Path::new("/var/log/app.log"),
        b"time=\"03-12-2026 14:19:36\" level=info msg=\"request\"\n\
          time=\"03-12-2026 14:19:36\" level=info msg=\"2 decisions added\"\n"
    ));
    // Text that is not logrus' never is, whatever it holds.
    assert!(!looks_like_bouncer_log(
        Path::new("/var/log/crowdsec-firewall-bouncer.log"),
        b"GET /?msg=\"backend type : nftables\" HTTP/1.1\n"
    ));
}

#[test]
fn a_stop_lifts_what_was_added() {
    let got = read(
        "time=\"03-12-2026 14:19:36\" level=debug msg=\"Adding '104.16.1.10' for '4h'\"\n\
         time=\"03-12-2026 14:19:36\" level=debug msg=\"Adding '104.16.1.11' for '4h'\"\n\
         time=\"03-12-2026 14:19:37\" level=debug msg=\"deleted '104.16.1.11'\"\n\
         time=\"03-12-2026 14:19:58\" level=info msg=\"removing 'crowdsec' table\"\n\
         time=\"03-12-2026 14:19:58\" level=info msg=\"Shutting down firewall-bouncer service\"\n",
    );
    let last = got.events.last().unwrap();
    assert_eq!(got.events.len(), 4);
    assert_eq!(
        (
            crate::addr::display_net(&last.net),
            last.action,
            last.location.line
        ),
        ("104.16.1.10".to_string(), Action::Unban, 5)
    );
}
