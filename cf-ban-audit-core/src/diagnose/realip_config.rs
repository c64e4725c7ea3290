//! Web servers' real-IP configuration checked against the Cloudflare ranges in use.
//!
//! - **nginx**, [ngx_http_realip_module](https://nginx.org/en/docs/http/ngx_http_realip_module.html)
//!   (`src/http/modules/ngx_http_realip_module.c`): the address is replaced only when the
//!   connecting address matches a `set_real_ip_from`; it is taken from `real_ip_header`, whose
//!   default is `X-Real-IP` (a header Cloudflare does not send). With `X-Forwarded-For` and
//!   `real_ip_recursive off` (the default) nginx takes the last address of the header: right
//!   when Cloudflare connects directly (Cloudflare appends the visitor it saw), the Cloudflare
//!   edge when another trusted proxy stands between. With `real_ip_recursive on` it walks the
//!   header from the right past every trusted address.
//! - **Apache**, [mod_remoteip](https://httpd.apache.org/docs/2.4/mod/mod_remoteip.html)
//!   (`modules/metadata/mod_remoteip.c`): nothing happens without `RemoteIPHeader`; the header
//!   is walked from the right past every `RemoteIPTrustedProxy`/`RemoteIPInternalProxy`
//!   (or the entries of their `…List` files, which are named here, not read). The connecting
//!   address is checked only when some proxy is listed (`if (config->proxymatch_ip)`): a
//!   `RemoteIPHeader` alone takes the header from every client.
//!
//! Cloudflare sends `CF-Connecting-IP` (one address, set by the edge) and appends the visitor
//! to `X-Forwarded-For`; any other header does not carry the visitor. Trusting every address
//! (`0.0.0.0/0`, `::/0`) lets a client that connects to the origin directly set its own
//! address, and with `X-Forwarded-For` walked recursively any client, even through Cloudflare.

use ipnet::IpNet;

use crate::event::Location;
use crate::ranges::RangeSet;
use crate::web_evidence::{RealIpConfig, WebServer};

/// How far the ranges of a range set are listed in a message.
const MAX_LISTED: usize = 6;

/// What a web server's real-IP configuration (every file of it read) does behind Cloudflare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigCheck {
    /// The web server.
    pub(crate) server: WebServer,
    /// Where its directives are (one per file).
    pub(crate) places: Vec<Location>,
    /// Why it does not restore every visitor (empty when it does).
    pub(crate) problems: Vec<String>,
    /// Files of trusted sources named but not read: the check of the trusted list is partial.
    pub(crate) unread_lists: Vec<String>,
    /// Why any client can forge its address, when it can.
    pub(crate) forgeable: Option<String>,
}

impl ConfigCheck {
    /// Whether the configuration restores every visitor behind Cloudflare, as far as read.
    pub(crate) fn complete(&self) -> bool {
        self.problems.is_empty() && self.unread_lists.is_empty()
    }

    /// The files, as a list for a message.
    pub(crate) fn files(&self) -> String {
        let mut files: Vec<String> = self
            .places
            .iter()
            .map(|l| l.path.display().to_string())
            .collect();
        files.dedup();
        files.join(", ")
    }
}

/// Checks the configurations of each web server (all files of one server taken together, as
/// `include` puts them together) against `ranges`.
pub(crate) fn check_all(configs: &[RealIpConfig], ranges: &RangeSet) -> Vec<ConfigCheck> {
    let mut servers: Vec<WebServer> = configs.iter().map(|c| c.server).collect();
    servers.sort();
    servers.dedup();
    servers
        .into_iter()
        .map(|server| {
            let mine: Vec<&RealIpConfig> = configs.iter().filter(|c| c.server == server).collect();
            check(server, &mine, ranges)
        })
        .collect()
}

/// Checks one server's configuration files.
fn check(server: WebServer, configs: &[&RealIpConfig], ranges: &RangeSet) -> ConfigCheck {
    let places: Vec<Location> = configs.iter().map(|c| c.location.clone()).collect();
    let trusted: Vec<IpNet> = configs
        .iter()
        .flat_map(|c| c.trusted.iter().copied())
        .collect();
    let unread_lists: Vec<String> = configs
        .iter()
        .flat_map(|c| c.trusted_lists.iter().cloned())
        .collect();
    let recursive = configs.iter().any(|c| c.recursive == Some(true));
    let mut headers: Vec<(String, &Location)> = configs
        .iter()
        .filter_map(|c| c.header.as_ref().map(|h| (h.clone(), &c.location)))
        .collect();
    headers.dedup_by(|a, b| a.0.eq_ignore_ascii_case(&b.0));
    let mut problems = Vec::new();
    let (header_name, directive) = match server {
        WebServer::Apache => ("RemoteIPHeader", "RemoteIPTrustedProxy"),
        _ => ("real_ip_header", "set_real_ip_from"),
    };
    if headers.len() > 1 {
        let list: Vec<String> = headers.iter().map(|(h, l)| format!("{h} ({l})")).collect();
        problems.push(format!(
            "files set different {header_name}s: {}; only one applies to a request",
            list.join(", ")
        ));
    }
    let header = headers.first().map(|(h, _)| h.to_ascii_lowercase());
    match header.as_deref() {
        Some("cf-connecting-ip") => {}
        Some("x-forwarded-for") => {
            let behind_other_proxy = trusted.iter().any(|n| !ranges.overlaps(n));
            if server == WebServer::Nginx && !recursive && behind_other_proxy {
                problems.push(
                    "real_ip_header X-Forwarded-For with real_ip_recursive off and a trusted \
                     proxy besides Cloudflare: nginx takes the last address of the header, \
                     Cloudflare's edge when that proxy stands between (set real_ip_recursive \
                     on, or use CF-Connecting-IP)"
                        .into(),
                );
            }
        }
        Some(other) => problems.push(format!(
            "{header_name} {other}: Cloudflare does not send the visitor's address in that \
             header (use CF-Connecting-IP)"
        )),
        None if server == WebServer::Apache => problems.push(
            "no RemoteIPHeader: mod_remoteip changes nothing without it (RemoteIPHeader \
             CF-Connecting-IP)"
                .into(),
        ),
        None => problems.push(
            "no real_ip_header: nginx then reads X-Real-IP, which Cloudflare does not send \
             (real_ip_header CF-Connecting-IP)"
                .into(),
        ),
    }
    // mod_remoteip checks the connecting address only "if there is a trusted proxy list"
    // (`config->proxymatch_ip`): without one it takes the header from every client.
    let apache_trusts_all =
        server == WebServer::Apache && trusted.is_empty() && unread_lists.is_empty();
    if apache_trusts_all {
        // Every Cloudflare range is trusted, with everything else (see `forgeable`).
    } else if trusted.is_empty() && unread_lists.is_empty() {
        problems.push(format!(
            "no {directive}: no connecting address is trusted, nothing is replaced"
        ));
    } else {
        let missing: Vec<IpNet> = ranges
            .nets()
            .iter()
            .filter(|r| !trusted.iter().any(|t| t.contains(*r)))
            .copied()
            .collect();
        if !missing.is_empty() && unread_lists.is_empty() {
            let mut list: Vec<String> = missing
                .iter()
                .take(MAX_LISTED)
                .map(ToString::to_string)
                .collect();
            if missing.len() > MAX_LISTED {
                list.push(format!("and {} more", missing.len() - MAX_LISTED));
            }
            problems.push(format!(
                "{} of Cloudflare's {} ranges are not trusted ({directive}): {}; visitors \
                 coming through them are logged as Cloudflare",
                missing.len(),
                ranges.nets().len(),
                list.join(", ")
            ));
        }
    }
    let everything = trusted.iter().any(|n| n.prefix_len() == 0);
    let forgeable = if apache_trusts_all && header.is_some() {
        Some(
            "RemoteIPHeader without RemoteIPTrustedProxy or RemoteIPInternalProxy: \
             mod_remoteip takes the header from every client, so any client sets its own \
             address"
                .to_string(),
        )
    } else {
        everything.then(|| {
            let walked = header.as_deref() == Some("x-forwarded-for")
                && (recursive || server == WebServer::Apache);
            if walked {
                format!(
                    "{directive} trusts every address (0.0.0.0/0 or ::/0) with X-Forwarded-For \
                 walked from the right: any client, even through Cloudflare, sets its own \
                 address by sending X-Forwarded-For"
                )
            } else {
                format!(
                    "{directive} trusts every address (0.0.0.0/0 or ::/0): a client that connects \
                 to the origin directly sets its own address in the header"
                )
            }
        })
    };
    ConfigCheck {
        server,
        places,
        problems,
        unread_lists,
        forgeable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::sync::Arc;

    fn config(server: WebServer, header: Option<&str>, trusted: &[&str]) -> RealIpConfig {
        let mut c = RealIpConfig::new(
            server,
            Location {
                path: Arc::from(Path::new("/etc/nginx/conf.d/cloudflare.conf")),
                line: 1,
            },
        );
        c.header = header.map(str::to_string);
        c.trusted = trusted.iter().map(|t| t.parse().unwrap()).collect();
        c
    }

    fn all_ranges(cf: &RangeSet) -> Vec<String> {
        cf.nets().iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn every_range_and_cf_connecting_ip_is_complete() {
        let cf = crate::cloudflare::embedded();
        let nets = all_ranges(&cf);
        let refs: Vec<&str> = nets.iter().map(String::as_str).collect();
        let c = check_all(
            &[config(WebServer::Nginx, Some("CF-Connecting-IP"), &refs)],
            &cf,
        );
        assert!(c[0].complete(), "{:?}", c[0].problems);
        assert!(c[0].forgeable.is_none());
    }

    #[test]
    fn missing_ranges_are_named_and_a_wrong_header_is_said() {
        let cf = crate::cloudflare::embedded();
        let nets = all_ranges(&cf);
        let refs: Vec<&str> = nets.iter().skip(1).map(String::as_str).collect();
        let c = &check_all(&[config(WebServer::Nginx, Some("X-Real-IP"), &refs)], &cf)[0];
        assert!(!c.complete());
        assert!(c.problems.iter().any(|p| p.contains("x-real-ip")), "{c:?}");
        assert!(
            c.problems.iter().any(|p| p.contains(&nets[0])),
            "{:?}",
            c.problems
        );
        let apache = &check_all(&[config(WebServer::Apache, None, &refs)], &cf)[0];
        assert!(apache.problems[0].contains("no RemoteIPHeader"));
        // A header and no proxy: mod_remoteip believes every client.
        let alone = &check_all(
            &[config(WebServer::Apache, Some("CF-Connecting-IP"), &[])],
            &cf,
        )[0];
        assert!(alone.complete(), "{alone:?}");
        assert!(alone.forgeable.as_deref().unwrap().contains("every client"));
    }

    #[test]
    fn trusting_everything_with_x_forwarded_for_is_forgeable() {
        let cf = crate::cloudflare::embedded();
        let mut c = config(
            WebServer::Nginx,
            Some("X-Forwarded-For"),
            &["0.0.0.0/0", "::/0"],
        );
        c.recursive = Some(true);
        let checked = &check_all(&[c], &cf)[0];
        assert!(checked.complete());
        assert!(checked.forgeable.as_deref().unwrap().contains("any client"));
    }

    #[test]
    fn x_forwarded_for_behind_another_proxy_needs_recursion() {
        let cf = crate::cloudflare::embedded();
        let mut nets = all_ranges(&cf);
        nets.push("10.0.0.0/8".into());
        let refs: Vec<&str> = nets.iter().map(String::as_str).collect();
        let c = config(WebServer::Nginx, Some("X-Forwarded-For"), &refs);
        let checked = &check_all(std::slice::from_ref(&c), &cf)[0];
        assert!(checked.problems[0].contains("real_ip_recursive"));
        let mut on = c;
        on.recursive = Some(true);
        assert!(check_all(&[on], &cf)[0].complete());
    }

    #[test]
    fn a_list_file_leaves_the_ranges_unverified() {
        let cf = crate::cloudflare::embedded();
        let mut c = config(WebServer::Apache, Some("CF-Connecting-IP"), &[]);
        c.trusted_lists.push("conf/cloudflare-ips.txt".into());
        let checked = &check_all(&[c], &cf)[0];
        assert!(checked.problems.is_empty());
        assert!(!checked.complete());
    }
}
