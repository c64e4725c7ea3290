//! Saved `fail2ban-client banned` output: the Python `repr` of a list of
//! `{jail: [address, ...]}` dicts, read with [`super::python_repr`].

use std::path::Path;
use std::sync::Arc;

use super::python_repr::{Stop, Walker};
use super::{listed, MAX_BANNED_BYTES};
use crate::formats::{Format, LineParser, ParseCtx, Sink};
use crate::lines::MAX_LINE;

/// Whether the first bytes of a file are `fail2ban-client banned` output: a Python list of
/// `{'jail': ['address', ...]}` dicts, a list of lists of jail names (`banned <ip>`), or `[]`.
/// The whole head must have that shape (it may end inside it).
pub fn looks_like_banned(head: &[u8]) -> bool {
    let mut walker = Walker::new(head, 1);
    match walker.walk(&mut |_, _, _| {}) {
        Ok(documents) => documents > 0,
        Err(Stop::End) => walker.reached,
        Err(Stop::Syntax(..)) => false,
    }
}

/// Parser of `fail2ban-client banned` output (see the [module documentation](super)). The
/// lines are gathered (up to [`MAX_BANNED_BYTES`]) and read at the end; each event carries the
/// line where its address stands. Addresses read before a fault in the input are kept, and the
/// fault is reported as malformed.
pub struct BannedParser {
    path: Arc<Path>,
    buf: Vec<u8>,
    /// The number of the first line gathered.
    first_line: Option<u64>,
    /// A line the reader cut at [`MAX_LINE`].
    cut_line: Option<u64>,
    /// The line where [`MAX_BANNED_BYTES`] was reached.
    full_at: Option<u64>,
}

impl BannedParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        BannedParser {
            path: ctx.path.clone(),
            buf: Vec::new(),
            first_line: None,
            cut_line: None,
            full_at: None,
        }
    }
}

impl LineParser for BannedParser {
    fn line(&mut self, lineno: u64, line: &[u8], _sink: &mut dyn Sink) {
        if self.full_at.is_some() {
            return;
        }
        if self.buf.len() + line.len() + 1 > MAX_BANNED_BYTES {
            self.full_at = Some(lineno);
            return;
        }
        if self.first_line.is_none() {
            self.first_line = Some(lineno);
        } else {
            self.buf.push(b'\n');
        }
        if line.len() >= MAX_LINE && self.cut_line.is_none() {
            self.cut_line = Some(lineno);
        }
        self.buf.extend_from_slice(line);
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        let buf = std::mem::take(&mut self.buf);
        let first = self.first_line.unwrap_or(1);
        let path = self.path.clone();
        let mut walker = Walker::new(&buf, first);
        let result = walker.walk(&mut |jail, addr, line| {
            listed(&path, Format::Fail2banBanned, jail, addr, line, sink);
        });
        if let Some(line) = self.cut_line {
            sink.malformed(
                line,
                format!("fail2ban-banned: line longer than {MAX_LINE} bytes, cut: the addresses after the cut are not read"),
            );
        }
        if let Some(line) = self.full_at {
            sink.malformed(
                line,
                format!("fail2ban-banned: output larger than {MAX_BANNED_BYTES} bytes: the rest is not read"),
            );
        }
        match result {
            Ok(_) => {}
            Err(Stop::End) => {
                if self.cut_line.is_none() && self.full_at.is_none() {
                    sink.malformed(
                        walker.line,
                        "fail2ban-banned: the output ends inside a list".into(),
                    );
                }
            }
            Err(Stop::Syntax(line, message)) => sink.malformed(
                line,
                format!("fail2ban-banned: {message}; the rest is not read"),
            ),
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
