//! The panel's exported rules (`export_rules` / `import_rules` / `hand_import_rules`): one JSON
//! object a line, a JSON array, a single object, or `{"data": [...]}`:
//!
//! ```text
//! {"id": 3, "types": "drop", "address": "203.0.113.7", "brief": "scanner", "addtime": "2026-11-20 10:00:00"}
//! [{"id":1,"types":"drop","address":"1.2.3.4","brief":"…","addtime":"2026-11-20 10:00:00","sid":0,"domain":""}]
//! ```
//!
//! Each object is a [`Rule`] (see the [module documentation](super)).

use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::{other_chain_note, Outcome, Rule};
use crate::event::Location;
use crate::formats::{Format, LineParser, ParseCtx, Sink};

/// The most a whole (not one-object-a-line) document may hold before it is refused.
const MAX_DOCUMENT: usize = 32 << 20;

/// Whether a JSON object is a panel firewall rule: `types` is `accept`, `drop` or `reject`,
/// `address` is a string, and `addtime` or `brief` is there.
fn is_rule(obj: &Map<String, Value>) -> bool {
    let types = obj.get("types").and_then(Value::as_str);
    matches!(types, Some("accept" | "drop" | "reject"))
        && obj.get("address").is_some_and(Value::is_string)
        && (obj.contains_key("addtime") || obj.contains_key("brief"))
}

/// The first rule-shaped object of a parsed document: an object, an array of them, or
/// `{"data": [...]}`.
fn first_rule(value: &Value) -> Option<&Map<String, Value>> {
    match value {
        Value::Array(items) => items.first().and_then(Value::as_object),
        Value::Object(obj) => match obj.get("data") {
            Some(Value::Array(items)) => items.first().and_then(Value::as_object),
            _ => Some(obj),
        },
        _ => None,
    }
    .filter(|obj| is_rule(obj))
}

/// For a document cut by the end of the head: `"types"` with a rule verdict, and the
/// `"address"` and `"addtime"` keys.
fn cut_document_looks_like_rules(text: &[u8]) -> bool {
    let key_then = |key: &[u8], values: &[&[u8]]| {
        memchr::memmem::find_iter(text, key).any(|at| {
            let rest = text[at + key.len()..].trim_ascii_start();
            let Some(rest) = rest.strip_prefix(b":") else {
                return false;
            };
            let rest = rest.trim_ascii_start();
            values.is_empty() || values.iter().any(|v| rest.starts_with(v))
        })
    };
    key_then(b"\"types\"", &[b"\"drop\"", b"\"accept\"", b"\"reject\""])
        && key_then(b"\"address\"", &[])
        && key_then(b"\"addtime\"", &[])
}

/// Decides whether a file is the panel's firewall rule JSON, strictly by its shape.
pub fn detect(_path: &Path, head: &[u8]) -> Option<Format> {
    let text = head
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(head)
        .trim_ascii_start();
    if !text.starts_with(b"{") && !text.starts_with(b"[") {
        return None;
    }
    // One object (or one array) a line, as the panel exports.
    let first_line = text.split(|&b| b == b'\n').next().unwrap_or(b"");
    if let Ok(value) = serde_json::from_slice::<Value>(first_line) {
        return first_rule(&value).map(|_| Format::BtFirewall);
    }
    // A whole document.
    if let Ok(value) = serde_json::from_slice::<Value>(text) {
        return first_rule(&value).map(|_| Format::BtFirewall);
    }
    cut_document_looks_like_rules(text).then_some(Format::BtFirewall)
}

/// How the input is laid out.
enum Mode {
    /// Nothing read yet.
    Start,
    /// One JSON value a line (the panel's export).
    Lines,
    /// One document over many lines, kept until the end: its text and first line.
    Document(Vec<u8>, u64),
    /// A document too large to keep.
    TooLarge,
}

/// The parser of the panel's firewall rule JSON.
pub struct BtFirewallParser {
    path: Arc<Path>,
    mode: Mode,
    /// Drop rules of the `OUTPUT` chain seen.
    other_chain: usize,
}

impl BtFirewallParser {
    /// A parser for one file.
    pub fn new(ctx: &ParseCtx) -> Self {
        BtFirewallParser {
            path: ctx.path.clone(),
            mode: Mode::Start,
            other_chain: 0,
        }
    }

    fn location(&self, line: u64) -> Location {
        Location::new(self.path.clone(), line)
    }

    /// Handles every rule of a parsed value, the `n`-th at `lines(n)`.
    fn value(&mut self, value: &Value, lines: &dyn Fn(usize) -> u64, sink: &mut dyn Sink) {
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            Value::Object(obj) => match obj.get("data") {
                Some(Value::Array(items)) if !obj.contains_key("types") => items.iter().collect(),
                _ => vec![value],
            },
            _ => Vec::new(),
        };
        for (n, item) in items.into_iter().enumerate() {
            let line = lines(n);
            match item.as_object() {
                Some(obj) => {
                    if rule(obj, self.location(line), sink) == Outcome::OtherChain {
                        self.other_chain += 1;
                    }
                }
                None => sink.malformed(line, "not a firewall rule object".into()),
            }
        }
    }
}

/// The line of the `n`-th `"address":` key of a document, when there is one per rule.
fn address_key_lines(text: &[u8], first_line: u64) -> Vec<u64> {
    let mut lines = Vec::new();
    let (mut line, mut last) = (first_line, 0usize);
    for at in memchr::memmem::find_iter(text, b"\"address\"") {
        let after = text[at + 9..].trim_ascii_start();
        if !after.starts_with(b":") {
            continue;
        }
        line += memchr::memchr_iter(b'\n', &text[last..at]).count() as u64;
        last = at;
        lines.push(line);
    }
    lines
}

/// One rule object: an event per banned network.
fn rule(obj: &Map<String, Value>, location: Location, sink: &mut dyn Sink) -> Outcome {
    let text = |key: &str| obj.get(key).and_then(Value::as_str);
    Rule {
        types: text("types"),
        address: text("address"),
        ports: text("ports").is_some_and(|p| !p.trim().is_empty()),
        chain: text("chain"),
        addtime: text("addtime"),
    }
    .events(Format::BtFirewall, &location, "", false, sink)
}

impl LineParser for BtFirewallParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        match &mut self.mode {
            Mode::Document(text, _) => {
                if text.len() + line.len() >= MAX_DOCUMENT {
                    self.mode = Mode::TooLarge;
                } else {
                    text.extend_from_slice(line);
                    text.push(b'\n');
                }
                return;
            }
            Mode::TooLarge => return,
            Mode::Start | Mode::Lines => {}
        }
        let trimmed = if lineno == 1 {
            line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line)
        } else {
            line
        }
        .trim_ascii();
        if trimmed.is_empty() {
            return;
        }
        match serde_json::from_slice::<Value>(trimmed) {
            Ok(value) => {
                self.mode = Mode::Lines;
                self.value(&value, &|_| lineno, sink);
            }
            Err(_) if matches!(self.mode, Mode::Start) => {
                let mut text = trimmed.to_vec();
                text.push(b'\n');
                self.mode = Mode::Document(text, lineno);
            }
            Err(e) => sink.malformed(lineno, format!("not a JSON rule: {e}")),
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        match std::mem::replace(&mut self.mode, Mode::Lines) {
            Mode::Document(text, first) => match serde_json::from_slice::<Value>(&text) {
                Ok(value) => {
                    let keys = address_key_lines(&text, first);
                    let count = match &value {
                        Value::Array(items) => items.len(),
                        Value::Object(obj) => match obj.get("data") {
                            Some(Value::Array(items)) if !obj.contains_key("types") => items.len(),
                            _ => 1,
                        },
                        _ => 0,
                    };
                    let lines = |n: usize| {
                        if keys.len() == count {
                            keys[n]
                        } else {
                            first
                        }
                    };
                    self.value(&value, &lines, sink);
                }
                Err(e) => sink.malformed(first, format!("not a JSON document: {e}")),
            },
            Mode::TooLarge => sink.note(format!(
                "a JSON document larger than {} MiB, not read",
                MAX_DOCUMENT >> 20
            )),
            Mode::Start | Mode::Lines => {}
        }
        if self.other_chain > 0 {
            sink.note(other_chain_note(self.other_chain));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::{ctx, Collect};

    fn run(text: &str) -> Collect {
        let mut p = BtFirewallParser::new(&ctx("ip.json"));
        let mut sink = Collect::default();
        for (i, line) in text.split('\n').enumerate() {
            p.line(i as u64 + 1, line.as_bytes(), &mut sink);
        }
        p.finish(&mut sink);
        sink
    }

    fn nets(c: &Collect) -> Vec<(String, String, u64)> {
        c.events
            .iter()
            .map(|e| (e.net.to_string(), e.scope.clone(), e.location.line))
            .collect()
    }

    #[test]
    fn export_lines() {
        let c = run(concat!(
            r#"{"id": 4, "types": "drop", "address": "104.16.0.0/13", "brief": "", "addtime": "2026-11-20 10:00:00"}"#,
            "\n",
            r#"{"id": 3, "types": "accept", "address": "173.245.48.0/20", "brief": "cloudflare", "addtime": "2026-11-20 10:00:00"}"#,
            "\n\n",
            r#"{"id": 2, "types": "drop", "address": "198.51.100.1-198.51.100.6", "brief": "104.17.0.1", "addtime": "x"}"#,
            "\n",
            r#"{"id": 1, "protocol": "tcp", "ports": "443", "types": "drop", "address": "2606:4700::/32", "brief": "", "addtime": "2026-11-20 10:00:00"}"#,
            "\n",
            r#"{"id": 0, "types": "drop", "address": "not-an-ip", "brief": "", "addtime": ""}"#,
        ));
        assert_eq!(
            nets(&c),
            [
                ("104.16.0.0/13".into(), "ip_rule".into(), 1),
                ("198.51.100.1/32".into(), "ip_rule".into(), 4),
                ("198.51.100.2/31".into(), "ip_rule".into(), 4),
                ("198.51.100.4/31".into(), "ip_rule".into(), 4),
                ("198.51.100.6/32".into(), "ip_rule".into(), 4),
                ("2606:4700::/32".into(), "port_rule".into(), 5),
            ]
        );
        assert_eq!(c.events[0].time.unwrap().to_string(), "2026-11-20 10:00:00");
        assert_eq!(c.events[1].time, None);
        assert_eq!(c.malformed_lines(), [6]);
    }

    #[test]
    fn pretty_documents_keep_their_lines() {
        let c = run("[\n  {\n    \"id\": 1,\n    \"types\": \"drop\",\n    \"address\": \"104.16.0.1\",\n    \"brief\": \"\\\"address\\\": x\",\n    \"addtime\": \"2026-11-20 10:00:00\"\n  },\n  {\n    \"id\": 2,\n    \"types\": \"drop\",\n    \"address\": \"2606:4700::1\",\n    \"brief\": \"address\",\n    \"addtime\": \"2026-11-20 10:00:00\"\n  }\n]");
        assert_eq!(
            nets(&c),
            [
                ("104.16.0.1/32".into(), "ip_rule".into(), 5),
                ("2606:4700::1/128".into(), "ip_rule".into(), 12),
            ]
        );
        let wrapped = run(
            r#"{"data": [{"id": 1, "types": "drop", "address": "104.16.0.2", "brief": "", "addtime": ""}]}"#,
        );
        assert_eq!(wrapped.events.len(), 1);
        let broken = run("[\n{\"types\": \"drop\",");
        assert_eq!(broken.malformed_lines(), [1]);
    }

    #[test]
    fn output_chain_rules_refuse_no_visitor() {
        let c = run(concat!(
            r#"{"id": 2, "types": "drop", "address": "104.16.0.9", "brief": "", "addtime": "", "chain": "OUTPUT"}"#,
            "\n",
            r#"{"id": 1, "types": "drop", "address": "104.16.0.8", "brief": "", "addtime": "", "chain": ""}"#,
            "\n",
            r#"{"id": 0, "types": "drop", "address": "104.16.0.7", "brief": "", "addtime": "", "chain": "INPUT"}"#,
        ));
        assert_eq!(
            nets(&c),
            [
                ("104.16.0.8/32".into(), "ip_rule".into(), 2),
                ("104.16.0.7/32".into(), "ip_rule".into(), 3),
            ]
        );
        assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
        assert!(c.notes[0].starts_with("1 drop rule(s) in the OUTPUT chain"));
    }

    #[test]
    fn detection_is_strict() {
        let p = Path::new("x");
        let pretty = b"[\n  {\n    \"id\": 1,\n    \"types\": \"drop\",\n    \"address\": \"104.16.0.1\",\n    \"brief\": \"\",\n    \"addtime\": \"2026-11-20 10:00:00\"\n  },\n  {\n    \"id\": 2,";
        assert_eq!(detect(p, pretty), Some(Format::BtFirewall));
        assert_eq!(
            detect(
                p,
                br#"[{"types": "drop", "address": "104.16.0.1", "addtime": ""}]"#
            ),
            Some(Format::BtFirewall)
        );
        assert_eq!(
            detect(
                p,
                br#"{"types": "block", "address": "104.16.0.1", "addtime": ""}"#
            ),
            None
        );
        assert_eq!(detect(p, br#"[{"decisions": [{"type": "ban"}]}]"#), None);
        assert_eq!(detect(p, b"104.16.0.1\n"), None);
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn detect() {
        use crate::formats::{bt_firewall, Format};
        use std::path::Path;
        let line = br#"{"id": 1, "types": "drop", "address": "104.16.0.1", "brief": "", "addtime": "2026-11-20 10:00:00"}"#;
        assert_eq!(
            bt_firewall::detect(Path::new("ip.json"), line),
            Some(Format::BtFirewall)
        );
        assert_eq!(
            bt_firewall::detect(
                Path::new("x.json"),
                br#"{"type": "ban", "value": "104.16.0.1"}"#
            ),
            None
        );
    }
}
