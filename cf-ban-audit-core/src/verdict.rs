//! One verdict per ban: the claims of every source about one (tool, scope, address) joined
//! into one [`Finding`] whose state follows the most authoritative evidence.
//!
//! - **Whose ban.** A firewall object a ban tool owns is evidence of that tool's ban:
//!   fail2ban's `f2b-JAIL` chains and ipsets (`f2b-JAIL6` for IPv6), its nftables sets
//!   `addr-set-JAIL`/`addr6-set-JAIL`, its firewalld direct rules and its ufw rules (commented
//!   `by Fail2Ban after N attempts against JAIL`); CrowdSec's bouncer sets and chains; csf's
//!   `DENYIN`/`DENYOUT` chains and `chain_DENY` ipsets; ufw's `ufw-*`/`ufw6-*` chains. An object that names no scope (a
//!   bouncer set, a csf chain, `fail2ban-client --with-time` output without a jail) joins
//!   every finding of its tool for the address, or makes its own when there is none. A rule
//!   seen both through `iptables-save` and through `nft list ruleset` (iptables-nft) is one.
//! - **Which word counts.** What the kernel or the running program says now (a live read)
//!   decides: a live listing of the tool that does not hold the address means the ban is not
//!   in force. Without one, the latest word decides (a saved listing as of its file's last
//!   change, a database row at its ban time, a log line at its time; at equal times a saved
//!   listing over a database over a log): fail2ban's own lifecycle follows from this, since a
//!   jail stop logs `Unban` for each of its bans, later than the database row, and a start
//!   logs `Restore Ban` for the rows it restores. A saved listing that is the whole list of its tool's bans
//!   in force ([`SavedCover`], from [`Sink::whole_list`](crate::formats::Sink::whole_list):
//!   a `cscli decisions list`) speaks for the addresses it does not hold at all, as of its
//!   file's last change: a ban of such an address is lifted then, which the latest word weighs
//!   like any other claim (so a ban logged after the listing stands). CrowdSec's own log says
//!   nothing when `cscli decisions delete` deletes a decision: the Local API's access log,
//!   such a listing, or a live one, is what says it. A CrowdSec unban that names no scenario
//!   (a deletion by address) joins every finding of the address of its kind (bans, or
//!   challenges for a `(captcha)` one), like the objects that name no scope.
//! - **How long.** A ban's end comes from the evidence (a database row, `--with-time` output,
//!   set timeouts, CrowdSec durations) or from the tool's configuration ([`Policy`]); a ban
//!   seen only in a log, with nothing to say how long it lasts, is
//!   [`BanState::Unconfirmed`], never active for ever. So is a fail2ban ban of an address its
//!   jail now ignores, unless a live read says otherwise.
//! - **Challenges.** A CrowdSec `captcha` decision ([`crate::event::BanEvent::challenge`]) is
//!   [`BanState::Challenge`] while it stands, by the same rules: in force (a warning, never an
//!   all-clear), but not a ban in force ([`Finding::active`] is false).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use ipnet::IpNet;

use crate::event::{Action, Location, Tool};
use crate::format_id::Format;
use crate::formats::crowdsec::CAPTCHA_SUFFIX;
use crate::formats::fail2ban_client::UNNAMED_JAIL;
use crate::ranges::RangeSet;
use crate::report::{Authority, BanState, Evidence, Finding};

/// What one source says about one ban, after replaying its events.
#[derive(Debug, Clone)]
pub(crate) struct Claim {
    pub tool: Tool,
    pub scope: String,
    pub net: IpNet,
    pub format: Format,
    pub authority: Authority,
    /// Its last event.
    pub action: Action,
    /// Where the ban stands by this source alone.
    pub state: BanState,
    /// When its last event was, and its last ban event.
    pub time: Option<NaiveDateTime>,
    pub last_ban: Option<NaiveDateTime>,
    pub first_seen: Option<NaiveDateTime>,
    pub expires: Option<NaiveDateTime>,
    /// Its source says the ban holds until lifted.
    pub permanent: bool,
    /// The last change of its file.
    pub as_of: Option<NaiveDateTime>,
    pub bans: u64,
    /// Where its ban events were, with the time of each.
    pub locations: Vec<(Option<NaiveDateTime>, Location)>,
    /// Where its last event was, and the line it was read from.
    pub at: Location,
    pub text: Option<Box<str>>,
    /// The ban as its tool names it ([`Evidence::spec`]).
    pub spec: Option<Box<str>>,
}

/// A live listing that was read in full: the bans of `tool` (of the address families it
/// lists) that it does not hold are not in force now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LiveCover {
    pub tool: Tool,
    pub v4: bool,
    pub v6: bool,
    pub format: Format,
    pub label: Arc<str>,
}

/// A saved listing read in full (a `cscli decisions list` saved to a file): as of its file's
/// last change, the bans of `tool` of the addresses it does not hold at all are not in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SavedCover {
    pub tool: Tool,
    pub format: Format,
    pub file: Arc<std::path::Path>,
    /// The last change of the file (the scan's time for standard input).
    pub as_of: NaiveDateTime,
}

pub(crate) use crate::fail2ban_jails::BanLength;
use crate::fail2ban_jails::JailConfig;

/// What the tools' configurations say about bans (fail2ban's jails: `bantime`, `ignoreip`).
pub(crate) trait Policy {
    /// How long a ban of `tool` in `scope` whose last event was `action` can last, with
    /// where that is said; `None` when the configuration is not known.
    fn longest_ban(&self, tool: Tool, scope: &str, action: Action) -> Option<(BanLength, String)>;

    /// Whether `tool` now ignores `net` in `scope`, with where that is said.
    fn ignores(&self, tool: Tool, scope: &str, net: &IpNet) -> Option<String>;
}

/// No configuration known.
pub(crate) struct NoPolicy;

impl Policy for NoPolicy {
    fn longest_ban(&self, _: Tool, _: &str, _: Action) -> Option<(BanLength, String)> {
        None
    }

    fn ignores(&self, _: Tool, _: &str, _: &IpNet) -> Option<String> {
        None
    }
}

/// fail2ban's jail configuration, for fail2ban's bans.
impl Policy for JailConfig {
    fn longest_ban(&self, tool: Tool, scope: &str, action: Action) -> Option<(BanLength, String)> {
        let jail = self.jail(scope).filter(|_| tool == Tool::Fail2ban)?;
        let said = match &jail.bantime_source {
            Some(at) => format!("bantime at {}:{}", at.path.display(), at.line),
            None => "fail2ban's default bantime".to_string(),
        };
        // A plain `Ban` is a first ban: fail2ban logs `Increase Ban ... -> END` when
        // `bantime.increment` makes one longer. Any other event may be a repeated ban.
        let length = if action == Action::Ban {
            jail.bantime?
        } else {
            jail.longest_ban()?
        };
        Some((length, said))
    }

    fn ignores(&self, tool: Tool, scope: &str, net: &IpNet) -> Option<String> {
        let jail = self.jail(scope).filter(|_| tool == Tool::Fail2ban)?;
        if jail.ignores(net) {
            Some(format!("ignoreip of jail {}", jail.name))
        } else if jail.ignores_by_command_cloudflare() {
            Some(format!(
                "ignorecommand of jail {}: cf-ban-audit contains",
                jail.name
            ))
        } else {
            None
        }
    }
}

/// The tables iptables-nft makes: a chain of one of them is an iptables chain.
const IPTABLES_TABLES: &[&str] = &["filter", "raw", "mangle", "nat", "security"];

/// csf's chains and ipsets that hold its denials.
const CSF_OBJECTS: &[&str] = &["DENYIN", "DENYOUT", "chain_DENY", "chain_6_DENY"];

/// ufw's own chains (`ufw-user-input`, `ufw6-user-input`, ...): ufw puts their rules back at
/// each reload, so they are evidence of ufw's rule, never an iptables rule of their own.
fn is_ufw_chain(chain: &str) -> bool {
    chain.starts_with("ufw-") || chain.starts_with("ufw6-")
}

/// Whether an iptables chain is one of HestiaCP's (VestaCP's) ban list chains:
/// `fail2ban-CHAIN` with CHAIN as `v-add-firewall-chain` makes it, upper case (`WEB`, `SSH`,
/// `RECIDIVE`, ...). fail2ban's own chains are `f2b-JAIL` (and were `fail2ban-name`, in lower
/// case, before 0.9): those stay fail2ban's or iptables'. A rule there is the running copy of
/// a `banlist.conf` entry (`v-update-firewall` rebuilds the chain from it): one ban with it,
/// lifted by the panel's `v-delete-firewall-ban`, which deletes both.
fn is_hestia_chain(chain: &str) -> bool {
    chain
        .strip_prefix(crate::formats::hestia::CHAIN_PREFIX)
        .is_some_and(|c| {
            c.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
                && c.bytes().all(|b| {
                    b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
                })
        })
}

/// Whether a CrowdSec claim's scope names no scenario: a deletion of every decision of an
/// address (empty), or of every captcha (`(captcha)`), which joins every finding of the
/// address of that kind.
pub(crate) fn crowdsec_any_scenario(scope: &str) -> bool {
    scope.is_empty() || scope == CAPTCHA_SUFFIX.trim_start()
}

/// The tool whose ban a claim is evidence of, and its scope (`None`: any of that tool's).
fn owner(claim: &Claim) -> (Tool, Option<String>) {
    let scope = claim.scope.as_str();
    let v6 = matches!(claim.net, IpNet::V6(_));
    let fail2ban = |jail: &str| (Tool::Fail2ban, Some(jail.to_string()));
    match claim.tool {
        Tool::Fail2ban if scope == UNNAMED_JAIL => (Tool::Fail2ban, None),
        Tool::Iptables => {
            if let Some(jail) = scope.strip_prefix("f2b-").filter(|j| !j.is_empty()) {
                return fail2ban(jail);
            }
            if is_hestia_chain(scope) {
                return (Tool::Hestia, Some(scope.to_string()));
            }
            if CSF_OBJECTS.contains(&scope) {
                return (Tool::Csf, None);
            }
            if scope.starts_with("CROWDSEC") {
                return (Tool::Crowdsec, None);
            }
            if is_ufw_chain(scope) {
                return (Tool::Ufw, None);
            }
            (Tool::Iptables, Some(scope.to_string()))
        }
        Tool::Ipset | Tool::Firewalld => {
            let name = scope.strip_prefix("direct:").unwrap_or(scope);
            if let Some(jail) = name.strip_prefix("f2b-").filter(|j| !j.is_empty()) {
                let jail = if v6 && scope == name {
                    jail.strip_suffix('6')
                        .filter(|j| !j.is_empty())
                        .unwrap_or(jail)
                } else {
                    jail
                };
                return fail2ban(jail);
            }
            if claim.tool == Tool::Ipset {
                if CSF_OBJECTS.contains(&scope) {
                    return (Tool::Csf, None);
                }
                if scope.starts_with("crowdsec") {
                    return (Tool::Crowdsec, None);
                }
            }
            (claim.tool, Some(scope.to_string()))
        }
        Tool::Nftables => {
            let (table, name) = scope.split_once('/').unwrap_or(("", scope));
            if table == "f2b-table" {
                if let Some(jail) = name
                    .strip_prefix("addr-set-")
                    .or_else(|| name.strip_prefix("addr6-set-"))
                    .filter(|j| !j.is_empty())
                {
                    return fail2ban(jail);
                }
            }
            if IPTABLES_TABLES.contains(&table) {
                if let Some(jail) = name.strip_prefix("f2b-").filter(|j| !j.is_empty()) {
                    return fail2ban(jail);
                }
                if is_hestia_chain(name) {
                    return (Tool::Hestia, Some(name.to_string()));
                }
                if CSF_OBJECTS.contains(&name) {
                    return (Tool::Csf, None);
                }
                if is_ufw_chain(name) {
                    return (Tool::Ufw, None);
                }
            }
            if table.starts_with("crowdsec") {
                return (Tool::Crowdsec, None);
            }
            (Tool::Nftables, Some(scope.to_string()))
        }
        Tool::Crowdsec if claim.bans == 0 && crowdsec_any_scenario(scope) => (Tool::Crowdsec, None),
        Tool::Ufw => match scope.split_once(" attempts against ") {
            Some((by, jail)) if by.starts_with("by Fail2Ban after ") && !jail.is_empty() => {
                fail2ban(jail)
            }
            _ => (Tool::Ufw, Some(scope.to_string())),
        },
        tool => (tool, Some(scope.to_string())),
    }
}

type BanKey = (Tool, String, IpNet);

/// Pushes onto a vector that most often holds one item (the claims of one ban: one source
/// or a few): it grows one item at a time up to four, and only then doubling, so the claims
/// of a scan are not held in vectors four times their size.
fn push_small<T>(v: &mut Vec<T>, item: T) {
    if v.len() < 4 {
        v.reserve_exact(1);
    }
    v.push(item);
}

/// Joins the claims into findings, one per (tool, scope, address), sorted by those.
pub(crate) fn findings(
    claims: Vec<Claim>,
    covers: &[LiveCover],
    saved: &[SavedCover],
    ranges: &RangeSet,
    now: NaiveDateTime,
    policy: &dyn Policy,
) -> Vec<Finding> {
    // Claims come in the order of a hash map: put them in one order first, so that every
    // choice below (and every tie) is the same whatever order the files were read in.
    let mut claims = claims;
    claims.sort_by(|a, b| {
        (a.tool, &a.scope, a.net, a.format, a.authority, &a.at).cmp(&(
            b.tool,
            &b.scope,
            b.net,
            b.format,
            b.authority,
            &b.at,
        ))
    });
    // Which saved listings hold each (tool, address), in any scope.
    let mut held: HashSet<(Tool, IpNet, Arc<std::path::Path>)> = HashSet::new();
    if !saved.is_empty() {
        for c in &claims {
            let places = c.locations.iter().map(|(_, l)| l).chain([&c.at]);
            for place in places {
                if saved.iter().any(|s| s.file == place.path) {
                    held.insert((c.tool, c.net, place.path.clone()));
                }
            }
        }
    }
    let mut groups: BTreeMap<BanKey, Vec<Claim>> = BTreeMap::new();
    let mut anywhere: Vec<(Tool, Option<String>, Claim)> = Vec::new();
    let mut named: Vec<(Tool, String, Claim)> = Vec::new();
    let mut iptables_nft: Vec<Claim> = Vec::new();
    for claim in claims {
        match owner(&claim) {
            (tool, None) => anywhere.push((tool, None, claim)),
            (Tool::Fail2ban, Some(jail)) if claim.tool != Tool::Fail2ban => {
                named.push((Tool::Fail2ban, jail, claim))
            }
            (Tool::Nftables, Some(_))
                if claim
                    .scope
                    .split_once('/')
                    .is_some_and(|(t, _)| IPTABLES_TABLES.contains(&t)) =>
            {
                iptables_nft.push(claim)
            }
            (tool, Some(scope)) => {
                push_small(groups.entry((tool, scope, claim.net)).or_default(), claim)
            }
        }
    }
    // A chain of an iptables-nft table is the iptables chain of that name, when iptables
    // speaks of it too.
    for claim in iptables_nft {
        let (_, chain) = claim.scope.split_once('/').unwrap_or_default();
        let key = (Tool::Iptables, chain.to_string(), claim.net);
        let key = if groups.contains_key(&key) {
            key
        } else {
            (Tool::Nftables, claim.scope.clone(), claim.net)
        };
        push_small(groups.entry(key).or_default(), claim);
    }
    // A fail2ban object is named after the action's `name`, the jail's name unless the jail
    // sets another (`iptables-ipset[name=modsec]` for the `apache-modsecurity` jail, as ipset
    // names are short): with no finding of that jail for the address, it joins the address's
    // other fail2ban findings, like the claims that name no scope.
    for (tool, jail, claim) in named {
        let key = (tool, jail, claim.net);
        if groups.get(&key).is_some_and(|g| is_finding(g)) {
            push_small(groups.entry(key).or_default(), claim);
        } else {
            anywhere.push((tool, Some(key.1), claim));
        }
    }
    // Claims that name no scope join every finding of their tool for the address.
    // The scopes of the groups of each (tool, address), so that a listing of 100,000 addresses
    // is not read in time that grows with its square.
    let mut scopes: HashMap<(Tool, IpNet), Vec<String>> = HashMap::new();
    for (tool, scope, net) in groups.keys() {
        scopes.entry((*tool, *net)).or_default().push(scope.clone());
    }
    let mut ufw_chains: Vec<Claim> = Vec::new();
    for (tool, fallback, claim) in anywhere {
        let mut joined = false;
        for scope in scopes.get(&(tool, claim.net)).into_iter().flatten() {
            // Only a finding (a group with a ban): an unban alone is no ban to join. A CrowdSec
            // deletion of captchas joins challenges, another one bans.
            let kind = claim.tool != Tool::Crowdsec
                || scope.ends_with(CAPTCHA_SUFFIX) == (claim.scope == CAPTCHA_SUFFIX.trim_start());
            let Some(group) = groups.get_mut(&(tool, scope.clone(), claim.net)) else {
                continue;
            };
            if kind && is_finding(group) {
                push_small(group, claim.clone());
                joined = true;
            }
        }
        if !joined && tool == Tool::Ufw && claim.tool != Tool::Ufw {
            ufw_chains.push(claim);
            continue;
        }
        if !joined {
            let scope = match fallback {
                Some(scope) => scope,
                None if claim.tool == tool => claim.scope.clone(),
                None => Evidence::object_name(claim.tool, &claim.scope),
            };
            let key = (tool, scope, claim.net);
            if !groups.contains_key(&key) {
                scopes
                    .entry((tool, claim.net))
                    .or_default()
                    .push(key.1.clone());
            }
            push_small(groups.entry(key).or_default(), claim);
        }
    }
    // A rule of ufw's chains with no ufw finding of its address is the rule of a ufw ban that
    // fail2ban's ufw action added (its comment in ufw's rules names the jail): it joins that
    // fail2ban finding, as it joins a ufw finding (one ban, one finding).
    for claim in ufw_chains {
        let mut joined = false;
        for scope in scopes
            .get(&(Tool::Fail2ban, claim.net))
            .into_iter()
            .flatten()
        {
            let Some(group) = groups.get_mut(&(Tool::Fail2ban, scope.clone(), claim.net)) else {
                continue;
            };
            if is_finding(group) && group.iter().any(|c| c.tool == Tool::Ufw) {
                push_small(group, claim.clone());
                joined = true;
            }
        }
        if !joined {
            let scope = Evidence::object_name(claim.tool, &claim.scope);
            groups
                .entry((Tool::Ufw, scope, claim.net))
                .or_default()
                .push(claim);
        }
    }
    groups
        .into_iter()
        .filter(|(_, claims)| is_finding(claims))
        .map(|(key, mut claims)| {
            if let Some(cover) = saved_cover(&key, &claims, saved, &held) {
                claims.push(cover);
            }
            verdict(key, claims, covers, ranges, now, policy)
        })
        .collect()
}

/// The claim of the latest saved listing of the tool that does not hold the address at all,
/// when a source holds the ban in force: "not in force as of that listing" (lifted), which the
/// latest word then weighs against the others. A listing that holds the address in another
/// scope says nothing of this one (the scopes of one decision can differ between a log and a
/// listing: an imported decision's alert is `add: N IPs`, its decision `manual`).
fn saved_cover(
    (tool, scope, net): &BanKey,
    claims: &[Claim],
    saved: &[SavedCover],
    held: &HashSet<(Tool, IpNet, Arc<std::path::Path>)>,
) -> Option<Claim> {
    if !claims.iter().any(|c| in_force(c.state)) {
        return None;
    }
    let cover = saved
        .iter()
        .filter(|s| s.tool == *tool && !held.contains(&(*tool, *net, s.file.clone())))
        .max_by(|a, b| (a.as_of, &a.file).cmp(&(b.as_of, &b.file)))?;
    Some(Claim {
        tool: *tool,
        scope: scope.clone(),
        net: *net,
        format: cover.format,
        authority: Authority::Saved,
        action: Action::Unban,
        state: BanState::Lifted,
        time: Some(cover.as_of),
        last_ban: None,
        first_seen: None,
        expires: None,
        permanent: false,
        as_of: Some(cover.as_of),
        bans: 0,
        locations: Vec::new(),
        at: Location::new(cover.file.clone(), 0),
        text: None,
        spec: None,
    })
}

/// Whether claims make a finding: at least one of them holds a ban.
fn is_finding(claims: &[Claim]) -> bool {
    claims.iter().any(|c| c.bans > 0)
}

/// The time by which a claim is ordered against the others of its ban.
fn order_time(claim: &Claim, now: NaiveDateTime) -> Option<NaiveDateTime> {
    match claim.authority {
        Authority::Live => Some(now),
        Authority::Saved => Some(claim.as_of.map_or(now, |t| t.min(now))),
        Authority::Database | Authority::Log => claim.time,
    }
}

/// Whether a state means the ban (or challenge) is or may be in force.
fn in_force(state: BanState) -> bool {
    matches!(
        state,
        BanState::Active | BanState::Unconfirmed | BanState::Challenge
    )
}

fn verdict(
    (tool, scope, net): BanKey,
    mut claims: Vec<Claim>,
    covers: &[LiveCover],
    ranges: &RangeSet,
    now: NaiveDateTime,
    policy: &dyn Policy,
) -> Finding {
    // A live listing of the tool that does not hold the address says the ban is not in force.
    // One-off denials alone (a WAF refusal, CrowdSec's alert history) are history that no
    // listing holds: a listing's silence lifts nothing of them.
    let has_live = claims.iter().any(|c| c.authority == Authority::Live);
    let history_only = claims.iter().all(|c| c.action == Action::Deny);
    if !has_live && !history_only {
        let v6 = matches!(net, IpNet::V6(_));
        if let Some(cover) = covers
            .iter()
            .find(|c| c.tool == tool && if v6 { c.v6 } else { c.v4 })
        {
            claims.push(Claim {
                tool,
                scope: scope.clone(),
                net,
                format: cover.format,
                authority: Authority::Live,
                action: Action::Unban,
                state: BanState::Lifted,
                time: Some(now),
                last_ban: None,
                first_seen: None,
                expires: None,
                permanent: false,
                as_of: Some(now),
                bans: 0,
                locations: Vec::new(),
                at: Location::new(std::path::Path::new(&*cover.label), 0),
                text: None,
                spec: None,
            });
        }
    }
    let standing: Vec<usize> = (0..claims.len())
        .filter(|&i| claims[i].action != Action::Deny)
        .collect();
    let mut note = None;
    let winner = if standing.is_empty() {
        // Only one-off denials: the latest.
        (0..claims.len())
            .max_by_key(|&i| (claims[i].time, claims[i].authority))
            .unwrap_or(0)
    } else {
        let live: Vec<usize> = standing
            .iter()
            .copied()
            .filter(|&i| claims[i].authority == Authority::Live)
            .collect();
        if live.is_empty() {
            standing
                .iter()
                .copied()
                .max_by_key(|&i| {
                    let c = &claims[i];
                    // At equal times and authority, the source that holds the ban: no
                    // all-clear from a tie. Then by place, for a stable answer.
                    let place = std::cmp::Reverse(&c.at);
                    (order_time(c, now), c.authority, in_force(c.state), place)
                })
                .unwrap_or(0)
        } else {
            // Any live source holding the ban means it is in force.
            live.iter()
                .copied()
                .find(|&i| in_force(claims[i].state))
                .unwrap_or(live[0])
        }
    };
    let won = &claims[winner];
    let mut state = if standing.is_empty() {
        BanState::Denied
    } else {
        won.state
    };
    let mut expires = won.expires;
    if state == BanState::Lifted {
        // A log's unban at or after the end of the ban it closes is that ban running out:
        // fail2ban logs `Unban` alike for an expiry and for `unbanip`.
        if let Some(end) = closed_ban_end(&claims, won, policy) {
            if won.time.is_some_and(|t| t >= end) {
                state = BanState::Expired;
                expires = Some(end);
            }
        }
    }
    if state == BanState::Challenge && expires.is_none() {
        // The end of the challenge from another source that holds it, if one says.
        expires = claims
            .iter()
            .filter(|c| c.state == BanState::Challenge)
            .filter_map(|c| c.expires)
            .max();
    }
    if state == BanState::Active && expires.is_none() {
        // The end of the ban from another source that holds it, if one says.
        expires = claims
            .iter()
            .filter(|c| c.state == BanState::Active)
            .filter_map(|c| c.expires)
            .max();
        if expires.is_none() && won.permanent {
            note = Some(format!(
                "permanent: {} says it holds until lifted",
                won.format
            ));
        } else if expires.is_none() && won.authority == Authority::Log {
            let since = won.last_ban.or(won.time);
            match policy.longest_ban(tool, &scope, won.action) {
                Some((BanLength::Seconds(secs), said)) => match since {
                    Some(since) => {
                        let length = Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX));
                        let end = since
                            .checked_add_signed(length)
                            .unwrap_or(NaiveDateTime::MAX);
                        expires = Some(end);
                        if end <= now {
                            state = BanState::Expired;
                        }
                        note = Some(format!("ban length from {said}"));
                    }
                    None => {
                        state = BanState::Unconfirmed;
                        note = Some("time of the ban unknown".to_string());
                    }
                },
                Some((BanLength::Permanent, said)) => {
                    note = Some(format!("permanent ban ({said})"));
                }
                Some((BanLength::Unbounded, said)) => {
                    state = BanState::Unconfirmed;
                    note = Some(format!(
                        "{}; its length can grow without bound ({said})",
                        banned_ago(since, now)
                    ));
                }
                None => {
                    state = BanState::Unconfirmed;
                    note = Some(format!("{}, length unknown", banned_ago(since, now)));
                }
            }
        }
    }
    if state == BanState::Active && won.authority != Authority::Live {
        if let Some(said) = policy.ignores(tool, &scope, &net) {
            state = BanState::Unconfirmed;
            note = Some(format!(
                "{tool} now ignores this address ({said}): it does not restore the ban at its \
                 next restart"
            ));
        }
    }
    if tool == Tool::Hestia && scope == "fail2ban-RECIDIVE" && note.is_none() {
        note = Some(
            "Hestia's RECIDIVE chain drops every port of this address, not only 80 and 443"
                .to_string(),
        );
    }
    let conflict = conflict(&claims, winner, state);
    let range = ranges.matching(&net).unwrap_or(net);
    let mut finding = Finding::new(net, range, tool, claims[winner].format, scope);
    finding.state = state;
    finding.active = state == BanState::Active;
    finding.note = note;
    finding.conflict = conflict;
    finding.expires = if in_force(state) || state == BanState::Expired {
        expires
    } else {
        None
    };
    finding.first_seen = claims.iter().filter_map(|c| c.first_seen).min();
    finding.last_seen = claims.iter().filter_map(|c| c.last_ban).max();
    finding.events = claims.iter().map(|c| c.bans).sum();
    finding.locations = locations(&claims);
    finding.evidence = evidence(&finding, claims, winner);
    match finding.lift() {
        Ok(argv) => finding.lift = Some(argv),
        Err(why) => finding.lift_unavailable = Some(why),
    }
    finding
}

/// When the ban that the log's unban `won` closes was due to end: the latest end another
/// source gives for a ban made before the unban, or else the time of the log's last ban plus
/// the ban length the tool's configuration gives its scope.
fn closed_ban_end(claims: &[Claim], won: &Claim, policy: &dyn Policy) -> Option<NaiveDateTime> {
    // Only fail2ban logs a ban running out and an unban alike; CrowdSec's deletions are
    // deletions (its database even sets a deleted decision's `until` to the deletion).
    if won.authority != Authority::Log || won.action != Action::Unban || won.tool != Tool::Fail2ban
    {
        return None;
    }
    let unban = won.time?;
    let said = claims
        .iter()
        .filter(|c| c.time.is_some_and(|t| t <= unban))
        .filter_map(|c| c.expires)
        .max();
    if said.is_some() {
        return said;
    }
    let since = won.last_ban?;
    match policy.longest_ban(won.tool, &won.scope, Action::Ban)? {
        (BanLength::Seconds(secs), _) => {
            since.checked_add_signed(Duration::seconds(i64::try_from(secs).ok()?))
        }
        _ => None,
    }
}

/// "banned 3 h ago" (or "banned at an unknown time").
fn banned_ago(since: Option<NaiveDateTime>, now: NaiveDateTime) -> String {
    let Some(since) = since else {
        return "banned at an unknown time".to_string();
    };
    let age = now - since;
    let text = if age.num_days() >= 2 {
        format!("{} days", age.num_days())
    } else if age.num_hours() >= 1 {
        format!("{} h", age.num_hours())
    } else {
        format!("{} min", age.num_minutes().max(0))
    };
    format!("banned {text} ago")
}

/// The sources that disagree with `state` about whether the ban is in force, and the one the
/// state follows.
fn conflict(claims: &[Claim], winner: usize, state: BanState) -> Option<String> {
    let disagree: Vec<&Claim> = claims
        .iter()
        .filter(|c| c.action != Action::Deny && in_force(c.state) != in_force(state))
        .collect();
    if disagree.is_empty() {
        return None;
    }
    let won = &claims[winner];
    let why = match won.authority {
        Authority::Live => "a live read",
        _ => "the latest word",
    };
    let said: Vec<String> = disagree
        .iter()
        .map(|c| format!("{} ({}) says {}", c.format, c.at, c.state))
        .collect();
    Some(format!(
        "{}; the state follows {} ({}), {why}",
        said.join("; "),
        won.format,
        won.at
    ))
}

/// The ban locations of every claim: the earliest and the latest eight, by time then place.
fn locations(claims: &[Claim]) -> Vec<Location> {
    let mut all: Vec<&(Option<NaiveDateTime>, Location)> =
        claims.iter().flat_map(|c| &c.locations).collect();
    all.sort();
    all.dedup_by(|a, b| a.1 == b.1);
    if all.len() > 16 {
        all.drain(8..all.len() - 8);
    }
    all.into_iter().map(|(_, l)| l.clone()).collect()
}

/// The evidence list: the source the state follows first, then by authority (most first),
/// format and place.
fn evidence(finding: &Finding, claims: Vec<Claim>, winner: usize) -> Vec<Evidence> {
    let mut items: Vec<(bool, Evidence)> = claims
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let action = action_name(&c);
            let mut e = Evidence::new(c.format, c.authority, c.at, action, c.state);
            e.time = c.time;
            e.expires = c.expires;
            e.events = c.bans;
            if c.tool != finding.tool || c.scope != finding.scope {
                e.object = Some(Evidence::object_name(c.tool, &c.scope));
            }
            e.text = c.text.map(String::from);
            e.spec = c.spec.map(String::from);
            (i == winner, e)
        })
        .collect();
    items.sort_by(|(aw, a), (bw, b)| {
        bw.cmp(aw)
            .then(b.authority.cmp(&a.authority))
            .then(a.format.cmp(&b.format))
            .then(a.location.cmp(&b.location))
            .then(a.object.cmp(&b.object))
    });
    items.into_iter().map(|(_, e)| e).collect()
}

fn action_name(claim: &Claim) -> &'static str {
    if matches!(claim.authority, Authority::Live | Authority::Saved)
        && claim.bans == 0
        && claim.action == Action::Unban
    {
        return "absent";
    }
    match claim.action {
        Action::Ban => "ban",
        Action::RestoreBan => "restore-ban",
        Action::AlreadyBanned => "already-banned",
        Action::Listed => "listed",
        Action::Deny => "deny",
        Action::Unban => "unban",
    }
}
