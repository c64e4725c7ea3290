//! Reading the vendors' JSON leniently where they are loose (a key left out, `null` or `""`
//! for unset, a number written as a string) and strictly where a value decides the verdict (a
//! port, a priority, an action): a value of the wrong kind there is an error naming the key.

use serde_json::{Map, Value};

/// The object of a rule, or an error naming what it is.
pub(crate) fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{what} is not an object"))
}

/// A string field; `None` when absent, `null` or empty.
pub(crate) fn text<'a>(o: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("{key} is {other}, not a string")),
    }
}

/// An array field; empty when absent or `null`.
pub(crate) fn list<'a>(o: &'a Map<String, Value>, key: &str) -> Result<&'a [Value], String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(format!("{key} is {other}, not a list")),
    }
}

/// The strings of an array field (empty ones left out).
pub(crate) fn strings<'a>(o: &'a Map<String, Value>, key: &str) -> Result<Vec<&'a str>, String> {
    list(o, key)?
        .iter()
        .filter(|v| !v.is_null())
        .map(|v| {
            v.as_str()
                .ok_or_else(|| format!("{key} holds {v}, not a string"))
        })
        .filter(|s| !s.as_ref().is_ok_and(|s| s.trim().is_empty()))
        .collect()
}

/// An integer field, written as a number or a string of digits; `None` when absent, `null`
/// or `""`.
pub(crate) fn integer(o: &Map<String, Value>, key: &str) -> Result<Option<i64>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("{key} is {n}, not an integer")),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{key} is {s:?}, not an integer")),
        Some(other) => Err(format!("{key} is {other}, not an integer")),
    }
}

/// A boolean field; `None` when absent or `null`.
pub(crate) fn boolean(o: &Map<String, Value>, key: &str) -> Result<Option<bool>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(format!("{key} is {other}, not true or false")),
    }
}

/// Whether `v` is an object that has every one of `keys`.
pub(crate) fn has_all(v: &Value, keys: &[&str]) -> bool {
    v.as_object()
        .is_some_and(|o| keys.iter().all(|k| o.contains_key(*k)))
}

/// Whether `v` is a non-empty array of objects each of which `shape` accepts.
pub(crate) fn all_objects(v: &Value, shape: impl Fn(&Value) -> bool) -> bool {
    v.as_array()
        .is_some_and(|a| !a.is_empty() && a.iter().all(shape))
}
