//! A Nagios/Icinga plugin status line.

use std::io::{self, Write};

use cf_ban_audit_core::{BanState, Report};

use super::malformed;

/// One Nagios plugin line; returns the plugin exit status: 2 CRITICAL (bans in force),
/// 1 WARNING (bans possibly in force: unconfirmed; or challenges in force), 3 UNKNOWN
/// (errors, nothing in force: an all-clear cannot be given), 0 OK (nothing in force; past
/// bans are counted in the performance data).
pub fn nagios(out: &mut dyn Write, report: &Report) -> io::Result<u8> {
    let total = report.findings.len();
    let active: Vec<_> = report.findings.iter().filter(|f| f.active).collect();
    let of = |state: BanState| -> Vec<&cf_ban_audit_core::Finding> {
        report
            .findings
            .iter()
            .filter(|f| f.state == state)
            .collect()
    };
    let unconfirmed = of(BanState::Unconfirmed);
    let challenge = of(BanState::Challenge);
    let warn = unconfirmed.len() + challenge.len();
    let (code, state) = match (active.len(), warn, report.errors.len()) {
        (a, _, _) if a > 0 => (2, "CRITICAL"),
        (_, w, _) if w > 0 => (1, "WARNING"),
        (_, _, e) if e > 0 => (3, "UNKNOWN"),
        _ => (0, "OK"),
    };
    let list = |bans: &[&cf_ban_audit_core::Finding]| {
        let shown: Vec<String> = bans
            .iter()
            .take(5)
            .map(|f| format!("{} {} {}", f.tool, f.scope, f.address_text()))
            .collect();
        let more = if bans.len() > 5 {
            format!(", +{} more", bans.len() - 5)
        } else {
            String::new()
        };
        format!("{}{more}", shown.join(", "))
    };
    let summary = match code {
        2 => format!(
            "{} Cloudflare addresses banned now ({})",
            active.len(),
            list(&active)
        ),
        1 => {
            let mut said = Vec::new();
            if !unconfirmed.is_empty() {
                said.push(format!(
                    "{} bans of Cloudflare addresses possibly in force, unconfirmed ({})",
                    unconfirmed.len(),
                    list(&unconfirmed)
                ));
            }
            if !challenge.is_empty() {
                said.push(format!(
                    "{} challenges of Cloudflare addresses in force, a ban where the bouncer has \
                     no captcha ({})",
                    challenge.len(),
                    list(&challenge)
                ));
            }
            said.join("; ")
        }
        3 => format!(
            "{} errors while scanning: {}",
            report.errors.len(),
            report.errors[0].message
        ),
        _ if total > 0 => format!("no bans of Cloudflare addresses in force ({total} past)"),
        _ => "no bans of Cloudflare addresses".to_string(),
    };
    // One line: every control character is escaped; `|` would start the performance data.
    let summary = crate::escape::printable(&summary).replace('|', "/");
    writeln!(
        out,
        "CF-BAN-AUDIT {state} - {summary} | findings={total};;;0 active={};1;1;0 unconfirmed={};1;;0 challenge={};1;;0 files={};;;0 errors={};;;0 malformed={};;;0",
        active.len(),
        unconfirmed.len(),
        challenge.len(),
        report.files.len(),
        report.errors.len(),
        malformed(report)
    )?;
    Ok(code)
}
