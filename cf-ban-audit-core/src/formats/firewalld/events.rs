//! Where what the readers find becomes events: banned sources, ipset members, uses of sets,
//! and the iptables arguments of direct rules and passthroughs.

use std::path::Path;
use std::sync::Arc;

use ipnet::IpNet;

use super::rules::{ipset_entry_nets, RichRule, Source};
use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool, MAX_SPEC};
use crate::formats::grammar::words::shell_words;
use crate::formats::{quote, Format, Sink, Verdict};

/// Where events go, for one input.
pub(super) struct Out<'a> {
    pub(super) path: &'a Arc<Path>,
    /// The format of events that are not ipset members.
    pub(super) format: Format,
    /// What is read is the permanent configuration (the XML under `/etc/firewalld`), not
    /// the runtime state `firewall-cmd` lists.
    pub(super) permanent: bool,
}

impl Out<'_> {
    pub(super) fn event(
        &self,
        net: IpNet,
        format: Format,
        scope: &str,
        line: u64,
        spec: Option<String>,
        sink: &mut dyn Sink,
    ) {
        sink.event(
            BanEvent::new(
                net,
                Tool::Firewalld,
                format,
                scope,
                Action::Listed,
                Location::new(self.path.clone(), line),
            )
            .spec(spec),
        );
    }

    /// The `firewall-cmd` options that add a ban (`added`), `--permanent` first for the
    /// configuration (see [`crate::Evidence::spec`]).
    fn spec(&self, added: &str) -> Option<String> {
        if added.len() > MAX_SPEC {
            return None;
        }
        Some(if self.permanent {
            format!("--permanent {added}")
        } else {
            added.to_string()
        })
    }

    /// A banned address or CIDR as written, with the options that add it.
    fn ban(&self, addr: &str, scope: &str, line: u64, spec: Option<String>, sink: &mut dyn Sink) {
        match parse_net(addr.trim().as_bytes()) {
            Some(net) => self.event(net, self.format, scope, line, spec, sink),
            None => sink.malformed(
                line,
                format!(
                    "firewalld {scope}: source is not an address: {}",
                    quote(addr.as_bytes())
                ),
            ),
        }
    }

    /// A source of a zone whose target gives `verdict`.
    pub(super) fn zone_source(
        &self,
        source: &Source,
        verdict: Option<Verdict>,
        scope: &str,
        line: u64,
        sink: &mut dyn Sink,
    ) {
        match (source, verdict) {
            (Source::Address(a), Some(Verdict::Drop)) => {
                let spec = scope.strip_prefix("zone:").and_then(|zone| {
                    self.spec(&format!("--zone={zone} --add-source={}", a.trim()))
                });
                self.ban(a, scope, line, spec, sink)
            }
            (Source::Ipset(name), Some(v)) => sink.set_use(name, v),
            _ => {}
        }
    }

    /// A rich rule of a zone or policy, with its text as `firewall-cmd` writes it when known.
    pub(super) fn rich_rule(
        &self,
        rule: &RichRule,
        text: Option<&str>,
        scope: &str,
        line: u64,
        sink: &mut dyn Sink,
    ) {
        match (&rule.source, rule.verdict()) {
            (Some(Source::Address(a)), Some(Verdict::Drop)) => {
                let place = if let Some(zone) = scope.strip_prefix("zone:") {
                    format!("--zone={zone} ")
                } else if let Some(policy) = scope.strip_prefix("policy:") {
                    format!("--policy={policy} ")
                } else {
                    String::new()
                };
                let spec = text.and_then(|t| self.spec(&format!("{place}--add-rich-rule={t}")));
                self.ban(a, scope, line, spec, sink)
            }
            (Some(Source::Ipset(name)), Some(v)) => sink.set_use(name, v),
            _ => {}
        }
    }

    /// One ipset entry.
    pub(super) fn entry(
        &self,
        entry: &str,
        ipset_type: &str,
        set: &str,
        line: u64,
        sink: &mut dyn Sink,
    ) {
        match ipset_entry_nets(entry, ipset_type) {
            Ok(nets) => {
                let spec = self.spec(&format!("--ipset={set} --add-entry={entry}"));
                for net in nets {
                    self.event(net, Format::FirewalldIpset, set, line, spec.clone(), sink);
                }
            }
            Err(message) => sink.malformed(line, format!("firewalld ipset {set}: {message}")),
        }
    }

    /// The arguments of a direct rule (`chain` given) or passthrough (`-A CHAIN` inside);
    /// `added` is the rule as `--direct --add-rule ...` / `--direct --add-passthrough ...`
    /// options.
    pub(super) fn direct(
        &self,
        chain: Option<&str>,
        args: &[String],
        added: &str,
        line: u64,
        sink: &mut dyn Sink,
    ) {
        let mut chain = chain.map(str::to_string);
        let (mut sources, mut set, mut target) = (Vec::new(), None, None);
        let mut negate = false;
        let mut it = args.iter().map(String::as_str);
        while let Some(arg) = it.next() {
            match arg {
                "!" => {
                    negate = true;
                    continue;
                }
                "-s" | "--source" | "--src" => {
                    let mut value = it.next().unwrap_or_default();
                    // The old `-s ! ADDR` form.
                    if value == "!" {
                        negate = true;
                        value = it.next().unwrap_or_default();
                    }
                    if !negate {
                        sources.extend(value.split(',').filter(|s| !s.is_empty()));
                    }
                }
                "--match-set" => {
                    let name = it.next().unwrap_or_default();
                    let flags = it.next().unwrap_or_default();
                    if !negate && flags.split(',').next() == Some("src") {
                        set = Some(name);
                    }
                }
                "-j" | "--jump" => target = it.next(),
                "-A" | "--append" | "-I" | "--insert" => chain = it.next().map(str::to_string),
                "-D" | "--delete" | "-N" | "--new-chain" | "-X" | "--delete-chain" | "-F"
                | "--flush" | "-P" | "--policy" | "-R" | "--replace" | "-Z" | "--zero" => return,
                _ => {}
            }
            negate = false;
        }
        let Some(chain) = chain else { return };
        if matches!(chain.as_str(), "OUTPUT" | "POSTROUTING") {
            return;
        }
        let verdict = match target {
            Some("DROP" | "REJECT") => Verdict::Drop,
            Some("ACCEPT") => Verdict::Accept,
            _ => return,
        };
        if let Some(name) = set {
            sink.set_use(name, verdict);
        }
        if verdict == Verdict::Drop {
            let scope = format!("direct:{chain}");
            let spec = self.spec(added);
            for s in sources {
                if let Some(net) = parse_net(s.as_bytes()) {
                    self.event(net, self.format, &scope, line, spec.clone(), sink);
                } else if s
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'/'))
                {
                    sink.malformed(
                        line,
                        format!(
                            "firewalld {scope}: source is not an address: {}",
                            quote(s.as_bytes())
                        ),
                    );
                }
                // Anything else is a host name, resolved by iptables when the rule was added.
            }
        }
    }
}

/// The table, chain and arguments of a `--direct --get-all-rules` line (`ipv4 filter INPUT 0
/// -s ...`), or the arguments of a `--get-all-passthroughs` line (`ipv4 -A INPUT ...`, chain
/// `None`). ebtables (`eb`) lines are not about IP addresses and give `None`.
pub(super) fn direct_line(t: &[u8]) -> Option<(Option<String>, Vec<String>)> {
    if !(t.starts_with(b"ipv4 ") || t.starts_with(b"ipv6 ")) {
        return None;
    }
    let words = shell_words(t)?;
    let second = words.get(1)?;
    if matches!(
        second.as_str(),
        "filter" | "nat" | "mangle" | "raw" | "security"
    ) {
        let chain = words.get(2)?;
        words.get(3)?.parse::<i64>().ok()?;
        if !words.get(4).is_some_and(|w| w.starts_with('-') || w == "!") {
            return None;
        }
        return Some((Some(chain.clone()), words[4..].to_vec()));
    }
    if matches!(
        second.as_str(),
        "-A" | "-I" | "-t" | "--append" | "--insert" | "--table"
    ) {
        return Some((None, words[1..].to_vec()));
    }
    None
}
