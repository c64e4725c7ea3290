//! `cf-ban-audit probe`: connects to the origin as a Cloudflare edge would and says what
//! Cloudflare would show, as text for people or one JSON document. Flags become
//! [`OriginProbe`] builder calls; the probe is in the library (`cf_ban_audit_core::probe`).

use std::io::{self, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use cf_ban_audit_core::probe::{Mode, OriginProbe, Outcome, ProbeReport, Scheme, Timeouts};
use clap::{Args, ValueEnum};

use crate::doctor_cmd::DoctorFormat;
use crate::escape::printable;
use crate::Failure;

/// `probe` options.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The site's hostname: the Host header, and the TLS name (SNI) unless --sni.
    #[arg(value_name = "HOST")]
    pub host: String,
    /// The origin's address (what the proxied DNS record points to).
    #[arg(long, value_name = "ADDR")]
    pub origin: IpAddr,
    /// The origin's port.
    #[arg(long, default_value_t = 443)]
    pub port: u16,
    /// The TLS server name sent and checked against the certificate (default: HOST).
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// The scheme (default: https on port 443, http on any other port).
    #[arg(long, value_enum)]
    pub scheme: Option<SchemeArg>,
    /// Cloudflare's SSL/TLS mode: strict is Full (strict), full accepts any certificate.
    #[arg(long, value_enum, default_value_t = ModeArg::Strict)]
    pub mode: ModeArg,
    /// The path requested.
    #[arg(long, default_value = "/")]
    pub path: String,
    /// Connect from this source address (one of this host's, e.g. an edge's address in a lab).
    #[arg(long, value_name = "ADDR")]
    pub from_edge: Option<IpAddr>,
    /// Also trust the certificates in this PEM file (repeatable): a private CA, or a copy of
    /// what the zone's Custom Origin Trust Store holds. Public CAs and Cloudflare's Origin CA
    /// are trusted already.
    #[arg(long = "ca", value_name = "FILE")]
    pub ca: Vec<PathBuf>,
    /// Time allowed for the TCP handshake before 522 (Cloudflare: 19 s).
    #[arg(long, value_name = "DURATION", default_value = "19s", value_parser = parse_duration)]
    pub connect_timeout: Duration,
    /// Time allowed for each read, the TLS handshake and the first byte of the answer
    /// included, before 524 (Cloudflare's Proxy Read Timeout: 100 s).
    #[arg(long, value_name = "DURATION", default_value = "100s", value_parser = parse_duration)]
    pub read_timeout: Duration,
    /// Time allowed for sending the request before 524 (Cloudflare's Proxy Write Timeout: 30 s).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub write_timeout: Duration,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DoctorFormat::Text)]
    pub format: DoctorFormat,
}

/// `--scheme` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemeArg {
    /// Plain HTTP (Cloudflare's Flexible mode, or port 80).
    Http,
    /// HTTP over TLS.
    Https,
}

/// `--mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Full (strict): the certificate must be valid for the name.
    Strict,
    /// Full: any certificate.
    Full,
}

/// Reads a timeout: a number of seconds (`19`, `1.5`), or with a unit (`500ms`, `19s`, `2m`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a duration such as 19s, 500ms or 2m"))?;
    let seconds = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        _ => return Err(format!("{text:?}: the unit is ms, s or m")),
    };
    if !(seconds > 0.0 && seconds <= 86_400.0) {
        return Err(format!(
            "{text:?}: must be more than zero and at most a day"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Runs `probe`: exit status 0 for a 2xx or 3xx answer, 1 when Cloudflare would show one of
/// its errors or the origin answers anything else (4xx, 5xx), 2 when the probe could not run.
pub fn run(a: ProbeArgs) -> Result<u8, Failure> {
    let mut probe = OriginProbe::new(a.host.clone(), a.origin)
        .port(a.port)
        .path(a.path.clone())
        .mode(match a.mode {
            ModeArg::Strict => Mode::Strict,
            ModeArg::Full => Mode::Full,
        })
        .timeouts(Timeouts {
            connect: a.connect_timeout,
            read: a.read_timeout,
            write: a.write_timeout,
        });
    if let Some(sni) = &a.sni {
        probe = probe.sni(sni.clone());
    }
    if let Some(scheme) = a.scheme {
        probe = probe.scheme(match scheme {
            SchemeArg::Http => Scheme::Http,
            SchemeArg::Https => Scheme::Https,
        });
    }
    if let Some(from) = a.from_edge {
        probe = probe.from(from);
    }
    for path in &a.ca {
        let pem = std::fs::read(path)
            .map_err(|e| Failure::Message(format!("{}: {e}", path.display())))?;
        probe = probe
            .ca_pem(&pem, &path.display().to_string())
            .map_err(|e| Failure::Message(e.to_string()))?;
    }
    let report = probe.run().map_err(|e| Failure::Message(e.to_string()))?;
    let mut out = io::stdout().lock();
    match a.format {
        DoctorFormat::Text => text(&mut out, &report)?,
        DoctorFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).map_err(io::Error::from)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(exit_code(&report))
}

/// 0 for a healthy answer (2xx, 3xx), else 1.
pub fn exit_code(report: &ProbeReport) -> u8 {
    if report.healthy {
        0
    } else {
        1
    }
}

/// The verdict for people: what was probed, each step, then the outcome with its meaning and
/// fix. Text from the origin (status line, certificate names) is escaped.
pub fn text(out: &mut dyn Write, r: &ProbeReport) -> io::Result<()> {
    let scheme = match r.scheme {
        Scheme::Http => "http".to_string(),
        Scheme::Https => format!(
            "https, SNI {}, {}",
            printable(r.sni.as_deref().unwrap_or_default()),
            match r.mode {
                Mode::Strict => "Full (strict)",
                Mode::Full => "Full",
            }
        ),
    };
    let origin = std::net::SocketAddr::new(r.origin, r.port);
    writeln!(
        out,
        "cf-ban-audit probe: {} at {origin} ({scheme}){}",
        printable(&r.host),
        r.from.map(|f| format!(" from {f}")).unwrap_or_default()
    )?;
    let ms = |m: Option<u64>| m.map(|m| format!(" in {m} ms")).unwrap_or_default();
    writeln!(
        out,
        "  connect  {}{}",
        printable(&r.connect.detail),
        ms(r.connect.ms)
    )?;
    if let Some(tls) = &r.tls {
        match &tls.error {
            Some(e) => writeln!(out, "  tls      failed: {}", printable(e))?,
            None => writeln!(
                out,
                "  tls      {} {}{}",
                tls.version.as_deref().unwrap_or("?"),
                tls.cipher.as_deref().unwrap_or("?"),
                ms(tls.handshake_ms)
            )?,
        }
        if let Some(c) = &tls.certificate {
            writeln!(
                out,
                "           certificate {}, issued by {}, valid {} to {}{}",
                printable(&c.subject),
                printable(&c.issuer),
                c.not_before,
                c.not_after,
                if c.names.is_empty() {
                    String::new()
                } else {
                    format!(", names {}", printable(&c.names.join(" ")))
                }
            )?;
        }
        if let Some(p) = &tls.certificate_problem {
            writeln!(out, "           certificate problem: {}", printable(p))?;
        }
    }
    if let Some(http) = &r.http {
        let got = match (&http.status_line, &http.error) {
            (Some(line), None) => printable(line),
            (Some(line), Some(e)) => format!("{} ({})", printable(e), printable(line)),
            (None, Some(e)) => printable(e),
            (None, None) => String::new(),
        };
        let first = http
            .first_byte_ms
            .map(|m| format!(", first byte after {m} ms"))
            .unwrap_or_default();
        writeln!(
            out,
            "  http     {} -> {got}{first}",
            printable(&http.request)
        )?;
    }
    writeln!(out)?;
    let verdict = match r.outcome {
        Outcome::Cloudflare(code) => format!("{code} {} (Cloudflare's error page)", r.name),
        Outcome::Http(code) if r.name.is_empty() => format!("{code} from the origin"),
        Outcome::Http(code) => format!("{code} {} from the origin", printable(&r.name)),
    };
    writeln!(
        out,
        "Verdict: {} {verdict}",
        if r.healthy { "OK  " } else { "FAIL" }
    )?;
    writeln!(out, "  meaning: {}", r.meaning)?;
    if let Some(note) = &r.strict_would_give {
        writeln!(out, "  note:    {}", printable(note))?;
    }
    if !r.fix.is_empty() {
        writeln!(out, "  fix:     {}", r.fix)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("19").unwrap(), Duration::from_secs(19));
        assert_eq!(parse_duration("19s").unwrap(), Duration::from_secs(19));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        for bad in ["0", "0s", "", "s", "5h", "-1", "1e9", "99999999"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
