//! Opening SQLite databases of other programs without disturbing them: strictly read-only
//! (`file:...?mode=ro`, a busy timeout while the owner writes), and as `immutable=1` where a
//! read-only open would still create files: a WAL database that no connection holds open has
//! no `-wal` file, and opening it would leave an empty `-wal` and a `-shm` beside it (owned by
//! whoever scans, which can stop the owner from writing). Also `immutable=1` when SQLite cannot
//! set up its shared state in a read-only place. Nothing is ever written next to the file.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

/// Opens a database read-only (see the module docs) and checks that it can be read.
pub(crate) fn open_read_only(path: &Path, busy: Duration) -> rusqlite::Result<Connection> {
    if is_closed_wal(path) {
        return open_uri(path, true, busy).and_then(|conn| probe(&conn).map(|()| conn));
    }
    let first = open_uri(path, false, busy).and_then(|conn| probe(&conn).map(|()| conn));
    match first {
        Err(e)
            if matches!(
                e.sqlite_error_code(),
                Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly)
            ) =>
        {
            open_uri(path, true, busy)
                .and_then(|conn| probe(&conn).map(|()| conn))
                .map_err(|_| e)
        }
        other => other,
    }
}

/// Whether the database has a table of this name (in any case).
pub(crate) fn table_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
        [name],
        |row| row.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

/// Whether the file is a WAL-mode database (header bytes 18 and 19 are 2) with no `-wal` file
/// beside it: no connection has it open.
fn is_closed_wal(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 20];
    let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut header));
    if read.is_err() || header[18] != 2 || header[19] != 2 {
        return false;
    }
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    !Path::new(&wal).exists()
}

fn open_uri(path: &Path, immutable: bool, busy: Duration) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(uri(path, immutable), flags)?;
    conn.busy_timeout(busy)?;
    Ok(conn)
}

/// Reads the schema once: the first read, where a file that is no database shows.
fn probe(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
}

/// Whether an error means the owner holds a lock.
pub(crate) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// The `file:` URI of a path, read-only (`mode=ro`) or `immutable=1`.
pub(crate) fn uri(path: &Path, immutable: bool) -> String {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = path.to_string_lossy().replace('\\', "/").into_bytes();
    let mut out = String::with_capacity(bytes.len() + 32);
    out.push_str(if bytes.first() == Some(&b'/') {
        "file://"
    } else {
        "file:"
    });
    for &b in &bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.push_str(if immutable {
        "?immutable=1"
    } else {
        "?mode=ro"
    });
    out
}
