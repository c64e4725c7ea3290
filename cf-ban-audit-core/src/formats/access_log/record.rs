//! One access log record, read from its bytes without allocating: the client and the status,
//! nothing else (see the module above for the layouts and where each field comes from).

use std::net::IpAddr;

use memchr::memmem;

/// `] "`, which ends the time and opens the request: its searcher built once, not each line.
static TIME_END: std::sync::LazyLock<memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memmem::Finder::new(b"] \""));

use crate::addr::{normalize_ip, parse_ip};

/// What one line of an access log is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// A record with its client address and response status.
    Client(IpAddr, u16),
    /// A record of the format whose client is no address (a host name under Apache's
    /// `HostnameLookups On`, nginx's `unix:` for a UNIX socket) or whose status is `-`
    /// (Apache's for a request without one): counted nowhere.
    NoAddress,
}

/// The layout a line is written in (for detection: a file's records share one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `%h %l %u %t "%r" %>s ...` (combined, common, nginx's `combined`).
    Clf,
    /// `%v:%p %h %l %u %t "%r" %>s ...` (Apache's `vhost_combined`; also a virtual host
    /// name without a port before the client).
    VhostClf,
    /// One JSON object a line with a client and a status field.
    Json,
}

/// Reads one line: its record and layout, or `None` for a line of no known layout.
pub fn read(line: &[u8]) -> Option<(Record, Layout)> {
    let line = line.trim_ascii();
    if line.first() == Some(&b'{') {
        json(line).map(|r| (r, Layout::Json))
    } else {
        clf(line).map(|(r, layout, _)| (r, layout))
    }
}

/// Whether a line is a record, strictly (for detection): a text record's time must be
/// `[%d/%b/%Y:%H:%M:%S %z]` as both servers write it by default.
pub fn looks_like(line: &[u8]) -> Option<Layout> {
    let line = line.trim_ascii();
    if line.first() == Some(&b'{') {
        return json(line).map(|_| Layout::Json);
    }
    let (_, layout, time) = clf(line)?;
    clf_time(time).then_some(layout)
}

/// The next space-separated token and what follows its space.
fn token(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = memchr::memchr(b' ', b)?;
    (end > 0).then(|| (&b[..end], &b[end + 1..]))
}

/// The index of the quote that closes a quoted field starting at `b` (after its opening
/// quote), skipping backslash escapes: Apache writes `\"` and `\\` there, nginx `\x22` and
/// `\x5C`, so a raw quote always ends the field.
fn closing_quote(b: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let i = at + memchr::memchr2(b'"', b'\\', b.get(at..)?)?;
        if b[i] == b'"' {
            return Some(i);
        }
        at = i + 2;
    }
}

/// A three-digit status (nginx writes `%03ui`, so `000` and `009` too).
fn status(b: &[u8]) -> Option<u16> {
    match *b {
        [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

/// A client token as an address (IPv4-mapped IPv6 as IPv4).
fn client(b: &[u8]) -> Option<IpAddr> {
    parse_ip(b).map(normalize_ip)
}

/// A text record: its record, layout and the text its time is in (between the user and the
/// request, brackets included).
fn clf(line: &[u8]) -> Option<(Record, Layout, &[u8])> {
    let (first, rest) = token(line)?;
    let (second, rest) = token(rest)?;
    // `%h %l`: the identity is `-` (nginx writes it so; Apache's without IdentityCheck). Else
    // a virtual host before the client: `%v:%p %h %l`. Both are the server's own words:
    // attacker text (the user) comes only after them.
    let (host, layout, rest) = if second == b"-" {
        (first, Layout::Clf, rest)
    } else {
        let (third, rest) = token(rest)?;
        if third != b"-" {
            return None;
        }
        (second, Layout::VhostClf, rest)
    };
    // The user holds no raw quote (nginx escapes it as `\x22`, Apache as `\"`; Apache writes
    // an empty one as `""`, followed by a space, not `] "`), so the first `] "` closes the
    // time and opens the request.
    let open = TIME_END.find(rest)?;
    let time_start = memchr::memrchr(b'[', &rest[..open])?;
    let time = &rest[time_start..=open];
    let request = &rest[open + 3..];
    let close = closing_quote(request)?;
    let after = request[close + 1..].strip_prefix(b" ")?;
    let end = memchr::memchr(b' ', after).unwrap_or(after.len());
    let code = &after[..end];
    let record = match (client(host), status(code)) {
        (Some(ip), Some(s)) => Record::Client(ip, s),
        (None, Some(_)) => Record::NoAddress,
        (_, None) if code == b"-" => Record::NoAddress,
        (_, None) => return None,
    };
    Some((record, layout, time))
}

/// `[24/Nov/2026:03:06:43 +0000]`.
fn clf_time(t: &[u8]) -> bool {
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let digits = |r: std::ops::Range<usize>| t[r].iter().all(u8::is_ascii_digit);
    t.len() == 28
        && t[0] == b'['
        && digits(1..3)
        && t[3] == b'/'
        && MONTHS.contains(&&t[4..7])
        && t[7] == b'/'
        && digits(8..12)
        && t[12] == b':'
        && digits(13..15)
        && t[15] == b':'
        && digits(16..18)
        && t[18] == b':'
        && digits(19..21)
        && t[21] == b' '
        && matches!(t[22], b'+' | b'-')
        && digits(23..27)
        && t[27] == b']'
}

/// JSON field names that hold the client, most trusted first (compared lower-case, without
/// `_`, `-` and `.`): what `log_format ... escape=json` templates name `$remote_addr`.
const CLIENT_KEYS: &[&[u8]] = &[
    b"remoteaddr",
    b"remoteaddress",
    b"remoteip",
    b"clientip",
    b"clientaddr",
    b"clientaddress",
    b"client",
    b"ip",
    b"remotehost",
];

/// JSON field names that hold the response status.
const STATUS_KEYS: &[&[u8]] = &[
    b"status",
    b"statuscode",
    b"httpstatus",
    b"responsestatus",
    b"responsecode",
];

/// The index of `key` in `keys`, compared as [`CLIENT_KEYS`] says.
fn key_index(key: &[u8], keys: &[&[u8]]) -> Option<usize> {
    let mut buf = [0u8; 16];
    let mut n = 0;
    for &b in key {
        if matches!(b, b'_' | b'-' | b'.') {
            continue;
        }
        *buf.get_mut(n)? = b.to_ascii_lowercase();
        n += 1;
    }
    keys.iter().position(|k| *k == &buf[..n])
}

/// A JSON value of the top-level object.
enum Value<'a> {
    /// A string's raw bytes between its quotes (escapes left as written).
    Str(&'a [u8]),
    /// A number or literal, as written.
    Scalar(&'a [u8]),
    /// An object or array.
    Nested,
}

/// A cursor over one JSON line.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn next(&mut self) -> Option<u8> {
        let c = *self.b.get(self.i)?;
        self.i += 1;
        Some(c)
    }

    /// A string whose opening quote is next: its raw inner bytes.
    fn string(&mut self) -> Option<&'a [u8]> {
        if self.next()? != b'"' {
            return None;
        }
        let start = self.i;
        let len = closing_quote(&self.b[start..])?;
        self.i = start + len + 1;
        Some(&self.b[start..start + len])
    }

    /// Skips an object or array whose opening bracket is next.
    fn nested(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match *self.b.get(self.i)? {
                b'"' => {
                    self.string()?;
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        self.i += 1;
                        return Some(());
                    }
                }
                _ => {}
            }
            self.i += 1;
        }
    }

    fn value(&mut self) -> Option<Value<'a>> {
        match *self.b.get(self.i)? {
            b'"' => self.string().map(Value::Str),
            b'{' | b'[' => self.nested().map(|()| Value::Nested),
            _ => {
                let start = self.i;
                while self
                    .b
                    .get(self.i)
                    .is_some_and(|&c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace())
                {
                    self.i += 1;
                }
                (self.i > start).then(|| Value::Scalar(&self.b[start..self.i]))
            }
        }
    }
}

/// A JSON record: one object whose top-level members name a client and a status. Only
/// top-level members are read: with `escape=json` every variable is a string nginx escapes
/// (`\"`, `\\`, `\uXXXX`), so request text can never add a member or end the object.
fn json(line: &[u8]) -> Option<Record> {
    let mut c = Cursor { b: line, i: 0 };
    if c.next()? != b'{' {
        return None;
    }
    let mut found_client: Option<(usize, Value<'_>)> = None;
    let mut found_status: Option<Value<'_>> = None;
    c.ws();
    if c.b.get(c.i) == Some(&b'}') {
        return None;
    }
    loop {
        c.ws();
        let key = c.string()?;
        c.ws();
        if c.next()? != b':' {
            return None;
        }
        c.ws();
        let value = c.value()?;
        if let Some(rank) = key_index(key, CLIENT_KEYS) {
            if found_client.as_ref().is_none_or(|(r, _)| rank < *r) {
                found_client = Some((rank, value));
            }
        } else if found_status.is_none() && key_index(key, STATUS_KEYS).is_some() {
            found_status = Some(value);
        }
        c.ws();
        match c.next()? {
            b',' => {}
            b'}' => break,
            _ => return None,
        }
    }
    c.ws();
    if c.i != line.len() {
        return None;
    }
    let code = match found_status? {
        Value::Str(s) | Value::Scalar(s) => s,
        Value::Nested => return None,
    };
    let ip = match found_client?.1 {
        Value::Str(s) => client(s),
        _ => None,
    };
    Some(match (ip, status(code)) {
        (Some(ip), Some(s)) => Record::Client(ip, s),
        (None, Some(_)) => Record::NoAddress,
        (_, None) if code == b"-" || code.is_empty() => Record::NoAddress,
        (_, None) => return None,
    })
}
