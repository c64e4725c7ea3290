//! The whole tokens of a line that arrives in pieces ([`LineParser::piece`]): a token cut
//! between two pieces is kept until its end comes, so that a reader of a list on one line of
//! any length sees each address whole, and never a part of one taken for a shorter address.
//!
//! [`LineParser::piece`]: crate::formats::LineParser::piece

/// The longest token kept whole: a longer one (no address is) is handed cut to this length,
/// marked as such, and read on to its end.
pub(crate) const MAX_TOKEN: usize = 4096;

/// The tokens of a line in pieces, separated by the bytes a test picks.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    /// The start of a token the last piece ended inside.
    carry: Vec<u8>,
    /// That token is longer than [`MAX_TOKEN`].
    long: bool,
}

impl Tokens {
    /// Hands `on` each token of `piece` (bytes between separators, as `sep` says, never
    /// empty), with whether it was cut at [`MAX_TOKEN`]. A token that runs to the end of the
    /// piece is kept for the next one, unless `last` says the line ends here.
    pub(crate) fn feed(
        &mut self,
        piece: &[u8],
        last: bool,
        sep: fn(u8) -> bool,
        on: &mut dyn FnMut(&[u8], bool),
    ) {
        let mut rest = piece;
        // The end of the token carried over from the last piece.
        if !self.carry.is_empty() || self.long {
            let end = rest.iter().position(|&b| sep(b));
            let (head, tail) = rest.split_at(end.unwrap_or(rest.len()));
            self.keep(head);
            if end.is_none() && !last {
                return;
            }
            self.flush(on);
            rest = tail;
        }
        let mut tokens = rest.split(|&b| sep(b)).filter(|t| !t.is_empty()).peekable();
        while let Some(token) = tokens.next() {
            let runs_to_end = tokens.peek().is_none() && rest.last().is_some_and(|&b| !sep(b));
            if runs_to_end && !last {
                self.keep(token);
            } else if token.len() > MAX_TOKEN {
                on(&token[..MAX_TOKEN], true);
            } else {
                on(token, false);
            }
        }
    }

    /// Forgets a token carried over (the line ended in a way that ends it).
    pub(crate) fn clear(&mut self) {
        self.carry.clear();
        self.long = false;
    }

    fn keep(&mut self, bytes: &[u8]) {
        let room = MAX_TOKEN - self.carry.len();
        if bytes.len() > room {
            self.long = true;
        }
        self.carry
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn flush(&mut self, on: &mut dyn FnMut(&[u8], bool)) {
        if !self.carry.is_empty() {
            on(&self.carry, self.long);
        }
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &[u8], step: usize) -> Vec<(String, bool)> {
        let mut t = Tokens::default();
        let mut got = Vec::new();
        let pieces: Vec<&[u8]> = text.chunks(step).collect();
        for (i, piece) in pieces.iter().enumerate() {
            t.feed(
                piece,
                i + 1 == pieces.len(),
                |b| b == b' ' || b == b',',
                &mut |tok, cut| got.push((String::from_utf8_lossy(tok).into_owned(), cut)),
            );
        }
        got
    }

    #[test]
    fn tokens_cut_between_pieces_are_joined() {
        let text = b"104.16.0.1, 2606:4700::1 ,,  198.51.100.7 x";
        let whole = tokens(text, text.len());
        assert_eq!(whole.len(), 4);
        for step in 1..text.len() {
            assert_eq!(tokens(text, step), whole, "{step}");
        }
    }

    #[test]
    fn a_token_longer_than_any_address_is_handed_cut_and_marked() {
        let mut text = vec![b'7'; MAX_TOKEN * 3];
        text.extend_from_slice(b" 104.16.0.1");
        for step in [1000, MAX_TOKEN * 4] {
            let got = tokens(&text, step);
            assert_eq!(got.len(), 2);
            assert_eq!((got[0].0.len(), got[0].1), (MAX_TOKEN, true));
            assert_eq!(got[1], ("104.16.0.1".to_string(), false));
        }
    }
}
