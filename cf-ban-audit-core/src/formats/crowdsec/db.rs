//! CrowdSec's own SQLite database (`/var/lib/crowdsec/data/crowdsec.db`, `db_config.db_path`
//! with `type: sqlite`, the default), [`Format::CrowdsecDb`]: the decisions the Local API
//! holds, read straight from the `decisions` table.
//!
//! # The table
//!
//! The Local API keeps its state with ent (`pkg/database/ent/schema/decision.go`, 1.4):
//! `decisions(id, created_at, updated_at, until, scenario, type, start_ip, end_ip,
//! start_suffix, end_suffix, ip_size, scope, value, origin, simulated, alert_decisions)`.
//! `value` is the address or network as given (`104.16.1.10`, `162.158.0.0/15`), `scope` its
//! kind (`Ip`, `Range`, or another such as `Country`), `type` the remedy (`ban`, `captcha`,
//! ...), `until` the end, `scenario` the scenario or the reason of a manual decision,
//! `origin` who made it (`crowdsec`, `cscli`, `CAPI`, `lists`, `console`) and `simulated`
//! whether it is in simulation (the scenario is listed in `simulation.yaml`). `start_ip` and
//! `end_ip` are the same range as integers, biased by 2^63 for IPv4 (and split with the
//! `_suffix` columns for IPv6); `value` says it in words and is what is read here.
//!
//! Times are what Go's SQLite driver writes for a `time.Time` (`2026-12-03
//! 17:37:49+00:00`, fractions of a second optional, CrowdSec stores UTC), read into the
//! host's local time; a Unix time (an INTEGER) is read too.
//!
//! # What a row is
//!
//! Every row is a decision the database holds, as of the moment it is read: an
//! [`Action::Listed`] event at its `created_at`, ending at its `until`. So a decision whose
//! `until` is after now is in force, and one whose `until` has passed is expired: CrowdSec
//! keeps rows past their end until its flush (`db_config.flush.max_age`, 7 days by default)
//! and `cscli decisions delete` does not remove a row but sets its `until` to the time of the
//! deletion (`SoftDeleteDecisionsWithFilter` in `pkg/database/decisions.go`). A row whose
//! `until` is not after its `created_at` (CrowdSec 1.4.6 writes the deleted row again, its
//! `until` a few microseconds before its `created_at`) is therefore read as an
//! [`Action::Unban`] at its `until`: the decision was deleted, not run out; a decision made
//! to run out always ends after it was created. Scopes, types, captchas and simulated decisions
//! are read by the rules every CrowdSec reader shares (see [the module](super)): only scopes
//! `Ip` and `Range` are address bans; what the shared rules say of captchas and simulated
//! decisions holds here too. The event's scope is the scenario (the origin when it is empty).
//! Rows have no line: their location line is 0.
//!
//! # Reading
//!
//! The scanner opens the database strictly read-only (as fail2ban's, see
//! [`super::super::fail2ban_db`]), with a 2 s wait for the lock the Local API holds while it
//! writes, and the reader reads the table in one read transaction. A row whose value is not an
//! address is reported as malformed and skipped; a database without a readable `decisions`
//! table is an error naming what failed. A MySQL or PostgreSQL back end (`db_config.type`) is
//! not read: ask `cscli decisions list` instead.

use std::path::Path;

use chrono::{DateTime, Local, NaiveDateTime};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::decision::{Decision, Emitter};
use crate::event::Action;
use crate::formats::sqlite::{
    column, column_names, in_read_transaction, is_busy, table_exists, Database,
};
use crate::formats::{quote, Format, ParseCtx, Sink};

/// The columns of `decisions` a row cannot be read without.
const NEEDED: [&str; 4] = ["value", "scope", "type", "until"];

/// Whether the file name is CrowdSec's (`crowdsec.db`, or a copy of it).
fn named_crowdsec(path: &Path) -> bool {
    crate::formats::lower_file_name(path).starts_with("crowdsec")
}

/// Whether a SQLite file is CrowdSec's database: it opened read-only and has a `decisions`
/// table with CrowdSec's columns (`value`, `scope`, `type`, `until`) beside its `machines` or
/// `bouncers` table. A file that could not be read is not one, except a locked file named
/// `crowdsec...`, which is taken as one so that its reader reports the lock.
pub fn looks_like_db(path: &Path, db: Database<'_>) -> bool {
    match db {
        Database::Open(conn) => {
            let found = (|| -> rusqlite::Result<bool> {
                if !table_exists(conn, "decisions")? {
                    return Ok(false);
                }
                if !(table_exists(conn, "machines")? || table_exists(conn, "bouncers")?) {
                    return Ok(false);
                }
                let names = column_names(conn, "decisions")?;
                Ok(NEEDED
                    .iter()
                    .all(|c| names.iter().any(|n| n.eq_ignore_ascii_case(c))))
            })();
            match found {
                Ok(found) => found,
                Err(e) => is_busy(&e) && named_crowdsec(path),
            }
        }
        Database::Busy => named_crowdsec(path),
        Database::Closed => false,
    }
}

/// Reads the `decisions` table of a CrowdSec database the scanner opened (see the [module
/// documentation](self) for what each row becomes). A database that could not be opened or
/// has no readable `decisions` table is an error naming what failed.
pub fn read_database(
    conn: Result<&Connection, rusqlite::Error>,
    ctx: &ParseCtx,
    sink: &mut dyn Sink,
) -> Result<(), String> {
    let fail = |message: String| format!("CrowdSec database: {message}");
    let conn = conn.map_err(|e| fail(describe("cannot open the database", &e)))?;
    let mut emit = Emitter::new(ctx, Format::CrowdsecDb);
    let result = in_read_transaction(
        conn,
        |what, e| fail(describe(what, e)),
        |conn| read(conn, &mut emit, sink).map_err(fail),
    );
    emit.notes(sink);
    result
}

fn read(conn: &Connection, emit: &mut Emitter, sink: &mut dyn Sink) -> Result<(), String> {
    let schema = |e: rusqlite::Error| describe("cannot read the schema", &e);
    if !table_exists(conn, "decisions").map_err(schema)? {
        return Err("no table decisions: not a CrowdSec database".into());
    }
    let names = column_names(conn, "decisions").map_err(schema)?;
    for needed in NEEDED {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(needed)) {
            return Err(format!("table decisions has no column {needed}"));
        }
    }
    let query = format!(
        "SELECT {}, {}, until, {}, type, scope, value, {}, {} FROM decisions ORDER BY {}",
        column(&names, "id"),
        column(&names, "created_at"),
        column(&names, "scenario"),
        column(&names, "origin"),
        column(&names, "simulated"),
        if column(&names, "id") == "id" {
            "id"
        } else {
            "rowid"
        },
    );
    let what = |e: rusqlite::Error| describe("cannot read table decisions", &e);
    let mut stmt = conn.prepare(&query).map_err(what)?;
    let mut rows = stmt.query([]).map_err(what)?;
    while let Some(row) = rows.next().map_err(what)? {
        let get = |i| row.get_ref(i).map_err(what);
        let id = get(0)?;
        let name = match id {
            ValueRef::Integer(n) => format!("decision {n}"),
            _ => "a decision".to_string(),
        };
        let until = get(2)?;
        let expires = match until {
            ValueRef::Null => None,
            v => match time(v) {
                Some(t) => Some(t),
                None => {
                    sink.malformed(0, format!("{name}: until is not a time: {}", value_text(v)));
                    continue;
                }
            },
        };
        let scenario = text(get(3)?);
        let kind = text(get(4)?);
        let scope = text(get(5)?);
        let value = text(get(6)?);
        let origin = text(get(7)?);
        let simulated = match get(8)? {
            ValueRef::Integer(n) => n != 0,
            ValueRef::Text(t) => matches!(t, b"1" | b"true" | b"TRUE" | b"t"),
            _ => false,
        };
        let created = time(get(1)?);
        // A row that ends no later than it was written is a deletion: `cscli decisions
        // delete` writes the decision again with `until` set to the moment of the deletion,
        // just before its `created_at`, where a decision made to run out ends after it.
        let deleted = matches!((created, expires), (Some(c), Some(e)) if e <= c);
        let d = Decision {
            scope: &scope,
            value: &value,
            kind: &kind,
            scenario: if scenario.trim().is_empty() {
                &origin
            } else {
                &scenario
            },
            simulated,
            time: if deleted { expires } else { created },
            expires: if deleted { None } else { expires },
            action: deleted.then_some(Action::Unban),
            ..Decision::default()
        };
        emit.emit(&d, 0, sink);
    }
    Ok(())
}

/// A text column as a string (a blob or a number as its text; NULL as empty).
fn text(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Text(b) | ValueRef::Blob(b) => String::from_utf8_lossy(b).into_owned(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Null => String::new(),
    }
}

/// Text for a message, cut short.
fn value_text(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => "NULL".to_string(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(b) | ValueRef::Blob(b) => quote(b),
    }
}

/// A time as Go's SQLite driver stores it (`2026-12-03 17:37:49.5+00:00`, also with a `T`
/// or a `Z`), or a Unix time, in the host's local time. Go's zero time is no time.
pub(super) fn time(v: ValueRef<'_>) -> Option<NaiveDateTime> {
    let utc = match v {
        ValueRef::Integer(n) => DateTime::from_timestamp(n, 0)?,
        ValueRef::Text(b) => {
            let s = std::str::from_utf8(b).ok()?.trim();
            let s = s.replacen('T', " ", 1);
            let parsed = DateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.f%:z")
                .or_else(|_| DateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.f%z"))
                .ok()
                .map(|t| t.to_utc())
                .or_else(|| {
                    // `Z`, or no zone at all: UTC, as CrowdSec writes.
                    let bare = s.strip_suffix('Z').unwrap_or(&s);
                    NaiveDateTime::parse_from_str(bare, "%Y-%m-%d %H:%M:%S%.f")
                        .ok()
                        .map(|n| n.and_utc())
                })?;
            parsed
        }
        _ => return None,
    };
    use chrono::Datelike;
    (utc.year() > 1970).then(|| utc.with_timezone(&Local).naive_local())
}

/// A message naming what failed and why, in words.
fn describe(what: &str, e: &rusqlite::Error) -> String {
    crate::formats::sqlite::describe(what, "the Local API", e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Action;
    use crate::formats::test_support::{ctx, Collect};

    /// A database with CrowdSec 1.4's `decisions` table (and a `machines` table).
    fn db(rows: &str) -> Connection {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch(&format!(
            "CREATE TABLE machines(id integer PRIMARY KEY);
             CREATE TABLE decisions(id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
               created_at datetime NULL, updated_at datetime NULL, until datetime NULL,
               scenario text NOT NULL, type text NOT NULL, start_ip integer NULL,
               end_ip integer NULL, start_suffix integer NULL, end_suffix integer NULL,
               ip_size integer NULL, scope text NOT NULL, value text NOT NULL,
               origin text NOT NULL, simulated bool NOT NULL DEFAULT false,
               alert_decisions integer NULL);
             {rows}"
        ))
        .unwrap();
        db
    }

    fn read(conn: &Connection) -> Collect {
        let mut sink = Collect::default();
        read_database(Ok(conn), &ctx("crowdsec.db"), &mut sink).unwrap();
        sink
    }

    /// (address, scope, action, expires)
    fn rows(c: &Collect) -> Vec<(String, String, Action, Option<String>)> {
        c.events
            .iter()
            .map(|e| {
                (
                    crate::addr::display_net(&e.net),
                    e.scope.clone(),
                    e.action,
                    e.expires.map(|t| t.to_string()),
                )
            })
            .collect()
    }

    fn local(utc: &str) -> String {
        let t: NaiveDateTime = utc.parse().unwrap();
        t.and_utc().with_timezone(&Local).naive_local().to_string()
    }

    #[test]
    fn a_row_written_again_by_a_deletion_is_an_unban_at_its_until() {
        // As CrowdSec 1.4.6 wrote it after `cscli decisions delete --ip 104.19.0.6`: `until`
        // a few microseconds before `created_at`. The row beside it ran out on its own.
        let conn = db(
            "INSERT INTO decisions(created_at, updated_at, until, scenario, type, scope, value, origin, simulated) VALUES
             ('2026-12-03 15:01:19.438352725+00:00', '2026-12-03 15:01:19.438352866+00:00', '2026-12-03 15:01:19.438351193+00:00', 'lab: deleted later', 'ban', 'Ip', '104.19.0.6', 'cscli', 0),
             ('2026-12-03 15:01:15.198197389+00:00', '2026-12-03 15:01:15.198197509+00:00', '2026-12-03 15:01:17+00:00', 'lab: short ban', 'ban', 'Ip', '104.20.0.7', 'cscli', 0);",
        );
        let got = read(&conn);
        assert_eq!(
            rows(&got),
            [
                (
                    "104.19.0.6".into(),
                    "lab: deleted later".into(),
                    Action::Unban,
                    None
                ),
                (
                    "104.20.0.7".into(),
                    "lab: short ban".into(),
                    Action::Listed,
                    Some(local("2026-12-03T15:01:17"))
                ),
            ]
        );
        assert_eq!(
            got.events[0].time.map(|t| t.to_string()),
            Some(local("2026-12-03T15:01:19.438351193"))
        );
    }

    #[test]
    fn rows_as_the_local_api_writes_them() {
        let conn = db(
            "INSERT INTO decisions(created_at, until, scenario, type, scope, value, origin, simulated) VALUES
             ('2026-11-24 09:37:49.187976835+00:00', '2026-11-24 13:37:49+00:00', 'manual: wp-login', 'ban', 'Ip', '104.16.1.10', 'cscli', 0),
             ('2026-11-24 09:37:49+00:00', '2026-11-24 21:37:49+00:00', 'manual: range', 'ban', 'Range', '162.158.0.0/15', 'cscli', 0),
             ('2026-11-24 09:37:53+00:00', '2026-11-24 09:37:53.835934504+00:00', 'manual: deleted', 'ban', 'Ip', '104.18.0.7', 'cscli', 0),
             ('2026-11-24 09:37:53+00:00', '2026-11-24 13:37:53+00:00', '', 'ban', 'Ip', '2606:4700::1', 'CAPI', 0),
             ('2026-11-24 09:37:53+00:00', '2026-11-24 13:37:53+00:00', 'manual', 'ban', 'Country', 'FR', 'cscli', 0);",
        );
        let got = read(&conn);
        assert!(got.malformed.is_empty(), "{:?}", got.malformed);
        assert_eq!(
            rows(&got),
            [
                (
                    "104.16.1.10".into(),
                    "manual: wp-login".into(),
                    Action::Listed,
                    Some(local("2026-11-24T13:37:49"))
                ),
                (
                    "162.158.0.0/15".into(),
                    "manual: range".into(),
                    Action::Listed,
                    Some(local("2026-11-24T21:37:49"))
                ),
                (
                    "104.18.0.7".into(),
                    "manual: deleted".into(),
                    Action::Listed,
                    Some(local("2026-11-24T09:37:53.835934504"))
                ),
                (
                    "2606:4700::1".into(),
                    "CAPI".into(),
                    Action::Listed,
                    Some(local("2026-11-24T13:37:53"))
                ),
            ]
        );
        assert_eq!(
            got.events[0].time,
            Some(
                "2026-11-24T09:37:49.187976835"
                    .parse::<NaiveDateTime>()
                    .unwrap()
                    .and_utc()
                    .with_timezone(&Local)
                    .naive_local()
            )
        );
        assert!(got.events.iter().all(|e| e.location.line == 0));
        assert!(
            got.notes.iter().any(|n| n.contains("of scope Country")),
            "{:?}",
            got.notes
        );
    }

    #[test]
    fn captchas_and_simulated_decisions_follow_the_shared_rules() {
        let conn = db(
            "INSERT INTO decisions(created_at, until, scenario, type, scope, value, origin, simulated) VALUES
             ('2026-11-24 09:37:49+00:00', '2026-11-24 13:37:49+00:00', 'manual: captcha', 'captcha', 'Ip', '172.64.33.2', 'cscli', 0),
             ('2026-11-24 09:37:49+00:00', '2026-11-24 13:37:49+00:00', 'crowdsecurity/ssh-bf', 'ban', 'Ip', '172.66.0.5', 'crowdsec', 1);",
        );
        let got = read(&conn);
        // The captcha is a challenge; the simulated ban is only counted in a note.
        assert_eq!(
            rows(&got),
            [(
                "172.64.33.2".into(),
                "manual: captcha (captcha)".into(),
                Action::Listed,
                Some(local("2026-11-24T13:37:49"))
            )]
        );
        assert!(got.events[0].challenge);
        assert!(
            got.notes.iter().any(|n| n.contains("1 simulated decision")),
            "{:?}",
            got.notes
        );
    }

    #[test]
    fn odd_rows_are_reported_not_fatal() {
        let conn = db(
            "INSERT INTO decisions(created_at, until, scenario, type, scope, value, origin) VALUES
             (NULL, 'tomorrow', 'x', 'ban', 'Ip', '104.16.0.1', 'cscli'),
             (NULL, '2026-11-24 13:37:49+00:00', 'x', 'ban', 'Ip', 'not-an-ip', 'cscli'),
             (NULL, 1795500000, 'x', 'ban', 'Ip', '104.16.0.2', 'cscli');",
        );
        let got = read(&conn);
        assert_eq!(got.malformed.len(), 2, "{:?}", got.malformed);
        assert_eq!(rows(&got).len(), 1);
        assert_eq!(rows(&got)[0].0, "104.16.0.2");
    }

    #[test]
    fn detection_needs_crowdsec_tables() {
        let conn = db("");
        assert!(looks_like_db(Path::new("x.db"), Database::Open(&conn)));
        let other = Connection::open_in_memory().unwrap();
        other
            .execute_batch("CREATE TABLE decisions(value text, scope text, type text, until text);")
            .unwrap();
        assert!(!looks_like_db(Path::new("x.db"), Database::Open(&other)));
        assert!(looks_like_db(Path::new("crowdsec.db"), Database::Busy));
        assert!(!looks_like_db(Path::new("app.db"), Database::Busy));
        assert!(!looks_like_db(Path::new("crowdsec.db"), Database::Closed));
    }

    #[test]
    fn no_decisions_table_is_an_error() {
        let conn = Connection::open_in_memory().unwrap();
        let mut sink = Collect::default();
        let err = read_database(Ok(&conn), &ctx("crowdsec.db"), &mut sink).unwrap_err();
        assert!(err.contains("no table decisions"), "{err}");
    }
}
