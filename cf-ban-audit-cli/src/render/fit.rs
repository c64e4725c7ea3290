//! Fitting text to a width: display width, truncation, places shortened from the left, and
//! prose wrapped with a hanging indent.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The fewest columns a wrapped line gets for its words, however deep its indent.
const MIN_LINE: usize = 12;
/// The fewest columns left on a line worth filling with the head of a word too long for any.
const MIN_FILL: usize = 8;

/// How many terminal columns `text` takes.
pub(crate) fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// Control and bidirectional characters of text read from files, made visible (`\x1b`): a
/// report never sends a terminal a control sequence it read. The one escaping every output
/// shares.
pub(crate) use crate::escape::printable;

/// `text` in at most `max` columns, an ellipsis marking a cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// A place as the report writes it: `path:line`, or the path alone for line 0 (a database
/// row, a live read).
pub(crate) fn place(path: &str, line: u64) -> String {
    if line == 0 {
        path.to_string()
    } else {
        format!("{path}:{line}")
    }
}

/// A place in at most `max` columns: leading directories give way to `…/`, the file name and
/// line always stay (so the result is wider than `max` when they alone are). A live read's
/// label (`live: fail2ban-client banned`) is not a path and stays whole.
pub(crate) fn shorten_place(path: &str, line: u64, max: usize) -> String {
    let full = place(path, line);
    if width(&full) <= max || path.starts_with("live:") {
        return full;
    }
    let parts: Vec<&str> = path.split('/').collect();
    let suffix = if line == 0 {
        String::new()
    } else {
        format!(":{line}")
    };
    let mut shortest = full;
    for first in 1..parts.len() {
        let candidate = format!("…/{}{suffix}", parts[first..].join("/"));
        if width(&candidate) >= width(&shortest) {
            continue;
        }
        if width(&candidate) <= max {
            return candidate;
        }
        shortest = candidate;
    }
    shortest
}

/// Where a word too long for a line of `room` columns is best broken: after the last `/`, `+`
/// or `,` that keeps the head within `room` (and not too near its start), else at `room`.
/// Returns the byte index of the break; always at least one character.
fn break_at(word: &str, room: usize) -> usize {
    let mut used = 0;
    let mut hard = 0;
    let mut soft = None;
    for (i, c) in word.char_indices() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        hard = i + c.len_utf8();
        if matches!(c, '/' | '+' | ',' | ';') && used * 3 >= room {
            soft = Some(hard);
        }
    }
    if hard == 0 {
        // Not even one character fits: take one anyway.
        return word.chars().next().map_or(0, char::len_utf8);
    }
    soft.unwrap_or(hard)
}

/// `text` in lines of at most `width` columns (`None`: one line), the first starting with
/// `first` and the others with `rest` (a hanging indent: spaces, or `  #   ` for a comment).
/// Text that fits is left as it is; in text that does not, runs of spaces become one and a
/// word longer than a line is broken, after a `/` or `+` when it has one. Each line has at least [`MIN_LINE`] columns for words, however deep the indent.
pub(crate) fn wrap(text: &str, width: Option<usize>, first: &str, rest: &str) -> Vec<String> {
    // Text that fits stays as it is, spacing and all.
    let Some(max) = width.filter(|max| self::width(first) + self::width(text) > *max) else {
        return vec![format!("{first}{text}")];
    };
    let words = text.split(' ').filter(|w| !w.is_empty());
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    let room = |prefix: &str| max.saturating_sub(self::width(prefix)).max(MIN_LINE);
    for word in words {
        let mut word = word;
        loop {
            let prefix = if lines.is_empty() { first } else { rest };
            let used = self::width(&line) - self::width(prefix);
            let need = self::width(word) + usize::from(!empty);
            if used + need <= room(prefix) {
                if !empty {
                    line.push(' ');
                }
                line.push_str(word);
                empty = false;
                break;
            }
            if !empty {
                // A word no line can hold fills this one first, when there is room to.
                let left = room(prefix).saturating_sub(used + 1);
                if self::width(word) > room(rest) && left >= MIN_FILL {
                    let cut = break_at(word, left);
                    line.push(' ');
                    line.push_str(&word[..cut]);
                    word = &word[cut..];
                }
                lines.push(std::mem::replace(&mut line, rest.to_string()));
                empty = true;
                if word.is_empty() {
                    break;
                }
                continue;
            }
            // A word longer than a whole line: as much as fits, then the rest.
            let cut = break_at(word, room(prefix));
            line.push_str(&word[..cut]);
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            word = &word[cut..];
            if word.is_empty() {
                break;
            }
        }
    }
    if !empty || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// A shell command in lines of at most `width` columns, each line but the last ending in ` \`
/// (a continuation the shell reads as one command), the others indented by `rest`. Words are
/// never broken (a word longer than a line stands alone on one), nor a redirection parted
/// from its file.
pub(crate) fn wrap_command(
    command: &str,
    width: Option<usize>,
    first: &str,
    rest: &str,
) -> Vec<String> {
    let Some(max) = width else {
        return vec![format!("{first}{command}")];
    };
    // A redirection stays with its file.
    let mut words: Vec<String> = Vec::new();
    for word in command.split(' ').filter(|w| !w.is_empty()) {
        match words.last_mut() {
            Some(last) if matches!(last.as_str(), ">" | ">>" | "<" | "|") => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
    }
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in &words {
        // Room for the word and, in case more follow, the ` \`.
        if !empty && self::width(&line) + 1 + self::width(word) + 2 > max {
            line.push_str(" \\");
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_columns() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("…/x"), 3);
        assert_eq!(width("封锁"), 4);
    }

    #[test]
    fn truncation_marks_the_cut() {
        assert_eq!(truncate("nginx-limit-req", 20), "nginx-limit-req");
        assert_eq!(truncate("nginx-limit-req", 8), "nginx-l…");
        assert_eq!(width(&truncate("封锁封锁封锁", 5)), 5);
    }

    #[test]
    fn places_are_shortened_from_the_left_keeping_the_file_and_line() {
        let path = "fixtures/fail2ban/log/fail2ban-1.0.log";
        assert_eq!(shorten_place(path, 11, 80), format!("{path}:11"));
        assert_eq!(
            shorten_place(path, 11, 36),
            "…/fail2ban/log/fail2ban-1.0.log:11"
        );
        assert_eq!(shorten_place(path, 11, 30), "…/log/fail2ban-1.0.log:11");
        // Never less than the file name and line, however narrow.
        assert_eq!(shorten_place(path, 11, 5), "…/fail2ban-1.0.log:11");
        assert_eq!(
            shorten_place("/var/lib/fail2ban/fail2ban.sqlite3", 0, 30),
            "…/fail2ban/fail2ban.sqlite3"
        );
        assert_eq!(shorten_place("banned.txt", 1, 3), "banned.txt:1");
        // `…/` is no shorter than one letter and a slash.
        assert_eq!(shorten_place("a/banned.txt", 1, 3), "a/banned.txt:1");
        assert_eq!(
            shorten_place("live: fail2ban-client -s /run/f2b/x.sock banned", 0, 10),
            "live: fail2ban-client -s /run/f2b/x.sock banned"
        );
        for max in 0..60 {
            let s = shorten_place(path, 11, max);
            assert!(s.ends_with("fail2ban-1.0.log:11"), "{s}");
            assert!(width(&s) <= max.max(width("…/fail2ban-1.0.log:11")), "{s}");
        }
    }

    #[test]
    fn prose_wraps_with_a_hanging_indent() {
        let text = "fail2ban-db (fixtures/fail2ban/db/fail2ban.sqlite3) says expired; the state \
                    follows fail2ban-banned (fixtures/fail2ban/client/banned.txt:1), the latest word";
        let lines = wrap(text, Some(60), "  [1] ", "      ");
        assert!(lines.len() > 2, "{lines:#?}");
        assert!(lines[0].starts_with("  [1] fail2ban-db"), "{lines:#?}");
        for l in &lines {
            assert!(width(l) <= 60, "{l:?}");
        }
        for l in &lines[1..] {
            assert!(l.starts_with("      ") && !l[6..].starts_with(' '), "{l:?}");
        }
        // Nothing lost: the words come back joined.
        let back: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
        assert_eq!(back.join(" ").replace("[1] ", ""), text);
        // No width: one line.
        assert_eq!(wrap(text, None, "- ", "  ").len(), 1);
        assert_eq!(wrap("", Some(40), "- ", "  "), ["- "]);
        assert_eq!(wrap("a  b", Some(40), "", ""), ["a  b"]);
    }

    #[test]
    fn words_longer_than_a_line_break_after_a_slash() {
        let path = "fixtures/modsecurity/apache-concurrent/audit/www-data/20261124/20261124-0407/20261124-040739-awUNi2OBd1tlo7gEJJZ43wAAAA8:1";
        let lines = wrap(&format!("at {path}"), Some(40), "  - ", "    ");
        for l in &lines {
            assert!(width(l) <= 40, "{l:?}");
        }
        // The path starts on the first line and breaks after a `/`.
        assert!(lines[0].starts_with("  - at fixtures/"), "{lines:#?}");
        assert!(
            lines[0].ends_with('/') && lines[1].ends_with('/'),
            "{lines:#?}"
        );
        let back: String = lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join("");
        assert_eq!(back, format!("- at {path}"));
        // Wide characters count double.
        for l in wrap(&"封锁".repeat(30), Some(21), "", "") {
            assert!(width(&l) <= 21, "{l:?}");
        }
    }

    #[test]
    fn commands_wrap_with_a_continuation() {
        let cmd =
            "cf-ban-audit snippet fail2ban --existing /etc/fail2ban/jail.local > jail.local.new";
        let lines = wrap_command(cmd, Some(80), "    ", "      ");
        assert_eq!(
            lines,
            [
                "    cf-ban-audit snippet fail2ban --existing /etc/fail2ban/jail.local \\",
                "      > jail.local.new"
            ]
        );
        assert_eq!(wrap_command(cmd, Some(120), "  ", "  ").len(), 1);
        assert_eq!(wrap_command(cmd, None, "  ", "  ").len(), 1);
    }
}
