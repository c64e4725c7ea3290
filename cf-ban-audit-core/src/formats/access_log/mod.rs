//! Web servers' access logs (nginx, Apache httpd): the client address and the response status
//! of every request, as evidence of whether the server restores visitor addresses behind
//! Cloudflare ([`Sink::access_client`], counted in [`crate::web_evidence::AccessStats`]). They
//! hold no bans: a 403 to a client refuses one request, it bans nobody, so this format gives
//! no [`BanEvent`](crate::event::BanEvent) at all.
//!
//! # The layouts, as the servers write them
//!
//! - nginx's predefined `combined` (`ngx_http_combined_fmt` in
//!   `src/http/modules/ngx_http_log_module.c`): `$remote_addr - $remote_user [$time_local]
//!   "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`, and the formats
//!   that start the same way (Red Hat's `main` adds `"$http_x_forwarded_for"`). `$status` is
//!   written `%03ui` (`ngx_http_log_status`). With the default `escape=default`,
//!   `ngx_http_log_escape` writes `"`, `\`, bytes below 32 and above 126 as `\xHH`, so a
//!   variable never holds a raw quote.
//! - nginx `log_format NAME escape=json '{...}'`: `ngx_escape_json` (`src/core/ngx_string.c`)
//!   writes `"` and `\` with a backslash and control bytes as `\n`, `\u001F`, ..., so a
//!   variable in a JSON string never ends it. A line is a record when it is one JSON object
//!   whose top-level members name a client (`remote_addr`, `client`, `client_ip`, `ip`, ...,
//!   compared without case, `_` and `-`; `remote_addr` first when there are several) and a
//!   status (`status`, `status_code`, ...; a string or a number).
//! - Apache httpd's `mod_log_config` (`modules/loggers/mod_log_config.c`): Debian's
//!   `apache2.conf` defines `common` `%h %l %u %t \"%r\" %>s %O`, `combined` (with
//!   `\"%{Referer}i\" \"%{User-Agent}i\"`) and `vhost_combined` `%v:%p %h %l %u ...`, which
//!   `other_vhosts_access.log` is written in. `%h` is the client (`log_remote_host`: its
//!   address unless `HostnameLookups On`), `%>s` the status (`log_status`, `-` when there is
//!   none), `%v` the configured `ServerName` (`log_virtual_host`, never the request's Host).
//!   `%r`, `%u`, `%l` and headers go through `ap_escape_logitem` (`server/util.c`), which
//!   writes `"` and `\` as `\"` and `\\` and other bytes as `\xhh`; an empty user is `""`
//!   (`log_remote_user`).
//!
//! # Attacker text
//!
//! The client is the line's first token (the second after a virtual host, told by the
//! identity field `-` that follows the client): written by the server, never by the client.
//! The user (`%u`, `$remote_user`, which nginx takes from any `Authorization` header) may hold
//! spaces and brackets but no raw quote; the request, Referer and User-Agent are attacker text
//! in quotes. So the request's opening quote is the first `] "` after the identity, its
//! closing quote is the first raw `"` (backslash escapes skipped), and the status is the token
//! right after it: an address or number inside quoted text or the user is never read. With
//! `escape=none` nginx writes raw quotes, and a request holding one could move the status: such
//! logs are not told apart.
//!
//! # Reading
//!
//! One pass, from bytes, no allocation a line: only the client token and the status are
//! looked at, and the parser keeps no state from one line to the next (a large log is read
//! in chunks in parallel). A line of no known layout is a malformed line (blank lines and `#`
//! comments, as fail2ban's test samples hold, are skipped); a record whose
//! client is a host name or a UNIX socket, or whose status is `-`, counts nowhere.
//!
//! # Detection
//!
//! By the structure of the file, never one line: a file named like an access log
//! (`access.log`, `access_log`, `*-access.log`, `*_access.log`, `other_vhosts_access.log`,
//! `ssl_access_log`, rotated `.1`, `-20261124` and compressed) whose head is mostly records of
//! one layout (text records with the default `[%d/%b/%Y:%H:%M:%S %z]` time), or any file whose
//! head is at least [`MIN_RECORDS`] such records and nothing else. It is asked after the other
//! logs (rank 420): one access-looking line in an error log, fail2ban's log or syslog changes
//! nothing about how those are read.

mod record;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;

use super::grammar::head;
use super::registry::{Detection, FormatDescriptor};
use super::{Format, LineParser, ParseCtx, Sink};

pub use record::Record;

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// nginx and Apache access logs (combined, common, `vhost_combined`, JSON): evidence of
    /// who the clients are, never bans.
    pub const AccessLog: Format = Format::builtin(42, "access-log");
}

/// The access log descriptor: no tools, as it holds no bans.
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::new(
    Format::AccessLog,
    &[],
    "nginx/Apache access log (combined, common, vhost_combined, JSON): clients and statuses, \
     evidence for the real-IP diagnoses, no bans",
    |ctx| Box::new(AccessLogParser::new(ctx)),
)
.chunkable()
.usual_paths(&[
    "/var/log/nginx/access.log",
    "/var/log/apache2/access.log",
    "/var/log/apache2/other_vhosts_access.log",
    "/var/log/httpd/access_log",
])
.detected_by(&[Detection::text(420, detect)]);

/// How many records a head must hold when the file's name does not say it is an access log.
pub const MIN_RECORDS: usize = 3;

/// Whether the file's name says it is an access log, rotated or compressed or not.
pub fn access_name(path: &Path) -> bool {
    let name = super::lower_file_name(path);
    let name = crate::decompress::strip_suffixes(&name);
    // logrotate's `.1`, `.2` and `dateext`'s `-20261124`.
    let name = match name.rfind(['.', '-']) {
        Some(i) if i + 1 < name.len() && name[i + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            &name[..i]
        }
        _ => name,
    };
    ["access.log", "access_log"].iter().any(|base| {
        name.strip_suffix(base)
            .is_some_and(|prefix| prefix.is_empty() || prefix.ends_with(['-', '_', '.']))
    })
}

/// Whether a file is an access log: see the module's docs.
pub fn detect(path: &Path, head: &[u8]) -> bool {
    let mut total = 0;
    let mut own = 0;
    let mut layout = None;
    for line in head::log_lines(head) {
        total += 1;
        if let Some(l) = record::looks_like(line) {
            if *layout.get_or_insert(l) == l {
                own += 1;
            }
        }
    }
    if access_name(path) {
        head::mostly(own, total)
    } else {
        own >= MIN_RECORDS && own == total
    }
}

/// The parser of access logs: each record's client and status to the sink.
pub struct AccessLogParser {
    path: Arc<Path>,
}

impl AccessLogParser {
    /// A parser for the input of `ctx`.
    pub fn new(ctx: &ParseCtx) -> AccessLogParser {
        AccessLogParser {
            path: ctx.path.clone(),
        }
    }
}

impl LineParser for AccessLogParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        match record::read(line) {
            Some((Record::Client(client, status), _)) => {
                sink.access_client(&self.path, lineno, client, status)
            }
            Some((Record::NoAddress, _)) => {}
            // Blank lines, and `#` comments of test samples (no record starts with `#`).
            None if line.trim_ascii().first().is_none_or(|&b| b == b'#') => {}
            None => sink.malformed(
                lineno,
                "not an access log record (combined, common, vhost_combined, or a JSON \
                 object with a client and a status)"
                    .into(),
            ),
        }
    }
}
