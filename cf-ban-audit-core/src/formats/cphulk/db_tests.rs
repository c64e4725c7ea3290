use super::*;
use crate::formats::test_support::{ctx, Collect};

/// The tables as `Cpanel::Hulk::Admin::DB` creates them.
const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS `ip_lists` (
      `STARTADDRESS` VARBINARY(16) NOT NULL DEFAULT '',
      `ENDADDRESS` VARBINARY(16) NOT NULL DEFAULT '',
      `TYPE` INT(1) NOT NULL DEFAULT '0',
      `COMMENT` CHAR(255) DEFAULT NULL,
      UNIQUE (`STARTADDRESS`,`ENDADDRESS`) ON CONFLICT REPLACE
    );
    CREATE TABLE IF NOT EXISTS `login_track` (
      `USER` CHAR(128) NOT NULL,
      `ADDRESS` VARBINARY(16) DEFAULT NULL,
      `SERVICE` CHAR(64) DEFAULT NULL,
      `TYPE` INT(1) DEFAULT NULL,
      `LOGINTIME` DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00',
      `EXPTIME` DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00',
      `NOTES` TEXT,
      `AUTHSERVICE` CHAR(64) DEFAULT NULL,
      `AUTHTOKEN_HASH` CHAR(86) DEFAULT ''
    );";

/// `ip2bin16`: the 16 bytes of the address, an IPv4 address as IPv4-mapped.
fn bin(ip: &str) -> Vec<u8> {
    let ip: IpAddr = ip.parse().unwrap();
    let v6 = match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    v6.octets().to_vec()
}

fn db() -> Connection {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch(SCHEMA).unwrap();
    db
}

/// A list record, its addresses bound as TEXT as DBI binds a Perl string.
fn list(db: &Connection, start: &str, end: &str, kind: i64, comment: &str) {
    db.execute(
        "INSERT INTO ip_lists VALUES (CAST(?1 AS TEXT), CAST(?2 AS TEXT), ?3, ?4)",
        rusqlite::params![bin(start), bin(end), kind, comment],
    )
    .unwrap();
}

fn login(db: &Connection, ip: &str, kind: i64, since: &str, until: &str, notes: &str) {
    db.execute(
        "INSERT INTO login_track (USER, ADDRESS, TYPE, LOGINTIME, EXPTIME, NOTES)
         VALUES ('bob', CAST(?1 AS TEXT), ?2, ?3, ?4, ?5)",
        rusqlite::params![bin(ip), kind, since, until, notes],
    )
    .unwrap();
}

fn read(db: &Connection) -> Collect {
    let mut sink = Collect::default();
    read_database(Ok(db), &ctx("cphulk.sqlite"), &mut sink).unwrap();
    sink
}

#[test]
fn black_records_are_bans_named_as_whmapi1_names_them() {
    let db = db();
    list(&db, "104.16.0.1", "104.16.0.1", 2, "172.64.0.1");
    list(&db, "172.68.10.0", "172.68.10.255", 2, "");
    list(&db, "162.158.0.1", "162.158.0.6", 2, "range");
    list(&db, "2606:4700::", "2606:4700::ffff", 2, "");
    list(&db, "173.245.48.0", "173.245.63.255", 1, "cloudflare");
    list(&db, "104.16.0.0", "104.23.255.255", 4, "US");
    list(&db, "104.24.0.0", "104.24.0.1", 3, "US");
    let c = read(&db);
    let got: Vec<(String, &str, Action, Option<&str>)> = c
        .events
        .iter()
        .map(|e| {
            (
                e.net.to_string(),
                e.scope.as_str(),
                e.action,
                e.spec.as_deref(),
            )
        })
        .collect();
    let black =
        |net: &str, spec: &'static str| (net.to_string(), "black", Action::Listed, Some(spec));
    assert_eq!(
        got,
        [
            black("104.16.0.1/32", "104.16.0.1"),
            black("172.68.10.0/24", "172.68.10.0/24"),
            black("162.158.0.1/32", "162.158.0.1-162.158.0.6"),
            black("162.158.0.2/31", "162.158.0.1-162.158.0.6"),
            black("162.158.0.4/31", "162.158.0.1-162.158.0.6"),
            black("162.158.0.6/32", "162.158.0.1-162.158.0.6"),
            black("2606:4700::/112", "2606:4700::/112"),
        ]
    );
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(c.notes.len(), 1);
    assert!(c.notes[0].starts_with("1 range(s) of cPHulk's country black list"));
}

#[test]
fn address_blocks_of_the_login_history_are_timed_bans() {
    let db = db();
    login(
        &db,
        "104.16.0.9",
        -3,
        "2026-11-24 09:00:00",
        "2026-11-25 09:00:00",
        "IP reached maximum auth failures for a one day block",
    );
    login(
        &db,
        "2606:4700::9",
        -2,
        "2026-11-24 09:00:00",
        "2026-11-24 09:05:00",
        "IP reached maximum auth failures",
    );
    login(
        &db,
        "104.16.0.10",
        -4,
        "2026-11-24 09:00:00",
        "2026-11-24 09:05:00",
        "",
    );
    login(
        &db,
        "104.16.0.11",
        -1,
        "2026-11-24 09:00:00",
        "2026-11-24 09:05:00",
        "",
    );
    login(
        &db,
        "104.16.0.12",
        1,
        "2026-11-24 09:00:00",
        "2026-11-25 09:00:00",
        "",
    );
    login(
        &db,
        "104.16.0.13",
        -3,
        "0000-00-00 00:00:00",
        "0000-00-00 00:00:00",
        "",
    );
    let c = read(&db);
    let got: Vec<(String, &str, String, String)> = c
        .events
        .iter()
        .map(|e| {
            assert_eq!(
                (e.tool, e.action, e.format),
                (Tool::Cphulk, Action::Ban, Format::CphulkDb)
            );
            (
                e.net.to_string(),
                e.scope.as_str(),
                e.time.unwrap().to_string(),
                e.expires.unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "104.16.0.9/32".to_string(),
                EXCESSIVE_BRUTE_SCOPE,
                "2026-11-24 09:00:00".to_string(),
                "2026-11-25 09:00:00".to_string()
            ),
            (
                "2606:4700::9/128".to_string(),
                BRUTE_SCOPE,
                "2026-11-24 09:00:00".to_string(),
                "2026-11-24 09:05:00".to_string()
            ),
        ]
    );
    assert_eq!(c.malformed.len(), 1);
    assert!(c.malformed[0]
        .1
        .starts_with("login_track row 6: LOGINTIME or EXPTIME"));
}

#[test]
fn other_encodings_are_malformed_never_guessed() {
    let db = db();
    db.execute_batch(
        "INSERT INTO ip_lists VALUES ('104.16.0.1', '104.16.0.1', 2, '');
         INSERT INTO ip_lists VALUES (x'68100001', x'68100001', 2, '');
         INSERT INTO login_track (USER, ADDRESS, TYPE, LOGINTIME, EXPTIME)
           VALUES ('bob', '00000000000000000000000000000000000000000000000000000000000000000000000000000000111111111111111101101000000100000000000000000001', -3, '2026-11-24 09:00:00', '2026-11-25 09:00:00');",
    )
    .unwrap();
    // A record whose ends are of two families.
    db.execute(
        "INSERT INTO ip_lists VALUES (?1, ?2, 2, '')",
        rusqlite::params![bin("104.16.0.1"), bin("2606:4700::1")],
    )
    .unwrap();
    let c = read(&db);
    assert!(c.events.is_empty(), "{:?}", c.events);
    let messages: Vec<&str> = c.malformed.iter().map(|m| m.1.as_str()).collect();
    assert_eq!(messages.len(), 4, "{messages:?}");
    assert!(messages[0].contains("\"104.16.0.1\""), "{}", messages[0]);
    assert!(
        messages[1].contains("x'68100001' (4 bytes)"),
        "{}",
        messages[1]
    );
    assert!(messages[3].starts_with("login_track row 1: not a 16-byte address"));
}

#[test]
fn detection_asks_for_the_tables_and_their_columns() {
    let p = Path::new("/tmp/x.sqlite");
    let empty = Connection::open_in_memory().unwrap();
    assert!(!looks_like_db(p, Database::Open(&empty)));
    empty
        .execute_batch("CREATE TABLE ip_lists (STARTADDRESS, ENDADDRESS);")
        .unwrap();
    assert!(!looks_like_db(p, Database::Open(&empty)));
    assert!(looks_like_db(p, Database::Open(&db())));
    let logins = Connection::open_in_memory().unwrap();
    logins
        .execute_batch("CREATE TABLE login_track (USER, ADDRESS, TYPE, LOGINTIME, EXPTIME);")
        .unwrap();
    assert!(looks_like_db(p, Database::Open(&logins)));
    assert!(looks_like_db(
        Path::new("/var/cpanel/hulkd/cphulk.sqlite"),
        Database::Busy
    ));
    assert!(!looks_like_db(p, Database::Busy));
    let mut sink = Collect::default();
    let none = Connection::open_in_memory().unwrap();
    let err = read_database(Ok(&none), &ctx("x"), &mut sink).unwrap_err();
    assert!(err.contains("not cPHulk's database"), "{err}");
}
