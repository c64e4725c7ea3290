//! A decision, whatever its source (JSON or CSV), and the [`Emitter`] that turns it into an
//! event: its network, scope, end and action.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{NaiveDateTime, TimeDelta};
use ipnet::IpNet;

use super::time::{parse_go_duration, parse_time};
use super::{ALERT_SUFFIX, CAPTCHA_SUFFIX};
use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::{Format, ParseCtx, Sink};

/// One decision as read from any of the formats.
#[derive(Debug, Default)]
pub(super) struct Decision<'a> {
    pub(super) scope: &'a str,
    pub(super) value: &'a str,
    pub(super) kind: &'a str,
    pub(super) scenario: &'a str,
    pub(super) simulated: bool,
    pub(super) time: Option<NaiveDateTime>,
    pub(super) until: Option<&'a str>,
    /// The end, when the source gives it as a time already (the log: its time + duration).
    pub(super) expires: Option<NaiveDateTime>,
    pub(super) duration: Option<&'a str>,
    pub(super) action: Option<Action>,
    /// A line of `cscli alerts list -o raw`.
    pub(super) alert: bool,
}

/// What decisions of one file share: where they come from, and what was skipped.
pub(super) struct Emitter {
    pub(super) path: Arc<Path>,
    format: Format,
    reference: NaiveDateTime,
    now: NaiveDateTime,
    other_scopes: BTreeMap<String, u64>,
    other_types: BTreeMap<String, u64>,
    /// Simulated decisions: bouncers never apply them (not reported).
    pub(super) simulated: u64,
    /// Alerts of `cscli alerts list -o raw` whose only decisions are captchas (not reported).
    pub(super) challenges: u64,
    /// The alerts a decision listing's rows belong to (their ids; a row without one counts as
    /// an alert of its own).
    alerts: HashSet<String>,
    rows: u64,
}

/// How many alerts `cscli decisions list` lists unless told otherwise (`--limit`, 100 by
/// default; `-a` lifts it): a listing that holds as many may have been cut.
const CSCLI_LIST_LIMIT: usize = 100;

impl Emitter {
    pub(super) fn new(ctx: &ParseCtx, format: Format) -> Self {
        Emitter {
            path: ctx.path.clone(),
            format,
            reference: ctx.reference,
            now: ctx.now,
            other_scopes: BTreeMap::new(),
            other_types: BTreeMap::new(),
            simulated: 0,
            challenges: 0,
            alerts: HashSet::new(),
            rows: 0,
        }
    }

    /// The end of a decision from its remaining duration.
    fn expiry(&self, duration: &str) -> Option<NaiveDateTime> {
        let d = parse_go_duration(duration)?;
        let base = if d < TimeDelta::zero() {
            self.reference.min(self.now)
        } else {
            self.reference
        };
        base.checked_add_signed(d)
    }

    /// The network and scope a decision acts on, or `None` when it is not an address ban
    /// (counted) or cannot be read (reported).
    pub(super) fn target(
        &mut self,
        d: &Decision<'_>,
        line: u64,
        sink: &mut dyn Sink,
    ) -> Option<IpNet> {
        let scope = d.scope.trim();
        if !(scope.eq_ignore_ascii_case("ip") || scope.eq_ignore_ascii_case("range")) {
            let name = if scope.is_empty() { "(none)" } else { scope };
            *self.other_scopes.entry(name.to_string()).or_default() += 1;
            return None;
        }
        let net = parse_net(d.value.trim().as_bytes());
        if net.is_none() {
            sink.malformed(
                line,
                format!(
                    "CrowdSec decision of scope {scope} whose value is not an address: {:?}",
                    truncate(d.value)
                ),
            );
        }
        net
    }

    /// The scope (scenario, marked for an alert or a captcha) of a decision.
    pub(super) fn scope(d: &Decision<'_>) -> String {
        let scenario = d.scenario.trim();
        let mut scope = if scenario.is_empty() {
            "crowdsec"
        } else {
            scenario
        }
        .to_string();
        if d.alert {
            scope.push_str(ALERT_SUFFIX);
        }
        if is_captcha(d.kind) {
            scope.push_str(CAPTCHA_SUFFIX);
        }
        scope
    }

    /// Emits one decision.
    pub(super) fn emit(&mut self, d: &Decision<'_>, line: u64, sink: &mut dyn Sink) {
        if let Some(net) = self.target(d, line, sink) {
            self.emit_net(d, net, line, sink);
        }
    }

    /// Emits one decision whose network was read by [`Emitter::target`].
    pub(super) fn emit_net(
        &mut self,
        d: &Decision<'_>,
        net: IpNet,
        line: u64,
        sink: &mut dyn Sink,
    ) {
        // A simulated decision is never applied: the Local API leaves it out of what bouncers
        // pull. Counted in a note only (a deletion of one changes nothing either).
        if d.simulated {
            if d.action != Some(Action::Unban) {
                self.simulated += 1;
            }
            return;
        }
        // A captcha is a challenge (see the module docs): reported apart from bans. Other
        // types than ban are remediations some bouncer applies: they count as blocks, named
        // in a note.
        let kind = d.kind.trim();
        let challenge = is_captcha(kind);
        if !(challenge || kind.is_empty() || kind.eq_ignore_ascii_case("ban")) {
            *self
                .other_types
                .entry(truncate(kind).to_string())
                .or_default() += 1;
        }
        let action = d.action.unwrap_or(Action::Listed);
        let expires = d
            .expires
            .or_else(|| d.until.and_then(parse_time))
            .or_else(|| d.duration.and_then(|s| self.expiry(s)));
        sink.event(
            BanEvent::new(
                net,
                Tool::Crowdsec,
                self.format,
                Self::scope(d),
                action,
                Location::new(self.path.clone(), line),
            )
            .at(d.time)
            .until(expires)
            .challenge(challenge),
        );
    }

    /// Counts a row of a decision listing, of the alert `id` (empty: unknown).
    pub(super) fn listed_row(&mut self, id: &str) {
        self.rows += 1;
        let id = id.trim();
        if !id.is_empty() && self.alerts.len() <= CSCLI_LIST_LIMIT {
            self.alerts.insert(id.to_string());
        }
    }

    /// Says that the input, a `cscli decisions list`, is the whole list of CrowdSec's
    /// decisions in force when it was written ([`Sink::whole_list`]); unless it holds as many
    /// alerts as `cscli` lists by default, where it may have been cut.
    pub(super) fn whole_list(&self, sink: &mut dyn Sink) {
        let alerts = if self.alerts.is_empty() {
            usize::try_from(self.rows).unwrap_or(usize::MAX)
        } else {
            self.alerts.len()
        };
        if alerts >= CSCLI_LIST_LIMIT {
            sink.note(format!(
                "a decision listing of {CSCLI_LIST_LIMIT} alerts or more: cscli decisions list \
                 stops at {CSCLI_LIST_LIMIT} unless given --limit 0 or -a, so decisions it does \
                 not hold may still stand"
            ));
        } else {
            sink.whole_list(Tool::Crowdsec);
        }
    }

    /// Notes on what was skipped or marked.
    pub(super) fn notes(&mut self, sink: &mut dyn Sink) {
        if !self.other_scopes.is_empty() {
            let list: Vec<String> = self
                .other_scopes
                .iter()
                .map(|(scope, n)| format!("{n} of scope {scope}"))
                .collect();
            sink.note(format!(
                "decisions that are not address bans (skipped): {}",
                list.join(", ")
            ));
        }
        if !self.other_types.is_empty() {
            let list: Vec<String> = self
                .other_types
                .iter()
                .map(|(kind, n)| format!("{n} {kind}"))
                .collect();
            sink.note(format!(
                "decisions of types other than ban and captcha, counted as blocks: {}",
                list.join(", ")
            ));
        }
        if self.challenges > 0 {
            sink.note(format!(
                "{} alert(s) whose only decisions were captchas: history of challenges, not \
                 reported",
                self.challenges
            ));
        }
        if self.simulated > 0 {
            sink.note(format!(
                "{} simulated decision(s) (not applied by bouncers): not reported",
                self.simulated
            ));
        }
    }
}

/// Whether a decision type is `captcha` (in any case).
fn is_captcha(kind: &str) -> bool {
    kind.trim().eq_ignore_ascii_case("captcha")
}

/// The first characters of a text, for messages.
pub(super) fn truncate(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
