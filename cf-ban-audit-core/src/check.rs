//! `check`: audits existing allow/ignore lists against a [`RangeSet`]: which ranges a list
//! misses, which of its entries are no longer Cloudflare's (retired ranges) or over-broad
//! (they cover addresses that are not Cloudflare's), and for fail2ban the jails whose own
//! `ignoreip` replaces DEFAULT's without the ranges, and `#` comments inside `ignoreip`.
//! A fail2ban `ignorecommand` that is cf-ban-audit's own `contains <ip>` counts as covering
//! every range for the jails it applies to (`check/fail2ban.rs` has the rules).
//!
//! A cloud vendor's security group export (AWS, GCP, Azure, Alibaba Cloud, Tencent Cloud) is
//! told by its JSON structure and judged by that vendor's rules: which ranges reach TCP 80
//! and 443 and which rule refuses the others ([`CloudCheck`], in [`CheckedFile::cloud`]).

mod fail2ban;
mod panels;

use std::path::Path;

use ipnet::IpNet;
use serde::Serialize;

use crate::addr::parse_net;
use crate::cloudflare::RETIRED;
use crate::error::Error;
use crate::ranges::RangeSet;

pub use self::fail2ban::JailIgnore;
pub use crate::cloud::{CloudCheck, Refusal, Unresolved, Vendor, PORTS};

/// The kinds of allow/ignore list `check` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ListKind {
    /// fail2ban jail.local / jail.d/*.local (`ignoreip`).
    Fail2ban,
    /// CSF csf.ignore / csf.allow.
    Csf,
    /// nginx configuration (`set_real_ip_from`, `allow`).
    Nginx,
    /// Apache configuration (`RemoteIPTrustedProxy`, `Require ip`).
    Apache,
    /// ModSecurity rules (`@ipMatch`).
    Modsecurity,
    /// `ipset save` / `ipset restore` input.
    Ipset,
    /// nftables ruleset (set elements).
    Nftables,
    /// firewalld ipset XML (`<entry>`).
    Firewalld,
    /// CrowdSec whitelist YAML (`cidr:`/`ip:` lists).
    Crowdsec,
    /// btwaf `ip_white.json` (octet or integer ranges) / `ip_white_v6.json`.
    Btwaf,
    /// One address or CIDR a line.
    Plain,
    /// AWS `describe-security-groups` JSON.
    AwsSecurityGroups,
    /// AWS `describe-security-group-rules` JSON.
    AwsSecurityGroupRules,
    /// GCP `gcloud compute firewall-rules list --format=json`.
    GcpFirewall,
    /// Azure `az network nsg rule list -o json` (or `az network nsg show`).
    AzureNsg,
    /// Alibaba Cloud `DescribeSecurityGroupAttribute` JSON.
    AlibabaSecurityGroup,
    /// Tencent Cloud `DescribeSecurityGroupPolicies` JSON.
    TencentSecurityGroup,
    /// cPanel cPHulk's `whmapi1 --output=json read_cphulk_records` response: its white list
    /// (`list_name=white`) allows, any other list allows nothing.
    Cphulk,
    /// DirectAdmin's `ip_whitelist` (told by its name): one address or CIDR a line, read
    /// strictly (its line format is not documented).
    Directadmin,
    /// Plesk's `plesk bin ip_ban --trusted` output (told by a name holding `trusted` and
    /// `plesk` or `ip_ban`): one address or CIDR a line, read strictly (its layout is not
    /// verified).
    PleskTrusted,
    /// HestiaCP/VestaCP `data/firewall/rules.conf`, judged as `v-update-firewall` builds the
    /// chain (IPv4 only).
    HestiaFirewall,
    /// HestiaCP/VestaCP `data/firewall/excludes.conf`, matched exactly (`grep "^$ip$"`).
    HestiaExcludes,
    /// Imunify360's white list: `imunify360-agent ip-list local list --purpose white` (table
    /// or `--json`) or `/etc/imunify360/whitelist/*.txt`.
    Imunify360,
}

impl From<Vendor> for ListKind {
    fn from(v: Vendor) -> ListKind {
        match v {
            Vendor::AwsSecurityGroups => ListKind::AwsSecurityGroups,
            Vendor::AwsSecurityGroupRules => ListKind::AwsSecurityGroupRules,
            Vendor::GcpFirewall => ListKind::GcpFirewall,
            Vendor::AzureNsg => ListKind::AzureNsg,
            Vendor::AlibabaSecurityGroup => ListKind::AlibabaSecurityGroup,
            Vendor::TencentSecurityGroup => ListKind::TencentSecurityGroup,
            Vendor::HestiaFirewall => ListKind::HestiaFirewall,
        }
    }
}

/// What `check` found in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CheckedFile {
    /// The file.
    pub path: String,
    /// What kind of list it is.
    pub kind: ListKind,
    /// How many address entries it has.
    pub entries: usize,
    /// Ranges of the set that the list does not cover (fully).
    pub missing: Vec<String>,
    /// Entries that were Cloudflare's once and are not any more.
    pub stale: Vec<String>,
    /// Entries that overlap the ranges but also cover other addresses.
    pub overbroad: Vec<String>,
    /// Other problems (fail2ban jails overriding DEFAULT, `#` inside `ignoreip`).
    pub problems: Vec<String>,
    /// What is fine but worth knowing (such as coverage by fail2ban's `ignorecommand`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// fail2ban: `[DEFAULT]` and each jail of the file, with what covers the ranges.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub jails: Vec<JailIgnore>,
    /// A cloud security group export: what reaches TCP 80 and 443, what is refused by which
    /// rule, what could not be resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud: Option<CloudCheck>,
}

impl CheckedFile {
    /// Whether anything needs fixing.
    pub fn has_gaps(&self) -> bool {
        !(self.missing.is_empty()
            && self.stale.is_empty()
            && self.overbroad.is_empty()
            && self.problems.is_empty()
            && self.cloud.as_ref().is_none_or(CloudCheck::is_ok))
    }
}

/// Decides the kind of a list from its name and content.
pub fn detect_kind(path: &Path, text: &str) -> ListKind {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let has = |s: &str| text.contains(s);
    let ignore_key = has("ignoreip") || has("ignorecommand");
    if name.ends_with(".local")
        || name.ends_with(".conf") && ignore_key
        || has("[DEFAULT]")
        || crate::snippet::is_jail_d_fragment(path)
    {
        ListKind::Fail2ban
    } else if name == "ip_whitelist" {
        ListKind::Directadmin
    } else if name.contains("trusted") && (name.contains("plesk") || name.contains("ip_ban")) {
        ListKind::PleskTrusted
    } else if path.ends_with("data/firewall/excludes.conf")
        || name == "excludes.conf"
            && text.lines().filter(|l| !l.trim().is_empty()).count() > 0
            && text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .all(|l| parse_net(l.trim().as_bytes()).is_some())
    {
        ListKind::HestiaExcludes
    } else if crate::formats::imunify360::is_white_source(path, text) {
        ListKind::Imunify360
    } else if name.starts_with("csf.") {
        ListKind::Csf
    } else if has("set_real_ip_from")
        || text
            .lines()
            .any(|l| l.trim_start().starts_with("allow ") && l.trim_end().ends_with(';'))
    {
        ListKind::Nginx
    } else if has("RemoteIPTrustedProxy") || has("RemoteIPInternalProxy") || has("Require ip") {
        ListKind::Apache
    } else if has("@ipMatch") {
        ListKind::Modsecurity
    } else if text.lines().any(|l| l.starts_with("create "))
        && text.lines().any(|l| l.starts_with("add "))
    {
        ListKind::Ipset
    } else if has("elements") && has("{") {
        ListKind::Nftables
    } else if has("<ipset") && has("<entry>") {
        ListKind::Firewalld
    } else if has("whitelist:") || has("cidr:") {
        ListKind::Crowdsec
    } else if crate::formats::cphulk::detect(path, text.as_bytes()) {
        ListKind::Cphulk
    } else if text.trim_start().starts_with('[') && name.ends_with(".json") {
        ListKind::Btwaf
    } else {
        ListKind::Plain
    }
}

/// Why a list read as plain entries (csf's files, plain lists) is a ban list, whose entries
/// allow nothing: csf's deny lists by their names, a plain list whose name or place says it
/// bans, and a file the scan reads as a ban source of another format (a panel's block list,
/// whose lines may look like a plain list's). `None` for an allow list or one of unknown
/// purpose, which `check` was given as the allow list.
fn ban_list(path: &Path, kind: ListKind, text: &str) -> Option<String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if kind == ListKind::Csf {
        return matches!(name.as_str(), "csf.deny" | "csf.tempban")
            .then(|| format!("{name} is csf's list of blocked addresses"));
    }
    if crate::formats::plain_list::list_purpose(path) == crate::purpose::Purpose::Ban {
        return Some("its name or place says it bans".to_string());
    }
    let head = &text.as_bytes()[..text.len().min(8192)];
    match crate::formats::Registry::builtin().detect(path, head) {
        Some(format) if format != crate::formats::Format::PlainList => {
            Some(format!("the scan reads it as {format}, a source of bans"))
        }
        _ => None,
    }
}

/// The address entries of a list of this kind.
fn entries(path: &Path, kind: ListKind, text: &str) -> (Vec<IpNet>, Vec<String>) {
    let mut problems = Vec::new();
    let nets = match kind {
        ListKind::Imunify360 => {
            let (nets, found) =
                crate::formats::imunify360::white_list(path, text).unwrap_or_default();
            problems.extend(found);
            nets
        }
        ListKind::HestiaExcludes => panels::hestia_excludes(text, &mut problems),
        ListKind::Fail2ban => match crate::snippet::fail2ban::default_ignoreip(text) {
            Some(words) => {
                if let Some(i) = words.iter().position(|w| w.starts_with('#')) {
                    problems.push(format!(
                        "`#` inside [DEFAULT] ignoreip: fail2ban reads {:?} as host names (only `;` starts an inline comment)",
                        words[i..].join(" ")
                    ));
                }
                words
                    .iter()
                    .filter_map(|w| crate::snippet::fail2ban::ignoreip_entry(w))
                    .collect()
            }
            // Whether that is a problem is `fail2ban::check`'s to say.
            None => Vec::new(),
        },
        ListKind::Btwaf => btwaf_entries(text, &mut problems),
        ListKind::Cphulk => panels::cphulk_white_entries(text, &mut problems),
        ListKind::Directadmin => panels::strict_entries(
            text,
            "DirectAdmin's ip_whitelist is read as one address or CIDR a line",
            &mut problems,
        ),
        ListKind::PleskTrusted => panels::strict_entries(
            text,
            "Plesk's trusted list is read as one address or CIDR a line",
            &mut problems,
        ),
        // Read as lfd reads csf.ignore (and a plain list it may include): the first word of
        // each line, lines holding `Include` skipped; a line whose address lfd does not load
        // covers nothing.
        ListKind::Csf | ListKind::Plain if ban_list(path, kind, text).is_some() => {
            let why = ban_list(path, kind, text).unwrap_or_default();
            problems.push(format!(
                "a ban list, not an allow list ({why}): it allows nothing"
            ));
            Vec::new()
        }
        ListKind::Csf | ListKind::Plain => {
            let kept = crate::snippet::csf::read_list(text, "lfd");
            for unread in &kept.unread {
                if let crate::snippet::MergeWarning::Unread { line, why } = unread {
                    problems.push(format!("{line:?} covers nothing: {why}"));
                }
            }
            kept.nets
        }
        _ => text
            .lines()
            .map(|l| match kind {
                // `#` starts a comment in all of these but firewalld XML and JSON.
                ListKind::Firewalld => l,
                _ => l.split('#').next().unwrap_or(""),
            })
            .flat_map(|l| {
                l.split(|c: char| c.is_whitespace() || ",;\"'<>={}[]()".contains(c))
                    .filter_map(|t| parse_net(t.as_bytes()))
                    .collect::<Vec<_>>()
            })
            .collect(),
    };
    (nets, problems)
}

/// btwaf's whitelist JSON as its loader (`init.lua`) reads it: `ip_white.json` as
/// `[[[a,b,c,d],[a,b,c,d]],...]` or `[[start,end],...]`, `ip_white_v6.json` as
/// `[["cidr","note"],...]` (it takes `v[1]` of each item: a bare `"cidr"` string loads
/// nothing, a problem).
pub(crate) fn btwaf_entries(text: &str, problems: &mut Vec<String>) -> Vec<IpNet> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(text)
    else {
        return Vec::new();
    };
    let octets = |v: &serde_json::Value| -> Option<u32> {
        let a = v.as_array()?;
        if a.len() != 4 {
            return None;
        }
        let mut n = 0u32;
        for o in a {
            n = (n << 8) | u32::try_from(o.as_u64()?).ok().filter(|x| *x < 256)?;
        }
        Some(n)
    };
    let mut out = Vec::new();
    for item in items {
        if let Some(s) = item.as_str() {
            problems.push(format!(
                "{s:?} is a bare string: btwaf's loader takes the first element of each item \
                 ([\"cidr\", \"note\"]) and loads nothing from it"
            ));
            continue;
        }
        let Some(pair) = item.as_array().filter(|p| p.len() == 2) else {
            continue;
        };
        if let Some(cidr) = pair[0].as_str() {
            out.extend(parse_net(cidr.as_bytes()));
            continue;
        }
        let bound = |v: &serde_json::Value| {
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .or_else(|| octets(v))
        };
        if let (Some(lo), Some(hi)) = (bound(&pair[0]), bound(&pair[1])) {
            let (lo, hi) = (std::net::Ipv4Addr::from(lo), std::net::Ipv4Addr::from(hi));
            out.extend(crate::addr::range_nets(lo.into(), hi.into()).unwrap_or_default());
        }
    }
    out
}

/// Checks one list's text against the ranges.
///
/// ```
/// use cf_ban_audit_core::{check, cloudflare};
/// use std::path::Path;
/// let old = "[DEFAULT]\nignoreip = 127.0.0.1/8 199.27.128.0/21 104.16.0.0/12\n";
/// let r = check::check_text(Path::new("jail.local"), old, &cloudflare::embedded());
/// assert!(r.missing.contains(&"131.0.72.0/22".to_string()));
/// assert_eq!(r.stale, ["199.27.128.0/21"]);
/// assert_eq!(r.overbroad, ["104.16.0.0/12"]);
/// assert!(r.has_gaps());
/// ```
///
/// A fail2ban `ignorecommand` with a `--ranges` file counts without the file being read here
/// ([`check_file`] reads it).
///
/// A cloud security group export is judged by its vendor's rules; one that cannot be read
/// gives a file whose one problem is what is wrong with it ([`check_file`] returns that as an
/// error).
pub fn check_text(path: &Path, text: &str, ranges: &RangeSet) -> CheckedFile {
    match check_cloud(path, text.as_bytes(), ranges) {
        Some(Ok(file)) => file,
        Some(Err(e)) => CheckedFile {
            path: path.display().to_string(),
            kind: ListKind::Plain,
            entries: 0,
            missing: Vec::new(),
            stale: Vec::new(),
            overbroad: Vec::new(),
            problems: vec![e.to_string()],
            notes: Vec::new(),
            jails: Vec::new(),
            cloud: None,
        },
        None => check_with(path, text, ranges, None),
    }
}

/// Checks a cloud security group export: `None` when `bytes` is none (told by the JSON
/// document's structure, never by one value), else the verdict for every range of `ranges`
/// on TCP 80 and 443, or an error naming the file when the export is damaged. Ranges refused
/// on some port are also its [`CheckedFile::missing`].
///
/// ```
/// use cf_ban_audit_core::{check, cloudflare};
/// use std::path::Path;
/// let sg = r#"{"SecurityGroups": [{"GroupId": "sg-1", "IpPermissions": [
///     {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
///      "IpRanges": [{"CidrIp": "203.0.113.0/24", "Description": "office"}],
///      "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}]}]}"#;
/// let cf = cloudflare::embedded();
/// let r = check::check_cloud(Path::new("sg.json"), sg.as_bytes(), &cf).unwrap().unwrap();
/// let cloud = r.cloud.as_ref().unwrap();
/// assert_eq!(cloud.refused.len(), 2 * 22);
/// assert!(cloud.refused.iter().all(|x| x.rule.starts_with("no rule allows")));
/// assert_eq!(r.missing.len(), 22);
/// ```
pub fn check_cloud(
    path: &Path,
    bytes: &[u8],
    ranges: &RangeSet,
) -> Option<Result<CheckedFile, Error>> {
    let result = crate::cloud::check_bytes(bytes, ranges).or_else(|| {
        std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| crate::cloud::check_hestia(path, text, ranges))
    })?;
    Some(
        result
            .map(|cloud| {
                let mut missing: Vec<String> = Vec::new();
                for r in &cloud.refused {
                    if !missing.contains(&r.range) {
                        missing.push(r.range.clone());
                    }
                }
                let order = |n: &String| ranges.nets().iter().position(|r| r.to_string() == *n);
                missing.sort_by_key(order);
                CheckedFile {
                    path: path.display().to_string(),
                    kind: cloud.vendor.into(),
                    entries: cloud.rules,
                    missing,
                    stale: Vec::new(),
                    overbroad: Vec::new(),
                    problems: Vec::new(),
                    notes: Vec::new(),
                    jails: Vec::new(),
                    cloud: Some(cloud),
                }
            })
            .map_err(|message| Error::File {
                path: path.to_path_buf(),
                message,
            }),
    )
}

fn check_with(
    path: &Path,
    text: &str,
    ranges: &RangeSet,
    read: Option<fail2ban::RangesReader<'_>>,
) -> CheckedFile {
    let kind = detect_kind(path, text);
    let (nets, mut problems) = entries(path, kind, text);
    // excludes.conf keeps away a ban only of exactly its line: an address line covers that
    // address, a CIDR line none of the addresses fail2ban bans one by one.
    let have: RangeSet = nets
        .iter()
        .filter(|n| kind != ListKind::HestiaExcludes || n.prefix_len() == n.max_prefix_len())
        .copied()
        .collect();
    let mut missing: Vec<String> = ranges
        .missing_from(&have)
        // Hestia bans IPv4 only (v-add-firewall-ban takes an ipv4_cidr): its excludes need
        // no IPv6 range.
        .filter(|n| kind != ListKind::HestiaExcludes || n.addr().is_ipv4())
        .map(|n| n.to_string())
        .collect();
    let retired: RangeSet = RETIRED
        .iter()
        .filter_map(|r| r.parse::<IpNet>().ok())
        .collect();
    let mut stale = Vec::new();
    let mut overbroad = Vec::new();
    for net in &nets {
        let alone: RangeSet = std::iter::once(*net).collect();
        if ranges.overlaps(net) {
            if !alone.difference(ranges).is_empty() {
                overbroad.push(net.to_string());
            }
        } else if retired.overlaps(net) {
            stale.push(net.to_string());
        }
    }
    let (mut notes, mut jails) = (Vec::new(), Vec::new());
    if kind == ListKind::HestiaExcludes {
        notes = panels::hestia_excludes_notes(&nets, ranges);
    }
    if kind == ListKind::Imunify360 {
        notes.push(
            "Imunify360's white list beats its black list but does not override its Blocked \
             ports policy (docs: External Black/Whitelist Management): 80 and 443 must not be \
             blocked ports"
                .to_string(),
        );
    }
    if kind == ListKind::Fail2ban {
        let f2b = fail2ban::check(path, text, ranges, read);
        missing = f2b.missing.iter().map(|n| n.to_string()).collect();
        problems.extend(f2b.problems);
        notes = f2b.notes;
        jails = f2b.jails;
    }
    CheckedFile {
        path: path.display().to_string(),
        kind,
        entries: nets.len(),
        missing,
        stale,
        overbroad,
        problems,
        notes,
        jails,
        cloud: None,
    }
}

/// The files of fail2ban's configuration directory `dir` that `check` judges: `jail.local`,
/// then the `jail.d` fragments, `*.conf` before `*.local`, each in name order (the order
/// fail2ban reads them after `jail.conf`, which is the package's and never edited). Symlinks
/// and other non-files in `jail.d` are left out. Errs when `dir` holds neither `jail.conf`
/// nor `jail.local` (not a fail2ban configuration directory) or `jail.d` cannot be listed.
pub fn fail2ban_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, Error> {
    let jail_local = dir.join("jail.local");
    if !dir.join("jail.conf").is_file() && !jail_local.is_file() {
        return Err(Error::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no jail.conf or jail.local: not fail2ban's configuration directory",
            ),
        });
    }
    let mut files = Vec::new();
    if jail_local.is_file() {
        files.push(jail_local);
    }
    let jail_d = dir.join("jail.d");
    let entries = match std::fs::read_dir(&jail_d) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
        Err(source) => {
            return Err(Error::Io {
                path: jail_d,
                source,
            })
        }
    };
    let mut fragments: Vec<std::path::PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "conf" || x == "local")
                && std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file())
        })
        .collect();
    fragments.sort_by_key(|p| (p.extension().is_some_and(|x| x == "local"), p.clone()));
    files.extend(fragments);
    Ok(files)
}

/// Reads and checks one file.
pub fn check_file(path: &Path, ranges: &RangeSet) -> Result<CheckedFile, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if let Some(result) = check_cloud(path, &bytes, ranges) {
        return result;
    }
    let text = String::from_utf8_lossy(&bytes);
    let read_ranges = |file: &Path| -> Result<(), String> {
        crate::cloudflare::build_ranges(&[file.to_path_buf()], false)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    Ok(check_with(path, &text, ranges, Some(&read_ranges)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudflare::embedded;
    use crate::snippet::Target;

    #[test]
    fn own_snippets_cover_everything() {
        let cf = embedded();
        for (name, target) in [
            ("jail.local", Target::Fail2ban),
            ("csf.ignore", Target::Csf),
            ("cloudflare-realip.conf", Target::NginxRealip),
            ("allow.conf", Target::NginxAllow),
            ("remoteip.conf", Target::ApacheRemoteip),
            ("modsec.conf", Target::Modsecurity),
            ("cloudflare.ipset", Target::Ipset),
            ("cloudflare.nft", Target::Nftables),
            ("cloudflare-whitelist.yaml", Target::Crowdsec),
            ("cloudflare.txt", Target::Plain),
        ] {
            let r = check_text(Path::new(name), &target.generate(&cf), &cf);
            assert!(!r.has_gaps(), "{name}: {r:?}");
        }
        for json in [
            crate::snippet::btwaf::ip_white_octets(&cf),
            crate::snippet::btwaf::ip_white_integers(&cf),
        ] {
            let r = check_text(Path::new("ip_white.json"), &json, &cf);
            assert_eq!(r.kind, ListKind::Btwaf);
            assert_eq!(r.missing.len(), 7, "only the IPv6 ranges: {r:?}");
        }
    }

    #[test]
    fn fail2ban_traps() {
        let cf = embedded();
        let merged = crate::snippet::fail2ban::merge_with(
            "[DEFAULT]\nignoreip = 127.0.0.1/8 # office\n\n[sshd]\nignoreip = 10.0.0.0/8\n",
            &cf,
            "test",
            crate::snippet::MergeOptions::default().default_only(true),
        );
        let r = check_text(Path::new("jail.local"), &merged, &cf);
        assert!(r.missing.is_empty(), "{r:?}");
        assert!(r.problems.iter().any(|p| p.contains("`#` inside")), "{r:?}");
        assert!(r.problems.iter().any(|p| p.contains("[sshd]")), "{r:?}");
    }

    /// The files are read as the programs read them: btwaf's loader takes the first element
    /// of each IPv6 item, lfd the first word of each line.
    #[test]
    fn lists_are_read_as_their_programs_read_them() {
        let cf = embedded();
        let v6 = crate::snippet::btwaf::ip_white_v6(&cf);
        let r = check_text(Path::new("ip_white_v6.json"), &v6, &cf);
        assert_eq!(r.kind, ListKind::Btwaf);
        assert_eq!(r.missing.len(), 15, "only the IPv4 ranges: {r:?}");
        // The old flat list: btwaf loads nothing from it.
        let flat = r#"["2400:cb00::/32", "2606:4700::/32"]"#;
        let r = check_text(Path::new("ip_white_v6.json"), flat, &cf);
        assert!(r.missing.contains(&"2400:cb00::/32".to_string()), "{r:?}");
        assert!(
            r.problems.iter().any(|p| p.contains("bare string")),
            "{r:?}"
        );
        // lfd takes the first word: `103.22.200.0/22#x` is no address, and a line holding
        // `Include` is skipped.
        let ignore = "103.22.200.0/22#x
141.101.64.0/18 # Included by hand
173.245.48.0/20
";
        let r = check_text(Path::new("csf.ignore"), ignore, &cf);
        for gap in ["103.22.200.0/22", "141.101.64.0/18"] {
            assert!(r.missing.contains(&gap.to_string()), "{gap}: {r:?}");
        }
        assert!(!r.missing.contains(&"173.245.48.0/20".to_string()), "{r:?}");
        assert!(
            r.problems.iter().any(|p| p.contains("covers nothing")),
            "{r:?}"
        );
    }

    /// A ban list given to `check` as the allow list allows nothing, whatever it holds:
    /// csf's deny list, a plain list whose name says it bans, a panel's block list; an allow
    /// list or one of unknown purpose with the same lines covers them.
    #[test]
    fn a_ban_list_given_as_the_allow_list_allows_nothing() {
        let cf = embedded();
        let every: String = cf.nets().iter().map(|n| format!("{n}\n")).collect();
        let dated: String = cf
            .nets()
            .iter()
            .filter(|n| n.prefix_len() == n.max_prefix_len())
            .map(|n| format!("{}=dateblocked=1741526531\n", n.addr()))
            .chain(["104.16.0.1=dateblocked=1741526531\n".to_string()])
            .collect();
        for (path, text) in [
            ("/etc/csf/csf.deny", every.as_str()),
            ("/var/lib/csf/csf.tempban", every.as_str()),
            ("/etc/blocklist/banned-ips.txt", every.as_str()),
            ("/root/blocked_ips.txt", dated.as_str()),
        ] {
            let r = check_text(Path::new(path), text, &cf);
            assert_eq!(r.missing.len(), cf.nets().len(), "{path}: {r:?}");
            assert!(
                r.problems.len() == 1 && r.problems[0].starts_with("a ban list, not an allow list"),
                "{path}: {r:?}"
            );
        }
        for path in ["/etc/csf/csf.allow", "/etc/cloudflare-ips.txt", "allow.txt"] {
            let r = check_text(Path::new(path), &every, &cf);
            assert!(!r.has_gaps(), "{path}: {r:?}");
        }
    }

    /// cPHulk's white list, as `whmapi1 --output=json read_cphulk_records list_name=white`
    /// prints it: the records `snippet cphulk` creates cover every range; one range short is
    /// named; the black list, or a bad key, covers nothing.
    #[test]
    fn cphulk_white_list_from_the_snippet_covers_every_range() {
        let cf = crate::cloudflare::embedded();
        let response = |list: &str, keys: &[String]| {
            let ips: serde_json::Map<String, serde_json::Value> = keys
                .iter()
                .map(|k| (k.clone(), serde_json::Value::from("Cloudflare")))
                .collect();
            serde_json::json!({
                "data": {"ips_in_list": ips, "list_name": list, "requester_ip": "104.16.0.1"},
                "metadata": {"command": "read_cphulk_records", "reason": "OK", "result": 1, "version": 1}
            })
            .to_string()
        };
        let snippet = crate::snippet::cphulk::generate(&cf);
        let keys: Vec<String> = snippet
            .lines()
            .filter(|l| l.starts_with("whmapi1 create_cphulk_record list_name=white "))
            .filter_map(|l| l.split(" ip=").nth(1))
            .map(|rest| rest.split_whitespace().next().unwrap().to_string())
            .collect();
        assert_eq!(keys.len(), cf.nets().len());
        let path = Path::new("cphulk-white.json");
        let r = check_text(path, &response("white", &keys), &cf);
        assert_eq!(r.kind, ListKind::Cphulk);
        assert!(!r.has_gaps(), "{r:?}");
        let short = check_text(path, &response("white", &keys[1..]), &cf);
        assert_eq!(short.missing, [keys[0].clone()]);
        let black = check_text(path, &response("black", &keys), &cf);
        assert_eq!(black.entries, 0);
        assert!(black.problems[0].contains("black list"), "{black:?}");
        let mut bad = keys.clone();
        bad.push("cloudflare.com".to_string());
        let bad = check_text(path, &response("white", &bad), &cf);
        assert!(
            bad.problems
                .iter()
                .any(|p| p.contains("\"cloudflare.com\" covers nothing")),
            "{bad:?}"
        );
    }
}
