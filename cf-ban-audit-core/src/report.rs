//! The result of a scan, as one serialisable value: the JSON report (version 1) is this type
//! written with serde, field for field, and read back with serde (a report written by the
//! same version reads back equal).

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;
use ipnet::IpNet;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;
use crate::event::{Location, Tool};
use crate::format_id::Format;

mod evidence;
mod text;

pub(crate) use evidence::printable_line;
pub use evidence::{Authority, Evidence};

/// The version of the JSON report.
pub const REPORT_VERSION: u32 = 1;

/// A ban of a Cloudflare address (or of a network that overlaps a Cloudflare range) by one tool
/// in one scope: one finding per (tool, scope, address), whatever number of sources speak of
/// it (the tool's log, its database, its client's output, the firewall objects it owns, live
/// reads). Each source is an item of [`Finding::evidence`]; the state follows the most
/// authoritative one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Finding {
    /// The banned address (a /32 or /128) or network. Written as people write it: a bare
    /// address for a single address (`172.64.155.20`), CIDR text for a network.
    #[serde(with = "text::net")]
    pub address: IpNet,
    /// The Cloudflare range it hits (CIDR text).
    pub range: IpNet,
    /// The tool that banned it.
    pub tool: Tool,
    /// The format of the source the state follows (the first item of [`Finding::evidence`]).
    pub format: Format,
    /// The jail, rule, set or chain.
    pub scope: String,
    /// Whether the ban is in force: [`Finding::state`] is [`BanState::Active`].
    pub active: bool,
    /// Where the ban stands, by the most authoritative evidence: what the kernel or the running
    /// program says now (live reads) over everything else; among the rest the latest word
    /// (a saved listing as of its file's last change, a database row at its ban time, a log
    /// line at its time), and at equal times a saved listing over a database over a log. A
    /// ban whose length nothing says and that no current source confirms is
    /// [`BanState::Unconfirmed`], never active for ever.
    #[serde(default)]
    pub state: BanState,
    /// Why the state is what it is, when more than the evidence says it: "banned 3 h ago,
    /// length unknown", "the jail now ignores this address".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The sources that disagree with the state, and which one the state follows; `None`
    /// when every source agrees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<String>,
    /// The first ban event, in the host's local time, when known (RFC 3339 in UTC in JSON).
    #[serde(default, with = "text::opt_time")]
    pub first_seen: Option<NaiveDateTime>,
    /// The last ban event, in the host's local time, when known (RFC 3339 in UTC in JSON).
    #[serde(default, with = "text::opt_time")]
    pub last_seen: Option<NaiveDateTime>,
    /// When the ban ends, when the source says (RFC 3339 in UTC in JSON).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "text::opt_time"
    )]
    pub expires: Option<NaiveDateTime>,
    /// How many ban events were read (bans, restored bans, `already banned`, list entries).
    pub events: u64,
    /// Where the ban events were read: the earliest and the latest, at most 16.
    pub locations: Vec<Location>,
    /// Every source that spoke of the ban, the one the state follows first, then by
    /// authority (live, saved, database, log) and format.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// The command that lifts exactly this ban, as an argument list (never a shell string):
    /// see [`Finding::lift`]. `None` when no command can be given ([`Finding::lift_unavailable`]
    /// says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lift: Option<Vec<String>>,
    /// Why no lift command is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lift_unavailable: Option<String>,
}

/// Where a ban stands, by the most authoritative evidence of its (tool, scope, address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum BanState {
    /// In force: the last event is a standing ban, not lifted and not ended, or the address
    /// stands in a current list, database or ruleset.
    Active,
    /// The ban's time ran out.
    Expired,
    /// The ban was lifted: an unban came after it, or a live listing of the tool no longer
    /// holds it.
    Lifted,
    /// A ban that no current source confirms and whose length nothing says (an old log line
    /// with no database, listing or configuration to bound it), or that the tool's
    /// configuration now ignores: possibly in force, so a warning, never an all-clear.
    Unconfirmed,
    /// The last event is a one-off refusal (a WAF or rate-limit denial): no standing ban, and
    /// nothing was lifted.
    Denied,
    /// A challenge stands, not a ban: a CrowdSec `captcha` decision, not ended and not lifted.
    /// Every visitor through that edge is challenged by bouncers with a captcha provider, and
    /// refused by those without one, which fall back to a ban (the nginx and OpenResty
    /// bouncers ship `FALLBACK_REMEDIATION=ban`). Counted apart from bans in force: a warning,
    /// never an all-clear.
    Challenge,
    /// Not said (a report written before states were, or a finding built by hand).
    #[default]
    Unknown,
}

impl BanState {
    /// The name used in reports (`active`, `expired`, `lifted`, `unconfirmed`, `denied`,
    /// `challenge`, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            BanState::Active => "active",
            BanState::Expired => "expired",
            BanState::Lifted => "lifted",
            BanState::Denied => "denied",
            BanState::Unconfirmed => "unconfirmed",
            BanState::Challenge => "challenge",
            BanState::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for BanState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Finding {
    /// The banned address or network as the report writes it: `172.64.155.20` for a single
    /// address, `104.16.0.0/13` for a network.
    ///
    /// ```
    /// use cf_ban_audit_core::Finding;
    /// use cf_ban_audit_core::{Format, Tool};
    /// let f = Finding::new(
    ///     "172.64.155.20/32".parse().unwrap(),
    ///     "172.64.0.0/13".parse().unwrap(),
    ///     Tool::Fail2ban,
    ///     Format::Fail2banLog,
    ///     "sshd",
    /// );
    /// assert_eq!(f.address_text(), "172.64.155.20");
    /// assert_eq!(f.range.to_string(), "172.64.0.0/13");
    /// ```
    pub fn address_text(&self) -> String {
        crate::addr::display_net(&self.address)
    }

    /// A finding of `address` in Cloudflare's `range`, by `tool` in `scope`, read from
    /// `format`: lifted, with no times, no events and no locations (set those fields after).
    pub fn new(
        address: IpNet,
        range: IpNet,
        tool: Tool,
        format: Format,
        scope: impl Into<String>,
    ) -> Finding {
        Finding {
            address,
            range,
            tool,
            format,
            scope: scope.into(),
            active: false,
            state: BanState::Unknown,
            note: None,
            conflict: None,
            first_seen: None,
            last_seen: None,
            expires: None,
            events: 0,
            locations: Vec::new(),
            evidence: Vec::new(),
            lift: None,
            lift_unavailable: None,
        }
    }
}

impl Serialize for Location {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Location", 2)?;
        st.serialize_field("path", &self.path.display().to_string())?;
        st.serialize_field("line", &self.line)?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for Location {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Location, D::Error> {
        #[derive(Deserialize)]
        struct Text {
            path: String,
            line: u64,
        }
        let t = Text::deserialize(d)?;
        Ok(Location {
            path: Arc::from(Path::new(&t.path)),
            line: t.line,
        })
    }
}

/// What kind of problem a [`Diagnosis`] is about, written in reports as its kebab-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DiagnosisKind {
    /// `real-ip-not-restored`: a web-layer tool acted on a Cloudflare address, so the web
    /// server does not restore visitor addresses.
    RealIpNotRestored,
    /// `real-ip-restored`: a Cloudflare peer was recorded next to a different client address.
    RealIpRestored,
    /// `firewall-bans-ineffective`: visitor addresses are restored while a tool bans in the
    /// host firewall, where visitors' addresses never show.
    FirewallBansIneffective,
    /// `real-ip-forgeable`: the web server takes the visitor address from `X-Forwarded-For`
    /// sent by any address (`set_real_ip_from 0.0.0.0/0`): any client can forge its address.
    RealIpForgeable,
}

impl DiagnosisKind {
    /// The name in reports (`real-ip-not-restored`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosisKind::RealIpNotRestored => "real-ip-not-restored",
            DiagnosisKind::RealIpRestored => "real-ip-restored",
            DiagnosisKind::FirewallBansIneffective => "firewall-bans-ineffective",
            DiagnosisKind::RealIpForgeable => "real-ip-forgeable",
        }
    }
}

impl fmt::Display for DiagnosisKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for DiagnosisKind {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for DiagnosisKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A diagnosis about the set-up rather than about one ban (such as "the web server does not
/// restore visitor addresses"), with its evidence and its fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Diagnosis {
    /// What kind of problem.
    pub kind: DiagnosisKind,
    /// What it is about: a web server (`nginx`), the files that show it where the server's
    /// files disagree (`nginx: /var/log/nginx/access.log`), or a fail2ban jail. Empty in reports written
    /// before diagnoses had subjects.
    #[serde(default)]
    pub subject: String,
    /// What was seen.
    pub evidence: Vec<String>,
    /// What to do.
    pub fix: String,
}

impl Diagnosis {
    /// A diagnosis of `kind` about `subject`, with its evidence and fix.
    pub fn new(
        kind: DiagnosisKind,
        subject: impl Into<String>,
        evidence: Vec<String>,
        fix: impl Into<String>,
    ) -> Diagnosis {
        Diagnosis {
            kind,
            subject: subject.into(),
            evidence,
            fix: fix.into(),
        }
    }
}

/// How many malformed lines of one file a report quotes ([`FileStats::malformed_samples`]).
pub const MAX_MALFORMED_SAMPLES: usize = 5;

/// A line that looked like an entry but could not be read, as the reader described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MalformedLine {
    /// The 1-based line number (0 for sources without lines).
    pub line: u64,
    /// What is wrong with it.
    pub message: String,
}

impl MalformedLine {
    /// Line `line` could not be read, for the reason `message`.
    pub fn new(line: u64, message: impl Into<String>) -> MalformedLine {
        MalformedLine {
            line,
            message: message.into(),
        }
    }
}

/// What was read from one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
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
    /// The first of those lines ([`MAX_MALFORMED_SAMPLES`] at most), in line order; written
    /// only when there are some.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub malformed_samples: Vec<MalformedLine>,
    /// Remarks about the file (such as "a list of unknown purpose").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl FileStats {
    /// The statistics of `path` read as `format`, with nothing counted yet.
    pub fn new(path: impl Into<String>, format: Format) -> FileStats {
        FileStats {
            path: path.into(),
            format,
            lines: 0,
            events: 0,
            malformed: 0,
            malformed_samples: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// An error, as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorEntry {
    /// The file it is about, if any.
    pub path: Option<String>,
    /// The whole message, naming the file and line.
    pub message: String,
    /// What the operating system said, for an error of input or output: written as the
    /// kebab-case name of the [`io::ErrorKind`] (`"permission-denied"`, `"not-found"`), and
    /// only when there is one.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "text::error_kind"
    )]
    pub kind: Option<io::ErrorKind>,
}

impl ErrorEntry {
    /// An error about `path` (if any) with its whole message and no [`io::ErrorKind`].
    pub fn new(path: Option<String>, message: impl Into<String>) -> ErrorEntry {
        ErrorEntry {
            path,
            message: message.into(),
            kind: None,
        }
    }
}

impl From<&Error> for ErrorEntry {
    fn from(e: &Error) -> Self {
        ErrorEntry {
            path: e.path().map(|p| p.display().to_string()),
            message: e.to_string(),
            kind: e.io_kind(),
        }
    }
}

/// Which ranges a scan used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RangesInfo {
    /// Where they come from (`embedded cloudflare 2026-10-02 (etag ...)`, file names).
    pub source: String,
    /// How many IPv4 networks.
    pub v4: usize,
    /// How many IPv6 networks.
    pub v6: usize,
}

impl RangesInfo {
    /// Ranges from `source`, with `v4` IPv4 and `v6` IPv6 networks.
    pub fn new(source: impl Into<String>, v4: usize, v6: usize) -> RangesInfo {
        RangesInfo {
            source: source.into(),
            v4,
            v6,
        }
    }
}

/// A time of the host's clock (local, as reports hold times) as the JSON report writes it:
/// RFC 3339 in UTC, with `Z`.
///
/// ```
/// let t = chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap().and_hms_opt(14, 18, 20).unwrap();
/// assert!(cf_ban_audit_core::rfc3339(&t).ends_with('Z'));
/// ```
pub fn rfc3339(t: &NaiveDateTime) -> String {
    text::time::write(t)
}

/// [`rfc3339`] to the second, as the text outputs write times (`2026-12-03T14:18:20Z`).
pub fn rfc3339_seconds(t: &NaiveDateTime) -> String {
    text::time::write_seconds(t)
}

/// The result of a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// The report format version, [`REPORT_VERSION`].
    pub version: u32,
    /// The host the scan ran on (for merging reports of a fleet).
    pub host: Option<String>,
    /// When the scan ran, in the host's local time (RFC 3339 in UTC in JSON: `…Z`).
    #[serde(with = "text::time")]
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
    /// Remarks about the scan as a whole: which tool configuration it used (fail2ban's jails,
    /// for ban lengths and ignore lists), or why it used none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Report {
    /// An empty report (version [`REPORT_VERSION`]) of a scan run at `scanned_at` on `host`
    /// with `ranges`: no findings, diagnoses, files or errors.
    pub fn new(host: Option<String>, scanned_at: NaiveDateTime, ranges: RangesInfo) -> Report {
        Report {
            version: REPORT_VERSION,
            host,
            scanned_at,
            ranges,
            findings: Vec::new(),
            diagnoses: Vec::new(),
            files: Vec::new(),
            skipped_files: 0,
            errors: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Whether any finding is still in force.
    pub fn has_active(&self) -> bool {
        self.findings.iter().any(|f| f.active)
    }
}

/// Receives the parts of a scan's report as they become final, during
/// [`Scanner::scan_with`](crate::Scanner::scan_with). Every method does nothing unless the
/// sink says otherwise; calls come one at a time (from rayon's worker threads: hence `Send`).
///
/// - [`ReportSink::file`] comes as soon as a file has been read, in the order files finish
///   (not sorted), then for standard input and for each live listing;
/// - [`ReportSink::error`] comes for each error of the walk before any file is read, then for
///   the errors of each file right after its [`ReportSink::file`] (a file that cannot be
///   opened has no statistics, only its error);
/// - [`ReportSink::finding`] comes once per finding of the report, in the report's order,
///   after every file, standard input and the live state have been read and before
///   `scan_with` returns. Not sooner, because no finding is final before then: a ban read in
///   one file can be lifted by an unban in another (`fail2ban.log` and `fail2ban.log.1` are
///   read in parallel, in any order), and a set's members ban only if some rule, in any file,
///   drops on the set. The findings told are those the report keeps (after
///   [`Scanner::since`](crate::Scanner::since) and [`Scanner::active_only`](crate::Scanner::active_only)).
pub trait ReportSink: Send {
    /// One file has been read: what was read from it.
    fn file(&mut self, stats: &FileStats) {
        let _ = stats;
    }

    /// An error was met; the scan goes on.
    fn error(&mut self, error: &ErrorEntry) {
        let _ = error;
    }

    /// A finding, final.
    fn finding(&mut self, finding: &Finding) {
        let _ = finding;
    }
}

/// A closure is a sink of findings.
impl<F: FnMut(&Finding) + Send> ReportSink for F {
    fn finding(&mut self, finding: &Finding) {
        self(finding)
    }
}
