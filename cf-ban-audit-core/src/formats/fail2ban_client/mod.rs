//! Saved output of `fail2ban-client`: the current ban lists, as the running server reports
//! them. Every address read becomes an [`Action::Listed`] event, without time or expiry
//! (except with `--with-time`, below).
//!
//! - `fail2ban-client status <jail>` prints a tree, one `key:<TAB>value` per line (tabs shown
//!   as spaces here):
//!
//!   ```text
//!   Status for the jail: sshd
//!   |- Filter
//!   |  |- Currently failed:  0
//!   |  |- Total failed:  0
//!   |  `- File list:  /var/log/auth.log
//!   `- Actions
//!      |- Currently banned:  2
//!      |- Total banned:  2
//!      `- Banned IP list:  104.16.9.9 2606:4700::abcd
//!   ```
//!
//!   Journal jails print `Journal matches:` instead of `File list:`; fail2ban 0.8 prints
//!   `filter` / `action` and an `IP list:` nested under `Currently banned:`; fail2ban 1.1's
//!   `status --all` nests the same tree under `` `- Status for the jails:`` and one
//!   `|- Jail: NAME` item per jail. The parser reads the addresses of a `Banned IP list:` (or
//!   `IP list:`) item inside the `Actions` branch of the jail named by the last
//!   `Status for the jail:` header or `Jail:` item. Files holding several outputs one after
//!   another are read as such. A jail's list is one line however many bans it holds (1.1 MB
//!   for 79,000 addresses): a line longer than [`MAX_LINE`](crate::MAX_LINE) is read in
//!   pieces, address by address, up to [`MAX_LIST_LINE`] (512 MiB: a longer line is cut
//!   there, and that is an error of the scan).
//! - `fail2ban-client banned` prints the Python `repr` of a list of `{jail: [address, ...]}`
//!   dicts: `[{'sshd': ['104.16.9.9', '192.0.2.5']}, {'nginx-http-auth': []}]`. It is read with
//!   a small tokenizer for that subset of Python literals (quoted strings with their escapes,
//!   lists, dicts; never `eval`), so text inside a quoted name is never taken for structure.
//!   The tokenizer is fed as the output comes, a line longer than [`MAX_LINE`](crate::MAX_LINE)
//!   in pieces, and keeps only the string it reads: however many bans a jail holds (its list
//!   is one line), every one is read, with little memory (up to [`MAX_LIST_LINE`]).
//!   `banned <ip> ...` prints a list of lists of jail names (`[['sshd'], []]`): it names no
//!   address and gives no event.
//! - `fail2ban-client get <JAIL> banip --with-time` prints one ban a line,
//!   `ADDRESS \tSTART + BANTIME = END` (fail2ban 0.11 and later, `BanManager.getBanList(...,
//!   withTime=True)`). Unlike the others, each ban keeps its start and end: its event has
//!   the start as time and the end as expiry (none when the ban time is negative: permanent),
//!   so a scan decides whether it still stands. The output names no jail: it is taken from
//!   the file name (`...get-<jail>-banip...`, `<jail>-banip...`, see [`jail_from_name`]), else
//!   the scope is [`UNNAMED_JAIL`]. See [`ban_times`].

pub mod ban_times;
mod banned;
mod python_repr;
mod status;

use super::registry::{Detection, FormatDescriptor};
use std::path::Path;
use std::sync::Arc;

use super::{quote, Format, Sink};
use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool};

#[cfg(test)]
pub use ban_times::jail_from_name;
pub use ban_times::{looks_like_ban_times, BanTimesParser, UNNAMED_JAIL};
pub use banned::{looks_like_banned, BannedParser};
pub use status::{looks_like_status, StatusParser};

/// The event of one listed address, or a malformed report when it is none.
fn listed(
    path: &Arc<Path>,
    format: Format,
    jail: &[u8],
    addr: &[u8],
    line: u64,
    sink: &mut dyn Sink,
) {
    match parse_net(addr) {
        Some(net) => sink.event(BanEvent::new(
            net,
            Tool::Fail2ban,
            format,
            String::from_utf8_lossy(jail),
            Action::Listed,
            Location::new(path.clone(), line),
        )),
        None => sink.malformed(
            line,
            format!(
                "{format}: jail {}: not an address: {}",
                String::from_utf8_lossy(jail),
                quote(addr)
            ),
        ),
    }
}
// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// Saved output of `fail2ban-client status <jail>` (or `status --all`).
    pub const Fail2banStatus: Format = Format::builtin(3, "fail2ban-status");
    /// Saved output of `fail2ban-client banned` (a Python repr of `[{jail: [ip, ...]}]`).
    pub const Fail2banBanned: Format = Format::builtin(4, "fail2ban-banned");
    /// Saved output of `fail2ban-client get <jail> banip --with-time` (one ban a line with its
    /// start, ban time and end).
    pub const Fail2banBanTimes: Format = Format::builtin(5, "fail2ban-ban-times");
}

/// The longest line of `fail2ban-client` output read: a jail's whole list of bans is one line
/// (1.35 MB for 79,000 bans), and 512 MiB holds some 30 million; a longer line is cut there,
/// and that is an error of the scan.
pub const MAX_LIST_LINE: usize = 512 << 20;

/// `fail2ban-client status`.
pub(crate) const STATUS: FormatDescriptor = FormatDescriptor::new(
    Format::Fail2banStatus,
    &[Tool::Fail2ban],
    "fail2ban-client status output (Banned IP list)",
    |ctx| Box::new(StatusParser::new(ctx)),
)
.long_lines_in_pieces(MAX_LIST_LINE)
.usual_paths(&["(saved output of fail2ban-client status <jail>)"])
.detected_by(&[Detection::text(100, |_, head| looks_like_status(head))]);

/// `fail2ban-client banned`.
pub(crate) const BANNED: FormatDescriptor = FormatDescriptor::new(
    Format::Fail2banBanned,
    &[Tool::Fail2ban],
    "fail2ban-client banned output (Python repr)",
    |ctx| Box::new(BannedParser::new(ctx)),
)
.long_lines_in_pieces(MAX_LIST_LINE)
.usual_paths(&["(saved output of fail2ban-client banned)"])
.detected_by(&[Detection::text(110, |_, head| looks_like_banned(head))]);

/// `fail2ban-client get <jail> banip --with-time`.
pub(crate) const BAN_TIMES: FormatDescriptor = FormatDescriptor::new(
    Format::Fail2banBanTimes,
    &[Tool::Fail2ban],
    "fail2ban-client get <jail> banip --with-time output (bans with start and end)",
    |ctx| Box::new(BanTimesParser::new(ctx)),
)
.usual_paths(&["(saved output of fail2ban-client get <jail> banip --with-time)"])
.detected_by(&[Detection::text(120, |_, head| looks_like_ban_times(head))]);

#[cfg(test)]
mod tests;
