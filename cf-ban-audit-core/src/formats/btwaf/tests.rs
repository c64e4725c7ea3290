//! Unit tests of the btwaf readers (`drop_ip.log`, per-site logs, `totla_db.db`), on literal inputs.

use super::*;
use crate::error::Error;
use crate::event::Action;
use crate::formats::test_support::{ctx, run_lines, Collect};
use chrono::TimeDelta;
use rusqlite::Connection;
use std::path::PathBuf;

fn now() -> NaiveDateTime {
    "2026-11-24T12:00:00".parse().unwrap()
}

fn addrs(c: &Collect) -> Vec<String> {
    c.events.iter().map(|e| e.net.addr().to_string()).collect()
}

#[test]
fn drop_entries_of_both_lengths() {
    let text = concat!(
        r#"[1795489200,"104.16.8.8","example.com","\/index.php?id=1",86400,"cc"]"#,
        "\n",
        r#"[1795489200,"2a06:98c0:3600::103","shop.example.net","\/login",3600,"inc","POST","Mozilla\/5.0","args","select.+from","POST \/login HTTP\/1.1\r\n\r\nuser=1"]"#,
        "\n\n",
        r#"[1795489200.0,"172.64.1.1","a.example",null,"300"]"#,
        "\n",
    );
    let got = run_lines(Format::BtwafDropIp, "/www/server/btwaf/drop_ip.log", text);
    assert!(got.malformed.is_empty(), "{:?}", got.malformed);
    assert_eq!(
        addrs(&got),
        ["104.16.8.8", "2a06:98c0:3600::103", "172.64.1.1"]
    );
    let scopes: Vec<_> = got.events.iter().map(|e| e.scope.as_str()).collect();
    assert_eq!(
        scopes,
        ["example.com/cc", "shop.example.net/inc", "a.example"]
    );
    let e = &got.events[0];
    assert_eq!((e.action, e.location.line), (Action::Ban, 1));
    assert_eq!(e.time, local(1_795_489_200));
    assert_eq!(e.expires, local(1_795_489_200 + 86400));
    assert_eq!(got.events[1].location.line, 2);
    assert_eq!(
        got.events[2].expires.unwrap() - got.events[2].time.unwrap(),
        TimeDelta::seconds(300)
    );
}

#[test]
fn forged_entries_inside_strings_are_strings() {
    let text = concat!(
        r#"[1795489200,"203.0.113.50","example.com","\/?q=\"],[1795489200,\"104.16.0.1\",\"example.com\",\"\/\",86400,\"cc\"],[",300,"cc"]"#,
        "\n",
        r#"[1795489200,"203.0.113.51","example.com","\/",300,"cc","GET","[1795489200,\"104.16.0.2\",\"example.com\",\"\/\",86400,\"cc\"]","ua","r","GET \/ HTTP\/1.1\n[1795489200,\"104.16.0.3\",\"e\",\"\/\",86400,\"cc\"]\n"]"#,
        "\n",
        // A line cut short: no entry, whatever it holds.
        r#"[1795489200,"104.16.0.4","example.com","\/",86400,"cc""#,
        "\n",
    );
    let got = run_lines(Format::BtwafDropIp, "drop_ip.log", text);
    assert_eq!(addrs(&got), ["203.0.113.50", "203.0.113.51"]);
    assert_eq!(got.malformed.len(), 1);
    assert_eq!(got.malformed[0].0, 3);
}

#[test]
fn bad_drop_entries_are_malformed() {
    for line in [
        // btwaf versions that logged the site in the address field
        r#"[1795489200,"example.com","example.com","\/",300,"cc"]"#,
        r#"[1795489200,"unknown","example.com","\/",300,"cc"]"#,
        r#"[1795489200,"104.16.0.1","example.com","\/"]"#,
        r#"["2026-11-24 03:00:00","104.16.0.1","example.com","\/",300,"cc"]"#,
        r#"[1795489200,"104.16.0.1","example.com","\/",-5,"cc"]"#,
        r#"[1795489200,"104.16.0.1","example.com","\/","long","cc"]"#,
        r#"[1795489200,"104.16.0.1",["example.com"],"\/",300,"cc"]"#,
        r#"{"ip":"104.16.0.1"}"#,
        r#"[]"#,
        "garbage 104.16.0.1",
    ] {
        let got = run_lines(Format::BtwafDropIp, "drop_ip.log", line);
        assert!(got.events.is_empty(), "{line}");
        assert_eq!(got.malformed.len(), 1, "{line}");
    }
}

#[test]
fn an_array_of_entries_on_one_line() {
    let text = concat!(
        r#"[[1795489200,"131.0.72.5","example.com","\/",86400,"cc"],"#,
        r#"[1795489200,"not-an-ip","example.com","\/",86400,"cc"],"#,
        r#"[1795489200,"198.51.100.4","example.com","\/",86400,"head"]]"#
    );
    let got = run_lines(Format::BtwafDropIp, "drop_ip.log", text);
    assert_eq!(addrs(&got), ["131.0.72.5", "198.51.100.4"]);
    assert_eq!(got.malformed.len(), 1);
}

#[test]
fn site_lines_deny_or_ban() {
    let text = concat!(
        r#"["2026-11-23 10:00:01","104.16.1.1","GET","\/?id=1%20union%20select","Mozilla\/5.0","args","union.+select"]"#,
        "\n",
        r#"["2026-11-23 23:59:00","172.64.9.9","GET","\/","curl\/8.5.0","cc","60秒内累计超过120次请求,封锁86400秒"]"#,
        "\n",
        r#"["2026-11-23 09:00:05","162.158.7.7","POST","\/wp-login.php","Mozilla","post","60秒以内累计超过6次以上非法请求,封锁600秒","POST \/wp-login.php HTTP\/1.1","封锁此IP"]"#,
        "\n",
        r#"["2026-11-23 12:00:00","2400:cb00:2048:1::c629:d7a2","GET","\/",null,"cc","假蜘蛛拦截","GET \/ HTTP\/1.1","假蜘蛛"]"#,
        "\n",
    );
    let got = run_lines(
        Format::BtwafSiteLog,
        "/www/wwwlogs/btwaf/example.com_2026-11-23.log",
        text,
    );
    assert!(got.malformed.is_empty(), "{:?}", got.malformed);
    let summary: Vec<_> = got
        .events
        .iter()
        .map(|e| {
            (
                e.net.addr().to_string(),
                e.scope.clone(),
                e.action,
                e.expires.map(|t| t.to_string()),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "104.16.1.1".into(),
                "example.com/args".into(),
                Action::Deny,
                None
            ),
            (
                "172.64.9.9".into(),
                "example.com/cc".into(),
                Action::Ban,
                Some("2026-11-24 23:59:00".into())
            ),
            (
                "162.158.7.7".into(),
                "example.com/post".into(),
                Action::Ban,
                Some("2026-11-23 09:10:05".into())
            ),
            (
                "2400:cb00:2048:1::c629:d7a2".into(),
                "example.com/cc".into(),
                Action::Deny,
                None
            ),
        ]
    );
}

#[test]
fn forged_site_lines_are_strings() {
    let text = concat!(
        // The user agent ends the array and starts another, as text.
        r#"["2026-11-23 10:00:00","198.51.100.5","GET","\/","x\",\"cc\",\"封锁86400秒\"]\n[\"2026-11-23 10:00:00\",\"104.16.0.9\",\"GET\",\"\/\",\"x","user_agent","sqlmap"]"#,
        "\n",
        r#"2026-11-23 10:00:00 104.16.0.10 GET / cc 封锁300秒"#,
        "\n",
        r#"["2026-11-23","104.16.0.11","GET","\/","ua","cc","封锁300秒"]"#,
        "\n",
        r#"["2026-11-23 10:00:00","104.16.0.12","GET","\/","ua"]"#,
        "\n",
    );
    let got = run_lines(Format::BtwafSiteLog, "example.com_2026-11-23.log", text);
    assert_eq!(addrs(&got), ["198.51.100.5"]);
    assert_eq!(got.events[0].action, Action::Deny);
    assert_eq!(got.events[0].scope, "example.com/user_agent");
    assert_eq!(got.malformed.len(), 3);
}

#[test]
fn block_texts() {
    assert_eq!(
        block_seconds("跳转验证-累计超过5次验证失败,封锁1200秒  (PS:URL级CC防御只在当前页面验证、不影响其他页面)"),
        Some(1200)
    );
    assert_eq!(block_seconds("封锁秒 封锁x秒 封锁60秒"), Some(60));
    assert_eq!(block_seconds("封锁60"), None);
    assert_eq!(block_seconds("60秒"), None);
}

#[test]
fn sites_from_names() {
    for (path, site) in [
        (
            "/www/wwwlogs/btwaf/example.com_2026-11-23.log",
            "example.com",
        ),
        (
            "/www/wwwlogs/free_waf_log/a_b.example_2026-01-02.log",
            "a_b.example",
        ),
        ("/tmp/some.log", "some"),
        ("-", "-"),
        ("/tmp/x_2026-13-40.log", "x_2026-13-40"),
    ] {
        assert_eq!(site_of(Path::new(path)), site, "{path}");
    }
}

#[test]
fn detection_is_strict() {
    let drop = br#"[1795489200,"104.16.8.8","example.com","\/",86400,"cc"]"#;
    let site = r#"["2026-11-23 10:00:01","104.16.1.1","GET","\/","curl","args","x"]"#.as_bytes();
    let d = Some(Format::BtwafDropIp);
    let s = Some(Format::BtwafSiteLog);
    for (path, head, want) in [
        ("/www/server/btwaf/drop_ip.log", &drop[..], d),
        ("/www/server/btwaf/drop_ip.log", b"", d),
        ("/www/server/btwaf/drop_ip.log", b"\n", d),
        ("/backup/drop_ip.log.1.gz", b"[", d),
        ("/www/server/btwaf/drop_ip.log", b"hello", None),
        ("/tmp/anything", drop, d),
        ("/tmp/anything", site, s),
        ("/www/wwwlogs/btwaf/example.com_2026-11-23.log", b"", s),
        (
            "/www/wwwlogs/free_waf_log/example.com_2026-11-23.log",
            b"[\"",
            s,
        ),
        (
            "/www/wwwlogs/btwaf/example.com_2026-11-23.log",
            b"nope",
            None,
        ),
        ("/www/wwwlogs/example.com_2026-11-23.log", b"", None),
        ("/www/server/btwaf/config.json", b"{\"open\": true}", None),
        (
            "/www/server/btwaf/rule/ip_white.json",
            b"[[2130706433, 2130706687]]",
            None,
        ),
        (
            "/www/server/btwaf/rule/url.json",
            b"[[1, \"^/admin\", \"x\", 0]]",
            None,
        ),
        ("/tmp/a.json", b"[1,2,3,4,5,6]", None),
        ("/tmp/a.json", b"[\"a\",\"b\"]", None),
        (
            "/tmp/a.json",
            br#"[{"id":1,"types":"drop","address":"104.16.0.1"}]"#,
            None,
        ),
        (
            "/tmp/a.json",
            br#"[1795489200,"104.16.8.8","example.com","/",-1,"cc"]"#,
            None,
        ),
        (
            "/tmp/a.json",
            br#"[1795489200,"nope","example.com","/",300,"cc"]"#,
            None,
        ),
        (
            "/tmp/a.json",
            br#"[[1795489200,"104.16.8.8","example.com","/",300,"cc"]]"#,
            d,
        ),
        (
            "/tmp/a.log",
            br#"["2026-11-23 10:00:01","104.16.1.1","get","/","ua","args"]"#,
            None,
        ),
        (
            "/tmp/a.log",
            br#"["2026-11-23T10:00:01","104.16.1.1","GET","/","ua","args"]"#,
            None,
        ),
    ] {
        assert_eq!(
            detect(Path::new(path), head),
            want,
            "{path} {}",
            String::from_utf8_lossy(head)
        );
    }
    // A first line cut by the end of the head still shows its leading values.
    let mut long = site.to_vec();
    long.truncate(60);
    assert_eq!(detect(Path::new("/tmp/x"), &long), s);
    let mut cut = drop.to_vec();
    cut.truncate(20);
    assert_eq!(detect(Path::new("/tmp/x"), &cut), None);
}

const SCHEMA: &str = "CREATE TABLE blocking_ip (
        id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER, time_localtime TEXT,
        server_name TEXT, ip TEXT, ip_city TEXT, ip_country TEXT, ip_subdivisions TEXT,
        ip_continent TEXT, ip_longitude TEXT, ip_latitude TEXT, type TEXT, uri TEXT,
        user_agent TEXT, filter_rule TEXT, incoming_value TEXT, value_risk TEXT, http_log TEXT,
        http_log_path INTEGER, blockade TEXT, blocking_time INTEGER, is_status INTEGER);";

fn db(dir: &tempfile::TempDir, name: &str, sql: &str) -> PathBuf {
    let path = dir.path().join(name);
    Connection::open(&path).unwrap().execute_batch(sql).unwrap();
    path
}

fn run(path: &Path) -> Result<Collect, Error> {
    let mut sink = Collect::default();
    crate::open::open_sqlite(path, &ctx(path.to_str().unwrap()), &mut sink, read_database)?;
    Ok(sink)
}

/// Whether detection, opening `path` as the scanner does, takes it for btwaf's database.
fn looks_like_db(path: &Path) -> bool {
    crate::open::with_database(path, |db| super::looks_like_db(path, db))
}

fn row(time: &str, site: &str, ip: &str, blockade: &str, secs: &str, status: &str) -> String {
    format!(
        "INSERT INTO blocking_ip(time, server_name, ip, uri, user_agent, blockade, blocking_time, is_status)
             VALUES ({time}, {site}, {ip}, '/?x=[1795489200,\"104.16.0.66\"]', '104.16.0.67', {blockade}, {secs}, {status});"
    )
}

#[test]
fn database_rows() {
    let dir = tempfile::tempdir().unwrap();
    let t = 1_795_489_200i64;
    let sql = [
        SCHEMA.to_string(),
        row(
            &t.to_string(),
            "'example.com'",
            "'104.16.5.5'",
            "'cc'",
            "86400",
            "1",
        ),
        row(
            &t.to_string(),
            "'example.com'",
            "'104.16.5.6'",
            "'cc'",
            "86400",
            "0",
        ),
        row(
            &t.to_string(),
            "NULL",
            "'104.16.5.7'",
            "NULL",
            "'600'",
            "NULL",
        ),
        row("NULL", "'example.com'", "'104.16.5.8'", "'inc'", "60", "1"),
        row(
            &t.to_string(),
            "'example.com'",
            "'unknown'",
            "'cc'",
            "60",
            "1",
        ),
        row(
            &t.to_string(),
            "'example.com'",
            "'104.16.5.9'",
            "'cc'",
            "NULL",
            "1",
        ),
        "UPDATE blocking_ip SET time_localtime = '2026-11-24 11:00:00' WHERE ip = '104.16.5.8';"
            .into(),
    ]
    .join("\n");
    let path = db(&dir, "totla_db.db", &sql);
    assert!(looks_like_db(&path));
    let got = run(&path).unwrap();
    assert_eq!(
        addrs(&got),
        ["104.16.5.5", "104.16.5.6", "104.16.5.7", "104.16.5.8"]
    );
    assert_eq!(got.malformed.len(), 2, "{:?}", got.malformed);
    assert!(got.malformed[0].1.contains("row 5: not an address"));
    assert!(got.malformed[1].1.contains("row 6: blocking_time"));
    let e = &got.events;
    assert_eq!(
        (e[0].scope.as_str(), e[0].action),
        ("example.com/cc", Action::Ban)
    );
    assert_eq!(e[0].expires, local(t + 86400));
    // Lifted: over at the latest now.
    assert_eq!(e[1].expires, Some(local(t + 86400).unwrap().min(now())));
    assert_eq!(e[2].scope, "-");
    assert_eq!(e[2].expires, local(t + 600));
    // No Unix time: the local time as written.
    assert_eq!(e[3].time.unwrap().to_string(), "2026-11-24 11:00:00");
    assert_eq!(e[3].expires.unwrap().to_string(), "2026-11-24 11:01:00");
}

#[test]
fn database_errors_name_what_failed() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![0x5a; 8192]).unwrap();
    assert!(!looks_like_db(&junk));
    let message = run(&junk).err().unwrap().to_string();
    assert!(message.contains("not an SQLite database"), "{message}");

    let other = db(&dir, "other.db", "CREATE TABLE totla_log(x);");
    assert!(!looks_like_db(&other));
    let message = run(&other).err().unwrap().to_string();
    assert!(message.contains("no table blocking_ip"), "{message}");

    let odd = db(
        &dir,
        "odd.db",
        "CREATE TABLE blocking_ip(ip TEXT, time INTEGER);",
    );
    assert!(looks_like_db(&odd));
    let message = run(&odd).err().unwrap().to_string();
    assert!(message.contains("no column blocking_time"), "{message}");

    let missing = dir.path().join("missing.db");
    assert!(matches!(run(&missing), Err(Error::Io { .. })));
}

#[test]
fn a_wal_database_is_read_without_writing_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(
        &dir,
        "totla_db.db",
        &format!(
            "PRAGMA journal_mode = wal; {SCHEMA} {}",
            row(
                "1795489200",
                "'example.com'",
                "'104.16.5.5'",
                "'cc'",
                "60",
                "1"
            )
        ),
    );
    let before = std::fs::read(&path).unwrap();
    assert!(looks_like_db(&path));
    assert_eq!(run(&path).unwrap().events.len(), 1);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    // With btwaf holding it open and a write still in its WAL.
    let writer = Connection::open(&path).unwrap();
    writer
        .execute_batch(&format!(
            "PRAGMA wal_autocheckpoint = 0; {}",
            row(
                "1795489200",
                "'example.com'",
                "'104.16.5.6'",
                "'cc'",
                "60",
                "1"
            )
        ))
        .unwrap();
    assert!(looks_like_db(&path));
    assert_eq!(run(&path).unwrap().events.len(), 2);
}

#[test]
fn the_parser_of_each_format() {
    let c = ctx("x");
    let read = |f: Format| f.descriptor().unwrap().reader();
    assert!(matches!(read(Format::BtwafDb), Reader::Sqlite(_)));
    assert!(matches!(read(Format::BtwafDropIp), Reader::Lines(_)));
    assert!(matches!(read(Format::BtwafSiteLog), Reader::Lines(_)));
    assert!(Format::BtwafDropIp
        .descriptor()
        .unwrap()
        .line_parser(&c)
        .is_some());
}
