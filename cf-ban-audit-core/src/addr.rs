//! Addresses and networks read from bytes: the one place where text becomes an [`IpNet`].
//!
//! Every parser hands its candidate token here, so the rules are the same everywhere: an
//! address is a host network (/32 or /128), a CIDR is normalised to its network address, and
//! IPv4-mapped IPv6 (`::ffff:192.0.2.1`) becomes the IPv4 address it carries.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// The longest text an address or CIDR can take (`ffff:...:255.255.255.255/128`).
const MAX_TOKEN: usize = 49;

/// Turns an IPv4-mapped IPv6 address into the IPv4 address it carries.
pub fn normalize_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Normalises a network: host bits cleared, and an IPv4-mapped IPv6 network of prefix 96
/// or longer turned into the IPv4 network it carries.
pub fn normalize_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.network().to_ipv4_mapped() {
            Some(v4) => {
                IpNet::V4(Ipv4Net::new(v4, v6.prefix_len() - 96).expect("prefix <= 32")).trunc()
            }
            None => net.trunc(),
        },
        _ => net.trunc(),
    }
}

/// The host network (/32 or /128) of an address, normalised.
pub fn host_net(ip: IpAddr) -> IpNet {
    match normalize_ip(ip) {
        IpAddr::V4(v4) => IpNet::V4(Ipv4Net::new(v4, 32).expect("32 is valid")),
        IpAddr::V6(v6) => IpNet::V6(Ipv6Net::new(v6, 128).expect("128 is valid")),
    }
}

/// Parses a single address (no prefix) from bytes.
pub fn parse_ip(token: &[u8]) -> Option<IpAddr> {
    if token.is_empty() || token.len() > MAX_TOKEN {
        return None;
    }
    // Tokens are short: a plain loop beats a call into memchr.
    if !token.contains(&b':') {
        return parse_ipv4(token).map(IpAddr::V4);
    }
    if !token.contains(&b'.') {
        return parse_ipv6_hex(token).map(IpAddr::V6);
    }
    // With an IPv4 tail: the standard parser accepts exactly the textual forms; it never
    // panics.
    let text = std::str::from_utf8(token).ok()?;
    text.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// IPv6 of hexadecimal groups only (no IPv4 tail), by the standard library's rules (one to
/// four digits a group, eight groups or fewer around one `::` that stands for at least one),
/// in one pass over the bytes: the standard parser tries an IPv4 tail at every group.
fn parse_ipv6_hex(token: &[u8]) -> Option<Ipv6Addr> {
    let mut groups = [0u16; 8];
    // Groups before the `::`, and after it.
    let (mut head, mut tail) = (0usize, 0usize);
    let mut gap = false;
    let mut i = 0;
    if token.starts_with(b"::") {
        gap = true;
        i = 2;
    }
    while i < token.len() {
        let start = i;
        let mut value = 0u16;
        while i < token.len() && i - start < 4 {
            let Some(digit) = char::from(token[i]).to_digit(16) else {
                break;
            };
            value = (value << 4) | digit as u16;
            i += 1;
        }
        if i == start || head + tail == 8 {
            return None;
        }
        groups[head + tail] = value;
        if gap {
            tail += 1;
        } else {
            head += 1;
        }
        if i == token.len() {
            break;
        }
        if token[i] != b':' || i + 1 == token.len() {
            return None;
        }
        i += 1;
        if token[i] == b':' {
            if gap {
                return None;
            }
            gap = true;
            i += 1;
        }
    }
    if gap && head + tail > 7 || !gap && head != 8 {
        return None;
    }
    // The groups after the gap go to the end.
    groups.copy_within(head..head + tail, 8 - tail);
    groups[head..8 - tail].fill(0);
    Some(Ipv6Addr::from(groups))
}

/// Dotted-quad IPv4 from bytes, by the standard library's rules (four decimal octets of at
/// most 255, no leading zeros, nothing else), without going through `str`: it is the hot
/// path of every parser.
pub(crate) fn parse_ipv4(token: &[u8]) -> Option<Ipv4Addr> {
    if !(7..=15).contains(&token.len()) {
        return None;
    }
    match parse_ipv4_prefix(token) {
        Some((ip, len)) if len == token.len() => Some(ip),
        _ => None,
    }
}

/// The dotted-quad IPv4 address at the start of `bytes`, read as [`parse_ipv4`] reads a
/// token, and its length: the fourth octet ends at its third digit or at the first byte that
/// is not one. Whether what follows ends the token is the caller's to check (a fourth digit
/// there means no address).
pub(crate) fn parse_ipv4_prefix(bytes: &[u8]) -> Option<(Ipv4Addr, usize)> {
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if bytes.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut value = 0u16;
        while i < bytes.len() && i - start < 3 && bytes[i].is_ascii_digit() {
            value = value * 10 + u16::from(bytes[i] - b'0');
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || (digits > 1 && bytes[start] == b'0') {
            return None;
        }
        *octet = u8::try_from(value).ok()?;
    }
    Some((Ipv4Addr::from(octets), i))
}

/// Parses an address or a CIDR from bytes into a normalised network.
///
/// A bare address becomes a host network; a CIDR keeps its prefix, with host bits cleared.
///
/// ```
/// use cf_ban_audit_core::parse_net;
/// assert_eq!(parse_net(b"104.16.5.5").unwrap().to_string(), "104.16.5.5/32");
/// assert_eq!(parse_net(b"173.245.48.9/20").unwrap().to_string(), "173.245.48.0/20");
/// assert_eq!(parse_net(b"::ffff:104.16.5.5").unwrap().to_string(), "104.16.5.5/32");
/// assert!(parse_net(b"104.16.5.5/33").is_none());
/// ```
pub fn parse_net(token: &[u8]) -> Option<IpNet> {
    if token.len() > MAX_TOKEN {
        return None;
    }
    match token.iter().position(|&b| b == b'/') {
        None => parse_ip(token).map(host_net),
        Some(slash) => {
            let ip = parse_ip(&token[..slash])?;
            let len_text = &token[slash + 1..];
            if len_text.is_empty() || len_text.len() > 3 || !len_text.iter().all(u8::is_ascii_digit)
            {
                return None;
            }
            let len: u8 = std::str::from_utf8(len_text).ok()?.parse().ok()?;
            let net = IpNet::new(ip, len).ok()?;
            Some(normalize_net(net))
        }
    }
}

/// The smallest set of CIDR blocks that covers exactly the addresses `start..=end`, or `None`
/// when the two are of different families or `start` comes after `end`. IPv4-mapped IPv6
/// addresses count as IPv4.
///
/// The crate's one range splitter: the firewalld, ipset, iptables, nftables, nginx `geo` and
/// plain-list readers (and bt_firewall, through plain lists) and the doctor read `a-b` ranges
/// with it; [`crate::formats::plain_list::range_nets`] is this function re-exported under the
/// path it had there.
pub fn range_nets(start: IpAddr, end: IpAddr) -> Option<Vec<IpNet>> {
    match (normalize_ip(start), normalize_ip(end)) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let blocks = split_range(u128::from(u32::from(a)), u128::from(u32::from(b)), 32)?;
            blocks
                .into_iter()
                .map(|(lo, len)| {
                    let addr = Ipv4Addr::from(u32::try_from(lo).ok()?);
                    IpNet::new(IpAddr::V4(addr), len).ok()
                })
                .collect()
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let blocks = split_range(u128::from(a), u128::from(b), 128)?;
            blocks
                .into_iter()
                .map(|(lo, len)| IpNet::new(IpAddr::V6(Ipv6Addr::from(lo)), len).ok())
                .collect()
        }
        _ => None,
    }
}

/// Splits `lo..=hi` (in a space of `bits` bits) into aligned blocks `(start, prefix length)`.
fn split_range(mut lo: u128, hi: u128, bits: u32) -> Option<Vec<(u128, u8)>> {
    if lo > hi {
        return None;
    }
    let mut out = Vec::new();
    loop {
        let mut k = if lo == 0 {
            bits
        } else {
            lo.trailing_zeros().min(bits)
        };
        // The largest aligned block starting at `lo` that stays within `hi`.
        let span = loop {
            let span = if k >= 128 {
                u128::MAX
            } else {
                (1u128 << k) - 1
            };
            if lo.checked_add(span).is_some_and(|last| last <= hi) {
                break span;
            }
            k -= 1;
        };
        out.push((lo, u8::try_from(bits - k).ok()?));
        let last = lo + span;
        if last >= hi {
            return Some(out);
        }
        lo = last + 1;
    }
}

/// Formats a network the way people write it: a bare address for a host network, CIDR
/// notation otherwise.
pub fn display_net(net: &IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage_and_oversized_tokens() {
        assert!(parse_net(b"").is_none());
        assert!(parse_net(b"/").is_none());
        assert!(parse_net(b"1.2.3.4/").is_none());
        assert!(parse_net(b"1.2.3.4/+1").is_none());
        assert!(parse_net(b"1.2.3.4/0032").is_none());
        assert!(parse_net(b"\xff\xfe").is_none());
        assert!(parse_net(&[b'1'; 4096]).is_none());
        assert!(parse_net(b"01.2.3.4").is_none());
    }

    #[test]
    fn maps_v4_mapped_networks() {
        assert_eq!(
            parse_net(b"::ffff:104.16.0.0/109").unwrap().to_string(),
            "104.16.0.0/13"
        );
        assert_eq!(parse_net(b"::ffff:0:0/64").unwrap().to_string(), "::/64");
    }

    #[test]
    fn keeps_odd_but_valid_v6() {
        // fail2ban 1.0.2 bans this mis-parsed `[client ADDR:0]` form; it is a valid address.
        assert_eq!(
            parse_net(b"2606:4700:4700::1111:0").unwrap().to_string(),
            "2606:4700:4700::1111:0/128"
        );
    }

    proptest::proptest! {
        /// The byte parser of IPv4 accepts exactly what the standard library's does.
        #[test]
        fn ipv4_bytes_agree_with_std(token in "[0-9.]{0,17}|[0-9a-f.x+ -]{0,12}|(0|00|1|25[0-9]|2[0-9]{2}|[0-9]{1,4})(\\.(0|00|1|25[0-9]|2[0-9]{2}|[0-9]{1,4})){2,4}") {
            let std = token.parse::<Ipv4Addr>().ok();
            proptest::prop_assert_eq!(parse_ipv4(token.as_bytes()), std, "{:?}", token);
        }

        /// The byte parser of IPv6 accepts exactly what the standard library's does.
        #[test]
        fn ipv6_bytes_agree_with_std(token in "[0-9a-fA-F:]{0,41}|(:|::)?([0-9a-f]{0,5}(:|::)){0,9}[0-9a-fA-F]{0,5}(:|::)?|[0-9a-f:]{0,30}\\.[0-9.]{0,12}") {
            let std = token.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
            let std = std.filter(|_| token.len() <= MAX_TOKEN);
            proptest::prop_assert_eq!(super::parse_ip(token.as_bytes()).filter(IpAddr::is_ipv6), std, "{:?}", token);
        }

        /// Every count of groups, with a `::` anywhere or none.
        #[test]
        fn ipv6_groups_agree_with_std(groups in proptest::collection::vec("[0-9a-fA-F]{1,5}", 0..=9), gap in proptest::option::of(0usize..10)) {
            let mut token = String::new();
            for (i, g) in groups.iter().enumerate() {
                if gap == Some(i) {
                    token.push_str("::");
                } else if i > 0 {
                    token.push(':');
                }
                token.push_str(g);
            }
            if gap.is_some_and(|g| g >= groups.len()) {
                token.push_str("::");
            }
            let std = token.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
            let std = std.filter(|_| token.len() <= MAX_TOKEN);
            proptest::prop_assert_eq!(super::parse_ip(token.as_bytes()).filter(IpAddr::is_ipv6), std, "{:?}", token);
        }

        #[test]
        fn ipv6_any_bytes_never_panic(bytes in proptest::collection::vec(proptest::sample::select(b"0123456789abcdefABCDEF:.x ".to_vec()), 0..64)) {
            let std = std::str::from_utf8(&bytes).ok().and_then(|t| t.parse::<Ipv6Addr>().ok()).filter(|_| bytes.len() <= MAX_TOKEN);
            proptest::prop_assert_eq!(super::parse_ip(&bytes).filter(IpAddr::is_ipv6), std.map(IpAddr::V6));
        }

        #[test]
        fn ipv4_any_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let std = std::str::from_utf8(&bytes).ok().and_then(|t| t.parse::<Ipv4Addr>().ok());
            proptest::prop_assert_eq!(parse_ipv4(&bytes), std);
        }
    }
}

/// Worked examples of this module's functions.
#[cfg(test)]
mod examples {
    #[test]
    fn normalize_ip() {
        use crate::addr::normalize_ip;
        let mapped: std::net::IpAddr = "::ffff:104.16.0.1".parse().unwrap();
        assert_eq!(normalize_ip(mapped).to_string(), "104.16.0.1");
    }

    #[test]
    fn parse_ip() {
        use crate::addr::parse_ip;
        assert!(parse_ip(b"2606:4700::1").is_some());
        assert!(parse_ip(b"104.16.0.1/24").is_none());
        assert!(parse_ip(b"user").is_none());
    }

    #[test]
    fn range_nets() {
        use crate::addr::range_nets;
        let nets = range_nets(
            "104.16.0.0".parse().unwrap(),
            "104.27.255.255".parse().unwrap(),
        )
        .unwrap();
        let text: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
        assert_eq!(text, ["104.16.0.0/13", "104.24.0.0/14"]);
        assert_eq!(
            range_nets(
                "::".parse().unwrap(),
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap()
            )
            .unwrap()[0]
                .to_string(),
            "::/0"
        );
        assert!(range_nets("192.0.2.9".parse().unwrap(), "192.0.2.1".parse().unwrap()).is_none());

        let nets = range_nets(
            "141.101.64.0".parse().unwrap(),
            "141.101.127.255".parse().unwrap(),
        )
        .unwrap();
        assert_eq!(
            nets.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
            ["141.101.64.0/18"]
        );
        let nets = range_nets("192.0.2.1".parse().unwrap(), "192.0.2.4".parse().unwrap()).unwrap();
        assert_eq!(
            nets.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
            ["192.0.2.1/32", "192.0.2.2/31", "192.0.2.4/32"]
        );
        let nets = range_nets("192.0.2.1".parse().unwrap(), "192.0.2.10".parse().unwrap()).unwrap();
        let text: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            text,
            [
                "192.0.2.1/32",
                "192.0.2.2/31",
                "192.0.2.4/30",
                "192.0.2.8/31",
                "192.0.2.10/32"
            ]
        );
        assert!(range_nets("192.0.2.9".parse().unwrap(), "192.0.2.1".parse().unwrap()).is_none());
    }

    #[test]
    fn display_net() {
        use crate::addr::{display_net, parse_net};
        assert_eq!(
            display_net(&parse_net(b"104.16.5.5").unwrap()),
            "104.16.5.5"
        );
        assert_eq!(
            display_net(&parse_net(b"2400:cb00::/32").unwrap()),
            "2400:cb00::/32"
        );
    }
}
