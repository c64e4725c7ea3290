//! `cf-ban-audit doctor`: the checklist of every cause of a 521 seen from the origin, as text
//! for people or one JSON document. Flags become [`Doctor`] builder calls; the checks are in
//! the library (`cf_ban_audit_core::doctor`).

use std::io::{self, Write};
use std::net::IpAddr;
use std::path::PathBuf;

use cf_ban_audit_core::doctor::{Doctor, DoctorReport, Status};
use clap::{Args, ValueEnum};

use crate::args::RangeOpts;
use crate::escape::printable;
use crate::Failure;

/// `doctor` options.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The ports Cloudflare connects to, comma separated.
    #[arg(
        long = "port",
        value_name = "PORTS",
        value_delimiter = ',',
        default_value = "80,443"
    )]
    pub ports: Vec<u16>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DoctorFormat::Text)]
    pub format: DoctorFormat,
    #[command(flatten)]
    pub ranges: RangeOpts,
    /// Read processes and network tables here instead of /proc (a copy taken from another host).
    #[arg(long, value_name = "DIR", default_value = "/proc")]
    pub proc_root: PathBuf,
    /// Read the network tables of this process's network namespace (a container's).
    #[arg(long, value_name = "PID")]
    pub net_pid: Option<u32>,
    /// A saved `ss -lnt` (or `ss -lntp`) listing, instead of /proc/net/tcp{,6}.
    #[arg(long, value_name = "FILE")]
    pub ss: Option<PathBuf>,
    /// Saved `iptables-save` output. Any saved firewall file turns the live reading off.
    #[arg(long, value_name = "FILE")]
    pub iptables: Option<PathBuf>,
    /// Saved `ip6tables-save` output.
    #[arg(long, value_name = "FILE")]
    pub ip6tables: Option<PathBuf>,
    /// Saved `ipset save` output.
    #[arg(long, value_name = "FILE")]
    pub ipset: Option<PathBuf>,
    /// A saved `nft list ruleset` (or an nftables.conf in the same syntax).
    #[arg(long, value_name = "FILE")]
    pub nft: Option<PathBuf>,
    /// Do not run iptables-save, ip6tables-save, ipset save and nft list ruleset, nor the
    /// ban scan's live read (fail2ban-client banned, cscli decisions list, ...).
    #[arg(long)]
    pub no_live: bool,
    #[command(flatten)]
    pub live_opts: crate::args::LiveOpts,
    #[command(flatten)]
    pub config_opts: crate::args::ConfigOpts,
    /// fail2ban's configuration directory (jail.conf, jail.local, jail.d) for the ban scan's
    /// ban lengths, ignoreip and jails' log paths (default: /etc/fail2ban when the default
    /// places are scanned).
    #[arg(long, value_name = "DIR", env = "CF_BAN_AUDIT_FAIL2BAN_CONFIG")]
    pub fail2ban_config: Option<PathBuf>,
    /// Skip the scan for bans and real-IP problems.
    #[arg(long, conflicts_with = "scan")]
    pub no_scan: bool,
    /// Scan these paths for bans instead of the default locations (repeatable); the live
    /// state is still read unless --no-live or a saved firewall file is given.
    #[arg(long, value_name = "PATH")]
    pub scan: Vec<PathBuf>,
    /// The interface Cloudflare's packets arrive on (default: the default route's).
    #[arg(long, value_name = "NAME")]
    pub interface: Option<String>,
    /// The address Cloudflare connects to, for rules that match on the destination.
    #[arg(long, value_name = "ADDRESS")]
    pub destination: Option<IpAddr>,
}

/// `doctor` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoctorFormat {
    /// A checklist for people.
    Text,
    /// One JSON document.
    Json,
}

/// Runs `doctor`: exit status 0 all OK (warnings allowed), 1 any FAIL, 2 errors.
pub fn run(mut a: DoctorArgs) -> Result<u8, Failure> {
    let config = crate::config::load(a.config_opts.config.as_deref()).map_err(Failure::Message)?;
    config.fill(
        &mut a.ranges,
        &mut a.live_opts,
        &mut a.fail2ban_config,
        &mut a.config_opts,
    );
    let (ranges, source) = crate::load_ranges(&a.ranges)?;
    let read = |p: &PathBuf| -> Result<String, Failure> {
        let bytes =
            std::fs::read(p).map_err(|e| Failure::Message(format!("{}: {e}", p.display())))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    let mut doctor = Doctor::new()
        .ranges(ranges, source)
        .ports(&a.ports)
        .proc_root(&a.proc_root)
        .live_firewall(!a.no_live);
    if let Some(socket) = &a.live_opts.fail2ban_socket {
        doctor = doctor.fail2ban_socket(socket);
    }
    if let Some(config) = &a.live_opts.cscli_config {
        doctor = doctor.cscli_config(config);
    }
    if let Some(dir) = &a.fail2ban_config {
        doctor = doctor.fail2ban_config(dir);
    }
    if let Some(pid) = a.net_pid {
        doctor = doctor.net_pid(pid);
    }
    if let Some(p) = &a.ss {
        doctor = doctor.saved_ss(read(p)?);
    }
    if let Some(p) = &a.iptables {
        doctor = doctor.saved_iptables(read(p)?);
    }
    if let Some(p) = &a.ip6tables {
        doctor = doctor.saved_ip6tables(read(p)?);
    }
    if let Some(p) = &a.ipset {
        doctor = doctor.saved_ipset(read(p)?);
    }
    if let Some(p) = &a.nft {
        doctor = doctor.saved_nft(read(p)?);
    }
    if a.no_scan {
        doctor = doctor.no_scan();
    } else if !a.scan.is_empty() {
        doctor = doctor.scan_paths(a.scan.clone());
    }
    for pattern in &a.config_opts.exclude {
        doctor = doctor.exclude(pattern).map_err(Failure::Message)?;
    }
    if let Some(i) = &a.interface {
        doctor = doctor.interface(i.clone());
    }
    if let Some(d) = a.destination {
        doctor = doctor.destination(d);
    }
    let report = doctor.run();
    for e in &report.errors {
        crate::say(e);
    }
    let mut out = io::stdout().lock();
    match a.format {
        DoctorFormat::Text => text(&mut out, &report)?,
        DoctorFormat::Json => json(&mut out, &report)?,
    }
    out.flush()?;
    Ok(exit_code(&report))
}

/// The exit status of `doctor`: 2 when a check could not run at all, else 1 when any check
/// failed, else 0 (warnings and unknowns do not fail the run).
pub fn exit_code(report: &DoctorReport) -> u8 {
    if !report.errors.is_empty() {
        2
    } else if report.checks.iter().any(|c| c.status == Status::Fail) {
        1
    } else {
        0
    }
}

/// The report as one JSON document.
pub fn json(out: &mut dyn Write, report: &DoctorReport) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// The checklist: one block per check (status, title, evidence, fix), then what could not be
/// read and a one-line verdict. Text read from the machine (process names, paths, rules) is
/// escaped.
pub fn text(out: &mut dyn Write, report: &DoctorReport) -> io::Result<()> {
    let ports: Vec<String> = report.ports.iter().map(u16::to_string).collect();
    writeln!(
        out,
        "cf-ban-audit doctor{}: ports {}; ranges {}",
        report
            .host
            .as_deref()
            .map(|h| format!(" on {}", printable(h)))
            .unwrap_or_default(),
        ports.join(", "),
        printable(&report.ranges)
    )?;
    for c in &report.checks {
        writeln!(out)?;
        writeln!(out, "[{:^7}] {}", c.status.label(), printable(&c.title))?;
        for e in &c.evidence {
            writeln!(out, "          {}", printable(e))?;
        }
        if !c.fix.is_empty() && c.status != Status::Ok {
            let mut lines = c.fix.lines();
            if let Some(first) = lines.next() {
                writeln!(out, "    fix:  {}", printable(first))?;
            }
            for l in lines {
                writeln!(out, "          {}", printable(l))?;
            }
        }
    }
    if !report.unreadable.is_empty() {
        writeln!(out)?;
        writeln!(out, "Not read (run as root to read them):")?;
        for u in &report.unreadable {
            writeln!(out, "  - {}", printable(u))?;
        }
    }
    for e in &report.errors {
        writeln!(out, "error: {}", printable(e))?;
    }
    let count = |s: Status| report.checks.iter().filter(|c| c.status == s).count();
    writeln!(out)?;
    writeln!(
        out,
        "Verdict: {} ({} fail, {} warn, {} unknown, {} ok)",
        report.worst().label(),
        count(Status::Fail),
        count(Status::Warn),
        count(Status::Unknown),
        count(Status::Ok)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use cf_ban_audit_core::doctor::{Cause, Check};

    fn report() -> DoctorReport {
        let mut listener = Check::new(Cause::Listener, "listener on port 443", Status::Fail);
        listener.port = Some(443);
        listener.evidence = vec!["listening on 127.0.0.1:443".into()];
        listener.fix = "Listen on all addresses.\nThen reload.".into();
        let mut memory = Check::new(Cause::Memory, "memory", Status::Ok);
        memory.evidence = vec!["MemAvailable 100 MiB".into()];
        let mut r = DoctorReport::new(vec![443], "embedded");
        r.host = Some("web1".into());
        r.checks = vec![listener, memory];
        r.unreadable = vec!["nft list ruleset: permission denied".into()];
        r
    }

    #[test]
    fn exit_codes_and_worst() {
        let check = |status| Check::new(Cause::Memory, String::new(), status);
        let mut r = DoctorReport::new(vec![443], String::new());
        r.checks = vec![check(Status::Ok), check(Status::Warn)];
        assert_eq!((exit_code(&r), r.worst()), (0, Status::Warn));
        r.checks.push(check(Status::Fail));
        assert_eq!(exit_code(&r), 1);
        r.errors.push("x".into());
        assert_eq!(exit_code(&r), 2);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["checks"][2]["status"], "fail");
        assert_eq!(json["checks"][0]["cause"], "memory");
    }

    #[test]
    fn checklist_text() {
        let mut out = Vec::new();
        text(&mut out, &report()).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("[ FAIL  ] listener on port 443\n          listening on 127.0.0.1:443\n    fix:  Listen on all addresses.\n          Then reload.\n"), "{s}");
        assert!(s.contains("[  OK   ] memory"), "{s}");
        assert!(
            s.contains("Not read (run as root to read them):\n  - nft list ruleset"),
            "{s}"
        );
        assert!(
            s.ends_with("Verdict: FAIL (1 fail, 0 warn, 0 unknown, 1 ok)\n"),
            "{s}"
        );
    }

    #[test]
    fn json_document() {
        let mut out = Vec::new();
        json(&mut out, &report()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["checks"][0]["status"], "fail");
        assert_eq!(v["checks"][0]["cause"], "listener");
        assert!(v["checks"][1].get("port").is_none());
    }
}
