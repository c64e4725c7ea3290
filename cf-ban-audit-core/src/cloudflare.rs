//! Cloudflare's published ranges: the embedded snapshot (with the date and the API etag it was
//! taken from) and the parsers for the two forms Cloudflare publishes them in, the text lists
//! `ips-v4`/`ips-v6` (a CIDR a line) and the JSON answer of `GET /client/v4/ips`.

use ipnet::IpNet;
use serde::Deserialize;

use crate::addr::parse_net;
use crate::error::Error;
use crate::lines::trim_ascii;
use crate::ranges::RangeSet;

/// Cloudflare's IPv4 ranges as published on the snapshot date.
pub const IPV4: &[&str] = &[
    "173.245.48.0/20",
    "103.21.244.0/22",
    "103.22.200.0/22",
    "103.31.4.0/22",
    "141.101.64.0/18",
    "108.162.192.0/18",
    "190.93.240.0/20",
    "188.114.96.0/20",
    "197.234.240.0/22",
    "198.41.128.0/17",
    "162.158.0.0/15",
    "104.16.0.0/13",
    "104.24.0.0/14",
    "172.64.0.0/13",
    "131.0.72.0/22",
];

/// Cloudflare's IPv6 ranges as published on the snapshot date.
pub const IPV6: &[&str] = &[
    "2400:cb00::/32",
    "2606:4700::/32",
    "2803:f800::/32",
    "2405:b500::/32",
    "2405:8100::/32",
    "2a06:98c0::/29",
    "2c0f:f248::/32",
];

/// The day the embedded snapshot was taken.
pub const SNAPSHOT_DATE: &str = "2026-10-02";

/// The `etag` of the API answer the snapshot matches (a digest of the list).
pub const SNAPSHOT_ETAG: &str = "38f79d050aa027e3be3865e495dcc9bc";

/// Ranges Cloudflare once published and has since withdrawn; old allowlists still carry them.
pub const RETIRED: &[&str] = &["199.27.128.0/21", "104.16.0.0/12"];

/// The embedded Cloudflare ranges as a [`RangeSet`].
///
/// ```
/// let cf = cf_ban_audit_core::cloudflare::embedded();
/// assert_eq!(cf.v4_nets().count(), 15);
/// assert_eq!(cf.v6_nets().count(), 7);
/// assert!(cf.contains("104.16.5.5".parse().unwrap()));
/// ```
pub fn embedded() -> RangeSet {
    IPV4.iter()
        .chain(IPV6)
        .map(|s| s.parse::<IpNet>().expect("embedded range parses"))
        .collect()
}

/// A human description of the embedded snapshot, as shown in reports.
pub fn embedded_source() -> String {
    format!("embedded cloudflare {SNAPSHOT_DATE} (etag {SNAPSHOT_ETAG})")
}

#[derive(Deserialize)]
struct ApiAnswer {
    result: Option<ApiResult>,
    #[serde(default)]
    success: Option<bool>,
}

#[derive(Deserialize)]
struct ApiResult {
    #[serde(default)]
    ipv4_cidrs: Vec<String>,
    #[serde(default)]
    ipv6_cidrs: Vec<String>,
    #[serde(default)]
    jdcloud_cidrs: Vec<String>,
    #[serde(default)]
    etag: Option<String>,
}

/// Ranges read from a file, with what the file said about itself.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoadedRanges {
    /// The networks read.
    pub nets: Vec<IpNet>,
    /// The API etag, when the file was the API's JSON answer.
    pub etag: Option<String>,
}

/// Parses a range list: either the Cloudflare API JSON answer (`{"result":{"ipv4_cidrs":...}}`)
/// or text with one address or CIDR a line (`#` starts a comment; blank lines, CRLF and a last
/// line without a newline are fine). `origin` names the input in errors.
///
/// ```
/// use cf_ban_audit_core::cloudflare::parse_ranges;
/// let text = parse_ranges(b"173.245.48.0/20\r\n# comment\n2400:cb00::/32", "ips").unwrap();
/// assert_eq!(text.nets.len(), 2);
/// let json = br#"{"result":{"ipv4_cidrs":["104.16.0.0/13"],"ipv6_cidrs":["2606:4700::/32"],"etag":"abc"},"success":true,"errors":[],"messages":[]}"#;
/// let api = parse_ranges(json, "api.json").unwrap();
/// assert_eq!(api.nets.len(), 2);
/// assert_eq!(api.etag.as_deref(), Some("abc"));
/// ```
pub fn parse_ranges(bytes: &[u8], origin: &str) -> Result<LoadedRanges, Error> {
    let trimmed = trim_ascii(bytes);
    if trimmed.first() == Some(&b'{') {
        return parse_api_json(trimmed, origin);
    }
    let mut nets = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = match memchr::memchr(b'#', raw) {
            Some(hash) => &raw[..hash],
            None => raw,
        };
        let line = trim_ascii(line);
        if line.is_empty() {
            continue;
        }
        match parse_net(line) {
            Some(net) => nets.push(net),
            None => {
                return Err(Error::Ranges {
                    origin: origin.to_string(),
                    message: format!(
                        "line {}: not an address or CIDR: {:?}",
                        i + 1,
                        String::from_utf8_lossy(&line[..line.len().min(80)])
                    ),
                })
            }
        }
    }
    if nets.is_empty() {
        return Err(Error::Ranges {
            origin: origin.to_string(),
            message: "no address or CIDR in the file".to_string(),
        });
    }
    Ok(LoadedRanges { nets, etag: None })
}

fn parse_api_json(bytes: &[u8], origin: &str) -> Result<LoadedRanges, Error> {
    let err = |message: String| Error::Ranges {
        origin: origin.to_string(),
        message,
    };
    let answer: ApiAnswer = serde_json::from_slice(bytes)
        .map_err(|e| err(format!("not a Cloudflare API answer: {e}")))?;
    if answer.success == Some(false) {
        return Err(err("the API answer says success: false".to_string()));
    }
    let result = answer
        .result
        .ok_or_else(|| err("the API answer has no result".to_string()))?;
    let mut nets = Vec::new();
    for text in result
        .ipv4_cidrs
        .iter()
        .chain(&result.ipv6_cidrs)
        .chain(&result.jdcloud_cidrs)
    {
        let net = parse_net(text.trim().as_bytes())
            .ok_or_else(|| err(format!("not an address or CIDR: {text:?}")))?;
        nets.push(net);
    }
    if nets.is_empty() {
        return Err(err("the API answer lists no ranges".to_string()));
    }
    Ok(LoadedRanges {
        nets,
        etag: result.etag,
    })
}

/// Builds the range set a command uses: the embedded Cloudflare list (unless `embedded` is
/// false) plus every file in `files` (a CIDR-per-line list or the API's JSON answer). Returns
/// the set and a description of its sources for reports.
///
/// ```
/// let (set, source) = cf_ban_audit_core::cloudflare::build_ranges(&[], true).unwrap();
/// assert_eq!(set.nets().len(), 22);
/// assert!(source.starts_with("embedded cloudflare"));
/// ```
pub fn build_ranges(
    files: &[std::path::PathBuf],
    embedded_list: bool,
) -> Result<(RangeSet, String), Error> {
    let mut nets: Vec<IpNet> = Vec::new();
    let mut sources = Vec::new();
    if embedded_list {
        nets.extend(embedded().nets().iter().copied());
        sources.push(embedded_source());
    }
    for file in files {
        let bytes = std::fs::read(file).map_err(|e| Error::Ranges {
            origin: file.display().to_string(),
            message: e.to_string(),
        })?;
        let loaded = parse_ranges(&bytes, &file.display().to_string())?;
        sources.push(match loaded.etag {
            Some(etag) => format!("{} (etag {etag})", file.display()),
            None => file.display().to_string(),
        });
        nets.extend(loaded.nets);
    }
    if nets.is_empty() {
        return Err(Error::Usage(
            "no ranges: --no-cloudflare needs at least one --ranges FILE".to_string(),
        ));
    }
    Ok((nets.into_iter().collect(), sources.join(" + ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_list_is_minimal_and_complete() {
        let cf = embedded();
        assert_eq!(cf.v4_nets().count(), 15);
        assert_eq!(cf.v6_nets().count(), 7);
        assert_eq!(cf.v4_address_count(), 1_524_736);
    }

    #[test]
    fn retired_ranges_are_flagged_by_difference() {
        let retired: RangeSet = RETIRED
            .iter()
            .map(|s| s.parse::<IpNet>().unwrap())
            .collect();
        let stale = retired.difference(&embedded());
        let s: Vec<String> = stale.nets().iter().map(|n| n.to_string()).collect();
        assert_eq!(s, ["104.28.0.0/14", "199.27.128.0/21"]);
    }

    #[test]
    fn bad_lines_name_their_line() {
        let e = parse_ranges(b"104.16.0.0/13\nnonsense\n", "list.txt").unwrap_err();
        assert!(e.to_string().contains("list.txt"), "{e}");
        assert!(e.to_string().contains("line 2"), "{e}");
        assert!(parse_ranges(b"{\"result\":", "x.json").is_err());
        assert!(parse_ranges(b"\n# only comments\n", "empty").is_err());
    }
}
