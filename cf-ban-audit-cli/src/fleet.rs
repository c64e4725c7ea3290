//! `merge`: many hosts' JSON reports in one view. Each finding and error gets its host; one
//! ban is one finding per host; a report given twice is an error, an older scan of a host
//! gives way to its newest.

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

/// Combines reports (path, report) into `{version, hosts, findings, diagnoses, errors, notes}`.
///
/// - The same report given twice (same host and scan time) is an error naming both files:
///   counting it twice would double every finding.
/// - Of several reports of one host, the newest scan is the host's state; the older ones are
///   listed in `hosts` with `superseded: true` and a note, and their findings left out.
/// - One ban is one finding per host (tool, scope, address), whatever the report holds.
/// - `active`: only findings in force.
pub fn merge_reports(reports: &[(String, Report)], active: bool) -> Result<Value, String> {
    let host_of = |path: &String, r: &Report| r.host.clone().unwrap_or_else(|| path.clone());
    for (i, (path, r)) in reports.iter().enumerate() {
        if let Some((other, _)) = reports[..i]
            .iter()
            .find(|(p, o)| host_of(p, o) == host_of(path, r) && o.scanned_at == r.scanned_at)
        {
            return Err(format!(
                "{path}: the same report as {other} (host {}, scanned at {}): give each once",
                crate::escape::printable(&host_of(path, r)),
                cf_ban_audit_core::rfc3339(&r.scanned_at)
            ));
        }
    }
    let newest = |path: &String, r: &Report| {
        !reports
            .iter()
            .any(|(p, o)| host_of(p, o) == host_of(path, r) && o.scanned_at > r.scanned_at)
    };
    let mut hosts = Vec::new();
    let mut findings = Vec::new();
    let mut diagnoses = Vec::new();
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (path, r) in reports {
        let host = host_of(path, r);
        let current = newest(path, r);
        hosts.push(json!({
            "host": host, "report": path, "scanned_at": cf_ban_audit_core::rfc3339(&r.scanned_at),
            "findings": r.findings.len(),
            "active": r.findings.iter().filter(|f| f.active).count(),
            "files": r.files.len(),
            "errors": r.errors.len(),
            "superseded": !current,
        }));
        if !current {
            notes.push(format!(
                "{path}: an older scan of {} (a newer report of that host is merged instead)",
                crate::escape::printable(&host)
            ));
            continue;
        }
        for f in &r.findings {
            if (active && !f.active)
                || !seen.insert((host.clone(), f.tool, f.scope.clone(), f.address))
            {
                continue;
            }
            findings.push(with_host(serde_json::to_value(f), &host));
        }
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
            f["scope"].as_str().unwrap_or("").to_string(),
        )
    });
    Ok(json!({
        "version": 1, "hosts": hosts, "findings": findings, "diagnoses": diagnoses,
        "errors": errors, "notes": notes,
    }))
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
            "{}: {} findings ({} in force), {} files, {} errors ({}){}",
            field(&h["host"], "?"),
            h["findings"],
            h["active"],
            h["files"],
            h["errors"],
            field(&h["report"], ""),
            if h["superseded"].as_bool() == Some(true) {
                ": superseded by a newer scan"
            } else {
                ""
            }
        )?;
    }
    for e in merged["errors"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "error on {}: {}",
            field(&e["host"], ""),
            field(&e["message"], "")
        )?;
    }
    let findings = merged["findings"].as_array().cloned().unwrap_or_default();
    if findings.is_empty() {
        writeln!(out, "\nNo bans of Cloudflare addresses on any host.")?;
        return Ok(());
    }
    writeln!(out)?;
    for f in &findings {
        // The state as the report says it: in force in capitals, as `scan` writes it.
        let state = field(&f["state"], "unknown");
        let state = if f["active"].as_bool() == Some(true) {
            state.to_uppercase()
        } else {
            state
        };
        let mut sources: Vec<String> = Vec::new();
        for e in f["evidence"].as_array().into_iter().flatten() {
            let name = field(&e["format"], "?");
            if !sources.contains(&name) {
                sources.push(name);
            }
        }
        writeln!(
            out,
            "{:<11} {:<20} {:<28} {:<12} {:<20} {:<18} {}",
            state,
            field(&f["host"], ""),
            field(&f["address"], ""),
            field(&f["tool"], ""),
            field(&f["scope"], ""),
            field(&f["range"], ""),
            sources.join(",")
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
