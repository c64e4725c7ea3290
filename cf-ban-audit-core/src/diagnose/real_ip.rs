//! Whether each web server restores visitor addresses, from every evidence that shows it, as
//! one diagnosis per web server, or one per file where its files disagree.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use super::realip_config::ConfigCheck;
use super::web_jails::JailFacts;
use super::{Evidence, MAX_EXAMPLES};
use crate::event::{Location, Tool};
use crate::formats::Format;
use crate::ranges::RangeSet;
use crate::report::{Diagnosis, DiagnosisKind, Finding};
use crate::snippet;
use crate::web_evidence::{AccessStats, WebServer};

/// One piece of evidence: the file that shows it and what it shows.
#[derive(Debug, Clone)]
struct Seen<'a> {
    file: Cow<'a, Path>,
    said: Said<'a>,
}

/// What a piece of evidence shows. Evidence that comes one per finding is put in words only
/// when it is among the [`MAX_EXAMPLES`] shown: a scan of many findings would otherwise make
/// a sentence for each.
#[derive(Debug, Clone)]
enum Said<'a> {
    /// A web-layer tool acted on a Cloudflare address.
    Acted(&'a Finding),
    /// A fail2ban jail on a web server's log banned a Cloudflare edge.
    JailBanned(&'a JailFacts, &'a Finding),
    /// A record with a Cloudflare peer beside a visitor client.
    Peer(&'a Location, &'a IpAddr, &'a str),
    /// Anything else, in words.
    Text(String),
}

impl Said<'_> {
    /// The evidence in words.
    fn text(&self) -> String {
        match self {
            Said::Acted(f) => format!(
                "{} {} acted on Cloudflare address {} ({}){}",
                f.tool,
                f.scope,
                f.address_text(),
                f.range,
                place(f)
            ),
            Said::JailBanned(jail, f) => format!(
                "fail2ban jail {}{} banned Cloudflare edge {} ({}){}: the log it reads names the \
                 edge, not the visitor",
                jail.name,
                jail_reads(jail),
                f.address_text(),
                f.range,
                place(f)
            ),
            Said::Peer(loc, peer, client) => {
                format!("{loc}: Cloudflare peer {peer}, client {client}")
            }
            Said::Text(text) => text.clone(),
        }
    }
}

/// Which log a web jail reads, as ` (logpath FILES)`.
fn jail_reads(jail: &JailFacts) -> String {
    match &jail.logpath {
        Some(p) => format!(
            " (logpath {})",
            p.split_whitespace().collect::<Vec<_>>().join(" ")
        ),
        None => " (a web jail by its name)".into(),
    }
}

/// How a `real-ip-restored` diagnosis says a server's real-IP configuration is complete
/// (after `SERVER real-IP configuration (FILES) `): `fix` writes none beside it.
pub(crate) const CONFIG_COMPLETE: &str =
    "trusts every Cloudflare range with a header Cloudflare sets";

/// What the evidence of one web server says.
#[derive(Debug, Default)]
struct ServerEvidence<'a> {
    /// Shows the web server logs (or passes on) Cloudflare's address.
    not_restored: Vec<Seen<'a>>,
    /// Shows visitor addresses are restored.
    restored: Vec<Seen<'a>>,
    /// A btwaf record is among the evidence (its CDN mode is part of the fix).
    btwaf: bool,
}

/// What the real-IP diagnoses found, per web server.
pub(super) struct RealIp {
    /// The diagnoses, in order.
    pub(super) diagnoses: Vec<Diagnosis>,
    /// The web servers with evidence of restored addresses.
    pub(super) restored: Vec<WebServer>,
}

/// The web server a finding's record comes from.
fn finding_server(f: &Finding) -> WebServer {
    if matches!(f.format, Format::NginxError)
        || matches!(f.tool, Tool::NginxLimit | Tool::NginxDeny | Tool::Btwaf)
    {
        WebServer::Nginx
    } else if matches!(f.format, Format::ApacheError) || f.tool == Tool::ModEvasive {
        WebServer::Apache
    } else {
        f.locations
            .last()
            .map(|l| WebServer::from_path(&l.path))
            .unwrap_or(WebServer::Unknown)
    }
}

/// A finding's last place, as ` at FILE:LINE`.
fn place(f: &Finding) -> String {
    f.locations
        .last()
        .map(|l| format!(" at {l}"))
        .unwrap_or_default()
}

/// The records of an access log, in a sentence.
fn access_text(path: &std::path::Path, stats: &AccessStats, not: bool) -> String {
    let mut s = format!(
        "{}: {} of {} clients are Cloudflare edges",
        path.display(),
        stats.cloudflare,
        stats.records
    );
    if let Some((line, ip, status)) = stats.examples.first() {
        s.push_str(&format!(" (line {line}: {ip}, status {status})"));
    }
    if !not {
        s.push_str(": its clients are visitors");
        return s;
    }
    let refused: u64 = stats.refused.values().sum();
    if refused > 0 {
        let by: Vec<String> = stats
            .refused
            .iter()
            .map(|(st, n)| format!("{n}x {st}"))
            .collect();
        s.push_str(&format!(
            "; {refused} of their requests were refused ({}): every visitor behind those \
             edges was",
            by.join(", ")
        ));
    }
    s.push_str(
        ". Prevention: no ban is needed for this to hurt; a rate limit, WAF or fail2ban jail on \
         this log will ban Cloudflare",
    );
    s
}

/// Gathers the evidence per web server and turns it into diagnoses.
pub(super) fn diagnose(
    findings: &[Finding],
    evidence: &Evidence,
    jails: &[JailFacts],
    configs: &[ConfigCheck],
    web_configs: &[(WebServer, String)],
    ranges: &RangeSet,
) -> RealIp {
    // The web jails that banned Cloudflare edges, with those bans (see (b)).
    let mut web_jails: BTreeMap<String, (JailFacts, Vec<&Finding>)> = BTreeMap::new();
    let mut by: BTreeMap<WebServer, ServerEvidence> = BTreeMap::new();
    // (a) a web-layer tool acted on a Cloudflare address.
    for f in findings.iter().filter(|f| {
        // A rule file's ban is a choice, not evidence of what the tool saw.
        (f.tool.is_web_layer() && f.format != Format::ModsecRules)
            || (f.tool == Tool::NginxDeny && f.format == Format::NginxError)
            || (f.tool == Tool::ApacheDeny && f.format == Format::ApacheError)
    }) {
        let e = by.entry(finding_server(f)).or_default();
        e.btwaf |= f.tool == Tool::Btwaf;
        e.not_restored.push(Seen {
            file: f
                .locations
                .last()
                .map_or(Cow::Borrowed(Path::new("")), |l| Cow::Borrowed(&*l.path)),
            said: Said::Acted(f),
        });
    }
    // (b) a fail2ban jail on a web server's log banned a Cloudflare edge; unless the same
    // jail banned only visitors since its last ban of an edge: then the log names visitors
    // since (realip was set up in between).
    for f in findings.iter().filter(|f| f.tool == Tool::Fail2ban) {
        let jail = jails
            .iter()
            .find(|j| j.name == f.scope)
            .cloned()
            .unwrap_or_else(|| JailFacts::named(&f.scope));
        if jail.is_web() {
            web_jails
                .entry(f.scope.clone())
                .or_insert_with(|| (jail, Vec::new()))
                .1
                .push(f);
        }
    }
    for (jail, edges) in web_jails.values() {
        let file: Cow<Path> = jail
            .logpath
            .as_deref()
            .and_then(|p| p.split_whitespace().next())
            .map(Path::new)
            .or_else(|| {
                edges
                    .first()
                    .and_then(|f| f.locations.last())
                    .map(|l| &*l.path)
            })
            .map_or(Cow::Borrowed(Path::new("")), Cow::Borrowed);
        let e = by.entry(jail.server()).or_default();
        let last_edge = edges.iter().filter_map(|f| f.last_seen).max();
        let visitors = evidence.visitor_bans.get(&jail.name);
        let since = visitors.and_then(|v| v.first);
        if let (Some(edge), Some(since), Some(v)) = (last_edge, since, visitors) {
            if since > edge {
                let names: Vec<String> = edges.iter().map(|f| f.address_text()).collect();
                let examples: Vec<&str> = v.examples.iter().map(String::as_str).collect();
                e.restored.push(Seen {
                    file,
                    said: Said::Text(format!(
                        "fail2ban jail {}{reads} banned Cloudflare edges ({}) until {edge}, and \
                         only visitors ({}) since {since}: the log it reads names visitors since \
                         then",
                        jail.name,
                        names.join(", "),
                        examples.join(", "),
                        reads = jail_reads(jail),
                        edge = crate::rfc3339_seconds(&edge),
                        since = crate::rfc3339_seconds(&since),
                    )),
                });
                continue;
            }
        }
        for f in edges {
            e.not_restored.push(Seen {
                file: file.clone(),
                said: Said::JailBanned(jail, f),
            });
        }
    }
    // (c) access logs.
    let complete = |s: WebServer| configs.iter().any(|c| c.server == s && c.complete());
    for (path, stats) in &evidence.access.logs {
        if stats.mostly_cloudflare() {
            by.entry(stats.server).or_default().not_restored.push(Seen {
                file: Cow::Borrowed(path),
                said: Said::Text(access_text(path, stats, true)),
            });
        } else if stats.records > 0 && complete(stats.server) {
            by.entry(stats.server).or_default().restored.push(Seen {
                file: Cow::Borrowed(path),
                said: Said::Text(access_text(path, stats, false)),
            });
        }
    }
    // (d) the configuration.
    for c in configs {
        let file = c
            .places
            .first()
            .map_or(Cow::Borrowed(Path::new("")), |l| Cow::Borrowed(&*l.path));
        let e = by.entry(c.server).or_default();
        if !c.problems.is_empty() {
            for p in &c.problems {
                e.not_restored.push(Seen {
                    file: file.clone(),
                    said: Said::Text(format!(
                        "{} real-IP configuration ({}): {p}",
                        c.server.name(),
                        c.files()
                    )),
                });
            }
        } else if c.complete() {
            e.restored.push(Seen {
                file,
                said: Said::Text(format!(
                    "{} real-IP configuration ({}) {CONFIG_COMPLETE}",
                    c.server.name(),
                    c.files()
                )),
            });
        }
    }
    // Records with a Cloudflare peer beside a visitor client.
    for (loc, peer, client) in &evidence.restored_examples {
        by.entry(WebServer::from_path(&loc.path))
            .or_default()
            .restored
            .push(Seen {
                file: Cow::Borrowed(&*loc.path),
                said: Said::Peer(loc, peer, client),
            });
    }
    // Evidence of no known server goes to the one known server, when there is one.
    let known: Vec<WebServer> = by
        .keys()
        .copied()
        .filter(|s| *s != WebServer::Unknown)
        .collect();
    if let [one] = known.as_slice() {
        let unknown = by.remove(&WebServer::Unknown).unwrap_or_default();
        let e = by.entry(*one).or_default();
        e.not_restored.extend(unknown.not_restored);
        e.restored.extend(unknown.restored);
        e.btwaf |= unknown.btwaf;
    }
    let mut out = RealIp {
        diagnoses: Vec::new(),
        restored: Vec::new(),
    };
    for (server, mut e) in by {
        // A configuration read without a real-IP directive: said beside the other evidence
        // that addresses are not restored (never on its own: an origin not behind Cloudflare
        // needs none).
        let silent: Vec<&str> = web_configs
            .iter()
            .filter(|(s, _)| *s == server)
            .map(|(_, p)| p.as_str())
            .collect();
        if !e.not_restored.is_empty()
            && e.restored.is_empty()
            && !silent.is_empty()
            && !configs.iter().any(|c| c.server == server)
        {
            let mut list: Vec<&str> = silent.iter().take(MAX_EXAMPLES).copied().collect();
            list.dedup();
            e.not_restored.push(Seen {
                file: Cow::Borrowed(Path::new(silent[0])),
                said: Said::Text(format!(
                    "no real-IP directive in the {} configuration read ({} files: {})",
                    server.name(),
                    silent.len(),
                    list.join(", ")
                )),
            });
        }
        if !e.restored.is_empty() {
            out.restored.push(server);
        }
        let fix = not_restored_fix(server, e.btwaf, complete(server), ranges);
        let restored_fix = "Nothing to fix in the web server: it restores visitor addresses.";
        match (e.not_restored.is_empty(), e.restored.is_empty()) {
            (true, true) => {}
            (false, true) => out.diagnoses.push(Diagnosis::new(
                DiagnosisKind::RealIpNotRestored,
                server.name(),
                lines(&e.not_restored, evidence.restored),
                fix,
            )),
            (true, false) => out.diagnoses.push(Diagnosis::new(
                DiagnosisKind::RealIpRestored,
                server.name(),
                lines(&e.restored, evidence.restored),
                restored_fix,
            )),
            (false, false) => {
                // The files disagree: the files that show Cloudflare's address are one
                // subject, those that show visitors another, each diagnosis naming its files
                // (a file that shows both counts with the first).
                let mut not_files: Vec<&Path> = e.not_restored.iter().map(|s| &*s.file).collect();
                not_files.sort();
                not_files.dedup();
                let yes: Vec<Seen> = e
                    .restored
                    .iter()
                    .filter(|s| !not_files.contains(&&*s.file))
                    .cloned()
                    .collect();
                let mut yes_files: Vec<&Path> = yes.iter().map(|s| &*s.file).collect();
                yes_files.sort();
                yes_files.dedup();
                out.diagnoses.push(Diagnosis::new(
                    DiagnosisKind::RealIpNotRestored,
                    files_subject(server, &not_files),
                    lines(&e.not_restored, 0),
                    &*fix,
                ));
                if !yes.is_empty() {
                    out.diagnoses.push(Diagnosis::new(
                        DiagnosisKind::RealIpRestored,
                        files_subject(server, &yes_files),
                        lines(&yes, evidence.restored),
                        restored_fix,
                    ));
                }
            }
        }
    }
    out
}

/// How many files a subject names before `and N more files`.
const SUBJECT_FILES: usize = 3;

/// `nginx: FILE, FILE and 4 more files`.
fn files_subject(server: WebServer, files: &[&Path]) -> String {
    let mut names: Vec<String> = files
        .iter()
        .take(SUBJECT_FILES)
        .map(|f| f.display().to_string())
        .collect();
    if files.len() > SUBJECT_FILES {
        names.push(format!("and {} more files", files.len() - SUBJECT_FILES));
    }
    format!("{}: {}", server.name(), names.join(", "))
}

/// The evidence lines, at most [`MAX_EXAMPLES`], and how many records there are in all.
fn lines(seen: &[Seen], restored_records: u64) -> Vec<String> {
    let mut lines: Vec<String> = seen
        .iter()
        .take(MAX_EXAMPLES)
        .map(|s| s.said.text())
        .collect();
    if seen.len() > MAX_EXAMPLES {
        lines.push(format!("... and {} more", seen.len() - MAX_EXAMPLES));
    }
    if restored_records > seen.len() as u64 && seen.iter().any(|s| matches!(s.said, Said::Peer(..)))
    {
        lines.push(format!(
            "{restored_records} records with a Cloudflare peer and a visitor client in all"
        ));
    }
    lines
}

/// The fix for a web server that does not restore visitor addresses: the snippet of that
/// server (both when it is not known), btwaf's CDN mode when btwaf is involved.
fn not_restored_fix(server: WebServer, btwaf: bool, configured: bool, ranges: &RangeSet) -> String {
    let mut fix = String::from(
        "The web server passes Cloudflare's address to its logs and modules instead of the \
         visitor's, so every tool reading them bans Cloudflare. Restore the visitor address \
         from CF-Connecting-IP, trusting only Cloudflare's ranges:\n",
    );
    if configured {
        fix.push_str(
            "\n# A configuration that restores addresses was read: if it was added after these \
             records, they are old; otherwise make sure it is loaded (nginx -T, apachectl -S) \
             and reload the web server.\n",
        );
    }
    if matches!(server, WebServer::Nginx | WebServer::Unknown) {
        fix.push_str("\n# nginx (http {} block):\n");
        fix.push_str(&snippet::nginx::realip(ranges));
    }
    if matches!(server, WebServer::Apache | WebServer::Unknown) {
        fix.push_str("\n# Apache (server config; a2enmod remoteip):\n");
        fix.push_str(&snippet::apache::remoteip(ranges));
    }
    if btwaf {
        fix.push_str(
            "\n# btwaf: turn on CDN mode for the site (panel: Nginx firewall > site > CDN), \
             i.e. /www/server/btwaf/site.json \"cdn\": true with \"cdn_header\": \
             [\"cf-connecting-ip\", \"x-forwarded-for\"].\n",
        );
    }
    fix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_lines_shown_are_put_in_words_and_peers_are_counted_in_all() {
        let loc = Location::new(Path::new("/var/log/apache2/modsec_audit.log"), 7);
        let peer: IpAddr = "104.16.0.1".parse().unwrap();
        let seen = |said| Seen {
            file: Cow::Borrowed(Path::new("/var/log/apache2/modsec_audit.log")),
            said,
        };
        let mut all: Vec<Seen> = (0..MAX_EXAMPLES + 2)
            .map(|i| seen(Said::Text(format!("record {i}"))))
            .collect();
        let shown = lines(&all, 40);
        assert_eq!(shown.len(), MAX_EXAMPLES + 1);
        assert_eq!(shown[MAX_EXAMPLES], "... and 2 more");
        // No record with a Cloudflare peer among them: no count of such records.
        assert!(shown.iter().all(|l| !l.contains("in all")));

        all.insert(0, seen(Said::Peer(&loc, &peer, "198.51.100.7")));
        let shown = lines(&all, 40);
        assert_eq!(
            shown[0],
            "/var/log/apache2/modsec_audit.log:7: Cloudflare peer 104.16.0.1, client 198.51.100.7"
        );
        assert_eq!(
            shown.last().unwrap(),
            "40 records with a Cloudflare peer and a visitor client in all"
        );
    }
}
