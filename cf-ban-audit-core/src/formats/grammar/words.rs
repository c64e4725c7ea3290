//! Command lines split into words as a POSIX shell splits them: `ufw show added`, firewalld's
//! direct rules and passthroughs (iptables arguments).

/// Splits a command line into words the way a POSIX shell does for quotes (`'...'`, `"..."`)
/// and backslashes; `None` when a quote is left open.
pub fn shell_words(line: &[u8]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut in_word = false;
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        match b {
            b'\'' => {
                let end = memchr::memchr(b'\'', &line[i + 1..])?;
                cur.extend_from_slice(&line[i + 1..i + 1 + end]);
                i += end + 2;
                in_word = true;
                continue;
            }
            b'"' => {
                let mut j = i + 1;
                loop {
                    match *line.get(j)? {
                        b'"' => break,
                        b'\\' if matches!(line.get(j + 1), Some(b'"' | b'\\' | b'$' | b'`')) => {
                            cur.push(line[j + 1]);
                            j += 2;
                        }
                        c => {
                            cur.push(c);
                            j += 1;
                        }
                    }
                }
                i = j + 1;
                in_word = true;
                continue;
            }
            b'\\' if i + 1 < line.len() => {
                cur.push(line[i + 1]);
                i += 2;
                in_word = true;
                continue;
            }
            b if b.is_ascii_whitespace() => {
                if in_word {
                    out.push(String::from_utf8_lossy(&cur).into_owned());
                    cur.clear();
                    in_word = false;
                }
            }
            b => {
                cur.push(b);
                in_word = true;
            }
        }
        i += 1;
    }
    if in_word {
        out.push(String::from_utf8_lossy(&cur).into_owned());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backslashes_and_escapes_in_double_quotes() {
        assert_eq!(
            shell_words(br#"a\ b "c\"d\e" 'f\g'"#).unwrap(),
            vec!["a b", "c\"d\\e", "f\\g"]
        );
        assert_eq!(shell_words(b"  ").unwrap(), Vec::<String>::new());
        assert!(shell_words(br#"a "b"#).is_none());
    }
}
