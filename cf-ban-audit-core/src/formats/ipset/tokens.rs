//! The words of an ipset command line: white-space separated, with `"..."` comments kept
//! whole.

use std::borrow::Cow;

/// A token of a line: its bytes (borrowed from the line unless a quote had to be taken out)
/// and whether they were quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token<'a> {
    pub(super) text: Cow<'a, [u8]>,
    pub(super) quoted: bool,
}

/// Splits a line at white space, keeping `"..."` (which ipset uses for comments, and which
/// cannot hold a `"`) as one token. `None` when a quote is left open. A token without a
/// quote borrows the line: a member line costs one vector, not one per word.
pub(super) fn tokenize(line: &[u8]) -> Option<Vec<Token<'_>>> {
    let mut out = Vec::with_capacity(8);
    let mut i = 0;
    while i < line.len() {
        if line[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < line.len() && !line[i].is_ascii_whitespace() && line[i] != b'"' {
            i += 1;
        }
        if i == line.len() || line[i] != b'"' {
            out.push(Token {
                text: Cow::Borrowed(&line[start..i]),
                quoted: false,
            });
            continue;
        }
        // A word holding a quote: its text is the word without the quote marks, the quoted
        // parts keeping their white space.
        let mut text = line[start..i].to_vec();
        let mut in_quote = false;
        while i < line.len() && (in_quote || !line[i].is_ascii_whitespace()) {
            match line[i] {
                b'"' => in_quote = !in_quote,
                b => text.push(b),
            }
            i += 1;
        }
        if in_quote {
            return None;
        }
        out.push(Token {
            text: Cow::Owned(text),
            quoted: true,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::tokenize;

    fn words(line: &str) -> Option<Vec<(String, bool)>> {
        tokenize(line.as_bytes()).map(|tokens| {
            tokens
                .into_iter()
                .map(|t| (String::from_utf8(t.text.into_owned()).unwrap(), t.quoted))
                .collect()
        })
    }

    #[test]
    fn words_and_quotes() {
        assert_eq!(
            words("add  s 1.2.3.4\tcomment \"a b\"").unwrap(),
            [
                ("add".into(), false),
                ("s".into(), false),
                ("1.2.3.4".into(), false),
                ("comment".into(), false),
                ("a b".into(), true),
            ]
        );
        assert_eq!(words("x\"a b\"y z").unwrap()[0], ("xa by".into(), true));
        assert_eq!(words("\"\"").unwrap(), [(String::new(), true)]);
        assert_eq!(words("comment \"open"), None);
        assert_eq!(words("   ").unwrap(), []);
    }
}
