//! Each format's parser in MB/s: one generated file of each kind, scanned whole by the
//! library (detection, streaming, parsing, aggregation), single-threaded.

use std::path::PathBuf;

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

criterion_group!(benches, bench);
criterion_main!(benches);
