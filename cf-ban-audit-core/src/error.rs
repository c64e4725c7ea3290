//! The one error type of the library. Every error names the file (and the line, where there is
//! one) it is about, so that a report can print it as one line and the scan can go on.

use std::io;
use std::path::PathBuf;

/// An error met while reading ranges, scanning a file or building a snippet.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A file was read but its content is wrong at a given line.
    #[error("{}:{line}: {message}", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A file was read but its content is wrong as a whole (a database, a JSON document).
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A range list given with `--ranges` could not be read.
    #[error("{origin}: {message}")]
    Ranges {
        /// The file or source of the list.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// The arguments make no sense together (an unknown tool name, a bad date).
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// The path the error is about, if any.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Error::Io { path, .. } | Error::Line { path, .. } | Error::File { path, .. } => {
                Some(path)
            }
            Error::Ranges { .. } | Error::Usage(_) => None,
        }
    }

    /// What the operating system said, for an error of input or output ([`Error::Io`]).
    ///
    /// ```
    /// use cf_ban_audit_core::Error;
    /// let e = Error::Io {
    ///     path: "/etc/shadow".into(),
    ///     source: std::io::ErrorKind::PermissionDenied.into(),
    /// };
    /// assert_eq!(e.io_kind(), Some(std::io::ErrorKind::PermissionDenied));
    /// ```
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            Error::Io { source, .. } => Some(source.kind()),
            _ => None,
        }
    }
}
