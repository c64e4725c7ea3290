//! The text form: a tokenizer for nft's syntax (words, quoted strings, braces, `#` comments)
//! and a push parser fed one line at a time, so that a set of a million elements is read
//! element by element, never held as text.

mod rules;
mod ruleset;
mod statements;
mod tokens;

use std::collections::HashMap;

use chrono::NaiveDateTime;

use crate::formats::nftables::model::{Obj, Ruleset};
use crate::formats::{Part, Sink};
use statements::{object_spec, table_spec};

pub(super) use rules::analyze_rule;
pub(crate) use ruleset::read_ruleset;
use ruleset::FullModel;
use tokens::tokenize_part;
pub(super) use tokens::{tokenize, Tok, Token};

/// The longest token read from a line in pieces (a quoted comment of a set element is the
/// longest nft writes); a longer one is not read, and that is an error of the scan.
const MAX_TOKEN: usize = 1 << 20;

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
        /// The set, for the firewall model.
        id: Obj,
    },
}

/// The push parser of the text form.
pub(super) struct TextReader {
    pub model: Ruleset,
    /// When the listing was written: remaining `expires` count from then.
    written: NaiveDateTime,
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
    /// The firewall model, when it is built too.
    pub full: Option<FullModel>,
    /// The start of a token the last piece of a long line ended inside.
    carry: Vec<u8>,
    /// The rest of the long line being read is a comment.
    in_comment: bool,
}

impl TextReader {
    pub fn new(written: NaiveDateTime) -> TextReader {
        TextReader {
            model: Ruleset::default(),
            written,
            vars: HashMap::new(),
            stack: Vec::new(),
            stmt: Vec::new(),
            depth: 0,
            overflow: false,
            elem: Vec::new(),
            scratch: Vec::new(),
            expanded: 0,
            full: None,
            carry: Vec::new(),
            in_comment: false,
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

    /// Reads a piece of a long line (a set's `elements = { ... }` of 100,000 addresses on one
    /// line): its tokens are fed as they end, a token cut between two pieces kept until its
    /// end comes, so the line is never held whole.
    pub fn piece(&mut self, lineno: u64, piece: &[u8], part: Part, sink: &mut dyn Sink) {
        let last = part == Part::Last;
        if part == Part::First {
            self.carry.clear();
            self.in_comment = false;
        }
        if self.in_comment {
            if last {
                self.in_comment = false;
                self.feed_token(
                    Token {
                        tok: Tok::Newline,
                        line: lineno,
                    },
                    sink,
                );
            }
            return;
        }
        let piece = match (part, lineno) {
            (Part::First, 1) => piece.strip_prefix(b"\xef\xbb\xbf").unwrap_or(piece),
            _ => piece,
        };
        self.carry.extend_from_slice(piece);
        let mut toks = std::mem::take(&mut self.scratch);
        toks.clear();
        let progress = tokenize_part(&self.carry, lineno, &mut toks, last);
        for t in toks.drain(..) {
            self.feed(t, sink, 0);
        }
        self.scratch = toks;
        if progress.comment {
            self.carry.clear();
            self.in_comment = !last;
            return;
        }
        self.carry.drain(..progress.consumed);
        if self.carry.len() > MAX_TOKEN {
            sink.cut(
                lineno,
                format!(
                    "a token longer than {} MiB: not read, the line is read on after it",
                    MAX_TOKEN >> 20
                ),
            );
            self.carry.clear();
        }
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
                if let Block::Elements { set, id, .. } = block {
                    self.finish_elem(set, &id, sink);
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
            Some(Block::Elements {
                set,
                ref mut depth,
                ref id,
            }) => {
                let (set, id) = (*set, id.clone());
                match t.tok {
                    Tok::Word(_) | Tok::Str(_) => {
                        if self.elem.len() < 64 {
                            self.elem.push(t);
                        }
                    }
                    Tok::Newline | Tok::Semi => {}
                    Tok::Comma => self.finish_elem(set, &id, sink),
                    Tok::Open => {
                        *depth += 1;
                        self.finish_elem(set, &id, sink);
                    }
                    Tok::Close => {
                        let close = *depth == 0;
                        *depth = depth.saturating_sub(1);
                        self.finish_elem(set, &id, sink);
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
                let is_table = words.first() == Some(&"table");
                let block = match (verb, rest.first().copied()) {
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
                            id,
                        },
                        None => Block::Skip(0),
                    }),
                    ("add" | "insert" | "replace" | "create", Some("rule")) => None,
                    ("define" | "redefine", _) => None,
                    _ => Some(Block::Skip(0)),
                };
                if let Some(full) = &mut self.full {
                    match &block {
                        Some(Block::Table { family, name }) if is_table => {
                            full.table(family, name);
                        }
                        // What the model reads of the top level is table blocks.
                        Some(_) => full.unread(&self.stmt),
                        None => {}
                    }
                }
                block
            }
            Some(Block::Table { family, name }) => match words.as_slice() {
                [kind @ ("set" | "map"), set] => {
                    let id = Obj::new(family, name, set);
                    let is_map = *kind == "map";
                    self.model.declare_set(&id, is_map);
                    if let Some(full) = &mut self.full {
                        full.set(&id, is_map);
                    }
                    Some(Block::Set(id))
                }
                ["chain", chain] => {
                    let id = Obj::new(family, name, chain);
                    self.model.chain_mut(&id);
                    if let Some(full) = &mut self.full {
                        full.declare_chain(&id);
                    }
                    Some(Block::Chain(id))
                }
                _ => Some(Block::Skip(0)),
            },
            Some(Block::Set(id)) => match words.as_slice() {
                ["elements", "="] => Some(Block::Elements {
                    set: self.model.set_index(&id.clone()),
                    depth: 0,
                    id: id.clone(),
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
            // A record cut at its limit: an error of the scan.
            sink.cut(
                stmt[0].line,
                format!("statement longer than {MAX_STMT_TOKENS} tokens: not read"),
            );
            return;
        }
        if let Some(full) = &mut self.full {
            match self.stack.last() {
                None => {
                    let w: Vec<&str> = stmt.iter().map_while(Token::word).collect();
                    if !matches!(
                        w.as_slice(),
                        ["define" | "redefine", ..] | ["flush", "ruleset", ..] | ["table", ..]
                    ) {
                        full.unread(&stmt);
                    }
                }
                Some(Block::Set(id)) => full.set_stmt(id, &stmt),
                Some(Block::Chain(id)) => full.chain_stmt(id, &stmt),
                Some(Block::Table { family, name }) => full.table_stmt(family, name, &stmt),
                _ => {}
            }
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
}

fn recycle(mut v: Vec<Token>) -> Vec<Token> {
    v.clear();
    v
}
