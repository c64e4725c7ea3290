//! ipset's sets: their type and their members, as the ipset reader leaves them after applying
//! a dump (`ipset save`, `ipset list`, a restore file).

use std::collections::BTreeMap;

use ipnet::IpNet;

/// One member of a set: a network (a range member is split into its CIDR blocks, a bare
/// address is its host network), and whether it is a `nomatch` exception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetMember {
    /// The network (the address part of the member: `1.2.3.4` of `1.2.3.4,tcp:80`).
    pub net: IpNet,
    /// A `nomatch` entry: the network is excluded from the set's wider entries.
    pub nomatch: bool,
    /// The line of the dump the member was read on.
    pub line: u64,
}

/// One set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ipset {
    /// Its type as written (`hash:net`, `hash:ip,port`, `list:set`, ipset 4.x `iphash`); empty
    /// for a set that members were added to but that was never created in the dump.
    pub kind: String,
    /// Its address members, in the order of the dump (none for a `list:set`, nor for sets
    /// whose members are not addresses).
    pub members: Vec<SetMember>,
    /// The sets a `list:set` holds, in order.
    pub sets: Vec<String>,
}

/// The sets of a dump, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ipsets {
    /// Sets by name.
    pub sets: BTreeMap<String, Ipset>,
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn parse() {
        use crate::firewall::ipset::Ipsets;
        let sets = Ipsets::parse(
            "create all list:set size 8\ncreate bans hash:net family inet\n\
            add bans 104.16.0.0-104.16.0.3\nadd bans 104.16.0.1 nomatch\nadd all bans\n",
        );
        let bans = &sets.sets["bans"];
        assert_eq!(bans.kind, "hash:net");
        let members: Vec<(String, bool)> = bans
            .members
            .iter()
            .map(|m| (m.net.to_string(), m.nomatch))
            .collect();
        assert_eq!(
            members,
            [
                ("104.16.0.0/30".to_string(), false),
                ("104.16.0.1/32".to_string(), true)
            ]
        );
        assert_eq!(sets.sets["all"].sets, ["bans"]);
    }
}
