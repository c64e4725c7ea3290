//! Unit tests of the fail2ban database reader, on literal inputs.

use super::rows::local;
use super::*;
use crate::error::Error;
use crate::event::{Action, Tool};
use crate::formats::test_support::Collect;
use crate::formats::Format;
use chrono::NaiveDateTime;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Reads the database at `path` as the scanner does: opened read-only, then handed over.
fn parse(path: &Path, ctx: &ParseCtx, sink: &mut dyn Sink) -> Result<(), Error> {
    crate::open::open_sqlite(path, ctx, sink, read_database)
}

/// Whether detection, opening `path` as the scanner does, takes it for fail2ban's database.
fn looks_like(path: &Path) -> bool {
    crate::open::with_database(path, |db| super::looks_like(path, db))
}

fn at(secs: i64) -> NaiveDateTime {
    local((secs, 0)).unwrap()
}

fn db(dir: &tempfile::TempDir, name: &str, sql: &str) -> PathBuf {
    let path = dir.path().join(name);
    Connection::open(&path).unwrap().execute_batch(sql).unwrap();
    path
}

fn run(path: &Path, now: NaiveDateTime) -> Result<Collect, Error> {
    let mut sink = Collect::default();
    let ctx = ParseCtx {
        path: Arc::from(path),
        reference: now,
        now,
    };
    parse(path, &ctx, &mut sink)?;
    Ok(sink)
}

/// (scope, address, action, time, expires), sorted.
#[allow(clippy::type_complexity)]
fn rows(
    c: &Collect,
) -> Vec<(
    String,
    String,
    Action,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
)> {
    let mut v: Vec<_> = c
        .events
        .iter()
        .map(|e| {
            (
                e.scope.clone(),
                crate::addr::display_net(&e.net),
                e.action,
                e.time,
                e.expires,
            )
        })
        .collect();
    v.sort_by(|a, b| (&a.0, &a.1, a.3).cmp(&(&b.0, &b.1, b.3)));
    v
}

const V2_SCHEMA: &str = "CREATE TABLE fail2banDb(version INTEGER);
        CREATE TABLE jails(name TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1);
        CREATE TABLE bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL, data JSON);";

const V4_SCHEMA: &str =
    "CREATE TABLE fail2banDb(version INTEGER); INSERT INTO fail2banDb VALUES(4);
        CREATE TABLE jails(name TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1);
        CREATE TABLE bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL,
            bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON);
        CREATE TABLE bips(ip TEXT NOT NULL, jail TEXT NOT NULL, timeofban INTEGER NOT NULL,
            bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON,
            PRIMARY KEY(ip, jail));";

#[test]
fn v1_real_timeofban_is_history_with_default_bantime() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(
        &dir,
        "v1.db",
        &format!(
            "{V2_SCHEMA} INSERT INTO fail2banDb VALUES(1);
                 INSERT INTO bans VALUES('DummyJail #1 with 0 tickets', '104.16.0.1', 1388009242.25932, '{{}}');"
        ),
    );
    let got = run(&path, at(1_800_000_000)).unwrap();
    assert!(got.malformed.is_empty(), "{:?}", got.malformed);
    let time = local((1388009242, 259_320_000)).unwrap();
    assert_eq!(
        rows(&got),
        vec![(
            "DummyJail #1 with 0 tickets".to_string(),
            "104.16.0.1".to_string(),
            Action::Ban,
            Some(time),
            Some(local((1388009242 + DEFAULT_BANTIME, 259_320_000)).unwrap()),
        )]
    );
    let e = &got.events[0];
    assert_eq!(
        (e.tool, e.format, e.location.line),
        (Tool::Fail2ban, Format::Fail2banDb, 0)
    );
    assert_eq!(&*e.location.path, path.as_path());
}

#[test]
fn v2_rows_any_number_type_and_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(
        &dir,
        "v2.db",
        &format!(
            "{V2_SCHEMA} INSERT INTO fail2banDb VALUES(2);
                 INSERT INTO bans VALUES('pam-generic', '104.16.0.7', 1417595494, NULL);
                 INSERT INTO bans VALUES('pam-generic', '2606:4700::1', '1417595495', NULL);
                 INSERT INTO bans VALUES('pam-generic', ' 172.64.0.0/13 ', '1417595496.5', NULL);
                 INSERT INTO bans VALUES('pam-generic', 'not-an-ip', 1417595497, NULL);
                 INSERT INTO bans VALUES('pam-generic', NULL, 1417595497, NULL);
                 INSERT INTO bans VALUES('pam-generic', '104.16.0.8', 'yesterday', NULL);
                 INSERT INTO bans VALUES('pam-generic', X'3130342E31362E302E39', 1417595498, NULL);"
        ),
    );
    let got = run(&path, at(1_800_000_000)).unwrap();
    let addrs: Vec<_> = rows(&got).into_iter().map(|r| r.1).collect();
    assert_eq!(
        addrs,
        ["104.16.0.7", "104.16.0.9", "172.64.0.0/13", "2606:4700::1"]
    );
    assert_eq!(got.malformed.len(), 3, "{:?}", got.malformed);
    assert!(got.malformed.iter().any(|m| m.1.contains("not-an-ip")));
    assert!(got.malformed.iter().any(|m| m.1.contains("yesterday")));
    for e in &got.events {
        assert_eq!(e.action, Action::Ban);
        let t = e.time.unwrap();
        assert_eq!(
            e.expires.unwrap() - t,
            chrono::Duration::seconds(DEFAULT_BANTIME)
        );
    }
}

#[test]
fn v4_bips_are_current_and_history_is_not_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = 1_795_000_000;
    let path = db(
        &dir,
        "v4.db",
        &format!(
            "{V4_SCHEMA}
                 -- permanent, repeated in bans
                 INSERT INTO bans VALUES('sshd', '104.16.9.9', {t0}, -1, 1, '{{}}');
                 INSERT INTO bips VALUES('104.16.9.9', 'sshd', {t0}, -1, 1, '{{}}');
                 -- an older, ended ban of the same address in another jail, then a newer one
                 INSERT INTO bans VALUES('nginx', '104.16.9.9', {t0} - 1000, 60, 1, '{{}}');
                 INSERT INTO bans VALUES('nginx', '104.16.9.9', {t0}, 600, 2, '{{}}');
                 INSERT INTO bips VALUES('104.16.9.9', 'nginx', {t0}, 600, 2, '{{}}');
                 -- IPv6, v4-mapped, unknown bantime after an upgrade
                 INSERT INTO bips VALUES('2606:4700::abcd', 'sshd', {t0}, -1, 1, NULL);
                 INSERT INTO bips VALUES('::ffff:172.64.1.1', 'sshd', {t0}, -2, 1, NULL);
                 INSERT INTO bans VALUES('old', '172.64.1.2', {t0}, -2, 1, NULL);
                 -- a permanent history row whose address is no longer listed
                 INSERT INTO bans VALUES('sshd', '162.158.1.1', {t0}, -1, 1, NULL);
                 -- garbage
                 INSERT INTO bips VALUES('<script>', 'sshd', {t0}, -1, 1, NULL);"
        ),
    );
    let now = at(t0 + 3600);
    let got = run(&path, now).unwrap();
    assert_eq!(got.malformed.len(), 1, "{:?}", got.malformed);
    let t = at(t0);
    let s = |x: &str| x.to_string();
    assert_eq!(
        rows(&got),
        vec![
            (
                s("nginx"),
                s("104.16.9.9"),
                Action::Ban,
                Some(at(t0 - 1000)),
                Some(at(t0 - 940))
            ),
            (
                s("nginx"),
                s("104.16.9.9"),
                Action::Listed,
                Some(t),
                Some(at(t0 + 600))
            ),
            (
                s("old"),
                s("172.64.1.2"),
                Action::Ban,
                Some(t),
                Some(at(t0 + DEFAULT_BANTIME))
            ),
            (s("sshd"), s("104.16.9.9"), Action::Listed, Some(t), None),
            (s("sshd"), s("162.158.1.1"), Action::Ban, Some(t), Some(now)),
            (s("sshd"), s("172.64.1.1"), Action::Listed, Some(t), None),
            (
                s("sshd"),
                s("2606:4700::abcd"),
                Action::Listed,
                Some(t),
                None
            ),
        ]
    );
}

#[test]
fn decides_from_columns_not_version() {
    // Says version 2, but has the v4 tables (and the other way round).
    let dir = tempfile::tempdir().unwrap();
    let v4 = V4_SCHEMA.replace("VALUES(4)", "VALUES(2)");
    let path = db(
        &dir,
        "a.db",
        &format!("{v4} INSERT INTO bips VALUES('104.16.0.1', 'sshd', 1795000000, 60, 1, NULL);"),
    );
    let got = run(&path, at(1_800_000_000)).unwrap();
    assert_eq!(got.events.len(), 1);
    assert_eq!(got.events[0].expires, Some(at(1_795_000_060)));
    let path = db(
        &dir,
        "b.db",
        &format!(
            "{V2_SCHEMA} INSERT INTO fail2banDb VALUES(4);
                 INSERT INTO bans VALUES('sshd', '104.16.0.1', 1795000000, NULL);"
        ),
    );
    assert_eq!(run(&path, at(1_800_000_000)).unwrap().events.len(), 1);
}

#[test]
fn errors_name_what_failed() {
    let dir = tempfile::tempdir().unwrap();
    let now = at(1_800_000_000);
    let junk = dir.path().join("junk.sqlite3");
    std::fs::write(&junk, vec![0x5a; 8192]).unwrap();
    assert!(!looks_like(&junk));
    let message = run(&junk, now).err().unwrap().to_string();
    assert!(message.contains("not an SQLite database"), "{message}");

    let other = db(&dir, "other.db", "CREATE TABLE t(x);");
    assert!(!looks_like(&other));
    let message = run(&other, now).err().unwrap().to_string();
    assert!(message.contains("no table fail2banDb"), "{message}");

    let no_bans = db(
        &dir,
        "nobans.db",
        "CREATE TABLE fail2banDb(version INTEGER);",
    );
    assert!(looks_like(&no_bans));
    let message = run(&no_bans, now).err().unwrap().to_string();
    assert!(
        message.contains("without a bans or bips table"),
        "{message}"
    );

    let odd = db(
        &dir,
        "odd.db",
        "CREATE TABLE fail2banDb(version INTEGER); CREATE TABLE bans(jail TEXT, address TEXT);",
    );
    let message = run(&odd, now).err().unwrap().to_string();
    assert!(message.contains("has no column ip"), "{message}");

    let missing = dir.path().join("missing.sqlite3");
    assert!(!looks_like(&missing));
    assert!(matches!(run(&missing, now), Err(Error::Io { .. })));

    // A header and nothing else: truncated.
    let cut = dir.path().join("cut.sqlite3");
    let mut bytes = std::fs::read(&no_bans).unwrap();
    bytes.truncate(100);
    std::fs::write(&cut, bytes).unwrap();
    assert!(run(&cut, now).is_err());
}

#[test]
fn a_locked_database_is_an_error_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(
        &dir,
        "fail2ban.sqlite3",
        &format!("{V4_SCHEMA} PRAGMA journal_mode = DELETE;"),
    );
    let writer = Connection::open(&path).unwrap();
    writer.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let started = std::time::Instant::now();
    let message = run(&path, at(1_800_000_000)).err().unwrap().to_string();
    assert!(message.contains("locked"), "{message}");
    assert!(started.elapsed() >= Duration::from_millis(1500));
    // Detection does not skip a locked fail2ban database: the error is reported instead.
    assert!(looks_like(&path));
    writer.execute_batch("ROLLBACK").unwrap();
    assert!(run(&path, at(1_800_000_000)).is_ok());
}

#[test]
fn reading_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(
        &dir,
        "fail2ban.sqlite3",
        &format!(
            "{V4_SCHEMA} INSERT INTO bips VALUES('104.16.0.1', 'sshd', 1795000000, -1, 1, NULL);"
        ),
    );
    let before = std::fs::read(&path).unwrap();
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    assert!(looks_like(&path));
    run(&path, at(1_800_000_000)).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn wal_databases_are_read_with_and_without_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(
        &dir,
        "fail2ban.sqlite3",
        &format!(
            "PRAGMA journal_mode = WAL; {V4_SCHEMA}
                 INSERT INTO bips VALUES('104.16.0.1', 'sshd', 1795000000, -1, 1, NULL);"
        ),
    );
    // A writer holds the database open, with a write in its WAL not yet checkpointed.
    let writer = Connection::open(&path).unwrap();
    writer.execute_batch("PRAGMA wal_autocheckpoint = 0; INSERT INTO bips VALUES('104.16.0.2', 'sshd', 1795000000, -1, 1, NULL);").unwrap();
    assert!(looks_like(&path));
    assert_eq!(run(&path, at(1_800_000_000)).unwrap().events.len(), 2);
    drop(writer);
    // No writer, no -wal or -shm files: read all the same.
    assert!(looks_like(&path));
    assert_eq!(run(&path, at(1_800_000_000)).unwrap().events.len(), 2);
}

/// fail2ban's own test databases, when the shared corpus is there.
#[test]
fn fail2ban_test_databases() {
    let corpus = Path::new("/work/shared/corpus/fail2ban");
    let v1 = corpus.join("f2b-tests-files-database_v1.db");
    let v2 = corpus.join("f2b-tests-files-database_v2.db");
    if !v1.exists() || !v2.exists() {
        eprintln!(
            "skipped: fail2ban test databases not found under {}",
            corpus.display()
        );
        return;
    }
    let now = at(1_800_000_000);
    assert!(looks_like(&v1) && looks_like(&v2));
    let got = run(&v1, now).unwrap();
    assert_eq!(
        rows(&got)
            .into_iter()
            .map(|r| (r.0, r.1, r.3))
            .collect::<Vec<_>>(),
        vec![(
            "DummyJail #29162448 with 0 tickets".to_string(),
            "127.0.0.1".to_string(),
            // 1388009242.2593228817 to the microsecond (the shell of sqlite3 prints 1388009242.25932)
            local((1388009242, 259_323_000)),
        )]
    );
    let got = run(&v2, now).unwrap();
    assert_eq!(
        rows(&got)
            .into_iter()
            .map(|r| (r.0, r.1, r.3))
            .collect::<Vec<_>>(),
        vec![
            (
                "pam-generic".to_string(),
                "1.2.3.7".to_string(),
                Some(at(1417595494))
            ),
            (
                "pam-generic".to_string(),
                "1.2.3.8".to_string(),
                Some(at(1417596235))
            ),
        ]
    );
}

#[test]
fn the_fixture_made_by_fail2ban() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/fail2ban/db/fail2ban.sqlite3");
    assert!(looks_like(&path));
    let got = run(&path, at(1_795_500_000)).unwrap();
    assert!(got.malformed.is_empty());
    // 9 current bans, plus the older, ended ban of 104.16.9.9 in nginx-botsearch.
    assert_eq!(
        got.events
            .iter()
            .filter(|e| e.action == Action::Listed)
            .count(),
        9
    );
    let history: Vec<_> = got
        .events
        .iter()
        .filter(|e| e.action == Action::Ban)
        .collect();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].scope, "nginx-botsearch");
    assert_eq!(
        history[0].expires.unwrap() - history[0].time.unwrap(),
        chrono::Duration::seconds(60)
    );
}

#[test]
fn a_path_that_needs_escaping_in_a_uri_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(
        &dir,
        "odd name?#%.sqlite3",
        &format!(
            "{V4_SCHEMA} INSERT INTO bips VALUES('104.16.0.1', 'sshd', 1795000000, -1, 1, NULL);"
        ),
    );
    assert!(looks_like(&path));
    assert_eq!(run(&path, at(1_800_000_000)).unwrap().events.len(), 1);
}
