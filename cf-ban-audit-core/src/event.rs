//! The common currency of every parser: a [`BanEvent`] says that a tool acted on an address
//! (or a CIDR) in some scope, at some time, at some place in some file.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;
use ipnet::IpNet;
use serde::Serialize;

use crate::format_id::Format;

/// The security tool that wrote a ban, one per family of formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Tool {
    /// Fail2Ban: its log, its database and the output of `fail2ban-client`.
    Fail2ban,
    /// ModSecurity (v2 in Apache, v3/libmodsecurity in nginx): audit logs and error-log denials.
    Modsecurity,
    /// BT-Panel / aaPanel web firewall ("btwaf", CC protection).
    Btwaf,
    /// nginx `limit_req` / `limit_conn` refusals.
    NginxLimit,
    /// Apache mod_evasive.
    ModEvasive,
    /// nginx `deny` (ngx_http_access_module).
    NginxDeny,
    /// Apache `Require not ip` / `Deny from`.
    ApacheDeny,
    /// ConfigServer Security & Firewall (CSF) and its daemon LFD.
    Csf,
    /// iptables / ip6tables rules (saved with iptables-save).
    Iptables,
    /// ipset sets.
    Ipset,
    /// nftables rulesets.
    Nftables,
    /// ufw (Uncomplicated Firewall).
    Ufw,
    /// firewalld zones, ipsets and rich rules.
    Firewalld,
    /// BT-Panel / aaPanel system firewall rules.
    BtFirewall,
    /// HestiaCP / VestaCP firewall ban list (`banlist.conf`, `v-list-firewall-ban`).
    Hestia,
    /// cPanel cPHulk's black list (`whmapi1 read_cphulk_records`).
    Cphulk,
    /// Imunify360's drop list (`imunify360-agent ip-list local list --purpose drop`).
    Imunify360,
    /// DirectAdmin's block lists: the Brute Force Monitor hook list (`/root/blocked_ips.txt`)
    /// and DA's own `ip_blacklist`.
    Directadmin,
    /// Plesk's Fail2Ban bans (`plesk bin ip_ban --banned`).
    Plesk,
    /// CrowdSec decisions.
    Crowdsec,
    /// A plain list of addresses whose name or place says it is a ban list.
    List,
    /// Routes that refuse traffic to an address (`blackhole`, `unreachable`, `prohibit`), as
    /// fail2ban's `route` action adds them; a route names no owner.
    Route,
}

impl Tool {
    /// Every tool, in display order.
    pub const ALL: &'static [Tool] = &[
        Tool::Fail2ban,
        Tool::Modsecurity,
        Tool::Btwaf,
        Tool::NginxLimit,
        Tool::ModEvasive,
        Tool::NginxDeny,
        Tool::ApacheDeny,
        Tool::Csf,
        Tool::Iptables,
        Tool::Ipset,
        Tool::Nftables,
        Tool::Ufw,
        Tool::Firewalld,
        Tool::BtFirewall,
        Tool::Hestia,
        Tool::Cphulk,
        Tool::Imunify360,
        Tool::Directadmin,
        Tool::Plesk,
        Tool::Crowdsec,
        Tool::List,
        Tool::Route,
    ];

    /// The name used in reports and in `--source` (`fail2ban`, `nginx-limit`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Tool::Fail2ban => "fail2ban",
            Tool::Modsecurity => "modsecurity",
            Tool::Btwaf => "btwaf",
            Tool::NginxLimit => "nginx-limit",
            Tool::ModEvasive => "mod_evasive",
            Tool::NginxDeny => "nginx-deny",
            Tool::ApacheDeny => "apache-deny",
            Tool::Csf => "csf",
            Tool::Iptables => "iptables",
            Tool::Ipset => "ipset",
            Tool::Nftables => "nftables",
            Tool::Ufw => "ufw",
            Tool::Firewalld => "firewalld",
            Tool::BtFirewall => "bt-firewall",
            Tool::Hestia => "hestia",
            Tool::Cphulk => "cphulk",
            Tool::Imunify360 => "imunify360",
            Tool::Directadmin => "directadmin",
            Tool::Plesk => "plesk",
            Tool::Crowdsec => "crowdsec",
            Tool::List => "list",
            Tool::Route => "route",
        }
    }

    /// Whether the tool acts on HTTP requests by the address the web server gives it, so
    /// that a Cloudflare address in its logs means the web server does not restore visitor
    /// addresses. (nginx `deny` hits count too, but only as logged in nginx's error log: a
    /// `deny` line in a configuration is a choice, not evidence.)
    pub fn is_web_layer(self) -> bool {
        matches!(
            self,
            Tool::Modsecurity | Tool::Btwaf | Tool::NginxLimit | Tool::ModEvasive
        )
    }

    /// What the tool calls the scope of a ban (the heading of the scope column).
    pub fn scope_name(self) -> &'static str {
        match self {
            Tool::Fail2ban => "jail",
            Tool::Modsecurity => "rule",
            Tool::Btwaf => "site/rule",
            Tool::NginxLimit => "zone",
            Tool::ModEvasive => "module",
            Tool::NginxDeny => "server",
            Tool::ApacheDeny => "context",
            Tool::Csf => "list",
            Tool::Iptables => "chain",
            Tool::Ipset => "set",
            Tool::Nftables => "set/chain",
            Tool::Ufw => "rule",
            Tool::Firewalld => "zone/ipset",
            Tool::BtFirewall => "rule",
            Tool::Hestia => "chain",
            Tool::Cphulk => "list",
            Tool::Imunify360 => "list",
            Tool::Directadmin => "list",
            Tool::Plesk => "jail",
            Tool::Crowdsec => "scenario",
            Tool::List => "list",
            Tool::Route => "type",
        }
    }

    /// Looks a tool up by the name [`Tool::name`] gives it.
    ///
    /// ```
    /// use cf_ban_audit_core::Tool;
    /// assert_eq!(Tool::from_name("fail2ban"), Some(Tool::Fail2ban));
    /// assert_eq!(Tool::from_name("nope"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Tool> {
        Tool::ALL.iter().copied().find(|t| t.name() == name)
    }
}

impl Serialize for Tool {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Tool {
    /// A tool by the name [`Tool::name`] gives it.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Tool, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Tool::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown tool {name:?}")))
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a tool did to an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Action {
    /// A new ban (fail2ban `Ban`, `Reban`, `Increase Ban`; a timed block).
    Ban,
    /// A ban restored after a restart (fail2ban `Restore Ban`).
    RestoreBan,
    /// The tool reports the address as banned already (`already banned`): evidence of a ban.
    AlreadyBanned,
    /// The address stands in a current ban list or database: banned now, whatever the logs say.
    Listed,
    /// One request was denied or refused (a WAF denial, a rate-limit refusal): evidence that
    /// the tool blocks the address, but no standing ban, so never "active" by itself.
    Deny,
    /// The ban was lifted.
    Unban,
}

impl Action {
    /// Whether the address is blocked after this action (every action but [`Action::Unban`]).
    pub fn is_ban(self) -> bool {
        !matches!(self, Action::Unban)
    }

    /// Whether this action leaves a standing ban (a [`Action::Deny`] does not).
    pub fn is_standing(self) -> bool {
        !matches!(self, Action::Unban | Action::Deny)
    }
}

/// Where an event was read: a file (or `-` for standard input) and a 1-based line number
/// (0 when the source has no lines, such as a database row).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct Location {
    /// The path of the file as it was given or found by the walk.
    pub path: Arc<Path>,
    /// The 1-based line number, or 0 for sources without lines.
    pub line: u64,
}

impl Location {
    /// Line `line` (1-based; 0 for sources without lines) of `path` (a `&Path`, a `PathBuf`,
    /// or the `Arc<Path>` a parser shares for a whole file).
    ///
    /// ```
    /// use cf_ban_audit_core::Location;
    /// use std::path::Path;
    /// let at = Location::new(Path::new("/var/log/fail2ban.log"), 7);
    /// assert_eq!(at.to_string(), "/var/log/fail2ban.log:7");
    /// ```
    pub fn new(path: impl Into<Arc<Path>>, line: u64) -> Location {
        Location {
            path: path.into(),
            line,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.path.display())
        } else {
            write!(f, "{}:{}", self.path.display(), self.line)
        }
    }
}

/// The longest [`BanEvent::spec`] kept, in bytes: a rule longer than that (no real one is)
/// gets none, so that a hostile line of many sources is never copied for each.
pub const MAX_SPEC: usize = 4096;

/// One thing a tool did to one address or network, as read from one place.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BanEvent {
    /// The address (as a /32 or /128) or the network that was acted on. IPv4-mapped IPv6
    /// addresses are already turned into IPv4.
    pub net: IpNet,
    /// The tool that acted.
    pub tool: Tool,
    /// The format it was read from.
    pub format: Format,
    /// Where inside the tool: a fail2ban jail, a rule id, a set or chain name.
    pub scope: String,
    /// The TCP peer, when the source records it apart from the address acted on (ModSecurity's
    /// section A or `client_ip` next to a restored client address). A Cloudflare peer with a
    /// different client address shows that visitor addresses are restored.
    pub peer: Option<std::net::IpAddr>,
    /// What was done.
    pub action: Action,
    /// When, in the host's local time, if the source says.
    pub time: Option<NaiveDateTime>,
    /// Until when the ban holds, if the source says (`None`: until lifted, or unknown).
    pub expires: Option<NaiveDateTime>,
    /// The source says the ban holds until lifted (lfd's permanent blocks): with no
    /// [`BanEvent::expires`], the ban's length is known, not unknown.
    pub permanent: bool,
    /// The ban is a challenge, not a refusal: a CrowdSec `captcha` decision, which bouncers
    /// with a captcha provider serve as a captcha and bouncers without one as a ban. Its
    /// finding's state is [`BanState::Challenge`](crate::BanState::Challenge) while it stands.
    pub challenge: bool,
    /// Where it was read.
    pub location: Location,
    /// The ban as its tool names it, when neither the scope nor the line read says it whole
    /// (see [`Evidence::spec`](crate::Evidence::spec)): what the command that lifts it is
    /// built from.
    pub spec: Option<String>,
}

impl BanEvent {
    /// `tool` did `action` to `net` in `scope`, as read from `format` at `location`; with no
    /// time, expiry or peer (add them with [`BanEvent::at`], [`BanEvent::until`] and
    /// [`BanEvent::peer`]).
    ///
    /// ```
    /// use cf_ban_audit_core::{Action, BanEvent, Format, Location, Tool};
    /// let ev = BanEvent::new(
    ///     "104.16.0.1/32".parse().unwrap(),
    ///     Tool::Fail2ban,
    ///     Format::Fail2banLog,
    ///     "sshd",
    ///     Action::Ban,
    ///     Location::new(std::path::Path::new("/var/log/fail2ban.log"), 3),
    /// )
    /// .peer("172.64.0.1".parse::<std::net::IpAddr>().unwrap());
    /// assert_eq!((ev.scope.as_str(), ev.time, ev.peer.is_some()), ("sshd", None, true));
    /// let time = "2026-11-24T03:00:00".parse().unwrap();
    /// let until = "2026-11-24T04:00:00".parse().unwrap();
    /// let ev = ev.at(time).until(until);
    /// assert_eq!((ev.time, ev.expires), (Some(time), Some(until)));
    /// ```
    pub fn new(
        net: IpNet,
        tool: Tool,
        format: Format,
        scope: impl Into<String>,
        action: Action,
        location: Location,
    ) -> BanEvent {
        BanEvent {
            net,
            tool,
            format,
            scope: scope.into(),
            peer: None,
            action,
            time: None,
            expires: None,
            permanent: false,
            challenge: false,
            location,
            spec: None,
        }
    }

    /// This event, with the ban as its tool names it (see [`BanEvent::spec`]); none when it
    /// is longer than [`MAX_SPEC`] bytes.
    pub fn spec(mut self, spec: impl Into<Option<String>>) -> BanEvent {
        self.spec = spec.into().filter(|s| s.len() <= MAX_SPEC);
        self
    }

    /// This event, a challenge rather than a refusal (see [`BanEvent::challenge`]).
    pub fn challenge(mut self, yes: bool) -> BanEvent {
        self.challenge = yes;
        self
    }

    /// This event, said by its source to hold until lifted (see [`BanEvent::permanent`]).
    pub fn permanent(mut self, yes: bool) -> BanEvent {
        self.permanent = yes;
        self
    }

    /// This event, at `time` (host local time; `None`: unknown).
    pub fn at(mut self, time: impl Into<Option<NaiveDateTime>>) -> BanEvent {
        self.time = time.into();
        self
    }

    /// This event, with the ban holding until `expires` (`None`: until lifted, or unknown).
    pub fn until(mut self, expires: impl Into<Option<NaiveDateTime>>) -> BanEvent {
        self.expires = expires.into();
        self
    }

    /// This event, with the TCP peer the source recorded apart from the address acted on.
    pub fn peer(mut self, peer: impl Into<Option<std::net::IpAddr>>) -> BanEvent {
        self.peer = peer.into();
        self
    }
}
