//! nginx configuration that denies addresses: `deny` lines, `geo`/`map` blocklists that
//! an `if` refuses requests on (see [`geo`] below for those), and `if ($remote_addr = X) {
//! return 403; }` (see [`ifaddr`]); and its real-IP directives (ngx_http_realip_module).
//!
//! **nginx** ([`Format::NginxConf`], tool [`Tool::NginxDeny`]): `deny ADDRESS|CIDR;`
//! (ngx_http_access_module, and ngx_stream_access_module in `stream {}`). The file is read
//! with nginx's own lexical rules (`ngx_conf_read_token`): words separated by white space,
//! `;` ends a directive, `{` opens a block and `}` closes it, `#` at the start of a word begins
//! a comment, quotes (`"…"`, `'…'`) hold white space, `;` and `#`, and a backslash escapes the
//! next character. So an address in a comment, in a quoted string (`add_header`,
//! `log_format`, `return`) or in any directive other than `deny` is never read as a ban.
//!
//! - `deny` counts at the top level of a file (an included snippet) and inside `http`,
//!   `server`, `location`, `limit_except` and `stream` blocks, the contexts where nginx
//!   accepts it; inside other blocks (`geo`, `map`, `if`, `upstream`, `*_by_lua_block`, ...)
//!   the word is not the directive.
//! - `deny all;` is a lock-down (usually after `allow` lines for trusted addresses), not a
//!   ban of Cloudflare: never an event. `deny unix:;` is not an address.
//! - The access module checks the rules of one block in order and the first match wins: a
//!   `deny` whose network an earlier `allow` of the same block covers whole (or after
//!   `allow all;`) never applies and is skipped (noted). A `deny` only partly covered by an
//!   earlier `allow` still blocks the rest and is reported as written. Rules inherited from
//!   enclosing blocks, or brought by `include`, are not weighed.
//! - nginx does not merge access rules across levels: a block with `allow`/`deny` lines of
//!   its own replaces the rules of the enclosing blocks. The `deny` lines of an `http` or
//!   `server` block that never handles a request itself (an `http` block; a `server` with a
//!   `location /`) are skipped (noted) when every `server`/`location` below it has rules of
//!   its own and no `include` (other than `mime.types` and `*params`) may add more.
//! - `include` is not followed: included files are read on their own when they are under a
//!   scanned path.
//! - The scope is the first name of the enclosing `server` block's `server_name` (wherever
//!   in the block it is written), or the file name when there is none (or it is `_`).
//!
//! Every event is an [`Action::Listed`] entry without time or end: it stands in the
//! configuration. Apache configuration is read by [`super::apache_conf`].
//!
//! **Real-IP configuration** ([ngx_http_realip_module](https://nginx.org/en/docs/http/ngx_http_realip_module.html),
//! `src/http/modules/ngx_http_realip_module.c`): the file's `set_real_ip_from ADDRESS|CIDR`
//! (`unix:` and host names, which nginx resolves at start, are not checked: noted),
//! `real_ip_header FIELD` and `real_ip_recursive on|off` (anything else is malformed, as
//! nginx's flag slot refuses it) are reported once per file that has any of them, through
//! [`Sink::realip_config`](crate::formats::Sink::realip_config), for the real-IP diagnoses.
//! They are read with the same lexical rules, so a directive in a comment or a quoted string
//! is never read.
//!
//! [`Tool::NginxDeny`]: crate::event::Tool::NginxDeny
//! [`Action::Listed`]: crate::event::Action::Listed

pub mod geo;
pub mod ifaddr;
mod parser;

use super::registry::{Detection, FormatDescriptor, Membership};
use crate::event::Tool;
use std::path::Path;

use super::grammar::head::conf_lines;
use super::grammar::webconf::{claims, conf_dirs};
use super::Format;
use crate::addr::parse_net;

pub use parser::NginxConfParser;

/// Decides whether a file is nginx configuration, from its name and first bytes.
///
/// A line opening an `http`, `server`, `events`, `stream`, `location` or `upstream` block
/// together with a directive ending in `;`, or a file made only of `allow`/`deny` lines (a
/// snippet that `include` brings in). A `.conf` file under a directory named `nginx` is taken
/// by its place when its lines look like directives. Files that Apache configuration claims by
/// their name or their lines ([`super::apache_conf::detect`]) are left to it.
pub fn detect(path: &Path, head: &[u8]) -> Option<Format> {
    if claims(path, head) {
        return None;
    }
    let lines = || conf_lines(head);
    if lines().any(nginx_block_line) && lines().any(|l| strip_nginx_comment(l).ends_with(b";")) {
        return Some(Format::NginxConf);
    }
    let mut access = 0;
    let mut denies = 0;
    let mut others = 0;
    for l in lines() {
        match access_line(l) {
            Some(deny) => {
                access += 1;
                denies += usize::from(deny);
            }
            None => others += 1,
        }
    }
    if denies > 0 && others == 0 && access > 0 {
        return Some(Format::NginxConf);
    }
    // By place: a .conf file in nginx's directory whose lines look like directives.
    let dirs = conf_dirs(path, head)?;
    (dirs.iter().any(|d| d == "nginx") && lines().any(|l| strip_nginx_comment(l).ends_with(b";")))
        .then_some(Format::NginxConf)
}

/// A line that opens one of nginx's main blocks.
fn nginx_block_line(l: &[u8]) -> bool {
    let l = strip_nginx_comment(l);
    let Some(body) = l.strip_suffix(b"{") else {
        return false;
    };
    let words: Vec<&[u8]> = body
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    match words.as_slice() {
        [b"http" | b"server" | b"events" | b"stream" | b"mail"] => true,
        [b"location", ..] if words.len() >= 2 => true,
        [b"upstream", _] => true,
        // `geo $var {`, `geo $remote_addr $var {`, `map $src $var {`: nginx's own syntax.
        [b"geo", var] => var.starts_with(b"$"),
        [b"geo" | b"map", src, var] => src.starts_with(b"$") && var.starts_with(b"$"),
        _ => false,
    }
}

/// A line without a trailing `# comment` (a `#` after white space), trimmed.
fn strip_nginx_comment(l: &[u8]) -> &[u8] {
    let mut prev_space = true;
    for (i, &b) in l.iter().enumerate() {
        if b == b'#' && prev_space {
            return l[..i].trim_ascii();
        }
        if b == b'"' || b == b'\'' {
            // Quoted text: do not look for comments inside (good enough for detection).
            return l;
        }
        prev_space = b.is_ascii_whitespace();
    }
    l
}

/// `allow X;` (Some(false)) or `deny X;` (Some(true)), as a whole line.
fn access_line(l: &[u8]) -> Option<bool> {
    let l = strip_nginx_comment(l);
    let body = l.strip_suffix(b";")?.trim_ascii_end();
    let (word, arg) = if let Some(a) = body.strip_prefix(b"deny") {
        (true, a)
    } else {
        (false, body.strip_prefix(b"allow")?)
    };
    if !arg.first().is_some_and(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let arg = arg.trim_ascii();
    (arg == b"all" || parse_net(arg).is_some()).then_some(word)
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// nginx configuration: `deny` lines, `if`s on the connecting address that refuse.
    pub const NginxConf: Format = Format::builtin(27, "nginx-conf");
    /// nginx `geo`/`map` blocklists: entries of a variable an `if` refuses requests on
    /// (read from nginx configuration).
    pub const NginxGeo: Format = Format::builtin(28, "nginx-geo");
}

/// nginx configuration.
pub(crate) const CONF: FormatDescriptor = FormatDescriptor::new(
    Format::NginxConf,
    &[Tool::NginxDeny],
    "nginx configuration deny lines and ifs on $remote_addr that refuse (return 403/444)",
    |ctx| Box::new(NginxConfParser::new(ctx)),
)
.usual_paths(&["/etc/nginx"])
.detected_by(&[Detection::text(310, |path, head| {
    detect(path, head).is_some()
})]);

/// The `geo`/`map` entries the configuration reader finds: never detected on their own; the
/// variable's purpose is decided by the `if` that uses it, never by its name.
pub(crate) const GEO: FormatDescriptor = FormatDescriptor::new(
    Format::NginxGeo,
    &[Tool::NginxDeny],
    "nginx geo/map blocklists that an if refuses (return 403/444)",
    |ctx| Box::new(NginxConfParser::new(ctx)),
)
.usual_paths(&["/etc/nginx"])
.membership(Membership::ByRules);

#[cfg(test)]
mod tests;

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn detect() {
        use crate::formats::{nginx_conf, Format};
        use std::path::Path;
        let nginx = b"server {\n    listen 80;\n    deny 104.16.0.1;\n}\n";
        assert_eq!(
            nginx_conf::detect(Path::new("/tmp/site"), nginx),
            Some(Format::NginxConf)
        );
        assert_eq!(
            nginx_conf::detect(Path::new("/tmp/notes.txt"), b"deny this; allow that\n"),
            None
        );
    }
}
