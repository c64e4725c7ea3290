//! The human (table) output of `cscli decisions list` ([`Format::CrowdsecTable`]).
//!
//! cscli draws the table with a library: olekukonko/tablewriter up to 1.3 (upper-case
//! headers, long text wrapped onto continuation lines), aquasecurity/table in 1.4 and 1.5, and
//! go-pretty (through `cstable`) from 1.6 (cells wrapped at 60 columns). Without colours all
//! draw `+---+` rules and `|` borders; with colours (`cscli` on a terminal, or `color: yes`)
//! they draw rounded box characters (`╭─┬╮ │ ├┼┤ ╰┴╯`) and ANSI escapes. Every form is read:
//! escapes are dropped and box characters taken for their ASCII counterparts.
//!
//! Columns are found from the first rule line (the positions of its `+`), so that a `|` inside
//! a cell (a reason) is never taken for a border; a row whose borders are not at those
//! positions (wide characters) is split at its `|` when it has exactly one per border, and is
//! otherwise malformed. Columns are read by their header name (`ID`, `Source`, `Scope:Value`,
//! `Reason`, `Action`, `expiration`, and an optional `Machine`, in any case). A row with an
//! empty `ID` and `Scope:Value` continues the cells of the row before (wrapped text).

use super::decision::{truncate, Decision, Emitter};
use crate::formats::{quote, Format, LineParser, ParseCtx, Sink};

/// Drops ANSI escape sequences and maps box-drawing characters to `+`, `-` and `|`, into
/// `buf`; a line of plain ASCII without escapes is returned as it is, without copying.
fn normalize<'a>(line: &'a [u8], buf: &'a mut Vec<u8>) -> &'a [u8] {
    if line.is_ascii() && !line.contains(&0x1b) {
        return line;
    }
    buf.clear();
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if b == 0x1b {
            // CSI: ESC [ parameters, final byte 0x40..=0x7e.
            i += 1;
            if line.get(i) == Some(&b'[') {
                i += 1;
                while i < line.len() && !(0x40..=0x7e).contains(&line[i]) {
                    i += 1;
                }
            }
            i += 1;
            continue;
        }
        // Box drawing: U+2500..U+257F, encoded E2 94 80..E2 95 BF.
        if b == 0xe2 && matches!(line.get(i + 1), Some(0x94 | 0x95)) {
            if let Some(&c) = line.get(i + 2) {
                let code = 0x2500 + (u32::from(line[i + 1] - 0x94) << 6) + u32::from(c & 0x3f);
                let ascii = match code {
                    0x2500 | 0x2501 | 0x2550 => Some(b'-'),
                    0x2502 | 0x2503 | 0x2551 => Some(b'|'),
                    0x250c..=0x254b | 0x2552..=0x256c | 0x256d..=0x2570 => Some(b'+'),
                    _ => None,
                };
                if let Some(a) = ascii {
                    buf.push(a);
                    i += 3;
                    continue;
                }
            }
        }
        buf.push(b);
        i += 1;
    }
    buf
}

/// A rule line: `+` then `-` and `+` only, ending in `+`.
fn is_rule(line: &[u8]) -> bool {
    line.len() >= 2
        && line.starts_with(b"+")
        && line.ends_with(b"+")
        && line.iter().all(|&b| b == b'+' || b == b'-')
}

/// A row line: between `|` borders.
fn is_row(line: &[u8]) -> bool {
    line.len() >= 2 && line.starts_with(b"|") && line.ends_with(b"|")
}

/// The cells of a row, split at the column positions `seps` (character positions of the
/// rule's `+`), else at its `|` when it has exactly one per border; `None` when neither fits.
fn split_row<'a>(line: &'a [u8], seps: &[usize], cells: &mut Vec<&'a [u8]>) -> Option<()> {
    cells.clear();
    let mut chars = 0;
    let mut next = 0;
    let mut start = 0;
    for (i, &b) in line.iter().enumerate() {
        if b & 0xc0 == 0x80 {
            continue; // a UTF-8 continuation byte: same character
        }
        if seps.get(next) == Some(&chars) {
            if b != b'|' {
                break;
            }
            if next > 0 {
                cells.push(&line[start..i]);
            }
            start = i + 1;
            next += 1;
        }
        chars += 1;
    }
    if next == seps.len() && start == line.len() && !seps.is_empty() {
        return Some(());
    }
    cells.clear();
    if memchr::memchr_iter(b'|', line).count() != seps.len() {
        return None;
    }
    cells.extend(line[1..line.len() - 1].split(|&b| b == b'|'));
    Some(())
}

/// The columns a decision is read from, by header name.
#[derive(Debug, Default)]
struct Columns {
    count: usize,
    id: Option<usize>,
    source: Option<usize>,
    target: usize,
    reason: Option<usize>,
    action: Option<usize>,
    expiration: Option<usize>,
    alert: Option<usize>,
}

impl Columns {
    /// Reads a header row: `Scope:Value`, `Action` and `expiration` must be there.
    fn from_header(cells: &[&[u8]]) -> Option<Columns> {
        let find = |name: &[u8]| {
            cells
                .iter()
                .position(|c| c.trim_ascii().eq_ignore_ascii_case(name))
        };
        let columns = Columns {
            count: cells.len(),
            id: find(b"ID"),
            source: find(b"Source"),
            target: find(b"Scope:Value")?,
            reason: find(b"Reason"),
            action: Some(find(b"Action")?),
            expiration: Some(find(b"expiration")?),
            alert: find(b"Alert ID"),
        };
        Some(columns)
    }
}

/// Whether the first bytes of a file are a `cscli decisions list` table: the first non-empty
/// line is a rule, the next a header row naming `Scope:Value`, `Action` and `expiration`, and
/// every non-empty line is a rule or a row (a last line without its line break may have been
/// cut by the head and is not judged).
pub(super) fn looks_like_table(head: &[u8]) -> bool {
    let judged = match memchr::memrchr(b'\n', head) {
        Some(last) if last + 1 < head.len() => &head[..last],
        _ => head,
    };
    let mut buf = Vec::new();
    let mut n = 0;
    for line in judged.split(|&b| b == b'\n') {
        let line = normalize(line, &mut buf).trim_ascii();
        if line.is_empty() {
            continue;
        }
        let ok = match n {
            0 => is_rule(line),
            1 => {
                is_row(line) && {
                    let cells: Vec<&[u8]> = line[1..line.len() - 1].split(|&b| b == b'|').collect();
                    Columns::from_header(&cells).is_some()
                }
            }
            _ => is_rule(line) || is_row(line),
        };
        if !ok {
            return false;
        }
        n += 1;
    }
    n >= 2
}

/// A row being read (it may continue on the next lines).
struct Row {
    line: u64,
    cells: Vec<String>,
}

/// The parser of `cscli decisions list` tables ([`Format::CrowdsecTable`]); see the
/// [module documentation](self).
pub struct CrowdsecTableParser {
    emit: Emitter,
    buf: Vec<u8>,
    /// Character positions of the borders, from the first rule line.
    seps: Vec<usize>,
    columns: Option<Columns>,
    /// The header was not that of a decisions table: nothing more is read.
    refused: bool,
    pending: Option<Row>,
}

impl CrowdsecTableParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        CrowdsecTableParser {
            emit: Emitter::new(ctx, Format::CrowdsecTable),
            buf: Vec::new(),
            seps: Vec::new(),
            columns: None,
            refused: false,
            pending: None,
        }
    }

    /// Emits the row being read, if any.
    fn flush(&mut self, sink: &mut dyn Sink) {
        let (Some(row), Some(cols)) = (self.pending.take(), self.columns.as_ref()) else {
            return;
        };
        let cell = |i: Option<usize>| i.and_then(|i| row.cells.get(i)).map_or("", |s| s.trim());
        self.emit.listed_row(cell(cols.alert));
        let target = cell(Some(cols.target));
        let Some((scope, value)) = target.split_once(':') else {
            sink.malformed(
                row.line,
                format!(
                    "CrowdSec target that is not Scope:Value: {:?}",
                    truncate(target)
                ),
            );
            return;
        };
        let action = cell(cols.action);
        let (kind, simulated) = match action.strip_prefix("(simul)") {
            Some(k) => (k, true),
            None => (action, false),
        };
        let reason = cell(cols.reason);
        let d = Decision {
            scope,
            value,
            kind,
            scenario: if reason.is_empty() {
                cell(cols.source)
            } else {
                reason
            },
            simulated,
            duration: Some(cell(cols.expiration)).filter(|s| !s.is_empty()),
            ..Decision::default()
        };
        self.emit.emit(&d, row.line, sink);
    }
}

impl LineParser for CrowdsecTableParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if self.refused {
            return;
        }
        let mut buf = std::mem::take(&mut self.buf);
        let text = normalize(line, &mut buf).trim_ascii();
        if text.is_empty() {
            self.buf = buf;
            return;
        }
        if is_rule(text) {
            self.flush(sink);
            if self.seps.is_empty() {
                self.seps.extend(memchr::memchr_iter(b'+', text));
            }
        } else if !is_row(text) || self.seps.is_empty() {
            self.flush(sink);
            sink.malformed(
                lineno,
                format!("crowdsec-table: not a line of the table: {}", quote(line)),
            );
        } else {
            let mut cells = Vec::new();
            if split_row(text, &self.seps, &mut cells).is_none() {
                self.flush(sink);
                sink.malformed(
                    lineno,
                    format!(
                        "crowdsec-table: a row that does not line up with the table's columns: {}",
                        quote(line)
                    ),
                );
            } else if let Some((count, id, target)) =
                self.columns.as_ref().map(|c| (c.count, c.id, c.target))
            {
                let blank = |i: Option<usize>| {
                    i.and_then(|i| cells.get(i))
                        .is_none_or(|c| c.trim_ascii().is_empty())
                };
                if cells.len() != count {
                    self.flush(sink);
                    sink.malformed(
                        lineno,
                        format!(
                            "crowdsec-table: a row of {} cells where the header has {}",
                            cells.len(),
                            count
                        ),
                    );
                } else if blank(id) && blank(Some(target)) && self.pending.is_some() {
                    // Wrapped text: the cells go on from the row before.
                    if let Some(row) = self.pending.as_mut() {
                        for (cell, more) in row.cells.iter_mut().zip(&cells) {
                            let more = more.trim_ascii();
                            if !more.is_empty() {
                                if !cell.is_empty() {
                                    cell.push(' ');
                                }
                                cell.push_str(&String::from_utf8_lossy(more));
                            }
                        }
                    }
                } else {
                    self.flush(sink);
                    self.pending = Some(Row {
                        line: lineno,
                        cells: cells
                            .iter()
                            .map(|c| String::from_utf8_lossy(c.trim_ascii()).into_owned())
                            .collect(),
                    });
                }
            } else {
                match Columns::from_header(&cells) {
                    Some(cols) => self.columns = Some(cols),
                    None => {
                        sink.malformed(
                            lineno,
                            "crowdsec-table: not the header of a cscli decisions table".into(),
                        );
                        self.refused = true;
                    }
                }
            }
        }
        self.buf = buf;
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        self.flush(sink);
        self.emit.notes(sink);
        if self.columns.is_some() && !self.refused {
            self.emit.whole_list(sink);
        }
    }
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
