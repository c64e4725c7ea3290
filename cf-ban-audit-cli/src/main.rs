//! `cf-ban-audit`: the command line. Flags become library calls here; rendering is in
//! `render/`; nothing else.

mod args;
mod completions;
mod config;
mod doctor_cmd;
mod escape;
mod fix_cmd;
mod fleet;
mod jsonl;
mod man;
mod monitor;
mod output;
mod probe_cmd;
mod render;
mod scan_cmd;
mod update;

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::SystemTime;

use cf_ban_audit_core::snippet::Target;
use cf_ban_audit_core::{cloudflare, snippet};
use clap::Parser;

use args::{CheckArgs, Cli, Command, ContainsArgs, MergeArgs, RangeOpts, SnippetArgs};
use monitor::nagios;

/// Exit status: no ban in force (past bans only, or none).
const OK: u8 = 0;
/// Exit status: a ban in force or possibly so (active or unconfirmed), or a challenge in force.
const FOUND: u8 = 1;
/// Exit status: an error (bad arguments, a path that could not be read).
const ERROR: u8 = 2;

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        // A Nagios plugin's usage error is an UNKNOWN status line on stdout, exit 3.
        Err(e) if nagios::requested(&argv) && e.use_stderr() => {
            return ExitCode::from(nagios::usage_error(&e));
        }
        Err(e) => e.exit(),
    };
    if matches!(&cli.command, Command::Scan(a) if a.format == args::OutputFormat::Nagios) {
        nagios::enter();
    }
    let result = match cli.command {
        Command::Scan(a) => scan_cmd::scan(a),
        Command::Snippet(a) => snippet_cmd(a),
        Command::Check(a) => check(a),
        Command::Doctor(a) => doctor_cmd::run(a),
        Command::Probe(a) => probe_cmd::run(a),
        Command::Fix(a) => fix_cmd::run(a),
        Command::Contains(a) => contains(a),
        Command::Merge(a) => merge(a),
        Command::Completions { shell } => {
            let mut out = io::stdout().lock();
            completions::write(shell, args::command(), &mut out)
                .and_then(|()| out.flush())
                .map(|()| OK)
                .map_err(Into::into)
        }
        Command::Man { dir } => man(dir.as_deref()),
        Command::Ranges(a) => match a.action {
            None => ranges(&a.ranges),
            Some(args::RangesAction::Update { ranges_url }) => ranges_update(ranges_url.as_deref()),
        },
        Command::Formats => render::formats(&mut io::stdout().lock())
            .map(|_| OK)
            .map_err(Into::into),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Failure::BrokenPipe) => ExitCode::from(OK),
        Err(Failure::Message(m)) if nagios::active() => {
            let mut out = io::stdout().lock();
            ExitCode::from(nagios::unknown(&mut out, &m, &nagios::taken()).unwrap_or(3))
        }
        Err(Failure::Message(m)) => {
            say(&m);
            ExitCode::from(ERROR)
        }
    }
}

/// One line on standard error, after the program's name, its control and bidirectional
/// characters escaped: messages name files and quote what was read.
pub(crate) fn say(message: &str) {
    // A Nagios plugin writes nothing on standard error: the message goes into its long output.
    if nagios::hold(message) {
        return;
    }
    eprintln!("cf-ban-audit: {}", escape::printable(message));
}

/// Why a command stopped.
enum Failure {
    /// The reader of standard output went away (`| head`): not an error.
    BrokenPipe,
    /// One line for standard error.
    Message(String),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Message(e.to_string())
        }
    }
}

impl From<cf_ban_audit_core::Error> for Failure {
    fn from(e: cf_ban_audit_core::Error) -> Self {
        Failure::Message(e.to_string())
    }
}

/// The ranges a command uses: the cached Cloudflare list (`ranges update`) when there is a
/// trusted one, else the embedded list, plus every `--ranges` file.
fn load_ranges(opts: &RangeOpts) -> Result<(cf_ban_audit_core::RangeSet, String), Failure> {
    load_ranges_dated(opts).map(|(set, source, _)| (set, source))
}

/// [`load_ranges`], with when the list in use was published or fetched: the embedded
/// snapshot's date, the cache's fetch time, or with `--no-cloudflare` the oldest `--ranges`
/// file's modification time (for the metrics' range-list age).
fn load_ranges_dated(
    opts: &RangeOpts,
) -> Result<(cf_ban_audit_core::RangeSet, String, Option<SystemTime>), Failure> {
    let (cached, note) = if opts.no_cloudflare {
        (None, None)
    } else {
        read_cache()
    };
    let Some((nets, label, fetched)) = cached else {
        let (set, source) = cloudflare::build_ranges(&opts.ranges, !opts.no_cloudflare)?;
        let source = match note {
            Some(note) => format!("{source} ({note})"),
            None => source,
        };
        let time = if opts.no_cloudflare {
            opts.ranges
                .iter()
                .filter_map(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
                .min()
        } else {
            chrono::NaiveDate::parse_from_str(cloudflare::SNAPSHOT_DATE, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| SystemTime::from(t.and_utc()))
        };
        return Ok((set, source, time));
    };
    let mut set: cf_ban_audit_core::RangeSet = nets.into_iter().collect();
    let mut source = label;
    if !opts.ranges.is_empty() {
        let (extra, extra_source) = cloudflare::build_ranges(&opts.ranges, false)?;
        set = set.union(&extra);
        source = format!("{source} + {extra_source}");
    }
    Ok((set, source, fetched))
}

/// The cached list, if there is a valid and trusted one; a broken or untrusted cache is
/// reported on standard error and ignored. Without a place for a cache, the note that says
/// so (for the report's range source).
/// The fetch time comes with the list.
#[allow(clippy::type_complexity)]
fn read_cache() -> (
    Option<(Vec<ipnet::IpNet>, String, Option<SystemTime>)>,
    Option<String>,
) {
    let (bytes, path, modified) = match update::read_cache() {
        update::CacheRead::Found {
            bytes,
            path,
            modified,
        } => (bytes, path, modified),
        update::CacheRead::Absent => return (None, None),
        update::CacheRead::Nowhere(note) => return (None, Some(note)),
        update::CacheRead::Refused(why) => {
            say(&format!(
                "warning: ignoring the range cache (using the embedded list): {why}"
            ));
            return (None, None);
        }
    };
    match cloudflare::parse_ranges(&bytes, &path.display().to_string()) {
        Ok(loaded) => {
            let when = modified
                .map(|t| {
                    chrono::DateTime::<chrono::Local>::from(t)
                        .format("%Y-%m-%d")
                        .to_string()
                })
                .unwrap_or_else(|| "?".into());
            let etag = loaded
                .etag
                .map(|e| format!(", etag {e}"))
                .unwrap_or_default();
            let label = format!("cloudflare fetched {when}{etag} (cache {})", path.display());
            (Some((loaded.nets, label, modified)), None)
        }
        Err(e) => {
            say(&format!("warning: ignoring the range cache: {e}"));
            (None, None)
        }
    }
}

fn ranges_update(url: Option<&str>) -> Result<u8, Failure> {
    let updated = update::update(url).map_err(Failure::Message)?;
    let mut out = io::stdout().lock();
    let v4 = updated
        .ranges
        .nets
        .iter()
        .filter(|n| matches!(n, ipnet::IpNet::V4(_)))
        .count();
    writeln!(
        out,
        "{} {} IPv4 and {} IPv6 ranges from {}{} into {}",
        if updated.changed {
            "Updated:"
        } else {
            "Unchanged:"
        },
        v4,
        updated.ranges.nets.len() - v4,
        escape::printable(&updated.url),
        updated
            .ranges
            .etag
            .as_deref()
            .map(|e| format!(" (etag {})", escape::printable(e)))
            .unwrap_or_default(),
        escape::printable(&updated.cache.display().to_string())
    )?;
    Ok(OK)
}

fn snippet_cmd(a: SnippetArgs) -> Result<u8, Failure> {
    let (ranges, _) = load_ranges(&a.ranges)?;
    let text = match &a.existing {
        None => a.target.generate(&ranges),
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| Failure::Message(format!("{}: {e}", path.display())))?;
            let existing = String::from_utf8(bytes)
                .map_err(|_| Failure::Message(format!("{}: not UTF-8 text", path.display())))?;
            if a.default_only && a.target != Target::Fail2ban {
                return Err(Failure::Message(
                    "--default-only is for fail2ban only".to_string(),
                ));
            }
            let options = snippet::MergeOptions::for_path(path).default_only(a.default_only);
            if a.target == Target::Fail2ban && a.default_only {
                for jail in snippet::jails_overriding(&existing, &ranges) {
                    say(&format!(
                        "warning: {}: jail [{jail}] sets its own ignoreip, which replaces [DEFAULT]'s; add the Cloudflare ranges there too (or merge without --default-only)",
                        path.display()
                    ));
                }
            } else if a.target == Target::Fail2ban {
                for jail in snippet::fail2ban_jails_extended(&existing, &ranges) {
                    say(&format!(
                        "note: {}: jail [{jail}] sets its own ignoreip, which replaces [DEFAULT]'s: the ranges are added to it too",
                        path.display()
                    ));
                }
            }
            // Kept entries that need a look (the merged file names them in comments too).
            for warning in a.target.merge_warnings_with(&existing, &ranges, options) {
                say(&format!("warning: {}: {warning}", path.display()));
            }
            a.target
                .merge_with(&existing, &ranges, options)
                .ok_or_else(|| {
                    Failure::Message(format!(
                        "--existing is not supported for {}: print the snippet and add it by hand",
                        a.target.name()
                    ))
                })?
        }
    };
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(OK)
}

fn check(a: CheckArgs) -> Result<u8, Failure> {
    let (ranges, source) = load_ranges(&a.ranges)?;
    let mut results = Vec::new();
    let mut errors = 0;
    let mut files = a.files.clone();
    if let Some(dir) = &a.fail2ban_config {
        match cf_ban_audit_core::check::fail2ban_files(dir) {
            Ok(found) => files.extend(found),
            Err(e) => {
                say(&e.to_string());
                errors += 1;
            }
        }
    }
    for path in &files {
        match cf_ban_audit_core::check::check_file(path, &ranges) {
            Ok(r) => results.push(r),
            Err(e) => {
                say(&e.to_string());
                errors += 1;
            }
        }
    }
    let mut out = io::stdout().lock();
    match a.format {
        args::CheckFormat::Text => render::check(&mut out, &results, &source)?,
        args::CheckFormat::Json => {
            let doc = serde_json::json!({ "ranges": source, "files": results });
            serde_json::to_writer_pretty(&mut out, &doc).map_err(io::Error::from)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(if errors > 0 {
        ERROR
    } else if results.iter().any(|r| r.has_gaps()) {
        FOUND
    } else {
        OK
    })
}

fn contains(a: ContainsArgs) -> Result<u8, Failure> {
    let (ranges, _) = load_ranges(&a.ranges)?;
    let mut all = true;
    for text in &a.addresses {
        let net = cf_ban_audit_core::parse_net(text.trim().as_bytes())
            .ok_or_else(|| Failure::Message(format!("not an address or CIDR: {text:?}")))?;
        all &= ranges.covers(&net);
    }
    Ok(if all { OK } else { FOUND })
}

fn merge(a: MergeArgs) -> Result<u8, Failure> {
    let mut reports = Vec::new();
    for path in &a.reports {
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::Message(format!("{}: {e}", path.display())))?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| Failure::Message(format!("{}: not a JSON report: {e}", path.display())))?;
        if value.get("version").and_then(|v| v.as_u64()) != Some(1) {
            return Err(Failure::Message(format!(
                "{}: not a version 1 report",
                path.display()
            )));
        }
        let report: cf_ban_audit_core::Report = serde_json::from_value(value)
            .map_err(|e| Failure::Message(format!("{}: not a JSON report: {e}", path.display())))?;
        reports.push((path.display().to_string(), report));
    }
    let merged = fleet::merge_reports(&reports, a.active).map_err(Failure::Message)?;
    let mut out = io::stdout().lock();
    match a.format {
        args::CheckFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &merged).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        args::CheckFormat::Text => fleet::merged_text(&mut out, &merged)?,
    }
    out.flush()?;
    let findings = merged["findings"].as_array().is_some_and(|f| !f.is_empty());
    Ok(if findings { FOUND } else { OK })
}

/// The manual page on standard output, or every page written into `dir`.
fn man(dir: Option<&std::path::Path>) -> Result<u8, Failure> {
    match dir {
        Some(dir) => man::write_to(args::command(), dir)?,
        None => {
            let mut out = io::stdout().lock();
            man::print_main(args::command(), &mut out)?;
            out.flush()?;
        }
    }
    Ok(OK)
}

fn ranges(opts: &RangeOpts) -> Result<u8, Failure> {
    let (set, source) = load_ranges(opts)?;
    let mut out = io::stdout().lock();
    render::ranges(&mut out, &set, &source)?;
    out.flush()?;
    Ok(OK)
}
