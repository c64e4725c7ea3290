//! Apache configuration that denies addresses: `Require not ip` / `Deny from`; and its
//! real-IP directives (mod_remoteip).
//!
//! **Apache** ([`Format::ApacheConf`], tool [`Tool::ApacheDeny`]): 2.4 `Require not ip …`
//! (mod_authz_host), `Require ip …` inside `<RequireNone>`, and 2.2 `Deny from …`
//! (mod_access_compat), in server configuration and `.htaccess` files. Lines are read as
//! Apache reads them: directives are case-insensitive, a line ending in `\` continues on the
//! next, `#` starts a comment only at the start of a line (Apache has no comments after a
//! directive; words from a `#` on are dropped here, as Apache would refuse them anyway).
//!
//! - Addresses are read as `apr_ipsubnet_create` reads them: a full IPv4 or IPv6 address, a
//!   CIDR (`10.0.0.0/8`, `2001:db8::/32`), an IPv4 address with a netmask
//!   (`10.0.0.0/255.0.0.0`), or a partial IPv4 address of 1 to 3 bytes (`10.1` =
//!   10.1.0.0/16, `172.16.` = 172.16.0.0/16, `104` = 104.0.0.0/8). Words that do not look
//!   like an address (only digits and dots, or holding a colon) are host names for
//!   `Deny from` (skipped) and errors for `Require ip` (reported as malformed).
//! - `Require all denied` and `Deny from all` are lock-downs, never events; `Deny from env=…`
//!   and host names are not addresses.
//! - `Deny from` obeys the section's `Order` (whatever its place in the section):
//!   with `Order Deny,Allow` (Apache's default) an `Allow from` that covers the denied network
//!   (or `Allow from all`) lets it in, so the `Deny` is skipped (noted); with
//!   `Order Allow,Deny` or `Mutual-failure` the `Deny` holds.
//! - The scope is the innermost enclosing `<Directory …>`, `<DirectoryMatch …>`,
//!   `<Location …>`, `<LocationMatch …>`, `<Files …>`, `<FilesMatch …>` or `<Proxy …>`
//!   section, as written; else the enclosing `<VirtualHost>`'s `ServerName` (or
//!   `<VirtualHost …>` when it has none); else the file name.
//!
//! Every event is an [`Action::Listed`] entry without time or end: it stands in the
//! configuration. `Include` is not followed. nginx configuration is read by
//! [`super::nginx_conf`].
//!
//! **Real-IP configuration** ([mod_remoteip](https://httpd.apache.org/docs/2.4/mod/mod_remoteip.html),
//! `modules/metadata/mod_remoteip.c`): `RemoteIPHeader` (one header, `TAKE1`),
//! `RemoteIPTrustedProxy` and `RemoteIPInternalProxy` (any number of addresses, read as
//! `apr_ipsubnet_create` reads them; host names, resolved by Apache at start, are noted, not
//! checked) and the file names of `RemoteIPTrustedProxyList`/`RemoteIPInternalProxyList`
//! (named, not read: the reader never opens a file) are reported once per file that has any
//! of them, through [`Sink::realip_config`](crate::formats::Sink::realip_config), for the
//! real-IP diagnoses. A line holding one of them also makes a file Apache configuration.
//!
//! [`Tool::ApacheDeny`]: crate::event::Tool::ApacheDeny
//! [`Action::Listed`]: crate::event::Action::Listed

mod parser;

use super::registry::{Detection, FormatDescriptor};
use std::path::Path;

use ipnet::{IpNet, Ipv4Net};

use super::grammar::webconf::{claims, conf_dirs, shown};
use super::Format;
use crate::addr::parse_net;
use crate::event::Tool;

pub use parser::ApacheConfParser;

/// Decides whether a file is Apache configuration, from its name and first bytes.
///
/// The name `.htaccess`, or lines opening sections (`<VirtualHost`, `<Directory`,
/// `<Location`, `<Files`, `<Require…`, `<IfModule`, `<Limit`) or access directives
/// (`Require ip|not|all|host|…`, `Deny from`, `Allow from`, `Order allow,deny`). A `.conf` file
/// under a directory named `apache2`, `apache` or `httpd` is taken by its place when its lines
/// look like directives. [`super::nginx_conf::detect`] is asked first, so that a `.conf` file
/// under a directory named `nginx` with a directive ending in `;` is nginx's.
pub fn detect(path: &Path, head: &[u8]) -> Option<Format> {
    if claims(path, head) {
        return Some(Format::ApacheConf);
    }
    // By place: a .conf file in Apache's directory whose lines look like directives.
    let dirs = conf_dirs(path, head)?;
    dirs.iter()
        .any(|d| d == "apache2" || d == "apache" || d == "httpd")
        .then_some(Format::ApacheConf)
}

/// Reads an address as Apache's `apr_ipsubnet_create` does (see the module docs). `Ok(None)`:
/// the word does not look like an address (a host name); `Err`: it looks like one but is not.
pub fn parse_apache_net(word: &[u8]) -> Result<Option<IpNet>, String> {
    let (addr, mask) = match memchr::memchr(b'/', word) {
        Some(i) => (&word[..i], Some(&word[i + 1..])),
        None => (word, None),
    };
    let looks_like_ip = !addr.is_empty()
        && (addr.contains(&b':') || addr.iter().all(|b| b.is_ascii_digit() || *b == b'.'));
    if !looks_like_ip {
        return match mask {
            // With a mask, Apache wants an address.
            Some(_) => Err(format!("not an address: {}", shown(word))),
            None => Ok(None),
        };
    }
    let bad = || format!("not an address: {}", shown(word));
    let Some(mask) = mask else {
        if let Some(net) = parse_net(addr) {
            return Ok(Some(net));
        }
        return partial_ipv4(addr).map(Some).ok_or_else(bad);
    };
    let ip = crate::addr::parse_ip(addr).ok_or_else(bad)?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = if !mask.is_empty() && mask.iter().all(u8::is_ascii_digit) && mask.len() <= 3 {
        let bits: u8 = std::str::from_utf8(mask)
            .ok()
            .and_then(|m| m.parse().ok())
            .ok_or_else(bad)?;
        if bits == 0 || bits > max {
            return Err(bad());
        }
        bits
    } else if ip.is_ipv4() {
        let Some(std::net::IpAddr::V4(m)) = crate::addr::parse_ip(mask) else {
            return Err(bad());
        };
        let m = u32::from(m);
        let ones = m.leading_ones();
        if m.checked_shl(ones).unwrap_or(0) != 0 || ones == 0 {
            return Err(format!("netmask that is not a prefix: {}", shown(word)));
        }
        ones as u8
    } else {
        return Err(bad());
    };
    IpNet::new(ip, prefix)
        .map(|n| Some(crate::addr::normalize_net(n)))
        .map_err(|_| bad())
}

/// `a`, `a.b`, `a.b.c` (each with an optional trailing dot): the /8, /16 or /24 network.
fn partial_ipv4(s: &[u8]) -> Option<IpNet> {
    let s = s.strip_suffix(b".").unwrap_or(s);
    let mut bytes = [0u8; 4];
    let mut n = 0;
    for part in s.split(|&b| b == b'.') {
        if n == 4 || part.is_empty() || part.len() > 3 || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        bytes[n] = std::str::from_utf8(part).ok()?.parse().ok()?;
        n += 1;
    }
    if n == 0 {
        return None;
    }
    Ipv4Net::new(bytes.into(), (n * 8) as u8)
        .ok()
        .map(|net| IpNet::V4(net.trunc()))
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// Apache configuration and .htaccess: `Require not ip`, `Deny from`.
    pub const ApacheConf: Format = Format::builtin(29, "apache-conf");
}

/// The Apache configuration descriptor.
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::new(
    Format::ApacheConf,
    &[Tool::ApacheDeny],
    "Apache Require not ip / Deny from",
    |ctx| Box::new(ApacheConfParser::new(ctx)),
)
.usual_paths(&["/etc/apache2", "/etc/httpd"])
.detected_by(&[Detection::text(320, |path, head| {
    detect(path, head).is_some()
})]);

#[cfg(test)]
mod tests;

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn detect() {
        use crate::formats::{apache_conf, Format};
        use std::path::Path;
        let apache = b"<Directory /var/www>\n    Require not ip 104.16\n</Directory>\n";
        assert_eq!(
            apache_conf::detect(Path::new("/tmp/x"), apache),
            Some(Format::ApacheConf)
        );
        assert_eq!(
            apache_conf::detect(Path::new("/tmp/notes.txt"), b"deny this; allow that\n"),
            None
        );
    }

    #[test]
    fn parse_apache_net() {
        use crate::formats::apache_conf::parse_apache_net;
        let net = |s: &str| parse_apache_net(s.as_bytes()).unwrap().unwrap().to_string();
        assert_eq!(net("10.1"), "10.1.0.0/16");
        assert_eq!(net("172.16."), "172.16.0.0/16");
        assert_eq!(net("104"), "104.0.0.0/8");
        assert_eq!(net("10.1.2"), "10.1.2.0/24");
        assert_eq!(net("192.0.2.7"), "192.0.2.7/32");
        assert_eq!(net("10.0.0.0/255.255.0.0"), "10.0.0.0/16");
        assert_eq!(net("2001:db8::/32"), "2001:db8::/32");
        assert_eq!(parse_apache_net(b"example.com").unwrap(), None);
        assert!(parse_apache_net(b"10.1/16").is_err());
        assert!(parse_apache_net(b"300.1").is_err());
    }
}
