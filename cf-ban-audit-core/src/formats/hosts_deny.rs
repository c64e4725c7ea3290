//! `/etc/hosts.deny`, the TCP wrappers deny list (hosts_access(5)), which fail2ban's `hostsdeny`
//! action, DenyHosts and sshguard fill. fail2ban 1.0's `action.d/hostsdeny.conf` appends
//! `<daemon_list>: <ip_value>` (`ALL: 104.16.0.1`; an IPv6 address in brackets,
//! `ALL: [2606:4700::1]`) on a ban and deletes that very line on an unban, so every line in the
//! file is a ban in force: each address or network of a client list is an [`Action::Listed`]
//! event, scope `hosts.deny <daemon list>`.
//!
//! Lines are read as libwrap reads them: `daemon_list : client_list [ : option ... ]`, a line
//! that begins with `#` is a comment (a `#` later in a line is not: it is one more client
//! pattern), and a line ending in a backslash goes on on the next. Client patterns that name
//! addresses are read: an address, `[IPv6]`, `[IPv6]/prefix`, `net/mask` and `net/prefix`, and
//! an IPv4 prefix ending in a dot (`104.16.` is 104.16.0.0/16). Patterns after `EXCEPT` are
//! exceptions, not bans. `ALL`, `LOCAL`, `KNOWN`, `UNKNOWN`, `PARANOID`, host names and
//! `.domain` suffixes name no address, and a catch-all (`ALL: ALL`) is a policy, not a ban of
//! anyone in particular: none of them is a finding. A `hosts.allow` entry that lets an address
//! in wins over `hosts.deny`; that file is not read here.
//!
//! The file is told by its name (`hosts.deny`) and its structure: the content alone (`ALL:
//! 1.2.3.4`) is what any log line can hold.

use std::path::Path;
use std::sync::Arc;

use ipnet::{IpNet, Ipv4Net};

use super::registry::{Detection, FormatDescriptor};
use super::{Format, LineParser, ParseCtx, Sink};
use crate::addr::{normalize_net, parse_ip, parse_net};
use crate::event::{Action, BanEvent, Location, Tool};

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// The TCP wrappers deny list `/etc/hosts.deny` (fail2ban's `hostsdeny` action, DenyHosts,
    /// sshguard).
    pub const HostsDeny: Format = Format::builtin(35, "hosts-deny");
}

/// The hosts.deny descriptor.
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::new(
    Format::HostsDeny,
    &[Tool::List],
    "TCP wrappers hosts.deny (fail2ban hostsdeny action, DenyHosts, sshguard)",
    |ctx| Box::new(HostsDenyParser::new(ctx)),
)
.usual_paths(&["/etc/hosts.deny"])
.detected_by(&[Detection::text(305, detect)]);

/// How many lines of the head detection looks at.
const DETECT_LINES: usize = 200;

/// Whether a file is hosts.deny: so named, and every rule of its head that is not blank or a
/// comment (a line continued with a backslash counts as one) is an access rule
/// `daemons : clients`.
fn detect(path: &Path, head: &[u8]) -> bool {
    if path.file_name().is_none_or(|n| n != "hosts.deny") {
        return false;
    }
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    // The head may end in the middle of a line: do not judge that piece.
    if lines.len() > 1 && !head.ends_with(b"\n") {
        lines.pop();
    }
    let mut rule_text: Vec<u8> = Vec::new();
    for line in lines.into_iter().take(DETECT_LINES) {
        if let Some(part) = line.strip_suffix(b"\\") {
            rule_text.extend_from_slice(part);
            rule_text.push(b' ');
            continue;
        }
        rule_text.extend_from_slice(line);
        let text = rule_text.trim_ascii();
        if !text.is_empty() && !text.starts_with(b"#") && rule(text).is_none() {
            return false;
        }
        rule_text.clear();
    }
    true
}

/// A rule's daemon list and client list (the options after a second `:` are not read).
fn rule(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = memchr::memchr(b':', line)?;
    let daemons = line[..colon].trim_ascii();
    let rest = &line[colon + 1..];
    // `[IPv6]` clients hold colons: the options begin at the first colon outside brackets.
    let mut depth = 0u32;
    let end = rest
        .iter()
        .position(|&b| {
            match b {
                b'[' => depth += 1,
                b']' => depth = depth.saturating_sub(1),
                _ => {}
            }
            b == b':' && depth == 0
        })
        .unwrap_or(rest.len());
    let clients = rest[..end].trim_ascii();
    (!daemons.is_empty() && !clients.is_empty()).then_some((daemons, clients))
}

/// The networks one client pattern names, if it names any.
fn client_net(pattern: &[u8]) -> Option<IpNet> {
    if let Some(inner) = pattern.strip_prefix(b"[") {
        // `[IPv6]` or `[IPv6]/prefix`.
        let close = memchr::memchr(b']', inner)?;
        let ip = parse_ip(&inner[..close])?;
        let rest = &inner[close + 1..];
        let prefix = match rest.strip_prefix(b"/") {
            Some(p) => std::str::from_utf8(p).ok()?.parse::<u8>().ok()?,
            None if rest.is_empty() => return Some(normalize_net(IpNet::from(ip))),
            None => return None,
        };
        return IpNet::new(ip, prefix)
            .ok()
            .map(|n| normalize_net(n.trunc()));
    }
    if let Some(slash) = memchr::memchr(b'/', pattern) {
        // `net/mask` with a dotted mask, or `net/prefix`.
        if let (Some(std::net::IpAddr::V4(net)), Some(std::net::IpAddr::V4(mask))) =
            (parse_ip(&pattern[..slash]), parse_ip(&pattern[slash + 1..]))
        {
            let prefix = Ipv4Net::with_netmask(net, mask).ok()?;
            return Some(IpNet::V4(prefix.trunc()));
        }
        return parse_net(pattern);
    }
    if pattern.ends_with(b".") && pattern.first().is_some_and(u8::is_ascii_digit) {
        // `104.16.`: every address that begins so.
        let octets: Vec<u8> = pattern[..pattern.len() - 1]
            .split(|&b| b == b'.')
            .map(|o| std::str::from_utf8(o).ok()?.parse::<u8>().ok())
            .collect::<Option<_>>()?;
        if octets.is_empty() || octets.len() > 3 {
            return None;
        }
        let mut addr = [0u8; 4];
        addr[..octets.len()].copy_from_slice(&octets);
        let net = Ipv4Net::new(addr.into(), u8::try_from(octets.len() * 8).ok()?).ok()?;
        return Some(IpNet::V4(net));
    }
    parse_ip(pattern).map(|ip| normalize_net(IpNet::from(ip)))
}

/// The parser of hosts.deny.
pub struct HostsDenyParser {
    path: Arc<Path>,
    /// A rule continued with a backslash: its text so far and its first line.
    pending: Option<(Vec<u8>, u64)>,
}

impl HostsDenyParser {
    /// A parser for one file.
    pub fn new(ctx: &ParseCtx) -> Self {
        HostsDenyParser {
            path: ctx.path.clone(),
            pending: None,
        }
    }

    fn rule_line(&self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let line = line.trim_ascii();
        if line.is_empty() || line.starts_with(b"#") {
            return;
        }
        let Some((daemons, clients)) = rule(line) else {
            sink.malformed(
                lineno,
                format!(
                    "{}:{lineno}: not an access rule `daemons : clients`: {}",
                    self.path.display(),
                    super::quote(line)
                ),
            );
            return;
        };
        let scope = format!("hosts.deny {}", String::from_utf8_lossy(daemons));
        for pattern in clients
            .split(|&b| b == b',' || b.is_ascii_whitespace())
            .filter(|p| !p.is_empty())
        {
            if pattern.eq_ignore_ascii_case(b"EXCEPT") {
                break;
            }
            let Some(net) = client_net(pattern) else {
                continue;
            };
            // A catch-all is a policy for every client, not a ban.
            if net.prefix_len() == 0 {
                continue;
            }
            let location = Location::new(self.path.clone(), lineno);
            sink.event(BanEvent::new(
                net,
                Tool::List,
                Format::HostsDeny,
                scope.clone(),
                Action::Listed,
                location,
            ));
        }
    }
}

impl LineParser for HostsDenyParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let (mut text, first) = self.pending.take().unwrap_or((Vec::new(), lineno));
        if let Some(part) = line.strip_suffix(b"\\") {
            text.extend_from_slice(part);
            text.push(b' ');
            self.pending = Some((text, first));
            return;
        }
        if text.is_empty() {
            self.rule_line(lineno, line, sink);
        } else {
            text.extend_from_slice(line);
            self.rule_line(first, &text, sink);
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if let Some((text, first)) = self.pending.take() {
            self.rule_line(first, &text, sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::run_lines;

    /// (address, scope, line) of every event.
    fn found(text: &str) -> Vec<(String, String, u64)> {
        run_lines(Format::HostsDeny, "/etc/hosts.deny", text)
            .events
            .iter()
            .map(|e| {
                (
                    crate::addr::display_net(&e.net),
                    e.scope.clone(),
                    e.location.line,
                )
            })
            .collect()
    }

    #[test]
    fn what_fail2ban_writes() {
        let got = found("ALL: 104.16.0.1\nsshd: [2606:4700::6810:84e5]\n");
        assert_eq!(
            got,
            [
                ("104.16.0.1".into(), "hosts.deny ALL".into(), 1),
                ("2606:4700::6810:84e5".into(), "hosts.deny sshd".into(), 2)
            ]
        );
    }

    #[test]
    fn client_patterns() {
        let got = found(
            "sshd, vsftpd : 104.16.0.0/255.255.0.0 , 172.64.  [2a06:98c0::]/29 [::ffff:162.158.1.1]\n\
             ALL : 162.159.0.0/16 : DENY\n\
             in.telnetd : 104.17.0.1 EXCEPT 104.17.0.2\n",
        );
        let got: Vec<(String, String)> = got.into_iter().map(|(a, s, _)| (a, s)).collect();
        assert_eq!(
            got,
            [
                ("104.16.0.0/16".into(), "hosts.deny sshd, vsftpd".into()),
                ("172.64.0.0/16".into(), "hosts.deny sshd, vsftpd".into()),
                ("2a06:98c0::/29".into(), "hosts.deny sshd, vsftpd".into()),
                ("162.158.1.1".into(), "hosts.deny sshd, vsftpd".into()),
                ("162.159.0.0/16".into(), "hosts.deny ALL".into()),
                ("104.17.0.1".into(), "hosts.deny in.telnetd".into()),
            ]
        );
    }

    #[test]
    fn names_policies_and_comments_are_no_bans() {
        let got = found(
            "# ALL: 104.16.0.9\n\
             ALL: ALL\n\
             ALL: 0.0.0.0/0.0.0.0\n\
             sshd: .example.com LOCAL KNOWN PARANOID cloudflare.com\n\
             \n",
        );
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn a_backslash_continues_the_rule() {
        let got = found("sshd: 104.16.0.1 \\\n  104.16.0.2\nALL: 104.16.0.3\n");
        assert_eq!(
            got,
            [
                ("104.16.0.1".into(), "hosts.deny sshd".into(), 1),
                ("104.16.0.2".into(), "hosts.deny sshd".into(), 1),
                ("104.16.0.3".into(), "hosts.deny ALL".into(), 3)
            ]
        );
    }

    #[test]
    fn detection_needs_the_name_and_the_structure() {
        let deny = Path::new("/etc/hosts.deny");
        let text = b"# comment\nALL: 104.16.0.1\nsshd: [2606:4700::1]\n";
        assert!(detect(deny, text));
        assert!(!detect(Path::new("/var/log/app.log"), text));
        assert!(!detect(
            deny,
            b"ALL: 104.16.0.1\nNov 24 03:06:43 vm sshd[1]: Accepted\nnot a rule\n"
        ));
        assert_eq!(crate::formats::detect(deny, text), Some(Format::HostsDeny));
    }
}
