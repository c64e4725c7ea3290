//! The `web-host` profile: what a busy Cloudflare-fronted web host's `/var/log` and `/etc`
//! hold. Mostly access logs (nginx `combined`, one vhost in JSON, rotated copies, one of them
//! gzipped), whose clients are Cloudflare's edges (the server does not restore visitor
//! addresses) and which hold no bans; error logs with the usual noise (`open() failed`,
//! upstream timeouts) and few refusals; a fail2ban log of mostly `Found` lines with few bans;
//! syslog and auth.log noise; a ban list and an ipset save. Events are rare, as on a real
//! host, so the scan's speed is that of the lines it can skip.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use crate::{fill, Clock, Pools, Rng, Truth};

/// The request paths of the access logs.
const PATHS: &[&str] = &[
    "/",
    "/products/item",
    "/static/app.js",
    "/static/style.css",
    "/images/banner.webp",
    "/api/v1/cart",
    "/blog/2026/11/why-cloudflare",
    "/wp-login.php",
    "/favicon.ico",
    "/search?q=shoes",
];

const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
];

const STATUSES: &[u16] = &[200, 200, 200, 200, 200, 304, 304, 301, 404, 403, 499, 502];

/// What a request was: its path, status, user agent and body size.
fn request(rng: &mut Rng) -> (&'static str, u16, &'static str, u64) {
    let path = PATHS[rng.below(PATHS.len() as u64) as usize];
    let status = STATUSES[rng.below(STATUSES.len() as u64) as usize];
    let agent = AGENTS[rng.below(AGENTS.len() as u64) as usize];
    (path, status, agent, rng.below(90_000) + 200)
}

/// One access-log record in nginx's `combined` format.
fn combined(b: &mut String, rng: &mut Rng, clock: &Clock, client: &str) {
    let (d, hh, mm, ss) = clock.parts();
    let (path, status, agent, size) = request(rng);
    let _ = writeln!(
        b,
        "{client} - - [{d:02}/Nov/2026:{hh:02}:{mm:02}:{ss:02} +0000] \"GET {path} HTTP/1.1\" {status} {size} \"https://www.example.com/\" \"{agent}\"",
    );
}

/// One access-log record as `log_format json escape=json` writes it.
fn json(b: &mut String, rng: &mut Rng, clock: &Clock, client: &str) {
    let (d, hh, mm, ss) = clock.parts();
    let (path, status, agent, size) = request(rng);
    let _ = writeln!(
        b,
        "{{\"time\":\"2026-11-{d:02}T{hh:02}:{mm:02}:{ss:02}+00:00\",\"remote_addr\":\"{client}\",\"request\":\"GET {path} HTTP/2.0\",\"status\":{status},\"body_bytes_sent\":{size},\"http_user_agent\":\"{agent}\",\"request_time\":0.0{}}}",
        rng.below(99),
    );
}

/// Writes a `web-host` corpus of about `size_mb` MiB into `out` over `hosts` hosts, and
/// returns its ground truth (the access logs add nothing to it: they hold no bans).
pub fn generate(out: &Path, size_mb: u64, hosts: u32, seed: u64) -> io::Result<Truth> {
    let mut rng = Rng::new(seed);
    let pools = Pools::new(&mut rng);
    let mut truth = Truth::new();
    let per_host = size_mb * 1024 * 1024 / u64::from(hosts.max(1));
    for h in 0..hosts.max(1) {
        let root = out.join(format!("host{h:02}"));
        let log = root.join("var/log");
        let mut clock = Clock(u64::from(h) * 977);
        let mut t = |tool: &str, a: &str| {
            truth.insert((tool.to_string(), a.to_string()));
        };
        // Access logs (about 70%): the live one, a rotated one, a gzipped older one, one JSON vhost.
        for (name, share) in [("access.log", 30), ("access.log.1", 22)] {
            fill(&log.join("nginx").join(name), per_host * share / 100, |b| {
                clock.tick(&mut rng);
                let (_, client) = pools.addr(&mut rng, 96);
                combined(b, &mut rng, &clock, client);
            })?;
        }
        fill(&log.join("nginx/shop.json.log"), per_host * 8 / 100, |b| {
            clock.tick(&mut rng);
            let (_, client) = pools.addr(&mut rng, 96);
            json(b, &mut rng, &clock, client);
        })?;
        let mut text = String::new();
        while (text.len() as u64) < per_host * 10 / 100 {
            clock.tick(&mut rng);
            let (_, client) = pools.addr(&mut rng, 96);
            combined(&mut text, &mut rng, &clock, client);
        }
        let file = fs::File::create(log.join("nginx/access.log.2.gz"))?;
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        gz.write_all(text.as_bytes())?;
        gz.finish()?;
        // nginx error log (7%): noise, one refusal in a hundred lines.
        fill(&log.join("nginx/error.log"), per_host * 7 / 100, |b| {
            clock.tick(&mut rng);
            let (d, hh, mm, ss) = clock.parts();
            let (cf, a) = pools.addr(&mut rng, 96);
            let cid = rng.below(1_000_000);
            let head = format!("2026/11/{d:02} {hh:02}:{mm:02}:{ss:02}");
            let ctx = format!("client: {a}, server: www.example.com, request: \"GET /api/v1/cart HTTP/1.1\", host: \"www.example.com\"");
            match rng.below(100) {
                0 => {
                    if cf {
                        t("nginx-limit", a);
                    }
                    let _ = writeln!(b, "{head} [error] 812#812: *{cid} limiting requests, excess: 20.{:03} by zone \"perip\", {ctx}", rng.below(999));
                }
                1..=40 => {
                    let _ = writeln!(b, "{head} [error] 812#812: *{cid} open() \"/var/www/html/static/img-{}.png\" failed (2: No such file or directory), {ctx}", rng.below(500));
                }
                41..=70 => {
                    let _ = writeln!(b, "{head} [error] 812#812: *{cid} upstream timed out (110: Connection timed out) while reading response header from upstream, {ctx}, upstream: \"fastcgi://unix:/run/php/php8.2-fpm.sock:\"");
                }
                _ => {
                    let _ = writeln!(b, "{head} [warn] 812#812: *{cid} an upstream response is buffered to a temporary file /var/cache/nginx/fastcgi_temp/1/00/0000000{} while reading upstream, {ctx}", rng.below(100));
                }
            }
        })?;
        // fail2ban.log (8%): mostly Found, a ban in two hundred lines.
        fill(&log.join("fail2ban.log"), per_host * 8 / 100, |b| {
            let (cf, a) = pools.addr(&mut rng, 40);
            clock.tick(&mut rng);
            let (d, hh, mm, ss) = clock.parts();
            let jail = ["sshd", "nginx-http-auth", "nginx-botsearch"][rng.below(3) as usize];
            let (logger, level, msg) = match rng.below(200) {
                0 => ("actions", "NOTICE", format!("[{jail}] Ban {a}")),
                1 => ("actions", "NOTICE", format!("[{jail}] Unban {a}")),
                _ => (
                    "filter",
                    "INFO",
                    format!("[{jail}] Found {a} - 2026-11-{d:02} {hh:02}:{mm:02}:{ss:02}"),
                ),
            };
            if msg.contains("] Ban ") && cf {
                t("fail2ban", a);
            }
            let _ = writeln!(b, "2026-11-{d:02} {hh:02}:{mm:02}:{ss:02},{:03} fail2ban.{logger:<15} [812]: {level:<7} {msg}", rng.below(1000));
        })?;
        // syslog and auth.log (13%): cron, systemd, sshd; no bans.
        for (name, share) in [("syslog", 8), ("auth.log", 5)] {
            fill(&log.join(name), per_host * share / 100, |b| {
                let (_, a) = pools.addr(&mut rng, 5);
                clock.tick(&mut rng);
                let (d, hh, mm, ss) = clock.parts();
                let head = format!("Nov {d:2} {hh:02}:{mm:02}:{ss:02} web{h:02}");
                let _ = match rng.below(4) {
                    0 => writeln!(b, "{head} CRON[{}]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)", rng.below(60_000)),
                    1 => writeln!(b, "{head} systemd[1]: Started php8.2-fpm.service - The PHP 8.2 FastCGI Process Manager."),
                    _ => writeln!(b, "{head} sshd[{}]: Failed password for invalid user admin from {a} port {} ssh2", rng.below(60_000), rng.below(60_000)),
                };
            })?;
        }
        // A ban list and an ipset save (about 1% each).
        crate::ban_lists(&root, per_host / 100, &pools, &mut rng, 1, &mut t)?;
    }
    Ok(truth)
}
