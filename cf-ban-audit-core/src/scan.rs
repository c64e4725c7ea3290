//! [`Scanner`]: walks paths, detects the format of each file, reads the files in parallel
//! (one rayon task per file, each with its own aggregator, merged once at the end), and
//! returns a [`Report`]. Nothing is ever written to the scanned files; FIFOs, sockets and
//! devices found by the walk are never opened.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Local, NaiveDateTime};
use rayon::prelude::*;
use walkdir::WalkDir;

use crate::audit::Aggregator;
use crate::error::Error;
use crate::event::{BanEvent, Tool};
use crate::formats::{detect, Format, ParseCtx, Parser, Sink};
use crate::lines::{for_each_line, open_stream, read_up_to};
use crate::ranges::RangeSet;
use crate::report::{ErrorEntry, FileStats, RangesInfo, Report, REPORT_VERSION};

/// How many bytes of a file detection looks at.
const HEAD: usize = 8 * 1024;

/// Configures and runs a scan.
///
/// ```
/// use cf_ban_audit_core::{cloudflare, Scanner, Tool};
/// let report = Scanner::new(cloudflare::embedded())
///     .path("/nonexistent/path")
///     .sources(&[Tool::Fail2ban])
///     .threads(1)
///     .scan();
/// assert_eq!(report.findings.len(), 0);
/// assert_eq!(report.errors.len(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct Scanner {
    ranges: RangeSet,
    ranges_source: String,
    paths: Vec<PathBuf>,
    threads: Option<usize>,
    follow_links: bool,
    since: Option<NaiveDateTime>,
    sources: Option<Vec<Tool>>,
    active_only: bool,
    now: Option<NaiveDateTime>,
    stdin: Option<Vec<u8>>,
}

impl Scanner {
    /// A scanner that looks for bans hitting `ranges`.
    pub fn new(ranges: RangeSet) -> Scanner {
        Scanner {
            ranges,
            ranges_source: String::from("given ranges"),
            paths: Vec::new(),
            threads: None,
            follow_links: false,
            since: None,
            sources: None,
            active_only: false,
            now: None,
            stdin: None,
        }
    }

    /// Names where the ranges come from, for the report.
    pub fn ranges_source(mut self, source: impl Into<String>) -> Scanner {
        self.ranges_source = source.into();
        self
    }

    /// Adds a file or directory to scan.
    pub fn path(mut self, path: impl AsRef<Path>) -> Scanner {
        self.paths.push(path.as_ref().to_path_buf());
        self
    }

    /// Adds bytes read from standard input (shown as `-`); their format is detected from content.
    pub fn stdin_bytes(mut self, bytes: Vec<u8>) -> Scanner {
        self.stdin = Some(bytes);
        self
    }

    /// The number of threads (default: one per core).
    pub fn threads(mut self, n: usize) -> Scanner {
        self.threads = Some(n.max(1));
        self
    }

    /// Whether to follow symbolic links while walking (default: no).
    pub fn follow_links(mut self, yes: bool) -> Scanner {
        self.follow_links = yes;
        self
    }

    /// Only findings seen at or after this time (host local time). Findings from sources
    /// without times (current ban lists) are always kept.
    pub fn since(mut self, since: NaiveDateTime) -> Scanner {
        self.since = Some(since);
        self
    }

    /// Only these tools.
    pub fn sources(mut self, tools: &[Tool]) -> Scanner {
        self.sources = Some(tools.to_vec());
        self
    }

    /// Only findings still in force.
    pub fn active_only(mut self, yes: bool) -> Scanner {
        self.active_only = yes;
        self
    }

    /// The time the scan takes as "now" (default: the clock), to decide what has expired.
    pub fn now(mut self, now: NaiveDateTime) -> Scanner {
        self.now = Some(now);
        self
    }

    /// Runs the scan. Errors are collected in the report; the scan goes on past each.
    pub fn scan(&self) -> Report {
        let now = self.now.unwrap_or_else(|| Local::now().naive_local());
        let mut errors: Vec<Error> = Vec::new();
        let mut files: Vec<PathBuf> = Vec::new();
        let mut skipped = 0u64;
        for root in &self.paths {
            self.walk(root, &mut files, &mut errors, &mut skipped);
        }
        files.sort();
        files.dedup();

        let run = || {
            files
                .par_iter()
                .map(|path| self.scan_file(path, now))
                .reduce(
                    || FileOutcome::empty(&self.ranges),
                    |mut a, b| {
                        a.merge(b);
                        a
                    },
                )
        };
        let mut outcome = match self.threads {
            Some(n) => match rayon::ThreadPoolBuilder::new().num_threads(n).build() {
                Ok(pool) => pool.install(run),
                Err(_) => run(),
            },
            None => run(),
        };
        if let Some(bytes) = &self.stdin {
            outcome.merge(self.scan_input(Path::new("-"), bytes.clone(), now, now));
        }
        errors.extend(outcome.errors);
        skipped += outcome.skipped;
        let mut findings = outcome.aggregator.findings(now);
        findings.retain(|f| {
            (!self.active_only || f.active)
                && match (self.since, f.last_seen) {
                    (Some(since), Some(seen)) => seen >= since,
                    _ => true,
                }
        });
        outcome.stats.sort_by(|a, b| a.path.cmp(&b.path));
        let mut error_entries: Vec<ErrorEntry> = errors.iter().map(ErrorEntry::from).collect();
        error_entries.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
        Report {
            version: REPORT_VERSION,
            ranges: RangesInfo {
                source: self.ranges_source.clone(),
                v4: self.ranges.v4_nets().count(),
                v6: self.ranges.v6_nets().count(),
            },
            findings,
            diagnoses: Vec::new(),
            files: outcome.stats,
            skipped_files: skipped,
            errors: error_entries,
        }
    }

    fn walk(
        &self,
        root: &Path,
        files: &mut Vec<PathBuf>,
        errors: &mut Vec<Error>,
        skipped: &mut u64,
    ) {
        let walker = WalkDir::new(root)
            .follow_links(self.follow_links)
            .follow_root_links(true);
        for entry in walker {
            match entry {
                Ok(entry) => {
                    let ft = entry.file_type();
                    if ft.is_file() {
                        files.push(entry.into_path());
                    } else if !ft.is_dir() && !ft.is_symlink() {
                        // FIFOs, sockets, devices: never opened.
                        *skipped += 1;
                    } else if ft.is_symlink() {
                        *skipped += 1;
                    }
                }
                Err(e) => {
                    let path = e.path().unwrap_or(root).to_path_buf();
                    let message = match e.io_error() {
                        Some(io) if io.kind() == std::io::ErrorKind::NotFound => {
                            "no such file or directory".to_string()
                        }
                        Some(io) => io.to_string(),
                        None => e.to_string(),
                    };
                    errors.push(Error::File { path, message });
                }
            }
        }
    }

    fn wanted(&self, format: Format) -> bool {
        match &self.sources {
            None => true,
            Some(tools) => format.tools().iter().any(|t| tools.contains(t)),
        }
    }

    fn scan_file(&self, path: &Path, now: NaiveDateTime) -> FileOutcome<'_> {
        let mut outcome = FileOutcome::empty(&self.ranges);
        let reference = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map(|t| DateTime::<Local>::from(t).naive_local())
            .unwrap_or(now);
        let mut stream = match open_stream(path) {
            Ok(s) => s,
            Err(source) => {
                outcome.errors.push(Error::Io {
                    path: path.to_path_buf(),
                    source,
                });
                return outcome;
            }
        };
        let mut head = vec![0u8; HEAD];
        let n = match read_up_to(&mut stream, &mut head) {
            Ok(n) => n,
            Err(source) => {
                outcome.errors.push(Error::Io {
                    path: path.to_path_buf(),
                    source,
                });
                return outcome;
            }
        };
        head.truncate(n);
        let Some(format) = detect(path, &head) else {
            outcome.skipped = 1;
            return outcome;
        };
        if !self.wanted(format) {
            outcome.skipped = 1;
            return outcome;
        }
        let rank = rotation_rank(path);
        self.parse(
            path,
            format,
            Cursor::new(head).chain(stream),
            reference,
            now,
            rank,
            &mut outcome,
        );
        outcome
    }

    fn scan_input(
        &self,
        path: &Path,
        bytes: Vec<u8>,
        reference: NaiveDateTime,
        now: NaiveDateTime,
    ) -> FileOutcome<'_> {
        let mut outcome = FileOutcome::empty(&self.ranges);
        let head = &bytes[..bytes.len().min(HEAD)];
        match detect(path, head) {
            Some(format) if self.wanted(format) => {
                if matches!(format, Format::Fail2banDb) {
                    outcome.errors.push(Error::File {
                        path: path.to_path_buf(),
                        message: "a database cannot be read from standard input; give its path"
                            .into(),
                    });
                } else {
                    self.parse(
                        path,
                        format,
                        Cursor::new(bytes),
                        reference,
                        now,
                        0,
                        &mut outcome,
                    );
                }
            }
            _ => outcome.skipped = 1,
        }
        outcome
    }

    #[allow(clippy::too_many_arguments)]
    fn parse<'s>(
        &'s self,
        path: &Path,
        format: Format,
        mut input: impl Read,
        reference: NaiveDateTime,
        now: NaiveDateTime,
        rank: u32,
        outcome: &mut FileOutcome<'s>,
    ) {
        let ctx = ParseCtx {
            path: Arc::from(path),
            reference,
            now,
        };
        let mut sink = FileSink {
            agg: Aggregator::new(&self.ranges, rank),
            malformed: 0,
            events: 0,
        };
        let mut lines = 0;
        match format.parser(&ctx) {
            Parser::Lines(mut parser) => {
                let result = for_each_line(&mut input, |n, line| parser.line(n, line, &mut sink));
                parser.finish(&mut sink);
                match result {
                    Ok(stats) => lines = stats.lines,
                    Err((source, line)) => {
                        lines = line.saturating_sub(1);
                        outcome.errors.push(Error::Line {
                            path: path.to_path_buf(),
                            line,
                            message: format!("read error (the lines before were read): {source}"),
                        });
                    }
                }
            }
            Parser::File(parse) => {
                if let Err(e) = parse(path, &ctx, &mut sink) {
                    outcome.errors.push(e);
                }
            }
        }
        outcome.stats.push(FileStats {
            path: path.display().to_string(),
            format,
            lines,
            events: sink.events,
            malformed: sink.malformed,
        });
        outcome.aggregator.merge(sink.agg);
    }
}

/// The rotation number in a file name: `fail2ban.log.2.gz` is 2, `fail2ban.log` is 0.
fn rotation_rank(path: &Path) -> u32 {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.rsplit_once('.')
        .and_then(|(_, n)| if n.len() <= 4 { n.parse().ok() } else { None })
        .unwrap_or(0)
}

struct FileSink<'r> {
    agg: Aggregator<'r>,
    malformed: u64,
    events: u64,
}

impl Sink for FileSink<'_> {
    fn event(&mut self, event: BanEvent) {
        self.events += 1;
        self.agg.add(event);
    }

    fn malformed(&mut self, _line: u64, _message: String) {
        self.malformed += 1;
    }
}

struct FileOutcome<'r> {
    aggregator: Aggregator<'r>,
    stats: Vec<FileStats>,
    errors: Vec<Error>,
    skipped: u64,
}

impl<'r> FileOutcome<'r> {
    fn empty(ranges: &'r RangeSet) -> Self {
        FileOutcome {
            aggregator: Aggregator::new(ranges, 0),
            stats: Vec::new(),
            errors: Vec::new(),
            skipped: 0,
        }
    }

    fn merge(&mut self, other: FileOutcome<'r>) {
        self.aggregator.merge(other.aggregator);
        self.stats.extend(other.stats);
        self.errors.extend(other.errors);
        self.skipped += other.skipped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_ranks() {
        assert_eq!(rotation_rank(Path::new("/var/log/fail2ban.log")), 0);
        assert_eq!(rotation_rank(Path::new("/var/log/fail2ban.log.1")), 1);
        assert_eq!(rotation_rank(Path::new("/var/log/fail2ban.log.12.gz")), 12);
        assert_eq!(
            rotation_rank(Path::new("/var/log/fail2ban.log-20261124.gz")),
            0
        );
    }
}
