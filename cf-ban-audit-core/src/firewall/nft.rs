//! nftables rulesets: tables, chains (with the hook, priority, policy and device of base
//! chains), named sets and maps with their elements, and rules, as the nft text reader reads
//! them (`nft list ruleset`, or a file in the same block syntax with `define`s).

use std::collections::BTreeMap;

/// A token of nft's syntax, as the nft reader's tokenizer splits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// A word: a keyword, a name, an address, a number, an operator (`==`, `.`, `:`).
    Word(String),
    /// A quoted string, without its quotes (a comment, a log prefix, an interface name).
    Str(String),
    /// `{`
    Open,
    /// `}`
    Close,
    /// `,`
    Comma,
    /// `;`
    Semi,
    /// A line end.
    Newline,
}

impl Tok {
    /// The text of a word or a quoted string.
    pub fn text(&self) -> Option<&str> {
        match self {
            Tok::Word(w) | Tok::Str(w) => Some(w),
            _ => None,
        }
    }
}

/// Renders tokens back as text, one space between them (none before a comma), quoted strings
/// in quotes: the way rules are named in reports.
pub fn render(toks: &[Tok]) -> String {
    let mut s = String::new();
    for t in toks {
        let piece = match t {
            Tok::Word(w) => w.clone(),
            Tok::Str(w) => format!("\"{w}\""),
            Tok::Open => "{".into(),
            Tok::Close => "}".into(),
            Tok::Semi => ";".into(),
            Tok::Newline => continue,
            Tok::Comma => ",".into(),
        };
        if !s.is_empty() && !matches!(t, Tok::Comma) {
            s.push(' ');
        }
        s.push_str(&piece);
    }
    s
}

/// A parsed ruleset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NftRuleset {
    /// The tables in the order they were first declared.
    pub tables: Vec<NftTable>,
    /// Commands outside table blocks that were not read (`add rule ...`, `include ...`),
    /// as text: they may add rules the model does not hold.
    pub unread: Vec<String>,
}

/// One table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NftTable {
    /// `ip`, `ip6`, `inet`, `netdev`, `bridge`, `arp`.
    pub family: String,
    /// Its name.
    pub name: String,
    /// Chains by name.
    pub chains: BTreeMap<String, NftChain>,
    /// Sets and maps by name.
    pub sets: BTreeMap<String, NftSet>,
    /// `flags dormant`: the table does nothing.
    pub dormant: bool,
}

/// A chain: its base-chain definition if any, and its rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NftChain {
    /// Set for base chains.
    pub base: Option<BaseChain>,
    /// The rules in order.
    pub rules: Vec<NftRule>,
}

/// A base chain's type, hook, priority, policy and device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseChain {
    /// `filter`, `nat`, `route`.
    pub kind: String,
    /// `input`, `prerouting`, `ingress`, ...
    pub hook: String,
    /// The numeric priority (names resolved: `filter` 0, `raw` -300, ...).
    pub priority: i32,
    /// `accept` or `drop`.
    pub policy: String,
    /// The device of an ingress chain.
    pub device: Option<String>,
}

/// One rule: its expressions and statements, as tokens (`$defines` expanded, line ends
/// dropped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NftRule {
    /// The line it starts on.
    pub line: u64,
    /// Its tokens.
    pub tokens: Vec<Tok>,
}

impl NftRule {
    /// The rule as text (see [`render`]).
    pub fn text(&self) -> String {
        render(&self.tokens)
    }
}

/// A named set or map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NftSet {
    /// The key type (`ipv4_addr`, `inet_service`, `ipv4_addr . inet_service`, or
    /// `typeof ...`).
    pub key_type: String,
    /// For a map, its value type (`verdict`, `ipv4_addr`; empty when not declared).
    pub value_type: Option<String>,
    /// The elements in order.
    pub elements: Vec<NftElement>,
}

/// Options that may follow an element's key.
const ELEMENT_OPTIONS: &[&str] = &[
    "timeout", "expires", "counter", "comment", "packets", "bytes",
];

/// The elements of an anonymous set or verdict map written in a rule (`{ a, b }`,
/// `{ a : drop, b : accept }`; the group's tokens, braces included).
pub fn inline_elements(group: &[Tok]) -> Vec<NftElement> {
    let inner = if group.len() >= 2 {
        &group[1..group.len() - 1]
    } else {
        &[][..]
    };
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut cur: Vec<Tok> = Vec::new();
    for t in inner {
        match t {
            Tok::Comma if depth == 0 => {
                if !cur.is_empty() {
                    out.push(NftElement::from_tokens(&std::mem::take(&mut cur)));
                }
                continue;
            }
            Tok::Open => depth += 1,
            Tok::Close => depth = depth.saturating_sub(1),
            Tok::Newline => continue,
            _ => {}
        }
        cur.push(t.clone());
    }
    if !cur.is_empty() {
        out.push(NftElement::from_tokens(&cur));
    }
    out
}

/// One element of a set or map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NftElement {
    /// The key's tokens (one for an address, a network, a range or a port; several for a
    /// concatenation `1.2.3.4 . 80`).
    pub key: Vec<Tok>,
    /// For a map, the value's tokens (`drop`, `jump chain`).
    pub value: Option<Vec<Tok>>,
    /// `timeout` as written (`1h`).
    pub timeout: Option<String>,
    /// `expires` as written: the time left when the ruleset was listed.
    pub expires: Option<String>,
}

impl NftElement {
    /// An element from its tokens: the key up to its options (`timeout`, `expires`,
    /// `counter`, `comment`), the value after a ` : `.
    pub fn from_tokens(toks: &[Tok]) -> NftElement {
        let colon = toks
            .iter()
            .position(|t| matches!(t, Tok::Word(w) if w == ":"));
        let (key, value) = match colon {
            Some(c) => (&toks[..c], Some(toks[c + 1..].to_vec())),
            None => (toks, None),
        };
        let option = |name: &str| {
            key.iter()
                .position(|t| t.text() == Some(name))
                .and_then(|i| key.get(i + 1))
                .and_then(Tok::text)
                .map(str::to_string)
        };
        let end = key
            .iter()
            .position(|t| t.text().is_some_and(|w| ELEMENT_OPTIONS.contains(&w)))
            .unwrap_or(key.len());
        NftElement {
            key: key[..end].to_vec(),
            value,
            timeout: option("timeout"),
            expires: option("expires"),
        }
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn render() {
        use crate::firewall::nft::{render, Tok};
        let toks = [
            Tok::Word("iifname".into()),
            Tok::Str("lo".into()),
            Tok::Open,
            Tok::Word("80".into()),
            Tok::Comma,
            Tok::Word("443".into()),
            Tok::Close,
        ];
        assert_eq!(render(&toks), "iifname \"lo\" { 80, 443 }");
    }

    #[test]
    fn parse() {
        use crate::firewall::nft::NftRuleset;
        let rs = NftRuleset::parse("table inet f {\n\tset bans {\n\t\ttype ipv4_addr\n\t\telements = { 1.2.3.4 timeout 1h expires 59m }\n\t}\n\tchain input {\n\t\ttype filter hook input priority filter - 10; policy drop;\n\t\tip saddr @bans drop\n\t}\n}\nadd rule inet f input accept\n");
        let t = &rs.tables[0];
        let base = t.chains["input"].base.as_ref().unwrap();
        assert_eq!(
            (base.hook.as_str(), base.priority, base.policy.as_str()),
            ("input", -10, "drop")
        );
        assert_eq!(t.chains["input"].rules[0].text(), "ip saddr @bans drop");
        let e = &t.sets["bans"].elements[0];
        assert_eq!(
            (e.key.clone(), e.timeout.as_deref(), e.expires.as_deref()),
            (
                vec![crate::firewall::nft::Tok::Word("1.2.3.4".into())],
                Some("1h"),
                Some("59m")
            )
        );
        assert_eq!(rs.unread, ["add rule inet f input accept"]);
    }

    #[test]
    fn inline_elements() {
        use crate::firewall::nft::{inline_elements, Tok};
        let w = |s: &str| Tok::Word(s.into());
        let group = [
            Tok::Open,
            w("1.2.3.4"),
            w(":"),
            w("drop"),
            Tok::Comma,
            w("10.0.0.0/8"),
            w("timeout"),
            w("1h"),
            Tok::Close,
        ];
        let e = inline_elements(&group);
        assert_eq!(
            (e[0].key.clone(), e[0].value.clone()),
            (vec![w("1.2.3.4")], Some(vec![w("drop")]))
        );
        assert_eq!(
            (e[1].key.clone(), e[1].timeout.as_deref()),
            (vec![w("10.0.0.0/8")], Some("1h"))
        );
    }
}
