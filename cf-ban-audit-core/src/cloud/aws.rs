//! AWS security groups, as `aws ec2 describe-security-groups` prints them (`SecurityGroups`,
//! each with `IpPermissions`: `IpProtocol`, `FromPort`, `ToPort`, `IpRanges[].CidrIp`,
//! `Ipv6Ranges[].CidrIpv6`, `PrefixListIds`, `UserIdGroupPairs`) and as `aws ec2
//! describe-security-group-rules` prints them (`SecurityGroupRules`, one rule per source:
//! `IsEgress`, `CidrIpv4`, `CidrIpv6`, `PrefixListId`, `ReferencedGroupInfo`). Shapes from
//! botocore's EC2 service model and the aws-cli examples (FORMATS.md §6 B1).
//!
//! Semantics: a security group has allow rules only, and what none allows is dropped. An
//! instance's groups add up: the rules of every group in the file are evaluated together, as
//! for an instance that has them all (the notes say so when there are several). `IpProtocol`
//! `-1` (or `all`) is every protocol and every port whatever `FromPort`/`ToPort` say; `tcp` (or
//! `6`) the ports from `FromPort` to `ToPort`; other protocols never match TCP. A prefix list
//! or a referenced group holds addresses the export does not show: unresolved.

use serde_json::{Map, Value};

use super::json::{all_objects, boolean, has_all, integer, list, object, text};
use super::ALL_PORTS;
use super::{port_interval, ports_label, source_net, Access, Policy, Rule, Source, Vendor};

/// What refuses what no rule allows.
const DEFAULT: &str = "no rule allows (a security group drops what none of its rules allows)";

/// Which of the two AWS shapes `doc` is.
pub(super) fn detect(doc: &Value) -> Option<Vendor> {
    let o = doc.as_object()?;
    if let Some(groups) = o.get("SecurityGroups") {
        let ok = groups
            .as_array()
            .is_some_and(|a| a.iter().all(|g| has_all(g, &["GroupId", "IpPermissions"])));
        return ok.then_some(Vendor::AwsSecurityGroups);
    }
    let rules = o.get("SecurityGroupRules")?;
    all_objects(rules, |r| {
        has_all(r, &["SecurityGroupRuleId", "IsEgress", "IpProtocol"])
    })
    .then_some(Vendor::AwsSecurityGroupRules)
}

/// The TCP ports a rule of this protocol covers: `None` when it matches no TCP.
fn tcp_ports(o: &Map<String, Value>, what: &str) -> Result<Option<(u16, u16)>, String> {
    let proto = text(o, "IpProtocol")?
        .ok_or_else(|| format!("{what} has no IpProtocol"))?
        .to_ascii_lowercase();
    match proto.as_str() {
        "-1" | "all" => Ok(Some(ALL_PORTS)),
        "tcp" | "6" => {
            let from = integer(o, "FromPort")?;
            let to = integer(o, "ToPort")?;
            match (from, to) {
                (Some(from), Some(to)) => port_interval(&format!("{from}-{to}"), '-')
                    .map(Some)
                    .map_err(|e| format!("{what}: {e}")),
                _ => Err(format!("{what} is tcp without FromPort and ToPort")),
            }
        }
        _ => Ok(None),
    }
}

fn net_rule(label: String, cidr: &str, ports: (u16, u16)) -> Result<Rule, String> {
    let set = source_net(cidr).map_err(|e| format!("{label}: {e}"))?;
    Ok(Rule {
        label,
        access: Access::Allow,
        source: Source::Nets(set),
        ports: vec![ports],
    })
}

fn unknown_rule(label: String, why: String, ports: (u16, u16)) -> Rule {
    Rule {
        label,
        access: Access::Allow,
        source: Source::Unknown(why),
        ports: vec![ports],
    }
}

fn prefix_list_why(id: &str) -> String {
    format!(
        "prefix list {id}: its entries are not in this export (aws ec2 get-managed-prefix-list-entries --prefix-list-id {id})"
    )
}

fn group_why(id: &str) -> String {
    format!(
        "security group {id}: it admits the private addresses of the instances in it, which this export does not hold"
    )
}

/// Notes every AWS verdict carries.
fn common_notes(notes: &mut Vec<String>, groups: &[String]) {
    if groups.len() > 1 {
        notes.push(format!(
            "{} security groups ({}) evaluated together, as for an instance that has them all: their allows add up; export one group to judge it alone",
            groups.len(),
            groups.join(", ")
        ));
    }
    notes.push(
        "network ACLs of the subnet are evaluated as well and are not in this export (aws ec2 describe-network-acls)"
            .to_string(),
    );
}

/// `describe-security-groups`.
pub(super) fn groups(doc: &Value) -> Result<Policy, String> {
    let mut rules = Vec::new();
    let mut names = Vec::new();
    for (gi, g) in list(object(doc, "the document")?, "SecurityGroups")?
        .iter()
        .enumerate()
    {
        let g = object(g, &format!("SecurityGroups[{gi}]"))?;
        let id = text(g, "GroupId")?.unwrap_or("?").to_string();
        names.push(id.clone());
        for (pi, p) in list(g, "IpPermissions")?.iter().enumerate() {
            let what = format!("{id} IpPermissions[{pi}]");
            let p = object(p, &what)?;
            let Some(ports) = tcp_ports(p, &what)? else {
                continue;
            };
            let proto = text(p, "IpProtocol")?.unwrap_or("?");
            let head = if ports == ALL_PORTS {
                format!("{id} {proto} (all traffic)")
            } else {
                format!("{id} tcp {}", ports_label(&[ports]))
            };
            for (key, field) in [("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")] {
                for (ri, r) in list(p, key)?.iter().enumerate() {
                    let r = object(r, &format!("{what} {key}[{ri}]"))?;
                    let cidr = text(r, field)?
                        .ok_or_else(|| format!("{what} {key}[{ri}] has no {field}"))?;
                    rules.push(net_rule(format!("{head} from {cidr}"), cidr, ports)?);
                }
            }
            for (ri, r) in list(p, "PrefixListIds")?.iter().enumerate() {
                let r = object(r, &format!("{what} PrefixListIds[{ri}]"))?;
                let pl = text(r, "PrefixListId")?.unwrap_or("?");
                rules.push(unknown_rule(
                    format!("{head} from prefix list {pl}"),
                    prefix_list_why(pl),
                    ports,
                ));
            }
            for (ri, r) in list(p, "UserIdGroupPairs")?.iter().enumerate() {
                let r = object(r, &format!("{what} UserIdGroupPairs[{ri}]"))?;
                let other = text(r, "GroupId")?.or(text(r, "GroupName")?).unwrap_or("?");
                rules.push(unknown_rule(
                    format!("{head} from security group {other}"),
                    group_why(other),
                    ports,
                ));
            }
        }
    }
    let mut notes = Vec::new();
    common_notes(&mut notes, &names);
    Ok(Policy {
        vendor: Vendor::AwsSecurityGroups,
        rules,
        default: DEFAULT.to_string(),
        notes,
    })
}

/// `describe-security-group-rules`.
pub(super) fn group_rules(doc: &Value) -> Result<Policy, String> {
    let mut rules = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (i, r) in list(object(doc, "the document")?, "SecurityGroupRules")?
        .iter()
        .enumerate()
    {
        let r = object(r, &format!("SecurityGroupRules[{i}]"))?;
        let id = text(r, "SecurityGroupRuleId")?.unwrap_or("?").to_string();
        let group = text(r, "GroupId")?.unwrap_or("?").to_string();
        if !names.contains(&group) {
            names.push(group.clone());
        }
        if boolean(r, "IsEgress")?.ok_or_else(|| format!("{id} has no IsEgress"))? {
            continue;
        }
        let Some(ports) = tcp_ports(r, &id)? else {
            continue;
        };
        let head = if ports == ALL_PORTS {
            format!("{group} {id} (all traffic)")
        } else {
            format!("{group} {id} tcp {}", ports_label(&[ports]))
        };
        if let Some(cidr) = text(r, "CidrIpv4")?.or(text(r, "CidrIpv6")?) {
            rules.push(net_rule(format!("{head} from {cidr}"), cidr, ports)?);
        } else if let Some(pl) = text(r, "PrefixListId")? {
            rules.push(unknown_rule(
                format!("{head} from prefix list {pl}"),
                prefix_list_why(pl),
                ports,
            ));
        } else {
            let other = match r.get("ReferencedGroupInfo").and_then(Value::as_object) {
                Some(g) => text(g, "GroupId")?.unwrap_or("?").to_string(),
                None => {
                    return Err(format!(
                    "{id} has no source (CidrIpv4, CidrIpv6, PrefixListId or ReferencedGroupInfo)"
                ))
                }
            };
            rules.push(unknown_rule(
                format!("{head} from security group {other}"),
                group_why(&other),
                ports,
            ));
        }
    }
    let mut notes = Vec::new();
    common_notes(&mut notes, &names);
    Ok(Policy {
        vendor: Vendor::AwsSecurityGroupRules,
        rules,
        default: DEFAULT.to_string(),
        notes,
    })
}
