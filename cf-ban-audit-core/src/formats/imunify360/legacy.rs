//! The legacy `imunify360-agent blacklist ip list` table (the documentation before the
//! `ip-list` commands, `cloudlinux/imunify360-documentation` at `0789b7a8^`,
//! `docs/command_line_interface/README.md`, "Blacklist"), whose one sample is:
//!
//! ```text
//! IP       TTL  COUNTRY  IMPORTED_FROM  COMMENT
//! 1.2.3.4
//! ```
//!
//! `IP` is the first column and `COMMENT`, which may hold spaces, the last: a row's first
//! word is its address, and nothing else of the row is read (the meaning of `TTL` is not
//! documented, so the entry is read as in force when the table was printed, with no end).
//! The legacy `whitelist ip list` prints the same header, and nothing in the table tells the
//! lists apart: a table is read only when its file's name says it is the black list (holds
//! `black`, and not `white` or `gr`). A row whose first word is no address is a malformed
//! line. `list` prints the first 100 rows unless `--limit` says otherwise: a table of exactly
//! 100 rows is noted as possibly cut.

use std::path::Path;
use std::sync::Arc;

use super::{note_if_cut, DROP_SCOPE};
use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::{Format, LineParser, ParseCtx, Sink};

/// The legacy table's header.
const HEADER: [&[u8]; 5] = [b"IP", b"TTL", b"COUNTRY", b"IMPORTED_FROM", b"COMMENT"];

/// Whether a line is the legacy header.
fn is_header(line: &[u8]) -> bool {
    line.split(u8::is_ascii_whitespace)
        .filter(|w| !w.is_empty())
        .eq(HEADER)
}

/// Whether a file's name says it holds the black list.
fn named_black(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.contains("black") && !name.contains("white") && !name.contains("gr")
}

/// Decides whether a file is the legacy `blacklist ip list` table: its first non-empty line
/// is the header, and its name says black list.
pub fn detect_legacy(path: &Path, head: &[u8]) -> bool {
    named_black(path)
        && head
            .split(|&b| b == b'\n')
            .find(|l| !l.trim_ascii().is_empty())
            .is_some_and(is_header)
}

/// The parser of the legacy table.
pub struct LegacyParser {
    path: Arc<Path>,
    header: bool,
    rows: usize,
}

impl LegacyParser {
    /// A parser for one table.
    pub fn new(ctx: &ParseCtx) -> Self {
        LegacyParser {
            path: ctx.path.clone(),
            header: false,
            rows: 0,
        }
    }
}

impl LineParser for LegacyParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if line.trim_ascii().is_empty() {
            return;
        }
        if !self.header {
            self.header = true;
            if !is_header(line) {
                sink.malformed(
                    lineno,
                    "not the header of imunify360-agent blacklist ip list (IP TTL COUNTRY \
                     IMPORTED_FROM COMMENT)"
                        .into(),
                );
            }
            return;
        }
        self.rows += 1;
        // A row starts with its address: a line that starts with a space is a row whose
        // IP column is empty (or a comment's continuation), never a ban.
        let first = line.split(u8::is_ascii_whitespace).next().unwrap_or(b"");
        match parse_net(first) {
            Some(net) => sink.event(
                BanEvent::new(
                    net,
                    Tool::Imunify360,
                    Format::Imunify360LegacyTable,
                    DROP_SCOPE,
                    Action::Listed,
                    Location::new(self.path.clone(), lineno),
                )
                .at(None),
            ),
            None => sink.malformed(
                lineno,
                "a blacklist ip list row that does not start with its IP".into(),
            ),
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        note_if_cut(self.rows, sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::run_lines;

    const TABLE: &str = "IP       TTL  COUNTRY  IMPORTED_FROM  COMMENT\n\
        1.2.3.4\n\
        104.16.0.1  None  US  None  one bad ip 198.51.100.9\n\
        \x20 104.16.0.2\n\
        nobody 104.16.0.3\n";

    #[test]
    fn first_word_of_each_row_of_a_black_list() {
        assert!(detect_legacy(
            Path::new("/tmp/blacklist.txt"),
            TABLE.as_bytes()
        ));
        for other in [
            "/tmp/whitelist.txt",
            "/tmp/list.txt",
            "/tmp/black-graylist.txt",
        ] {
            assert!(
                !detect_legacy(Path::new(other), TABLE.as_bytes()),
                "{other}"
            );
        }
        assert!(!detect_legacy(
            Path::new("/tmp/blacklist.txt"),
            b"1.2.3.4\n"
        ));
        let c = run_lines(Format::Imunify360LegacyTable, "blacklist.txt", TABLE);
        let got: Vec<String> = c.events.iter().map(|e| e.net.to_string()).collect();
        assert_eq!(got, ["1.2.3.4/32", "104.16.0.1/32"]);
        assert!(c
            .events
            .iter()
            .all(|e| e.scope == DROP_SCOPE && e.expires.is_none()));
        assert_eq!(c.malformed_lines(), [4, 5]);
    }
}
