//! Unit tests of the iptables reader (save, `-S` and `-L` forms), on literal inputs.

use super::*;
use crate::event::Action;
use crate::formats::test_support::{ctx, Collect};
use crate::formats::Verdict;

fn run(text: &str) -> Collect {
    let mut p = IptablesParser::new(&ctx("rules.v4"));
    let mut sink = Collect::default();
    for (n, line) in text.split('\n').enumerate() {
        p.line(n as u64 + 1, line.as_bytes(), &mut sink);
    }
    p.finish(&mut sink);
    sink
}

fn bans(c: &Collect) -> Vec<(String, String)> {
    c.events
        .iter()
        .map(|e| (e.scope.clone(), crate::addr::display_net(&e.net)))
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn drop_reject_sources_comma_lists_and_ranges() {
    let c = run("*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
                 -A INPUT -s 104.16.0.1/32,192.0.2.1/32 -j DROP\n\
                 -A INPUT -s 2606:4700::/32 -p tcp -m tcp --dport 443 -j REJECT --reject-with tcp-reset\n\
                 -A INPUT -m iprange --src-range 198.51.100.0-198.51.100.3 -j DROP\n\
                 -A INPUT -s 10.0.0.0/255.0.0.0 -j DROP\n\
                 -A INPUT ! -s 172.64.0.0/13 -j DROP\n\
                 -A INPUT -s ! 172.65.0.0/16 -j DROP\n\
                 -A INPUT -s 162.158.0.0/15 -j ACCEPT\n\
                 -A INPUT -d 104.16.0.9/32 -j DROP\n\
                 -A INPUT -s 0.0.0.0/0 -j DROP\n\
                 -A OUTPUT -s 104.16.0.7/32 -j DROP\n\
                 [5:300] -A INPUT -s 203.0.113.5/32 -j DROP\n\
                 COMMIT\n");
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(
        bans(&c),
        pairs(&[
            ("INPUT", "104.16.0.1"),
            ("INPUT", "192.0.2.1"),
            ("INPUT", "2606:4700::/32"),
            ("INPUT", "198.51.100.0/30"),
            ("INPUT", "10.0.0.0/8"),
            ("INPUT", "203.0.113.5"),
        ])
    );
    assert!(c
        .events
        .iter()
        .all(|e| e.action == Action::Listed && e.time.is_none()));
}

#[test]
fn quoted_comments_and_log_prefixes_are_never_options() {
    let c = run("*filter\n:INPUT ACCEPT [0:0]\n\
                 -A INPUT -m comment --comment \"-s 104.16.0.1/32 -j DROP\" -j ACCEPT\n\
                 -A INPUT -p tcp -j LOG --log-prefix \"x \\\" -s 104.16.0.2 \"\n\
                 -A INPUT -m comment --comment \"a\n-A INPUT -s 104.16.0.3/32 -j DROP\" -j ACCEPT\n\
                 -A INPUT -s 192.0.2.9/32 -m comment --comment \"CrowdSec: 104.16.0.4\" -j DROP\n\
                 COMMIT\n");
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(bans(&c), pairs(&[("INPUT", "192.0.2.9")]));
    assert_eq!(c.events[0].location.line, 7);
}

#[test]
fn jumps_follow_what_the_chain_does() {
    let c = run("*filter\n:INPUT ACCEPT [0:0]\n:LOGDROPIN - [0:0]\n:ALLOWIN - [0:0]\n:PORTS - [0:0]\n\
                 :MIXED - [0:0]\n:DENYIN - [0:0]\n\
                 -A INPUT -j DENYIN\n\
                 -A INPUT -s 104.16.0.1/32 -j LOGDROPIN\n\
                 -A INPUT -s 104.16.0.2/32 -j ALLOWIN\n\
                 -A INPUT -s 104.16.0.3/32 -j PORTS\n\
                 -A INPUT -s 104.16.0.4/32 -j MIXED\n\
                 -A INPUT -s 104.16.0.5/32 -j UNDEFINED_DROP\n\
                 -A INPUT -s 104.16.0.6/32 -g LOGDROPIN\n\
                 -A DENYIN -s 104.16.0.7/32 -j LOGDROPIN\n\
                 -A LOGDROPIN -p tcp -m limit --limit 30/min -j LOG --log-prefix \"Firewall: *TCP_IN Blocked* \"\n\
                 -A LOGDROPIN -j DROP\n\
                 -A ALLOWIN -j ACCEPT\n\
                 -A PORTS -p tcp -m tcp --dport 22 -j DROP\n\
                 -A MIXED -p tcp -m tcp --dport 443 -j ACCEPT\n\
                 -A MIXED -j REJECT\n\
                 COMMIT\n");
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(
        bans(&c),
        pairs(&[
            ("INPUT", "104.16.0.1"),
            ("INPUT", "104.16.0.3"),
            ("INPUT", "104.16.0.5"),
            ("INPUT", "104.16.0.6"),
            ("DENYIN", "104.16.0.7"),
        ])
    );
}

#[test]
fn set_uses_follow_the_verdict() {
    let c = run("*filter\n:INPUT DROP [0:0]\n:f2b-web - [0:0]\n:CROWDSEC_CHAIN - [0:0]\n\
                 -A INPUT -m set --match-set cloudflare4 src -p tcp -m multiport --dports 80,443 -j ACCEPT\n\
                 -A INPUT -p tcp -m multiport --dports 80,443 -m set --match-set f2b-modsec src -j REJECT --reject-with icmp-port-unreachable\n\
                 -A INPUT -j CROWDSEC_CHAIN\n\
                 -A CROWDSEC_CHAIN -m set --match-set crowdsec-blacklists-0 src -m comment --comment \"CrowdSec: CAPI\" -j DROP\n\
                 -A INPUT -m set ! --match-set office src -j DROP\n\
                 -A INPUT -m set --match-set dsts dst -j DROP\n\
                 -A INPUT -m set --match-set viaf2b src -j f2b-web\n\
                 -A f2b-web -j DROP\n\
                 -A INPUT -m recent --set --name DEFAULT --rsource\n\
                 -A f2b-web -m set --match-set exempt src -j RETURN\n\
                 COMMIT\n");
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert!(c.events.is_empty());
    let mut sets = c.uses.clone();
    sets.sort();
    assert_eq!(
        sets,
        [
            ("cloudflare4".to_string(), Verdict::Accept),
            ("crowdsec-blacklists-0".to_string(), Verdict::Drop),
            ("exempt".to_string(), Verdict::Accept),
            ("f2b-modsec".to_string(), Verdict::Drop),
            ("office".to_string(), Verdict::Accept),
            ("viaf2b".to_string(), Verdict::Drop),
        ]
    );
}

#[test]
fn unreached_chains_are_still_read_and_noted() {
    let c = run("*filter\n:INPUT ACCEPT [0:0]\n:orphan - [0:0]\n-A orphan -s 104.16.0.1/32 -j DROP\nCOMMIT\n");
    assert_eq!(bans(&c), pairs(&[("orphan", "104.16.0.1")]));
    assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
}

#[test]
fn dash_s_form_and_several_dumps() {
    let c = run("-P INPUT ACCEPT\n-P OUTPUT ACCEPT\n-N f2b-sshd\n-A INPUT -j f2b-sshd\n\
                 -A f2b-sshd -s 104.16.0.1/32 -j REJECT --reject-with icmp-port-unreachable\n\
                 -A f2b-sshd -j RETURN\n\
                 -P INPUT ACCEPT\n-N f2b-sshd\n-A INPUT -j f2b-sshd\n-A f2b-sshd -s 2606:4700::1/128 -j DROP\n");
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(
        bans(&c),
        pairs(&[("f2b-sshd", "104.16.0.1"), ("f2b-sshd", "2606:4700::1")])
    );
    assert!(c.notes.is_empty());
}

#[test]
fn list_form() {
    let c = run("Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n\
 pkts bytes target     prot opt in     out     source               destination         \n\
0     0 REJECT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            multiport dports 80,443 match-set f2b-modsec src reject-with icmp-port-unreachable\n\
0     0 f2b-x      6    --  *      *       0.0.0.0/0            0.0.0.0/0            multiport dports 80,443\n\
0     0 DROP       0    --  *      *      !104.16.0.9           0.0.0.0/0           \n\
0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            /* a\n\
0     0 DROP       0    --  *      *       104.16.0.8           0.0.0.0/0            */\n\
0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            /* x */\n\
0     0 DROP       0    --  *      *       104.16.0.7           0.0.0.0/0            */\n\
0     0            6    --  *      *       104.16.0.6           0.0.0.0/0            tcp dpt:22 recent: SET name: DEFAULT side: source\n\
\n\
Chain f2b-x (1 references)\n\
 pkts bytes target     prot opt in     out     source               destination         \n\
0     0 REJECT     0    --  *      *       172.67.140.9         0.0.0.0/0            reject-with icmp-port-unreachable\n\
0     0 DROP       0    --  *      *       0.0.0.0/0            0.0.0.0/0            source IP range 104.16.0.0-104.16.0.3\n\
0     0 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0           \n\
\n\
Chain INPUT (policy ACCEPT)\n\
target     prot opt source               destination\n\
DROP       all      2400:cb00::/32       ::/0\n\
DROP       all      2001:db8::/32        anywhere\n");
    assert_eq!(c.malformed.len(), 1, "{:?}", c.malformed);
    assert_eq!(
        bans(&c),
        pairs(&[
            ("f2b-x", "172.67.140.9"),
            ("f2b-x", "104.16.0.0/30"),
            ("INPUT", "2400:cb00::/32"),
            ("INPUT", "2001:db8::/32"),
        ])
    );
    assert_eq!(c.uses, [("f2b-modsec".to_string(), Verdict::Drop)]);
}

#[test]
fn bad_lines_are_malformed_not_fatal() {
    let c = run(
        "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s not-an-ip -j DROP\nhello there\n\
                 -A INPUT -s 104.16.0.1 -j DROP\n-A INPUT -m comment --comment \"open\n",
    );
    assert_eq!(c.malformed.len(), 3, "{:?}", c.malformed);
    assert_eq!(bans(&c), pairs(&[("INPUT", "104.16.0.1")]));
}

#[test]
fn detection() {
    let p = Path::new("x");
    assert_eq!(
        detect(p, b"# Generated by ip6tables-save v1.8.9\n*filter\n"),
        Some(Format::IptablesSave)
    );
    assert_eq!(
        detect(p, b"[0:0] -A INPUT -s 1.2.3.4 -j DROP\n"),
        Some(Format::IptablesSave)
    );
    assert_eq!(
        detect(p, b"-A INPUT -s 1.2.3.4 -j DROP\n"),
        Some(Format::IptablesSave)
    );
    assert_eq!(detect(p, b"-A test 10.0.0.1\n"), None);
    assert_eq!(
        detect(p, b"*filter\n:ufw-user-input - [0:0]\n### RULES ###\n"),
        None
    );
    assert_eq!(detect(p, b"*bogus\n"), None);
    assert_eq!(detect(p, b"Chain of thought\n"), None);
    assert_eq!(detect(p, b"hello\n"), None);
}

#[test]
fn never_panics_on_shuffled_pieces() {
    let pieces = [
        "-A ",
        "-I ",
        "X ",
        "-s ",
        "! ",
        "-j ",
        "-g ",
        "DROP ",
        "ACCEPT ",
        "RETURN ",
        "X",
        "104.16.0.1",
        "/24",
        ",",
        "-",
        "\"",
        "\\",
        "/*",
        "*/",
        "*filter",
        ":X - [0:0]",
        ":INPUT DROP [1:2]",
        "-P INPUT ACCEPT",
        "-N X",
        "Chain X (policy DROP)",
        "Chain Y (1 references)",
        " pkts bytes target prot opt in out source destination",
        "num target prot opt source destination",
        "0 0 ",
        "all -- ",
        "* * ",
        "anywhere ",
        "-m set --match-set s src ",
        "-m iprange --src-range 1.2.3.4-1.2.3.9 ",
        "match-set s src ",
        "source IP range ",
        "[0:0] ",
        "COMMIT",
        "\n",
        "\n",
        " ",
        "\t",
        "é",
        "\u{0}",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..300 {
        let mut text = String::new();
        for _ in 0..200 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
        }
        let _ = run(&text);
    }
}

/// Each ban names its rule as `iptables -t TABLE -A ...` adds it: the table from the
/// `*table` line, the counters of `iptables-save -c` left out; `iptables -S` output, which
/// names no table, gives the rule alone; `-L` listings give none.
#[test]
fn each_ban_names_its_rule_and_table() {
    let specs =
        |c: &Collect| -> Vec<Option<String>> { c.events.iter().map(|e| e.spec.clone()).collect() };
    let c = run("*raw\n:PREROUTING ACCEPT [0:0]\n\
                 [12:720] -A PREROUTING -s 141.101.64.0/18 -j DROP\nCOMMIT\n\
                 *filter\n:INPUT ACCEPT [0:0]\n\
                 -A INPUT -s 104.16.0.1/32 -m comment --comment \"edge ban\" -j DROP\nCOMMIT\n");
    assert_eq!(
        specs(&c),
        [
            Some("-t raw -A PREROUTING -s 141.101.64.0/18 -j DROP".to_string()),
            Some(
                "-t filter -A INPUT -s 104.16.0.1/32 -m comment --comment \"edge ban\" -j DROP"
                    .into()
            )
        ]
    );
    let c = run("-P INPUT ACCEPT\n-A INPUT -s 104.16.0.1/32 -j DROP\n");
    assert_eq!(
        specs(&c),
        [Some("-A INPUT -s 104.16.0.1/32 -j DROP".to_string())]
    );
    let c = run("Chain INPUT (policy ACCEPT)\n\
                 target     prot opt source               destination\n\
                 DROP       all  --  104.16.0.1           0.0.0.0/0\n");
    assert_eq!(specs(&c), [None]);
    // A rule too long for a spec (no real one is) gets none.
    let long = format!(
        "*filter\n-A INPUT -s 104.16.0.1/32 -m comment --comment \"{}\" -j DROP\n",
        "x".repeat(5000)
    );
    assert_eq!(specs(&run(&long)), [None]);
}

#[test]
fn legacy_and_nft_headers_tell_the_tables_apart() {
    use crate::firewall::iptables::IptablesRuleset;
    for (header, nf_tables) in [
        (
            "# Generated by iptables-save v1.8.9 (nf_tables) on Thu Dec  3 14:31:48 2026",
            true,
        ),
        (
            "# Generated by iptables-nft-save v1.8.9 (nf_tables) on Thu Dec  3 14:31:48 2026",
            true,
        ),
        (
            "# Generated by ip6tables-nft-save v1.8.9 (nf_tables) on Thu Dec  3 14:31:48 2026",
            true,
        ),
        // iptables-legacy-save and ip6tables-legacy-save (real output of 1.8.9).
        (
            "# Generated by iptables-save v1.8.9 on Thu Dec  3 14:31:48 2026",
            false,
        ),
        (
            "# Generated by ip6tables-save v1.8.9 on Thu Dec  3 14:31:48 2026",
            false,
        ),
        ("# a comment that says iptables-save and (nf_tables)", false),
    ] {
        let rs =
            IptablesRuleset::parse(&format!("{header}\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n"));
        assert_eq!(rs.nf_tables, nf_tables, "{header}");
    }
}

#[test]
fn cphulk_chain_rules_are_cphulks_and_end_at_their_datestop() {
    use chrono::{Local, NaiveDateTime, TimeZone, Utc};
    let c = run("*filter\n:INPUT ACCEPT [0:0]\n:cphulk - [0:0]\n:f2b-sshd - [0:0]\n\
                 -A INPUT -j cphulk\n-A INPUT -j f2b-sshd\n\
                 -A cphulk -s 104.16.0.1/32 -m state --state NEW -m time --datestop 2026-11-25T09:00:00 --utc -j DROP\n\
                 -A cphulk -s 104.16.0.2/32 -m time --datestop 2026-11-25T09:00:00 --kerneltz -j DROP\n\
                 -A cphulk -s 104.16.0.3/32 -m comment --comment \"-m time --datestop 2020-01-01T00:00:00\" -j DROP\n\
                 -A cphulk -s 104.16.0.4/32 -j ACCEPT\n\
                 -A cphulk -s 104.16.0.6/32 -m time --datestop 2026-11-25 --timestop 01:30:08 --utc -j DROP\n\
                 -A cphulk -s 104.16.0.7/32 -m time --timestart 00:00:00 --timestop 01:30:08 --datestop 2026-11-25T00:00:00 --utc -j DROP\n\
                 -A f2b-sshd -s 104.16.0.5/32 -m time --datestop 2026-11-20T09:00:00 -j REJECT\n\
                 COMMIT\n");
    let utc = |t: &str| {
        let t = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").unwrap();
        Utc.from_utc_datetime(&t)
            .with_timezone(&Local)
            .naive_local()
    };
    let got: Vec<(Tool, String, String, Option<NaiveDateTime>)> = c
        .events
        .iter()
        .map(|e| (e.tool, e.scope.clone(), e.net.to_string(), e.expires))
        .collect();
    assert_eq!(
        got,
        [
            (
                Tool::Cphulk,
                "cphulk".into(),
                "104.16.0.1/32".into(),
                Some(utc("2026-11-25T09:00:00"))
            ),
            (
                Tool::Cphulk,
                "cphulk".into(),
                "104.16.0.2/32".into(),
                Some("2026-11-25T09:00:00".parse().unwrap())
            ),
            (Tool::Cphulk, "cphulk".into(), "104.16.0.3/32".into(), None),
            (
                Tool::Cphulk,
                "cphulk".into(),
                "104.16.0.6/32".into(),
                Some(utc("2026-11-25T01:30:08"))
            ),
            (
                Tool::Cphulk,
                "cphulk".into(),
                "104.16.0.7/32".into(),
                Some(utc("2026-11-25T01:30:08"))
            ),
            (
                Tool::Iptables,
                "f2b-sshd".into(),
                "104.16.0.5/32".into(),
                Some(utc("2026-11-20T09:00:00"))
            ),
        ]
    );
}
