//! Apache mod_evasive: its syslog lines and its lock files `dos-<address>`.
//!
//! What mod_evasive 1.10 (`mod_evasive20.c`) writes, and how it is read here:
//!
//! - When an address is refused (the reply is `DOSHTTPStatus`, 403 by default) and no file
//!   `<DOSLogDir>/dos-<address>` exists yet, mod_evasive creates that file with
//!   `fprintf(file, "%ld\n", getpid())` and logs, through syslog (ident `mod_evasive`, facility
//!   daemon, LOG_ALERT), `Blacklisting address <address>: possible DoS attack.` While the file
//!   exists nothing more is logged for the address (and `DOSEmailNotify` / `DOSSystemCommand`
//!   do not run again). If the file cannot be created, it logs `Couldn't open logfile
//!   <DOSLogDir>/dos-<address>: <strerror>` instead, again for every refused request.
//! - The refusal itself is an in-memory hold: the address gets the 403 for `DOSBlockingPeriod`
//!   seconds (10 by default) after its last request, the period starting again with every
//!   request made while on hold. mod_evasive logs neither the end of a hold nor its length.
//!
//! Events:
//!
//! - a `Blacklisting address` line (and a `Couldn't open logfile .../dos-<address>` line,
//!   which shows the same refusal with a lock file that could not be written) is an
//!   [`Action::Ban`] that ends [`DEFAULT_BLOCKING_PERIOD`] seconds after the line, the
//!   default `DOSBlockingPeriod`. A hold prolonged by further requests, or a longer configured
//!   period, is not visible in the log; the finding therefore turns inactive soon after the
//!   line, as the hold usually does. The message must be the whole message, so text
//!   elsewhere in a line can never pass for one; syslog lines are handed here only when their
//!   tag is `mod_evasive` (see [`super::syslog`]).
//! - a lock file (a file named `dos-` followed by an address, holding a PID or nothing) is
//!   written at the same moment as the `Blacklisting` line and records the same thing: an
//!   [`Action::Ban`] dated by the file's modification time that ends
//!   [`DEFAULT_BLOCKING_PERIOD`] seconds later, as the line's does. mod_evasive never deletes
//!   these files (the administrator or a reboot that clears the temporary directory does), so
//!   the file's presence says nothing of the hold now: the hold is in memory and ends
//!   `DOSBlockingPeriod` after the address's last request. Requests refused since then show in
//!   Apache's error log as mod_evasive's denials, and whatever `DOSSystemCommand` did (often a
//!   firewall ban) is the firewall's own ban, read from the firewall's state: a lock file is
//!   never taken for either.
//!
//! The default DOSLogDir is `/tmp` (`DEFAULT_LOG_DIR`); under systemd with `PrivateTmp=yes`
//! (Debian's apache2.service) that is `/tmp/systemd-private-*-apache2.service-*/tmp`.
//! IPv6 lock files have colons in their names (`dos-2606:4700:8d9b::1`). mod_evasive 1.10
//! acts on the TCP peer, not on the address restored by mod_remoteip.

use super::registry::{Detection, FormatDescriptor, Reader, SyslogTag};
use std::net::IpAddr;
use std::path::Path;

use chrono::{NaiveDateTime, TimeDelta};

use super::grammar::quote::quote_max;
use super::{Format, ParseCtx, Sink};
use crate::addr::{host_net, parse_ip};
use crate::event::{Action, BanEvent, Location, Tool};

/// mod_evasive's default `DOSBlockingPeriod` (`DEFAULT_BLOCKING_PERIOD`), in seconds: how long
/// a `Blacklisting` line is taken to hold.
pub const DEFAULT_BLOCKING_PERIOD: i64 = 10;

/// The scope of every mod_evasive event (the module has no rules or zones).
pub const SCOPE: &str = super::grammar::MOD_EVASIVE_SCOPE;

/// The longest lock file read: a PID and its newline, with room to spare.
const MAX_LOCK_SIZE: usize = 64;

const BLACKLISTING: &[u8] = b"Blacklisting address ";
const DOS_ATTACK: &[u8] = b": possible DoS attack.";
const CANNOT_OPEN: &[u8] = b"Couldn't open logfile ";

/// What a mod_evasive syslog message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// `Blacklisting address X: possible DoS attack.`
    Blacklisting(IpAddr),
    /// `Couldn't open logfile <dir>/dos-X: <error>`: refused, lock file not written.
    LockFailed(IpAddr),
}

impl Message {
    /// The address the message is about.
    pub fn address(self) -> IpAddr {
        match self {
            Message::Blacklisting(ip) | Message::LockFailed(ip) => ip,
        }
    }
}

/// Reads the message of a mod_evasive syslog line. `Ok(None)`: a message that is not about
/// an address; `Err`: a message of the right shape whose address cannot be read.
pub fn parse_message(message: &[u8]) -> Result<Option<Message>, String> {
    let message = message.trim_ascii_end();
    if let Some(rest) = message.strip_prefix(BLACKLISTING) {
        let addr = rest
            .strip_suffix(DOS_ATTACK)
            .ok_or_else(|| format!("Blacklisting line of an unknown shape: {}", quote(message)))?;
        return parse_ip(addr)
            .map(|ip| Some(Message::Blacklisting(ip)))
            .ok_or_else(|| format!("Blacklisting line without an address: {}", quote(message)));
    }
    if let Some(rest) = message.strip_prefix(CANNOT_OPEN) {
        // `<dir>/dos-<address>: <strerror>`; an IPv6 address holds colons but never ": ".
        let Some(at) = memchr::memmem::rfind(rest, b"/dos-") else {
            return Ok(None);
        };
        let name = &rest[at + 5..];
        let Some(end) = memchr::memmem::find(name, b": ") else {
            return Ok(None);
        };
        let reason = &name[end + 2..];
        if reason.is_empty() || reason.contains(&b':') {
            return Ok(None);
        }
        return parse_ip(&name[..end])
            .map(|ip| Some(Message::LockFailed(ip)))
            .ok_or_else(|| format!("lock file of no address: {}", quote(message)));
    }
    Ok(None)
}

/// Reads the message of a syslog line tagged `mod_evasive` (`Blacklisting address X: possible
/// DoS attack.`), with the line's time and place, into an [`Action::Ban`] that ends
/// [`DEFAULT_BLOCKING_PERIOD`] seconds after the line.
pub fn syslog_message(
    message: &[u8],
    time: Option<NaiveDateTime>,
    location: Location,
    format: Format,
    sink: &mut dyn Sink,
) {
    match parse_message(message) {
        Ok(Some(m)) => {
            let expires = time
                .and_then(|t| t.checked_add_signed(TimeDelta::seconds(DEFAULT_BLOCKING_PERIOD)));
            sink.event(
                BanEvent::new(
                    host_net(m.address()),
                    Tool::ModEvasive,
                    format,
                    SCOPE,
                    Action::Ban,
                    location,
                )
                .at(time)
                .until(expires),
            );
        }
        Ok(None) => {}
        Err(message) => sink.malformed(location.line, message),
    }
}

/// The address a lock file is named for: `dos-` and an address, nothing else.
pub fn lock_address(path: &Path) -> Option<IpAddr> {
    let name = path.file_name()?;
    #[cfg(unix)]
    let name = {
        use std::os::unix::ffi::OsStrExt;
        name.as_bytes()
    };
    #[cfg(not(unix))]
    let name = name.to_str()?.as_bytes();
    parse_ip(name.strip_prefix(b"dos-")?)
}

/// Whether the content of a lock file is what mod_evasive writes: a PID and a newline, or
/// nothing (a file created but not yet written).
fn is_lock_content(content: &[u8]) -> bool {
    let digits = content.strip_suffix(b"\n").unwrap_or(content);
    content.is_empty()
        || (!digits.is_empty() && digits.len() <= 19 && digits.iter().all(u8::is_ascii_digit))
}

/// Decides whether a file is a mod_evasive lock file: its name is `dos-<address>` and its
/// content is a PID or nothing.
pub fn detect(path: &Path, head: &[u8]) -> Option<Format> {
    (lock_address(path).is_some() && is_lock_content(head)).then_some(Format::ModEvasiveLock)
}

/// Reads a lock file `dos-<address>` into one [`Action::Ban`] of the default hold for that address,
/// dated by the time the file was last written, [`ParseCtx::reference`] (see the [module
/// documentation](self)). The address comes from the file's name, [`ParseCtx::path`]; the
/// content must be a PID or nothing. An input whose name or content is not a lock file's is an
/// error naming what is wrong.
pub fn read_lock(content: &[u8], ctx: &ParseCtx, sink: &mut dyn Sink) -> Result<(), String> {
    let ip = lock_address(&ctx.path)
        .ok_or("not a mod_evasive lock file: the name is not dos-<address>")?;
    if !is_lock_content(content) {
        return Err(format!(
            "not a mod_evasive lock file: the content is not a PID: {}",
            quote(content)
        ));
    }
    sink.event(
        BanEvent::new(
            host_net(ip),
            Tool::ModEvasive,
            Format::ModEvasiveLock,
            SCOPE,
            Action::Ban,
            Location::new(ctx.path.clone(), 0),
        )
        .at(ctx.reference)
        .until(
            ctx.reference
                .checked_add_signed(TimeDelta::seconds(DEFAULT_BLOCKING_PERIOD)),
        ),
    );
    Ok(())
}

/// Text for a message, cut short.
fn quote(bytes: &[u8]) -> String {
    quote_max(bytes, 80)
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// mod_evasive's lock files `dos-<address>` in its DOSLogDir.
    pub const ModEvasiveLock: Format = Format::builtin(11, "mod-evasive-lock");
}

/// The lock files' descriptor (told by their name: their content is a PID or nothing); it also
/// owns the syslog tag `mod_evasive`.
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::read_as(
    Format::ModEvasiveLock,
    &[Tool::ModEvasive],
    "mod_evasive lock file dos-<address>",
    Reader::Document {
        limit: MAX_LOCK_SIZE,
        read: read_lock,
    },
)
.usual_paths(&["/tmp/dos-*", "/var/log/mod_evasive/dos-*"])
.detected_by(&[Detection::name(100, |path, head| {
    detect(path, head).is_some()
})])
.syslog_tags(&[SyslogTag::exact(
    b"mod_evasive",
    "mod_evasive",
    |e, sink| syslog_message(e.message, Some(e.time), e.location.clone(), e.format, sink),
)]);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::{ctx, Collect};
    use chrono::{DateTime, Local};
    use std::sync::Arc;

    fn at(line: u64) -> Location {
        Location {
            path: Arc::from(Path::new("syslog")),
            line,
        }
    }

    #[test]
    fn blacklisting_lines_of_every_address_family() {
        for (msg, ip) in [
            (
                "Blacklisting address 104.16.5.6: possible DoS attack.",
                "104.16.5.6",
            ),
            (
                "Blacklisting address 2a06:98c0:3600::200: possible DoS attack.",
                "2a06:98c0:3600::200",
            ),
            (
                "Blacklisting address ::ffff:172.70.1.2: possible DoS attack.  ",
                "::ffff:172.70.1.2",
            ),
        ] {
            let m = parse_message(msg.as_bytes()).unwrap().unwrap();
            assert_eq!(m, Message::Blacklisting(ip.parse().unwrap()), "{msg}");
        }
        let mut sink = Collect::default();
        syslog_message(
            b"Blacklisting address ::ffff:172.70.1.2: possible DoS attack.",
            None,
            at(3),
            Format::Syslog,
            &mut sink,
        );
        // Mapped addresses are read as the IPv4 address they carry; no time, no end.
        assert_eq!(sink.events[0].net.to_string(), "172.70.1.2/32");
        assert_eq!((sink.events[0].time, sink.events[0].expires), (None, None));
    }

    #[test]
    fn only_the_whole_sentence_counts() {
        for msg in [
            "Blacklisting address 104.16.5.6: possible DoS attack. user=root",
            "Blacklisting address 104.16.5.6 : possible DoS attack.",
            "Blacklisting address 104.16.5.6, 104.16.5.7: possible DoS attack.",
            "Blacklisting address : possible DoS attack.",
            "Blacklisting address 104.16.5.6:80: possible DoS attack.",
        ] {
            let mut sink = Collect::default();
            syslog_message(msg.as_bytes(), None, at(9), Format::Syslog, &mut sink);
            assert!(sink.events.is_empty(), "{msg}");
            assert_eq!(sink.malformed.len(), 1, "{msg}");
            assert_eq!(sink.malformed[0].0, 9);
        }
        for msg in [
            "blacklisting address 104.16.5.6: possible DoS attack.",
            "x Blacklisting address 104.16.5.6: possible DoS attack.",
            "Couldn't open logfile /tmp/dos-104.16.5.6",
            "Couldn't open logfile /tmp/dos-104.16.5.6: a: b",
            "",
        ] {
            let mut sink = Collect::default();
            syslog_message(msg.as_bytes(), None, at(1), Format::Syslog, &mut sink);
            assert!(sink.events.is_empty() && sink.malformed.is_empty(), "{msg}");
        }
    }

    #[test]
    fn a_lock_file_that_cannot_be_written_still_shows_the_refusal() {
        let m = parse_message(
            b"Couldn't open logfile /var/lock/mod_evasive/dos-2606:4700:8d9b::1: No such file or directory",
        )
        .unwrap();
        assert_eq!(
            m,
            Some(Message::LockFailed("2606:4700:8d9b::1".parse().unwrap()))
        );
        let mut sink = Collect::default();
        let time = "2026-11-24T03:05:42".parse().unwrap();
        syslog_message(
            b"Couldn't open logfile /tmp/dos-104.16.5.6: Permission denied",
            Some(time),
            at(2),
            Format::Syslog,
            &mut sink,
        );
        assert_eq!(sink.events[0].action, Action::Ban);
        assert_eq!(
            sink.events[0].expires,
            Some(time + TimeDelta::seconds(DEFAULT_BLOCKING_PERIOD))
        );
    }

    #[test]
    fn lock_file_detection_needs_the_name_and_a_pid() {
        let lock = Some(Format::ModEvasiveLock);
        for (name, head, want) in [
            ("dos-104.16.5.6", &b"15278\n"[..], lock),
            ("dos-104.16.5.6", b"", lock),
            ("dos-104.16.5.6", b"15278", lock),
            ("dos-2606:4700:8d9b::1", b"1\n", lock),
            ("dos-104.16.5.6", b"\n", None),
            ("dos-104.16.5.6", b"15278\n15279\n", None),
            ("dos-104.16.5.6", b"-1\n", None),
            ("dos-104.16.5.6", b"104.16.5.6\n", None),
            ("dos-104.16.5.6", b"12345678901234567890\n", None),
            ("dos-104.16.5.6/24", b"1\n", None),
            ("dos-104.16.5.600", b"1\n", None),
            ("dos-", b"1\n", None),
            ("dos-foo", b"1\n", None),
            ("xdos-104.16.5.6", b"1\n", None),
            ("104.16.5.6", b"1\n", None),
        ] {
            let path = Path::new("/tmp").join(name);
            assert_eq!(detect(&path, head), want, "{name} {head:?}");
        }
    }

    #[test]
    fn a_lock_file_is_the_blacklisting_at_its_time_held_for_the_default_period() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dos-2a06:98c0:3600::200");
        std::fs::write(&path, "15278\n").unwrap();
        let mut sink = Collect::default();
        let mtime: NaiveDateTime =
            DateTime::<Local>::from(std::fs::metadata(&path).unwrap().modified().unwrap())
                .naive_local();
        read(&path, mtime, &mut sink).unwrap();
        let e = &sink.events[0];
        assert_eq!(e.net.to_string(), "2a06:98c0:3600::200/128");
        assert_eq!(
            (e.tool, e.format),
            (Tool::ModEvasive, Format::ModEvasiveLock)
        );
        assert_eq!(
            (e.action, e.expires, e.location.line),
            (
                Action::Ban,
                Some(mtime + TimeDelta::seconds(DEFAULT_BLOCKING_PERIOD)),
                0
            )
        );
        assert_eq!(e.time, Some(mtime));
    }

    #[test]
    fn files_that_are_not_lock_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("dos-104.16.5.6");
        std::fs::write(&odd, "<?php system($_GET['c']); ?>\n").unwrap();
        let mut sink = Collect::default();
        let now = ctx("x").now;
        let err = read(&odd, now, &mut sink).unwrap_err();
        assert!(err.to_string().contains("not a PID"), "{err}");
        let big = dir.path().join("dos-104.16.5.7");
        std::fs::write(&big, "1".repeat(4096)).unwrap();
        assert!(read(&big, now, &mut sink).is_err());
        let named = dir.path().join("dos-foo");
        std::fs::write(&named, "1\n").unwrap();
        assert!(read(&named, now, &mut sink).is_err());
        assert!(sink.events.is_empty());
        // A lock file that vanished before it was read: the scanner, which opens every file,
        // names it in an error.
        let missing = dir.path().join("dos-104.16.5.8");
        let report = crate::Scanner::new(crate::cloudflare::embedded())
            .path(&missing)
            .scan();
        assert!(report.findings.is_empty());
        assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    }

    /// Reads the lock file at `path` as the scanner does: at most one byte past the limit,
    /// with the time it was last written.
    fn read(path: &Path, written: NaiveDateTime, sink: &mut Collect) -> Result<(), String> {
        use std::io::Read as _;
        let mut content = Vec::new();
        std::fs::File::open(path)
            .unwrap()
            .take(MAX_LOCK_SIZE as u64 + 1)
            .read_to_end(&mut content)
            .unwrap();
        let mut c = ctx(path.to_str().unwrap());
        c.reference = written;
        read_lock(&content, &c, sink)
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn parse_message() {
        use crate::formats::mod_evasive::{parse_message, Message};
        let m =
            parse_message(b"Blacklisting address 2606:4700:8d9b::1: possible DoS attack.").unwrap();
        assert_eq!(
            m,
            Some(Message::Blacklisting("2606:4700:8d9b::1".parse().unwrap()))
        );
        let m =
            parse_message(b"Couldn't open logfile /tmp/dos-104.16.5.6: Permission denied").unwrap();
        assert_eq!(m, Some(Message::LockFailed("104.16.5.6".parse().unwrap())));
        // Anchored: anything after the sentence and the line is not mod_evasive's.
        assert!(
            parse_message(b"Blacklisting address 104.16.5.6: possible DoS attack. from x").is_err()
        );
    }

    #[test]
    fn syslog_message() {
        use crate::formats::{mod_evasive, Format};
        use crate::{Action, Location};
        use std::{path::Path, sync::Arc};

        let time = "2026-11-24T03:05:42".parse().unwrap();
        let at = Location::new(Arc::from(Path::new("/var/log/syslog")), 7);
        let mut sink = crate::formats::test_support::Collect::default();
        mod_evasive::syslog_message(
            b"Blacklisting address 104.16.5.6: possible DoS attack.",
            Some(time),
            at,
            Format::Syslog,
            &mut sink,
        );
        let e = &sink.events[0];
        assert_eq!(
            (e.net.to_string().as_str(), e.scope.as_str(), e.action),
            ("104.16.5.6/32", "mod_evasive", Action::Ban)
        );
        assert_eq!(e.expires.unwrap().to_string(), "2026-11-24 03:05:52");
    }

    #[test]
    fn lock_address() {
        use crate::formats::mod_evasive::lock_address;
        use std::path::Path;
        assert!(lock_address(Path::new("/tmp/dos-2a06:98c0:3600::200")).is_some());
        assert!(lock_address(Path::new("/tmp/dos-foo")).is_none());
        assert!(lock_address(Path::new("/tmp/dos-104.16.5.6.bak")).is_none());
    }

    #[test]
    fn detect() {
        use crate::formats::{mod_evasive, Format};
        use std::path::Path;
        assert_eq!(
            mod_evasive::detect(Path::new("/tmp/dos-104.16.5.6"), b"15278\n"),
            Some(Format::ModEvasiveLock)
        );
        assert_eq!(
            mod_evasive::detect(Path::new("/tmp/dos-104.16.5.6"), b"hello\n"),
            None
        );
        assert_eq!(
            mod_evasive::detect(Path::new("/tmp/dos-foo"), b"15278\n"),
            None
        );
    }

    #[test]
    fn read_lock() {
        use crate::formats::{mod_evasive, ParseCtx};
        use crate::Action;
        use std::path::Path;
        use std::sync::Arc;

        let path = Path::new("/tmp/dos-172.70.1.2");
        let now = chrono::Local::now().naive_local();
        let ctx = ParseCtx {
            path: Arc::from(path),
            reference: now,
            now,
        };
        let mut sink = crate::formats::test_support::Collect::default();
        mod_evasive::read_lock(b"15278\n", &ctx, &mut sink).unwrap();
        assert_eq!(sink.events[0].net.to_string(), "172.70.1.2/32");
        assert_eq!(
            (sink.events[0].action, sink.events[0].expires),
            (Action::Ban, Some(now + chrono::TimeDelta::seconds(10)))
        );
    }
}
