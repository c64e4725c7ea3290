//! Unit tests of the `cscli decisions list` table reader, on literal inputs.

use std::path::Path;

use super::*;
use crate::event::Action;
use crate::formats::test_support::{ctx, Collect};

fn read(input: &[u8]) -> Collect {
    let mut parser = CrowdsecTableParser::new(&ctx("decisions.txt"));
    let mut sink = Collect::default();
    crate::lines::for_each_line(&mut &input[..], |n, l| parser.line(n, l, &mut sink)).unwrap();
    parser.finish(&mut sink);
    sink
}

/// (address, scope, action, expires, line)
fn rows(c: &Collect) -> Vec<(String, String, Action, Option<String>, u64)> {
    c.events
        .iter()
        .map(|e| {
            (
                crate::addr::display_net(&e.net),
                e.scope.clone(),
                e.action,
                e.expires.map(|t| t.to_string()),
                e.location.line,
            )
        })
        .collect()
}

const ASCII: &str = "\
+----+----------+-----------------------+------------------------+------------+---------+----+--------+--------------------+----------+
| ID |  Source  |      Scope:Value      |         Reason         |   Action   | Country | AS | Events |     expiration     | Alert ID |
+----+----------+-----------------------+------------------------+------------+---------+----+--------+--------------------+----------+
| 3  | crowdsec | Ip:104.16.0.1         | a|b | Ip:104.16.0.2    | ban        | US      |    | 6      | 3h59m31.5s         | 3        |
| 2  | cscli    | Range:2400:cb00::/32  | manual: v6 range       | (simul)ban |         |    | 1      | 1h                 | 2        |
| 1  | cscli    | Ip:172.64.33.2        | manual: captcha test   | captcha    |         |    | 1      | 59m15s             | 1        |
| 9  | cscli    | Country:FR            | manual                 | ban        |         |    | 1      | 1h                 | 9        |
| 8  | crowdsec | Ip:104.16.0.8         | crowdsecurity/ssh-bf   | ban        |         |    | 6      | -1h                | 8        |
+----+----------+-----------------------+------------------------+------------+---------+----+--------+--------------------+----------+
";

#[test]
fn ascii_table_by_column_positions() {
    let got = read(ASCII.as_bytes());
    assert!(got.malformed.is_empty(), "{:?}", got.malformed);
    assert_eq!(
        rows(&got),
        [
            (
                "104.16.0.1".into(),
                "a|b | Ip:104.16.0.2".into(),
                Action::Listed,
                Some("2026-11-24 15:59:31.500".into()),
                4
            ),
            (
                "172.64.33.2".into(),
                "manual: captcha test (captcha)".into(),
                Action::Listed,
                Some("2026-11-24 12:59:15".into()),
                6
            ),
            (
                "104.16.0.8".into(),
                "crowdsecurity/ssh-bf".into(),
                Action::Listed,
                Some("2026-11-24 11:00:00".into()),
                8
            ),
        ]
    );
    assert!(got.events[1].challenge && !got.events[0].challenge);
    // A decisions table is the whole list of decisions in force when it was written.
    assert_eq!(got.whole_list, Some(crate::event::Tool::Crowdsec));
    assert!(
        got.notes.iter().any(|n| n.contains("Country")),
        "{:?}",
        got.notes
    );
    // `(simul)ban`: no bouncer applies it.
    assert!(
        got.notes
            .iter()
            .any(|n| n.starts_with("1 simulated decision(s) (not applied by bouncers)")),
        "{:?}",
        got.notes
    );
}

#[test]
fn rounded_box_with_colours_and_a_machine_column() {
    let input = "\
\x1b[90m╭────┬────────┬──────────────────┬────────┬────────┬─────────┬────┬────────┬────────────┬──────────┬─────────╮\x1b[0m
\x1b[90m│\x1b[0m\x1b[3m ID \x1b[0m\x1b[90m│\x1b[0m\x1b[3m Source \x1b[0m│   Scope:Value    │ Reason │ Action │ Country │ AS │ Events │ expiration │ Alert ID │ Machine │
├────┼────────┼──────────────────┼────────┼────────┼─────────┼────┼────────┼────────────┼──────────┼─────────┤
│ 1  │ cscli  │ Ip:2606:4700::1  │ café   │ ban    │         │    │ 1      │ \x1b[31m-2h\x1b[0m        │ 1        │ vm      │
│ 2  │ cscli  │ Ip:104.16.0.2    │ x      │ ban    │         │    │ 1      │ 2h         │ 2        │ vm      │
╰────┴────────┴──────────────────┴────────┴────────┴─────────┴────┴────────┴────────────┴──────────┴─────────╯
";
    assert!(looks_like_table(input.as_bytes()));
    let got = read(input.as_bytes());
    assert!(got.malformed.is_empty(), "{:?}", got.malformed);
    let r = rows(&got);
    assert_eq!(r.len(), 2);
    assert_eq!((r[0].0.as_str(), r[0].1.as_str()), ("2606:4700::1", "café"));
    assert_eq!(r[0].3.as_deref(), Some("2026-11-24 10:00:00"));
    assert_eq!(r[1].3.as_deref(), Some("2026-11-24 14:00:00"));
}

#[test]
fn tablewriter_headers_and_wrapped_cells() {
    let input = "\
+----+--------+----------------+--------------------------------+--------+---------+----+--------+------------+----------+
| ID | SOURCE |  SCOPE:VALUE   |             REASON             | ACTION | COUNTRY | AS | EVENTS | EXPIRATION | ALERT ID |
+----+--------+----------------+--------------------------------+--------+---------+----+--------+------------+----------+
|  7 | cscli  | Ip:104.16.0.7  | manual 'ban' from              | ban    |         |    |      1 | 3h59m      |        7 |
|    |        |                | 'machine-one'                  |        |         |    |        |            |          |
|  6 | cscli  | Ip:104.16.0.6  | short                          | ban    |         |    |      1 | 3h59m      |        6 |
+----+--------+----------------+--------------------------------+--------+---------+----+--------+------------+----------+
";
    assert!(looks_like_table(input.as_bytes()));
    let got = read(input.as_bytes());
    assert!(got.malformed.is_empty(), "{:?}", got.malformed);
    let r = rows(&got);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].1, "manual 'ban' from 'machine-one'");
    assert_eq!((r[0].4, r[1].4), (4, 6));
}

#[test]
fn wide_characters_fall_back_to_the_borders() {
    // A double-width character shifts the borders by one column: split at `|`.
    let input = "\
+----+--------+---------------+--------+--------+------------+
| ID | Source |  Scope:Value  | Reason | Action | expiration |
+----+--------+---------------+--------+--------+------------+
| 1  | cscli  | Ip:104.16.0.1 | 中    | ban    | 1h         |
| 2  | cscli  | Ip:104.16.0.2 | 中|x  | ban    | 1h         |
+----+--------+---------------+--------+--------+------------+
";
    let got = read(input.as_bytes());
    assert_eq!(got.events.len(), 1);
    assert_eq!(got.events[0].scope, "中");
    assert_eq!(got.malformed.len(), 1);
    assert_eq!(got.malformed[0].0, 5);
}

#[test]
fn garbage_and_invalid_utf8_never_panic() {
    let mut input = ASCII.as_bytes().to_vec();
    input.extend_from_slice(b"| \xff\xfe | x |\nhello\n\xff\xff\xff\n|  |\n");
    input.extend_from_slice(
        "| 4  | cscli    | Ip:104.16.\u{0}\u{ff}          | r                      | ban        |         |    | 1      | 1h                 | 4        |\n"
            .as_bytes(),
    );
    let got = read(&input);
    assert_eq!(got.events.len(), 3);
    assert_eq!(got.malformed.len(), 5, "{:?}", got.malformed);
    for cut in 0..input.len() {
        let _ = read(&input[..cut]);
        let _ = looks_like_table(&input[..cut]);
    }
    // Not a decisions table: refused at its header, nothing read.
    let alerts = b"+----+-------+\n| ID | value |\n+----+-------+\n| 1  | Ip:104.16.0.1 |\n";
    assert!(!looks_like_table(alerts));
    let got = read(alerts);
    assert!(got.events.is_empty());
    assert_eq!(got.malformed.len(), 1);
}

#[test]
fn detection_is_anchored() {
    assert!(looks_like_table(ASCII.as_bytes()));
    // The head may end inside a line.
    assert!(looks_like_table(&ASCII.as_bytes()[..ASCII.len() - 40]));
    assert!(!looks_like_table(b""));
    assert!(!looks_like_table(b"+----+\n"));
    let mut extra = ASCII.to_string();
    extra.push_str("No active decisions\n");
    assert!(!looks_like_table(extra.as_bytes()));
    let no_rule = ASCII.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert!(!looks_like_table(no_rule.as_bytes()));
    let path = Path::new("/tmp/x.txt");
    assert_eq!(
        super::super::detect(path, ASCII.as_bytes()),
        Some(Format::CrowdsecTable)
    );
}
