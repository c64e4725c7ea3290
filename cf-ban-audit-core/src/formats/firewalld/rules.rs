//! The rules firewalld's XML and `firewall-cmd` output share: what a zone's target does, the
//! sources and actions of rich rules, and the addresses of ipset entries.

use ipnet::IpNet;
use nom::branch::alt;
use nom::bytes::complete::{take_till, take_while};
use nom::character::complete::char;
use nom::combinator::{all_consuming, cut, opt, verify};
use nom::multi::many0;
use nom::sequence::{pair, preceded, terminated};
use nom::Parser;

use crate::addr::{parse_ip, parse_net};
use crate::formats::{quote, Verdict};

/// What a zone's target does with the packets of its sources: `DROP`, `REJECT` and
/// `%%REJECT%%` drop, `ACCEPT` accepts, `default` and `CONTINUE` neither. With no target
/// (`None`), the built-in `drop` and `block` zones drop and `trusted` accepts.
pub fn target_verdict(target: Option<&str>, zone: &str) -> Option<Verdict> {
    match target.map(str::trim) {
        Some("DROP" | "REJECT" | "%%REJECT%%") => Some(Verdict::Drop),
        Some("ACCEPT") => Some(Verdict::Accept),
        Some(_) => None,
        None => match zone {
            "drop" | "block" => Some(Verdict::Drop),
            "trusted" => Some(Verdict::Accept),
            _ => None,
        },
    }
}

/// The source of a rich rule or a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An address or CIDR, as written.
    Address(String),
    /// A firewalld ipset, by name.
    Ipset(String),
    /// A MAC address (never a ban of an IP address).
    Mac(String),
}

/// The action of a rich rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAction {
    /// `accept`.
    Accept,
    /// `reject`.
    Reject,
    /// `drop`.
    Drop,
    /// `mark` (packets are marked, not blocked).
    Mark,
}

/// What matters of a rich rule: its source, whether the source is inverted, its action and
/// whether the action is rate-limited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RichRule {
    /// The source, if the rule names one.
    pub source: Option<Source>,
    /// `source NOT ...` / `invert="True"`: the rule matches every other source.
    pub invert: bool,
    /// The action, if any (a rule may only log).
    pub action: Option<RuleAction>,
    /// The action has a `limit`.
    pub limited: bool,
}

impl RichRule {
    /// What the rule does with packets of its source: `drop`/`reject` without a limit drop,
    /// `accept` accepts; `None` for inverted sources and everything else.
    pub fn verdict(&self) -> Option<Verdict> {
        if self.invert {
            return None;
        }
        match self.action? {
            RuleAction::Accept => Some(Verdict::Accept),
            RuleAction::Drop | RuleAction::Reject if !self.limited => Some(Verdict::Drop),
            _ => None,
        }
    }
}

/// Splits a rich rule string into `key` / `key=value` words, values in double or single
/// quotes or bare. `Err` when a quote is left open.
fn rich_words(text: &[u8]) -> Result<Vec<(String, Option<String>)>, String> {
    let is_space = |b: u8| b.is_ascii_whitespace();
    // A quoted value runs to the same quote, which must come: `cut` turns its absence into a
    // failure instead of a bare value.
    let quoted = |q: char| {
        preceded(
            char(q),
            cut(terminated(take_till(move |b| b == q as u8), char(q))),
        )
    };
    let value = alt((quoted('"'), quoted('\''), take_till(is_space)));
    let key = take_till(|b| is_space(b) || b == b'=');
    // A word is never empty (only `=value` has no key), so the words end where the text does.
    let word = verify(
        pair(key, opt(preceded(char('='), value))),
        |(k, v): &(&[u8], _)| !k.is_empty() || v.is_some(),
    );
    let mut words = all_consuming(terminated(
        many0(preceded(take_while(is_space), word)),
        take_while(is_space),
    ));
    let (_, words) = words
        .parse(text)
        .map_err(|_: nom::Err<nom::error::Error<&[u8]>>| {
            format!("rich rule with an open quote: {}", quote(text))
        })?;
    Ok(words
        .into_iter()
        .map(|(k, v)| (lossy(k), v.map(lossy)))
        .collect())
}

/// Bytes of a rich rule as text.
fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Reads a rich rule as `firewall-cmd` prints it (`rule family="ipv4" source address="..."
/// ... drop`). `Err` names what is wrong.
pub fn parse_rich_rule(text: &[u8]) -> Result<RichRule, String> {
    let words = rich_words(text)?;
    let mut it = words.iter().peekable();
    match it.next() {
        Some((k, None)) if k == "rule" => {}
        _ => return Err(format!("not a rich rule: {}", quote(text))),
    }
    let mut rule = RichRule::default();
    while let Some((key, value)) = it.next() {
        match (key.as_str(), value) {
            ("source", None) => {
                if it.peek().is_some_and(|(k, v)| k == "NOT" && v.is_none()) {
                    it.next();
                    rule.invert = true;
                }
                rule.source = match it.next() {
                    Some((k, Some(v))) if k == "address" => Some(Source::Address(v.clone())),
                    Some((k, Some(v))) if k == "ipset" => Some(Source::Ipset(v.clone())),
                    Some((k, Some(v))) if k == "mac" => Some(Source::Mac(v.clone())),
                    _ => return Err(format!("rich rule with a bad source: {}", quote(text))),
                };
            }
            ("destination", None) => {
                if it.peek().is_some_and(|(k, v)| k == "NOT" && v.is_none()) {
                    it.next();
                }
                it.next();
            }
            ("accept", None) => rule.action = Some(RuleAction::Accept),
            ("reject", None) => rule.action = Some(RuleAction::Reject),
            ("drop", None) => rule.action = Some(RuleAction::Drop),
            ("mark", None) => rule.action = Some(RuleAction::Mark),
            // A limit after the action limits the action (one before it limits a log).
            ("limit", None) if rule.action.is_some() => rule.limited = true,
            _ => {}
        }
    }
    Ok(rule)
}

/// The networks of one ipset entry for an ipset of type `ipset_type` (`hash:ip`,
/// `hash:net,port`, ...): its first part, an address, a CIDR or an `a-b` range. Empty for
/// types whose first part is not an address (`hash:mac`). `Err` names what is wrong.
pub fn ipset_entry_nets(entry: &str, ipset_type: &str) -> Result<Vec<IpNet>, String> {
    let first_flag = ipset_type
        .trim()
        .strip_prefix("hash:")
        .unwrap_or(ipset_type)
        .split(',')
        .next()
        .unwrap_or_default();
    if !matches!(first_flag, "ip" | "net") {
        return Ok(Vec::new());
    }
    let item = entry.split(',').next().unwrap_or_default().trim();
    let bad = || format!("ipset entry is not an address: {}", quote(entry.as_bytes()));
    if let Some(net) = parse_net(item.as_bytes()) {
        return Ok(vec![net]);
    }
    let (a, b) = item.split_once('-').ok_or_else(bad)?;
    let a = parse_ip(a.trim().as_bytes()).ok_or_else(bad)?;
    // firewalld lets the end of a `hash:net` range carry a mask: the range ends where that
    // network ends.
    let b = match parse_ip(b.trim().as_bytes()) {
        Some(ip) => ip,
        None => parse_net(b.trim().as_bytes()).ok_or_else(bad)?.broadcast(),
    };
    crate::addr::range_nets(a, b).ok_or_else(bad)
}

/// A MAC address (`00:11:22:33:44:55`), which `sources:` may list besides addresses.
pub(super) fn is_mac(token: &[u8]) -> bool {
    token.len() == 17
        && token.chunks(3).all(|c| {
            c[0].is_ascii_hexdigit()
                && c[1].is_ascii_hexdigit()
                && c.get(2).is_none_or(|&s| s == b':')
        })
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn target_verdict() {
        use crate::formats::firewalld::target_verdict;
        use crate::formats::Verdict;
        assert_eq!(
            target_verdict(Some("%%REJECT%%"), "public"),
            Some(Verdict::Drop)
        );
        assert_eq!(
            target_verdict(Some("ACCEPT"), "trusted"),
            Some(Verdict::Accept)
        );
        assert_eq!(target_verdict(Some("default"), "public"), None);
        assert_eq!(target_verdict(None, "drop"), Some(Verdict::Drop));
    }

    #[test]
    fn parse_rich_rule() {
        use crate::formats::firewalld::{parse_rich_rule, RuleAction, Source};
        use crate::formats::Verdict;
        let r = parse_rich_rule(br#"rule family="ipv4" source address="172.67.0.0/16" service name="ssh" log prefix="drop " level="warning" drop"#).unwrap();
        assert_eq!(r.source, Some(Source::Address("172.67.0.0/16".into())));
        assert_eq!(r.verdict(), Some(Verdict::Drop));
        let r = parse_rich_rule(br#"rule family="ipv4" source NOT address="198.41.128.0/17" drop"#)
            .unwrap();
        assert_eq!(r.verdict(), None);
        let r = parse_rich_rule(br#"rule family="ipv4" source address="108.162.192.7" log prefix="drop 104.16.0.1 " accept"#).unwrap();
        assert_eq!(r.action, Some(RuleAction::Accept));
    }

    #[test]
    fn ipset_entry_nets() {
        use crate::formats::firewalld::ipset_entry_nets;
        let n = ipset_entry_nets("104.16.0.0/13", "hash:net").unwrap();
        assert_eq!(n[0].to_string(), "104.16.0.0/13");
        let n = ipset_entry_nets("172.64.0.9,tcp:443", "hash:ip,port").unwrap();
        assert_eq!(n[0].to_string(), "172.64.0.9/32");
        assert!(ipset_entry_nets("00:11:22:33:44:55", "hash:mac")
            .unwrap()
            .is_empty());
        assert!(ipset_entry_nets("not-an-ip", "hash:ip").is_err());
    }
}
