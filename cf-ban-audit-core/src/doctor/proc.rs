//! Reading `/proc` (or a directory laid out like it): listening TCP sockets
//! (`net/tcp`, `net/tcp6`), processes (`PID/comm`), the sockets and open files of a process
//! (`PID/fd/*` → `socket:[INODE]`), its limits (`PID/limits`), TCP counters (`net/netstat`),
//! memory (`meminfo`) and the default route's interface (`net/route`, `net/ipv6_route`); and a
//! saved `ss -lnt` listing.
//!
//! `net/` is read from `ROOT/PID/net` when a PID is given: it shows the network namespace of
//! that process (a container's, a test's), while processes are read from `ROOT` itself.
//! Addresses in `net/tcp*` are printed by the kernel in host byte order of 32-bit words; they
//! are read back the same way.

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Serialize;

/// A listening TCP socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Listener {
    /// The address and port it is bound to.
    pub local: SocketAddr,
    /// The socket inode (0 when read from `ss`).
    pub inode: u64,
    /// Connections waiting in the accept queue.
    pub queued: u64,
    /// For an IPv6 wildcard: whether it takes only IPv6 (`Some(true)`, `ss` shows `[::]`),
    /// IPv4 too (`Some(false)`, `ss` shows `*`), or unknown (`None`, from `/proc`).
    pub v6only: Option<bool>,
    /// The owning process, when known: (pid, name).
    pub owner: Option<(u32, String)>,
}

/// The socket inode is at field 9 of a `net/tcp` line; the state at field 3.
const LISTEN: &str = "0A";

/// Reads a `net/tcp` or `net/tcp6` table: the sockets in state LISTEN.
pub fn parse_tcp_table(text: &str) -> Vec<Listener> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 || f[3] != LISTEN {
            continue;
        }
        let Some(local) = parse_hex_sockaddr(f[1]) else {
            continue;
        };
        let queued = f[4]
            .split_once(':')
            .and_then(|(_, rx)| u64::from_str_radix(rx, 16).ok())
            .unwrap_or(0);
        let inode = f[9].parse().unwrap_or(0);
        out.push(Listener {
            local,
            inode,
            queued,
            v6only: None,
            owner: None,
        });
    }
    out
}

/// `0100007F:01BB` → 127.0.0.1:443; 32 hex digits for IPv6.
pub fn parse_hex_sockaddr(s: &str) -> Option<SocketAddr> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(
            u32::from_str_radix(addr, 16).ok()?.to_ne_bytes(),
        )),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_mut(4).enumerate() {
                let word = u32::from_str_radix(&addr[i * 8..i * 8 + 8], 16).ok()?;
                chunk.copy_from_slice(&word.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// Reads the listening sockets of a network namespace's `net` directory. Each table that
/// cannot be read gives an error message instead.
pub fn listeners(net_dir: &Path) -> (Vec<Listener>, Vec<String>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for name in ["tcp", "tcp6"] {
        let path = net_dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => out.extend(parse_tcp_table(&text)),
            // No IPv6 in the kernel: no tcp6 table, nothing listens on IPv6.
            Err(e) if name == "tcp6" && e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => errors.push(format!("{}: {e}", path.display())),
        }
    }
    (out, errors)
}

/// Reads a saved `ss -lnt` (or `ss -lntp`) listing.
pub fn parse_ss(text: &str) -> Vec<Listener> {
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        // With a State column (modern ss) or without (old ss -l).
        let (queued, local, rest) = match f.as_slice() {
            [state, rq, _sq, local, _peer, rest @ ..] if *state == "LISTEN" => (rq, local, rest),
            [rq, _sq, local, _peer, rest @ ..] if rq.parse::<u64>().is_ok() => (rq, local, rest),
            _ => continue,
        };
        let Some((host, port)) = local.rsplit_once(':') else {
            continue;
        };
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        let host = host.split('%').next().unwrap_or(host);
        let (ip, v6only) = match host {
            "*" => (IpAddr::V6(Ipv6Addr::UNSPECIFIED), Some(false)),
            "[::]" => (IpAddr::V6(Ipv6Addr::UNSPECIFIED), Some(true)),
            h => {
                let h = h.trim_start_matches('[').trim_end_matches(']');
                let h = h.split('%').next().unwrap_or(h);
                match h.parse::<IpAddr>() {
                    Ok(ip) => (ip, None),
                    Err(_) => continue,
                }
            }
        };
        let owner = rest.iter().find_map(|r| parse_ss_users(r));
        out.push(Listener {
            local: SocketAddr::new(ip, port),
            inode: 0,
            queued: queued.parse().unwrap_or(0),
            v6only,
            owner,
        });
    }
    out
}

/// `users:(("nginx",pid=812,fd=6),...)` → the first (pid, name).
fn parse_ss_users(s: &str) -> Option<(u32, String)> {
    let rest = s.strip_prefix("users:((\"")?;
    let (name, rest) = rest.split_once('"')?;
    let pid = rest.split(',').find_map(|p| p.strip_prefix("pid="))?;
    let pid: String = pid.chars().take_while(|c| c.is_ascii_digit()).collect();
    Some((pid.parse().ok()?, name.to_string()))
}

/// A process: its id and its name (`comm`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Process {
    /// The process id.
    pub pid: u32,
    /// Its name, as in `/proc/PID/comm`.
    pub comm: String,
}

/// Every process under `root` (directories named by a number, with a readable `comm`).
pub fn processes(root: &Path) -> io::Result<Vec<Process>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if let Ok(comm) = std::fs::read_to_string(entry.path().join("comm")) {
            out.push(Process {
                pid,
                comm: comm.trim_end_matches('\n').to_string(),
            });
        }
    }
    out.sort_by_key(|p| p.pid);
    Ok(out)
}

/// The open files of a process: how many, and the inodes of its sockets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fds {
    /// Open file descriptors.
    pub count: u64,
    /// Socket inodes among them.
    pub sockets: Vec<u64>,
}

/// Reads `ROOT/PID/fd` (needs the same user or root).
pub fn fds(root: &Path, pid: u32) -> io::Result<Fds> {
    let mut out = Fds::default();
    for entry in std::fs::read_dir(root.join(pid.to_string()).join("fd"))? {
        let Ok(entry) = entry else { continue };
        out.count += 1;
        if let Ok(target) = std::fs::read_link(entry.path()) {
            let t = target.to_string_lossy();
            if let Some(inode) = t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
                if let Ok(n) = inode.parse() {
                    out.sockets.push(n);
                }
            }
        }
    }
    Ok(out)
}

/// `Max open files` of a `limits` file: (soft, hard); `None` for unlimited.
pub fn max_open_files(limits: &str) -> Option<(Option<u64>, Option<u64>)> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let f: Vec<&str> = line["Max open files".len()..].split_whitespace().collect();
    let v = |s: &str| {
        if s == "unlimited" {
            None
        } else {
            s.parse().ok()
        }
    };
    Some((v(f.first()?), v(f.get(1)?)))
}

/// The counters of one prefix (`TcpExt`) of `net/netstat` (or `net/snmp`): names to values.
pub fn netstat_counters(text: &str, prefix: &str) -> BTreeMap<String, u64> {
    let want = format!("{prefix}:");
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with(&want)).collect();
    let mut out = BTreeMap::new();
    if let [names, values, ..] = lines.as_slice() {
        for (n, v) in names
            .split_whitespace()
            .skip(1)
            .zip(values.split_whitespace().skip(1))
        {
            if let Ok(v) = v.parse() {
                out.insert(n.to_string(), v);
            }
        }
    }
    out
}

/// `meminfo` values, in kB.
pub fn meminfo(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((
                k.trim().to_string(),
                v.split_whitespace().next()?.parse().ok()?,
            ))
        })
        .collect()
}

/// The interface of the default route, from `net/route` (IPv4) or else `net/ipv6_route`.
pub fn default_route_interface(net_dir: &Path) -> Option<String> {
    if let Ok(text) = std::fs::read_to_string(net_dir.join("route")) {
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() >= 8 && f[1] == "00000000" && f[7] == "00000000" {
                return Some(f[0].to_string());
            }
        }
    }
    let text = std::fs::read_to_string(net_dir.join("ipv6_route")).ok()?;
    text.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        (f.len() >= 10 && f[0].bytes().all(|b| b == b'0') && f[1] == "00" && f[9] != "lo")
            .then(|| f[9].to_string())
    })
}

/// The `net` directory to read: `ROOT/PID/net` for a PID, else `ROOT/net`.
pub fn net_dir(root: &Path, pid: Option<u32>) -> PathBuf {
    match pid {
        Some(pid) => root.join(pid.to_string()).join("net"),
        None => root.join("net"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_tables() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:01BB 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0\n   1: 0100007F:A8B5 0100007F:89F6 01 00000000:00000000 00:00000000 00000000     0        0 0 1 0\n";
        let l = parse_tcp_table(v4);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].local.to_string(), "127.0.0.1:443");
        assert_eq!((l[0].inode, l[0].queued), (4242, 3));
        let v6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0\n";
        assert_eq!(parse_tcp_table(v6)[0].local.to_string(), "[::1]:80");
    }

    #[test]
    fn limits_netstat_meminfo() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n";
        assert_eq!(max_open_files(limits), Some((Some(1024), Some(524288))));
        let ns = "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 12 14\nIpExt: InNoRoutes\nIpExt: 0\n";
        let c = netstat_counters(ns, "TcpExt");
        assert_eq!((c["ListenOverflows"], c["ListenDrops"]), (12, 14));
        let m = meminfo("MemTotal:       24684092 kB\nMemAvailable:   2415 kB\n");
        assert_eq!(m["MemAvailable"], 2415);
    }

    #[test]
    fn ss_forms() {
        let l = parse_ss("Recv-Q Send-Q Local Address:Port Peer Address:Port\n0 128 [::]:443 [::]:*\n0 128 [::ffff:127.0.0.1]:80 *:*\n0 4096 127.0.0.53%lo:53 0.0.0.0:*\n");
        assert_eq!(l.len(), 3);
        assert_eq!(l[0].v6only, Some(true));
        assert_eq!(l[1].local.ip().to_string(), "::ffff:127.0.0.1");
        assert_eq!(l[2].local.to_string(), "127.0.0.53:53");
    }
}

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn parse_ss() {
        let l = crate::doctor::proc::parse_ss(
            "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n\
             LISTEN 0      511          127.0.0.1:443      0.0.0.0:*    users:((\"nginx\",pid=812,fd=6))\n\
             LISTEN 0      511                  *:80             *:*\n");
        assert_eq!(l[0].local.to_string(), "127.0.0.1:443");
        assert_eq!(l[0].owner, Some((812, "nginx".to_string())));
        assert_eq!(l[1].v6only, Some(false));
    }
}
