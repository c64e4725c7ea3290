//! btwaf's `drop_ip.log`: one JSON array per line (or an array of them), each a block of an
//! address on a site for some seconds.

use std::path::Path;
use std::sync::Arc;

use std::net::IpAddr;

use serde_json::Value;

use super::{address, local, opt_str, quote, quote_value, scope, text, whole, MAX_EPOCH};
use crate::addr::host_net;
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::{Format, LineParser, ParseCtx, Sink};

/// One entry of `drop_ip.log`: an address blocked on a site for some seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropEntry {
    /// When the block began (Unix time, `os.time()`).
    pub time: i64,
    /// The blocked address.
    pub ip: IpAddr,
    /// The site (`server_name`).
    pub site: String,
    /// How long the block lasts, in seconds (`drop_time`).
    pub seconds: i64,
    /// Why (`cc`, `inc`, `head`, ...), when the entry says.
    pub reason: Option<String>,
}

impl DropEntry {
    /// Reads one entry from its JSON array (see the [module documentation](super)).
    pub fn from_value(value: &Value) -> Result<DropEntry, String> {
        let Value::Array(items) = value else {
            return Err(format!("not a JSON array: {}", quote_value(value)));
        };
        if items.len() < 5 {
            return Err(format!(
                "{} fields, at least 5 expected: {}",
                items.len(),
                quote_value(value)
            ));
        }
        let time = whole(&items[0])
            .filter(|t| (1..MAX_EPOCH).contains(t))
            .ok_or_else(|| format!("not a Unix time: {}", quote_value(&items[0])))?;
        let ip = address(&items[1])?;
        let site = opt_str(items.get(2), "the site")?
            .unwrap_or("-")
            .to_string();
        let seconds = whole(&items[4])
            .filter(|s| (0..MAX_EPOCH).contains(s))
            .ok_or_else(|| format!("not a block duration: {}", quote_value(&items[4])))?;
        let reason = match items.get(5) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            _ => None,
        };
        Ok(DropEntry {
            time,
            ip,
            site,
            seconds,
            reason,
        })
    }

    /// The event of this entry.
    fn event(&self, path: &Arc<Path>, line: u64) -> Result<BanEvent, String> {
        let time = local(self.time).ok_or_else(|| format!("not a date: {}", self.time))?;
        Ok(BanEvent::new(
            host_net(self.ip),
            Tool::Btwaf,
            Format::BtwafDropIp,
            scope(&self.site, self.reason.as_deref()),
            Action::Ban,
            Location::new(path.clone(), line),
        )
        .at(time)
        .until(local(self.time + self.seconds)))
    }
}

/// Reads one line of `drop_ip.log`: one entry, or several when the line is an array of
/// entries; each is read on its own, so one bad entry does not hide the others.
pub fn read_drop_line(line: &[u8]) -> Vec<Result<DropEntry, String>> {
    let line = line.trim_ascii();
    let value: Value = match serde_json::from_str(&text(line)) {
        Ok(v) => v,
        Err(e) => {
            return vec![Err(format!(
                "not a JSON array ({e}): {}",
                quote(&text(line))
            ))]
        }
    };
    match &value {
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_array) => {
            items.iter().map(DropEntry::from_value).collect()
        }
        _ => vec![DropEntry::from_value(&value)],
    }
}

/// The parser of `drop_ip.log`.
pub struct DropIpParser {
    path: Arc<Path>,
}

impl DropIpParser {
    /// A parser for one file.
    pub fn new(ctx: &ParseCtx) -> Self {
        DropIpParser {
            path: ctx.path.clone(),
        }
    }
}

impl LineParser for DropIpParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        // The panel empties the file with `echo '' > drop_ip.log`: blank lines are normal.
        if line.trim_ascii().is_empty() {
            return;
        }
        for entry in read_drop_line(line) {
            match entry.and_then(|e| e.event(&self.path, lineno)) {
                Ok(event) => sink.event(event),
                Err(message) => sink.malformed(lineno, message),
            }
        }
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn read_drop_line() {
        use crate::formats::btwaf::read_drop_line;
        let line = br#"[1795489200,"104.16.8.8","example.com","\/index.php?id=1",86400,"cc"]"#;
        let entry = read_drop_line(line).remove(0).unwrap();
        assert_eq!(
            (entry.ip.to_string(), entry.site.as_str()),
            ("104.16.8.8".into(), "example.com")
        );
        assert_eq!(
            (entry.seconds, entry.reason.as_deref()),
            (86400, Some("cc"))
        );
        // A URI that looks like another entry is only a URI.
        let forged = br#"[1795489200,"192.0.2.1","example.com","\"],[1795489200,\"104.16.0.1\",\"x\",\"\/\",86400,\"cc\"]",300,"cc"]"#;
        let entries = read_drop_line(forged);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].as_ref().unwrap().ip.to_string(), "192.0.2.1");
    }
}
