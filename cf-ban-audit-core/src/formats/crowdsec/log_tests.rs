//! Unit tests of the reader of CrowdSec's log, on literal lines in the shapes CrowdSec 1.4.6
//! (text, `02-01-2006 15:04:05`) and later versions (RFC 3339, `log_format: json`) write.

use super::*;
use crate::formats::detect;
use crate::formats::test_support::{ctx, Collect};
use chrono::TimeDelta;

fn run_bytes(lines: &[&[u8]]) -> Collect {
    let ctx = ctx("/var/log/crowdsec.log");
    let Some(mut p) = crate::formats::crowdsec::LOG.line_parser(&ctx) else {
        panic!("a line parser")
    };
    let mut sink = Collect::default();
    for (i, line) in lines.iter().enumerate() {
        p.line(i as u64 + 1, line, &mut sink);
    }
    p.finish(&mut sink);
    sink
}

fn run(text: &str) -> Collect {
    let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
    run_bytes(&lines)
}

/// (network, scope, action, line) of each event.
fn brief(c: &Collect) -> Vec<(String, String, Action, u64)> {
    c.events
        .iter()
        .map(|e| {
            let net = e.net.to_string();
            (net, e.scope.clone(), e.action, e.location.line)
        })
        .collect()
}

fn at(s: &str) -> NaiveDateTime {
    s.parse().unwrap()
}

const REAL: &str = r#"time="24-11-2026 03:09:14" level=info msg="Crowdsec v1.4.6-6~deb12u1+b1-linux-debian"
time="24-11-2026 03:09:14" level=info msg="CrowdSec Local API listening on 127.0.0.1:18080"
time="24-11-2026 03:09:23" level=info msg="(host-a/cscli) manual: xmlrpc flood by ip 104.16.4.4 : 4h ban on Ip 104.16.4.4"
time="24-11-2026 03:09:23" level=info msg="(host-a/cscli) manual: v6 scanner by ip 2606:4700:10::1 : 24h ban on Ip 2606:4700:10::1"
time="24-11-2026 03:09:23" level=info msg="(host-a/cscli) manual: edge range by range 172.64.0.0/13 : 12h ban on Range 172.64.0.0/13"
time="24-11-2026 03:09:23" level=info msg="(host-a/cscli) manual: challenge by ip 172.67.1.1 : 1h captcha on Ip 172.67.1.1"
time="24-11-2026 03:10:00" level=info msg="(host-a/crowdsec) crowdsecurity/ssh-bf by ip 104.24.3.3 : 4h ban on Ip 104.24.3.3"
time="24-11-2026 03:10:01" level=warning msg="something else about 104.16.9.9""#;

#[test]
fn real_lines_give_bans_with_their_end() {
    let c = run(REAL);
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(
        brief(&c),
        vec![
            (
                "104.16.4.4/32".into(),
                "manual: xmlrpc flood".into(),
                Action::Ban,
                3
            ),
            (
                "2606:4700:10::1/128".into(),
                "manual: v6 scanner".into(),
                Action::Ban,
                4
            ),
            (
                "172.64.0.0/13".into(),
                "manual: edge range".into(),
                Action::Ban,
                5
            ),
            (
                "172.67.1.1/32".into(),
                "manual: challenge (captcha)".into(),
                Action::Ban,
                6
            ),
            (
                "104.24.3.3/32".into(),
                "crowdsecurity/ssh-bf".into(),
                Action::Ban,
                7
            ),
        ]
    );
    let e = &c.events[0];
    assert_eq!(e.tool, crate::event::Tool::Crowdsec);
    assert_eq!(e.format, Format::CrowdsecLog);
    assert_eq!(e.time, Some(at("2026-11-24T03:09:23")));
    assert_eq!(e.expires, Some(at("2026-11-24T07:09:23")));
    assert_eq!(c.events[1].expires, Some(at("2026-11-25T03:09:23")));
    // The captcha is a challenge, marked as such, ending after its duration; the bans are not.
    let challenge = &c.events[3];
    assert!(challenge.challenge);
    assert_eq!(challenge.expires, Some(at("2026-11-24T04:09:23")));
    assert_eq!(c.events.iter().filter(|e| e.challenge).count(), 1);
}

#[test]
fn escaped_quotes_and_backslashes_are_undone_in_the_scenario() {
    let c = run(
        r#"time="24-11-2026 03:09:23" level=info msg="(m/cscli) manual: said \"stop\" \\ twice by ip 104.16.0.5 : 2h ban on Ip 104.16.0.5""#,
    );
    assert_eq!(
        brief(&c),
        vec![(
            "104.16.0.5/32".into(),
            r#"manual: said "stop" \ twice"#.into(),
            Action::Ban,
            1
        )]
    );
}

#[test]
fn a_forged_decision_inside_the_reason_is_never_the_address() {
    // The reason an administrator typed holds a whole decision text with a Cloudflare
    // address, quotes and " by ip": the decision is the one at the end.
    let c = run(
        r#"time="24-11-2026 03:09:23" level=info msg="(m/cscli) manual: x\" : 4h ban on Ip 104.16.0.1 by ip 104.16.0.1 : 4h ban on Ip 104.16.0.1 by ip 192.0.2.7 : 4h ban on Ip 192.0.2.7""#,
    );
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    let got = brief(&c);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "192.0.2.7/32");
    assert!(got[0]
        .1
        .starts_with("manual: x\" : 4h ban on Ip 104.16.0.1"));
}

#[test]
fn a_custom_scope_value_ending_in_a_decision_text_is_ambiguous() {
    // A user name (custom scope) read from a log can hold spaces and decision text.
    let c = run(
        r#"time="24-11-2026 03:09:23" level=info msg="(m/crowdsec) acme/user-bf by Username x : 4h ban on Ip 104.16.0.1 : 4h ban on Username x : 4h ban on Ip 104.16.0.1""#,
    );
    assert!(c.events.is_empty(), "{:?}", brief(&c));
    assert_eq!(c.malformed.len(), 1);
    assert!(c.malformed[0].1.contains("ambiguous"), "{:?}", c.malformed);
    // Text after " by " that is no source.
    let c = run(
        r#"time="24-11-2026 03:09:23" level=info msg="(m/crowdsec) s by Username x : 4h ban on Username y by ip 104.16.0.1 (US : 4h ban on Ip 104.16.0.1""#,
    );
    assert!(c.events.is_empty());
    assert_eq!(c.malformed.len(), 1);
}

#[test]
fn several_decisions_geo_source_and_simulation() {
    let c = run(concat!(
        r#"time="24-11-2026 03:09:23" level=info msg="(m/crowdsec) crowdsecurity/http-probing for 1/2 decisions : 4h ban on Ip 104.18.0.1""#,
        "\n",
        r#"time="24-11-2026 03:09:23" level=info msg="(m/crowdsec) crowdsecurity/http-probing for 2/2 decisions : 4h ban on Range 104.18.0.0/24""#,
        "\n",
        r#"time="24-11-2026 03:09:23" level=info msg="(crowdsec) crowdsecurity/http-cve by ip 104.19.0.1 (US/13335) : 4h ban on Ip 104.19.0.1""#,
        "\n",
        r#"time="24-11-2026 03:09:23" level=info msg="(m/crowdsec) crowdsecurity/ssh-bf by ip 104.20.0.1 : (simulated alert)4h ban on Ip 104.20.0.1""#,
        "\n",
        r#"time="24-11-2026 03:09:23" level=info msg="(m/crowdsec) crowdsecurity/ssh-bf by ip 104.20.0.2 : (simulated decision)4h ban on Ip 104.20.0.2""#,
        "\n",
        r#"time="24-11-2026 03:09:23" level=info msg="(m/cscli) manual: slow by ip 104.21.0.1 : 3h59m12.5s throttle on Ip 104.21.0.1""#,
    ));
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(
        brief(&c),
        vec![
            (
                "104.18.0.1/32".into(),
                "crowdsecurity/http-probing".into(),
                Action::Ban,
                1
            ),
            (
                "104.18.0.0/24".into(),
                "crowdsecurity/http-probing".into(),
                Action::Ban,
                2
            ),
            (
                "104.19.0.1/32".into(),
                "crowdsecurity/http-cve".into(),
                Action::Ban,
                3
            ),
            (
                "104.21.0.1/32".into(),
                "manual: slow".into(),
                Action::Ban,
                6
            ),
        ]
    );
    let end = at("2026-11-24T03:09:23") + TimeDelta::milliseconds(14_352_500);
    assert_eq!(c.events[3].expires, Some(end));
    assert!(
        c.notes.iter().any(|n| n.contains("1 throttle")),
        "{:?}",
        c.notes
    );
    assert!(
        c.notes.iter().any(|n| n.starts_with("2 simulated")),
        "{:?}",
        c.notes
    );
}

#[test]
fn later_versions_rfc3339_clear_line_json_and_extra_fields() {
    let c = run_bytes(&[
        br#"time="2026-11-24T03:09:23Z" level=info msg="(m/cscli) manual: a by ip 104.16.0.7 : 4h ban on Ip 104.16.0.7""#,
        b"\r\x1b[Ktime=\"2026-11-24T03:09:23+01:00\" level=info msg=\"(m/cscli) manual: b by ip 104.16.0.8 : 4h ban on Ip 104.16.0.8\"",
        br#"time="24-11-2026 03:09:23" level=info msg="(m/cscli) manual: c by ip 104.16.0.9 : 4h ban on Ip 104.16.0.9" component=lapi"#,
        br#"{"level":"info","msg":"(m/cscli) manual: \u003cd\u003e \"q\" by ip 2a06:98c0::5 : 4h ban on Ip 2a06:98c0::5","time":"2026-11-24T03:09:23Z"}"#,
        br#"{"component":"x","level":"info","msg":"(m/cscli) manual: e by range 2400:cb00::/32 : 4h ban on Range 2400:cb00::/32","time":"24-11-2026 03:09:23"}"#,
    ]);
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    let got: Vec<(String, String)> = c
        .events
        .iter()
        .map(|e| (e.net.to_string(), e.scope.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("104.16.0.7/32".into(), "manual: a".into()),
            ("104.16.0.8/32".into(), "manual: b".into()),
            ("104.16.0.9/32".into(), "manual: c".into()),
            ("2a06:98c0::5/128".into(), "manual: <d> \"q\"".into()),
            ("2400:cb00::/32".into(), "manual: e".into()),
        ]
    );
    assert_eq!(c.events[0].time, parse_time("2026-11-24T03:09:23Z"));
    let e = &c.events[4];
    assert_eq!(e.expires, Some(at("2026-11-24T07:09:23")));
}

#[test]
fn garbage_broken_lines_and_other_messages() {
    let c = run_bytes(&[
        b"",
        b"on Ip on Range",
        b"\xff\xfe on Ip \x00\x01",
        // Other messages that name a scope.
        br#"time="24-11-2026 03:09:23" level=info msg="decision on Ip 104.16.0.1 deleted by admin""#,
        br#"time="24-11-2026 03:09:23" level=info msg="(m/cscli) alert : manual by ip 104.16.0.1""#,
        br#"Nov 24 03:09:23 host crowdsec[5]: (m/cscli) r by ip 104.16.0.1 : 4h ban on Ip 104.16.0.1"#,
        // Decision lines that cannot be read.
        br#"time="24-11-2026 03:09:23" level=info msg="(m/cscli) r by ip 104.16.0.1 : 4h ban on Ip 104.16.0.1"#,
        br#"time="24-11-2026 03:09:23" level=info msg="(m/cscli) r by ip x : 4h ban on Ip not-an-address""#,
        br#"time="24-11-2026 03:09:23" level=info msg="(m/cscli) r by ip 104.16.0.1 : forever ban on Ip 104.16.0.1""#,
        br#"time="someday" level=info msg="(m/cscli) r by ip 104.16.0.1 : 4h ban on Ip 104.16.0.1""#,
        br#"time="24-11-2026 03:09:23" level=info msg="r by ip 104.16.0.1 : 4h ban on Ip 104.16.0.1""#,
        br#"time="24-11-2026 03:09:23" level=info msg="(m/cscli) r : 4h ban on Ip 104.16.0.1""#,
        br#"time="24-11-2026 03:09:23" level=info msg="(m/cscli) r by ip 104.16.0.1 : 4h ban on Ip 104.16.0.1\q""#,
        b"time=\"24-11-2026 03:09:23\" level=info msg=\"(m/cscli) \xff by ip 104.16.0.1 : 4h ban on Ip 104.16.\xff\"",
        br#"{"level":"info","msg":"(m/cscli) r by ip 104.16.0.1 : 4h ban on Ip 104.16.0.1""#,
    ]);
    assert!(c.events.is_empty(), "{:?}", brief(&c));
    let lines: Vec<u64> = c.malformed.iter().map(|m| m.0).collect();
    assert_eq!(
        lines,
        vec![7, 8, 9, 10, 11, 12, 13, 14, 15],
        "{:?}",
        c.malformed
    );
}

#[test]
fn invalid_utf8_in_the_reason_is_kept_lossily() {
    let c = run_bytes(&[
        b"time=\"24-11-2026 03:09:23\" level=info msg=\"(m/cscli) caf\\xe9 \xff by ip 104.16.0.1 : 4h ban on Ip 104.16.0.1\"",
    ]);
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(c.events.len(), 1);
    assert_eq!(c.events[0].scope, "caf\u{fffd} \u{fffd}");
}

#[test]
fn unquote_undoes_go_escapes() {
    let u = |s: &[u8]| unquote(s).map(|c| c.into_owned());
    assert!(matches!(unquote(b"plain"), Some(Cow::Borrowed(_))));
    assert_eq!(u(br#"a\"b\\c\n\t"#).unwrap(), b"a\"b\\c\n\t");
    assert_eq!(
        u(br"\x41\u00e9\U0001F600\101").unwrap(),
        "A\u{e9}\u{1f600}A".as_bytes()
    );
    for bad in [&br"\q"[..], br"\x4", br"\u12", br"\", br"\777", br"\ud800"] {
        assert_eq!(u(bad), None, "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn detection_by_name_and_content() {
    let banner = b"time=\"24-11-2026 03:09:14\" level=info msg=\"Crowdsec v1.4.6-6~deb12u1+b1-linux-debian\"\n";
    let added = b"time=\"24-11-2026 03:09:23\" level=info msg=\"Decision successfully added\"\n";
    let decision = REAL.lines().nth(2).unwrap().as_bytes();
    let json = br#"{"level":"info","msg":"Crowdsec v1.6.0","time":"2026-11-24T03:09:14Z"}"#;
    let cases: [(&str, &[u8], Option<Format>); 11] = [
        ("/var/log/crowdsec.log", banner, Some(Format::CrowdsecLog)),
        ("/var/log/crowdsec.log", b"", Some(Format::CrowdsecLog)),
        ("/var/log/crowdsec.log.1", added, Some(Format::CrowdsecLog)),
        (
            "/var/log/crowdsec.log.2.gz",
            added,
            Some(Format::CrowdsecLog),
        ),
        (
            "/var/log/crowdsec-2026-11-24T03-09-23.000.log.gz",
            added,
            Some(Format::CrowdsecLog),
        ),
        (
            "/var/log/crowdsec-2026-11-24T03-09-23.000.log.zst",
            added,
            Some(Format::CrowdsecLog),
        ),
        ("/srv/backup/agent.txt", banner, Some(Format::CrowdsecLog)),
        ("/srv/backup/agent.txt", decision, Some(Format::CrowdsecLog)),
        ("/srv/backup/agent.json", json, Some(Format::CrowdsecLog)),
        // cscli's own output, and a file under the log's name that is no logrus log.
        ("/tmp/cscli-decisions-add-output.txt", added, None),
        ("/var/log/crowdsec.log", b"hello\nworld\n", None),
    ];
    for (path, head, want) in cases {
        assert_eq!(detect(Path::new(path), head), want, "{path}");
    }
}

/// What the Local API of 1.5 and later logs when the console deletes a decision: an unban of
/// the address in every scenario, a challenge's when the type is captcha; JSON form too.
#[test]
fn console_deletions_are_unbans_without_a_scenario() {
    let c = run(concat!(
        r#"time="24-11-2026 10:40:00" level=info msg="Decisions UUIDs to remove: [0b7c0f1e-3d7a-4b8e-9a51-0c1f5e9d2a11 5c3e4f8a-7b2d-4e1f-8c6a-9d0e1f2a3b4c]""#,
        "\n",
        r#"time="24-11-2026 10:40:00" level=info msg="Decision from 'cscli' for '104.16.1.10' (ban) has been deleted""#,
        "\n",
        r#"time="24-11-2026 10:40:00" level=info msg="Decision from 'crowdsec' for '162.158.0.0/15' (captcha) has been deleted""#,
        "\n",
        r#"{"level":"info","msg":"Decision from 'CAPI' for '2606:4700::1' (ban) has been deleted","time":"2026-11-24T10:41:00Z"}"#,
        "\n",
        // A decision of another scope: its value is no address.
        r#"time="24-11-2026 10:42:00" level=info msg="Decision from 'crowdsec' for 'admin' (ban) has been deleted""#,
    ));
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(
        brief(&c),
        vec![
            ("104.16.1.10/32".into(), String::new(), Action::Unban, 2),
            (
                "162.158.0.0/15".into(),
                "(captcha)".into(),
                Action::Unban,
                3
            ),
            ("2606:4700::1/128".into(), String::new(), Action::Unban, 4),
        ]
    );
    assert_eq!(c.events[0].time, Some(at("2026-11-24T10:40:00")));
    assert_eq!(
        c.events.iter().map(|e| e.challenge).collect::<Vec<_>>(),
        [false, true, false]
    );
    assert!(
        c.notes
            .iter()
            .any(|n| n.starts_with("3 decision(s) deleted from the console")),
        "{:?}",
        c.notes
    );
}

/// A message that only quotes a deletion (a request path, words before or after it, quotes
/// inside the value) is no deletion.
#[test]
fn text_that_quotes_a_deletion_is_none() {
    for msg in [
        &b"GET /Decision from 'cscli' for '104.16.1.10' (ban) has been deleted"[..],
        b"Decision from 'cscli' for '104.16.1.10' (ban) has been deleted HTTP/1.1",
        b"Decision from 'cscli' for 'x' for '104.16.1.10' (ban) has been deleted",
        b"Decision from 'cscli' for '104.16.1.10' (ban) (ban) has been deleted",
        b"Decision from 'cscli' for '104.16.1.10 (ban) has been deleted",
        b"Decision from '' for '104.16.1.10' (ban) has been deleted",
    ] {
        let got = parse_deletion(msg);
        assert!(
            got.is_none_or(|d| crate::addr::parse_net(d.value).is_none()),
            "{}: {got:?}",
            String::from_utf8_lossy(msg)
        );
    }
    let c = run(concat!(
        r#"time="24-11-2026 10:40:00" level=warning msg="unable to parse line: GET /Decision from 'cscli' for '104.16.1.10' (ban) has been deleted""#,
        "\n",
        r#"time="24-11-2026 10:40:00" level=info msg="Decision from 'cscli' for '104.16.1.10' (ban) has been deleted\" extra=\"x""#,
    ));
    assert!(c.events.is_empty(), "{:?}", c.events);
}

/// A value of a custom scope is attacker text (a user name read from a log): one ending in a
/// captcha or simulated decision text on a Cloudflare address forges neither a challenge nor
/// hides a ban.
#[test]
fn a_user_name_forges_no_challenge_and_no_simulation() {
    let c = run(concat!(
        r#"time="24-11-2026 03:09:23" level=info msg="(m/crowdsec) crowdsecurity/ssh-user-enum by username x : 4h captcha on Ip 104.16.0.1 : 4h ban on username x : 4h captcha on Ip 104.16.0.1""#,
        "\n",
        r#"time="24-11-2026 03:09:23" level=info msg="(m/crowdsec) crowdsecurity/ssh-user-enum by username y : (simulated alert)4h ban on Ip 104.16.0.2 : 4h ban on username y : (simulated alert)4h ban on Ip 104.16.0.2""#,
    ));
    assert!(c.events.is_empty(), "{:?}", c.events);
    assert_eq!(c.malformed.len(), 2, "{:?}", c.malformed);
    assert!(
        c.notes.iter().all(|n| !n.contains("simulated")),
        "{:?}",
        c.notes
    );
}
