//! Input text in messages: quoted as a Rust string and cut, so that a malformed-line message
//! shows what was read without carrying a whole line of attacker text.

use std::borrow::Cow;

/// The longest text quoted from the input in a message, in bytes.
pub const MAX_QUOTE: usize = 64;

/// Input text for a message: quoted as a Rust string, cut after [`MAX_QUOTE`] bytes (and then
/// followed by `...`). Shared by the parsers whose messages quote the same way.
pub fn quote(bytes: &[u8]) -> String {
    quote_max(bytes, MAX_QUOTE)
}

/// [`quote`] with another limit: cut after `max` bytes, then followed by `...`.
pub fn quote_max(bytes: &[u8], max: usize) -> String {
    let text = cut(bytes, max);
    if bytes.len() > max {
        format!("{text:?}...")
    } else {
        format!("{text:?}")
    }
}

/// Input text quoted as a Rust string and cut after `max` bytes, with no mark of the cut.
pub fn shown(bytes: &[u8], max: usize) -> String {
    format!("{:?}", cut(bytes, max))
}

/// Text quoted as a Rust string, cut after `max` characters (and then followed by `...`).
pub fn quote_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{:?}...", &text[..at]),
        None => format!("{text:?}"),
    }
}

/// The first `max` bytes of `bytes` as text (invalid UTF-8 replaced).
fn cut(bytes: &[u8], max: usize) -> Cow<'_, str> {
    String::from_utf8_lossy(&bytes[..bytes.len().min(max)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_and_marks() {
        assert_eq!(quote(b"a\"b"), r#""a\"b""#);
        let long = [b'x'; 70];
        assert_eq!(quote(&long), format!("{:?}...", "x".repeat(64)));
        assert_eq!(shown(&long, 64), format!("{:?}", "x".repeat(64)));
        assert_eq!(quote_max(&long, 80), format!("{:?}", "x".repeat(70)));
        assert_eq!(quote_chars("ééé", 2), r#""éé"..."#);
        assert_eq!(quote_chars("éé", 2), r#""éé""#);
    }
}
