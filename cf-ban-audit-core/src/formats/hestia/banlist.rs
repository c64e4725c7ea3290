//! `banlist.conf`, the ban list itself, one `KEY='value'` line a ban as `v-add-firewall-ban`
//! writes it (see the parent module).

use std::path::Path;
use std::sync::Arc;

use super::{entry_event, parse_pairs, value};
use crate::event::Location;
use crate::formats::{Format, LineParser, ParseCtx, Sink};

/// Whether a line is a ban list entry: pairs with `IP` and `CHAIN`.
fn is_entry(line: &[u8]) -> bool {
    parse_pairs(line).is_some_and(|p| value(&p, b"IP").is_some() && value(&p, b"CHAIN").is_some())
}

/// Decides whether a file is Hestia's `banlist.conf`: by its place (`…/data/firewall/banlist.conf`,
/// so that a malformed line in the panel's own file is named rather than the file skipped),
/// or else when every line of its head (blank ones aside, and the last when the head cut it)
/// is an entry with `IP` and `CHAIN`; one such line among others is not enough.
pub fn detect_banlist(path: &Path, head: &[u8]) -> bool {
    if path.ends_with("data/firewall/banlist.conf") {
        return true;
    }
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    if lines.len() > 1 && !head.ends_with(b"\n") {
        lines.pop();
    }
    let mut lines = lines
        .into_iter()
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
        .peekable();
    lines.peek().is_some() && lines.all(is_entry)
}

/// The parser of `banlist.conf`.
pub struct BanlistParser {
    path: Arc<Path>,
}

impl BanlistParser {
    /// A parser for one `banlist.conf`.
    pub fn new(ctx: &ParseCtx) -> Self {
        BanlistParser {
            path: ctx.path.clone(),
        }
    }
}

impl LineParser for BanlistParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if line.trim_ascii().is_empty() {
            return;
        }
        let Some(pairs) = parse_pairs(line) else {
            sink.malformed(
                lineno,
                "not a Hestia ban list line (KEY='value' pairs as v-add-firewall-ban writes \
                 them: IP='…' CHAIN='…' TIME='…' DATE='…')"
                    .into(),
            );
            return;
        };
        let (Some(ip), Some(chain)) = (value(&pairs, b"IP"), value(&pairs, b"CHAIN")) else {
            sink.malformed(lineno, "a Hestia ban list line without IP or CHAIN".into());
            return;
        };
        match entry_event(
            ip,
            chain,
            value(&pairs, b"DATE"),
            value(&pairs, b"TIME"),
            Format::HestiaBanlist,
            Location::new(self.path.clone(), lineno),
        ) {
            Ok(event) => sink.event(event),
            Err(why) => sink.malformed(lineno, why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Action, Tool};
    use crate::formats::test_support::run_lines;
    use crate::formats::Format;

    const BANLIST_TEXT: &str = "IP='203.0.113.7' CHAIN='SSH' TIME='14:02:11' DATE='2025-03-09'\n\
        IP='104.16.0.1' CHAIN='WEB' TIME='14:05:00' DATE='2025-03-09'\n\
        IP='172.64.0.0/13' CHAIN='RECIDIVE' TIME='15:00:00' DATE='2025-03-10'\n";

    #[test]
    fn banlist_entries_are_listed_in_their_chain() {
        let c = run_lines(Format::HestiaBanlist, "banlist.conf", BANLIST_TEXT);
        assert!(c.malformed.is_empty(), "{:?}", c.malformed);
        let got: Vec<(String, String, u64)> = c
            .events
            .iter()
            .map(|e| (e.net.to_string(), e.scope.clone(), e.location.line))
            .collect();
        assert_eq!(
            got,
            [
                ("203.0.113.7/32".into(), "fail2ban-SSH".into(), 1),
                ("104.16.0.1/32".into(), "fail2ban-WEB".into(), 2),
                ("172.64.0.0/13".into(), "fail2ban-RECIDIVE".into(), 3),
            ]
        );
        let e = &c.events[1];
        assert_eq!((e.tool, e.action), (Tool::Hestia, Action::Listed));
        assert_eq!(e.time, Some("2025-03-09T14:05:00".parse().unwrap()));
    }

    #[test]
    fn forged_values_give_nothing_and_are_named() {
        let text = "IP='198.51.100.7' CHAIN='WEB' COMMENT='IP=104.16.0.1' TIME='14:02:11' DATE='2025-03-09'\n\
            IP='198.51.100.8' CHAIN='WEB' COMMENT='x' IP='104.16.0.1'\n\
            IP='198.51.100.9' CHAIN='WEB'; IP='104.16.0.1'\n\
            IP='198.51.100.10' CHAIN='WEB IP=104.16.0.1'\n\
            IP=\"104.16.0.1\" CHAIN='WEB'\n\
            IP='104.16.0.1 ' CHAIN='WEB'\n\
            IP='2606:4700::1' CHAIN='WEB'\n\
            IP='104.16.0.1' CHAIN='-WEB'\n\
            CHAIN='WEB' NOTE='104.16.0.1'\n";
        let c = run_lines(Format::HestiaBanlist, "banlist.conf", text);
        let addresses: Vec<String> = c.events.iter().map(|e| e.net.to_string()).collect();
        assert_eq!(addresses, ["198.51.100.7/32"]);
        assert_eq!(c.malformed_lines(), [2, 3, 4, 5, 6, 7, 8, 9]);
        assert!(c.malformed[5].1.contains("IPv6"), "{:?}", c.malformed);
    }

    #[test]
    fn banlist_is_told_by_every_line() {
        let p = Path::new("/tmp/x");
        assert!(detect_banlist(p, BANLIST_TEXT.as_bytes()));
        // The head's last line, cut, does not count.
        assert!(detect_banlist(
            p,
            b"IP='203.0.113.7' CHAIN='SSH'\nIP='104.1"
        ));
        // One entry among other lines is not the ban list.
        assert!(!detect_banlist(
            p,
            b"# notes\nIP='203.0.113.7' CHAIN='SSH' TIME='14:02:11' DATE='2025-03-09'\n"
        ));
        // rules.conf and chains.conf have no IP with a CHAIN.
        assert!(!detect_banlist(
            p,
            b"RULE='9' ACTION='ACCEPT' PROTOCOL='TCP' PORT='80,443' IP='0.0.0.0/0' COMMENT='WEB' SUSPENDED='no' TIME='17:04:27' DATE='2014-09-24'\n"
        ));
        assert!(!detect_banlist(
            p,
            b"CHAIN='SSH' PORT='22' PROTOCOL='TCP'\n"
        ));
        assert!(!detect_banlist(p, b""));
        // The panel's own file, whatever its lines.
        assert!(detect_banlist(
            Path::new("/usr/local/vesta/data/firewall/banlist.conf"),
            b"junk\n"
        ));
    }
}
