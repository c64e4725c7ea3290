//! The tools no command lifts a ban of: what to do by hand instead (a line of a file to
//! remove, a panel action), or why there is nothing to lift (a one-off denial).

use crate::event::Tool;
use crate::format_id::Format;
use crate::report::Finding;

/// How many places a reason names before `and N more`.
const MAX_PLACES: usize = 3;

/// Why no command lifts the ban, and what does.
pub(super) fn reason(f: &Finding) -> String {
    let address = f.address_text();
    match f.tool {
        Tool::Modsecurity if !places(f, &[Format::ModsecRules], "", "").is_empty() => format!(
            "remove {address} from the ModSecurity rule that refuses it ({}), then reload the \
             web server (`apachectl graceful`, `nginx -s reload`)",
            places(f, &[Format::ModsecRules], "", "")
        ),
        Tool::Modsecurity | Tool::NginxLimit | Tool::ModEvasive => {
            "a one-off denial: nothing to lift; restore visitor addresses".to_string()
        }
        Tool::BtFirewall => {
            let (tab, rule) = if f.scope == crate::formats::bt_firewall::PORT_RULE_SCOPE {
                ("Port rules", "the port rule")
            } else {
                ("IP rules", "the rule")
            };
            let written = panel_address(f)
                .filter(|a| *a != address)
                .map(|a| format!(" (written {a}: deleting it lifts all of it)"))
                .unwrap_or_default();
            format!(
                "BT panel → Security → Firewall → {tab}: remove {rule} that blocks \
                 {address}{written}{}",
                places(
                    f,
                    &[Format::BtFirewall, Format::BtFirewallDb],
                    " (read at ",
                    ")"
                )
            )
        }
        Tool::Directadmin => {
            let at = places(f, &[Format::DirectadminBlocklist], "", "");
            let at = if at.is_empty() {
                "ip_blacklist".to_string()
            } else {
                at
            };
            format!(
                "edit {at} and remove the line of {address} (DirectAdmin's own ip_blacklist \
                 refuses only the DirectAdmin login on port 2222, not the sites)"
            )
        }
        Tool::Btwaf => format!(
            "BT panel → WAF (Nginx firewall) → blocked IPs: unblock {address} (the \
             block also ends by itself when its time is up)"
        ),
        Tool::NginxDeny => match places(f, &[Format::NginxConf, Format::NginxGeo], "", "") {
            p if !p.is_empty() => format!(
                "remove {address} from nginx's configuration ({p}), then reload \
                 nginx (`nginx -s reload`)"
            ),
            _ => format!(
                "nginx's configuration denies {address} (`access forbidden by \
                 rule`{}): remove the `deny` line or geo/map entry that matches it, then reload \
                 nginx (`nginx -s reload`)",
                places(f, &[Format::NginxError], ", ", "")
            ),
        },
        Tool::ApacheDeny => match places(f, &[Format::ApacheConf], "", "") {
            p if !p.is_empty() => format!(
                "remove {address} from the `Require not ip` / `Deny from` line of \
                 Apache's configuration ({p}), then reload Apache (`apachectl graceful`)"
            ),
            _ => format!(
                "Apache's configuration denies {address} (`client denied by server \
                 configuration`{}): remove it from the `Require not ip` / `Deny from` line that \
                 matches it, then reload Apache (`apachectl graceful`)",
                places(f, &[Format::ApacheError], ", ", "")
            ),
        },
        _ => {
            let hosts = places(f, &[Format::HostsDeny], "", "");
            if !hosts.is_empty() {
                return format!(
                    "remove {address} from {hosts} (hosts.deny is read at each \
                     connection: nothing to reload)"
                );
            }
            let lists = places(f, &[Format::PlainList], "", "");
            let at = if lists.is_empty() {
                places(f, &[], "", "")
            } else {
                lists
            };
            if at.is_empty() {
                format!("remove {address} from the list that holds it")
            } else {
                format!(
                    "remove {address} from {at}; whatever loads the list reads it \
                     again at its next load"
                )
            }
        }
    }
}

/// The distinct places (`PATH:LINE`) of the evidence read in `formats` (in any format when
/// `formats` is empty), at most [`MAX_PLACES`] then `and N more`, between `before` and
/// `after`; empty when there is none.
fn places(f: &Finding, formats: &[Format], before: &str, after: &str) -> String {
    let mut seen: Vec<String> = Vec::new();
    for e in &f.evidence {
        if !formats.is_empty() && !formats.contains(&e.format) {
            continue;
        }
        let place = if e.location.line == 0 {
            e.location.path.display().to_string()
        } else {
            format!("line {} of {}", e.location.line, e.location.path.display())
        };
        if !seen.contains(&place) {
            seen.push(place);
        }
    }
    if seen.is_empty() {
        return String::new();
    }
    let more = seen.len().saturating_sub(MAX_PLACES);
    seen.truncate(MAX_PLACES);
    let mut text = seen.join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    format!("{before}{text}{after}")
}

/// The `address` of the panel rule, as written: the database row's (kept as the evidence's
/// spec), or from a line of the export read as the evidence's text.
fn panel_address(f: &Finding) -> Option<String> {
    f.evidence.iter().find_map(|e| match e.format {
        Format::BtFirewallDb => e.spec.clone(),
        Format::BtFirewall => {
            let v: serde_json::Value = serde_json::from_str(e.text.as_deref()?).ok()?;
            Some(v.get("address")?.as_str()?.to_string())
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use crate::lift::tests::{evidence, finding, with};
    use crate::report::Authority;
    use crate::{Format, Tool};

    #[test]
    fn one_off_denials() {
        for tool in [Tool::Modsecurity, Tool::NginxLimit, Tool::ModEvasive] {
            assert_eq!(
                finding(tool, "x").lift().unwrap_err(),
                "a one-off denial: nothing to lift; restore visitor addresses"
            );
        }
    }

    #[test]
    fn files_to_edit_are_named() {
        let e = evidence(
            Format::NginxConf,
            Authority::Saved,
            "/etc/nginx/conf.d/blockips.conf",
            4,
            None,
            Some("deny 162.158.203.24;"),
        );
        let why = with("162.158.203.24", Tool::NginxDeny, "blockips.conf", e)
            .lift()
            .unwrap_err();
        assert_eq!(
            why,
            "remove 162.158.203.24 from nginx's configuration (line 4 of \
             /etc/nginx/conf.d/blockips.conf), then reload nginx (`nginx -s reload`)"
        );
        let e = evidence(
            Format::NginxError,
            Authority::Log,
            "/var/log/nginx/error.log",
            9,
            None,
            None,
        );
        let why = with("104.16.0.1", Tool::NginxDeny, "example.com", e)
            .lift()
            .unwrap_err();
        assert!(
            why.contains("(`access forbidden by rule`, line 9 of /var/log/nginx/error.log)"),
            "{why}"
        );
        let e = evidence(
            Format::ApacheConf,
            Authority::Saved,
            "/etc/apache2/sites-enabled/site.conf",
            15,
            None,
            None,
        );
        let why = with("104.0.0.0/8", Tool::ApacheDeny, "<Directory /srv>", e)
            .lift()
            .unwrap_err();
        assert!(
            why.contains("line 15 of /etc/apache2/sites-enabled/site.conf"),
            "{why}"
        );
        let e = evidence(
            Format::HostsDeny,
            Authority::Saved,
            "/etc/hosts.deny",
            5,
            None,
            None,
        );
        let why = with("104.16.0.1", Tool::List, "hosts.deny sshd", e)
            .lift()
            .unwrap_err();
        assert!(why.contains("from line 5 of /etc/hosts.deny"), "{why}");
        let mut f = with(
            "104.16.44.44",
            Tool::List,
            "blocklist.txt",
            evidence(
                Format::PlainList,
                Authority::Saved,
                "/srv/blocklist.txt",
                4,
                None,
                None,
            ),
        );
        for line in 5..10 {
            f.evidence.push(evidence(
                Format::PlainList,
                Authority::Saved,
                "/srv/blocklist.txt",
                line,
                None,
                None,
            ));
        }
        let why = f.lift().unwrap_err();
        assert!(
            why.contains("lines 4") || why.contains("line 4 of /srv/blocklist.txt, line 5 of /srv/blocklist.txt, line 6 of /srv/blocklist.txt and 3 more"),
            "{why}"
        );
    }

    #[test]
    fn panels_say_where_to_click() {
        let e = evidence(
            Format::BtFirewall,
            Authority::Saved,
            "/www/server/panel/data/firewall/ip.json",
            4,
            None,
            Some(
                r#"{"id": 6, "types": "drop", "address": "104.16.0.250-104.16.1.5", "brief": ""}"#,
            ),
        );
        let why = with("104.16.0.252/30", Tool::BtFirewall, "ip_rule", e)
            .lift()
            .unwrap_err();
        assert!(
            why.starts_with("BT panel → Security → Firewall → IP rules: remove the rule that blocks 104.16.0.252/30 (written 104.16.0.250-104.16.1.5: deleting it lifts all of it)"),
            "{why}"
        );
        assert!(finding(Tool::BtFirewall, "port_rule")
            .lift()
            .unwrap_err()
            .contains("Port rules"));
        assert!(finding(Tool::Btwaf, "example.com/cc")
            .lift()
            .unwrap_err()
            .contains("BT panel → WAF"));
    }
}
