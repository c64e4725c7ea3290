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
//!    addresses ([`Cause::Bans`], [`Cause::RealIp`], from a [`Scanner`](crate::Scanner) run);
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

mod firewall_check;
pub(crate) mod firewall_eval;
pub(crate) mod nft_eval;
pub(crate) mod proc;
mod refusal;
mod scan_checks;
pub(crate) mod verdict;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::live::LiveOptions;
use crate::ranges::RangeSet;

pub use firewall_check::{representative, RangeVerdict};
use proc::Listener;
pub use refusal::Refusal;
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
    /// For the firewall check: each Cloudflare address a ban names that the firewall
    /// refuses, with the refusing rule and the lift commands.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<Refusal>,
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
            refused: Vec::new(),
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
    fail2ban_config: Option<PathBuf>,
    /// The ban scan's exclude globs ([`Doctor::exclude`]).
    scan_exclude: crate::scan_paths::Excludes,
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
            fail2ban_config: None,
            scan_exclude: Default::default(),
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
    /// [`Scanner::fail2ban_socket`](crate::Scanner::fail2ban_socket)).
    pub fn fail2ban_socket(mut self, path: impl AsRef<Path>) -> Doctor {
        self.live_options.fail2ban_socket = Some(path.as_ref().to_path_buf());
        self
    }

    /// The ban scan's live read runs `cscli -c PATH` (see [`Scanner::cscli_config`](crate::Scanner::cscli_config)).
    pub fn cscli_config(mut self, path: impl AsRef<Path>) -> Doctor {
        self.live_options.cscli_config = Some(path.as_ref().to_path_buf());
        self
    }

    /// The ban scan reads fail2ban's configuration (jail.conf, jail.local, jail.d) in this
    /// directory (see [`Scanner::fail2ban_config`](crate::Scanner::fail2ban_config)); by
    /// default `/etc/fail2ban` when the default locations are scanned.
    pub fn fail2ban_config(mut self, dir: impl AsRef<Path>) -> Doctor {
        self.fail2ban_config = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Scans these paths for bans instead of the default locations (the live state is read
    /// too, unless the firewall is given saved or [`Doctor::live_firewall`] is off).
    pub fn scan_paths(mut self, paths: Vec<PathBuf>) -> Doctor {
        self.scan = Some(paths);
        self.scan_default = false;
        self
    }

    /// The ban scan leaves out what matches this glob (see
    /// [`Scanner::exclude`](crate::Scanner::exclude)); a malformed pattern is refused.
    pub fn exclude(mut self, pattern: &str) -> Result<Doctor, String> {
        self.scan_exclude.add(pattern)?;
        Ok(self)
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

    /// Whether saved firewall listings were given (they describe their own host: nothing
    /// of the firewall is read live then).
    fn saved_firewall(&self) -> bool {
        self.iptables.is_some()
            || self.ip6tables.is_some()
            || self.ipset.is_some()
            || self.nft.is_some()
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
        let scan = self.run_scan(&firewall);
        let rules = firewall_check::Rules::parse(&firewall);
        let named = refusal::Named::collect(&self.ranges, Some(&scan), &firewall.texts());
        for &port in &self.ports {
            report
                .checks
                .push(self.firewall_check(port, &firewall, &rules, &named));
        }
        if self.scans() {
            self.scan_checks(&scan, &mut report);
        }
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
            refused: Vec::new(),
        }
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
            refused: Vec::new(),
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
            refused: Vec::new(),
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
        refused: Vec::new(),
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
        refused: Vec::new(),
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
