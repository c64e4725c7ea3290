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
//!   split into CIDR blocks ([`crate::addr::range_nets`]); `hash:mac` entries are not addresses.
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
//!
//! [`Action::Listed`]: crate::event::Action::Listed
//! [`Sink::set_use`]: super::Sink::set_use

mod cmd_output;
mod config_xml;
mod events;
mod rules;
mod xml;

use super::registry::{Detection, FormatDescriptor, Membership};
use crate::event::Tool;
use std::path::Path;

use super::Format;
use events::direct_line;
use xml::xml_root;

pub use cmd_output::RichParser;
pub use config_xml::XmlParser;
#[cfg(test)]
pub use rules::{ipset_entry_nets, parse_rich_rule, target_verdict, RuleAction, Source};

/// The most XML kept in memory for one file; what follows is not read (and is reported as
/// malformed).
pub const MAX_XML_BYTES: usize = 64 << 20;

/// The scope of rich rules read where no zone is named (`firewall-cmd --list-rich-rules`).
pub const UNNAMED_RICH_SCOPE: &str = "rich-rules";

// ---------------------------------------------------------------------------------------------
// detection

/// Decides whether a file is firewalld's: XML whose root element is `<zone>`, `<policy>`
/// (with ingress/egress zones), `<direct>` or `<ipset type="hash:...">`, or saved
/// `firewall-cmd` output (rich rules, `--list-all` blocks, `--info-ipset`, direct rules).
/// firewalld's backups (`*.old`, see [`is_backup_name`]) are detected and not read.
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

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// firewalld zone XML (`/etc/firewalld/zones/*.xml`).
    pub const FirewalldZone: Format = Format::builtin(23, "firewalld-zone");
    /// firewalld ipset XML (`/etc/firewalld/ipsets/*.xml`).
    pub const FirewalldIpset: Format = Format::builtin(24, "firewalld-ipset");
    /// Saved `firewall-cmd --list-rich-rules` / `--list-all` output.
    pub const FirewalldRich: Format = Format::builtin(25, "firewalld-rich");
}

/// Zone XML.
pub(crate) const ZONE: FormatDescriptor = FormatDescriptor::new(
    Format::FirewalldZone,
    &[Tool::Firewalld],
    "firewalld zone XML: drop/block sources, rich rules",
    |ctx| Box::new(XmlParser::new(Format::FirewalldZone, ctx)),
)
.usual_paths(&["/etc/firewalld/zones"])
.detected_by(&[Detection::text(290, |path, head| {
    detect(path, head) == Some(Format::FirewalldZone)
})]);

/// ipset XML: members of sets whose purpose the rules that use them decide, or else their
/// name.
pub(crate) const IPSET: FormatDescriptor = FormatDescriptor::new(
    Format::FirewalldIpset,
    &[Tool::Firewalld],
    "firewalld ipset XML, resolved through the rules that use it",
    |ctx| Box::new(XmlParser::new(Format::FirewalldIpset, ctx)),
)
.usual_paths(&["/etc/firewalld/ipsets"])
.detected_by(&[Detection::text(290, |path, head| {
    detect(path, head) == Some(Format::FirewalldIpset)
})])
.membership(Membership::ByRulesOrName);

/// `firewall-cmd` output.
pub(crate) const RICH: FormatDescriptor = FormatDescriptor::new(
    Format::FirewalldRich,
    &[Tool::Firewalld],
    "firewall-cmd output: rich rules and sources",
    |ctx| Box::new(RichParser::new(ctx)),
)
.usual_paths(&["(saved output of firewall-cmd --list-all / --list-rich-rules)"])
.detected_by(&[Detection::text(290, |path, head| {
    detect(path, head) == Some(Format::FirewalldRich)
})]);

#[cfg(test)]
mod tests;

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn detect() {
        use crate::formats::{firewalld, Format};
        use std::path::Path;
        let zone = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone target=\"DROP\">\n  <source address=\"104.16.0.1\"/>\n</zone>\n";
        assert_eq!(
            firewalld::detect(Path::new("/etc/firewalld/zones/drop.xml"), zone),
            Some(Format::FirewalldZone)
        );
        assert_eq!(
            firewalld::detect(Path::new("/etc/firewalld/zones/drop.xml.old"), zone),
            Some(Format::FirewalldZone)
        );
        let ipset = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ipset type=\"hash:net\">\n  <entry>104.16.0.0/13</entry>\n</ipset>\n";
        assert_eq!(
            firewalld::detect(Path::new("bans.xml"), ipset),
            Some(Format::FirewalldIpset)
        );
        let rich = b"rule family=\"ipv4\" source address=\"104.16.0.1\" reject type=\"icmp-port-unreachable\"\n";
        assert_eq!(
            firewalld::detect(Path::new("rules.txt"), rich),
            Some(Format::FirewalldRich)
        );
        assert_eq!(
            firewalld::detect(Path::new("notes.txt"), b"<html><body/></html>"),
            None
        );
    }

    #[test]
    fn is_backup_name() {
        use crate::formats::firewalld::is_backup_name;
        assert!(is_backup_name("public.xml.old"));
        assert!(!is_backup_name("public.xml"));
    }
}
