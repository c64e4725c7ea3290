//! The journal of a fix (the third safety rule): every action recorded, one JSON
//! object a line, with what was done and how to undo it, written and fsynced before the next
//! action, so that a fix cut short (a crash, a killed terminal during an outage) still says
//! what it changed. [`undo`] restores the backups of the configuration files it wrote, byte
//! for byte, newest first, and removes the files it created; it re-adds nothing that banned:
//! it restores configuration, not bans.
//!
//! Each write's entry holds the SHA-256 of the file before and after it. [`undo`] first
//! checks that every file still holds what the fix wrote (and, for a file written twice,
//! that the chain of writes is unbroken); when one was changed since, it restores nothing and
//! says which: restoring the backup would silently throw that change away.
//!
//! The journal is created with `O_CREAT | O_EXCL | O_NOFOLLOW` and mode 0600 in a directory
//! made 0700 (`/var/lib/cf-ban-audit/` by default): it names root's configuration files and
//! drives `undo`, so no one else may read, plant or extend it. A journal read for `undo` must
//! be a regular file that no other user can write, and each backup it names must sit beside
//! its file under the backup's name ([`files::restore`] checks).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::files::{self, Backup};
use super::FixError;

/// Where journals go by default.
pub const DEFAULT_DIR: &str = "/var/lib/cf-ban-audit";

/// One step of a fix, as the journal keeps it (one JSON object a line).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct JournalEntry {
    /// When (RFC 3339, UTC).
    pub time: String,
    /// What: `"lift"`, `"write"`, `"reload"`.
    pub action: String,
    /// The command run, if one was.
    #[serde(default)]
    pub argv: Option<Vec<String>>,
    /// The file written and its backup, for a write.
    #[serde(default)]
    pub backup: Option<Backup>,
    /// The file a write created where there was none ([`files::create_validated`]); undo
    /// removes it.
    #[serde(default)]
    pub created: Option<PathBuf>,
    /// For a write: the SHA-256 (hex) of the file before it (none for a file it created).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_sha256: Option<String>,
    /// For a write: the SHA-256 (hex) of what it wrote. [`undo`] restores nothing unless the
    /// file still holds exactly that: a change made since would be lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_sha256: Option<String>,
    /// For an `"allow"` entry: the command that takes the allowance back (`cscli allowlists
    /// remove ...`), which [`undo`] runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo_argv: Option<Vec<String>>,
    /// `"done"` or `"failed: ..."`.
    pub outcome: String,
    /// How to undo it, in words or a command.
    pub undo: String,
}

impl JournalEntry {
    /// An entry of now, without a command, a backup or a created file (set
    /// [`JournalEntry::argv`], [`JournalEntry::backup`] or [`JournalEntry::created`] after).
    pub fn new(action: &str, outcome: &str, undo: &str) -> JournalEntry {
        JournalEntry {
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            action: action.to_string(),
            argv: None,
            backup: None,
            created: None,
            before_sha256: None,
            after_sha256: None,
            undo_argv: None,
            outcome: outcome.to_string(),
            undo: undo.to_string(),
        }
    }
}

/// An open journal, one per fix run.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    /// Creates the journal file (`O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600; the directory —
    /// default `/var/lib/cf-ban-audit` — created 0700 if missing); one journal per fix run.
    pub fn create(path: &Path) -> Result<Journal, FixError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| FixError::io(dir, e))?;
            }
            let meta = fs::metadata(dir).map_err(|e| FixError::io(dir, e))?;
            // Others who may rename in the directory could swap the journal for their own;
            // a sticky directory (`/tmp`) lets them rename only their own files.
            if meta.mode() & 0o022 != 0 && meta.mode() & 0o1000 == 0 {
                return Err(FixError::refused(
                    dir,
                    "other users can write in this directory; a journal goes where only its owner can",
                ));
            }
        }
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(path)
            .map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => FixError::refused(
                    path,
                    "already exists (a journal is never reused, and a symlink there is not followed)",
                ),
                _ => FixError::io(path, e),
            })?;
        Ok(Journal {
            file,
            path: path.to_path_buf(),
        })
    }

    /// The default path: `/var/lib/cf-ban-audit/fix-<stamp>.jsonl`.
    pub fn default_path(stamp: &str) -> PathBuf {
        Path::new(DEFAULT_DIR).join(format!("fix-{stamp}.jsonl"))
    }

    /// Appends one entry and fsyncs.
    pub fn record(&mut self, entry: &JournalEntry) -> Result<(), FixError> {
        let mut line = serde_json::to_vec(entry).map_err(|e| FixError::io(&self.path, e.into()))?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| FixError::io(&self.path, e))
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads a journal: every entry, a malformed line an error naming the line. The journal must
/// be a regular file (not a symlink) that only its owner, this user or root, can write.
pub fn read(path: &Path) -> Result<Vec<JournalEntry>, FixError> {
    let meta = fs::symlink_metadata(path).map_err(|e| FixError::io(path, e))?;
    if !meta.file_type().is_file() {
        return Err(FixError::refused(
            path,
            "a journal is a regular file, not a symlink or other",
        ));
    }
    let me = rustix::process::geteuid().as_raw();
    if (meta.uid() != me && meta.uid() != 0) || meta.mode() & 0o022 != 0 {
        return Err(FixError::refused(
            path,
            "another user could have written this journal (its owner or mode); undo trusts only the journal it wrote",
        ));
    }
    let text = fs::read(path).map_err(|e| FixError::io(path, e))?;
    let mut entries = Vec::new();
    for (n, line) in text.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let entry = serde_json::from_slice(line).map_err(|e| {
            FixError::refused(path, format!("line {}: not a journal entry: {e}", n + 1))
        })?;
        entries.push(entry);
    }
    Ok(entries)
}

/// What undo does for one entry.
enum Step {
    /// Put the backup back.
    Restore(Backup),
    /// Remove the file the fix created.
    Remove(PathBuf),
    /// Take back what a tool was told to allow (an `"allow"` entry's command).
    Run(Vec<String>),
}

/// The programs an `"allow"` entry's undo may run.
const UNDO_PROGRAMS: &[&str] = &["cscli"];

/// Undoes a fix: restores every backup of a `"write"` entry whose outcome is `"done"`, newest
/// first, byte-identical, and removes every file such a write created; re-adds nothing that
/// banned (lifts are not undone: it restores configuration, not bans). Every backup is
/// checked (present, a regular file, beside its file under its name) before any is restored.
/// A created file already gone is left so. What a done `"allow"` entry allowed is taken back
/// with its recorded command (`cscli allowlists remove`, only `cscli`, run as
/// [`super::run::run_program`] runs programs), in the same newest-first order. Returns the
/// files restored or removed.
pub fn undo(path: &Path) -> Result<Vec<PathBuf>, FixError> {
    let mut steps = Vec::new();
    // What each file must hold now for the next (older) entry to be undone: the newest
    // entry's `after`, then each entry's `before` for the one before it.
    let mut expected: Vec<(PathBuf, Option<String>)> = Vec::new();
    for entry in read(path)?.into_iter().rev() {
        if entry.action == "allow" && entry.outcome == "done" {
            if let Some(argv) = entry.undo_argv {
                if !argv
                    .first()
                    .is_some_and(|p| UNDO_PROGRAMS.contains(&p.as_str()))
                {
                    return Err(FixError::refused(
                        path,
                        format!(
                            "an undo command that runs {:?}, which undo does not run",
                            argv.first()
                        ),
                    ));
                }
                steps.push(Step::Run(argv));
            }
            continue;
        }
        if entry.action != "write" || entry.outcome != "done" {
            continue;
        }
        let file = entry
            .backup
            .as_ref()
            .map(|b| b.path.clone())
            .or_else(|| entry.created.clone());
        if let (Some(file), Some(after)) = (file, &entry.after_sha256) {
            let now = match expected.iter().position(|(p, _)| *p == file) {
                Some(i) => expected.remove(i).1,
                None => sha256_of(&file)?,
            };
            if now.as_deref() != Some(after.as_str()) {
                return Err(FixError::refused(
                    &file,
                    format!(
                        "changed since the fix wrote it (its SHA-256 is {}, the fix wrote {after}): undo would lose that change, so nothing was restored; {}",
                        now.as_deref().unwrap_or("none: it is gone"),
                        entry.undo
                    ),
                ));
            }
            expected.push((file, entry.before_sha256.clone()));
        }
        if let Some(backup) = entry.backup {
            files::check_backup(&backup)?;
            steps.push(Step::Restore(backup));
        }
        if let Some(created) = entry.created {
            steps.push(Step::Remove(created));
        }
    }
    let mut undone = Vec::with_capacity(steps.len());
    for step in steps {
        match step {
            Step::Restore(backup) => {
                files::restore(&backup)?;
                undone.push(backup.path);
            }
            Step::Remove(created) => {
                match fs::symlink_metadata(&created) {
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    _ => {}
                }
                files::remove_created(&created)?;
                undone.push(created);
            }
            Step::Run(argv) => {
                super::run::run_program(&argv, super::apply::TIMEOUT)?;
            }
        }
    }
    Ok(undone)
}

/// The SHA-256 of `bytes`, as lowercase hex.
pub(crate) fn sha256(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The SHA-256 of the file at `path`, `None` when there is none (never following a symlink).
fn sha256_of(path: &Path) -> Result<Option<String>, FixError> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(FixError::io(path, e)),
        Ok(m) if !m.file_type().is_file() => {
            return Err(FixError::refused(path, "not a regular file any more"))
        }
        Ok(_) => {}
    }
    fs::read(path)
        .map(|bytes| Some(sha256(&bytes)))
        .map_err(|e| FixError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::files::replace_validated;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn undo_restores_two_files_written_twice_byte_identical() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("jail.local");
        let b = dir.path().join("csf.ignore");
        fs::write(&a, "a0\n").unwrap();
        fs::write(&b, b"b0\n\xff").unwrap();
        let journal_path = dir.path().join("journal").join("fix-1.jsonl");
        let mut journal = Journal::create(&journal_path).unwrap();
        let mut ok = |_: &Path| Ok(());
        for (stamp, content) in [("1", "x1"), ("2", "x2")] {
            for path in [&a, &b] {
                let backup = replace_validated(path, content.as_bytes(), stamp, &mut ok).unwrap();
                let mut entry = JournalEntry::new("write", "done", "restore the backup");
                entry.backup = Some(backup);
                journal.record(&entry).unwrap();
            }
        }
        let mut lift = JournalEntry::new("lift", "done", "nothing: a lift is not undone");
        lift.argv = Some(vec!["fail2ban-client".into(), "unban".into()]);
        journal.record(&lift).unwrap();
        assert_eq!(read(&journal_path).unwrap().len(), 5);
        assert_eq!(fs::read(&a).unwrap(), b"x2");
        let restored = undo(&journal_path).unwrap();
        assert_eq!(restored, [b.clone(), a.clone(), b.clone(), a.clone()]);
        assert_eq!(fs::read(&a).unwrap(), b"a0\n");
        assert_eq!(fs::read(&b).unwrap(), b"b0\n\xff");
        assert!(Journal::create(&journal_path).is_err());
    }

    #[test]
    fn undo_restores_nothing_when_a_file_changed_since_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("jail.local");
        let b = dir.path().join("csf.ignore");
        fs::write(&a, "a0\n").unwrap();
        fs::write(&b, "b0\n").unwrap();
        let journal_path = dir.path().join("fix.jsonl");
        let mut journal = Journal::create(&journal_path).unwrap();
        let mut ok = |_: &Path| Ok(());
        for (stamp, content) in [("1", "x1"), ("2", "x2")] {
            for path in [&a, &b] {
                let before = sha256(&fs::read(path).unwrap());
                let backup = replace_validated(path, content.as_bytes(), stamp, &mut ok).unwrap();
                let mut entry = JournalEntry::new("write", "done", "restore the backup");
                entry.backup = Some(backup);
                entry.before_sha256 = Some(before);
                entry.after_sha256 = Some(sha256(content.as_bytes()));
                journal.record(&entry).unwrap();
            }
        }
        // Someone edits csf.ignore after the fix: undo refuses before restoring anything.
        fs::write(&b, "x2\n192.0.2.9\n").unwrap();
        let err = undo(&journal_path).unwrap_err().to_string();
        assert!(err.contains("changed since the fix wrote it"), "{err}");
        assert_eq!(fs::read(&a).unwrap(), b"x2");
        assert_eq!(fs::read(&b).unwrap(), b"x2\n192.0.2.9\n");
        // Put back as the fix left it: the whole chain is undone, byte-identical.
        fs::write(&b, "x2").unwrap();
        assert_eq!(undo(&journal_path).unwrap().len(), 4);
        assert_eq!(fs::read(&a).unwrap(), b"a0\n");
        assert_eq!(fs::read(&b).unwrap(), b"b0\n");
    }

    #[test]
    fn undo_takes_back_an_allowance_with_its_recorded_command_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let allow = |undo: &[&str]| {
            let mut entry = JournalEntry::new("allow", "done", "take it back");
            entry.argv = Some(vec!["cscli".into(), "allowlists".into(), "add".into()]);
            entry.undo_argv = Some(undo.iter().map(|w| w.to_string()).collect());
            entry
        };
        // Only cscli is run: a journal naming another program is refused before anything.
        let path = dir.path().join("shell.jsonl");
        let mut journal = Journal::create(&path).unwrap();
        journal.record(&allow(&["sh", "-c", "rm -rf /"])).unwrap();
        let err = undo(&path).unwrap_err().to_string();
        assert!(err.contains("which undo does not run"), "{err}");
        // cscli's own command is run (here it is not installed, and undo says so).
        let path = dir.path().join("cscli.jsonl");
        let mut journal = Journal::create(&path).unwrap();
        journal
            .record(&allow(&[
                "cscli",
                "allowlists",
                "remove",
                "cloudflare",
                "173.245.48.0/20",
            ]))
            .unwrap();
        match undo(&path) {
            Ok(files) => assert!(files.is_empty()),
            Err(e) => assert!(e.to_string().starts_with("cscli allowlists remove"), "{e}"),
        }
        // A failed allowance is not taken back.
        let path = dir.path().join("failed.jsonl");
        let mut journal = Journal::create(&path).unwrap();
        let mut failed = allow(&["sh", "-c", "exit 1"]);
        failed.outcome = "failed: exit status: 1".into();
        journal.record(&failed).unwrap();
        assert!(undo(&path).unwrap().is_empty());
    }

    #[test]
    fn a_journal_is_new_private_and_never_planted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join("fix-S.jsonl");
        let journal = Journal::create(&path).unwrap();
        assert_eq!(journal.path(), path);
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        assert_eq!(
            fs::metadata(path.parent().unwrap()).unwrap().mode() & 0o777,
            0o700
        );
        // An existing file, a symlink to one, a dangling symlink: refused, nothing followed.
        let target = dir.path().join("target");
        fs::write(&target, "keep").unwrap();
        let linked = dir.path().join("linked.jsonl");
        std::os::unix::fs::symlink(&target, &linked).unwrap();
        let dangling = dir.path().join("dangling.jsonl");
        std::os::unix::fs::symlink(dir.path().join("made"), &dangling).unwrap();
        for p in [&path, &linked, &dangling] {
            let err = Journal::create(p).unwrap_err();
            assert!(matches!(err, FixError::Refused { .. }), "{err}");
        }
        assert_eq!(fs::read(&target).unwrap(), b"keep");
        assert!(!dir.path().join("made").exists());
        // A directory others may rename in is refused.
        let open_dir = dir.path().join("open");
        fs::create_dir(&open_dir).unwrap();
        fs::set_permissions(&open_dir, fs::Permissions::from_mode(0o777)).unwrap();
        assert!(Journal::create(&open_dir.join("j.jsonl")).is_err());
        assert_eq!(
            Journal::default_path("20261203T174500Z"),
            Path::new("/var/lib/cf-ban-audit/fix-20261203T174500Z.jsonl")
        );
    }

    #[test]
    fn a_malformed_line_is_named_and_a_journal_others_can_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fix.jsonl");
        let mut journal = Journal::create(&path).unwrap();
        journal
            .record(&JournalEntry::new("reload", "done", "nothing"))
            .unwrap();
        drop(journal);
        let mut text = fs::read_to_string(&path).unwrap();
        let entries = read(&path).unwrap();
        assert_eq!(entries[0].action, "reload");
        assert!(entries[0].time.ends_with('Z'), "{}", entries[0].time);
        text.push_str("{\"time\": 1}\n");
        fs::write(&path, text).unwrap();
        let err = read(&path).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
        let err = read(&path).unwrap_err();
        assert!(err.to_string().contains("another user"), "{err}");
    }

    #[test]
    fn undo_restores_only_done_writes_and_checks_every_backup_first() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.conf");
        fs::write(&a, "a0").unwrap();
        let path = dir.path().join("fix.jsonl");
        let mut journal = Journal::create(&path).unwrap();
        let backup = replace_validated(&a, b"a1", "S", &mut |_: &Path| Ok(())).unwrap();
        // A failed write named with a backup is not restored.
        let mut failed = JournalEntry::new("write", "failed: rejected", "nothing");
        failed.backup = Some(backup.clone());
        journal.record(&failed).unwrap();
        assert_eq!(undo(&path).unwrap(), Vec::<PathBuf>::new());
        assert_eq!(fs::read(&a).unwrap(), b"a1");
        // A done write, then one whose backup is not beside its file: nothing is restored.
        let mut done = JournalEntry::new("write", "done", "restore");
        done.backup = Some(backup);
        journal.record(&done).unwrap();
        let mut forged = JournalEntry::new("write", "done", "restore");
        forged.backup = Some(Backup {
            path: Path::new("/etc/passwd").into(),
            backup: a.clone(),
        });
        journal.record(&forged).unwrap();
        assert!(matches!(undo(&path), Err(FixError::Refused { .. })));
        assert_eq!(fs::read(&a).unwrap(), b"a1");
    }

    #[test]
    fn undo_removes_a_created_file_after_restoring_its_later_write() {
        let dir = tempfile::tempdir().unwrap();
        let created = dir.path().join("jail.local");
        let path = dir.path().join("fix.jsonl");
        let mut journal = Journal::create(&path).unwrap();
        files::create_validated(&created, b"[DEFAULT]\n", 0o644, &mut |_: &Path| Ok(())).unwrap();
        let mut entry = JournalEntry::new("write", "done", "remove the file");
        entry.created = Some(created.clone());
        journal.record(&entry).unwrap();
        let backup =
            replace_validated(&created, b"[DEFAULT]\nx\n", "S", &mut |_: &Path| Ok(())).unwrap();
        let mut entry = JournalEntry::new("write", "done", "restore the backup");
        entry.backup = Some(backup);
        journal.record(&entry).unwrap();
        assert_eq!(
            read(&path).unwrap()[0].created.as_deref(),
            Some(created.as_path())
        );
        assert_eq!(undo(&path).unwrap(), [created.clone(), created.clone()]);
        assert!(!created.exists());
        // Again: the same end, no file.
        assert_eq!(undo(&path).unwrap(), [created.clone(), created.clone()]);
        assert!(!created.exists());
        // A created file already gone is left so.
        let mut only = Journal::create(&dir.path().join("only.jsonl")).unwrap();
        let mut entry = JournalEntry::new("write", "done", "remove the file");
        entry.created = Some(created.clone());
        only.record(&entry).unwrap();
        assert_eq!(undo(only.path()).unwrap(), Vec::<PathBuf>::new());
    }
}
