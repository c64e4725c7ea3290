//! The firewall as one typed model: what `iptables-save`, `ipset save` and `nft list ruleset`
//! hold, read once by the readers of [`crate::formats`] and used by the [`crate::doctor`]'s
//! evaluators.
//!
//! - [`iptables::IptablesRuleset`]: tables, chains (with the policy of built-in chains) and
//!   rules, each rule its typed matches ([`iptables::Match`]: addresses with negation,
//!   protocol, ports, interfaces, conntrack state, set matches, and an
//!   [`iptables::MatchKind::Other`] / [`iptables::MatchKind::UnknownModule`] carrying the text
//!   of what the model does not type) and its target ([`iptables::Target`]), read by the
//!   `iptables-save` reader's argument splitter ([`crate::formats::iptables::split_args`]);
//! - [`ipset::Ipsets`]: sets with their type and members (`nomatch` exceptions and the member
//!   sets of a `list:set` included), built by the ipset reader
//!   ([`crate::formats::ipset::IpsetParser`]) as it applies the commands of a dump;
//! - [`nft::NftRuleset`]: tables, chains (hook, priority, policy and device of base chains),
//!   named sets and maps with their elements (timeouts and `expires` kept as written), and
//!   rules: the nft reader's tokens ([`nft::Tok`]) read into typed expressions
//!   ([`nft_rule::NftExpr`]: matches of a [`nft_rule::Selector`] with an operator and a value,
//!   verdict maps, statements, the verdict, and what the model does not read, as text), built
//!   by the nft text reader as it reads a ruleset.
//!
//! Both rulesets say what a rule does with the same [`Verdict`] ([`iptables::Target::verdict`],
//! [`nft_rule::verdict`]).
//!
//! Every builder works on text already read (it never opens a file) and never panics on its
//! input: what it does not understand is kept, as text, where an evaluator can name it.
//!
//! The address ranges of all three (`a-b` in `--src-range`, ipset members, nft elements) are
//! turned into CIDR blocks by the crate's one range splitter, [`crate::addr::range_nets`].

/// What a rule does with a packet it matches: an iptables target or an nft verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// `ACCEPT`, `accept`.
    Accept,
    /// `DROP` (and `TARPIT`), `drop`.
    Drop,
    /// `REJECT`, `reject`.
    Reject,
    /// `RETURN`, `return`.
    Return,
    /// Evaluation goes on with the next rule: nft `continue`, and the iptables targets that
    /// decide nothing (`LOG`, `NFLOG`, `MARK`, `CT`, `SET`, ...).
    Continue,
    /// `-j CHAIN`, `jump CHAIN` (for iptables, any target that is none of the above: a user
    /// chain, or an extension target the model does not know).
    Jump(String),
    /// `-g CHAIN`, `goto CHAIN`.
    Goto(String),
    /// Handed to a user-space program (`QUEUE`, `NFQUEUE`, `queue`).
    Queue,
    /// Address translation (`DNAT`, `SNAT`, `MASQUERADE`, `REDIRECT`; nft `dnat`, `snat`,
    /// `masquerade`, `redirect`).
    Nat,
    /// Another nft verdict statement (`tproxy`, `synproxy`), by name.
    Other(String),
}

pub mod ipset;
pub mod iptables;
pub mod nft;
pub mod nft_rule;
