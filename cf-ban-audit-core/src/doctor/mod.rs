//! `doctor`: every cause of a Cloudflare 521 that the origin can see, as one checklist.
//!
//! A 521 ("web server is down") means Cloudflare could not open a TCP connection to the
//! origin. Seen from the origin that has five causes, each a [`Check`] with a [`Status`], the
//! evidence read and the fix:
//!
//! 1. the web server is not running ([`Cause::WebServer`], from `/proc/*/comm`);
//! 2. nothing listens on the port, or only on loopback, or only on IPv6
//!    ([`Cause::Listener`], from `/proc/net/tcp{,6}` or a saved `ss -lnt`; the owning process
//!    from the socket inode in `/proc/PID/fd`);
//! 3. the host firewall drops or rejects Cloudflare ([`Cause::Firewall`]): the rules of
//!    iptables/ip6tables (with ipset members) and nftables are evaluated for a new TCP
//!    connection from the first usable address of each Cloudflare range
//!    (the iptables and nftables evaluators); what the evaluator cannot decide is `UNKNOWN`;
//! 4. a security tool banned Cloudflare edges, or the web server does not restore visitor
//!    addresses ([`Cause::Bans`], [`Cause::RealIp`], from a [`Scanner`] run);
//! 5. the server ran out of resources ([`Cause::OpenFiles`], [`Cause::ListenQueue`],
//!    [`Cause::Memory`]): warnings with numbers.
//!
//! Everything is read from a proc root (default `/proc`) and from saved inputs when given, so
//! a [`Doctor`] runs as well on fixtures as on the live host. Without root it says what it
//! could not read ([`DoctorReport::unreadable`]).
//!
//! ```
//! use cf_ban_audit_core::doctor::{Cause, Doctor, Status};
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::create_dir_all(dir.path().join("net")).unwrap();
//! std::fs::write(dir.path().join("net/tcp"), "  sl  local_address rem_address   st\n").unwrap();
//! let report = Doctor::new()
//!     .proc_root(dir.path())
//!     .ports(&[443])
//!     .live_firewall(false)
//!     .saved_iptables("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n")
//!     .no_scan()
//!     .run();
//! let listener = report.checks.iter().find(|c| c.cause == Cause::Listener).unwrap();
//! assert_eq!(listener.status, Status::Fail);
//! assert_eq!(report.worst(), Status::Fail);
//! ```

pub(crate) mod firewall_eval;
pub(crate) mod nft_eval;
pub(crate) mod proc;
pub(crate) mod verdict;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Serialize;

use crate::live::{self, LiveOptions, LiveOutput, LiveSource, UserOption};
use crate::ranges::RangeSet;
use crate::report::DiagnosisKind;
use crate::scan::Scanner;
use crate::Format;

use firewall_eval::{Ipsets, IptablesRuleset};
use nft_eval::NftRuleset;
use proc::Listener;
pub use verdict::{Decision, Probe, Verdict};

/// The version of the JSON document.
pub const DOCTOR_VERSION: u32 = 1;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Status {
    /// Not a cause.
    Ok,
    /// Could not be decided (not readable, or beyond the evaluator).
    Unknown,
    /// Worth a look; may be a cause under load.
    Warn,
    /// A cause of 521s.
    Fail,
}

impl Status {
    /// `OK`, `WARN`, `FAIL` or `UNKNOWN`, as the checklist shows it.
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Unknown => "UNKNOWN",
        }
    }
}

/// What a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Cause {
    /// A web server process is running.
    WebServer,
    /// Something listens on the port, reachable from outside.
    Listener,
    /// The host firewall lets Cloudflare in on the port.
    Firewall,
    /// No security tool bans Cloudflare.
    Bans,
    /// The web server restores visitor addresses.
    RealIp,
    /// Web server processes have file descriptors left.
    OpenFiles,
    /// The accept queues have not overflowed.
    ListenQueue,
    /// Memory is available.
    Memory,
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Check {
    /// What it is about.
    pub cause: Cause,
    /// The port, for per-port checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// A short title (`listener on port 443`).
    pub title: String,
    /// The outcome.
    pub status: Status,
    /// What was seen.
    pub evidence: Vec<String>,
    /// What to do (empty when there is nothing to do).
    pub fix: String,
}

/// The result of a doctor run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DoctorReport {
    /// [`DOCTOR_VERSION`].
    pub version: u32,
    /// The host's name, when readable.
    pub host: Option<String>,
    /// The ports checked.
    pub ports: Vec<u16>,
    /// The ranges used.
    pub ranges: String,
    /// The checklist, in cause order.
    pub checks: Vec<Check>,
    /// What could not be read (run as root to read it).
    pub unreadable: Vec<String>,
    /// Errors that stopped a check from running at all.
    pub errors: Vec<String>,
}

impl Check {
    /// A check of `cause` titled `title` with outcome `status`: for no port, with no evidence
    /// and nothing to do (set those fields after).
    pub fn new(cause: Cause, title: impl Into<String>, status: Status) -> Check {
        Check {
            cause,
            port: None,
            title: title.into(),
            status,
            evidence: Vec::new(),
            fix: String::new(),
        }
    }
}

impl DoctorReport {
    /// An empty report ([`DOCTOR_VERSION`], no host) of `ports` checked against the ranges
    /// from `ranges`: no checks, nothing unreadable, no errors.
    pub fn new(ports: Vec<u16>, ranges: impl Into<String>) -> DoctorReport {
        DoctorReport {
            version: DOCTOR_VERSION,
            host: None,
            ports,
            ranges: ranges.into(),
            checks: Vec::new(),
            unreadable: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// The worst status of any check (`Fail` > `Warn` > `Unknown` > `Ok`).
    pub fn worst(&self) -> Status {
        self.checks
            .iter()
            .map(|c| c.status)
            .max()
            .unwrap_or(Status::Ok)
    }
}

/// Web server process names (`/proc/PID/comm`) and the command that tests each one's
/// configuration.
pub const WEB_SERVERS: &[(&str, &str)] = &[
    ("nginx", "nginx -t"),
    ("apache2", "apache2ctl -t"),
    ("httpd", "apachectl -t"),
    ("caddy", "caddy validate --config /etc/caddy/Caddyfile"),
    ("litespeed", "/usr/local/lsws/bin/lswsctrl status"),
    ("lshttpd", "/usr/local/lsws/bin/lswsctrl status"),
    ("openlitespeed", "/usr/local/lsws/bin/lswsctrl status"),
    ("haproxy", "haproxy -c -f /etc/haproxy/haproxy.cfg"),
    ("envoy", "envoy --mode validate -c /etc/envoy/envoy.yaml"),
    ("lighttpd", "lighttpd -tt -f /etc/lighttpd/lighttpd.conf"),
    ("traefik", "traefik healthcheck"),
    ("h2o", "h2o -t -c /etc/h2o/h2o.conf"),
];

/// Where the rules come from.
#[derive(Debug, Clone)]
enum Input {
    /// Text, and where it came from (`saved`, `live: iptables-save`).
    Text(String, String),
    /// The program is not installed: no rules of that kind.
    Absent(String),
    /// Could not be read: why.
    Failed(String),
}

/// Configures and runs the checks.
#[derive(Debug, Clone)]
pub struct Doctor {
    proc_root: PathBuf,
    net_pid: Option<u32>,
    ports: Vec<u16>,
    ranges: RangeSet,
    ranges_source: String,
    ss: Option<String>,
    iptables: Option<String>,
    ip6tables: Option<String>,
    ipset: Option<String>,
    nft: Option<String>,
    live_firewall: bool,
    live_options: LiveOptions,
    scan: Option<Vec<PathBuf>>,
    scan_default: bool,
    interface: Option<String>,
    destination: Option<IpAddr>,
}

impl Default for Doctor {
    fn default() -> Self {
        Doctor::new()
    }
}

impl Doctor {
    /// Checks `/proc`, ports 80 and 443, the embedded Cloudflare ranges, the live firewall,
    /// and the bans found by scanning the default locations.
    pub fn new() -> Doctor {
        Doctor {
            proc_root: PathBuf::from("/proc"),
            net_pid: None,
            ports: vec![80, 443],
            ranges: crate::cloudflare::embedded(),
            ranges_source: crate::cloudflare::embedded_source(),
            ss: None,
            iptables: None,
            ip6tables: None,
            ipset: None,
            nft: None,
            live_firewall: true,
            live_options: LiveOptions::default(),
            scan: None,
            scan_default: true,
            interface: None,
            destination: None,
        }
    }

    /// Reads processes and network tables under `root` instead of `/proc`.
    pub fn proc_root(mut self, root: impl AsRef<Path>) -> Doctor {
        self.proc_root = root.as_ref().to_path_buf();
        self
    }

    /// Reads the network tables (`net/tcp`, `net/netstat`, `net/route`) of process `pid`'s
    /// network namespace (`ROOT/PID/net`) instead of `ROOT/net`.
    pub fn net_pid(mut self, pid: u32) -> Doctor {
        self.net_pid = Some(pid);
        self
    }

    /// The ports to check (default 80 and 443).
    pub fn ports(mut self, ports: &[u16]) -> Doctor {
        self.ports = ports.to_vec();
        self
    }

    /// The ranges whose traffic must get through, and their description.
    pub fn ranges(mut self, ranges: RangeSet, source: impl Into<String>) -> Doctor {
        self.ranges = ranges;
        self.ranges_source = source.into();
        self
    }

    /// Uses a saved `ss -lnt` (or `ss -lntp`) listing instead of `net/tcp{,6}`.
    pub fn saved_ss(mut self, text: impl Into<String>) -> Doctor {
        self.ss = Some(text.into());
        self
    }

    /// Uses saved `iptables-save` output. Any saved firewall input turns the live reading off
    /// (the saved files describe their own host); missing kinds count as no rules.
    pub fn saved_iptables(mut self, text: impl Into<String>) -> Doctor {
        self.iptables = Some(text.into());
        self
    }

    /// Uses saved `ip6tables-save` output.
    pub fn saved_ip6tables(mut self, text: impl Into<String>) -> Doctor {
        self.ip6tables = Some(text.into());
        self
    }

    /// Uses saved `ipset save` output.
    pub fn saved_ipset(mut self, text: impl Into<String>) -> Doctor {
        self.ipset = Some(text.into());
        self
    }

    /// Uses a saved `nft list ruleset`.
    pub fn saved_nft(mut self, text: impl Into<String>) -> Doctor {
        self.nft = Some(text.into());
        self
    }

    /// Whether to run `iptables-save`, `ip6tables-save`, `ipset save` and `nft list ruleset`
    /// when no saved firewall input is given (default: yes). Off, a kind not given counts as
    /// no rules.
    pub fn live_firewall(mut self, yes: bool) -> Doctor {
        self.live_firewall = yes;
        self
    }

    /// The ban scan's live read asks the fail2ban server at this socket (see
    /// [`Scanner::fail2ban_socket`]).
    pub fn fail2ban_socket(mut self, path: impl AsRef<Path>) -> Doctor {
        self.live_options.fail2ban_socket = Some(path.as_ref().to_path_buf());
        self
    }

    /// The ban scan's live read runs `cscli -c PATH` (see [`Scanner::cscli_config`]).
    pub fn cscli_config(mut self, path: impl AsRef<Path>) -> Doctor {
        self.live_options.cscli_config = Some(path.as_ref().to_path_buf());
        self
    }

    /// Scans these paths for bans instead of the default locations.
    pub fn scan_paths(mut self, paths: Vec<PathBuf>) -> Doctor {
        self.scan = Some(paths);
        self.scan_default = false;
        self
    }

    /// Skips the bans and real-IP checks.
    pub fn no_scan(mut self) -> Doctor {
        self.scan = None;
        self.scan_default = false;
        self
    }

    /// The interface Cloudflare's packets arrive on (default: the default route's).
    pub fn interface(mut self, name: impl Into<String>) -> Doctor {
        self.interface = Some(name.into());
        self
    }

    /// The address Cloudflare connects to (default: unknown; `-d`/`daddr` rules that depend
    /// on it stay undecided).
    pub fn destination(mut self, addr: IpAddr) -> Doctor {
        self.destination = Some(addr);
        self
    }

    fn net_dir(&self) -> PathBuf {
        proc::net_dir(&self.proc_root, self.net_pid)
    }

    /// Runs every check.
    pub fn run(&self) -> DoctorReport {
        let mut report = DoctorReport {
            version: DOCTOR_VERSION,
            host: std::fs::read_to_string(self.proc_root.join("sys/kernel/hostname"))
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            ports: self.ports.clone(),
            ranges: self.ranges_source.clone(),
            checks: Vec::new(),
            unreadable: Vec::new(),
            errors: Vec::new(),
        };
        let processes = match proc::processes(&self.proc_root) {
            Ok(p) => p,
            Err(e) => {
                report
                    .errors
                    .push(format!("{}: {e}", self.proc_root.display()));
                Vec::new()
            }
        };
        // Socket inode → owner, and the open-file counts of every process we could read.
        let mut owners: HashMap<u64, (u32, String)> = HashMap::new();
        let mut fd_counts: HashMap<u32, Result<u64, String>> = HashMap::new();
        let mut fd_denied = 0usize;
        for p in &processes {
            match proc::fds(&self.proc_root, p.pid) {
                Ok(fds) => {
                    for inode in fds.sockets {
                        owners.entry(inode).or_insert((p.pid, p.comm.clone()));
                    }
                    fd_counts.insert(p.pid, Ok(fds.count));
                }
                Err(e) => {
                    if e.kind() == std::io::ErrorKind::PermissionDenied {
                        fd_denied += 1;
                    }
                    fd_counts.insert(p.pid, Err(e.to_string()));
                }
            }
        }
        if fd_denied > 0 {
            report.unreadable.push(format!(
                "the open files of {fd_denied} processes ({}/PID/fd: permission denied)",
                self.proc_root.display()
            ));
        }
        let listeners = self.listeners(&owners, &mut report);
        let servers: Vec<&proc::Process> = processes
            .iter()
            .filter(|p| WEB_SERVERS.iter().any(|(n, _)| *n == p.comm))
            .collect();
        report
            .checks
            .push(web_server_check(&servers, &listeners, &self.ports));
        for &port in &self.ports {
            report.checks.push(self.listener_check(port, &listeners));
        }
        let firewall = self.firewall_inputs(&mut report.unreadable);
        for &port in &self.ports {
            report.checks.push(self.firewall_check(port, &firewall));
        }
        self.scan_checks(&mut report);
        report.checks.push(open_files_check(
            &self.proc_root,
            &servers,
            &listeners,
            &processes,
            &fd_counts,
        ));
        report
            .checks
            .push(self.listen_queue_check(&listeners, &mut report.unreadable));
        report
            .checks
            .push(self.memory_check(&mut report.unreadable));
        report
    }

    fn listeners(
        &self,
        owners: &HashMap<u64, (u32, String)>,
        report: &mut DoctorReport,
    ) -> Vec<Listener> {
        let mut listeners = match &self.ss {
            Some(text) => proc::parse_ss(text),
            None => {
                let (l, errors) = proc::listeners(&self.net_dir());
                report.errors.extend(errors);
                l
            }
        };
        for l in &mut listeners {
            if l.owner.is_none() && l.inode != 0 {
                l.owner = owners.get(&l.inode).cloned();
            }
        }
        listeners
    }

    fn listener_check(&self, port: u16, all: &[Listener]) -> Check {
        let on: Vec<&Listener> = all.iter().filter(|l| l.local.port() == port).collect();
        let title = format!("listener on port {port}");
        let mut evidence: Vec<String> = on.iter().map(|l| describe_listener(l)).collect();
        let loopback = |ip: IpAddr| {
            ip.is_loopback()
                || matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()))
        };
        let reaches_v4 = on.iter().any(|l| match l.local.ip() {
            IpAddr::V4(v4) => !v4.is_loopback(),
            IpAddr::V6(v6) => {
                v6.to_ipv4_mapped().is_some_and(|v4| !v4.is_loopback())
                    || (v6.is_unspecified() && l.v6only == Some(false))
            }
        });
        let public: Vec<&&Listener> = on.iter().filter(|l| !loopback(l.local.ip())).collect();
        let listen_fix = "Make the web server listen on the public addresses, not only on loopback: nginx \
             `listen 443 ssl;` and `listen [::]:443 ssl;` (not `listen 127.0.0.1:443`), Apache \
             `Listen 443`; then test the configuration (`nginx -t`, `apache2ctl -t`) and reload it.";
        let (status, fix) = if on.is_empty() {
            evidence.push(format!("nothing listens on TCP port {port}"));
            (
                Status::Fail,
                format!(
                    "Start the web server or make it listen on port {port} (nginx `listen {port};`, Apache \
                     `Listen {port}`); test the configuration first (`nginx -t`, `apache2ctl -t`). If the \
                     site does not use port {port}, set Cloudflare's SSL/TLS mode (or an Origin Rule) to \
                     the port it does use."
                ),
            )
        } else if public.is_empty() {
            evidence
                .push("every listener is on a loopback address: Cloudflare cannot reach it".into());
            (Status::Fail, listen_fix.to_string())
        } else if !reaches_v4 {
            let dual_unknown = public
                .iter()
                .any(|l| l.local.ip().is_unspecified() && l.v6only.is_none());
            let v6_fix = format!(
                "Cloudflare connects to the origin's A record over IPv4: add an IPv4 listener (nginx \
                 `listen {port};` beside `listen [::]:{port};`, or `listen [::]:{port} ipv6only=off;`)."
            );
            if dual_unknown {
                let sysctl =
                    std::fs::read_to_string(self.proc_root.join("sys/net/ipv6/bindv6only"))
                        .map(|s| format!("net.ipv6.bindv6only = {}", s.trim()))
                        .unwrap_or_else(|_| "net.ipv6.bindv6only unknown".into());
                evidence.push(format!(
                    "only an IPv6 wildcard socket: it takes IPv4 too only if it is dual-stack (IPV6_V6ONLY off; {sysctl}; nginx sets ipv6only=on); `ss -lnt` shows `*:{port}` for dual-stack, `[::]:{port}` for IPv6-only"
                ));
                (Status::Warn, v6_fix)
            } else {
                evidence.push("IPv6 only: nothing takes IPv4 connections on this port".into());
                (Status::Fail, v6_fix)
            }
        } else {
            (Status::Ok, String::new())
        };
        Check {
            cause: Cause::Listener,
            port: Some(port),
            title,
            status,
            evidence,
            fix,
        }
    }

    fn firewall_inputs(&self, unreadable: &mut Vec<String>) -> FirewallInputs {
        let saved = self.iptables.is_some()
            || self.ip6tables.is_some()
            || self.ipset.is_some()
            || self.nft.is_some();
        let get = |text: &Option<String>,
                   program: &'static str,
                   args: &'static [&'static str],
                   format: Format|
         -> Input {
            if let Some(t) = text {
                return Input::Text(
                    t.clone(),
                    format!("saved {program} {}", args.join(" "))
                        .trim_end()
                        .to_string(),
                );
            }
            if saved || !self.live_firewall {
                return Input::Absent(format!("{program}: not given"));
            }
            let source = LiveSource {
                program,
                args,
                option: UserOption::None,
                format,
            };
            let options = LiveOptions::default();
            match live::run(&source, &options) {
                LiveOutput::Output(out) => Input::Text(
                    String::from_utf8_lossy(&out).into_owned(),
                    source.label(&options),
                ),
                LiveOutput::Absent => Input::Absent(format!("{program}: not installed")),
                LiveOutput::Failed(e) => Input::Failed(format!("{}: {e}", source.label(&options))),
            }
        };
        let inputs = FirewallInputs {
            v4: get(&self.iptables, "iptables-save", &[], Format::IptablesSave),
            v6: get(&self.ip6tables, "ip6tables-save", &[], Format::IptablesSave),
            ipset: get(&self.ipset, "ipset", &["save"], Format::Ipset),
            nft: get(&self.nft, "nft", &["list", "ruleset"], Format::NftRuleset),
        };
        for i in [&inputs.v4, &inputs.v6, &inputs.ipset, &inputs.nft] {
            if let Input::Failed(e) = i {
                unreadable.push(e.clone());
            }
        }
        inputs
    }

    /// The firewall's decision for a new TCP connection to `port` from the representative
    /// address of each range (see [`representative`]), reading the firewall the way
    /// [`Doctor::run`] does (saved inputs, or the live commands).
    pub fn firewall_verdicts(&self, port: u16) -> Vec<RangeVerdict> {
        let fw = self.firewall_inputs(&mut Vec::new());
        self.decisions(port, &fw)
    }

    fn interface_in_use(&self) -> Option<String> {
        self.interface
            .clone()
            .or_else(|| proc::default_route_interface(&self.net_dir()))
    }

    fn decisions(&self, port: u16, fw: &FirewallInputs) -> Vec<RangeVerdict> {
        let interface = self.interface_in_use();
        let v4 = parse_iptables(&fw.v4);
        let v6 = parse_iptables(&fw.v6);
        let ipsets = match &fw.ipset {
            Input::Text(t, _) => Some(Ipsets::parse(t)),
            Input::Absent(_) => Some(Ipsets::default()),
            Input::Failed(_) => None,
        };
        let nft = match &fw.nft {
            Input::Text(t, _) => Ok(Some(NftRuleset::parse(t))),
            Input::Absent(_) => Ok(None),
            Input::Failed(e) => Err(e.clone()),
        };
        // Tables that iptables-nft manages show in both listings: evaluate them once.
        let mut skip = Vec::new();
        for (family, rs) in [("ip", &v4), ("ip6", &v6)] {
            if let Ok(Some(rs)) = rs {
                if rs.nf_tables {
                    skip.extend(rs.tables.keys().map(|t| (family.to_string(), t.clone())));
                }
            }
        }
        let mut out = Vec::new();
        for net in self.ranges.nets() {
            let probe = Probe {
                source: representative(net),
                port,
                interface: interface.clone(),
                destination: self.destination,
            };
            let mut layers = Vec::new();
            let ipt = if probe.source.is_ipv4() { &v4 } else { &v6 };
            match ipt {
                Ok(Some(rs)) => layers.extend(rs.layers(&probe, ipsets.as_ref())),
                Ok(None) => {}
                Err(e) => layers.push(unknown_layer(e)),
            }
            match &nft {
                Ok(Some(rs)) => layers.extend(rs.layers(&probe, &skip)),
                Ok(None) => {}
                Err(e) => layers.push(unknown_layer(e)),
            }
            out.push(RangeVerdict {
                range: *net,
                probe: probe.source,
                decision: verdict::decide(layers),
            });
        }
        out
    }

    fn firewall_check(&self, port: u16, fw: &FirewallInputs) -> Check {
        let title = format!("firewall on port {port}");
        let interface = self.interface_in_use();
        let mut evidence = vec![format!(
            "probe: a new TCP connection (SYN, conntrack NEW) to port {port} from the first usable address of each range ({}), arriving on {}",
            self.ranges.nets().first().map(|n| format!("{} for {n}", representative(n))).unwrap_or_default(),
            interface.as_deref().map(|i| format!("{i} (the default route's interface)")).unwrap_or_else(|| "an unknown interface".into()),
        )];
        let read: Vec<String> = [&fw.v4, &fw.v6, &fw.ipset, &fw.nft]
            .iter()
            .map(|i| match i {
                Input::Text(_, src) => format!("{src}: read"),
                Input::Absent(why) => why.clone(),
                Input::Failed(why) => format!("{why} (not read)"),
            })
            .collect();
        evidence.push(format!("rules: {}", read.join("; ")));
        let mut groups: BTreeMap<(Verdict, String), Vec<IpNet>> = BTreeMap::new();
        for rv in self.decisions(port, fw) {
            groups
                .entry((rv.decision.verdict, rv.decision.by))
                .or_default()
                .push(rv.range);
        }
        let mut status = Status::Ok;
        let mut deciding: Vec<String> = Vec::new();
        for ((verdict, by), nets) in &groups {
            let list: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
            evidence.push(format!(
                "{} for {} range(s) ({}): {by}",
                verdict.name(),
                nets.len(),
                list.join(", ")
            ));
            match verdict {
                Verdict::Drop | Verdict::Reject => {
                    status = Status::Fail;
                    deciding.push(by.clone());
                }
                Verdict::Unknown if status == Status::Ok => status = Status::Unknown,
                _ => {}
            }
        }
        let fix = match status {
            Status::Fail => firewall_fix(port, &deciding),
            Status::Unknown => "Read the rules named above by hand (or run as root so that the firewall can be read): \
                 they decide whether Cloudflare gets through."
                .to_string(),
            _ => String::new(),
        };
        Check {
            cause: Cause::Firewall,
            port: Some(port),
            title,
            status,
            evidence,
            fix,
        }
    }

    fn scan_checks(&self, report: &mut DoctorReport) {
        let paths = match (&self.scan, self.scan_default) {
            (Some(p), _) => p.clone(),
            (None, true) => crate::scan::existing_default_paths(),
            (None, false) => return,
        };
        let mut scanner =
            Scanner::new(self.ranges.clone()).ranges_source(self.ranges_source.clone());
        for p in &paths {
            scanner = scanner.path(p);
        }
        if self.scan_default && self.live_firewall {
            scanner = scanner.live(true);
            if let Some(socket) = &self.live_options.fail2ban_socket {
                scanner = scanner.fail2ban_socket(socket);
            }
            if let Some(config) = &self.live_options.cscli_config {
                scanner = scanner.cscli_config(config);
            }
        }
        let scan = scanner.scan();
        let mut unreadable: Vec<String> = scan.errors.iter().map(|e| e.message.clone()).collect();
        let active: Vec<&crate::Finding> = scan.findings.iter().filter(|f| f.active).collect();
        // Possibly in force: a ban no current source confirms and whose length nothing says.
        let unconfirmed: Vec<&crate::Finding> = scan
            .findings
            .iter()
            .filter(|f| f.state == crate::BanState::Unconfirmed)
            .collect();
        // CrowdSec captcha decisions in force: a ban where the bouncer has no captcha.
        let challenges: Vec<&crate::Finding> = scan
            .findings
            .iter()
            .filter(|f| f.state == crate::BanState::Challenge)
            .collect();
        let past = scan.findings.len() - active.len() - unconfirmed.len() - challenges.len();
        let describe = |f: &&crate::Finding| {
            let at = f
                .locations
                .last()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            let why = f
                .note
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default();
            format!(
                "{} {} bans {} (Cloudflare {}){at}, {}{why}",
                f.tool,
                f.scope,
                f.address_text(),
                f.range,
                f.state
            )
        };
        let mut evidence: Vec<String> = active.iter().take(12).map(describe).collect();
        if active.len() > 12 {
            evidence.push(format!("... and {} more bans in force", active.len() - 12));
        }
        evidence.extend(unconfirmed.iter().take(6).map(describe));
        if unconfirmed.len() > 6 {
            evidence.push(format!(
                "... and {} more bans possibly in force",
                unconfirmed.len() - 6
            ));
        }
        evidence.extend(challenges.iter().take(6).map(describe));
        if challenges.len() > 6 {
            evidence.push(format!(
                "... and {} more challenges in force",
                challenges.len() - 6
            ));
        }
        evidence.push(format!(
            "{} files read; {} bans of Cloudflare addresses in force, {} unconfirmed (possibly \
             in force), {past} past; {} challenges in force",
            scan.files.len(),
            active.len(),
            unconfirmed.len(),
            challenges.len()
        ));
        let status = if !active.is_empty() {
            Status::Fail
        } else if !unconfirmed.is_empty()
            || !challenges.is_empty()
            || past > 0
            || !unreadable.is_empty()
        {
            Status::Warn
        } else {
            Status::Ok
        };
        if !unreadable.is_empty() {
            evidence.push(format!(
                "{} paths could not be read (see unreadable)",
                unreadable.len()
            ));
        }
        let fix = if status == Status::Ok {
            String::new()
        } else {
            let mut tools: Vec<String> = scan.findings.iter().map(|f| f.tool.to_string()).collect();
            tools.sort();
            tools.dedup();
            format!(
                "Lift the bans and keep them from coming back: add Cloudflare's ranges to each tool's \
                 ignore list (`cf-ban-audit snippet fail2ban`, `csf`, `crowdsec`, ...), and unban \
                 (fail2ban: `fail2ban-client unban ADDRESS`). `cf-ban-audit scan --active` lists every \
                 ban{}.",
                if tools.is_empty() { String::new() } else { format!("; tools involved: {}", tools.join(", ")) }
            )
        };
        report.checks.push(Check {
            cause: Cause::Bans,
            port: None,
            title: "bans of Cloudflare addresses".into(),
            status,
            evidence,
            fix,
        });
        let mut real = Check {
            cause: Cause::RealIp,
            port: None,
            title: "visitor addresses restored".into(),
            status: Status::Ok,
            evidence: vec!["no web-layer record of a Cloudflare address acting as a client".into()],
            fix: String::new(),
        };
        let mut fixes = Vec::new();
        for d in &scan.diagnoses {
            match d.kind {
                DiagnosisKind::RealIpNotRestored | DiagnosisKind::FirewallBansIneffective => {
                    real.status = Status::Warn;
                    real.evidence = d.evidence.clone();
                    fixes.push(d.fix.clone());
                }
                DiagnosisKind::RealIpRestored if real.status == Status::Ok => {
                    real.evidence = d.evidence.clone()
                }
                _ => {}
            }
        }
        real.fix = fixes.join("\n");
        report.checks.push(real);
        report.unreadable.append(&mut unreadable);
    }

    fn listen_queue_check(&self, listeners: &[Listener], unreadable: &mut Vec<String>) -> Check {
        let path = self.net_dir().join("netstat");
        let mut check = Check {
            cause: Cause::ListenQueue,
            port: None,
            title: "listen queues".into(),
            status: Status::Ok,
            evidence: Vec::new(),
            fix: String::new(),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let c = proc::netstat_counters(&text, "TcpExt");
                let overflows = c.get("ListenOverflows").copied().unwrap_or(0);
                let drops = c.get("ListenDrops").copied().unwrap_or(0);
                check.evidence.push(format!(
                    "ListenOverflows {overflows}, ListenDrops {drops} (since boot, {})",
                    path.display()
                ));
                if overflows > 0 || drops > 0 {
                    check.status = Status::Warn;
                    check.fix = "Connections were dropped because an accept queue was full: the web server accepts \
                         too slowly or its backlog is small. Raise the backlog (nginx `listen 443 ssl backlog=4096;`, \
                         sysctl net.core.somaxconn and net.ipv4.tcp_max_syn_backlog), add workers, and watch \
                         whether the counters still grow (`nstat -az TcpExtListenOverflows`)."
                        .into();
                }
            }
            Err(e) => {
                check.status = Status::Unknown;
                check.evidence.push(format!("{}: {e}", path.display()));
                unreadable.push(format!("{}: {e}", path.display()));
            }
        }
        for l in listeners
            .iter()
            .filter(|l| l.queued > 0 && self.ports.contains(&l.local.port()))
        {
            check.evidence.push(format!(
                "{}: {} connections waiting to be accepted",
                l.local, l.queued
            ));
        }
        check
    }

    fn memory_check(&self, unreadable: &mut Vec<String>) -> Check {
        let path = self.proc_root.join("meminfo");
        let mut check = Check {
            cause: Cause::Memory,
            port: None,
            title: "memory".into(),
            status: Status::Ok,
            evidence: Vec::new(),
            fix: String::new(),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let m = proc::meminfo(&text);
                let (Some(&total), Some(&avail)) = (m.get("MemTotal"), m.get("MemAvailable"))
                else {
                    check.status = Status::Unknown;
                    check
                        .evidence
                        .push(format!("{}: no MemTotal/MemAvailable", path.display()));
                    return check;
                };
                let pct = (avail * 100).checked_div(total).unwrap_or(0);
                check.evidence.push(format!(
                    "MemAvailable {} MiB of {} MiB ({pct}%)",
                    avail / 1024,
                    total / 1024
                ));
                if avail * 20 < total || avail < 64 * 1024 {
                    check.status = Status::Warn;
                    check.fix = "Memory is nearly exhausted: the kernel's OOM killer may stop the web server \
                         (`journalctl -k | grep -i oom`). Reduce workers or PHP-FPM children, or add memory or swap."
                        .into();
                }
            }
            Err(e) => {
                check.status = Status::Unknown;
                check.evidence.push(format!("{}: {e}", path.display()));
                unreadable.push(format!("{}: {e}", path.display()));
            }
        }
        check
    }
}

/// The firewall's decision for one range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RangeVerdict {
    /// The range.
    pub range: IpNet,
    /// The address probed for it.
    pub probe: IpAddr,
    /// What the rules do with a new TCP connection from it.
    pub decision: Decision,
}

/// The rule inputs of a firewall check.
#[derive(Debug, Clone)]
struct FirewallInputs {
    v4: Input,
    v6: Input,
    ipset: Input,
    nft: Input,
}

fn parse_iptables(input: &Input) -> Result<Option<IptablesRuleset>, String> {
    match input {
        Input::Text(t, _) => Ok(Some(IptablesRuleset::parse(t))),
        Input::Absent(_) => Ok(None),
        Input::Failed(e) => Err(e.clone()),
    }
}

fn unknown_layer(why: &str) -> verdict::Layer {
    let why = format!("rules not read: {why}");
    verdict::Layer {
        order: (0, i32::MIN),
        paths: vec![verdict::Path {
            end: verdict::End::Unknown(why.clone()),
            by: why,
            assumed: Default::default(),
        }],
    }
}

/// The address a range is probed with: its first usable address (the network address + 1,
/// for networks larger than two addresses).
pub fn representative(net: &IpNet) -> IpAddr {
    match net {
        IpNet::V4(n) if n.prefix_len() < 31 => IpAddr::V4((u32::from(n.network()) + 1).into()),
        IpNet::V6(n) if n.prefix_len() < 127 => IpAddr::V6((u128::from(n.network()) + 1).into()),
        n => n.network(),
    }
}

fn describe_listener(l: &Listener) -> String {
    let mut s = format!("listening on {}", l.local);
    if l.local.ip().is_unspecified() && l.local.is_ipv6() {
        match l.v6only {
            Some(true) => s.push_str(" (IPv6 only)"),
            Some(false) => s.push_str(" (IPv4 and IPv6)"),
            None => {}
        }
    }
    match &l.owner {
        Some((pid, comm)) => s.push_str(&format!(", owned by pid {pid} ({comm})")),
        None if l.inode != 0 => s.push_str(&format!(
            ", socket inode {}, owner not readable (run as root)",
            l.inode
        )),
        None => {}
    }
    s
}

fn web_server_check(servers: &[&proc::Process], listeners: &[Listener], ports: &[u16]) -> Check {
    let mut by_name: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for p in servers {
        by_name.entry(p.comm.as_str()).or_default().push(p.pid);
    }
    let mut evidence: Vec<String> = by_name
        .iter()
        .map(|(name, pids)| {
            let list: Vec<String> = pids.iter().take(8).map(|p| p.to_string()).collect();
            format!(
                "{name} running: {} process(es), pid {}",
                pids.len(),
                list.join(", ")
            )
        })
        .collect();
    // One entry per test command, naming every server it is for.
    let mut tests: Vec<(Vec<&str>, &str)> = Vec::new();
    for (name, test) in WEB_SERVERS
        .iter()
        .filter(|(n, _)| by_name.is_empty() || by_name.contains_key(n))
    {
        match tests.iter_mut().find(|(_, t)| t == test) {
            Some((names, _)) => names.push(name),
            None => tests.push((vec![name], test)),
        }
    }
    let tests: Vec<String> = tests
        .iter()
        .map(|(names, t)| format!("{}: `{t}`", names.join("/")))
        .collect();
    let serving: Vec<&Listener> = listeners
        .iter()
        .filter(|l| ports.contains(&l.local.port()))
        .collect();
    let status = if !by_name.is_empty() {
        Status::Ok
    } else if serving.is_empty() {
        evidence.push(format!(
            "no web server process ({}) and nothing listening on port {}",
            WEB_SERVERS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
            ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join("/")
        ));
        Status::Fail
    } else {
        for l in &serving {
            evidence.push(format!(
                "no known web server process, but {}",
                describe_listener(l)
            ));
        }
        if serving.iter().any(|l| l.owner.is_some()) {
            Status::Ok
        } else {
            Status::Warn
        }
    };
    let fix = match status {
        Status::Fail => format!(
            "Start the web server (`systemctl start nginx`, `apache2`, `httpd`, ...). If it does not start, test \
             its configuration and read its log (`journalctl -u nginx -n 50`): {}.",
            tests.join("; ")
        ),
        _ => format!("To test the configuration after a change: {}.", tests.join("; ")),
    };
    Check {
        cause: Cause::WebServer,
        port: None,
        title: "web server running".into(),
        status,
        evidence,
        fix,
    }
}

fn open_files_check(
    root: &Path,
    servers: &[&proc::Process],
    listeners: &[Listener],
    processes: &[proc::Process],
    fd_counts: &HashMap<u32, Result<u64, String>>,
) -> Check {
    let mut pids: Vec<(u32, String)> = servers.iter().map(|p| (p.pid, p.comm.clone())).collect();
    for l in listeners {
        if let Some((pid, comm)) = &l.owner {
            if !pids.iter().any(|(p, _)| p == pid) && processes.iter().any(|p| p.pid == *pid) {
                pids.push((*pid, comm.clone()));
            }
        }
    }
    let mut check = Check {
        cause: Cause::OpenFiles,
        port: None,
        title: "open files of the web server".into(),
        status: Status::Ok,
        evidence: Vec::new(),
        fix: String::new(),
    };
    if pids.is_empty() {
        check
            .evidence
            .push("no web server process to look at".into());
        return check;
    }
    let mut unknown = 0;
    for (pid, comm) in &pids {
        let limit = std::fs::read_to_string(root.join(pid.to_string()).join("limits"))
            .ok()
            .and_then(|t| proc::max_open_files(&t));
        match (fd_counts.get(pid), limit) {
            (Some(Ok(count)), Some((Some(soft), _))) => {
                let pct = (count * 100).checked_div(soft).unwrap_or(100);
                check.evidence.push(format!(
                    "{comm} pid {pid}: {count} open files of {soft} allowed ({pct}%)"
                ));
                if count * 10 >= soft * 8 {
                    check.status = Status::Warn;
                }
            }
            (Some(Ok(count)), Some((None, _))) => {
                check
                    .evidence
                    .push(format!("{comm} pid {pid}: {count} open files, no limit"));
            }
            (Some(Err(e)), _) => {
                unknown += 1;
                check
                    .evidence
                    .push(format!("{comm} pid {pid}: open files not readable ({e})"));
            }
            (_, None) => {
                unknown += 1;
                check
                    .evidence
                    .push(format!("{comm} pid {pid}: Max open files not readable"));
            }
            (None, _) => unknown += 1,
        }
    }
    if check.status == Status::Ok && unknown == pids.len() {
        check.status = Status::Unknown;
    }
    if check.status == Status::Warn {
        check.fix = "The web server is close to its open-file limit: new connections fail with EMFILE \
             (\"Too many open files\" in its error log). Raise it: nginx `worker_rlimit_nofile 65535;` and \
             `LimitNOFILE=65535` in a systemd override (`systemctl edit nginx`), then restart."
            .into();
    }
    check
}

fn firewall_fix(port: u16, deciding: &[String]) -> String {
    let mut s = format!(
        "Cloudflare's connections to port {port} are stopped by the firewall rule or policy named above. "
    );
    let ban_chain = deciding.iter().any(|b| {
        let l = b.to_ascii_lowercase();
        l.contains("f2b")
            || l.contains("fail2ban")
            || l.contains("crowdsec")
            || l.contains("lfd")
            || l.contains("deny")
    });
    if deciding.iter().any(|b| b.contains("policy")) {
        s.push_str(&format!(
            "Accept Cloudflare on the port before the policy applies: `cf-ban-audit snippet iptables` (rules \
             `iptables -I INPUT -p tcp --dport {port} -s RANGE -j ACCEPT`) or `cf-ban-audit snippet nftables` \
             (a rule `ip saddr @cf4 tcp dport {port} accept` in the chain with the drop policy), and make it \
             persistent (netfilter-persistent save, /etc/nftables.conf). "
        ));
    }
    if deciding.iter().any(|b| !b.contains("policy")) {
        s.push_str(
            "Delete the dropping rule (iptables: the same rule with -D instead of -A, e.g. `iptables -D ...`; \
             nftables: `nft -a list ruleset` for its handle, then `nft delete rule FAMILY TABLE CHAIN handle N`) \
             or accept Cloudflare in a rule before it. In nftables a drop in any base chain is final: an accept \
             elsewhere does not help. ",
        );
    }
    if ban_chain {
        s.push_str("The rule belongs to a ban tool: add Cloudflare's ranges to its ignore list (`cf-ban-audit snippet fail2ban`, `crowdsec`, `csf`) so it does not ban them again.");
    }
    s.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn representatives_are_first_usable_addresses() {
        assert_eq!(
            representative(&"104.16.0.0/13".parse().unwrap()).to_string(),
            "104.16.0.1"
        );
        assert_eq!(
            representative(&"2400:cb00::/32".parse().unwrap()).to_string(),
            "2400:cb00::1"
        );
        assert_eq!(
            representative(&"192.0.2.7/32".parse().unwrap()).to_string(),
            "192.0.2.7"
        );
    }

    #[test]
    fn fixes_name_their_tools() {
        let f = firewall_fix(443, &["policy DROP of filter INPUT".into()]);
        assert!(f.contains("snippet iptables"), "{f}");
        let f = firewall_fix(
            443,
            &["filter f2b-sshd #1: -A f2b-sshd -s 104.16.0.0/13 -j REJECT".into()],
        );
        assert!(f.contains("ignore list"), "{f}");
    }
}
