//! RangeSet lookups: the embedded Cloudflare list (22 ranges) and a synthetic set of 100,000
//! ranges; a lookup must cost one binary search either way.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use cf_ban_audit_core::{cloudflare, RangeSet};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ipnet::{IpNet, Ipv4Net};

/// A fixed pseudo-random sequence (xorshift), so runs compare.
fn addresses(n: usize) -> Vec<IpAddr> {
    let mut x: u32 = 0x9e37_79b9;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            IpAddr::V4(Ipv4Addr::from(x))
        })
        .collect()
}

fn big_set() -> RangeSet {
    // 100,000 disjoint /24s spread over the space.
    (0..100_000u32)
        .map(|i| IpNet::V4(Ipv4Net::new(Ipv4Addr::from(i.wrapping_mul(40_503) << 8), 24).unwrap()))
        .collect()
}

fn bench(c: &mut Criterion) {
    let probes = addresses(4096);
    let cf = cloudflare::embedded();
    let big = big_set();
    let mut group = c.benchmark_group("rangeset_contains");
    group.throughput(Throughput::Elements(probes.len() as u64));
    group.bench_function("cloudflare_22", |b| {
        b.iter(|| {
            probes
                .iter()
                .filter(|ip| cf.contains(black_box(**ip)))
                .count()
        })
    });
    group.bench_function("synthetic_100k", |b| {
        b.iter(|| {
            probes
                .iter()
                .filter(|ip| big.contains(black_box(**ip)))
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
