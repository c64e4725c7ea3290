//! Diagnoses: what the findings, taken together, say about the set-up.
//!
//! - `real-ip-not-restored`: a web-layer tool (WAF, rate limit, CC protection) acted on a
//!   Cloudflare address. Such tools only ever see Cloudflare when the web server does not put
//!   the visitor's address (`CF-Connecting-IP`) back in place; the fix is nginx's realip module
//!   or Apache's mod_remoteip (and btwaf's CDN mode), not an ignore list alone.
//! - `real-ip-restored`: a tool recorded a Cloudflare TCP peer next to a different client
//!   address: visitor addresses are restored.
//! - `firewall-bans-ineffective`: visitor addresses are restored, and a ban tool that usually
//!   bans in the host firewall is at work. Behind Cloudflare a visitor's packets come from
//!   Cloudflare, so a firewall ban of the visitor's address never matches (fail2ban#3620):
//!   ban at the edge or in the web server instead.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::event::{BanEvent, Location, Tool};
use crate::formats::{Format, Verdict};
use crate::ranges::RangeSet;
use crate::report::{Diagnosis, DiagnosisKind, Finding};
use crate::snippet;
use crate::web_evidence::{AccessLogs, RealIpConfig};

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
    /// Ban events per tool, of any address.
    pub bans_by_tool: BTreeMap<Tool, u64>,
    /// What rules do with each named set.
    pub set_uses: BTreeMap<String, BTreeSet<Verdict>>,
    /// The lists of sets (ipset `list:set`) that hold each named set.
    pub set_lists: BTreeMap<String, BTreeSet<String>>,
    /// The clients of each web server access log read.
    pub access: AccessLogs,
    /// The real-IP configurations of web servers read.
    pub realip: Vec<RealIpConfig>,
}

impl Evidence {
    /// Looks at one event before it is filtered by the ranges.
    pub fn observe(&mut self, ev: &BanEvent, ranges: &RangeSet) {
        if ev.action.is_ban() {
            *self.bans_by_tool.entry(ev.tool).or_default() += 1;
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

    /// Adds what another collector saw.
    pub fn merge(&mut self, other: Evidence) {
        self.restored += other.restored;
        self.restored_examples.extend(other.restored_examples);
        self.restored_examples.sort();
        self.restored_examples.truncate(MAX_EXAMPLES);
        for (tool, n) in other.bans_by_tool {
            *self.bans_by_tool.entry(tool).or_default() += n;
        }
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

/// Tools that usually ban in the host firewall.
fn bans_in_firewall(tool: Tool) -> bool {
    matches!(
        tool,
        Tool::Fail2ban
            | Tool::Csf
            | Tool::Iptables
            | Tool::Ipset
            | Tool::Nftables
            | Tool::Ufw
            | Tool::Firewalld
            | Tool::BtFirewall
            | Tool::Route
    )
}

/// The diagnoses for a scan's findings and evidence.
pub fn diagnose(findings: &[Finding], evidence: &Evidence, ranges: &RangeSet) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    let web: Vec<&Finding> = findings
        .iter()
        .filter(|f| {
            // A rule file's ban is a choice, not evidence of what the tool saw.
            (f.tool.is_web_layer() && f.format != Format::ModsecRules)
                || (f.tool == Tool::NginxDeny && f.format == Format::NginxError)
                || (f.tool == Tool::ApacheDeny && f.format == Format::ApacheError)
        })
        .collect();
    if !web.is_empty() {
        let mut lines: Vec<String> = web
            .iter()
            .take(MAX_EXAMPLES)
            .map(|f| {
                let place = f
                    .locations
                    .last()
                    .map(|l| format!(" at {l}"))
                    .unwrap_or_default();
                format!(
                    "{} {} acted on Cloudflare address {} ({}){place}",
                    f.tool,
                    f.scope,
                    f.address_text(),
                    f.range
                )
            })
            .collect();
        if web.len() > MAX_EXAMPLES {
            lines.push(format!("... and {} more", web.len() - MAX_EXAMPLES));
        }
        let nginx = web.iter().any(|f| {
            matches!(f.format, Format::NginxError)
                || matches!(f.tool, Tool::NginxLimit | Tool::NginxDeny | Tool::Btwaf)
        });
        let apache = web
            .iter()
            .any(|f| matches!(f.format, Format::ApacheError) || f.tool == Tool::ModEvasive);
        let either = !nginx && !apache;
        let mut fix = String::from(
            "The web server passes Cloudflare's address to these tools instead of the visitor's. \
             Restore the visitor address from CF-Connecting-IP, trusting only Cloudflare's ranges:\n",
        );
        if nginx || either {
            fix.push_str("\n# nginx (http {} block):\n");
            fix.push_str(&snippet::nginx::realip(ranges));
        }
        if apache || either {
            fix.push_str("\n# Apache (server config; a2enmod remoteip):\n");
            fix.push_str(&snippet::apache::remoteip(ranges));
        }
        if web.iter().any(|f| f.tool == Tool::Btwaf) {
            fix.push_str(
                "\n# btwaf: turn on CDN mode for the site (panel: Nginx firewall > site > CDN), \
                 i.e. /www/server/btwaf/site.json \"cdn\": true with \"cdn_header\": \
                 [\"cf-connecting-ip\", \"x-forwarded-for\"].\n",
            );
        }
        out.push(Diagnosis::new(DiagnosisKind::RealIpNotRestored, lines, fix));
    }
    if evidence.restored > 0 {
        let mut lines: Vec<String> = evidence
            .restored_examples
            .iter()
            .map(|(loc, peer, client)| format!("{loc}: Cloudflare peer {peer}, client {client}"))
            .collect();
        if evidence.restored > lines.len() as u64 {
            lines.push(format!("{} such records in all", evidence.restored));
        }
        out.push(Diagnosis::new(
            DiagnosisKind::RealIpRestored,
            lines,
            "Nothing to fix in the web server: it restores visitor addresses.",
        ));
        let firewall: Vec<(Tool, u64)> = evidence
            .bans_by_tool
            .iter()
            .filter(|(t, _)| bans_in_firewall(**t))
            .map(|(t, n)| (*t, *n))
            .collect();
        if !firewall.is_empty() {
            out.push(Diagnosis {
                kind: DiagnosisKind::FirewallBansIneffective,
                evidence: firewall
                    .iter()
                    .map(|(t, n)| {
                        format!("{t}: {n} ban events while visitor addresses are restored")
                    })
                    .collect(),
                fix:
                    "Behind Cloudflare a visitor's packets come from Cloudflare's addresses, so a \
                      ban of the visitor's address in the host firewall (iptables, nftables, ufw, \
                      firewalld banactions) never matches. Ban where the visitor's address is \
                      known: at Cloudflare's edge (fail2ban action cloudflare-token, CrowdSec's \
                      Cloudflare bouncer, CSF CF_ENABLE) or in the web server (fail2ban \
                      nginx-block-map)."
                        .into(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Action;
    use std::path::Path;
    use std::sync::Arc;

    #[test]
    fn a_set_bans_through_the_lists_that_hold_it() {
        let mut e = Evidence::default();
        e.set_member("combined", "edge");
        e.set_member("friends", "partners");
        e.set_use("combined", Verdict::Drop);
        e.set_use("friends", Verdict::Accept);
        assert!(e.set_bans("edge", false));
        assert!(!e.set_bans("partners", true));
        assert!(!e.set_bans("unlisted", false));
        // A list used by no rule says nothing; the set's own name still may.
        e.set_member("idle", "f2b-sshd");
        assert!(e.set_bans("f2b-sshd", true));
    }

    fn finding(tool: Tool, format: Format) -> Finding {
        let mut f = Finding::new(
            "104.16.1.10/32".parse().unwrap(),
            "104.16.0.0/13".parse().unwrap(),
            tool,
            format,
            "100001",
        );
        f.state = crate::BanState::Denied;
        f.events = 1;
        f.locations = vec![Location {
            path: Arc::from(Path::new("/var/log/nginx/error.log")),
            line: 7,
        }];
        f
    }

    fn event(net: &str, peer: Option<&str>, tool: Tool) -> BanEvent {
        BanEvent {
            net: net.parse().unwrap(),
            tool,
            format: Format::ModsecAudit,
            scope: "1".into(),
            peer: peer.map(|p| p.parse().unwrap()),
            action: Action::Deny,
            time: None,
            expires: None,
            permanent: false,
            challenge: false,
            location: Location {
                path: Arc::from(Path::new("audit.log")),
                line: 3,
            },
            spec: None,
        }
    }

    #[test]
    fn web_layer_findings_mean_real_ip_is_not_restored() {
        let cf = crate::cloudflare::embedded();
        let d = diagnose(
            &[finding(Tool::Modsecurity, Format::NginxError)],
            &Evidence::default(),
            &cf,
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, "real-ip-not-restored");
        assert!(
            d[0].evidence[0].contains("104.16.1.10"),
            "{:?}",
            d[0].evidence
        );
        assert!(d[0].fix.contains("real_ip_header CF-Connecting-IP;"));
        assert!(
            !d[0].fix.contains("RemoteIPHeader"),
            "nginx only: {}",
            d[0].fix
        );
        // A fail2ban ban or a deny line in a configuration says nothing about real IPs.
        assert!(diagnose(
            &[finding(Tool::Fail2ban, Format::Fail2banLog)],
            &Evidence::default(),
            &cf
        )
        .is_empty());
        assert!(diagnose(
            &[finding(Tool::NginxDeny, Format::NginxConf)],
            &Evidence::default(),
            &cf
        )
        .is_empty());
    }

    #[test]
    fn cloudflare_peer_with_visitor_client_means_restored_and_firewall_bans_miss() {
        let cf = crate::cloudflare::embedded();
        let mut ev = Evidence::default();
        ev.observe(
            &event("198.51.100.7/32", Some("172.70.1.1"), Tool::Modsecurity),
            &cf,
        );
        ev.observe(
            &event("198.51.100.8/32", Some("192.0.2.1"), Tool::Modsecurity),
            &cf,
        );
        let d = diagnose(&[], &ev, &cf);
        assert_eq!(
            d.iter().map(|d| d.kind.as_str()).collect::<Vec<_>>(),
            ["real-ip-restored"]
        );
        assert!(d[0].evidence[0].contains("172.70.1.1"));
        let mut f2b = event("203.0.113.5/32", None, Tool::Fail2ban);
        f2b.action = Action::Ban;
        ev.observe(&f2b, &cf);
        let kinds: Vec<String> = diagnose(&[], &ev, &cf)
            .into_iter()
            .map(|d| d.kind.to_string())
            .collect();
        assert_eq!(kinds, ["real-ip-restored", "firewall-bans-ineffective"]);
    }
}

/// Worked examples of this module's functions.
#[cfg(test)]
mod examples {
    #[test]
    fn diagnose() {
        use crate::diagnose::{diagnose, Evidence};
        let cf = crate::cloudflare::embedded();
        assert!(diagnose(&[], &Evidence::default(), &cf).is_empty());
    }
}
