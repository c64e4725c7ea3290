//! The serial audit log (and the per-transaction files of the concurrent mode): entries cut
//! at their own boundaries, their section H read into a denial.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;

use super::sections::{parse_boundary, parse_section_a, Boundary};
use crate::event::Location;
use crate::formats::grammar::modsec::{Dialect, Verdict};
use crate::formats::{Format, LineParser, ParseCtx, Sink};

/// The sections whose text the client or the application chose, lines and all: a boundary
/// with another id inside them is body text.
pub(super) fn is_body(part: u8) -> bool {
    !matches!(part, b'A' | b'B' | b'F' | b'H')
}

/// One native entry being read.
struct Entry {
    id: Vec<u8>,
    dialect: Dialect,
    /// The line of the A boundary.
    line: u64,
    part: u8,
    /// Section A's time and address, once read.
    a: Option<(NaiveDateTime, IpAddr)>,
    /// Whether section A's line has been seen (read or not).
    a_seen: bool,
    verdict: Verdict,
}

/// The parser of native audit logs (serial logs and concurrent per-transaction files).
pub struct AuditLogParser {
    path: Arc<Path>,
    entry: Option<Entry>,
}

impl AuditLogParser {
    /// A parser for one file.
    pub fn new(ctx: &ParseCtx) -> Self {
        AuditLogParser {
            path: ctx.path.clone(),
            entry: None,
        }
    }

    fn finish_entry(&mut self, sink: &mut dyn Sink) {
        let Some(e) = self.entry.take() else {
            return;
        };
        if let Some((time, addr)) = e.a {
            let location = Location::new(self.path.clone(), e.line);
            e.verdict
                .emit(addr, Some(time), Format::ModsecAudit, location, sink);
        }
    }

    fn start(&mut self, b: &Boundary<'_>, lineno: u64) {
        self.entry = Some(Entry {
            id: b.id.to_vec(),
            dialect: b.dialect,
            line: lineno,
            part: b'A',
            a: None,
            a_seen: false,
            verdict: Verdict::default(),
        });
    }
}

impl LineParser for AuditLogParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        if line.starts_with(b"--") {
            if let Some(b) = parse_boundary(line) {
                enum Step {
                    Close,
                    Restart,
                    Part(u8),
                    Body,
                    Ignore,
                }
                let step = match &self.entry {
                    Some(e) if e.id == b.id && e.dialect == b.dialect => match b.part {
                        b'Z' => Step::Close,
                        b'A' => Step::Restart,
                        part => Step::Part(part),
                    },
                    // Inside a body, a boundary with another id is body text.
                    Some(e) if is_body(e.part) => Step::Body,
                    // Outside an entry, or a new entry after a truncated one.
                    _ if b.part == b'A' => Step::Restart,
                    _ => Step::Ignore,
                };
                match step {
                    Step::Close => return self.finish_entry(sink),
                    Step::Restart => {
                        self.finish_entry(sink);
                        return self.start(&b, lineno);
                    }
                    Step::Part(part) => {
                        if let Some(e) = &mut self.entry {
                            e.part = part;
                        }
                        return;
                    }
                    Step::Ignore => return,
                    Step::Body => {}
                }
            }
        }
        let Some(e) = &mut self.entry else {
            return;
        };
        match e.part {
            b'A' if !e.a_seen => {
                if line.trim_ascii().is_empty() {
                    return;
                }
                e.a_seen = true;
                match parse_section_a(line) {
                    Some(a) => e.a = Some((a.time, a.client)),
                    None => sink.malformed(
                        lineno,
                        format!(
                            "ModSecurity audit section A not of the form \
                             `[time] id client port server port`: {:?}",
                            String::from_utf8_lossy(&line[..line.len().min(200)])
                        ),
                    ),
                }
            }
            b'H' => {
                if let Some(msg) = line.strip_prefix(b"Message: ") {
                    e.verdict.message(msg, Dialect::V2);
                } else if let Some(msg) = line.strip_prefix(b"ModSecurity: ") {
                    e.verdict.message(msg, Dialect::V3);
                } else if let Some(em) = line.strip_prefix(b"Apache-Error: ") {
                    e.verdict.apache_error(em);
                } else if line.starts_with(b"Action: Intercepted") {
                    e.verdict.intercepted = true;
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        self.finish_entry(sink);
    }
}
