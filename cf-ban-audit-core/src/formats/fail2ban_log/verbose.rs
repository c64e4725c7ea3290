//! fail2ban's verbose log layouts, which the server writes to its log target when started with
//! `-vv` or more (`fail2ban-server -vv`, `fail2ban-client -vv start`). server/server.py
//! `setLogTarget` passes `verbose - 1` to helpers.py `getVerbosityFormat`, which builds:
//!
//! - `-vv`: `' %(asctime)-15s %(thread)X %(levelname)-5.5s %(message)s'`
//!   (` 2026-12-03 14:12:45,889 7F072EFFD6C0 NOTIC [sshd] Ban 104.16.0.1`): no logger name;
//! - `-vvv`: `' +%(relativeCreated)5d %(thread)X %(name)-25.25s %(levelname)-5.5s %(message)s'`
//!   (` +  503 7F17C0A7D6C0 fail2ban.actions          NOTIC [sshd] Ban 104.16.0.1`): no date,
//!   only the milliseconds since the server started;
//! - `-vvvv` and more: the `-vvv` form with `' | %(module)15.15s-%(levelno)-2d: %(funcName)-20.20s |'`
//!   before the message (`NOTIC |         helpers-25: __safeLog            | [sshd] Ban ...`).
//!
//! Every line starts with one space (`+` follows it in the last two). With `padding = 0` in the
//! log target's options the widths go and level names are whole (`NOTICE`); both are read. The
//! level names are Python's and fail2ban's own (fail2ban/__init__.py: `NOTICE`, `MSG`,
//! `TRACE`, `HEAVY`, `#NN-Lev.` for unnamed levels), cut to five characters.
//!
//! A `loglevel` of `DEBUG` or `HEAVYDEBUG` alone keeps the ordinary layout (read by the parent
//! module).

use chrono::NaiveDateTime;

use super::super::grammar::time::parse_asctime;

/// One line of a verbose layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerboseLine<'a> {
    /// The date (`-vv`); the other layouts write none.
    pub time: Option<NaiveDateTime>,
    /// The logger's module (`actions` of `fail2ban.actions`; empty for the root logger
    /// `fail2ban`), when the layout writes the logger (`-vvv` and more).
    pub module: Option<&'a [u8]>,
    /// The level name as written (`NOTIC`, `NOTICE`, `INFO`, `#09-L`).
    pub level: &'a [u8],
    /// The message.
    pub message: &'a [u8],
}

/// Splits a line of one of the verbose layouts; `None` for any other line.
pub fn split(line: &[u8]) -> Option<VerboseLine<'_>> {
    let rest = line.strip_prefix(b" ")?;
    if let Some(rest) = rest.strip_prefix(b"+") {
        // relativeCreated, `%5d`: padded on the left up to five digits.
        let rest = rest.trim_ascii_start();
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let rest = thread(rest[digits..].strip_prefix(b" ")?)?;
        let name_end = memchr::memchr(b' ', rest)?;
        let name = &rest[..name_end];
        let module = match name.strip_prefix(b"fail2ban") {
            Some(b"") => &b""[..],
            Some(m) => module_name(m.strip_prefix(b".")?)?,
            None => return None,
        };
        let (level, message) = split_level(rest[name_end..].trim_ascii_start())?;
        let message = match message.strip_prefix(b"|") {
            Some(origin) => after_origin(origin)?,
            None => message,
        };
        Some(VerboseLine {
            time: None,
            module: Some(module),
            level,
            message,
        })
    } else {
        let (time, n) = parse_asctime(rest)?;
        let rest = thread(rest[n..].strip_prefix(b" ")?)?;
        let (level, message) = split_level(rest)?;
        Some(VerboseLine {
            time: Some(time),
            module: None,
            level,
            message,
        })
    }
}

/// Skips `%(thread)X ` (the thread's identifier in upper-case hexadecimal) and returns the rest.
fn thread(s: &[u8]) -> Option<&[u8]> {
    let end = memchr::memchr(b' ', s)?;
    let id = &s[..end];
    let hex = |b: &u8| b.is_ascii_digit() || (b'A'..=b'F').contains(b);
    (!id.is_empty() && id.len() <= 16 && id.iter().all(hex)).then(|| &s[end + 1..])
}

/// A logger's module name (`actions`, `filterpoll`, `CommandAction`).
fn module_name(m: &[u8]) -> Option<&[u8]> {
    (!m.is_empty()
        && m.iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'_'))
    .then_some(m)
}

/// Reads the `-vvvv` origin block after its `|`: `   helpers-25: __safeLog            | `, and
/// returns the message after it.
fn after_origin(s: &[u8]) -> Option<&[u8]> {
    let colon = memchr::memchr(b':', s)?;
    // `%(module)15.15s-%(levelno)-2d`: the levelno is padded on the right (`helpers-5 `).
    let origin = s[..colon].trim_ascii();
    let dash = memchr::memrchr(b'-', origin)?;
    let levelno = &origin[dash + 1..];
    if module_name(&origin[..dash]).is_none()
        || levelno.is_empty()
        || !levelno.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let rest = s[colon + 1..].strip_prefix(b" ")?;
    let func_end = memchr::memchr(b' ', rest)?;
    let func = &rest[..func_end];
    if func.is_empty() || func.contains(&b'|') {
        return None;
    }
    let rest = rest[func_end..].trim_ascii_start().strip_prefix(b"|")?;
    Some(rest.strip_prefix(b" ").unwrap_or(rest))
}

/// Splits `LEVEL message` where the level is written whole or cut to five characters.
fn split_level(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = memchr::memchr(b' ', s)?;
    let level = &s[..end];
    is_level(level).then(|| (level, s[end..].trim_ascii_start()))
}

/// fail2ban's level names (fail2ban/__init__.py and Python's), whole or cut to five characters
/// (`%(levelname)-5.5s`).
pub fn is_level(level: &[u8]) -> bool {
    const NAMES: [&[u8]; 9] = [
        b"CRITICAL",
        b"ERROR",
        b"WARNING",
        b"NOTICE",
        b"INFO",
        b"MSG",
        b"DEBUG",
        b"TRACE",
        b"HEAVY",
    ];
    if NAMES
        .iter()
        .any(|n| level == *n || (n.len() > 5 && level == &n[..5]))
    {
        return true;
    }
    // `#%02d-Lev.` for a level without a name, `#09-L` when cut.
    match level.strip_prefix(b"#") {
        Some(r) if r.len() >= 3 && r[..2].iter().all(u8::is_ascii_digit) => {
            matches!(&r[2..], b"-Lev." | b"-L")
        }
        _ => false,
    }
}

/// Whether the level is the one fail2ban logs a message of this kind at: bans, unbans and
/// their kin at NOTICE (server/actions.py, server/observer.py), `already banned` at DEBUG,
/// NOTICE or WARNING by how late it comes; failures and ignores at INFO (server/filter.py).
/// Used where the layout writes no logger name (`-vv`).
pub fn level_fits(level: &[u8], kind: super::MessageKind) -> bool {
    use super::MessageKind;
    use crate::event::Action;
    let is = |name: &[u8]| level == name || (name.len() > 5 && level == &name[..5]);
    match kind {
        MessageKind::Act(Action::AlreadyBanned) => is(b"NOTICE") || is(b"WARNING") || is(b"DEBUG"),
        MessageKind::Act(_) => is(b"NOTICE"),
        MessageKind::Found | MessageKind::Ignore => is(b"INFO"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verbose_layout() {
        let vv =
            split(b" 2026-12-03 14:12:45,889 7F072EFFD6C0 NOTIC [sshd] Ban 104.16.0.1").unwrap();
        assert!(vv.time.is_some() && vv.module.is_none());
        assert_eq!(
            (vv.level, vv.message),
            (&b"NOTIC"[..], &b"[sshd] Ban 104.16.0.1"[..])
        );
        let vvv =
            split(b" +  503 7F17C0A7D6C0 fail2ban.actions          NOTIC [sshd] Ban 104.16.0.1")
                .unwrap();
        assert_eq!(
            (vvv.time, vvv.module, vvv.message),
            (None, Some(&b"actions"[..]), &b"[sshd] Ban 104.16.0.1"[..])
        );
        let vvvv = split(b" + 1019 7FC26D29D6C0 fail2ban.actions          NOTIC |         helpers-25: __safeLog            | [sshd] Unban 192.0.2.5").unwrap();
        assert_eq!(vvvv.message, b"[sshd] Unban 192.0.2.5");
        let heavy = split(b" +  292 7F818A108040 fail2ban                  HEAVY |         helpers-5 : __safeLog            | CMD: ['ping', 0.1]").unwrap();
        assert_eq!((heavy.module, heavy.level), (Some(&b""[..]), &b"HEAVY"[..]));
        let unpadded = split(b" 2026-12-03 14:12:45,889 7F072EFFD6C0 NOTICE [sshd] Ban 104.16.0.1");
        assert_eq!(unpadded.unwrap().level, b"NOTICE");
        assert!(split(b" +  292 7F818A108040 fail2ban.actions #09-L x").is_some());
    }

    #[test]
    fn other_lines_are_not_verbose() {
        for line in [
            &b"2026-12-03 14:12:45,889 7F072EFFD6C0 NOTIC [sshd] Ban 104.16.0.1"[..],
            b" 2026-12-03 14:12:45,889 thread NOTIC [sshd] Ban 104.16.0.1",
            b" 2026-12-03 14:12:45,889 7F072EFFD6C0 BANNED [sshd] Ban 104.16.0.1",
            b" +  503 7F17C0A7D6C0 xfail2ban.actions NOTIC [sshd] Ban 104.16.0.1",
            b" +  503 7F17C0A7D6C0 myapp NOTIC [sshd] Ban 104.16.0.1",
            b" + x 7F17C0A7D6C0 fail2ban.actions NOTIC [sshd] Ban 104.16.0.1",
            b"  File \"/usr/lib/python3/dist-packages/fail2ban/server/actions.py\", line 1",
        ] {
            assert!(split(line).is_none(), "{}", String::from_utf8_lossy(line));
        }
    }
}
