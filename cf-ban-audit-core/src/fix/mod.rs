//! The safety layer of `fix`: how a fix writes configuration files, keeps its journal and
//! runs programs. The plan and the apply engine are built on these three and nothing else
//! touches the system, so every rule below holds for every step of every fix.
//!
//! - [`files`]: a configuration file is replaced atomically (a temporary file in the same
//!   directory, `O_EXCL`, no symlink followed, the owner and mode of the original, fsync,
//!   rename), after a backup beside it (`jail.local.cf-ban-audit.<stamp>`), and only after the
//!   tool's own validation accepts the new file; a failed validation leaves the file
//!   byte-identical and says why. A fix runs as root in directories such as `/etc`: a symlink
//!   planted at the backup or temporary name must never redirect root's write, and a reload
//!   must never pick up a half-written or rejected file during an outage.
//! - [`journal`]: every action is recorded (JSON lines, under `/var/lib/cf-ban-audit/`) with
//!   what was done and how to undo it, and [`journal::undo`] restores the backups byte for
//!   byte, and removes the files it created. It restores configuration, never bans: nothing
//!   that banned is re-added.
//! - [`run`]: programs run with a fixed argument list, from the system directories, without a
//!   shell, with a timeout; nothing read from a log becomes an argument except a parsed
//!   address and a validated name (the caller's part).
//! - [`plan`]: the steps of a fix, built from a scan's report (with [`realip`]: nginx's or
//!   Apache's real-IP configuration); [`apply`]: running them, and the verdict of the re-scan.

pub mod apply;
pub mod crowdsec;
mod fail2ban;
pub mod files;
mod in_place;
pub mod journal;
pub mod plan;
pub mod realip;
pub mod run;

use std::path::PathBuf;

/// Why a fix step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixError {
    /// A file could not be read, written or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A file is not one the fix may touch (a symlink, a planted name, not a regular file).
    #[error("{}: refused: {why}", path.display())]
    Refused {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// The tool's own check rejected the new content: the file was left as it was.
    #[error("{}: the new content was rejected, the file is unchanged: {why}", path.display())]
    Validation {
        /// The file that was not replaced.
        path: PathBuf,
        /// What the check said.
        why: String,
    },
    /// A program could not be run, timed out or failed.
    #[error("{}: {why}", argv.join(" "))]
    Program {
        /// The command.
        argv: Vec<String>,
        /// What went wrong (its standard error, for a failure).
        why: String,
    },
}

impl FixError {
    /// An [`FixError::Io`] about `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> FixError {
        FixError::Io {
            path: path.into(),
            source,
        }
    }

    /// A [`FixError::Refused`] about `path`.
    pub(crate) fn refused(path: impl Into<PathBuf>, why: impl Into<String>) -> FixError {
        FixError::Refused {
            path: path.into(),
            why: why.into(),
        }
    }
}
