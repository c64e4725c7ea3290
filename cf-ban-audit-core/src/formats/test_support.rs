//! Helpers shared by the unit tests of the format readers: a [`Sink`] that records all it is
//! given, and the [`ParseCtx`] and line feeding the tests read their literal inputs with.

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;

use super::{Format, IncludeError, ParseCtx, Sink, Verdict};
use crate::event::{BanEvent, Tool};

/// A [`Sink`] that keeps everything a parser reports, in order.
#[derive(Default)]
pub(crate) struct Collect {
    /// The events.
    pub events: Vec<BanEvent>,
    /// The malformed lines: (line number, message).
    pub malformed: Vec<(u64, String)>,
    /// The remarks about the input as a whole.
    pub notes: Vec<String>,
    /// The set uses: (set name, verdict).
    pub uses: Vec<(String, Verdict)>,
    /// The lists of sets and the sets they hold: (list, member).
    pub members: Vec<(String, String)>,
    /// What could not be read whole: (line number, message).
    pub cuts: Vec<(u64, String)>,
    /// The access log records: (line number, client, status).
    pub access: Vec<(u64, std::net::IpAddr, u16)>,
    /// The tool whose whole list of bans in force the input said it is.
    pub whole_list: Option<Tool>,
    /// The files included so far, opened as the scanner opens them.
    includes: crate::open::Includes,
}

impl Collect {
    /// The line numbers of the malformed lines, in order.
    pub(crate) fn malformed_lines(&self) -> Vec<u64> {
        self.malformed.iter().map(|m| m.0).collect()
    }
}

impl Sink for Collect {
    fn event(&mut self, event: BanEvent) {
        self.events.push(event);
    }
    fn malformed(&mut self, line: u64, message: String) {
        self.malformed.push((line, message));
    }
    fn set_use(&mut self, set: &str, verdict: Verdict) {
        self.uses.push((set.to_string(), verdict));
    }
    fn set_member(&mut self, list: &str, member: &str) {
        self.members.push((list.to_string(), member.to_string()));
    }
    fn note(&mut self, text: String) {
        self.notes.push(text);
    }
    fn whole_list(&mut self, tool: Tool) {
        self.whole_list = Some(tool);
    }
    fn include(&mut self, from: &Path, target: &Path) -> Result<Vec<u8>, IncludeError> {
        self.includes.open(from, target)
    }
    fn cut(&mut self, line: u64, message: String) {
        self.cuts.push((line, message));
    }
    fn access_client(
        &mut self,
        _path: &Arc<Path>,
        line: u64,
        client: std::net::IpAddr,
        status: u16,
    ) {
        self.access.push((line, client, status));
    }
}

/// The context of an input named `name`, read (and last written) at 2026-11-24T12:00:00.
pub(crate) fn ctx(name: &str) -> ParseCtx {
    let now: NaiveDateTime = "2026-11-24T12:00:00".parse().unwrap();
    ParseCtx {
        path: Arc::from(Path::new(name)),
        reference: now,
        now,
    }
}

/// Reads `text`, split on '\n' into lines numbered from 1, with the line parser of `format`
/// for an input named `name` (see [`ctx`]), and returns what it reported. Panics when the
/// format is not read line by line.
pub(crate) fn run_lines(format: Format, name: &str, text: &str) -> Collect {
    let Some(mut p) = format.descriptor().and_then(|d| d.line_parser(&ctx(name))) else {
        panic!("{format} is not read line by line")
    };
    let mut sink = Collect::default();
    for (i, line) in text.split('\n').enumerate() {
        p.line(i as u64 + 1, line.as_bytes(), &mut sink);
    }
    p.finish(&mut sink);
    sink
}

/// Reads `input` with `parser` as the scanner does for a format whose long lines are read as
/// `long` says: lines, pieces of long lines, lines cut at their limit (each cut also reported
/// to the sink, as the scanner reports it).
pub(crate) fn feed_as(
    parser: &mut dyn super::LineParser,
    long: super::LongLines,
    input: &[u8],
    sink: &mut Collect,
) {
    use crate::lines::{read_lines, LineChunk};
    read_lines(&mut &input[..], long, |n, chunk| match chunk {
        LineChunk::Line(line) => parser.line(n, line, sink),
        LineChunk::Piece(piece, part) => parser.piece(n, piece, part, sink),
        LineChunk::Cut(line) => {
            parser.line(n, line, sink);
            sink.cut(n, "cut".into());
        }
        LineChunk::Lines(_) => unreachable!("read_lines hands no runs of lines"),
        LineChunk::PiecesCut => sink.cut(n, "cut".into()),
    })
    .unwrap();
    parser.finish(sink);
}

/// Reads `input` with `parser` as the scanner does for a parser that [reads
/// blocks](super::LineParser::reads_blocks): the whole lines of each read of at most `step`
/// bytes at once, the rest as [`feed_as`] hands it. An entry on a network `counted` holds is
/// only counted, as the scan counts an entry outside its ranges; returns how many were.
pub(crate) fn feed_blocks(
    parser: &mut dyn super::LineParser,
    long: super::LongLines,
    input: &[u8],
    step: usize,
    counted: fn(&ipnet::IpNet) -> bool,
    sink: &mut Collect,
) -> u64 {
    use crate::lines::{search_lines, LineChunk, Walk};
    /// A reader of at most `step` bytes a read, so that lines straddle reads.
    struct Steps<'a>(&'a [u8], usize);
    impl std::io::Read for Steps<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    /// The block sink of the test: counts what `counted` holds, collects the rest.
    struct Blocks<'a> {
        sink: &'a mut Collect,
        counted: fn(&ipnet::IpNet) -> bool,
        count: u64,
    }
    impl super::BlockSink for Blocks<'_> {
        fn count_entry(&mut self, net: &ipnet::IpNet, _tool: Tool) -> bool {
            let only = (self.counted)(net);
            self.count += u64::from(only);
            only
        }
        fn line(&mut self, _lineno: u64, _line: &[u8], read: &mut dyn FnMut(&mut dyn Sink)) {
            read(self.sink)
        }
    }
    let mut blocks = Blocks {
        sink,
        counted,
        count: 0,
    };
    search_lines(
        &mut Steps(input, step),
        long,
        Walk::Blocks,
        |n, chunk| match chunk {
            LineChunk::Lines(block) => parser.block(n, block, &mut blocks),
            LineChunk::Line(line) => parser.line(n, line, blocks.sink),
            LineChunk::Piece(piece, part) => parser.piece(n, piece, part, blocks.sink),
            LineChunk::Cut(line) => {
                parser.line(n, line, blocks.sink);
                blocks.sink.cut(n, "cut".into());
            }
            LineChunk::PiecesCut => blocks.sink.cut(n, "cut".into()),
        },
    )
    .unwrap();
    parser.finish(blocks.sink);
    blocks.count
}

/// (address, tool, scope) of each event, in order: what most readers' tests compare.
pub(crate) fn addr_tool_scope(c: &Collect) -> Vec<(String, Tool, String)> {
    c.events
        .iter()
        .map(|e| (e.net.addr().to_string(), e.tool, e.scope.clone()))
        .collect()
}

/// A small deterministic generator (xorshift), for tests that walk generated inputs: a failure
/// can be replayed from its seed.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// The next 64 bits.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
