//! Rendering of reports and lists: text for people, JSON for programs.

use std::collections::BTreeSet;
use std::io::{self, Write};

use cf_ban_audit_core::formats::Registry;
use cf_ban_audit_core::Finding;
use cf_ban_audit_core::{BanState, RangeSet, Report, Tool};

/// The JSON report, one document.
pub fn json(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
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

/// A progress bar on standard error that stays hidden for scans shorter than a moment.
pub fn progress_bar() -> indicatif::ProgressBar {
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::hidden());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} scanning {pos}/{len} files {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Moves the bar; shows it once the scan has run for half a second.
pub fn progress(bar: &indicatif::ProgressBar, done: usize, total: usize) {
    if bar.is_hidden() && bar.elapsed() > std::time::Duration::from_millis(500) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    }
    bar.set_length(total as u64);
    bar.set_position(done as u64);
}

/// Wraps text in an ANSI colour when colour is on.
fn paint(text: &str, code: &str, on: bool) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Whether a finding's ban is in force or possibly so (unconfirmed).
fn in_force(f: &Finding) -> bool {
    matches!(f.state, BanState::Active | BanState::Unconfirmed)
}

/// The counts that mean bans: distinct (tool, scope, address) findings, how many are in force
/// and how many unconfirmed, and how many Cloudflare ranges and edge addresses they hit; the
/// 521 sentence only when something is in force.
fn headline(
    out: &mut dyn Write,
    report: &Report,
    active: usize,
    unconfirmed: usize,
) -> io::Result<()> {
    let hit: Vec<&Finding> = report.findings.iter().filter(|f| in_force(f)).collect();
    let ranges: BTreeSet<_> = hit.iter().map(|f| f.range).collect();
    let addresses: BTreeSet<_> = hit.iter().map(|f| f.address).collect();
    let past = report.findings.len() - active - unconfirmed;
    write!(
        out,
        "{} bans of Cloudflare addresses found: {active} in force, {unconfirmed} unconfirmed \
         (possibly in force), {past} past.",
        report.findings.len()
    )?;
    if hit.is_empty() {
        return writeln!(out);
    }
    writeln!(
        out,
        " They hit {} edge addresses or networks in {} Cloudflare ranges.",
        addresses.len(),
        ranges.len()
    )?;
    if active > 0 {
        writeln!(
            out,
            "Visitors routed through a banned edge get Cloudflare Error 521."
        )?;
    }
    Ok(())
}

/// The report for people: a table per tool, what is still active, and what to do.
pub fn text(out: &mut dyn Write, report: &Report, color: bool) -> io::Result<()> {
    let active = report.findings.iter().filter(|f| f.active).count();
    let unconfirmed = report
        .findings
        .iter()
        .filter(|f| f.state == BanState::Unconfirmed)
        .count();
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
    let malformed = crate::monitor::malformed(report);
    if malformed > 0 {
        let files = report.files.iter().filter(|f| f.malformed > 0).count();
        write!(
            out,
            "{malformed} lines in {files} files looked like entries but could not be read"
        )?;
        let first = report
            .files
            .iter()
            .find_map(|f| f.malformed_samples.first().map(|m| (f, m)));
        match first {
            Some((f, m)) => {
                // Some readers name the place in the message already.
                let place = format!("{}:{}: ", f.path, m.line);
                let message = m.message.strip_prefix(&place).unwrap_or(&m.message);
                writeln!(out, "; the first: {place}{message}")?
            }
            None => writeln!(out, ".")?,
        }
    }
    writeln!(out)?;
    if report.findings.is_empty() {
        writeln!(out, "No bans of Cloudflare addresses found.")?;
        diagnoses(out, report)?;
        return Ok(());
    }
    headline(out, report, active, unconfirmed)?;
    for tool in Tool::ALL {
        let rows: Vec<&Finding> = report.findings.iter().filter(|f| f.tool == *tool).collect();
        if rows.is_empty() {
            continue;
        }
        writeln!(out)?;
        writeln!(out, "{tool}")?;
        let scope_title = tool.scope_name().to_uppercase();
        let headers = [
            "STATE",
            "ADDRESS",
            "CLOUDFLARE RANGE",
            &scope_title,
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
                    match f.state {
                        BanState::Active => "ACTIVE".into(),
                        BanState::Unconfirmed => "UNCONFIRMED".into(),
                        state => state.to_string(),
                    },
                    f.address_text(),
                    f.range.to_string(),
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
            let text = line(&cells);
            let code = match row[0].as_str() {
                "ACTIVE" => "1;31",
                "UNCONFIRMED" => "33",
                _ => "2",
            };
            writeln!(out, "{}", paint(&text, code, color))?;
        }
    }
    diagnoses(out, report)?;
    // Every ban in force or possibly so, with the command that lifts it or why there is none.
    let unban: BTreeSet<String> = report
        .findings
        .iter()
        .filter(|f| in_force(f))
        .map(|f| match (&f.lift, &f.lift_unavailable) {
            (Some(argv), _) => argv
                .iter()
                .map(|w| shell_word(w))
                .collect::<Vec<_>>()
                .join(" "),
            (None, why) => format!(
                "# {} {} {}: no command: {}",
                f.tool,
                f.scope,
                f.address_text(),
                why.as_deref().unwrap_or("none known")
            ),
        })
        .collect();
    if !unban.is_empty() {
        writeln!(out)?;
        writeln!(out, "Lift the bans in force now:")?;
        for cmd in unban {
            writeln!(out, "  {cmd}")?;
        }
    }
    // Advice only for the tools whose bans are in force (or possibly so).
    let tools: BTreeSet<Tool> = report
        .findings
        .iter()
        .filter(|f| in_force(f))
        .map(|f| f.tool)
        .collect();
    if tools.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "Stop it from happening again (firewall ACCEPT rules do not beat the ban tool's own chains; its ignore list does):")?;
    for tool in tools {
        let advice = match tool {
            Tool::Fail2ban => "cf-ban-audit snippet fail2ban --existing /etc/fail2ban/jail.local > jail.local.new   # then review, move into place, fail2ban-client reload --restart",
            Tool::Modsecurity | Tool::NginxLimit | Tool::ModEvasive => {
                "restore visitor addresses in the web server (see the diagnosis above), so these tools act on visitors, not on Cloudflare"
            }
            Tool::Btwaf => "enable CDN mode for the site (site.json \"cdn\": true with cf-connecting-ip) and restore visitor addresses",
            Tool::Csf => "put Cloudflare's ranges in /etc/csf/csf.ignore (not csf.allow: lfd still blocks those), then csf -ra; lift blocks with csf -dr IP / csf -tr IP",
            Tool::Iptables | Tool::Ipset | Tool::Nftables | Tool::Ufw | Tool::Firewalld | Tool::BtFirewall => {
                "remove the rule or entry, and fix the ignore list of the ban tool that put it there (fail2ban f2b-*, CrowdSec, CSF): an ACCEPT rule does not beat their chains"
            }
            Tool::Crowdsec => "lift with cscli decisions delete --ip IP (or --range CIDR) and allowlist Cloudflare (cscli allowlists, or a parser whitelist)",
            Tool::NginxDeny | Tool::ApacheDeny | Tool::List => "remove the Cloudflare address or range from the deny list",
            // A tool of a later library version.
            _ => "lift the ban and add Cloudflare's ranges to the tool's ignore list",
        };
        writeln!(out, "  {tool}: {advice}")?;
    }
    Ok(())
}

/// The diagnoses, each with its evidence and its fix.
fn diagnoses(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    for d in &report.diagnoses {
        writeln!(out)?;
        writeln!(out, "Diagnosis: {}", d.kind)?;
        for e in &d.evidence {
            writeln!(out, "  - {e}")?;
        }
        for line in d.fix.lines() {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}

/// The result of `check`, a block per file.
pub fn check(
    out: &mut dyn Write,
    results: &[cf_ban_audit_core::check::CheckedFile],
    source: &str,
) -> io::Result<()> {
    writeln!(out, "Ranges: {source}")?;
    for r in results {
        writeln!(out)?;
        let verdict = if r.has_gaps() { "NEEDS WORK" } else { "OK" };
        let kind = serde_json::to_value(r.kind).ok();
        let kind = kind.as_ref().and_then(|k| k.as_str()).unwrap_or("list");
        writeln!(out, "{} ({kind}, {} entries): {verdict}", r.path, r.entries)?;
        if !r.missing.is_empty() {
            writeln!(out, "  missing ranges: {}", r.missing.join(" "))?;
        }
        if !r.stale.is_empty() {
            writeln!(out, "  no longer Cloudflare's: {}", r.stale.join(" "))?;
        }
        if !r.overbroad.is_empty() {
            writeln!(
                out,
                "  over-broad (cover addresses that are not Cloudflare's): {}",
                r.overbroad.join(" ")
            )?;
        }
        for p in &r.problems {
            writeln!(out, "  {p}")?;
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
    for d in Registry::builtin().formats() {
        let tools: Vec<&str> = d.tools().iter().map(|t| t.name()).collect();
        writeln!(
            out,
            "{:<18} {:<10} {}  [{}]",
            d.format().name(),
            tools.join(","),
            d.description(),
            d.paths().join(" ")
        )?;
    }
    Ok(())
}
