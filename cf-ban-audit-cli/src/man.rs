//! `cf-ban-audit man`: the manual pages. `cf-ban-audit.1` has what a user looks for in a
//! manual (commands, exit status, environment, files, examples, see also); each command has its
//! own page (`cf-ban-audit-scan.1`, `cf-ban-audit-ranges-update.1`, ...), which the main page
//! names. clap_mangen renders the synopsis lines' options and the OPTIONS sections from the
//! clap definitions; the rest is written here with its roff crate, which escapes the text.

use std::io::{self, Write};
use std::path::Path;

use clap::Command;
use clap_mangen::roff::{bold, italic, roman, Inline, Roff};
use clap_mangen::Man;

/// The manual section of every page.
const SECTION: &str = "1";

/// What each exit status means, per command (the README's "Exit status" and each command's
/// help). A command's statuses are listed in the order 0, 1, 2, then any other.
const EXIT_STATUS: &[(&str, &[(u8, &str)])] = &[
    ("scan", &[
        (0, "no ban in force (none found, or only past ones)"),
        (1, "a ban in force or possibly so (active or unconfirmed), or a challenge in force"),
        (2, "an error (a path that could not be read, bad arguments); findings are still printed"),
    ]),
    ("scan --format nagios", &[
        (0, "OK: nothing in force (past bans in the performance data)"),
        (1, "WARNING: bans possibly in force (unconfirmed), or challenges in force"),
        (2, "CRITICAL: bans in force"),
        (3, "UNKNOWN: errors and nothing in force (no all-clear can be given)"),
    ]),
    ("snippet", &[(0, "the snippet was printed"), (2, "an error")]),
    ("check", &[
        (0, "every file covers the ranges"),
        (1, "gaps"),
        (2, "an error"),
    ]),
    ("doctor", &[
        (0, "no FAIL (warnings allowed)"),
        (1, "any FAIL"),
        (2, "an error"),
    ]),
    ("probe", &[
        (0, "the origin answers 2xx or 3xx"),
        (1, "Cloudflare would show an error, or the origin answers 4xx or 5xx"),
        (2, "the probe could not run"),
    ]),
    ("fix", &[
        (0, "nothing left in force (or nothing to do)"),
        (1, "bans or failed steps left"),
        (2, "an error (also --apply without a terminal and without --yes)"),
    ]),
    ("ranges", &[(0, "the range set was printed, or updated"), (2, "an error")]),
    ("formats", &[(0, "the list was printed")]),
    ("merge", &[
        (0, "the merged reports hold no finding"),
        (1, "findings"),
        (2, "an error (a report that cannot be read)"),
    ]),
    ("completions", &[(0, "the script was printed"), (2, "an error")]),
    ("man", &[(0, "the page was printed or the pages written"), (2, "an error")]),
    ("contains", &[
        (0, "every ADDRESS lies in the range set in use"),
        (1, "at least one does not"),
        (2, "an error (not an address or CIDR)"),
    ]),
];

/// The environment variables the program reads, with what they do. Those that stand for an
/// option name it (the commands taking it are found from the clap definitions).
const ENVIRONMENT: &[(&str, &str)] = &[
    ("NO_COLOR", "When set and not empty, the text report is not coloured (with --color auto, the default)."),
    ("COLUMNS", "The width the text report fits (default: the terminal's, else 80 columns)."),
    ("CF_BAN_AUDIT_CACHE", "The range cache file, for reading and for ranges update, instead of the default place (see FILES). A file writable by others is still ignored."),
    ("XDG_CACHE_HOME", "A user's range cache is $XDG_CACHE_HOME/cf-ban-audit/ips.json (an absolute path only; not for root)."),
    ("HOME", "Without XDG_CACHE_HOME, a user's range cache is $HOME/.cache/cf-ban-audit/ips.json (not for root)."),
    ("CF_BAN_AUDIT_FAIL2BAN_CONFIG", "fail2ban's configuration directory: the default of --fail2ban-config."),
    ("CF_BAN_AUDIT_FAIL2BAN_SOCKET", "The fail2ban server's socket for the live read: the default of --fail2ban-socket."),
    ("CF_BAN_AUDIT_CSCLI_CONFIG", "CrowdSec's configuration for the live read (cscli -c): the default of --cscli-config."),
    ("CF_BAN_AUDIT_CONFIG", "The configuration file: the default of --config (see FILES)."),
];

/// The README's usage examples (its "Usage" block; a test keeps the two the same).
const EXAMPLES: &str = "\
cf-ban-audit scan                      # /var/log and every tool's default places, absent ones skipped
cf-ban-audit scan /var/log /srv/logs   # any files and directories
sudo cf-ban-audit scan --live          # also the live iptables (nft and legacy)/ipset/nft/route/ufw/firewalld/fail2ban/cscli state
sudo cf-ban-audit scan --live --fail2ban-socket /run/fail2ban-web/fail2ban.sock   # a second fail2ban
cf-ban-audit scan --active --format json /var/log > report.json
cf-ban-audit scan --since 7d --source fail2ban,modsecurity /var/log
fail2ban-client banned | cf-ban-audit scan -                   # standard input
cf-ban-audit snippet fail2ban --existing /etc/fail2ban/jail.local > jail.local.new
cf-ban-audit snippet nginx-realip > /etc/nginx/conf.d/cloudflare-realip.conf
cf-ban-audit check /etc/fail2ban/jail.local /etc/csf/csf.ignore    # is my allowlist still right?
cf-ban-audit check --fail2ban-config /etc/fail2ban   # jail.local and every jail.d fragment
cf-ban-audit ranges                    # the range set in use, with its date and etag
cf-ban-audit ranges update             # fetch the current list (API JSON, text lists as fallback)
cf-ban-audit contains 104.16.0.1       # exit 0: it is Cloudflare's
sudo cf-ban-audit doctor               # why does Cloudflare get a 521 from this origin?
cf-ban-audit probe www.example.com --origin 192.0.2.10   # what would Cloudflare show?
cf-ban-audit completions bash > /usr/local/share/bash-completion/completions/cf-ban-audit   # also zsh, fish
cf-ban-audit man --dir /usr/local/share/man/man1   # cf-ban-audit.1 and a page per command
";

/// Other programs' pages.
const SEE_ALSO: &[(&str, &str)] = &[
    ("fail2ban-client", "1"),
    ("cscli", "1"),
    ("csf", "1"),
    ("nginx", "8"),
    ("iptables", "8"),
    ("nft", "8"),
];

/// One manual page: its file name and roff text.
pub struct Page {
    /// `cf-ban-audit.1`, `cf-ban-audit-scan.1`, ...
    pub file_name: String,
    /// The page, `.TH` first.
    pub text: String,
}

/// Every page for `cmd` (the whole command line): the main page first, then one per command
/// and nested command.
pub fn pages(cmd: Command) -> io::Result<Vec<Page>> {
    let cmd = built(cmd);
    let mut pages = vec![main_page(&cmd)?];
    let mut todo: Vec<(Vec<String>, &Command)> = commands(&cmd)
        .map(|c| (vec![c.get_name().to_owned()], c))
        .collect();
    while let Some((path, sub)) = todo.pop() {
        pages.push(command_page(&cmd, &path, sub)?);
        for child in commands(sub) {
            let mut child_path = path.clone();
            child_path.push(child.get_name().to_owned());
            todo.push((child_path, child));
        }
    }
    Ok(pages)
}

/// `cmd` with its names and usage lines complete, without the `help` command (its own
/// `--help` is in every page).
fn built(cmd: Command) -> Command {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// Writes every page into `dir`, made if missing.
pub fn write_to(cmd: Command, dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
    for page in pages(cmd)? {
        let path = dir.join(&page.file_name);
        std::fs::write(&path, page.text)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

/// The visible subcommands of `cmd`.
fn commands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands().filter(|c| !c.is_hide_set())
}

/// `cf-ban-audit.1`.
fn main_page(cmd: &Command) -> io::Result<Page> {
    let name = cmd.get_name();
    let mut out = Vec::new();
    title(cmd, name, &mut out)?;
    let mut roff = Roff::new();
    name_section(&mut roff, name, cmd);

    roff.control("SH", ["SYNOPSIS"]);
    synopsis_lines(&mut roff, cmd);

    roff.control("SH", ["DESCRIPTION"]);
    description(&mut roff, cmd);
    roff.control("PP", []);
    roff.text([
        roman("Each command has its own page, named below; "),
        bold(format!("{name} COMMAND --help")),
        roman(" prints the same."),
    ]);

    command_list(&mut roff, name, cmd);
    roff.to_writer(&mut out)?;

    Man::new(cmd.clone()).render_options_section(&mut out)?;

    let mut roff = Roff::new();
    roff.control("SH", ["EXIT STATUS"]);
    roff.text([roman(
        "Every command: 0 nothing to report, 1 something found (bans, gaps, failures), \
         2 an error. In detail:",
    )]);
    for (command, statuses) in EXIT_STATUS {
        roff.control("TP", []);
        roff.text([bold(*command)]);
        exit_lines(&mut roff, statuses);
    }
    environment(&mut roff, cmd, None);
    files(&mut roff);
    roff.control("SH", ["EXAMPLES"]);
    example_block(&mut roff, EXAMPLES.lines());
    roff.control("SH", ["SEE ALSO"]);
    let mut refs: Vec<(String, &str)> = commands(cmd)
        .map(|s| (format!("{name}-{}", s.get_name()), SECTION))
        .collect();
    refs.extend(SEE_ALSO.iter().map(|(n, s)| ((*n).to_owned(), *s)));
    see_also(&mut roff, &refs);
    roff.to_writer(&mut out)?;
    finish(format!("{name}.{SECTION}"), out)
}

/// A command's page; `path` is its names below the program (`["ranges", "update"]`).
fn command_page(root: &Command, path: &[String], cmd: &Command) -> io::Result<Page> {
    let page_name = format!("{}-{}", root.get_name(), path.join("-"));
    let mut out = Vec::new();
    title(cmd, &page_name, &mut out)?;
    let mut roff = Roff::new();
    name_section(&mut roff, &page_name, cmd);
    roff.control("SH", ["SYNOPSIS"]);
    synopsis_lines(&mut roff, cmd);
    roff.control("SH", ["DESCRIPTION"]);
    description(&mut roff, cmd);
    if commands(cmd).next().is_some() {
        command_list(&mut roff, &page_name, cmd);
    }
    roff.to_writer(&mut out)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        Man::new(cmd.clone()).render_options_section(&mut out)?;
    }

    let mut roff = Roff::new();
    let top = path[0].as_str();
    let statuses: Vec<_> = EXIT_STATUS
        .iter()
        .filter(|(c, _)| *c == top || c.starts_with(&format!("{top} ")))
        .collect();
    if !statuses.is_empty() {
        roff.control("SH", ["EXIT STATUS"]);
        for (command, statuses) in statuses {
            if let Some(variant) = command.strip_prefix(top).filter(|v| !v.is_empty()) {
                roff.control("PP", []);
                roff.text([roman("With"), bold(variant), roman(":")]);
            }
            for (status, meaning) in statuses.iter() {
                roff.control("TP", []);
                roff.text([bold(status.to_string())]);
                roff.text([roman(*meaning)]);
            }
        }
    }
    environment(&mut roff, root, Some(cmd));
    if let Some(after) = cmd.get_after_help() {
        let after = after.to_string();
        let mut lines = after.lines().peekable();
        roff.control("SH", ["EXAMPLES"]);
        if let Some(first) = lines.next_if(|l| !l.starts_with(' ')) {
            if first != "Examples:" && first != "Example:" {
                let first = first.strip_prefix("Example ").unwrap_or(first);
                let first = first.trim_start_matches('(').trim_end_matches([':', ')']);
                roff.text([roman(format!("{first}:"))]);
            }
        }
        example_block(&mut roff, lines.map(str::trim));
    }
    roff.control("SH", ["SEE ALSO"]);
    let mut refs = vec![(root.get_name().to_owned(), SECTION)];
    if path.len() > 1 {
        refs.push((
            format!("{}-{}", root.get_name(), path[..path.len() - 1].join("-")),
            SECTION,
        ));
    }
    let children: Vec<(String, &str)> = commands(cmd)
        .map(|s| (format!("{page_name}-{}", s.get_name()), SECTION))
        .collect();
    refs.extend(children);
    see_also(&mut roff, &refs);
    roff.to_writer(&mut out)?;
    finish(format!("{page_name}.{SECTION}"), out)
}

/// COMMANDS: each of `cmd`'s commands with its summary and its page (`page_name-NAME`).
fn command_list(roff: &mut Roff, page_name: &str, cmd: &Command) {
    roff.control("SH", ["COMMANDS"]);
    for sub in commands(cmd) {
        roff.control("TP", []);
        roff.text([bold(sub.get_name())]);
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        roff.text([roman(sentence(&about)), roman(" See ")]);
        roff.text([
            bold(format!("{page_name}-{}", sub.get_name())),
            roman("(1)."),
        ]);
    }
}

/// `text` ending with a full stop (clap drops the one that ends a summary).
fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() || text.ends_with('.') {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

/// The `.TH` line: the page's name in capitals, the section and the program's version.
fn title(cmd: &Command, page_name: &str, out: &mut Vec<u8>) -> io::Result<()> {
    Man::new(cmd.clone())
        .title(page_name.to_uppercase())
        .section(SECTION)
        .source(format!("cf-ban-audit {}", env!("CARGO_PKG_VERSION")))
        .manual("cf-ban-audit manual")
        .render_title(out)
}

/// NAME: the page's name and the command's one-line description, as `whatis` shows it.
fn name_section(roff: &mut Roff, page_name: &str, cmd: &Command) {
    let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
    let about = about.trim().trim_end_matches('.');
    let mut chars = about.chars();
    let about = match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    };
    roff.control("SH", ["NAME"]);
    roff.text([roman(format!("{page_name} - {about}"))]);
}

/// SYNOPSIS: the usage line of the command, or of each of its commands.
fn synopsis_lines(roff: &mut Roff, cmd: &Command) {
    let subs: Vec<&Command> = commands(cmd).collect();
    let lines: Vec<&Command> = if subs.is_empty() || !cmd.is_subcommand_required_set() {
        std::iter::once(cmd).chain(subs).collect()
    } else {
        subs
    };
    for (i, c) in lines.into_iter().enumerate() {
        if i > 0 {
            roff.control("br", []);
        }
        let usage = c.clone().render_usage().to_string();
        let usage = usage.trim().strip_prefix("Usage: ").unwrap_or(usage.trim());
        let bin = c.get_bin_name().unwrap_or(c.get_name());
        let rest = usage.strip_prefix(bin).unwrap_or(usage);
        roff.text([bold(bin), roman(rest)]);
    }
}

/// DESCRIPTION: the command's long help, paragraph by paragraph, without its exit status
/// (EXIT STATUS has it).
fn description(roff: &mut Roff, cmd: &Command) {
    let text = cmd
        .get_long_about()
        .or_else(|| cmd.get_about())
        .map(|a| a.to_string())
        .unwrap_or_default();
    for (i, paragraph) in text
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.starts_with("Exit status:"))
        .enumerate()
    {
        if i > 0 {
            roff.control("PP", []);
        }
        roff.text([roman(sentence(&paragraph.replace('\n', " ")))]);
    }
}

/// The statuses of one command, one a line.
fn exit_lines(roff: &mut Roff, statuses: &[(u8, &str)]) {
    for (i, (status, meaning)) in statuses.iter().enumerate() {
        if i > 0 {
            roff.control("br", []);
        }
        roff.text([bold(status.to_string()), roman(format!("  {meaning}"))]);
    }
}

/// ENVIRONMENT: every variable on the main page (`only` = `None`); on a command's page, the
/// variables that stand for its options and the ones every command reads.
fn environment(roff: &mut Roff, root: &Command, only: Option<&Command>) {
    let mut wrote = false;
    for (var, what) in ENVIRONMENT {
        let takers = takers_of(root, var);
        let shown = match only {
            None => true,
            Some(cmd) => args_with_env(cmd, var),
        };
        if !shown {
            continue;
        }
        if !wrote {
            roff.control("SH", ["ENVIRONMENT"]);
            wrote = true;
        }
        roff.control("TP", []);
        roff.text([bold(*var)]);
        let mut line: Vec<Inline> = vec![roman(*what)];
        if only.is_none() && !takers.is_empty() {
            line.push(roman(format!(" Read by: {}.", takers.join(", "))));
        }
        roff.text(line);
    }
}

/// The commands (`scan`, `ranges update`) with an option whose default comes from `var`.
fn takers_of(root: &Command, var: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut todo: Vec<(String, &Command)> = commands(root)
        .map(|c| (c.get_name().to_owned(), c))
        .collect();
    while let Some((name, cmd)) = todo.pop() {
        if args_with_env(cmd, var) {
            found.push(name.clone());
        }
        todo.extend(commands(cmd).map(|c| (format!("{name} {}", c.get_name()), c)));
    }
    found.sort();
    found
}

/// Whether one of `cmd`'s own options takes its default from `var`.
fn args_with_env(cmd: &Command, var: &str) -> bool {
    cmd.get_arguments()
        .any(|a| a.get_env().is_some_and(|e| e == var))
}

/// FILES: the places read and written by default.
fn files(roff: &mut Roff) {
    roff.control("SH", ["FILES"]);
    roff.control("TP", []);
    roff.text([italic(cf_ban_audit_core::DEFAULT_PATHS.join(", "))]);
    roff.text([
        roman("What "),
        bold("scan"),
        roman(
            " reads without a PATH (those that exist), with every format's usual path outside \
             them (",
        ),
        bold("cf-ban-audit formats"),
        roman(" lists them)."),
    ]);
    roff.control("TP", []);
    roff.text([italic(crate::update::ROOT_CACHE)]);
    roff.text([
        roman("root's range cache, written by "),
        bold("ranges update"),
        roman(" and read by every command that uses the ranges; a user's is "),
        italic("$XDG_CACHE_HOME/cf-ban-audit/ips.json"),
        roman(" or "),
        italic("~/.cache/cf-ban-audit/ips.json"),
        roman(". A cache owned by another user, or writable by others, is ignored with a warning."),
    ]);
    roff.control("TP", []);
    roff.text([italic(format!(
        "{}/fix-STAMP.jsonl",
        cf_ban_audit_core::fix::journal::DEFAULT_DIR
    ))]);
    roff.text([
        roman("The journal of each "),
        bold("fix --apply"),
        roman(" (directory made mode 0700): what was done and how to undo it ("),
        bold("fix --undo"),
        roman(")."),
    ]);
    roff.control("TP", []);
    roff.text([italic(crate::config::DEFAULT_CONFIG)]);
    roff.text([
        roman("The configuration (TOML), read by "),
        bold("scan"),
        roman(", "),
        bold("doctor"),
        roman(" and "),
        bold("fix"),
        roman(
            " when it exists: ranges, paths, exclude, since, fail2ban_socket, cscli_config, \
             fail2ban_config and labels; options on the command line override it. An unknown key \
             is an error.",
        ),
    ]);
    roff.control("TP", []);
    roff.text([italic("/etc/fail2ban")]);
    roff.text([roman(
        "fail2ban's configuration (jail.conf, jail.d, jail.local), read for each jail's ban \
         length and ignore list when the default places are scanned.",
    )]);
    roff.control("TP", []);
    roff.text([italic("/run/fail2ban/fail2ban.sock")]);
    roff.text([roman("The fail2ban server asked by the live read.")]);
    roff.control("TP", []);
    roff.text([italic("/etc/crowdsec/config.yaml")]);
    roff.text([roman(
        "CrowdSec's configuration, used by cscli in the live read.",
    )]);
}

/// Lines shown as they are, indented.
fn example_block<'a>(roff: &mut Roff, lines: impl Iterator<Item = &'a str>) {
    roff.control("PP", []);
    roff.control("RS", ["4"]);
    roff.control("nf", []);
    for line in lines {
        roff.text([roman(line)]);
    }
    roff.control("fi", []);
    roff.control("RE", []);
}

/// SEE ALSO: `name(section)`, comma separated.
fn see_also(roff: &mut Roff, refs: &[(String, &str)]) {
    for (i, (name, section)) in refs.iter().enumerate() {
        let end = if i + 1 < refs.len() { ")," } else { ")" };
        roff.text([bold(name.as_str()), roman(format!("({section}{end}"))]);
    }
}

/// The page with its string definitions (which the roff crate puts before everything it
/// writes) once, after `.TH`: man(7) wants `.TH` first.
fn finish(file_name: String, out: Vec<u8>) -> io::Result<Page> {
    let text = String::from_utf8(out)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    let preamble = |l: &&str| l.starts_with(".ie \\n(.g .ds Aq") || l.starts_with(".el .ds Aq");
    let lines: Vec<&str> = text.lines().collect();
    let head: Vec<&str> = lines.iter().copied().filter(preamble).take(2).collect();
    let mut page = String::new();
    for line in lines.iter().filter(|l| l.starts_with(".TH ")) {
        page.push_str(line);
        page.push('\n');
    }
    for line in head {
        page.push_str(line);
        page.push('\n');
    }
    // No hyphenation: the page is full of command names and paths, which must not break.
    page.push_str(".nh\n");
    for line in lines
        .iter()
        .filter(|l| !l.starts_with(".TH ") && !preamble(l))
    {
        page.push_str(line);
        page.push('\n');
    }
    Ok(Page {
        file_name,
        text: page,
    })
}

/// Prints `cf-ban-audit.1` to `out`.
pub fn print_main(cmd: Command, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(main_page(&built(cmd))?.text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_its_exit_status_and_every_env_is_documented() {
        let cmd = built(crate::args::command());
        for sub in commands(&cmd) {
            assert!(
                EXIT_STATUS.iter().any(|(c, _)| *c == sub.get_name()),
                "no EXIT STATUS for {}",
                sub.get_name()
            );
        }
        let mut todo = vec![&cmd];
        while let Some(c) = todo.pop() {
            for arg in c.get_arguments() {
                if let Some(var) = arg.get_env() {
                    let var = var.to_str().unwrap();
                    assert!(
                        ENVIRONMENT.iter().any(|(v, _)| *v == var),
                        "{var} is not in ENVIRONMENT"
                    );
                }
            }
            todo.extend(commands(c));
        }
    }

    #[test]
    fn examples_are_the_readme_usage_block() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
        let usage = readme.split("\n## Usage\n").nth(1).unwrap();
        let block = usage.split("```sh\n").nth(1).unwrap();
        let block = block.split("```").next().unwrap();
        assert_eq!(block, EXAMPLES);
    }

    #[test]
    fn pages_name_each_other() {
        let pages = pages(crate::args::command()).unwrap();
        let names: Vec<&str> = pages.iter().map(|p| p.file_name.as_str()).collect();
        assert_eq!(names[0], "cf-ban-audit.1");
        assert!(names.contains(&"cf-ban-audit-scan.1"));
        assert!(names.contains(&"cf-ban-audit-ranges-update.1"));
        assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
        for page in &pages {
            assert!(page.text.starts_with(".TH "), "{}", page.file_name);
            for (i, _) in page.text.match_indices("\\fBcf\\-ban\\-audit") {
                let rest = &page.text[i + 3..];
                let end = rest.find("\\fR").unwrap();
                if !rest[end..].starts_with("\\fR(1") {
                    continue;
                }
                let target = rest[..end].replace("\\-", "-");
                assert!(
                    names.contains(&format!("{target}.1").as_str()),
                    "{} names {target}(1), which is not written",
                    page.file_name
                );
            }
        }
    }
}
