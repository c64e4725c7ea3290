//! Unit tests of the CrowdSec readers (JSON and CSV), on literal inputs.

use super::*;
use crate::event::Action;
use crate::formats::test_support::{ctx, run_lines, Collect};
use chrono::TimeDelta;

/// Reads `text` as `format`, from an input named `/tmp/x`.
fn run(format: Format, text: &str) -> Collect {
    run_lines(format, "/tmp/x", text)
}

fn brief(c: &Collect) -> Vec<(String, String, Action, u64)> {
    c.events
        .iter()
        .map(|e| {
            (
                e.net.to_string(),
                e.scope.clone(),
                e.action,
                e.location.line,
            )
        })
        .collect()
}

#[test]
fn durations() {
    assert_eq!(parse_go_duration("0"), Some(TimeDelta::zero()));
    assert_eq!(parse_go_duration("1h0m0s").unwrap().num_seconds(), 3600);
    assert_eq!(parse_go_duration("500ms").unwrap().num_milliseconds(), 500);
    assert_eq!(parse_go_duration("1.5h").unwrap().num_minutes(), 90);
    for bad in ["", "-", "h", "1", "1x", "1..2s", "1h-2m", "9999999999h"] {
        assert!(parse_go_duration(bad).is_none(), "{bad}");
    }
}

#[test]
fn alerts_with_decisions_lines_and_times() {
    let text = r#"[
 {
  "capacity": 0,
  "created_at": "2026-11-24T03:09:23Z",
  "decisions": [
   {
    "duration": "3h59m6.5s",
    "origin": "cscli",
    "scenario": "manual: x",
    "scope": "Ip",
    "simulated": false,
    "type": "ban",
    "value": "104.16.1.10"
   },
   {
    "duration": "-5m",
    "origin": "crowdsec",
    "scenario": "crowdsecurity/ssh-bf",
    "scope": "Range",
    "type": "ban",
    "value": "162.158.0.0/15"
   },
   {
    "duration": "1h", "origin": "cscli", "scenario": "geo", "scope": "Country", "type": "ban", "value": "CN"
   },
   {
    "duration": "1h", "origin": "cscli", "scenario": "challenge", "scope": "Ip", "type": "Captcha", "value": "172.64.33.2"
   }
  ],
  "message": "Ip 104.16.9.9 performed 'x' deny 104.16.9.9",
  "events": [{"meta": [{"key": "source_ip", "value": "104.16.9.9"}]}],
  "scenario": "manual: x",
  "source": {"ip": "104.16.9.9", "scope": "Ip", "value": "104.16.9.9"},
  "start_at": "2026-11-24 03:09:23 +0000 UTC"
 }
]"#;
    let c = run(Format::CrowdsecJson, text);
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(
        brief(&c),
        vec![
            (
                "104.16.1.10/32".into(),
                "manual: x".into(),
                Action::Listed,
                6
            ),
            (
                "162.158.0.0/15".into(),
                "crowdsecurity/ssh-bf".into(),
                Action::Listed,
                15
            ),
            (
                "172.64.33.2/32".into(),
                "challenge (captcha)".into(),
                Action::Listed,
                26
            ),
        ]
    );
    let now = ctx("/tmp/x").now;
    assert!(c.events[0].expires.unwrap() > now);
    assert!(c.events[1].expires.unwrap() < now);
    assert_eq!(c.events[0].time, parse_time("2026-11-24T03:09:23Z"));
    assert!(c.notes[0].contains("1 of scope Country"), "{:?}", c.notes);
    // A captcha is a challenge, apart from the bans.
    assert_eq!(
        c.events.iter().map(|e| e.challenge).collect::<Vec<_>>(),
        [false, false, true]
    );
}

#[test]
fn simulated_decisions_are_counted_never_reported() {
    // Simulated on the alert, or on the decision alone: no bouncer applies either.
    let text = r#"[{"created_at":"2026-11-24T03:00:00Z","simulated":true,"scenario":"s","decisions":[{"duration":"4h","origin":"crowdsec","scenario":"s","scope":"ip","type":"ban","value":"172.64.1.1","simulated":true}]},
{"created_at":"2026-11-24T03:00:00Z","simulated":false,"scenario":"t","decisions":[{"duration":"4h","origin":"crowdsec","scenario":"t","scope":"ip","type":"ban","value":"172.64.1.2","simulated":true},{"duration":"4h","origin":"crowdsec","scenario":"t","scope":"ip","type":"ban","value":"172.64.1.3"}]}]"#;
    let c = run(Format::CrowdsecJson, text);
    assert_eq!(
        brief(&c),
        vec![("172.64.1.3/32".into(), "t".into(), Action::Listed, 2)]
    );
    assert!(
        c.notes
            .iter()
            .any(|n| n == "2 simulated decision(s) (not applied by bouncers): not reported"),
        "{:?}",
        c.notes
    );
}

#[test]
fn stream_deleted_and_new() {
    let text = r#"{
  "new": [
    {"duration": "3h", "origin": "crowdsec", "scenario": "a", "scope": "Ip", "type": "ban", "value": "104.16.0.1"},
    {"duration": "3h", "origin": "CAPI", "scenario": "b", "scope": "Ip", "type": "ban", "value": "104.16.0.2"}
  ],
  "deleted": [
    {"duration": "-1s", "origin": "crowdsec", "scenario": "a", "scope": "Ip", "type": "ban", "value": "104.16.0.1"},
    {"duration": "-1s", "origin": "crowdsec", "scenario": "c", "scope": "Ip", "type": "ban", "value": "104.16.0.3"}
  ]
}"#;
    let c = run(Format::CrowdsecJson, text);
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(
        brief(&c),
        vec![
            ("104.16.0.1/32".into(), "a".into(), Action::Listed, 3),
            ("104.16.0.2/32".into(), "b".into(), Action::Listed, 4),
            ("104.16.0.3/32".into(), "c".into(), Action::Unban, 8),
        ]
    );
    // One line, deleted first.
    let one = r#"{"deleted":[{"duration":"-1s","origin":"x","scenario":"a","scope":"Ip","type":"ban","value":"104.16.0.1"}],"new":[{"duration":"1h","origin":"x","scenario":"a","scope":"Ip","type":"ban","value":"104.16.0.1"}]}"#;
    let c = run(Format::CrowdsecJson, one);
    assert_eq!(
        brief(&c),
        vec![("104.16.0.1/32".into(), "a".into(), Action::Listed, 1)]
    );
    let empty = run(Format::CrowdsecJson, r#"{"new": null, "deleted": null}"#);
    assert!(empty.events.is_empty() && empty.malformed.is_empty());
}

#[test]
fn empty_and_broken_json() {
    for text in ["[]", "null", "[\n]\n"] {
        let c = run(Format::CrowdsecJson, text);
        assert!(c.events.is_empty() && c.malformed.is_empty(), "{text}");
    }
    let c = run(
        Format::CrowdsecJson,
        "[{\"value\": \"104.16.0.1\", \"scope\": \"ip\", ",
    );
    assert_eq!(c.malformed.len(), 1);
    let c = run(
        Format::CrowdsecJson,
        "[{\"value\": \"104.16.0.1\", \"scope\": \"ip\",}]",
    );
    assert_eq!(c.malformed.len(), 1);
    let c = run(Format::CrowdsecJson, "<html>");
    assert_eq!(c.malformed.len(), 1);
    let c = run(
        Format::CrowdsecJson,
        "[{\"value\": \"evil.example\", \"scope\": \"ip\", \"type\": \"ban\"}]",
    );
    assert_eq!(c.malformed.len(), 1);
    assert!(c.events.is_empty());
}

#[test]
fn import_json_defaults() {
    let c = run(
        Format::CrowdsecJson,
        r#"[{"value": "104.16.0.1", "reason": "imported"}, {"value": "104.16.0.2", "scope": "Range", "type": "ban"}]"#,
    );
    let b = brief(&c);
    assert_eq!(b[0].1, "imported");
    assert_eq!(b[1].1, "crowdsec");
    assert_eq!(
        c.events[0].expires,
        Some(ctx("/tmp/x").reference + TimeDelta::hours(4))
    );
}

#[test]
fn decisions_raw_csv() {
    let text = "id,source,ip,reason,action,country,as,events_count,expiration,simulated,alert_id,machine
15,crowdsec,Ip:2606:4700:4400::ac40:9b1d,crowdsecurity/nginx-req-limit-exceeded,ban,,,6,3h59m31.2s,false,15,m
3,cscli,Range:162.158.0.0/15,\"manual: a, \"\"quoted\"\"
reason\",ban,,,1,-11h,false,3
4,cscli,Country:CN,geo,ban,,,1,1h,false,4
5,cscli,Ip:172.64.33.2,t,captcha,,,1,1h,false,5
6,cscli,104.16.0.1,t,ban,,,1,1h,false,6";
    let c = run(Format::CrowdsecCsv, text);
    assert_eq!(
        brief(&c),
        vec![
            (
                "2606:4700:4400::ac40:9b1d/128".into(),
                "crowdsecurity/nginx-req-limit-exceeded".into(),
                Action::Listed,
                2
            ),
            (
                "162.158.0.0/15".into(),
                "manual: a, \"quoted\"\nreason".into(),
                Action::Listed,
                3
            ),
            (
                "172.64.33.2/32".into(),
                "t (captcha)".into(),
                Action::Listed,
                6
            ),
        ]
    );
    assert!(c.events[2].challenge && !c.events[0].challenge);
    assert!(c.events[1].expires.unwrap() < ctx("/tmp/x").now);
    assert_eq!(c.malformed.len(), 1, "{:?}", c.malformed);
}

#[test]
fn alerts_raw_csv() {
    let text = "id,scope,value,reason,country,as,decisions,created_at
15,Ip,104.17.96.13,crowdsecurity/nginx-req-limit-exceeded,,,ban:1,2026-11-24 03:09:39 +0000 UTC
16,Ip,104.17.96.14,crowdsecurity/http-probing,,,,2026-11-24 03:09:39 +0000 UTC
17,Ip,104.17.96.15,crowdsecurity/http-probing,,,(simul)ban:1,2026-11-24T03:09:39Z";
    let c = run(Format::CrowdsecCsv, text);
    assert_eq!(
        brief(&c),
        vec![(
            "104.17.96.13/32".into(),
            "crowdsecurity/nginx-req-limit-exceeded (alert)".into(),
            Action::Deny,
            2
        )]
    );
    assert!(c.events[0].time.is_some());
    // The alert whose only decision was simulated led to nothing a bouncer applied.
    assert!(
        c.notes
            .iter()
            .any(|n| n.starts_with("1 simulated decision(s)")),
        "{:?}",
        c.notes
    );
}

#[test]
fn detection() {
    let p = Path::new("/tmp/out.json");
    let alerts = br#"[
 {
  "capacity": 0,
  "created_at": "2026-11-24T03:09:23Z",
  "decisions": ["#;
    assert_eq!(detect(p, alerts), Some(Format::CrowdsecJson));
    let import = br#"[{"origin": "cscli", "scope": "ip", "value": "1.2.3.4", "reason": "x", "type": "ban", "duration": "1h"}]"#;
    assert_eq!(detect(p, import), Some(Format::CrowdsecJson));
    assert_eq!(
        detect(Path::new("/tmp/decisions.json"), b"[]\n"),
        Some(Format::CrowdsecJson)
    );
    assert_eq!(detect(Path::new("/tmp/a.json"), b"[]\n"), None);
    assert_eq!(
        detect(Path::new("/tmp/cscli.json"), b"null"),
        Some(Format::CrowdsecJson)
    );
    // Other JSON.
    for other in [
        &br#"{"nftables": [{"metainfo": {}}]}"#[..],
        br#"[{"transaction": {"client_ip": "104.16.0.1"}}]"#,
        br#"{"new": "yes"}"#,
        br#"{"new": [1, 2]}"#,
        br#"[{"value": "104.16.0.1"}]"#,
        br#"{"decisions": []}"#,
    ] {
        assert_eq!(detect(p, other), None, "{}", String::from_utf8_lossy(other));
    }
    let csv = Path::new("/tmp/d.csv");
    assert_eq!(
        detect(csv, b"origin,scope,value,reason,type,duration\n"),
        Some(Format::CrowdsecCsv)
    );
    assert_eq!(
        detect(csv, b"duration,scope,value\r\n24h,ip,1.2.3.4\n"),
        Some(Format::CrowdsecCsv)
    );
    assert_eq!(
        detect(
            csv,
            b"id,scope,value,reason,country,as,decisions,created_at,machine\n"
        ),
        Some(Format::CrowdsecCsv)
    );
    for other in [
        &b"value\n1.2.3.4\n"[..],
        b"name,value,type\n",
        b"value,scope,value\n",
        b"104.16.0.1\n",
    ] {
        assert_eq!(
            detect(csv, other),
            None,
            "{}",
            String::from_utf8_lossy(other)
        );
    }
}

#[test]
fn cut_and_garbled_input_never_panics() {
    let samples = [
        r#"[{"created_at":"2026-11-24T03:00:00Z","decisions":[{"duration":"4h","scope":"Ip","value":"104.16.0.1","type":"ban","scenario":"s"}],"scenario":"s"}]"#,
        r#"{"new":[{"duration":"3h","scenario":"a","scope":"Ip","type":"ban","value":"104.16.0.1"}],"deleted":[{"value":"x","scope":"Range"}]}"#,
        "id,source,ip,reason,action,country,as,events_count,expiration,simulated,alert_id\n1,c,Ip:104.16.0.1,\"a,\"\"b\",ban,,,1,1h,false,1",
        "id,scope,value,reason,country,as,decisions,created_at\n1,Ip,104.16.0.1,r,,,ban:1 (simul)x:2,2026-11-24 03:09:39 +0000 UTC",
    ];
    let mut seed = 0x2545_f491_u64;
    let alphabet = b"{}[]\",:\\ \nabn0123456789.-/Ipvaluedecisions";
    for sample in samples {
        for format in [Format::CrowdsecJson, Format::CrowdsecCsv] {
            for cut in 0..=sample.len() {
                run(format, &sample[..cut]);
            }
            for _ in 0..200 {
                let mut bytes = sample.as_bytes().to_vec();
                for _ in 0..4 {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let at = (seed >> 33) as usize % bytes.len();
                    bytes[at] = alphabet[(seed >> 17) as usize % alphabet.len()];
                }
                run(format, &String::from_utf8_lossy(&bytes));
            }
        }
    }
}

/// `cscli decisions list` (table or `-o raw`) is the whole list of decisions in force when it
/// was written, even empty; unless it holds 100 alerts, where cscli may have cut it. Other
/// CrowdSec files (alert listings, import files) are not.
#[test]
fn a_decision_listing_is_the_whole_list_unless_cut_at_100_alerts() {
    let header = "id,source,ip,reason,action,country,as,events_count,expiration,simulated,alert_id";
    let c = run(Format::CrowdsecCsv, header);
    assert_eq!(c.whole_list, Some(crate::event::Tool::Crowdsec));
    let mut text = header.to_string();
    for i in 1..=100 {
        text.push_str(&format!(
            "\n{i},crowdsec,Ip:192.0.2.{i},crowdsecurity/ssh-bf,ban,,,6,3h,false,{i}"
        ));
    }
    let c = run(Format::CrowdsecCsv, &text);
    assert_eq!((c.events.len(), c.whole_list), (100, None));
    assert!(
        c.notes
            .iter()
            .any(|n| n.starts_with("a decision listing of 100 alerts or more")),
        "{:?}",
        c.notes
    );
    // 99 alerts, one of them with two decisions: whole.
    let rows: Vec<&str> = text.lines().take(100).collect();
    let mut text = rows.join("\n");
    text.push_str("\n101,crowdsec,Range:192.0.2.0/24,crowdsecurity/ssh-bf,ban,,,6,3h,false,99");
    assert!(run(Format::CrowdsecCsv, &text).whole_list.is_some());
    for other in [
        "id,scope,value,reason,country,as,decisions,created_at",
        "duration,scope,value",
    ] {
        assert_eq!(run(Format::CrowdsecCsv, other).whole_list, None, "{other}");
    }
}
