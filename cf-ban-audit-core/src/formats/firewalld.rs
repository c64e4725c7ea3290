//! firewalld: its XML configuration (`/etc/firewalld/zones`, `policies`, `ipsets`,
//! `direct.xml`) and saved `firewall-cmd` output. Every standing block of a source becomes an
//! [`Action::Listed`] event without time or expiry; members of firewalld ipsets are reported
//! as set members whose purpose the rules decide ([`Sink::set_use`]).
//!
//! # XML ([`Format::FirewalldZone`], [`Format::FirewalldIpset`])
//!
//! firewalld writes its XML with Python's SAX generator: one element a line, attributes in
//! double quotes, `&lt;`-style entities. The files are read with a small tokenizer for that
//! subset of XML (elements, attributes in either quote, entities and character references,
//! comments, CDATA, the declaration), so a commented-out `<source>` is never read and text
//! (a `<description>`) never passes for an element. The zone, policy or ipset name is the file
//! name without `.xml`. firewalld's own backups (`public.xml.old`, the state before the last
//! change) are not in force: they are recognised, so that no other format claims them, and
//! not read (the file gets a note saying so).
//!
//! - **Zones** (`<zone target="DROP">`): a `<source address="..."/>` of a zone whose target is
//!   `DROP`, `REJECT` or `%%REJECT%%` is a ban (scope `zone:NAME`); so in the built-in `drop`
//!   and `block` zones when the file names no target. A `<source ipset="NAME"/>` of such a
//!   zone reports `set_use(NAME, Drop)`; of an `ACCEPT` zone (`trusted`), `set_use(NAME,
//!   Accept)`. Sources of zones with the `default` or `CONTINUE` target only choose the zone
//!   and are neither. Interfaces are not sources.
//! - **Rich rules** of zones and policies (`<rule><source address="..."/><drop/></rule>`):
//!   `drop` and `reject` of a source address are bans (scope `zone:NAME` or `policy:NAME`); of
//!   a source ipset, `set_use(NAME, Drop)`; `accept` of a source ipset, `set_use(NAME, Accept)`.
//!   Not bans: `accept`, `mark`, rules without an action (log only, forward-port), rules whose
//!   source is inverted (`invert="True"`: every other address is acted on), rules that only
//!   name a destination, and `drop`/`reject` with a `<limit>` (only a rate of packets is
//!   dropped, the rest go on).
//! - **Ipsets** (`<ipset type="hash:net"><entry>104.16.0.0/13</entry></ipset>`): every entry is
//!   an event of format [`Format::FirewalldIpset`] whose scope is the ipset's name exactly.
//!   Entries of `hash:ip,port`-like types are read by their first part; `a-b` ranges are
//!   split into CIDR blocks ([`range_to_nets`]); `hash:mac` entries are not addresses.
//! - **Direct rules** (`/etc/firewalld/direct.xml`, read as [`Format::FirewalldZone`]):
//!   `<rule ipv="ipv4" table="filter" chain="f2b-sshd" priority="0">-s 1.2.3.4 -j REJECT</rule>`
//!   and `<passthrough ipv="ipv4">-A INPUT -s 1.2.3.4 -j DROP</passthrough>`: a source
//!   (`-s`/`--source`, comma lists, not negated with `!`) of a rule that jumps to `DROP` or
//!   `REJECT` is a ban (scope `direct:CHAIN`); `-m set --match-set NAME src` reports the set's
//!   use. Rules of `OUTPUT` and `POSTROUTING` are not about sources.
//!
//! # Saved `firewall-cmd` output ([`Format::FirewalldRich`])
//!
//! - `--list-rich-rules`: one rule a line, `rule family="ipv4" source address="1.2.3.4" reject
//!   type="icmp-port-unreachable"` (fail2ban's `firewallcmd-rich-rules` action makes these).
//!   The zone is not named there: the scope is `rich-rules`. Values may be in single quotes.
//!   A `source NOT address=` is inverted. Text inside quoted values (a log prefix) is never
//!   read as a keyword.
//! - `--list-all`, `--zone=X --list-all`, `--list-all-zones`, `--list-all-policies`: blocks of
//!   `NAME (active)` then `  key: value` lines; `  target:` with `  sources:` give the zone's
//!   source bans and ipset uses as in the XML, and the tab-indented lines after `  rich rules:`
//!   are rich rules of that zone or policy (scope `zone:NAME` / `policy:NAME`). The verbose
//!   `  description:` (free text, possibly on several lines) is skipped up to the next key.
//! - `--info-ipset=NAME`: `NAME` then `  type: hash:ip`, `  options:` and `  entries: a b c`:
//!   the entries are ipset members as in the XML.
//! - `--direct --get-all-rules` (`ipv4 filter INPUT 0 -s 1.2.3.4 -j DROP`) and
//!   `--direct --get-all-passthroughs` (`ipv4 -A INPUT -s 1.2.3.4 -j DROP`): as in
//!   `direct.xml`. fail2ban's `firewallcmd-multiport` and `firewallcmd-ipset` actions ban
//!   through runtime direct rules, seen only there.
//!
//! `--ipset=NAME --get-entries` prints bare addresses, one a line: a plain list, not told
//! apart from others by its content.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use ipnet::IpNet;

use super::ufw::shell_words;
use super::{Format, LineParser, ParseCtx, Parser, Sink, Verdict};
use crate::addr::{normalize_ip, parse_ip, parse_net};
use crate::event::{Action, BanEvent, Location, Tool};

/// The most XML kept in memory for one file; what follows is not read (and is reported as
/// malformed).
pub const MAX_XML_BYTES: usize = 64 << 20;

/// The scope of rich rules read where no zone is named (`firewall-cmd --list-rich-rules`).
pub const UNNAMED_RICH_SCOPE: &str = "rich-rules";

/// The longest text quoted from the input in a message.
const MAX_QUOTE: usize = 64;

fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_QUOTE)]);
    if bytes.len() > MAX_QUOTE {
        format!("{text:?}...")
    } else {
        format!("{text:?}")
    }
}

// ---------------------------------------------------------------------------------------------
// detection

/// Decides whether a file is firewalld's: XML whose root element is `<zone>`, `<policy>`
/// (with ingress/egress zones), `<direct>` or `<ipset type="hash:...">`, or saved
/// `firewall-cmd` output (rich rules, `--list-all` blocks, `--info-ipset`, direct rules).
/// firewalld's backups (`*.old`, see [`is_backup_name`]) are detected and not read.
///
/// ```
/// use cf_ban_audit_core::formats::{firewalld, Format};
/// use std::path::Path;
/// let zone = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone target=\"DROP\">\n  <source address=\"104.16.0.1\"/>\n</zone>\n";
/// assert_eq!(firewalld::detect(Path::new("/etc/firewalld/zones/drop.xml"), zone), Some(Format::FirewalldZone));
/// assert_eq!(firewalld::detect(Path::new("/etc/firewalld/zones/drop.xml.old"), zone), Some(Format::FirewalldZone));
/// let ipset = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ipset type=\"hash:net\">\n  <entry>104.16.0.0/13</entry>\n</ipset>\n";
/// assert_eq!(firewalld::detect(Path::new("bans.xml"), ipset), Some(Format::FirewalldIpset));
/// let rich = b"rule family=\"ipv4\" source address=\"104.16.0.1\" reject type=\"icmp-port-unreachable\"\n";
/// assert_eq!(firewalld::detect(Path::new("rules.txt"), rich), Some(Format::FirewalldRich));
/// assert_eq!(firewalld::detect(Path::new("notes.txt"), b"<html><body/></html>"), None);
/// ```
pub fn detect(path: &Path, head: &[u8]) -> Option<Format> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some((root, attrs)) = xml_root(head) {
        let has = |needle: &[u8]| memchr::memmem::find(head, needle).is_some();
        let attr = |key: &[u8]| {
            attrs
                .iter()
                .find(|(k, _)| k.as_slice() == key)
                .map(|(_, v)| v.as_str())
        };
        return match root.as_slice() {
            b"zone" => Some(Format::FirewalldZone),
            b"policy" if has(b"<ingress-zone") || has(b"<egress-zone") => {
                Some(Format::FirewalldZone)
            }
            b"direct" if name == "direct.xml" || has(b" ipv=") => Some(Format::FirewalldZone),
            b"ipset" if attr(b"type").is_some_and(|t| t.starts_with("hash:")) => {
                Some(Format::FirewalldIpset)
            }
            _ => None,
        };
    }
    looks_like_output(head).then_some(Format::FirewalldRich)
}

/// Whether a file name is that of a backup, not in force: firewalld's own `NAME.xml.old` (the
/// state before its last change), or a name ending in `~`, `.bak`, `.orig`, `.rpmsave` or
/// `.rpmnew`. firewalld reads only `*.xml`.
///
/// ```
/// use cf_ban_audit_core::formats::firewalld::is_backup_name;
/// assert!(is_backup_name("public.xml.old"));
/// assert!(!is_backup_name("public.xml"));
/// ```
pub fn is_backup_name(name: &str) -> bool {
    name.ends_with('~')
        || [".old", ".bak", ".orig", ".rpmsave", ".rpmnew"]
            .iter()
            .any(|s| name.ends_with(s))
}

/// Whether the first bytes are saved `firewall-cmd` output.
fn looks_like_output(head: &[u8]) -> bool {
    let has = |needle: &[u8]| memchr::memmem::find(head, needle).is_some();
    head.split(|&b| b == b'\n').take(400).any(|line| {
        let t = line.trim_ascii();
        is_rich_rule(t)
            || direct_line(t).is_some()
            || (line.starts_with(b"  target: ")
                && (has(b"\n  icmp-block-inversion: ") || has(b"\n  ingress-zones: ")))
            || (line.starts_with(b"  type: hash:") && has(b"\n  entries: "))
    })
}

/// The keywords that may follow `rule` in a rich rule.
const RICH_WORDS: &[&[u8]] = &[
    b"family=",
    b"priority=",
    b"source",
    b"destination",
    b"service",
    b"port",
    b"protocol",
    b"icmp-block",
    b"icmp-type",
    b"masquerade",
    b"forward-port",
    b"source-port",
    b"tcp-mss-clamp",
    b"log",
    b"nflog",
    b"audit",
    b"accept",
    b"reject",
    b"drop",
    b"mark",
];

/// Whether a trimmed line is a rich rule: `rule` then one of its keywords.
fn is_rich_rule(t: &[u8]) -> bool {
    let Some(rest) = t.strip_prefix(b"rule") else {
        return false;
    };
    if !rest.first().is_some_and(u8::is_ascii_whitespace) {
        return false;
    }
    let rest = rest.trim_ascii_start();
    RICH_WORDS.iter().any(|w| {
        rest.starts_with(w)
            && (w.ends_with(b"=")
                || rest
                    .get(w.len())
                    .is_none_or(|b| b.is_ascii_whitespace() || *b == b'='))
    })
}

// ---------------------------------------------------------------------------------------------
// shared rules

/// What a zone's target does with the packets of its sources: `DROP`, `REJECT` and
/// `%%REJECT%%` drop, `ACCEPT` accepts, `default` and `CONTINUE` neither. With no target
/// (`None`), the built-in `drop` and `block` zones drop and `trusted` accepts.
///
/// ```
/// use cf_ban_audit_core::formats::firewalld::target_verdict;
/// use cf_ban_audit_core::formats::Verdict;
/// assert_eq!(target_verdict(Some("%%REJECT%%"), "public"), Some(Verdict::Drop));
/// assert_eq!(target_verdict(Some("ACCEPT"), "trusted"), Some(Verdict::Accept));
/// assert_eq!(target_verdict(Some("default"), "public"), None);
/// assert_eq!(target_verdict(None, "drop"), Some(Verdict::Drop));
/// ```
pub fn target_verdict(target: Option<&str>, zone: &str) -> Option<Verdict> {
    match target.map(str::trim) {
        Some("DROP" | "REJECT" | "%%REJECT%%") => Some(Verdict::Drop),
        Some("ACCEPT") => Some(Verdict::Accept),
        Some(_) => None,
        None => match zone {
            "drop" | "block" => Some(Verdict::Drop),
            "trusted" => Some(Verdict::Accept),
            _ => None,
        },
    }
}

/// The source of a rich rule or a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An address or CIDR, as written.
    Address(String),
    /// A firewalld ipset, by name.
    Ipset(String),
    /// A MAC address (never a ban of an IP address).
    Mac(String),
}

/// The action of a rich rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAction {
    /// `accept`.
    Accept,
    /// `reject`.
    Reject,
    /// `drop`.
    Drop,
    /// `mark` (packets are marked, not blocked).
    Mark,
}

/// What matters of a rich rule: its source, whether the source is inverted, its action and
/// whether the action is rate-limited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RichRule {
    /// The source, if the rule names one.
    pub source: Option<Source>,
    /// `source NOT ...` / `invert="True"`: the rule matches every other source.
    pub invert: bool,
    /// The action, if any (a rule may only log).
    pub action: Option<RuleAction>,
    /// The action has a `limit`.
    pub limited: bool,
}

impl RichRule {
    /// What the rule does with packets of its source: `drop`/`reject` without a limit drop,
    /// `accept` accepts; `None` for inverted sources and everything else.
    pub fn verdict(&self) -> Option<Verdict> {
        if self.invert {
            return None;
        }
        match self.action? {
            RuleAction::Accept => Some(Verdict::Accept),
            RuleAction::Drop | RuleAction::Reject if !self.limited => Some(Verdict::Drop),
            _ => None,
        }
    }
}

/// Splits a rich rule string into `key` / `key=value` words, values in double or single
/// quotes or bare. `Err` when a quote is left open.
fn rich_words(text: &[u8]) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        if text[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < text.len() && !text[i].is_ascii_whitespace() && text[i] != b'=' {
            i += 1;
        }
        let key = String::from_utf8_lossy(&text[start..i]).into_owned();
        if text.get(i) != Some(&b'=') {
            out.push((key, None));
            continue;
        }
        i += 1;
        let value = match text.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let Some(len) = memchr::memchr(q, &text[i + 1..]) else {
                    return Err(format!("rich rule with an open quote: {}", quote(text)));
                };
                let v = &text[i + 1..i + 1 + len];
                i += len + 2;
                v
            }
            _ => {
                let s = i;
                while i < text.len() && !text[i].is_ascii_whitespace() {
                    i += 1;
                }
                &text[s..i]
            }
        };
        out.push((key, Some(String::from_utf8_lossy(value).into_owned())));
    }
    Ok(out)
}

/// Reads a rich rule as `firewall-cmd` prints it (`rule family="ipv4" source address="..."
/// ... drop`). `Err` names what is wrong.
///
/// ```
/// use cf_ban_audit_core::formats::firewalld::{parse_rich_rule, RuleAction, Source};
/// use cf_ban_audit_core::formats::Verdict;
/// let r = parse_rich_rule(br#"rule family="ipv4" source address="172.67.0.0/16" service name="ssh" log prefix="drop " level="warning" drop"#).unwrap();
/// assert_eq!(r.source, Some(Source::Address("172.67.0.0/16".into())));
/// assert_eq!(r.verdict(), Some(Verdict::Drop));
/// let r = parse_rich_rule(br#"rule family="ipv4" source NOT address="198.41.128.0/17" drop"#).unwrap();
/// assert_eq!(r.verdict(), None);
/// let r = parse_rich_rule(br#"rule family="ipv4" source address="108.162.192.7" log prefix="drop 104.16.0.1 " accept"#).unwrap();
/// assert_eq!(r.action, Some(RuleAction::Accept));
/// ```
pub fn parse_rich_rule(text: &[u8]) -> Result<RichRule, String> {
    let words = rich_words(text)?;
    let mut it = words.iter().peekable();
    match it.next() {
        Some((k, None)) if k == "rule" => {}
        _ => return Err(format!("not a rich rule: {}", quote(text))),
    }
    let mut rule = RichRule::default();
    while let Some((key, value)) = it.next() {
        match (key.as_str(), value) {
            ("source", None) => {
                if it.peek().is_some_and(|(k, v)| k == "NOT" && v.is_none()) {
                    it.next();
                    rule.invert = true;
                }
                rule.source = match it.next() {
                    Some((k, Some(v))) if k == "address" => Some(Source::Address(v.clone())),
                    Some((k, Some(v))) if k == "ipset" => Some(Source::Ipset(v.clone())),
                    Some((k, Some(v))) if k == "mac" => Some(Source::Mac(v.clone())),
                    _ => return Err(format!("rich rule with a bad source: {}", quote(text))),
                };
            }
            ("destination", None) => {
                if it.peek().is_some_and(|(k, v)| k == "NOT" && v.is_none()) {
                    it.next();
                }
                it.next();
            }
            ("accept", None) => rule.action = Some(RuleAction::Accept),
            ("reject", None) => rule.action = Some(RuleAction::Reject),
            ("drop", None) => rule.action = Some(RuleAction::Drop),
            ("mark", None) => rule.action = Some(RuleAction::Mark),
            // A limit after the action limits the action (one before it limits a log).
            ("limit", None) if rule.action.is_some() => rule.limited = true,
            _ => {}
        }
    }
    Ok(rule)
}

/// Splits an address range `a-b` into the fewest CIDR blocks that cover it exactly. `None`
/// when the two ends are of different families or out of order.
///
/// ```
/// use cf_ban_audit_core::formats::firewalld::range_to_nets;
/// let nets = range_to_nets("141.101.64.0".parse().unwrap(), "141.101.127.255".parse().unwrap()).unwrap();
/// assert_eq!(nets.iter().map(|n| n.to_string()).collect::<Vec<_>>(), ["141.101.64.0/18"]);
/// let nets = range_to_nets("192.0.2.1".parse().unwrap(), "192.0.2.4".parse().unwrap()).unwrap();
/// assert_eq!(nets.iter().map(|n| n.to_string()).collect::<Vec<_>>(), ["192.0.2.1/32", "192.0.2.2/31", "192.0.2.4/32"]);
/// assert!(range_to_nets("192.0.2.9".parse().unwrap(), "192.0.2.1".parse().unwrap()).is_none());
/// ```
pub fn range_to_nets(a: IpAddr, b: IpAddr) -> Option<Vec<IpNet>> {
    let (lo, hi, bits) = match (normalize_ip(a), normalize_ip(b)) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            (u128::from(u32::from(a)), u128::from(u32::from(b)), 32u32)
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128u32),
        _ => return None,
    };
    if lo > hi {
        return None;
    }
    let make = |start: u128, host_bits: u32| -> Option<IpNet> {
        let prefix = u8::try_from(bits - host_bits).ok()?;
        let ip = if bits == 32 {
            IpAddr::V4(u32::try_from(start).ok()?.into())
        } else {
            IpAddr::V6(start.into())
        };
        IpNet::new(ip, prefix).ok()
    };
    let mut out = Vec::new();
    let mut cur = lo;
    loop {
        // The largest block aligned at `cur` that ends at or before `hi`.
        let mut host_bits = if cur == 0 {
            bits
        } else {
            cur.trailing_zeros().min(bits)
        };
        let span = |h: u32| {
            if h >= 128 {
                u128::MAX
            } else {
                (1u128 << h) - 1
            }
        };
        while host_bits > 0 && cur.checked_add(span(host_bits)).is_none_or(|end| end > hi) {
            host_bits -= 1;
        }
        out.push(make(cur, host_bits)?);
        let end = cur + span(host_bits);
        if end >= hi {
            break;
        }
        cur = end + 1;
    }
    Some(out)
}

/// The networks of one ipset entry for an ipset of type `ipset_type` (`hash:ip`,
/// `hash:net,port`, ...): its first part, an address, a CIDR or an `a-b` range. Empty for
/// types whose first part is not an address (`hash:mac`). `Err` names what is wrong.
///
/// ```
/// use cf_ban_audit_core::formats::firewalld::ipset_entry_nets;
/// let n = ipset_entry_nets("104.16.0.0/13", "hash:net").unwrap();
/// assert_eq!(n[0].to_string(), "104.16.0.0/13");
/// let n = ipset_entry_nets("172.64.0.9,tcp:443", "hash:ip,port").unwrap();
/// assert_eq!(n[0].to_string(), "172.64.0.9/32");
/// assert!(ipset_entry_nets("00:11:22:33:44:55", "hash:mac").unwrap().is_empty());
/// assert!(ipset_entry_nets("not-an-ip", "hash:ip").is_err());
/// ```
pub fn ipset_entry_nets(entry: &str, ipset_type: &str) -> Result<Vec<IpNet>, String> {
    let first_flag = ipset_type
        .trim()
        .strip_prefix("hash:")
        .unwrap_or(ipset_type)
        .split(',')
        .next()
        .unwrap_or_default();
    if !matches!(first_flag, "ip" | "net") {
        return Ok(Vec::new());
    }
    let item = entry.split(',').next().unwrap_or_default().trim();
    let bad = || format!("ipset entry is not an address: {}", quote(entry.as_bytes()));
    if let Some(net) = parse_net(item.as_bytes()) {
        return Ok(vec![net]);
    }
    let (a, b) = item.split_once('-').ok_or_else(bad)?;
    let a = parse_ip(a.trim().as_bytes()).ok_or_else(bad)?;
    // firewalld lets the end of a `hash:net` range carry a mask: the range ends where that
    // network ends.
    let b = match parse_ip(b.trim().as_bytes()) {
        Some(ip) => ip,
        None => parse_net(b.trim().as_bytes()).ok_or_else(bad)?.broadcast(),
    };
    range_to_nets(a, b).ok_or_else(bad)
}

/// A MAC address (`00:11:22:33:44:55`), which `sources:` may list besides addresses.
fn is_mac(token: &[u8]) -> bool {
    token.len() == 17
        && token.chunks(3).all(|c| {
            c[0].is_ascii_hexdigit()
                && c[1].is_ascii_hexdigit()
                && c.get(2).is_none_or(|&s| s == b':')
        })
}

/// Where events go, for one input.
struct Out<'a> {
    path: &'a Arc<Path>,
    /// The format of events that are not ipset members.
    format: Format,
}

impl Out<'_> {
    fn event(&self, net: IpNet, format: Format, scope: &str, line: u64, sink: &mut dyn Sink) {
        sink.event(BanEvent {
            net,
            tool: Tool::Firewalld,
            format,
            scope: scope.to_string(),
            peer: None,
            action: Action::Listed,
            time: None,
            expires: None,
            location: Location {
                path: self.path.clone(),
                line,
            },
        });
    }

    /// A banned address or CIDR as written.
    fn ban(&self, addr: &str, scope: &str, line: u64, sink: &mut dyn Sink) {
        match parse_net(addr.trim().as_bytes()) {
            Some(net) => self.event(net, self.format, scope, line, sink),
            None => sink.malformed(
                line,
                format!(
                    "firewalld {scope}: source is not an address: {}",
                    quote(addr.as_bytes())
                ),
            ),
        }
    }

    /// A source of a zone whose target gives `verdict`.
    fn zone_source(
        &self,
        source: &Source,
        verdict: Option<Verdict>,
        scope: &str,
        line: u64,
        sink: &mut dyn Sink,
    ) {
        match (source, verdict) {
            (Source::Address(a), Some(Verdict::Drop)) => self.ban(a, scope, line, sink),
            (Source::Ipset(name), Some(v)) => sink.set_use(name, v),
            _ => {}
        }
    }

    /// A rich rule of a zone or policy.
    fn rich_rule(&self, rule: &RichRule, scope: &str, line: u64, sink: &mut dyn Sink) {
        match (&rule.source, rule.verdict()) {
            (Some(Source::Address(a)), Some(Verdict::Drop)) => self.ban(a, scope, line, sink),
            (Some(Source::Ipset(name)), Some(v)) => sink.set_use(name, v),
            _ => {}
        }
    }

    /// One ipset entry.
    fn entry(&self, entry: &str, ipset_type: &str, set: &str, line: u64, sink: &mut dyn Sink) {
        match ipset_entry_nets(entry, ipset_type) {
            Ok(nets) => {
                for net in nets {
                    self.event(net, Format::FirewalldIpset, set, line, sink);
                }
            }
            Err(message) => sink.malformed(line, format!("firewalld ipset {set}: {message}")),
        }
    }

    /// The arguments of a direct rule (`chain` given) or passthrough (`-A CHAIN` inside).
    fn direct(&self, chain: Option<&str>, args: &[String], line: u64, sink: &mut dyn Sink) {
        let mut chain = chain.map(str::to_string);
        let (mut sources, mut set, mut target) = (Vec::new(), None, None);
        let mut negate = false;
        let mut it = args.iter().map(String::as_str);
        while let Some(arg) = it.next() {
            match arg {
                "!" => {
                    negate = true;
                    continue;
                }
                "-s" | "--source" | "--src" => {
                    let mut value = it.next().unwrap_or_default();
                    // The old `-s ! ADDR` form.
                    if value == "!" {
                        negate = true;
                        value = it.next().unwrap_or_default();
                    }
                    if !negate {
                        sources.extend(value.split(',').filter(|s| !s.is_empty()));
                    }
                }
                "--match-set" => {
                    let name = it.next().unwrap_or_default();
                    let flags = it.next().unwrap_or_default();
                    if !negate && flags.split(',').next() == Some("src") {
                        set = Some(name);
                    }
                }
                "-j" | "--jump" => target = it.next(),
                "-A" | "--append" | "-I" | "--insert" => chain = it.next().map(str::to_string),
                "-D" | "--delete" | "-N" | "--new-chain" | "-X" | "--delete-chain" | "-F"
                | "--flush" | "-P" | "--policy" | "-R" | "--replace" | "-Z" | "--zero" => return,
                _ => {}
            }
            negate = false;
        }
        let Some(chain) = chain else { return };
        if matches!(chain.as_str(), "OUTPUT" | "POSTROUTING") {
            return;
        }
        let verdict = match target {
            Some("DROP" | "REJECT") => Verdict::Drop,
            Some("ACCEPT") => Verdict::Accept,
            _ => return,
        };
        if let Some(name) = set {
            sink.set_use(name, verdict);
        }
        if verdict == Verdict::Drop {
            let scope = format!("direct:{chain}");
            for s in sources {
                if let Some(net) = parse_net(s.as_bytes()) {
                    self.event(net, self.format, &scope, line, sink);
                } else if s
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'/'))
                {
                    sink.malformed(
                        line,
                        format!(
                            "firewalld {scope}: source is not an address: {}",
                            quote(s.as_bytes())
                        ),
                    );
                }
                // Anything else is a host name, resolved by iptables when the rule was added.
            }
        }
    }
}

/// The table, chain and arguments of a `--direct --get-all-rules` line (`ipv4 filter INPUT 0
/// -s ...`), or the arguments of a `--get-all-passthroughs` line (`ipv4 -A INPUT ...`, chain
/// `None`). ebtables (`eb`) lines are not about IP addresses and give `None`.
fn direct_line(t: &[u8]) -> Option<(Option<String>, Vec<String>)> {
    if !(t.starts_with(b"ipv4 ") || t.starts_with(b"ipv6 ")) {
        return None;
    }
    let words = shell_words(t)?;
    let second = words.get(1)?;
    if matches!(
        second.as_str(),
        "filter" | "nat" | "mangle" | "raw" | "security"
    ) {
        let chain = words.get(2)?;
        words.get(3)?.parse::<i64>().ok()?;
        if !words.get(4).is_some_and(|w| w.starts_with('-') || w == "!") {
            return None;
        }
        return Some((Some(chain.clone()), words[4..].to_vec()));
    }
    if matches!(
        second.as_str(),
        "-A" | "-I" | "-t" | "--append" | "--insert" | "--table"
    ) {
        return Some((None, words[1..].to_vec()));
    }
    None
}

// ---------------------------------------------------------------------------------------------
// XML

/// One token of the XML.
#[derive(Debug)]
enum Tok<'a> {
    /// `<name attr="value" ...>` or `<name .../>` (`empty`).
    Start {
        name: &'a [u8],
        attrs: Vec<(&'a [u8], String)>,
        empty: bool,
        at: usize,
    },
    /// `</name>`.
    End { name: &'a [u8], at: usize },
    /// Character data, entities decoded.
    Text { text: String },
}

/// Decodes the five XML entities and character references; an unknown entity is kept as
/// written.
fn decode_entities(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if !text.contains('&') {
        return text.into_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest: &str = &text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.get(1..).and_then(|r| {
            let semi = r.find(';').filter(|&s| s <= 10)?;
            let name = &r[..semi];
            let c = match name {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, semi + 2))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A tokenizer for the subset of XML firewalld writes.
struct Xml<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn is_name_end(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'/' | b'>' | b'=' | b'<')
}

impl<'a> Xml<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Xml { buf, pos: 0 }
    }

    fn skip_ws(&mut self) {
        while self.buf.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn name(&mut self) -> &'a [u8] {
        let start = self.pos;
        while self.buf.get(self.pos).is_some_and(|&b| !is_name_end(b)) {
            self.pos += 1;
        }
        &self.buf[start..self.pos]
    }

    /// Skips past `end`, or fails with `what`.
    fn skip_past(&mut self, end: &[u8], what: &str) -> Result<(), (usize, String)> {
        match memchr::memmem::find(&self.buf[self.pos..], end) {
            Some(i) => {
                self.pos += i + end.len();
                Ok(())
            }
            None => Err((self.pos, format!("unterminated {what}"))),
        }
    }

    fn next_tok(&mut self) -> Option<Result<Tok<'a>, (usize, String)>> {
        let result = self.read();
        if result.as_ref().is_some_and(Result::is_err) {
            self.pos = self.buf.len();
        }
        result
    }

    fn read(&mut self) -> Option<Result<Tok<'a>, (usize, String)>> {
        loop {
            let at = self.pos;
            let rest = self.buf.get(at..).filter(|r| !r.is_empty())?;
            if rest[0] != b'<' {
                let end = memchr::memchr(b'<', rest).map_or(self.buf.len(), |i| at + i);
                self.pos = end;
                return Some(Ok(Tok::Text {
                    text: decode_entities(&self.buf[at..end]),
                }));
            }
            if rest.starts_with(b"<!--") {
                self.pos += 4;
                if let Err(e) = self.skip_past(b"-->", "comment") {
                    return Some(Err(e));
                }
                continue;
            }
            if rest.starts_with(b"<![CDATA[") {
                let body = at + 9;
                return Some(match memchr::memmem::find(&self.buf[body..], b"]]>") {
                    Some(i) => {
                        self.pos = body + i + 3;
                        Ok(Tok::Text {
                            text: String::from_utf8_lossy(&self.buf[body..body + i]).into_owned(),
                        })
                    }
                    None => Err((at, "unterminated CDATA section".into())),
                });
            }
            if rest.starts_with(b"<?") {
                self.pos += 2;
                if let Err(e) = self.skip_past(b"?>", "processing instruction") {
                    return Some(Err(e));
                }
                continue;
            }
            if rest.starts_with(b"<!") {
                self.pos += 2;
                if let Err(e) = self.skip_past(b">", "declaration") {
                    return Some(Err(e));
                }
                continue;
            }
            if rest.starts_with(b"</") {
                self.pos += 2;
                let name = self.name();
                self.skip_ws();
                if name.is_empty() || self.buf.get(self.pos) != Some(&b'>') {
                    return Some(Err((at, "bad end tag".into())));
                }
                self.pos += 1;
                return Some(Ok(Tok::End { name, at }));
            }
            self.pos += 1;
            let name = self.name();
            if name.is_empty() {
                return Some(Err((at, "bad tag".into())));
            }
            let mut attrs = Vec::new();
            loop {
                self.skip_ws();
                match self.buf.get(self.pos) {
                    Some(b'>') => {
                        self.pos += 1;
                        return Some(Ok(Tok::Start {
                            name,
                            attrs,
                            empty: false,
                            at,
                        }));
                    }
                    Some(b'/') if self.buf.get(self.pos + 1) == Some(&b'>') => {
                        self.pos += 2;
                        return Some(Ok(Tok::Start {
                            name,
                            attrs,
                            empty: true,
                            at,
                        }));
                    }
                    None => return Some(Err((at, "unterminated tag".into()))),
                    _ => {}
                }
                let key = self.name();
                self.skip_ws();
                if key.is_empty() || self.buf.get(self.pos) != Some(&b'=') {
                    return Some(Err((at, "bad attribute".into())));
                }
                self.pos += 1;
                self.skip_ws();
                let Some(&q @ (b'"' | b'\'')) = self.buf.get(self.pos) else {
                    return Some(Err((at, "unquoted attribute value".into())));
                };
                let start = self.pos + 1;
                let Some(len) = memchr::memchr(q, &self.buf[start..]) else {
                    return Some(Err((at, "unterminated attribute value".into())));
                };
                let raw = &self.buf[start..start + len];
                if raw.contains(&b'<') {
                    return Some(Err((at, "'<' in an attribute value".into())));
                }
                attrs.push((key, decode_entities(raw)));
                self.pos = start + len + 1;
            }
        }
    }
}

/// Attributes of an element, owned: (name, decoded value).
type Attrs = Vec<(Vec<u8>, String)>;

/// The name and attributes of the root element of an XML document's first bytes, if they
/// are XML (a declaration, comments and white space may come first).
fn xml_root(head: &[u8]) -> Option<(Vec<u8>, Attrs)> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first = head.iter().position(|b| !b.is_ascii_whitespace())?;
    if head[first] != b'<' {
        return None;
    }
    let mut xml = Xml::new(head);
    loop {
        match xml.next_tok()? {
            Ok(Tok::Start { name, attrs, .. }) => {
                return Some((
                    name.to_vec(),
                    attrs.into_iter().map(|(k, v)| (k.to_vec(), v)).collect(),
                ))
            }
            Ok(Tok::Text { text }) if text.trim().is_empty() => {}
            _ => return None,
        }
    }
}

fn attr<'v>(attrs: &'v [(&[u8], String)], key: &[u8]) -> Option<&'v str> {
    attrs
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.as_str())
}

fn is_true(value: Option<&str>) -> bool {
    value.is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "yes" | "1"))
}

fn xml_source(attrs: &[(&[u8], String)]) -> Option<Source> {
    if let Some(a) = attr(attrs, b"address") {
        Some(Source::Address(a.to_string()))
    } else if let Some(s) = attr(attrs, b"ipset") {
        Some(Source::Ipset(s.to_string()))
    } else {
        attr(attrs, b"mac").map(|m| Source::Mac(m.to_string()))
    }
}

/// What the root element says the document is.
enum Root {
    /// A zone: its scope and the verdict of its target.
    Zone {
        scope: String,
        verdict: Option<Verdict>,
    },
    /// A policy: its scope (rich rules only).
    Policy { scope: String },
    /// An ipset: its name and type.
    Ipset { name: String, kind: String },
    /// `direct.xml`.
    Direct,
    /// Some other firewalld document (a service, an ICMP type): nothing to read.
    Other,
}

/// Text being collected inside an element.
enum Collect {
    /// An ipset `<entry>`.
    Entry,
    /// A direct `<rule>` of a chain (`None` for an IP family that is not IPv4/IPv6).
    DirectRule(Option<String>),
    /// A direct `<passthrough>`.
    Passthrough(bool),
}

/// Parser of firewalld XML: zones, policies, ipsets and `direct.xml` (see the
/// [module documentation](self)). The document is kept (up to [`MAX_XML_BYTES`]) and read
/// when the input ends.
///
/// ```
/// use cf_ban_audit_core::formats::firewalld::XmlParser;
/// use cf_ban_audit_core::formats::{Format, LineParser, ParseCtx, Sink, Verdict};
/// use cf_ban_audit_core::BanEvent;
/// use std::{path::Path, sync::Arc};
///
/// #[derive(Default)]
/// struct Events(Vec<BanEvent>, Vec<(String, Verdict)>);
/// impl Sink for Events {
///     fn event(&mut self, e: BanEvent) { self.0.push(e) }
///     fn malformed(&mut self, _: u64, _: String) {}
///     fn set_use(&mut self, set: &str, v: Verdict) { self.1.push((set.to_string(), v)) }
/// }
///
/// let now = chrono::Local::now().naive_local();
/// let ctx = ParseCtx { path: Arc::from(Path::new("/etc/firewalld/zones/drop.xml")), reference: now, now };
/// let mut parser = XmlParser::new(Format::FirewalldZone, &ctx);
/// let mut sink = Events::default();
/// let text = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone target=\"DROP\">\n\
///             <!-- <source address=\"104.16.0.9\"/> -->\n\
///             <source address=\"190.93.240.0/20\"/>\n<source ipset=\"cf-blocklist-v4\"/>\n</zone>\n";
/// for (n, line) in text.lines().enumerate() {
///     parser.line(n as u64 + 1, line.as_bytes(), &mut sink);
/// }
/// parser.finish(&mut sink);
/// assert_eq!(sink.0.len(), 1);
/// assert_eq!((sink.0[0].net.to_string(), sink.0[0].scope.as_str(), sink.0[0].location.line),
///            ("190.93.240.0/20".to_string(), "zone:drop", 4));
/// assert_eq!(sink.1, [("cf-blocklist-v4".to_string(), Verdict::Drop)]);
/// ```
pub struct XmlParser {
    path: Arc<Path>,
    /// The zone, policy or ipset name: the file name without `.xml`.
    name: String,
    buf: Vec<u8>,
    /// The offset in `buf` where each line starts, with its number.
    starts: Vec<(usize, u64)>,
    /// The input went past [`MAX_XML_BYTES`].
    cut: bool,
    /// The file is a backup ([`is_backup_name`]): noted, not read.
    backup: bool,
}

impl XmlParser {
    /// A parser for one input of `format` ([`Format::FirewalldZone`] or
    /// [`Format::FirewalldIpset`]; what is read follows the document's root element).
    pub fn new(_format: Format, ctx: &ParseCtx) -> Self {
        let file = ctx
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = file.strip_suffix(".gz").unwrap_or(&file);
        let name = file.strip_suffix(".xml").unwrap_or(file).to_string();
        XmlParser {
            path: ctx.path.clone(),
            name,
            buf: Vec::new(),
            starts: Vec::new(),
            cut: false,
            backup: is_backup_name(file),
        }
    }

    fn line_of(&self, at: usize) -> u64 {
        let i = self.starts.partition_point(|&(o, _)| o <= at);
        i.checked_sub(1).map_or(0, |i| self.starts[i].1)
    }

    fn root(&self, name: &[u8], attrs: &[(&[u8], String)]) -> Root {
        match name {
            b"zone" => Root::Zone {
                scope: format!("zone:{}", self.name),
                verdict: target_verdict(attr(attrs, b"target"), &self.name),
            },
            b"policy" => Root::Policy {
                scope: format!("policy:{}", self.name),
            },
            b"ipset" => Root::Ipset {
                name: self.name.clone(),
                kind: attr(attrs, b"type").unwrap_or("hash:ip").to_string(),
            },
            b"direct" => Root::Direct,
            _ => Root::Other,
        }
    }

    fn read(&self, sink: &mut dyn Sink) {
        // Members of ipsets are events of their own format; everything else read from XML
        // (zone and policy rules, direct rules) is a zone-like configuration.
        let out = Out {
            path: &self.path,
            format: Format::FirewalldZone,
        };
        let mut xml = Xml::new(&self.buf);
        let mut stack: Vec<&[u8]> = Vec::new();
        let mut root: Option<Root> = None;
        // The rich rule being read, with the line of its source (or start).
        let mut rule: Option<(RichRule, u64)> = None;
        // Text being collected, with the line where its element starts.
        let mut collect: Option<(Collect, String, u64)> = None;
        while let Some(tok) = xml.next_tok() {
            let tok = match tok {
                Ok(t) => t,
                Err((at, message)) => {
                    return sink.malformed(self.line_of(at), format!("firewalld XML: {message}"));
                }
            };
            match tok {
                Tok::Start {
                    name,
                    attrs,
                    empty,
                    at,
                } => {
                    let line = self.line_of(at);
                    let depth = stack.len();
                    if depth == 0 {
                        if root.is_some() {
                            return sink
                                .malformed(line, "firewalld XML: a second root element".into());
                        }
                        root = Some(self.root(name, &attrs));
                    } else {
                        let parent = stack.last().copied().unwrap_or_default();
                        match root.as_ref() {
                            Some(Root::Zone { scope, verdict })
                                if depth == 1 && name == b"source" =>
                            {
                                if let Some(src) = xml_source(&attrs) {
                                    out.zone_source(&src, *verdict, scope, line, sink);
                                }
                            }
                            Some(Root::Zone { .. } | Root::Policy { .. }) => match (depth, name) {
                                (1, b"rule") => rule = Some((RichRule::default(), line)),
                                (2, b"source") if parent == b"rule" => {
                                    if let Some((r, l)) = rule.as_mut() {
                                        r.source = xml_source(&attrs);
                                        r.invert = is_true(attr(&attrs, b"invert"));
                                        *l = line;
                                    }
                                }
                                (2, b"accept" | b"reject" | b"drop" | b"mark")
                                    if parent == b"rule" =>
                                {
                                    if let Some((r, _)) = rule.as_mut() {
                                        r.action = Some(match name {
                                            b"accept" => RuleAction::Accept,
                                            b"reject" => RuleAction::Reject,
                                            b"drop" => RuleAction::Drop,
                                            _ => RuleAction::Mark,
                                        });
                                    }
                                }
                                (3, b"limit")
                                    if matches!(
                                        parent,
                                        b"accept" | b"reject" | b"drop" | b"mark"
                                    ) =>
                                {
                                    if let Some((r, _)) = rule.as_mut() {
                                        r.limited = true;
                                    }
                                }
                                _ => {}
                            },
                            Some(Root::Ipset { .. }) if depth == 1 && name == b"entry" => {
                                collect = Some((Collect::Entry, String::new(), line));
                            }
                            Some(Root::Direct) if depth == 1 => {
                                let ip = matches!(attr(&attrs, b"ipv"), Some("ipv4" | "ipv6"));
                                match name {
                                    b"rule" => {
                                        let chain = attr(&attrs, b"chain")
                                            .filter(|_| ip)
                                            .map(str::to_string);
                                        collect =
                                            Some((Collect::DirectRule(chain), String::new(), line));
                                    }
                                    b"passthrough" => {
                                        collect =
                                            Some((Collect::Passthrough(ip), String::new(), line));
                                    }
                                    _ => {}
                                }
                            }
                            _ => {}
                        }
                    }
                    if !empty {
                        stack.push(name);
                    } else if depth == 1 {
                        // `<entry/>`, `<rule/>`: nothing inside.
                        self.close(&out, root.as_ref(), name, rule.take(), collect.take(), sink);
                    }
                }
                Tok::End { name, at } => {
                    if stack.pop() != Some(name) {
                        return sink.malformed(
                            self.line_of(at),
                            format!(
                                "firewalld XML: unexpected </{}>",
                                String::from_utf8_lossy(name)
                            ),
                        );
                    }
                    if stack.len() == 1 {
                        self.close(&out, root.as_ref(), name, rule.take(), collect.take(), sink);
                    }
                }
                Tok::Text { text } => {
                    if let Some((_, acc, _)) = collect.as_mut() {
                        if acc.len() < crate::lines::MAX_LINE {
                            acc.push_str(&text);
                        }
                    }
                }
            }
        }
        if let Some(open) = stack.last() {
            let line = self.starts.last().map_or(0, |s| s.1);
            sink.malformed(
                line,
                format!(
                    "firewalld XML: ends inside <{}>",
                    String::from_utf8_lossy(open)
                ),
            );
        }
    }

    /// The end of a child of the root: a rich rule, an ipset entry, a direct rule.
    fn close(
        &self,
        out: &Out<'_>,
        root: Option<&Root>,
        name: &[u8],
        rule: Option<(RichRule, u64)>,
        collect: Option<(Collect, String, u64)>,
        sink: &mut dyn Sink,
    ) {
        match (root, name) {
            (Some(Root::Zone { scope, .. } | Root::Policy { scope }), b"rule") => {
                if let Some((r, line)) = rule {
                    out.rich_rule(&r, scope, line, sink);
                }
            }
            (Some(Root::Ipset { name, kind }), b"entry") => {
                if let Some((_, text, line)) = collect {
                    let text = text.trim();
                    if !text.is_empty() {
                        out.entry(text, kind, name, line, sink);
                    }
                }
            }
            (Some(Root::Direct), _) => match collect {
                Some((Collect::DirectRule(Some(chain)), text, line)) => {
                    match shell_words(text.as_bytes()) {
                        Some(args) => out.direct(Some(&chain), &args, line, sink),
                        None => sink.malformed(
                            line,
                            format!(
                                "firewalld direct rule with an open quote: {}",
                                quote(text.as_bytes())
                            ),
                        ),
                    }
                }
                Some((Collect::Passthrough(true), text, line)) => {
                    match shell_words(text.as_bytes()) {
                        Some(args) => out.direct(None, &args, line, sink),
                        None => sink.malformed(
                            line,
                            format!(
                                "firewalld passthrough with an open quote: {}",
                                quote(text.as_bytes())
                            ),
                        ),
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
}

impl LineParser for XmlParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if self.cut || self.backup {
            return;
        }
        if self.buf.len() + line.len() + 1 > MAX_XML_BYTES {
            self.cut = true;
            return sink.malformed(
                lineno,
                format!("firewalld XML longer than {MAX_XML_BYTES} bytes: the rest is not read"),
            );
        }
        self.starts.push((self.buf.len(), lineno));
        self.buf.extend_from_slice(line);
        self.buf.push(b'\n');
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if self.backup {
            return sink
                .note("a backup of firewalld's configuration, not in force: not read".into());
        }
        self.read(sink);
        self.buf = Vec::new();
        self.starts = Vec::new();
    }
}

// ---------------------------------------------------------------------------------------------
// firewall-cmd output

/// What a block of `firewall-cmd` output describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Not known yet (only the header was read).
    Unknown,
    /// A zone (`target:` with `interfaces:`/`sources:`).
    Zone,
    /// A policy (`priority:`, `ingress-zones:`).
    Policy,
    /// An ipset (`type: hash:...`).
    Ipset,
}

/// One block: `NAME (active)` then its `  key: value` lines.
#[derive(Debug, Clone)]
struct Block {
    name: String,
    kind: Kind,
    target: Option<String>,
    ipset_type: Option<String>,
}

/// The multi-line value being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    /// None.
    None,
    /// The tab-indented lines after `rich rules:`.
    RichRules,
    /// The free text after `description:`, up to the next key.
    Description,
    /// Any other key.
    Other,
}

/// A block header: a name, optionally followed by `(active)`, `(default)` or
/// `(default, active)`.
fn header(t: &[u8]) -> Option<String> {
    let (name, rest) = match memchr::memchr(b' ', t) {
        Some(sp) => (&t[..sp], t[sp..].trim_ascii()),
        None => (t, &b""[..]),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'+' | b'/'));
    let rest_ok = matches!(
        rest,
        b"" | b"(active)" | b"(default)" | b"(default, active)"
    );
    (name_ok && rest_ok).then(|| String::from_utf8_lossy(name).into_owned())
}

/// `  key: value` (two spaces of indent, a key of letters and dashes, a colon).
fn key_value(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = line.strip_prefix(b"  ")?;
    let colon = memchr::memchr(b':', rest)?;
    let key = &rest[..colon];
    if key.is_empty()
        || !key
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b == b'-' || b == b' ')
    {
        return None;
    }
    let value = &rest[colon + 1..];
    if !value.is_empty() && value[0] != b' ' {
        return None;
    }
    Some((key, value.trim_ascii()))
}

/// Parser of saved `firewall-cmd` output (see the [module documentation](self)).
///
/// ```
/// use cf_ban_audit_core::formats::firewalld::RichParser;
/// use cf_ban_audit_core::formats::{LineParser, ParseCtx, Sink};
/// use cf_ban_audit_core::BanEvent;
/// use std::{path::Path, sync::Arc};
///
/// struct Events(Vec<BanEvent>);
/// impl Sink for Events {
///     fn event(&mut self, e: BanEvent) { self.0.push(e) }
///     fn malformed(&mut self, _: u64, _: String) {}
/// }
///
/// let now = chrono::Local::now().naive_local();
/// let ctx = ParseCtx { path: Arc::from(Path::new("list-all.txt")), reference: now, now };
/// let mut parser = RichParser::new(&ctx);
/// let mut sink = Events(Vec::new());
/// let text = "public\n  target: default\n  icmp-block-inversion: no\n  sources: \n  rich rules: \n\
///             \trule family=\"ipv4\" source address=\"162.159.200.1\" reject\n\
///             \trule family=\"ipv4\" source address=\"192.0.2.10\" service name=\"ssh\" accept\n";
/// for (n, line) in text.lines().enumerate() {
///     parser.line(n as u64 + 1, line.as_bytes(), &mut sink);
/// }
/// assert_eq!(sink.0.len(), 1);
/// assert_eq!((sink.0[0].net.to_string(), sink.0[0].scope.as_str()), ("162.159.200.1/32".to_string(), "zone:public"));
/// ```
pub struct RichParser {
    path: Arc<Path>,
    block: Option<Block>,
    key: Key,
}

impl RichParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        RichParser {
            path: ctx.path.clone(),
            block: None,
            key: Key::None,
        }
    }

    fn out(&self) -> Out<'_> {
        Out {
            path: &self.path,
            format: Format::FirewalldRich,
        }
    }

    /// The scope of rich rules listed in the current block.
    fn block_scope(&self) -> Option<String> {
        match &self.block {
            Some(Block {
                kind: Kind::Zone,
                name,
                ..
            }) => Some(format!("zone:{name}")),
            Some(Block {
                kind: Kind::Policy,
                name,
                ..
            }) => Some(format!("policy:{name}")),
            _ => None,
        }
    }

    fn rich_line(&self, lineno: u64, text: &[u8], scope: &str, sink: &mut dyn Sink) {
        match parse_rich_rule(text) {
            Ok(rule) => self.out().rich_rule(&rule, scope, lineno, sink),
            Err(message) => sink.malformed(lineno, format!("firewalld: {message}")),
        }
    }

    fn key_line(&mut self, lineno: u64, key: &[u8], value: &[u8], sink: &mut dyn Sink) {
        let Some(block) = self.block.as_mut() else {
            return;
        };
        // A description is free text: it ends only at the key that follows it in
        // `firewall-cmd -v` output of a zone or policy (`target`, `priority`), an ipset
        // (`type`), a service (`ports`), an ICMP type (`destination`) or a helper (`family`).
        if self.key == Key::Description
            && !matches!(
                key,
                b"target" | b"priority" | b"type" | b"ports" | b"destination" | b"family"
            )
        {
            return;
        }
        self.key = Key::Other;
        match key {
            b"target" => {
                block.target = Some(String::from_utf8_lossy(value).into_owned());
                if block.kind != Kind::Policy {
                    block.kind = Kind::Zone;
                }
            }
            b"priority" | b"ingress-zones" | b"egress-zones" => block.kind = Kind::Policy,
            b"type" => {
                block.kind = Kind::Ipset;
                block.ipset_type = Some(String::from_utf8_lossy(value).into_owned());
            }
            b"summary" => {}
            b"description" => self.key = Key::Description,
            b"rich rules" => self.key = Key::RichRules,
            b"sources" if block.kind == Kind::Zone => {
                let block = block.clone();
                let verdict = target_verdict(block.target.as_deref(), &block.name);
                let scope = format!("zone:{}", block.name);
                for word in value
                    .split(u8::is_ascii_whitespace)
                    .filter(|w| !w.is_empty())
                {
                    if is_mac(word) {
                        continue;
                    }
                    let source = match word.strip_prefix(b"ipset:") {
                        Some(set) => Source::Ipset(String::from_utf8_lossy(set).into_owned()),
                        None => Source::Address(String::from_utf8_lossy(word).into_owned()),
                    };
                    self.out()
                        .zone_source(&source, verdict, &scope, lineno, sink);
                }
            }
            b"entries" if block.kind == Kind::Ipset => {
                let block = block.clone();
                let kind = block.ipset_type.as_deref().unwrap_or("hash:ip");
                for word in value
                    .split(u8::is_ascii_whitespace)
                    .filter(|w| !w.is_empty())
                {
                    let entry = String::from_utf8_lossy(word);
                    self.out().entry(&entry, kind, &block.name, lineno, sink);
                }
            }
            _ => {}
        }
    }
}

impl LineParser for RichParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if line.trim_ascii().is_empty() {
            if self.key != Key::Description {
                self.key = Key::None;
            }
            return;
        }
        match line[0] {
            b'\t' => {
                if self.key != Key::RichRules {
                    return;
                }
                if let Some(scope) = self.block_scope() {
                    self.rich_line(lineno, line.trim_ascii(), &scope, sink);
                }
            }
            b' ' => {
                if let Some((key, value)) = key_value(line) {
                    self.key_line(lineno, key, value, sink);
                } else if self.key == Key::RichRules && is_rich_rule(line.trim_ascii()) {
                    // Output copied from a terminal, its tabs turned into spaces.
                    if let Some(scope) = self.block_scope() {
                        self.rich_line(lineno, line.trim_ascii(), &scope, sink);
                    }
                }
                // Anything else continues a description or a value: not read.
            }
            _ => {
                if self.key == Key::Description {
                    return;
                }
                let t = line.trim_ascii_end();
                self.key = Key::None;
                if is_rich_rule(t) {
                    self.block = None;
                    self.rich_line(lineno, t, UNNAMED_RICH_SCOPE, sink);
                } else if let Some((chain, args)) = direct_line(t) {
                    self.block = None;
                    self.out().direct(chain.as_deref(), &args, lineno, sink);
                } else {
                    self.block = header(t).map(|name| Block {
                        name,
                        kind: Kind::Unknown,
                        target: None,
                        ipset_type: None,
                    });
                }
            }
        }
    }
}

/// The parser of `format` for one input.
pub fn parser(format: Format, ctx: &ParseCtx) -> Parser {
    match format {
        Format::FirewalldRich => Parser::Lines(Box::new(RichParser::new(ctx))),
        _ => Parser::Lines(Box::new(XmlParser::new(format, ctx))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[derive(Default)]
    struct Collect {
        events: Vec<BanEvent>,
        malformed: Vec<(u64, String)>,
        uses: Vec<(String, Verdict)>,
    }

    impl Sink for Collect {
        fn event(&mut self, e: BanEvent) {
            self.events.push(e);
        }
        fn malformed(&mut self, line: u64, message: String) {
            self.malformed.push((line, message));
        }
        fn set_use(&mut self, set: &str, verdict: Verdict) {
            self.uses.push((set.to_string(), verdict));
        }
    }

    fn ctx(path: &str) -> ParseCtx {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        ParseCtx {
            path: Arc::from(PathBuf::from(path).as_path()),
            reference: now,
            now,
        }
    }

    fn run(mut parser: impl LineParser, text: &str) -> Collect {
        let mut sink = Collect::default();
        for (n, line) in text.lines().enumerate() {
            parser.line(n as u64 + 1, line.as_bytes(), &mut sink);
        }
        parser.finish(&mut sink);
        sink
    }

    fn got(c: &Collect) -> Vec<(String, String, u64, Format)> {
        c.events
            .iter()
            .map(|e| {
                (
                    crate::addr::display_net(&e.net),
                    e.scope.clone(),
                    e.location.line,
                    e.format,
                )
            })
            .collect()
    }

    fn xml(path: &str, text: &str) -> Collect {
        let ctx = ctx(path);
        let format = detect(&ctx.path, text.as_bytes()).expect("detected");
        run(XmlParser::new(format, &ctx), text)
    }

    const PUBLIC: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<zone>
  <short>Public</short>
  <description>Text with &lt;source address="104.16.0.5"/&gt; &amp; more</description>
  <service name="ssh"/>
  <source address="104.16.0.6"/>
  <rule family="ipv4">
    <source ipset="office"/>
    <service name="https"/>
    <accept/>
  </rule>
  <rule family="ipv4">
    <source ipset="blocked-ranges"/>
    <reject/>
  </rule>
  <rule family="ipv4">
    <source address="198.41.128.0/17" invert="True"/>
    <drop/>
  </rule>
  <rule family="ipv4">
    <source address="197.234.240.9"/>
    <port port="443" protocol="tcp"/>
    <drop/>
  </rule>
  <rule family="ipv4">
    <destination address="104.16.0.2"/>
    <drop/>
  </rule>
  <rule family="ipv4">
    <source address="188.114.96.3"/>
    <mark set="0x1"/>
  </rule>
  <rule family="ipv4">
    <source address="108.162.192.7"/>
    <log prefix="drop 104.16.0.1 " level="info"><limit value="1/m"/></log>
    <accept/>
  </rule>
  <rule family="ipv4">
    <source address="104.16.9.9"/>
    <drop>
      <limit value="2/m"/>
    </drop>
  </rule>
  <rule family='ipv6' priority='-10'>
    <source address='2400:cb00:2049::/48'/>
    <reject type='icmp6-port-unreachable'/>
  </rule>
  <!--
  <rule family="ipv4"><source address="104.16.0.3"/><drop/></rule>
  -->
  <rule family="ipv4">
    <source address="104.16.0.4"/>
    <log prefix="x"/>
    <drop/>
  </rule>
  <forward/>
</zone>
"#;

    #[test]
    fn zone_rich_rules() {
        let c = xml("/etc/firewalld/zones/public.xml", PUBLIC);
        assert_eq!(
            got(&c),
            [
                (
                    "197.234.240.9".into(),
                    "zone:public".into(),
                    21,
                    Format::FirewalldZone
                ),
                (
                    "2400:cb00:2049::/48".into(),
                    "zone:public".into(),
                    45,
                    Format::FirewalldZone
                ),
                (
                    "104.16.0.4".into(),
                    "zone:public".into(),
                    52,
                    Format::FirewalldZone
                ),
            ]
        );
        assert_eq!(
            c.uses,
            [
                ("office".into(), Verdict::Accept),
                ("blocked-ranges".into(), Verdict::Drop)
            ]
        );
        assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    }

    #[test]
    fn zone_targets() {
        let drop = "<zone target=\"DROP\">\n<source address=\"104.16.0.1\"/>\n<source ipset=\"x\"/>\n<source mac=\"00:11:22:33:44:55\"/>\n</zone>\n";
        let c = xml("/etc/firewalld/zones/mine.xml", drop);
        assert_eq!(
            got(&c),
            [(
                "104.16.0.1".into(),
                "zone:mine".into(),
                2,
                Format::FirewalldZone
            )]
        );
        assert_eq!(c.uses, [("x".into(), Verdict::Drop)]);

        let block = "<zone>\n<source address=\"104.16.0.1\"/>\n</zone>\n";
        let c = xml("/etc/firewalld/zones/block.xml", block);
        assert_eq!(c.events.len(), 1);
        let c = xml("/etc/firewalld/zones/internal.xml", block);
        assert!(c.events.is_empty());

        let trusted = "<zone target=\"ACCEPT\">\n<source address=\"104.16.0.1\"/>\n<source ipset=\"cloudflare-v4\"/>\n</zone>\n";
        let c = xml("/etc/firewalld/zones/trusted.xml", trusted);
        assert!(c.events.is_empty());
        assert_eq!(c.uses, [("cloudflare-v4".into(), Verdict::Accept)]);

        let rejecting = "<zone target=\"%%REJECT%%\"><source address=\"2606:4700::1\"/></zone>";
        assert_eq!(xml("z/x.xml", rejecting).events.len(), 1);
    }

    #[test]
    fn policies() {
        let text = r#"<?xml version="1.0" encoding="utf-8"?>
<policy target="CONTINUE" priority="-15000">
  <ingress-zone name="ANY" />
  <egress-zone name="HOST" />
  <rule family="ipv4">
    <source address="172.71.0.0/16" />
    <drop />
  </rule>
</policy>
"#;
        let c = xml("/etc/firewalld/policies/edge.xml", text);
        assert_eq!(
            got(&c),
            [(
                "172.71.0.0/16".into(),
                "policy:edge".into(),
                6,
                Format::FirewalldZone
            )]
        );
    }

    #[test]
    fn ipsets() {
        let text = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ipset type=\"hash:net\">\n  <option name=\"family\" value=\"inet\"/>\n  <entry>104.16.0.0/13</entry>\n  <entry>141.101.64.0-141.101.127.255</entry>\n  <entry> 203.0.113.0/24 </entry>\n  <entry>bogus</entry>\n  <entry/>\n</ipset>\n";
        let c = xml("/etc/firewalld/ipsets/cf-blocklist-v4.xml", text);
        assert_eq!(
            got(&c),
            [
                (
                    "104.16.0.0/13".into(),
                    "cf-blocklist-v4".into(),
                    4,
                    Format::FirewalldIpset
                ),
                (
                    "141.101.64.0/18".into(),
                    "cf-blocklist-v4".into(),
                    5,
                    Format::FirewalldIpset
                ),
                (
                    "203.0.113.0/24".into(),
                    "cf-blocklist-v4".into(),
                    6,
                    Format::FirewalldIpset
                ),
            ]
        );
        assert_eq!(c.malformed.len(), 1);
        assert_eq!(c.malformed[0].0, 7);

        let mac = "<ipset type=\"hash:mac\"><entry>00:11:22:33:44:55</entry></ipset>";
        let c = xml("/etc/firewalld/ipsets/macs.xml", mac);
        assert!(c.events.is_empty() && c.malformed.is_empty());
    }

    #[test]
    fn direct_xml() {
        let text = r#"<?xml version="1.0" encoding="utf-8"?>
<direct>
  <chain ipv="ipv4" table="filter" chain="f2b-sshd"/>
  <rule ipv="ipv4" table="filter" chain="f2b-sshd" priority="0">-s 172.71.10.1 -j REJECT --reject-with icmp-port-unreachable</rule>
  <rule ipv="ipv4" table="filter" chain="f2b-sshd" priority="1000">-j RETURN</rule>
  <rule ipv="ipv4" table="filter" chain="INPUT" priority="1">-s 103.31.4.0/22 -j ACCEPT</rule>
  <rule ipv="ipv4" table="filter" chain="INPUT" priority="2">'!' -s 104.16.0.0/13 -p tcp --dport 3306 -j DROP</rule>
  <rule ipv="ipv4" table="filter" chain="INPUT" priority="3">-m set --match-set fw-banned src -j DROP</rule>
  <rule ipv="ipv6" table="filter" chain="INPUT" priority="0">-s 2405:8100::/32,2001:db8::1 -j DROP</rule>
  <rule ipv="ipv4" table="filter" chain="OUTPUT" priority="0">-s 104.16.0.8 -j DROP</rule>
  <rule ipv="eb" table="filter" chain="INPUT" priority="0">-s 104.16.0.9 -j DROP</rule>
  <passthrough ipv="ipv4">-A INPUT -s 104.17.3.3 -j DROP</passthrough>
  <passthrough ipv="ipv4">-D INPUT -s 104.17.3.4 -j DROP</passthrough>
</direct>
"#;
        let c = xml("/etc/firewalld/direct.xml", text);
        assert_eq!(
            got(&c),
            [
                (
                    "172.71.10.1".into(),
                    "direct:f2b-sshd".into(),
                    4,
                    Format::FirewalldZone
                ),
                (
                    "2405:8100::/32".into(),
                    "direct:INPUT".into(),
                    9,
                    Format::FirewalldZone
                ),
                (
                    "2001:db8::1".into(),
                    "direct:INPUT".into(),
                    9,
                    Format::FirewalldZone
                ),
                (
                    "104.17.3.3".into(),
                    "direct:INPUT".into(),
                    12,
                    Format::FirewalldZone
                ),
            ]
        );
        assert_eq!(c.uses, [("fw-banned".into(), Verdict::Drop)]);
    }

    #[test]
    fn broken_xml_is_reported_not_fatal() {
        for (text, line) in [
            ("<zone target=\"DROP\">\n<source address=\"104.16.0.1\"/>\n<source address=\"104.16.0.2\n", 3),
            ("<zone target=\"DROP\">\n<source address=\"104.16.0.1\"/>\n</wrong>\n", 3),
            ("<zone target=\"DROP\">\n<source address=\"104.16.0.1\"/>\n<!-- open\n", 3),
            ("<zone target=\"DROP\">\n<source address=\"104.16.0.1\"/>\n", 2),
            ("<zone target=\"DROP\">\n<source address=\"104.16.0.1\"/>\n</zone>\n<zone/>\n", 4),
            ("<zone target=\"DROP\">\n<source address=\"104.16.0.1\"/>\n<source address=104.16.0.2/>\n", 3),
            ("<zone target=\"DROP\">\n<source address=\"104.16.0.1\"/>\n<source address=\"104.16.0.x\"/></zone>\n", 3),
        ] {
            let c = xml("/etc/firewalld/zones/drop.xml", text);
            assert_eq!(c.events.len(), 1, "{text}");
            assert_eq!(c.malformed.len(), 1, "{text}: {:?}", c.malformed);
            assert_eq!(c.malformed[0].0, line, "{text}: {:?}", c.malformed);
        }
        // Garbage that is not XML at all gives nothing and never panics.
        let ctx = ctx("x.xml");
        for text in [
            "<",
            "<<<>>>",
            "</>",
            "<a b=>",
            "<a b='",
            "&#xFFFFFFFF; &",
            "<![CDATA[",
            "<?x",
            "<!x",
        ] {
            run(XmlParser::new(Format::FirewalldZone, &ctx), text);
        }
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities(b"a &lt;b&gt; &amp;&quot;&apos; &#65;&#x42; &bogus; &"),
            "a <b> &\"' AB &bogus; &"
        );
    }

    #[test]
    fn ranges() {
        let nets = |a: &str, b: &str| {
            range_to_nets(a.parse().unwrap(), b.parse().unwrap())
                .unwrap()
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(nets("0.0.0.0", "255.255.255.255"), ["0.0.0.0/0"]);
        assert_eq!(
            nets("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            ["::/0"]
        );
        assert_eq!(
            nets("255.255.255.255", "255.255.255.255"),
            ["255.255.255.255/32"]
        );
        assert_eq!(nets("2606:4700::", "2606:4700::3"), ["2606:4700::/126"]);
        assert_eq!(
            nets("10.0.0.255", "10.0.1.0"),
            ["10.0.0.255/32", "10.0.1.0/32"]
        );
        assert!(range_to_nets("10.0.0.1".parse().unwrap(), "::1".parse().unwrap()).is_none());
        assert_eq!(
            ipset_entry_nets("104.16.0.0-104.16.0.0/24", "hash:net").unwrap()[0].to_string(),
            "104.16.0.0/24"
        );
    }

    #[test]
    fn rich_rule_words() {
        let r = parse_rich_rule(b"rule family='ipv4' source address='104.16.0.1' port port='ssh' protocol='tcp' reject type='icmp-port-unreachable'").unwrap();
        assert_eq!(
            (r.verdict(), r.source),
            (
                Some(Verdict::Drop),
                Some(Source::Address("104.16.0.1".into()))
            )
        );
        let r = parse_rich_rule(
            br#"rule family="ipv4" source ipset="f2b-sshd" drop limit value="2/m""#,
        )
        .unwrap();
        assert_eq!(r.verdict(), None);
        let r = parse_rich_rule(br#"rule family="ipv4" source address="104.16.0.1" log prefix="x" level="info" limit value="1/m" drop"#).unwrap();
        assert_eq!(r.verdict(), Some(Verdict::Drop));
        let r = parse_rich_rule(br#"rule family="ipv4" source address="104.16.0.1" mark set=0x1"#)
            .unwrap();
        assert_eq!(r.verdict(), None);
        let r = parse_rich_rule(
            br#"rule priority="-5" family="ipv4" destination address="104.16.0.2" drop"#,
        )
        .unwrap();
        assert_eq!(r.source, None);
        assert!(parse_rich_rule(br#"rule family="ipv4" source address="104.16.0.1 drop"#).is_err());
        assert!(parse_rich_rule(br#"rule family="ipv4" source drop"#).is_err());
    }

    #[test]
    fn firewall_cmd_outputs() {
        let text = "\
drop (active)
  summary: Drop
  description: Blocked: <source address=\"104.16.0.5\"/> & friends
  sources: 104.16.0.6
rule family=\"ipv4\" source address=\"104.16.0.7\" drop
  target: DROP
  icmp-block-inversion: no
  interfaces: 
  sources: 190.93.240.0/20 192.0.2.77 ipset:cf-blocklist-v4 00:11:22:33:44:55
  rich rules: 

trusted (active)
  target: ACCEPT
  icmp-block-inversion: no
  interfaces: 
  sources: ipset:cloudflare-v4 103.22.200.0/22
  rich rules: 

public (default, active)
  target: default
  icmp-block-inversion: no
  sources: 104.16.0.8
  forward-ports: 
\tport=80:proto=tcp:toport=8080:toaddr=
  rich rules: 
\trule family=\"ipv4\" source address=\"172.67.0.0/16\" service name=\"ssh\" log prefix=\"cf-deny \" level=\"warning\" drop
\trule family=\"ipv4\" source ipset=\"bad-hosts-v4\" drop
\trule family=\"ipv4\" source NOT address=\"198.41.128.0/17\" drop
\trule family=\"ipv4\" source address=\"192.0.2.10\" service name=\"ssh\" accept
\trule family=\"ipv4\" source address=\"104.16.0.x\" drop
cf-blocklist-v4
  type: hash:net
  options: family=inet
  entries: 104.16.0.0/13 172.64.0.0/13 bogus
allow-host-ipv6 (active)
  priority: -15000
  target: CONTINUE
  ingress-zones: ANY
  egress-zones: HOST
  rich rules: 
\trule family=\"ipv6\" source address=\"2606:4700::/32\" reject
rule family=\"ipv6\" source address=\"2400:cb00:2049::/48\" port port=\"443\" protocol=\"tcp\" reject
ipv4 filter f2b-sshd 0 -s 172.71.10.1 -j REJECT --reject-with icmp-port-unreachable
ipv4 filter INPUT 2 '!' -s 192.0.2.0/24 -p tcp --dport 3306 -j DROP
ipv4 -A INPUT -s 104.17.3.3 -j DROP
";
        let c = run(RichParser::new(&ctx("out.txt")), text);
        let rich = Format::FirewalldRich;
        assert_eq!(
            got(&c),
            [
                ("190.93.240.0/20".into(), "zone:drop".into(), 9, rich),
                ("192.0.2.77".into(), "zone:drop".into(), 9, rich),
                ("172.67.0.0/16".into(), "zone:public".into(), 26, rich),
                (
                    "104.16.0.0/13".into(),
                    "cf-blocklist-v4".into(),
                    34,
                    Format::FirewalldIpset
                ),
                (
                    "172.64.0.0/13".into(),
                    "cf-blocklist-v4".into(),
                    34,
                    Format::FirewalldIpset
                ),
                (
                    "2606:4700::/32".into(),
                    "policy:allow-host-ipv6".into(),
                    41,
                    rich
                ),
                ("2400:cb00:2049::/48".into(), "rich-rules".into(), 42, rich),
                ("172.71.10.1".into(), "direct:f2b-sshd".into(), 43, rich),
                ("104.17.3.3".into(), "direct:INPUT".into(), 45, rich),
            ]
        );
        assert_eq!(
            c.uses,
            [
                ("cf-blocklist-v4".into(), Verdict::Drop),
                ("cloudflare-v4".into(), Verdict::Accept),
                ("bad-hosts-v4".into(), Verdict::Drop),
            ]
        );
        let bad: Vec<u64> = c.malformed.iter().map(|m| m.0).collect();
        assert_eq!(bad, [30, 34]);
    }

    #[test]
    fn a_verbose_service_before_a_zone_does_not_hide_it() {
        let text = "\
http
  summary: WWW (HTTP)
  description: HTTP is the protocol
    sources: 104.16.0.1
  ports: 80/tcp
  protocols: 
drop (active)
  target: DROP
  sources: 104.16.0.2
";
        let c = run(RichParser::new(&ctx("out.txt")), text);
        assert_eq!(
            got(&c),
            [(
                "104.16.0.2".into(),
                "zone:drop".into(),
                9,
                Format::FirewalldRich
            )]
        );
    }

    #[test]
    fn detection() {
        let d = |name: &str, text: &str| detect(Path::new(name), text.as_bytes());
        assert_eq!(d("x.xml", "\u{feff}<?xml version=\"1.0\"?>\n<!-- c -->\n<policy target=\"DROP\">\n<ingress-zone name=\"ANY\"/>"), Some(Format::FirewalldZone));
        assert_eq!(d("x.xml", "<policy><allow/></policy>"), None);
        assert_eq!(d("direct.xml", "<direct/>"), Some(Format::FirewalldZone));
        assert_eq!(d("x.xml", "<ipset type=\"bitmap:ip\"/>"), None);
        assert_eq!(d("x.xml", "<service><port/></service>"), None);
        assert_eq!(
            d(
                "x.txt",
                "drop (active)\n  target: DROP\n  icmp-block-inversion: no\n"
            ),
            Some(Format::FirewalldRich)
        );
        assert_eq!(
            d(
                "x.txt",
                "f2b\n  type: hash:ip\n  options: \n  entries: 1.2.3.4\n"
            ),
            Some(Format::FirewalldRich)
        );
        assert_eq!(
            d("x.txt", "ipv4 filter INPUT 0 -s 1.2.3.4 -j DROP\n"),
            Some(Format::FirewalldRich)
        );
        assert_eq!(d("x.txt", "rules are rules\nrule of thumb\n"), None);
        assert_eq!(d("x.txt", "173.245.49.77\n104.18.32.7\n"), None);
        assert!(is_mac(b"00:11:22:33:44:55"));
        assert!(!is_mac(b"2606:4700::6810:7b"));
    }
}
