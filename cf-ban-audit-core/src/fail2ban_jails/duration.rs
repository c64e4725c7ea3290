//! fail2ban's durations: `MyTime.str2seconds` (`server/mytime.py`) rewrites unit words into
//! `*N` with regular expressions and hands the rest to Python's `eval`; [`str2seconds`] does
//! the same rewriting and [`eval`] the arithmetic Python would do (numbers, `+ - * / // % **`,
//! parentheses, `#` comments), refusing anything else.
//!
//! So `1h 30m` is `1*3600+30*60`, `1d12h` is `1*86400+12*3600`, `1year-6mo` is a year less six
//! twelfths of one, `1h # one hour` is 3600, while `1 2 3`, `1e3` (read as `1e 3`) and `1h, 30m`
//! fail as they fail in fail2ban.

use super::ini::is_py_space;

/// A number as Python's `eval` gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    /// An `int`.
    Int(i128),
    /// A `float`.
    Float(f64),
}

impl Num {
    /// The value as a `float`.
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

/// The unit words of `MyTime.str2seconds`, in its order, each with the longest spelling
/// first as its regular expression tries them, and the factor written in their place.
const UNITS: [(&[&str], &str); 7] = [
    (&["days", "day", "da", "dd", "d"], "86400"),
    (&["weeks", "week", "wee", "we", "ww", "w"], "604800"),
    (&["months", "month", "mon", "mo"], "2629800.0"),
    (&["years", "year", "yea", "ye", "yy", "y"], "31557600.0"),
    (&["seconds", "second", "sec", "se", "ss", "s"], "1"),
    (&["minutes", "minute", "min", "mi", "mm", "m"], "60"),
    (&["hours", "hour", "hou", "ho", "hh", "h"], "3600"),
];

/// `\w` of Python's regular expressions.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `MyTime.str2seconds`: the text rewritten as its regular expressions do, then evaluated.
pub(crate) fn str2seconds(text: &str) -> Result<Num, String> {
    // `(?<=[a-z])(\d)` -> ` \1`: `1d12h` -> `1d 12h`.
    let mut s: Vec<char> = Vec::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_ascii_digit() && s.last().is_some_and(char::is_ascii_alphabetic) {
            s.push(' ');
        }
        s.push(c);
    }
    // `(?<=[\d\s])(UNIT)\b` -> `*N`, one unit after the other.
    for (words, factor) in UNITS {
        let mut out = Vec::with_capacity(s.len() + 8);
        let mut i = 0;
        while i < s.len() {
            let after_number = i > 0 && (s[i - 1].is_ascii_digit() || is_py_space(s[i - 1]));
            let hit = words.iter().find(|word| {
                let n = word.len();
                after_number
                    && s.get(i..i + n).is_some_and(|part| {
                        part.iter().map(char::to_ascii_lowercase).eq(word.chars())
                    })
                    && !s.get(i + n).copied().is_some_and(is_word)
            });
            match hit {
                Some(word) => {
                    out.push('*');
                    out.extend(factor.chars());
                    i += word.len();
                }
                None => {
                    out.push(s[i]);
                    i += 1;
                }
            }
        }
        s = out;
    }
    // `(\d)\s+(\d)` -> `\1+\2`: `1*3600 30*60` -> `1*3600+30*60`.
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i].is_ascii_digit() {
            let mut j = i + 1;
            while j < s.len() && is_py_space(s[j]) {
                j += 1;
            }
            if j > i + 1 && s.get(j).is_some_and(char::is_ascii_digit) {
                out.push(s[i]);
                out.push('+');
                out.push(s[j]);
                i = j + 1;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    eval(&out).map_err(|e| format!("not a duration fail2ban reads ({e})"))
}

/// Python's `eval` of arithmetic: numbers, `+ - * / // % **`, parentheses, `#` comments.
pub(crate) fn eval(text: &str) -> Result<Num, String> {
    let tokens = tokenize(text)?;
    let mut p = Parser { tokens, at: 0 };
    let value = p.expr(0)?;
    match p.tokens.get(p.at) {
        None => Ok(value),
        Some(t) => Err(format!("unexpected {t:?}")),
    }
}

/// A token of the arithmetic.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A number.
    Num(Num),
    /// An operator: `+ - * / // % **`.
    Op(&'static str),
    /// `(`.
    Open,
    /// `)`.
    Close,
    /// The end of a line outside parentheses.
    Newline,
}

/// Splits arithmetic into tokens; a newline outside parentheses ends the expression.
fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let b = text.as_bytes();
    let (mut out, mut depth, mut i) = (Vec::new(), 0usize, 0);
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\x0c' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'\n' => {
                if depth == 0 && !out.is_empty() && out.last() != Some(&Tok::Newline) {
                    out.push(Tok::Newline);
                }
                i += 1;
            }
            b'(' => {
                depth += 1;
                out.push(Tok::Open);
                i += 1;
            }
            b')' => {
                depth = depth.checked_sub(1).ok_or("unbalanced ')'")?;
                out.push(Tok::Close);
                i += 1;
            }
            b'*' | b'/' => {
                let double = b.get(i + 1) == Some(&c);
                out.push(Tok::Op(match (c, double) {
                    (b'*', true) => "**",
                    (b'*', false) => "*",
                    (_, true) => "//",
                    _ => "/",
                }));
                i += 1 + usize::from(double);
            }
            b'+' | b'-' | b'%' => {
                out.push(Tok::Op(match c {
                    b'+' => "+",
                    b'-' => "-",
                    _ => "%",
                }));
                i += 1;
            }
            b'0'..=b'9' | b'.' => {
                let (num, len) = number(&b[i..])?;
                out.push(Tok::Num(num));
                i += len;
            }
            _ => {
                let c = text.get(i..).and_then(|r| r.chars().next()).unwrap_or('?');
                return Err(format!("{c:?} is not arithmetic"));
            }
        }
    }
    if out.last() == Some(&Tok::Newline) {
        out.pop();
    }
    Ok(out)
}

/// A Python decimal literal at the start of `b`: the number and its length.
fn number(b: &[u8]) -> Result<(Num, usize), String> {
    // Digits with single `_` between them.
    fn digits(b: &[u8], mut i: usize) -> usize {
        while i < b.len()
            && (b[i].is_ascii_digit()
                || b[i] == b'_'
                    && i > 0
                    && b[i - 1].is_ascii_digit()
                    && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            i += 1;
        }
        i
    }
    let int_end = digits(b, 0);
    let mut end = int_end;
    let mut float = false;
    if b.get(end) == Some(&b'.') {
        float = true;
        end = digits(b, end + 1);
        if int_end == 0 && end == 1 {
            return Err("a lone '.'".to_string());
        }
    }
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let mut e = end + 1;
        if matches!(b.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        let e_end = digits(b, e);
        if e_end > e {
            float = true;
            end = e_end;
        }
    }
    if b.get(end)
        .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
    {
        return Err("an invalid number".to_string());
    }
    let text: String = b[..end]
        .iter()
        .filter(|&&c| c != b'_')
        .map(|&c| char::from(c))
        .collect();
    if float {
        return text
            .parse::<f64>()
            .map(|f| (Num::Float(f), end))
            .map_err(|_| "an invalid number".to_string());
    }
    if text.len() > 1 && text.starts_with('0') && text.bytes().any(|c| c != b'0') {
        return Err("a number with leading zeros".to_string());
    }
    let v = text.bytes().try_fold(0i128, |v, d| {
        v.checked_mul(10)?.checked_add(i128::from(d - b'0'))
    });
    v.map(|v| (Num::Int(v), end))
        .ok_or_else(|| "a number too large".to_string())
}

/// A recursive-descent reader of the tokens with Python's precedence.
struct Parser {
    tokens: Vec<Tok>,
    at: usize,
}

impl Parser {
    /// The deepest nesting read (parentheses and unary signs), against stack exhaustion.
    const MAX_NESTING: usize = 200;

    /// The operator at the reading position, if it is one.
    fn peek_op(&self) -> Option<&'static str> {
        match self.tokens.get(self.at) {
            Some(Tok::Op(op)) => Some(*op),
            _ => None,
        }
    }

    /// `expr: term (('+'|'-') term)*`
    fn expr(&mut self, nest: usize) -> Result<Num, String> {
        let mut v = self.term(nest)?;
        while let Some(op @ ("+" | "-")) = self.peek_op() {
            self.at += 1;
            v = arith(op, v, self.term(nest)?)?;
        }
        Ok(v)
    }

    /// `term: factor (('*'|'/'|'//'|'%') factor)*`
    fn term(&mut self, nest: usize) -> Result<Num, String> {
        let mut v = self.factor(nest)?;
        while let Some(op @ ("*" | "/" | "//" | "%")) = self.peek_op() {
            self.at += 1;
            v = arith(op, v, self.factor(nest)?)?;
        }
        Ok(v)
    }

    /// `factor: ('+'|'-') factor | power`; `power: atom ['**' factor]`
    fn factor(&mut self, nest: usize) -> Result<Num, String> {
        if nest > Self::MAX_NESTING {
            return Err("nested too deeply".to_string());
        }
        match self.peek_op() {
            Some("+") => {
                self.at += 1;
                self.factor(nest + 1)
            }
            Some("-") => {
                self.at += 1;
                arith("-", Num::Int(0), self.factor(nest + 1)?)
            }
            _ => {
                let base = self.atom(nest)?;
                if self.peek_op() == Some("**") {
                    self.at += 1;
                    return arith("**", base, self.factor(nest + 1)?);
                }
                Ok(base)
            }
        }
    }

    /// `atom: NUMBER | '(' expr ')'`
    fn atom(&mut self, nest: usize) -> Result<Num, String> {
        let tok = self.tokens.get(self.at).cloned();
        self.at += 1;
        match tok {
            Some(Tok::Num(n)) => Ok(n),
            Some(Tok::Open) => {
                let v = self.expr(nest + 1)?;
                match self.tokens.get(self.at) {
                    Some(Tok::Close) => {
                        self.at += 1;
                        Ok(v)
                    }
                    _ => Err("a '(' without its ')'".to_string()),
                }
            }
            Some(t) => Err(format!("unexpected {t:?}")),
            None => Err("an incomplete expression".to_string()),
        }
    }
}

/// One arithmetic operation as Python does it (`int` exact, `/` always `float`).
fn arith(op: &str, a: Num, b: Num) -> Result<Num, String> {
    let too_large = || "a number too large".to_string();
    let by_zero = || "division by zero".to_string();
    if let (Num::Int(x), Num::Int(y)) = (a, b) {
        return match op {
            "+" => x.checked_add(y).map(Num::Int).ok_or_else(too_large),
            "-" => x.checked_sub(y).map(Num::Int).ok_or_else(too_large),
            "*" => x.checked_mul(y).map(Num::Int).ok_or_else(too_large),
            "//" | "%" if y == 0 => Err(by_zero()),
            "//" | "%" => {
                let q = x.checked_div(y).ok_or_else(too_large)?;
                let q = q - i128::from(x % y != 0 && (x < 0) != (y < 0));
                Ok(Num::Int(if op == "//" { q } else { x - y * q }))
            }
            "**" if y >= 0 => u32::try_from(y)
                .ok()
                .and_then(|e| x.checked_pow(e))
                .map(Num::Int)
                .ok_or_else(too_large),
            "**" if x == 0 => Err(by_zero()),
            _ => arith(op, Num::Float(x as f64), Num::Float(y as f64)),
        };
    }
    let (x, y) = (a.as_f64(), b.as_f64());
    let v = match op {
        "+" => x + y,
        "-" => x - y,
        "*" => x * y,
        "/" | "//" | "%" if y == 0.0 => return Err(by_zero()),
        "/" => x / y,
        "//" => (x / y).floor(),
        "%" => {
            let r = x % y;
            if r != 0.0 && (r < 0.0) != (y < 0.0) {
                r + y
            } else {
                r
            }
        }
        "**" if x == 0.0 && y < 0.0 => return Err(by_zero()),
        "**" if x < 0.0 && y.fract() != 0.0 => return Err("a complex number".to_string()),
        "**" => {
            let v = x.powf(y);
            if v.is_infinite() && x.is_finite() && y.is_finite() {
                return Err(too_large());
            }
            v
        }
        _ => return Err(format!("unknown operator {op}")),
    };
    Ok(Num::Float(v))
}
