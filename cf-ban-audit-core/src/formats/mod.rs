//! The formats cf-ban-audit reads: one module per format family, each declaring a
//! [`FormatDescriptor`] per format (its [`Format`], tools, usual paths, description, how it is
//! detected and at what rank, how it is read, the syslog tags it owns), and [`BUILTIN`], the
//! one list of them in display order, which the [`Registry`] walks.
//!
//! Adding a format is one new module that declares its `Format` constant and descriptor, plus
//! one line in [`BUILTIN`] (and its `mod` line). Nothing else names formats: detection walks
//! the descriptors' tests by their ranks, the syslog reader dispatches by the tags they
//! declare, and the scanner reads each file as its descriptor says. An embedder adds a format
//! of its own with [`Scanner::format`](crate::Scanner::format).

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;
use ipnet::IpNet;
use serde::Serialize;

use crate::event::{Action, BanEvent, Tool};
pub use crate::format_id::Format;

pub(crate) mod access_log;
pub(crate) mod apache_conf;
pub(crate) mod apache_error;
pub(crate) mod bt_firewall;
pub(crate) mod btwaf;
pub(crate) mod cphulk;
pub(crate) mod crowdsec;
pub(crate) mod csf;
pub(crate) mod directadmin;
pub(crate) mod fail2ban_client;
pub(crate) mod fail2ban_db;
pub(crate) mod fail2ban_log;
pub(crate) mod firewalld;
pub(crate) mod grammar;
pub(crate) mod hestia;
pub(crate) mod hosts_deny;
pub(crate) mod imunify360;
pub(crate) mod ip_route;
pub(crate) mod ipset;
pub(crate) mod iptables;
pub(crate) mod journal_json;
pub(crate) mod mod_evasive;
pub(crate) mod modsec_audit;
pub(crate) mod modsec_json;
pub(crate) mod modsec_rules;
pub(crate) mod nftables;
pub(crate) mod nginx_conf;
pub(crate) mod nginx_error;
pub(crate) mod plain_list;
pub(crate) mod plesk;
pub(crate) mod prefilter;
mod registry;
pub(crate) mod sqlite;
pub(crate) mod syslog;
#[cfg(test)]
pub(crate) mod test_support;
pub(crate) mod ufw;

pub use registry::{
    is_sqlite, Detection, FormatDescriptor, LongLines, Membership, Reader, Registry, SyslogEntry,
    SyslogTag,
};
pub use sqlite::{Database, SqliteReader};

/// Every built-in format, in display order (the order `cf-ban-audit formats` lists them in and
/// findings of one address sort by). Detection order is each descriptor's own rank.
pub const BUILTIN: &[&FormatDescriptor] = &[
    &fail2ban_log::DESCRIPTOR,
    &syslog::DESCRIPTOR,
    &fail2ban_db::DESCRIPTOR,
    &fail2ban_client::STATUS,
    &fail2ban_client::BANNED,
    &fail2ban_client::BAN_TIMES,
    &modsec_audit::AUDIT,
    &modsec_audit::INDEX,
    &modsec_json::DESCRIPTOR,
    &apache_error::DESCRIPTOR,
    &nginx_error::DESCRIPTOR,
    &mod_evasive::DESCRIPTOR,
    &btwaf::DROP_IP,
    &btwaf::SITE_LOG,
    &btwaf::DB,
    &csf::DENY,
    &csf::TEMPBAN,
    &iptables::DESCRIPTOR,
    &ipset::DESCRIPTOR,
    &nftables::TEXT,
    &nftables::JSON,
    &ufw::RULES,
    &ufw::STATUS,
    &firewalld::ZONE,
    &firewalld::IPSET,
    &firewalld::RICH,
    &bt_firewall::DESCRIPTOR,
    &nginx_conf::CONF,
    &nginx_conf::GEO,
    &apache_conf::DESCRIPTOR,
    &crowdsec::JSON,
    &crowdsec::CSV,
    &crowdsec::LOG,
    &crowdsec::TABLE,
    &plain_list::DESCRIPTOR,
    &hosts_deny::DESCRIPTOR,
    &crowdsec::API_LOG,
    &crowdsec::DB,
    &crowdsec::BOUNCER_LOG,
    &ip_route::DESCRIPTOR,
    &journal_json::DESCRIPTOR,
    &modsec_rules::DESCRIPTOR,
    &access_log::DESCRIPTOR,
    &hestia::BANLIST,
    &hestia::BAN_JSON,
    &cphulk::RECORDS,
    &imunify360::TABLE,
    &imunify360::JSON,
    &bt_firewall::DB,
    &cphulk::DB,
    &directadmin::DESCRIPTOR,
    &plesk::DESCRIPTOR,
    &hestia::BAN_LISTING,
    &imunify360::LEGACY,
    &imunify360::LIST_FILE,
    &imunify360::CONSOLE_LOG,
];

/// Every built-in format, in display order.
pub fn all() -> impl Iterator<Item = Format> {
    BUILTIN.iter().map(|d| d.format())
}

/// Decides the format of a file from its name and its first bytes (decompressed, when the
/// file is compressed), among the built-in formats. `None` means the file is of no known format and
/// is skipped.
///
/// Names decide between formats that look alike; content decides for files under other
/// names, so that a log moved or renamed is still read, and a file with a log's name but
/// other content is not misread.
///
/// ```
/// use cf_ban_audit_core::formats::{detect, Format};
/// use std::path::Path;
/// let head = b"2026-11-24 03:06:43,825 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 172.64.155.20\n";
/// assert_eq!(detect(Path::new("/var/log/fail2ban.log.2.gz"), head), Some(Format::Fail2banLog));
/// assert_eq!(detect(Path::new("/tmp/whatever.txt"), head), Some(Format::Fail2banLog));
/// assert_eq!(detect(Path::new("/tmp/notes.txt"), b"hello\n"), None);
/// ```
pub fn detect(path: &Path, head: &[u8]) -> Option<Format> {
    Registry::builtin().detect(path, head)
}

/// A path's file name in lower case (empty when it has none).
pub(crate) fn lower_file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

pub(crate) use grammar::quote::quote;

/// What a parser needs to know about the input besides its bytes.
#[derive(Debug, Clone)]
pub struct ParseCtx {
    /// The input's path (`-` for standard input), shared by every event read from it.
    pub path: Arc<Path>,
    /// The time the input was last written (or now): years missing from syslog timestamps
    /// are taken so that no date lies after it.
    pub reference: NaiveDateTime,
    /// The time of the scan, to decide whether a timed ban has expired.
    pub now: NaiveDateTime,
}

/// Where parsers put what they read.
pub trait Sink {
    /// One event.
    fn event(&mut self, event: BanEvent);
    /// One event of `tool` on `net` that has no [`BanEvent::peer`], made by `build` only if
    /// the sink keeps more of it than its count: a list's entry, or a log's refusal, read by
    /// the million where most are of no address of the scan's ranges. `build` must return an
    /// event on `net` of `tool`. The default builds it and hands it to [`Sink::event`].
    fn entry(&mut self, net: IpNet, tool: Tool, build: &mut dyn FnMut() -> BanEvent) {
        let event = build();
        debug_assert!(event.net == net && event.tool == tool && event.peer.is_none());
        self.event(event)
    }
    /// Whether [`Sink::entry`] would keep nothing of an entry of `tool` on `net` but its
    /// count; the same answer for the same entry throughout an input, and nothing counted
    /// yet. A parser that holds entries back until it knows whether they are real (a
    /// ModSecurity audit log's) keeps only the count of those, and hands it on with
    /// [`Sink::count_held`] once they are. The default: no.
    fn only_counts(&self, _net: &IpNet, _tool: Tool) -> bool {
        false
    }
    /// Counts an entry of `tool` on `net` that was held back, of which [`Sink::only_counts`]
    /// said the sink keeps nothing else. The default (a sink that never says so): nothing.
    fn count_held(&mut self, _net: IpNet, _tool: Tool) {}
    /// A fail2ban jail's `action` (a ban or an unban) of `net` at `time`, with no
    /// [`BanEvent::peer`], made by `build` only if the sink keeps more of it than its count
    /// and, for a ban, the jail's count of bans of visitor addresses: fail2ban's log holds
    /// them by the hundred thousand, most of no address of the scan's ranges. `build` must
    /// return fail2ban's event on `net` in `jail` with `action` at `time`. The default builds
    /// it and hands it to [`Sink::event`].
    fn jail_entry(
        &mut self,
        net: IpNet,
        jail: &str,
        action: Action,
        time: Option<NaiveDateTime>,
        build: &mut dyn FnMut() -> BanEvent,
    ) {
        let event = build();
        debug_assert!(
            event.net == net
                && event.tool == Tool::Fail2ban
                && event.scope == jail
                && event.action == action
                && event.time == time
                && event.peer.is_none()
        );
        self.event(event)
    }
    /// A line that looked like an entry of the format but could not be read (counted, reported
    /// in the file's statistics, never fatal).
    fn malformed(&mut self, line: u64, message: String);
    /// A rule uses the named set (an ipset, a firewalld ipset) with this verdict. Members of a
    /// set (events of a format whose descriptor states a [`Membership`]) are findings only when some
    /// rule drops or rejects on the set, or, with no rule seen, when its name says it bans.
    fn set_use(&mut self, _set: &str, _verdict: Verdict) {}
    /// The named list of sets (an ipset `list:set`) holds the set `member`: a rule that drops
    /// or accepts on the list does so on the member's addresses too.
    fn set_member(&mut self, _list: &str, _member: &str) {}
    /// One record of a web server's access log (at `path`, line `line`): the client address
    /// the server logged and the response status. Counted per log for the real-IP
    /// diagnoses ([`crate::web_evidence::AccessStats`]); never a ban.
    fn access_client(
        &mut self,
        _path: &Arc<Path>,
        _line: u64,
        _client: std::net::IpAddr,
        _status: u16,
    ) {
    }
    /// A web server's real-IP configuration, as a configuration file states it.
    fn realip_config(&mut self, _config: crate::web_evidence::RealIpConfig) {}
    /// A remark about the file as a whole (such as "a list of unknown purpose"), shown with
    /// its statistics.
    fn note(&mut self, _text: String) {}
    /// The input is the whole list of `tool`'s bans in force when it was written (a saved
    /// `cscli decisions list`): a ban of that tool it does not hold, of an address it does not
    /// hold at all, is not in force as of the file's last change, unless a later source says
    /// otherwise.
    fn whole_list(&mut self, _tool: Tool) {}
    /// The input names another file to read as more of itself (csf's `Include`): the line of
    /// `from` names `target` (already made absolute against `from`'s directory where it was
    /// relative). The scanner opens it under its policy and returns its bytes; a sink that
    /// does not follow includes (the default) says so.
    fn include(&mut self, _from: &Path, _target: &Path) -> Result<Vec<u8>, IncludeError> {
        Err(IncludeError::NotFollowed)
    }
    /// Part of the input at `line` was not read because a record there passed a limit (an
    /// entry larger than the format allows, a token longer than any real one): what came
    /// before it still counts, but bans after the cut may be missed, so the scanner reports
    /// it as an error naming the file and line, never as a malformed line alone. A sink that
    /// keeps no errors (the default) counts it as malformed.
    fn cut(&mut self, line: u64, message: String) {
        self.malformed(line, message)
    }
}

/// Why a file an input names was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IncludeError {
    /// There is no such file.
    Missing,
    /// It is not a regular file (a directory, a device, a FIFO).
    NotRegular,
    /// It was read already for this input (an include loop).
    AlreadyRead,
    /// It is larger than this many bytes.
    TooLarge(u64),
    /// Opening or reading it failed.
    Unreadable(String),
    /// The sink follows no includes.
    NotFollowed,
}

/// What a rule does with the packets it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Verdict {
    /// ACCEPT / accept / RETURN to an accepting policy: an allow list.
    Accept,
    /// DROP / REJECT / drop / reject: a ban list.
    Drop,
}

/// Where a piece of a long line stands in it ([`LineParser::piece`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The line's first piece, which holds its head: about its first
    /// [`MAX_LINE`](crate::MAX_LINE) bytes.
    First,
    /// A piece after the first, and more follow.
    Middle,
    /// The line's last piece (possibly empty): the line has ended.
    Last,
}

/// A parser fed one line at a time.
pub trait LineParser: Send {
    /// Reads one line (without its terminator); `lineno` counts from 1.
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink);
    /// Reads a piece of a line longer than [`MAX_LINE`](crate::MAX_LINE), for a format whose
    /// descriptor reads long lines in pieces ([`LongLines::Pieces`]): the pieces of one line
    /// come in order, all with the line's number, from a [`Part::First`] to a [`Part::Last`];
    /// together they are the line (a line past the format's limit ends at the limit, after
    /// its last white space or comma, and the scanner reports the cut). A token may be split
    /// between two pieces. Lines no longer than `MAX_LINE` still come whole, to
    /// [`LineParser::line`].
    ///
    /// The default, for a parser that reads no pieces, reads the first piece as the line, cut
    /// after its last white space or comma, and reports the cut ([`Sink::cut`]).
    fn piece(&mut self, lineno: u64, piece: &[u8], part: Part, sink: &mut dyn Sink) {
        if part == Part::First {
            let end = memchr::memrchr3(b' ', b'\t', b',', piece).map_or(piece.len(), |i| i + 1);
            self.line(lineno, &piece[..end], sink);
            sink.cut(
                lineno,
                format!(
                    "line longer than {} bytes, which this format's reader does not read in \
                     pieces: cut there, the rest of the line is not read",
                    crate::MAX_LINE
                ),
            );
        }
    }
    /// Reads `block`, whole lines each ended by a line feed (none longer than the format's
    /// limit), the first numbered `first`: the scanner hands lines so, the whole lines of each
    /// read at once, for a format that searches no words, and in a search's stretches where
    /// most lines hold a word. Each line is to be read as
    /// [`LineParser::line`] reads it: without its line feed, a `\r` before it, and NULs at its
    /// start. An entry that [`BlockSink::count_entry`] counts needs nothing more; anything
    /// else a line gives goes to the sink [`BlockSink::line`] lends for that line.
    ///
    /// The default hands each line to [`LineParser::line`]; a format of millions of short
    /// lines (a plain list) reads them in a loop of its own, with no call a line.
    fn block(&mut self, first: u64, block: &[u8], lines: &mut dyn BlockSink) {
        for (n, line) in crate::lines::block_lines(first, block) {
            lines.line(n, line, &mut |sink| self.line(n, line, sink));
        }
    }
    /// The input has ended.
    fn finish(&mut self, _sink: &mut dyn Sink) {}
}

/// Where a parser reading a run of lines at once ([`LineParser::block`]) puts what it reads.
pub trait BlockSink {
    /// An entry of `tool` on `net` with no [`BanEvent::peer`], as [`Sink::entry`] takes it:
    /// counted, and `true`, when the scan keeps nothing of it but its count; else `false`, with
    /// nothing counted, and the entry is to go to its line's sink ([`BlockSink::line`]).
    fn count_entry(&mut self, net: &IpNet, tool: Tool) -> bool;
    /// Calls `read` with the sink of line `lineno`, whose text is `line`.
    fn line(&mut self, lineno: u64, line: &[u8], read: &mut dyn FnMut(&mut dyn Sink));
}
