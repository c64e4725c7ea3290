//! An address entry as lists write it: an address, a CIDR, or a range `a-b` of two full
//! addresses (plain lists, BT-Panel's firewall rules).

use ipnet::IpNet;

use crate::addr::{parse_ip, parse_net, range_nets};

/// Reads one entry: an address, a CIDR, or a range `a-b` of two full addresses.
pub fn parse_entry(token: &[u8]) -> Option<Vec<IpNet>> {
    let mut nets = Vec::new();
    entry_into(token, &mut nets).then_some(nets)
}

/// [`parse_entry`] into a vector the caller reuses; false (and nothing added) when the token
/// is not an entry.
pub fn entry_into(token: &[u8], nets: &mut Vec<IpNet>) -> bool {
    if let Some(net) = parse_net(token) {
        nets.push(net);
        return true;
    }
    let range = memchr::memchr(b'-', token).and_then(|dash| {
        let start = parse_ip(token[..dash].trim_ascii())?;
        let end = parse_ip(token[dash + 1..].trim_ascii())?;
        range_nets(start, end)
    });
    match range {
        Some(range) => {
            nets.extend(range);
            true
        }
        None => false,
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn parse_entry() {
        use crate::formats::grammar::entry::parse_entry;
        assert_eq!(
            parse_entry(b"104.16.0.1").unwrap()[0].to_string(),
            "104.16.0.1/32"
        );
        assert_eq!(
            parse_entry(b"198.51.100.0-198.51.100.255").unwrap()[0].to_string(),
            "198.51.100.0/24"
        );
        assert!(parse_entry(b"example.com").is_none());
    }
}
