//! Hostile and broken input (issue 7), through the library only.
//!
//! 1. Property tests (proptest, on stable: shrinking and generators without a stored corpus):
//!    [`RangeSet`] against a naive oracle; every format parser and `detect` on arbitrary bytes
//!    and on mutated real lines from `fixtures/` and the shared corpus; `snippet` then `check`
//!    reports full coverage; `--existing` merges are idempotent.
//! 2. A bad-input matrix: each row a temp tree holding one hostile thing beside a good
//!    fail2ban.log whose Cloudflare ban must still be found, the broken file named in exactly the
//!    errors it should be, every file byte-for-byte unchanged and no new file in the tree.
//!
//! Bounded: the default case counts keep the file under a minute in debug on two cores;
//! `PROPTEST_CASES` overrides them. Memory is measured in a child process (the test binary run
//! again on one test) with the kernel's own accounting (VmHWM in /proc/self/status).

mod common;

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use cf_ban_audit_core::check::{check_text, ListKind};
use cf_ban_audit_core::formats::{self, detect, ParseCtx, Reader, Sink, Verdict};
use cf_ban_audit_core::snippet::Target;
use cf_ban_audit_core::Report;
use cf_ban_audit_core::{cloudflare, BanEvent, Format, RangeSet, Scanner};
use chrono::NaiveDateTime;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;
use proptest::sample::Index;

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// A proptest configuration with `default` cases unless `PROPTEST_CASES` says otherwise.
fn config(default: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = default;
    }
    c
}

fn now() -> NaiveDateTime {
    "2026-11-24T12:00:00".parse().unwrap()
}

/// A sink that keeps what parsers give it.
#[derive(Default)]
struct Recorder {
    events: Vec<BanEvent>,
    malformed: u64,
    set_uses: u64,
    notes: u64,
    /// The lines of the access log records reported.
    access_lines: Vec<u64>,
}

impl Sink for Recorder {
    fn event(&mut self, event: BanEvent) {
        self.events.push(event);
    }
    fn malformed(&mut self, _line: u64, _message: String) {
        self.malformed += 1;
    }
    fn set_use(&mut self, _set: &str, _verdict: Verdict) {
        self.set_uses += 1;
    }
    fn note(&mut self, _text: String) {
        self.notes += 1;
    }
    fn access_client(
        &mut self,
        _path: &Arc<Path>,
        line: u64,
        _client: std::net::IpAddr,
        _status: u16,
    ) {
        self.access_lines.push(line);
    }
}

/// The path a parser is told its input has: the format's usual place when it is a path.
fn usual_path(format: Format) -> PathBuf {
    format
        .descriptor()
        .map_or(&[][..], |d| d.paths())
        .iter()
        .find(|p| p.starts_with('/') && !p.contains('*') && !p.contains('<'))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/saved-output.txt"))
}

/// Feeds `bytes` to `format`'s parser: line by line for a line parser, through a temp file
/// for a file parser. Returns the sink and the number of lines fed, or the panic message.
fn run_parser(format: Format, bytes: &[u8], dir: &Path) -> Result<(Recorder, u64), String> {
    let path = usual_path(format);
    let ctx = ParseCtx {
        path: Arc::from(path.as_path()),
        reference: now(),
        now: now(),
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut sink = Recorder::default();
        let mut lines = 0u64;
        match format.descriptor().expect("a built-in format").reader() {
            Reader::Lines(make) => {
                let mut parser = make(&ctx);
                if !bytes.is_empty() {
                    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
                    for line in body.split(|&b| b == b'\n') {
                        lines += 1;
                        let line = line.strip_suffix(b"\r").unwrap_or(line);
                        parser.line(lines, line, &mut sink);
                    }
                }
                parser.finish(&mut sink);
            }
            Reader::Document { limit, read } => {
                // Ok or Err, both fine: only a panic is a failure.
                let _ = read(&bytes[..bytes.len().min(limit + 1)], &ctx, &mut sink);
            }
            Reader::Sqlite(read) => {
                let name = path.file_name().map(|n| n.to_owned()).unwrap_or_default();
                let file = dir.join(name);
                std::fs::write(&file, bytes).unwrap();
                let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
                // Ok or Err, both fine: only a panic is a failure.
                let _ = match rusqlite::Connection::open_with_flags(&file, flags) {
                    Ok(conn) => read(Ok(&conn), &ctx, &mut sink),
                    Err(e) => read(Err(e), &ctx, &mut sink),
                };
                std::fs::remove_file(&file).unwrap();
            }
            _ => unreachable!("every way of reading is fed above"),
        }
        (sink, lines)
    }));
    outcome.map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic".into())
    })
}

/// Real inputs to mutate: the lines of every fixture and of the shared corpus, by file, and the
/// SQLite files.
struct Seeds {
    files: Vec<(PathBuf, Vec<Vec<u8>>)>,
    databases: Vec<Vec<u8>>,
    names: Vec<String>,
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds = Seeds {
            files: Vec::new(),
            databases: Vec::new(),
            names: Vec::new(),
        };
        let mut roots = vec![common::fixtures()];
        // The shared corpus, read when present (never required here).
        let corpus = std::env::var_os("CF_BAN_AUDIT_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|| common::root().join("..").join("shared").join("corpus"));
        if corpus.is_dir() {
            roots.push(corpus);
        }
        for root in roots {
            for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
                let Ok(entry) = entry else { continue };
                if !entry.file_type().is_file() {
                    continue;
                }
                let path = entry.path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if name.ends_with("expected.json") {
                    continue;
                }
                let Ok(bytes) = std::fs::read(path) else {
                    continue;
                };
                if bytes.len() > 4 << 20 {
                    continue;
                }
                seeds.names.push(name);
                if bytes.starts_with(b"SQLite format 3\0") {
                    seeds.databases.push(bytes);
                    continue;
                }
                if bytes.starts_with(&[0x1f, 0x8b]) || bytes.is_empty() {
                    continue;
                }
                let lines: Vec<Vec<u8>> = bytes
                    .split(|&b| b == b'\n')
                    .map(|l| l[..l.len().min(8192)].to_vec())
                    .collect();
                seeds.files.push((path.to_path_buf(), lines));
            }
        }
        assert!(seeds.files.len() > 50, "too few seed files");
        assert!(!seeds.databases.is_empty(), "no SQLite fixture");
        seeds
    })
}

/// One change to a document.
#[derive(Debug, Clone)]
enum Mutation {
    Insert(Index, u8),
    Delete(Index, usize),
    Replace(Index, u8),
    /// Puts a line of another seed file at a place.
    Splice(Index, Index, Index),
    InvalidUtf8(Index),
    /// A long run of one token.
    HugeToken(Index, usize, usize),
    /// A Cloudflare address (or a near miss) at a place.
    Address(Index, usize),
    Truncate(Index),
    DuplicateTail(Index),
}

const TOKENS: &[&str] = &[
    "A",
    "1",
    ".",
    "[",
    "{",
    "\"",
    "\\",
    "104.16.0.1 ",
    "[client 104.16.0.1] ",
    "Ban 104.16.0.1 ",
    "2606:4700::",
    ":",
    "%",
    "\t",
    "\0",
    "\r",
    "\u{feff}",
    "\u{1f525}",
];

const ADDRESSES: &[&str] = &[
    "104.16.0.1",
    "172.64.155.20",
    "2606:4700::1",
    "::ffff:104.16.0.1",
    "104.16.0.0/12",
    "104.16.0.1/33",
    "104.16.0.256",
    "2606:4700::/0",
    "0.0.0.0/0",
    "::/0",
    "104.16.0.1-104.16.0.9",
    "104.16.0.9-104.16.0.1",
    "2606:4700:4400::6812:2a01:0",
    "[2606:4700::1]:443",
    "104.16.0.1:8080",
    "01.02.03.04",
    "4294967295",
    "1e400",
    "-1",
    "18446744073709551616",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        3 => (any::<Index>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        3 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        2 => (any::<Index>(), any::<Index>(), any::<Index>())
            .prop_map(|(at, f, l)| Mutation::Splice(at, f, l)),
        2 => any::<Index>().prop_map(Mutation::InvalidUtf8),
        1 => (any::<Index>(), 0..TOKENS.len(), 16usize..8192)
            .prop_map(|(i, t, n)| Mutation::HugeToken(i, t, n)),
        3 => (any::<Index>(), 0..ADDRESSES.len()).prop_map(|(i, a)| Mutation::Address(i, a)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => any::<Index>().prop_map(Mutation::DuplicateTail),
    ]
}

fn apply(doc: &mut Vec<u8>, m: &Mutation) {
    let at = |i: &Index, doc: &Vec<u8>| i.index(doc.len() + 1);
    match m {
        Mutation::Insert(i, b) => {
            let p = at(i, doc);
            doc.insert(p, *b);
        }
        Mutation::Delete(i, n) => {
            let p = at(i, doc);
            let end = (p + n).min(doc.len());
            doc.drain(p..end);
        }
        Mutation::Replace(i, b) => {
            if !doc.is_empty() {
                let p = i.index(doc.len());
                doc[p] = *b;
            }
        }
        Mutation::Splice(i, f, l) => {
            let files = &seeds().files;
            let lines = &files[f.index(files.len())].1;
            let line = &lines[l.index(lines.len())];
            let p = at(i, doc);
            doc.splice(p..p, line.iter().copied());
        }
        Mutation::InvalidUtf8(i) => {
            let p = at(i, doc);
            doc.splice(p..p, [0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82]);
        }
        Mutation::HugeToken(i, t, n) => {
            let p = at(i, doc);
            let token = TOKENS[*t].as_bytes();
            let run: Vec<u8> = token
                .iter()
                .copied()
                .cycle()
                .take(n * token.len().max(1))
                .collect();
            doc.splice(p..p, run);
        }
        Mutation::Address(i, a) => {
            let p = at(i, doc);
            doc.splice(p..p, ADDRESSES[*a].bytes());
        }
        Mutation::Truncate(i) => {
            let p = at(i, doc);
            doc.truncate(p);
        }
        Mutation::DuplicateTail(i) => {
            let p = at(i, doc);
            let tail = doc[p..].to_vec();
            doc.extend_from_slice(&tail);
        }
    }
}

/// A document: a window of consecutive lines of one seed file, mutated, with LF or CRLF ends.
fn near_miss_document() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<Index>(),
        any::<Index>(),
        1usize..120,
        prop::collection::vec(mutation(), 0..10),
        any::<bool>(),
    )
        .prop_map(|(file, start, len, mutations, crlf)| {
            let files = &seeds().files;
            let lines = &files[file.index(files.len())].1;
            let start = start.index(lines.len());
            let end = (start + len).min(lines.len());
            let mut doc = Vec::new();
            for line in &lines[start..end] {
                doc.extend_from_slice(line);
                doc.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
            }
            for m in &mutations {
                apply(&mut doc, m);
            }
            doc
        })
}

/// Bytes with no structure at all, or words of the formats' vocabularies in random order.
fn arbitrary_document() -> impl Strategy<Value = Vec<u8>> {
    const WORDS: &[&str] = &[
        "Ban",
        "Unban",
        "Restore",
        "NOTICE",
        "[sshd]",
        "fail2ban.actions",
        "-A",
        "INPUT",
        "-s",
        "-j",
        "DROP",
        "REJECT",
        "ACCEPT",
        "*filter",
        "COMMIT",
        ":INPUT",
        "add",
        "create",
        "hash:net",
        "set",
        "elements",
        "=",
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        "\"",
        "'",
        ",",
        ";",
        ":",
        "--abcd1234-A--",
        "--abcd1234-H--",
        "---abcd1234---A--",
        "Message:",
        "Apache-Error:",
        "ModSecurity:",
        "Access",
        "denied",
        "with",
        "code",
        "403",
        "[client",
        "[id",
        "\"1\"]",
        "limiting",
        "requests,",
        "client:",
        "zone",
        "DENY",
        "REJECT",
        "Anywhere",
        "(v6)",
        "#",
        "\n",
        "\n",
        "\n",
        "\r\n",
        "*Blocked",
        "in",
        "csf*",
        "[LF_SSHD]",
        "lfd[1]:",
        "Nov",
        "24",
        "03:06:43",
        "2026-11-24",
        "2026/11/24",
        "[error]",
        "table",
        "inet",
        "chain",
        "type",
        "ipv4_addr",
        "drop",
        "saddr",
        "ip",
        "<zone>",
        "<source",
        "address=",
        "/>",
        "<entry>",
        "</entry>",
        "{\"decisions\":",
        "\"value\":",
        "\"type\":\"ban\"",
        "\"scope\":\"Ip\"",
        "null",
        "true",
        "1795489200",
        "\"cc\"",
        "###",
        "-1",
        "deny",
        "allow",
        "Require",
        "not",
        "Deny",
        "from",
        "ignoreip",
        "[DEFAULT]",
        "Banned IP list:",
        "|- ",
        "`- ",
        "Status",
        "104.16.0.1",
        "172.64.0.0/13",
        "2606:4700::1",
        "::ffff:104.16.0.1",
        "192.0.2.1",
        "0.0.0.0/0",
        "::/0",
        "tcp|in|d=22|s=104.16.0.1",
        "Include",
        "/etc/passwd",
        "..",
    ];
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048),
        prop::collection::vec(0..WORDS.len(), 0..300).prop_map(|words| {
            let mut doc = Vec::new();
            for (i, w) in words.iter().enumerate() {
                if i > 0 && i % 3 != 0 {
                    doc.push(b' ');
                }
                doc.extend_from_slice(WORDS[*w].as_bytes());
            }
            doc
        }),
    ]
}

/// Every format's parser on one document: no panic, no event placed on a line that was not
/// fed, and no parser that takes long over a small input.
fn every_parser_survives(doc: &[u8], dir: &Path) -> Result<(), TestCaseError> {
    for format in formats::all() {
        let started = Instant::now();
        let outcome = run_parser(format, doc, dir);
        let (sink, lines) = match outcome {
            Ok(o) => o,
            Err(message) => {
                return Err(TestCaseError::fail(format!(
                    "{format} panicked: {message}\ninput: {:?}",
                    String::from_utf8_lossy(doc)
                )))
            }
        };
        let took = started.elapsed();
        prop_assert!(
            took < Duration::from_secs(5),
            "{format} took {took:?} over {} bytes",
            doc.len()
        );
        if is_line_format(format) {
            for e in &sink.events {
                prop_assert!(
                    e.location.line <= lines,
                    "{format}: event on line {} of {lines}",
                    e.location.line
                );
            }
            for &line in &sink.access_lines {
                prop_assert!(
                    line <= lines,
                    "{format}: access record on line {line} of {lines}"
                );
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 1a. RangeSet against a naive oracle
// ---------------------------------------------------------------------------------------------

/// A family and an inclusive interval of integers: the oracle's whole model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    v6: bool,
    lo: u128,
    hi: u128,
}

/// The oracle's own normalisation: IPv4-mapped IPv6 addresses are IPv4, so the part of an IPv6
/// network inside `::ffff:0:0/96` is the IPv4 span it carries and the rest stays IPv6.
fn spans(net: &IpNet) -> Vec<Span> {
    match net {
        IpNet::V4(n) => vec![Span {
            v6: false,
            lo: u32::from(n.network()) as u128,
            hi: u32::from(n.broadcast()) as u128,
        }],
        IpNet::V6(n) => {
            let lo = u128::from(n.network());
            let hi = u128::from(n.broadcast());
            let (mlo, mhi) = (lo.max(0xffff_0000_0000), hi.min(0xffff_ffff_ffff));
            if mlo > mhi {
                return vec![Span { v6: true, lo, hi }];
            }
            let mut out = vec![Span {
                v6: false,
                lo: mlo & 0xffff_ffff,
                hi: mhi & 0xffff_ffff,
            }];
            if lo < mlo {
                out.push(Span {
                    v6: true,
                    lo,
                    hi: mlo - 1,
                });
            }
            if mhi < hi {
                out.push(Span {
                    v6: true,
                    lo: mhi + 1,
                    hi,
                });
            }
            out
        }
    }
}

fn point(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (false, u32::from(a) as u128),
        IpAddr::V6(a) => {
            let x = u128::from(a);
            if x >> 32 == 0xffff {
                (false, x & 0xffff_ffff)
            } else {
                (true, x)
            }
        }
    }
}

struct Oracle(Vec<Span>);

impl Oracle {
    fn new(nets: &[IpNet]) -> Oracle {
        Oracle(nets.iter().flat_map(spans).collect())
    }
    fn contains(&self, ip: IpAddr) -> bool {
        let (v6, x) = point(ip);
        self.0.iter().any(|s| s.v6 == v6 && s.lo <= x && x <= s.hi)
    }
    fn overlaps(&self, net: &IpNet) -> bool {
        spans(net).iter().any(|q| {
            self.0
                .iter()
                .any(|s| s.v6 == q.v6 && s.lo <= q.hi && q.lo <= s.hi)
        })
    }
    fn covers(&self, net: &IpNet) -> bool {
        spans(net).iter().all(|q| self.covers_span(q))
    }
    fn covers_span(&self, q: &Span) -> bool {
        let mut parts: Vec<&Span> = self
            .0
            .iter()
            .filter(|s| s.v6 == q.v6 && s.lo <= q.hi && q.lo <= s.hi)
            .collect();
        parts.sort_by_key(|s| s.lo);
        // `cursor`: the first address of q not yet known to be covered.
        let mut cursor = q.lo;
        for s in parts {
            if s.lo > cursor {
                return false;
            }
            if s.hi >= q.hi {
                return true;
            }
            cursor = cursor.max(s.hi + 1);
        }
        false
    }
    /// Addresses worth asking about: each interval's ends and their neighbours.
    fn probe_points(&self) -> Vec<IpAddr> {
        let mut out = Vec::new();
        for s in &self.0 {
            for x in [
                s.lo.checked_sub(1),
                Some(s.lo),
                Some(s.hi),
                s.hi.checked_add(1),
                Some(s.lo + (s.hi - s.lo) / 2),
            ]
            .into_iter()
            .flatten()
            {
                out.push(addr(s.v6, x));
            }
        }
        out
    }
}

fn addr(v6: bool, x: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(x))
    } else {
        IpAddr::V4(Ipv4Addr::from(x.min(u32::MAX as u128) as u32))
    }
}

/// The IPv4-mapped IPv6 form of an IPv4 address or network.
fn mapped_ip(ip: Ipv4Addr) -> IpAddr {
    IpAddr::V6(ip.to_ipv6_mapped())
}
fn mapped_net(n: &Ipv4Net) -> IpNet {
    IpNet::V6(Ipv6Net::new(n.network().to_ipv6_mapped(), n.prefix_len() + 96).unwrap())
}

/// IPv4 networks, mostly crowded into 10.0.0.0/23 so that they meet, touch and nest.
fn v4_net() -> impl Strategy<Value = Ipv4Net> {
    prop_oneof![
        8 => (0u32..512, 22u8..=32)
            .prop_map(|(off, len)| Ipv4Net::new(Ipv4Addr::from(0x0a00_0000 + off), len).unwrap().trunc()),
        2 => (any::<u32>(), 0u8..=32)
            .prop_map(|(a, len)| Ipv4Net::new(Ipv4Addr::from(a), len).unwrap().trunc()),
        1 => prop::sample::select(vec![
            "0.0.0.0/0", "255.255.255.255/32", "0.0.0.0/32", "255.255.255.254/31",
            "128.0.0.0/1", "0.0.0.0/1", "10.0.0.0/8",
        ])
        .prop_map(|s| s.parse().unwrap()),
    ]
}

fn v6_net() -> impl Strategy<Value = Ipv6Net> {
    let base = u128::from("2001:db8::".parse::<Ipv6Addr>().unwrap());
    prop_oneof![
        6 => (0u128..1024, 118u8..=128)
            .prop_map(move |(off, len)| Ipv6Net::new(Ipv6Addr::from(base + off), len).unwrap().trunc()),
        2 => (any::<u128>(), 0u8..=128)
            .prop_map(|(a, len)| Ipv6Net::new(Ipv6Addr::from(a), len).unwrap().trunc()),
        1 => prop::sample::select(vec![
            "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "::/128", "::1/128",
            "::ffff:0:0/96", "::ffff:0:0/95", "::/64", "::fffe:0:0/96", "8000::/1",
        ])
        .prop_map(|s| s.parse().unwrap()),
    ]
}

fn any_net() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        5 => v4_net().prop_map(IpNet::V4),
        3 => v6_net().prop_map(IpNet::V6),
        2 => v4_net().prop_map(|n| mapped_net(&n)),
    ]
}

fn nets_overlap(a: &IpNet, b: &IpNet) -> bool {
    let (a, b) = (spans(a), spans(b));
    a.iter().any(|a| {
        b.iter()
            .any(|b| a.v6 == b.v6 && a.lo <= b.hi && b.lo <= a.hi)
    })
}

fn any_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        (0u32..1024).prop_map(|o| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + o))),
        any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        (0u128..2048).prop_map(|o| IpAddr::V6(Ipv6Addr::from(
            u128::from("2001:db8::".parse::<Ipv6Addr>().unwrap()) + o
        ))),
        any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
        (0u32..1024).prop_map(|o| mapped_ip(Ipv4Addr::from(0x0a00_0000 + o))),
    ]
}

/// The set's own nets are valid CIDRs, sorted, and disjoint.
fn nets_are_canonical(set: &RangeSet) -> Result<(), TestCaseError> {
    let nets = set.nets();
    for n in nets {
        prop_assert_eq!(*n, n.trunc(), "host bits set in {}", n);
    }
    // In the set's own terms: IPv4 first, then IPv6, each by address, none overlapping.
    let raw = |n: &IpNet| match n {
        IpNet::V4(v4) => (
            false,
            u32::from(v4.network()) as u128,
            u32::from(v4.broadcast()) as u128,
        ),
        IpNet::V6(v6) => (true, u128::from(v6.network()), u128::from(v6.broadcast())),
    };
    for w in nets.windows(2) {
        let (a, b) = (raw(&w[0]), raw(&w[1]));
        prop_assert!(
            (a.0, a.1) < (b.0, b.1),
            "nets out of order: {} {}",
            w[0],
            w[1]
        );
        if a.0 == b.0 {
            prop_assert!(a.2 < b.1, "nets overlap: {} {}", w[0], w[1]);
        }
    }
    Ok(())
}

/// An IPv6 network inside ::ffff:0:0/96 (which [`span`] reads as IPv4).
fn is_mapped_v6(n: &IpNet) -> bool {
    matches!(n, IpNet::V6(v6) if v6.prefix_len() >= 96 && v6.network().to_ipv4_mapped().is_some())
}

/// Read back, the nets of a set give the same set, and no net of it is an IPv4-mapped IPv6
/// network (which, read back, would be IPv4).
fn nets_round_trip(set: &RangeSet) -> Result<(), TestCaseError> {
    for n in set.nets() {
        prop_assert!(
            !is_mapped_v6(n),
            "IPv4-mapped net {} kept as IPv6 (read back it is IPv4)",
            n
        );
    }
    let rebuilt: RangeSet = set.nets().iter().copied().collect();
    prop_assert_eq!(&rebuilt, set, "nets() read back give another set");
    Ok(())
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn rangeset_matches_the_oracle(
        a in prop::collection::vec(any_net(), 0..12),
        b in prop::collection::vec(any_net(), 0..12),
        ips in prop::collection::vec(any_ip(), 0..16),
        queries in prop::collection::vec(any_net(), 0..16),
    ) {
        let set_a: RangeSet = a.iter().copied().collect();
        let set_b: RangeSet = b.iter().copied().collect();
        let (oa, ob) = (Oracle::new(&a), Oracle::new(&b));
        nets_are_canonical(&set_a)?;
        prop_assert_eq!(set_a.is_empty(), a.is_empty());

        let mut points = ips.clone();
        points.extend(oa.probe_points());
        points.extend(ob.probe_points());
        for &ip in &points {
            prop_assert_eq!(set_a.contains(ip), oa.contains(ip), "contains {}", ip);
            if let IpAddr::V4(v4) = ip {
                prop_assert_eq!(set_a.contains(mapped_ip(v4)), oa.contains(ip), "mapped {}", ip);
            }
        }

        let mut nets = queries.clone();
        nets.extend(b.iter().copied());
        nets.extend(set_a.nets().iter().copied());
        for q in &nets {
            prop_assert_eq!(set_a.overlaps(q), oa.overlaps(q), "overlaps {}", q);
            prop_assert_eq!(set_a.covers(q), oa.covers(q), "covers {}", q);
            let first = set_a.nets().iter().find(|n| nets_overlap(n, q)).copied();
            prop_assert_eq!(set_a.matching(q), first, "matching {}", q);
            if let IpNet::V4(v4) = q {
                let m = mapped_net(v4);
                prop_assert_eq!(set_a.overlaps(&m), oa.overlaps(q), "overlaps mapped {}", m);
                prop_assert_eq!(set_a.covers(&m), oa.covers(q), "covers mapped {}", m);
                prop_assert_eq!(set_a.matching(&m), first, "matching mapped {}", m);
            }
        }

        let union = set_a.union(&set_b);
        let difference = set_a.difference(&set_b);
        nets_are_canonical(&union)?;
        nets_are_canonical(&difference)?;
        let concat: RangeSet = a.iter().chain(b.iter()).copied().collect();
        prop_assert_eq!(&union, &concat);
        prop_assert_eq!(&union, &set_b.union(&set_a));
        for &ip in &points {
            prop_assert_eq!(union.contains(ip), oa.contains(ip) || ob.contains(ip), "union {}", ip);
            prop_assert_eq!(
                difference.contains(ip),
                oa.contains(ip) && !ob.contains(ip),
                "difference {}",
                ip
            );
        }
        // (Mapped-looking IPv6 nets read back as IPv4: `rangeset_nets_read_back_as_the_same_set`.)
        for n in difference.nets().iter().filter(|n| !is_mapped_v6(n)) {
            prop_assert!(oa.covers(n) && !ob.overlaps(n), "difference net {}", n);
        }
        // (a - b) ∪ (a ∩ b) = a, with a ∩ b = a - (a - b).
        let both = set_a.difference(&difference);
        prop_assert_eq!(&difference.union(&both), &set_a);
        prop_assert!(difference.difference(&set_a).is_empty());
        prop_assert!(set_a.difference(&set_a).is_empty());
        prop_assert_eq!(&set_a.union(&RangeSet::new()), &set_a);
    }

    #[test]
    fn mapped_and_plain_ipv4_build_the_same_set(nets in prop::collection::vec(v4_net(), 0..10)) {
        let plain: RangeSet = nets.iter().copied().map(IpNet::V4).collect();
        let mapped: RangeSet = nets.iter().map(mapped_net).collect();
        prop_assert_eq!(&plain, &mapped);
        prop_assert_eq!(plain.v6_nets().count(), 0);
    }

    /// `nets()` is exact: read back it gives the same set, after union and difference too.
    /// (A wide IPv6 network over ::ffff:0:0/96, such as ::/0 or ::ffff:0:0/95, is kept as IPv6
    /// while the mapped addresses it spans are looked up as IPv4; cut down by a difference to
    /// the mapped part alone, its net prints as `::ffff:0.0.0.0/96`, which reads back as IPv4.)
    #[test]
    fn rangeset_nets_read_back_as_the_same_set(
        a in prop::collection::vec(any_net(), 0..12),
        b in prop::collection::vec(any_net(), 0..12),
    ) {
        let set_a: RangeSet = a.iter().copied().collect();
        let set_b: RangeSet = b.iter().copied().collect();
        nets_round_trip(&set_a)?;
        nets_round_trip(&set_a.union(&set_b))?;
        nets_round_trip(&set_a.difference(&set_b))?;
    }
}

// ---------------------------------------------------------------------------------------------
// 1b. Every parser, and detection, on any bytes
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn parsers_survive_near_misses(doc in near_miss_document()) {
        let dir = tempfile::tempdir().unwrap();
        every_parser_survives(&doc, dir.path())?;
    }

    #[test]
    fn parsers_survive_arbitrary_bytes(doc in arbitrary_document()) {
        let dir = tempfile::tempdir().unwrap();
        every_parser_survives(&doc, dir.path())?;
    }

    /// The database formats on damaged copies of the real databases (a header kept, pages hit).
    #[test]
    fn database_parsers_survive_damaged_databases(
        which in any::<Index>(),
        hits in prop::collection::vec((any::<Index>(), any::<u8>()), 1..64),
        cut in proptest::option::of(any::<Index>()),
    ) {
        let dbs = &seeds().databases;
        let mut db = dbs[which.index(dbs.len())].clone();
        for (i, b) in &hits {
            // Leave the 16-byte magic alone so that the file stays "a database".
            let p = 16 + i.index(db.len() - 16);
            db[p] = *b;
        }
        if let Some(c) = cut {
            db.truncate(16 + c.index(db.len() - 16));
        }
        let dir = tempfile::tempdir().unwrap();
        for format in [Format::Fail2banDb, Format::BtwafDb] {
            if let Err(message) = run_parser(format, &db, dir.path()) {
                return Err(TestCaseError::fail(format!("{format} panicked: {message}")));
            }
        }
        // Nothing may be left beside the file (journal, -wal, -shm).
        prop_assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}

/// Names to detect on: real file names, usual paths, and odd ones.
fn any_path() -> impl Strategy<Value = PathBuf> {
    prop_oneof![
        any::<Index>().prop_map(|i| {
            let names = &seeds().names;
            PathBuf::from("/var/log").join(&names[i.index(names.len())])
        }),
        any::<Index>().prop_map(|i| {
            let all: Vec<Format> = formats::all().collect();
            usual_path(all[i.index(all.len())])
        }),
        "[a-z0-9._-]{0,24}".prop_map(|s| PathBuf::from("/tmp").join(s)),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| {
            use std::os::unix::ffi::OsStrExt;
            PathBuf::from(std::ffi::OsStr::from_bytes(&b))
        }),
        Just(PathBuf::new()),
        Just(PathBuf::from("/")),
        Just(PathBuf::from("..")),
        Just(PathBuf::from("dos-")),
        Just(PathBuf::from("/tmp/dos-104.16.0.1")),
        Just(PathBuf::from("/var/log/fail2ban.log.2.gz")),
    ]
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn detect_survives_any_name_and_bytes(
        path in any_path(),
        head in prop_oneof![near_miss_document(), arbitrary_document()],
        sqlite in any::<bool>(),
    ) {
        let mut head = head;
        if sqlite {
            head.splice(0..0, b"SQLite format 3\0".iter().copied());
        }
        head.truncate(8 * 1024);
        let got = catch_unwind(|| detect(&path, &head));
        prop_assert!(got.is_ok(), "detect panicked on {:?}", path);
    }
}

// ---------------------------------------------------------------------------------------------
// Issue 15: one request never flips a file's format
// ---------------------------------------------------------------------------------------------

/// A real file a request can write lines into, and how its writer frames the lines of one
/// value: nginx and Python's logging write them raw; the journal gives each its own entry
/// under the application's tag.
struct Host {
    path: &'static str,
    /// The text each injected line gets in front of it.
    prefix: &'static str,
}

const HOSTS: &[Host] = &[
    Host {
        path: "nginx-error/limits-deny-error.log",
        prefix: "",
    },
    Host {
        path: "modsecurity/nginx-error-and-json/error.log",
        prefix: "",
    },
    Host {
        path: "injection/fail2ban/app.log",
        prefix: "",
    },
    Host {
        path: "injection/syslog/app.log",
        prefix: "",
    },
    Host {
        path: "fail2ban/log/journal-short.txt",
        prefix: "Dec 03 13:06:21 vm myapp[19544]: ",
    },
    Host {
        path: "fail2ban/log/journal-no-hostname.txt",
        prefix: "Dec 03 13:06:21 myapp[19544]: ",
    },
];

/// What one value can carry (each banning an address of 104.16.99.0/24): a fail2ban line in
/// the file and syslog forms, a journal line without host, a whole audit entry, an nginx
/// refusal.
const FORGED: &[&str] = &[
    "2026-11-24 03:06:43,825 fail2ban.actions        [812]: NOTICE  [sshd] Ban 104.16.99.1",
    "Nov 24 03:06:43 vm fail2ban.actions[812]: NOTICE [sshd] Ban 104.16.99.2",
    "Dec 03 13:06:21 fail2ban[1]: [sshd] Ban 104.16.99.3",
    "--deadbeef-A--\n[24/Nov/2026:03:00:00 +0000] FAKE 104.16.99.4 1 127.0.0.1 80\n--deadbeef-B--\nGET / HTTP/1.1\n\n--deadbeef-H--\nMessage: Access denied with code 403 (phase 2). [id \"999\"]\nAction: Intercepted (phase 2)\n--deadbeef-Z--",
    "2026/11/24 04:15:30 [error] 1#1: *5 limiting requests, excess: 1.000 by zone \"z\", client: 104.16.99.5, server: s, request: \"GET / HTTP/1.1\", host: \"h\"",
];

/// `host`'s text with `forged` written as the value logged on its line `at` (0-based; never
/// before its first line), each of its lines framed as the host's writer frames them.
fn inject(host: &Host, text: &str, forged: &str, at: usize) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let at = at % lines.len().max(1);
    let value: Vec<String> = forged
        .split('\n')
        .map(|l| format!("{}{l}", host.prefix))
        .collect();
    if host.prefix.is_empty() {
        // Written raw inside the line: the rest of the line follows the value.
        // The value comes after the line's own prefix (its last quarter goes after the value).
        let line = &mut lines[at];
        let mut cut = (line.len() - line.len() / 4).max(line.len().min(40));
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        let tail = line.split_off(cut);
        let mut value = value;
        if let Some(last) = value.last_mut() {
            last.push_str(&tail);
        }
        lines.splice(at + 1..at + 1, value);
    } else {
        lines.splice(at + 1..at + 1, value);
    }
    lines.join("\n") + "\n"
}

proptest! {
    #![proptest_config(config(120))]

    /// A value a request put into a real log, at any of its first lines, changes neither the
    /// format the log is detected as nor what it gives: no event is ever on a forged address.
    #[test]
    fn one_request_never_flips_a_format_or_forges_an_event(
        host in 0..HOSTS.len(),
        forged in 0..FORGED.len(),
        at in 0..20usize,
    ) {
        // nginx writes a value's lines raw: a whole line of nginx's form cannot be told from
        // nginx's own (tests/forgery.rs, the `_limit` test).
        prop_assume!(!(host < 2 && forged == 4));
        let host = &HOSTS[host];
        let text = std::fs::read_to_string(common::fixtures().join(host.path)).unwrap();
        // The application logs without their own forged lines.
        let text: String = text
            .lines()
            .filter(|l| !l.contains("104.16.66."))
            .map(|l| format!("{l}\n"))
            .collect();
        let path = Path::new(host.path);
        let head = |t: &str| t.as_bytes()[..t.len().min(8 * 1024)].to_vec();
        let before = detect(path, &head(&text));
        let mutated = inject(host, &text, FORGED[forged], at);
        let after = detect(path, &head(&mutated));
        prop_assert_eq!(before, after, "{}", mutated);
        if let Some(format) = after {
            let dir = tempfile::tempdir().unwrap();
            let (sink, _) = run_parser(format, mutated.as_bytes(), dir.path()).unwrap();
            let forged_net: IpNet = "104.16.99.0/24".parse().unwrap();
            prop_assert!(
                sink.events.iter().all(|e| !nets_overlap(&e.net, &forged_net)),
                "{:?} in {}",
                sink.events,
                mutated
            );
        }
    }
}

/// The events of a ModSecurity audit log, as (address, rule, line of the entry's header).
fn audit_events(text: &str) -> Vec<(String, String, u64)> {
    let dir = tempfile::tempdir().unwrap();
    let (sink, _) = run_parser(Format::ModsecAudit, text.as_bytes(), dir.path()).unwrap();
    sink.events
        .iter()
        .map(|e| (e.net.addr().to_string(), e.scope.clone(), e.location.line))
        .collect()
}

proptest! {
    #![proptest_config(config(64))]

    /// A real serial audit log (ModSecurity 2.9.7, bodies holding whole forged entries that
    /// deny 104.16.66.67) that starts at any of its lines, as copytruncate leaves it, or that
    /// lost the end of any entry from any line on, as a crash leaves it: no event is ever on a
    /// forged address, and every entry whose header comes after the damage is read as in the
    /// whole log.
    #[test]
    fn audit_log_cut_anywhere_gives_only_its_own_entries(start in 0..432usize, cut in 0..432usize) {
        let whole = std::fs::read_to_string(common::fixtures().join("modsecurity/v2-serial.log")).unwrap();
        let lines: Vec<&str> = whole.lines().collect();
        let header = |l: &str| l.len() == 14 && l.starts_with("--") && l.ends_with("-A--");
        let all = audit_events(&whole);
        let forged = |e: &(String, String, u64)| e.0.starts_with("104.16.66.");
        // Starting at line `start`.
        let start = start % lines.len();
        let tail = lines[start..].join("\n") + "\n";
        let got = audit_events(&tail);
        prop_assert!(!got.iter().any(forged), "{got:?}");
        let shift = start as u64;
        let next = (start + 1..lines.len()).find(|&i| header(lines[i])).map_or(u64::MAX, |i| i as u64 + 1);
        for e in all.iter().filter(|e| e.2 > next) {
            prop_assert!(got.contains(&(e.0.clone(), e.1.clone(), e.2 - shift)), "{e:?} lost from {start}: {got:?}");
        }
        // Losing the end of an entry from line `cut` on (up to the next header). A cut after a
        // whole forged entry in a body, before that body ends, is the limit serial.rs names: the
        // entry that held it never goes on, and what its body held is taken as real.
        let cut = cut % lines.len();
        let forged_end = |l: &str| l == "--deadbeef-Z--" || l == "---FaKeFaKe---Z--";
        let limit = lines.iter().enumerate().any(|(z, l)| {
            forged_end(l)
                && z < cut
                && !lines[z..cut]
                    .iter()
                    .any(|l| l.len() == 14 && l.ends_with("-F--"))
        });
        prop_assume!(!limit);
        let resume = (cut + 1..lines.len()).find(|&i| header(lines[i])).unwrap_or(lines.len());
        let damaged = [&lines[..cut], &lines[resume..]].concat().join("\n") + "\n";
        let got = audit_events(&damaged);
        prop_assert!(!got.iter().any(forged), "{got:?}");
        let gone = (resume - cut) as u64;
        for e in all.iter().filter(|e| e.2 > resume as u64) {
            prop_assert!(got.contains(&(e.0.clone(), e.1.clone(), e.2 - gone)), "{e:?} lost after a cut at {cut}: {got:?}");
        }
    }
}

/// The line formats (parsers fed a line at a time).
fn line_formats() -> Vec<Format> {
    formats::all().filter(|&f| is_line_format(f)).collect()
}

/// Whether `format` is read line by line.
fn is_line_format(format: Format) -> bool {
    matches!(
        format.descriptor().map(|d| d.reader()),
        Some(Reader::Lines(_))
    )
}

/// Times one run of a parser over `doc`; panics name the format.
fn timed(format: Format, doc: &[u8], dir: &Path) -> Duration {
    let started = Instant::now();
    if let Err(message) = run_parser(format, doc, dir) {
        panic!(
            "{format} panicked on {} bytes starting {:?}: {message}",
            doc.len(),
            String::from_utf8_lossy(&doc[..doc.len().min(40)])
        );
    }
    started.elapsed()
}

/// Patterns repeated into long lines or many lines: brackets that open and never close,
/// quotes, escapes, and the shapes of real entries.
const LONG_PATTERNS: &[&str] = &[
    "{",
    "a{",
    "[",
    "(",
    "<a>",
    "\"",
    "\\",
    "{\"a\":[",
    "2026-11-24 03:06:43,833 fail2ban.actions [1]: NOTICE  [sshd] Ban 104.16.0.1 ",
    "[client 104.16.0.1] ModSecurity: Access denied with code 403 (phase 2). [id \"1\"] ",
    "-A INPUT -s 104.16.0.1/32 -j DROP ",
    "elements = { 104.16.0.1, ",
    "1.1.1.1.1.1.1.1:",
];

/// Whether growing the input 4x made the parser much more than 4x slower (quadratic shows as
/// 16x): a hang waiting for a larger input.
fn superlinear(small: Duration, large: Duration) -> bool {
    large > Duration::from_millis(150) && large > small * 10
}

/// One line as long as the line reader hands over (1 MiB) through every line parser: no panic,
/// and no parser superlinear in the length of a line. Each pattern is timed first at 16 and
/// 64 KiB, so that a quadratic parser is caught in seconds, not hours; only the parsers that
/// pass get the full 1 MiB line.
#[test]
fn every_line_parser_takes_a_maximal_line() {
    const MAX_LINE: usize = cf_ban_audit_core::MAX_LINE;
    let dir = tempfile::tempdir().unwrap();
    let mut slow = Vec::new();
    for pattern in LONG_PATTERNS {
        let line = |n: usize| -> Vec<u8> { pattern.bytes().cycle().take(n).collect() };
        for format in line_formats() {
            let t16 = timed(format, &line(16 << 10), dir.path());
            if t16 > Duration::from_secs(1) {
                slow.push(format!(
                    "{format}: {t16:?} for one 16 KiB line of {pattern:?}"
                ));
                continue;
            }
            let mut t64 = timed(format, &line(64 << 10), dir.path());
            if superlinear(t16, t64) {
                // Once more, the best of two, so that a busy machine does not fail the test.
                let t16 = t16.min(timed(format, &line(16 << 10), dir.path()));
                t64 = t64.min(timed(format, &line(64 << 10), dir.path()));
                if superlinear(t16, t64) {
                    slow.push(format!(
                        "{format}: one line of {pattern:?}: 16 KiB {t16:?}, 64 KiB {t64:?} (superlinear)"
                    ));
                    continue;
                }
            }
            let t1m = timed(format, &line(MAX_LINE), dir.path());
            if t1m > Duration::from_secs(5) {
                slow.push(format!(
                    "{format}: {t1m:?} for one 1 MiB line of {pattern:?}"
                ));
            }
        }
    }
    assert!(slow.is_empty(), "slow parsers:\n{}", slow.join("\n"));
}

/// Many lines of one pattern (an entry that never ends, a bracket opened on every line): no
/// parser superlinear in the number of lines.
#[test]
fn every_line_parser_is_linear_in_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut slow = Vec::new();
    let patterns: Vec<String> = LONG_PATTERNS
        .iter()
        .map(|p| p.to_string())
        .chain([
            "--abcd1234-A--".to_string(),
            "--abcd1234-B--".to_string(),
            "\"k\": \"v\",".to_string(),
            "<entry>104.16.0.1</entry>".to_string(),
            "Message: Access denied with code 403 (phase 2). [id \"1\"]".to_string(),
            "   |- Banned IP list:   104.16.0.1 104.16.0.2".to_string(),
        ])
        .collect();
    for pattern in &patterns {
        let doc = |n: usize| -> Vec<u8> {
            let mut d = Vec::new();
            for _ in 0..n {
                d.extend_from_slice(pattern.as_bytes());
                d.push(b'\n');
            }
            d
        };
        let (small, large) = (doc(1500), doc(6000));
        for format in line_formats() {
            let t1 = timed(format, &small, dir.path());
            if t1 > Duration::from_secs(1) {
                slow.push(format!("{format}: {t1:?} for 1500 lines of {pattern:?}"));
                continue;
            }
            let t4 = timed(format, &large, dir.path());
            // A machine under load stretches one run: only the best of three counts.
            let best = |first: Duration, doc: &[u8]| {
                (0..2).fold(first, |t, _| t.min(timed(format, doc, dir.path())))
            };
            if superlinear(t1, t4) && superlinear(best(t1, &small), best(t4, &large)) {
                slow.push(format!(
                    "{format}: lines of {pattern:?}: 1500 lines {t1:?}, 6000 lines {t4:?} (superlinear)"
                ));
            }
        }
    }
    assert!(slow.is_empty(), "slow parsers:\n{}", slow.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 1c. snippet → check, and merges with --existing
// ---------------------------------------------------------------------------------------------

/// Networks in public space (none in 0/8, 10/8, 127/8, 169/8, 172/8, 192/8, 224/3, and IPv6
/// only in 2000::/3), so that a snippet's own fixed entries (127.0.0.1/8, ::1) never meet them.
fn public_net() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        3 => (any::<u32>(), 8u8..=32).prop_filter_map("private", |(a, len)| {
            let first = (a >> 24) as u8;
            if matches!(first, 0 | 10 | 127 | 169 | 172 | 192) || first >= 224 {
                return None;
            }
            Some(IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), len).ok()?.trunc()))
        }),
        2 => (any::<u128>(), 16u8..=128).prop_map(|(a, len)| {
            let a = (a & (u128::MAX >> 3)) | (1u128 << 125);
            IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), len).unwrap().trunc())
        }),
    ]
}

fn public_set() -> impl Strategy<Value = RangeSet> {
    prop_oneof![
        5 => prop::collection::vec(public_net(), 1..14).prop_map(|v| v.into_iter().collect()),
        1 => Just(cloudflare::embedded()),
    ]
}

/// The targets `check` reads, with a file name it recognises them by.
const CHECKED: &[(Target, &str)] = &[
    (Target::Fail2ban, "jail.local"),
    (Target::Csf, "csf.ignore"),
    (Target::NginxRealip, "cloudflare-realip.conf"),
    (Target::NginxAllow, "allow.conf"),
    (Target::ApacheRemoteip, "remoteip.conf"),
    (Target::ApacheAllow, "cloudflare-allow.conf"),
    (Target::Modsecurity, "modsec.conf"),
    (Target::Ipset, "cloudflare.ipset"),
    (Target::Nftables, "cloudflare.nft"),
    (Target::Crowdsec, "cloudflare-whitelist.yaml"),
    (Target::Plain, "cloudflare.txt"),
];

/// A file an admin may already have for a mergeable target: comments, entries, blank lines,
/// other settings, CRLF or LF, with or without a final line break.
fn existing_file(target: Target) -> impl Strategy<Value = String> {
    let net_text = prop_oneof![
        public_net().prop_map(|n| n.to_string()),
        Just("104.16.0.0/13".to_string()),
        Just("2606:4700::/32".to_string()),
        Just("127.0.0.1/8".to_string()),
        Just("::1".to_string()),
        Just("203.0.113.7".to_string()),
        Just("example.com".to_string()),
    ];
    let line =
        (net_text, 0u8..12, "[a-z ]{0,12}").prop_map(move |(net, kind, word)| match target {
            Target::Fail2ban => match kind {
                0 => "[DEFAULT]".to_string(),
                1 => "[sshd]".to_string(),
                2 => format!("ignoreip = {net}"),
                3 => format!("ignoreip = 127.0.0.1/8 ::1 {net}"),
                4 => format!("           {net}"),
                5 => format!("# {word}"),
                6 => format!("; {word} {net}"),
                7 => "bantime = 1h".to_string(),
                8 => "enabled = true".to_string(),
                9 => format!("ignoreip = {net} ; {word}"),
                _ => String::new(),
            },
            Target::NginxRealip => match kind {
                0..=2 => format!("set_real_ip_from {net};"),
                3 => format!("  set_real_ip_from {net}; # {word}"),
                4 => "real_ip_header X-Forwarded-For;".to_string(),
                5 => format!("# set_real_ip_from {net};"),
                6 => "server {".to_string(),
                7 => "}".to_string(),
                8 => format!("# {word}"),
                _ => String::new(),
            },
            Target::Crowdsec => match kind {
                0 => "name: local/whitelist".to_string(),
                1 => "whitelist:".to_string(),
                2 => format!("  reason: \"{word}\""),
                3 => "  cidr:".to_string(),
                4 | 5 => format!("    - \"{net}\""),
                6 => "  ip:".to_string(),
                7 => format!("    - {net}"),
                8 => format!("# {word}"),
                _ => String::new(),
            },
            _ => match kind {
                0..=3 => net,
                4 => format!("{net} # {word}"),
                5 => format!("  {net}  "),
                6 => format!("# {word} {net}"),
                7 => format!("#{net}"),
                8 => word,
                _ => String::new(),
            },
        });
    (
        prop::collection::vec((line, any::<bool>()), 0..24),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, final_break, bom)| {
            let mut s = String::new();
            if bom {
                s.push('\u{feff}');
            }
            let n = lines.len();
            for (i, (l, crlf)) in lines.into_iter().enumerate() {
                s.push_str(&l);
                if i + 1 < n || final_break {
                    s.push_str(if crlf { "\r\n" } else { "\n" });
                }
            }
            s
        })
}

fn mergeable() -> impl Strategy<Value = Target> {
    prop::sample::select(
        Target::ALL
            .iter()
            .copied()
            .filter(|t| t.can_merge())
            .collect::<Vec<_>>(),
    )
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn snippet_then_check_covers_everything(ranges in public_set()) {
        for &(target, name) in CHECKED {
            let text = target.generate(&ranges);
            let r = check_text(Path::new(name), &text, &ranges);
            prop_assert!(r.missing.is_empty(), "{}: missing {:?}\n{}", name, r.missing, text);
            prop_assert!(!r.has_gaps(), "{}: {:?}\n{}", name, r, text);
        }
        // btwaf's whitelist holds IPv4 only: exactly the IPv6 ranges are missing.
        // ip_white.json with octets and with integers: the line after each heading.
        let btwaf = Target::Btwaf.generate(&ranges);
        let lines: Vec<&str> = btwaf.lines().collect();
        let whitelists = lines
            .windows(2)
            .filter(|w| w[0].starts_with("# /www/server/btwaf/rule/ip_white.json"))
            .map(|w| w[1].to_string());
        for json in whitelists {
            let r = check_text(Path::new("ip_white.json"), &json, &ranges);
            prop_assert_eq!(r.kind, ListKind::Btwaf);
            let v6: Vec<String> = ranges.v6_nets().map(|n| n.to_string()).collect();
            prop_assert_eq!(r.missing, v6);
        }
    }

    #[test]
    fn merge_with_existing_is_idempotent_and_complete(
        (target, existing) in mergeable().prop_flat_map(|t| (Just(t), existing_file(t))),
        ranges in public_set(),
    ) {
        let once = target.merge(&existing, &ranges).unwrap();
        let twice = target.merge(&once, &ranges).unwrap();
        prop_assert_eq!(&once, &twice, "{} merge is not idempotent on {:?}", target.name(), existing);
        // What was there is kept: every non-blank line of the existing file is still a line.
        if matches!(target, Target::Csf | Target::Plain | Target::NginxRealip | Target::Crowdsec) {
            let kept: Vec<&str> = once
                .trim_start_matches('\u{feff}')
                .lines()
                .map(|l| l.trim_end_matches('\r'))
                .collect();
            for l in existing.trim_start_matches('\u{feff}').lines() {
                let l = l.trim_end_matches('\r');
                prop_assert!(kept.contains(&l), "{} dropped {:?}", target.name(), l);
            }
        }
        // And check agrees that nothing is missing any more.
        let name = CHECKED.iter().find(|(t, _)| *t == target).map(|(_, n)| *n).unwrap();
        let r = check_text(Path::new(name), &once, &ranges);
        prop_assert!(
            r.missing.is_empty(),
            "{} after merge still misses {:?}\n--- existing\n{:?}\n--- merged\n{:?}",
            target.name(), r.missing, existing, once
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2. The bad-input matrix
// ---------------------------------------------------------------------------------------------

/// The good log of every row: its Cloudflare ban must be found whatever else is in the tree.
const GOOD_LOG: &str = "\
2026-11-24 03:06:40,100 fail2ban.filter         [15521]: INFO    [sshd] Found 104.16.200.1 - 2026-11-24 03:06:40
2026-11-24 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [sshd-good] Ban 104.16.200.1
";
const GOOD_ADDRESS: &str = "104.16.200.1";

/// What a tree holds, file by file: type, size, modification time and a hash of the content
/// (content read only for regular files).
type Snapshot = BTreeMap<PathBuf, (String, u64, Option<SystemTime>, Option<u64>)>;

fn snapshot(root: &Path) -> Snapshot {
    let mut out = Snapshot::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let ft = meta.file_type();
            let kind = format!("{ft:?}");
            let hash = if ft.is_file() { hash_file(&path) } else { None };
            if ft.is_dir() {
                stack.push(path.clone());
            }
            let link = if ft.is_symlink() {
                std::fs::read_link(&path)
                    .ok()
                    .map(|t| t.display().to_string())
            } else {
                None
            };
            out.insert(
                path,
                (
                    format!("{kind} {}", link.unwrap_or_default()),
                    meta.len(),
                    meta.modified().ok(),
                    hash,
                ),
            );
        }
    }
    out
}

fn hash_file(path: &Path) -> Option<u64> {
    let mut f = std::fs::File::open(path).ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        buf[..n].hash(&mut h);
    }
    Some(h.finish())
}

/// Runs a scan on another thread; a scan that does not end within `limit` fails the test (a
/// FIFO opened for reading, a loop followed forever).
fn scan_within(scanner: Scanner, limit: Duration) -> (Report, Duration) {
    let (tx, rx) = std::sync::mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let report = scanner.scan();
        let _ = tx.send(report);
    });
    match rx.recv_timeout(limit) {
        Ok(report) => (report, started.elapsed()),
        Err(_) => panic!("the scan did not end within {limit:?}: a hang"),
    }
}

fn scanner(root: &Path) -> Scanner {
    Scanner::new(cloudflare::embedded()).path(root).now(now())
}

/// The errors naming `path`.
fn errors_naming(report: &Report, path: &Path) -> Vec<String> {
    let p = path.display().to_string();
    report
        .errors
        .iter()
        .filter(|e| e.path.as_deref() == Some(p.as_str()))
        .map(|e| e.message.clone())
        .collect()
}

fn found(report: &Report, address: &str) -> bool {
    report.findings.iter().any(|f| f.address_text() == address)
}

/// A temp tree with the good log in it.
fn tree() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("fail2ban.log");
    std::fs::write(&good, GOOD_LOG).unwrap();
    (dir, good)
}

/// The checks every row makes: no hang, the good ban found, the tree unchanged, and exactly
/// `expected_errors` in the report, each naming one of the given paths.
fn assert_row(root: &Path, before: &Snapshot, report: &Report, expected_errors: &[(&Path, usize)]) {
    assert!(
        found(report, GOOD_ADDRESS),
        "the good log's ban was lost: {:#?}",
        report.findings
    );
    let after = snapshot(root);
    assert_eq!(before, &after, "the scan changed the tree");
    let mut named = 0;
    for (path, n) in expected_errors {
        let errs = errors_naming(report, path);
        assert_eq!(
            errs.len(),
            *n,
            "errors naming {}: {errs:#?}\nall: {:#?}",
            path.display(),
            report.errors
        );
        named += errs.len();
    }
    assert_eq!(
        report.errors.len(),
        named,
        "unexpected errors: {:#?}",
        report.errors
    );
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn matrix_fifo_socket_and_device_are_never_opened() {
    let (dir, _) = tree();
    let root = dir.path();
    let fifo = root.join("fail2ban.log.1");
    let status = Command::new("mkfifo").arg(&fifo).status();
    assert!(status.is_ok_and(|s| s.success()), "mkfifo failed");
    let socket = root.join("syslog");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let device = root.join("messages");
    let have_device = Command::new("mknod")
        .args([device.as_os_str(), "c".as_ref(), "1".as_ref(), "3".as_ref()])
        .status()
        .is_ok_and(|s| s.success());
    if !have_device {
        common::skip("device node: mknod needs root; FIFO and socket still tested");
    }
    let before = snapshot(root);
    // Walked into, and given as roots of their own.
    let (report, _) = scan_within(
        scanner(root).path(&fifo).path(&socket),
        Duration::from_secs(60),
    );
    assert_row(root, &before, &report, &[]);
    assert!(report
        .files
        .iter()
        .all(|f| f.path != fifo.display().to_string()));
    let special = 2 + usize::from(have_device);
    assert!(
        report.skipped_files as usize >= special,
        "special files are counted as skipped: {}",
        report.skipped_files
    );
}

#[test]
fn matrix_symlink_loops() {
    let (dir, _) = tree();
    let root = dir.path();
    let sub = root.join("sub");
    std::fs::create_dir(&sub).unwrap();
    let self_loop = sub.join("up");
    std::os::unix::fs::symlink("..", &self_loop).unwrap();
    let (l1, l2) = (root.join("loop1.log"), root.join("loop2.log"));
    std::os::unix::fs::symlink("loop2.log", &l1).unwrap();
    std::os::unix::fs::symlink("loop1.log", &l2).unwrap();
    let before = snapshot(root);

    // Not following links: links are skipped, quietly.
    let (report, _) = scan_within(scanner(root), Duration::from_secs(60));
    assert_row(root, &before, &report, &[]);

    // Following them: a loop is named, once, and the walk goes on.
    let (report, _) = scan_within(scanner(root).follow_links(true), Duration::from_secs(60));
    assert_row(
        root,
        &before,
        &report,
        &[(&self_loop, 1), (&l1, 1), (&l2, 1)],
    );
}

#[test]
fn matrix_unreadable_file() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, _) = tree();
    let root = dir.path();
    let locked = root.join("fail2ban.log.3");
    std::fs::write(&locked, GOOD_LOG.replace("104.16.200.1", "104.16.200.3")).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let before = snapshot(root);
    let (report, _) = scan_within(scanner(root), Duration::from_secs(60));
    if is_root() {
        eprintln!("NOTICE: running as root, which reads a mode-000 file: only 'no error, found' is checked");
        assert_row(root, &before, &report, &[]);
        assert!(found(&report, "104.16.200.3"));
    } else {
        assert_row(root, &before, &report, &[(&locked, 1)]);
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn matrix_empty_and_binary_files() {
    let (dir, _) = tree();
    let root = dir.path();
    let sub = root.join("old");
    std::fs::create_dir(&sub).unwrap();
    for name in [
        "fail2ban.log",
        "fail2ban.sqlite3",
        "csf.deny",
        "modsec_audit.log",
        "error.log",
    ] {
        std::fs::write(sub.join(name), b"").unwrap();
    }
    // Binary garbage named like the log, with a ban line buried in it: a binary file is no log.
    let binary = root.join("fail2ban.log.1");
    let mut bytes: Vec<u8> = (0..16384u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8 & 0x1f)
        .collect();
    bytes.extend_from_slice(
        b"\n2026-11-24 03:06:43,833 fail2ban.actions [1]: NOTICE  [sshd] Ban 104.16.200.66\n",
    );
    std::fs::write(&binary, &bytes).unwrap();
    let before = snapshot(root);
    let (report, _) = scan_within(scanner(root), Duration::from_secs(60));
    // Decided: empty files and binary files are skipped without an error (nothing to read).
    assert_row(root, &before, &report, &[]);
    assert!(
        !found(&report, "104.16.200.66"),
        "a ban inside a binary file was read"
    );
}

#[test]
fn matrix_invalid_utf8_and_crlf_ban_lines_are_still_found() {
    let (dir, _) = tree();
    let root = dir.path();
    let mut log = Vec::new();
    log.extend_from_slice(b"2026-11-24 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [ss\xffh\xfed] Ban 104.16.201.1\r\n");
    log.extend_from_slice(b"2026-11-24 03:06:44,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 104.16.201.2\r\n");
    log.extend_from_slice(b"2026-11-24 03:06:45,000 fail2ban.filter         [15521]: INFO    [sshd] Found 104.16.201.3 - user \xc3\x28\xff\r\n");
    log.extend_from_slice(b"2026-11-24 03:06:45,833 fail2ban.actions        [15521]: NOTICE  [sshd-\xe9t\xe9] Ban 104.16.201.3\r\n");
    log.extend_from_slice(b"2026-11-24 03:06:46,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 104.16.201.4\r");
    let path = root.join("fail2ban.log.1");
    std::fs::write(&path, &log).unwrap();
    // lfd through syslog, with Latin-1 in the host name and the country.
    std::fs::write(
        root.join("messages"),
        b"Nov 22 03:06:43 w\xe9b1 lfd[1234]: (sshd) Failed SSH login from 172.64.155.21 (DE/M\xfcnchen/-): 5 in the last 3600 secs - *Blocked in csf* [LF_SSHD]\r\n",
    )
    .unwrap();
    let before = snapshot(root);
    let (report, _) = scan_within(scanner(root), Duration::from_secs(60));
    assert_row(root, &before, &report, &[]);
    for a in [
        "104.16.201.1",
        "104.16.201.2",
        "104.16.201.3",
        "104.16.201.4",
        "172.64.155.21",
    ] {
        assert!(found(&report, a), "{a} not found: {:#?}", report.findings);
    }
    let lossy = report
        .findings
        .iter()
        .find(|f| f.address_text() == "104.16.201.1")
        .unwrap();
    assert!(lossy.scope.starts_with("ss"), "scope {:?}", lossy.scope);
}

/// Reads VmHWM (peak resident set) in KiB.
fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

/// Resets the peak to the current resident set (Linux 4.0+); false when not possible.
fn reset_hwm() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

const CHILD_ENV: &str = "CF_BAN_AUDIT_HOSTILE_CHILD";

/// Runs one test of this binary alone in a child process (so that its memory is its own),
/// killing it after `limit`. Returns its output, or `None` when it was killed.
fn run_child(test: &str, arg: &str, limit: Duration) -> Option<(bool, String)> {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, arg)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            return Some((status.success(), out));
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A value a child printed as `KEY=value`.
fn child_value(out: &str, key: &str) -> Option<u64> {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.trim().parse().ok())
}

const LONG_LINE: usize = 64 << 20;

/// The child of `matrix_single_64_mib_line`: writes the file, measures the scan's peak.
#[test]
fn child_single_64_mib_line() {
    let Ok(threads) = std::env::var(CHILD_ENV) else {
        return;
    };
    let threads: usize = threads.parse().unwrap();
    let (dir, _) = tree();
    let root = dir.path();
    let path = root.join("fail2ban.log.1");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        f.write_all(b"2026-11-24 03:00:00,000 fail2ban.server         [15521]: INFO    Starting Fail2ban v1.0.2\n").unwrap();
        let block = vec![b'A'; 1 << 16];
        for _ in 0..LONG_LINE / block.len() {
            f.write_all(&block).unwrap();
        }
        f.write_all(b"\n2026-11-24 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 104.16.202.2\n").unwrap();
    }
    let before = snapshot(root);
    let reset = reset_hwm();
    let base = vm_hwm_kib();
    let started = Instant::now();
    let report = scanner(root).threads(threads).scan();
    let took = started.elapsed();
    let peak = vm_hwm_kib();
    println!("RESET={}", u8::from(reset));
    println!("DELTA_KIB={}", peak.saturating_sub(base));
    println!("MILLIS={}", took.as_millis());
    // The line passes fail2ban's log's limit (1 MiB): cut, and an error naming its line.
    assert_row(root, &before, &report, &[(&path, 1)]);
    assert!(
        report.errors[0]
            .message
            .ends_with("fail2ban.log.1:2: line longer than 1 MiB, the most a fail2ban-log line may be: cut there, the rest of the line is not read (what stands before the cut is)"),
        "{:?}",
        report.errors
    );
    let f = report
        .findings
        .iter()
        .find(|f| f.address_text() == "104.16.202.2")
        .unwrap_or_else(|| panic!("the ban after the long line was lost"));
    println!("LINE={}", f.locations[0].line);
    let stats = report
        .files
        .iter()
        .find(|s| s.path == path.display().to_string())
        .unwrap();
    println!("LINES={}", stats.lines);
}

/// Runs the 64 MiB-line child with 1 or 2 threads; returns its `KEY=value` output.
fn long_line_child(threads: &str) -> String {
    let limit = Duration::from_secs(120);
    let Some((ok, out)) = run_child("child_single_64_mib_line", threads, limit) else {
        panic!("the 64 MiB-line scan with {threads} thread(s) did not end in {limit:?}");
    };
    eprintln!(
        "64 MiB line, {threads} thread(s): {}",
        out.lines()
            .filter(|l| l.contains('='))
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert!(ok, "child failed:\n{out}");
    out
}

/// One 64 MiB line with no break, between a real first line and a real Cloudflare ban: the ban
/// is found and the scan's peak memory grows by less than 64 MiB, read sequentially (one
/// thread) and in parallel chunks (two threads: the file is over the chunking threshold).
#[test]
fn matrix_single_64_mib_line() {
    for threads in ["1", "2"] {
        let out = long_line_child(threads);
        let delta = child_value(&out, "DELTA_KIB").unwrap();
        assert!(
            delta < 64 * 1024,
            "{threads} thread(s): peak memory grew by {delta} KiB"
        );
    }
}

/// The same file read in chunks must number its lines as the sequential read does: the ban is
/// on line 3 of 3. (A chunk boundary inside a line longer than the 4 MiB that `chunk_bounds`
/// looks ahead for a newline splits that line in two.)
#[test]
fn chunked_scan_of_a_64_mib_line_keeps_line_numbers() {
    for threads in ["1", "2"] {
        let out = long_line_child(threads);
        assert_eq!(
            child_value(&out, "LINE"),
            Some(3),
            "{threads} thread(s): line of the ban"
        );
        assert_eq!(
            child_value(&out, "LINES"),
            Some(3),
            "{threads} thread(s): lines counted"
        );
    }
}

/// A gzip file of many members: `head` first, then `members` members each of `chunk` bytes of
/// `fill`, then `tail`.
fn gzip_members(head: &[u8], fill: u8, chunk: usize, members: usize, tail: &[u8]) -> Vec<u8> {
    use flate2::{write::GzEncoder, Compression};
    let gz = |data: &[u8]| {
        let mut e = GzEncoder::new(Vec::new(), Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    bomb_members(gz, head, fill, chunk, members, tail)
}

/// `head`, then `members` streams each of `chunk` bytes of `fill`, then `tail`, each
/// compressed by `compress`.
fn bomb_members(
    compress: impl Fn(&[u8]) -> Vec<u8>,
    head: &[u8],
    fill: u8,
    chunk: usize,
    members: usize,
    tail: &[u8],
) -> Vec<u8> {
    let gz = compress;
    let mut out = gz(head);
    let block = gz(&vec![fill; chunk]);
    for _ in 0..members {
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&gz(tail));
    out
}

#[test]
fn matrix_truncated_gzip() {
    use flate2::{write::GzEncoder, Compression};
    let (dir, _) = tree();
    let root = dir.path();
    let mut log = String::new();
    log.push_str("2026-11-20 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 104.16.203.3\n");
    for i in 0..20_000u32 {
        log.push_str(&format!(
            "2026-11-20 04:{:02}:{:02},{:03} fail2ban.filter         [15521]: INFO    [sshd] Found 198.51.100.{} - 2026-11-20 04:00:00\n",
            i / 60 % 60,
            i % 60,
            i % 1000,
            i % 250
        ));
    }
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(log.as_bytes()).unwrap();
    let gz = e.finish().unwrap();
    let path = root.join("fail2ban.log.2.gz");
    std::fs::write(&path, &gz[..gz.len() / 2]).unwrap();
    let before = snapshot(root);
    let (report, _) = scan_within(scanner(root), Duration::from_secs(60));
    assert_row(root, &before, &report, &[(&path, 1)]);
    assert!(
        found(&report, "104.16.203.3"),
        "the ban before the cut was lost"
    );
    let stats = report
        .files
        .iter()
        .find(|s| s.path == path.display().to_string())
        .expect("stats of the truncated file");
    assert!(
        stats.lines > 1000 && stats.lines < 20_001,
        "lines before the cut: {}",
        stats.lines
    );
}

/// The magic bytes of each compression the scanner undoes (bzip2's with a block's magic,
/// zstd's skippable frame too).
const MAGICS: [&[u8]; 6] = [
    &[0x1f, 0x8b],
    &[0x1f, 0x8b, 0x08, 0x00],
    &[0xfd, b'7', b'z', b'X', b'Z', 0x00],
    &[0x28, 0xb5, 0x2f, 0xfd],
    &[0x50, 0x2a, 0x4d, 0x18],
    &[b'B', b'Z', b'h', b'9', 0x31, 0x41, 0x59, 0x26, 0x53, 0x59],
];

/// The compressed rotations of the fixtures, written by gzip, xz, zstd and bzip2.
const COMPRESSED_FIXTURES: [&str; 5] = [
    "fail2ban.log.2.gz",
    "fail2ban.log.3.xz",
    "fail2ban.log.4.zst",
    "fail2ban.log.5.bz2",
    "fail2ban.log.6.gz.gz",
];

/// Scans a tree holding the good log and `bytes` as a rotated log: no panic, no hang, the good
/// ban found, the tree unchanged, and at most one error, naming that file. Returns how many
/// errors name it.
fn scan_compressed(bytes: &[u8]) -> Result<usize, TestCaseError> {
    let (dir, _) = tree();
    let root = dir.path();
    let path = root.join("fail2ban.log.2.gz");
    std::fs::write(&path, bytes).unwrap();
    let before = snapshot(root);
    let (report, _) = scan_within(scanner(root).threads(1), Duration::from_secs(60));
    prop_assert!(found(&report, GOOD_ADDRESS));
    prop_assert_eq!(&before, &snapshot(root));
    let named = errors_naming(&report, &path);
    prop_assert!(named.len() <= 1, "{:#?}", report.errors);
    prop_assert_eq!(report.errors.len(), named.len(), "{:#?}", report.errors);
    Ok(named.len())
}

proptest! {
    #![proptest_config(config(96))]

    /// Random bytes after each compression's magic, bare or inside gzip (two layers): an error
    /// names the file.
    #[test]
    fn random_bytes_after_each_magic_never_panic(
        magic in 0..MAGICS.len(),
        tail in prop::collection::vec(any::<u8>(), 0..3000),
        nested in any::<bool>(),
    ) {
        let mut bytes = MAGICS[magic].to_vec();
        bytes.extend_from_slice(&tail);
        if nested {
            use flate2::{write::GzEncoder, Compression};
            let mut e = GzEncoder::new(Vec::new(), Compression::fast());
            e.write_all(&bytes).unwrap();
            bytes = e.finish().unwrap();
        }
        // Never a silent skip: what follows a magic is not a stream.
        prop_assert_eq!(scan_compressed(&bytes)?, 1);
    }

    /// The real programs' output, cut, with bytes changed or random bytes appended.
    #[test]
    fn damaged_compressed_rotations_never_panic(
        which in 0..COMPRESSED_FIXTURES.len(),
        changes in prop::collection::vec((any::<Index>(), any::<u8>()), 0..4),
        cut in any::<Index>(),
        tail in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let dir = common::fixtures().join("fail2ban/rotated");
        let mut bytes = std::fs::read(dir.join(COMPRESSED_FIXTURES[which])).unwrap();
        for (at, value) in &changes {
            let at = at.index(bytes.len());
            bytes[at] = *value;
        }
        bytes.truncate(cut.index(bytes.len() + 1).max(1));
        bytes.extend_from_slice(&tail);
        scan_compressed(&bytes)?;
    }
}

/// A log of 20,000 lines whose first line bans a Cloudflare address, compressed by each
/// compression (and gzip twice), cut at half or followed by garbage: the ban before the damage
/// is found, and one error names the file and where its data broke.
#[test]
fn matrix_damaged_compressed_rotations() {
    let mut log = String::from("2026-11-20 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 104.16.206.6\n");
    // Lines that differ as real ones do (an xz chunk holds 64 KiB of compressed data: several
    // of them, so that a cut at half leaves whole ones before it).
    let mut x = 12345u64;
    for i in 0..20_000u32 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let r = (x >> 33) as u32;
        log.push_str(&format!(
            "2026-11-20 04:{:02}:{:02},{:03} fail2ban.filter         [15521]: INFO    [sshd] Found 198.51.{}.{} - 2026-11-20 04:00:00\n",
            i / 60 % 60,
            i % 60,
            r % 1000,
            r >> 8 & 255,
            r >> 16 & 255
        ));
    }
    let gzip = |data: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    let xz = |data: &[u8]| {
        let options = lzma_rust2::XzOptions::with_preset(6);
        let mut e = lzma_rust2::XzWriter::new(Vec::new(), options).unwrap();
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    let bzip2 = |data: &[u8]| {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("fail2ban.log.3.xz", xz(log.as_bytes()), "the xz data "),
        (
            "fail2ban.log.4.zst",
            zstd::encode_all(log.as_bytes(), 3).unwrap(),
            "the zstd data ",
        ),
        (
            "fail2ban.log.5.bz2",
            bzip2(log.as_bytes()),
            "the bzip2 data ",
        ),
        (
            "fail2ban.log.6.gz.gz",
            gzip(&gzip(log.as_bytes())),
            "the gzip data ",
        ),
    ];
    for (name, whole, what) in cases {
        for damage in ["cut", "garbage"] {
            let (dir, _) = tree();
            let root = dir.path();
            let path = root.join(name);
            let bytes = match damage {
                "cut" => whole[..whole.len() / 2].to_vec(),
                _ => [&whole[..], b"\n\ngarbage"].concat(),
            };
            std::fs::write(&path, &bytes).unwrap();
            let before = snapshot(root);
            let (report, _) = scan_within(scanner(root), Duration::from_secs(60));
            assert_row(root, &before, &report, &[(&path, 1)]);
            let message = &errors_naming(&report, &path)[0];
            eprintln!("{name} {damage}: {message}");
            assert!(
                message.contains("read error (the lines before were read): ")
                    && message.contains(what)
                    && message.contains(&format!(" of {}", bytes.len())),
                "{name} {damage}: {message}"
            );
            assert!(
                found(&report, "104.16.206.6"),
                "{name} {damage}: the ban was lost"
            );
        }
    }
}

/// How much a bomb inflates to, in MiB: `CF_BAN_AUDIT_BOMB_MIB`, else `default`.
fn bomb_mib(default: usize) -> usize {
    std::env::var("CF_BAN_AUDIT_BOMB_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The child of the gzip-bomb rows: `fill` is `newlines` or `zeros`.
#[test]
fn child_gzip_bomb() {
    let Ok(arg) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut args = arg.split(':');
    let fill = if args.next() == Some("zeros") {
        0u8
    } else {
        b'\n'
    };
    let mib: usize = args.next().unwrap().parse().unwrap();
    let zstd = args.next() == Some("zstd");
    let (dir, _) = tree();
    let root = dir.path();
    let path = root.join(if zstd {
        "fail2ban.log.2.zst"
    } else {
        "fail2ban.log.2.gz"
    });
    // A real head (more than the 8 KiB detection reads), so that the file is read as a log.
    let mut head = b"2026-11-20 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 104.16.204.4\n".to_vec();
    while head.len() < 10 * 1024 {
        head.extend_from_slice(b"2026-11-20 03:06:44,000 fail2ban.filter         [15521]: INFO    [sshd] Found 198.51.100.7 - 2026-11-20 03:06:44\n");
    }
    let tail = b"\n2026-11-20 03:07:43,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 104.16.204.5\n";
    let bytes = if zstd {
        let frame = |data: &[u8]| zstd::encode_all(data, 3).unwrap();
        bomb_members(frame, &head, fill, 1 << 20, mib, tail)
    } else {
        gzip_members(&head, fill, 1 << 20, mib, tail)
    };
    println!("COMPRESSED={}", bytes.len());
    std::fs::write(&path, &bytes).unwrap();
    drop(bytes);
    let before = snapshot(root);
    let reset = reset_hwm();
    let base = vm_hwm_kib();
    let started = Instant::now();
    let report = scanner(root).threads(2).scan();
    let took = started.elapsed();
    println!("RESET={}", u8::from(reset));
    println!("DELTA_KIB={}", vm_hwm_kib().saturating_sub(base));
    println!("MILLIS={}", took.as_millis());
    println!("ERRORS={}", errors_naming(&report, &path).len());
    for e in &report.errors {
        println!("ERROR {}", e.message);
    }
    println!("HEAD_FOUND={}", u8::from(found(&report, "104.16.204.4")));
    println!("TAIL_FOUND={}", u8::from(found(&report, "104.16.204.5")));
    if let Some(s) = report
        .files
        .iter()
        .find(|s| s.path == path.display().to_string())
    {
        println!("LINES={}", s.lines);
    }
    assert!(found(&report, GOOD_ADDRESS));
    assert_eq!(before, snapshot(root), "the scan changed the tree");
}

/// Runs the bomb child; returns its output.
fn bomb_child(fill: &str, mib: usize, limit: Duration) -> String {
    // `zeros:zstd`: of zstd frames, not gzip members.
    let (fill, compression) = fill.split_once(':').unwrap_or((fill, "gzip"));
    let arg = format!("{fill}:{mib}:{compression}");
    let Some((ok, out)) = run_child("child_gzip_bomb", &arg, limit) else {
        panic!("the {compression} bomb of {mib} MiB of {fill} did not end within {limit:?}");
    };
    eprintln!(
        "{compression} bomb ({mib} MiB of {fill}): {}",
        out.lines()
            .filter(|l| l.contains('=') || l.starts_with("ERROR"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    assert!(ok, "child failed:\n{out}");
    out
}

/// A gzip bomb (a real 10 KiB log head, then a run of newlines, each a line, or of zeros, one
/// endless line): the scan ends, the peak memory grows by less than 64 MiB, the ban before the
/// bomb is found. Sized for a debug build (the decoder runs at a few MB/s unoptimised, the
/// line loop at about 2 µs a line); `CF_BAN_AUDIT_BOMB_MIB` makes both larger. The cap itself
/// is `bomb_is_cut_by_the_decompressed_size_cap`.
#[test]
fn matrix_gzip_bomb_ends_with_bounded_memory() {
    for (fill, mib) in [("zeros", bomb_mib(24)), ("newlines", bomb_mib(4))] {
        let out = bomb_child(fill, mib, Duration::from_secs(600));
        let delta = child_value(&out, "DELTA_KIB").unwrap();
        assert!(delta < 64 * 1024, "{fill}: peak memory grew by {delta} KiB");
        assert_eq!(
            child_value(&out, "HEAD_FOUND"),
            Some(1),
            "{fill}: the ban before the bomb was lost"
        );
    }
}

/// A bomb larger than the decompressed-size cap (`MIN_EXPANSION_CAP`, 1 GiB, or 1000 times the
/// file's size): an error names the file, the lines before it are counted, and the ban before
/// the bomb is found. Of zstd frames (1 MiB of zeros is 50 bytes of them): a gzip bomb cannot
/// pass 1000 times its size (deflate stops at 1032x), so its time is bounded by its size.
#[test]
fn bomb_is_cut_by_the_decompressed_size_cap() {
    let cap_mib = (cf_ban_audit_core::MIN_EXPANSION_CAP >> 20) as usize;
    let out = bomb_child("zeros:zstd", cap_mib + 16, Duration::from_secs(600));
    // The bomb's one line of zeros passes the log's line limit (an error of its own), then
    // the decompressed size passes the cap.
    assert_eq!(
        child_value(&out, "ERRORS"),
        Some(2),
        "no error naming the bomb:\n{out}"
    );
    assert!(
        out.contains("line longer than 1 MiB") && out.contains("a decompression bomb?"),
        "{out}"
    );
    assert_eq!(child_value(&out, "HEAD_FOUND"), Some(1), "{out}");
    assert_eq!(
        child_value(&out, "TAIL_FOUND"),
        Some(0),
        "read past the cap:\n{out}"
    );
    assert!(child_value(&out, "LINES").unwrap() >= 90, "{out}");
}

/// A copy of the fail2ban database fixture.
fn fixture_db() -> Vec<u8> {
    std::fs::read(common::fixtures().join("fail2ban/db/fail2ban.sqlite3")).unwrap()
}

#[test]
fn matrix_corrupt_sqlite_database() {
    let (dir, _) = tree();
    let root = dir.path();
    let mut db = fixture_db();
    // Keep the 100-byte header, wreck every page after the first.
    for (i, b) in db.iter_mut().enumerate().skip(4096) {
        *b = (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0];
    }
    let corrupt = root.join("fail2ban.sqlite3");
    std::fs::write(&corrupt, &db).unwrap();
    let before = snapshot(root);
    let (report, _) = scan_within(scanner(root), Duration::from_secs(60));
    assert_row(root, &before, &report, &[(&corrupt, 1)]);
}

/// A fail2ban database cut short (the header, a page and a bit): a broken file with a
/// database's name and magic, so it must be named in an error, not skipped as "no format".
#[test]
fn matrix_truncated_sqlite_database_is_named() {
    let (dir, _) = tree();
    let root = dir.path();
    let cut = root.join("fail2ban.sqlite3");
    std::fs::write(&cut, &fixture_db()[..5000]).unwrap();
    let before = snapshot(root);
    let (report, _) = scan_within(scanner(root), Duration::from_secs(60));
    assert_row(root, &before, &report, &[(&cut, 1)]);
}

#[test]
fn matrix_locked_sqlite_database() {
    let (dir, _) = tree();
    let root = dir.path();
    let locked_dir = root.join("lib");
    std::fs::create_dir(&locked_dir).unwrap();
    let db = locked_dir.join("fail2ban.sqlite3");
    std::fs::write(&db, fixture_db()).unwrap();
    let before = snapshot(root);
    // A writer holds an exclusive lock (as fail2ban does while it writes) during the scan.
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let writer_path = db.clone();
    let writer = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&writer_path).unwrap();
        conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
        locked_tx.send(()).unwrap();
        let _ = done_rx.recv_timeout(Duration::from_secs(120));
        conn.execute_batch("ROLLBACK").unwrap();
    });
    locked_rx.recv().unwrap();
    let (report, took) = scan_within(scanner(root), Duration::from_secs(60));
    done_tx.send(()).unwrap();
    writer.join().unwrap();
    eprintln!(
        "locked database: scan took {took:?}; errors {:?}",
        report.errors
    );
    assert_row(root, &before, &report, &[(&db, 1)]);
    assert!(
        took >= Duration::from_millis(1500),
        "gave up before the busy timeout: {took:?}"
    );
    assert!(
        took < Duration::from_secs(30),
        "waited too long on the lock: {took:?}"
    );
}

#[test]
fn matrix_path_that_does_not_exist() {
    let (dir, _) = tree();
    let root = dir.path();
    let missing = root.join("no-such-dir").join("fail2ban.log");
    let before = snapshot(root);
    let (report, _) = scan_within(scanner(root).path(&missing), Duration::from_secs(60));
    assert_row(root, &before, &report, &[(&missing, 1)]);
}

/// A file truncated (and another rotated away) while the scan reads them: no panic, no hang,
/// the good ban found, and at most one error naming each of them.
#[test]
fn matrix_file_truncated_or_rotated_while_read() {
    for (threads, chunk) in [(1usize, u64::MAX), (2, 1 << 20)] {
        let (dir, _) = tree();
        let root = dir.path();
        let big = root.join("fail2ban.log.1");
        let rotated = root.join("fail2ban.log.5");
        let mut log = Vec::with_capacity(40 << 20);
        log.extend_from_slice(b"2026-11-20 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 104.16.205.5\n");
        while log.len() < 32 << 20 {
            log.extend_from_slice(b"2026-11-20 04:00:00,000 fail2ban.filter         [15521]: INFO    [sshd] Found 198.51.100.7 - 2026-11-20 04:00:00\n");
        }
        std::fs::write(&big, &log).unwrap();
        std::fs::write(&rotated, &log).unwrap();
        drop(log);
        let (b, r) = (big.clone(), rotated.clone());
        let meddler = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            let f = std::fs::OpenOptions::new().write(true).open(&b).unwrap();
            f.set_len(1000).unwrap();
            std::fs::rename(&r, r.with_extension("6")).unwrap();
        });
        let (report, took) = scan_within(
            scanner(root).threads(threads).chunk_threshold(chunk),
            Duration::from_secs(120),
        );
        meddler.join().unwrap();
        eprintln!(
            "truncated/rotated while read ({threads} thread(s)): {took:?}, errors {:?}",
            report.errors
        );
        assert!(found(&report, GOOD_ADDRESS));
        for p in [&big, &rotated] {
            assert!(errors_naming(&report, p).len() <= 1, "{:#?}", report.errors);
        }
        let others = report
            .errors
            .iter()
            .filter(|e| {
                e.path.as_deref() != Some(&*big.display().to_string())
                    && e.path.as_deref() != Some(&*rotated.display().to_string())
            })
            .count();
        assert_eq!(others, 0, "{:#?}", report.errors);
    }
}
