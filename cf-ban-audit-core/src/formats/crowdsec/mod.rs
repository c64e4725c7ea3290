//! CrowdSec decisions, in every form they are saved or served:
//!
//! - [`Format::CrowdsecJson`]:
//!   - `cscli decisions list -o json` and `cscli alerts list -o json`: `json.MarshalIndent` of
//!     `[]models.Alert`, each alert with its `decisions: [...]` (`[]` or `null` when empty);
//!   - alerts as the Local API receives them (the same objects, keys in any case: Go's
//!     `encoding/json` matches keys case-insensitively);
//!   - the bouncer stream `GET /v1/decisions/stream`: `{"new": [...], "deleted": [...]}`
//!     (either key may be missing or `null`), and the plain decision array of
//!     `GET /v1/decisions`;
//!   - the import file of `cscli decisions import` (an array of
//!     `{"duration", "reason", "scope", "type", "value"}`, every key but `value` optional).
//! - [`Format::CrowdsecCsv`]:
//!   - `cscli decisions list -o raw` (header `id,source,ip,reason,action,country,as,
//!     events_count,expiration,simulated,alert_id[,machine]`, the `ip` column being
//!     `Scope:Value`, e.g. `Ip:192.0.2.1` or `Range:198.51.100.0/24`);
//!   - `cscli alerts list -o raw` (header `id,scope,value,reason,country,as,decisions,
//!     created_at[,machine]`, the `decisions` column counting decisions by type, e.g.
//!     `ban:1`, `(simul)ban:2 captcha:1`);
//!   - the import CSV of `cscli decisions import` (a header naming any of `duration`,
//!     `reason`, `scope`, `type`, `value`; `value` required).
//! - [`Format::CrowdsecTable`]: the human output of `cscli decisions list` (the default), a
//!   table drawn by tablewriter, aquasecurity/table or go-pretty depending on the version
//!   (`+----+` rules and `|` borders, or rounded box characters and ANSI colours on a
//!   terminal), header `ID | Source | Scope:Value | Reason | Action | Country | AS | Events |
//!   expiration | Alert ID [| Machine]`; columns are cut at the rule's `+` positions and read
//!   by header name, wrapped cells joined (see [`table`]). Its rows are read as those of
//!   `-o raw`. The same for `cscli alerts list` (header `ID | value | reason | country | as |
//!   decisions | created_at [| machine]`), whose rows are read as those of `cscli alerts list
//!   -o raw` below.
//! - [`Format::CrowdsecLog`]: CrowdSec's own log (`/var/log/crowdsec.log`, rotated and compressed
//!   copies), where the Local API writes one line per decision it stores
//!   (`(machine/origin) scenario by ip X : 4h ban on Ip X`), in logrus text or JSON form; read
//!   from the end of the line, so that a reason holding decision text is never taken for a
//!   decision (see [`log`]). Each decision line is an [`Action::Ban`] at the line's time, ending
//!   after its duration; each decision the console deleted (`Decision from 'cscli' for 'X'
//!   (ban) has been deleted`, 1.5 and later) an [`Action::Unban`] of its address in every
//!   scenario. The log says nothing when a decision expires or when `cscli decisions delete`
//!   deletes it: the access log below, or a `cscli decisions list` taken later, says it.
//! - [`Format::CrowdsecApiLog`]: the Local API's access log (`/var/log/crowdsec_api.log`),
//!   gin's line for each request through logrus; each `DELETE /v1/decisions?ip=X` (or
//!   `range=`) answered 200, what `cscli decisions delete` sends, is an [`Action::Unban`] of
//!   that address or network at the line's time (see [`api_log`]).
//! - [`Format::CrowdsecDb`]: the Local API's own SQLite database
//!   (`/var/lib/crowdsec/data/crowdsec.db`), read-only: each row of its `decisions` table is a
//!   decision that stands, from its `created_at` to its `until` (see [`db`]).
//! - [`Format::CrowdsecBouncerLog`]: crowdsec-firewall-bouncer's log
//!   (`/var/log/crowdsec-firewall-bouncer.log`): at level debug, each address it added to or
//!   removed from the firewall's set, an [`Action::Ban`] (ending after the time left) or an
//!   [`Action::Unban`]; at its default level, info, only counts, which name no address and
//!   give only a note (see [`bouncer_log`]).
//!
//! What becomes an event:
//!
//! - Only decisions of scope `Ip` or `Range` (in any case) are address bans; `Country`, `AS`
//!   and custom scopes are skipped (counted in a note). The address is the decision's `value`
//!   and nothing else: alert fields that can carry attacker text (`message`, `events`, `meta`,
//!   `labels`) are never read, and neither is the alert's `source` (except in
//!   `cscli alerts list -o raw`, which has nothing else and writes the source CrowdSec parsed).
//!   A `Range` decision is emitted as the network written, so that its overlap with a
//!   Cloudflare range is found.
//! - A `ban` decision is a block; so are custom types (`throttle`, ...), which some bouncer
//!   applies as a remediation (named in a note). A `captcha` decision is a challenge: with a
//!   captcha provider the bouncer makes every visitor behind the address solve one; without
//!   one the nginx and OpenResty bouncers (lua-cs-bouncer) fall back to `FALLBACK_REMEDIATION`,
//!   `ban` in the configuration they ship and the value they take for an invalid one (the
//!   firewall bouncer applies only its `supported_decisions_types`, `[ban]` by default, and
//!   skips captchas). So it is reported, with the scope `<scenario> (captcha)` and the event
//!   marked as a challenge ([`BanEvent::challenge`]): its finding's state is `challenge`
//!   while it stands, counted apart from bans. An alert of `cscli alerts list -o raw` whose
//!   only decisions are captchas is history of a challenge: counted in a note, not reported.
//!
//! [`BanEvent::challenge`]: crate::event::BanEvent::challenge
//! - A decision that stands in a list (decisions list, alerts list, stream `new`, import file)
//!   is an [`Action::Listed`] event; its end is its `until` (RFC 3339) when given, else its
//!   `duration`, a Go duration (`3h59m12.5s`) that CrowdSec computes as the time left when
//!   the list was written, counted from the time the file was written (`ParseCtx::reference`;
//!   a negative duration, an expired decision, is counted from the earlier of that time and
//!   the scan's time, so it is expired whatever the file's date). For an import file the
//!   duration is the one the import gives (4h when missing, as `cscli decisions import`).
//!   Its time is the alert's `created_at` (or `start_at`) when it belongs to an alert.
//! - A decision in the stream's `deleted` list is an [`Action::Unban`], unless the same
//!   decision (scenario and value) is also in `new`: a bouncer applies `deleted` first and
//!   then `new`, whatever their order in the file.
//! - A simulated decision (`simulated: true` on the decision or on its alert, `true` in the
//!   `simulated` column, `(simul)` before its type, `(simulated alert)` or `(simulated
//!   decision)` in the log) is not reported: the Local API leaves simulated decisions out of
//!   what bouncers pull (`QueryDecisionWithFilter` and the stream exclude them unless asked),
//!   so no bouncer ever applies one. The file's notes count them ("N simulated decision(s)
//!   (not applied by bouncers)"). So is an alert of `cscli alerts list -o raw` whose decisions
//!   were all simulated.
//! - A line of `cscli alerts list -o raw` (or a row of its table) is history: an alert that
//!   led to decisions, whose values and durations the listing does not give (its `value` is
//!   the alert's source, which CrowdSec parsed; a decision may be on a wider range). It is an
//!   [`Action::Deny`] at the alert's time, never active. Its scope is its scenario, as the
//!   decisions it led to have, so it is evidence of the same finding as those decisions (one
//!   ban, one finding); a one-off denial never stands for the state the decisions give, and
//!   alone it is history (`denied`) that a decision listing's silence does not lift. For the
//!   decisions in force, read `cscli decisions list`.
//! - The scope is the decision's scenario (the `reason` of manual and imported decisions),
//!   else its origin.
//!
//! JSON is read in a streaming way: each top-level entry (an alert, or a decision) is cut out
//! of the text as it arrives and parsed with `serde_json` on its own, so memory is bounded by
//! the largest entry, not by the file, and each decision keeps its own line number. A line
//! longer than [`crate::MAX_LINE`] (a stream saved on a single line) is read in pieces, so
//! every entry of it is read whatever its length; an entry larger than 32 MiB, or JSON nested
//! deeper than 512 levels, is not read, and that is an error of the scan.
//!
//! [`Action::Ban`]: crate::event::Action::Ban
//! [`Action::Listed`]: crate::event::Action::Listed
//! [`Action::Unban`]: crate::event::Action::Unban
//! [`Action::Deny`]: crate::event::Action::Deny

pub mod api_log;
pub mod bouncer_log;
mod csv;
pub mod db;
mod decision;
mod json;
mod json_shape;
pub mod log;
pub mod table;
mod time;

use super::registry::{Detection, FormatDescriptor, Reader};
use crate::event::Tool;
use std::path::Path;

use super::Format;
use csv::CsvKind;
use json_shape::json_shape;

pub use api_log::{looks_like_api_log, CrowdsecApiLogParser};
pub use bouncer_log::{looks_like_bouncer_log, CrowdsecBouncerLogParser};
pub use csv::CrowdsecCsvParser;
pub use json::CrowdsecJsonParser;
pub use log::{looks_like_log, CrowdsecLogParser};
pub use table::CrowdsecTableParser;
#[cfg(test)]
pub use {
    csv::split_csv,
    log::{parse_log_time, parse_message, split_entry},
    time::{parse_go_duration, parse_time},
};

/// The scope suffix that marks a `captcha` decision: a challenge, reported apart from the
/// bans of the same scenario.
pub const CAPTCHA_SUFFIX: &str = " (captcha)";

/// The duration `cscli decisions import` gives an entry without one.
const IMPORT_DEFAULT_DURATION: &str = "4h";

/// The largest JSON entry (one alert with its events) or CSV record read.
const MAX_ENTRY: usize = 32 << 20;
/// The largest CSV record (quoted fields may span lines).
const MAX_RECORD: usize = 1 << 20;

/// Decides whether a file is CrowdSec's log ([`looks_like_log`]), a `cscli decisions list`
/// table, CrowdSec JSON or CSV, from
/// its first bytes (and, for the log and for the empty answers `[]` and `null`, its name).
///
/// JSON must have one of the shapes CrowdSec writes: an array whose first element is an
/// alert (a `decisions` key beside alert keys, or `scenario` + `source` + alert keys) or a
/// decision (`value` + `scope`/`type` + `scenario`/`reason`/`duration`/`origin`/`until`), or
/// an object whose keys are only `new` and `deleted`, holding arrays or `null`. CSV is told by
/// its header.
pub fn detect(path: &Path, head: &[u8]) -> Option<Format> {
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    if looks_like_api_log(path, text) {
        return Some(Format::CrowdsecApiLog);
    }
    if looks_like_log(path, text) {
        return Some(Format::CrowdsecLog);
    }
    let text = text.trim_ascii_start();
    if table::looks_like_table(text) {
        return Some(Format::CrowdsecTable);
    }
    match text.first() {
        Some(b'[') | Some(b'{') | Some(b'n') => {
            json_shape(text, path).then_some(Format::CrowdsecJson)
        }
        Some(_) => {
            let first = text.split(|&b| b == b'\n').next().unwrap_or(b"");
            let first = first.strip_suffix(b"\r").unwrap_or(first);
            CsvKind::from_header(first).map(|_| Format::CrowdsecCsv)
        }
        None => None,
    }
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// CrowdSec JSON: `cscli decisions list -o json`, alerts, the decision stream, import files.
    pub const CrowdsecJson: Format = Format::builtin(30, "crowdsec-json");
    /// CrowdSec CSV: `cscli decisions list -o raw` and import files.
    pub const CrowdsecCsv: Format = Format::builtin(31, "crowdsec-csv");
    /// CrowdSec's own log (`/var/log/crowdsec.log`, rotated and compressed copies): the decisions
    /// the Local API stored, one line each.
    pub const CrowdsecLog: Format = Format::builtin(32, "crowdsec-log");
    /// The table `cscli decisions list` or `cscli alerts list` prints by default (human
    /// output).
    pub const CrowdsecTable: Format = Format::builtin(33, "crowdsec-table");
    /// The Local API's access log (`/var/log/crowdsec_api.log`): the deletions `cscli
    /// decisions delete` asked for.
    pub const CrowdsecApiLog: Format = Format::builtin(36, "crowdsec-api-log");
    /// CrowdSec's SQLite database (`/var/lib/crowdsec/data/crowdsec.db`): its `decisions`.
    pub const CrowdsecDb: Format = Format::builtin(37, "crowdsec-db");
    /// crowdsec-firewall-bouncer's log (`/var/log/crowdsec-firewall-bouncer.log`): the
    /// addresses it added to and removed from the firewall (at level debug).
    pub const CrowdsecBouncerLog: Format = Format::builtin(38, "crowdsec-firewall-bouncer-log");
}

/// The longest line of CrowdSec JSON read: a decision stream or `cscli decisions list -o json`
/// saved on one line (some 250 bytes a decision, so 2 million decisions); a longer line is cut
/// there, and that is an error of the scan.
pub const MAX_JSON_LINE: usize = 512 << 20;

/// CrowdSec JSON.
pub(crate) const JSON: FormatDescriptor = FormatDescriptor::new(
    Format::CrowdsecJson,
    &[Tool::Crowdsec],
    "CrowdSec decisions/alerts JSON",
    |ctx| Box::new(CrowdsecJsonParser::new(ctx)),
)
.long_lines_in_pieces(MAX_JSON_LINE)
.usual_paths(&["(saved output of cscli decisions list -o json)"])
.detected_by(&[Detection::text(230, |path, head| {
    detect(path, head) == Some(Format::CrowdsecJson)
})]);

/// CrowdSec CSV.
pub(crate) const CSV: FormatDescriptor = FormatDescriptor::new(
    Format::CrowdsecCsv,
    &[Tool::Crowdsec],
    "CrowdSec decisions CSV",
    |ctx| Box::new(CrowdsecCsvParser::new(ctx)),
)
.usual_paths(&["(saved output of cscli decisions list -o raw)"])
.detected_by(&[Detection::text(230, |path, head| {
    detect(path, head) == Some(Format::CrowdsecCsv)
})]);

/// `crowdsec.log`.
pub(crate) const LOG: FormatDescriptor = FormatDescriptor::new(
    Format::CrowdsecLog,
    &[Tool::Crowdsec],
    "CrowdSec log crowdsec.log: decisions the Local API stored",
    |ctx| Box::new(CrowdsecLogParser::new(ctx)),
)
.usual_paths(&["/var/log/crowdsec.log"])
.detected_by(&[Detection::text(230, |path, head| {
    detect(path, head) == Some(Format::CrowdsecLog)
})])
.searched_for(|| &log::WORDS);

/// `crowdsec_api.log`.
pub(crate) const API_LOG: FormatDescriptor = FormatDescriptor::new(
    Format::CrowdsecApiLog,
    &[Tool::Crowdsec],
    "CrowdSec Local API access log crowdsec_api.log: decision deletions (cscli decisions delete)",
    |ctx| Box::new(CrowdsecApiLogParser::new(ctx)),
)
.usual_paths(&["/var/log/crowdsec_api.log"])
.detected_by(&[Detection::text(229, |path, head| {
    detect(path, head) == Some(Format::CrowdsecApiLog)
})])
.searched_for(|| &api_log::WORDS);

/// The `cscli decisions list` and `cscli alerts list` tables.
pub(crate) const TABLE: FormatDescriptor = FormatDescriptor::new(
    Format::CrowdsecTable,
    &[Tool::Crowdsec],
    "cscli decisions list / cscli alerts list table (human output)",
    |ctx| Box::new(CrowdsecTableParser::new(ctx)),
)
.usual_paths(&["(saved output of cscli decisions list or cscli alerts list)"])
.detected_by(&[Detection::text(230, |path, head| {
    detect(path, head) == Some(Format::CrowdsecTable)
})]);

/// CrowdSec's SQLite database: the decisions the Local API holds (see [`db`]). A database
/// that cannot be opened under CrowdSec's name is still CrowdSec's: its reader then names the
/// file in an error instead of skipping it.
pub(crate) const DB: FormatDescriptor = FormatDescriptor::read_as(
    Format::CrowdsecDb,
    &[Tool::Crowdsec],
    "CrowdSec SQLite database crowdsec.db: decisions (read-only)",
    Reader::Sqlite(db::read_database),
)
.usual_paths(&["/var/lib/crowdsec/data/crowdsec.db"])
.detected_by(&[
    Detection::sqlite(115, db::looks_like_db),
    Detection::sqlite(135, |path, _| super::lower_file_name(path) == "crowdsec.db"),
]);

/// crowdsec-firewall-bouncer's log (see [`bouncer_log`]).
pub(crate) const BOUNCER_LOG: FormatDescriptor = FormatDescriptor::new(
    Format::CrowdsecBouncerLog,
    &[Tool::Crowdsec],
    "crowdsec-firewall-bouncer log: addresses added and removed (level debug; counts only at info)",
    |ctx| Box::new(CrowdsecBouncerLogParser::new(ctx)),
)
.usual_paths(&["/var/log/crowdsec-firewall-bouncer.log"])
.detected_by(&[Detection::text(228, looks_like_bouncer_log)]);

#[cfg(test)]
mod tests;

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn detect() {
        use crate::formats::{crowdsec, Format};
        use std::path::Path;
        let raw =
            b"id,source,ip,reason,action,country,as,events_count,expiration,simulated,alert_id\n";
        assert_eq!(
            crowdsec::detect(Path::new("/tmp/x.csv"), raw),
            Some(Format::CrowdsecCsv)
        );
        let stream = br#"{"new":[{"duration":"3h","origin":"crowdsec","scenario":"crowdsecurity/ssh-bf","scope":"Ip","type":"ban","value":"192.0.2.1"}],"deleted":null}"#;
        assert_eq!(
            crowdsec::detect(Path::new("/tmp/x"), stream),
            Some(Format::CrowdsecJson)
        );
        assert_eq!(
            crowdsec::detect(Path::new("/tmp/x.json"), br#"[{"ip": "192.0.2.1"}]"#),
            None
        );
    }
}
