//! btwaf's SQLite database `totla_db.db`, table `blocking_ip`, which the scanner opens strictly
//! read-only, read in one read transaction.

use std::borrow::Cow;
use std::path::Path;

use chrono::{NaiveDateTime, TimeDelta};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::{local, quote, scope, LOCALTIME, MAX_EPOCH};
use crate::addr::{host_net, parse_ip};
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::sqlite::{column, is_busy, read_opened, table_exists, Database};
use crate::formats::{Format, ParseCtx, Sink};

/// Whether a SQLite file is btwaf's database (`totla_db.db` with a `blocking_ip` table): it
/// opened read-only and has that table. A file that could not be read is not one, except a
/// locked file named like btwaf's, which is taken as one so that [`read_database`] reports the
/// lock.
pub fn looks_like_db(path: &Path, db: Database<'_>) -> bool {
    let named = || {
        path.file_name()
            .is_some_and(|n| n.to_string_lossy().contains("totla_db"))
    };
    match db {
        Database::Open(conn) => match table_exists(conn, "blocking_ip") {
            Ok(found) => found,
            Err(e) => is_busy(&e) && named(),
        },
        Database::Busy => named(),
        Database::Closed => false,
    }
}

/// Reads the `blocking_ip` table of a btwaf database the scanner opened: each row an
/// [`Action::Ban`] (see the [module documentation](super)). Rows that cannot be read are
/// skipped and counted as malformed; a database that could not be opened or is not a readable
/// btwaf database is an error naming what failed.
pub fn read_database(
    conn: Result<&Connection, rusqlite::Error>,
    ctx: &ParseCtx,
    sink: &mut dyn Sink,
) -> Result<(), String> {
    read_opened("btwaf", "btwaf", conn, |conn| read_db(conn, ctx, sink))
}

fn read_db(conn: &Connection, ctx: &ParseCtx, sink: &mut dyn Sink) -> Result<(), String> {
    let schema = |e: rusqlite::Error| describe("cannot read the schema", &e);
    if !table_exists(conn, "blocking_ip").map_err(schema)? {
        return Err("no table blocking_ip: not a btwaf database".into());
    }
    let names: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('blocking_ip')")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| row.get::<_, String>(0))?
                .collect::<rusqlite::Result<_>>()
        })
        .map_err(schema)?;
    let has = |c: &str| names.iter().any(|n| n.eq_ignore_ascii_case(c));
    for needed in ["ip", "blocking_time"] {
        if !has(needed) {
            return Err(format!("table blocking_ip has no column {needed}"));
        }
    }
    if !has("time") && !has("time_localtime") {
        return Err("table blocking_ip has no column time or time_localtime".into());
    }
    let query = format!(
        "SELECT {}, {}, ip, {}, {}, blocking_time, {}, {} FROM blocking_ip",
        column(&names, "id"),
        column(&names, "server_name"),
        column(&names, "time"),
        column(&names, "time_localtime"),
        column(&names, "is_status"),
        column(&names, "blockade"),
    );
    let what = |e: rusqlite::Error| describe("cannot read table blocking_ip", &e);
    let mut stmt = conn.prepare(&query).map_err(what)?;
    let mut rows = stmt.query([]).map_err(what)?;
    while let Some(row) = rows.next().map_err(what)? {
        let get = |i| row.get_ref(i).map_err(what);
        let parsed = DbRow {
            id: get(0)?,
            site: get(1)?,
            ip: get(2)?,
            time: get(3)?,
            localtime: get(4)?,
            seconds: get(5)?,
            status: get(6)?,
            blockade: get(7)?,
        }
        .event(ctx);
        match parsed {
            Ok(event) => sink.event(event),
            Err(message) => sink.malformed(0, message),
        }
    }
    Ok(())
}

/// The values of one `blocking_ip` row that matter.
struct DbRow<'a> {
    id: ValueRef<'a>,
    site: ValueRef<'a>,
    ip: ValueRef<'a>,
    time: ValueRef<'a>,
    localtime: ValueRef<'a>,
    seconds: ValueRef<'a>,
    status: ValueRef<'a>,
    blockade: ValueRef<'a>,
}

/// Text of a TEXT (or BLOB) value.
fn value_str(value: ValueRef<'_>) -> Option<Cow<'_, str>> {
    match value {
        ValueRef::Text(b) | ValueRef::Blob(b) => Some(String::from_utf8_lossy(b)),
        _ => None,
    }
}

/// A whole number from an INTEGER, a REAL without fraction or a number in TEXT.
fn value_whole(value: ValueRef<'_>) -> Option<i64> {
    match value {
        ValueRef::Integer(n) => Some(n),
        ValueRef::Real(f) if f.is_finite() && f.abs() < 9.0e15 => Some(f.floor() as i64),
        ValueRef::Text(t) => {
            let s = std::str::from_utf8(t).ok()?.trim();
            s.parse().ok().or_else(|| {
                let f: f64 = s.parse().ok()?;
                (f.is_finite() && f.abs() < 9.0e15).then_some(f.floor() as i64)
            })
        }
        _ => None,
    }
}

/// `is_status`: `Some(false)` for 0 / false, `Some(true)` for other values, `None` for NULL.
fn value_status(value: ValueRef<'_>) -> Option<bool> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n != 0),
        ValueRef::Real(f) => Some(f != 0.0),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            let s = String::from_utf8_lossy(t);
            let s = s.trim();
            Some(!(s.is_empty() || s == "0" || s.eq_ignore_ascii_case("false")))
        }
    }
}

fn value_text(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".to_string(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(b) | ValueRef::Blob(b) => quote(&String::from_utf8_lossy(b)),
    }
}

impl DbRow<'_> {
    fn event(&self, ctx: &ParseCtx) -> Result<BanEvent, String> {
        let id = value_text(self.id);
        let ip = value_str(self.ip)
            .and_then(|s| parse_ip(s.trim().as_bytes()))
            .ok_or_else(|| {
                format!(
                    "blocking_ip row {id}: not an address: {}",
                    value_text(self.ip)
                )
            })?;
        let seconds = value_whole(self.seconds)
            .filter(|s| (0..MAX_EPOCH).contains(s))
            .ok_or_else(|| {
                format!(
                    "blocking_ip row {id}: blocking_time is not a duration: {}",
                    value_text(self.seconds)
                )
            })?;
        let epoch = value_whole(self.time).filter(|t| (1..MAX_EPOCH).contains(t));
        let (time, end) = match epoch {
            Some(t) => (local(t), local(t + seconds)),
            None => {
                let t = value_str(self.localtime)
                    .and_then(|s| NaiveDateTime::parse_from_str(s.trim(), LOCALTIME).ok());
                (
                    t,
                    t.and_then(|t| t.checked_add_signed(TimeDelta::seconds(seconds))),
                )
            }
        };
        let (Some(time), Some(end)) = (time, end) else {
            return Err(format!(
                "blocking_ip row {id}: no time: time {}, time_localtime {}",
                value_text(self.time),
                value_text(self.localtime)
            ));
        };
        // Lifted before its end (is_status false): over, at the latest now.
        let expires = match value_status(self.status) {
            Some(false) => end.min(ctx.now),
            _ => end,
        };
        let site = value_str(self.site).unwrap_or(Cow::Borrowed("-"));
        let rule = value_str(self.blockade);
        Ok(BanEvent::new(
            host_net(ip),
            Tool::Btwaf,
            Format::BtwafDb,
            scope(&site, rule.as_deref()),
            Action::Ban,
            Location::new(ctx.path.clone(), 0),
        )
        .at(time)
        .until(expires))
    }
}

/// A message naming what failed and why, in words.
fn describe(what: &str, e: &rusqlite::Error) -> String {
    crate::formats::sqlite::describe(what, "btwaf", e)
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn looks_like_db() {
        use crate::formats::{btwaf::looks_like_db, Database};
        use std::path::Path;
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch("CREATE TABLE blocking_ip(id INTEGER PRIMARY KEY, time INTEGER, ip TEXT, blocking_time INTEGER);").unwrap();
        assert!(looks_like_db(Path::new("totla_db.db"), Database::Open(&db)));
        assert!(!looks_like_db(Path::new("missing.db"), Database::Closed));
    }

    #[test]
    fn read_database() {
        use crate::formats::btwaf;
        use crate::Action;

        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch(
            "CREATE TABLE blocking_ip (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER,
               time_localtime TEXT, server_name TEXT, ip TEXT, blockade TEXT,
               blocking_time INTEGER, is_status INTEGER);
             INSERT INTO blocking_ip(time, time_localtime, server_name, ip, blockade, blocking_time, is_status)
               VALUES (1795489200, '2026-11-24 11:00:00', 'example.com', '104.16.5.5', 'cc', 86400, 1);",
        ).unwrap();

        let ctx = crate::formats::test_support::ctx("totla_db.db");
        let mut sink = crate::formats::test_support::Collect::default();
        btwaf::read_database(Ok(&db), &ctx, &mut sink).unwrap();
        let e = &sink.events[0];
        assert_eq!(
            (e.action, e.scope.as_str()),
            (Action::Ban, "example.com/cc")
        );
        assert_eq!(
            e.expires.unwrap() - e.time.unwrap(),
            chrono::TimeDelta::seconds(86400)
        );
    }
}
