//! Rendering of reports and lists: text for people, JSON for programs.

use std::collections::BTreeSet;
use std::io::{self, Write};

use cf_ban_audit_core::report::Finding;
use cf_ban_audit_core::{Format, RangeSet, Report, Tool};

/// The JSON report, one document.
pub fn json(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// One JSON finding a line.
pub fn jsonl(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    for f in &report.findings {
        serde_json::to_writer(&mut *out, f)?;
        writeln!(out)?;
    }
    Ok(())
}

/// Quotes a word for a POSIX shell when it needs it.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@%+=,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn time(t: &Option<chrono::NaiveDateTime>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}

fn scope_title(tool: Tool) -> &'static str {
    match tool {
        Tool::Fail2ban => "JAIL",
    }
}

/// The report for people: a table per tool, what is still active, and what to do.
pub fn text(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let active = report.findings.iter().filter(|f| f.active).count();
    writeln!(
        out,
        "Ranges: {} ({} IPv4, {} IPv6)",
        report.ranges.source, report.ranges.v4, report.ranges.v6
    )?;
    let lines: u64 = report.files.iter().map(|f| f.lines).sum();
    writeln!(
        out,
        "Read {} files ({} lines), skipped {} of no known format, {} errors.",
        report.files.len(),
        lines,
        report.skipped_files,
        report.errors.len()
    )?;
    writeln!(out)?;
    if report.findings.is_empty() {
        writeln!(out, "No bans of Cloudflare addresses found.")?;
        return Ok(());
    }
    writeln!(
        out,
        "{} bans of Cloudflare addresses found, {} still active. Visitors routed through a banned edge get Cloudflare Error 521.",
        report.findings.len(),
        active
    )?;
    for tool in Tool::ALL {
        let rows: Vec<&Finding> = report.findings.iter().filter(|f| f.tool == *tool).collect();
        if rows.is_empty() {
            continue;
        }
        writeln!(out)?;
        writeln!(out, "{tool}")?;
        let headers = [
            "STATE",
            "ADDRESS",
            "CLOUDFLARE RANGE",
            scope_title(*tool),
            "EVENTS",
            "LAST SEEN",
            "SOURCE",
            "WHERE",
        ];
        let table: Vec<[String; 8]> = rows
            .iter()
            .map(|f| {
                let where_ = match f.locations.last() {
                    Some(l) if f.locations.len() > 1 => {
                        format!("{l} (+{} more)", f.events.saturating_sub(1))
                    }
                    Some(l) => l.to_string(),
                    None => "-".into(),
                };
                [
                    if f.active {
                        "ACTIVE".into()
                    } else {
                        "lifted".into()
                    },
                    f.address.clone(),
                    f.range.clone(),
                    f.scope.clone(),
                    f.events.to_string(),
                    time(&f.last_seen),
                    f.format.to_string(),
                    where_,
                ]
            })
            .collect();
        let mut widths = headers.map(str::len);
        for row in &table {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[&str]| {
            let mut s = String::from(" ");
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                s.push(' ');
                if i + 1 == cells.len() {
                    s.push_str(cell);
                } else {
                    s.push_str(&format!("{cell:<w$}"));
                }
            }
            s
        };
        writeln!(out, "{}", line(&headers))?;
        for row in &table {
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            writeln!(out, "{}", line(&cells))?;
        }
    }
    let unban: BTreeSet<String> = report
        .findings
        .iter()
        .filter(|f| f.active && f.tool == Tool::Fail2ban)
        .map(|f| {
            format!(
                "fail2ban-client set {} unbanip {}",
                shell_word(&f.scope),
                shell_word(&f.address)
            )
        })
        .collect();
    if !unban.is_empty() {
        writeln!(out)?;
        writeln!(out, "Lift the active bans now:")?;
        for cmd in unban {
            writeln!(out, "  {cmd}")?;
        }
    }
    let tools: BTreeSet<Tool> = report.findings.iter().map(|f| f.tool).collect();
    writeln!(out)?;
    writeln!(out, "Stop it from happening again (firewall ACCEPT rules do not beat the ban tool's own chains; its ignore list does):")?;
    for tool in tools {
        match tool {
            Tool::Fail2ban => writeln!(
                out,
                "  cf-ban-audit snippet fail2ban --existing /etc/fail2ban/jail.local > jail.local.new   # then review, move into place, fail2ban-client reload"
            )?,
        }
    }
    Ok(())
}

/// The range set in use.
pub fn ranges(out: &mut dyn Write, set: &RangeSet, source: &str) -> io::Result<()> {
    writeln!(
        out,
        "# {source}: {} IPv4, {} IPv6 networks",
        set.v4_nets().count(),
        set.v6_nets().count()
    )?;
    for net in set.nets() {
        writeln!(out, "{net}")?;
    }
    Ok(())
}

/// The formats read, one a line.
pub fn formats(out: &mut dyn Write) -> io::Result<()> {
    for f in Format::ALL {
        let tools: Vec<&str> = f.tools().iter().map(|t| t.name()).collect();
        writeln!(
            out,
            "{:<18} {:<10} {}  [{}]",
            f.name(),
            tools.join(","),
            f.description(),
            f.usual_paths().join(" ")
        )?;
    }
    Ok(())
}
