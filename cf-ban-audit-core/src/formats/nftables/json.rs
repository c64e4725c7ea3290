//! The JSON form (`nft -j list ruleset`, libnftables-json): `{"nftables": [ ... ]}`, read with
//! serde_json into the same model as the text form.

use chrono::{Duration, NaiveDateTime};
use serde_json::{Map, Value as Json};

use super::model::{
    expiry, parse_nets, Dir, Entry, Key, Match, Obj, Outcome, Rule, Ruleset, SetKind, Value,
    FAMILIES,
};
use super::text::{analyze_rule, tokenize, Token};
use crate::formats::Sink;

/// Reads a whole JSON document into `model`. An error is a document that is not nft's JSON.
pub(super) fn read(
    bytes: &[u8],
    now: NaiveDateTime,
    model: &mut Ruleset,
    sink: &mut dyn Sink,
) -> Result<(), String> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let doc: Json = serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
    let items = doc
        .get("nftables")
        .and_then(Json::as_array)
        .ok_or("not an nft JSON ruleset: no \"nftables\" array")?;
    for item in items {
        if let Some(obj) = item.as_object() {
            command(obj, now, model, sink);
        }
    }
    Ok(())
}

/// One item of the array: a listed object, or a command (`add`, `create`, `insert`, ...)
/// wrapping one as in `nft -j -f` input.
fn command(obj: &Map<String, Json>, now: NaiveDateTime, model: &mut Ruleset, sink: &mut dyn Sink) {
    for (key, value) in obj {
        let Some(inner) = value.as_object() else {
            continue;
        };
        match key.as_str() {
            "add" | "create" | "insert" | "replace" => command(inner, now, model, sink),
            "flush" => {
                if inner.contains_key("ruleset") {
                    model.clear();
                } else if let Some(set) = inner.get("set").or(inner.get("map")) {
                    if let Some(id) = ident(set, "name") {
                        model.flush_set(&id);
                    }
                } else if let Some(chain) = inner.get("chain") {
                    if let Some(id) = ident(chain, "name") {
                        model.flush_chain(&id);
                    }
                }
            }
            "set" | "map" | "element" => set(key, inner, now, model, sink),
            "chain" => {
                if let Some(id) = ident(value, "name") {
                    model.chain_mut(&id);
                }
            }
            "rule" => rule(inner, model, sink),
            _ => {}
        }
    }
}

fn family(v: &Json) -> String {
    v.get("family")
        .and_then(Json::as_str)
        .filter(|f| FAMILIES.contains(f))
        .unwrap_or("ip")
        .to_string()
}

/// `{family, table, <name_key>}` as an object id.
fn ident(v: &Json, name_key: &str) -> Option<Obj> {
    let table = v.get("table")?.as_str()?;
    let name = v.get(name_key)?.as_str()?;
    Some(Obj::new(&family(v), table, name))
}

fn type_names(v: Option<&Json>) -> Option<Vec<String>> {
    match v? {
        Json::String(s) => Some(vec![s.clone()]),
        Json::Array(a) => Some(
            a.iter()
                .map(|t| t.as_str().unwrap_or("").to_string())
                .collect(),
        ),
        _ => None,
    }
}

fn set(
    key: &str,
    v: &Map<String, Json>,
    now: NaiveDateTime,
    model: &mut Ruleset,
    sink: &mut dyn Sink,
) {
    let value = Json::Object(v.clone());
    let Some(id) = ident(&value, "name") else {
        return;
    };
    if key != "element" {
        model.declare_set(&id, key == "map");
        let set = model.set_mut(&id);
        if let Some(types) = type_names(v.get("type")) {
            set.addr_pos = Some(
                types
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| matches!(t.as_str(), "ipv4_addr" | "ipv6_addr"))
                    .map(|(i, _)| i.min(255) as u8)
                    .collect(),
            );
        }
        if key == "map" {
            set.kind = if v.get("map").and_then(Json::as_str) == Some("verdict") {
                SetKind::VerdictMap
            } else {
                SetKind::DataMap
            };
        }
    }
    let Some(elems) = v.get("elem").and_then(Json::as_array) else {
        return;
    };
    let set = model.set_mut(&id);
    if set.kind == SetKind::DataMap {
        return;
    }
    for elem in elems {
        let (key, verdict) = match elem.as_array() {
            Some(pair) if pair.len() == 2 => (&pair[0], Some(outcome(&pair[1]))),
            _ => (elem, None),
        };
        let (val, expires) = unwrap_elem(key, now);
        let comps = components(val);
        let count = comps.len();
        for (p, comp) in comps.into_iter().enumerate() {
            let p = p.min(255) as u8;
            let known = match &set.addr_pos {
                Some(positions) if !positions.contains(&p) => continue,
                Some(_) => true,
                None => false,
            };
            match nets(comp) {
                Some(nets) => {
                    let key = Key::of(&key_text(comp), nets.len(), count);
                    set.entries.extend(nets.into_iter().map(|net| Entry {
                        pos: p,
                        net,
                        expires,
                        line: 0,
                        verdict: verdict.clone(),
                        key: key.clone(),
                    }))
                }
                None if known && comp.as_str() != Some("*") => sink.malformed(
                    0,
                    format!(
                        "element of set {}/{} is not an address: {}",
                        id.table,
                        id.name,
                        short(comp)
                    ),
                ),
                None => {}
            }
        }
    }
}

fn short(v: &Json) -> String {
    let mut s = v.to_string();
    if s.len() > 64 {
        let mut cut = 64;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

/// `{"elem": {"val": V, "expires": N, ...}}` → (V, end).
fn unwrap_elem(v: &Json, now: NaiveDateTime) -> (&Json, Option<NaiveDateTime>) {
    match v.get("elem") {
        Some(inner) if inner.get("val").is_some() => {
            let expires = inner
                .get("expires")
                .and_then(Json::as_i64)
                .and_then(Duration::try_seconds)
                .and_then(|d| expiry(now, d));
            (&inner["val"], expires)
        }
        _ => (v, None),
    }
}

/// The components of a concatenation (one for a plain value).
fn components(v: &Json) -> Vec<&Json> {
    match v.get("concat").and_then(Json::as_array) {
        Some(parts) => parts.iter().collect(),
        None => vec![v],
    }
}

/// An address value: `"1.2.3.4"`, `{"prefix": {"addr", "len"}}`, `{"range": [a, b]}`.
fn nets(v: &Json) -> Option<Vec<ipnet::IpNet>> {
    match v {
        Json::String(s) => parse_nets(s),
        Json::Object(o) => {
            if let Some(p) = o.get("prefix") {
                let addr = p.get("addr")?.as_str()?;
                let len = p.get("len")?.as_u64()?;
                parse_nets(&format!("{addr}/{len}"))
            } else if let Some(r) = o.get("range").and_then(Json::as_array) {
                let (a, b) = (r.first()?.as_str()?, r.get(1)?.as_str()?);
                parse_nets(&format!("{a}-{b}"))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// An address value as nft writes it in text: `1.2.3.4`, `1.2.3.0/24`, `a-b`.
fn key_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Object(o) => {
            if let Some(p) = o.get("prefix") {
                let addr = p.get("addr").and_then(Json::as_str).unwrap_or_default();
                let len = p.get("len").and_then(Json::as_u64).unwrap_or_default();
                format!("{addr}/{len}")
            } else if let Some(r) = o.get("range").and_then(Json::as_array) {
                let end = |i: usize| r.get(i).and_then(Json::as_str).unwrap_or_default();
                format!("{}-{}", end(0), end(1))
            } else {
                short(v)
            }
        }
        _ => short(v),
    }
}

/// A verdict object: `{"drop": null}`, `{"jump": {"target": "c"}}`, ...
fn outcome(v: &Json) -> Outcome {
    let Some(obj) = v.as_object() else {
        return Outcome::Other;
    };
    let Some((key, inner)) = obj.iter().next() else {
        return Outcome::Other;
    };
    let target = inner.get("target").and_then(Json::as_str);
    Outcome::from_keyword(key, target).unwrap_or(Outcome::Other)
}

/// The position of each `saddr`/`daddr` in a match's left side.
fn address_keys(left: &Json) -> Vec<(u8, Dir)> {
    let one = |v: &Json| -> Option<Dir> {
        let (field, ok) = if let Some(p) = v.get("payload") {
            (
                p.get("field")?.as_str()?,
                matches!(p.get("protocol")?.as_str()?, "ip" | "ip6"),
            )
        } else if let Some(ct) = v.get("ct") {
            (ct.get("key")?.as_str()?, true)
        } else {
            return None;
        };
        match (field, ok) {
            ("saddr", true) => Some(Dir::Src),
            ("daddr", true) => Some(Dir::Dst),
            _ => None,
        }
    };
    components(left)
        .into_iter()
        .enumerate()
        .filter_map(|(i, c)| one(c).map(|d| (i.min(255) as u8, d)))
        .collect()
}

/// The entries of a right-hand side at concatenation position `pos`: one value, an anonymous
/// set, or (with verdicts) an anonymous verdict map.
fn entries(right: &Json, pos: u8, sink: &mut dyn Sink) -> Vec<Entry> {
    let items: Vec<&Json> = match right.get("set") {
        Some(Json::Array(items)) => items.iter().collect(),
        _ => vec![right],
    };
    let mut out = Vec::new();
    for item in items {
        let (key, verdict) = match item.as_array() {
            Some(pair) if pair.len() == 2 => (&pair[0], Some(outcome(&pair[1]))),
            _ => (item, None),
        };
        let (val, _) = unwrap_elem(key, NaiveDateTime::MIN);
        let Some(comp) = components(val).get(pos as usize).copied() else {
            continue;
        };
        match nets(comp) {
            Some(nets) => out.extend(nets.into_iter().map(|net| Entry {
                pos,
                net,
                expires: None,
                line: 0,
                verdict: verdict.clone(),
                key: Key::Whole,
            })),
            None if comp.as_str() == Some("*") => {}
            None => sink.malformed(0, format!("not an address: {}", short(comp))),
        }
    }
    out
}

fn rule(v: &Map<String, Json>, model: &mut Ruleset, sink: &mut dyn Sink) {
    let value = Json::Object(v.clone());
    let Some(chain) = ident(&value, "chain") else {
        return;
    };
    let mut rule = Rule::new(0);
    let mut verdict_seen = false;
    let exprs = v
        .get("expr")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    for stmt in &exprs {
        if let Some(text) = stmt.as_str() {
            // A statement nft has no JSON for (a chain binding): printed in the text form.
            let mut toks: Vec<Token> = Vec::new();
            for line in text.split('\n') {
                tokenize(line.as_bytes(), 0, &mut toks);
            }
            while toks
                .last()
                .is_some_and(|t| t.tok == super::text::Tok::Newline)
            {
                toks.pop();
            }
            let part = analyze_rule(model, &chain, &toks, sink);
            rule.matches.extend(part.matches);
            rule.xt.extend(part.xt);
            if !verdict_seen {
                rule.conditional |= part.conditional;
            }
            if part.outcome != Outcome::None {
                rule.outcome = part.outcome;
                verdict_seen = true;
            }
            continue;
        }
        let Some((key, inner)) = stmt.as_object().and_then(|o| o.iter().next()) else {
            continue;
        };
        match key.as_str() {
            "match" => {
                if !verdict_seen {
                    rule.conditional = true;
                }
                let negated = match inner.get("op").and_then(Json::as_str) {
                    Some("==" | "in") | None => false,
                    Some("!=") => true,
                    Some(_) => continue,
                };
                let (Some(left), Some(right)) = (inner.get("left"), inner.get("right")) else {
                    continue;
                };
                for (pos, dir) in address_keys(left) {
                    let value = match right.as_str() {
                        Some(name) if name.starts_with('@') => Value::Set(name[1..].to_string()),
                        _ => Value::Nets(entries(right, pos, sink)),
                    };
                    rule.matches.push(Match {
                        dir,
                        negated,
                        pos,
                        value,
                    });
                }
            }
            "vmap" => {
                if !verdict_seen {
                    rule.conditional = true;
                }
                rule.outcome = Outcome::Other;
                verdict_seen = true;
                let (Some(k), Some(data)) = (inner.get("key"), inner.get("data")) else {
                    continue;
                };
                for (pos, dir) in address_keys(k) {
                    let value = match data.as_str() {
                        Some(name) if name.starts_with('@') => {
                            Value::VmapSet(name[1..].to_string())
                        }
                        _ => Value::VmapInline(entries(data, pos, sink)),
                    };
                    rule.matches.push(Match {
                        dir,
                        negated: false,
                        pos,
                        value,
                    });
                }
            }
            "xt" => {
                let kind = inner.get("type").and_then(Json::as_str).unwrap_or("");
                let name = inner.get("name").and_then(Json::as_str).unwrap_or("");
                if kind == "target" {
                    if matches!(name, "REJECT" | "DROP") {
                        rule.outcome = Outcome::Drop;
                        verdict_seen = true;
                    }
                } else {
                    if !verdict_seen {
                        rule.conditional = true;
                    }
                    if matches!(name, "set" | "iprange" | "recent" | "geoip") {
                        rule.xt.push(name.to_string());
                    }
                }
            }
            "counter" | "log" | "comment" | "notrack" => {}
            "snat" | "dnat" | "masquerade" | "redirect" | "tproxy" | "queue" | "synproxy" => {
                rule.outcome = Outcome::Other;
                verdict_seen = true;
            }
            k => match Outcome::from_keyword(k, inner.get("target").and_then(Json::as_str)) {
                Some(Outcome::None) => {}
                Some(o) => {
                    rule.outcome = o;
                    verdict_seen = true;
                }
                None => {
                    if !verdict_seen {
                        rule.conditional = true;
                    }
                }
            },
        }
    }
    model.add_rule(&chain, rule);
}
