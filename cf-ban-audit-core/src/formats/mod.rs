//! The formats cf-ban-audit reads: the [`Format`] registry, detection from a file's name and
//! first bytes, and dispatch to one parser module per format family.
//!
//! Adding a format means one module here, one variant of [`Format`], one line in
//! [`Format::ALL`] and its arms in `detect` and `parser`.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::error::Error;
use crate::event::{BanEvent, Tool};

pub mod apache_conf;
pub mod apache_error;
pub mod bt_firewall;
pub mod btwaf;
pub mod crowdsec;
pub mod csf;
pub mod fail2ban_client;
pub mod fail2ban_db;
pub mod fail2ban_log;
pub mod firewalld;
pub mod ipset;
pub mod iptables;
pub mod mod_evasive;
pub mod modsec_audit;
pub mod modsec_json;
pub mod nftables;
pub mod nginx_conf;
pub mod nginx_error;
pub mod plain_list;
mod prefilter;
mod sqlite;
pub mod syslog;
#[cfg(test)]
pub(crate) mod test_support;
pub mod timestamp;
pub mod ufw;

/// The longest text quoted from the input in a message.
const MAX_QUOTE: usize = 64;

/// Input text for a message: quoted as a Rust string, cut after [`MAX_QUOTE`] bytes (and then
/// followed by `...`). Shared by the parsers whose messages quote the same way.
pub(crate) fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_QUOTE)]);
    if bytes.len() > MAX_QUOTE {
        format!("{text:?}...")
    } else {
        format!("{text:?}")
    }
}

/// A file format cf-ban-audit reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// fail2ban's own log file (`/var/log/fail2ban.log`, rotated and gzipped copies).
    Fail2banLog,
    /// A syslog or journal text file holding lines of several programs (`/var/log/syslog`,
    /// `/var/log/messages`, `journalctl` output); the lines of the supported tools are read.
    Syslog,
    /// fail2ban's SQLite database (`/var/lib/fail2ban/fail2ban.sqlite3`).
    Fail2banDb,
    /// Saved output of `fail2ban-client status <jail>` (or `status --all`).
    Fail2banStatus,
    /// Saved output of `fail2ban-client banned` (a Python repr of `[{jail: [ip, ...]}]`).
    Fail2banBanned,
    /// Saved output of `fail2ban-client get <jail> banip --with-time` (one ban a line with its
    /// start, ban time and end).
    Fail2banBanTimes,
    /// ModSecurity native audit log: v2 (`--xxxxxxxx-A--`) and v3 (`---xxxxxxxx---A--`) serial
    /// logs, and the per-transaction files of the concurrent mode.
    ModsecAudit,
    /// The index of ModSecurity's concurrent audit log (one line per transaction).
    ModsecAuditIndex,
    /// ModSecurity JSON audit log (v2 `SecAuditLogFormat JSON`, v3 JSON lines).
    ModsecJson,
    /// Apache's error log (ModSecurity and mod_evasive denials).
    ApacheError,
    /// nginx's error log (ModSecurity denials, `limiting requests`, `limiting connections`,
    /// `access forbidden by rule`).
    NginxError,
    /// mod_evasive's lock files `dos-<address>` in its DOSLogDir.
    ModEvasiveLock,
    /// btwaf's `drop_ip.log` (JSON arrays of blocked addresses).
    BtwafDropIp,
    /// btwaf's per-site logs `/www/wwwlogs/btwaf/<site>_<date>.log`.
    BtwafSiteLog,
    /// btwaf's SQLite database (`totla_db.db`, table `blocking_ip`).
    BtwafDb,
    /// CSF deny list `csf.deny` (addresses, CIDRs, advanced rules, `Include`).
    CsfDeny,
    /// CSF temporary bans `csf.tempban` (`time|ip|port|inout|timeout|message`).
    CsfTempban,
    /// iptables-save / ip6tables-save output (`/etc/iptables/rules.v4`).
    IptablesSave,
    /// `ipset save` and `ipset list` output.
    Ipset,
    /// `nft list ruleset` text and `/etc/nftables.conf`.
    NftRuleset,
    /// `nft -j list ruleset` JSON.
    NftJson,
    /// ufw `user.rules` / `user6.rules`.
    UfwRules,
    /// Saved `ufw status` output.
    UfwStatus,
    /// firewalld zone XML (`/etc/firewalld/zones/*.xml`).
    FirewalldZone,
    /// firewalld ipset XML (`/etc/firewalld/ipsets/*.xml`).
    FirewalldIpset,
    /// Saved `firewall-cmd --list-rich-rules` / `--list-all` output.
    FirewalldRich,
    /// BT-Panel / aaPanel system firewall rule JSON (`types: drop`).
    BtFirewall,
    /// nginx configuration: `deny` lines.
    NginxConf,
    /// nginx `geo`/`map` blocklists: entries of a variable an `if` refuses requests on
    /// (read from nginx configuration; see [`nginx_conf`]).
    NginxGeo,
    /// Apache configuration and .htaccess: `Require not ip`, `Deny from`.
    ApacheConf,
    /// CrowdSec JSON: `cscli decisions list -o json`, alerts, the decision stream, import files.
    CrowdsecJson,
    /// CrowdSec CSV: `cscli decisions list -o raw` and import files.
    CrowdsecCsv,
    /// CrowdSec's own log (`/var/log/crowdsec.log`, rotated and gzipped copies): the decisions
    /// the Local API stored, one line each.
    CrowdsecLog,
    /// The table `cscli decisions list` prints by default (human output).
    CrowdsecTable,
    /// A plain list of addresses, one a line, whose purpose comes from its name and place.
    PlainList,
}

impl Format {
    /// Every format, in display order.
    pub const ALL: &'static [Format] = &[
        Format::Fail2banLog,
        Format::Syslog,
        Format::Fail2banDb,
        Format::Fail2banStatus,
        Format::Fail2banBanned,
        Format::Fail2banBanTimes,
        Format::ModsecAudit,
        Format::ModsecAuditIndex,
        Format::ModsecJson,
        Format::ApacheError,
        Format::NginxError,
        Format::ModEvasiveLock,
        Format::BtwafDropIp,
        Format::BtwafSiteLog,
        Format::BtwafDb,
        Format::CsfDeny,
        Format::CsfTempban,
        Format::IptablesSave,
        Format::Ipset,
        Format::NftRuleset,
        Format::NftJson,
        Format::UfwRules,
        Format::UfwStatus,
        Format::FirewalldZone,
        Format::FirewalldIpset,
        Format::FirewalldRich,
        Format::BtFirewall,
        Format::NginxConf,
        Format::NginxGeo,
        Format::ApacheConf,
        Format::CrowdsecJson,
        Format::CrowdsecCsv,
        Format::CrowdsecLog,
        Format::CrowdsecTable,
        Format::PlainList,
    ];

    /// The name used in reports (`fail2ban-log`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Format::Fail2banLog => "fail2ban-log",
            Format::Syslog => "syslog",
            Format::Fail2banDb => "fail2ban-db",
            Format::Fail2banStatus => "fail2ban-status",
            Format::Fail2banBanned => "fail2ban-banned",
            Format::Fail2banBanTimes => "fail2ban-ban-times",
            Format::ModsecAudit => "modsec-audit",
            Format::ModsecAuditIndex => "modsec-audit-index",
            Format::ModsecJson => "modsec-json",
            Format::ApacheError => "apache-error",
            Format::NginxError => "nginx-error",
            Format::ModEvasiveLock => "mod-evasive-lock",
            Format::BtwafDropIp => "btwaf-drop-ip",
            Format::BtwafSiteLog => "btwaf-site-log",
            Format::BtwafDb => "btwaf-db",
            Format::CsfDeny => "csf-deny",
            Format::CsfTempban => "csf-tempban",
            Format::IptablesSave => "iptables-save",
            Format::Ipset => "ipset",
            Format::NftRuleset => "nftables",
            Format::NftJson => "nftables-json",
            Format::UfwRules => "ufw-rules",
            Format::UfwStatus => "ufw-status",
            Format::FirewalldZone => "firewalld-zone",
            Format::FirewalldIpset => "firewalld-ipset",
            Format::FirewalldRich => "firewalld-rich",
            Format::BtFirewall => "bt-firewall",
            Format::NginxConf => "nginx-conf",
            Format::NginxGeo => "nginx-geo",
            Format::ApacheConf => "apache-conf",
            Format::CrowdsecJson => "crowdsec-json",
            Format::CrowdsecCsv => "crowdsec-csv",
            Format::CrowdsecLog => "crowdsec-log",
            Format::CrowdsecTable => "crowdsec-table",
            Format::PlainList => "list",
        }
    }

    /// The tools whose bans this format can hold.
    pub fn tools(self) -> &'static [Tool] {
        match self {
            Format::Fail2banLog
            | Format::Fail2banDb
            | Format::Fail2banStatus
            | Format::Fail2banBanned
            | Format::Fail2banBanTimes => &[Tool::Fail2ban],
            Format::Syslog => &[
                Tool::Fail2ban,
                Tool::ModEvasive,
                Tool::Csf,
                Tool::NginxLimit,
                Tool::NginxDeny,
                Tool::Modsecurity,
            ],
            Format::ModsecAudit | Format::ModsecAuditIndex | Format::ModsecJson => {
                &[Tool::Modsecurity]
            }
            Format::ApacheError => &[Tool::Modsecurity, Tool::ModEvasive],
            Format::NginxError => &[Tool::Modsecurity, Tool::NginxLimit, Tool::NginxDeny],
            Format::ModEvasiveLock => &[Tool::ModEvasive],
            Format::BtwafDropIp | Format::BtwafSiteLog | Format::BtwafDb => &[Tool::Btwaf],
            Format::CsfDeny => &[Tool::Csf],
            Format::CsfTempban => &[Tool::Csf],
            Format::IptablesSave => &[Tool::Iptables],
            Format::Ipset => &[Tool::Ipset],
            Format::NftRuleset => &[Tool::Nftables],
            Format::NftJson => &[Tool::Nftables],
            Format::UfwRules => &[Tool::Ufw],
            Format::UfwStatus => &[Tool::Ufw],
            Format::FirewalldZone => &[Tool::Firewalld],
            Format::FirewalldIpset => &[Tool::Firewalld],
            Format::FirewalldRich => &[Tool::Firewalld],
            Format::BtFirewall => &[Tool::BtFirewall],
            Format::NginxConf | Format::NginxGeo => &[Tool::NginxDeny],
            Format::ApacheConf => &[Tool::ApacheDeny],
            Format::CrowdsecJson => &[Tool::Crowdsec],
            Format::CrowdsecCsv => &[Tool::Crowdsec],
            Format::CrowdsecLog => &[Tool::Crowdsec],
            Format::CrowdsecTable => &[Tool::Crowdsec],
            Format::PlainList => &[Tool::List],
        }
    }

    /// Where the format usually lives, for `cf-ban-audit formats` and for scans without a path.
    pub fn usual_paths(self) -> &'static [&'static str] {
        match self {
            Format::Fail2banLog => &["/var/log/fail2ban.log"],
            Format::Syslog => &[
                "/var/log/syslog",
                "/var/log/messages",
                "/var/log/daemon.log",
            ],
            Format::Fail2banDb => &["/var/lib/fail2ban/fail2ban.sqlite3"],
            Format::Fail2banStatus => &["(saved output of fail2ban-client status <jail>)"],
            Format::Fail2banBanned => &["(saved output of fail2ban-client banned)"],
            Format::Fail2banBanTimes => {
                &["(saved output of fail2ban-client get <jail> banip --with-time)"]
            }
            Format::ModsecAudit => &[
                "/var/log/apache2/modsec_audit.log",
                "/var/log/httpd/modsec_audit.log",
                "/var/log/modsec_audit.log",
                "/var/log/nginx/modsec_audit.log",
                "/opt/modsecurity/var/audit",
            ],
            Format::ModsecAuditIndex => &["/var/log/apache2/modsec_audit.log (concurrent mode)"],
            Format::ModsecJson => &[
                "/var/log/modsec_audit.json",
                "/var/log/nginx/modsec_audit.log",
            ],
            Format::ApacheError => &["/var/log/apache2/error.log", "/var/log/httpd/error_log"],
            Format::NginxError => &["/var/log/nginx/error.log"],
            Format::ModEvasiveLock => &["/tmp/dos-*", "/var/log/mod_evasive/dos-*"],
            Format::BtwafDropIp => &[
                "/www/server/btwaf/drop_ip.log",
                "/www/server/free_waf/drop_ip.log",
            ],
            Format::BtwafSiteLog => &[
                "/www/wwwlogs/btwaf/<site>_<date>.log",
                "/www/wwwlogs/free_waf_log/",
            ],
            Format::BtwafDb => &["/www/server/btwaf/totla_db/totla_db.db"],
            Format::CsfDeny => &["/etc/csf/csf.deny"],
            Format::CsfTempban => &["/var/lib/csf/csf.tempban"],
            Format::IptablesSave => &[
                "/etc/iptables/rules.v4",
                "/etc/iptables/rules.v6",
                "/etc/sysconfig/iptables",
                "/etc/sysconfig/ip6tables",
            ],
            Format::Ipset => &[
                "/etc/iptables/ipsets",
                "/etc/sysconfig/ipset",
                "/etc/ipset.conf",
            ],
            Format::NftRuleset => &["/etc/nftables.conf", "/etc/nftables.d"],
            Format::NftJson => &["(saved output of nft -j list ruleset)"],
            Format::UfwRules => &["/etc/ufw/user.rules", "/etc/ufw/user6.rules"],
            Format::UfwStatus => &["(saved output of ufw status)"],
            Format::FirewalldZone => &["/etc/firewalld/zones"],
            Format::FirewalldIpset => &["/etc/firewalld/ipsets"],
            Format::FirewalldRich => {
                &["(saved output of firewall-cmd --list-all / --list-rich-rules)"]
            }
            Format::BtFirewall => &["/www/server/panel/data/firewall"],
            Format::NginxConf | Format::NginxGeo => &["/etc/nginx"],
            Format::ApacheConf => &["/etc/apache2", "/etc/httpd"],
            Format::CrowdsecJson => &["(saved output of cscli decisions list -o json)"],
            Format::CrowdsecCsv => &["(saved output of cscli decisions list -o raw)"],
            Format::CrowdsecLog => &["/var/log/crowdsec.log"],
            Format::CrowdsecTable => &["(saved output of cscli decisions list)"],
            Format::PlainList => &["/etc/*blocklist*", "/etc/*banned*"],
        }
    }

    /// One line saying what the format is.
    pub fn description(self) -> &'static str {
        match self {
            Format::Fail2banLog => "fail2ban log: Ban, Restore Ban, Unban, already banned (0.8 to 1.x)",
            Format::Syslog => "syslog/journal text: fail2ban, mod_evasive, lfd and nginx lines logged through syslog",
            Format::Fail2banDb => "fail2ban SQLite database, schema v1 to v4 (bips, bans)",
            Format::Fail2banStatus => "fail2ban-client status output (Banned IP list)",
            Format::Fail2banBanned => "fail2ban-client banned output (Python repr)",
            Format::Fail2banBanTimes => "fail2ban-client get <jail> banip --with-time output (bans with start and end)",
            Format::ModsecAudit => "ModSecurity native audit log, v2 and v3, serial and concurrent",
            Format::ModsecAuditIndex => "ModSecurity concurrent audit index",
            Format::ModsecJson => "ModSecurity JSON audit log, v2 and v3",
            Format::ApacheError => "Apache error log: ModSecurity Access denied, mod_evasive denials",
            Format::NginxError => "nginx error log: ModSecurity, limiting requests/connections, deny",
            Format::ModEvasiveLock => "mod_evasive lock file dos-<address>",
            Format::BtwafDropIp => "btwaf/free_waf drop_ip.log (blocked addresses with duration)",
            Format::BtwafSiteLog => "btwaf/free_waf per-site interception log",
            Format::BtwafDb => "btwaf totla_db.db SQLite (blocking_ip)",
            Format::CsfDeny => "CSF csf.deny: permanent blocks",
            Format::CsfTempban => "CSF csf.tempban: temporary blocks with their end",
            Format::IptablesSave => "iptables-save/ip6tables-save: DROP/REJECT sources and chains",
            Format::Ipset => "ipset save/list: members of ban sets",
            Format::NftRuleset => "nftables ruleset text: set elements and rules that drop/reject",
            Format::NftJson => "nftables JSON ruleset",
            Format::UfwRules => "ufw user.rules tuples (deny/reject)",
            Format::UfwStatus => "ufw status output (DENY/REJECT rows)",
            Format::FirewalldZone => "firewalld zone XML: drop/block sources, rich rules",
            Format::FirewalldIpset => "firewalld ipset XML, resolved through the rules that use it",
            Format::FirewalldRich => "firewall-cmd output: rich rules and sources",
            Format::BtFirewall => "BT-Panel firewall exported rule JSON",
            Format::NginxConf => "nginx configuration deny lines",
            Format::NginxGeo => "nginx geo/map blocklists that an if refuses (return 403/444)",
            Format::ApacheConf => "Apache Require not ip / Deny from",
            Format::CrowdsecJson => "CrowdSec decisions/alerts JSON",
            Format::CrowdsecCsv => "CrowdSec decisions CSV",
            Format::CrowdsecLog => "CrowdSec log crowdsec.log: decisions the Local API stored",
            Format::CrowdsecTable => "cscli decisions list table (human output)",
            Format::PlainList => "plain address list (ban list by name/place)",
        }
    }

    /// Whether the parser keeps no state from one line to the next, so that a large file can be
    /// cut into line-aligned chunks read in parallel.
    pub fn is_line_independent(self) -> bool {
        matches!(self, Format::Fail2banLog | Format::Syslog)
    }

    /// Whether, when no rule in the scan uses a set of this format, its name decides whether
    /// it bans (`f2b-sshd`, `blocklist`). Not for nginx variables, which serve many ends
    /// (logging, rate-limit keys) besides refusing requests.
    pub fn set_judged_by_name(self) -> bool {
        matches!(self, Format::Ipset | Format::FirewalldIpset)
    }

    /// Whether events of this format are members of a named set whose purpose (ban or allow)
    /// is decided by the rules that use it ([`Sink::set_use`]) or else by its name.
    pub fn is_set_membership(self) -> bool {
        matches!(
            self,
            Format::Ipset | Format::FirewalldIpset | Format::NginxGeo
        )
    }

    /// Looks a format up by the name [`Format::name`] gives it.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.iter().copied().find(|f| f.name() == name)
    }
}

impl Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a parser needs to know about the input besides its bytes.
#[derive(Debug, Clone)]
pub struct ParseCtx {
    /// The input's path (`-` for standard input), shared by every event read from it.
    pub path: Arc<Path>,
    /// The time the input was last written (or now): years missing from syslog timestamps
    /// are taken so that no date lies after it.
    pub reference: NaiveDateTime,
    /// The time of the scan, to decide whether a timed ban has expired.
    pub now: NaiveDateTime,
}

/// Where parsers put what they read.
pub trait Sink {
    /// One event.
    fn event(&mut self, event: BanEvent);
    /// A line that looked like an entry of the format but could not be read (counted, reported
    /// in the file's statistics, never fatal).
    fn malformed(&mut self, line: u64, message: String);
    /// A rule uses the named set (an ipset, a firewalld ipset) with this verdict. Members of a
    /// set (events whose format is [`Format::is_set_membership`]) are findings only when some
    /// rule drops or rejects on the set, or, with no rule seen, when its name says it bans.
    fn set_use(&mut self, _set: &str, _verdict: Verdict) {}
    /// A remark about the file as a whole (such as "a list of unknown purpose"), shown with
    /// its statistics.
    fn note(&mut self, _text: String) {}
}

/// What a rule does with the packets it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// ACCEPT / accept / RETURN to an accepting policy: an allow list.
    Accept,
    /// DROP / REJECT / drop / reject: a ban list.
    Drop,
}

/// A parser fed one line at a time.
pub trait LineParser: Send {
    /// Reads one line (without its terminator); `lineno` counts from 1.
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink);
    /// The input has ended.
    fn finish(&mut self, _sink: &mut dyn Sink) {}
}

/// How a format is read.
pub enum Parser {
    /// A stream of lines.
    Lines(Box<dyn LineParser>),
    /// A whole file opened by the parser itself (a database).
    File(fn(&Path, &ParseCtx, &mut dyn Sink) -> Result<(), Error>),
}

impl Format {
    /// The parser of this format for one input.
    pub fn parser(self, ctx: &ParseCtx) -> Parser {
        match self {
            Format::Fail2banLog => {
                Parser::Lines(Box::new(fail2ban_log::Fail2banLogParser::new(ctx)))
            }
            Format::Syslog => Parser::Lines(Box::new(syslog::SyslogParser::new(ctx))),
            Format::Fail2banDb => Parser::File(fail2ban_db::parse),
            Format::Fail2banStatus => {
                Parser::Lines(Box::new(fail2ban_client::StatusParser::new(ctx)))
            }
            Format::Fail2banBanned => {
                Parser::Lines(Box::new(fail2ban_client::BannedParser::new(ctx)))
            }
            Format::Fail2banBanTimes => {
                Parser::Lines(Box::new(fail2ban_client::BanTimesParser::new(ctx)))
            }
            Format::ModsecAudit | Format::ModsecAuditIndex => modsec_audit::parser(self, ctx),
            Format::ModsecJson => modsec_json::parser(self, ctx),
            Format::ApacheError => apache_error::parser(self, ctx),
            Format::NginxError => nginx_error::parser(self, ctx),
            Format::ModEvasiveLock => mod_evasive::parser(self, ctx),
            Format::BtwafDropIp | Format::BtwafSiteLog | Format::BtwafDb => {
                btwaf::parser(self, ctx)
            }
            Format::CsfDeny | Format::CsfTempban => csf::parser(self, ctx),
            Format::IptablesSave => iptables::parser(self, ctx),
            Format::Ipset => ipset::parser(self, ctx),
            Format::NftRuleset | Format::NftJson => nftables::parser(self, ctx),
            Format::UfwRules | Format::UfwStatus => ufw::parser(self, ctx),
            Format::FirewalldZone | Format::FirewalldIpset | Format::FirewalldRich => {
                firewalld::parser(self, ctx)
            }
            Format::BtFirewall => bt_firewall::parser(self, ctx),
            Format::NginxConf | Format::NginxGeo => nginx_conf::parser(self, ctx),
            Format::ApacheConf => apache_conf::parser(self, ctx),
            Format::CrowdsecJson
            | Format::CrowdsecCsv
            | Format::CrowdsecLog
            | Format::CrowdsecTable => crowdsec::parser(self, ctx),
            Format::PlainList => plain_list::parser(self, ctx),
        }
    }
}

/// A format family's detection: its format for a file, from the name and first bytes.
type Detector = fn(&Path, &[u8]) -> Option<Format>;

/// The SQLite file header.
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

/// Decides the format of a file from its name and its first bytes (decompressed, when the
/// file is gzip). `None` means the file is of no known format and is skipped.
///
/// Names decide between formats that look alike; content decides for files under other
/// names, so that a log moved or renamed is still read, and a file with a log's name but
/// other content is not misread.
///
/// ```
/// use cf_ban_audit_core::formats::{detect, Format};
/// use std::path::Path;
/// let head = b"2026-11-24 03:06:43,825 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 172.64.155.20\n";
/// assert_eq!(detect(Path::new("/var/log/fail2ban.log.2.gz"), head), Some(Format::Fail2banLog));
/// assert_eq!(detect(Path::new("/tmp/whatever.txt"), head), Some(Format::Fail2banLog));
/// assert_eq!(detect(Path::new("/tmp/notes.txt"), b"hello\n"), None);
/// ```
pub fn detect(path: &Path, head: &[u8]) -> Option<Format> {
    if head.starts_with(SQLITE_MAGIC) {
        if fail2ban_db::looks_like(path) {
            return Some(Format::Fail2banDb);
        }
        if btwaf::looks_like_db(path) {
            return Some(Format::BtwafDb);
        }
        // A database that cannot be opened (truncated, corrupt) under a known name is still
        // that tool's: its parser then names the file in an error instead of skipping it.
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if name.contains("fail2ban") {
            return Some(Format::Fail2banDb);
        }
        return name.contains("totla_db").then_some(Format::BtwafDb);
    }
    // Lock files are told by their name; their content is a PID or nothing.
    if let Some(format) = mod_evasive::detect(path, head) {
        return Some(format);
    }
    if looks_binary(head) {
        return None;
    }
    if fail2ban_client::looks_like_status(head) {
        return Some(Format::Fail2banStatus);
    }
    if fail2ban_client::looks_like_banned(head) {
        return Some(Format::Fail2banBanned);
    }
    if fail2ban_client::looks_like_ban_times(head) {
        return Some(Format::Fail2banBanTimes);
    }
    // Formats with a distinctive structure first; plain lists (which any text with an address
    // a line resembles) last.
    let detectors: [Detector; 15] = [
        modsec_audit::detect,
        modsec_json::detect,
        btwaf::detect,
        crowdsec::detect,
        bt_firewall::detect,
        iptables::detect,
        ipset::detect,
        nftables::detect,
        ufw::detect,
        firewalld::detect,
        csf::detect,
        nginx_conf::detect,
        apache_conf::detect,
        apache_error::detect,
        nginx_error::detect,
    ];
    if let Some(format) = detectors.iter().find_map(|d| d(path, head)) {
        return Some(format);
    }
    let lines = || {
        head.split(|&b| b == b'\n')
            .map(|l| l.trim_ascii())
            .filter(|l| !l.is_empty())
            .take(20)
    };
    if lines().any(fail2ban_log::looks_like) {
        return Some(Format::Fail2banLog);
    }
    if lines().any(syslog::looks_like) {
        return Some(Format::Syslog);
    }
    plain_list::detect(path, head)
}

/// Mostly non-text bytes in the first block: a binary file. (A stray NUL is not enough: logs
/// of crashed machines hold runs of NULs where a write was lost.)
fn looks_binary(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(1024)];
    let odd = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x1b))
        .count();
    odd * 10 > sample.len()
}
