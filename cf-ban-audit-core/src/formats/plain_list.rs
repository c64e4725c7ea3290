//! Plain address lists: one address, CIDR or `a-b` range a line (or several, separated by
//! commas or white space), with `#` and `;` comments. Ban tools and admins keep such lists
//! everywhere (`/etc/nginx/blocklist.txt`, `/var/lib/csf/csf.block.SPAMDROP`, exported ban
//! dumps), and so do allow lists (`cloudflare-ips-v4.txt`, `whitelist.txt`, fail2ban
//! `ignoreip = file:` files).
//!
//! A list says nothing about what it is for: its purpose comes from its name, then from the
//! names of the two directories above it ([`list_purpose`]), never from deeper directories (a
//! checkout called `cf-ban-audit` must not turn every list under it into a ban list).
//!
//! - A ban list (`blocklist.txt`, `banned_ips`, `deny.conf`, `csf.block.SPAMDROP`) gives one
//!   [`Action::Listed`] event per entry, scope = the file name.
//! - An allow list (`whitelist`, `trusted`, `csf.ignore`, `cloudflare_v4`) gives no event, only
//!   the note `allow list: N entries`: a Cloudflare allow list is the fix, never a finding.
//! - A list whose name says neither gives no event, only the note
//!   `list of unknown purpose: N entries` under the file's statistics.
//!
//! What includes a list (csf `Include` in `csf.deny` versus `csf.ignore`, fail2ban
//! `ignoreip = file:...`) would also tell its purpose, but that crosses files and is not read
//! here: csf's own `Include`s of `csf.deny` are followed by [`super::csf`], which reports their
//! entries as csf bans.
//!
//! [`detect`] is called last, for files no other format claimed: a file is a plain list when at
//! least 90% of its non-blank, non-comment lines (and at least one) hold only addresses.
//!
//! A list may be one line (a blocklist exported space- or comma-separated): a line longer
//! than [`MAX_LINE`](crate::MAX_LINE) is read in pieces, entry by entry, up to [`MAX_LIST_LINE`]
//! (512 MiB: a longer line is cut there, and that is an error of the scan), a token that is no entry being malformed on its own instead of the whole line.

use super::registry::{Detection, FormatDescriptor};
use std::path::Path;
use std::sync::Arc;

use ipnet::IpNet;

use super::grammar::entry::entry_into;
use super::grammar::pieces::Tokens;
use super::{BlockSink, Format, LineParser, ParseCtx, Part, Sink};
use crate::addr::{parse_ipv4_prefix, parse_net};
use crate::event::{Action, BanEvent, Location, Tool};
use crate::purpose::{purpose_from_name, Purpose};

/// How many lines of the head [`detect`] looks at.
const DETECT_LINES: usize = 200;

/// Tool names that say which program a list belongs to, not whether it bans or allows
/// (`f2b-ignore.txt` is an allow list, `fail2ban-banned.txt` a ban list).
const TOOL_WORDS: &[&str] = &["fail2ban", "f2b", "crowdsec", "jail"];

/// Decides whether a file is a plain address list, from its first bytes.
pub fn detect(_path: &Path, head: &[u8]) -> Option<Format> {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    // The head may end in the middle of a line, and of a token: its whole tokens are judged
    // (a list on one line longer than the head is still a list), never the token cut short.
    if !head.ends_with(b"\n") {
        if let Some(last) = lines.pop() {
            match memchr::memrchr3(b' ', b'\t', b',', last) {
                Some(i) => lines.push(&last[..i]),
                // One token: the whole file when it is its only line.
                None if lines.is_empty() => lines.push(last),
                None => {}
            }
        }
    }
    let (mut entries, mut others) = (0usize, 0usize);
    for line in lines.into_iter().take(DETECT_LINES) {
        match parse_line(line) {
            ListLine::Blank => {}
            ListLine::Entries(_) => entries += 1,
            ListLine::Other => others += 1,
        }
    }
    (entries >= 1 && entries * 10 >= (entries + others) * 9).then_some(Format::PlainList)
}

/// What a list is for, from its file name, else from the names of its parent and grandparent
/// directories. Tool names alone (`fail2ban`, `f2b`, `crowdsec`, `jail`) say nothing: the list
/// of a ban tool may be its ban dump or its ignore list.
pub fn list_purpose(path: &Path) -> Purpose {
    let mut names = Vec::with_capacity(3);
    if let Some(name) = path.file_name() {
        names.push(name.to_string_lossy());
    }
    names.extend(
        path.parent()
            .into_iter()
            .flat_map(Path::ancestors)
            .take(2)
            .filter_map(Path::file_name)
            .map(|n| n.to_string_lossy()),
    );
    names
        .iter()
        .map(|n| name_purpose(n))
        .find(|p| *p != Purpose::Unknown)
        .unwrap_or(Purpose::Unknown)
}

/// [`purpose_from_name`] with the tool names taken out of the name first.
fn name_purpose(name: &str) -> Purpose {
    let mut lower = name.to_ascii_lowercase();
    for word in TOOL_WORDS {
        lower = lower.replace(word, "-");
    }
    purpose_from_name(&lower)
}

/// What one line of a list holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListLine {
    /// Blank, or only a comment.
    Blank,
    /// One or more entries (addresses, CIDRs, ranges as CIDR blocks).
    Entries(Vec<IpNet>),
    /// Something else (a host name, words).
    Other,
}

/// Reads one line of a list: entries separated by commas or white space, then an optional
/// `#` or `;` comment.
pub fn parse_line(line: &[u8]) -> ListLine {
    let mut nets = Vec::new();
    match line_into(line, &mut nets) {
        Kind::Blank => ListLine::Blank,
        Kind::Entries => ListLine::Entries(nets),
        Kind::Other => ListLine::Other,
    }
}

/// What [`line_into`] found.
enum Kind {
    Blank,
    Entries,
    Other,
}

/// [`parse_line`] into a vector the caller clears and reuses: no allocation per line.
fn line_into(line: &[u8], nets: &mut Vec<IpNet>) -> Kind {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    nets.clear();
    // Most lines of a large list are one bare IPv4 address: read it in one pass.
    if let Some(ip) = crate::addr::parse_ipv4(line) {
        nets.push(IpNet::V4(ipnet::Ipv4Net::from(ip)));
        return Kind::Entries;
    }
    let content = match memchr::memchr2(b'#', b';', line) {
        Some(i) => &line[..i],
        None => line,
    };
    for token in content
        .split(|&b| b == b',' || b.is_ascii_whitespace())
        .filter(|t| !t.is_empty())
    {
        if !entry_into(token, nets) {
            nets.clear();
            return Kind::Other;
        }
    }
    if nets.is_empty() {
        Kind::Blank
    } else {
        Kind::Entries
    }
}

/// The line parser of a plain list.
pub struct PlainListParser {
    path: Arc<Path>,
    scope: String,
    purpose: Purpose,
    entries: u64,
    /// The entries of the current line (reused).
    nets: Vec<IpNet>,
    /// The tokens of a long line read in pieces.
    tokens: Tokens,
    /// The rest of that line is a comment.
    in_comment: bool,
}

impl PlainListParser {
    /// A parser for one list; its purpose comes from [`list_purpose`] of its path.
    pub fn new(ctx: &ParseCtx) -> Self {
        let scope = ctx
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| ctx.path.display().to_string());
        PlainListParser {
            path: ctx.path.clone(),
            scope,
            purpose: list_purpose(&ctx.path),
            entries: 0,
            nets: Vec::new(),
            tokens: Tokens::default(),
            in_comment: false,
        }
    }

    /// The entries read from `line`, as events when the list bans.
    fn entries(&mut self, lineno: u64, sink: &mut dyn Sink) {
        self.entries += self.nets.len() as u64;
        if self.purpose != Purpose::Ban {
            return;
        }
        for &net in &self.nets {
            sink.entry(net, Tool::List, &mut || {
                BanEvent::new(
                    net,
                    Tool::List,
                    Format::PlainList,
                    self.scope.clone(),
                    Action::Listed,
                    Location::new(self.path.clone(), lineno),
                )
            });
        }
    }

    /// One token of a long line: an entry, or a malformed token (the line's other entries
    /// still count: a list on one line is not dropped whole for one bad token).
    fn token(&mut self, lineno: u64, token: &[u8], cut: bool, sink: &mut dyn Sink) {
        self.nets.clear();
        if !cut && entry_into(token, &mut self.nets) {
            self.entries(lineno, sink);
        } else {
            let shown = String::from_utf8_lossy(&token[..token.len().min(64)]);
            let more = if token.len() > 64 || cut { "..." } else { "" };
            sink.malformed(
                lineno,
                format!("not an address, CIDR or range: {shown:?}{more}"),
            );
        }
    }
}

impl LineParser for PlainListParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        match line_into(line, &mut self.nets) {
            Kind::Blank => {}
            Kind::Other => sink.malformed(
                lineno,
                format!(
                    "not an address, CIDR or range: {:?}",
                    String::from_utf8_lossy(line.trim_ascii())
                ),
            ),
            Kind::Entries => self.entries(lineno, sink),
        }
    }

    fn block(&mut self, first: u64, block: &[u8], lines: &mut dyn BlockSink) {
        let ban = self.purpose == Purpose::Ban;
        let mut n = first;
        let mut at = 0;
        while at < block.len() {
            let rest = &block[at..];
            // Most lines of a large list are one bare IPv4 address: read it and the line's end
            // in one pass.
            let bare_v4 = parse_ipv4_prefix(rest).and_then(|(ip, len)| match &rest[len..] {
                [b'\n', ..] => Some((ip, len, len + 1)),
                [b'\r', b'\n', ..] => Some((ip, len, len + 2)),
                _ => None,
            });
            let (line, next, net) = match bare_v4 {
                Some((ip, len, next)) => (&rest[..len], next, Some(IpNet::V4(ip.into()))),
                None => {
                    // Every line of a block ends with a line feed.
                    let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                    let line = crate::lines::block_line(&rest[..end]);
                    // A line that is one address or CIDR (of IPv6, say) is that one entry, as
                    // `line` reads it: such a token holds no separator and no comment.
                    (line, end + 1, parse_net(line))
                }
            };
            // Counted when the scan keeps nothing else of it; anything else, or an entry the
            // scan keeps, is read as a line.
            match net {
                Some(net) if !ban || lines.count_entry(&net, Tool::List) => self.entries += 1,
                _ => lines.line(n, line, &mut |sink| self.line(n, line, sink)),
            }
            at += next;
            n += 1;
        }
    }

    fn piece(&mut self, lineno: u64, piece: &[u8], part: Part, sink: &mut dyn Sink) {
        if part == Part::First {
            self.tokens.clear();
            self.in_comment = false;
        }
        let last = part == Part::Last;
        if !self.in_comment {
            let comment = memchr::memchr2(b'#', b';', piece);
            let content = &piece[..comment.unwrap_or(piece.len())];
            let mut tokens = std::mem::take(&mut self.tokens);
            tokens.feed(
                content,
                last || comment.is_some(),
                |b| b == b',' || b.is_ascii_whitespace(),
                &mut |token, cut| self.token(lineno, token, cut, sink),
            );
            self.tokens = tokens;
            self.in_comment = comment.is_some();
        }
        if last {
            self.in_comment = false;
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        match self.purpose {
            Purpose::Ban => {}
            Purpose::Allow => sink.note(format!("allow list: {} entries", self.entries)),
            Purpose::Unknown => {
                sink.note(format!("list of unknown purpose: {} entries", self.entries))
            }
        }
    }
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// A plain list of addresses, one a line, whose purpose comes from its name and place.
    pub const PlainList: Format = Format::builtin(34, "list");
}

/// The longest line of a list read: a blocklist exported on one line (15 bytes an address, so
/// some 35 million); a longer line is cut there, and that is an error of the scan.
pub const MAX_LIST_LINE: usize = 512 << 20;

/// The plain list's descriptor: asked last, as any text with an address a line resembles a
/// list.
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::new(
    Format::PlainList,
    &[Tool::List],
    "plain address list (ban list by name/place)",
    |ctx| Box::new(PlainListParser::new(ctx)),
)
.long_lines_in_pieces(MAX_LIST_LINE)
.usual_paths(&["/etc/*blocklist*", "/etc/*banned*"])
.detected_by(&[Detection::text(500, |path, head| {
    detect(path, head).is_some()
})]);

#[cfg(test)]
#[path = "plain_list_tests.rs"]
mod tests;

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn detect() {
        use crate::formats::{plain_list, Format};
        use std::path::Path;
        let list = b"# banned by hand\n104.16.0.0/13\n203.0.113.7 # scanner\n2606:4700::/32\n";
        assert_eq!(
            plain_list::detect(Path::new("/etc/x/blocklist.txt"), list),
            Some(Format::PlainList)
        );
        assert_eq!(
            plain_list::detect(Path::new("/etc/x/notes"), b"call 203.0.113.7 back\n"),
            None
        );
    }

    #[test]
    fn list_purpose() {
        use crate::formats::plain_list::list_purpose;
        use crate::Purpose;
        use std::path::Path;
        assert_eq!(
            list_purpose(Path::new("/etc/nginx/blocklist.txt")),
            Purpose::Ban
        );
        assert_eq!(
            list_purpose(Path::new("/etc/csf/csf.ignore")),
            Purpose::Allow
        );
        assert_eq!(
            list_purpose(Path::new("/etc/fail2ban/f2b-ignore.txt")),
            Purpose::Allow
        );
        assert_eq!(
            list_purpose(Path::new("/etc/nginx/cloudflare/ips-v4")),
            Purpose::Allow
        );
        assert_eq!(
            list_purpose(Path::new("/srv/banned/lists/today.txt")),
            Purpose::Ban
        );
        assert_eq!(
            list_purpose(Path::new("/srv/cf-ban-audit/fixtures/lists/ips.txt")),
            Purpose::Unknown
        );
    }

    #[test]
    fn parse_line() {
        use crate::formats::plain_list::{parse_line, ListLine};
        assert_eq!(parse_line(b"  # only a comment"), ListLine::Blank);
        assert!(
            matches!(parse_line(b"192.0.2.200, 2001:db8::c8   # 2 IPs"), ListLine::Entries(v) if v.len() == 2)
        );
        assert_eq!(parse_line(b"test-local-net ; a host name"), ListLine::Other);
    }
}
