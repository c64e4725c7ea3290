//! The completion scripts `cf-ban-audit completions SHELL` prints, run in the real shells:
//! bash completes the way a user's Tab does (the script sourced in a clean `bash`, its
//! completion function found with `complete -p` and called with the COMP_* variables bash sets),
//! fish through its own `complete -C`, and zsh's script is parsed with `zsh -n`. fish and zsh
//! tests skip with a SKIP notice when the shell is absent, and fail under `CI`.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// The script the binary prints for `shell`, written into `env`'s directory.
fn script(env: &TestEnv, shell: &str) -> std::path::PathBuf {
    let out = run(&["completions", shell]);
    assert!(out.status.success(), "{out:?}");
    env.write(&format!("cf-ban-audit.{shell}"), &out.stdout)
}

/// Whether `shell` is installed; a SKIP notice (or, under `CI`, a failure) when not.
fn shell_present(shell: &str) -> bool {
    if have(shell) {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("required in CI: {shell} (apt-get install {shell})");
    }
    skip(&format!(
        "{shell} completion test: needs {shell} (apt-get install {shell})"
    ));
    false
}

/// Sources the bash script and calls its completion function as bash does for the command
/// line `line` with the cursor at its end; prints COMPREPLY one word a line.
const BASH_DRIVER: &str = r#"
source "$1"
spec=$(complete -p cf-ban-audit) || exit 3
fn=$(printf '%s\n' "$spec" | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
[ -n "$fn" ] || exit 4
COMP_LINE="$2"
read -r -a COMP_WORDS <<< "$COMP_LINE"
case "$COMP_LINE" in *" ") COMP_WORDS+=("") ;; esac
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
"$fn" cf-ban-audit "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;

/// What bash's completion offers for `line`.
fn bash_complete(script: &Path, line: &str) -> Vec<String> {
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", BASH_DRIVER, "driver"])
        .arg(script)
        .arg(line)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{line:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_options_and_values_past_the_subcommand() {
    let env = TestEnv::new();
    let script = script(&env, "bash");
    assert_eq!(
        bash_complete(&script, "cf-ban-audit scan --fo"),
        ["--format", "--follow-links"]
    );
    assert_eq!(
        bash_complete(&script, "cf-ban-audit scan --format "),
        ["text", "json", "jsonl", "prometheus", "nagios"]
    );
    let targets = bash_complete(&script, "cf-ban-audit snippet ");
    for target in [
        "fail2ban",
        "csf",
        "crowdsec",
        "nginx-realip",
        "iptables",
        "plain",
    ] {
        assert!(targets.iter().any(|t| t == target), "{target}: {targets:?}");
    }
    assert_eq!(
        bash_complete(&script, "cf-ban-audit snippet ngi"),
        ["nginx-realip", "nginx-allow"]
    );
    let sources = bash_complete(&script, "cf-ban-audit scan --source ");
    for tool in ["fail2ban", "modsecurity", "nginx-limit", "crowdsec"] {
        assert!(sources.iter().any(|t| t == tool), "{tool}: {sources:?}");
    }
    assert_eq!(bash_complete(&script, "cf-ban-audit ranges up"), ["update"]);
    assert_eq!(
        bash_complete(&script, "cf-ban-audit check --format "),
        ["text", "json"]
    );
    assert_eq!(
        bash_complete(&script, "cf-ban-audit sn"),
        ["snippet"],
        "the subcommand itself"
    );
}

#[test]
fn bash_leaves_paths_to_file_completion() {
    let env = TestEnv::new();
    let script = script(&env, "bash");
    env.write("logs/fail2ban.log", "");
    // A path argument: the function offers no words of its own, so bash's `-o default`
    // completes file names.
    assert!(bash_complete(&script, "cf-ban-audit scan /var/lo").is_empty());
    let ranges = format!("cf-ban-audit scan --ranges {}/lo", env.path().display());
    assert_eq!(
        bash_complete(&script, &ranges),
        [format!("{}/logs", env.path().display())]
    );
    let spec = Command::new("bash")
        .args([
            "--norc",
            "--noprofile",
            "-c",
            "source \"$1\"; complete -p cf-ban-audit",
        ])
        .arg("driver")
        .arg(&script)
        .output()
        .unwrap();
    let spec = String::from_utf8(spec.stdout).unwrap();
    assert!(spec.contains("-o default"), "{spec}");
}

/// What fish's completion offers for `line` (the candidates, without descriptions).
fn fish_complete(script: &Path, line: &str) -> Vec<String> {
    let out = Command::new("fish")
        .args(["--no-config", "-c", "source $argv[1]; complete -C $argv[2]"])
        .arg(script)
        .arg(line)
        .current_dir(script.parent().unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_owned())
        .collect()
}

#[test]
fn fish_completes_targets_not_files() {
    if !shell_present("fish") {
        return;
    }
    let env = TestEnv::new();
    let script = script(&env, "fish");
    let syntax = Command::new("fish")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(syntax.status.success(), "{syntax:?}");
    // The script lies in the directory fish runs in: a file name offered would show.
    let targets = fish_complete(&script, "cf-ban-audit snippet ");
    assert!(targets.iter().any(|t| t == "nginx-realip"), "{targets:?}");
    assert!(
        !targets.iter().any(|t| t.contains("cf-ban-audit.")),
        "{targets:?}"
    );
    let mut formats = fish_complete(&script, "cf-ban-audit scan --format ");
    formats.sort();
    assert_eq!(formats, ["json", "jsonl", "nagios", "prometheus", "text"]);
    let options = fish_complete(&script, "cf-ban-audit scan --fo");
    assert!(options.contains(&"--format".to_owned()), "{options:?}");
    assert!(
        options.contains(&"--follow-links".to_owned()),
        "{options:?}"
    );
    let files = fish_complete(&script, "cf-ban-audit scan cf-ban");
    assert_eq!(files, ["cf-ban-audit.fish"]);
}

#[test]
fn zsh_script_parses() {
    if !shell_present("zsh") {
        return;
    }
    let env = TestEnv::new();
    let script = script(&env, "zsh");
    let out = Command::new("zsh").arg("-n").arg(&script).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.starts_with("#compdef cf-ban-audit"), "{}", &text[..40]);
    assert!(text.contains("nginx-realip"));
}
