//! nginx refusals written as an `if` on the connecting address (ngx_http_rewrite_module):
//!
//! ```nginx
//! server {
//!     if ($remote_addr = 104.16.8.8) { return 403; }
//!     if ($remote_addr ~ "^172\.64\.8\.8$") { return 444; }
//! }
//! ```
//!
//! - The variable is `$remote_addr` (the client after the realip module) or
//!   `$realip_remote_addr` (the TCP peer). Other variables (`$http_x_forwarded_for`,
//!   `$http_cf_connecting_ip`) are what a request says, not the connecting address.
//! - `=` compares strings (`ngx_http_script_equal_code`): it matches only the text nginx
//!   prints for the address (`ngx_sock_ntop`: IPv6 lower case, zeros compressed), so
//!   `2606:4700:0010::8` never matches and is noted, not read.
//! - `~` and `~*` are regular expressions: one is read only when it is a plain literal address,
//!   anchored (`^…$`) or not, dots escaped or not; it refuses that address (an unanchored one
//!   refuses others too, which are not guessed). Any other expression is noted, not read.
//! - Negated forms (`!=`, `!~`, `!~*`) refuse every address but the one named: no ban of it.
//! - The `if` block must hold `return` with a code of 400 or more (444 closes the connection);
//!   `return 301 …`, `set` and the like refuse nothing.
//!
//! The refusal holds wherever the `if` stands (a `server` block's ifs run for every request of
//! that server, a `location`'s for its requests): it is an entry of the configuration, read as
//! long as it is configured.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::addr::{host_net, parse_ip};

/// The variables that hold the connecting address.
const ADDRESS_VARIABLES: &[&[u8]] = &[b"$remote_addr", b"$realip_remote_addr"];

/// What an `if` on the connecting address tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AddressTest {
    /// It holds for this address.
    Address(IpNet),
    /// It tests the address in a way not read (the reason, for a note).
    Unread(&'static str),
    /// It holds for every address but one (a negated test): no ban of that one.
    AllBut,
}

/// Reads the words after `if` as a test on the connecting address; `None` when the condition
/// is of another kind (another variable, a bare variable).
pub(super) fn parse(words: &[&[u8]]) -> Option<AddressTest> {
    let text = words.join(&b' ');
    let inner = text
        .trim_ascii()
        .strip_prefix(b"(")?
        .strip_suffix(b")")?
        .trim_ascii();
    let mut parts = inner
        .split(u8::is_ascii_whitespace)
        .filter(|p| !p.is_empty());
    let var = parts.next()?;
    if !ADDRESS_VARIABLES.contains(&var) {
        return None;
    }
    let op = parts.next()?;
    let value = parts.next().unwrap_or_default();
    if parts.next().is_some() {
        return Some(AddressTest::Unread("a value with spaces"));
    }
    Some(match op {
        b"!=" | b"!~" | b"!~*" => AddressTest::AllBut,
        b"=" => match parse_ip(value) {
            Some(ip) if printed(ip).as_bytes() == value => AddressTest::Address(host_net(ip)),
            Some(_) => AddressTest::Unread("an address nginx never prints that way"),
            None => AddressTest::Unread("a value that is not an address"),
        },
        b"~" | b"~*" => match literal(value) {
            Some(ip) => {
                let text = printed(ip);
                let same = if op == b"~*" {
                    text.eq_ignore_ascii_case(&String::from_utf8_lossy(&unescaped(value)))
                } else {
                    text.as_bytes() == unescaped(value)
                };
                if same {
                    AddressTest::Address(host_net(ip))
                } else {
                    AddressTest::Unread("an address nginx never prints that way")
                }
            }
            None => AddressTest::Unread("a regular expression that is not one address"),
        },
        _ => return None,
    })
}

/// The text nginx gives `$remote_addr` for an address.
fn printed(ip: IpAddr) -> String {
    ip.to_string()
}

/// A regular expression without its anchors and the backslashes before `.` and `:`.
fn unescaped(regex: &[u8]) -> Vec<u8> {
    let body = regex.strip_prefix(b"^").unwrap_or(regex);
    let body = body.strip_suffix(b"$").unwrap_or(body);
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'\\' && matches!(body.get(i + 1), Some(b'.' | b':')) {
            i += 1;
        }
        out.push(body[i]);
        i += 1;
    }
    out
}

/// The address a regular expression spells out literally (only hex digits, dots and colons
/// once the anchors and escapes are gone).
fn literal(regex: &[u8]) -> Option<IpAddr> {
    let body = unescaped(regex);
    if body
        .iter()
        .any(|b| !(b.is_ascii_hexdigit() || *b == b'.' || *b == b':'))
    {
        return None;
    }
    parse_ip(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(cond: &str) -> Option<AddressTest> {
        let words: Vec<&[u8]> = cond.split(' ').map(str::as_bytes).collect();
        parse(&words)
    }

    fn addr(s: &str) -> Option<AddressTest> {
        Some(AddressTest::Address(host_net(s.parse().unwrap())))
    }

    #[test]
    fn equal_and_literal_regexes_name_one_address() {
        assert_eq!(test("($remote_addr = 104.16.8.8)"), addr("104.16.8.8"));
        assert_eq!(
            test("( $remote_addr = 2606:4700:10::8 )"),
            addr("2606:4700:10::8")
        );
        assert_eq!(
            test("($remote_addr ~ ^172\\.64\\.8\\.8$)"),
            addr("172.64.8.8")
        );
        assert_eq!(test("($remote_addr ~ 172.64.8.8)"), addr("172.64.8.8"));
        assert_eq!(
            test("($remote_addr ~* ^2606:4700:10::A$)"),
            addr("2606:4700:10::a")
        );
        assert_eq!(
            test("($realip_remote_addr = 104.16.8.9)"),
            addr("104.16.8.9")
        );
    }

    #[test]
    fn other_tests_are_not_bans() {
        assert_eq!(
            test("($remote_addr != 104.16.8.8)"),
            Some(AddressTest::AllBut)
        );
        assert_eq!(test("($remote_addr !~ ^104\\.)"), Some(AddressTest::AllBut));
        assert!(matches!(
            test("($remote_addr = 2606:4700:0010::8)"),
            Some(AddressTest::Unread(_))
        ));
        assert!(matches!(
            test("($remote_addr ~ 2606:4700:10::A)"),
            Some(AddressTest::Unread(_))
        ));
        assert!(matches!(
            test("($remote_addr ~ ^104\\.16\\.)"),
            Some(AddressTest::Unread(_))
        ));
        assert!(matches!(
            test("($remote_addr ~ ^104\\.16\\.8\\.1\\d$)"),
            Some(AddressTest::Unread(_))
        ));
        assert_eq!(test("($http_x_forwarded_for = 104.16.8.8)"), None);
        assert_eq!(test("($remote_addr)"), None);
    }
}
