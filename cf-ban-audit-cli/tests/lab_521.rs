//! The 521 lab from the outside and the inside: a real nginx (no realip, combined access
//! log) and a real fail2ban (jail `nginx-botsearch` on the access log) in an origin namespace
//! ban the Cloudflare edge of an edge namespace, as a new user meets it. At each step the test
//! asserts what `scan`, `doctor` and `probe` say, applies the advice they print (the lift
//! command from the doctor's JSON, the ignoreip snippet, the realip snippet) and checks the
//! edge connects again and that a new trip of the jail bans the visitor, not the edge:
//!
//! 1. before any ban, a scan of the access log alone says visitor addresses are not restored
//!    (prevention), with the nginx realip snippet;
//! 2. the jail bans the edge: `doctor` FAILs the firewall check naming the edge and the
//!    fail2ban rule or set element, `probe` from the edge says 521;
//! 3. the lift command the doctor printed is run: both say OK;
//! 4. ignoreip and realip are applied: a trip from a visitor behind the edge bans the visitor
//!    (which the edge's packets never match: `firewall-bans-ineffective`), a trip from the
//!    edge itself is ignored, and the edge keeps connecting.
//!
//! Runs with the `iptables-multiport` and the `nftables-multiport` banaction. Needs root,
//! `ip`, nginx, fail2ban, curl and the firewall program; skips visibly without them and fails
//! under `CI`. `CF_BAN_AUDIT_LAB_KEEP` keeps the lab's directories.

mod common;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use common::*;

const JAIL: &str = "nginx-botsearch";
/// The edge's Cloudflare IPv6 address, and the origin's.
const EDGE_V6: &str = "2606:4700:10::6816:1";
const ORIGIN_V6: &str = "2001:db8::10";
/// The visitor behind Cloudflare, as the edge passes it in `CF-Connecting-IP`.
const VISITOR: &str = "203.0.113.50";

/// The site: a page, and nothing else (`/wp-login.php` is a 404 that the stock
/// `nginx-botsearch` filter counts).
const SERVER: &str = r#"  INCLUDE
  server {
    listen 80;
    listen [::]:80;
    server_name origin.test;
    root PREFIX/www;
    location / { }
  }"#;

const JAIL_LOCAL: &str = "[DEFAULT]
backend = polling
ignoreip = 127.0.0.1/8 ::1

[nginx-botsearch]
enabled = true
port = 80
logpath = LOGPATH
maxretry = 2
findtime = 10m
bantime = 1h
banaction = BANACTION
";

#[test]
fn lab_521_from_both_sides_iptables_multiport() {
    lab("iptables-multiport", "iptables");
}

#[test]
fn lab_521_from_both_sides_nftables_multiport() {
    lab("nftables-multiport", "nft");
}

/// A command's exit status and its output, printed for the log of the run.
struct Said {
    code: i32,
    stdout: String,
}

impl Said {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

fn said_in(ns: &str, what: &str, args: &[&str]) -> Said {
    let o = run_in(ns, args, &[]);
    let s = Said {
        code: code(&o),
        stdout: stdout(&o),
    };
    eprintln!(
        "===== {what}: cf-ban-audit {} (exit {}) =====\n{}{}",
        args.join(" "),
        s.code,
        s.stdout,
        stderr(&o)
    );
    s
}

/// `probe` from the edge namespace, as Cloudflare's edge at `from` would connect to the
/// origin's `origin` address on port 80: its JSON.
fn probe(topo: &Topology, what: &str, origin: &str, from: &str) -> Value {
    let said = said_in(
        &topo.edge.0,
        what,
        &[
            "probe",
            "origin.test",
            "--origin",
            origin,
            "--port",
            "80",
            "--from-edge",
            from,
            "--connect-timeout",
            "3s",
            "--format",
            "json",
        ],
    );
    said.json()
}

/// The check of `cause` (without a port) in a doctor's JSON.
fn check_of(doctor: &Value, cause: &str) -> Value {
    doctor["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["cause"] == cause).cloned())
        .unwrap_or_else(|| panic!("no {cause} check: {doctor}"))
}

/// The firewall check of port 80 in a doctor's JSON.
fn firewall_80(doctor: &Value) -> Value {
    doctor["checks"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["cause"] == "firewall" && c["port"] == 80)
                .cloned()
        })
        .unwrap_or_else(|| panic!("no firewall check for port 80: {doctor}"))
}

/// Runs `argv` in namespace `ns` and asserts it succeeds.
fn run_argv_in(ns: &str, argv: &[String]) {
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", ns])
        .args(argv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{argv:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Sends requests for `/wp-login.php` from the edge (with `extra` curl arguments) until
/// fail2ban logs `want` for the jail; the log then.
fn trip(topo: &Topology, f2b: &Fail2ban, host: &str, extra: &[&str], want: &str) -> String {
    let url = format!("http://{host}/wp-login.php");
    for _ in 0..6 {
        let (rc, status, said) = topo.edge_curl(&url, extra);
        if rc == 0 {
            assert_eq!(status, "404", "{said}");
        }
        if let Some(log) = f2b.wait_for_log(want, Duration::from_secs(3)) {
            return log;
        }
    }
    panic!("no {want:?} in the fail2ban log:\n{}", f2b.log_text());
}

fn lab(banaction: &str, firewall: &str) {
    let what = format!("521 lab from both sides ({banaction})");
    let short = if firewall == "nft" { "n" } else { "i" };
    let Some((topo, lab, keep)) = lab_start(&what, firewall, &format!("l521{short}"), "cfba-l521-")
    else {
        return;
    };
    // IPv6 beside IPv4: the edge's Cloudflare address and a route to it from the origin.
    topo.edge.exec(&[
        "ip",
        "-6",
        "addr",
        "add",
        &format!("{EDGE_V6}/128"),
        "dev",
        "eth0",
        "nodad",
    ]);
    topo.origin.exec(&[
        "ip",
        "-6",
        "addr",
        "add",
        &format!("{ORIGIN_V6}/64"),
        "dev",
        "eth0",
        "nodad",
    ]);
    topo.edge.exec(&[
        "ip",
        "-6",
        "route",
        "add",
        &format!("{ORIGIN_V6}/128"),
        "dev",
        "eth0",
        "src",
        EDGE_V6,
    ]);
    topo.origin.exec(&[
        "ip",
        "-6",
        "route",
        "add",
        &format!("{EDGE_V6}/128"),
        "dev",
        "eth0",
    ]);
    let prefix = lab.path();
    std::fs::create_dir_all(prefix.join("www")).unwrap();
    std::fs::write(prefix.join("www/index.html"), "origin\n").unwrap();
    // The realip configuration goes here later; empty at first.
    let realip = prefix.join("realip.conf");
    std::fs::write(&realip, "").unwrap();
    let server = SERVER.replace("INCLUDE", &format!("include {};", realip.display()));
    let nginx = Nginx::start(&topo.origin, prefix, &server);
    let access_log = prefix.join("access.log");
    let origin = &topo.origin.0;
    let url = format!("http://{ORIGIN_V4}/");
    let url6 = format!("http://[{ORIGIN_V6}]/");
    let host6 = format!("[{ORIGIN_V6}]");
    for u in [&url, &url6] {
        let up = wait_until(Duration::from_secs(5), || {
            let (rc, status, said) = topo.edge_curl(u, &[]);
            (rc == 0 && status == "200").then_some(said)
        });
        assert!(up.is_some(), "the edge reaches {u}");
    }

    // 1. Before any ban: the access log alone shows the edge as the client.
    let access = said_in(
        origin,
        "access log before any ban",
        &["scan", "--format", "json", access_log.to_str().unwrap()],
    );
    let diagnoses = access.json()["diagnoses"].clone();
    assert!(
        diagnoses
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["kind"] == "real-ip-not-restored"
                && d["fix"]
                    .as_str()
                    .is_some_and(|f| f.contains("real_ip_header")))),
        "real-ip-not-restored with the nginx realip snippet: {diagnoses}"
    );

    // 2. The jail bans the edge.
    let jail_local = JAIL_LOCAL
        .replace("LOGPATH", &access_log.display().to_string())
        .replace("BANACTION", banaction);
    let Some(mut f2b) =
        Fail2ban::start_in(&what, origin, Fail2banDb::File, &[JAIL], |_| jail_local)
    else {
        return;
    };
    f2b.dir.disable_cleanup(keep);
    eprintln!(
        "lab {what}: nginx prefix {}, fail2ban dir {}{}",
        prefix.display(),
        f2b.dir.path().display(),
        if keep { " (kept)" } else { "" }
    );
    trip(
        &topo,
        &f2b,
        ORIGIN_V4,
        &[],
        &format!("[{JAIL}] Ban {EDGE_V4}"),
    );
    trip(&topo, &f2b, &host6, &[], &format!("[{JAIL}] Ban {EDGE_V6}"));
    for u in [&url, &url6] {
        let refused = wait_until(Duration::from_secs(10), || {
            let (rc, _, _) = topo.edge_curl(u, &[]);
            (rc == 7 || rc == 28).then_some(rc)
        });
        assert!(
            refused.is_some(),
            "the edge still connects to {u} after the ban"
        );
    }

    for (origin, from) in [(ORIGIN_V4, EDGE_V4), (ORIGIN_V6, EDGE_V6)] {
        let p = probe(&topo, "probe from the banned edge", origin, from);
        assert_eq!(p["outcome"]["cloudflare"], 521, "probe says 521: {p}");
    }

    let socket = f2b.socket();
    let conf = f2b.conf();
    let f2b_log = f2b.log();
    let doctor_args = [
        "doctor",
        "--format",
        "json",
        "--port",
        "80",
        "--fail2ban-socket",
        socket.to_str().unwrap(),
        "--fail2ban-config",
        conf.to_str().unwrap(),
        "--scan",
        f2b_log.to_str().unwrap(),
        "--scan",
        access_log.to_str().unwrap(),
    ];
    let doctor = said_in(origin, "doctor while banned", &doctor_args);
    assert_eq!(doctor.code, 1, "doctor FAILs");
    let real_ip = check_of(&doctor.json(), "real-ip");
    assert_eq!(
        real_ip["status"], "warn",
        "visitor addresses not restored: {real_ip}"
    );
    assert!(
        real_ip["fix"]
            .as_str()
            .is_some_and(|f| f.contains("real_ip_header CF-Connecting-IP")),
        "the nginx realip snippet: {real_ip}"
    );
    let fw = firewall_80(&doctor.json());
    assert_eq!(fw["status"], "fail", "{fw}");
    let mut lifts = Vec::new();
    for edge in [EDGE_V4, EDGE_V6] {
        let refusal = fw["refused"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["address"] == edge).cloned())
            .unwrap_or_else(|| panic!("{edge} among the refused: {fw}"));
        let by = refusal["by"].as_str().unwrap_or_default();
        assert!(
            by.contains("f2b-") || by.contains("addr-set-") || by.contains("addr6-set-"),
            "the fail2ban rule or set: {refusal}"
        );
        let lift: Vec<String> = refusal["lift"][0]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|w| w.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            lift.first().is_some_and(|p| p == "fail2ban-client")
                && lift.ends_with(&["set".into(), JAIL.into(), "unbanip".into(), edge.into()]),
            "the lift command: {refusal}"
        );
        lifts.push(lift);
    }
    assert!(
        !fw["fix"]
            .as_str()
            .unwrap_or_default()
            .contains("delete rule"),
        "never the whole rule: {fw}"
    );

    // 3. The printed lift command ends the outage.
    for lift in &lifts {
        run_argv_in(origin, lift);
    }
    for u in [&url, &url6] {
        let back = wait_until(Duration::from_secs(10), || {
            let (rc, status, _) = topo.edge_curl(u, &[]);
            (rc == 0 && status == "200").then_some(())
        });
        assert!(back.is_some(), "the edge connects to {u} after the lift");
    }
    let doctor = said_in(origin, "doctor after the lift", &doctor_args);
    let fw = firewall_80(&doctor.json());
    assert_eq!(fw["status"], "ok", "{fw}");
    for (origin, from) in [(ORIGIN_V4, EDGE_V4), (ORIGIN_V6, EDGE_V6)] {
        let p = probe(&topo, "probe after the lift", origin, from);
        assert_eq!(p["outcome"]["http"], 200, "probe says 200: {p}");
    }

    // 4. Prevention: ignoreip into jail.local, realip into nginx.
    let jail_file = conf.join("jail.local");
    let merged = run(&[
        "snippet",
        "fail2ban",
        "--existing",
        jail_file.to_str().unwrap(),
    ]);
    assert_eq!(code(&merged), 0, "{}", stderr(&merged));
    std::fs::write(&jail_file, &merged.stdout).unwrap();
    let snippet = run(&["snippet", "nginx-realip"]);
    assert_eq!(code(&snippet), 0, "{}", stderr(&snippet));
    std::fs::write(&realip, &snippet.stdout).unwrap();
    let p = prefix.display().to_string();
    topo.origin.exec(&[
        "nginx",
        "-p",
        &p,
        "-c",
        &format!("{p}/nginx.conf"),
        "-s",
        "reload",
    ]);
    let reload = f2b.client(&["reload", "--restart"]);
    assert!(reload.status.success(), "{}", stderr(&reload));
    f2b.wait_for_log(&format!("Jail '{JAIL}' started"), Duration::from_secs(20));
    // nginx takes the new configuration in its new workers.
    std::thread::sleep(Duration::from_millis(500));

    // A visitor behind the edge trips the jail: fail2ban bans the visitor, never the edge.
    let header = format!("CF-Connecting-IP: {VISITOR}");
    trip(
        &topo,
        &f2b,
        ORIGIN_V4,
        &["-H", &header],
        &format!("[{JAIL}] Ban {VISITOR}"),
    );
    let (rc, status, said) = topo.edge_curl(&url, &[]);
    assert_eq!(
        (rc, status.as_str()),
        (0, "200"),
        "the visitor's ban never matches the edge's packets: {said}"
    );
    // The edge itself (no header: nginx keeps the peer) is ignored.
    trip(
        &topo,
        &f2b,
        ORIGIN_V4,
        &[],
        &format!("[{JAIL}] Ignore {EDGE_V4}"),
    );
    trip(
        &topo,
        &f2b,
        &host6,
        &[],
        &format!("[{JAIL}] Ignore {EDGE_V6}"),
    );
    let banned = stdout(&f2b.client(&["banned"]));
    assert!(
        !banned.contains(EDGE_V4) && !banned.contains(EDGE_V6),
        "{banned}"
    );
    let (rc, status, said) = topo.edge_curl(&url, &[]);
    assert_eq!((rc, status.as_str()), (0, "200"), "{said}");

    let after = said_in(
        origin,
        "scan after the fix",
        &[
            "scan",
            "--live",
            "--source",
            "fail2ban",
            "--fail2ban-socket",
            socket.to_str().unwrap(),
            "--fail2ban-config",
            conf.to_str().unwrap(),
            "--format",
            "json",
            f2b_log.to_str().unwrap(),
            access_log.to_str().unwrap(),
        ],
    );
    let diagnoses = after.json()["diagnoses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let of = |kind: &str| diagnoses.iter().find(|d| d["kind"] == kind).cloned();
    assert!(
        of("real-ip-not-restored").is_none(),
        "nothing says addresses are not restored any more: {diagnoses:?}"
    );
    assert!(
        of("real-ip-restored").is_some(),
        "real-ip-restored: {diagnoses:?}"
    );
    let ineffective = of("firewall-bans-ineffective")
        .unwrap_or_else(|| panic!("firewall-bans-ineffective after realip: {diagnoses:?}"));
    let fix = ineffective["fix"].as_str().unwrap_or_default();
    assert!(
        fix.contains("nginx-block-map") && fix.contains("cloudflare-token"),
        "both fixes with their jail.local lines: {ineffective}"
    );
    assert!(
        ineffective.to_string().contains(JAIL),
        "names the jail: {ineffective}"
    );
    let doctor = said_in(origin, "doctor after the fix", &doctor_args);
    let fw = firewall_80(&doctor.json());
    assert_eq!(fw["status"], "ok", "{fw}");
    drop(nginx);
    let _ = Path::new(prefix);
}
