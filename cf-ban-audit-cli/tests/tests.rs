//! End-to-end tests: the real binary run on fixtures and on trees made in a fresh temp dir.

mod check_fail2ban;
mod check_panels;
mod common;
mod output;

use serde_json::Value;
use std::process::Command;

use common::*;

const BAN_LINE: &str =
    "2026-11-24 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 172.64.155.20\n";

/// Saved `fail2ban-client banned` output holding the ban of [`BAN_LINE`]: with it, the ban is
/// in force (the log alone says nothing of how long it lasts: unconfirmed).
const BANNED: &str = "[{'sshd': ['172.64.155.20']}]\n";

/// A tree with a ban in force: [`BAN_LINE`] and [`BANNED`].
fn banned_tree() -> TestEnv {
    let env = TestEnv::new();
    env.write("fail2ban.log", BAN_LINE);
    env.write("fail2ban-client-banned.txt", BANNED);
    env
}

#[test]
fn scan_fixtures_reports_findings_with_exit_1_and_the_v1_fields() {
    let o = run(&["scan", "--format", "json", "fixtures"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let r = json(&o);
    assert_eq!(r["version"], 1);
    assert_eq!(r["ranges"]["v4"], 15);
    assert_eq!(r["ranges"]["v6"], 7);
    assert!(r["ranges"]["source"]
        .as_str()
        .unwrap()
        .starts_with("embedded cloudflare"));
    let f = &r["findings"][0];
    for key in [
        "address",
        "range",
        "tool",
        "format",
        "scope",
        "active",
        "first_seen",
        "last_seen",
        "events",
        "locations",
    ] {
        assert!(f.get(key).is_some(), "finding lacks {key}: {f}");
    }
    assert!(f["locations"][0]["path"].is_string() && f["locations"][0]["line"].is_u64());
    assert!(
        r["diagnoses"].is_array()
            && r["files"].is_array()
            && r["errors"].as_array().unwrap().is_empty()
    );
}

#[test]
fn nothing_found_is_exit_0() {
    let env = TestEnv::new();
    env.write(
        "fail2ban.log",
        "2026-11-24 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 192.0.2.1\n",
    );
    let o = run(&["scan", env.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains("No bans of Cloudflare addresses found"));
}

#[test]
fn a_missing_path_is_exit_2_and_findings_are_still_printed() {
    let env = TestEnv::new();
    env.write("fail2ban.log", BAN_LINE);
    let missing = env.path().join("no-such-dir");
    let o = run(&[
        "scan",
        "--format",
        "jsonl",
        missing.to_str().unwrap(),
        env.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("no-such-dir") && err.lines().count() == 1,
        "{err}"
    );
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The finding, the error, the summary: a stream consumer sees the failure too.
    let kinds: Vec<&str> = lines
        .iter()
        .map(|l| l["record"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["finding", "error", "summary"]);
    assert_eq!(lines[0]["address"], "172.64.155.20");
    assert!(lines[1]["message"]
        .as_str()
        .unwrap()
        .contains("no-such-dir"));
    assert_eq!(lines[2]["errors"], 1);
}

#[test]
fn text_report_lists_active_bans_and_the_commands_that_lift_them() {
    let env = banned_tree();
    let o = run(&["scan", env.path().to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(out.contains("ACTIVE"), "{out}");
    // One ban, two sources: one row.
    assert!(
        out.contains("1 bans of Cloudflare addresses found: 1 in force, 0 unconfirmed"),
        "{out}"
    );
    assert!(out.contains("Error 521"), "{out}");
    assert!(
        out.contains("fail2ban-client set sshd unbanip 172.64.155.20"),
        "{out}"
    );
    assert!(
        out.contains("cf-ban-audit snippet fail2ban --existing /etc/fail2ban/jail.local"),
        "{out}"
    );
}

#[test]
fn forged_ban_lines_are_not_findings() {
    let env = TestEnv::new();
    env.write(
        "auth.log",
        "Nov 24 03:06:43 vm sshd[1]: Invalid user NOTICE  [sshd] Ban 104.16.0.1 from 192.0.2.1 port 22\n\
         Nov 24 03:06:44 vm sshd[1]: Invalid user fail2ban.actions[1]: NOTICE [sshd] Ban 104.16.0.2 from 192.0.2.1\n",
    );
    env.write(
        "fail2ban.log",
        "2026-11-24 03:06:43,825 fail2ban.filter         [15521]: WARNING Found a match for 'Invalid user NOTICE  [sshd] Ban 104.16.0.3' but no valid date/time found\n",
    );
    let o = run(&["scan", env.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn active_and_source_filters() {
    let env = TestEnv::new();
    env.write(
        "fail2ban.log",
        "2026-11-24 03:06:43,833 fail2ban.actions        [1]: NOTICE  [sshd] Ban 104.16.0.1\n\
         2026-11-24 03:06:44,833 fail2ban.actions        [1]: NOTICE  [sshd] Unban 104.16.0.1\n",
    );
    let o = run(&["scan", "--active", env.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let o = run(&[
        "scan",
        "--source",
        "fail2ban",
        "--format",
        "json",
        env.path().to_str().unwrap(),
    ]);
    // Lifted: found, but nothing in force.
    assert_eq!(code(&o), 0);
    assert_eq!(json(&o)["findings"][0]["active"], false);
    assert_eq!(json(&o)["findings"][0]["state"], "lifted");
    let o = run(&["scan", "--source", "nope", env.path().to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("unknown tool"), "{}", stderr(&o));
    let o = run(&[
        "scan",
        "--since",
        "2026-11-25",
        env.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    let o = run(&["scan", "--since", "whenever", env.path().to_str().unwrap()]);
    assert_eq!(code(&o), 2);
}

#[test]
fn extra_ranges_and_no_cloudflare() {
    let env = TestEnv::new();
    env.write(
        "logs/fail2ban.log",
        "2026-11-24 03:06:43,833 fail2ban.actions        [1]: NOTICE  [sshd] Ban 192.0.2.77\n",
    );
    let ranges = env.write("mine.txt", "# my proxies\n192.0.2.0/24\n");
    let o = run(&[
        "scan",
        "--no-cloudflare",
        "--ranges",
        ranges.to_str().unwrap(),
        "--format",
        "json",
        env.path().join("logs").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(json(&o)["findings"][0]["range"], "192.0.2.0/24");
    let o = run(&["scan", "--no-cloudflare", env.path().to_str().unwrap()]);
    assert_eq!(code(&o), 2);
}

#[test]
fn scanning_writes_nothing() {
    let env = TestEnv::new();
    let log = env.write("fail2ban.log", BAN_LINE);
    let before = std::fs::metadata(&log).unwrap().modified().unwrap();
    let entries_before = std::fs::read_dir(env.path()).unwrap().count();
    let o = run(&["scan", env.path().to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert_eq!(std::fs::read(&log).unwrap(), BAN_LINE.as_bytes());
    assert_eq!(std::fs::metadata(&log).unwrap().modified().unwrap(), before);
    assert_eq!(
        std::fs::read_dir(env.path()).unwrap().count(),
        entries_before
    );
}

#[test]
fn ranges_prints_the_embedded_list() {
    let o = run(&["ranges"]);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    assert!(out.starts_with("# embedded cloudflare"), "{out}");
    assert_eq!(out.lines().filter(|l| !l.starts_with('#')).count(), 22);
}

#[test]
fn formats_lists_every_fail2ban_source() {
    let out = stdout(&run(&["formats"]));
    for name in [
        "fail2ban-log",
        "syslog",
        "fail2ban-db",
        "fail2ban-status",
        "fail2ban-banned",
    ] {
        assert!(out.contains(name), "{out}");
    }
    // A format that bans nothing says it is evidence, not an empty tool column.
    let access = out.lines().find(|l| l.starts_with("access-log ")).unwrap();
    assert!(access.contains(" (evidence) "), "{access}");
}

#[test]
fn snippet_fail2ban_has_every_range() {
    let o = run(&["snippet", "fail2ban"]);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    assert!(
        out.contains("[DEFAULT]") && out.contains("ignoreip"),
        "{out}"
    );
    for net in cf_ranges() {
        assert!(out.contains(&net), "{net} missing");
    }
}

#[test]
fn snippet_fail2ban_existing_keeps_the_file() {
    let env = TestEnv::new();
    let jail = env.write(
        "jail.local",
        "[DEFAULT]\nbantime = 1h\nignoreip = 127.0.0.1/8 ::1 office.example.org ; office\n\n[sshd]\nenabled = true\n",
    );
    let o = run(&["snippet", "fail2ban", "--existing", jail.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    for keep in [
        "bantime = 1h",
        "office.example.org ; office",
        "[sshd]",
        "enabled = true",
    ] {
        assert!(out.contains(keep), "{keep} lost:\n{out}");
    }
    for net in cf_ranges() {
        assert!(out.contains(&net), "{net} missing");
    }
}

#[test]
fn snippet_existing_names_stale_overbroad_and_unread_entries() {
    let env = TestEnv::new();
    let ignore = env.write(
        "csf.ignore",
        "199.27.128.0/21 # Cloudflare (old)\n104.0.0.0/8\n103.22.200.0/22#x\n",
    );
    let o = run(&["snippet", "csf", "--existing", ignore.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let (out, err) = (stdout(&o), stderr(&o));
    for warning in [
        "stale entry 199.27.128.0/21: ",
        "over-broad entry 104.0.0.0/8: ",
        "\"103.22.200.0/22#x\" covers nothing: lfd takes the first whitespace-separated word",
    ] {
        let on_stderr = format!("cf-ban-audit: warning: {}: {warning}", ignore.display());
        assert!(err.contains(&on_stderr), "{on_stderr}\n{err}");
        assert!(
            out.contains(&format!("\n# cf-ban-audit: warning: {warning}")),
            "{warning}\n{out}"
        );
    }
    // lfd does not load `103.22.200.0/22#x`: the range is added on a line it does load.
    assert!(out.contains("\n103.22.200.0/22 # Cloudflare\n"), "{out}");
}

fn cf_ranges() -> Vec<String> {
    stdout(&run(&["ranges"]))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(String::from)
        .collect()
}

/// `scan --live` inside a namespace this test makes: real iptables, ipset and nft rules.
#[test]
fn live_scan_reads_the_firewall_in_a_namespace() {
    let Some(ns) = Netns::new("live", &["iptables", "ipset", "nft"]) else {
        return;
    };
    ns.exec(&["iptables", "-A", "INPUT", "-s", "104.16.77.1", "-j", "DROP"]);
    ns.exec(&["iptables", "-A", "INPUT", "-s", "192.0.2.1", "-j", "DROP"]);
    ns.exec(&["ipset", "create", "f2b-test", "hash:ip"]);
    ns.exec(&["ipset", "add", "f2b-test", "172.64.9.9"]);
    ns.exec(&[
        "iptables",
        "-A",
        "INPUT",
        "-m",
        "set",
        "--match-set",
        "f2b-test",
        "src",
        "-j",
        "REJECT",
    ]);
    ns.exec(&["ipset", "create", "cloudflare4", "hash:net"]);
    ns.exec(&["ipset", "add", "cloudflare4", "173.245.48.0/20"]);
    ns.exec(&[
        "iptables",
        "-A",
        "INPUT",
        "-p",
        "tcp",
        "--dport",
        "443",
        "-m",
        "set",
        "--match-set",
        "cloudflare4",
        "src",
        "-j",
        "ACCEPT",
    ]);
    ns.exec(&["nft", "add", "table", "inet", "cfbatest"]);
    ns.exec(&[
        "nft",
        "add",
        "set",
        "inet",
        "cfbatest",
        "blockers",
        "{ type ipv4_addr; }",
    ]);
    ns.exec(&[
        "nft",
        "add",
        "element",
        "inet",
        "cfbatest",
        "blockers",
        "{ 104.17.1.1 }",
    ]);
    ns.exec(&[
        "nft",
        "add",
        "chain",
        "inet",
        "cfbatest",
        "input",
        "{ type filter hook input priority 0; policy accept; }",
    ]);
    ns.exec(&[
        "nft",
        "add",
        "rule",
        "inet",
        "cfbatest",
        "input",
        "ip",
        "saddr",
        "@blockers",
        "drop",
    ]);

    let empty = TestEnv::new();
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.0,
            env!("CARGO_BIN_EXE_cf-ban-audit"),
            "scan",
            "--live",
            "--format",
            "json",
        ])
        .arg(empty.path())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let found: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["tool"].as_str().unwrap().to_string(),
                f["address"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The `f2b-test` set is fail2ban's (its iptables-ipset actions name it so): evidence of
    // fail2ban's ban in jail `test`.
    for want in [
        ("iptables", "104.16.77.1"),
        ("fail2ban", "172.64.9.9"),
        ("nftables", "104.17.1.1"),
    ] {
        assert!(
            found.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} missing from {found:?}"
        );
    }
    assert!(
        found.iter().all(|(_, a)| a != "173.245.48.0/20"),
        "allow set reported: {found:?}"
    );
    let files: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        files.iter().any(|p| p.starts_with("live: iptables-save")),
        "{files:?}"
    );
}

#[test]
fn check_names_gaps_of_an_old_jail_local_and_passes_our_own_snippets() {
    let env = TestEnv::new();
    let old = env.write(
        "jail.local",
        "[DEFAULT]\nbantime = 1h\nignoreip = 127.0.0.1/8 ::1 199.27.128.0/21 173.245.48.0/20 103.21.244.0/22\n\n[sshd]\nenabled = true\n",
    );
    let o = run(&["check", old.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("104.16.0.0/13") && out.contains("2606:4700::/32"),
        "{out}"
    );
    assert!(
        out.contains("no longer Cloudflare's: 199.27.128.0/21"),
        "{out}"
    );

    let merged = stdout(&run(&[
        "snippet",
        "fail2ban",
        "--existing",
        old.to_str().unwrap(),
    ]));
    let merged_path = env.write("merged/jail.local", merged);
    let mut files = vec![merged_path];
    for (target, name) in [
        ("nginx-realip", "realip.conf"),
        ("csf", "csf.ignore"),
        ("nftables", "cf.nft"),
    ] {
        files.push(env.write(name, stdout(&run(&["snippet", target]))));
    }
    let args: Vec<&str> = std::iter::once("check")
        .chain(files.iter().map(|p| p.to_str().unwrap()))
        .collect();
    let o = run(&args);
    // The merged file keeps the retired 199.27.128.0/21 the user had: that is still reported.
    let out = stdout(&o);
    assert!(
        out.contains("no longer Cloudflare's: 199.27.128.0/21"),
        "{out}"
    );
    let o = run(&[
        "check",
        "--format",
        "json",
        files[1].to_str().unwrap(),
        files[2].to_str().unwrap(),
        files[3].to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert_eq!(json(&o)["files"].as_array().unwrap().len(), 3);
    let o = run(&["check", env.path().join("missing.conf").to_str().unwrap()]);
    assert_eq!(code(&o), 2);
}

/// A one-thread HTTP server on 127.0.0.1 that answers each request with the next
/// (status, body) and then stops.
fn serve(answers: Vec<(u16, String)>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for (status, body) in answers {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .unwrap();
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                line.clear();
            }
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}/client/v4/ips")
}

#[test]
fn ranges_update_fetches_caches_and_is_used() {
    let env = TestEnv::new();
    let cache = env.path().join("cache/ips.json");
    let cache = cache.to_str().unwrap();
    let answer = r#"{"result":{"ipv4_cidrs":["173.245.48.0/20","198.18.0.0/15"],"ipv6_cidrs":["2606:4700::/32"],"etag":"feedbeef"},"success":true,"errors":[],"messages":[]}"#;
    let url = serve(vec![(200, answer.to_string()), (500, "oops".to_string())]);
    let o = run_with(&["ranges", "update", "--ranges-url", &url], None, cache);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Updated: 2 IPv4 and 1 IPv6 ranges") && stdout(&o).contains("feedbeef"),
        "{}",
        stdout(&o)
    );
    let listed = stdout(&run_with(&["ranges"], None, cache));
    assert!(
        listed.starts_with("# cloudflare fetched") && listed.contains("etag feedbeef"),
        "{listed}"
    );
    assert!(
        listed.contains("198.18.0.0/15") && !listed.contains("104.16.0.0/13"),
        "{listed}"
    );
    // scan uses the cached list.
    env.write(
        "logs/fail2ban.log",
        "2026-11-24 03:06:43,833 fail2ban.actions        [1]: NOTICE  [sshd] Ban 198.18.0.9\n",
    );
    let o = run_with(
        &[
            "scan",
            "--format",
            "json",
            env.path().join("logs").to_str().unwrap(),
        ],
        None,
        cache,
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(json(&o)["findings"][0]["range"], "198.18.0.0/15");
    // A failed fetch is an error and leaves the cache as it was.
    let before = std::fs::read(cache).unwrap();
    let o = run_with(&["ranges", "update", "--ranges-url", &url], None, cache);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("127.0.0.1"), "{}", stderr(&o));
    assert_eq!(std::fs::read(cache).unwrap(), before);
}

/// The real fail2ban with `cf-ban-audit contains <ip>` as its ignorecommand: the Cloudflare
/// address is ignored "by command" and never banned; the documentation address is banned.
#[test]
fn fail2ban_ignorecommand_never_bans_cloudflare() {
    let Some(f2b) = Fail2ban::start("ignorecommand test", |t| {
        std::fs::write(t.join("app.log"), "").unwrap();
        std::fs::write(
            t.join("conf/filter.d/cfba-test.conf"),
            "[Definition]\nfailregex = ^auth failure from <HOST>$\ndatepattern = {NONE}\n",
        )
        .unwrap();
        format!(
            "[DEFAULT]\nbackend = polling\nignoreself = false\nignoreip = 127.0.0.1/8\n\
             ignorecommand = {bin} contains <ip>\n\n[cfba-test]\nenabled = true\nfilter = cfba-test\n\
             logpath = {td}/app.log\nmaxretry = 1\nfindtime = 1h\nbantime = 1h\naction = dummy[target={td}/dummy.txt]\n",
            bin = env!("CARGO_BIN_EXE_cf-ban-audit"),
            td = t.display()
        )
    }) else {
        return;
    };
    let t = f2b.dir.path();
    let log = t.join("app.log");
    std::fs::write(
        &log,
        "auth failure from 104.16.123.4\nauth failure from 192.0.2.77\n",
    )
    .unwrap();
    let f2b_log = t.join("fail2ban.log");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut text = String::new();
    while std::time::Instant::now() < deadline {
        text = std::fs::read_to_string(&f2b_log).unwrap_or_default();
        if text.contains("Ban 192.0.2.77") && text.contains("Ignore 104.16.123.4") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(
        text.contains("[cfba-test] Ignore 104.16.123.4 by command"),
        "{text}"
    );
    assert!(text.contains("[cfba-test] Ban 192.0.2.77"), "{text}");
    assert!(!text.contains("Ban 104.16.123.4"), "{text}");
    let banned = stdout(&f2b.client(&["banned"]));
    assert!(
        banned.contains("192.0.2.77") && !banned.contains("104.16.123.4"),
        "{banned}"
    );
}

/// The real fail2ban's `hostsdeny` action writes `/etc/hosts.deny` (here a private copy): its
/// bans of Cloudflare addresses are found and active, an address it unbanned is gone.
#[test]
fn fail2ban_hostsdeny_bans_are_found() {
    let Some(f2b) = Fail2ban::start("hostsdeny test", |t| {
        std::fs::write(t.join("app.log"), "").unwrap();
        std::fs::write(t.join("hosts.deny"), "# hosts_access(5)\n").unwrap();
        format!(
            "[DEFAULT]\nbackend = polling\nignoreip =\n\n[sshd]\nenabled = true\n\
             logpath = {td}/app.log\naction = hostsdeny[file=\"{td}/hosts.deny\"]\n",
            td = t.display()
        )
    }) else {
        return;
    };
    let t = f2b.dir.path();
    let ban = f2b.client(&[
        "set",
        "sshd",
        "banip",
        "104.16.0.1",
        "2606:4700::6810:84e5",
        "192.0.2.7",
        "172.64.155.20",
    ]);
    assert!(ban.status.success(), "{}", stderr(&ban));
    let unban = f2b.client(&["set", "sshd", "unbanip", "172.64.155.20"]);
    assert!(unban.status.success(), "{}", stderr(&unban));
    let deny = t.join("hosts.deny");
    let o = run(&["scan", "--format", "json", deny.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut found: Vec<(String, String, bool)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["address"].as_str().unwrap().to_string(),
                f["format"].as_str().unwrap().to_string(),
                f["active"].as_bool().unwrap(),
            )
        })
        .collect();
    found.sort();
    let text = std::fs::read_to_string(&deny).unwrap();
    assert_eq!(
        found,
        [
            ("104.16.0.1".into(), "hosts-deny".into(), true),
            ("2606:4700::6810:84e5".into(), "hosts-deny".into(), true)
        ],
        "{text}"
    );
}

/// `scan --live --fail2ban-socket` asks a private fail2ban server (not the machine's) and finds
/// the ban it holds; the environment variable does the same; a socket where no server listens
/// is an error (exit status 2) that names the socket, in the text and the JSON report.
#[test]
fn live_scan_asks_the_fail2ban_server_on_the_socket_given() {
    // `--source fail2ban` throughout: the other tools' live reads (a cscli without its Local API
    // on the host running the test, say) are not this test's subject.
    let Some(f2b) = Fail2ban::start("fail2ban socket test", |t| {
        std::fs::write(t.join("app.log"), "").unwrap();
        format!(
            "[DEFAULT]\nbackend = polling\nignoreip =\n\n[sshd]\nenabled = true\n\
             logpath = {td}/app.log\naction = dummy[target=\"{td}/dummy.bans\"]\n",
            td = t.display()
        )
    }) else {
        return;
    };
    let Some(ns) = Netns::new("f2bsock", &[]) else {
        return;
    };
    let ban = f2b.client(&["set", "sshd", "banip", "104.16.0.1", "192.0.2.7"]);
    assert!(ban.status.success(), "{}", stderr(&ban));
    let empty = TestEnv::new();
    let socket = f2b.socket();
    let socket = socket.to_str().unwrap();
    let dir = empty.path().to_str().unwrap();

    let by_flag = run_in(
        &ns.0,
        &[
            "scan",
            "--live",
            "--source",
            "fail2ban",
            "--fail2ban-socket",
            socket,
            "--format",
            "json",
            dir,
        ],
        &[],
    );
    let by_env = run_in(
        &ns.0,
        &[
            "scan", "--live", "--source", "fail2ban", "--format", "json", dir,
        ],
        &[("CF_BAN_AUDIT_FAIL2BAN_SOCKET", socket)],
    );
    for o in [&by_flag, &by_env] {
        assert_eq!(code(o), 1, "{}{}", stdout(o), stderr(o));
        let r = json(o);
        let found: Vec<(&str, &str, &str, bool)> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["tool"].as_str().unwrap(),
                    f["scope"].as_str().unwrap(),
                    f["address"].as_str().unwrap(),
                    f["active"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(found, [("fail2ban", "sshd", "104.16.0.1", true)], "{r:#}");
        let label = format!("live: fail2ban-client -s {socket} banned");
        assert!(
            r["files"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["path"] == label.as_str() && f["format"] == "fail2ban-banned"),
            "{r:#}"
        );
    }

    let wrong = format!("{dir}/no-server.sock");
    let named = format!("live read failed (fail2ban socket {wrong})");
    let o = run_in(
        &ns.0,
        &[
            "scan",
            "--live",
            "--source",
            "fail2ban",
            "--fail2ban-socket",
            &wrong,
            dir,
        ],
        &[],
    );
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains(&named), "{}", stderr(&o));
    assert!(stdout(&o).contains(", 1 errors."), "{}", stdout(&o));
    let o = run_in(
        &ns.0,
        &[
            "scan", "--live", "--source", "fail2ban", "--format", "json", dir,
        ],
        &[("CF_BAN_AUDIT_FAIL2BAN_SOCKET", &wrong)],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let r = json(&o);
    let errors = r["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{r:#}");
    assert_eq!(
        errors[0]["path"],
        format!("live: fail2ban-client -s {wrong} banned").as_str()
    );
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains(&named), "{message}");
    assert!(
        message.contains("Failed to access socket path"),
        "{message}"
    );
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let o = run(&["completions", shell]);
        assert_eq!(code(&o), 0);
        assert!(
            stdout(&o).contains("cf-ban-audit") || stdout(&o).contains("cf__ban__audit"),
            "{shell}"
        );
    }
    let man = stdout(&run(&["man"]));
    assert!(
        man.starts_with(".TH CF-BAN-AUDIT 1"),
        "{}",
        &man[..80.min(man.len())]
    );
    assert!(man.contains("scan") && man.contains("snippet"));
}

#[test]
fn prometheus_and_nagios_output() {
    let env = banned_tree();
    let o = run(&[
        "scan",
        "--format",
        "prometheus",
        env.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(out.contains("# TYPE cf_ban_audit_findings gauge"), "{out}");
    assert!(
        out.contains("cf_ban_audit_active_findings{tool=\"fail2ban\",scope=\"sshd\"} 1"),
        "{out}"
    );
    assert!(
        out.contains("cf_ban_audit_files_read 2")
            && out.contains("cf_ban_audit_last_scan_timestamp_seconds "),
        "{out}"
    );
    let o = run(&["scan", "--format", "nagios", env.path().to_str().unwrap()]);
    assert_eq!(code(&o), 2, "CRITICAL");
    assert!(
        stdout(&o).starts_with("CF-BAN-AUDIT CRITICAL - 1 Cloudflare addresses banned now"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("| 'active'=1;0;0;0 'unconfirmed'=0;0;;0 'challenge'=0;0;;0 "),
        "{}",
        stdout(&o)
    );
    // The log alone: possibly in force, a warning (the line is older than the plugin's
    // default window of 7 days for unconfirmed bans: --past-since all counts it).
    let log_only = TestEnv::new();
    log_only.write("fail2ban.log", BAN_LINE);
    let o = run(&[
        "scan",
        "--format",
        "nagios",
        "--past-since",
        "all",
        log_only.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "WARNING: {}", stdout(&o));
    assert!(
        stdout(&o)
            .starts_with("CF-BAN-AUDIT WARNING - 1 bans of Cloudflare addresses possibly in force"),
        "{}",
        stdout(&o)
    );
    let o = run(&[
        "scan",
        "--format",
        "prometheus",
        log_only.path().to_str().unwrap(),
    ]);
    assert!(
        stdout(&o)
            .contains("cf_ban_audit_unconfirmed_findings{tool=\"fail2ban\",scope=\"sshd\"} 1"),
        "{}",
        stdout(&o)
    );
    let clean = TestEnv::new();
    let o = run(&["scan", "--format", "nagios", clean.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).starts_with("CF-BAN-AUDIT OK"));
    let o = run(&[
        "scan",
        "--format",
        "nagios",
        clean.path().join("nope").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 3, "UNKNOWN: {}", stdout(&o));
}

#[test]
fn quiet_and_color() {
    let env = banned_tree();
    let o = run(&["scan", "-q", env.path().to_str().unwrap()]);
    assert_eq!((code(&o), stdout(&o).as_str()), (1, ""));
    let o = run(&["scan", "--color", "always", env.path().to_str().unwrap()]);
    assert!(stdout(&o).contains("\x1b[1;31m"), "{}", stdout(&o));
    let o = run(&["scan", env.path().to_str().unwrap()]);
    assert!(!stdout(&o).contains('\x1b'), "not a terminal: no colour");
}

/// The (host, address) of each finding of a `merge --format json` output, in its order.
fn host_addresses(m: &serde_json::Value) -> Vec<(String, String)> {
    m["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["host"].as_str().unwrap().into(),
                f["address"].as_str().unwrap().into(),
            )
        })
        .collect()
}
#[test]
fn merge_combines_hosts() {
    let env = TestEnv::new();
    env.write("a/fail2ban.log", BAN_LINE);
    env.write(
        "b/fail2ban.log",
        "2026-11-24 03:06:43,833 fail2ban.actions        [1]: NOTICE  [nginx-http-auth] Ban 104.16.9.9\n",
    );
    let mut paths = Vec::new();
    for (dir, host) in [("a", "web1"), ("b", "web2")] {
        let o = run(&[
            "scan",
            "--format",
            "json",
            env.path().join(dir).to_str().unwrap(),
        ]);
        let mut report = json(&o);
        report["host"] = Value::String(host.into());
        paths.push(env.write(
            &format!("{host}.json"),
            serde_json::to_vec(&report).unwrap(),
        ));
    }
    let args: Vec<&str> = ["merge", "--format", "json"]
        .into_iter()
        .chain(paths.iter().map(|p| p.to_str().unwrap()))
        .collect();
    let o = run(&args);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let m = json(&o);
    assert_eq!(m["hosts"].as_array().unwrap().len(), 2);
    let found = host_addresses(&m);
    assert_eq!(
        found,
        [
            ("web2".to_string(), "104.16.9.9".to_string()),
            ("web1".into(), "172.64.155.20".into())
        ]
    );
    let text = stdout(&run(&[
        "merge",
        paths[0].to_str().unwrap(),
        paths[1].to_str().unwrap(),
    ]));
    assert!(
        text.contains("web1: 1 findings") && text.contains("web2"),
        "{text}"
    );
    let bad = env.write("bad.json", "{}");
    assert_eq!(code(&run(&["merge", bad.to_str().unwrap()])), 2);
}

#[test]
fn contains_for_fail2ban_ignorecommand() {
    assert_eq!(code(&run(&["contains", "104.16.0.1"])), 0);
    assert_eq!(
        code(&run(&["contains", "::ffff:172.64.0.1", "2606:4700::1"])),
        0
    );
    assert_eq!(code(&run(&["contains", "104.16.0.1", "192.0.2.1"])), 1);
    assert_eq!(code(&run(&["contains", "not-an-ip"])), 2);
}

#[test]
fn output_file_is_written_whole() {
    let env = TestEnv::new();
    env.write("logs/fail2ban.log", BAN_LINE);
    let target = env.path().join("metrics/cf.prom");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    let o = run(&[
        "scan",
        "--format",
        "prometheus",
        "-o",
        target.to_str().unwrap(),
        env.path().join("logs").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1);
    assert_eq!(stdout(&o), "");
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(
        text.contains("cf_ban_audit_findings{tool=\"fail2ban\",scope=\"sshd\"} 1"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_dir(target.parent().unwrap()).unwrap().count(),
        1,
        "no temp file left"
    );
}

/// Lines that looked like entries but could not be read show in every output: the text's
/// summary (with the first one), Prometheus and Nagios perfdata; JSON quotes the first ones.
#[test]
fn malformed_lines_show_in_every_output() {
    let env = TestEnv::new();
    // A file without malformed lines beside it: counted out of the summary.
    env.write(
        "hosts.deny",
        "ALL: 104.16.0.1\nsshd: 104.16.0.2 \\\n 104.16.0.3\n",
    );
    let list = env.write(
        "csf.deny",
        "104.16.0.4\nnot-an-address.example # a host name csf cannot block\n",
    );
    let dir = list.parent().unwrap().to_str().unwrap().to_string();
    let text = stdout(&run(&["scan", &dir]));
    assert!(
        text.contains("1 lines in 1 files looked like entries but could not be read:\n  /"),
        "{text}"
    );
    assert!(text.contains("csf.deny:2: "), "{text}");
    let prom = stdout(&run(&["scan", "--format", "prometheus", &dir]));
    assert!(
        prom.contains("\ncf_ban_audit_malformed_lines 1\n"),
        "{prom}"
    );
    // Per file, for the files with some only.
    assert!(
        prom.contains(&format!(
            "\ncf_ban_audit_file_malformed_lines{{path=\"{}\",format=\"csf-deny\"}} 1\n",
            list.display()
        )),
        "{prom}"
    );
    assert_eq!(
        prom.matches("cf_ban_audit_file_malformed_lines{").count(),
        1
    );
    let nagios = stdout(&run(&["scan", "--format", "nagios", &dir]));
    assert!(nagios.contains(" 'malformed'=1;;;0"), "{nagios}");
    let json: serde_json::Value =
        serde_json::from_slice(&run(&["scan", "--format", "json", &dir]).stdout).unwrap();
    let files = json["files"].as_array().unwrap();
    let csf = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("csf.deny"))
        .unwrap();
    assert_eq!(csf["malformed"], 1);
    assert_eq!(csf["malformed_samples"][0]["line"], 2);
    // JSON lines: the file's record and the summary's count.
    let jsonl = stdout(&run(&["scan", "--format", "jsonl", &dir]));
    let records: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let file = records
        .iter()
        .find(|r| r["record"] == "file")
        .expect("a file record");
    assert_eq!(file["malformed"], 1);
    assert_eq!(file["malformed_samples"][0]["line"], 2);
    assert_eq!(records.last().unwrap()["malformed"], 1);
}

/// A ban read from output that names no jail is lifted by address, never with the made-up
/// scope as a jail name.
#[test]
fn a_ban_without_a_jail_is_lifted_by_address() {
    let env = TestEnv::new();
    let saved = env.write(
        "bans.txt",
        "104.16.9.9 \t2026-11-24 03:06:42 + -1 = 9999-12-31 23:59:59\n",
    );
    let o = run(&["scan", saved.to_str().unwrap()]);
    let text = stdout(&o);
    assert!(
        text.contains("  fail2ban-client unban 104.16.9.9\n"),
        "{text}"
    );
    assert!(!text.contains("jail not named' unbanip"), "{text}");
}

/// The printed lift command of an ipset ban, run in a namespace with the real ipset, removes
/// that one entry: a live scan then shows it gone and the other entry of the set kept.
#[test]
fn ipset_lift_command_removes_one_entry() {
    let Some(ns) = Netns::new("lift", &["iptables", "ipset"]) else {
        return;
    };
    ns.ipset_drop("blocklist", "hash:ip", &["172.64.9.9", "104.16.5.5"]);
    let empty = TestEnv::new();
    let scan = || {
        let out = Command::new("ip")
            .args(["netns", "exec", &ns.0])
            .arg(env!("CARGO_BIN_EXE_cf-ban-audit"))
            .args(["scan", "--live", "--source", "ipset"])
            .arg(empty.path())
            .output()
            .unwrap();
        stdout(&out)
    };
    let before = scan();
    let lifts: Vec<&str> = before
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("ipset del "))
        .collect();
    assert_eq!(
        lifts,
        [
            "ipset del blocklist 104.16.5.5",
            "ipset del blocklist 172.64.9.9"
        ],
        "{before}"
    );
    let argv: Vec<&str> = lifts[0].split(' ').collect();
    ns.exec(&argv);
    let after = scan();
    assert!(!after.contains("104.16.5.5"), "{after}");
    assert!(after.contains("ipset del blocklist 172.64.9.9"), "{after}");
}

/// Each finding says where its ban stands: a one-off WAF denial is `denied`, never "lifted";
/// a ban whose unban was read is `lifted`; the text's STATE column says the same.
#[test]
fn findings_say_where_their_ban_stands() {
    let env = TestEnv::new();
    let log = env.write(
        "fail2ban.log",
        "2026-11-24 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 172.64.155.20\n\
         2026-11-24 03:16:43,833 fail2ban.actions        [15521]: NOTICE  [sshd] Unban 172.64.155.20\n",
    );
    let json: serde_json::Value =
        serde_json::from_slice(&run(&["scan", "--format", "json", log.to_str().unwrap()]).stdout)
            .unwrap();
    assert_eq!(json["findings"][0]["state"], "lifted", "{json}");
    assert_eq!(json["findings"][0]["active"], false);
    let modsec = run(&[
        "scan",
        "--format",
        "json",
        "fixtures/modsecurity/v2-serial.json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&modsec.stdout).unwrap();
    let states: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["state"].as_str().unwrap())
        .collect();
    assert!(
        !states.is_empty() && states.iter().all(|s| *s == "denied"),
        "{states:?}"
    );
    let text = stdout(&run(&["scan", "fixtures/modsecurity/v2-serial.json"]));
    assert!(
        text.contains("  denied ") && !text.contains("lifted"),
        "{text}"
    );
}

/// `--fail2ban-config` (or its environment variable) gives each jail's ban length: a ban the
/// log alone speaks of ends when `bantime` says, and the report names the configuration.
#[test]
fn fail2ban_config_gives_ban_lengths() {
    let env = TestEnv::new();
    env.write("logs/fail2ban.log", BAN_LINE);
    env.write(
        "conf/jail.local",
        "[DEFAULT]\nbantime = 10m\n\n[sshd]\nenabled = true\n",
    );
    let logs = env.path().join("logs");
    // Without it: possibly in force, a warning.
    let o = run(&["scan", "--format", "json", logs.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert_eq!(json(&o)["findings"][0]["state"], "unconfirmed");
    // With it: a ten-minute ban of 2026-11-24 ended long ago.
    let conf = env.path().join("conf");
    let o = run(&[
        "scan",
        "--format",
        "json",
        "--fail2ban-config",
        conf.to_str().unwrap(),
        logs.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let report = json(&o);
    assert_eq!(report["findings"][0]["state"], "expired");
    assert!(
        report["notes"][0]
            .as_str()
            .unwrap()
            .contains("fail2ban's jail configuration in"),
        "{report}"
    );
    // The text report says which configuration it used.
    let o = run_at(
        "200",
        &[
            "scan",
            "--fail2ban-config",
            conf.to_str().unwrap(),
            logs.to_str().unwrap(),
        ],
    );
    assert!(
        stdout(&o).contains("\nNote: fail2ban's jail configuration in"),
        "{}",
        stdout(&o)
    );
}

/// The binary run with `COLUMNS` set, as a terminal of that width would have it.
fn run_at(columns: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cf-ban-audit"))
        .args(args)
        .env("COLUMNS", columns)
        .env("CF_BAN_AUDIT_CACHE", NO_CACHE)
        .current_dir(root())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

/// The lines of the text report's lift section that are commands (not `# ...: no command`).
fn lift_commands(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| !l.starts_with("Lift the bans"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect()
}

/// At 80 columns no line of the report is wider, but the commands that lift bans (printed
/// whole); no address is cut, every ban in force has its lift line.
#[test]
fn the_text_report_fits_80_columns() {
    use unicode_width::UnicodeWidthStr;
    let o = run_at("80", &["scan", "fixtures"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let text = stdout(&o);
    let commands = lift_commands(&text);
    assert!(commands.len() > 50, "{commands:#?}");
    // The lift section with its wrapped comments joined back.
    let mut lifts = String::new();
    for line in text.lines().skip_while(|l| !l.starts_with("Lift the bans")) {
        match line.strip_prefix("  #   ") {
            Some(more) => lifts.push_str(&format!(" {more}")),
            None => lifts.push_str(&format!("\n{line}")),
        }
    }
    for line in text.lines() {
        assert!(
            line.width() <= 80 || commands.contains(&line),
            "{} columns: {line:?}",
            line.width()
        );
    }
    let json = json(&run(&["scan", "--format", "json", "fixtures"]));
    for f in json["findings"].as_array().unwrap() {
        let address = f["address"].as_str().unwrap();
        let row = format!("  {address}  ");
        assert!(text.contains(&row), "no row holds {address} whole");
        let lift = match &f["lift"] {
            Value::Array(argv) => {
                // Each word quoted for a POSIX shell when it needs it (a comment with spaces
                // in an iptables rule, a rich rule).
                let words: Vec<String> = argv
                    .iter()
                    .map(|w| {
                        let w = w.as_str().unwrap();
                        if !w.is_empty()
                            && w.chars()
                                .all(|c| c.is_ascii_alphanumeric() || "._-/:@%+=,".contains(c))
                        {
                            w.to_string()
                        } else {
                            format!("'{}'", w.replace('\'', r"'\''"))
                        }
                    })
                    .collect();
                format!("  {}\n", words.join(" "))
            }
            _ => format!(" {address}: no command: "),
        };
        if matches!(f["state"].as_str(), Some("active" | "unconfirmed")) {
            assert!(lifts.contains(&lift), "no lift line {lift:?}");
        }
    }
    // The 80-column table shortens a long place from the left, keeping its file and line.
    assert!(
        text.contains("at …/20261124-0407/20261124-040739-awUNi2OBd1tlo7gEJJZ43wAAAA8:1\n"),
        "{text}"
    );
}

/// `--wide` prints the tables whole: full paths, every source, nothing cut.
#[test]
fn wide_keeps_full_paths() {
    let path = "fixtures/modsecurity/apache-concurrent/audit/www-data/20261124/20261124-0407/\
                20261124-040739-awUNi2OBd1tlo7gEJJZ43wAAAA8:1";
    let o = run_at("80", &["scan", "--wide", "fixtures"]);
    let row = |text: &str| {
        text.lines()
            .find(|l| l.contains("  2606:4700:90:1::25  ") && l.contains("  300001  "))
            .unwrap_or_else(|| panic!("{text}"))
            .to_string()
    };
    let text = stdout(&o);
    let wide = row(&text);
    assert!(wide.ends_with(&format!("  {path}")), "{wide}");
    assert!(wide.contains("  modsec-audit+modsec-json  "), "{wide}");
    assert!(!text.contains("…/"), "{text}");
    // Without it, the same row is shortened to fit.
    // (How much is cut depends on the other columns of the table: its file and line stay.)
    let narrow = row(&stdout(&run_at("200", &["scan", "fixtures"])));
    assert!(
        narrow.contains("  …/")
            && narrow.ends_with("/20261124-0407/20261124-040739-awUNi2OBd1tlo7gEJJZ43wAAAA8:1"),
        "{narrow}"
    );
}

/// A ban read from the log and from saved `fail2ban-client banned` output is one row, whose
/// sources name both, the listing (which the state follows) first.
#[test]
fn one_ban_two_sources_is_one_row() {
    let env = banned_tree();
    let dir = env.path().to_str().unwrap();
    for columns in ["200", "80"] {
        let text = stdout(&run_at(columns, &["scan", dir]));
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(" 172.64.155.20 ") && !l.contains("unbanip"))
            .collect();
        assert_eq!(rows.len(), 1, "{text}");
        assert!(rows[0].starts_with("  ACTIVE "), "{text}");
        assert!(text.contains("fail2ban-banned+fail2ban-log"), "{text}");
        assert!(text.contains("fail2ban-client-banned.txt:1"), "{text}");
    }
}

/// STATE says how long: an unconfirmed ban its age, an active one its end (or permanent);
/// sources that disagree get a mark and the conflict under the table.
#[test]
fn states_say_how_long_and_conflicts_are_shown() {
    let env = TestEnv::new();
    env.write("log-only/fail2ban.log", BAN_LINE);
    env.write(
        "times/bans.txt",
        "104.16.9.9 \t2026-11-24 03:06:42 + 600000000 = 2045-09-24 03:06:42\n",
    );
    let unban = BAN_LINE
        .replace("03:06:43", "03:16:43")
        .replace("Ban", "Unban");
    env.write("conflict/fail2ban.log", format!("{BAN_LINE}{unban}"));
    env.write("conflict/fail2ban-client-banned.txt", BANNED);
    let scan = |dir: &str| {
        let path = env.path().join(dir);
        stdout(&run_at("200", &["scan", path.to_str().unwrap()]))
    };
    let text = scan("log-only");
    assert!(text.contains("  UNCONFIRMED banned "), "{text}");
    assert!(
        text.contains(" ago, length unknown  172.64.155.20  "),
        "{text}"
    );
    let text = scan("times");
    assert!(
        text.contains("  ACTIVE until 2045-09-24T03:06:42Z  104.16.9.9  "),
        "{text}"
    );
    // A saved fail2ban listing holds the ban but says nothing of its end: no "permanent".
    let text = scan("conflict");
    assert!(text.contains("  ACTIVE [1]  172.64.155.20  "), "{text}");
    assert!(
        text.contains("\n  [1] 172.64.155.20, jail sshd: sources disagree: fail2ban-log ("),
        "{text}"
    );
    assert!(
        text.contains("says lifted; the state follows fail2ban-banned"),
        "{text}"
    );
}

/// Every error is in the text report (the first ten, then how many more), and the files with
/// lines that could not be read (the first five, then how many more).
#[test]
fn errors_and_malformed_lines_are_listed() {
    let env = TestEnv::new();
    env.write("fail2ban.log", BAN_LINE);
    for n in 0..7 {
        env.write(
            &format!("host{n}/csf.deny"),
            "104.16.0.4\nnot-an-address.example # a host name csf cannot block\n",
        );
    }
    let dir = env.path().to_str().unwrap().to_string();
    let missing: Vec<String> = (0..12).map(|n| format!("{dir}/no-such-dir-{n}")).collect();
    let mut args = vec!["scan", dir.as_str()];
    args.extend(missing.iter().map(String::as_str));
    let o = run_at("100", &args);
    assert_eq!(code(&o), 2);
    let text = stdout(&o);
    assert!(text.contains(", 12 errors.\n"), "{text}");
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  error: "))
        .collect();
    assert_eq!(errors.len(), 10, "{text}");
    assert!(errors[0].contains("no-such-dir-"), "{text}");
    assert!(text.contains("\n  ... and 2 more errors\n"), "{text}");
    assert!(
        text.contains("7 lines in 7 files looked like entries but could not be read:\n"),
        "{text}"
    );
    let files = text.lines().filter(|l| l.contains("/csf.deny:2: ")).count();
    assert_eq!(files, 5, "{text}");
    assert!(
        text.contains("\n  ... and 2 more files with 2 such lines\n"),
        "{text}"
    );
}

/// A CrowdSec captcha decision in force is a challenge: reported apart from bans in every
/// output (CHALLENGE in the text, `challenge` in JSON, its own Prometheus gauge and JSON lines
/// count, a Nagios WARNING), and exit status 1, since bouncers without a captcha provider ban.
#[test]
fn a_captcha_decision_is_a_challenge_in_every_output() {
    let env = TestEnv::new();
    env.write(
        "cscli-decisions-list-raw.csv",
        "id,source,ip,reason,action,country,as,events_count,expiration,simulated,alert_id\n\
         5,cscli,Ip:172.64.33.2,manual: captcha test,captcha,,,1,87599h59m15.2s,false,5\n",
    );
    let dir = env.path().to_str().unwrap();
    let o = run(&["scan", "--format", "json", dir]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let report = json(&o);
    let f = &report["findings"][0];
    assert_eq!(
        (&f["state"], &f["active"], &f["scope"]),
        (
            &Value::from("challenge"),
            &Value::from(false),
            &Value::from("manual: captcha test (captcha)")
        )
    );
    let text = stdout(&run(&["scan", "--wide", "--color", "never", dir]));
    assert!(
        text.contains(
            "0 bans of Cloudflare addresses found: 0 in force, 0 unconfirmed (possibly in force), \
             0 past. 1 challenges in force"
        ),
        "{text}"
    );
    assert!(
        text.contains("crowdsec (0 bans: 0 in force, 0 unconfirmed, 0 past, 1 challenges)"),
        "{text}"
    );
    assert!(text.contains("CHALLENGE until "), "{text}");
    assert!(
        text.contains("cscli decisions delete --ip 172.64.33.2"),
        "{text}"
    );
    let o = run(&["scan", "--format", "nagios", dir]);
    assert_eq!(code(&o), 1, "WARNING: {}", stdout(&o));
    assert!(
        stdout(&o)
            .starts_with("CF-BAN-AUDIT WARNING - 1 challenges of Cloudflare addresses in force"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("'active'=0;0;0;0 'unconfirmed'=0;0;;0 'challenge'=1;0;;0 "),
        "{}",
        stdout(&o)
    );
    let prom = stdout(&run(&["scan", "--format", "prometheus", dir]));
    assert!(
        prom.contains(
            "cf_ban_audit_challenge_findings{tool=\"crowdsec\",scope=\"manual: captcha test (captcha)\"} 1"
        ) && prom.contains(
            "cf_ban_audit_active_findings{tool=\"crowdsec\",scope=\"manual: captcha test (captcha)\"} 0"
        ),
        "{prom}"
    );
    let lines = stdout(&run(&["scan", "--format", "jsonl", dir]));
    let summary: Value = serde_json::from_str(lines.lines().last().unwrap()).unwrap();
    assert_eq!(
        (
            &summary["challenge"],
            &summary["active"],
            &summary["findings"]
        ),
        (&Value::from(1), &Value::from(0), &Value::from(1)),
        "{lines}"
    );
}

/// `scan --live` reads iptables' legacy tables (iptables-legacy-save) beside the nf_tables ones:
/// both are the kernel's and both apply, so a ban in the legacy tables that `iptables-save`
/// (the nft variant on Debian) does not show is in force, not lifted.
#[test]
fn live_scan_reads_the_legacy_tables_beside_the_nft_ones() {
    let Some(ns) = Netns::new("legacy", &["iptables-legacy", "iptables-legacy-save"]) else {
        return;
    };
    ns.exec(&["iptables-legacy", "-N", "f2b-sshd"]);
    ns.exec(&["iptables-legacy", "-A", "INPUT", "-j", "f2b-sshd"]);
    ns.exec(&[
        "iptables-legacy",
        "-A",
        "f2b-sshd",
        "-s",
        "104.16.77.4",
        "-j",
        "REJECT",
    ]);
    ns.exec(&["iptables", "-N", "f2b-sshd"]);
    ns.exec(&["iptables", "-A", "INPUT", "-j", "f2b-sshd"]);
    ns.exec(&[
        "iptables",
        "-A",
        "f2b-sshd",
        "-s",
        "104.16.77.5",
        "-j",
        "REJECT",
    ]);
    // A saved copy of the legacy tables, as a scan of /etc would find it.
    let saved = TestEnv::new();
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.0, "iptables-legacy-save"])
        .output()
        .unwrap();
    saved.write("rules.v4", &out.stdout);
    let out = run_in(
        &ns.0,
        &[
            "scan",
            "--live",
            "--source",
            "iptables",
            "--source",
            "fail2ban",
            "--format",
            "json",
            saved.path().to_str().unwrap(),
        ],
        &[],
    );
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let state = |address: &str| -> Vec<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["address"] == address)
            .map(|f| f["state"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(state("104.16.77.4"), ["active"], "{report}");
    assert_eq!(state("104.16.77.5"), ["active"], "{report}");
    let files: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        files
            .iter()
            .any(|p| p.starts_with("live: iptables-legacy-save")),
        "{files:?}"
    );
}

/// `scan --live` reads the routes of every table (`ip -4`/`ip -6 route show table all`): a
/// blackhole route as fail2ban's route action adds it is a ban in force, and a saved listing's
/// route that the live read no longer holds is lifted.
#[test]
fn live_scan_reads_refusing_routes() {
    let Some(ns) = Netns::new("route", &[]) else {
        return;
    };
    ns.exec(&["ip", "link", "set", "lo", "up"]);
    ns.exec(&["ip", "route", "add", "blackhole", "104.16.77.6"]);
    ns.exec(&["ip", "route", "add", "unreachable", "2606:4700::77:6"]);
    ns.exec(&[
        "ip",
        "route",
        "add",
        "prohibit",
        "104.16.77.7",
        "table",
        "100",
    ]);
    let saved = TestEnv::new();
    saved.write("ip-route.txt", "blackhole 104.16.77.8 \n");
    let out = run_in(
        &ns.0,
        &[
            "scan",
            "--live",
            "--source",
            "route",
            "--format",
            "json",
            saved.path().to_str().unwrap(),
        ],
        &[],
    );
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let mut found: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["address"].as_str().unwrap().to_string(),
                f["scope"].as_str().unwrap().to_string(),
                f["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    let want = [
        ("104.16.77.6", "blackhole", "active"),
        ("104.16.77.7", "prohibit table 100", "active"),
        ("104.16.77.8", "blackhole", "lifted"),
        ("2606:4700::77:6", "unreachable", "active"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, s, t)| (a.to_string(), s.to_string(), t.to_string()))
        .collect();
    assert_eq!(found, want, "{report}");
}

#[test]
fn a_record_cut_at_its_limit_is_an_error_in_every_output() {
    // A fail2ban.log line of 3 MiB (the format's limit is 1 MiB): the bans around it are read,
    // and the cut is an error naming the file and line in every output, never a silent "No
    // bans".
    let env = TestEnv::new();
    let mut log = String::from(
        "2026-11-24 03:06:40,100 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 198.51.100.7\n",
    );
    log.push_str(
        "2026-11-24 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 198.51.100.8 ",
    );
    log.push_str(&"x".repeat(3 << 20));
    log.push_str("\n2026-11-24 03:06:44,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 198.51.100.9\n");
    env.write("fail2ban.log", &log);
    let dir = env.path().to_str().unwrap();
    let said = "fail2ban.log:2: line longer than 1 MiB, the most a fail2ban-log line may be: cut \
                there, the rest of the line is not read";
    let o = run(&["scan", dir]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    let text = stdout(&o).replace("\n         ", " ");
    assert!(text.contains("1 errors") && text.contains(said), "{text}");
    let o = run(&["scan", "--format", "json", dir]);
    assert_eq!(code(&o), 2);
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let message = json["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(said), "{message}");
    let o = run(&["scan", "--format", "jsonl", dir]);
    assert!(
        stdout(&o).contains(r#""record":"error""#) && stdout(&o).contains(said),
        "{}",
        stdout(&o)
    );
    let o = run(&["scan", "--format", "nagios", dir]);
    assert_eq!(code(&o), 3, "UNKNOWN: {}", stdout(&o));
    assert!(
        stdout(&o).starts_with("CF-BAN-AUDIT UNKNOWN - 1 errors while scanning: ")
            && stdout(&o).contains(said),
        "{}",
        stdout(&o)
    );
    let o = run(&["scan", "--format", "prometheus", dir]);
    assert!(
        stdout(&o).contains("\ncf_ban_audit_errors 1\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn every_output_format_that_shows_diagnoses_names_their_subjects() {
    let tree = "fixtures/diagnoses/restored";
    let o = run(&["scan", "--format", "json", tree]);
    let r = json(&o);
    let subjects: Vec<(&str, &str)> = r["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["kind"].as_str().unwrap(), d["subject"].as_str().unwrap()))
        .collect();
    assert_eq!(
        subjects,
        [
            ("real-ip-restored", "nginx"),
            ("firewall-bans-ineffective", "fail2ban jail nginx-botsearch")
        ]
    );
    let text = stdout(&run(&["scan", tree]));
    assert!(
        text.contains("Diagnosis: firewall-bans-ineffective (fail2ban jail nginx-botsearch)"),
        "{text}"
    );
    let lines = stdout(&run(&["scan", "--format", "jsonl", tree]));
    let diagnoses: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["record"] == "diagnosis")
        .collect();
    assert_eq!(diagnoses.len(), 2, "{lines}");
    assert_eq!(diagnoses[1]["subject"], "fail2ban jail nginx-botsearch");
    let metrics = stdout(&run(&["scan", "--format", "prometheus", tree]));
    assert!(
        metrics.contains(
            "cf_ban_audit_diagnoses{kind=\"firewall-bans-ineffective\",subject=\"fail2ban jail nginx-botsearch\"} 1"
        ),
        "{metrics}"
    );
}

#[test]
fn check_fail2ban_config_judges_jail_local_and_every_jail_d_fragment() {
    let env = TestEnv::new();
    let dir = env.path().join("fail2ban");
    std::fs::create_dir_all(dir.join("jail.d")).unwrap();
    let snippet = stdout(&run(&["snippet", "fail2ban"]));
    std::fs::write(dir.join("jail.conf"), "").unwrap();
    std::fs::write(dir.join("jail.local"), &snippet).unwrap();
    std::fs::write(
        dir.join("jail.d/web.local"),
        "[nginx-botsearch]\nignoreip = 127.0.0.1/8\n",
    )
    .unwrap();
    std::fs::write(dir.join("jail.d/a.conf"), "[sshd]\nenabled = true\n").unwrap();
    let dir_text = dir.display().to_string();
    let out = run(&["check", "--fail2ban-config", &dir_text, "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let files: Vec<String> = json(&out)["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    // jail.local, then jail.d's *.conf before its *.local, as fail2ban reads them.
    assert_eq!(
        files,
        [
            format!("{dir_text}/jail.local"),
            format!("{dir_text}/jail.d/a.conf"),
            format!("{dir_text}/jail.d/web.local"),
        ]
    );
    let text = stdout(&run(&["check", "--fail2ban-config", &dir_text]));
    assert!(
        text.contains("jail [nginx-botsearch] sets its own ignoreip without every range"),
        "{text}"
    );
    // Merged with the snippet, the directory passes.
    let merged = run(&[
        "snippet",
        "fail2ban",
        "--existing",
        &format!("{dir_text}/jail.d/web.local"),
    ]);
    std::fs::write(dir.join("jail.d/web.local"), stdout(&merged)).unwrap();
    let out = run(&["check", "--fail2ban-config", &dir_text]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    // Not fail2ban's directory: an error naming it.
    let out = run(&[
        "check",
        "--fail2ban-config",
        &env.path().display().to_string(),
    ]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("not fail2ban's configuration directory"));
}

#[test]
fn merge_rejects_a_report_twice_keeps_each_hosts_newest_and_filters_in_force() {
    let env = TestEnv::new();
    // A ban and its unban (past), and a standing ban (unconfirmed: no length known).
    env.write(
        "a/fail2ban.log",
        "2026-11-24 03:06:43,833 fail2ban.actions        [1]: NOTICE  [sshd] Ban 104.16.9.9\n\
         2026-11-24 03:16:43,833 fail2ban.actions        [1]: NOTICE  [sshd] Unban 104.16.9.9\n",
    );
    env.write("b/fail2ban.log", BAN_LINE);
    let scan = |dir: &str, host: &str, name: &str| {
        let o = run(&[
            "scan",
            "--format",
            "json",
            "--host",
            host,
            env.path().join(dir).to_str().unwrap(),
        ]);
        assert_eq!(json(&o)["host"], host, "scan --host names the report");
        env.write(name, &o.stdout)
    };
    let old = scan("a", "web1", "web1-old.json");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let new = scan("b", "web1", "web1-new.json");
    let other = scan("a", "web2", "web2.json");
    let p = |p: &std::path::PathBuf| p.to_str().unwrap().to_string();

    // The same report twice: an error naming both, nothing merged.
    let twice = run(&["merge", &p(&new), &p(&new)]);
    assert_eq!(code(&twice), 2);
    assert!(
        stderr(&twice).contains("the same report as"),
        "{}",
        stderr(&twice)
    );

    // Two scans of web1: the newest is web1's state, the older one is named superseded.
    let o = run(&["merge", "--format", "json", &p(&old), &p(&new), &p(&other)]);
    let m = json(&o);
    let superseded: Vec<bool> = m["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["superseded"].as_bool().unwrap())
        .collect();
    assert_eq!(superseded, [true, false, false]);
    let found = host_addresses(&m);
    assert_eq!(
        found,
        [
            ("web2".to_string(), "104.16.9.9".to_string()),
            ("web1".into(), "172.64.155.20".into())
        ]
    );
    assert_eq!(m["notes"].as_array().unwrap().len(), 1);

    // --active: only what is in force (web2's ban was lifted).
    let o = run(&[
        "merge",
        "--active",
        "--format",
        "json",
        &p(&new),
        &p(&other),
    ]);
    let m = json(&o);
    let states: Vec<&str> = m["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["state"].as_str().unwrap())
        .collect();
    assert!(states.iter().all(|s| *s == "active"), "{states:?}");
    // The text names each finding's state and sources.
    let text = stdout(&run(&["merge", &p(&new), &p(&other)]));
    assert!(
        text.contains("lifted ") && text.contains("fail2ban-log"),
        "{text}"
    );
}
