//! nft's syntax as tokens: words, quoted strings, braces, commas, semicolons and line ends,
//! `#` comments dropped.

/// One token of nft's syntax: the firewall model's token type.
pub(in crate::formats::nftables) use crate::firewall::nft::Tok;

/// A token and the line it was read on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::formats::nftables) struct Token {
    pub tok: Tok,
    pub line: u64,
}

impl Token {
    pub(super) fn word(&self) -> Option<&str> {
        match &self.tok {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }

    pub(super) fn is_word(&self, w: &str) -> bool {
        self.word() == Some(w)
    }
}

/// The raw payload bases (`@ih,32,32`), which are not set references.
const RAW_BASES: &[&[u8]] = &[b"@ll", b"@nh", b"@th", b"@ih"];

fn ends_word(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t'
            | b'\r'
            | 0x0b
            | 0x0c
            | b'{'
            | b'}'
            | b','
            | b';'
            | b'"'
            | b'#'
            | b'('
            | b')'
            | b'='
            | b'!'
            | b'<'
            | b'>'
    )
}

fn is_op(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'<' | b'>')
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Splits one line into tokens, ending with [`Tok::Newline`] unless the line ends with a `\`
/// continuation. `# xt_NAME` (how nft without libxtables prints an iptables match or target)
/// becomes the words `xt ? NAME`, and the line goes on after it; any other `#` starts a
/// comment.
pub(in crate::formats::nftables) fn tokenize(line: &[u8], lineno: u64, out: &mut Vec<Token>) {
    tokenize_part(line, lineno, out, true);
}

/// What [`tokenize_part`] read of the start of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::formats::nftables) struct Progress {
    /// The bytes read: every token that ends in them. The rest starts a token that may go on
    /// in the line's next piece.
    pub consumed: usize,
    /// The line's rest is a comment (from a `#` within the bytes read).
    pub comment: bool,
}

/// [`tokenize`] of the start of a line read in pieces: when `last` is false, a token that
/// reaches the end of `line` (a word, a quoted string without its closing quote, a `#` whose
/// meaning the next bytes decide) is left for the next piece, and no [`Tok::Newline`] is
/// added. With `last`, the same as [`tokenize`].
pub(in crate::formats::nftables) fn tokenize_part(
    line: &[u8],
    lineno: u64,
    out: &mut Vec<Token>,
    last: bool,
) -> Progress {
    let push = |tok: Tok, out: &mut Vec<Token>| out.push(Token { tok, line: lineno });
    let open = |end: usize| !last && end >= line.len();
    let stop = |at: usize| Progress {
        consumed: at,
        comment: false,
    };
    let mut i = 0;
    let mut continued = false;
    let mut comment = false;
    while i < line.len() {
        let b = line[i];
        match b {
            b' ' | b'\t' | b'\r' | 0x0b | 0x0c => i += 1,
            b'#' => {
                let mut j = i + 1;
                while j < line.len() && line[j] == b' ' {
                    j += 1;
                }
                // `# xt_` may be cut between pieces.
                let seen = &line[j..line.len().min(j + 3)];
                if open(j + 3) && b"xt_".starts_with(seen) {
                    return stop(i);
                }
                if line[j..].starts_with(b"xt_") {
                    let start = j + 3;
                    let mut k = start;
                    while k < line.len() && !ends_word(line[k]) {
                        k += 1;
                    }
                    if open(k) {
                        return stop(i);
                    }
                    if k > start {
                        push(Tok::Word("xt".into()), out);
                        push(Tok::Word("?".into()), out);
                        push(Tok::Word(text(&line[start..k])), out);
                        i = k;
                        continue;
                    }
                }
                comment = true;
                break;
            }
            b'"' => {
                let start = i + 1;
                let end = memchr::memchr(b'"', &line[start..]).map_or(line.len(), |p| start + p);
                if open(end) {
                    return stop(i);
                }
                push(Tok::Str(text(&line[start..end])), out);
                i = end + 1;
            }
            b'{' => {
                push(Tok::Open, out);
                i += 1;
            }
            b'}' => {
                push(Tok::Close, out);
                i += 1;
            }
            b',' => {
                push(Tok::Comma, out);
                i += 1;
            }
            b';' => {
                push(Tok::Semi, out);
                i += 1;
            }
            b'(' | b')' => {
                push(Tok::Word(text(&line[i..i + 1])), out);
                i += 1;
            }
            _ if is_op(b) => {
                let start = i;
                while i < line.len() && is_op(line[i]) {
                    i += 1;
                }
                if open(i) {
                    return stop(start);
                }
                push(Tok::Word(text(&line[start..i])), out);
            }
            _ => {
                let start = i;
                while i < line.len() && !ends_word(line[i]) {
                    i += 1;
                }
                if RAW_BASES.contains(&&line[start..i]) {
                    while i + 1 < line.len() && line[i] == b',' && line[i + 1].is_ascii_digit() {
                        i += 1;
                        while i < line.len() && !ends_word(line[i]) {
                            i += 1;
                        }
                    }
                    // `@ih,32` may go on after a comma the piece ends with.
                    if open(i + 1) {
                        return stop(start);
                    }
                }
                if open(i) {
                    return stop(start);
                }
                let word = &line[start..i];
                if word == b"\\" && line[i..].iter().all(u8::is_ascii_whitespace) {
                    if !last {
                        return stop(start);
                    }
                    continued = true;
                    break;
                }
                push(Tok::Word(text(word)), out);
            }
        }
    }
    if last && !continued {
        push(Tok::Newline, out);
    }
    Progress {
        consumed: if comment {
            line.len()
        } else {
            i.min(line.len())
        },
        comment,
    }
}
