//! What a user reads about the program: `--help`, `--version` and the manual pages
//! (`cf-ban-audit man`, `cf-ban-audit man --dir`), each page checked by groff and man with
//! every warning an error. The groff and man checks skip with a SKIP notice when absent, and
//! fail under `CI`.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn stdout(args: &[&str]) -> String {
    let out = run(args);
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_says_what_the_program_does() {
    let short = stdout(&["-h"]);
    let first = short.lines().next().unwrap();
    assert_eq!(
        first,
        "Find the bans of Cloudflare addresses that cause Cloudflare Error 521, and prevent them"
    );
    let long = stdout(&["--help"]);
    assert!(long.contains("origin's security tools"), "{long}");
    assert!(!long.contains("front end"), "{long}");
}

#[test]
fn version_names_the_embedded_range_list() {
    let version = stdout(&["--version"]);
    // `ranges` (without a cache) names the embedded list by its date, as --version does.
    let embedded = stdout(&["ranges"]);
    let date = embedded
        .split_whitespace()
        .find(|w| w.len() == 10 && w.as_bytes()[4] == b'-')
        .unwrap_or_else(|| panic!("{embedded}"));
    assert_eq!(
        version.trim(),
        format!(
            "cf-ban-audit {} (embedded Cloudflare ranges of {date})",
            env!("CARGO_PKG_VERSION")
        )
    );
    assert_eq!(stdout(&["-V"]), version);
}

/// Whether `program` is installed; a SKIP notice (or, under `CI`, a failure) when not.
fn present(program: &str, package: &str) -> bool {
    if have(program) {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("required in CI: {program} (apt-get install {package})");
    }
    skip(&format!(
        "manual page check: needs {program} (apt-get install {package})"
    ));
    false
}

/// groff's and man's warnings about `page` (every warning groff has, `-ww`).
fn warnings(page: &Path) -> String {
    let mut said = String::new();
    let groff = Command::new("groff")
        .args(["-man", "-ww", "-z"])
        .arg(page)
        .output()
        .unwrap();
    assert!(groff.status.success(), "{groff:?}");
    said.push_str(&String::from_utf8_lossy(&groff.stderr));
    if have("man") {
        let man = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(page)
            .env("MANWIDTH", "80")
            .env("MAN_KEEP_FORMATTING", "0")
            .output()
            .unwrap();
        assert!(man.status.success(), "{man:?}");
        said.push_str(&String::from_utf8_lossy(&man.stderr));
    }
    said
}

/// `page` as man shows it, as plain text.
fn rendered(page: &Path) -> String {
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-P-cbou", "-rLL=100n"])
        .arg(page)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn man_pages_are_whole_and_clean() {
    let env = TestEnv::new();
    let printed = run(&["man"]);
    assert!(printed.status.success(), "{printed:?}");
    let dir = env.path().join("share/man/man1");
    let out = run(&["man", "--dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let main = dir.join("cf-ban-audit.1");
    assert_eq!(std::fs::read(&main).unwrap(), printed.stdout);
    let text = String::from_utf8(printed.stdout).unwrap();
    assert!(text.starts_with(".TH CF-BAN-AUDIT 1 "), "{}", &text[..60]);
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    for command in [
        "scan",
        "snippet",
        "check",
        "doctor",
        "probe",
        "fix",
        "ranges-update",
    ] {
        let name = format!("cf-ban-audit-{command}.1");
        assert!(pages.contains(&name), "{name} in {pages:?}");
    }
    if !present("groff", "groff-base") {
        return;
    }
    let shown = rendered(&main);
    let sections: Vec<&str> = shown
        .lines()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
        .filter(|l| !l.starts_with("CF-BAN-AUDIT") && !l.starts_with("cf-ban-audit"))
        .collect();
    assert_eq!(
        sections,
        [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "COMMANDS",
            "OPTIONS",
            "EXIT STATUS",
            "ENVIRONMENT",
            "FILES",
            "EXAMPLES",
            "SEE ALSO"
        ],
        "{shown}"
    );
    let flat = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(
        "NAME cf-ban-audit - find the bans of Cloudflare addresses that cause Cloudflare Error 521, and prevent them"
    ), "{shown}");
    for needle in [
        "NO_COLOR",
        "CF_BAN_AUDIT_CACHE",
        "CF_BAN_AUDIT_FAIL2BAN_SOCKET",
        "CF_BAN_AUDIT_FAIL2BAN_CONFIG",
        "/var/cache/cf-ban-audit/ips.json",
        "/var/lib/cf-ban-audit/",
        "/var/lib/fail2ban",
        "cf-ban-audit scan --active --format json /var/log > report.json",
        "fail2ban-client(1)",
        "cscli(1)",
        "csf(1)",
        "nginx(8)",
        "cf-ban-audit-scan(1)",
    ] {
        assert!(flat.contains(needle), "{needle} not in\n{shown}");
    }
    for page in &pages {
        let path = dir.join(page);
        assert_eq!(warnings(&path), "", "{page}");
        let shown = rendered(&path);
        assert!(shown.contains("\nSEE ALSO\n"), "{page}:\n{shown}");
        // Every page another page names exists.
        for (i, _) in shown.match_indices("cf-ban-audit-") {
            let name: String = shown[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if shown[i + name.len()..].starts_with("(1)") {
                assert!(
                    pages.contains(&format!("{name}.1")),
                    "{page} names {name}(1)"
                );
            }
        }
    }
    let scan = rendered(&dir.join("cf-ban-audit-scan.1"));
    for needle in ["\nEXIT STATUS\n", "\nEXAMPLES\n", "With --format nagios:"] {
        assert!(scan.contains(needle), "{needle} not in\n{scan}");
    }
}
