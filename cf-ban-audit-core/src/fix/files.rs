//! Replacing a configuration file the way a fix run as root must (the second safety
//! rule), and putting it back.
//!
//! - The file to replace must be a regular file named directly, never a symlink: root writing
//!   through a link would replace whatever the link points at (`/etc/shadow`, a file of
//!   another user), so a link is refused and the user names the file itself.
//! - A backup of its bytes is made first, beside it (`NAME.cf-ban-audit.<stamp>`), with
//!   `O_CREAT | O_EXCL | O_NOFOLLOW`: an existing file or a symlink planted at that name is an
//!   error, never followed or overwritten, so a backup always holds what the fix replaced and
//!   nothing else is ever written. It gets the original's owner and mode (the file may hold
//!   secrets, and `undo` puts it back as it was) and is fsynced before anything else happens.
//! - The new content goes to a temporary file in the same directory (so that the rename is
//!   atomic: a reader or a reload sees the old file or the new one, never half of one),
//!   created with `O_EXCL | O_NOFOLLOW` under a random name (a symlink planted there is never
//!   followed; another name is tried), with the original's owner and mode, fsynced.
//! - The tool's own check (`fail2ban-client -t`, `nginx -t`) reads the temporary file; when
//!   it rejects it the temporary file and the backup are removed and the original is left
//!   byte for byte as it was, with the check's words in the error.
//! - Only then is it renamed over the original (refused when the original was replaced by
//!   another file meanwhile) and the directory fsynced, so the rename survives a crash.
//! - A file the fix needs where there is none (a `jail.local` Debian does not ship) is made
//!   the same way and linked into place only while the name is still free
//!   ([`create_validated`]); undo removes it.
//!
//! Backups sit beside their files, as the issue asks: a directory a tool reads whole
//! (`include sites-enabled/*;`) would read a backup there too, so a caller replaces a file in
//! such a directory only where the tool's include pattern skips the backup's name.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::FixError;

/// The tag between a file's name and the stamp of its backup.
pub const BACKUP_TAG: &str = ".cf-ban-audit.";

/// How many temporary names are tried before giving up.
const TEMP_TRIES: usize = 16;

/// Opening without following a symlink in the last component.
const NOFOLLOW: i32 = rustix::fs::OFlags::NOFOLLOW.bits() as i32;
/// Opening without blocking (a FIFO swapped in for the file must not hang the fix).
const NONBLOCK: i32 = rustix::fs::OFlags::NONBLOCK.bits() as i32;

/// A configuration file replaced, and where its old bytes are kept.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Backup {
    /// The file that was replaced.
    pub path: PathBuf,
    /// The copy of its old bytes, beside it.
    pub backup: PathBuf,
}

/// The directory a path is in and its last component.
fn dir_and_name(path: &Path) -> Result<(PathBuf, OsString), FixError> {
    let name = path
        .file_name()
        .ok_or_else(|| FixError::refused(path, "not the name of a file"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name.to_os_string()))
}

/// Where the backup of `path` made with `stamp` goes: `NAME.cf-ban-audit.<stamp>` beside it.
/// The stamp is letters, digits, `-`, `_` and `.` only (it becomes part of a file name).
pub fn backup_path(path: &Path, stamp: &str) -> Result<PathBuf, FixError> {
    let stamp_ok = !stamp.is_empty()
        && !stamp.starts_with('.')
        && stamp
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !stamp_ok {
        return Err(FixError::refused(
            path,
            format!("{stamp:?} is not a stamp for a backup name (letters, digits, - _ .)"),
        ));
    }
    let (dir, name) = dir_and_name(path)?;
    let mut backup = name;
    backup.push(BACKUP_TAG);
    backup.push(stamp);
    Ok(dir.join(backup))
}

/// Opens the regular file `path` for reading, refusing a symlink or anything but a regular
/// file. Returns it with its metadata (from the open file).
fn open_regular(path: &Path) -> Result<(File, Metadata), FixError> {
    let link = fs::symlink_metadata(path).map_err(|e| FixError::io(path, e))?;
    if link.file_type().is_symlink() {
        return Err(FixError::refused(
            path,
            "is a symlink; a fix never writes through one: name the file it points to",
        ));
    }
    if !link.file_type().is_file() {
        return Err(FixError::refused(path, "not a regular file"));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(NOFOLLOW | NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(code) if code == rustix::io::Errno::LOOP.raw_os_error() => {
                FixError::refused(path, "became a symlink")
            }
            _ => FixError::io(path, e),
        })?;
    let meta = file.metadata().map_err(|e| FixError::io(path, e))?;
    if !meta.file_type().is_file() || (meta.dev(), meta.ino()) != (link.dev(), link.ino()) {
        return Err(FixError::refused(path, "was replaced while being opened"));
    }
    Ok((file, meta))
}

/// Creates `path`, which must not exist (a symlink there is not followed), writable, mode
/// 0600 until [`fill`] gives it its own.
fn create_exclusive(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(NOFOLLOW)
        .open(path)
}

/// Writes `bytes` to a new file, gives it the owner and mode of `like`, and fsyncs it.
fn fill(file: &mut File, bytes: &[u8], like: &Metadata) -> io::Result<()> {
    file.write_all(bytes)?;
    let now = file.metadata()?;
    if (now.uid(), now.gid()) != (like.uid(), like.gid()) {
        std::os::unix::fs::fchown(&*file, Some(like.uid()), Some(like.gid()))?;
    }
    // After the chown, which clears set-id bits.
    file.set_permissions(fs::Permissions::from_mode(like.mode() & 0o7777))?;
    file.sync_all()
}

/// 16 random hex digits for a temporary name.
pub(crate) fn random_suffix() -> String {
    let mut buf = [0u8; 8];
    if rustix::rand::getrandom(&mut buf, rustix::rand::GetRandomFlags::empty()).is_err() {
        // No getrandom(2): SipHash with the standard library's random keys.
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        buf = h.finish().to_le_bytes();
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a new, empty file beside `path` to replace it with: named
/// `.NAME.cf-ban-audit.<16 random hex digits>.tmp` in the same directory (so that a rename
/// over `path` is atomic), created with `O_CREAT | O_EXCL | O_NOFOLLOW` (a file or symlink
/// planted at the name is never opened or followed: another random name is tried, up to 16),
/// mode 0600 until its owner gives it its own. Returns it, open for writing, with its path.
/// The command line's `-o FILE` writes through it too.
pub fn create_temporary(path: &Path) -> Result<(File, PathBuf), FixError> {
    create_temporary_with(path, &mut random_suffix)
}

/// [`create_temporary`], the names' random parts from `suffix`.
fn create_temporary_with(
    path: &Path,
    suffix: &mut dyn FnMut() -> String,
) -> Result<(File, PathBuf), FixError> {
    let (dir, name) = dir_and_name(path)?;
    // Room for the rest within the 255 bytes of a name.
    let name = OsStr::from_bytes(&name.as_bytes()[..name.len().min(200)]);
    let mut last = None;
    for _ in 0..TEMP_TRIES {
        let mut temp_name = OsString::from(".");
        temp_name.push(name);
        temp_name.push(BACKUP_TAG);
        temp_name.push(suffix());
        temp_name.push(".tmp");
        let temp = dir.join(temp_name);
        match create_exclusive(&temp) {
            Ok(file) => return Ok((file, temp)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(temp),
            Err(e) => return Err(FixError::io(&dir, e)),
        }
    }
    Err(FixError::refused(
        path,
        format!(
            "no temporary file could be created beside it ({} exists)",
            last.unwrap_or_default().display()
        ),
    ))
}

/// Writes `bytes` to a new temporary file beside `path` ([`create_temporary`], the random
/// part from `suffix`), owner and mode of `like`, fsynced. Returns its path.
fn write_temporary(
    path: &Path,
    bytes: &[u8],
    like: &Metadata,
    suffix: &mut dyn FnMut() -> String,
) -> Result<PathBuf, FixError> {
    let (mut file, temp) = create_temporary_with(path, suffix)?;
    if let Err(e) = fill(&mut file, bytes, like) {
        let _ = fs::remove_file(&temp);
        return Err(FixError::io(&temp, e));
    }
    Ok(temp)
}

/// Renames `temp` over `path` and fsyncs the directory; removes `temp` when the rename fails.
fn rename_into(temp: &Path, path: &Path) -> Result<(), FixError> {
    if let Err(e) = fs::rename(temp, path) {
        let _ = fs::remove_file(temp);
        return Err(FixError::io(path, e));
    }
    sync_dir(path);
    Ok(())
}

/// Fsyncs the directory `path` is in, so that a rename or link in it survives a crash. Once
/// the name is in place the step is done (the journal must say so, with its backup), so a
/// directory that cannot be synced is not an error of the step.
fn sync_dir(path: &Path) {
    if let Ok((dir, _)) = dir_and_name(path) {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// Replaces `path` with `new`: first a backup beside it (`NAME.cf-ban-audit.<stamp>`, created
/// `O_CREAT|O_EXCL|O_NOFOLLOW`, same owner and mode, fsynced; a planted symlink or any
/// existing file at that name is an error, never followed or overwritten), then a temporary
/// file in the same directory (`.NAME.cf-ban-audit.<random>.tmp`, `O_EXCL|O_NOFOLLOW`, owner
/// and mode of the original, fsynced), then `validate(temp_path)` — the tool's own check of
/// the new content; on `Err` the temporary file (and the backup) is removed, the original is
/// untouched byte for byte, and [`FixError::Validation`] says why — then rename over `path`
/// and fsync the directory. `path` itself must be a regular file, not a symlink (a symlink
/// is [`FixError::Refused`]).
pub fn replace_validated(
    path: &Path,
    new: &[u8],
    stamp: &str,
    validate: &mut dyn FnMut(&Path) -> Result<(), String>,
) -> Result<Backup, FixError> {
    replace_validated_with(path, new, stamp, validate, &mut random_suffix)
}

/// [`replace_validated`], the temporary names' suffixes from `suffix` (tests plant links at
/// known names).
pub(crate) fn replace_validated_with(
    path: &Path,
    new: &[u8],
    stamp: &str,
    validate: &mut dyn FnMut(&Path) -> Result<(), String>,
    suffix: &mut dyn FnMut() -> String,
) -> Result<Backup, FixError> {
    let backup_at = backup_path(path, stamp)?;
    let (mut original, meta) = open_regular(path)?;
    let mut old = Vec::with_capacity(meta.len() as usize);
    original
        .read_to_end(&mut old)
        .map_err(|e| FixError::io(path, e))?;

    let mut backup = create_exclusive(&backup_at).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => FixError::refused(
            &backup_at,
            "a file or symlink is already at the backup's name; it was neither followed nor overwritten",
        ),
        _ => FixError::io(&backup_at, e),
    })?;
    if let Err(e) = fill(&mut backup, &old, &meta) {
        let _ = fs::remove_file(&backup_at);
        return Err(FixError::io(&backup_at, e));
    }
    drop(backup);
    let undo_backup = || {
        let _ = fs::remove_file(&backup_at);
    };

    let temp = match write_temporary(path, new, &meta, suffix) {
        Ok(t) => t,
        Err(e) => {
            undo_backup();
            return Err(e);
        }
    };
    if let Err(why) = validate(&temp) {
        let _ = fs::remove_file(&temp);
        undo_backup();
        return Err(FixError::Validation {
            path: path.to_path_buf(),
            why,
        });
    }
    // The original must still be the file that was read and backed up.
    let still = fs::symlink_metadata(path).map_err(|e| FixError::io(path, e));
    if !matches!(&still, Ok(m) if (m.dev(), m.ino()) == (meta.dev(), meta.ino())) {
        let _ = fs::remove_file(&temp);
        undo_backup();
        return Err(FixError::refused(
            path,
            "was replaced by another file during the fix; run it again",
        ));
    }
    if let Err(e) = rename_into(&temp, path) {
        undo_backup();
        return Err(e);
    }
    Ok(Backup {
        path: path.to_path_buf(),
        backup: backup_at,
    })
}

/// Creates `path`, which must not exist (the fix's own file, such as a `jail.local` that
/// Debian does not ship), with `new` and `mode`, owned by this user: written to a temporary
/// file beside it ([`create_temporary`]) and fsynced, then `validate(temp_path)`, the tool's
/// own check (on `Err` the temporary file is removed, nothing is created, and
/// [`FixError::Validation`] says why), then linked into place only while the name is still
/// free (`link(2)` never replaces a file or follows a symlink planted there meanwhile:
/// [`FixError::Refused`]) and the directory fsynced. Undo removes it
/// ([`JournalEntry::created`](super::journal::JournalEntry::created)).
pub fn create_validated(
    path: &Path,
    new: &[u8],
    mode: u32,
    validate: &mut dyn FnMut(&Path) -> Result<(), String>,
) -> Result<(), FixError> {
    let taken = || {
        FixError::refused(
            path,
            "already exists (a file or symlink); a new file is never written over one",
        )
    };
    if fs::symlink_metadata(path).is_ok() {
        return Err(taken());
    }
    let (mut file, temp) = create_temporary(path)?;
    let filled = file
        .write_all(new)
        .and_then(|()| file.set_permissions(fs::Permissions::from_mode(mode & 0o7777)))
        .and_then(|()| file.sync_all());
    drop(file);
    let remove_temp = || {
        let _ = fs::remove_file(&temp);
    };
    if let Err(e) = filled {
        remove_temp();
        return Err(FixError::io(&temp, e));
    }
    if let Err(why) = validate(&temp) {
        remove_temp();
        return Err(FixError::Validation {
            path: path.to_path_buf(),
            why,
        });
    }
    let linked = fs::hard_link(&temp, path);
    remove_temp();
    match linked {
        Ok(()) => {
            sync_dir(path);
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(taken()),
        Err(e) => Err(FixError::io(path, e)),
    }
}

/// Removes a file [`create_validated`] created, for undo: only a regular file (a symlink or
/// anything else now at the name is refused, and left).
pub fn remove_created(path: &Path) -> Result<(), FixError> {
    let meta = fs::symlink_metadata(path).map_err(|e| FixError::io(path, e))?;
    if !meta.file_type().is_file() {
        return Err(FixError::refused(
            path,
            "is no longer a regular file; undo removes only the file the fix created",
        ));
    }
    fs::remove_file(path).map_err(|e| FixError::io(path, e))?;
    sync_dir(path);
    Ok(())
}

/// Checks that `backup` names a backup of its file: beside it, named as [`backup_path`] names
/// it, a regular file (not a symlink), and that the file is not a directory.
pub(crate) fn check_backup(backup: &Backup) -> Result<(), FixError> {
    let (dir, name) = dir_and_name(&backup.path)?;
    let (backup_dir, backup_name) = dir_and_name(&backup.backup)?;
    let mut prefix = name.clone();
    prefix.push(BACKUP_TAG);
    let stamp = backup_name
        .as_bytes()
        .strip_prefix(prefix.as_bytes())
        .and_then(|s| std::str::from_utf8(s).ok());
    let beside = backup_dir == dir
        && stamp.is_some_and(|s| backup_path(&backup.path, s).is_ok_and(|b| b == backup.backup));
    if !beside {
        return Err(FixError::refused(
            &backup.backup,
            format!(
                "is not a backup of {} (NAME{BACKUP_TAG}<stamp> beside it)",
                backup.path.display()
            ),
        ));
    }
    if fs::symlink_metadata(&backup.path).is_ok_and(|m| m.is_dir()) {
        return Err(FixError::refused(&backup.path, "is a directory"));
    }
    let meta = fs::symlink_metadata(&backup.backup).map_err(|e| FixError::io(&backup.backup, e))?;
    if !meta.file_type().is_file() {
        return Err(FixError::refused(
            &backup.backup,
            "a backup is a regular file, not a symlink or other",
        ));
    }
    Ok(())
}

/// Puts the backup's bytes back at `path` (atomically, the same way, no validation, owner
/// and mode of the backup). The backup must be a regular file beside the path and named as
/// [`backup_path`] names it (`NAME.cf-ban-audit.<stamp>`): a journal naming any other file is
/// refused, so that no journal can make `undo` copy arbitrary bytes over a file.
pub fn restore(backup: &Backup) -> Result<(), FixError> {
    check_backup(backup)?;
    let (mut file, meta) = open_regular(&backup.backup)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut bytes)
        .map_err(|e| FixError::io(&backup.backup, e))?;
    let temp = write_temporary(&backup.path, &bytes, &meta, &mut random_suffix)?;
    rename_into(&temp, &backup.path)
}

/// A timestamp for backup names, from the clock: `20261203T174500Z`.
pub fn stamp_now() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replace_keeps_a_backup_and_the_mode_and_restore_puts_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jail.local");
        fs::write(&path, "[DEFAULT]\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let mut seen = None;
        let backup = replace_validated(
            &path,
            b"[DEFAULT]\nignoreip = x\n",
            "20261203T174500Z",
            &mut |t: &Path| {
                seen = Some(fs::read(t).unwrap());
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen.unwrap(), b"[DEFAULT]\nignoreip = x\n");
        assert_eq!(
            backup.backup,
            dir.path().join("jail.local.cf-ban-audit.20261203T174500Z")
        );
        assert_eq!(fs::read(&path).unwrap(), b"[DEFAULT]\nignoreip = x\n");
        assert_eq!(fs::read(&backup.backup).unwrap(), b"[DEFAULT]\n");
        for p in [&path, &backup.backup] {
            assert_eq!(fs::metadata(p).unwrap().mode() & 0o7777, 0o640);
        }
        assert_eq!(names(dir.path()).len(), 2);
        restore(&backup).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"[DEFAULT]\n");
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o7777, 0o640);
        assert_eq!(names(dir.path()).len(), 2);
    }

    #[test]
    fn a_rejected_file_is_left_byte_identical_and_nothing_is_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jail.local");
        fs::write(&path, "old\n").unwrap();
        let err = replace_validated(&path, b"new\n", "1", &mut |_: &Path| {
            Err("bad line 2".into())
        })
        .unwrap_err();
        assert!(
            matches!(&err, FixError::Validation { why, .. } if why == "bad line 2"),
            "{err}"
        );
        assert_eq!(fs::read(&path).unwrap(), b"old\n");
        assert_eq!(names(dir.path()), ["jail.local"]);
    }

    /// A directory holding `jail.local` ("old") and a file a planted link would lead to.
    fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jail.local");
        fs::write(&path, "old\n").unwrap();
        let secret = dir.path().join("secret");
        fs::write(&secret, "secret\n").unwrap();
        (dir, path, secret)
    }

    fn fixed(suffixes: &[&str]) -> impl FnMut() -> String {
        let mut list: Vec<String> = suffixes.iter().rev().map(|s| s.to_string()).collect();
        let last = suffixes.last().unwrap().to_string();
        move || list.pop().unwrap_or_else(|| last.clone())
    }

    #[test]
    fn a_symlink_planted_at_the_backup_name_is_not_followed_and_the_fix_is_refused() {
        let (dir, path, secret) = setup();
        let planted = dir.path().join("jail.local.cf-ban-audit.S1");
        std::os::unix::fs::symlink(&secret, &planted).unwrap();
        let err = replace_validated(&path, b"new\n", "S1", &mut |_: &Path| Ok(())).unwrap_err();
        assert!(
            matches!(&err, FixError::Refused { path, .. } if *path == planted),
            "{err}"
        );
        assert_eq!(fs::read(&secret).unwrap(), b"secret\n");
        assert_eq!(fs::read(&path).unwrap(), b"old\n");
        assert!(fs::symlink_metadata(&planted)
            .unwrap()
            .file_type()
            .is_symlink());
        // A dangling link too (O_CREAT would create its target).
        let dangling = dir.path().join("jail.local.cf-ban-audit.S2");
        std::os::unix::fs::symlink(dir.path().join("created"), &dangling).unwrap();
        replace_validated(&path, b"new\n", "S2", &mut |_: &Path| Ok(())).unwrap_err();
        assert!(!dir.path().join("created").exists());
        // And a regular file is never overwritten.
        let existing = dir.path().join("jail.local.cf-ban-audit.S3");
        fs::write(&existing, "an older backup\n").unwrap();
        replace_validated(&path, b"new\n", "S3", &mut |_: &Path| Ok(())).unwrap_err();
        assert_eq!(fs::read(&existing).unwrap(), b"an older backup\n");
        assert_eq!(fs::read(&path).unwrap(), b"old\n");
        assert_eq!(
            names(dir.path()),
            [
                "jail.local",
                "jail.local.cf-ban-audit.S1",
                "jail.local.cf-ban-audit.S2",
                "jail.local.cf-ban-audit.S3",
                "secret"
            ]
        );
    }

    #[test]
    fn a_symlink_planted_at_the_temporary_name_is_not_followed() {
        let (dir, path, secret) = setup();
        let planted = dir.path().join(".jail.local.cf-ban-audit.0000.tmp");
        std::os::unix::fs::symlink(&secret, &planted).unwrap();
        // Every name tried is taken: refused, the backup removed, nothing followed.
        let err = replace_validated_with(
            &path,
            b"new\n",
            "S",
            &mut |_: &Path| Ok(()),
            &mut fixed(&["0000"]),
        )
        .unwrap_err();
        assert!(matches!(err, FixError::Refused { .. }), "{err}");
        assert_eq!(fs::read(&secret).unwrap(), b"secret\n");
        assert_eq!(fs::read(&path).unwrap(), b"old\n");
        assert_eq!(
            names(dir.path()),
            [".jail.local.cf-ban-audit.0000.tmp", "jail.local", "secret"]
        );
        // Another name is tried: the fix goes on beside the link, which stays as it was.
        let mut validated = None;
        replace_validated_with(
            &path,
            b"new\n",
            "S",
            &mut |t: &Path| {
                validated = Some(t.to_path_buf());
                Ok(())
            },
            &mut fixed(&["0000", "0001"]),
        )
        .unwrap();
        assert_eq!(
            validated.unwrap(),
            dir.path().join(".jail.local.cf-ban-audit.0001.tmp")
        );
        assert_eq!(fs::read(&secret).unwrap(), b"secret\n");
        assert_eq!(fs::read(&path).unwrap(), b"new\n");
        assert!(fs::symlink_metadata(&planted)
            .unwrap()
            .file_type()
            .is_symlink());
    }

    #[test]
    fn the_temporary_file_is_beside_the_original_under_a_random_name() {
        let (dir, path, _) = setup();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o604)).unwrap();
        let mut seen = None;
        replace_validated(&path, b"new\n", "S", &mut |t: &Path| {
            seen = Some((t.to_path_buf(), fs::symlink_metadata(t).unwrap()));
            Ok(())
        })
        .unwrap();
        let (temp, meta) = seen.unwrap();
        assert_eq!(temp.parent().unwrap(), dir.path());
        let name = temp.file_name().unwrap().to_str().unwrap();
        let random = name
            .strip_prefix(".jail.local.cf-ban-audit.")
            .and_then(|n| n.strip_suffix(".tmp"))
            .unwrap();
        assert_eq!(random.len(), 16);
        assert!(random.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(meta.mode() & 0o7777, 0o604);
        assert!(!temp.exists());
        assert_ne!(random_suffix(), random_suffix());
    }

    #[test]
    fn a_symlink_directory_or_missing_file_is_refused() {
        let (dir, path, secret) = setup();
        let link = dir.path().join("link.local");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        let err = replace_validated(&link, b"new\n", "S", &mut |_: &Path| Ok(())).unwrap_err();
        assert!(
            matches!(&err, FixError::Refused { why, .. } if why.contains("symlink")),
            "{err}"
        );
        assert_eq!(fs::read(&secret).unwrap(), b"secret\n");
        let err = replace_validated(dir.path(), b"x", "S", &mut |_: &Path| Ok(())).unwrap_err();
        assert!(matches!(err, FixError::Refused { .. }), "{err}");
        let err = replace_validated(&dir.path().join("none"), b"x", "S", &mut |_: &Path| Ok(()))
            .unwrap_err();
        assert!(matches!(err, FixError::Io { .. }), "{err}");
        assert_eq!(names(dir.path()), ["jail.local", "link.local", "secret"]);
        let _ = path;
    }

    #[test]
    fn a_stamp_is_part_of_a_name_only() {
        let path = Path::new("/etc/fail2ban/jail.local");
        assert_eq!(
            backup_path(path, "20261203T174500Z").unwrap(),
            Path::new("/etc/fail2ban/jail.local.cf-ban-audit.20261203T174500Z")
        );
        for bad in ["", "../x", "a/b", ".hidden", "a b", "a\nb"] {
            assert!(backup_path(path, bad).is_err(), "{bad:?}");
        }
        let stamp = stamp_now();
        assert_eq!(stamp.len(), 16, "{stamp}");
        assert!(backup_path(path, &stamp).is_ok());
    }

    #[test]
    fn restore_takes_only_a_backup_beside_its_file() {
        let (dir, path, secret) = setup();
        let other = tempfile::tempdir().unwrap();
        let elsewhere = other.path().join("jail.local.cf-ban-audit.S");
        fs::write(&elsewhere, "evil\n").unwrap();
        let wrong_name = dir.path().join("secret.cf-ban-audit.S");
        fs::write(&wrong_name, "evil\n").unwrap();
        for backup in [elsewhere, wrong_name, secret.clone()] {
            let b = Backup {
                path: path.clone(),
                backup,
            };
            assert!(
                matches!(restore(&b), Err(FixError::Refused { .. })),
                "{b:?}"
            );
        }
        // A symlink at the backup's name is not read through.
        let linked = dir.path().join("jail.local.cf-ban-audit.L");
        std::os::unix::fs::symlink(&secret, &linked).unwrap();
        let b = Backup {
            path: path.clone(),
            backup: linked,
        };
        assert!(matches!(restore(&b), Err(FixError::Refused { .. })));
        assert_eq!(fs::read(&path).unwrap(), b"old\n");
    }

    #[test]
    fn a_new_file_is_created_only_where_there_is_none_and_only_when_accepted() {
        let (dir, path, secret) = setup();
        let new = dir.path().join("cloudflare.conf");
        let err =
            create_validated(&new, b"bad", 0o644, &mut |_: &Path| Err("no".into())).unwrap_err();
        assert!(matches!(err, FixError::Validation { .. }), "{err}");
        assert!(!new.exists());
        create_validated(
            &new,
            b"set_real_ip_from 173.245.48.0/20;\n",
            0o640,
            &mut |t: &Path| {
                assert_eq!(t.parent(), new.parent());
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(
            fs::read(&new).unwrap(),
            b"set_real_ip_from 173.245.48.0/20;\n"
        );
        assert_eq!(fs::metadata(&new).unwrap().mode() & 0o7777, 0o640);
        // An existing file or symlink is never written over.
        let link = dir.path().join("link.conf");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        for taken in [&path, &new, &link] {
            let err = create_validated(taken, b"x", 0o644, &mut |_: &Path| Ok(())).unwrap_err();
            assert!(matches!(err, FixError::Refused { .. }), "{err}");
        }
        // Nor one planted while the tool checked the new file.
        let late = dir.path().join("late.conf");
        let err = create_validated(&late, b"x", 0o644, &mut |_: &Path| {
            std::os::unix::fs::symlink(&secret, &late).unwrap();
            Ok(())
        })
        .unwrap_err();
        assert!(matches!(err, FixError::Refused { .. }), "{err}");
        assert_eq!(fs::read(&secret).unwrap(), b"secret\n");
        assert_eq!(fs::read(&path).unwrap(), b"old\n");
        assert_eq!(
            names(dir.path()),
            [
                "cloudflare.conf",
                "jail.local",
                "late.conf",
                "link.conf",
                "secret"
            ]
        );
        // Undo removes the file, but never a symlink now at its name.
        assert!(matches!(
            remove_created(&link),
            Err(FixError::Refused { .. })
        ));
        remove_created(&new).unwrap();
        assert!(!new.exists());
        assert_eq!(fs::read(&secret).unwrap(), b"secret\n");
    }
}
