//! [`Scanner`]: walks paths, detects the format of each file, reads the files in parallel
//! (each with its own aggregator, joined to the scan's when the file ends; `scan_queue` says
//! in what order, and reads ahead of it), and returns a [`Report`]. Nothing is ever written
//! to the scanned files; FIFOs, sockets and devices found by the walk are never opened.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Local, NaiveDateTime};
use ipnet::IpNet;
use rayon::prelude::*;
use walkdir::WalkDir;

use crate::audit::Aggregator;
use crate::decompress::{read_head, Failing};
use crate::error::Error;
use crate::event::{Action, BanEvent, Tool};
use crate::formats::{
    is_sqlite, BlockSink, Format, FormatDescriptor, IncludeError, ParseCtx, Reader, Registry, Sink,
    Verdict,
};
use crate::lines::{search_lines, LineChunk, LongLines, Part, Walk, MAX_LINE};
use crate::live::{self, LiveOptions, LiveOutput, LIVE_SOURCES};
use crate::open::Includes;
use crate::ranges::RangeSet;
use crate::report::{
    ErrorEntry, FileStats, MalformedLine, RangesInfo, Report, ReportSink, MAX_MALFORMED_SAMPLES,
    REPORT_VERSION,
};
use crate::scan_paths::{quiet_denied, unreadable_note, Excludes};

/// How many bytes of a file detection looks at.
const HEAD: usize = 8 * 1024;

/// How much of a line read in pieces its events keep as their text (the report shows less).
const HEAD_TEXT: usize = 1024;

/// The most errors of records cut at their limit kept one by one per file; the rest are
/// counted in one more.
const MAX_CUTS: usize = 16;

/// The error of a line cut at its format's limit.
fn cut_message(format: Format, long: LongLines) -> String {
    format!(
        "line longer than {}, the most a {format} line may be: cut there, the rest of the line \
         is not read (what stands before the cut is)",
        size_text(long.limit())
    )
}

/// A size as the errors say it: `1 MiB`, `64 MiB`, or bytes.
fn size_text(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

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
#[derive(Clone)]
pub struct Scanner {
    ranges: RangeSet,
    ranges_source: String,
    paths: Vec<PathBuf>,
    /// The default places among `paths` ([`Scanner::default_path`]).
    default_roots: Vec<PathBuf>,
    /// What the walk leaves out ([`Scanner::exclude`]).
    excludes: Excludes,
    threads: Option<usize>,
    follow_links: bool,
    since: Option<NaiveDateTime>,
    sources: Option<Vec<Tool>>,
    active_only: bool,
    now: Option<NaiveDateTime>,
    stdin: Option<StdinInput>,
    /// Listings given as text, each with its label and format ([`Scanner::saved_input`]).
    saved: Vec<(String, Format, Arc<Vec<u8>>)>,
    live: bool,
    live_options: LiveOptions,
    progress: Option<ProgressFn>,
    chunk_min: u64,
    registry: Option<Arc<Registry>>,
    fail2ban_config: Option<PathBuf>,
    /// The most a compressed file of a given size may expand to.
    expansion_cap: fn(u64) -> u64,
    /// A cap on every format's line limit (tests of the limits, without hundreds of MiB).
    line_limit_cap: usize,
    /// Whether formats that read only lines holding their words are read by searching whole
    /// buffers, and the others in runs of lines (the default), rather than line by line.
    buffer_search: bool,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("ranges", &self.ranges)
            .field("paths", &self.paths)
            .field("threads", &self.threads)
            .field("follow_links", &self.follow_links)
            .field("since", &self.since)
            .field("sources", &self.sources)
            .field("active_only", &self.active_only)
            .field("live", &self.live)
            .field("live_options", &self.live_options)
            .finish_non_exhaustive()
    }
}

/// What [`Scanner::stdin`] or [`Scanner::stdin_bytes`] gave: bytes (shared by clones, read by
/// every scan) or a reader (read once, by the first scan that reaches it).
#[derive(Clone)]
enum StdinInput {
    Bytes(Arc<Vec<u8>>),
    Reader(Arc<std::sync::Mutex<Option<Box<dyn Read + Send>>>>),
}

/// The sink of [`Scanner::scan`]: told nothing.
struct NoSink;

impl ReportSink for NoSink {}

/// A callback told how far a scan is: (files done, files in all). Called from worker threads.
pub type ProgressFn = Arc<dyn Fn(usize, usize) + Send + Sync>;

impl Scanner {
    /// A scanner that looks for bans hitting `ranges`.
    pub fn new(ranges: RangeSet) -> Scanner {
        Scanner {
            ranges,
            ranges_source: String::from("given ranges"),
            paths: Vec::new(),
            default_roots: Vec::new(),
            excludes: Excludes::default(),
            threads: None,
            follow_links: false,
            since: None,
            sources: None,
            active_only: false,
            now: None,
            stdin: None,
            saved: Vec::new(),
            live: false,
            live_options: LiveOptions::default(),
            progress: None,
            chunk_min: CHUNK_MIN,
            registry: None,
            fail2ban_config: None,
            expansion_cap: crate::decompress::expansion_cap,
            line_limit_cap: usize::MAX,
            buffer_search: true,
        }
    }

    /// Also reads a format of the embedder's own (as `ignore`'s `TypesBuilder::add_def` adds a
    /// file type): detected by its descriptor's tests at their ranks among the built-in ones,
    /// read as it says. A name already taken is refused.
    ///
    /// ```
    /// use cf_ban_audit_core::formats::{Detection, FormatDescriptor, LineParser, Sink};
    /// use cf_ban_audit_core::{cloudflare, Format, Scanner, Tool};
    ///
    /// struct Never;
    /// impl LineParser for Never {
    ///     fn line(&mut self, _: u64, _: &[u8], _: &mut dyn Sink) {}
    /// }
    /// const MINE: FormatDescriptor =
    ///     FormatDescriptor::new(Format::custom("mine"), &[Tool::List], "mine", |_| Box::new(Never))
    ///         .detected_by(&[Detection::text(150, |_, head| head.starts_with(b"MINE"))]);
    /// let scanner = Scanner::new(cloudflare::embedded()).format(MINE).unwrap();
    /// assert!(scanner.format(MINE).is_err());
    /// ```
    pub fn format(mut self, descriptor: FormatDescriptor) -> Result<Scanner, String> {
        let registry = self.registry().with(descriptor)?;
        self.registry = Some(Arc::new(registry));
        Ok(self)
    }

    /// A cap on what compressed files expand to other than [`crate::decompress::expansion_cap`]
    /// (tests of the cap, without gigabytes).
    #[cfg(test)]
    pub(crate) fn expansion_cap(mut self, cap: fn(u64) -> u64) -> Scanner {
        self.expansion_cap = cap;
        self
    }

    /// A cap on every format's line limit (tests of the limits, without hundreds of MiB).
    #[cfg(test)]
    pub(crate) fn line_limit_cap(mut self, cap: usize) -> Scanner {
        self.line_limit_cap = cap;
        self
    }

    /// Reads fail2ban's jail configuration from `dir` (`/etc/fail2ban`: `jail.conf`,
    /// `jail.d/*.conf`, `jail.local`, `jail.d/*.local`, in fail2ban's order), for each jail's
    /// ban length and ignore list: a ban seen only in a log then ends when its `bantime` says,
    /// and a ban of an address the jail now ignores is not restored when fail2ban restarts.
    /// Without it, the one fail2ban configuration directory among the scanned files is used,
    /// if there is exactly one.
    pub fn fail2ban_config(mut self, dir: impl Into<PathBuf>) -> Scanner {
        self.fail2ban_config = Some(dir.into());
        self
    }

    /// fail2ban's jail configuration for this scan: the one given, or the one directory of
    /// them among `files`; what was used (or why none) goes to `notes`.
    fn jail_config(
        &self,
        files: &[PathBuf],
        errors: &mut Vec<Error>,
        notes: &mut Vec<String>,
    ) -> Option<crate::fail2ban_jails::JailConfig> {
        use crate::fail2ban_jails::{directories_among, load, JailConfig};
        let dir = match &self.fail2ban_config {
            Some(dir) => dir.clone(),
            None => {
                let found = directories_among(files);
                match found.as_slice() {
                    [] => return None,
                    [one] => one.clone(),
                    several => {
                        let list: Vec<String> =
                            several.iter().map(|d| d.display().to_string()).collect();
                        notes.push(format!(
                            "several fail2ban configurations in the scan ({}): none used for ban \
                             lengths and ignore lists; name one with --fail2ban-config DIR",
                            list.join(", ")
                        ));
                        return None;
                    }
                }
            }
        };
        let bytes = match load(&dir) {
            Ok(bytes) => bytes,
            Err(source) => {
                errors.push(Error::Io { path: dir, source });
                return None;
            }
        };
        let config = JailConfig::read(&bytes);
        notes.push(format!(
            "fail2ban's jail configuration in {} ({} jails) gives ban lengths and ignore lists",
            dir.display(),
            config.jails().len()
        ));
        for (path, line, message) in config.notes() {
            notes.push(format!("{}:{line}: {message}", path.display()));
        }
        if let Some((path, line, message)) = config.malformed().first() {
            notes.push(format!(
                "{} lines of fail2ban's jail configuration could not be read as fail2ban reads \
                 them; the first: {}:{line}: {message}",
                config.malformed().len(),
                path.display()
            ));
        }
        Some(config)
    }

    /// The formats this scanner reads.
    pub fn registry(&self) -> &Registry {
        self.registry.as_deref().unwrap_or(Registry::builtin())
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

    /// Adds a default place to scan (one of [`existing_default_paths`]): as [`Scanner::path`],
    /// except that what in it cannot be read for want of permission (`/var/log/btmp`,
    /// `/var/log/private` to a user in group `adm`) is a note saying that root would read it,
    /// not an error. Within a path given with [`Scanner::path`] it stays an error.
    ///
    /// ```
    /// use cf_ban_audit_core::{cloudflare, Scanner};
    /// let report = Scanner::new(cloudflare::embedded()).default_path("/nonexistent").scan();
    /// // Only a permission error is quiet: a missing place is still an error.
    /// assert_eq!(report.errors.len(), 1);
    /// ```
    pub fn default_path(mut self, path: impl AsRef<Path>) -> Scanner {
        self.default_roots.push(path.as_ref().to_path_buf());
        self.path(path)
    }

    /// Leaves out the files and directories that match a glob: they are not opened (a
    /// directory is not listed). A pattern without `/` is matched against each name (`*.gz`,
    /// `journal`), one with `/` against the whole path as the walk reaches it, which starts
    /// with the path given (`/var/log/journal`, `/var/log/**/*.1`). `*` and `?` stop at `/`,
    /// `**` crosses directories, `[abc]`, `[!a-z]` and `{a,b}` as in a shell, `\` escapes.
    /// A malformed pattern is refused with a message that quotes it.
    ///
    /// ```
    /// use cf_ban_audit_core::{cloudflare, Scanner};
    /// let dir = tempfile::tempdir().unwrap();
    /// let line = "2026-11-24 03:06:43,833 fail2ban.actions [1]: NOTICE  [sshd] Ban 104.16.0.1\n";
    /// std::fs::write(dir.path().join("fail2ban.log.1"), line).unwrap();
    /// let report = Scanner::new(cloudflare::embedded())
    ///     .path(dir.path())
    ///     .exclude("*.1")
    ///     .unwrap()
    ///     .scan();
    /// assert!(report.findings.is_empty() && report.files.is_empty());
    /// ```
    pub fn exclude(mut self, pattern: &str) -> Result<Scanner, String> {
        self.excludes.add(pattern)?;
        Ok(self)
    }

    /// Replaces the exclude globs (the doctor's, checked as it took them).
    pub(crate) fn excludes(mut self, excludes: Excludes) -> Scanner {
        self.excludes = excludes;
        self
    }

    /// The paths given with [`Scanner::path`], not as default places.
    fn named_roots(&self) -> Vec<PathBuf> {
        self.paths
            .iter()
            .filter(|p| !self.default_roots.contains(p))
            .cloned()
            .collect()
    }

    /// Adds bytes read from standard input (shown as `-`); their format is detected from content.
    /// [`Scanner::stdin`] reads standard input without holding it all.
    pub fn stdin_bytes(mut self, bytes: Vec<u8>) -> Scanner {
        self.stdin = Some(StdinInput::Bytes(Arc::new(bytes)));
        self
    }

    /// Adds standard input (shown as `-`), read as a stream: its format is detected from its
    /// first bytes, then a line format is read line by line without holding the input, and a
    /// format read as a whole document within that format's size limit, as from a file. The
    /// reader is read once, after the files, by the first scan of this scanner or of a clone;
    /// a later scan reports standard input as already read. Replaces an earlier
    /// [`Scanner::stdin_bytes`].
    ///
    /// ```
    /// use cf_ban_audit_core::{cloudflare, Scanner};
    /// let log = "2026-11-24 03:06:43,833 fail2ban.actions [1]: NOTICE  [sshd] Ban 104.16.5.5\n";
    /// let report = Scanner::new(cloudflare::embedded())
    ///     .stdin(std::io::Cursor::new(log))
    ///     .scan();
    /// assert_eq!(report.findings[0].address_text(), "104.16.5.5");
    /// assert_eq!(report.files[0].path, "-");
    /// ```
    pub fn stdin(mut self, reader: impl Read + Send + 'static) -> Scanner {
        self.stdin = Some(StdinInput::Reader(Arc::new(std::sync::Mutex::new(Some(
            Box::new(reader),
        )))));
        self
    }

    /// Adds a listing already read into memory (a saved `iptables-save`, `ipset save` or
    /// `nft list ruleset` the caller holds, or such a program's output it ran itself),
    /// shown as `label` and read as `format`, as of the scan's time.
    ///
    /// ```
    /// use cf_ban_audit_core::{cloudflare, Format, Scanner};
    /// let rules = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 173.245.49.12/32 -j DROP\nCOMMIT\n";
    /// let report = Scanner::new(cloudflare::embedded())
    ///     .saved_input("saved iptables-save", Format::IptablesSave, rules.as_bytes().to_vec())
    ///     .scan();
    /// assert_eq!(report.findings[0].address_text(), "173.245.49.12");
    /// assert_eq!(report.files[0].path, "saved iptables-save");
    /// ```
    pub fn saved_input(
        mut self,
        label: impl Into<String>,
        format: Format,
        bytes: Vec<u8>,
    ) -> Scanner {
        self.saved.push((label.into(), format, Arc::new(bytes)));
        self
    }

    /// Also read the live state: the output of `iptables-save`, `ip6tables-save`,
    /// `ipset save`, `nft list ruleset`, `fail2ban-client banned` and
    /// `cscli decisions list -a -o json`, where installed: fixed argument lists of programs in
    /// the system directories, run without a shell and with a time limit.
    pub fn live(mut self, yes: bool) -> Scanner {
        self.live = yes;
        self
    }

    /// The live read asks the fail2ban server at this socket (`fail2ban-client -s PATH
    /// banned`) instead of the default `/run/fail2ban/fail2ban.sock`: for a server with its
    /// own socket (`socket =` in `fail2ban.local`, a container's). The path is passed as one
    /// argument, without a shell; a failed read names it. Only used with [`Scanner::live`].
    ///
    /// ```
    /// use cf_ban_audit_core::{cloudflare, Scanner};
    /// let scanner = Scanner::new(cloudflare::embedded())
    ///     .live(true)
    ///     .fail2ban_socket("/run/fail2ban-web/fail2ban.sock");
    /// # let _ = scanner;
    /// ```
    pub fn fail2ban_socket(mut self, path: impl AsRef<Path>) -> Scanner {
        self.live_options.fail2ban_socket = Some(path.as_ref().to_path_buf());
        self
    }

    /// The live read runs `cscli -c PATH decisions list -a -o json`: CrowdSec's
    /// configuration file when it is not `/etc/crowdsec/config.yaml`. Passed as one argument,
    /// without a shell; a failed read names it. Only used with [`Scanner::live`].
    pub fn cscli_config(mut self, path: impl AsRef<Path>) -> Scanner {
        self.live_options.cscli_config = Some(path.as_ref().to_path_buf());
        self
    }

    /// Calls `f(done, total)` after each file (for a progress bar; the library prints nothing).
    pub fn on_progress(mut self, f: impl Fn(usize, usize) + Send + Sync + 'static) -> Scanner {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Files at least this large (default [`CHUNK_MIN`]) of a line-independent format are
    /// read as several chunks in parallel, each at most half this size (and 32 MiB).
    pub fn chunk_threshold(mut self, bytes: u64) -> Scanner {
        self.chunk_min = bytes.max(1);
        self
    }

    /// The number of threads (default: one per core).
    pub fn threads(mut self, n: usize) -> Scanner {
        self.threads = Some(n.max(1));
        self
    }

    /// Whether a format whose parser reads only the lines holding some words (nginx's and
    /// Apache's error logs, CrowdSec's logs, syslog) is read by searching each buffer whole
    /// for those words, handing over only the lines that hold one, and any other format read
    /// in lines by handing its parser the whole lines of each read at once
    /// ([`LineParser::block`](crate::formats::LineParser::block)) (default: yes); or line by
    /// line. Line by line, every fail2ban ban and unban, and every entry a ModSecurity audit
    /// log holds back, is built as an event, even where only its count is kept
    /// ([`Sink::jail_entry`](crate::formats::Sink::jail_entry),
    /// [`Sink::only_counts`](crate::formats::Sink::only_counts)). The report is the same
    /// either way; line by line is there to compare against, in tests and benchmarks.
    pub fn buffer_search(mut self, yes: bool) -> Scanner {
        self.buffer_search = yes;
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

    /// Only the bans of these tools: files of formats that hold none of them are skipped, and
    /// from a file that holds several tools' events (syslog) only theirs are kept.
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
        self.scan_with(&mut NoSink)
    }

    /// Runs the scan as [`Scanner::scan`] does (and returns the same report), telling `sink`
    /// what is final as soon as it is (see [`ReportSink`] for when each call comes). A
    /// closure `|finding: &Finding| ...` is a sink of findings.
    ///
    /// ```
    /// use cf_ban_audit_core::{cloudflare, Finding, Scanner};
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::write(
    ///     dir.path().join("fail2ban.log"),
    ///     "2026-11-24 03:06:43,833 fail2ban.actions [1]: NOTICE  [sshd] Ban 104.16.0.1\n",
    /// ).unwrap();
    /// let mut seen = Vec::new();
    /// let report = Scanner::new(cloudflare::embedded())
    ///     .path(dir.path())
    ///     .scan_with(&mut |f: &Finding| seen.push(f.address_text()));
    /// assert_eq!(seen, ["104.16.0.1"]);
    /// assert_eq!(report.findings.len(), 1);
    /// ```
    pub fn scan_with<S: ReportSink + ?Sized>(&self, sink: &mut S) -> Report {
        let now = self.now.unwrap_or_else(|| Local::now().naive_local());
        let mut errors: Vec<Error> = Vec::new();
        let mut files: Vec<PathBuf> = Vec::new();
        let mut skipped = 0u64;
        let named = self.named_roots();
        let mut denied_notes = Vec::new();
        for root in &self.paths {
            self.walk(root, &mut files, &mut errors, &mut skipped);
        }
        // Permission errors in the default places only (a place the user named stays an
        // error): what root would add.
        errors.retain(|e| match e.path() {
            Some(path)
                if e.io_kind() == Some(std::io::ErrorKind::PermissionDenied)
                    && quiet_denied(path, &self.default_roots, &named) =>
            {
                denied_notes.push(unreadable_note(path));
                false
            }
            _ => true,
        });
        files.sort();
        files.dedup();
        for e in &errors {
            sink.error(&ErrorEntry::from(e));
        }

        // One scan-wide outcome that each file's outcome joins when the file is read (or, if
        // another thread is joining its own then, after the thread's next file): memory holds
        // the scan's findings once plus those of the files in flight.
        let total = std::sync::Mutex::new((FileOutcome::empty(&self.ranges), &mut *sink));
        let done = std::sync::atomic::AtomicUsize::new(0);
        // Largest first with more than one thread, and read ahead (see `scan_queue`).
        let threads = self.threads.unwrap_or_else(rayon::current_num_threads);
        let queue = crate::scan_queue::Queue::new(&files, threads > 1);
        let joined = |n: usize| {
            if let Some(progress) = &self.progress {
                let done = done.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
                progress(done, files.len());
            }
        };
        let run = || {
            queue.run(threads, |files| {
                // A file's outcome joins the total when the total is free; while another
                // thread is joining one, this thread reads on and joins both later.
                let mut pending = Vec::new();
                for path in files {
                    let mut outcome = self.scan_file(path, now);
                    if quiet_denied(path, &self.default_roots, &named) {
                        outcome.quiet_denied();
                    }
                    pending.push(outcome);
                    let free = match total.try_lock() {
                        Ok(total) => Some(total),
                        Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
                        Err(std::sync::TryLockError::WouldBlock) => None,
                    };
                    if let Some(mut total) = free {
                        let (total, sink) = &mut *total;
                        joined(join_pending(total, &mut **sink, &mut pending));
                    }
                }
                if !pending.is_empty() {
                    let mut total = total
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let (total, sink) = &mut *total;
                    joined(join_pending(total, &mut **sink, &mut pending));
                }
            })
        };
        match self.threads {
            Some(n) => match rayon::ThreadPoolBuilder::new().num_threads(n).build() {
                Ok(pool) => pool.install(run),
                Err(_) => run(),
            },
            None => run(),
        };
        let (mut outcome, _) = total
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(stdin) = &self.stdin {
            let input = self.scan_stdin(stdin, now);
            input.tell(sink);
            outcome.merge(input);
        }
        for (label, format, bytes) in &self.saved {
            let input = self.scan_input(Path::new(label), &bytes[..], Some(*format), false, now);
            input.tell(sink);
            outcome.merge(input);
        }
        if self.live {
            let live = self.scan_live(now);
            live.tell(sink);
            outcome.merge(live);
        }
        errors.extend(outcome.errors);
        denied_notes.extend(outcome.denied_notes);
        skipped += outcome.skipped;
        let evidence = outcome.aggregator.evidence().clone();
        let mut notes = Vec::new();
        let jails = self.jail_config(&files, &mut errors, &mut notes);
        denied_notes.sort();
        denied_notes.dedup();
        notes.extend(denied_notes);
        let policy: &dyn crate::verdict::Policy = match &jails {
            Some(jails) => jails,
            None => &crate::verdict::NoPolicy,
        };
        let mut findings = outcome
            .aggregator
            .findings_with(now, self.registry(), policy);
        let jail_facts = jails
            .as_ref()
            .map(crate::diagnose::JailFacts::from_config)
            .unwrap_or_default();
        let web_configs = crate::diagnose::web_config_files(&outcome.stats);
        let diagnoses = crate::diagnose::diagnose(
            &findings,
            &evidence,
            &jail_facts,
            &web_configs,
            &self.ranges,
        );
        findings.retain(|f| {
            (!self.active_only || f.active)
                && match (self.since, f.last_seen) {
                    (Some(since), Some(seen)) => seen >= since,
                    _ => true,
                }
        });
        for f in &findings {
            sink.finding(f);
        }
        outcome.stats.sort_by(|a, b| a.path.cmp(&b.path));
        let mut error_entries: Vec<ErrorEntry> = errors.iter().map(ErrorEntry::from).collect();
        error_entries.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
        Report {
            version: REPORT_VERSION,
            host: hostname(),
            scanned_at: now,
            ranges: RangesInfo {
                source: self.ranges_source.clone(),
                v4: self.ranges.v4_nets().count(),
                v6: self.ranges.v6_nets().count(),
            },
            findings,
            diagnoses,
            files: outcome.stats,
            skipped_files: skipped,
            errors: error_entries,
            notes,
        }
    }

    fn walk(
        &self,
        root: &Path,
        files: &mut Vec<PathBuf>,
        errors: &mut Vec<Error>,
        skipped: &mut u64,
    ) {
        if self.excludes.matches(root) {
            return;
        }
        let walker = WalkDir::new(root)
            .follow_links(self.follow_links)
            .follow_root_links(true)
            .into_iter()
            // An excluded directory is not listed, an excluded file not opened.
            .filter_entry(|e| !self.excludes.matches(e.path()));
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
                    // The same text as before, with the operating system's kind kept.
                    errors.push(match e.io_error() {
                        Some(io) => Error::Io {
                            path,
                            source: std::io::Error::new(io.kind(), message),
                        },
                        None => Error::File { path, message },
                    });
                }
            }
        }
    }

    fn wanted(&self, format: Format) -> bool {
        match &self.sources {
            None => true,
            Some(tools) => self
                .registry()
                .get(format)
                .is_some_and(|d| d.tools().iter().any(|t| tools.contains(t))),
        }
    }

    /// How `format` takes lines longer than [`MAX_LINE`]: as its descriptor says.
    fn long_lines(&self, format: Format) -> LongLines {
        let long = self
            .registry()
            .get(format)
            .map_or(LongLines::Limit(MAX_LINE), FormatDescriptor::long_lines);
        match long {
            LongLines::Limit(limit) => LongLines::Limit(limit.min(self.line_limit_cap)),
            LongLines::Pieces(limit) => LongLines::Pieces(limit.min(self.line_limit_cap)),
        }
    }

    /// How `format` is read (every detected format has a descriptor).
    fn read_as(&self, format: Format) -> Option<Reader> {
        self.registry().get(format).map(FormatDescriptor::reader)
    }

    fn scan_file(&self, path: &Path, now: NaiveDateTime) -> FileOutcome<'_> {
        let mut outcome = FileOutcome::empty(&self.ranges);
        let reference = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map(|t| DateTime::<Local>::from(t).naive_local())
            .unwrap_or(now);
        let opened = match crate::decompress::open(path, self.expansion_cap) {
            Ok(opened) => opened,
            Err(source) => return outcome.failed(path, source),
        };
        let compressed = !opened.layers.is_empty();
        let mut stream = opened.reader;
        // A read error (a damaged compressed file) comes after the bytes before it, which are
        // read as far as they go.
        let (head, head_error) = read_head(&mut stream, HEAD);
        let detected = if is_sqlite(&head) {
            crate::open::sqlite_format(self.registry(), path)
        } else {
            detect_text(self.registry(), path, &head)
        };
        let Some(format) = detected else {
            // Too little could be read to tell: an error, never a silent skip.
            if let Some(source) = head_error {
                return outcome.failed(path, source);
            }
            outcome.skipped = 1;
            return outcome;
        };
        if !self.wanted(format) {
            outcome.skipped = 1;
            return outcome;
        }
        let rank = rotation_rank(path);
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let chunkable = self
            .registry()
            .get(format)
            .is_some_and(FormatDescriptor::is_chunkable);
        if chunkable && !compressed && size >= self.chunk_min && self.parallel() {
            drop(stream);
            return self.scan_chunks(path, format, size, reference, now, rank);
        }
        let rest = match head_error {
            Some(e) => Box::new(Failing(Some(e))),
            None => stream,
        };
        self.parse(
            path,
            format,
            Cursor::new(head).chain(rest),
            reference,
            now,
            rank,
            false,
            &mut outcome,
        );
        outcome
    }

    /// Whether more than one thread will run.
    fn parallel(&self) -> bool {
        self.threads.unwrap_or_else(rayon::current_num_threads) > 1
    }

    /// Reads a large file as line-aligned chunks in parallel, then numbers their lines as one.
    fn scan_chunks(
        &self,
        path: &Path,
        format: Format,
        size: u64,
        reference: NaiveDateTime,
        now: NaiveDateTime,
        rank: u32,
    ) -> FileOutcome<'_> {
        let mut outcome = FileOutcome::empty(&self.ranges);
        let target = CHUNK_TARGET.min(self.chunk_min / 2).max(1);
        // One open file for every chunk: a rename or rotation during the scan cannot make
        // chunks read different files or fail one by one.
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(source) => return outcome.failed(path, source),
        };
        let bounds = match chunk_bounds(&file, size, target) {
            Ok(b) => b,
            Err(source) => return outcome.failed(path, source),
        };
        // Adjacent chunks are joined in file order as they finish (rayon keeps the order of an
        // indexed iterator in `reduce`): the right one's lines are renumbered after the left's.
        let joined = bounds
            .par_windows(2)
            .map(|w| {
                let mut part = FileOutcome::empty(&self.ranges);
                let input = Span {
                    file: &file,
                    at: w[0],
                    end: w[1],
                };
                self.parse(path, format, input, reference, now, rank, false, &mut part);
                let lines = part.stats.iter().map(|s| s.lines).sum();
                let stats = part.stats.drain(..).reduce(add_stats);
                Chunk { part, lines, stats }
            })
            .reduce_with(|mut left, mut right| {
                right.part.aggregator.shift_lines(path, left.lines);
                for sample in right
                    .stats
                    .iter_mut()
                    .flat_map(|s| &mut s.malformed_samples)
                {
                    if sample.line > 0 {
                        sample.line += left.lines;
                    }
                }
                for e in &mut right.part.errors {
                    if let Error::Line { line, .. } = e {
                        *line += left.lines;
                    }
                }
                left.part.merge(right.part);
                left.lines += right.lines;
                left.stats = match (left.stats, right.stats) {
                    (Some(l), Some(r)) => Some(add_stats(l, r)),
                    (l, r) => l.or(r),
                };
                left
            });
        let Some(joined) = joined else {
            return outcome;
        };
        outcome.merge(joined.part);
        let stats = joined.stats;
        outcome.stats.extend(stats);
        outcome
    }

    /// Reads standard input: shared bytes each time, a reader once.
    fn scan_stdin(&self, stdin: &StdinInput, now: NaiveDateTime) -> FileOutcome<'_> {
        let path = Path::new("-");
        match stdin {
            StdinInput::Bytes(bytes) => self.scan_input(path, &bytes[..], None, false, now),
            StdinInput::Reader(reader) => {
                let taken = reader
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                match taken {
                    Some(reader) => self.scan_input(path, reader, None, false, now),
                    None => {
                        let mut outcome = FileOutcome::empty(&self.ranges);
                        outcome.errors.push(Error::File {
                            path: path.to_path_buf(),
                            message: "standard input was read by an earlier scan".to_string(),
                        });
                        outcome
                    }
                }
            }
        }
    }

    /// Reads input that is not a file, as a stream: standard input (format detected from its
    /// first [`HEAD`] bytes, which are then read again ahead of the rest) or the output of a
    /// live command (format known).
    fn scan_input(
        &self,
        path: &Path,
        mut input: impl Read,
        format: Option<Format>,
        live: bool,
        now: NaiveDateTime,
    ) -> FileOutcome<'_> {
        let mut outcome = FileOutcome::empty(&self.ranges);
        let mut head = Vec::new();
        let format = match format {
            Some(format) => Some(format),
            None => {
                let (read, error) = crate::decompress::read_head(&mut input, HEAD);
                if let Some(source) = error {
                    return outcome.failed(path, source);
                }
                head = read;
                detect_text(self.registry(), path, &head)
            }
        };
        match format {
            Some(format) if self.wanted(format) => match self.read_as(format) {
                Some(Reader::Sqlite(_)) => outcome.errors.push(Error::File {
                    path: path.to_path_buf(),
                    message: format!("{format} cannot be read from standard input; give its path"),
                }),
                _ => {
                    let input = Cursor::new(head).chain(input);
                    self.parse(path, format, input, now, now, 0, live, &mut outcome)
                }
            },
            _ => outcome.skipped = 1,
        }
        outcome
    }

    /// Runs the live listing commands and reads their output.
    fn scan_live(&self, now: NaiveDateTime) -> FileOutcome<'_> {
        self.scan_live_sources(LIVE_SOURCES, now)
    }

    /// Runs these listing commands and reads their output.
    fn scan_live_sources(
        &self,
        sources: &[live::LiveSource],
        now: NaiveDateTime,
    ) -> FileOutcome<'_> {
        let mut outcome = FileOutcome::empty(&self.ranges);
        for source in sources {
            if !self.wanted(source.format) {
                continue;
            }
            let label = source.label(&self.live_options);
            match live::run(source, &self.live_options) {
                LiveOutput::Absent => {}
                LiveOutput::Output(bytes) => {
                    let mut read = self.scan_input(
                        Path::new(&label),
                        &bytes[..],
                        Some(source.format),
                        true,
                        now,
                    );
                    // Read in full: a ban of its tool that it does not hold is not in force.
                    if read.errors.is_empty() {
                        for cover in live_covers(self.registry(), source, &label) {
                            read.aggregator.cover(cover);
                        }
                    }
                    outcome.merge(read);
                }
                LiveOutput::Failed(message) => {
                    // A live read that failed is an error, never a silent empty answer: the
                    // state it would have shown is unknown. The message names the socket or
                    // configuration the user gave, as that is the likeliest thing to be wrong.
                    let given = source
                        .given(&self.live_options)
                        .map(|g| format!(" ({g})"))
                        .unwrap_or_default();
                    outcome.errors.push(Error::File {
                        path: PathBuf::from(&label),
                        message: format!("live read failed{given}: {message}"),
                    });
                    let mut stats = FileStats::new(label, source.format);
                    stats.notes.push(message);
                    outcome.stats.push(stats);
                }
            }
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
        live: bool,
        outcome: &mut FileOutcome<'s>,
    ) {
        let ctx = ParseCtx {
            path: Arc::from(path),
            reference,
            now,
        };
        let mut sink = FileSink {
            // A live read is as of now; a file as of its last change (standard input: unknown).
            agg: Aggregator::new(&self.ranges, rank)
                .source(live, (path != Path::new("-")).then_some(reference)),
            sources: self.sources.as_deref(),
            malformed: 0,
            malformed_samples: Vec::new(),
            events: 0,
            notes: Vec::new(),
            includes: Includes::default(),
            cuts: Cuts::default(),
            whole_list: None,
            lean: self.buffer_search,
        };
        let mut lines = 0;
        match self.read_as(format) {
            Some(Reader::Lines(make)) => {
                let mut parser = make(&ctx);
                let long = self.long_lines(format);
                // The head of the line being handed in pieces: the text its events keep.
                let mut head = Vec::new();
                let words = self
                    .registry()
                    .get(format)
                    .and_then(FormatDescriptor::search_words)
                    .filter(|_| self.buffer_search);
                let walk = match words {
                    Some(words) => Walk::Search(words),
                    None if self.buffer_search => Walk::Blocks,
                    None => Walk::Lines,
                };
                let result = search_lines(&mut input, long, walk, |n, chunk| match chunk {
                    LineChunk::Line(line) => {
                        parser.line(n, line, &mut LineSink::new(&mut sink, &ctx.path, n, line))
                    }
                    LineChunk::Lines(block) => parser.block(
                        n,
                        block,
                        &mut BlockLines {
                            sink: &mut sink,
                            path: &ctx.path,
                        },
                    ),
                    LineChunk::Piece(piece, part) => {
                        if part == Part::First {
                            head.clear();
                            head.extend_from_slice(&piece[..piece.len().min(HEAD_TEXT)]);
                        }
                        let mut line_sink = LineSink::new(&mut sink, &ctx.path, n, &head);
                        parser.piece(n, piece, part, &mut line_sink);
                    }
                    LineChunk::Cut(line) => {
                        parser.line(n, line, &mut LineSink::new(&mut sink, &ctx.path, n, line));
                        sink.cuts.add(n, cut_message(format, long));
                    }
                    LineChunk::PiecesCut => sink.cuts.add(n, cut_message(format, long)),
                });
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
            Some(Reader::Document { limit, read }) => {
                let mut bytes = Vec::new();
                let result = input
                    .take(limit as u64 + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|source| Error::Io {
                        path: path.to_path_buf(),
                        source,
                    })
                    .and_then(|_| {
                        read(&bytes, &ctx, &mut sink).map_err(|message| Error::File {
                            path: path.to_path_buf(),
                            message,
                        })
                    });
                if let Err(e) = result {
                    outcome.errors.push(e);
                }
            }
            Some(Reader::Sqlite(read)) => {
                if let Err(e) = crate::open::open_sqlite(path, &ctx, &mut sink, read) {
                    outcome.errors.push(e);
                }
            }
            None => {}
        }
        if sink.agg.catch_all() > 0 {
            sink.note(CATCH_ALL_NOTE.to_string());
        }
        // A live read is covered by its source (see `live_covers`); a saved listing as of the
        // file's last change (standard input: now). Not when the read failed part of the way,
        // or a record of it was cut.
        let whole = !live && sink.malformed == 0 && sink.cuts.is_empty();
        if let Some(tool) = sink.whole_list.filter(|_| whole) {
            sink.agg.saved_cover(crate::verdict::SavedCover {
                tool,
                format,
                file: ctx.path.clone(),
                as_of: reference.min(now),
            });
        }
        outcome
            .errors
            .extend(std::mem::take(&mut sink.cuts).errors(path));
        let mut stats = FileStats::new(path.display().to_string(), format);
        stats.lines = lines;
        stats.events = sink.events;
        stats.malformed = sink.malformed;
        stats.malformed_samples = sink.malformed_samples;
        stats.notes = sink.notes;
        outcome.stats.push(stats);
        outcome.aggregator.merge(sink.agg);
    }
}

/// Where the supported tools keep their logs, ban lists and databases: what `scan` reads when
/// given no path. Absent ones are skipped quietly by [`existing_default_paths`].
pub const DEFAULT_PATHS: &[&str] = &[
    "/var/log",
    "/var/lib/fail2ban",
    "/etc/csf",
    "/var/lib/csf",
    "/etc/ufw",
    "/etc/firewalld",
    "/etc/iptables",
    "/etc/sysconfig/iptables",
    "/etc/sysconfig/ip6tables",
    "/etc/sysconfig/ipset",
    "/etc/nftables.conf",
    "/etc/nftables.d",
    "/etc/nginx",
    "/etc/apache2",
    "/etc/httpd",
    "/www/server/btwaf",
    "/www/server/free_waf",
    "/www/wwwlogs",
    "/www/server/panel/data/firewall",
    "/opt/modsecurity/var/audit",
];

/// The places a scan without paths reads that exist on this machine: the [`DEFAULT_PATHS`],
/// and each format's usual path that is a plain absolute path (no wildcard or placeholder)
/// outside them, so that a format added to the registry is read by default too.
pub fn existing_default_paths() -> Vec<PathBuf> {
    let mut paths = default_candidates();
    paths.retain(|p| p.exists());
    paths
}

/// [`existing_default_paths`] before the check that they exist.
fn default_candidates() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = DEFAULT_PATHS.iter().map(PathBuf::from).collect();
    for d in Registry::builtin().formats() {
        for usual in d.paths() {
            let plain = usual.starts_with('/') && !usual.contains(['*', '<', '(', ' ']);
            let path = Path::new(usual);
            if plain && !paths.iter().any(|p| path.starts_with(p)) {
                paths.push(path.to_path_buf());
            }
        }
    }
    paths
}

/// Tells `sink` of each of the `pending` outcomes and joins them to `total`; returns how many.
fn join_pending<'r, S: ReportSink + ?Sized>(
    total: &mut FileOutcome<'r>,
    sink: &mut S,
    pending: &mut Vec<FileOutcome<'r>>,
) -> usize {
    let n = pending.len();
    for outcome in pending.drain(..) {
        outcome.tell(sink);
        total.merge(outcome);
    }
    n
}

/// Files at least this large (uncompressed, of a line-independent format) are read in chunks.
pub const CHUNK_MIN: u64 = 64 * 1024 * 1024;

/// The size a chunk aims at (or half the threshold, when [`Scanner::chunk_threshold`] is lower).
const CHUNK_TARGET: u64 = 32 * 1024 * 1024;

/// Offsets that cut a file into line-aligned chunks: 0, the byte after a newline near each
/// cut, and the size.
fn chunk_bounds(file: &std::fs::File, size: u64, target: u64) -> std::io::Result<Vec<u64>> {
    use std::io::{BufRead, BufReader, Seek, SeekFrom};
    let n = (size / target)
        .clamp(2, 256)
        .max(u64::from(rayon::current_num_threads() > 1) * 2);
    let mut file = BufReader::new(Span {
        file,
        at: 0,
        end: size,
    });
    let mut bounds = vec![0u64];
    let mut skip = Vec::new();
    for i in 1..n {
        let at = size * i / n;
        if at <= *bounds.last().expect("not empty") {
            continue;
        }
        file.seek(SeekFrom::Start(at))?;
        skip.clear();
        // The rest of the line the cut falls in belongs to the previous chunk.
        let read = file
            .by_ref()
            .take(crate::lines::MAX_LINE as u64 * 4)
            .read_until(b'\n', &mut skip)?;
        // Only a cut right after a newline keeps lines whole; a longer line keeps its chunk.
        if skip.last() != Some(&b'\n') {
            continue;
        }
        let bound = at + read as u64;
        if bound < size && bound > *bounds.last().expect("not empty") {
            bounds.push(bound);
        }
    }
    bounds.push(size);
    Ok(bounds)
}

/// [`Registry::detect`], then, for a file it does not know that holds NUL bytes, the same again on its
/// bytes without them: the log of a machine that crashed holds runs of NULs where writes were
/// lost, sometimes at its very start, and it is still a log.
fn detect_text(registry: &Registry, path: &Path, head: &[u8]) -> Option<Format> {
    registry.detect(path, head).or_else(|| {
        memchr::memchr(0, head)?;
        let text: Vec<u8> = head.iter().copied().filter(|&b| b != 0).collect();
        registry.detect(path, &text)
    })
}

/// The machine's host name, as the kernel has it.
fn hostname() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The rotation number in a file name: `fail2ban.log.2.gz` and `fail2ban.log.6.gz.gz` are 2
/// and 6, `fail2ban.log` is 0 (compression suffixes: [`crate::decompress::strip_suffixes`]).
fn rotation_rank(path: &Path) -> u32 {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let name = crate::decompress::strip_suffixes(&name);
    name.rsplit_once('.')
        .and_then(|(_, n)| if n.len() <= 4 { n.parse().ok() } else { None })
        .unwrap_or(0)
}

/// Bytes `at..end` of an open file, read with positional reads: many spans of one file are
/// read at once from several threads without sharing a file offset.
struct Span<'f> {
    file: &'f std::fs::File,
    at: u64,
    end: u64,
}

impl Read for Span<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = usize::try_from(self.end.saturating_sub(self.at)).unwrap_or(usize::MAX);
        let want = buf.len().min(left);
        if want == 0 {
            return Ok(0);
        }
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(self.file, &mut buf[..want], self.at)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(self.file, &mut buf[..want], self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

impl std::io::Seek for Span<'_> {
    /// Only what [`chunk_bounds`] needs: a move to an absolute offset.
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        match pos {
            std::io::SeekFrom::Start(at) => {
                self.at = at;
                Ok(at)
            }
            _ => Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "a span seeks only from its start",
            )),
        }
    }
}

/// A read chunk of a split file: what it found, its line count and its statistics.
struct Chunk<'r> {
    part: FileOutcome<'r>,
    lines: u64,
    stats: Option<FileStats>,
}

/// The statistics of two chunks of one file, as one.
fn add_stats(mut total: FileStats, s: FileStats) -> FileStats {
    total.lines += s.lines;
    total.events += s.events;
    total.malformed += s.malformed;
    let room = MAX_MALFORMED_SAMPLES.saturating_sub(total.malformed_samples.len());
    total
        .malformed_samples
        .extend(s.malformed_samples.into_iter().take(room));
    for note in s.notes {
        if total.notes.len() < 8 && !total.notes.contains(&note) {
            total.notes.push(note);
        }
    }
    total
}

struct FileSink<'r> {
    agg: Aggregator<'r>,
    /// Only events of these tools are kept (`--source`): a file of one format can hold the
    /// events of several tools (syslog).
    sources: Option<&'r [Tool]>,
    malformed: u64,
    /// The first [`MAX_MALFORMED_SAMPLES`] malformed lines.
    malformed_samples: Vec<MalformedLine>,
    events: u64,
    notes: Vec<String>,
    includes: Includes,
    /// The input is the whole list of this tool's bans in force ([`Sink::whole_list`]).
    whole_list: Option<Tool>,
    /// What could not be read whole ([`Sink::cut`], and lines cut at their limit): errors of
    /// the scan.
    cuts: Cuts,
    /// Events the scan keeps only counts of are counted without being built where the parser
    /// asks the sink first: fail2ban's bans and unbans ([`Sink::jail_entry`]), a ModSecurity
    /// audit log's entries held back ([`Sink::only_counts`]). Not when reading line by line
    /// ([`Scanner::buffer_search`]), which builds every such event, to compare against.
    lean: bool,
}

/// Records cut at a limit, each an error of the scan: the first [`MAX_CUTS`] one by one, the
/// rest counted (a hostile file may cut every line).
#[derive(Default)]
struct Cuts {
    kept: Vec<(u64, String)>,
    more: u64,
    first_more: u64,
}

impl Cuts {
    fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    fn add(&mut self, line: u64, message: String) {
        if self.kept.len() < MAX_CUTS {
            self.kept.push((line, message));
        } else {
            if self.more == 0 {
                self.first_more = line;
            }
            self.more += 1;
        }
    }

    /// The errors, on `path`.
    fn errors(self, path: &Path) -> impl Iterator<Item = Error> + '_ {
        let more = (self.more > 0).then(|| Error::Line {
            path: path.to_path_buf(),
            line: self.first_more,
            message: format!(
                "{} more records cut at their limit, the first here: the rest of each is not read",
                self.more
            ),
        });
        self.kept
            .into_iter()
            .map(|(line, message)| Error::Line {
                path: path.to_path_buf(),
                line,
                message,
            })
            .chain(more)
    }
}

impl FileSink<'_> {
    /// Counts an entry of `tool` on `net` with no peer when the scan keeps nothing else of it
    /// ([`crate::audit::Aggregator::counts_only`]); returns whether it did.
    fn count_only(&mut self, net: &IpNet, tool: Tool) -> bool {
        if !self.agg.counts_only(net, tool) {
            return false;
        }
        self.events += 1;
        if self.sources.is_none_or(|tools| tools.contains(&tool)) {
            self.agg.count();
        }
        true
    }

    /// Counts a fail2ban jail's `action` on `net` at `time` when the scan keeps nothing else
    /// of it but, for a ban, the jail's count of visitor bans
    /// ([`crate::audit::Aggregator::jail_counts_only`]); returns whether it did.
    fn jail_count_only(
        &mut self,
        net: &IpNet,
        jail: &str,
        action: Action,
        time: Option<NaiveDateTime>,
    ) -> bool {
        if !self.lean || !self.agg.jail_counts_only(net) {
            return false;
        }
        self.events += 1;
        if self
            .sources
            .is_none_or(|tools| tools.contains(&Tool::Fail2ban))
        {
            self.agg.count_jail(jail, net, action, time);
        }
        true
    }

    /// One event, read from `line` when it was read from one line.
    fn event_read(&mut self, event: BanEvent, line: Option<&[u8]>) {
        self.events += 1;
        if self.sources.is_none_or(|tools| tools.contains(&event.tool)) {
            self.agg.add_read(event, line);
        }
    }
}

impl Sink for FileSink<'_> {
    fn event(&mut self, event: BanEvent) {
        self.event_read(event, None)
    }

    fn entry(&mut self, net: IpNet, tool: Tool, build: &mut dyn FnMut() -> BanEvent) {
        if !self.count_only(&net, tool) {
            self.event(build())
        }
    }

    fn only_counts(&self, net: &IpNet, tool: Tool) -> bool {
        self.lean && self.agg.counts_only(net, tool)
    }

    fn count_held(&mut self, net: IpNet, tool: Tool) {
        let counted = self.count_only(&net, tool);
        debug_assert!(
            counted,
            "an entry held back is counted as it would have been"
        );
    }

    fn jail_entry(
        &mut self,
        net: IpNet,
        jail: &str,
        action: Action,
        time: Option<NaiveDateTime>,
        build: &mut dyn FnMut() -> BanEvent,
    ) {
        if !self.jail_count_only(&net, jail, action, time) {
            self.event(build())
        }
    }

    fn malformed(&mut self, line: u64, message: String) {
        self.malformed += 1;
        if self.malformed_samples.len() < MAX_MALFORMED_SAMPLES {
            self.malformed_samples
                .push(MalformedLine::new(line, message));
        }
    }

    fn set_use(&mut self, set: &str, verdict: Verdict) {
        self.agg.set_use(set, verdict);
    }

    fn set_member(&mut self, list: &str, member: &str) {
        self.agg.set_member(list, member);
    }

    fn access_client(
        &mut self,
        path: &Arc<Path>,
        line: u64,
        client: std::net::IpAddr,
        status: u16,
    ) {
        self.agg.access_client(path, line, client, status);
    }

    fn realip_config(&mut self, config: crate::web_evidence::RealIpConfig) {
        self.agg.realip_config(config);
    }

    fn note(&mut self, text: String) {
        if self.notes.len() < 8 && !self.notes.contains(&text) {
            self.notes.push(text);
        }
    }

    fn whole_list(&mut self, tool: Tool) {
        self.whole_list = Some(tool);
    }

    fn include(&mut self, from: &Path, target: &Path) -> Result<Vec<u8>, IncludeError> {
        self.includes.open(from, target)
    }

    fn cut(&mut self, line: u64, message: String) {
        self.cuts.add(line, message);
    }
}

/// A [`FileSink`] that knows the line being read: the events read from that line keep its
/// text as their evidence.
struct LineSink<'a, 'r> {
    sink: &'a mut FileSink<'r>,
    path: &'a Arc<Path>,
    lineno: u64,
    line: &'a [u8],
}

impl<'a, 'r> LineSink<'a, 'r> {
    fn new(sink: &'a mut FileSink<'r>, path: &'a Arc<Path>, lineno: u64, line: &'a [u8]) -> Self {
        LineSink {
            sink,
            path,
            lineno,
            line,
        }
    }
}

/// A [`FileSink`] lent, line by line, to a parser reading a run of lines at once.
struct BlockLines<'a, 'r> {
    sink: &'a mut FileSink<'r>,
    path: &'a Arc<Path>,
}

impl BlockSink for BlockLines<'_, '_> {
    fn count_entry(&mut self, net: &IpNet, tool: Tool) -> bool {
        self.sink.count_only(net, tool)
    }

    fn line(&mut self, lineno: u64, line: &[u8], read: &mut dyn FnMut(&mut dyn Sink)) {
        read(&mut LineSink::new(self.sink, self.path, lineno, line))
    }
}

impl Sink for LineSink<'_, '_> {
    fn event(&mut self, event: BanEvent) {
        // Only an event of this very line (not of an included file, not of an earlier
        // line of a record) keeps its text.
        // (`Arc`'s equality compares the pointers first.)
        let here = event.location.line == self.lineno && event.location.path == *self.path;
        let line = here.then_some(self.line);
        self.sink.event_read(event, line)
    }

    fn entry(&mut self, net: IpNet, tool: Tool, build: &mut dyn FnMut() -> BanEvent) {
        if !self.sink.count_only(&net, tool) {
            self.event(build())
        }
    }

    fn only_counts(&self, net: &IpNet, tool: Tool) -> bool {
        self.sink.only_counts(net, tool)
    }

    fn count_held(&mut self, net: IpNet, tool: Tool) {
        self.sink.count_held(net, tool)
    }

    fn jail_entry(
        &mut self,
        net: IpNet,
        jail: &str,
        action: Action,
        time: Option<NaiveDateTime>,
        build: &mut dyn FnMut() -> BanEvent,
    ) {
        if !self.sink.jail_count_only(&net, jail, action, time) {
            self.event(build())
        }
    }

    fn malformed(&mut self, line: u64, message: String) {
        self.sink.malformed(line, message)
    }

    fn set_use(&mut self, set: &str, verdict: Verdict) {
        self.sink.set_use(set, verdict)
    }

    fn set_member(&mut self, list: &str, member: &str) {
        self.sink.set_member(list, member)
    }

    fn access_client(
        &mut self,
        path: &Arc<Path>,
        line: u64,
        client: std::net::IpAddr,
        status: u16,
    ) {
        self.sink.access_client(path, line, client, status)
    }

    fn realip_config(&mut self, config: crate::web_evidence::RealIpConfig) {
        self.sink.realip_config(config)
    }

    fn note(&mut self, text: String) {
        self.sink.note(text)
    }

    fn whole_list(&mut self, tool: Tool) {
        self.sink.whole_list(tool)
    }

    fn include(&mut self, from: &Path, target: &Path) -> Result<Vec<u8>, IncludeError> {
        self.sink.include(from, target)
    }

    fn cut(&mut self, line: u64, message: String) {
        self.sink.cut(line, message)
    }
}

/// The note of a file with entries on every address (the same text for every chunk of a file,
/// so that it is said once).
const CATCH_ALL_NOTE: &str = "entries on every address (0.0.0.0/0 or ::/0) are policies for a \
     port or a service, not bans of Cloudflare: not reported (doctor judges firewall rules per \
     port)";

/// What a live listing covers: the tools of its format, for the address families it lists
/// (`iptables-save` and `iptables-legacy-save` IPv4 only, `ip6tables-save` and
/// `ip6tables-legacy-save` IPv6 only, `ip -4`/`ip -6 route` the one family). `firewall-cmd
/// --list-all-zones` covers nothing:
/// firewalld's ipsets are not in it.
fn live_covers(
    registry: &Registry,
    source: &live::LiveSource,
    label: &str,
) -> Vec<crate::verdict::LiveCover> {
    let (v4, v6) = match (source.program, source.args.first().copied()) {
        ("iptables-save" | "iptables-legacy-save", _) | ("ip", Some("-4")) => (true, false),
        ("ip6tables-save" | "ip6tables-legacy-save", _) | ("ip", Some("-6")) => (false, true),
        _ => (true, true),
    };
    if source.format == Format::FirewalldRich {
        return Vec::new();
    }
    let label: Arc<str> = Arc::from(label);
    registry
        .get(source.format)
        .map(|d| d.tools())
        .unwrap_or_default()
        .iter()
        .map(|&tool| crate::verdict::LiveCover {
            tool,
            v4,
            v6,
            format: source.format,
            label: label.clone(),
        })
        .collect()
}

struct FileOutcome<'r> {
    aggregator: Aggregator<'r>,
    stats: Vec<FileStats>,
    errors: Vec<Error>,
    /// The notes that replace permission errors in default places.
    denied_notes: Vec<String>,
    skipped: u64,
}

impl<'r> FileOutcome<'r> {
    fn empty(ranges: &'r RangeSet) -> Self {
        FileOutcome {
            aggregator: Aggregator::new(ranges, 0),
            stats: Vec::new(),
            errors: Vec::new(),
            denied_notes: Vec::new(),
            skipped: 0,
        }
    }

    /// Turns this outcome's permission errors into notes (a file in a default place).
    fn quiet_denied(&mut self) {
        let notes = &mut self.denied_notes;
        self.errors.retain(|e| match e.path() {
            Some(path) if e.io_kind() == Some(std::io::ErrorKind::PermissionDenied) => {
                notes.push(unreadable_note(path));
                false
            }
            _ => true,
        });
    }

    /// This outcome with an I/O error on `path` added (the file could not be read on).
    fn failed(mut self, path: &Path, source: std::io::Error) -> Self {
        self.errors.push(Error::Io {
            path: path.to_path_buf(),
            source,
        });
        self
    }

    /// Tells a sink the statistics and errors of this outcome, which are final.
    fn tell<S: ReportSink + ?Sized>(&self, sink: &mut S) {
        for stats in &self.stats {
            sink.file(stats);
        }
        for e in &self.errors {
            sink.error(&ErrorEntry::from(e));
        }
    }

    fn merge(&mut self, other: FileOutcome<'r>) {
        self.aggregator.merge(other.aggregator);
        self.stats.extend(other.stats);
        self.errors.extend(other.errors);
        self.denied_notes.extend(other.denied_notes);
        self.skipped += other.skipped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_in_pieces_past_its_limit_is_an_error_naming_the_file_and_line() {
        // A blocklist on one line of 3 MiB, its format's limit capped at 2 MiB: the entries
        // before the cut are read, the cut is an error, the line after it is read.
        let mut text = b"104.16.0.1\n".to_vec();
        while text.len() < 3 << 20 {
            text.extend_from_slice(b"198.51.100.7 ");
        }
        text.extend_from_slice(b"104.16.0.2\n104.16.0.3\n");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blocklist.txt");
        std::fs::write(&path, &text).unwrap();
        let report = Scanner::new(crate::cloudflare::embedded())
            .line_limit_cap(2 << 20)
            .path(&path)
            .scan();
        assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
        let error = &report.errors[0].message;
        assert!(error.contains("blocklist.txt"), "{error}");
        assert!(
            error.contains(":2: line longer than 2 MiB, the most a list line may be"),
            "{error}"
        );
        let found: Vec<String> = report.findings.iter().map(|f| f.address_text()).collect();
        assert_eq!(found, ["104.16.0.1", "104.16.0.3"]);
        assert_eq!(report.files[0].malformed, 0, "no token is cut short");
    }

    #[test]
    fn a_failed_live_read_is_an_error() {
        // `false` stands in for a listing command that fails (fail2ban-client without its
        // socket): the report says so among its errors, not only in a note.
        let failing = live::LiveSource {
            program: "false",
            args: &[],
            option: live::UserOption::None,
            format: Format::Fail2banBanned,
        };
        let scanner = Scanner::new(crate::cloudflare::embedded());
        let now = "2026-11-24T12:00:00".parse().unwrap();
        let outcome = scanner.scan_live_sources(&[failing], now);
        assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
        let message = outcome.errors[0].to_string();
        assert!(
            message.contains("live: false") && message.contains("live read failed"),
            "{message}"
        );
        assert_eq!(outcome.stats.len(), 1);
        assert_eq!(outcome.stats[0].notes.len(), 1);
    }

    /// `cscli decisions list -a -o json` read live holds what is in force now: a decision that
    /// crowdsec.log stored and that `cscli decisions delete` removed since (the log says
    /// nothing of it) is lifted, whatever the log's duration says; one it holds stands.
    #[test]
    fn a_live_listing_lifts_a_logged_decision_it_does_not_hold() {
        let dir = tempfile::tempdir().unwrap();
        let listing = dir.path().join("cscli-decisions-list.json");
        std::fs::write(
            &listing,
            r#"[
 {
  "capacity": 0,
  "created_at": "2026-11-24T03:09:23Z",
  "decisions": [
   {"duration": "23h9m22.6s", "id": 2, "origin": "cscli", "scenario": "manual: scanner", "scope": "Ip", "type": "ban", "value": "2606:4700:3033::6815:1a2b"}
  ],
  "events": [],
  "events_count": 1,
  "id": 2,
  "labels": null,
  "leakspeed": "0",
  "machine_id": "web01",
  "message": "manual: scanner",
  "scenario": "manual: scanner",
  "scenario_hash": "",
  "scenario_version": "",
  "simulated": false,
  "source": {"ip": "2606:4700:3033::6815:1a2b", "scope": "Ip", "value": "2606:4700:3033::6815:1a2b"},
  "start_at": "2026-11-24T03:09:23Z",
  "stop_at": "2026-11-24T03:09:23Z"
 }
]
"#,
        )
        .unwrap();
        let arg: &'static str = Box::leak(listing.display().to_string().into_boxed_str());
        let cat = live::LiveSource {
            program: "cat",
            args: Box::leak(vec![arg].into_boxed_slice()),
            option: live::UserOption::None,
            format: Format::CrowdsecJson,
        };
        let log = concat!(
            r#"time="24-11-2026 03:09:23" level=info msg="(web01/cscli) manual: wp-login brute force by ip 104.16.1.10 : 4h ban on Ip 104.16.1.10""#,
            "\n",
            r#"time="24-11-2026 03:09:23" level=info msg="(web01/cscli) manual: scanner by ip 2606:4700:3033::6815:1a2b : 24h ban on Ip 2606:4700:3033::6815:1a2b""#,
            "\n",
        );
        let scanner = Scanner::new(crate::cloudflare::embedded());
        let now = "2026-11-24T05:00:00".parse().unwrap();
        let mut outcome = scanner.scan_live_sources(&[cat], now);
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        outcome.merge(scanner.scan_input(
            Path::new("/var/log/crowdsec.log"),
            log.as_bytes(),
            Some(Format::CrowdsecLog),
            false,
            now,
        ));
        let findings =
            outcome
                .aggregator
                .findings_with(now, scanner.registry(), &crate::verdict::NoPolicy);
        let state = |addr: &str| {
            let f = findings.iter().find(|f| f.address_text() == addr).unwrap();
            (f.state, f.evidence[0].authority)
        };
        assert_eq!(
            state("104.16.1.10"),
            (crate::BanState::Lifted, crate::Authority::Live)
        );
        assert_eq!(
            state("2606:4700:3033::6815:1a2b"),
            (crate::BanState::Active, crate::Authority::Live)
        );
    }

    #[test]
    fn a_failed_live_read_names_the_socket_given() {
        // `false` takes the socket option like fail2ban-client would, and fails.
        let failing = live::LiveSource {
            program: "false",
            args: &["banned"],
            option: live::UserOption::Fail2banSocket,
            format: Format::Fail2banBanned,
        };
        let scanner =
            Scanner::new(crate::cloudflare::embedded()).fail2ban_socket("/srv/f2b/nowhere.sock");
        let now = "2026-11-24T12:00:00".parse().unwrap();
        let outcome = scanner.scan_live_sources(&[failing], now);
        assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
        let message = outcome.errors[0].to_string();
        assert!(
            message.starts_with("live: false -s /srv/f2b/nowhere.sock banned: ")
                && message.contains("live read failed (fail2ban socket /srv/f2b/nowhere.sock): "),
            "{message}"
        );
    }

    #[test]
    fn default_paths_include_each_formats_plain_usual_path() {
        let paths = default_candidates();
        let has = |p: &str| paths.iter().any(|q| q == Path::new(p));
        assert!(
            has("/etc/hosts.deny") && has("/etc/ipset.conf"),
            "{paths:?}"
        );
        // Paths inside a default directory, and patterns, are not listed again.
        assert!(
            !has("/var/log/fail2ban.log") && !has("/tmp/dos-*"),
            "{paths:?}"
        );
        assert!(paths.iter().all(|p| p.is_absolute()));
    }

    #[test]
    fn rotation_ranks() {
        assert_eq!(rotation_rank(Path::new("/var/log/fail2ban.log")), 0);
        assert_eq!(rotation_rank(Path::new("/var/log/fail2ban.log.1")), 1);
        assert_eq!(rotation_rank(Path::new("/var/log/fail2ban.log.12.gz")), 12);
        assert_eq!(rotation_rank(Path::new("/var/log/fail2ban.log.3.xz")), 3);
        assert_eq!(rotation_rank(Path::new("/var/log/fail2ban.log.4.zst")), 4);
        assert_eq!(rotation_rank(Path::new("/var/log/fail2ban.log.5.bz2")), 5);
        assert_eq!(rotation_rank(Path::new("/var/log/fail2ban.log.6.gz.gz")), 6);
        assert_eq!(
            rotation_rank(Path::new("/var/log/fail2ban.log-20261124.gz")),
            0
        );
    }
}
