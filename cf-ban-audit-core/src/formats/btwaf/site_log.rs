//! btwaf's per-site logs (`/www/wwwlogs/btwaf/<site>_<YYYY-MM-DD>.log`): one JSON array per
//! intercepted request, a ban when its rule text announces a block.

use std::path::Path;
use std::sync::Arc;

use std::net::IpAddr;

use chrono::{NaiveDateTime, TimeDelta};
use serde_json::Value;

use super::{address, opt_str, quote, quote_value, scope, text, LOCALTIME};
use crate::addr::host_net;
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::{Format, LineParser, ParseCtx, Sink};

/// One line of a per-site log: a request btwaf intercepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteEntry {
    /// When, in the host's local time (`ngx.localtime()`).
    pub time: NaiveDateTime,
    /// The client address.
    pub ip: IpAddr,
    /// The rule family that fired (`cc`, `args`, `post`, `user_agent`, `scan`, ...).
    pub rule: String,
    /// What the rule says (a regular expression, or a sentence such as
    /// `60秒内累计超过120次请求,封锁300秒`), when there is one.
    pub text: Option<String>,
    /// The block announced by the text (`封锁N秒`), in seconds.
    pub block_seconds: Option<i64>,
}

/// The seconds of the first `封锁N秒` ("blocked for N seconds") in a rule text.
pub fn block_seconds(text: &str) -> Option<i64> {
    const BLOCKED: &str = "封锁";
    let mut rest = text;
    while let Some(at) = rest.find(BLOCKED) {
        rest = &rest[at + BLOCKED.len()..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 && digits <= 12 && rest[digits..].starts_with('秒') {
            return rest[..digits].parse().ok();
        }
    }
    None
}

/// Reads one line of a per-site log.
pub fn read_site_line(line: &[u8]) -> Result<SiteEntry, String> {
    let line = text(line.trim_ascii());
    let value: Value = serde_json::from_str(&line)
        .map_err(|e| format!("not a JSON array ({e}): {}", quote(&line)))?;
    let Value::Array(items) = &value else {
        return Err(format!("not a JSON array: {}", quote(&line)));
    };
    if items.len() < 6 {
        return Err(format!(
            "{} fields, at least 6 expected: {}",
            items.len(),
            quote(&line)
        ));
    }
    let time = items[0]
        .as_str()
        .and_then(|s| NaiveDateTime::parse_from_str(s.trim(), LOCALTIME).ok())
        .ok_or_else(|| format!("not a local time: {}", quote_value(&items[0])))?;
    let ip = address(&items[1])?;
    let rule = opt_str(items.get(5), "the rule name")?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("no rule name: {}", quote(&line)))?;
    let text = opt_str(items.get(6), "the rule text")?.map(str::to_string);
    let block_seconds = text.as_deref().and_then(block_seconds);
    Ok(SiteEntry {
        time,
        ip,
        rule,
        text,
        block_seconds,
    })
}

/// The site a per-site log is about, from its name `<site>_<YYYY-MM-DD>.log` (or the file
/// name without `.log` when it has no date).
pub fn site_of(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = crate::decompress::strip_suffixes(&name);
    let base = base.strip_suffix(".log").unwrap_or(base);
    match base.rsplit_once('_') {
        Some((site, date)) if !site.is_empty() && is_date(date) => site.to_string(),
        _ => base.to_string(),
    }
}

/// `YYYY-MM-DD`.
pub(super) fn is_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() && s.len() == 10
}

/// The parser of per-site logs.
pub struct SiteLogParser {
    path: Arc<Path>,
    site: String,
}

impl SiteLogParser {
    /// A parser for one file; the site comes from its name.
    pub fn new(ctx: &ParseCtx) -> Self {
        SiteLogParser {
            path: ctx.path.clone(),
            site: site_of(&ctx.path),
        }
    }
}

impl LineParser for SiteLogParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if line.trim_ascii().is_empty() {
            return;
        }
        let entry = match read_site_line(line) {
            Ok(entry) => entry,
            Err(message) => return sink.malformed(lineno, message),
        };
        let (action, expires) = match entry.block_seconds {
            Some(n) => (
                Action::Ban,
                entry.time.checked_add_signed(TimeDelta::seconds(n)),
            ),
            None => (Action::Deny, None),
        };
        sink.event(
            BanEvent::new(
                host_net(entry.ip),
                Tool::Btwaf,
                Format::BtwafSiteLog,
                scope(&self.site, Some(&entry.rule)),
                action,
                Location::new(self.path.clone(), lineno),
            )
            .at(entry.time)
            .until(expires),
        );
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn block_seconds() {
        use crate::formats::btwaf::block_seconds;
        assert_eq!(
            block_seconds("60秒内累计超过120次请求,封锁300秒"),
            Some(300)
        );
        assert_eq!(
            block_seconds("单IP防护一天内内累计超过3000次请求,封锁86400秒(包括所有静态资源)"),
            Some(86400)
        );
        assert_eq!(block_seconds("假蜘蛛拦截"), None);
    }

    #[test]
    fn read_site_line() {
        use crate::formats::btwaf::read_site_line;
        let line = r#"["2026-11-23 23:59:00","172.64.9.9","GET","\/","curl\/8.5.0","cc","60秒内累计超过120次请求,封锁86400秒"]"#;
        let e = read_site_line(line.as_bytes()).unwrap();
        assert_eq!(
            (e.ip.to_string(), e.rule.as_str(), e.block_seconds),
            ("172.64.9.9".into(), "cc", Some(86400))
        );
        assert_eq!(e.time.to_string(), "2026-11-23 23:59:00");
    }

    #[test]
    fn site_of() {
        use crate::formats::btwaf::site_of;
        use std::path::Path;
        assert_eq!(
            site_of(Path::new(
                "/www/wwwlogs/btwaf/www.example.com_2026-11-23.log"
            )),
            "www.example.com"
        );
        assert_eq!(
            site_of(Path::new("/backup/my_site_2026-11-23.log.gz")),
            "my_site"
        );
    }
}
