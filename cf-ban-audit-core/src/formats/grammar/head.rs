//! The head of a file: the lines of its first bytes that formats are detected by.

/// The first 20 non-empty lines of a file's head, trimmed: what line-by-line logs are told by.
pub fn lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .filter(|l| !l.is_empty())
        .take(20)
}

/// How many lines [`log_lines`] gives.
const LOG_LINES: usize = 20;

/// The first 20 lines of `head` that are neither blank nor comments (`#`, as in fail2ban's
/// test samples), trimmed, without a last line that the end of `head` may have cut: what the
/// web servers' error logs are told by.
pub fn log_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    if lines.len() > 1 && !head.ends_with(b"\n") {
        lines.pop();
    }
    lines
        .into_iter()
        .map(|l| l.trim_ascii())
        .filter(|l| !l.is_empty() && !l.starts_with(b"#"))
        .take(LOG_LINES)
}

/// The first 20 records of `head`: its lines that are neither blank, `#` comments nor indented
/// (the continuation of a record above, such as a Python traceback), trimmed, without a last
/// line that the end of `head` may have cut. Formats whose every record starts a line at its
/// first column (fail2ban's log, syslog) are weighed by these: most of them must be the
/// format's own.
pub fn record_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    if lines.len() > 1 && !head.ends_with(b"\n") {
        lines.pop();
    }
    lines
        .into_iter()
        .filter(|l| !l.starts_with(b" ") && !l.starts_with(b"\t"))
        .map(|l| l.trim_ascii())
        .filter(|l| !l.is_empty() && !l.starts_with(b"#"))
        .take(LOG_LINES)
}

/// Whether more than half of the records are the format's own (and there is one).
pub fn mostly(own: usize, total: usize) -> bool {
    own > 0 && own * 2 > total
}

/// The lines of a file's first bytes that web server configuration is detected by: trimmed,
/// neither blank nor `#` comments, at most 400.
pub fn conf_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .filter(|l| !l.is_empty() && !l.starts_with(b"#"))
        .take(400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_drop_comments_blanks_and_a_cut_last_line() {
        let got: Vec<&[u8]> = log_lines(b"# c\n\n  a  \nb\ncut").collect();
        assert_eq!(got, vec![&b"a"[..], b"b"]);
        let got: Vec<&[u8]> = log_lines(b"only").collect();
        assert_eq!(got, vec![&b"only"[..]]);
    }

    #[test]
    fn record_lines_drop_continuations() {
        let got: Vec<&[u8]> =
            record_lines(b"a\nTraceback:\n  File \"x\"\n\tmore\n# c\nb\ncut").collect();
        assert_eq!(got, vec![&b"a"[..], b"Traceback:", b"b"]);
        assert!(mostly(2, 3) && !mostly(1, 2) && !mostly(0, 0));
    }

    #[test]
    fn lines_keep_comments_and_stop_at_twenty() {
        let text = "# x\n".repeat(30);
        assert_eq!(lines(text.as_bytes()).count(), 20);
        assert_eq!(conf_lines(text.as_bytes()).count(), 0);
    }
}
