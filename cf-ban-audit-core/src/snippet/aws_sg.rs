//! AWS security groups: the `--ip-permissions` JSON of `aws ec2
//! authorize-security-group-ingress` (the `IpPermission` shape of botocore's EC2 model,
//! FORMATS.md §6 B1): one permission for TCP 80 and one for TCP 443, each with every IPv4
//! range in `IpRanges` (`CidrIp`) and every IPv6 range in `Ipv6Ranges` (`CidrIpv6`), each
//! described. JSON only, so that it goes to the CLI as it is:
//!
//! ```sh
//! cf-ban-audit snippet aws-sg > cloudflare-sg.json
//! aws ec2 authorize-security-group-ingress --group-id sg-0123 --ip-permissions file://cloudflare-sg.json
//! ```
//!
//! A security group has allow rules only, so the rules cannot lose to a deny in the group (a
//! network ACL of the subnet can still refuse: `check` says so).

use serde_json::{json, Value};

use crate::ranges::RangeSet;

/// The description of every range.
pub(crate) const DESCRIPTION: &str = "Cloudflare (cf-ban-audit)";

/// The permissions as a JSON value.
pub(crate) fn permissions(ranges: &RangeSet) -> Value {
    let v4: Vec<Value> = ranges
        .v4_nets()
        .map(|n| json!({"CidrIp": n.to_string(), "Description": DESCRIPTION}))
        .collect();
    let v6: Vec<Value> = ranges
        .v6_nets()
        .map(|n| json!({"CidrIpv6": n.to_string(), "Description": DESCRIPTION}))
        .collect();
    Value::Array(
        [80, 443]
            .into_iter()
            .map(|port| {
                let mut p = json!({"IpProtocol": "tcp", "FromPort": port, "ToPort": port});
                if !v4.is_empty() {
                    p["IpRanges"] = Value::Array(v4.clone());
                }
                if !v6.is_empty() {
                    p["Ipv6Ranges"] = Value::Array(v6.clone());
                }
                p
            })
            .collect(),
    )
}

/// The JSON document, pretty-printed, with a final newline.
pub fn generate(ranges: &RangeSet) -> String {
    let mut s = serde_json::to_string_pretty(&permissions(ranges)).unwrap_or_default();
    s.push('\n');
    s
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn generate() {
        let s = crate::snippet::aws_sg::generate(&crate::cloudflare::embedded());
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 2);
        assert_eq!(v[1]["FromPort"], 443);
        assert_eq!(v[1]["IpRanges"].as_array().unwrap().len(), 15);
        assert_eq!(v[1]["Ipv6Ranges"][0]["CidrIpv6"], "2400:cb00::/32");
        assert_eq!(
            v[0]["IpRanges"][0]["Description"],
            "Cloudflare (cf-ban-audit)"
        );
    }
}
