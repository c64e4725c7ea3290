//! Writing files the way a tool run as root must: `-o FILE` and the range cache.
//!
//! - A character or block device, a FIFO, a socket, or a descriptor (`/dev/stdout`,
//!   `/dev/fd/N`, `/proc/self/fd/N`) is written in place, as the shell's `>>` would: it is
//!   never replaced by a regular file.
//! - A regular file, or a name that does not exist yet, is replaced atomically: the bytes go
//!   to a new temporary file beside it (a random name, created with `O_CREAT | O_EXCL |
//!   O_NOFOLLOW`, mode 0600 while it is written), which then takes the old file's permission
//!   bits (a new file: 0644 less the umask), is flushed to disk and renamed over the name.
//!   Readers (node_exporter, a fetch) see the old file or the new one, never half of one, and
//!   a symlink planted at the temporary's name is never followed.
//! - A symlink is followed to the file it names, which is then written as above (the link
//!   stays a link) — except a symlink in a sticky world-writable directory (`/tmp`,
//!   `/var/tmp`) owned by someone other than the user running cf-ban-audit and the
//!   directory's owner, which is refused, as the kernel's `fs.protected_symlinks` would; a
//!   FIFO or device in such a directory is only written when the same users own it, as
//!   `fs.protected_fifos` would. These hold whatever those settings are on the machine.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// How many symlinks are followed before giving up (the kernel's limit).
const MAX_LINKS: usize = 40;

/// Where the bytes of a write go.
#[derive(Debug, PartialEq, Eq)]
enum Destination {
    /// A device, FIFO, socket or descriptor, opened and written as it is. `follow`: the path
    /// is a descriptor's magic link, which must be followed; other paths are opened with
    /// `O_NOFOLLOW`.
    InPlace { path: PathBuf, follow: bool },
    /// A regular file (its permission bits) or a new name (`None`), replaced by a rename.
    Replace { path: PathBuf, mode: Option<u32> },
}

/// The effective user id of this process.
fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// The directory a path's last component is in (`.` for a bare name).
fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whether `dir` is sticky and world-writable, such as `/tmp`.
fn sticky_world_writable(dir: &Metadata) -> bool {
    dir.mode() & 0o1002 == 0o1002
}

/// Whether `dir` is a process's descriptor directory (`/proc/PID/fd`,
/// `/proc/PID/task/TID/fd`; `/proc/self/fd` and `/dev/fd` lead there), whose entries are
/// links to open files rather than paths.
fn descriptor_dir(dir: &Path) -> bool {
    let Ok(real) = fs::canonicalize(dir) else {
        return false;
    };
    let parts: Vec<&std::ffi::OsStr> = real
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s),
            _ => None,
        })
        .collect();
    matches!(parts.as_slice(), [proc, _, fd] if *proc == "proc" && *fd == "fd")
        || matches!(parts.as_slice(), [proc, _, task, _, fd] if *proc == "proc" && *task == "task" && *fd == "fd")
}

/// Refuses `entry` (a symlink to follow, or a FIFO or device to write) when it sits in a
/// sticky world-writable directory and is owned by neither this user nor the directory's
/// owner: another user put it there.
fn check_planted(path: &Path, entry: &Metadata, act: &str) -> Result<(), String> {
    let dir = parent(path);
    let Ok(d) = fs::metadata(&dir) else {
        return Ok(());
    };
    if sticky_world_writable(&d) && entry.uid() != euid() && entry.uid() != d.uid() {
        return Err(format!(
            "{}: refusing to {act} owned by user {} in the world-writable directory {} (another user may have planted it); give another path",
            path.display(),
            entry.uid(),
            dir.display()
        ));
    }
    Ok(())
}

/// Follows `path` to where its bytes go.
fn resolve(path: &Path) -> Result<Destination, String> {
    let mut at = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let meta = match fs::symlink_metadata(&at) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Destination::Replace {
                    path: at,
                    mode: None,
                })
            }
            Err(e) => return Err(format!("{}: {e}", at.display())),
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            if descriptor_dir(&parent(&at)) {
                return Ok(Destination::InPlace {
                    path: at,
                    follow: true,
                });
            }
            check_planted(&at, &meta, "follow a symlink")?;
            let target = fs::read_link(&at).map_err(|e| format!("{}: {e}", at.display()))?;
            at = parent(&at).join(target);
        } else if ft.is_file() {
            return Ok(Destination::Replace {
                path: at,
                mode: Some(meta.mode() & 0o777),
            });
        } else if ft.is_dir() {
            return Err(format!("{}: is a directory", at.display()));
        } else {
            check_planted(&at, &meta, "write to a FIFO or device")?;
            return Ok(Destination::InPlace {
                path: at,
                follow: false,
            });
        }
    }
    Err(format!(
        "{}: too many levels of symbolic links",
        path.display()
    ))
}

/// Writes `bytes` to `path` as the module says: in place for a device, FIFO or descriptor,
/// atomically for a regular file or a new name; symlinks followed unless planted. Errors
/// name the path.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    write_file_mode(path, bytes, None)
}

/// [`write_file`], a replaced or new file getting `mode` when given.
pub fn write_file_mode(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<(), String> {
    match resolve(path)? {
        Destination::InPlace { path, follow } => write_in_place(&path, follow, bytes),
        Destination::Replace { path, mode: old } => replace(&path, mode.or(old), bytes),
    }
}

/// [`write_file`], a new file getting `mode` whatever the umask (a replaced file keeps its
/// own permission bits): metrics that node_exporter, another user, must read.
pub fn write_file_new_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), String> {
    match resolve(path)? {
        Destination::InPlace { path, follow } => write_in_place(&path, follow, bytes),
        Destination::Replace { path, mode: old } => replace(&path, old.or(Some(mode)), bytes),
    }
}

/// Opens an existing device, FIFO or descriptor for writing (appending, as `>>` does, so a
/// descriptor that is a file the shell opened keeps what is in it) and writes.
fn write_in_place(path: &Path, follow: bool, bytes: &[u8]) -> Result<(), String> {
    let fail = |e: io::Error| format!("{}: {e}", path.display());
    let mut options = OpenOptions::new();
    options.append(true);
    if !follow {
        options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    let mut file = options.open(path).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.flush().map_err(fail)
}

/// The process's umask, as `/proc/self/status` says (0022 when it cannot be read).
fn umask() -> u32 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|m| u32::from_str_radix(m.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// Creates a new temporary file beside `path` under a random name that did not exist
/// (`O_EXCL`), never through a symlink (`O_NOFOLLOW`), readable by its owner only: the
/// library's, which `fix` writes configuration files through.
fn create_temporary(path: &Path) -> Result<(File, PathBuf), String> {
    cf_ban_audit_core::fix::files::create_temporary(path).map_err(|e| e.to_string())
}

/// Replaces `path` with a file holding `bytes`, through a temporary file and a rename.
fn replace(path: &Path, mode: Option<u32>, bytes: &[u8]) -> Result<(), String> {
    let (mut file, temp) = create_temporary(path)?;
    let written = (|| -> io::Result<()> {
        file.write_all(bytes)?;
        let mode = mode.unwrap_or(0o644 & !umask());
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(format!("{}: {e}", path.display()));
    }
    // The rename itself on disk: best effort.
    if let Ok(dir) = File::open(parent(path)) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_devices_and_files() {
        assert_eq!(
            resolve(Path::new("/dev/null")).unwrap(),
            Destination::InPlace {
                path: "/dev/null".into(),
                follow: false
            }
        );
        // /dev/stdout -> /proc/self/fd/1: the descriptor, whatever it is.
        if Path::new("/dev/stdout").exists() {
            assert!(matches!(
                resolve(Path::new("/dev/stdout")).unwrap(),
                Destination::InPlace { follow: true, .. }
            ));
        }
        assert!(descriptor_dir(Path::new("/proc/self/fd")));
        assert!(descriptor_dir(Path::new("/proc/thread-self/fd")));
        assert!(!descriptor_dir(Path::new("/proc/self")));
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.prom");
        assert_eq!(
            resolve(&new).unwrap(),
            Destination::Replace {
                path: new.clone(),
                mode: None
            }
        );
        fs::write(&new, "x").unwrap();
        fs::set_permissions(&new, fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(
            resolve(&new).unwrap(),
            Destination::Replace {
                path: new.clone(),
                mode: Some(0o640)
            }
        );
        // A link (relative) is followed to its file.
        std::os::unix::fs::symlink("new.prom", dir.path().join("link")).unwrap();
        assert_eq!(
            resolve(&dir.path().join("link")).unwrap(),
            Destination::Replace {
                path: dir.path().join("new.prom"),
                mode: Some(0o640)
            }
        );
        assert!(resolve(dir.path()).unwrap_err().contains("is a directory"));
        std::os::unix::fs::symlink("loop", dir.path().join("loop")).unwrap();
        assert!(resolve(&dir.path().join("loop"))
            .unwrap_err()
            .contains("too many levels"));
    }

    #[test]
    fn a_file_is_replaced_with_its_mode_and_no_temporary_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.txt");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_file(&path, b"new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o640);
        let fresh = dir.path().join("fresh.txt");
        write_file(&fresh, b"x").unwrap();
        assert_eq!(
            fs::metadata(&fresh).unwrap().mode() & 0o777,
            0o644 & !umask()
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
