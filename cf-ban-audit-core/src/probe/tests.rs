//! The probe against small servers on loopback, one thread each: what it reports for each
//! behaviour of an origin that needs no TLS certificate (nginx and real certificates are in
//! the command line's `tests/probe.rs`).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::thread;

use super::*;

/// A listener on 127.0.0.1 whose connections `serve` handles (the first one only).
fn server(serve: impl FnOnce(std::net::TcpStream) + Send + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            serve(stream);
        }
    });
    port
}

/// Reads the request (up to its blank line), then writes `answer`.
fn answering(answer: &'static [u8]) -> u16 {
    server(move |mut s| {
        let mut got = Vec::new();
        let mut b = [0u8; 1024];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut b) {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&b[..n]),
            }
        }
        let _ = s.write_all(answer);
    })
}

fn probe(port: u16) -> OriginProbe {
    OriginProbe::new("site.test", IpAddr::from(Ipv4Addr::LOCALHOST))
        .port(port)
        .timeouts(Timeouts {
            connect: Duration::from_secs(2),
            read: Duration::from_millis(500),
            write: Duration::from_secs(2),
        })
}

#[test]
fn healthy_http() {
    let port = answering(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let r = probe(port).run().unwrap();
    assert_eq!(r.outcome, Outcome::Http(200));
    assert!(r.healthy);
    assert_eq!(r.scheme, Scheme::Http);
    assert_eq!(r.sni, None);
    assert_eq!(r.name, "OK");
    let http = r.http.unwrap();
    assert_eq!(http.status_line.as_deref(), Some("HTTP/1.1 200 OK"));
    assert_eq!(http.request, "GET / HTTP/1.1, Host: site.test");
    assert_eq!(r.connect.result, "connected");
}

#[test]
fn origin_errors_pass_through() {
    let port = answering(b"HTTP/1.1 503 Service Unavailable\r\n\r\n");
    let r = probe(port).run().unwrap();
    assert_eq!((r.outcome, r.healthy), (Outcome::Http(503), false));
    assert!(r.fix.contains("error logs"), "{}", r.fix);
}

#[test]
fn refused_is_521() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = probe(port).run().unwrap();
    assert_eq!(r.outcome, Outcome::Cloudflare(521));
    assert_eq!(r.name, "Web server is down");
    assert!(r.fix.contains("cf-ban-audit scan --active"), "{}", r.fix);
    assert!(r.fix.contains("cf-ban-audit check sg.json"), "{}", r.fix);
    assert_eq!(r.connect.result, "refused");
    assert!(r.http.is_none() && r.tls.is_none());
}

#[test]
fn closed_without_answer_is_520() {
    let port = server(drop);
    let r = probe(port).run().unwrap();
    assert_eq!(r.outcome, Outcome::Cloudflare(520));
    let http = r.http.unwrap();
    assert!(
        http.error.as_deref().unwrap().contains("closed")
            || http.error.as_deref().unwrap().contains("broke"),
        "{http:?}"
    );
}

#[test]
fn not_http_is_520() {
    let port = answering(b"SSH-2.0-OpenSSH_9.2\r\n");
    let r = probe(port).run().unwrap();
    assert_eq!(r.outcome, Outcome::Cloudflare(520));
    assert_eq!(
        r.http.unwrap().status_line.as_deref(),
        Some("SSH-2.0-OpenSSH_9.2")
    );
}

#[test]
fn silence_is_524() {
    let port = server(|s| {
        thread::sleep(Duration::from_secs(2));
        drop(s);
    });
    let r = probe(port).run().unwrap();
    assert_eq!(r.outcome, Outcome::Cloudflare(524));
    assert!(r.http.unwrap().error.unwrap().contains("0.5 s"));
}

#[test]
fn plain_http_on_the_tls_port_is_525() {
    let port = server(|mut s| {
        let mut b = [0u8; 512];
        let _ = s.read(&mut b);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    });
    let r = probe(port).scheme(Scheme::Https).run().unwrap();
    assert_eq!(r.outcome, Outcome::Cloudflare(525));
    assert_eq!(r.sni.as_deref(), Some("site.test"));
    let tls = r.tls.unwrap();
    assert!(tls.error.as_deref().unwrap().contains("not TLS"), "{tls:?}");
    assert!(r.http.is_none());
}

#[test]
fn defaults_and_settings() {
    let p = OriginProbe::new("site.test", IpAddr::from(Ipv4Addr::LOCALHOST));
    assert_eq!(p.effective_scheme(), Scheme::Https);
    assert_eq!(p.clone().port(8080).effective_scheme(), Scheme::Http);
    assert_eq!(
        p.clone()
            .port(8443)
            .scheme(Scheme::Https)
            .effective_scheme(),
        Scheme::Https
    );
    assert!(matches!(
        p.clone().path("x").run(),
        Err(ProbeError::Usage(_))
    ));
    assert!(matches!(
        p.clone().path("/a b").run(),
        Err(ProbeError::Usage(_))
    ));
    assert!(matches!(
        OriginProbe::new("", IpAddr::from(Ipv4Addr::LOCALHOST)).run(),
        Err(ProbeError::Usage(_))
    ));
    assert!(matches!(
        p.clone().ca_pem(b"nothing", "ca.pem"),
        Err(ProbeError::BadCa { .. })
    ));
    let t = Timeouts::default();
    assert_eq!(
        (t.connect.as_secs(), t.read.as_secs(), t.write.as_secs()),
        (19, 100, 30)
    );
    assert_eq!(seconds(Duration::from_millis(1500)), "1.5 s");
}

#[test]
fn the_json_document() {
    let port = answering(b"HTTP/1.1 204 No Content\r\n\r\n");
    let r = probe(port).run().unwrap();
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["outcome"]["http"], 204);
    assert_eq!(v["version"], 1);
    assert_eq!(v["mode"], "strict");
    assert_eq!(v["timeouts"]["read"], 500);
    assert!(v.get("tls").is_none());
}
