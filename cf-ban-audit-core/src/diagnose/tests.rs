//! Tests of the diagnoses.

use super::*;
use crate::event::Action;
use crate::formats::Format;
use std::path::Path;
use std::sync::Arc;

#[test]
fn a_set_bans_through_the_lists_that_hold_it() {
    let mut e = Evidence::default();
    e.set_member("combined", "edge");
    e.set_member("friends", "partners");
    e.set_use("combined", Verdict::Drop);
    e.set_use("friends", Verdict::Accept);
    assert!(e.set_bans("edge", false));
    assert!(!e.set_bans("partners", true));
    assert!(!e.set_bans("unlisted", false));
    // A list used by no rule says nothing; the set's own name still may.
    e.set_member("idle", "f2b-sshd");
    assert!(e.set_bans("f2b-sshd", true));
}

fn finding(tool: Tool, format: Format) -> Finding {
    let mut f = Finding::new(
        "104.16.1.10/32".parse().unwrap(),
        "104.16.0.0/13".parse().unwrap(),
        tool,
        format,
        "100001",
    );
    f.state = crate::BanState::Denied;
    f.events = 1;
    f.locations = vec![Location {
        path: Arc::from(Path::new("/var/log/nginx/error.log")),
        line: 7,
    }];
    f
}

fn event(net: &str, peer: Option<&str>, tool: Tool) -> BanEvent {
    BanEvent {
        net: net.parse().unwrap(),
        tool,
        format: Format::ModsecAudit,
        scope: "1".into(),
        peer: peer.map(|p| p.parse().unwrap()),
        action: Action::Deny,
        time: None,
        expires: None,
        permanent: false,
        challenge: false,
        location: Location {
            path: Arc::from(Path::new("audit.log")),
            line: 3,
        },
        spec: None,
    }
}

#[test]
fn web_layer_findings_mean_real_ip_is_not_restored() {
    let cf = crate::cloudflare::embedded();
    let d = diagnose(
        &[finding(Tool::Modsecurity, Format::NginxError)],
        &Evidence::default(),
        &[],
        &[],
        &cf,
    );
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].kind, "real-ip-not-restored");
    assert_eq!(d[0].subject, "nginx");
    assert!(
        d[0].evidence[0].contains("104.16.1.10"),
        "{:?}",
        d[0].evidence
    );
    assert!(d[0].fix.contains("real_ip_header CF-Connecting-IP;"));
    assert!(
        !d[0].fix.contains("RemoteIPHeader"),
        "nginx only: {}",
        d[0].fix
    );
    // A fail2ban ban or a deny line in a configuration says nothing about real IPs.
    assert!(diagnose(
        &[finding(Tool::Fail2ban, Format::Fail2banLog)],
        &Evidence::default(),
        &[],
        &[],
        &cf
    )
    .is_empty());
    assert!(diagnose(
        &[finding(Tool::NginxDeny, Format::NginxConf)],
        &Evidence::default(),
        &[],
        &[],
        &cf
    )
    .is_empty());
}

#[test]
fn cloudflare_peer_with_visitor_client_means_restored_and_web_jail_bans_miss() {
    let cf = crate::cloudflare::embedded();
    let mut ev = Evidence::default();
    ev.observe(
        &event("198.51.100.7/32", Some("172.70.1.1"), Tool::Modsecurity),
        &cf,
    );
    ev.observe(
        &event("198.51.100.8/32", Some("192.0.2.1"), Tool::Modsecurity),
        &cf,
    );
    let d = diagnose(&[], &ev, &[], &[], &cf);
    assert_eq!(kinds(&d), ["real-ip-restored"]);
    assert!(d[0].evidence[0].contains("172.70.1.1"));
    // A jail that is not a web jail: its firewall bans are not the web server's business.
    let mut f2b = event("203.0.113.5/32", None, Tool::Fail2ban);
    f2b.action = Action::Ban;
    f2b.scope = "sshd".into();
    ev.observe(&f2b, &cf);
    assert_eq!(
        kinds(&diagnose(&[], &ev, &[], &[], &cf)),
        ["real-ip-restored"]
    );
    f2b.scope = "nginx-botsearch".into();
    ev.observe(&f2b, &cf);
    let d = diagnose(&[], &ev, &[], &[], &cf);
    assert_eq!(kinds(&d), ["real-ip-restored", "firewall-bans-ineffective"]);
    assert_eq!(d[1].subject, "fail2ban jail nginx-botsearch");
    assert!(
        d[1].evidence[0].contains("203.0.113.5"),
        "{:?}",
        d[1].evidence
    );
    assert!(
        d[1].fix.contains("action = nginx-block-map["),
        "{}",
        d[1].fix
    );
    assert!(
        d[1].fix.contains("cloudflare-token[cfzone="),
        "{}",
        d[1].fix
    );
    // A jail that bans in nginx already is left alone.
    let mut jail = JailFacts::named("nginx-botsearch");
    jail.actions = vec!["nginx-block-map".into()];
    jail.configured = true;
    assert_eq!(
        kinds(&diagnose(&[], &ev, &[jail], &[], &cf)),
        ["real-ip-restored"]
    );
}

fn kinds(d: &[Diagnosis]) -> Vec<&str> {
    d.iter().map(|d| d.kind.as_str()).collect()
}

fn access(path: &str, cloudflare: u64, visitors: u64, status: u16) -> AccessLogs {
    let cf = crate::cloudflare::embedded();
    let path: Arc<Path> = Arc::from(Path::new(path));
    let mut logs = AccessLogs::default();
    for i in 0..cloudflare {
        logs.record(&path, i + 1, "173.245.49.12".parse().unwrap(), status, &cf);
    }
    for i in 0..visitors {
        logs.record(
            &path,
            cloudflare + i + 1,
            "203.0.113.50".parse().unwrap(),
            200,
            &cf,
        );
    }
    logs
}

fn nginx_config(cf: &RangeSet) -> RealIpConfig {
    let mut c = RealIpConfig::new(
        crate::web_evidence::WebServer::Nginx,
        Location {
            path: Arc::from(Path::new("/etc/nginx/conf.d/cloudflare.conf")),
            line: 3,
        },
    );
    c.header = Some("CF-Connecting-IP".into());
    c.trusted = cf.nets().to_vec();
    c
}

#[test]
fn an_access_log_of_cloudflare_edges_is_prevention() {
    let cf = crate::cloudflare::embedded();
    let ev = Evidence {
        access: access("/var/log/nginx/access.log", 3, 1, 429),
        ..Evidence::default()
    };
    let d = diagnose(&[], &ev, &[], &[], &cf);
    assert_eq!(kinds(&d), ["real-ip-not-restored"]);
    assert_eq!(d[0].subject, "nginx");
    let text = d[0].evidence.join("\n");
    assert!(
        text.contains("3 of 4 clients are Cloudflare edges"),
        "{text}"
    );
    assert!(text.contains("3x 429"), "{text}");
    assert!(text.contains("Prevention"), "{text}");
    assert!(d[0].fix.contains("set_real_ip_from"));
}

#[test]
fn a_jail_on_a_web_log_that_banned_an_edge_means_not_restored() {
    let cf = crate::cloudflare::embedded();
    let mut f = finding(Tool::Fail2ban, Format::Fail2banLog);
    f.scope = "site-scan".into();
    f.locations[0].path = Arc::from(Path::new("/var/log/fail2ban.log"));
    let jail = JailFacts {
        name: "site-scan".into(),
        logpath: Some("/var/log/apache2/site_access.log".into()),
        actions: vec!["iptables-multiport".into()],
        configured: true,
    };
    let d = diagnose(&[f.clone()], &Evidence::default(), &[jail], &[], &cf);
    assert_eq!(kinds(&d), ["real-ip-not-restored"]);
    assert_eq!(d[0].subject, "apache");
    assert!(d[0].evidence[0].contains("fail2ban jail site-scan"));
    assert!(d[0].fix.contains("RemoteIPHeader CF-Connecting-IP"));
    assert!(!d[0].fix.contains("real_ip_header"));
    // Without configuration, the name decides.
    f.scope = "nginx-botsearch".into();
    assert_eq!(
        d_subjects(&diagnose(&[f], &Evidence::default(), &[], &[], &cf)),
        ["nginx"]
    );
}

fn d_subjects(d: &[Diagnosis]) -> Vec<&str> {
    d.iter().map(|d| d.subject.as_str()).collect()
}

#[test]
fn files_that_disagree_are_named_apart() {
    let cf = crate::cloudflare::embedded();
    let mut ev = Evidence {
        access: access("/var/log/nginx/access.log", 5, 1, 200),
        ..Evidence::default()
    };
    ev.realip.push(nginx_config(&cf));
    let d = diagnose(&[], &ev, &[], &[], &cf);
    assert_eq!(kinds(&d), ["real-ip-not-restored", "real-ip-restored"]);
    assert_eq!(
        d_subjects(&d),
        [
            "nginx: /var/log/nginx/access.log",
            "nginx: /etc/nginx/conf.d/cloudflare.conf"
        ]
    );
    assert!(d[0].fix.contains("make sure it is loaded"), "{}", d[0].fix);
    // Many files on one side are one diagnosis naming the first few.
    let mut many = ev.clone();
    for i in 0..4 {
        let more = access(&format!("/var/log/nginx/site{i}.access.log"), 3, 0, 403);
        many.access.merge(more);
    }
    let d = diagnose(&[], &many, &[], &[], &cf);
    assert_eq!(kinds(&d), ["real-ip-not-restored", "real-ip-restored"]);
    assert!(
        d[0].subject.ends_with("and 2 more files"),
        "{}",
        d[0].subject
    );
    assert_eq!(d[0].evidence.len(), 5, "{:?}", d[0].evidence);
    // Once the log shows visitors, the server is restored, with both files as evidence.
    let mut ev = Evidence {
        access: access("/var/log/nginx/access.log", 1, 5, 200),
        ..Evidence::default()
    };
    ev.realip.push(nginx_config(&cf));
    let d = diagnose(&[], &ev, &[], &[], &cf);
    assert_eq!(kinds(&d), ["real-ip-restored"]);
    assert_eq!(d[0].evidence.len(), 2, "{:?}", d[0].evidence);
}

#[test]
fn an_incomplete_or_open_configuration_is_said() {
    let cf = crate::cloudflare::embedded();
    let mut c = nginx_config(&cf);
    c.trusted.remove(0);
    let ev = Evidence {
        realip: vec![c],
        ..Evidence::default()
    };
    let d = diagnose(&[], &ev, &[], &[], &cf);
    assert_eq!(kinds(&d), ["real-ip-not-restored"]);
    assert!(d[0].evidence[0].contains(&cf.nets()[0].to_string()));
    let mut open = nginx_config(&cf);
    open.trusted = vec!["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()];
    open.header = Some("X-Forwarded-For".into());
    open.recursive = Some(true);
    let ev = Evidence {
        realip: vec![open],
        ..Evidence::default()
    };
    let d = diagnose(&[], &ev, &[], &[], &cf);
    assert_eq!(kinds(&d), ["real-ip-restored", "real-ip-forgeable"]);
}
