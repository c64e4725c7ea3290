//! The parser of Apache configuration and `.htaccess` files: continued lines, sections and
//! their scopes, `Require` and `Deny from` weighed against `Order` and `Allow from`.

use std::path::Path;
use std::sync::Arc;

use ipnet::IpNet;

use super::parse_apache_net;
use crate::event::{Location, Tool};
use crate::formats::grammar::webconf::{file_scope, listed, shown};
use crate::formats::{Format, LineParser, ParseCtx, Sink};
use crate::web_evidence::{RealIpConfig, WebServer};

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
    /// The real-IP directives of the file (mod_remoteip), if any.
    realip: Option<RealIpConfig>,
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
            realip: None,
        }
    }

    /// The file's real-IP configuration so far, started at `line`.
    fn realip_at(&mut self, line: u64) -> &mut RealIpConfig {
        let path = self.path.clone();
        self.realip
            .get_or_insert_with(|| RealIpConfig::new(WebServer::Apache, Location { path, line }))
    }

    /// `RemoteIPHeader`, `RemoteIPTrustedProxy`, `RemoteIPInternalProxy` and their `…List`
    /// forms (mod_remoteip); `directive` is lower case.
    fn remoteip(&mut self, directive: &[u8], line: u64, args: &[Vec<u8>], sink: &mut dyn Sink) {
        match directive {
            b"remoteipheader" => {
                let Some(header) = args.first() else {
                    sink.malformed(line, "RemoteIPHeader without a header name".into());
                    return;
                };
                let header = String::from_utf8_lossy(header).into_owned();
                let cfg = self.realip_at(line);
                cfg.location.line = line;
                cfg.header = Some(header);
            }
            b"remoteiptrustedproxylist" | b"remoteipinternalproxylist" => {
                for file in args {
                    let file = String::from_utf8_lossy(file).into_owned();
                    self.realip_at(line).trusted_lists.push(file);
                }
            }
            _ => {
                for word in args {
                    match parse_apache_net(word) {
                        Ok(Some(net)) => self.realip_at(line).trusted.push(net),
                        Ok(None) => sink.note(format!(
                            "line {line}: trusted proxy {} is a host name (Apache resolves it \
                             at start): not checked",
                            shown(word)
                        )),
                        Err(e) => sink.malformed(line, format!("RemoteIP proxy: {e}")),
                    }
                }
            }
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
            d @ (b"remoteipheader"
            | b"remoteiptrustedproxy"
            | b"remoteipinternalproxy"
            | b"remoteiptrustedproxylist"
            | b"remoteipinternalproxylist") => {
                let d = d.to_vec();
                self.remoteip(&d, lineno, args, sink);
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
        if let Some(realip) = self.realip.take() {
            sink.realip_config(realip);
        }
        if self.allowed > 0 {
            sink.note(format!(
                "{} Deny from entr(ies) skipped: Order Deny,Allow with an Allow from that lets the network in",
                self.allowed
            ));
        }
    }
}
