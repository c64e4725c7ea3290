//! Unit tests of the ufw readers (`user.rules`, `ufw status`, `ufw show added`), on literal inputs.

use super::*;
use crate::formats::grammar::words::shell_words;
use crate::formats::test_support::{ctx, Collect};
use crate::formats::LineParser;

fn run(mut parser: impl LineParser, text: &str) -> Collect {
    let mut sink = Collect::default();
    for (n, line) in text.lines().enumerate() {
        parser.line(n as u64 + 1, line.as_bytes(), &mut sink);
    }
    parser.finish(&mut sink);
    sink
}

fn got(c: &Collect) -> Vec<(String, String, u64)> {
    c.events
        .iter()
        .map(|e| {
            (
                crate::addr::display_net(&e.net),
                e.scope.clone(),
                e.location.line,
            )
        })
        .collect()
}

#[test]
fn tuples_of_every_shape() {
    let text = "\
### tuple ### reject any any 0.0.0.0/0 any 172.64.155.20 in comment=6279204661696c3242616e206166746572203320617474656d70747320616761696e7374206e67696e782d687474702d61757468
-A ufw-user-input -s 172.64.155.20 -j REJECT
### tuple ### allow tcp 443 0.0.0.0/0 any 173.245.48.0/20 in comment=436c6f7564666c617265
### tuple ### deny any any 0.0.0.0/0 any 203.0.113.9 in comment=62616e203130342e31362e302e3120746f6f
### tuple ### deny any any 104.24.0.1 any 0.0.0.0/0 out
### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### deny tcp 80 0.0.0.0/0 any 198.41.128.0/17 in_eth0
### tuple ### route:deny tcp 8080 10.0.0.5 any 141.101.64.0/18 in
### tuple ### deny_log any any 0.0.0.0/0 any 190.93.240.7 in
### tuple ### deny any any 104.16.0.7 any 198.51.100.0/24 in
### tuple ### reject tcp 80,443 0.0.0.0/0 any 131.0.72.0/22 WWW%20Full - in
### tuple ### deny any any 0.0.0.0/0 any 104.16.1.1
### tuple ### deny any any 0.0.0.0/0 any 104.16.1.2 out_eth0
### tuple ### reject_log-all tcp 25 10.0.0.1 25 104.16.1.3 in
# ### tuple ### deny any any 0.0.0.0/0 any 104.16.1.4 in
### tuple ### deny tcp
### tuple ### deny any any 0.0.0.0/0 any 104.16.1.500 in
### tuple ### deny any any 0.0.0.0/0 any 104.16.1.5 in comment=xyz
";
    let c = run(RulesParser::new(&ctx("/etc/ufw/user.rules")), text);
    assert_eq!(
        got(&c),
        [
            (
                "172.64.155.20".into(),
                "by Fail2Ban after 3 attempts against nginx-http-auth".into(),
                1
            ),
            ("203.0.113.9".into(), "ban 104.16.0.1 too".into(), 4),
            ("198.41.128.0/17".into(), "deny 80/tcp on eth0".into(), 7),
            (
                "141.101.64.0/18".into(),
                "route deny 10.0.0.5 8080/tcp".into(),
                8
            ),
            ("190.93.240.7".into(), "deny".into(), 9),
            ("198.51.100.0/24".into(), "deny 104.16.0.7".into(), 10),
            (
                "131.0.72.0/22".into(),
                "reject 80,443/tcp (WWW Full)".into(),
                11
            ),
            ("104.16.1.1".into(), "deny".into(), 12),
            ("104.16.1.3".into(), "reject 10.0.0.1 25/tcp".into(), 14),
        ]
    );
    let bad: Vec<u64> = c.malformed.iter().map(|m| m.0).collect();
    assert_eq!(bad, [16, 17, 18]);
    assert!(c
        .events
        .iter()
        .all(|e| e.action == Action::Listed && e.tool == Tool::Ufw));
}

#[test]
fn comments_are_cleaned() {
    // "a\nb" with a control character.
    let t = parse_tuple(b" deny any any 0.0.0.0/0 any 104.16.0.1 in comment=610a62").unwrap();
    assert_eq!(t.scope(), "a b");
    // An odd digit is dropped, as ufw does.
    assert_eq!(decode_comment(b"616").unwrap(), "a");
    // An empty comment falls back to the description.
    let t = parse_tuple(b" deny any any 0.0.0.0/0 any 104.16.0.1 in comment=2020").unwrap();
    assert_eq!(t.scope(), "deny");
}

#[test]
fn status_rows_of_every_kind() {
    let text = "\
Status: active
Logging: on (low)
Default: deny (incoming), allow (outgoing), disabled (routed)
New profiles: skip

To                         Action      From
--                         ------      ----
Anywhere                   REJECT IN   172.64.155.20              # by Fail2Ban after 3 attempts against nginx-http-auth
443/tcp                    ALLOW IN    173.245.48.0/20            # Cloudflare 173.245.48.0/20
Anywhere                   DENY IN     203.0.113.9                # ban 104.16.0.1 too
22/tcp                     LIMIT IN    Anywhere
80/tcp on eth0             DENY IN     198.41.128.0/17
Anywhere                   DENY IN     190.93.240.7               (log)
104.16.0.7                 DENY IN     198.51.100.0/24
80,443/tcp (WWW Full)      REJECT IN   131.0.72.0/22
Anywhere (v6)              DENY IN     2a06:98c0:3600::103        # by Fail2Ban after 2 attempts against recidive
22/tcp (v6)                LIMIT IN    Anywhere (v6)
WWW Full                   DENY        Anywhere

104.24.0.1                 DENY OUT    Anywhere

10.0.0.5 8080/tcp          DENY FWD    141.101.64.0/18
Anywhere                   DENY IN     104.16.1.999
";
    let c = run(StatusParser::new(&ctx("status.txt")), text);
    assert_eq!(
        got(&c),
        [
            (
                "172.64.155.20".into(),
                "by Fail2Ban after 3 attempts against nginx-http-auth".into(),
                8
            ),
            ("203.0.113.9".into(), "ban 104.16.0.1 too".into(), 10),
            ("198.41.128.0/17".into(), "deny 80/tcp on eth0".into(), 12),
            ("190.93.240.7".into(), "deny".into(), 13),
            ("198.51.100.0/24".into(), "deny 104.16.0.7".into(), 14),
            (
                "131.0.72.0/22".into(),
                "reject 80,443/tcp (WWW Full)".into(),
                15
            ),
            (
                "2a06:98c0:3600::103".into(),
                "by Fail2Ban after 2 attempts against recidive".into(),
                16
            ),
            (
                "141.101.64.0/18".into(),
                "route deny 10.0.0.5 8080/tcp".into(),
                22
            ),
        ]
    );
    assert_eq!(c.malformed.len(), 1);
    assert_eq!(c.malformed[0].0, 23);
}

/// A rule of one protocol without ports (`ufw deny proto tcp from 104.24.0.1`) shows its
/// protocol after the source address, as the real ufw 0.36.2 prints it.
#[test]
fn a_source_with_its_protocol() {
    let text = "Status: active\n\nTo                         Action      From\n\
                --                         ------      ----\n\
                Anywhere                   DENY IN     104.24.0.1/tcp            \n\
                Anywhere                   DENY IN     2606:4700::/32/udp\n";
    let c = run(StatusParser::new(&ctx("status.txt")), text);
    assert_eq!(
        got(&c),
        [
            ("104.24.0.1".into(), "deny".into(), 5),
            ("2606:4700::/32".into(), "deny".into(), 6)
        ]
    );
    assert!(c.malformed.is_empty());
}

#[test]
fn rows_before_the_table_are_not_read() {
    let text = "Status: active\nAnywhere DENY IN 104.16.0.1\n";
    let c = run(StatusParser::new(&ctx("status.txt")), text);
    assert!(c.events.is_empty());
}

#[test]
fn show_added_commands() {
    let text = "\
Added user rules (see 'ufw status' for running firewall):
ufw reject from 172.64.155.20 comment 'by Fail2Ban after 3 attempts against nginx-http-auth'
ufw allow from 173.245.48.0/20 to any port 443 proto tcp comment 'Cloudflare 173.245.48.0/20'
ufw deny from 203.0.113.9 comment 'ban 104.16.0.1 too'
ufw deny out to 104.24.0.1
ufw limit 22/tcp
ufw deny in on eth0 from 198.41.128.0/17 to any port 80 proto tcp
ufw route deny from 141.101.64.0/18 to 10.0.0.5 port 8080 proto tcp
ufw deny log from 190.93.240.7
ufw deny from 198.51.100.0/24 to 104.16.0.7
ufw reject from 131.0.72.0/22 to any app 'WWW Full' comment 'edge'
ufw deny from 172.65.32.248 to any port 22 proto tcp
ufw deny 23
ufw deny from 'open
";
    let c = run(StatusParser::new(&ctx("show-added.txt")), text);
    assert_eq!(
        got(&c),
        [
            (
                "172.64.155.20".into(),
                "by Fail2Ban after 3 attempts against nginx-http-auth".into(),
                2
            ),
            ("203.0.113.9".into(), "ban 104.16.0.1 too".into(), 4),
            ("198.41.128.0/17".into(), "deny 80/tcp on eth0".into(), 7),
            (
                "141.101.64.0/18".into(),
                "route deny 10.0.0.5 8080/tcp".into(),
                8
            ),
            ("190.93.240.7".into(), "deny".into(), 9),
            ("198.51.100.0/24".into(), "deny 104.16.0.7".into(), 10),
            ("131.0.72.0/22".into(), "edge".into(), 11),
            ("172.65.32.248".into(), "deny 22/tcp".into(), 12),
        ]
    );
    assert_eq!(c.malformed.len(), 1);
}

#[test]
fn shell_words_quotes() {
    assert_eq!(
        shell_words(br#"ufw deny from 1.2.3.4 comment 'a b' x"y z"'q'"#).unwrap(),
        ["ufw", "deny", "from", "1.2.3.4", "comment", "a b", "xy zq"]
    );
    assert!(shell_words(b"ufw 'open").is_none());
}
