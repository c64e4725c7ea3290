//! A Nagios/Icinga plugin, as the plugin guidelines ask
//! (<https://nagios-plugins.org/doc/guidelines.html>): one status line
//! `CF-BAN-AUDIT STATE - text | perfdata`, long output on the lines after it, exit status 0 OK,
//! 1 WARNING, 2 CRITICAL, 3 UNKNOWN, `-w`/`-c` thresholds in the guidelines' range format and
//! `-t` for a timeout. `scan --format nagios` writes it; in that mode nothing goes to standard
//! error (main.rs turns usage errors and failures into an UNKNOWN status line too).

mod plugin;
mod range;

use std::io::{self, Write};
use std::time::Duration;

use cf_ban_audit_core::{BanState, Finding, Report};
use chrono::NaiveDateTime;
use clap::Args;

pub use plugin::{active, enter, finish, hold, requested, taken, usage_error, watchdog};
pub use range::Range;

use super::malformed;

/// The plugin's options (`scan --format nagios -w … -c … -t …`).
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Nagios plugin (--format nagios)")]
pub struct NagiosArgs {
    /// WARNING thresholds: `[STATE=]RANGE`, comma separated or repeated; STATE is active (the
    /// default), unconfirmed or challenge; RANGE as the plugin guidelines write it (5 alerts
    /// above 5, 10: below 10, ~:5 above 5, @1:5 inside 1..5). A state no -w or -c names keeps its
    /// default: active -w 0 -c 0 (any ban in force is CRITICAL), unconfirmed -w 0, challenge -w 0.
    #[arg(short = 'w', long, value_name = "THRESHOLDS")]
    pub warning: Vec<String>,
    /// CRITICAL thresholds, as for --warning.
    #[arg(short = 'c', long, value_name = "THRESHOLDS")]
    pub critical: Vec<String>,
    /// Give up after SECONDS: with --format nagios an UNKNOWN status line and exit 3, else a
    /// message and exit 2.
    #[arg(short = 't', long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    /// With --format nagios: unconfirmed and past bans count only when last seen since WHEN
    /// (a duration such as 7d, a date, an RFC 3339 time, or `all`), so that an old log line
    /// does not warn for ever; bans in force and challenges always count. Default 7d.
    #[arg(long, value_name = "WHEN")]
    pub past_since: Option<String>,
}

impl NagiosArgs {
    /// Whether an option that only the Nagios format reads was given.
    pub fn given(&self) -> bool {
        !self.warning.is_empty() || !self.critical.is_empty() || self.past_since.is_some()
    }
}

/// The counts that take thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    Active,
    Unconfirmed,
    Challenge,
}

impl Metric {
    const ALL: [Metric; 3] = [Metric::Active, Metric::Unconfirmed, Metric::Challenge];

    fn name(self) -> &'static str {
        match self {
            Metric::Active => "active",
            Metric::Unconfirmed => "unconfirmed",
            Metric::Challenge => "challenge",
        }
    }
}

/// What the plugin checks against: thresholds for each count and the window for past bans.
#[derive(Debug, Clone)]
pub struct Check {
    /// WARNING and CRITICAL ranges of active, unconfirmed and challenge counts.
    thresholds: [(Option<Range>, Option<Range>); 3],
    /// Unconfirmed and past bans last seen before this are left out (`None`: all count).
    window: Option<NaiveDateTime>,
    /// How long the scan took.
    pub elapsed: Option<Duration>,
    /// Messages said while scanning (warnings about the range cache): long output.
    pub messages: Vec<String>,
}

impl Check {
    /// Reads the options; `now` is the time `--past-since` counts back from.
    pub fn new(a: &NagiosArgs, now: NaiveDateTime) -> Result<Check, String> {
        let mut thresholds = [(None, None); 3];
        let mut named = [false; 3];
        for (texts, critical) in [(&a.warning, false), (&a.critical, true)] {
            for item in texts.iter().flat_map(|t| t.split(',')) {
                let (metric, range) = match item.split_once('=') {
                    Some((name, range)) => {
                        let metric = Metric::ALL
                            .into_iter()
                            .find(|m| m.name() == name.trim())
                            .ok_or_else(|| {
                                format!(
                                    "threshold {item:?}: unknown state {name:?} (active, unconfirmed, challenge)"
                                )
                            })?;
                        (metric, range)
                    }
                    None => (Metric::Active, item),
                };
                let range = Range::parse(range)?;
                let slot = &mut thresholds[metric as usize];
                if critical {
                    slot.1 = Some(range);
                } else {
                    slot.0 = Some(range);
                }
                named[metric as usize] = true;
            }
        }
        let zero = Some(Range::above(0.0));
        for (i, default) in [(zero, zero), (zero, None), (zero, None)]
            .into_iter()
            .enumerate()
        {
            if !named[i] {
                thresholds[i] = default;
            }
        }
        let window = match a.past_since.as_deref().unwrap_or("7d").trim() {
            "all" => None,
            when => Some(
                crate::args::parse_since(when, now)
                    .map_err(|e| e.replace("--since", "--past-since"))?,
            ),
        };
        Ok(Check {
            thresholds,
            window,
            elapsed: None,
            messages: Vec::new(),
        })
    }

    /// The state a count raises: 2 CRITICAL, 1 WARNING or 0 OK.
    fn state(&self, metric: Metric, value: usize) -> u8 {
        let (warning, critical) = self.thresholds[metric as usize];
        let value = value as f64;
        if critical.is_some_and(|r| r.alerts(value)) {
            2
        } else if warning.is_some_and(|r| r.alerts(value)) {
            1
        } else {
            0
        }
    }

    /// Whether a finding last seen at `seen` lies in the window.
    fn recent(&self, f: &Finding) -> bool {
        match (self.window, f.last_seen) {
            (Some(since), Some(seen)) => seen >= since,
            _ => true,
        }
    }
}

/// The plugin's state names, by exit status.
const STATES: [&str; 4] = ["OK", "WARNING", "CRITICAL", "UNKNOWN"];

/// Writes the status line and the long output; returns the plugin exit status: the worst state
/// the thresholds give the active, unconfirmed and challenge counts, else 3 UNKNOWN when
/// errors stopped a file from being read (an all-clear cannot be given), else 0 OK.
pub fn nagios(out: &mut dyn Write, report: &Report, check: &Check) -> io::Result<u8> {
    let of = |state: BanState| -> Vec<&Finding> {
        report
            .findings
            .iter()
            .filter(|f| f.state == state)
            .collect()
    };
    let active = of(BanState::Active);
    let challenge = of(BanState::Challenge);
    let (unconfirmed, unconfirmed_old): (Vec<&Finding>, Vec<&Finding>) = of(BanState::Unconfirmed)
        .into_iter()
        .partition(|f| check.recent(f));
    let (past, past_old): (Vec<&Finding>, Vec<&Finding>) = report
        .findings
        .iter()
        .filter(|f| {
            !matches!(
                f.state,
                BanState::Active | BanState::Unconfirmed | BanState::Challenge
            )
        })
        .partition(|f| check.recent(f));
    let counts = [active.len(), unconfirmed.len(), challenge.len()];
    let states = Metric::ALL.map(|m| check.state(m, counts[m as usize]));
    let mut code = states.into_iter().max().unwrap_or(0);
    if code == 0 && !report.errors.is_empty() {
        code = 3;
    }
    let list = |bans: &[&Finding]| {
        let shown: Vec<String> = bans
            .iter()
            .take(5)
            .map(|f| format!("{} {} {}", f.tool, f.scope, f.address_text()))
            .collect();
        let more = if bans.len() > 5 {
            format!(", +{} more", bans.len() - 5)
        } else {
            String::new()
        };
        format!("{}{more}", shown.join(", "))
    };
    let mut said = Vec::new();
    if !active.is_empty() {
        said.push(format!(
            "{} Cloudflare addresses banned now ({})",
            active.len(),
            list(&active)
        ));
    }
    if !unconfirmed.is_empty() {
        said.push(format!(
            "{} bans of Cloudflare addresses possibly in force, unconfirmed ({})",
            unconfirmed.len(),
            list(&unconfirmed)
        ));
    }
    if !challenge.is_empty() {
        said.push(format!(
            "{} challenges of Cloudflare addresses in force, a ban where the bouncer has no \
             captcha ({})",
            challenge.len(),
            list(&challenge)
        ));
    }
    if !report.errors.is_empty() {
        said.push(format!(
            "{} errors while scanning: {}",
            report.errors.len(),
            report.errors[0].message
        ));
    }
    if said.is_empty() {
        said.push(if past.is_empty() {
            "no bans of Cloudflare addresses in force".to_string()
        } else {
            format!(
                "no bans of Cloudflare addresses in force ({} past)",
                past.len()
            )
        });
    }
    let perf = |metric: Metric| {
        let (w, c) = check.thresholds[metric as usize];
        let show = |r: Option<Range>| r.map(|r| r.to_string()).unwrap_or_default();
        format!(
            "'{}'={};{};{};0",
            metric.name(),
            counts[metric as usize],
            show(w),
            show(c)
        )
    };
    let mut perfdata: Vec<String> = Metric::ALL.iter().map(|&m| perf(m)).collect();
    for (label, n) in [
        ("past", past.len()),
        ("unconfirmed_before_window", unconfirmed_old.len()),
        ("findings", report.findings.len()),
        ("files", report.files.len()),
        ("skipped", report.skipped_files as usize),
        ("errors", report.errors.len()),
        ("malformed", malformed(report) as usize),
    ] {
        perfdata.push(format!("'{label}'={n};;;0"));
    }
    if let Some(elapsed) = check.elapsed {
        perfdata.push(format!("'time'={:.3}s;;;0", elapsed.as_secs_f64()));
    }
    writeln!(
        out,
        "CF-BAN-AUDIT {} - {} | {}",
        STATES[usize::from(code)],
        line(&said.join("; ")),
        perfdata.join(" ")
    )?;
    // Long output: every finding that counts, then what the window left out, then errors.
    for (what, bans) in [
        ("ACTIVE", &active),
        ("UNCONFIRMED", &unconfirmed),
        ("CHALLENGE", &challenge),
    ] {
        for f in bans.iter().take(20) {
            writeln!(out, "{}", line(&finding(what, f)))?;
        }
        if bans.len() > 20 {
            writeln!(out, "{what}: {} more", bans.len() - 20)?;
        }
    }
    if !unconfirmed_old.is_empty() {
        writeln!(
            out,
            "{} unconfirmed bans last seen before the window (--past-since) are not counted:",
            unconfirmed_old.len()
        )?;
        for f in unconfirmed_old.iter().take(20) {
            writeln!(out, "{}", line(&finding("UNCONFIRMED, OLD", f)))?;
        }
    }
    if !past_old.is_empty() || !past.is_empty() {
        writeln!(
            out,
            "{} past bans (expired, lifted, refused) in the window, {} before it",
            past.len(),
            past_old.len()
        )?;
    }
    for e in &report.errors {
        writeln!(out, "{}", line(&format!("error: {}", e.message)))?;
    }
    for m in &check.messages {
        writeln!(out, "{}", line(m))?;
    }
    Ok(code)
}

/// One finding for the long output.
fn finding(what: &str, f: &Finding) -> String {
    let seen = f
        .last_seen
        .map(|t| format!(", last seen {}", t.format("%Y-%m-%d %H:%M:%S")))
        .unwrap_or_default();
    let lift = f
        .lift
        .as_ref()
        .map(|l| format!(", lift: {}", l.join(" ")))
        .unwrap_or_default();
    format!(
        "{what}: {} {} {}{seen}{lift}",
        f.tool,
        f.scope,
        f.address_text()
    )
}

/// An UNKNOWN status line for a run that produced no report (a usage error, a failure), with
/// `long` lines after it; returns 3.
pub fn unknown(out: &mut dyn Write, message: &str, long: &[String]) -> io::Result<u8> {
    writeln!(out, "CF-BAN-AUDIT UNKNOWN - {}", line(message))?;
    for l in long {
        writeln!(out, "{}", line(l))?;
    }
    out.flush()?;
    Ok(3)
}

/// One line of plugin output: every control character escaped; `|` would start the
/// performance data.
fn line(text: &str) -> String {
    crate::escape::printable(text).replace('|', "/")
}
