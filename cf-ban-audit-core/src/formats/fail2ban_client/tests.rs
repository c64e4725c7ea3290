//! Unit tests of the `fail2ban-client` output readers (`status`, `banned`), on literal inputs.

use super::*;
use crate::formats::test_support::{ctx, feed_as, Collect};
use crate::formats::{LineParser, LongLines};
use crate::lines::MAX_LINE;

impl Collect {
    /// (jail, address, line)
    fn triples(&self) -> Vec<(String, String, u64)> {
        self.events
            .iter()
            .map(|e| {
                (
                    e.scope.clone(),
                    crate::addr::display_net(&e.net),
                    e.location.line,
                )
            })
            .collect()
    }
}

/// Reads `input` as the scanner does: long lines in pieces.
fn feed(parser: &mut dyn LineParser, input: &[u8]) -> Collect {
    let mut sink = Collect::default();
    feed_as(parser, LongLines::Pieces(usize::MAX), input, &mut sink);
    sink
}

fn status(input: &str) -> Collect {
    feed(&mut StatusParser::new(&ctx("out.txt")), input.as_bytes())
}

fn banned(input: &[u8]) -> Collect {
    feed(&mut BannedParser::new(&ctx("out.txt")), input)
}

fn t(jail: &str, addr: &str, line: u64) -> (String, String, u64) {
    (jail.to_string(), addr.to_string(), line)
}

const SSHD: &str = "Status for the jail: sshd
|- Filter
|  |- Currently failed:\t0
|  |- Total failed:\t0
|  `- File list:\t/var/log/auth.log
`- Actions
   |- Currently banned:\t4
   |- Total banned:\t5
   `- Banned IP list:\t104.16.9.9 192.0.2.5 2606:4700::abcd 2001:db8::5
";

#[test]
fn status_of_one_jail() {
    let got = status(SSHD);
    assert!(got.malformed.is_empty(), "{:?}", got.malformed);
    assert_eq!(
        got.triples(),
        [
            t("sshd", "104.16.9.9", 9),
            t("sshd", "192.0.2.5", 9),
            t("sshd", "2606:4700::abcd", 9),
            t("sshd", "2001:db8::5", 9)
        ]
    );
    let e = &got.events[0];
    assert_eq!(
        (e.action, e.format, e.time, e.expires),
        (Action::Listed, Format::Fail2banStatus, None, None)
    );
    assert!(looks_like_status(SSHD.as_bytes()));
}

#[test]
fn status_variants() {
    // Journal jail, CRLF, an empty list, a CIDR, two outputs in one file.
    let text = "Status for the jail: sshd\r\n|- Filter\r\n|  |- Currently failed:\t0\r\n\
        |  `- Journal matches:\t_SYSTEMD_UNIT=sshd.service + _COMM=sshd\r\n`- Actions\r\n\
        |- Currently banned:\t1\r\n   `- Banned IP list:\t173.245.48.0/20\r\n\r\n\
        Status for the jail: recidive\n|- Filter\n`- Actions\n   `- Banned IP list:\t\n";
    let got = status(text);
    assert!(got.malformed.is_empty(), "{:?}", got.malformed);
    assert_eq!(got.triples(), [t("sshd", "173.245.48.0/20", 7)]);
}

#[test]
fn status_of_fail2ban_0_8() {
    let text = "Status for the jail: ssh-iptables\n|- filter\n|  |- File list:\t/var/log/secure\n\
        |  |- Currently failed:\t0\n|  `- Total failed:\t63\n`- action\n   |- Currently banned:\t2\n\
        |  `- IP list:\t104.16.0.1 116.10.191.233 \n   `- Total banned:\t19\n";
    let got = status(text);
    assert_eq!(
        got.triples(),
        [
            t("ssh-iptables", "104.16.0.1", 8),
            t("ssh-iptables", "116.10.191.233", 8)
        ]
    );
    // Copied from a terminal, the tabs became spaces.
    let got = status(&SSHD.replace('\t', "    "));
    assert_eq!(got.events.len(), 4);
}

#[test]
fn status_all_nests_jails() {
    let text = "Status
|- Number of jail:\t2
|- Jail list:\tnginx-http-auth, sshd
`- Status for the jails:
   |- Jail: nginx-http-auth
   |  |- Filter
   |  |  `- File list:\t/var/log/nginx/error.log
   |  `- Actions
   |     |- Currently banned:\t1
   |     `- Banned IP list:\t172.64.1.1
   `- Jail: sshd
      |- Filter
      |  `- Journal matches:\t_SYSTEMD_UNIT=sshd.service
      `- Actions
         `- Banned IP list:\t104.16.9.9 2606:4700::abcd
";
    assert!(looks_like_status(text.as_bytes()));
    let got = status(text);
    assert!(got.malformed.is_empty(), "{:?}", got.malformed);
    assert_eq!(
        got.triples(),
        [
            t("nginx-http-auth", "172.64.1.1", 10),
            t("sshd", "104.16.9.9", 15),
            t("sshd", "2606:4700::abcd", 15)
        ]
    );
}

#[test]
fn status_list_of_jails_is_silent() {
    let got = status(
        "Status\n|- Number of jail:\t3\n`- Jail list:\tnginx-botsearch, nginx-http-auth, sshd\n",
    );
    assert!(got.events.is_empty() && got.malformed.is_empty());
}

#[test]
fn status_forged_and_broken() {
    let text = b"   `- Banned IP list:\t104.16.0.1
Status for the jail: x `- Banned IP list:\t104.16.0.2
|- Filter
|  `- File list:\t/var/log/Banned IP list:\t104.16.0.3
|  `- Banned IP list:\t104.16.0.4
`- Actions
   |- Jail list:\t|- Banned IP list: 104.16.0.5
   |- Banned IP list:104.16.0.6
   `- Banned IP list:\t104.16.0.7 user@host ::ffff:104.16.0.8 \xff\xfe
Status for the jail: \n`- Actions
   `- Banned IP list:\t104.16.0.9
";
    let got = feed(&mut StatusParser::new(&ctx("out.txt")), text);
    let jail = "x `- Banned IP list:\t104.16.0.2";
    assert_eq!(
        got.triples(),
        [t(jail, "104.16.0.7", 9), t(jail, "104.16.0.8", 9)]
    );
    let lines: Vec<u64> = got.malformed.iter().map(|m| m.0).collect();
    // before any jail; outside Actions; two tokens that are no address; a nameless jail
    assert_eq!(lines, [1, 5, 9, 9, 12], "{:?}", got.malformed);
    assert!(!looks_like_status(text));
}

#[test]
fn status_invalid_utf8_and_garbage_never_panic() {
    let mut noise = Vec::new();
    for i in 0..4096u32 {
        noise.push((i.wrapping_mul(2654435761) >> 13) as u8);
        if i % 97 == 0 {
            noise.extend_from_slice(b"\n|- Banned IP list:\t");
        }
        if i % 331 == 0 {
            noise.extend_from_slice(b"\nStatus for the jail: \xff\n`- Actions\n");
        }
    }
    let _ = feed(&mut StatusParser::new(&ctx("out.txt")), &noise);
    let _ = looks_like_status(&noise);
    let got = feed(
        &mut StatusParser::new(&ctx("out.txt")),
        b"Status for the jail: \xc3\xa9t\xff\n`- Actions\n   `- Banned IP list:\t104.16.0.1\n",
    );
    assert_eq!(got.events[0].scope, "\u{e9}t\u{fffd}");
}

#[test]
fn status_line_longer_than_a_piece_is_read_whole() {
    let mut text = b"Status for the jail: sshd\n`- Actions\n   `- Banned IP list:\t".to_vec();
    let mut n = 0;
    while text.len() < 3 * MAX_LINE + 100 {
        text.extend_from_slice(b"2606:4700::abcd ");
        n += 1;
    }
    text.extend_from_slice(b"104.16.0.1 \r\n`- Filter\n");
    let got = feed(&mut StatusParser::new(&ctx("out.txt")), &text);
    assert!(got.malformed.is_empty() && got.cuts.is_empty());
    assert_eq!(got.events.len(), n + 1);
    assert!(got.events[..n]
        .iter()
        .all(|e| e.net.to_string() == "2606:4700::abcd/128" && e.location.line == 3));
    assert_eq!(got.events[n].net.to_string(), "104.16.0.1/32");
}

#[test]
fn banned_real_output() {
    let text = b"[{'sshd': ['104.16.9.9', '192.0.2.5', '2606:4700::abcd', '2001:db8::5']}, {'nginx-http-auth': ['172.64.1.1', '198.51.100.7', '162.158.0.0/24']}, {'nginx-botsearch': ['104.16.9.9', '198.51.100.7']}]\n";
    assert!(looks_like_banned(text));
    let got = banned(text);
    assert!(got.malformed.is_empty(), "{:?}", got.malformed);
    assert_eq!(got.events.len(), 9);
    assert_eq!(got.triples()[6], t("nginx-http-auth", "162.158.0.0/24", 1));
    let e = &got.events[0];
    assert_eq!(
        (e.action, e.format, e.time, e.expires),
        (Action::Listed, Format::Fail2banBanned, None, None)
    );
}

#[test]
fn banned_query_form_and_empty_lists() {
    for text in [
        &b"[['sshd', 'nginx-botsearch'], ['sshd'], []]\n"[..],
        b"[]",
        b"[[]]",
        b"[{}]",
        b"[{'sshd': []}, {'x': []},]",
    ] {
        assert!(looks_like_banned(text), "{}", String::from_utf8_lossy(text));
        let got = banned(text);
        assert!(
            got.events.is_empty() && got.malformed.is_empty(),
            "{:?}",
            got.malformed
        );
    }
}

#[test]
fn banned_quotes_escapes_and_lines() {
    // Double quotes (a name with a single quote), escapes, u'' of Python 2, several lines,
    // several outputs one after another, trailing commas.
    let text = b"[{\"it's\": ['104.16.0.1']},\n {u'caf\\xe9\\u00e9': [u'2606:4700::1',\n   '172.64.0.1',]},\n]\n[{'sshd': ['104.16.0.2']}]\n";
    assert!(looks_like_banned(text));
    let got = banned(text);
    assert!(got.malformed.is_empty(), "{:?}", got.malformed);
    assert_eq!(
        got.triples(),
        [
            t("it's", "104.16.0.1", 1),
            t("caf\u{e9}\u{e9}", "2606:4700::1", 2),
            t("caf\u{e9}\u{e9}", "172.64.0.1", 3),
            t("sshd", "104.16.0.2", 5)
        ]
    );
}

#[test]
fn banned_forged_names_give_no_extra_events() {
    // A jail name and an "address" holding text shaped like more entries.
    let text = b"[{'x\\': [\\'104.16.0.1\\']}, {\\'y': ['104.16.0.2', \"', '104.16.0.3\"]}]";
    assert!(looks_like_banned(text));
    let got = banned(text);
    assert_eq!(
        got.triples(),
        [t("x': ['104.16.0.1']}, {'y", "104.16.0.2", 1)]
    );
    assert_eq!(got.malformed.len(), 1, "{:?}", got.malformed);
    assert!(got.malformed[0].1.contains("104.16.0.3"));
}

#[test]
fn banned_garbage() {
    for text in [
        &b"[{'sshd': '104.16.0.1'}]"[..],
        b"[{'sshd': [104]}]",
        b"[{'sshd': ['104.16.0.1'] 'x'}]",
        b"[{'sshd': ['104.16.0.1\n']}]",
        b"[{'sshd': ['104.16.0.1', '\\ud800']}]",
        b"[{sshd: ['104.16.0.1']}]",
        b"hello [{'sshd': ['104.16.0.1']}]",
        b"[] trailing words",
        b"[{'a': ['104.16.0.1']}]]",
        b"\xff\xfe[",
        b"",
        b"[",
        b"[{'a",
    ] {
        assert!(
            !looks_like_banned(text),
            "{}",
            String::from_utf8_lossy(text)
        );
        let got = banned(text);
        assert!(got.events.len() <= 1);
        assert!(
            text.is_empty() || !got.malformed.is_empty(),
            "{}",
            String::from_utf8_lossy(text)
        );
    }
    // A truncated output keeps what was complete and says it is cut.
    let got = banned(b"[{'sshd': ['104.16.0.1', '104.16.0.2', '104.16.");
    assert_eq!(got.events.len(), 2);
    assert_eq!(got.malformed.len(), 1);
    // Deep nesting does not recurse.
    let deep = vec![b'['; 1 << 20];
    assert!(!looks_like_banned(&deep));
    assert!(banned(&deep).events.is_empty());
    // Noise never panics.
    let mut noise = Vec::new();
    let alphabet = b"[]{}',:\"\\ux0 \n104.6";
    let mut x: u32 = 1;
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push(alphabet[(x as usize) % alphabet.len()]);
    }
    for start in (0..noise.len()).step_by(997) {
        let _ = looks_like_banned(&noise[start..]);
    }
    let _ = banned(&noise);
}

#[test]
fn banned_line_longer_than_a_piece_is_read_whole() {
    let mut text = b"[{'sshd': [".to_vec();
    let mut n = 0;
    while text.len() < 3 * MAX_LINE + 100 {
        text.extend_from_slice(b"'2606:4700::abcd', ");
        n += 1;
    }
    text.extend_from_slice(b"'104.16.0.1']}, {'recidive': ['104.16.0.2']}]\n");
    let got = banned(&text);
    assert!(
        got.malformed.is_empty() && got.cuts.is_empty(),
        "{:?}",
        got.malformed
    );
    assert_eq!(got.events.len(), n + 2);
    assert!(got.events[..n]
        .iter()
        .all(|e| e.net.to_string() == "2606:4700::abcd/128"));
    assert_eq!(got.triples()[n + 1], t("recidive", "104.16.0.2", 1));
}
