//! iptables and ip6tables rule sets: tables, chains with their policy, and rules with typed
//! matches and a target, as the `iptables-save` reader reads them.

use std::collections::BTreeMap;

use super::Verdict;

/// A rule set as saved by `iptables-save` (or listed by `iptables -S`, taken as the filter
/// table).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IptablesRuleset {
    /// Tables by name (`filter`, `raw`, `mangle`, `nat`, `security`).
    pub tables: BTreeMap<String, Table>,
    /// Lines that were not understood, with their line numbers.
    pub notes: Vec<String>,
    /// Whether `iptables-save` said it is the nf_tables variant (its tables then also show in
    /// `nft list ruleset`).
    pub nf_tables: bool,
}

/// One table: its chains by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Chains by name.
    pub chains: BTreeMap<String, Chain>,
}

/// One chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    /// The policy of a built-in chain (`ACCEPT`, `DROP`); `None` for a user chain.
    pub policy: Option<String>,
    /// The rules in order.
    pub rules: Vec<Rule>,
}

/// One rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    /// The rule as written (`-A INPUT -s 1.2.3.4/32 -j DROP`, counters left out).
    pub text: String,
    /// The line it was read on (its first line, when a quoted value holds line breaks).
    pub line: u64,
    /// Its matches, in order.
    pub matches: Vec<Match>,
    /// Its target (`-j` or `-g`), if any.
    pub target: Option<Target>,
}

/// A match of a rule, maybe negated (`! -s 10.0.0.0/8`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Written after a `!`.
    pub negated: bool,
    /// What it matches.
    pub kind: MatchKind,
}

/// What a match compares. Values are kept as written (a comma list, a range, a port name):
/// an evaluator decides what it understands of them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MatchKind {
    /// `-s`: source addresses (a comma list of addresses or networks, masks allowed).
    Source(String),
    /// `-d`: destination addresses.
    Destination(String),
    /// `-p`: the protocol (`tcp`, `6`, `all`).
    Protocol(String),
    /// `-i`: the input interface (`eth0`, `eth+`).
    InInterface(String),
    /// `-o`: the output interface.
    OutInterface(String),
    /// `-f`: second and further fragments.
    Fragment,
    /// `-c PKTS BYTES`: counters, which match everything.
    Counters,
    /// `-m NAME` of a module whose options are read as matches of their own (`tcp`, `udp`,
    /// `multiport`, `conntrack`, `state`, `set`, `iprange`, `addrtype`, `pkttype`, `comment`).
    Module(String),
    /// `-m NAME OPTIONS...` of any other module (`limit`, `recent`, `geoip`): its options up
    /// to the next `-m`, `-j` or `-g`, as written.
    UnknownModule {
        /// The module.
        name: String,
        /// Its options.
        options: Vec<String>,
    },
    /// `--dport`: a port or `a:b` range (names allowed).
    DestPort(String),
    /// `--sport`.
    SourcePort(String),
    /// `--dports` (multiport): a comma list.
    DestPorts(String),
    /// `--sports` (multiport).
    SourcePorts(String),
    /// `--ports` (multiport: source or destination).
    Ports(String),
    /// `--syn`.
    Syn,
    /// `--tcp-flags MASK COMP`.
    TcpFlags {
        /// The flags looked at.
        mask: String,
        /// Those of them that must be set.
        comp: String,
    },
    /// `--ctstate` or `--state`: a comma list of states.
    State(String),
    /// `--ctdir`.
    CtDir(String),
    /// `--ctproto`.
    CtProto(String),
    /// `--ctorigsrc`.
    CtOrigSrc(String),
    /// `--match-set NAME FLAGS` (`src`, `dst`, `src,dst`).
    MatchSet {
        /// The ipset.
        name: String,
        /// Which addresses of the packet are looked up.
        flags: String,
    },
    /// `--return-nomatch`.
    ReturnNomatch,
    /// `--update-counters` or `--update-subcounters`.
    UpdateCounters,
    /// `--src-range A-B`.
    SrcRange(String),
    /// `--dst-range A-B`.
    DstRange(String),
    /// `--dst-type`.
    DstType(String),
    /// `--src-type`.
    SrcType(String),
    /// `--limit-iface-in`.
    LimitIfaceIn,
    /// `--pkt-type`.
    PktType(String),
    /// `--comment`.
    Comment(String),
    /// Any other option and its value, as written.
    Other {
        /// The option (`--tcp-option`).
        option: String,
        /// The word after it (empty when an option follows).
        value: String,
    },
    /// A word standing where an option belongs: a quoted value, or a word without a `-`.
    /// Never an option.
    Word(String),
    /// An option whose value is missing: the rule ends after it.
    Incomplete(String),
}

/// A rule's target: `-j NAME [options]` or `-g NAME`. Its options are the arguments after it
/// that are not matches (iptables takes matches after the target too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `ACCEPT`, `DROP`, `REJECT`, `RETURN`, `LOG`, a user chain...
    pub name: String,
    /// Written with `-g` (goto): falling off the chain returns to the caller's caller.
    pub goto: bool,
    /// The target's options (`--reject-with tcp-reset`).
    pub options: Vec<String>,
}

/// The iptables targets that decide nothing: evaluation goes on with the next rule.
const CONTINUING: &[&str] = &[
    "LOG",
    "NFLOG",
    "ULOG",
    "TRACE",
    "AUDIT",
    "MARK",
    "CONNMARK",
    "CT",
    "NOTRACK",
    "SET",
    "CLASSIFY",
    "DSCP",
    "TOS",
    "TTL",
    "HL",
    "TCPMSS",
    "CONNSECMARK",
    "SECMARK",
    "CHECKSUM",
    "IDLETIMER",
    "LED",
    "RATEEST",
    "NETMAP",
];

impl Target {
    /// What the target does.
    pub fn verdict(&self) -> Verdict {
        let name = self.name.as_str();
        match name {
            "ACCEPT" => Verdict::Accept,
            "DROP" | "TARPIT" => Verdict::Drop,
            "REJECT" => Verdict::Reject,
            "RETURN" => Verdict::Return,
            t if CONTINUING.contains(&t) => Verdict::Continue,
            "QUEUE" | "NFQUEUE" => Verdict::Queue,
            "DNAT" | "REDIRECT" | "SNAT" | "MASQUERADE" => Verdict::Nat,
            t if self.goto => Verdict::Goto(t.to_string()),
            t => Verdict::Jump(t.to_string()),
        }
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn parse() {
        use crate::firewall::iptables::{IptablesRuleset, MatchKind};
        let rs = IptablesRuleset::parse("*filter\n:INPUT DROP [0:0]\n-A INPUT ! -s 10.0.0.0/8 -p tcp -m comment --comment \"a -j b\" -j REJECT --reject-with tcp-reset\nCOMMIT\n");
        let input = &rs.tables["filter"].chains["INPUT"];
        assert_eq!(input.policy.as_deref(), Some("DROP"));
        let rule = &input.rules[0];
        assert!(rule.matches[0].negated);
        assert_eq!(rule.matches[0].kind, MatchKind::Source("10.0.0.0/8".into()));
        assert_eq!(rule.matches[3].kind, MatchKind::Comment("a -j b".into()));
        let target = rule.target.as_ref().unwrap();
        assert_eq!((target.name.as_str(), target.goto), ("REJECT", false));
        assert_eq!(target.options, ["--reject-with", "tcp-reset"]);
    }

    #[test]
    fn verdict() {
        use crate::firewall::{iptables::Target, Verdict};
        let t = |name: &str, goto: bool| Target {
            name: name.into(),
            goto,
            options: Vec::new(),
        };
        assert_eq!(t("TARPIT", false).verdict(), Verdict::Drop);
        assert_eq!(t("LOG", false).verdict(), Verdict::Continue);
        assert_eq!(
            t("f2b-sshd", true).verdict(),
            Verdict::Goto("f2b-sshd".into())
        );
    }
}
