//! Which paths a scan reads: the globs that exclude files and directories
//! ([`Scanner::exclude`](crate::Scanner::exclude)), and the default places, whose unreadable
//! parts are notes rather than errors ([`Scanner::default_path`](crate::Scanner::default_path)).
//!
//! The globs are `globset`'s (the matcher of ripgrep, kept by its author), with `*` and `?`
//! stopping at `/` so that a pattern reads as a shell one: a pattern without `/` is matched
//! against the name of each file and directory (`*.gz`, `journal`), one with `/` against the
//! whole path as the walk reaches it (`/var/log/journal`, `/var/log/**/*.1`).

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// The exclude globs of a scan.
#[derive(Clone, Debug, Default)]
pub(crate) struct Excludes {
    /// The patterns without `/`, matched against a name.
    names: Vec<String>,
    /// The patterns with `/`, matched against the whole path.
    paths: Vec<String>,
    by_name: GlobSet,
    by_path: GlobSet,
}

impl Excludes {
    /// Adds a pattern; a malformed one is refused with a message that quotes it.
    pub(crate) fn add(&mut self, pattern: &str) -> Result<(), String> {
        if pattern.is_empty() {
            return Err("exclude: an empty pattern".to_string());
        }
        let list = if pattern.contains('/') {
            &mut self.paths
        } else {
            &mut self.names
        };
        list.push(pattern.to_string());
        let built = build(list).map_err(|e| {
            list.pop();
            format!("exclude {pattern:?}: {e}")
        })?;
        if pattern.contains('/') {
            self.by_path = built;
        } else {
            self.by_name = built;
        }
        Ok(())
    }

    /// Whether `path` (a file or directory the walk reached, or a root) is excluded.
    pub(crate) fn matches(&self, path: &Path) -> bool {
        (!self.paths.is_empty() && self.by_path.is_match(path))
            || (!self.names.is_empty()
                && path.file_name().is_some_and(|n| self.by_name.is_match(n)))
    }
}

fn build(patterns: &[String]) -> Result<GlobSet, globset::Error> {
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        set.add(
            GlobBuilder::new(p)
                .literal_separator(true)
                .backslash_escape(true)
                .build()?,
        );
    }
    set.build()
}

/// How the note that replaces a permission error on a default place begins (the path
/// follows).
pub(crate) const UNREADABLE_NOTE: &str = "not readable as this user: run as root to read ";

/// The note that replaces a permission error on a default place: what root would add.
pub(crate) fn unreadable_note(path: &Path) -> String {
    format!("{UNREADABLE_NOTE}{}", path.display())
}

/// Whether `path` lies in a default place (`defaults`) and in no place named (`named`): its
/// permission errors are notes.
pub(crate) fn quiet_denied(path: &Path, defaults: &[PathBuf], named: &[PathBuf]) -> bool {
    defaults.iter().any(|d| path.starts_with(d)) && !named.iter().any(|n| path.starts_with(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excludes(patterns: &[&str]) -> Excludes {
        let mut e = Excludes::default();
        for p in patterns {
            e.add(p).unwrap();
        }
        e
    }

    #[test]
    fn a_pattern_without_a_slash_matches_names_at_any_depth() {
        let e = excludes(&["*.gz", "journal"]);
        assert!(e.matches(Path::new("/var/log/syslog.2.gz")));
        assert!(e.matches(Path::new("/var/log/journal")));
        assert!(e.matches(Path::new("logs/journal")));
        assert!(!e.matches(Path::new("/var/log/journal.d")));
        assert!(!e.matches(Path::new("/var/log/syslog")));
    }

    #[test]
    fn a_pattern_with_a_slash_matches_the_whole_path_and_star_stops_at_slashes() {
        let e = excludes(&["/var/log/*.1", "/srv/**/old"]);
        assert!(e.matches(Path::new("/var/log/syslog.1")));
        assert!(!e.matches(Path::new("/var/log/nginx/error.log.1")));
        assert!(e.matches(Path::new("/srv/a/b/old")));
        assert!(e.matches(Path::new("/srv/old")));
        assert!(!e.matches(Path::new("/srv/older")));
    }

    #[test]
    fn no_pattern_excludes_nothing_and_a_bad_one_is_refused_by_name() {
        assert!(!Excludes::default().matches(Path::new("/var/log")));
        let mut e = Excludes::default();
        let message = e.add("/var/log/[").unwrap_err();
        assert!(message.contains("\"/var/log/[\""), "{message}");
        assert!(e.add("").is_err());
        // The refused pattern is not kept.
        e.add("*.gz").unwrap();
        assert!(!e.matches(Path::new("/var/log/[")));
    }

    #[test]
    fn denied_paths_are_quiet_in_default_places_only() {
        let defaults = [PathBuf::from("/var/log")];
        let named = [PathBuf::from("/var/log/private")];
        assert!(quiet_denied(Path::new("/var/log/btmp"), &defaults, &named));
        assert!(!quiet_denied(
            Path::new("/var/log/private/x"),
            &defaults,
            &named
        ));
        assert!(!quiet_denied(Path::new("/srv/log"), &defaults, &named));
    }
}
