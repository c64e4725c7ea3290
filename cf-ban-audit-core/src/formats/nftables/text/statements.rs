//! The statements of the text form: table, chain, set and map declarations, `add`/`insert`
//! commands and set elements, read into the model.

use chrono::NaiveDateTime;

use super::{analyze_rule, recycle, TextReader, Tok, Token, IMPLICIT_ADD};
use crate::formats::nftables::model::{
    expiry, parse_duration, parse_nets, Entry, Key, Obj, Outcome, SetKind, FAMILIES,
};
use crate::formats::Sink;

impl TextReader {
    pub(super) fn top_stmt(&mut self, stmt: &[Token], sink: &mut dyn Sink) {
        let mut words: Vec<&str> = stmt.iter().map_while(Token::word).collect();
        // `add` may be left out (`rule ip t c ...`): the words are read as if it were there.
        let verb_len = match words.first() {
            Some(w) if IMPLICIT_ADD.contains(w) => {
                words.insert(0, "add");
                0
            }
            _ => 1,
        };
        let line = stmt[0].line;
        match words.as_slice() {
            ["flush", "ruleset", ..] => self.model.clear(),
            ["include", ..] => {
                let file = match stmt.get(1).map(|t| &t.tok) {
                    Some(Tok::Str(s)) => s.clone(),
                    _ => String::new(),
                };
                sink.note(format!(
                    "line {line}: include \"{file}\" is not followed: scan the included files \
                     too (sets they define are resolved there)"
                ));
            }
            ["define" | "redefine", name, "=", ..] => {
                let value = stmt[3..].iter().map(|t| t.tok.clone()).collect();
                self.vars.insert(name.to_string(), value);
            }
            ["undefine", name, ..] => {
                self.vars.remove(*name);
            }
            ["add" | "insert" | "replace" | "create", "rule", rest @ ..] => {
                // `FAMILY TABLE CHAIN` or `TABLE CHAIN`, maybe `handle|index|position N`.
                let (chain, spec) = match rest {
                    [family, table, name, ..] if FAMILIES.contains(family) => {
                        (Obj::new(family, table, name), 3)
                    }
                    [table, name, ..] => (Obj::new("ip", table, name), 2),
                    _ => {
                        sink.malformed(line, "rule without table and chain".into());
                        return;
                    }
                };
                let mut start = verb_len + 1 + spec;
                if matches!(
                    stmt.get(start).and_then(Token::word),
                    Some("handle" | "index" | "position")
                ) {
                    start += 2;
                }
                let body = stmt.get(start..).unwrap_or(&[]);
                if !body.is_empty() {
                    let rule = analyze_rule(&mut self.model, &chain, body, sink);
                    self.model.add_rule(&chain, rule);
                }
            }
            ["add" | "create", "table", ..] => {}
            ["add" | "create", kind @ ("set" | "map"), rest @ ..] => {
                if let Some(id) = object_spec(rest) {
                    self.model.declare_set(&id, *kind == "map");
                }
            }
            ["add" | "create", "chain", rest @ ..] => {
                if let Some(id) = object_spec(rest) {
                    self.model.chain_mut(&id);
                }
            }
            ["flush", "set" | "map", rest @ ..] => {
                if let Some(id) = object_spec(rest) {
                    self.model.flush_set(&id);
                }
            }
            ["flush", "chain", rest @ ..] => {
                if let Some(id) = object_spec(rest) {
                    self.model.flush_chain(&id);
                }
            }
            ["flush", "table", rest @ ..] => {
                if let Some((family, name)) = table_spec(rest) {
                    self.model.flush_table(&family, &name);
                }
            }
            ["delete" | "destroy", "table", rest @ ..] => {
                if let Some((family, name)) = table_spec(rest) {
                    self.model.delete_table(&family, &name);
                }
            }
            ["delete" | "destroy" | "list" | "reset" | "flush" | "rename" | "monitor"
            | "describe" | "export" | "import" | "get" | "add" | "create" | "insert"
            | "replace", ..] => {}
            _ => sink.malformed(
                line,
                format!(
                    "not an nft statement: {:?}",
                    words.first().copied().unwrap_or("(no keyword)")
                ),
            ),
        }
    }

    pub(super) fn set_stmt(&mut self, id: &Obj, stmt: &[Token]) {
        let words: Vec<&str> = stmt.iter().filter_map(Token::word).collect();
        let (typeof_, rest) = match words.split_first() {
            Some((&"type", rest)) => (false, rest),
            Some((&"typeof", rest)) => (true, rest),
            _ => return,
        };
        let colon = rest.iter().position(|w| *w == ":");
        let key = &rest[..colon.unwrap_or(rest.len())];
        let addr_pos = key
            .split(|w| *w == ".")
            .enumerate()
            .filter(|(_, c)| {
                if typeof_ {
                    is_addr_expr(c)
                } else {
                    matches!(c, ["ipv4_addr" | "ipv6_addr"])
                }
            })
            .map(|(i, _)| i.min(255) as u8)
            .collect();
        let set = self.model.set_mut(id);
        set.addr_pos = Some(addr_pos);
        if let Some(c) = colon {
            set.kind = if rest[c + 1..] == ["verdict"] {
                SetKind::VerdictMap
            } else {
                SetKind::DataMap
            };
        }
    }

    /// Reads the element gathered in `self.elem` into the set.
    pub(super) fn finish_elem(&mut self, index: usize, id: &Obj, sink: &mut dyn Sink) {
        if self.elem.is_empty() {
            return;
        }
        let elem = std::mem::take(&mut self.elem);
        if let Some(full) = &mut self.full {
            full.element(id, &elem);
        }
        let now = self.written;
        let set = self.model.set_at(index);
        if set.kind == SetKind::DataMap {
            self.elem = recycle(elem);
            return;
        }
        let parts = element_parts(&elem, now);
        for (p, comp) in parts.comps.iter().enumerate() {
            let p = p.min(255) as u8;
            let known = match &set.addr_pos {
                Some(positions) if !positions.contains(&p) => continue,
                Some(_) => true,
                None => false,
            };
            let Some(word) = comp.word() else { continue };
            if word == "*" {
                continue;
            }
            match parse_nets(word) {
                Some(nets) => {
                    let key = Key::of(word, nets.len(), parts.comps.len());
                    set.entries.extend(nets.into_iter().map(|net| Entry {
                        pos: p,
                        net,
                        expires: parts.expires,
                        line: comp.line,
                        verdict: parts.verdict.clone(),
                        key: key.clone(),
                    }))
                }
                None if known => sink.malformed(
                    comp.line,
                    format!(
                        "element of set {}/{} is not an address: {word:?}",
                        set.id.table, set.id.name
                    ),
                ),
                None => {}
            }
        }
        self.elem = recycle(elem);
    }
}

/// `FAMILY NAME` or `NAME` (family `ip`).
pub(super) fn table_spec(words: &[&str]) -> Option<(String, String)> {
    match words {
        [family, name] if FAMILIES.contains(family) => Some((family.to_string(), name.to_string())),
        [name] => Some(("ip".into(), name.to_string())),
        _ => None,
    }
}

/// `FAMILY TABLE NAME` or `TABLE NAME` (family `ip`).
pub(super) fn object_spec(words: &[&str]) -> Option<Obj> {
    match words {
        [family, table, name] if FAMILIES.contains(family) => Some(Obj::new(family, table, name)),
        [table, name] => Some(Obj::new("ip", table, name)),
        _ => None,
    }
}

/// `ip saddr`, `ip6 daddr`, `ct original ip saddr` in a `typeof`.
fn is_addr_expr(words: &[&str]) -> bool {
    matches!(
        words,
        [.., "ip" | "ip6" | "original" | "reply", "saddr" | "daddr"]
    )
}

/// An element: its key components (split at ` . `), its verdict (after ` : `) and its end
/// (`expires`).
pub(super) struct ElementParts<'a> {
    pub(super) comps: Vec<&'a Token>,
    pub(super) verdict: Option<Outcome>,
    expires: Option<NaiveDateTime>,
}

pub(super) fn element_parts(toks: &[Token], now: NaiveDateTime) -> ElementParts<'_> {
    let colon = toks.iter().position(|t| t.is_word(":"));
    let key = &toks[..colon.unwrap_or(toks.len())];
    let mut comps = Vec::new();
    let mut expect = true;
    let mut options = &key[key.len()..];
    for (i, t) in key.iter().enumerate() {
        if expect {
            comps.push(t);
            expect = false;
        } else if t.is_word(".") {
            expect = true;
        } else {
            options = &key[i..];
            break;
        }
    }
    // Only `expires` (the time left) gives an end: a `timeout` alone, as in a configuration
    // file, runs from when the file is loaded, which is unknown.
    let expires = options
        .iter()
        .position(|t| t.is_word("expires"))
        .and_then(|i| options.get(i + 1))
        .and_then(Token::word)
        .and_then(parse_duration)
        .and_then(|d| expiry(now, d));
    let verdict = colon.and_then(|c| {
        let value = &toks[c + 1..];
        let w0 = value.first()?.word()?;
        Some(
            Outcome::from_keyword(w0, value.get(1).and_then(Token::word)).unwrap_or(Outcome::Other),
        )
    });
    ElementParts {
        comps,
        verdict,
        expires,
    }
}
