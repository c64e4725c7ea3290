//! Unit tests of the nftables readers (text and JSON), on literal inputs.

use super::*;
use crate::event::Action;
use crate::formats::test_support::{ctx, Collect};
use crate::formats::Verdict;

fn run_text(input: &str) -> Collect {
    let mut sink = Collect::default();
    let mut p = NftRulesetParser::new(&ctx("test"));
    for (n, line) in input.lines().enumerate() {
        p.line(n as u64 + 1, line.as_bytes(), &mut sink);
    }
    p.finish(&mut sink);
    sink
}

/// Reads `input` as the scanner reads a JSON ruleset: the whole document at once. An error,
/// which the scanner reports naming the file, is kept here as a malformed line 1.
fn run_json(input: &str) -> Collect {
    let mut sink = Collect::default();
    if let Err(message) = read_json_document(input.as_bytes(), &ctx("test"), &mut sink) {
        sink.malformed(1, message);
    }
    sink
}

/// (scope, network) pairs, sorted.
fn found(c: &Collect) -> Vec<(String, String)> {
    let mut v: Vec<_> = c
        .events
        .iter()
        .map(|e| (e.scope.clone(), crate::addr::display_net(&e.net)))
        .collect();
    v.sort();
    v
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<_> = list
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    v.sort();
    v
}

#[test]
fn fail2ban_table_and_wrapped_elements() {
    let c = run_text(
        "table inet f2b-table {
	set addr-set-sshd {
		type ipv4_addr
		elements = { 104.20.15.9, 172.64.155.20,
			     198.51.100.61 }
	}

	chain f2b-chain {
		type filter hook input priority filter - 1; policy accept;
		tcp dport 22 ip saddr @addr-set-sshd reject with icmp port-unreachable
	}
}",
    );
    assert_eq!(
        found(&c),
        pairs(&[
            ("f2b-table/addr-set-sshd", "104.20.15.9"),
            ("f2b-table/addr-set-sshd", "172.64.155.20"),
            ("f2b-table/addr-set-sshd", "198.51.100.61"),
        ])
    );
    assert!(c.events.iter().all(|e| e.action == Action::Listed));
    assert_eq!(c.events[2].location.line, 5);
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
}

#[test]
fn allow_sets_negations_and_destinations_are_not_bans() {
    let c = run_text(
        "table inet filter {
	set cloudflare-v4 { type ipv4_addr; flags interval; elements = { 104.16.0.0/13 } }
	set office { type ipv4_addr; elements = { 104.16.0.9 } }
	set dst { type ipv4_addr; elements = { 104.16.0.10 } }
	chain input {
		type filter hook input priority filter; policy drop;
		ip saddr @cloudflare-v4 tcp dport { 80, 443 } accept
		ip saddr != @office drop
		ip daddr @dst drop
		ip saddr != 104.16.0.11 drop
		ip saddr 104.16.0.12 accept
		ip saddr 104.16.0.13 counter
		# ip saddr 104.16.0.14 drop
		ip saddr 192.0.2.1 log prefix \"drop 104.16.0.15 \" drop comment \"ban 104.16.0.16\"
	}
}",
    );
    assert_eq!(found(&c), pairs(&[("filter/input", "192.0.2.1")]));
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
}

#[test]
fn chains_that_end_in_drop_and_vmaps() {
    let c = run_text(
        "table inet firewalld {
	set bad { type ipv4_addr; flags interval; elements = { 104.16.0.0/13 } }
	set nat-only { type ipv4_addr; elements = { 104.16.1.1 } }
	map bh { type ipv4_addr : verdict; flags interval;
		elements = { 198.41.128.0-198.41.130.255 : drop, 203.0.113.0/24 : accept, 162.158.0.1 : goto zone_drop } }
	chain zones {
		ip saddr @bad goto zone_drop
		ip saddr @nat-only goto zone_nat
		ip saddr vmap @bh
		ip6 saddr vmap { 2400:cb00::1 : drop, 2001:db8::1 : accept }
	}
	chain zone_drop {
		jump zone_drop_allow
		ip saddr 192.0.2.1 accept
		drop
	}
	chain zone_drop_allow {
	}
	chain zone_nat {
		jump zone_drop_allow
	}
}",
    );
    assert_eq!(
        found(&c),
        pairs(&[
            ("firewalld/bad", "104.16.0.0/13"),
            ("firewalld/bh", "198.41.128.0/23"),
            ("firewalld/bh", "198.41.130.0/24"),
            ("firewalld/bh", "162.158.0.1"),
            ("firewalld/zones", "2400:cb00::1"),
        ])
    );
}

#[test]
fn concatenations_anonymous_sets_and_ranges() {
    let c = run_text(
        "table ip t {
	set bad {
		typeof tcp dport . ip saddr
		elements = { 22 . 104.16.0.1, 80 . 192.0.2.1 }
	}
	chain c {
		tcp dport . ip saddr @bad drop
		ip saddr { 104.16.0.2, 10.0.0.1-10.0.0.2,
			198.51.100.0/24 } counter packets 0 bytes 0 drop
		iifname . ip saddr . ip daddr { \"eth0\" . 104.16.0.3 . 104.16.0.4 } drop
		ip saddr . tcp dport 104.16.0.5 . 22 reject
	}
}",
    );
    assert_eq!(
        found(&c),
        pairs(&[
            ("t/bad", "104.16.0.1"),
            ("t/bad", "192.0.2.1"),
            ("t/c", "104.16.0.2"),
            ("t/c", "10.0.0.1"),
            ("t/c", "10.0.0.2"),
            ("t/c", "198.51.100.0/24"),
            ("t/c", "104.16.0.3"),
            ("t/c", "104.16.0.5"),
        ])
    );
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
}

#[test]
fn expiry_unused_sets_and_defines() {
    let c = run_text(
        "#!/usr/sbin/nft -f
flush ruleset
define BAD = { 104.16.9.9, 192.0.2.9 }
table ip t {
	set blocklist { type ipv4_addr; flags timeout;
		elements = { 104.16.0.1 timeout 4h expires 3h59m12s comment \"x 104.16.0.2\" } }
	set whitelist { type ipv4_addr; elements = { 104.16.0.3 } }
	set misc { type ipv4_addr; elements = { 104.16.0.4 } }
	chain c {
		ip saddr $BAD drop
	}
}
",
    );
    assert_eq!(
        found(&c),
        pairs(&[
            ("t/blocklist", "104.16.0.1"),
            ("t/c", "104.16.9.9"),
            ("t/c", "192.0.2.9"),
        ])
    );
    let e = c.events.iter().find(|e| e.scope == "t/blocklist").unwrap();
    assert_eq!(e.expires.unwrap().to_string(), "2026-11-24 15:59:12");
    assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
    assert!(c.notes[0].contains("t/misc"));
}

#[test]
fn iptables_nft_rules() {
    let c = run_text(
        "table ip filter {
	chain f2b-x {
		ip saddr 173.245.48.0/20 counter packets 0 bytes 0 reject
		counter packets 0 bytes 0 return
	}
	chain INPUT {
		type filter hook input priority filter; policy accept;
		meta l4proto tcp tcp dport { 80, 443 } xt match set counter packets 0 bytes 0 reject
		meta l4proto tcp # xt_set counter packets 0 bytes 0 # xt_REJECT
		ip saddr @f2b-modsec xt target \"REJECT\"
	}
}",
    );
    assert_eq!(found(&c), pairs(&[("filter/f2b-x", "173.245.48.0/20")]));
    assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
    assert_eq!(c.uses, [("f2b-modsec".to_string(), Verdict::Drop)]);
}

#[test]
fn chain_bindings_and_scripts() {
    let c = run_text(
        "add table inet x
add set inet x bl { type ipv6_addr; }
add element inet x bl { 2606:4700::1, 2001:db8::1 }
add chain inet x y { type filter hook input priority 0; }
add rule inet x y ip6 saddr @bl drop
add rule inet x y tcp dport 22 jump { ip saddr 104.16.3.3 drop; ip saddr 104.16.3.4 accept; ip saddr {
    104.16.3.6,
    104.16.3.7 } drop
}
insert rule x z ip saddr 104.16.3.5 drop
table ip6 w
element ip6 w dropme { 2606:4700::2 }
rule ip6 w c handle 3 ip6 saddr @dropme reject
",
    );
    assert_eq!(
        found(&c),
        pairs(&[
            ("x/bl", "2606:4700::1"),
            ("x/bl", "2001:db8::1"),
            ("x/y", "104.16.3.3"),
            ("x/y", "104.16.3.6"),
            ("x/y", "104.16.3.7"),
            ("x/z", "104.16.3.5"),
            ("w/dropme", "2606:4700::2"),
        ])
    );
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
}

#[test]
fn garbage_never_panics() {
    for input in [
        "}}}{{{",
        "table",
        "table ip t { set s { elements = { 1.2.3.4 ",
        "table ip t { chain c { ip saddr",
        "table ip t { chain c { ip saddr . ",
        "table ip t { chain c { jump {",
        "table ip t { chain c { ip saddr vmap {",
        "table ip t { chain c { . ip saddr { 1.2.3.4 } drop } }",
        "define x = $x\ntable ip t { chain c { ip saddr $x drop } }",
        "\"unterminated",
        "# xt_",
        "table ip t { set s { type ipv4_addr : verdict; elements = { 1.2.3.4 : jump } } }",
    ] {
        let _ = run_text(input);
        let _ = run_json(input);
    }
}

#[test]
fn every_prefix_of_real_rulesets_reads_without_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/nftables");
    for name in [
        "nftables.conf",
        "crowdsec-ruleset.json",
        "iptables-nft-ruleset.txt",
    ] {
        let text = std::fs::read_to_string(root.join(name)).unwrap();
        for cut in (0..text.len())
            .filter(|&i| text.is_char_boundary(i))
            .step_by(7)
        {
            let _ = run_text(&text[..cut]);
            let _ = run_json(&text[..cut]);
        }
    }
}

#[test]
fn hostile_nesting_and_expansion_are_bounded() {
    let deep = format!(
        "table ip t {{ chain c {{ {} ip saddr 104.16.0.1 drop {} }} }}",
        "jump { ".repeat(5000),
        "} ".repeat(5000)
    );
    let _ = run_text(&deep);
    let mut bomb = String::from("define a0 = { 1.2.3.4 }\n");
    for i in 1..40 {
        let p = i - 1;
        bomb.push_str(&format!("define a{i} = {{ $a{p}, $a{p}, $a{p}, $a{p} }}\n"));
    }
    bomb.push_str("table ip t { chain c { ip saddr $a39 drop } }\n");
    let c = run_text(&bomb);
    assert!(!c.malformed.is_empty());
    let chain: String = (0..5000)
        .map(|i| format!("chain c{i} {{ goto c{} }}\n", i + 1))
        .collect();
    let c = run_text(&format!(
        "table ip t {{ set s {{ type ipv4_addr; elements = {{ 104.16.0.1 }} }}\n{chain}\nchain x {{ ip saddr @s goto c0 }} }}"
    ));
    assert!(c.events.is_empty());
}

#[test]
fn json_form() {
    let c = run_json(
        r#"{"nftables": [{"metainfo": {"version": "1.0.6"}},
{"table": {"family": "ip", "name": "crowdsec"}},
{"set": {"family": "ip", "name": "crowdsec-blacklists", "table": "crowdsec", "type": "ipv4_addr", "flags": ["timeout"],
  "elem": [{"elem": {"val": "104.16.5.5", "timeout": 14400, "expires": 3600}}, "192.0.2.7",
           {"prefix": {"addr": "172.64.0.0", "len": 13}}, {"range": ["10.0.0.1", "10.0.0.2"]}]}},
{"set": {"family": "ip", "name": "cf", "table": "crowdsec", "type": "ipv4_addr", "elem": ["104.16.0.1"]}},
{"map": {"family": "ip", "name": "bh", "table": "crowdsec", "type": "ipv4_addr", "map": "verdict",
  "elem": [[{"range": ["198.41.128.0", "198.41.128.255"]}, {"drop": null}], ["203.0.113.1", {"accept": null}]]}},
{"chain": {"family": "ip", "table": "crowdsec", "name": "c", "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}},
{"rule": {"family": "ip", "table": "crowdsec", "chain": "c", "expr": [
  {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@crowdsec-blacklists"}}, {"drop": null}]}},
{"rule": {"family": "ip", "table": "crowdsec", "chain": "c", "expr": [
  {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@cf"}}, {"accept": null}]}},
{"rule": {"family": "ip", "table": "crowdsec", "chain": "c", "expr": [{"vmap": {"key": {"payload": {"protocol": "ip", "field": "saddr"}}, "data": "@bh"}}]}},
{"rule": {"family": "ip", "table": "crowdsec", "chain": "c", "expr": [
  {"match": {"op": "!=", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "104.16.0.2"}}, {"drop": null}]}},
{"rule": {"family": "ip", "table": "crowdsec", "chain": "c", "expr": [
  {"match": {"op": "==", "left": {"concat": [{"payload": {"protocol": "tcp", "field": "dport"}}, {"payload": {"protocol": "ip", "field": "saddr"}}]},
   "right": {"set": [{"concat": [22, "104.16.0.3"]}, {"concat": [23, {"prefix": {"addr": "192.0.2.0", "len": 24}}]}]}}},
  {"counter": {"packets": 0, "bytes": 0}}, {"reject": {"type": "tcp reset"}}]}},
{"rule": {"family": "ip", "table": "crowdsec", "chain": "c", "expr": [{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}},
  "jump {\n\t\t\tip saddr { 104.16.0.4, 192.0.2.4 } drop\n\t\t}"]}},
{"rule": {"family": "ip", "table": "crowdsec", "chain": "c", "expr": [{"xt": {"type": "match", "name": "set"}}, {"xt": {"type": "target", "name": "REJECT"}}]}}
]}"#,
    );
    assert_eq!(
        found(&c),
        pairs(&[
            ("crowdsec/crowdsec-blacklists", "104.16.5.5"),
            ("crowdsec/crowdsec-blacklists", "192.0.2.7"),
            ("crowdsec/crowdsec-blacklists", "172.64.0.0/13"),
            ("crowdsec/crowdsec-blacklists", "10.0.0.1"),
            ("crowdsec/crowdsec-blacklists", "10.0.0.2"),
            ("crowdsec/bh", "198.41.128.0/24"),
            ("crowdsec/c", "104.16.0.3"),
            ("crowdsec/c", "192.0.2.0/24"),
            ("crowdsec/c", "104.16.0.4"),
            ("crowdsec/c", "192.0.2.4"),
        ])
    );
    let e = c
        .events
        .iter()
        .find(|e| e.net.to_string() == "104.16.5.5/32")
        .unwrap();
    assert_eq!(e.expires.unwrap().to_string(), "2026-11-24 13:00:00");
    assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
}

#[test]
fn json_errors_are_reported() {
    let c = run_json("{\"nftables\": [");
    assert_eq!(c.malformed.len(), 1);
    let c = run_json("{\"other\": []}");
    assert_eq!(c.malformed.len(), 1);
}

#[test]
fn detection() {
    let p = Path::new("/x/dump.txt");
    assert_eq!(detect(p, b"table ip6 filter {\n"), Some(Format::NftRuleset));
    assert_eq!(
        detect(p, b"\xef\xbb\xbftable t{\n"),
        Some(Format::NftRuleset)
    );
    assert_eq!(detect(p, b"#!/usr/sbin/nft -f\n"), Some(Format::NftRuleset));
    assert_eq!(
        detect(p, b"# c\n\nflush ruleset\n"),
        Some(Format::NftRuleset)
    );
    assert_eq!(detect(p, b"{\n  \"nftables\" : [\n"), Some(Format::NftJson));
    assert_eq!(detect(p, b"define X = 1\n"), None);
    assert_eq!(
        detect(Path::new("/etc/nftables.d/x.nft"), b"define X = 1\n"),
        Some(Format::NftRuleset)
    );
    assert_eq!(detect(p, b"*filter\n:INPUT ACCEPT [0:0]\n"), None);
    assert_eq!(detect(p, b"the table is {\n"), None);
    assert_eq!(detect(p, b"{\"other\": 1}"), None);
}

/// Each ban names its set element (`element FAMILY TABLE SET { KEY }`: a range split into
/// blocks keeps its whole text, a concatenation shows as such) or its rule (`rule FAMILY
/// TABLE CHAIN`, with how many sources the rule holds), in the text and the JSON form.
#[test]
fn each_ban_names_its_element_or_rule() {
    let specs = |c: &Collect| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = c
            .events
            .iter()
            .map(|e| {
                (
                    crate::addr::display_net(&e.net),
                    e.spec.clone().unwrap_or_default(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let text = "table inet filter {
        set bl { type ipv4_addr; flags interval; elements = { 104.16.5.5, 104.18.7.0-104.18.7.19, 104.20.0.0/16 } }
        set ports { type ipv4_addr . inet_service; elements = { 104.21.0.1 . 22 } }
        chain input {
            type filter hook input priority 0; policy accept;
            ip saddr @bl drop
            ip saddr . tcp dport @ports drop
            ip saddr 162.159.0.9 drop
            ip saddr { 162.158.77.0/24, 192.0.2.1 } drop
        }
    }
    table crowdsec { set cs { type ipv4_addr; elements = { 172.70.1.2 } }
        chain c { type filter hook input priority 0; ip saddr @cs drop } }";
    let expected = [
        ("104.16.5.5", "element inet filter bl { 104.16.5.5 }"),
        (
            "104.18.7.0/28",
            "element inet filter bl { 104.18.7.0-104.18.7.19 }",
        ),
        (
            "104.18.7.16/30",
            "element inet filter bl { 104.18.7.0-104.18.7.19 }",
        ),
        ("104.20.0.0/16", "element inet filter bl { 104.20.0.0/16 }"),
        ("104.21.0.1", "element inet filter ports { 104.21.0.1 . … }"),
        (
            "162.158.77.0/24",
            "rule inet filter input (one of 2 sources)",
        ),
        ("162.159.0.9", "rule inet filter input"),
        ("172.70.1.2", "element ip crowdsec cs { 172.70.1.2 }"),
        ("192.0.2.1", "rule inet filter input (one of 2 sources)"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(specs(&run_text(text)), expected);
    let json = r#"{"nftables": [
        {"table": {"family": "inet", "name": "filter"}},
        {"set": {"family": "inet", "table": "filter", "name": "bl", "type": "ipv4_addr", "flags": ["interval"],
          "elem": ["104.16.5.5", {"range": ["104.18.7.0", "104.18.7.19"]}, {"prefix": {"addr": "104.20.0.0", "len": 16}}]}},
        {"set": {"family": "inet", "table": "filter", "name": "ports", "type": ["ipv4_addr", "inet_service"],
          "elem": [{"concat": ["104.21.0.1", 22]}]}},
        {"chain": {"family": "inet", "table": "filter", "name": "input"}},
        {"rule": {"family": "inet", "table": "filter", "chain": "input", "expr": [
          {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@bl"}}, {"drop": null}]}},
        {"rule": {"family": "inet", "table": "filter", "chain": "input", "expr": [
          {"match": {"op": "==", "left": {"concat": [{"payload": {"protocol": "ip", "field": "saddr"}}, {"payload": {"protocol": "tcp", "field": "dport"}}]}, "right": "@ports"}}, {"drop": null}]}},
        {"rule": {"family": "inet", "table": "filter", "chain": "input", "expr": [
          {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "162.159.0.9"}}, {"drop": null}]}},
        {"rule": {"family": "inet", "table": "filter", "chain": "input", "expr": [
          {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"set": [{"prefix": {"addr": "162.158.77.0", "len": 24}}, "192.0.2.1"]}}}, {"drop": null}]}},
        {"table": {"family": "ip", "name": "crowdsec"}},
        {"set": {"family": "ip", "table": "crowdsec", "name": "cs", "type": "ipv4_addr", "elem": ["172.70.1.2"]}},
        {"chain": {"family": "ip", "table": "crowdsec", "name": "c"}},
        {"rule": {"family": "ip", "table": "crowdsec", "chain": "c", "expr": [
          {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@cs"}}, {"drop": null}]}}
    ]}"#;
    assert_eq!(specs(&run_json(json)), expected);
}
