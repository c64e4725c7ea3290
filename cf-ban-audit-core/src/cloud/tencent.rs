//! Tencent Cloud security groups, as `tccli vpc DescribeSecurityGroupPolicies` prints them
//! (`SecurityGroupPolicySet` with `Ingress` and `Egress` lists, at the top or under the API's
//! `Response`): each policy has `PolicyIndex`, `Protocol` (`TCP`, `ALL`, ...), `Port` (`"80"`,
//! `"80,443"`, `"8000-8010"`, `"ALL"`), `CidrBlock` or `Ipv6CidrBlock`, or an
//! `AddressTemplate`, `SecurityGroupId` or `ServiceTemplate`, and `Action` (`ACCEPT`/`DROP`).
//! Shape from the SDK model and tccli's examples (FORMATS.md §6 B4).
//!
//! Semantics: the policies are taken in `PolicyIndex` order, the first that matches deciding,
//! and what none accepts is refused; the order is the console's top-down order and is assumed,
//! not verified (the notes say so). Address and service templates and source groups hold
//! what the export does not show: unresolved.

use serde_json::{Map, Value};

use super::json::{has_all, integer, list, object, text};
use super::ALL_PORTS;
use super::{port_interval, ports_label, source_net, Access, Policy, Rule, Source, Vendor};

/// The `SecurityGroupPolicySet`, at the top or under `Response`.
fn policy_set(doc: &Value) -> Option<&Map<String, Value>> {
    let top = doc.get("Response").unwrap_or(doc);
    top.get("SecurityGroupPolicySet")?.as_object()
}

/// Whether `doc` is a DescribeSecurityGroupPolicies response.
pub(super) fn detect(doc: &Value) -> Option<Vendor> {
    let set = policy_set(doc)?;
    let ingress = set.get("Ingress")?.as_array()?;
    (set.contains_key("Egress") || set.contains_key("Version"))
        .then_some(())
        .filter(|_| {
            ingress
                .iter()
                .all(|p| has_all(p, &["PolicyIndex", "Action"]))
        })
        .map(|_| Vendor::TencentSecurityGroup)
}

/// A template or group field: an id string, or an object of ids (`{"AddressId": "ipm-..",
/// "AddressGroupId": ""}`); `None` when unset.
fn reference(p: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => {
            let ids: Vec<&str> = o
                .values()
                .filter_map(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .collect();
            Ok((!ids.is_empty()).then(|| ids.join(",")))
        }
        Some(_) => Ok(text(p, key)?.map(str::to_string)),
    }
}

/// The rules in decision order.
pub(super) fn policy(doc: &Value) -> Result<Policy, String> {
    let set = policy_set(doc).ok_or("no SecurityGroupPolicySet")?;
    let mut ranked: Vec<(i64, Rule)> = Vec::new();
    for (i, p) in list(set, "Ingress")?.iter().enumerate() {
        let p = object(p, &format!("Ingress[{i}]"))?;
        let index = integer(p, "PolicyIndex")?.unwrap_or(i as i64);
        let name = format!("Ingress policy {index}");
        let access = match text(p, "Action")?.unwrap_or("") {
            a if a.eq_ignore_ascii_case("ACCEPT") => Access::Allow,
            a if a.eq_ignore_ascii_case("DROP") => Access::Deny,
            a => return Err(format!("{name}: Action {a:?} is neither ACCEPT nor DROP")),
        };
        let service = reference(p, "ServiceTemplate")?;
        let proto = text(p, "Protocol")?.unwrap_or("ALL").to_ascii_lowercase();
        if service.is_none() && proto != "tcp" && proto != "all" {
            continue;
        }
        let port = text(p, "Port")?.unwrap_or("ALL");
        let ports = if service.is_some() || proto == "all" || port.eq_ignore_ascii_case("ALL") {
            vec![ALL_PORTS]
        } else {
            port.split(',')
                .map(|p| port_interval(p, '-'))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{name}: {e}"))?
        };
        let word = match access {
            Access::Allow => "ACCEPT",
            Access::Deny => "DROP",
        };
        let label = format!("{name} ({word} tcp {}", ports_label(&ports));
        let mut unknown = Vec::new();
        if let Some(s) = &service {
            unknown.push(format!(
                "service template {s}: its protocols and ports are not in this export"
            ));
        }
        for (key, what) in [
            ("AddressTemplate", "address template"),
            ("SecurityGroupId", "security group"),
        ] {
            if let Some(r) = reference(p, key)? {
                unknown.push(format!("{what} {r}: its addresses are not in this export"));
            }
        }
        let mut pushed = false;
        for key in ["CidrBlock", "Ipv6CidrBlock"] {
            if let Some(cidr) = text(p, key)? {
                let nets = source_net(cidr).map_err(|e| format!("{name}: {e}"))?;
                let source = if unknown.is_empty() {
                    Source::Nets(nets)
                } else {
                    Source::Unknown(unknown.join("; "))
                };
                ranked.push((
                    index,
                    Rule {
                        label: format!("{label} from {cidr})"),
                        access,
                        source,
                        ports: ports.clone(),
                    },
                ));
                pushed = true;
            }
        }
        if !pushed {
            if unknown.is_empty() {
                return Err(format!("{name} has no source"));
            }
            ranked.push((
                index,
                Rule {
                    label: format!("{label} from a template or group)"),
                    access,
                    source: Source::Unknown(unknown.join("; ")),
                    ports,
                },
            ));
        }
    }
    ranked.sort_by_key(|(index, _)| *index);
    Ok(Policy {
        vendor: Vendor::TencentSecurityGroup,
        rules: ranked.into_iter().map(|(_, r)| r).collect(),
        default: "no policy accepts (a security group refuses inbound traffic that no policy accepts)"
            .to_string(),
        notes: vec![
            "policies are taken in PolicyIndex order, the first match deciding (the console's top-down order; assumed, not verified)"
                .to_string(),
        ],
    })
}
