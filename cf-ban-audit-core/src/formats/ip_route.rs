//! `ip route` output (iproute2), where fail2ban's `route` action bans: its
//! `action.d/route.conf` runs `ip route add <blocktype> <ip>` on a ban and `ip route del
//! <blocktype> <ip>` on an unban, `blocktype` being `unreachable` (the default), `blackhole` or
//! `prohibit`. The kernel then drops what the host sends to the address (a `blackhole`
//! silently, the others with an ICMP error), so a Cloudflare edge banned this way never gets an
//! answer (Cloudflare's 522). Such a route carries no owner: fail2ban, an administrator or a
//! routing daemon may have added it, so it is reported as the tool `route` and lifted with
//! `ip route del`; its scope is the route's type, with its table when that is not `main`
//! (`blackhole`, `unreachable table 100`).
//!
//! Lines are read as iproute2's `print_route` (ip/iproute.c) writes them: the type when the
//! route is not unicast, the destination (`default`, an address for a host route, `net/len`
//! otherwise), then attributes (`dev lo`, `table 100`, `proto static`, `metric 1024`, `pref
//! medium`, ...). IPv4 lines end with a space.
//!
//! ```text
//! unreachable 104.16.0.1
//! blackhole 172.64.0.0/24
//! blackhole 2606:4700::6810:2 dev lo metric 1024 pref medium
//! prohibit 104.16.0.3 proto static metric 5
//! local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1
//! ```
//!
//! `ip route show`, `ip route show table all`, `ip -6 route show` and `ip route show type
//! blackhole` (and `-d`) are read alike; only `blackhole`, `unreachable` and `prohibit` routes
//! are bans. A `default` route of those types refuses everything: a policy, not a ban.
//!
//! # Detection
//!
//! A file is `ip route` output when more than half of its first records are route lines:
//! a route type or a destination, then only attributes iproute2 writes, each with its value.
//! A destination without a type needs an attribute (iproute2 writes `dev` for every unicast
//! route), so a plain list of addresses is not taken for routes.

use std::path::Path;
use std::sync::Arc;

use super::grammar::head;
use super::registry::{Detection, FormatDescriptor};
use super::{Format, LineParser, ParseCtx, Sink};
use crate::addr::parse_net;
use crate::event::{Action, BanEvent, Location, Tool};

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// `ip route` / `ip -6 route` output (fail2ban's `route` action: blackhole, unreachable and
    /// prohibit routes).
    pub const IpRoute: Format = Format::builtin(39, "ip-route");
}

/// The `ip route` descriptor.
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::new(
    Format::IpRoute,
    &[Tool::Route],
    "ip route output: blackhole, unreachable and prohibit routes (fail2ban's route action)",
    |ctx| Box::new(IpRouteParser::new(ctx)),
)
.detected_by(&[Detection::text(285, |_, head| detect(head))]);

/// Route types as iproute2 names them (lib/rt_names.c `rtnl_rtntype_n2a`).
const TYPES: &[&[u8]] = &[
    b"unicast",
    b"local",
    b"broadcast",
    b"anycast",
    b"multicast",
    b"blackhole",
    b"unreachable",
    b"prohibit",
    b"throw",
    b"nat",
    b"xresolve",
];

/// The route types that refuse traffic to their destination: fail2ban's `blocktype`s.
const BAN_TYPES: &[&[u8]] = &[b"blackhole", b"unreachable", b"prohibit"];

/// Attributes that `print_route` writes with one value after them.
const KEYED: &[&[u8]] = &[
    b"from",
    b"via",
    b"dev",
    b"table",
    b"proto",
    b"scope",
    b"src",
    b"metric",
    b"pref",
    b"tos",
    b"expires",
    b"mtu",
    b"advmss",
    b"error",
    b"realm",
    b"realms",
    b"hoplimit",
    b"initcwnd",
    b"initrwnd",
    b"rtt",
    b"rttvar",
    b"rto_min",
    b"window",
    b"cwnd",
    b"ssthresh",
    b"reordering",
    b"features",
    b"quickack",
    b"congctl",
    b"fastopen_no_cookie",
    b"nhid",
    b"iif",
    b"ttl-propagate",
    b"encap",
    b"id",
    b"mark",
    b"uid",
    b"ipproto",
    b"sport",
    b"dport",
    b"age",
    b"used",
    b"users",
];

/// Attributes that `print_route` writes alone.
const FLAGS: &[&[u8]] = &[
    b"linkdown",
    b"onlink",
    b"pervasive",
    b"offload",
    b"trap",
    b"rt_offload",
    b"rt_trap",
    b"rt_offload_failed",
    b"notify",
    b"dead",
    b"unresolved",
    b"cache",
];

/// One route line: its type (`None` for unicast, which iproute2 does not name), destination
/// and table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route<'a> {
    /// The type as written (`blackhole`), when written.
    pub kind: Option<&'a [u8]>,
    /// The destination as written (`default`, `104.16.0.1`, `172.64.0.0/24`).
    pub dst: &'a [u8],
    /// The table, when not `main`.
    pub table: Option<&'a [u8]>,
}

/// Reads one line of `ip route` output; `None` for any other line.
pub fn parse_route(line: &[u8]) -> Option<Route<'_>> {
    let mut words = line
        .split(u8::is_ascii_whitespace)
        .filter(|w| !w.is_empty());
    let first = words.next()?;
    let (kind, dst) = if TYPES.contains(&first) {
        (Some(first), words.next()?)
    } else {
        (None, first)
    };
    if dst != b"default" && parse_net(dst).is_none() {
        return None;
    }
    let mut table = None;
    let mut attributes = 0;
    while let Some(word) = words.next() {
        attributes += 1;
        if FLAGS.contains(&word) {
            continue;
        }
        if !KEYED.contains(&word) {
            return None;
        }
        let mut value = words.next()?;
        // `via inet6 fe80::1`: a gateway of the other family names it first.
        if word == b"via" && matches!(value, b"inet" | b"inet6") {
            value = words.next()?;
        }
        if word == b"table" {
            table = Some(value);
        }
    }
    (kind.is_some() || attributes > 0).then_some(Route { kind, dst, table })
}

/// Whether most of the first records of `head` are route lines.
fn detect(head: &[u8]) -> bool {
    let (mut own, mut total) = (0, 0);
    for line in head::record_lines(head) {
        total += 1;
        own += usize::from(parse_route(line).is_some());
    }
    head::mostly(own, total)
}

/// The parser of `ip route` output.
pub struct IpRouteParser {
    path: Arc<Path>,
}

impl IpRouteParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        IpRouteParser {
            path: ctx.path.clone(),
        }
    }
}

impl LineParser for IpRouteParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        // Continuation lines (`nexthop via ...` of a multipath route) are indented.
        if line.starts_with(b" ") || line.starts_with(b"\t") || line.trim_ascii().is_empty() {
            return;
        }
        let Some(route) = parse_route(line) else {
            sink.malformed(
                lineno,
                format!(
                    "{}:{lineno}: not a route line: {}",
                    self.path.display(),
                    super::quote(line.trim_ascii())
                ),
            );
            return;
        };
        let Some(kind) = route.kind.filter(|k| BAN_TYPES.contains(k)) else {
            return;
        };
        // `blackhole default`: every destination, a policy rather than a ban.
        let Some(net) = parse_net(route.dst).filter(|n| n.prefix_len() > 0) else {
            return;
        };
        let mut scope = String::from_utf8_lossy(kind).into_owned();
        if let Some(table) = route.table.filter(|t| *t != b"main") {
            scope.push_str(" table ");
            scope.push_str(&String::from_utf8_lossy(table));
        }
        sink.event(BanEvent::new(
            net,
            Tool::Route,
            Format::IpRoute,
            scope,
            Action::Listed,
            Location::new(self.path.clone(), lineno),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_support::run_lines;

    /// (address, scope) of every event.
    fn found(text: &str) -> Vec<(String, String)> {
        run_lines(Format::IpRoute, "ip-route.txt", text)
            .events
            .iter()
            .map(|e| (crate::addr::display_net(&e.net), e.scope.clone()))
            .collect()
    }

    #[test]
    fn what_fail2ban_route_action_leaves() {
        // Real output of iproute2 6.1 after fail2ban 1.0.2's route action (fixtures/route).
        let got = found(
            "unreachable 104.16.0.1 \nprohibit 104.16.0.3 \nblackhole 172.64.0.0/24 \n\
             unreachable 2606:4700::6810:1 dev lo metric 1024 pref medium\n\
             unreachable 104.16.0.2 table 100 \n\
             local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 \n\
             throw 104.16.0.9 \n104.16.1.0/24 via 192.0.2.1 dev eth0 \n",
        );
        let want = [
            ("104.16.0.1", "unreachable"),
            ("104.16.0.3", "prohibit"),
            ("172.64.0.0/24", "blackhole"),
            ("2606:4700::6810:1", "unreachable"),
            ("104.16.0.2", "unreachable table 100"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, s)| (a.to_string(), s.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn defaults_and_other_lines_are_no_bans() {
        let c = run_lines(
            Format::IpRoute,
            "ip-route.txt",
            "blackhole default table 200 \nunreachable default dev lo metric 4294967295 pref medium\n\
             default via 192.0.2.1 dev eth0 \n\tnexthop via 192.0.2.2 dev eth1 weight 1\n\
             blackhole 104.16.0.1 # by hand\n",
        );
        assert!(c.events.is_empty(), "{:?}", c.events);
        assert_eq!(c.malformed.len(), 1);
    }

    #[test]
    fn detection_needs_route_lines() {
        assert!(detect(b"blackhole 172.64.0.0/24 \n"));
        assert!(detect(
            b"default via 192.0.2.1 dev eth0 proto dhcp src 192.0.2.10 metric 100 \n\
              unreachable 104.16.0.1 \n"
        ));
        // A plain list of addresses, a log, a hosts.deny.
        assert!(!detect(b"104.16.0.1\n172.64.0.0/24\n"));
        assert!(!detect(b"blackhole 104.16.0.1 was added by hand\n"));
        assert!(!detect(b"ALL: 104.16.0.1\n"));
        assert!(!detect(
            b"Nov 24 03:06:43 vm kernel: blackhole 104.16.0.1\nunreachable 104.16.0.2\nx y\n"
        ));
    }
}
