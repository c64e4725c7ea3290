//! `snippet fail2ban --existing`: the ranges merged into an existing `jail.local` (or a
//! `jail.d/*.conf`/`*.local` file), every other byte left alone.
//!
//! fail2ban gives a jail the `ignoreip` of its own section when the section sets one, else the
//! one of `[DEFAULT]` (`client/jailreader.py` reads `ignoreip` per jail, `configparser` falls
//! back to the defaults), so a jail that sets its own list REPLACES `[DEFAULT]`'s. The merge
//! therefore extends `[DEFAULT]`'s `ignoreip` and, unless [`MergeOptions::default_only`], the
//! own `ignoreip` of every jail that sets one, keeping each list's entries, order and comments.
//! A jail whose list takes `[DEFAULT]`'s along (`%(default/ignoreip)s` or
//! `%(known/ignoreip)s`: `configparserinc.py` `_map_section_options` resolves `default/` to
//! the merged `[DEFAULT]` and `known/` to the value an earlier file gave the same section,
//! else to `[DEFAULT]`) needs nothing of its own.
//!
//! A file under `jail.d/` ([`MergeOptions::fragment`]) is read together with `jail.local`:
//! `[DEFAULT]` keys of a later file replace those of an earlier one, so a `[DEFAULT]`
//! `ignoreip` written into a fragment would replace the one of `jail.local` with all its
//! entries. A fragment's `[DEFAULT]` `ignoreip` is therefore extended only when the fragment
//! already has one, and none is added to it; its jails' own lists are extended as usual.

use ipnet::IpNet;

use super::fail2ban::{
    align_under_value, describe, generate_with_source, inherits_default, leading_ws, marker, parse,
    parse_entry, Kind, Opt, Parsed, BASE_IGNOREIP, KEY,
};
use super::{entry_warnings, new_warning_lines, MergeOptions, MergeWarning};
use crate::addr::display_net;
use crate::ranges::RangeSet;

/// An existing `jail.local` with the networks of `ranges` added to `[DEFAULT]`'s `ignoreip`
/// and to the own `ignoreip` of every jail that sets one.
///
/// Everything else stays byte for byte: every entry already there (hostnames, `file:`
/// entries, retired ranges), other keys, sections, comments, blank lines, line breaks
/// (`\r\n` stays `\r\n`) and a missing final line break. Only a leading UTF-8 byte order mark
/// is dropped, because fail2ban rejects a file that starts with one.
///
/// * `[DEFAULT]` has `ignoreip`: the ranges not covered by its entries (a wider CIDR counts)
///   are added as indented continuation lines right after the value's last line, under a
///   `# cf-ban-audit: Cloudflare ranges (...)` comment line (fail2ban skips a comment line
///   inside a value and the value goes on). Its stale and over-broad entries
///   ([`Target::merge_warnings`](super::Target::merge_warnings)) are named in
///   `# cf-ban-audit: warning: ...` comment lines at the same place, each once: a warning
///   already in the file is not written again.
/// * `[DEFAULT]` without `ignoreip`: `ignoreip = 127.0.0.1/8 ::1` and the ranges are added
///   right after the section header.
/// * No `[DEFAULT]` (note that `[default]` is another section to fail2ban): a `[DEFAULT]`
///   section with them is added before the first section, after the file's leading comments.
/// * A jail with its own `ignoreip` (the last one of its section name) that does not take
///   `[DEFAULT]`'s along: its missing ranges are added after its value's last line as for
///   `[DEFAULT]`.
///
/// An empty file gives [`generate`](super::fail2ban::generate)'s fragment; an empty `ranges`
/// leaves the file as it is. Merging again changes nothing:
/// `merge(&merge(x, r), r) == merge(x, r)`.
pub fn merge(existing: &str, ranges: &RangeSet) -> String {
    merge_with(existing, ranges, &describe(ranges), MergeOptions::default())
}

/// [`merge`] with options, naming the source of the ranges in the comments it adds.
pub fn merge_with(
    existing: &str,
    ranges: &RangeSet,
    source: &str,
    options: MergeOptions,
) -> String {
    let text = existing.trim_start_matches('\u{feff}');
    if ranges.is_empty() {
        return text.to_string();
    }
    if text.is_empty() && !options.fragment {
        return generate_with_source(ranges, source);
    }
    let parsed = parse(text);
    let inserts = plan(&parsed, ranges, source, options);
    if inserts.is_empty() {
        return text.to_string();
    }
    assemble(&parsed, &inserts)
}

/// The lists the merge extends: `[DEFAULT]`'s `ignoreip` (if any), then each jail's own one
/// that does not take `[DEFAULT]`'s along, in file order.
fn lists<'p>(p: &'p Parsed<'_>, options: MergeOptions) -> Vec<&'p Opt> {
    let mut out: Vec<&Opt> = p.default_ignoreip().into_iter().collect();
    if !options.default_only {
        out.extend(
            p.jail_ignoreips()
                .into_iter()
                .map(|(_, opt)| opt)
                .filter(|opt| !inherits_default(opt)),
        );
    }
    out
}

/// The stale and over-broad entries of the lists [`merge_with`] extends and keeps.
pub(crate) fn merge_warnings(
    existing: &str,
    ranges: &RangeSet,
    options: MergeOptions,
) -> Vec<MergeWarning> {
    let p = parse(existing.trim_start_matches('\u{feff}'));
    let mut out: Vec<MergeWarning> = Vec::new();
    for opt in lists(&p, options) {
        let kept: Vec<IpNet> = opt.entries().filter_map(parse_entry).collect();
        for w in entry_warnings(&kept, ranges) {
            if !out.contains(&w) {
                out.push(w);
            }
        }
    }
    out
}

/// The jails whose own `ignoreip` [`merge`] extends (those that lack some of `ranges`), in
/// file order.
pub(crate) fn jails_extended(existing: &str, ranges: &RangeSet) -> Vec<String> {
    let p = parse(existing.trim_start_matches('\u{feff}'));
    p.jail_ignoreips()
        .into_iter()
        .filter(|(_, opt)| !inherits_default(opt))
        .filter(|(_, opt)| {
            let have = opt.nets();
            !ranges.nets().iter().all(|n| have.covers(n))
        })
        .map(|(name, _)| name.to_string())
        .collect()
}

/// Where to insert which lines (without line breaks), in file order; empty when nothing is
/// missing and every warning is in the file already.
fn plan(
    p: &Parsed<'_>,
    ranges: &RangeSet,
    source: &str,
    options: MergeOptions,
) -> Vec<(usize, Vec<String>)> {
    let text: String = p
        .lines
        .iter()
        .map(|l| l.text)
        .collect::<Vec<_>>()
        .join("\n");
    let mut written: Vec<String> = Vec::new();
    let mut inserts = Vec::new();
    if p.default_ignoreip().is_none() && !options.fragment {
        inserts.extend(new_default_list(p, ranges, source));
    }
    for opt in lists(p, options) {
        inserts.extend(extend_list(p, opt, ranges, source, &text, &mut written));
    }
    inserts.sort_by_key(|(at, _)| *at);
    inserts
}

/// The lines that extend one existing `ignoreip`: the marker, the warnings not in the file
/// (nor `written` by this merge) yet, and the missing ranges, aligned with the value.
fn extend_list(
    p: &Parsed<'_>,
    opt: &Opt,
    ranges: &RangeSet,
    source: &str,
    text: &str,
    written: &mut Vec<String>,
) -> Option<(usize, Vec<String>)> {
    let have = opt.nets();
    let missing: Vec<&IpNet> = ranges.missing_from(&have).collect();
    let kept: Vec<IpNet> = opt.entries().filter_map(parse_entry).collect();
    let warnings: Vec<String> = new_warning_lines(text, &entry_warnings(&kept, ranges))
        .into_iter()
        .filter(|w| !written.contains(w))
        .collect();
    written.extend(warnings.iter().cloned());
    if missing.is_empty() && warnings.is_empty() {
        return None;
    }
    let indent = if opt.last > opt.key {
        leading_ws(p.lines[opt.last].text).to_string()
    } else {
        align_under_value(p.lines[opt.key].text, opt.delim)
    };
    let mut lines = Vec::new();
    if !missing.is_empty() {
        lines.push(marker(source));
    }
    // Comment lines at column 0, like the marker: fail2ban skips them inside the value.
    lines.extend(warnings);
    lines.extend(
        missing
            .iter()
            .map(|n| format!("{indent}{}", display_net(n))),
    );
    Some((opt.last + 1, lines))
}

/// A new `[DEFAULT]` `ignoreip` (in the `[DEFAULT]` section, or in a new one).
fn new_default_list(
    p: &Parsed<'_>,
    ranges: &RangeSet,
    source: &str,
) -> Option<(usize, Vec<String>)> {
    let new_key = |base: &str| {
        let mut lines = vec![format!("{base}{KEY}{BASE_IGNOREIP}"), marker(source)];
        let indent = format!("{base}{}", " ".repeat(KEY.len()));
        lines.extend(
            ranges
                .nets()
                .iter()
                .map(|n| format!("{indent}{}", display_net(n))),
        );
        lines
    };
    if let Some(section) = p.sections.iter().find(|s| s.name == "DEFAULT") {
        // Indent the key like the line that follows, so that line stays what it was.
        let base = p.next_content_indent(section.header + 1).to_string();
        return Some((section.header + 1, new_key(&base)));
    }
    let blank = |i: usize| p.kinds.get(i) == Some(&Kind::Blank);
    let Some(first) = p.kinds.iter().position(|k| matches!(k, Kind::Section(_))) else {
        // No section at all: append.
        let mut lines = Vec::new();
        if !p.lines.is_empty() && !blank(p.lines.len() - 1) {
            lines.push(String::new());
        }
        lines.push("[DEFAULT]".to_string());
        lines.extend(new_key(""));
        return Some((p.lines.len(), lines));
    };
    // Comments right above the first header belong to it; insert above them when a blank
    // line separates them from the file's leading comments.
    let mut at = first;
    while at > 0 && p.kinds[at - 1] == Kind::Comment {
        at -= 1;
    }
    if !(at > 0 && blank(at - 1)) {
        at = first;
    }
    let base = leading_ws(p.lines[first].text).to_string();
    let mut lines = Vec::new();
    if at > 0 && !blank(at - 1) {
        lines.push(String::new());
    }
    lines.push(format!("{base}[DEFAULT]"));
    lines.extend(new_key(&base));
    lines.push(String::new());
    Some((at, lines))
}

/// The file with each insert's lines put before its line (in order), each added line ended
/// with the file's line break, and the end of the file (with or without a final line break)
/// kept.
fn assemble(p: &Parsed<'_>, inserts: &[(usize, Vec<String>)]) -> String {
    let eol = p.eol();
    let added_count: usize = inserts.iter().map(|(_, l)| l.len()).sum();
    let mut lines: Vec<(&str, &str)> = Vec::with_capacity(p.lines.len() + added_count);
    let mut pending = inserts.iter().peekable();
    for (i, line) in p.lines.iter().enumerate() {
        while let Some((_, added)) = pending.next_if(|(at, _)| *at == i) {
            lines.extend(added.iter().map(|l| (l.as_str(), eol)));
        }
        lines.push((line.text, line.eol));
    }
    for (_, added) in pending {
        lines.extend(added.iter().map(|l| (l.as_str(), eol)));
    }
    let ends_open = p.lines.last().is_some_and(|l| l.eol.is_empty());
    let count = lines.len();
    let mut out = String::new();
    for (i, (text, line_eol)) in lines.into_iter().enumerate() {
        out.push_str(text);
        if i + 1 < count {
            out.push_str(if line_eol.is_empty() { eol } else { line_eol });
        } else if !ends_open {
            out.push_str(line_eol);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::check::check_text;
    use crate::cloudflare;

    /// jail.local inputs of every shape the merge meets (the file name, the text), shared
    /// with the test that has the real fail2ban read the merges.
    fn inputs() -> Vec<(String, String)> {
        serde_json::from_str(include_str!(
            "../../../fixtures/fail2ban/snippet/merge-inputs.json"
        ))
        .unwrap()
    }

    #[test]
    fn check_of_every_merge_is_ok() {
        let cf = cloudflare::embedded();
        for (name, input) in &inputs() {
            let path = Path::new("/etc/fail2ban").join(name);
            let options = MergeOptions::for_path(&path);
            let merged = merge_with(input, &cf, "test", options);
            let r = check_text(&path, &merged, &cf);
            assert!(!r.has_gaps(), "{name} {input:?} gave\n{merged}\n{r:#?}");
            assert_eq!(
                merge_with(&merged, &cf, "test", options),
                merged,
                "{input:?}: not idempotent"
            );
            // Every line of the input is kept, in order.
            let mut rest = merged.lines();
            for line in input.trim_start_matches('\u{feff}').lines() {
                assert!(rest.any(|l| l == line), "{input:?}: lost {line:?}");
            }
            assert!(jails_extended(&merged, &cf).is_empty(), "{merged}");
        }
    }

    #[test]
    fn jails_get_their_missing_ranges_after_their_own_entries() {
        let ranges: RangeSet = ["104.16.0.0/13", "2606:4700::/32"]
            .iter()
            .map(|s| s.parse::<IpNet>().unwrap())
            .collect();
        let before = "[DEFAULT]\nignoreip = 127.0.0.1/8\n\n\
                      [sshd]\nignoreip = 10.0.0.0/8 ; lan\n         10.1.0.0/16\nport = 2222\n\n\
                      [postfix]\n  ignoreip=2606:4700::/32\n\n\
                      [nginx-limit-req]\nignoreip = %(known/ignoreip)s 192.0.2.1\n";
        assert_eq!(jails_extended(before, &ranges), ["sshd", "postfix"]);
        let after = merge_with(before, &ranges, "test", MergeOptions::default());
        let marker = "# cf-ban-audit: Cloudflare ranges (test)";
        assert_eq!(
            after,
            format!(
                "[DEFAULT]\nignoreip = 127.0.0.1/8\n{marker}\n           104.16.0.0/13\n           2606:4700::/32\n\n\
                 [sshd]\nignoreip = 10.0.0.0/8 ; lan\n         10.1.0.0/16\n{marker}\n         104.16.0.0/13\n         2606:4700::/32\nport = 2222\n\n\
                 [postfix]\n  ignoreip=2606:4700::/32\n{marker}\n           104.16.0.0/13\n\n\
                 [nginx-limit-req]\nignoreip = %(known/ignoreip)s 192.0.2.1\n"
            )
        );
        // [DEFAULT] only: the jails keep their lists.
        let only = MergeOptions::default().default_only(true);
        let after = merge_with(before, &ranges, "test", only);
        assert!(after.ends_with("[sshd]\nignoreip = 10.0.0.0/8 ; lan\n         10.1.0.0/16\nport = 2222\n\n[postfix]\n  ignoreip=2606:4700::/32\n\n[nginx-limit-req]\nignoreip = %(known/ignoreip)s 192.0.2.1\n"), "{after}");
    }

    #[test]
    fn a_warning_is_written_once_across_lists() {
        let ranges: RangeSet = ["104.16.0.0/13"]
            .iter()
            .map(|s| s.parse::<IpNet>().unwrap())
            .collect();
        let before = "[DEFAULT]\nignoreip = 104.0.0.0/8\n[sshd]\nignoreip = 104.0.0.0/8\n";
        let after = merge_with(before, &ranges, "test", MergeOptions::default());
        assert_eq!(
            after.matches("over-broad entry 104.0.0.0/8").count(),
            1,
            "{after}"
        );
        assert_eq!(
            merge_warnings(before, &ranges, MergeOptions::default()).len(),
            1
        );
        assert_eq!(
            merge_with(&after, &ranges, "test", MergeOptions::default()),
            after
        );
    }

    #[test]
    fn a_fragment_gets_no_default_list() {
        let cf = cloudflare::embedded();
        let fragment = MergeOptions::for_path(Path::new("/etc/fail2ban/jail.d/x.local"));
        assert_eq!(merge_with("", &cf, "t", fragment), "");
        let text = "[sshd]\nenabled = true\n";
        assert_eq!(merge_with(text, &cf, "t", fragment), text);
        // Without jail.d it is a jail.local: [DEFAULT] is added.
        assert!(merge_with(text, &cf, "t", MergeOptions::default()).starts_with("[DEFAULT]\n"));
    }
}
