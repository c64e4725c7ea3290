//! The scan report for people: what was read (and what could not be), the counts that mean
//! bans, a table per tool, the diagnoses, the commands that lift the bans and what prevents
//! them — fitted to a width.

use std::collections::BTreeSet;
use std::io::{self, Write};

use cf_ban_audit_core::{Authority, BanState, Finding, Report, Tool};

use super::fit::{self, width};
use super::table::{self, BanRow};
use super::{paint, remedy};

/// How many error messages the report prints before it only counts.
const MAX_ERRORS: usize = 10;
/// How many files with malformed lines the report names before it only counts.
const MAX_MALFORMED_FILES: usize = 5;
/// The longest note of an unconfirmed ban shown in its STATE cell; a longer one is a footnote.
const MAX_STATE_NOTE: usize = 40;

/// How the text report is laid out.
#[derive(Debug, Clone, Copy)]
pub struct TextOptions {
    /// ANSI colours: ACTIVE red, UNCONFIRMED and CHALLENGE yellow, the rest dim.
    pub color: bool,
    /// The width to fit, in columns; `None` (`--wide`): tables whole and prose unwrapped.
    pub width: Option<usize>,
}

/// Writes prose wrapped to the width, the first line after `first`, the others after `rest`.
pub(super) fn prose(
    out: &mut dyn Write,
    text: &str,
    width: Option<usize>,
    first: &str,
    rest: &str,
) -> io::Result<()> {
    for line in fit::wrap(text, width, first, rest) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Whether a finding's ban is in force or possibly so (unconfirmed), or a challenge stands
/// (which bouncers without a captcha provider apply as a ban): each has a lift command.
pub(super) fn in_force(f: &Finding) -> bool {
    matches!(
        f.state,
        BanState::Active | BanState::Unconfirmed | BanState::Challenge
    )
}

/// How many findings are in each state that the counts name.
#[derive(Debug, Clone, Copy)]
struct Counts {
    active: usize,
    unconfirmed: usize,
    challenge: usize,
    /// Every finding but the challenges: bans.
    bans: usize,
}

impl Counts {
    fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Counts {
        let mut c = Counts {
            active: 0,
            unconfirmed: 0,
            challenge: 0,
            bans: 0,
        };
        for f in findings {
            match f.state {
                BanState::Active => c.active += 1,
                BanState::Unconfirmed => c.unconfirmed += 1,
                BanState::Challenge => c.challenge += 1,
                _ => {}
            }
            c.bans += usize::from(f.state != BanState::Challenge);
        }
        c
    }

    /// Bans neither in force nor possibly so.
    fn past(&self) -> usize {
        self.bans - self.active - self.unconfirmed
    }
}

/// The counts that mean bans: distinct (tool, scope, address) findings, how many are in force
/// and how many unconfirmed, the challenges apart, and how many Cloudflare ranges and edge
/// addresses they hit; the 521 sentence only when something is in force.
fn headline(
    out: &mut dyn Write,
    report: &Report,
    counts: Counts,
    width: Option<usize>,
) -> io::Result<()> {
    let hit: Vec<&Finding> = report.findings.iter().filter(|f| in_force(f)).collect();
    let ranges: BTreeSet<_> = hit.iter().map(|f| f.range).collect();
    let addresses: BTreeSet<_> = hit.iter().map(|f| f.address).collect();
    let Counts {
        active,
        unconfirmed,
        challenge,
        bans,
    } = counts;
    let mut text = format!(
        "{bans} bans of Cloudflare addresses found: {active} in force, {unconfirmed} unconfirmed \
         (possibly in force), {} past.",
        counts.past()
    );
    if challenge > 0 {
        text.push_str(&format!(
            " {challenge} challenges in force (CrowdSec captcha decisions: every visitor \
             through those edges must solve a captcha, and bouncers without a captcha provider \
             ban them instead)."
        ));
    }
    if !hit.is_empty() {
        text.push_str(&format!(
            " They hit {} edge addresses or networks in {} Cloudflare ranges.",
            addresses.len(),
            ranges.len()
        ));
    }
    prose(out, &text, width, "", "")?;
    if active > 0 {
        prose(
            out,
            "Visitors routed through a banned edge get Cloudflare Error 521.",
            width,
            "",
            "",
        )?;
    }
    Ok(())
}

/// What was read: the scan's notes, how many files have notes, every error (the first
/// [`MAX_ERRORS`]) and the files with lines that could not be read (the first
/// [`MAX_MALFORMED_FILES`]).
fn reading(out: &mut dyn Write, report: &Report, width: Option<usize>) -> io::Result<()> {
    prose(
        out,
        &format!(
            "Ranges: {} ({} IPv4, {} IPv6)",
            fit::printable(&report.ranges.source),
            report.ranges.v4,
            report.ranges.v6
        ),
        width,
        "",
        "  ",
    )?;
    let lines: u64 = report.files.iter().map(|f| f.lines).sum();
    prose(
        out,
        &format!(
            "Read {} files ({} lines), skipped {} of no known format, {} errors.",
            report.files.len(),
            lines,
            report.skipped_files,
            report.errors.len()
        ),
        width,
        "",
        "  ",
    )?;
    for note in &report.notes {
        prose(out, &fit::printable(note), width, "Note: ", "  ")?;
    }
    let noted = report.files.iter().filter(|f| !f.notes.is_empty()).count();
    if noted > 0 {
        prose(
            out,
            &format!(
                "{noted} files have notes (entries skipped and why, backups not read, lists \
                 of other purposes): --format json lists them."
            ),
            width,
            "",
            "  ",
        )?;
    }
    for e in report.errors.iter().take(MAX_ERRORS) {
        prose(
            out,
            &fit::printable(&e.message),
            width,
            "  error: ",
            "         ",
        )?;
    }
    if report.errors.len() > MAX_ERRORS {
        writeln!(
            out,
            "  ... and {} more errors",
            report.errors.len() - MAX_ERRORS
        )?;
    }
    let malformed = crate::monitor::malformed(report);
    if malformed == 0 {
        return Ok(());
    }
    let files: Vec<_> = report.files.iter().filter(|f| f.malformed > 0).collect();
    prose(
        out,
        &format!(
            "{malformed} lines in {} files looked like entries but could not be read:",
            files.len()
        ),
        width,
        "",
        "  ",
    )?;
    for f in files.iter().take(MAX_MALFORMED_FILES) {
        let more = match f.malformed {
            1 => String::new(),
            n => format!(" ({} more in this file)", n - 1),
        };
        let text = match f.malformed_samples.first() {
            Some(m) => {
                // Some readers name the place in the message already.
                let place = fit::place(&fit::printable(&f.path), m.line);
                let message = fit::printable(&m.message);
                let message = message
                    .strip_prefix(&format!("{place}: "))
                    .unwrap_or(&message);
                format!("{place}: {message}{more}")
            }
            None => format!("{}: {} lines", fit::printable(&f.path), f.malformed),
        };
        prose(out, &text, width, "  ", "      ")?;
    }
    if files.len() > MAX_MALFORMED_FILES {
        let rest = &files[MAX_MALFORMED_FILES..];
        let lines: u64 = rest.iter().map(|f| f.malformed).sum();
        writeln!(
            out,
            "  ... and {} more files with {lines} such lines",
            rest.len()
        )?;
    }
    Ok(())
}

/// The finding's STATE cell: the word, and the end or age of the ban; and whether its note
/// is said there (else it is a footnote).
fn state_cell(f: &Finding) -> (String, Option<String>, bool) {
    let time = |t: chrono::NaiveDateTime| cf_ban_audit_core::rfc3339_seconds(&t);
    match f.state {
        BanState::Active => {
            // Timed-ban tools say how long or nothing; a rule or list entry stands until
            // someone removes it.
            let timed = matches!(
                f.tool,
                Tool::Fail2ban | Tool::Crowdsec | Tool::Csf | Tool::Btwaf | Tool::ModEvasive
            );
            let detail = match f.expires {
                Some(end) => Some(format!("until {}", time(end))),
                None if f
                    .note
                    .as_deref()
                    .is_some_and(|n| n.starts_with("permanent")) =>
                {
                    Some("permanent".to_string())
                }
                None if !timed => Some("until removed".to_string()),
                None => None,
            };
            ("ACTIVE".into(), detail, false)
        }
        BanState::Unconfirmed => {
            let note = f
                .note
                .as_deref()
                .map(fit::printable)
                .filter(|n| width(n) <= MAX_STATE_NOTE);
            let shown = note.is_some();
            ("UNCONFIRMED".into(), note, shown)
        }
        BanState::Challenge => {
            let detail = f.expires.map(|end| format!("until {}", time(end)));
            ("CHALLENGE".into(), detail, false)
        }
        state => (state.to_string(), None, false),
    }
}

/// The formats of the finding's evidence, the one its state follows first, each once; a live
/// read marked `(live)`.
fn sources(f: &Finding) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in &f.evidence {
        let name = if e.authority == Authority::Live {
            format!("{}(live)", fit::printable(e.format.name()))
        } else {
            fit::printable(e.format.name())
        };
        if !out.contains(&name) {
            out.push(name);
        }
    }
    if out.is_empty() {
        // A report written before evidence was.
        out.push(fit::printable(f.format.name()));
    }
    out
}

/// The table of one tool's findings with its footnotes (conflicts, notes); `marks` numbers the
/// footnotes across the report.
fn tool_table(
    out: &mut dyn Write,
    tool: Tool,
    findings: &[&Finding],
    opts: &TextOptions,
    marks: &mut usize,
) -> io::Result<()> {
    let counts = Counts::of(findings.iter().copied());
    let challenges = match counts.challenge {
        0 => String::new(),
        n => format!(", {n} challenges"),
    };
    writeln!(out)?;
    prose(
        out,
        &format!(
            "{tool} ({} bans: {} in force, {} unconfirmed, {} past{challenges})",
            counts.bans,
            counts.active,
            counts.unconfirmed,
            counts.past()
        ),
        opts.width,
        "",
        "  ",
    )?;
    let mut rows = Vec::with_capacity(findings.len());
    let mut notes = Vec::new();
    for f in findings {
        let (state, detail, note_shown) = state_cell(f);
        let mut said = Vec::new();
        if let Some(note) = f.note.as_deref().filter(|_| !note_shown) {
            said.push(fit::printable(note));
        }
        if let Some(conflict) = &f.conflict {
            said.push(format!("sources disagree: {}", fit::printable(conflict)));
        }
        let marker = (!said.is_empty()).then(|| {
            *marks += 1;
            format!("[{marks}]")
        });
        if let Some(marker) = &marker {
            let scope = match f.scope.as_str() {
                "" => String::new(),
                scope => format!(", {} {}", tool.scope_name(), fit::printable(scope)),
            };
            notes.push((
                marker.clone(),
                format!("{}{scope}: {}", f.address_text(), said.join("; ")),
            ));
        }
        let (path, line) = match (f.evidence.first(), f.locations.last()) {
            (Some(e), _) => (e.location.path.display().to_string(), e.location.line),
            (None, Some(l)) => (l.path.display().to_string(), l.line),
            (None, None) => ("-".to_string(), 0),
        };
        rows.push(BanRow {
            state,
            detail,
            marker,
            address: f.address_text(),
            range: f.range.to_string(),
            scope: match f.scope.as_str() {
                "" => "-".to_string(),
                scope => fit::printable(scope),
            },
            last_seen: f
                .last_seen
                .map(|t| cf_ban_audit_core::rfc3339_seconds(&t))
                .unwrap_or_else(|| "-".into()),
            sources: sources(f),
            path: fit::printable(&path),
            line,
        });
    }
    let laid = table::lay_out(&tool.scope_name().to_uppercase(), &rows, opts.width);
    writeln!(out, "{}", laid.header)?;
    for (lines, f) in laid.rows.iter().zip(findings) {
        let code = match f.state {
            BanState::Active => "1;31",
            BanState::Unconfirmed | BanState::Challenge => "33",
            _ => "2",
        };
        for line in lines {
            writeln!(out, "{}", paint(line, code, opts.color))?;
        }
    }
    if !notes.is_empty() {
        writeln!(out)?;
        for (marker, text) in notes {
            let hanging = " ".repeat(width(&marker) + 3);
            prose(out, &text, opts.width, &format!("  {marker} "), &hanging)?;
        }
    }
    Ok(())
}

/// The report for people: what was read, a table per tool, the diagnoses, the commands that
/// lift the bans in force and what stops them from coming back.
pub fn text(out: &mut dyn Write, report: &Report, opts: &TextOptions) -> io::Result<()> {
    let width = opts.width;
    reading(out, report, width)?;
    writeln!(out)?;
    if report.findings.is_empty() {
        writeln!(out, "No bans of Cloudflare addresses found.")?;
        return remedy::diagnoses(out, report, width);
    }
    headline(out, report, Counts::of(&report.findings), width)?;
    let mut marks = 0;
    for tool in Tool::ALL {
        let findings: Vec<&Finding> = report.findings.iter().filter(|f| f.tool == *tool).collect();
        if !findings.is_empty() {
            tool_table(out, *tool, &findings, opts, &mut marks)?;
        }
    }
    remedy::diagnoses(out, report, width)?;
    remedy::lifts(out, report, width)?;
    remedy::advice(out, report, width)
}
