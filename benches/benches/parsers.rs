//! Each format's parser in MB/s: one generated file of each kind, scanned whole by the
//! library (detection, streaming, parsing, aggregation), single-threaded. The access log is
//! generated here (`gen-corpus` writes none): its records are evidence, never findings.

use std::path::{Path, PathBuf};

use cf_ban_audit_core::{cloudflare, Scanner};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("corpus");
    cf_ban_audit_benches::generate(&out, 48, 1, 7).expect("corpus");
    let host = out.join("host00");
    let files: Vec<(&str, PathBuf)> = vec![
        ("fail2ban-log", host.join("var/log/fail2ban.log")),
        ("nginx-error", host.join("var/log/nginx/error.log")),
        ("apache-error", host.join("var/log/apache2/error.log")),
        (
            "modsec-audit",
            host.join("var/log/apache2/modsec_audit.log"),
        ),
        ("syslog", host.join("var/log/syslog")),
        ("plain-list", host.join("etc/blocklist/banned-ips.txt")),
        ("ipset", host.join("etc/iptables/ipsets")),
        ("access-log", access_log(dir.path())),
    ];
    let cf = cloudflare::embedded();
    let mut group = c.benchmark_group("parse");
    group.sample_size(10);
    for (name, path) in files {
        let len = std::fs::metadata(&path).expect("generated").len();
        group.throughput(Throughput::Bytes(len));
        group.bench_function(name, |b| {
            b.iter(|| {
                Scanner::new(cf.clone())
                    .path(&path)
                    .threads(1)
                    .scan()
                    .findings
                    .len()
            })
        });
    }
    group.finish();
}

/// An nginx access log in the predefined `combined` format (about 32 MB): edge and visitor
/// clients over IPv4 and IPv6, the statuses a site answers, the request lines, referers and
/// user agents of real traffic.
fn access_log(dir: &Path) -> PathBuf {
    use std::fmt::Write;
    let clients = [
        "173.245.49.12",
        "203.0.113.50",
        "2606:4700:10::6816:1",
        "198.51.100.7",
        "162.158.90.9",
        "2001:db8:113::50",
    ];
    let statuses = [200, 200, 200, 304, 404, 403, 429, 503, 301, 200];
    let mut log = String::with_capacity(34 << 20);
    for i in 0..160_000usize {
        let _ = writeln!(
            log,
            "{} - - [24/Nov/2026:{:02}:{:02}:{:02} +0000] \"GET /products/item-{}?page={} HTTP/1.1\" {} {} \
             \"https://www.example.com/category/{}\" \"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) \
             Gecko/20100101 Firefox/120.0\"",
            clients[i % clients.len()],
            i / 3600 % 24,
            i / 60 % 60,
            i % 60,
            i % 997,
            i % 13,
            statuses[i % statuses.len()],
            1000 + i % 50_000,
            i % 31,
        );
    }
    let path = dir.join("access.log");
    std::fs::write(&path, log).expect("access log");
    path
}

/// The two ways of reading a format whose parser reads only the lines holding its words:
/// searching whole buffers for the words (the default) and walking every line. Over the
/// generated error logs and syslog (dense: a quarter of the lines are events) and over an nginx
/// error log as a busy site writes it (one refusal in a hundred lines). The plain list's
/// `buffer-search` is its reading in runs of lines (the whole lines of each read at once).
fn reading_modes(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("corpus");
    cf_ban_audit_benches::generate(&out, 48, 1, 7).expect("corpus");
    let host = out.join("host00");
    let files: Vec<(&str, PathBuf)> = vec![
        ("nginx-error", host.join("var/log/nginx/error.log")),
        ("apache-error", host.join("var/log/apache2/error.log")),
        ("syslog", host.join("var/log/syslog")),
        ("plain-list", host.join("etc/blocklist/banned-ips.txt")),
        ("nginx-error-noisy", noisy_nginx_error(dir.path())),
    ];
    let cf = cloudflare::embedded();
    let mut group = c.benchmark_group("read");
    group.sample_size(10);
    for (name, path) in files {
        let len = std::fs::metadata(&path).expect("generated").len();
        group.throughput(Throughput::Bytes(len));
        for (mode, search) in [("buffer-search", true), ("per-line", false)] {
            group.bench_function(format!("{name}/{mode}"), |b| {
                b.iter(|| {
                    Scanner::new(cf.clone())
                        .path(&path)
                        .threads(1)
                        .buffer_search(search)
                        .scan()
                        .findings
                        .len()
                })
            });
        }
    }
    group.finish();
}

/// An nginx error log as a busy site behind Cloudflare writes it (about 32 MB): missing files
/// and upstream timeouts, one `limiting requests` refusal in a hundred lines.
fn noisy_nginx_error(dir: &Path) -> PathBuf {
    use std::fmt::Write;
    let mut log = String::with_capacity(34 << 20);
    for i in 0..130_000usize {
        let (h, m, s) = (i / 3600 % 24, i / 60 % 60, i % 60);
        let client = format!("172.70.{}.{}", i / 250 % 250, i % 250);
        let _ = match i % 100 {
            0 => writeln!(
                log,
                "2026/11/24 {h:02}:{m:02}:{s:02} [error] 812#812: *{i} limiting requests, excess: 10.520 by zone \"one\", \
                 client: {client}, server: www.example.com, request: \"GET /api/v1/items HTTP/1.1\", host: \"www.example.com\""
            ),
            n if n % 3 == 0 => writeln!(
                log,
                "2026/11/24 {h:02}:{m:02}:{s:02} [error] 812#812: *{i} upstream timed out (110: Connection timed out) while \
                 reading response header from upstream, client: {client}, server: www.example.com, request: \
                 \"GET /products/item-{n} HTTP/1.1\", upstream: \"http://127.0.0.1:9000/products/item-{n}\", host: \"www.example.com\""
            ),
            n => writeln!(
                log,
                "2026/11/24 {h:02}:{m:02}:{s:02} [error] 812#812: *{i} open() \"/var/www/html/static/img-{n}.png\" failed \
                 (2: No such file or directory), client: {client}, server: www.example.com, request: \
                 \"GET /static/img-{n}.png HTTP/1.1\", host: \"www.example.com\", referrer: \"https://www.example.com/\""
            ),
        };
    }
    let path = dir.join("error.log");
    std::fs::write(&path, log).expect("nginx error log");
    path
}

criterion_group!(benches, bench, reading_modes);
criterion_main!(benches);
