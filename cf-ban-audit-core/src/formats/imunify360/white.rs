//! Imunify360's white list as `check` reads it: `imunify360-agent ip-list local list
//! --purpose white` (table or `--json`; the legacy `whitelist ip list --json` items, whose
//! `listname` is `WHITE`, too) and the external white list files
//! `/etc/imunify360/whitelist/*.txt` (an address or CIDR a line). The rows and items are read
//! by the same parsers as the drop list, keeping the white list's entries instead: each must
//! be consistent (its `NETMASK` and `NETWORK_ADDRESS` its own), and a row that is not counts
//! as a problem, covering nothing. Entries of other lists allow nothing.

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;
use ipnet::IpNet;

use super::{detect_json, detect_table, files::is_list_file, JsonParser, TableParser, WHITE_LISTS};
use crate::addr::parse_net;
use crate::event::BanEvent;
use crate::formats::{LineParser, ParseCtx, Sink};

/// What the parsers read.
#[derive(Default)]
struct Kept {
    nets: Vec<IpNet>,
    problems: Vec<String>,
}

impl Sink for Kept {
    fn event(&mut self, event: BanEvent) {
        self.nets.push(event.net);
    }
    fn malformed(&mut self, line: u64, message: String) {
        self.problems
            .push(format!("line {line} covers nothing: {message}"));
    }
    fn note(&mut self, text: String) {
        self.problems.push(text);
    }
}

/// Whether `path` and `text` are one of Imunify360's white list sources `check` reads.
pub(crate) fn is_white_source(path: &Path, text: &str) -> bool {
    is_list_file(path, "whitelist")
        || detect_table(path, text.as_bytes())
        || detect_json(path, text.as_bytes())
}

/// The white list's entries, and what is wrong with the file; `None` when the file is none of
/// Imunify360's white list sources.
pub(crate) fn white_list(path: &Path, text: &str) -> Option<(Vec<IpNet>, Vec<String>)> {
    let mut kept = Kept::default();
    if is_list_file(path, "whitelist") {
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match parse_net(line.as_bytes()) {
                Some(net) => kept.nets.push(net),
                None => kept.problems.push(format!(
                    "line {} covers nothing: {line:?} is not an address or CIDR alone on its line",
                    n + 1
                )),
            }
        }
        return Some((kept.nets, kept.problems));
    }
    let ctx = ParseCtx {
        path: Arc::from(path),
        reference: NaiveDateTime::default(),
        now: NaiveDateTime::default(),
    };
    let mut parser: Box<dyn LineParser> = if detect_table(path, text.as_bytes()) {
        Box::new(TableParser::with_lists(&ctx, WHITE_LISTS))
    } else if detect_json(path, text.as_bytes()) {
        Box::new(JsonParser::with_lists(&ctx, WHITE_LISTS))
    } else {
        return None;
    };
    for (n, line) in text.split('\n').enumerate() {
        parser.line(n as u64 + 1, line.as_bytes(), &mut kept);
    }
    parser.finish(&mut kept);
    if kept.nets.is_empty() {
        kept.problems.push(
            "no entry of the white list (PURPOSE white): it allows nothing (list it with \
             imunify360-agent ip-list local list --purpose white)"
                .into(),
        );
    }
    Some((kept.nets, kept.problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "AUTO_WHITELISTED  COMMENT  COUNTRY  CTIME  DEEP  EXPIRATION  FULL_ACCESS  IMPORTED_FROM  IP  MANUAL  NETMASK  NETWORK_ADDRESS  PURPOSE  SCOPE  VERSION";

    #[test]
    fn white_rows_only_and_consistent() {
        // 173.245.48.0/20: mask 4294963200, network 2918526976.
        let text = format!(
            "{HEADER}\n\
             False  Cloudflare  None  1715940270  None  0  None  None  173.245.48.0/20  True  4294963200  2918526976  white  local  4\n\
             False  x  None  1715940270  None  0  None  None  103.21.244.0/22  True  4294963200  2918526976  white  local  4\n\
             False  x  None  1715940270  None  0  None  None  104.16.0.0/13  True  4294443008  1745879040  drop  local  4\n"
        );
        let (nets, problems) = white_list(Path::new("/tmp/white.txt"), &text).unwrap();
        assert_eq!(nets, ["173.245.48.0/20".parse::<IpNet>().unwrap()]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("line 3 covers nothing"),
            "{problems:?}"
        );
        // A drop list allows nothing.
        let drop = format!(
            "{HEADER}\nFalse  x  None  1715940270  None  0  None  None  104.16.0.0/13  True  4294443008  1745879040  drop  local  4\n"
        );
        let (nets, problems) = white_list(Path::new("/tmp/drop.txt"), &drop).unwrap();
        assert!(nets.is_empty());
        assert!(problems[0].contains("allows nothing"), "{problems:?}");
        // The external files, by their place.
        let (nets, problems) = white_list(
            Path::new("/etc/imunify360/whitelist/cf.txt"),
            "# Cloudflare\n173.245.48.0/20\n103.21.244.0/22 x\n",
        )
        .unwrap();
        assert_eq!(nets.len(), 1);
        assert!(problems[0].starts_with("line 3"), "{problems:?}");
        assert!(white_list(Path::new("/tmp/x.txt"), "173.245.48.0/20\n").is_none());
    }
}
