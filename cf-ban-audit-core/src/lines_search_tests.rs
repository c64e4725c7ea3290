//! [`search_lines`] against [`read_lines`] with the same words checked line by line: the same
//! lines reach the parser, with the same numbers, and the same counts, whatever the input's
//! line ends, NULs, long lines and read sizes.

use super::*;

/// What a walk handed over, owned.
#[derive(Debug, PartialEq, Eq)]
enum Handed {
    Line(u64, Vec<u8>),
    Cut(u64, Vec<u8>),
}

/// A reader that returns at most `step` bytes a read, so that lines straddle reads.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

const WORDS: &[&str] = &["limiting ", "access forbidden", "Ban"];

/// The lines a parser checking `WORDS` itself reads, walking every line.
fn line_by_line(input: &[u8], limit: usize, step: usize) -> (Vec<Handed>, LineStats) {
    let words = Prefilter::new(WORDS);
    let mut out = Vec::new();
    let mut reader = Trickle { data: input, step };
    let stats = read_lines(
        &mut reader,
        LongLines::Limit(limit),
        |n, chunk| match chunk {
            LineChunk::Line(l) if words.matches(l) => out.push(Handed::Line(n, l.to_vec())),
            LineChunk::Line(_) => {}
            LineChunk::Cut(l) => out.push(Handed::Cut(n, l.to_vec())),
            other => panic!("{other:?}"),
        },
    )
    .unwrap();
    (out, stats)
}

/// The lines the buffer search hands over that hold a word (a dense stretch is read in runs
/// of lines, every line handed), and every cut line.
fn searched(input: &[u8], limit: usize, step: usize) -> (Vec<Handed>, LineStats) {
    let words = Prefilter::new(WORDS);
    let keep = Prefilter::new(WORDS);
    let mut out = Vec::new();
    let mut reader = Trickle { data: input, step };
    let stats = search_lines(
        &mut reader,
        LongLines::Limit(limit),
        Walk::Search(&words),
        |n, chunk| match chunk {
            LineChunk::Line(l) if keep.matches(l) => out.push(Handed::Line(n, l.to_vec())),
            LineChunk::Line(_) => {}
            LineChunk::Lines(block) => out.extend(
                block_lines(n, block)
                    .filter(|(_, l)| keep.matches(l))
                    .map(|(n, l)| Handed::Line(n, l.to_vec())),
            ),
            LineChunk::Cut(l) => out.push(Handed::Cut(n, l.to_vec())),
            other => panic!("{other:?}"),
        },
    )
    .unwrap();
    (out, stats)
}

use crate::formats::test_support::Rng;

/// Lines of every kind: empty, plain, holding a word (at the start, the end, past the
/// limit), CRLF, leading NULs, long ones with and without a word, a last line with no end.
fn input(rng: &mut Rng, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(60) {
        let mut line = Vec::new();
        if rng.below(8) == 0 {
            line.extend_from_slice(b"\0\0");
        }
        let filler = rng.below(limit * 2 + 2);
        for i in 0..filler {
            line.push(if i % 7 == 6 {
                b' '
            } else {
                b'a' + (i % 26) as u8
            });
        }
        match rng.below(6) {
            0 => line.splice(0..0, b"Ban ".iter().copied()).for_each(drop),
            1 => line.extend_from_slice(b" limiting requests"),
            2 => {
                let at = rng.below(line.len() + 1);
                line.splice(at..at, b"access forbidden".iter().copied())
                    .for_each(drop);
            }
            _ => {}
        }
        out.extend_from_slice(&line);
        if rng.below(5) == 0 {
            out.push(b'\r');
        }
        out.push(b'\n');
    }
    match rng.below(3) {
        0 => out.extend_from_slice(b"Ban at the end, no line feed"),
        1 => out.extend_from_slice(b"no word at the end\r"),
        _ => {}
    }
    out
}

/// What [`line_by_line`] should give, from the input split at its line feeds: each line
/// without a `\r` before its end and the NULs before its start, cut after its last separator
/// within the limit when longer, and kept when it holds a word or was cut.
fn model(input: &[u8], limit: usize) -> (Vec<Handed>, LineStats) {
    let words = Prefilter::new(WORDS);
    let mut out = Vec::new();
    let mut stats = LineStats::default();
    if input.is_empty() {
        return (out, stats);
    }
    let body = input.strip_suffix(b"\n").unwrap_or(input);
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        let n = i as u64 + 1;
        stats.lines = n;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > limit {
            stats.long_lines += 1;
            let head = strip_nuls(&line[..limit]);
            out.push(Handed::Cut(n, head[..cut_point(head)].to_vec()));
        } else if words.matches(strip_nuls(line)) {
            out.push(Handed::Line(n, strip_nuls(line).to_vec()));
        }
    }
    (out, stats)
}

#[test]
fn the_buffer_search_hands_what_a_line_by_line_reader_keeps() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..400 {
        let limit = [8, 20, 64, 300][round % 4];
        let data = input(&mut rng, limit);
        let expected = model(&data, limit);
        for step in [1, 3, 17, 4096, usize::MAX] {
            let walked = line_by_line(&data, limit, step);
            assert_eq!(
                walked,
                expected,
                "round {round}, limit {limit}, step {step}, the model: {:?}",
                String::from_utf8_lossy(&data)
            );
            assert_eq!(
                searched(&data, limit, step),
                walked,
                "round {round}, limit {limit}, step {step}: {:?}",
                String::from_utf8_lossy(&data)
            );
        }
    }
}

#[test]
fn a_dense_stretch_is_read_line_by_line_then_searched_again() {
    // Dense: every line holds a word for a stretch, then a sparse tail.
    let mut data = Vec::new();
    for i in 0..40_000 {
        data.extend_from_slice(format!("{i} Ban 192.0.2.1\n").as_bytes());
    }
    for i in 0..200_000 {
        let word = if i % 1000 == 0 { "limiting " } else { "quiet" };
        data.extend_from_slice(format!("{i} {word} line\n").as_bytes());
    }
    for step in [4096, usize::MAX] {
        let (a, sa) = searched(&data, MAX_LINE, step);
        let (b, sb) = line_by_line(&data, MAX_LINE, step);
        assert_eq!(sa, sb);
        assert_eq!(a.len(), 40_000 + 200);
        assert!(a == b);
    }
    // Every line of the dense stretch reaches the callback, in runs of lines; the sparse
    // tail's quiet lines do not, once it is searched again.
    let words = Prefilter::new(WORDS);
    let (mut handed, mut runs) = (0u64, 0);
    search_lines(
        &mut &data[..],
        LongLines::Limit(MAX_LINE),
        Walk::Search(&words),
        |n, chunk| match chunk {
            LineChunk::Lines(block) => {
                runs += 1;
                handed += block_lines(n, block).count() as u64;
            }
            _ => handed += 1,
        },
    )
    .unwrap();
    assert!(
        (40_000..120_000).contains(&handed) && runs > 0,
        "{handed} {runs}"
    );
}

#[test]
fn lines_without_a_word_are_counted_not_handed() {
    let data = b"one\ntwo Ban x\r\nthree\n\0\0limiting z\nfour";
    let (handed, stats) = searched(data, MAX_LINE, usize::MAX);
    assert_eq!(
        handed,
        [
            Handed::Line(2, b"two Ban x".to_vec()),
            Handed::Line(4, b"limiting z".to_vec()),
        ]
    );
    assert_eq!(stats.lines, 5);
    assert_eq!(stats.long_lines, 0);
}

#[test]
fn a_long_line_is_handed_cut_with_or_without_a_word() {
    let data = b"short\nabcdefgh ijklmnop qrstuvwx\nBan abcdefgh ijklmnop\n";
    let (handed, stats) = searched(data, 12, usize::MAX);
    assert_eq!(
        handed,
        [
            Handed::Cut(2, b"abcdefgh ".to_vec()),
            Handed::Cut(3, b"Ban ".to_vec()),
        ]
    );
    assert_eq!(stats.long_lines, 2);
}

/// What a walk handed over, as (line number, kind, bytes), and its counts.
type Walked = (Vec<(u64, String, Vec<u8>)>, LineStats);

/// What [`Walk::Blocks`] hands over, each run of lines split into its lines as
/// [`block_lines`] gives them.
fn in_blocks(input: &[u8], long: LongLines, step: usize) -> Walked {
    let mut out = Vec::new();
    let mut runs = 0;
    let mut reader = Trickle { data: input, step };
    let stats = search_lines(&mut reader, long, Walk::Blocks, |n, chunk| match chunk {
        LineChunk::Lines(block) => {
            assert!(
                block.ends_with(b"\n"),
                "a run ends with its last line's end"
            );
            runs += 1;
            out.extend(block_lines(n, block).map(|(n, l)| (n, "line".into(), l.to_vec())));
        }
        other => out.push((n, kind(other), chunk_bytes(other))),
    })
    .unwrap();
    assert!(
        input.len() < 4 * READ_SIZE || runs > 0,
        "large inputs are read in runs"
    );
    (out, stats)
}

/// What [`read_lines`] hands over, in the form of [`in_blocks`].
fn one_by_one(input: &[u8], long: LongLines, step: usize) -> Walked {
    let mut out = Vec::new();
    let mut reader = Trickle { data: input, step };
    let stats = read_lines(&mut reader, long, |n, chunk| {
        out.push((n, kind(chunk), chunk_bytes(chunk)))
    })
    .unwrap();
    (out, stats)
}

fn kind(chunk: LineChunk<'_>) -> String {
    match chunk {
        LineChunk::Line(_) => "line".into(),
        other => format!("{other:?}").chars().take(5).collect(),
    }
}

fn chunk_bytes(chunk: LineChunk<'_>) -> Vec<u8> {
    match chunk {
        LineChunk::Line(l) | LineChunk::Cut(l) | LineChunk::Piece(l, _) | LineChunk::Lines(l) => {
            l.to_vec()
        }
        LineChunk::PiecesCut => Vec::new(),
    }
}

/// The lines read in runs ([`Walk::Blocks`]) are the lines read one by one, with the same
/// numbers and counts, whatever the line ends, NULs, long lines and read sizes.
#[test]
fn runs_of_lines_are_the_lines_read_one_by_one() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    for round in 0..400 {
        let limit = [8, 20, 64, 300][round % 4];
        let data = input(&mut rng, limit);
        for long in [LongLines::Limit(limit), LongLines::Pieces(limit)] {
            for step in [1, 3, 17, 4096, usize::MAX] {
                assert_eq!(
                    in_blocks(&data, long, step),
                    one_by_one(&data, long, step),
                    "round {round}, {long:?}, step {step}: {:?}",
                    String::from_utf8_lossy(&data)
                );
            }
        }
    }
    // Larger than a read, with a line longer than a piece among short ones.
    let mut data = Vec::new();
    for i in 0..300_000 {
        data.extend_from_slice(format!("192.0.2.{}\r\n", i % 256).as_bytes());
        if i == 150_000 {
            data.extend_from_slice(&b"198.51.100.1 ".repeat(MAX_LINE / 8));
            data.push(b'\n');
        }
    }
    for step in [4096, usize::MAX] {
        let long = LongLines::Pieces(usize::MAX);
        let (a, sa) = in_blocks(&data, long, step);
        assert_eq!(sa.lines, 300_001);
        assert!((a, sa) == one_by_one(&data, long, step));
    }
}
