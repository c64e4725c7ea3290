//! The serial audit log (and the per-transaction files of the concurrent mode): entries cut
//! at their own boundaries, their section H read into a denial.
//!
//! # Where entries start and end
//!
//! An entry starts at its header: an A boundary with a new id. Once it has started, only
//! boundaries with its own id are its structure. A header of another id met outside the
//! entry's body sections starts the next entry: the one before was cut short (a crash in the
//! middle of a write), is counted as malformed, and keeps what it said. Met inside a body
//! section (C, E, I, J, K: what the client or the application sent), such a header is body
//! text, a whole entry forged by a request, or the next entry after one cut inside its body.
//! Only what follows tells them apart. The boundary is a header only when the next line is a
//! section A line; the entries it starts are read and held back, and the interrupted entry
//! stays open. If a boundary of the interrupted entry's own id comes later, everything since
//! was its body text and is dropped. If none comes, before the end of the file or within
//! [`HOLD_LIMIT`] bytes (more than ModSecurity logs of one request or response body by
//! default), the interrupted entry was cut, and the held entries are real. An entry cut inside
//! a body section is counted as malformed and says nothing: what follows its body may be
//! anything the body held; so does an entry read while another is interrupted, if it is cut
//! short itself. A held entry of which the sink keeps only the count ([`Sink::only_counts`]:
//! most are of no address of the scan's ranges) is held as that count, not built as an event.
//!
//! # A file that starts inside an entry
//!
//! After `copytruncate`, a serial log can start in the middle of an entry whose header (and
//! with it section A: the address) is in the rotated file. That entry is not read and is
//! counted as malformed, and only its own boundaries say where it ends:
//!
//! - a file that starts at one of its boundaries names its id, and the rule above applies;
//! - a file that starts inside a section's content: its first boundary that is not a header
//!   is its own, wherever it comes (headers before it were its body text, and what they
//!   started is dropped);
//! - a file that starts with a header may still start inside a body (at a forged entry, when
//!   the truncation fell there), and so may what follows the end of the rest of an entry
//!   (which may be a forged entry's end): the entries read are held back until a boundary that
//!   is not a header, of another id than the entry being read, comes outside a body section,
//!   which only the rest of an entry that began before the file can give (what was held is
//!   then dropped and that entry goes on), or until [`HOLD_LIMIT`] bytes or the end of the
//!   file.
//!
//! ModSecurity writes an entry's own boundaries after whatever its bodies hold, so the
//! entries read are never ones a request forged, but for one case that nothing in the file
//! tells apart from a crash: an entry cut inside its body (or still being written when the
//! file is read) right after whole entries a request forged in that body. Those are taken as
//! the entries written after the crash, and read.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;
use ipnet::IpNet;

use super::sections::{parse_boundary, parse_section_a, Boundary};
use crate::event::{BanEvent, Location, Tool};
use crate::formats::grammar::modsec::{Dialect, Verdict};
use crate::formats::{Format, LineParser, ParseCtx, Sink};

/// The sections whose text the client or the application chose, lines and all: a boundary
/// with another id inside them is body text.
pub(super) fn is_body(part: u8) -> bool {
    !matches!(part, b'A' | b'B' | b'F' | b'H')
}

/// How many bytes may follow an interruption before the interrupted entry is taken as cut and
/// the entries read since as real: more than any body ModSecurity logs by default
/// (`SecRequestBodyLimit` 13107200, `SecResponseBodyLimit` 524288).
pub const HOLD_LIMIT: u64 = 16 << 20;

/// How many entries may be interrupted in a row (entries in bodies of entries) before the
/// innermost one is taken as cut.
const MAX_HOLDS: usize = 16;

/// A boundary's id and form.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Id {
    id: Vec<u8>,
    dialect: Dialect,
}

impl Id {
    fn of(b: &Boundary<'_>) -> Id {
        Id {
            id: b.id.to_vec(),
            dialect: b.dialect,
        }
    }

    fn is(&self, b: &Boundary<'_>) -> bool {
        self.id == b.id && self.dialect == b.dialect
    }
}

/// One native entry being read.
struct Entry {
    /// Its boundary id; `None` for an entry that began before the file and whose boundaries
    /// have not been seen yet.
    id: Option<Id>,
    /// The line of the A boundary (or, for an entry that began before the file, the file's
    /// first line).
    line: u64,
    part: u8,
    /// Section A's time and address, once read.
    a: Option<(NaiveDateTime, IpAddr)>,
    /// Whether section A's line has been seen (read or not).
    a_seen: bool,
    verdict: Verdict,
    /// The entry began before the file did.
    partial: bool,
}

impl Entry {
    /// An entry whose header (of id `id`) is at `line`; section A's line comes next.
    fn new(id: Id, line: u64) -> Entry {
        Entry {
            id: Some(id),
            line,
            part: b'A',
            a: None,
            a_seen: false,
            verdict: Verdict::default(),
            partial: false,
        }
    }

    /// The rest of an entry that began before the file, which starts at `line`.
    fn tail(id: Option<Id>, part: u8, line: u64) -> Entry {
        Entry {
            id,
            line,
            part,
            a: None,
            a_seen: true,
            verdict: Verdict::default(),
            partial: true,
        }
    }

    fn owns(&self, b: &Boundary<'_>) -> bool {
        self.id.as_ref().is_some_and(|id| id.is(b))
    }
}

/// What the entries read since an interruption gave, held back until it is known whether they
/// are real.
#[derive(Default)]
struct Held {
    events: Vec<BanEvent>,
    /// The entries the sink only counts ([`Sink::only_counts`]): no event is built for them.
    counted: Vec<(IpNet, Tool)>,
    malformed: Vec<(u64, String)>,
}

/// Where what is read goes: the sink, or the innermost hold, which asks the sink which entries
/// it only counts.
enum Out<'s> {
    Sink(&'s mut dyn Sink),
    Held(&'s mut Held, &'s dyn Sink),
}

impl Sink for Out<'_> {
    fn event(&mut self, event: BanEvent) {
        match self {
            Out::Sink(sink) => sink.event(event),
            Out::Held(held, _) => held.events.push(event),
        }
    }

    fn entry(&mut self, net: IpNet, tool: Tool, build: &mut dyn FnMut() -> BanEvent) {
        match self {
            Out::Sink(sink) => sink.entry(net, tool, build),
            Out::Held(held, sink) if sink.only_counts(&net, tool) => held.counted.push((net, tool)),
            Out::Held(held, _) => held.events.push(build()),
        }
    }

    fn only_counts(&self, net: &IpNet, tool: Tool) -> bool {
        match self {
            Out::Sink(sink) => sink.only_counts(net, tool),
            Out::Held(_, sink) => sink.only_counts(net, tool),
        }
    }

    fn count_held(&mut self, net: IpNet, tool: Tool) {
        match self {
            Out::Sink(sink) => sink.count_held(net, tool),
            Out::Held(held, _) => held.counted.push((net, tool)),
        }
    }

    fn malformed(&mut self, line: u64, message: String) {
        match self {
            Out::Sink(sink) => sink.malformed(line, message),
            Out::Held(held, _) => held.malformed.push((line, message)),
        }
    }
}

/// Why entries are held back.
enum Hold {
    /// An entry was interrupted inside a body by a header of another id, at that line.
    Body(Entry, u64),
    /// The file started with a header: it may still have started inside a body of an entry
    /// that began before it. The number is the file's first line.
    Start(u64),
}

/// Entries held back, and why: a stack, as an entry read while held can be interrupted in its
/// turn (and the hold for a file that started with a header is the first).
struct Interrupted {
    hold: Hold,
    /// The bytes read since.
    bytes: u64,
    held: Held,
}

/// The parser of native audit logs (serial logs and concurrent per-transaction files).
pub struct AuditLogParser {
    path: Arc<Path>,
    /// Whether a line other than a blank one has been read.
    started: bool,
    entry: Option<Entry>,
    /// An A boundary of a new id met inside a body: a header if the next line is section A's.
    candidate: Option<(Id, u64)>,
    holds: Vec<Interrupted>,
}

impl AuditLogParser {
    /// A parser for one file.
    pub fn new(ctx: &ParseCtx) -> Self {
        AuditLogParser {
            path: ctx.path.clone(),
            started: false,
            entry: None,
            candidate: None,
            holds: Vec::new(),
        }
    }

    /// Where what is read goes: the innermost hold, or the sink.
    fn out<'s>(holds: &'s mut [Interrupted], sink: &'s mut dyn Sink) -> Out<'s> {
        match holds.last_mut() {
            Some(i) => Out::Held(&mut i.held, sink),
            None => Out::Sink(sink),
        }
    }

    /// Ends the current entry; `cut` says where it was cut short, if it was.
    fn end(&mut self, cut: Option<Cut>, sink: &mut dyn Sink) {
        let Some(e) = self.entry.take() else {
            return;
        };
        // An entry read while another is interrupted inside its body, and cut short itself,
        // may be text of that body: it says nothing.
        let quiet = cut.is_some() && self.holds.iter().any(|i| matches!(i.hold, Hold::Body(..)));
        if e.partial && cut.is_none() && self.holds.len() < MAX_HOLDS {
            // What looked like the end of the entry that began before the file may be a Z
            // boundary in its body (the file may start inside a forged entry): what follows is
            // held back as at the start of a file, this entry's report with it.
            self.hold(Hold::Start(e.line));
        }
        report(
            &self.path,
            e,
            cut,
            quiet,
            &mut Self::out(&mut self.holds, sink),
        );
    }

    /// Holds the entries read from now on back, for `hold`.
    fn hold(&mut self, hold: Hold) {
        self.holds.push(Interrupted {
            hold,
            bytes: 0,
            held: Held::default(),
        });
    }

    /// Nothing came to show that the held entries were body text (the end of the file came,
    /// or [`HOLD_LIMIT`] bytes): an interrupted entry was cut by the header that interrupted
    /// it (or, `Cut::End`, its end is not known), and the entries held are real.
    fn release(&mut self, cut: Cut, sink: &mut dyn Sink) {
        while let Some(i) = self.holds.pop() {
            // What the innermost hold held belongs to the hold around it, if any.
            let_go(&self.path, i, cut, &mut Self::out(&mut self.holds, sink));
        }
    }

    /// Whether `b` shows that what was read since the hold began was body text of an entry
    /// that is still open: a boundary of the interrupted entry's own id; for the rest of an
    /// entry of unknown id, any boundary that is neither a header nor the current entry's;
    /// for a file that started with a header, such a boundary outside a body section.
    fn ends_hold(&self, b: &Boundary<'_>) -> Option<usize> {
        let foreign = b.part != b'A' && !self.entry.as_ref().is_some_and(|e| e.owns(b));
        let in_body = self.entry.as_ref().is_some_and(|e| is_body(e.part));
        self.holds.iter().rposition(|i| match &i.hold {
            Hold::Body(e, _) => match &e.id {
                Some(id) => id.is(b),
                None => foreign,
            },
            Hold::Start(_) => foreign && !in_body,
        })
    }

    /// A boundary line.
    fn boundary(&mut self, b: &Boundary<'_>, lineno: u64, sink: &mut dyn Sink) {
        if let Some(k) = self.ends_hold(b) {
            // Back in the entry that was open: drop what was read since.
            self.holds.truncate(k + 1);
            self.entry = match self.holds.pop().map(|i| i.hold) {
                Some(Hold::Body(mut e, _)) => {
                    e.id.get_or_insert_with(|| Id::of(b));
                    e.part = b.part;
                    Some(e)
                }
                Some(Hold::Start(first)) => Some(Entry::tail(Some(Id::of(b)), b.part, first)),
                None => None,
            };
            if b.part == b'Z' {
                self.end(None, sink);
            }
            return;
        }
        let Some(e) = &mut self.entry else {
            // Between entries: a header starts the next one; other boundaries are stray.
            if b.part == b'A' {
                self.entry = Some(Entry::new(Id::of(b), lineno));
            }
            return;
        };
        if e.owns(b) {
            match b.part {
                b'Z' => self.end(None, sink),
                // Its own A again: a new entry with the same id.
                b'A' => {
                    self.end(Some(Cut::At(lineno)), sink);
                    self.entry = Some(Entry::new(Id::of(b), lineno));
                }
                part => e.part = part,
            }
        } else if e.id.is_none() && b.part != b'A' {
            // The rest of an entry that began before the file: its first boundary that is not
            // a header is its own.
            e.id = Some(Id::of(b));
            e.part = b.part;
            if b.part == b'Z' {
                self.end(None, sink);
            }
        } else if b.part == b'A' {
            if e.id.is_none() || is_body(e.part) {
                // Maybe body text: the next line says.
                self.candidate = Some((Id::of(b), lineno));
            } else {
                // Outside a body: the next entry; the current one was cut.
                self.end(Some(Cut::At(lineno)), sink);
                self.entry = Some(Entry::new(Id::of(b), lineno));
            }
        }
        // Any other boundary of another id: body text, or stray.
    }

    /// The line after an A boundary met inside a body or the rest of an entry: when it is
    /// section A's, the boundary was a header. Returns whether it was.
    fn header(&mut self, id: Id, at: u64, line: &[u8], lineno: u64, sink: &mut dyn Sink) -> bool {
        if parse_section_a(line).is_none() {
            return false;
        }
        if self.holds.len() >= MAX_HOLDS {
            // Entries in bodies of entries, this deep: take the current one as cut.
            self.end(Some(Cut::At(at)), sink);
        } else if let Some(entry) = self.entry.take() {
            self.hold(Hold::Body(entry, at));
        }
        self.entry = Some(Entry::new(id, at));
        self.section_a(line, lineno, sink);
        true
    }

    /// Section A's line of the current entry.
    fn section_a(&mut self, line: &[u8], lineno: u64, sink: &mut dyn Sink) {
        let Some(e) = &mut self.entry else {
            return;
        };
        e.a_seen = true;
        match parse_section_a(line) {
            Some(a) => e.a = Some((a.time, a.client)),
            None => {
                let message = format!(
                    "ModSecurity audit section A not of the form \
                     `[time] id client port server port`: {:?}",
                    String::from_utf8_lossy(&line[..line.len().min(200)])
                );
                Self::out(&mut self.holds, sink).malformed(lineno, message);
            }
        }
    }

    /// The file's first line that is not blank.
    fn first(&mut self, b: Option<&Boundary<'_>>, lineno: u64, sink: &mut dyn Sink) {
        match b {
            // A header, as a file should start; but it may be inside a body of an entry that
            // began before the file.
            Some(b) if b.part == b'A' => {
                self.hold(Hold::Start(lineno));
                self.entry = Some(Entry::new(Id::of(b), lineno));
            }
            // One of the boundaries of an entry that began before the file.
            Some(b) => {
                self.entry = Some(Entry::tail(Some(Id::of(b)), b.part, lineno));
                if b.part == b'Z' {
                    self.end(None, sink);
                }
            }
            // Inside a section of an entry that began before the file.
            None => self.entry = Some(Entry::tail(None, b'?', lineno)),
        }
    }
}

/// Lets a hold go: its interrupted entry was cut, and what it held is as real as what is
/// read where `out` leads.
fn let_go(path: &Arc<Path>, i: Interrupted, cut: Cut, out: &mut dyn Sink) {
    if let Hold::Body(e, at) = i.hold {
        let cut = match cut {
            Cut::At(_) => Cut::At(at),
            Cut::End => Cut::End,
        };
        report(path, e, Some(cut), false, out);
    }
    for e in i.held.events {
        out.event(e);
    }
    for (net, tool) in i.held.counted {
        out.count_held(net, tool);
    }
    for (line, message) in i.held.malformed {
        out.malformed(line, message);
    }
}

/// Where an entry was cut short.
#[derive(Debug, Clone, Copy)]
enum Cut {
    /// By the next entry's header, at this line.
    At(u64),
    /// By the end of the file.
    End,
}

/// Reports an entry that ended: its denial (when it has section A and says so, unless `quiet`),
/// and, when it was cut short or began before the file, a malformed line. An entry cut inside a
/// body section says nothing.
fn report(path: &Arc<Path>, e: Entry, cut: Option<Cut>, quiet: bool, sink: &mut dyn Sink) {
    if e.partial {
        sink.malformed(
            e.line,
            "ModSecurity audit entry whose beginning is not in the file (a serial log that \
             starts inside an entry, as copytruncate leaves it): not read"
                .into(),
        );
        return;
    }
    let section = char::from(e.part);
    match cut {
        Some(Cut::At(at)) => sink.malformed(
            e.line,
            format!(
                "ModSecurity audit entry cut before its Z boundary (in section {section}): it \
                 ends at the next entry's header, line {at}"
            ),
        ),
        Some(Cut::End) => sink.malformed(
            e.line,
            format!("ModSecurity audit entry cut by the end of the file (in section {section})"),
        ),
        None => {}
    }
    if quiet || (cut.is_some() && is_body(e.part)) {
        return;
    }
    if let Some((time, addr)) = e.a {
        let location = Location::new(path.clone(), e.line);
        e.verdict
            .emit(addr, Some(time), Format::ModsecAudit, location, sink);
    }
}

impl LineParser for AuditLogParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        for i in &mut self.holds {
            i.bytes += line.len() as u64 + 1;
        }
        // The oldest hold reaches the limit first.
        if self.holds.first().is_some_and(|i| i.bytes > HOLD_LIMIT) {
            // The oldest hold's entries came before the others': they go out at once.
            let i = self.holds.remove(0);
            let_go(&self.path, i, Cut::At(lineno), sink);
        }
        if let Some((id, at)) = self.candidate.take() {
            if self.header(id, at, line, lineno, sink) {
                return;
            }
        }
        let b = line
            .starts_with(b"--")
            .then(|| parse_boundary(line))
            .flatten();
        if !self.started {
            if line.trim_ascii().is_empty() {
                return;
            }
            self.started = true;
            return self.first(b.as_ref(), lineno, sink);
        }
        if let Some(b) = b {
            return self.boundary(&b, lineno, sink);
        }
        let Some(e) = &mut self.entry else {
            return;
        };
        match e.part {
            _ if e.partial => {}
            b'A' if !e.a_seen && !line.trim_ascii().is_empty() => {
                self.section_a(line, lineno, sink);
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
        // An A boundary on the last line is no header.
        self.candidate = None;
        // An entry the end of the file cut (or that was still being written) keeps what it
        // said, unless it was cut inside a body; what was held back is real.
        self.end(Some(Cut::End), sink);
        self.release(Cut::End, sink);
    }
}
