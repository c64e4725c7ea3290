//! The command line: clap definitions and the small parsers for option values.

use std::path::PathBuf;

use cf_ban_audit_core::snippet::Target;
use chrono::{Duration, NaiveDateTime};
use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Find the bans of Cloudflare addresses that cause Cloudflare Error 521, and prevent them.
///
/// Behind Cloudflare every visitor reaches the origin from a Cloudflare edge address, so the
/// origin's security tools (fail2ban, CrowdSec, ModSecurity, nginx and Apache limits, csf,
/// iptables, nftables, ipset, ufw, firewalld, BT-Panel) end up banning Cloudflare itself, and
/// whole regions see a 521. cf-ban-audit reads their logs, ban lists, databases and live state,
/// reports every ban of a Cloudflare address with the tool, rule and file line that made it and
/// whether it is still in force, prints the command that lifts it, and writes the ignore/allow
/// snippets that stop it from happening again.
#[derive(Debug, Parser)]
#[command(name = "cf-ban-audit", version = version())]
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
    /// Audit existing allow/ignore lists: the ranges they miss, entries that are not
    /// Cloudflare's any more, over-broad entries, fail2ban jails that override DEFAULT. Cloud
    /// security group exports (AWS, GCP, Azure, Alibaba Cloud, Tencent Cloud JSON): which
    /// ranges each TCP port 80 and 443 refuses, and by which rule.
    ///
    /// Exit status: 0 every file covers the ranges, 1 gaps, 2 an error.
    #[command(
        after_help = "Examples:\n  cf-ban-audit check /etc/fail2ban/jail.local /etc/csf/csf.ignore\n  cf-ban-audit check --format json /etc/nginx/conf.d/cloudflare.conf\n  aws ec2 describe-security-groups --group-ids sg-0123 > sg.json && cf-ban-audit check sg.json"
    )]
    Check(CheckArgs),
    /// Check every cause of a Cloudflare 521 the origin can see: web server, listeners,
    /// firewall verdict for Cloudflare's ranges, bans, resources. A checklist with evidence
    /// and fixes.
    ///
    /// Exit status: 0 no FAIL (warnings allowed), 1 any FAIL, 2 an error.
    #[command(
        after_help = "Examples:\n  cf-ban-audit doctor\n  cf-ban-audit doctor --port 443 --format json\n  cf-ban-audit doctor --no-live --iptables rules.v4 --nft nftables.conf --ss ss.txt --no-scan"
    )]
    Doctor(crate::doctor_cmd::DoctorArgs),
    /// Connect to the origin directly, as a Cloudflare edge would (bypassing Cloudflare, like a
    /// hosts-file entry), and say what Cloudflare would show: 520 to 526, or the origin's own
    /// answer. The first step when visitors see a Cloudflare 5xx.
    ///
    /// Exit status: 0 the origin answers 2xx or 3xx, 1 Cloudflare would show an error or the
    /// origin answers 4xx or 5xx, 2 the probe could not run.
    #[command(
        after_help = "Examples:\n  cf-ban-audit probe www.example.com --origin 192.0.2.10\n  cf-ban-audit probe www.example.com --origin 192.0.2.10 --port 80\n  cf-ban-audit probe www.example.com --origin 192.0.2.10 --mode full --format json\n  cf-ban-audit probe www.example.com --origin 198.51.100.10 --from-edge 173.245.49.12"
    )]
    Probe(crate::probe_cmd::ProbeArgs),
    /// End an outage and prevent the next one: scan with live state, then plan the lift of
    /// every ban in force on a Cloudflare address (its own lift command) and the merge of the
    /// ranges into fail2ban's jail.local with a reload; with --apply run it (journal, backups,
    /// fail2ban's own check first) and re-scan.
    ///
    /// Exit status: 0 nothing left in force (or nothing to do), 1 bans or failed steps left,
    /// 2 an error (also --apply without a terminal and without --yes).
    #[command(
        after_help = "Examples:\n  cf-ban-audit fix\n  cf-ban-audit fix --apply\n  cf-ban-audit fix --apply --yes --format json\n  cf-ban-audit fix --undo /var/lib/cf-ban-audit/fix-20261203T180000Z.jsonl"
    )]
    Fix(crate::fix_cmd::FixArgs),
    /// Print the range set in use, with its source and date; `ranges update` refreshes it.
    #[command(
        after_help = "Examples:\n  cf-ban-audit ranges\n  cf-ban-audit ranges update\n  cf-ban-audit ranges update --ranges-url https://mirror.example/client/v4/ips"
    )]
    Ranges(RangesArgs),
    /// List the formats cf-ban-audit reads, with their tool and usual paths.
    Formats,
    /// Combine JSON reports of several hosts (`scan --format json`) into one view.
    #[command(after_help = "Example:\n  cf-ban-audit merge reports/*/report.json")]
    Merge(MergeArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Example:\n  cf-ban-audit completions bash > /etc/bash_completion.d/cf-ban-audit"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or write every page to a directory.
    #[command(
        after_help = "Examples:\n  cf-ban-audit man > /usr/local/share/man/man1/cf-ban-audit.1\n  cf-ban-audit man --dir /usr/local/share/man/man1"
    )]
    Man {
        /// Write cf-ban-audit.1 and a page for each command (cf-ban-audit-scan.1, ...) into DIR
        /// (made if missing) instead of printing cf-ban-audit.1.
        #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
        dir: Option<PathBuf>,
    },
    /// Exit 0 when every ADDRESS lies in the range set in use, 1 otherwise: for fail2ban's
    /// `ignorecommand = /usr/local/bin/cf-ban-audit contains <ip>`.
    #[command(
        after_help = "Example (jail.local, [DEFAULT]):\n  ignorecommand = /usr/local/bin/cf-ban-audit contains <ip>"
    )]
    Contains(ContainsArgs),
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
    /// node_exporter textfile metrics (Prometheus exposition format).
    Prometheus,
    /// One Nagios/Icinga status line with perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    Nagios,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard output is a terminal and NO_COLOR is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
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
    /// Only these tool families, comma separated (e.g. fail2ban,modsecurity: the tools
    /// `cf-ban-audit formats` names).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        value_parser = ToolNames,
        hide_possible_values = true
    )]
    pub source: Vec<String>,
    /// Only findings still in force.
    #[arg(long)]
    pub active: bool,
    /// The host name the report carries (default: the machine's), for `merge` across a fleet
    /// whose machines share a name.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub host: Option<String>,
    /// Number of threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
    /// Follow symbolic links while walking directories.
    #[arg(long)]
    pub follow_links: bool,
    /// fail2ban's configuration directory (jail.conf, jail.d, jail.local), for each jail's
    /// ban length and ignore list (default: the one such directory among the scanned files,
    /// or /etc/fail2ban when scanning the default places).
    #[arg(
        long,
        value_name = "DIR",
        env = "CF_BAN_AUDIT_FAIL2BAN_CONFIG",
        value_hint = clap::ValueHint::DirPath
    )]
    pub fail2ban_config: Option<PathBuf>,
    /// Write the report to FILE instead of standard output: a regular file is replaced
    /// atomically (a temporary file beside it, renamed when complete; a symlink is followed,
    /// except one another user planted in a world-writable directory such as /tmp); a device,
    /// FIFO or /dev/stdout is written in place.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// When to colour the text report.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print the text report whole: tables with every source and full paths, long lines not
    /// wrapped. Without it the report fits the width: COLUMNS if set, else the terminal's,
    /// else 80 columns (paths shortened from the left first, then the sources, then the
    /// scope; then a ban takes more than one line). Addresses and lift commands are never cut.
    #[arg(long)]
    pub wide: bool,
    /// Print nothing but errors: the exit status tells (no report, no progress bar). Not
    /// with --output, which asks for a report.
    #[arg(short, long, conflicts_with = "output")]
    pub quiet: bool,
    /// Also read the live state by running (no shell, fixed arguments) whichever of
    /// iptables-save, ip6tables-save, iptables-legacy-save, ip6tables-legacy-save, ipset
    /// save, nft list ruleset, ip -4/-6 route show table all, ufw status,
    /// firewall-cmd --list-all-zones / --direct --get-all-rules, fail2ban-client banned and
    /// cscli decisions list -a -o json are installed. Needs root for the firewall.
    #[arg(long)]
    pub live: bool,
    #[command(flatten)]
    pub live_opts: LiveOpts,
    /// With --format prometheus: add the label NAME="VALUE" to every sample (repeatable), so
    /// that the files of several scans can share one collector directory. NAME is a
    /// Prometheus label name other than the metrics' own (tool, scope, kind, subject, path,
    /// format, version).
    #[arg(
        long = "label",
        value_name = "NAME=VALUE",
        value_parser = crate::monitor::parse_label,
        help_heading = "Prometheus"
    )]
    pub labels: Vec<(String, String)>,
    /// The Nagios plugin's options (-w, -c, -t, --past-since).
    #[command(flatten)]
    pub nagios: crate::monitor::nagios::NagiosArgs,
    #[command(flatten)]
    pub config_opts: ConfigOpts,
}

/// The configuration file, and what a scan leaves out.
#[derive(Debug, Args)]
pub struct ConfigOpts {
    /// Read the settings from FILE (TOML: ranges, paths, exclude, since, fail2ban_socket,
    /// cscli_config, fail2ban_config, labels) instead of /etc/cf-ban-audit/config.toml, which
    /// is read when it exists. Options on the command line override the file's values, and
    /// add to its lists.
    #[arg(
        long,
        value_name = "FILE",
        env = "CF_BAN_AUDIT_CONFIG",
        value_hint = clap::ValueHint::FilePath
    )]
    pub config: Option<PathBuf>,
    /// Leave out the files and directories that match GLOB (repeatable): they are not opened,
    /// nor a directory listed. Without `/` GLOB matches names (`*.gz`, `journal`); with `/`
    /// the whole path as the scan reaches it (`/var/log/journal`, `/var/log/**/*.1`). `*`
    /// and `?` stop at `/`, `**` crosses directories, `[a-z]`, `[!a-z]` and `{a,b}` as in a
    /// shell.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// The configuration's places to scan besides the default ones (not an option).
    #[arg(skip)]
    pub paths: Vec<PathBuf>,
}

/// Where the live read finds the ban tools' servers, when not in their default places.
#[derive(Debug, Args)]
pub struct LiveOpts {
    /// With --live: ask the fail2ban server listening on this socket
    /// (fail2ban-client -s PATH banned) instead of /run/fail2ban/fail2ban.sock.
    #[arg(
        long,
        value_name = "PATH",
        env = "CF_BAN_AUDIT_FAIL2BAN_SOCKET",
        help_heading = "Live read"
    )]
    pub fail2ban_socket: Option<PathBuf>,
    /// With --live: CrowdSec's configuration file, passed to cscli as -c PATH (default
    /// /etc/crowdsec/config.yaml).
    #[arg(
        long,
        value_name = "PATH",
        env = "CF_BAN_AUDIT_CSCLI_CONFIG",
        help_heading = "Live read"
    )]
    pub cscli_config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SnippetArgs {
    /// The tool to write the snippet for.
    #[arg(value_parser = target_parser())]
    pub target: Target,
    /// Merge into this existing file (e.g. /etc/fail2ban/jail.local) and print the whole
    /// result, keeping everything it already has. The file is only read.
    #[arg(long, value_name = "FILE")]
    pub existing: Option<PathBuf>,
    /// fail2ban: merge into the DEFAULT section's ignoreip only, not into the jails that set
    /// their own (they are named on stderr and stay without the ranges).
    #[arg(long, requires = "existing")]
    pub default_only: bool,
    #[command(flatten)]
    pub ranges: RangeOpts,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON reports written by `scan --format json`.
    #[arg(value_name = "REPORT", required = true)]
    pub reports: Vec<PathBuf>,
    /// Only findings still in force.
    #[arg(long)]
    pub active: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
}

#[derive(Debug, Args)]
pub struct ContainsArgs {
    /// Addresses (or CIDRs: contained when wholly inside the set).
    #[arg(value_name = "ADDRESS", required = true)]
    pub addresses: Vec<String>,
    #[command(flatten)]
    pub ranges: RangeOpts,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The lists to check (jail.local, csf.ignore, nginx/Apache conf, ModSecurity rules, ipset,
    /// nftables, firewalld ipset XML, CrowdSec whitelist YAML, btwaf ip_white.json, plain lists)
    /// and cloud security group exports (aws ec2 describe-security-groups or
    /// describe-security-group-rules, gcloud compute firewall-rules list --format=json, az
    /// network nsg rule list -o json, aliyun ecs DescribeSecurityGroupAttribute, tccli vpc
    /// DescribeSecurityGroupPolicies).
    #[arg(value_name = "FILE", required_unless_present = "fail2ban_config")]
    pub files: Vec<PathBuf>,
    /// fail2ban's configuration directory: check its jail.local and every jail.d fragment
    /// (*.conf, then *.local, as fail2ban reads them) besides the FILEs.
    #[arg(
        long,
        value_name = "DIR",
        env = "CF_BAN_AUDIT_FAIL2BAN_CONFIG",
        value_hint = clap::ValueHint::DirPath
    )]
    pub fail2ban_config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    #[command(flatten)]
    pub ranges: RangeOpts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// For people.
    Text,
    /// One JSON document.
    Json,
}

#[derive(Debug, Args)]
pub struct RangesArgs {
    #[command(subcommand)]
    pub action: Option<RangesAction>,
    #[command(flatten)]
    pub ranges: RangeOpts,
}

#[derive(Debug, Subcommand)]
pub enum RangesAction {
    /// Fetch Cloudflare's current list over HTTPS (the API's JSON; the ips-v4/ips-v6 text
    /// lists as a fallback) and cache it for scan, snippet and check. Cache:
    /// $CF_BAN_AUDIT_CACHE, else /var/cache/cf-ban-audit/ips.json (root) or ~/.cache.
    Update {
        /// Fetch the API answer from this URL instead (a mirror).
        #[arg(long, value_name = "URL")]
        ranges_url: Option<String>,
    },
}

/// The whole command line, as clap sees it (for completions and manual pages).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// `--version`: the crate's version and the date of the embedded Cloudflare range list.
fn version() -> &'static str {
    static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "{} (embedded Cloudflare ranges of {})",
            env!("CARGO_PKG_VERSION"),
            cf_ban_audit_core::cloudflare::SNAPSHOT_DATE
        )
    });
    VERSION.as_str()
}

/// `--source`'s names: any text (the command names the tools it does not know, and takes
/// names with spaces around them), with the tool names as possible values for shell
/// completion (help does not list them: `formats` names the tools).
#[derive(Clone, Debug)]
struct ToolNames;

impl TypedValueParser for ToolNames {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            cf_ban_audit_core::Tool::ALL
                .iter()
                .map(|t| clap::builder::PossibleValue::new(t.name())),
        ))
    }
}

/// The snippet targets, by name.
fn target_parser() -> impl TypedValueParser<Value = Target> {
    let names: Vec<&'static str> = Target::ALL.iter().map(|t| t.name()).collect();
    clap::builder::PossibleValuesParser::new(names)
        .map(|name| Target::from_name(&name).expect("a possible value"))
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
