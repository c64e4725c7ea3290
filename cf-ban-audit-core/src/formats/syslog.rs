//! Syslog and journal text (`/var/log/syslog`, `/var/log/messages`, `journalctl` output): lines
//! of many programs, each `TIMESTAMP HOST TAG[PID]: MESSAGE`, or `TIMESTAMP TAG[PID]: MESSAGE`
//! without the host (`journalctl --no-hostname`). The timestamp is either the BSD form without
//! a year (`Nov 24 03:06:43`) or RFC 3339 (rsyslog's high-precision format,
//! `journalctl -o short-iso`).
//!
//! # Detection and layout
//!
//! A file is syslog when more than half of its first lines (blank lines, `#` comments and
//! indented continuation lines aside) are syslog lines of one layout, with or without the host
//! ([`head_layout`](super::grammar::syslog::head_layout)): one syslog-shaped line that an
//! application wrote into its own log (a CWE-117 line break in a logged request value) does
//! not make that log syslog. The reader keeps to the layout the file's lines have: it takes the
//! layout of the first lines as they come (each line's own layout is fixed by the token after
//! its timestamp, which the logger writes), settles on the one most of its first 20 syslog
//! lines have, and from then on skips lines of the other layout. The tag is therefore always
//! the token the logger wrote where the layout puts it, never text from inside a message:
//! `Dec 03 12:56:48 myapp[14013]: fail2ban[1]: [sshd] Ban 104.16.0.1` is a line of `myapp`.
//!
//! # Programs
//!
//! Lines are handed to the parser of the program named by the tag, never by what the message
//! says, so a message of one program cannot pass for another's. fail2ban writes here in three
//! ways: with `logtarget = SYSLOG` the tag is its logger (`fail2ban.actions[123]: NOTICE [sshd]
//! Ban ...`); with `logtarget = SYSTEMD-JOURNAL` the tag is `fail2ban` and the message bare
//! (`fail2ban[123]: [sshd] Ban ...`); with `logtarget = STDOUT` under systemd the tag is
//! `fail2ban-server` and the message the file form without its date.

use std::sync::{Arc, LazyLock};

use chrono::NaiveDateTime;

use super::grammar::head;
use super::grammar::syslog::{head_layout, layout_of, split_as, Layout};
use super::prefilter::Prefilter;
use super::registry::{Detection, FormatDescriptor, Registry, SyslogEntry, SyslogTag};
use super::{Format, LineParser, ParseCtx, Sink};
use crate::event::{Location, Tool};

/// How many syslog lines settle the layout a file's lines keep to.
const SETTLE_AFTER: usize = 20;

/// The parser of syslog and journal text.
pub struct SyslogParser {
    path: Arc<std::path::Path>,
    reference: NaiveDateTime,
    format: Format,
    /// The layout the file's lines keep to, once its first lines have settled it.
    layout: Option<Layout>,
    /// Until then, how many lines of each layout were seen.
    seen: [usize; 2],
}

impl SyslogParser {
    /// A parser for one file.
    pub fn new(ctx: &ParseCtx) -> Self {
        SyslogParser::with_format(ctx, Format::Syslog)
    }

    /// A parser whose events say they come from `format` (for syslog lines inside another
    /// format's file).
    pub fn with_format(ctx: &ParseCtx, format: Format) -> Self {
        SyslogParser {
            path: ctx.path.clone(),
            reference: ctx.reference,
            format,
            layout: None,
            seen: [0; 2],
        }
    }

    /// The layout a line is read in: its own, unless the file has settled on the other one
    /// (then `None`: the line is skipped).
    fn layout(&mut self, line: &[u8]) -> Option<Layout> {
        let own = layout_of(line)?;
        match self.layout {
            Some(settled) => (settled == own).then_some(own),
            None => {
                self.seen[own as usize] += 1;
                let [host, no_host] = self.seen;
                if host + no_host >= SETTLE_AFTER {
                    self.layout = Some(if host >= no_host {
                        Layout::Host
                    } else {
                        Layout::NoHost
                    });
                }
                Some(own)
            }
        }
    }
}

/// The syslog tags the formats own, and a prefilter of their words: built once from the
/// registry.
pub(crate) struct Tags {
    /// Every declared tag.
    pub(crate) tags: Vec<SyslogTag>,
    /// One automaton for the tags' words, to pass over lines none of them can own.
    pub(crate) words: Prefilter,
}

/// The built-in formats' syslog tags (shared by syslog text and the journal's JSON).
pub(crate) static TAGS: LazyLock<Tags> = LazyLock::new(|| {
    let tags: Vec<SyslogTag> = Registry::builtin().syslog_tags().map(|(t, _)| *t).collect();
    let mut words: Vec<&str> = tags.iter().map(|t| t.needle).collect();
    words.sort_unstable();
    words.dedup();
    Tags {
        words: Prefilter::new(&words),
        tags,
    }
});

impl LineParser for SyslogParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        // Cheap reject before any parsing: only the lines of the programs some format owns.
        let tags = &*TAGS;
        if !tags.words.matches(line) {
            return;
        }
        let Some(layout) = self.layout(line) else {
            return;
        };
        let Some(l) = split_as(layout, line, self.reference) else {
            return;
        };
        let Some(tag) = tags.tags.iter().find(|t| t.owns(l.program)) else {
            return;
        };
        let entry = SyslogEntry {
            program: l.program,
            message: l.message,
            time: l.time,
            location: Location::new(self.path.clone(), lineno),
            format: self.format,
        };
        (tag.read)(&entry, sink);
    }
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// A syslog or journal text file holding lines of several programs (`/var/log/syslog`,
    /// `/var/log/messages`, `journalctl` output); the lines of the supported tools are read.
    pub const Syslog: Format = Format::builtin(1, "syslog");
}

/// The tools whose lines syslog and the journal carry (the owners of the syslog tags the
/// formats declare), read from `/var/log/syslog` and from `journalctl -o json` alike.
pub(crate) const SYSLOG_TOOLS: &[Tool] = &[
    Tool::Fail2ban,
    Tool::ModEvasive,
    Tool::Csf,
    Tool::NginxLimit,
    Tool::NginxDeny,
    Tool::Modsecurity,
];

/// The syslog descriptor. The tags it reads are declared by the formats that own them.
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::new(
    Format::Syslog,
    SYSLOG_TOOLS,
    "syslog/journal text: fail2ban, mod_evasive, lfd and nginx lines logged through syslog",
    |ctx| Box::new(SyslogParser::new(ctx)),
)
.usual_paths(&[
    "/var/log/syslog",
    "/var/log/messages",
    "/var/log/daemon.log",
])
.detected_by(&[Detection::text(410, |_, head| {
    head_layout(head::record_lines(head)).is_some()
})])
.chunkable()
.searched_for(|| &TAGS.words);
