//! Plesk's Fail2Ban bans as `plesk bin ip_ban --banned` lists them (docs.plesk.com, "ip_ban:
//! IP Address Banning (Fail2Ban)"; `../shared/FORMATS.md` §6 A5).
//!
//! **The output's layout is not verified**: no verbatim sample was found. Third-party
//! scripts that parse it read each line as `<IP><space><jail>` (one splits on a space and
//! takes the address and the jail, another takes the leading IPv4 of each line), and lift
//! with `plesk bin ip_ban --unban "IP,jail"`. It is read conservatively: a line is a ban only
//! when it is exactly two fields, an address (IPv4 or IPv6, no prefix) and a jail-name token
//! (letters, digits, `-`, `_`, `.`, starting with a letter or digit, as Plesk's jails are
//! named: `plesk-apache`, `plesk-apache-badbot`, `plesk-modsecurity`, `recidive`, `ssh`,
//! ...); anything else is a malformed line, named, never guessed. The file is taken for this
//! output only when every non-blank line of its head has that shape and either its name
//! says so (it holds `plesk` or `ip_ban`) or one of its jails is one of Plesk's own
//! (`plesk-…`): an `/etc/hosts`-like `address name` list is not.
//!
//! Each line is an [`Action::Listed`] event of [`Tool::Plesk`] with the jail as scope: the
//! address is banned by that jail now (Plesk's jails ban whatever address the logs show:
//! Cloudflare's edges when visitor addresses are not restored; `recidive` bans every
//! service). The listing gives no time of the ban.

use std::path::Path;
use std::sync::Arc;

use super::registry::{Detection, FormatDescriptor};
use super::{Format, LineParser, ParseCtx, Sink};
use crate::addr::{host_net, parse_ip};
use crate::event::{Action, BanEvent, Location, Tool};

/// The longest jail name read.
const MAX_JAIL: usize = 64;

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// Plesk `plesk bin ip_ban --banned` output (`<IP> <jail>` a line; layout not verified).
    pub const PleskBanned: Format = Format::builtin(51, "plesk-banned");
}

/// Whether `token` is a jail name as Plesk's jails are named.
fn is_jail(token: &[u8]) -> bool {
    token.len() <= MAX_JAIL
        && token.first().is_some_and(u8::is_ascii_alphanumeric)
        && token
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Reads one non-blank line: the address and the jail, or `None` when it is not exactly
/// `<address> <jail>`.
fn read_line(line: &[u8]) -> Option<(std::net::IpAddr, &str)> {
    let mut fields = line
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty());
    let (ip, jail) = (fields.next()?, fields.next()?);
    if fields.next().is_some() || !is_jail(jail) {
        return None;
    }
    Some((parse_ip(ip)?, std::str::from_utf8(jail).ok()?))
}

/// Decides whether a file is `plesk bin ip_ban --banned` output: every non-blank line of
/// its head (the last left out when the head cut it) is `<address> <jail>`, and its name
/// holds `plesk` or `ip_ban`, or a jail is one of Plesk's own (`plesk-…`). Never a file
/// named `hosts`, nor one whose name says it allows (`plesk-trusted.txt`).
pub fn detect(path: &Path, head: &[u8]) -> bool {
    let name = super::lower_file_name(path);
    if name == "hosts" || ["trust", "white", "allow"].iter().any(|w| name.contains(w)) {
        return false;
    }
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    if lines.len() > 1 && !head.ends_with(b"\n") {
        lines.pop();
    }
    let read: Option<Vec<_>> = lines
        .into_iter()
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
        .map(read_line)
        .collect();
    let Some(read) = read.filter(|r| !r.is_empty()) else {
        return false;
    };
    name.contains("plesk")
        || name.contains("ip_ban")
        || read.iter().any(|(_, jail)| jail.starts_with("plesk-"))
}

/// The parser of `--banned` output.
pub struct BannedParser {
    path: Arc<Path>,
}

impl BannedParser {
    /// A parser for one listing.
    pub fn new(ctx: &ParseCtx) -> Self {
        BannedParser {
            path: ctx.path.clone(),
        }
    }
}

impl LineParser for BannedParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let line = line.trim_ascii();
        if line.is_empty() {
            return;
        }
        let Some((ip, jail)) = read_line(line) else {
            sink.malformed(
                lineno,
                "not `<address> <jail>`, the only layout of ip_ban --banned read".into(),
            );
            return;
        };
        sink.event(BanEvent::new(
            host_net(ip),
            Tool::Plesk,
            Format::PleskBanned,
            jail,
            Action::Listed,
            Location::new(self.path.clone(), lineno),
        ));
    }

    fn finish(&mut self, _sink: &mut dyn Sink) {}
}

/// `plesk bin ip_ban --banned` output.
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::new(
    Format::PleskBanned,
    &[Tool::Plesk],
    "Plesk plesk bin ip_ban --banned output (<IP> <jail> a line; layout not verified)",
    |ctx| Box::new(BannedParser::new(ctx)),
)
.detected_by(&[Detection::text(241, detect)]);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::run_lines;

    const BANNED: &str = "203.0.113.7 plesk-apache\n\
                          104.16.0.1 plesk-apache-badbot\n\
                          \n\
                          2a06:98c0::5 recidive\n\
                          172.64.0.9 plesk-modsecurity\r\n";

    #[test]
    fn each_line_is_a_ban_in_its_jail() {
        let c = run_lines(Format::PleskBanned, "ip_ban-banned.txt", BANNED);
        assert!(c.malformed.is_empty(), "{:?}", c.malformed);
        let got: Vec<(String, &str, u64)> = c
            .events
            .iter()
            .map(|e| (e.net.to_string(), e.scope.as_str(), e.location.line))
            .collect();
        assert_eq!(
            got,
            [
                ("203.0.113.7/32".into(), "plesk-apache", 1),
                ("104.16.0.1/32".into(), "plesk-apache-badbot", 2),
                ("2a06:98c0::5/128".into(), "recidive", 4),
                ("172.64.0.9/32".into(), "plesk-modsecurity", 5),
            ]
        );
        assert!(c
            .events
            .iter()
            .all(|e| (e.tool, e.action, e.time) == (Tool::Plesk, Action::Listed, None)));
    }

    #[test]
    fn other_shapes_are_malformed_and_named() {
        let text = "104.16.0.1 plesk-apache 600\n\
                    104.16.0.0/24 plesk-apache\n\
                    plesk-apache 104.16.0.2\n\
                    104.16.0.3 -x\n\
                    104.16.0.4\n\
                    104.16.0.5 ssh\n";
        let c = run_lines(Format::PleskBanned, "banned.txt", text);
        assert_eq!(c.malformed_lines(), [1, 2, 3, 4, 5]);
        assert_eq!(c.events.len(), 1);
        assert_eq!(c.events[0].scope, "ssh");
    }

    #[test]
    fn detection_needs_every_line_and_a_plesk_name_or_jail() {
        let any = Path::new("/tmp/out.txt");
        assert!(detect(any, BANNED.as_bytes()));
        assert!(detect(any, &BANNED.as_bytes()[..30]));
        let ssh_only = b"104.16.0.1 ssh\n198.51.100.1 recidive\n";
        assert!(!detect(any, ssh_only));
        assert!(detect(Path::new("/root/plesk-banned.txt"), ssh_only));
        assert!(detect(Path::new("ip_ban.out"), ssh_only));
        assert!(!detect(
            Path::new("/etc/hosts"),
            b"127.0.0.1 plesk-localhost\n"
        ));
        assert!(!detect(
            any,
            b"127.0.0.1 localhost\n::1 localhost ip6-localhost\n"
        ));
        let one_odd = format!("{BANNED}104.16.0.7 plesk-apache # note\n");
        assert!(!detect(any, one_odd.as_bytes()));
        assert!(!detect(Path::new("plesk.txt"), b"\n"));
        assert!(!detect(Path::new("plesk-trusted.txt"), BANNED.as_bytes()));
    }
}
