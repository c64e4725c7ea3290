//! Rendering of reports and lists: text for people, JSON for programs. The scan's text report
//! is in `text` (what was read, the counts, the tables), `table` (one tool's bans fitted to a
//! width), `remedy` (diagnoses, lift commands, advice) and `fit` (widths, wrapping, paths).

mod fit;
mod remedy;
mod table;
mod text;

use std::io::{self, Write};

use cf_ban_audit_core::formats::Registry;
use cf_ban_audit_core::{RangeSet, Report};

pub use text::{text, TextOptions};

/// The JSON report, one document.
pub fn json(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// Quotes a word for a POSIX shell when it needs it.
pub(crate) fn shell_word(s: &str) -> String {
    cf_ban_audit_core::shell_word(s)
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

/// The result of `check`, a block per file.
pub fn check(
    out: &mut dyn Write,
    results: &[cf_ban_audit_core::check::CheckedFile],
    source: &str,
) -> io::Result<()> {
    writeln!(out, "Ranges: {}", fit::printable(source))?;
    for r in results {
        writeln!(out)?;
        if let Some(cloud) = &r.cloud {
            cloud_check(out, r, cloud)?;
            continue;
        }
        let verdict = if r.has_gaps() { "NEEDS WORK" } else { "OK" };
        let kind = serde_json::to_value(r.kind).ok();
        let kind = kind.as_ref().and_then(|k| k.as_str()).unwrap_or("list");
        writeln!(
            out,
            "{} ({}, {} entries): {verdict}",
            fit::printable(&r.path),
            fit::printable(kind),
            r.entries
        )?;
        if !r.missing.is_empty() {
            writeln!(
                out,
                "  missing ranges: {}",
                fit::printable(&r.missing.join(" "))
            )?;
        }
        if !r.stale.is_empty() {
            writeln!(
                out,
                "  no longer Cloudflare's: {}",
                fit::printable(&r.stale.join(" "))
            )?;
        }
        if !r.overbroad.is_empty() {
            writeln!(
                out,
                "  over-broad (cover addresses that are not Cloudflare's): {}",
                fit::printable(&r.overbroad.join(" "))
            )?;
        }
        for p in &r.problems {
            writeln!(out, "  {}", fit::printable(p))?;
        }
        for note in &r.notes {
            writeln!(out, "  {}", fit::printable(note))?;
        }
    }
    Ok(())
}

/// One cloud export's verdict: per port and rule, the ranges it refuses (a part of a range
/// in brackets after it), then what could not be resolved, then the notes.
fn cloud_check(
    out: &mut dyn Write,
    r: &cf_ban_audit_core::check::CheckedFile,
    cloud: &cf_ban_audit_core::check::CloudCheck,
) -> io::Result<()> {
    let verdict = if !cloud.refused.is_empty() {
        "REFUSED"
    } else if !cloud.unresolved.is_empty() {
        "UNRESOLVED"
    } else {
        "OK"
    };
    let ports: Vec<String> = cloud.ports.iter().map(|p| p.to_string()).collect();
    writeln!(
        out,
        "{} ({}, {} rules evaluated on TCP): {verdict}",
        fit::printable(&r.path),
        cloud.vendor,
        cloud.rules
    )?;
    let part = |range: &str, nets: &[String]| {
        if nets.len() == 1 && nets[0] == range {
            range.to_string()
        } else {
            format!("{range} [{}]", nets.join(" "))
        }
    };
    if verdict == "OK" {
        writeln!(out, "  every range reaches TCP {}", ports.join(" and "))?;
    }
    // Grouped by (port, rule), in the order first met.
    let groups = grouped(
        cloud
            .refused
            .iter()
            .map(|x| ((x.port, x.rule.as_str()), part(&x.range, &x.nets))),
    );
    for ((port, rule), ranges) in &groups {
        writeln!(
            out,
            "  refused on {port}/tcp by {}: {} range{}: {}",
            fit::printable(rule),
            ranges.len(),
            if ranges.len() == 1 { "" } else { "s" },
            fit::printable(&ranges.join(" "))
        )?;
    }
    let unresolved = grouped(cloud.unresolved.iter().map(|x| {
        let key = (
            x.port,
            x.rule.as_str(),
            x.why.as_str(),
            x.otherwise.as_str(),
        );
        (key, part(&x.range, &x.nets))
    }));
    for ((port, rule, why, otherwise), ranges) in &unresolved {
        writeln!(
            out,
            "  unresolved on {port}/tcp: {} range{} depend on {} ({}); otherwise {}: {}",
            ranges.len(),
            if ranges.len() == 1 { "" } else { "s" },
            fit::printable(rule),
            fit::printable(why),
            fit::printable(otherwise),
            fit::printable(&ranges.join(" "))
        )?;
    }
    for note in &cloud.notes {
        writeln!(out, "  note: {}", fit::printable(note))?;
    }
    Ok(())
}

/// The items of each key together, keys in the order first met.
fn grouped<K: PartialEq>(items: impl Iterator<Item = (K, String)>) -> Vec<(K, Vec<String>)> {
    let mut out: Vec<(K, Vec<String>)> = Vec::new();
    for (key, item) in items {
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(item),
            None => out.push((key, vec![item])),
        }
    }
    out
}

/// The range set in use.
pub fn ranges(out: &mut dyn Write, set: &RangeSet, source: &str) -> io::Result<()> {
    writeln!(
        out,
        "# {}: {} IPv4, {} IPv6 networks",
        fit::printable(source),
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
    let width = Registry::builtin()
        .formats()
        .map(|d| d.format().name().len())
        .max()
        .unwrap_or(0)
        .max(18);
    for d in Registry::builtin().formats() {
        let tools: Vec<&str> = d.tools().iter().map(|t| t.name()).collect();
        // A format of no tool bans nothing: it is evidence for the diagnoses.
        let tools = if tools.is_empty() {
            "(evidence)".to_string()
        } else {
            tools.join(",")
        };
        writeln!(
            out,
            "{:<width$} {:<10} {}  [{}]",
            d.format().name(),
            tools,
            d.description(),
            d.paths().join(" ")
        )?;
    }
    Ok(())
}
