//! Checking a new configuration file with the tool's own program as if it were in place,
//! without putting it there: `nginx -t`, `apache2ctl -t` and `crowdsec -t` read their files
//! from fixed paths (`include /etc/nginx/conf.d/*.conf;`), so a copy of the tree elsewhere
//! is not what they would read. Instead the check runs in a private mount namespace of its
//! own, where the new file is bind-mounted over the old one (or, for a file that does not
//! exist yet, a copy of its directory holding the new file is bind-mounted over the
//! directory). Nothing outside that namespace sees the new file until the check has accepted
//! it and [`super::files`] renames it into place; a running server that reloads meanwhile
//! reads the old files.
//!
//! A mount namespace needs root (`CAP_SYS_ADMIN`), as a fix that writes `/etc` does anyway;
//! without it the check fails and the file is left as it was.

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::mount::{mount_bind, mount_change, MountPropagationFlags};
use rustix::thread::{unshare_unsafe, UnshareFlags};

use super::run::run_program_with;

/// Runs `argv` (program first, as [`super::run::run_program`] runs it) in a private mount
/// namespace where `path` holds the content of `new` (a file in `path`'s directory, which
/// the check does not see under its own name). Ok with the program's output when it exits 0;
/// otherwise why, with what it said.
pub(crate) fn check_in_place(
    path: &Path,
    new: &Path,
    argv: &[String],
    timeout: Duration,
) -> Result<std::process::Output, String> {
    let dir = path
        .parent()
        .ok_or_else(|| format!("{}: no directory", path.display()))?;
    let replaces = fs::symlink_metadata(path).is_ok_and(|m| m.is_file());
    let copy = if replaces {
        None
    } else {
        let copy = private_temp_dir().map_err(|e| format!("a temporary directory: {e}"))?;
        let made = (|| {
            copy_tree_except(dir, &copy, new)?;
            let name = path.file_name().unwrap_or_default();
            fs::copy(new, copy.join(name)).map(|_| ())
        })();
        if let Err(e) = made {
            let _ = fs::remove_dir_all(&copy);
            return Err(format!("copying {}: {e}", dir.display()));
        }
        Some(copy)
    };
    let (source, target) = match &copy {
        Some(copy) => (copy.as_path(), dir),
        None => (new, path),
    };
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(|e| e.to_string());
    let result = (|| {
        let (source, target) = (c(source)?, c(target)?);
        let hook = move || -> std::io::Result<()> {
            // SAFETY: a new mount namespace for this single-threaded child only; no file
            // descriptor table is unshared.
            unsafe { unshare_unsafe(UnshareFlags::NEWNS) }?;
            mount_change(
                c"/",
                MountPropagationFlags::REC | MountPropagationFlags::PRIVATE,
            )?;
            mount_bind(source.as_c_str(), target.as_c_str())?;
            Ok(())
        };
        run_program_with(argv, timeout, Some(Box::new(hook))).map_err(|e| {
            let text = e.to_string();
            if text.contains("Operation not permitted") {
                format!("{text} (the check runs in a private mount namespace, which needs root)")
            } else {
                text
            }
        })
    })();
    if let Some(copy) = copy {
        let _ = fs::remove_dir_all(copy);
    }
    result
}

/// A new directory of mode 0700 under the temporary directory (never an existing one).
pub(crate) fn private_temp_dir() -> std::io::Result<PathBuf> {
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut last = None;
    for i in 0..16u32 {
        let path = base.join(format!(
            "cf-ban-audit-validate-{}-{nanos:x}-{i}",
            std::process::id()
        ));
        match fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => return Ok(path),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("tried"))
}

/// Copies the tree `from` into the existing directory `to`: directories, regular files, and
/// symlinks as symlinks (never followed).
pub(crate) fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    copy_tree_except(from, to, Path::new(""))
}

/// [`copy_tree`], leaving out the file `except`.
fn copy_tree_except(from: &Path, to: &Path, except: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        if entry.path() == except {
            continue;
        }
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            fs::create_dir(&target)?;
            copy_tree_except(&entry.path(), &target, except)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path())?, &target)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> bool {
        rustix::process::geteuid().is_root()
    }

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn the_check_sees_the_new_file_and_nothing_else_does() {
        if !root() {
            assert!(std::env::var_os("CI").is_none(), "CI runs as root");
            crate::test_skip("mount namespaces need root");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("site.conf");
        fs::write(&old, "old\n").unwrap();
        let new = dir.path().join(".site.conf.tmp");
        fs::write(&new, "new\n").unwrap();
        let cat = |p: &Path| argv(&["cat", &p.display().to_string()]);
        // Replacing: the check reads the new content at the old path.
        let out = check_in_place(&old, &new, &cat(&old), Duration::from_secs(5)).unwrap();
        assert_eq!(out.stdout, b"new\n");
        assert_eq!(fs::read(&old).unwrap(), b"old\n");
        // Creating: the check sees the new file in its directory, without the temporary one,
        // and the directory outside is unchanged.
        let created = dir.path().join("realip.conf");
        let ls = argv(&["ls", "-A", &dir.path().display().to_string()]);
        let out = check_in_place(&created, &new, &ls, Duration::from_secs(5)).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "realip.conf\nsite.conf\n"
        );
        assert!(!created.exists());
        let out = check_in_place(&created, &new, &cat(&created), Duration::from_secs(5)).unwrap();
        assert_eq!(out.stdout, b"new\n");
        // A failing check says what it said.
        let err = check_in_place(
            &old,
            &new,
            &argv(&["sh", "-c", "echo rejected >&2; exit 1"]),
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert!(err.contains("rejected"), "{err}");
    }
}
