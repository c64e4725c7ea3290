//! node_exporter textfile collector metrics.

use std::collections::BTreeMap;
use std::io::{self, Write};

use cf_ban_audit_core::{BanState, Report};

use super::malformed;

/// Escapes a Prometheus label value: backslash, double quote and newline as the exposition
/// format escapes them (`\\`, `\"`, `\n`); every other control or bidirectional character
/// as the visible text [`crate::escape::printable`] makes of it (`\x1b`, its backslash
/// escaped in turn), so a value holds nothing a terminal or a log viewer would act on.
fn label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            c if crate::escape::needs_escape(c) => {
                out.push_str(&crate::escape::escaped(c).replace('\\', r"\\"))
            }
            c => out.push(c),
        }
    }
    out
}

/// node_exporter textfile collector metrics (write to a `.prom` file atomically).
pub fn prometheus(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let mut by_scope: BTreeMap<(&str, &str), (u64, u64, u64, u64)> = BTreeMap::new();
    for f in &report.findings {
        let e = by_scope
            .entry((f.tool.name(), f.scope.as_str()))
            .or_default();
        e.0 += 1;
        e.1 += u64::from(f.active);
        e.2 += u64::from(f.state == BanState::Unconfirmed);
        e.3 += u64::from(f.state == BanState::Challenge);
    }
    writeln!(
        out,
        "# HELP cf_ban_audit_findings Bans of Cloudflare addresses found, by tool and scope."
    )?;
    writeln!(out, "# TYPE cf_ban_audit_findings gauge")?;
    for ((tool, scope), (n, _, _, _)) in &by_scope {
        writeln!(
            out,
            "cf_ban_audit_findings{{tool=\"{}\",scope=\"{}\"}} {n}",
            label(tool),
            label(scope)
        )?;
    }
    writeln!(out, "# HELP cf_ban_audit_active_findings Bans of Cloudflare addresses still in force, by tool and scope.")?;
    writeln!(out, "# TYPE cf_ban_audit_active_findings gauge")?;
    for ((tool, scope), (_, active, _, _)) in &by_scope {
        writeln!(
            out,
            "cf_ban_audit_active_findings{{tool=\"{}\",scope=\"{}\"}} {active}",
            label(tool),
            label(scope)
        )?;
    }
    writeln!(out, "# HELP cf_ban_audit_unconfirmed_findings Bans of Cloudflare addresses possibly in force (no current source confirms them and nothing says how long they last), by tool and scope.")?;
    writeln!(out, "# TYPE cf_ban_audit_unconfirmed_findings gauge")?;
    for ((tool, scope), (_, _, unconfirmed, _)) in &by_scope {
        writeln!(
            out,
            "cf_ban_audit_unconfirmed_findings{{tool=\"{}\",scope=\"{}\"}} {unconfirmed}",
            label(tool),
            label(scope)
        )?;
    }
    writeln!(out, "# HELP cf_ban_audit_challenge_findings Challenges of Cloudflare addresses in force (CrowdSec captcha decisions: bouncers without a captcha provider ban instead), by tool and scope.")?;
    writeln!(out, "# TYPE cf_ban_audit_challenge_findings gauge")?;
    for ((tool, scope), (_, _, _, challenge)) in &by_scope {
        writeln!(
            out,
            "cf_ban_audit_challenge_findings{{tool=\"{}\",scope=\"{}\"}} {challenge}",
            label(tool),
            label(scope)
        )?;
    }
    writeln!(
        out,
        "# HELP cf_ban_audit_files_read Files read by the last scan."
    )?;
    writeln!(out, "# TYPE cf_ban_audit_files_read gauge")?;
    writeln!(out, "cf_ban_audit_files_read {}", report.files.len())?;
    writeln!(
        out,
        "# HELP cf_ban_audit_errors Errors met by the last scan."
    )?;
    writeln!(out, "# TYPE cf_ban_audit_errors gauge")?;
    writeln!(out, "cf_ban_audit_errors {}", report.errors.len())?;
    writeln!(
        out,
        "# HELP cf_ban_audit_malformed_lines Lines that looked like entries but could not be read."
    )?;
    writeln!(out, "# TYPE cf_ban_audit_malformed_lines gauge")?;
    writeln!(out, "cf_ban_audit_malformed_lines {}", malformed(report))?;
    writeln!(
        out,
        "# HELP cf_ban_audit_file_malformed_lines Lines of one file that looked like entries but could not be read (files with some only)."
    )?;
    writeln!(out, "# TYPE cf_ban_audit_file_malformed_lines gauge")?;
    for f in report.files.iter().filter(|f| f.malformed > 0) {
        writeln!(
            out,
            "cf_ban_audit_file_malformed_lines{{path=\"{}\",format=\"{}\"}} {}",
            label(&f.path),
            label(f.format.name()),
            f.malformed
        )?;
    }
    writeln!(
        out,
        "# HELP cf_ban_audit_diagnoses Set-up problems found (such as real-ip-not-restored)."
    )?;
    writeln!(out, "# TYPE cf_ban_audit_diagnoses gauge")?;
    for d in &report.diagnoses {
        writeln!(
            out,
            "cf_ban_audit_diagnoses{{kind=\"{}\",subject=\"{}\"}} 1",
            label(d.kind.as_str()),
            label(&d.subject)
        )?;
    }
    writeln!(
        out,
        "# HELP cf_ban_audit_last_scan_timestamp_seconds When the last scan ran (Unix time)."
    )?;
    writeln!(out, "# TYPE cf_ban_audit_last_scan_timestamp_seconds gauge")?;
    let ts = report
        .scanned_at
        .and_local_timezone(chrono::Local)
        .earliest()
        .map(|t| t.timestamp())
        .unwrap_or_default();
    writeln!(out, "cf_ban_audit_last_scan_timestamp_seconds {ts}")?;
    Ok(())
}
