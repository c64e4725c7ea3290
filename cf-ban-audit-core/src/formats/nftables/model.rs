//! The ruleset both readers build (text and JSON), and the one place that decides what in it
//! is a ban: which sets rules drop on, which chains a `jump`/`goto` ends in a drop, which
//! verdict-map entries drop.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use ipnet::IpNet;

use super::super::{Format, Sink, Verdict};
use crate::addr::{display_net, host_net, parse_ip, parse_net, range_nets};
use crate::event::{Action, BanEvent, Location, Tool};
use crate::purpose::{purpose_from_name, Purpose};

/// The address families nft knows; a table named without one is of family `ip`.
pub(super) const FAMILIES: &[&str] = &["ip", "ip6", "inet", "arp", "bridge", "netdev"];

/// A table, set or chain: family, table and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Obj {
    pub family: String,
    pub table: String,
    pub name: String,
}

impl Obj {
    pub fn new(family: &str, table: &str, name: &str) -> Obj {
        Obj {
            family: family.to_string(),
            table: table.to_string(),
            name: name.to_string(),
        }
    }

    /// Another object of the same table.
    pub fn sibling(&self, name: &str) -> Obj {
        Obj::new(&self.family, &self.table, name)
    }
}

/// What a rule, or a verdict-map entry, does with a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    /// No verdict: the packet goes on to the next rule.
    None,
    /// `drop`, `reject`, an iptables-nft `REJECT`/`DROP` target.
    Drop,
    /// `accept`.
    Accept,
    /// `return`.
    Return,
    /// `jump CHAIN`: the chain decides, or the packet comes back.
    Jump(String),
    /// `goto CHAIN`: the chain decides.
    Goto(String),
    /// Anything else that ends the rule's say (NAT, `queue`, a verdict map on other keys).
    Other,
}

impl Outcome {
    /// The verdict keyword at `word` (with the chain name after `jump`/`goto`), if any.
    pub fn from_keyword(word: &str, target: Option<&str>) -> Option<Outcome> {
        Some(match word {
            "drop" | "reject" => Outcome::Drop,
            "accept" => Outcome::Accept,
            "return" => Outcome::Return,
            "continue" => Outcome::None,
            "queue" => Outcome::Other,
            "jump" => Outcome::Jump(target?.to_string()),
            "goto" => Outcome::Goto(target?.to_string()),
            _ => return None,
        })
    }
}

/// One address (or network) of a set element, a verdict-map entry or a rule.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// Its place in a concatenation (`ip saddr . tcp dport` → 0 for the address).
    pub pos: u8,
    pub net: IpNet,
    pub expires: Option<NaiveDateTime>,
    pub line: u64,
    /// The verdict of a verdict-map entry.
    pub verdict: Option<Outcome>,
    /// What the element's key is beside this network.
    pub key: Key,
}

/// What the key of a set element is, beside the network of one of its entries: what deleting
/// the element would delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Key {
    /// Exactly the entry's network.
    Whole,
    /// A range `a-b` that is not one CIDR block: the entry is one of its blocks. The range as
    /// written.
    Range(Arc<str>),
    /// A concatenation (`1.2.3.4 . 22`): the address is one of its components.
    Concat,
}

impl Key {
    /// The key of an element with `comps` components whose address component `text` covers
    /// `blocks` CIDR blocks.
    pub fn of(text: &str, blocks: usize, comps: usize) -> Key {
        if comps > 1 {
            Key::Concat
        } else if blocks > 1 {
            Key::Range(Arc::from(text))
        } else {
            Key::Whole
        }
    }
}

/// Named sets and maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SetKind {
    Set,
    VerdictMap,
    /// A map to data (NAT addresses, marks, quotas): never a ban.
    DataMap,
}

#[derive(Debug)]
pub(super) struct SetDef {
    pub id: Obj,
    pub kind: SetKind,
    /// The positions of the address components of the key, when the type is known.
    pub addr_pos: Option<Vec<u8>>,
    pub entries: Vec<Entry>,
    /// Positions at which rules drop on the set's source addresses.
    src_drop: Vec<u8>,
    /// Positions at which rules look the source address up in this verdict map.
    src_vmap: Vec<u8>,
    /// A rule accepts on the set, or drops on what is NOT in it (`saddr != @set drop`).
    allow_use: bool,
    /// A rule decides on the set by another key (a destination set).
    other_use: bool,
}

/// Where an address is matched: source or destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dir {
    Src,
    Dst,
}

/// What an address match compares with.
#[derive(Debug, Clone)]
pub(super) enum Value {
    /// Addresses written in the rule (one, or an anonymous set).
    Nets(Vec<Entry>),
    /// `@name`.
    Set(String),
    /// `vmap { a : drop, ... }`.
    VmapInline(Vec<Entry>),
    /// `vmap @name`.
    VmapSet(String),
}

#[derive(Debug, Clone)]
pub(super) struct Match {
    pub dir: Dir,
    pub negated: bool,
    pub pos: u8,
    pub value: Value,
}

#[derive(Debug, Clone)]
pub(super) struct Rule {
    pub line: u64,
    /// Whether the rule matches only some packets (anything before its verdict other than
    /// counters, logging and comments).
    pub conditional: bool,
    pub outcome: Outcome,
    pub matches: Vec<Match>,
    /// iptables-nft matches nft cannot show (`xt match set`): their addresses are unknown.
    pub xt: Vec<String>,
}

impl Rule {
    pub fn new(line: u64) -> Rule {
        Rule {
            line,
            conditional: false,
            outcome: Outcome::None,
            matches: Vec::new(),
            xt: Vec::new(),
        }
    }
}

#[derive(Debug)]
pub(super) struct ChainDef {
    pub id: Obj,
    /// The name shown in scopes (an anonymous chain shows the chain that binds it).
    pub scope: String,
    pub rules: Vec<Rule>,
}

/// A whole ruleset as read.
#[derive(Debug, Default)]
pub(super) struct Ruleset {
    sets: Vec<SetDef>,
    set_index: HashMap<Obj, usize>,
    chains: Vec<ChainDef>,
    chain_index: HashMap<Obj, usize>,
    anonymous: usize,
}

impl Ruleset {
    /// Forgets everything (`flush ruleset`).
    pub fn clear(&mut self) {
        *self = Ruleset::default();
    }

    /// The set or map `id`, created (of unknown type) when not declared yet.
    pub fn set_mut(&mut self, id: &Obj) -> &mut SetDef {
        let index = self.set_index(id);
        &mut self.sets[index]
    }

    /// The index of the set or map `id` (see [`Ruleset::set_at`]), created when not declared
    /// yet. Indexes hold until [`Ruleset::clear`].
    pub fn set_index(&mut self, id: &Obj) -> usize {
        if let Some(&i) = self.set_index.get(id) {
            return i;
        }
        self.sets.push(SetDef {
            id: id.clone(),
            kind: SetKind::Set,
            addr_pos: None,
            entries: Vec::new(),
            src_drop: Vec::new(),
            src_vmap: Vec::new(),
            allow_use: false,
            other_use: false,
        });
        self.set_index.insert(id.clone(), self.sets.len() - 1);
        self.sets.len() - 1
    }

    /// The set at an index [`Ruleset::set_index`] gave.
    pub fn set_at(&mut self, index: usize) -> &mut SetDef {
        &mut self.sets[index]
    }

    /// Declares a set (`set`) or a map (`map`, data type still unknown).
    pub fn declare_set(&mut self, id: &Obj, is_map: bool) {
        let set = self.set_mut(id);
        if is_map && set.kind == SetKind::Set {
            set.kind = SetKind::DataMap;
        }
    }

    /// The chain `id`, created when not declared yet.
    pub fn chain_mut(&mut self, id: &Obj) -> &mut ChainDef {
        let index = match self.chain_index.get(id) {
            Some(&i) => i,
            None => {
                self.chains.push(ChainDef {
                    id: id.clone(),
                    scope: id.name.clone(),
                    rules: Vec::new(),
                });
                self.chain_index.insert(id.clone(), self.chains.len() - 1);
                self.chains.len() - 1
            }
        };
        &mut self.chains[index]
    }

    /// A new anonymous chain (a chain binding `jump { ... }`) inside `parent`; returns its name.
    pub fn anonymous_chain(&mut self, parent: &Obj) -> String {
        self.anonymous += 1;
        // A name no nft chain can have (nft names hold no white space).
        let name = format!("{} binding {}", parent.name, self.anonymous);
        let scope = self
            .chain_index
            .get(parent)
            .map(|&i| self.chains[i].scope.clone())
            .unwrap_or_else(|| parent.name.clone());
        let id = parent.sibling(&name);
        self.chain_mut(&id).scope = scope;
        name
    }

    /// `flush set` / `flush map`.
    pub fn flush_set(&mut self, id: &Obj) {
        if let Some(&i) = self.set_index.get(id) {
            self.sets[i].entries.clear();
        }
    }

    /// `flush chain`.
    pub fn flush_chain(&mut self, id: &Obj) {
        if let Some(&i) = self.chain_index.get(id) {
            self.chains[i].rules.clear();
        }
    }

    /// `flush table`: the table's sets and chains lose their content.
    pub fn flush_table(&mut self, family: &str, table: &str) {
        for set in &mut self.sets {
            if set.id.family == family && set.id.table == table {
                set.entries.clear();
            }
        }
        for chain in &mut self.chains {
            if chain.id.family == family && chain.id.table == table {
                chain.rules.clear();
            }
        }
    }

    /// `delete table`: the table's sets and chains are gone (their rules no longer use anything).
    pub fn delete_table(&mut self, family: &str, table: &str) {
        self.flush_table(family, table);
        for set in &mut self.sets {
            if set.id.family == family && set.id.table == table {
                set.kind = SetKind::DataMap;
            }
        }
    }

    /// Appends a rule to a chain.
    pub fn add_rule(&mut self, chain: &Obj, rule: Rule) {
        self.chain_mut(chain).rules.push(rule);
    }

    /// Whether a set of that name exists in the table.
    fn find_set(&self, table: &Obj, name: &str) -> Option<usize> {
        self.set_index.get(&table.sibling(name)).copied()
    }

    /// Decides what bans and emits the events: every address of a rule that drops it, every
    /// element of a set some rule drops on (or, with no rule deciding, whose name says it
    /// bans), every verdict-map entry that drops.
    pub fn emit(mut self, out: &mut Emitter<'_>) {
        let mut outcomes = ChainOutcomes::default();
        // Rules first: they decide what the sets are for.
        for c in 0..self.chains.len() {
            for r in 0..self.chains[c].rules.len() {
                let chain = &self.chains[c];
                let rule = &chain.rules[r];
                let verdict = self.resolve(&chain.id, &rule.outcome, &mut outcomes);
                let scope = format!("{}/{}", chain.id.table, chain.scope);
                let spec = rule_spec(&chain.id, &chain.scope, rule);
                let mut uses: Vec<(usize, Use)> = Vec::new();
                for m in &rule.matches {
                    match (&m.value, m.dir, m.negated) {
                        (Value::Nets(entries), Dir::Src, false)
                            if verdict == Some(Verdict::Drop) =>
                        {
                            for e in entries {
                                out.listed(e, &scope, &spec);
                            }
                        }
                        (Value::VmapInline(entries), Dir::Src, false) => {
                            for e in entries {
                                let v = e.verdict.as_ref().unwrap_or(&Outcome::None);
                                if self.resolve(&chain.id, v, &mut outcomes) == Some(Verdict::Drop)
                                {
                                    out.listed(e, &scope, &spec);
                                }
                            }
                        }
                        (Value::Set(name), dir, negated) => match self.find_set(&chain.id, name) {
                            Some(i) => {
                                let u = match (dir, negated, verdict) {
                                    (Dir::Src, false, Some(Verdict::Drop)) => Use::SrcDrop(m.pos),
                                    (Dir::Src, false, Some(Verdict::Accept))
                                    | (Dir::Src, true, Some(Verdict::Drop)) => Use::Allow,
                                    (_, _, Some(_)) => Use::Other,
                                    (_, _, None) => continue,
                                };
                                uses.push((i, u));
                            }
                            None => {
                                // Not an nft set: an ipset named through an iptables-nft
                                // translation. Its members are in `ipset save`.
                                if dir == Dir::Src && !negated {
                                    if let Some(v) = verdict {
                                        out.sink.set_use(name, v);
                                    }
                                }
                            }
                        },
                        (Value::VmapSet(name), dir, _) => {
                            if let Some(i) = self.find_set(&chain.id, name) {
                                uses.push((
                                    i,
                                    if dir == Dir::Src {
                                        Use::SrcVmap(m.pos)
                                    } else {
                                        Use::Other
                                    },
                                ));
                            }
                        }
                        _ => {}
                    }
                }
                if verdict == Some(Verdict::Drop) && !rule.xt.is_empty() {
                    out.hidden_match(&scope, rule.line, &rule.xt);
                }
                for (i, u) in uses {
                    let set = &mut self.sets[i];
                    match u {
                        Use::SrcDrop(p) => set.src_drop.push(p),
                        Use::SrcVmap(p) => set.src_vmap.push(p),
                        Use::Allow => set.allow_use = true,
                        Use::Other => set.other_use = true,
                    }
                }
            }
        }
        for s in 0..self.sets.len() {
            let set = &self.sets[s];
            let by_rule = match set.kind {
                SetKind::DataMap => continue,
                SetKind::Set => &set.src_drop,
                SetKind::VerdictMap => &set.src_vmap,
            };
            let positions: Vec<u8> = if !by_rule.is_empty() {
                by_rule.clone()
            } else if set.allow_use || set.other_use || set.entries.is_empty() {
                continue;
            } else {
                match purpose_from_name(&set.id.name) {
                    Purpose::Ban => set
                        .entries
                        .iter()
                        .map(|e| e.pos)
                        .min()
                        .into_iter()
                        .collect(),
                    Purpose::Allow => continue,
                    Purpose::Unknown => {
                        out.sink.note(format!(
                            "set {}/{} is used by no rule and its name does not say whether it \
                             bans or allows: {} entries not reported",
                            set.id.table,
                            set.id.name,
                            set.entries.len()
                        ));
                        continue;
                    }
                }
            };
            let scope = format!("{}/{}", set.id.table, set.id.name);
            for e in &set.entries {
                if !positions.contains(&e.pos) {
                    continue;
                }
                if set.kind == SetKind::VerdictMap {
                    let v = e.verdict.as_ref().unwrap_or(&Outcome::None);
                    if self.resolve(&set.id, v, &mut outcomes) != Some(Verdict::Drop) {
                        continue;
                    }
                }
                out.listed(e, &scope, &element_spec(&set.id, e));
            }
        }
    }

    /// The verdict a packet gets from `outcome` in a chain of `table`: a drop or an accept,
    /// or none (it goes on, or the chain it jumps to does not decide).
    fn resolve(&self, table: &Obj, outcome: &Outcome, memo: &mut ChainOutcomes) -> Option<Verdict> {
        match outcome {
            Outcome::Drop => Some(Verdict::Drop),
            Outcome::Accept => Some(Verdict::Accept),
            Outcome::Jump(c) | Outcome::Goto(c) => self.chain_outcome(&table.sibling(c), memo),
            Outcome::None | Outcome::Return | Outcome::Other => None,
        }
    }

    /// What a chain does with every packet that reaches it: the first rule without a
    /// condition that decides. Conditional rules are passed over: a chain that ends in `drop`
    /// drops what it does not accept on purpose.
    fn chain_outcome(&self, id: &Obj, memo: &mut ChainOutcomes) -> Option<Verdict> {
        if let Some(v) = memo.done.get(id) {
            return *v;
        }
        // A loop, or deeper than the kernel allows (16 jumps): nft refuses both; never trust
        // the input.
        if memo.visiting.len() > 32 || !memo.visiting.insert(id.clone()) {
            return None;
        }
        let mut result = None;
        if let Some(&i) = self.chain_index.get(id) {
            for rule in &self.chains[i].rules {
                if rule.conditional {
                    continue;
                }
                match &rule.outcome {
                    Outcome::Drop => result = Some(Verdict::Drop),
                    Outcome::Accept => result = Some(Verdict::Accept),
                    Outcome::Return | Outcome::Other => {}
                    Outcome::Goto(c) => result = self.chain_outcome(&id.sibling(c), memo),
                    Outcome::Jump(c) => match self.chain_outcome(&id.sibling(c), memo) {
                        Some(v) => result = Some(v),
                        None => continue,
                    },
                    Outcome::None => continue,
                }
                break;
            }
        }
        memo.visiting.remove(id);
        memo.done.insert(id.clone(), result);
        result
    }
}

#[derive(Default)]
struct ChainOutcomes {
    done: HashMap<Obj, Option<Verdict>>,
    visiting: std::collections::HashSet<Obj>,
}

enum Use {
    SrcDrop(u8),
    SrcVmap(u8),
    Allow,
    Other,
}

/// Turns entries into events.
pub(super) struct Emitter<'a> {
    pub path: Arc<Path>,
    pub format: Format,
    pub sink: &'a mut dyn Sink,
    /// Scopes (with match names) already noted for hidden iptables matches.
    pub hidden_noted: Vec<String>,
}

impl Emitter<'_> {
    fn listed(&mut self, e: &Entry, scope: &str, spec: &str) {
        self.sink.event(
            BanEvent::new(
                e.net,
                Tool::Nftables,
                self.format,
                scope,
                Action::Listed,
                Location::new(self.path.clone(), e.line),
            )
            .until(e.expires)
            .spec(spec.to_string()),
        );
    }

    fn hidden_match(&mut self, scope: &str, line: u64, names: &[String]) {
        let key = format!("{scope} {}", names.join(","));
        if self.hidden_noted.contains(&key) {
            return;
        }
        self.hidden_noted.push(key);
        let at = if line > 0 {
            format!(" (line {line})")
        } else {
            String::new()
        };
        self.sink.note(format!(
            "{scope}{at}: an iptables-nft rule drops on an iptables match nft cannot show \
             (xt {}); its addresses are not in this ruleset: read `iptables-save` and \
             `ipset save` for them",
            names.join(", ")
        ));
    }
}

/// `rule FAMILY TABLE CHAIN`, with `(one of N sources)` when the rule's source matches hold
/// more than one address or network (see [`crate::Evidence::spec`]).
fn rule_spec(chain: &Obj, shown: &str, rule: &Rule) -> String {
    let sources: usize = rule
        .matches
        .iter()
        .filter(|m| m.dir == Dir::Src && !m.negated)
        .map(|m| match &m.value {
            Value::Nets(entries) | Value::VmapInline(entries) => entries.len(),
            Value::Set(_) | Value::VmapSet(_) => 0,
        })
        .sum();
    let mut spec = format!("rule {} {} {shown}", chain.family, chain.table);
    if sources > 1 {
        spec.push_str(&format!(" (one of {sources} sources)"));
    }
    spec
}

/// `element FAMILY TABLE SET { KEY }` for an entry of a named set or map (see
/// [`crate::Evidence::spec`]).
fn element_spec(set: &Obj, e: &Entry) -> String {
    let key = match &e.key {
        Key::Whole => display_net(&e.net),
        Key::Range(text) => text.to_string(),
        Key::Concat => format!("{} . …", display_net(&e.net)),
    };
    format!(
        "element {} {} {} {{ {key} }}",
        set.family, set.table, set.name
    )
}

/// An address, a CIDR or an `a-b` range as the networks it covers (a range becomes its
/// minimal CIDR blocks). `None` when the text is none of these.
pub(super) fn parse_nets(text: &str) -> Option<Vec<IpNet>> {
    let bytes = text.as_bytes();
    if memchr::memchr(b'/', bytes).is_some() {
        return parse_net(bytes).map(|n| vec![n]);
    }
    if let Some(dash) = memchr::memchr(b'-', bytes) {
        let a = parse_ip(&bytes[..dash])?;
        let b = parse_ip(&bytes[dash + 1..])?;
        return range_nets(a, b);
    }
    parse_ip(bytes).map(|ip| vec![host_net(ip)])
}

/// An nft time (`3h59m12s`, `1d`, `59m59s944ms`, `30s`; a bare number is seconds).
pub(super) fn parse_duration(text: &str) -> Option<Duration> {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    if bytes.iter().all(u8::is_ascii_digit) {
        return Duration::try_seconds(text.parse().ok()?);
    }
    let mut total_ms: i64 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || i - start > 12 {
            return None;
        }
        let n: i64 = text[start..i].parse().ok()?;
        let unit_start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let ms_per = match &text[unit_start..i] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            _ => return None,
        };
        total_ms = total_ms.checked_add(n.checked_mul(ms_per)?)?;
    }
    Duration::try_milliseconds(total_ms)
}

/// The end of an entry that has `remaining` left at `now`.
pub(super) fn expiry(now: NaiveDateTime, remaining: Duration) -> Option<NaiveDateTime> {
    now.checked_add_signed(remaining)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_become_minimal_cidrs() {
        let nets = parse_nets("198.41.128.0-198.41.130.255").unwrap();
        let text: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
        assert_eq!(text, ["198.41.128.0/23", "198.41.130.0/24"]);
        assert!(parse_nets("fe11::-fe22::").unwrap().len() > 1);
        assert!(parse_nets("10.0.0.9-10.0.0.1").is_none());
        assert!(parse_nets("10.0.0.1-::1").is_none());
        assert!(parse_nets("80-443").is_none());
        assert_eq!(
            parse_nets("104.16.0.1").unwrap()[0].to_string(),
            "104.16.0.1/32"
        );
        assert_eq!(
            parse_nets("104.16.0.1/13").unwrap()[0].to_string(),
            "104.16.0.0/13"
        );
        assert!(parse_nets("*").is_none());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3h59m12s"), Duration::try_seconds(14352));
        assert_eq!(
            parse_duration("59m59s944ms"),
            Duration::try_milliseconds(3_599_944)
        );
        assert_eq!(parse_duration("1d"), Duration::try_days(1));
        assert_eq!(parse_duration("90"), Duration::try_seconds(90));
        assert_eq!(parse_duration("1x"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration("99999999999999999d"), None);
    }
}
