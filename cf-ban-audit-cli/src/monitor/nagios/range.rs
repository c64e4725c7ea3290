//! Nagios threshold ranges, as the plugin guidelines define them
//! (<https://nagios-plugins.org/doc/guidelines.html#THRESHOLDFORMAT>) and the monitoring
//! plugins read them (`parse_range_string` and `check_range` in monitoring-plugins'
//! `lib/utils_base.c`): `N` alerts outside 0..N, `N:` below N, `~:N` above N, `M:N` outside
//! M..N, and a leading `@` alerts inside instead.

use std::fmt;

/// One range: alert when a value lies outside `start..=end` (inside with `@`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// The lower bound; `-inf` for `~`.
    start: f64,
    /// The upper bound; `+inf` when left out (`N:`).
    end: f64,
    /// `@`: alert inside the range.
    inside: bool,
}

impl Range {
    /// The range that alerts on any value above `n` (`n`, i.e. `0:n`).
    pub fn above(n: f64) -> Range {
        Range {
            start: 0.0,
            end: n,
            inside: false,
        }
    }

    /// Reads `[@]N`, `[@]M:`, `[@]~:N`, `[@]M:N`.
    pub fn parse(text: &str) -> Result<Range, String> {
        let bad = |why: &str| {
            format!("threshold {text:?}: {why} (a range such as 5, 10:, ~:5, 1:5 or @1:5)")
        };
        let (inside, body) = match text.trim().strip_prefix('@') {
            Some(rest) => (true, rest),
            None => (false, text.trim()),
        };
        let number = |s: &str| -> Result<f64, String> {
            s.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| bad(&format!("{s:?} is not a number")))
        };
        let (start, end) = match body.split_once(':') {
            Some((start, end)) => {
                let start = match start {
                    "~" => f64::NEG_INFINITY,
                    "" => 0.0,
                    s => number(s)?,
                };
                let end = if end.is_empty() {
                    f64::INFINITY
                } else {
                    number(end)?
                };
                (start, end)
            }
            None if body.is_empty() => return Err(bad("empty")),
            None => (0.0, number(body)?),
        };
        if start > end {
            return Err(bad("the start is above the end"));
        }
        Ok(Range { start, end, inside })
    }

    /// Whether `value` raises the alert this range stands for.
    pub fn alerts(&self, value: f64) -> bool {
        let within = self.start <= value && value <= self.end;
        within == self.inside
    }
}

/// The canonical text, as performance data carries it: `0`, `5`, `10:`, `~:5`, `@1:5`.
impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let num = |n: f64| {
            if n.fract() == 0.0 && n.abs() < 1e15 {
                format!("{}", n as i64)
            } else {
                format!("{n}")
            }
        };
        if self.inside {
            f.write_str("@")?;
        }
        if self.start == 0.0 && self.end.is_finite() {
            return f.write_str(&num(self.end));
        }
        let start = if self.start.is_infinite() {
            "~".to_string()
        } else {
            num(self.start)
        };
        let end = if self.end.is_infinite() {
            String::new()
        } else {
            num(self.end)
        };
        write!(f, "{start}:{end}")
    }
}

#[cfg(test)]
mod tests {
    use super::Range;

    fn alerts(range: &str, value: f64) -> bool {
        Range::parse(range).unwrap().alerts(value)
    }

    #[test]
    fn the_guidelines_table() {
        // "10": < 0 or > 10.
        assert!(
            !alerts("10", 0.0) && !alerts("10", 10.0) && alerts("10", 11.0) && alerts("10", -1.0)
        );
        // "10:": < 10.
        assert!(alerts("10:", 9.0) && !alerts("10:", 10.0) && !alerts("10:", 1e9));
        // "~:10": > 10.
        assert!(!alerts("~:10", -1e9) && alerts("~:10", 11.0));
        // "10:20": outside 10..20.
        assert!(alerts("10:20", 9.0) && !alerts("10:20", 15.0) && alerts("10:20", 21.0));
        // "@10:20": inside 10..20.
        assert!(!alerts("@10:20", 9.0) && alerts("@10:20", 10.0) && alerts("@10:20", 20.0));
        // "0": anything above 0.
        assert!(!alerts("0", 0.0) && alerts("0", 1.0));
    }

    #[test]
    fn canonical_text_and_refusals() {
        for (given, shown) in [
            ("0", "0"),
            ("0:5", "5"),
            ("10:", "10:"),
            ("~:5", "~:5"),
            ("@1:5", "@1:5"),
            ("2.5", "2.5"),
        ] {
            assert_eq!(Range::parse(given).unwrap().to_string(), shown);
        }
        for bad in ["", "x", "5:1", "@", "1:2:3", "inf", "NaN"] {
            assert!(Range::parse(bad).is_err(), "{bad}");
        }
    }
}
