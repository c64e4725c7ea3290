//! fail2ban's jail configuration (`jail.conf`, `jail.d/*.conf`, `jail.local`,
//! `jail.d/*.local`), read as fail2ban 1.0.2 reads it, for two questions about a ban: can it
//! still be in force (how long a ban of that jail lasts), and does fail2ban now ignore the
//! address (then it neither bans it again nor restores the ban when it restarts).
//!
//! [`JailConfig::read`] takes the files' bytes (see [`load()`] for a configuration directory)
//! and resolves every jail with `[DEFAULT]` ([`ini`] has the parser's rules). Per jail:
//!
//! - `bantime` as `MyTime.str2seconds` reads it: units (`10m`, `1h 30m`, `1d`, `1w`, `1mo` =
//!   a twelfth of 365.25 days, `1y`, and their other spellings: `min`, `hours`, `weeks`, ...)
//!   turned into `*N` and the rest evaluated as Python arithmetic (`3600*24`, `1year-6mo`,
//!   `1h # one hour`, where `#` starts a Python comment). `-1` is permanent; the server keeps
//!   `int()` of the value (600 when no file sets it).
//! - With `bantime.increment`, a repeated ban lasts longer: `bantime.multipliers`, else
//!   `bantime.formula` (by default up to 2^20 times `bantime`, times `bantime.factor`), at most
//!   `bantime.maxtime`, plus up to `bantime.rndtime` ([`JailSettings::longest_ban`]).
//! - `ignoreip` split on spaces, commas and newlines as `splitwords` does, each entry read as
//!   `IPAddr` reads it ([`parse_ignore_entry`]); fail2ban stops at the first entry it
//!   refuses, so the entries after it are not ignored. Host names are kept as text, never
//!   resolved.
//! - `enabled`, `ignoreself`, `bantime.increment` are true only for `1`, `on`, `true`, `yes`
//!   (any case) exactly: `enabled = true # on` is false.
//! - `ignorecommand`, and whether it is cf-ban-audit's own `contains <ip>`.
//!
//! Every line fail2ban would refuse is in [`JailConfig::malformed`] with its file and line;
//! nothing panics on any input.

mod duration;
mod ini;
mod load;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;

use crate::addr::{host_net, normalize_net, parse_ip};
use duration::{eval, str2seconds, Num};
use ini::{py_strip, Ini, Remark};
pub(crate) use load::{directories_among, load};

/// fail2ban's ban time when no file sets `bantime` (the server's default, seconds).
pub(crate) const DEFAULT_BANTIME: u64 = 600;

/// How long a ban lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BanLength {
    /// This many seconds (a negative `bantime` other than -1 ends a ban as it starts: 0).
    Seconds(u64),
    /// `-1`: until lifted by hand.
    Permanent,
    /// No bound can be given: `bantime.increment` with a `bantime.formula` of its own (or a
    /// parameter fail2ban cannot read) and no `bantime.maxtime`. Never a `bantime`.
    Unbounded,
}

/// Where a value is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Source {
    /// The file.
    pub(crate) path: PathBuf,
    /// The line of the key (1-based).
    pub(crate) line: u64,
}

/// `bantime.increment = true` and the parameters that bound a repeated ban.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Increment {
    /// `bantime.factor` (1 when unset).
    pub(crate) factor: f64,
    /// `bantime.multipliers` (used instead of the formula when set).
    pub(crate) multipliers: Vec<i64>,
    /// `bantime.formula` when set: it can give any length.
    pub(crate) formula: Option<String>,
    /// `bantime.maxtime` in seconds.
    pub(crate) maxtime: Option<f64>,
    /// `bantime.rndtime` in seconds.
    pub(crate) rndtime: Option<f64>,
    /// A parameter fail2ban cannot read (reported as malformed): no bound is given from it.
    pub(crate) unreadable: bool,
}

/// One jail, resolved with `[DEFAULT]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JailSettings {
    /// The section name, as fail2ban's log and commands name the jail.
    pub(crate) name: String,
    /// `enabled`.
    pub(crate) enabled: bool,
    /// `bantime`; `None` when fail2ban cannot read it (reported as malformed).
    pub(crate) bantime: Option<BanLength>,
    /// Where `bantime` is set; `None` for fail2ban's default.
    pub(crate) bantime_source: Option<Source>,
    /// `bantime.increment` and its parameters, when on.
    pub(crate) increment: Option<Increment>,
    /// The addresses and networks of `ignoreip` (IPv4-mapped addresses as IPv4; a mapped
    /// network with a prefix stays IPv6, where fail2ban never matches an address to it).
    pub(crate) ignoreip: Vec<IpNet>,
    /// The host names of `ignoreip`, as written (fail2ban resolves them at each check).
    pub(crate) ignore_hosts: Vec<String>,
    /// `ignorecommand`, when not empty.
    pub(crate) ignorecommand: Option<String>,
    /// `ignoreself` (true unless set otherwise): the host's own addresses are ignored.
    pub(crate) ignoreself: bool,
    /// What the jail reads, acts with and filters with: `logpath`, `action`, `banaction`,
    /// `filter`, resolved (as written where a reference cannot be resolved).
    pub(crate) web: JailWiring,
}

/// A jail's `logpath`, `action`, `banaction` and `filter`, for the real-IP diagnoses: each
/// resolved with `%(...)s`, or as written where a reference points into files not read
/// (`%(nginx_access_log)s` from `paths-*.conf`); `None` when unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct JailWiring {
    /// `logpath`.
    pub(crate) logpath: Option<String>,
    /// `action` (jail.conf's default is `%(action_)s`: the `banaction` with its parameters).
    pub(crate) action: Option<String>,
    /// `banaction`.
    pub(crate) banaction: Option<String>,
    /// `filter`.
    pub(crate) filter: Option<String>,
}

/// The jails of a fail2ban configuration.
#[derive(Debug, Clone, Default)]
pub(crate) struct JailConfig {
    /// The jails in the order their sections first appear.
    jails: Vec<JailSettings>,
    /// Lines fail2ban refuses: file, line, why.
    malformed: Vec<Remark>,
    /// What is not read (`[INCLUDES]` files): file, line, what.
    notes: Vec<Remark>,
}

impl JailConfig {
    /// Reads the files of a configuration in fail2ban's order (as [`load()`] gives them): bytes
    /// in, no file opened.
    pub(crate) fn read(files: &[(PathBuf, Vec<u8>)]) -> JailConfig {
        let mut ini = Ini::read(files);
        let mut malformed = std::mem::take(&mut ini.malformed);
        let names: Vec<String> = ini
            .sections()
            .filter(|&n| n != "INCLUDES")
            .map(str::to_string)
            .collect();
        let jails = names
            .iter()
            .map(|name| {
                Jail {
                    ini: &ini,
                    name,
                    bad: &mut malformed,
                }
                .settings()
            })
            .collect();
        let mut seen = HashSet::new();
        malformed.retain(|m| seen.insert(m.clone()));
        JailConfig {
            jails,
            malformed,
            notes: std::mem::take(&mut ini.notes),
        }
    }

    /// A jail by its section name (case-sensitive, as fail2ban names it).
    pub(crate) fn jail(&self, name: &str) -> Option<&JailSettings> {
        self.jails.iter().find(|j| j.name == name)
    }

    /// Every jail, enabled or not, in the order of the files.
    pub(crate) fn jails(&self) -> &[JailSettings] {
        &self.jails
    }

    /// The lines fail2ban refuses or reads differently from what they seem to say: file, line,
    /// message.
    pub(crate) fn malformed(&self) -> &[(PathBuf, u64, String)] {
        &self.malformed
    }

    /// What was not followed (`[INCLUDES]` files): file, line, message.
    pub(crate) fn notes(&self) -> &[(PathBuf, u64, String)] {
        &self.notes
    }
}

/// Resolves one jail's settings, reporting what fail2ban cannot read.
struct Jail<'a> {
    /// The merged files.
    ini: &'a Ini,
    /// The section.
    name: &'a str,
    /// Where problems go.
    bad: &'a mut Vec<Remark>,
}

impl Jail<'_> {
    /// Where a key of this jail (or `[DEFAULT]`) is set.
    fn source(&self, key: &str) -> Option<Source> {
        self.ini.raw(self.name, key).map(|raw| Source {
            path: self.ini.path(raw.file).to_path_buf(),
            line: raw.line,
        })
    }

    /// A key's value resolved in this jail, and where it is set; `None` when unset or when
    /// it cannot be resolved (reported; the message names no jail, so that one bad
    /// `[DEFAULT]` line is reported once).
    fn text(&mut self, key: &str) -> Option<(String, Source)> {
        let (value, _) = self.ini.get(self.name, key)?;
        let source = self.source(key)?;
        match value {
            Ok(text) => Some((text, source)),
            Err(e) => {
                self.report(&source, format!("{key}: {e}"));
                None
            }
        }
    }

    /// Reports a problem with the line at `source`.
    fn report(&mut self, source: &Source, message: String) {
        self.bad.push((source.path.clone(), source.line, message));
    }

    /// A key's value when set and not empty; `Err` when it cannot be resolved (reported).
    fn given(&mut self, key: &str) -> Result<Option<(String, Source)>, ()> {
        if self.ini.raw(self.name, key).is_none() {
            return Ok(None);
        }
        let (text, source) = self.text(key).ok_or(())?;
        Ok((!text.is_empty()).then_some((text, source)))
    }

    /// A number of seconds as `str2seconds` reads it (`Err` reported).
    fn seconds(&mut self, key: &str) -> Result<Option<f64>, ()> {
        let Some((text, source)) = self.given(key)? else {
            return Ok(None);
        };
        match str2seconds(&text) {
            Ok(n) => Ok(Some(n.as_f64())),
            Err(e) => {
                self.report(&source, format!("{key} = {}: {e}", quote(&text)));
                Err(())
            }
        }
    }

    /// The jail's settings as the server would get them.
    fn settings(mut self) -> JailSettings {
        let flag = |s: &mut Self, key: &str| s.text(key).map(|(t, _)| as_bool(&t));
        let enabled = flag(&mut self, "enabled").unwrap_or(false);
        let ignoreself = flag(&mut self, "ignoreself").unwrap_or(true);
        let (bantime, bantime_source) = match self.text("bantime") {
            None if self.source("bantime").is_some() => (None, self.source("bantime")),
            None => (Some(BanLength::Seconds(DEFAULT_BANTIME)), None),
            Some((text, source)) => match str2seconds(&text).and_then(bantime_of) {
                Ok(length) => (Some(length), Some(source)),
                Err(e) => {
                    self.report(&source, format!("bantime = {}: {e}", quote(&text)));
                    (None, Some(source))
                }
            },
        };
        let increment = flag(&mut self, "bantime.increment")
            .unwrap_or(false)
            .then(|| self.increment());
        let (ignoreip, ignore_hosts) = self.ignoreip();
        let ignorecommand = self
            .text("ignorecommand")
            .map(|(t, _)| t)
            .filter(|t| !t.is_empty());
        let wired = |key: &str| {
            self.ini
                .get(self.name, key)
                .map(|(value, raw)| match value {
                    Ok(text) => text,
                    Err(_) => raw.text.clone(),
                })
        };
        let web = JailWiring {
            logpath: wired("logpath"),
            action: wired("action"),
            banaction: wired("banaction"),
            filter: wired("filter"),
        };
        JailSettings {
            web,
            name: self.name.to_string(),
            enabled,
            bantime,
            bantime_source,
            increment,
            ignoreip,
            ignore_hosts,
            ignorecommand,
            ignoreself,
        }
    }

    /// The `bantime.*` parameters, as the server's `setBanTimeExtra` reads them.
    fn increment(&mut self) -> Increment {
        let maxtime = self.seconds("bantime.maxtime");
        let rndtime = self.seconds("bantime.rndtime");
        let factor = self.given("bantime.factor").and_then(|given| match given {
            None => Ok(1.0),
            Some((text, source)) => eval(&text).map(Num::as_f64).map_err(|e| {
                self.report(&source, format!("bantime.factor = {}: {e}", quote(&text)));
            }),
        });
        // `[int(i) for i in value.split(' ')]`
        let multipliers = self
            .given("bantime.multipliers")
            .and_then(|given| match given {
                None => Ok(Vec::new()),
                Some((text, source)) => {
                    match text.split(' ').map(py_int).collect::<Option<Vec<_>>>() {
                        Some(m) => Ok(m.into_iter().map(saturate_i64).collect()),
                        None => {
                            let why = "not whole numbers separated by single spaces";
                            self.report(
                                &source,
                                format!("bantime.multipliers = {}: {why}", quote(&text)),
                            );
                            Err(())
                        }
                    }
                }
            });
        let formula = self.given("bantime.formula");
        let unreadable = maxtime.is_err()
            || rndtime.is_err()
            || factor.is_err()
            || multipliers.is_err()
            || formula.is_err();
        Increment {
            factor: factor.unwrap_or(1.0),
            multipliers: multipliers.unwrap_or_default(),
            formula: formula.ok().flatten().map(|(t, _)| t),
            maxtime: maxtime.ok().flatten(),
            rndtime: rndtime.ok().flatten(),
            unreadable,
        }
    }

    /// `ignoreip`: networks and host names, up to the first entry fail2ban refuses.
    fn ignoreip(&mut self) -> (Vec<IpNet>, Vec<String>) {
        let (mut nets, mut hosts) = (Vec::new(), Vec::new());
        let Some((text, source)) = self.text("ignoreip") else {
            return (nets, hosts);
        };
        for word in splitwords(&text) {
            match parse_ignore_entry(word) {
                IgnoreEntry::Net(net) => nets.push(net),
                IgnoreEntry::Host(host) => hosts.push(host.to_string()),
                IgnoreEntry::Inert(why) => {
                    self.report(&source, format!("ignoreip entry {}: {why}", quote(word)))
                }
                IgnoreEntry::Refused(why) => {
                    let word = quote(word);
                    let stop = "fail2ban stops there, the entries after it are not ignored";
                    self.report(&source, format!("ignoreip entry {word}: {why}; {stop}"));
                    break;
                }
            }
        }
        (nets, hosts)
    }
}

impl JailSettings {
    /// Whether fail2ban ignores every address of `net` by `ignoreip` (a network counts only
    /// when the list covers all of it; host names, `ignoreself` and `ignorecommand` are not
    /// consulted, see [`JailSettings::ignores_by_command_cloudflare`]).
    pub(crate) fn ignores(&self, net: &IpNet) -> bool {
        let net = normalize_net(*net);
        let span = |n: &IpNet| match n {
            IpNet::V4(n) => (
                false,
                u128::from(u32::from(n.network())),
                u128::from(u32::from(n.broadcast())),
            ),
            IpNet::V6(n) => (true, u128::from(n.network()), u128::from(n.broadcast())),
        };
        let (v6, lo, hi) = span(&net);
        let mut spans: Vec<(u128, u128)> = self
            .ignoreip
            .iter()
            .map(span)
            .filter(|s| s.0 == v6)
            .map(|(_, a, b)| (a, b))
            .collect();
        spans.sort_unstable();
        // `need`: the lowest address of `net` not covered yet.
        let mut need = lo;
        for (a, b) in spans {
            if a > need {
                return false;
            }
            if b >= hi {
                return true;
            }
            need = need.max(b + 1);
        }
        false
    }

    /// Whether `ignorecommand` is cf-ban-audit's own `cf-ban-audit contains <ip>` (optionally
    /// with `--ranges FILE`): then fail2ban asks cf-ban-audit and ignores every Cloudflare
    /// address (as long as that program runs). With `--no-cloudflare`, any other option or
    /// argument, or shell syntax around it, it is not recognised.
    pub(crate) fn ignores_by_command_cloudflare(&self) -> bool {
        self.ignorecommand.as_deref().is_some_and(is_own_command)
    }

    /// The most a single ban of this jail can last: `bantime`, or with `bantime.increment`
    /// the longest repeated ban (`None` when `bantime` cannot be read).
    pub(crate) fn longest_ban(&self) -> Option<BanLength> {
        let base = self.bantime?;
        let (BanLength::Seconds(b), Some(inc)) = (base, &self.increment) else {
            return Some(base);
        };
        // The server increments only bans of a positive length, and the first ban of an
        // address is never incremented.
        if b == 0 {
            return Some(base);
        }
        let b = b as f64;
        let repeated: Option<f64> = if inc.unreadable {
            None
        } else if !inc.multipliers.is_empty() {
            // `multipliers[count if count < len else -1]`, count >= 1.
            let m = &inc.multipliers;
            let reachable = if m.len() >= 2 { &m[1..] } else { &m[..] };
            reachable
                .iter()
                .map(|&x| b * inc.factor * x as f64)
                .fold(None, |acc: Option<f64>, v| {
                    Some(acc.map_or(v, |a| a.max(v)))
                })
        } else if inc.formula.is_some() {
            None
        } else {
            // `max(ban.Time, ban.Time * (1 << min(count, 20)) * factor)`
            Some(b.max(b * f64::from(1u32 << 20) * inc.factor))
        };
        let repeated = match (repeated, inc.maxtime) {
            (Some(r), Some(max)) => Some(r.min(max)),
            (None, Some(max)) => Some(max),
            (r, None) => r,
        };
        let Some(mut repeated) = repeated else {
            return Some(BanLength::Unbounded);
        };
        if repeated == -1.0 && inc.rndtime.is_none_or(|r| r == 0.0) {
            return Some(BanLength::Permanent);
        }
        repeated += inc.rndtime.unwrap_or(0.0).max(0.0);
        Some(BanLength::Seconds(ceil_secs(b.max(repeated))))
    }

    /// Whether a ban of this jail that started `elapsed` seconds ago can still be in force
    /// (`None` when `bantime` cannot be read).
    #[cfg(test)]
    pub(crate) fn may_still_hold(&self, elapsed: u64) -> Option<bool> {
        Some(match self.longest_ban()? {
            BanLength::Seconds(s) => elapsed < s,
            BanLength::Permanent | BanLength::Unbounded => true,
        })
    }
}

/// A non-negative number of seconds, rounded up and saturated.
fn ceil_secs(v: f64) -> u64 {
    if v.is_nan() || v <= 0.0 {
        0
    } else if v >= u64::MAX as f64 {
        u64::MAX
    } else {
        v.ceil() as u64
    }
}

/// An `i128` as the nearest `i64`.
fn saturate_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// A value for a message: quoted, cut when long.
fn quote(s: &str) -> String {
    let cut: String = s.chars().take(60).collect();
    if cut.len() < s.len() {
        format!("{cut:?}...")
    } else {
        format!("{cut:?}")
    }
}

/// fail2ban's `_as_bool`: `1`, `on`, `true`, `yes` in any case.
fn as_bool(s: &str) -> bool {
    matches!(s.to_lowercase().as_str(), "1" | "on" | "true" | "yes")
}

/// fail2ban's `splitwords`: split on spaces, commas and newlines, each word trimmed.
pub(crate) fn splitwords(s: &str) -> impl Iterator<Item = &str> {
    s.split([' ', ',', '\n'])
        .map(py_strip)
        .filter(|w| !w.is_empty())
}

/// Python's `int()` of a string (ASCII digits): sign, digits with single `_` between.
fn py_int(s: &str) -> Option<i128> {
    let s = py_strip(s);
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let ok = !digits.is_empty()
        && digits
            .split('_')
            .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        return None;
    }
    let v = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0i128, |v, d| {
            v.saturating_mul(10).saturating_add(i128::from(d - b'0'))
        });
    Some(if neg { -v } else { v })
}

/// One `ignoreip` entry as fail2ban's `IPAddr` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IgnoreEntry<'a> {
    /// An address (a host network) or a network.
    Net(IpNet),
    /// Anything that is no address: a host name fail2ban resolves at each check (of
    /// `name/24` only the name counts).
    Host(&'a str),
    /// Accepted, but it never matches an address (a negative prefix length).
    Inert(&'static str),
    /// Refused (fail2ban's error): the entries after it are not read either.
    Refused(String),
}

/// Reads one `ignoreip` entry: `[...]` around it dropped; `ADDR`, `ADDR/LEN`, `ADDR/MASK`
/// (a dotted or IPv6 netmask: a MASK that is no address counts as `/0`, as in fail2ban); a
/// prefix longer than the address is the address itself; an IPv4-mapped address is IPv4, a
/// mapped address with a prefix stays IPv6.
pub(crate) fn parse_ignore_entry(entry: &str) -> IgnoreEntry<'_> {
    let s = match entry.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(inner) if entry.chars().count() > 2 => inner,
        _ => entry,
    };
    let Some((addr, mask)) = s.split_once('/') else {
        return match parse_ip(s.as_bytes()) {
            Some(ip) => IgnoreEntry::Net(host_net(ip)),
            None => IgnoreEntry::Host(s),
        };
    };
    let len = if mask.contains(['.', ':']) {
        match mask_len(mask) {
            Some(len) => i128::from(len),
            None => return IgnoreEntry::Refused(format!("{mask:?} is no netmask")),
        }
    } else {
        match py_int(mask) {
            Some(len) => len,
            None => return IgnoreEntry::Refused(format!("{mask:?} is no prefix length")),
        }
    };
    let Some(ip) = parse_ip(addr.as_bytes()) else {
        return IgnoreEntry::Host(addr);
    };
    if len == -1 {
        return IgnoreEntry::Net(host_net(ip));
    }
    if len < 0 {
        return IgnoreEntry::Inert("a negative prefix length");
    }
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = u8::try_from(len.min(max)).unwrap_or(0);
    match IpNet::new(ip, len) {
        Ok(net) => IgnoreEntry::Net(net.trunc()),
        Err(_) => IgnoreEntry::Refused("no network".to_string()),
    }
}

/// The prefix length of a netmask written as an address (`IPAddr.maskplen`): a mask that is
/// no address is 0; `None` when its bits are not contiguous.
fn mask_len(mask: &str) -> Option<u8> {
    let value: u128 = match parse_ip(mask.as_bytes()).map(crate::addr::normalize_ip) {
        Some(IpAddr::V4(v4)) => u128::from(u32::from(v4)),
        Some(IpAddr::V6(v6)) => u128::from(v6),
        None if mask.contains('/') => return None,
        None => 0,
    };
    if let Ok(v4) = u32::try_from(value) {
        let inv = !v4;
        return (inv & inv.wrapping_add(1) == 0).then(|| (32 - inv.count_ones()) as u8);
    }
    let inv = !value;
    (inv & inv.wrapping_add(1) == 0).then(|| (128 - inv.count_ones()) as u8)
}

/// Whether a command is `[PATH/]cf-ban-audit contains <ip>` with at most `--ranges FILE`
/// options, and nothing a shell would read as more than plain words.
fn is_own_command(cmd: &str) -> bool {
    let plain = |w: &str| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/._-+,=@:%".contains(c))
    };
    let words: Vec<&str> = cmd
        .split([' ', '\t', '\n'])
        .filter(|w| !w.is_empty())
        .take_while(|w| !w.starts_with('#'))
        .collect();
    let [program, "contains", rest @ ..] = words.as_slice() else {
        return false;
    };
    if !plain(program) || program.rsplit('/').next() != Some("cf-ban-audit") {
        return false;
    }
    let (mut ip, mut i) = (0, 0);
    while i < rest.len() {
        match rest[i] {
            "<ip>" | "\"<ip>\"" | "'<ip>'" => ip += 1,
            "--ranges" if rest.get(i + 1).is_some_and(|f| plain(f)) => i += 1,
            w if w.strip_prefix("--ranges=").is_some_and(plain) => {}
            _ => return false,
        }
        i += 1;
    }
    ip == 1
}

/// The server's `int(value)` of a `bantime`: truncated; -1 is permanent, other negatives end
/// a ban as it starts.
fn bantime_of(n: Num) -> Result<BanLength, String> {
    let v = match n {
        Num::Int(i) => i,
        Num::Float(f) if f.is_finite() => f.trunc() as i128,
        Num::Float(_) => return Err("not a finite number".to_string()),
    };
    Ok(match v {
        -1 => BanLength::Permanent,
        v if v < 0 => BanLength::Seconds(0),
        v => BanLength::Seconds(u64::try_from(v).unwrap_or(u64::MAX)),
    })
}
