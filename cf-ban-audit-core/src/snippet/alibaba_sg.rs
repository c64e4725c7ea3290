//! Alibaba Cloud: `aliyun ecs AuthorizeSecurityGroup` calls (FORMATS.md §6 B4) in the
//! `Permissions.N` form the API recommends, one per range and port: TCP 80 and 443 accepted
//! from each range (`SourceCidrIp`, or `Ipv6SourceCidrIp` for IPv6) at priority 1, the highest.
//! Rules of the same priority that drop win over these, so a Drop at priority 1 that covers
//! Cloudflare must go: `check` of the group names it. Each call runs on its own: one that fails
//! does not stop the others; the script names the failed ones at the end and exits 1.

use std::fmt::Write;

use ipnet::IpNet;

use crate::ranges::RangeSet;

/// The `sh` script.
pub fn generate(ranges: &RangeSet) -> String {
    let mut s = String::from(
        "#!/bin/sh\n\
         # Allow Cloudflare on TCP 80 and 443 in an Alibaba Cloud ECS security group (generated\n\
         # by cf-ban-audit). REGION is the region id (cn-hangzhou, ...), SG the group's id.\n\
         # Priority 1 is the highest, but a Drop rule of the same priority still wins: check the\n\
         # group afterwards:\n\
         #   aliyun ecs DescribeSecurityGroupAttribute --RegionId \"$REGION\" --SecurityGroupId \"$SG\" > sg.json && cf-ban-audit check sg.json\n\
         # Each call runs on its own; the failed ones are named at the end (exit 1).\n\
         : \"${REGION:?set REGION}\" \"${SG:?set SG}\"\n\
         failed=\"\"\n",
    );
    for port in [80u16, 443] {
        for net in ranges.nets() {
            let source = match net {
                IpNet::V4(_) => "SourceCidrIp",
                IpNet::V6(_) => "Ipv6SourceCidrIp",
            };
            let _ = writeln!(
                s,
                "aliyun ecs AuthorizeSecurityGroup --RegionId \"$REGION\" --SecurityGroupId \"$SG\" \
                 --Permissions.1.IpProtocol tcp --Permissions.1.PortRange {port}/{port} \
                 --Permissions.1.{source} {net} --Permissions.1.Policy accept \
                 --Permissions.1.Priority 1 --Permissions.1.Description Cloudflare \
                 || failed=\"$failed {net}:{port}\""
            );
        }
    }
    s.push_str(
        "if [ -n \"$failed\" ]; then\n\
         \x20   echo \"alibaba-sg: these rules were not added (see the errors above):$failed\" >&2\n\
         \x20   exit 1\n\
         fi\n",
    );
    s
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn generate() {
        let s = crate::snippet::alibaba_sg::generate(&crate::cloudflare::embedded());
        assert!(s.contains(
            "\naliyun ecs AuthorizeSecurityGroup --RegionId \"$REGION\" --SecurityGroupId \"$SG\" \
             --Permissions.1.IpProtocol tcp --Permissions.1.PortRange 443/443 \
             --Permissions.1.Ipv6SourceCidrIp 2606:4700::/32 --Permissions.1.Policy accept \
             --Permissions.1.Priority 1 --Permissions.1.Description Cloudflare \
             || failed=\"$failed 2606:4700::/32:443\"\n"
        ));
        assert_eq!(s.matches("\naliyun ").count(), 44);
    }
}
