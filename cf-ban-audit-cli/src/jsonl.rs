//! `--format jsonl`: one JSON object a line, each with a `record` key, so that a stream
//! consumer sees everything the report holds, failures included: `finding` (the finding's
//! fields), `diagnosis` (kind, subject, evidence, fix), `file` (a file with malformed lines
//! or notes), `error`, `note`, and a last
//! `summary` with the counts (findings, active, unconfirmed, challenge, files, malformed,
//! errors). Every line also carries the scan's `host` and `scanned_at`.

use std::io::{self, Write};

use cf_ban_audit_core::{BanState, Report};
use serde_json::{json, Value};

/// One line: `"record": kind`, the scan's `host` and `scanned_at`, then `value`'s fields.
fn record(out: &mut dyn Write, scan: &Value, kind: &str, value: Value) -> io::Result<()> {
    let mut line = serde_json::Map::new();
    line.insert("record".into(), Value::from(kind));
    if let Value::Object(fields) = scan {
        line.extend(fields.clone());
    }
    if let Value::Object(fields) = value {
        line.extend(fields);
    }
    serde_json::to_writer(&mut *out, &line)?;
    writeln!(out)
}

/// Writes the report as JSON lines; each line names the host and the time of the scan, so
/// that lines of many hosts in one stream stay apart.
pub fn write(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let scan = json!({
        "host": report.host,
        "scanned_at": cf_ban_audit_core::rfc3339(&report.scanned_at),
    });
    let record = |out: &mut dyn Write, kind: &str, value: Value| record(out, &scan, kind, value);
    for f in &report.findings {
        record(out, "finding", serde_json::to_value(f)?)?;
    }
    for d in &report.diagnoses {
        record(out, "diagnosis", serde_json::to_value(d)?)?;
    }
    for f in report
        .files
        .iter()
        .filter(|f| f.malformed > 0 || !f.notes.is_empty())
    {
        record(out, "file", serde_json::to_value(f)?)?;
    }
    for e in &report.errors {
        record(out, "error", serde_json::to_value(e)?)?;
    }
    for n in &report.notes {
        record(out, "note", json!({ "text": n }))?;
    }
    let count = |state: BanState| report.findings.iter().filter(|f| f.state == state).count();
    record(
        out,
        "summary",
        json!({
            "findings": report.findings.len(),
            "active": count(BanState::Active),
            "unconfirmed": count(BanState::Unconfirmed),
            "challenge": count(BanState::Challenge),
            "files": report.files.len(),
            "malformed": crate::monitor::malformed(report),
            "errors": report.errors.len(),
        }),
    )
}
