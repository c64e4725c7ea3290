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
            // The default places' unreadable parts are notes (what root would add).
            scanner = if self.scan.is_none() {
                scanner.default_path(p)
            } else {
                scanner.path(p)
            };
        }
        scanner = scanner.excludes(self.scan_exclude.clone());
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
        report.checks.push(real_ip_check(&scan.diagnoses));
        report.unreadable.append(&mut unreadable);
        // What only root may read in the default places: not an error of the scan, but what
        // a run as root would add.
        let denied = scan.notes.iter().filter_map(|n| {
            n.strip_prefix(crate::scan_paths::UNREADABLE_NOTE)
                .map(|path| format!("{path}: permission denied"))
        });
        report.unreadable.extend(denied);
    }
}

/// The real-IP check from the scan's diagnoses: WARN when any says visitor addresses are not
/// restored (naming the web server or file, and that this is what makes tools ban
/// Cloudflare), are forgeable, or are banned in vain in the host firewall (each its own
/// evidence line); OK with the evidence of restored addresses otherwise.
pub(super) fn real_ip_check(diagnoses: &[crate::report::Diagnosis]) -> Check {
    let mut check = Check {
        cause: Cause::RealIp,
        port: None,
        title: "visitor addresses restored".into(),
        status: Status::Ok,
        evidence: Vec::new(),
        fix: String::new(),
        refused: Vec::new(),
    };
    let mut fixes: Vec<String> = Vec::new();
    let mut restored = Vec::new();
    for d in diagnoses {
        let subject = if d.subject.is_empty() {
            String::new()
        } else {
            format!("{}: ", d.subject)
        };
        match d.kind {
            DiagnosisKind::RealIpRestored => {
                restored.extend(
                    d.evidence
                        .iter()
                        .map(|e| format!("restored ({subject}{e})")),
                );
            }
            DiagnosisKind::RealIpNotRestored => {
                check.status = Status::Warn;
                check.evidence.push(format!(
                    "{subject}visitor addresses NOT restored: the web server logs Cloudflare's \
                     address, so every tool reading its logs bans Cloudflare's edges (the 521)"
                ));
                check
                    .evidence
                    .extend(d.evidence.iter().map(|e| format!("  {e}")));
                fixes.push(format!("# {}\n{}", d.subject, d.fix));
            }
            DiagnosisKind::RealIpForgeable => {
                check.status = Status::Warn;
                check.evidence.push(format!(
                    "{subject}visitor addresses forgeable: {}",
                    d.evidence.join("; ")
                ));
                fixes.push(d.fix.clone());
            }
            DiagnosisKind::FirewallBansIneffective => {
                check.status = Status::Warn;
                check.evidence.push(format!(
                    "{subject}bans in the host firewall never match: {}",
                    d.evidence.join("; ")
                ));
                fixes.push(format!("# {}\n{}", d.subject, d.fix));
            }
        }
    }
    if check.status == Status::Ok && restored.is_empty() {
        check.evidence.push(
            "no evidence of Cloudflare's address in place of visitors' (no web-layer record, web \
             jail ban, access log or real-IP configuration says so)"
                .into(),
        );
    }
    // Restored evidence stays, after the problems: it says where addresses are restored.
    check.evidence.extend(restored);
    check.fix = fixes.join("\n");
    check
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Diagnosis;

    #[test]
    fn not_restored_anywhere_is_never_ok() {
        let restored = Diagnosis::new(
            DiagnosisKind::RealIpRestored,
            "nginx: /etc/nginx/conf.d/cloudflare.conf",
            vec!["nginx real-IP configuration trusts every range".into()],
            "Nothing to fix",
        );
        let not = Diagnosis::new(
            DiagnosisKind::RealIpNotRestored,
            "nginx: /var/log/nginx/access.log",
            vec!["/var/log/nginx/access.log: 5 of 6 clients are Cloudflare edges".into()],
            "real_ip_header CF-Connecting-IP;",
        );
        let ok = real_ip_check(std::slice::from_ref(&restored));
        assert_eq!(ok.status, Status::Ok);
        assert!(
            ok.evidence[0].contains("cloudflare.conf"),
            "{:?}",
            ok.evidence
        );
        let warn = real_ip_check(&[restored.clone(), not]);
        assert_eq!(warn.status, Status::Warn);
        assert!(warn.evidence[0].starts_with("nginx: /var/log/nginx/access.log: visitor"));
        assert!(warn.evidence[0].contains("bans Cloudflare"));
        assert!(warn.fix.contains("real_ip_header"));
        let ineffective = Diagnosis::new(
            DiagnosisKind::FirewallBansIneffective,
            "fail2ban jail nginx-botsearch",
            vec!["fail2ban jail nginx-botsearch bans with iptables-multiport".into()],
            "nginx-block-map",
        );
        let warn = real_ip_check(&[restored, ineffective]);
        assert_eq!(warn.status, Status::Warn);
        assert!(warn.evidence[0].starts_with("fail2ban jail nginx-botsearch: bans"));
        assert!(warn.evidence[1].starts_with("restored ("));
    }
}
