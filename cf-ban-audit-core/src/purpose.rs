//! Whether a named list or set bans or allows, when no rule says: from its name.
//!
//! Ban tools name their sets after what they do (`f2b-sshd`, `crowdsec-blacklists`,
//! `blocklist`), and allow lists after what they let in (`cloudflare4`, `whitelist`,
//! `trusted`). A name that says neither is of unknown purpose and is never a finding.

/// What a list is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Purpose {
    /// Its entries are banned.
    Ban,
    /// Its entries are allowed (a Cloudflare allow list is the fix, never a finding).
    Allow,
    /// The name does not say.
    Unknown,
}

const BAN_WORDS: &[&str] = &[
    "f2b",
    "fail2ban",
    "crowdsec",
    "block",
    "ban",
    "deny",
    "drop",
    "black",
    "reject",
    "bad",
    "abuse",
    "attack",
    "spam",
    "blacklist",
    "denylist",
    "jail",
    "tempban",
];

const ALLOW_WORDS: &[&str] = &[
    "allow",
    "white",
    "trust",
    "ignore",
    "cloudflare",
    "realip",
    "accept",
    "good",
    "safe",
    "permit",
    "cdn",
    "unban",
];

/// Reads a list's purpose from its name (a set name, a file name). Ban words win over allow
/// words (`cf-blocklist` bans), except negated forms such as `unban`.
pub fn purpose_from_name(name: &str) -> Purpose {
    let lower = name.to_ascii_lowercase();
    let has = |w: &&str| lower.contains(*w);
    if lower.contains("unban") {
        return Purpose::Allow;
    }
    if BAN_WORDS.iter().any(has) {
        Purpose::Ban
    } else if ALLOW_WORDS.iter().any(has) || is_cf_short(&lower) {
        Purpose::Allow
    } else {
        Purpose::Unknown
    }
}

/// `cf`, `cf4`, `cf6`, `cf-v4`, `cf_ips`...: Cloudflare's usual short names.
fn is_cf_short(lower: &str) -> bool {
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| matches!(w, "cf" | "cf4" | "cf6" | "cfv4" | "cfv6" | "cfips"))
}

/// Worked examples of this module's functions.
#[cfg(test)]
mod examples {
    #[test]
    fn purpose_from_name() {
        use crate::purpose::{purpose_from_name, Purpose};
        assert_eq!(purpose_from_name("f2b-sshd"), Purpose::Ban);
        assert_eq!(purpose_from_name("crowdsec6-blacklists-0"), Purpose::Ban);
        assert_eq!(purpose_from_name("cf-blocklist-v4"), Purpose::Ban);
        assert_eq!(purpose_from_name("cloudflare4"), Purpose::Allow);
        assert_eq!(purpose_from_name("whitelist.txt"), Purpose::Allow);
        assert_eq!(purpose_from_name("office"), Purpose::Unknown);
    }
}
