//! The CrowdSec prevention step of `fix`: CrowdSec told never to act on the Cloudflare ranges.
//!
//! - Where the installed `cscli` has `cscli allowlists` (CrowdSec 1.6.6 and later,
//!   `cmd/crowdsec-cli/cliallowlists/allowlists.go` upstream): the ranges go into the
//!   allowlist `cloudflare` (`cscli allowlists create cloudflare -d DESCRIPTION` when it is not
//!   there, then `cscli allowlists add cloudflare RANGE... -d COMMENT`, which skips values it
//!   holds already and deletes the decisions in force on what it allows). The Local API reads
//!   allowlists from its database: nothing to reload. Found by running `cscli allowlists
//!   --help` (1.4.6 answers `unknown command "allowlists"`), then `cscli -o raw allowlists list`
//!   and `inspect` for what the list holds.
//! - Otherwise (CrowdSec 1.4.6 in Debian 12): a parser whitelist in the enrich stage,
//!   `<config_dir>/parsers/s02-enrich/cf-ban-audit-cloudflare.yaml`, the format of the hub's
//!   `crowdsecurity/whitelists` (`whitelist:` with `reason:` and a `cidr:` list, read by
//!   `pkg/parser/whitelist.go`), its content that of `cf-ban-audit snippet crowdsec`. CrowdSec
//!   drops every event from a whitelisted source before any scenario sees it. The file is
//!   checked by `crowdsec -c CONFIG -t` with the new file in place (`-t` loads every parser, and
//!   rejects a file it cannot decode or a `cidr` it cannot parse, exit 1), and read only when
//!   crowdsec starts or reloads: `systemctl reload crowdsec` where systemd runs the system's
//!   crowdsec, else a person's reload.
//!
//! `config_dir` is read from `config.yaml` (and `config.yaml.local`, which CrowdSec patches it
//! with) by a conservative line reader: the `config_dir:` key of the top-level `config_paths:`
//! block, a plain absolute path; anything else (an environment variable, a flow mapping) is
//! left for a person. Without the key, the directory of `config.yaml` (CrowdSec's default since
//! `pkg/csconfig/config_paths.go` fills it so).

use std::path::{Path, PathBuf};

use super::plan::{merge_warnings, read_text, LeftForPerson, PlanOptions, Step};
use super::run::run_program;
use crate::check;
use crate::snippet::{self, MergeOptions, Target};
use crate::{RangeSet, Tool};

/// Where CrowdSec's configuration is when not named.
pub(crate) const DEFAULT_CONFIG: &str = "/etc/crowdsec/config.yaml";

/// The parser whitelist `fix` writes, in `<config_dir>/parsers/s02-enrich/`.
pub const WHITELIST_FILE: &str = "cf-ban-audit-cloudflare.yaml";

/// The allowlist `fix` fills where `cscli allowlists` exists.
pub const ALLOWLIST: &str = "cloudflare";

/// How long a `cscli` listing may take while planning.
const LISTING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// The CrowdSec configuration `fix` works with: the named one, else [`DEFAULT_CONFIG`] when it
/// exists; `None`: no CrowdSec step.
pub(crate) fn config_in_use(options: &PlanOptions) -> Option<PathBuf> {
    options.crowdsec_config.clone().or_else(|| {
        Path::new(DEFAULT_CONFIG)
            .is_file()
            .then(|| DEFAULT_CONFIG.into())
    })
}

/// The steps that keep CrowdSec from acting on `ranges` (see the [module documentation](self)),
/// and what is left for a person. Nothing when no CrowdSec configuration is in use, or when
/// its allowlist or a whitelist of its enrich stage already holds every range.
///
/// Errors name the file that could not be read.
pub(crate) fn crowdsec_steps(
    options: &PlanOptions,
    ranges: &RangeSet,
) -> Result<(Vec<Step>, Vec<LeftForPerson>), String> {
    let Some(config) = config_in_use(options) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let mut note = None;
    if has_allowlists(&config) {
        match allowlist_held(&config) {
            Ok(held) => return Ok(allowlist_steps(&config, held, ranges)),
            Err(why) => {
                note = Some(format!(
                    "cscli has allowlists, but they could not be listed ({why}): the parser whitelist is written instead"
                ))
            }
        }
    }
    let mut planned = whitelist_steps(&config, ranges)?;
    if let (Some(note), Some(Step::WriteConfig { warnings, .. })) = (note, planned.0.first_mut()) {
        warnings.push(note);
    }
    Ok(planned)
}

/// `cscli -c CONFIG WORDS...` (a config path beginning with `-` gets `./` first).
fn cscli(config: &Path, words: &[&str]) -> Vec<String> {
    let mut path = config.display().to_string();
    if path.starts_with('-') {
        path = format!("./{path}");
    }
    let mut argv = vec!["cscli".to_string(), "-c".to_string(), path];
    argv.extend(words.iter().map(|w| w.to_string()));
    argv
}

/// Whether the installed `cscli` has the `allowlists` command.
fn has_allowlists(config: &Path) -> bool {
    run_program(&cscli(config, &["allowlists", "--help"]), LISTING_TIMEOUT)
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("allowlist"))
}

/// What the allowlist [`ALLOWLIST`] holds: its values that never expire, and whether the
/// console manages it (then cscli does not change it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Held {
    /// The networks it holds.
    nets: Vec<ipnet::IpNet>,
    /// Whether it is managed by the console.
    console: bool,
}

/// [`Held`] by the allowlist, `Ok(None)` when there is none, or why it could not be listed.
fn allowlist_held(config: &Path) -> Result<Option<Held>, String> {
    let listed = run_program(
        &cscli(config, &["-o", "raw", "allowlists", "list"]),
        LISTING_TIMEOUT,
    )
    .map_err(|e| e.to_string())?;
    if !csv_names(&String::from_utf8_lossy(&listed.stdout)).any(|n| n == ALLOWLIST) {
        return Ok(None);
    }
    let inspected = run_program(
        &cscli(config, &["-o", "raw", "allowlists", "inspect", ALLOWLIST]),
        LISTING_TIMEOUT,
    )
    .map_err(|e| e.to_string())?;
    Ok(Some(held_of_inspect(&String::from_utf8_lossy(
        &inspected.stdout,
    ))))
}

/// The first field of each record after the header of a `cscli -o raw allowlists list`.
fn csv_names(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines()
        .skip(1)
        .filter_map(|l| csv_fields(l).into_iter().next())
}

/// What `cscli -o raw allowlists inspect NAME` says the list holds (header `name,description,
/// value,comment,expiration,created_at,console_managed`): the values that are networks and
/// never expire.
fn held_of_inspect(text: &str) -> Held {
    let mut held = Held {
        nets: Vec::new(),
        console: false,
    };
    for line in text.lines().skip(1) {
        let fields = csv_fields(line);
        if fields.len() < 7 {
            continue;
        }
        held.console |= fields[6] == "true";
        if fields[4] != "never" {
            continue;
        }
        if let Some(net) = crate::addr::parse_net(fields[2].as_bytes()) {
            held.nets.push(net);
        }
    }
    held
}

/// The fields of one CSV record as Go's `encoding/csv` writes it (a field with a comma or a
/// quote is quoted, its quotes doubled).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// The `cscli allowlists` steps for what the list holds now (`None`: no list yet).
fn allowlist_steps(
    config: &Path,
    held: Option<Held>,
    ranges: &RangeSet,
) -> (Vec<Step>, Vec<LeftForPerson>) {
    let mut steps = Vec::new();
    let have: RangeSet = held.iter().flat_map(|h| h.nets.iter().copied()).collect();
    let missing: Vec<String> = ranges.missing_from(&have).map(|n| n.to_string()).collect();
    if missing.is_empty() {
        return (steps, Vec::new());
    }
    if held.as_ref().is_some_and(|h| h.console) {
        return (
            steps,
            vec![LeftForPerson {
                tool: Tool::Crowdsec,
                scope: None,
                address: None,
                why: format!(
                    "the allowlist {ALLOWLIST} is managed by the CrowdSec console: add the {} missing ranges there",
                    missing.len()
                ),
                command: None,
            }],
        );
    }
    if held.is_none() {
        steps.push(Step::Allow {
            tool: Tool::Crowdsec,
            argv: cscli(
                config,
                &[
                    "allowlists",
                    "create",
                    ALLOWLIST,
                    "-d",
                    "Cloudflare edge (cf-ban-audit)",
                ],
            ),
            undo: cscli(config, &["allowlists", "delete", ALLOWLIST]),
        });
    }
    let mut add = cscli(config, &["allowlists", "add", ALLOWLIST]);
    add.extend(missing.iter().cloned());
    add.extend(["-d".to_string(), "Cloudflare edge".to_string()]);
    let mut remove = cscli(config, &["allowlists", "remove", ALLOWLIST]);
    remove.extend(missing);
    steps.push(Step::Allow {
        tool: Tool::Crowdsec,
        argv: add,
        undo: remove,
    });
    (steps, Vec::new())
}

/// The parser whitelist write and the reload after it, or what is left for a person.
fn whitelist_steps(
    config: &Path,
    ranges: &RangeSet,
) -> Result<(Vec<Step>, Vec<LeftForPerson>), String> {
    let left = |why: String| LeftForPerson {
        tool: Tool::Crowdsec,
        scope: None,
        address: None,
        why,
        command: Some("cf-ban-audit snippet crowdsec".to_string()),
    };
    let dir = match config_dir(config)? {
        Ok(dir) => dir,
        Err(why) => return Ok((Vec::new(), vec![left(why)])),
    };
    let stage = dir.join("parsers").join("s02-enrich");
    if !stage.is_dir() {
        return Ok((
            Vec::new(),
            vec![left(format!(
                "{} is not a directory: CrowdSec's enrich stage is not where its configuration says",
                stage.display()
            ))],
        ));
    }
    let path = stage.join(WHITELIST_FILE);
    if whitelisted_by_stage(&stage, &path, ranges) {
        return Ok((Vec::new(), Vec::new()));
    }
    let (existing, exists) = read_text(&path)?;
    let (content, warnings) = if exists {
        let merged = Target::Crowdsec
            .merge_with(&existing, ranges, MergeOptions::default())
            .ok_or("CrowdSec's whitelist cannot be merged")?;
        let warnings = merge_warnings(Target::Crowdsec, &existing, ranges, MergeOptions::default());
        (merged, warnings)
    } else {
        let content = format!(
            "# Written by `cf-ban-audit fix` in CrowdSec's enrich stage as {WHITELIST_FILE}\n\
             # (`cf-ban-audit fix --undo JOURNAL` removes it again).\n{}",
            snippet::crowdsec::generate(ranges)
        );
        (content, Vec::new())
    };
    let mut steps = vec![Step::WriteConfig {
        tool: Tool::Crowdsec,
        path,
        exists,
        purpose:
            "the Cloudflare ranges as CrowdSec's parser whitelist (their events never reach a scenario)"
                .to_string(),
        check: vec![
            "crowdsec".to_string(),
            "-c".to_string(),
            config.display().to_string(),
            "-t".to_string(),
        ],
        check_names_file: false,
        warnings,
        content,
    }];
    let mut left_over = Vec::new();
    if config == Path::new(DEFAULT_CONFIG) && Path::new("/run/systemd/system").is_dir() {
        steps.push(Step::Reload {
            tool: Tool::Crowdsec,
            argv: vec![
                "systemctl".to_string(),
                "reload".to_string(),
                "crowdsec".to_string(),
            ],
        });
    } else {
        left_over.push(LeftForPerson {
            tool: Tool::Crowdsec,
            scope: None,
            address: None,
            why: format!(
                "crowdsec reads its parsers when it starts or reloads: after the write, reload the crowdsec that reads {} (systemd does not run it here)",
                config.display()
            ),
            command: Some("systemctl reload crowdsec".to_string()),
        });
    }
    Ok((steps, left_over))
}

/// Whether a whitelist of the enrich stage already holds every range: `fix`'s own file, or
/// another that applies to every event (no `filter:`).
fn whitelisted_by_stage(stage: &Path, own: &Path, ranges: &RangeSet) -> bool {
    let Ok(entries) = std::fs::read_dir(stage) else {
        return false;
    };
    entries.filter_map(|e| e.ok()).any(|e| {
        let path = e.path();
        if path.extension().is_none_or(|x| x != "yaml") {
            return false;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            return false;
        };
        let text = String::from_utf8_lossy(&bytes);
        let unfiltered = !text.lines().any(|l| l.starts_with("filter:"));
        text.lines().any(|l| l.trim_end() == "whitelist:")
            && (path == own || unfiltered)
            && check::check_text(&path, &text, ranges).missing.is_empty()
    })
}

/// CrowdSec's `config_dir` from `config` and its `.local` patch (the patch wins): `Ok(Err(why))`
/// when it is not a plain absolute path this reader can be sure of; `Err` when `config` cannot
/// be read.
fn config_dir(config: &Path) -> Result<Result<PathBuf, String>, String> {
    let (text, exists) = read_text(config)?;
    if !exists {
        return Err(format!("{}: no such file", config.display()));
    }
    let mut local_name = config.as_os_str().to_os_string();
    local_name.push(".local");
    let (local, _) = read_text(Path::new(&local_name))?;
    let value = match config_paths_value(&local, "config_dir") {
        Ok(None) => config_paths_value(&text, "config_dir"),
        other => other,
    };
    Ok(match value {
        Ok(Some(dir)) if dir.starts_with('/') && !dir.contains(['$', '\\']) => {
            Ok(PathBuf::from(dir))
        }
        Ok(Some(dir)) => Err(format!(
            "{}: config_dir {dir:?} is not a plain absolute path: fix does not guess where it points",
            config.display()
        )),
        Ok(None) => config
            .parent()
            .filter(|p| p.is_absolute())
            .map(Path::to_path_buf)
            .ok_or_else(|| format!("{}: no config_dir, and no absolute directory", config.display())),
        Err(why) => Err(format!("{}: {why}", config.display())),
    })
}

/// The value of `key` in the top-level block `config_paths:` of a YAML text, unquoted:
/// `Ok(None)` when there is none, `Err` for a shape this reader does not follow (a flow
/// mapping, a key given twice).
fn config_paths_value(text: &str, key: &str) -> Result<Option<String>, String> {
    let mut inside = false;
    let mut found = None;
    let mut indent = None;
    for line in text.lines() {
        let content = line.trim_end();
        let trimmed = content.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let depth = content.len() - trimmed.len();
        if depth == 0 {
            inside = match trimmed.strip_prefix("config_paths:") {
                Some(rest) if strip_comment(rest).is_empty() => true,
                Some(_) => return Err("config_paths is not a block mapping".to_string()),
                None => false,
            };
            continue;
        }
        if !inside || *indent.get_or_insert(depth) != depth {
            continue;
        }
        let Some(rest) = trimmed.strip_prefix(key).and_then(|r| r.strip_prefix(':')) else {
            continue;
        };
        if found.is_some() {
            return Err(format!("config_paths.{key} is given twice"));
        }
        let value = strip_comment(rest);
        let value = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
            .unwrap_or(value);
        found = Some(value.to_string());
    }
    Ok(found)
}

/// A YAML plain value without its comment (` #` on), trimmed.
fn strip_comment(value: &str) -> &str {
    let value = value.trim();
    match value.find(" #") {
        Some(at) => value[..at].trim_end(),
        None if value.starts_with('#') => "",
        None => value,
    }
}

#[cfg(test)]
#[path = "crowdsec_tests.rs"]
mod tests;
