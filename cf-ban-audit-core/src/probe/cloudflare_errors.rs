//! Cloudflare's 52x errors as its documentation names and explains them
//! (developers.cloudflare.com/support/troubleshooting/http-status-codes/cloudflare-5xx-errors/,
//! one page per error), with the fix the probe gives for each.

/// The commands that export a cloud security group's rules for `cf-ban-audit check`, one per
/// vendor (a literal, for `concat!`).
macro_rules! cloud_exports {
    () => {
        "`aws ec2 describe-security-groups --group-ids sg-... > sg.json && cf-ban-audit check \
         sg.json` (GCP: `gcloud compute firewall-rules list --format=json > fw.json`; Azure: \
         `az network nsg rule list -g RG --nsg-name NSG -o json > nsg.json`; Alibaba Cloud: \
         `aliyun ecs DescribeSecurityGroupAttribute --SecurityGroupId sg-... > sg.json`; \
         Tencent Cloud: `tccli vpc DescribeSecurityGroupPolicies --SecurityGroupId sg-... > \
         sg.json`; then `cf-ban-audit check` the file): it names the Cloudflare ranges the \
         group refuses on 80 and 443 and the rule that refuses them"
    };
}

/// One Cloudflare error: its code, its name, what it means and what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloudflareError {
    /// The status code Cloudflare answers with.
    pub code: u16,
    /// The name on Cloudflare's error page.
    pub name: &'static str,
    /// What Cloudflare's documentation says it means.
    pub meaning: &'static str,
    /// What to check on the origin.
    pub fix: &'static str,
}

/// The errors the probe can tell.
pub const ERRORS: &[CloudflareError] = &[
    CloudflareError {
        code: 520,
        name: "Web server is returning an unknown error",
        meaning: "The origin returned an empty, unknown or unexpected response: the connection \
                  was reset after the handshake, closed without an answer, or the answer was \
                  not valid HTTP (no status line, missing headers, headers over 128 KB).",
        fix: "Read the web server's error log at the time of the probe: a crashed worker (PHP \
              applications are a frequent cause), a rule that closes connections without \
              answering (nginx `return 444`, a WAF, a security plugin refusing the client), a \
              misconfigured HTTP/2, or oversized headers (many cookies).",
    },
    CloudflareError {
        code: 521,
        name: "Web server is down",
        meaning: "The origin refused the connection (an RST): nothing listens on the port, or a \
                  firewall rejects Cloudflare's addresses.",
        fix: concat!(
            "Check that the web server runs and listens on this port on a public address, and \
             that the origin's firewall and ban tools do not reject Cloudflare's ranges: run \
             `cf-ban-audit doctor` on the origin (firewall verdict per Cloudflare address, \
             listeners) and `cf-ban-audit scan --active` (bans of Cloudflare addresses in \
             force, with the command that lifts each). On a cloud server, check the cloud \
             security group in front of it too (most drop what they do not allow, which \
             Cloudflare shows as 522, but a load balancer or firewall in front may refuse): ",
            cloud_exports!(),
            "."
        ),
    },
    CloudflareError {
        code: 522,
        name: "Connection timed out",
        meaning: "The origin did not answer Cloudflare's SYN with a SYN+ACK within 19 seconds \
                  (or did not acknowledge the request within 90 seconds once connected).",
        fix: concat!(
            "Packets from Cloudflare are dropped silently: look for DROP rules (iptables, \
             nftables, fail2ban or CrowdSec banactions with DROP), a cloud security group or \
             network ACL that does not allow all Cloudflare ranges, rate limiting of \
             connections, a wrong origin address in the DNS record, or an overloaded origin \
             (full SYN backlog). `cf-ban-audit doctor` evaluates the firewall for Cloudflare's \
             addresses. A cloud security group drops what it does not allow, unseen from the \
             server: export its rules and check them, ",
            cloud_exports!(),
            "."
        ),
    },
    CloudflareError {
        code: 523,
        name: "Origin is unreachable",
        meaning: "There is no route to the origin's address (host or network unreachable).",
        fix: "Check that the DNS record in Cloudflare holds the origin's current public address \
              and that the network routes to it (traceroute from the origin to a Cloudflare \
              address; overly broad routes such as 172.0.0.0/8 capture Cloudflare's \
              172.64.0.0/13).",
    },
    CloudflareError {
        code: 524,
        name: "A timeout occurred",
        meaning: "The connection was made but the origin sent no HTTP response within the \
                  Proxy Read Timeout (100 seconds by default), or did not take the request \
                  within the 30-second Proxy Write Timeout.",
        fix: "The backend is slow or stuck: a long-running request, an overloaded application \
              or database, exhausted workers. Find the slow request in the access and \
              application logs; move long jobs to background work with status polling.",
    },
    CloudflareError {
        code: 525,
        name: "SSL handshake failed",
        meaning: "The TLS handshake between Cloudflare and the origin failed (SSL/TLS mode Full \
                  or Full (strict)).",
        fix: "Check the origin's TLS configuration for this port: a certificate installed for \
              this name (SNI support), TLS 1.2 or 1.3 enabled, cipher suites in common with \
              Cloudflare, and that the port speaks TLS at all (not plain HTTP on 443). The web \
              server's error log shows why it refused the handshake.",
    },
    CloudflareError {
        code: 526,
        name: "Invalid SSL certificate",
        meaning: "In Full (strict) mode Cloudflare could not validate the origin's certificate: \
                  expired, not yet valid, self-signed or from an untrusted issuer, or not naming \
                  the hostname.",
        fix: "Install a valid certificate for the hostname: one from a public CA (e.g. Let's \
              Encrypt), or a free Cloudflare Origin CA certificate (SSL/TLS > Origin Server), \
              with its chain. Switching the zone to Full (not strict) only hides the problem.",
    },
];

/// The entry for `code`, if the probe knows it.
pub fn lookup(code: u16) -> Option<&'static CloudflareError> {
    ERRORS.iter().find(|e| e.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_once() {
        let codes: Vec<u16> = ERRORS.iter().map(|e| e.code).collect();
        assert_eq!(codes, [520, 521, 522, 523, 524, 525, 526]);
        assert!(lookup(521).unwrap().fix.contains("cf-ban-audit doctor"));
        assert!(lookup(500).is_none());
    }

    /// 521 and 522 name the cloud security group and the `check` of its export.
    #[test]
    fn refusals_and_timeouts_name_the_cloud_security_group() {
        for code in [521, 522] {
            let fix = lookup(code).unwrap().fix;
            for needle in [
                "cloud security group",
                "aws ec2 describe-security-groups --group-ids sg-... > sg.json && cf-ban-audit check sg.json",
                "gcloud compute firewall-rules list --format=json",
                "az network nsg rule list",
                "DescribeSecurityGroupAttribute",
                "DescribeSecurityGroupPolicies",
            ] {
                assert!(fix.contains(needle), "{code}: {needle}: {fix}");
            }
        }
    }
}
