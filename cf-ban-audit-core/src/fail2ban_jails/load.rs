//! The files of a fail2ban configuration directory (`/etc/fail2ban`), in the order fail2ban
//! reads them (`ConfigReaderUnshared.read("jail")`): `jail.conf`, `jail.d/*.conf` (sorted),
//! `jail.local`, `jail.d/*.local` (sorted). Names starting with `.` are skipped as Python's
//! `glob` skips them, and so are directories and dangling links. Files are only read.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The most read of one file: a larger one is an error (a jail configuration is kilobytes).
pub(crate) const MAX_FILE: u64 = 4 << 20;

/// Reads the jail configuration files of `dir` in fail2ban's order. A missing `jail.d` is
/// fine; `NotFound` when there is neither `jail.conf` nor `jail.local`; any other error
/// (permission, a file over [`MAX_FILE`]) names its file.
pub(crate) fn load(dir: &Path) -> io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let d = dir.join("jail.d");
    let mut paths = Vec::new();
    paths.extend(is_file(&dir.join("jail.conf"))?);
    paths.extend(listed(&d, ".conf")?);
    paths.extend(is_file(&dir.join("jail.local"))?);
    paths.extend(listed(&d, ".local")?);
    let top = |name: &str| paths.iter().any(|p| p == &dir.join(name));
    if !top("jail.conf") && !top("jail.local") {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{}: no jail.conf or jail.local (not a fail2ban configuration directory)",
                dir.display()
            ),
        ));
    }
    paths
        .into_iter()
        .map(|path| {
            let bytes = read_capped(&path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            Ok((path, bytes))
        })
        .collect()
}

/// `Some(path)` when it is a file (links followed), `None` when absent or not a file.
fn is_file(path: &Path) -> io::Result<Option<PathBuf>> {
    match fs::metadata(path) {
        Ok(m) => Ok(m.is_file().then(|| path.to_path_buf())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
    }
}

/// The files of `dir` named `*SUFFIX` (not hidden), sorted by name; none when `dir` is absent.
fn listed(dir: &Path, suffix: &str) -> io::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", dir.display()))),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
        let name = entry.file_name();
        let bytes = name.as_encoded_bytes();
        if bytes.starts_with(b".") || !bytes.ends_with(suffix.as_bytes()) {
            continue;
        }
        found.extend(is_file(&entry.path())?);
    }
    found.sort();
    Ok(found)
}

/// A file's bytes, refused past [`MAX_FILE`].
fn read_capped(path: &Path) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)?
        .take(MAX_FILE + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {} MiB, not read", MAX_FILE >> 20),
        ));
    }
    Ok(bytes)
}

/// The fail2ban configuration directories among the files a scan walked: the directories
/// holding a `jail.conf` or a `jail.local` (sorted, each once).
pub(crate) fn directories_among(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n == "jail.conf" || n == "jail.local")
        })
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}
