//! The Local API's access log (`/var/log/crowdsec_api.log`, [`Format::CrowdsecApiLog`]): the
//! one place a `cscli decisions delete` leaves a trace, since `crowdsec.log` says nothing of it.
//!
//! The Local API logs every HTTP request it answers through gin's logger, into this file when
//! `log_media: file` (`pkg/apiserver/apiserver.go`, 1.4.6 and later), each line through logrus
//! like `crowdsec.log`'s (text or JSON, the same time layouts), with gin's message:
//!
//! ```text
//! <client> - [<RFC 1123 time>] "<method> <path>[?<query>] <proto> <status> <latency> "<user agent>" <error>"
//! ```
//!
//! `cscli decisions delete --ip X` sends `DELETE /v1/decisions?ip=X` (`--range R`:
//! `range=R`, URL-encoded; `--type T`: `type=T`; `--scenario S`: `scenario=S`; `--id N`:
//! `DELETE /v1/decisions/N`; `--all`: no query), and the Local API answers 200 after setting
//! the `until` of every decision the filter matches to now (`SoftDeleteDecisionsWithFilter`).
//! The route needs a machine's credentials: a request from anyone else is answered 401.
//!
//! Read here: each `DELETE /v1/decisions?...` answered 200 whose filter names an address
//! (`ip`) or a network (`range`), and at most a `type`, a `scenario` and `contains`. It is an
//! [`Action::Unban`] at the line's time of exactly that address or network: in the scenario
//! given (else with an empty scope, which the verdict joins to every scenario of the address),
//! of bans, of challenges (`type=captcha`), or of both (no type). The filter deletes more than
//! that (by default an `ip` filter also deletes the range decisions that contain the address),
//! which is not read: such a range may still be shown in force.
//!
//! Not read, and counted in a note: deletions by id (the address is not in the log), of every
//! decision (`--all`) or by other filters (`origin`, `value`, `scope`), and deletions answered
//! with another status.
//!
//! What a client sends is in the line: the path, the query and the user agent. So the message
//! is read whole, from both ends: the path must hold no space (a path gin decoded from `%20`
//! does, and is refused), the status 200 stands between the path and the user agent where only
//! the Local API writes it, and the user agent holds no quote.
//!
//! [`Action::Unban`]: crate::event::Action::Unban

use std::borrow::Cow;
use std::path::Path;
use std::sync::LazyLock;

use super::log::{parse_log_time, split_entry, unquote, Entry};
use super::CAPTCHA_SUFFIX;
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::prefilter::Prefilter;
use crate::formats::{quote, Format, LineParser, ParseCtx, Sink};

/// What a decision deletion line holds.
pub(super) static WORDS: LazyLock<Prefilter> =
    LazyLock::new(|| Prefilter::new(&["DELETE /v1/decisions"]));

/// One request as gin's logger in the Local API writes it; every part as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiRequest<'a> {
    /// The client's address.
    pub client: &'a [u8],
    /// The method (`DELETE`, `GET`, ...).
    pub method: &'a [u8],
    /// The path, with `?` and the query when there is one.
    pub path: &'a [u8],
    /// The status of the answer.
    pub status: u16,
    /// The client's user agent.
    pub agent: &'a [u8],
}

/// Reads a message of the Local API's access log, anchored at both ends: `None` for any other
/// message, or for one whose parts a client could have shifted (a path holding a space, a
/// user agent holding a quote, an error message after it).
pub fn parse_request(msg: &[u8]) -> Option<ApiRequest<'_>> {
    let (client, rest) = split_once(msg, b" - [")?;
    let (_, rest) = split_once(rest, b"] \"")?;
    let rest = rest.strip_suffix(b"\" \"")?;
    let quote_at = memchr::memrchr(b'"', rest)?;
    let (head, agent) = (&rest[..quote_at], &rest[quote_at + 1..]);
    let head = head.strip_suffix(b" ")?;
    let mut words = head.rsplitn(4, |&b| b == b' ');
    let _latency = words.next().filter(|w| !w.is_empty())?;
    let status = words.next()?;
    let proto = words.next()?;
    let request = words.next()?;
    let (method, path) = split_once(request, b" ")?;
    let plain = |w: &[u8]| !w.is_empty() && !w.contains(&b' ') && !w.contains(&b'"');
    let status = std::str::from_utf8(status).ok()?.parse().ok()?;
    (plain(client) && plain(method) && plain(path) && proto.starts_with(b"HTTP/") && plain(proto))
        .then_some(ApiRequest {
            client,
            method,
            path,
            status,
            agent,
        })
}

fn split_once<'a>(s: &'a [u8], sep: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    let at = memchr::memmem::find(s, sep)?;
    Some((&s[..at], &s[at + sep.len()..]))
}

/// Undoes URL encoding (`%2F`, `+`); `None` for a broken escape or text that is not UTF-8.
fn url_decode(s: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                let hex = std::str::from_utf8(s.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// What a deletion's filter says, when it names one address or network.
#[derive(Debug, Default, PartialEq, Eq)]
struct Filter {
    target: Option<String>,
    kind: Option<String>,
    scenario: Option<String>,
}

/// Why a deletion is not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Skipped {
    ById,
    All,
    OtherFilter,
    Failed,
}

/// Reads a deletion's query: `Err` when it is not read.
fn filter(query: &[u8]) -> Result<Filter, Skipped> {
    let mut f = Filter::default();
    for pair in query.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (key, value) = split_once(pair, b"=").unwrap_or((pair, b""));
        let value = url_decode(value).ok_or(Skipped::OtherFilter)?;
        let slot = match key {
            b"ip" | b"range" => &mut f.target,
            b"type" => &mut f.kind,
            b"scenario" => &mut f.scenario,
            // `contains` (true by default) widens what is deleted, never narrows it to less
            // than the address or network given.
            b"contains" if matches!(value.as_str(), "true" | "false") => continue,
            _ => return Err(Skipped::OtherFilter),
        };
        if slot.replace(value).is_some() {
            return Err(Skipped::OtherFilter);
        }
    }
    if f.target.is_none() {
        return Err(if f.kind.is_none() && f.scenario.is_none() {
            Skipped::All
        } else {
            Skipped::OtherFilter
        });
    }
    Ok(f)
}

/// Whether a file name is the Local API's access log or a rotated copy of it:
/// `crowdsec_api.log`, `crowdsec_api.log.1`, `crowdsec_api.log.2.gz`, and lumberjack's backups
/// `crowdsec_api-2026-11-24T03-09-23.000.log(.gz)`.
fn is_api_log_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let name = name.strip_suffix(".gz").unwrap_or(name);
    name == "crowdsec_api.log"
        || name.starts_with("crowdsec_api.log.")
        || name.starts_with("crowdsec_api.log-")
        || name
            .strip_prefix("crowdsec_api-")
            .and_then(|s| s.strip_suffix(".log"))
            .is_some_and(|s| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'T' | b'.'))
            })
}

/// Decides whether a file is the Local API's access log: logrus lines under its name (or a
/// rotated one), or, under any name, logrus lines among which a request to the Local API
/// (`/v1/...`).
pub fn looks_like_api_log(path: &Path, head: &[u8]) -> bool {
    let named = is_api_log_name(path);
    for line in head.split(|&b| b == b'\n').take(64) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Ok(Some(entry)) = split_entry(line) else {
            continue;
        };
        let request = unescaped(line, &entry);
        if named
            || request
                .as_deref()
                .and_then(parse_request)
                .is_some_and(|r| r.path.starts_with(b"/v1/"))
        {
            return true;
        }
    }
    named && head.trim_ascii().is_empty()
}

/// The message of a log line, unescaped: the text form quotes it with Go's `%q` (which
/// [`split_entry`] undoes only for messages that may be decisions, never for gin's), the JSON
/// form is read unescaped already. `None` for a broken escape.
fn unescaped<'e>(line: &[u8], entry: &'e Entry<'_>) -> Option<Cow<'e, [u8]>> {
    if line.trim_ascii_start().starts_with(b"{") {
        Some(Cow::Borrowed(&entry.msg))
    } else {
        unquote(&entry.msg)
    }
}

/// The line parser of the Local API's access log.
pub struct CrowdsecApiLogParser {
    path: std::sync::Arc<Path>,
    deletions: u64,
    skipped: std::collections::BTreeMap<Skipped, u64>,
}

impl CrowdsecApiLogParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        CrowdsecApiLogParser {
            path: ctx.path.clone(),
            deletions: 0,
            skipped: Default::default(),
        }
    }

    fn read(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) -> Result<(), String> {
        let Some(entry) = split_entry(line)? else {
            return Ok(());
        };
        let msg = unescaped(line, &entry).ok_or("logrus line with an invalid escape")?;
        let Some(request) = parse_request(&msg) else {
            return Ok(());
        };
        if request.method != b"DELETE" {
            return Ok(());
        }
        let (route, query) = match memchr::memchr(b'?', request.path) {
            Some(q) => (&request.path[..q], &request.path[q + 1..]),
            None => (request.path, &b""[..]),
        };
        let by_id = route
            .strip_prefix(b"/v1/decisions/")
            .is_some_and(|id| !id.is_empty() && id.iter().all(u8::is_ascii_digit));
        if route != b"/v1/decisions" && !by_id {
            return Ok(());
        }
        let skip = if request.status != 200 {
            Some(Skipped::Failed)
        } else if by_id {
            Some(Skipped::ById)
        } else {
            None
        };
        let f = match skip.map_or_else(|| filter(query), Err) {
            Ok(f) => f,
            Err(why) => {
                *self.skipped.entry(why).or_default() += 1;
                return Ok(());
            }
        };
        let target = f.target.as_deref().unwrap_or_default();
        let net = crate::addr::parse_net(target.as_bytes())
            .ok_or_else(|| format!("deletion of a value that is not an address: {target:?}"))?;
        let time = parse_log_time(&entry.time)
            .ok_or_else(|| format!("unreadable time {}", quote(&entry.time)))?;
        let kinds: &[bool] = match f.kind.as_deref() {
            None => &[false, true],
            Some(k) if k.eq_ignore_ascii_case("captcha") => &[true],
            Some(_) => &[false],
        };
        self.deletions += 1;
        for &challenge in kinds {
            let scope = match (&f.scenario, challenge) {
                (Some(s), false) => s.clone(),
                (Some(s), true) => format!("{s}{CAPTCHA_SUFFIX}"),
                (None, false) => String::new(),
                (None, true) => CAPTCHA_SUFFIX.trim_start().to_string(),
            };
            sink.event(
                BanEvent::new(
                    net,
                    Tool::Crowdsec,
                    Format::CrowdsecApiLog,
                    scope,
                    Action::Unban,
                    Location::new(self.path.clone(), lineno),
                )
                .at(time)
                .challenge(challenge),
            );
        }
        Ok(())
    }
}

impl LineParser for CrowdsecApiLogParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if !WORDS.matches(line) {
            return;
        }
        if let Err(why) = self.read(lineno, line, sink) {
            sink.malformed(lineno, format!("CrowdSec Local API deletion line: {why}"));
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if self.deletions > 0 {
            sink.note(format!(
                "{} decision deletion(s) (cscli decisions delete) read as unbans of the address \
                 or network they name",
                self.deletions
            ));
        }
        if !self.skipped.is_empty() {
            let list: Vec<String> = self
                .skipped
                .iter()
                .map(|(why, n)| {
                    let why = match why {
                        Skipped::ById => "by id (the address is not in the log)",
                        Skipped::All => "of every decision (--all)",
                        Skipped::OtherFilter => "by other filters",
                        Skipped::Failed => "that failed (status other than 200)",
                    };
                    format!("{n} {why}")
                })
                .collect();
            sink.note(format!("decision deletions not read: {}", list.join(", ")));
        }
    }
}

#[cfg(test)]
#[path = "api_log_tests.rs"]
mod tests;
