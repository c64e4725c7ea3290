//! Azure network security groups, as `az network nsg rule list -o json` prints them (an array
//! of rules, flattened: `name`, `priority`, `direction`, `access`, `protocol`,
//! `sourceAddressPrefix` or `sourceAddressPrefixes`, `sourceApplicationSecurityGroups`,
//! `destinationPortRange` or `destinationPortRanges`), as `az network nsg show` prints the
//! group (`securityRules` and `defaultSecurityRules`), or with the REST API's `properties`
//! wrapper. Shape from azure-cli's generated commands and a captured listing (FORMATS.md §6
//! B3).
//!
//! Semantics: `Inbound` rules are processed by priority, the lower number first, and the first
//! rule that matches decides; the default rules follow (`AllowVnetInBound` 65000,
//! `AllowAzureLoadBalancerInBound` 65001, `DenyAllInBound` 65500), taken as they are when the
//! export has them and added when it does not (`rule list` leaves them out). A rule uses the
//! singular field or the plural one, the other left `""`, `[]` or `null`: both are read. `*`
//! is every address or port, `Internet` is taken as every address (Cloudflare's are public
//! addresses outside any virtual network; the notes say so); other service tags
//! (`VirtualNetwork`, `AzureLoadBalancer`, ...) and application security groups hold addresses
//! the export does not show: unresolved.

use serde_json::{Map, Value};

use super::json::{all_objects, has_all, integer, list, strings, text};
use super::ALL_PORTS;
use super::{
    everything, port_interval, ports_label, source_net, Access, Policy, Rule, Source, Vendor,
};
use crate::ranges::RangeSet;

/// The fields of a rule, flattened or under `properties`.
fn fields(v: &Value) -> Option<&Map<String, Value>> {
    let o = v.as_object()?;
    match o.get("properties").and_then(Value::as_object) {
        Some(p) if p.contains_key("access") => Some(p),
        _ => Some(o),
    }
}

fn is_rule(v: &Value) -> bool {
    fields(v).is_some_and(|f| {
        ["access", "direction", "priority"]
            .iter()
            .all(|k| f.contains_key(*k))
            && (f.contains_key("sourceAddressPrefix") || f.contains_key("sourceAddressPrefixes"))
    })
}

/// Whether `doc` is a rule list or a group.
pub(super) fn detect(doc: &Value) -> Option<Vendor> {
    if all_objects(doc, is_rule) {
        return Some(Vendor::AzureNsg);
    }
    let group = fields(doc).filter(|_| has_all(doc, &["name"]))?;
    let rules = group.get("securityRules")?.as_array()?;
    let defaults = group.get("defaultSecurityRules")?.as_array()?;
    rules
        .iter()
        .chain(defaults)
        .all(is_rule)
        .then_some(Vendor::AzureNsg)
}

/// The rules of a listing or a group, with their names.
fn rule_objects(doc: &Value) -> Vec<(&Value, &Map<String, Value>)> {
    let items: Vec<&Value> = match doc.as_array() {
        Some(a) => a.iter().collect(),
        None => fields(doc)
            .into_iter()
            .flat_map(|g| {
                ["securityRules", "defaultSecurityRules"]
                    .into_iter()
                    .filter_map(|k| g.get(k).and_then(Value::as_array))
                    .flatten()
            })
            .collect(),
    };
    items
        .into_iter()
        .filter_map(|v| fields(v).map(|f| (v, f)))
        .collect()
}

/// One field's value and the plural's values together.
fn both<'a>(f: &'a Map<String, Value>, one: &str, many: &str) -> Result<Vec<&'a str>, String> {
    let mut out: Vec<&str> = text(f, one)?.into_iter().collect();
    out.extend(strings(f, many)?);
    Ok(out)
}

/// The default rules Azure adds to every group, for an export that lacks them.
fn defaults(have: &[String]) -> Vec<(i64, Rule)> {
    let mut out = Vec::new();
    for (name, priority, tag) in [
        ("AllowVnetInBound", 65000, "VirtualNetwork"),
        ("AllowAzureLoadBalancerInBound", 65001, "AzureLoadBalancer"),
    ] {
        if !have.iter().any(|h| h == name) {
            out.push((
                priority,
                Rule {
                    label: format!("{name} (default rule, priority {priority}, Allow from {tag})"),
                    access: Access::Allow,
                    source: Source::Unknown(tag_why(tag)),
                    ports: vec![ALL_PORTS],
                },
            ));
        }
    }
    out
}

fn tag_why(tag: &str) -> String {
    format!("service tag {tag}: Azure's addresses for it are not in this export")
}

/// The rules in decision order.
pub(super) fn policy(doc: &Value) -> Result<Policy, String> {
    let mut ranked: Vec<(i64, Rule)> = Vec::new();
    let mut names = Vec::new();
    let mut notes = Vec::new();
    let mut internet = false;
    for (i, (whole, f)) in rule_objects(doc).into_iter().enumerate() {
        let name = text(f, "name")?
            .or(whole
                .as_object()
                .map(|o| text(o, "name"))
                .transpose()?
                .flatten())
            .unwrap_or("?")
            .to_string();
        names.push(name.clone());
        let direction = text(f, "direction")?.unwrap_or("");
        if !direction.eq_ignore_ascii_case("Inbound") {
            continue;
        }
        let access = match text(f, "access")?.unwrap_or("") {
            a if a.eq_ignore_ascii_case("Allow") => Access::Allow,
            a if a.eq_ignore_ascii_case("Deny") => Access::Deny,
            a => return Err(format!("{name}: access {a:?} is neither Allow nor Deny")),
        };
        let protocol = text(f, "protocol")?.unwrap_or("*");
        if !["*", "tcp", "any"]
            .iter()
            .any(|p| protocol.eq_ignore_ascii_case(p))
        {
            continue;
        }
        let priority =
            integer(f, "priority")?.ok_or_else(|| format!("rule {i} ({name}) has no priority"))?;
        let mut ports = Vec::new();
        for p in both(f, "destinationPortRange", "destinationPortRanges")? {
            if p.trim() == "*" {
                ports = vec![ALL_PORTS];
                break;
            }
            ports.push(port_interval(p, '-').map_err(|e| format!("{name}: {e}"))?);
        }
        if ports.is_empty() {
            return Err(format!("{name} has no destination port"));
        }
        let word = match access {
            Access::Allow => "Allow",
            Access::Deny => "Deny",
        };
        let label = format!(
            "{name} (priority {priority}, {word} tcp {}",
            ports_label(&ports)
        );
        let mut nets = RangeSet::new();
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for s in both(f, "sourceAddressPrefix", "sourceAddressPrefixes")? {
            let s = s.trim();
            if s == "*" || s.eq_ignore_ascii_case("Internet") {
                internet |= s != "*";
                nets = nets.union(&everything());
                known.push(s);
            } else if let Ok(set) = source_net(s) {
                nets = nets.union(&set);
                known.push(s);
            } else if s.starts_with(|c: char| c.is_ascii_alphabetic()) {
                unknown.push(tag_why(s));
            } else {
                return Err(format!(
                    "{name}: source {s:?} is no address, CIDR or service tag"
                ));
            }
        }
        for g in list(f, "sourceApplicationSecurityGroups")? {
            let id = g
                .as_object()
                .map(|o| text(o, "id"))
                .transpose()?
                .flatten()
                .unwrap_or("?");
            let short = id.rsplit('/').next().unwrap_or(id);
            unknown.push(format!(
                "application security group {short}: the addresses of its members are not in this export"
            ));
        }
        if known.is_empty() && unknown.is_empty() {
            return Err(format!("{name} has no source"));
        }
        if !known.is_empty() {
            ranked.push((
                priority,
                Rule {
                    label: format!("{label} from {})", known.join(",")),
                    access,
                    source: Source::Nets(nets),
                    ports: ports.clone(),
                },
            ));
        }
        if !unknown.is_empty() {
            ranked.push((
                priority,
                Rule {
                    label: format!("{label} from a tag or group)"),
                    access,
                    source: Source::Unknown(unknown.join("; ")),
                    ports,
                },
            ));
        }
    }
    let added = defaults(&names);
    let deny_all = names.iter().any(|n| n == "DenyAllInBound");
    if !added.is_empty() || !deny_all {
        notes.push(
            "the export lacks Azure's default rules: AllowVnetInBound, AllowAzureLoadBalancerInBound and DenyAllInBound are evaluated as Azure adds them"
                .to_string(),
        );
    }
    ranked.extend(added);
    ranked.sort_by_key(|(priority, _)| *priority);
    if internet {
        notes.push(
            "the Internet service tag is taken as every address: Cloudflare's ranges are public addresses outside any virtual network"
                .to_string(),
        );
    }
    notes.push(
        "Azure evaluates the subnet's NSG and the network interface's NSG both: check each"
            .to_string(),
    );
    Ok(Policy {
        vendor: Vendor::AzureNsg,
        rules: ranked.into_iter().map(|(_, r)| r).collect(),
        default: "DenyAllInBound (default rule, priority 65500)".to_string(),
        notes,
    })
}
