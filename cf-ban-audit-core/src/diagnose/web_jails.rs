//! fail2ban jails that read a web server's logs, and whether they ban in the host firewall.
//!
//! A jail is a web jail when its `logpath` is a web server's log (under an `nginx`, `apache2`,
//! `httpd`, `lighttpd` or BT panel `wwwlogs` directory, a `%(nginx_…)s`/`%(apache_…)s` path of
//! fail2ban's `paths-*.conf`, or a file named `access.log`/`access_log`); without a `logpath`
//! in the configuration read (or with no configuration), by its name, which is also its filter's
//! name in fail2ban's stock jails: [`WEB_JAIL_NAMES`].
//!
//! A jail bans in the host firewall when its `action` (or, unset, its `banaction`) is one of
//! fail2ban's firewall actions ([`FIREWALL_ACTIONS`]); jail.conf's default `banaction` is
//! `iptables-multiport`, so a jail whose configuration is not read is taken to ban there.

use crate::fail2ban_jails::JailConfig;
use crate::web_evidence::WebServer;

/// Name prefixes of fail2ban's stock jails and filters that read web server or web
/// application logs.
pub(crate) const WEB_JAIL_NAMES: &[&str] = &[
    "nginx-",
    "apache-",
    "lighttpd-",
    "wordpress",
    "wp-",
    "drupal-",
    "php-url-fopen",
    "phpmyadmin",
    "roundcube",
    "horde",
    "suhosin",
    "sogo-auth",
    "tine20",
    "groupoffice",
    "openwebmail",
    "squirrelmail",
    "nextcloud",
    "owncloud",
    "traefik-",
    "haproxy-http",
];

/// Name prefixes of fail2ban's actions (`action.d/`) that ban in the host's packet filter or
/// routing table.
pub(crate) const FIREWALL_ACTIONS: &[&str] = &[
    "iptables",
    "nftables",
    "ufw",
    "firewallcmd",
    "shorewall",
    "route",
    "pf",
    "ipfw",
    "bsd-ipfw",
    "ipfilter",
    "npf",
    "osx-ipfw",
    "osx-afctl",
    "apf",
    "symbiosis-blacklist",
];

/// What the diagnoses need of one fail2ban jail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JailFacts {
    /// The jail's name.
    pub(crate) name: String,
    /// `logpath`, as resolved (or written).
    pub(crate) logpath: Option<String>,
    /// The actions' names (`iptables-multiport`, `nginx-block-map`), from `action`, else
    /// `banaction`; empty when neither is in the configuration read.
    pub(crate) actions: Vec<String>,
    /// Whether the jail's configuration was read.
    pub(crate) configured: bool,
}

impl JailFacts {
    /// A jail known only by its name (no configuration read for it).
    pub(crate) fn named(name: &str) -> JailFacts {
        JailFacts {
            name: name.to_string(),
            logpath: None,
            actions: Vec::new(),
            configured: false,
        }
    }

    /// The jails of a configuration.
    pub(crate) fn from_config(config: &JailConfig) -> Vec<JailFacts> {
        config
            .jails()
            .iter()
            .map(|j| {
                let from = j.web.action.as_deref().or(j.web.banaction.as_deref());
                JailFacts {
                    name: j.name.clone(),
                    logpath: j.web.logpath.clone(),
                    actions: from.map(action_names).unwrap_or_default(),
                    configured: true,
                }
            })
            .collect()
    }

    /// Whether the jail reads a web server's (or web application's) log.
    pub(crate) fn is_web(&self) -> bool {
        match &self.logpath {
            Some(paths) => paths.split_whitespace().any(web_log),
            None => {
                let name = self.name.to_ascii_lowercase();
                WEB_JAIL_NAMES.iter().any(|p| name.starts_with(p))
            }
        }
    }

    /// The web server whose log the jail reads, from its `logpath` or its name.
    pub(crate) fn server(&self) -> WebServer {
        let by_path = self
            .logpath
            .as_deref()
            .map(|p| WebServer::from_path(std::path::Path::new(p)))
            .unwrap_or(WebServer::Unknown);
        if by_path != WebServer::Unknown {
            return by_path;
        }
        let name = self.name.to_ascii_lowercase();
        if name.starts_with("nginx-") {
            WebServer::Nginx
        } else if name.starts_with("apache-") {
            WebServer::Apache
        } else {
            WebServer::Unknown
        }
    }

    /// The firewall actions the jail bans with (fail2ban's default `iptables-multiport` when
    /// no action is known), or none.
    pub(crate) fn firewall_actions(&self) -> Vec<String> {
        if self.actions.is_empty() {
            return vec!["iptables-multiport (jail.conf's default banaction)".into()];
        }
        self.actions
            .iter()
            .filter(|a| FIREWALL_ACTIONS.iter().any(|p| a.starts_with(p)))
            .cloned()
            .collect()
    }
}

/// Whether a `logpath` entry is a web server's log.
fn web_log(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    WebServer::from_path(std::path::Path::new(path)) != WebServer::Unknown
        || lower.contains("lighttpd")
        || lower.contains("/wwwlogs/")
        || lower.contains("access.log")
        || lower.contains("access_log")
}

/// The action names of an `action` (or `banaction`) value: one action a line, its name before
/// `[`.
fn action_names(value: &str) -> Vec<String> {
    value
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let end = l.find(['[', ' ', '\t']).unwrap_or(l.len());
            l[..end].to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn web_jails_by_log_path_or_name_and_their_firewall_actions() {
        let files = vec![(
            PathBuf::from("/etc/fail2ban/jail.local"),
            b"[DEFAULT]\nbanaction = nftables-multiport\naction = %(banaction)s[port=\"http,https\"]\n\
              [nginx-botsearch]\nenabled = true\nlogpath = /var/log/nginx/access.log\n\
              [sshd]\nenabled = true\nlogpath = /var/log/auth.log\n\
              [site]\nlogpath = /srv/www/logs/access.log\naction = nginx-block-map[blck_lst_file=\"/etc/nginx/b.map\"]\n\
              \x20   cloudflare-token[cfzone=z, cftoken=t]\n"
                .to_vec(),
        )];
        let jails = JailFacts::from_config(&JailConfig::read(&files));
        let get = |n: &str| jails.iter().find(|j| j.name == n).unwrap();
        let nginx = get("nginx-botsearch");
        assert!(nginx.is_web());
        assert_eq!(nginx.server(), WebServer::Nginx);
        assert_eq!(nginx.firewall_actions(), ["nftables-multiport"]);
        assert!(!get("sshd").is_web());
        let site = get("site");
        assert!(site.is_web());
        assert_eq!(site.actions, ["nginx-block-map", "cloudflare-token"]);
        assert!(site.firewall_actions().is_empty());
        let named = JailFacts::named("wordpress-hard");
        assert!(named.is_web());
        assert_eq!(named.firewall_actions().len(), 1);
        assert!(!JailFacts::named("recidive").is_web());
    }
}
