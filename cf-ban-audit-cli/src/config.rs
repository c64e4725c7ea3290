//! The configuration file: `/etc/cf-ban-audit/config.toml` when it exists, or the file named
//! with `--config` (which must exist). It is TOML, read with the `toml` crate of the toml-rs
//! project (the parser cargo itself uses, kept to the TOML 1.0 specification) through serde
//! with unknown keys refused, so that a misspelt key is an error rather than a setting that
//! silently does nothing. A malformed file is an error naming the file, the line and the key.
//!
//! Options given on the command line (or in their environment variables) override the file's
//! single values; lists (`ranges`, `exclude`) add to the file's.
//!
//! ```toml
//! ranges = ["/etc/cf-ban-audit/extra-ranges.txt"]   # extra range files, as --ranges
//! paths = ["/srv/app/logs"]                         # scanned with the default places
//! exclude = ["/var/log/journal", "*.gz"]            # as --exclude
//! since = "7d"                                      # as --since
//! fail2ban_socket = "/run/fail2ban/fail2ban.sock"   # as --fail2ban-socket
//! cscli_config = "/etc/crowdsec/config.yaml"        # as --cscli-config
//! fail2ban_config = "/etc/fail2ban"                 # as --fail2ban-config
//! labels = { site = "fra1" }                        # extra labels of the Prometheus output
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::args::{ConfigOpts, LiveOpts, RangeOpts};

/// The file read when `--config` is not given (its absence is fine).
pub const DEFAULT_CONFIG: &str = "/etc/cf-ban-audit/config.toml";

/// The settings of a configuration file. Relative paths in it are taken from the file's
/// directory.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Extra range files (a CIDR a line, or Cloudflare's API JSON), before `--ranges`.
    #[serde(default)]
    pub ranges: Vec<PathBuf>,
    /// Places scanned besides the default ones when no PATH is given; errors when unreadable.
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    /// Exclude globs, before `--exclude`.
    #[serde(default)]
    pub exclude: Vec<Spanned<String>>,
    /// The default of `--since`.
    pub since: Option<Spanned<String>>,
    /// The default of `--fail2ban-socket`.
    pub fail2ban_socket: Option<PathBuf>,
    /// The default of `--cscli-config`.
    pub cscli_config: Option<PathBuf>,
    /// The default of `--fail2ban-config`.
    pub fail2ban_config: Option<PathBuf>,
    /// Extra labels for every sample of the Prometheus output (`--label k=v` overrides a
    /// key): names as Prometheus allows them (`[a-zA-Z_][a-zA-Z0-9_]*`, not `__…`).
    #[serde(default)]
    pub labels: BTreeMap<Spanned<String>, String>,
}

/// Reads the configuration: `named` (an error when missing), else [`DEFAULT_CONFIG`] when it
/// exists, else the empty one.
pub fn load(named: Option<&Path>) -> Result<Config, String> {
    let path = named.unwrap_or(Path::new(DEFAULT_CONFIG));
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if named.is_none() && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Config::default())
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let text = String::from_utf8(text)
        .map_err(|_| format!("{}: not UTF-8 text, as TOML must be", path.display()))?;
    parse(&text, path)
}

/// Parses and checks the text of the configuration file `path`.
pub fn parse(text: &str, path: &Path) -> Result<Config, String> {
    let mut config: Config = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        located(text, path, at, e.message().trim())
    })?;
    let now = chrono::Local::now().naive_local();
    if let Some(since) = &config.since {
        crate::args::parse_since(since.get_ref(), now)
            .map_err(|m| located(text, path, since.span().start, &m))?;
    }
    for pattern in &config.exclude {
        cf_ban_audit_core::Scanner::new(Default::default())
            .exclude(pattern.get_ref())
            .map_err(|m| located(text, path, pattern.span().start, &m))?;
    }
    for name in config.labels.keys() {
        // The same rule as `--label`: a Prometheus label name, not one the metrics use.
        crate::monitor::parse_label(&format!("{}=", name.get_ref()))
            .map_err(|m| located(text, path, name.span().start, &format!("label {m}")))?;
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let relative = |p: &mut PathBuf| {
        if p.is_relative() {
            *p = dir.join(&*p);
        }
    };
    config.ranges.iter_mut().for_each(relative);
    config.paths.iter_mut().for_each(relative);
    for p in [
        &mut config.fail2ban_socket,
        &mut config.cscli_config,
        &mut config.fail2ban_config,
    ]
    .into_iter()
    .flatten()
    {
        relative(p);
    }
    Ok(config)
}

/// `FILE:LINE: key K: MESSAGE` for an error at byte `at` of `text`.
fn located(text: &str, path: &Path, at: usize, message: &str) -> String {
    let at = at.min(text.len());
    let line = text[..at].matches('\n').count() + 1;
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let this = text[start..].lines().next().unwrap_or("");
    let key = this
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches(['"', '\'']))
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    match key {
        Some(key) => format!("{}:{line}: key {key}: {message}", path.display()),
        None => format!("{}:{line}: {message}", path.display()),
    }
}

impl Config {
    /// Fills what the command line left unset from the file, and puts the file's lists
    /// before the command line's; the file's places go to `opts.paths`.
    pub fn fill(
        &self,
        ranges: &mut RangeOpts,
        live: &mut LiveOpts,
        fail2ban_config: &mut Option<PathBuf>,
        opts: &mut ConfigOpts,
    ) {
        ranges.ranges.splice(0..0, self.ranges.iter().cloned());
        let exclude = self.exclude.iter().map(|p| p.get_ref().clone());
        opts.exclude.splice(0..0, exclude);
        opts.paths.clone_from(&self.paths);
        if live.fail2ban_socket.is_none() {
            live.fail2ban_socket.clone_from(&self.fail2ban_socket);
        }
        if live.cscli_config.is_none() {
            live.cscli_config.clone_from(&self.cscli_config);
        }
        if fail2ban_config.is_none() {
            fail2ban_config.clone_from(&self.fail2ban_config);
        }
    }

    /// Adds the file's labels to `given` (`--label`), except the names given there: the
    /// file's first, each name once.
    pub fn labels(&self, given: &mut Vec<(String, String)>) {
        let file = self
            .labels
            .iter()
            .map(|(k, v)| (k.get_ref().clone(), v.clone()))
            .filter(|(k, _)| !given.iter().any(|(g, _)| g == k))
            .collect::<Vec<_>>();
        given.splice(0..0, file);
    }

    /// `--since` when given, else the file's.
    pub fn since(&self, given: Option<String>) -> Option<String> {
        given.or_else(|| self.since.as_ref().map(|s| s.get_ref().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Config, String> {
        parse(text, Path::new("/etc/cf-ban-audit/config.toml"))
    }

    #[test]
    fn every_key_is_read_and_relative_paths_are_the_files_directorys() {
        let c = parsed(
            "ranges = [\"extra.txt\"]\npaths = [\"/srv/logs\"]\nexclude = [\"*.gz\"]\n\
             since = \"7d\"\nfail2ban_socket = \"/run/f2b.sock\"\ncscli_config = \"/c.yaml\"\n\
             fail2ban_config = \"/etc/fail2ban\"\nlabels = { site = \"fra1\" }\n",
        )
        .unwrap();
        assert_eq!(c.ranges, [PathBuf::from("/etc/cf-ban-audit/extra.txt")]);
        assert_eq!(c.paths, [PathBuf::from("/srv/logs")]);
        assert_eq!(c.since.as_ref().unwrap().get_ref(), "7d");
        let labels: Vec<(&str, &str)> = c
            .labels
            .iter()
            .map(|(k, v)| (k.get_ref().as_str(), v.as_str()))
            .collect();
        assert_eq!(labels, [("site", "fra1")]);
        assert!(parsed("").unwrap().paths.is_empty());
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_file_line_and_key() {
        let e = parsed("since = \"7d\"\nexlude = [\"*.gz\"]\n").unwrap_err();
        assert!(
            e.starts_with("/etc/cf-ban-audit/config.toml:2: key exlude: unknown field"),
            "{e}"
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_or_meaning_is_an_error_naming_its_key() {
        let e = parsed("\n\nranges = \"one.txt\"\n").unwrap_err();
        assert!(
            e.starts_with("/etc/cf-ban-audit/config.toml:3: key ranges: "),
            "{e}"
        );
        let e = parsed("since = \"yesterday-ish\"\n").unwrap_err();
        assert!(
            e.starts_with("/etc/cf-ban-audit/config.toml:1: key since: "),
            "{e}"
        );
        let e = parsed("exclude = [\n  \"/var/log/[\",\n]\n").unwrap_err();
        assert!(e.starts_with("/etc/cf-ban-audit/config.toml:2: "), "{e}");
        let e = parsed("[labels]\n\"bad-name\" = \"x\"\n").unwrap_err();
        assert!(
            e.starts_with("/etc/cf-ban-audit/config.toml:2: key bad-name: "),
            "{e}"
        );
        let e = parsed("[labels]\ntool = \"x\"\n").unwrap_err();
        assert!(
            e.starts_with("/etc/cf-ban-audit/config.toml:2: key tool: label ")
                && e.contains("the metrics use this label themselves"),
            "{e}"
        );
        let e = parsed("since = \"7d\n").unwrap_err();
        assert!(e.starts_with("/etc/cf-ban-audit/config.toml:1: "), "{e}");
    }

    #[test]
    fn a_label_on_the_command_line_overrides_the_files() {
        let c = parsed("labels = { site = \"fra1\", role = \"web\" }\n").unwrap();
        let mut given = vec![("site".to_string(), "ams2".to_string())];
        c.labels(&mut given);
        let given: Vec<(&str, &str)> = given.iter().map(|(k, v)| (&**k, &**v)).collect();
        assert_eq!(given, [("role", "web"), ("site", "ams2")]);
    }

    #[test]
    fn the_command_line_overrides_single_values_and_adds_to_lists() {
        let c = parsed(
            "ranges = [\"/a.txt\"]\nexclude = [\"*.gz\"]\nsince = \"7d\"\n\
             fail2ban_socket = \"/file.sock\"\ncscli_config = \"/file.yaml\"\n",
        )
        .unwrap();
        let mut ranges = RangeOpts {
            ranges: vec!["/b.txt".into()],
            no_cloudflare: false,
        };
        let mut live = LiveOpts {
            fail2ban_socket: Some("/cli.sock".into()),
            cscli_config: None,
        };
        let mut f2b = None;
        let mut opts = ConfigOpts {
            config: None,
            exclude: vec!["*.1".to_string()],
            paths: Vec::new(),
        };
        c.fill(&mut ranges, &mut live, &mut f2b, &mut opts);
        assert_eq!(ranges.ranges, [PathBuf::from("/a.txt"), "/b.txt".into()]);
        assert_eq!(opts.exclude, ["*.gz", "*.1"]);
        assert_eq!(live.fail2ban_socket.unwrap(), PathBuf::from("/cli.sock"));
        assert_eq!(live.cscli_config.unwrap(), PathBuf::from("/file.yaml"));
        assert_eq!(f2b, None);
        assert_eq!(c.since(Some("1d".into())).unwrap(), "1d");
        assert_eq!(c.since(None).unwrap(), "7d");
    }

    #[test]
    fn a_missing_named_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let named = dir.path().join("none.toml");
        let e = load(Some(&named)).unwrap_err();
        assert!(e.starts_with(&named.display().to_string()), "{e}");
    }
}
