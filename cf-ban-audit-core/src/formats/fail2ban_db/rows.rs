//! The rows of fail2ban's tables, read into events: the current bans (`bips`) and the ban
//! history (`bans`), with their Unix times and ban times.

use chrono::{DateTime, Local, NaiveDateTime};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::{sql, Columns, Failure, DEFAULT_BANTIME};
use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::{quote, Format, ParseCtx, Sink};

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
pub(super) fn local((secs, nanos): (i64, u32)) -> Option<NaiveDateTime> {
    DateTime::from_timestamp(secs, nanos).map(|t| t.with_timezone(&Local).naive_local())
}

/// The end of a ban that started at `start` and lasts `seconds`.
fn end_of(start: (i64, u32), seconds: i64) -> Option<NaiveDateTime> {
    local((start.0.checked_add(seconds)?, start.1))
}

/// Text for a message, cut short.
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
    BanEvent::new(
        net,
        Tool::Fail2ban,
        Format::Fail2banDb,
        scope,
        action,
        Location::new(ctx.path.clone(), 0),
    )
    .at(time)
    .until(expires)
}

/// The current bans: `bips`.
pub(super) fn read_bips(
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
pub(super) fn read_bans(
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
