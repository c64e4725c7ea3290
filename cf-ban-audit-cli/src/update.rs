//! `ranges update`: fetches Cloudflare's list over HTTPS (the API's JSON answer, or the
//! `ips-v4`/`ips-v6` text lists when the API cannot be reached), checks it, and stores it in a
//! cache file that `scan`, `snippet`, `check`, `contains` and `ranges` then use. The embedded
//! list stays the offline default. The network code lives here, not in the library.
//!
//! The cache decides which addresses count as Cloudflare's, so it is only trusted from the
//! user running cf-ban-audit or root: it lives in that user's cache directory (root's in
//! /var/cache/cf-ban-audit), never in a shared temporary directory, and a cache file or
//! directory another user owns or can write is ignored with a warning.

use std::ffi::OsString;
use std::fs::Metadata;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use cf_ban_audit_core::cloudflare::{parse_ranges, LoadedRanges, SNAPSHOT_ETAG};

/// Cloudflare's API endpoint for its ranges.
pub const API_URL: &str = "https://api.cloudflare.com/client/v4/ips";
/// The text lists, used when the API answer cannot be had.
pub const TEXT_URLS: [&str; 2] = [
    "https://www.cloudflare.com/ips-v4",
    "https://www.cloudflare.com/ips-v6",
];

/// The most bytes read from an answer.
const MAX_BODY: u64 = 4 * 1024 * 1024;

/// Root's cache, whatever `HOME` says (`sudo` may keep a user's).
pub const ROOT_CACHE: &str = "/var/cache/cf-ban-audit/ips.json";

/// Where the range cache is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheLocation {
    /// The cache file.
    pub path: PathBuf,
    /// Named by `CF_BAN_AUDIT_CACHE`: trusted as to its owner (the caller chose it), but a
    /// group- or world-writable file is still refused.
    pub explicit: bool,
}

/// Where the cache of a process with effective user `euid` and environment `var` lives:
/// `CF_BAN_AUDIT_CACHE`; else /var/cache/cf-ban-audit/ips.json for root; else
/// `$XDG_CACHE_HOME/cf-ban-audit/ips.json` or `$HOME/.cache/cf-ban-audit/ips.json` (absolute
/// paths only, as the XDG specification says). A user without either has no cache: the
/// error is the note that says so.
pub fn locate(euid: u32, var: impl Fn(&str) -> Option<OsString>) -> Result<CacheLocation, String> {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    if let Some(p) = set("CF_BAN_AUDIT_CACHE") {
        return Ok(CacheLocation {
            path: PathBuf::from(p),
            explicit: true,
        });
    }
    let at = |path: PathBuf| CacheLocation {
        path,
        explicit: false,
    };
    if euid == 0 {
        return Ok(at(PathBuf::from(ROOT_CACHE)));
    }
    let absolute = |name: &str| set(name).map(PathBuf::from).filter(|p| p.is_absolute());
    if let Some(xdg) = absolute("XDG_CACHE_HOME") {
        return Ok(at(xdg.join("cf-ban-audit").join("ips.json")));
    }
    if let Some(home) = absolute("HOME") {
        return Ok(at(home
            .join(".cache")
            .join("cf-ban-audit")
            .join("ips.json")));
    }
    Err(
        "no range cache: neither HOME nor XDG_CACHE_HOME is set (set one, or CF_BAN_AUDIT_CACHE)"
            .into(),
    )
}

/// The effective user id of this process.
fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// This process's cache location.
pub fn cache_location() -> Result<CacheLocation, String> {
    locate(euid(), |name| std::env::var_os(name))
}

/// Why a cache file or directory (`what`) is not trusted, if it is not: anyone but its owner
/// can write it (group or world write bit), or, unless `explicit`, its owner is neither
/// `euid` nor root.
pub fn distrust(meta: &Metadata, euid: u32, explicit: bool, what: &str) -> Option<String> {
    if meta.mode() & 0o022 != 0 {
        return Some(format!(
            "the {what} is writable by other users (mode {:04o})",
            meta.mode() & 0o7777
        ));
    }
    if !explicit && meta.uid() != euid && meta.uid() != 0 {
        return Some(format!(
            "the {what} is owned by user {}, neither you (user {euid}) nor root",
            meta.uid()
        ));
    }
    None
}

/// What reading the cache gave.
#[derive(Debug)]
pub enum CacheRead {
    /// The cache file's bytes, its path and when it was written.
    Found {
        bytes: Vec<u8>,
        path: PathBuf,
        modified: Option<SystemTime>,
    },
    /// No cache file (`ranges update` never ran): the embedded list is used.
    Absent,
    /// No place for a cache: the embedded list is used; the note says why.
    Nowhere(String),
    /// A cache that is not to be trusted or cannot be read: ignored; the warning says why.
    Refused(String),
}

/// Reads the cache if it is there and trusted: its directory (unless the caller named the
/// file) and the file itself as opened are checked with [`distrust`].
pub fn read_cache() -> CacheRead {
    let location = match cache_location() {
        Ok(l) => l,
        Err(note) => return CacheRead::Nowhere(note),
    };
    let path = location.path;
    let euid = euid();
    let refuse = |why: String| CacheRead::Refused(format!("{}: {why}", path.display()));
    if !location.explicit {
        let dir = path.parent().unwrap_or(Path::new("/"));
        match std::fs::metadata(dir) {
            Ok(meta) => {
                if let Some(why) = distrust(&meta, euid, false, "cache directory") {
                    return refuse(format!("{why} ({})", dir.display()));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return CacheRead::Absent,
            Err(e) => return refuse(e.to_string()),
        }
    }
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return CacheRead::Absent,
        Err(e) => return refuse(e.to_string()),
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => return refuse(e.to_string()),
    };
    if !meta.is_file() {
        return refuse("not a regular file".into());
    }
    if let Some(why) = distrust(&meta, euid, location.explicit, "cache file") {
        return refuse(why);
    }
    let mut bytes = Vec::new();
    if let Err(e) = file.take(MAX_BODY + 1).read_to_end(&mut bytes) {
        return refuse(e.to_string());
    }
    if bytes.len() as u64 > MAX_BODY {
        return refuse(format!("larger than {} MiB", MAX_BODY >> 20));
    }
    CacheRead::Found {
        bytes,
        path,
        modified: meta.modified().ok(),
    }
}

fn get(url: &str) -> Result<Vec<u8>, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let mut resp = agent.get(url).call().map_err(|e| format!("{url}: {e}"))?;
    resp.body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| format!("{url}: {e}"))
}

/// What an update did.
pub struct Updated {
    /// The ranges fetched.
    pub ranges: LoadedRanges,
    /// Where they came from.
    pub url: String,
    /// Whether the list differs from what was used before (by etag, or by content).
    pub changed: bool,
    /// Where they were stored.
    pub cache: PathBuf,
}

/// Fetches, checks and stores the list. `url` replaces the API endpoint (a mirror); the
/// text-list fallback is only tried for the default endpoint.
pub fn update(url: Option<&str>) -> Result<Updated, String> {
    let location = cache_location()?;
    let cache = location.path.clone();
    let (bytes, from) = match get(url.unwrap_or(API_URL)) {
        Ok(b) => (b, url.unwrap_or(API_URL).to_string()),
        Err(e) if url.is_some() => return Err(e),
        Err(api_err) => {
            let v4 = get(TEXT_URLS[0]).map_err(|e| format!("{api_err}; {e}"))?;
            let v6 = get(TEXT_URLS[1]).map_err(|e| format!("{api_err}; {e}"))?;
            (text_lists_as_api(&v4, &v6)?, TEXT_URLS.join(" + "))
        }
    };
    let ranges = parse_ranges(&bytes, &from).map_err(|e| e.to_string())?;
    if ranges.nets.len() < 2 {
        return Err(format!(
            "{from}: the answer lists too few ranges to be Cloudflare's"
        ));
    }
    let previous = match read_cache() {
        CacheRead::Found { bytes, .. } => parse_ranges(&bytes, "cache").ok(),
        _ => None,
    };
    let old_etag = previous
        .as_ref()
        .map_or(Some(SNAPSHOT_ETAG.to_string()), |p| p.etag.clone());
    let changed = match (&ranges.etag, &old_etag) {
        (Some(new), Some(old)) => new != old,
        _ => previous.is_none_or(|p| p.nets != ranges.nets),
    };
    store(&location, &bytes)?;
    Ok(Updated {
        ranges,
        url: from,
        changed,
        cache,
    })
}

/// The two text lists, as an API answer without an etag.
fn text_lists_as_api(v4: &[u8], v6: &[u8]) -> Result<Vec<u8>, String> {
    let a = parse_ranges(v4, TEXT_URLS[0]).map_err(|e| e.to_string())?;
    let b = parse_ranges(v6, TEXT_URLS[1]).map_err(|e| e.to_string())?;
    let strings = |l: &LoadedRanges| l.nets.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    let doc = serde_json::json!({
        "result": { "ipv4_cidrs": strings(&a), "ipv6_cidrs": strings(&b) },
        "success": true, "errors": [], "messages": []
    });
    serde_json::to_vec_pretty(&doc).map_err(|e| e.to_string())
}

/// Writes the cache (mode 0644) as `-o` writes a report: atomically, through an
/// unpredictable temporary file beside it. Its directory is made (0755) when missing and, at
/// the default place, must be one [`read_cache`] would trust.
fn store(location: &CacheLocation, bytes: &[u8]) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    let cache = &location.path;
    let dir = match cache.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    if !location.explicit {
        let meta = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if let Some(why) = distrust(&meta, euid(), false, "cache directory") {
            return Err(format!(
                "{}: not writing the range cache there: {why}",
                dir.display()
            ));
        }
    }
    crate::output::write_file_mode(cache, bytes, Some(0o644))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn the_cache_is_the_users_or_roots_never_a_shared_directory() {
        let at = |euid, vars: &[(&str, &str)]| locate(euid, env(vars));
        let default = |p: &str| {
            Ok(CacheLocation {
                path: PathBuf::from(p),
                explicit: false,
            })
        };
        assert_eq!(
            at(1000, &[("HOME", "/home/u"), ("XDG_CACHE_HOME", "/x/cache")]),
            default("/x/cache/cf-ban-audit/ips.json")
        );
        assert_eq!(
            at(1000, &[("HOME", "/home/u"), ("XDG_CACHE_HOME", "relative")]),
            default("/home/u/.cache/cf-ban-audit/ips.json")
        );
        // Root: /var/cache, with or without HOME (sudo may keep a user's).
        assert_eq!(at(0, &[]), default(ROOT_CACHE));
        assert_eq!(at(0, &[("HOME", "/home/u")]), default(ROOT_CACHE));
        // A user without HOME: no cache at all (the embedded list, with a note).
        let none = at(1000, &[("HOME", "")]).unwrap_err();
        assert!(none.contains("no range cache"), "{none}");
        assert!(at(1000, &[]).is_err());
        // The caller's own choice wins.
        assert_eq!(
            at(0, &[("CF_BAN_AUDIT_CACHE", "/srv/ips.json")]),
            Ok(CacheLocation {
                path: PathBuf::from("/srv/ips.json"),
                explicit: true
            })
        );
        assert_eq!(
            at(1000, &[("CF_BAN_AUDIT_CACHE", ""), ("HOME", "/h")]),
            default("/h/.cache/cf-ban-audit/ips.json")
        );
    }

    #[test]
    fn only_its_owner_or_root_may_write_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ips.json");
        std::fs::write(&file, "{}").unwrap();
        let meta = |mode| {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            std::fs::metadata(&file).unwrap()
        };
        let owner = meta(0o644).uid();
        assert_eq!(distrust(&meta(0o644), owner, false, "cache file"), None);
        assert_eq!(distrust(&meta(0o600), owner, true, "cache file"), None);
        for mode in [0o664, 0o646, 0o666] {
            for explicit in [false, true] {
                let why = distrust(&meta(mode), owner, explicit, "cache file").unwrap();
                assert!(why.contains("writable by other users"), "{why}");
            }
        }
        // Another user's file: refused at the default place, trusted when named by the caller.
        let other = owner + 1;
        let why = distrust(&meta(0o644), other, false, "cache file");
        if owner == 0 {
            assert_eq!(why, None, "root's file is trusted by everyone");
        } else {
            assert!(why.unwrap().contains(&format!("owned by user {owner}")));
        }
        assert_eq!(distrust(&meta(0o644), other, true, "cache file"), None);
    }
}
