//! node_exporter textfile collector metrics, made to be alerted on.
//!
//! - **Every family is always present.** A family broken down by a label set the scan may
//!   leave empty gets one sample without that breakdown at 0: each tool with no finding has
//!   `cf_ban_audit_findings{tool="csf"} 0` (no `scope` label), each diagnosis kind not found
//!   has `cf_ban_audit_diagnoses{kind="real-ip-not-restored"} 0` (no `subject`), and
//!   `cf_ban_audit_file_malformed_lines 0` stands for no file with malformed lines. So
//!   `sum(cf_ban_audit_active_findings)` is 0 on a clean host, never empty, and a series
//!   that had bans goes stale (and its alert resolves) when they are lifted.
//! - **Labels are bounded.** A free-text label value (`scope`, `subject`, `path`) is cut to
//!   [`MAX_LABEL_CHARS`] characters; each tool keeps its [`MAX_SCOPES`] scopes with the most
//!   findings and sums the rest under `scope="other"` (diagnoses per kind and malformed files
//!   likewise, under `subject="other"` and `path="other"`). A scan adds at most a few hundred
//!   series, whatever the logs hold.
//! - `--label NAME=VALUE` adds labels to every sample, so that the files of two scans can sit
//!   in one collector directory.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cf_ban_audit_core::{BanState, DiagnosisKind, Report, Tool};

use super::malformed;

/// The longest value a free-text label (`scope`, `subject`, `path`) keeps, in characters.
pub const MAX_LABEL_CHARS: usize = 120;

/// How many distinct values a free-text label keeps per tool (or per diagnosis kind); the
/// rest are summed under the value `other`.
pub const MAX_SCOPES: usize = 20;

/// Label names the metrics use themselves, which `--label` may not take.
const OWN_LABELS: &[&str] = &[
    "tool", "scope", "kind", "subject", "path", "format", "version",
];

/// Every diagnosis kind, for the zero samples of `cf_ban_audit_diagnoses`.
const DIAGNOSIS_KINDS: &[DiagnosisKind] = &[
    DiagnosisKind::RealIpNotRestored,
    DiagnosisKind::RealIpRestored,
    DiagnosisKind::FirewallBansIneffective,
    DiagnosisKind::RealIpForgeable,
];

/// What the metrics say beyond the report itself.
#[derive(Debug, Default)]
pub struct PromOptions {
    /// Extra labels for every sample (`--label NAME=VALUE`), names already checked by
    /// [`parse_label`].
    pub labels: Vec<(String, String)>,
    /// How long the scan took.
    pub duration: Duration,
    /// When the range list in use was published or fetched, if known.
    pub ranges_time: Option<SystemTime>,
}

/// Parses a `--label NAME=VALUE`: NAME a Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`),
/// not reserved (`__…`) and not one the metrics use; VALUE any text (escaped on output).
pub fn parse_label(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: expected NAME=VALUE"))?;
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "{name:?}: not a Prometheus label name (letters, digits and _, not starting with a digit)"
        ));
    }
    if name.starts_with("__") {
        return Err(format!(
            "{name:?}: label names starting with __ are reserved to Prometheus"
        ));
    }
    if OWN_LABELS.contains(&name) {
        return Err(format!(
            "{name:?}: the metrics use this label themselves (they use {})",
            OWN_LABELS.join(", ")
        ));
    }
    Ok((name.to_string(), value.to_string()))
}

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

/// A free-text label value cut to [`MAX_LABEL_CHARS`] characters.
fn cut(s: &str) -> &str {
    match s.char_indices().nth(MAX_LABEL_CHARS) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

/// Keeps the [`MAX_SCOPES`] values with the largest `key` (values cut first, equal cut
/// values merged; ties by value), the rest summed under `other`. `add` sums two counts.
fn bounded<T: Default + Clone, K: Ord>(
    items: impl IntoIterator<Item = (String, T)>,
    key: impl Fn(&T) -> K,
    add: impl Fn(&mut T, &T),
) -> Vec<(String, T)> {
    let mut merged: BTreeMap<String, T> = BTreeMap::new();
    for (value, count) in items {
        add(merged.entry(cut(&value).to_string()).or_default(), &count);
    }
    let mut all: Vec<(String, T)> = merged.into_iter().collect();
    if all.len() <= MAX_SCOPES {
        return all;
    }
    all.sort_by_key(|(value, count)| (Reverse(key(count)), value.clone()));
    let rest = all.split_off(MAX_SCOPES);
    let mut other = all
        .iter()
        .position(|(v, _)| v == "other")
        .map(|i| all.remove(i).1)
        .unwrap_or_default();
    for (_, count) in &rest {
        add(&mut other, count);
    }
    all.push(("other".to_string(), other));
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

/// Finding counts of one tool and scope: all, active, unconfirmed, challenge.
#[derive(Debug, Default, Clone, Copy)]
struct Counts([u64; 4]);

/// Writes the exposition text, each sample with the extra labels in front.
struct Writer<'a> {
    out: &'a mut dyn Write,
    extra: String,
}

impl Writer<'_> {
    /// `# HELP` and `# TYPE` of a family.
    fn family(&mut self, name: &str, kind: &str, help: &str) -> io::Result<()> {
        writeln!(self.out, "# HELP {name} {help}")?;
        writeln!(self.out, "# TYPE {name} {kind}")
    }

    /// One sample: `labels` are (name, raw value) pairs, escaped here.
    fn sample(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        value: impl std::fmt::Display,
    ) -> io::Result<()> {
        let mut all = self.extra.clone();
        for (k, v) in labels {
            if !all.is_empty() {
                all.push(',');
            }
            all.push_str(&format!("{k}=\"{}\"", label(v)));
        }
        if all.is_empty() {
            writeln!(self.out, "{name} {value}")
        } else {
            writeln!(self.out, "{name}{{{all}}} {value}")
        }
    }
}

/// Seconds since the Unix epoch of `t` (0 before it).
fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// node_exporter textfile collector metrics (write to a `.prom` file atomically).
pub fn prometheus(out: &mut dyn Write, report: &Report, opts: &PromOptions) -> io::Result<()> {
    let extra = opts
        .labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", label(v)))
        .collect::<Vec<_>>()
        .join(",");
    let mut w = Writer { out, extra };
    findings(&mut w, report)?;
    diagnoses(&mut w, report)?;
    scan_figures(&mut w, report, opts)
}

/// The four findings families, by tool and (bounded) scope.
fn findings(w: &mut Writer<'_>, report: &Report) -> io::Result<()> {
    let mut by_tool: BTreeMap<&str, BTreeMap<&str, Counts>> = BTreeMap::new();
    for f in &report.findings {
        let c = by_tool
            .entry(f.tool.name())
            .or_default()
            .entry(f.scope.as_str())
            .or_default();
        c.0[0] += 1;
        c.0[1] += u64::from(f.active);
        c.0[2] += u64::from(f.state == BanState::Unconfirmed);
        c.0[3] += u64::from(f.state == BanState::Challenge);
    }
    let mut rows: Vec<(&str, Option<String>, Counts)> = Vec::new();
    for tool in Tool::ALL {
        match by_tool.remove(tool.name()) {
            None => rows.push((tool.name(), None, Counts::default())),
            Some(scopes) => {
                let kept = bounded(
                    scopes.into_iter().map(|(s, c)| (s.to_string(), c)),
                    // Scopes with bans in force first, then the most findings.
                    |c| (c.0[1] + c.0[2] + c.0[3], c.0[0]),
                    |a, b| (0..4).for_each(|i| a.0[i] += b.0[i]),
                );
                rows.extend(kept.into_iter().map(|(s, c)| (tool.name(), Some(s), c)));
            }
        }
    }
    let families = [
        ("cf_ban_audit_findings", "Bans of Cloudflare addresses found, by tool and scope (a tool with none: one sample without scope, at 0)."),
        ("cf_ban_audit_active_findings", "Bans of Cloudflare addresses still in force, by tool and scope."),
        ("cf_ban_audit_unconfirmed_findings", "Bans of Cloudflare addresses possibly in force (no current source confirms them and nothing says how long they last), by tool and scope."),
        ("cf_ban_audit_challenge_findings", "Challenges of Cloudflare addresses in force (CrowdSec captcha decisions: bouncers without a captcha provider ban instead), by tool and scope."),
    ];
    for (i, (name, help)) in families.iter().enumerate() {
        w.family(name, "gauge", help)?;
        for (tool, scope, c) in &rows {
            match scope {
                Some(s) => w.sample(name, &[("tool", tool), ("scope", s)], c.0[i])?,
                None => w.sample(name, &[("tool", tool)], c.0[i])?,
            }
        }
    }
    Ok(())
}

/// `cf_ban_audit_diagnoses` by kind and (bounded) subject, every kind present.
fn diagnoses(w: &mut Writer<'_>, report: &Report) -> io::Result<()> {
    let name = "cf_ban_audit_diagnoses";
    w.family(name, "gauge", "Set-up problems found, by kind (such as real-ip-not-restored) and subject (a kind not found: one sample without subject, at 0).")?;
    for kind in DIAGNOSIS_KINDS {
        let subjects = report
            .diagnoses
            .iter()
            .filter(|d| d.kind == *kind)
            .map(|d| (d.subject.clone(), 1u64));
        let kept = bounded(subjects, |n| *n, |a, b| *a += b);
        if kept.is_empty() {
            w.sample(name, &[("kind", kind.as_str())], 0)?;
        }
        for (subject, n) in kept {
            w.sample(name, &[("kind", kind.as_str()), ("subject", &subject)], n)?;
        }
    }
    Ok(())
}

/// What the scan read, met and took, and what it is.
fn scan_figures(w: &mut Writer<'_>, report: &Report, opts: &PromOptions) -> io::Result<()> {
    let simple: [(&str, &str, u64); 4] = [
        (
            "cf_ban_audit_files_read",
            "Files read by the last scan.",
            report.files.len() as u64,
        ),
        (
            "cf_ban_audit_skipped_files",
            "Files the last scan found but of no known format (not read further).",
            report.skipped_files,
        ),
        (
            "cf_ban_audit_errors",
            "Errors met by the last scan (files that could not be read; the scan went on).",
            report.errors.len() as u64,
        ),
        (
            "cf_ban_audit_malformed_lines",
            "Lines that looked like entries but could not be read.",
            malformed(report),
        ),
    ];
    for (name, help, value) in simple {
        w.family(name, "gauge", help)?;
        w.sample(name, &[], value)?;
    }
    let name = "cf_ban_audit_file_malformed_lines";
    w.family(name, "gauge", "Lines of one file that looked like entries but could not be read (no file with any: one sample without path, at 0).")?;
    let files = bounded(
        report
            .files
            .iter()
            .filter(|f| f.malformed > 0)
            .map(|f| (f.path.clone(), (f.malformed, f.format.name()))),
        |c| c.0,
        |a, b| *a = (a.0 + b.0, if a.1.is_empty() { b.1 } else { a.1 }),
    );
    if files.is_empty() {
        w.sample(name, &[], 0)?;
    }
    for (path, (n, format)) in &files {
        // The files summed under path="other" may be of several formats.
        let format = if path == "other" { "other" } else { format };
        w.sample(name, &[("path", path), ("format", format)], n)?;
    }
    let scanned = report
        .scanned_at
        .and_local_timezone(chrono::Local)
        .earliest()
        .map(|t| t.timestamp())
        .unwrap_or_default();
    let name = "cf_ban_audit_last_scan_timestamp_seconds";
    w.family(name, "gauge", "When the last scan ran (Unix time).")?;
    w.sample(name, &[], scanned)?;
    let name = "cf_ban_audit_scan_duration_seconds";
    w.family(name, "gauge", "How long the last scan took.")?;
    w.sample(name, &[], format!("{:.3}", opts.duration.as_secs_f64()))?;
    let name = "cf_ban_audit_ranges_age_seconds";
    w.family(name, "gauge", "Age of the Cloudflare range list the last scan used, at the time of the scan (the embedded snapshot's date, or when `ranges update` fetched the cache; with --no-cloudflare, the oldest --ranges file's modification time; NaN when unknown).")?;
    match opts.ranges_time {
        Some(t) => w.sample(
            name,
            &[],
            (scanned as f64 - unix_seconds(t)).max(0.0).round(),
        )?,
        None => w.sample(name, &[], "NaN")?,
    }
    let name = "cf_ban_audit_build_info";
    w.family(
        name,
        "gauge",
        "The cf-ban-audit that wrote these metrics (always 1).",
    )?;
    w.sample(name, &[("version", env!("CARGO_PKG_VERSION"))], 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_are_checked() {
        assert_eq!(
            parse_label("instance_role=web 1").unwrap(),
            ("instance_role".to_string(), "web 1".to_string())
        );
        assert_eq!(parse_label("a=").unwrap().1, "");
        assert_eq!(parse_label("a=b=c").unwrap().1, "b=c");
        for bad in [
            "novalue",
            "=x",
            "1a=x",
            "a-b=x",
            "__name__=x",
            "tool=x",
            "scope=x",
            "é=x",
        ] {
            assert!(parse_label(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_are_cut_and_capped_with_the_rest_under_other() {
        let long = "x".repeat(5000);
        assert_eq!(cut(&long).len(), MAX_LABEL_CHARS);
        assert_eq!(
            cut("é".repeat(200).as_str()).chars().count(),
            MAX_LABEL_CHARS
        );
        let many = (0..100u64).map(|i| (format!("reason {i:03}"), i));
        let kept = bounded(many, |n| *n, |a, b| *a += b);
        assert_eq!(kept.len(), MAX_SCOPES + 1);
        let other = kept.iter().find(|(v, _)| v == "other").unwrap().1;
        assert_eq!(other, (0..80).sum::<u64>());
        assert!(kept.iter().any(|(v, n)| v == "reason 099" && *n == 99));
        assert_eq!(
            kept.iter().map(|(_, n)| n).sum::<u64>(),
            (0..100).sum::<u64>()
        );
        // Two values equal once cut are one.
        let twins = [(format!("{long}a"), 1u64), (format!("{long}b"), 2)];
        assert_eq!(
            bounded(twins, |n| *n, |a, b| *a += b),
            [(long[..MAX_LABEL_CHARS].to_string(), 3)]
        );
    }
}
