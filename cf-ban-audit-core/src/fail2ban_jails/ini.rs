//! fail2ban's reader of `jail.conf` and the files beside it: Python's `configparser` as
//! fail2ban 1.0.2 sets it up (`client/configparserinc.py`), rebuilt line for line.
//!
//! - Lines end with `\n`, `\r\n` or a lone `\r`. A line whose first non-blank character is `#`
//!   or `;` is a comment; `;` at the start or after white space starts an inline comment, `#`
//!   never does (`bantime = 1h # one hour` keeps `# one hour` in the value).
//! - `[NAME]` opens a section (the name is everything up to the last `]`, case and spaces
//!   kept; `DEFAULT` exactly is the defaults). A key ends at the first `=` or `:` and is
//!   compared in lower case. A line indented deeper than its key continues the value (blank and
//!   comment lines in between do not end it); the pieces are joined with `\n`.
//! - Each file is read on its own, then merged in order: `[DEFAULT]` keys and section keys of a
//!   later file replace earlier ones, and the value a key had before a file replaced it stays
//!   reachable as `%(known/KEY)s`. A section named `NAME?COND` adds `KEY?COND` keys to `NAME`.
//! - `%(KEY)s` is the key in the section asked for, else in `[DEFAULT]` (a `[DEFAULT]` value
//!   is therefore read in the context of the jail that uses it), `%(__name__)s` the section's
//!   name, `%(default/KEY)s` the `[DEFAULT]` key, `%(SECTION/KEY)s` another section's key,
//!   `%%` a `%`; at most ten levels deep, as Python allows (so a `%(known/...)s` chain over
//!   three files fails in fail2ban too).
//!
//! Where fail2ban refuses a file (not UTF-8: that file is skipped; a byte order mark, a line
//! before the first section, a line that is no `key = value`, a section or key twice in one
//! file: the whole configuration fails), the line is reported and reading goes on as well as
//! it can. `[INCLUDES]` files are not read; each `before`/`after` is noted.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Python's `configparser.MAX_INTERPOLATION_DEPTH`.
const MAX_DEPTH: usize = 10;

/// The longest value interpolation may build (`a = %(b)s%(b)s` doubles at each level).
const MAX_VALUE: usize = 1 << 20;

/// What fail2ban says of a file it refuses: the whole configuration fails to load.
const REFUSED: &str = "fail2ban refuses the configuration";

/// A value as written: its text (continuation lines joined with `\n`) and where its key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Raw {
    /// The text, comments removed, trimmed.
    pub(crate) text: String,
    /// The index of the file in the order read.
    pub(crate) file: usize,
    /// The line of the key (1-based).
    pub(crate) line: u64,
}

/// A section's keys (lower case) and values.
type Options = HashMap<String, Raw>;

/// A note or a problem: the file, the line, what it is.
pub(crate) type Remark = (PathBuf, u64, String);

/// Every file of a configuration, merged as fail2ban merges them.
#[derive(Debug, Default)]
pub(crate) struct Ini {
    /// The files in the order read.
    paths: Vec<PathBuf>,
    /// `[DEFAULT]`.
    defaults: Options,
    /// The sections in the order they first appear.
    sections: Vec<(String, Options)>,
    /// Section name to index into `sections`.
    index: HashMap<String, usize>,
    /// `KNOWN/<section>`: the values keys had before a later file replaced them.
    known: HashMap<String, Options>,
    /// Lines fail2ban refuses.
    pub(crate) malformed: Vec<Remark>,
    /// What is not followed (`[INCLUDES]`).
    pub(crate) notes: Vec<Remark>,
}

/// Whether Python's `str.isspace()` holds (what `strip()` and `\s` use).
pub(crate) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()`.
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Splits text into lines as Python's universal newlines do.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let s = rest?;
        match s.find(['\n', '\r']) {
            Some(i) => {
                let skip = if s[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&s[i + skip..]).filter(|r| !r.is_empty());
                Some(&s[..i])
            }
            None => {
                rest = None;
                Some(s)
            }
        }
    })
}

/// Where a line's comment starts: a whole-line `#`/`;`, or `;` at the start or after white
/// space (the only inline comment prefix fail2ban gives `configparser`).
fn comment_start(line: &str) -> Option<usize> {
    if py_strip(line).starts_with(['#', ';']) {
        return Some(0);
    }
    let mut prev: Option<char> = None;
    for (i, c) in line.char_indices() {
        if c == ';' && prev.is_none_or(is_py_space) {
            return Some(i);
        }
        prev = Some(c);
    }
    None
}

/// The name of a `[NAME]` header (`\[(.+)\]` matched from the start: up to the last `]`).
fn header(value: &str) -> Option<&str> {
    let rest = value.strip_prefix('[')?;
    let close = rest.rfind(']')?;
    (close > 0).then(|| &rest[..close])
}

/// Where a value is being gathered in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cur {
    /// `[DEFAULT]`.
    Defaults,
    /// A section, by its index in the file.
    Section(usize),
}

/// A section's keys while its file is read: the value's pieces and the key's line.
type Pending = HashMap<String, (Vec<String>, u64)>;

/// One file's sections before merging; values are pieces until the file ends.
#[derive(Debug, Default)]
struct FileIni {
    /// `[DEFAULT]`.
    defaults: Pending,
    /// The sections in the order of the file.
    sections: Vec<(String, Pending)>,
}

impl FileIni {
    /// The keys of `[DEFAULT]` or of a section.
    fn options(&mut self, cur: Cur) -> &mut Pending {
        match cur {
            Cur::Defaults => &mut self.defaults,
            Cur::Section(i) => &mut self.sections[i].1,
        }
    }
}

/// Joins the pieces of each value as `configparser` does (`'\n'.join(...).rstrip()`).
fn finish(options: Pending, file: usize) -> Options {
    options
        .into_iter()
        .map(|(key, (pieces, line))| {
            let text = pieces.join("\n").trim_end_matches(is_py_space).to_string();
            (key, Raw { text, file, line })
        })
        .collect()
}

/// A section name `NAME?COND` (`^(\w+)(\?.+)$`): the name and the `?COND` suffix.
fn conditional(name: &str) -> Option<(&str, &str)> {
    let q = name.find('?')?;
    let (base, cond) = name.split_at(q);
    let word = |c: char| c.is_alphanumeric() || c == '_';
    (!base.is_empty() && base.chars().all(word) && cond.len() > 1).then_some((base, cond))
}

impl Ini {
    /// Reads and merges the files in order.
    pub(crate) fn read(files: &[(PathBuf, Vec<u8>)]) -> Ini {
        let mut ini = Ini::default();
        for (path, bytes) in files {
            let file = ini.paths.len();
            ini.paths.push(path.clone());
            let text = match std::str::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => {
                    let line = 1 + bytes[..e.valid_up_to()]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count() as u64;
                    ini.malformed.push((
                        path.clone(),
                        line,
                        "not UTF-8: fail2ban skips this whole file".to_string(),
                    ));
                    continue;
                }
            };
            let parsed = ini.parse_file(text, file);
            ini.merge(parsed, file);
        }
        ini
    }

    /// The path of a file by its index.
    pub(crate) fn path(&self, file: usize) -> &Path {
        self.paths.get(file).map_or(Path::new(""), PathBuf::as_path)
    }

    /// The section names in the order they first appear.
    pub(crate) fn sections(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|(name, _)| name.as_str())
    }

    /// Reads one file as `configparser._read` does.
    fn parse_file(&mut self, text: &str, file: usize) -> FileIni {
        let path = self.paths[file].clone();
        let mut bad =
            |line: u64, message: String| self.malformed.push((path.clone(), line, message));
        let mut out = FileIni::default();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut added: HashSet<(String, String)> = HashSet::new();
        let mut cur: Option<(Cur, String)> = None;
        let mut key: Option<String> = None;
        let mut indent = 0usize;
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => {
                bad(1, format!("starts with a byte order mark: {REFUSED}"));
                rest
            }
            None => text,
        };
        for (n, line) in lines(text).enumerate() {
            let n = n as u64 + 1;
            let comment = comment_start(line);
            let value = py_strip(&line[..comment.unwrap_or(line.len())]);
            if value.is_empty() {
                if let (None, Some((c, _)), Some(k)) = (comment, &cur, &key) {
                    if let Some((pieces, _)) = out.options(*c).get_mut(k) {
                        pieces.push(String::new());
                    }
                }
                continue;
            }
            let level = line.chars().take_while(|&c| is_py_space(c)).count();
            if let (Some((c, _)), Some(k)) = (&cur, &key) {
                if level > indent {
                    if let Some((pieces, _)) = out.options(*c).get_mut(k) {
                        pieces.push(value.to_string());
                    }
                    continue;
                }
            }
            indent = level;
            if let Some(name) = header(value) {
                key = None;
                let c = if name == "DEFAULT" {
                    Cur::Defaults
                } else if let Some(&i) = index.get(name) {
                    bad(n, format!("[{name}] appears twice in this file: {REFUSED}"));
                    Cur::Section(i)
                } else {
                    index.insert(name.to_string(), out.sections.len());
                    out.sections.push((name.to_string(), HashMap::new()));
                    Cur::Section(out.sections.len() - 1)
                };
                cur = Some((c, name.to_string()));
                continue;
            }
            let Some((c, section)) = &cur else {
                bad(n, format!("a line before the first [section]: {REFUSED}"));
                continue;
            };
            let Some(delim) = value.find(['=', ':']) else {
                // configparser keeps gathering the key before: deeper lines still continue it.
                bad(
                    n,
                    format!(
                        "neither [section], key = value nor an indented continuation: {REFUSED}"
                    ),
                );
                continue;
            };
            let name = value[..delim].trim_end_matches(is_py_space).to_lowercase();
            if name.is_empty() {
                bad(n, format!("a value without a key: {REFUSED}"));
                key = None;
                continue;
            }
            if !added.insert((section.clone(), name.clone())) {
                bad(
                    n,
                    format!("{name} is set twice in [{section}] in this file: {REFUSED}"),
                );
            }
            let text = py_strip(&value[delim + 1..]).to_string();
            out.options(*c).insert(name.clone(), (vec![text], n));
            key = Some(name);
        }
        if let Some(&i) = index.get("INCLUDES") {
            for name in ["before", "after"] {
                let Some((pieces, line)) = out.sections[i].1.get(name) else {
                    continue;
                };
                let named: Vec<&str> = pieces
                    .iter()
                    .map(|p| p.as_str())
                    .filter(|p| !p.is_empty())
                    .collect();
                if !named.is_empty() {
                    let what = "fail2ban reads these [INCLUDES] files too; they are not read here";
                    let path = self.paths[file].clone();
                    self.notes
                        .push((path, *line, format!("{name} = {}: {what}", named.join(" "))));
                }
            }
        }
        out
    }

    /// Merges one file into the configuration (`SafeConfigParserWithIncludes.read`).
    fn merge(&mut self, parsed: FileIni, file: usize) {
        self.defaults.extend(finish(parsed.defaults, file));
        for (name, options) in parsed.sections {
            let mut options = finish(options, file);
            let name = match conditional(&name) {
                Some((base, cond)) => {
                    options = options
                        .into_iter()
                        .map(|(k, v)| (format!("{k}{cond}"), v))
                        .collect();
                    base.to_string()
                }
                None => name,
            };
            match self.index.get(&name) {
                Some(&i) => {
                    let before = &mut self.sections[i].1;
                    let known = self.known.entry(name).or_default();
                    for key in options.keys() {
                        if let Some(old) = before.get(key) {
                            known.insert(key.clone(), old.clone());
                        }
                    }
                    before.extend(options);
                }
                None => {
                    self.index.insert(name.clone(), self.sections.len());
                    self.sections.push((name, options));
                }
            }
        }
    }

    /// A section's own keys.
    fn section(&self, name: &str) -> Option<&Options> {
        self.index.get(name).map(|&i| &self.sections[i].1)
    }

    /// The raw value of `key` in `section`, else in `[DEFAULT]`.
    pub(crate) fn raw(&self, section: &str, key: &str) -> Option<&Raw> {
        self.section(section)
            .and_then(|s| s.get(key))
            .or_else(|| self.defaults.get(key))
    }

    /// The value of `key` in `section` (else `[DEFAULT]`) with `%(...)s` resolved in the
    /// context of `section`, and where it is written; `None` when neither sets it.
    pub(crate) fn get(&self, section: &str, key: &str) -> Option<(Result<String, String>, &Raw)> {
        let raw = self.raw(section, key)?;
        let mut out = String::new();
        let result = self
            .interpolate(section, &raw.text, &HashMap::new(), 1, &mut out)
            .map(|()| out);
        Some((result, raw))
    }

    /// `BasicInterpolation._interpolate_some` with fail2ban's `_map_section_options` before
    /// each level: appends `rest`, resolved, to `out`.
    fn interpolate(
        &self,
        section: &str,
        rest: &str,
        vars: &HashMap<String, String>,
        depth: usize,
        out: &mut String,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "more than {MAX_DEPTH} levels of %(...)s (fail2ban stops there too: \
                 a %(known/...)s can only go back one file)"
            ));
        }
        let mut vars = vars.clone();
        vars.insert("__name__".to_string(), section.to_string());
        self.map_section_options(section, rest, &mut vars);
        let mut rest = rest;
        while let Some(p) = rest.find('%') {
            out.push_str(&rest[..p]);
            rest = &rest[p..];
            if let Some(r) = rest.strip_prefix("%%") {
                out.push('%');
                rest = r;
            } else if let Some(r) = rest.strip_prefix("%(") {
                let name = r
                    .find(')')
                    .filter(|&close| close > 0 && r[close + 1..].starts_with('s'))
                    .map(|close| (&r[..close], &r[close + 2..]));
                let Some((name, after)) = name else {
                    return Err(format!("a bad %(...)s reference: {:?}", cut(rest)));
                };
                rest = after;
                let var = name.to_lowercase();
                let value = vars
                    .get(&var)
                    .map(String::as_str)
                    .or_else(|| self.raw(section, &var).map(|r| r.text.as_str()));
                let Some(value) = value else {
                    return Err(format!(
                        "%({name})s is not set in the jail or in [DEFAULT]{}",
                        if self.notes.is_empty() {
                            ""
                        } else {
                            " (files named in [INCLUDES] are not read)"
                        }
                    ));
                };
                if value.contains('%') {
                    self.interpolate(section, value, &vars, depth + 1, out)?;
                } else {
                    out.push_str(value);
                }
            } else {
                return Err(format!(
                    "a '%' that is neither %% nor %(name)s: {:?}",
                    cut(rest)
                ));
            }
            if out.len() > MAX_VALUE {
                return Err(format!("the value grows past {MAX_VALUE} bytes"));
            }
        }
        out.push_str(rest);
        Ok(())
    }

    /// fail2ban's `_map_section_options`: each `%(SECTION/KEY)s` in `rest` that is not a key
    /// already is looked up (`known/` in the values replaced by later files, `default/` in
    /// `[DEFAULT]`, else the named section, falling back to `[DEFAULT]`) and added to `vars`
    /// under its name as written.
    fn map_section_options(&self, section: &str, rest: &str, vars: &mut HashMap<String, String>) {
        if !rest.contains('/') || !rest.contains("%(") {
            return;
        }
        for (sopt, sec, opt) in section_refs(rest) {
            if vars.contains_key(sopt)
                || self.section(section).is_some_and(|s| s.contains_key(sopt))
                || self.defaults.contains_key(sopt)
            {
                continue;
            }
            let value = match sec.to_lowercase().as_str() {
                "default" => self.defaults.get(opt),
                "known" => self
                    .known
                    .get(section)
                    .and_then(|k| k.get(opt))
                    .or_else(|| self.defaults.get(opt)),
                _ => match self.section(sec) {
                    Some(s) => s.get(opt).or_else(|| self.defaults.get(opt)),
                    None => None,
                },
            };
            if let Some(value) = value {
                vars.insert(sopt.to_string(), value.text.clone());
            }
        }
    }
}

/// The `%(SECTION/KEY)s` references of a value (`%\(([\w\-]+/([^\)]+))\)s`, all matches):
/// (`SECTION/KEY`, `SECTION`, `KEY`) as written.
fn section_refs(text: &str) -> Vec<(&str, &str, &str)> {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(p) = text[at..].find("%(") {
        let start = at + p + 2;
        at = start;
        let body = &text[start..];
        let sec_len = body.find(|c: char| !word(c)).unwrap_or(body.len());
        if sec_len == 0 || !body[sec_len..].starts_with('/') {
            continue;
        }
        let opt = &body[sec_len + 1..];
        let Some(close) = opt.find(')') else { continue };
        if close == 0 || !opt[close + 1..].starts_with('s') {
            continue;
        }
        found.push((
            &body[..sec_len + 1 + close],
            &body[..sec_len],
            &opt[..close],
        ));
        at = start + sec_len + 1 + close + 2;
    }
    found
}

/// The start of a text, for a message.
fn cut(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
