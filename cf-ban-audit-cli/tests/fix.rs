//! `cf-ban-audit fix` against a real fail2ban in a network namespace of its own: two jails on
//! one log (`iptables-multiport` with its own `ignoreip` in `jail.local`, `nftables-multiport`
//! with its own in a `jail.d` fragment), each holding
//! a Cloudflare edge and a documentation address, beside an nft set and an ipset that hold one
//! of each too. The plan changes nothing; `--apply --yes`
//! lifts exactly the edge's bans, merges the ranges into `jail.local` (DEFAULT and the
//! overriding jail) and into the fragment, reloads fail2ban, which then ignores the edge, and the re-scan finds
//! nothing in force; `--undo` restores both files byte-identical; a `jail.local` fail2ban
//! rejects is left byte-identical. Without root or the programs it prints `SKIP:` (with `CI`
//! set it fails instead).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::*;

/// The documentation address banned beside the edge (never lifted).
const DOC_V4: &str = "203.0.113.7";

/// The jails: `ipt` overrides DEFAULT's ignoreip here, `nft` in a `jail.d` fragment.
const JAIL_LOCAL: &str = "[DEFAULT]
backend = polling
ignoreip = 127.0.0.1/8 ::1
maxretry = 1
findtime = 1h
bantime = 1h

[ipt]
enabled = true
filter = sshd
port = ssh
logpath = LOGPATH
banaction = iptables-multiport
ignoreip = 127.0.0.1/8 192.0.2.1

[nft]
enabled = true
filter = sshd
port = ssh
logpath = LOGPATH
banaction = nftables-multiport
";

/// A `jail.d` fragment, read after `jail.local`: the `nft` jail's own `ignoreip` is this one.
const NFT_FRAGMENT: &str = "[nft]\nignoreip = 127.0.0.1/8 198.51.100.1\n";

/// A Cloudflare address and a documentation address in an nft set of the test's own.
const NFT_RULESET: &str = "table inet cfba {
    set blocklist {
        type ipv4_addr
        elements = { 104.16.5.5, 203.0.113.8 }
    }
    chain input {
        type filter hook input priority 0; policy accept;
        ip saddr @blocklist drop
    }
}
";

/// What `fix` must leave alone: the firewall, jail.local and fail2ban's bans.
fn state(ns: &Netns, f2b: &Fail2ban) -> [String; 5] {
    let text = |o: Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let inside = |args: &[&str]| {
        text(
            std::process::Command::new("ip")
                .args(["netns", "exec", &ns.0])
                .args(args)
                .output()
                .unwrap(),
        )
    };
    // iptables-save's comment line holds the time: left out.
    let iptables: String = inside(&["iptables-save"])
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    [
        iptables,
        inside(&["nft", "list", "ruleset"]),
        std::fs::read_to_string(f2b.conf().join("jail.local")).unwrap(),
        text(f2b.client(&["banned"])),
        inside(&["ipset", "save"]),
    ]
}

/// A line of sshd's the `sshd` filter matches, dated now.
fn failed_login(from: &str) -> String {
    format!(
        "{} origin sshd[4242]: Failed password for invalid user admin from {from} port 50022 ssh2\n",
        chrono::Local::now().format("%b %e %H:%M:%S")
    )
}

#[test]
fn fix_lifts_the_edge_merges_jail_local_and_undoes() {
    let Some(ns) = Netns::new("fix", &["fail2ban-client", "iptables", "nft", "ipset"]) else {
        return;
    };
    let dir = TestEnv::new();
    let log = dir.write("auth.log", "");
    let jail_local = JAIL_LOCAL.replace("LOGPATH", &log.display().to_string());
    let Some(f2b) = Fail2ban::start_in("fix", &ns.0, Fail2banDb::Memory, &["ipt", "nft"], |t| {
        std::fs::write(t.join("conf/jail.d/nft.local"), NFT_FRAGMENT).unwrap();
        jail_local.clone()
    }) else {
        return;
    };
    for jail in ["ipt", "nft"] {
        let out = f2b.client(&["set", jail, "banip", EDGE_V4, DOC_V4]);
        assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    }
    let ruleset = dir.write("cfba.nft", NFT_RULESET);
    ns.exec(&["nft", "-f", ruleset.to_str().unwrap()]);
    ns.ipset_drop("cfba-block", "hash:net", &["172.64.9.9", "198.51.100.9"]);
    let conf = f2b.conf().display().to_string();
    let socket = f2b.socket().display().to_string();
    let empty = TestEnv::new();
    let scanned = empty.path().display().to_string();
    let fix = |extra: &[&str]| {
        let mut args = vec![
            "fix",
            "--fail2ban-config",
            &conf,
            "--fail2ban-socket",
            &socket,
        ];
        args.extend_from_slice(extra);
        args.push(&scanned);
        let out = run_in(&ns.0, &args, &[]);
        eprintln!(
            "fix {extra:?}: exit {:?}\n{}{}",
            out.status.code(),
            stdout(&out),
            stderr(&out)
        );
        out
    };

    // The plan: every ban of the edge, the writes and the reload; nothing changes.
    let fragment = f2b.conf().join("jail.d/nft.local");
    let before = state(&ns, &f2b);
    assert!(
        before[0].contains(EDGE_V4) && before[1].contains(EDGE_V4),
        "{before:?}"
    );
    let plan = fix(&[]);
    assert_eq!(code(&plan), 1);
    let text = stdout(&plan);
    for jail in ["ipt", "nft"] {
        let lift = format!("-s {socket} set {jail} unbanip {EDGE_V4}");
        assert!(text.contains(&lift), "{lift}: {text}");
    }
    assert!(
        text.contains("nft delete element inet cfba blocklist '{ 104.16.5.5 }'"),
        "{text}"
    );
    assert!(text.contains("ipset del cfba-block 172.64.9.9"), "{text}");
    for doc in [DOC_V4, "203.0.113.8", "198.51.100.9"] {
        assert!(!text.contains(doc), "{doc}: {text}");
    }
    // Sets filled by hand: their allow list is a person's to add.
    assert!(
        text.contains("(run: cf-ban-audit snippet nftables)"),
        "{text}"
    );
    assert!(text.contains("(run: cf-ban-audit snippet ipset)"), "{text}");
    assert!(
        text.contains("write   ") && text.contains("[DEFAULT], [ipt]"),
        "{text}"
    );
    assert!(
        text.contains(&format!("fail2ban-client -c {conf} -s {socket} reload")),
        "{text}"
    );
    let fragment_write = format!(
        "{}: the Cloudflare ranges into ignoreip of [nft] (",
        fragment.display()
    );
    assert!(text.contains(&fragment_write), "{text}");
    let json = fix(&["--format", "json"]);
    let steps = json_of(&json)["plan"]["steps"].as_array().unwrap().len();
    assert_eq!(steps, 7, "four lifts, two writes, the reload");
    // --apply without a terminal and without --yes: refused, nothing done.
    let refused = fix(&["--apply"]);
    assert_eq!(code(&refused), 2);
    assert!(stderr(&refused).contains("--yes"), "{}", stderr(&refused));
    assert_eq!(state(&ns, &f2b), before, "the plan changes nothing");

    // Apply: the edge's bans go, the documentation address's stay.
    let journal = dir.path().join("journal.jsonl");
    let journal_text = journal.display().to_string();
    let applied = fix(&[
        "--apply",
        "--yes",
        "--journal",
        &journal_text,
        "--format",
        "json",
    ]);
    let result = json_of(&applied);
    assert_eq!(code(&applied), 0, "{result:#}");
    assert_eq!(
        result["verdict"]["still_in_force"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(result["verdict"]["lifted"].as_array().unwrap().len(), 4);
    let after = state(&ns, &f2b);
    assert!(
        !after[0].contains(EDGE_V4) && after[0].contains(DOC_V4),
        "{}",
        after[0]
    );
    assert!(
        !after[1].contains(EDGE_V4) && after[1].contains(DOC_V4),
        "{}",
        after[1]
    );
    assert!(
        !after[1].contains("104.16.5.5") && after[1].contains("203.0.113.8"),
        "{}",
        after[1]
    );
    assert!(
        !after[4].contains("172.64.9.9") && after[4].contains("198.51.100.9"),
        "{}",
        after[4]
    );
    for jail in ["ipt", "nft"] {
        let banned = stdout(&f2b.client(&["get", jail, "banned"]));
        assert!(
            !banned.contains(EDGE_V4) && banned.contains(DOC_V4),
            "{jail}: {banned}"
        );
        let ignored = stdout(&f2b.client(&["get", jail, "ignoreip"]));
        assert!(ignored.contains("173.245.48.0/20"), "{jail}: {ignored}");
    }
    let merged = &after[2];
    let default = merged.split("[ipt]").next().unwrap();
    let ipt = merged
        .split("[ipt]")
        .nth(1)
        .unwrap()
        .split("[nft]")
        .next()
        .unwrap();
    assert!(default.contains("173.245.48.0/20"), "{merged}");
    assert!(
        ipt.contains("192.0.2.1") && ipt.contains("173.245.48.0/20"),
        "{merged}"
    );
    let merged_fragment = std::fs::read_to_string(&fragment).unwrap();
    assert!(
        merged_fragment.starts_with("[nft]\nignoreip = 127.0.0.1/8 198.51.100.1")
            && merged_fragment.contains("173.245.48.0/20")
            && !merged_fragment.contains("[DEFAULT]"),
        "{merged_fragment}"
    );
    let entries = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(entries.lines().count(), 7, "{entries}");

    // A new failure from the edge is ignored now: no new ban.
    let ban = format!("Ban {EDGE_V4}");
    let bans = f2b.log_text().matches(&ban).count();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(failed_login(EDGE_V4).as_bytes())
        .unwrap();
    for jail in ["ipt", "nft"] {
        let ignore = format!("[{jail}] Ignore {EDGE_V4}");
        assert!(
            f2b.wait_for_log(&ignore, Duration::from_secs(15)).is_some(),
            "{ignore}:\n{}",
            f2b.log_text()
        );
    }
    assert_eq!(
        f2b.log_text().matches(&ban).count(),
        bans,
        "{}",
        f2b.log_text()
    );

    // Undo: jail.local byte-identical to before.
    let undone = run_in(&ns.0, &["fix", "--undo", &journal_text], &[]);
    assert_eq!(code(&undone), 0, "{}", stderr(&undone));
    assert_eq!(
        std::fs::read_to_string(f2b.conf().join("jail.local")).unwrap(),
        before[2]
    );
    assert_eq!(std::fs::read_to_string(&fragment).unwrap(), NFT_FRAGMENT);
    no_leftovers(&fragment);

    // A jail.local that fail2ban rejects is left as it is, and fix says why.
    let broken = format!(
        "{}\n[broken]\nenabled = true\nfilter = no-such-filter-cfba\nlogpath = {}\n",
        before[2],
        log.display()
    );
    let jail_path = f2b.conf().join("jail.local");
    std::fs::write(&jail_path, &broken).unwrap();
    let journal2 = dir.path().join("journal2.jsonl").display().to_string();
    let rejected = fix(&["--apply", "--yes", "--journal", &journal2]);
    assert_eq!(code(&rejected), 1);
    assert_eq!(std::fs::read_to_string(&jail_path).unwrap(), broken);
    let said = stdout(&rejected);
    assert!(
        said.contains("rejected") && said.contains("no-such-filter-cfba"),
        "{said}"
    );
    assert!(
        said.contains("skipped: the configuration was not written"),
        "{said}"
    );
    no_leftovers(&jail_path);

    // No jail.local at all: created with the ranges, and removed again by undo.
    std::fs::remove_file(&jail_path).unwrap();
    let journal3 = dir.path().join("journal3.jsonl").display().to_string();
    let created = fix(&["--apply", "--yes", "--journal", &journal3]);
    assert_eq!(code(&created), 0, "{}", stdout(&created));
    let new = std::fs::read_to_string(&jail_path).unwrap();
    assert!(
        new.contains("[DEFAULT]") && new.contains("173.245.48.0/20"),
        "{new}"
    );
    let undone = run_in(&ns.0, &["fix", "--undo", &journal3], &[]);
    assert_eq!(code(&undone), 0, "{}", stderr(&undone));
    assert!(!jail_path.exists());
}

/// No temporary file of a write left beside jail.local.
fn no_leftovers(jail_path: &Path) {
    let dir = jail_path.parent().unwrap();
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("cf-ban-audit") && n.ends_with(".tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(out), stderr(out)))
}
