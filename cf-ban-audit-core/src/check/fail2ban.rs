//! `check` of a fail2ban jail file (`jail.local`, `jail.d/*.conf`, `jail.d/*.local`): for
//! `[DEFAULT]` and each jail of the file, whether fail2ban keeps every range unbanned, read
//! with the crate's rebuild of fail2ban 1.0.2's configuration reader (interpolation included).
//!
//! fail2ban ignores an address (`server/filter.py` `_inIgnoreIPList`) when `ignoreself`
//! matches, when an `ignoreip` entry covers it, or else when `ignorecommand` exits 0: the
//! command runs through the shell with `<ip>` replaced (`CommandAction.replaceTag`,
//! `Utils.executeCmd(..., success_codes=(0, 1))`); 0 ignores, 1 does not, any other status is
//! logged as an error and does not ignore. `cf-ban-audit contains <ip>` exits 0 for an
//! address in the range set it loads at that moment (the embedded list, or the one
//! `ranges update` cached, plus its `--ranges` files), 1 otherwise and 2 when it cannot load
//! a `--ranges` file. So an `ignorecommand` that is cf-ban-audit's own `contains <ip>` covers
//! every range for the jails it applies to, as long as its ranges files can be read; with
//! `--no-cloudflare`, other arguments or shell syntax around it, it does not count.
//!
//! A jail takes `ignoreip` and `ignorecommand` from its own section when it sets them, else
//! from `[DEFAULT]`; stock `jail.conf` sets its own `ignorecommand` for
//! `[apache-fakegooglebot]`, which therefore never uses `[DEFAULT]`'s.
//!
//! A file under `jail.d/` is read with `jail.local`: when it has no `[DEFAULT]` `ignoreip` of
//! its own, `[DEFAULT]`'s is taken to be complete (it is `jail.local`'s business, to be checked
//! there) and only the jails that set their own lists are judged.

use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Serialize;

use crate::fail2ban_jails::{JailConfig, JailSettings};
use crate::ranges::RangeSet;
use crate::snippet::fail2ban;

/// The section that stands for `[DEFAULT]` (a jail that sets nothing of its own).
const PROBE: &str = "cf-ban-audit: [DEFAULT]";

/// Stock `jail.conf` jails that set an `ignorecommand` of their own.
const STOCK_IGNORECOMMAND: &[&str] = &["apache-fakegooglebot"];

/// Reads a `--ranges` file as `cf-ban-audit contains` would: `Err` with why when it cannot.
pub(super) type RangesReader<'a> = &'a dyn Fn(&Path) -> Result<(), String>;

/// How `[DEFAULT]` or one jail of a fail2ban file keeps the ranges unbanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct JailIgnore {
    /// The section (`DEFAULT` for `[DEFAULT]`).
    pub name: String,
    /// The networks of its `ignoreip` as fail2ban reads them (host names aside).
    pub ignoreip: Vec<String>,
    /// The host names of its `ignoreip` (fail2ban resolves them at each check).
    pub ignore_hosts: Vec<String>,
    /// Its `ignorecommand` is cf-ban-audit's own `contains <ip>` and counts.
    pub ignorecommand_contains: bool,
    /// The ranges neither covers.
    pub missing: Vec<String>,
}

/// What `check` finds in a fail2ban file.
#[derive(Debug, Default)]
pub(super) struct Fail2banCheck {
    /// The ranges `[DEFAULT]` leaves uncovered.
    pub(super) missing: Vec<IpNet>,
    /// What needs fixing.
    pub(super) problems: Vec<String>,
    /// What the reader should know (coverage by `ignorecommand`, a fragment's `[DEFAULT]`).
    pub(super) notes: Vec<String>,
    /// `[DEFAULT]` and each jail of the file.
    pub(super) jails: Vec<JailIgnore>,
}

/// The `--ranges` files of a recognised `cf-ban-audit contains` command.
fn ranges_files(command: &str) -> Vec<String> {
    let words: Vec<&str> = command
        .split([' ', '\t', '\n'])
        .filter(|w| !w.is_empty())
        .take_while(|w| !w.starts_with('#'))
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if words[i] == "--ranges" {
            if let Some(f) = words.get(i + 1) {
                out.push(f.to_string());
                i += 1;
            }
        } else if let Some(f) = words[i].strip_prefix("--ranges=") {
            out.push(f.to_string());
        }
        i += 1;
    }
    out
}

/// Checks one fail2ban file; `read` verifies the `--ranges` files of an `ignorecommand`
/// (`None`: they are not read and count as readable).
pub(super) fn check(
    path: &Path,
    text: &str,
    ranges: &RangeSet,
    read: Option<RangesReader<'_>>,
) -> Fail2banCheck {
    let fragment = crate::snippet::is_jail_d_fragment(path);
    let own_default_ip = fail2ban::default_ignoreip(text).is_some();
    let own_default_cmd = fail2ban::sections_setting(text, "ignorecommand")
        .iter()
        .any(|s| s == "DEFAULT");
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    if fragment {
        // jail.local's [DEFAULT], taken to hold every range.
        let all: Vec<String> = ranges.nets().iter().map(|n| n.to_string()).collect();
        files.push((
            PathBuf::from("jail.local"),
            format!("[DEFAULT]\nignoreip = {}\n", all.join(" ")).into_bytes(),
        ));
    }
    files.push((path.to_path_buf(), text.as_bytes().to_vec()));
    files.push((PathBuf::from(PROBE), format!("[{PROBE}]\n").into_bytes()));
    let config = JailConfig::read(&files);
    let sets_ip = fail2ban::sections_setting(text, "ignoreip");
    let sets_cmd = fail2ban::sections_setting(text, "ignorecommand");
    let inheriting = fail2ban::jails_inheriting(text);

    let mut out = Fail2banCheck::default();
    for (file, line, message) in config.malformed() {
        let relevant = message.contains("ignoreip")
            || message.contains("ignorecommand")
            || message.contains("refuses the configuration");
        if file == path && relevant {
            out.problems.push(format!("line {line}: {message}"));
        }
    }
    let mut checked_files: Vec<(String, Result<(), String>)> = Vec::new();
    // Whether a jail's command counts, and the ranges files it names.
    let mut command_ok = |jail: &JailSettings| -> (bool, Vec<String>) {
        let Some(command) = jail
            .ignorecommand
            .as_deref()
            .filter(|_| jail.ignores_by_command_cloudflare())
        else {
            return (false, Vec::new());
        };
        let mut ok = true;
        let files = ranges_files(command);
        for file in files.iter().cloned() {
            let verdict = match checked_files.iter().find(|(f, _)| *f == file) {
                Some((_, v)) => v.clone(),
                None => {
                    let v = if !file.starts_with('/') {
                        Err(format!("{file}: not an absolute path (fail2ban-server runs the command from its own working directory)"))
                    } else {
                        read.map_or(Ok(()), |read| read(Path::new(&file)))
                    };
                    checked_files.push((file.clone(), v.clone()));
                    v
                }
            };
            ok &= verdict.is_ok();
        }
        (ok, files)
    };
    let mut covered_by_command: Vec<String> = Vec::new();
    let mut covering_files: Vec<String> = Vec::new();
    let mut judge = |jail: &JailSettings, name: &str, stock_command: bool| -> JailIgnore {
        let (by_command, files) = if stock_command {
            (false, Vec::new())
        } else {
            command_ok(jail)
        };
        if by_command {
            covered_by_command.push(name.to_string());
            for f in files {
                if !covering_files.contains(&f) {
                    covering_files.push(f);
                }
            }
        }
        let missing = if by_command {
            Vec::new()
        } else {
            ranges
                .nets()
                .iter()
                .filter(|n| !jail.ignores(n))
                .map(|n| n.to_string())
                .collect()
        };
        JailIgnore {
            name: name.to_string(),
            ignoreip: jail.ignoreip.iter().map(|n| n.to_string()).collect(),
            ignore_hosts: jail.ignore_hosts.clone(),
            ignorecommand_contains: by_command,
            missing,
        }
    };

    let default_elsewhere = fragment && !own_default_ip && !own_default_cmd;
    let default = config.jail(PROBE).map(|j| judge(j, "DEFAULT", false));
    if let Some(d) = &default {
        if !default_elsewhere {
            out.missing = d.missing.iter().filter_map(|n| n.parse().ok()).collect();
            if !own_default_ip && !d.ignorecommand_contains {
                out.problems.push("no ignoreip in [DEFAULT]".to_string());
            }
        }
    }
    let default_complete = default.as_ref().is_none_or(|d| d.missing.is_empty());
    let mut jails: Vec<JailIgnore> = Vec::new();
    for jail in config.jails() {
        if jail.name == PROBE || !fail2ban::has_section(text, &jail.name) {
            continue;
        }
        let own_ip = sets_ip.contains(&jail.name);
        let own_cmd = sets_cmd.contains(&jail.name);
        let stock = STOCK_IGNORECOMMAND.contains(&jail.name.as_str()) && !own_cmd;
        let j = judge(jail, &jail.name, stock);
        let differs = own_ip || own_cmd || stock;
        let own_list = own_ip && !inheriting.contains(&jail.name);
        if !j.missing.is_empty() && differs && (own_list || default_complete) {
            let n = j.missing.len();
            out.problems.push(if own_ip {
                format!(
                    "jail [{}] sets its own ignoreip without every range ({n} missing): it replaces [DEFAULT]'s",
                    j.name
                )
            } else if stock {
                format!(
                    "jail [{}] uses the ignorecommand of the stock jail.conf, not [DEFAULT]'s, and its ignoreip lacks {n} ranges",
                    j.name
                )
            } else {
                format!(
                    "jail [{}] sets its own ignorecommand, which replaces [DEFAULT]'s and does not cover the ranges, and its ignoreip lacks {n} of them",
                    j.name
                )
            });
        }
        jails.push(j);
    }
    if !covered_by_command.is_empty() {
        let whom = if covered_by_command.first().map(String::as_str) == Some("DEFAULT") {
            "[DEFAULT] and the jails that do not set their own ignorecommand".to_string()
        } else {
            covered_by_command
                .iter()
                .map(|n| format!("[{n}]"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut note = format!(
            "covered by ignorecommand: cf-ban-audit contains, which answers from the ranges in use at run time ({whom})"
        );
        if !covering_files.is_empty() {
            note.push_str(&format!(
                "; with the ranges file {} added to them",
                covering_files.join(", ")
            ));
            if read.is_none() {
                note.push_str(" (not read here)");
            }
        }
        out.notes.push(note);
    }
    for (_, verdict) in &checked_files {
        if let Err(why) = verdict {
            out.problems.push(format!(
                "ignorecommand names a ranges file that cannot be read ({why}): cf-ban-audit contains then fails (exit 2) and fail2ban ignores nothing by it"
            ));
        }
    }
    if default_elsewhere {
        out.notes.push(
            "a jail.d file without its own [DEFAULT] ignoreip: its jails take jail.local's (check that file too)"
                .to_string(),
        );
    }
    if let Some(d) = default.filter(|_| !default_elsewhere) {
        out.jails.push(d);
    }
    out.jails.extend(jails);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check_text;
    use crate::cloudflare::embedded;

    const CMD: &str = "/usr/local/bin/cf-ban-audit contains <ip>";

    fn checked(name: &str, text: &str) -> crate::check::CheckedFile {
        check_text(Path::new(name), text, &embedded())
    }

    #[test]
    fn own_ignorecommand_covers_every_jail_that_does_not_replace_it() {
        let text = format!(
            "[DEFAULT]\nignorecommand = {CMD}\n\n[sshd]\nenabled = true\n\n\
             [nginx-http-auth]\nignoreip = 127.0.0.1/8 192.0.2.1\n"
        );
        let r = checked("jail.local", &text);
        assert!(!r.has_gaps(), "{r:?}");
        assert!(r.missing.is_empty(), "{r:?}");
        assert_eq!(
            r.notes,
            ["covered by ignorecommand: cf-ban-audit contains, which answers from the ranges in \
              use at run time ([DEFAULT] and the jails that do not set their own ignorecommand)"]
        );
        let names: Vec<&str> = r.jails.iter().map(|j| j.name.as_str()).collect();
        assert_eq!(names, ["DEFAULT", "sshd", "nginx-http-auth"]);
        assert!(r.jails.iter().all(|j| j.ignorecommand_contains));
        // Any absolute path, a quoted <ip>, a ranges file, a shell comment after it.
        for cmd in [
            "/opt/cfba/bin/cf-ban-audit contains \"<ip>\"",
            "/usr/bin/cf-ban-audit contains --ranges /etc/cf-extra.txt <ip> # extra ranges",
            "/usr/bin/cf-ban-audit contains --ranges=/etc/cf-extra.txt <ip>",
        ] {
            let r = checked("jail.local", &format!("[DEFAULT]\nignorecommand = {cmd}\n"));
            assert!(!r.has_gaps(), "{cmd}: {r:?}");
            if cmd.contains("extra") {
                assert!(
                    r.notes[0].ends_with(
                        "; with the ranges file /etc/cf-extra.txt added to them (not read here)"
                    ),
                    "{r:?}"
                );
            }
        }
        // Interpolation is resolved as fail2ban resolves it.
        let r = checked(
            "jail.local",
            "[DEFAULT]\nbin = /usr/local/bin\nignorecommand = %(bin)s/cf-ban-audit contains <ip>\n",
        );
        assert!(!r.has_gaps(), "{r:?}");
    }

    #[test]
    fn other_commands_do_not_count() {
        for cmd in [
            "/usr/local/bin/cf-ban-audit contains --no-cloudflare --ranges /etc/x <ip>",
            "/usr/local/bin/cf-ban-audit contains <ip> || true",
            "/usr/local/bin/cf-ban-audit contains <ip> 192.0.2.1",
            "/usr/local/bin/cf-ban-audit check <ip>",
            "/usr/local/bin/is-cloudflare <ip>",
            "/usr/local/bin/cf-ban-audit contains --ranges cf.txt <ip>",
        ] {
            let r = checked("jail.local", &format!("[DEFAULT]\nignorecommand = {cmd}\n"));
            assert!(r.has_gaps(), "{cmd}: {r:?}");
            assert_eq!(r.missing.len(), 22, "{cmd}");
            assert!(r.notes.is_empty(), "{cmd}: {r:?}");
        }
        let r = checked(
            "jail.local",
            "[DEFAULT]\nignorecommand = /usr/local/bin/cf-ban-audit contains --ranges cf.txt <ip>\n",
        );
        assert!(
            r.problems
                .iter()
                .any(|p| p.contains("(cf.txt: not an absolute path")),
            "{r:?}"
        );
    }

    #[test]
    fn a_ranges_file_that_cannot_be_read_does_not_count() {
        let text = "[DEFAULT]\nignorecommand = /usr/bin/cf-ban-audit contains --ranges /nonexistent/cf.txt <ip>\n";
        let missing = |_: &Path| Err("No such file or directory".to_string());
        let r = super::check(Path::new("jail.local"), text, &embedded(), Some(&missing));
        assert_eq!(r.missing.len(), 22);
        assert!(
            r.problems.iter().any(|p| p.starts_with(
                "ignorecommand names a ranges file that cannot be read (No such file"
            )),
            "{:?}",
            r.problems
        );
        let there = |_: &Path| Ok(());
        let r = super::check(Path::new("jail.local"), text, &embedded(), Some(&there));
        assert!(r.missing.is_empty() && r.problems.is_empty(), "{r:?}");
        assert!(
            r.notes[0].ends_with("/nonexistent/cf.txt added to them"),
            "{r:?}"
        );
    }

    #[test]
    fn a_jail_that_replaces_the_command_needs_the_ranges_in_ignoreip() {
        let text = format!(
            "[DEFAULT]\nignorecommand = {CMD}\n\n[sshd]\nignorecommand = /usr/local/bin/other <ip>\n\n\
             [apache-fakegooglebot]\nenabled = true\n"
        );
        let r = checked("jail.local", &text);
        assert!(r.missing.is_empty(), "{r:?}");
        assert_eq!(r.problems.len(), 2, "{r:?}");
        assert!(r.problems[0].starts_with("jail [sshd] sets its own ignorecommand"));
        assert!(r.problems[1].starts_with(
            "jail [apache-fakegooglebot] uses the ignorecommand of the stock jail.conf"
        ));
        // With the ranges in [DEFAULT]'s ignoreip, both are covered.
        let merged = crate::snippet::fail2ban::merge(&text, &embedded());
        let r = checked("jail.local", &merged);
        assert!(!r.has_gaps(), "{r:?}");
    }

    #[test]
    fn jails_with_their_own_list() {
        let text = "[DEFAULT]\nignoreip = 127.0.0.1/8\n\n[sshd]\nignoreip = 192.0.2.1\n\n\
                    [nginx-http-auth]\nignoreip = %(known/ignoreip)s 192.0.2.2\n";
        let r = checked("jail.local", text);
        assert_eq!(r.missing.len(), 22);
        // [nginx-http-auth] takes [DEFAULT]'s list along: its gaps are [DEFAULT]'s.
        assert_eq!(r.problems.len(), 1, "{r:?}");
        assert!(
            r.problems[0].starts_with("jail [sshd] sets its own ignoreip"),
            "{r:?}"
        );
        let merged = crate::snippet::fail2ban::merge(text, &embedded());
        let r = checked("jail.local", &merged);
        assert!(!r.has_gaps(), "{r:?}\n{merged}");
        let http = r
            .jails
            .iter()
            .find(|j| j.name == "nginx-http-auth")
            .unwrap();
        assert_eq!(http.ignoreip.len(), 1 + 22 + 1, "{http:?}");
    }

    #[test]
    fn a_jail_d_file_leaves_default_to_jail_local() {
        let path = "/etc/fail2ban/jail.d/web.local";
        let r = checked(path, "[nginx-http-auth]\nenabled = true\n");
        assert!(!r.has_gaps(), "{r:?}");
        assert!(r.notes[0].starts_with("a jail.d file without its own [DEFAULT] ignoreip"));
        assert_eq!(r.kind, crate::check::ListKind::Fail2ban);
        let own =
            "[sshd]\nignoreip = 192.0.2.1\n[nginx-limit-req]\nignoreip = %(known/ignoreip)s\n";
        let r = checked(path, own);
        assert_eq!(r.problems.len(), 1, "{r:?}");
        assert!(
            r.problems[0].starts_with("jail [sshd] sets its own ignoreip"),
            "{r:?}"
        );
        let options = crate::snippet::MergeOptions::for_path(Path::new(path));
        let merged = crate::snippet::fail2ban::merge_with(own, &embedded(), "x", options);
        assert!(!merged.contains("[DEFAULT]"), "{merged}");
        assert!(!checked(path, &merged).has_gaps(), "{merged}");
    }
}
