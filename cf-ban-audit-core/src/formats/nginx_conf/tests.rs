//! Unit tests of the nginx configuration reader, on literal inputs.

use super::*;
use crate::formats::test_support::{run_lines, Collect};
use crate::formats::{LineParser, Sink, Verdict};

/// The set uses a parser reported, sorted.
fn sorted_uses(c: &Collect) -> Vec<(String, Verdict)> {
    let mut uses = c.uses.clone();
    uses.sort();
    uses
}

fn brief(c: &Collect) -> Vec<(String, String, u64)> {
    let mut v: Vec<_> = c
        .events
        .iter()
        .map(|e| (e.net.to_string(), e.scope.clone(), e.location.line))
        .collect();
    v.sort();
    v
}

#[test]
fn nginx_denies_and_traps() {
    let text = r#"http {
    log_format main '$remote_addr deny 104.16.0.9; "$request"';
    deny 104.16.0.1;   # deny 104.16.0.2;
    # deny 104.16.0.3;
    geo $bad { 104.16.0.4 1; }
    map $x $y { deny 104.16.0.5; }
    server {
        listen 80;
        location /admin {
            allow 104.16.0.0/13;
            deny 104.16.0.6;
            deny 172.64.0.0/12;
            deny all;
        }
        location / {
            deny
              2606:4700::/32;
            add_header X-Why "deny 104.16.0.7;";
            if ($bad) { deny 104.16.0.8; }
            return 403 'deny 104.16.0.10;';
        }
        server_name example.com www.example.com;
    }
    server {
        server_name _;
        deny 173.245.48.1;
    }
}
"#;
    let mut c = run_lines(Format::NginxConf, "/etc/nginx/nginx.conf", text);
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    // The geo entry is a member of the set `nginx $bad` (see the geo tests), not a deny.
    let geo: Vec<_> = c
        .events
        .iter()
        .filter(|e| e.format == Format::NginxGeo)
        .collect();
    assert_eq!(geo.len(), 1);
    assert_eq!(
        (geo[0].net.to_string(), geo[0].scope.as_str()),
        ("104.16.0.4/32".into(), "nginx $bad")
    );
    c.events.retain(|e| e.format == Format::NginxConf);
    assert_eq!(
        brief(&c),
        vec![
            ("172.64.0.0/12".into(), "example.com".into(), 12),
            ("173.245.48.1/32".into(), "nginx.conf".into(), 26),
            ("2606:4700::/32".into(), "example.com".into(), 16),
        ]
    );
    // The shadowed deny in /admin, and the http-level deny that no server uses.
    assert_eq!(c.notes.len(), 2, "{:?}", c.notes);
}

#[test]
fn nginx_inheritance() {
    // Server rules reach the locations without rules of their own, and the server
    // itself when no `location /` takes every request.
    let text = "http {\n deny 104.16.0.1;\n server {\n  location / { deny 104.16.0.2; }\n  location /a { }\n }\n}\n";
    let c = run_lines(Format::NginxConf, "/x/a.conf", text);
    assert_eq!(brief(&c).len(), 2, "{:?}", brief(&c));
    let text = "http {\n deny 104.16.0.1;\n server {\n  deny 104.16.0.3;\n  location / { deny 104.16.0.2; }\n }\n server { include x.conf; }\n}\n";
    let c = run_lines(Format::NginxConf, "/x/a.conf", text);
    let nets: Vec<String> = brief(&c).into_iter().map(|b| b.0).collect();
    assert_eq!(nets, ["104.16.0.1/32", "104.16.0.2/32"]);
    let text = "server {\n deny 104.16.0.3;\n location /a { allow all; }\n}\n";
    let c = run_lines(Format::NginxConf, "/x/a.conf", text);
    assert_eq!(brief(&c).len(), 1);
}

#[test]
fn nginx_snippet_and_bad_lines() {
    let c = run_lines(
        Format::NginxConf,
        "/etc/nginx/conf.d/blockips.conf",
        "deny 104.16.0.1;\ndeny \"198.51.100.0/24\";\ndeny 104.16.0.300;\ndeny a b;\nallow all;\ndeny 104.16.0.2;\ndeny 104.16",
    );
    assert_eq!(
        brief(&c),
        vec![
            ("104.16.0.1/32".into(), "blockips.conf".into(), 1),
            ("198.51.100.0/24".into(), "blockips.conf".into(), 2),
        ]
    );
    assert_eq!(c.malformed.len(), 3, "{:?}", c.malformed);
}

#[test]
fn geo_and_map_blocklists_are_sets_an_if_decides() {
    let text = r#"http {
    geo $blocked_ip {
        default 0;
        104.16.0.0/13 1;
        2606:4700::/32 "1";
        104.24.0.0/14 0;          # an exception, not a member
        198.51.100.0/24 1;
        delete 198.51.100.0/24;
        include /etc/nginx/more-bad.conf;
    }
    geo $http_x_forwarded_for $bad_xff { 104.20.0.1 1; }
    geo $realip_remote_addr $edge_block {
        ranges;
        172.64.0.0-172.64.255.255 yes;
    }
    map $remote_addr $deny_map {
        default 0;
        162.158.1.1 1;
        ~^141\.101\. 1;
        "104.16.0.0/13" 1;
    }
    log_format x '104.16.9.9 1;';
    server {
        server_name example.com;
        if ($blocked_ip) { return 444; }
        if ( $edge_block != 0 ) { return 403; }
        if ($deny_map = "1") { return 403; }
        location / { if ($bad_xff) { return 301 https://example.com/; } }
    }
}
"#;
    let c = run_lines(Format::NginxConf, "/etc/nginx/nginx.conf", text);
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(
        brief(&c),
        vec![
            ("104.16.0.0/13".into(), "nginx $blocked_ip".into(), 4),
            ("162.158.1.1/32".into(), "nginx $deny_map".into(), 18),
            ("172.64.0.0/16".into(), "nginx $edge_block".into(), 14),
            ("2606:4700::/32".into(), "nginx $blocked_ip".into(), 5),
        ]
    );
    assert!(c.events.iter().all(|e| e.format == Format::NginxGeo));
    assert_eq!(
        sorted_uses(&c),
        [
            ("nginx $blocked_ip".to_string(), Verdict::Drop),
            ("nginx $deny_map".to_string(), Verdict::Drop),
            ("nginx $edge_block".to_string(), Verdict::Drop),
        ]
    );
    assert!(
        c.notes.iter().any(|n| n.contains("include")),
        "{:?}",
        c.notes
    );
}

#[test]
fn an_if_letting_the_listed_in_makes_an_allow_set() {
    let text = r#"geo $trusted { default 0; 104.16.0.0/13 1; }
if ($trusted = 0) { return 403; }
if ($other = "") { return 403; }
if ($x ~ foo) { return 403; }
if ($nothing) { return 200 "ok"; }
"#;
    let c = run_lines(Format::NginxConf, "/etc/nginx/conf.d/trusted.conf", text);
    assert_eq!(c.events.len(), 1);
    assert_eq!(
        sorted_uses(&c),
        [
            ("nginx $other".to_string(), Verdict::Accept),
            ("nginx $trusted".to_string(), Verdict::Accept),
        ]
    );
}

/// The real-IP configurations a reader reports, and its malformed lines.
#[derive(Default)]
struct RealIps {
    configs: Vec<crate::web_evidence::RealIpConfig>,
    malformed: Vec<u64>,
}

impl Sink for RealIps {
    fn event(&mut self, _event: crate::event::BanEvent) {}
    fn malformed(&mut self, line: u64, _message: String) {
        self.malformed.push(line);
    }
    fn realip_config(&mut self, config: crate::web_evidence::RealIpConfig) {
        self.configs.push(config);
    }
}

fn realip_of(name: &str, text: &str) -> RealIps {
    let ctx = crate::formats::test_support::ctx(name);
    let mut p = NginxConfParser::new(&ctx);
    let mut sink = RealIps::default();
    for (i, line) in text.split('\n').enumerate() {
        p.line(i as u64 + 1, line.as_bytes(), &mut sink);
    }
    p.finish(&mut sink);
    sink
}

#[test]
fn realip_directives_are_reported_once_per_file() {
    let text = "http {\n    # set_real_ip_from 10.0.0.0/8;\n    set_real_ip_from 173.245.48.0/20;\n    \
                set_real_ip_from 2400:cb00::/32;\n    set_real_ip_from unix:;\n    \
                set_real_ip_from edge.example;\n    log_format x 'set_real_ip_from 1.2.3.4;';\n    \
                real_ip_header CF-Connecting-IP;\n    real_ip_recursive on;\n    real_ip_recursive maybe;\n}\n";
    let got = realip_of("/etc/nginx/conf.d/cloudflare.conf", text);
    assert_eq!(got.configs.len(), 1);
    let c = &got.configs[0];
    assert_eq!(c.server, crate::web_evidence::WebServer::Nginx);
    assert_eq!(c.location.line, 8);
    assert_eq!(c.header.as_deref(), Some("CF-Connecting-IP"));
    assert_eq!(c.recursive, Some(true));
    let trusted: Vec<String> = c.trusted.iter().map(ToString::to_string).collect();
    assert_eq!(trusted, ["173.245.48.0/20", "2400:cb00::/32"]);
    assert_eq!(got.malformed, [10]);
    assert!(
        realip_of("/etc/nginx/nginx.conf", "http {\n deny 1.2.3.4;\n}\n")
            .configs
            .is_empty()
    );
}
