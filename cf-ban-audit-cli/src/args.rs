//! The command line: clap definitions and the small parsers for option values.

use std::path::PathBuf;

use chrono::{Duration, NaiveDateTime};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Finds bans of Cloudflare edge addresses (the cause of Cloudflare Error 521) in the logs and
/// ban lists of origin security tools, and writes the snippets that prevent them.
#[derive(Debug, Parser)]
#[command(name = "cf-ban-audit", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan logs, databases and ban lists for bans of Cloudflare addresses.
    ///
    /// Exit status: 0 nothing found, 1 findings, 2 an error (findings are still printed).
    #[command(
        after_help = "Examples:\n  cf-ban-audit scan /var/log\n  cf-ban-audit scan --active --format json /var/log /var/lib/fail2ban\n  fail2ban-client banned | cf-ban-audit scan -"
    )]
    Scan(ScanArgs),
    /// Print the allow/ignore snippet for a tool.
    #[command(
        after_help = "Examples:\n  cf-ban-audit snippet fail2ban\n  cf-ban-audit snippet fail2ban --existing /etc/fail2ban/jail.local > jail.local.new"
    )]
    Snippet(SnippetArgs),
    /// Print the range set in use, with its source and date.
    Ranges(RangesArgs),
    /// List the formats cf-ban-audit reads, with their tool and usual paths.
    Formats,
}

#[derive(Debug, Args)]
pub struct RangeOpts {
    /// Extra ranges: a file with a CIDR a line, or Cloudflare's API JSON answer (repeatable).
    #[arg(long = "ranges", value_name = "FILE")]
    pub ranges: Vec<PathBuf>,
    /// Do not use the embedded Cloudflare ranges.
    #[arg(long)]
    pub no_cloudflare: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A report for people.
    Text,
    /// One JSON document (report version 1).
    Json,
    /// One JSON finding a line.
    Jsonl,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads standard input. Default: /var/log and the
    /// known ban-list and database locations.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub ranges: RangeOpts,
    /// Only findings seen since WHEN: an RFC 3339 time, a date (2026-11-01) or a duration (7d, 12h, 30m, 2w).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only these tool families, comma separated (e.g. fail2ban).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub source: Vec<String>,
    /// Only findings still in force.
    #[arg(long)]
    pub active: bool,
    /// Number of threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
    /// Follow symbolic links while walking directories.
    #[arg(long)]
    pub follow_links: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SnippetTarget {
    /// `ignoreip` for /etc/fail2ban/jail.local.
    Fail2ban,
}

#[derive(Debug, Args)]
pub struct SnippetArgs {
    /// The tool to write the snippet for.
    #[arg(value_enum)]
    pub target: SnippetTarget,
    /// Merge into this existing file (e.g. /etc/fail2ban/jail.local) and print the whole
    /// result, keeping everything it already has. The file is only read.
    #[arg(long, value_name = "FILE")]
    pub existing: Option<PathBuf>,
    #[command(flatten)]
    pub ranges: RangeOpts,
}

#[derive(Debug, Args)]
pub struct RangesArgs {
    #[command(flatten)]
    pub ranges: RangeOpts,
}

/// Reads `--since`: an RFC 3339 time, a date, a date and time, or a duration back from `now`.
pub fn parse_since(text: &str, now: NaiveDateTime) -> Result<NaiveDateTime, String> {
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&chrono::Local).naive_local());
    }
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, fmt) {
            return Ok(t);
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists"));
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: i64 = num.parse().map_err(|_| bad_since(text))?;
    let d = match unit {
        "s" => Duration::try_seconds(n),
        "m" | "min" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        "w" => Duration::try_weeks(n),
        _ => None,
    }
    .ok_or_else(|| bad_since(text))?;
    now.checked_sub_signed(d).ok_or_else(|| bad_since(text))
}

fn bad_since(text: &str) -> String {
    format!("--since {text:?}: expected an RFC 3339 time, a date like 2026-11-01, or a duration like 7d, 12h, 30m")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_forms() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        assert_eq!(
            parse_since("7d", now).unwrap().to_string(),
            "2026-11-17 12:00:00"
        );
        assert_eq!(
            parse_since("12h", now).unwrap().to_string(),
            "2026-11-24 00:00:00"
        );
        assert_eq!(
            parse_since("2026-11-01", now).unwrap().to_string(),
            "2026-11-01 00:00:00"
        );
        assert!(parse_since("yesterday", now).is_err());
        assert!(parse_since("99999999999999d", now).is_err());
    }
}
