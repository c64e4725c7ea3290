//! A reader of the Python literals that `fail2ban-client banned` prints (quoted strings with
//! their escapes, lists, dicts; never `eval`), handing on each (jail, address, line).
//!
//! It is a push parser: bytes are fed as they come, in lines or in pieces of a line however
//! long (79,000 bans of a jail are one line of 1.3 MB), and it keeps only the string being
//! read and the jail it belongs to, so that memory does not grow with the output.

use crate::formats::quote;

/// What the tokenizer hands each (jail, address, line) of the `{jail: [address, ...]}` dicts.
type OnAddress<'f> = dyn FnMut(&[u8], &[u8], u64) + 'f;

/// The longest string kept: a longer one (no jail name or address is) is kept cut, and read
/// on to its end.
const MAX_STRING: usize = 4096;

/// Why the tokenizer stopped.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Stop {
    /// The input ended inside a value.
    End,
    /// Something else than the expected shape, at a line.
    Syntax(u64, String),
}

/// Where a string being read belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// A jail's name, the key of a dict.
    Key,
    /// An element of a list: an address of a jail (`jail`), or a jail's name in the lists of
    /// `banned <ip>`.
    Item { jail: bool },
}

/// An escape sequence being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    /// Right after the backslash.
    Start,
    /// `\x`, `\u`, `\U`: this many hex digits still to come, and the value so far.
    Hex { left: u8, value: u32 },
    /// `\0`..`\7`: digits read, and the value so far.
    Octal { digits: u8, value: u32 },
}

/// What the parser expects next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between top-level lists: `[`.
    Top,
    /// After a top-level `[` or a `,` in it: `]`, `{` or `[`.
    DocOpen,
    /// After an element of a top-level list: `,` or `]`.
    DocAfter,
    /// After `{` or a `,` in a dict: `}` or a jail's name.
    DictOpen,
    /// After a jail's name: `:`.
    DictColon,
    /// After `:`: `[`.
    DictBracket,
    /// After a jail's list: `,` or `}`.
    DictAfter,
    /// After `[` or a `,` in a list of strings: `]` or a string.
    ListOpen { jail: bool },
    /// After a string of a list: `,` or `]`.
    ListAfter { jail: bool },
    /// After the `u` prefix of Python 2: a quote.
    Prefix { owner: Owner },
    /// Inside a string.
    Str {
        quote: u8,
        owner: Owner,
        escape: Option<Escape>,
    },
    /// After a fault: nothing more is read.
    Failed,
}

/// A reader of the Python literals that `fail2ban-client banned` prints.
pub(super) struct Walker {
    state: State,
    /// The line being read (set by the caller for each line).
    pub(super) line: u64,
    /// Whether a jail's address list (or a list of jail names) was entered: the shape of the
    /// output was seen.
    pub(super) reached: bool,
    /// Top-level lists read whole.
    pub(super) documents: usize,
    /// The jail whose list is being read.
    key: Vec<u8>,
    /// The string being read, decoded.
    val: Vec<u8>,
    /// The line the string being read started on.
    val_line: u64,
}

impl Walker {
    pub(super) fn new(first_line: u64) -> Self {
        Walker {
            state: State::Top,
            line: first_line,
            reached: false,
            documents: 0,
            key: Vec::new(),
            val: Vec::new(),
            val_line: first_line,
        }
    }

    /// Reads `s` on from where the last call stopped; `on` gets each (jail, address, line) of
    /// the `{jail: [address, ...]}` dicts. After a fault, the error, and nothing more is read.
    pub(super) fn feed(&mut self, s: &[u8], on: &mut OnAddress<'_>) -> Result<(), Stop> {
        let mut i = 0;
        while i < s.len() {
            if let State::Str { .. } = self.state {
                i = self.string(s, i, on)?;
                continue;
            }
            let b = s[i];
            if let State::Prefix { owner } = self.state {
                // The quote right after the prefix.
                if !matches!(b, b'\'' | b'"') {
                    return Err(self.unexpected(s, i, "a quoted string"));
                }
                self.state = State::Str {
                    quote: b,
                    owner,
                    escape: None,
                };
                i += 1;
                continue;
            }
            match b {
                b'\n' => {
                    self.line += 1;
                    i += 1;
                    continue;
                }
                b' ' | b'\t' | b'\r' | 0x0c => {
                    i += 1;
                    continue;
                }
                _ => {}
            }
            let next = match (self.state, b) {
                // Read above.
                (State::Failed | State::Prefix { .. } | State::Str { .. }, _) => return Ok(()),
                (State::Top, b'[') => State::DocOpen,
                (State::Top, _) => return Err(self.unexpected(s, i, "'['")),
                (State::DocOpen, b']') | (State::DocAfter, b']') => {
                    self.documents += 1;
                    State::Top
                }
                (State::DocOpen, b'{') => State::DictOpen,
                (State::DocOpen, b'[') => {
                    // `banned <ip>`: the jails of one address.
                    self.reached = true;
                    State::ListOpen { jail: false }
                }
                (State::DocOpen, _) => {
                    return Err(self.unexpected(s, i, "a {jail: [...]} dict or a list of jails"))
                }
                (State::DocAfter, b',') => State::DocOpen,
                (State::DocAfter, _) => return Err(self.unexpected(s, i, "',' or ']'")),
                (State::DictOpen, b'}') | (State::DictAfter, b'}') => State::DocAfter,
                (State::DictOpen, _) => match self.open_string(b, Owner::Key) {
                    Some(state) => state,
                    None => return Err(self.unexpected(s, i, "a quoted string")),
                },
                (State::DictColon, b':') => State::DictBracket,
                (State::DictColon, _) => return Err(self.unexpected(s, i, "':'")),
                (State::DictBracket, b'[') => {
                    self.reached = true;
                    State::ListOpen { jail: true }
                }
                (State::DictBracket, _) => {
                    return Err(self.unexpected(s, i, "'[' (the addresses of the jail)"))
                }
                (State::DictAfter, b',') => State::DictOpen,
                (State::DictAfter, _) => return Err(self.unexpected(s, i, "',' or '}'")),
                (State::ListOpen { jail }, b']') | (State::ListAfter { jail }, b']') => {
                    if jail {
                        State::DictAfter
                    } else {
                        State::DocAfter
                    }
                }
                (State::ListOpen { jail }, _) => match self.open_string(b, Owner::Item { jail }) {
                    Some(state) => state,
                    None => return Err(self.unexpected(s, i, "a quoted string")),
                },
                (State::ListAfter { jail }, b',') => State::ListOpen { jail },
                (State::ListAfter { .. }, _) => return Err(self.unexpected(s, i, "',' or ']'")),
            };
            self.state = next;
            i += 1;
        }
        Ok(())
    }

    /// The input has ended: whether it ended between top-level lists.
    pub(super) fn end(&self) -> Result<usize, Stop> {
        match self.state {
            State::Top => Ok(self.documents),
            _ => Err(Stop::End),
        }
    }

    /// The state a string starting with `b` opens (after its `u` prefix, when it has one), or
    /// `None` when `b` starts no string.
    fn open_string(&mut self, b: u8, owner: Owner) -> Option<State> {
        self.val.clear();
        self.val_line = self.line;
        match b {
            b'\'' | b'"' => Some(State::Str {
                quote: b,
                owner,
                escape: None,
            }),
            b'u' | b'U' => Some(State::Prefix { owner }),
            _ => None,
        }
    }

    /// A fault at `s[i]`: nothing more is read.
    fn unexpected(&mut self, s: &[u8], i: usize, wanted: &str) -> Stop {
        self.state = State::Failed;
        let end = (i + 24).min(s.len());
        Stop::Syntax(
            self.line,
            format!("expected {wanted}, found {}", quote(&s[i..end])),
        )
    }

    /// A fault inside a string: nothing more is read.
    fn fault(&mut self, message: String) -> Stop {
        self.state = State::Failed;
        Stop::Syntax(self.line, message)
    }

    /// Keeps decoded bytes of the string, up to [`MAX_STRING`].
    fn keep(&mut self, bytes: &[u8]) {
        let room = MAX_STRING.saturating_sub(self.val.len());
        self.val.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// Reads string bytes from `s[i..]`; returns where it stopped.
    fn string(&mut self, s: &[u8], mut i: usize, on: &mut OnAddress<'_>) -> Result<usize, Stop> {
        let State::Str {
            quote: quote_char,
            owner,
            escape,
        } = self.state
        else {
            return Ok(i);
        };
        if let Some(escape) = escape {
            return self.escape(s, i, escape);
        }
        let rest = &s[i..];
        let Some(at) = memchr::memchr3(quote_char, b'\\', b'\n', rest) else {
            self.keep(rest);
            return Ok(s.len());
        };
        self.keep(&rest[..at]);
        i += at + 1;
        match rest[at] {
            b'\n' => Err(self.fault("line break inside a string".into())),
            b'\\' => {
                self.state = State::Str {
                    quote: quote_char,
                    owner,
                    escape: Some(Escape::Start),
                };
                Ok(i)
            }
            _ => {
                self.state = match owner {
                    Owner::Key => {
                        std::mem::swap(&mut self.key, &mut self.val);
                        State::DictColon
                    }
                    Owner::Item { jail } => {
                        if jail {
                            on(&self.key, &self.val, self.val_line);
                        }
                        State::ListAfter { jail }
                    }
                };
                Ok(i)
            }
        }
    }

    /// Reads one byte of an escape sequence at `s[i]`; returns where to go on.
    fn escape(&mut self, s: &[u8], i: usize, escape: Escape) -> Result<usize, Stop> {
        let State::Str {
            quote: quote_char,
            owner,
            ..
        } = self.state
        else {
            return Ok(i);
        };
        let e = s[i];
        let set = |walker: &mut Walker, escape: Option<Escape>| {
            walker.state = State::Str {
                quote: quote_char,
                owner,
                escape,
            };
        };
        let code = match escape {
            Escape::Start => {
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
                    self.keep(&[b]);
                    set(self, None);
                    return Ok(i + 1);
                }
                let next = match e {
                    b'\n' => {
                        // A backslash at the end of a line continues the string.
                        self.line += 1;
                        None
                    }
                    b'x' => Some(Escape::Hex { left: 2, value: 0 }),
                    b'u' => Some(Escape::Hex { left: 4, value: 0 }),
                    b'U' => Some(Escape::Hex { left: 8, value: 0 }),
                    b'0'..=b'7' => Some(Escape::Octal {
                        digits: 1,
                        value: u32::from(e - b'0'),
                    }),
                    _ => {
                        // Python keeps an unknown escape as it is.
                        self.keep(&[b'\\', e]);
                        None
                    }
                };
                set(self, next);
                return Ok(i + 1);
            }
            Escape::Hex { left, value } => {
                let Some(x) = char::from(e).to_digit(16) else {
                    return Err(self.fault(format!("bad escape digits {}", quote(&[e]))));
                };
                let value = value.wrapping_mul(16).wrapping_add(x);
                if left > 1 {
                    set(
                        self,
                        Some(Escape::Hex {
                            left: left - 1,
                            value,
                        }),
                    );
                    return Ok(i + 1);
                }
                self.char_of(value)?;
                set(self, None);
                return Ok(i + 1);
            }
            Escape::Octal { digits, value } => match e {
                b'0'..=b'7' if digits < 3 => {
                    let value = value * 8 + u32::from(e - b'0');
                    if digits + 1 < 3 {
                        set(
                            self,
                            Some(Escape::Octal {
                                digits: digits + 1,
                                value,
                            }),
                        );
                        return Ok(i + 1);
                    }
                    self.char_of(value)?;
                    set(self, None);
                    return Ok(i + 1);
                }
                // The escape ended before this byte, which is read as part of the string.
                _ => value,
            },
        };
        self.char_of(code)?;
        set(self, None);
        Ok(i)
    }

    /// Keeps the UTF-8 of code point `code`.
    fn char_of(&mut self, code: u32) -> Result<(), Stop> {
        let Some(c) = char::from_u32(code) else {
            return Err(self.fault(format!(
                "escape of a code point that is no character: {code:#x}"
            )));
        };
        let mut buf = [0u8; 4];
        self.keep(c.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (jail, address, line) of `text` fed in pieces of `step` bytes, and how it ended.
    /// Each (jail, address, line) read.
    type Triples = Vec<(String, String, u64)>;

    fn walk(text: &[u8], step: usize) -> (Triples, Result<usize, Stop>) {
        let mut walker = Walker::new(1);
        let mut got = Vec::new();
        let mut on = |jail: &[u8], addr: &[u8], line: u64| {
            got.push((
                String::from_utf8_lossy(jail).into_owned(),
                String::from_utf8_lossy(addr).into_owned(),
                line,
            ))
        };
        for piece in text.chunks(step.max(1)) {
            if let Err(e) = walker.feed(piece, &mut on) {
                return (got, Err(e));
            }
        }
        let end = walker.end();
        (got, end)
    }

    #[test]
    fn pieces_of_any_size_read_the_same() {
        let text = "[{'sshd': ['104.16.9.9', u'192.0.2.5', \"2606:4700::abcd\",]}, \
                    {'we\\'ird\\x41\\101\\u00e9\\n': ['1.2.3.4\\\n5']}, {}]\n[['sshd'], []]\n";
        let (whole, end) = walk(text.as_bytes(), usize::MAX);
        assert_eq!(end, Ok(2));
        assert_eq!(whole.len(), 4, "{whole:?}");
        assert_eq!(whole[3].0, "we'irdAA\u{e9}\n");
        assert_eq!((whole[3].1.as_str(), whole[3].2), ("1.2.3.45", 1));
        for step in 1..40 {
            assert_eq!(
                walk(text.as_bytes(), step),
                (whole.clone(), Ok(2)),
                "{step}"
            );
        }
    }

    #[test]
    fn faults_and_ends() {
        assert!(matches!(
            walk(b"[{'a': 'x'}]", 3).1,
            Err(Stop::Syntax(1, _))
        ));
        assert!(matches!(
            walk(b"[{'a': ['x\n']}]", 1).1,
            Err(Stop::Syntax(1, _))
        ));
        assert!(matches!(
            walk(b"[{'a': ['\\xZZ']}]", 1).1,
            Err(Stop::Syntax(1, _))
        ));
        assert!(matches!(
            walk(b"[{'a': ['\\U0011ffff']}]", 2).1,
            Err(Stop::Syntax(1, _))
        ));
        assert_eq!(walk(b"[{'a': ['x'", 4).1, Err(Stop::End));
        assert_eq!(walk(b"  \n", 1).1, Ok(0));
        // A string longer than any address is kept cut, and the rest is read.
        let mut long = b"[{'a': ['".to_vec();
        long.extend(std::iter::repeat_n(b'9', 100_000));
        long.extend_from_slice(b"', '104.16.0.1']}]");
        let (got, end) = walk(&long, 777);
        assert_eq!(end, Ok(1));
        assert_eq!(got[0].1.len(), MAX_STRING);
        assert_eq!(got[1].1, "104.16.0.1");
    }
}
