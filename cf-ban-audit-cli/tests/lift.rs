//! The lift commands, run: in a network namespace of its own, each test makes bans with the
//! real program (nft, iptables and ip6tables on the nf_tables backend, ipset, ufw, a private
//! fail2ban server), runs `cf-ban-audit scan --live --format json` inside the namespace,
//! takes the `lift` argument list of one finding, runs it there as it is, scans again, and
//! checks that this ban is gone and the other bans are kept. Without root or the programs the
//! tests print `SKIP:` (with `CI` set they fail instead).

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use common::*;

/// `cf-ban-audit scan --live --format json` inside `ns` (with `extra` arguments before the
/// paths), its report.
fn scan(ns: &str, extra: &[&str], paths: &[&Path]) -> Value {
    let mut args = vec!["scan", "--live", "--format", "json", "--color", "never"];
    args.extend_from_slice(extra);
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let out = run_in(ns, &args, &[]);
    report(&out)
}

fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: exit {:?}\n{}\n{}",
            out.status.code(),
            stdout(out),
            stderr(out)
        )
    })
}

/// The findings of `tool` for `address` in a report.
fn findings<'a>(report: &'a Value, tool: &str, address: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["tool"] == tool && f["address"] == address)
        .collect()
}

/// Whether the report holds a ban of `tool` on `address` in force.
fn active(report: &Value, tool: &str, address: &str) -> bool {
    findings(report, tool, address)
        .iter()
        .any(|f| f["state"] == "active")
}

/// The `lift` argument list of the one finding of `tool` for `address`.
fn lift(report: &Value, tool: &str, address: &str) -> Vec<String> {
    let found = findings(report, tool, address);
    assert_eq!(
        found.len(),
        1,
        "one {tool} finding for {address}: {report:#}"
    );
    let argv = found[0]["lift"].as_array().unwrap_or_else(|| {
        panic!(
            "{tool} {address}: no lift command: {}\n{report:#}",
            found[0]["lift_unavailable"]
        )
    });
    argv.iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

/// Runs an argument list inside `ns` as it is, without a shell.
fn run_argv(ns: &Netns, argv: &[String]) {
    let words: Vec<&str> = argv.iter().map(String::as_str).collect();
    ns.exec(&words);
}

/// Scans, lifts `address` with its own command, scans again: the ban is gone and every one
/// of `kept` is still in force. Returns the command and the second report.
fn lift_one(
    ns: &Netns,
    tool: &str,
    address: &str,
    kept: &[&str],
    scan: &dyn Fn() -> Value,
    exec: &dyn Fn(&[String]),
) -> (Vec<String>, Value) {
    let before = scan();
    assert!(
        active(&before, tool, address),
        "{address} banned: {before:#}"
    );
    for k in kept {
        assert!(active(&before, tool, k), "{k} banned: {before:#}");
    }
    let argv = lift(&before, tool, address);
    eprintln!("{}: {address}: {argv:?}", ns.0);
    exec(&argv);
    let after = scan();
    assert!(
        !active(&after, tool, address),
        "{address} lifted by {argv:?}: {after:#}"
    );
    for k in kept {
        assert!(
            active(&after, tool, k),
            "{k} kept after {argv:?}: {after:#}"
        );
    }
    (argv, after)
}

#[test]
fn nft_lift_deletes_one_set_element() {
    let Some(ns) = Netns::new("lift-nft", &["nft"]) else {
        return;
    };
    let env = TestEnv::new();
    let ruleset = env.write(
        "cfba.nft",
        "table inet cfba {
            set blocklist {
                type ipv4_addr
                elements = { 104.16.5.5, 172.64.9.9 }
            }
            set blocklist6 {
                type ipv6_addr
                elements = { 2606:4700::1, 2606:4700::2 }
            }
            chain input {
                type filter hook input priority 0; policy accept;
                ip saddr @blocklist drop
                ip6 saddr @blocklist6 drop
                ip saddr 162.159.0.9 drop
            }
        }\n",
    );
    ns.exec(&["nft", "-f", ruleset.to_str().unwrap()]);
    let empty = TestEnv::new();
    let scan = || scan(&ns.0, &["--source", "nftables"], &[empty.path()]);
    let exec = |argv: &[String]| run_argv(&ns, argv);
    let (argv, after) = lift_one(
        &ns,
        "nftables",
        "104.16.5.5",
        &["172.64.9.9", "162.159.0.9", "2606:4700::1"],
        &scan,
        &exec,
    );
    assert_eq!(
        argv,
        [
            "nft",
            "delete",
            "element",
            "inet",
            "cfba",
            "blocklist",
            "{ 104.16.5.5 }"
        ]
    );
    lift_one(
        &ns,
        "nftables",
        "2606:4700::2",
        &["172.64.9.9", "2606:4700::1"],
        &scan,
        &exec,
    );
    // An address written in a rule: no command, the way to the rule's handle instead.
    let rule = findings(&after, "nftables", "162.159.0.9");
    assert_eq!(rule.len(), 1);
    assert!(rule[0]["lift"].is_null(), "{after:#}");
    assert_eq!(
        rule[0]["lift_unavailable"],
        "a rule, not a set element: `nft -a list chain inet cfba input` and `nft delete rule \
         inet cfba input handle N`"
    );
}

#[test]
fn iptables_and_ip6tables_lift_delete_one_rule() {
    let Some(ns) = Netns::new("lift-ipt", &["iptables", "ip6tables"]) else {
        return;
    };
    for rule in [
        &[
            "iptables",
            "-A",
            "INPUT",
            "-s",
            "104.16.5.5",
            "-p",
            "tcp",
            "--dport",
            "443",
            "-m",
            "comment",
            "--comment",
            "edge ban",
            "-j",
            "DROP",
        ][..],
        &[
            "iptables",
            "-A",
            "INPUT",
            "-s",
            "172.64.9.9",
            "-j",
            "REJECT",
        ],
        &[
            "iptables",
            "-t",
            "raw",
            "-A",
            "PREROUTING",
            "-s",
            "141.101.64.0/18",
            "-j",
            "DROP",
        ],
        &[
            "iptables",
            "-A",
            "INPUT",
            "-m",
            "iprange",
            "--src-range",
            "104.18.0.0-104.18.0.20",
            "-j",
            "DROP",
        ],
        &[
            "ip6tables",
            "-A",
            "INPUT",
            "-s",
            "2606:4700::1",
            "-j",
            "DROP",
        ],
        &[
            "ip6tables",
            "-A",
            "INPUT",
            "-s",
            "2606:4700::2",
            "-j",
            "DROP",
        ],
    ] {
        ns.exec(rule);
    }
    let empty = TestEnv::new();
    let scan = || scan(&ns.0, &["--source", "iptables"], &[empty.path()]);
    let exec = |argv: &[String]| run_argv(&ns, argv);
    let kept = ["172.64.9.9", "2606:4700::2", "104.18.0.16/30"];
    let (argv, _) = lift_one(&ns, "iptables", "104.16.5.5", &kept, &scan, &exec);
    assert_eq!(
        argv,
        [
            "iptables",
            "-t",
            "filter",
            "-D",
            "INPUT",
            "-s",
            "104.16.5.5/32",
            "-p",
            "tcp",
            "-m",
            "tcp",
            "--dport",
            "443",
            "-m",
            "comment",
            "--comment",
            "edge ban",
            "-j",
            "DROP"
        ]
    );
    let (argv, _) = lift_one(&ns, "iptables", "141.101.64.0/18", &kept, &scan, &exec);
    assert_eq!(argv[..5], ["iptables", "-t", "raw", "-D", "PREROUTING"]);
    let (argv, after) = lift_one(&ns, "iptables", "2606:4700::1", &kept, &scan, &exec);
    assert_eq!(argv[0], "ip6tables");
    // A range of several blocks: deleting its rule would lift them all.
    let range = findings(&after, "iptables", "104.18.0.16/30");
    assert!(range[0]["lift"].is_null(), "{after:#}");
    assert!(
        range[0]["lift_unavailable"]
            .as_str()
            .unwrap()
            .contains("holds more than 104.18.0.16/30"),
        "{after:#}"
    );
}

#[test]
fn ipset_lift_deletes_one_entry() {
    let Some(ns) = Netns::new("lift-ipset", &["iptables", "ipset"]) else {
        return;
    };
    ns.ipset_drop("blocklist", "hash:net", &["104.16.5.5", "172.64.0.0/16"]);
    let empty = TestEnv::new();
    let scan = || scan(&ns.0, &["--source", "ipset"], &[empty.path()]);
    let exec = |argv: &[String]| run_argv(&ns, argv);
    let (argv, _) = lift_one(&ns, "ipset", "172.64.0.0/16", &["104.16.5.5"], &scan, &exec);
    assert_eq!(argv, ["ipset", "del", "blocklist", "172.64.0.0/16"]);
}

#[test]
fn fail2ban_lift_unbans_one_address_on_the_scanned_server() {
    let Some(ns) = Netns::new("lift-f2b", &["fail2ban-client"]) else {
        return;
    };
    let Some(f2b) = Fail2ban::start_in(
        "lift fail2ban",
        &ns.0,
        Fail2banDb::Memory,
        &["lift"],
        |dir| {
            let log = dir.join("auth.log");
            std::fs::write(&log, "").unwrap();
            // The dummy action writes its bans to a file of the test's own.
            format!(
                "[lift]\nenabled = true\nfilter = sshd\nbackend = polling\nlogpath = {}\n\
                 action = dummy[target=\"{}\"]\nbantime = 1h\n",
                log.display(),
                dir.join("dummy.bans").display()
            )
        },
    ) else {
        return;
    };
    let out = f2b.client(&["set", "lift", "banip", "104.16.5.5", "172.64.9.9"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let socket = f2b.socket();
    let socket = socket.to_str().unwrap();
    let empty = TestEnv::new();
    let scan = || {
        scan(
            &ns.0,
            &["--source", "fail2ban", "--fail2ban-socket", socket],
            &[empty.path()],
        )
    };
    let exec = |argv: &[String]| run_argv(&ns, argv);
    let (argv, _) = lift_one(&ns, "fail2ban", "104.16.5.5", &["172.64.9.9"], &scan, &exec);
    // The command asks the server the scan asked.
    assert_eq!(
        argv,
        [
            "fail2ban-client",
            "-s",
            socket,
            "set",
            "lift",
            "unbanip",
            "104.16.5.5"
        ]
    );
}

/// ufw in a sandbox: its files (`/etc/ufw`, `/etc/default/ufw`) are copies bind-mounted in a
/// private mount namespace (with `/run`, where its lock is, a fresh tmpfs), inside the test's
/// network namespace, so the host's ufw and firewall are never touched.
struct UfwSandbox {
    ns: Netns,
    dir: tempfile::TempDir,
}

impl UfwSandbox {
    fn new() -> Option<UfwSandbox> {
        let ns = Netns::new("lift-ufw", &["ufw", "iptables", "ip6tables", "unshare"])?;
        let dir = tempfile::tempdir().unwrap();
        let etc = dir.path().join("etc-ufw");
        let status = Command::new("cp")
            .arg("-a")
            .arg("/etc/ufw")
            .arg(&etc)
            .status()
            .unwrap();
        assert!(status.success());
        // ufw's own first state: no rules, disabled; no sysctl changes.
        for file in ["user.rules", "user6.rules", "ufw.conf"] {
            std::fs::copy(Path::new("/usr/share/ufw").join(file), etc.join(file)).unwrap();
        }
        std::fs::write(etc.join("sysctl.conf"), "").unwrap();
        std::fs::copy("/etc/default/ufw", dir.path().join("default-ufw")).unwrap();
        Some(UfwSandbox { ns, dir })
    }

    /// `argv` run in the sandbox; its output.
    fn run(&self, argv: &[&str]) -> Output {
        const MOUNTS: &str = "d=$1; shift; mount --bind \"$d/etc-ufw\" /etc/ufw && \
            mount --bind \"$d/default-ufw\" /etc/default/ufw && \
            mount -t tmpfs cfba-run /run && exec \"$@\"";
        Command::new("ip")
            .args(["netns", "exec", &self.ns.0])
            .args(["unshare", "--mount", "--propagation", "private"])
            .args(["sh", "-c", MOUNTS, "sh"])
            .arg(self.dir.path())
            .args(argv)
            .env("CF_BAN_AUDIT_CACHE", NO_CACHE)
            .current_dir(root())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn ok(&self, argv: &[&str]) {
        let out = self.run(argv);
        assert!(
            out.status.success(),
            "{argv:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
    }

    /// `scan --live --source ufw` in the sandbox, with `paths` too.
    fn scan(&self, paths: &[&str]) -> Value {
        let mut argv = vec![
            env!("CARGO_BIN_EXE_cf-ban-audit"),
            "scan",
            "--live",
            "--source",
            "ufw",
            "--format",
            "json",
        ];
        argv.extend_from_slice(paths);
        report(&self.run(&argv))
    }
}

#[test]
fn ufw_lift_deletes_one_rule() {
    let Some(ufw) = UfwSandbox::new() else {
        return;
    };
    ufw.ok(&["ufw", "--force", "enable"]);
    for rule in [
        &["deny", "from", "104.16.5.5"][..],
        &["deny", "log", "from", "190.93.240.7"],
        &[
            "reject",
            "from",
            "131.0.72.0/22",
            "to",
            "any",
            "app",
            "WWW Full",
        ],
        &[
            "deny",
            "in",
            "on",
            "lo",
            "from",
            "172.64.9.9",
            "to",
            "any",
            "port",
            "80",
            "proto",
            "tcp",
        ],
        &[
            "route",
            "deny",
            "from",
            "141.101.64.0/18",
            "to",
            "10.0.0.5",
            "port",
            "8080",
            "proto",
            "tcp",
        ],
        &[
            "deny",
            "from",
            "2606:4700::/32",
            "port",
            "53",
            "proto",
            "udp",
        ],
        &["deny", "proto", "tcp", "from", "104.24.0.1"],
    ] {
        let mut argv = vec!["ufw"];
        argv.extend_from_slice(rule);
        ufw.ok(&argv);
    }
    let empty = TestEnv::new();
    let empty = empty.path().to_str().unwrap().to_string();
    // From `ufw status verbose` rows alone.
    let scan = || ufw.scan(&[&empty]);
    let exec = |argv: &[String]| {
        let words: Vec<&str> = argv.iter().map(String::as_str).collect();
        ufw.ok(&words);
    };
    let kept = ["172.64.9.9"];
    for (address, command) in [
        ("104.16.5.5", "ufw delete deny from 104.16.5.5"),
        ("190.93.240.7", "ufw delete deny log from 190.93.240.7"),
        (
            "131.0.72.0/22",
            "ufw delete reject from 131.0.72.0/22 to any app WWW Full",
        ),
        (
            "141.101.64.0/18",
            "ufw route delete deny from 141.101.64.0/18 to 10.0.0.5 port 8080 proto tcp",
        ),
        (
            "2606:4700::/32",
            "ufw delete deny from 2606:4700::/32 port 53 proto udp",
        ),
        ("104.24.0.1", "ufw delete deny from 104.24.0.1 proto tcp"),
    ] {
        let (argv, _) = lift_one(&ufw.ns, "ufw", address, &kept, &scan, &exec);
        assert_eq!(argv.join(" "), command);
    }
    // From the `### tuple ###` line of user.rules (the finding has the live row too).
    let tuples = || ufw.scan(&[&empty, "/etc/ufw/user.rules"]);
    let before = tuples();
    let found = findings(&before, "ufw", "172.64.9.9");
    assert!(
        found[0]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["format"] == "ufw-rules"),
        "{before:#}"
    );
    let argv = lift(&before, "ufw", "172.64.9.9");
    assert_eq!(
        argv.join(" "),
        "ufw delete deny in on lo from 172.64.9.9 to any port 80 proto tcp"
    );
    exec(&argv);
    let after = tuples();
    assert!(!active(&after, "ufw", "172.64.9.9"), "{after:#}");
    let status = ufw.run(&["ufw", "status"]);
    assert!(
        !stdout(&status).contains("DENY") && !stdout(&status).contains("REJECT"),
        "every rule deleted: {}",
        stdout(&status)
    );
}
