//! Allow/ignore snippets, one module per target tool: what to write into each tool's
//! configuration so that it never bans the ranges of a [`RangeSet`] again, and [`Target`],
//! the registry the command line uses.
//!
//! Firewall ACCEPT rules do not beat the chains that ban tools insert before them (fail2ban,
//! CrowdSec, CSF), so every firewall snippet says so and points to the ban tool's own list.
//!
//! A merge with an existing file keeps every entry it has. [`Target::merge_warnings`] names
//! the kept entries that need a look ([`MergeWarning`]: stale Cloudflare ranges, over-broad
//! entries, lines the program reads no address from); the merge writes each as a
//! `# cf-ban-audit: warning: ...` comment line, once.

use std::fmt::{self, Write};

use ipnet::IpNet;

use crate::cloudflare;
use crate::ranges::RangeSet;

pub(crate) mod alibaba_sg;
pub(crate) mod apache;
pub(crate) mod aws_sg;
pub(crate) mod azure_nsg;
pub(crate) mod btwaf;
pub(crate) mod cphulk;
pub(crate) mod crowdsec;
pub(crate) mod csf;
pub(crate) mod directadmin;
pub(crate) mod fail2ban;
pub(crate) mod fail2ban_merge;
pub(crate) mod firewalld;
pub(crate) mod gcp_firewall;
pub(crate) mod hestia;
pub(crate) mod imunify360;
pub(crate) mod ipset;
pub(crate) mod iptables;
pub(crate) mod mod_evasive;
pub(crate) mod modsecurity;
pub(crate) mod nftables;
pub(crate) mod nginx;
pub(crate) mod plain;
pub(crate) mod plesk;
pub(crate) mod tencent_sg;
pub(crate) mod terraform_aws;
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
    /// HestiaCP/VestaCP `v-add-firewall-rule ACCEPT CIDR 80,443 TCP Cloudflare` commands and
    /// `excludes.conf` lines (IPv4 only: Hestia does not filter IPv6).
    Hestia,
    /// cPanel cPHulk `whmapi1 create_cphulk_record list_name=white` commands, each on its own.
    Cphulk,
    /// DirectAdmin: an `sh` script that appends each range, a line each, to the Brute Force
    /// Monitor's `ip_whitelist`.
    Directadmin,
    /// Plesk `plesk bin ip_ban --add-trusted` commands, each on its own.
    Plesk,
    /// One CIDR a line.
    Plain,
    /// AWS security group: the `--ip-permissions` JSON of `aws ec2
    /// authorize-security-group-ingress` (TCP 80 and 443, IPv4 and IPv6, described).
    AwsSg,
    /// Terraform `aws_vpc_security_group_ingress_rule` resources, one per range and port, and
    /// the `cloudflare_ip_ranges` data-source variant (provider v4 and v5 names), commented.
    TerraformAws,
    /// GCP `gcloud compute firewall-rules create` lines (TCP 80 and 443, priority 100).
    GcpFirewall,
    /// Azure `az network nsg rule create` lines (TCP 80 and 443, priorities 100 and 101).
    AzureNsg,
    /// Alibaba Cloud `aliyun ecs AuthorizeSecurityGroup` calls, one per range and port
    /// (priority 1).
    AlibabaSg,
    /// Tencent Cloud `tccli vpc CreateSecurityGroupPolicies` with a policy per range and port,
    /// inserted before the group's first.
    TencentSg,
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
        Target::Hestia,
        Target::Cphulk,
        Target::Directadmin,
        Target::Plesk,
        Target::Plain,
        Target::AwsSg,
        Target::TerraformAws,
        Target::GcpFirewall,
        Target::AzureNsg,
        Target::AlibabaSg,
        Target::TencentSg,
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
            Target::Hestia => "hestia",
            Target::Cphulk => "cphulk",
            Target::Directadmin => "directadmin",
            Target::Plesk => "plesk",
            Target::Plain => "plain",
            Target::AwsSg => "aws-sg",
            Target::TerraformAws => "terraform-aws",
            Target::GcpFirewall => "gcp-firewall",
            Target::AzureNsg => "azure-nsg",
            Target::AlibabaSg => "alibaba-sg",
            Target::TencentSg => "tencent-sg",
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
            Target::Hestia => hestia::generate(ranges),
            Target::Cphulk => cphulk::generate(ranges),
            Target::Directadmin => directadmin::generate(ranges),
            Target::Plesk => plesk::generate(ranges),
            Target::Plain => plain::generate(ranges),
            Target::AwsSg => aws_sg::generate(ranges),
            Target::TerraformAws => terraform_aws::generate(ranges),
            Target::GcpFirewall => gcp_firewall::generate(ranges),
            Target::AzureNsg => azure_nsg::generate(ranges),
            Target::AlibabaSg => alibaba_sg::generate(ranges),
            Target::TencentSg => tencent_sg::generate(ranges),
        }
    }

    /// Whether `--existing` is supported: the target has a natural file form to merge into.
    pub fn can_merge(self) -> bool {
        matches!(
            self,
            Target::Fail2ban | Target::Csf | Target::NginxRealip | Target::Crowdsec | Target::Plain
        )
    }

    /// What the merge keeps that needs a look: entries of `existing` (as the program reads
    /// them) that are stale or over-broad against `ranges`, and lines the program reads no
    /// address from although they hold one. Empty when the target cannot merge. The merged
    /// text carries the same warnings as comment lines.
    ///
    /// ```
    /// use cf_ban_audit_core::{cloudflare, snippet::Target};
    /// let old = "199.27.128.0/21\n104.0.0.0/8\n173.245.48.0/20\n";
    /// let warnings: Vec<String> = Target::Csf
    ///     .merge_warnings(old, &cloudflare::embedded())
    ///     .iter()
    ///     .map(|w| w.to_string())
    ///     .collect();
    /// assert_eq!(warnings.len(), 2);
    /// assert!(warnings[0].starts_with("stale entry 199.27.128.0/21"));
    /// assert!(warnings[1].starts_with("over-broad entry 104.0.0.0/8"));
    /// ```
    pub fn merge_warnings(self, existing: &str, ranges: &RangeSet) -> Vec<MergeWarning> {
        self.merge_warnings_with(existing, ranges, MergeOptions::default())
    }

    /// [`Target::merge_warnings`] for a merge with these options.
    pub fn merge_warnings_with(
        self,
        existing: &str,
        ranges: &RangeSet,
        options: MergeOptions,
    ) -> Vec<MergeWarning> {
        match self {
            Target::Fail2ban => fail2ban_merge::merge_warnings(existing, ranges, options),
            Target::Csf => csf::read_list(existing, csf::READER).warnings(ranges),
            Target::Plain => csf::read_list(existing, plain::READER).warnings(ranges),
            Target::NginxRealip => nginx::realip_entries(existing).warnings(ranges),
            Target::Crowdsec => crowdsec::entries(existing).warnings(ranges),
            _ => Vec::new(),
        }
    }

    /// The existing file with the ranges merged in, keeping what it has; `None` when the
    /// target has no file form to merge into.
    pub fn merge(self, existing: &str, ranges: &RangeSet) -> Option<String> {
        match self {
            Target::Fail2ban => Some(fail2ban::merge(existing, ranges)),
            _ => self.merge_with(existing, ranges, MergeOptions::default()),
        }
    }

    /// [`Target::merge`] with options (which only fail2ban has so far).
    ///
    /// ```
    /// use cf_ban_audit_core::{cloudflare, snippet::{MergeOptions, Target}};
    /// let cf = cloudflare::embedded();
    /// let jail = "[DEFAULT]\nignoreip = 127.0.0.1/8\n\n[sshd]\nignoreip = 192.0.2.1\n";
    /// let all = Target::Fail2ban.merge(jail, &cf).unwrap();
    /// // The jail's own list gets the ranges too, after its entries.
    /// assert!(all.contains("[sshd]\nignoreip = 192.0.2.1\n# cf-ban-audit: Cloudflare ranges"));
    /// assert!(all.ends_with("           2c0f:f248::/32\n"));
    /// let default_only = MergeOptions::default().default_only(true);
    /// let some = Target::Fail2ban.merge_with(jail, &cf, default_only).unwrap();
    /// assert!(some.ends_with("[sshd]\nignoreip = 192.0.2.1\n"));
    /// ```
    pub fn merge_with(
        self,
        existing: &str,
        ranges: &RangeSet,
        options: MergeOptions,
    ) -> Option<String> {
        Some(match self {
            Target::Fail2ban => {
                fail2ban::merge_with(existing, ranges, &fail2ban::describe(ranges), options)
            }
            Target::Csf => csf::merge(existing, ranges),
            Target::NginxRealip => nginx::merge_realip(existing, ranges),
            Target::Crowdsec => crowdsec::merge(existing, ranges),
            Target::Plain => plain::merge(existing, ranges),
            _ => return None,
        })
    }
}

/// How `--existing` merges; only fail2ban has options so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MergeOptions {
    /// fail2ban: extend `[DEFAULT]`'s `ignoreip` only, not the own `ignoreip` of the jails
    /// that set one (those jails then still lack the ranges: [`jails_overriding`]).
    pub default_only: bool,
    /// fail2ban: the file is a `jail.d/` fragment, read together with `jail.local`: no
    /// `[DEFAULT]` `ignoreip` is added to it (one there would replace `jail.local`'s with all
    /// its entries); one it has already is extended.
    pub fragment: bool,
}

impl MergeOptions {
    /// The options for merging into `path`: a fragment when it lies in a `jail.d` directory.
    ///
    /// ```
    /// use cf_ban_audit_core::snippet::MergeOptions;
    /// use std::path::Path;
    /// assert!(MergeOptions::for_path(Path::new("/etc/fail2ban/jail.d/web.local")).fragment);
    /// assert!(!MergeOptions::for_path(Path::new("/etc/fail2ban/jail.local")).fragment);
    /// ```
    pub fn for_path(path: &std::path::Path) -> MergeOptions {
        MergeOptions {
            default_only: false,
            fragment: is_jail_d_fragment(path),
        }
    }

    /// These options, merging into `[DEFAULT]` only when `yes`.
    pub fn default_only(self, yes: bool) -> MergeOptions {
        MergeOptions {
            default_only: yes,
            ..self
        }
    }
}

/// Whether `path` lies in a directory named `jail.d` (fail2ban reads it with `jail.local`).
pub(crate) fn is_jail_d_fragment(path: &std::path::Path) -> bool {
    path.parent()
        .and_then(|d| d.file_name())
        .is_some_and(|d| d == "jail.d")
}

/// The jails of a fail2ban file whose own `ignoreip` [`Target::merge`] extends with some of
/// `ranges` (those that set one without all of them and do not take `[DEFAULT]`'s along).
pub fn fail2ban_jails_extended(existing: &str, ranges: &RangeSet) -> Vec<String> {
    fail2ban_merge::jails_extended(existing, ranges)
}

/// Something a merge with an existing file keeps that needs a look.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MergeWarning {
    /// An entry that looks like Cloudflare's (a range Cloudflare has withdrawn, or one of the
    /// embedded list) but overlaps none of the current ranges.
    Stale(IpNet),
    /// An entry that covers some of the ranges and addresses outside them too: a shorter
    /// prefix than Cloudflare's own (`104.0.0.0/8`), or everything (`0.0.0.0/0`).
    Overbroad(IpNet),
    /// A line that holds an address but from which the program reads none, so it covers
    /// nothing and the merge adds the range again.
    Unread {
        /// The line, trimmed, control characters replaced.
        line: String,
        /// Why the program reads no address from it.
        why: String,
    },
}

impl fmt::Display for MergeWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MergeWarning::Stale(net) => write!(
                f,
                "stale entry {net}: a Cloudflare range that is not in the current list; remove it unless something else needs it"
            ),
            MergeWarning::Overbroad(net) => write!(
                f,
                "over-broad entry {net}: wider than Cloudflare's own ranges, it also exempts addresses that are not Cloudflare's; replace it with the ranges"
            ),
            MergeWarning::Unread { line, why } => {
                write!(f, "{line:?} covers nothing: {why}; the range is added again")
            }
        }
    }
}

/// The entries a program reads from an existing file, in file order, and the lines it reads
/// no address from although they hold one.
#[derive(Debug, Default)]
pub(crate) struct Kept {
    pub(crate) nets: Vec<IpNet>,
    pub(crate) unread: Vec<MergeWarning>,
}

impl Kept {
    /// The networks as a set, for coverage.
    pub(crate) fn have(&self) -> RangeSet {
        self.nets.iter().copied().collect()
    }

    /// The warnings: each stale or over-broad entry once, in file order, then the unread lines.
    pub(crate) fn warnings(&self, ranges: &RangeSet) -> Vec<MergeWarning> {
        let mut out = entry_warnings(&self.nets, ranges);
        for w in &self.unread {
            if !out.contains(w) {
                out.push(w.clone());
            }
        }
        out
    }
}

/// The stale and over-broad entries among `nets`, each once, in order. An entry that
/// overlaps the ranges is over-broad when it also covers other addresses; one that overlaps
/// none is stale when it overlaps a range Cloudflare withdrew ([`cloudflare::RETIRED`]) or
/// one of the embedded list (Cloudflare's once, not in the list used now).
pub(crate) fn entry_warnings(nets: &[IpNet], ranges: &RangeSet) -> Vec<MergeWarning> {
    let cloudflare_like: RangeSet = cloudflare::RETIRED
        .iter()
        .filter_map(|r| r.parse::<IpNet>().ok())
        .chain(cloudflare::embedded().nets().iter().copied())
        .collect();
    let mut out: Vec<MergeWarning> = Vec::new();
    for net in nets {
        let warning = if ranges.overlaps(net) {
            let alone: RangeSet = std::iter::once(*net).collect();
            (!alone.difference(ranges).is_empty()).then_some(MergeWarning::Overbroad(*net))
        } else {
            cloudflare_like
                .overlaps(net)
                .then_some(MergeWarning::Stale(*net))
        };
        if let Some(w) = warning {
            if !out.contains(&w) {
                out.push(w);
            }
        }
    }
    out
}

/// The comment line a warning is written as.
pub(crate) fn warning_line(w: &MergeWarning) -> String {
    let text: String = w
        .to_string()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("# cf-ban-audit: warning: {text}")
}

/// The comment lines of the warnings that `existing` does not have yet (a line with the same
/// text, surrounding blanks aside, counts), so that merging again adds none.
pub(crate) fn new_warning_lines(existing: &str, warnings: &[MergeWarning]) -> Vec<String> {
    let have: std::collections::HashSet<&str> = existing
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| l.starts_with("# cf-ban-audit: warning: "))
        .collect();
    let mut out: Vec<String> = Vec::new();
    for line in warnings.iter().map(warning_line) {
        if !have.contains(line.as_str()) && !out.contains(&line) {
            out.push(line);
        }
    }
    out
}

/// Merges ranges into a list with one address or CIDR a line (`#` comments), read as `kept`
/// says: every line is kept; the ranges that no entry already covers are appended under
/// `marker`, each with `suffix` (such as `" # Cloudflare"`), after the warning lines the file
/// does not have yet (alone at the end when nothing is missing). Idempotent.
pub(crate) fn merge_list(
    existing: &str,
    kept: &Kept,
    ranges: &RangeSet,
    suffix: &str,
    marker: &str,
) -> String {
    let have = kept.have();
    let missing: Vec<_> = ranges.missing_from(&have).collect();
    let warnings = new_warning_lines(existing, &kept.warnings(ranges));
    let mut out = existing.to_string();
    if missing.is_empty() && warnings.is_empty() {
        return out;
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    if !missing.is_empty() {
        out.push_str(marker);
        out.push('\n');
    }
    for line in warnings {
        out.push_str(&line);
        out.push('\n');
    }
    for net in missing {
        let _ = writeln!(out, "{net}{suffix}");
    }
    out
}

/// One step of a script that goes on when it fails: `command`, and on failure `item` added
/// to `$failed`, which [`failed_tail`] names at the end.
pub(crate) fn or_failed(s: &mut String, command: &str, item: impl std::fmt::Display) {
    s.push_str(&format!("{command} || failed=\"$failed {item}\"\n"));
}

/// The end of a script whose steps each add what they could not do to `$failed`: it names
/// them on standard error after `not_added` and exits 1, or prints `done`; both lines start
/// with the snippet's name, `tool`.
pub(crate) fn failed_tail(tool: &str, not_added: &str, done: &str) -> String {
    format!(
        "if [ -n \"$failed\" ]; then\n    echo \"{tool}: {not_added}:$failed\" >&2\n    \
         exit 1\nfi\necho \"{tool}: {done}\"\n"
    )
}
