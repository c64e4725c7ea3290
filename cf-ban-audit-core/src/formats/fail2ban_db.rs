//! fail2ban's SQLite database (`/var/lib/fail2ban/fail2ban.sqlite3`), schema v1 to v4.
//!
//! The database is opened strictly read-only (`file:...?mode=ro`, with a 2 s busy timeout),
//! so that a running fail2ban, which holds it open, is never disturbed; only when that fails
//! because SQLite cannot set up its shared state next to the file (a WAL database in a
//! read-only directory) is it opened again as `immutable=1`. All tables are read in one read
//! transaction, so `bans` and `bips` agree.
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

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Local, NaiveDateTime};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode};

use super::sqlite::{is_busy, open_read_only};
use super::{Format, ParseCtx, Sink};
use crate::addr::parse_net;
use crate::error::Error;
use crate::event::{Action, BanEvent, Location, Tool};

/// The ban time assumed for history rows that do not say theirs: fail2ban's default
/// `bantime` (10 minutes), in seconds.
pub const DEFAULT_BANTIME: i64 = 600;

/// How long to wait for a lock held by fail2ban while it writes.
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// How long detection waits for a lock.
const DETECT_BUSY_TIMEOUT: Duration = Duration::from_millis(500);

/// The longest text quoted from a row in a message.
const MAX_QUOTE: usize = 64;

/// Whether an SQLite file is fail2ban's database: it opens read-only and has a `fail2banDb`
/// table. Never fails: a file that cannot be read is not one, except a locked file whose name
/// says fail2ban, which is taken as one so that [`parse`] reports the lock.
///
/// ```
/// use cf_ban_audit_core::formats::fail2ban_db::looks_like;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("f2b.sqlite3");
/// let db = rusqlite::Connection::open(&path).unwrap();
/// db.execute_batch("CREATE TABLE fail2banDb(version INTEGER); INSERT INTO fail2banDb VALUES(4);").unwrap();
/// assert!(looks_like(&path));
/// assert!(!looks_like(&dir.path().join("missing.sqlite3")));
/// ```
pub fn looks_like(path: &Path) -> bool {
    let conn = match open_read_only(path, DETECT_BUSY_TIMEOUT) {
        Ok(conn) => conn,
        Err(e) => return is_busy(&e) && named_fail2ban(path),
    };
    match table_exists(&conn, "fail2banDb") {
        Ok(found) => found,
        Err(e) => is_busy(&e) && named_fail2ban(path),
    }
}

/// Reads the bans of a fail2ban database (see the [module documentation](self) for what each
/// row becomes). Rows whose address does not parse are skipped and counted as malformed; a file
/// that is not a readable fail2ban database is an [`Error::File`] naming what failed.
///
/// ```
/// use cf_ban_audit_core::formats::{fail2ban_db, ParseCtx, Sink};
/// use cf_ban_audit_core::{Action, BanEvent};
/// use std::sync::Arc;
///
/// struct Events(Vec<BanEvent>);
/// impl Sink for Events {
///     fn event(&mut self, e: BanEvent) { self.0.push(e) }
///     fn malformed(&mut self, _: u64, _: String) {}
/// }
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("fail2ban.sqlite3");
/// rusqlite::Connection::open(&path).unwrap().execute_batch(
///     "CREATE TABLE fail2banDb(version INTEGER); INSERT INTO fail2banDb VALUES(4);
///      CREATE TABLE bans(jail TEXT, ip TEXT, timeofban INTEGER, bantime INTEGER, bancount INTEGER, data JSON);
///      CREATE TABLE bips(ip TEXT, jail TEXT, timeofban INTEGER, bantime INTEGER, bancount INTEGER, data JSON);
///      INSERT INTO bans VALUES('sshd', '104.16.9.9', 1795491472, -1, 1, '{}');
///      INSERT INTO bips VALUES('104.16.9.9', 'sshd', 1795491472, -1, 1, '{}');",
/// ).unwrap();
///
/// let now = chrono::Local::now().naive_local();
/// let ctx = ParseCtx { path: Arc::from(path.as_path()), reference: now, now };
/// let mut sink = Events(Vec::new());
/// fail2ban_db::parse(&path, &ctx, &mut sink).unwrap();
/// // The history row repeats the current one: one event, permanent.
/// assert_eq!(sink.0.len(), 1);
/// assert_eq!((sink.0[0].action, sink.0[0].scope.as_str()), (Action::Listed, "sshd"));
/// assert_eq!(sink.0[0].expires, None);
/// ```
pub fn parse(path: &Path, ctx: &ParseCtx, sink: &mut dyn Sink) -> Result<(), Error> {
    if let Err(source) = std::fs::metadata(path) {
        return Err(Error::Io {
            path: path.to_path_buf(),
            source,
        });
    }
    let fail = |what: &str, e: rusqlite::Error| Error::File {
        path: path.to_path_buf(),
        message: describe(what, &e),
    };
    let conn =
        open_read_only(path, BUSY_TIMEOUT).map_err(|e| fail("cannot open the database", e))?;
    // One read transaction for everything: `bans` and `bips` are read as of one moment.
    conn.execute_batch("BEGIN")
        .map_err(|e| fail("cannot start a read transaction", e))?;
    let result = read(&conn, ctx, sink).map_err(|f| match f {
        Failure::Sql(what, e) => fail(what, e),
        Failure::Schema(message) => Error::File {
            path: path.to_path_buf(),
            message,
        },
    });
    // Nothing was written; ending the transaction releases the shared lock at once.
    let _ = conn.execute_batch("ROLLBACK");
    result
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

fn table_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
        [name],
        |row| row.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

/// How long a ban lasts, as a row says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BanTime {
    /// `-1`: until lifted.
    Permanent,
    /// No `bantime` column, `-2` (unknown after an upgrade) or a value that is no number.
    Unknown,
    /// A number of seconds.
    Seconds(i64),
}

fn ban_time(value: Option<ValueRef<'_>>) -> BanTime {
    let seconds = match value {
        Some(ValueRef::Integer(n)) => Some(n),
        Some(ValueRef::Real(f)) if f.is_finite() && f.abs() < 9.0e18 => Some(f.round() as i64),
        Some(ValueRef::Text(t)) => std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.trim().parse().ok()),
        _ => None,
    };
    match seconds {
        Some(-1) => BanTime::Permanent,
        Some(n) if n >= 0 => BanTime::Seconds(n),
        _ => BanTime::Unknown,
    }
}

/// A Unix time (whole seconds and nanoseconds) from an INTEGER, a REAL or a number in TEXT.
fn epoch(value: ValueRef<'_>) -> Option<(i64, u32)> {
    fn from_f64(f: f64) -> Option<(i64, u32)> {
        // Beyond ±1e16 s chrono has no date anyway; the bound keeps the casts exact.
        if !f.is_finite() || f.abs() > 1.0e16 {
            return None;
        }
        // Python's `time.time()` is good to the microsecond; finer digits are float noise.
        let secs = f.floor();
        let micros = ((f - secs) * 1e6).round().clamp(0.0, 1e6) as u32;
        if micros >= 1_000_000 {
            return Some((secs as i64 + 1, 0));
        }
        Some((secs as i64, micros * 1000))
    }
    match value {
        ValueRef::Integer(n) => Some((n, 0)),
        ValueRef::Real(f) => from_f64(f),
        ValueRef::Text(t) => {
            let s = std::str::from_utf8(t).ok()?.trim();
            match s.parse::<i64>() {
                Ok(n) => Some((n, 0)),
                Err(_) => from_f64(s.parse::<f64>().ok()?),
            }
        }
        ValueRef::Null | ValueRef::Blob(_) => None,
    }
}

/// A Unix time as the host's local time.
fn local((secs, nanos): (i64, u32)) -> Option<NaiveDateTime> {
    DateTime::from_timestamp(secs, nanos).map(|t| t.with_timezone(&Local).naive_local())
}

/// The end of a ban that started at `start` and lasts `seconds`.
fn end_of(start: (i64, u32), seconds: i64) -> Option<NaiveDateTime> {
    local((start.0.checked_add(seconds)?, start.1))
}

/// Text for a message, cut short.
fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_QUOTE)]);
    if bytes.len() > MAX_QUOTE {
        format!("{text:?}...")
    } else {
        format!("{text:?}")
    }
}

fn value_text(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".to_string(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(b) | ValueRef::Blob(b) => quote(b),
    }
}

/// One row, read into an event; `None` (after a malformed report) when it cannot be.
struct Row<'a> {
    table: &'static str,
    jail: ValueRef<'a>,
    ip: ValueRef<'a>,
    timeofban: ValueRef<'a>,
}

impl Row<'_> {
    /// The scope, address and start of the row, or a message saying which is wrong.
    fn read(&self) -> Result<(String, ipnet::IpNet, (i64, u32), NaiveDateTime), String> {
        let table = self.table;
        let jail = match self.jail {
            ValueRef::Text(b) | ValueRef::Blob(b) => String::from_utf8_lossy(b).into_owned(),
            other => {
                return Err(format!(
                    "{table} row without a jail name ({})",
                    value_text(other)
                ))
            }
        };
        let net = match self.ip {
            ValueRef::Text(b) | ValueRef::Blob(b) => parse_net(b.trim_ascii()),
            _ => None,
        };
        let Some(net) = net else {
            return Err(format!(
                "{table} row of jail {jail:?}: not an address: {}",
                value_text(self.ip)
            ));
        };
        let start = epoch(self.timeofban);
        let Some((start, time)) = start.and_then(|s| local(s).map(|t| (s, t))) else {
            return Err(format!(
                "{table} row of jail {jail:?}: timeofban is not a time: {}",
                value_text(self.timeofban)
            ));
        };
        Ok((jail, net, start, time))
    }
}

fn event(
    ctx: &ParseCtx,
    scope: String,
    net: ipnet::IpNet,
    action: Action,
    time: NaiveDateTime,
    expires: Option<NaiveDateTime>,
) -> BanEvent {
    BanEvent {
        net,
        tool: Tool::Fail2ban,
        format: Format::Fail2banDb,
        scope,
        peer: None,
        action,
        time: Some(time),
        expires,
        location: Location {
            path: ctx.path.clone(),
            line: 0,
        },
    }
}

/// The current bans: `bips`.
fn read_bips(
    conn: &Connection,
    cols: &Columns,
    ctx: &ParseCtx,
    sink: &mut dyn Sink,
) -> Result<(), Failure> {
    let bantime = if cols.bantime { "bantime" } else { "NULL" };
    let query = format!("SELECT jail, ip, timeofban, {bantime} FROM bips");
    let what = sql("cannot read table bips");
    let mut stmt = conn.prepare(&query).map_err(&what)?;
    let mut rows = stmt.query([]).map_err(&what)?;
    while let Some(row) = rows.next().map_err(&what)? {
        let get = |i| row.get_ref(i).map_err(&what);
        let parsed = Row {
            table: "bips",
            jail: get(0)?,
            ip: get(1)?,
            timeofban: get(2)?,
        }
        .read();
        let (scope, net, start, time) = match parsed {
            Ok(r) => r,
            Err(message) => {
                sink.malformed(0, message);
                continue;
            }
        };
        let expires = match ban_time(Some(get(3)?)) {
            BanTime::Seconds(s) => end_of(start, s),
            // Unknown (-2): fail2ban restores the row with the jail's ban time, which the
            // database does not hold; kept open rather than guessed over.
            BanTime::Permanent | BanTime::Unknown => None,
        };
        sink.event(event(ctx, scope, net, Action::Listed, time, expires));
    }
    Ok(())
}

/// The ban history: `bans`, without the rows that `bips` repeats.
fn read_bans(
    conn: &Connection,
    cols: &Columns,
    with_bips: bool,
    ctx: &ParseCtx,
    sink: &mut dyn Sink,
) -> Result<(), Failure> {
    let bantime = if cols.bantime { "b.bantime" } else { "NULL" };
    let query = if with_bips {
        format!(
            "SELECT b.jail, b.ip, b.timeofban, {bantime},
                    EXISTS(SELECT 1 FROM bips p WHERE p.ip = b.ip AND p.jail = b.jail)
             FROM bans b
             WHERE NOT EXISTS(SELECT 1 FROM bips p
                              WHERE p.ip = b.ip AND p.jail = b.jail AND p.timeofban = b.timeofban)"
        )
    } else {
        format!("SELECT b.jail, b.ip, b.timeofban, {bantime}, 1 FROM bans b")
    };
    let what = sql("cannot read table bans");
    let mut stmt = conn.prepare(&query).map_err(&what)?;
    let mut rows = stmt.query([]).map_err(&what)?;
    while let Some(row) = rows.next().map_err(&what)? {
        let get = |i| row.get_ref(i).map_err(&what);
        let parsed = Row {
            table: "bans",
            jail: get(0)?,
            ip: get(1)?,
            timeofban: get(2)?,
        }
        .read();
        let (scope, net, start, time) = match parsed {
            Ok(r) => r,
            Err(message) => {
                sink.malformed(0, message);
                continue;
            }
        };
        let mut expires = match ban_time(Some(get(3)?)) {
            BanTime::Seconds(s) => end_of(start, s),
            BanTime::Permanent => None,
            BanTime::Unknown => end_of(start, DEFAULT_BANTIME),
        };
        let listed = !matches!(get(4)?, ValueRef::Integer(0));
        if !listed && expires.is_none_or(|e| e > ctx.now) {
            // No longer among the current bans: over, at the latest now.
            expires = Some(ctx.now);
        }
        sink.event(event(ctx, scope, net, Action::Ban, time, expires));
    }
    Ok(())
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
    let why = match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => "not an SQLite database".to_string(),
        Some(ErrorCode::DatabaseCorrupt) => format!("the database is corrupt ({e})"),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => format!(
            "the database stayed locked for more than {} s (fail2ban writing to it?); try again",
            BUSY_TIMEOUT.as_secs()
        ),
        Some(ErrorCode::CannotOpen) => format!("cannot open the file read-only ({e})"),
        Some(ErrorCode::PermissionDenied) => format!("permission denied ({e})"),
        _ => e.to_string(),
    };
    format!("fail2ban database: {what}: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::Arc;

    #[derive(Default)]
    struct Collect {
        events: Vec<BanEvent>,
        malformed: Vec<String>,
    }

    impl Sink for Collect {
        fn event(&mut self, event: BanEvent) {
            self.events.push(event);
        }
        fn malformed(&mut self, _line: u64, message: String) {
            self.malformed.push(message);
        }
    }

    fn ctx(path: &Path, now: NaiveDateTime) -> ParseCtx {
        ParseCtx {
            path: Arc::from(path),
            reference: now,
            now,
        }
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
        parse(path, &ctx(path, now), &mut sink)?;
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
        assert!(got.malformed.iter().any(|m| m.contains("not-an-ip")));
        assert!(got.malformed.iter().any(|m| m.contains("yesterday")));
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
            &format!(
                "{v4} INSERT INTO bips VALUES('104.16.0.1', 'sshd', 1795000000, 60, 1, NULL);"
            ),
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
            &format!("{V4_SCHEMA} INSERT INTO bips VALUES('104.16.0.1', 'sshd', 1795000000, -1, 1, NULL);"),
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

    #[test]
    fn uri_escapes_the_path() {
        assert_eq!(
            super::super::sqlite::uri(Path::new("/var/lib/fail2ban/fail2ban.sqlite3"), false),
            "file:///var/lib/fail2ban/fail2ban.sqlite3?mode=ro"
        );
        assert_eq!(
            super::super::sqlite::uri(Path::new("//x/a b?c#d%e"), true),
            "file:////x/a%20b%3Fc%23d%25e?immutable=1"
        );
        assert_eq!(
            super::super::sqlite::uri(Path::new("rel/f2b.db"), false),
            "file:rel/f2b.db?mode=ro"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = db(
            &dir,
            "odd name?#%.sqlite3",
            &format!("{V4_SCHEMA} INSERT INTO bips VALUES('104.16.0.1', 'sshd', 1795000000, -1, 1, NULL);"),
        );
        assert!(looks_like(&path));
        assert_eq!(run(&path, at(1_800_000_000)).unwrap().events.len(), 1);
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
}
