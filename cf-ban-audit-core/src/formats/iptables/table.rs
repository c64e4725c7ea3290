//! The `iptables -L -n [-v] [--line-numbers]` form: `Chain NAME (policy ...)` headers, a
//! column header, then one row per rule.

use ipnet::IpNet;

use super::chains::{Rule, SetMatch};
use super::save::add_nets;
use super::{lossy, parse_addr, IptablesParser};
use crate::formats::ipset::parse_nets;
use crate::formats::{quote, Sink};

/// The rest of `Chain NAME (policy X ...)` / `Chain NAME (N references)` → (name, built-in).
pub(super) fn list_chain_header(rest: &[u8]) -> Option<(&[u8], bool)> {
    let space = memchr::memchr(b' ', rest)?;
    let name = &rest[..space];
    let paren = rest[space..].trim_ascii_start();
    if name.is_empty() || !paren.starts_with(b"(") || !paren.ends_with(b")") {
        return None;
    }
    if paren.starts_with(b"(policy ") {
        Some((name, true))
    } else if memchr::memmem::find(paren, b"reference").is_some() {
        Some((name, false))
    } else {
        None
    }
}

/// State of `iptables -L` output.
#[derive(Debug, Default)]
pub(super) struct Listing {
    /// The chain whose rows follow.
    chain: Option<usize>,
    /// Columns: `num` first, `pkts bytes` (-v).
    numbered: bool,
    verbose: bool,
    header: bool,
    /// Inside a `/* comment */` that went on past its row's line.
    in_comment: bool,
}

impl IptablesParser {
    /// One line of `iptables -L` output.
    pub(super) fn list_line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let listing = self.listing.get_or_insert_with(Listing::default);
        if listing.in_comment {
            // The rest of a comment holding line breaks: never a row.
            if memchr::memmem::find(line, b"*/").is_some() {
                listing.in_comment = false;
            }
            return;
        }
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            return;
        }
        if let Some(rest) = trimmed.strip_prefix(b"Chain ") {
            let Some((name, builtin)) = list_chain_header(rest) else {
                sink.malformed(
                    lineno,
                    format!("iptables: bad chain header: {}", quote(trimmed)),
                );
                listing.chain = None;
                return;
            };
            let name_text = lossy(name);
            let section = self.section();
            if section.listed.contains(&name_text) {
                self.new_section();
            }
            let section = self.section();
            section.listed.insert(name_text);
            let i = section.chain(name, builtin);
            let listing = self.listing.get_or_insert_with(Listing::default);
            listing.chain = Some(i);
            listing.header = false;
            return;
        }
        let words: Vec<&[u8]> = trimmed
            .split(u8::is_ascii_whitespace)
            .filter(|t| !t.is_empty())
            .collect();
        if matches!(words.first(), Some(&(b"target" | b"pkts" | b"num")))
            && words.contains(&&b"source"[..])
            && words.contains(&&b"destination"[..])
        {
            listing.numbered = words[0] == b"num";
            listing.verbose = words.contains(&&b"pkts"[..]);
            listing.header = true;
            return;
        }
        let (Some(chain), true) = (listing.chain, listing.header) else {
            sink.malformed(
                lineno,
                format!("iptables: a row outside a chain: {}", quote(trimmed)),
            );
            return;
        };
        let (numbered, verbose) = (listing.numbered, listing.verbose);
        match parse_row(trimmed, numbered, verbose, lineno) {
            Row::Rule(rule, open_comment) => {
                if open_comment {
                    self.listing.get_or_insert_with(Listing::default).in_comment = true;
                }
                let section = self.section();
                section.chains[chain].rules.push(rule);
                section.has_rules = true;
            }
            Row::Bad(message) => {
                sink.malformed(lineno, format!("iptables: {message}: {}", quote(trimmed)))
            }
        }
    }
}

/// A row of `iptables -L`.
enum Row {
    /// The rule, and whether a `/* comment */` is left open at the end of the line.
    Rule(Rule, bool),
    Bad(&'static str),
}

/// Whether a word is a protocol as `-L` prints it (`all`, `tcp`, `6`, `!udp`...).
fn protocol_like(w: &[u8]) -> bool {
    let w = w.strip_prefix(b"!").unwrap_or(w);
    (!w.is_empty() && w.iter().all(u8::is_ascii_digit))
        || matches!(
            w,
            b"all"
                | b"tcp"
                | b"udp"
                | b"udplite"
                | b"icmp"
                | b"icmpv6"
                | b"ipv6-icmp"
                | b"esp"
                | b"ah"
                | b"sctp"
                | b"mh"
                | b"gre"
                | b"ipv6"
                | b"ipip"
                | b"igmp"
                | b"dccp"
        )
}

/// A source or destination column: `None` when not an address (a host name).
fn column_addr(w: &[u8]) -> Option<(Option<IpNet>, bool)> {
    let (neg, w) = match w.strip_prefix(b"!") {
        Some(rest) => (true, rest),
        None => (false, w),
    };
    if w == b"anywhere" {
        return Some((None, neg));
    }
    parse_addr(w).map(|net| (Some(net), neg))
}

/// Removes `/* comments */` and `"quoted"` text from the matches column. `Err` when a
/// comment closes that was never opened on this line (the row is the continuation of a
/// comment); `Ok((text, open))` with `open` when a comment is left open.
fn strip_comments(mut rest: &[u8]) -> Result<(Vec<u8>, bool), ()> {
    let mut out = Vec::new();
    loop {
        let open = memchr::memmem::find(rest, b"/*");
        let quote_at = memchr::memchr(b'"', rest);
        let close = memchr::memmem::find(rest, b"*/");
        match (open, quote_at) {
            (Some(o), q) if q.is_none_or(|q| o < q) => {
                if close.is_some_and(|c| c < o) {
                    return Err(());
                }
                out.extend_from_slice(&rest[..o]);
                out.push(b' ');
                match memchr::memmem::find(&rest[o + 2..], b"*/") {
                    Some(c) => rest = &rest[o + 2 + c + 2..],
                    None => return Ok((out, true)),
                }
            }
            (_, Some(q)) => {
                if close.is_some_and(|c| c < q) {
                    return Err(());
                }
                out.extend_from_slice(&rest[..q]);
                out.push(b' ');
                match memchr::memchr(b'"', &rest[q + 1..]) {
                    Some(c) => rest = &rest[q + 1 + c + 1..],
                    None => return Ok((out, false)),
                }
            }
            // No comment and no quote left on the line.
            _ => {
                if close.is_some() {
                    return Err(());
                }
                out.extend_from_slice(rest);
                return Ok((out, false));
            }
        }
    }
}

/// Reads one row of `iptables -L [-v] [-n] [--line-numbers]`.
fn parse_row(line: &[u8], numbered: bool, verbose: bool, lineno: u64) -> Row {
    // Words with their ends, to find where the matches column starts.
    let mut words: Vec<(&[u8], usize)> = Vec::new();
    let mut start = None;
    for (i, &b) in line.iter().chain(std::iter::once(&b' ')).enumerate() {
        if b.is_ascii_whitespace() {
            if let Some(s) = start.take() {
                words.push((&line[s..i], i));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    let skip = usize::from(numbered) + 2 * usize::from(verbose);
    if words.len() < skip + 3 {
        return Row::Bad("a short row");
    }
    let words = &words[skip..];
    let has_target = !protocol_like(words[0].0);
    // Source and destination: the first two address columns after the target.
    let first = usize::from(has_target);
    let pair = (first.max(1)..words.len().saturating_sub(1))
        .find(|&i| column_addr(words[i].0).is_some() && column_addr(words[i + 1].0).is_some());
    let Some(at) = pair else {
        return Row::Bad("no source and destination addresses (list with -n)");
    };
    let (source, src_neg) = column_addr(words[at].0).unwrap_or((None, false));
    let (dest, _) = column_addr(words[at + 1].0).unwrap_or((None, false));
    let mut rule = Rule {
        line: lineno,
        target: has_target.then(|| lossy(words[0].0)),
        ..Rule::default()
    };
    for (w, _) in &words[first..at] {
        if !matches!(*w, b"all" | b"0" | b"--" | b"*") {
            rule.conditional = true;
        }
    }
    if dest.is_some_and(|d| d.prefix_len() > 0) {
        rule.conditional = true;
    }
    if let Some(net) = source {
        add_nets(&mut rule, vec![net], src_neg);
    }
    let (matches, open) = match strip_comments(&line[words[at + 1].1..]) {
        Ok(x) => x,
        Err(()) => return Row::Bad("a row inside a comment"),
    };
    let m: Vec<&[u8]> = matches
        .split(u8::is_ascii_whitespace)
        .filter(|t| !t.is_empty())
        .collect();
    let mut i = 0;
    let mut negate = false;
    while i < m.len() {
        match m[i] {
            b"!" => {
                negate = true;
                i += 1;
                continue;
            }
            b"match-set" if i + 2 < m.len() => {
                if m[i + 2].starts_with(b"src") {
                    rule.sets.push(SetMatch {
                        name: lossy(m[i + 1]),
                        negated: negate,
                    });
                    if negate {
                        rule.conditional = true;
                    } else {
                        rule.source_specific = true;
                    }
                } else {
                    rule.conditional = true;
                }
                i += 3;
            }
            b"source"
                if m.get(i + 1) == Some(&&b"IP"[..]) && m.get(i + 2) == Some(&&b"range"[..]) =>
            {
                let mut j = i + 3;
                let mut neg = negate;
                if m.get(j) == Some(&&b"!"[..]) {
                    neg = true;
                    j += 1;
                }
                match m.get(j).and_then(|r| parse_nets(r)) {
                    Some(nets) => add_nets(&mut rule, nets, neg),
                    None => return Row::Bad("bad source IP range"),
                }
                i = j + 1;
            }
            b"reject-with" => i += 2,
            _ => {
                rule.conditional = true;
                i += 1;
            }
        }
        negate = false;
    }
    Row::Rule(rule, open)
}
