//! Tests of the lift commands.
use std::path::Path;

use crate::event::Location;
use crate::report::{Authority, BanState, Evidence};
use crate::{Finding, Format, Tool};

pub(super) fn finding(tool: Tool, scope: &str) -> Finding {
    Finding::new(
        "104.16.0.1/32".parse().unwrap(),
        "104.16.0.0/13".parse().unwrap(),
        tool,
        Format::Fail2banBanTimes,
        scope,
    )
}

/// Evidence of `format` read at `path:line`, with its `spec` and `text`.
pub(super) fn evidence(
    format: Format,
    authority: Authority,
    path: &str,
    line: u64,
    spec: Option<&str>,
    text: Option<&str>,
) -> Evidence {
    let mut e = Evidence::new(
        format,
        authority,
        Location::new(Path::new(path), line),
        "listed",
        BanState::Active,
    );
    e.spec = spec.map(String::from);
    e.text = text.map(String::from);
    e
}

/// A finding of `address` by `tool` in `scope` with one item of evidence.
pub(super) fn with(address: &str, tool: Tool, scope: &str, e: Evidence) -> Finding {
    let mut f = finding(tool, scope);
    f.address = crate::addr::parse_net(address.as_bytes()).unwrap();
    f.format = e.format;
    f.evidence = vec![e];
    f
}

#[test]
fn a_hestia_ban_is_lifted_by_its_chain_with_the_panel_s_program() {
    let e = |path: &str| evidence(Format::HestiaBanlist, Authority::Saved, path, 2, None, None);
    let f = with(
        "104.16.0.1",
        Tool::Hestia,
        "fail2ban-WEB",
        e("/usr/local/hestia/data/firewall/banlist.conf"),
    );
    assert_eq!(
        f.lift().unwrap(),
        [
            "/usr/local/hestia/bin/v-delete-firewall-ban",
            "104.16.0.1",
            "WEB"
        ]
    );
    let f = with(
        "172.64.0.0/13",
        Tool::Hestia,
        "fail2ban-RECIDIVE",
        e("/usr/local/vesta/data/firewall/banlist.conf"),
    );
    assert_eq!(
        f.lift().unwrap(),
        [
            "/usr/local/vesta/bin/v-delete-firewall-ban",
            "172.64.0.0/13",
            "RECIDIVE"
        ]
    );
    assert!(finding(Tool::Hestia, "WEB").lift().is_err());
}

#[test]
fn directadmin_s_hook_list_is_lifted_by_its_unblock_hook_and_ip_blacklist_by_hand() {
    let e = |path: &str| {
        evidence(
            Format::DirectadminBlocklist,
            Authority::Saved,
            path,
            3,
            None,
            None,
        )
    };
    let f = with(
        "104.16.0.1",
        Tool::Directadmin,
        "bfm-hook",
        e("/root/blocked_ips.txt"),
    );
    assert_eq!(
        f.lift().unwrap(),
        [
            "env",
            "ip=104.16.0.1",
            "/usr/local/directadmin/scripts/custom/unblock_ip.sh"
        ]
    );
    let f = with(
        "104.16.0.1",
        Tool::Directadmin,
        "ip_blacklist",
        e("/usr/local/directadmin/data/admin/ip_blacklist"),
    );
    let why = f.lift().unwrap_err();
    assert!(
        why.starts_with(
            "edit line 3 of /usr/local/directadmin/data/admin/ip_blacklist and remove the \
             line of 104.16.0.1"
        ) && why.contains("only the DirectAdmin login on port 2222"),
        "{why}"
    );
}

#[test]
fn a_plesk_ban_is_lifted_by_address_and_jail() {
    let e = evidence(
        Format::PleskBanned,
        Authority::Saved,
        "banned.txt",
        1,
        None,
        None,
    );
    let f = with("104.16.0.1", Tool::Plesk, "plesk-apache", e.clone());
    assert_eq!(
        f.lift().unwrap(),
        [
            "plesk",
            "bin",
            "ip_ban",
            "--unban",
            "104.16.0.1,plesk-apache"
        ]
    );
    let f = with("2a06:98c0::1", Tool::Plesk, "recidive", e.clone());
    assert_eq!(f.lift().unwrap()[4], "2a06:98c0::1,recidive");
    for jail in ["-x", "a,b", "a\nb"] {
        assert!(with("104.16.0.1", Tool::Plesk, jail, e.clone())
            .lift()
            .is_err());
    }
    assert!(with("104.16.0.0/24", Tool::Plesk, "ssh", e).lift().is_err());
}

#[test]
fn a_cphulk_record_is_deleted_only_when_it_is_this_ban() {
    let e = |spec: &str| {
        evidence(
            Format::CphulkRecords,
            Authority::Saved,
            "black.json",
            4,
            Some(spec),
            None,
        )
    };
    let f = with("104.16.0.1", Tool::Cphulk, "black", e("104.16.0.1"));
    assert_eq!(
        f.lift().unwrap(),
        [
            "whmapi1",
            "delete_cphulk_record",
            "list_name=black",
            "ip=104.16.0.1"
        ]
    );
    let f = with(
        "162.158.0.2/31",
        Tool::Cphulk,
        "black",
        e("162.158.0.1-162.158.0.6"),
    );
    let why = f.lift().unwrap_err();
    assert!(
        why.contains("ip=162.158.0.1-162.158.0.6` deletes it whole"),
        "{why}"
    );
    assert!(finding(Tool::Hestia, "fail2ban--x").lift().is_err());
    let db = evidence(
        Format::CphulkDb,
        Authority::Database,
        "cphulk.sqlite",
        0,
        Some("172.68.10.0/24"),
        None,
    );
    assert_eq!(
        with("172.68.10.0/24", Tool::Cphulk, "black", db)
            .lift()
            .unwrap()[3],
        "ip=172.68.10.0/24"
    );
    assert_eq!(
        finding(Tool::Cphulk, "cphulk").lift().unwrap()[1],
        "flush_cphulk_login_history_for_ips"
    );
    assert_eq!(
        finding(Tool::Cphulk, "excessive-brute").lift().unwrap(),
        [
            "whmapi1",
            "flush_cphulk_login_history_for_ips",
            "ip=104.16.0.1"
        ]
    );
}

#[test]
fn an_unnamed_jail_is_lifted_by_address() {
    let f = finding(
        Tool::Fail2ban,
        crate::formats::fail2ban_client::UNNAMED_JAIL,
    );
    assert_eq!(
        f.lift().unwrap(),
        ["fail2ban-client", "unban", "104.16.0.1"]
    );
}

#[test]
fn names_that_cannot_be_passed_give_no_command() {
    for scope in ["ssh\u{fffd}d", "ssh\nd", "x\u{1b}[31m", "", "-d"] {
        let err = finding(Tool::Fail2ban, scope).lift().unwrap_err();
        assert!(err.contains("cannot be passed safely"), "{scope:?}: {err}");
    }
    // A jail name with spaces or quotes is one argument, passed as it is.
    assert_eq!(
        finding(Tool::Fail2ban, "my 'jail'").lift().unwrap()[2],
        "my 'jail'"
    );
    assert!(finding(Tool::Ipset, "-exist").lift().is_err());
}

#[test]
fn the_server_the_scan_asked_is_the_one_told() {
    let mut f = finding(Tool::Fail2ban, "sshd");
    f.evidence = vec![evidence(
        Format::Fail2banBanned,
        Authority::Live,
        "live: fail2ban-client -s /run/fail2ban-web/f2b.sock banned",
        0,
        None,
        None,
    )];
    assert_eq!(
        f.lift().unwrap(),
        [
            "fail2ban-client",
            "-s",
            "/run/fail2ban-web/f2b.sock",
            "set",
            "sshd",
            "unbanip",
            "104.16.0.1"
        ]
    );
    // The default socket: no option.
    f.evidence[0].location = Location::new(Path::new("live: fail2ban-client banned"), 0);
    assert_eq!(f.lift().unwrap()[1], "set");
    // A saved file that looks like a label is not a live read.
    f.evidence[0].authority = Authority::Saved;
    f.evidence[0].location = Location::new(Path::new("live: fail2ban-client -s /x banned"), 0);
    assert_eq!(f.lift().unwrap()[1], "set");
    let mut c = finding(Tool::Crowdsec, "crowdsecurity/http-probing");
    c.evidence = vec![evidence(
        Format::CrowdsecJson,
        Authority::Live,
        "live: cscli -c /etc/crowdsec/other.yaml decisions list -a -o json",
        0,
        None,
        None,
    )];
    assert_eq!(
        c.lift().unwrap(),
        [
            "cscli",
            "-c",
            "/etc/crowdsec/other.yaml",
            "decisions",
            "delete",
            "--ip",
            "104.16.0.1",
            "--contained"
        ]
    );
    c.evidence[0].location = Location::new(
        Path::new("live: cscli -c /x\u{7}y decisions list -a -o json"),
        0,
    );
    assert!(c.lift().unwrap_err().contains("cannot be passed safely"));
}

#[test]
fn crowdsec_csf_and_ipset() {
    assert_eq!(
        finding(Tool::Crowdsec, "crowdsecurity/http-probing")
            .lift()
            .unwrap(),
        [
            "cscli",
            "decisions",
            "delete",
            "--ip",
            "104.16.0.1",
            "--contained"
        ]
    );
    let mut range = finding(Tool::Crowdsec, "manual");
    range.address = "104.16.0.0/24".parse().unwrap();
    assert_eq!(
        range.lift().unwrap()[3..],
        ["--range", "104.16.0.0/24", "--contained"]
    );
    assert_eq!(
        finding(Tool::Csf, "csf.deny").lift().unwrap(),
        ["csf", "-dr", "104.16.0.1"]
    );
    assert_eq!(finding(Tool::Csf, "csf.tempban").lift().unwrap()[1], "-trd");
    let mut lfd = finding(Tool::Csf, "LF_SSHD");
    assert_eq!(lfd.lift().unwrap()[1], "-dr");
    lfd.expires = Some("2026-11-24T13:00:00".parse().unwrap());
    assert_eq!(lfd.lift().unwrap()[1], "-trd");
    assert_eq!(
        finding(Tool::Ipset, "f2b-sshd").lift().unwrap(),
        ["ipset", "del", "f2b-sshd", "104.16.0.1"]
    );
    assert!(finding(Tool::Ipset, "bad\u{7}set").lift().is_err());
}

#[test]
fn every_tool_gives_a_command_or_a_reason() {
    for &tool in Tool::ALL {
        match finding(tool, "x").lift() {
            Ok(argv) => assert!(!argv.is_empty()),
            Err(why) => {
                assert!(
                    !why.is_empty() && !why.contains("no lift command"),
                    "{tool}: {why}"
                )
            }
        }
    }
}

#[test]
fn commands_shown_in_reasons_are_quoted() {
    assert_eq!(
        super::shown(&["nft", "delete", "element", "ip", "t", "s", "{ 1.2.3.4 }"]),
        "nft delete element ip t s '{ 1.2.3.4 }'"
    );
    assert_eq!(super::shown(&["a'b"]), r"'a'\''b'");
}

#[test]
fn a_route_is_deleted_by_its_type_address_and_table() {
    let e = |line| {
        evidence(
            Format::IpRoute,
            Authority::Saved,
            "ip-route.txt",
            line,
            None,
            None,
        )
    };
    let f = with("172.64.0.0/24", Tool::Route, "blackhole", e(1));
    assert_eq!(
        f.lift().unwrap(),
        ["ip", "route", "del", "blackhole", "172.64.0.0/24"]
    );
    let f = with("2606:4700::1", Tool::Route, "unreachable table 100", e(2));
    assert_eq!(
        f.lift().unwrap(),
        [
            "ip",
            "route",
            "del",
            "unreachable",
            "2606:4700::1",
            "table",
            "100"
        ]
    );
    assert!(with("104.16.0.1", Tool::Route, "local", e(3))
        .lift()
        .is_err());
    assert!(with("104.16.0.1", Tool::Route, "blackhole table -x", e(4))
        .lift()
        .is_err());
}
