//! Unit tests of the reader of the Local API's access log, on literal lines in the shape
//! CrowdSec 1.4.6 writes them (gin's message through logrus' text form; JSON form too).

use super::*;
use crate::formats::test_support::{ctx, Collect};

fn run(text: &str) -> Collect {
    let ctx = ctx("/var/log/crowdsec_api.log");
    let Some(mut p) = crate::formats::crowdsec::API_LOG.line_parser(&ctx) else {
        panic!("a line parser")
    };
    let mut sink = Collect::default();
    for (i, line) in text.lines().enumerate() {
        p.line(i as u64 + 1, line.as_bytes(), &mut sink);
    }
    p.finish(&mut sink);
    sink
}

/// (network, scope, challenge, line) of each event; every one an unban.
fn brief(c: &Collect) -> Vec<(String, String, bool, u64)> {
    c.events
        .iter()
        .map(|e| {
            assert_eq!(e.action, Action::Unban);
            assert_eq!((e.tool, e.format), (Tool::Crowdsec, Format::CrowdsecApiLog));
            (
                e.net.to_string(),
                e.scope.clone(),
                e.challenge,
                e.location.line,
            )
        })
        .collect()
}

/// A line as the Local API writes it for a request answered `status`.
fn line(time: &str, request: &str, status: u16, agent: &str) -> String {
    let msg = format!(
        "127.0.0.1 - [Tue, 24 Nov 2026 {}:00 UTC] \"{request} HTTP/1.1 {status} 3.218457ms \"{agent}\" \"",
        &time[11..16]
    );
    let quoted = format!("{msg:?}");
    format!("time=\"{time}\" level=info msg={quoted}")
}

const CSCLI: &str = "crowdsec/v1.4.6-6~deb12u1+b1-linux-debian";

#[test]
fn deletions_by_address_range_type_and_scenario() {
    let text = [
        line("24-11-2026 04:00:01", "GET /v1/decisions/stream?startup=true", 200, "crowdsec-firewall-bouncer/v0.0.25"),
        line("24-11-2026 04:00:02", "DELETE /v1/decisions?ip=104.16.1.10", 200, CSCLI),
        line("24-11-2026 04:00:03", "DELETE /v1/decisions?range=162.158.0.0%2F15", 200, CSCLI),
        line("24-11-2026 04:00:04", "DELETE /v1/decisions?ip=172.64.33.2&type=captcha", 200, CSCLI),
        line(
            "24-11-2026 04:00:05",
            "DELETE /v1/decisions?ip=2606%3A4700%3A3033%3A%3A6815%3A1a2b&scenario=manual%3A+scanner&type=ban",
            200,
            CSCLI,
        ),
        line("24-11-2026 04:00:06", "DELETE /v1/decisions?contains=false&range=104.24.0.0%2F14", 200, CSCLI),
    ]
    .join("\n");
    let c = run(&text);
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(
        brief(&c),
        vec![
            ("104.16.1.10/32".into(), String::new(), false, 2),
            ("104.16.1.10/32".into(), "(captcha)".into(), true, 2),
            ("162.158.0.0/15".into(), String::new(), false, 3),
            ("162.158.0.0/15".into(), "(captcha)".into(), true, 3),
            ("172.64.33.2/32".into(), "(captcha)".into(), true, 4),
            (
                "2606:4700:3033::6815:1a2b/128".into(),
                "manual: scanner".into(),
                false,
                5
            ),
            ("104.24.0.0/14".into(), String::new(), false, 6),
            ("104.24.0.0/14".into(), "(captcha)".into(), true, 6),
        ]
    );
    assert_eq!(
        c.events[0].time,
        Some("2026-11-24T04:00:02".parse().unwrap())
    );
    assert!(
        c.notes[0].starts_with("5 decision deletion(s) (cscli decisions delete)"),
        "{:?}",
        c.notes
    );
}

#[test]
fn deletions_that_name_no_address_or_failed_are_counted() {
    let text = [
        line("24-11-2026 04:00:01", "DELETE /v1/decisions/42", 200, CSCLI),
        line("24-11-2026 04:00:02", "DELETE /v1/decisions", 200, CSCLI),
        line(
            "24-11-2026 04:00:03",
            "DELETE /v1/decisions?scenario=crowdsecurity%2Fssh-bf",
            200,
            CSCLI,
        ),
        line(
            "24-11-2026 04:00:04",
            "DELETE /v1/decisions?origin=CAPI&ip=104.16.1.10",
            200,
            CSCLI,
        ),
        // Without a machine's credentials.
        line(
            "24-11-2026 04:00:05",
            "DELETE /v1/decisions?ip=104.16.1.11",
            401,
            "curl/7.88.1",
        ),
        line(
            "24-11-2026 04:00:06",
            "DELETE /v1/decisions?ip=104.16.1.12",
            500,
            CSCLI,
        ),
    ]
    .join("\n");
    let c = run(&text);
    assert!(c.events.is_empty(), "{:?}", c.events);
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(
        c.notes,
        [
            "decision deletions not read: 1 by id (the address is not in the log), 1 of every \
          decision (--all), 2 by other filters, 2 that failed (status other than 200)"
        ]
    );
}

#[test]
fn json_form() {
    let c = run(
        r#"{"level":"info","msg":"127.0.0.1 - [Tue, 24 Nov 2026 04:00:02 UTC] \"DELETE /v1/decisions?ip=104.16.1.10 HTTP/1.1 200 2.1ms \"crowdsec/v1.5.0\" \"","time":"2026-11-24T04:00:02Z"}"#,
    );
    assert_eq!(brief(&c).len(), 2, "{:?}", c.malformed);
}

/// A client chooses its path, query and user agent: none of them can make a deletion that the
/// Local API did not answer 200, or one of another address.
#[test]
fn what_a_client_sends_forges_no_deletion() {
    for msg in [
        // gin decodes `%20` in the path: a fake status before the real one.
        &b"203.0.113.9 - [Tue, 24 Nov 2026 04:00:00 UTC] \"DELETE /v1/decisions?ip=104.16.1.10 HTTP/1.1 200 1ms \"x\" \" HTTP/1.1 401 5us \"curl\" \""[..],
        // The user agent holds the fake end.
        b"203.0.113.9 - [Tue, 24 Nov 2026 04:00:00 UTC] \"DELETE /v1/decisions?ip=104.16.1.10 HTTP/1.1 401 1ms \"x\" HTTP/1.1 200 1ms \"y\" \"",
        // An error message after the user agent.
        b"127.0.0.1 - [Tue, 24 Nov 2026 04:00:00 UTC] \"DELETE /v1/decisions?ip=104.16.1.10 HTTP/1.1 200 1ms \"x\" Error #01: oops\"",
    ] {
        let got = parse_request(msg);
        assert!(
            got.is_none_or(|r| r.status != 200),
            "{}: {got:?}",
            String::from_utf8_lossy(msg)
        );
    }
    let forged = [
        line(
            "24-11-2026 04:00:01",
            "DELETE /v1/decisions?ip=104.16.1.10 HTTP/1.1 200 1ms \"x\" \" HTTP/1.1 401 5us \"curl\" \"",
            401,
            "curl/7.88.1",
        ),
        line("24-11-2026 04:00:02", "GET /v1/decisions?ip=104.16.1.10", 200, "crowdsec-firewall-bouncer"),
        line("24-11-2026 04:00:03", "DELETE /v1/decisionsx?ip=104.16.1.10", 200, CSCLI),
    ]
    .join("\n");
    let c = run(&forged);
    assert!(c.events.is_empty(), "{:?}", c.events);
}

#[test]
fn detection() {
    use std::path::Path;
    let head = line(
        "24-11-2026 04:00:01",
        "GET /v1/decisions/stream?startup=true",
        200,
        "b",
    );
    assert!(looks_like_api_log(
        Path::new("/backup/lapi.txt"),
        head.as_bytes()
    ));
    assert!(looks_like_api_log(
        Path::new("/var/log/crowdsec_api.log.1.gz"),
        b"time=\"24-11-2026 04:00:01\" level=info msg=\"x\"\n"
    ));
    assert!(looks_like_api_log(
        Path::new("/var/log/crowdsec_api-2026-11-24T03-09-23.000.log"),
        b""
    ));
    // crowdsec.log is not the access log.
    assert!(!looks_like_api_log(
        Path::new("/var/log/crowdsec.log"),
        b"time=\"24-11-2026 04:00:01\" level=info msg=\"Crowdsec v1.4.6\"\n"
    ));
    assert_eq!(
        crate::formats::detect(Path::new("/var/log/crowdsec_api.log"), head.as_bytes()),
        Some(Format::CrowdsecApiLog)
    );
}
