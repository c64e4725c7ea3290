//! The lifts of the hosting panels' bans: Hestia's and Vesta's `v-delete-firewall-ban`,
//! cPHulk's whmapi1 calls, Imunify360's agent, DirectAdmin's unblock hook and Plesk's
//! `ip_ban --unban` (`../shared/FORMATS.md` §6 A1–A5).

use super::{all_passable, argv, name, own, passable, shell_words, HESTIA_CHAIN_PREFIX};
use crate::format_id::Format;
use crate::report::Finding;

/// `v-delete-firewall-ban ADDR CHAIN` for a Hestia (or Vesta) ban list entry whose scope is
/// `fail2ban-CHAIN`.
pub(super) fn hestia_lift(f: &Finding, address: &str) -> Result<Vec<String>, String> {
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
pub(super) fn imunify360_lift(f: &Finding, address: &str) -> Result<Vec<String>, String> {
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
pub(super) fn cphulk_lift(f: &Finding, address: &str) -> Result<Vec<String>, String> {
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

/// `env ip=ADDR …/unblock_ip.sh`, the hook DirectAdmin runs to unblock an address of its BFM
/// hook list: it removes the line from `/root/blocked_ips.txt` and the firewall's block.
pub(super) fn directadmin_hook_lift(address: &str) -> Vec<String> {
    argv(&[
        "env",
        &format!("ip={address}"),
        crate::formats::directadmin::UNBLOCK_HOOK,
    ])
}

/// `plesk bin ip_ban --unban ADDR,JAIL`; none for a jail name holding a comma (which `--unban`
/// reads as the end of the address) or for a network (Plesk's jails ban single addresses).
pub(super) fn plesk_lift(f: &Finding, address: &str) -> Result<Vec<String>, String> {
    let jail = name(&f.scope, "the jail name")?;
    if jail.contains(',') {
        return Err(format!(
            "the jail name {jail:?} holds a comma, which --unban reads as the end of the address"
        ));
    }
    if f.address.prefix_len() != f.address.max_prefix_len() {
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
