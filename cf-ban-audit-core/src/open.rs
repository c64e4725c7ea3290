//! How the scanner opens what it reads, under one policy; the readers under
//! [`formats`](crate::formats) never open, stat or canonicalize a file themselves.
//!
//! - Text files are opened as streams ([`crate::decompress::open`]: gzip, xz, zstd and bzip2
//!   undone, nested ones too, with a cap on what they expand to).
//! - Files a reader names (csf's `Include`) are opened here on its behalf ([`Includes`]):
//!   regular files only, each at most once per top-level file (an `Include` loop ends), at most
//!   [`MAX_INCLUDE_BYTES`] each.
//! - SQLite databases of other programs are opened strictly read-only without disturbing
//!   their owner ([`open_sqlite`]): `file:...?mode=ro` with a busy timeout while the owner
//!   writes, and `immutable=1` where a read-only open would still create files: a WAL database
//!   that no connection holds open has no `-wal` file, and opening it would leave an empty
//!   `-wal` and a `-shm` beside it (owned by whoever scans, which can stop the owner from
//!   writing). Also `immutable=1` when SQLite cannot set up its shared state in a read-only
//!   place. Nothing is ever written next to the file.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::Error;
use crate::formats::sqlite::{is_busy, SQLITE_BUSY_TIMEOUT};
use crate::formats::{Database, IncludeError, ParseCtx, Registry, Sink, SqliteReader};

/// The largest file an `Include` may name.
pub const MAX_INCLUDE_BYTES: u64 = 64 << 20;

/// How long detection waits for a lock.
const DETECT_BUSY_TIMEOUT: Duration = Duration::from_millis(500);

/// The files an input has included, by canonical path, so that each is read once.
#[derive(Debug, Default)]
pub struct Includes {
    read: HashSet<PathBuf>,
}

impl Includes {
    /// Opens `target`, named by a line of `from`, and returns its bytes; the file that names it
    /// counts as read too.
    pub fn open(&mut self, from: &Path, target: &Path) -> Result<Vec<u8>, IncludeError> {
        if let Ok(canonical) = std::fs::canonicalize(from) {
            self.read.insert(canonical);
        }
        match std::fs::metadata(target) {
            Err(_) => return Err(IncludeError::Missing),
            Ok(meta) if !meta.is_file() => return Err(IncludeError::NotRegular),
            Ok(meta) if meta.len() > MAX_INCLUDE_BYTES => {
                return Err(IncludeError::TooLarge(MAX_INCLUDE_BYTES))
            }
            Ok(_) => {}
        }
        let canonical = std::fs::canonicalize(target).unwrap_or_else(|_| target.to_path_buf());
        if !self.read.insert(canonical) {
            return Err(IncludeError::AlreadyRead);
        }
        let mut bytes = Vec::new();
        std::fs::File::open(target)
            .and_then(|f| f.take(MAX_INCLUDE_BYTES).read_to_end(&mut bytes))
            .map_err(|e| IncludeError::Unreadable(e.to_string()))?;
        Ok(bytes)
    }
}

/// The format of a SQLite file: the registry's database tests look at what could be opened
/// of it.
pub fn sqlite_format(registry: &Registry, path: &Path) -> Option<crate::Format> {
    with_database(path, |db| registry.detect_database(path, db))
}

/// Opens a SQLite file for detection (waiting less for a lock than reading does) and shows
/// `f` what could be opened of it.
pub fn with_database<T>(path: &Path, f: impl FnOnce(Database<'_>) -> T) -> T {
    match open_read_only(path, DETECT_BUSY_TIMEOUT) {
        Ok(conn) => f(Database::Open(&conn)),
        Err(e) if is_busy(&e) => f(Database::Busy),
        Err(_) => f(Database::Closed),
    }
}

/// Opens the database at `path` read-only (see the [module documentation](self)) and hands it
/// to `read`. A missing file is an [`Error::Io`]; what the reader says is wrong, an
/// [`Error::File`] naming the file.
pub fn open_sqlite(
    path: &Path,
    ctx: &ParseCtx,
    sink: &mut dyn Sink,
    read: SqliteReader,
) -> Result<(), Error> {
    if let Err(source) = std::fs::metadata(path) {
        return Err(Error::Io {
            path: path.to_path_buf(),
            source,
        });
    }
    let result = match open_read_only(path, SQLITE_BUSY_TIMEOUT) {
        Ok(conn) => read(Ok(&conn), ctx, sink),
        Err(e) => read(Err(e), ctx, sink),
    };
    result.map_err(|message| Error::File {
        path: path.to_path_buf(),
        message,
    })
}

/// Opens a database read-only (see the module docs) and checks that it can be read.
fn open_read_only(path: &Path, busy: Duration) -> rusqlite::Result<Connection> {
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

/// Whether the file is a WAL-mode database (header bytes 18 and 19 are 2) with no `-wal` file
/// beside it: no connection has it open.
fn is_closed_wal(path: &Path) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_escapes_the_path() {
        assert_eq!(
            uri(Path::new("/var/lib/fail2ban/fail2ban.sqlite3"), false),
            "file:///var/lib/fail2ban/fail2ban.sqlite3?mode=ro"
        );
        assert_eq!(
            uri(Path::new("//x/a b?c#d%e"), true),
            "file:////x/a%20b%3Fc%23d%25e?immutable=1"
        );
        assert_eq!(
            uri(Path::new("rel/f2b.db"), false),
            "file:rel/f2b.db?mode=ro"
        );
    }
}
