//! Unit tests of the ipset reader (`ipset save` and `ipset list`), on literal inputs.

use super::*;
use crate::event::Action;
use crate::formats::test_support::{ctx, Collect};
use crate::formats::LineParser;
use chrono::TimeDelta;
use std::net::IpAddr;

/// The crate's range splitter, with an empty list for what it refuses.
fn range_nets(first: IpAddr, last: IpAddr) -> Vec<IpNet> {
    crate::addr::range_nets(first, last).unwrap_or_default()
}

fn now() -> NaiveDateTime {
    "2026-11-24T12:00:00".parse().unwrap()
}

fn run(text: &str) -> Collect {
    let mut p = IpsetParser::new(&ctx("ipsets"));
    let mut sink = Collect::default();
    for (n, line) in text.split('\n').enumerate() {
        p.line(n as u64 + 1, line.as_bytes(), &mut sink);
    }
    p.finish(&mut sink);
    sink
}

fn members(c: &Collect) -> Vec<(String, String)> {
    c.events
        .iter()
        .map(|e| (e.scope.clone(), crate::addr::display_net(&e.net)))
        .collect()
}

#[test]
fn save_format_with_timeouts_ranges_nomatch_and_ports() {
    let c = run("create a hash:ip family inet timeout 600\n\
                 add a 104.16.0.1 timeout 545\n\
                 add a 192.0.2.1 timeout 0\n\
                 create n hash:net family inet\n\
                 add n 104.16.0.0-104.16.0.255\n\
                 add n 10.1.0.0/16 nomatch\n\
                 create p hash:ip,port family inet6\n\
                 add p 2606:4700::1,tcp:80\n\
                 create ports bitmap:port range 1-1023\n\
                 add ports 22\n\
                 create macs hash:mac\n\
                 add macs aa:bb:cc:dd:ee:ff\n");
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(
        members(&c),
        [
            ("a".into(), "104.16.0.1".into()),
            ("a".into(), "192.0.2.1".into()),
            ("n".into(), "104.16.0.0/24".into()),
            ("p".into(), "2606:4700::1".into()),
        ]
    );
    assert_eq!(c.events[0].expires, Some(now() + TimeDelta::seconds(545)));
    assert_eq!(c.events[1].expires, None);
    assert!(c
        .events
        .iter()
        .all(|e| e.action == Action::Listed && e.format == Format::Ipset));
}

#[test]
fn list_format_and_netmask() {
    let c = run(
        "Name: f2b-sshd\nType: hash:ip\nRevision: 6\nFuture Header: 3\n\
                 Header: family inet hashsize 1024 maxelem 65536 netmask 24 timeout 600\n\
                 Size in memory: 728\nReferences: 1\nNumber of entries: 2\nMembers:\n\
                 104.16.7.0 timeout 12\n192.0.2.0 timeout 0 comment \"x y\"\n\n\
                 Name: other\nType: list:set\nHeader: size 8\nMembers:\nf2b-sshd\n",
    );
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(
        members(&c),
        [
            ("f2b-sshd".into(), "104.16.7.0/24".into()),
            ("f2b-sshd".into(), "192.0.2.0/24".into()),
        ]
    );
    assert_eq!(c.members, [("other".to_string(), "f2b-sshd".to_string())]);
}

#[test]
fn list_sets_tell_their_members_as_they_end() {
    let c = run(
        "create a hash:net family inet\nadd a 104.16.1.0/24\ncreate b hash:ip family inet\n\
         create all list:set size 8\nadd all a\nadd all b\ndel all b\n\
         create other list:set size 8\nadd other a\n",
    );
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(
        c.members,
        [
            ("all".to_string(), "a".to_string()),
            ("other".to_string(), "a".to_string()),
        ]
    );
}

#[test]
fn comments_never_give_members_even_over_line_breaks() {
    let c = run(
        "create x hash:ip family inet hashsize 1024 maxelem 65536 timeout 300 comment\n\
                 add x 192.0.2.5 timeout 299 comment \"q\nadd x 104.16.0.1\"\n\
                 add x 192.0.2.6 timeout 0 comment \"add x 104.16.0.2 nomatch timeout\"\n\
                 Name: y\nType: hash:ip\nMembers:\n192.0.2.7 comment \"a\n104.16.0.3\"\n",
    );
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(
        members(&c),
        [
            ("x".into(), "192.0.2.5".into()),
            ("x".into(), "192.0.2.6".into()),
            ("y".into(), "192.0.2.7".into()),
        ]
    );
    assert_eq!(c.events[0].location.line, 2);
}

#[test]
fn restore_commands_are_applied() {
    let c = run("create a hash:ip family inet6\nadd a 1::1\nadd a 2::2\n\
                 create b hash:ip family inet6\nadd b 3::3\nadd b 4::4\n\
                 rename a c\nswap c b\nrename c a\nadd a a::a\nadd b b::b\n\
                 del b 1::1\ncreate gone hash:ip\nadd gone 104.16.0.1\ndestroy gone\n\
                 -N old iphash --hashsize 128\n-A old 10.0.0.1\n");
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    let mut got = members(&c);
    got.sort();
    let want: Vec<(String, String)> = [
        ("a", "3::3"),
        ("a", "4::4"),
        ("a", "a::a"),
        ("b", "2::2"),
        ("b", "b::b"),
        ("old", "10.0.0.1"),
    ]
    .iter()
    .map(|(s, a)| (s.to_string(), a.to_string()))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn bad_members_are_malformed_and_odd_timeouts_noted() {
    let c = run("create a hash:ip\nadd a nothere\nadd a 10.0.0.1 timeout x\nbogus line\nadd a 10.0.0.2 comment \"open");
    assert_eq!(c.malformed.len(), 3, "{:?}", c.malformed);
    assert_eq!(members(&c), [("a".into(), "10.0.0.1".into())]);
    assert_eq!(c.notes.len(), 1);
}

#[test]
fn detects_only_ipset_output() {
    let p = Path::new("x");
    assert_eq!(
        detect(
            p,
            b"# saved\n\n-N test iphash --hashsize 128\n-A test 10.0.0.0\n"
        ),
        Some(Format::Ipset)
    );
    assert_eq!(
        detect(p, b"Name: x\nType: bitmap:port\n"),
        Some(Format::Ipset)
    );
    assert_eq!(detect(p, b"Name: x\nAge: 3\n"), None);
    assert_eq!(detect(p, b"*filter\n:INPUT ACCEPT [0:0]\n"), None);
    assert_eq!(detect(p, b"create x hash:foo\n"), Some(Format::Ipset));
    assert_eq!(detect(p, b"create x fish:ip\n"), None);
}

#[test]
fn ranges_split_into_blocks() {
    let v6 = range_nets(
        "2606:4700::".parse().unwrap(),
        "2606:4700:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap(),
    );
    assert_eq!(v6.len(), 1);
    assert_eq!(v6[0].to_string(), "2606:4700::/32");
    assert_eq!(
        range_nets(
            "0.0.0.0".parse().unwrap(),
            "255.255.255.255".parse().unwrap()
        )
        .len(),
        1
    );
    assert!(range_nets("1.2.3.4".parse().unwrap(), "::1".parse().unwrap()).is_empty());
    assert!(parse_nets(b"1.2.3.4-").is_none());
    assert!(parse_nets(b"-").is_none());
}

#[test]
fn never_panics_on_shuffled_pieces() {
    let pieces = [
        "create ",
        "add ",
        "del ",
        "flush ",
        "destroy ",
        "rename ",
        "swap ",
        "-N ",
        "-A ",
        "s ",
        "t ",
        "hash:ip ",
        "hash:net,port ",
        "list:set ",
        "bitmap:port ",
        "104.16.0.1",
        "/24",
        ",tcp:80",
        "-",
        "104.16.0.9",
        "timeout ",
        "5 ",
        "x ",
        "netmask ",
        "24 ",
        "comment ",
        "\"",
        "nomatch ",
        "Name: s",
        "Type: hash:ip",
        "Header: family inet netmask 200",
        "Members:",
        "-exist ",
        "\n",
        "\n",
        " ",
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
