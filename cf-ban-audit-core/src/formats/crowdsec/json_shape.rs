//! Detection of the JSON shapes CrowdSec writes, from a prefix of the file: an array of
//! alerts or decisions, or the stream object `{"new": [...], "deleted": [...]}`.

use std::path::Path;

/// Whether a name says the file is CrowdSec's (for the empty answers `[]` and `null`).
fn name_says_crowdsec(path: &Path) -> bool {
    let name = path.to_string_lossy().to_ascii_lowercase();
    name.contains("crowdsec") || name.contains("cscli") || name.contains("decision")
}

/// Skips white space from `i`.
fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && s[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The end (index after the closing quote) of the JSON string starting at `s[i] == '"'`,
/// or `None` when the text ends first.
fn string_end(s: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < s.len() {
        match s[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// The keys (lower case) of the object starting at `s[start] == '{'`, each with the first
/// byte of its value (0 when the text ends before it), as far as the text goes.
fn object_keys(s: &[u8], start: usize) -> Vec<(String, u8)> {
    object_keys_closed(s, start).0
}

/// [`object_keys`], and whether the object closes within the text.
fn object_keys_closed(s: &[u8], start: usize) -> (Vec<(String, u8)>, bool) {
    let mut keys = Vec::new();
    let mut depth = 1usize;
    let mut expect_key = true;
    let mut i = start + 1;
    while i < s.len() {
        match s[i] {
            b'"' => {
                let Some(end) = string_end(s, i) else { break };
                if depth == 1 && expect_key {
                    let key = String::from_utf8_lossy(&s[i + 1..end - 1]).to_ascii_lowercase();
                    let colon = skip_ws(s, end);
                    if s.get(colon) != Some(&b':') {
                        break;
                    }
                    let value = skip_ws(s, colon + 1);
                    keys.push((key, s.get(value).copied().unwrap_or(0)));
                    expect_key = false;
                    i = value;
                    continue;
                }
                i = end;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return (keys, true);
                }
            }
            b',' if depth == 1 => expect_key = true,
            _ => {}
        }
        i += 1;
    }
    (keys, false)
}

/// Whether the keys of an object are those of a CrowdSec alert.
fn is_alert(keys: &[&str]) -> bool {
    let has = |k: &str| keys.contains(&k);
    let alert_keys = [
        "scenario",
        "source",
        "machine_id",
        "events_count",
        "capacity",
        "start_at",
        "stop_at",
        "created_at",
        "leakspeed",
        "scenario_hash",
    ];
    let alerty = alert_keys.iter().filter(|k| has(k)).count();
    (has("decisions") && alerty >= 1) || (has("scenario") && has("source") && alerty >= 3)
}

/// Whether the keys of an object are those of a CrowdSec decision.
fn is_decision(keys: &[&str]) -> bool {
    let has = |k: &str| keys.contains(&k);
    has("value")
        && (has("scope") || has("type"))
        && ["scenario", "reason", "duration", "origin", "until"]
            .iter()
            .any(|k| has(k))
}

/// Whether a JSON prefix has one of the shapes of [`detect`].
pub(super) fn json_shape(s: &[u8], path: &Path) -> bool {
    let rest_empty = |i: usize| skip_ws(s, i) == s.len();
    if s.starts_with(b"null") {
        return rest_empty(4) && name_says_crowdsec(path);
    }
    if s[0] == b'[' {
        let i = skip_ws(s, 1);
        return match s.get(i) {
            Some(b']') => rest_empty(i + 1) && name_says_crowdsec(path),
            Some(b'{') => {
                let keys = object_keys(s, i);
                let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
                is_alert(&names) || is_decision(&names)
            }
            _ => false,
        };
    }
    // An object: the decision stream.
    let keys = object_keys(s, 0);
    !keys.is_empty()
        && keys
            .iter()
            .all(|(k, first)| (k == "new" || k == "deleted") && matches!(first, b'[' | b'n' | 0))
        && stream_first_entry_fits(s)
}

/// In a stream object, the first entry of the first non-empty list (if the prefix shows one)
/// must be a decision.
fn stream_first_entry_fits(s: &[u8]) -> bool {
    // Find the first `[` after a key; look at its first element.
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            b'"' => match string_end(s, i) {
                Some(end) => i = end,
                None => return true,
            },
            b'[' => {
                let j = skip_ws(s, i + 1);
                return match s.get(j) {
                    None => true,
                    Some(b']') => {
                        // Empty list: look at the next one, if any.
                        i = j + 1;
                        continue;
                    }
                    Some(b'{') => {
                        let (keys, closed) = object_keys_closed(s, j);
                        let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
                        // A prefix may end inside the first decision: judge the keys seen.
                        is_decision(&names)
                            || (!closed
                                && !names.is_empty()
                                && names.iter().all(|k| DECISION_KEYS.contains(k)))
                    }
                    Some(_) => false,
                };
            }
            _ => {}
        }
        i += 1;
    }
    true
}

/// The keys of `models.Decision`.
const DECISION_KEYS: &[&str] = &[
    "duration",
    "id",
    "origin",
    "scenario",
    "scope",
    "simulated",
    "type",
    "until",
    "uuid",
    "value",
];
