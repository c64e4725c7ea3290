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
            Tool::Hestia => hestia_lift(self, &address),
            Tool::Cphulk => cphulk_lift(self, &address),
            Tool::Imunify360 => imunify360_lift(self, &address),
            Tool::Directadmin if self.scope == crate::formats::directadmin::HOOK_SCOPE => {
                Ok(argv(&[
                    "env",
                    &format!("ip={address}"),
                    crate::formats::directadmin::UNBLOCK_HOOK,
                ]))
            }
            Tool::Plesk => {
                let jail = name(&self.scope, "the jail name")?;
                if jail.contains(',') {
                    return Err(format!(
                        "the jail name {jail:?} holds a comma, which --unban reads as the end of the address"
                    ));
                }
                if self.address.prefix_len() != self.address.max_prefix_len() {
                    return Err(format!(
                        "{address} is a network: Plesk's jails ban single addresses"
                    ));
                }
                Ok(argv(&[
                    "plesk",
                    "bin",
                    "ip_ban",
                    "--unban",
                    &format!("{address},{jail}"),
                ]))
            }
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

/// `v-delete-firewall-ban ADDR CHAIN` for a Hestia (or Vesta) ban list entry whose scope is
/// `fail2ban-CHAIN`.
fn hestia_lift(f: &Finding, address: &str) -> Result<Vec<String>, String> {
    let Some(chain) = f.scope.strip_prefix(HESTIA_CHAIN_PREFIX) else {
        return Err(format!(
            "{:?} is not a chain of Hestia's ban list (fail2ban-CHAIN)",
            f.scope
        ));
    };
    let chain = name(chain, "the chain name")?;
    let vesta = own(
        f,
        &[
            Format::HestiaBanlist,
            Format::HestiaBanJson,
            Format::HestiaBanListing,
        ],
    )
    .any(|e| {
        e.location
            .path
            .components()
            .any(|c| c.as_os_str() == "vesta")
    });
    let program = if vesta {
        "/usr/local/vesta/bin/v-delete-firewall-ban"
    } else {
        "/usr/local/hestia/bin/v-delete-firewall-ban"
    };
    Ok(argv(&[program, address, chain]))
}

/// Imunify360's lift by where the ban was read (see [`Finding::lift`]).
fn imunify360_lift(f: &Finding, address: &str) -> Result<Vec<String>, String> {
    use crate::formats::imunify360::{FILE_SCOPE, LOG_SCOPE};
    if f.scope == FILE_SCOPE {
        let at = own(f, &[Format::Imunify360ListFile])
            .map(|e| format!("{}:{}", e.location.path.display(), e.location.line))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(format!(
            "an entry of an external black list file ({at}): delete that line, then run \
             imunify360-agent reload-lists"
        ));
    }
    if f.scope == LOG_SCOPE {
        return Err(format!(
            "console.log does not say which list holds the block: imunify360-agent ip-list \
             local list --by-ip {address} names it; delete it with imunify360-agent ip-list \
             local delete --purpose PURPOSE {address}"
        ));
    }
    let legacy_only = own(f, &[Format::Imunify360Table, Format::Imunify360Json])
        .next()
        .is_none()
        && own(f, &[Format::Imunify360LegacyTable]).next().is_some();
    Ok(if legacy_only {
        argv(&["imunify360-agent", "blacklist", "ip", "delete", address])
    } else {
        argv(&[
            "imunify360-agent",
            "ip-list",
            "local",
            "delete",
            "--purpose",
            "drop",
            address,
        ])
    })
}

/// `whmapi1 delete_cphulk_record list_name=black ip=RECORD` when the black list's record is
/// this address or network, as written in the listing or named from the database
/// ([`Evidence::spec`]); `whmapi1 flush_cphulk_login_history_for_ips ip=ADDRESS` for a block
/// of cPHulk's login history (scopes `brute` and `excessive-brute`) or a rule of its
/// `cphulk` iptables chain: that call removes both.
fn cphulk_lift(f: &Finding, address: &str) -> Result<Vec<String>, String> {
    use crate::formats::cphulk::db::{BRUTE_SCOPE, EXCESSIVE_BRUTE_SCOPE};
    use crate::formats::iptables::CPHULK_CHAIN;
    if [BRUTE_SCOPE, EXCESSIVE_BRUTE_SCOPE, CPHULK_CHAIN].contains(&f.scope.as_str()) {
        let ip = format!("ip={address}");
        return all_passable(argv(&[
            "whmapi1",
            "flush_cphulk_login_history_for_ips",
            &ip,
        ]));
    }
    let record = own(f, &[Format::CphulkRecords, Format::CphulkDb])
        .find_map(|e| e.spec.as_deref())
        .unwrap_or(address);
    if !passable(record) || record.starts_with('-') {
        return Err(format!(
            "the record {record:?} holds characters that cannot be passed safely"
        ));
    }
    let ip = format!("ip={record}");
    let command = [
        "whmapi1",
        "delete_cphulk_record",
        "list_name=black",
        ip.as_str(),
    ];
    if crate::addr::parse_net(record.as_bytes()) != Some(f.address) {
        return Err(format!(
            "the black list record {record} holds other addresses too: `{}` deletes it whole",
            shell_words(&argv(&command))
        ));
    }
    Ok(argv(&command))
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
mod tests {
    use std::path::Path;

    use crate::event::Location;
    use crate::report::{Authority, BanState, Evidence};
    use crate::{Finding, Format, Tool};

    pub(super) fn finding(tool: Tool, scope: &str) -> Finding {
        Finding::new(
            "104.16.0.1/32".parse().unwrap(),
            "104.16.0.0/13".parse().unwrap(),
            tool,
            Format::Fail2banBanTimes,
            scope,
        )
    }

    /// Evidence of `format` read at `path:line`, with its `spec` and `text`.
    pub(super) fn evidence(
        format: Format,
        authority: Authority,
        path: &str,
        line: u64,
        spec: Option<&str>,
        text: Option<&str>,
    ) -> Evidence {
        let mut e = Evidence::new(
            format,
            authority,
            Location::new(Path::new(path), line),
            "listed",
            BanState::Active,
        );
        e.spec = spec.map(String::from);
        e.text = text.map(String::from);
        e
    }

    /// A finding of `address` by `tool` in `scope` with one item of evidence.
    pub(super) fn with(address: &str, tool: Tool, scope: &str, e: Evidence) -> Finding {
        let mut f = finding(tool, scope);
        f.address = crate::addr::parse_net(address.as_bytes()).unwrap();
        f.format = e.format;
        f.evidence = vec![e];
        f
    }

    #[test]
    fn a_hestia_ban_is_lifted_by_its_chain_with_the_panel_s_program() {
        let e = |path: &str| evidence(Format::HestiaBanlist, Authority::Saved, path, 2, None, None);
        let f = with(
            "104.16.0.1",
            Tool::Hestia,
            "fail2ban-WEB",
            e("/usr/local/hestia/data/firewall/banlist.conf"),
        );
        assert_eq!(
            f.lift().unwrap(),
            [
                "/usr/local/hestia/bin/v-delete-firewall-ban",
                "104.16.0.1",
                "WEB"
            ]
        );
        let f = with(
            "172.64.0.0/13",
            Tool::Hestia,
            "fail2ban-RECIDIVE",
            e("/usr/local/vesta/data/firewall/banlist.conf"),
        );
        assert_eq!(
            f.lift().unwrap(),
            [
                "/usr/local/vesta/bin/v-delete-firewall-ban",
                "172.64.0.0/13",
                "RECIDIVE"
            ]
        );
        assert!(finding(Tool::Hestia, "WEB").lift().is_err());
    }

    #[test]
    fn directadmin_s_hook_list_is_lifted_by_its_unblock_hook_and_ip_blacklist_by_hand() {
        let e = |path: &str| {
            evidence(
                Format::DirectadminBlocklist,
                Authority::Saved,
                path,
                3,
                None,
                None,
            )
        };
        let f = with(
            "104.16.0.1",
            Tool::Directadmin,
            "bfm-hook",
            e("/root/blocked_ips.txt"),
        );
        assert_eq!(
            f.lift().unwrap(),
            [
                "env",
                "ip=104.16.0.1",
                "/usr/local/directadmin/scripts/custom/unblock_ip.sh"
            ]
        );
        let f = with(
            "104.16.0.1",
            Tool::Directadmin,
            "ip_blacklist",
            e("/usr/local/directadmin/data/admin/ip_blacklist"),
        );
        let why = f.lift().unwrap_err();
        assert!(
            why.starts_with(
                "edit line 3 of /usr/local/directadmin/data/admin/ip_blacklist and remove the \
                 line of 104.16.0.1"
            ) && why.contains("only the DirectAdmin login on port 2222"),
            "{why}"
        );
    }

    #[test]
    fn a_plesk_ban_is_lifted_by_address_and_jail() {
        let e = evidence(
            Format::PleskBanned,
            Authority::Saved,
            "banned.txt",
            1,
            None,
            None,
        );
        let f = with("104.16.0.1", Tool::Plesk, "plesk-apache", e.clone());
        assert_eq!(
            f.lift().unwrap(),
            [
                "plesk",
                "bin",
                "ip_ban",
                "--unban",
                "104.16.0.1,plesk-apache"
            ]
        );
        let f = with("2a06:98c0::1", Tool::Plesk, "recidive", e.clone());
        assert_eq!(f.lift().unwrap()[4], "2a06:98c0::1,recidive");
        for jail in ["-x", "a,b", "a\nb"] {
            assert!(with("104.16.0.1", Tool::Plesk, jail, e.clone())
                .lift()
                .is_err());
        }
        assert!(with("104.16.0.0/24", Tool::Plesk, "ssh", e).lift().is_err());
    }

    #[test]
    fn a_cphulk_record_is_deleted_only_when_it_is_this_ban() {
        let e = |spec: &str| {
            evidence(
                Format::CphulkRecords,
                Authority::Saved,
                "black.json",
                4,
                Some(spec),
                None,
            )
        };
        let f = with("104.16.0.1", Tool::Cphulk, "black", e("104.16.0.1"));
        assert_eq!(
            f.lift().unwrap(),
            [
                "whmapi1",
                "delete_cphulk_record",
                "list_name=black",
                "ip=104.16.0.1"
            ]
        );
        let f = with(
            "162.158.0.2/31",
            Tool::Cphulk,
            "black",
            e("162.158.0.1-162.158.0.6"),
        );
        let why = f.lift().unwrap_err();
        assert!(
            why.contains("ip=162.158.0.1-162.158.0.6` deletes it whole"),
            "{why}"
        );
        assert!(finding(Tool::Hestia, "fail2ban--x").lift().is_err());
        let db = evidence(
            Format::CphulkDb,
            Authority::Database,
            "cphulk.sqlite",
            0,
            Some("172.68.10.0/24"),
            None,
        );
        assert_eq!(
            with("172.68.10.0/24", Tool::Cphulk, "black", db)
                .lift()
                .unwrap()[3],
            "ip=172.68.10.0/24"
        );
        assert_eq!(
            finding(Tool::Cphulk, "cphulk").lift().unwrap()[1],
            "flush_cphulk_login_history_for_ips"
        );
        assert_eq!(
            finding(Tool::Cphulk, "excessive-brute").lift().unwrap(),
            [
                "whmapi1",
                "flush_cphulk_login_history_for_ips",
                "ip=104.16.0.1"
            ]
        );
    }

    #[test]
    fn an_unnamed_jail_is_lifted_by_address() {
        let f = finding(
            Tool::Fail2ban,
            crate::formats::fail2ban_client::UNNAMED_JAIL,
        );
        assert_eq!(
            f.lift().unwrap(),
            ["fail2ban-client", "unban", "104.16.0.1"]
        );
    }

    #[test]
    fn names_that_cannot_be_passed_give_no_command() {
        for scope in ["ssh\u{fffd}d", "ssh\nd", "x\u{1b}[31m", "", "-d"] {
            let err = finding(Tool::Fail2ban, scope).lift().unwrap_err();
            assert!(err.contains("cannot be passed safely"), "{scope:?}: {err}");
        }
        // A jail name with spaces or quotes is one argument, passed as it is.
        assert_eq!(
            finding(Tool::Fail2ban, "my 'jail'").lift().unwrap()[2],
            "my 'jail'"
        );
        assert!(finding(Tool::Ipset, "-exist").lift().is_err());
    }

    #[test]
    fn the_server_the_scan_asked_is_the_one_told() {
        let mut f = finding(Tool::Fail2ban, "sshd");
        f.evidence = vec![evidence(
            Format::Fail2banBanned,
            Authority::Live,
            "live: fail2ban-client -s /run/fail2ban-web/f2b.sock banned",
            0,
            None,
            None,
        )];
        assert_eq!(
            f.lift().unwrap(),
            [
                "fail2ban-client",
                "-s",
                "/run/fail2ban-web/f2b.sock",
                "set",
                "sshd",
                "unbanip",
                "104.16.0.1"
            ]
        );
        // The default socket: no option.
        f.evidence[0].location = Location::new(Path::new("live: fail2ban-client banned"), 0);
        assert_eq!(f.lift().unwrap()[1], "set");
        // A saved file that looks like a label is not a live read.
        f.evidence[0].authority = Authority::Saved;
        f.evidence[0].location = Location::new(Path::new("live: fail2ban-client -s /x banned"), 0);
        assert_eq!(f.lift().unwrap()[1], "set");
        let mut c = finding(Tool::Crowdsec, "crowdsecurity/http-probing");
        c.evidence = vec![evidence(
            Format::CrowdsecJson,
            Authority::Live,
            "live: cscli -c /etc/crowdsec/other.yaml decisions list -a -o json",
            0,
            None,
            None,
        )];
        assert_eq!(
            c.lift().unwrap(),
            [
                "cscli",
                "-c",
                "/etc/crowdsec/other.yaml",
                "decisions",
                "delete",
                "--ip",
                "104.16.0.1",
                "--contained"
            ]
        );
        c.evidence[0].location = Location::new(
            Path::new("live: cscli -c /x\u{7}y decisions list -a -o json"),
            0,
        );
        assert!(c.lift().unwrap_err().contains("cannot be passed safely"));
    }

    #[test]
    fn crowdsec_csf_and_ipset() {
        assert_eq!(
            finding(Tool::Crowdsec, "crowdsecurity/http-probing")
                .lift()
                .unwrap(),
            [
                "cscli",
                "decisions",
                "delete",
                "--ip",
                "104.16.0.1",
                "--contained"
            ]
        );
        let mut range = finding(Tool::Crowdsec, "manual");
        range.address = "104.16.0.0/24".parse().unwrap();
        assert_eq!(
            range.lift().unwrap()[3..],
            ["--range", "104.16.0.0/24", "--contained"]
        );
        assert_eq!(
            finding(Tool::Csf, "csf.deny").lift().unwrap(),
            ["csf", "-dr", "104.16.0.1"]
        );
        assert_eq!(finding(Tool::Csf, "csf.tempban").lift().unwrap()[1], "-trd");
        let mut lfd = finding(Tool::Csf, "LF_SSHD");
        assert_eq!(lfd.lift().unwrap()[1], "-dr");
        lfd.expires = Some("2026-11-24T13:00:00".parse().unwrap());
        assert_eq!(lfd.lift().unwrap()[1], "-trd");
        assert_eq!(
            finding(Tool::Ipset, "f2b-sshd").lift().unwrap(),
            ["ipset", "del", "f2b-sshd", "104.16.0.1"]
        );
        assert!(finding(Tool::Ipset, "bad\u{7}set").lift().is_err());
    }

    #[test]
    fn every_tool_gives_a_command_or_a_reason() {
        for &tool in Tool::ALL {
            match finding(tool, "x").lift() {
                Ok(argv) => assert!(!argv.is_empty()),
                Err(why) => {
                    assert!(
                        !why.is_empty() && !why.contains("no lift command"),
                        "{tool}: {why}"
                    )
                }
            }
        }
    }

    #[test]
    fn commands_shown_in_reasons_are_quoted() {
        assert_eq!(
            super::shown(&["nft", "delete", "element", "ip", "t", "s", "{ 1.2.3.4 }"]),
            "nft delete element ip t s '{ 1.2.3.4 }'"
        );
        assert_eq!(super::shown(&["a'b"]), r"'a'\''b'");
    }

    #[test]
    fn a_route_is_deleted_by_its_type_address_and_table() {
        let e = |line| {
            evidence(
                Format::IpRoute,
                Authority::Saved,
                "ip-route.txt",
                line,
                None,
                None,
            )
        };
        let f = with("172.64.0.0/24", Tool::Route, "blackhole", e(1));
        assert_eq!(
            f.lift().unwrap(),
            ["ip", "route", "del", "blackhole", "172.64.0.0/24"]
        );
        let f = with("2606:4700::1", Tool::Route, "unreachable table 100", e(2));
        assert_eq!(
            f.lift().unwrap(),
            [
                "ip",
                "route",
                "del",
                "unreachable",
                "2606:4700::1",
                "table",
                "100"
            ]
        );
        assert!(with("104.16.0.1", Tool::Route, "local", e(3))
            .lift()
            .is_err());
        assert!(with("104.16.0.1", Tool::Route, "blackhole table -x", e(4))
            .lift()
            .is_err());
    }
}
