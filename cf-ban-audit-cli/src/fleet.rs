//! `merge`: many hosts' JSON reports in one view. Each finding and error gets its host.

use std::io::{self, Write};

use cf_ban_audit_core::Report;
use serde_json::{json, Value};

/// `item` as JSON, with the host it came from.
fn with_host(item: serde_json::Result<Value>, host: &str) -> Value {
    let mut item = item.unwrap_or(Value::Null);
    if let Value::Object(m) = &mut item {
        m.insert("host".into(), Value::String(host.to_string()));
    }
    item
}

/// Combines reports (path, report) into `{version, hosts, findings, diagnoses, errors}`.
pub fn merge_reports(reports: &[(String, Report)]) -> Value {
    let mut hosts = Vec::new();
    let mut findings = Vec::new();
    let mut diagnoses = Vec::new();
    let mut errors = Vec::new();
    for (path, r) in reports {
        let host = r.host.clone().unwrap_or_else(|| path.clone());
        hosts.push(json!({
            "host": host, "report": path, "scanned_at": cf_ban_audit_core::rfc3339(&r.scanned_at),
            "findings": r.findings.len(),
            "files": r.files.len(),
            "errors": r.errors.len(),
        }));
        findings.extend(
            r.findings
                .iter()
                .map(|f| with_host(serde_json::to_value(f), &host)),
        );
        diagnoses.extend(
            r.diagnoses
                .iter()
                .map(|d| with_host(serde_json::to_value(d), &host)),
        );
        errors.extend(
            r.errors
                .iter()
                .map(|e| with_host(serde_json::to_value(e), &host)),
        );
    }
    findings.sort_by_key(|f| {
        (
            f["address"].as_str().unwrap_or("").to_string(),
            f["tool"].as_str().unwrap_or("").to_string(),
            f["host"].as_str().unwrap_or("").to_string(),
        )
    });
    json!({ "version": 1, "hosts": hosts, "findings": findings, "diagnoses": diagnoses, "errors": errors })
}

/// A string field of another host's report as the terminal may show it: every control and
/// bidirectional character escaped (`\x1b`), `default` when absent.
fn field(v: &Value, default: &str) -> String {
    crate::escape::printable(v.as_str().unwrap_or(default))
}

/// The merged view for people: per host a line, then every finding with its host. Everything
/// read from the reports is escaped: they come from other machines.
pub fn merged_text(out: &mut dyn Write, merged: &Value) -> io::Result<()> {
    for h in merged["hosts"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "{}: {} findings, {} files, {} errors ({})",
            field(&h["host"], "?"),
            h["findings"],
            h["files"],
            h["errors"],
            field(&h["report"], "")
        )?;
    }
    let findings = merged["findings"].as_array().cloned().unwrap_or_default();
    if findings.is_empty() {
        writeln!(out, "\nNo bans of Cloudflare addresses on any host.")?;
        return Ok(());
    }
    writeln!(out)?;
    for f in &findings {
        writeln!(
            out,
            "{:<7} {:<20} {:<28} {:<12} {:<20} {}",
            if f["active"].as_bool() == Some(true) {
                "ACTIVE"
            } else {
                "lifted"
            },
            field(&f["host"], ""),
            field(&f["address"], ""),
            field(&f["tool"], ""),
            field(&f["scope"], ""),
            field(&f["range"], "")
        )?;
    }
    for d in merged["diagnoses"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "diagnosis on {}: {} ({})",
            field(&d["host"], ""),
            field(&d["kind"], ""),
            field(&d["subject"], "")
        )?;
    }
    Ok(())
}
