//! fail2ban: Cloudflare's ranges in `ignoreip`, the one place that stops fail2ban from banning
//! them (a firewall `ACCEPT` loses to the chains fail2ban inserts first). [`generate`] writes a
//! complete `jail.local` fragment; [`merge`] (in `fail2ban_merge.rs`) adds the missing ranges
//! to the `[DEFAULT]` `ignoreip` of an existing `jail.local` and to each jail's own one, and
//! leaves every other byte of the file alone; [`jails_overriding`] names the jails whose own
//! `ignoreip` replaces the `[DEFAULT]` one without the ranges.
//!
//! The reader follows fail2ban's parser (Python `configparser` as set up by fail2ban's
//! `configparserinc.py`) line by line: sections are `[NAME]` (`DEFAULT` is case-sensitive),
//! keys are case-insensitive and end at the first `=` or `:`, a value continues on every later
//! line indented deeper than its key (blank and comment lines in between do not end it), a
//! line whose first non-blank character is `#` or `;` is a comment, and `;` after whitespace
//! starts an inline comment (`#` does not: `1.2.3.4 # office` is three entries). Lines end
//! with `\n`, `\r\n` or a lone `\r`. Entries are separated by whitespace or commas.
//!
//! Checked with fail2ban 1.0.2 (`fail2ban-client -c DIR -d`, see `tests/real_fail2ban.rs`):
//! a `#` line in the middle of a multi-line value is skipped and the value goes on, so the
//! `# cf-ban-audit: ...` marker is written at column 0 just above the added ranges (column 0
//! also keeps it a comment for the Python 2 parser of old fail2ban releases);
//! `%(default/ignoreip)s` and `%(known/ignoreip)s` both work in a jail section of
//! `jail.local`, while `%(ignoreip)s` there fails with a recursion error; and a file that
//! starts with a UTF-8 byte order mark is rejected as a whole ("File contains no section
//! headers"), which is why [`merge`] drops a leading BOM. With a running server, a plain
//! `fail2ban-client reload` keeps the bans of addresses that are now ignored, while
//! `reload --restart` (or a restart) drops them when it restores bans from the database.

use ipnet::IpNet;

pub use super::fail2ban_merge::{merge, merge_with};
use crate::addr::{display_net, parse_ip, parse_net};
use crate::cloudflare;
use crate::ranges::RangeSet;

/// The loopback entries fail2ban's own `jail.conf` suggests; kept first in a new `ignoreip`.
pub(super) const BASE_IGNOREIP: &str = "127.0.0.1/8 ::1";

/// The key, as written by this module.
pub(super) const KEY: &str = "ignoreip = ";

/// Whether Python's `str.isspace()` holds for a character (what `strip()` and `\s` use).
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn py_trim(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// The leading whitespace of a line.
pub(super) fn leading_ws(s: &str) -> &str {
    &s[..s.len() - s.trim_start_matches(is_py_space).len()]
}

/// One line of the file and the line break that ended it (empty for a last line without one).
#[derive(Debug, Clone, Copy)]
pub(super) struct Line<'a> {
    pub(super) text: &'a str,
    pub(super) eol: &'a str,
}

/// Splits like Python's universal newlines: `\r\n`, `\n` and a lone `\r` end a line.
fn split_lines(s: &str) -> Vec<Line<'_>> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        let end = match bytes[i] {
            b'\n' => i + 1,
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => i + 2,
            b'\r' => i + 1,
            _ => {
                i += 1;
                continue;
            }
        };
        out.push(Line {
            text: &s[start..i],
            eol: &s[i..end],
        });
        start = end;
        i = end;
    }
    if start < s.len() {
        out.push(Line {
            text: &s[start..],
            eol: "",
        });
    }
    out
}

/// What a line is to fail2ban's parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    /// Empty or whitespace only.
    Blank,
    /// A whole-line `#`/`;` comment.
    Comment,
    /// A `[NAME]` header; the index into [`Parsed::sections`].
    Section(usize),
    /// The first line of an option; the index into [`Parsed::options`].
    Key(usize),
    /// A continuation line of an option; the index into [`Parsed::options`].
    Continuation(usize),
    /// A line fail2ban refuses (no section yet, no `=`/`:`); kept as it is.
    Error,
}

#[derive(Debug)]
pub(super) struct Section {
    pub(super) name: String,
    /// The line of the header.
    pub(super) header: usize,
}

#[derive(Debug)]
pub(super) struct Opt {
    /// Index into [`Parsed::sections`] (an occurrence: a name may appear twice).
    pub(super) section: usize,
    /// Lower-cased, as `optionxform` does.
    pub(super) name: String,
    /// The line of the key.
    pub(super) key: usize,
    /// The byte offset of the `=`/`:` in the key line.
    pub(super) delim: usize,
    /// The last continuation line, or `key` when there is none.
    pub(super) last: usize,
    /// The value's pieces, comments stripped: the rest of the key line, then each
    /// continuation line.
    pub(super) pieces: Vec<String>,
}

impl Opt {
    /// The entries of the value, split like fail2ban's `splitwords` (`[\s,]+`).
    pub(super) fn entries(&self) -> impl Iterator<Item = &str> {
        self.pieces
            .iter()
            .flat_map(|p| p.split(|c: char| c == ',' || is_py_space(c)))
            .filter(|e| !e.is_empty())
    }

    /// The networks among the entries (hostnames, `file:` and `%(...)s` entries are skipped).
    pub(super) fn nets(&self) -> RangeSet {
        self.entries().filter_map(parse_entry).collect()
    }
}

/// An `ignoreip` entry as a network: an address, a CIDR, or `address/dotted-mask`.
pub(super) fn parse_entry(entry: &str) -> Option<IpNet> {
    if let Some(net) = parse_net(entry.as_bytes()) {
        return Some(net);
    }
    let (addr, mask) = entry.split_once('/')?;
    let ip = parse_ip(addr.as_bytes())?;
    let mask: std::net::Ipv4Addr = mask.parse().ok()?;
    let bits = u32::from(mask);
    // Only a contiguous mask (ones then zeros) is a prefix.
    if bits.leading_ones() + bits.trailing_zeros() != 32 {
        return None;
    }
    let len = u8::try_from(bits.leading_ones()).ok()?;
    parse_net(format!("{ip}/{len}").as_bytes())
}

/// The entries of `[DEFAULT]`'s `ignoreip` as fail2ban splits them (the last `ignoreip` of the
/// last `[DEFAULT]`), or `None` when there is none. `;` comments are already gone; a `#` after a
/// value is not a comment for fail2ban, so `#` and the words after it come back as entries.
pub fn default_ignoreip(text: &str) -> Option<Vec<String>> {
    let p = parse(text);
    p.default_ignoreip()
        .map(|o| o.entries().map(String::from).collect())
}

/// An `ignoreip` entry as a network (an address, a CIDR, or `address/dotted-mask`); `None`
/// for host names, `file:` entries and interpolations.
pub fn ignoreip_entry(entry: &str) -> Option<IpNet> {
    parse_entry(entry)
}

/// A file as fail2ban reads it.
#[derive(Debug)]
pub(super) struct Parsed<'a> {
    pub(super) lines: Vec<Line<'a>>,
    pub(super) kinds: Vec<Kind>,
    pub(super) sections: Vec<Section>,
    pub(super) options: Vec<Opt>,
}

/// Strips comments the way `configparser` does: `None` for a blank or comment-only line,
/// else the value with surrounding whitespace removed.
fn clean(text: &str) -> Option<&str> {
    let trimmed = py_trim(text);
    if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
        return None;
    }
    // `;` at the start or after whitespace starts an inline comment.
    let mut prev_space = true;
    let mut cut = text.len();
    for (i, c) in text.char_indices() {
        if c == ';' && prev_space {
            cut = i;
            break;
        }
        prev_space = is_py_space(c);
    }
    let value = py_trim(&text[..cut]);
    (!value.is_empty()).then_some(value)
}

pub(super) fn parse(text: &str) -> Parsed<'_> {
    let lines = split_lines(text);
    let mut kinds = Vec::with_capacity(lines.len());
    let mut sections: Vec<Section> = Vec::new();
    let mut options: Vec<Opt> = Vec::new();
    let mut cursect: Option<usize> = None;
    let mut curopt: Option<usize> = None;
    let mut indent_level = 0usize;
    for (n, line) in lines.iter().enumerate() {
        let Some(value) = clean(line.text) else {
            let blank = py_trim(line.text).is_empty();
            kinds.push(if blank { Kind::Blank } else { Kind::Comment });
            continue;
        };
        let indent = leading_ws(line.text).chars().count();
        if let (Some(_), Some(o)) = (cursect, curopt) {
            if indent > indent_level {
                if let Some(opt) = options.get_mut(o) {
                    opt.pieces.push(value.to_string());
                    opt.last = n;
                }
                kinds.push(Kind::Continuation(o));
                continue;
            }
        }
        indent_level = indent;
        // `\[(?P<header>.+)\]`, matched at the start: the header runs to the last `]`.
        if let Some(close) = value.strip_prefix('[').and_then(|_| value.rfind(']')) {
            if close > 1 {
                sections.push(Section {
                    name: value[1..close].to_string(),
                    header: n,
                });
                cursect = Some(sections.len() - 1);
                curopt = None;
                kinds.push(Kind::Section(sections.len() - 1));
                continue;
            }
        }
        let Some(section) = cursect else {
            kinds.push(Kind::Error);
            continue;
        };
        let Some(pos) = value.find(['=', ':']) else {
            // configparser records the error and keeps the current option.
            kinds.push(Kind::Error);
            continue;
        };
        let name = value[..pos].trim_end_matches(is_py_space).to_lowercase();
        if name.is_empty() {
            curopt = None;
            kinds.push(Kind::Error);
            continue;
        }
        let first = py_trim(&value[pos + 1..]).to_string();
        let delim = leading_ws(line.text).len() + pos;
        options.push(Opt {
            section,
            name,
            key: n,
            delim,
            last: n,
            pieces: vec![first],
        });
        curopt = Some(options.len() - 1);
        kinds.push(Kind::Key(options.len() - 1));
    }
    Parsed {
        lines,
        kinds,
        sections,
        options,
    }
}

impl Parsed<'_> {
    fn is_default(&self, section: usize) -> bool {
        self.sections
            .get(section)
            .is_some_and(|s| s.name == "DEFAULT")
    }

    /// The `ignoreip` of `[DEFAULT]` that fail2ban uses (the last one).
    pub(super) fn default_ignoreip(&self) -> Option<&Opt> {
        self.options
            .iter()
            .rev()
            .find(|o| o.name == "ignoreip" && self.is_default(o.section))
    }

    /// The leading whitespace of the first non-blank, non-comment line at or after `from`.
    pub(super) fn next_content_indent(&self, from: usize) -> &str {
        (from..self.lines.len())
            .find(|&i| !matches!(self.kinds[i], Kind::Blank | Kind::Comment))
            .map(|i| leading_ws(self.lines[i].text))
            .unwrap_or("")
    }

    /// The first line break of the file, for the lines added to it.
    pub(super) fn eol(&self) -> &str {
        self.lines
            .iter()
            .map(|l| l.eol)
            .find(|e| !e.is_empty())
            .unwrap_or("\n")
    }
}

/// The indentation that aligns continuation lines under the value of a key line.
pub(super) fn align_under_value(key_line: &str, delim: usize) -> String {
    let delim = delim.min(key_line.len());
    let after = key_line.get(delim + 1..).unwrap_or("");
    let ws = leading_ws(after);
    let mut prefix: String = key_line.get(..delim + 1).unwrap_or(key_line).to_string();
    if ws.len() == after.len() {
        prefix.push(' ');
    } else {
        prefix.push_str(ws);
    }
    prefix
        .chars()
        .map(|c| if is_py_space(c) { c } else { ' ' })
        .collect()
}

/// A one-line description of a range set, for comments.
pub(super) fn describe(ranges: &RangeSet) -> String {
    if *ranges == cloudflare::embedded() {
        format!(
            "Cloudflare's list of {}, etag {}",
            cloudflare::SNAPSHOT_DATE,
            cloudflare::SNAPSHOT_ETAG
        )
    } else {
        "a range list given to cf-ban-audit".to_string()
    }
}

/// Makes text safe inside a one-line comment.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

pub(super) fn marker(source: &str) -> String {
    format!("# cf-ban-audit: Cloudflare ranges ({})", one_line(source))
}

/// A `jail.local` fragment that keeps fail2ban from banning any network of `ranges`.
///
/// The fragment explains itself in comments (the source of the ranges, why a firewall rule is
/// not enough, that a jail with its own `ignoreip` must repeat the list, and how to lift the
/// bans already in place), then sets `[DEFAULT]` `ignoreip` to the loopback entries and every
/// range, one per indented continuation line, IPv4 first. The comments name the embedded
/// snapshot when `ranges` is it; use [`generate_with_source`] to name another source.
pub fn generate(ranges: &RangeSet) -> String {
    generate_with_source(ranges, &describe(ranges))
}

/// [`generate`], naming the source of the ranges (such as "Cloudflare API, etag …, fetched
/// 2026-11-24") in the comments.
pub fn generate_with_source(ranges: &RangeSet, source: &str) -> String {
    let v4 = ranges.v4_nets().count();
    let v6 = ranges.v6_nets().count();
    let source_line = format!(
        "# Ranges: {} ({v4} IPv4 + {v6} IPv6 networks).",
        one_line(source)
    );
    let key_line = format!("{KEY}{BASE_IGNOREIP}");
    let mut out = String::new();
    let header: &[&str] = &[
        "# fail2ban: never ban Cloudflare's edge. A jail.local fragment written by cf-ban-audit.",
        &source_line,
        "# Cloudflare changes this list now and then (https://www.cloudflare.com/ips/):",
        "# regenerate it, or merge it into jail.local again, when it does.",
        "#",
        "# Why an ignore list: a firewall ACCEPT for Cloudflare does not help. fail2ban puts",
        "# its own chains first (iptables -I, nftables priority filter - 1, ufw prepend), so",
        "# its bans win. Only fail2ban's ignoreip keeps the edge from being banned.",
        "#",
        "# A jail that sets its own ignoreip REPLACES this [DEFAULT] list. Such a jail must",
        "# include it, e.g.  ignoreip = %(default/ignoreip)s 192.0.2.10",
        "# (%(known/ignoreip)s works as well; checked with fail2ban 1.0.2, on older releases",
        "# copy the list). jail.d/*.local files are read after jail.local and override it.",
        "#",
        "# This stops new bans only: a plain `fail2ban-client reload` keeps the bans already",
        "# in place. Lift them, for each jail and banned Cloudflare address:",
        "#   fail2ban-client set <jail> unbanip <ip>",
        "# or restart the jails, which skips ignored addresses when it restores bans:",
        "#   fail2ban-client reload --restart      (both checked with fail2ban 1.0.2)",
        "#",
        "# Note: the ranges also carry other Cloudflare services (WARP and others), so this",
        "# also exempts their users. Put the list in the web jails only if that matters.",
        "",
        "[DEFAULT]",
        &key_line,
    ];
    for line in header {
        out.push_str(line);
        out.push('\n');
    }
    let indent = " ".repeat(KEY.len());
    for net in ranges.v4_nets().chain(ranges.v6_nets()) {
        out.push_str(&indent);
        out.push_str(&display_net(net));
        out.push('\n');
    }
    out
}

/// The sections of `existing` other than `[DEFAULT]` that set their own `ignoreip` without
/// covering every network of `ranges`, in file order.
///
/// A jail's `ignoreip` replaces `[DEFAULT]`'s, so these jails would still ban Cloudflare
/// after a merge into `[DEFAULT]` only ([`MergeOptions::default_only`](super::MergeOptions));
/// [`Target::merge`](super::Target::merge) extends their lists too. A value that includes `%(default/ignoreip)s` or
/// `%(known/ignoreip)s` takes `[DEFAULT]`'s list along and is not reported.
pub fn jails_overriding(existing: &str, ranges: &RangeSet) -> Vec<String> {
    super::fail2ban_merge::jails_extended(existing, ranges)
}

/// The sections of a file (`DEFAULT` included) that set `key`, each once, in file order.
pub(crate) fn sections_setting(text: &str, key: &str) -> Vec<String> {
    let p = parse(text.trim_start_matches('\u{feff}'));
    let mut out: Vec<String> = Vec::new();
    for opt in p.options.iter().filter(|o| o.name == key) {
        if let Some(section) = p.sections.get(opt.section) {
            if !out.contains(&section.name) {
                out.push(section.name.clone());
            }
        }
    }
    out
}

/// The jails whose own `ignoreip` takes `[DEFAULT]`'s along ([`inherits_default`]).
pub(crate) fn jails_inheriting(text: &str) -> Vec<String> {
    let p = parse(text.trim_start_matches('\u{feff}'));
    p.jail_ignoreips()
        .into_iter()
        .filter(|(_, opt)| inherits_default(opt))
        .map(|(name, _)| name.to_string())
        .collect()
}

/// Whether a file has a section of this name.
pub(crate) fn has_section(text: &str, name: &str) -> bool {
    parse(text.trim_start_matches('\u{feff}'))
        .sections
        .iter()
        .any(|s| s.name == name)
}

/// Whether a jail's `ignoreip` takes `[DEFAULT]`'s along: `%(default/ignoreip)s` (the merged
/// `[DEFAULT]` value) or `%(known/ignoreip)s` (the value an earlier file gave the section,
/// else `[DEFAULT]`'s), as fail2ban's `_map_section_options` resolves them. Only in lower
/// case: fail2ban 1.0.2 stores `%(DEFAULT/ignoreip)s` under its own spelling but looks it up
/// in lower case, and refuses the whole configuration ("Bad value substitution").
pub(super) fn inherits_default(opt: &Opt) -> bool {
    opt.pieces
        .iter()
        .any(|p| p.contains("%(default/ignoreip)s") || p.contains("%(known/ignoreip)s"))
}

impl Parsed<'_> {
    /// The last `ignoreip` of each section name other than `[DEFAULT]` and `[INCLUDES]` (a
    /// later one replaces an earlier one), in the order the names first appear.
    pub(super) fn jail_ignoreips(&self) -> Vec<(&str, &Opt)> {
        let mut last: Vec<(&str, &Opt)> = Vec::new();
        for opt in self.options.iter().filter(|o| o.name == "ignoreip") {
            let Some(section) = self.sections.get(opt.section) else {
                continue;
            };
            if section.name == "DEFAULT" || section.name == "INCLUDES" {
                continue;
            }
            match last.iter_mut().find(|(name, _)| *name == section.name) {
                Some(slot) => slot.1 = opt,
                None => last.push((section.name.as_str(), opt)),
            }
        }
        last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cf() -> RangeSet {
        cloudflare::embedded()
    }

    fn set(nets: &[&str]) -> RangeSet {
        nets.iter().map(|s| s.parse::<IpNet>().unwrap()).collect()
    }

    /// The entries fail2ban would read for `[DEFAULT]` `ignoreip`.
    fn default_entries(text: &str) -> Vec<String> {
        let text = text.trim_start_matches('\u{feff}');
        let p = parse(text);
        p.default_ignoreip()
            .map(|o| o.entries().map(str::to_string).collect())
            .unwrap_or_default()
    }

    fn all_covered(text: &str, ranges: &RangeSet) -> bool {
        let have: RangeSet = default_entries(text)
            .iter()
            .filter_map(|e| parse_entry(e))
            .collect();
        ranges.nets().iter().all(|n| have.covers(n))
    }

    /// The lines added by a merge: those of `after` that are not in `before`, in order.
    fn added_lines(before: &str, after: &str) -> Vec<String> {
        let old: Vec<&str> = before.lines().collect();
        let mut old_iter = old.iter().peekable();
        let mut out = Vec::new();
        for line in after.lines() {
            if old_iter.peek() == Some(&&line) {
                old_iter.next();
            } else {
                out.push(line.to_string());
            }
        }
        assert!(
            old_iter.next().is_none(),
            "merge lost lines of\n{before}\ngot\n{after}"
        );
        out
    }

    #[test]
    fn generate_lists_every_range_on_its_own_indented_line() {
        let text = generate(&cf());
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.iter().position(|l| *l == "[DEFAULT]").unwrap();
        assert_eq!(lines[start + 1], "ignoreip = 127.0.0.1/8 ::1");
        let ranges: Vec<&str> = lines[start + 2..].iter().map(|l| l.trim_start()).collect();
        let want: Vec<String> = cf().nets().iter().map(|n| n.to_string()).collect();
        assert_eq!(ranges, want);
        assert_eq!(ranges.len(), 22);
        assert!(
            ranges[..15].iter().all(|r| r.contains('.')),
            "IPv4 first: {ranges:?}"
        );
        assert!(lines[start + 2..]
            .iter()
            .all(|l| l.starts_with("           ")));
        // Everything above [DEFAULT] is a comment or blank.
        assert!(lines[..start]
            .iter()
            .all(|l| l.is_empty() || l.starts_with('#')));
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn generate_explains_itself() {
        let text = generate(&cf());
        for needle in [
            "cf-ban-audit",
            cloudflare::SNAPSHOT_DATE,
            cloudflare::SNAPSHOT_ETAG,
            "15 IPv4 + 7 IPv6",
            "REPLACES",
            "%(default/ignoreip)s",
            "%(known/ignoreip)s",
            "fail2ban-client set <jail> unbanip <ip>",
            "fail2ban-client reload --restart",
            "ACCEPT",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        let other = generate(&set(&["192.0.2.0/24"]));
        assert!(
            other.contains("a range list given to cf-ban-audit"),
            "{other}"
        );
        let named = generate_with_source(&cf(), "API\netag x");
        assert!(named.contains("# Ranges: API etag x (15 IPv4"), "{named}");
    }

    #[test]
    fn generated_snippet_is_a_fixed_point_of_merge() {
        let text = generate(&cf());
        assert_eq!(merge(&text, &cf()), text);
        assert_eq!(merge("", &cf()), text);
        assert!(jails_overriding(&text, &cf()).is_empty());
        assert_eq!(default_entries(&text).len(), 24);
    }

    #[test]
    fn appends_after_the_last_continuation_line() {
        let before = "[DEFAULT]\n\
                      ignoreip = 127.0.0.1/8 ::1\n\
                      \x20          192.0.2.0/24\n\
                      \n\
                      # the ban time\n\
                      bantime = 1h\n";
        let after = merge(before, &set(&["104.16.0.0/13", "2606:4700::/32"]));
        assert_eq!(
            after,
            "[DEFAULT]\n\
             ignoreip = 127.0.0.1/8 ::1\n\
             \x20          192.0.2.0/24\n\
             # cf-ban-audit: Cloudflare ranges (a range list given to cf-ban-audit)\n\
             \x20          104.16.0.0/13\n\
             \x20          2606:4700::/32\n\
             \n\
             # the ban time\n\
             bantime = 1h\n"
        );
    }

    #[test]
    fn single_line_value_gets_aligned_continuation_lines() {
        let after = merge(
            "[DEFAULT]\nignoreip=127.0.0.1/8\n",
            &set(&["104.16.0.0/13"]),
        );
        assert_eq!(
            after,
            "[DEFAULT]\nignoreip=127.0.0.1/8\n\
             # cf-ban-audit: Cloudflare ranges (a range list given to cf-ban-audit)\n\
             \x20        104.16.0.0/13\n"
        );
        let empty = merge(
            "[DEFAULT]\nignoreip =\nbantime = 1h\n",
            &set(&["104.16.0.0/13"]),
        );
        assert!(empty.contains("ignoreip =\n# cf-ban-audit: "), "{empty}");
        assert!(
            empty.contains("\n           104.16.0.0/13\nbantime = 1h\n"),
            "{empty}"
        );
    }

    #[test]
    fn merge_is_idempotent() {
        let inputs = [
            "",
            "\n",
            "[DEFAULT]\n",
            "[DEFAULT]\nignoreip = 127.0.0.1/8\n",
            "[DEFAULT]\r\nignoreip = 127.0.0.1/8 ; local\r\n\t10.0.0.0/8\r\n\r\n[sshd]\r\nenabled = true",
            "# only a comment",
            "[sshd]\nenabled = true\n",
            "\u{feff}\u{feff}[DEFAULT]\nbantime = 1h",
            "[DEFAULT]\n  bantime = 1h\n  maxretry = 3\n",
            "  [sshd]\n  enabled = true\n",
        ];
        for input in inputs {
            let once = merge(input, &cf());
            assert_eq!(merge(&once, &cf()), once, "input {input:?}");
            assert!(all_covered(&once, &cf()), "input {input:?} gave\n{once}");
        }
    }

    #[test]
    fn inline_semicolon_comment_stays_a_comment() {
        let before = "[DEFAULT]\nignoreip = 127.0.0.1/8 ::1 ; loopback; 192.0.2.1\nbantime = 1h\n";
        let after = merge(before, &cf());
        assert!(
            after.starts_with("[DEFAULT]\nignoreip = 127.0.0.1/8 ::1 ; loopback; 192.0.2.1\n#"),
            "{after}"
        );
        // New entries are on their own lines, aligned under the value.
        assert!(after.contains("\n           173.245.48.0/20\n"), "{after}");
        let entries = default_entries(&after);
        assert_eq!(&entries[..2], ["127.0.0.1/8", "::1"]);
        assert!(!entries
            .iter()
            .any(|e| e.contains("loopback") || e == "192.0.2.1"));
        assert_eq!(entries.len(), 24);
        // `;` without whitespace before it is not a comment.
        let glued = merge(
            "[DEFAULT]\nignoreip = 104.16.0.0/13;x\n",
            &set(&["104.16.0.0/13"]),
        );
        assert!(glued.contains("104.16.0.0/13\n"), "{glued}");
    }

    #[test]
    fn crlf_is_kept_and_used_for_new_lines() {
        let before = "[DEFAULT]\r\nignoreip = 127.0.0.1/8 ::1\r\nbantime = 1h\r\n\r\n[sshd]\r\nenabled = true\r\n";
        let after = merge(before, &cf());
        assert!(
            !after.replace("\r\n", "").contains('\n'),
            "a bare LF in {after:?}"
        );
        assert!(after.ends_with("\r\nbantime = 1h\r\n\r\n[sshd]\r\nenabled = true\r\n"));
        assert_eq!(added_lines(before, &after).len(), 23);
        assert_eq!(merge(&after, &cf()), after);
    }

    #[test]
    fn missing_final_newline_is_kept() {
        let before = "[DEFAULT]\nignoreip = 127.0.0.1/8";
        let after = merge(before, &set(&["104.16.0.0/13", "104.24.0.0/14"]));
        assert!(after.starts_with("[DEFAULT]\nignoreip = 127.0.0.1/8\n# cf-ban-audit:"));
        assert!(
            after.ends_with("\n           104.16.0.0/13\n           104.24.0.0/14"),
            "{after:?}"
        );
        let middle = "[DEFAULT]\nignoreip = 127.0.0.1/8\nbantime = 1h";
        let after = merge(middle, &set(&["104.16.0.0/13"]));
        assert!(
            after.ends_with("           104.16.0.0/13\nbantime = 1h"),
            "{after:?}"
        );
    }

    #[test]
    fn tab_indented_continuations_are_followed() {
        let before = "[DEFAULT]\nignoreip = 127.0.0.1/8\n\t::1\n\t192.0.2.1\nbantime\t= 1h\n";
        let after = merge(before, &set(&["104.16.0.0/13"]));
        assert!(after.contains("\t192.0.2.1\n# cf-ban-audit: Cloudflare ranges (a range list given to cf-ban-audit)\n\t104.16.0.0/13\nbantime\t= 1h\n"), "{after}");
    }

    #[test]
    fn a_byte_order_mark_is_dropped() {
        let before = "\u{feff}[DEFAULT]\nignoreip = 127.0.0.1/8\n";
        let after = merge(before, &set(&["104.16.0.0/13"]));
        assert!(after.starts_with("[DEFAULT]\n"), "{after:?}");
        assert!(after.ends_with("           104.16.0.0/13\n"));
        // Nothing to add: still dropped, the rest unchanged.
        assert_eq!(
            merge(
                "\u{feff}[DEFAULT]\nignoreip = 104.16.0.0/13\n",
                &set(&["104.16.0.0/13"])
            ),
            "[DEFAULT]\nignoreip = 104.16.0.0/13\n"
        );
    }

    #[test]
    fn a_stale_cloudflare_list_gets_only_the_missing_ranges() {
        // A list from about 2015: 199.27.128.0/21 (retired) and 104.16.0.0/12, which covers
        // both 104.16.0.0/13 and 104.24.0.0/14; 131.0.72.0/22, 2a06:98c0::/29 and
        // 2c0f:f248::/32 are missing.
        let before = "[DEFAULT]\n\
            ignoreip = 127.0.0.1/8 ::1\n\
            \x20   199.27.128.0/21 173.245.48.0/20 103.21.244.0/22 103.22.200.0/22 103.31.4.0/22\n\
            \x20   141.101.64.0/18 108.162.192.0/18 190.93.240.0/20 188.114.96.0/20\n\
            \x20   197.234.240.0/22 198.41.128.0/17 162.158.0.0/15 104.16.0.0/12 172.64.0.0/13\n\
            \x20   2400:cb00::/32 2606:4700::/32 2803:f800::/32 2405:b500::/32 2405:8100::/32\n\
            findtime = 10m\n";
        let after = merge(before, &cf());
        let added = added_lines(before, &after);
        assert_eq!(
            added,
            [
                format!(
                    "# cf-ban-audit: Cloudflare ranges (Cloudflare's list of {}, etag {})",
                    cloudflare::SNAPSHOT_DATE,
                    cloudflare::SNAPSHOT_ETAG
                ),
                "# cf-ban-audit: warning: stale entry 199.27.128.0/21: a Cloudflare range that is not in the current list; remove it unless something else needs it".to_string(),
                "# cf-ban-audit: warning: over-broad entry 104.16.0.0/12: wider than Cloudflare's own ranges, it also exempts addresses that are not Cloudflare's; replace it with the ranges".to_string(),
                "    131.0.72.0/22".to_string(),
                "    2a06:98c0::/29".to_string(),
                "    2c0f:f248::/32".to_string(),
            ]
        );
        assert!(
            after.contains("199.27.128.0/21"),
            "the retired entry is the user's to remove"
        );
        assert_eq!(merge(&after, &cf()), after, "the warnings are written once");
        // With 104.16.0.0/13 but not the /14, only the /14 is added.
        let newer = "[DEFAULT]\nignoreip = 104.16.0.0/13, 131.0.72.0/22\n";
        let added = added_lines(
            newer,
            &merge(
                newer,
                &set(&["104.16.0.0/13", "104.24.0.0/14", "131.0.72.0/22"]),
            ),
        );
        assert_eq!(added[1..], ["           104.24.0.0/14".to_string()]);
    }

    #[test]
    fn hash_comment_between_continuation_lines_is_skipped() {
        let before = "[DEFAULT]\n\
                      ignoreip = 127.0.0.1/8\n\
                      # Cloudflare\n\
                      \x20   104.16.0.0/13\n\
                      \x20   # still part of the value\n\
                      \n\
                      \x20   104.24.0.0/14\n\
                      # next key\n\
                      bantime = 1h\n";
        let entries = default_entries(before);
        assert_eq!(entries, ["127.0.0.1/8", "104.16.0.0/13", "104.24.0.0/14"]);
        let after = merge(
            before,
            &set(&["104.16.0.0/13", "104.24.0.0/14", "131.0.72.0/22"]),
        );
        assert!(
            after.contains("    104.24.0.0/14\n# cf-ban-audit: Cloudflare ranges (a range list given to cf-ban-audit)\n    131.0.72.0/22\n# next key\nbantime = 1h\n"),
            "{after}"
        );
        // A `#` after an entry is not a comment: `#` and `office` are entries (hostnames).
        assert_eq!(
            default_entries("[DEFAULT]\nignoreip = 10.0.0.1 # office\n"),
            ["10.0.0.1", "#", "office"]
        );
    }

    #[test]
    fn default_without_ignoreip_gets_one_after_its_header() {
        let before = "# local settings\n[DEFAULT]\nbantime = 1h\n\n[sshd]\nenabled = true\n";
        let after = merge(before, &cf());
        assert!(
            after.starts_with(
                "# local settings\n[DEFAULT]\nignoreip = 127.0.0.1/8 ::1\n# cf-ban-audit: "
            ),
            "{after}"
        );
        assert!(
            after.ends_with("           2c0f:f248::/32\nbantime = 1h\n\n[sshd]\nenabled = true\n"),
            "{after}"
        );
        assert_eq!(added_lines(before, &after).len(), 24);
        // Options indented under the header stay options: the key takes their indentation.
        let indented = "[DEFAULT]\n  bantime = 1h\n  maxretry = 3\n";
        let after = merge(indented, &set(&["104.16.0.0/13"]));
        assert!(after.starts_with("[DEFAULT]\n  ignoreip = 127.0.0.1/8 ::1\n# cf-ban-audit: Cloudflare ranges (a range list given to cf-ban-audit)\n             104.16.0.0/13\n  bantime = 1h\n"), "{after}");
        let p = parse(&after);
        let names: Vec<&str> = p.options.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["ignoreip", "bantime", "maxretry"]);
    }

    #[test]
    fn missing_default_section_is_added_at_the_top() {
        let before = "# jail.local of web01\n# keep it short\n\n# ssh on a high port\n[sshd]\nenabled = true\nport = 2222\n";
        let after = merge(before, &set(&["104.16.0.0/13"]));
        assert_eq!(
            after,
            "# jail.local of web01\n# keep it short\n\n\
             [DEFAULT]\n\
             ignoreip = 127.0.0.1/8 ::1\n\
             # cf-ban-audit: Cloudflare ranges (a range list given to cf-ban-audit)\n\
             \x20          104.16.0.0/13\n\
             \n\
             # ssh on a high port\n[sshd]\nenabled = true\nport = 2222\n"
        );
        // No blank line: the comments stay at the top, [DEFAULT] goes right before [sshd].
        let tight = merge(
            "# title\n[sshd]\nenabled = true\n",
            &set(&["104.16.0.0/13"]),
        );
        assert!(tight.starts_with("# title\n\n[DEFAULT]\n"), "{tight}");
        assert!(
            tight.ends_with("104.16.0.0/13\n\n[sshd]\nenabled = true\n"),
            "{tight}"
        );
        // No section at all.
        let none = merge("# nothing yet\n", &set(&["104.16.0.0/13"]));
        assert!(
            none.starts_with("# nothing yet\n\n[DEFAULT]\nignoreip = 127.0.0.1/8 ::1\n"),
            "{none}"
        );
        // `[default]` is not `[DEFAULT]` to fail2ban.
        let lower = merge(
            "[default]\nignoreip = 104.16.0.0/13\n",
            &set(&["104.16.0.0/13"]),
        );
        assert!(
            lower.starts_with("[DEFAULT]\nignoreip = 127.0.0.1/8 ::1\n"),
            "{lower}"
        );
        assert!(
            lower.ends_with("\n\n[default]\nignoreip = 104.16.0.0/13\n"),
            "{lower}"
        );
    }

    #[test]
    fn keys_are_case_insensitive_and_colon_separated() {
        let before = "[DEFAULT]\nIgnoreIP: 127.0.0.1/8 ::1\n";
        let after = merge(before, &set(&["104.16.0.0/13"]));
        assert_eq!(
            after,
            "[DEFAULT]\nIgnoreIP: 127.0.0.1/8 ::1\n# cf-ban-audit: Cloudflare ranges (a range list given to cf-ban-audit)\n          104.16.0.0/13\n"
        );
        // `ignoreip_extra` and `myignoreip` are other keys.
        let other = merge(
            "[DEFAULT]\nignoreip_extra = 104.16.0.0/13\n",
            &set(&["104.16.0.0/13"]),
        );
        assert!(
            other.starts_with("[DEFAULT]\nignoreip = 127.0.0.1/8 ::1\n"),
            "{other}"
        );
    }

    #[test]
    fn hostnames_and_file_entries_are_kept_but_do_not_count() {
        let before =
            "[DEFAULT]\nignoreip = cloudflare.example, file:/etc/fail2ban/cf.ips %(mine)s\n";
        let after = merge(before, &cf());
        assert_eq!(
            default_entries(&after)[..3],
            [
                "cloudflare.example",
                "file:/etc/fail2ban/cf.ips",
                "%(mine)s"
            ]
        );
        assert_eq!(added_lines(before, &after).len(), 23);
        // A netmask entry counts like its CIDR; a wider CIDR covers (and is named).
        let masked = "[DEFAULT]\nignoreip = 104.16.0.0/255.248.0.0 2606::/16\n";
        assert_eq!(
            merge(masked, &set(&["104.16.0.0/13", "2606:4700::/32"])),
            format!("{masked}# cf-ban-audit: warning: over-broad entry 2606::/16: wider than Cloudflare's own ranges, it also exempts addresses that are not Cloudflare's; replace it with the ranges\n")
        );
        assert_eq!(parse_entry("10.0.0.0/255.0.255.0"), None);
    }

    #[test]
    fn the_last_default_ignoreip_is_the_one_extended() {
        let before =
            "[DEFAULT]\nbantime = 1h\n[sshd]\nenabled = true\n[DEFAULT]\nignoreip = 127.0.0.1/8\n";
        let after = merge(before, &set(&["104.16.0.0/13"]));
        assert!(after.ends_with("[DEFAULT]\nignoreip = 127.0.0.1/8\n# cf-ban-audit: Cloudflare ranges (a range list given to cf-ban-audit)\n           104.16.0.0/13\n"), "{after}");
        // A jail's own ignoreip gets the ranges too, unless the merge is for [DEFAULT] only.
        let jail = "[DEFAULT]\nignoreip = 104.16.0.0/13\n[sshd]\nignoreip = 127.0.0.1/8\n";
        assert_eq!(
            merge(jail, &set(&["104.16.0.0/13"])),
            format!("{jail}# cf-ban-audit: Cloudflare ranges (a range list given to cf-ban-audit)\n           104.16.0.0/13\n")
        );
        let default_only = super::super::MergeOptions::default().default_only(true);
        assert_eq!(
            merge_with(jail, &set(&["104.16.0.0/13"]), "x", default_only),
            jail
        );
    }

    #[test]
    fn empty_ranges_change_nothing() {
        assert_eq!(
            merge("[sshd]\nenabled = true", &RangeSet::new()),
            "[sshd]\nenabled = true"
        );
        assert!(generate(&RangeSet::new()).ends_with("[DEFAULT]\nignoreip = 127.0.0.1/8 ::1\n"));
    }

    #[test]
    fn jails_with_their_own_list_are_named() {
        let text = "[DEFAULT]\nignoreip = 127.0.0.1/8\n\
                    [sshd]\nignoreip = 127.0.0.1/8 192.0.2.1\n\
                    [nginx-http-auth]\nenabled = true\n\
                    [nginx-limit-req]\nignoreip = %(known/ignoreip)s 198.51.100.0/24\n\
                    [apache-auth]\nignoreip = %(default/ignoreip)s\n\
                    [apache-badbots]\nignoreip = %(DEFAULT/ignoreip)s\n\
                    [postfix]\nignoreip = 0.0.0.0/0\n  ::/0\n\
                    [INCLUDES]\nignoreip = x\n\
                    [dovecot]\nIgnoreIP: 104.16.0.0/13\n";
        // `%(DEFAULT/ignoreip)s` is refused by fail2ban: it takes nothing along.
        assert_eq!(
            jails_overriding(text, &cf()),
            ["sshd", "apache-badbots", "dovecot"]
        );
        assert!(jails_overriding(text, &RangeSet::new()).is_empty());
        assert!(jails_overriding("", &cf()).is_empty());
    }

    #[test]
    fn configparser_rules() {
        let p = parse(
            "x = 1\n[a]\n  k = v ; c\n   w\n\tz\nnot an option\n   more\n[] = 1\n[b] tail\n: v\n",
        );
        assert_eq!(p.kinds[0], Kind::Error, "no section yet");
        let a = &p.options[0];
        assert_eq!(a.name, "k");
        assert_eq!(a.pieces, ["v", "w", "more"]);
        // `\tz` is indented less than `k` (1 < 2): not a continuation, and no `=`: an error.
        assert_eq!(p.kinds[4], Kind::Error);
        // An error line keeps the current option: "more" (3 > 1) continues `k`.
        assert_eq!(p.kinds[6], Kind::Continuation(0));
        assert_eq!(p.options[1].name, "[]");
        assert_eq!(p.sections[1].name, "b");
        assert_eq!(p.kinds[9], Kind::Error, "empty key");
        let lines = split_lines("a\rb\r\nc\nd");
        let eols: Vec<&str> = lines.iter().map(|l| l.eol).collect();
        assert_eq!(eols, ["\r", "\r\n", "\n", ""]);
    }

    #[test]
    fn odd_inputs_never_panic_and_merge_stays_idempotent() {
        let pieces = [
            "[DEFAULT]",
            "[sshd]",
            "ignoreip",
            "IgnoreIP",
            " = ",
            ":",
            " ; c",
            ";",
            "#",
            " ",
            "\t",
            "\r",
            "\n",
            "\r\n",
            "104.16.0.0/13",
            "2606:4700::/32",
            "é",
            "\u{feff}",
            "[",
            "]",
            "%(",
            "x",
            "\u{85}",
            "\u{2028}",
            "\u{b}",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let ranges = set(&["104.16.0.0/13", "104.24.0.0/14", "2606:4700::/32"]);
        for _ in 0..4000 {
            let mut text = String::new();
            for _ in 0..(state % 24) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            let once = merge(&text, &ranges);
            assert_eq!(merge(&once, &ranges), once, "input {text:?}");
            let _ = jails_overriding(&text, &ranges);
        }
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn default_ignoreip() {
        use crate::snippet::fail2ban::default_ignoreip;
        let e =
            default_ignoreip("[DEFAULT]\nignoreip = 127.0.0.1/8 ::1 # office\n 10.0.0.0/8 ; lan\n")
                .unwrap();
        assert_eq!(e, ["127.0.0.1/8", "::1", "#", "office", "10.0.0.0/8"]);
    }

    #[test]
    fn generate() {
        use crate::{cloudflare, snippet::fail2ban};
        let text = fail2ban::generate(&cloudflare::embedded());
        assert!(
            text.contains("[DEFAULT]\nignoreip = 127.0.0.1/8 ::1\n           103.21.244.0/22\n")
        );
        assert!(text.ends_with("           2c0f:f248::/32\n"));
    }

    #[test]
    fn merge() {
        use crate::{cloudflare, snippet::fail2ban};
        let cf = cloudflare::embedded();
        let before = "[DEFAULT]\nignoreip = 127.0.0.1/8 ::1 ; loopback\nbantime = 1h\n\n[sshd]\nenabled = true\n";
        let after = fail2ban::merge(before, &cf);
        assert!(
            after.starts_with("[DEFAULT]\nignoreip = 127.0.0.1/8 ::1 ; loopback\n# cf-ban-audit: ")
        );
        assert!(after.contains("\n           173.245.48.0/20\n"));
        assert!(
            after.ends_with("           2c0f:f248::/32\nbantime = 1h\n\n[sshd]\nenabled = true\n")
        );
        assert_eq!(fail2ban::merge(&after, &cf), after);
    }

    #[test]
    fn jails_overriding() {
        use crate::{cloudflare, snippet::fail2ban};
        let text = "[DEFAULT]\nignoreip = 127.0.0.1/8\n[sshd]\nignoreip = 192.0.2.1\n[nginx-limit-req]\nignoreip = %(known/ignoreip)s 192.0.2.1\n";
        assert_eq!(
            fail2ban::jails_overriding(text, &cloudflare::embedded()),
            ["sshd"]
        );
    }
}
