//! Streaming byte lines: a reused buffer, memchr to find line ends, CRLF trimmed, NULs at a
//! line's start (a write lost in a crash) dropped, a last line without a terminator still
//! read, and lines longer than a cap cut rather than buffered. Compressed files are undone
//! before, by [`crate::decompress`].

use std::io::{self, Read};

/// The longest line handed to a parser; the rest of a longer line is skipped (counted).
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
    /// Lines read (a cut line counts once).
    pub lines: u64,
    /// Lines longer than [`MAX_LINE`], handed over cut to that length.
    pub long_lines: u64,
}

/// Calls `f(line_number, line)` for every line of `reader`, line numbers from 1, without the
/// line terminator (`\n` or `\r\n`). On an I/O error the lines before it have been handed over
/// and the error is returned with the number of the line where reading stopped.
pub fn for_each_line<F>(reader: &mut dyn Read, mut f: F) -> Result<LineStats, (io::Error, u64)>
where
    F: FnMut(u64, &[u8]),
{
    let mut stats = LineStats::default();
    let mut buf: Vec<u8> = vec![0; READ_SIZE];
    // buf[start..end] holds bytes not yet handed over.
    let mut start = 0usize;
    let mut end = 0usize;
    // While true, the current line was cut and its rest is being skipped.
    let mut skipping = false;
    let mut emit = |line: &[u8], stats: &mut LineStats| {
        stats.lines += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        // NULs where a crash lost a write: the text after them is the line.
        let line = match line.iter().position(|&b| b != 0) {
            Some(0) => line,
            Some(start) => &line[start..],
            None => &line[line.len()..],
        };
        f(stats.lines, line);
    };
    loop {
        // Hand over every complete line in the buffer.
        while let Some(pos) = memchr::memchr(b'\n', &buf[start..end]) {
            if skipping {
                skipping = false;
            } else {
                emit(&buf[start..start + pos], &mut stats);
            }
            start += pos + 1;
        }
        let pending = end - start;
        if !skipping && pending >= MAX_LINE {
            stats.long_lines += 1;
            emit(&buf[start..start + MAX_LINE], &mut stats);
            skipping = true;
        }
        if skipping {
            start = end;
        }
        // Make room: move the partial line to the front, grow if it fills the buffer.
        if start > 0 {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
        }
        if end == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = loop {
            match reader.read(&mut buf[end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err((e, stats.lines + 1)),
            }
        };
        if n == 0 {
            if end > start && !skipping {
                emit(&buf[start..end], &mut stats);
            }
            return Ok(stats);
        }
        end += n;
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
