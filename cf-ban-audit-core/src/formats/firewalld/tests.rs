//! Unit tests of the firewalld readers (XML and `firewall-cmd` output), on literal inputs.

use super::rules::is_mac;
use super::xml::decode_entities;
use super::*;
use crate::formats::test_support::{ctx, Collect};
use crate::formats::{LineParser, Verdict};

fn run(mut parser: impl LineParser, text: &str) -> Collect {
    let mut sink = Collect::default();
    for (n, line) in text.lines().enumerate() {
        parser.line(n as u64 + 1, line.as_bytes(), &mut sink);
    }
    parser.finish(&mut sink);
    sink
}

fn got(c: &Collect) -> Vec<(String, String, u64, Format)> {
    c.events
        .iter()
        .map(|e| {
            (
                crate::addr::display_net(&e.net),
                e.scope.clone(),
                e.location.line,
                e.format,
            )
        })
        .collect()
}

fn xml(path: &str, text: &str) -> Collect {
    let ctx = ctx(path);
    let format = detect(&ctx.path, text.as_bytes()).expect("detected");
    run(XmlParser::new(format, &ctx), text)
}

const PUBLIC: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<zone>
  <short>Public</short>
  <description>Text with &lt;source address="104.16.0.5"/&gt; &amp; more</description>
  <service name="ssh"/>
  <source address="104.16.0.6"/>
  <rule family="ipv4">
    <source ipset="office"/>
    <service name="https"/>
    <accept/>
  </rule>
  <rule family="ipv4">
    <source ipset="blocked-ranges"/>
    <reject/>
  </rule>
  <rule family="ipv4">
    <source address="198.41.128.0/17" invert="True"/>
    <drop/>
  </rule>
  <rule family="ipv4">
    <source address="197.234.240.9"/>
    <port port="443" protocol="tcp"/>
    <drop/>
  </rule>
  <rule family="ipv4">
    <destination address="104.16.0.2"/>
    <drop/>
  </rule>
  <rule family="ipv4">
    <source address="188.114.96.3"/>
    <mark set="0x1"/>
  </rule>
  <rule family="ipv4">
    <source address="108.162.192.7"/>
    <log prefix="drop 104.16.0.1 " level="info"><limit value="1/m"/></log>
    <accept/>
  </rule>
  <rule family="ipv4">
    <source address="104.16.9.9"/>
    <drop>
      <limit value="2/m"/>
    </drop>
  </rule>
  <rule family='ipv6' priority='-10'>
    <source address='2400:cb00:2049::/48'/>
    <reject type='icmp6-port-unreachable'/>
  </rule>
  <!--
  <rule family="ipv4"><source address="104.16.0.3"/><drop/></rule>
  -->
  <rule family="ipv4">
    <source address="104.16.0.4"/>
    <log prefix="x"/>
    <drop/>
  </rule>
  <forward/>
</zone>
"#;

#[test]
fn zone_rich_rules() {
    let c = xml("/etc/firewalld/zones/public.xml", PUBLIC);
    assert_eq!(
        got(&c),
        [
            (
                "197.234.240.9".into(),
                "zone:public".into(),
                21,
                Format::FirewalldZone
            ),
            (
                "2400:cb00:2049::/48".into(),
                "zone:public".into(),
                45,
                Format::FirewalldZone
            ),
            (
                "104.16.0.4".into(),
                "zone:public".into(),
                52,
                Format::FirewalldZone
            ),
        ]
    );
    assert_eq!(
        c.uses,
        [
            ("office".into(), Verdict::Accept),
            ("blocked-ranges".into(), Verdict::Drop)
        ]
    );
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
}

#[test]
fn zone_targets() {
    let drop = "<zone target=\"DROP\">\n<source address=\"104.16.0.1\"/>\n<source ipset=\"x\"/>\n<source mac=\"00:11:22:33:44:55\"/>\n</zone>\n";
    let c = xml("/etc/firewalld/zones/mine.xml", drop);
    assert_eq!(
        got(&c),
        [(
            "104.16.0.1".into(),
            "zone:mine".into(),
            2,
            Format::FirewalldZone
        )]
    );
    assert_eq!(c.uses, [("x".into(), Verdict::Drop)]);

    let block = "<zone>\n<source address=\"104.16.0.1\"/>\n</zone>\n";
    let c = xml("/etc/firewalld/zones/block.xml", block);
    assert_eq!(c.events.len(), 1);
    let c = xml("/etc/firewalld/zones/internal.xml", block);
    assert!(c.events.is_empty());

    let trusted = "<zone target=\"ACCEPT\">\n<source address=\"104.16.0.1\"/>\n<source ipset=\"cloudflare-v4\"/>\n</zone>\n";
    let c = xml("/etc/firewalld/zones/trusted.xml", trusted);
    assert!(c.events.is_empty());
    assert_eq!(c.uses, [("cloudflare-v4".into(), Verdict::Accept)]);

    let rejecting = "<zone target=\"%%REJECT%%\"><source address=\"2606:4700::1\"/></zone>";
    assert_eq!(xml("z/x.xml", rejecting).events.len(), 1);
}

#[test]
fn policies() {
    let text = r#"<?xml version="1.0" encoding="utf-8"?>
<policy target="CONTINUE" priority="-15000">
  <ingress-zone name="ANY" />
  <egress-zone name="HOST" />
  <rule family="ipv4">
    <source address="172.71.0.0/16" />
    <drop />
  </rule>
</policy>
"#;
    let c = xml("/etc/firewalld/policies/edge.xml", text);
    assert_eq!(
        got(&c),
        [(
            "172.71.0.0/16".into(),
            "policy:edge".into(),
            6,
            Format::FirewalldZone
        )]
    );
}

#[test]
fn ipsets() {
    let text = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ipset type=\"hash:net\">\n  <option name=\"family\" value=\"inet\"/>\n  <entry>104.16.0.0/13</entry>\n  <entry>141.101.64.0-141.101.127.255</entry>\n  <entry> 203.0.113.0/24 </entry>\n  <entry>bogus</entry>\n  <entry/>\n</ipset>\n";
    let c = xml("/etc/firewalld/ipsets/cf-blocklist-v4.xml", text);
    assert_eq!(
        got(&c),
        [
            (
                "104.16.0.0/13".into(),
                "cf-blocklist-v4".into(),
                4,
                Format::FirewalldIpset
            ),
            (
                "141.101.64.0/18".into(),
                "cf-blocklist-v4".into(),
                5,
                Format::FirewalldIpset
            ),
            (
                "203.0.113.0/24".into(),
                "cf-blocklist-v4".into(),
                6,
                Format::FirewalldIpset
            ),
        ]
    );
    assert_eq!(c.malformed.len(), 1);
    assert_eq!(c.malformed[0].0, 7);

    let mac = "<ipset type=\"hash:mac\"><entry>00:11:22:33:44:55</entry></ipset>";
    let c = xml("/etc/firewalld/ipsets/macs.xml", mac);
    assert!(c.events.is_empty() && c.malformed.is_empty());
}

#[test]
fn direct_xml() {
    let text = r#"<?xml version="1.0" encoding="utf-8"?>
<direct>
  <chain ipv="ipv4" table="filter" chain="f2b-sshd"/>
  <rule ipv="ipv4" table="filter" chain="f2b-sshd" priority="0">-s 172.71.10.1 -j REJECT --reject-with icmp-port-unreachable</rule>
  <rule ipv="ipv4" table="filter" chain="f2b-sshd" priority="1000">-j RETURN</rule>
  <rule ipv="ipv4" table="filter" chain="INPUT" priority="1">-s 103.31.4.0/22 -j ACCEPT</rule>
  <rule ipv="ipv4" table="filter" chain="INPUT" priority="2">'!' -s 104.16.0.0/13 -p tcp --dport 3306 -j DROP</rule>
  <rule ipv="ipv4" table="filter" chain="INPUT" priority="3">-m set --match-set fw-banned src -j DROP</rule>
  <rule ipv="ipv6" table="filter" chain="INPUT" priority="0">-s 2405:8100::/32,2001:db8::1 -j DROP</rule>
  <rule ipv="ipv4" table="filter" chain="OUTPUT" priority="0">-s 104.16.0.8 -j DROP</rule>
  <rule ipv="eb" table="filter" chain="INPUT" priority="0">-s 104.16.0.9 -j DROP</rule>
  <passthrough ipv="ipv4">-A INPUT -s 104.17.3.3 -j DROP</passthrough>
  <passthrough ipv="ipv4">-D INPUT -s 104.17.3.4 -j DROP</passthrough>
</direct>
"#;
    let c = xml("/etc/firewalld/direct.xml", text);
    assert_eq!(
        got(&c),
        [
            (
                "172.71.10.1".into(),
                "direct:f2b-sshd".into(),
                4,
                Format::FirewalldZone
            ),
            (
                "2405:8100::/32".into(),
                "direct:INPUT".into(),
                9,
                Format::FirewalldZone
            ),
            (
                "2001:db8::1".into(),
                "direct:INPUT".into(),
                9,
                Format::FirewalldZone
            ),
            (
                "104.17.3.3".into(),
                "direct:INPUT".into(),
                12,
                Format::FirewalldZone
            ),
        ]
    );
    assert_eq!(c.uses, [("fw-banned".into(), Verdict::Drop)]);
}

#[test]
fn broken_xml_is_reported_not_fatal() {
    for (text, line) in [
        ("<zone target=\"DROP\">\n<source address=\"104.16.0.1\"/>\n<source address=\"104.16.0.2\n", 3),
        ("<zone target=\"DROP\">\n<source address=\"104.16.0.1\"/>\n</wrong>\n", 3),
        ("<zone target=\"DROP\">\n<source address=\"104.16.0.1\"/>\n<!-- open\n", 3),
        ("<zone target=\"DROP\">\n<source address=\"104.16.0.1\"/>\n", 2),
        ("<zone target=\"DROP\">\n<source address=\"104.16.0.1\"/>\n</zone>\n<zone/>\n", 4),
        ("<zone target=\"DROP\">\n<source address=\"104.16.0.1\"/>\n<source address=104.16.0.2/>\n", 3),
        ("<zone target=\"DROP\">\n<source address=\"104.16.0.1\"/>\n<source address=\"104.16.0.x\"/></zone>\n", 3),
    ] {
        let c = xml("/etc/firewalld/zones/drop.xml", text);
        assert_eq!(c.events.len(), 1, "{text}");
        assert_eq!(c.malformed.len(), 1, "{text}: {:?}", c.malformed);
        assert_eq!(c.malformed[0].0, line, "{text}: {:?}", c.malformed);
    }
    // Garbage that is not XML at all gives nothing and never panics.
    let ctx = ctx("x.xml");
    for text in [
        "<",
        "<<<>>>",
        "</>",
        "<a b=>",
        "<a b='",
        "&#xFFFFFFFF; &",
        "<![CDATA[",
        "<?x",
        "<!x",
    ] {
        run(XmlParser::new(Format::FirewalldZone, &ctx), text);
    }
}

#[test]
fn entities() {
    assert_eq!(
        decode_entities(b"a &lt;b&gt; &amp;&quot;&apos; &#65;&#x42; &bogus; &"),
        "a <b> &\"' AB &bogus; &"
    );
}

#[test]
fn ranges() {
    let nets = |a: &str, b: &str| {
        crate::addr::range_nets(a.parse().unwrap(), b.parse().unwrap())
            .unwrap()
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(nets("0.0.0.0", "255.255.255.255"), ["0.0.0.0/0"]);
    assert_eq!(
        nets("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ["::/0"]
    );
    assert_eq!(
        nets("255.255.255.255", "255.255.255.255"),
        ["255.255.255.255/32"]
    );
    assert_eq!(nets("2606:4700::", "2606:4700::3"), ["2606:4700::/126"]);
    assert_eq!(
        nets("10.0.0.255", "10.0.1.0"),
        ["10.0.0.255/32", "10.0.1.0/32"]
    );
    assert!(crate::addr::range_nets("10.0.0.1".parse().unwrap(), "::1".parse().unwrap()).is_none());
    assert_eq!(
        ipset_entry_nets("104.16.0.0-104.16.0.0/24", "hash:net").unwrap()[0].to_string(),
        "104.16.0.0/24"
    );
}

#[test]
fn rich_rule_words() {
    let r = parse_rich_rule(b"rule family='ipv4' source address='104.16.0.1' port port='ssh' protocol='tcp' reject type='icmp-port-unreachable'").unwrap();
    assert_eq!(
        (r.verdict(), r.source),
        (
            Some(Verdict::Drop),
            Some(Source::Address("104.16.0.1".into()))
        )
    );
    let r =
        parse_rich_rule(br#"rule family="ipv4" source ipset="f2b-sshd" drop limit value="2/m""#)
            .unwrap();
    assert_eq!(r.verdict(), None);
    let r = parse_rich_rule(br#"rule family="ipv4" source address="104.16.0.1" log prefix="x" level="info" limit value="1/m" drop"#).unwrap();
    assert_eq!(r.verdict(), Some(Verdict::Drop));
    let r =
        parse_rich_rule(br#"rule family="ipv4" source address="104.16.0.1" mark set=0x1"#).unwrap();
    assert_eq!(r.verdict(), None);
    let r = parse_rich_rule(
        br#"rule priority="-5" family="ipv4" destination address="104.16.0.2" drop"#,
    )
    .unwrap();
    assert_eq!(r.source, None);
    assert!(parse_rich_rule(br#"rule family="ipv4" source address="104.16.0.1 drop"#).is_err());
    assert!(parse_rich_rule(br#"rule family="ipv4" source drop"#).is_err());
}

#[test]
fn firewall_cmd_outputs() {
    let text = "\
drop (active)
  summary: Drop
  description: Blocked: <source address=\"104.16.0.5\"/> & friends
  sources: 104.16.0.6
rule family=\"ipv4\" source address=\"104.16.0.7\" drop
  target: DROP
  icmp-block-inversion: no
  interfaces: 
  sources: 190.93.240.0/20 192.0.2.77 ipset:cf-blocklist-v4 00:11:22:33:44:55
  rich rules: 

trusted (active)
  target: ACCEPT
  icmp-block-inversion: no
  interfaces: 
  sources: ipset:cloudflare-v4 103.22.200.0/22
  rich rules: 

public (default, active)
  target: default
  icmp-block-inversion: no
  sources: 104.16.0.8
  forward-ports: 
\tport=80:proto=tcp:toport=8080:toaddr=
  rich rules: 
\trule family=\"ipv4\" source address=\"172.67.0.0/16\" service name=\"ssh\" log prefix=\"cf-deny \" level=\"warning\" drop
\trule family=\"ipv4\" source ipset=\"bad-hosts-v4\" drop
\trule family=\"ipv4\" source NOT address=\"198.41.128.0/17\" drop
\trule family=\"ipv4\" source address=\"192.0.2.10\" service name=\"ssh\" accept
\trule family=\"ipv4\" source address=\"104.16.0.x\" drop
cf-blocklist-v4
  type: hash:net
  options: family=inet
  entries: 104.16.0.0/13 172.64.0.0/13 bogus
allow-host-ipv6 (active)
  priority: -15000
  target: CONTINUE
  ingress-zones: ANY
  egress-zones: HOST
  rich rules: 
\trule family=\"ipv6\" source address=\"2606:4700::/32\" reject
rule family=\"ipv6\" source address=\"2400:cb00:2049::/48\" port port=\"443\" protocol=\"tcp\" reject
ipv4 filter f2b-sshd 0 -s 172.71.10.1 -j REJECT --reject-with icmp-port-unreachable
ipv4 filter INPUT 2 '!' -s 192.0.2.0/24 -p tcp --dport 3306 -j DROP
ipv4 -A INPUT -s 104.17.3.3 -j DROP
";
    let c = run(RichParser::new(&ctx("out.txt")), text);
    let rich = Format::FirewalldRich;
    assert_eq!(
        got(&c),
        [
            ("190.93.240.0/20".into(), "zone:drop".into(), 9, rich),
            ("192.0.2.77".into(), "zone:drop".into(), 9, rich),
            ("172.67.0.0/16".into(), "zone:public".into(), 26, rich),
            (
                "104.16.0.0/13".into(),
                "cf-blocklist-v4".into(),
                34,
                Format::FirewalldIpset
            ),
            (
                "172.64.0.0/13".into(),
                "cf-blocklist-v4".into(),
                34,
                Format::FirewalldIpset
            ),
            (
                "2606:4700::/32".into(),
                "policy:allow-host-ipv6".into(),
                41,
                rich
            ),
            ("2400:cb00:2049::/48".into(), "rich-rules".into(), 42, rich),
            ("172.71.10.1".into(), "direct:f2b-sshd".into(), 43, rich),
            ("104.17.3.3".into(), "direct:INPUT".into(), 45, rich),
        ]
    );
    assert_eq!(
        c.uses,
        [
            ("cf-blocklist-v4".into(), Verdict::Drop),
            ("cloudflare-v4".into(), Verdict::Accept),
            ("bad-hosts-v4".into(), Verdict::Drop),
        ]
    );
    let bad: Vec<u64> = c.malformed.iter().map(|m| m.0).collect();
    assert_eq!(bad, [30, 34]);
}

#[test]
fn a_verbose_service_before_a_zone_does_not_hide_it() {
    let text = "\
http
  summary: WWW (HTTP)
  description: HTTP is the protocol
    sources: 104.16.0.1
  ports: 80/tcp
  protocols: 
drop (active)
  target: DROP
  sources: 104.16.0.2
";
    let c = run(RichParser::new(&ctx("out.txt")), text);
    assert_eq!(
        got(&c),
        [(
            "104.16.0.2".into(),
            "zone:drop".into(),
            9,
            Format::FirewalldRich
        )]
    );
}

#[test]
fn detection() {
    let d = |name: &str, text: &str| detect(Path::new(name), text.as_bytes());
    assert_eq!(d("x.xml", "\u{feff}<?xml version=\"1.0\"?>\n<!-- c -->\n<policy target=\"DROP\">\n<ingress-zone name=\"ANY\"/>"), Some(Format::FirewalldZone));
    assert_eq!(d("x.xml", "<policy><allow/></policy>"), None);
    assert_eq!(d("direct.xml", "<direct/>"), Some(Format::FirewalldZone));
    assert_eq!(d("x.xml", "<ipset type=\"bitmap:ip\"/>"), None);
    assert_eq!(d("x.xml", "<service><port/></service>"), None);
    assert_eq!(
        d(
            "x.txt",
            "drop (active)\n  target: DROP\n  icmp-block-inversion: no\n"
        ),
        Some(Format::FirewalldRich)
    );
    assert_eq!(
        d(
            "x.txt",
            "f2b\n  type: hash:ip\n  options: \n  entries: 1.2.3.4\n"
        ),
        Some(Format::FirewalldRich)
    );
    assert_eq!(
        d("x.txt", "ipv4 filter INPUT 0 -s 1.2.3.4 -j DROP\n"),
        Some(Format::FirewalldRich)
    );
    assert_eq!(d("x.txt", "rules are rules\nrule of thumb\n"), None);
    assert_eq!(d("x.txt", "173.245.49.77\n104.18.32.7\n"), None);
    assert!(is_mac(b"00:11:22:33:44:55"));
    assert!(!is_mac(b"2606:4700::6810:7b"));
}

fn specs(c: &Collect) -> Vec<(String, Option<String>)> {
    c.events
        .iter()
        .map(|e| (crate::addr::display_net(&e.net), e.spec.clone()))
        .collect()
}

/// Bans read from the XML configuration name the `firewall-cmd --permanent` options that add
/// them: zone sources, rich rules rebuilt in firewalld's own words, ipset entries, direct
/// rules and passthroughs.
#[test]
fn xml_bans_name_their_permanent_options() {
    let zone = r#"<?xml version="1.0" encoding="utf-8"?>
<zone target="DROP">
  <source address="190.93.240.0/20"/>
  <rule priority="-100" family="ipv6">
    <source address="2c0f:f248::/32"/>
    <service name="https"/>
    <log prefix="cf ban" level="info"><limit value="1/m"/></log>
    <reject type="icmp6-adm-prohibited"/>
  </rule>
  <rule family="ipv4">
    <source address="104.16.0.9"/>
    <port port="443" protocol="tcp"/>
    <audit/>
    <drop/>
  </rule>
  <rule family="ipv4">
    <source address="104.16.0.10"/>
    <log prefix="say &quot;no&quot;"/>
    <drop/>
  </rule>
  <rule family="ipv4">
    <source address="104.16.0.11"/>
    <future-element/>
    <drop/>
  </rule>
</zone>
"#;
    assert_eq!(
        specs(&xml("/etc/firewalld/zones/drop.xml", zone)),
        [
            (
                "190.93.240.0/20".into(),
                Some("--permanent --zone=drop --add-source=190.93.240.0/20".into())
            ),
            (
                "2c0f:f248::/32".into(),
                Some(
                    r#"--permanent --zone=drop --add-rich-rule=rule priority="-100" family="ipv6" source address="2c0f:f248::/32" service name="https" log prefix="cf ban" level="info" limit value="1/m" reject type="icmp6-adm-prohibited""#
                        .into()
                )
            ),
            (
                "104.16.0.9".into(),
                Some(
                    r#"--permanent --zone=drop --add-rich-rule=rule family="ipv4" source address="104.16.0.9" port port="443" protocol="tcp" audit drop"#
                        .into()
                )
            ),
            // A value firewalld's rule reader cannot take back, an element it does not know:
            // no text.
            ("104.16.0.10".into(), None),
            ("104.16.0.11".into(), None),
        ]
    );
    let policy = r#"<?xml version="1.0" encoding="utf-8"?>
<policy target="CONTINUE">
  <ingress-zone name="public"/><egress-zone name="HOST"/>
  <rule family="ipv4"><source address="172.70.1.1"/><drop/></rule>
</policy>
"#;
    assert_eq!(
        specs(&xml("/etc/firewalld/policies/edge-in.xml", policy)),
        [(
            "172.70.1.1".into(),
            Some(r#"--permanent --policy=edge-in --add-rich-rule=rule family="ipv4" source address="172.70.1.1" drop"#.into())
        )]
    );
    let ipset = r#"<?xml version="1.0" encoding="utf-8"?>
<ipset type="hash:net"><entry>103.21.244.0/24</entry><entry>141.101.64.0-141.101.127.255</entry></ipset>
"#;
    assert_eq!(
        specs(&xml("/etc/firewalld/ipsets/blocklist.xml", ipset)),
        [
            (
                "103.21.244.0/24".into(),
                Some("--permanent --ipset=blocklist --add-entry=103.21.244.0/24".into())
            ),
            (
                "141.101.64.0/18".into(),
                Some(
                    "--permanent --ipset=blocklist --add-entry=141.101.64.0-141.101.127.255".into()
                )
            ),
        ]
    );
    let direct = r#"<?xml version="1.0" encoding="utf-8"?>
<direct>
  <rule ipv="ipv6" table="filter" chain="INPUT" priority="0">-s 2405:8100::/32 -j DROP</rule>
  <passthrough ipv="ipv4">-A INPUT -s 104.17.3.3 -j DROP</passthrough>
</direct>
"#;
    assert_eq!(
        specs(&xml("/etc/firewalld/direct.xml", direct)),
        [
            (
                "2405:8100::/32".into(),
                Some(
                    "--permanent --direct --add-rule ipv6 filter INPUT 0 -s 2405:8100::/32 -j DROP"
                        .into()
                )
            ),
            (
                "104.17.3.3".into(),
                Some(
                    "--permanent --direct --add-passthrough ipv4 -A INPUT -s 104.17.3.3 -j DROP"
                        .into()
                )
            ),
        ]
    );
}

/// Bans read from `firewall-cmd` output name the runtime options that add them.
#[test]
fn listed_bans_name_their_runtime_options() {
    let text = "drop (active)\n  target: DROP\n  sources: 190.93.240.0/20\n  rich rules: \n\
                public\n  target: default\n  sources: \n  rich rules: \n\
                \trule family=\"ipv4\" source address=\"197.234.240.9\" port port=\"443\" protocol=\"tcp\" drop\n\
                \n\
                rule family=\"ipv4\" source address=\"162.159.200.1\" reject\n\
                ipv4 filter INPUT 0 -s 104.17.3.4 -j DROP\n\
                ipv4 -A INPUT -s 104.17.3.3 -j DROP\n\
                blocklist\n  type: hash:net\n  options: \n  entries: 103.21.244.0/24\n";
    assert_eq!(
        specs(&run(RichParser::new(&ctx("list-all-zones.txt")), text)),
        [
            ("190.93.240.0/20".into(), Some("--zone=drop --add-source=190.93.240.0/20".into())),
            (
                "197.234.240.9".into(),
                Some(r#"--zone=public --add-rich-rule=rule family="ipv4" source address="197.234.240.9" port port="443" protocol="tcp" drop"#.into())
            ),
            (
                "162.159.200.1".into(),
                Some(r#"--add-rich-rule=rule family="ipv4" source address="162.159.200.1" reject"#.into())
            ),
            ("104.17.3.4".into(), Some("--direct --add-rule ipv4 filter INPUT 0 -s 104.17.3.4 -j DROP".into())),
            ("104.17.3.3".into(), Some("--direct --add-passthrough ipv4 -A INPUT -s 104.17.3.3 -j DROP".into())),
            ("103.21.244.0/24".into(), Some("--ipset=blocklist --add-entry=103.21.244.0/24".into())),
        ]
    );
}
