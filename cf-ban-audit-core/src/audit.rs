//! Joins [`BanEvent`]s with a [`RangeSet`] into findings. Events of addresses outside the set
//! are counted and dropped at once, so memory grows with the number of distinct
//! (tool, format, scope, network) keys that hit a range, never with the input.
//!
//! State is replayed per source (tool, scope, address, format, live or not) in time order (ties
//! broken by the rotation number of the file, older files first, then path and line), so a
//! `Ban` in `fail2ban.log.2.gz` followed by an `Unban` in `fail2ban.log` is lifted, whatever
//! order the files were read in. Each source's last word is then a [`Claim`], and the claims
//! of one ban are joined into one finding by [`crate::verdict`].

use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;
use ipnet::IpNet;

use crate::diagnose::Evidence;
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::{Format, Membership, Reader, Registry};
use crate::ranges::RangeSet;
use crate::report::{printable_line, Authority, BanState, Finding};
use crate::verdict::{Claim, LiveCover, Policy, SavedCover};

/// How many locations a finding keeps: the earliest half and the latest half.
const MAX_LOCATIONS: usize = 16;

/// How much of a line a source keeps as its text.
const MAX_TEXT: usize = 240;

/// What identifies a source of evidence about a ban.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    tool: Tool,
    scope: String,
    net: IpNet,
    format: Format,
    /// Read live during this scan (`scan --live`), not from a file.
    live: bool,
}

/// The map of the sources seen. Its keys hold what a log line wrote (addresses, scopes), so
/// its hasher is seeded at random (foldhash: much faster than the standard library's SipHash
/// on keys this short, and still not to be flooded by keys chosen without knowing the seed).
type KeyMap = HashMap<Key, Aggregate, foldhash::fast::RandomState>;

/// The position of an event in the replay order.
type Order = (Option<NaiveDateTime>, Reverse<u32>, Arc<Path>, u64);

#[derive(Debug, Clone)]
struct Aggregate {
    first_seen: Option<NaiveDateTime>,
    last_seen: Option<NaiveDateTime>,
    bans: u64,
    /// The last event: its place in the order, what it did, its expiry, its line, whether
    /// its source said it is permanent, and whether it is a challenge.
    last: (
        Order,
        Action,
        Option<NaiveDateTime>,
        Option<Box<str>>,
        bool,
        bool,
    ),
    /// The ban as its tool names it, by the last event that said.
    spec: Option<Box<str>>,
    /// The latest last change of the files the events were read from.
    as_of: Option<NaiveDateTime>,
    /// Where the bans were, sorted and distinct: the earliest and the latest
    /// [`MAX_LOCATIONS`]` / 2`. The path and line of a location are those of its [`Order`],
    /// so each is held once, and the vector never holds more than `MAX_LOCATIONS + 1`.
    locations: Vec<Order>,
}

/// Adds a ban's place to a finding's locations, keeping the ends (see [`Aggregate`]).
fn keep_location(locations: &mut Vec<Order>, order: Order) {
    if let Some(same) = locations
        .iter_mut()
        .find(|o| o.3 == order.3 && o.2 == order.2)
    {
        // One place is listed once, at its earliest order.
        if order < *same {
            *same = order;
            locations.sort();
        }
        return;
    }
    let at = locations.binary_search(&order).unwrap_or_else(|at| at);
    if locations.len() == locations.capacity() {
        let want = (locations.capacity() * 2).clamp(4, MAX_LOCATIONS + 1);
        locations.reserve_exact(want - locations.len());
    }
    locations.insert(at, order);
    if locations.len() > MAX_LOCATIONS {
        // Sorted, one too many: the middle one is neither among the earliest nor the latest.
        locations.remove(MAX_LOCATIONS / 2);
    }
}

fn min_time(a: Option<NaiveDateTime>, b: Option<NaiveDateTime>) -> Option<NaiveDateTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Aggregate {
    fn merge(&mut self, other: Aggregate) {
        self.first_seen = min_time(self.first_seen, other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
        self.bans += other.bans;
        self.as_of = self.as_of.max(other.as_of);
        // At equal places (one line read twice: by itself and through an include), the
        // one that kept its text, for the same answer in any order.
        if (&other.last.0, other.last.3.is_some()) > (&self.last.0, self.last.3.is_some()) {
            self.last = other.last;
            if other.spec.is_some() {
                self.spec = other.spec;
            }
        } else if self.spec.is_none() {
            self.spec = other.spec;
        }
        if self.locations.len() < other.locations.len() {
            let mine = std::mem::replace(&mut self.locations, other.locations);
            for order in mine {
                keep_location(&mut self.locations, order);
            }
        } else {
            for order in other.locations {
                keep_location(&mut self.locations, order);
            }
        }
    }
}

/// Collects the events that hit a [`RangeSet`], per key, for one file or for a whole scan.
#[derive(Debug)]
pub struct Aggregator<'r> {
    ranges: &'r RangeSet,
    rank: u32,
    map: KeyMap,
    events: u64,
    hits: u64,
    evidence: Evidence,
    /// Events come from a live read.
    live: bool,
    /// The last change of the file the events come from.
    as_of: Option<NaiveDateTime>,
    /// The live listings read in full, and what each covers.
    covers: Vec<LiveCover>,
    /// The saved listings read in full.
    saved: Vec<SavedCover>,
    /// Events whose network is every address (`0.0.0.0/0`, `::/0`), dropped.
    catch_all: u64,
}

impl<'r> Aggregator<'r> {
    /// An empty aggregator. `rank` is the rotation number of the file the events come from
    /// (`fail2ban.log.2.gz` is 2): higher is older, for events of equal time.
    pub fn new(ranges: &'r RangeSet, rank: u32) -> Self {
        Aggregator {
            ranges,
            rank,
            map: KeyMap::default(),
            events: 0,
            hits: 0,
            evidence: Evidence::default(),
            live: false,
            as_of: None,
            covers: Vec::new(),
            saved: Vec::new(),
            catch_all: 0,
        }
    }

    /// This aggregator, for the events of a live read (`live`) or of a file last changed at
    /// `as_of`.
    pub fn source(mut self, live: bool, as_of: Option<NaiveDateTime>) -> Self {
        self.live = live;
        self.as_of = as_of;
        self
    }

    /// Records that a live listing was read in full: a ban of its tool that it does not hold
    /// is not in force.
    pub fn cover(&mut self, cover: LiveCover) {
        self.covers.push(cover);
    }

    /// Records that a saved listing was read in full: as of its last change, a ban of its tool
    /// of an address it does not hold is not in force.
    pub fn saved_cover(&mut self, cover: SavedCover) {
        self.saved.push(cover);
    }

    /// Adds an event; it is kept only if its network overlaps the ranges.
    #[cfg(test)]
    pub fn add(&mut self, ev: BanEvent) {
        self.add_read(ev, None)
    }

    /// Adds an event read from `line` (the bytes of the line it was read from, when it was
    /// read from one line); it is kept only if its network overlaps the ranges.
    ///
    /// An event on every address (`0.0.0.0/0`, `::/0`: a prefix of 0, whatever the tool) is
    /// dropped and counted ([`Aggregator::catch_all`]): a rule that matches every source
    /// (csf's port filter `tcp|in|d=3306|s=0.0.0.0/0`, `ip saddr 0.0.0.0/0 tcp dport 3306
    /// drop`, ufw's `DENY Anywhere`) is a policy for a port or a service, not a ban of
    /// Cloudflare; the doctor judges such firewall rules per port.
    pub fn add_read(&mut self, ev: BanEvent, line: Option<&[u8]>) {
        self.events += 1;
        if ev.net.prefix_len() == 0 {
            self.catch_all += 1;
            return;
        }
        self.evidence.observe(&ev, self.ranges);
        if !self.ranges.overlaps(&ev.net) {
            return;
        }
        self.hits += 1;
        let order: Order = (
            ev.time,
            Reverse(self.rank),
            ev.location.path,
            ev.location.line,
        );
        let is_ban = ev.action.is_ban();
        let time = if is_ban { ev.time } else { None };
        let key = Key {
            tool: ev.tool,
            scope: ev.scope,
            net: ev.net,
            format: ev.format,
            live: self.live,
        };
        // One lookup: a new key is inserted where it was looked for.
        let slot = self.map.entry(key);
        // The line's text is made only when it would be kept: the event is the key's first,
        // or comes after its last (see `Aggregate::merge`).
        let kept = match &slot {
            Entry::Occupied(known) => {
                let agg = known.get();
                (&order, line.is_some()) > (&agg.last.0, agg.last.3.is_some())
            }
            Entry::Vacant(_) => true,
        };
        let text = line
            .filter(|_| kept)
            .map(|l| printable_line(l, MAX_TEXT).into_boxed_str());
        let fresh = Aggregate {
            first_seen: time,
            last_seen: time,
            bans: u64::from(is_ban),
            last: (
                order.clone(),
                ev.action,
                ev.expires,
                text,
                ev.permanent,
                ev.challenge,
            ),
            spec: ev.spec.map(String::into_boxed_str),
            as_of: self.as_of,
            locations: if is_ban { vec![order] } else { Vec::new() },
        };
        match slot {
            Entry::Occupied(known) => known.into_mut().merge(fresh),
            Entry::Vacant(new) => {
                new.insert(fresh);
            }
        }
    }

    /// Whether [`Aggregator::add_read`] would keep nothing of an event of `tool` on `net`
    /// without a peer but its count: not on every address, no Cloudflare address, and not
    /// a fail2ban ban (whose visitor addresses the diagnoses count).
    pub fn counts_only(&self, net: &IpNet, tool: Tool) -> bool {
        tool != Tool::Fail2ban && self.jail_counts_only(net)
    }

    /// Counts an event of which [`Aggregator::counts_only`] said nothing else is kept.
    pub fn count(&mut self) {
        self.events += 1;
    }

    /// Whether [`Aggregator::add_read`] would keep nothing of a fail2ban jail's ban or unban
    /// on `net` without a peer but its count and, for a ban, the jail's count of visitor bans
    /// ([`Evidence::visitor_ban`]): not on every address, no address of the ranges.
    pub fn jail_counts_only(&self, net: &IpNet) -> bool {
        net.prefix_len() != 0 && !self.ranges.overlaps(net)
    }

    /// Counts a fail2ban jail's `action` on `net` at `time` of which
    /// [`Aggregator::jail_counts_only`] said nothing else is kept: the event and, for a ban,
    /// one more visitor ban of the jail.
    pub fn count_jail(
        &mut self,
        jail: &str,
        net: &IpNet,
        action: Action,
        time: Option<NaiveDateTime>,
    ) {
        self.events += 1;
        if action.is_ban() {
            self.evidence.visitor_ban(jail, net, time);
        }
    }

    /// Adds `by` to every line number recorded for `path`: the events of a chunk of a split
    /// file were numbered from the chunk's start.
    pub fn shift_lines(&mut self, path: &Path, by: u64) {
        if by == 0 {
            return;
        }
        for agg in self.map.values_mut() {
            if *agg.last.0 .2 == *path {
                agg.last.0 .3 += by;
            }
            for order in &mut agg.locations {
                if *order.2 == *path {
                    order.3 += by;
                }
            }
        }
        self.evidence.shift_lines(path, by);
    }

    /// Events on every address (`0.0.0.0/0`, `::/0`) that were dropped: policies, not bans.
    pub fn catch_all(&self) -> u64 {
        self.catch_all
    }

    /// Events added, and how many of them hit the ranges.
    #[cfg(test)]
    pub fn counts(&self) -> (u64, u64) {
        (self.events, self.hits)
    }

    /// Adds everything another aggregator collected.
    pub fn merge(&mut self, other: Aggregator<'_>) {
        self.events += other.events;
        self.hits += other.hits;
        self.catch_all += other.catch_all;
        self.evidence.merge(other.evidence);
        self.covers.extend(other.covers);
        self.saved.extend(other.saved);
        // Merge the smaller map into the larger: the larger is not grown (rehashed) again.
        let mut other = other.map;
        if self.map.len() < other.len() {
            std::mem::swap(&mut self.map, &mut other);
        }
        for (key, agg) in other {
            match self.map.entry(key) {
                Entry::Occupied(mine) => mine.into_mut().merge(agg),
                Entry::Vacant(new) => {
                    new.insert(agg);
                }
            }
        }
    }

    /// What was seen beyond the findings, for diagnoses.
    pub fn evidence(&self) -> &Evidence {
        &self.evidence
    }

    /// Records that a rule uses a set with a verdict (see [`Evidence::set_use`]).
    pub fn set_use(&mut self, set: &str, verdict: crate::formats::Verdict) {
        self.evidence.set_use(set, verdict);
    }

    /// Records that a list of sets holds a set (see [`Evidence::set_member`]).
    pub fn set_member(&mut self, list: &str, member: &str) {
        self.evidence.set_member(list, member);
    }

    /// Counts one access log record (see [`crate::formats::Sink::access_client`]).
    pub fn access_client(
        &mut self,
        path: &Arc<Path>,
        line: u64,
        client: std::net::IpAddr,
        status: u16,
    ) {
        self.evidence
            .access
            .record(path, line, client, status, self.ranges);
    }

    /// Records a web server's real-IP configuration.
    pub fn realip_config(&mut self, config: crate::web_evidence::RealIpConfig) {
        self.evidence.realip.push(config);
    }

    /// The findings: one per (tool, scope, address) with at least one ban, in that order.
    /// `now` decides whether timed bans have expired.
    #[cfg(test)]
    pub fn findings(self, now: NaiveDateTime) -> Vec<Finding> {
        self.findings_with(now, Registry::builtin(), &crate::verdict::NoPolicy)
    }

    /// [`Aggregator::findings`], with the set membership and the reader of each format taken
    /// from `registry` (the scanner's, which holds an embedder's formats too) and what the
    /// tools' configurations say from `policy`.
    pub fn findings_with(
        self,
        now: NaiveDateTime,
        registry: &Registry,
        policy: &dyn Policy,
    ) -> Vec<Finding> {
        let ranges = self.ranges;
        let covers = self.covers;
        let saved = self.saved;
        let claims = claims(self.map, &self.evidence, now, registry);
        crate::verdict::findings(claims, &covers, &saved, ranges, now, policy)
    }
}

/// What each source says: its events replayed in order.
fn claims(map: KeyMap, evidence: &Evidence, now: NaiveDateTime, registry: &Registry) -> Vec<Claim> {
    // Unbans that name no scope (lfd's "temporary block removed", CrowdSec's deletion of a
    // decision by the console) lift the address in every scope of the same tool and format,
    // when they come after the scope's last event: a challenge's unban lifts challenges only,
    // another unban the other bans only.
    let mut lifted_everywhere: HashMap<(Tool, IpNet, Format, bool), Order> = HashMap::new();
    for (key, agg) in &map {
        if key.scope.is_empty() && agg.last.1 == Action::Unban {
            lifted_everywhere.insert(
                (key.tool, key.net, key.format, agg.last.5),
                agg.last.0.clone(),
            );
        }
    }
    map.into_iter()
        .filter(|(key, agg)| {
            let membership = registry
                .get(key.format)
                .map_or(Membership::None, |d| d.set_membership());
            // A scope-less unban of CrowdSec (a deletion that names no scenario) is a claim of
            // its own, which the verdict joins to the address's findings of any format.
            let crowdsec_deletion =
                key.tool == Tool::Crowdsec && crate::verdict::crowdsec_any_scenario(&key.scope);
            (!(key.scope.is_empty() && agg.bans == 0) || crowdsec_deletion)
                && (membership == Membership::None
                    || evidence.set_bans(&key.scope, membership == Membership::ByRulesOrName))
        })
        .map(|(key, agg)| {
            let lifted = lifted_everywhere
                .get(&(key.tool, key.net, key.format, agg.last.5))
                .is_some_and(|unban| *unban > agg.last.0);
            let (order, action, expires, text, permanent, challenge) = agg.last;
            let state = if lifted || action == Action::Unban {
                BanState::Lifted
            } else if action == Action::Deny {
                BanState::Denied
            } else if expires.is_some_and(|e| e <= now) {
                BanState::Expired
            } else if challenge {
                BanState::Challenge
            } else {
                BanState::Active
            };
            let database = registry
                .get(key.format)
                .is_some_and(|d| matches!(d.reader(), Reader::Sqlite(_)));
            let authority = if key.live {
                Authority::Live
            } else if database {
                Authority::Database
            } else if action == Action::Listed {
                Authority::Saved
            } else {
                Authority::Log
            };
            let (time, _, path, line) = order;
            Claim {
                tool: key.tool,
                scope: key.scope,
                net: key.net,
                format: key.format,
                authority,
                action: if lifted { Action::Unban } else { action },
                state,
                time,
                last_ban: agg.last_seen,
                first_seen: agg.first_seen,
                expires: if action.is_ban() { expires } else { None },
                permanent: permanent && action.is_ban(),
                as_of: agg.as_of,
                bans: agg.bans,
                locations: agg
                    .locations
                    .into_iter()
                    .map(|(time, _, path, line)| (time, Location { path, line }))
                    .collect(),
                at: Location { path, line },
                text,
                spec: agg.spec,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn t(h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    fn ev(addr: &str, action: Action, time: u32, path: &str, line: u64) -> BanEvent {
        BanEvent {
            net: addr.parse().unwrap(),
            tool: Tool::Fail2ban,
            format: Format::Fail2banLog,
            scope: "sshd".into(),
            peer: None,
            action,
            time: Some(t(time)),
            expires: None,
            permanent: false,
            challenge: false,
            location: Location {
                path: Arc::from(Path::new(path)),
                line,
            },
            spec: None,
        }
    }

    #[test]
    fn replay_across_files_in_time_order() {
        let cf = crate::cloudflare::embedded();
        // The newer file is read first: its Unban must still win.
        let mut newer = Aggregator::new(&cf, 0);
        newer.add(ev("104.16.0.1/32", Action::Unban, 5, "fail2ban.log", 1));
        let mut older = Aggregator::new(&cf, 1);
        older.add(ev("104.16.0.1/32", Action::Ban, 4, "fail2ban.log.1", 9));
        older.add(ev("192.0.2.1/32", Action::Ban, 4, "fail2ban.log.1", 10));
        newer.merge(older);
        assert_eq!(newer.counts(), (3, 2));
        let f = newer.findings(t(6));
        assert_eq!(f.len(), 1);
        assert!(!f[0].active);
        assert_eq!(f[0].events, 1);
        assert_eq!(f[0].range.to_string(), "104.16.0.0/13");
    }

    #[test]
    fn only_unbans_are_no_finding_and_locations_are_capped() {
        let cf = crate::cloudflare::embedded();
        let mut agg = Aggregator::new(&cf, 0);
        agg.add(ev("104.16.0.2/32", Action::Unban, 1, "a", 1));
        for i in 0..100 {
            agg.add(ev("104.16.0.3/32", Action::Ban, 1, "a", i + 2));
        }
        let f = agg.findings(t(2));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].events, 100);
        assert_eq!(f[0].state, BanState::Unconfirmed);
        let lines: Vec<u64> = f[0].locations.iter().map(|l| l.line).collect();
        assert_eq!(
            lines,
            [2, 3, 4, 5, 6, 7, 8, 9, 94, 95, 96, 97, 98, 99, 100, 101]
        );
    }

    #[test]
    fn each_finding_says_where_its_ban_stands() {
        let cf = crate::cloudflare::embedded();
        let state = |events: Vec<BanEvent>, now: u32| {
            let mut agg = Aggregator::new(&cf, 0);
            for e in events {
                agg.add(e);
            }
            let f = agg.findings(t(now));
            (f[0].state, f[0].active)
        };
        // A log line alone, with nothing to say how long the ban lasts: possibly in force.
        assert_eq!(
            state(vec![ev("104.16.0.1/32", Action::Ban, 1, "a", 1)], 2),
            (BanState::Unconfirmed, false)
        );
        let mut timed = ev("104.16.0.1/32", Action::Ban, 1, "a", 1);
        timed.expires = Some(t(3));
        assert_eq!(state(vec![timed], 2), (BanState::Active, true));
        assert_eq!(
            state(
                vec![
                    ev("104.16.0.1/32", Action::Ban, 1, "a", 1),
                    ev("104.16.0.1/32", Action::Unban, 2, "a", 2)
                ],
                3
            ),
            (BanState::Lifted, false)
        );
        let mut timed = ev("104.16.0.1/32", Action::Ban, 1, "a", 1);
        timed.expires = Some(t(2));
        assert_eq!(state(vec![timed], 3), (BanState::Expired, false));
        // A one-off refusal was never lifted.
        assert_eq!(
            state(vec![ev("104.16.0.1/32", Action::Deny, 1, "a", 1)], 2),
            (BanState::Denied, false)
        );
    }

    #[test]
    fn expired_timed_bans_are_not_active() {
        let cf = crate::cloudflare::embedded();
        let mut agg = Aggregator::new(&cf, 0);
        let mut e = ev("104.16.0.4/32", Action::Listed, 1, "db", 0);
        e.expires = Some(t(3));
        agg.add(e);
        assert!(agg.findings(t(2))[0].active);
        let mut agg = Aggregator::new(&cf, 0);
        let mut e = ev("104.16.0.4/32", Action::Listed, 1, "db", 0);
        e.expires = Some(t(3));
        agg.add(e);
        assert!(!agg.findings(t(4))[0].active);
    }

    #[test]
    fn an_unban_without_scope_lifts_every_scope() {
        let cf = crate::cloudflare::embedded();
        let mut agg = Aggregator::new(&cf, 0);
        agg.add(ev("104.16.0.5/32", Action::Ban, 1, "lfd.log", 1));
        let mut unban = ev("104.16.0.5/32", Action::Unban, 2, "lfd.log", 2);
        unban.scope = String::new();
        agg.add(unban);
        agg.add(ev("104.16.0.6/32", Action::Ban, 3, "lfd.log", 3));
        let f = agg.findings(t(4));
        assert_eq!(f.len(), 2);
        assert!(
            !f.iter()
                .find(|f| f.address_text() == "104.16.0.5")
                .unwrap()
                .active
        );
        assert_eq!(
            f.iter()
                .find(|f| f.address_text() == "104.16.0.6")
                .unwrap()
                .state,
            BanState::Unconfirmed
        );
    }

    #[test]
    fn an_event_on_every_address_is_no_finding_whatever_the_tool() {
        let cf = crate::cloudflare::embedded();
        for tool in [Tool::Fail2ban, Tool::Csf, Tool::Nftables, Tool::Crowdsec] {
            let mut agg = Aggregator::new(&cf, 0);
            for net in ["0.0.0.0/0", "::/0"] {
                let mut e = ev(net, Action::Listed, 1, "rules", 1);
                e.tool = tool;
                agg.add(e);
            }
            // A network as wide as half of the addresses is still a ban that hits the ranges.
            let mut wide = ev("0.0.0.0/1", Action::Listed, 1, "rules", 2);
            wide.tool = tool;
            agg.add(wide);
            assert_eq!((agg.catch_all(), agg.counts()), (2, (3, 1)), "{tool}");
            let f = agg.findings(t(2));
            assert_eq!(f.len(), 1, "{tool}: {f:#?}");
            assert_eq!(f[0].address.to_string(), "0.0.0.0/1");
        }
    }

    #[test]
    fn a_challenge_stands_apart_and_its_unban_lifts_challenges_only() {
        let cf = crate::cloudflare::embedded();
        let mut agg = Aggregator::new(&cf, 0);
        let mut captcha = ev("104.16.0.9/32", Action::Ban, 1, "crowdsec.log", 1).challenge(true);
        captcha.scope = "manual (captcha)".into();
        captcha.expires = Some(t(5));
        agg.add(captcha);
        let mut ban = ev("104.16.0.9/32", Action::Ban, 1, "crowdsec.log", 2);
        ban.expires = Some(t(5));
        agg.add(ban);
        // A deletion of the captcha that names no scope: the ban stands.
        let mut unban = ev("104.16.0.9/32", Action::Unban, 2, "crowdsec.log", 3).challenge(true);
        unban.scope = String::new();
        agg.add(unban);
        let f = agg.findings(t(3));
        let state = |scope: &str| {
            let f = f.iter().find(|f| f.scope == scope).unwrap();
            (f.state, f.active)
        };
        assert_eq!(state("sshd"), (BanState::Active, true));
        assert_eq!(state("manual (captcha)"), (BanState::Lifted, false));
        // Not lifted, a challenge is in force until its end, never active; then expired.
        let mut agg = Aggregator::new(&cf, 0);
        let mut captcha = ev("104.16.0.9/32", Action::Listed, 1, "list", 1).challenge(true);
        captcha.expires = Some(t(5));
        agg.add(captcha.clone());
        let f = agg.findings(t(3));
        assert_eq!(
            (f[0].state, f[0].active, f[0].expires),
            (BanState::Challenge, false, Some(t(5)))
        );
        let mut agg = Aggregator::new(&cf, 0);
        agg.add(captcha);
        assert_eq!(agg.findings(t(6))[0].state, BanState::Expired);
    }

    /// The locations kept are the earliest and latest halves of all distinct places, whatever
    /// the order events arrive in and however they are split over aggregators.
    #[test]
    fn locations_do_not_depend_on_order_or_split() {
        let cf = crate::cloudflare::embedded();
        let events: Vec<BanEvent> = (0..60u64)
            .map(|i| {
                ev(
                    "104.16.0.7/32",
                    Action::Ban,
                    (i % 5) as u32,
                    "f",
                    i % 40 + 1,
                )
            })
            .collect();
        // The oracle: each (path, line) once at its earliest order; 8 first and 8 last.
        let mut all: Vec<(u32, u64)> = (1..=40u64)
            .map(|line| {
                let hour = (0..60u64)
                    .filter(|i| i % 40 + 1 == line)
                    .map(|i| (i % 5) as u32);
                (hour.min().unwrap(), line)
            })
            .collect();
        all.sort();
        let want: Vec<u64> = all[..8].iter().chain(&all[32..]).map(|a| a.1).collect();
        let mut seed = 7u64;
        for round in 0..20 {
            let mut order = events.clone();
            for i in (1..order.len()).rev() {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                order.swap(i, (seed >> 33) as usize % (i + 1));
            }
            let cut = round * 3 % order.len();
            let mut left = Aggregator::new(&cf, 0);
            let mut right = Aggregator::new(&cf, 0);
            for (i, e) in order.into_iter().enumerate() {
                if i < cut {
                    left.add(e)
                } else {
                    right.add(e)
                }
            }
            left.merge(right);
            let f = left.findings(t(9));
            assert_eq!(f[0].events, 60);
            let got: Vec<u64> = f[0].locations.iter().map(|l| l.line).collect();
            assert_eq!(got, want, "round {round}");
        }
    }
}
