//! What the readers of Apache and nginx configuration share: the lines a file is detected by,
//! the directories it lies in, the lines only Apache configuration has (nginx's detection
//! leaves such files to Apache), the scope of entries outside any named context, and the
//! events of standing entries.

use std::path::Path;
use std::sync::Arc;

use ipnet::IpNet;

use super::head::conf_lines;
use super::quote;
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::Format;

/// Whether a file is Apache's by its name (`.htaccess`) or by a line that only Apache
/// configuration has, whatever else it holds: nginx's detection leaves such files to Apache.
pub fn claims(path: &Path, head: &[u8]) -> bool {
    lower_file_name(path) == ".htaccess" || conf_lines(head).any(apache_line)
}

/// The file name, lower case (ASCII letters only).
fn lower_file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// For a `.conf` file whose first lines all look like directives, the names of the
/// directories above it, lower case: web server configuration told by its place. `None` for
/// other files.
pub fn conf_dirs(path: &Path, head: &[u8]) -> Option<Vec<String>> {
    if !lower_file_name(path).ends_with(".conf") {
        return None;
    }
    let dirs: Vec<String> = path
        .parent()
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let directive_like = conf_lines(head).all(|l| {
        l.first()
            .is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'<' | b'}' | b'{'))
    });
    directive_like.then_some(dirs)
}

/// A line that only Apache configuration has.
fn apache_line(l: &[u8]) -> bool {
    let lower = l.to_ascii_lowercase();
    const SECTIONS: &[&[u8]] = &[
        b"<virtualhost",
        b"<directory",
        b"<location",
        b"<files",
        b"<requireall",
        b"<requireany",
        b"<requirenone",
        b"<ifmodule",
        b"<limit",
    ];
    if SECTIONS.iter().any(|s| {
        lower.starts_with(s)
            && lower[s.len()..]
                .first()
                .is_some_and(|&b| b == b' ' || b == b'\t' || b == b'>' || b.is_ascii_alphabetic())
            && lower.ends_with(b">")
    }) {
        return true;
    }
    let words: Vec<&[u8]> = lower
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    match words.as_slice() {
        [b"require", b"all", what] => matches!(*what, b"granted" | b"denied"),
        [b"require", provider, _, ..] => matches!(
            *provider,
            b"ip"
                | b"not"
                | b"host"
                | b"env"
                | b"forward-dns"
                | b"method"
                | b"expr"
                | b"user"
                | b"group"
        ),
        [b"require", provider] => matches!(*provider, b"valid-user" | b"local"),
        [b"deny" | b"allow", b"from", _, ..] => true,
        [b"order", order] => matches!(*order, b"allow,deny" | b"deny,allow" | b"mutual-failure"),
        // mod_remoteip's directives exist only in Apache.
        [b"remoteipheader", _] => true,
        [b"remoteiptrustedproxy" | b"remoteipinternalproxy", _, ..] => true,
        _ => false,
    }
}

/// The name of the file, the scope of entries outside any named context.
pub fn file_scope(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// An event of a standing configuration entry.
pub fn listed(
    net: IpNet,
    tool: Tool,
    format: Format,
    scope: String,
    path: &Arc<Path>,
    line: u64,
) -> BanEvent {
    BanEvent::new(
        net,
        tool,
        format,
        scope,
        Action::Listed,
        Location::new(path.clone(), line),
    )
}

/// Text for messages: quoted, cut after 80 bytes.
pub fn shown(b: &[u8]) -> String {
    quote::shown(b, 80)
}
