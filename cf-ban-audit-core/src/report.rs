//! The result of a scan, as one serialisable value: the JSON report (version 1) is this type
//! written with serde, field for field.

use chrono::NaiveDateTime;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::error::Error;
use crate::event::{Location, Tool};
use crate::format_id::Format;

/// The version of the JSON report.
pub const REPORT_VERSION: u32 = 1;

/// A ban of a Cloudflare address (or of a network that overlaps a Cloudflare range) by one tool
/// in one scope, as read from one format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The banned address, or the network as CIDR text.
    pub address: String,
    /// The Cloudflare range it hits.
    pub range: String,
    /// The tool that banned it.
    pub tool: Tool,
    /// The format the ban was read from.
    pub format: Format,
    /// The jail, rule, set or chain.
    pub scope: String,
    /// Whether the ban is still in force: the last event is a ban that was not lifted and has
    /// not expired, or the address stands in a current ban list or database.
    pub active: bool,
    /// The first ban event, in the host's local time, when known.
    pub first_seen: Option<NaiveDateTime>,
    /// The last ban event, in the host's local time, when known.
    pub last_seen: Option<NaiveDateTime>,
    /// When the ban ends, when the source says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<NaiveDateTime>,
    /// How many ban events were read (bans, restored bans, `already banned`, list entries).
    pub events: u64,
    /// Where the ban events were read: the earliest and the latest, at most 16.
    pub locations: Vec<Location>,
}

impl Serialize for Location {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Location", 2)?;
        st.serialize_field("path", &self.path.display().to_string())?;
        st.serialize_field("line", &self.line)?;
        st.end()
    }
}

/// A diagnosis about the set-up rather than about one ban (such as "the web server does not
/// restore visitor addresses"), with its evidence and its fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// What kind of problem.
    pub kind: String,
    /// What was seen.
    pub evidence: Vec<String>,
    /// What to do.
    pub fix: String,
}

/// What was read from one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileStats {
    /// The file (`-` for standard input).
    pub path: String,
    /// Its format.
    pub format: Format,
    /// Lines read (0 for a database).
    pub lines: u64,
    /// Events read (bans, unbans, list entries), Cloudflare's or not.
    pub events: u64,
    /// Lines that looked like entries but could not be read.
    pub malformed: u64,
    /// Remarks about the file (such as "a list of unknown purpose").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// An error, as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorEntry {
    /// The file it is about, if any.
    pub path: Option<String>,
    /// The whole message, naming the file and line.
    pub message: String,
}

impl From<&Error> for ErrorEntry {
    fn from(e: &Error) -> Self {
        ErrorEntry {
            path: e.path().map(|p| p.display().to_string()),
            message: e.to_string(),
        }
    }
}

/// Which ranges a scan used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RangesInfo {
    /// Where they come from (`embedded cloudflare 2026-10-02 (etag ...)`, file names).
    pub source: String,
    /// How many IPv4 networks.
    pub v4: usize,
    /// How many IPv6 networks.
    pub v6: usize,
}

/// The result of a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The report format version, [`REPORT_VERSION`].
    pub version: u32,
    /// The host the scan ran on (for merging reports of a fleet).
    pub host: Option<String>,
    /// When the scan ran, in the host's local time.
    pub scanned_at: NaiveDateTime,
    /// The ranges used.
    pub ranges: RangesInfo,
    /// The bans that hit the ranges, sorted by tool, scope, address and format.
    pub findings: Vec<Finding>,
    /// Diagnoses about the set-up.
    pub diagnoses: Vec<Diagnosis>,
    /// The files read, sorted by path.
    pub files: Vec<FileStats>,
    /// Files found but of no known format (not read further).
    pub skipped_files: u64,
    /// Errors met; the scan went on past each of them.
    pub errors: Vec<ErrorEntry>,
}

impl Report {
    /// Whether any finding is still in force.
    pub fn has_active(&self) -> bool {
        self.findings.iter().any(|f| f.active)
    }
}
