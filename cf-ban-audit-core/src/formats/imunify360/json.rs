//! `imunify360-agent ... list --json` output: one item, an array of them, one a line, or one
//! array inside an object (see the parent module).

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::{entry_event, is_item, items, Entry, DROP_LISTS, MAX_DOCUMENT};
use crate::event::Location;
use crate::formats::{Format, LineParser, ParseCtx, Sink};

/// The parser of `--json` output: the document is kept until its end and read whole, or one
/// item a line.
pub struct JsonParser {
    path: Arc<Path>,
    /// The lists whose entries are read.
    lists: &'static [&'static str],
    lines: Vec<(u64, Vec<u8>)>,
    size: usize,
    too_large: bool,
}

impl JsonParser {
    /// A parser for one output.
    pub fn new(ctx: &ParseCtx) -> Self {
        JsonParser {
            path: ctx.path.clone(),
            lists: DROP_LISTS,
            lines: Vec::new(),
            size: 0,
            too_large: false,
        }
    }

    /// A parser that reads the entries of `lists` instead of the drop list's (as `check`
    /// reads the white list).
    pub(crate) fn with_lists(ctx: &ParseCtx, lists: &'static [&'static str]) -> Self {
        let mut p = Self::new(ctx);
        p.lists = lists;
        p
    }

    fn item(&self, value: &Value, line: u64, sink: &mut dyn Sink) {
        let Some(obj) = value.as_object() else {
            return;
        };
        let text = |k: &str| match obj.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let (Some(ip), Some(list), Some(netmask), Some(network), Some(expiration)) = (
            text("ip"),
            text("purpose").or_else(|| text("listname")),
            text("netmask"),
            text("network_address"),
            text("expiration").or_else(|| Some("0".into())),
        ) else {
            sink.malformed(
                line,
                "an ip-list item without ip, list, netmask or network_address".into(),
            );
            return;
        };
        let ctime = text("ctime");
        let entry = Entry {
            ip: &ip,
            list: &list,
            netmask: &netmask,
            network: &network,
            ctime: ctime.as_deref(),
            expiration: &expiration,
        };
        match entry_event(
            self.lists,
            &entry,
            Format::Imunify360Json,
            Location::new(self.path.clone(), line),
        ) {
            Ok(Some(event)) => sink.event(event),
            Ok(None) => {}
            Err(why) => sink.malformed(line, why),
        }
    }
}

impl LineParser for JsonParser {
    fn line(&mut self, lineno: u64, line: &[u8], _sink: &mut dyn Sink) {
        if self.too_large || line.trim_ascii().is_empty() {
            return;
        }
        self.size += line.len() + 1;
        if self.size >= MAX_DOCUMENT {
            self.too_large = true;
            return;
        }
        self.lines.push((lineno, line.to_vec()));
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        let Some(&(first, _)) = self.lines.first() else {
            return;
        };
        if self.too_large {
            sink.cut(
                first,
                format!(
                    "an imunify360-agent --json output larger than {MAX_DOCUMENT} bytes: not read"
                ),
            );
            return;
        }
        let whole: Vec<u8> = self
            .lines
            .iter()
            .flat_map(|(_, l)| l.iter().copied().chain(std::iter::once(b'\n')))
            .collect();
        if let Ok(value) = serde_json::from_slice::<Value>(&whole) {
            match items(&value) {
                Some(found) => {
                    // Each item at the line of its `"ip"` key when one a line holds it.
                    let ip_lines: Vec<u64> = self
                        .lines
                        .iter()
                        .filter(|(_, l)| memchr::memmem::find(l, b"\"ip\"").is_some())
                        .map(|(n, _)| *n)
                        .collect();
                    for (i, item) in found.into_iter().enumerate() {
                        let line = if ip_lines.len() > 1 {
                            ip_lines.get(i).copied().unwrap_or(first)
                        } else {
                            first
                        };
                        self.item(item, line, sink);
                    }
                }
                None => sink.malformed(
                    first,
                    "a JSON document that holds no imunify360 ip-list items".into(),
                ),
            }
            return;
        }
        // One item a line.
        for (n, line) in &self.lines {
            match serde_json::from_slice::<Value>(line) {
                Ok(value) if value.as_object().is_some_and(is_item) => self.item(&value, *n, sink),
                _ => sink.malformed(*n, "not an imunify360 ip-list item".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::imunify360::detect_json;
    use crate::formats::test_support::run_lines;
    use std::path::Path;

    #[test]
    fn json_items_of_the_black_list_are_bans() {
        let doc = r#"{"items": [
{"auto_whitelisted": false, "comment": "104.16.0.9", "country": {"code": "US"}, "ctime": 1662355015, "deep": null, "expiration": 0, "full_access": false, "imported_from": null, "ip": "104.16.0.1", "listname": "BLACK", "manual": true, "netmask": 4294967295, "network_address": 1745879041, "scope": "local", "version": 4},
{"auto_whitelisted": false, "comment": "", "country": null, "ctime": 1662355015, "deep": null, "expiration": 0, "full_access": true, "imported_from": null, "ip": "104.16.0.2", "listname": "WHITE", "manual": true, "netmask": 4294967295, "network_address": 1745879042, "scope": "local", "version": 4}
]}
"#;
        let p = Path::new("/tmp/x");
        assert!(detect_json(p, doc.as_bytes()));
        let c = run_lines(Format::Imunify360Json, "list.json", doc);
        assert!(c.malformed.is_empty(), "{:?}", c.malformed);
        let got: Vec<(String, u64)> = c
            .events
            .iter()
            .map(|e| (e.net.to_string(), e.location.line))
            .collect();
        assert_eq!(got, [("104.16.0.1/32".into(), 2)]);
    }
}
