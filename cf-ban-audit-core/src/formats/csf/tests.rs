//! Unit tests of the CSF readers (`csf.deny`, `csf.tempban`, lfd lines), on literal inputs.

use super::deny::parse_localtime;
use super::lfd::unblock_nets;
use super::*;
use crate::event::{Action, Location};
use crate::formats::test_support::{ctx, Collect};
use crate::formats::LineParser;
use std::sync::Arc;

fn ban(line: &str) -> Option<String> {
    match parse_deny_line(line.as_bytes()) {
        DenyLine::Ban { net, .. } => Some(net.to_string()),
        _ => None,
    }
}

fn block(msg: &str) -> Option<(String, String, Option<u64>)> {
    parse_lfd_block(msg.as_bytes()).map(|b| {
        (
            String::from_utf8_lossy(b.addr).into_owned(),
            String::from_utf8_lossy(b.trigger).into_owned(),
            b.secs,
        )
    })
}

#[test]
fn deny_entries_as_csf_reads_them() {
    assert_eq!(ban("104.16.0.1").as_deref(), Some("104.16.0.1/32"));
    assert_eq!(
        ban("  104.16.0.0/13\t# do not delete").as_deref(),
        Some("104.16.0.0/13")
    );
    assert_eq!(
        ban("2606:4700::/32 # manual - Mon Nov  3 10:00:00 2025").as_deref(),
        Some("2606:4700::/32")
    );
    assert_eq!(
        ban("TCP|IN|D=443|S=104.16.0.0/12").as_deref(),
        Some("104.16.0.0/12")
    );
    assert_eq!(
        ban("tcp|in|d=22,443|s=0.0.0.0/0").as_deref(),
        Some("0.0.0.0/0")
    );
    assert_eq!(
        ban("udp|s=53|s=104.16.0.2").as_deref(),
        Some("104.16.0.2/32")
    );
    assert_eq!(ban("d=80|s=104.16.0.3").as_deref(), Some("104.16.0.3/32"));
    assert_eq!(
        ban("tcp:in:d=80:s=104.16.0.4").as_deref(),
        Some("104.16.0.4/32")
    );
    // no source banned
    assert_eq!(
        parse_deny_line(b"tcp|in|d=443|d=104.16.0.1"),
        DenyLine::NoSource
    );
    assert_eq!(
        parse_deny_line(b"tcp|out|d=443|s=104.16.0.1"),
        DenyLine::NoSource
    );
    assert_eq!(parse_deny_line(b"tcp|out|d=25|u=500"), DenyLine::NoSource);
    // csf skips these
    for skipped in [
        "#104.16.0.1",
        "  # 104.16.0.1",
        "104.16.0.9 # Include me",
        "",
    ] {
        assert_eq!(
            parse_deny_line(skipped.as_bytes()),
            DenyLine::Skip,
            "{skipped}"
        );
    }
    for unreadable in [
        "127.0.0.1",
        "::1",
        "example.com",
        "tcp|in|s=104.16.0.1",
        "tcp|in|d=22|s=104.16.0.999",
        "104.16.0.1#x",
    ] {
        assert!(
            matches!(
                parse_deny_line(unreadable.as_bytes()),
                DenyLine::Unreadable(_)
            ),
            "{unreadable}"
        );
    }
    assert_eq!(parse_deny_line(b" Include /etc/x"), DenyLine::Skip);
}

#[test]
fn deny_comment_dates() {
    let DenyLine::Ban { time, .. } = parse_deny_line(b"1.2.3.4 # x - Mon Nov  3 10:00:00 2025")
    else {
        panic!()
    };
    assert_eq!(time.unwrap().to_string(), "2025-11-03 10:00:00");
    let DenyLine::Ban { time, .. } = parse_deny_line(b"1.2.3.4 # x - yesterday") else {
        panic!()
    };
    assert_eq!(time, None);
    assert_eq!(parse_localtime(b"Xyz Nov  3 10:00:00 2025"), None);
    assert_eq!(parse_localtime(b"Mon Nov 31 10:00:00 2025"), None);
}

#[test]
fn includes_are_followed_once_with_their_own_lines() {
    let dir = tempfile::tempdir().unwrap();
    let deny = dir.path().join("csf.deny");
    std::fs::write(
        &deny,
        "104.16.0.1\nInclude extra.deny\nInclude missing.deny\nInclude /\nInclude csf.deny\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("extra.deny"),
        "# more\n104.16.0.2\nInclude csf.deny\n",
    )
    .unwrap();
    let mut parser = CsfDenyParser::new(&ctx(deny.to_str().unwrap()));
    let mut sink = Collect::default();
    let text = std::fs::read(&deny).unwrap();
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        parser.line(i as u64 + 1, line, &mut sink);
    }
    let got: Vec<(String, String, u64)> = sink
        .events
        .iter()
        .map(|e| {
            (
                e.net.to_string(),
                e.location
                    .path
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                e.location.line,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("104.16.0.1/32".into(), "csf.deny".into(), 1),
            ("104.16.0.2/32".into(), "extra.deny".into(), 2)
        ]
    );
    assert_eq!(sink.notes.len(), 4, "{:?}", sink.notes);
    assert!(sink.notes[1].contains("no such file"));
    assert!(sink.notes[2].contains("not a regular file"));
}

#[test]
fn tempban_entries_expire() {
    let mut parser = CsfTempbanParser::new(&ctx("/var/lib/csf/csf.tempban"));
    let mut sink = Collect::default();
    for (i, line) in [
        "1700000000|104.16.0.1|22|in|3600|lfd - (sshd) Failed SSH login",
        "1700000000|104.16.0.2||out|3600|outgoing only",
        "1700000000|2606:4700::1|||inout",
        "garbage",
        "",
    ]
    .iter()
    .enumerate()
    {
        parser.line(i as u64 + 1, line.as_bytes(), &mut sink);
    }
    assert_eq!(sink.events.len(), 1);
    assert_eq!(sink.malformed_lines(), [3, 4]);
    let e = &sink.events[0];
    assert_eq!(
        e.expires.unwrap() - e.time.unwrap(),
        TimeDelta::try_hours(1).unwrap()
    );
    assert_eq!(e.scope, TEMPBAN_SCOPE);
}

#[test]
fn every_lfd_block_form() {
    let ok = |m: &str, addr: &str, trig: &str, secs: Option<u64>| {
        assert_eq!(block(m), Some((addr.into(), trig.into(), secs)), "{m}");
    };
    ok("(sshd) Failed SSH login from 104.16.0.1 (US/United States/-): 5 in the last 3600 secs - *Blocked in csf* [LF_SSHD]", "104.16.0.1", "LF_SSHD", None);
    ok("(sshd) Failed SSH login from 104.16.0.1: 5 in the last 3600 secs - *Blocked in csf* for 3600 secs [LF_SSHD]", "104.16.0.1", "LF_SSHD", Some(3600));
    ok("(smtpauth) Failed SMTP AUTH login from 2606:4700::1 (-): 5 in the last 3600 secs (CF_ENABLE) - *Blocked in csf* for 86400 secs [LF_SMTPAUTH]", "2606:4700::1", "LF_SMTPAUTH", Some(86400));
    ok("(nginx_444) Nginx 444 104.16.0.2 (CA/Canada/Toronto (Downtown)/-): 5 in the last 3600 secs - *Blocked in csf* for 86400 secs [LF_CUSTOMTRIGGER]", "104.16.0.2", "LF_CUSTOMTRIGGER", Some(86400));
    ok("104.16.0.3 (CN/China/-), 5 distributed sshd attacks on account [root] in the last 3600 secs - *Blocked in csf* [LF_DISTATTACK]", "104.16.0.3", "LF_DISTATTACK", None);
    ok("104.16.0.3, 12 distributed FTP Logins on account [bob] in the last 300 secs - *Blocked in csf* [LF_DISTFTP]", "104.16.0.3", "LF_DISTFTP", None);
    ok("104.16.0.4 (-), more than 50 Apache 404 hits in the last 3600 secs - *Blocked in csf* for 3600 secs [LF_APACHE_404]", "104.16.0.4", "LF_APACHE_404", Some(3600));
    ok("pop3d - 120 logins in 3600 secs from 104.16.0.5 (US/United States/-) for bob exceeds 60/hour - *Blocked in csf* for 600 secs [LT_POP3D]", "104.16.0.5", "LT_POP3D", Some(600));
    ok("*Port Scan* detected from 104.16.0.6. 16 hits in the last 161 seconds - *Blocked in csf* for 3600 secs [PS_LIMIT]", "104.16.0.6", "PS_LIMIT", Some(3600));
    ok(
        "(CT) IP 104.16.0.7 (-/-/-) found to have 18 connections - *Blocked in csf* [CT_LIMIT]",
        "104.16.0.7",
        "CT_LIMIT",
        None,
    );
    ok("(CT) subnet 104.16.1.0/24 (-) found to have 300 connections - *Blocked in csf* for 1800 secs [CT_SUBNET_LIMIT]", "104.16.1.0/24", "CT_SUBNET_LIMIT", Some(1800));
    ok("(PERMBLOCK) 104.16.0.8 (US/United States/-) has had more than 3 temp blocks in the last 86400 secs - *Blocked in csf* [LF_SSHD]", "104.16.0.8", "LF_SSHD", None);
    ok("(NETBLOCK) 104.16.2.0/24 has had more than 3 blocks in the last 86400 secs - *Blocked in csf* [LF_SSHD]", "104.16.2.0/24", "LF_SSHD", None);
    ok(
        "104.16.0.9 (-) RELAY limit exceeded - *Blocked in csf* for 3600 secs [RT_RELAY_LIMIT]",
        "104.16.0.9",
        "RT_RELAY_LIMIT",
        Some(3600),
    );
    ok("(sshd) Failed SSH login from 104.16.0.10 (US/United States/-): 5 in the last 3600 secs - *Blocked in csf* port=22 [LF_SSHD]", "104.16.0.10", "LF_SSHD", None);
}

#[test]
fn forged_blocks_are_not_read() {
    // the reverse DNS name is the attacker's
    let rdns = "(sshd) Failed SSH login from 203.0.113.7 (US/United States/104.16.0.1.-*Blocked-in-csf*-[LF_SSHD]): 5 in the last 300 secs - *Blocked in csf* [LF_SSHD]";
    assert_eq!(block(rdns).unwrap().0, "203.0.113.7");
    // a custom trigger that quotes attacker text before the address
    let quoted = "(wp) Bad agent 104.16.0.1 (US/x/y): 9 in the last 9 secs - *Blocked in csf* [X] from 203.0.113.8 (US/United States/-): 5 in the last 300 secs - *Blocked in csf* [LF_CUSTOMTRIGGER]";
    assert_eq!(block(quoted).unwrap().0, "203.0.113.8");
    for forged in [
        // the marker must end the line
        "(sshd) Failed SSH login from 203.0.113.7 (-): 5 in the last 300 secs - *Blocked in csf* [LF_SSHD] by 104.16.0.1",
        "*SSH login* from 203.0.113.9 into the root account using password authentication - *Blocked in csf* [LF_SSHD]",
        "(sshd) Failed SSH login from host-104.16.0.1 (-): 5 in the last 300 secs - *Blocked in csf* [LF_SSHD]",
        "104.16.0.1 - *Blocked in csf* [LF SSHD]",
        "- *Blocked in csf* [LF_SSHD]",
    ] {
        let got = block(forged);
        assert!(got.as_ref().is_none_or(|g| g.0 != "104.16.0.1"), "{forged}: {got:?}");
    }
}

#[test]
fn unblocks() {
    assert_eq!(
        unblock_nets(b"104.16.0.1:22"),
        [parse_net(b"104.16.0.1").unwrap()]
    );
    assert_eq!(unblock_nets(b"2606:4700::1:22").len(), 2);
    assert_eq!(
        unblock_nets(b"2606:4700::1"),
        [parse_net(b"2606:4700::1").unwrap()]
    );
    let mut sink = Collect::default();
    let location = Location {
        path: Arc::from(Path::new("lfd.log")),
        line: 3,
    };
    lfd_message(
        b"Incoming IP 104.16.0.1 temporary block removed",
        None,
        location,
        Format::Syslog,
        &mut sink,
    );
    assert_eq!(sink.events[0].action, Action::Unban);
}

#[test]
fn detection() {
    let p = Path::new("/tmp/list");
    assert_eq!(
        detect(p, b"tcp|in|d=22|s=104.16.0.1 # do not delete\n"),
        Some(Format::CsfDeny)
    );
    assert_eq!(detect(p, b"104.16.0.1 # some comment\n"), None);
    assert_eq!(
        detect(Path::new("/etc/csf/csf.allow"), b"104.16.0.1 # lfd: x\n"),
        None
    );
    assert_eq!(detect(p, b"Nov 24 03:06:43 vm lfd[1]: (sshd) Failed SSH login from 104.16.0.1 (-): 5 in the last 300 secs - *Blocked in csf* [LF_SSHD]\n"), None);
}
