//! `cf-ban-audit completions SHELL`: clap_complete's scripts, with two gaps of its generators
//! closed so that subcommand options and values complete.
//!
//! - bash: for a binary name with a hyphen, clap_complete 4.6's bash generator names each
//!   subcommand state in its word loop `cf__ban__audit__subcmd__scan` (the binary's hyphens as
//!   `__`, `all_subcommands` in `aot/shells/bash.rs`) but labels the matching arm of its
//!   completion `case` `cf__subcmd__ban__subcmd__audit__subcmd__scan` (`subcommand_details`
//!   replaces the hyphens of the whole path, binary name included, with `__subcmd__`). No arm
//!   ever matches, so nothing past the subcommand completes and bash falls back to file names.
//!   [`fix_bash`] relabels those arms with the loop's names; a generator without the bug leaves
//!   nothing to relabel.
//! - fish: the fish generator completes options only, never positionals ("currently only
//!   supports named options", `aot/shells/fish.rs`), so `snippet <TAB>` offered file names.
//!   [`fish_positionals`] adds a line for each positional with a fixed set of values (snippet
//!   targets, shells), without file names.

use std::io::{self, Write};

use clap::Command;
use clap_complete::Shell;

/// The name of the binary the scripts complete.
pub const BIN: &str = "cf-ban-audit";

/// Writes the completion script for `shell` for `cmd` (the whole command line).
pub fn write(shell: Shell, mut cmd: Command, out: &mut dyn Write) -> io::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN, &mut script);
    let script = String::from_utf8(script)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    let script = match shell {
        Shell::Bash => fix_bash(&script, BIN),
        Shell::Fish => {
            cmd.build();
            script + &fish_positionals(&cmd, BIN)
        }
        _ => script,
    };
    out.write_all(script.as_bytes())
}

/// The separator clap_complete's bash generator puts between the names of a subcommand path.
const BASH_SEP: &str = "__subcmd__";

/// Relabels the arms of the bash script's completion `case` named after the binary with its
/// hyphens as `__subcmd__` to the names the word loop gives them (hyphens as `__`). Only whole
/// arm labels (a line holding nothing but `NAME)`) are touched.
pub fn fix_bash(script: &str, bin: &str) -> String {
    let wrong = format!("{}{BASH_SEP}", bin.replace('-', BASH_SEP));
    let right = format!("{}{BASH_SEP}", bin.replace('-', "__"));
    if wrong == right {
        return script.to_owned();
    }
    let mut fixed = String::with_capacity(script.len());
    for line in script.split_inclusive('\n') {
        let label = line.trim();
        let is_arm = label.ends_with(')') && !label.contains([' ', '"', '$', ',']);
        match label.strip_prefix(&wrong) {
            Some(rest) if is_arm => {
                let indent = &line[..line.len() - line.trim_start().len()];
                let end = &line[line.trim_end().len()..];
                fixed.push_str(&format!("{indent}{right}{rest}{end}"));
            }
            _ => fixed.push_str(line),
        }
    }
    fixed
}

/// fish lines completing every positional with a fixed set of values, in each subcommand one
/// or two levels down (as deep as clap_complete's fish script goes), for binary `bin`.
pub fn fish_positionals(cmd: &Command, bin: &str) -> String {
    let using = format!("__fish_{}_using_subcommand", bin.replace('-', "_"));
    let mut lines = String::new();
    let mut add = |condition: String, sub: &Command| {
        for arg in sub.get_positionals().filter(|a| !a.is_hide_set()) {
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| {
                    let help = v.get_help().map(|h| h.to_string()).unwrap_or_default();
                    format!("{}\\t'{}'", v.get_name(), fish_quote(&help))
                })
                .collect();
            if !values.is_empty() {
                lines.push_str(&format!(
                    "complete -c {bin} -n \"{condition}\" -f -a \"{}\"\n",
                    values.join(" ")
                ));
            }
        }
    };
    for sub in cmd.get_subcommands() {
        let name = sub.get_name();
        if sub.has_subcommands() {
            let children: Vec<&str> = sub.get_subcommands().map(|c| c.get_name()).collect();
            add(
                format!(
                    "{using} {name}; and not __fish_seen_subcommand_from {}",
                    children.join(" ")
                ),
                sub,
            );
            for child in sub.get_subcommands() {
                add(
                    format!(
                        "{using} {name}; and __fish_seen_subcommand_from {}",
                        child.get_name()
                    ),
                    child,
                );
            }
        } else {
            add(format!("{using} {name}"), sub);
        }
    }
    if lines.is_empty() {
        return lines;
    }
    format!("# Positionals with a fixed set of values (not generated by clap_complete for fish).\n{lines}")
}

/// Text for inside a fish single-quoted string that is itself inside a double-quoted one.
fn fish_quote(text: &str) -> String {
    text.replace('\n', " ")
        .replace('\\', "\\\\")
        .replace('\'', "\\'")
        .replace('"', "\\\"")
        .replace('$', "\\$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bash_arms_are_relabelled_and_nothing_else() {
        let script = "    case \"${cmd},${i}\" in\n            cf__ban__audit,scan)\n                cmd=\"cf__ban__audit__subcmd__scan\"\n    case \"${cmd}\" in\n        cf__ban__audit)\n        cf__subcmd__ban__subcmd__audit__subcmd__scan)\n        cf__subcmd__ban__subcmd__audit__subcmd__ranges__subcmd__update)\n";
        let fixed = fix_bash(script, "cf-ban-audit");
        assert!(fixed.contains("\n        cf__ban__audit__subcmd__scan)\n"));
        assert!(fixed.contains("\n        cf__ban__audit__subcmd__ranges__subcmd__update)\n"));
        assert!(!fixed.contains("cf__subcmd__ban"));
        let untouched = script.replace("        cf__subcmd__ban__subcmd__audit__subcmd__", "");
        assert_eq!(fix_bash(&untouched, "cf-ban-audit"), untouched);
        assert_eq!(fix_bash(script, "plain"), script);
    }

    #[test]
    fn every_bash_arm_matches_a_loop_state() {
        let mut out = Vec::new();
        write(Shell::Bash, crate::args::command(), &mut out).unwrap();
        let script = String::from_utf8(out).unwrap();
        let states: Vec<&str> = script
            .lines()
            .filter_map(|l| l.trim().strip_prefix("cmd=\"")?.strip_suffix('"'))
            .collect();
        let (_, completion) = script.split_once("case \"${cmd}\" in").unwrap();
        let arms: Vec<&str> = completion
            .lines()
            .filter_map(|l| l.strip_prefix("        ")?.strip_suffix(')'))
            .filter(|l| !l.starts_with(' '))
            .collect();
        assert!(arms.len() > 10, "{arms:?}");
        for arm in arms {
            assert!(states.contains(&arm), "arm {arm} matches no state");
        }
    }

    #[test]
    fn fish_completes_snippet_targets_without_files() {
        let mut out = Vec::new();
        write(Shell::Fish, crate::args::command(), &mut out).unwrap();
        let script = String::from_utf8(out).unwrap();
        let line = script
            .lines()
            .find(|l| l.contains("using_subcommand snippet\" -f -a"))
            .unwrap();
        assert!(line.contains("fail2ban\\t") && line.contains("nginx-realip\\t"));
        assert!(script.contains("using_subcommand completions\" -f -a \"bash"));
    }
}
