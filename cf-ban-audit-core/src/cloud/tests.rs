//! The vendors' semantics on literal exports: order, ties, defaults, split ranges, sources
//! that cannot be resolved, damaged exports.

use serde_json::json;

use super::*;
use crate::cloudflare::embedded;

fn run(doc: serde_json::Value) -> CloudCheck {
    check_bytes(doc.to_string().as_bytes(), &embedded())
        .expect("a cloud export")
        .expect("readable")
}

/// (range, port, rule) of every refusal.
fn refused(c: &CloudCheck) -> Vec<(String, u16, String)> {
    c.refused
        .iter()
        .map(|r| (r.range.clone(), r.port, r.rule.clone()))
        .collect()
}

fn aws(perms: serde_json::Value) -> serde_json::Value {
    json!({"SecurityGroups": [{"GroupId": "sg-1", "GroupName": "web", "IpPermissions": perms,
        "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}]})
}

fn tcp(port: u16, v4: &[&str], v6: &[&str]) -> serde_json::Value {
    json!({"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
        "IpRanges": v4.iter().map(|c| json!({"CidrIp": c})).collect::<Vec<_>>(),
        "Ipv6Ranges": v6.iter().map(|c| json!({"CidrIpv6": c})).collect::<Vec<_>>(),
        "PrefixListIds": [], "UserIdGroupPairs": []})
}

#[test]
fn aws_allows_only_what_a_rule_allows() {
    let c = run(aws(json!([tcp(443, &["203.0.113.0/24"], &[])])));
    assert_eq!(c.vendor, Vendor::AwsSecurityGroups);
    assert_eq!(c.refused.len(), 44);
    assert!(c
        .refused
        .iter()
        .all(|r| r.rule.starts_with("no rule allows")));
    assert!(c.unresolved.is_empty());
    let all = run(aws(
        json!([{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
        "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]),
    ));
    assert!(all.is_ok(), "{all:?}");
}

/// `::/0` in `Ipv6Ranges` lets IPv6 in, not IPv4 (a `RangeSet` reads its mapped part as
/// IPv4).
#[test]
fn an_ipv6_source_never_admits_ipv4() {
    let c = run(aws(json!([
        tcp(80, &[], &["::/0"]),
        tcp(443, &[], &["::/0"])
    ])));
    assert_eq!(c.refused.len(), 30, "the 15 IPv4 ranges on two ports");
    assert!(c.refused.iter().all(|r| !r.range.contains(':')));
}

/// A range partly allowed is refused in its other part only, named exactly.
#[test]
fn a_partly_allowed_range_is_split() {
    let c = run(aws(json!([
        tcp(443, &["172.64.0.0/14", "0.0.0.0/1"], &["::/0"]),
        tcp(80, &["0.0.0.0/0"], &["::/0"])
    ])));
    let on_443: Vec<&Refusal> = c.refused.iter().filter(|r| r.port == 443).collect();
    let parts: Vec<(&str, Vec<String>)> = on_443
        .iter()
        .map(|r| (r.range.as_str(), r.nets.clone()))
        .collect();
    assert!(
        parts.contains(&("172.64.0.0/13", vec!["172.68.0.0/14".to_string()])),
        "{parts:?}"
    );
    // The ranges above 128.0.0.0 are refused whole; those below are allowed.
    assert!(parts.contains(&("173.245.48.0/20", vec!["173.245.48.0/20".to_string()])));
    assert!(!parts.iter().any(|(r, _)| *r == "103.21.244.0/22"));
    assert!(c.refused.iter().all(|r| r.port == 443));
}

#[test]
fn aws_prefix_lists_and_groups_are_unresolved() {
    let c = run(aws(json!([
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 443, "IpRanges": [], "Ipv6Ranges": [],
         "PrefixListIds": [{"PrefixListId": "pl-0123", "Description": "0.0.0.0/0 allow"}],
         "UserIdGroupPairs": []},
    ])));
    assert!(c.refused.is_empty(), "{:?}", refused(&c));
    assert_eq!(c.unresolved.len(), 44);
    let u = &c.unresolved[0];
    assert!(u.rule.contains("pl-0123") && u.why.contains("get-managed-prefix-list-entries"));
    assert!(
        u.otherwise.starts_with("refused by no rule allows"),
        "{u:?}"
    );
    // Other protocols never match TCP, and a Description is never a source.
    let c = run(aws(
        json!([{"IpProtocol": "udp", "FromPort": 443, "ToPort": 443,
        "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "tcp 443 Allow 0.0.0.0/0"}]}]),
    ));
    assert_eq!(c.refused.len(), 44);
}

#[test]
fn aws_rule_listing_skips_egress() {
    let doc = json!({"SecurityGroupRules": [
        {"SecurityGroupRuleId": "sgr-1", "GroupId": "sg-1", "IsEgress": true, "IpProtocol": "-1",
         "FromPort": -1, "ToPort": -1, "CidrIpv4": "0.0.0.0/0"},
        {"SecurityGroupRuleId": "sgr-2", "GroupId": "sg-1", "IsEgress": false, "IpProtocol": "tcp",
         "FromPort": 80, "ToPort": 443, "CidrIpv4": "0.0.0.0/0"},
        {"SecurityGroupRuleId": "sgr-3", "GroupId": "sg-1", "IsEgress": false, "IpProtocol": "tcp",
         "FromPort": 443, "ToPort": 443, "CidrIpv6": "::/0"},
    ]});
    let c = run(doc);
    assert_eq!(c.vendor, Vendor::AwsSecurityGroupRules);
    assert_eq!(refused(&c).len(), 7, "{:?}", refused(&c));
    assert!(c
        .refused
        .iter()
        .all(|r| r.port == 80 && r.range.contains(':')));
}

fn gcp_rule(
    name: &str,
    priority: u32,
    action: &str,
    ports: &[&str],
    src: &[&str],
) -> serde_json::Value {
    let mut r = json!({"name": name, "network": "https://www.googleapis.com/compute/v1/projects/p/global/networks/default",
        "direction": "INGRESS", "priority": priority, "disabled": false, "kind": "compute#firewall",
        "sourceRanges": src});
    r[action] = json!([{"IPProtocol": "tcp", "ports": ports}]);
    r
}

#[test]
fn gcp_lower_priority_wins_and_deny_wins_ties() {
    let doc = json!([
        gcp_rule(
            "allow-web",
            1000,
            "allowed",
            &["80", "443"],
            &["0.0.0.0/0", "::/0"]
        ),
        gcp_rule("deny-80", 900, "denied", &["80"], &["0.0.0.0/0"]),
        gcp_rule(
            "allow-443-tie",
            500,
            "allowed",
            &["440-450"],
            &["104.16.0.0/13"]
        ),
        gcp_rule("deny-443-tie", 500, "denied", &["443"], &["104.16.0.0/13"]),
    ]);
    let c = run(doc);
    let r = refused(&c);
    assert_eq!(r.len(), 16, "{r:?}");
    assert!(r
        .iter()
        .filter(|x| x.1 == 80)
        .all(|x| x.2.starts_with("deny-80 (priority 900, DENY tcp:80)")));
    assert!(r.contains(&(
        "104.16.0.0/13".to_string(),
        443,
        "deny-443-tie (priority 500, DENY tcp:443) from 104.16.0.0/13".to_string()
    )));
}

#[test]
fn gcp_disabled_rules_tags_and_the_implied_deny() {
    let mut disabled = gcp_rule("deny-all", 10, "denied", &[], &["0.0.0.0/0"]);
    disabled["disabled"] = json!(true);
    let mut tagged = gcp_rule(
        "default-allow-https",
        1000,
        "allowed",
        &["443"],
        &["0.0.0.0/0"],
    );
    tagged["targetTags"] = json!(["https-server"]);
    let mut from_tags = gcp_rule("allow-80-from-lb", 1000, "allowed", &["80"], &[]);
    from_tags.as_object_mut().unwrap().remove("sourceRanges");
    from_tags["sourceTags"] = json!(["lb"]);
    let c = run(json!([disabled, tagged, from_tags]));
    assert!(c.notes.iter().any(|n| n.contains("deny-all is disabled")));
    assert!(c.notes.iter().any(|n| n.contains("target https-server")));
    // 443: IPv4 allowed, IPv6 refused by the implied deny; 80: unresolved (source tags).
    assert_eq!(c.refused.len(), 7);
    assert!(c
        .refused
        .iter()
        .all(|r| r.port == 443 && r.rule.starts_with("implied deny")));
    assert_eq!(c.unresolved.len(), 22);
    assert!(c
        .unresolved
        .iter()
        .all(|u| u.port == 80 && u.why.contains("lb")));
}

fn azure_rule(name: &str, priority: u32, access: &str, port: &str, src: &str) -> serde_json::Value {
    json!({"name": name, "priority": priority, "access": access, "direction": "Inbound",
        "protocol": "Tcp", "sourceAddressPrefix": src, "sourceAddressPrefixes": [],
        "sourcePortRange": "*", "sourcePortRanges": [], "destinationAddressPrefix": "*",
        "destinationAddressPrefixes": [], "destinationPortRange": port, "destinationPortRanges": []})
}

#[test]
fn azure_first_match_by_priority_and_the_defaults() {
    let c = run(json!([
        azure_rule("allow-web", 300, "Allow", "*", "*"),
        azure_rule("deny-443", 200, "Deny", "443", "Internet"),
    ]));
    assert_eq!(c.vendor, Vendor::AzureNsg);
    assert_eq!(c.refused.len(), 22);
    assert!(c
        .refused
        .iter()
        .all(|r| r.port == 443 && r.rule.starts_with("deny-443")));
    assert!(c.notes.iter().any(|n| n.contains("Internet service tag")));
    // Nothing allows: AllowVnetInBound's tag could hold an address, so it is unresolved.
    let c = run(json!([azure_rule(
        "ssh",
        100,
        "Allow",
        "22",
        "203.0.113.0/24"
    )]));
    assert!(c.refused.is_empty());
    assert_eq!(c.unresolved.len(), 44);
    assert!(c.unresolved[0].rule.starts_with("AllowVnetInBound"));
    assert!(c.unresolved[0]
        .otherwise
        .starts_with("refused by DenyAllInBound"));
}

#[test]
fn azure_plural_fields_and_the_rest_wrapper() {
    let mut plural = azure_rule("cf", 100, "Allow", "", "");
    plural["sourceAddressPrefixes"] = json!(embedded()
        .nets()
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>());
    plural["destinationPortRanges"] = json!(["80", "443"]);
    plural["destinationPortRange"] = json!(null);
    let deny = azure_rule("DenyAllInBound", 65500, "Deny", "*", "*");
    let c = run(json!([plural, deny]));
    assert!(c.is_ok(), "{c:?}");
    let wrapped = json!([{"name": "x", "properties": azure_rule("x", 100, "Deny", "80-443", "*")}]);
    let c = run(wrapped);
    assert_eq!(c.refused.len(), 44);
}

#[test]
fn alibaba_priority_and_drop_wins_ties() {
    let perm = |policy: &str, prio: &str, range: &str, src: &str| {
        json!({"SourceGroupId": "", "Policy": policy, "Description": "", "SourcePortRange": "",
            "Priority": prio, "Direction": "ingress", "PortRange": range, "IpProtocol": "TCP",
            "SourceCidrIp": src, "Ipv6SourceCidrIp": "", "SourcePrefixListId": "", "DestCidrIp": ""})
    };
    let doc = json!({"SecurityGroupId": "sg-1", "RegionId": "cn-beijing", "Permissions": {"Permission": [
        perm("Accept", "1", "1/65535", "0.0.0.0/0"),
        perm("Drop", "1", "443/443", "173.245.48.0/20"),
        perm("Accept", "2", "80/80", "104.16.0.0/13"),
    ]}});
    let c = run(doc);
    assert_eq!(c.vendor, Vendor::AlibabaSecurityGroup);
    let r = refused(&c);
    // 173.245.48.0/20 on 443 by the drop; every IPv6 range on both ports by the default.
    assert_eq!(r.len(), 1 + 14, "{r:?}");
    assert!(r
        .iter()
        .any(|x| x.0 == "173.245.48.0/20" && x.1 == 443 && x.2.contains("Drop")));
}

#[test]
fn tencent_policy_index_order_and_templates() {
    let doc = json!({"Response": {"RequestId": "r", "SecurityGroupPolicySet": {"Version": "3",
    "Egress": [],
    "Ingress": [
        {"PolicyIndex": 1, "Protocol": "ALL", "Port": "ALL", "CidrBlock": "0.0.0.0/0", "Action": "DROP"},
        {"PolicyIndex": 0, "Protocol": "TCP", "Port": "80,443", "CidrBlock": "0.0.0.0/0", "Action": "ACCEPT",
         "PolicyDescription": "DROP all"},
        {"PolicyIndex": 2, "Protocol": "TCP", "Port": "443", "Ipv6CidrBlock": "::/0", "Action": "ACCEPT"},
        {"PolicyIndex": 3, "Protocol": "TCP", "Port": "80", "AddressTemplate": {"AddressId": "ipm-1", "AddressGroupId": ""},
         "Action": "ACCEPT"},
    ]}}});
    let c = run(doc);
    assert_eq!(c.vendor, Vendor::TencentSecurityGroup);
    // IPv4: accepted by policy 0 before policy 1's drop. IPv6 on 443: policy 2; on 80 the
    // default refuses unless address template ipm-1 (policy 3) holds it.
    assert!(c.refused.is_empty(), "{:?}", refused(&c));
    assert_eq!(c.unresolved.len(), 7);
    assert!(c
        .unresolved
        .iter()
        .all(|u| u.port == 80 && u.range.contains(':')));
    assert!(c.unresolved[0].why.contains("ipm-1"));
}

#[test]
fn damaged_exports_are_errors_and_other_json_is_not_cloud() {
    let cf = embedded();
    let bad = br#"{"SecurityGroups": [{"GroupId": "sg-1", "IpPermissions": [{"IpProtocol": "tcp""#;
    let e = check_bytes(bad, &cf).unwrap().unwrap_err();
    assert!(e.contains("not valid JSON"), "{e}");
    let bad_port =
        aws(json!([{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 80, "IpRanges": []}]));
    let e = check_bytes(bad_port.to_string().as_bytes(), &cf)
        .unwrap()
        .unwrap_err();
    assert!(e.contains("bad port range"), "{e}");
    let no_ports = aws(json!([{"IpProtocol": "tcp", "IpRanges": []}]));
    assert!(check_bytes(no_ports.to_string().as_bytes(), &cf)
        .unwrap()
        .is_err());
    let bad_cidr = aws(json!([tcp(443, &["203.0.113.0/33"], &[])]));
    assert!(check_bytes(bad_cidr.to_string().as_bytes(), &cf)
        .unwrap()
        .is_err());
    for other in [
        &b"[[\"2400:cb00::/32\", \"cf\"]]"[..],
        b"{\"whitelist\": []}",
        b"173.245.48.0/20\n",
        b"[DEFAULT]\nignoreip = 127.0.0.1\n",
        b"[]",
    ] {
        assert!(check_bytes(other, &cf).is_none());
    }
}

/// Every value of every export in `fixtures/cloud` replaced, one at a time, by a value of
/// each other JSON kind, and every export cut at many places: a verdict or an error, never a
/// panic.
#[test]
fn hostile_values_never_panic() {
    fn paths(v: &serde_json::Value, at: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(at.clone());
        match v {
            serde_json::Value::Object(o) => {
                for (k, c) in o {
                    let mut p = at.clone();
                    p.push(k.clone());
                    paths(c, p, out);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, c) in a.iter().enumerate().take(3) {
                    let mut p = at.clone();
                    p.push(i.to_string());
                    paths(c, p, out);
                }
            }
            _ => {}
        }
    }
    fn at<'a>(v: &'a mut serde_json::Value, path: &[String]) -> &'a mut serde_json::Value {
        path.iter().fold(v, |v, k| match v {
            serde_json::Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
            _ => &mut v[k.as_str()],
        })
    }
    let cf = embedded();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cloud");
    let replacements = [
        json!(null),
        json!(-1),
        json!(1e300),
        json!(""),
        json!("-1/-1"),
        json!("80-8O"),
        json!([]),
        json!({}),
        json!(true),
    ];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.to_string_lossy();
        if !name.ends_with(".json") || name.ends_with(".check.json") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for cut in (0..bytes.len()).step_by(89) {
            let _ = check_bytes(&bytes[..cut], &cf);
        }
        let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let mut all = Vec::new();
        paths(&doc, Vec::new(), &mut all);
        for p in all.iter().filter(|p| !p.is_empty()) {
            for r in &replacements {
                let mut d = doc.clone();
                *at(&mut d, p) = r.clone();
                let _ = check_bytes(d.to_string().as_bytes(), &cf);
            }
        }
    }
}
