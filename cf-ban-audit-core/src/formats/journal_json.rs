//! The systemd journal exported as JSON, one entry per line (`journalctl -o json`, and the
//! `json-seq` form, whose lines start with an RS byte): each entry an object of the journal's
//! fields.
//!
//! ```text
//! {"__CURSOR":"s=…;i=2d","__REALTIME_TIMESTAMP":"1796309241823192","_COMM":"fail2ban-server","SYSLOG_IDENTIFIER":"fail2ban","LOGGER":"fail2ban.actions","MESSAGE":"[lab-auth] Ban 104.16.78.1",…}
//! ```
//!
//! As systemd's `journalctl` writes them (src/shared/logs-show.c `output_json`, documented in
//! systemd's "Journal JSON Format"): every value is a string when it is printable UTF-8, an
//! array of byte values otherwise (`"MESSAGE":[108,111,…,255]`), and an array of such values
//! when the entry holds the field more than once. Fields whose names start with `_` are the
//! journal's own (a program cannot set them); `__REALTIME_TIMESTAMP` is the entry's time in
//! microseconds since the epoch (UTC; read here in local time, as `journalctl`'s text shows it).
//!
//! Each entry is read as the syslog reader reads a line ([`super::syslog`]), handed to the
//! format that owns its program: the program is the entry's `SYSLOG_IDENTIFIER` field, or its
//! `_COMM` without one (as `journalctl`'s text output names it), never anything in `MESSAGE`.
//! So an application whose logged request value holds `fail2ban[1]: [sshd] Ban …`, or a whole
//! JSON object with fail2ban's fields, is still an entry of that application. An entry that
//! holds its program or message more than once names no one program and is not read.
//!
//! # Detection
//!
//! A file is a journal export when more than half of its first records are JSON objects with
//! the journal's `__REALTIME_TIMESTAMP` (all digits) and `MESSAGE` fields.

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::Deserialize;

use super::grammar::head;
use super::registry::{Detection, FormatDescriptor, SyslogEntry};
use super::{Format, LineParser, ParseCtx, Sink};
use crate::event::Location;

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// The systemd journal exported as JSON lines (`journalctl -o json`).
    pub const JournalJson: Format = Format::builtin(40, "journal-json");
}

/// The journal JSON descriptor. The programs it reads are those whose syslog tags formats own.
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::new(
    Format::JournalJson,
    super::syslog::SYSLOG_TOOLS,
    "journalctl -o json: the entries of fail2ban, mod_evasive, lfd and nginx, by their SYSLOG_IDENTIFIER",
    |ctx| Box::new(JournalJsonParser::new(ctx)),
)
.detected_by(&[Detection::text(395, |_, head| detect(head))])
.searched_for(|| &super::syslog::TAGS.words);

/// A journal field's value as `journalctl -o json` writes it.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Field {
    /// Printable UTF-8.
    Text(String),
    /// Any other bytes.
    Bytes(Vec<u8>),
    /// The field more than once in the entry (its values are not read: such an entry names
    /// no one program or message).
    Many(#[allow(dead_code)] serde::de::IgnoredAny),
}

impl Field {
    /// The value's bytes, when the entry holds the field once.
    fn bytes(&self) -> Option<&[u8]> {
        match self {
            Field::Text(s) => Some(s.as_bytes()),
            Field::Bytes(b) => Some(b),
            Field::Many(_) => None,
        }
    }
}

/// The fields of an entry that are read; the others are skipped.
#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(rename = "__REALTIME_TIMESTAMP")]
    realtime: Option<Field>,
    #[serde(rename = "SYSLOG_IDENTIFIER")]
    identifier: Option<Field>,
    #[serde(rename = "_COMM")]
    comm: Option<Field>,
    #[serde(rename = "MESSAGE")]
    message: Option<Field>,
}

/// A line without the RS byte that starts each record of `json-seq`.
fn record(line: &[u8]) -> &[u8] {
    line.strip_prefix(b"\x1e").unwrap_or(line).trim_ascii()
}

/// The entry's time: `__REALTIME_TIMESTAMP` (microseconds since the epoch) in local time.
fn realtime(field: &Field) -> Option<NaiveDateTime> {
    let digits = field.bytes()?;
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let micros: i64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    let utc = chrono::DateTime::from_timestamp_micros(micros)?;
    Some(utc.with_timezone(&chrono::Local).naive_local())
}

/// Whether a line is an entry of the journal's JSON export.
fn is_entry(line: &[u8]) -> bool {
    let line = record(line);
    line.starts_with(b"{")
        && serde_json::from_slice::<Entry>(line)
            .is_ok_and(|e| e.message.is_some() && e.realtime.as_ref().and_then(realtime).is_some())
}

/// Whether most of the first records of `head` are journal entries.
fn detect(head: &[u8]) -> bool {
    let (mut own, mut total) = (0, 0);
    for line in head::record_lines(head) {
        total += 1;
        own += usize::from(is_entry(line));
    }
    head::mostly(own, total)
}

/// The parser of the journal's JSON export.
pub struct JournalJsonParser {
    path: Arc<Path>,
}

impl JournalJsonParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        JournalJsonParser {
            path: ctx.path.clone(),
        }
    }
}

impl LineParser for JournalJsonParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let tags = &*super::syslog::TAGS;
        // Cheap reject: only entries of the programs some format owns name one of them.
        let line = record(line);
        if line.is_empty() || !tags.words.matches(line) {
            return;
        }
        let entry: Entry = match serde_json::from_slice(line) {
            Ok(e) => e,
            Err(e) => {
                sink.malformed(
                    lineno,
                    format!(
                        "{}:{lineno}: not a journal entry ({e})",
                        self.path.display()
                    ),
                );
                return;
            }
        };
        let program = match (&entry.identifier, &entry.comm) {
            (Some(id), _) => id.bytes(),
            (None, Some(comm)) => comm.bytes(),
            (None, None) => None,
        };
        let (Some(program), Some(message)) =
            (program, entry.message.as_ref().and_then(Field::bytes))
        else {
            return;
        };
        let Some(tag) = tags.tags.iter().find(|t| t.owns(program)) else {
            return;
        };
        let Some(time) = entry.realtime.as_ref().and_then(realtime) else {
            sink.malformed(
                lineno,
                format!(
                    "{}:{lineno}: a journal entry without __REALTIME_TIMESTAMP",
                    self.path.display()
                ),
            );
            return;
        };
        let entry = SyslogEntry {
            program,
            message: message.trim_ascii_end(),
            time,
            location: Location::new(self.path.clone(), lineno),
            format: Format::JournalJson,
        };
        (tag.read)(&entry, sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::run_lines;

    /// (address, scope) of every event.
    fn found(text: &str) -> Vec<(String, String)> {
        run_lines(Format::JournalJson, "journal.json", text)
            .events
            .iter()
            .map(|e| (crate::addr::display_net(&e.net), e.scope.clone()))
            .collect()
    }

    #[test]
    fn fail2ban_entries_by_their_identifier() {
        let got = found(concat!(
            r#"{"__REALTIME_TIMESTAMP":"1796309241823192","_COMM":"fail2ban-server","SYSLOG_IDENTIFIER":"fail2ban","LOGGER":"fail2ban.actions","MESSAGE":"[lab-auth] Ban 104.16.78.1"}"#,
            "\n",
            r#"{"SYSLOG_IDENTIFIER":"fail2ban.actions","MESSAGE":"NOTICE [lab-auth] Ban 104.16.78.2","__REALTIME_TIMESTAMP":"1796309243741527"}"#,
            "\n\x1e",
            r#"{"MESSAGE":"2026-12-03 14:47:26,491 fail2ban.actions        [31799]: NOTICE  [lab-auth] Ban 104.16.78.3","SYSLOG_IDENTIFIER":"fail2ban-server","__REALTIME_TIMESTAMP":"1796309246493015"}"#,
            "\n",
            // No SYSLOG_IDENTIFIER: the program is _COMM.
            r#"{"_COMM":"fail2ban","MESSAGE":[91,115,93,32,66,97,110,32,49,48,52,46,49,54,46,55,56,46,52],"__REALTIME_TIMESTAMP":"1796309246493016"}"#,
            "\n",
        ));
        let want = ["104.16.78.1", "104.16.78.2", "104.16.78.3", "104.16.78.4"];
        let got: Vec<&str> = got.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn the_message_never_names_the_program() {
        let got = found(concat!(
            r#"{"SYSLOG_IDENTIFIER":"myapp","_COMM":"cat","MESSAGE":"fail2ban[1]: [lab-auth] Ban 104.16.66.211","__REALTIME_TIMESTAMP":"1796309248860352"}"#,
            "\n",
            r#"{"SYSLOG_IDENTIFIER":"myapp","_COMM":"fail2ban","MESSAGE":"[lab-auth] Ban 104.16.66.212","__REALTIME_TIMESTAMP":"1796309248860352"}"#,
            "\n",
            r#"{"SYSLOG_IDENTIFIER":"myapp","MESSAGE":"login failed for user {\"SYSLOG_IDENTIFIER\":\"fail2ban\",\"MESSAGE\":\"[lab-auth] Ban 104.16.66.214\",\"__REALTIME_TIMESTAMP\":\"1\"}","__REALTIME_TIMESTAMP":"1796309248860352"}"#,
            "\n",
            // The identifier given twice names no one program.
            r#"{"SYSLOG_IDENTIFIER":["myapp","fail2ban"],"MESSAGE":"[lab-auth] Ban 104.16.66.215","__REALTIME_TIMESTAMP":"1796309248860352"}"#,
            "\n",
        ));
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn detection_needs_journal_entries() {
        let entry = br#"{"__REALTIME_TIMESTAMP":"1796309241086268","MESSAGE":"Journal started","SYSLOG_IDENTIFIER":"systemd-journald"}"#;
        let mut two = entry.to_vec();
        two.push(b'\n');
        two.extend_from_slice(entry);
        two.push(b'\n');
        assert!(detect(&two));
        // Other JSON lines, and an application log with one entry-shaped line.
        assert!(!detect(b"{\"MESSAGE\":\"x\"}\n{\"MESSAGE\":\"y\"}\n"));
        let mut app = b"INFO login failed\n".to_vec();
        app.extend_from_slice(entry);
        app.extend_from_slice(b"\nINFO login failed\n");
        assert!(!detect(&app));
    }
}
