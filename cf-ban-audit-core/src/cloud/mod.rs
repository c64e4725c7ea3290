//! Cloud security groups: does every range of a [`RangeSet`] reach TCP 80 and 443 through the
//! rules a cloud vendor's console or CLI exported? A group in front of the origin that lacks
//! some of Cloudflare's ranges drops their packets before the server sees them (Cloudflare's
//! 522, or 521 where something refuses), and nothing on the server shows it.
//!
//! One module per vendor turns its export into a [`Policy`]: the inbound rules in the order the
//! vendor decides by, each an allow or a deny of a set of sources on some TCP ports, and the
//! default that takes what no rule matches. The vendors differ in that order (AWS allows only,
//! so any allow wins; GCP and Alibaba go by priority with deny winning ties; Azure by priority,
//! first match; Tencent by policy index) and in how they write sources and ports, and the
//! modules say so; the evaluation here is one for all: for each port, walk the rules and take
//! from the still undecided addresses what each rule matches, with [`RangeSet`]'s set
//! operations, so that a range partly allowed is split exactly.
//!
//! Sources the export names but does not hold (AWS prefix lists and referenced groups, GCP
//! source tags and service accounts, Azure service tags and application security groups,
//! Alibaba prefix lists and groups, Tencent address templates and groups) are not guessed: a
//! rule with such a source may or may not match, and an address whose verdict would change if
//! it did is reported as unresolved, naming the rule.
//!
//! The vendor is told by the document's structure (its top-level keys and the fields of its
//! rules), never by one value; free text such as a rule's description is never read as a
//! source or an action.

mod alibaba;
mod aws;
mod azure;
mod gcp;
mod hestia;
mod json;
mod tencent;

use std::fmt;

use ipnet::IpNet;
use serde::Serialize;

use crate::ranges::RangeSet;

/// The TCP ports the check evaluates: what Cloudflare connects to by default.
pub const PORTS: [u16; 2] = [80, 443];

/// The cloud exports `check` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Vendor {
    /// AWS `aws ec2 describe-security-groups` (`SecurityGroups[].IpPermissions`).
    AwsSecurityGroups,
    /// AWS `aws ec2 describe-security-group-rules` (`SecurityGroupRules`, one rule per source).
    AwsSecurityGroupRules,
    /// GCP `gcloud compute firewall-rules list --format=json`.
    GcpFirewall,
    /// Azure `az network nsg rule list -o json` (or `az network nsg show`).
    AzureNsg,
    /// Alibaba Cloud `aliyun ecs DescribeSecurityGroupAttribute`.
    AlibabaSecurityGroup,
    /// Tencent Cloud `tccli vpc DescribeSecurityGroupPolicies`.
    TencentSecurityGroup,
    /// HestiaCP/VestaCP's firewall rules, `data/firewall/rules.conf` (not a cloud's, judged
    /// the same way: IPv4 only, as Hestia filters).
    HestiaFirewall,
}

impl Vendor {
    /// The name shown in reports (`aws-security-groups`, `gcp-firewall`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Vendor::AwsSecurityGroups => "aws-security-groups",
            Vendor::AwsSecurityGroupRules => "aws-security-group-rules",
            Vendor::GcpFirewall => "gcp-firewall",
            Vendor::AzureNsg => "azure-nsg",
            Vendor::AlibabaSecurityGroup => "alibaba-security-group",
            Vendor::TencentSecurityGroup => "tencent-security-group",
            Vendor::HestiaFirewall => "hestia-firewall",
        }
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What `check` found in one cloud export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CloudCheck {
    /// Whose export it is.
    pub vendor: Vendor,
    /// The TCP ports evaluated.
    pub ports: Vec<u16>,
    /// How many inbound rules were evaluated (one per source for AWS and Azure lists).
    pub rules: usize,
    /// Every part of a range that a port refuses, with the rule that refuses it.
    pub refused: Vec<Refusal>,
    /// Every part of a range whose verdict depends on a source the export does not hold.
    pub unresolved: Vec<Unresolved>,
    /// What the verdict assumes or leaves out (disabled rules, targets, the vendor's defaults).
    pub notes: Vec<String>,
}

impl CloudCheck {
    /// Whether every range reaches every port for sure.
    pub fn is_ok(&self) -> bool {
        self.refused.is_empty() && self.unresolved.is_empty()
    }
}

/// A range (or part of one) that a port refuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Refusal {
    /// The range of the set.
    pub range: String,
    /// The TCP port.
    pub port: u16,
    /// The refused part of the range: the range itself when it is refused whole.
    pub nets: Vec<String>,
    /// The rule that refuses it, or the default (`no rule allows`, `implied deny`, ...).
    pub rule: String,
}

/// A range (or part of one) whose verdict on a port depends on a source the export only
/// names (a prefix list, a tag, a group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Unresolved {
    /// The range of the set.
    pub range: String,
    /// The TCP port.
    pub port: u16,
    /// The part of the range concerned.
    pub nets: Vec<String>,
    /// The rule whose source could not be resolved.
    pub rule: String,
    /// What the source is and why it could not be resolved.
    pub why: String,
    /// The verdict if the source does not hold the addresses: `refused by ...` or
    /// `allowed by ...`.
    pub otherwise: String,
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Allow,
    Deny,
}

/// Where a rule's traffic comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// These addresses.
    Nets(RangeSet),
    /// A source the export names but does not hold; why.
    Unknown(String),
}

/// One inbound rule as the evaluation sees it: only rules that match TCP are kept.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    /// How reports name it (vendor's id or name, ports and source).
    pub(crate) label: String,
    pub(crate) access: Access,
    pub(crate) source: Source,
    /// Inclusive TCP port intervals.
    pub(crate) ports: Vec<(u16, u16)>,
}

impl Rule {
    fn covers_port(&self, port: u16) -> bool {
        self.ports.iter().any(|&(lo, hi)| lo <= port && port <= hi)
    }
}

/// A vendor's inbound rules in decision order (the first rule that matches an address
/// decides), and what decides when none matches.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub(crate) vendor: Vendor,
    pub(crate) rules: Vec<Rule>,
    /// The verdict for what no rule matches, always a refusal (every vendor here refuses
    /// inbound traffic by default).
    pub(crate) default: String,
    pub(crate) notes: Vec<String>,
}

/// The addresses of `a` that are in `b`.
fn intersect(a: &RangeSet, b: &RangeSet) -> RangeSet {
    a.difference(&a.difference(b))
}

/// One decision of a walk: these addresses, this access, by this rule, and the earlier rule of
/// unknown source and the other access that could have decided them instead.
struct Decision<'a> {
    set: RangeSet,
    access: Access,
    by: &'a str,
    unless: Option<&'a Rule>,
}

/// The decisions on one port: every address of `ranges` exactly once.
fn walk<'a>(policy: &'a Policy, ranges: &RangeSet, port: u16) -> Vec<Decision<'a>> {
    let mut undecided = ranges.clone();
    let (mut unknown_allow, mut unknown_deny): (Option<&Rule>, Option<&Rule>) = (None, None);
    let mut out = Vec::new();
    for rule in policy.rules.iter().filter(|r| r.covers_port(port)) {
        if undecided.is_empty() {
            break;
        }
        match &rule.source {
            Source::Unknown(_) => {
                let slot = match rule.access {
                    Access::Allow => &mut unknown_allow,
                    Access::Deny => &mut unknown_deny,
                };
                slot.get_or_insert(rule);
            }
            Source::Nets(src) => {
                let hit = intersect(&undecided, src);
                if hit.is_empty() {
                    continue;
                }
                undecided = undecided.difference(src);
                let unless = match rule.access {
                    Access::Allow => unknown_deny,
                    Access::Deny => unknown_allow,
                };
                out.push(Decision {
                    set: hit,
                    access: rule.access,
                    by: &rule.label,
                    unless,
                });
            }
        }
    }
    if !undecided.is_empty() {
        out.push(Decision {
            set: undecided,
            access: Access::Deny,
            by: &policy.default,
            unless: unknown_allow,
        });
    }
    out
}

/// Evaluates a policy for every range of `ranges` on every port of [`PORTS`].
pub(crate) fn evaluate(policy: &Policy, ranges: &RangeSet) -> CloudCheck {
    let mut refused = Vec::new();
    let mut unresolved = Vec::new();
    for port in PORTS {
        let decisions = walk(policy, ranges, port);
        for range in ranges.nets() {
            let alone: RangeSet = std::iter::once(*range).collect();
            for d in &decisions {
                if d.access == Access::Allow && d.unless.is_none() {
                    continue;
                }
                let part = intersect(&d.set, &alone);
                if part.is_empty() {
                    continue;
                }
                let nets: Vec<String> = part.nets().iter().map(IpNet::to_string).collect();
                match d.unless {
                    None => refused.push(Refusal {
                        range: range.to_string(),
                        port,
                        nets,
                        rule: d.by.to_string(),
                    }),
                    Some(rule) => unresolved.push(Unresolved {
                        range: range.to_string(),
                        port,
                        nets,
                        rule: rule.label.clone(),
                        why: match &rule.source {
                            Source::Unknown(why) => why.clone(),
                            Source::Nets(_) => String::new(),
                        },
                        otherwise: match d.access {
                            Access::Allow => format!("allowed by {}", d.by),
                            Access::Deny => format!("refused by {}", d.by),
                        },
                    }),
                }
            }
        }
    }
    CloudCheck {
        vendor: policy.vendor,
        ports: PORTS.to_vec(),
        rules: policy.rules.len(),
        refused,
        unresolved,
        notes: policy.notes.clone(),
    }
}

/// Which vendor's export `bytes` holds, told by the structure of the JSON document (`None`
/// when it is not JSON or no vendor's shape).
pub(crate) fn detect(doc: &serde_json::Value) -> Option<Vendor> {
    aws::detect(doc)
        .or_else(|| gcp::detect(doc))
        .or_else(|| azure::detect(doc))
        .or_else(|| alibaba::detect(doc))
        .or_else(|| tencent::detect(doc))
}

/// Keys that only the vendors' exports use: a document that holds one but does not parse as
/// JSON is a damaged export (an error), not a list of some other kind.
const MARKERS: &[&str] = &[
    "\"IpPermissions\"",
    "\"SecurityGroupRules\"",
    "\"sourceRanges\"",
    "\"sourceAddressPrefix",
    "\"securityRules\"",
    "\"SourceCidrIp\"",
    "\"SecurityGroupPolicySet\"",
];

/// Reads a cloud export: `None` when `bytes` is no vendor's export, else the check or what is
/// wrong with the export (the caller names the file).
pub(crate) fn check_bytes(bytes: &[u8], ranges: &RangeSet) -> Option<Result<CloudCheck, String>> {
    let start = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *start != b'{' && *start != b'[' {
        return None;
    }
    let doc: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(doc) => doc,
        Err(e) => {
            let head = &bytes[..bytes.len().min(64 * 1024)];
            let marked = MARKERS
                .iter()
                .any(|m| memchr::memmem::find(head, m.as_bytes()).is_some());
            return marked.then(|| {
                Err(format!(
                    "looks like a cloud security group export but is not valid JSON: {e}"
                ))
            });
        }
    };
    let vendor = detect(&doc)?;
    let policy = match vendor {
        Vendor::AwsSecurityGroups => aws::groups(&doc),
        Vendor::AwsSecurityGroupRules => aws::group_rules(&doc),
        Vendor::GcpFirewall => gcp::policy(&doc),
        Vendor::AzureNsg => azure::policy(&doc),
        Vendor::AlibabaSecurityGroup => alibaba::policy(&doc),
        Vendor::TencentSecurityGroup => tencent::policy(&doc),
        Vendor::HestiaFirewall => Err("rules.conf is text, not JSON".to_string()),
    };
    Some(
        policy
            .map(|p| evaluate(&p, ranges))
            .map_err(|e| format!("{} export: {e}", vendor.name())),
    )
}

/// Reads Hestia's `rules.conf` (told by its place, `…/data/firewall/rules.conf`, or by every
/// line being a rule): `None` when `text` is none, else the check of the IPv4 ranges of
/// `ranges` (Hestia filters IPv4 only), or what is wrong with the file.
pub(crate) fn check_hestia(
    path: &std::path::Path,
    text: &str,
    ranges: &RangeSet,
) -> Option<Result<CloudCheck, String>> {
    if !path.ends_with("data/firewall/rules.conf") && !hestia::detect(text) {
        return None;
    }
    let v4 = intersect(ranges, &all_v4());
    Some(
        hestia::policy(text)
            .map(|p| evaluate(&p, &v4))
            .map_err(|e| format!("{} rules: {e}", Vendor::HestiaFirewall.name())),
    )
}

/// Inclusive TCP port intervals from `"80"`, `"8000-8100"` (with `sep` between the bounds),
/// checked to lie in 0..=65535 with the first bound not above the second.
pub(crate) fn port_interval(text: &str, sep: char) -> Result<(u16, u16), String> {
    let text = text.trim();
    let (lo, hi) = text.split_once(sep).unwrap_or((text, text));
    let parse = |s: &str| {
        s.trim()
            .parse::<u16>()
            .map_err(|_| format!("bad port {text:?}"))
    };
    let (lo, hi) = (parse(lo)?, parse(hi)?);
    if lo > hi {
        return Err(format!("bad port range {text:?}"));
    }
    Ok((lo, hi))
}

/// Every TCP port.
pub(crate) const ALL_PORTS: (u16, u16) = (0, 65535);

/// A source address or CIDR as the vendors write it, as a set; an error names it. An IPv6
/// source matches IPv6 packets only: its IPv4-mapped part (all of IPv4 for `::/0`, which a
/// [`RangeSet`] reads as IPv4) is left out.
pub(crate) fn source_net(text: &str) -> Result<RangeSet, String> {
    let net = crate::addr::parse_net(text.trim().as_bytes())
        .ok_or_else(|| format!("{text:?} is not an address or CIDR"))?;
    let set: RangeSet = std::iter::once(net).collect();
    Ok(match net {
        IpNet::V4(_) => set,
        IpNet::V6(_) if text.contains('.') => set,
        IpNet::V6(_) => set.difference(&all_v4()),
    })
}

/// Every IPv4 address.
fn all_v4() -> RangeSet {
    let v4: IpNet = "0.0.0.0/0".parse().expect("valid");
    std::iter::once(v4).collect()
}

/// Every address, IPv4 and IPv6 (`*`, `Internet`).
pub(crate) fn everything() -> RangeSet {
    let v6: IpNet = "::/0".parse().expect("valid");
    std::iter::once(v6).collect()
}

/// Ports written for a label: `80`, `8000-8100`, `all ports`.
pub(crate) fn ports_label(ports: &[(u16, u16)]) -> String {
    if ports == [ALL_PORTS] {
        return "all ports".to_string();
    }
    ports
        .iter()
        .map(|&(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests;
