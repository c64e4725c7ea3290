//! GCP VPC firewall rules, as `gcloud compute firewall-rules list --format=json` prints them:
//! an array of the compute API's `Firewall` resources (`name`, `network`, `direction`,
//! `priority`, `disabled`, `sourceRanges`, `sourceTags`, `sourceServiceAccounts`,
//! `targetTags`, `targetServiceAccounts`, `allowed` or `denied` as `[{IPProtocol, ports}]`
//! with ports as strings such as `"80"` and `"8000-8100"`). Shape from the API reference and a
//! captured listing (FORMATS.md §6 B2); keys left empty are omitted.
//!
//! Semantics (compute API): only `INGRESS` rules judge inbound traffic; a `disabled` rule is not
//! enforced; priority 0 to 65535, the lower number wins, and a deny wins over an allow of the
//! same priority (so rules are walked by priority, denies first within one); an entry without
//! `ports` is every port of its protocol, `all` every protocol; what no rule matches meets the
//! implied deny at 65535. Source tags and service accounts stand for instances of the network,
//! whose addresses the export does not hold: unresolved. Target tags and service accounts limit
//! the instances a rule applies to: the verdict assumes the origin is one of them, and says so.

use serde_json::Value;

use super::json::{all_objects, boolean, has_all, integer, list, object, strings, text};
use super::ALL_PORTS;
use super::{port_interval, ports_label, source_net, Access, Policy, Rule, Source, Vendor};
use crate::ranges::RangeSet;

/// Whether `doc` is a firewall-rules listing.
pub(super) fn detect(doc: &Value) -> Option<Vendor> {
    all_objects(doc, |r| {
        has_all(r, &["name", "network", "direction", "priority"])
            && (has_all(r, &["allowed"]) || has_all(r, &["denied"]))
    })
    .then_some(Vendor::GcpFirewall)
}

/// The TCP port intervals of an `allowed` or `denied` list.
fn tcp_ports(entries: &[Value], name: &str) -> Result<Vec<(u16, u16)>, String> {
    let mut out = Vec::new();
    for e in entries {
        let e = object(e, &format!("{name}: a protocol entry"))?;
        let proto = text(e, "IPProtocol")?
            .ok_or_else(|| format!("{name}: a protocol entry without IPProtocol"))?
            .to_ascii_lowercase();
        if !matches!(proto.as_str(), "tcp" | "all" | "6") {
            continue;
        }
        let ports = strings(e, "ports")?;
        if ports.is_empty() || proto == "all" {
            return Ok(vec![ALL_PORTS]);
        }
        for p in ports {
            out.push(port_interval(p, '-').map_err(|e| format!("{name}: {e}"))?);
        }
    }
    Ok(out)
}

/// The rules of the listing in decision order.
pub(super) fn policy(doc: &Value) -> Result<Policy, String> {
    let mut ranked: Vec<(i64, u8, Rule)> = Vec::new();
    let mut notes = Vec::new();
    let mut networks: Vec<String> = Vec::new();
    for (i, r) in doc.as_array().into_iter().flatten().enumerate() {
        let r = object(r, &format!("rule {i}"))?;
        let name = text(r, "name")?.unwrap_or("?").to_string();
        if let Some(net) = text(r, "network")? {
            let net = net.rsplit('/').next().unwrap_or(net).to_string();
            if !networks.contains(&net) {
                networks.push(net);
            }
        }
        let direction = text(r, "direction")?.unwrap_or("INGRESS");
        if !direction.eq_ignore_ascii_case("INGRESS") {
            continue;
        }
        let (access, entries) = match (list(r, "allowed")?, list(r, "denied")?) {
            (a, []) if !a.is_empty() => (Access::Allow, a),
            ([], d) if !d.is_empty() => (Access::Deny, d),
            _ => return Err(format!("{name} has not exactly one of allowed and denied")),
        };
        let ports = tcp_ports(entries, &name)?;
        if ports.is_empty() {
            continue;
        }
        if boolean(r, "disabled")?.unwrap_or(false) {
            notes.push(format!("{name} is disabled: not enforced, left out"));
            continue;
        }
        let priority = integer(r, "priority")?.unwrap_or(1000);
        if !(0..=65535).contains(&priority) {
            return Err(format!("{name}: priority {priority} is not in 0..65535"));
        }
        let word = match access {
            Access::Allow => "ALLOW",
            Access::Deny => "DENY",
        };
        let label = format!(
            "{name} (priority {priority}, {word} tcp:{})",
            ports_label(&ports)
        );
        let targets: Vec<&str> = strings(r, "targetTags")?
            .into_iter()
            .chain(strings(r, "targetServiceAccounts")?)
            .collect();
        if !targets.is_empty() {
            notes.push(format!(
                "{name} applies only to instances with target {}: the verdict assumes the origin is one",
                targets.join(", ")
            ));
        }
        if !strings(r, "destinationRanges")?.is_empty() {
            notes.push(format!(
                "{name} applies only to some destination addresses (destinationRanges): the verdict assumes the origin's is one"
            ));
        }
        let tie = u8::from(access == Access::Allow);
        let mut sources = RangeSet::new();
        let ranges = strings(r, "sourceRanges")?;
        for s in &ranges {
            sources = sources.union(&source_net(s).map_err(|e| format!("{name}: {e}"))?);
        }
        let tagged: Vec<&str> = strings(r, "sourceTags")?
            .into_iter()
            .chain(strings(r, "sourceServiceAccounts")?)
            .collect();
        if !ranges.is_empty() {
            ranked.push((
                priority,
                tie,
                Rule {
                    label: format!("{label} from {}", ranges.join(",")),
                    access,
                    source: Source::Nets(sources),
                    ports: ports.clone(),
                },
            ));
        }
        if !tagged.is_empty() || ranges.is_empty() {
            let why = if tagged.is_empty() {
                "no source range, tag or service account in the export".to_string()
            } else {
                format!(
                    "source tags or service accounts {}: the addresses of the network's instances that carry them, not in this export",
                    tagged.join(", ")
                )
            };
            ranked.push((
                priority,
                tie,
                Rule {
                    label: format!("{label} from {}", tagged.join(",")),
                    access,
                    source: Source::Unknown(why),
                    ports,
                },
            ));
        }
    }
    ranked.sort_by_key(|(priority, tie, _)| (*priority, *tie));
    if networks.len() > 1 {
        notes.push(format!(
            "rules of {} networks ({}) evaluated together: list one network's rules (--filter=\"network:NAME\") to judge it alone",
            networks.len(),
            networks.join(", ")
        ));
    }
    notes.push(
        "hierarchical and network firewall policies are evaluated before these rules and are not in this export"
            .to_string(),
    );
    Ok(Policy {
        vendor: Vendor::GcpFirewall,
        rules: ranked.into_iter().map(|(_, _, r)| r).collect(),
        default: "implied deny (priority 65535: ingress that no rule allows)".to_string(),
        notes,
    })
}
