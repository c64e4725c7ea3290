//! The probe's one HTTP/1.1 exchange: `GET PATH` with `Host: HOST` and `Connection: close`,
//! then the response head read up to Cloudflare's header limit, never the body. The status
//! line reader follows RFC 9112 section 4 (`HTTP-version SP status-code SP [reason-phrase]`);
//! whatever it cannot read is a malformed answer (Cloudflare's 520), never a panic.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

/// Cloudflare's limit on the origin's response headers: "Headers exceeding 128 KB" is a
/// common cause of error 520 (developers.cloudflare.com, Error 520).
pub const MAX_HEAD: usize = 128 * 1024;

/// A status line read from the origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    /// `HTTP/1.1`, `HTTP/1.0`.
    pub version: String,
    /// The three-digit status code (100 to 599).
    pub code: u16,
    /// The reason phrase (lossy UTF-8, possibly empty).
    pub reason: String,
}

/// Reads one status line (without its line end). Errors say what is wrong, for the report.
pub fn parse_status_line(line: &[u8]) -> Result<StatusLine, String> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let Some(rest) = line.strip_prefix(b"HTTP/") else {
        return Err("the answer does not start with an HTTP status line".into());
    };
    let version_ok =
        rest.len() >= 3 && rest[0].is_ascii_digit() && rest[1] == b'.' && rest[2].is_ascii_digit();
    if !version_ok {
        return Err("the status line has no HTTP version".into());
    }
    let version = String::from_utf8_lossy(&line[..8]).into_owned();
    let rest = &rest[3..];
    let Some(rest) = rest.strip_prefix(b" ") else {
        return Err("no space after the HTTP version".into());
    };
    let digits = rest.get(..3).unwrap_or(rest);
    if digits.len() != 3 || !digits.iter().all(u8::is_ascii_digit) {
        return Err("the status line has no three-digit status code".into());
    }
    let code = digits
        .iter()
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    if !(100..=599).contains(&code) {
        return Err(format!("status code {code} is out of range"));
    }
    let after = &rest[3..];
    let reason = match after.first() {
        None => String::new(),
        Some(b' ') => String::from_utf8_lossy(&after[1..]).into_owned(),
        Some(_) => return Err("the status code runs into other text".into()),
    };
    Ok(StatusLine {
        version,
        code,
        reason,
    })
}

/// The request the probe sends: what Cloudflare sends, reduced to what the origin needs to
/// pick the site (`Host`) and to close after answering.
pub fn request(host: &str, path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: cf-ban-audit-probe/{}\r\n\
         Accept: */*\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes()
}

/// How the answer's head came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// A status line and the whole header block.
    Answer {
        /// The status line.
        status: StatusLine,
        /// The status line as received (lossy UTF-8).
        line: String,
        /// The size of the head, status line and headers.
        bytes: usize,
        /// When the first byte arrived, from the start of the read.
        first_byte: Duration,
    },
    /// Closed (FIN) before sending anything.
    Closed,
    /// Reset, or another failure of the connection, before a whole head; `bytes` had come.
    Broken {
        /// What happened.
        error: String,
        /// Bytes received before.
        bytes: usize,
    },
    /// Nothing, or not a whole head, within the read timeout.
    Timeout {
        /// Bytes received before.
        bytes: usize,
    },
    /// Bytes that are not an HTTP answer (a bad status line, a head cut short by the close,
    /// or one larger than [`MAX_HEAD`]).
    Malformed {
        /// What is wrong.
        problem: String,
        /// The first line received (lossy UTF-8, at most 200 bytes).
        line: String,
        /// Bytes received.
        bytes: usize,
    },
}

/// Whether an I/O error is a read or write timeout (`SO_RCVTIMEO`/`SO_SNDTIMEO` give
/// `WouldBlock` on Unix).
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Reads the head of the answer from `r` (whose read timeout is already set), from `start`.
pub fn read_head(r: &mut dyn Read, start: Instant) -> Head {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut first_byte = None;
    loop {
        match r.read(&mut chunk) {
            Ok(0) => return closed(&buf),
            Ok(n) => {
                first_byte.get_or_insert_with(|| start.elapsed());
                let searched_from = buf.len().saturating_sub(3);
                buf.extend_from_slice(&chunk[..n]);
                // A bad first line need not wait for the rest.
                if let Some(end) = memchr::memchr(b'\n', &buf) {
                    if let Err(problem) = parse_status_line(&buf[..end]) {
                        return malformed(problem, &buf);
                    }
                }
                if let Some(end) = head_end(&buf, searched_from) {
                    let line_end = memchr::memchr(b'\n', &buf).unwrap_or(0);
                    let line_bytes = &buf[..line_end];
                    return match parse_status_line(line_bytes) {
                        Ok(status) => Head::Answer {
                            status,
                            line: first_line(&buf),
                            bytes: end,
                            first_byte: first_byte.unwrap_or_default(),
                        },
                        Err(problem) => malformed(problem, &buf),
                    };
                }
                if buf.len() > MAX_HEAD {
                    return malformed(
                        format!("the response head exceeds {} KB", MAX_HEAD / 1024),
                        &buf,
                    );
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // rustls: the peer closed without close_notify.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return closed(&buf),
            Err(e) if is_timeout(&e) => return Head::Timeout { bytes: buf.len() },
            Err(e) => {
                return Head::Broken {
                    error: e.to_string(),
                    bytes: buf.len(),
                }
            }
        }
    }
}

/// The end of the head (after its blank line) in `buf`, searching from `from`.
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    let from = from.min(buf.len());
    let crlf = memchr::memmem::find(&buf[from..], b"\r\n\r\n").map(|i| from + i + 4);
    let lf = memchr::memmem::find(&buf[from..], b"\n\n").map(|i| from + i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn closed(buf: &[u8]) -> Head {
    if buf.is_empty() {
        Head::Closed
    } else {
        malformed(
            "the origin closed the connection before the end of the response head".into(),
            buf,
        )
    }
}

fn malformed(problem: String, buf: &[u8]) -> Head {
    Head::Malformed {
        problem,
        line: first_line(buf),
        bytes: buf.len(),
    }
}

/// The first line of `buf`, at most 200 bytes, lossy UTF-8, without its line end.
fn first_line(buf: &[u8]) -> String {
    let end = memchr::memchr(b'\n', buf).unwrap_or(buf.len()).min(200);
    let line = &buf[..end];
    String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line)).into_owned()
}

/// Sends the request; `Err` carries the I/O error.
pub fn send(w: &mut dyn Write, request: &[u8]) -> io::Result<()> {
    w.write_all(request)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn head(bytes: &[u8]) -> Head {
        read_head(&mut io::Cursor::new(bytes.to_vec()), Instant::now())
    }

    #[test]
    fn status_lines() {
        let ok = parse_status_line(b"HTTP/1.1 200 OK\r").unwrap();
        assert_eq!(
            (ok.version.as_str(), ok.code, ok.reason.as_str()),
            ("HTTP/1.1", 200, "OK")
        );
        assert_eq!(parse_status_line(b"HTTP/1.0 503").unwrap().code, 503);
        assert_eq!(parse_status_line(b"HTTP/1.1 404 ").unwrap().reason, "");
        for bad in [
            &b""[..],
            b"HTTP/1.1",
            b"HTTP/1.1 20",
            b"HTTP/1.1 2000 x",
            b"HTTP/1.1 099 x",
            b"HTTP/1.1 600 x",
            b"HTTP/x.1 200 OK",
            b"HTTP/1.1  200 OK",
            b"<html>",
            b"SSH-2.0-OpenSSH_9.2",
        ] {
            assert!(
                parse_status_line(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn heads() {
        let Head::Answer { status, bytes, .. } =
            head(b"HTTP/1.1 301 Moved\r\nLocation: /x\r\n\r\nbody")
        else {
            panic!()
        };
        assert_eq!((status.code, bytes), (301, 36));
        assert_eq!(head(b""), Head::Closed);
        assert!(matches!(
            head(b"HTTP/1.1 200 OK\r\nServer: x\r\n"),
            Head::Malformed { .. }
        ));
        assert!(matches!(head(b"HTTP/1.1 200 OK"), Head::Malformed { .. }));
        let Head::Malformed { line, .. } = head(b"\x15\x03\x01\x00\x02\x02\x50") else {
            panic!()
        };
        assert_eq!(line, "\u{15}\u{3}\u{1}\0\u{2}\u{2}P");
        let big = [
            b"HTTP/1.1 200 OK\r\nX: ".as_slice(),
            &vec![b'a'; MAX_HEAD + 10],
        ]
        .concat();
        let Head::Malformed { problem, .. } = head(&big) else {
            panic!()
        };
        assert!(problem.contains("128 KB"), "{problem}");
    }

    #[test]
    fn the_request() {
        let r = String::from_utf8(request("www.example.com", "/health?x=1")).unwrap();
        assert!(
            r.starts_with("GET /health?x=1 HTTP/1.1\r\nHost: www.example.com\r\n"),
            "{r}"
        );
        assert!(r.ends_with("Connection: close\r\n\r\n"), "{r}");
    }

    /// A reader that hands out its bytes in chunks of the given sizes, then fails like a
    /// reset connection.
    struct Chunks(Vec<Vec<u8>>);

    impl Read for Chunks {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::from(io::ErrorKind::ConnectionReset));
            }
            let mut c = self.0.remove(0);
            let n = c.len().min(out.len());
            out[..n].copy_from_slice(&c[..n]);
            if n < c.len() {
                self.0.insert(0, c.split_off(n));
            }
            Ok(n)
        }
    }

    proptest! {
        /// The status-line reader on arbitrary bytes: no panic, and what it accepts is
        /// a status line.
        #[test]
        fn status_line_fuzz(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(s) = parse_status_line(&bytes) {
                prop_assert!(bytes.starts_with(b"HTTP/"));
                prop_assert!((100..=599).contains(&s.code));
            }
        }

        /// Arbitrary bytes after a plausible prefix, whole or in arbitrary pieces.
        #[test]
        fn head_fuzz(
            prefix in prop_oneof![Just(&b""[..]), Just(&b"HTTP/1.1 "[..]), Just(&b"HTTP/1.1 200 OK\r\n"[..])],
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
            cuts in proptest::collection::vec(1usize..50, 0..8),
        ) {
            let all = [prefix, &bytes].concat();
            let _ = head(&all);
            let mut pieces = Vec::new();
            let mut rest = all.as_slice();
            for c in cuts {
                let c = c.min(rest.len());
                pieces.push(rest[..c].to_vec());
                rest = &rest[c..];
            }
            pieces.push(rest.to_vec());
            let _ = read_head(&mut Chunks(pieces), Instant::now());
        }
    }
}
