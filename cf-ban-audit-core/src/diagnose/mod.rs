//! Diagnoses: what the findings and the web servers' evidence, taken together, say about the
//! set-up. Each diagnosis names its subject: a web server (`nginx`, `apache`, `web server`
//! when no file says which), its files where its files disagree, or a fail2ban jail.
//!
//! - `real-ip-not-restored` (per web server, [`real_ip`]): the web server logs or passes on
//!   Cloudflare's address instead of the visitor's, shown by (a) a web-layer tool (WAF, rate
//!   limit, CC protection) that acted on a Cloudflare address; (b) a fail2ban jail on a web
//!   server's log ([`web_jails`]) that banned a Cloudflare edge (unless it banned only
//!   visitors since its last ban of an edge: then its log names visitors since, and the
//!   addresses are restored); (c) an access log whose
//!   clients are mostly Cloudflare edges, with the requests refused to them (prevention: no
//!   ban is needed yet); (d) a real-IP configuration that misses ranges or reads a header
//!   Cloudflare does not set ([`realip_config`]). The fix is the snippet of the web server
//!   found: nginx's realip module, Apache's mod_remoteip, btwaf's CDN mode.
//! - `real-ip-restored`: a tool recorded a Cloudflare TCP peer next to a different client
//!   address, a complete real-IP configuration, or an access log of visitors beside one.
//!   Where one server's files disagree (old log records, a configuration not loaded), the
//!   files that show Cloudflare's address and those that show visitors are two subjects, each
//!   named, so no diagnosis contradicts another on the same subject.
//! - `real-ip-forgeable`: the configuration trusts every address.
//! - `firewall-bans-ineffective` (per fail2ban web jail, [`ineffective`]): visitor addresses
//!   are restored and the jail bans visitors in the host firewall, where their packets never
//!   show (they come from Cloudflare): ban in nginx (`nginx-block-map`) or at the edge
//!   (`cloudflare-token`) instead.

mod ineffective;
mod real_ip;
mod realip_config;
mod web_jails;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use chrono::NaiveDateTime;
use ipnet::IpNet;

use crate::event::{BanEvent, Location, Tool};
use crate::formats::Format;
use crate::formats::Verdict;
use crate::ranges::RangeSet;
use crate::report::{Diagnosis, DiagnosisKind, Finding};
use crate::web_evidence::{AccessLogs, RealIpConfig, WebServer};
pub(crate) use real_ip::CONFIG_COMPLETE;
pub(crate) use web_jails::JailFacts;

/// How many example addresses of one jail's visitor bans are kept.
const MAX_VISITOR_EXAMPLES: usize = 4;

/// A fail2ban jail's bans of addresses outside Cloudflare's ranges (visitors).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitorBans {
    /// Ban events read (any source).
    pub events: u64,
    /// The first addresses, sorted.
    pub examples: BTreeSet<String>,
    /// The earliest ban time read.
    pub first: Option<NaiveDateTime>,
}

impl VisitorBans {
    /// Counts a ban of `net` at `time`.
    fn add(&mut self, net: &IpNet, time: Option<NaiveDateTime>) {
        self.events += 1;
        self.first = earliest(self.first, time);
        if self.examples.len() < MAX_VISITOR_EXAMPLES {
            self.examples.insert(crate::addr::display_net(net));
        }
    }
}

/// The earlier of two times, either of which may be unknown.
fn earliest(a: Option<NaiveDateTime>, b: Option<NaiveDateTime>) -> Option<NaiveDateTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// How many examples a diagnosis quotes.
const MAX_EXAMPLES: usize = 8;

/// What the events showed beyond the findings, kept small whatever the input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Evidence {
    /// Events with a Cloudflare peer and a non-Cloudflare client: how many, and a few.
    pub restored: u64,
    /// Examples of those: (where, peer, client).
    pub restored_examples: Vec<(Location, IpAddr, String)>,
    /// What rules do with each named set.
    pub set_uses: BTreeMap<String, BTreeSet<Verdict>>,
    /// The lists of sets (ipset `list:set`) that hold each named set.
    pub set_lists: BTreeMap<String, BTreeSet<String>>,
    /// The clients of each web server access log read.
    pub access: AccessLogs,
    /// The real-IP configurations of web servers read.
    pub realip: Vec<RealIpConfig>,
    /// fail2ban's bans of visitor (non-Cloudflare) addresses, per jail.
    pub visitor_bans: BTreeMap<String, VisitorBans>,
}

impl Evidence {
    /// Looks at one event before it is filtered by the ranges.
    pub fn observe(&mut self, ev: &BanEvent, ranges: &RangeSet) {
        if ev.action.is_ban() && ev.tool == Tool::Fail2ban && !ranges.overlaps(&ev.net) {
            self.visitor_ban(&ev.scope, &ev.net, ev.time);
        }
        if let Some(peer) = ev.peer {
            if ranges.contains(peer) && !ranges.overlaps(&ev.net) {
                self.restored += 1;
                if self.restored_examples.len() < MAX_EXAMPLES {
                    self.restored_examples.push((
                        ev.location.clone(),
                        peer,
                        crate::addr::display_net(&ev.net),
                    ));
                }
            }
        }
    }

    /// Counts a ban of a visitor (non-Cloudflare) address `net` by the fail2ban jail `jail`
    /// at `time` (what [`Evidence::observe`] counts of such a ban).
    pub fn visitor_ban(&mut self, jail: &str, net: &IpNet, time: Option<NaiveDateTime>) {
        // Looked up before it is inserted: a jail's name is copied once, not per ban.
        let bans = match self.visitor_bans.get_mut(jail) {
            Some(bans) => bans,
            None => self.visitor_bans.entry(jail.to_string()).or_default(),
        };
        bans.add(net, time);
    }

    /// Adds what another collector saw.
    pub fn merge(&mut self, other: Evidence) {
        self.restored += other.restored;
        self.restored_examples.extend(other.restored_examples);
        self.restored_examples.sort();
        self.restored_examples.truncate(MAX_EXAMPLES);
        for (set, verdicts) in other.set_uses {
            self.set_uses.entry(set).or_default().extend(verdicts);
        }
        for (set, lists) in other.set_lists {
            self.set_lists.entry(set).or_default().extend(lists);
        }
        self.access.merge(other.access);
        self.realip.extend(other.realip);
        self.realip.sort();
        self.realip.dedup();
        for (jail, bans) in other.visitor_bans {
            let mine = self.visitor_bans.entry(jail).or_default();
            mine.events += bans.events;
            mine.first = earliest(mine.first, bans.first);
            mine.examples.extend(bans.examples);
            while mine.examples.len() > MAX_VISITOR_EXAMPLES {
                mine.examples.pop_last();
            }
        }
    }

    /// Adds `by` to the line numbers recorded for `path` (see [`crate::audit::Aggregator::shift_lines`]).
    pub fn shift_lines(&mut self, path: &std::path::Path, by: u64) {
        for (loc, _, _) in &mut self.restored_examples {
            if *loc.path == *path {
                loc.line += by;
            }
        }
        self.access.shift_lines(path, by);
        for cfg in &mut self.realip {
            if *cfg.location.path == *path {
                cfg.location.line += by;
            }
        }
    }

    /// Records that a rule uses a set with a verdict.
    pub fn set_use(&mut self, set: &str, verdict: Verdict) {
        self.set_uses
            .entry(set.to_string())
            .or_default()
            .insert(verdict);
    }

    /// Records that a list of sets (an ipset `list:set`) holds a set: the rules on the list
    /// apply to the set's members.
    pub fn set_member(&mut self, list: &str, member: &str) {
        if list != member {
            self.set_lists
                .entry(member.to_string())
                .or_default()
                .insert(list.to_string());
        }
    }

    /// Whether a set bans: a rule drops or rejects on it or on a list of sets that holds it;
    /// or, when no rule accepts on either and `by_name` allows it, its name says so.
    pub fn set_bans(&self, set: &str, by_name: bool) -> bool {
        let lists = self.set_lists.get(set).into_iter().flatten();
        let mut verdicts: BTreeSet<Verdict> = BTreeSet::new();
        for name in std::iter::once(set).chain(lists.map(String::as_str)) {
            verdicts.extend(self.set_uses.get(name).into_iter().flatten());
        }
        if verdicts.contains(&Verdict::Drop) {
            true
        } else if verdicts.contains(&Verdict::Accept) {
            false
        } else {
            by_name && crate::purpose::purpose_from_name(set) == crate::purpose::Purpose::Ban
        }
    }
}

/// The web servers' configuration files among the files read: (server, path).
pub(crate) fn web_config_files(files: &[crate::report::FileStats]) -> Vec<(WebServer, String)> {
    files
        .iter()
        .filter_map(|f| match f.format {
            Format::NginxConf => Some((WebServer::Nginx, f.path.clone())),
            Format::ApacheConf => Some((WebServer::Apache, f.path.clone())),
            _ => None,
        })
        .collect()
}

/// The diagnoses for a scan's findings and evidence, with fail2ban's jails as its
/// configuration (if read) describes them.
/// `web_configs` are the web servers' configuration files read (see [`web_config_files`]):
/// where a server's files hold no real-IP directive, its `real-ip-not-restored` says so.
pub(crate) fn diagnose(
    findings: &[Finding],
    evidence: &Evidence,
    jails: &[JailFacts],
    web_configs: &[(WebServer, String)],
    ranges: &RangeSet,
) -> Vec<Diagnosis> {
    let configs = realip_config::check_all(&evidence.realip, ranges);
    let real = real_ip::diagnose(findings, evidence, jails, &configs, web_configs, ranges);
    let mut out = real.diagnoses;
    for c in &configs {
        if let Some(why) = &c.forgeable {
            out.push(Diagnosis::new(
                DiagnosisKind::RealIpForgeable,
                c.server.name(),
                vec![format!("{} ({}): {why}", c.server.name(), c.files())],
                "Trust only Cloudflare's ranges (and your own proxies), and take the address \
                 from CF-Connecting-IP: `cf-ban-audit snippet nginx-realip` / \
                 `apache-remoteip` print the lines.",
            ));
        }
    }
    out.extend(ineffective::diagnose(
        &evidence.visitor_bans,
        jails,
        &real.restored,
    ));
    out
}

#[cfg(test)]
mod tests;

/// Worked examples of this module's functions.
#[cfg(test)]
mod examples {
    #[test]
    fn diagnose() {
        use crate::diagnose::{diagnose, Evidence};
        let cf = crate::cloudflare::embedded();
        assert!(diagnose(&[], &Evidence::default(), &[], &[], &cf).is_empty());
    }
}
