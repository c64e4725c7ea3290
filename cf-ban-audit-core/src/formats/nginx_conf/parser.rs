//! The parser of nginx configuration: nginx's own lexical rules (`ngx_conf_read_token`), the
//! blocks where `deny` is the access directive, the `allow` lines and nested blocks that
//! make a `deny` never apply, and the `if`s on the connecting address that refuse requests.

use std::path::Path;
use std::sync::Arc;

use ipnet::IpNet;

use super::geo::{return_refuses, Condition, List};
use super::ifaddr::{self, AddressTest};
use crate::addr::parse_net;
use crate::event::{Location, Tool};
use crate::formats::grammar::webconf::{file_scope, listed, shown};
use crate::formats::{Format, LineParser, ParseCtx, Sink};
use crate::web_evidence::{RealIpConfig, WebServer};

/// Blocks in which `deny` is the access directive.
const NGINX_ACCESS_BLOCKS: &[&[u8]] =
    &[b"http", b"server", b"location", b"limit_except", b"stream"];

/// One word of a directive.
#[derive(Debug)]
struct Word {
    text: Vec<u8>,
    line: u64,
}

/// An open block.
#[derive(Debug, Default)]
struct Block {
    name: Vec<u8>,
    /// Networks of the block's `allow` lines so far.
    allows: Vec<IpNet>,
    allow_all: bool,
    /// The block has access rules of its own (`allow` or `deny` lines).
    has_rules: bool,
    /// The block has an `include` (whose content may add blocks or rules).
    has_include: bool,
    /// The block has a `location /` (so a server never handles a request itself).
    has_location_root: bool,
    /// `server`/`location` blocks seen inside.
    children: u64,
    /// Some request handled inside a child block uses the rules this block gives it.
    child_inherits: bool,
    /// The block's own `deny` lines, kept until its end.
    denies: Vec<(IpNet, u64)>,
    /// For a `server` block: its name and the `deny` lines of it and its locations.
    server: Option<Server>,
    /// For a `geo`/`map` block on the connecting address: its entries so far.
    list: Option<List>,
    /// For an `if` on a variable: its condition, and whether its block refuses requests.
    cond: Option<Condition>,
    /// For an `if` on the connecting address: what it tests, and the line of the `if`.
    address_test: Option<(AddressTest, u64)>,
    refuses: bool,
}

impl Block {
    /// Whether the block handles some requests itself (rather than through a child block):
    /// never `http`; a `server` unless a `location /` takes every request; a `location`
    /// always (requests that no nested location matches).
    fn handles_requests(&self) -> bool {
        match self.name.as_slice() {
            b"http" | b"stream" => false,
            b"server" => !self.has_location_root,
            _ => true,
        }
    }

    /// Whether some request handled within this block uses the rules of the enclosing
    /// block: it has no rules of its own and handles requests, or a child inherits, or an
    /// `include` may bring anything.
    fn inherits(&self) -> bool {
        !self.has_rules && (self.handles_requests() || self.child_inherits || self.has_include)
    }

    /// Whether the block's own rules never apply: every request is handled in a child that
    /// has rules of its own (nginx does not merge rules across levels).
    fn rules_unused(&self) -> bool {
        matches!(self.name.as_slice(), b"http" | b"server" | b"stream")
            && !self.handles_requests()
            && self.children > 0
            && !self.child_inherits
            && !self.has_include
    }
}

/// A `server` block's name and the `deny` lines of it and its locations.
#[derive(Debug, Default)]
struct Server {
    name: Option<String>,
    pending: Vec<(IpNet, u64)>,
}

/// The parser of nginx configuration ([`Format::NginxConf`]).
pub struct NginxConfParser {
    path: Arc<Path>,
    file_scope: String,
    words: Vec<Word>,
    word: Vec<u8>,
    in_word: bool,
    quote: Option<u8>,
    escape: bool,
    variable: bool,
    comment: bool,
    /// The open blocks; the first is the file itself.
    blocks: Vec<Block>,
    shadowed: u64,
    unused: u64,
    /// Blocks opened past [`MAX_DEPTH`] and not yet closed.
    too_deep: u64,
    /// The real-IP directives of the file (ngx_http_realip_module), if any.
    realip: Option<RealIpConfig>,
}

/// The deepest block nesting kept (real configurations nest a handful of levels).
const MAX_DEPTH: usize = 128;

impl NginxConfParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        NginxConfParser {
            path: ctx.path.clone(),
            file_scope: file_scope(&ctx.path),
            words: Vec::new(),
            word: Vec::new(),
            in_word: false,
            quote: None,
            escape: false,
            variable: false,
            comment: false,
            blocks: vec![Block::default()],
            shadowed: 0,
            unused: 0,
            too_deep: 0,
            realip: None,
        }
    }

    /// The file's real-IP configuration so far, started at `line`.
    fn realip_at(&mut self, line: u64) -> &mut RealIpConfig {
        let path = self.path.clone();
        self.realip
            .get_or_insert_with(|| RealIpConfig::new(WebServer::Nginx, Location { path, line }))
    }

    /// `set_real_ip_from`, `real_ip_header`, `real_ip_recursive` (ngx_http_realip_module).
    fn realip_directive(&mut self, name: &[u8], line: u64, args: &[Word], sink: &mut dyn Sink) {
        let [arg] = args else {
            sink.malformed(
                line,
                format!(
                    "nginx {} with {} arguments instead of one",
                    String::from_utf8_lossy(name),
                    args.len()
                ),
            );
            return;
        };
        let text = arg.text.as_slice();
        match name {
            b"set_real_ip_from" => {
                if text.starts_with(b"unix:") {
                    return;
                }
                match parse_net(text) {
                    Some(net) => self.realip_at(line).trusted.push(net),
                    None => sink.note(format!(
                        "line {line}: set_real_ip_from {} is a host name (nginx resolves it at \
                         start): not checked",
                        shown(text)
                    )),
                }
            }
            b"real_ip_header" => {
                let header = String::from_utf8_lossy(text).into_owned();
                let cfg = self.realip_at(line);
                cfg.location.line = line;
                cfg.header = Some(header);
            }
            _ => {
                let on = match text.to_ascii_lowercase().as_slice() {
                    b"on" => true,
                    b"off" => false,
                    _ => {
                        sink.malformed(
                            line,
                            format!("nginx real_ip_recursive {}: not on or off", shown(text)),
                        );
                        return;
                    }
                };
                self.realip_at(line).recursive = Some(on);
            }
        }
    }

    fn end_word(&mut self, line: u64) {
        if self.in_word {
            self.words.push(Word {
                text: std::mem::take(&mut self.word),
                line,
            });
            self.in_word = false;
        }
    }

    fn byte(&mut self, c: u8, line: u64, sink: &mut dyn Sink) {
        if self.comment {
            return;
        }
        if let Some(q) = self.quote {
            if self.escape {
                self.escape = false;
                self.word.push(c);
            } else if c == b'\\' {
                self.escape = true;
            } else if c == q {
                self.quote = None;
                self.end_word(line);
            } else {
                self.word.push(c);
            }
            return;
        }
        if self.in_word {
            if self.escape {
                self.escape = false;
                self.word.push(c);
                return;
            }
            if c == b'{' && self.variable {
                self.word.push(c);
                return;
            }
            self.variable = false;
            match c {
                b'\\' => {
                    self.escape = true;
                    self.word.push(c);
                }
                b'$' => {
                    self.variable = true;
                    self.word.push(c);
                }
                b' ' | b'\t' | b'\r' | b'\n' => self.end_word(line),
                b';' => {
                    self.end_word(line);
                    self.directive(sink);
                }
                b'{' => {
                    self.end_word(line);
                    self.open();
                }
                _ => self.word.push(c),
            }
            return;
        }
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => {}
            b';' => self.directive(sink),
            b'{' => self.open(),
            b'}' => {
                self.words.clear();
                self.close(sink);
            }
            b'#' => self.comment = true,
            b'"' | b'\'' => {
                self.quote = Some(c);
                self.in_word = true;
            }
            _ => {
                self.in_word = true;
                self.word.push(c);
                match c {
                    b'\\' => self.escape = true,
                    b'$' => self.variable = true,
                    _ => {}
                }
            }
        }
    }

    fn open(&mut self) {
        let words = std::mem::take(&mut self.words);
        if self.blocks.len() >= MAX_DEPTH {
            // Deeper than any real configuration: counted, not kept (memory stays bounded).
            self.too_deep += 1;
            return;
        }
        let name = words.first().map(|w| w.text.clone()).unwrap_or_default();
        if name == b"location" {
            let args: Vec<&[u8]> = words[1..].iter().map(|w| w.text.as_slice()).collect();
            if matches!(args.as_slice(), [b"/"] | [b"^~", b"/"]) {
                if let Some(parent) = self.blocks.last_mut() {
                    parent.has_location_root = true;
                }
            }
        }
        let server = (name == b"server").then(Server::default);
        let refs: Vec<(&[u8], u64)> = words.iter().map(|w| (w.text.as_slice(), w.line)).collect();
        let list = match name.as_slice() {
            b"geo" | b"map" => List::open(&refs),
            _ => None,
        };
        let (mut cond, mut address_test) = (None, None);
        if name == b"if" {
            let rest: Vec<&[u8]> = refs[1..].iter().map(|w| w.0).collect();
            match ifaddr::parse(&rest) {
                Some(test) => address_test = Some((test, words[0].line)),
                None => cond = Condition::parse(&rest),
            }
        }
        self.blocks.push(Block {
            name,
            server,
            list,
            cond,
            address_test,
            ..Block::default()
        });
    }

    fn close(&mut self, sink: &mut dyn Sink) {
        if self.too_deep > 0 {
            self.too_deep -= 1;
            return;
        }
        if self.blocks.len() == 1 {
            // A `}` without its block (a snippet cut out of a larger file): ignored.
            return;
        }
        let mut block = self.blocks.pop().expect("more than one");
        if let Some(list) = block.list.take() {
            list.close(&self.path, sink);
        }
        if let (Some(cond), true) = (&block.cond, block.refuses) {
            cond.refusing(sink);
        }
        if let (Some((test, line)), true) = (block.address_test.take(), block.refuses) {
            match test {
                // In force for every request the `if` sees, whatever access rules say.
                AddressTest::Address(net) => self.hold(vec![(net, line)], sink),
                AddressTest::Unread(why) => sink.note(format!(
                    "line {line}: an if on the connecting address that refuses requests, not \
                     read: {why}"
                )),
                AddressTest::AllBut => {}
            }
        }
        let denies = std::mem::take(&mut block.denies);
        if block.rules_unused() {
            self.unused += denies.len() as u64;
        } else {
            match block.server.as_mut() {
                Some(server) => server.pending.extend(denies),
                None => self.hold(denies, sink),
            }
        }
        if matches!(block.name.as_slice(), b"server" | b"location") {
            let inherits = block.inherits();
            if let Some(parent) = self.blocks.last_mut() {
                parent.children += 1;
                parent.child_inherits |= inherits;
            }
        }
        if let Some(server) = block.server {
            self.flush(server, sink);
        }
    }

    /// Gives `deny` lines to the enclosing server (whose name may come later), or emits
    /// them with the file's name.
    fn hold(&mut self, denies: Vec<(IpNet, u64)>, sink: &mut dyn Sink) {
        if denies.is_empty() {
            return;
        }
        if let Some(server) = self.blocks.iter_mut().rev().find_map(|b| b.server.as_mut()) {
            server.pending.extend(denies);
            return;
        }
        for (net, line) in denies {
            sink.event(listed(
                net,
                Tool::NginxDeny,
                Format::NginxConf,
                self.file_scope.clone(),
                &self.path,
                line,
            ));
        }
    }

    fn flush(&self, server: Server, sink: &mut dyn Sink) {
        let scope = server.name.unwrap_or_else(|| self.file_scope.clone());
        for (net, line) in server.pending {
            sink.event(listed(
                net,
                Tool::NginxDeny,
                Format::NginxConf,
                scope.clone(),
                &self.path,
                line,
            ));
        }
    }

    fn directive(&mut self, sink: &mut dyn Sink) {
        let words = std::mem::take(&mut self.words);
        let Some((name, args)) = words.split_first() else {
            return;
        };
        let block = self.blocks.last_mut().expect("the file block stays");
        if let Some(list) = block.list.as_mut() {
            let refs: Vec<(&[u8], u64)> =
                words.iter().map(|w| (w.text.as_slice(), w.line)).collect();
            list.entry(&refs, sink);
            return;
        }
        if name.text == b"return" && (block.cond.is_some() || block.address_test.is_some()) {
            let args: Vec<&[u8]> = args.iter().map(|w| w.text.as_slice()).collect();
            block.refuses |= return_refuses(&args);
            return;
        }
        match name.text.as_slice() {
            b"server_name" => {
                let first = args
                    .iter()
                    .map(|w| String::from_utf8_lossy(&w.text).into_owned())
                    .find(|n| !n.is_empty() && n != "_");
                if let Some(server) = self.blocks.last_mut().and_then(|b| b.server.as_mut()) {
                    if server.name.is_none() {
                        server.name = first;
                    }
                }
            }
            b"include" => {
                // Any include may bring blocks or rules, except the usual lists of types and
                // of parameters, which hold neither.
                let harmless = args.iter().all(|w| {
                    let name = w.text.rsplit(|&b| b == b'/').next().unwrap_or(&[]);
                    name == b"mime.types"
                        || name.ends_with(b"params")
                        || name.ends_with(b"params.conf")
                });
                if let Some(block) = self.blocks.last_mut() {
                    block.has_include |= args.is_empty() || !harmless;
                }
            }
            b"allow" => {
                let block = self.blocks.last_mut().expect("the file block stays");
                block.has_rules = true;
                match args {
                    [a] if a.text == b"all" => block.allow_all = true,
                    [a] => {
                        if let Some(net) = parse_net(&a.text) {
                            block.allows.push(net);
                        }
                    }
                    _ => {}
                }
            }
            b"deny" => self.deny(name.line, args, sink),
            n @ (b"set_real_ip_from" | b"real_ip_header" | b"real_ip_recursive") => {
                let n = n.to_vec();
                self.realip_directive(&n, name.line, args, sink)
            }
            _ => {}
        }
    }

    fn deny(&mut self, line: u64, args: &[Word], sink: &mut dyn Sink) {
        if !self.blocks[1..]
            .iter()
            .all(|b| NGINX_ACCESS_BLOCKS.contains(&b.name.as_slice()))
        {
            return;
        }
        let [arg] = args else {
            sink.malformed(
                line,
                format!("nginx deny with {} arguments instead of one", args.len()),
            );
            return;
        };
        let text = arg.text.as_slice();
        let top = self.blocks.len() == 1;
        let block = self.blocks.last_mut().expect("the file block stays");
        block.has_rules = true;
        if text == b"all" || text.starts_with(b"unix:") {
            return;
        }
        let Some(net) = parse_net(text) else {
            sink.malformed(
                line,
                format!(
                    "nginx deny of something that is not an address: {}",
                    shown(text)
                ),
            );
            return;
        };
        if block.allow_all || block.allows.iter().any(|a| a.contains(&net)) {
            self.shadowed += 1;
            return;
        }
        if top {
            // The top of a file (a snippet that `include` brings in): in force where included.
            self.hold(vec![(net, line)], sink);
        } else {
            block.denies.push((net, line));
        }
    }
}

impl LineParser for NginxConfParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        self.comment = false;
        for &c in line {
            self.byte(c, lineno, sink);
        }
        self.byte(b'\n', lineno, sink);
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if let Some(first) = self.words.first() {
            if first.text == b"deny" {
                sink.malformed(first.line, "nginx deny without its closing ;".into());
            }
        }
        if self.too_deep > 0 {
            sink.malformed(
                0,
                format!("blocks nested deeper than {MAX_DEPTH} levels: not read"),
            );
            self.too_deep = 0;
        }
        while self.blocks.len() > 1 {
            self.close(sink);
        }
        if let Some(realip) = self.realip.take() {
            sink.realip_config(realip);
        }
        if self.shadowed > 0 {
            sink.note(format!(
                "{} deny line(s) skipped: an earlier allow of the same block lets the whole network in",
                self.shadowed
            ));
        }
        if self.unused > 0 {
            sink.note(format!(
                "{} deny line(s) skipped: every server/location below them has access rules of its \
                 own, which replace them",
                self.unused
            ));
        }
    }
}
