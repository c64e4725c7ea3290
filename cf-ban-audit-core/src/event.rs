//! The common currency of every parser: a [`BanEvent`] says that a tool acted on an address
//! (or a CIDR) in some scope, at some time, at some place in some file.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;
use ipnet::IpNet;
use serde::Serialize;

use crate::formats::Format;

/// The security tool that wrote a ban, one per family of formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    /// Fail2Ban: its log, its database and the output of `fail2ban-client`.
    Fail2ban,
}

impl Tool {
    /// Every tool, in display order.
    pub const ALL: &'static [Tool] = &[Tool::Fail2ban];

    /// The name used in reports and in `--source` (`fail2ban`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Tool::Fail2ban => "fail2ban",
        }
    }

    /// Looks a tool up by the name [`Tool::name`] gives it.
    ///
    /// ```
    /// use cf_ban_audit_core::Tool;
    /// assert_eq!(Tool::from_name("fail2ban"), Some(Tool::Fail2ban));
    /// assert_eq!(Tool::from_name("nope"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Tool> {
        Tool::ALL.iter().copied().find(|t| t.name() == name)
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a tool did to an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// A new ban (fail2ban `Ban`, `Reban`, `Increase Ban`).
    Ban,
    /// A ban restored after a restart (fail2ban `Restore Ban`).
    RestoreBan,
    /// The tool reports the address as banned already (`already banned`): evidence of a ban.
    AlreadyBanned,
    /// The address stands in a current ban list or database: banned now, whatever the logs say.
    Listed,
    /// The ban was lifted.
    Unban,
}

impl Action {
    /// Whether the address is banned after this action.
    pub fn is_ban(self) -> bool {
        !matches!(self, Action::Unban)
    }
}

/// Where an event was read: a file (or `-` for standard input) and a 1-based line number
/// (0 when the source has no lines, such as a database row).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// The path of the file as it was given or found by the walk.
    pub path: Arc<Path>,
    /// The 1-based line number, or 0 for sources without lines.
    pub line: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.path.display())
        } else {
            write!(f, "{}:{}", self.path.display(), self.line)
        }
    }
}

/// One thing a tool did to one address or network, as read from one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanEvent {
    /// The address (as a /32 or /128) or the network that was acted on. IPv4-mapped IPv6
    /// addresses are already turned into IPv4.
    pub net: IpNet,
    /// The tool that acted.
    pub tool: Tool,
    /// The format it was read from.
    pub format: Format,
    /// Where inside the tool: a fail2ban jail, a rule id, a set or chain name.
    pub scope: String,
    /// What was done.
    pub action: Action,
    /// When, in the host's local time, if the source says.
    pub time: Option<NaiveDateTime>,
    /// Until when the ban holds, if the source says (`None`: until lifted, or unknown).
    pub expires: Option<NaiveDateTime>,
    /// Where it was read.
    pub location: Location,
}
