//! The one error type of the library. Every error names the file (and the line, where there is
//! one) it is about, so that a report can print it as one line and the scan can go on.

use std::io;
use std::path::PathBuf;

/// An error met while reading ranges, scanning a file or building a snippet.
#[derive(Debug, thiserror::Error)]
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
}
