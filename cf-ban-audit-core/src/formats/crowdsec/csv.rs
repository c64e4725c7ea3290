//! CrowdSec CSV ([`Format::CrowdsecCsv`]): `cscli decisions list -o raw`, `cscli alerts
//! list -o raw` and the import CSV of `cscli decisions import`, told apart by their header.

use super::decision::{truncate, Decision, Emitter};
use super::time::parse_time;
use super::{IMPORT_DEFAULT_DURATION, MAX_RECORD};
use crate::event::Action;
use crate::formats::{Format, LineParser, ParseCtx, Sink};

/// The header of `cscli decisions list -o raw` (a `machine` column may follow).
const DECISIONS_RAW_HEADER: &[&str] = &[
    "id",
    "source",
    "ip",
    "reason",
    "action",
    "country",
    "as",
    "events_count",
    "expiration",
    "simulated",
    "alert_id",
];

/// The header of `cscli alerts list -o raw` (a `machine` column may follow).
const ALERTS_RAW_HEADER: &[&str] = &[
    "id",
    "scope",
    "value",
    "reason",
    "country",
    "as",
    "decisions",
    "created_at",
];

/// Columns an import CSV may have (`cscli decisions import` reads `duration`, `reason`,
/// `scope`, `type`, `value`; the others are tolerated, as csvutil ignores unknown columns,
/// but only these are recognised, so that unrelated CSV files are not taken).
const IMPORT_COLUMNS: &[&str] = &[
    "duration",
    "reason",
    "scope",
    "type",
    "value",
    "origin",
    "scenario",
    "until",
    "simulated",
    "id",
];
/// Which CSV CrowdSec wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CsvKind {
    /// `cscli decisions list -o raw`.
    DecisionsRaw,
    /// `cscli alerts list -o raw`.
    AlertsRaw,
    /// An import file, with its column names.
    Import(Vec<String>),
}

impl CsvKind {
    /// Recognises a header line.
    pub(super) fn from_header(line: &[u8]) -> Option<CsvKind> {
        let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
        let text = std::str::from_utf8(line).ok()?.trim_end();
        let cols: Vec<&str> = text.split(',').collect();
        let starts = |h: &[&str]| {
            cols.len() >= h.len()
                && cols[..h.len()] == *h
                && (cols.len() == h.len()
                    || (cols.len() == h.len() + 1 && cols[h.len()] == "machine"))
        };
        if starts(DECISIONS_RAW_HEADER) {
            return Some(CsvKind::DecisionsRaw);
        }
        if starts(ALERTS_RAW_HEADER) {
            return Some(CsvKind::AlertsRaw);
        }
        let known = cols.iter().all(|c| IMPORT_COLUMNS.contains(c));
        let unique = cols.iter().enumerate().all(|(i, c)| !cols[..i].contains(c));
        let has = |c: &str| cols.contains(&c);
        (known
            && unique
            && has("value")
            && ["duration", "reason", "scope", "type"]
                .iter()
                .any(|c| has(c)))
        .then(|| CsvKind::Import(cols.iter().map(|c| c.to_string()).collect()))
    }
}

/// Splits one CSV record (RFC 4180, as Go's `encoding/csv` writes it: fields holding a comma,
/// a quote or a line break are quoted, quotes doubled) into its fields.
pub fn split_csv(record: &[u8]) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = Vec::new();
    let mut i = 0;
    let mut quoted = false;
    let mut at_start = true;
    while i < record.len() {
        let c = record[i];
        if quoted {
            if c == b'"' {
                if record.get(i + 1) == Some(&b'"') {
                    field.push(b'"');
                    i += 1;
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else if c == b'"' && at_start {
            quoted = true;
        } else if c == b',' {
            fields.push(String::from_utf8_lossy(&field).into_owned());
            field.clear();
            at_start = true;
            i += 1;
            continue;
        } else {
            field.push(c);
        }
        at_start = false;
        i += 1;
    }
    fields.push(String::from_utf8_lossy(&field).into_owned());
    fields
}

/// Whether a record ends inside a quoted field (its line break belongs to the field).
fn quote_open(record: &[u8]) -> bool {
    memchr::memchr_iter(b'"', record).count() % 2 == 1
}

/// The parser of CrowdSec CSV ([`Format::CrowdsecCsv`]).
pub struct CrowdsecCsvParser {
    emit: Emitter,
    kind: Option<CsvKind>,
    /// Column index by name.
    columns: Vec<String>,
    pending: Vec<u8>,
    pending_line: u64,
}

impl CrowdsecCsvParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        CrowdsecCsvParser {
            emit: Emitter::new(ctx, Format::CrowdsecCsv),
            kind: None,
            columns: Vec::new(),
            pending: Vec::new(),
            pending_line: 0,
        }
    }

    fn column<'a>(&self, fields: &'a [String], name: &str) -> Option<&'a str> {
        let i = self.columns.iter().position(|c| c == name)?;
        fields.get(i).map(String::as_str)
    }

    fn record(&mut self, line: u64, record: &[u8], sink: &mut dyn Sink) {
        if record.trim_ascii().is_empty() {
            return;
        }
        let Some(kind) = self.kind.clone() else {
            // The first record is the header.
            match CsvKind::from_header(record) {
                Some(kind) => {
                    self.columns = match &kind {
                        CsvKind::DecisionsRaw => {
                            DECISIONS_RAW_HEADER.iter().map(|s| s.to_string()).collect()
                        }
                        CsvKind::AlertsRaw => {
                            ALERTS_RAW_HEADER.iter().map(|s| s.to_string()).collect()
                        }
                        CsvKind::Import(cols) => cols.clone(),
                    };
                    self.kind = Some(kind);
                }
                None => {
                    sink.malformed(line, "not a CrowdSec CSV header".into());
                    self.kind = Some(CsvKind::Import(Vec::new()));
                    self.columns.clear();
                }
            }
            return;
        };
        if self.columns.is_empty() {
            return;
        }
        let fields = split_csv(record);
        if fields.len() < self.columns.len() {
            sink.malformed(
                line,
                format!(
                    "CrowdSec CSV record of {} fields where the header has {}",
                    fields.len(),
                    self.columns.len()
                ),
            );
            return;
        }
        match kind {
            CsvKind::DecisionsRaw => {
                self.emit
                    .listed_row(self.column(&fields, "alert_id").unwrap_or(""));
                let target = self.column(&fields, "ip").unwrap_or("");
                let Some((scope, value)) = target.split_once(':') else {
                    sink.malformed(
                        line,
                        format!(
                            "CrowdSec target that is not Scope:Value: {:?}",
                            truncate(target)
                        ),
                    );
                    return;
                };
                let action = self.column(&fields, "action").unwrap_or("ban");
                let (kind, simul_prefix) = match action.strip_prefix("(simul)") {
                    Some(k) => (k, true),
                    None => (action, false),
                };
                let reason = self.column(&fields, "reason").unwrap_or("");
                let source = self.column(&fields, "source").unwrap_or("");
                let d = Decision {
                    scope,
                    value,
                    kind,
                    scenario: if reason.trim().is_empty() {
                        source
                    } else {
                        reason
                    },
                    simulated: simul_prefix
                        || self
                            .column(&fields, "simulated")
                            .is_some_and(|s| s.trim() == "true"),
                    duration: self.column(&fields, "expiration"),
                    ..Decision::default()
                };
                self.emit.emit(&d, line, sink);
            }
            CsvKind::AlertsRaw => {
                let decisions = self.column(&fields, "decisions").unwrap_or("");
                let mut any = false;
                let mut enforced = false;
                let mut challenges = false;
                let mut simulated = 0;
                for token in decisions.split_ascii_whitespace() {
                    let Some((kind, count)) = token.rsplit_once(':') else {
                        continue;
                    };
                    let Some(count) = count.parse::<u64>().ok().filter(|&n| n > 0) else {
                        continue;
                    };
                    // The history of a challenge, not of a ban (see the module docs).
                    if kind
                        .trim_start_matches("(simul)")
                        .eq_ignore_ascii_case("captcha")
                    {
                        challenges = true;
                        continue;
                    }
                    any = true;
                    if kind.starts_with("(simul)") {
                        simulated += count;
                    } else {
                        enforced = true;
                    }
                }
                if !any {
                    self.emit.challenges += u64::from(challenges);
                    return;
                }
                // An alert whose decisions were all simulated led to nothing a bouncer applied.
                if !enforced {
                    self.emit.simulated += simulated;
                    return;
                }
                let d = Decision {
                    scope: self.column(&fields, "scope").unwrap_or(""),
                    value: self.column(&fields, "value").unwrap_or(""),
                    scenario: self.column(&fields, "reason").unwrap_or(""),
                    time: self.column(&fields, "created_at").and_then(parse_time),
                    action: Some(Action::Deny),
                    alert: true,
                    ..Decision::default()
                };
                self.emit.emit(&d, line, sink);
            }
            CsvKind::Import(_) => {
                let d = Decision {
                    scope: self
                        .column(&fields, "scope")
                        .filter(|s| !s.is_empty())
                        .unwrap_or("ip"),
                    value: self.column(&fields, "value").unwrap_or(""),
                    kind: self
                        .column(&fields, "type")
                        .filter(|s| !s.is_empty())
                        .unwrap_or("ban"),
                    scenario: [
                        self.column(&fields, "reason"),
                        self.column(&fields, "scenario"),
                        self.column(&fields, "origin"),
                    ]
                    .into_iter()
                    .flatten()
                    .find(|s| !s.trim().is_empty())
                    .unwrap_or("manual"),
                    simulated: self
                        .column(&fields, "simulated")
                        .is_some_and(|s| s.trim() == "true"),
                    until: self.column(&fields, "until").filter(|s| !s.is_empty()),
                    duration: Some(
                        self.column(&fields, "duration")
                            .filter(|s| !s.is_empty())
                            .unwrap_or(IMPORT_DEFAULT_DURATION),
                    ),
                    ..Decision::default()
                };
                self.emit.emit(&d, line, sink);
            }
        }
    }
}

impl LineParser for CrowdsecCsvParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if self.pending.is_empty() {
            if !quote_open(line) {
                self.record(lineno, line, sink);
                return;
            }
            self.pending_line = lineno;
            self.pending.extend_from_slice(line);
        } else {
            self.pending.push(b'\n');
            self.pending.extend_from_slice(line);
        }
        if self.pending.len() > MAX_RECORD {
            sink.malformed(
                self.pending_line,
                "CrowdSec CSV record without its closing quote".into(),
            );
            self.pending.clear();
            return;
        }
        if !quote_open(&self.pending) {
            let record = std::mem::take(&mut self.pending);
            self.record(self.pending_line, &record, sink);
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if !self.pending.is_empty() {
            sink.malformed(
                self.pending_line,
                "CrowdSec CSV record without its closing quote".into(),
            );
            self.pending.clear();
        }
        self.emit.notes(sink);
        if self.kind == Some(CsvKind::DecisionsRaw) {
            self.emit.whole_list(sink);
        }
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn split_csv() {
        use crate::formats::crowdsec::split_csv;
        assert_eq!(
            split_csv(br#"1,"a, ""b""",,c"#),
            vec!["1", "a, \"b\"", "", "c"]
        );
    }
}
