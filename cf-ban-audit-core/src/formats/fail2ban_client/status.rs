//! Saved `fail2ban-client status <jail>` (and `status --all`) output: the tree of
//! `key:<TAB>value` items whose `Banned IP list:` holds the jail's bans.

use std::path::Path;
use std::sync::Arc;

use super::listed;
use crate::formats::grammar::pieces::Tokens;
use crate::formats::{quote, Format, LineParser, ParseCtx, Part, Sink};

/// The first two non-empty lines of `head`, trimmed.
fn first_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
        .take(2)
}

/// Whether the first bytes of a file are `fail2ban-client status` output: the first non-empty
/// line is `Status for the jail: NAME`, or `Status` followed by `|- Number of jail:`.
pub fn looks_like_status(head: &[u8]) -> bool {
    let mut lines = first_lines(head);
    match lines.next() {
        Some(first) if first.starts_with(b"Status for the jail:") => true,
        Some(b"Status") => lines
            .next()
            .is_some_and(|l| l.starts_with(b"|- Number of jail")),
        _ => false,
    }
}

/// One item of the tree: the text after `|- ` or `` `- ``, the prefix before being made of
/// spaces and `|` only.
fn tree_item(line: &[u8]) -> Option<&[u8]> {
    let mut i = 0;
    loop {
        match *line.get(i)? {
            b'|' | b'`' if line.get(i + 1) == Some(&b'-') => break,
            b' ' | b'\t' | b'|' => i += 1,
            _ => return None,
        }
    }
    line[i + 2..].strip_prefix(b" ")
}

/// `key:` then white space and the value, or `key:` at the end of the item (the value's
/// white space at its end is kept: a line read in pieces may go on after it).
fn item_value<'a>(item: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let rest = item.strip_prefix(key)?.strip_prefix(b":")?;
    match rest.first() {
        None => Some(rest),
        Some(b) if b.is_ascii_whitespace() => Some(rest.trim_ascii_start()),
        Some(_) => None,
    }
}

/// The separators of a `Banned IP list`.
fn is_space(b: u8) -> bool {
    b.is_ascii_whitespace()
}

/// Parser of `fail2ban-client status` output (see the [module documentation](super)).
pub struct StatusParser {
    path: Arc<Path>,
    /// The jail of the current tree, once named.
    jail: Option<Vec<u8>>,
    /// Inside the `Actions` branch of that jail.
    in_actions: bool,
    /// Reading the `Banned IP list` of a line handed in pieces.
    streaming: bool,
    /// The addresses of that line, cut between pieces.
    tokens: Tokens,
}

impl StatusParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        StatusParser {
            path: ctx.path.clone(),
            jail: None,
            in_actions: false,
            streaming: false,
            tokens: Tokens::default(),
        }
    }

    fn set_jail(&mut self, name: &[u8]) {
        let name = name.trim_ascii();
        self.jail = (!name.is_empty()).then(|| name.to_vec());
        self.in_actions = false;
    }
}

impl StatusParser {
    /// Reads one line, or the first piece of a long one: the tree's state is followed, and
    /// the text of a `Banned IP list` of a named jail's `Actions` is returned.
    fn tree_line<'a>(
        &mut self,
        lineno: u64,
        line: &'a [u8],
        sink: &mut dyn Sink,
    ) -> Option<&'a [u8]> {
        let trimmed = line.trim_ascii();
        if let Some(name) = trimmed.strip_prefix(b"Status for the jail:") {
            self.set_jail(name);
            return None;
        }
        if trimmed == b"Status" {
            // The list of jails, or the head of `status --all`.
            self.jail = None;
            self.in_actions = false;
            return None;
        }
        let item = tree_item(line)?;
        if let Some(name) = item_value(item, b"Jail") {
            self.set_jail(name);
        } else if item.trim_ascii_end().eq_ignore_ascii_case(b"Actions")
            || item.trim_ascii_end().eq_ignore_ascii_case(b"action")
        {
            self.in_actions = true;
        } else if item.trim_ascii_end().eq_ignore_ascii_case(b"Filter") {
            self.in_actions = false;
        } else if let Some(list) =
            item_value(item, b"Banned IP list").or_else(|| item_value(item, b"IP list"))
        {
            if self.jail.is_some() && self.in_actions {
                return Some(list);
            }
            sink.malformed(
                lineno,
                "fail2ban-status: a Banned IP list outside the Actions of a named jail".to_string(),
            );
        }
        None
    }

    /// One address of the jail's list (cut at the longest token kept: not an address).
    fn address(&self, lineno: u64, token: &[u8], cut: bool, sink: &mut dyn Sink) {
        let Some(jail) = self.jail.as_deref() else {
            return;
        };
        if cut {
            sink.malformed(
                lineno,
                format!(
                    "fail2ban-status: jail {}: not an address: {}...",
                    String::from_utf8_lossy(jail),
                    quote(&token[..token.len().min(64)])
                ),
            );
            return;
        }
        listed(
            &self.path,
            Format::Fail2banStatus,
            jail,
            token,
            lineno,
            sink,
        );
    }
}

impl LineParser for StatusParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let Some(list) = self.tree_line(lineno, line, sink) else {
            return;
        };
        for token in list.split(|&b| is_space(b)).filter(|t| !t.is_empty()) {
            self.address(lineno, token, false, sink);
        }
    }

    fn piece(&mut self, lineno: u64, piece: &[u8], part: Part, sink: &mut dyn Sink) {
        let piece = match part {
            Part::First => {
                // The head of the line says what it is; only a jail's list is read on.
                self.tokens.clear();
                self.streaming = false;
                match self.tree_line(lineno, piece, sink) {
                    Some(list) => {
                        self.streaming = true;
                        list
                    }
                    None => return,
                }
            }
            _ if self.streaming => piece,
            _ => return,
        };
        let mut tokens = std::mem::take(&mut self.tokens);
        tokens.feed(piece, part == Part::Last, is_space, &mut |token, cut| {
            self.address(lineno, token, cut, sink)
        });
        self.tokens = tokens;
        if part == Part::Last {
            self.streaming = false;
        }
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn looks_like_status() {
        use crate::formats::fail2ban_client::looks_like_status;
        assert!(looks_like_status(b"Status for the jail: sshd\n|- Filter\n"));
        assert!(looks_like_status(
            b"Status\n|- Number of jail:\t2\n`- Jail list:\tsshd, recidive\n"
        ));
        assert!(!looks_like_status(b"Status\nall good\n"));
        assert!(!looks_like_status(
            b"2026-11-24 Status for the jail: sshd\n"
        ));
    }

    #[test]
    fn status_parser() {
        use crate::formats::fail2ban_client::StatusParser;
        use crate::formats::LineParser;

        let ctx = crate::formats::test_support::ctx("status.txt");
        let mut parser = StatusParser::new(&ctx);
        let mut sink = crate::formats::test_support::Collect::default();
        let text = "Status for the jail: sshd\n|- Filter\n|  `- File list:\t/var/log/auth.log\n\
                    `- Actions\n   |- Currently banned:\t2\n   `- Banned IP list:\t104.16.9.9 2606:4700::abcd\n";
        for (n, line) in text.lines().enumerate() {
            parser.line(n as u64 + 1, line.as_bytes(), &mut sink);
        }
        parser.finish(&mut sink);
        assert_eq!(sink.events.len(), 2);
        assert_eq!(
            (sink.events[0].scope.as_str(), sink.events[0].location.line),
            ("sshd", 6)
        );
    }
}
