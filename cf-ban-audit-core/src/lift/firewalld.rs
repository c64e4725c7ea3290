//! firewalld: `firewall-cmd` with the `--remove-...` option matching the `--add-...` option
//! the ban was read as ([`crate::Evidence::spec`]): runtime from a `firewall-cmd` listing,
//! `--permanent` from the XML configuration.

use super::{all_passable, first_ok, own, shown};
use crate::format_id::Format;
use crate::formats::grammar::words::shell_words;
use crate::formats::ipset::parse_nets;
use crate::report::{Evidence, Finding};

pub(super) fn lift(f: &Finding) -> Result<Vec<String>, String> {
    first_ok(
        own(
            f,
            &[
                Format::FirewalldRich,
                Format::FirewalldZone,
                Format::FirewalldIpset,
            ],
        ),
        |e| from(f, e),
        || format!("no firewalld rule was read for {}", f.address_text()),
    )
}

/// A zone, policy or ipset name firewalld takes (letters, digits, `_-./+`).
fn firewalld_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b'+'))
}

fn from(f: &Finding, e: &Evidence) -> Result<Vec<String>, String> {
    let address = f.address_text();
    let Some(spec) = e.spec.as_deref() else {
        return Err(match e.format {
            Format::FirewalldZone => format!(
                "a rich rule of {} whose text could not be rebuilt: `firewall-cmd --permanent \
                 --{} --list-rich-rules` shows it, and `firewall-cmd --permanent --{} \
                 --remove-rich-rule='RULE'` removes it",
                e.location,
                zone_option(&f.scope),
                zone_option(&f.scope)
            ),
            _ => format!("the firewalld source does not say which rule holds {address}"),
        });
    };
    let (permanent, added) = match spec.strip_prefix("--permanent ") {
        Some(rest) => (true, rest),
        None => (false, spec),
    };
    let mut argv = vec!["firewall-cmd".to_string()];
    if permanent {
        argv.push("--permanent".into());
    }
    if let Some(direct) = added.strip_prefix("--direct ") {
        let words = shell_words(direct.as_bytes())
            .ok_or_else(|| format!("the direct rule {direct:?} has an open quote"))?;
        let (how, rest) = words
            .split_first()
            .ok_or_else(|| format!("not a direct rule: {direct:?}"))?;
        let remove = match how.as_str() {
            "--add-rule" => "--remove-rule",
            "--add-passthrough" => "--remove-passthrough",
            _ => return Err(format!("not a direct rule: {direct:?}")),
        };
        argv.extend(["--direct".to_string(), remove.to_string()]);
        argv.extend(rest.iter().cloned());
        sole_source(f, rest, &argv)?;
        let rules = super::iptables::rules_at(f, e);
        if rules > 1 {
            return Err(format!(
                "{rules} direct rules hold {address}: `firewall-cmd{} --direct \
                 --get-all-rules` lists them; remove each with `firewall-cmd --direct \
                 {remove} ...`",
                if permanent { " --permanent" } else { "" }
            ));
        }
        return all_passable(argv);
    }
    let (place, option) = match added.split_once(' ') {
        Some((place, option))
            if ["--zone=", "--policy=", "--ipset="]
                .iter()
                .any(|p| place.starts_with(p)) =>
        {
            (Some(place), option)
        }
        _ => (None, added),
    };
    if let Some(place) = place {
        let value = place.split_once('=').map(|x| x.1).unwrap_or_default();
        if !firewalld_name(value) {
            return Err(format!(
                "the firewalld name {value:?} cannot be passed safely"
            ));
        }
        argv.push(place.to_string());
    }
    if let Some(rule) = option.strip_prefix("--add-rich-rule=") {
        if place.is_none() {
            return Err(format!(
                "the listing does not name the rich rule's zone: `firewall-cmd --zone=ZONE \
                 --remove-rich-rule='{rule}'` removes it from ZONE"
            ));
        }
        argv.push(format!("--remove-rich-rule={rule}"));
    } else if let Some(source) = option.strip_prefix("--add-source=") {
        if crate::addr::parse_net(source.as_bytes()) != Some(f.address) {
            return Err(format!("the zone's source {source} is not {address}"));
        }
        argv.push(format!("--remove-source={source}"));
    } else if let Some(entry) = option.strip_prefix("--add-entry=") {
        let addr = entry.split(',').next().unwrap_or_default();
        if parse_nets(addr.as_bytes()).as_deref() != Some(&[f.address][..]) {
            argv.push(format!("--remove-entry={entry}"));
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
            return Err(format!(
                "the ipset entry {entry} holds more than {address}: `{}` would lift all of it",
                shown(&argv)
            ));
        }
        argv.push(format!("--remove-entry={entry}"));
    } else {
        return Err(format!("not a firewalld ban: {spec:?}"));
    }
    all_passable(argv)
}

/// `zone=Z` or `policy=P` of a scope (`zone:Z`), for the reason texts.
fn zone_option(scope: &str) -> String {
    match scope.split_once(':') {
        Some((kind @ ("zone" | "policy"), name)) => format!("{kind}={name}"),
        _ => "zone=ZONE".to_string(),
    }
}

/// Whether a direct rule's arguments match this address alone as their source (no `-s`
/// list, no range or set).
fn sole_source(f: &Finding, args: &[String], argv: &[String]) -> Result<(), String> {
    let mut sources = Vec::new();
    let mut others = None;
    let mut it = args.iter().map(String::as_str).peekable();
    let mut negate = false;
    while let Some(arg) = it.next() {
        match arg {
            "!" => {
                negate = true;
                continue;
            }
            "-s" | "--source" | "--src" => {
                let value = it.next().unwrap_or_default();
                if !negate {
                    sources.extend(value.split(',').map(str::to_string));
                }
            }
            "--src-range" | "--match-set" => others = Some(arg),
            _ => {}
        }
        negate = false;
    }
    let shown_argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    if let Some(what) = others {
        return Err(format!(
            "the direct rule also matches by {what}: deleting it could lift other \
             addresses; `{}` deletes it",
            shown(&shown_argv)
        ));
    }
    match sources.as_slice() {
        [one] if crate::addr::parse_net(one.as_bytes()) == Some(f.address) => Ok(()),
        _ => Err(format!(
            "the direct rule matches the sources {}: deleting it would lift them all; `{}` \
             deletes it",
            sources.join(", "),
            shown(&shown_argv)
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::lift::tests::{evidence, with};
    use crate::report::Authority;
    use crate::{Format, Tool};

    fn lift(
        address: &str,
        format: Format,
        scope: &str,
        spec: Option<&str>,
    ) -> Result<Vec<String>, String> {
        let e = evidence(
            format,
            Authority::Saved,
            "/etc/firewalld/zones/public.xml",
            26,
            spec,
            None,
        );
        with(address, Tool::Firewalld, scope, e).lift()
    }

    #[test]
    fn zone_sources_runtime_and_permanent() {
        assert_eq!(
            lift(
                "190.93.240.0/20",
                Format::FirewalldRich,
                "zone:drop",
                Some("--zone=drop --add-source=190.93.240.0/20")
            )
            .unwrap(),
            [
                "firewall-cmd",
                "--zone=drop",
                "--remove-source=190.93.240.0/20"
            ]
        );
        assert_eq!(
            lift(
                "162.158.1.2",
                Format::FirewalldZone,
                "zone:drop",
                Some("--permanent --zone=drop --add-source=162.158.1.2")
            )
            .unwrap(),
            [
                "firewall-cmd",
                "--permanent",
                "--zone=drop",
                "--remove-source=162.158.1.2"
            ]
        );
    }

    #[test]
    fn ipset_entries() {
        assert_eq!(
            lift(
                "103.21.244.0/24",
                Format::FirewalldIpset,
                "blocklist",
                Some("--permanent --ipset=blocklist --add-entry=103.21.244.0/24")
            )
            .unwrap(),
            [
                "firewall-cmd",
                "--permanent",
                "--ipset=blocklist",
                "--remove-entry=103.21.244.0/24"
            ]
        );
        assert_eq!(
            lift(
                "104.16.0.1",
                Format::FirewalldIpset,
                "portban",
                Some("--ipset=portban --add-entry=104.16.0.1,tcp:22")
            )
            .unwrap()[2],
            "--remove-entry=104.16.0.1,tcp:22"
        );
        let why = lift(
            "141.101.64.0/18",
            Format::FirewalldIpset,
            "blocked-ranges",
            Some("--ipset=blocked-ranges --add-entry=141.101.64.0-141.101.128.255"),
        )
        .unwrap_err();
        assert!(why.contains("holds more than 141.101.64.0/18: `firewall-cmd --ipset=blocked-ranges --remove-entry=141.101.64.0-141.101.128.255`"), "{why}");
    }

    #[test]
    fn rich_rules_are_one_argument() {
        let rule = r#"rule family="ipv4" source address="197.234.240.9" port port="443" protocol="tcp" drop"#;
        assert_eq!(
            lift(
                "197.234.240.9",
                Format::FirewalldRich,
                "zone:public",
                Some(&format!("--zone=public --add-rich-rule={rule}"))
            )
            .unwrap(),
            [
                "firewall-cmd".to_string(),
                "--zone=public".into(),
                format!("--remove-rich-rule={rule}")
            ]
        );
        assert_eq!(
            lift(
                "172.70.1.1",
                Format::FirewalldZone,
                "policy:edge-in",
                Some(r#"--permanent --policy=edge-in --add-rich-rule=rule family="ipv4" source address="172.70.1.1" drop"#)
            )
            .unwrap()[..3],
            ["firewall-cmd", "--permanent", "--policy=edge-in"]
        );
        let why = lift(
            "197.234.240.9",
            Format::FirewalldRich,
            "rich-rules",
            Some(&format!("--add-rich-rule={rule}")),
        )
        .unwrap_err();
        assert!(
            why.starts_with("the listing does not name the rich rule's zone"),
            "{why}"
        );
        let why = lift("2c0f:f248::/32", Format::FirewalldZone, "zone:public", None).unwrap_err();
        assert!(
            why.contains("--permanent --zone=public --list-rich-rules"),
            "{why}"
        );
    }

    #[test]
    fn direct_rules_and_passthroughs() {
        assert_eq!(
            lift(
                "2405:8100::/32",
                Format::FirewalldRich,
                "direct:INPUT",
                Some("--direct --add-rule ipv6 filter INPUT 0 -s 2405:8100::/32 -j DROP")
            )
            .unwrap(),
            [
                "firewall-cmd",
                "--direct",
                "--remove-rule",
                "ipv6",
                "filter",
                "INPUT",
                "0",
                "-s",
                "2405:8100::/32",
                "-j",
                "DROP"
            ]
        );
        assert_eq!(
            lift(
                "104.17.3.3",
                Format::FirewalldZone,
                "direct:INPUT",
                Some("--permanent --direct --add-passthrough ipv4 -A INPUT -s 104.17.3.3 -m comment --comment 'edge ban' -j DROP")
            )
            .unwrap(),
            [
                "firewall-cmd", "--permanent", "--direct", "--remove-passthrough", "ipv4", "-A",
                "INPUT", "-s", "104.17.3.3", "-m", "comment", "--comment", "edge ban", "-j", "DROP"
            ]
        );
        let why = lift(
            "104.17.3.3",
            Format::FirewalldRich,
            "direct:INPUT",
            Some("--direct --add-rule ipv4 filter INPUT 0 -s 104.17.3.3,192.0.2.1 -j DROP"),
        )
        .unwrap_err();
        assert!(why.contains("the sources 104.17.3.3, 192.0.2.1"), "{why}");
        let why = lift(
            "104.17.3.3",
            Format::FirewalldRich,
            "direct:INPUT",
            Some("--direct --add-rule ipv4 filter INPUT 0 -s 104.17.3.3 -m set --match-set bl src -j DROP"),
        )
        .unwrap_err();
        assert!(why.contains("--match-set"), "{why}");
    }

    #[test]
    fn names_and_text_that_cannot_be_passed_give_none() {
        assert!(lift(
            "162.158.1.2",
            Format::FirewalldRich,
            "zone:drop",
            Some("--zone=dr\u{7}op --add-source=162.158.1.2")
        )
        .is_err());
        assert!(lift(
            "162.158.1.2",
            Format::FirewalldRich,
            "zone:drop",
            Some("--zone=drop --add-rich-rule=rule source address=\"162.158.1.2\" log prefix=\"a\u{fffd}\" drop")
        )
        .is_err());
    }
}
