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

/// Whether an error means the owner holds a lock.
pub(crate) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}
