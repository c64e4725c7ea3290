//! Tests of [`super`]: the real programs' output read back, streams one after another,
//! padding, trailing garbage, cut and corrupt inputs, nesting and the size cap.

use std::io::{Cursor, Read, Write};
use std::path::PathBuf;

use super::*;

/// The rotated fail2ban fixtures, compressed by the real programs.
fn fixture(name: &str) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/fail2ban/rotated");
    std::fs::read(dir.join(name)).unwrap()
}

/// The fixtures of each compression, by the program that wrote them.
const FIXTURES: [(&str, &[Compression]); 5] = [
    ("fail2ban.log.2.gz", &[Compression::Gzip]),
    ("fail2ban.log.3.xz", &[Compression::Xz]),
    ("fail2ban.log.4.zst", &[Compression::Zstd]),
    ("fail2ban.log.5.bz2", &[Compression::Bzip2]),
    (
        "fail2ban.log.6.gz.gz",
        &[Compression::Gzip, Compression::Gzip],
    ),
];

/// Everything read from `bytes` (as a file of that size), capped at `cap`, and how reading
/// ended: `Err` with the error's text.
fn read_capped(bytes: &[u8], cap: u64) -> (Vec<u8>, Vec<Compression>, Result<(), String>) {
    let opened = decompress(
        Box::new(Cursor::new(bytes.to_vec())),
        bytes.len() as u64,
        cap,
    );
    let mut reader = opened.reader;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 4096];
    let end = loop {
        match reader.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => break Err(e.to_string()),
        }
    };
    (out, opened.layers, end)
}

fn read(bytes: &[u8]) -> (Vec<u8>, Vec<Compression>, Result<(), String>) {
    read_capped(bytes, expansion_cap(bytes.len() as u64))
}

/// The text of a fixture, decompressed.
fn text(name: &str) -> Vec<u8> {
    let (out, _, end) = read(&fixture(name));
    assert_eq!(end, Ok(()), "{name}");
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn each_fixture_reads_as_a_fail2ban_log() {
    for (name, layers) in FIXTURES {
        let (out, got, end) = read(&fixture(name));
        assert_eq!(end, Ok(()), "{name}");
        assert_eq!(got, layers, "{name}");
        assert!(out.starts_with(b"2026-11-"), "{name}: {out:?}");
        assert!(out.ends_with(b"\n"), "{name}");
        assert_eq!(
            out.iter().filter(|&&b| b == b'\n').count(),
            out.split(|&b| b == b'\n').count() - 1
        );
    }
}

/// What the real program (`gzip -dc`, `xz -dc`, `zstd -dc`, `bzip2 -dc`) makes of a file:
/// `None` when it is not installed.
fn real_output(program: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    let mut child = std::process::Command::new(program)
        .args(["-d", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Some(output.stdout)
}

/// The fixtures read as the real programs read them (SKIP without them, a failure in CI).
#[test]
fn fixtures_read_as_the_real_programs_read_them() {
    let programs = [
        ("fail2ban.log.2.gz", "gzip"),
        ("fail2ban.log.3.xz", "xz"),
        ("fail2ban.log.4.zst", "zstd"),
        ("fail2ban.log.5.bz2", "bzip2"),
        ("fail2ban.log.7.gz", "gzip"),
    ];
    for (name, program) in programs {
        let Some(real) = real_output(program, &fixture(name)) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{program} is not installed (the CI installs it)"
            );
            crate::test_skip(&format!("{program} is not installed"));
            continue;
        };
        assert_eq!(text(name), real, "{name}");
    }
    if let Some(outer) = real_output("gzip", &fixture("fail2ban.log.6.gz.gz")) {
        assert_eq!(
            real_output("gzip", &outer),
            Some(text("fail2ban.log.6.gz.gz"))
        );
    }
}

#[test]
fn zero_padding_after_the_data_is_ignored_as_gzip_does() {
    let padded = fixture("fail2ban.log.7.gz");
    assert_eq!(padded.len(), 4096);
    let (out, layers, end) = read(&padded);
    assert_eq!((layers, end), (vec![Compression::Gzip], Ok(())));
    assert!(out.ends_with(b"Ban 104.24.7.7\n"), "{out:?}");
    // The same for every compression.
    for (name, _) in FIXTURES {
        let mut padded = fixture(name);
        padded.extend_from_slice(&[0; 1000]);
        let (out, _, end) = read(&padded);
        assert_eq!(end, Ok(()), "{name}");
        assert_eq!(out, text(name), "{name}");
    }
}

#[test]
fn streams_one_after_another_are_all_read() {
    for (name, _) in FIXTURES {
        let once = fixture(name);
        let mut twice = once.clone();
        // Zeros between two streams (xz's stream padding) too.
        twice.extend_from_slice(&[0; 8]);
        twice.extend_from_slice(&once);
        let (out, _, end) = read(&twice);
        assert_eq!(end, Ok(()), "{name}");
        assert_eq!(out, [text(name), text(name)].concat(), "{name}");
    }
    // Streams of different sizes, members of pigz and pbzip2 alike.
    let parts: [&[u8]; 3] = [b"a\n", b"", b"bc\nd"];
    for compress in [gzip, zstd, bzip2] {
        let joined: Vec<u8> = parts.iter().flat_map(|p| compress(p)).collect();
        let (out, _, end) = read(&joined);
        assert_eq!((out, end), (b"a\nbc\nd".to_vec(), Ok(())));
    }
}

#[test]
fn trailing_garbage_is_an_error_after_every_line() {
    for (name, layers) in FIXTURES {
        let mut bytes = fixture(name);
        let size = bytes.len();
        bytes.extend_from_slice(b"\0\0garbage");
        let (out, _, end) = read(&bytes);
        assert_eq!(out, text(name), "{name}");
        let message = end.unwrap_err();
        let what = layers[0].name();
        let expected = format!(
            "the {what} data ends at byte {} of {} and what follows is not {what} data: not read",
            size + 2,
            size + 9
        );
        assert!(message.starts_with(&expected), "{name}: {message}");
    }
}

#[test]
fn a_cut_file_hands_over_what_it_holds_then_says_where_it_ends() {
    for (name, layers) in FIXTURES {
        let whole = fixture(name);
        let full = text(name);
        // Of a nested file, a cut can leave too little of the inner data to tell it.
        let mut once = Vec::new();
        if layers.len() > 1 {
            let mut outer = flate2::read::GzDecoder::new(&whole[..]);
            outer.read_to_end(&mut once).unwrap();
        }
        for cut in MAGIC_LEN..whole.len() {
            let (out, _, end) = read(&whole[..cut]);
            let prefix = full.starts_with(&out) || (layers.len() > 1 && once.starts_with(&out));
            assert!(prefix, "{name} cut at {cut}: {out:?}");
            let message = end.expect_err(&format!("{name} cut at {cut} read as whole"));
            let what = format!("the {} data", layers[0].name());
            assert!(
                message.starts_with(&what) && message.contains(&format!("of {cut}")),
                "{name} cut at {cut}: {message}"
            );
        }
    }
    // Cut at half: the lines of the first half are read.
    // (Of whole blocks: zstd's hold 128 KiB, bzip2's 900 kB.)
    let big: Vec<u8> = (0..300_000)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .collect();
    for compress in [gzip, zstd, bzip2] {
        let whole = compress(&big);
        let (out, layers, end) = read(&whole[..whole.len() / 2]);
        assert!(
            out.len() > big.len() / 4 && big.starts_with(&out),
            "{layers:?}"
        );
        let message = end.unwrap_err();
        assert!(message.contains(" is cut short at byte "), "{message}");
    }
}

#[test]
fn corrupt_data_is_an_error_never_wrong_text() {
    for (name, layers) in FIXTURES {
        let whole = fixture(name);
        let full = text(name);
        for at in 0..whole.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bytes = whole.clone();
                bytes[at] ^= flip;
                let (out, got, end) = read(&bytes);
                match end {
                    // A byte no check covers (gzip's time and system): the same text.
                    Ok(()) if got == layers => assert_eq!(out, full, "{name} @{at}^{flip:x}"),
                    // A magic byte changed: not this compression any more.
                    Ok(()) => assert!(at < MAGIC_LEN || layers.len() > 1, "{name} @{at}"),
                    Err(message) => assert!(
                        message.contains(" data ") && message.contains(" byte "),
                        "{name} @{at}^{flip:x}: {message}"
                    ),
                }
            }
        }
    }
}

#[test]
fn nested_compressions_are_undone_up_to_the_limit() {
    let log = b"2026-11-24 03:06:43,833 fail2ban.actions [1]: NOTICE [sshd] Ban 104.16.0.1\n";
    let mut bytes = log.to_vec();
    let order = [gzip, zstd, bzip2, gzip];
    for compress in order {
        bytes = compress(&bytes);
    }
    let (out, layers, end) = read(&bytes);
    assert_eq!(end, Ok(()));
    assert_eq!(out, log);
    use Compression::*;
    assert_eq!(layers, [Gzip, Bzip2, Zstd, Gzip]);
    // xz made by xz, inside gzip.
    let (out, layers, end) = read(&gzip(&fixture("fail2ban.log.3.xz")));
    assert_eq!((layers, end), (vec![Gzip, Xz], Ok(())));
    assert_eq!(out, text("fail2ban.log.3.xz"));
    // One more is too many.
    let (out, layers, end) = read(&zstd(&bytes));
    assert!(out.is_empty());
    assert_eq!(layers, [Zstd, Gzip, Bzip2, Zstd]);
    assert_eq!(
        end.unwrap_err(),
        "compressed more than 4 times over (gzip in zstd in bzip2 in gzip in zstd): not read"
    );
}

#[test]
fn damage_inside_an_inner_layer_says_both_places() {
    let inner = fixture("fail2ban.log.2.gz");
    let mut damaged = inner.clone();
    let at = damaged.len() - 6;
    damaged[at] ^= 0xff; // the CRC
    let (out, layers, end) = read(&gzip(&damaged));
    assert_eq!(layers, [Compression::Gzip, Compression::Gzip]);
    assert_eq!(out, text("fail2ban.log.2.gz"));
    let message = end.unwrap_err();
    assert!(
        message.starts_with("the gzip data inside the gzip data is damaged at its byte ")
            && message.contains(" of the file)"),
        "{message}"
    );
    // A cut outer layer is said once, by the outer layer.
    let outer = gzip(&inner);
    let (_, _, end) = read(&outer[..outer.len() - 3]);
    let message = end.unwrap_err();
    assert!(
        message.starts_with("the gzip data is cut short at byte "),
        "{message}"
    );
}

#[test]
fn a_bomb_stops_at_the_cap_after_the_bytes_before_it() {
    let zeros = vec![b'\n'; 100_000];
    for compress in [gzip, zstd, bzip2] {
        let (out, _, end) = read_capped(&compress(&zeros), 10_000);
        assert_eq!(out.len(), 10_000);
        assert_eq!(
            end.unwrap_err(),
            "the decompressed data passes 10000 bytes, the most this file may expand to: not \
             read further (a decompression bomb?)"
        );
    }
    // Through the line reader: the lines before the cap are handed over.
    let opened = decompress(Box::new(Cursor::new(zstd(&zeros))), 10, 10_000);
    let mut reader = opened.reader;
    let err = crate::lines::for_each_line(&mut reader, |_, _| {}).unwrap_err();
    assert!(
        err.0.to_string().contains("decompression bomb"),
        "{}",
        err.0
    );
    assert_eq!(err.1, 10_001);
    // The cap of a real file: 1 GiB, or 1000 times its size.
    assert_eq!(expansion_cap(130), MIN_EXPANSION_CAP);
    assert_eq!(expansion_cap(100 << 20), 100_000 << 20);
}

#[test]
fn plain_text_passes_unchanged() {
    for text in [
        &b""[..],
        b"x",
        b"BZh9 is not bzip2 without a block\n",
        b"2026-11-24 03:06:43,833 fail2ban.actions [1]: NOTICE [sshd] Ban 104.16.0.1",
        &[0x1f][..],
    ] {
        let (out, layers, end) = read(text);
        assert_eq!((out.as_slice(), layers, end), (text, vec![], Ok(())));
    }
}

#[test]
fn a_read_error_comes_after_the_bytes_before_it() {
    /// Hands over some bytes, then fails.
    struct Flaky(Vec<u8>);
    impl Read for Flaky {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::from_raw_os_error(5));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            Ok(n)
        }
    }
    let whole = fixture("fail2ban.log.4.zst");
    let cut = whole[..whole.len() / 2].to_vec();
    let opened = decompress(Box::new(Flaky(cut)), whole.len() as u64, 1 << 30);
    assert_eq!(opened.layers, [Compression::Zstd]);
    let (head, error) = read_head(&mut { opened.reader }, 1 << 20);
    assert!(text("fail2ban.log.4.zst").starts_with(&head));
    let message = error.unwrap().to_string();
    assert!(
        message.starts_with("the zstd data could not be read at byte "),
        "{message}"
    );
    // A plain file: the bytes, then the operating system's error.
    let mut reader = decompress(Box::new(Flaky(b"plain\n".to_vec())), 6, 1 << 30).reader;
    let (head, error) = read_head(&mut reader, 100);
    assert_eq!(head, b"plain\n");
    assert_eq!(error.unwrap().raw_os_error(), Some(5));
}

#[test]
fn compression_suffixes_are_stripped() {
    assert_eq!(strip_suffixes("fail2ban.log.6.gz.gz"), "fail2ban.log.6");
    assert_eq!(strip_suffixes("fail2ban.log.3.xz"), "fail2ban.log.3");
    assert_eq!(strip_suffixes("fail2ban.log.4.zst"), "fail2ban.log.4");
    assert_eq!(strip_suffixes("fail2ban.log.5.bz2"), "fail2ban.log.5");
    assert_eq!(strip_suffixes("fail2ban.log"), "fail2ban.log");
    assert_eq!(strip_suffixes(".gz"), "");
}

#[test]
fn magic_bytes_tell_the_compression() {
    for (name, layers) in FIXTURES {
        assert_eq!(Compression::of(&fixture(name)), Some(layers[0]), "{name}");
    }
    assert_eq!(Compression::of(b"BZh91AY&SY"), Some(Compression::Bzip2));
    assert_eq!(Compression::of(b"BZh91AY&SX"), None);
    assert_eq!(
        Compression::of(&[0x5e, 0x2a, 0x4d, 0x18]),
        Some(Compression::Zstd)
    );
    assert_eq!(Compression::of(b"2026-11-24"), None);
}

/// Through a scan: a bomb past the cap and a file damaged in its first bytes are errors that
/// name them (the ban before the cap found); a compressed file of no known format is skipped.
#[test]
fn a_scan_names_each_broken_compressed_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::from(
        "2026-11-20 03:06:43,833 fail2ban.actions        [1]: NOTICE  [sshd] Ban 104.16.207.7\n",
    );
    while log.len() < 50_000 {
        log.push_str("2026-11-20 03:06:44,000 fail2ban.filter         [1]: INFO    [sshd] Found 198.51.100.7 - 2026-11-20 03:06:44\n");
    }
    let bomb = dir.path().join("fail2ban.log.2.zst");
    std::fs::write(&bomb, zstd(log.as_bytes())).unwrap();
    let broken = dir.path().join("fail2ban.log.3.gz");
    let mut head = gzip(log.as_bytes());
    head[12] ^= 0xff;
    head.truncate(40);
    std::fs::write(&broken, &head).unwrap();
    std::fs::write(dir.path().join("notes.txt.bz2"), bzip2(b"hello\n")).unwrap();
    let report = crate::Scanner::new(crate::cloudflare::embedded())
        .path(dir.path())
        .now("2026-11-24T12:00:00".parse().unwrap())
        .expansion_cap(|_| 10_000)
        .scan();
    let messages: Vec<(&str, &str)> = report
        .errors
        .iter()
        .map(|e| (e.path.as_deref().unwrap(), e.message.as_str()))
        .collect();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    let bomb = bomb.display().to_string();
    assert_eq!(messages[0].0, bomb);
    assert!(
        messages[0].1.starts_with(&format!("{bomb}:")) && messages[0].1.ends_with(
            ": read error (the lines before were read): the decompressed data passes 10000 bytes, \
             the most this file may expand to: not read further (a decompression bomb?)"
        ),
        "{messages:#?}"
    );
    let broken = broken.display().to_string();
    assert_eq!(messages[1].0, broken);
    assert!(
        messages[1]
            .1
            .starts_with(&format!("{broken}: the gzip data is damaged at byte ")),
        "{messages:#?}"
    );
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].address_text(), "104.16.207.7");
    assert_eq!(report.skipped_files, 1);
}

/// A compressed file over the chunking threshold is read whole, through its decoder: cut into
/// chunks, its compressed bytes would be read as text.
#[test]
fn a_compressed_file_is_never_read_in_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for i in 0..2_000u32 {
        log.push_str(&format!(
            "2026-11-20 03:{:02}:{:02},000 fail2ban.actions        [1]: NOTICE  [sshd] Ban 104.16.{}.{}\n",
            i / 60 % 60,
            i % 60,
            i / 250,
            i % 250
        ));
    }
    for (name, bytes) in [
        ("fail2ban.log.2.gz", gzip(log.as_bytes())),
        ("fail2ban.log.3.zst", zstd(log.as_bytes())),
    ] {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let report = crate::Scanner::new(crate::cloudflare::embedded())
        .path(dir.path())
        .now("2026-11-24T12:00:00".parse().unwrap())
        .threads(2)
        .chunk_threshold(1024)
        .scan();
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert_eq!(report.findings.len(), 2_000);
    assert!(
        report.files.iter().all(|f| f.lines == 2_000),
        "{:#?}",
        report.files
    );
}
