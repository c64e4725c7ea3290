//! What to do about the bans: the diagnoses with their fixes, the commands that lift the bans
//! in force, and what stops them from coming back.

use std::collections::BTreeSet;
use std::io::{self, Write};

use cf_ban_audit_core::{Report, Tool};

use super::fit;
use super::shell_word;
use super::text::{in_force, prose};

/// Every ban in force or possibly so, in the tables' order, with the command that lifts it
/// (one a line, whole, however wide) or why there is none.
pub(super) fn lifts(out: &mut dyn Write, report: &Report, width: Option<usize>) -> io::Result<()> {
    let mut seen = BTreeSet::new();
    let mut lines = Vec::new();
    for tool in Tool::ALL {
        for f in report
            .findings
            .iter()
            .filter(|f| f.tool == *tool && in_force(f))
        {
            // The library refuses to build a command of words with control characters; a word
            // that would still need escaping is never printed as a command to run.
            let safe = |argv: &Vec<String>| {
                argv.iter()
                    .all(|w| !w.chars().any(crate::escape::needs_escape))
            };
            let line = match (&f.lift, &f.lift_unavailable) {
                (Some(argv), _) if !safe(argv) => format!(
                    "# {} {} {}: no command: a word holds control characters: {}",
                    f.tool,
                    fit::printable(&f.scope),
                    f.address_text(),
                    fit::printable(&argv.join(" "))
                ),
                (Some(argv), _) => argv
                    .iter()
                    .map(|w| shell_word(w))
                    .collect::<Vec<_>>()
                    .join(" "),
                (None, why) => format!(
                    "# {} {} {}: no command: {}",
                    f.tool,
                    fit::printable(&f.scope),
                    f.address_text(),
                    fit::printable(why.as_deref().unwrap_or("none known"))
                ),
            };
            if seen.insert(line.clone()) {
                lines.push(line);
            }
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "Lift the bans in force or possibly so:")?;
    for line in lines {
        match line.strip_prefix("# ") {
            Some(comment) => prose(out, comment, width, "  # ", "  #   ")?,
            None => writeln!(out, "  {line}")?,
        }
    }
    Ok(())
}

/// What stops the bans from coming back: a line per tool with bans in force or possibly so
/// (tools that share the advice share the line), and the command to run, if any.
pub(super) fn advice(out: &mut dyn Write, report: &Report, width: Option<usize>) -> io::Result<()> {
    let tools: BTreeSet<Tool> = report
        .findings
        .iter()
        .filter(|f| in_force(f))
        .map(|f| f.tool)
        .collect();
    if tools.is_empty() {
        return Ok(());
    }
    let mut advice: Vec<(Vec<Tool>, &str, Option<&str>)> = Vec::new();
    for tool in tools {
        let (text, command) = match tool {
            Tool::Fail2ban => (
                "merge Cloudflare's ranges into ignoreip, review the result, move it into \
                 place, then run fail2ban-client reload --restart:",
                Some(
                    "cf-ban-audit snippet fail2ban --existing /etc/fail2ban/jail.local > \
                     jail.local.new",
                ),
            ),
            Tool::Modsecurity | Tool::NginxLimit | Tool::ModEvasive => (
                "restore visitor addresses in the web server (see the diagnosis above), so \
                 these tools act on visitors, not on Cloudflare",
                None,
            ),
            Tool::Btwaf => (
                "enable CDN mode for the site (site.json \"cdn\": true with \
                 cf-connecting-ip) and restore visitor addresses",
                None,
            ),
            Tool::Csf => (
                "put Cloudflare's ranges in /etc/csf/csf.ignore (not csf.allow: lfd still \
                 blocks those), then csf -ra; lift blocks with csf -dr IP / csf -tr IP",
                None,
            ),
            Tool::Iptables
            | Tool::Ipset
            | Tool::Nftables
            | Tool::Ufw
            | Tool::Firewalld
            | Tool::BtFirewall => (
                "remove the rule or entry, and fix the ignore list of the ban tool that put it \
                 there (fail2ban f2b-*, CrowdSec, CSF): an ACCEPT rule does not beat their \
                 chains",
                None,
            ),
            Tool::Crowdsec => (
                "lift with cscli decisions delete --ip IP --contained (or --range CIDR) and allowlist \
                 Cloudflare (cscli allowlists, or a parser whitelist)",
                None,
            ),
            Tool::Hestia => (
                "lift with v-delete-firewall-ban IP CHAIN; keep fail2ban from banning \
                 Cloudflare (ignoreip in jail.local: cf-ban-audit snippet fail2ban; Hestia's \
                 excludes.conf matches single addresses exactly, not ranges) and restore \
                 visitor addresses; cf-ban-audit snippet hestia allows the ranges on 80,443",
                None,
            ),
            Tool::Cphulk => (
                "lift with whmapi1 delete_cphulk_record list_name=black ip=IP (a login-history \
                 block: whmapi1 flush_cphulk_login_history_for_ips ip=IP), white-list \
                 Cloudflare's ranges (cf-ban-audit snippet cphulk) and restore visitor \
                 addresses, so logins through proxied hostnames show visitors",
                None,
            ),
            Tool::Imunify360 => (
                "lift with imunify360-agent ip-list local delete --purpose drop IP (a line of \
                 /etc/imunify360/blacklist/*.txt: delete it, then imunify360-agent \
                 reload-lists), white-list Cloudflare's ranges (cf-ban-audit snippet \
                 imunify360) and let Imunify360 read visitor addresses from CF-Connecting-IP \
                 (WEBSHIELD known_proxies_support)",
                None,
            ),
            Tool::Directadmin => (
                "lift a BFM hook block with ip=IP /usr/local/directadmin/scripts/custom/unblock_ip.sh \
                 (an ip_blacklist entry: remove its line; that list refuses only the DirectAdmin \
                 login on 2222), add Cloudflare's ranges to DirectAdmin's ip_whitelist \
                 (cf-ban-audit snippet directadmin) and restore visitor addresses",
                None,
            ),
            Tool::Plesk => (
                "lift with plesk bin ip_ban --unban IP,JAIL, add Cloudflare's ranges to Plesk's \
                 trusted addresses (cf-ban-audit snippet plesk) and restore visitor addresses, \
                 so Plesk's jails ban visitors, not Cloudflare",
                None,
            ),
            Tool::Route => (
                "delete the route (ip route del TYPE ADDRESS) and fix the ignore list of the \
                 ban tool that added it (fail2ban's route action: ignoreip)",
                None,
            ),
            Tool::NginxDeny | Tool::ApacheDeny | Tool::List => (
                "remove the Cloudflare address or range from the deny list",
                None,
            ),
            // A tool of a later library version.
            _ => (
                "lift the ban and add Cloudflare's ranges to the tool's ignore list",
                None,
            ),
        };
        match advice.iter_mut().find(|(_, t, _)| *t == text) {
            Some((tools, _, _)) => tools.push(tool),
            None => advice.push((vec![tool], text, command)),
        }
    }
    writeln!(out)?;
    prose(
        out,
        "Stop it from happening again (firewall ACCEPT rules do not beat the ban tool's own \
         chains; its ignore list does):",
        width,
        "",
        "",
    )?;
    for (tools, text, command) in advice {
        let names: Vec<&str> = tools.iter().map(|t| t.name()).collect();
        prose(
            out,
            &format!("{}: {text}", names.join(", ")),
            width,
            "  ",
            "    ",
        )?;
        if let Some(command) = command {
            for line in fit::wrap_command(command, width, "    ", "      ") {
                writeln!(out, "{line}")?;
            }
        }
    }
    Ok(())
}

/// The diagnoses, each with its evidence and its fix; comment lines of a fix wrap as comments.
pub(super) fn diagnoses(
    out: &mut dyn Write,
    report: &Report,
    width: Option<usize>,
) -> io::Result<()> {
    for d in &report.diagnoses {
        writeln!(out)?;
        if d.subject.is_empty() {
            writeln!(out, "Diagnosis: {}", d.kind)?;
        } else {
            let head = format!("Diagnosis: {} ({})", d.kind, fit::printable(&d.subject));
            prose(out, &head, width, "", "  ")?;
        }
        for e in &d.evidence {
            prose(out, &fit::printable(e), width, "  - ", "    ")?;
        }
        for line in d.fix.lines() {
            let line = &fit::printable(line);
            let indent = line.len() - line.trim_start().len();
            let (lead, body) = line.split_at(indent);
            let lead = format!("  {lead}");
            if body.is_empty() {
                writeln!(out)?;
            } else if let Some(comment) = body.strip_prefix("# ") {
                prose(
                    out,
                    comment,
                    width,
                    &format!("{lead}# "),
                    &format!("{lead}#   "),
                )?;
            } else {
                prose(out, body, width, &lead, &format!("{lead}  "))?;
            }
        }
    }
    Ok(())
}
