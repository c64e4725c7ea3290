//! Web server configuration that denies addresses: nginx `deny` and Apache `Require not ip` /
//! `Deny from`.
//!
//! **nginx** ([`Format::NginxConf`], tool [`Tool::NginxDeny`]): `deny ADDRESS|CIDR;`
//! (ngx_http_access_module, and ngx_stream_access_module in `stream {}`). The file is read
//! with nginx's own lexical rules (`ngx_conf_read_token`): words separated by white space,
//! `;` ends a directive, `{` opens a block and `}` closes it, `#` at the start of a word begins
//! a comment, quotes (`"…"`, `'…'`) hold white space, `;` and `#`, and a backslash escapes the
//! next character. So an address in a comment, in a quoted string (`add_header`,
//! `log_format`, `return`) or in any directive other than `deny` is never read as a ban.
//!
//! - `deny` counts at the top level of a file (an included snippet) and inside `http`,
//!   `server`, `location`, `limit_except` and `stream` blocks, the contexts where nginx
//!   accepts it; inside other blocks (`geo`, `map`, `if`, `upstream`, `*_by_lua_block`, ...)
//!   the word is not the directive.
//! - `deny all;` is a lock-down (usually after `allow` lines for trusted addresses), not a
//!   ban of Cloudflare: never an event. `deny unix:;` is not an address.
//! - The access module checks the rules of one block in order and the first match wins: a
//!   `deny` whose network an earlier `allow` of the same block covers whole (or after
//!   `allow all;`) never applies and is skipped (noted). A `deny` only partly covered by an
//!   earlier `allow` still blocks the rest and is reported as written. Rules inherited from
//!   enclosing blocks, or brought by `include`, are not weighed.
//! - nginx does not merge access rules across levels: a block with `allow`/`deny` lines of
//!   its own replaces the rules of the enclosing blocks. The `deny` lines of an `http` or
//!   `server` block that never handles a request itself (an `http` block; a `server` with a
//!   `location /`) are skipped (noted) when every `server`/`location` below it has rules of
//!   its own and no `include` (other than `mime.types` and `*params`) may add more.
//! - `include` is not followed: included files are read on their own when they are under a
//!   scanned path.
//! - The scope is the first name of the enclosing `server` block's `server_name` (wherever
//!   in the block it is written), or the file name when there is none (or it is `_`).
//!
//! **Apache** ([`Format::ApacheConf`], tool [`Tool::ApacheDeny`]): 2.4 `Require not ip …`
//! (mod_authz_host), `Require ip …` inside `<RequireNone>`, and 2.2 `Deny from …`
//! (mod_access_compat), in server configuration and `.htaccess` files. Lines are read as
//! Apache reads them: directives are case-insensitive, a line ending in `\` continues on the
//! next, `#` starts a comment only at the start of a line (Apache has no comments after a
//! directive; words from a `#` on are dropped here, as Apache would refuse them anyway).
//!
//! - Addresses are read as `apr_ipsubnet_create` reads them: a full IPv4 or IPv6 address, a
//!   CIDR (`10.0.0.0/8`, `2001:db8::/32`), an IPv4 address with a netmask
//!   (`10.0.0.0/255.0.0.0`), or a partial IPv4 address of 1 to 3 bytes (`10.1` =
//!   10.1.0.0/16, `172.16.` = 172.16.0.0/16, `104` = 104.0.0.0/8). Words that do not look
//!   like an address (only digits and dots, or holding a colon) are host names for
//!   `Deny from` (skipped) and errors for `Require ip` (reported as malformed).
//! - `Require all denied` and `Deny from all` are lock-downs, never events; `Deny from env=…`
//!   and host names are not addresses.
//! - `Deny from` obeys the section's `Order` (whatever its place in the section):
//!   with `Order Deny,Allow` (Apache's default) an `Allow from` that covers the denied network
//!   (or `Allow from all`) lets it in, so the `Deny` is skipped (noted); with
//!   `Order Allow,Deny` or `Mutual-failure` the `Deny` holds.
//! - The scope is the innermost enclosing `<Directory …>`, `<DirectoryMatch …>`,
//!   `<Location …>`, `<LocationMatch …>`, `<Files …>`, `<FilesMatch …>` or `<Proxy …>`
//!   section, as written; else the enclosing `<VirtualHost>`'s `ServerName` (or
//!   `<VirtualHost …>` when it has none); else the file name.
//!
//! Every event is an [`Action::Listed`] entry without time or end: it stands in the
//! configuration. `Include` is not followed.

use std::path::Path;
use std::sync::Arc;

use ipnet::{IpNet, Ipv4Net};

use super::{Format, LineParser, ParseCtx, Parser, Sink};
use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool};

/// Decides whether a file is nginx or Apache configuration, from its name and first bytes.
///
/// Apache: the name `.htaccess`, or lines opening sections (`<VirtualHost`, `<Directory`,
/// `<Location`, `<Files`, `<Require…`, `<IfModule`, `<Limit`) or access directives
/// (`Require ip|not|all|host|…`, `Deny from`, `Allow from`, `Order allow,deny`). nginx: a line
/// opening an `http`, `server`, `events`, `stream`, `location` or `upstream` block together
/// with a directive ending in `;`, or a file made only of `allow`/`deny` lines (a snippet that
/// `include` brings in). A `.conf` file under a directory named `nginx`, `apache2`, `apache` or
/// `httpd` is taken by its place when its lines look like directives.
///
/// ```
/// use cf_ban_audit_core::formats::{webserver_conf, Format};
/// use std::path::Path;
/// let nginx = b"server {\n    listen 80;\n    deny 104.16.0.1;\n}\n";
/// assert_eq!(webserver_conf::detect(Path::new("/tmp/site"), nginx), Some(Format::NginxConf));
/// let apache = b"<Directory /var/www>\n    Require not ip 104.16\n</Directory>\n";
/// assert_eq!(webserver_conf::detect(Path::new("/tmp/x"), apache), Some(Format::ApacheConf));
/// assert_eq!(webserver_conf::detect(Path::new("/tmp/notes.txt"), b"deny this; allow that\n"), None);
/// ```
pub fn detect(path: &Path, head: &[u8]) -> Option<Format> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name == ".htaccess" {
        return Some(Format::ApacheConf);
    }
    let lines = || {
        head.split(|&b| b == b'\n')
            .map(|l| l.trim_ascii())
            .filter(|l| !l.is_empty() && !l.starts_with(b"#"))
            .take(400)
    };
    if lines().any(apache_line) {
        return Some(Format::ApacheConf);
    }
    if lines().any(nginx_block_line) && lines().any(|l| strip_nginx_comment(l).ends_with(b";")) {
        return Some(Format::NginxConf);
    }
    let mut access = 0;
    let mut denies = 0;
    let mut others = 0;
    for l in lines() {
        match access_line(l) {
            Some(deny) => {
                access += 1;
                denies += usize::from(deny);
            }
            None => others += 1,
        }
    }
    if denies > 0 && others == 0 && access > 0 {
        return Some(Format::NginxConf);
    }
    // By place: a .conf file in a web server's directory whose lines look like directives.
    if !name.ends_with(".conf") {
        return None;
    }
    let dirs: Vec<String> = path
        .parent()
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let directive_like = lines().all(|l| {
        l.first()
            .is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'<' | b'}' | b'{'))
    });
    if !directive_like {
        return None;
    }
    if dirs.iter().any(|d| d == "nginx") && lines().any(|l| strip_nginx_comment(l).ends_with(b";"))
    {
        return Some(Format::NginxConf);
    }
    if dirs
        .iter()
        .any(|d| d == "apache2" || d == "apache" || d == "httpd")
    {
        return Some(Format::ApacheConf);
    }
    None
}

/// A line that only Apache configuration has.
fn apache_line(l: &[u8]) -> bool {
    let lower = l.to_ascii_lowercase();
    const SECTIONS: &[&[u8]] = &[
        b"<virtualhost",
        b"<directory",
        b"<location",
        b"<files",
        b"<requireall",
        b"<requireany",
        b"<requirenone",
        b"<ifmodule",
        b"<limit",
    ];
    if SECTIONS.iter().any(|s| {
        lower.starts_with(s)
            && lower[s.len()..]
                .first()
                .is_some_and(|&b| b == b' ' || b == b'\t' || b == b'>' || b.is_ascii_alphabetic())
            && lower.ends_with(b">")
    }) {
        return true;
    }
    let words: Vec<&[u8]> = lower
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    match words.as_slice() {
        [b"require", b"all", what] => matches!(*what, b"granted" | b"denied"),
        [b"require", provider, _, ..] => matches!(
            *provider,
            b"ip"
                | b"not"
                | b"host"
                | b"env"
                | b"forward-dns"
                | b"method"
                | b"expr"
                | b"user"
                | b"group"
        ),
        [b"require", provider] => matches!(*provider, b"valid-user" | b"local"),
        [b"deny" | b"allow", b"from", _, ..] => true,
        [b"order", order] => matches!(*order, b"allow,deny" | b"deny,allow" | b"mutual-failure"),
        _ => false,
    }
}

/// A line that opens one of nginx's main blocks.
fn nginx_block_line(l: &[u8]) -> bool {
    let l = strip_nginx_comment(l);
    let Some(body) = l.strip_suffix(b"{") else {
        return false;
    };
    let words: Vec<&[u8]> = body
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    match words.as_slice() {
        [b"http" | b"server" | b"events" | b"stream" | b"mail"] => true,
        [b"location", ..] if words.len() >= 2 => true,
        [b"upstream", _] => true,
        _ => false,
    }
}

/// A line without a trailing `# comment` (a `#` after white space), trimmed.
fn strip_nginx_comment(l: &[u8]) -> &[u8] {
    let mut prev_space = true;
    for (i, &b) in l.iter().enumerate() {
        if b == b'#' && prev_space {
            return l[..i].trim_ascii();
        }
        if b == b'"' || b == b'\'' {
            // Quoted text: do not look for comments inside (good enough for detection).
            return l;
        }
        prev_space = b.is_ascii_whitespace();
    }
    l
}

/// `allow X;` (Some(false)) or `deny X;` (Some(true)), as a whole line.
fn access_line(l: &[u8]) -> Option<bool> {
    let l = strip_nginx_comment(l);
    let body = l.strip_suffix(b";")?.trim_ascii_end();
    let (word, arg) = if let Some(a) = body.strip_prefix(b"deny") {
        (true, a)
    } else {
        (false, body.strip_prefix(b"allow")?)
    };
    if !arg.first().is_some_and(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let arg = arg.trim_ascii();
    (arg == b"all" || parse_net(arg).is_some()).then_some(word)
}

/// The parser of `format` for one input.
pub fn parser(format: Format, ctx: &ParseCtx) -> Parser {
    match format {
        Format::ApacheConf => Parser::Lines(Box::new(ApacheConfParser::new(ctx))),
        _ => Parser::Lines(Box::new(NginxConfParser::new(ctx))),
    }
}

/// The name of the file, the scope of entries outside any named context.
fn file_scope(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// An event of a standing configuration entry.
fn listed(
    net: IpNet,
    tool: Tool,
    format: Format,
    scope: String,
    path: &Arc<Path>,
    line: u64,
) -> BanEvent {
    BanEvent {
        net,
        tool,
        format,
        scope,
        peer: None,
        action: Action::Listed,
        time: None,
        expires: None,
        location: Location {
            path: path.clone(),
            line,
        },
    }
}

/// Text for messages.
fn shown(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(80)]);
    format!("{s:?}")
}

// ---------------------------------------------------------------------------------------
// nginx

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
}

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
        self.blocks.push(Block {
            name,
            server,
            ..Block::default()
        });
    }

    fn close(&mut self, sink: &mut dyn Sink) {
        if self.blocks.len() == 1 {
            // A `}` without its block (a snippet cut out of a larger file): ignored.
            return;
        }
        let mut block = self.blocks.pop().expect("more than one");
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
        while self.blocks.len() > 1 {
            self.close(sink);
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

// ---------------------------------------------------------------------------------------
// Apache

/// Reads an address as Apache's `apr_ipsubnet_create` does (see the module docs). `Ok(None)`:
/// the word does not look like an address (a host name); `Err`: it looks like one but is not.
///
/// ```
/// use cf_ban_audit_core::formats::webserver_conf::parse_apache_net;
/// let net = |s: &str| parse_apache_net(s.as_bytes()).unwrap().unwrap().to_string();
/// assert_eq!(net("10.1"), "10.1.0.0/16");
/// assert_eq!(net("172.16."), "172.16.0.0/16");
/// assert_eq!(net("104"), "104.0.0.0/8");
/// assert_eq!(net("10.1.2"), "10.1.2.0/24");
/// assert_eq!(net("192.0.2.7"), "192.0.2.7/32");
/// assert_eq!(net("10.0.0.0/255.255.0.0"), "10.0.0.0/16");
/// assert_eq!(net("2001:db8::/32"), "2001:db8::/32");
/// assert_eq!(parse_apache_net(b"example.com").unwrap(), None);
/// assert!(parse_apache_net(b"10.1/16").is_err());
/// assert!(parse_apache_net(b"300.1").is_err());
/// ```
pub fn parse_apache_net(word: &[u8]) -> Result<Option<IpNet>, String> {
    let (addr, mask) = match memchr::memchr(b'/', word) {
        Some(i) => (&word[..i], Some(&word[i + 1..])),
        None => (word, None),
    };
    let looks_like_ip = !addr.is_empty()
        && (addr.contains(&b':') || addr.iter().all(|b| b.is_ascii_digit() || *b == b'.'));
    if !looks_like_ip {
        return match mask {
            // With a mask, Apache wants an address.
            Some(_) => Err(format!("not an address: {}", shown(word))),
            None => Ok(None),
        };
    }
    let bad = || format!("not an address: {}", shown(word));
    let Some(mask) = mask else {
        if let Some(net) = parse_net(addr) {
            return Ok(Some(net));
        }
        return partial_ipv4(addr).map(Some).ok_or_else(bad);
    };
    let ip = crate::addr::parse_ip(addr).ok_or_else(bad)?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = if !mask.is_empty() && mask.iter().all(u8::is_ascii_digit) && mask.len() <= 3 {
        let bits: u8 = std::str::from_utf8(mask)
            .ok()
            .and_then(|m| m.parse().ok())
            .ok_or_else(bad)?;
        if bits == 0 || bits > max {
            return Err(bad());
        }
        bits
    } else if ip.is_ipv4() {
        let Some(std::net::IpAddr::V4(m)) = crate::addr::parse_ip(mask) else {
            return Err(bad());
        };
        let m = u32::from(m);
        let ones = m.leading_ones();
        if m.checked_shl(ones).unwrap_or(0) != 0 || ones == 0 {
            return Err(format!("netmask that is not a prefix: {}", shown(word)));
        }
        ones as u8
    } else {
        return Err(bad());
    };
    IpNet::new(ip, prefix)
        .map(|n| Some(crate::addr::normalize_net(n)))
        .map_err(|_| bad())
}

/// `a`, `a.b`, `a.b.c` (each with an optional trailing dot): the /8, /16 or /24 network.
fn partial_ipv4(s: &[u8]) -> Option<IpNet> {
    let s = s.strip_suffix(b".").unwrap_or(s);
    let mut bytes = [0u8; 4];
    let mut n = 0;
    for part in s.split(|&b| b == b'.') {
        if n == 4 || part.is_empty() || part.len() > 3 || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        bytes[n] = std::str::from_utf8(part).ok()?.parse().ok()?;
        n += 1;
    }
    if n == 0 {
        return None;
    }
    Ipv4Net::new(bytes.into(), (n * 8) as u8)
        .ok()
        .map(|net| IpNet::V4(net.trunc()))
}

/// Sections that hold their own access configuration and name the scope.
const APACHE_SCOPE_SECTIONS: &[&str] = &[
    "directory",
    "directorymatch",
    "location",
    "locationmatch",
    "files",
    "filesmatch",
    "proxy",
    "proxymatch",
];

/// An event waiting for its section to end.
#[derive(Debug)]
struct Pending {
    net: IpNet,
    line: u64,
    /// `None`: the enclosing virtual host's name.
    scope: Option<String>,
}

/// An open section.
#[derive(Debug, Default)]
struct Section {
    /// The section's name, lower case (`directory`), empty for the file itself.
    name: String,
    /// How it is written: `<Directory /var/www>`.
    shown: String,
    /// `Deny from` entries, weighed against `Order` and `Allow from` at the end.
    denies: Vec<Pending>,
    allows: Vec<IpNet>,
    allow_all: bool,
    /// `Order Deny,Allow` (Apache's default) when `None`.
    deny_first: Option<bool>,
    /// For a virtual host: its `ServerName` and the events waiting for it.
    server_name: Option<String>,
    vhost_pending: Vec<Pending>,
}

impl Section {
    fn is_access(&self) -> bool {
        self.name.is_empty()
            || self.name == "virtualhost"
            || APACHE_SCOPE_SECTIONS.contains(&self.name.as_str())
    }
}

/// The parser of Apache configuration and `.htaccess` files ([`Format::ApacheConf`]).
pub struct ApacheConfParser {
    path: Arc<Path>,
    file_scope: String,
    continued: Vec<u8>,
    continued_line: u64,
    /// The open sections; the first is the file itself.
    sections: Vec<Section>,
    allowed: u64,
}

impl ApacheConfParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        ApacheConfParser {
            path: ctx.path.clone(),
            file_scope: file_scope(&ctx.path),
            continued: Vec::new(),
            continued_line: 0,
            sections: vec![Section::default()],
            allowed: 0,
        }
    }

    /// The scope of an entry written now.
    fn scope_now(&self) -> Option<String> {
        for s in self.sections.iter().rev() {
            if APACHE_SCOPE_SECTIONS.contains(&s.name.as_str()) {
                return Some(s.shown.clone());
            }
            if s.name == "virtualhost" {
                return None;
            }
        }
        Some(self.file_scope.clone())
    }

    /// Emits an entry, or holds it for its virtual host's name.
    fn deliver(&mut self, p: Pending, sink: &mut dyn Sink) {
        match p.scope {
            Some(scope) => sink.event(listed(
                p.net,
                Tool::ApacheDeny,
                Format::ApacheConf,
                scope,
                &self.path,
                p.line,
            )),
            None => match self
                .sections
                .iter_mut()
                .rev()
                .find(|s| s.name == "virtualhost")
            {
                Some(vhost) => vhost.vhost_pending.push(p),
                None => {
                    let scope = self.file_scope.clone();
                    self.deliver(
                        Pending {
                            scope: Some(scope),
                            ..p
                        },
                        sink,
                    );
                }
            },
        }
    }

    /// Ends the innermost section.
    fn close(&mut self, sink: &mut dyn Sink) {
        let Some(last) = self.sections.last_mut() else {
            return;
        };
        // `Deny from` holds unless `Order Deny,Allow` and an `Allow from` covers it.
        let denies = std::mem::take(&mut last.denies);
        let deny_first = last.deny_first.unwrap_or(true);
        let mut kept = Vec::new();
        for p in denies {
            let allowed =
                deny_first && (last.allow_all || last.allows.iter().any(|a| a.contains(&p.net)));
            if allowed {
                self.allowed += 1;
            } else {
                kept.push(p);
            }
        }
        for p in kept {
            self.deliver(p, sink);
        }
        if self.sections.len() == 1 {
            return;
        }
        let section = self.sections.pop().expect("more than one");
        if section.name == "virtualhost" {
            let scope = section.server_name.unwrap_or_else(|| section.shown.clone());
            for p in section.vhost_pending {
                self.deliver(
                    Pending {
                        scope: Some(scope.clone()),
                        ..p
                    },
                    sink,
                );
            }
        }
    }

    /// The innermost section holding access configuration.
    fn access_section(&mut self) -> &mut Section {
        let i = self
            .sections
            .iter()
            .rposition(Section::is_access)
            .unwrap_or(0);
        &mut self.sections[i]
    }

    fn logical_line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let line = line.trim_ascii();
        if line.is_empty() || line.starts_with(b"#") {
            return;
        }
        if let Some(rest) = line.strip_prefix(b"</") {
            let name = rest
                .strip_suffix(b">")
                .unwrap_or(rest)
                .trim_ascii()
                .to_ascii_lowercase();
            let name = String::from_utf8_lossy(&name).into_owned();
            if let Some(i) = self.sections.iter().rposition(|s| s.name == name) {
                if i > 0 {
                    while self.sections.len() > i {
                        self.close(sink);
                    }
                }
            }
            return;
        }
        if let Some(rest) = line.strip_prefix(b"<") {
            let body = rest.strip_suffix(b">").unwrap_or(rest);
            let end = body
                .iter()
                .position(|b| b.is_ascii_whitespace())
                .unwrap_or(body.len());
            let name = String::from_utf8_lossy(&body[..end]).to_ascii_lowercase();
            let args = String::from_utf8_lossy(body[end..].trim_ascii()).into_owned();
            let written = String::from_utf8_lossy(&body[..end]).into_owned();
            let shown = if args.is_empty() {
                format!("<{written}>")
            } else {
                format!("<{written} {args}>")
            };
            self.sections.push(Section {
                name,
                shown,
                ..Section::default()
            });
            return;
        }
        let words = apache_words(line);
        let Some((directive, args)) = words.split_first() else {
            return;
        };
        let directive = directive.to_ascii_lowercase();
        let lower = |i: usize| {
            args.get(i)
                .map(|w| w.to_ascii_lowercase())
                .unwrap_or_default()
        };
        match directive.as_slice() {
            b"servername" => {
                if let (Some(name), Some(vhost)) = (
                    args.first(),
                    self.sections
                        .iter_mut()
                        .rev()
                        .find(|s| s.name == "virtualhost"),
                ) {
                    if vhost.server_name.is_none() {
                        vhost.server_name = Some(String::from_utf8_lossy(name).into_owned());
                    }
                }
            }
            b"require" => {
                let in_none = self
                    .sections
                    .iter()
                    .rev()
                    .find(|s| s.name.starts_with("require"))
                    .is_some_and(|s| s.name == "requirenone");
                let addresses = if lower(0) == b"not" && lower(1) == b"ip" && !in_none {
                    &args[2..]
                } else if lower(0) == b"ip" && in_none {
                    &args[1..]
                } else {
                    return;
                };
                for word in addresses {
                    match parse_apache_net(word) {
                        Ok(Some(net)) => {
                            let scope = self.scope_now();
                            self.deliver(
                                Pending {
                                    net,
                                    line: lineno,
                                    scope,
                                },
                                sink,
                            );
                        }
                        Ok(None) => sink.malformed(
                            lineno,
                            format!(
                                "Require ip of something that is not an address: {}",
                                shown(word)
                            ),
                        ),
                        Err(e) => sink.malformed(lineno, format!("Require ip: {e}")),
                    }
                }
            }
            b"deny" | b"allow" if lower(0) == b"from" => {
                let deny = directive == b"deny";
                let scope = self.scope_now();
                for word in &args[1..] {
                    let lw = word.to_ascii_lowercase();
                    if lw == b"all" {
                        if !deny {
                            self.access_section().allow_all = true;
                        }
                        continue;
                    }
                    if lw.starts_with(b"env=") {
                        continue;
                    }
                    match parse_apache_net(word) {
                        Ok(Some(net)) if deny => self.access_section().denies.push(Pending {
                            net,
                            line: lineno,
                            scope: scope.clone(),
                        }),
                        Ok(Some(net)) => self.access_section().allows.push(net),
                        Ok(None) => {}
                        Err(e) if deny => sink.malformed(lineno, format!("Deny from: {e}")),
                        Err(_) => {}
                    }
                }
            }
            b"order" => {
                let order = lower(0);
                let deny_first = match order.as_slice() {
                    b"deny,allow" => true,
                    b"allow,deny" | b"mutual-failure" => false,
                    _ => return,
                };
                self.access_section().deny_first = Some(deny_first);
            }
            _ => {}
        }
    }
}

/// Splits a directive line into words as `ap_getword_conf` does (quotes group, a backslash
/// escapes a quote), dropping the words from one that starts with `#` on.
fn apache_words(line: &[u8]) -> Vec<Vec<u8>> {
    let mut words = Vec::new();
    let mut i = 0;
    while i < line.len() {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            break;
        }
        let mut word = Vec::new();
        if matches!(line[i], b'"' | b'\'') {
            let q = line[i];
            i += 1;
            while i < line.len() && line[i] != q {
                if line[i] == b'\\' && line.get(i + 1) == Some(&q) {
                    i += 1;
                }
                word.push(line[i]);
                i += 1;
            }
            i += 1;
        } else {
            if line[i] == b'#' {
                break;
            }
            while i < line.len() && !line[i].is_ascii_whitespace() {
                word.push(line[i]);
                i += 1;
            }
        }
        words.push(word);
    }
    words
}

impl LineParser for ApacheConfParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let trimmed = line.trim_ascii_end();
        if let Some(head) = trimmed.strip_suffix(b"\\") {
            if self.continued.is_empty() {
                self.continued_line = lineno;
            }
            self.continued.extend_from_slice(head);
            self.continued.push(b' ');
            if self.continued.len() > crate::lines::MAX_LINE {
                sink.malformed(
                    self.continued_line,
                    "Apache line continued without end".into(),
                );
                self.continued.clear();
            }
            return;
        }
        if self.continued.is_empty() {
            self.logical_line(lineno, line, sink);
        } else {
            let mut whole = std::mem::take(&mut self.continued);
            whole.extend_from_slice(line);
            self.logical_line(self.continued_line, &whole, sink);
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if !self.continued.is_empty() {
            let whole = std::mem::take(&mut self.continued);
            self.logical_line(self.continued_line, &whole, sink);
        }
        while self.sections.len() > 1 {
            self.close(sink);
        }
        self.close(sink);
        if self.allowed > 0 {
            sink.note(format!(
                "{} Deny from entr(ies) skipped: Order Deny,Allow with an Allow from that lets the network in",
                self.allowed
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    #[derive(Default)]
    struct Collect {
        events: Vec<BanEvent>,
        malformed: Vec<(u64, String)>,
        notes: Vec<String>,
    }

    impl Sink for Collect {
        fn event(&mut self, e: BanEvent) {
            self.events.push(e);
        }
        fn malformed(&mut self, line: u64, message: String) {
            self.malformed.push((line, message));
        }
        fn note(&mut self, text: String) {
            self.notes.push(text);
        }
    }

    fn run(format: Format, name: &str, text: &str) -> Collect {
        let t: NaiveDateTime = "2026-11-24T12:00:00".parse().unwrap();
        let ctx = ParseCtx {
            path: Arc::from(Path::new(name)),
            reference: t,
            now: t,
        };
        let mut sink = Collect::default();
        let Parser::Lines(mut p) = parser(format, &ctx) else {
            panic!()
        };
        for (i, line) in text.split('\n').enumerate() {
            p.line(i as u64 + 1, line.as_bytes(), &mut sink);
        }
        p.finish(&mut sink);
        sink
    }

    fn brief(c: &Collect) -> Vec<(String, String, u64)> {
        let mut v: Vec<_> = c
            .events
            .iter()
            .map(|e| (e.net.to_string(), e.scope.clone(), e.location.line))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn nginx_denies_and_traps() {
        let text = r#"http {
    log_format main '$remote_addr deny 104.16.0.9; "$request"';
    deny 104.16.0.1;   # deny 104.16.0.2;
    # deny 104.16.0.3;
    geo $bad { 104.16.0.4 1; }
    map $x $y { deny 104.16.0.5; }
    server {
        listen 80;
        location /admin {
            allow 104.16.0.0/13;
            deny 104.16.0.6;
            deny 172.64.0.0/12;
            deny all;
        }
        location / {
            deny
              2606:4700::/32;
            add_header X-Why "deny 104.16.0.7;";
            if ($bad) { deny 104.16.0.8; }
            return 403 'deny 104.16.0.10;';
        }
        server_name example.com www.example.com;
    }
    server {
        server_name _;
        deny 173.245.48.1;
    }
}
"#;
        let c = run(Format::NginxConf, "/etc/nginx/nginx.conf", text);
        assert!(c.malformed.is_empty(), "{:?}", c.malformed);
        assert_eq!(
            brief(&c),
            vec![
                ("172.64.0.0/12".into(), "example.com".into(), 12),
                ("173.245.48.1/32".into(), "nginx.conf".into(), 26),
                ("2606:4700::/32".into(), "example.com".into(), 16),
            ]
        );
        // The shadowed deny in /admin, and the http-level deny that no server uses.
        assert_eq!(c.notes.len(), 2, "{:?}", c.notes);
    }

    #[test]
    fn nginx_inheritance() {
        // Server rules reach the locations without rules of their own, and the server
        // itself when no `location /` takes every request.
        let text = "http {\n deny 104.16.0.1;\n server {\n  location / { deny 104.16.0.2; }\n  location /a { }\n }\n}\n";
        let c = run(Format::NginxConf, "/x/a.conf", text);
        assert_eq!(brief(&c).len(), 2, "{:?}", brief(&c));
        let text = "http {\n deny 104.16.0.1;\n server {\n  deny 104.16.0.3;\n  location / { deny 104.16.0.2; }\n }\n server { include x.conf; }\n}\n";
        let c = run(Format::NginxConf, "/x/a.conf", text);
        let nets: Vec<String> = brief(&c).into_iter().map(|b| b.0).collect();
        assert_eq!(nets, ["104.16.0.1/32", "104.16.0.2/32"]);
        let text = "server {\n deny 104.16.0.3;\n location /a { allow all; }\n}\n";
        let c = run(Format::NginxConf, "/x/a.conf", text);
        assert_eq!(brief(&c).len(), 1);
    }

    #[test]
    fn nginx_snippet_and_bad_lines() {
        let c = run(
            Format::NginxConf,
            "/etc/nginx/conf.d/blockips.conf",
            "deny 104.16.0.1;\ndeny \"198.51.100.0/24\";\ndeny 104.16.0.300;\ndeny a b;\nallow all;\ndeny 104.16.0.2;\ndeny 104.16",
        );
        assert_eq!(
            brief(&c),
            vec![
                ("104.16.0.1/32".into(), "blockips.conf".into(), 1),
                ("198.51.100.0/24".into(), "blockips.conf".into(), 2),
            ]
        );
        assert_eq!(c.malformed.len(), 3, "{:?}", c.malformed);
    }

    #[test]
    fn apache_requires_and_denies() {
        let text = r#"# Require not ip 104.16.0.1
<VirtualHost *:80>
    ServerName example.org
    <Directory /var/www/html>
        <RequireAll>
            Require all granted
            Require not ip 104 10.1 172.16. 2606:4700::/32 # 104.16.0.2
            Require not host bad.example
        </RequireAll>
        <RequireNone>
            Require ip 173.245.48.0/255.255.240.0
        </RequireNone>
        Require ip 104.16.0.3
    </Directory>
    <RequireAll>
        Require all granted
        Require not \
            ip 162.158.0.1
    </RequireAll>
    Order Allow,Deny
    Allow from all
    Deny from 162.158.0.2 env=bad .example.com
</VirtualHost>
<Location /admin>
    Order Deny,Allow
    Deny from 104.16.0.4
    Allow from 104.16.0.0/13
    Deny from 172.64.1
    Deny from all
</Location>
Require not ip 300.1.1.1
"#;
        let c = run(
            Format::ApacheConf,
            "/etc/apache2/sites-enabled/site.conf",
            text,
        );
        assert_eq!(
            brief(&c),
            vec![
                ("10.1.0.0/16".into(), "<Directory /var/www/html>".into(), 7),
                ("104.0.0.0/8".into(), "<Directory /var/www/html>".into(), 7),
                ("162.158.0.1/32".into(), "example.org".into(), 17),
                ("162.158.0.2/32".into(), "example.org".into(), 22),
                (
                    "172.16.0.0/16".into(),
                    "<Directory /var/www/html>".into(),
                    7
                ),
                ("172.64.1.0/24".into(), "<Location /admin>".into(), 28),
                (
                    "173.245.48.0/20".into(),
                    "<Directory /var/www/html>".into(),
                    11
                ),
                (
                    "2606:4700::/32".into(),
                    "<Directory /var/www/html>".into(),
                    7
                ),
            ]
        );
        assert_eq!(c.malformed.len(), 1, "{:?}", c.malformed);
        assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
    }

    #[test]
    fn htaccess_scope_is_the_file() {
        let c = run(
            Format::ApacheConf,
            "/var/www/.htaccess",
            "order allow,deny\nallow from all\ndeny from 104.16.0.1\n",
        );
        assert_eq!(
            brief(&c),
            vec![("104.16.0.1/32".into(), ".htaccess".into(), 3)]
        );
        // Default order Deny,Allow: Allow from all lets everyone in.
        let c = run(
            Format::ApacheConf,
            "/var/www/.htaccess",
            "deny from 104.16.0.1\nallow from all\n",
        );
        assert!(c.events.is_empty());
    }

    #[test]
    fn detection() {
        let d = |p: &str, s: &str| detect(Path::new(p), s.as_bytes());
        assert_eq!(
            d("/x/.htaccess", "RewriteEngine On\n"),
            Some(Format::ApacheConf)
        );
        assert_eq!(
            d("/tmp/a", "Order allow,deny\nDeny from 1.2.3.4\n"),
            Some(Format::ApacheConf)
        );
        assert_eq!(
            d("/tmp/a", "http {\n  include mime.types;\n}\n"),
            Some(Format::NginxConf)
        );
        assert_eq!(
            d(
                "/tmp/a",
                "# list\ndeny 1.2.3.4;\ndeny 10.0.0.0/8; # x\nallow all;\n"
            ),
            Some(Format::NginxConf)
        );
        assert_eq!(
            d("/etc/nginx/conf.d/a.conf", "proxy_set_header Host $host;\n"),
            Some(Format::NginxConf)
        );
        assert_eq!(
            d("/etc/apache2/conf-enabled/a.conf", "ServerTokens Prod\n"),
            Some(Format::ApacheConf)
        );
        for (p, s) in [
            ("/tmp/a", "allow all;\n"),
            ("/tmp/a", "deny 1.2.3.4;\nhello world\n"),
            ("/tmp/notes.txt", "We require ip addresses.\nserver {\n"),
            (
                "/var/log/nginx/access.log",
                "1.2.3.4 - - [..] \"GET /deny 104.16.0.1; HTTP/1.1\"\n",
            ),
            ("/etc/nginx/x.conf", "1.2.3.4 1;\n"),
            ("/tmp/x", "table inet filter {\n chain input {\n }\n}\n"),
        ] {
            assert_eq!(d(p, s), None, "{p}: {s}");
        }
    }

    #[test]
    fn cut_and_garbled_input_never_panics() {
        let samples = [
            "http {\n server { server_name a; location / { allow 104.16.0.0/13; deny 104.16.0.1; deny \"x;y\"; } }\n # c\n deny ${a}b;\n}\n}\n",
            "<VirtualHost *:80>\nServerName a\n<Directory /x>\nRequire not ip 104 10.1/255.255.0.0 \\\n 2606::/16\n</Directory>\nOrder deny,allow\nDeny from 1.2.3.4\n</VirtualHost>\n</Files>\n",
        ];
        let mut seed = 0x9e37_79b9_u64;
        let alphabet = b"{};\"'#\\$ \n<>/ainpdeoy.0123456789";
        for sample in samples {
            for format in [Format::NginxConf, Format::ApacheConf] {
                for cut in 0..=sample.len() {
                    run(format, "/x/a.conf", &sample[..cut]);
                }
                for _ in 0..300 {
                    let mut bytes = sample.as_bytes().to_vec();
                    for _ in 0..4 {
                        seed = seed
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        let at = (seed >> 33) as usize % bytes.len();
                        bytes[at] = alphabet[(seed >> 17) as usize % alphabet.len()];
                    }
                    run(format, "/x/a.conf", &String::from_utf8_lossy(&bytes));
                }
            }
        }
        for word in [
            "",
            "/",
            "1/",
            "/1",
            "1.2.3.4/0",
            "::/129",
            "1.2.3.4/255.0.255.0",
            "1.2.3.4.5",
            "....",
            "1..2",
            "999",
        ] {
            let _ = parse_apache_net(word.as_bytes());
        }
    }
}
