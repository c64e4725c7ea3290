//! The command that lifts one ban: an argument list, never a shell string, so that no text read
//! from a scanned file can become shell syntax. Built from the finding alone (its tool, scope,
//! address and [`Evidence`]: the line read, and [`Evidence::spec`], the ban as its tool names
//! it), one module per family of tools.

use crate::event::Tool;
use crate::format_id::Format;
use crate::formats::csf::{DENY_SCOPE, TEMPBAN_SCOPE};
use crate::formats::fail2ban_client::UNNAMED_JAIL;
use crate::formats::hestia::CHAIN_PREFIX as HESTIA_CHAIN_PREFIX;
use crate::live::LIVE_SOURCES;
use crate::report::{Authority, Evidence, Finding};

mod firewalld;
mod iptables;
mod manual;
mod nft;
mod panels;
mod ufw;

/// `word` as a shell reads it back as one argument: bare when it holds only characters no
/// shell treats specially, else in single quotes.
pub fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@%+=,".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A command as one line a shell reads back as the same argument list.
pub fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Finding {
    /// The command (program and arguments) that lifts exactly this ban, or why none is given.
    /// Never a command that removes a rule, set or list entry holding other addresses too.
    ///
    /// - fail2ban: `fail2ban-client set JAIL unbanip ADDR`, or `fail2ban-client unban ADDR`
    ///   when the source did not name the jail; with `-s SOCKET` first when the scan asked the
    ///   server on that socket (`--fail2ban-socket`).
    /// - CrowdSec: `cscli decisions delete --ip ADDR --contained` (`--range CIDR` for a
    ///   network): the decisions on that address (inside that network) only; with `-c CONFIG`
    ///   first when the scan used it (`--cscli-config`). Without `--contained` the Local API
    ///   deletes every decision that *contains* the address too (`SoftDeleteDecisionsWithFilter`,
    ///   `contains` true by default, 1.4.6 and later), such as a `/8` range decision that bans
    ///   far more than Cloudflare.
    /// - CSF: `csf -dr ADDR` for a permanent block (`csf.deny`), `csf -trd ADDR` for a temporary
    ///   one (`csf.tempban`, an lfd block with an end).
    /// - ipset: `ipset del SET ENTRY`: the one entry, never the set.
    /// - nftables: `nft delete element FAMILY TABLE SET '{ ADDR }'` (the last word is one
    ///   argument) for an element of a named set or verdict map. None for an element that holds
    ///   more than this address (a range split into blocks, a concatenation with ports), nor for
    ///   an address written in a rule: nft deletes a rule by its handle only, which a listing
    ///   without `-a` does not give (the reason says how to find it), and a rule that holds
    ///   other addresses too is not to be deleted.
    /// - iptables: `iptables -t TABLE -D CHAIN RULE...` (`ip6tables` for IPv6), the rule exactly
    ///   as `iptables-save` or `iptables -S` wrote it, when the rule's only source is this
    ///   address or network (not for a `-s a,b` list, a wider `-m iprange` range, a rule that
    ///   also matches a `-m set`, an address two rules of the chain hold, nor a rule read from
    ///   `iptables -L`, whose listing does not give the rule's arguments). It acts on the
    ///   running firewall: a rule saved in a file (`/etc/iptables/rules.v4`) comes back at its
    ///   next restore unless the file is saved again.
    /// - ufw: `ufw delete RULE` (`ufw route delete RULE` for a routed rule), the rule in the
    ///   words `ufw` itself writes it (`ufw delete deny from 104.16.0.0/13`,
    ///   `ufw delete deny in on eth0 from 198.41.128.0/17 to any port 80 proto tcp`), rebuilt
    ///   from the `### tuple ###` line of `user.rules`, a `ufw status` row or a `ufw show
    ///   added` line; none when a row does not say the rule exactly.
    /// - firewalld: `firewall-cmd --zone=Z --remove-source=ADDR` for a source of a dropping
    ///   zone, `--ipset=S --remove-entry=ENTRY` for an ipset entry, `--zone=Z` (or
    ///   `--policy=P`) `--remove-rich-rule=RULE` for a rich rule (the rule one argument),
    ///   `--direct --remove-rule IPV TABLE CHAIN PRIO ARGS...` and `--direct
    ///   --remove-passthrough IPV ARGS...` for direct rules. The command changes the runtime
    ///   state when the ban was read from a `firewall-cmd` listing (live or saved), and the
    ///   permanent configuration (`--permanent` first; `firewall-cmd --reload` applies it)
    ///   when it was read from the XML under `/etc/firewalld`.
    /// - routes: `ip route del TYPE ADDR` (`table T` after it for a route outside `main`), the
    ///   one route fail2ban's `route` action or an administrator added.
    /// - HestiaCP / VestaCP ban list: `/usr/local/hestia/bin/v-delete-firewall-ban ADDR CHAIN`
    ///   (`/usr/local/vesta/bin/…` when the ban was read under a directory `vesta`), CHAIN
    ///   being the ban list's chain (`WEB` for the scope `fail2ban-WEB`): it removes the entry
    ///   from `banlist.conf` and the rule from the running chain.
    /// - cPHulk: `whmapi1 delete_cphulk_record list_name=black ip=ADDR`, the record as the
    ///   listing wrote it; none for a range record that holds other addresses too (the
    ///   reason gives the command that deletes it whole).
    /// - Imunify360: `imunify360-agent ip-list local delete --purpose drop ADDR`; for a ban
    ///   read only from the legacy `blacklist ip list` table, the legacy `imunify360-agent
    ///   blacklist ip delete ADDR`; none for a line of an external black list file (the
    ///   reason names the file and line to delete, then `imunify360-agent reload-lists`), nor
    ///   for a block read from `console.log` alone (the log does not say which list holds it:
    ///   the reason gives the command that says).
    /// - DirectAdmin's BFM hook list (scope `bfm-hook`): `env ip=ADDR
    ///   /usr/local/directadmin/scripts/custom/unblock_ip.sh`, the hook DirectAdmin runs to
    ///   unblock: it removes the line from `/root/blocked_ips.txt` and the firewall's block
    ///   (poralix's hook: `csf -dr` and `csf -trd`). DA's own `ip_blacklist`: no command: the
    ///   reason says to remove the address's line from the file (DirectAdmin's documentation),
    ///   and that the list refuses only the DirectAdmin login on port 2222.
    /// - Plesk: `plesk bin ip_ban --unban IP,JAIL`.
    /// - BT panel firewall and btwaf: no command (the panel has no command line for it): the
    ///   reason says where in the panel to remove the rule or unblock the address.
    /// - nginx `deny`, Apache `Require not ip`, `hosts.deny` and plain lists: no command (the
    ///   ban is a line of a file): the reason names the file and line to edit.
    /// - ModSecurity, nginx `limit_req`/`limit_conn`, mod_evasive: no command: each denial is
    ///   one-off, nothing stands to lift; the cure is to restore visitor addresses.
    ///
    /// A name, rule or entry holding control characters, bytes that were not valid UTF-8, or a
    /// leading `-` where the program would read an option gives no command (the reason says
    /// so).
    ///
    /// ```
    /// use cf_ban_audit_core::{Finding, Format, Tool};
    /// let f = Finding::new(
    ///     "172.64.155.20/32".parse().unwrap(),
    ///     "172.64.0.0/13".parse().unwrap(),
    ///     Tool::Fail2ban,
    ///     Format::Fail2banLog,
    ///     "sshd",
    /// );
    /// assert_eq!(f.lift().unwrap(), ["fail2ban-client", "set", "sshd", "unbanip", "172.64.155.20"]);
    /// ```
    pub fn lift(&self) -> Result<Vec<String>, String> {
        let address = self.address_text();
        match self.tool {
            Tool::Fail2ban => {
                let mut argv = argv(&["fail2ban-client"]);
                argv.extend(live_option(self, "fail2ban-client")?);
                if self.scope == UNNAMED_JAIL {
                    argv.extend(words(&["unban", &address]));
                } else {
                    let jail = name(&self.scope, "the jail name")?;
                    argv.extend(words(&["set", jail, "unbanip", &address]));
                }
                Ok(argv)
            }
            Tool::Crowdsec => {
                let flag = if self.address.prefix_len() == self.address.max_prefix_len() {
                    "--ip"
                } else {
                    "--range"
                };
                let mut argv = argv(&["cscli"]);
                argv.extend(live_option(self, "cscli")?);
                argv.extend(words(&[
                    "decisions",
                    "delete",
                    flag,
                    &address,
                    "--contained",
                ]));
                Ok(argv)
            }
            Tool::Csf => {
                let temporary = self.scope == TEMPBAN_SCOPE
                    || (self.scope != DENY_SCOPE && self.expires.is_some());
                let flag = if temporary { "-trd" } else { "-dr" };
                Ok(argv(&["csf", flag, &address]))
            }
            Tool::Ipset => {
                let set = name(&self.scope, "the set name")?;
                Ok(argv(&["ipset", "del", set, &address]))
            }
            Tool::Nftables => nft::lift(self),
            Tool::Iptables => iptables::lift(self),
            Tool::Ufw => ufw::lift(self),
            Tool::Firewalld => firewalld::lift(self),
            Tool::Route => route_lift(self, &address),
            Tool::Hestia => panels::hestia_lift(self, &address),
            Tool::Cphulk => panels::cphulk_lift(self, &address),
            Tool::Imunify360 => panels::imunify360_lift(self, &address),
            Tool::Directadmin if self.scope == crate::formats::directadmin::HOOK_SCOPE => {
                Ok(panels::directadmin_hook_lift(&address))
            }
            Tool::Plesk => panels::plesk_lift(self, &address),
            Tool::BtFirewall
            | Tool::Directadmin
            | Tool::Btwaf
            | Tool::NginxDeny
            | Tool::ApacheDeny
            | Tool::List
            | Tool::Modsecurity
            | Tool::NginxLimit
            | Tool::ModEvasive => Err(manual::reason(self)),
        }
    }
}

/// `ip route del TYPE ADDR [table T]` for a route whose scope is `TYPE` or `TYPE table T`.
fn route_lift(f: &Finding, address: &str) -> Result<Vec<String>, String> {
    let (kind, table) = match f.scope.split_once(" table ") {
        Some((kind, table)) => (kind, Some(name(table, "the routing table")?)),
        None => (f.scope.as_str(), None),
    };
    if !matches!(kind, "blackhole" | "unreachable" | "prohibit") {
        return Err(format!("{kind:?} is not a route type that refuses traffic"));
    }
    let mut argv = argv(&["ip", "route", "del", kind, address]);
    if let Some(table) = table {
        argv.extend(words(&["table", table]));
    }
    Ok(argv)
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn words(words: &[&str]) -> Vec<String> {
    argv(words)
}

/// Text that can go into an argument as it is: not empty, no control characters, and no
/// replacement character standing for bytes that were not valid UTF-8.
fn passable(text: &str) -> bool {
    !text.is_empty() && !text.chars().any(|c| c.is_control() || c == '\u{fffd}')
}

/// A name that stands where the program reads options too: [`passable`], and not starting
/// with `-`. `what` names it in the reason.
fn name<'a>(text: &'a str, what: &str) -> Result<&'a str, String> {
    if passable(text) && !text.starts_with('-') {
        Ok(text)
    } else {
        Err(format!(
            "{what} {text:?} holds characters that cannot be passed safely"
        ))
    }
}

/// Every word [`passable`], or why not.
fn all_passable(argv: Vec<String>) -> Result<Vec<String>, String> {
    match argv.iter().find(|w| !passable(w)) {
        Some(bad) => Err(format!(
            "the argument {bad:?} holds characters that cannot be passed safely"
        )),
        None => Ok(argv),
    }
}

/// The option the scan's live read of `program` was run with (`-s SOCKET` for
/// `fail2ban-client`, `-c CONFIG` for `cscli`), taken from the label of that read in the
/// evidence (`live: fail2ban-client -s /run/f2b.sock banned`): the lift command must ask the
/// same server. Nothing when the read used the default.
fn live_option(f: &Finding, program: &str) -> Result<Vec<String>, String> {
    for source in LIVE_SOURCES.iter().filter(|s| s.program == program) {
        let Some(flag) = source.option.flag() else {
            continue;
        };
        let prefix = format!("live: {program} {flag} ");
        let suffix = format!(" {}", source.args.join(" "));
        for e in f.evidence.iter().filter(|e| e.authority == Authority::Live) {
            let label = e.location.path.to_string_lossy();
            if let Some(path) = label
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(&suffix))
            {
                if !passable(path) {
                    return Err(format!(
                        "the path {path:?} given to {program} holds characters that cannot be \
                         passed safely"
                    ));
                }
                return Ok(argv(&[flag, path]));
            }
        }
    }
    Ok(Vec::new())
}

/// The finding's own evidence read in `formats` (not that of another tool's object joined to
/// it), in the finding's order: the source the state follows first, then by authority.
fn own<'a>(f: &'a Finding, formats: &'a [Format]) -> impl Iterator<Item = &'a Evidence> + 'a {
    f.evidence
        .iter()
        .filter(move |e| e.object.is_none() && formats.contains(&e.format))
}

/// The first command `build` makes from the evidence, or the first reason it gave, or
/// `none` when there is no evidence to build from.
fn first_ok<'a>(
    evidence: impl Iterator<Item = &'a Evidence>,
    mut build: impl FnMut(&'a Evidence) -> Result<Vec<String>, String>,
    none: impl FnOnce() -> String,
) -> Result<Vec<String>, String> {
    let mut why = None;
    for e in evidence {
        match build(e) {
            Ok(argv) => return Ok(argv),
            Err(reason) => {
                why.get_or_insert(reason);
            }
        }
    }
    Err(why.unwrap_or_else(none))
}

/// A command written for a reason text: its words joined, each quoted for a POSIX shell when
/// it needs it.
pub(crate) fn shown(argv: &[&str]) -> String {
    argv.iter()
        .map(|w| {
            if !w.is_empty()
                && w.bytes().all(|b| {
                    b.is_ascii_alphanumeric()
                        || matches!(
                            b,
                            b'-' | b'_' | b'.' | b'/' | b':' | b',' | b'=' | b'@' | b'%' | b'+'
                        )
                })
            {
                w.to_string()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests;
