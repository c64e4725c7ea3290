//! nginx blocklists made of a variable: a `geo` (or `map`) block that gives listed addresses
//! a value, and an `if` that refuses requests when the variable has it.
//!
//! ```nginx
//! geo $blocked_ip {              # http {} level, often in its own file
//!     default        0;
//!     104.16.0.0/13  1;
//!     include /etc/nginx/blocklist.conf;
//! }
//! server {
//!     if ($blocked_ip) { return 444; }
//! }
//! ```
//!
//! - Entries of a `geo $VAR` or `geo $remote_addr $VAR` block (`ngx_http_geo_module`, also
//!   with `ranges` and `a-b` keys) whose value is true for nginx's `if` (not empty, not `0`)
//!   are members of the set `nginx $VAR` ([`Format::NginxGeo`]); `0`/empty entries (the
//!   usual exceptions) and `default` are not. `delete NET` removes an earlier entry. A `geo`
//!   keyed on another variable (`$http_x_forwarded_for`, `$arg_ip`) does not see the
//!   connecting address and is skipped, as is one with `proxy` (its address comes from
//!   `X-Forwarded-For` when the peer is listed).
//! - Entries of a `map $remote_addr $VAR` (or `$realip_remote_addr`) block are compared as
//!   strings: a key that is a single address is a member as above; regular expressions
//!   (`~...`), CIDR-looking keys (a string that no address equals) and `hostnames` are not.
//! - `if ($VAR)`, `if ($VAR != 0)` and `if ($VAR = VALUE)` (VALUE not `0`/empty) whose block
//!   holds `return` with a code of 400 or more (444 included) make the set a ban set
//!   ([`Sink::set_use`] with [`Verdict::Drop`]); `if ($VAR = 0)` or `if ($VAR = "")` refusing
//!   requests make the listed addresses the ones let in ([`Verdict::Accept`]). The `if` and
//!   the `geo` may be in different files of the scan. With no such `if` in the scan, the set
//!   is judged by its name (`$blocked_ip` bans, `$validate_client` says nothing). Whether a
//!   `geo` value equals the `if` value exactly is not checked: any true value counts.
//! - `include` inside the block is not followed (noted).

use ipnet::IpNet;

use crate::addr::{host_net, parse_ip, parse_net, range_nets};
use crate::event::Tool;
use crate::formats::grammar::webconf::{listed, shown};
use crate::formats::{Format, Sink, Verdict};

/// The variables a `geo` or `map` may look at that hold the connecting address.
const ADDRESS_VARIABLES: &[&[u8]] = &[b"$remote_addr", b"$realip_remote_addr"];

/// The set name of a variable's blocklist.
pub(super) fn set_name(var: &[u8]) -> String {
    format!("nginx {}", String::from_utf8_lossy(var))
}

/// Whether nginx's `if ($var)` takes a value as true.
fn truthy(value: &[u8]) -> bool {
    !value.is_empty() && value != b"0"
}

/// One word of a directive, with its line.
pub(super) type WordRef<'a> = (&'a [u8], u64);

/// An open `geo` or `map` block being read.
#[derive(Debug)]
pub(super) struct List {
    map: bool,
    set: String,
    ranges: bool,
    proxied: bool,
    includes: u64,
    members: Vec<(IpNet, u64)>,
}

impl List {
    /// The list a `geo`/`map` block opens, from the words before its `{`; `None` when it does
    /// not key on the connecting address (or is malformed).
    pub(super) fn open(words: &[WordRef<'_>]) -> Option<List> {
        let (map, var) = match words {
            [(b"geo", _), (var, _)] => (false, *var),
            [(b"geo", _), (source, _), (var, _)] | [(b"map", _), (source, _), (var, _)] => {
                if !ADDRESS_VARIABLES.contains(source) {
                    return None;
                }
                (words[0].0 == b"map", *var)
            }
            _ => return None,
        };
        if !var.starts_with(b"$") || var.len() < 2 {
            return None;
        }
        Some(List {
            map,
            set: set_name(var),
            ranges: false,
            proxied: false,
            includes: 0,
            members: Vec::new(),
        })
    }

    /// One directive inside the block.
    pub(super) fn entry(&mut self, words: &[WordRef<'_>], sink: &mut dyn Sink) {
        let Some(&(key, line)) = words.first() else {
            return;
        };
        match (key, words.len()) {
            (b"default" | b"hostnames" | b"volatile", _) => return,
            (b"ranges", 1) if !self.map => {
                self.ranges = true;
                return;
            }
            (b"proxy" | b"proxy_recursive", _) if !self.map => {
                self.proxied = true;
                return;
            }
            (b"include", _) => {
                self.includes += 1;
                return;
            }
            (b"delete", 2) if !self.map => {
                if let Some(net) = parse_net(words[1].0) {
                    self.members.retain(|(m, _)| *m != net);
                }
                return;
            }
            _ => {}
        }
        let [_, (value, _)] = words else {
            sink.malformed(
                line,
                format!(
                    "nginx {}: an entry of {} words instead of two",
                    self.set,
                    words.len()
                ),
            );
            return;
        };
        if !truthy(value) {
            return;
        }
        let nets = if self.map {
            // Keys are strings: only one that an address prints as can ever match.
            match parse_ip(key) {
                Some(ip) if !key.starts_with(b"~") => vec![host_net(ip)],
                _ => return,
            }
        } else if self.ranges {
            let parsed = memchr::memchr(b'-', key)
                .and_then(|dash| range_nets(parse_ip(&key[..dash])?, parse_ip(&key[dash + 1..])?));
            match parsed {
                Some(nets) => nets,
                None => {
                    sink.malformed(
                        line,
                        format!("nginx geo range that is not a-b: {}", shown(key)),
                    );
                    return;
                }
            }
        } else {
            match parse_net(key) {
                Some(net) => vec![net],
                None => {
                    sink.malformed(
                        line,
                        format!("nginx geo key that is not an address: {}", shown(key)),
                    );
                    return;
                }
            }
        };
        self.members.extend(nets.into_iter().map(|n| (n, line)));
    }

    /// The block has ended: its members become events.
    pub(super) fn close(self, path: &std::sync::Arc<std::path::Path>, sink: &mut dyn Sink) {
        if self.proxied {
            sink.note(format!(
                "{}: geo with proxy (addresses from X-Forwarded-For): not read",
                self.set
            ));
            return;
        }
        if self.includes > 0 {
            sink.note(format!(
                "{}: {} include(s) inside the block not followed",
                self.set, self.includes
            ));
        }
        for (net, line) in self.members {
            sink.event(listed(
                net,
                Tool::NginxDeny,
                Format::NginxGeo,
                self.set.clone(),
                path,
                line,
            ));
        }
    }
}

/// The condition of an `if` on a variable: the set it tests and what refusing then means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Condition {
    set: String,
    verdict: Verdict,
}

impl Condition {
    /// Reads `($VAR)`, `($VAR = V)`, `($VAR != V)` from the words after `if` (nginx lets the
    /// parentheses touch the words or stand apart). Other conditions give `None`.
    pub(super) fn parse(words: &[&[u8]]) -> Option<Condition> {
        let mut text: Vec<u8> = words.join(&b' ');
        text = text.trim_ascii().to_vec();
        let inner = text.strip_prefix(b"(")?.strip_suffix(b")")?.trim_ascii();
        let mut parts = inner
            .split(u8::is_ascii_whitespace)
            .filter(|p| !p.is_empty());
        let var = parts.next()?;
        if !var.starts_with(b"$") || var.len() < 2 {
            return None;
        }
        let op = parts.next();
        // `""` and `''` were words of their own, now empty: no value is the empty string.
        let value = parts.next().map_or(&b""[..], unquote);
        if parts.next().is_some() {
            return None;
        }
        // Whether refusing when the condition holds refuses the listed (true-valued) entries.
        let refuses_members = match op {
            None => true,
            Some(b"=") => truthy(value),
            Some(b"!=") => !truthy(value),
            _ => return None,
        };
        Some(Condition {
            set: set_name(var),
            verdict: if refuses_members {
                Verdict::Drop
            } else {
                Verdict::Accept
            },
        })
    }

    /// Records what an `if` block that refuses requests says of the set.
    pub(super) fn refusing(&self, sink: &mut dyn Sink) {
        sink.set_use(&self.set, self.verdict);
    }
}

/// A value without the quotes nginx lets it have.
fn unquote(v: &[u8]) -> &[u8] {
    for q in [b'"', b'\''] {
        if let Some(inner) = v.strip_prefix(&[q]).and_then(|r| r.strip_suffix(&[q])) {
            return inner;
        }
    }
    v
}

/// Whether `return CODE ...` refuses the request (a code of 400 or more; 444 closes it).
pub(super) fn return_refuses(args: &[&[u8]]) -> bool {
    let Some(code) = args.first() else {
        return false;
    };
    code.len() == 3
        && code.iter().all(u8::is_ascii_digit)
        && std::str::from_utf8(code)
            .ok()
            .and_then(|c| c.parse::<u16>().ok())
            .is_some_and(|c| c >= 400)
}
