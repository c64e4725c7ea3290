//! A tokenizer for the subset of XML firewalld writes: elements, attributes in either quote,
//! entities and character references, comments, CDATA and the declaration.

/// One token of the XML.
#[derive(Debug)]
pub(super) enum Tok<'a> {
    /// `<name attr="value" ...>` or `<name .../>` (`empty`).
    Start {
        name: &'a [u8],
        attrs: Vec<(&'a [u8], String)>,
        empty: bool,
        at: usize,
    },
    /// `</name>`.
    End { name: &'a [u8], at: usize },
    /// Character data, entities decoded.
    Text { text: String },
}

/// Decodes the five XML entities and character references; an unknown entity is kept as
/// written.
pub(super) fn decode_entities(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if !text.contains('&') {
        return text.into_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest: &str = &text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.get(1..).and_then(|r| {
            let semi = r.find(';').filter(|&s| s <= 10)?;
            let name = &r[..semi];
            let c = match name {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, semi + 2))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A tokenizer for the subset of XML firewalld writes.
pub(super) struct Xml<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn is_name_end(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'/' | b'>' | b'=' | b'<')
}

impl<'a> Xml<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Xml { buf, pos: 0 }
    }

    fn skip_ws(&mut self) {
        while self.buf.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn name(&mut self) -> &'a [u8] {
        let start = self.pos;
        while self.buf.get(self.pos).is_some_and(|&b| !is_name_end(b)) {
            self.pos += 1;
        }
        &self.buf[start..self.pos]
    }

    /// Skips past `end`, or fails with `what`.
    fn skip_past(&mut self, end: &[u8], what: &str) -> Result<(), (usize, String)> {
        match memchr::memmem::find(&self.buf[self.pos..], end) {
            Some(i) => {
                self.pos += i + end.len();
                Ok(())
            }
            None => Err((self.pos, format!("unterminated {what}"))),
        }
    }

    pub(super) fn next_tok(&mut self) -> Option<Result<Tok<'a>, (usize, String)>> {
        let result = self.read();
        if result.as_ref().is_some_and(Result::is_err) {
            self.pos = self.buf.len();
        }
        result
    }

    fn read(&mut self) -> Option<Result<Tok<'a>, (usize, String)>> {
        loop {
            let at = self.pos;
            let rest = self.buf.get(at..).filter(|r| !r.is_empty())?;
            if rest[0] != b'<' {
                let end = memchr::memchr(b'<', rest).map_or(self.buf.len(), |i| at + i);
                self.pos = end;
                return Some(Ok(Tok::Text {
                    text: decode_entities(&self.buf[at..end]),
                }));
            }
            if rest.starts_with(b"<!--") {
                self.pos += 4;
                if let Err(e) = self.skip_past(b"-->", "comment") {
                    return Some(Err(e));
                }
                continue;
            }
            if rest.starts_with(b"<![CDATA[") {
                let body = at + 9;
                return Some(match memchr::memmem::find(&self.buf[body..], b"]]>") {
                    Some(i) => {
                        self.pos = body + i + 3;
                        Ok(Tok::Text {
                            text: String::from_utf8_lossy(&self.buf[body..body + i]).into_owned(),
                        })
                    }
                    None => Err((at, "unterminated CDATA section".into())),
                });
            }
            if rest.starts_with(b"<?") {
                self.pos += 2;
                if let Err(e) = self.skip_past(b"?>", "processing instruction") {
                    return Some(Err(e));
                }
                continue;
            }
            if rest.starts_with(b"<!") {
                self.pos += 2;
                if let Err(e) = self.skip_past(b">", "declaration") {
                    return Some(Err(e));
                }
                continue;
            }
            if rest.starts_with(b"</") {
                self.pos += 2;
                let name = self.name();
                self.skip_ws();
                if name.is_empty() || self.buf.get(self.pos) != Some(&b'>') {
                    return Some(Err((at, "bad end tag".into())));
                }
                self.pos += 1;
                return Some(Ok(Tok::End { name, at }));
            }
            self.pos += 1;
            let name = self.name();
            if name.is_empty() {
                return Some(Err((at, "bad tag".into())));
            }
            let mut attrs = Vec::new();
            loop {
                self.skip_ws();
                match self.buf.get(self.pos) {
                    Some(b'>') => {
                        self.pos += 1;
                        return Some(Ok(Tok::Start {
                            name,
                            attrs,
                            empty: false,
                            at,
                        }));
                    }
                    Some(b'/') if self.buf.get(self.pos + 1) == Some(&b'>') => {
                        self.pos += 2;
                        return Some(Ok(Tok::Start {
                            name,
                            attrs,
                            empty: true,
                            at,
                        }));
                    }
                    None => return Some(Err((at, "unterminated tag".into()))),
                    _ => {}
                }
                let key = self.name();
                self.skip_ws();
                if key.is_empty() || self.buf.get(self.pos) != Some(&b'=') {
                    return Some(Err((at, "bad attribute".into())));
                }
                self.pos += 1;
                self.skip_ws();
                let Some(&q @ (b'"' | b'\'')) = self.buf.get(self.pos) else {
                    return Some(Err((at, "unquoted attribute value".into())));
                };
                let start = self.pos + 1;
                let Some(len) = memchr::memchr(q, &self.buf[start..]) else {
                    return Some(Err((at, "unterminated attribute value".into())));
                };
                let raw = &self.buf[start..start + len];
                if raw.contains(&b'<') {
                    return Some(Err((at, "'<' in an attribute value".into())));
                }
                attrs.push((key, decode_entities(raw)));
                self.pos = start + len + 1;
            }
        }
    }
}

/// Attributes of an element, owned: (name, decoded value).
pub(super) type Attrs = Vec<(Vec<u8>, String)>;

/// The name and attributes of the root element of an XML document's first bytes, if they
/// are XML (a declaration, comments and white space may come first).
pub(super) fn xml_root(head: &[u8]) -> Option<(Vec<u8>, Attrs)> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first = head.iter().position(|b| !b.is_ascii_whitespace())?;
    if head[first] != b'<' {
        return None;
    }
    let mut xml = Xml::new(head);
    loop {
        match xml.next_tok()? {
            Ok(Tok::Start { name, attrs, .. }) => {
                return Some((
                    name.to_vec(),
                    attrs.into_iter().map(|(k, v)| (k.to_vec(), v)).collect(),
                ))
            }
            Ok(Tok::Text { text }) if text.trim().is_empty() => {}
            _ => return None,
        }
    }
}

pub(super) fn attr<'v>(attrs: &'v [(&[u8], String)], key: &[u8]) -> Option<&'v str> {
    attrs
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.as_str())
}

pub(super) fn is_true(value: Option<&str>) -> bool {
    value.is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "yes" | "1"))
}
