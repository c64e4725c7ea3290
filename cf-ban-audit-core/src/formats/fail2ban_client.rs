//! Saved output of `fail2ban-client`: the current ban lists, as the running server reports
//! them. Every address read becomes an [`Action::Listed`] event, without time or expiry.
//!
//! - `fail2ban-client status <jail>` prints a tree, one `key:<TAB>value` per line (tabs shown
//!   as spaces here):
//!
//!   ```text
//!   Status for the jail: sshd
//!   |- Filter
//!   |  |- Currently failed:  0
//!   |  |- Total failed:  0
//!   |  `- File list:  /var/log/auth.log
//!   `- Actions
//!      |- Currently banned:  2
//!      |- Total banned:  2
//!      `- Banned IP list:  104.16.9.9 2606:4700::abcd
//!   ```
//!
//!   Journal jails print `Journal matches:` instead of `File list:`; fail2ban 0.8 prints
//!   `filter` / `action` and an `IP list:` nested under `Currently banned:`; fail2ban 1.1's
//!   `status --all` nests the same tree under `` `- Status for the jails:`` and one
//!   `|- Jail: NAME` item per jail. The parser reads the addresses of a `Banned IP list:` (or
//!   `IP list:`) item inside the `Actions` branch of the jail named by the last
//!   `Status for the jail:` header or `Jail:` item. Files holding several outputs one after
//!   another are read as such.
//! - `fail2ban-client banned` prints the Python `repr` of a list of `{jail: [address, ...]}`
//!   dicts: `[{'sshd': ['104.16.9.9', '192.0.2.5']}, {'nginx-http-auth': []}]`. It is read with
//!   a small tokenizer for that subset of Python literals (quoted strings with their escapes,
//!   lists, dicts; never `eval`), so text inside a quoted name is never taken for structure.
//!   `banned <ip> ...` prints a list of lists of jail names (`[['sshd'], []]`): it names no
//!   address and gives no event.

use std::path::Path;
use std::sync::Arc;

use super::{Format, LineParser, ParseCtx, Sink};
use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool};
use crate::lines::MAX_LINE;

/// The most `fail2ban-client banned` output kept in memory; what follows is not read (and is
/// reported as malformed).
pub const MAX_BANNED_BYTES: usize = 64 << 20;

/// The longest text quoted from the input in a message.
const MAX_QUOTE: usize = 64;

fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_QUOTE)]);
    if bytes.len() > MAX_QUOTE {
        format!("{text:?}...")
    } else {
        format!("{text:?}")
    }
}

/// The event of one listed address, or a malformed report when it is none.
fn listed(
    path: &Arc<Path>,
    format: Format,
    jail: &[u8],
    addr: &[u8],
    line: u64,
    sink: &mut dyn Sink,
) {
    match parse_net(addr) {
        Some(net) => sink.event(BanEvent {
            net,
            tool: Tool::Fail2ban,
            format,
            scope: String::from_utf8_lossy(jail).into_owned(),
            peer: None,
            action: Action::Listed,
            time: None,
            expires: None,
            location: Location {
                path: path.clone(),
                line,
            },
        }),
        None => sink.malformed(
            line,
            format!(
                "{format}: jail {}: not an address: {}",
                String::from_utf8_lossy(jail),
                quote(addr)
            ),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// status

/// The first two non-empty lines of `head`, trimmed.
fn first_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
        .take(2)
}

/// Whether the first bytes of a file are `fail2ban-client status` output: the first non-empty
/// line is `Status for the jail: NAME`, or `Status` followed by `|- Number of jail:`.
///
/// ```
/// use cf_ban_audit_core::formats::fail2ban_client::looks_like_status;
/// assert!(looks_like_status(b"Status for the jail: sshd\n|- Filter\n"));
/// assert!(looks_like_status(b"Status\n|- Number of jail:\t2\n`- Jail list:\tsshd, recidive\n"));
/// assert!(!looks_like_status(b"Status\nall good\n"));
/// assert!(!looks_like_status(b"2026-11-24 Status for the jail: sshd\n"));
/// ```
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

/// Parser of `fail2ban-client status` output (see the [module documentation](self)).
///
/// ```
/// use cf_ban_audit_core::formats::fail2ban_client::StatusParser;
/// use cf_ban_audit_core::formats::{LineParser, ParseCtx, Sink};
/// use cf_ban_audit_core::BanEvent;
/// use std::{path::Path, sync::Arc};
///
/// struct Events(Vec<BanEvent>);
/// impl Sink for Events {
///     fn event(&mut self, e: BanEvent) { self.0.push(e) }
///     fn malformed(&mut self, _: u64, _: String) {}
/// }
///
/// let now = chrono::Local::now().naive_local();
/// let ctx = ParseCtx { path: Arc::from(Path::new("status.txt")), reference: now, now };
/// let mut parser = StatusParser::new(&ctx);
/// let mut sink = Events(Vec::new());
/// let text = "Status for the jail: sshd\n|- Filter\n|  `- File list:\t/var/log/auth.log\n\
///             `- Actions\n   |- Currently banned:\t2\n   `- Banned IP list:\t104.16.9.9 2606:4700::abcd\n";
/// for (n, line) in text.lines().enumerate() {
///     parser.line(n as u64 + 1, line.as_bytes(), &mut sink);
/// }
/// parser.finish(&mut sink);
/// assert_eq!(sink.0.len(), 2);
/// assert_eq!((sink.0[0].scope.as_str(), sink.0[0].location.line), ("sshd", 6));
/// ```
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

// ---------------------------------------------------------------------------------------------
// banned

/// What the tokenizer hands each (jail, address, line) of the `{jail: [address, ...]}` dicts.
type OnAddress<'f> = dyn FnMut(&[u8], &[u8], u64) + 'f;

/// Why the tokenizer stopped.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    /// The input ended inside a value.
    End,
    /// Something else than the expected shape, at a line.
    Syntax(u64, String),
}

/// A reader of the Python literals that `fail2ban-client banned` prints.
struct Walker<'a> {
    s: &'a [u8],
    pos: usize,
    line: u64,
    /// Whether a jail's address list (or a list of jail names) was entered: the shape of the
    /// output was seen.
    reached: bool,
}

impl<'a> Walker<'a> {
    fn new(s: &'a [u8], first_line: u64) -> Self {
        Walker {
            s,
            pos: 0,
            line: first_line,
            reached: false,
        }
    }

    fn skip_ws(&mut self) {
        while let Some(&b) = self.s.get(self.pos) {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' | 0x0c => {}
                _ => break,
            }
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.pos += 1;
        }
        found
    }

    fn unexpected(&mut self, wanted: &str) -> Stop {
        match self.peek() {
            None => Stop::End,
            Some(_) => {
                let end = (self.pos + 24).min(self.s.len());
                Stop::Syntax(
                    self.line,
                    format!("expected {wanted}, found {}", quote(&self.s[self.pos..end])),
                )
            }
        }
    }

    fn expect(&mut self, c: u8, wanted: &str) -> Result<(), Stop> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.unexpected(wanted))
        }
    }

    /// Reads every top-level list; returns how many there were. `on` gets each (jail, address,
    /// line) of the `{jail: [address, ...]}` dicts.
    fn walk(&mut self, on: &mut OnAddress<'_>) -> Result<usize, Stop> {
        let mut key = Vec::new();
        let mut val = Vec::new();
        let mut documents = 0;
        while self.peek().is_some() {
            self.expect(b'[', "'['")?;
            documents += 1;
            if self.eat(b']') {
                continue;
            }
            loop {
                if self.eat(b'{') {
                    self.dict(&mut key, &mut val, on)?;
                } else if self.eat(b'[') {
                    // `banned <ip>`: the jails of one address.
                    self.reached = true;
                    self.strings(None, &mut val, on)?;
                } else {
                    return Err(self.unexpected("a {jail: [...]} dict or a list of jails"));
                }
                if self.eat(b',') {
                    if self.eat(b']') {
                        break;
                    }
                } else if self.eat(b']') {
                    break;
                } else {
                    return Err(self.unexpected("',' or ']'"));
                }
            }
        }
        Ok(documents)
    }

    /// After `{`: `'jail': [...]` entries up to `}`.
    fn dict(
        &mut self,
        key: &mut Vec<u8>,
        val: &mut Vec<u8>,
        on: &mut OnAddress<'_>,
    ) -> Result<(), Stop> {
        if self.eat(b'}') {
            return Ok(());
        }
        loop {
            self.string(key)?;
            self.expect(b':', "':'")?;
            self.expect(b'[', "'[' (the addresses of the jail)")?;
            self.reached = true;
            self.strings(Some(key), val, on)?;
            if self.eat(b',') {
                if self.eat(b'}') {
                    return Ok(());
                }
            } else if self.eat(b'}') {
                return Ok(());
            } else {
                return Err(self.unexpected("',' or '}'"));
            }
        }
    }

    /// After `[`: strings up to `]`, each handed to `on` when there is a jail.
    fn strings(
        &mut self,
        jail: Option<&[u8]>,
        val: &mut Vec<u8>,
        on: &mut OnAddress<'_>,
    ) -> Result<(), Stop> {
        if self.eat(b']') {
            return Ok(());
        }
        loop {
            self.skip_ws();
            let line = self.line;
            self.string(val)?;
            if let Some(jail) = jail {
                on(jail, val, line);
            }
            if self.eat(b',') {
                if self.eat(b']') {
                    return Ok(());
                }
            } else if self.eat(b']') {
                return Ok(());
            } else {
                return Err(self.unexpected("',' or ']'"));
            }
        }
    }

    /// A quoted string (`'...'` or `"..."`, with an optional `u` prefix of Python 2), its
    /// escapes decoded into `out`.
    fn string(&mut self, out: &mut Vec<u8>) -> Result<(), Stop> {
        out.clear();
        if matches!(self.peek(), Some(b'u' | b'U'))
            && matches!(self.s.get(self.pos + 1), Some(b'\'' | b'"'))
        {
            self.pos += 1;
        }
        let quote_char = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => return Err(self.unexpected("a quoted string")),
        };
        self.pos += 1;
        loop {
            let rest = &self.s[self.pos..];
            let Some(i) = memchr::memchr3(quote_char, b'\\', b'\n', rest) else {
                return Err(Stop::End);
            };
            out.extend_from_slice(&rest[..i]);
            self.pos += i + 1;
            match rest[i] {
                b'\n' => {
                    return Err(Stop::Syntax(self.line, "line break inside a string".into()));
                }
                b'\\' => self.escape(out)?,
                _ => return Ok(()),
            }
        }
    }

    /// After a backslash: one escape sequence of a Python string literal.
    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), Stop> {
        let Some(&e) = self.s.get(self.pos) else {
            return Err(Stop::End);
        };
        self.pos += 1;
        let simple = match e {
            b'\\' => Some(b'\\'),
            b'\'' => Some(b'\''),
            b'"' => Some(b'"'),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'a' => Some(0x07),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'v' => Some(0x0b),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            return Ok(());
        }
        let code = match e {
            b'\n' => {
                // A backslash at the end of a line continues the string.
                self.line += 1;
                return Ok(());
            }
            b'x' => self.hex(2)?,
            b'u' => self.hex(4)?,
            b'U' => self.hex(8)?,
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match self.s.get(self.pos) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                v
            }
            _ => {
                // Python keeps an unknown escape as it is.
                out.extend_from_slice(&[b'\\', e]);
                return Ok(());
            }
        };
        let Some(c) = char::from_u32(code) else {
            return Err(Stop::Syntax(
                self.line,
                format!("escape of a code point that is no character: {code:#x}"),
            ));
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }

    fn hex(&mut self, digits: usize) -> Result<u32, Stop> {
        let Some(text) = self.s.get(self.pos..self.pos + digits) else {
            return Err(Stop::End);
        };
        let mut v: u32 = 0;
        for &d in text {
            let Some(x) = char::from(d).to_digit(16) else {
                return Err(Stop::Syntax(
                    self.line,
                    format!("bad escape digits {}", quote(text)),
                ));
            };
            v = v.wrapping_mul(16).wrapping_add(x);
        }
        self.pos += digits;
        Ok(v)
    }
}

/// Whether the first bytes of a file are `fail2ban-client banned` output: a Python list of
/// `{'jail': ['address', ...]}` dicts, a list of lists of jail names (`banned <ip>`), or `[]`.
/// The whole head must have that shape (it may end inside it).
///
/// ```
/// use cf_ban_audit_core::formats::fail2ban_client::looks_like_banned;
/// assert!(looks_like_banned(b"[{'sshd': ['104.16.9.9', '192.0.2.5']}, {'recidive': []}]\n"));
/// assert!(looks_like_banned(b"[['sshd'], []]\n"));
/// assert!(looks_like_banned(b"[]\n"));
/// assert!(!looks_like_banned(b"[{'sshd': 'x'}]"));
/// assert!(!looks_like_banned(b"[[wiki link]]"));
/// assert!(!looks_like_banned(b"[] and some words"));
/// ```
pub fn looks_like_banned(head: &[u8]) -> bool {
    let mut walker = Walker::new(head, 1);
    match walker.walk(&mut |_, _, _| {}) {
        Ok(documents) => documents > 0,
        Err(Stop::End) => walker.reached,
        Err(Stop::Syntax(..)) => false,
    }
}

/// Parser of `fail2ban-client banned` output (see the [module documentation](self)). The
/// lines are gathered (up to [`MAX_BANNED_BYTES`]) and read at the end; each event carries the
/// line where its address stands. Addresses read before a fault in the input are kept, and the
/// fault is reported as malformed.
///
/// ```
/// use cf_ban_audit_core::formats::fail2ban_client::BannedParser;
/// use cf_ban_audit_core::formats::{LineParser, ParseCtx, Sink};
/// use cf_ban_audit_core::BanEvent;
/// use std::{path::Path, sync::Arc};
///
/// struct Events(Vec<BanEvent>);
/// impl Sink for Events {
///     fn event(&mut self, e: BanEvent) { self.0.push(e) }
///     fn malformed(&mut self, _: u64, _: String) {}
/// }
///
/// let now = chrono::Local::now().naive_local();
/// let ctx = ParseCtx { path: Arc::from(Path::new("banned.txt")), reference: now, now };
/// let mut parser = BannedParser::new(&ctx);
/// let mut sink = Events(Vec::new());
/// parser.line(1, b"[{'sshd': ['104.16.9.9', 'x']}, {'nginx': ['2606:4700::abcd']}]", &mut sink);
/// parser.finish(&mut sink);
/// let got: Vec<_> = sink.0.iter().map(|e| (e.scope.as_str(), e.net.to_string())).collect();
/// assert_eq!(got, [("sshd", "104.16.9.9/32".to_string()), ("nginx", "2606:4700::abcd/128".to_string())]);
/// ```
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        events: Vec<BanEvent>,
        malformed: Vec<(u64, String)>,
    }

    impl Sink for Collect {
        fn event(&mut self, event: BanEvent) {
            self.events.push(event);
        }
        fn malformed(&mut self, line: u64, message: String) {
            self.malformed.push((line, message));
        }
    }

    impl Collect {
        /// (jail, address, line)
        fn triples(&self) -> Vec<(String, String, u64)> {
            self.events
                .iter()
                .map(|e| {
                    (
                        e.scope.clone(),
                        crate::addr::display_net(&e.net),
                        e.location.line,
                    )
                })
                .collect()
        }
    }

    fn ctx() -> ParseCtx {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        ParseCtx {
            path: Arc::from(Path::new("out.txt")),
            reference: now,
            now,
        }
    }

    fn feed(parser: &mut dyn LineParser, input: &[u8]) -> Collect {
        let mut sink = Collect::default();
        crate::lines::for_each_line(&mut &input[..], |n, l| parser.line(n, l, &mut sink)).unwrap();
        parser.finish(&mut sink);
        sink
    }

    fn status(input: &str) -> Collect {
        feed(&mut StatusParser::new(&ctx()), input.as_bytes())
    }

    fn banned(input: &[u8]) -> Collect {
        feed(&mut BannedParser::new(&ctx()), input)
    }

    fn t(jail: &str, addr: &str, line: u64) -> (String, String, u64) {
        (jail.to_string(), addr.to_string(), line)
    }

    const SSHD: &str = "Status for the jail: sshd
|- Filter
|  |- Currently failed:\t0
|  |- Total failed:\t0
|  `- File list:\t/var/log/auth.log
`- Actions
   |- Currently banned:\t4
   |- Total banned:\t5
   `- Banned IP list:\t104.16.9.9 192.0.2.5 2606:4700::abcd 2001:db8::5
";

    #[test]
    fn status_of_one_jail() {
        let got = status(SSHD);
        assert!(got.malformed.is_empty(), "{:?}", got.malformed);
        assert_eq!(
            got.triples(),
            [
                t("sshd", "104.16.9.9", 9),
                t("sshd", "192.0.2.5", 9),
                t("sshd", "2606:4700::abcd", 9),
                t("sshd", "2001:db8::5", 9)
            ]
        );
        let e = &got.events[0];
        assert_eq!(
            (e.action, e.format, e.time, e.expires),
            (Action::Listed, Format::Fail2banStatus, None, None)
        );
        assert!(looks_like_status(SSHD.as_bytes()));
    }

    #[test]
    fn status_variants() {
        // Journal jail, CRLF, an empty list, a CIDR, two outputs in one file.
        let text = "Status for the jail: sshd\r\n|- Filter\r\n|  |- Currently failed:\t0\r\n\
            |  `- Journal matches:\t_SYSTEMD_UNIT=sshd.service + _COMM=sshd\r\n`- Actions\r\n\
            |- Currently banned:\t1\r\n   `- Banned IP list:\t173.245.48.0/20\r\n\r\n\
            Status for the jail: recidive\n|- Filter\n`- Actions\n   `- Banned IP list:\t\n";
        let got = status(text);
        assert!(got.malformed.is_empty(), "{:?}", got.malformed);
        assert_eq!(got.triples(), [t("sshd", "173.245.48.0/20", 7)]);
    }

    #[test]
    fn status_of_fail2ban_0_8() {
        let text = "Status for the jail: ssh-iptables\n|- filter\n|  |- File list:\t/var/log/secure\n\
            |  |- Currently failed:\t0\n|  `- Total failed:\t63\n`- action\n   |- Currently banned:\t2\n\
            |  `- IP list:\t104.16.0.1 116.10.191.233 \n   `- Total banned:\t19\n";
        let got = status(text);
        assert_eq!(
            got.triples(),
            [
                t("ssh-iptables", "104.16.0.1", 8),
                t("ssh-iptables", "116.10.191.233", 8)
            ]
        );
        // Copied from a terminal, the tabs became spaces.
        let got = status(&SSHD.replace('\t', "    "));
        assert_eq!(got.events.len(), 4);
    }

    #[test]
    fn status_all_nests_jails() {
        let text = "Status
|- Number of jail:\t2
|- Jail list:\tnginx-http-auth, sshd
`- Status for the jails:
   |- Jail: nginx-http-auth
   |  |- Filter
   |  |  `- File list:\t/var/log/nginx/error.log
   |  `- Actions
   |     |- Currently banned:\t1
   |     `- Banned IP list:\t172.64.1.1
   `- Jail: sshd
      |- Filter
      |  `- Journal matches:\t_SYSTEMD_UNIT=sshd.service
      `- Actions
         `- Banned IP list:\t104.16.9.9 2606:4700::abcd
";
        assert!(looks_like_status(text.as_bytes()));
        let got = status(text);
        assert!(got.malformed.is_empty(), "{:?}", got.malformed);
        assert_eq!(
            got.triples(),
            [
                t("nginx-http-auth", "172.64.1.1", 10),
                t("sshd", "104.16.9.9", 15),
                t("sshd", "2606:4700::abcd", 15)
            ]
        );
    }

    #[test]
    fn status_list_of_jails_is_silent() {
        let got = status("Status\n|- Number of jail:\t3\n`- Jail list:\tnginx-botsearch, nginx-http-auth, sshd\n");
        assert!(got.events.is_empty() && got.malformed.is_empty());
    }

    #[test]
    fn status_forged_and_broken() {
        let text = b"   `- Banned IP list:\t104.16.0.1
Status for the jail: x `- Banned IP list:\t104.16.0.2
|- Filter
|  `- File list:\t/var/log/Banned IP list:\t104.16.0.3
|  `- Banned IP list:\t104.16.0.4
`- Actions
   |- Jail list:\t|- Banned IP list: 104.16.0.5
   |- Banned IP list:104.16.0.6
   `- Banned IP list:\t104.16.0.7 user@host ::ffff:104.16.0.8 \xff\xfe
Status for the jail: \n`- Actions
   `- Banned IP list:\t104.16.0.9
";
        let got = feed(&mut StatusParser::new(&ctx()), text);
        let jail = "x `- Banned IP list:\t104.16.0.2";
        assert_eq!(
            got.triples(),
            [t(jail, "104.16.0.7", 9), t(jail, "104.16.0.8", 9)]
        );
        let lines: Vec<u64> = got.malformed.iter().map(|m| m.0).collect();
        // before any jail; outside Actions; two tokens that are no address; a nameless jail
        assert_eq!(lines, [1, 5, 9, 9, 12], "{:?}", got.malformed);
        assert!(!looks_like_status(text));
    }

    #[test]
    fn status_invalid_utf8_and_garbage_never_panic() {
        let mut noise = Vec::new();
        for i in 0..4096u32 {
            noise.push((i.wrapping_mul(2654435761) >> 13) as u8);
            if i % 97 == 0 {
                noise.extend_from_slice(b"\n|- Banned IP list:\t");
            }
            if i % 331 == 0 {
                noise.extend_from_slice(b"\nStatus for the jail: \xff\n`- Actions\n");
            }
        }
        let _ = feed(&mut StatusParser::new(&ctx()), &noise);
        let _ = looks_like_status(&noise);
        let got = feed(
            &mut StatusParser::new(&ctx()),
            b"Status for the jail: \xc3\xa9t\xff\n`- Actions\n   `- Banned IP list:\t104.16.0.1\n",
        );
        assert_eq!(got.events[0].scope, "\u{e9}t\u{fffd}");
    }

    #[test]
    fn status_line_cut_by_the_reader_drops_its_last_token() {
        let mut text = b"Status for the jail: sshd\n`- Actions\n   `- Banned IP list:\t".to_vec();
        while text.len() < MAX_LINE + 100 {
            text.extend_from_slice(b"2606:4700::abcd ");
        }
        let got = feed(&mut StatusParser::new(&ctx()), &text);
        assert_eq!(got.malformed.len(), 1);
        assert!(got
            .events
            .iter()
            .all(|e| e.net.to_string() == "2606:4700::abcd/128"));
        assert!(got.events.len() > 60_000);
    }

    #[test]
    fn banned_real_output() {
        let text = b"[{'sshd': ['104.16.9.9', '192.0.2.5', '2606:4700::abcd', '2001:db8::5']}, {'nginx-http-auth': ['172.64.1.1', '198.51.100.7', '162.158.0.0/24']}, {'nginx-botsearch': ['104.16.9.9', '198.51.100.7']}]\n";
        assert!(looks_like_banned(text));
        let got = banned(text);
        assert!(got.malformed.is_empty(), "{:?}", got.malformed);
        assert_eq!(got.events.len(), 9);
        assert_eq!(got.triples()[6], t("nginx-http-auth", "162.158.0.0/24", 1));
        let e = &got.events[0];
        assert_eq!(
            (e.action, e.format, e.time, e.expires),
            (Action::Listed, Format::Fail2banBanned, None, None)
        );
    }

    #[test]
    fn banned_query_form_and_empty_lists() {
        for text in [
            &b"[['sshd', 'nginx-botsearch'], ['sshd'], []]\n"[..],
            b"[]",
            b"[[]]",
            b"[{}]",
            b"[{'sshd': []}, {'x': []},]",
        ] {
            assert!(looks_like_banned(text), "{}", String::from_utf8_lossy(text));
            let got = banned(text);
            assert!(
                got.events.is_empty() && got.malformed.is_empty(),
                "{:?}",
                got.malformed
            );
        }
    }

    #[test]
    fn banned_quotes_escapes_and_lines() {
        // Double quotes (a name with a single quote), escapes, u'' of Python 2, several lines,
        // several outputs one after another, trailing commas.
        let text = b"[{\"it's\": ['104.16.0.1']},\n {u'caf\\xe9\\u00e9': [u'2606:4700::1',\n   '172.64.0.1',]},\n]\n[{'sshd': ['104.16.0.2']}]\n";
        assert!(looks_like_banned(text));
        let got = banned(text);
        assert!(got.malformed.is_empty(), "{:?}", got.malformed);
        assert_eq!(
            got.triples(),
            [
                t("it's", "104.16.0.1", 1),
                t("caf\u{e9}\u{e9}", "2606:4700::1", 2),
                t("caf\u{e9}\u{e9}", "172.64.0.1", 3),
                t("sshd", "104.16.0.2", 5)
            ]
        );
    }

    #[test]
    fn banned_forged_names_give_no_extra_events() {
        // A jail name and an "address" holding text shaped like more entries.
        let text = b"[{'x\\': [\\'104.16.0.1\\']}, {\\'y': ['104.16.0.2', \"', '104.16.0.3\"]}]";
        assert!(looks_like_banned(text));
        let got = banned(text);
        assert_eq!(
            got.triples(),
            [t("x': ['104.16.0.1']}, {'y", "104.16.0.2", 1)]
        );
        assert_eq!(got.malformed.len(), 1, "{:?}", got.malformed);
        assert!(got.malformed[0].1.contains("104.16.0.3"));
    }

    #[test]
    fn banned_garbage() {
        for text in [
            &b"[{'sshd': '104.16.0.1'}]"[..],
            b"[{'sshd': [104]}]",
            b"[{'sshd': ['104.16.0.1'] 'x'}]",
            b"[{'sshd': ['104.16.0.1\n']}]",
            b"[{'sshd': ['104.16.0.1', '\\ud800']}]",
            b"[{sshd: ['104.16.0.1']}]",
            b"hello [{'sshd': ['104.16.0.1']}]",
            b"[] trailing words",
            b"[{'a': ['104.16.0.1']}]]",
            b"\xff\xfe[",
            b"",
            b"[",
            b"[{'a",
        ] {
            assert!(
                !looks_like_banned(text),
                "{}",
                String::from_utf8_lossy(text)
            );
            let got = banned(text);
            assert!(got.events.len() <= 1);
            assert!(
                text.is_empty() || !got.malformed.is_empty(),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        // A truncated output keeps what was complete and says it is cut.
        let got = banned(b"[{'sshd': ['104.16.0.1', '104.16.0.2', '104.16.");
        assert_eq!(got.events.len(), 2);
        assert_eq!(got.malformed.len(), 1);
        // Deep nesting does not recurse.
        let deep = vec![b'['; 1 << 20];
        assert!(!looks_like_banned(&deep));
        assert!(banned(&deep).events.is_empty());
        // Noise never panics.
        let mut noise = Vec::new();
        let alphabet = b"[]{}',:\"\\ux0 \n104.6";
        let mut x: u32 = 1;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            noise.push(alphabet[(x as usize) % alphabet.len()]);
        }
        for start in (0..noise.len()).step_by(997) {
            let _ = looks_like_banned(&noise[start..]);
        }
        let _ = banned(&noise);
    }

    #[test]
    fn banned_long_line_cut_by_the_reader() {
        let mut text = b"[{'sshd': [".to_vec();
        while text.len() < MAX_LINE + 100 {
            text.extend_from_slice(b"'2606:4700::abcd', ");
        }
        text.extend_from_slice(b"'104.16.0.1']}]\n");
        let got = banned(&text);
        assert!(got.events.len() > 50_000);
        assert!(got
            .events
            .iter()
            .all(|e| e.net.to_string() == "2606:4700::abcd/128"));
        assert_eq!(got.malformed.len(), 1, "{:?}", got.malformed);
    }
}
