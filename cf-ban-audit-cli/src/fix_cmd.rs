//! `cf-ban-audit fix`: scan with live state, print the plan (lifts of the bans in force on
//! Cloudflare addresses, the fail2ban `jail.local` merge and reload, what is left for a
//! person), and with `--apply` run it, journal it and re-scan; `--undo JOURNAL` restores the
//! configuration files a run replaced.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use cf_ban_audit_core::fix::apply::{self, StepOutcome, Verdict};
use cf_ban_audit_core::fix::files::stamp_now;
use cf_ban_audit_core::fix::journal::{self, Journal};
use cf_ban_audit_core::fix::plan::{self, Plan, PlanOptions, Step};
use cf_ban_audit_core::{RangeSet, Report, Scanner};
use clap::Args;

use crate::args::{CheckFormat, LiveOpts, RangeOpts};
use crate::{say, Failure, ERROR, FOUND, OK};

/// `fix`'s arguments.
#[derive(Debug, Args)]
pub struct FixArgs {
    /// Files or directories to scan besides the live state. Default: /var/log and the known
    /// ban-list and database locations.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Run the plan (without it nothing is changed). On a terminal it asks once; elsewhere
    /// it needs --yes.
    #[arg(long)]
    pub apply: bool,
    /// With --apply: do not ask.
    #[arg(long, requires = "apply")]
    pub yes: bool,
    /// With --apply: the journal to write (default /var/lib/cf-ban-audit/fix-STAMP.jsonl).
    #[arg(long, value_name = "FILE", requires = "apply")]
    pub journal: Option<PathBuf>,
    /// Restore the configuration files a fix replaced, from the backups its journal names
    /// (bans are not re-added).
    #[arg(long, value_name = "JOURNAL", conflicts_with_all = ["apply", "paths"])]
    pub undo: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// fail2ban's configuration directory (jail.conf, jail.d, jail.local), where jail.local
    /// is merged (default /etc/fail2ban when it holds jail.conf).
    #[arg(long, value_name = "DIR", env = "CF_BAN_AUDIT_FAIL2BAN_CONFIG")]
    pub fail2ban_config: Option<PathBuf>,
    /// csf's configuration directory, where csf.ignore is merged (lfd never blocks what it
    /// lists; csf.allow is not touched). No csf step when the directory does not exist.
    #[arg(long, value_name = "DIR", default_value = "/etc/csf")]
    pub csf_dir: PathBuf,
    /// btwaf's directory, where rule/ip_white.json and rule/ip_white_v6.json are merged (the
    /// panel's nginx reload makes btwaf read them). No btwaf step when it does not exist.
    #[arg(long, value_name = "DIR", default_value = "/www/server/btwaf")]
    pub btwaf_dir: PathBuf,
    /// nginx's main configuration file: where its realip configuration is added (in the
    /// conf.d directory beside it) when visitor addresses are not restored, checked by
    /// `nginx -t -c FILE` and reloaded with `nginx -c FILE -s reload` (default: the system's
    /// nginx, /etc/nginx/nginx.conf).
    #[arg(long, value_name = "FILE")]
    pub nginx_conf: Option<PathBuf>,
    /// Apache's main configuration file: where its mod_remoteip configuration is added when
    /// visitor addresses are not restored, checked by `apache2ctl -f FILE -t` (default: the
    /// system's Apache, /etc/apache2/apache2.conf).
    #[arg(long, value_name = "FILE")]
    pub apache_conf: Option<PathBuf>,
    #[command(flatten)]
    pub live_opts: LiveOpts,
    #[command(flatten)]
    pub ranges: RangeOpts,
    #[command(flatten)]
    pub config_opts: crate::args::ConfigOpts,
}

/// Runs `fix`.
pub fn run(mut a: FixArgs) -> Result<u8, Failure> {
    if let Some(journal) = &a.undo {
        return undo(journal);
    }
    let config = crate::config::load(a.config_opts.config.as_deref()).map_err(Failure::Message)?;
    config.fill(
        &mut a.ranges,
        &mut a.live_opts,
        &mut a.fail2ban_config,
        &mut a.config_opts,
    );
    let (ranges, source) = crate::load_ranges(&a.ranges)?;
    let options = plan_options(&a);
    let report = scan(&a, ranges.clone(), source.clone())?;
    let plan = plan::plan(&report, &ranges, &options).map_err(Failure::Message)?;
    let mut out = io::stdout().lock();
    if !a.apply {
        match a.format {
            CheckFormat::Text => {
                write_plan(&mut out, &plan)?;
                if !plan.is_empty() {
                    writeln!(
                        out,
                        "\nNothing was changed: run again with --apply to do this."
                    )?;
                }
            }
            CheckFormat::Json => json(&mut out, &serde_json::json!({ "plan": plan }))?,
        }
        out.flush()?;
        let clear = plan.is_empty() && !report.findings.iter().any(|f| f.active);
        return Ok(status(&report, &plan, clear));
    }
    if a.format == CheckFormat::Text {
        write_plan(&mut out, &plan)?;
        out.flush()?;
    }
    if plan.is_empty() {
        if a.format == CheckFormat::Json {
            json(
                &mut out,
                &serde_json::json!({ "plan": plan, "applied": [] }),
            )?;
        }
        let clear = !report.findings.iter().any(|f| f.active);
        return Ok(status(&report, &plan, clear));
    }
    if !a.yes {
        if !io::stdin().is_terminal() {
            return Err(Failure::Message(
                "--apply without a terminal to ask on: add --yes to apply without asking"
                    .to_string(),
            ));
        }
        match plan.steps.len() {
            1 => eprint!("Apply this step? [y/N] "),
            n => eprint!("Apply these {n} steps? [y/N] "),
        }
        let mut answer = String::new();
        io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            say("nothing was changed");
            return Ok(status(&report, &plan, false));
        }
    }
    let stamp = stamp_now();
    let journal_path = a
        .journal
        .clone()
        .unwrap_or_else(|| Journal::default_path(&stamp));
    let mut journal =
        Journal::create(&journal_path).map_err(|e| Failure::Message(e.to_string()))?;
    let outcomes = apply::apply(&plan, &ranges, &mut journal, &stamp)
        .map_err(|e| Failure::Message(format!("the journal: {e}")))?;
    let rescan = scan(&a, ranges.clone(), source)?;
    let verdict = apply::verdict(&plan, &outcomes, &rescan, &ranges);
    match a.format {
        CheckFormat::Text => write_result(&mut out, &outcomes, &verdict, journal.path())?,
        CheckFormat::Json => json(
            &mut out,
            &serde_json::json!({
                "plan": plan,
                "applied": outcomes,
                "journal": journal.path(),
                "verdict": verdict,
            }),
        )?,
    }
    out.flush()?;
    let failed = outcomes.iter().any(|o| o.outcome.starts_with("failed"));
    let clear = verdict.all_clear() && !failed;
    Ok(if rescan.errors.is_empty() {
        status(&report, &plan, clear)
    } else {
        ERROR
    })
}

/// The exit status: 2 when the scan met an error (a ban may hide behind it), 1 when a ban is
/// in force or possibly so (an unconfirmed one the plan leaves for a person), else 0.
fn status(report: &Report, plan: &Plan, clear: bool) -> u8 {
    let possibly_in_force = plan.left_for_person.iter().any(|l| l.address.is_some());
    if !report.errors.is_empty() {
        ERROR
    } else if clear && !possibly_in_force {
        OK
    } else {
        FOUND
    }
}

/// Where fail2ban's configuration is: `--fail2ban-config`, else /etc/fail2ban when it holds
/// jail.conf.
fn plan_options(a: &FixArgs) -> PlanOptions {
    let default = Path::new("/etc/fail2ban");
    let mut options = PlanOptions::default();
    options.fail2ban_config_named = a.fail2ban_config.is_some();
    options.fail2ban_config = a
        .fail2ban_config
        .clone()
        .or_else(|| default.join("jail.conf").is_file().then(|| default.into()));
    options.fail2ban_socket = a.live_opts.fail2ban_socket.clone();
    options.csf_dir = Some(a.csf_dir.clone());
    options.btwaf_dir = Some(a.btwaf_dir.clone());
    options.crowdsec_config = a.live_opts.cscli_config.clone();
    options.nginx_conf = a.nginx_conf.clone();
    options.apache_conf = a.apache_conf.clone();
    options
}

/// The scan with live state, as `scan --live` with the same options; its errors on stderr.
fn scan(a: &FixArgs, ranges: RangeSet, source: String) -> Result<Report, Failure> {
    let mut scanner = Scanner::new(ranges).ranges_source(source).live(true);
    if let Some(socket) = &a.live_opts.fail2ban_socket {
        scanner = scanner.fail2ban_socket(socket);
    }
    if let Some(config) = &a.live_opts.cscli_config {
        scanner = scanner.cscli_config(config);
    }
    if let Some(dir) = plan_options(a).fail2ban_config {
        scanner = scanner.fail2ban_config(dir);
    }
    for pattern in &a.config_opts.exclude {
        scanner = scanner.exclude(pattern).map_err(Failure::Message)?;
    }
    if a.paths.is_empty() {
        // As scan: the default places' unreadable parts are notes, the configuration's
        // places are named.
        for path in cf_ban_audit_core::existing_default_paths() {
            scanner = scanner.default_path(path);
        }
        for path in &a.config_opts.paths {
            scanner = scanner.path(path);
        }
    }
    for path in &a.paths {
        scanner = scanner.path(path);
    }
    let report = scanner.scan();
    for e in &report.errors {
        say(&e.message);
    }
    Ok(report)
}

/// A command as shell words, printable.
fn words(argv: &[String]) -> String {
    let line: Vec<String> = argv.iter().map(|w| crate::render::shell_word(w)).collect();
    crate::escape::printable(&line.join(" "))
}

/// One line for a step.
fn describe(step: &Step) -> String {
    match step {
        Step::Lift {
            tool,
            scope,
            address,
            argv,
            ..
        } => format!(
            "lift    {tool} {} {address}: {}",
            crate::escape::printable(scope),
            words(argv)
        ),
        Step::WriteJailLocal {
            path,
            exists,
            extends_default,
            jails_extended,
            ..
        } => {
            let mut sections = Vec::new();
            if *extends_default {
                sections.push("[DEFAULT]".to_string());
            }
            sections.extend(jails_extended.iter().map(|j| format!("[{j}]")));
            format!(
                "write   {}{}: the Cloudflare ranges into ignoreip of {} ({}checked by fail2ban-client -d first)",
                crate::escape::printable(&path.display().to_string()),
                if *exists { "" } else { " (new)" },
                crate::escape::printable(&sections.join(", ")),
                if *exists { "backup beside it, " } else { "" }
            )
        }
        Step::WriteIgnoreList {
            tool, path, exists, ..
        } => format!(
            "write   {}{}: the Cloudflare ranges, so that {tool} never blocks them ({}read back as {tool} reads it first: {tool} has no check of its own)",
            crate::escape::printable(&path.display().to_string()),
            if *exists { "" } else { " (new)" },
            if *exists { "backup beside it, " } else { "" }
        ),
        Step::WriteConfig {
            path,
            exists,
            purpose,
            check,
            ..
        } => format!(
            "write   {}{}: {} ({}checked by {} first)",
            crate::escape::printable(&path.display().to_string()),
            if *exists { "" } else { " (new)" },
            crate::escape::printable(purpose),
            if *exists { "backup beside it, " } else { "" },
            words(check)
        ),
        Step::Allow { tool, argv, .. } => format!("allow   {tool}: {}", words(argv)),
        Step::Reload { tool, argv } => format!("reload  {tool}: {}", words(argv)),
        _ => String::new(),
    }
}

/// The plan for people.
fn write_plan(out: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    writeln!(
        out,
        "Plan ({} steps; ranges: {}):",
        plan.steps.len(),
        crate::escape::printable(&plan.ranges)
    )?;
    if plan.steps.is_empty() {
        writeln!(out, "  nothing to do")?;
    }
    for (i, step) in plan.steps.iter().enumerate() {
        writeln!(out, "  {:>2}. {}", i + 1, describe(step))?;
        if let Step::WriteJailLocal { warnings, .. }
        | Step::WriteIgnoreList { warnings, .. }
        | Step::WriteConfig { warnings, .. } = step
        {
            for w in warnings {
                writeln!(out, "      note: {}", crate::escape::printable(w))?;
            }
        }
    }
    write_left(out, &plan.left_for_person)?;
    write_errors(out, "The scan", &plan.scan_errors)
}

/// A scan's errors: a ban behind one of them is in no list above.
fn write_errors(out: &mut dyn Write, which: &str, errors: &[String]) -> io::Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "{which} met {} error{}; a ban behind one is in no list above:",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    )?;
    for e in errors {
        writeln!(out, "  - {}", crate::escape::printable(e))?;
    }
    Ok(())
}

/// What is left for a person.
fn write_left(
    out: &mut dyn Write,
    left: &[cf_ban_audit_core::fix::plan::LeftForPerson],
) -> io::Result<()> {
    if left.is_empty() {
        return Ok(());
    }
    writeln!(out, "Left for a person:")?;
    for l in left {
        let what = match (&l.scope, &l.address) {
            (Some(scope), Some(address)) => format!("{} {scope} {address}", l.tool),
            _ => l.tool.to_string(),
        };
        let command = l
            .command
            .as_deref()
            .map(|c| format!(" (run: {c})"))
            .unwrap_or_default();
        writeln!(
            out,
            "  - {}: {}{command}",
            crate::escape::printable(&what),
            crate::escape::printable(&l.why)
        )?;
    }
    Ok(())
}

/// What was done and what the re-scan says.
fn write_result(
    out: &mut dyn Write,
    outcomes: &[StepOutcome],
    verdict: &Verdict,
    journal: &Path,
) -> io::Result<()> {
    writeln!(out, "\nApplied:")?;
    for (i, o) in outcomes.iter().enumerate() {
        writeln!(out, "  {:>2}. {}", i + 1, describe(&o.step))?;
        writeln!(out, "      {}", crate::escape::printable(&o.outcome))?;
    }
    writeln!(
        out,
        "Journal: {} (undo the configuration changes: cf-ban-audit fix --undo {0})",
        crate::escape::printable(&journal.display().to_string())
    )?;
    writeln!(out, "\nAfter the fix (re-scan with live state):")?;
    for (what, bans) in [
        ("bans lifted", &verdict.lifted),
        ("bans still in force", &verdict.still_in_force),
    ] {
        writeln!(out, "  {what}: {}", bans.len())?;
        for b in bans {
            writeln!(
                out,
                "    {} {} {}",
                b.tool,
                crate::escape::printable(&b.scope),
                b.address
            )?;
        }
    }
    for i in &verdict.now_ignore {
        match &i.purpose {
            Some(purpose) => writeln!(
                out,
                "  now configured: {} ({})",
                crate::escape::printable(purpose),
                crate::escape::printable(&i.path)
            )?,
            None => writeln!(
                out,
                "  now ignores Cloudflare: {} ({})",
                i.tool,
                crate::escape::printable(&i.path)
            )?,
        }
    }
    write_left(out, &verdict.left_for_person)?;
    write_errors(out, "The re-scan", &verdict.scan_errors)
}

/// One JSON document.
fn json(out: &mut dyn Write, value: &serde_json::Value) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// `--undo JOURNAL`: restores the backups; says which, and that the tools must reload.
fn undo(journal_path: &Path) -> Result<u8, Failure> {
    let restored = journal::undo(journal_path).map_err(|e| Failure::Message(e.to_string()))?;
    let mut out = io::stdout().lock();
    if restored.is_empty() {
        writeln!(
            out,
            "Nothing to restore: the journal names no file written."
        )?;
    }
    for path in &restored {
        writeln!(
            out,
            "Restored {} (removed, when the fix had created it)",
            crate::escape::printable(&path.display().to_string())
        )?;
    }
    // The tools read their files again only when reloaded: the reloads the fix ran.
    let mut reloads: Vec<Vec<String>> = Vec::new();
    for entry in journal::read(journal_path).map_err(|e| Failure::Message(e.to_string()))? {
        if let (true, Some(argv)) = (entry.action == "reload", &entry.argv) {
            if !reloads.contains(argv) {
                reloads.push(argv.clone());
            }
        }
        if let (true, Some(argv)) = (
            entry.action == "allow" && entry.outcome == "done",
            &entry.undo_argv,
        ) {
            writeln!(out, "Took back: {}", words(argv))?;
        }
    }
    if !restored.is_empty() {
        for argv in &reloads {
            writeln!(out, "Reload again: {}", words(argv))?;
        }
        if reloads.is_empty() {
            writeln!(out, "Reload each tool whose file was restored.")?;
        }
    }
    out.flush()?;
    Ok(OK)
}
