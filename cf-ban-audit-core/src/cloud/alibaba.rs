//! Alibaba Cloud ECS security groups, as `aliyun ecs DescribeSecurityGroupAttribute` prints
//! them: `SecurityGroupId`, `Permissions.Permission[]` with `Direction`, `Policy`
//! (`Accept`/`Drop`), `Priority`, `IpProtocol`, `PortRange` (`"443/443"`, `"-1/-1"` for every
//! port), `SourceCidrIp`, `Ipv6SourceCidrIp`, `SourcePrefixListId`, `SourceGroupId`; an empty
//! string is unset. Shape from a captured response (FORMATS.md §6 B4).
//!
//! Semantics (AuthorizeSecurityGroup's documentation): priority 1 to 100, the smaller first;
//! of rules of the same priority a drop wins; what no rule accepts is refused. A prefix list
//! or a source group holds addresses the export does not show: unresolved.

use serde_json::Value;

use super::json::{has_all, integer, list, object, text};
use super::ALL_PORTS;
use super::{port_interval, ports_label, source_net, Access, Policy, Rule, Source, Vendor};

/// Whether `doc` is a DescribeSecurityGroupAttribute response.
pub(super) fn detect(doc: &Value) -> Option<Vendor> {
    if !has_all(doc, &["SecurityGroupId", "Permissions"]) {
        return None;
    }
    let perms = doc.get("Permissions")?.get("Permission")?.as_array()?;
    perms
        .iter()
        .all(|p| has_all(p, &["Policy", "PortRange", "IpProtocol", "SourceCidrIp"]))
        .then_some(Vendor::AlibabaSecurityGroup)
}

/// The rules in decision order.
pub(super) fn policy(doc: &Value) -> Result<Policy, String> {
    let mut ranked: Vec<(i64, u8, Rule)> = Vec::new();
    let perms = doc
        .get("Permissions")
        .and_then(|p| p.as_object())
        .ok_or("Permissions is not an object")?;
    for (i, p) in list(perms, "Permission")?.iter().enumerate() {
        let p = object(p, &format!("Permission[{i}]"))?;
        let id = text(p, "SecurityGroupRuleId")?
            .map(str::to_string)
            .unwrap_or_else(|| format!("Permission[{i}]"));
        if !text(p, "Direction")?
            .unwrap_or("ingress")
            .eq_ignore_ascii_case("ingress")
        {
            continue;
        }
        let access = match text(p, "Policy")?.unwrap_or("Accept") {
            a if a.eq_ignore_ascii_case("Accept") => Access::Allow,
            a if a.eq_ignore_ascii_case("Drop") => Access::Deny,
            a => return Err(format!("{id}: Policy {a:?} is neither Accept nor Drop")),
        };
        let proto = text(p, "IpProtocol")?.unwrap_or("").to_ascii_lowercase();
        if proto != "tcp" && proto != "all" {
            continue;
        }
        let range = text(p, "PortRange")?.unwrap_or("-1/-1");
        let ports = if range.trim() == "-1/-1" || proto == "all" {
            ALL_PORTS
        } else {
            port_interval(range, '/').map_err(|e| format!("{id}: {e}"))?
        };
        let priority = integer(p, "Priority")?.unwrap_or(1);
        if !(1..=100).contains(&priority) {
            return Err(format!("{id}: Priority {priority} is not in 1..100"));
        }
        let word = match access {
            Access::Allow => "Accept",
            Access::Deny => "Drop",
        };
        let label = format!(
            "{id} (priority {priority}, {word} tcp {})",
            ports_label(&[ports])
        );
        let tie = u8::from(access == Access::Allow);
        let mut pushed = false;
        for key in ["SourceCidrIp", "Ipv6SourceCidrIp"] {
            if let Some(cidr) = text(p, key)? {
                let set = source_net(cidr).map_err(|e| format!("{id}: {e}"))?;
                ranked.push((
                    priority,
                    tie,
                    Rule {
                        label: format!("{label} from {cidr}"),
                        access,
                        source: Source::Nets(set),
                        ports: vec![ports],
                    },
                ));
                pushed = true;
            }
        }
        for (key, what) in [
            ("SourcePrefixListId", "prefix list"),
            ("SourceGroupId", "security group"),
        ] {
            if let Some(other) = text(p, key)? {
                ranked.push((
                    priority,
                    tie,
                    Rule {
                        label: format!("{label} from {what} {other}"),
                        access,
                        source: Source::Unknown(format!(
                            "{what} {other}: its addresses are not in this export"
                        )),
                        ports: vec![ports],
                    },
                ));
                pushed = true;
            }
        }
        if !pushed {
            return Err(format!("{id} has no source"));
        }
    }
    ranked.sort_by_key(|(priority, tie, _)| (*priority, *tie));
    Ok(Policy {
        vendor: Vendor::AlibabaSecurityGroup,
        rules: ranked.into_iter().map(|(_, _, r)| r).collect(),
        default: "no rule accepts (a security group refuses inbound traffic that no rule accepts)"
            .to_string(),
        notes: Vec::new(),
    })
}
