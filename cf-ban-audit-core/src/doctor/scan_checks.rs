//! The checks made from a ban scan: bans of Cloudflare addresses, and whether the web
//! server restores visitor addresses.

use std::path::Path;

use super::firewall_check::FirewallInputs;
use super::{Cause, Check, Doctor, DoctorReport, Status};
use crate::report::{DiagnosisKind, Report};
use crate::scan::Scanner;

/// The most lift commands the bans check's fix lists.
const MAX_LIFTS_SHOWN: usize = 12;

impl Doctor {
    /// Whether the scan is to be made (the bans and real-IP checks).
    pub(super) fn scans(&self) -> bool {
        self.scan.is_some() || self.scan_default
    }

    /// Scans for bans: the paths to scan (none with [`Doctor::no_scan`]), the live state when
    /// the firewall is read live (whatever the paths), and otherwise the firewall listings
    /// the doctor read (saved, or run by it), so that every ban they hold is a finding with
    /// its lift command.
    pub(super) fn run_scan(&self, fw: &FirewallInputs) -> Report {
        let paths = match (&self.scan, self.scan_default) {
            (Some(p), _) => p.clone(),
            (None, true) => crate::scan::existing_default_paths(),
            (None, false) => Vec::new(),
        };
        let mut scanner =
            Scanner::new(self.ranges.clone()).ranges_source(self.ranges_source.clone());
        for p in &paths {
            scanner = scanner.path(p);
        }
        let default_config = Path::new("/etc/fail2ban");
        let config = self.fail2ban_config.clone().or_else(|| {
            (self.scan_default && default_config.join("jail.conf").is_file())
                .then(|| default_config.to_path_buf())
        });
        if let Some(dir) = config {
            scanner = scanner.fail2ban_config(dir);
        }
        if self.scans() && self.live_firewall && !self.saved_firewall() {
            scanner = scanner.live(true);
            if let Some(socket) = &self.live_options.fail2ban_socket {
                scanner = scanner.fail2ban_socket(socket);
            }
            if let Some(config) = &self.live_options.cscli_config {
                scanner = scanner.cscli_config(config);
            }
        } else {
            for (label, text, format) in fw.texts_with_formats() {
                scanner = scanner.saved_input(label, format, text.as_bytes().to_vec());
            }
        }
        scanner.scan()
    }

    pub(super) fn scan_checks(&self, scan: &Report, report: &mut DoctorReport) {
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
            let mut fix = format!(
                "Lift the bans and keep them from coming back: add Cloudflare's ranges to each tool's \
                 ignore list (`cf-ban-audit snippet fail2ban`, `csf`, `crowdsec`, ...), and lift each ban in \
                 force with its own command. `cf-ban-audit scan --active` lists every ban{}.",
                if tools.is_empty() { String::new() } else { format!("; tools involved: {}", tools.join(", ")) }
            );
            let lifts: Vec<String> = active
                .iter()
                .chain(&unconfirmed)
                .filter_map(|f| f.lift.as_ref())
                .map(|argv| {
                    let words: Vec<&str> = argv.iter().map(String::as_str).collect();
                    crate::lift::shown(&words)
                })
                .collect();
            for (i, l) in lifts.iter().take(MAX_LIFTS_SHOWN).enumerate() {
                fix.push_str(if i == 0 { "\n" } else { "" });
                fix.push_str(&format!("\n  {l}"));
            }
            if lifts.len() > MAX_LIFTS_SHOWN {
                fix.push_str(&format!(
                    "\n  ... and {} more (`cf-ban-audit scan --active --format json` has each finding's lift)",
                    lifts.len() - MAX_LIFTS_SHOWN
                ));
            }
            fix
        };
        report.checks.push(Check {
            cause: Cause::Bans,
            port: None,
            title: "bans of Cloudflare addresses".into(),
            status,
            evidence,
            fix,
            refused: Vec::new(),
        });
        let mut real = Check {
            cause: Cause::RealIp,
            port: None,
            title: "visitor addresses restored".into(),
            status: Status::Ok,
            evidence: vec!["no web-layer record of a Cloudflare address acting as a client".into()],
            fix: String::new(),
            refused: Vec::new(),
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
}
