//! The table of one tool's bans, fitted to a width.
//!
//! A row per ban: STATE, ADDRESS, CLOUDFLARE RANGE, the scope, LAST SEEN, SOURCES, WHERE.
//! When the row is wider than the width, the places give way first (directories shortened from
//! the left, the file name and line kept), then the sources (`a+b+2 more`), then the scope
//! (cut with `…`). When that is not enough, each ban takes more than a line: STATE, ADDRESS,
//! CLOUDFLARE RANGE, the scope (and LAST SEEN if it fits) on the first, the rest below, under
//! the address. Addresses and ranges are never cut.

use super::fit::{self, width};

/// Before the first column.
const INDENT: &str = "  ";
/// Between columns.
const GAP: &str = "  ";
/// The narrowest a scope is cut to.
const MIN_SCOPE: usize = 8;
/// The fewest columns the lines under a row get before they start further left.
const MIN_DETAIL: usize = 28;

/// One ban, as the table shows it.
#[derive(Debug, Clone, Default)]
pub(crate) struct BanRow {
    /// `ACTIVE`, `UNCONFIRMED`, `expired`, ...
    pub state: String,
    /// The end or age of the ban (`until 2026-11-24 04:07`, `permanent`, a short note).
    pub detail: Option<String>,
    /// The footnote mark (`[1]`) of a conflict or note printed under the table.
    pub marker: Option<String>,
    pub address: String,
    pub range: String,
    pub scope: String,
    /// `2026-11-24 03:37` or `-`.
    pub last_seen: String,
    /// The formats of the evidence, the one the state follows first.
    pub sources: Vec<String>,
    /// The place of the evidence the state follows.
    pub path: String,
    pub line: u64,
}

impl BanRow {
    fn state_full(&self) -> String {
        [
            Some(&self.state),
            self.detail.as_ref(),
            self.marker.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
    }

    fn state_short(&self) -> String {
        match &self.marker {
            Some(m) => format!("{} {m}", self.state),
            None => self.state.clone(),
        }
    }
}

/// `items` joined with `+` in at most `max` columns: as many as fit, then `+N more`; never
/// less than the first and the count.
fn sources_fit(items: &[String], max: usize) -> String {
    let full = items.join("+");
    if width(&full) <= max || items.len() < 2 {
        return full;
    }
    let mut shortest = full;
    for k in (1..items.len()).rev() {
        let short = format!("{}+{} more", items[..k].join("+"), items.len() - k);
        if width(&short) <= max {
            return short;
        }
        shortest = short;
    }
    shortest
}

/// A table laid out: its header line and the lines of each row, in order.
#[derive(Debug)]
pub(crate) struct Laid {
    pub header: String,
    pub rows: Vec<Vec<String>>,
}

/// Cells padded to their columns' widths (the last not padded), after the indent.
fn join(cells: &[&str], widths: &[usize]) -> String {
    let mut s = String::from(INDENT);
    for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            s.push_str(GAP);
        }
        s.push_str(cell);
        if i + 1 < cells.len() {
            s.push_str(&" ".repeat(w.saturating_sub(width(cell))));
        }
    }
    s.trim_end().to_string()
}

/// The width of a row of columns this wide.
fn total(widths: &[usize]) -> usize {
    width(INDENT) + widths.iter().sum::<usize>() + width(GAP) * widths.len().saturating_sub(1)
}

fn widest<'a>(header: &str, cells: impl Iterator<Item = &'a str>) -> usize {
    cells.map(width).fold(width(header), usize::max)
}

/// Lays the rows out in `max` columns (`None`: as wide as they are, nothing shortened).
pub(crate) fn lay_out(scope_title: &str, rows: &[BanRow], max: Option<usize>) -> Laid {
    let states: Vec<String> = rows.iter().map(BanRow::state_full).collect();
    let sources: Vec<String> = rows.iter().map(|r| r.sources.join("+")).collect();
    let places: Vec<String> = rows.iter().map(|r| fit::place(&r.path, r.line)).collect();
    let headers = [
        "STATE",
        "ADDRESS",
        "CLOUDFLARE RANGE",
        scope_title,
        "LAST SEEN",
        "SOURCES",
        "WHERE",
    ];
    let natural = [
        widest(headers[0], states.iter().map(String::as_str)),
        widest(headers[1], rows.iter().map(|r| r.address.as_str())),
        widest(headers[2], rows.iter().map(|r| r.range.as_str())),
        widest(headers[3], rows.iter().map(|r| r.scope.as_str())),
        widest(headers[4], rows.iter().map(|r| r.last_seen.as_str())),
        widest(headers[5], sources.iter().map(String::as_str)),
        widest(headers[6], places.iter().map(String::as_str)),
    ];
    let mut w = natural;
    if let Some(max) = max {
        // Give way in order: places, sources, scope; each no further than its narrowest.
        let narrowest = [
            (
                6,
                widest(
                    headers[6],
                    rows.iter()
                        .map(|r| fit::shorten_place(&r.path, r.line, 0))
                        .collect::<Vec<_>>()
                        .iter()
                        .map(String::as_str),
                ),
            ),
            (
                5,
                widest(
                    headers[5],
                    rows.iter()
                        .map(|r| sources_fit(&r.sources, 0))
                        .collect::<Vec<_>>()
                        .iter()
                        .map(String::as_str),
                ),
            ),
            (3, natural[3].min(MIN_SCOPE.max(width(headers[3])))),
        ];
        for (col, least) in narrowest {
            let excess = total(&w).saturating_sub(max);
            w[col] -= excess.min(w[col].saturating_sub(least));
        }
        if total(&w) > max {
            return stacked(&headers, rows, max);
        }
    }
    let header = join(&headers, &w);
    let rows = rows
        .iter()
        .zip(&states)
        .map(|(r, state)| {
            let scope = fit::truncate(&r.scope, w[3]);
            let sources = sources_fit(&r.sources, w[5]);
            let place = fit::shorten_place(&r.path, r.line, w[6]);
            let cells = [
                state.as_str(),
                &r.address,
                &r.range,
                &scope,
                &r.last_seen,
                &sources,
                &place,
            ];
            vec![join(&cells, &w)]
        })
        .collect();
    Laid { header, rows }
}

/// The layout for narrow widths: STATE, ADDRESS, CLOUDFLARE RANGE, the scope and, when it
/// fits, LAST SEEN on a row's first line; under the address, the end or age of the ban (and
/// LAST SEEN when it did not fit), then the sources and the place.
fn stacked(headers: &[&str; 7], rows: &[BanRow], max: usize) -> Laid {
    let shorts: Vec<String> = rows.iter().map(BanRow::state_short).collect();
    let mut w = [
        widest(headers[0], shorts.iter().map(String::as_str)),
        widest(headers[1], rows.iter().map(|r| r.address.as_str())),
        widest(headers[2], rows.iter().map(|r| r.range.as_str())),
        widest(headers[3], rows.iter().map(|r| r.scope.as_str())),
        widest(headers[4], rows.iter().map(|r| r.last_seen.as_str())),
    ];
    // LAST SEEN stays on the first line only when the scope need not be cut for it.
    let with_last = total(&w) <= max;
    let columns = if with_last { 5 } else { 4 };
    let least_scope = w[3].min(MIN_SCOPE.max(width(headers[3])));
    let excess = total(&w[..columns]).saturating_sub(max);
    w[3] -= excess.min(w[3] - least_scope);
    let mut at = width(INDENT) + w[0] + width(GAP);
    if max.saturating_sub(at) < MIN_DETAIL {
        at = width(INDENT) * 2;
    }
    let room = max.saturating_sub(at);
    let under = " ".repeat(at);
    let hanging = " ".repeat(at + 2);
    let laid = rows
        .iter()
        .zip(&shorts)
        .map(|(r, state)| {
            let scope = fit::truncate(&r.scope, w[3]);
            let cells = [state.as_str(), &r.address, &r.range, &scope, &r.last_seen];
            let mut lines = vec![join(&cells[..columns], &w[..columns])];
            let seen =
                (!with_last && r.last_seen != "-").then(|| format!("last seen {}", r.last_seen));
            let when: Vec<&str> = r.detail.iter().chain(&seen).map(String::as_str).collect();
            if !when.is_empty() {
                lines.extend(fit::wrap(&when.join(", "), Some(max), &under, &hanging));
            }
            let from = format!("from {}", r.sources.join("+"));
            let full = fit::place(&r.path, r.line);
            if width(&from) + width(" at ") + width(&full) <= room {
                lines.push(format!("{under}{from} at {full}"));
            } else {
                let least = fit::shorten_place(&r.path, r.line, 0);
                if width(&from) + width(" at ") + width(&least) <= room {
                    let place =
                        fit::shorten_place(&r.path, r.line, room - width(&from) - width(" at "));
                    lines.push(format!("{under}{from} at {place}"));
                } else {
                    lines.extend(fit::wrap(&from, Some(max), &under, &hanging));
                    let place =
                        fit::shorten_place(&r.path, r.line, room.saturating_sub(width("at ")));
                    lines.push(format!("{under}at {place}"));
                }
            }
            lines
        })
        .collect();
    Laid {
        header: join(&headers[..columns], &w[..columns]),
        rows: laid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(state: &str, address: &str, path: &str, sources: &[&str]) -> BanRow {
        BanRow {
            state: state.into(),
            detail: (state == "ACTIVE").then(|| "until 2026-11-24 04:07".to_string()),
            marker: None,
            address: address.into(),
            range: "2400:cb00::/32".into(),
            scope: "apache-modsecurity-very-long-jail".into(),
            last_seen: "2026-11-24 03:37".into(),
            sources: sources.iter().map(|s| s.to_string()).collect(),
            path: path.into(),
            line: 11,
        }
    }

    fn sample() -> Vec<BanRow> {
        let long = "fixtures/modsecurity/apache-concurrent/audit/www-data/20261124/20261124-0407/20261124-040739-awUNi2OBd1tlo7gEJJZ43wAAAA8";
        vec![
            row(
                "ACTIVE",
                "2400:cb00:2049:1::a29f:1804",
                "fixtures/fail2ban/log/fail2ban-1.0.log",
                &["fail2ban-banned(live)", "fail2ban-db", "fail2ban-log"],
            ),
            BanRow {
                marker: Some("[12]".into()),
                ..row("UNCONFIRMED", "104.16.9.9", long, &["fail2ban-log"])
            },
            row(
                "lifted",
                "162.158.0.0/24",
                "/var/log/fail2ban.log",
                &["fail2ban-log", "syslog"],
            ),
        ]
    }

    fn all_lines(laid: &Laid) -> Vec<&String> {
        std::iter::once(&laid.header)
            .chain(laid.rows.iter().flatten())
            .collect()
    }

    #[test]
    fn unlimited_width_shows_everything() {
        let rows = sample();
        let laid = lay_out("JAIL", &rows, None);
        assert!(laid.rows.iter().all(|r| r.len() == 1));
        let text: Vec<&String> = all_lines(&laid);
        assert!(text[1].contains("fixtures/fail2ban/log/fail2ban-1.0.log:11"));
        assert!(text[1].contains("fail2ban-banned(live)+fail2ban-db+fail2ban-log"));
        assert!(text[1].contains("ACTIVE until 2026-11-24 04:07"));
        assert!(text[2].contains(&format!("{}:11", rows[1].path)));
        assert!(text[2].contains("UNCONFIRMED [12]"));
    }

    #[test]
    fn at_200_columns_a_ban_is_one_line_within_the_width() {
        let rows = sample();
        let laid = lay_out("JAIL", &rows, Some(200));
        assert!(laid.rows.iter().all(|r| r.len() == 1), "{laid:#?}");
        for l in all_lines(&laid) {
            assert!(width(l) <= 200, "{l}");
        }
        // The long place gave way from the left; the short ones are whole.
        assert!(laid.rows[1][0].contains("…/"), "{laid:#?}");
        assert!(laid.rows[1][0].ends_with("/20261124-040739-awUNi2OBd1tlo7gEJJZ43wAAAA8:11"));
        // Places that fit the column stay whole.
        assert!(laid.rows[0][0].ends_with("  fixtures/fail2ban/log/fail2ban-1.0.log:11"));
        assert!(laid.rows[2][0].ends_with("  /var/log/fail2ban.log:11"));
        // Then the sources gave way (from the end), then the scope.
        assert!(laid.rows[0][0].contains("  fail2ban-banned(live)+2 more  "));
        assert!(laid.rows[0][0].contains("  apache-modsecurity-v"));
        assert!(!laid.rows[0][0].contains("apache-modsecurity-very-long-jail"));
    }

    #[test]
    fn shrinking_goes_places_then_sources_then_scope() {
        let mut rows = sample();
        rows.truncate(1);
        let laid = lay_out("JAIL", &rows, None);
        let natural = width(&laid.rows[0][0]);
        // A little short: only the place gives way.
        let laid = lay_out("JAIL", &rows, Some(natural - 10));
        assert!(laid.rows[0][0].contains("…/"), "{laid:#?}");
        assert!(laid.rows[0][0].contains("fail2ban-banned(live)+fail2ban-db+fail2ban-log"));
        assert!(laid.rows[0][0].contains("apache-modsecurity-very-long-jail"));
        // Shorter: the sources too, from the end.
        let laid = lay_out("JAIL", &rows, Some(natural - 26));
        assert!(
            laid.rows[0][0].contains("…/fail2ban-1.0.log:11"),
            "{laid:#?}"
        );
        assert!(
            laid.rows[0][0].contains("fail2ban-banned(live)+fail2ban-db+1 more"),
            "{laid:#?}"
        );
        assert!(laid.rows[0][0].contains("apache-modsecurity-very-long-jail"));
        // Shorter still: the scope is cut.
        let laid = lay_out("JAIL", &rows, Some(natural - 60));
        assert_eq!(laid.rows[0].len(), 1, "{laid:#?}");
        assert!(
            laid.rows[0][0].contains("fail2ban-banned(live)+2 more"),
            "{laid:#?}"
        );
        assert!(laid.rows[0][0].contains("  apache-mod…  "), "{laid:#?}");
        assert_eq!(width(&laid.rows[0][0]), natural - 60);
    }

    #[test]
    fn at_80_columns_rows_take_more_lines_and_nothing_is_wider() {
        let rows = sample();
        let laid = lay_out("JAIL", &rows, Some(80));
        for l in all_lines(&laid) {
            assert!(width(l) <= 80, "{l:?} is {} wide", width(l));
        }
        // Addresses and ranges whole; every row has its state, sources and place.
        for (lines, r) in laid.rows.iter().zip(&rows) {
            assert!(
                lines[0].starts_with(&format!("  {}", r.state)),
                "{lines:#?}"
            );
            assert!(lines[0].contains(&r.address) && lines[0].contains(&r.range));
            let text = lines.join("\n");
            assert!(text.contains(&format!("from {}", r.sources[0])), "{text}");
            assert!(text.contains(":11"), "{text}");
        }
        assert!(laid.rows[0].join("\n").contains("until 2026-11-24 04:07"));
        assert!(laid.rows[1][0].contains("UNCONFIRMED [12]"));
        // The detail lines start under the address.
        let at = laid.header.find("ADDRESS").unwrap();
        assert!(laid.rows[0][1].starts_with(&" ".repeat(at)));
        assert_ne!(laid.rows[0][1].as_bytes()[at], b' ');
    }

    #[test]
    fn sources_give_way_from_the_end() {
        let items: Vec<String> = ["a-log(live)", "b-db", "c-log"].map(String::from).to_vec();
        assert_eq!(sources_fit(&items, 40), "a-log(live)+b-db+c-log");
        assert_eq!(sources_fit(&items, 20), "a-log(live)+2 more");
        assert_eq!(sources_fit(&items, 0), "a-log(live)+2 more");
        assert_eq!(sources_fit(&items[..1], 3), "a-log(live)");
    }
}
