//! The plan of `fix`: from the [`Report`] of a scan with live state, the steps that end the
//! outage (lift each ban in force on an address of the range set, with the finding's own lift
//! command) and prevent the next one (merge the ranges into fail2ban's `jail.local`, then
//! reload fail2ban; merge them into csf's `csf.ignore`, then `csf -r`; merge them into btwaf's
//! whitelists, whose nginx reload is left to the panel; add them to CrowdSec's allowlist, or
//! write its parser whitelist and reload it, [`super::crowdsec`]; add nginx's or Apache's
//! real-IP configuration where the scan diagnoses that visitor addresses are not restored,
//! then reload the server, [`super::realip`]), and what is left for a person.
//!
//! Building a plan changes nothing: it reads the report, `jail.local` and the `jail.d`
//! fragments, `csf.ignore`, btwaf's whitelists, CrowdSec's `config.yaml` and enrich stage, the
//! real-IP files, and runs `cscli allowlists --help`, `list` and `inspect` (read-only
//! listings), nothing else. Every
//! lift is re-checked here: the address lies inside the range set in use, and the command's
//! program is one of [`LIFT_PROGRAMS`]; anything else is left for a person. Nothing in a plan
//! adds a ban.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::check;
use crate::snippet::{btwaf, MergeOptions, Target};
use crate::{BanState, Finding, RangeSet, Report, Tool};

/// The programs a lift command may run (the lift commands of [`Finding::lift`]); a finding
/// whose command names any other is left for a person.
pub const LIFT_PROGRAMS: &[&str] = &[
    "fail2ban-client",
    "ipset",
    "nft",
    "iptables",
    "ip6tables",
    "ufw",
    "firewall-cmd",
    "cscli",
    "csf",
    "ip",
];

/// Where the tools `fix` drives sit, when not at their default places.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanOptions {
    /// fail2ban's configuration directory (jail.conf, jail.local, jail.d); `None`: no
    /// fail2ban prevention step is planned.
    pub fail2ban_config: Option<PathBuf>,
    /// Whether [`PlanOptions::fail2ban_config`] was named by the user (then the reload passes
    /// it to `fail2ban-client -c`), rather than found at its default place.
    pub fail2ban_config_named: bool,
    /// The socket of the fail2ban server (`fail2ban-client -s`), when not the default.
    pub fail2ban_socket: Option<PathBuf>,
    /// csf's configuration directory (`/etc/csf`), where `csf.ignore` is merged; `None`, or a
    /// directory that does not exist: no csf prevention step is planned.
    pub csf_dir: Option<PathBuf>,
    /// btwaf's directory (`/www/server/btwaf`), where `rule/ip_white.json` and
    /// `rule/ip_white_v6.json` are merged; `None`, or a directory that does not exist: no
    /// btwaf prevention step is planned.
    pub btwaf_dir: Option<PathBuf>,
    /// CrowdSec's `config.yaml` (`cscli -c`, `crowdsec -c`); `None`: `/etc/crowdsec/config.yaml`
    /// when it exists.
    pub crowdsec_config: Option<PathBuf>,
    /// nginx's main configuration file (`nginx -c`), when not `/etc/nginx/nginx.conf`.
    pub nginx_conf: Option<PathBuf>,
    /// Apache's main configuration file (`apache2ctl -f`), when not
    /// `/etc/apache2/apache2.conf`.
    pub apache_conf: Option<PathBuf>,
}

/// A plan: the steps in the order they run, and what is left for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Plan {
    /// The range set in use, as the report names it.
    pub ranges: String,
    /// The steps, in the order they run: lifts, then configuration writes, then reloads.
    pub steps: Vec<Step>,
    /// Bans and tools this plan does not handle, with why and what to do.
    pub left_for_person: Vec<LeftForPerson>,
    /// The errors of the scan the plan was built from (an unreadable file, a failed live
    /// read): a ban behind one of them is in no step, so the plan may be incomplete.
    pub scan_errors: Vec<String>,
}

impl Plan {
    /// Whether there is nothing to run.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Step {
    /// Lift one ban in force with the finding's own command.
    Lift {
        /// The tool that holds the ban.
        tool: Tool,
        /// Its jail, set, chain or rule.
        scope: String,
        /// The banned address or network.
        address: String,
        /// The Cloudflare range it lies in.
        range: String,
        /// The command, program first (run without a shell).
        argv: Vec<String>,
    },
    /// Write a fail2ban jail file with the ranges merged in: `jail.local` (created when
    /// missing), or a `jail.d` fragment that sets an `ignoreip` of its own (read after
    /// `jail.local`, so its value wins for its jails; only the `ignoreip` lines it has are
    /// extended, no `[DEFAULT]` one is added).
    WriteJailLocal {
        /// The file.
        path: PathBuf,
        /// Whether it exists now (otherwise it is created).
        exists: bool,
        /// Whether `[DEFAULT]`'s `ignoreip` gets the ranges (always in `jail.local`; in a
        /// fragment only when it sets one).
        extends_default: bool,
        /// The jails whose own `ignoreip` gets the ranges too.
        jails_extended: Vec<String>,
        /// What the merge keeps that needs a look (stale or over-broad entries).
        warnings: Vec<String>,
        /// The new content.
        content: String,
    },
    /// Write a tool's own ignore list with the ranges merged in: csf's `csf.ignore` (lfd never
    /// blocks an address it lists; `csf.allow` is not touched), btwaf's `rule/ip_white.json`
    /// and `rule/ip_white_v6.json`. Created when missing.
    WriteIgnoreList {
        /// The tool that reads the list.
        tool: Tool,
        /// The file.
        path: PathBuf,
        /// Whether it exists now (otherwise it is created).
        exists: bool,
        /// What the merge keeps that needs a look (stale or over-broad entries, lines the
        /// tool reads no address from).
        warnings: Vec<String>,
        /// The new content.
        content: String,
    },
    /// Write a configuration file that the tool's own program checks (CrowdSec's whitelist
    /// parser, nginx's or Apache's realip file): `check` runs with the new file in place in a
    /// private mount namespace and must exit 0 before the file is put in place. Created (mode
    /// 0644) when missing.
    WriteConfig {
        /// The tool that reads it.
        tool: Tool,
        /// The file.
        path: PathBuf,
        /// Whether it exists now (otherwise it is created).
        exists: bool,
        /// What it is for, in a few words ("the Cloudflare ranges as trusted proxies").
        purpose: String,
        /// The tool's check, program first (`nginx -T`, `crowdsec -c FILE -t`).
        check: Vec<String>,
        /// Whether the check prints every file the tool reads (`nginx -T`, `apache2ctl -t -D
        /// DUMP_INCLUDES`): then it must name this file, or the tool would never read it.
        check_names_file: bool,
        /// What the write keeps or needs that needs a look.
        warnings: Vec<String>,
        /// The new content.
        content: String,
    },
    /// Run a tool's own command that makes it allow the ranges, where the tool keeps its allow
    /// list itself (CrowdSec 1.6.6 and later: `cscli allowlists create` and `add`). Nothing to
    /// write or reload; the journal keeps `undo`, which `fix --undo` runs.
    Allow {
        /// The tool.
        tool: Tool,
        /// The command, program first (run without a shell).
        argv: Vec<String>,
        /// The command that undoes it (`cscli allowlists delete` or `remove`).
        undo: Vec<String>,
    },
    /// Reload a tool so that it reads its new configuration.
    Reload {
        /// The tool.
        tool: Tool,
        /// The command, program first (run without a shell).
        argv: Vec<String>,
    },
}

/// A ban or tool the plan leaves to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LeftForPerson {
    /// The tool.
    pub tool: Tool,
    /// The ban's scope, when this is about one ban.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The banned address, when this is about one ban.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Why `fix` does not do it.
    pub why: String,
    /// What to run instead, as shell words, when there is such a command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// The plan for `report`, with the range set the scan used.
///
/// Errors name the file that could not be read (`jail.local`, present but unreadable).
pub fn plan(report: &Report, ranges: &RangeSet, options: &PlanOptions) -> Result<Plan, String> {
    let mut steps = Vec::new();
    let mut left = Vec::new();
    let mut tools_in_force: Vec<Tool> = Vec::new();
    for f in report.findings.iter().filter(|f| f.active) {
        if !tools_in_force.contains(&f.tool) {
            tools_in_force.push(f.tool);
        }
        match lift_step(f, ranges) {
            Ok(step) => steps.push(step),
            Err(why) => left.push(LeftForPerson {
                tool: f.tool,
                scope: Some(f.scope.clone()),
                address: Some(f.address_text()),
                why,
                command: None,
            }),
        }
    }
    // A ban no current source confirms may be in force: never lifted blindly (its lift fails
    // where it is not), named for a person with its command.
    for f in report
        .findings
        .iter()
        .filter(|f| !f.active && f.state == BanState::Unconfirmed)
    {
        left.push(LeftForPerson {
            tool: f.tool,
            scope: Some(f.scope.clone()),
            address: Some(f.address_text()),
            why: format!(
                "possibly in force ({}): no live read confirms it; check, and lift it if it is",
                f.note.as_deref().unwrap_or("unconfirmed")
            ),
            command: f.lift.as_deref().map(crate::shell_words),
        });
    }
    // fail2ban's bans go first: its unban also removes the firewall entries its actions made.
    steps.sort_by_key(|s| {
        !matches!(
            s,
            Step::Lift {
                tool: Tool::Fail2ban,
                ..
            }
        )
    });
    let mut fail2ban_prevented = false;
    if let Some(dir) = &options.fail2ban_config {
        match super::fail2ban::steps(dir, ranges, options) {
            Ok(fail2ban) => {
                fail2ban_prevented = true;
                steps.extend(fail2ban);
            }
            Err(note) => left.push(note),
        }
    }
    let mut csf_prevented = false;
    if let Some(dir) = options.csf_dir.as_deref().filter(|d| d.is_dir()) {
        csf_prevented = true;
        if let Some(write) = csf_ignore_step(dir, ranges)? {
            steps.push(write);
            if Path::new(CSF_PROGRAM).is_file() {
                steps.push(Step::Reload {
                    tool: Tool::Csf,
                    argv: vec!["csf".to_string(), "-r".to_string()],
                });
            } else {
                left.push(LeftForPerson {
                    tool: Tool::Csf,
                    scope: None,
                    address: None,
                    why: format!(
                        "{CSF_PROGRAM} is not there: after the write, reload csf where it runs"
                    ),
                    command: Some("csf -r".to_string()),
                });
            }
        }
    }
    let mut btwaf_prevented = false;
    if let Some(dir) = options.btwaf_dir.as_deref().filter(|d| d.is_dir()) {
        btwaf_prevented = true;
        let mut written = false;
        for (file, v6) in [(btwaf::IP_WHITE, false), (btwaf::IP_WHITE_V6, true)] {
            let path = dir.join(file);
            let (existing, exists) = read_text(&path)?;
            match btwaf::merge_ip_white(&existing, ranges, v6) {
                Some(merged) if merged == existing && exists => {}
                Some(content) => {
                    written = true;
                    steps.push(Step::WriteIgnoreList {
                        tool: Tool::Btwaf,
                        path,
                        exists,
                        warnings: Vec::new(),
                        content,
                    });
                }
                None => left.push(LeftForPerson {
                    tool: Tool::Btwaf,
                    scope: None,
                    address: None,
                    why: format!(
                        "{}: not a JSON array: fix does not merge into it",
                        path.display()
                    ),
                    command: Some("cf-ban-audit snippet btwaf".to_string()),
                }),
            }
        }
        if written {
            left.push(LeftForPerson {
                tool: Tool::Btwaf,
                scope: None,
                address: None,
                why: "btwaf reads its whitelist when nginx reloads: fix does not reload it (the panel does)".to_string(),
                command: Some("nginx -s reload".to_string()),
            });
        }
    }
    let (realip, realip_left) = super::realip::realip_steps(report, options, ranges)?;
    let realip_prevented: Vec<Tool> = realip
        .iter()
        .filter_map(|s| match s {
            Step::WriteConfig { tool, .. } => Some(*tool),
            _ => None,
        })
        .collect();
    steps.extend(realip);
    left.extend(realip_left);
    // CrowdSec: its own steps say what is left (a reload, a console-managed list).
    let crowdsec_prevented = super::crowdsec::config_in_use(options).is_some();
    let (crowdsec, crowdsec_left) = super::crowdsec::crowdsec_steps(options, ranges)?;
    steps.extend(crowdsec);
    left.extend(crowdsec_left);
    for tool in tools_in_force {
        if realip_prevented.contains(&tool) {
            continue;
        }
        if (tool == Tool::Fail2ban && fail2ban_prevented)
            || (tool == Tool::Csf && csf_prevented)
            || (tool == Tool::Btwaf && btwaf_prevented)
            || (tool == Tool::Crowdsec && crowdsec_prevented)
        {
            continue;
        }
        let target = snippet_target(tool);
        left.push(LeftForPerson {
            tool,
            scope: None,
            address: None,
            why: match (tool, target) {
                (Tool::Fail2ban, _) => "fail2ban's configuration directory is not known: name it with --fail2ban-config DIR".to_string(),
                (Tool::Hestia, _) => "Hestia's bans come from fail2ban's hestia action: add the ranges to fail2ban's ignoreip (fix merges it when it knows fail2ban's configuration: --fail2ban-config DIR)".to_string(),
                (_, Some(_)) => format!("fix does not write {}'s allow list yet: add the ranges with the snippet", tool.name()),
                (_, None) => format!("fix cannot prevent {}'s bans: stop what adds them", tool.name()),
            },
            command: target.map(|t| format!("cf-ban-audit snippet {}", t.name())),
        });
    }
    Ok(Plan {
        ranges: report.ranges.source.clone(),
        steps,
        left_for_person: left,
        scan_errors: report.errors.iter().map(|e| e.message.clone()).collect(),
    })
}

/// The lift step of a finding in force, or why it is left for a person.
fn lift_step(f: &Finding, ranges: &RangeSet) -> Result<Step, String> {
    if !ranges.covers(&f.address) {
        return Err(format!(
            "{} is not wholly inside the range set in use: lifting it would unban other addresses",
            f.address_text()
        ));
    }
    let Some(argv) = &f.lift else {
        return Err(f
            .lift_unavailable
            .clone()
            .unwrap_or_else(|| "no lift command is known for this ban".to_string()));
    };
    let program = argv.first().map(String::as_str).unwrap_or("");
    if !LIFT_PROGRAMS.contains(&program) {
        return Err(format!(
            "the lift command runs {program:?}, which fix does not run"
        ));
    }
    Ok(Step::Lift {
        tool: f.tool,
        scope: f.scope.clone(),
        address: f.address_text(),
        range: f.range.to_string(),
        argv: argv.clone(),
    })
}

/// What a merge of `target` into `existing` keeps that needs a look, as text.
pub(super) fn merge_warnings(
    target: Target,
    existing: &str,
    ranges: &RangeSet,
    options: MergeOptions,
) -> Vec<String> {
    target
        .merge_warnings_with(existing, ranges, options)
        .iter()
        .map(|w| w.to_string())
        .collect()
}

/// Where csf is installed; its reload is run only when it is there.
const CSF_PROGRAM: &str = "/usr/sbin/csf";

/// The write of `DIR/csf.ignore` with the ranges merged in, or `None` when lfd already reads
/// every range from it.
fn csf_ignore_step(dir: &Path, ranges: &RangeSet) -> Result<Option<Step>, String> {
    let path = dir.join("csf.ignore");
    let (existing, exists) = read_text(&path)?;
    let merged = Target::Csf
        .merge_with(&existing, ranges, MergeOptions::default())
        .ok_or("csf.ignore cannot be merged")?;
    let covered = check::check_text(&path, &existing, ranges)
        .missing
        .is_empty();
    if exists && (merged == existing || covered) {
        return Ok(None);
    }
    Ok(Some(Step::WriteIgnoreList {
        tool: Tool::Csf,
        warnings: merge_warnings(Target::Csf, &existing, ranges, MergeOptions::default()),
        path,
        exists,
        content: merged,
    }))
}

/// A file's text and whether it exists (empty when it does not).
pub(super) fn read_text(path: &Path) -> Result<(String, bool), String> {
    match std::fs::read(path) {
        Ok(bytes) => Ok((
            String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", path.display()))?,
            true,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((String::new(), false)),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// The snippet that prevents a tool's bans, when there is one.
fn snippet_target(tool: Tool) -> Option<Target> {
    Some(match tool {
        Tool::Fail2ban => Target::Fail2ban,
        Tool::Csf => Target::Csf,
        Tool::Crowdsec => Target::Crowdsec,
        Tool::Btwaf => Target::Btwaf,
        Tool::Modsecurity => Target::Modsecurity,
        Tool::ModEvasive => Target::ModEvasive,
        Tool::NginxLimit | Tool::NginxDeny => Target::NginxRealip,
        Tool::ApacheDeny => Target::ApacheRemoteip,
        Tool::Iptables => Target::Iptables,
        Tool::Ipset => Target::Ipset,
        Tool::Nftables => Target::Nftables,
        Tool::Ufw => Target::Ufw,
        Tool::Firewalld => Target::Firewalld,
        // Their white lists are checked before their black lists (DirectAdmin's ip_whitelist:
        // "never become blocked"; Plesk's trusted addresses, which its jails do not ban).
        Tool::Cphulk => Target::Cphulk,
        Tool::Imunify360 => Target::Imunify360,
        Tool::Directadmin => Target::Directadmin,
        Tool::Plesk => Target::Plesk,
        // Hestia's bans are fail2ban's, through its hestia action: fail2ban's ignoreip
        // prevents them (Hestia's own ACCEPT rules come after its fail2ban chains).
        Tool::Hestia => Target::Fail2ban,
        _ => return None,
    })
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
