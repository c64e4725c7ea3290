//! ipset's sets, as `ipset save` and `ipset list` print them (and as restore files hold them:
//! `/etc/iptables/ipsets`, `/etc/sysconfig/ipset`, `/etc/ipset.conf`).
//!
//! - `ipset save` (the restore format), one command a line:
//!
//!   ```text
//!   create f2b-modsec hash:ip family inet hashsize 1024 maxelem 65536 timeout 0 bucketsize 12 initval 0x36c5fb18
//!   add f2b-modsec 173.245.60.33 timeout 0
//!   add cf4 104.16.0.0/13 timeout 0 comment "hi there"
//!   ```
//!
//!   Restore files may also `del`, `flush`, `destroy`, `rename` and `swap`, and ipset 4.x files
//!   use `-N set iphash` / `-A set 10.0.0.1`; all of these are applied, so the members read are
//!   those the sets hold at the end of the file.
//! - `ipset list`: a block per set, `Name:`, `Type:`, `Header:` (the create options) and
//!   `Members:` followed by one member a line, up to a blank line:
//!
//!   ```text
//!   Name: f2b-modsec
//!   Type: hash:ip
//!   Header: family inet hashsize 1024 maxelem 65536 timeout 0 bucketsize 12 initval 0x36c5fb18
//!   Members:
//!   173.245.60.33 timeout 0
//!   ```
//!
//! A member is an address, a CIDR or an `a-b` range (split into its CIDR blocks), possibly
//! followed by more parts after commas (`1.2.3.4,tcp:80` in `hash:ip,port`, `10.0.0.0/8,eth0`
//! in `hash:net,iface`): the address part is the first. In sets created with `netmask N` a bare
//! member stands for its whole /N. `nomatch` members are exceptions and are not read; sets
//! without addresses (`bitmap:port`, `hash:mac`) are skipped. The member sets of a `list:set` are
//! told to the sink ([`Sink::set_member`]): a rule that drops on the list drops on their members.
//!
//! Every member becomes an [`Action::Listed`] event of [`Format::Ipset`] whose scope is the set
//! name exactly, with `expires` = the time the dump was written (the file's modification
//! time, or now for live output) + the member's remaining `timeout` when it has one above 0.
//! Whether a set bans or allows is not decided here: rules that use it report it through
//! [`Sink::set_use`], and the aggregator keeps members as findings only
//! for ban sets.
//!
//! Comments are quoted (`comment "text"`), may hold spaces and even line breaks, and are never
//! read as members or commands: a line that ends inside a quote continues on the next one.
//!
//! [`Action::Listed`]: crate::event::Action::Listed
//! [`Sink::set_use`]: super::Sink::set_use

mod parser;
mod tokens;

use super::registry::{Detection, FormatDescriptor, Membership};
use crate::event::Tool;
use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDateTime;
use ipnet::IpNet;

/// The maps of a dump hold what it names (set names, members): seeded at random like the
/// scan's own map (foldhash, far cheaper than SipHash on keys this short).
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

use super::Format;
use crate::addr::{parse_ip, parse_net, range_nets};

pub(crate) use parser::read_sets;
pub use parser::IpsetParser;

/// The most bytes a command continued over several lines (a comment holding line breaks) may
/// take; ipset comments are at most 255 bytes.
const MAX_CONTINUED: usize = 4096;

/// Reads an address, a CIDR or an `a-b` range into the networks it covers.
pub fn parse_nets(text: &[u8]) -> Option<Vec<IpNet>> {
    if let Some(net) = parse_net(text) {
        return Some(vec![net]);
    }
    let dash = memchr::memchr(b'-', text)?;
    let first = parse_ip(&text[..dash])?;
    let last = parse_ip(&text[dash + 1..])?;
    range_nets(first, last)
}

/// Whether the name of a set type (`hash:ip`, `bitmap:port`, ipset 4.x `iphash`...) is one
/// ipset knows, and whether its members hold addresses.
fn type_kind(name: &[u8]) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    if let Some((family, dims)) = lower.split_once_byte(b':') {
        if !matches!(family, b"hash" | b"bitmap" | b"list") || dims.is_empty() {
            return None;
        }
        let first = dims.split(|&b| b == b',').next().unwrap_or_default();
        return Some(match first {
            b"ip" | b"net" => Kind::Addresses,
            _ => Kind::NoAddresses,
        });
    }
    match lower.as_slice() {
        b"iphash" | b"nethash" | b"ipmap" | b"ipporthash" | b"ipportiphash" | b"ipportnethash"
        | b"iptree" | b"iptreemap" | b"macipmap" => Some(Kind::Addresses),
        b"portmap" | b"setlist" => Some(Kind::NoAddresses),
        _ => None,
    }
}

trait SplitOnce {
    fn split_once_byte(&self, b: u8) -> Option<(&[u8], &[u8])>;
}

impl SplitOnce for [u8] {
    fn split_once_byte(&self, b: u8) -> Option<(&[u8], &[u8])> {
        let i = memchr::memchr(b, self)?;
        Some((&self[..i], &self[i + 1..]))
    }
}

/// Whether the first bytes of a file are ipset output: the first line that is not blank or a
/// `#` comment is `create NAME TYPE ...` (or ipset 4.x `-N NAME TYPE`) with a known type, or
/// `Name: NAME` followed by `Type: TYPE`.
pub fn detect(_path: &Path, head: &[u8]) -> Option<Format> {
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty() && !l.starts_with(b"#"));
    let first = lines.next()?;
    let tokens: Vec<&[u8]> = first
        .split(u8::is_ascii_whitespace)
        .filter(|t| !t.is_empty())
        .collect();
    match tokens.as_slice() {
        [b"create" | b"-N", _, kind, ..] if type_kind(kind).is_some() => Some(Format::Ipset),
        [b"Name:", _] => {
            let second = lines.next()?;
            let kind = second.strip_prefix(b"Type:")?.trim_ascii();
            type_kind(kind).map(|_| Format::Ipset)
        }
        _ => None,
    }
}

/// Whether a set's members hold addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Addresses,
    NoAddresses,
    /// A type not known (or a set never created in the file): members are read when they
    /// parse, and skipped quietly when not.
    Unknown,
}

/// One set as the file leaves it.
#[derive(Debug)]
struct SetState {
    /// Creation order, for a stable output.
    seq: u64,
    kind: Kind,
    /// `netmask N`: bare members stand for their /N.
    netmask: Option<u8>,
    /// Member network → (line, expiry).
    members: Map<IpNet, (u64, Option<NaiveDateTime>)>,
    /// The type as written (`hash:ip`, `list:set`), for the firewall model.
    type_name: Vec<u8>,
    /// `nomatch` member network → line: exceptions, never bans; kept for the firewall model.
    exceptions: Map<IpNet, u64>,
    /// The member sets of a `list:set`.
    list: Vec<Vec<u8>>,
}

impl SetState {
    fn new(seq: u64, kind: Kind) -> Self {
        SetState {
            seq,
            kind,
            netmask: None,
            members: Map::default(),
            type_name: Vec::new(),
            exceptions: Map::default(),
            list: Vec::new(),
        }
    }
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// `ipset save` and `ipset list` output.
    pub const Ipset: Format = Format::builtin(18, "ipset");
}

/// The ipset descriptor: members of sets whose purpose the rules that use them decide, or
/// else their name.
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::new(
    Format::Ipset,
    &[Tool::Ipset],
    "ipset save/list: members of ban sets",
    |ctx| Box::new(IpsetParser::new(ctx)),
)
.usual_paths(&[
    "/etc/iptables/ipsets",
    "/etc/sysconfig/ipset",
    "/etc/ipset.conf",
])
.detected_by(&[Detection::text(260, |path, head| {
    detect(path, head).is_some()
})])
.membership(Membership::ByRulesOrName);

// The model is built here, by its reader: the model imports no reader.
impl crate::firewall::ipset::Ipsets {
    /// Reads `ipset save` or `ipset list` output with the ipset reader (see
    /// [`crate::formats::ipset`]); what it cannot read is left out.
    pub fn parse(text: &str) -> crate::firewall::ipset::Ipsets {
        read_sets(text.as_bytes())
    }
}

#[cfg(test)]
mod tests;

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn parse_nets() {
        use crate::formats::ipset::parse_nets;
        assert_eq!(
            parse_nets(b"104.16.0.0/13").unwrap()[0].to_string(),
            "104.16.0.0/13"
        );
        assert_eq!(
            parse_nets(b"104.16.0.0-104.23.255.255").unwrap()[0].to_string(),
            "104.16.0.0/13"
        );
        assert!(parse_nets(b"tcp:80").is_none());
    }

    #[test]
    fn detect() {
        use crate::formats::{ipset, Format};
        use std::path::Path;
        let p = Path::new("ipsets");
        assert_eq!(
            ipset::detect(p, b"create f2b-sshd hash:ip family inet timeout 600\n"),
            Some(Format::Ipset)
        );
        assert_eq!(
            ipset::detect(p, b"Name: f2b-sshd\nType: hash:ip\nRevision: 6\n"),
            Some(Format::Ipset)
        );
        assert_eq!(ipset::detect(p, b"create table users\n"), None);
    }
}
