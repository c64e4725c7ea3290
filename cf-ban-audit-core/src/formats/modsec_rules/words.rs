//! The words of a directive as Apache splits them (`ap_getword_conf`), and the actions of a
//! rule as ModSecurity splits them (`msre_parse_generic`).

/// The words of a directive line (continuations already joined): white space separates them;
/// a word that starts with `"` or `'` runs to the matching quote, where a backslash escapes
/// the quote or a backslash. `None` when a quote is not closed.
pub(super) fn directive_words(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut words = Vec::new();
    let mut i = 0;
    while i < line.len() {
        if line[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let quote = line[i];
        if quote == b'"' || quote == b'\'' {
            let mut word = Vec::new();
            i += 1;
            loop {
                let &c = line.get(i)?;
                if c == b'\\' && matches!(line.get(i + 1), Some(&n) if n == quote || n == b'\\') {
                    word.push(line[i + 1]);
                    i += 2;
                } else if c == quote {
                    i += 1;
                    break;
                } else {
                    word.push(c);
                    i += 1;
                }
            }
            words.push(word);
        } else {
            let start = i;
            while i < line.len() && !line[i].is_ascii_whitespace() {
                i += 1;
            }
            words.push(line[start..i].to_vec());
        }
    }
    Some(words)
}

/// The actions of a rule: (name in lower case, value), in order. `None` when a quoted value
/// is not closed or a name is followed by something else than a separator.
pub(super) fn actions(text: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut i = 0;
    let sep = |b: u8| b == b',' || b == b'|';
    while i < text.len() {
        while i < text.len() && text[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == text.len() {
            break;
        }
        let start = i;
        while i < text.len() && !sep(text[i]) && text[i] != b':' && !text[i].is_ascii_whitespace() {
            i += 1;
        }
        let name = text[start..i].to_ascii_lowercase();
        let mut value = Vec::new();
        if text.get(i) == Some(&b':') {
            i += 1;
            if text.get(i) == Some(&b'\'') {
                i += 1;
                loop {
                    let &c = text.get(i)?;
                    if c == b'\\' {
                        value.push(*text.get(i + 1)?);
                        i += 2;
                    } else if c == b'\'' {
                        i += 1;
                        break;
                    } else {
                        value.push(c);
                        i += 1;
                    }
                }
            } else {
                while i < text.len() && !sep(text[i]) && !text[i].is_ascii_whitespace() {
                    value.push(text[i]);
                    i += 1;
                }
            }
        }
        while i < text.len() && (text[i].is_ascii_whitespace() || sep(text[i])) {
            i += 1;
        }
        if name.is_empty() {
            return None;
        }
        out.push((name, value));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_as_apache_splits_them() {
        let w =
            directive_words(br#"SecRule REMOTE_ADDR "@ipMatch 1.2.3.4" 'id:1,msg:\'a b\'' x\y"#)
                .unwrap();
        assert_eq!(
            w,
            vec![
                b"SecRule".to_vec(),
                b"REMOTE_ADDR".to_vec(),
                b"@ipMatch 1.2.3.4".to_vec(),
                b"id:1,msg:'a b'".to_vec(),
                b"x\\y".to_vec(),
            ]
        );
        assert!(directive_words(b"SecRule \"open").is_none());
    }

    #[test]
    fn actions_as_modsecurity_splits_them() {
        let a = actions(
            b"id:1001, phase:1,deny,msg:'Blocked, here',setvar:'tx.a=1' , ctl:ruleEngine=Off",
        )
        .unwrap();
        let names: Vec<&[u8]> = a.iter().map(|(n, _)| n.as_slice()).collect();
        assert_eq!(
            names,
            vec![&b"id"[..], b"phase", b"deny", b"msg", b"setvar", b"ctl"]
        );
        assert_eq!(a[3].1, b"Blocked, here");
        assert_eq!(a[5].1, b"ruleEngine=Off");
        assert!(actions(b"msg:'open").is_none());
    }
}
