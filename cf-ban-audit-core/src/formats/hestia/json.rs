//! `v-list-firewall-ban json` output: an object keyed by address, read whole, a key given
//! twice kept twice (see the parent module).

use std::path::Path;
use std::sync::Arc;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::{entry_event, MAX_DOCUMENT};
use crate::event::{BanEvent, Location};
use crate::formats::{Format, LineParser, ParseCtx, Sink};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::hestia::banlist::detect_banlist;
    use crate::formats::test_support::run_lines;
    use crate::formats::Format;

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
