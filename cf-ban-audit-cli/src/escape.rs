//! The one escaping of text that reaches a terminal: file names, jail names, log text and
//! whatever `merge` reads from other hosts' reports may hold escape sequences or characters
//! that reorder what follows them. Every text output (the text report, `check`, `ranges`,
//! `merge`, `doctor`, the Nagios line, Prometheus label values and every line on standard
//! error) passes such text through [`printable`]; JSON is escaped by serde.

/// Whether `c` is escaped: C0 controls (newline and tab included), DEL, C1 controls, and the
/// bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which
/// make a terminal show text in another order than it is.
pub fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The visible form of an escaped character: `\x1b` for a control character (C0, DEL, C1),
/// `\u{202e}` for a bidirectional control.
pub fn escaped(c: char) -> String {
    if (c as u32) < 0x100 {
        format!("\\x{:02x}", c as u32)
    } else {
        format!("\\u{{{:04x}}}", c as u32)
    }
}

/// `text` with every character [`needs_escape`] names written as its [`escaped`] form (the
/// escape character becomes the four visible characters `\x1b`); other text, backslashes
/// included, is left as it is.
pub fn printable(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.push_str(&escaped(c));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_become_visible() {
        assert_eq!(printable("plain/path-1.log"), "plain/path-1.log");
        assert_eq!(printable("a\x1b[31mb"), "a\\x1b[31mb");
        assert_eq!(printable("x\ny\r\tz\0"), "x\\x0ay\\x0d\\x09z\\x00");
        assert_eq!(printable("del\x7f c1\u{9b}"), "del\\x7f c1\\x9b");
        assert_eq!(
            printable("evil\u{202e}gol.txt\u{2066}"),
            "evil\\u{202e}gol.txt\\u{2066}"
        );
        // Characters that are merely unusual stay.
        assert_eq!(printable("…/jail-é"), "…/jail-é");
        assert_eq!(printable("\u{2069}\u{202a}"), "\\u{2069}\\u{202a}");
        assert!(!needs_escape('\u{2065}') && !needs_escape('\u{202f}'));
    }
}
