//! Tests of the plan.

use super::*;
use crate::cloudflare::embedded;
use crate::{Format, RangesInfo};

fn report(findings: Vec<Finding>) -> Report {
    let mut r = Report::new(
        None,
        chrono::NaiveDateTime::default(),
        RangesInfo::new("cf", 1, 1),
    );
    r.findings = findings;
    r
}

fn finding(addr: &str, tool: Tool, lift: Option<&[&str]>) -> Finding {
    let cf = embedded();
    let net: ipnet::IpNet = addr.parse().unwrap();
    let range = cf.matching(&net).unwrap_or(net);
    let mut f = Finding::new(net, range, tool, Format::Fail2banLog, "sshd");
    f.active = true;
    f.lift = lift.map(|a| a.iter().map(|w| w.to_string()).collect());
    f
}

#[test]
fn lifts_only_whole_addresses_of_the_set_with_known_programs() {
    let cf = embedded();
    let r = report(vec![
        finding(
            "104.16.0.0/11",
            Tool::Ipset,
            Some(&["ipset", "del", "s", "104.16.0.0/11"]),
        ),
        finding(
            "173.245.49.12/32",
            Tool::Ipset,
            Some(&["ipset", "del", "s", "173.245.49.12"]),
        ),
        finding("172.64.1.1/32", Tool::Ipset, Some(&["sh", "-c", "x"])),
        finding(
            "172.64.1.2/32",
            Tool::Fail2ban,
            Some(&["fail2ban-client", "set", "sshd", "unbanip", "172.64.1.2"]),
        ),
        finding("172.64.1.3/32", Tool::Btwaf, None),
    ]);
    let p = plan(&r, &cf, &PlanOptions::default()).unwrap();
    let lifted: Vec<&str> = p
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Lift { address, .. } => Some(address.as_str()),
            _ => None,
        })
        .collect();
    // fail2ban first; the /11 is wider than 104.16.0.0/13 and 104.24.0.0/14.
    assert_eq!(lifted, ["172.64.1.2", "173.245.49.12"]);
    let left: Vec<Option<&str>> = p
        .left_for_person
        .iter()
        .map(|l| l.address.as_deref())
        .collect();
    assert!(left.contains(&Some("104.16.0.0/11")), "{p:?}");
    assert!(left.contains(&Some("172.64.1.1")), "{p:?}");
    assert!(left.contains(&Some("172.64.1.3")), "{p:?}");
    // No configuration directory: fail2ban left for a person with its snippet.
    assert!(p.left_for_person.iter().any(|l| l.tool == Tool::Fail2ban
        && l.command.as_deref() == Some("cf-ban-audit snippet fail2ban")));
}

/// The panels' bans are left for a person with the panel's own lift command (fix runs none
/// of their programs) and the snippet that prevents them: cPHulk's and Imunify360's white
/// lists, and for Hestia fail2ban's ignoreip, whose hestia action makes its bans.
#[test]
fn panel_bans_are_left_for_a_person_with_the_snippet_that_prevents_them() {
    let r = report(vec![
        finding(
            "172.64.1.4/32",
            Tool::Hestia,
            Some(&[
                "/usr/local/hestia/bin/v-delete-firewall-ban",
                "172.64.1.4",
                "WEB",
            ]),
        ),
        finding(
            "172.64.1.5/32",
            Tool::Cphulk,
            Some(&[
                "whmapi1",
                "delete_cphulk_record",
                "list_name=black",
                "ip=172.64.1.5",
            ]),
        ),
        finding(
            "172.64.1.6/32",
            Tool::Imunify360,
            Some(&[
                "imunify360-agent",
                "ip-list",
                "local",
                "delete",
                "--purpose",
                "drop",
                "172.64.1.6",
            ]),
        ),
    ]);
    assert_left_for_person(
        &r,
        &[
            (Tool::Cphulk, "cphulk"),
            (Tool::Imunify360, "imunify360"),
            (Tool::Hestia, "fail2ban"),
        ],
        &["172.64.1.4", "172.64.1.5", "172.64.1.6"],
    );
}

/// The plan of `r` lifts nothing itself and leaves every ban to a person: each address of
/// `addresses` with its lift, and for each tool the snippet (`cf-ban-audit snippet NAME`)
/// that prevents its bans.
fn assert_left_for_person(r: &Report, snippets: &[(Tool, &str)], addresses: &[&str]) {
    let p = plan(r, &embedded(), &PlanOptions::default()).unwrap();
    assert!(
        !p.steps.iter().any(|s| matches!(s, Step::Lift { .. })),
        "{p:?}"
    );
    for (tool, name) in snippets {
        let prevention = p
            .left_for_person
            .iter()
            .find(|l| l.tool == *tool && l.address.is_none())
            .and_then(|l| l.command.clone());
        assert_eq!(
            prevention,
            Some(format!("cf-ban-audit snippet {name}")),
            "{tool:?}"
        );
    }
    for address in addresses {
        assert!(
            p.left_for_person
                .iter()
                .any(|l| l.address.as_deref() == Some(*address)),
            "{address}: {p:?}"
        );
    }
}

/// DirectAdmin's and Plesk's bans are left for a person too, with their lift (the
/// `unblock_ip.sh` hook, `plesk bin ip_ban --unban`, which fix does not run; none for
/// DirectAdmin's own `ip_blacklist`) and the snippet of their allow list.
#[test]
fn directadmin_and_plesk_bans_are_left_with_their_allow_list_snippet() {
    let mut blacklisted = finding("172.64.1.9/32", Tool::Directadmin, None);
    blacklisted.lift_unavailable = Some("edit ip_blacklist".to_string());
    let r = report(vec![
        finding(
            "172.64.1.7/32",
            Tool::Directadmin,
            Some(&[
                "env",
                "ip=172.64.1.7",
                "/usr/local/directadmin/scripts/custom/unblock_ip.sh",
            ]),
        ),
        blacklisted,
        finding(
            "172.64.1.8/32",
            Tool::Plesk,
            Some(&[
                "plesk",
                "bin",
                "ip_ban",
                "--unban",
                "172.64.1.8,plesk-apache",
            ]),
        ),
    ]);
    assert_left_for_person(
        &r,
        &[(Tool::Directadmin, "directadmin"), (Tool::Plesk, "plesk")],
        &["172.64.1.7", "172.64.1.8", "172.64.1.9"],
    );
}

#[test]
fn merges_jail_local_then_reloads_and_skips_a_covered_one() {
    let cf = embedded();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("jail.local"),
        "[sshd]\nignoreip = 192.0.2.1\n",
    )
    .unwrap();
    let options = PlanOptions {
        fail2ban_config: Some(dir.path().to_path_buf()),
        fail2ban_config_named: true,
        fail2ban_socket: Some("/run/f.sock".into()),
        ..PlanOptions::default()
    };
    let p = plan(&report(Vec::new()), &cf, &options).unwrap();
    let Step::WriteJailLocal {
        content,
        jails_extended,
        exists,
        ..
    } = &p.steps[0]
    else {
        panic!("{p:?}");
    };
    assert!(*exists);
    assert_eq!(jails_extended, &["sshd"]);
    let Step::Reload { argv, .. } = &p.steps[1] else {
        panic!("{p:?}");
    };
    let dir_text = dir.path().display().to_string();
    assert_eq!(
        argv,
        &[
            "fail2ban-client",
            "-c",
            &dir_text,
            "-s",
            "/run/f.sock",
            "reload"
        ]
    );
    std::fs::write(dir.path().join("jail.local"), content).unwrap();
    let again = plan(&report(Vec::new()), &cf, &options).unwrap();
    assert!(again.is_empty(), "{again:?}");
    // A jail.d fragment with its own ignoreip: its ignoreip extended (no [DEFAULT] added),
    // before the one reload; a fragment without one is not touched.
    std::fs::create_dir(dir.path().join("jail.d")).unwrap();
    let fragment = dir.path().join("jail.d/web.local");
    std::fs::write(&fragment, "[nginx]\nignoreip = 10.0.0.1\n").unwrap();
    std::fs::write(
        dir.path().join("jail.d/other.local"),
        "[sshd]\nenabled = true\n",
    )
    .unwrap();
    let again = plan(&report(Vec::new()), &cf, &options).unwrap();
    assert_eq!(again.steps.len(), 2, "{again:?}");
    let Step::WriteJailLocal {
        path,
        content,
        jails_extended,
        ..
    } = &again.steps[0]
    else {
        panic!("{again:?}");
    };
    assert_eq!(path, &fragment);
    assert_eq!(jails_extended, &["nginx"]);
    assert!(!content.contains("[DEFAULT]"), "{content}");
    assert!(
        content.contains("10.0.0.1") && content.contains("173.245.48.0/20"),
        "{content}"
    );
    assert!(matches!(again.steps[1], Step::Reload { .. }));
    assert!(again.left_for_person.is_empty(), "{again:?}");
    std::fs::write(&fragment, content).unwrap();
    assert!(plan(&report(Vec::new()), &cf, &options).unwrap().is_empty());
}

#[test]
fn an_unconfirmed_ban_is_left_for_a_person_with_its_command_and_errors_are_kept() {
    let cf = embedded();
    let mut f = finding(
        "172.64.1.2/32",
        Tool::Fail2ban,
        Some(&["fail2ban-client", "set", "sshd", "unbanip", "172.64.1.2"]),
    );
    f.active = false;
    f.state = BanState::Unconfirmed;
    f.note = Some("banned 3 h ago, length unknown".to_string());
    let mut r = report(vec![f]);
    r.errors.push(crate::ErrorEntry::new(
        None,
        "/var/log/x: permission denied",
    ));
    let p = plan(&r, &cf, &PlanOptions::default()).unwrap();
    assert!(p.steps.is_empty(), "never lifted blindly: {p:?}");
    let left = p
        .left_for_person
        .iter()
        .find(|l| l.address.as_deref() == Some("172.64.1.2"))
        .expect("named for a person");
    assert!(left.why.contains("length unknown"), "{left:?}");
    assert_eq!(
        left.command.as_deref(),
        Some("fail2ban-client set sshd unbanip 172.64.1.2")
    );
    assert_eq!(p.scan_errors, ["/var/log/x: permission denied"]);
}

#[test]
fn merges_csf_ignore_when_its_directory_exists_and_skips_a_covered_one() {
    let cf = embedded();
    let dir = tempfile::tempdir().unwrap();
    let options = PlanOptions {
        csf_dir: Some(dir.path().join("absent")),
        ..PlanOptions::default()
    };
    let csf_ban = finding(
        "173.245.49.12/32",
        Tool::Csf,
        Some(&["csf", "-dr", "173.245.49.12"]),
    );
    // No csf directory: csf is left for a person with its snippet.
    let p = plan(&report(vec![csf_ban.clone()]), &cf, &options).unwrap();
    assert!(!p
        .steps
        .iter()
        .any(|s| matches!(s, Step::WriteIgnoreList { .. })));
    assert!(p
        .left_for_person
        .iter()
        .any(|l| l.tool == Tool::Csf && l.command.as_deref() == Some("cf-ban-audit snippet csf")));
    let options = PlanOptions {
        csf_dir: Some(dir.path().to_path_buf()),
        ..PlanOptions::default()
    };
    let ignore = dir.path().join("csf.ignore");
    std::fs::write(
        &ignore,
        "127.0.0.1
192.0.2.1 # office
",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("csf.allow"),
        "192.0.2.2
",
    )
    .unwrap();
    let p = plan(&report(vec![csf_ban.clone()]), &cf, &options).unwrap();
    let Some(Step::WriteIgnoreList {
        tool,
        path,
        exists,
        content,
        ..
    }) = p
        .steps
        .iter()
        .find(|s| matches!(s, Step::WriteIgnoreList { .. }))
    else {
        panic!("{p:?}");
    };
    assert_eq!((*tool, path, *exists), (Tool::Csf, &ignore, true));
    assert!(
        content.starts_with("127.0.0.1\n192.0.2.1 # office\n"),
        "{content}"
    );
    assert!(check::check_text(path, content, &cf).missing.is_empty());
    // Reloaded where csf is installed, else named for a person; csf is prevented.
    let csf_here = Path::new(CSF_PROGRAM).is_file();
    assert_eq!(
        p.steps.iter().any(|s| matches!(
            s,
            Step::Reload {
                tool: Tool::Csf,
                ..
            }
        )),
        csf_here
    );
    let csf_left: Vec<Option<&str>> = p
        .left_for_person
        .iter()
        .filter(|l| l.tool == Tool::Csf)
        .map(|l| l.command.as_deref())
        .collect();
    if csf_here {
        assert!(csf_left.is_empty(), "{p:?}");
    } else {
        assert_eq!(csf_left, [Some("csf -r")], "{p:?}");
    }
    // Once it covers the ranges, nothing more is planned for csf.
    std::fs::write(&ignore, content).unwrap();
    let again = plan(&report(Vec::new()), &cf, &options).unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert!(again.left_for_person.is_empty(), "{again:?}");
    // A missing csf.ignore in an existing directory is created.
    std::fs::remove_file(&ignore).unwrap();
    let p = plan(&report(Vec::new()), &cf, &options).unwrap();
    assert!(matches!(
        &p.steps[0],
        Step::WriteIgnoreList { exists: false, .. }
    ));
}

#[test]
fn merges_btwaf_whitelists_when_its_directory_exists_and_skips_covered_ones() {
    let cf = embedded();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rule")).unwrap();
    let v4 = dir.path().join(btwaf::IP_WHITE);
    std::fs::write(&v4, "[[3221225984,3221226239]]").unwrap();
    let options = PlanOptions {
        btwaf_dir: Some(dir.path().to_path_buf()),
        ..PlanOptions::default()
    };
    let ban = finding("172.64.1.3/32", Tool::Btwaf, None);
    let p = plan(&report(vec![ban.clone()]), &cf, &options).unwrap();
    let writes: Vec<(&PathBuf, bool)> = p
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::WriteIgnoreList {
                tool: Tool::Btwaf,
                path,
                exists,
                content,
                ..
            } => {
                let v6 = path.ends_with(btwaf::IP_WHITE_V6);
                assert!(btwaf::check_ip_white(content, &cf, v6).is_ok(), "{content}");
                Some((path, *exists))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        writes,
        [(&v4, true), (&dir.path().join(btwaf::IP_WHITE_V6), false)]
    );
    // nginx's reload is a note for a person, never a step; btwaf's ban is lifted by nobody
    // but is no longer named for a snippet.
    assert!(!p.steps.iter().any(|s| matches!(s, Step::Reload { .. })));
    let notes: Vec<Option<&str>> = p
        .left_for_person
        .iter()
        .filter(|l| l.tool == Tool::Btwaf && l.address.is_none())
        .map(|l| l.command.as_deref())
        .collect();
    assert_eq!(notes, [Some("nginx -s reload")], "{p:?}");
    // Once both cover the ranges, nothing more is planned.
    for step in &p.steps {
        if let Step::WriteIgnoreList { path, content, .. } = step {
            std::fs::write(path, content).unwrap();
        }
    }
    let again = plan(&report(Vec::new()), &cf, &options).unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert!(again.left_for_person.is_empty(), "{again:?}");
}
