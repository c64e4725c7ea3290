//! `imunify360-agent ip-list local list` tables, read row by row from the right end (see the
//! parent module).

use std::path::Path;
use std::sync::Arc;

use super::{entry_event, header, note_if_cut, Entry, DROP_LISTS, NEEDED};
use crate::event::Location;
use crate::formats::{Format, LineParser, ParseCtx, Sink};

/// The parser of the table.
pub struct TableParser {
    path: Arc<Path>,
    /// The lists whose entries are read.
    lists: &'static [&'static str],
    /// Where the columns stand, once the header is read.
    columns: Option<Columns>,
    rows: usize,
}

/// The columns' distance from a row's end: `IP` (how many columns stand right of it), the
/// [`NEEDED`] ones, `CTIME`.
struct Columns {
    /// Every column but `COMMENT`, which may be empty, is one word at least.
    least_words: usize,
    count_right_of_ip: usize,
    from_end: [usize; 5],
    ctime: Option<usize>,
}

impl TableParser {
    /// A parser for one table.
    pub fn new(ctx: &ParseCtx) -> Self {
        TableParser {
            path: ctx.path.clone(),
            lists: DROP_LISTS,
            columns: None,
            rows: 0,
        }
    }

    /// A parser that reads the entries of `lists` instead of the drop list's (as `check`
    /// reads the white list).
    pub(crate) fn with_lists(ctx: &ParseCtx, lists: &'static [&'static str]) -> Self {
        let mut p = Self::new(ctx);
        p.lists = lists;
        p
    }
}

impl LineParser for TableParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let line = line.trim_ascii();
        if line.is_empty() {
            return;
        }
        let Some(columns) = &self.columns else {
            match header(line) {
                Some(names) => {
                    let n = names.len();
                    let at = |c: &str| names.iter().position(|x| *x == c).map(|i| n - 1 - i);
                    let ip = at("IP").unwrap_or(0);
                    self.columns = Some(Columns {
                        least_words: n - usize::from(names.contains(&"COMMENT")),
                        count_right_of_ip: ip,
                        from_end: NEEDED.map(|c| at(c).unwrap_or(0)),
                        ctime: at("CTIME").filter(|&c| c > ip),
                    });
                }
                None => sink.malformed(
                    lineno,
                    "not the header of an imunify360-agent ip-list table (IP, PURPOSE, \
                     NETMASK, NETWORK_ADDRESS, EXPIRATION)"
                        .into(),
                ),
            }
            return;
        };
        self.rows += 1;
        let Ok(text) = std::str::from_utf8(line) else {
            sink.malformed(lineno, "a row that is not UTF-8".into());
            return;
        };
        let words: Vec<&str> = text.split_ascii_whitespace().collect();
        if words.len() < columns.least_words || words.len() <= columns.count_right_of_ip {
            sink.malformed(lineno, "a row with fewer columns than its header".into());
            return;
        }
        let word = |from_end: usize| words[words.len() - 1 - from_end];
        let [ip, purpose, netmask, network, expiration] = columns.from_end.map(word);
        let entry = Entry {
            ip,
            list: purpose,
            netmask,
            network,
            ctime: columns.ctime.map(word),
            expiration,
        };
        match entry_event(
            self.lists,
            &entry,
            Format::Imunify360Table,
            Location::new(self.path.clone(), lineno),
        ) {
            Ok(Some(event)) => sink.event(event),
            Ok(None) => {}
            Err(why) => sink.malformed(lineno, why),
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        note_if_cut(self.rows, sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Tool;
    use crate::formats::imunify360::{detect_table, DROP_SCOPE};
    use crate::formats::test_support::run_lines;
    use std::path::Path;

    const HEADER: &str = "AUTO_WHITELISTED  COMMENT       COUNTRY  CTIME       DEEP  EXPIRATION  FULL_ACCESS  IMPORTED_FROM  IP           MANUAL  NETMASK     NETWORK_ADDRESS  PURPOSE  SCOPE  VERSION";

    #[test]
    fn drop_rows_are_bans_read_from_the_right() {
        // 104.16.0.1 = 1745879041; 172.64.0.0/16: netmask 4294901760, network 2889875456.
        let text = format!(
            "{HEADER}\n\
             False             one good IP  US       1715940270  None  0           None         None           11.22.33.44  True    4294967295  185999660        white    local  4\n\
             False             blocked by hand 1.2.3.4  US  1764000000  None  0  None  None  104.16.0.1  True  4294967295  1745879041  drop  local  4\n\
             False             sensor  None  1764000000  None  1764003600  None  None  172.64.0.0/16  False  4294901760  2889875456  drop  local  4\n"
        );
        let p = Path::new("/tmp/x");
        assert!(detect_table(p, text.as_bytes()));
        let c = run_lines(Format::Imunify360Table, "list.txt", &text);
        assert!(c.malformed.is_empty(), "{:?}", c.malformed);
        let got: Vec<(String, u64, bool)> = c
            .events
            .iter()
            .map(|e| (e.net.to_string(), e.location.line, e.expires.is_some()))
            .collect();
        assert_eq!(
            got,
            [
                ("104.16.0.1/32".into(), 3, false),
                ("172.64.0.0/16".into(), 4, true)
            ]
        );
        assert!(c
            .events
            .iter()
            .all(|e| e.tool == Tool::Imunify360 && e.scope == DROP_SCOPE));
        assert!(c.events[0].net.addr().is_ipv4());
    }

    #[test]
    fn a_row_whose_numbers_do_not_match_its_address_is_named() {
        let text = format!(
            "{HEADER}\n\
             False  x  US  1764000000  None  0  None  None  104.16.0.1  True  4294967295  185999660  drop  local  4\n\
             False  104.16.0.2  US  1764000000  None  0  None  None  drop\n"
        );
        let c = run_lines(Format::Imunify360Table, "list.txt", &text);
        assert!(c.events.is_empty());
        assert_eq!(c.malformed_lines(), [2, 3]);
    }
}
