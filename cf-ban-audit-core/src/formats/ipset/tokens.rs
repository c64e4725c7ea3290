//! The words of an ipset command line: white-space separated, with `"..."` comments kept
//! whole.

/// A token of a line: its bytes and whether they were quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub(super) text: Vec<u8>,
    pub(super) quoted: bool,
}

/// Splits a line at white space, keeping `"..."` (which ipset uses for comments, and which
/// cannot hold a `"`) as one token. `None` when a quote is left open.
pub(super) fn tokenize(line: &[u8]) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut quoted = false;
    let mut in_quote = false;
    let mut has = false;
    for &b in line {
        if in_quote {
            if b == b'"' {
                in_quote = false;
            } else {
                cur.push(b);
            }
        } else if b == b'"' {
            in_quote = true;
            quoted = true;
            has = true;
        } else if b.is_ascii_whitespace() {
            if has {
                out.push(Token {
                    text: std::mem::take(&mut cur),
                    quoted,
                });
                quoted = false;
                has = false;
            }
        } else {
            cur.push(b);
            has = true;
        }
    }
    if in_quote {
        return None;
    }
    if has {
        out.push(Token { text: cur, quoted });
    }
    Some(out)
}
