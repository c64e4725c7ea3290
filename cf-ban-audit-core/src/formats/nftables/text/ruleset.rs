//! The whole ruleset as the firewall model ([`NftRuleset`]), built beside the scan's model
//! when asked for: the [`TextReader`] hands over each table, chain, set, element and statement
//! it reads.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::{TextReader, Tok, Token};
use crate::event::BanEvent;
use crate::firewall::nft::{
    render, BaseChain, NftChain, NftElement, NftRule, NftRuleset, NftSet, NftTable,
};
use crate::formats::nftables::model::Obj;
use crate::formats::Sink;

/// The firewall model under construction.
#[derive(Debug, Default)]
pub(in crate::formats::nftables) struct FullModel {
    pub rs: NftRuleset,
    tables: HashMap<(String, String), usize>,
}

fn words(toks: &[Token]) -> Vec<&str> {
    toks.iter().filter_map(|t| t.tok.text()).collect()
}

fn plain(toks: &[Token]) -> Vec<Tok> {
    toks.iter()
        .filter(|t| t.tok != Tok::Newline)
        .map(|t| t.tok.clone())
        .collect()
}

impl FullModel {
    /// The table `family name`, declared when new.
    pub fn table(&mut self, family: &str, name: &str) -> &mut NftTable {
        let key = (family.to_string(), name.to_string());
        let i = match self.tables.get(&key) {
            Some(&i) => i,
            None => {
                self.rs.tables.push(NftTable {
                    family: family.to_string(),
                    name: name.to_string(),
                    ..NftTable::default()
                });
                self.tables.insert(key, self.rs.tables.len() - 1);
                self.rs.tables.len() - 1
            }
        };
        &mut self.rs.tables[i]
    }

    fn chain(&mut self, id: &Obj) -> &mut NftChain {
        self.table(&id.family, &id.table)
            .chains
            .entry(id.name.clone())
            .or_default()
    }

    /// Declares a set (or a map).
    pub fn set(&mut self, id: &Obj, is_map: bool) -> &mut NftSet {
        let set = self
            .table(&id.family, &id.table)
            .sets
            .entry(id.name.clone())
            .or_default();
        if is_map && set.value_type.is_none() {
            set.value_type = Some(String::new());
        }
        set
    }

    /// Declares a chain.
    pub fn declare_chain(&mut self, id: &Obj) {
        self.chain(id);
    }

    /// A command outside the table blocks the model reads.
    pub fn unread(&mut self, toks: &[Token]) {
        self.rs.unread.push(render(&plain(toks)));
    }

    /// A statement of a table block (`flags dormant`).
    pub fn table_stmt(&mut self, family: &str, name: &str, stmt: &[Token]) {
        let w = words(stmt);
        if w.first() == Some(&"flags") && w.contains(&"dormant") {
            self.table(family, name).dormant = true;
        }
    }

    /// A statement of a chain block: its type and policy, or a rule.
    pub fn chain_stmt(&mut self, id: &Obj, stmt: &[Token]) {
        let chain = self.chain(id);
        let w = words(stmt);
        match stmt.first().and_then(|t| t.tok.text()) {
            Some("type") => {
                let after = |key: &str| {
                    w.iter()
                        .position(|x| *x == key)
                        .and_then(|i| w.get(i + 1))
                        .map(|s| s.to_string())
                };
                let policy = chain
                    .base
                    .as_ref()
                    .map(|b| b.policy.clone())
                    .unwrap_or_else(|| "accept".into());
                chain.base = Some(BaseChain {
                    kind: w.get(1).copied().unwrap_or("filter").to_string(),
                    hook: after("hook").unwrap_or_default(),
                    priority: w
                        .iter()
                        .position(|x| *x == "priority")
                        .map(|i| priority_value(&w[i + 1..]))
                        .unwrap_or(0),
                    policy,
                    device: after("device"),
                });
            }
            Some("policy") => {
                let policy = w.get(1).copied().unwrap_or("accept").to_string();
                match &mut chain.base {
                    Some(b) => b.policy = policy,
                    None => {
                        chain.base = Some(BaseChain {
                            kind: "filter".into(),
                            hook: String::new(),
                            priority: 0,
                            policy,
                            device: None,
                        })
                    }
                }
            }
            Some("comment" | "devices") | None => {}
            Some(_) => chain.rules.push(NftRule {
                line: stmt[0].line,
                tokens: plain(stmt),
            }),
        }
    }

    /// A statement of a set block: its `type` or `typeof`.
    pub fn set_stmt(&mut self, id: &Obj, stmt: &[Token]) {
        let set = self.set(id, false);
        let is_map = set.value_type.is_some();
        let (typeof_, rest) = match stmt.first().and_then(|t| t.tok.text()) {
            Some("type") => (false, &stmt[1..]),
            Some("typeof") => (true, &stmt[1..]),
            _ => return,
        };
        let text = render(&plain(rest));
        match text.split_once(" : ") {
            Some((k, v)) if is_map => {
                set.key_type = k.to_string();
                set.value_type = Some(v.to_string());
            }
            _ => set.key_type = text,
        }
        if typeof_ {
            set.key_type = format!("typeof {}", set.key_type);
        }
    }

    /// One element of a set or map.
    pub fn element(&mut self, id: &Obj, elem: &[Token]) {
        let element = NftElement::from_tokens(&plain(elem));
        self.set(id, false).elements.push(element);
    }
}

/// A chain priority: a number, or a name with an offset (`filter - 2`, `mangle`).
pub(in crate::formats::nftables) fn priority_value(words: &[&str]) -> i32 {
    let base: i32 = match words.first().copied().unwrap_or("0") {
        "raw" => -300,
        "mangle" => -150,
        "dstnat" => -100,
        "filter" => 0,
        "security" => 50,
        "srcnat" => 100,
        w => w.parse().unwrap_or(0),
    };
    let offset = match (
        words.get(1).copied(),
        words.get(2).and_then(|w| w.parse::<i32>().ok()),
    ) {
        (Some("+"), Some(n)) => n,
        (Some("-"), Some(n)) => n.checked_neg().unwrap_or(0),
        (Some(w), _) if w.starts_with('+') || w.starts_with('-') => w.parse().unwrap_or(0),
        _ => 0,
    };
    base.saturating_add(offset)
}

/// Reads a whole ruleset in the text form into the firewall model (see
/// [`NftRuleset::parse`]).
pub(crate) fn read_ruleset(text: &[u8]) -> NftRuleset {
    struct Discard;
    impl Sink for Discard {
        fn event(&mut self, _: BanEvent) {}
        fn malformed(&mut self, _: u64, _: String) {}
    }
    let mut reader = TextReader::new(NaiveDateTime::default());
    reader.full = Some(FullModel::default());
    let mut last = 0;
    for (n, line) in text.split(|&b| b == b'\n').enumerate() {
        last = n as u64 + 1;
        reader.line(last, line, &mut Discard);
    }
    reader.finish(last, &mut Discard);
    reader.full.take().map(|f| f.rs).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::tokenize;
    use super::*;

    /// Moved from the doctor's nft evaluator with its tokenizer: the one tokenizer keeps a `:`
    /// standing alone (a map element's separator, `Tok::Colon` there) as the word `:`.
    #[test]
    fn tokens_and_priorities() {
        assert_eq!(priority_value(&["filter", "-", "2"]), -2);
        assert_eq!(priority_value(&["mangle"]), -150);
        let mut toks = Vec::new();
        for (n, line) in "ip saddr { 1.2.3.4, 2400:cb00::/32 } # c\nx : y"
            .lines()
            .enumerate()
        {
            tokenize(line.as_bytes(), n as u64 + 1, &mut toks);
        }
        let t: Vec<Tok> = toks.into_iter().map(|t| t.tok).collect();
        assert!(t.contains(&Tok::Word(":".into())));
        assert!(t.contains(&Tok::Word("2400:cb00::/32".into())));
    }
}
