//! fail2ban's SQLite database (`/var/lib/fail2ban/fail2ban.sqlite3`), schema v1 to v4.
//!
//! The scanner opens the database strictly read-only (`file:...?mode=ro`, with
//! a 2 s busy timeout), so that a running fail2ban, which holds it open, is never disturbed;
//! only when that fails because SQLite cannot set up its shared state next to the file (a WAL
//! database in a read-only directory) is it opened again as `immutable=1`. The reader gets the
//! connection and reads all tables in one read transaction, so `bans` and `bips` agree.
//!
//! What is read is decided from the columns present, not from `fail2banDb.version` alone:
//!
//! - `bips(ip, jail, timeofban, bantime, ...)` (v4, fail2ban 0.11.1+): the current bans, one row
//!   per (address, jail); each row is an [`Action::Listed`] event. `bantime = -1` is permanent
//!   (no expiry); `-2` ("unknown", rows carried over from an older schema) has no known end and
//!   is kept without expiry too, as fail2ban itself restores such rows.
//! - `bans(jail, ip, timeofban[, bantime, bancount], data)`: the ban history, each row an
//!   [`Action::Ban`] event that ends at `timeofban + bantime`. When a `bips` table exists, the
//!   history row that `bips` repeats (same jail, address and time) is skipped, and a history row
//!   whose (jail, address) is no longer in `bips` is over at the latest now (fail2ban removes
//!   both rows when an address is unbanned by hand). Without a `bantime` column (v1, v2: fail2ban
//!   0.9 and 0.10) or with an unknown one (`-2`), the jail's ban time cannot be known: the row
//!   is taken to end after [`DEFAULT_BANTIME`], fail2ban's default `bantime`. Such a row is
//!   therefore reported as inactive once that has passed, although a jail configured with a
//!   longer `bantime` may still hold the address; fail2ban's log tells more.
//!
//! `timeofban` is Unix time (an INTEGER, or a REAL in v1 databases: `1388009242.25932`), turned
//! into the host's local time. Events have no line (their [`Location`] line is 0).
//!
//! [`Action::Listed`]: crate::event::Action::Listed
//! [`Action::Ban`]: crate::event::Action::Ban
//! [`Location`]: crate::event::Location

mod rows;

use super::registry::{Detection, FormatDescriptor, Reader};
use super::Format;
use crate::event::Tool;
use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::sqlite::{in_read_transaction, is_busy, table_exists, Database};
use super::{ParseCtx, Sink};
use rows::{read_bans, read_bips};

/// The ban time assumed for history rows that do not say theirs: fail2ban's default
/// `bantime` (10 minutes), in seconds.
pub const DEFAULT_BANTIME: i64 = 600;

/// Whether a SQLite file is fail2ban's database: it opened read-only and has a `fail2banDb`
/// table. A file that could not be read is not one, except a locked file whose name says
/// fail2ban, which is taken as one so that its reader reports the lock.
pub fn looks_like(path: &Path, db: Database<'_>) -> bool {
    match db {
        Database::Open(conn) => match table_exists(conn, "fail2banDb") {
            Ok(found) => found,
            Err(e) => is_busy(&e) && named_fail2ban(path),
        },
        Database::Busy => named_fail2ban(path),
        Database::Closed => false,
    }
}

/// Reads the bans of a fail2ban database the scanner opened (see the [module
/// documentation](self) for what each row becomes). Rows whose address does not parse are
/// skipped and counted as malformed; a database that could not be opened or is not a readable
/// fail2ban database is an error naming what failed.
pub fn read_database(
    conn: Result<&Connection, rusqlite::Error>,
    ctx: &ParseCtx,
    sink: &mut dyn Sink,
) -> Result<(), String> {
    let conn = conn.map_err(|e| describe("cannot open the database", &e))?;
    // One read transaction for everything: `bans` and `bips` are read as of one moment.
    in_read_transaction(conn, describe, |conn| {
        read(conn, ctx, sink).map_err(|f| match f {
            Failure::Sql(what, e) => describe(what, &e),
            Failure::Schema(message) => message,
        })
    })
}

/// What the schema holds.
struct Schema {
    bans: Option<Columns>,
    bips: Option<Columns>,
}

/// The columns of a bans-like table that matter.
struct Columns {
    bantime: bool,
}

/// Why reading stopped.
enum Failure {
    /// An SQLite error while doing something.
    Sql(&'static str, rusqlite::Error),
    /// The schema is not what fail2ban writes.
    Schema(String),
}

/// Wraps an SQLite error with what was being done.
fn sql(what: &'static str) -> impl Fn(rusqlite::Error) -> Failure {
    move |e| Failure::Sql(what, e)
}

fn read(conn: &Connection, ctx: &ParseCtx, sink: &mut dyn Sink) -> Result<(), Failure> {
    let has_db_table = table_exists(conn, "fail2banDb").map_err(sql("cannot read the schema"))?;
    if !has_db_table {
        return Err(Failure::Schema(
            "no table fail2banDb: not a fail2ban database".into(),
        ));
    }
    let version: Option<i64> = conn
        .query_row("SELECT version FROM fail2banDb LIMIT 1", [], |row| {
            Ok(match row.get_ref(0)? {
                ValueRef::Integer(v) => Some(v),
                _ => None,
            })
        })
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(sql("cannot read fail2banDb.version"))?;
    let version_text = version.map_or_else(|| "unknown".to_string(), |v| v.to_string());
    let schema = Schema {
        bans: columns(conn, "bans", &version_text)?,
        bips: columns(conn, "bips", &version_text)?,
    };
    if schema.bans.is_none() && schema.bips.is_none() {
        return Err(Failure::Schema(format!(
            "fail2ban database (schema version {version_text}) without a bans or bips table"
        )));
    }
    if let Some(bans) = &schema.bans {
        read_bans(conn, bans, schema.bips.is_some(), ctx, sink)?;
    }
    if let Some(bips) = &schema.bips {
        read_bips(conn, bips, ctx, sink)?;
    }
    Ok(())
}

/// The columns of `table`, `None` when there is no such table; an error when the table lacks
/// one of `jail`, `ip`, `timeofban`.
fn columns(conn: &Connection, table: &str, version: &str) -> Result<Option<Columns>, Failure> {
    let what = sql("cannot read the schema");
    if !table_exists(conn, table).map_err(&what)? {
        return Ok(None);
    }
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info(?1)")
        .map_err(&what)?;
    let names: Vec<String> = stmt
        .query_map([table], |row| row.get::<_, String>(0))
        .and_then(|rows| rows.collect())
        .map_err(&what)?;
    let has = |c: &str| names.iter().any(|n| n.eq_ignore_ascii_case(c));
    for needed in ["jail", "ip", "timeofban"] {
        if !has(needed) {
            return Err(Failure::Schema(format!(
                "table {table} (schema version {version}) has no column {needed}"
            )));
        }
    }
    Ok(Some(Columns {
        bantime: has("bantime"),
    }))
}

fn named_fail2ban(path: &Path) -> bool {
    path.file_name().is_some_and(|n| {
        n.to_string_lossy()
            .to_ascii_lowercase()
            .contains("fail2ban")
    })
}

/// A message naming what failed and why, in words.
fn describe(what: &str, e: &rusqlite::Error) -> String {
    format!(
        "fail2ban database: {}",
        crate::formats::sqlite::describe(what, "fail2ban", e)
    )
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// fail2ban's SQLite database (`/var/lib/fail2ban/fail2ban.sqlite3`).
    pub const Fail2banDb: Format = Format::builtin(2, "fail2ban-db");
}

/// The fail2ban database's descriptor. A database that cannot be opened (truncated, corrupt)
/// under a name that says fail2ban is still fail2ban's: its reader then names the file in an
/// error instead of skipping it.
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::read_as(
    Format::Fail2banDb,
    &[Tool::Fail2ban],
    "fail2ban SQLite database, schema v1 to v4 (bips, bans)",
    Reader::Sqlite(read_database),
)
.usual_paths(&["/var/lib/fail2ban/fail2ban.sqlite3"])
.detected_by(&[
    Detection::sqlite(100, looks_like),
    Detection::sqlite(120, |path, _| {
        super::lower_file_name(path).contains("fail2ban")
    }),
]);

#[cfg(test)]
mod tests;

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn looks_like() {
        use crate::formats::{fail2ban_db::looks_like, Database};
        use std::path::Path;
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch(
            "CREATE TABLE fail2banDb(version INTEGER); INSERT INTO fail2banDb VALUES(4);",
        )
        .unwrap();
        assert!(looks_like(Path::new("f2b.sqlite3"), Database::Open(&db)));
        assert!(!looks_like(Path::new("missing.sqlite3"), Database::Closed));
        assert!(looks_like(Path::new("fail2ban.sqlite3"), Database::Busy));
    }

    #[test]
    fn read_database() {
        use crate::formats::fail2ban_db;
        use crate::Action;

        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch(
            "CREATE TABLE fail2banDb(version INTEGER); INSERT INTO fail2banDb VALUES(4);
             CREATE TABLE bans(jail TEXT, ip TEXT, timeofban INTEGER, bantime INTEGER, bancount INTEGER, data JSON);
             CREATE TABLE bips(ip TEXT, jail TEXT, timeofban INTEGER, bantime INTEGER, bancount INTEGER, data JSON);
             INSERT INTO bans VALUES('sshd', '104.16.9.9', 1795491472, -1, 1, '{}');
             INSERT INTO bips VALUES('104.16.9.9', 'sshd', 1795491472, -1, 1, '{}');",
        ).unwrap();

        let ctx = crate::formats::test_support::ctx("fail2ban.sqlite3");
        let mut sink = crate::formats::test_support::Collect::default();
        fail2ban_db::read_database(Ok(&db), &ctx, &mut sink).unwrap();
        // The history row repeats the current one: one event, permanent.
        assert_eq!(sink.events.len(), 1);
        assert_eq!(
            (sink.events[0].action, sink.events[0].scope.as_str()),
            (Action::Listed, "sshd")
        );
        assert_eq!(sink.events[0].expires, None);
    }
}
