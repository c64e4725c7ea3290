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
    let push = |tok: Tok, out: &mut Vec<Token>| out.push(Token { tok, line: lineno });
    let mut i = 0;
    let mut continued = false;
    while i < line.len() {
        let b = line[i];
        match b {
            b' ' | b'\t' | b'\r' | 0x0b | 0x0c => i += 1,
            b'#' => {
                let mut j = i + 1;
                while j < line.len() && line[j] == b' ' {
                    j += 1;
                }
                if line[j..].starts_with(b"xt_") {
                    let start = j + 3;
                    let mut k = start;
                    while k < line.len() && !ends_word(line[k]) {
                        k += 1;
                    }
                    if k > start {
                        push(Tok::Word("xt".into()), out);
                        push(Tok::Word("?".into()), out);
                        push(Tok::Word(text(&line[start..k])), out);
                        i = k;
                        continue;
                    }
                }
                break;
            }
            b'"' => {
                let start = i + 1;
                let end = memchr::memchr(b'"', &line[start..]).map_or(line.len(), |p| start + p);
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
                }
                let word = &line[start..i];
                if word == b"\\" && line[i..].iter().all(u8::is_ascii_whitespace) {
                    continued = true;
                    break;
                }
                push(Tok::Word(text(word)), out);
            }
        }
    }
    if !continued {
        push(Tok::Newline, out);
    }
}
