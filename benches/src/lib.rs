//! Benchmarks of cf-ban-audit and the deterministic corpus generator they run on.
//!
//! [`generate`] writes a tree of logs and ban lists, `hosts` hosts of them, in every format
//! that makes up the bulk of a real machine's data (fail2ban.log, nginx and Apache error logs,
//! ModSecurity audit logs, syslog, plain ban lists, ipset saves) plus the small ban lists of
//! the other tools, with Cloudflare and decoy addresses, and returns the ground truth: every
//! (tool, address) that a correct scan reports. The same seed gives the same bytes. That is the
//! `dense` profile (a quarter of the lines are events); [`generate_web_host`] writes the
//! `web-host` profile, where events are rare among access logs and noise.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

mod web_host;

/// The `web-host` profile's generator (see the module): mostly access logs and noise, few
/// events, as a busy Cloudflare-fronted web host's logs are.
pub use web_host::generate as generate_web_host;

/// A small, fast, seeded generator (xorshift64*), so corpora are reproducible.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// True with probability `p` percent.
    pub fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
}

const CF_V4: &[(u32, u8)] = &[
    (0xADF5_3000, 20), // 173.245.48.0/20
    (0x6715_F400, 22), // 103.21.244.0/22
    (0x8D65_4000, 18), // 141.101.64.0/18
    (0x6CA2_C000, 18), // 108.162.192.0/18
    (0xA29E_0000, 15), // 162.158.0.0/15
    (0x6810_0000, 13), // 104.16.0.0/13
    (0x6818_0000, 14), // 104.24.0.0/14
    (0xAC40_0000, 13), // 172.64.0.0/13
    (0x8300_4800, 22), // 131.0.72.0/22
];

const DECOY_V4: &[(u32, u8)] = &[
    (0xC000_0200, 24), // 192.0.2.0/24
    (0xC633_6400, 24), // 198.51.100.0/24
    (0xCB00_7100, 24), // 203.0.113.0/24
    (0x5000_0000, 8),  // 80.0.0.0/8
    (0x2D00_0000, 8),  // 45.0.0.0/8
];

/// The address pools a corpus draws from: a fixed number of distinct addresses, so the
/// number of distinct findings stays bounded whatever the size.
pub struct Pools {
    cf: Vec<String>,
    decoy: Vec<String>,
}

impl Pools {
    fn new(rng: &mut Rng) -> Pools {
        let pick = |rng: &mut Rng, table: &[(u32, u8)]| {
            let (base, len) = table[rng.below(table.len() as u64) as usize];
            let host = rng.below(1u64 << (32 - len)) as u32;
            Ipv4Addr::from(base | host).to_string()
        };
        let mut cf: Vec<String> = (0..1500).map(|_| pick(rng, CF_V4)).collect();
        cf.extend((0..200).map(|_| {
            Ipv6Addr::new(
                0x2606,
                0x4700,
                rng.below(65536) as u16,
                0,
                0,
                0,
                0,
                rng.below(65536) as u16 + 1,
            )
            .to_string()
        }));
        let mut decoy: Vec<String> = (0..12_000).map(|_| pick(rng, DECOY_V4)).collect();
        decoy.extend((0..800).map(|_| {
            Ipv6Addr::new(
                0x2001,
                0xdb8,
                rng.below(65536) as u16,
                0,
                0,
                0,
                0,
                rng.below(65536) as u16 + 1,
            )
            .to_string()
        }));
        cf.sort();
        cf.dedup();
        decoy.sort();
        decoy.dedup();
        Pools { cf, decoy }
    }

    /// An address: Cloudflare's with probability `cf_percent`.
    fn addr(&self, rng: &mut Rng, cf_percent: u64) -> (bool, &str) {
        if rng.percent(cf_percent) {
            (true, &self.cf[rng.below(self.cf.len() as u64) as usize])
        } else {
            (
                false,
                &self.decoy[rng.below(self.decoy.len() as u64) as usize],
            )
        }
    }
}

/// What a correct scan of the corpus reports: (tool, address) pairs.
pub type Truth = BTreeSet<(String, String)>;

struct Clock(u64);

impl Clock {
    fn tick(&mut self, rng: &mut Rng) -> u64 {
        self.0 += rng.below(3);
        self.0
    }
    fn parts(&self) -> (u64, u64, u64, u64) {
        let t = self.0;
        (t / 86_400 % 20 + 1, t / 3600 % 24, t / 60 % 60, t % 60)
    }
}

fn writer(path: &Path) -> io::Result<BufWriter<fs::File>> {
    fs::create_dir_all(path.parent().expect("has a parent"))?;
    Ok(BufWriter::with_capacity(1 << 20, fs::File::create(path)?))
}

/// Writes lines produced by `line` until `budget` bytes are written.
fn fill(path: &Path, budget: u64, mut line: impl FnMut(&mut String)) -> io::Result<()> {
    let mut w = writer(path)?;
    let mut written = 0u64;
    let mut buf = String::with_capacity(4096);
    while written < budget {
        buf.clear();
        line(&mut buf);
        written += buf.len() as u64;
        w.write_all(buf.as_bytes())?;
    }
    w.flush()
}

/// A plain ban list (`etc/blocklist/banned-ips.txt`) and an ipset save with a fail2ban set
/// (`etc/iptables/ipsets`, IPv4 only, each address once), about `budget` bytes each, with
/// Cloudflare's addresses in `cf_percent` percent of the entries, each told to `t`.
fn ban_lists(
    root: &Path,
    budget: u64,
    pools: &Pools,
    rng: &mut Rng,
    cf_percent: u64,
    t: &mut impl FnMut(&str, &str),
) -> io::Result<()> {
    fill(&root.join("etc/blocklist/banned-ips.txt"), budget, |b| {
        let (cf, a) = pools.addr(rng, cf_percent);
        if cf {
            t("list", a);
        }
        let _ = writeln!(b, "{a}");
    })?;
    let mut w = writer(&root.join("etc/iptables/ipsets"))?;
    writeln!(
        w,
        "create f2b-sshd hash:ip family inet hashsize 1024 maxelem 1000000 timeout 0"
    )?;
    let mut written = 0u64;
    let mut seen = BTreeSet::new();
    while written < budget {
        let (cf, a) = pools.addr(rng, cf_percent);
        if a.contains(':') || !seen.insert(a.to_string()) {
            written += 16;
            continue;
        }
        if cf {
            t("ipset", a);
        }
        let line = format!("add f2b-sshd {a} timeout 0\n");
        written += line.len() as u64;
        w.write_all(line.as_bytes())?;
    }
    w.flush()
}

const JAILS: &[&str] = &[
    "sshd",
    "nginx-http-auth",
    "nginx-limit-req",
    "recidive",
    "postfix",
];

/// Writes a corpus of about `size_mb` MiB into `out` (which must not exist or be empty), spread
/// over `hosts` hosts, and returns its ground truth.
pub fn generate(out: &Path, size_mb: u64, hosts: u32, seed: u64) -> io::Result<Truth> {
    let mut rng = Rng::new(seed);
    let pools = Pools::new(&mut rng);
    let mut truth = Truth::new();
    let per_host = size_mb * 1024 * 1024 / u64::from(hosts.max(1));
    for h in 0..hosts.max(1) {
        let root = out.join(format!("host{h:02}"));
        let mut clock = Clock(u64::from(h) * 977);
        let mut t = |tool: &str, a: &str| {
            truth.insert((tool.to_string(), a.to_string()));
        };
        // fail2ban.log: mostly Found lines, some bans and unbans.
        fill(
            &root.join("var/log/fail2ban.log"),
            per_host * 43 / 100,
            |b| {
                let (cf, a) = pools.addr(&mut rng, 3);
                let jail = JAILS[rng.below(JAILS.len() as u64) as usize];
                clock.tick(&mut rng);
                let (d, hh, mm, ss) = clock.parts();
                let ms = rng.below(1000);
                let (logger, level, msg) = match rng.below(20) {
                    0 => ("actions", "NOTICE", format!("[{jail}] Ban {a}")),
                    1 => ("actions", "NOTICE", format!("[{jail}] Unban {a}")),
                    _ => (
                        "filter",
                        "INFO",
                        format!("[{jail}] Found {a} - 2026-11-{d:02} {hh:02}:{mm:02}:{ss:02}"),
                    ),
                };
                if logger == "actions" && msg.contains("] Ban ") && cf {
                    t("fail2ban", a);
                }
                let _ = writeln!(b, "2026-11-{d:02} {hh:02}:{mm:02}:{ss:02},{ms:03} fail2ban.{logger:<15} [812]: {level:<7} {msg}");
            },
        )?;
        // nginx error log: limit_req/limit_conn refusals, delays, ModSecurity denials, deny hits.
        fill(
            &root.join("var/log/nginx/error.log"),
            per_host * 15 / 100,
            |b| {
                let (cf, a) = pools.addr(&mut rng, 5);
                clock.tick(&mut rng);
                let (d, hh, mm, ss) = clock.parts();
                let cid = rng.below(100_000);
                let head = format!("2026/11/{d:02} {hh:02}:{mm:02}:{ss:02}");
                let ctx = format!("client: {a}, server: example.com, request: \"GET /api/{} HTTP/1.1\", host: \"example.com\"", rng.below(1000));
                match rng.below(10) {
                    0..=3 => {
                        if cf {
                            t("nginx-limit", a);
                        }
                        let _ = writeln!(b, "{head} [error] 14412#14412: *{cid} limiting requests, excess: 3.{:03} by zone \"perip\", {ctx}", rng.below(999));
                    }
                    4 => {
                        if cf {
                            t("nginx-limit", a);
                        }
                        let _ = writeln!(b, "{head} [error] 14412#14412: *{cid} limiting connections by zone \"perconn\", {ctx}");
                    }
                    5 | 6 => {
                        let _ = writeln!(b, "{head} [warn] 14412#14412: *{cid} delaying request, excess: 0.{:03}, by zone \"perip\", {ctx}", rng.below(999));
                    }
                    7 => {
                        if cf {
                            t("modsecurity", a);
                        }
                        let _ = writeln!(b, "{head} [error] 14239#14239: *{cid} [client {a}] ModSecurity: Access denied with code 403 (phase 1). Matched \"Operator `BeginsWith' with parameter `/wp-login.php' against variable `REQUEST_URI' (Value: `/wp-login.php' ) [file \"/etc/nginx/modsec/rules.conf\"] [line \"10\"] [id \"100001\"] [rev \"\"] [msg \"Blocked WordPress login probe\"] [data \"\"] [severity \"0\"] [ver \"\"] [maturity \"0\"] [accuracy \"0\"] [hostname \"10.0.0.1\"] [uri \"/wp-login.php\"] [unique_id \"17{cid}\"] [ref \"v4,13\"], {ctx}");
                    }
                    8 => {
                        if cf {
                            t("nginx-deny", a);
                        }
                        let _ = writeln!(
                            b,
                            "{head} [error] 14412#14412: *{cid} access forbidden by rule, {ctx}"
                        );
                    }
                    _ => {
                        let _ = writeln!(b, "{head} [info] 14412#14412: *{cid} client {a} closed keepalive connection");
                    }
                }
            },
        )?;
        // Apache error log with ModSecurity v2 denials behind mod_remoteip.
        fill(
            &root.join("var/log/apache2/error.log"),
            per_host * 12 / 100,
            |b| {
                let (cf, a) = pools.addr(&mut rng, 5);
                clock.tick(&mut rng);
                let (d, hh, mm, ss) = clock.parts();
                let us = rng.below(1_000_000);
                let head = format!("[Tue Nov {d:02} {hh:02}:{mm:02}:{ss:02}.{us:06} 2026]");
                if rng.percent(60) {
                    if cf {
                        t("modsecurity", a);
                    }
                    let _ = writeln!(b, "{head} [security2:error] [pid 14920:tid 14927] [client {a}:0] [client {a}] ModSecurity: Access denied with code 403 (phase 2). Pattern match \"(?i)union\\\\s+select\" at ARGS:id. [file \"/etc/modsecurity/rules.conf\"] [line \"12\"] [id \"200002\"] [msg \"SQL injection attempt\"] [hostname \"example.com\"] [uri \"/index.php\"] [unique_id \"aw{us}\"]");
                } else {
                    let _ = writeln!(b, "{head} [php:error] [pid 14920:tid 14927] [client {a}:0] PHP Warning:  Undefined variable $x in /var/www/html/index.php on line {}", rng.below(300));
                }
            },
        )?;
        // ModSecurity v2 serial audit log.
        fill(
            &root.join("var/log/apache2/modsec_audit.log"),
            per_host * 15 / 100,
            |b| {
                let (cf, a) = pools.addr(&mut rng, 5);
                clock.tick(&mut rng);
                let (d, hh, mm, ss) = clock.parts();
                let id = rng.next_u64() as u32;
                let denied = rng.percent(70);
                if cf && denied {
                    t("modsecurity", a);
                }
                let _ = write!(
                b,
                "--{id:08x}-A--\n[{d:02}/Nov/2026:{hh:02}:{mm:02}:{ss:02} +0000] Wu{id:08x}AAAAk {a} {} 10.0.0.1 443\n--{id:08x}-B--\nGET /index.php?id=1%20union%20select HTTP/1.1\nHost: example.com\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\nAccept: */*\n\n--{id:08x}-F--\nHTTP/1.1 {} {}\nContent-Type: text/html\n\n--{id:08x}-H--\n",
                rng.below(60_000) + 1024,
                if denied { 403 } else { 200 },
                if denied { "Forbidden" } else { "OK" },
            );
                if denied {
                    let _ = write!(b, "Message: Access denied with code 403 (phase 2). Pattern match \"union select\" at ARGS:id. [file \"/etc/modsecurity/rules.conf\"] [line \"12\"] [id \"200002\"] [msg \"SQL injection attempt\"]\nAction: Intercepted (phase 2)\n");
                } else {
                    let _ = writeln!(b, "Message: Warning. Pattern match \"select\" at ARGS:id. [file \"/etc/modsecurity/rules.conf\"] [line \"13\"] [id \"200003\"] [msg \"Suspicious\"]");
                }
                let _ = write!(b, "Stopwatch: 1525157342927546 578 (- - -)\nProducer: ModSecurity for Apache/2.9.7 (http://www.modsecurity.org/).\nServer: Apache/2.4.71 (Debian)\nEngine-Mode: \"ENABLED\"\n\n--{id:08x}-Z--\n\n");
            },
        )?;
        // syslog: sshd noise, fail2ban through syslog, mod_evasive.
        fill(&root.join("var/log/syslog"), per_host * 5 / 100, |b| {
            let (cf, a) = pools.addr(&mut rng, 5);
            clock.tick(&mut rng);
            let (d, hh, mm, ss) = clock.parts();
            let head = format!("Nov {d:2} {hh:02}:{mm:02}:{ss:02} host{h:02}");
            match rng.below(10) {
                0 => {
                    if cf {
                        t("fail2ban", a);
                    }
                    let _ = writeln!(b, "{head} fail2ban.actions[812]: NOTICE [sshd] Ban {a}");
                }
                1 => {
                    if cf && !a.contains(':') {
                        t("mod_evasive", a);
                    }
                    if a.contains(':') {
                        let _ = writeln!(
                            b,
                            "{head} CRON[2211]: (root) CMD (command -v debian-sa1 > /dev/null)"
                        );
                    } else {
                        let _ = writeln!(b, "{head} mod_evasive[14920]: Blacklisting address {a}: possible DoS attack.");
                    }
                }
                _ => {
                    let _ = writeln!(b, "{head} sshd[{}]: Failed password for invalid user admin from {a} port {} ssh2", rng.below(60_000), rng.below(60_000));
                }
            }
        })?;
        // A plain ban list and an ipset save with a fail2ban set.
        ban_lists(&root, per_host * 5 / 200, &pools, &mut rng, 2, &mut t)?;
        // Small ban lists of the other tools, a few Cloudflare entries each.
        let (_, cf1) = pools.addr(&mut Rng::new(seed ^ u64::from(h) ^ 1), 100);
        let (_, cf2) = pools.addr(&mut Rng::new(seed ^ u64::from(h) ^ 2), 100);
        let (_, cf3) = pools.addr(&mut Rng::new(seed ^ u64::from(h) ^ 3), 100);
        let cf1 = cf1.to_string();
        let cf2 = cf2.to_string();
        let cf3 = cf3.to_string();
        fs::create_dir_all(root.join("etc/csf"))?;
        fs::write(root.join("etc/csf/csf.deny"), format!("{cf1} # lfd: (sshd) Failed SSH login from {cf1} (US/United States/-): 5 in the last 3600 secs - Tue Nov 24 03:00:00 2026\n192.0.2.9 # manual - Tue Nov 24 03:00:00 2026\n"))?;
        t("csf", &cf1);
        fs::write(root.join("etc/iptables/rules.v4"), format!("# Generated by iptables-save v1.8.9 (nf_tables)\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:f2b-sshd - [0:0]\n-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd\n-A f2b-sshd -s {}/32 -j REJECT --reject-with icmp-port-unreachable\n-A f2b-sshd -s 203.0.113.8/32 -j REJECT --reject-with icmp-port-unreachable\n-A f2b-sshd -j RETURN\nCOMMIT\n", if cf2.contains(':') { "104.16.0.77" } else { &cf2 }))?;
        t(
            "iptables",
            if cf2.contains(':') {
                "104.16.0.77"
            } else {
                &cf2
            },
        );
        let v4_3 = if cf3.contains(':') {
            "104.16.0.78".to_string()
        } else {
            cf3.clone()
        };
        fs::write(root.join("etc/nftables.conf"), format!("#!/usr/sbin/nft -f\nflush ruleset\ntable inet f2b-table {{\n\tset addr-set-sshd {{\n\t\ttype ipv4_addr\n\t\telements = {{ {v4_3}, 198.51.100.14 }}\n\t}}\n\tchain f2b-chain {{\n\t\ttype filter hook input priority filter - 1; policy accept;\n\t\ttcp dport 22 ip saddr @addr-set-sshd reject with icmp port-unreachable\n\t}}\n}}\n"))?;
        t("nftables", &v4_3);
    }
    Ok(truth)
}

/// Writes the truth as JSON (`{"pairs": [[tool, address], ...]}`), beside the corpus.
pub fn write_truth(path: &Path, truth: &Truth) -> io::Result<()> {
    let mut s = String::from("{\"pairs\": [\n");
    let n = truth.len();
    for (i, (tool, addr)) in truth.iter().enumerate() {
        let _ = writeln!(
            s,
            "  [\"{tool}\", \"{addr}\"]{}",
            if i + 1 < n { "," } else { "" }
        );
    }
    s.push_str("]}\n");
    fs::write(path, s)
}
