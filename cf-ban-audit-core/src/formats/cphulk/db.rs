//! cPHulk's SQLite database `/var/cpanel/hulkd/cphulk.sqlite` (cPanel v62 and later), which
//! the scanner opens strictly read-only, read in one read transaction (`asmrdevelop/cpanel`,
//! 2022: `Cpanel/Hulk/Admin/DB.pm` creates the tables, `Cpanel/Hulk/Admin.pm` writes
//! `ip_lists`, `Cpanel/Hulkd/Processor.pm` and `Processor/DB.pm` write `login_track`,
//! `Cpanel/IP/Convert.pm` encodes the addresses, `Cpanel/Config/Hulk.pm` names the codes).
//!
//! Addresses are 16-byte strings, `Cpanel::IP::Convert::ip2bin16`: the address in IPv6 form,
//! an IPv4 address as its IPv4-mapped IPv6 address (`1.2.3.4` is
//! `\0\0\0\0\0\0\0\0\0\0\xff\xff\1\2\3\4`), bound as DBI strings (TEXT holding those bytes;
//! a BLOB is read the same). Any other length is malformed, never guessed.
//!
//! - `ip_lists(STARTADDRESS, ENDADDRESS, TYPE, COMMENT)`: each record a range of addresses
//!   (`ip_range_to_start_end_address`: an address is a range of one, a CIDR its first and last
//!   address, `a-b` as written). `TYPE` 2 (the black list) is a ban of the range: an
//!   [`Action::Listed`] event of [`Tool::Cphulk`] with scope `black` per CIDR block, the
//!   record as `whmapi1` names it kept as its spec (the address, the CIDR when the range is
//!   one block, else `a-b`), so that it is lifted with `whmapi1 delete_cphulk_record
//!   list_name=black ip=RECORD` as the `read_cphulk_records` listing's entries are. `TYPE`
//!   1 and 3 (the white and country white lists) ban nothing; `TYPE` 4 (the country black
//!   list, ranges cPanel fills from its country database) is counted in a note, not read as
//!   bans: its records name a country's ranges, not an address anyone banned.
//! - `login_track(USER, ADDRESS, SERVICE, TYPE, LOGINTIME, EXPTIME, NOTES, …)`: `TYPE` -3
//!   (excessive brute force: `_ip_based_brute_force_triggered` with `excessive_failures`,
//!   the one-day block, also written when a black-listed address or country tries to log in)
//!   and -2 (brute force from one address, for `ip_brute_force_period_sec`) block the
//!   `ADDRESS` itself: `_is_marked_as_brute` refuses every login from it while the row has
//!   not expired (580 and 550). Each is an [`Action::Ban`] with scope `excessive-brute` or
//!   `brute` from `LOGINTIME` until `EXPTIME` (`DATETIME(?, 'unixepoch', 'localtime')`:
//!   host local time), lifted with `whmapi1 flush_cphulk_login_history_for_ips ip=ADDRESS`
//!   (which also removes the `cphulk` chain's iptables rules of the address). `TYPE` -4
//!   (too many failures for one user of one service) blocks the user, not the address that
//!   tipped it; -1 (a failed login) and 1 (a good one) block nothing: none is read.
//!
//! `COMMENT`, `USER`, `NOTES` and the other text columns are never read for addresses.

use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;

use chrono::NaiveDateTime;
use ipnet::IpNet;
use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::BLACK_SCOPE;
use crate::addr::{host_net, normalize_ip, range_nets};
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::quote;
use crate::formats::sqlite::{column_names, is_busy, read_opened, table_exists, Database};
use crate::formats::{Format, ParseCtx, Sink};

/// The scope of a login_track block of `TYPE` -3 (excessive brute force, one day).
pub const EXCESSIVE_BRUTE_SCOPE: &str = "excessive-brute";
/// The scope of a login_track block of `TYPE` -2 (brute force from one address).
pub const BRUTE_SCOPE: &str = "brute";

/// `Cpanel::Config::Hulk`'s list types.
const BLACK_LIST_TYPE: i64 = 2;
const COUNTRY_BLACK_LIST_TYPE: i64 = 4;
/// `Cpanel::Config::Hulk`'s login types that block an address.
const LOGIN_TYPE_EXCESSIVE_BRUTE: i64 = -3;
const LOGIN_TYPE_BRUTE: i64 = -2;

/// How `DATETIME()` writes a time.
const DATETIME: &str = "%Y-%m-%d %H:%M:%S";

/// Whether `table` exists with every column in `needs`.
fn has_table(conn: &Connection, table: &str, needs: &[&str]) -> rusqlite::Result<bool> {
    if !table_exists(conn, table)? {
        return Ok(false);
    }
    let names = column_names(conn, table)?;
    Ok(needs
        .iter()
        .all(|c| names.iter().any(|n| n.eq_ignore_ascii_case(c))))
}

const IP_LISTS: [&str; 3] = ["STARTADDRESS", "ENDADDRESS", "TYPE"];
const LOGIN_TRACK: [&str; 5] = ["USER", "ADDRESS", "TYPE", "LOGINTIME", "EXPTIME"];

/// Whether a path is where cPHulk keeps its database.
fn hulk_path(path: &Path) -> bool {
    path.to_string_lossy().ends_with("hulkd/cphulk.sqlite")
}

/// Whether a SQLite file is cPHulk's database: it opened read-only and has `ip_lists` or
/// `login_track` with their columns. A file locked by its owner is one when it lies where
/// cPHulk keeps its database, so that [`read_database`] reports the lock.
pub fn looks_like_db(path: &Path, db: Database<'_>) -> bool {
    match db {
        Database::Open(conn) => {
            let found = has_table(conn, "ip_lists", &IP_LISTS)
                .and_then(|yes| Ok(yes || has_table(conn, "login_track", &LOGIN_TRACK)?));
            match found {
                Ok(found) => found,
                Err(e) => is_busy(&e) && hulk_path(path),
            }
        }
        Database::Busy => hulk_path(path),
        Database::Closed => false,
    }
}

/// Reads the black list and the address blocks of cPHulk's database the scanner opened (see
/// the [module documentation](self)). Rows that cannot be read are counted as malformed,
/// named by table and row; a database that could not be opened or has neither table is an
/// error naming what failed.
pub fn read_database(
    conn: Result<&Connection, rusqlite::Error>,
    ctx: &ParseCtx,
    sink: &mut dyn Sink,
) -> Result<(), String> {
    read_opened("cPHulk", "cphulkd", conn, |conn| read_db(conn, ctx, sink))
}

fn read_db(conn: &Connection, ctx: &ParseCtx, sink: &mut dyn Sink) -> Result<(), String> {
    let schema = |e: rusqlite::Error| describe("cannot read the schema", &e);
    let lists = has_table(conn, "ip_lists", &IP_LISTS).map_err(schema)?;
    let logins = has_table(conn, "login_track", &LOGIN_TRACK).map_err(schema)?;
    if !lists && !logins {
        return Err(
            "no table ip_lists or login_track with cPHulk's columns: not cPHulk's \
                    database"
                .into(),
        );
    }
    let location = Location::new(ctx.path.clone(), 0);
    if lists {
        read_lists(conn, &location, sink)?;
    }
    if logins {
        read_logins(conn, &location, sink)?;
    }
    Ok(())
}

/// The black list's records.
fn read_lists(conn: &Connection, location: &Location, sink: &mut dyn Sink) -> Result<(), String> {
    let what = |e: rusqlite::Error| describe("cannot read table ip_lists", &e);
    let mut stmt = conn
        .prepare(
            "SELECT rowid, STARTADDRESS, ENDADDRESS, TYPE FROM ip_lists \
             WHERE TYPE IN (2, 4) ORDER BY rowid",
        )
        .map_err(what)?;
    let mut rows = stmt.query([]).map_err(what)?;
    let mut country = 0usize;
    while let Some(row) = rows.next().map_err(what)? {
        let rowid: i64 = row.get(0).map_err(what)?;
        let kind = whole(row.get_ref(3).map_err(what)?);
        if kind == Some(COUNTRY_BLACK_LIST_TYPE) {
            country += 1;
            continue;
        }
        if kind != Some(BLACK_LIST_TYPE) {
            continue;
        }
        let (start, end) = (row.get_ref(1).map_err(what)?, row.get_ref(2).map_err(what)?);
        let record = match (bin16(start), bin16(end)) {
            (Some(start), Some(end)) => record(start, end),
            _ => None,
        };
        let Some((nets, spec)) = record else {
            sink.malformed(
                0,
                format!(
                    "ip_lists row {rowid}: not a range of two 16-byte addresses: {} - {}",
                    shown(start),
                    shown(end)
                ),
            );
            continue;
        };
        for net in nets {
            sink.event(
                BanEvent::new(
                    net,
                    Tool::Cphulk,
                    Format::CphulkDb,
                    BLACK_SCOPE,
                    Action::Listed,
                    location.clone(),
                )
                .spec(spec.clone()),
            );
        }
    }
    if country > 0 {
        sink.note(format!(
            "{country} range(s) of cPHulk's country black list: a country's ranges, not read \
             as bans"
        ));
    }
    Ok(())
}

/// The address blocks of `login_track`.
fn read_logins(conn: &Connection, location: &Location, sink: &mut dyn Sink) -> Result<(), String> {
    let what = |e: rusqlite::Error| describe("cannot read table login_track", &e);
    let mut stmt = conn
        .prepare(
            "SELECT rowid, ADDRESS, TYPE, LOGINTIME, EXPTIME FROM login_track \
             WHERE TYPE IN (-2, -3) ORDER BY rowid",
        )
        .map_err(what)?;
    let mut rows = stmt.query([]).map_err(what)?;
    while let Some(row) = rows.next().map_err(what)? {
        let rowid: i64 = row.get(0).map_err(what)?;
        let scope = match whole(row.get_ref(2).map_err(what)?) {
            Some(LOGIN_TYPE_EXCESSIVE_BRUTE) => EXCESSIVE_BRUTE_SCOPE,
            Some(LOGIN_TYPE_BRUTE) => BRUTE_SCOPE,
            _ => continue,
        };
        let address = row.get_ref(1).map_err(what)?;
        let Some(ip) = bin16(address) else {
            sink.malformed(
                0,
                format!(
                    "login_track row {rowid}: not a 16-byte address: {}",
                    shown(address)
                ),
            );
            continue;
        };
        let time = |i| row.get_ref(i).map(datetime).map_err(what);
        let (Some(since), Some(until)) = (time(3)?, time(4)?) else {
            sink.malformed(
                0,
                format!("login_track row {rowid}: LOGINTIME or EXPTIME is not a time"),
            );
            continue;
        };
        sink.event(
            BanEvent::new(
                host_net(IpAddr::V6(ip)),
                Tool::Cphulk,
                Format::CphulkDb,
                scope,
                Action::Ban,
                location.clone(),
            )
            .at(since)
            .until(until),
        );
    }
    Ok(())
}

/// A 16-byte address (`ip2bin16`), from TEXT or a BLOB.
fn bin16(value: ValueRef<'_>) -> Option<Ipv6Addr> {
    match value {
        ValueRef::Text(b) | ValueRef::Blob(b) => <[u8; 16]>::try_from(b).ok().map(Ipv6Addr::from),
        _ => None,
    }
}

/// The CIDR blocks of the record `start..=end` and the record as `whmapi1` names it: the
/// address, the CIDR when the range is one block, else `a-b` (IPv4-mapped ends as IPv4).
fn record(start: Ipv6Addr, end: Ipv6Addr) -> Option<(Vec<IpNet>, String)> {
    let (start, end) = (
        normalize_ip(IpAddr::V6(start)),
        normalize_ip(IpAddr::V6(end)),
    );
    let nets = range_nets(start, end)?;
    let spec = match nets.as_slice() {
        [net] if start == end => net.addr().to_string(),
        [net] => net.to_string(),
        _ => format!("{start}-{end}"),
    };
    Some((nets, spec))
}

/// A time as `DATETIME()` writes it.
fn datetime(value: ValueRef<'_>) -> Option<NaiveDateTime> {
    match value {
        ValueRef::Text(b) => {
            NaiveDateTime::parse_from_str(std::str::from_utf8(b).ok()?.trim(), DATETIME).ok()
        }
        _ => None,
    }
}

/// A whole number from an INTEGER or a number in TEXT.
fn whole(value: ValueRef<'_>) -> Option<i64> {
    match value {
        ValueRef::Integer(n) => Some(n),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// A value as a message shows it: bytes in hex, text quoted.
fn shown(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(b) | ValueRef::Blob(b) => match std::str::from_utf8(b) {
            Ok(text) if !text.chars().any(char::is_control) => quote(b),
            _ => format!(
                "x'{}' ({} bytes)",
                b.iter().map(|x| format!("{x:02x}")).collect::<String>(),
                b.len()
            ),
        },
    }
}

/// A message naming what failed and why, in words.
fn describe(what: &str, e: &rusqlite::Error) -> String {
    crate::formats::sqlite::describe(what, "cphulkd", e)
}

#[cfg(test)]
#[path = "db_tests.rs"]
mod tests;
