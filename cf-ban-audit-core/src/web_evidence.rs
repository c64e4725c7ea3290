//! What web servers show about visitor addresses, beyond bans: the clients of their access
//! logs ([`AccessStats`]) and their real-IP configuration ([`RealIpConfig`]).
//!
//! Readers report them to their [`Sink`](crate::formats::Sink)
//! ([`access_client`](crate::formats::Sink::access_client),
//! [`realip_config`](crate::formats::Sink::realip_config)); the scan keeps them in its
//! evidence, per file, for the real-IP diagnoses.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use ipnet::IpNet;

use crate::event::Location;
use crate::ranges::RangeSet;

/// How many example records of one access log are kept.
pub const MAX_ACCESS_EXAMPLES: usize = 4;

/// The statuses that refuse a client: forbidden, too many requests, nginx's "close without
/// answer", service unavailable (rate limits and WAFs answer with these).
pub const REFUSING_STATUSES: &[u16] = &[403, 429, 444, 503];

/// A web server, as far as a file's place or content says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum WebServer {
    /// nginx (or OpenResty, Tengine).
    Nginx,
    /// Apache httpd.
    Apache,
    /// Not known from the file.
    Unknown,
}

impl WebServer {
    /// The web server whose files usually sit at `path` (`/var/log/nginx/...`,
    /// `/etc/apache2/...`, `httpd` directories), or [`WebServer::Unknown`].
    pub fn from_path(path: &Path) -> WebServer {
        let text = path.to_string_lossy().to_ascii_lowercase();
        if text.contains("nginx") || text.contains("openresty") || text.contains("tengine") {
            WebServer::Nginx
        } else if text.contains("apache") || text.contains("httpd") {
            WebServer::Apache
        } else {
            WebServer::Unknown
        }
    }

    /// `nginx`, `apache` or `web server`.
    pub fn name(self) -> &'static str {
        match self {
            WebServer::Nginx => "nginx",
            WebServer::Apache => "apache",
            WebServer::Unknown => "web server",
        }
    }
}

/// What one access log showed about its clients.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessStats {
    /// The web server the log belongs to, from its place.
    pub server: WebServer,
    /// Records read (with a client address).
    pub records: u64,
    /// Records whose client is a Cloudflare address.
    pub cloudflare: u64,
    /// Of those, the refused ones ([`REFUSING_STATUSES`]), by status.
    pub refused: BTreeMap<u16, u64>,
    /// The first records with a Cloudflare client: (line, client, status).
    pub examples: Vec<(u64, IpAddr, u16)>,
}

impl AccessStats {
    /// No records yet, of a log at `path`.
    pub fn new(path: &Path) -> AccessStats {
        AccessStats {
            server: WebServer::from_path(path),
            records: 0,
            cloudflare: 0,
            refused: BTreeMap::new(),
            examples: Vec::new(),
        }
    }

    /// Counts one record.
    pub fn record(&mut self, line: u64, client: IpAddr, status: u16, ranges: &RangeSet) {
        self.records += 1;
        if ranges.contains(client) {
            self.cloudflare += 1;
            if REFUSING_STATUSES.contains(&status) {
                *self.refused.entry(status).or_default() += 1;
            }
            if self.examples.len() < MAX_ACCESS_EXAMPLES {
                self.examples.push((line, client, status));
            }
        }
    }

    /// Adds the counts of another part of the same log (a chunk read apart).
    pub fn merge(&mut self, other: AccessStats) {
        self.records += other.records;
        self.cloudflare += other.cloudflare;
        for (status, n) in other.refused {
            *self.refused.entry(status).or_default() += n;
        }
        self.examples.extend(other.examples);
        self.examples.sort();
        self.examples.truncate(MAX_ACCESS_EXAMPLES);
    }

    /// Whether most clients are Cloudflare addresses: the web server logs the edge, not the
    /// visitor.
    pub fn mostly_cloudflare(&self) -> bool {
        self.records > 0 && self.cloudflare * 2 > self.records
    }
}

/// The access logs read, each with its counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessLogs {
    /// Per log, in the order first seen.
    pub logs: Vec<(Arc<Path>, AccessStats)>,
}

impl AccessLogs {
    /// Counts one record of the log at `path`.
    pub fn record(
        &mut self,
        path: &Arc<Path>,
        line: u64,
        client: IpAddr,
        status: u16,
        ranges: &RangeSet,
    ) {
        // Records come in runs of one file: the last entry is nearly always the one.
        let index = match self.logs.iter().rposition(|(p, _)| Arc::ptr_eq(p, path)) {
            Some(i) => i,
            None => match self.logs.iter().position(|(p, _)| **p == **path) {
                Some(i) => i,
                None => {
                    self.logs.push((path.clone(), AccessStats::new(path)));
                    self.logs.len() - 1
                }
            },
        };
        self.logs[index].1.record(line, client, status, ranges);
    }

    /// Adds another collector's logs (the same log's parts add up).
    pub fn merge(&mut self, other: AccessLogs) {
        for (path, stats) in other.logs {
            match self.logs.iter_mut().find(|(p, _)| **p == *path) {
                Some((_, mine)) => mine.merge(stats),
                None => self.logs.push((path, stats)),
            }
        }
        self.logs.sort_by(|a, b| a.0.cmp(&b.0));
    }

    /// Adds `by` to the line numbers recorded for `path`.
    pub fn shift_lines(&mut self, path: &Path, by: u64) {
        for (p, stats) in &mut self.logs {
            if **p == *path {
                for (line, _, _) in &mut stats.examples {
                    *line += by;
                }
            }
        }
    }
}

/// A web server's real-IP configuration, as one configuration file states it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub struct RealIpConfig {
    /// The web server.
    pub server: WebServer,
    /// Where it is stated (the header directive's line, or else the first trusted source's).
    pub location: Location,
    /// The header the visitor address is taken from (`real_ip_header`, `RemoteIPHeader`), if
    /// set.
    pub header: Option<String>,
    /// The sources trusted to set it (`set_real_ip_from`, `RemoteIPTrustedProxy`,
    /// `RemoteIPInternalProxy`).
    pub trusted: Vec<IpNet>,
    /// `real_ip_recursive`, if set (nginx).
    pub recursive: Option<bool>,
    /// Files of trusted sources named but not read here (Apache's `RemoteIPTrustedProxyList`,
    /// `RemoteIPInternalProxyList`).
    pub trusted_lists: Vec<String>,
}

impl RealIpConfig {
    /// A configuration of `server` stated at `location`, with no header and nothing trusted
    /// yet.
    pub fn new(server: WebServer, location: Location) -> RealIpConfig {
        RealIpConfig {
            server,
            location,
            header: None,
            trusted: Vec::new(),
            recursive: None,
            trusted_lists: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cloudflare_clients_and_refusals_per_log() {
        let cf = crate::cloudflare::embedded();
        let a: Arc<Path> = Arc::from(Path::new("/var/log/nginx/access.log"));
        let b: Arc<Path> = Arc::from(Path::new("/var/log/apache2/access.log"));
        let mut logs = AccessLogs::default();
        logs.record(&a, 1, "173.245.49.12".parse().unwrap(), 200, &cf);
        logs.record(&a, 2, "173.245.49.12".parse().unwrap(), 403, &cf);
        logs.record(&a, 3, "203.0.113.5".parse().unwrap(), 200, &cf);
        logs.record(&b, 1, "203.0.113.5".parse().unwrap(), 429, &cf);
        let mut other = AccessLogs::default();
        other.record(&a, 1, "2606:4700:10::6816:1".parse().unwrap(), 429, &cf);
        other.shift_lines(&a, 3);
        logs.merge(other);
        let (_, nginx) = logs.logs.iter().find(|(p, _)| **p == *a).unwrap();
        assert_eq!(nginx.server, WebServer::Nginx);
        assert_eq!((nginx.records, nginx.cloudflare), (4, 3));
        assert!(nginx.mostly_cloudflare());
        assert_eq!(nginx.refused, BTreeMap::from([(403, 1), (429, 1)]));
        assert_eq!(nginx.examples.last().unwrap().0, 4);
        let (_, apache) = logs.logs.iter().find(|(p, _)| **p == *b).unwrap();
        assert_eq!(apache.server, WebServer::Apache);
        assert!(!apache.mostly_cloudflare());
        assert!(apache.refused.is_empty());
    }
}
