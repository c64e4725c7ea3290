//! `doctor`: one /proc fixture per cause (fixtures/doctor/), saved firewall rules, and
//! end-to-end runs in network namespaces the tests create, where the evaluator's verdict for a
//! Cloudflare source on port 443 must equal what the kernel does with a real connection.
//!
//! The namespace tests need root, `ip`, `iptables-restore`, `nft`, `ipset` and `python3`;
//! without them they print `SKIP: ...` and pass, except in CI (`CI` set), where they fail.

mod common;

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cf_ban_audit_core::doctor::{Cause, Check, Doctor, DoctorReport, Status, Verdict};

fn dir(case: &str) -> PathBuf {
    common::fixtures().join("doctor").join(case)
}

fn rules(name: &str) -> String {
    std::fs::read_to_string(dir("firewall").join(name)).unwrap()
}

/// A doctor on a fixture proc root, reading no live state.
fn fixture_doctor(case: &str) -> Doctor {
    Doctor::new()
        .proc_root(dir(case).join("proc"))
        .live_firewall(false)
        .saved_iptables(rules("iptables-open.rules"))
        .saved_ip6tables(rules("ip6tables-open.rules"))
        .no_scan()
}

/// The exit status the command line gives a report (`cf-ban-audit-cli`'s
/// `doctor_cmd::exit_code`; the library leaves exit statuses to it): 2 when a check could not
/// run, else 1 when one failed, else 0.
fn exit_code(r: &DoctorReport) -> u8 {
    if !r.errors.is_empty() {
        2
    } else if r.checks.iter().any(|c| c.status == Status::Fail) {
        1
    } else {
        0
    }
}

fn check(r: &DoctorReport, cause: Cause, port: Option<u16>) -> &Check {
    r.checks
        .iter()
        .find(|c| c.cause == cause && c.port == port)
        .unwrap_or_else(|| panic!("no {cause:?} {port:?} check in {r:#?}"))
}

fn has(c: &Check, needle: &str) -> bool {
    c.evidence.iter().any(|e| e.contains(needle))
}

#[test]
fn healthy_host_is_all_ok() {
    let r = fixture_doctor("healthy").run();
    for c in &r.checks {
        assert_eq!(c.status, Status::Ok, "{c:#?}");
    }
    assert_eq!(exit_code(&r), 0);
    assert_eq!(r.host.as_deref(), Some("healthy.example"));
    let l = check(&r, Cause::Listener, Some(443));
    assert!(
        has(l, "listening on 0.0.0.0:443, owned by pid 812 (nginx)"),
        "{l:#?}"
    );
    let w = check(&r, Cause::WebServer, None);
    assert!(has(w, "nginx running: 2 process(es)"), "{w:#?}");
    assert!(w.fix.contains("nginx -t"), "{}", w.fix);
    let f = check(&r, Cause::Firewall, Some(443));
    assert!(has(f, "ACCEPT for 22 range(s)"), "{f:#?}");
    assert!(
        has(f, "arriving on eth0 (the default route's interface)"),
        "{f:#?}"
    );
    assert!(has(
        check(&r, Cause::OpenFiles, None),
        "nginx pid 812: 6 open files of 1024 allowed"
    ));
}

#[test]
fn no_web_server_and_nothing_listening_fail() {
    let r = fixture_doctor("no-web-server").run();
    let w = check(&r, Cause::WebServer, None);
    assert_eq!(w.status, Status::Fail, "{w:#?}");
    assert!(
        w.fix.contains("systemctl start nginx") && w.fix.contains("apache2ctl -t"),
        "{}",
        w.fix
    );
    for port in [80, 443] {
        let l = check(&r, Cause::Listener, Some(port));
        assert_eq!(l.status, Status::Fail);
        assert!(
            has(l, &format!("nothing listens on TCP port {port}")),
            "{l:#?}"
        );
    }
    assert_eq!(exit_code(&r), 1);
}

#[test]
fn loopback_only_listener_fails_naming_its_owner() {
    let r = fixture_doctor("loopback-only").run();
    let l = check(&r, Cause::Listener, Some(443));
    assert_eq!(l.status, Status::Fail);
    assert!(
        has(l, "listening on 127.0.0.1:443, owned by pid 1200 (apache2)"),
        "{l:#?}"
    );
    assert!(has(l, "listening on [::1]:443"), "{l:#?}");
    assert!(has(l, "loopback"), "{l:#?}");
    assert!(l.fix.contains("Listen 443"), "{}", l.fix);
    assert_eq!(check(&r, Cause::WebServer, None).status, Status::Ok);
}

#[test]
fn ipv6_only_listener_warns_from_proc_and_fails_from_ss() {
    let r = fixture_doctor("ipv6-only").run();
    let l = check(&r, Cause::Listener, Some(443));
    assert_eq!(l.status, Status::Warn, "{l:#?}");
    assert!(has(l, "net.ipv6.bindv6only = 0"), "{l:#?}");
    let ss = std::fs::read_to_string(dir("ipv6-only").join("ss-lnt.txt")).unwrap();
    let r = fixture_doctor("ipv6-only").saved_ss(ss).run();
    let l = check(&r, Cause::Listener, Some(443));
    assert_eq!(l.status, Status::Fail, "{l:#?}");
    assert!(
        has(l, "[::]:443 (IPv6 only), owned by pid 700 (nginx)"),
        "{l:#?}"
    );
    assert!(l.fix.contains("listen 443;"), "{}", l.fix);
}

#[test]
fn exhausted_resources_warn_with_numbers() {
    let r = fixture_doctor("resources").run();
    let o = check(&r, Cause::OpenFiles, None);
    assert_eq!(o.status, Status::Warn, "{o:#?}");
    assert!(
        has(o, "nginx pid 600: 60 open files of 64 allowed (93%)"),
        "{o:#?}"
    );
    assert!(o.fix.contains("worker_rlimit_nofile"));
    let q = check(&r, Cause::ListenQueue, None);
    assert_eq!(q.status, Status::Warn);
    assert!(has(q, "ListenOverflows 1234, ListenDrops 1300"), "{q:#?}");
    assert!(has(q, "0.0.0.0:443: 3 connections waiting"), "{q:#?}");
    let m = check(&r, Cause::Memory, None);
    assert_eq!(m.status, Status::Warn);
    assert!(has(m, "MemAvailable 146 MiB of 7812 MiB (1%)"), "{m:#?}");
    // Warnings alone exit 0.
    assert_eq!(exit_code(&r), 0);
}

#[test]
fn ssh_only_firewall_and_loopback_listener_fail_naming_the_policy() {
    let r = fixture_doctor("ssh-only")
        .saved_iptables(rules("iptables-ssh-only.rules"))
        .ports(&[443])
        .run();
    assert_eq!(check(&r, Cause::Listener, Some(443)).status, Status::Fail);
    let f = check(&r, Cause::Firewall, Some(443));
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(has(f, "DROP for 15 range(s)"), "{f:#?}");
    assert!(has(f, "policy DROP of filter INPUT"), "{f:#?}");
    // IPv6 goes through ip6tables, which accepts.
    assert!(has(f, "ACCEPT for 7 range(s)"), "{f:#?}");
    assert!(f.fix.contains("snippet iptables"), "{}", f.fix);
    assert_eq!(exit_code(&r), 1);
}

#[test]
fn fail2ban_chains_and_ipset_members_decide() {
    let doctor = fixture_doctor("healthy")
        .saved_iptables(rules("iptables-fail2ban.rules"))
        .saved_ipset(rules("ipset-f2b.save"))
        .ports(&[443]);
    let verdicts = doctor.firewall_verdicts(443);
    let of = |range: &str| {
        verdicts
            .iter()
            .find(|v| v.range.to_string() == range)
            .unwrap()
            .decision
            .clone()
    };
    let d = of("104.16.0.0/13");
    assert_eq!(d.verdict, Verdict::Reject, "{d:?}");
    assert!(d.by.contains("--match-set f2b-modsec src"), "{}", d.by);
    let d = of("172.64.0.0/13");
    assert_eq!(d.verdict, Verdict::Reject);
    assert!(
        d.by.starts_with("filter f2b-nginx-limit-req #1"),
        "{}",
        d.by
    );
    // The -m limit rule is undecided, but the policy accepts too: certain.
    let d = of("173.245.48.0/20");
    assert_eq!(d.verdict, Verdict::Accept, "{d:?}");
    assert_eq!(d.undecided.len(), 1, "{d:?}");
    let r = doctor.run();
    let f = check(&r, Cause::Firewall, Some(443));
    assert_eq!(f.status, Status::Fail);
    assert!(f.fix.contains("ignore list"), "{}", f.fix);
    // Without the ipset members, the set rule is unknown, never a guess.
    let blind = fixture_doctor("healthy").saved_iptables(rules("iptables-fail2ban.rules"));
    let verdicts = blind.firewall_verdicts(443);
    let d = &verdicts
        .iter()
        .find(|v| v.range.to_string() == "104.16.0.0/13")
        .unwrap()
        .decision;
    assert_eq!(d.verdict, Verdict::Unknown);
    assert!(d.by.contains("f2b-modsec"), "{}", d.by);
    let d = &verdicts
        .iter()
        .find(|v| v.range.to_string() == "172.64.0.0/13")
        .unwrap()
        .decision;
    assert_eq!(d.verdict, Verdict::Reject, "both branches reject: {d:?}");
}

/// What the real fail2ban leaves after `banip` of one edge (fixtures/doctor/lab/
/// make-per-address.sh): the ranges' first addresses get through, the banned edge does not.
#[test]
fn per_address_bans_of_fail2ban_fail_naming_the_edge_and_the_lift() {
    for (name, doctor) in [
        (
            "iptables-multiport",
            fixture_doctor("healthy")
                .saved_iptables(rules("f2b-per-address-iptables.rules"))
                .saved_ip6tables(rules("f2b-per-address-ip6tables.rules")),
        ),
        (
            "nftables-multiport",
            fixture_doctor("healthy").saved_nft(rules("f2b-per-address.nft")),
        ),
    ] {
        let r = doctor.ports(&[80, 443]).run();
        // Every range's representative is accepted: the old check said OK here.
        let verdicts = fixture_doctor("healthy")
            .saved_iptables(rules("f2b-per-address-iptables.rules"))
            .firewall_verdicts(80);
        assert!(verdicts
            .iter()
            .all(|v| v.decision.verdict == Verdict::Accept));
        let f = check(&r, Cause::Firewall, Some(80));
        assert_eq!(f.status, Status::Fail, "{name}: {f:#?}");
        let addrs: Vec<String> = f.refused.iter().map(|x| x.address.to_string()).collect();
        assert_eq!(addrs, ["173.245.49.12", "2606:4700:10::6816:1"], "{name}");
        for x in &f.refused {
            assert_eq!(x.verdict, Verdict::Reject, "{name}: {x:?}");
            assert_eq!(
                x.lift,
                [vec![
                    "fail2ban-client".to_string(),
                    "set".into(),
                    "nginx-botsearch".into(),
                    "unbanip".into(),
                    x.address.to_string()
                ]],
                "{name}: {x:?}"
            );
        }
        assert!(
            f.refused[0].by.contains("f2b"),
            "{name}: {}",
            f.refused[0].by
        );
        assert!(
            has(f, "REJECT for Cloudflare address 173.245.49.12")
                && has(
                    f,
                    "lift: `fail2ban-client set nginx-botsearch unbanip 173.245.49.12`"
                ),
            "{name}: {:#?}",
            f.evidence
        );
        assert!(!f.fix.contains("delete rule"), "{name}: {}", f.fix);
        // Port 443 is not in the jail's ports: nothing refused there.
        let f = check(&r, Cause::Firewall, Some(443));
        assert_eq!(f.status, Status::Ok, "{name}: {f:#?}");
    }
}

/// fail2ban's `iptables-ipset` banaction: the lift is fail2ban's, and the element alone is
/// `ipset del`, never the rule.
#[test]
fn an_edge_in_fail2bans_ipset_is_lifted_element_by_element() {
    let r = fixture_doctor("healthy")
        .saved_iptables("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m multiport --dports 80,443 -m set --match-set f2b-nginx-botsearch src -j REJECT --reject-with icmp-port-unreachable\nCOMMIT\n")
        .saved_ipset("create f2b-nginx-botsearch hash:ip family inet hashsize 1024 maxelem 65536 timeout 3600\nadd f2b-nginx-botsearch 173.245.49.12 timeout 3500\nadd f2b-nginx-botsearch 203.0.113.7 timeout 3500\n")
        .ports(&[443])
        .run();
    let f = check(&r, Cause::Firewall, Some(443));
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert_eq!(f.refused.len(), 1, "{f:#?}");
    let x = &f.refused[0];
    assert_eq!(x.address.to_string(), "173.245.49.12");
    assert_eq!(
        x.direct,
        [vec![
            "ipset".to_string(),
            "del".into(),
            "f2b-nginx-botsearch".into(),
            "173.245.49.12".into()
        ]]
    );
    assert_eq!(
        x.lift[0][..3],
        ["fail2ban-client", "set", "nginx-botsearch"]
    );
    assert!(!f.fix.contains("-D INPUT"), "{}", f.fix);
}

/// An address planted in a rule's comment adds a probe, never a failure: the verdict is the
/// evaluator's.
#[test]
fn an_address_in_a_comment_is_probed_but_does_not_fail() {
    let rules = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m comment --comment \"173.245.49.12 banned\" -j ACCEPT\nCOMMIT\n";
    let r = fixture_doctor("healthy")
        .saved_iptables(rules)
        .ports(&[80])
        .run();
    let f = check(&r, Cause::Firewall, Some(80));
    assert_eq!(f.status, Status::Ok, "{f:#?}");
    assert!(f.refused.is_empty());
    assert!(has(f, "from 1 Cloudflare address(es)"), "{:#?}", f.evidence);
}

#[test]
fn nft_base_chains_sets_and_undecided_rules() {
    let two = Doctor::new()
        .proc_root(dir("healthy").join("proc"))
        .live_firewall(false)
        .saved_nft(rules("nft-two-chains.nft"))
        .no_scan()
        .ports(&[443]);
    let verdicts = two.firewall_verdicts(443);
    let of = |range: &str| {
        verdicts
            .iter()
            .find(|v| v.range.to_string() == range)
            .unwrap()
            .decision
            .clone()
    };
    let d = of("104.16.0.0/13");
    assert_eq!(
        d.verdict,
        Verdict::Drop,
        "an accept in one base chain does not undo a drop in another"
    );
    assert!(
        d.by.contains("nft inet crowdsec crowdsec-chain #1"),
        "{}",
        d.by
    );
    assert_eq!(of("172.64.0.0/13").verdict, Verdict::Accept);
    assert_eq!(
        check(&two.run(), Cause::Firewall, Some(443)).status,
        Status::Fail
    );

    let limit = Doctor::new()
        .proc_root(dir("healthy").join("proc"))
        .live_firewall(false)
        .saved_nft(rules("nft-limit.nft"))
        .no_scan()
        .ports(&[443, 22]);
    let r = limit.run();
    let f = check(&r, Cause::Firewall, Some(443));
    assert_eq!(f.status, Status::Unknown, "{f:#?}");
    assert!(has(f, "limit rate 100/second"), "{f:#?}");
    assert_eq!(check(&r, Cause::Firewall, Some(22)).status, Status::Ok);
}

#[test]
fn bans_found_by_the_scan_fail() {
    // The log and the saved `fail2ban-client banned` output: a ban in force.
    let r = fixture_doctor("healthy")
        .scan_paths(vec![dir("bans")])
        .run();
    let b = check(&r, Cause::Bans, None);
    assert_eq!(b.status, Status::Fail, "{b:#?}");
    assert!(has(b, "104.16.5.5"), "{b:#?}");
    assert!(b.fix.contains("snippet fail2ban"), "{}", b.fix);
    // The ban's own lift command, not a generic one.
    assert!(
        b.fix
            .contains("fail2ban-client set nginx-limit-req unbanip 104.16.5.5"),
        "{}",
        b.fix
    );
    // nginx-limit-req reads nginx's log: a Cloudflare address in it means nginx does not
    // restore visitor addresses (the cause of the ban), never `[ OK ]`.
    let real = check(&r, Cause::RealIp, None);
    assert_eq!(real.status, Status::Warn, "{real:#?}");
    assert!(has(real, "nginx-limit-req"), "{real:#?}");
    assert!(has(real, "NOT restored"), "{real:#?}");
    assert!(
        real.fix.contains("real_ip_header CF-Connecting-IP"),
        "{}",
        real.fix
    );
    assert_eq!(exit_code(&r), 1);
}

#[test]
fn a_ban_seen_only_in_an_old_log_warns() {
    // The log alone says nothing of how long the ban lasts: possibly in force, a warning.
    let r = fixture_doctor("healthy")
        .scan_paths(vec![dir("bans").join("fail2ban.log")])
        .run();
    let b = check(&r, Cause::Bans, None);
    assert_eq!(b.status, Status::Warn, "{b:#?}");
    assert!(has(b, "104.16.5.5"), "{b:#?}");
    assert!(has(b, "unconfirmed"), "{b:#?}");
    assert_eq!(exit_code(&r), 0);
}

#[test]
fn unreadable_proc_root_is_an_error_and_json_has_the_checklist() {
    let r = Doctor::new()
        .proc_root("/nonexistent/proc")
        .live_firewall(false)
        .no_scan()
        .run();
    assert_eq!(exit_code(&r), 2, "{r:#?}");
    assert!(r.errors.iter().any(|e| e.contains("/nonexistent/proc")));
    let v = serde_json::to_value(fixture_doctor("loopback-only").run()).unwrap();
    assert_eq!(v["version"], 1);
    let listener = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cause"] == "listener")
        .unwrap();
    assert_eq!(listener["status"], "fail");
    assert_eq!(listener["port"], 80);
    assert!(listener["evidence"].is_array() && listener["fix"].is_string());
}

// ---------------------------------------------------------------------------------------------
// Network namespaces.

const SERVER: &str = "10.231.0.1";
const CLIENT: &str = "10.231.0.2";
/// The client's Cloudflare source: the first usable address of 104.16.0.0/13, the address the
/// doctor probes that range with.
const CF_SOURCE: &str = "104.16.0.1";

const LISTEN_PY: &str = r#"
import socket, sys, time
open('/proc/self/comm', 'w').write('nginx')
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
s.settimeout(1)
end = time.time() + 120
while time.time() < end:
    try:
        c, _ = s.accept()
        c.close()
    except socket.timeout:
        pass
"#;

const CONNECT_PY: &str = r#"
import errno, socket, sys
s = socket.socket()
s.settimeout(2.5)
s.bind((sys.argv[1], 0))
try:
    s.connect((sys.argv[2], int(sys.argv[3])))
    print('connected')
except socket.timeout:
    print('timeout')
except OSError as e:
    if e.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM):
        print('refused')
    elif e.errno == errno.ETIMEDOUT:
        print('timeout')
    else:
        print('error', e.errno)
"#;

fn tool(name: &str) -> Option<PathBuf> {
    [
        "/usr/sbin",
        "/sbin",
        "/usr/bin",
        "/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
    ]
    .iter()
    .map(|d| Path::new(d).join(name))
    .find(|p| p.is_file())
}

/// What the namespace tests need, or why they cannot run.
fn namespace_tools() -> Result<PathBuf, String> {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_string())
        });
    if uid.as_deref() != Some("0") {
        return Err("the network namespace tests need root".into());
    }
    for t in [
        "ip",
        "iptables-restore",
        "iptables-save",
        "ip6tables-save",
        "nft",
        "ipset",
        "timeout",
    ] {
        if tool(t).is_none() {
            return Err(format!("the network namespace tests need {t}"));
        }
    }
    tool("python3").ok_or_else(|| "the network namespace tests need python3".into())
}

fn run_ok(args: &[&str], stdin: Option<&str>) -> String {
    let mut cmd = Command::new(tool("ip").unwrap());
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("ip {args:?}: {e}"));
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "ip {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A server and a client namespace joined by a veth pair; deleted (with the listeners it
/// started) when dropped.
struct Pair {
    server: String,
    client: String,
    python: PathBuf,
    children: Vec<Child>,
}

impl Pair {
    fn new(tag: &str, python: PathBuf) -> Pair {
        let base = format!("cfbd-{}-{tag}", std::process::id());
        let pair = Pair {
            server: format!("{base}-s"),
            client: format!("{base}-c"),
            python,
            children: Vec::new(),
        };
        run_ok(&["netns", "add", &pair.server], None);
        run_ok(&["netns", "add", &pair.client], None);
        let (s, c) = (pair.server.as_str(), pair.client.as_str());
        run_ok(
            &[
                "link", "add", "vs", "netns", s, "type", "veth", "peer", "name", "vc", "netns", c,
            ],
            None,
        );
        for (ns, dev, addr) in [(s, "vs", SERVER), (c, "vc", CLIENT)] {
            run_ok(
                &["-n", ns, "addr", "add", &format!("{addr}/24"), "dev", dev],
                None,
            );
            run_ok(&["-n", ns, "link", "set", dev, "up"], None);
            run_ok(&["-n", ns, "link", "set", "lo", "up"], None);
        }
        run_ok(
            &[
                "-n",
                c,
                "addr",
                "add",
                &format!("{CF_SOURCE}/32"),
                "dev",
                "vc",
            ],
            None,
        );
        // Replies to the Cloudflare address go back through the client; this is also the
        // default route whose interface (vs) the doctor takes as Cloudflare's way in.
        run_ok(&["-n", s, "route", "add", "default", "via", CLIENT], None);
        pair
    }

    fn exec(&self, ns: &str, args: &[&str], stdin: Option<&str>) -> String {
        let mut full = vec!["netns", "exec", ns];
        full.extend_from_slice(args);
        run_ok(&full, stdin)
    }

    /// Starts a listener in the server namespace (named `nginx`) and waits until it listens.
    fn listen(&mut self, addr: &str, port: u16) -> u32 {
        let python = self.python.to_string_lossy().into_owned();
        let child = Command::new(tool("ip").unwrap())
            .args([
                "netns",
                "exec",
                &self.server,
                &python,
                "-c",
                LISTEN_PY,
                addr,
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        self.children.push(child);
        let want = format!(":{port:04X} 00000000:0000 0A");
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            let tcp = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap_or_default();
            if tcp.contains(&want) {
                return pid;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the listener on {addr}:{port} did not start");
    }

    /// Connects from the Cloudflare source: `connected`, `timeout` or `refused`.
    fn connect(&self, port: u16) -> String {
        let python = self.python.to_string_lossy().into_owned();
        self.exec(
            &self.client,
            &[
                "timeout",
                "10",
                &python,
                "-c",
                CONNECT_PY,
                CF_SOURCE,
                SERVER,
                &port.to_string(),
            ],
            None,
        )
        .trim()
        .to_string()
    }

    /// Empties the server's firewall.
    fn reset(&self) {
        self.exec(&self.server, &["nft", "flush", "ruleset"], None);
        // Emptied first: a list:set's members cannot be destroyed while it holds them.
        self.exec(&self.server, &["ipset", "flush"], None);
        self.exec(&self.server, &["ipset", "destroy"], None);
    }

    /// The doctor on what the server namespace's firewall holds now.
    fn doctor(&self, listener: u32) -> Doctor {
        let s = &self.server;
        Doctor::new()
            .proc_root("/proc")
            .net_pid(listener)
            .ports(&[443])
            .saved_iptables(self.exec(s, &["iptables-save"], None))
            .saved_ip6tables(self.exec(s, &["ip6tables-save"], None))
            .saved_ipset(self.exec(s, &["ipset", "save"], None))
            .saved_nft(self.exec(s, &["nft", "list", "ruleset"], None))
            .destination(SERVER.parse::<IpAddr>().unwrap())
            .no_scan()
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in [&self.server, &self.client] {
            let _ = Command::new(tool("ip").unwrap_or_else(|| "ip".into()))
                .args(["netns", "del", ns])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn kernel_verdict(outcome: &str) -> Verdict {
    match outcome {
        "connected" => Verdict::Accept,
        "timeout" => Verdict::Drop,
        "refused" => Verdict::Reject,
        other => panic!("unexpected connect outcome {other:?}"),
    }
}

enum Rules {
    Iptables(&'static str),
    IptablesWithIpset(&'static str, &'static str),
    Nft(&'static str),
    Both(&'static str, &'static str),
}

const IPT_POLICY_DROP: &str = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n";

fn matrix() -> Vec<(&'static str, Rules, Verdict)> {
    use Rules::*;
    vec![
        ("iptables policy DROP, SSH only", Iptables(IPT_POLICY_DROP), Verdict::Drop),
        (
            "iptables explicit DROP of 104.16.0.0/13",
            Iptables("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 104.16.0.0/13 -j DROP\nCOMMIT\n"),
            Verdict::Drop,
        ),
        (
            "iptables REJECT on 443",
            Iptables("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 104.16.0.0/13 -p tcp -m tcp --dport 443 -j REJECT --reject-with icmp-port-unreachable\nCOMMIT\n"),
            Verdict::Reject,
        ),
        (
            "iptables ACCEPT before a DROP",
            Iptables("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 104.16.0.0/13 -p tcp -m multiport --dports 80,443 -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n"),
            Verdict::Accept,
        ),
        (
            "iptables ipset drop set",
            IptablesWithIpset(
                "create cfban hash:net family inet hashsize 1024 maxelem 65536\nadd cfban 104.16.0.0/13\n",
                "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m set --match-set cfban src -j DROP\nCOMMIT\n",
            ),
            Verdict::Drop,
        ),
        (
            "iptables list:set holding a set with a nomatch exception",
            IptablesWithIpset(
                "create inner hash:net family inet hashsize 1024 maxelem 65536\nadd inner 104.16.0.0/13\nadd inner 104.16.0.0/24 nomatch\ncreate outer list:set size 8\nadd outer inner\n",
                "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m set --match-set outer src -j DROP\nCOMMIT\n",
            ),
            Verdict::Accept,
        ),
        (
            "iptables ipset hash:ip with netmask 24",
            IptablesWithIpset(
                "create nm hash:ip family inet hashsize 1024 maxelem 65536 netmask 24\nadd nm 104.16.0.77\n",
                "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m set --match-set nm src -j DROP\nCOMMIT\n",
            ),
            Verdict::Drop,
        ),
        (
            "iptables conntrack NEW accepted, policy DROP",
            Iptables("*filter\n:INPUT DROP [0:0]\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -p tcp -m conntrack --ctstate NEW -m multiport --dports 80,443 -j ACCEPT\nCOMMIT\n"),
            Verdict::Accept,
        ),
        (
            "iptables fail2ban chain with RETURN, then ACCEPT",
            Iptables("*filter\n:INPUT DROP [0:0]\n:f2b-web - [0:0]\n-A INPUT -p tcp -m multiport --dports 80,443 -j f2b-web\n-A INPUT -p tcp --dport 443 -j ACCEPT\n-A f2b-web -s 203.0.113.9/32 -j REJECT --reject-with icmp-port-unreachable\n-A f2b-web -j RETURN\nCOMMIT\n"),
            Verdict::Accept,
        ),
        (
            "iptables negated source, LOG continues, tcp-reset",
            Iptables("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 443 -j LOG --log-prefix \"web \"\n-A INPUT ! -s 10.0.0.0/8 -p tcp --dport 443 -j REJECT --reject-with tcp-reset\nCOMMIT\n"),
            Verdict::Reject,
        ),
        (
            "iptables drop on the default route's interface",
            Iptables("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -i vs -p tcp --dport 443 -j DROP\nCOMMIT\n"),
            Verdict::Drop,
        ),
        (
            "iptables goto into a dropping chain",
            Iptables("*filter\n:INPUT ACCEPT [0:0]\n:blk - [0:0]\n-A INPUT -p tcp --dport 443 -g blk\n-A blk -d 10.231.0.1/32 -j DROP\nCOMMIT\n"),
            Verdict::Drop,
        ),
        (
            "nft input chain drop",
            Nft("table inet filter {\n chain input {\n  type filter hook input priority filter; policy accept;\n  ip saddr 104.16.0.0/13 tcp dport 443 drop\n }\n}\n"),
            Verdict::Drop,
        ),
        (
            "nft two base chains, one accepts and one drops",
            Nft("table inet a {\n chain input {\n  type filter hook input priority 0; policy accept;\n  ip saddr 104.16.0.0/13 accept\n }\n}\ntable ip b {\n chain input {\n  type filter hook input priority 10; policy accept;\n  tcp dport { 80, 443 } drop\n }\n}\n"),
            Verdict::Drop,
        ),
        (
            "nft named set reject",
            Nft("table inet f {\n set bans {\n  type ipv4_addr\n  flags interval\n  elements = { 104.16.0.0/13, 198.51.100.0/24 }\n }\n chain input {\n  type filter hook input priority 0; policy accept;\n  ip saddr @bans reject\n }\n}\n"),
            Verdict::Reject,
        ),
        (
            "nft policy drop, established and SSH",
            Nft("table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n  ct state established,related accept\n  iif lo accept\n  tcp dport 22 accept\n }\n}\n"),
            Verdict::Drop,
        ),
        (
            "nft jump with return, anonymous set accept, policy drop",
            Nft("table inet filter {\n chain checks {\n  ip saddr 203.0.113.9 drop\n  return\n }\n chain input {\n  type filter hook input priority 0; policy drop;\n  jump checks\n  ct state new tcp dport { 80, 443 } accept\n }\n}\n"),
            Verdict::Accept,
        ),
        (
            "nft verdict map",
            Nft("table inet filter {\n chain input {\n  type filter hook input priority 0; policy accept;\n  ip saddr vmap { 104.16.0.0/13 : drop, 198.51.100.0/24 : accept }\n }\n}\n"),
            Verdict::Drop,
        ),
        (
            "fail2ban iptables-multiport: the edge's own address in its chain",
            Iptables("*filter\n:INPUT ACCEPT [0:0]\n:f2b-nginx-botsearch - [0:0]\n-A INPUT -p tcp -m multiport --dports 80,443 -j f2b-nginx-botsearch\n-A f2b-nginx-botsearch -s 104.16.0.1/32 -j REJECT --reject-with icmp-port-unreachable\n-A f2b-nginx-botsearch -j RETURN\nCOMMIT\n"),
            Verdict::Reject,
        ),
        (
            "fail2ban iptables-ipset: the edge's own address in its ipset",
            IptablesWithIpset(
                "create f2b-nginx-botsearch hash:ip family inet hashsize 1024 maxelem 65536 timeout 3600\nadd f2b-nginx-botsearch 104.16.0.1 timeout 3500\n",
                "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m multiport --dports 80,443 -m set --match-set f2b-nginx-botsearch src -j REJECT --reject-with icmp-port-unreachable\nCOMMIT\n",
            ),
            Verdict::Reject,
        ),
        (
            "fail2ban nftables-multiport: the edge's own address in its set",
            Nft("table inet f2b-table {\n set addr-set-nginx-botsearch {\n  type ipv4_addr\n  elements = { 104.16.0.1 }\n }\n chain f2b-chain {\n  type filter hook input priority filter - 1; policy accept;\n  tcp dport { 80, 443 } ip saddr @addr-set-nginx-botsearch reject with icmp port-unreachable\n }\n}\n"),
            Verdict::Reject,
        ),
        (
            "iptables accepts but an nft chain drops",
            Both(
                "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 443 -j ACCEPT\nCOMMIT\n",
                "table inet guard {\n chain input {\n  type filter hook input priority 5; policy accept;\n  ip saddr 104.16.0.0/13 drop\n }\n}\n",
            ),
            Verdict::Drop,
        ),
    ]
}

#[test]
fn evaluator_agrees_with_the_kernel_in_network_namespaces() {
    let tools = namespace_tools();
    let why = tools.as_ref().err().cloned().unwrap_or_default();
    let Some(python) = common::need(tools.ok(), &why) else {
        return;
    };
    let mut pair = Pair::new("m", python);
    let listener = pair.listen("0.0.0.0", 443);
    // Nothing loaded: the connection goes through.
    assert_eq!(pair.connect(443), "connected");
    let mut failures = Vec::new();
    for (name, rules, expected) in matrix() {
        pair.reset();
        let s = pair.server.clone();
        match rules {
            Rules::Iptables(r) => {
                pair.exec(&s, &["iptables-restore"], Some(r));
            }
            Rules::IptablesWithIpset(set, r) => {
                pair.exec(&s, &["ipset", "restore"], Some(set));
                pair.exec(&s, &["iptables-restore"], Some(r));
            }
            Rules::Nft(r) => {
                pair.exec(&s, &["nft", "-f", "-"], Some(r));
            }
            Rules::Both(ipt, nft) => {
                pair.exec(&s, &["iptables-restore"], Some(ipt));
                pair.exec(&s, &["nft", "-f", "-"], Some(nft));
            }
        }
        let kernel = kernel_verdict(&pair.connect(443));
        let doctor = pair.doctor(listener);
        let verdicts = doctor.firewall_verdicts(443);
        let mine = verdicts
            .iter()
            .find(|v| v.range.to_string() == "104.16.0.0/13")
            .expect("range evaluated");
        assert_eq!(mine.probe.to_string(), CF_SOURCE);
        eprintln!(
            "{name}: kernel {kernel:?}, evaluator {:?} by {}",
            mine.decision.verdict, mine.decision.by
        );
        if kernel != expected || mine.decision.verdict != kernel {
            failures.push(format!(
                "{name}: expected {expected:?}, kernel {kernel:?}, evaluator {:?} ({})",
                mine.decision.verdict, mine.decision.by
            ));
        }
    }
    pair.reset();
    assert!(
        failures.is_empty(),
        "disagreements:\n{}",
        failures.join("\n")
    );
}

#[test]
fn doctor_in_a_namespace_fails_a_loopback_listener_behind_an_ssh_only_firewall() {
    let tools = namespace_tools();
    let why = tools.as_ref().err().cloned().unwrap_or_default();
    let Some(python) = common::need(tools.ok(), &why) else {
        return;
    };
    let mut pair = Pair::new("d", python);
    let listener = pair.listen("127.0.0.1", 443);
    let s = pair.server.clone();
    pair.exec(&s, &["iptables-restore"], Some(IPT_POLICY_DROP));
    let kernel = kernel_verdict(&pair.connect(443));
    assert_eq!(kernel, Verdict::Drop);
    let r = pair.doctor(listener).run();
    let l = check(&r, Cause::Listener, Some(443));
    assert_eq!(l.status, Status::Fail, "{l:#?}");
    assert!(
        has(
            l,
            &format!("listening on 127.0.0.1:443, owned by pid {listener} (nginx)")
        ),
        "{l:#?}"
    );
    let f = check(&r, Cause::Firewall, Some(443));
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(has(f, "policy DROP of filter INPUT"), "{f:#?}");
    assert!(has(f, "arriving on vs"), "{f:#?}");
    let d = pair.doctor(listener).firewall_verdicts(443);
    let mine = d
        .iter()
        .find(|v| v.range.to_string() == "104.16.0.0/13")
        .unwrap();
    assert_eq!(mine.decision.verdict, kernel);
    assert_eq!(check(&r, Cause::WebServer, None).status, Status::Ok);
    assert_eq!(exit_code(&r), 1);
}
