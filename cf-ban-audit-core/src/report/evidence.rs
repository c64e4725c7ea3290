//! What each source said about one ban: the items of [`Finding::evidence`](super::Finding).

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::BanState;
use crate::event::{Location, Tool};
use crate::format_id::Format;

/// How much a source's word on a ban counts: the state of a finding follows the most
/// authoritative source (see [`Finding::state`](super::Finding::state)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Authority {
    /// A log: what the tool did, line by line.
    Log,
    /// A database of bans (fail2ban's, btwaf's): rows with their ban times.
    Database,
    /// A current list, ruleset or saved listing (`csf.deny`, `iptables-save` output, ufw's
    /// `user.rules`, saved `fail2ban-client` output): the state as of the file's last change.
    Saved,
    /// What the kernel or the running program said during this scan (`scan --live`).
    Live,
}

impl Authority {
    /// The name used in reports (`log`, `database`, `saved`, `live`).
    pub fn as_str(self) -> &'static str {
        match self {
            Authority::Log => "log",
            Authority::Database => "database",
            Authority::Saved => "saved",
            Authority::Live => "live",
        }
    }
}

impl std::fmt::Display for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One source's word on a ban: a log, a database, a saved listing or a live read, with what
/// its last entry about the ban said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Evidence {
    /// The format of the source.
    pub format: Format,
    /// How much its word counts.
    pub authority: Authority,
    /// Where its last entry about the ban is (`live: fail2ban-client banned` for a live read;
    /// line 0 for a database row or for an address a live listing does not hold).
    #[serde(flatten)]
    pub location: Location,
    /// What that entry did: `ban`, `restore-ban`, `already-banned`, `listed`, `deny`,
    /// `unban`, or `absent` (a live listing of the tool that does not hold the address).
    pub action: String,
    /// Where the ban stands by this source alone.
    pub state: BanState,
    /// When the entry was written, when the source says (RFC 3339 in UTC in JSON).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::text::opt_time"
    )]
    pub time: Option<NaiveDateTime>,
    /// When the ban ends, by this source (RFC 3339 in UTC in JSON).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::text::opt_time"
    )]
    pub expires: Option<NaiveDateTime>,
    /// How many ban entries this source holds for the ban.
    pub events: u64,
    /// The object the source names when it is not the finding's own tool and scope: the
    /// `f2b-sshd` chain or the `addr-set-sshd` set of a fail2ban ban (`iptables f2b-sshd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The line as read (at most 240 characters, control characters escaped), for sources
    /// read by lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The ban as its tool names it, when neither the scope nor the line read says it whole:
    /// what [`Finding::lift`](super::Finding::lift) builds its command from. Written in the
    /// tool's own words:
    ///
    /// - iptables (`iptables-save`, `iptables -S`): the rule, `-t TABLE -A CHAIN ARGS...` as
    ///   `iptables-save` writes it (without `-t` when the listing does not name its table);
    /// - nftables: `element FAMILY TABLE SET { KEY }` for an element of a named set or verdict
    ///   map (`KEY` as written: a range `a-b` split into blocks keeps its whole text, and a
    ///   concatenation shows as `ADDR . …`), `rule FAMILY TABLE CHAIN` for an address written
    ///   in a rule (`(one of N sources)` after it when the rule holds more than this one);
    /// - firewalld: the `firewall-cmd` options that add the ban, `--permanent` first when it
    ///   was read from the configuration under `/etc/firewalld`: `--zone=Z --add-source=A`,
    ///   `--ipset=S --add-entry=E`, `--zone=Z --add-rich-rule=RULE` (`--policy=P`, or no zone
    ///   when the listing did not name it), `--direct --add-rule IPV TABLE CHAIN PRIO ARGS...`,
    ///   `--direct --add-passthrough IPV ARGS...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
}

impl Evidence {
    /// `format` said `action` at `location`, which leaves the ban `state`; with no time,
    /// expiry, object, text or spec, and one event.
    pub fn new(
        format: Format,
        authority: Authority,
        location: Location,
        action: impl Into<String>,
        state: BanState,
    ) -> Evidence {
        Evidence {
            format,
            authority,
            location,
            action: action.into(),
            state,
            time: None,
            expires: None,
            events: 1,
            object: None,
            text: None,
            spec: None,
        }
    }

    /// The object as the report names it: the tool and its scope (`iptables f2b-sshd`).
    pub(crate) fn object_name(tool: Tool, scope: &str) -> String {
        if scope.is_empty() {
            tool.name().to_string()
        } else {
            format!("{tool} {scope}")
        }
    }
}

/// Text of a line fit for a report: invalid UTF-8 replaced, control characters escaped as
/// `\xNN`, at most `max` characters (an ellipsis marks a cut).
pub(crate) fn printable_line(bytes: &[u8], max: usize) -> String {
    // Most lines are printable ASCII: copied as they are, a character a byte.
    let trimmed = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
    let printable = |text: &[u8]| text.iter().all(|b| (b' '..=b'~').contains(b));
    if trimmed.len() <= max && !trimmed.ends_with(b"\n") {
        if printable(trimmed) {
            return String::from_utf8_lossy(trimmed).into_owned();
        }
    } else if let Some((head, rest)) = trimmed.split_at_checked(max) {
        // A longer line (an Apache or nginx line of ModSecurity's) whose first `max` bytes
        // are printable ASCII: those, and the ellipsis when anything but line ends follows.
        if printable(head) {
            let mut out = String::with_capacity(max + '…'.len_utf8());
            out.push_str(&String::from_utf8_lossy(head));
            if rest.iter().any(|&b| b != b'\r' && b != b'\n') {
                out.push('…');
            }
            return out;
        }
    }
    printable_slow(bytes, max)
}

/// [`printable_line`] character by character.
fn printable_slow(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches(['\r', '\n']);
    let mut out = String::with_capacity(text.len().min(max + 8));
    for (n, c) in text.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_printable_and_capped() {
        assert_eq!(
            printable_line(b"ban \x1b[31m1.2.3.4\r\n", 240),
            "ban \\x1b[31m1.2.3.4"
        );
        assert_eq!(printable_line(b"abcdef", 3), "abc…");
        assert_eq!(printable_line(b"a\xffb", 10), "a\u{fffd}b");
        assert_eq!(printable_line(b"plain line\n", 10), "plain line");
        assert_eq!(printable_line(b"plain line\r\n", 9), "plain lin…");
        assert_eq!(printable_line(b"two\n\r\n", 9), "two");
        assert_eq!(printable_line(b"tab\there", 9), "tab\\x09here");
    }

    /// The quick paths give what reading character by character gives.
    #[test]
    fn quick_paths_agree_with_the_slow_one() {
        let mut rng = crate::formats::test_support::Rng(0x9e37_79b9_7f4a_7c15);
        let pieces: [&[u8]; 9] = [
            b"a",
            b"Z~ ",
            b"\r",
            b"\n",
            b"\t",
            b"\x1b",
            b"\xc3\xa9",
            b"\xff",
            b"x",
        ];
        let mut quick = 0;
        for round in 0..20_000 {
            let max = [1, 3, 8, 240][round % 4];
            let mut line = Vec::new();
            for _ in 0..rng.below(2 * max + 8) {
                // Mostly printable ASCII, as real lines are.
                let i = rng.below(40);
                line.extend_from_slice(pieces[if i < 31 { i % 2 * 8 } else { i - 31 }]);
            }
            let got = printable_line(&line, max);
            assert_eq!(got, printable_slow(&line, max), "{line:?} {max}");
            quick += usize::from(line.len() > max && !got.contains('\\'));
        }
        assert!(quick > 1000, "{quick}");
    }
}
