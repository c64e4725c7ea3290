//! Saved `fail2ban-client banned` output: the Python `repr` of a list of
//! `{jail: [address, ...]}` dicts, read with [`super::python_repr`].

use std::path::Path;
use std::sync::Arc;

use super::listed;
use super::python_repr::{Stop, Walker};
#[cfg(doc)]
use super::MAX_LIST_LINE;
use crate::formats::{Format, LineParser, ParseCtx, Part, Sink};

/// Whether the first bytes of a file are `fail2ban-client banned` output: a Python list of
/// `{'jail': ['address', ...]}` dicts, a list of lists of jail names (`banned <ip>`), or `[]`.
/// The whole head must have that shape (it may end inside it).
pub fn looks_like_banned(head: &[u8]) -> bool {
    let mut walker = Walker::new(1);
    if walker.feed(head, &mut |_, _, _| {}).is_err() {
        return false;
    }
    match walker.end() {
        Ok(documents) => documents > 0,
        Err(_) => walker.reached,
    }
}

/// Parser of `fail2ban-client banned` output (see the [module documentation](super)). The
/// output is read as it comes, a line however long in pieces, keeping only the string being
/// read: every address of a jail of 79,000 bans on one line (up to [`MAX_LIST_LINE`]). Each event
/// carries the line where its address stands. Addresses read before a fault in the input are
/// kept, and the fault is reported as malformed.
pub struct BannedParser {
    path: Arc<Path>,
    walker: Walker,
    /// The walk stopped at a fault (reported).
    failed: bool,
}

impl BannedParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        BannedParser {
            path: ctx.path.clone(),
            walker: Walker::new(1),
            failed: false,
        }
    }

    fn feed(&mut self, bytes: &[u8], sink: &mut dyn Sink) {
        if self.failed {
            return;
        }
        let path = &self.path;
        let result = self.walker.feed(bytes, &mut |jail, addr, line| {
            listed(path, Format::Fail2banBanned, jail, addr, line, sink);
        });
        if let Err(Stop::Syntax(line, message)) = result {
            self.failed = true;
            sink.malformed(
                line,
                format!("fail2ban-banned: {message}; the rest is not read"),
            );
        }
    }
}

impl LineParser for BannedParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        self.walker.line = lineno;
        self.feed(line, sink);
        self.feed(b"\n", sink);
    }

    fn piece(&mut self, lineno: u64, piece: &[u8], part: Part, sink: &mut dyn Sink) {
        if part == Part::First {
            self.walker.line = lineno;
        }
        self.feed(piece, sink);
        if part == Part::Last {
            self.feed(b"\n", sink);
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if !self.failed && self.walker.end().is_err() {
            sink.malformed(
                self.walker.line.saturating_sub(1).max(1),
                "fail2ban-banned: the output ends inside a list".into(),
            );
        }
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn looks_like_banned() {
        use crate::formats::fail2ban_client::looks_like_banned;
        assert!(looks_like_banned(
            b"[{'sshd': ['104.16.9.9', '192.0.2.5']}, {'recidive': []}]\n"
        ));
        assert!(looks_like_banned(b"[['sshd'], []]\n"));
        assert!(looks_like_banned(b"[]\n"));
        assert!(!looks_like_banned(b"[{'sshd': 'x'}]"));
        assert!(!looks_like_banned(b"[[wiki link]]"));
        assert!(!looks_like_banned(b"[] and some words"));
    }

    #[test]
    fn banned_parser() {
        use crate::formats::fail2ban_client::BannedParser;
        use crate::formats::LineParser;

        let ctx = crate::formats::test_support::ctx("banned.txt");
        let mut parser = BannedParser::new(&ctx);
        let mut sink = crate::formats::test_support::Collect::default();
        parser.line(
            1,
            b"[{'sshd': ['104.16.9.9', 'x']}, {'nginx': ['2606:4700::abcd']}]",
            &mut sink,
        );
        parser.finish(&mut sink);
        let got: Vec<_> = sink
            .events
            .iter()
            .map(|e| (e.scope.as_str(), e.net.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                ("sshd", "104.16.9.9/32".to_string()),
                ("nginx", "2606:4700::abcd/128".to_string())
            ]
        );
    }
}
