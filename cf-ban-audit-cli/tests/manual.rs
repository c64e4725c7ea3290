//! What a user reads about the program: `--help` and `--version`.

mod common;

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
