//! CrowdSec JSON ([`Format::CrowdsecJson`]), read in a streaming way: each top-level entry
//! (an alert, or a decision) is cut out of the text as it arrives and parsed on its own.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use ipnet::IpNet;
use serde_json::{Map, Value};

use super::decision::{Decision, Emitter};
use super::time::parse_time;
use super::{IMPORT_DEFAULT_DURATION, MAX_ENTRY};
use crate::event::{Action, BanEvent, Location, Tool};
use crate::formats::{Format, LineParser, ParseCtx, Part, Sink};

/// The deepest nesting read (CrowdSec's alerts nest a few levels).
const MAX_DEPTH: usize = 512;

/// A container open in the JSON text.
#[derive(Debug)]
struct Frame {
    object: bool,
    expect_key: bool,
    /// The current key (lower case, cut at 32 bytes) when this is an object.
    key: Vec<u8>,
    /// The key under which this container is a value (empty in an array).
    via: Vec<u8>,
}

/// What a top-level entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// An element of a top-level array: an alert or a decision.
    Item,
    /// An element of the stream's `new` list.
    New,
    /// An element of the stream's `deleted` list.
    Deleted,
}

/// An entry being cut out of the text.
#[derive(Debug)]
struct Capture {
    buf: Vec<u8>,
    /// The number of open containers while inside the entry's own object.
    depth: usize,
    line: u64,
    role: Role,
    /// The line of each decision object of an alert's `decisions` list.
    decision_lines: Vec<u64>,
    too_big: bool,
}

/// A stream `deleted` decision held until the end of the file.
struct Deleted {
    scope: String,
    net: IpNet,
    line: u64,
}

/// The parser of CrowdSec JSON ([`Format::CrowdsecJson`]).
pub struct CrowdsecJsonParser {
    emit: Emitter,
    stack: Vec<Frame>,
    in_string: bool,
    escape: bool,
    key: Option<Vec<u8>>,
    capture: Option<Capture>,
    failed: bool,
    last_line: u64,
    /// Stream decisions in `new`, by (scope, network).
    new_keys: HashSet<(String, IpNet)>,
    /// Stream decisions in `deleted`, emitted at the end unless also in `new`.
    deleted: Vec<Deleted>,
}

impl CrowdsecJsonParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> Self {
        CrowdsecJsonParser {
            emit: Emitter::new(ctx, Format::CrowdsecJson),
            stack: Vec::new(),
            in_string: false,
            escape: false,
            key: None,
            capture: None,
            failed: false,
            last_line: 0,
            new_keys: HashSet::new(),
            deleted: Vec::new(),
        }
    }

    fn bytes(&mut self, bytes: &[u8], line: u64, sink: &mut dyn Sink) {
        for &c in bytes {
            self.byte(c, line, sink);
            if self.failed {
                return;
            }
        }
    }

    fn fail(&mut self, line: u64, message: String, sink: &mut dyn Sink) {
        sink.malformed(line, message);
        self.failed = true;
        self.capture = None;
    }

    fn byte(&mut self, c: u8, line: u64, sink: &mut dyn Sink) {
        if let Some(cap) = &mut self.capture {
            if !cap.too_big {
                cap.buf.push(c);
                if cap.buf.len() > MAX_ENTRY {
                    cap.too_big = true;
                    cap.buf = Vec::new();
                }
            }
        }
        if self.in_string {
            if self.escape {
                self.escape = false;
            } else if c == b'\\' {
                self.escape = true;
            } else if c == b'"' {
                self.in_string = false;
                if let Some(key) = self.key.take() {
                    if let Some(top) = self.stack.last_mut() {
                        top.key = key;
                    }
                }
                return;
            }
            if let Some(key) = &mut self.key {
                if key.len() < 32 {
                    key.push(c.to_ascii_lowercase());
                }
            }
            return;
        }
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => {}
            b'"' => {
                self.in_string = true;
                if self.stack.last().is_some_and(|f| f.object && f.expect_key) {
                    self.key = Some(Vec::new());
                }
                if self.stack.is_empty() {
                    self.fail(line, "CrowdSec JSON that is a bare string".into(), sink);
                }
            }
            b':' => {
                if let Some(top) = self.stack.last_mut() {
                    top.expect_key = false;
                }
            }
            b',' => {
                if let Some(top) = self.stack.last_mut() {
                    if top.object {
                        top.expect_key = true;
                        top.key.clear();
                    }
                }
            }
            b'{' | b'[' if self.stack.len() >= MAX_DEPTH => {
                // Deeper than CrowdSec writes: a stack that grows with the input, not read.
                self.failed = true;
                self.capture = None;
                sink.cut(
                    line,
                    format!("CrowdSec JSON nested deeper than {MAX_DEPTH}: the rest is not read"),
                );
            }
            b'{' | b'[' => self.open(c == b'{', line),
            b'}' | b']' => self.close(c == b'}', line, sink),
            _ => {
                // Only `null` may stand alone (the empty answer).
                if self.stack.is_empty() && !matches!(c, b'n' | b'u' | b'l' | 0xef | 0xbb | 0xbf) {
                    self.fail(line, "not CrowdSec JSON".into(), sink);
                }
            }
        }
    }

    fn open(&mut self, object: bool, line: u64) {
        let depth = self.stack.len();
        let via = match self.stack.last() {
            Some(f) if f.object => f.key.clone(),
            _ => Vec::new(),
        };
        match &mut self.capture {
            None if object => {
                let role = if depth == 1 && !self.stack[0].object {
                    Some(Role::Item)
                } else if depth == 2 && self.stack[0].object && !self.stack[1].object {
                    match self.stack[1].via.as_slice() {
                        b"new" => Some(Role::New),
                        b"deleted" => Some(Role::Deleted),
                        _ => None,
                    }
                } else {
                    None
                };
                if let Some(role) = role {
                    self.capture = Some(Capture {
                        buf: vec![b'{'],
                        depth: depth + 1,
                        line,
                        role,
                        decision_lines: Vec::new(),
                        too_big: false,
                    });
                }
            }
            Some(cap)
                if object
                    && depth == cap.depth + 1
                    && self
                        .stack
                        .last()
                        .is_some_and(|f| !f.object && f.via == b"decisions") =>
            {
                cap.decision_lines.push(line);
            }
            _ => {}
        }
        self.stack.push(Frame {
            object,
            expect_key: object,
            key: Vec::new(),
            via,
        });
    }

    fn close(&mut self, object: bool, line: u64, sink: &mut dyn Sink) {
        match self.stack.pop() {
            Some(frame) if frame.object == object => {}
            _ => {
                self.fail(line, "unbalanced brackets in CrowdSec JSON".into(), sink);
                return;
            }
        }
        let done = self
            .capture
            .as_ref()
            .is_some_and(|cap| self.stack.len() + 1 == cap.depth);
        if done {
            if let Some(cap) = self.capture.take() {
                self.entry(cap, sink);
            }
        }
    }

    /// Reads one top-level entry.
    fn entry(&mut self, cap: Capture, sink: &mut dyn Sink) {
        if cap.too_big {
            // A record cut at its limit: an error of the scan, the entries around it read.
            sink.cut(
                cap.line,
                format!(
                    "CrowdSec entry larger than {} MiB: not read, its decisions are missed",
                    MAX_ENTRY >> 20
                ),
            );
            return;
        }
        let obj = match serde_json::from_slice::<Value>(&cap.buf) {
            Ok(Value::Object(obj)) => obj,
            Ok(_) => return,
            Err(e) => {
                sink.malformed(
                    cap.line,
                    format!("CrowdSec entry that is not valid JSON: {e}"),
                );
                return;
            }
        };
        match cap.role {
            Role::Item => match get(&obj, "decisions") {
                Some(decisions) => self.alert(&obj, decisions, &cap, sink),
                None if get(&obj, "value").is_some() => {
                    self.decision(&obj, None, cap.role, cap.line, sink)
                }
                None => {}
            },
            Role::New | Role::Deleted => self.decision(&obj, None, cap.role, cap.line, sink),
        }
    }

    /// Reads the decisions of an alert.
    fn alert(
        &mut self,
        alert: &Map<String, Value>,
        decisions: &Value,
        cap: &Capture,
        sink: &mut dyn Sink,
    ) {
        let list = match decisions {
            Value::Array(list) => list,
            Value::Null => return,
            _ => {
                sink.malformed(
                    cap.line,
                    "CrowdSec alert whose decisions are not a list".into(),
                );
                return;
            }
        };
        let ctx = AlertCtx {
            time: get_str(alert, "created_at")
                .and_then(parse_time)
                .or_else(|| get_str(alert, "start_at").and_then(parse_time)),
            simulated: get_bool(alert, "simulated"),
            scenario: get_str(alert, "scenario").unwrap_or(""),
        };
        let mut objects = 0;
        for d in list {
            let line = cap.decision_lines.get(objects).copied().unwrap_or(cap.line);
            match d {
                Value::Object(d) => {
                    objects += 1;
                    self.decision(d, Some(&ctx), Role::Item, line, sink);
                }
                _ => sink.malformed(line, "CrowdSec decision that is not an object".into()),
            }
        }
    }

    /// Reads one decision object.
    fn decision(
        &mut self,
        d: &Map<String, Value>,
        alert: Option<&AlertCtx<'_>>,
        role: Role,
        line: u64,
        sink: &mut dyn Sink,
    ) {
        let Some(value) = get_str(d, "value") else {
            sink.malformed(line, "CrowdSec decision without a value".into());
            return;
        };
        let scenario = [
            get_str(d, "scenario"),
            get_str(d, "reason"),
            alert.map(|a| a.scenario),
            get_str(d, "origin"),
        ]
        .into_iter()
        .flatten()
        .find(|s| !s.trim().is_empty())
        .unwrap_or("");
        let import = alert.is_none() && role == Role::Item;
        let decision = Decision {
            scope: get_str(d, "scope").unwrap_or("ip"),
            value,
            kind: get_str(d, "type").unwrap_or("ban"),
            scenario,
            simulated: get_bool(d, "simulated") || alert.is_some_and(|a| a.simulated),
            time: alert.and_then(|a| a.time),
            until: get_str(d, "until"),
            expires: None,
            duration: get_str(d, "duration").or(import.then_some(IMPORT_DEFAULT_DURATION)),
            action: (role == Role::Deleted).then_some(Action::Unban),
        };
        match role {
            Role::Item => self.emit.emit(&decision, line, sink),
            Role::New => {
                if let Some(net) = self.emit.target(&decision, line, sink) {
                    self.new_keys.insert((Emitter::scope(&decision), net));
                    self.emit.emit_net(&decision, net, line, sink);
                }
            }
            Role::Deleted => {
                if let Some(net) = self.emit.target(&decision, line, sink) {
                    self.deleted.push(Deleted {
                        scope: Emitter::scope(&decision),
                        net,
                        line,
                    });
                }
            }
        }
    }
}

/// What an alert gives its decisions.
struct AlertCtx<'a> {
    time: Option<NaiveDateTime>,
    simulated: bool,
    scenario: &'a str,
}

/// A key of an object, matched exactly or else in any case (as Go's `encoding/json` does).
fn get<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn get_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    get(obj, key).and_then(Value::as_str)
}

fn get_bool(obj: &Map<String, Value>, key: &str) -> bool {
    get(obj, key).and_then(Value::as_bool).unwrap_or(false)
}

impl LineParser for CrowdsecJsonParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if self.failed {
            return;
        }
        if lineno > 1 {
            // The line break between lines, for the entry being cut out.
            if let Some(cap) = &mut self.capture {
                if !cap.too_big {
                    cap.buf.push(b'\n');
                }
            }
        }
        self.last_line = lineno;
        let line = if lineno == 1 {
            line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line)
        } else {
            line
        };
        self.bytes(line, lineno, sink);
    }

    fn piece(&mut self, lineno: u64, piece: &[u8], part: Part, sink: &mut dyn Sink) {
        // A stream saved on one line: its first piece begins the line as a line does, the
        // others go on with it; each entry is still cut out and parsed on its own.
        match part {
            Part::First => self.line(lineno, piece, sink),
            Part::Middle | Part::Last => {
                if !self.failed {
                    self.bytes(piece, lineno, sink);
                }
            }
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        if !self.failed && (!self.stack.is_empty() || self.in_string) {
            let line = self
                .capture
                .as_ref()
                .map(|c| c.line)
                .unwrap_or(self.last_line);
            sink.malformed(
                line,
                "CrowdSec JSON ends before its last entry is closed (cut or truncated)".into(),
            );
        }
        for d in std::mem::take(&mut self.deleted) {
            if self.new_keys.contains(&(d.scope.clone(), d.net)) {
                continue;
            }
            sink.event(BanEvent::new(
                d.net,
                Tool::Crowdsec,
                Format::CrowdsecJson,
                d.scope,
                Action::Unban,
                Location::new(self.emit.path.clone(), d.line),
            ));
        }
        self.new_keys.clear();
        self.emit.notes(sink);
    }
}
