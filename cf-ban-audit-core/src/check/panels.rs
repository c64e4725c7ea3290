//! The hosting panels' allow lists that `check` reads as plain entries: cPHulk's white list
//! (`whmapi1 --output=json read_cphulk_records list_name=white`), Hestia's `excludes.conf`,
//! and the lists whose line format no source documents: DirectAdmin's `ip_whitelist`
//! (`/usr/local/directadmin/data/admin/ip_whitelist`, whose addresses "never become blocked"
//! by the Brute Force Monitor: DirectAdmin documentation, "Securing DirectAdmin") and Plesk's
//! `plesk bin ip_ban --trusted` output (docs.plesk.com, "ip_ban"); `../shared/FORMATS.md` §6
//! A2 and A5. Those two are read strictly, one address or CIDR a line, so that a line of
//! another shape covers nothing and is named as a problem rather than counted as covering on
//! a guess. That DirectAdmin and Plesk match a CIDR range in these lists is not verified
//! either; `snippet directadmin` and `snippet plesk` write the same one-CIDR-a-line entries,
//! so `check` of what they add says OK.

use ipnet::IpNet;

use crate::addr::parse_net;
use crate::ranges::RangeSet;

/// The lines of Hestia's `excludes.conf`: an IPv4 address or CIDR a line (`ipv4_cidr`), each
/// matched exactly; any other line covers nothing.
pub(super) fn hestia_excludes(text: &str, problems: &mut Vec<String>) -> Vec<IpNet> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        match parse_net(line.as_bytes()).filter(|net| net.addr().is_ipv4()) {
            // grep "^$ip$" compares text, and fail2ban passes a bare address: an address
            // line is matched as written, a CIDR line (never /32) as its network.
            Some(net)
                if net.addr().to_string() == line
                    || (net.prefix_len() < 32 && net.to_string() == line) =>
            {
                out.push(net)
            }
            _ => problems.push(format!(
                "line {} {line:?} covers nothing: excludes.conf is matched exactly against an \
                 IPv4 address or CIDR as v-add-firewall-ban writes it",
                n + 1
            )),
        }
    }
    out
}

/// What `check` says of an `excludes.conf` whatever it lists: it is matched exactly, so its
/// CIDR lines protect none of their addresses, which it names.
pub(super) fn hestia_excludes_notes(nets: &[IpNet], ranges: &RangeSet) -> Vec<String> {
    let mut notes = Vec::new();
    let listed: Vec<String> = nets
        .iter()
        .filter(|n| n.prefix_len() < n.max_prefix_len() && ranges.overlaps(n))
        .map(IpNet::to_string)
        .collect();
    notes.push(
        "excludes.conf is matched exactly (v-add-firewall-ban: grep \"^$ip$\"): a CIDR line \
         keeps away only a ban of that same CIDR, not of its addresses, which fail2ban bans \
         one by one, so a range listed there still counts as missing; keep Cloudflare out of \
         fail2ban's bans with its ignoreip (cf-ban-audit snippet fail2ban)"
            .to_string(),
    );
    if !listed.is_empty() {
        notes.push(format!(
            "listed as CIDRs (no protection for their addresses): {}",
            listed.join(" ")
        ));
    }
    notes
}

/// The entries of cPHulk's white list (the keys of `data.ips_in_list`: addresses, CIDRs,
/// ranges `a-b`); a black list, or a response that names no list, covers nothing.
pub(super) fn cphulk_white_entries(text: &str, problems: &mut Vec<String>) -> Vec<IpNet> {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            problems.push(format!("not a read_cphulk_records JSON response: {e}"));
            return Vec::new();
        }
    };
    match value.pointer("/data/list_name").and_then(|v| v.as_str()) {
        Some("white") => {}
        other => {
            problems.push(format!(
                "cPHulk's {} list, not its white list (whmapi1 --output=json read_cphulk_records list_name=white): it allows nothing",
                other.unwrap_or("unnamed")
            ));
            return Vec::new();
        }
    }
    let Some(list) = value
        .pointer("/data/ips_in_list")
        .and_then(|v| v.as_object())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in list.keys() {
        match crate::formats::grammar::entry::parse_entry(key.trim().as_bytes()) {
            Some(nets) => out.extend(nets),
            None => problems.push(format!(
                "{key:?} covers nothing: not an address, CIDR or range a-b"
            )),
        }
    }
    out
}

/// The entries of a list read strictly, one address or CIDR a line (blank lines and `#`
/// lines aside): any other line covers nothing, a problem that says so with `rule`.
pub(super) fn strict_entries(text: &str, rule: &str, problems: &mut Vec<String>) -> Vec<IpNet> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_net(line.as_bytes()) {
            Some(net) => out.push(net),
            None => problems.push(format!("{line:?} covers nothing: {rule}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::check::{check_text, ListKind};
    use crate::cloudflare;

    /// Lines as `grep "^$ip$"` meets them: an address, a network as written; a `/32`, a
    /// host part in a CIDR, a comment or IPv6 keep nothing away.
    #[test]
    fn excludes_lines_are_matched_as_written() {
        let mut problems = Vec::new();
        let text = "104.16.0.1\n104.16.0.0/13\n104.16.0.2/32\n104.16.0.3/13\n104.16.0.4 # x\n2606:4700::1\n";
        let nets = hestia_excludes(text, &mut problems);
        let got: Vec<String> = nets.iter().map(IpNet::to_string).collect();
        assert_eq!(got, ["104.16.0.1/32", "104.16.0.0/13"]);
        let lines: Vec<&str> = problems.iter().map(|p| &p[..7]).collect();
        assert_eq!(lines, ["line 3 ", "line 4 ", "line 5 ", "line 6 "]);
    }

    /// Told by its place, or by its name with an address on every line.
    #[test]
    fn excludes_are_told_by_place_or_by_name_and_content() {
        use crate::check::detect_kind;
        let kind = |p: &str, t: &str| detect_kind(Path::new(p), t);
        assert_eq!(
            kind("/usr/local/hestia/data/firewall/excludes.conf", "x # y\n"),
            ListKind::HestiaExcludes
        );
        assert_eq!(
            kind("/tmp/excludes.conf", "104.16.0.1\n"),
            ListKind::HestiaExcludes
        );
        assert_ne!(
            kind("/tmp/excludes.conf", "path /var\n"),
            ListKind::HestiaExcludes
        );
        assert_ne!(kind("/tmp/excludes.conf", ""), ListKind::HestiaExcludes);
    }

    /// DirectAdmin's `ip_whitelist` after the `snippet directadmin` script appended to it:
    /// every range is covered; one missing is named; a line of another shape covers nothing.
    #[test]
    fn directadmin_ip_whitelist_from_the_snippet_covers_every_range() {
        let cf = cloudflare::embedded();
        let snippet = crate::snippet::directadmin::generate(&cf);
        let added: Vec<&str> = snippet
            .lines()
            .filter_map(|l| l.strip_prefix("add "))
            .collect();
        assert_eq!(added.len(), cf.nets().len());
        let path = Path::new("/usr/local/directadmin/data/admin/ip_whitelist");
        let text = format!("198.51.100.7\n{}\n", added.join("\n"));
        let r = check_text(path, &text, &cf);
        assert_eq!(r.kind, ListKind::Directadmin);
        assert!(!r.has_gaps(), "{r:?}");
        let short = format!("198.51.100.7\n{}\n", added[1..].join("\n"));
        let short = check_text(path, &short, &cf);
        assert_eq!(short.missing, [added[0].to_string()]);
        let odd = format!("{text}{}=\n104.16.0.0/13 Cloudflare\n", added[0]);
        let odd = check_text(path, &odd, &cf);
        assert_eq!(odd.problems.len(), 2, "{odd:?}");
        assert!(odd.problems[1].starts_with("\"104.16.0.0/13 Cloudflare\" covers nothing"));
    }

    /// Plesk's trusted list, as `plesk bin ip_ban --trusted` would print the ranges `snippet
    /// plesk` adds: every range is covered; without them, all are missing; a line of another
    /// shape covers nothing.
    #[test]
    fn plesk_trusted_list_from_the_snippet_covers_every_range() {
        let cf = cloudflare::embedded();
        let snippet = crate::snippet::plesk::generate(&cf);
        let added: Vec<&str> = snippet
            .lines()
            .filter_map(|l| l.strip_prefix("plesk bin ip_ban --add-trusted "))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert_eq!(added.len(), cf.nets().len());
        let path = Path::new("plesk-trusted.txt");
        let r = check_text(path, &format!("127.0.0.1\n{}\n", added.join("\n")), &cf);
        assert_eq!(r.kind, ListKind::PleskTrusted);
        assert!(!r.has_gaps(), "{r:?}");
        let bare = check_text(Path::new("ip_ban-trusted"), "127.0.0.1\n", &cf);
        assert_eq!(bare.kind, ListKind::PleskTrusted);
        assert_eq!(bare.missing.len(), cf.nets().len());
        let odd = check_text(path, "104.16.0.0/13 plesk-apache\n", &cf);
        assert_eq!(odd.entries, 0);
        assert!(odd.problems[0].contains("Plesk's trusted list"), "{odd:?}");
        assert_eq!(
            crate::check::detect_kind(Path::new("trusted.txt"), "104.16.0.0/13\n"),
            ListKind::Plain
        );
    }
}
