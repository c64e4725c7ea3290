//! `v-list-firewall-ban shell|csv|plain` output (see the parent module): the `shell` table
//! (`column -t` over a header, a line of dashes and `$IP $CHAIN $TIME $DATE` rows), the
//! `csv` rows under `IP,CHAIN,TIME,DATE`, and the `plain` tab-separated rows. Every row must
//! have its four fields in place (the `shell` table two, when an entry has no `TIME` and
//! `DATE`), an IPv4 address or CIDR first, a chain name second, `%T` and `%F` after: a row
//! shifted or cut is a malformed line, never a ban.

use std::path::Path;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveTime};

use super::{chain, entry_event, ipv4_net};
use crate::event::Location;
use crate::formats::{Format, LineParser, ParseCtx, Sink};

/// The `shell` header's words, and the dashes under them.
const SHELL_HEADER: [&str; 4] = ["IP", "CHAIN", "TIME", "DATE"];
const SHELL_DASHES: [&str; 4] = ["--", "-----", "----", "----"];
/// The `csv` header.
const CSV_HEADER: &[u8] = b"IP,CHAIN,TIME,DATE";

/// Which of the three outputs a listing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Shell,
    Csv,
    Plain,
}

/// Whether a line's words are exactly `words`.
fn words_are(line: &[u8], words: &[&str; 4]) -> bool {
    line.split(u8::is_ascii_whitespace)
        .filter(|w| !w.is_empty())
        .eq(words.iter().map(|w| w.as_bytes()))
}

/// The shape a listing's first non-empty line says it is.
fn shape_of(first: &[u8]) -> Shape {
    let first = first.trim_ascii();
    if words_are(first, &SHELL_HEADER) {
        Shape::Shell
    } else if first == CSV_HEADER {
        Shape::Csv
    } else {
        Shape::Plain
    }
}

/// A `TIME` (`%T`) or `DATE` (`%F`) field: empty, or valid.
fn time_field_ok(text: &[u8], date: bool) -> bool {
    let Ok(text) = std::str::from_utf8(text) else {
        return false;
    };
    text.is_empty()
        || if date {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
        } else {
            NaiveTime::parse_from_str(text, "%H:%M:%S").is_ok()
        }
}

/// A row's four fields (`TIME` and `DATE` possibly empty), or why it is no row of `shape`.
fn row_fields(shape: Shape, line: &[u8]) -> Result<[&[u8]; 4], String> {
    let fields: Vec<&[u8]> = match shape {
        Shape::Shell => line
            .split(u8::is_ascii_whitespace)
            .filter(|w| !w.is_empty())
            .collect(),
        Shape::Csv => line.trim_ascii_end().split(|&b| b == b',').collect(),
        Shape::Plain => line
            .strip_suffix(b"\r")
            .unwrap_or(line)
            .split(|&b| b == b'\t')
            .collect(),
    };
    let fields: [&[u8]; 4] = match (shape, fields.as_slice()) {
        (_, [ip, chain, time, date]) => [ip, chain, time, date],
        (Shape::Shell, [ip, chain]) => [ip, chain, b"", b""],
        _ => {
            return Err(format!(
            "not a v-list-firewall-ban {} row: {} fields where IP, CHAIN, TIME and DATE are four",
            match shape {
                Shape::Shell => "shell",
                Shape::Csv => "csv",
                Shape::Plain => "plain",
            },
            fields.len()
        ))
        }
    };
    if !time_field_ok(fields[2], false) || !time_field_ok(fields[3], true) {
        return Err(format!(
            "TIME {:?} or DATE {:?} is not as v-add-firewall-ban writes them (%T, %F)",
            String::from_utf8_lossy(fields[2]),
            String::from_utf8_lossy(fields[3])
        ));
    }
    Ok(fields)
}

/// A field, `None` when empty.
fn non_empty(field: &[u8]) -> Option<&[u8]> {
    (!field.is_empty()).then_some(field)
}

/// Whether a line is a whole valid row of `shape` (address and chain included).
fn is_row(shape: Shape, line: &[u8]) -> bool {
    row_fields(shape, line).is_ok_and(|f| ipv4_net(f[0]).is_ok() && chain(f[1]).is_ok())
}

/// Whether the rows after a header are none, or hold at least one whole row.
fn rows_or_none<'a>(shape: Shape, mut rows: impl Iterator<Item = &'a [u8]>) -> bool {
    let mut any = false;
    for row in rows.by_ref() {
        if is_row(shape, row) {
            return true;
        }
        any = true;
    }
    !any
}

/// Decides whether a file is `v-list-firewall-ban shell|csv|plain` output: it opens with the
/// `shell` header and its dashes, or the `csv` header, followed by nothing or by at least one
/// whole row (other rows are then read as malformed lines, named, so that a listing with a
/// damaged row is not skipped or taken for a list of another kind); or, `plain`, which has no
/// header, every line of the head (blank ones aside, and the last when the head cut it) is a
/// whole tab-separated row with its `TIME` and `DATE`.
pub fn detect_listing(_path: &Path, head: &[u8]) -> bool {
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    if lines.len() > 1 && !head.ends_with(b"\n") {
        lines.pop();
    }
    let mut lines = lines.into_iter().filter(|l| !l.trim_ascii().is_empty());
    let Some(first) = lines.next() else {
        return false;
    };
    match shape_of(first) {
        Shape::Shell => {
            lines.next().is_some_and(|l| words_are(l, &SHELL_DASHES))
                && rows_or_none(Shape::Shell, lines)
        }
        Shape::Csv => rows_or_none(Shape::Csv, lines),
        Shape::Plain => std::iter::once(first).chain(lines).all(|l| {
            is_row(Shape::Plain, l) && row_fields(Shape::Plain, l).is_ok_and(|f| !f[3].is_empty())
        }),
    }
}

/// The parser of `v-list-firewall-ban shell|csv|plain` output: the first non-empty line
/// says which.
pub struct ListingParser {
    path: Arc<Path>,
    shape: Option<Shape>,
}

impl ListingParser {
    /// A parser for one listing.
    pub fn new(ctx: &ParseCtx) -> Self {
        ListingParser {
            path: ctx.path.clone(),
            shape: None,
        }
    }
}

impl LineParser for ListingParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if line.trim_ascii().is_empty() {
            return;
        }
        let shape = match self.shape {
            Some(shape) => shape,
            None => {
                let shape = shape_of(line);
                self.shape = Some(shape);
                if shape != Shape::Plain {
                    return;
                }
                shape
            }
        };
        if shape == Shape::Shell && words_are(line, &SHELL_DASHES) {
            return;
        }
        let event = row_fields(shape, line).and_then(|[ip, chain, time, date]| {
            entry_event(
                ip,
                chain,
                non_empty(date),
                non_empty(time),
                Format::HestiaBanListing,
                Location::new(self.path.clone(), lineno),
            )
        });
        match event {
            Ok(event) => sink.event(event),
            Err(why) => sink.malformed(lineno, why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::run_lines;

    const SHELL: &str = "IP              CHAIN     TIME      DATE\n\
        --              -----     ----      ----\n\
        203.0.113.7     SSH       14:02:11  2025-03-09\n\
        104.16.0.1      WEB       14:05:00  2025-03-09\n\
        172.64.0.0/13   RECIDIVE\n";
    const CSV: &str = "IP,CHAIN,TIME,DATE\n203.0.113.7,SSH,14:02:11,2025-03-09\n104.16.0.1,WEB,14:05:00,2025-03-09\n172.64.0.0/13,RECIDIVE,,\n";
    const PLAIN: &str = "203.0.113.7\tSSH\t14:02:11\t2025-03-09\n104.16.0.1\tWEB\t14:05:00\t2025-03-09\n172.64.0.0/13\tRECIDIVE\t15:00:00\t2025-03-10\n";

    fn got(text: &str) -> Vec<(String, String, u64, bool)> {
        let c = run_lines(Format::HestiaBanListing, "bans.txt", text);
        assert!(c.malformed.is_empty(), "{:?}", c.malformed);
        c.events
            .iter()
            .map(|e| {
                (
                    e.net.to_string(),
                    e.scope.clone(),
                    e.location.line,
                    e.time.is_some(),
                )
            })
            .collect()
    }

    #[test]
    fn every_shape_is_read() {
        let p = Path::new("/tmp/x");
        for (text, first) in [(SHELL, 3), (CSV, 2), (PLAIN, 1)] {
            assert!(detect_listing(p, text.as_bytes()), "{text}");
            let rows = got(text);
            assert_eq!(rows.len(), 3, "{text}");
            assert_eq!(
                rows[1],
                (
                    "104.16.0.1/32".into(),
                    "fail2ban-WEB".into(),
                    first + 1,
                    true
                )
            );
            assert_eq!(rows[2].1, "fail2ban-RECIDIVE");
        }
        // TIME and DATE become the entry's time.
        let c = run_lines(Format::HestiaBanListing, "bans.txt", CSV);
        assert_eq!(
            c.events[0].time,
            Some("2025-03-09T14:02:11".parse().unwrap())
        );
    }

    #[test]
    fn other_text_is_no_listing() {
        let p = Path::new("/tmp/x");
        // A header alone, without the dashes, or rows that are not rows.
        assert!(!detect_listing(
            p,
            b"IP CHAIN TIME DATE\n104.16.0.1 WEB 14:05:00 2025-03-09\n"
        ));
        assert!(!detect_listing(
            p,
            b"IP,CHAIN,TIME,DATE\n104.16.0.1,WEB,now,today\n"
        ));
        // With one whole row, the others are read (and named).
        assert!(detect_listing(
            p,
            b"IP,CHAIN,TIME,DATE\n104.16.0.1,WEB,now,today\n198.51.100.7,SSH,,\n"
        ));
        assert!(detect_listing(p, b"IP,CHAIN,TIME,DATE\n"));
        // A plain list of addresses, or tab-separated text of another kind.
        assert!(!detect_listing(p, b"104.16.0.1\n198.51.100.7\n"));
        assert!(!detect_listing(p, b"104.16.0.1\tWEB\tx\ty\n"));
        assert!(!detect_listing(p, b"104.16.0.1\tWEB\t\t\n"));
        assert!(!detect_listing(p, b""));
        // The ban list and the JSON listing are not this.
        assert!(!detect_listing(
            p,
            b"IP='203.0.113.7' CHAIN='SSH' TIME='14:02:11' DATE='2025-03-09'\n"
        ));
    }

    #[test]
    fn shifted_rows_are_named_never_read() {
        let text = "IP,CHAIN,TIME,DATE\n\
            198.51.100.7,WEB,14:02:11,2025-03-09\n\
            198.51.100.8,WEB,104.16.0.1,2025-03-09\n\
            198.51.100.9,WEB 104.16.0.1,14:02:11,2025-03-09\n\
            198.51.100.10,WEB,14:02:11,2025-03-09,104.16.0.1\n\
            2606:4700::1,WEB,14:02:11,2025-03-09\n";
        let c = run_lines(Format::HestiaBanListing, "bans.csv", text);
        let addresses: Vec<String> = c.events.iter().map(|e| e.net.to_string()).collect();
        assert_eq!(addresses, ["198.51.100.7/32"]);
        assert_eq!(c.malformed_lines(), [3, 4, 5, 6]);
        let shell = "IP  CHAIN  TIME  DATE\n--  -----  ----  ----\n198.51.100.7  WEB  104.16.0.1\n";
        let c = run_lines(Format::HestiaBanListing, "bans.txt", shell);
        assert!(c.events.is_empty());
        assert_eq!(c.malformed_lines(), [3]);
    }
}
