//! nftables: `nft delete element` for an element of a named set or map; for an address
//! written in a rule, the reason (nft deletes rules by handle only).

use super::{first_ok, own, shown};
use crate::format_id::Format;
use crate::report::{Evidence, Finding};

/// The address families nft knows.
const FAMILIES: &[&str] = &["ip", "ip6", "inet", "arp", "bridge", "netdev"];

/// The tables iptables-nft makes.
const IPTABLES_TABLES: &[&str] = &["filter", "raw", "mangle", "nat", "security"];

pub(super) fn lift(f: &Finding) -> Result<Vec<String>, String> {
    first_ok(
        own(f, &[Format::NftRuleset, Format::NftJson]),
        |e| from(f, e),
        || format!("no nftables set or rule was read for {}", f.address_text()),
    )
}

/// A name nft reads back as it is, one argument joined with the others: an identifier.
fn identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
}

/// `FAMILY TABLE NAME` of a spec, checked.
fn object<'a>(words: &[&'a str]) -> Result<(&'a str, &'a str, &'a str), String> {
    match words {
        [family, table, name] if FAMILIES.contains(family) => {
            for n in [table, name] {
                if !identifier(n) {
                    return Err(format!(
                        "the nftables name {n:?} cannot be passed to nft safely"
                    ));
                }
            }
            Ok((family, table, name))
        }
        _ => Err(format!("not an nftables object: {}", words.join(" "))),
    }
}

fn from(f: &Finding, e: &Evidence) -> Result<Vec<String>, String> {
    let address = f.address_text();
    let Some(spec) = e.spec.as_deref() else {
        return Err(format!(
            "the nftables source does not say which set or rule holds {address}"
        ));
    };
    if let Some(rest) = spec.strip_prefix("element ") {
        let (head, key) = rest
            .split_once(" { ")
            .and_then(|(head, key)| Some((head, key.strip_suffix(" }")?)))
            .ok_or_else(|| format!("not an nftables element: {spec:?}"))?;
        let head: Vec<&str> = head.split(' ').collect();
        let (family, table, set) = object(&head)?;
        let element = format!("{{ {key} }}");
        let argv = ["nft", "delete", "element", family, table, set, &element];
        if key == address {
            return Ok(argv.iter().map(|w| w.to_string()).collect());
        }
        if key.contains(" . ") {
            return Err(format!(
                "the element of set {family} {table} {set} joins {address} with other fields: \
                 `nft list set {family} {table} {set}` shows it whole, and \
                 `nft delete element {family} {table} {set} '{{ KEY }}'` with the whole key \
                 deletes it"
            ));
        }
        return Err(format!(
            "the element {element} of set {family} {table} {set} is a range that holds more \
             than {address}: `{}` would lift all of it",
            shown(&argv)
        ));
    }
    if let Some(rest) = spec.strip_prefix("rule ") {
        let (head, others) = match rest.split_once(" (one of ") {
            Some((head, n)) => (head, n.strip_suffix(" sources)")),
            None => (rest, None),
        };
        let head: Vec<&str> = head.split(' ').collect();
        let (family, table, chain) = object(&head)?;
        let list = format!("nft -a list chain {family} {table} {chain}");
        if let Some(n) = others {
            return Err(format!(
                "a rule that matches {n} sources, not a set element: deleting it would lift \
                 them all; `{list}` shows it with its handle: replace it with one without \
                 {address} (`nft replace rule {family} {table} {chain} handle N ...`)"
            ));
        }
        let mut why = format!(
            "a rule, not a set element: `{list}` and `nft delete rule {family} {table} {chain} \
             handle N`"
        );
        if IPTABLES_TABLES.contains(&table) && matches!(family, "ip" | "ip6") {
            let program = if family == "ip6" {
                "ip6tables"
            } else {
                "iptables"
            };
            why.push_str(&format!(
                " (an iptables-nft table: `{program} -t {table} -S {chain}` shows the rule as \
                 `{program} -t {table} -D {chain} RULE` takes it)"
            ));
        }
        return Err(why);
    }
    Err(format!("not an nftables element or rule: {spec:?}"))
}

#[cfg(test)]
mod tests {
    use crate::lift::tests::{evidence, with};
    use crate::report::Authority;
    use crate::{Format, Tool};

    fn lift(address: &str, spec: &str) -> Result<Vec<String>, String> {
        let e = evidence(
            Format::NftRuleset,
            Authority::Live,
            "live: nft list ruleset",
            0,
            Some(spec),
            None,
        );
        with(address, Tool::Nftables, "t/s", e).lift()
    }

    #[test]
    fn a_set_element_is_deleted() {
        assert_eq!(
            lift("104.16.5.5", "element inet cfba blocklist { 104.16.5.5 }").unwrap(),
            [
                "nft",
                "delete",
                "element",
                "inet",
                "cfba",
                "blocklist",
                "{ 104.16.5.5 }"
            ]
        );
        assert_eq!(
            lift(
                "104.18.7.0/28",
                "element ip filter blocklist-v4 { 104.18.7.0/28 }"
            )
            .unwrap()[6],
            "{ 104.18.7.0/28 }"
        );
        assert_eq!(
            lift("2606:4700::1", "element ip6 t verdicts { 2606:4700::1 }").unwrap()[3..6],
            ["ip6", "t", "verdicts"]
        );
    }

    #[test]
    fn elements_that_hold_more_give_none() {
        let why = lift(
            "104.18.7.16/30",
            "element ip filter blocklist-v4 { 104.18.7.0-104.18.7.19 }",
        )
        .unwrap_err();
        assert!(
            why.contains("is a range that holds more than 104.18.7.16/30: `nft delete element ip filter blocklist-v4 '{ 104.18.7.0-104.18.7.19 }'`"),
            "{why}"
        );
        let why = lift("104.16.5.5", "element inet t portban { 104.16.5.5 . … }").unwrap_err();
        assert!(why.contains("joins 104.16.5.5 with other fields"), "{why}");
    }

    #[test]
    fn rules_give_the_way_to_their_handle() {
        assert_eq!(
            lift("162.159.0.9", "rule inet filter input").unwrap_err(),
            "a rule, not a set element: `nft -a list chain inet filter input` and `nft delete \
             rule inet filter input handle N`"
        );
        let why = lift("162.159.0.9", "rule inet filter input (one of 3 sources)").unwrap_err();
        assert!(why.starts_with("a rule that matches 3 sources"), "{why}");
        let why = lift("108.162.192.20", "rule ip filter INPUT").unwrap_err();
        assert!(why.contains("`iptables -t filter -S INPUT`"), "{why}");
    }

    #[test]
    fn names_nft_would_read_as_syntax_give_none() {
        for spec in [
            "element inet t s;flush { 104.16.5.5 }",
            "element inet -t s { 104.16.5.5 }",
            "element inet t s x { 104.16.5.5 }",
            "element bogus t s { 104.16.5.5 }",
        ] {
            assert!(lift("104.16.5.5", spec).is_err(), "{spec}");
        }
        let why = lift("104.16.5.5", "element inet t s;flush { 104.16.5.5 }").unwrap_err();
        assert!(why.contains("cannot be passed to nft safely"), "{why}");
    }
}
