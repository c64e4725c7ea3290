//! The format registry as data: every format describes itself in one [`FormatDescriptor`]
//! (name, tools, usual paths, description, how it is detected and at what rank, how it is
//! read, the syslog tags it owns), and a [`Registry`] holds a list of them. Detection walks
//! the list in the order the descriptors state; the syslog reader dispatches by the tags they
//! declare.

use std::path::Path;
use std::sync::LazyLock;

use chrono::NaiveDateTime;

use super::{Database, LineParser, ParseCtx, Sink, SqliteReader};
use crate::event::{Location, Tool};
use crate::format_id::Format;

/// When in detection a test is asked: databases are told apart from text by their first
/// bytes, files told by their name alone are asked before the binary check, and text formats
/// after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Sqlite,
    Name,
    Text,
}

/// One way of telling a format: a test of the file's name and first bytes (decompressed when
/// the file is compressed), asked at a rank. Lower ranks are asked first; the first test that holds
/// decides.
#[derive(Clone, Copy)]
pub struct Detection {
    stage: Stage,
    rank: u16,
    test: Test,
}

/// What a detection test looks at.
#[derive(Clone, Copy)]
enum Test {
    /// The file's name and first bytes.
    Head(fn(&Path, &[u8]) -> bool),
    /// The file's name and what the scanner could open of the database.
    Database(fn(&Path, Database<'_>) -> bool),
}

impl Detection {
    /// A text format: asked after the binary check, by rank. Formats with a distinctive
    /// structure rank low (100 to 399), logs whose lines any text may hold rank 400 to 499,
    /// and plain address lists, which any text with an address a line resembles, last (500).
    pub const fn text(rank: u16, test: fn(&Path, &[u8]) -> bool) -> Detection {
        Detection {
            stage: Stage::Text,
            rank,
            test: Test::Head(test),
        }
    }

    /// A file told by its name whatever its content (a lock file holding a PID or nothing),
    /// asked before the binary check.
    pub(crate) const fn name(rank: u16, test: fn(&Path, &[u8]) -> bool) -> Detection {
        Detection {
            stage: Stage::Name,
            rank,
            test: Test::Head(test),
        }
    }

    /// A SQLite database, asked only for files that begin with SQLite's header, with what the
    /// scanner could open of it.
    pub(crate) const fn sqlite(rank: u16, test: fn(&Path, Database<'_>) -> bool) -> Detection {
        Detection {
            stage: Stage::Sqlite,
            rank,
            test: Test::Database(test),
        }
    }
}

/// How a format is read.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum Reader {
    /// A stream of lines, each handed to the parser this function makes for one input.
    Lines(fn(&ParseCtx) -> Box<dyn LineParser>),
    /// A whole document, read at once: the scanner hands over at most `limit + 1` bytes (more
    /// than `limit` means the input was larger, which the reader reports), and the reader's
    /// error names what is wrong with the input.
    Document {
        /// The largest input read.
        limit: usize,
        /// The reader.
        read: fn(&[u8], &ParseCtx, &mut dyn Sink) -> Result<(), String>,
    },
    /// A SQLite database the scanner opens read-only and hands over (never standard input).
    Sqlite(SqliteReader),
}

/// How a format read as lines takes a line longer than [`MAX_LINE`](crate::MAX_LINE), and the
/// longest line it reads: a limit far above what the real program writes, so that a line cut
/// there is damage or an attack, and the cut is an error of the scan naming the file and line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LongLines {
    /// Lines up to this many bytes are handed whole (memory for one such line is the cost); a
    /// longer one is handed cut after its last white space or comma before the limit, the
    /// rest of it skipped (the line's tokens before the cut still count). The default, at
    /// [`MAX_LINE`](crate::MAX_LINE).
    Limit(usize),
    /// Lines longer than [`MAX_LINE`](crate::MAX_LINE) are handed in pieces
    /// ([`LineParser::piece`](super::LineParser::piece)), up to this many bytes: no more memory
    /// than a piece and what the parser keeps. A longer line ends at the last white space or
    /// comma before the limit, the rest of it skipped. For formats whose long lines are lists
    /// read token by token.
    Pieces(usize),
}

impl LongLines {
    /// The longest line read.
    pub const fn limit(self) -> usize {
        match self {
            LongLines::Limit(bytes) | LongLines::Pieces(bytes) => bytes,
        }
    }
}

/// Whether the events of a format are members of a named set, whose purpose (ban or allow)
/// the rules that use it decide ([`Sink::set_use`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Membership {
    /// Each event is a ban in its own right.
    None,
    /// Members of a set are findings only when a rule drops or rejects on the set.
    ByRules,
    /// As [`Membership::ByRules`], and with no rule seen, when the set's name says it bans
    /// (`f2b-sshd`, `blocklist`).
    ByRulesOrName,
}

/// A syslog line of a program a format owns, as the syslog reader hands it over.
#[derive(Debug, Clone)]
pub struct SyslogEntry<'a> {
    /// The tag without its PID (`fail2ban.actions`, `lfd`).
    pub program: &'a [u8],
    /// The message after `: `.
    pub message: &'a [u8],
    /// The line's time.
    pub time: NaiveDateTime,
    /// Where the line is.
    pub location: Location,
    /// The format of the file the line is in ([`Format::Syslog`], or the format of a file
    /// that holds syslog lines among its own).
    pub format: Format,
}

/// A syslog tag (program name) a format owns: its lines in syslog and journal text are read by
/// that format's reader, never by what the message says.
#[derive(Clone, Copy)]
pub struct SyslogTag {
    pub(crate) program: &'static [u8],
    pub(crate) prefix: bool,
    pub(crate) needle: &'static str,
    pub(crate) read: fn(&SyslogEntry<'_>, &mut dyn Sink),
}

impl SyslogTag {
    /// Lines whose tag is exactly `program`; `needle` is a word every such line holds (a
    /// cheap test before the line is split).
    pub const fn exact(
        program: &'static [u8],
        needle: &'static str,
        read: fn(&SyslogEntry<'_>, &mut dyn Sink),
    ) -> SyslogTag {
        SyslogTag {
            program,
            prefix: false,
            needle,
            read,
        }
    }

    /// Lines whose tag begins with `prefix` (`fail2ban.` for fail2ban's loggers).
    pub const fn prefix(
        prefix: &'static [u8],
        needle: &'static str,
        read: fn(&SyslogEntry<'_>, &mut dyn Sink),
    ) -> SyslogTag {
        SyslogTag {
            program: prefix,
            prefix: true,
            needle,
            read,
        }
    }

    /// Whether a line with tag `program` is this tag's.
    pub(crate) fn owns(&self, program: &[u8]) -> bool {
        if self.prefix {
            program.starts_with(self.program)
        } else {
            program == self.program
        }
    }
}

/// Everything cf-ban-audit knows about one format.
///
/// A format module declares its descriptor as a constant; an embedder builds one for a format
/// of its own and registers it with [`Scanner::format`](crate::Scanner::format):
///
/// ```
/// use cf_ban_audit_core::formats::{Detection, FormatDescriptor, LineParser, ParseCtx, Sink};
/// use cf_ban_audit_core::{Format, Tool};
///
/// struct MyParser;
/// impl LineParser for MyParser {
///     fn line(&mut self, _lineno: u64, _line: &[u8], _sink: &mut dyn Sink) {}
/// }
/// const MINE: FormatDescriptor = FormatDescriptor::new(
///     Format::custom("my-waf"),
///     &[Tool::List],
///     "my WAF's block log",
///     |_ctx| Box::new(MyParser),
/// )
/// .detected_by(&[Detection::text(150, |_path, head| head.starts_with(b"MYWAF "))]);
/// assert_eq!(MINE.format().name(), "my-waf");
/// ```
#[derive(Clone, Copy)]
pub struct FormatDescriptor {
    format: Format,
    tools: &'static [Tool],
    usual_paths: &'static [&'static str],
    description: &'static str,
    detect: &'static [Detection],
    read: Reader,
    long_lines: LongLines,
    chunkable: bool,
    membership: Membership,
    syslog: &'static [SyslogTag],
    search: Option<fn() -> &'static super::prefilter::Prefilter>,
}

impl FormatDescriptor {
    /// A format read as lines by the parsers `lines` makes, holding bans of `tools`; it is
    /// detected by nothing until [`FormatDescriptor::detected_by`] says how.
    pub const fn new(
        format: Format,
        tools: &'static [Tool],
        description: &'static str,
        lines: fn(&ParseCtx) -> Box<dyn LineParser>,
    ) -> FormatDescriptor {
        FormatDescriptor::read_as(format, tools, description, Reader::Lines(lines))
    }

    /// A format read in the way `read` says.
    pub(crate) const fn read_as(
        format: Format,
        tools: &'static [Tool],
        description: &'static str,
        read: Reader,
    ) -> FormatDescriptor {
        FormatDescriptor {
            format,
            tools,
            usual_paths: &[],
            description,
            detect: &[],
            read,
            long_lines: LongLines::Limit(crate::lines::MAX_LINE),
            chunkable: false,
            membership: Membership::None,
            syslog: &[],
            search: None,
        }
    }

    /// How the format is detected: each test at its rank.
    pub const fn detected_by(mut self, detect: &'static [Detection]) -> FormatDescriptor {
        self.detect = detect;
        self
    }

    /// Where the format usually lives (for `cf-ban-audit formats`).
    pub const fn usual_paths(mut self, paths: &'static [&'static str]) -> FormatDescriptor {
        self.usual_paths = paths;
        self
    }

    /// Lines up to `bytes` long are read whole (the default is
    /// [`MAX_LINE`](crate::MAX_LINE)); a longer one is cut, and the cut is an error of the scan
    /// ([`LongLines::Limit`]). For a format whose records are single lines larger than a MiB
    /// that must be parsed whole (a JSON object a line).
    ///
    /// ```
    /// use cf_ban_audit_core::formats::{FormatDescriptor, LineParser, LongLines, Sink};
    /// use cf_ban_audit_core::{Format, Tool};
    /// struct Never;
    /// impl LineParser for Never {
    ///     fn line(&mut self, _: u64, _: &[u8], _: &mut dyn Sink) {}
    /// }
    /// const BIG: FormatDescriptor =
    ///     FormatDescriptor::new(Format::custom("big"), &[Tool::List], "big", |_| Box::new(Never))
    ///         .line_limit(16 << 20);
    /// assert_eq!(BIG.long_lines(), LongLines::Limit(16 << 20));
    /// ```
    pub const fn line_limit(mut self, bytes: usize) -> FormatDescriptor {
        self.long_lines = LongLines::Limit(bytes);
        self
    }

    /// Lines longer than [`MAX_LINE`](crate::MAX_LINE) are handed to the parser in pieces
    /// ([`LongLines::Pieces`]), up to `bytes` (at least `MAX_LINE`): its
    /// [`LineParser::piece`](super::LineParser::piece) reads them token by token; a longer line
    /// is cut, and the cut is an error of the scan.
    pub const fn long_lines_in_pieces(mut self, bytes: usize) -> FormatDescriptor {
        assert!(
            bytes >= crate::lines::MAX_LINE,
            "a limit below the piece size"
        );
        self.long_lines = LongLines::Pieces(bytes);
        self
    }

    /// How a line longer than [`MAX_LINE`](crate::MAX_LINE) is read.
    pub const fn long_lines(&self) -> LongLines {
        self.long_lines
    }

    /// The parser keeps no state from one line to the next, so a large file can be cut into
    /// line-aligned chunks read in parallel.
    pub const fn chunkable(mut self) -> FormatDescriptor {
        self.chunkable = true;
        self
    }

    /// The format's events are members of named sets.
    pub const fn membership(mut self, membership: Membership) -> FormatDescriptor {
        self.membership = membership;
        self
    }

    /// The syslog tags whose lines this format's reader reads.
    pub const fn syslog_tags(mut self, tags: &'static [SyslogTag]) -> FormatDescriptor {
        self.syslog = tags;
        self
    }

    /// The parser reads only the lines holding one of the words `words` gives (and checks
    /// that itself): the scanner then searches whole buffers for them and hands over only
    /// those lines ([`crate::lines`]'s buffer search), skipping the others at memory speed.
    pub(crate) const fn searched_for(
        mut self,
        words: fn() -> &'static super::prefilter::Prefilter,
    ) -> FormatDescriptor {
        self.search = Some(words);
        self
    }

    /// The words the format's parser reads lines for, when it says ([`Self::searched_for`]).
    pub(crate) fn search_words(&self) -> Option<&'static super::prefilter::Prefilter> {
        self.search.map(|words| words())
    }

    /// The format described.
    pub const fn format(&self) -> Format {
        self.format
    }

    /// The tools whose bans this format can hold.
    pub const fn tools(&self) -> &'static [Tool] {
        self.tools
    }

    /// Where the format usually lives.
    pub const fn paths(&self) -> &'static [&'static str] {
        self.usual_paths
    }

    /// One line saying what the format is.
    pub const fn description(&self) -> &'static str {
        self.description
    }

    /// How the format is read.
    pub const fn reader(&self) -> Reader {
        self.read
    }

    /// A parser for one input, when the format is read line by line.
    pub fn line_parser(&self, ctx: &ParseCtx) -> Option<Box<dyn LineParser>> {
        match self.read {
            Reader::Lines(make) => Some(make(ctx)),
            _ => None,
        }
    }

    /// Whether a large file of this format may be read as chunks in parallel.
    pub const fn is_chunkable(&self) -> bool {
        self.chunkable
    }

    /// Whether its events are members of named sets.
    pub const fn set_membership(&self) -> Membership {
        self.membership
    }
}

/// The SQLite file header.
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

/// A list of formats: the built-in ones ([`Registry::builtin`]), with those of an embedder
/// added.
#[derive(Clone)]
pub struct Registry {
    formats: Vec<FormatDescriptor>,
    /// Every detection test with its format's index, in the order they are asked.
    order: Vec<(Detection, usize)>,
    /// Every syslog tag with its format's index.
    syslog: Vec<(SyslogTag, usize)>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.formats.iter().map(|d| d.format))
            .finish()
    }
}

static BUILTIN: LazyLock<Registry> = LazyLock::new(|| Registry::new(super::BUILTIN));

impl Registry {
    /// The formats cf-ban-audit reads, in display order.
    pub fn builtin() -> &'static Registry {
        &BUILTIN
    }

    fn new(descriptors: &[&FormatDescriptor]) -> Registry {
        let mut registry = Registry {
            formats: Vec::with_capacity(descriptors.len()),
            order: Vec::new(),
            syslog: Vec::new(),
        };
        for d in descriptors {
            registry.push(**d);
        }
        registry
    }

    fn push(&mut self, d: FormatDescriptor) {
        let index = self.formats.len();
        self.order.extend(d.detect.iter().map(|&t| (t, index)));
        self.order
            .sort_by_key(|(t, index)| (t.stage, t.rank, *index));
        self.syslog.extend(d.syslog.iter().map(|&t| (t, index)));
        self.formats.push(d);
    }

    /// This registry with `descriptor` added. A format whose name is already taken is refused
    /// with a message saying so.
    pub fn with(&self, descriptor: FormatDescriptor) -> Result<Registry, String> {
        let name = descriptor.format.name();
        if self.formats.iter().any(|d| d.format.name() == name) {
            return Err(format!("a format named {name:?} is already registered"));
        }
        let mut registry = self.clone();
        registry.push(descriptor);
        Ok(registry)
    }

    /// Every format, in display order (the built-in ones, then those added).
    pub fn formats(&self) -> impl Iterator<Item = &FormatDescriptor> {
        self.formats.iter()
    }

    /// The descriptor of `format`.
    pub fn get(&self, format: Format) -> Option<&FormatDescriptor> {
        self.formats.iter().find(|d| d.format == format)
    }

    /// Looks a format up by its name.
    pub fn by_name(&self, name: &str) -> Option<Format> {
        self.formats
            .iter()
            .find(|d| d.format.name() == name)
            .map(|d| d.format)
    }

    /// Decides the format of a file from its name and its first bytes: see [`detect`].
    ///
    /// [`detect`]: super::detect
    /// For a file that begins with SQLite's header, only the tests that need no open
    /// database answer here (names); the scanner asks [`Registry::detect_database`] with the
    /// database it opened.
    pub fn detect(&self, path: &Path, head: &[u8]) -> Option<Format> {
        if is_sqlite(head) {
            return self.detect_database(path, Database::Closed);
        }
        let first = |stage: Stage| {
            self.order
                .iter()
                .filter(|(t, _)| t.stage == stage)
                .find(|(t, _)| matches!(t.test, Test::Head(test) if test(path, head)))
                .map(|&(_, index)| self.formats[index].format)
        };
        if let Some(format) = first(Stage::Name) {
            return Some(format);
        }
        if looks_binary(head) {
            return None;
        }
        first(Stage::Text)
    }

    /// Decides the format of a SQLite database from its name and what the scanner could open
    /// of it.
    pub fn detect_database(&self, path: &Path, db: Database<'_>) -> Option<Format> {
        self.order
            .iter()
            .filter(|(t, _)| t.stage == Stage::Sqlite)
            .find(|(t, _)| matches!(t.test, Test::Database(test) if test(path, db)))
            .map(|&(_, index)| self.formats[index].format)
    }

    /// The syslog tags formats own, each with the format that owns it.
    pub(crate) fn syslog_tags(&self) -> impl Iterator<Item = (&SyslogTag, Format)> {
        self.syslog
            .iter()
            .map(|(t, index)| (t, self.formats[*index].format))
    }
}

/// Whether a file's first bytes are SQLite's header.
pub fn is_sqlite(head: &[u8]) -> bool {
    head.starts_with(SQLITE_MAGIC)
}

/// Mostly non-text bytes in the first block: a binary file. (A stray NUL is not enough: logs
/// of crashed machines hold runs of NULs where a write was lost.)
fn looks_binary(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(1024)];
    let odd = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x1b))
        .count();
    odd * 10 > sample.len()
}

impl Format {
    /// The descriptor of a built-in format (`None` for a custom one).
    pub fn descriptor(self) -> Option<&'static FormatDescriptor> {
        Registry::builtin().get(self)
    }

    /// Looks a built-in format up by the name [`Format::name`] gives it.
    pub fn from_name(name: &str) -> Option<Format> {
        Registry::builtin().by_name(name)
    }
}

impl<'de> serde::Deserialize<'de> for Format {
    /// A built-in format by its name; any other name becomes a [`Format::custom`] (so that a
    /// report written by an embedder, or by a later version, still reads).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Format, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Format::from_name(&name).unwrap_or_else(|| Format::custom(intern(&name))))
    }
}

/// A name of a format not built in, kept for the life of the process (once per distinct
/// name), as [`Format`] holds a `&'static str`.
fn intern(name: &str) -> &'static str {
    static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut names = NAMES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(&known) = names.iter().find(|&&n| n == name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.push(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_ranks_follow_the_list() {
        let formats: Vec<Format> = Registry::builtin().formats().map(|d| d.format).collect();
        for (i, f) in formats.iter().enumerate() {
            assert_eq!(usize::from(f.rank()), i, "{f} is out of place");
            assert!(f.is_builtin());
        }
        let mut names: Vec<&str> = formats.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), formats.len(), "format names are unique");
    }

    #[test]
    fn a_taken_name_is_refused() {
        let d = *Format::Syslog.descriptor().unwrap();
        assert!(Registry::builtin().with(d).is_err());
    }

    #[test]
    fn unknown_names_read_as_custom_formats() {
        let f: Format = serde_json::from_str("\"fail2ban-log\"").unwrap();
        assert_eq!(f, Format::Fail2banLog);
        let g: Format = serde_json::from_str("\"someone-elses\"").unwrap();
        assert_eq!((g.name(), g.is_builtin()), ("someone-elses", false));
        let h: Format = serde_json::from_str("\"someone-elses\"").unwrap();
        assert!(std::ptr::eq(g.name(), h.name()));
    }
}
