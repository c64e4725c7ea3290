//! fail2ban's part of a fix's plan: merge the ranges into `jail.local` and into every
//! `jail.d` fragment that sets an `ignoreip` of its own, then reload fail2ban.
//!
//! fail2ban reads `jail.conf`, `jail.d/*.conf`, `jail.local`, then `jail.d/*.local`, each
//! section's options overriding those read before (`fail2ban/client/configreader.py`,
//! `JailsReader`). A jail whose `ignoreip` is set in a fragment read after `jail.local` takes
//! the fragment's value, so the ranges must be in that one too. A fragment is extended where
//! it sets `ignoreip` and nowhere else: a `[DEFAULT]` `ignoreip` added to it would replace
//! `jail.local`'s, dropping every entry of the admin's own.

use std::path::{Path, PathBuf};

use super::plan::{merge_warnings, read_text, LeftForPerson, PlanOptions, Step};
use crate::check;
use crate::snippet::{self, MergeOptions, Target};
use crate::{RangeSet, Tool};

/// The steps for fail2ban's configuration directory `dir`: the writes of `jail.local` and of
/// the `jail.d` fragments whose `ignoreip` lacks ranges, then one reload; none when every file
/// covers them. Errs (a note for a person) when `dir` is not fail2ban's configuration
/// directory or a file of it cannot be read or merged.
pub(super) fn steps(
    dir: &Path,
    ranges: &RangeSet,
    options: &PlanOptions,
) -> Result<Vec<Step>, LeftForPerson> {
    if !dir.join("jail.conf").is_file() && !dir.join("jail.local").is_file() {
        return Err(LeftForPerson {
            tool: Tool::Fail2ban,
            scope: None,
            address: None,
            why: format!(
                "{}: no jail.conf or jail.local, not fail2ban's configuration directory: name it with --fail2ban-config DIR",
                dir.display()
            ),
            command: Some("cf-ban-audit snippet fail2ban".to_string()),
        });
    }
    let fail2ban_left = |why: String| LeftForPerson {
        tool: Tool::Fail2ban,
        scope: None,
        address: None,
        why,
        command: Some("cf-ban-audit snippet fail2ban".to_string()),
    };
    let fragments = fragments_with_ignoreip(dir).map_err(fail2ban_left)?;
    let mut steps = Vec::new();
    for path in std::iter::once(dir.join("jail.local")).chain(fragments) {
        let write = write_step(&path, ranges).map_err(fail2ban_left)?;
        if let Some(write) = write {
            steps.push(write);
        }
    }
    if !steps.is_empty() {
        steps.push(Step::Reload {
            tool: Tool::Fail2ban,
            argv: reload(options),
        });
    }
    Ok(steps)
}

/// The write of `path` (jail.local or a fragment) with the ranges merged in, or `None` when
/// it covers them. A missing `jail.local` is created; a fragment exists by construction.
fn write_step(path: &Path, ranges: &RangeSet) -> Result<Option<Step>, String> {
    let (existing, exists) = read_text(path)?;
    let options = MergeOptions::for_path(path);
    let merged = Target::Fail2ban
        .merge_with(&existing, ranges, options)
        .ok_or_else(|| format!("{}: cannot be merged", path.display()))?;
    let checked = check::check_text(path, &existing, ranges);
    let covered = checked.missing.is_empty() && checked.problems.is_empty();
    if exists && (merged == existing || covered) {
        return Ok(None);
    }
    Ok(Some(Step::WriteJailLocal {
        extends_default: !options.fragment || sets_default_ignoreip(&existing),
        jails_extended: snippet::fail2ban_jails_extended(&existing, ranges),
        warnings: merge_warnings(Target::Fail2ban, &existing, ranges, options),
        path: path.to_path_buf(),
        exists,
        content: merged,
    }))
}

/// Whether a fail2ban file sets `ignoreip` in its `[DEFAULT]` section.
fn sets_default_ignoreip(text: &str) -> bool {
    let mut in_default = false;
    text.lines().any(|line| {
        let line = line.trim();
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_default = section.trim() == "DEFAULT";
            return false;
        }
        in_default && is_ignoreip_line(line)
    })
}

/// Whether a line sets `ignoreip`.
fn is_ignoreip_line(line: &str) -> bool {
    line.split_once('=')
        .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("ignoreip"))
}

/// The `jail.d` fragments (in fail2ban's reading order) with an `ignoreip` line of their own.
fn fragments_with_ignoreip(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for path in check::fail2ban_files(dir).map_err(|e| e.to_string())? {
        if !snippet::is_jail_d_fragment(&path) {
            continue;
        }
        let (text, _) = read_text(&path)?;
        if text.lines().any(is_ignoreip_line) {
            out.push(path);
        }
    }
    Ok(out)
}

/// `fail2ban-client [-c DIR] [-s SOCKET] reload`.
fn reload(options: &PlanOptions) -> Vec<String> {
    let mut argv = vec!["fail2ban-client".to_string()];
    if let (true, Some(dir)) = (options.fail2ban_config_named, &options.fail2ban_config) {
        argv.extend(["-c".to_string(), dir.display().to_string()]);
    }
    if let Some(socket) = &options.fail2ban_socket {
        argv.extend(["-s".to_string(), socket.display().to_string()]);
    }
    argv.push("reload".to_string());
    argv
}
