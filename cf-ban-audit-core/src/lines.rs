//! Streaming byte lines: a reused buffer, memchr to find line ends, CRLF trimmed, NULs at a
//! line's start (a write lost in a crash) dropped, a last line without a terminator still
//! read. What happens to a line longer than [`MAX_LINE`] is the format's to say
//! ([`LongLines`]): handed on in pieces, with no more memory than a piece, to a parser that
//! reads its tokens as they come (`fail2ban-client` lists, nft set elements, plain lists,
//! CrowdSec JSON); or gathered whole. Either way up to the format's own limit, far above what
//! the real program writes, and cut there, the cut being an error of the scan. Compressed files are undone before, by
//! [`crate::decompress`].

use std::io::{self, Read};

use crate::formats::prefilter::Prefilter;
pub use crate::formats::{LongLines, Part};

/// The longest line handed to a parser whole unless its format states a limit of its own
/// ([`crate::formats::FormatDescriptor::line_limit`]); a longer line of a format read in pieces
/// ([`LongLines::Pieces`]) is handed in pieces of at least this size.
pub const MAX_LINE: usize = 1 << 20;

/// The size of each read from the input.
const READ_SIZE: usize = 256 * 1024;

/// Trims ASCII white space (including `\r`) at both ends.
pub fn trim_ascii(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// Counts of what a line walk saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LineStats {
    /// Lines read (a cut line, or one handed in pieces, counts once).
    pub lines: u64,
    /// Lines longer than the limit, handed over cut ([`LineChunk::Cut`]).
    pub long_lines: u64,
}

/// What the line walk hands over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineChunk<'a> {
    /// A whole line.
    Line(&'a [u8]),
    /// A piece of a line longer than [`MAX_LINE`], for [`LongLines::Pieces`]: the first
    /// holds about the line's first [`MAX_LINE`] bytes (its head, whatever the format), the
    /// last may be empty; together they are the line (up to its limit: see
    /// [`LineChunk::PiecesCut`]). Each piece but the last ends after a white space or comma
    /// when it holds one, so that a token is split between pieces only when it is longer
    /// than a piece.
    Piece(&'a [u8], Part),
    /// The line handed in pieces passed the limit of [`LongLines::Pieces`]: its last piece
    /// ended at the last white space or comma before the limit, and the rest of the line is
    /// skipped.
    PiecesCut,
    /// The start of a line longer than the limit of [`LongLines::Limit`], up to the last
    /// white space or comma before the limit (so that no token is handed cut short, to be
    /// taken for a shorter one); the rest of the line is skipped.
    Cut(&'a [u8]),
    /// Whole lines, each ended by its line feed, none longer than the limit, the first
    /// numbered as handed: only for a walk that asks for runs of lines ([`Walk::Blocks`]), or
    /// in the dense stretches of a search ([`Walk::Search`]). Their `\r` and leading NULs are
    /// still there ([`block_lines`] takes them off).
    Lines(&'a [u8]),
}

/// How [`search_lines`] hands the lines over.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Walk<'a> {
    /// Every line, one at a time.
    Lines,
    /// Only the lines holding one of the words (and every line cut at its limit); in a
    /// stretch dense in words, every line, in runs ([`LineChunk::Lines`]).
    Search(&'a Prefilter),
    /// Every line, the whole lines of each read at once ([`LineChunk::Lines`]): one call a
    /// read rather than one a line.
    Blocks,
}

/// The lines of a [`LineChunk::Lines`] block, numbered from `first`, each as a line walk hands
/// it: without its line feed and a `\r` before it, and without the NULs a crash left at its
/// start.
pub(crate) fn block_lines(first: u64, block: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let mut from = 0;
    memchr::memchr_iter(b'\n', block)
        .zip(first..)
        .map(move |(nl, n)| {
            let line = &block[from..nl];
            from = nl + 1;
            (n, block_line(line))
        })
}

/// A line of a [`LineChunk::Lines`] block, taken without its line feed, as a line walk hands
/// it: without a `\r` at its end and the NULs a crash left at its start.
pub(crate) fn block_line(line: &[u8]) -> &[u8] {
    strip_nuls(line.strip_suffix(b"\r").unwrap_or(line))
}

/// How many line feeds `bytes` holds: 64 bytes at a time, counted in a byte, a loop the
/// compiler turns into vector compares.
fn count_lines(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(64);
    let mut total = 0;
    for chunk in &mut chunks {
        let mut n = 0u8;
        for &b in chunk {
            n += u8::from(b == b'\n');
        }
        total += u64::from(n);
    }
    total + chunks.remainder().iter().filter(|&&b| b == b'\n').count() as u64
}

/// The first line feed of `bytes`.
fn first_line_feed(bytes: &[u8]) -> Option<usize> {
    examined(bytes.len());
    memchr::memchr(b'\n', bytes)
}

/// The last line feed of `bytes`.
fn last_line_feed(bytes: &[u8]) -> Option<usize> {
    examined(bytes.len());
    memchr::memrchr(b'\n', bytes)
}

#[cfg(test)]
thread_local! {
    /// The bytes this thread's line walks have looked through for line feeds, for the test
    /// that a walk looks at each byte a bounded number of times however small its reads.
    static EXAMINED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts `n` bytes looked through for line feeds (in tests only).
#[inline(always)]
fn examined(n: usize) {
    #[cfg(test)]
    EXAMINED.with(|c| c.set(c.get() + n as u64));
    #[cfg(not(test))]
    let _ = n;
}

/// Where to cut a line that passed its limit: after the last white space or comma of its
/// first `limit` bytes (all of them when there is none: one token that long is no entry).
fn cut_point(line: &[u8]) -> usize {
    match memchr::memrchr3(b' ', b'\t', b',', line) {
        Some(i) => i + 1,
        None => line.len(),
    }
}

/// Where a piece of a line handed in pieces ends: after its last white space or comma, so that
/// a token is cut between pieces only when it is longer than a piece (and a line cut at its
/// limit ends after a whole token); with none, before a `\r` at its end, which may be the
/// start of the line's terminator.
fn piece_end(bytes: &[u8]) -> usize {
    match memchr::memrchr3(b' ', b'\t', b',', bytes) {
        Some(i) => i + 1,
        None => bytes.len() - usize::from(bytes.ends_with(b"\r")),
    }
}

/// The line without the NULs a crash left before it.
fn strip_nuls(line: &[u8]) -> &[u8] {
    match line.iter().position(|&b| b != 0) {
        Some(0) => line,
        Some(start) => &line[start..],
        None => &line[line.len()..],
    }
}

/// Calls `f(line_number, line)` for every line of `reader`, line numbers from 1, without the
/// line terminator (`\n` or `\r\n`); a line longer than [`MAX_LINE`] is handed cut (as
/// [`LineChunk::Cut`] says) and counted in [`LineStats::long_lines`]. On an I/O error the lines
/// before it have been handed over and the error is returned with the number of the line where
/// reading stopped.
pub fn for_each_line<F>(reader: &mut dyn Read, mut f: F) -> Result<LineStats, (io::Error, u64)>
where
    F: FnMut(u64, &[u8]),
{
    read_lines(reader, LongLines::Limit(MAX_LINE), |n, chunk| match chunk {
        LineChunk::Line(line) | LineChunk::Cut(line) | LineChunk::Piece(line, _) => f(n, line),
        LineChunk::Lines(block) => block_lines(n, block).for_each(|(n, line)| f(n, line)),
        LineChunk::PiecesCut => {}
    })
}

/// Hands `piece` of line `n`, read in pieces, on as `part`; or, when it takes the line past
/// `limit`, its bytes up to the limit, ended after their last white space or comma, as the
/// line's last piece, then [`LineChunk::PiecesCut`]. Returns whether the line was cut.
fn hand_piece<F>(
    f: &mut F,
    n: u64,
    streamed: &mut usize,
    limit: usize,
    piece: &[u8],
    part: Part,
) -> bool
where
    F: FnMut(u64, LineChunk<'_>),
{
    let room = limit.saturating_sub(*streamed);
    if piece.len() <= room {
        *streamed += piece.len();
        if part == Part::Last || !piece.is_empty() {
            f(n, LineChunk::Piece(piece, part));
        }
        return false;
    }
    let allowed = &piece[..room];
    let end = memchr::memrchr3(b' ', b'\t', b',', allowed).map_or(0, |i| i + 1);
    f(n, LineChunk::Piece(&allowed[..end], Part::Last));
    f(n, LineChunk::PiecesCut);
    true
}

/// Hands over a complete line gathered whole: cut at `limit` when longer (and counted).
fn hand_line<F>(f: &mut F, stats: &mut LineStats, line: &[u8], limit: usize)
where
    F: FnMut(u64, LineChunk<'_>),
{
    let line = &line[..line.len() - usize::from(line.ends_with(b"\r"))];
    stats.lines += 1;
    if line.len() > limit {
        stats.long_lines += 1;
        let line = strip_nuls(&line[..limit]);
        f(stats.lines, LineChunk::Cut(&line[..cut_point(line)]));
    } else {
        f(stats.lines, LineChunk::Line(strip_nuls(line)));
    }
}

/// Counts the complete lines of `lines`, none holding a word, handing over only those longer
/// than `limit` (cut, as every line that long is).
fn skip_lines<F>(f: &mut F, stats: &mut LineStats, lines: &[u8], limit: usize)
where
    F: FnMut(u64, LineChunk<'_>),
{
    examined(lines.len());
    if lines.len() <= limit {
        // No line can be too long: count them at memchr's speed.
        stats.lines += memchr::memchr_iter(b'\n', lines).count() as u64;
        return;
    }
    let mut from = 0;
    for nl in memchr::memchr_iter(b'\n', lines) {
        let line = &lines[from..nl];
        let len = line.len() - usize::from(line.ends_with(b"\r"));
        if len > limit {
            hand_line(f, stats, line, limit);
        } else {
            stats.lines += 1;
        }
        from = nl + 1;
    }
}

/// Searches the complete lines at the start of `bytes` (up to its last line feed) for
/// `words`, handing over each line holding one, and every line longer than `limit`; returns
/// how many bytes it took (the partial line after them is left) and how many lines held a
/// word. Its first `clean` bytes are known to hold no line feed.
fn search_region<F>(
    words: &Prefilter,
    bytes: &[u8],
    clean: usize,
    limit: usize,
    stats: &mut LineStats,
    f: &mut F,
) -> (usize, u64)
where
    F: FnMut(u64, LineChunk<'_>),
{
    let Some(last) = last_line_feed(&bytes[clean..]).map(|i| clean + i) else {
        return (0, 0);
    };
    let region = &bytes[..=last];
    let mut pos = 0;
    let mut hits = 0;
    let mut search = words.search(region);
    while pos < region.len() {
        let Some(hit) = search.find_from(pos) else {
            skip_lines(f, stats, &region[pos..], limit);
            break;
        };
        let line_start = last_line_feed(&region[pos..hit]).map_or(pos, |i| pos + i + 1);
        skip_lines(f, stats, &region[pos..line_start], limit);
        // The region ends with a line feed, after the hit.
        let line_end = hit + first_line_feed(&region[hit..]).unwrap_or(region.len() - hit);
        hand_line(f, stats, &region[line_start..line_end], limit);
        hits += 1;
        pos = line_end + 1;
    }
    (region.len(), hits)
}

/// How long a file whose searched lines were dense in words is read whole (every line handed,
/// in runs) before it is searched again: where most lines hold a word, looking for each costs
/// more than reading every line.
const DENSE_STRETCH: usize = 4 * READ_SIZE;

/// The share of lines holding a word (one in this many) above which a stretch is dense.
const DENSE_ONE_IN: u64 = 8;

/// Calls `f(line_number, chunk)` for every line of `reader` (see [`for_each_line`]), a line
/// longer than [`MAX_LINE`] being handed as `long` says: in pieces ([`LineChunk::Piece`]), or
/// whole; either way up to the format's limit, and cut beyond it ([`LineChunk::Cut`],
/// [`LineChunk::PiecesCut`]; counted in [`LineStats::long_lines`]). Memory is bounded by the
/// limit of a line read whole, or by twice [`MAX_LINE`] when lines are handed in pieces. On an
/// I/O error, a line handed in pieces is closed with the bytes read of it ([`Part::Last`])
/// before the error is returned.
pub fn read_lines<F>(
    reader: &mut dyn Read,
    long: LongLines,
    f: F,
) -> Result<LineStats, (io::Error, u64)>
where
    F: FnMut(u64, LineChunk<'_>),
{
    search_lines(reader, long, Walk::Lines, f)
}

/// [`read_lines`], but walking as `walk` says.
///
/// - [`Walk::Search`], for a parser that reads only the lines holding one of the words, hands
///   over only those lines (and, as ever, every line cut at the limit): each buffer is
///   searched for the words whole, as grep does, and only around a hit are line ends looked
///   for; the lines between hits are only counted. The line numbers, the counts and what
///   reaches a parser that ignores the other lines are those of [`read_lines`]. Where most
///   lines hold a word, looking for each costs more than reading them all: such a stretch is
///   handed whole, in runs of lines. Lines handed in pieces ([`LongLines::Pieces`]) are read
///   line by line.
/// - [`Walk::Blocks`] hands the whole lines of each read at once ([`LineChunk::Lines`]), as
///   many as lie within the limit's reach of the first, and counts them here; what is left (a
///   line still gathered, a line past the limit, a long line's pieces, the last line without
///   its end) goes as [`read_lines`] hands it.
pub(crate) fn search_lines<F>(
    reader: &mut dyn Read,
    long: LongLines,
    walk: Walk<'_>,
    mut f: F,
) -> Result<LineStats, (io::Error, u64)>
where
    F: FnMut(u64, LineChunk<'_>),
{
    /// What the walk is doing with the current line.
    #[derive(PartialEq)]
    enum State {
        /// Gathering it.
        Gathering,
        /// It was cut: its rest is being skipped.
        Skipping,
        /// Its pieces are being handed over.
        Streaming,
    }
    let (limit, pieces) = match long {
        LongLines::Limit(limit) => (limit.max(1), false),
        LongLines::Pieces(limit) => (limit.max(1), true),
    };
    let mut stats = LineStats::default();
    let mut buf: Vec<u8> = vec![0; READ_SIZE];
    // buf[start..end] holds bytes not yet handed over.
    let mut start = 0usize;
    let mut end = 0usize;
    // buf[start..clean], when `clean` is past `start`, was looked through and holds no line
    // feed: a line longer than a read is not looked through again from its start at each read.
    let mut clean = 0usize;
    let mut state = State::Gathering;
    // The bytes of the line being handed in pieces handed so far.
    let mut streamed = 0usize;
    let strip_cr = |line: &[u8]| -> usize { line.len() - usize::from(line.ends_with(b"\r")) };
    let words = match walk {
        Walk::Search(words) if !pieces => Some(words),
        _ => None,
    };
    let blocks = matches!(walk, Walk::Blocks);
    // Bytes still to read line by line after a dense stretch, before searching again.
    let per_line = std::cell::Cell::new(0usize);
    let search =
        |start: &mut usize, buf: &[u8], clean: usize, end, stats: &mut LineStats, f: &mut F| {
            let (Some(words), 0) = (words, per_line.get()) else {
                return;
            };
            let before = stats.lines;
            let clean = clean.saturating_sub(*start);
            let (taken, hits) = search_region(words, &buf[*start..end], clean, limit, stats, f);
            *start += taken;
            if (stats.lines - before) >= 64 && hits * DENSE_ONE_IN >= stats.lines - before {
                per_line.set(DENSE_STRETCH);
            }
        };
    loop {
        if state == State::Gathering {
            search(&mut start, &buf, clean, end, &mut stats, &mut f);
        }
        // Hand over every complete line in the buffer.
        loop {
            // A dense stretch of a search hands every line too: in runs, as blocks are.
            let runs = blocks || (words.is_some() && per_line.get() > 0);
            if runs && state == State::Gathering {
                // The lines within the limit's reach, none of which can pass it, at once; a
                // line past it goes alone, cut, below.
                let reach = end.min(start.saturating_add(limit));
                let from = clean.clamp(start, reach);
                if let Some(last) = last_line_feed(&buf[from..reach]).map(|i| from - start + i) {
                    let block = &buf[start..=start + last];
                    f(stats.lines + 1, LineChunk::Lines(block));
                    stats.lines += count_lines(block);
                    start += last + 1;
                }
            }
            let from = clean.max(start);
            let Some(pos) = first_line_feed(&buf[from..end]).map(|i| from - start + i) else {
                clean = end;
                break;
            };
            let line = &buf[start..start + pos];
            let line = &line[..strip_cr(line)];
            match state {
                State::Skipping => {}
                State::Streaming => {
                    if hand_piece(&mut f, stats.lines, &mut streamed, limit, line, Part::Last) {
                        stats.long_lines += 1;
                    }
                }
                State::Gathering if line.len() > limit => {
                    // A line longer than the limit that arrived in one read.
                    stats.lines += 1;
                    stats.long_lines += 1;
                    let line = strip_nuls(&line[..limit]);
                    f(stats.lines, LineChunk::Cut(&line[..cut_point(line)]));
                }
                State::Gathering => {
                    stats.lines += 1;
                    f(stats.lines, LineChunk::Line(strip_nuls(line)));
                }
            }
            state = State::Gathering;
            start += pos + 1;
            search(&mut start, &buf, clean, end, &mut stats, &mut f);
        }
        let pending = end - start;
        match state {
            State::Skipping => start = end,
            State::Streaming => {
                let upto = start + piece_end(&buf[start..end]);
                let piece = &buf[start..upto];
                if hand_piece(
                    &mut f,
                    stats.lines,
                    &mut streamed,
                    limit,
                    piece,
                    Part::Middle,
                ) {
                    stats.long_lines += 1;
                    state = State::Skipping;
                    start = end;
                } else {
                    start = upto;
                }
            }
            // A `\r` at the end may be the start of the line's terminator: the line passes its
            // limit only once it is longer without it, whatever the reads' sizes.
            State::Gathering if strip_cr(&buf[start..end]) > limit => {
                stats.lines += 1;
                stats.long_lines += 1;
                let line = strip_nuls(&buf[start..start + limit]);
                f(stats.lines, LineChunk::Cut(&line[..cut_point(line)]));
                state = State::Skipping;
                start = end;
            }
            State::Gathering if pieces && pending >= MAX_LINE => {
                stats.lines += 1;
                let upto = start + piece_end(&buf[start..end]);
                let first = strip_nuls(&buf[start..upto]);
                streamed = first.len();
                f(stats.lines, LineChunk::Piece(first, Part::First));
                state = State::Streaming;
                start = upto;
            }
            State::Gathering => {}
        }
        // Make room: move the partial line to the front, grow if it fills the buffer (never
        // much beyond what the limit, or a piece, needs).
        if start > 0 {
            buf.copy_within(start..end, 0);
            end -= start;
            clean = clean.saturating_sub(start);
            start = 0;
        }
        if end == buf.len() {
            // Only a line still gathered fills the buffer, and it is shorter than the limit
            // (or than a first piece): room for one byte more tells whether it passes it.
            let most = if pieces {
                MAX_LINE.min(limit.saturating_add(1))
            } else {
                limit.saturating_add(1)
            };
            let grown = (buf.len() * 2).min(most).max(buf.len() + 1);
            buf.resize(grown, 0);
        }
        let n = loop {
            match reader.read(&mut buf[end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if state == State::Streaming {
                        let rest = &buf[start..end];
                        hand_piece(&mut f, stats.lines, &mut streamed, limit, rest, Part::Last);
                        return Err((e, stats.lines));
                    }
                    return Err((e, stats.lines + 1));
                }
            }
        };
        if n == 0 {
            let rest = &buf[start..end];
            match state {
                State::Skipping => {}
                State::Streaming => {
                    let rest = &rest[..strip_cr(rest)];
                    if hand_piece(&mut f, stats.lines, &mut streamed, limit, rest, Part::Last) {
                        stats.long_lines += 1;
                    }
                }
                State::Gathering if rest.is_empty() => {}
                // Searching: a last line holding no word is only counted.
                State::Gathering if words.is_some_and(|w| !w.matches(rest)) => stats.lines += 1,
                State::Gathering => {
                    stats.lines += 1;
                    f(
                        stats.lines,
                        LineChunk::Line(strip_nuls(&rest[..strip_cr(rest)])),
                    );
                }
            }
            return Ok(stats);
        }
        end += n;
        per_line.set(per_line.get().saturating_sub(n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8]) -> (Vec<Vec<u8>>, LineStats) {
        let mut out = Vec::new();
        let stats = for_each_line(&mut &input[..], |_, l| out.push(l.to_vec())).unwrap();
        (out, stats)
    }

    #[test]
    fn long_lines_are_cut_and_the_next_line_survives() {
        let mut input = vec![b'x'; MAX_LINE * 3 + 17];
        input.extend_from_slice(b"\nnext\n");
        let (lines, stats) = collect(&input);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), MAX_LINE);
        assert_eq!(lines[1], b"next");
        assert_eq!(
            stats,
            LineStats {
                lines: 2,
                long_lines: 1
            }
        );
    }

    /// A reader that gives at most `step` bytes a read, then fails when `fail` says.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
        fail: bool,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.data.is_empty() && self.fail {
                return Err(io::Error::other("broken"));
            }
            let n = buf.len().min(self.step).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// Every line of `input` read in pieces, the pieces joined: (number, line, pieces).
    fn pieces(input: &[u8], step: usize) -> (Vec<(u64, Vec<u8>, usize)>, LineStats) {
        let mut out: Vec<(u64, Vec<u8>, usize)> = Vec::new();
        let mut open = false;
        let mut reader = Trickle {
            data: input,
            step,
            fail: false,
        };
        let stats = read_lines(
            &mut reader,
            LongLines::Pieces(usize::MAX),
            |n, chunk| match chunk {
                LineChunk::Line(l) => {
                    assert!(!open);
                    out.push((n, l.to_vec(), 0));
                }
                LineChunk::Lines(_) => unreachable!("read_lines hands no runs of lines"),
                LineChunk::Piece(p, part) => {
                    assert_eq!(open, part != Part::First, "{part:?}");
                    if part == Part::First {
                        assert!(p.len() > MAX_LINE - 64, "{}", p.len());
                        out.push((n, Vec::new(), 0));
                    }
                    let last = out.last_mut().unwrap();
                    assert_eq!(last.0, n);
                    last.1.extend_from_slice(p);
                    last.2 += 1;
                    open = part != Part::Last;
                }
                LineChunk::Cut(_) | LineChunk::PiecesCut => {
                    panic!("no line is cut below its limit")
                }
            },
        )
        .unwrap();
        assert!(!open);
        (out, stats)
    }

    #[test]
    fn long_lines_come_in_pieces_that_make_the_line() {
        let mut long = Vec::new();
        while long.len() < 3 * MAX_LINE + 12_345 {
            long.extend_from_slice(b"104.16.0.1, ");
        }
        let mut input = b"short\r\n".to_vec();
        input.extend_from_slice(&long);
        input.extend_from_slice(b"\r\nnext\n");
        input.extend_from_slice(&long);
        // Reads of every size, so that a `\r` falls at the end of a read.
        for step in [READ_SIZE, 4096, 1000, 12_347] {
            let (lines, stats) = pieces(&input, step);
            assert_eq!(lines.len(), 4, "{step}");
            assert_eq!((lines[0].1.as_slice(), lines[0].2), (&b"short"[..], 0));
            assert_eq!((lines[1].0, lines[1].1.len()), (2, long.len()));
            assert!(lines[1].1 == long && lines[1].2 >= 3, "{step}");
            assert_eq!(lines[2].1, b"next");
            assert!(
                lines[3].1 == long,
                "a last line without its terminator, {step}"
            );
            assert_eq!(stats.lines, 4);
        }
        // A line of exactly the piece size and one below it come whole.
        let input = [vec![b'x'; MAX_LINE - 1], b"\n".to_vec()].concat();
        assert_eq!(pieces(&input, READ_SIZE).0[0].2, 0);
    }

    #[test]
    fn a_read_error_closes_a_line_in_pieces() {
        let input = vec![b'x'; MAX_LINE * 2];
        let mut got = 0;
        let mut last = false;
        let mut reader = Trickle {
            data: &input,
            step: READ_SIZE,
            fail: true,
        };
        let err = read_lines(&mut reader, LongLines::Pieces(usize::MAX), |n, chunk| {
            assert_eq!(n, 1);
            if let LineChunk::Piece(p, part) = chunk {
                got += p.len();
                last = part == Part::Last;
            }
        })
        .unwrap_err();
        assert_eq!((got, last, err.1), (input.len(), true, 1));
    }

    #[test]
    fn lines_past_their_limit_are_cut_after_a_separator() {
        for (limit, step) in [(100, READ_SIZE), (3 * READ_SIZE + 5, 5000)] {
            let mut input = Vec::new();
            while input.len() < limit * 3 {
                input.extend_from_slice(b"104.16.0.12 ");
            }
            input.extend_from_slice(b"\n\0\0next\n");
            let mut lines = Vec::new();
            let mut reader = Trickle {
                data: &input,
                step,
                fail: false,
            };
            let stats = read_lines(&mut reader, LongLines::Limit(limit), |n, chunk| {
                lines.push((n, chunk_text(chunk)));
            })
            .unwrap();
            assert_eq!(stats.long_lines, 1);
            assert_eq!(lines.len(), 2);
            let (kind, cut) = &lines[0].1;
            assert_eq!(*kind, "cut");
            assert!(
                cut.len() <= limit && cut.len() > limit - 13,
                "{}",
                cut.len()
            );
            assert!(cut.ends_with(b"104.16.0.12 "));
            assert_eq!(lines[1], (2, ("line", b"next".to_vec())));
        }
    }

    #[test]
    fn lines_in_pieces_past_their_limit_are_cut_after_a_separator() {
        let limit = 2 * MAX_LINE + 7;
        let mut input = Vec::new();
        while input.len() < limit + MAX_LINE {
            input.extend_from_slice(b"104.16.0.12 ");
        }
        input.extend_from_slice(b"\nnext\n");
        for step in [READ_SIZE, 5000] {
            let (mut got, mut cuts, mut after) = (0, 0, Vec::new());
            let mut reader = Trickle {
                data: &input,
                step,
                fail: false,
            };
            let stats = read_lines(
                &mut reader,
                LongLines::Pieces(limit),
                |n, chunk| match chunk {
                    LineChunk::Piece(p, part) => {
                        assert_eq!((n, cuts), (1, 0));
                        got += p.len();
                        if part == Part::Last {
                            assert!(p.is_empty() || p.ends_with(b" "), "no token is cut");
                        }
                    }
                    LineChunk::PiecesCut => cuts += 1,
                    LineChunk::Line(l) => after.push((n, l.to_vec())),
                    LineChunk::Cut(_) => panic!("a line in pieces is not gathered"),
                    LineChunk::Lines(_) => unreachable!("read_lines hands no runs of lines"),
                },
            )
            .unwrap();
            assert_eq!((cuts, stats.long_lines), (1, 1));
            assert!(got <= limit && got > limit - 13, "{got}");
            assert_eq!(after, [(2, b"next".to_vec())]);
        }
    }

    fn chunk_text(chunk: LineChunk<'_>) -> (&'static str, Vec<u8>) {
        match chunk {
            LineChunk::Line(l) => ("line", l.to_vec()),
            LineChunk::Cut(l) => ("cut", l.to_vec()),
            LineChunk::Piece(l, _) => ("piece", l.to_vec()),
            LineChunk::Lines(l) => ("lines", l.to_vec()),
            LineChunk::PiecesCut => ("pieces cut", Vec::new()),
        }
    }

    /// A line far longer than a read, arriving a few bytes a read (a pipe from a slow
    /// writer), is not looked through for its end again at each read: each walk looks at every
    /// byte a few times (a search three: for the last line feed of a read, for the next one,
    /// and for the end of a line holding a word), whatever the reads' size. Looking again
    /// from the line's start at each read made it 773,903,734 bytes for these 307,229.
    #[test]
    fn a_long_line_in_small_reads_is_not_looked_through_at_each_read() {
        let words = Prefilter::new(&["Ban"]);
        let mut input = b"Ban 1.2.3.4\n".to_vec();
        input.extend(b"a Ban of ".iter().cycle().take(300 << 10));
        input.extend(b"\nBan 5.6.7.8\nlast".iter());
        let walks = [
            ("lines", Walk::Lines),
            ("blocks", Walk::Blocks),
            ("search", Walk::Search(&words)),
        ];
        for (name, walk) in walks {
            for long in [LongLines::Limit(1 << 20), LongLines::Pieces(1 << 20)] {
                let mut reader = Trickle {
                    data: &input,
                    step: 61,
                    fail: false,
                };
                let before = EXAMINED.with(|c| c.get());
                let stats = search_lines(&mut reader, long, walk, |_, _| {}).unwrap();
                let looked = EXAMINED.with(|c| c.get()) - before;
                assert_eq!(stats.lines, 4, "{name} {long:?}");
                assert!(
                    looked <= 4 * input.len() as u64,
                    "{name} {long:?}: {looked} bytes looked through for {} read",
                    input.len()
                );
            }
        }
    }

    #[test]
    fn lines_across_read_boundaries() {
        let line = b"2026-11-24 03:06:43,825 fail2ban.actions [1]: NOTICE [sshd] Ban 104.16.0.1\n";
        let input: Vec<u8> = line
            .iter()
            .copied()
            .cycle()
            .take(line.len() * 10_000)
            .collect();
        let (lines, _) = collect(&input);
        assert_eq!(lines.len(), 10_000);
        assert!(lines.iter().all(|l| l[..] == line[..line.len() - 1]));
    }

    #[test]
    fn nuls_a_crash_left_before_a_line_are_dropped() {
        let mut input = vec![0u8; 3000];
        input.extend_from_slice(b"first\n\0\0second\n\0\0\0\nthird\0x\n");
        let (lines, _) = collect(&input);
        assert_eq!(lines, [&b"first"[..], b"second", b"", b"third\0x"]);
    }

    #[test]
    fn empty_input_has_no_lines() {
        assert_eq!(collect(b"").0.len(), 0);
        assert_eq!(collect(b"\n").0, vec![Vec::<u8>::new()]);
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn for_each_line() {
        use crate::lines::for_each_line;
        let mut seen = Vec::new();
        for_each_line(&mut &b"a\r\nb\n\nc"[..], |n, l| seen.push((n, l.to_vec()))).unwrap();
        assert_eq!(
            seen,
            [
                (1, b"a".to_vec()),
                (2, b"b".to_vec()),
                (3, b"".to_vec()),
                (4, b"c".to_vec())
            ]
        );
    }
}

#[cfg(test)]
#[path = "lines_search_tests.rs"]
mod search_tests;
