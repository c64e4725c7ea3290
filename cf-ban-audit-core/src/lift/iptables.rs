//! iptables and ip6tables: `-D` with the rule exactly as it was saved.

use super::{all_passable, first_ok, own, shown};
use crate::format_id::Format;
use crate::formats::iptables::saved_rule;
use crate::report::{Evidence, Finding};

pub(super) fn lift(f: &Finding) -> Result<Vec<String>, String> {
    first_ok(
        own(f, &[Format::IptablesSave]),
        |e| from(f, e),
        || format!("no iptables rule was read for {}", f.address_text()),
    )
}

fn from(f: &Finding, e: &Evidence) -> Result<Vec<String>, String> {
    let address = f.address_text();
    let chain = &f.scope;
    let program = if f.address.addr().is_ipv6() {
        "ip6tables"
    } else {
        "iptables"
    };
    let rules = rules_at(f, e);
    if rules > 1 {
        return Err(format!(
            "{rules} rules of chain {chain} hold {address}: `{program} -S {chain}` lists them; \
             delete each with `{program} -D {chain} RULE`"
        ));
    }
    let Some(spec) = e.spec.as_deref() else {
        return Err(format!(
            "read from an `iptables -L` listing, which does not give the rule's arguments: \
             `{program} -S {chain}` shows the rule, and `{program} -D {chain} RULE` deletes it"
        ));
    };
    let Some(rule) = saved_rule(spec) else {
        return Err(format!("the rule {spec:?} could not be read back"));
    };
    // The family of the rule as written: an IPv4-mapped source of an ip6tables rule is
    // reported as IPv4.
    let program = if rule.sources.iter().any(|(text, _)| text.contains(':')) {
        "ip6tables"
    } else {
        program
    };
    let mut argv = vec![program.to_string()];
    if let Some(table) = &rule.table {
        argv.extend(["-t".to_string(), table.clone()]);
    }
    argv.extend(["-D".to_string(), rule.chain.clone()]);
    argv.extend(rule.args.iter().cloned());
    let written: Vec<&str> = argv.iter().map(String::as_str).collect();
    let command = shown(&written);
    if let Some(set) = rule.sets.first() {
        return Err(format!(
            "the rule also matches the set {set} (-m set): deleting it would lift the ban of \
             other addresses; `{command}` deletes it"
        ));
    }
    match rule.sources.as_slice() {
        [(_, nets)] if nets.as_slice() == [f.address] => {}
        [(text, _)] => {
            return Err(format!(
                "the rule's source {text} holds more than {address}: `{command}` would lift \
                 all of it"
            ))
        }
        [] => return Err(format!("the rule {spec:?} names no source")),
        many => {
            let list: Vec<&str> = many.iter().map(|(t, _)| t.as_str()).collect();
            return Err(format!(
                "the rule matches {} sources ({}): deleting it would lift them all; \
                 `{command}` deletes it",
                many.len(),
                list.join(", ")
            ));
        }
    }
    if rule.table.is_none() {
        return Err(format!(
            "the listing does not name the rule's table (`iptables -S` output): for the \
             filter table, `{command}` deletes it; `-t TABLE` after `{program}` for another"
        ));
    }
    all_passable(argv)
}

/// How many lines of the source of `e` the finding's ban was read at: the rules of one
/// listing that hold the address.
pub(super) fn rules_at(f: &Finding, e: &Evidence) -> usize {
    let mut lines: Vec<u64> = f
        .locations
        .iter()
        .filter(|l| l.path == e.location.path && l.line > 0)
        .map(|l| l.line)
        .collect();
    lines.sort_unstable();
    lines.dedup();
    lines.len()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::event::Location;
    use crate::lift::tests::{evidence, with};
    use crate::report::Authority;
    use crate::{Format, Tool};

    fn lift(address: &str, chain: &str, spec: Option<&str>) -> Result<Vec<String>, String> {
        let e = evidence(
            Format::IptablesSave,
            Authority::Live,
            "live: iptables-save",
            0,
            spec,
            None,
        );
        with(address, Tool::Iptables, chain, e).lift()
    }

    #[test]
    fn a_rule_with_this_source_only_is_deleted_as_saved() {
        assert_eq!(
            lift(
                "104.16.5.5",
                "INPUT",
                Some("-t filter -A INPUT -s 104.16.5.5/32 -p tcp -m tcp --dport 443 -m comment --comment \"edge ban\" -j DROP")
            )
            .unwrap(),
            [
                "iptables", "-t", "filter", "-D", "INPUT", "-s", "104.16.5.5/32", "-p", "tcp",
                "-m", "tcp", "--dport", "443", "-m", "comment", "--comment", "edge ban", "-j",
                "DROP"
            ]
        );
        assert_eq!(
            lift(
                "141.101.64.0/18",
                "PREROUTING",
                Some("-t raw -A PREROUTING -s 141.101.64.0/255.255.192.0 -j DROP")
            )
            .unwrap()[..5],
            ["iptables", "-t", "raw", "-D", "PREROUTING"]
        );
        assert_eq!(
            lift(
                "2606:4700::1",
                "INPUT",
                Some("-t filter -A INPUT -s 2606:4700::1/128 -j REJECT --reject-with icmp6-port-unreachable")
            )
            .unwrap()[0],
            "ip6tables"
        );
        // A range that is exactly this network.
        assert!(lift(
            "104.16.0.0/16",
            "INPUT",
            Some("-t filter -A INPUT -m iprange --src-range 104.16.0.0-104.16.255.255 -j DROP")
        )
        .is_ok());
    }

    #[test]
    fn rules_that_hold_more_give_none() {
        let why = lift(
            "104.16.5.5",
            "INPUT",
            Some("-t filter -A INPUT -s 104.16.5.5,192.0.2.1 -j DROP"),
        )
        .unwrap_err();
        assert!(why.contains("2 sources (104.16.5.5, 192.0.2.1)"), "{why}");
        let why = lift(
            "188.114.96.0/24",
            "INPUT",
            Some("-t filter -A INPUT -m iprange --src-range 188.114.96.0-188.114.97.255 -j DROP"),
        )
        .unwrap_err();
        assert!(why.contains("holds more than 188.114.96.0/24"), "{why}");
        let why = lift(
            "104.16.5.5",
            "INPUT",
            Some("-t filter -A INPUT -s 104.16.5.5/32 -m set --match-set blocklist src -j DROP"),
        )
        .unwrap_err();
        assert!(why.contains("the set blocklist"), "{why}");
    }

    #[test]
    fn listings_that_do_not_say_the_rule_give_none() {
        let why = lift("104.16.5.5", "INPUT", None).unwrap_err();
        assert!(why.contains("iptables -S INPUT"), "{why}");
        let why = lift(
            "104.16.5.5",
            "INPUT",
            Some("-A INPUT -s 104.16.5.5/32 -j DROP"),
        )
        .unwrap_err();
        assert!(
            why.contains("`iptables -D INPUT -s 104.16.5.5/32 -j DROP`"),
            "{why}"
        );
        let e = crate::lift::tests::evidence(
            Format::IptablesSave,
            Authority::Saved,
            "rules.v4",
            7,
            Some("-t filter -A INPUT -s 104.16.5.5/32 -j DROP"),
            None,
        );
        let mut f = with("104.16.5.5", Tool::Iptables, "INPUT", e);
        // The same address in another file: one rule here.
        f.locations = vec![
            Location::new(Path::new("rules.v4"), 7),
            Location::new(Path::new("rules.v4.bak"), 3),
        ];
        assert!(f.lift().is_ok());
        f.locations.push(Location::new(Path::new("rules.v4"), 3));
        let why = f.lift().unwrap_err();
        assert!(why.starts_with("2 rules of chain INPUT"), "{why}");
    }

    #[test]
    fn text_that_cannot_be_passed_gives_none() {
        let why = lift(
            "104.16.5.5",
            "INPUT",
            Some("-t filter -A INPUT -s 104.16.5.5/32 -m comment --comment \"a\nb\" -j DROP"),
        )
        .unwrap_err();
        assert!(why.contains("cannot be passed safely"), "{why}");
    }

    #[test]
    fn evidence_of_another_tool_is_not_used() {
        let mut e = evidence(
            Format::NftRuleset,
            Authority::Live,
            "live: nft list ruleset",
            0,
            Some("rule ip filter INPUT"),
            None,
        );
        e.object = Some("nftables filter/INPUT".into());
        let why = with("104.16.5.5", Tool::Iptables, "INPUT", e)
            .lift()
            .unwrap_err();
        assert!(why.starts_with("no iptables rule was read"), "{why}");
    }
}
