//! `check` of the hosting panels' allow lists whose line format no source documents:
//! DirectAdmin's `ip_whitelist` (`/usr/local/directadmin/data/admin/ip_whitelist`, whose
//! addresses "never become blocked" by the Brute Force Monitor: DirectAdmin documentation,
//! "Securing DirectAdmin") and Plesk's `plesk bin ip_ban --trusted` output (docs.plesk.com,
//! "ip_ban"); `../shared/FORMATS.md` §6 A2 and A5. Both are read strictly, one address or
//! CIDR a line, so that a line of another shape covers nothing and is named as a problem
//! rather than counted as covering on a guess. That DirectAdmin and Plesk match a CIDR range
//! in these lists is not verified either; `snippet directadmin` and `snippet plesk` write
//! the same one-CIDR-a-line entries, so `check` of what they add says OK.

use ipnet::IpNet;

use crate::addr::parse_net;

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

    use crate::check::{check_text, ListKind};
    use crate::cloudflare;

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
