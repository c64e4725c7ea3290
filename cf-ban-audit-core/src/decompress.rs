//! Decompression of the files the scanner reads, under one policy:
//!
//! - gzip, xz, zstd and bzip2 are told by their magic bytes, never by a file's name, and undone
//!   as many times as they were applied, up to [`MAX_DEPTH`] (`fail2ban.log.6.gz.gz`: a
//!   rotation that logrotate's `compresscmd` compressed once more).
//! - Streamed: each decoder reads as the lines are handed over; no file is ever held whole.
//! - Streams one after another (gzip members, xz streams, zstd frames, bzip2 streams: `pigz`,
//!   `pbzip2`, `cat a.gz b.gz`) are all read. Zero bytes after the data (a file padded to a
//!   block, or preallocated) are ignored, as `gzip -d` and `xz -d` ignore them. Anything else
//!   after the data is an error: it may be a damaged stream whose lines would be lost (`gzip -d`
//!   and `bzip2 -d` skip it with a warning, `xz -d` and `zstd -d` fail).
//! - Damage (a cut or corrupt file) is an error that says where the data broke, returned only
//!   after every byte decoded before it: the lines before the damage are read, as far as each
//!   compression hands them over (gzip to the byte; zstd, bzip2 and xz a whole block or chunk at
//!   a time: 128 KiB, 900 kB, and an LZMA2 chunk of up to 2 MiB of text).
//! - Bounded: the decompressed size of a file is capped at the larger of [`MIN_EXPANSION_CAP`]
//!   and [`MAX_EXPANSION_RATIO`] times its size (a decompression bomb ends with an error), and
//!   each decoder's memory is capped ([`XZ_MEMORY_LIMIT`], [`ZSTD_WINDOW_LOG_MAX`]).
//!
//! Decoders, all streaming: gzip by `flate2` on `zlib-rs`, xz by `lzma-rust2`, bzip2 by `bzip2`
//! on `libbz2-rs-sys` (pure Rust ports of zlib, XZ for Java and libbzip2), zstd by `zstd`
//! (libzstd itself, built from the source the crate bundles).

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The least a compressed file may expand to before the scanner calls it a bomb.
pub const MIN_EXPANSION_CAP: u64 = 1 << 30;

/// How many times its size a compressed file may expand to. Real logs: 10x to 20x, a few
/// hundred times when their lines repeat (xz, zstd). The time spent on a bomb is that of a
/// plain file at most 1000 times its size (or 1 GiB); gzip cannot pass 1032x anyway, but xz,
/// zstd and bzip2 expand zeros thousands to millions of times.
pub const MAX_EXPANSION_RATIO: u64 = 1000;

/// How many compressions of one file are undone (`.gz.gz` is two); a file compressed more
/// times over is an error.
pub const MAX_DEPTH: usize = 4;

/// The most memory an xz stream may ask for (its dictionary): `xz -9` needs 65 MiB.
pub const XZ_MEMORY_LIMIT: u64 = 128 << 20;

/// The largest zstd window accepted, as a power of two: 128 MiB, `zstd -d`'s own default
/// limit (`--ultra -22`; a frame made with `--long=31` is refused as `zstd -d` refuses it).
pub const ZSTD_WINDOW_LOG_MAX: u32 = 27;

/// The size of each read from a layer's input.
const READ_SIZE: usize = 256 * 1024;

/// A read of at least this many bytes, with nothing buffered, bypasses the buffer.
const DIRECT_READ: usize = 16 * 1024;

/// How many bytes tell a compression (bzip2: `BZh`, a level, a block's magic).
const MAGIC_LEN: usize = 10;

/// A compression the scanner undoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// gzip (RFC 1952), one or more members.
    Gzip,
    /// xz, one or more streams.
    Xz,
    /// Zstandard, one or more frames (skippable frames included).
    Zstd,
    /// bzip2, one or more streams.
    Bzip2,
}

impl Compression {
    /// Every compression, in the order their suffixes are tried.
    pub const ALL: [Compression; 4] = [
        Compression::Gzip,
        Compression::Xz,
        Compression::Zstd,
        Compression::Bzip2,
    ];

    /// The compression whose magic bytes `head` starts with: gzip `1f 8b`, xz `fd 37 7a 58 5a
    /// 00`, zstd `28 b5 2f fd` (or a skippable frame's `5? 2a 4d 18`), bzip2 `BZh1`..`BZh9`
    /// followed by a block's magic (or the end of an empty stream).
    pub fn of(head: &[u8]) -> Option<Compression> {
        const BZIP2_BLOCK: [u8; 6] = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
        const BZIP2_END: [u8; 6] = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
        match head {
            [0x1f, 0x8b, ..] => Some(Compression::Gzip),
            [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Some(Compression::Xz),
            [0x28, 0xb5, 0x2f, 0xfd, ..] | [0x50..=0x5f, 0x2a, 0x4d, 0x18, ..] => {
                Some(Compression::Zstd)
            }
            [b'B', b'Z', b'h', b'1'..=b'9', rest @ ..]
                if rest.starts_with(&BZIP2_BLOCK) || rest.starts_with(&BZIP2_END) =>
            {
                Some(Compression::Bzip2)
            }
            _ => None,
        }
    }

    /// Its name, as its program is called.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
        }
    }

    /// The suffix its program gives a file.
    pub fn suffix(self) -> &'static str {
        match self {
            Compression::Gzip => ".gz",
            Compression::Xz => ".xz",
            Compression::Zstd => ".zst",
            Compression::Bzip2 => ".bz2",
        }
    }
}

/// A file name without its compression suffixes: `fail2ban.log.6.gz.gz` is `fail2ban.log.6`,
/// `fail2ban.log.3.xz` is `fail2ban.log.3` (at most [`MAX_DEPTH`] of them).
pub fn strip_suffixes(name: &str) -> &str {
    let mut name = name;
    for _ in 0..MAX_DEPTH {
        match Compression::ALL
            .iter()
            .find_map(|c| name.strip_suffix(c.suffix()))
        {
            Some(shorter) => name = shorter,
            None => break,
        }
    }
    name
}

/// A file opened for reading, its compressions undone.
pub struct Opened {
    /// The decompressed bytes (the file's own when it is not compressed).
    pub reader: Box<dyn Read + Send>,
    /// The compressions undone, outermost first: empty for a file that is not compressed.
    pub layers: Vec<Compression>,
}

/// Opens a file as a stream of bytes, undoing its compressions (see the [module
/// documentation](self)); what they expand to is capped at `cap(its size)`
/// ([`expansion_cap`]). Only opening can fail here; a damaged file fails as it is read, after
/// the bytes before the damage.
pub fn open(path: &Path, cap: fn(u64) -> u64) -> io::Result<Opened> {
    let file = File::open(path)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok(decompress(Box::new(file), size, cap(size)))
}

/// The most a file of `size` bytes may expand to: `max(1 GiB, 1000 x size)`.
pub fn expansion_cap(size: u64) -> u64 {
    MIN_EXPANSION_CAP.max(size.saturating_mul(MAX_EXPANSION_RATIO))
}

/// Undoes every compression of `input` (a file of `size` bytes), its output capped at `cap`
/// bytes (when it is compressed).
pub fn decompress(input: Box<dyn Read + Send>, size: u64, cap: u64) -> Opened {
    let file = Arc::new(AtomicU64::new(0));
    let mut input = Input::new(input, file.clone());
    let mut layers: Vec<Compression> = Vec::new();
    while let Some(compression) = Compression::of(input.fill_at_least(MAGIC_LEN)) {
        if layers.len() == MAX_DEPTH {
            let mut nest: Vec<&str> = layers.iter().rev().map(|c| c.name()).collect();
            nest.insert(0, compression.name());
            let message = format!(
                "compressed more than {MAX_DEPTH} times over ({}): not read",
                nest.join(" in ")
            );
            let reader = Failing(Some(broken(io::ErrorKind::InvalidData, message)));
            return Opened {
                reader: Box::new(reader),
                layers,
            };
        }
        let place = Place {
            compression,
            within: layers.last().copied(),
            file: file.clone(),
            size,
        };
        let layer = Layer::new(place, input);
        layers.push(compression);
        input = Input::new(Box::new(layer), Arc::new(AtomicU64::new(0)));
    }
    if layers.is_empty() {
        return Opened {
            reader: Box::new(input),
            layers,
        };
    }
    let reader = Capped {
        inner: input,
        left: cap,
        cap,
    };
    Opened {
        reader: Box::new(reader),
        layers,
    }
}

/// Reads up to `max` bytes; an error stops the read and is returned beside the bytes before it.
pub fn read_head(reader: &mut dyn Read, max: usize) -> (Vec<u8>, Option<io::Error>) {
    let mut head = vec![0u8; max];
    let mut filled = 0;
    let mut error = None;
    while filled < max {
        match reader.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    head.truncate(filled);
    (head, error)
}

/// A reader that fails with its error once, then ends.
pub struct Failing(pub Option<io::Error>);

impl Read for Failing {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// What a layer's own errors carry, so that the layers above pass them on unchanged.
#[derive(Debug)]
struct Broken(String);

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Broken {}

/// An error of a layer, already saying where.
fn broken(kind: io::ErrorKind, message: String) -> io::Error {
    io::Error::new(kind, Broken(message))
}

/// Whether an error was made by a layer (and says where already).
fn is_broken(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Broken>())
}

/// The buffered input of a layer (or the end reader): hands over the bytes read, then the
/// error that stopped a read ahead, and counts the bytes consumed.
struct Input {
    inner: Box<dyn Read + Send>,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// An error met reading ahead, handed over after the bytes before it.
    pending: Option<io::Error>,
    /// Bytes consumed from this input.
    consumed: Arc<AtomicU64>,
}

impl Input {
    fn new(inner: Box<dyn Read + Send>, consumed: Arc<AtomicU64>) -> Input {
        Input {
            inner,
            buf: vec![0; READ_SIZE],
            pos: 0,
            end: 0,
            pending: None,
            consumed,
        }
    }

    /// The bytes buffered, at least `n` of them unless the input ends (or fails: the error is
    /// kept for later) first.
    fn fill_at_least(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.buf.len());
        if self.end - self.pos < n && self.pending.is_none() {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
            while self.end < n {
                match self.inner.read(&mut self.buf[self.end..]) {
                    Ok(0) => break,
                    Ok(read) => self.end += read,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.pending = Some(e);
                        break;
                    }
                }
            }
        }
        &self.buf[self.pos..self.end]
    }
}

impl BufRead for Input {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.end {
            if let Some(e) = self.pending.take() {
                return Err(e);
            }
            self.pos = 0;
            self.end = loop {
                match self.inner.read(&mut self.buf) {
                    Ok(read) => break read,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
        }
        Ok(&self.buf[self.pos..self.end])
    }

    fn consume(&mut self, amount: usize) {
        let amount = amount.min(self.end - self.pos);
        self.pos += amount;
        self.consumed.fetch_add(amount as u64, Ordering::Relaxed);
    }
}

impl Read for Input {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // A large read, with nothing buffered, goes straight through: the line walk asks for
        // what is left of its own buffer after a partial line, a little less than ours, and
        // going through ours would copy every byte twice.
        if self.pos == self.end && self.pending.is_none() && out.len() >= DIRECT_READ {
            let n = self.inner.read(out)?;
            self.consumed.fetch_add(n as u64, Ordering::Relaxed);
            return Ok(n);
        }
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// Where a layer's data is, for its errors.
struct Place {
    compression: Compression,
    /// The compression this layer's data is inside (none: the file's own bytes).
    within: Option<Compression>,
    /// Bytes of the file consumed by the outermost layer.
    file: Arc<AtomicU64>,
    /// The file's size.
    size: u64,
}

impl Place {
    /// "the xz data" or "the gzip data inside the gzip data".
    fn what(&self) -> String {
        match self.within {
            None => format!("the {} data", self.compression.name()),
            Some(outer) => format!(
                "the {} data inside the {} data",
                self.compression.name(),
                outer.name()
            ),
        }
    }

    /// "byte 57 of 130" or "its byte 5000 (byte 57 of 130 of the file)".
    fn at(&self, consumed: u64) -> String {
        let file = self.file.load(Ordering::Relaxed);
        match self.within {
            None => format!("byte {file} of {}", self.size),
            Some(_) => format!(
                "its byte {consumed} (byte {file} of {} of the file)",
                self.size
            ),
        }
    }

    /// The error a decoder met, said with where it broke.
    fn describe(&self, e: io::Error, consumed: u64) -> io::Error {
        if is_broken(&e) {
            return e;
        }
        // Every decoder says UnexpectedEof when its input ends inside the data.
        let how = if e.raw_os_error().is_some() {
            "could not be read at"
        } else if e.kind() == io::ErrorKind::UnexpectedEof {
            "is cut short at"
        } else if e.kind() == io::ErrorKind::OutOfMemory || e.to_string().contains("memory") {
            "needs more memory than allowed to decompress, at"
        } else {
            "is damaged at"
        };
        let message = format!("{} {how} {}: {e}", self.what(), self.at(consumed));
        broken(e.kind(), message)
    }

    /// The error for bytes after the data that are neither zeros nor more of it.
    fn trailing(&self, consumed: u64) -> io::Error {
        let name = self.compression.name();
        let program = match self.compression {
            Compression::Gzip => "gzip -d warns \"trailing garbage ignored\"".to_string(),
            Compression::Bzip2 => "bzip2 -d warns \"trailing garbage after EOF ignored\"".into(),
            Compression::Xz | Compression::Zstd => format!("{name} -d fails there too"),
        };
        let message = format!(
            "{} ends at {} and what follows is not {name} data: not read ({program})",
            self.what(),
            self.at(consumed)
        );
        broken(io::ErrorKind::InvalidData, message)
    }
}

/// One running decoder, reading one stream from its input.
enum Decoder {
    Gzip(Box<flate2::bufread::GzDecoder<Input>>),
    Xz(Box<lzma_rust2::XzReader<Input>>),
    Zstd(zstd::stream::read::Decoder<'static, Input>),
    Bzip2(bzip2::bufread::BzDecoder<Input>),
}

impl Decoder {
    /// A decoder of one stream of `compression` at the start of `input`.
    fn new(compression: Compression, input: Input) -> Result<Decoder, (Input, io::Error)> {
        Ok(match compression {
            Compression::Gzip => Decoder::Gzip(Box::new(flate2::bufread::GzDecoder::new(input))),
            Compression::Xz => {
                let limit = u32::try_from(XZ_MEMORY_LIMIT >> 10).unwrap_or(u32::MAX);
                let reader = lzma_rust2::XzReader::new_mem_limit(input, false, limit);
                Decoder::Xz(Box::new(reader))
            }
            Compression::Zstd => {
                let mut decoder = zstd::stream::read::Decoder::try_with_buffer(input)?;
                if let Err(e) = decoder.window_log_max(ZSTD_WINDOW_LOG_MAX) {
                    return Err((decoder.finish(), e));
                }
                Decoder::Zstd(decoder.single_frame())
            }
            Compression::Bzip2 => Decoder::Bzip2(bzip2::bufread::BzDecoder::new(input)),
        })
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Xz(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
            Decoder::Bzip2(d) => d.read(buf),
        }
    }

    /// The input, positioned right after the stream.
    fn into_input(self) -> Input {
        match self {
            Decoder::Gzip(d) => d.into_inner(),
            Decoder::Xz(d) => d.into_inner(),
            Decoder::Zstd(d) => d.finish(),
            Decoder::Bzip2(d) => d.into_inner(),
        }
    }
}

/// Where a layer is in its input.
enum State {
    /// Reading a stream; `started` is how much of the input was consumed when it began.
    Decoding { decoder: Decoder, started: u64 },
    /// Between two streams (or before the first).
    Between(Input),
    /// Past the last stream.
    Done,
    /// Failed: every read fails so.
    Failed(io::ErrorKind, String),
}

/// One compression undone: its streams one after another, decoded.
struct Layer {
    place: Place,
    state: State,
    /// Bytes of this layer's input consumed.
    consumed: Arc<AtomicU64>,
}

impl Layer {
    fn new(place: Place, input: Input) -> Layer {
        Layer {
            place,
            consumed: input.consumed.clone(),
            state: State::Between(input),
        }
    }

    /// Fails for good with `e` (the layers above hand it on).
    fn fail(&mut self, e: io::Error) -> io::Error {
        let message = e.to_string();
        self.state = State::Failed(e.kind(), message);
        e
    }

    /// From between streams: the next stream's decoder and where it starts, or the end.
    fn next(&self, mut input: Input) -> io::Result<Option<(Decoder, u64)>> {
        // Zeros after a stream: padding, ignored as gzip ignores it (and xz's stream padding).
        loop {
            let buf = match input.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.place.describe(e, self.consumed())),
            };
            if buf.is_empty() {
                return Ok(None);
            }
            let zeros = buf.iter().take_while(|&&b| b == 0).count();
            if zeros == 0 {
                break;
            }
            input.consume(zeros);
        }
        if Compression::of(input.fill_at_least(MAGIC_LEN)) != Some(self.place.compression) {
            return Err(self.place.trailing(self.consumed()));
        }
        let started = self.consumed();
        match Decoder::new(self.place.compression, input) {
            Ok(decoder) => Ok(Some((decoder, started))),
            Err((_, e)) => Err(self.place.describe(e, started)),
        }
    }

    fn consumed(&self) -> u64 {
        self.consumed.load(Ordering::Relaxed)
    }
}

impl Read for Layer {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Done => return Ok(0),
                State::Failed(kind, message) => {
                    self.state = State::Failed(kind, message.clone());
                    return Err(broken(kind, message));
                }
                State::Between(input) => match self.next(input) {
                    Ok(Some((decoder, started))) => {
                        self.state = State::Decoding { decoder, started };
                    }
                    Ok(None) => return Ok(0),
                    Err(e) => return Err(self.fail(e)),
                },
                State::Decoding {
                    mut decoder,
                    started,
                } => match decoder.read(buf) {
                    Ok(0) if self.consumed() == started => {
                        // A decoder that ends without reading a byte would loop for ever.
                        let e = io::Error::new(io::ErrorKind::InvalidData, "no progress");
                        let e = self.place.describe(e, started);
                        return Err(self.fail(e));
                    }
                    Ok(0) => self.state = State::Between(decoder.into_input()),
                    Ok(n) => {
                        self.state = State::Decoding { decoder, started };
                        return Ok(n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                        self.state = State::Decoding { decoder, started };
                        return Err(e);
                    }
                    Err(e) => {
                        let e = self.place.describe(e, self.consumed());
                        return Err(self.fail(e));
                    }
                },
            }
        }
    }
}

/// A reader that fails once more than `cap` bytes have come out of it.
struct Capped<R> {
    inner: R,
    left: u64,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            return Err(self.exceeded());
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        // Hand over what fits; the next read past the cap fails.
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

impl<R> Capped<R> {
    fn exceeded(&self) -> io::Error {
        let cap = if self.cap >= 1 << 20 {
            format!("{} MiB", self.cap >> 20)
        } else {
            format!("{} bytes", self.cap)
        };
        broken(
            io::ErrorKind::InvalidData,
            format!(
                "the decompressed data passes {cap}, the most this file may expand to: not read \
                 further (a decompression bomb?)"
            ),
        )
    }
}

#[cfg(test)]
#[path = "decompress_tests.rs"]
mod tests;
