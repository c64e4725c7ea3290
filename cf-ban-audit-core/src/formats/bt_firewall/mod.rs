//! The BT-Panel (Baota) / aaPanel system firewall's rules (`aaPanel/aaPanel` @ 88012af9,
//! `class/safeModel/firewallModel.py` `Sqlite.create_table`, `export_rules`, `import_rules`;
//! `class/firewallModel/comModel.py` `set_ip_db`; `class/firewalls.py` `AddDropAddress`;
//! `config/databases.json`; see `../shared/FORMATS.md` §6 A6).
//!
//! The panel keeps its rules in the SQLite database `/www/server/panel/data/default.db`
//! (newer BT 9.x installs appear to split it, and keep the firewall's tables in
//! `data/db/firewall.db`: both are read) and applies them through ufw, firewalld or iptables:
//!
//! - `firewall_ip` (`id, types, address, brief, addtime`, later `sid, domain, chain`): address
//!   rules;
//! - `firewall_new` (`id, protocol, ports, types, address, brief, addtime`, later `domain,
//!   sid, chain`): port rules, some with a source `address`;
//! - the legacy `firewall` (`id, port, ps, addtime`, later `ports, protocol, address_ip,
//!   types`), whose `port` column holds an accepted port *or* a blocked address
//!   (`AddDropAddress` stores the address there, with no `types`), and whose `address_ip`
//!   holds the source of a port rule (`types` `accept` or `reject`).
//!
//! "Export" writes the rows to `/www/server/panel/data/firewall/ip.json` (and `port.json`) as
//! one JSON object a line; "import" reads that, a JSON array, or a single object (see
//! [`json`]). The database is read by [`db`]. Both read each rule with the same logic:
//!
//! A rule with `types` `drop` (or `reject`, `deny`) bans its `address`: an address, a CIDR,
//! an IPv6 address, or a range `a-b` (which the panel turns into an ipset; here it becomes
//! its minimal CIDR blocks, see [`super::plain_list::range_nets`]), or several of them
//! separated by commas. Each is an [`Action::Listed`] event with scope `ip_rule` (or
//! `port_rule` for a port rule with a source address) and the rule's `addtime` (`%Y-%m-%d
//! %X`, host local time) as its time. `accept` rules are allow rules and give nothing; port
//! rules without an address close a port to everyone and name no banned source. A rule whose
//! `chain` is `OUTPUT` stops what the server sends to the address, not what it receives: it
//! refuses no visitor and is counted in a note, not reported (an empty `chain` is `INPUT`,
//! as the panel reads it).
//!
//! `brief` (`ps` in the legacy table) is the admin's remark and is never read for addresses;
//! nor is `domain` (`"<domain>|<ip>"` for a rule the panel keeps resolving).

use chrono::NaiveDateTime;

use super::grammar::entry::parse_entry;
use super::grammar::time::parse_asctime;
use super::registry::{Detection, FormatDescriptor, Reader};
use super::{Format, Sink};
use crate::event::{Action, BanEvent, Location, Tool};

pub mod db;
pub mod json;

pub use db::{looks_like_db, read_database};
pub use json::{detect, BtFirewallParser};

/// The scope of address rules.
pub const IP_RULE_SCOPE: &str = "ip_rule";
/// The scope of port rules that name a source address.
pub const PORT_RULE_SCOPE: &str = "port_rule";

/// One firewall rule as the panel stores it, whatever it was read from: the values that
/// decide whether it bans, and what.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Rule<'a> {
    /// `types`: `drop`, `reject` (or `deny`) bans; anything else does not.
    pub types: Option<&'a str>,
    /// `address`: the banned source(s).
    pub address: Option<&'a str>,
    /// The rule names ports (a port rule).
    pub ports: bool,
    /// `chain`: `INPUT` (or empty) refuses visitors; `OUTPUT` does not.
    pub chain: Option<&'a str>,
    /// `addtime`, `%Y-%m-%d %X`.
    pub addtime: Option<&'a str>,
}

/// What one rule gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A ban (its events were given to the sink), or nothing to read (an allow rule, a port
    /// closed to everyone, a malformed rule already named).
    Read,
    /// A drop rule in the `OUTPUT` chain (or another chain that is not `INPUT`): no ban of a
    /// visitor.
    OtherChain,
}

impl Rule<'_> {
    /// Gives the sink an event per banned network of this rule, read from `format` at
    /// `location`; a problem is named after `label` (`"firewall_ip row 4: "`, or empty for a
    /// line). `spec` keeps the address as written on each event.
    pub(crate) fn events(
        &self,
        format: Format,
        location: &Location,
        label: &str,
        spec: bool,
        sink: &mut dyn Sink,
    ) -> Outcome {
        let line = location.line;
        let (Some(types), Some(address)) = (self.types, self.address) else {
            sink.malformed(line, format!("{label}a rule without types or address"));
            return Outcome::Read;
        };
        if !matches!(
            types.trim().to_ascii_lowercase().as_str(),
            "drop" | "reject" | "deny"
        ) {
            return Outcome::Read;
        }
        let address = address.trim();
        if address.is_empty() {
            if !self.ports {
                sink.malformed(line, format!("{label}a drop rule without an address"));
            }
            return Outcome::Read;
        }
        let chain = self.chain.map(str::trim).unwrap_or("");
        if !(chain.is_empty() || chain.eq_ignore_ascii_case("INPUT")) {
            return Outcome::OtherChain;
        }
        let scope = if self.ports {
            PORT_RULE_SCOPE
        } else {
            IP_RULE_SCOPE
        };
        let time = self.addtime.and_then(addtime);
        for part in address.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some(nets) = parse_entry(part.as_bytes()) else {
                sink.malformed(
                    line,
                    format!("{label}not an address, CIDR or range: {part:?}"),
                );
                continue;
            };
            for net in nets {
                let event = BanEvent::new(
                    net,
                    Tool::BtFirewall,
                    format,
                    scope,
                    Action::Listed,
                    location.clone(),
                )
                .at(time);
                sink.event(if spec {
                    event.spec(address.to_string())
                } else {
                    event
                });
            }
        }
        Outcome::Read
    }
}

/// The note for rules of another chain than `INPUT`.
pub(crate) fn other_chain_note(count: usize) -> String {
    format!(
        "{count} drop rule(s) in the OUTPUT chain: they stop what the server sends to an \
         address, not what it receives, and are not read as bans"
    )
}

/// The panel's `addtime`: `%Y-%m-%d %X`.
fn addtime(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    let (time, n) = parse_asctime(text.as_bytes())?;
    (n == text.len()).then_some(time)
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// BT-Panel / aaPanel system firewall rule JSON (`types: drop`).
    pub const BtFirewall: Format = Format::builtin(26, "bt-firewall");
    /// BT-Panel / aaPanel system firewall rules in the panel's SQLite database.
    pub const BtFirewallDb: Format = Format::builtin(48, "bt-firewall-db");
}

/// The BT firewall JSON descriptor.
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::new(
    Format::BtFirewall,
    &[Tool::BtFirewall],
    "BT-Panel firewall exported rule JSON",
    |ctx| Box::new(BtFirewallParser::new(ctx)),
)
.usual_paths(&["/www/server/panel/data/firewall"])
.detected_by(&[Detection::text(240, |path, head| {
    detect(path, head).is_some()
})]);

/// The BT firewall database descriptor.
pub(crate) const DB: FormatDescriptor = FormatDescriptor::read_as(
    Format::BtFirewallDb,
    &[Tool::BtFirewall],
    "BT-Panel / aaPanel system firewall SQLite (firewall_ip, firewall_new, legacy firewall)",
    Reader::Sqlite(read_database),
)
.usual_paths(&[
    "/www/server/panel/data/default.db",
    "/www/server/panel/data/db/firewall.db",
])
.detected_by(&[Detection::sqlite(112, looks_like_db)]);
