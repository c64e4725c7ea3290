//! Running a [`Plan`]: each step in order, each recorded in the journal with its outcome and
//! how to undo it; and the verdict of the re-scan that follows.
//!
//! - A lift runs its command with [`run_program`] (absolute path from the system
//!   directories, no shell, 30 s timeout). A failed lift does not stop the others.
//! - `jail.local`, and each `jail.d` fragment with an `ignoreip` of its own, is replaced
//!   with [`replace_validated`] (backup beside it, atomic rename), or created with
//!   [`create_validated`] when there is none, and only after fail2ban's own reading of the
//!   new file accepts it: the configuration directory is copied to a private temporary
//!   directory with the new file in its place, and `fail2ban-client -c TMPDIR -d` must exit 0
//!   without an `ERROR` line. A rejected file is left byte-identical.
//! - A configuration file that the tool's own program checks (`Step::WriteConfig`) is put in
//!   place only after that check accepts it with the new file bind-mounted in place in a
//!   private mount namespace (`in_place`).
//! - `csf.ignore` is replaced the same way (created with mode 0600 when missing). csf has no
//!   check of its own, so the new file is read back as lfd reads it: it must hold every range
//!   of the set, and every line in it that holds an address lfd does not load must have been
//!   there before. Otherwise `csf.ignore` stays byte-identical and `csf -r` is skipped.
//! - btwaf's `rule/ip_white.json` and `rule/ip_white_v6.json` likewise (mode 0644 when
//!   created): the new file must be a JSON array of the pairs btwaf's loader reads, and load
//!   every range of its family. nginx's reload, which makes btwaf read it, is left to the panel.
//! - CrowdSec's parser whitelist is written as a checked configuration file (`crowdsec -c
//!   CONFIG -t` with the new file in place); its allowlist commands (`cscli allowlists create`,
//!   `add`) run like lifts, each journaled with the command that undoes it.
//! - A tool is reloaded only when at least one of its files was written; a rejected file is
//!   left as it was, and the others of the same tool (jail.local, a `jail.d` fragment) are
//!   each checked with the files already written in place.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::files::{create_validated, replace_validated, Backup};
use super::in_place::{check_in_place, copy_tree, private_temp_dir};
use super::journal::{sha256, Journal, JournalEntry};
use super::plan::{LeftForPerson, Plan, Step};
use super::run::run_program;
use crate::snippet::btwaf;
use crate::{check, RangeSet, Report, Tool};

/// How long one program may run.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// What became of one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StepOutcome {
    /// The step.
    pub step: Step,
    /// `done`, `failed: WHY` or `skipped: WHY`.
    pub outcome: String,
}

impl StepOutcome {
    /// Whether the step was done.
    pub fn done(&self) -> bool {
        self.outcome == "done"
    }
}

/// Runs every step of `plan` in order, recording each in `journal`; `stamp` names the
/// backups ([`super::files::stamp_now`]), `ranges` is the range set the plan was built with
/// (a new `csf.ignore` must cover it). Errors only when the journal cannot be written (then
/// nothing more runs).
pub fn apply(
    plan: &Plan,
    ranges: &RangeSet,
    journal: &mut Journal,
    stamp: &str,
) -> Result<Vec<StepOutcome>, super::FixError> {
    let mut outcomes = Vec::new();
    // The tools with a configuration file written: only those are reloaded.
    let mut written: Vec<Tool> = Vec::new();
    for step in &plan.steps {
        let (outcome, entry) = match step {
            Step::Lift { argv, .. } => {
                let outcome = run(argv);
                let mut entry = JournalEntry::new(
                    "lift",
                    &outcome,
                    "nothing: a lifted ban is not re-added (the tool bans again if it must)",
                );
                entry.argv = Some(argv.clone());
                (outcome, Some(entry))
            }
            Step::WriteJailLocal {
                path,
                exists,
                content,
                ..
            } => {
                let (outcome, done) = write_jail_local(path, *exists, content, stamp);
                if outcome == "done" {
                    written.push(Tool::Fail2ban);
                }
                (outcome.clone(), Some(write_entry(&outcome, done, content)))
            }
            Step::WriteIgnoreList {
                tool,
                path,
                exists,
                content,
                ..
            } => {
                let v6 = path.ends_with(btwaf::IP_WHITE_V6);
                let mut validate = |temp: &Path| match tool {
                    Tool::Btwaf => btwaf_loads(temp, ranges, v6),
                    _ => csf_ignore_covers(path, temp, ranges),
                };
                // csf ships its files 0600; the panel writes btwaf's 0644.
                let mode = if *tool == Tool::Btwaf { 0o644 } else { 0o600 };
                let (outcome, done) =
                    write_validated(path, *exists, content, stamp, mode, &mut validate);
                if outcome == "done" {
                    written.push(*tool);
                }
                (outcome.clone(), Some(write_entry(&outcome, done, content)))
            }
            Step::WriteConfig {
                tool,
                path,
                exists,
                check,
                check_names_file,
                content,
                ..
            } => {
                let mut validate =
                    |temp: &Path| config_accepted(path, temp, check, *check_names_file);
                let (outcome, done) =
                    write_validated(path, *exists, content, stamp, 0o644, &mut validate);
                if outcome == "done" {
                    written.push(*tool);
                }
                (outcome.clone(), Some(write_entry(&outcome, done, content)))
            }
            Step::Allow { argv, undo, .. } => {
                let outcome = run(argv);
                let words = format!(
                    "cf-ban-audit fix --undo JOURNAL (runs {})",
                    crate::shell_words(undo)
                );
                let mut entry = JournalEntry::new("allow", &outcome, &words);
                entry.argv = Some(argv.clone());
                entry.undo_argv = Some(undo.clone());
                (outcome, Some(entry))
            }
            // Nothing ran: no journal entry.
            Step::Reload { tool, .. } if !written.contains(tool) => (
                "skipped: the configuration was not written".to_string(),
                None,
            ),
            Step::Reload { argv, .. } => {
                let outcome = run(argv);
                let mut entry = JournalEntry::new(
                    "reload",
                    &outcome,
                    "reload again after the undo of the write",
                );
                entry.argv = Some(argv.clone());
                (outcome, Some(entry))
            }
        };
        if let Some(entry) = entry {
            journal.record(&entry)?;
        }
        outcomes.push(StepOutcome {
            step: step.clone(),
            outcome,
        });
    }
    Ok(outcomes)
}

/// Runs `argv`: `done`, or `failed: ` with the exit status and the program's words.
fn run(argv: &[String]) -> String {
    match run_program(argv, TIMEOUT) {
        Ok(out) if out.status.success() => "done".to_string(),
        Ok(out) => format!(
            "failed: {} ({})",
            out.status,
            first_words(&out.stderr, &out.stdout)
        ),
        Err(e) => format!("failed: {e}"),
    }
}

/// The first line of `stderr`, else of `stdout`, at most 200 characters.
fn first_words(stderr: &[u8], stdout: &[u8]) -> String {
    let text = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .lines()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim().chars().take(200).collect::<String>())
    };
    text(stderr)
        .or_else(|| text(stdout))
        .unwrap_or_else(|| "no output".to_string())
}

/// The journal entry of a write: its backup or the file it created, and how to undo it.
fn write_entry(outcome: &str, written: Written, content: &str) -> JournalEntry {
    let undo = match (&written.backup, &written.created) {
        (Some(b), _) => format!(
            "cf-ban-audit fix --undo JOURNAL (restores {} from {})",
            b.path.display(),
            b.backup.display()
        ),
        (None, Some(created)) => format!(
            "cf-ban-audit fix --undo JOURNAL (removes {}, which the fix created)",
            created.display()
        ),
        (None, None) => "nothing: the file was left as it was".to_string(),
    };
    let mut entry = JournalEntry::new("write", outcome, &undo);
    if written.backup.is_some() || written.created.is_some() {
        // The backup is a byte-identical copy of the file before.
        entry.before_sha256 = written
            .backup
            .as_ref()
            .and_then(|b| fs::read(&b.backup).ok())
            .map(|bytes| sha256(&bytes));
        entry.after_sha256 = Some(sha256(content.as_bytes()));
    }
    entry.backup = written.backup;
    entry.created = written.created;
    entry
}

/// What a write did: the backup of the file it replaced, or the file it created.
#[derive(Default)]
struct Written {
    backup: Option<Backup>,
    created: Option<PathBuf>,
}

/// Writes `jail.local`, validated by fail2ban: replaced after a backup when it `exists`, else
/// created (mode 0644, as Debian ships fail2ban's files) only where there is still none.
fn write_jail_local(path: &Path, exists: bool, content: &str, stamp: &str) -> (String, Written) {
    // The configuration directory: a fragment's is the one above `jail.d`.
    let levels = if crate::snippet::is_jail_d_fragment(path) {
        2
    } else {
        1
    };
    let Some(dir) = path.ancestors().nth(levels) else {
        return (
            format!("failed: {}: no directory", path.display()),
            Written::default(),
        );
    };
    let Ok(relative) = path.strip_prefix(dir) else {
        return (
            format!("failed: {}: not in {}", path.display(), dir.display()),
            Written::default(),
        );
    };
    let mut validate = |temp: &Path| fail2ban_accepts(dir, relative, temp);
    write_validated(path, exists, content, stamp, 0o644, &mut validate)
}

/// Writes `path` once `validate` accepts the new content: replaced after a backup when it
/// `exists`, else created with `mode` only where there is still none.
fn write_validated(
    path: &Path,
    exists: bool,
    content: &str,
    stamp: &str,
    mode: u32,
    validate: &mut dyn FnMut(&Path) -> Result<(), String>,
) -> (String, Written) {
    if exists {
        match replace_validated(path, content.as_bytes(), stamp, validate) {
            Ok(backup) => (
                "done".to_string(),
                Written {
                    backup: Some(backup),
                    created: None,
                },
            ),
            Err(e) => (format!("failed: {e}"), Written::default()),
        }
    } else {
        match create_validated(path, content.as_bytes(), mode, validate) {
            Ok(()) => (
                "done".to_string(),
                Written {
                    backup: None,
                    created: Some(path.to_path_buf()),
                },
            ),
            Err(e) => (format!("failed: {e}"), Written::default()),
        }
    }
}

/// Whether the tool's own `check` accepts the configuration with `temp` in place of `path`
/// (run in a private mount namespace, [`check_in_place`]); when `names_file`, the check's
/// output (`nginx -T`, `apache2ctl -D DUMP_INCLUDES`) must name `path`, so that the tool is
/// known to read it.
fn config_accepted(
    path: &Path,
    temp: &Path,
    check: &[String],
    names_file: bool,
) -> Result<(), String> {
    let out = check_in_place(path, temp, check, TIMEOUT)?;
    if names_file {
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !said.contains(&path.display().to_string()) {
            return Err(format!(
                "{} does not read {}: no configuration it loads includes it",
                check.join(" "),
                path.display()
            ));
        }
    }
    Ok(())
}

/// Whether btwaf's loader takes the new whitelist at `temp` (`v6`: `ip_white_v6.json`) and
/// loads every range of its family from it (btwaf has no check of its own either).
fn btwaf_loads(temp: &Path, ranges: &RangeSet, v6: bool) -> Result<(), String> {
    let text = fs::read(temp).map_err(|e| format!("{}: {e}", temp.display()))?;
    let text = String::from_utf8(text).map_err(|_| "not UTF-8 text".to_string())?;
    btwaf::check_ip_white(&text, ranges, v6)
}

/// Whether the new `csf.ignore` at `temp` (to replace `path`) is one lfd reads every range of
/// `ranges` from, and every line of it that holds an address lfd does not load was in the old
/// file already. csf has no check of its own (nothing like `fail2ban-client -d`): this reads
/// the file back as lfd reads it.
fn csf_ignore_covers(path: &Path, temp: &Path, ranges: &RangeSet) -> Result<(), String> {
    let read = |p: &Path| -> Result<String, String> {
        match fs::read(p) {
            Ok(bytes) => {
                String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", p.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && p == path => Ok(String::new()),
            Err(e) => Err(format!("{}: {e}", p.display())),
        }
    };
    let new = check::check_text(path, &read(temp)?, ranges);
    if !new.missing.is_empty() {
        return Err(format!(
            "lfd would not read {} of the ranges from it (first {})",
            new.missing.len(),
            new.missing[0]
        ));
    }
    let old = check::check_text(path, &read(path)?, ranges);
    match new.problems.iter().find(|p| !old.problems.contains(p)) {
        Some(problem) => Err(format!("a new line lfd does not read: {problem}")),
        None => Ok(()),
    }
}

/// Whether fail2ban reads configuration directory `dir` with `new` as its file `relative`
/// (`jail.local`, `jail.d/web.local`): `fail2ban-client -c COPY -d` on a private copy, exit
/// 0 and no `ERROR`.
fn fail2ban_accepts(dir: &Path, relative: &Path, new: &Path) -> Result<(), String> {
    let copy = private_temp_dir().map_err(|e| format!("a temporary directory: {e}"))?;
    let result = (|| {
        copy_tree(dir, &copy).map_err(|e| format!("copying {}: {e}", dir.display()))?;
        // The temporary file beside the original was copied too, under a name fail2ban
        // does not read (`.NAME.cf-ban-audit.*.tmp`).
        fs::copy(new, copy.join(relative))
            .map_err(|e| format!("copying the new {}: {e}", relative.display()))?;
        let argv: Vec<String> = vec![
            "fail2ban-client".into(),
            "-c".into(),
            copy.display().to_string(),
            "-d".into(),
        ];
        let out = run_program(&argv, TIMEOUT).map_err(|e| e.to_string())?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        let error = text.lines().find(|l| l.contains("ERROR"));
        match (out.status.success(), error) {
            (true, None) => Ok(()),
            // From `ERROR` on: the time and the logger before it say nothing.
            (_, Some(line)) => Err(format!(
                "fail2ban rejects it: {}",
                line[line.find("ERROR").unwrap_or(0)..]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .chars()
                    .take(300)
                    .collect::<String>()
            )),
            (false, None) => Err(format!(
                "fail2ban rejects it: {} ({})",
                out.status,
                first_words(&out.stderr, &out.stdout)
            )),
        }
    })();
    let _ = fs::remove_dir_all(&copy);
    result
}

/// One ban, as the verdict names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BanRef {
    /// The tool.
    pub tool: Tool,
    /// Its jail, set, chain or rule.
    pub scope: String,
    /// The address.
    pub address: String,
}

/// A configuration file that now keeps a tool from banning the ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Ignoring {
    /// The tool that reads it.
    pub tool: Tool,
    /// The file (`allowlist cloudflare` for CrowdSec's allowlist).
    pub path: String,
    /// What a file written by the tool's own check does, as the step said it (a web server's
    /// real-IP configuration restores visitor addresses rather than ignoring the ranges).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}

/// What the re-scan after a fix says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Verdict {
    /// The bans a lift step was for that the re-scan no longer finds in force.
    pub lifted: Vec<BanRef>,
    /// Every ban of an address of the set still in force.
    pub still_in_force: Vec<BanRef>,
    /// The configuration files written that now cover every range (`check` finds no gap, or
    /// the tool's own check accepted them).
    pub now_ignore: Vec<Ignoring>,
    /// What the plan left for a person, and every step that failed.
    pub left_for_person: Vec<LeftForPerson>,
    /// The errors of the re-scan (an unreadable file, a failed live read): a ban behind one
    /// of them is in neither list, so the verdict is not an all-clear.
    pub scan_errors: Vec<String>,
}

impl Verdict {
    /// Whether nothing is left in force, as far as a re-scan without errors can tell.
    pub fn all_clear(&self) -> bool {
        self.still_in_force.is_empty() && self.scan_errors.is_empty()
    }
}

/// The verdict of `rescan`, the scan after `outcomes` of `plan`.
pub fn verdict(
    plan: &Plan,
    outcomes: &[StepOutcome],
    rescan: &Report,
    ranges: &RangeSet,
) -> Verdict {
    let in_force: Vec<BanRef> = rescan
        .findings
        .iter()
        .filter(|f| f.active)
        .map(|f| BanRef {
            tool: f.tool,
            scope: f.scope.clone(),
            address: f.address_text(),
        })
        .collect();
    let mut lifted = Vec::new();
    let mut now_ignore = Vec::new();
    let mut left = plan.left_for_person.clone();
    for o in outcomes {
        match &o.step {
            Step::Lift {
                tool,
                scope,
                address,
                ..
            } => {
                let ban = BanRef {
                    tool: *tool,
                    scope: scope.clone(),
                    address: address.clone(),
                };
                if !in_force.contains(&ban) {
                    lifted.push(ban);
                }
            }
            Step::WriteConfig { path, purpose, .. } => {
                // Its check accepted it before it was put in place.
                if o.done() {
                    now_ignore.push(Ignoring {
                        tool: step_tool(&o.step),
                        path: path.display().to_string(),
                        purpose: Some(purpose.clone()),
                    });
                }
            }
            Step::WriteJailLocal { path, .. } | Step::WriteIgnoreList { path, .. } => {
                // A line of csf.ignore that lfd does not load was there before the fix
                // (its validation allows no new one) and takes nothing away.
                let ignore_list = matches!(o.step, Step::WriteIgnoreList { .. });
                let covered = if step_tool(&o.step) == Tool::Btwaf {
                    // Each of btwaf's two files holds one family.
                    btwaf_loads(path, ranges, path.ends_with(btwaf::IP_WHITE_V6)).is_ok()
                } else {
                    check::check_file(path, ranges).is_ok_and(|c| {
                        c.missing.is_empty() && (ignore_list || c.problems.is_empty())
                    })
                };
                if o.done() && covered {
                    now_ignore.push(Ignoring {
                        tool: step_tool(&o.step),
                        path: path.display().to_string(),
                        purpose: None,
                    });
                }
            }
            Step::Allow { tool, argv, .. } => {
                // The list holds the ranges once their `add` is done.
                if o.done() && argv.iter().any(|w| w == "add") {
                    now_ignore.push(Ignoring {
                        tool: *tool,
                        path: format!("allowlist {}", super::crowdsec::ALLOWLIST),
                        purpose: None,
                    });
                }
            }
            Step::Reload { .. } => {}
        }
        if o.outcome.starts_with("failed") {
            left.push(LeftForPerson {
                tool: step_tool(&o.step),
                scope: None,
                address: None,
                why: o.outcome.clone(),
                command: None,
            });
        }
    }
    Verdict {
        lifted,
        still_in_force: in_force,
        now_ignore,
        left_for_person: left,
        scan_errors: rescan.errors.iter().map(|e| e.message.clone()).collect(),
    }
}

/// The tool a step is for.
fn step_tool(step: &Step) -> Tool {
    match step {
        Step::Lift { tool, .. } | Step::Reload { tool, .. } | Step::Allow { tool, .. } => *tool,
        Step::WriteJailLocal { .. } => Tool::Fail2ban,
        Step::WriteIgnoreList { tool, .. } | Step::WriteConfig { tool, .. } => *tool,
    }
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
