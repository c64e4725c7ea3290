//! Unit tests of the ModSecurity native audit log readers, on literal inputs.

use super::*;
use crate::formats::grammar::modsec::{rule_id_v2, rule_id_v3};
use crate::formats::grammar::time::parse_audit_time;
use crate::formats::modsec_audit::serial::HOLD_LIMIT;
use crate::formats::test_support::{ctx, Collect};
use crate::formats::LineParser;

fn run(text: &str) -> Collect {
    let mut p = AuditLogParser::new(&ctx("modsec_audit.log"));
    let mut sink = Collect::default();
    for (i, l) in text.split('\n').enumerate() {
        p.line(i as u64 + 1, l.as_bytes(), &mut sink);
    }
    p.finish(&mut sink);
    sink
}

fn found(c: &Collect) -> Vec<(String, String, Option<String>, u64)> {
    c.events
        .iter()
        .map(|e| {
            (
                e.net.addr().to_string(),
                e.scope.clone(),
                e.peer.map(|p| p.to_string()),
                e.location.line,
            )
        })
        .collect()
}

const V2_PHASE1: &str = r#"--9991b327-A--
[24/Nov/2026:03:04:39.334629 +0000] awT-x1yPaHSWVd4rknlj4AAAAAU 127.0.0.1 42922 127.0.0.1 18092
--9991b327-B--
GET /wp-login.php HTTP/1.1
Host: 127.0.0.1:18092

--9991b327-F--
HTTP/1.1 403 Forbidden

--9991b327-H--
Message: Access denied with code 403 (phase 1). String match "/wp-login.php" at REQUEST_URI. [file "/etc/modsecurity/modsec-rules.conf"] [line "11"] [id "200001"] [msg "Blocked WordPress login probe"] [tag "cf-ban-audit/test"]
Apache-Error: [file "apache2_util.c"] [line 275] [level 3] [client 104.21.33.4] ModSecurity: Access denied with code 403 (phase 1). String match "/wp-login.php" at REQUEST_URI. [file "/etc/modsecurity/modsec-rules.conf"] [line "11"] [id "200001"] [msg "Blocked WordPress login probe"] [tag "cf-ban-audit/test"] [hostname "127.0.0.1"] [uri "/wp-login.php"] [unique_id "awT-x1yPaHSWVd4rknlj4AAAAAU"]
Action: Intercepted (phase 1)
Stopwatch: 1795489479334053 589 (- - -)

--9991b327-Z--
"#;

#[test]
fn v2_denial_is_on_the_apache_client_with_section_a_as_peer() {
    let c = run(V2_PHASE1);
    assert_eq!(
        found(&c),
        [(
            "104.21.33.4".into(),
            "200001".into(),
            Some("127.0.0.1".into()),
            1
        )]
    );
    assert_eq!(
        c.events[0].time.unwrap().to_string(),
        "2026-11-24 03:04:39.334629"
    );
    assert!(c.malformed.is_empty());
}

#[test]
fn crlf_and_v3_boundaries() {
    let v3 = "---KKKAPzWp---A--\r\n[24/Nov/2026:03:03:00 +0000] 179548938037.728597 162.159.200.1 0 127.0.0.1 18082\r\n---KKKAPzWp---H--\r\nModSecurity: Access denied with code 403 (phase 1). Matched \"Operator `BeginsWith' with parameter `/wp-login.php' against variable `REQUEST_URI' (Value: `/wp-login.php' ) [file \"/etc/nginx/modsec/modsec-common.conf\"] [line \"10\"] [id \"100001\"] [rev \"\"] [msg \"x\"]\r\n\r\n---KKKAPzWp---Z--\r\n";
    let c = run(v3);
    assert_eq!(
        found(&c),
        [("162.159.200.1".into(), "100001".into(), None, 1)]
    );
}

#[test]
fn warnings_statuses_and_other_modules_are_not_denials() {
    for h in [
        "Message: Warning. Matched phrase \"nikto\" at REQUEST_HEADERS:User-Agent. [file \"/x\"] [line \"1\"] [id \"913100\"]",
        "Apache-Error: [file \"mod_evasive20.c\"] [line 258] [level 3] client denied by server configuration: /var/www/html/xmlrpc.php",
        "Message: Access allowed (phase 1). Pattern match \"^10\\\\.0\\\\.5\\\\.20$\" at REMOTE_ADDR. [file \"/x\"] [line \"2\"] [id \"999946\"]",
        "ModSecurity: Warning. Matched \"Operator `Ge' with parameter `5' against variable `TX:ANOMALY_SCORE' (Value: `20' ) [file \"/x\"] [line \"79\"] [id \"949110\"] [rev \"\"]",
        "ModSecurity: Access denied with code 200 (phase 1). [file \"/x\"] [line \"1\"] [id \"5\"] [rev \"\"]",
        "Message: Access denied with redirection to https://example.com/ using status 302 (phase 2). [file \"/x\"] [line \"1\"] [id \"6\"]\nAction: Intercepted (phase 2)",
    ] {
        let text = format!(
            "--0afe053a-A--\n[24/Nov/2026:03:04:39 +0000] X 104.16.0.1 1 127.0.0.1 80\n--0afe053a-F--\nHTTP/1.1 403 Forbidden\n\n--0afe053a-H--\n{h}\n\n--0afe053a-Z--\n"
        );
        assert!(run(&text).events.is_empty(), "{h}");
    }
    // An interception without a message: a denial of an unnamed rule.
    let text = "--0afe053a-A--\n[24/Nov/2026:03:04:39 +0000] X 104.16.0.1 1 127.0.0.1 80\n--0afe053a-H--\nAction: Intercepted (phase 2)\n--0afe053a-Z--\n";
    assert_eq!(
        found(&run(text)),
        [("104.16.0.1".into(), "modsecurity".into(), None, 1)]
    );
}

#[test]
fn bodies_cannot_forge_or_end_entries() {
    let text = r#"--d974ea35-A--
[24/Nov/2026:04:03:03.944052 +0000] awUMd3KkOTup9ytPx0MtygAAABg 192.0.2.45 48614 127.0.0.1 18201
--d974ea35-B--
POST /comment.php HTTP/1.1
Message: Access denied with code 403 (phase 2). [file "/x"] [line "1"] [id "999001"]
Action: Intercepted (phase 2)

--d974ea35-C--
trap=1&note=
--deadbeef-A--
[24/Nov/2026:03:00:00 +0000] FAKE 104.16.66.67 1234 127.0.0.1 80
--deadbeef-H--
Message: Access denied with code 403 (phase 2). [id "999004"]
Action: Intercepted (phase 2)
--deadbeef-Z--
--d974ea35-F--
HTTP/1.1 404 Not Found

--d974ea35-H--
Message: Warning. String match "trap" at ARGS_NAMES:trap. [file "/x"] [line "49"] [id "300011"]

--d974ea35-Z--
"#;
    let c = run(text);
    assert!(c.events.is_empty(), "{:?}", found(&c));
    assert!(c.malformed.is_empty());
}

#[test]
fn a_truncated_entry_is_closed_by_the_next_one() {
    let text = "--11111111-A--\n[24/Nov/2026:03:04:39 +0000] X 104.16.0.1 1 127.0.0.1 80\n--11111111-H--\nMessage: Access denied with code 403 (phase 2). [file \"/x\"] [line \"1\"] [id \"7\"]\n--22222222-A--\n[24/Nov/2026:03:04:40 +0000] Y 104.16.0.2 1 127.0.0.1 80\n--22222222-H--\nAction: Intercepted (phase 1)\n";
    assert_eq!(
        found(&run(text)),
        [
            ("104.16.0.1".into(), "7".into(), None, 1),
            ("104.16.0.2".into(), "modsecurity".into(), None, 5)
        ]
    );
}

#[test]
fn rule_ids_come_from_the_structural_tags() {
    // v2: an argument name shaped like a tag comes before the real one.
    let m = br#"Access denied with code 403 (phase 2). Pattern match "(?i)union\\s+select" at ARGS:x [id "666"]. [file "/r.conf"] [line "46"] [id "300002"] [msg "SQL injection attempt"] [data "Matched ARGS:x [id \x22666\x22]"]"#;
    assert_eq!(rule_id_v2(m), Some(&b"300002"[..]));
    // v3: a variable name shaped like a tag is not a complete file/line/id run.
    let m = br#"Access denied with code 403 (phase 2). Matched "Operator `Rx' with parameter `x' against variable `ARGS:x [id "666"]' (Value: `union select 1' ) [file "/r.conf"] [line "7"] [id "400002"] [rev ""] [msg "SQLi"] [data "Matched ARGS:x [id \x22666\x22]"] [severity "0"] [ver ""] [maturity "0"] [accuracy "0"] [hostname "127.0.0.1"] [uri "/search"] [unique_id "1"] [ref "v4,1"]"#;
    assert_eq!(rule_id_v3(m), Some(&b"400002"[..]));
    assert_eq!(
        rule_id_v3(br#"[file ""] [line "0"] [id "-1"] [rev ""]"#),
        None
    );
}

#[test]
fn section_a_and_times() {
    assert!(parse_section_a(
        b"[07/Dec/2015:19:35:54 +0000] VmXfmn8AAAEAAANSL4MAAABw 10.0.220.75 14882 10.0.220.50 443"
    )
    .is_some());
    assert!(
        parse_section_a(b"[07/Dec/2015:19:35:54 +0000] id 10.0.220.75 x 10.0.220.50 443").is_none()
    );
    assert!(
        parse_section_a(b"[07/Dec/2015:19:35:54 +0000] id host.example 1 10.0.220.50 443")
            .is_none()
    );
    assert!(parse_audit_time(b"13/Aug/2022:00:06:11.341644 +0000").is_some());
    assert!(parse_audit_time(b"31/Feb/2022:00:06:11 +0000").is_none());
    assert!(parse_audit_time(b"13/Aug/2022:00:06").is_none());
}

#[test]
fn unreadable_section_a_is_malformed() {
    let c = run("--11111111-A--\n[24/Nov/2026:03:04:39 +0000] X not-an-address 1 127.0.0.1 80\n--11111111-H--\nAction: Intercepted (phase 1)\n--11111111-Z--\n");
    assert!(c.events.is_empty());
    assert_eq!(c.malformed_lines(), [2]);
}

#[test]
fn index_lines() {
    let v3 = br#"127.0.0.1:18303 172.69.7.80 - [24/Nov/2026:04:03:08 +0000] "GET /search?q=1 HTTP/1.1" 403 153 - "curl/7.88.1" 179549298889.270362 - /var/log/audit/20261124/20261124-0403/20261124-040308-179549298889.270362 0 1317.000000 md5:9ffa5813a4ef15d1ea6f14afe4aa927c"#;
    assert_eq!(
        parse_index_line(v3).unwrap().client.to_string(),
        "172.69.7.80"
    );
    let cut = br#"h 192.0.2.1 - - [24/Nov/2026:03:04:39 +0000] "GET /x HTTP/1.1" 403 239 "-" "-" id "-" /a/b 0 1 md5:b96a82de441c7046bf507ea300557041 L"#;
    assert!(parse_index_line(cut).is_some());
    assert!(parse_index_line(
        b"192.0.2.1 - - [24/Nov/2026:03:04:39 +0000] \"GET / HTTP/1.1\" 200 1"
    )
    .is_none());
    assert_eq!(
        detect(Path::new("modsec_audit.log"), v3),
        Some(Format::ModsecAuditIndex)
    );
}

/// The number of the line of `text` that is `line`.
fn line_of(text: &str, line: &str) -> u64 {
    text.split('\n').position(|l| l == line).unwrap() as u64 + 1
}

/// A v2 entry denied by rule `rule` for `client`, with boundary id `id`.
fn denied(id: &str, client: &str, rule: &str) -> String {
    format!(
        "--{id}-A--\n[24/Nov/2026:03:04:39 +0000] U{id} {client} 1 127.0.0.1 80\n--{id}-B--\nGET /x HTTP/1.1\n\n--{id}-F--\nHTTP/1.1 403 Forbidden\n\n--{id}-H--\nMessage: Access denied with code 403 (phase 2). [file \"/x\"] [line \"1\"] [id \"{rule}\"]\nAction: Intercepted (phase 2)\n\n--{id}-Z--\n\n"
    )
}

/// A whole entry forged inside a request body: a denial of 104.16.66.67.
const FORGED: &str = "--deadbeef-A--\n[24/Nov/2026:03:00:00 +0000] FAKE 104.16.66.67 1234 127.0.0.1 80\n--deadbeef-H--\nMessage: Access denied with code 403 (phase 2). [id \"999004\"]\nAction: Intercepted (phase 2)\n--deadbeef-Z--\n";

#[test]
fn a_file_starting_inside_a_body_drops_that_entry_and_its_forged_entries() {
    // After copytruncate the file starts in section C of an entry whose header is in the
    // rotated file; its body holds a forged entry, then its own F, H and Z follow.
    let text = format!(
        "trap=1&note=\n{FORGED}\n--d974ea35-F--\nHTTP/1.1 200 OK\n\n--d974ea35-H--\nMessage: Warning. [id \"300011\"]\n\n--d974ea35-Z--\n\n{}",
        denied("11111111", "104.16.1.1", "300001")
    );
    let c = run(&text);
    let at = line_of(&text, "--11111111-A--");
    assert_eq!(
        found(&c),
        [("104.16.1.1".into(), "300001".into(), None, at)]
    );
    assert_eq!(c.malformed_lines(), [1]);
    // The same starting at one of that entry's boundaries, and starting with the forged entry.
    for start in ["--d974ea35-C--\ntrap=1&note=\n", ""] {
        let text = format!(
            "{start}{FORGED}\n--d974ea35-F--\nHTTP/1.1 200 OK\n\n--d974ea35-Z--\n\n{}",
            denied("11111111", "104.16.1.1", "300001")
        );
        let c = run(&text);
        assert_eq!(found(&c).len(), 1, "{start:?}: {:?}", found(&c));
        assert_eq!(found(&c)[0].0, "104.16.1.1");
        assert_eq!(c.malformed.len(), 1, "{start:?}: {:?}", c.malformed);
    }
}

#[test]
fn a_file_starting_inside_a_forged_entry_drops_the_forged_entries_after_it() {
    // The truncation fell inside the first of two forged entries in a body: its end looks like
    // the end of the entry that began before the file, and the second forged entry follows;
    // the body's own entry going on (F) shows them both body text.
    let second = FORGED
        .replace("deadbeef", "cafecafe")
        .replace("999004", "999005");
    let text = format!(
        "{}{second}--d974ea35-F--\nHTTP/1.1 200 OK\n\n--d974ea35-Z--\n\n{}",
        &FORGED[FORGED.find('\n').unwrap() + 1..],
        denied("11111111", "104.16.1.1", "300001")
    );
    let c = run(&text);
    let got: Vec<String> = found(&c).into_iter().map(|f| f.0).collect();
    assert_eq!(got, ["104.16.1.1"]);
    assert_eq!(c.malformed_lines(), [1]);
}

#[test]
fn forged_entries_left_open_in_a_body_are_dropped_when_the_real_entry_goes_on() {
    // Starting inside a body: one forged entry closed, a second left open in its own body; the
    // real entry's F inside it still proves them body text.
    let text = format!(
        "body\n{FORGED}--cafecafe-A--\n[24/Nov/2026:03:00:00 +0000] FAKE2 104.16.66.68 1 127.0.0.1 80\n--cafecafe-H--\nMessage: Access denied with code 403 (phase 2). [id \"999005\"]\n--cafecafe-K--\nx\n--d974ea35-F--\nHTTP/1.1 200 OK\n\n--d974ea35-Z--\n\n{}",
        denied("11111111", "104.16.1.1", "300001")
    );
    let c = run(&text);
    assert_eq!(found(&c).len(), 1, "{:?}", found(&c));
    assert_eq!(found(&c)[0].0, "104.16.1.1");
    // Inside a whole entry: its own id coming back drops them too.
    let text = format!(
        "--d974ea35-A--\n[24/Nov/2026:04:03:03 +0000] R 192.0.2.45 1 127.0.0.1 80\n--d974ea35-C--\n{FORGED}--cafecafe-A--\n[24/Nov/2026:03:00:00 +0000] FAKE2 104.16.66.68 1 127.0.0.1 80\n--cafecafe-C--\n--d974ea35-F--\nHTTP/1.1 200 OK\n\n--d974ea35-Z--\n"
    );
    let c = run(&text);
    assert!(
        c.events.is_empty() && c.malformed.is_empty(),
        "{:?} {:?}",
        found(&c),
        c.malformed
    );
}

#[test]
fn an_entry_cut_inside_its_body_ends_at_the_next_header() {
    // A crash in the middle of section C: the entries written after the restart are read,
    // and the cut one is malformed.
    let text = format!(
        "--aaaaaaaa-A--\n[24/Nov/2026:03:04:38 +0000] X 192.0.2.1 1 127.0.0.1 80\n--aaaaaaaa-C--\npartial body\n{}{}",
        denied("11111111", "104.16.1.1", "300001"),
        denied("22222222", "104.16.1.2", "300002")
    );
    let c = run(&text);
    assert_eq!(
        found(&c),
        [
            ("104.16.1.1".into(), "300001".into(), None, 5),
            (
                "104.16.1.2".into(),
                "300002".into(),
                None,
                line_of(&text, "--22222222-A--")
            )
        ]
    );
    assert_eq!(c.malformed_lines(), [1]);
    // Cut outside a body (in H): it keeps what it said, and is malformed too.
    let text = format!(
        "--aaaaaaaa-A--\n[24/Nov/2026:03:04:38 +0000] X 104.16.1.3 1 127.0.0.1 80\n--aaaaaaaa-H--\nMessage: Access denied with code 403 (phase 1). [file \"/x\"] [line \"1\"] [id \"7\"]\n{}",
        denied("11111111", "104.16.1.1", "300001")
    );
    let c = run(&text);
    assert_eq!(found(&c).len(), 2);
    assert_eq!(c.malformed_lines(), [1]);
}

#[test]
fn a_long_interruption_is_a_cut() {
    // More than any logged body after the interruption: the interrupted entry was cut, and the
    // entry read since is real even before the file ends.
    let body = "x".repeat(HOLD_LIMIT as usize);
    let text = format!(
        "--aaaaaaaa-A--\n[24/Nov/2026:03:04:38 +0000] X 192.0.2.1 1 127.0.0.1 80\n--aaaaaaaa-C--\n{}--bbbbbbbb-A--\n[24/Nov/2026:03:04:40 +0000] Y 192.0.2.2 1 127.0.0.1 80\n--bbbbbbbb-C--\n{body}\n--bbbbbbbb-Z--\n",
        denied("11111111", "104.16.1.1", "300001")
    );
    let mut p = AuditLogParser::new(&ctx("modsec_audit.log"));
    let mut sink = Collect::default();
    for (i, l) in text.split('\n').enumerate() {
        p.line(i as u64 + 1, l.as_bytes(), &mut sink);
    }
    assert_eq!(sink.events.len(), 1, "released before the end");
    assert_eq!(sink.malformed_lines(), [1]);
    p.finish(&mut sink);
    assert_eq!(sink.events.len(), 1);
}

#[test]
fn body_text_cannot_hide_the_first_entries_of_a_file() {
    // A request body holding a boundary of another id that is not a header: body text, which
    // never ends the hold on a file's first entries (only such a boundary outside a body does).
    let first = denied("11111111", "104.16.1.1", "300001").replace(
        "--11111111-F--",
        "--11111111-C--\nx=1\n--abcdefgh-F--\n--11111111-F--",
    );
    let text = format!("{first}{}", denied("22222222", "104.16.1.2", "300002"));
    let c = run(&text);
    assert_eq!(found(&c).len(), 2, "{:?}", found(&c));
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
}

#[test]
fn detection_needs_the_structure_of_an_entry() {
    let audit = Some(Format::ModsecAudit);
    let at = Path::new("/var/log/apache2/modsec_audit.log");
    // v2 writes F before E, J and K after H.
    let v2 = denied("11111111", "104.16.1.1", "300001")
        .replace("--11111111-F--", "--11111111-C--\nx=1\n--11111111-F--")
        .replace("--11111111-H--", "--11111111-E--\n\n--11111111-H--");
    assert_eq!(detect(at, v2.as_bytes()), audit);
    assert_eq!(detect(at, V2_PHASE1.as_bytes()), audit);
    // After copytruncate: the rest of an entry, from one of its boundaries or from inside a
    // section, then a whole entry.
    let rest = format!(
        "--d974ea35-F--\nHTTP/1.1 200 OK\n\n--d974ea35-Z--\n\n{}",
        denied("11111111", "104.16.1.1", "300001")
    );
    assert_eq!(detect(at, rest.as_bytes()), audit);
    let inside = format!("trap=1&note=\n{}", &rest[rest.find("HTTP").unwrap()..]);
    assert_eq!(detect(at, inside.as_bytes()), audit);
    // A header alone, parts out of order, or boundaries in another log's records: not one.
    for not in [
        "--11111111-A--\n[24/Nov/2026:03:04:39 +0000] X 104.16.0.1 1 127.0.0.1 80\n".to_string(),
        denied("11111111", "104.16.1.1", "300001").replace("--11111111-B--", "--11111111-J--"),
        format!("trap=1&note=\n{}", denied("11111111", "104.16.1.1", "300001")),
        format!(
            "2026/11/24 06:50:39 [error] 10220#10220: *2 open() \"/var/www/html/x\n{}\" failed (2: No such file or directory), client: 192.0.2.80\n",
            denied("11111111", "104.16.1.1", "300001")
        ),
    ] {
        assert_eq!(detect(at, not.as_bytes()), None, "{not}");
    }
}

#[test]
fn a_crash_right_after_a_forged_entry_in_a_body_limit() {
    // LIMIT. The entry of 192.0.2.45 is cut inside its body right after a whole entry that its
    // request forged, and the entries written after the crash follow: nothing tells the forged
    // entry from one of those, and it is read (its own entry is malformed, and says nothing).
    let text = format!(
        "--d974ea35-A--\n[24/Nov/2026:04:03:03 +0000] R 192.0.2.45 1 127.0.0.1 80\n--d974ea35-C--\ntrap=1&note=\n{FORGED}{}",
        denied("11111111", "104.16.1.1", "300001")
    );
    let c = run(&text);
    let got: Vec<String> = found(&c).into_iter().map(|f| f.0).collect();
    assert_eq!(got, ["104.16.66.67", "104.16.1.1"]);
    assert_eq!(c.malformed_lines(), [1]);
    // Cut inside the forged entry itself, it says nothing.
    let text = format!(
        "--d974ea35-A--\n[24/Nov/2026:04:03:03 +0000] R 192.0.2.45 1 127.0.0.1 80\n--d974ea35-C--\ntrap=1&note=\n{}{}",
        &FORGED[..FORGED.find("--deadbeef-Z--").unwrap()],
        denied("11111111", "104.16.1.1", "300001")
    );
    let got: Vec<String> = found(&run(&text)).into_iter().map(|f| f.0).collect();
    assert_eq!(got, ["104.16.1.1"]);
}
