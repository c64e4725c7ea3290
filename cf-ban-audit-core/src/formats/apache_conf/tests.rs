//! Unit tests of the Apache configuration reader, on literal inputs, and of the detection and
//! reading of both web server configurations (nginx's and Apache's) side by side.

use super::*;
use crate::formats::nginx_conf;
use crate::formats::test_support::{run_lines, Collect};

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
fn apache_requires_and_denies() {
    let text = r#"# Require not ip 104.16.0.1
<VirtualHost *:80>
    ServerName example.org
    <Directory /var/www/html>
        <RequireAll>
            Require all granted
            Require not ip 104 10.1 172.16. 2606:4700::/32 # 104.16.0.2
            Require not host bad.example
        </RequireAll>
        <RequireNone>
            Require ip 173.245.48.0/255.255.240.0
        </RequireNone>
        Require ip 104.16.0.3
    </Directory>
    <RequireAll>
        Require all granted
        Require not \
            ip 162.158.0.1
    </RequireAll>
    Order Allow,Deny
    Allow from all
    Deny from 162.158.0.2 env=bad .example.com
</VirtualHost>
<Location /admin>
    Order Deny,Allow
    Deny from 104.16.0.4
    Allow from 104.16.0.0/13
    Deny from 172.64.1
    Deny from all
</Location>
Require not ip 300.1.1.1
"#;
    let c = run_lines(
        Format::ApacheConf,
        "/etc/apache2/sites-enabled/site.conf",
        text,
    );
    assert_eq!(
        brief(&c),
        vec![
            ("10.1.0.0/16".into(), "<Directory /var/www/html>".into(), 7),
            ("104.0.0.0/8".into(), "<Directory /var/www/html>".into(), 7),
            ("162.158.0.1/32".into(), "example.org".into(), 17),
            ("162.158.0.2/32".into(), "example.org".into(), 22),
            (
                "172.16.0.0/16".into(),
                "<Directory /var/www/html>".into(),
                7
            ),
            ("172.64.1.0/24".into(), "<Location /admin>".into(), 28),
            (
                "173.245.48.0/20".into(),
                "<Directory /var/www/html>".into(),
                11
            ),
            (
                "2606:4700::/32".into(),
                "<Directory /var/www/html>".into(),
                7
            ),
        ]
    );
    assert_eq!(c.malformed.len(), 1, "{:?}", c.malformed);
    assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
}

#[test]
fn htaccess_scope_is_the_file() {
    let c = run_lines(
        Format::ApacheConf,
        "/var/www/.htaccess",
        "order allow,deny\nallow from all\ndeny from 104.16.0.1\n",
    );
    assert_eq!(
        brief(&c),
        vec![("104.16.0.1/32".into(), ".htaccess".into(), 3)]
    );
    // Default order Deny,Allow: Allow from all lets everyone in.
    let c = run_lines(
        Format::ApacheConf,
        "/var/www/.htaccess",
        "deny from 104.16.0.1\nallow from all\n",
    );
    assert!(c.events.is_empty());
}

#[test]
fn detection() {
    // As `formats::detect` asks them: nginx first, then Apache.
    let d = |p: &str, s: &str| {
        nginx_conf::detect(Path::new(p), s.as_bytes())
            .or_else(|| detect(Path::new(p), s.as_bytes()))
    };
    assert_eq!(
        d("/x/.htaccess", "RewriteEngine On\n"),
        Some(Format::ApacheConf)
    );
    assert_eq!(
        d("/tmp/a", "Order allow,deny\nDeny from 1.2.3.4\n"),
        Some(Format::ApacheConf)
    );
    assert_eq!(
        d("/tmp/a", "http {\n  include mime.types;\n}\n"),
        Some(Format::NginxConf)
    );
    assert_eq!(
        d(
            "/tmp/a",
            "# list\ndeny 1.2.3.4;\ndeny 10.0.0.0/8; # x\nallow all;\n"
        ),
        Some(Format::NginxConf)
    );
    assert_eq!(
        d("/etc/nginx/conf.d/a.conf", "proxy_set_header Host $host;\n"),
        Some(Format::NginxConf)
    );
    assert_eq!(
        d("/etc/apache2/conf-enabled/a.conf", "ServerTokens Prod\n"),
        Some(Format::ApacheConf)
    );
    for (p, s) in [
        ("/tmp/a", "allow all;\n"),
        ("/tmp/a", "deny 1.2.3.4;\nhello world\n"),
        ("/tmp/notes.txt", "We require ip addresses.\nserver {\n"),
        (
            "/var/log/nginx/access.log",
            "1.2.3.4 - - [..] \"GET /deny 104.16.0.1; HTTP/1.1\"\n",
        ),
        ("/etc/nginx/x.conf", "1.2.3.4 1;\n"),
        ("/tmp/x", "table inet filter {\n chain input {\n }\n}\n"),
    ] {
        assert_eq!(d(p, s), None, "{p}: {s}");
    }
}

#[test]
fn cut_and_garbled_input_never_panics() {
    let samples = [
        "http {\n server { server_name a; location / { allow 104.16.0.0/13; deny 104.16.0.1; deny \"x;y\"; } }\n # c\n deny ${a}b;\n}\n}\n",
        "<VirtualHost *:80>\nServerName a\n<Directory /x>\nRequire not ip 104 10.1/255.255.0.0 \\\n 2606::/16\n</Directory>\nOrder deny,allow\nDeny from 1.2.3.4\n</VirtualHost>\n</Files>\n",
    ];
    let mut seed = 0x9e37_79b9_u64;
    let alphabet = b"{};\"'#\\$ \n<>/ainpdeoy.0123456789";
    for sample in samples {
        for format in [Format::NginxConf, Format::ApacheConf] {
            for cut in 0..=sample.len() {
                run_lines(format, "/x/a.conf", &sample[..cut]);
            }
            for _ in 0..300 {
                let mut bytes = sample.as_bytes().to_vec();
                for _ in 0..4 {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let at = (seed >> 33) as usize % bytes.len();
                    bytes[at] = alphabet[(seed >> 17) as usize % alphabet.len()];
                }
                run_lines(format, "/x/a.conf", &String::from_utf8_lossy(&bytes));
            }
        }
    }
    for word in [
        "",
        "/",
        "1/",
        "/1",
        "1.2.3.4/0",
        "::/129",
        "1.2.3.4/255.0.255.0",
        "1.2.3.4.5",
        "....",
        "1..2",
        "999",
    ] {
        let _ = parse_apache_net(word.as_bytes());
    }
}

/// The real-IP configurations the reader reports, and its malformed lines.
#[derive(Default)]
struct RealIps {
    configs: Vec<crate::web_evidence::RealIpConfig>,
    malformed: Vec<u64>,
}

impl crate::formats::Sink for RealIps {
    fn event(&mut self, _event: crate::event::BanEvent) {}
    fn malformed(&mut self, line: u64, _message: String) {
        self.malformed.push(line);
    }
    fn realip_config(&mut self, config: crate::web_evidence::RealIpConfig) {
        self.configs.push(config);
    }
}

#[test]
fn remoteip_directives_are_reported_once_per_file() {
    use crate::formats::LineParser;
    let text = "<IfModule remoteip_module>\n# RemoteIPTrustedProxy 10.0.0.0/8\n\
                RemoteIPHeader CF-Connecting-IP\nremoteiptrustedproxy 173.245.48.0/20 \\\n  \
                103.21.244.0/22\nRemoteIPInternalProxy 10.1\nRemoteIPTrustedProxy edge.example\n\
                RemoteIPTrustedProxyList conf/cloudflare.lst\nRemoteIPTrustedProxy 1.2.3.4/99\n\
                </IfModule>\n";
    let ctx = crate::formats::test_support::ctx("/etc/apache2/conf-enabled/remoteip.conf");
    let mut p = ApacheConfParser::new(&ctx);
    let mut sink = RealIps::default();
    for (i, line) in text.split('\n').enumerate() {
        p.line(i as u64 + 1, line.as_bytes(), &mut sink);
    }
    p.finish(&mut sink);
    assert_eq!(sink.configs.len(), 1);
    let c = &sink.configs[0];
    assert_eq!(c.server, crate::web_evidence::WebServer::Apache);
    assert_eq!(c.location.line, 3);
    assert_eq!(c.header.as_deref(), Some("CF-Connecting-IP"));
    let trusted: Vec<String> = c.trusted.iter().map(ToString::to_string).collect();
    assert_eq!(
        trusted,
        ["173.245.48.0/20", "103.21.244.0/22", "10.1.0.0/16"]
    );
    assert_eq!(c.trusted_lists, ["conf/cloudflare.lst"]);
    assert_eq!(sink.malformed, [9]);
    assert_eq!(
        detect(
            std::path::Path::new("/srv/conf/remoteip.conf"),
            b"RemoteIPHeader CF-Connecting-IP\n"
        ),
        Some(Format::ApacheConf)
    );
}
