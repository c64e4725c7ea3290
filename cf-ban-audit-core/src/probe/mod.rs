//! `probe`: the outside view of a Cloudflare 5xx. It connects to the origin directly, as a
//! Cloudflare edge would (bypassing Cloudflare, like a hosts-file entry), sends one request and
//! tells what Cloudflare would show for it.
//!
//! The steps: TCP to the origin's address and port (from a given source address with
//! [`OriginProbe::from`]); TLS with SNI when the scheme is https; one `GET PATH` with
//! `Host: HOST`; the answer's status line and headers. What each step saw goes into the
//! [`ProbeReport`], with the [`Outcome`]:
//!
//! | seen | outcome |
//! |---|---|
//! | connection refused (RST, REJECT) | 521 Web server is down |
//! | no SYN+ACK within the connect timeout | 522 Connection timed out |
//! | no route to the origin (host or network unreachable) | 523 Origin is unreachable |
//! | TLS handshake failed (or no TLS answer within the read timeout) | 525 SSL handshake failed |
//! | certificate expired, untrusted or not for the name, in [`Mode::Strict`] | 526 Invalid SSL certificate |
//! | closed or reset without an answer, not HTTP, head over 128 KB | 520 unknown error |
//! | no answer within the read timeout (or request not taken within the write timeout) | 524 A timeout occurred |
//! | a status line | the origin's status |
//!
//! In [`Mode::Full`] any certificate is accepted, as Cloudflare's Full mode does; the report
//! then says when Full (strict) would have given 526.
//!
//! Cloudflare's documentation, one page per error under
//! developers.cloudflare.com/support/troubleshooting/http-status-codes/cloudflare-5xx-errors/:
//! 520 "the origin server returns an empty, unknown, or unexpected response" (resets,
//! "Headers exceeding 128 KB", "Empty or malformed responses"); 521 "the origin web server
//! refuses connections from Cloudflare"; 522 "the origin web server does not return a SYN+ACK
//! to Cloudflare within 19 seconds of Cloudflare sending a SYN" (earlier versions of the page
//! said 15); 523 "a network device between Cloudflare and the origin web server does not have
//! a route to the origin's IP address"; 524 "the origin did not provide an HTTP response
//! before the default 100 seconds Proxy Read Timeout", or a write not completed "before the 30
//! seconds Proxy Write Timeout"; 525 "the SSL handshake between Cloudflare and the origin web
//! server failed"; 526 "Cloudflare is unable to verify the SSL certificate on your origin
//! server" in Full (strict). Those timeouts are [`Timeouts::default`]; tests shorten them.
//!
//! Full (strict) accepts a certificate that is unexpired, issued by a publicly trusted CA or by
//! Cloudflare's Origin CA, and names the hostname
//! (developers.cloudflare.com/ssl/origin-configuration/ssl-modes/full-strict/). The probe
//! trusts the Mozilla roots compiled into `webpki-roots` (a public store like Cloudflare's,
//! independent of the machine's `/etc/ssl/certs`, whose private CAs Cloudflare never trusts),
//! Cloudflare's Origin CA roots ([`ORIGIN_CA_PEM`], ECC and RSA, valid until 2029-08-15, as
//! embedded in Cloudflare's `cloudflared`, `tlsconfig/cloudflare_ca.go`, and published as
//! `origin_ca_ecc_root.pem` and `origin_ca_rsa_root.pem`), and what
//! [`OriginProbe::ca_pem`] adds. rustls speaks TLS 1.2 and 1.3 only: an origin limited to
//! older versions or ciphers gets 525 here though Cloudflare may still reach it.
//!
//! ```no_run
//! use cf_ban_audit_core::probe::{OriginProbe, Outcome};
//! let report = OriginProbe::new("www.example.com", "192.0.2.10".parse().unwrap())
//!     .port(443)
//!     .run()
//!     .unwrap();
//! if report.outcome == Outcome::Cloudflare(521) {
//!     println!("{}", report.fix);
//! }
//! ```

mod cert;
mod cloudflare_errors;
mod http;
mod net;
mod tls;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rustls::pki_types::CertificateDer;
use serde::Serialize;

pub use cert::CertificateInfo;
pub use cloudflare_errors::{lookup, CloudflareError, ERRORS};
pub use http::{parse_status_line, StatusLine, MAX_HEAD};
pub use tls::{TlsStep, ORIGIN_CA_PEM};

use net::Connect;

/// The version of the JSON document.
pub const PROBE_VERSION: u32 = 1;

/// Cloudflare's SSL/TLS encryption mode for the origin connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Full (strict): the certificate must be valid for the name (Cloudflare's default for
    /// new zones and its recommendation).
    #[default]
    Strict,
    /// Full: TLS to the origin, any certificate.
    Full,
}

/// The scheme Cloudflare uses towards the origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

/// What Cloudflare would show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// One of Cloudflare's own errors (520 to 526).
    Cloudflare(u16),
    /// The origin's own answer, passed on.
    Http(u16),
}

impl Outcome {
    /// The status code the visitor would get.
    pub fn code(self) -> u16 {
        match self {
            Outcome::Cloudflare(c) | Outcome::Http(c) => c,
        }
    }

    /// A 2xx or 3xx answer from the origin.
    pub fn is_healthy(self) -> bool {
        matches!(self, Outcome::Http(200..=399))
    }
}

/// The probe's timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timeouts {
    /// For the TCP handshake (522 past it). Cloudflare: 19 seconds.
    #[serde(serialize_with = "as_millis")]
    pub connect: Duration,
    /// For each read, TLS handshake and the answer's first byte included (524 past it).
    /// Cloudflare's Proxy Read Timeout: 100 seconds.
    #[serde(serialize_with = "as_millis")]
    pub read: Duration,
    /// For sending the request (524 past it). Cloudflare's Proxy Write Timeout: 30 seconds.
    #[serde(serialize_with = "as_millis")]
    pub write: Duration,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(tls::millis(*d))
}

impl Default for Timeouts {
    /// Cloudflare's: 19 s to connect, 100 s to read, 30 s to write.
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(19),
            read: Duration::from_secs(100),
            write: Duration::from_secs(30),
        }
    }
}

/// The TCP step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectStep {
    /// `connected`, `refused`, `timeout` or `unreachable`.
    pub result: &'static str,
    /// Milliseconds until connected or refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
    /// The local address of the connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<SocketAddr>,
    /// What happened, in words.
    pub detail: String,
}

/// The HTTP step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HttpStep {
    /// The request line and Host header sent.
    pub request: String,
    /// Milliseconds from sending the request to the first byte of the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_byte_ms: Option<u64>,
    /// The status line received (or the first line, when it is not one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_line: Option<String>,
    /// Bytes of the answer read (the head, never the body).
    pub bytes: usize,
    /// What went wrong, when something did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What the probe saw and what Cloudflare would show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeReport {
    /// [`PROBE_VERSION`].
    pub version: u32,
    /// The site's hostname (the `Host` header).
    pub host: String,
    /// The origin's address.
    pub origin: IpAddr,
    /// The origin's port.
    pub port: u16,
    /// The SNI name, for https.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// The encryption mode assumed.
    pub mode: Mode,
    /// The scheme used.
    pub scheme: Scheme,
    /// The path requested.
    pub path: String,
    /// The source address bound, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<IpAddr>,
    /// The timeouts, in milliseconds.
    pub timeouts: Timeouts,
    /// What Cloudflare would show.
    pub outcome: Outcome,
    /// The status's name: Cloudflare's error name, or the origin's reason phrase.
    pub name: String,
    /// What it means.
    pub meaning: String,
    /// What to do (empty when healthy).
    pub fix: String,
    /// A 2xx or 3xx answer.
    pub healthy: bool,
    /// In Full mode, the certificate problem for which Full (strict) would show 526.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict_would_give: Option<String>,
    /// The TCP step.
    pub connect: ConnectStep,
    /// The TLS step, for https once connected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsStep>,
    /// The HTTP step, once the request could be sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpStep>,
}

/// Why the probe could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// A `--ca` file holds no usable certificate.
    #[error("{label}: {why}")]
    BadCa {
        /// The file.
        label: String,
        /// What is wrong.
        why: String,
    },
    /// The source address could not be bound (it is not an address of this host).
    #[error("cannot bind the source address {addr}: {source}")]
    Bind {
        /// The address.
        addr: IpAddr,
        /// The system's error.
        source: std::io::Error,
    },
    /// The local system refused (socket creation, a local policy).
    #[error("cannot connect to {addr}: {source}")]
    Local {
        /// Where to.
        addr: SocketAddr,
        /// The system's error.
        source: std::io::Error,
    },
    /// A bad name, path or setting.
    #[error("{0}")]
    Usage(String),
}

/// A probe of one origin, built with options and run once.
#[derive(Debug, Clone)]
pub struct OriginProbe {
    host: String,
    origin: IpAddr,
    port: u16,
    sni: Option<String>,
    scheme: Option<Scheme>,
    mode: Mode,
    path: String,
    from: Option<IpAddr>,
    timeouts: Timeouts,
    extra_ca: Vec<CertificateDer<'static>>,
}

impl OriginProbe {
    /// A probe of `host`'s origin at `origin`, port 443, Full (strict), path `/`, Cloudflare's
    /// timeouts.
    pub fn new(host: impl Into<String>, origin: IpAddr) -> Self {
        OriginProbe {
            host: host.into(),
            origin,
            port: 443,
            sni: None,
            scheme: None,
            mode: Mode::Strict,
            path: "/".into(),
            from: None,
            timeouts: Timeouts::default(),
            extra_ca: Vec::new(),
        }
    }

    /// The port (default 443).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The SNI name (default: the host).
    pub fn sni(mut self, name: impl Into<String>) -> Self {
        self.sni = Some(name.into());
        self
    }

    /// The scheme (default: https on port 443, http on any other).
    pub fn scheme(mut self, scheme: Scheme) -> Self {
        self.scheme = Some(scheme);
        self
    }

    /// The encryption mode (default Full (strict)).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The path requested (default `/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Connects from this source address (an address of this host, e.g. an edge's in a lab).
    pub fn from(mut self, source: IpAddr) -> Self {
        self.from = Some(source);
        self
    }

    /// The timeouts (default [`Timeouts::default`]).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Adds the certificates of a PEM text as trust anchors; `label` names it in errors.
    pub fn ca_pem(mut self, pem: &[u8], label: &str) -> Result<Self, ProbeError> {
        let certs = tls::parse_pem(pem).map_err(|why| ProbeError::BadCa {
            label: label.to_string(),
            why,
        })?;
        self.extra_ca.extend(certs);
        Ok(self)
    }

    /// The scheme in effect.
    fn effective_scheme(&self) -> Scheme {
        self.scheme.unwrap_or(if self.port == 443 {
            Scheme::Https
        } else {
            Scheme::Http
        })
    }

    /// Runs the probe. `Err` only when it could not run (bad settings, a source address
    /// that cannot be bound, a local failure); everything the origin does is in the report.
    pub fn run(&self) -> Result<ProbeReport, ProbeError> {
        self.check()?;
        let scheme = self.effective_scheme();
        let sni = (scheme == Scheme::Https).then(|| self.sni.clone().unwrap_or(self.host.clone()));
        let to = SocketAddr::new(self.origin, self.port);
        let mut report = ProbeReport {
            version: PROBE_VERSION,
            host: self.host.clone(),
            origin: self.origin,
            port: self.port,
            sni: sni.clone(),
            mode: self.mode,
            scheme,
            path: self.path.clone(),
            from: self.from,
            timeouts: self.timeouts,
            outcome: Outcome::Cloudflare(520),
            name: String::new(),
            meaning: String::new(),
            fix: String::new(),
            healthy: false,
            strict_would_give: None,
            connect: ConnectStep {
                result: "timeout",
                ms: None,
                local: None,
                detail: String::new(),
            },
            tls: None,
            http: None,
        };
        let connected =
            net::connect(to, self.from, self.timeouts.connect).map_err(|e| match e {
                net::SetupError::Bind(source) => ProbeError::Bind {
                    addr: self.from.unwrap_or(self.origin),
                    source,
                },
                net::SetupError::Other(source) => ProbeError::Local { addr: to, source },
            })?;
        let (tcp, elapsed, local) = match connected {
            Connect::Connected(tcp, elapsed, local) => (tcp, elapsed, local),
            Connect::Refused(elapsed) => {
                report.connect = step("refused", Some(elapsed), "connection refused (RST)".into());
                return Ok(finish(report, Outcome::Cloudflare(521), None));
            }
            Connect::TimedOut => {
                let detail = format!(
                    "no answer to the SYN within {}",
                    seconds(self.timeouts.connect)
                );
                report.connect = step("timeout", None, detail);
                return Ok(finish(report, Outcome::Cloudflare(522), None));
            }
            Connect::Unreachable(elapsed, why) => {
                report.connect = step("unreachable", Some(elapsed), why);
                return Ok(finish(report, Outcome::Cloudflare(523), None));
            }
        };
        report.connect = step("connected", Some(elapsed), format!("connected to {to}"));
        report.connect.local = local;
        let set =
            |r: std::io::Result<()>| r.map_err(|source| ProbeError::Local { addr: to, source });
        set(tcp.set_read_timeout(Some(self.timeouts.read)))?;
        set(tcp.set_write_timeout(Some(self.timeouts.write)))?;
        match sni {
            None => {
                let mut tcp = tcp;
                Ok(self.exchange(report, &mut tcp))
            }
            Some(sni) => {
                let (stream, tls_step) =
                    tls::handshake(tcp, &sni, &self.extra_ca, self.timeouts.read)
                        .map_err(ProbeError::Usage)?;
                let problem = tls_step.certificate_problem.clone();
                report.tls = Some(tls_step);
                let Some(mut stream) = stream else {
                    return Ok(finish(report, Outcome::Cloudflare(525), None));
                };
                match (self.mode, problem) {
                    (Mode::Strict, Some(_)) => Ok(finish(report, Outcome::Cloudflare(526), None)),
                    (Mode::Full, Some(problem)) => {
                        report.strict_would_give = Some(format!(
                            "Full (strict) would show 526 Invalid SSL certificate: the certificate is {problem}"
                        ));
                        Ok(self.exchange(report, &mut stream))
                    }
                    (_, None) => Ok(self.exchange(report, &mut stream)),
                }
            }
        }
    }

    /// Settings that cannot work.
    fn check(&self) -> Result<(), ProbeError> {
        let printable = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic());
        if !printable(&self.host) {
            return Err(ProbeError::Usage(format!(
                "host {:?}: expected a hostname",
                self.host
            )));
        }
        if !self.path.starts_with('/') || !printable(&self.path) {
            return Err(ProbeError::Usage(format!(
                "path {:?}: expected an absolute path without spaces",
                self.path
            )));
        }
        for (what, d) in [
            ("connect", self.timeouts.connect),
            ("read", self.timeouts.read),
            ("write", self.timeouts.write),
        ] {
            if d.is_zero() {
                return Err(ProbeError::Usage(format!(
                    "the {what} timeout must not be zero"
                )));
            }
        }
        Ok(())
    }

    /// Sends the request and reads the answer's head.
    fn exchange<S: std::io::Read + std::io::Write>(
        &self,
        mut report: ProbeReport,
        stream: &mut S,
    ) -> ProbeReport {
        let mut step = HttpStep {
            request: format!("GET {} HTTP/1.1, Host: {}", self.path, self.host),
            ..HttpStep::default()
        };
        if let Err(e) = http::send(stream, &http::request(&self.host, &self.path)) {
            let code = if http::is_timeout(&e) { 524 } else { 520 };
            step.error = Some(if code == 524 {
                format!(
                    "the origin did not take the request within the write timeout ({})",
                    seconds(self.timeouts.write)
                )
            } else {
                format!("sending the request failed: {e}")
            });
            report.http = Some(step);
            return finish(report, Outcome::Cloudflare(code), None);
        }
        let head = http::read_head(stream, Instant::now());
        let (outcome, reason) = match head {
            http::Head::Answer {
                status,
                line,
                bytes,
                first_byte,
            } => {
                step.first_byte_ms = Some(tls::millis(first_byte));
                step.status_line = Some(line);
                step.bytes = bytes;
                (Outcome::Http(status.code), Some(status.reason))
            }
            http::Head::Closed => {
                step.error = Some("the origin closed the connection without answering".into());
                (Outcome::Cloudflare(520), None)
            }
            http::Head::Broken { error, bytes } => {
                step.bytes = bytes;
                step.error = Some(format!(
                    "the connection broke before a whole answer: {error}"
                ));
                (Outcome::Cloudflare(520), None)
            }
            http::Head::Timeout { bytes } => {
                step.bytes = bytes;
                step.error = Some(format!(
                    "no {} within the read timeout ({})",
                    if bytes == 0 {
                        "answer"
                    } else {
                        "complete answer head"
                    },
                    seconds(self.timeouts.read)
                ));
                (Outcome::Cloudflare(524), None)
            }
            http::Head::Malformed {
                problem,
                line,
                bytes,
            } => {
                step.bytes = bytes;
                step.status_line = (!line.is_empty()).then_some(line);
                step.error = Some(problem);
                (Outcome::Cloudflare(520), None)
            }
        };
        report.http = Some(step);
        finish(report, outcome, reason)
    }
}

fn step(result: &'static str, elapsed: Option<Duration>, detail: String) -> ConnectStep {
    ConnectStep {
        result,
        ms: elapsed.map(tls::millis),
        local: None,
        detail,
    }
}

/// Fills in the outcome and its name, meaning and fix.
fn finish(mut report: ProbeReport, outcome: Outcome, reason: Option<String>) -> ProbeReport {
    report.outcome = outcome;
    report.healthy = outcome.is_healthy();
    match outcome {
        Outcome::Cloudflare(code) => {
            if let Some(e) = lookup(code) {
                report.name = e.name.into();
                report.meaning = e.meaning.into();
                report.fix = e.fix.into();
            }
        }
        Outcome::Http(code) => {
            report.name = reason.unwrap_or_default();
            let (meaning, fix) = match code {
                200..=399 => (
                    "The origin answered; Cloudflare would pass the answer on.",
                    "",
                ),
                403 | 429 => (
                    "The origin answered with a refusal; Cloudflare passes it on to every visitor behind this edge.",
                    "A web-server-level ban, a WAF rule or a rate limit may refuse this client: `cf-ban-audit scan` reads the web server's and the WAF's ban lists and logs.",
                ),
                400..=499 => (
                    "The origin answered with a client error; Cloudflare would pass it on.",
                    "Check that the site answers for this Host and path (server_name / ServerName, the path).",
                ),
                _ => (
                    "The origin answered with a server error; Cloudflare would pass it on (it shows its own error page only for 52x).",
                    "Read the web server's and the application's error logs at the time of the probe.",
                ),
            };
            report.meaning = meaning.into();
            report.fix = fix.into();
        }
    }
    report
}

/// A duration as people read it: `19 s`, `0.5 s`.
fn seconds(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        format!("{} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests;
