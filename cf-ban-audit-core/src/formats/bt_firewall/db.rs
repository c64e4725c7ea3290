//! The panel's own SQLite database (`data/default.db`, or `data/db/firewall.db`), which the
//! scanner opens strictly read-only, read in one read transaction: the tables `firewall_ip`,
//! `firewall_new` and the legacy `firewall`, each row a [`Rule`] (see the [module
//! documentation](super)). Rows carry no line: a problem names the table and the row's `id`.

use std::borrow::Cow;
use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::{other_chain_note, Outcome, Rule};
use crate::event::Location;
use crate::formats::grammar::entry::parse_entry;
use crate::formats::sqlite::{column, column_names, is_busy, read_opened, table_exists, Database};
use crate::formats::{Format, ParseCtx, Sink};

/// A table of the panel's firewall and the columns that make it one.
struct Table {
    name: &'static str,
    needs: &'static [&'static str],
}

/// The tables read, in order: address rules, port rules, the legacy table.
const TABLES: [Table; 3] = [
    Table {
        name: "firewall_ip",
        needs: &["types", "address", "addtime"],
    },
    Table {
        name: "firewall_new",
        needs: &["types", "address", "ports", "addtime"],
    },
    Table {
        name: "firewall",
        needs: &["port", "ps", "addtime"],
    },
];

/// Whether `table` exists with every column it needs (`Ok(false)` when it does not).
fn has_table(conn: &Connection, table: &Table) -> rusqlite::Result<bool> {
    if !table_exists(conn, table.name)? {
        return Ok(false);
    }
    let names = column_names(conn, table.name)?;
    Ok(table
        .needs
        .iter()
        .all(|c| names.iter().any(|n| n.eq_ignore_ascii_case(c))))
}

/// Whether a path is where the panel keeps its database.
fn panel_path(path: &Path) -> bool {
    let text = path.to_string_lossy();
    text.ends_with("panel/data/default.db") || text.ends_with("panel/data/db/firewall.db")
}

/// Whether a SQLite file is the panel's database: it opened read-only and has one of the
/// firewall's tables with its columns. A file locked by its owner is one when it lies where
/// the panel keeps its database, so that [`read_database`] reports the lock.
pub fn looks_like_db(path: &Path, db: Database<'_>) -> bool {
    match db {
        Database::Open(conn) => {
            for table in &TABLES {
                match has_table(conn, table) {
                    Ok(true) => return true,
                    Ok(false) => {}
                    Err(e) => return is_busy(&e) && panel_path(path),
                }
            }
            false
        }
        Database::Busy => panel_path(path),
        Database::Closed => false,
    }
}

/// Reads the firewall tables of the panel's database the scanner opened: each drop rule an
/// [`Action::Listed`](crate::Action::Listed) event per banned network (see the [module
/// documentation](super)). Rows that cannot be read are counted as malformed, named by
/// table and `id`; a database that could not be opened or holds none of the tables is an
/// error naming what failed.
pub fn read_database(
    conn: Result<&Connection, rusqlite::Error>,
    ctx: &ParseCtx,
    sink: &mut dyn Sink,
) -> Result<(), String> {
    read_opened("BT panel", "the BT panel", conn, |conn| {
        read_db(conn, ctx, sink)
    })
}

fn read_db(conn: &Connection, ctx: &ParseCtx, sink: &mut dyn Sink) -> Result<(), String> {
    let schema = |e: rusqlite::Error| describe("cannot read the schema", &e);
    let mut found = false;
    let mut other_chain = 0;
    for table in &TABLES {
        if !has_table(conn, table).map_err(schema)? {
            continue;
        }
        found = true;
        let names = column_names(conn, table.name).map_err(schema)?;
        other_chain += read_table(conn, table.name, &names, ctx, sink)?;
    }
    if !found {
        return Err(
            "no table firewall_ip, firewall_new or firewall with the panel's columns: \
                    not the panel's database"
                .into(),
        );
    }
    if other_chain > 0 {
        sink.note(other_chain_note(other_chain));
    }
    Ok(())
}

/// Reads one table's rows; returns how many were drop rules of another chain.
fn read_table(
    conn: &Connection,
    table: &str,
    names: &[String],
    ctx: &ParseCtx,
    sink: &mut dyn Sink,
) -> Result<usize, String> {
    let legacy = table == "firewall";
    let query = if legacy {
        format!(
            "SELECT {}, {}, port, {}, addtime, NULL FROM firewall ORDER BY rowid",
            column(names, "id"),
            column(names, "types"),
            column(names, "address_ip"),
        )
    } else {
        format!(
            "SELECT {}, types, address, {}, addtime, {} FROM {table} ORDER BY rowid",
            column(names, "id"),
            column(names, "ports"),
            column(names, "chain"),
        )
    };
    let what = |e: rusqlite::Error| describe(&format!("cannot read table {table}"), &e);
    let mut stmt = conn.prepare(&query).map_err(what)?;
    let mut rows = stmt.query([]).map_err(what)?;
    let location = Location::new(ctx.path.clone(), 0);
    let mut other_chain = 0;
    while let Some(row) = rows.next().map_err(what)? {
        let get = |i| row.get_ref(i).map(text).map_err(what);
        // The legacy table's third and fourth columns are `port` and `address_ip`.
        let (id, types, address, ports, addtime, chain) =
            (get(0)?, get(1)?, get(2)?, get(3)?, get(4)?, get(5)?);
        let label = format!("{table} row {}: ", id.as_deref().unwrap_or("?"));
        let rule = if legacy {
            match legacy_rule(types.as_deref(), address.as_deref(), ports.as_deref()) {
                Some(rule) => rule,
                None => continue,
            }
        } else {
            Rule {
                types: types.as_deref(),
                address: address.as_deref(),
                ports: ports.as_deref().is_some_and(|p| !p.trim().is_empty()),
                chain: chain.as_deref(),
                addtime: None,
            }
        };
        let rule = Rule {
            addtime: addtime.as_deref(),
            ..rule
        };
        if rule.events(Format::BtFirewallDb, &location, &label, true, sink) == Outcome::OtherChain {
            other_chain += 1;
        }
    }
    Ok(other_chain)
}

/// A row of the legacy `firewall` table as a rule: `port` holds a blocked address (as
/// `AddDropAddress` writes it, with no `types`) or an accepted port; `address_ip` holds the
/// source of a port rule whose `types` is `accept` or `reject`. `None` for an accepted port.
fn legacy_rule<'a>(
    types: Option<&'a str>,
    port: Option<&'a str>,
    address_ip: Option<&'a str>,
) -> Option<Rule<'a>> {
    if let Some(source) = address_ip.filter(|a| !a.trim().is_empty()) {
        return Some(Rule {
            types,
            address: Some(source),
            ports: true,
            ..Rule::default()
        });
    }
    let port = port?.trim();
    parse_entry(port.as_bytes())?;
    // An address in `port`: a block, unless the row says it allows.
    let types = match types.map(str::trim) {
        None | Some("") => Some("drop"),
        other => other,
    };
    Some(Rule {
        types,
        address: Some(port),
        ..Rule::default()
    })
}

/// A value as text: TEXT (or BLOB) as it is, numbers written out, NULL as none.
fn text(value: ValueRef<'_>) -> Option<Cow<'_, str>> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(Cow::Owned(n.to_string())),
        ValueRef::Real(f) => Some(Cow::Owned(f.to_string())),
        ValueRef::Text(b) | ValueRef::Blob(b) => Some(String::from_utf8_lossy(b)),
    }
}

/// A message naming what failed and why, in words.
fn describe(what: &str, e: &rusqlite::Error) -> String {
    crate::formats::sqlite::describe(what, "the BT panel", e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::{ctx, Collect};
    use crate::Action;

    /// The tables as the panel creates them (`Sqlite.create_table`, `config/databases.json`,
    /// and the later ALTERs).
    const SCHEMA: &str = r#"
        CREATE TABLE "firewall_ip" (
                "id" INTEGER PRIMARY KEY AUTOINCREMENT,
                "types" TEXT,
                "address" TEXT DEFAULT '',
                "brief" TEXT DEFAULT '',
                "addtime" TEXT DEFAULT '');
        ALTER TABLE "firewall_ip" ADD "sid"  int DEFAULT 0;
        ALTER TABLE "firewall_ip" ADD "domain" TEXT DEFAULT "";
        ALTER TABLE "firewall_ip" ADD "chain" TEXT DEFAULT "";
        CREATE TABLE "firewall_new" (
                "id" INTEGER PRIMARY KEY AUTOINCREMENT,
                "protocol" TEXT DEFAULT '',
                "ports" TEXT,
                "types" TEXT,
                "address" TEXT DEFAULT '',
                "brief" TEXT DEFAULT '',
                "addtime" TEXT DEFAULT '');
        CREATE TABLE `firewall` (
          `id` INTEGER PRIMARY KEY AUTOINCREMENT,
          `port` TEXT,
          `ps` TEXT,
          `addtime` TEXT);
        ALTER TABLE firewall ADD ports TEXT;
        ALTER TABLE firewall ADD protocol TEXT;
        ALTER TABLE firewall ADD address_ip TEXT;
        ALTER TABLE firewall ADD types TEXT;
    "#;

    fn read(sql: &str) -> Collect {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch(SCHEMA).unwrap();
        db.execute_batch(sql).unwrap();
        let mut sink = Collect::default();
        read_database(Ok(&db), &ctx("default.db"), &mut sink).unwrap();
        sink
    }

    fn bans(c: &Collect) -> Vec<(String, String, Option<String>)> {
        c.events
            .iter()
            .map(|e| (e.net.to_string(), e.scope.clone(), e.spec.clone()))
            .collect()
    }

    #[test]
    fn drop_rows_of_every_table_are_bans_and_briefs_are_not() {
        let c = read(
            "INSERT INTO firewall_ip (types, address, brief, addtime, chain) VALUES
               ('drop', '104.16.0.1', '172.64.0.1', '2026-11-20 10:00:00', 'INPUT'),
               ('accept', '173.245.48.0/20', 'cloudflare', '2026-11-20 10:00:00', ''),
               ('drop', '162.158.0.1-162.158.0.2', '', '', ''),
               ('drop', '2606:4700::/32', '', '2026-11-20 10:00:00', 'OUTPUT'),
               ('drop', 'host.example', '104.16.0.2', '', '');
             INSERT INTO firewall_new (protocol, ports, types, address, brief, addtime) VALUES
               ('tcp', '443', 'drop', '172.64.1.1', '', '2026-11-20 10:00:00'),
               ('tcp', '22', 'drop', '', '104.16.0.3', ''),
               ('tcp', '80', 'accept', '', '', '');
             INSERT INTO firewall (port, ps, addtime) VALUES
               ('80', '104.16.0.4', '2026-01-01 00:00:00'),
               ('39000:40000', '', ''),
               ('141.101.64.0/24', 'bad bots', '2026-11-20 10:00:00');
             INSERT INTO firewall (port, protocol, address_ip, types, ps, addtime) VALUES
               ('8080', 'tcp', '108.162.192.5', 'reject', '', ''),
               ('8081', 'tcp', '108.162.192.6', 'accept', '', '');",
        );
        assert_eq!(
            bans(&c),
            [
                (
                    "104.16.0.1/32".into(),
                    "ip_rule".into(),
                    Some("104.16.0.1".into())
                ),
                (
                    "162.158.0.1/32".into(),
                    "ip_rule".into(),
                    Some("162.158.0.1-162.158.0.2".into())
                ),
                (
                    "162.158.0.2/32".into(),
                    "ip_rule".into(),
                    Some("162.158.0.1-162.158.0.2".into())
                ),
                (
                    "172.64.1.1/32".into(),
                    "port_rule".into(),
                    Some("172.64.1.1".into())
                ),
                (
                    "141.101.64.0/24".into(),
                    "ip_rule".into(),
                    Some("141.101.64.0/24".into())
                ),
                (
                    "108.162.192.5/32".into(),
                    "port_rule".into(),
                    Some("108.162.192.5".into())
                ),
            ]
        );
        assert!(c.events.iter().all(|e| e.action == Action::Listed
            && e.format == Format::BtFirewallDb
            && e.tool == crate::Tool::BtFirewall));
        assert_eq!(c.events[0].time.unwrap().to_string(), "2026-11-20 10:00:00");
        assert_eq!(c.events[1].time, None);
        assert_eq!(c.malformed.len(), 1, "{:?}", c.malformed);
        assert!(c.malformed[0]
            .1
            .starts_with("firewall_ip row 5: not an address"));
        assert_eq!(c.notes, [other_chain_note(1)]);
    }

    #[test]
    fn detection_asks_for_the_tables_and_their_columns() {
        let db = Connection::open_in_memory().unwrap();
        let p = Path::new("/tmp/x.db");
        assert!(!looks_like_db(p, Database::Open(&db)));
        db.execute_batch("CREATE TABLE firewall (id INTEGER, port TEXT);")
            .unwrap();
        assert!(!looks_like_db(p, Database::Open(&db)));
        db.execute_batch(
            "ALTER TABLE firewall ADD ps TEXT; ALTER TABLE firewall ADD addtime TEXT;",
        )
        .unwrap();
        assert!(looks_like_db(p, Database::Open(&db)));
        let other = Connection::open_in_memory().unwrap();
        other.execute_batch(SCHEMA).unwrap();
        assert!(looks_like_db(p, Database::Open(&other)));
        assert!(looks_like_db(
            Path::new("/www/server/panel/data/default.db"),
            Database::Busy
        ));
        assert!(!looks_like_db(p, Database::Busy));
        let mut sink = Collect::default();
        let empty = Connection::open_in_memory().unwrap();
        let err = read_database(Ok(&empty), &ctx("default.db"), &mut sink).unwrap_err();
        assert!(err.contains("not the panel's database"), "{err}");
    }
}
