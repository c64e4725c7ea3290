//! The cheap first test a line parser runs: does the line hold any of a few fixed words?
//! One pass over the line for all the words (Aho-Corasick, with its SIMD "Teddy" searcher
//! for short word lists), built once per program rather than once per line.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// A set of byte strings a line must contain one of before it is parsed.
#[derive(Debug)]
pub(crate) struct Prefilter(AhoCorasick);

impl Prefilter {
    /// A prefilter for these words (matched as bytes, case-sensitive).
    pub(crate) fn new(words: &[&str]) -> Prefilter {
        let searcher = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .match_kind(MatchKind::LeftmostFirst)
            .build(words)
            .expect("a few fixed words always build");
        Prefilter(searcher)
    }

    /// Whether the line holds any of the words.
    pub(crate) fn matches(&self, line: &[u8]) -> bool {
        self.0.is_match(line)
    }

    /// Where in `haystack` (many lines) the first of the words to end starts: a line holding
    /// it is the next line [`Prefilter::matches`]; none means no line does (no word holds a
    /// line feed, so a match never spans two lines).
    pub(crate) fn find(&self, haystack: &[u8]) -> Option<usize> {
        self.0.find(haystack).map(|m| m.start())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_word_anywhere() {
        let p = Prefilter::new(&["limiting ", "access forbidden", "ModSecurity: Access"]);
        assert!(p.matches(b"x limiting requests"));
        assert!(p.matches(b"... ModSecurity: Access denied"));
        assert!(p.matches(b"access forbidden"));
        assert!(!p.matches(b"limiting"));
        assert!(!p.matches(b"Access Forbidden"));
        assert!(!p.matches(b""));
    }

    #[test]
    fn find_points_into_the_first_line_that_matches() {
        let p = Prefilter::new(&["limiting ", "access forbidden"]);
        let text = b"a\nb access forbidden\nlimiting x\n";
        let at = p.find(text).unwrap();
        assert_eq!(&text[at..at + 6], b"access");
        assert_eq!(p.find(b"nothing\nhere\n"), None);
    }
}
