//! A reader of the Python literals that `fail2ban-client banned` prints (quoted strings with
//! their escapes, lists, dicts; never `eval`), handing on each (jail, address, line).

use crate::formats::quote;

/// What the tokenizer hands each (jail, address, line) of the `{jail: [address, ...]}` dicts.
type OnAddress<'f> = dyn FnMut(&[u8], &[u8], u64) + 'f;

/// Why the tokenizer stopped.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Stop {
    /// The input ended inside a value.
    End,
    /// Something else than the expected shape, at a line.
    Syntax(u64, String),
}

/// A reader of the Python literals that `fail2ban-client banned` prints.
pub(super) struct Walker<'a> {
    s: &'a [u8],
    pos: usize,
    pub(super) line: u64,
    /// Whether a jail's address list (or a list of jail names) was entered: the shape of the
    /// output was seen.
    pub(super) reached: bool,
}

impl<'a> Walker<'a> {
    pub(super) fn new(s: &'a [u8], first_line: u64) -> Self {
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
    pub(super) fn walk(&mut self, on: &mut OnAddress<'_>) -> Result<usize, Stop> {
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
