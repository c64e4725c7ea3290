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

use std::path::Path;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use ipnet::IpNet;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::registry::{Detection, FormatDescriptor};
use super::{Format, LineParser, ParseCtx, Sink};
use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool};

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
fn value<'a>(pairs: &[(&[u8], &'a [u8])], key: &[u8]) -> Option<&'a [u8]> {
    pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// Whether a line is a ban list entry: pairs with `IP` and `CHAIN`.
fn is_entry(line: &[u8]) -> bool {
    parse_pairs(line).is_some_and(|p| value(&p, b"IP").is_some() && value(&p, b"CHAIN").is_some())
}

/// Decides whether a file is Hestia's `banlist.conf`: by its place (`…/data/firewall/banlist.conf`,
/// so that a malformed line in the panel's own file is named rather than the file skipped),
/// or else when every line of its head (blank ones aside, and the last when the head cut it)
/// is an entry with `IP` and `CHAIN`; one such line among others is not enough.
pub fn detect_banlist(path: &Path, head: &[u8]) -> bool {
    if path.ends_with("data/firewall/banlist.conf") {
        return true;
    }
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    if lines.len() > 1 && !head.ends_with(b"\n") {
        lines.pop();
    }
    let mut lines = lines
        .into_iter()
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
        .peekable();
    lines.peek().is_some() && lines.all(is_entry)
}

/// Decides whether a file is `v-list-firewall-ban json` output: a whole document of entries
/// (compact or not), or, cut by the end of the head, Hestia's own layout (`{`, then
/// `"ADDR": {`, `"IP": "…"`, `"CHAIN": "…"`).
pub fn detect_json(_path: &Path, head: &[u8]) -> bool {
    let text = head.trim_ascii();
    if !text.starts_with(b"{") {
        return false;
    }
    if let Ok(entries) = parse_document(text) {
        return !entries.is_empty()
            && entries.iter().all(|(_, v)| {
                v.as_object().is_some_and(|o| {
                    o.get("IP").is_some_and(Value::is_string)
                        && o.get("CHAIN").is_some_and(Value::is_string)
                })
            });
    }
    let mut lines = text
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty());
    let (Some(open), Some(key), Some(ip), Some(chain)) =
        (lines.next(), lines.next(), lines.next(), lines.next())
    else {
        return false;
    };
    open == b"{"
        && key.starts_with(b"\"")
        && key.ends_with(b"\": {")
        && ip.starts_with(b"\"IP\": \"")
        && chain.starts_with(b"\"CHAIN\": \"")
}

/// A JSON object's members in order, a key given twice kept twice (serde_json's own map
/// keeps the last only).
struct Entries(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Entries, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of ban list entries keyed by address")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// The members of a `v-list-firewall-ban json` document, in order, duplicates kept.
fn parse_document(text: &[u8]) -> Result<Vec<(String, Value)>, serde_json::Error> {
    serde_json::from_slice::<Entries>(text).map(|e| e.0)
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

/// The parser of `banlist.conf`.
pub struct BanlistParser {
    path: Arc<Path>,
}

impl BanlistParser {
    /// A parser for one `banlist.conf`.
    pub fn new(ctx: &ParseCtx) -> Self {
        BanlistParser {
            path: ctx.path.clone(),
        }
    }
}

impl LineParser for BanlistParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if line.trim_ascii().is_empty() {
            return;
        }
        let Some(pairs) = parse_pairs(line) else {
            sink.malformed(
                lineno,
                "not a Hestia ban list line (KEY='value' pairs as v-add-firewall-ban writes \
                 them: IP='…' CHAIN='…' TIME='…' DATE='…')"
                    .into(),
            );
            return;
        };
        let (Some(ip), Some(chain)) = (value(&pairs, b"IP"), value(&pairs, b"CHAIN")) else {
            sink.malformed(lineno, "a Hestia ban list line without IP or CHAIN".into());
            return;
        };
        match entry_event(
            ip,
            chain,
            value(&pairs, b"DATE"),
            value(&pairs, b"TIME"),
            Format::HestiaBanlist,
            Location::new(self.path.clone(), lineno),
        ) {
            Ok(event) => sink.event(event),
            Err(why) => sink.malformed(lineno, why),
        }
    }
}

/// The parser of `v-list-firewall-ban json` output: the document is kept until its end and
/// read whole; each entry's line is that of its `"IP":` key when there is one per entry.
pub struct BanJsonParser {
    path: Arc<Path>,
    text: Vec<u8>,
    first: u64,
    ip_lines: Vec<u64>,
    too_large: bool,
}

impl BanJsonParser {
    /// A parser for one listing.
    pub fn new(ctx: &ParseCtx) -> Self {
        BanJsonParser {
            path: ctx.path.clone(),
            text: Vec::new(),
            first: 0,
            ip_lines: Vec::new(),
            too_large: false,
        }
    }
}

impl LineParser for BanJsonParser {
    fn line(&mut self, lineno: u64, line: &[u8], _sink: &mut dyn Sink) {
        if self.too_large {
            return;
        }
        if self.text.len() + line.len() >= MAX_DOCUMENT {
            self.too_large = true;
            return;
        }
        if self.first == 0 && !line.trim_ascii().is_empty() {
            self.first = lineno;
        }
        if line.trim_ascii_start().starts_with(b"\"IP\"") {
            self.ip_lines.push(lineno);
        }
        self.text.extend_from_slice(line);
        self.text.push(b'\n');
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        let first = self.first.max(1);
        if self.too_large {
            sink.cut(
                first,
                format!("a v-list-firewall-ban json document larger than {MAX_DOCUMENT} bytes: not read"),
            );
            return;
        }
        if self.text.trim_ascii().is_empty() {
            return;
        }
        let entries = match parse_document(&self.text) {
            Ok(entries) => entries,
            Err(e) => {
                let line = if e.line() > 0 {
                    first + e.line() as u64 - 1
                } else {
                    first
                };
                sink.malformed(
                    line,
                    format!("not a v-list-firewall-ban json document: {e}"),
                );
                return;
            }
        };
        let per_entry = self.ip_lines.len() == entries.len();
        for (n, (key, item)) in entries.iter().enumerate() {
            let line = if per_entry { self.ip_lines[n] } else { first };
            let Some(obj) = item.as_object() else {
                sink.malformed(line, format!("entry {key:?} is not an object"));
                continue;
            };
            match json_entry(key, obj, Location::new(self.path.clone(), line)) {
                Ok(event) => sink.event(event),
                Err(why) => sink.malformed(line, why),
            }
        }
    }
}

/// One entry of the JSON listing, keyed by `key`.
fn json_entry(key: &str, obj: &Map<String, Value>, location: Location) -> Result<BanEvent, String> {
    let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::as_bytes);
    let (Some(ip), Some(chain)) = (text("IP"), text("CHAIN")) else {
        return Err(format!("entry {key:?} has no IP or CHAIN string"));
    };
    if ip != key.as_bytes() {
        return Err(format!(
            "entry {key:?} holds IP {:?}: v-list-firewall-ban keys each entry by its own IP",
            String::from_utf8_lossy(ip)
        ));
    }
    entry_event(
        ip,
        chain,
        text("DATE"),
        text("TIME"),
        Format::HestiaBanJson,
        location,
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::run_lines;

    const BANLIST_TEXT: &str = "IP='203.0.113.7' CHAIN='SSH' TIME='14:02:11' DATE='2025-03-09'\n\
        IP='104.16.0.1' CHAIN='WEB' TIME='14:05:00' DATE='2025-03-09'\n\
        IP='172.64.0.0/13' CHAIN='RECIDIVE' TIME='15:00:00' DATE='2025-03-10'\n";

    #[test]
    fn banlist_entries_are_listed_in_their_chain() {
        let c = run_lines(Format::HestiaBanlist, "banlist.conf", BANLIST_TEXT);
        assert!(c.malformed.is_empty(), "{:?}", c.malformed);
        let got: Vec<(String, String, u64)> = c
            .events
            .iter()
            .map(|e| (e.net.to_string(), e.scope.clone(), e.location.line))
            .collect();
        assert_eq!(
            got,
            [
                ("203.0.113.7/32".into(), "fail2ban-SSH".into(), 1),
                ("104.16.0.1/32".into(), "fail2ban-WEB".into(), 2),
                ("172.64.0.0/13".into(), "fail2ban-RECIDIVE".into(), 3),
            ]
        );
        let e = &c.events[1];
        assert_eq!((e.tool, e.action), (Tool::Hestia, Action::Listed));
        assert_eq!(e.time, Some("2025-03-09T14:05:00".parse().unwrap()));
    }

    #[test]
    fn forged_values_give_nothing_and_are_named() {
        let text = "IP='198.51.100.7' CHAIN='WEB' COMMENT='IP=104.16.0.1' TIME='14:02:11' DATE='2025-03-09'\n\
            IP='198.51.100.8' CHAIN='WEB' COMMENT='x' IP='104.16.0.1'\n\
            IP='198.51.100.9' CHAIN='WEB'; IP='104.16.0.1'\n\
            IP='198.51.100.10' CHAIN='WEB IP=104.16.0.1'\n\
            IP=\"104.16.0.1\" CHAIN='WEB'\n\
            IP='104.16.0.1 ' CHAIN='WEB'\n\
            IP='2606:4700::1' CHAIN='WEB'\n\
            IP='104.16.0.1' CHAIN='-WEB'\n\
            CHAIN='WEB' NOTE='104.16.0.1'\n";
        let c = run_lines(Format::HestiaBanlist, "banlist.conf", text);
        let addresses: Vec<String> = c.events.iter().map(|e| e.net.to_string()).collect();
        assert_eq!(addresses, ["198.51.100.7/32"]);
        assert_eq!(c.malformed_lines(), [2, 3, 4, 5, 6, 7, 8, 9]);
        assert!(c.malformed[5].1.contains("IPv6"), "{:?}", c.malformed);
    }

    #[test]
    fn banlist_is_told_by_every_line() {
        let p = Path::new("/tmp/x");
        assert!(detect_banlist(p, BANLIST_TEXT.as_bytes()));
        // The head's last line, cut, does not count.
        assert!(detect_banlist(
            p,
            b"IP='203.0.113.7' CHAIN='SSH'\nIP='104.1"
        ));
        // One entry among other lines is not the ban list.
        assert!(!detect_banlist(
            p,
            b"# notes\nIP='203.0.113.7' CHAIN='SSH' TIME='14:02:11' DATE='2025-03-09'\n"
        ));
        // rules.conf and chains.conf have no IP with a CHAIN.
        assert!(!detect_banlist(
            p,
            b"RULE='9' ACTION='ACCEPT' PROTOCOL='TCP' PORT='80,443' IP='0.0.0.0/0' COMMENT='WEB' SUSPENDED='no' TIME='17:04:27' DATE='2014-09-24'\n"
        ));
        assert!(!detect_banlist(
            p,
            b"CHAIN='SSH' PORT='22' PROTOCOL='TCP'\n"
        ));
        assert!(!detect_banlist(p, b""));
        // The panel's own file, whatever its lines.
        assert!(detect_banlist(
            Path::new("/usr/local/vesta/data/firewall/banlist.conf"),
            b"junk\n"
        ));
    }

    const JSON_TEXT: &str = "{\n    \"203.0.113.7\": {\n        \"IP\": \"203.0.113.7\",\n        \"CHAIN\": \"SSH\",\n        \"TIME\": \"14:02:11\",\n        \"DATE\": \"2025-03-09\"\n    },\n    \"104.16.0.1\": {\n        \"IP\": \"104.16.0.1\",\n        \"CHAIN\": \"WEB\",\n        \"TIME\": \"14:05:00\",\n        \"DATE\": \"2025-03-09\"\n    },\n    \"104.16.0.1\": {\n        \"IP\": \"104.16.0.1\",\n        \"CHAIN\": \"RECIDIVE\",\n        \"TIME\": \"15:00:00\",\n        \"DATE\": \"2025-03-10\"\n    }\n}\n";

    #[test]
    fn json_listing_keeps_duplicate_keys() {
        let p = Path::new("/tmp/x");
        assert!(detect_json(p, JSON_TEXT.as_bytes()));
        assert!(detect_json(p, &JSON_TEXT.as_bytes()[..120]));
        assert!(!detect_json(p, b"{\"a\": 1}"));
        assert!(!detect_banlist(p, JSON_TEXT.as_bytes()));
        let c = run_lines(Format::HestiaBanJson, "bans.json", JSON_TEXT);
        assert!(c.malformed.is_empty(), "{:?}", c.malformed);
        let got: Vec<(String, String, u64)> = c
            .events
            .iter()
            .map(|e| (e.net.to_string(), e.scope.clone(), e.location.line))
            .collect();
        assert_eq!(
            got,
            [
                ("203.0.113.7/32".into(), "fail2ban-SSH".into(), 3),
                ("104.16.0.1/32".into(), "fail2ban-WEB".into(), 9),
                ("104.16.0.1/32".into(), "fail2ban-RECIDIVE".into(), 15),
            ]
        );
    }

    #[test]
    fn json_entry_under_another_key_or_bad_json_is_named() {
        let forged = "{\n    \"198.51.100.7\": {\n        \"IP\": \"104.16.0.1\",\n        \"CHAIN\": \"WEB\"\n    }\n}\n";
        let c = run_lines(Format::HestiaBanJson, "bans.json", forged);
        assert!(c.events.is_empty());
        assert_eq!(c.malformed_lines(), [3]);
        let c = run_lines(Format::HestiaBanJson, "bans.json", "{\n  \"a\": {\n");
        assert!(c.events.is_empty());
        assert_eq!(c.malformed.len(), 1);
        assert!(c.malformed[0].1.contains("not a v-list-firewall-ban json"));
    }
}
