//! `cf-ban-audit scan`: the scanner set up from the options and the configuration file, the
//! report written in its format, and the exit status (the Nagios plugin's own when
//! `--format nagios`).

use std::io::{self, IsTerminal, Write};
use std::time::Instant;

use cf_ban_audit_core::{BanState, Scanner, Tool};

use crate::args::{self, ScanArgs};
use crate::monitor::{self, nagios};
use crate::{config, jsonl, load_ranges_dated, output, render, say, Failure, ERROR, FOUND, OK};

/// Runs `scan`.
pub(crate) fn scan(mut a: ScanArgs) -> Result<u8, Failure> {
    if let Some(seconds) = a.nagios.timeout {
        nagios::watchdog(seconds);
    }
    let started = Instant::now();
    let is_nagios = a.format == args::OutputFormat::Nagios;
    if a.nagios.given() && !is_nagios {
        return Err(Failure::Message(
            "-w/--warning, -c/--critical and --past-since are for --format nagios".to_string(),
        ));
    }
    let check = is_nagios
        .then(|| nagios::Check::new(&a.nagios, chrono::Local::now().naive_local()))
        .transpose()
        .map_err(Failure::Message)?;
    let config = config::load(a.config_opts.config.as_deref()).map_err(Failure::Message)?;
    config.fill(
        &mut a.ranges,
        &mut a.live_opts,
        &mut a.fail2ban_config,
        &mut a.config_opts,
    );
    a.since = config.since(a.since);
    config.labels(&mut a.labels);
    let (ranges, source, ranges_time) = load_ranges_dated(&a.ranges)?;
    let mut scanner = Scanner::new(ranges)
        .ranges_source(source)
        .follow_links(a.follow_links)
        .active_only(a.active)
        .live(a.live);
    if let Some(socket) = &a.live_opts.fail2ban_socket {
        scanner = scanner.fail2ban_socket(socket);
    }
    if let Some(config) = &a.live_opts.cscli_config {
        scanner = scanner.cscli_config(config);
    }
    if let Some(n) = a.threads {
        scanner = scanner.threads(n);
    }
    if let Some(since) = &a.since {
        let now = chrono::Local::now().naive_local();
        scanner = scanner.since(args::parse_since(since, now).map_err(Failure::Message)?);
    }
    if !a.source.is_empty() {
        let mut tools = Vec::new();
        for name in &a.source {
            let tool = Tool::from_name(name.trim()).ok_or_else(|| {
                let known: Vec<&str> = Tool::ALL.iter().map(|t| t.name()).collect();
                Failure::Message(format!(
                    "--source: unknown tool {name:?} (known: {})",
                    known.join(", ")
                ))
            })?;
            tools.push(tool);
        }
        scanner = scanner.sources(&tools);
    }
    for pattern in &a.config_opts.exclude {
        scanner = scanner.exclude(pattern).map_err(Failure::Message)?;
    }
    let default_config = std::path::Path::new("/etc/fail2ban");
    let config = a.fail2ban_config.clone().or_else(|| {
        // Scanning the default places: fail2ban's configuration is at its default place.
        (a.paths.is_empty() && default_config.join("jail.conf").is_file())
            .then(|| default_config.to_path_buf())
    });
    if let Some(dir) = config {
        scanner = scanner.fail2ban_config(dir);
    }
    if a.paths.is_empty() {
        // The default places, whose unreadable parts are notes (root would read them), and
        // the configuration's places, which the user named.
        for path in cf_ban_audit_core::existing_default_paths() {
            scanner = scanner.default_path(path);
        }
        for path in &a.config_opts.paths {
            scanner = scanner.path(path);
        }
    }
    for path in &a.paths {
        if path.as_os_str() == "-" {
            // Streamed, never held whole; read once however often `-` is given.
            scanner = scanner.stdin(io::stdin());
        } else {
            scanner = scanner.path(path);
        }
    }
    let bar = (!a.quiet && !is_nagios && io::stderr().is_terminal()).then(render::progress_bar);
    if let Some(bar) = &bar {
        let bar = bar.clone();
        scanner = scanner.on_progress(move |done, total| render::progress(&bar, done, total));
    }
    let mut report = scanner.scan();
    if let Some(host) = &a.host {
        report.host = Some(host.clone());
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let elapsed = started.elapsed();
    // The report is complete: the timeout no longer ends the run.
    nagios::finish();
    if !is_nagios {
        for e in &report.errors {
            say(&e.message);
        }
    }
    // 1 only for a ban in force or possibly so, or a challenge in force (a ban where the
    // bouncer has no captcha): a lifted or expired ban is no alarm.
    let in_force = report.findings.iter().any(|f| {
        matches!(
            f.state,
            BanState::Active | BanState::Unconfirmed | BanState::Challenge
        )
    });
    let mut code = if !report.errors.is_empty() {
        ERROR
    } else if in_force {
        FOUND
    } else {
        OK
    };
    // The plugin's status line, written whole below; its exit status replaces the scan's.
    let mut plugin_text = Vec::new();
    if let Some(mut check) = check {
        check.elapsed = Some(elapsed);
        check.messages = nagios::taken();
        code = monitor::nagios(&mut plugin_text, &report, &check)?;
    }
    let prom = monitor::PromOptions {
        labels: a.labels.clone(),
        duration: elapsed,
        ranges_time,
    };
    let written = write_report(&a, &report, &plugin_text, &prom);
    // The process ends next, and its memory goes back whole: freeing the report a finding at
    // a time only delays the exit (some 13 ms for the 15,000 findings of the dense benchmark).
    std::mem::forget(report);
    match written {
        // A reader that went away (`scan | head -1`) does not change what was found.
        Err(Failure::BrokenPipe) => Ok(code),
        Err(e) => Err(e),
        Ok(()) => Ok(code),
    }
}

/// Writes the scan's report in its format to standard output or `--output` (`plugin_text`
/// is the Nagios status line and long output, already made; `prom` what the metrics say
/// beyond the report).
fn write_report(
    a: &ScanArgs,
    report: &cf_ban_audit_core::Report,
    plugin_text: &[u8],
    prom: &monitor::PromOptions,
) -> Result<(), Failure> {
    let mut buffer = Vec::new();
    let mut stdout = io::stdout().lock();
    let out: &mut dyn Write = if a.output.is_some() {
        &mut buffer
    } else {
        &mut stdout
    };
    let color = match a.color {
        args::ColorChoice::Always => true,
        args::ColorChoice::Never => false,
        args::ColorChoice::Auto => {
            io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    match a.format {
        // `-q` and `-o` do not mix (the arguments refuse it): quiet means no report at all.
        _ if a.quiet => {}
        args::OutputFormat::Text => {
            let opts = render::TextOptions {
                color: color && a.output.is_none(),
                width: (!a.wide).then(|| text_width(a.output.is_none())),
            };
            render::text(out, report, &opts)?
        }
        args::OutputFormat::Json => render::json(out, report)?,
        args::OutputFormat::Jsonl => jsonl::write(out, report)?,
        args::OutputFormat::Prometheus => monitor::prometheus(out, report, prom)?,
        args::OutputFormat::Nagios => out.write_all(plugin_text)?,
    }
    out.flush()?;
    if let Some(path) = &a.output {
        // Metrics are for node_exporter, which runs as another user: a new file is 0644
        // whatever the umask (an existing one keeps the mode its owner gave it).
        let written = match a.format {
            args::OutputFormat::Prometheus => output::write_file_new_mode(path, &buffer, 0o644),
            _ => output::write_file(path, &buffer),
        };
        written.map_err(Failure::Message)?;
    }
    Ok(())
}

/// The width the text report fits: `COLUMNS` when set, else the terminal's when the report
/// goes to one, else 80 columns; never under 40.
pub(crate) fn text_width(to_stdout: bool) -> usize {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    let terminal = || {
        to_stdout
            .then(|| console::Term::stdout().size_checked())
            .flatten()
            .map(|(_rows, cols)| usize::from(cols))
    };
    columns.or_else(terminal).unwrap_or(80).max(40)
}
