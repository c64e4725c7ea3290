//! Saved `ufw status` (plain, `numbered`, `verbose`) and `ufw show added` output: the rows of
//! the `To  Action  From` table and the `ufw ...` commands.

use std::path::Path;
use std::sync::Arc;

use super::{clean_comment, describe, listed, looks_like_address, words};
use crate::addr::parse_net;
use crate::formats::grammar::words::shell_words;
use crate::formats::{quote, Format, LineParser, ParseCtx, Sink};

/// What part of a saved output the parser is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    /// Before any rule table (or after an unknown line between outputs).
    None,
    /// After `Status:`, before the dashes line.
    Header,
    /// Inside the `To Action From` table.
    Table,
    /// After `Added user rules`.
    Added,
}

/// Parser of saved `ufw status` (plain, `numbered`, `verbose`) and `ufw show added` output
/// (see the [module documentation](super)). Several outputs one after another are read as such.
pub struct StatusParser {
    path: Arc<Path>,
    section: Section,
}

impl StatusParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        StatusParser {
            path: ctx.path.clone(),
            section: Section::None,
        }
    }

    fn emit(&self, lineno: u64, src: &[u8], scope: String, sink: &mut dyn Sink) {
        // `104.24.0.1/tcp`: a rule of one protocol and no ports shows it after the address.
        let src = match memchr::memrchr(b'/', src) {
            Some(slash)
                if src[slash + 1..].first().is_some_and(u8::is_ascii_lowercase)
                    && src[slash + 1..].iter().all(u8::is_ascii_lowercase) =>
            {
                &src[..slash]
            }
            _ => src,
        };
        if let Some(net) = parse_net(src) {
            sink.event(listed(&self.path, Format::UfwStatus, net, scope, lineno));
        } else if looks_like_address(src) {
            sink.malformed(
                lineno,
                format!("ufw: source is not an address: {}", quote(src)),
            );
        }
        // Anything else is an application profile name or `Anywhere`: no single source.
    }

    /// One row of the rule table.
    fn row(&self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let mut text = line.trim_ascii();
        // `[ 1] ` of `ufw status numbered`.
        if text.first() == Some(&b'[') {
            let Some(close) = memchr::memchr(b']', text) else {
                return sink.malformed(
                    lineno,
                    format!("ufw status: bad rule number: {}", quote(text)),
                );
            };
            let number = text[1..close].trim_ascii();
            if number.is_empty() || !number.iter().all(u8::is_ascii_digit) {
                return sink.malformed(
                    lineno,
                    format!("ufw status: bad rule number: {}", quote(text)),
                );
            }
            text = &text[close + 1..];
        }
        let ws = words(text);
        let Some(ai) = ws
            .iter()
            .skip(1)
            .position(|(_, w)| matches!(*w, b"ALLOW" | b"DENY" | b"REJECT" | b"LIMIT"))
            .map(|i| i + 1)
        else {
            return sink.malformed(
                lineno,
                format!("ufw status: row without an action: {}", quote(text)),
            );
        };
        let action = ws[ai].1;
        let (dir, from_i) = match ws.get(ai + 1).map(|(_, w)| *w) {
            Some(d @ (b"IN" | b"OUT" | b"FWD")) => (d, ai + 2),
            _ => (&b"IN"[..], ai + 1),
        };
        let Some(&(from_at, from)) = ws.get(from_i) else {
            return sink.malformed(
                lineno,
                format!("ufw status: row without a source: {}", quote(text)),
            );
        };
        if !matches!(action, b"DENY" | b"REJECT") || dir == b"OUT" {
            return;
        }
        let route = dir == b"FWD";
        let comment = memchr::memmem::find(&text[from_at..], b" # ")
            .map(|at| String::from_utf8_lossy(&text[from_at + at + 3..]).into_owned())
            .and_then(|c| clean_comment(&c));
        let scope = comment.unwrap_or_else(|| {
            let to = String::from_utf8_lossy(text[..ws[ai].0].trim_ascii()).replace(" (v6)", "");
            let to = to
                .strip_prefix("Anywhere")
                .unwrap_or(&to)
                .trim()
                .to_string();
            let (dst, iface) = match to.split_once(" on ") {
                Some((d, i)) => (d.trim().to_string(), Some(i.trim().to_string())),
                None if to.starts_with("on ") => (String::new(), Some(to[3..].trim().to_string())),
                None => (to, None),
            };
            let action = String::from_utf8_lossy(action).to_lowercase();
            describe(
                route,
                &action,
                (!dst.is_empty()).then_some(dst.as_str()),
                None,
                iface.as_deref(),
            )
        });
        self.emit(lineno, from, scope, sink);
    }

    /// One `ufw ...` command of `ufw show added`.
    fn command(&self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let Some(args) = shell_words(line) else {
            return sink.malformed(
                lineno,
                format!("ufw show added: unbalanced quotes: {}", quote(line)),
            );
        };
        let mut it = args.iter().map(String::as_str).peekable();
        if it.next() != Some("ufw") {
            return;
        }
        let mut route = false;
        if it.peek() == Some(&"route") {
            route = true;
            it.next();
        }
        match it.peek() {
            Some(&"insert") => {
                it.next();
                it.next();
            }
            Some(&"prepend") => {
                it.next();
            }
            _ => {}
        }
        let Some(action) = it.next() else {
            return sink.malformed(
                lineno,
                format!("ufw show added: no action: {}", quote(line)),
            );
        };
        if !matches!(action, "allow" | "deny" | "reject" | "limit") {
            return sink.malformed(
                lineno,
                format!("ufw show added: unknown action: {}", quote(line)),
            );
        }
        let (mut out, mut iface_in, mut iface_out) = (false, None, None);
        let (mut from, mut to, mut dport, mut proto, mut app, mut comment) =
            (None, None, None, None, None, None);
        let mut last_dir = "";
        while let Some(word) = it.next() {
            match word {
                "in" | "out" => {
                    out = word == "out";
                    if it.peek() == Some(&"on") {
                        it.next();
                        let iface = it.next().map(str::to_string);
                        if out {
                            iface_out = iface;
                        } else {
                            iface_in = iface;
                        }
                    }
                }
                "log" | "log-all" => {}
                "from" | "to" => {
                    last_dir = word;
                    let addr = it.next().map(str::to_string);
                    if word == "from" {
                        from = addr;
                    } else {
                        to = addr;
                    }
                }
                "port" => {
                    let p = it.next().map(str::to_string);
                    if last_dir == "to" {
                        dport = p;
                    }
                }
                "app" => {
                    let a = it.next().map(str::to_string);
                    if last_dir == "to" {
                        app = a;
                    }
                }
                "proto" => proto = it.next().map(str::to_string),
                "comment" => comment = it.next().map(str::to_string),
                // The short form: `ufw deny 22/tcp` (no source).
                _ => {}
            }
        }
        if !matches!(action, "deny" | "reject") || (out && !route) {
            return;
        }
        let Some(src) = from.filter(|f| f != "any") else {
            return;
        };
        let scope = comment
            .as_deref()
            .and_then(clean_comment)
            .unwrap_or_else(|| {
                let dst = to.filter(|t| t != "any");
                let ports = match (dport, app) {
                    (_, Some(app)) => Some(app),
                    (Some(p), None) => Some(match &proto {
                        Some(pr) => format!("{p}/{pr}"),
                        None => p,
                    }),
                    (None, None) => None,
                };
                let iface = if route { iface_out } else { iface_in };
                describe(
                    route,
                    action,
                    dst.as_deref(),
                    ports.as_deref(),
                    iface.as_deref(),
                )
            });
        self.emit(lineno, src.as_bytes(), scope, sink);
    }
}

impl LineParser for StatusParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let trimmed = line.trim_ascii();
        if trimmed.starts_with(b"Status:") {
            self.section = Section::Header;
            return;
        }
        if trimmed.starts_with(b"Added user rules") {
            self.section = Section::Added;
            return;
        }
        match self.section {
            Section::None => {}
            Section::Header => {
                let ws = words(trimmed);
                if !ws.is_empty() && ws.iter().all(|(_, w)| w.iter().all(|&b| b == b'-')) {
                    self.section = Section::Table;
                }
            }
            Section::Table => {
                if !trimmed.is_empty() {
                    self.row(lineno, trimmed, sink);
                }
            }
            Section::Added => {
                if trimmed.starts_with(b"ufw ") {
                    self.command(lineno, trimmed, sink);
                } else if !trimmed.is_empty() {
                    self.section = Section::None;
                }
            }
        }
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn status_parser() {
        use crate::formats::ufw::StatusParser;
        use crate::formats::LineParser;

        let ctx = crate::formats::test_support::ctx("status.txt");
        let mut parser = StatusParser::new(&ctx);
        let mut sink = crate::formats::test_support::Collect::default();
        let text = "Status: active\n\n     To                         Action      From\n     \
                    --                         ------      ----\n\
                    [ 1] Anywhere                   DENY IN     104.16.123.96              # by Fail2Ban after 5 attempts against sshd\n\
                    [ 2] 443/tcp                    REJECT IN   2400:cb00::/32\n\
                    [ 3] 22/tcp                     ALLOW IN    172.64.0.1\n";
        for (n, line) in text.lines().enumerate() {
            parser.line(n as u64 + 1, line.as_bytes(), &mut sink);
        }
        let got: Vec<_> = sink
            .events
            .iter()
            .map(|e| (e.net.to_string(), e.scope.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "104.16.123.96/32".to_string(),
                    "by Fail2Ban after 5 attempts against sshd".to_string()
                ),
                ("2400:cb00::/32".to_string(), "reject 443/tcp".to_string()),
            ]
        );
    }
}
