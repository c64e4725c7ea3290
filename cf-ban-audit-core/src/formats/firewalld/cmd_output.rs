//! Saved `firewall-cmd` output: `--list-rich-rules`, the `--list-all` family of blocks,
//! `--info-ipset` and the direct rules and passthroughs, read into events by [`RichParser`].

use std::path::Path;
use std::sync::Arc;

use super::events::{direct_line, Out};
use super::rules::{is_mac, parse_rich_rule, target_verdict, Source};
use super::{is_rich_rule, UNNAMED_RICH_SCOPE};
use crate::formats::{Format, LineParser, ParseCtx, Sink};

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

/// Parser of saved `firewall-cmd` output (see the [module documentation](super)).
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
            permanent: false,
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
            Ok(rule) => {
                let text = String::from_utf8_lossy(text);
                self.out()
                    .rich_rule(&rule, Some(&text), scope, lineno, sink)
            }
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
                    let how = if chain.is_some() {
                        "--add-rule"
                    } else {
                        "--add-passthrough"
                    };
                    let added = format!("--direct {how} {}", String::from_utf8_lossy(t));
                    self.out()
                        .direct(chain.as_deref(), &args, &added, lineno, sink);
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

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn rich_parser() {
        use crate::formats::firewalld::RichParser;
        use crate::formats::LineParser;

        let ctx = crate::formats::test_support::ctx("list-all.txt");
        let mut parser = RichParser::new(&ctx);
        let mut sink = crate::formats::test_support::Collect::default();
        let text = "public\n  target: default\n  icmp-block-inversion: no\n  sources: \n  rich rules: \n\
                    \trule family=\"ipv4\" source address=\"162.159.200.1\" reject\n\
                    \trule family=\"ipv4\" source address=\"192.0.2.10\" service name=\"ssh\" accept\n";
        for (n, line) in text.lines().enumerate() {
            parser.line(n as u64 + 1, line.as_bytes(), &mut sink);
        }
        assert_eq!(sink.events.len(), 1);
        assert_eq!(
            (
                sink.events[0].net.to_string(),
                sink.events[0].scope.as_str()
            ),
            ("162.159.200.1/32".to_string(), "zone:public")
        );
    }
}
