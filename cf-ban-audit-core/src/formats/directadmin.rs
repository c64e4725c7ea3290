//! DirectAdmin's block lists (`../shared/FORMATS.md` §6 A2): the list its Brute Force
//! Monitor (BFM) hook scripts keep, and DA's own `ip_blacklist`.
//!
//! **The hook list** `/root/blocked_ips.txt` is written by the `block_ip.sh` hook in
//! `/usr/local/directadmin/scripts/custom/` (DirectAdmin's own example, and
//! `poralix/directadmin-bfm-csf` `block_ip.sh`, which appends
//! `echo "${ip}=dateblocked=$(date +%s)"` once CSF holds the block), listed to DA by
//! `show_blocked_ips.sh` and emptied by `unblock_ip.sh` (`egrep -v "^${ip}(=|$)"`): one
//! `IP=dateblocked=EPOCH` a line, or a bare `IP` (the older form `unblock_ip.sh` still
//! reads). Each line is an [`Action::Listed`] event of [`Tool::Directadmin`] with scope
//! [`HOOK_SCOPE`], blocked since `EPOCH`: the address is blocked in the firewall (CSF with
//! poralix's hooks, on every port or on the ports of the service it attacked) until
//! `unblock_ip.sh` removes it. The line format is constructed from the hook's source, not
//! captured.
//!
//! **`ip_blacklist`** (`/usr/local/directadmin/data/admin/ip_blacklist`, or wherever
//! `directadmin.conf`'s `ip_blacklist=` points) is "where IPs bruteforcing the DA login are
//! blocked" (DirectAdmin documentation, "Securing DirectAdmin"): it refuses the DirectAdmin
//! login on port 2222 only, never the sites. **Its native line format is not verified**, so
//! it is read conservatively: a file named `ip_blacklist` whose every non-blank line starts
//! with an address followed by `=`, white space or the end of the line; only that leading
//! address is read (scope [`BLACKLIST_SCOPE`]), and the time only from the hook form
//! `IP=dateblocked=EPOCH` (which installers such as `bdacus01/directadmin-csf-install` point
//! `ip_blacklist` at). Whatever follows the address is never read for addresses, so text
//! after it can neither forge a ban nor hide one.
//!
//! Detection weighs the whole head of the file, never one line: `ip_blacklist` by its name
//! and every line; the hook list by every line being `IP=dateblocked=EPOCH` (a structure
//! no other list has), or by its name `blocked_ips.txt` with every line of the hook form,
//! dated or bare. The lists that allow (`ip_whitelist`, the skip list `brute_skip.list` of
//! `IP=` lines, `/root/exempt_ips.txt`) are never taken for one, by their names.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Local, NaiveDateTime};

use super::registry::{Detection, FormatDescriptor};
use super::{Format, LineParser, ParseCtx, Sink};
use crate::addr::{host_net, parse_ip};
use crate::event::{Action, BanEvent, Location, Tool};

/// The scope of the BFM hook list (`/root/blocked_ips.txt`).
pub const HOOK_SCOPE: &str = "bfm-hook";

/// The scope of DirectAdmin's own `ip_blacklist`.
pub const BLACKLIST_SCOPE: &str = "ip_blacklist";

/// The hook DirectAdmin runs to unblock an address of the hook list (the address in the
/// environment variable `ip`).
pub const UNBLOCK_HOOK: &str = "/usr/local/directadmin/scripts/custom/unblock_ip.sh";

/// The file name of DirectAdmin's own block list.
const BLACKLIST_NAME: &str = "ip_blacklist";

/// The file name of the hook list.
const HOOK_NAME: &str = "blocked_ips.txt";

/// Words of the names of the lists that allow: DA's `ip_whitelist`, the hooks' skip list
/// `brute_skip.list` and `/root/exempt_ips.txt`, an administrator's copies of them.
const ALLOW_NAME_WORDS: &[&str] = &["white", "allow", "skip", "exempt", "trust", "ignore"];

/// What follows the address on a dated hook line, before the seconds.
const DATED: &[u8] = b"=dateblocked=";

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// DirectAdmin's BFM hook list (`IP=dateblocked=EPOCH`) and its `ip_blacklist`.
    pub const DirectadminBlocklist: Format = Format::builtin(50, "directadmin-blocklist");
}

/// One line of a block list as read: the address, and the time of a dated hook line.
#[derive(Debug, PartialEq)]
struct Line {
    ip: std::net::IpAddr,
    /// `Some` for `IP=dateblocked=EPOCH`.
    blocked: Option<i64>,
    /// Whether the line is of the hook form (`IP` alone, or dated).
    hook: bool,
}

/// Reads one non-blank line: the leading address up to `=`, white space or the end; `None`
/// when no address leads the line, or one is followed by anything else.
fn read_line(line: &[u8]) -> Option<Line> {
    let end = line
        .iter()
        .position(|&b| b == b'=' || b.is_ascii_whitespace())
        .unwrap_or(line.len());
    let ip = parse_ip(&line[..end])?;
    let rest = &line[end..];
    let blocked = rest
        .strip_prefix(DATED)
        .filter(|d| !d.is_empty() && d.len() <= 12 && d.iter().all(u8::is_ascii_digit))
        .and_then(|d| std::str::from_utf8(d).ok()?.parse::<i64>().ok());
    Some(Line {
        ip,
        blocked,
        hook: rest.is_empty() || blocked.is_some(),
    })
}

/// The non-blank lines of a head, trimmed, the last left out when the head cut it.
fn head_lines(head: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    if lines.len() > 1 && !head.ends_with(b"\n") {
        lines.pop();
    }
    lines
        .into_iter()
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Whether the file is DirectAdmin's `ip_blacklist` (by its name).
fn is_blacklist(path: &Path) -> bool {
    super::lower_file_name(path) == BLACKLIST_NAME
}

/// Decides whether a file is one of DirectAdmin's block lists: a file named `ip_blacklist`
/// whose every non-blank line starts with an address (followed by `=`, white space or the
/// end); a file whose every line is `IP=dateblocked=EPOCH`; or a file named
/// `blocked_ips.txt` whose every line is `IP` or `IP=dateblocked=EPOCH`. An empty file is
/// none of them, nor a file whose name says it allows (`ip_whitelist`, `brute_skip.list`,
/// `exempt_ips.txt`: the skip list's line form is not verified, and may look alike).
pub fn detect(path: &Path, head: &[u8]) -> bool {
    let name = super::lower_file_name(path);
    if ALLOW_NAME_WORDS.iter().any(|w| name.contains(w)) {
        return false;
    }
    let lines = head_lines(head);
    if lines.is_empty() {
        return false;
    }
    let read: Option<Vec<Line>> = lines.iter().map(|l| read_line(l)).collect();
    let Some(read) = read else {
        return false;
    };
    if is_blacklist(path) || read.iter().all(|l| l.blocked.is_some()) {
        return true;
    }
    super::lower_file_name(path) == HOOK_NAME && read.iter().all(|l| l.hook)
}

/// Seconds since the epoch as host-local wall-clock time (`date +%s` on the server).
fn local_time(secs: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp(secs, 0).map(|t| t.with_timezone(&Local).naive_local())
}

/// The parser of one block list.
pub struct BlocklistParser {
    path: Arc<Path>,
    /// `ip_blacklist` (leading address only) rather than the hook list (whole lines).
    blacklist: bool,
}

impl BlocklistParser {
    /// A parser for one list; which one comes from its name.
    pub fn new(ctx: &ParseCtx) -> Self {
        BlocklistParser {
            path: ctx.path.clone(),
            blacklist: is_blacklist(&ctx.path),
        }
    }
}

impl LineParser for BlocklistParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let line = line.trim_ascii();
        if line.is_empty() {
            return;
        }
        let read = match read_line(line) {
            Some(read) if self.blacklist || read.hook => read,
            Some(_) => {
                sink.malformed(
                    lineno,
                    "not IP or IP=dateblocked=EPOCH, as the BFM hook writes its list".into(),
                );
                return;
            }
            None => {
                sink.malformed(
                    lineno,
                    "the line does not start with an address followed by `=`, a space or its end"
                        .into(),
                );
                return;
            }
        };
        let scope = if self.blacklist {
            BLACKLIST_SCOPE
        } else {
            HOOK_SCOPE
        };
        sink.event(
            BanEvent::new(
                host_net(read.ip),
                Tool::Directadmin,
                Format::DirectadminBlocklist,
                scope,
                Action::Listed,
                Location::new(self.path.clone(), lineno),
            )
            .at(read.blocked.and_then(local_time)),
        );
    }

    fn finish(&mut self, _sink: &mut dyn Sink) {}
}

/// DirectAdmin's block lists.
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::new(
    Format::DirectadminBlocklist,
    &[Tool::Directadmin],
    "DirectAdmin BFM hook list (IP=dateblocked=EPOCH) and ip_blacklist (leading address)",
    |ctx| Box::new(BlocklistParser::new(ctx)),
)
.detected_by(&[Detection::text(240, detect)])
.usual_paths(&[
    "/root/blocked_ips.txt",
    "/usr/local/directadmin/data/admin/ip_blacklist",
]);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::run_lines;

    const HOOK: &str = "203.0.113.7=dateblocked=1741526531\n\
                        104.16.0.1=dateblocked=1741526600\n\
                        2a06:98c0::1=dateblocked=1741526700\n";

    #[test]
    fn hook_lines_are_bans_since_their_date() {
        let c = run_lines(Format::DirectadminBlocklist, "/root/blocked_ips.txt", HOOK);
        assert!(c.malformed.is_empty(), "{:?}", c.malformed);
        let got: Vec<(String, u64, &str, bool)> = c
            .events
            .iter()
            .map(|e| {
                (
                    e.net.to_string(),
                    e.location.line,
                    e.scope.as_str(),
                    e.time.is_some(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("203.0.113.7/32".into(), 1, HOOK_SCOPE, true),
                ("104.16.0.1/32".into(), 2, HOOK_SCOPE, true),
                ("2a06:98c0::1/128".into(), 3, HOOK_SCOPE, true),
            ]
        );
        assert_eq!(c.events[1].time, local_time(1741526600));
        assert!(c
            .events
            .iter()
            .all(|e| (e.tool, e.action) == (Tool::Directadmin, Action::Listed)));
    }

    #[test]
    fn detection_weighs_every_line_and_the_name() {
        let hook = Path::new("/root/blocked_ips.txt");
        let other = Path::new("/tmp/list");
        let black = Path::new("/usr/local/directadmin/data/admin/ip_blacklist");
        assert!(detect(other, HOOK.as_bytes()));
        // The last line, cut by the end of the head, is not weighed.
        assert!(detect(other, &HOOK.as_bytes()[..HOOK.len() - 5]));
        assert!(detect(
            hook,
            b"104.16.0.1\n198.51.100.2=dateblocked=1741526531\n"
        ));
        assert!(!detect(
            other,
            b"104.16.0.1\n198.51.100.2=dateblocked=1741526531\n"
        ));
        let mixed = format!("{HOOK}104.16.0.9 some words\n");
        assert!(!detect(other, mixed.as_bytes()));
        assert!(!detect(hook, mixed.as_bytes()));
        assert!(detect(black, mixed.as_bytes()));
        assert!(!detect(black, b"# a comment\n104.16.0.1\n"));
        assert!(!detect(black, b"104.16.0.0/24\n"));
        assert!(!detect(black, b"\n\n"));
        assert!(!detect(hook, b"104.16.0.1=dateblocked=\n"));
        for allow in [
            "brute_skip.list",
            "ip_whitelist",
            "exempt_ips.txt",
            "whitelist_ips",
        ] {
            assert!(!detect(Path::new(allow), HOOK.as_bytes()), "{allow}");
        }
    }

    #[test]
    fn ip_blacklist_reads_only_the_leading_address() {
        let text = "198.51.100.4\n\
                    104.16.0.2 172.64.0.1 whatever follows\n\
                    162.158.0.3=dateblocked=1741526531\n\
                    162.158.0.4=172.64.0.2\n\
                    host.example 104.16.0.3\n";
        let c = run_lines(
            Format::DirectadminBlocklist,
            "/usr/local/directadmin/data/admin/ip_blacklist",
            text,
        );
        let got: Vec<(String, bool)> = c
            .events
            .iter()
            .map(|e| (e.net.to_string(), e.time.is_some()))
            .collect();
        assert_eq!(
            got,
            [
                ("198.51.100.4/32".into(), false),
                ("104.16.0.2/32".into(), false),
                ("162.158.0.3/32".into(), true),
                ("162.158.0.4/32".into(), false),
            ]
        );
        assert!(c.events.iter().all(|e| e.scope == BLACKLIST_SCOPE));
        assert_eq!(c.malformed_lines(), [5]);
    }

    #[test]
    fn a_hook_line_with_more_is_malformed() {
        let text = "104.16.0.1=dateblocked=1741526531\n\
                    104.16.0.2=dateblocked=1741526531 104.16.0.3\n\
                    104.16.0.4=dateblocked=17415x\r\n\
                    104.16.0.5\r\n";
        let c = run_lines(Format::DirectadminBlocklist, "blocked_ips.txt", text);
        assert_eq!(c.malformed_lines(), [2, 3]);
        let got: Vec<String> = c.events.iter().map(|e| e.net.to_string()).collect();
        assert_eq!(got, ["104.16.0.1/32", "104.16.0.5/32"]);
    }
}
