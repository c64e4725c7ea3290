//! `ranges update`: fetches Cloudflare's list over HTTPS (the API's JSON answer, or the
//! `ips-v4`/`ips-v6` text lists when the API cannot be reached), checks it, and stores it in a
//! cache file that `scan`, `snippet`, `check` and `ranges` then use. The embedded list stays the
//! offline default. The network code lives here, not in the library.

use std::path::{Path, PathBuf};
use std::time::Duration;

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

/// Where the cache lives: `$CF_BAN_AUDIT_CACHE`, else /var/cache/cf-ban-audit/ips.json for root,
/// else `$XDG_CACHE_HOME` or `~/.cache`.
pub fn cache_path() -> PathBuf {
    if let Some(p) = std::env::var_os("CF_BAN_AUDIT_CACHE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let root = std::fs::metadata("/proc/self").map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid() == 0
    });
    if root.unwrap_or(false) {
        return PathBuf::from("/var/cache/cf-ban-audit/ips.json");
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("cf-ban-audit").join("ips.json")
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
    let cache = cache_path();
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
    let previous = std::fs::read(&cache)
        .ok()
        .and_then(|b| parse_ranges(&b, "cache").ok());
    let old_etag = previous
        .as_ref()
        .map_or(Some(SNAPSHOT_ETAG.to_string()), |p| p.etag.clone());
    let changed = match (&ranges.etag, &old_etag) {
        (Some(new), Some(old)) => new != old,
        _ => previous.is_none_or(|p| p.nets != ranges.nets),
    };
    store(&cache, &bytes)?;
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

/// Writes the cache atomically: a temp file beside it, then a rename.
fn store(cache: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = cache.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let tmp = dir.join(format!(".ips.json.{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, cache).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", cache.display())
    })
}
