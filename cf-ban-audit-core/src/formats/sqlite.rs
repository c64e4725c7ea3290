//! What the SQLite readers share: the view detection has of a database, and the questions
//! they ask of a connection the scanner opened read-only.

use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

use super::{ParseCtx, Sink};

/// The reader of a SQLite format: it is given the read-only connection the scanner opened, or
/// why it could not be opened, and returns what is wrong with the database, if anything.
pub type SqliteReader =
    fn(Result<&Connection, rusqlite::Error>, &ParseCtx, &mut dyn Sink) -> Result<(), String>;

/// What the scanner could open of a file that begins with SQLite's header, as detection's
/// database tests see it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Database<'a> {
    /// Opened read-only.
    Open(&'a Connection),
    /// Locked by its owner for longer than detection waits.
    Busy,
    /// Not opened: unreadable, not a database, or not asked (standard input).
    Closed,
}

/// How long the scanner, reading a database, waits for a lock its owner holds while it
/// writes (the readers name it in their messages).
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether the database has a table of this name (in any case).
pub(crate) fn table_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
        [name],
        |row| row.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

/// The names of a table's columns.
pub(crate) fn column_names(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let names = stmt
        .query_map([table], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(names)
}

/// A column's name in a query, or `NULL` when the table lacks it (of `names`, any case).
pub(crate) fn column<'a>(names: &[String], name: &'a str) -> &'a str {
    if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
        name
    } else {
        "NULL"
    }
}

/// A message naming what failed (`what`) and why, in words; `writer` names the program that
/// may hold the lock (`fail2ban`, `the Local API`).
pub(crate) fn describe(what: &str, writer: &str, e: &rusqlite::Error) -> String {
    let why = match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => "not an SQLite database".to_string(),
        Some(ErrorCode::DatabaseCorrupt) => format!("the database is corrupt ({e})"),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => format!(
            "the database stayed locked for more than {} s ({writer} writing to it?); try again",
            SQLITE_BUSY_TIMEOUT.as_secs()
        ),
        Some(ErrorCode::CannotOpen) => format!("cannot open the file read-only ({e})"),
        Some(ErrorCode::PermissionDenied) => format!("permission denied ({e})"),
        _ => e.to_string(),
    };
    format!("{what}: {why}")
}

/// Runs `read` in one read transaction, so that every table is read as of one moment, and
/// ends it at once: nothing was written, and ending it releases the shared lock. `describe`
/// words an error starting it (see [`describe`]).
pub(crate) fn in_read_transaction<T>(
    conn: &Connection,
    describe: impl Fn(&str, &rusqlite::Error) -> String,
    read: impl FnOnce(&Connection) -> Result<T, String>,
) -> Result<T, String> {
    conn.execute_batch("BEGIN")
        .map_err(|e| describe("cannot start a read transaction", &e))?;
    let result = read(conn);
    let _ = conn.execute_batch("ROLLBACK");
    result
}

/// The frame of a database reader: the connection the scanner opened (or why it could not),
/// read by `read` in one read transaction (see [`in_read_transaction`]), every error said as
/// `"{program} database: …"` and worded by [`describe`] with `writer` as the program that may
/// hold the lock.
pub(crate) fn read_opened<T>(
    program: &str,
    writer: &str,
    conn: Result<&Connection, rusqlite::Error>,
    read: impl FnOnce(&Connection) -> Result<T, String>,
) -> Result<T, String> {
    let fail = |message: String| format!("{program} database: {message}");
    let conn = conn.map_err(|e| fail(describe("cannot open the database", writer, &e)))?;
    in_read_transaction(
        conn,
        |what, e| fail(describe(what, writer, e)),
        |conn| read(conn).map_err(fail),
    )
}

/// Whether an error means the owner holds a lock.
pub(crate) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}
