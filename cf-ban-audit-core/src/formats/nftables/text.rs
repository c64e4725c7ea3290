//! The text form: a tokenizer for nft's syntax (words, quoted strings, braces, `#` comments)
//! and a push parser fed one line at a time, so that a set of a million elements is read
//! element by element, never held as text.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::model::{
    expiry, parse_duration, parse_nets, Dir, Entry, Match, Obj, Outcome, Rule, Ruleset, SetKind,
    Value, FAMILIES,
};
use crate::formats::Sink;

/// One token of nft's syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tok {
    /// A word: a keyword, a name, an address, a number, an operator (`==`, `.`, `:`).
    Word(String),
    /// A quoted string (a comment, a log prefix, an interface name): never structure.
    Str(String),
    Open,
    Close,
    Comma,
    Semi,
    Newline,
}

/// A token and the line it was read on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub tok: Tok,
    pub line: u64,
}

impl Token {
    fn word(&self) -> Option<&str> {
        match &self.tok {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }

    fn is_word(&self, w: &str) -> bool {
        self.word() == Some(w)
    }
}

/// The raw payload bases (`@ih,32,32`), which are not set references.
const RAW_BASES: &[&[u8]] = &[b"@ll", b"@nh", b"@th", b"@ih"];

/// The most tokens one statement may hold (a rule with a huge anonymous set); the rest of a
/// longer statement is not read.
const MAX_STMT_TOKENS: usize = 1 << 22;

/// How deep `$variables` may expand into each other.
const MAX_EXPANSION: u8 = 16;

/// The most tokens `$variables` may expand to in one input (definitions that use each other
/// many times over grow exponentially).
const MAX_EXPANDED: usize = 1 << 21;

/// The commands that may be written without their `add`.
const IMPLICIT_ADD: &[&str] = &[
    "table",
    "chain",
    "set",
    "map",
    "element",
    "rule",
    "flowtable",
    "counter",
    "quota",
    "ct",
    "limit",
    "secmark",
    "synproxy",
];

/// How deeply chain bindings (`jump { jump { ... } }`) may nest.
const MAX_BINDING_DEPTH: u8 = 16;

fn ends_word(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t'
            | b'\r'
            | 0x0b
            | 0x0c
            | b'{'
            | b'}'
            | b','
            | b';'
            | b'"'
            | b'#'
            | b'('
            | b')'
            | b'='
            | b'!'
            | b'<'
            | b'>'
    )
}

fn is_op(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'<' | b'>')
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Splits one line into tokens, ending with [`Tok::Newline`] unless the line ends with a `\`
/// continuation. `# xt_NAME` (how nft without libxtables prints an iptables match or target)
/// becomes the words `xt ? NAME`, and the line goes on after it; any other `#` starts a
/// comment.
pub(super) fn tokenize(line: &[u8], lineno: u64, out: &mut Vec<Token>) {
    let push = |tok: Tok, out: &mut Vec<Token>| out.push(Token { tok, line: lineno });
    let mut i = 0;
    let mut continued = false;
    while i < line.len() {
        let b = line[i];
        match b {
            b' ' | b'\t' | b'\r' | 0x0b | 0x0c => i += 1,
            b'#' => {
                let mut j = i + 1;
                while j < line.len() && line[j] == b' ' {
                    j += 1;
                }
                if line[j..].starts_with(b"xt_") {
                    let start = j + 3;
                    let mut k = start;
                    while k < line.len() && !ends_word(line[k]) {
                        k += 1;
                    }
                    if k > start {
                        push(Tok::Word("xt".into()), out);
                        push(Tok::Word("?".into()), out);
                        push(Tok::Word(text(&line[start..k])), out);
                        i = k;
                        continue;
                    }
                }
                break;
            }
            b'"' => {
                let start = i + 1;
                let end = memchr::memchr(b'"', &line[start..]).map_or(line.len(), |p| start + p);
                push(Tok::Str(text(&line[start..end])), out);
                i = end + 1;
            }
            b'{' => {
                push(Tok::Open, out);
                i += 1;
            }
            b'}' => {
                push(Tok::Close, out);
                i += 1;
            }
            b',' => {
                push(Tok::Comma, out);
                i += 1;
            }
            b';' => {
                push(Tok::Semi, out);
                i += 1;
            }
            b'(' | b')' => {
                push(Tok::Word(text(&line[i..i + 1])), out);
                i += 1;
            }
            _ if is_op(b) => {
                let start = i;
                while i < line.len() && is_op(line[i]) {
                    i += 1;
                }
                push(Tok::Word(text(&line[start..i])), out);
            }
            _ => {
                let start = i;
                while i < line.len() && !ends_word(line[i]) {
                    i += 1;
                }
                if RAW_BASES.contains(&&line[start..i]) {
                    while i + 1 < line.len() && line[i] == b',' && line[i + 1].is_ascii_digit() {
                        i += 1;
                        while i < line.len() && !ends_word(line[i]) {
                            i += 1;
                        }
                    }
                }
                let word = &line[start..i];
                if word == b"\\" && line[i..].iter().all(u8::is_ascii_whitespace) {
                    continued = true;
                    break;
                }
                push(Tok::Word(text(word)), out);
            }
        }
    }
    if !continued {
        push(Tok::Newline, out);
    }
}

/// Where the parser is.
#[derive(Debug)]
enum Block {
    Table {
        family: String,
        name: String,
    },
    Set(Obj),
    Chain(Obj),
    /// A block of no interest (a flowtable, a named counter, `delete element`): skipped, with
    /// the depth of braces inside it.
    Skip(usize),
    /// The braces of `elements = { ... }` or `add element ... { ... }` (the set's index in
    /// the model).
    Elements {
        set: usize,
        depth: usize,
    },
}

/// The push parser of the text form.
pub(super) struct TextReader {
    pub model: Ruleset,
    now: NaiveDateTime,
    vars: HashMap<String, Vec<Tok>>,
    stack: Vec<Block>,
    stmt: Vec<Token>,
    /// Depth of braces opened inside the current statement (anonymous sets, `define x = {`).
    depth: usize,
    /// The current statement grew past [`MAX_STMT_TOKENS`].
    overflow: bool,
    /// The element being read inside an elements block.
    elem: Vec<Token>,
    scratch: Vec<Token>,
    /// Tokens produced by `$variable` expansion so far.
    expanded: usize,
}

impl TextReader {
    pub fn new(now: NaiveDateTime) -> TextReader {
        TextReader {
            model: Ruleset::default(),
            now,
            vars: HashMap::new(),
            stack: Vec::new(),
            stmt: Vec::new(),
            depth: 0,
            overflow: false,
            elem: Vec::new(),
            scratch: Vec::new(),
            expanded: 0,
        }
    }

    /// Reads one line.
    pub fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let line = match lineno {
            1 => line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line),
            _ => line,
        };
        let mut toks = std::mem::take(&mut self.scratch);
        toks.clear();
        tokenize(line, lineno, &mut toks);
        for t in toks.drain(..) {
            self.feed(t, sink, 0);
        }
        self.scratch = toks;
    }

    /// The input has ended: what is still open is closed.
    pub fn finish(&mut self, lineno: u64, sink: &mut dyn Sink) {
        self.feed_token(
            Token {
                tok: Tok::Newline,
                line: lineno,
            },
            sink,
        );
        if self.depth > 0 || !self.stack.is_empty() {
            sink.malformed(lineno, "the input ends inside an unclosed block `{`".into());
            self.depth = 0;
            self.end_stmt(sink);
            while let Some(block) = self.stack.pop() {
                if let Block::Elements { set, .. } = block {
                    self.finish_elem(set, sink);
                }
            }
        }
    }

    fn feed(&mut self, t: Token, sink: &mut dyn Sink, expansion: u8) {
        if let Tok::Word(w) = &t.tok {
            if let Some(name) = w.strip_prefix('$') {
                if let Some(value) = self.vars.get(name) {
                    if self.expanded.saturating_add(value.len()) > MAX_EXPANDED {
                        if self.expanded <= MAX_EXPANDED {
                            self.expanded = MAX_EXPANDED + 1;
                            sink.malformed(
                                t.line,
                                format!("variables expand to more than {MAX_EXPANDED} tokens: the rest are not expanded"),
                            );
                        }
                    } else if expansion < MAX_EXPANSION {
                        self.expanded += value.len();
                        for tok in value.clone() {
                            self.feed(Token { tok, line: t.line }, sink, expansion + 1);
                        }
                        return;
                    }
                }
            }
        }
        self.feed_token(t, sink);
    }

    fn feed_token(&mut self, t: Token, sink: &mut dyn Sink) {
        match self.stack.last_mut() {
            Some(&mut Block::Elements { set, ref mut depth }) => {
                match t.tok {
                    Tok::Word(_) | Tok::Str(_) => {
                        if self.elem.len() < 64 {
                            self.elem.push(t);
                        }
                    }
                    Tok::Newline | Tok::Semi => {}
                    Tok::Comma => self.finish_elem(set, sink),
                    Tok::Open => {
                        *depth += 1;
                        self.finish_elem(set, sink);
                    }
                    Tok::Close => {
                        let close = *depth == 0;
                        *depth = depth.saturating_sub(1);
                        self.finish_elem(set, sink);
                        if close {
                            self.stack.pop();
                        }
                    }
                }
                return;
            }
            Some(Block::Skip(depth)) => {
                match t.tok {
                    Tok::Open => *depth += 1,
                    Tok::Close if *depth == 0 => {
                        self.stack.pop();
                    }
                    Tok::Close => *depth -= 1,
                    _ => {}
                }
                return;
            }
            _ => {}
        }
        if self.depth > 0 {
            match t.tok {
                Tok::Open => self.depth += 1,
                Tok::Close => self.depth -= 1,
                _ => {}
            }
            self.push_stmt(t);
            return;
        }
        match t.tok {
            Tok::Newline | Tok::Semi => self.end_stmt(sink),
            Tok::Open => match self.block_header() {
                Some(block) => {
                    self.stmt.clear();
                    self.overflow = false;
                    self.stack.push(block);
                }
                None => {
                    self.depth = 1;
                    self.push_stmt(t);
                }
            },
            Tok::Close => {
                let line = t.line;
                self.end_stmt(sink);
                if self.stack.pop().is_none() {
                    sink.malformed(line, "a `}` closes no block".into());
                }
            }
            _ => self.push_stmt(t),
        }
    }

    fn push_stmt(&mut self, t: Token) {
        if self.stmt.len() < MAX_STMT_TOKENS {
            self.stmt.push(t);
        } else {
            self.overflow = true;
        }
    }

    /// The words of the current statement, up to the first token that is not one.
    fn head_words(&self) -> Vec<&str> {
        self.stmt.iter().map_while(Token::word).collect()
    }

    /// The block a `{` opens after the current statement, or `None` for braces inside a
    /// statement (an anonymous set, a `define`).
    fn block_header(&mut self) -> Option<Block> {
        let words = self.head_words();
        if words.len() != self.stmt.len() {
            return None;
        }
        match self.stack.last() {
            None => {
                let (verb, rest) = match words.first() {
                    // `add` may be left out: `table ...`, `chain ...`, `element ...`.
                    Some(w) if IMPLICIT_ADD.contains(w) => ("add", &words[..]),
                    Some(&v) => (v, words.get(1..).unwrap_or(&[])),
                    None => return Some(Block::Skip(0)),
                };
                match (verb, rest.first().copied()) {
                    ("add" | "create", Some("table")) => Some(match table_spec(&rest[1..]) {
                        Some((family, name)) => Block::Table { family, name },
                        None => Block::Skip(0),
                    }),
                    ("add" | "create", Some(kind @ ("set" | "map"))) => {
                        Some(match object_spec(&rest[1..]) {
                            Some(id) => {
                                self.model.declare_set(&id, kind == "map");
                                Block::Set(id)
                            }
                            None => Block::Skip(0),
                        })
                    }
                    ("add" | "create", Some("chain")) => Some(match object_spec(&rest[1..]) {
                        Some(id) => {
                            self.model.chain_mut(&id);
                            Block::Chain(id)
                        }
                        None => Block::Skip(0),
                    }),
                    ("add" | "create", Some("element")) => Some(match object_spec(&rest[1..]) {
                        Some(id) => Block::Elements {
                            set: self.model.set_index(&id),
                            depth: 0,
                        },
                        None => Block::Skip(0),
                    }),
                    ("add" | "insert" | "replace" | "create", Some("rule")) => None,
                    ("define" | "redefine", _) => None,
                    _ => Some(Block::Skip(0)),
                }
            }
            Some(Block::Table { family, name }) => match words.as_slice() {
                [kind @ ("set" | "map"), set] => {
                    let id = Obj::new(family, name, set);
                    self.model.declare_set(&id, *kind == "map");
                    Some(Block::Set(id))
                }
                ["chain", chain] => {
                    let id = Obj::new(family, name, chain);
                    self.model.chain_mut(&id);
                    Some(Block::Chain(id))
                }
                _ => Some(Block::Skip(0)),
            },
            Some(Block::Set(id)) => match words.as_slice() {
                ["elements", "="] => Some(Block::Elements {
                    set: self.model.set_index(&id.clone()),
                    depth: 0,
                }),
                _ => None,
            },
            _ => None,
        }
    }

    fn end_stmt(&mut self, sink: &mut dyn Sink) {
        if self.stmt.is_empty() {
            return;
        }
        let stmt = std::mem::take(&mut self.stmt);
        if std::mem::take(&mut self.overflow) {
            sink.malformed(
                stmt[0].line,
                format!("statement longer than {MAX_STMT_TOKENS} tokens: not read"),
            );
            return;
        }
        match self.stack.last() {
            None => self.top_stmt(&stmt, sink),
            Some(Block::Set(id)) => {
                let id = id.clone();
                self.set_stmt(&id, &stmt);
            }
            Some(Block::Chain(id)) => {
                let id = id.clone();
                match stmt[0].word() {
                    Some("type" | "policy" | "comment" | "devices") => {}
                    _ => {
                        let rule = analyze_rule(&mut self.model, &id, &stmt, sink);
                        self.model.add_rule(&id, rule);
                    }
                }
            }
            // Table options (`flags dormant`, `comment`); nothing else stands there.
            _ => {}
        }
    }

    fn top_stmt(&mut self, stmt: &[Token], sink: &mut dyn Sink) {
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

    fn set_stmt(&mut self, id: &Obj, stmt: &[Token]) {
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
    fn finish_elem(&mut self, index: usize, sink: &mut dyn Sink) {
        if self.elem.is_empty() {
            return;
        }
        let elem = std::mem::take(&mut self.elem);
        let now = self.now;
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
                Some(nets) => set.entries.extend(nets.into_iter().map(|net| Entry {
                    pos: p,
                    net,
                    expires: parts.expires,
                    line: comp.line,
                    verdict: parts.verdict.clone(),
                })),
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

fn recycle(mut v: Vec<Token>) -> Vec<Token> {
    v.clear();
    v
}

/// `FAMILY NAME` or `NAME` (family `ip`).
fn table_spec(words: &[&str]) -> Option<(String, String)> {
    match words {
        [family, name] if FAMILIES.contains(family) => Some((family.to_string(), name.to_string())),
        [name] => Some(("ip".into(), name.to_string())),
        _ => None,
    }
}

/// `FAMILY TABLE NAME` or `TABLE NAME` (family `ip`).
fn object_spec(words: &[&str]) -> Option<Obj> {
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
struct ElementParts<'a> {
    comps: Vec<&'a Token>,
    verdict: Option<Outcome>,
    expires: Option<NaiveDateTime>,
}

fn element_parts(toks: &[Token], now: NaiveDateTime) -> ElementParts<'_> {
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
pub(super) fn analyze_rule(
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
            })
            .collect(),
        None => {
            sink.malformed(t.line, format!("not an address: {word:?}"));
            Vec::new()
        }
    }
}
