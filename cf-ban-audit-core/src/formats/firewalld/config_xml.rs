//! firewalld's XML configuration: zones, policies, ipsets and `direct.xml`, read into
//! events by [`XmlParser`].

use std::path::Path;
use std::sync::Arc;

use super::events::Out;
use super::rules::{target_verdict, RichRule, RuleAction, Source};
use super::xml::{attr, is_true, Tok, Xml};
use super::{is_backup_name, MAX_XML_BYTES};
use crate::formats::grammar::words::shell_words;
use crate::formats::{quote, Format, LineParser, ParseCtx, Sink, Verdict};

fn xml_source(attrs: &[(&[u8], String)]) -> Option<Source> {
    if let Some(a) = attr(attrs, b"address") {
        Some(Source::Address(a.to_string()))
    } else if let Some(s) = attr(attrs, b"ipset") {
        Some(Source::Ipset(s.to_string()))
    } else {
        attr(attrs, b"mac").map(|m| Source::Mac(m.to_string()))
    }
}

/// A rich rule's text rebuilt from its XML, in the words of firewalld's `Rich_Rule.__str__`
/// (what `firewall-cmd --list-rich-rules` prints): `rule [priority="N"] [family="F"] SOURCE
/// [DESTINATION] [ELEMENT] [LOG] [AUDIT] [ACTION]`, each part with its `limit`. A value
/// holding `"` or `=` (which firewalld's rule reader cannot take back) or an element firewalld
/// does not know leaves no text.
#[derive(Debug, Default)]
struct RichText {
    head: String,
    /// The parts, in the order of `Rich_Rule.__str__`: source, destination, element, log,
    /// audit, action.
    parts: [String; 6],
    /// The part the last element started (its `limit` goes there).
    last: Option<usize>,
    broken: bool,
}

impl RichText {
    fn new(attrs: &[(&[u8], String)]) -> RichText {
        let mut text = RichText {
            head: "rule".to_string(),
            ..RichText::default()
        };
        if let Some(p) = attr(attrs, b"priority").filter(|p| p.trim() != "0") {
            let part = text.value("priority", p.trim());
            text.head += &part;
        }
        if let Some(f) = attr(attrs, b"family") {
            let part = text.value("family", f.trim());
            text.head += &part;
        }
        text
    }

    /// ` NAME="VALUE"`, or nothing (and no text for the rule) for a value firewalld's rule
    /// reader cannot take back.
    fn value(&mut self, name: &str, value: &str) -> String {
        if value.is_empty() || value.contains(['"', '=']) || value.chars().any(char::is_control) {
            self.broken = true;
            return String::new();
        }
        format!(" {name}=\"{value}\"")
    }

    /// A child element of `<rule>`.
    fn element(&mut self, name: &[u8], attrs: &[(&[u8], String)]) {
        let with = |text: &mut RichText, keys: &[&str]| -> String {
            let mut out = String::new();
            for key in keys {
                if let Some(v) = attr(attrs, key.as_bytes()) {
                    out += &text.value(key, v);
                }
            }
            out
        };
        let not = if is_true(attr(attrs, b"invert")) {
            " NOT"
        } else {
            ""
        };
        let (slot, part) = match name {
            b"source" => (
                0,
                format!("source{not}{}", with(self, &["address", "mac", "ipset"])),
            ),
            b"destination" => (
                1,
                format!("destination{not}{}", with(self, &["address", "ipset"])),
            ),
            b"service" => (2, format!("service{}", with(self, &["name"]))),
            b"port" => (2, format!("port{}", with(self, &["port", "protocol"]))),
            b"protocol" => (2, format!("protocol{}", with(self, &["value"]))),
            b"tcp-mss-clamp" => (2, format!("tcp-mss-clamp{}", with(self, &["value"]))),
            b"icmp-block" => (2, format!("icmp-block{}", with(self, &["name"]))),
            b"icmp-type" => (2, format!("icmp-type{}", with(self, &["name"]))),
            b"masquerade" => (2, "masquerade".to_string()),
            b"forward-port" => (
                2,
                format!(
                    "forward-port{}",
                    with(self, &["port", "protocol", "to-port", "to-addr"])
                ),
            ),
            b"source-port" => (
                2,
                format!("source-port{}", with(self, &["port", "protocol"])),
            ),
            b"log" => (3, format!("log{}", with(self, &["prefix", "level"]))),
            b"nflog" => (
                3,
                format!("nflog{}", with(self, &["group", "prefix", "queue-size"])),
            ),
            b"audit" => (4, "audit".to_string()),
            b"accept" | b"drop" => (5, String::from_utf8_lossy(name).into_owned()),
            b"reject" => (5, format!("reject{}", with(self, &["type"]))),
            b"mark" => (5, format!("mark{}", with(self, &["set"]))),
            _ => {
                self.broken = true;
                return;
            }
        };
        if !self.parts[slot].is_empty() {
            self.broken = true;
        }
        self.parts[slot] = part;
        self.last = Some(slot);
    }

    /// A `<limit>` of the last element.
    fn limit(&mut self, attrs: &[(&[u8], String)]) {
        let Some(slot) = self.last else {
            self.broken = true;
            return;
        };
        let mut part = format!(
            " limit{}",
            self.value("value", attr(attrs, b"value").unwrap_or(""))
        );
        if let Some(burst) = attr(attrs, b"burst") {
            if burst.is_empty() || !burst.bytes().all(|b| b.is_ascii_digit()) {
                self.broken = true;
            }
            part += &format!(" burst={burst}");
        }
        self.parts[slot] += &part;
    }

    fn text(self) -> Option<String> {
        if self.broken {
            return None;
        }
        let mut out = self.head;
        for part in self.parts.iter().filter(|p| !p.is_empty()) {
            out.push(' ');
            out.push_str(part);
        }
        Some(out)
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
    /// A direct `<rule>` of a chain (`None` for an IP family that is not IPv4/IPv6), with
    /// what comes before its arguments in `--direct --add-rule` (`ipv4 filter INPUT 0`).
    DirectRule(Option<String>, String),
    /// A direct `<passthrough>` (of IPv4 or IPv6, or not), with its family.
    Passthrough(bool, String),
}

/// Parser of firewalld XML: zones, policies, ipsets and `direct.xml` (see the
/// [module documentation](super)). The document is kept (up to [`MAX_XML_BYTES`]) and read
/// when the input ends.
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
        let file = crate::decompress::strip_suffixes(&file);
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
            permanent: true,
        };
        let mut xml = Xml::new(&self.buf);
        let mut stack: Vec<&[u8]> = Vec::new();
        let mut root: Option<Root> = None;
        // The rich rule being read, with its text and the line of its source (or start).
        let mut rule: Option<(RichRule, RichText, u64)> = None;
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
                                (1, b"rule") => {
                                    rule = Some((RichRule::default(), RichText::new(&attrs), line))
                                }
                                (2, _) if parent == b"rule" => {
                                    if let Some((r, text, l)) = rule.as_mut() {
                                        text.element(name, &attrs);
                                        match name {
                                            b"source" => {
                                                r.source = xml_source(&attrs);
                                                r.invert = is_true(attr(&attrs, b"invert"));
                                                *l = line;
                                            }
                                            b"accept" => r.action = Some(RuleAction::Accept),
                                            b"reject" => r.action = Some(RuleAction::Reject),
                                            b"drop" => r.action = Some(RuleAction::Drop),
                                            b"mark" => r.action = Some(RuleAction::Mark),
                                            _ => {}
                                        }
                                    }
                                }
                                (3, b"limit") => {
                                    if let Some((r, text, _)) = rule.as_mut() {
                                        text.limit(&attrs);
                                        if matches!(
                                            parent,
                                            b"accept" | b"reject" | b"drop" | b"mark"
                                        ) {
                                            r.limited = true;
                                        }
                                    }
                                }
                                (3.., _) => {
                                    if let Some((_, text, _)) = rule.as_mut() {
                                        text.broken = true;
                                    }
                                }
                                _ => {}
                            },
                            Some(Root::Ipset { .. }) if depth == 1 && name == b"entry" => {
                                collect = Some((Collect::Entry, String::new(), line));
                            }
                            Some(Root::Direct) if depth == 1 => {
                                let ipv = attr(&attrs, b"ipv").unwrap_or_default().to_string();
                                let ip = matches!(ipv.as_str(), "ipv4" | "ipv6");
                                match name {
                                    b"rule" => {
                                        let chain = attr(&attrs, b"chain")
                                            .filter(|_| ip)
                                            .map(str::to_string);
                                        let head = format!(
                                            "{ipv} {} {} {}",
                                            attr(&attrs, b"table").unwrap_or_default(),
                                            chain.as_deref().unwrap_or_default(),
                                            attr(&attrs, b"priority").unwrap_or_default()
                                        );
                                        collect = Some((
                                            Collect::DirectRule(chain, head),
                                            String::new(),
                                            line,
                                        ));
                                    }
                                    b"passthrough" => {
                                        collect = Some((
                                            Collect::Passthrough(ip, ipv),
                                            String::new(),
                                            line,
                                        ));
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
        rule: Option<(RichRule, RichText, u64)>,
        collect: Option<(Collect, String, u64)>,
        sink: &mut dyn Sink,
    ) {
        match (root, name) {
            (Some(Root::Zone { scope, .. } | Root::Policy { scope }), b"rule") => {
                if let Some((r, text, line)) = rule {
                    out.rich_rule(&r, text.text().as_deref(), scope, line, sink);
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
                Some((Collect::DirectRule(Some(chain), head), text, line)) => {
                    match shell_words(text.as_bytes()) {
                        Some(args) => {
                            let added = format!("--direct --add-rule {head} {}", text.trim());
                            out.direct(Some(&chain), &args, &added, line, sink)
                        }
                        None => sink.malformed(
                            line,
                            format!(
                                "firewalld direct rule with an open quote: {}",
                                quote(text.as_bytes())
                            ),
                        ),
                    }
                }
                Some((Collect::Passthrough(true, ipv), text, line)) => {
                    match shell_words(text.as_bytes()) {
                        Some(args) => {
                            let added = format!("--direct --add-passthrough {ipv} {}", text.trim());
                            out.direct(None, &args, &added, line, sink)
                        }
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

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn xml_parser() {
        use crate::formats::firewalld::XmlParser;
        use crate::formats::{Format, LineParser, Verdict};

        let ctx = crate::formats::test_support::ctx("/etc/firewalld/zones/drop.xml");
        let mut parser = XmlParser::new(Format::FirewalldZone, &ctx);
        let mut sink = crate::formats::test_support::Collect::default();
        let text = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone target=\"DROP\">\n\
                    <!-- <source address=\"104.16.0.9\"/> -->\n\
                    <source address=\"190.93.240.0/20\"/>\n<source ipset=\"cf-blocklist-v4\"/>\n</zone>\n";
        for (n, line) in text.lines().enumerate() {
            parser.line(n as u64 + 1, line.as_bytes(), &mut sink);
        }
        parser.finish(&mut sink);
        assert_eq!(sink.events.len(), 1);
        assert_eq!(
            (
                sink.events[0].net.to_string(),
                sink.events[0].scope.as_str(),
                sink.events[0].location.line
            ),
            ("190.93.240.0/20".to_string(), "zone:drop", 4)
        );
        assert_eq!(sink.uses, [("cf-blocklist-v4".to_string(), Verdict::Drop)]);
    }
}
