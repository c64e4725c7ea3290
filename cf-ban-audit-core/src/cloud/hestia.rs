//! HestiaCP's (and VestaCP's) firewall rules, `$HESTIA/data/firewall/rules.conf`: one rule a
//! line, shell `KEY='value'` pairs (`RULE`, `ACTION`, `PROTOCOL`, `PORT`, `IP`, `COMMENT`,
//! `SUSPENDED`, `TIME`, `DATE`), read as strictly as the banlist (`formats/hestia`'s
//! `parse_pairs`). Not a cloud vendor's group, but judged the same way: the panel's own
//! firewall stands in front of the web server, and a rule set that lacks Cloudflare's
//! ranges drops them (Cloudflare's 522).
//!
//! Semantics, as `bin/v-update-firewall` builds the INPUT chain (`hestiacp/hestiacp`,
//! `serghey-rodin/vesta`; FORMATS.md §6 A1): after the server's own addresses, loopback and
//! established connections, the fail2ban chains' jumps (whose bans come first: `scan` reads
//! them), the rules are appended sorted `sort -r -n` by `RULE`, so the highest number is
//! matched first; a rule is applied only with `SUSPENDED='no'` (any other value, or none,
//! leaves it out); `PORT='0'` is every port, a list
//! `80,443` and a range `a-b` (or `a:b`) are multiport; `PROTOCOL` other than `TCP` does not
//! match the web ports; then the chain's policy is `DROP`. `IP='ipset:NAME'` matches the
//! members of a named list that `rules.conf` does not hold: unresolved, never guessed. The
//! firewall is `iptables` only: IPv6 is not filtered by Hestia at all, so only the IPv4
//! ranges are judged, and a note says so.

use super::ALL_PORTS;
use super::{port_interval, ports_label, source_net, Access, Policy, Rule, Source, Vendor};
use crate::formats::hestia::parse_pairs;

/// Whether `text` is a `rules.conf`: every non-empty line is `KEY='value'` pairs with `RULE`,
/// `ACTION`, `PORT` and `IP`, and there is one at least.
pub(crate) fn detect(text: &str) -> bool {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty()).peekable();
    lines.peek().is_some()
        && lines.all(|l| {
            parse_pairs(l.as_bytes()).is_some_and(|p| {
                ["RULE", "ACTION", "PORT", "IP"]
                    .iter()
                    .all(|k| p.iter().any(|(key, _)| *key == k.as_bytes()))
            })
        })
}

/// One line's rule, with its number (`None` for a suspended rule or one that does not
/// match TCP), or why it cannot be read.
fn rule(line: &str) -> Result<Option<(u64, Rule)>, String> {
    let pairs = parse_pairs(line.as_bytes())
        .ok_or("not KEY='value' pairs as Hestia's scripts write them")?;
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| *key == k.as_bytes())
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    let number: u64 = get("RULE")
        .and_then(|n| n.parse().ok())
        .ok_or("RULE is not a number")?;
    // `if [ "$SUSPENDED" = 'no' ]`: a rule without it, or with another value, is left out.
    if get("SUSPENDED").as_deref() != Some("no") {
        return Ok(None);
    }
    let access = match get("ACTION").as_deref() {
        Some("ACCEPT") => Access::Allow,
        Some("DROP" | "REJECT") => Access::Deny,
        other => {
            return Err(format!(
                "rule {number}: ACTION {other:?} is not ACCEPT, DROP or REJECT"
            ))
        }
    };
    let protocol = get("PROTOCOL").unwrap_or_else(|| "TCP".into());
    if !protocol.eq_ignore_ascii_case("TCP") {
        return Ok(None);
    }
    let port = get("PORT").ok_or(format!("rule {number}: no PORT"))?;
    let ports = if port == "0" {
        vec![ALL_PORTS]
    } else {
        port.split(',')
            .map(|p| port_interval(&p.replace(':', "-"), '-'))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("rule {number}: {e}"))?
    };
    let ip = get("IP").ok_or(format!("rule {number}: no IP"))?;
    let source = match ip.strip_prefix("ipset:") {
        Some(name) => Source::Unknown(format!(
            "the ipset {name:?}, whose members rules.conf does not hold"
        )),
        None => {
            let net = source_net(&ip).map_err(|e| format!("rule {number}: {e}"))?;
            Source::Nets(net)
        }
    };
    let label = format!(
        "RULE {number} ({} TCP {} from {ip})",
        if access == Access::Allow {
            "ACCEPT"
        } else {
            "DROP"
        },
        ports_label(&ports)
    );
    Ok(Some((
        number,
        Rule {
            label,
            access,
            source,
            ports,
        },
    )))
}

/// The rules of `rules.conf` in the order `v-update-firewall` appends them.
pub(crate) fn policy(text: &str) -> Result<Policy, String> {
    let mut rules: Vec<(u64, &str, Rule)> = Vec::new();
    let mut suspended = 0;
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match rule(line).map_err(|e| format!("line {}: {e}", n + 1))? {
            Some((number, r)) => rules.push((number, line, r)),
            None => suspended += 1,
        }
    }
    // `sort -r -n`: the highest number first; equal numbers by the whole line, reversed.
    rules.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(a.1)));
    let mut notes = vec![
        "Hestia's firewall is iptables only: IPv6 is not filtered by it, so only the IPv4 \
         ranges are judged"
            .to_string(),
        "the fail2ban chains (fail2ban-WEB, fail2ban-RECIDIVE, ...) come before these rules: \
         a ban there drops an address whatever the rules allow (scan reads them)"
            .to_string(),
    ];
    if suspended > 0 {
        notes.push(format!(
            "{suspended} rule(s) not SUSPENDED='no' or not TCP, left out as v-update-firewall leaves them"
        ));
    }
    Ok(Policy {
        vendor: Vendor::HestiaFirewall,
        rules: rules.into_iter().map(|(_, _, r)| r).collect(),
        default: "no rule allows (the INPUT chain's policy DROP)".into(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(text: &str) -> Vec<String> {
        policy(text)
            .unwrap()
            .rules
            .into_iter()
            .map(|r| r.label)
            .collect()
    }

    #[test]
    fn highest_rule_first_suspended_and_other_protocols_out() {
        let text = "RULE='9' ACTION='ACCEPT' PROTOCOL='TCP' PORT='80,443' IP='0.0.0.0/0' SUSPENDED='no'\n\
            RULE='10' ACTION='DROP' PROTOCOL='TCP' PORT='8000-8100' IP='104.16.0.0/13' SUSPENDED='no'\n\
            RULE='11' ACTION='REJECT' PROTOCOL='TCP' PORT='0' IP='104.24.0.0/14' SUSPENDED='yes'\n\
            RULE='12' ACTION='DROP' PROTOCOL='UDP' PORT='443' IP='0.0.0.0/0' SUSPENDED='no'\n\
            RULE='2' ACTION='ACCEPT' PROTOCOL='TCP' PORT='22:23' IP='ipset:office' SUSPENDED='no'\n\
            RULE='3' ACTION='ACCEPT' PROTOCOL='TCP' PORT='80' IP='104.16.0.0/13'\n";
        assert!(detect(text));
        assert_eq!(
            labels(text),
            [
                "RULE 10 (DROP TCP 8000-8100 from 104.16.0.0/13)",
                "RULE 9 (ACCEPT TCP 80,443 from 0.0.0.0/0)",
                "RULE 2 (ACCEPT TCP 22-23 from ipset:office)",
            ]
        );
        let p = policy(text).unwrap();
        assert!(matches!(p.rules[2].source, Source::Unknown(_)));
        assert!(p.notes.iter().any(|n| n.contains("3 rule(s)")));
    }

    #[test]
    fn a_rule_that_cannot_be_read_is_an_error_naming_its_line() {
        for bad in [
            "RULE='9' ACTION='ALLOW' PORT='80' IP='0.0.0.0/0' SUSPENDED='no'",
            "RULE='x' ACTION='ACCEPT' PORT='80' IP='0.0.0.0/0' SUSPENDED='no'",
            "RULE='9' ACTION='ACCEPT' PORT='80-' IP='0.0.0.0/0' SUSPENDED='no'",
            "RULE='9' ACTION='ACCEPT' PORT='80' IP='my office' SUSPENDED='no'",
            "RULE='9' ACTION='ACCEPT' PORT='80' IP='0.0.0.0/0' RULE='10'",
        ] {
            let text = format!("\n{bad}\n");
            let e = policy(&text).unwrap_err();
            assert!(e.starts_with("line 2: "), "{bad}: {e}");
        }
        // Other KEY='value' files are not rules.conf.
        assert!(!detect(
            "IP='104.16.0.1' CHAIN='WEB' TIME='14:02:11' DATE='2025-03-09'\n"
        ));
        assert!(!detect(""));
    }
}
