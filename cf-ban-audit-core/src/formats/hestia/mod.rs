//! HestiaCP's (and VestaCP's) firewall ban list, as the panel's own scripts write and list it
//! (`hestiacp/hestiacp` `bin/v-add-firewall-ban`, `bin/v-list-firewall-ban`,
//! `bin/v-update-firewall`, `install/deb/fail2ban/action.d/hestia.conf`; `serghey-rodin/vesta`,
//! same names; see `../shared/FORMATS.md` §6 A1):
//!
//! - `$HESTIA/data/firewall/banlist.conf` ([`Format::HestiaBanlist`]; `$HESTIA` is
//!   `/usr/local/hestia`, `/usr/local/vesta` for Vesta): one ban a line, shell `KEY='value'`
//!   pairs that `v-add-firewall-ban` writes with
//!   `echo "IP='$ip' CHAIN='$chain' TIME='$time' DATE='$date'"` (`date +'%T %F'`):
//!
//!   ```text
//!   IP='203.0.113.7' CHAIN='WEB' TIME='14:02:11' DATE='2025-03-09'
//!   ```
//!
//! - `v-list-firewall-ban json` output ([`Format::HestiaBanJson`]): an object keyed by the
//!   address, four-space indented, one key a line:
//!
//!   ```text
//!   {
//!       "203.0.113.7": {
//!           "IP": "203.0.113.7",
//!           "CHAIN": "WEB",
//!           "TIME": "14:02:11",
//!           "DATE": "2025-03-09"
//!       }
//!   }
//!   ```
//!
//!   The same address banned in two chains gives the same key twice; both are read.
//!
//! - `v-list-firewall-ban shell|csv|plain` output ([`Format::HestiaBanListing`]): each
//!   entry `eval`ed and printed as `$IP $CHAIN $TIME $DATE` under the header
//!   `IP   CHAIN   TIME   DATE` and a line of dashes, through `column -t` (`shell`, the
//!   default); as `$IP,$CHAIN,$TIME,$DATE` under `IP,CHAIN,TIME,DATE` (`csv`); or
//!   tab-separated without a header (`plain`):
//!
//!   ```text
//!   IP              CHAIN     TIME      DATE
//!   --              -----     ----      ----
//!   203.0.113.7     WEB       14:02:11  2025-03-09
//!   ```
//!
//!   A row has exactly the four fields (`shell`: two, `IP` and `CHAIN`, when an entry has
//!   no `TIME` and `DATE`, since `column -t` drops empty ones); `TIME` and `DATE` must be
//!   `%T` and `%F`. These shapes are constructed from the script's own `echo` lines
//!   (FORMATS.md A1 "Other formats"), not captured from a Hestia host.
//!
//! Each entry is an [`Action::Listed`] event of [`Tool::Hestia`] with scope `fail2ban-CHAIN`,
//! the iptables chain the ban's DROP (or REJECT) rule stands in (`fail2ban-WEB` drops ports
//! 80 and 443, `fail2ban-RECIDIVE` every port), at the entry's `DATE` and `TIME` (host local
//! time). The list is the panel's live configuration: `v-update-firewall` rebuilds the chains
//! from it at every restart, so an entry is a ban in force until `v-delete-firewall-ban IP
//! CHAIN` removes it (which fail2ban's `hestia` action runs at the jail's unban). Hestia filters
//! IPv4 only (`iptables`, `ipv4_cidr`): an IPv6 value is a malformed entry.
//!
//! The file is root's and its values are checked by the scripts, but it is read as strictly
//! as they write it, so that no value can stand for another key: a line is `KEY='value'` pairs
//! separated by single spaces, a key in capitals, a value holding no quote, no key twice
//! (`eval` would let the second win). Anything else is a malformed line, named with its
//! number, never searched for an address. A `COMMENT` or any other key is allowed and never
//! read for addresses. In the JSON listing the key must be the entry's own `IP`.

mod banlist;
mod json;
mod listing;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use ipnet::IpNet;

use super::registry::{Detection, FormatDescriptor};
use super::Format;
use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool};

pub use banlist::{detect_banlist, BanlistParser};
pub use json::{detect_json, BanJsonParser};
pub use listing::{detect_listing, ListingParser};

/// The most a `v-list-firewall-ban json` document may hold before it is refused.
const MAX_DOCUMENT: usize = 32 << 20;

/// The prefix of the iptables chain of a Hestia ban list chain (`WEB` is `fail2ban-WEB`).
pub const CHAIN_PREFIX: &str = "fail2ban-";

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// HestiaCP/VestaCP `banlist.conf` (`IP='…' CHAIN='…' TIME='…' DATE='…'`).
    pub const HestiaBanlist: Format = Format::builtin(43, "hestia-banlist");
    /// HestiaCP/VestaCP `v-list-firewall-ban json` output.
    pub const HestiaBanJson: Format = Format::builtin(44, "hestia-ban-json");
    /// HestiaCP/VestaCP `v-list-firewall-ban shell|csv|plain` output.
    pub const HestiaBanListing: Format = Format::builtin(52, "hestia-ban-listing");
}

/// Reads one line of shell `KEY='value'` pairs exactly as Hestia's scripts write them: pairs
/// separated by one space, each key `[A-Z][A-Z0-9_]*`, each value in single quotes holding no
/// quote, no key twice. `None` for anything else (surrounding white space is allowed).
///
/// (See the worked example in this module's `examples`.)
pub fn parse_pairs(line: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let line = line.trim_ascii();
    let mut pairs: Vec<(&[u8], &[u8])> = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        if !pairs.is_empty() {
            rest = rest.strip_prefix(b" ")?;
        }
        let eq = memchr::memchr(b'=', rest)?;
        let key = &rest[..eq];
        let valid_key = key.first().is_some_and(u8::is_ascii_uppercase)
            && key
                .iter()
                .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if !valid_key || pairs.iter().any(|(k, _)| *k == key) {
            return None;
        }
        let quoted = rest[eq + 1..].strip_prefix(b"'")?;
        let end = memchr::memchr(b'\'', quoted)?;
        pairs.push((key, &quoted[..end]));
        rest = &quoted[end + 1..];
    }
    (!pairs.is_empty()).then_some(pairs)
}

/// The value of `key` among `pairs`.
pub(crate) fn value<'a>(pairs: &[(&[u8], &'a [u8])], key: &[u8]) -> Option<&'a [u8]> {
    pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// An entry's address: IPv4 or an IPv4 CIDR (Hestia's `ipv4_cidr`), never IPv6.
fn ipv4_net(text: &[u8]) -> Result<IpNet, String> {
    let shown = String::from_utf8_lossy(text);
    if text.contains(&b':') {
        return Err(format!(
            "IP {shown:?} is IPv6, which Hestia's firewall does not filter"
        ));
    }
    parse_net(text)
        .filter(|n| matches!(n, IpNet::V4(_)))
        .ok_or_else(|| format!("IP {shown:?} is not an IPv4 address or CIDR"))
}

/// An entry's chain: what Hestia's `chain` format allows (letters, digits, `_`, `-`, `.`,
/// not starting with `-`).
fn chain(text: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(text)
        .ok()
        .filter(|c| {
            !c.is_empty()
                && !c.starts_with('-')
                && c.len() <= 64
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        })
        .ok_or_else(|| {
            format!(
                "CHAIN {:?} is not a chain name",
                String::from_utf8_lossy(text)
            )
        })
}

/// `DATE` and `TIME` (`%F` and `%T`) as one time; `None` when either is missing or other.
fn entry_time(date: Option<&[u8]>, time: Option<&[u8]>) -> Option<NaiveDateTime> {
    let date = NaiveDate::parse_from_str(std::str::from_utf8(date?).ok()?, "%Y-%m-%d").ok()?;
    let time = NaiveTime::parse_from_str(std::str::from_utf8(time?).ok()?, "%H:%M:%S").ok()?;
    Some(date.and_time(time))
}

/// The event of one entry, or why the entry is malformed.
fn entry_event(
    ip: &[u8],
    chain_text: &[u8],
    date: Option<&[u8]>,
    time: Option<&[u8]>,
    format: Format,
    location: Location,
) -> Result<BanEvent, String> {
    let net = ipv4_net(ip)?;
    let chain = chain(chain_text)?;
    Ok(BanEvent::new(
        net,
        Tool::Hestia,
        format,
        format!("{CHAIN_PREFIX}{chain}"),
        Action::Listed,
        location,
    )
    .at(entry_time(date, time)))
}

/// `banlist.conf`.
pub(crate) const BANLIST: FormatDescriptor = FormatDescriptor::new(
    Format::HestiaBanlist,
    &[Tool::Hestia],
    "HestiaCP/VestaCP firewall ban list banlist.conf",
    |ctx| Box::new(BanlistParser::new(ctx)),
)
.usual_paths(&[
    "/usr/local/hestia/data/firewall/banlist.conf",
    "/usr/local/vesta/data/firewall/banlist.conf",
])
.detected_by(&[Detection::text(235, detect_banlist)]);

/// `v-list-firewall-ban json` output.
pub(crate) const BAN_JSON: FormatDescriptor = FormatDescriptor::new(
    Format::HestiaBanJson,
    &[Tool::Hestia],
    "HestiaCP/VestaCP v-list-firewall-ban json output",
    |ctx| Box::new(BanJsonParser::new(ctx)),
)
.detected_by(&[Detection::text(236, detect_json)]);

/// `v-list-firewall-ban shell|csv|plain` output.
pub(crate) const BAN_LISTING: FormatDescriptor = FormatDescriptor::new(
    Format::HestiaBanListing,
    &[Tool::Hestia],
    "HestiaCP/VestaCP v-list-firewall-ban shell, csv or plain output",
    |ctx| Box::new(ListingParser::new(ctx)),
)
.detected_by(&[Detection::text(237, detect_listing)]);

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn parse_pairs() {
        use crate::formats::hestia::parse_pairs;
        let line = b"IP='203.0.113.7' CHAIN='WEB' TIME='14:02:11' DATE='2025-03-09'";
        let pairs = parse_pairs(line).unwrap();
        assert_eq!(pairs[0], (&b"IP"[..], &b"203.0.113.7"[..]));
        assert_eq!(pairs.len(), 4);
        // A value cannot hold a second pair, and no key comes twice.
        assert!(parse_pairs(b"IP='198.51.100.7' CHAIN='WEB' IP='104.16.0.1'").is_none());
        assert!(parse_pairs(b"IP='198.51.100.7'; IP='104.16.0.1'").is_none());
    }
}
