//! `check` of the panels' own allow lists (issue #21): Hestia's `rules.conf`, judged as
//! `v-update-firewall` orders it (highest `RULE` first, suspended rules out, policy DROP,
//! IPv4 only, `ipset:NAME` unresolved), and its `excludes.conf`, matched exactly; Imunify360's
//! white list (`ip-list local list --purpose white`, `/etc/imunify360/whitelist/*.txt`).
//! Inputs in `fixtures/check-panels`.

use std::path::PathBuf;

use serde_json::Value;

use crate::common::*;

fn fixture(name: &str) -> PathBuf {
    root().join("fixtures/check-panels").join(name)
}

/// `check --format json` of one file: (exit status, the file's result).
fn check_json(path: &std::path::Path) -> (i32, Value) {
    let o = run(&["check", "--format", "json", path.to_str().unwrap()]);
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    (code(&o), doc["files"][0].clone())
}

/// The embedded IPv4 ranges.
fn v4() -> Vec<String> {
    cf_ban_audit_core::cloudflare::embedded()
        .nets()
        .iter()
        .filter(|n| matches!(n, ipnet::IpNet::V4(_)))
        .map(|n| n.to_string())
        .collect()
}

/// (port, rule) of each refusal, with its range.
fn refused(file: &Value) -> Vec<(u64, String, String)> {
    let mut out: Vec<(u64, String, String)> = file["cloud"]["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["port"].as_u64().unwrap(),
                r["rule"].as_str().unwrap().to_string(),
                r["range"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn hestia_rules_are_judged_highest_rule_first_with_policy_drop() {
    // The default rules: RULE 9 opens 80 and 443 to all.
    let (status, file) = check_json(&fixture("hestia-default/data/firewall/rules.conf"));
    assert_eq!(
        (status, file["kind"].as_str()),
        (0, Some("hestia-firewall"))
    );
    assert!(refused(&file).is_empty());
    let notes = file["cloud"]["notes"].to_string();
    assert!(notes.contains("IPv6 is not filtered"), "{notes}");

    // RULE 9 suspended, only an office allowed (a UDP rule does not count): every IPv4
    // range refused on both ports by the policy, no IPv6 range judged.
    let (status, file) = check_json(&fixture("hestia-office-only.rules.conf"));
    assert_eq!(status, 1);
    let got = refused(&file);
    assert_eq!(got.len(), 2 * 15, "{got:?}");
    assert!(got
        .iter()
        .all(|(_, rule, _)| rule.starts_with("no rule allows")));
    let mut missing: Vec<String> = file["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    missing.sort();
    let mut want = v4();
    want.sort();
    assert_eq!(missing, want);

    // Its forged twin (rule text in COMMENTs) gets the same verdict.
    let (status2, twin) = check_json(&fixture("hestia-office-only.forged.rules.conf"));
    assert_eq!(status2, 1);
    assert_eq!(refused(&twin), got);

    // RULE 13 (an ACCEPT of 104.24.0.0/14 on 80) is matched before RULE 12 (a DROP of
    // 104.16.0.0/12 on 80), which is matched before RULE 9.
    let (status, file) = check_json(&fixture("hestia-drop-above.rules.conf"));
    assert_eq!(status, 1);
    assert_eq!(
        refused(&file),
        [(
            80,
            "RULE 12 (DROP TCP 80 from 104.16.0.0/12)".to_string(),
            "104.16.0.0/13".to_string()
        )]
    );

    // An ipset the file does not hold: unresolved, never guessed.
    let (status, file) = check_json(&fixture("hestia-ipset.rules.conf"));
    assert_eq!(status, 1);
    assert!(refused(&file).is_empty());
    let unresolved = file["cloud"]["unresolved"].as_array().unwrap();
    assert_eq!(unresolved.len(), 2 * 15);
    assert!(unresolved
        .iter()
        .all(|u| u["why"].as_str().unwrap().contains("\"cloudflare\"")));
}

/// The rules `snippet hestia` adds, as `v-add-firewall-rule` writes them into rules.conf
/// after the office-only rules: every IPv4 range reaches 80 and 443.
#[test]
fn hestia_rules_from_the_snippet_are_ok() {
    let snippet = stdout(&run(&["snippet", "hestia"]));
    let mut rules = std::fs::read_to_string(fixture("hestia-office-only.rules.conf")).unwrap();
    let mut n = 20;
    for line in snippet.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() >= 6 && words[0].ends_with("v-add-firewall-rule\"") {
            n += 1;
            rules.push_str(&format!(
                "RULE='{n}' ACTION='{}' PROTOCOL='{}' PORT='{}' IP='{}' COMMENT='{}' SUSPENDED='no' TIME='10:00:00' DATE='2026-11-24'\n",
                words[1], words[4], words[3], words[2], words[5]
            ));
        }
    }
    assert_eq!(n - 20, 15, "{snippet}");
    let env = TestEnv::new();
    let path = env.write("rules.conf", rules);
    let (status, file) = check_json(&path);
    assert_eq!(status, 0, "{file:#}");
    assert_eq!(file["kind"], "hestia-firewall");
}

#[test]
fn hestia_excludes_match_exactly_so_ranges_protect_nothing() {
    let (status, file) = check_json(&fixture("hestia-excludes/data/firewall/excludes.conf"));
    assert_eq!(
        (status, file["kind"].as_str()),
        (1, Some("hestia-excludes"))
    );
    // Every IPv4 range, though each is listed: fail2ban bans addresses, which no CIDR line
    // matches. No IPv6 range: Hestia bans IPv4 only.
    assert_eq!(file["missing"].as_array().unwrap().len(), 15);
    let notes = file["notes"].to_string();
    assert!(notes.contains("matched exactly"), "{notes}");
    assert!(notes.contains("listed as CIDRs"), "{notes}");
    let problems = file["problems"].to_string();
    assert!(problems.contains("line 18"), "{problems}");
}

#[test]
fn imunify360_white_list_gaps_are_named() {
    // The external file: all but one IPv4 range, and a retired range.
    let (status, file) = check_json(&fixture("imunify360/whitelist/cloudflare.txt"));
    assert_eq!((status, file["kind"].as_str()), (1, Some("imunify360")));
    assert_eq!(file["missing"], serde_json::json!(["131.0.72.0/22"]));
    assert_eq!(file["stale"], serde_json::json!(["199.27.128.0/21"]));
    assert!(file["notes"].to_string().contains("Blocked ports"));
    // The ip-list table: a range on the drop list (and named in a white row's comment) is
    // not white; no IPv6 range is listed.
    let (status, file) = check_json(&fixture("ip-list-white.txt"));
    assert_eq!((status, file["kind"].as_str()), (1, Some("imunify360")));
    let missing = file["missing"].as_array().unwrap();
    assert_eq!(missing[0], "104.24.0.0/14");
    assert_eq!(missing.len(), 8);
    // The drop list allows nothing.
    let (status, file) = check_json(&root().join("fixtures/imunify360/ip-list-drop.txt"));
    assert_eq!((status, file["kind"].as_str()), (1, Some("imunify360")));
    assert_eq!(file["missing"].as_array().unwrap().len(), 22);
    assert!(file["problems"].to_string().contains("allows nothing"));
}

/// The entries `snippet imunify360` adds, as `ip-list local list --purpose white --json`
/// would list them: every range, IPv4 and IPv6, is covered.
#[test]
fn imunify360_white_list_from_the_snippet_is_ok() {
    let snippet = stdout(&run(&["snippet", "imunify360"]));
    let mut items = Vec::new();
    for line in snippet.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() != Some(&"imunify360-agent") {
            continue;
        }
        if let Some(at) = words.windows(2).position(|w| w == ["--purpose", "white"]) {
            let net: ipnet::IpNet = words[at + 2].parse().unwrap();
            let (mask, network) = match net {
                ipnet::IpNet::V4(n) => (
                    u128::from(u32::from(n.netmask())),
                    u128::from(u32::from(n.network())),
                ),
                ipnet::IpNet::V6(n) => (u128::from(n.netmask()), u128::from(n.network())),
            };
            items.push(serde_json::json!({
                "ip": net.to_string(), "purpose": "white", "comment": "Cloudflare",
                "ctime": 1764000000, "expiration": 0, "netmask": mask.to_string(),
                "network_address": network.to_string(), "scope": "local",
                "version": if net.addr().is_ipv4() { 4 } else { 6 },
            }));
        }
    }
    assert_eq!(items.len(), 22, "{snippet}");
    let env = TestEnv::new();
    let path = env.write("white.json", serde_json::to_string(&items).unwrap());
    let (status, file) = check_json(&path);
    assert_eq!(
        (status, file["kind"].as_str()),
        (0, Some("imunify360")),
        "{file:#}"
    );
    assert_eq!(file["entries"], 22);
}
