//! `cf-ban-audit`: the command line. Flags become library calls here; rendering is in
//! `render.rs`; nothing else.

mod args;
mod render;

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cf_ban_audit_core::{cloudflare, snippet, Format, Scanner, Tool};
use clap::Parser;

use args::{Cli, Command, RangeOpts, ScanArgs, SnippetArgs, SnippetTarget};

/// Exit status: nothing found.
const OK: u8 = 0;
/// Exit status: findings.
const FOUND: u8 = 1;
/// Exit status: an error (bad arguments, a path that could not be read).
const ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(a) => scan(a),
        Command::Snippet(a) => snippet_cmd(a),
        Command::Ranges(a) => ranges(&a.ranges),
        Command::Formats => render::formats(&mut io::stdout().lock())
            .map(|_| OK)
            .map_err(Into::into),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Failure::BrokenPipe) => ExitCode::from(OK),
        Err(Failure::Message(m)) => {
            eprintln!("cf-ban-audit: {m}");
            ExitCode::from(ERROR)
        }
    }
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

fn load_ranges(opts: &RangeOpts) -> Result<(cf_ban_audit_core::RangeSet, String), Failure> {
    Ok(cloudflare::build_ranges(&opts.ranges, !opts.no_cloudflare)?)
}

/// The paths scanned when none is given: /var/log and the known locations elsewhere.
fn default_paths() -> Vec<PathBuf> {
    let mut paths = vec![PathBuf::from("/var/log")];
    for format in Format::ALL {
        for p in format.usual_paths() {
            let path = Path::new(p);
            if path.is_absolute() && !path.starts_with("/var/log") && path.exists() {
                paths.push(path.to_path_buf());
            }
        }
    }
    paths
}

fn scan(a: ScanArgs) -> Result<u8, Failure> {
    let (ranges, source) = load_ranges(&a.ranges)?;
    let mut scanner = Scanner::new(ranges)
        .ranges_source(source)
        .follow_links(a.follow_links)
        .active_only(a.active);
    if let Some(n) = a.threads {
        scanner = scanner.threads(n);
    }
    if let Some(since) = &a.since {
        let now = chrono::Local::now().naive_local();
        scanner = scanner.since(args::parse_since(since, now).map_err(Failure::Message)?);
    }
    if !a.source.is_empty() {
        let mut tools = Vec::new();
        for name in &a.source {
            let tool = Tool::from_name(name.trim()).ok_or_else(|| {
                let known: Vec<&str> = Tool::ALL.iter().map(|t| t.name()).collect();
                Failure::Message(format!(
                    "--source: unknown tool {name:?} (known: {})",
                    known.join(", ")
                ))
            })?;
            tools.push(tool);
        }
        scanner = scanner.sources(&tools);
    }
    let paths = if a.paths.is_empty() {
        default_paths()
    } else {
        a.paths
    };
    for path in &paths {
        if path.as_os_str() == "-" {
            let mut bytes = Vec::new();
            io::stdin().lock().read_to_end(&mut bytes)?;
            scanner = scanner.stdin_bytes(bytes);
        } else {
            scanner = scanner.path(path);
        }
    }
    let report = scanner.scan();
    for e in &report.errors {
        eprintln!("cf-ban-audit: {}", e.message);
    }
    let mut out = io::stdout().lock();
    match a.format {
        args::OutputFormat::Text => render::text(&mut out, &report)?,
        args::OutputFormat::Json => render::json(&mut out, &report)?,
        args::OutputFormat::Jsonl => render::jsonl(&mut out, &report)?,
    }
    out.flush()?;
    Ok(if !report.errors.is_empty() {
        ERROR
    } else if report.findings.is_empty() {
        OK
    } else {
        FOUND
    })
}

fn snippet_cmd(a: SnippetArgs) -> Result<u8, Failure> {
    let (ranges, _) = load_ranges(&a.ranges)?;
    let text = match (a.target, &a.existing) {
        (SnippetTarget::Fail2ban, None) => snippet::fail2ban::generate(&ranges),
        (SnippetTarget::Fail2ban, Some(path)) => {
            let bytes = std::fs::read(path)
                .map_err(|e| Failure::Message(format!("{}: {e}", path.display())))?;
            let existing = String::from_utf8(bytes)
                .map_err(|_| Failure::Message(format!("{}: not UTF-8 text", path.display())))?;
            for jail in snippet::fail2ban::jails_overriding(&existing, &ranges) {
                eprintln!(
                    "cf-ban-audit: warning: {}: jail [{jail}] sets its own ignoreip, which replaces [DEFAULT]'s; add the Cloudflare ranges there too",
                    path.display()
                );
            }
            snippet::fail2ban::merge(&existing, &ranges)
        }
    };
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(OK)
}

fn ranges(opts: &RangeOpts) -> Result<u8, Failure> {
    let (set, source) = load_ranges(opts)?;
    let mut out = io::stdout().lock();
    render::ranges(&mut out, &set, &source)?;
    out.flush()?;
    Ok(OK)
}
