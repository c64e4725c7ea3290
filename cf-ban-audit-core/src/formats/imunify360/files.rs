//! Imunify360's external black list files, `/etc/imunify360/blacklist/*.txt` (see the parent
//! module): an address or CIDR a line, which `imunify360-agent reload-lists` (automatic since
//! imunify360-firewall 8.2.0) loads into the Black List. The documentation gives no sample
//! beyond "IPs/CIDRs", so the files are read conservatively: a line that is exactly one
//! address or CIDR is a ban; blank lines and lines starting with `#` are skipped; any other
//! line is a malformed line (named), never searched for an address. The files are told by
//! their place alone (`…/imunify360/blacklist/NAME.txt`); the white list's files
//! (`…/imunify360/whitelist/*.txt`) ban nothing and are not read by the scan (`check` reads
//! them).

use std::path::Path;
use std::sync::Arc;

use super::FILE_SCOPE;
use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::{Format, LineParser, ParseCtx, Sink};

/// Whether `path` is `…/imunify360/LIST/NAME.txt`.
pub(crate) fn is_list_file(path: &Path, list: &str) -> bool {
    let mut up = path.components().rev();
    let (Some(name), Some(dir), Some(top)) = (up.next(), up.next(), up.next()) else {
        return false;
    };
    name.as_os_str().to_string_lossy().ends_with(".txt")
        && dir.as_os_str() == list
        && top.as_os_str() == "imunify360"
}

/// Decides whether a file is one of Imunify360's external black list files: by its place.
pub fn detect_list_file(path: &Path, _head: &[u8]) -> bool {
    is_list_file(path, "blacklist")
}

/// The parser of an external black list file.
pub struct ListFileParser {
    path: Arc<Path>,
}

impl ListFileParser {
    /// A parser for one file.
    pub fn new(ctx: &ParseCtx) -> Self {
        ListFileParser {
            path: ctx.path.clone(),
        }
    }
}

impl LineParser for ListFileParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let line = line.trim_ascii();
        if line.is_empty() || line.starts_with(b"#") {
            return;
        }
        match parse_net(line) {
            Some(net) => sink.event(
                BanEvent::new(
                    net,
                    Tool::Imunify360,
                    Format::Imunify360ListFile,
                    FILE_SCOPE,
                    Action::Listed,
                    Location::new(self.path.clone(), lineno),
                )
                .at(None),
            ),
            None => sink.malformed(
                lineno,
                "not an address or CIDR alone on its line, as Imunify360's external lists hold them"
                    .into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::run_lines;

    #[test]
    fn told_by_place_and_read_a_line_an_address() {
        assert!(detect_list_file(
            Path::new("/etc/imunify360/blacklist/mine.txt"),
            b""
        ));
        for other in [
            "/etc/imunify360/whitelist/mine.txt",
            "/etc/imunify360/blacklist/mine.conf",
            "/etc/blacklist/mine.txt",
            "blacklist/mine.txt",
        ] {
            assert!(!detect_list_file(Path::new(other), b""), "{other}");
        }
        let text =
            "# by hand\n104.16.0.1\n\n172.64.0.0/16\n198.51.100.7 104.16.0.2\n2606:4700::/64\nx\n";
        let c = run_lines(Format::Imunify360ListFile, "mine.txt", text);
        let got: Vec<(String, u64)> = c
            .events
            .iter()
            .map(|e| (e.net.to_string(), e.location.line))
            .collect();
        assert_eq!(
            got,
            [
                ("104.16.0.1/32".into(), 2),
                ("172.64.0.0/16".into(), 4),
                ("2606:4700::/64".into(), 6)
            ]
        );
        assert!(c.events.iter().all(|e| e.scope == FILE_SCOPE));
        assert_eq!(c.malformed_lines(), [5, 7]);
    }
}
