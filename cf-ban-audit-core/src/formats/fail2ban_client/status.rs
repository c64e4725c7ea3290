//! Saved `fail2ban-client status <jail>` (and `status --all`) output: the tree of
//! `key:<TAB>value` items whose `Banned IP list:` holds the jail's bans.

use std::path::Path;
use std::sync::Arc;

use super::listed;
use crate::formats::{Format, LineParser, ParseCtx, Sink};
use crate::lines::MAX_LINE;

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

/// `key:` then white space and the value, or `key:` at the end of the item.
fn item_value<'a>(item: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let rest = item.strip_prefix(key)?.strip_prefix(b":")?;
    match rest.first() {
        None => Some(rest),
        Some(b) if b.is_ascii_whitespace() => Some(rest.trim_ascii()),
        Some(_) => None,
    }
}

/// Parser of `fail2ban-client status` output (see the [module documentation](super)).
pub struct StatusParser {
    path: Arc<Path>,
    /// The jail of the current tree, once named.
    jail: Option<Vec<u8>>,
    /// Inside the `Actions` branch of that jail.
    in_actions: bool,
}

impl StatusParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        StatusParser {
            path: ctx.path.clone(),
            jail: None,
            in_actions: false,
        }
    }

    fn set_jail(&mut self, name: &[u8]) {
        let name = name.trim_ascii();
        self.jail = (!name.is_empty()).then(|| name.to_vec());
        self.in_actions = false;
    }
}

impl LineParser for StatusParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let cut = line.len() >= MAX_LINE;
        let line = line.trim_ascii_end();
        let trimmed = line.trim_ascii_start();
        if let Some(name) = trimmed.strip_prefix(b"Status for the jail:") {
            self.set_jail(name);
            return;
        }
        if trimmed == b"Status" {
            // The list of jails, or the head of `status --all`.
            self.jail = None;
            self.in_actions = false;
            return;
        }
        let Some(item) = tree_item(line) else { return };
        if let Some(name) = item_value(item, b"Jail") {
            self.set_jail(name);
        } else if item.eq_ignore_ascii_case(b"Actions") || item.eq_ignore_ascii_case(b"action") {
            self.in_actions = true;
        } else if item.eq_ignore_ascii_case(b"Filter") {
            self.in_actions = false;
        } else if let Some(list) =
            item_value(item, b"Banned IP list").or_else(|| item_value(item, b"IP list"))
        {
            let Some(jail) = self.jail.as_deref().filter(|_| self.in_actions) else {
                sink.malformed(
                    lineno,
                    "fail2ban-status: a Banned IP list outside the Actions of a named jail"
                        .to_string(),
                );
                return;
            };
            let mut tokens: Vec<&[u8]> = list
                .split(|b| b.is_ascii_whitespace())
                .filter(|t| !t.is_empty())
                .collect();
            if cut {
                // The reader cut the line: its last token may be part of an address.
                tokens.pop();
                sink.malformed(
                    lineno,
                    format!(
                        "fail2ban-status: Banned IP list longer than {MAX_LINE} bytes, cut: the addresses after the cut are not read"
                    ),
                );
            }
            for token in tokens {
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
