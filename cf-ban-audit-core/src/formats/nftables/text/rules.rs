//! The analysis of a rule: its matches on addresses and sets, and its outcome (a verdict, a
//! jump or goto, a verdict map, a chain binding).

use chrono::NaiveDateTime;

use super::statements::{element_parts, ElementParts};
use super::tokens::{Tok, Token};
use crate::formats::nftables::model::{
    parse_nets, Dir, Entry, Key, Match, Obj, Outcome, Rule, Ruleset, Value,
};
use crate::formats::Sink;

/// How deeply chain bindings (`jump { jump { ... } }`) may nest.
const MAX_BINDING_DEPTH: u8 = 16;

/// Words that may stand before a verdict without making the rule conditional.
const UNCONDITIONAL: &[&str] = &[
    "counter",
    "packets",
    "bytes",
    "log",
    "prefix",
    "level",
    "flags",
    "group",
    "snaplen",
    "queue-threshold",
    "emerg",
    "alert",
    "crit",
    "err",
    "warn",
    "notice",
    "info",
    "debug",
    "audit",
    "all",
    "comment",
    "notrack",
];

/// iptables matches whose addresses nft cannot show.
const HIDING_MATCHES: &[&str] = &["set", "iprange", "recent", "geoip"];

/// Words that end a concatenation's component list (they start the value or the next
/// statement).
const NOT_COMPONENT: &[&str] = &[
    "vmap", "map", "eq", "ne", "lt", "gt", "le", "ge", "and", "or", "xor", "set", "drop", "accept",
    "reject", "jump", "goto", "return", "continue", "counter", "log", "limit",
];

fn is_ident(w: &str) -> bool {
    let mut chars = w.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn is_component_word(t: &Token) -> bool {
    t.word().is_some_and(|w| {
        (is_ident(w) && !NOT_COMPONENT.contains(&w)) || (w.starts_with('@') && w.contains(','))
    })
}

/// The index just after the brace block opening at `open`.
fn skip_braces(toks: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t.tok {
            Tok::Open => depth += 1,
            Tok::Close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    toks.len()
}

/// The elements inside the braces opening at `open` (nested braces are flattened, as nft
/// does), and the index after the closing brace.
fn brace_elements(toks: &[Token], open: usize) -> (Vec<&[Token]>, usize) {
    let end = skip_braces(toks, open);
    let inner = &toks[(open + 1).min(end)..end.saturating_sub(1).max(open + 1).min(toks.len())];
    let elements = inner
        .split(|t| !matches!(t.tok, Tok::Word(_) | Tok::Str(_)))
        .filter(|e| !e.is_empty())
        .collect();
    (elements, end)
}

/// The statements of a block's tokens: split at new lines and `;` outside inner braces.
fn statements(toks: &[Token]) -> Vec<&[Token]> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        match t.tok {
            Tok::Open => depth += 1,
            Tok::Close => depth = depth.saturating_sub(1),
            Tok::Newline | Tok::Semi if depth == 0 => {
                if i > start {
                    out.push(&toks[start..i]);
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    if toks.len() > start {
        out.push(&toks[start..]);
    }
    out
}

/// Reads one rule: its address matches, whether it is conditional, and its verdict. Chain
/// bindings (`jump { ... }`) become anonymous chains of the model.
pub(in crate::formats::nftables) fn analyze_rule(
    model: &mut Ruleset,
    chain: &Obj,
    toks: &[Token],
    sink: &mut dyn Sink,
) -> Rule {
    analyze_nested(model, chain, toks, sink, 0)
}

fn analyze_nested(
    model: &mut Ruleset,
    chain: &Obj,
    toks: &[Token],
    sink: &mut dyn Sink,
    nesting: u8,
) -> Rule {
    let mut rule = Rule::new(toks.first().map_or(0, |t| t.line));
    let mut verdict_seen = false;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let w = match &t.tok {
            Tok::Word(w) => w.as_str(),
            Tok::Open => {
                if !verdict_seen {
                    rule.conditional = true;
                }
                i = skip_braces(toks, i);
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        let next = toks.get(i + 1).and_then(Token::word);
        match w {
            "comment" => {
                i += 2;
                continue;
            }
            "add" | "update" | "delete" if next.is_some_and(|n| n.starts_with('@')) => {
                // A dynamic set update: `add @s { ip saddr timeout 1h }`.
                i += 2;
                if toks.get(i).is_some_and(|t| t.tok == Tok::Open) {
                    i = skip_braces(toks, i);
                }
                continue;
            }
            "meter" => {
                if !verdict_seen {
                    rule.conditional = true;
                }
                while i < toks.len() && toks[i].tok != Tok::Open {
                    i += 1;
                }
                i = skip_braces(toks, i);
                continue;
            }
            "saddr" | "daddr" if i > 0 => {
                let prev = toks[i - 1].word();
                let start = match prev {
                    Some("ip" | "ip6") if i >= 3 && toks[i - 3].is_word("ct") => Some(i - 3),
                    Some("ip" | "ip6") => Some(i - 1),
                    Some("original" | "reply") if i >= 2 && toks[i - 2].is_word("ct") => {
                        Some(i - 2)
                    }
                    _ => None,
                };
                if !verdict_seen {
                    rule.conditional = true;
                }
                if let Some(start) = start {
                    let dir = if w == "saddr" { Dir::Src } else { Dir::Dst };
                    let (m, after) = parse_match(toks, start, i, dir, sink);
                    rule.matches.extend(m);
                    i = after;
                    continue;
                }
            }
            "xt" => {
                let kind = next.unwrap_or("");
                let name = match toks.get(i + 2).map(|t| &t.tok) {
                    Some(Tok::Word(n) | Tok::Str(n)) => n.as_str(),
                    _ => "",
                };
                let target = kind == "target"
                    || (kind == "?" && name.chars().next().is_some_and(|c| c.is_ascii_uppercase()));
                if target {
                    if matches!(name, "REJECT" | "DROP") {
                        rule.outcome = Outcome::Drop;
                        verdict_seen = true;
                    }
                } else {
                    if !verdict_seen {
                        rule.conditional = true;
                    }
                    if HIDING_MATCHES.contains(&name) {
                        rule.xt.push(name.to_string());
                    }
                }
                i += 3;
                continue;
            }
            "jump" | "goto"
                if nesting < MAX_BINDING_DEPTH
                    && toks.get(i + 1).is_some_and(|t| t.tok == Tok::Open) =>
            {
                // A chain binding: an anonymous chain written in place.
                let end = skip_braces(toks, i + 1);
                let inner = &toks[(i + 2).min(end)..end.saturating_sub(1).max(i + 2).min(end)];
                let name = model.anonymous_chain(chain);
                let id = chain.sibling(&name);
                for sub in statements(inner) {
                    let r = analyze_nested(model, &id, sub, sink, nesting + 1);
                    model.add_rule(&id, r);
                }
                rule.outcome = if w == "jump" {
                    Outcome::Jump(name)
                } else {
                    Outcome::Goto(name)
                };
                verdict_seen = true;
                i = end;
                continue;
            }
            "snat" | "dnat" | "masquerade" | "redirect" | "tproxy" | "vmap" | "synproxy" => {
                if w == "vmap" && !verdict_seen {
                    rule.conditional = true;
                }
                rule.outcome = Outcome::Other;
                verdict_seen = true;
            }
            _ => {
                if let Some(o) = Outcome::from_keyword(w, next) {
                    if o != Outcome::None {
                        rule.outcome = o;
                        verdict_seen = true;
                    }
                    if matches!(w, "jump" | "goto") {
                        i += 1;
                    }
                } else if !verdict_seen
                    && !UNCONDITIONAL.contains(&w)
                    && !w.bytes().all(|b| b.is_ascii_digit())
                {
                    rule.conditional = true;
                }
            }
        }
        i += 1;
    }
    rule
}

/// Reads the match whose key holds `saddr`/`daddr` at `key` (its expression starting at
/// `start`): the key's place in a concatenation, the operator, the value. Returns the match
/// (none for a comparison that is not equality, a mangling `ip saddr set`, a data map) and
/// the index after what was read.
fn parse_match(
    toks: &[Token],
    start: usize,
    key: usize,
    dir: Dir,
    sink: &mut dyn Sink,
) -> (Option<Match>, usize) {
    // Components before: `iifname . ip saddr` → position 1.
    let mut pos = 0usize;
    let mut j = start;
    while j >= 1 && toks[j - 1].is_word(".") {
        pos += 1;
        j -= 1;
        let mut n = 0;
        while n < 4 && j >= 1 && is_component_word(&toks[j - 1]) {
            j -= 1;
            n += 1;
        }
    }
    // Components after: `ip saddr . tcp dport`.
    let mut k = key + 1;
    while toks.get(k).is_some_and(|t| t.is_word(".")) {
        k += 1;
        let mut n = 0;
        while n < 4 && toks.get(k).is_some_and(is_component_word) {
            k += 1;
            n += 1;
        }
    }
    let pos = pos.min(255) as u8;
    let mut negated = false;
    match toks.get(k).and_then(Token::word) {
        Some("==" | "eq") => k += 1,
        Some("!=" | "ne") => {
            negated = true;
            k += 1;
        }
        Some(
            "set" | "map" | "<" | ">" | "<=" | ">=" | "lt" | "gt" | "le" | "ge" | "&" | "|" | "^"
            | "<<" | ">>" | "and" | "or" | "xor" | "lshift" | "rshift",
        ) => return (None, k + 1),
        _ => {}
    }
    let Some(t) = toks.get(k) else {
        return (None, k);
    };
    let m = |value| Match {
        dir,
        negated,
        pos,
        value,
    };
    match &t.tok {
        Tok::Open => {
            let (elements, end) = brace_elements(toks, k);
            let mut entries = Vec::new();
            for e in elements {
                let parts = element_parts(e, NaiveDateTime::MIN);
                entries.extend(component(&parts, pos, sink));
            }
            (Some(m(Value::Nets(entries))), end)
        }
        Tok::Word(w) if w == "vmap" => match toks.get(k + 1).map(|t| &t.tok) {
            Some(Tok::Open) => {
                let (elements, end) = brace_elements(toks, k + 1);
                let mut entries = Vec::new();
                for e in elements {
                    let parts = element_parts(e, NaiveDateTime::MIN);
                    entries.extend(component(&parts, pos, sink));
                }
                (Some(m(Value::VmapInline(entries))), end)
            }
            Some(Tok::Word(name)) if name.starts_with('@') => {
                (Some(m(Value::VmapSet(name[1..].to_string()))), k + 2)
            }
            _ => (None, k + 1),
        },
        Tok::Word(w) if w.starts_with('@') && !w.contains(',') => {
            (Some(m(Value::Set(w[1..].to_string()))), k + 1)
        }
        Tok::Word(w) if !is_ident(w) || w.contains(':') => {
            // An inline value, maybe a concatenation `1.2.3.4 . 22`.
            let mut end = k + 1;
            while toks.get(end).is_some_and(|t| t.is_word(".")) && toks.get(end + 1).is_some() {
                end += 2;
            }
            let parts = element_parts(&toks[k..end], NaiveDateTime::MIN);
            let entries = component(&parts, pos, sink);
            (Some(m(Value::Nets(entries))), end)
        }
        _ => (None, k),
    }
}

/// The networks of an element's component `pos` (with the element's verdict).
fn component(parts: &ElementParts<'_>, pos: u8, sink: &mut dyn Sink) -> Vec<Entry> {
    let Some(t) = parts.comps.get(pos as usize) else {
        return Vec::new();
    };
    let Some(word) = t.word() else {
        return Vec::new();
    };
    if word == "*" {
        return Vec::new();
    }
    match parse_nets(word) {
        Some(nets) => nets
            .into_iter()
            .map(|net| Entry {
                pos,
                net,
                expires: None,
                line: t.line,
                verdict: parts.verdict.clone(),
                key: Key::Whole,
            })
            .collect(),
        None => {
            sink.malformed(t.line, format!("not an address: {word:?}"));
            Vec::new()
        }
    }
}
