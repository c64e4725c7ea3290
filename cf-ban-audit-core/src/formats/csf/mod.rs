//! ConfigServer Security & Firewall (CSF) and its Login Failure Daemon (LFD), read as csf
//! itself reads them (`csf.pl` `linefilter`, `ConfigServer::CheckIP::checkip`, `lfd.pl`
//! `ipblock`/`ipunblock`, Aetherinox/csf-firewall):
//!
//! - `/etc/csf/csf.deny` ([`Format::CsfDeny`]): one entry a line, its first white-space
//!   separated token. An address or CIDR (IPv4 or IPv6; `127.0.0.1` and `::1` are refused by
//!   csf) is dropped in both directions; an advanced rule `proto|in|d=PORT|s=ADDR` drops
//!   incoming packets from `ADDR` to `PORT`. Advanced rules that name no source (`d=ADDR`: a
//!   local destination; `out`: the host's own outgoing packets; `u=`/`g=` owner rules) ban
//!   nobody. `#` comments, and csf skips any line that holds the word `Include`.
//!   `Include /path` (at the start of a line) reads another file as more lines of the list:
//!   followed when it is a regular file, its entries reported with its own path and line
//!   numbers; a relative path is taken from the directory of the including file; loops and
//!   missing files are noted, never fatal (csf skips a missing file too). Every entry is
//!   [`Action::Listed`] with scope `csf.deny`; its time is the date csf and lfd append to the
//!   comment (`# lfd: (sshd) ... - Thu Oct 30 06:27:30 2025`).
//! - `/var/lib/csf/csf.tempban` ([`Format::CsfTempban`]): `time|ip|port|inout|timeout|message`,
//!   an [`Action::Listed`] entry (scope `csf.tempban`) from `time` (epoch, turned into local
//!   time) until `time + timeout`, when the block drops incoming packets (`inout` holds `in`).
//! - `lfd.log` lines (syslog tag `lfd`, read by [`super::syslog`] through [`lfd_message`]):
//!   `MESSAGE - *Blocked in csf* [TRIGGER]` (permanent), `... port=N [TRIGGER]` (permanent, one
//!   port) and `... for N secs [TRIGGER]` (temporary) are [`Action::Ban`]s with scope = the
//!   trigger; `Incoming IP ADDR[:PORT] temporary block removed` is an [`Action::Unban`].
//!
//! lfd's messages quote attacker-controlled text: the reverse DNS name of the address (in the
//! parentheses after it) and account names. The address is therefore found by the structure
//! lfd gives each message, never by searching: the block marker must end the line, and the
//! address is where lfd's template puts it (for login failures, just before the trailing
//! `: N in the last N secs`, read from the end of the line).
//!
//! [`Action::Listed`]: crate::event::Action::Listed
//! [`Action::Ban`]: crate::event::Action::Ban
//! [`Action::Unban`]: crate::event::Action::Unban

mod deny;
mod lfd;
mod tempban;

use super::registry::{Detection, FormatDescriptor, SyslogTag};
use crate::event::Tool;
use std::path::Path;

use chrono::{NaiveDateTime, TimeDelta};
use ipnet::IpNet;

use super::Format;
use crate::addr::{parse_ip, parse_net};
use crate::purpose::{purpose_from_name, Purpose};

pub use deny::CsfDenyParser;
pub use lfd::lfd_message;
pub use tempban::{parse_tempban_line, CsfTempbanParser};
#[cfg(test)]
pub use {
    deny::{parse_deny_line, DenyLine},
    lfd::{parse_lfd_block, parse_lfd_unblock},
};

/// The scope of `csf.deny` entries.
pub const DENY_SCOPE: &str = "csf.deny";
/// The scope of `csf.tempban` entries.
pub const TEMPBAN_SCOPE: &str = "csf.tempban";

/// Decides whether a file is `csf.deny` or `csf.tempban`, from its name (also when it ends
/// with it: `old-csf.deny`) or else from its first bytes: a `csf.tempban` line, or an entry
/// with a comment only csf writes (`# lfd: ...`, `# do not delete`).
pub fn detect(path: &Path, head: &[u8]) -> Option<Format> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    // `csf.deny`, and copies named after it (`old-csf.deny`, `host1_csf.deny`).
    if name.ends_with("csf.deny") {
        return Some(Format::CsfDeny);
    }
    if name.ends_with("csf.tempban") {
        return Some(Format::CsfTempban);
    }
    // csf.allow, csf.ignore, csf.tempallow share these shapes but allow.
    if purpose_from_name(name) == Purpose::Allow {
        return None;
    }
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty());
    let first = lines.next()?;
    if parse_tempban_line(first).is_some() {
        return Some(Format::CsfTempban);
    }
    std::iter::once(first)
        .chain(lines)
        .take(40)
        .any(looks_like_csf_entry)
        .then_some(Format::CsfDeny)
}

/// An entry line with a comment only csf and lfd write: `ADDR # lfd: ...` or `... # do not
/// delete`.
fn looks_like_csf_entry(line: &[u8]) -> bool {
    let (token, comment) = split_token(line);
    let comment = comment.trim_ascii();
    let Some(text) = comment.strip_prefix(b"#") else {
        return false;
    };
    let csf_comment = text.trim_ascii_start().starts_with(b"lfd: ")
        || text
            .to_ascii_lowercase()
            .windows(13)
            .any(|w| w == b"do not delete");
    let lower = token.to_ascii_lowercase();
    csf_comment
        && (check_ip(&lower).is_some()
            || (lower.contains(&b'|') && (contains(&lower, b"s=") || contains(&lower, b"d="))))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

/// Splits a line at its first white space: csf's `split(/\s/, $line, 2)`.
fn split_token(line: &[u8]) -> (&[u8], &[u8]) {
    match line.iter().position(u8::is_ascii_whitespace) {
        Some(i) => (&line[..i], &line[i..]),
        None => (line, &[]),
    }
}

/// csf's `checkip`: an IPv4 or IPv6 address with an optional `/prefix` (1 to 32 or 128, or
/// `0`, which csf lets through), never `127.0.0.1` or `::1`.
fn check_ip(token: &[u8]) -> Option<IpNet> {
    let (ip_text, prefix) = match memchr::memchr(b'/', token) {
        Some(i) => (&token[..i], Some(&token[i + 1..])),
        None => (token, None),
    };
    let ip = parse_ip(ip_text)?;
    if let Some(prefix) = prefix {
        if prefix.is_empty() || !prefix.iter().all(u8::is_ascii_digit) {
            return None;
        }
    }
    match ip {
        std::net::IpAddr::V4(v4) if v4 == std::net::Ipv4Addr::new(127, 0, 0, 1) => None,
        std::net::IpAddr::V6(v6) if v6 == std::net::Ipv6Addr::LOCALHOST => None,
        _ => parse_net(token),
    }
}

fn number(b: &[u8]) -> Option<u64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

fn plus_secs(time: NaiveDateTime, secs: u64) -> Option<NaiveDateTime> {
    time.checked_add_signed(TimeDelta::try_seconds(i64::try_from(secs).ok()?)?)
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// CSF deny list `csf.deny` (addresses, CIDRs, advanced rules, `Include`).
    pub const CsfDeny: Format = Format::builtin(15, "csf-deny");
    /// CSF temporary bans `csf.tempban` (`time|ip|port|inout|timeout|message`).
    pub const CsfTempban: Format = Format::builtin(16, "csf-tempban");
}

/// `csf.deny`; it also owns the syslog tag of CSF's daemon, `lfd`.
pub(crate) const DENY: FormatDescriptor = FormatDescriptor::new(
    Format::CsfDeny,
    &[Tool::Csf],
    "CSF csf.deny: permanent blocks",
    |ctx| Box::new(CsfDenyParser::new(ctx)),
)
.usual_paths(&["/etc/csf/csf.deny"])
.detected_by(&[Detection::text(300, |path, head| {
    detect(path, head) == Some(Format::CsfDeny)
})])
.syslog_tags(&[SyslogTag::exact(b"lfd", " lfd[", |e, sink| {
    lfd_message(e.message, Some(e.time), e.location.clone(), e.format, sink)
})]);

/// `csf.tempban`.
pub(crate) const TEMPBAN: FormatDescriptor = FormatDescriptor::new(
    Format::CsfTempban,
    &[Tool::Csf],
    "CSF csf.tempban: temporary blocks with their end",
    |ctx| Box::new(CsfTempbanParser::new(ctx)),
)
.usual_paths(&["/var/lib/csf/csf.tempban"])
.detected_by(&[Detection::text(300, |path, head| {
    detect(path, head) == Some(Format::CsfTempban)
})]);

#[cfg(test)]
mod tests;

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn detect() {
        use crate::formats::{csf, Format};
        use std::path::Path;
        assert_eq!(
            csf::detect(Path::new("/etc/csf/csf.deny"), b""),
            Some(Format::CsfDeny)
        );
        let deny = b"104.16.0.1 # lfd: (sshd) Failed SSH login from 104.16.0.1 (US/United States/-): 5 in the last 3600 secs - Thu Oct 30 06:27:30 2025\n";
        assert_eq!(
            csf::detect(Path::new("/backup/deny-list"), deny),
            Some(Format::CsfDeny)
        );
        let temp = b"1700000000|192.0.2.1|22|in|3600|lfd - (sshd) Failed SSH login\n";
        assert_eq!(
            csf::detect(Path::new("/backup/tempban"), temp),
            Some(Format::CsfTempban)
        );
        assert_eq!(
            csf::detect(Path::new("/var/lib/csf/csf.tempallow"), temp),
            None
        );
    }
}
