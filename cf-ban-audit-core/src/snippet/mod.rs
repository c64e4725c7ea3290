//! Allow/ignore snippets, one module per target tool: what to write into each tool's
//! configuration so that it never bans the ranges of a [`RangeSet`] again, and [`Target`],
//! the registry the command line uses.
//!
//! Firewall ACCEPT rules do not beat the chains that ban tools insert before them (fail2ban,
//! CrowdSec, CSF), so every firewall snippet says so and points to the ban tool's own list.

use std::fmt::Write;

use crate::addr::parse_net;
use crate::ranges::RangeSet;

pub(crate) mod apache;
pub(crate) mod btwaf;
pub(crate) mod crowdsec;
pub(crate) mod csf;
pub(crate) mod fail2ban;
pub(crate) mod firewalld;
pub(crate) mod imunify360;
pub(crate) mod ipset;
pub(crate) mod iptables;
pub(crate) mod mod_evasive;
pub(crate) mod modsecurity;
pub(crate) mod nftables;
pub(crate) mod nginx;
pub(crate) mod plain;
pub(crate) mod ufw;

pub use fail2ban::jails_overriding;

/// A tool to write a snippet for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Target {
    /// fail2ban `[DEFAULT] ignoreip` for jail.local.
    Fail2ban,
    /// CSF `csf.ignore`.
    Csf,
    /// CrowdSec parser whitelist YAML (and `cscli allowlists` commands).
    Crowdsec,
    /// nginx `set_real_ip_from` + `real_ip_header CF-Connecting-IP`.
    NginxRealip,
    /// nginx `allow` lines + `deny all;`.
    NginxAllow,
    /// Apache `RemoteIPHeader` + `RemoteIPTrustedProxy`.
    ApacheRemoteip,
    /// Apache `Require ip`.
    ApacheAllow,
    /// ModSecurity `@ipMatch` exemption rule.
    Modsecurity,
    /// mod_evasive `DOSWhitelist` wildcards (IPv4 only).
    ModEvasive,
    /// iptables/ip6tables script with a dedicated chain.
    Iptables,
    /// `ipset restore` input (v4 and v6 hash:net sets).
    Ipset,
    /// nftables table with interval sets.
    Nftables,
    /// `ufw allow` commands.
    Ufw,
    /// `firewall-cmd --permanent` ipset and rich-rule script (zone in `ZONE`, an existing
    /// ipset reused).
    Firewalld,
    /// btwaf `ip_white.json` (both layouts), `ip_white_v6.json`, CDN-mode hint.
    Btwaf,
    /// `imunify360-agent ip-list local add --purpose white` commands, each on its own.
    Imunify360,
    /// One CIDR a line.
    Plain,
}

impl Target {
    /// Every target, in display order.
    pub const ALL: &'static [Target] = &[
        Target::Fail2ban,
        Target::Csf,
        Target::Crowdsec,
        Target::NginxRealip,
        Target::NginxAllow,
        Target::ApacheRemoteip,
        Target::ApacheAllow,
        Target::Modsecurity,
        Target::ModEvasive,
        Target::Iptables,
        Target::Ipset,
        Target::Nftables,
        Target::Ufw,
        Target::Firewalld,
        Target::Btwaf,
        Target::Imunify360,
        Target::Plain,
    ];

    /// The name used on the command line (`fail2ban`, `nginx-realip`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Target::Fail2ban => "fail2ban",
            Target::Csf => "csf",
            Target::Crowdsec => "crowdsec",
            Target::NginxRealip => "nginx-realip",
            Target::NginxAllow => "nginx-allow",
            Target::ApacheRemoteip => "apache-remoteip",
            Target::ApacheAllow => "apache-allow",
            Target::Modsecurity => "modsecurity",
            Target::ModEvasive => "mod_evasive",
            Target::Iptables => "iptables",
            Target::Ipset => "ipset",
            Target::Nftables => "nftables",
            Target::Ufw => "ufw",
            Target::Firewalld => "firewalld",
            Target::Btwaf => "btwaf",
            Target::Imunify360 => "imunify360",
            Target::Plain => "plain",
        }
    }

    /// Looks a target up by its name.
    ///
    /// ```
    /// use cf_ban_audit_core::snippet::Target;
    /// assert_eq!(Target::from_name("nginx-realip"), Some(Target::NginxRealip));
    /// ```
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.iter().copied().find(|t| t.name() == name)
    }

    /// The snippet.
    ///
    /// ```
    /// use cf_ban_audit_core::{cloudflare, snippet::Target};
    /// let cf = cloudflare::embedded();
    /// for t in Target::ALL {
    ///     assert!(!t.generate(&cf).is_empty(), "{}", t.name());
    /// }
    /// ```
    pub fn generate(self, ranges: &RangeSet) -> String {
        match self {
            Target::Fail2ban => fail2ban::generate(ranges),
            Target::Csf => csf::generate(ranges),
            Target::Crowdsec => crowdsec::generate(ranges),
            Target::NginxRealip => nginx::realip(ranges),
            Target::NginxAllow => nginx::allow(ranges),
            Target::ApacheRemoteip => apache::remoteip(ranges),
            Target::ApacheAllow => apache::allow(ranges),
            Target::Modsecurity => modsecurity::generate(ranges),
            Target::ModEvasive => mod_evasive::generate(ranges),
            Target::Iptables => iptables::generate(ranges),
            Target::Ipset => ipset::generate(ranges),
            Target::Nftables => nftables::generate(ranges),
            Target::Ufw => ufw::generate(ranges),
            Target::Firewalld => firewalld::generate(ranges),
            Target::Btwaf => btwaf::generate(ranges),
            Target::Imunify360 => imunify360::generate(ranges),
            Target::Plain => plain::generate(ranges),
        }
    }

    /// Whether `--existing` is supported: the target has a natural file form to merge into.
    pub fn can_merge(self) -> bool {
        matches!(
            self,
            Target::Fail2ban | Target::Csf | Target::NginxRealip | Target::Crowdsec | Target::Plain
        )
    }

    /// The existing file with the ranges merged in, keeping what it has; `None` when the
    /// target has no file form to merge into.
    pub fn merge(self, existing: &str, ranges: &RangeSet) -> Option<String> {
        Some(match self {
            Target::Fail2ban => fail2ban::merge(existing, ranges),
            Target::Csf => csf::merge(existing, ranges),
            Target::NginxRealip => nginx::merge_realip(existing, ranges),
            Target::Crowdsec => crowdsec::merge(existing, ranges),
            Target::Plain => plain::merge(existing, ranges),
            _ => return None,
        })
    }
}

/// Merges ranges into a list with one address or CIDR a line (`#` comments): every line is
/// kept, and the ranges that no entry already covers are appended under `marker`, each with
/// `suffix` (such as `" # Cloudflare"`). Idempotent.
pub(crate) fn merge_list(existing: &str, ranges: &RangeSet, suffix: &str, marker: &str) -> String {
    let have: RangeSet = existing
        .lines()
        .filter_map(|l| l.split('#').next())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter_map(|l| parse_net(l.as_bytes()))
        .collect();
    let missing: Vec<_> = ranges.nets().iter().filter(|n| !have.covers(n)).collect();
    let mut out = existing.to_string();
    if missing.is_empty() {
        return out;
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(marker);
    out.push('\n');
    for net in missing {
        let _ = writeln!(out, "{net}{suffix}");
    }
    out
}
