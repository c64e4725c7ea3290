//! ufw's rule files `user.rules` / `user6.rules`, read by their `### tuple ###` comments, the
//! rules as ufw itself reads them back.

use std::path::Path;
use std::sync::Arc;

use super::{clean_comment, decode_comment, describe, is_any, is_backup_name, listed, words};
use crate::addr::parse_net;
use crate::formats::{quote, Format, LineParser, ParseCtx, Sink};

/// One rule as read from a tuple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuple {
    /// `allow`, `deny`, `reject` or `limit` (without the log suffix and route prefix).
    pub action: String,
    /// Whether it is a routed (`route:`) rule.
    pub route: bool,
    /// The protocol (`any`, `tcp`, `udp`, ...).
    pub proto: String,
    /// The destination ports (`any`, `22`, `25,587`, `8000:8010`).
    pub dport: String,
    /// The destination address (`0.0.0.0/0` or `::/0` for any).
    pub dst: String,
    /// The source ports.
    pub sport: String,
    /// The source address (`0.0.0.0/0` or `::/0` for any).
    pub src: String,
    /// The destination application profile, if any (spaces restored).
    pub dapp: Option<String>,
    /// `in` or `out`.
    pub direction: String,
    /// The incoming interface, if the rule names one.
    pub iface_in: Option<String>,
    /// The outgoing interface, if the rule names one.
    pub iface_out: Option<String>,
    /// The comment, decoded, if any.
    pub comment: Option<String>,
}

impl Tuple {
    /// Whether the rule blocks traffic from its source: `deny`/`reject` of incoming or routed
    /// traffic.
    pub fn blocks_source(&self) -> bool {
        matches!(self.action.as_str(), "deny" | "reject") && (self.route || self.direction == "in")
    }

    /// The scope of the rule's events: its comment, else its description.
    pub fn scope(&self) -> String {
        if let Some(c) = self.comment.as_deref().and_then(clean_comment) {
            return c;
        }
        let dst = (!is_any(&self.dst)).then_some(self.dst.as_str());
        let ports = (self.dport != "any").then(|| {
            let mut p = self.dport.clone();
            if self.proto != "any" {
                p.push('/');
                p.push_str(&self.proto);
            }
            if let Some(app) = &self.dapp {
                p.push_str(&format!(" ({app})"));
            }
            p
        });
        let iface = if self.route {
            self.iface_out.as_deref()
        } else {
            self.iface_in.as_deref()
        };
        describe(self.route, &self.action, dst, ports.as_deref(), iface)
    }
}

/// Reads the text after `### tuple ###`. `Err` names what is wrong.
pub fn parse_tuple(text: &[u8]) -> Result<Tuple, String> {
    let (fields_text, comment) = match memchr::memmem::find(text, b" comment=") {
        Some(at) => {
            let hex = text[at + b" comment=".len()..].trim_ascii();
            let decoded = decode_comment(hex)
                .ok_or_else(|| format!("ufw tuple comment is not hex: {}", quote(hex)))?;
            (&text[..at], Some(decoded))
        }
        None => (text, None),
    };
    let fields: Vec<&[u8]> = words(fields_text).into_iter().map(|(_, w)| w).collect();
    if !(6..=9).contains(&fields.len()) {
        return Err(format!(
            "ufw tuple with {} fields (6 to 9 expected): {}",
            fields.len(),
            quote(fields_text.trim_ascii())
        ));
    }
    let field = |i: usize| String::from_utf8_lossy(fields[i]).into_owned();
    let (mut direction, mut iface_in, mut iface_out) = ("in".to_string(), None, None);
    if fields.len() == 7 || fields.len() == 9 {
        let last = field(fields.len() - 1);
        if let Some((a, b)) = last.split_once('!') {
            iface_in = a.strip_prefix("in_").map(str::to_string);
            iface_out = b.strip_prefix("out_").map(str::to_string);
            if iface_in.is_none() || iface_out.is_none() {
                return Err(format!(
                    "ufw tuple with a bad direction: {}",
                    quote(fields[fields.len() - 1])
                ));
            }
        } else if let Some(i) = last.strip_prefix("in_") {
            iface_in = Some(i.to_string());
        } else if let Some(o) = last.strip_prefix("out_") {
            direction = "out".into();
            iface_out = Some(o.to_string());
        } else if last == "out" {
            direction = "out".into();
        } else if last != "in" {
            return Err(format!(
                "ufw tuple with a bad direction: {}",
                quote(fields[fields.len() - 1])
            ));
        }
    }
    let raw_action = field(0);
    let (route, action) = match raw_action.split_once(':') {
        Some((_, a)) => (true, a.to_string()),
        None => (false, raw_action.clone()),
    };
    let action = action.split('_').next().unwrap_or_default().to_string();
    if !matches!(action.as_str(), "allow" | "deny" | "reject" | "limit") {
        return Err(format!(
            "ufw tuple with an unknown action: {}",
            quote(fields[0])
        ));
    }
    let dapp = (fields.len() >= 8 && fields[6] != b"-").then(|| field(6).replace("%20", " "));
    Ok(Tuple {
        action,
        route,
        proto: field(1),
        dport: field(2),
        dst: field(3),
        sport: field(4),
        src: field(5),
        dapp,
        direction,
        iface_in,
        iface_out,
        comment,
    })
}

/// Parser of `user.rules` / `user6.rules` (see the [module documentation](super)).
pub struct RulesParser {
    path: Arc<Path>,
    /// The file is a backup ([`is_backup_name`]): noted, not read.
    backup: bool,
}

impl RulesParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        let name = ctx
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        RulesParser {
            path: ctx.path.clone(),
            backup: is_backup_name(&name),
        }
    }
}

impl LineParser for RulesParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if self.backup {
            return;
        }
        let Some(rest) = line.strip_prefix(b"### tuple ###") else {
            return;
        };
        let tuple = match parse_tuple(rest) {
            Ok(t) => t,
            Err(message) => return sink.malformed(lineno, message),
        };
        if !tuple.blocks_source() || is_any(&tuple.src) {
            return;
        }
        match parse_net(tuple.src.as_bytes()) {
            Some(net) => sink.event(listed(
                &self.path,
                Format::UfwRules,
                net,
                tuple.scope(),
                lineno,
            )),
            None => sink.malformed(
                lineno,
                format!(
                    "ufw tuple source is not an address: {}",
                    quote(tuple.src.as_bytes())
                ),
            ),
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if self.backup {
            sink.note("a backup of ufw's rules, not in force: not read".into());
        }
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn parse_tuple() {
        use crate::formats::ufw::parse_tuple;
        let t = parse_tuple(b" deny tcp 22 0.0.0.0/0 any 172.65.32.248 in").unwrap();
        assert_eq!(
            (t.action.as_str(), t.src.as_str(), t.scope()),
            ("deny", "172.65.32.248", "deny 22/tcp".to_string())
        );
        let t = parse_tuple(
            b" reject any any 0.0.0.0/0 any 172.64.155.20 in comment=6564676520726f75746572",
        )
        .unwrap();
        assert_eq!(t.scope(), "edge router");
        assert!(parse_tuple(b" deny tcp").is_err());
    }

    #[test]
    fn rules_parser() {
        use crate::formats::ufw::RulesParser;
        use crate::formats::LineParser;

        let ctx = crate::formats::test_support::ctx("/etc/ufw/user.rules");
        let mut parser = RulesParser::new(&ctx);
        let mut sink = crate::formats::test_support::Collect::default();
        let text = "### RULES ###\n\n### tuple ### deny any any 0.0.0.0/0 any 162.158.0.0/15 in\n\
                    -A ufw-user-input -s 162.158.0.0/15 -j DROP\n\n\
                    ### tuple ### allow tcp 22 0.0.0.0/0 any 192.0.2.10 in\n\
                    -A ufw-user-input -p tcp --dport 22 -s 192.0.2.10 -j ACCEPT\n";
        for (n, line) in text.lines().enumerate() {
            parser.line(n as u64 + 1, line.as_bytes(), &mut sink);
        }
        assert_eq!(sink.events.len(), 1);
        assert_eq!(
            (
                sink.events[0].net.to_string(),
                sink.events[0].scope.as_str()
            ),
            ("162.158.0.0/15".to_string(), "deny")
        );
    }
}
