//! lfd's log lines (syslog tag `lfd`): blocks (`*Blocked in csf*`) and lifted temporary
//! blocks, each address found where lfd's template puts it, never by searching.

use ipnet::IpNet;

use super::{contains, number, plus_secs};
use crate::addr::{host_net, parse_ip, parse_net};
use crate::event::{Action, BanEvent, Tool};
use crate::formats::{Format, Sink};

/// The marker lfd puts after every block message.
const BLOCK_MARK: &[u8] = b" - *Blocked in csf*";

/// A block that lfd logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LfdBlock<'a> {
    /// The blocked address or network, as written.
    pub addr: &'a [u8],
    /// What triggered it (`LF_SSHD`, `PS_LIMIT`, `LF_CUSTOMTRIGGER`, ...).
    pub trigger: &'a [u8],
    /// For a temporary block, its length in seconds; `None` for a permanent one.
    pub secs: Option<u64>,
}

/// Leading decimal digits (1 to 15) and the rest.
fn lead_digits(b: &[u8]) -> Option<(u64, &[u8])> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 15 {
        return None;
    }
    Some((number(&b[..n])?, &b[n..]))
}

/// Strips trailing decimal digits (at least one).
fn strip_trailing_digits(b: &[u8]) -> Option<&[u8]> {
    let n = b.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    (n > 0).then(|| &b[..b.len() - n])
}

/// The address that starts `tok` (lfd's `$tip` is `ADDR` or `ADDR (lookup)`), allowing one
/// trailing `,`, `.` or `:` where lfd's template follows it with punctuation.
fn address_token(tok: &[u8]) -> Option<&[u8]> {
    if tok.is_empty() {
        return None;
    }
    if parse_net(tok).is_some() {
        return Some(tok);
    }
    let cut = &tok[..tok.len() - 1];
    (matches!(tok[tok.len() - 1], b',' | b'.' | b':') && parse_net(cut).is_some()).then_some(cut)
}

/// The first token of `s`, when it is an address.
fn tip_at_start(s: &[u8]) -> Option<&[u8]> {
    let end = memchr::memchr(b' ', s).unwrap_or(s.len());
    address_token(&s[..end])
}

/// The address of a `$tip` that ends `s`: `ADDR` or `ADDR (lookup)`. The lookup's host name
/// is the attacker's, but it holds no space, so the right `(` is the last ` (` preceded by an
/// address.
fn tip_at_end(s: &[u8]) -> Option<&[u8]> {
    if !s.ends_with(b")") {
        let start = memchr::memrchr(b' ', s).map_or(0, |i| i + 1);
        return address_token(&s[start..]);
    }
    let mut end = s.len();
    while let Some(open) = memchr::memmem::rfind(&s[..end], b" (") {
        let start = memchr::memrchr(b' ', &s[..open]).map_or(0, |i| i + 1);
        let tok = &s[start..open];
        if !tok.is_empty() && parse_net(tok).is_some() {
            return Some(tok);
        }
        end = open;
    }
    None
}

/// For a login-failure block (`($apps) $failtext $tip: $count in the last $secs secs`, with
/// ` (CF_ENABLE)` when the block went to Cloudflare too): the text before `: $count`.
fn failure_prefix(body: &[u8]) -> Option<&[u8]> {
    let b = body.strip_suffix(b" (CF_ENABLE)").unwrap_or(body);
    let b = b.strip_suffix(b" secs")?;
    let b = strip_trailing_digits(b)?.strip_suffix(b" in the last ")?;
    strip_trailing_digits(b)?.strip_suffix(b": ")
}

/// For `$app - $n logins in $secs secs from $tip for $account exceeds $rate/hour`: the text
/// after `from `.
fn after_logins(body: &[u8]) -> Option<&[u8]> {
    let dash = memchr::memmem::find(body, b" - ")?;
    if body[..dash].contains(&b' ') {
        return None;
    }
    let (_, rest) = lead_digits(&body[dash + 3..])?;
    let (_, rest) = lead_digits(rest.strip_prefix(b" logins in ")?)?;
    rest.strip_prefix(b" secs from ")
}

/// Where lfd's templates put the blocked address.
fn blocked_address(body: &[u8]) -> Option<&[u8]> {
    if let Some(prefix) = failure_prefix(body) {
        return tip_at_end(prefix);
    }
    for lead in [
        &b"(PERMBLOCK) "[..],
        b"(NETBLOCK) ",
        b"(CT) IP ",
        b"(CT) subnet ",
        b"*Port Scan* detected from ",
    ] {
        if let Some(rest) = body.strip_prefix(lead) {
            return tip_at_start(rest);
        }
    }
    if let Some(rest) = after_logins(body) {
        return tip_at_start(rest);
    }
    // `$tip, N distributed ...`, `$tip, more than N Apache 404 hits ...`,
    // `$tip RELAY limit exceeded`.
    tip_at_start(body)
}

/// Reads an lfd block message (`... - *Blocked in csf* [LF_SSHD]`, `... for 3600 secs
/// [PS_LIMIT]`, `... port=22 [LF_SSHD]`).
pub fn parse_lfd_block(message: &[u8]) -> Option<LfdBlock<'_>> {
    let msg = message.trim_ascii_end();
    let at = memchr::memmem::rfind(msg, BLOCK_MARK)?;
    let mut tail = &msg[at + BLOCK_MARK.len()..];
    let mut secs = None;
    if let Some(rest) = tail.strip_prefix(b" for ") {
        let (n, rest) = lead_digits(rest)?;
        tail = rest.strip_prefix(b" secs")?;
        secs = Some(n);
    } else if let Some(rest) = tail.strip_prefix(b" port=") {
        tail = lead_digits(rest)?.1;
    }
    let trigger = tail.strip_prefix(b" [")?.strip_suffix(b"]")?;
    if trigger.is_empty()
        || trigger.len() > 64
        || !trigger
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return None;
    }
    let addr = blocked_address(&msg[..at])?;
    Some(LfdBlock {
        addr,
        trigger,
        secs,
    })
}

/// Reads lfd's unblock message `Incoming IP ADDR temporary block removed` (`ADDR:PORT` for a
/// block of some ports); returns the `ADDR[:PORT]` token.
pub fn parse_lfd_unblock(message: &[u8]) -> Option<&[u8]> {
    let token = message
        .trim_ascii_end()
        .strip_prefix(b"Incoming IP ")?
        .strip_suffix(b" temporary block removed")?;
    (!token.is_empty() && !token.contains(&b' ')).then_some(token)
}

/// The addresses an unblock token may mean: `ADDR`, or `ADDR:PORT` (for IPv6 both readings,
/// since lfd writes `2001:db8::1:22` for port 22 of `2001:db8::1`).
pub(super) fn unblock_nets(token: &[u8]) -> Vec<IpNet> {
    let mut nets = Vec::with_capacity(2);
    if let Some(net) = parse_net(token) {
        nets.push(net);
    }
    if let Some(colon) = memchr::memrchr(b':', token) {
        let port = &token[colon + 1..];
        if (1..=5).contains(&port.len()) && port.iter().all(u8::is_ascii_digit) {
            if let Some(ip) = parse_ip(&token[..colon]) {
                nets.push(host_net(ip));
            }
        }
    }
    nets.dedup();
    nets
}

/// Reads the message of a syslog line tagged `lfd` (lfd.log: `... *Blocked in csf* ...`,
/// `Incoming IP X temporary block removed`), with the line's time and place.
///
/// A block is an [`Action::Ban`] scoped by its trigger, expiring after its length when it is
/// temporary. An unblock is an [`Action::Unban`] with an empty scope: lfd does not say which
/// trigger the lifted block came from (temporary blocks expire by themselves anyway).
pub fn lfd_message(
    message: &[u8],
    time: Option<chrono::NaiveDateTime>,
    location: crate::event::Location,
    format: Format,
    sink: &mut dyn Sink,
) {
    if contains(message, b"*Blocked in csf*") {
        let Some(block) = parse_lfd_block(message) else {
            sink.malformed(
                location.line,
                "lfd block message in a form lfd does not write".into(),
            );
            return;
        };
        let Some(net) = parse_net(block.addr) else {
            return;
        };
        let expires = block
            .secs
            .and_then(|secs| time.and_then(|t| plus_secs(t, secs)));
        sink.event(
            BanEvent::new(
                net,
                Tool::Csf,
                format,
                String::from_utf8_lossy(block.trigger),
                Action::Ban,
                location,
            )
            .at(time)
            .until(expires)
            .permanent(block.secs.is_none()),
        );
    } else if let Some(token) = parse_lfd_unblock(message) {
        for net in unblock_nets(token) {
            sink.event(
                BanEvent::new(
                    net,
                    Tool::Csf,
                    format,
                    String::new(),
                    Action::Unban,
                    location.clone(),
                )
                .at(time),
            );
        }
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn parse_lfd_block() {
        use crate::formats::csf::parse_lfd_block;
        let b = parse_lfd_block(b"(sshd) Failed SSH login from 93.108.242.140 (PT/Portugal/140.242.108.93.rev.vodafone.pt): 5 in the last 300 secs - *Blocked in csf* [LF_SSHD]").unwrap();
        assert_eq!(
            (b.addr, b.trigger, b.secs),
            (&b"93.108.242.140"[..], &b"LF_SSHD"[..], None)
        );
        let p = parse_lfd_block(b"*Port Scan* detected from 198.51.100.4 (US/United States/-). 16 hits in the last 161 seconds - *Blocked in csf* for 3600 secs [PS_LIMIT]").unwrap();
        assert_eq!((p.addr, p.secs), (&b"198.51.100.4"[..], Some(3600)));
        // a reverse DNS name cannot make itself the blocked address
        let f = parse_lfd_block(b"(sshd) Failed SSH login from 203.0.113.7 (US/United States/104.16.0.1): 5 in the last 300 secs - *Blocked in csf* [LF_SSHD]").unwrap();
        assert_eq!(f.addr, b"203.0.113.7");
    }

    #[test]
    fn parse_lfd_unblock() {
        use crate::formats::csf::parse_lfd_unblock;
        assert_eq!(
            parse_lfd_unblock(b"Incoming IP 192.0.2.1 temporary block removed"),
            Some(&b"192.0.2.1"[..])
        );
        assert_eq!(
            parse_lfd_unblock(b"Outgoing IP 192.0.2.1 temporary block removed"),
            None
        );
    }

    #[test]
    fn lfd_message() {
        use crate::formats::{csf, Format};
        use crate::Location;
        let mut sink = crate::formats::test_support::Collect::default();
        let location = Location::new(std::path::Path::new("lfd.log"), 1);
        let time = "2026-11-24T03:00:00".parse().ok();
        csf::lfd_message(b"(CT) IP 104.16.0.9 (US/United States/-) found to have 300 connections - *Blocked in csf* for 1800 secs [CT_LIMIT]", time, location, Format::Syslog, &mut sink);
        let e = &sink.events[0];
        assert_eq!(
            (e.net.to_string(), e.scope.as_str()),
            ("104.16.0.9/32".into(), "CT_LIMIT")
        );
        assert_eq!(e.expires.unwrap().to_string(), "2026-11-24 03:30:00");
    }
}
