//! `fix`'s file safety as root, where it matters: a replaced configuration file and its backup
//! keep the original's owner and mode, a rejected file is left as it was (bytes, inode, owner,
//! mode, time), a symlink planted at the backup's name by another user is never followed
//! into a file of root's, and `undo` puts owner and bytes back. Without root these skip.

mod common;

use std::fs;
use std::os::unix::fs::{chown, symlink, MetadataExt, PermissionsExt};
use std::path::Path;

use cf_ban_audit_core::fix::files::{replace_validated, restore};
use cf_ban_audit_core::fix::journal::{self, Journal, JournalEntry};
use cf_ban_audit_core::fix::FixError;

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

fn need_root() -> bool {
    common::need(is_root().then_some(()), "fix file tests need root (chown)").is_some()
}

/// `path` owned by 1234:1234, mode 0640, holding `bytes`.
fn owned(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap();
    chown(path, Some(1234), Some(1234)).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o640)).unwrap();
}

fn owner_mode(path: &Path) -> (u32, u32, u32) {
    let m = fs::symlink_metadata(path).unwrap();
    (m.uid(), m.gid(), m.mode() & 0o7777)
}

#[test]
fn replace_and_backup_keep_owner_and_mode_and_restore_puts_them_back() {
    if !need_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jail.local");
    owned(&path, b"[DEFAULT]\nbantime = 1h\n");
    let mut during = None;
    let backup = replace_validated(
        &path,
        b"[DEFAULT]\nignoreip = 173.245.48.0/20\n",
        "T1",
        &mut |t: &Path| {
            during = Some(owner_mode(t));
            Ok(())
        },
    )
    .unwrap();
    // The tool's check already read a file of the final owner and mode.
    assert_eq!(during.unwrap(), (1234, 1234, 0o640));
    assert_eq!(owner_mode(&path), (1234, 1234, 0o640));
    assert_eq!(owner_mode(&backup.backup), (1234, 1234, 0o640));
    assert_eq!(
        fs::read(&backup.backup).unwrap(),
        b"[DEFAULT]\nbantime = 1h\n"
    );
    assert_eq!(
        fs::read(&path).unwrap(),
        b"[DEFAULT]\nignoreip = 173.245.48.0/20\n"
    );
    // Restored as it was, even after someone changed the file's owner and mode.
    chown(&path, Some(0), Some(0)).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
    restore(&backup).unwrap();
    assert_eq!(owner_mode(&path), (1234, 1234, 0o640));
    assert_eq!(fs::read(&path).unwrap(), b"[DEFAULT]\nbantime = 1h\n");
}

#[test]
fn a_rejected_file_is_left_exactly_as_it_was() {
    if !need_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jail.local");
    owned(&path, b"[sshd]\nenabled = true\n");
    let before = fs::metadata(&path).unwrap();
    let err = replace_validated(&path, b"[sshd\n", "T1", &mut |_: &Path| {
        Err("ERROR: No section: 'sshd'".to_string())
    })
    .unwrap_err();
    assert!(
        matches!(&err, FixError::Validation { why, .. } if why.contains("No section")),
        "{err}"
    );
    let after = fs::metadata(&path).unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"[sshd]\nenabled = true\n");
    assert_eq!(
        (
            after.ino(),
            after.uid(),
            after.gid(),
            after.mode(),
            after.mtime(),
            after.mtime_nsec()
        ),
        (
            before.ino(),
            before.uid(),
            before.gid(),
            before.mode(),
            before.mtime(),
            before.mtime_nsec()
        )
    );
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_link_another_user_planted_at_the_backup_name_never_reaches_roots_file() {
    if !need_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jail.local");
    owned(&path, b"old\n");
    let shadow = dir.path().join("shadow");
    fs::write(&shadow, b"root:*:20000:0:99999:7:::\n").unwrap();
    fs::set_permissions(&shadow, fs::Permissions::from_mode(0o600)).unwrap();
    let planted = dir.path().join("jail.local.cf-ban-audit.T1");
    symlink(&shadow, &planted).unwrap();
    std::os::unix::fs::lchown(&planted, Some(1234), Some(1234)).unwrap();
    let err = replace_validated(&path, b"new\n", "T1", &mut |_: &Path| Ok(())).unwrap_err();
    assert!(matches!(err, FixError::Refused { .. }), "{err}");
    assert_eq!(fs::read(&shadow).unwrap(), b"root:*:20000:0:99999:7:::\n");
    assert_eq!(owner_mode(&shadow), (0, 0, 0o600));
    assert_eq!(fs::read(&path).unwrap(), b"old\n");
    assert!(fs::symlink_metadata(&planted)
        .unwrap()
        .file_type()
        .is_symlink());
    // No temporary file was left behind.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 3);
}

#[test]
fn undo_restores_owner_and_bytes_of_every_file_written() {
    if !need_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let jail = dir.path().join("jail.local");
    let ignore = dir.path().join("csf.ignore");
    owned(&jail, b"[DEFAULT]\n");
    owned(&ignore, b"# csf.ignore\n127.0.0.1\n");
    let journal_path = dir.path().join("var").join("fix-T.jsonl");
    let mut journal = Journal::create(&journal_path).unwrap();
    for (stamp, extra) in [("T1", "a"), ("T2", "b")] {
        for path in [&jail, &ignore] {
            let mut bytes = fs::read(path).unwrap();
            bytes.extend_from_slice(extra.as_bytes());
            let backup = replace_validated(path, &bytes, stamp, &mut |_: &Path| Ok(())).unwrap();
            let mut entry = JournalEntry::new("write", "done", "restore the backup");
            entry.backup = Some(backup);
            journal.record(&entry).unwrap();
        }
    }
    let restored = journal::undo(&journal_path).unwrap();
    assert_eq!(restored.len(), 4);
    assert_eq!(fs::read(&jail).unwrap(), b"[DEFAULT]\n");
    assert_eq!(fs::read(&ignore).unwrap(), b"# csf.ignore\n127.0.0.1\n");
    assert_eq!(owner_mode(&jail), (1234, 1234, 0o640));
    assert_eq!(owner_mode(&ignore), (1234, 1234, 0o640));
    assert_eq!(owner_mode(&journal_path), (0, 0, 0o600));
}
