//! The cheap first test a line parser runs: does the line hold any of a few fixed words?
//! Built once per program rather than once per line.
//!
//! A format with a few words (nginx's and Apache's error logs have two or three) searches for
//! each with its own SIMD substring searcher (`memchr::memmem`): on lines of a hundred bytes or
//! two that is two to three times faster than one Aho-Corasick automaton for all of them, whose
//! searchers pay a start-up cost on every line, and over a whole buffer each word's searcher
//! runs once ([`Search`]: the next place of each word is kept until the search passes it).
//! A format with more words (CrowdSec's log, the syslog tags) keeps one automaton (with its
//! SIMD "Teddy" searcher), which reads a line once for all of them.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::memmem::Finder;

/// Up to this many words, each has its own searcher.
const FEW: usize = 4;

/// A set of byte strings a line must contain one of before it is parsed.
#[derive(Debug)]
pub(crate) enum Prefilter {
    /// A searcher per word.
    Few(Vec<Finder<'static>>),
    /// One automaton for all the words.
    Many(AhoCorasick),
}

impl Prefilter {
    /// A prefilter for these words (matched as bytes, case-sensitive). No word may be empty
    /// or hold a line feed.
    pub(crate) fn new(words: &[&str]) -> Prefilter {
        debug_assert!(words.iter().all(|w| !w.is_empty() && !w.contains('\n')));
        if words.len() <= FEW {
            return Prefilter::Few(
                words
                    .iter()
                    .map(|w| Finder::new(w.as_bytes()).into_owned())
                    .collect(),
            );
        }
        let searcher = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .match_kind(MatchKind::LeftmostFirst)
            .build(words)
            .expect("a few fixed words always build");
        Prefilter::Many(searcher)
    }

    /// Whether the line holds any of the words.
    pub(crate) fn matches(&self, line: &[u8]) -> bool {
        match self {
            Prefilter::Few(finders) => finders.iter().any(|f| f.find(line).is_some()),
            Prefilter::Many(searcher) => searcher.is_match(line),
        }
    }

    /// A search of `haystack` (many lines) for the places where the words start, from left to
    /// right (see [`Search::find_from`]).
    pub(crate) fn search<'p, 'h>(&'p self, haystack: &'h [u8]) -> Search<'p, 'h> {
        let next = match self {
            Prefilter::Few(finders) => vec![None; finders.len()],
            Prefilter::Many(_) => Vec::new(),
        };
        Search {
            prefilter: self,
            haystack,
            next,
        }
    }
}

/// A search of one haystack for a [`Prefilter`]'s words, at places that never go back.
#[derive(Debug)]
pub(crate) struct Search<'p, 'h> {
    prefilter: &'p Prefilter,
    haystack: &'h [u8],
    /// Per word of [`Prefilter::Few`]: not searched yet (`None`), or where it was found first
    /// from the last place it was searched from (`Some(None)`: nowhere after it).
    next: Vec<Option<Option<usize>>>,
}

impl Search<'_, '_> {
    /// Where the first word to start at or after `from` starts: a line holding it is the next
    /// line (from `from`) that [`Prefilter::matches`]; none means no line does (no word holds
    /// a line feed, so a match never spans two lines). `from` must not be less than at the
    /// call before.
    pub(crate) fn find_from(&mut self, from: usize) -> Option<usize> {
        let hay = self.haystack.get(from..)?;
        match self.prefilter {
            Prefilter::Many(searcher) => searcher.find(hay).map(|m| from + m.start()),
            Prefilter::Few(finders) => {
                let mut first: Option<usize> = None;
                for (finder, next) in finders.iter().zip(&mut self.next) {
                    let at = match *next {
                        Some(found) if found.is_none_or(|at| at >= from) => found,
                        _ => {
                            let found = finder.find(hay).map(|i| from + i);
                            *next = Some(found);
                            found
                        }
                    };
                    if let Some(at) = at {
                        first = Some(first.map_or(at, |f| f.min(at)));
                    }
                }
                first
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NGINX: &[&str] = &["limiting ", "access forbidden", "ModSecurity: Access"];
    const MANY: &[&str] = &["on Ip ", "on Range ", "on ip ", "on range ", "x", "yz"];

    #[test]
    fn any_word_anywhere() {
        let p = Prefilter::new(NGINX);
        assert!(matches!(p, Prefilter::Few(_)));
        assert!(p.matches(b"x limiting requests"));
        assert!(p.matches(b"... ModSecurity: Access denied"));
        assert!(p.matches(b"access forbidden"));
        assert!(!p.matches(b"limiting"));
        assert!(!p.matches(b"Access Forbidden"));
        assert!(!p.matches(b""));
        let p = Prefilter::new(MANY);
        assert!(matches!(p, Prefilter::Many(_)));
        assert!(p.matches(b"decision on range 1.2.3.0/24"));
        assert!(!p.matches(b"on IP 1.2.3.4"));
    }

    #[test]
    fn search_points_into_each_line_that_matches_in_turn() {
        for words in [&["limiting ", "access forbidden"][..], MANY] {
            let p = Prefilter::new(words);
            let text = b"a\nb access forbidden on ip \nlimiting x on Range \nnone\n";
            let mut search = p.search(text);
            let mut lines = Vec::new();
            let mut from = 0;
            while let Some(at) = search.find_from(from) {
                let end = at + memchr::memchr(b'\n', &text[at..]).unwrap();
                let start = memchr::memrchr(b'\n', &text[..at]).map_or(0, |i| i + 1);
                lines.push(&text[start..end]);
                from = end + 1;
            }
            assert_eq!(
                lines,
                [&b"b access forbidden on ip "[..], b"limiting x on Range "]
            );
            assert_eq!(p.search(b"nothing\nhere\n").find_from(0), None);
            assert_eq!(p.search(b"short").find_from(9), None);
        }
    }

    #[test]
    fn each_word_is_found_again_once_the_search_passes_it() {
        let p = Prefilter::new(&["ab", "cd"]);
        let text = b"ab cd ab ab cd";
        let mut search = p.search(text);
        let found: Vec<usize> = [0, 1, 4, 6, 7, 12, 13, 14]
            .iter()
            .map(|&from| search.find_from(from).unwrap_or(usize::MAX))
            .collect();
        assert_eq!(found, [0, 3, 6, 6, 9, 12, usize::MAX, usize::MAX]);
    }
}
