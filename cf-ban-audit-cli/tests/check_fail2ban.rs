//! `check` and `snippet fail2ban --existing` as fail2ban sees them.
//!
//! fail2ban's `ignorecommand = cf-ban-audit contains <ip>` with the real fail2ban: the server
//! runs the built binary for each address a log line names (`server/filter.py`
//! `_inIgnoreIPList`: exit 0 ignores, 1 does not, anything else is an error and does not
//! ignore), and `check` on the very `jail.local` the server runs says what the server does.
//! A manual `fail2ban-client set JAIL banip` never consults the ignore settings ("User knows
//! best"), so the addresses come from log lines. Needs root and fail2ban (SKIP otherwise, a
//! failure under `CI`).

use std::time::Duration;

use crate::common::*;

/// A Cloudflare address, one of the extra ranges file, and a visitor.
const CLOUDFLARE: &str = "104.16.123.4";
const EXTRA: &str = "198.18.0.9";
const VISITOR: &str = "192.0.2.77";

#[test]
fn real_fail2ban_honours_cf_ban_audit_contains_and_check_agrees() {
    let bin = env!("CARGO_BIN_EXE_cf-ban-audit");
    let Some(f2b) = Fail2ban::start("ignorecommand with a ranges file", |t| {
        std::fs::write(
            t.join("conf/filter.d/cfba-test.conf"),
            "[Definition]\nfailregex = ^auth failure from <HOST>$\ndatepattern = {NONE}\n",
        )
        .unwrap();
        std::fs::write(t.join("extra.txt"), "198.18.0.0/15\n").unwrap();
        let mut jail_local = format!(
            "[DEFAULT]\nbackend = polling\nignoreself = false\nignoreip = 127.0.0.1/8\n\
             ignorecommand = {bin} contains --ranges {td}/extra.txt <ip>\n\
             filter = cfba-test\nmaxretry = 1\nfindtime = 1h\nbantime = 1h\n",
            td = t.display()
        );
        // `own-list`: its own ignoreip replaces [DEFAULT]'s, the command still applies.
        // `broken`: its own command names a ranges file that is not there.
        for (jail, extra) in [
            ("cfba-test", String::new()),
            ("own-list", "ignoreip = 192.0.2.1\n".to_string()),
            (
                "broken",
                format!(
                    "ignorecommand = {bin} contains --ranges {}/missing.txt <ip>\n",
                    t.display()
                ),
            ),
        ] {
            std::fs::write(t.join(format!("{jail}.log")), "").unwrap();
            jail_local.push_str(&format!(
                "\n[{jail}]\nenabled = true\nlogpath = {td}/{jail}.log\n{extra}\
                 action = dummy[target={td}/{jail}.dummy]\n",
                td = t.display()
            ));
        }
        jail_local
    }) else {
        return;
    };
    let t = f2b.dir.path();
    let lines = format!(
        "auth failure from {CLOUDFLARE}\nauth failure from {EXTRA}\nauth failure from {VISITOR}\n"
    );
    for jail in ["cfba-test", "own-list", "broken"] {
        std::fs::write(t.join(format!("{jail}.log")), &lines).unwrap();
    }
    let done = wait_until(Duration::from_secs(30), || {
        let log = f2b.log_text();
        ["cfba-test", "own-list", "broken"]
            .iter()
            .all(|j| log.contains(&format!("[{j}] Ban {VISITOR}")))
            .then_some(log)
    });
    let log = done.unwrap_or_else(|| panic!("no bans of {VISITOR}:\n{}", f2b.log_text()));
    // Give the broken jail's Cloudflare ban time to show as well.
    let log = f2b
        .wait_for_log(
            &format!("[broken] Ban {CLOUDFLARE}"),
            Duration::from_secs(10),
        )
        .unwrap_or(log);
    for jail in ["cfba-test", "own-list"] {
        for addr in [CLOUDFLARE, EXTRA] {
            assert!(
                log.contains(&format!("[{jail}] Ignore {addr} by command")),
                "{jail} {addr}:\n{log}"
            );
            assert!(!log.contains(&format!("[{jail}] Ban {addr}")), "{log}");
        }
        let banned = stdout(&f2b.client(&["status", jail]));
        assert!(
            banned.contains(VISITOR) && !banned.contains(CLOUDFLARE),
            "{banned}"
        );
    }
    // `contains` cannot read the missing file (exit 2): fail2ban logs an error and bans.
    assert!(log.contains(&format!("[broken] Ban {CLOUDFLARE}")), "{log}");

    // check on the same jail.local: the DEFAULT command covers [cfba-test] and [own-list],
    // [broken]'s does not.
    let jail_local = f2b.conf().join("jail.local");
    let o = run(&["check", jail_local.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(
        out.contains("covered by ignorecommand: cf-ban-audit contains, which answers from the ranges in use at run time ([DEFAULT] and the jails that do not set their own ignorecommand); with the ranges file ")
            && out.contains("/extra.txt added to them"),
        "{out}"
    );
    assert!(out.contains("missing.txt: "), "{out}");
    assert!(
        out.contains("jail [broken] sets its own ignorecommand"),
        "{out}"
    );
    assert!(!out.contains("[own-list]"), "{out}");
    let o = run(&["check", "--format", "json", jail_local.to_str().unwrap()]);
    let doc = json(&o);
    let jails = doc["files"][0]["jails"].as_array().unwrap();
    let by_command: Vec<(&str, bool)> = jails
        .iter()
        .map(|j| {
            (
                j["name"].as_str().unwrap(),
                j["ignorecommand_contains"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_command,
        [
            ("DEFAULT", true),
            ("cfba-test", true),
            ("own-list", true),
            ("broken", false)
        ]
    );

    // Without the broken jail, check says OK: what the server does for the other two.
    let text = std::fs::read_to_string(&jail_local).unwrap();
    let cut = text.find("\n[broken]").unwrap();
    let env = TestEnv::new();
    let ok = env.write("jail.local", &text[..cut]);
    let o = run(&["check", ok.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

/// `snippet fail2ban --existing` extends a jail's own list (saying so on stderr, exit 0) and
/// `check` of the result is OK; `--default-only` leaves the jail alone and warns; a `jail.d`
/// file gets no `[DEFAULT]` list.
#[test]
fn snippet_existing_covers_jails_with_their_own_list() {
    let env = TestEnv::new();
    let jail = env.write(
        "jail.local",
        "[DEFAULT]\nignoreip = 127.0.0.1/8\n\n[sshd]\nignoreip = 192.0.2.1 ; office\nport = 2222\n",
    );
    let o = run(&["snippet", "fail2ban", "--existing", jail.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("jail [sshd] sets its own ignoreip, which replaces [DEFAULT]'s: the ranges are added to it too"),
        "{}",
        stderr(&o)
    );
    let merged = stdout(&o);
    assert!(
        merged.contains("[sshd]\nignoreip = 192.0.2.1 ; office\n# cf-ban-audit: Cloudflare ranges"),
        "{merged}"
    );
    let out = env.write("out/jail.local", &merged);
    let o = run(&["check", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));

    let o = run(&[
        "snippet",
        "fail2ban",
        "--existing",
        jail.to_str().unwrap(),
        "--default-only",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("warning: "), "{}", stderr(&o));
    assert!(stdout(&o).ends_with("[sshd]\nignoreip = 192.0.2.1 ; office\nport = 2222\n"));
    let out = env.write("default-only/jail.local", stdout(&o));
    let o = run(&["check", out.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("jail [sshd] sets its own ignoreip"),
        "{}",
        stdout(&o)
    );
    let o = run(&[
        "snippet",
        "csf",
        "--default-only",
        "--existing",
        jail.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));

    let fragment = env.write("jail.d/web.local", "[nginx-http-auth]\nenabled = true\n");
    let o = run(&[
        "snippet",
        "fail2ban",
        "--existing",
        fragment.to_str().unwrap(),
    ]);
    assert_eq!(stdout(&o), "[nginx-http-auth]\nenabled = true\n");
    let o = run(&["check", fragment.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains("check that file too"), "{}", stdout(&o));
}
