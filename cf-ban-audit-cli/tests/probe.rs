//! `cf-ban-audit probe` against real servers on loopback that the tests set up: a closed port
//! (521), a listener that never answers (524), a DROP rule in a network namespace of the
//! test's own (522, and 523 for an address with no route), and a real nginx in another
//! namespace with certificates made by `openssl`: a healthy site over http and https (200), one
//! that closes without answering (`return 444`: 520), a certificate for another name, a
//! self-signed one and an expired one (526 in Full (strict), the page in Full), plain HTTP on
//! the TLS port and a server that offers only TLS 1.0 (525). The tests that need root, `ip`,
//! `nft`, `nginx` or `openssl` skip with a SKIP notice, and fail under `CI`.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use common::*;

/// The probe's outcome as `cloudflare 521` or `http 200`.
fn outcome(o: &Output) -> String {
    let v = json(o);
    let outcome = v["outcome"].as_object().cloned().unwrap_or_default();
    let (kind, code) = outcome.iter().next().unwrap_or_else(|| panic!("{v}"));
    format!("{kind} {code}")
}

#[test]
fn closed_port_is_521_and_silence_is_524() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let o = run(&[
        "probe",
        "site.test",
        "--origin",
        "127.0.0.1",
        "--port",
        &port,
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("connection refused (RST)"), "{text}");
    assert!(
        text.contains("Verdict: FAIL 521 Web server is down (Cloudflare's error page)"),
        "{text}"
    );
    assert!(text.contains("cf-ban-audit scan --active"), "{text}");

    // A listener that takes the connection and the request and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let holder = std::thread::spawn(move || {
        if let Ok((mut s, _)) = silent.accept() {
            let mut b = [0u8; 1024];
            let _ = s.read(&mut b);
            std::thread::sleep(Duration::from_secs(3));
        }
    });
    let o = run(&[
        "probe",
        "site.test",
        "--origin",
        "127.0.0.1",
        "--port",
        &port,
        "--read-timeout",
        "500ms",
        "--format",
        "json",
    ]);
    assert_eq!((code(&o), outcome(&o).as_str()), (1, "cloudflare 524"));
    let v = json(&o);
    assert_eq!(v["name"], "A timeout occurred");
    assert_eq!(v["timeouts"]["read"], 500);
    assert!(
        v["http"]["error"].as_str().unwrap().contains("0.5 s"),
        "{v}"
    );
    holder.join().unwrap();
}

#[test]
fn what_cannot_run_exits_2() {
    let env = TestEnv::new();
    let ca = env.write("ca.pem", "not a certificate\n");
    let o = run(&[
        "probe",
        "site.test",
        "--origin",
        "127.0.0.1",
        "--ca",
        ca.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no PEM certificate"), "{}", stderr(&o));
    // 192.0.2.77 is no address of this host.
    let o = run(&[
        "probe",
        "site.test",
        "--origin",
        "127.0.0.1",
        "--from-edge",
        "192.0.2.77",
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("cannot bind the source address 192.0.2.77"),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "probe",
        "site.test",
        "--origin",
        "127.0.0.1",
        "--connect-timeout",
        "0",
    ]);
    assert_eq!(code(&o), 2);
}

/// The probe inside network namespace `ns`, with short timeouts, as JSON.
fn probe_in(ns: &Netns, args: &[&str]) -> Output {
    let mut all = vec![
        "probe",
        "--format",
        "json",
        "--connect-timeout",
        "1",
        "--read-timeout",
        "2",
    ];
    all.extend_from_slice(args);
    run_in(&ns.0, &all, &[])
}

#[test]
fn drop_rule_is_522_and_no_route_is_523() {
    let Some(ns) = Netns::new("probe-drop", &["nft"]) else {
        return;
    };
    ns.exec(&["ip", "link", "set", "lo", "up"]);
    ns.exec(&["ip", "addr", "add", &format!("{ORIGIN_V4}/32"), "dev", "lo"]);
    ns.exec(&["ip", "addr", "add", &format!("{EDGE_V4}/32"), "dev", "lo"]);
    // A ban of the edge's address alone, as a DROP banaction writes it; the namespace's own
    // firewall, never the host's.
    let rules = format!(
        "table inet probe {{\n  chain input {{\n    type filter hook input priority 0;\n    \
         ip saddr {EDGE_V4} tcp dport 8080 drop\n  }}\n}}\n"
    );
    let env = TestEnv::new();
    let file = env.write("rules.nft", rules);
    ns.exec(&["nft", "-f", file.to_str().unwrap()]);

    let args = ["site.test", "--origin", ORIGIN_V4, "--port", "8080"];
    let o = probe_in(&ns, &[&args[..], &["--from-edge", EDGE_V4]].concat());
    assert_eq!(
        (code(&o), outcome(&o).as_str()),
        (1, "cloudflare 522"),
        "{}",
        stderr(&o)
    );
    let v = json(&o);
    assert_eq!(v["from"], EDGE_V4);
    assert_eq!(v["connect"]["result"], "timeout");
    assert!(v["fix"].as_str().unwrap().contains("DROP"), "{v}");
    assert!(
        v["fix"]
            .as_str()
            .unwrap()
            .contains("cloud security group drops what it does not allow"),
        "{v}"
    );
    // From the origin's own address the rule does not match: nothing listens, so refused.
    let o = probe_in(&ns, &args);
    assert_eq!(outcome(&o), "cloudflare 521");
    // No route at all: 523.
    let o = probe_in(
        &ns,
        &["site.test", "--origin", "203.0.113.9", "--port", "80"],
    );
    assert_eq!(
        (code(&o), outcome(&o).as_str()),
        (1, "cloudflare 523"),
        "{}",
        stderr(&o)
    );
    assert_eq!(json(&o)["connect"]["result"], "unreachable");
}

/// Writes a test CA and the site's certificates into `dir` with `openssl`: `site` (valid for
/// site.test, from the CA), `wrong` (other.test, from the CA), `self` (site.test, self-signed)
/// and `expired` (site.test, from the CA, valid in January 2020 only).
fn make_certificates(dir: &Path) {
    let script = r#"set -e
cd "$1"
key() { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
        printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$2" > "$1.ext"; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=cf-ban-audit probe test CA" 2>/dev/null
key site site.test
openssl x509 -req -in site.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile site.ext -out site.pem 2>/dev/null
key wrong other.test
openssl x509 -req -in wrong.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile wrong.ext -out wrong.pem 2>/dev/null
key self site.test
openssl x509 -req -in self.csr -signkey self.key -days 2 -extfile self.ext -out self.pem 2>/dev/null
key expired site.test
mkdir -p newcerts; : > index.txt; echo 1000 > serial
printf '[ca]\ndefault_ca=test\n[test]\ndatabase=index.txt\nnew_certs_dir=newcerts\nserial=serial\ndefault_md=sha256\npolicy=any\nunique_subject=no\n[any]\ncommonName=supplied\n' > ca.cnf
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem -startdate 20200101000000Z -enddate 20200102000000Z -extfile expired.ext -notext 2>/dev/null
"#;
    let out = Command::new("sh")
        .args(["-c", script, "sh"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One nginx, one server per behaviour.
const SERVERS: &str = r#"
  server { listen 127.0.0.1:8080; return 200 "ok\n"; }
  server { listen 127.0.0.1:8081; return 444; }
  server { listen 127.0.0.1:8443 ssl; ssl_certificate PREFIX/site.pem; ssl_certificate_key PREFIX/site.key; return 200 "tls ok\n"; }
  server { listen 127.0.0.1:8444 ssl; ssl_certificate PREFIX/wrong.pem; ssl_certificate_key PREFIX/wrong.key; return 200 "wrong\n"; }
  server { listen 127.0.0.1:8445 ssl; ssl_certificate PREFIX/self.pem; ssl_certificate_key PREFIX/self.key; return 200 "self\n"; }
  server { listen 127.0.0.1:8446 ssl; ssl_certificate PREFIX/expired.pem; ssl_certificate_key PREFIX/expired.key; return 200 "expired\n"; }
  server { listen 127.0.0.1:8447; return 200 "plain\n"; }
  server { listen 127.0.0.1:8448 ssl; ssl_protocols TLSv1; ssl_ciphers DEFAULT:@SECLEVEL=0; ssl_certificate PREFIX/site.pem; ssl_certificate_key PREFIX/site.key; return 200 "old\n"; }
"#;

#[test]
fn nginx_outcomes() {
    let Some(ns) = Netns::new("probe-nginx", &["nginx", "openssl"]) else {
        return;
    };
    ns.exec(&["ip", "link", "set", "lo", "up"]);
    let dir = tempfile::Builder::new()
        .prefix("cfba-probe-")
        .tempdir()
        .unwrap();
    make_certificates(dir.path());
    let _nginx = Nginx::start(&ns, dir.path(), SERVERS);
    let ca = dir.path().join("ca.pem").display().to_string();
    let with_ca = ["--ca", ca.as_str()];
    let site = |port: &str, extra: &[&str]| -> Output {
        let args = [
            &["site.test", "--origin", "127.0.0.1", "--port", port][..],
            extra,
        ]
        .concat();
        probe_in(&ns, &args)
    };
    let https = ["--scheme", "https"];
    let full = ["--mode", "full"];
    let cases: Vec<(&str, Vec<&str>, &str, i32)> = vec![
        ("8080", vec![], "http 200", 0),
        ("8081", vec![], "cloudflare 520", 1),
        ("8443", [&https[..], &with_ca].concat(), "http 200", 0),
        // Without the test CA the site's certificate is from an unknown issuer.
        ("8443", https.to_vec(), "cloudflare 526", 1),
        ("8444", [&https[..], &with_ca].concat(), "cloudflare 526", 1),
        (
            "8444",
            [&https[..], &with_ca, &full].concat(),
            "http 200",
            0,
        ),
        ("8445", [&https[..], &with_ca].concat(), "cloudflare 526", 1),
        ("8445", [&https[..], &full].concat(), "http 200", 0),
        ("8446", [&https[..], &with_ca].concat(), "cloudflare 526", 1),
        (
            "8446",
            [&https[..], &with_ca, &full].concat(),
            "http 200",
            0,
        ),
        ("8447", https.to_vec(), "cloudflare 525", 1),
        ("8448", [&https[..], &with_ca].concat(), "cloudflare 525", 1),
    ];
    let mut bad = Vec::new();
    let mut reports = Vec::new();
    for (port, extra, want, want_code) in &cases {
        let o = site(port, extra);
        let got = if o.stdout.is_empty() {
            format!("no report: {}", stderr(&o))
        } else {
            outcome(&o)
        };
        if got != *want || code(&o) != *want_code {
            bad.push(format!(
                "port {port} {extra:?}: want {want} (exit {want_code}), got {got} (exit {})",
                code(&o)
            ));
        }
        if !o.stdout.is_empty() {
            reports.push((port.to_string(), extra.clone(), json(&o)));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));

    let report = |port: &str, extra: &[&str]| -> Value {
        reports
            .iter()
            .find(|(p, e, _)| p == port && e.as_slice() == extra)
            .map(|(_, _, v)| v.clone())
            .unwrap()
    };
    let problem = |v: &Value| {
        v["tls"]["certificate_problem"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let ok = report("8443", &[&https[..], &with_ca].concat());
    assert_eq!(ok["tls"]["certificate"]["names"][0], "site.test", "{ok}");
    assert_eq!(
        ok["tls"]["certificate"]["issuer"],
        "CN=cf-ban-audit probe test CA"
    );
    assert!(
        ok["tls"]["version"].as_str().unwrap().starts_with("TLSv1."),
        "{ok}"
    );
    assert_eq!(ok["http"]["status_line"], "HTTP/1.1 200 OK");
    assert!(problem(&report("8443", &https)).contains("not trusted"));
    let wrong = problem(&report("8444", &[&https[..], &with_ca].concat()));
    assert_eq!(wrong, "not valid for site.test (it names other.test)");
    assert!(problem(&report("8445", &[&https[..], &with_ca].concat())).contains("not trusted"));
    assert_eq!(
        problem(&report("8446", &[&https[..], &with_ca].concat())),
        "expired"
    );
    let expired_full = report("8446", &[&https[..], &with_ca, &full].concat());
    assert_eq!(
        expired_full["strict_would_give"],
        "Full (strict) would show 526 Invalid SSL certificate: the certificate is expired"
    );
    assert_eq!(
        expired_full["tls"]["certificate"]["not_after"],
        "2020-01-02T00:00:00Z"
    );
    assert!(report("8447", &https)["tls"]["error"]
        .as_str()
        .unwrap()
        .contains("not TLS"));
    assert!(report("8081", &[])["http"]["error"]
        .as_str()
        .unwrap()
        .contains("without answering"));

    // The text verdict of a Full-mode answer says what strict would give.
    let o = run_in(
        &ns.0,
        &[
            "probe",
            "site.test",
            "--origin",
            "127.0.0.1",
            "--port",
            "8446",
            "--scheme",
            "https",
            "--mode",
            "full",
            "--ca",
            &ca,
        ],
        &[],
    );
    let text = stdout(&o);
    assert!(
        text.contains("Verdict: OK   200 OK from the origin"),
        "{text}"
    );
    assert!(text.contains("certificate problem: expired"), "{text}");
    assert!(
        text.contains("note:    Full (strict) would show 526"),
        "{text}"
    );
}
