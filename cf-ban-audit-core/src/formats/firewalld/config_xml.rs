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
