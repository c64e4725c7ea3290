//! `firewall-bans-ineffective`: a fail2ban web jail bans visitors in the host firewall while
//! the web server restores visitor addresses. Behind Cloudflare a visitor's packets come from
//! Cloudflare's addresses, so such a ban never matches (fail2ban#3620). The fixes ban where the
//! visitor's address is known, with fail2ban's own actions (`action.d/` of fail2ban 1.0.2):
//!
//! - `nginx-block-map`: appends `\<ip> 1;` to `blck_lst_file` (default
//!   `%(srv_cfg_path)s/blacklisted-sessions.map`, `srv_cfg_path = /etc/nginx/`) and reloads
//!   nginx; nginx refuses what a `map` over that file marks. Its parameters: `srv_cfg_path`,
//!   `blck_lst_file`, `srv_cmd`, `srv_pid`.
//! - `cloudflare-token`: adds an IP access rule at Cloudflare's edge through the API, with
//!   `cfzone` (the zone id) and `cftoken` (an API token with Zone.Firewall Services), and
//!   `cfmode` (`block`), `cftarget` (`ip`, `ip6`).

use std::collections::BTreeMap;

use super::web_jails::JailFacts;
use super::VisitorBans;
use crate::report::{Diagnosis, DiagnosisKind};
use crate::web_evidence::WebServer;

/// The map file the nginx fix writes.
const MAP_FILE: &str = "/etc/nginx/fail2ban-banned.map";

/// One diagnosis per web jail that banned visitors in the host firewall, when its web server
/// restores visitor addresses (evidence of no known web server, or a jail of no known web
/// server, counts for any).
pub(super) fn diagnose(
    visitor_bans: &BTreeMap<String, VisitorBans>,
    jails: &[JailFacts],
    restored: &[WebServer],
) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    if restored.is_empty() {
        return out;
    }
    for (name, bans) in visitor_bans {
        let jail = jails
            .iter()
            .find(|j| j.name == *name)
            .cloned()
            .unwrap_or_else(|| JailFacts::named(name));
        if !jail.is_web() {
            continue;
        }
        let server = jail.server();
        // Evidence of no known web server counts for any.
        let applies = server == WebServer::Unknown
            || restored.contains(&server)
            || restored.contains(&WebServer::Unknown);
        if !applies {
            continue;
        }
        let actions = jail.firewall_actions();
        if actions.is_empty() {
            continue;
        }
        let examples: Vec<&str> = bans.examples.iter().map(String::as_str).collect();
        let shown_server = if server == WebServer::Unknown {
            restored[0]
        } else {
            server
        };
        let mut evidence = vec![format!(
            "fail2ban jail {} bans with {} in the host firewall: {} ban events of visitor \
             addresses (such as {}) while {} restores visitor addresses",
            jail.name,
            actions.join(", "),
            bans.events,
            examples.join(", "),
            shown_server.name()
        )];
        if let Some(logpath) = &jail.logpath {
            evidence.push(format!("it reads {logpath}"));
        }
        out.push(Diagnosis::new(
            DiagnosisKind::FirewallBansIneffective,
            format!("fail2ban jail {}", jail.name),
            evidence,
            fix(&jail.name, shown_server),
        ));
    }
    out
}

/// Both fixes, with the jail.local lines (and nginx's part of the web-server ban).
fn fix(jail: &str, server: WebServer) -> String {
    let mut s = String::from(
        "Behind Cloudflare a visitor's packets come from Cloudflare's addresses, so a ban of \
         the visitor's address in the host firewall never matches: these bans do nothing. Ban \
         where the visitor's address is known, in the web server or at Cloudflare's edge:\n",
    );
    if server != WebServer::Apache {
        s.push_str(&format!(
            "\n# 1. In nginx, with fail2ban's nginx-block-map action (it writes the banned \
             addresses to a map file and reloads nginx). /etc/fail2ban/jail.local:\n\
             [{jail}]\n\
             action = nginx-block-map[srv_cfg_path=\"/etc/nginx/\", blck_lst_file=\"{MAP_FILE}\"]\n\
             \n\
             # and in nginx's http {{}} block (after the realip lines), then nginx -s reload:\n\
             map $remote_addr $fail2ban_banned {{\n\
             \x20   default \"\";\n\
             \x20   include {MAP_FILE};\n\
             }}\n\
             # and in each server {{}} block the jail protects:\n\
             if ($fail2ban_banned) {{ return 403; }}\n\
             # (create the map file once: touch {MAP_FILE})\n"
        ));
    }
    let n = if server == WebServer::Apache { 1 } else { 2 };
    s.push_str(&format!(
        "\n# {n}. At Cloudflare's edge, with fail2ban's cloudflare-token action (an API token \
         with Zone > Firewall Services edit; keep jail.local mode 640). /etc/fail2ban/jail.local:\n\
         [{jail}]\n\
         action = cloudflare-token[cfzone=\"YOUR_ZONE_ID\", cftoken=\"YOUR_API_TOKEN\"]\n"
    ));
    s.push_str(
        "\n# Keep a firewall banaction beside either only if the jail also guards addresses that \
         reach the host directly. Then: fail2ban-client reload\n",
    );
    s
}
