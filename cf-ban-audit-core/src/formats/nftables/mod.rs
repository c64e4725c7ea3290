//! nftables rulesets: `nft list ruleset` text, `/etc/nftables.conf` (and other `nft -f`
//! scripts), and `nft -j list ruleset` JSON.
//!
//! A ruleset is self-contained: the rules that use a set are in the same table as the set.
//! So the whole input is read first (the text form by a tokenizer and a push parser, one
//! line at a time; the JSON form with serde_json), and what bans is decided at the end:
//!
//! - **Named sets** (`set NAME { type ipv4_addr; flags interval,timeout; elements = { ... } }`,
//!   `typeof ip saddr`, concatenations such as `ipv4_addr . inet_service`, whose address
//!   component is taken): a set is a ban set when some rule drops or rejects on
//!   `ip saddr @NAME` / `ip6 saddr @NAME`, directly or through `jump`/`goto` to a chain that
//!   ends in `drop` (firewalld's `ip saddr @set goto filter_IN_drop`). A set rules only accept
//!   on (a Cloudflare allow set), one a rule drops on by negation (`saddr != @set drop`, a
//!   lock-down), and one used only as a destination (`daddr @set`) are never findings. A set
//!   no rule decides on is judged by its name (`crowdsec-blacklists`,
//!   `f2b-*`, `blocklist` ban; `cloudflare`, `whitelist` allow); a name that says neither is
//!   reported as a note on the file, not as findings. Each element of a ban set is one
//!   [`Action::Listed`] event, scope `TABLE/SET` (`f2b-table/addr-set-sshd`), with `expires`
//!   = the time the listing was written (the file's modification time, or now for live
//!   output) + the element's `expires` when it has one. (A `timeout` without `expires`, as in a
//!   configuration file, ends a timeout after the file is loaded, at an unknown time: no end.)
//! - **Verdict maps** (`map NAME { type ipv4_addr : verdict; ... }` used by
//!   `ip saddr vmap @NAME`, and anonymous `ip saddr vmap { 1.2.3.4 : drop, ... }`): each entry
//!   whose verdict drops (`drop`, or `jump`/`goto` to a dropping chain) is a ban.
//! - **Rules** that drop or reject on `ip saddr 1.2.3.4`, a CIDR, an `a-b` range or an
//!   anonymous set `{ ... }`: each address is a ban, scope `TABLE/CHAIN`. Negated matches
//!   (`ip saddr != 1.2.3.4 drop`) and accepting rules are not. Whatever else the rule matches
//!   (ports, interfaces) does not change that: the address is blocked on some traffic.
//! - `a-b` ranges become their minimal CIDR blocks (the aggregator checks overlap).
//! - iptables-nft writes its rules into nft tables (`table ip filter`); their `-s` sources
//!   show as `ip saddr`, and read as above, but iptables matches nft cannot translate show
//!   as `xt match set` (or `xt match "set"`, `# xt_set`): a rule that drops on one names no
//!   address here, and is reported as a note pointing to `iptables-save`/`ipset save`. A set
//!   a rule drops on that is not in the ruleset (an ipset named by a translation) is reported
//!   to the sink as used ([`Sink::set_use`]).
//!
//! The text form is read token by token as it comes: a line longer than
//! [`MAX_LINE`](crate::MAX_LINE) (a set of 100,000 elements listed on one line of 1.5 MB, as
//! `nft list ruleset` prints a set without `flags interval`) is read in pieces, up to
//! [`MAX_TEXT_LINE`] (512 MiB; a longer line is cut there, an error of the scan); the elements of the sets are held until the ruleset's end, when the rules
//! after them decide what they are.
//!
//! Comments (`#`, outside quoted strings) and quoted strings (element and rule `comment "..."`,
//! log prefixes) never give an address. `define NAME = value` and `$NAME` are expanded;
//! `include` is not followed (a note says so: the included files are read as files of their
//! own). `flush ruleset` forgets what came before it.
//!
//! [`Action::Listed`]: crate::event::Action::Listed

use super::registry::{Detection, FormatDescriptor, Reader};
use crate::event::Tool;
use std::path::Path;
use std::sync::Arc;

use super::{Format, LineParser, ParseCtx, Part, Sink};

mod json;
mod model;
mod text;

use model::{Emitter, Ruleset};
pub(crate) use text::read_ruleset;

/// The most JSON read from one input (a file, standard input, a live command); a larger
/// document is not read.
pub const MAX_JSON_BYTES: usize = 256 << 20;

/// Decides whether a file is of this module's formats, from its name and first bytes.
///
/// JSON: the document starts with `{"nftables": [` (white space allowed). Text: a line of
/// the first block is `#!/usr/sbin/nft -f` (any path to `nft`), `flush ruleset`, or opens a
/// table (`table [FAMILY] NAME {`, `add table ...`); or the file is named `nftables.conf` or
/// `*.nft` and holds nft statements.
pub fn detect(path: &Path, head: &[u8]) -> Option<Format> {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    if looks_like_json(head) {
        return Some(Format::NftJson);
    }
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .filter(|l| !l.is_empty());
    let named = path.file_name().is_some_and(|n| {
        let n = n.to_string_lossy();
        n == "nftables.conf" || n.ends_with(".nft")
    });
    let mut statements = 0;
    for line in lines.by_ref().take(64) {
        if line.starts_with(b"#!") {
            if memchr::memmem::find(line, b"nft").is_some() {
                return Some(Format::NftRuleset);
            }
            continue;
        }
        if line.starts_with(b"#") {
            continue;
        }
        if opens_table(line) || line.starts_with(b"flush ruleset") {
            return Some(Format::NftRuleset);
        }
        let first = line
            .split(|b| b.is_ascii_whitespace())
            .next()
            .unwrap_or(b"");
        if matches!(
            first,
            b"define" | b"include" | b"add" | b"insert" | b"flush" | b"delete" | b"create"
        ) {
            statements += 1;
        }
    }
    (named && statements > 0).then_some(Format::NftRuleset)
}

/// `{ "nftables" : [`.
fn looks_like_json(head: &[u8]) -> bool {
    let mut rest = head.trim_ascii_start();
    for part in [&b"{"[..], b"\"nftables\"", b":", b"["] {
        match rest.strip_prefix(part) {
            Some(r) => rest = r.trim_ascii_start(),
            None => return false,
        }
    }
    true
}

/// `table [FAMILY] NAME {` or `add|create table [FAMILY] NAME`.
fn opens_table(line: &[u8]) -> bool {
    // `table ip t{` is written without a space too.
    let spaced;
    let line = match memchr::memchr(b'{', line) {
        Some(brace) if brace > 0 && line[brace - 1] != b' ' => {
            spaced = [&line[..brace], b" ", &line[brace..]].concat();
            &spaced[..]
        }
        _ => line,
    };
    let words: Vec<&[u8]> = line
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    let family = |w: &[u8]| model::FAMILIES.iter().any(|f| f.as_bytes() == w);
    let name_ok = |w: &[u8]| {
        !w.is_empty()
            && w.iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'$'))
    };
    match words.as_slice() {
        [b"table", f, n, b"{", ..] => family(f) && name_ok(n),
        [b"table", n, b"{", ..] => name_ok(n),
        [b"add" | b"create", b"table", f, n, ..] => family(f) && name_ok(n),
        _ => false,
    }
}

/// Reads a whole `nft -j list ruleset` document (the scanner hands over at most
/// [`MAX_JSON_BYTES`] and one byte more).
fn read_json_document(bytes: &[u8], ctx: &ParseCtx, sink: &mut dyn Sink) -> Result<(), String> {
    if bytes.len() > MAX_JSON_BYTES {
        return Err(format!(
            "nft JSON ruleset larger than {MAX_JSON_BYTES} bytes: not read"
        ));
    }
    let mut model = Ruleset::default();
    json::read(bytes, ctx.reference, &mut model, sink)?;
    emit(model, ctx.path.clone(), Format::NftJson, sink);
    Ok(())
}

fn emit(model: Ruleset, path: Arc<Path>, format: Format, sink: &mut dyn Sink) {
    model.emit(&mut Emitter {
        path,
        format,
        sink,
        hidden_noted: Vec::new(),
    });
}

/// The parser of the text form (`nft list ruleset`, `/etc/nftables.conf`).
pub struct NftRulesetParser {
    path: Arc<Path>,
    reader: text::TextReader,
    last_line: u64,
}

impl NftRulesetParser {
    /// A parser for one input.
    pub fn new(ctx: &ParseCtx) -> NftRulesetParser {
        NftRulesetParser {
            path: ctx.path.clone(),
            reader: text::TextReader::new(ctx.reference),
            last_line: 0,
        }
    }
}

impl LineParser for NftRulesetParser {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        self.last_line = lineno;
        self.reader.line(lineno, line, sink);
    }

    fn piece(&mut self, lineno: u64, piece: &[u8], part: Part, sink: &mut dyn Sink) {
        self.last_line = lineno;
        self.reader.piece(lineno, piece, part, sink);
    }

    fn finish(&mut self, sink: &mut dyn Sink) {
        self.reader.finish(self.last_line, sink);
        let model = std::mem::take(&mut self.reader.model);
        emit(model, self.path.clone(), Format::NftRuleset, sink);
    }
}

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// `nft list ruleset` text and `/etc/nftables.conf`.
    pub const NftRuleset: Format = Format::builtin(19, "nftables");
    /// `nft -j list ruleset` JSON.
    pub const NftJson: Format = Format::builtin(20, "nftables-json");
}

/// The longest line of an nft ruleset read: a set's `elements = { ... }` is one line (1.5 MB for
/// 100,000 addresses); a longer line is cut there, and that is an error of the scan.
pub const MAX_TEXT_LINE: usize = 512 << 20;

/// The ruleset text.
pub(crate) const TEXT: FormatDescriptor = FormatDescriptor::new(
    Format::NftRuleset,
    &[Tool::Nftables],
    "nftables ruleset text: set elements and rules that drop/reject",
    |ctx| Box::new(NftRulesetParser::new(ctx)),
)
.long_lines_in_pieces(MAX_TEXT_LINE)
.usual_paths(&["/etc/nftables.conf", "/etc/nftables.d"])
.detected_by(&[Detection::text(270, |path, head| {
    detect(path, head) == Some(Format::NftRuleset)
})]);

/// The JSON ruleset: one line however large, so it is read as a whole document.
pub(crate) const JSON: FormatDescriptor = FormatDescriptor::read_as(
    Format::NftJson,
    &[Tool::Nftables],
    "nftables JSON ruleset",
    Reader::Document {
        limit: MAX_JSON_BYTES,
        read: read_json_document,
    },
)
.usual_paths(&["(saved output of nft -j list ruleset)"])
.detected_by(&[Detection::text(270, |path, head| {
    detect(path, head) == Some(Format::NftJson)
})]);

// The model is built here, by its reader: the model imports no reader.
impl crate::firewall::nft::NftRuleset {
    /// Reads a ruleset in the text form with the nft reader (this module).
    pub fn parse(text: &str) -> crate::firewall::nft::NftRuleset {
        read_ruleset(text.as_bytes())
    }
}

#[cfg(test)]
mod tests;

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn module() {
        use crate::formats::{nftables, Format};
        use std::path::Path;
        let head = b"table inet f2b-table {\n\tset addr-set-sshd {\n";
        assert_eq!(
            nftables::detect(Path::new("/tmp/ruleset.txt"), head),
            Some(Format::NftRuleset)
        );
        let json = b"{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\"}}]}";
        assert_eq!(
            nftables::detect(Path::new("/tmp/ruleset"), json),
            Some(Format::NftJson)
        );
    }

    #[test]
    fn nft_ruleset_parser() {
        use crate::formats::nftables::NftRulesetParser;
        use crate::formats::{LineParser, ParseCtx, Sink};
        use crate::BanEvent;
        use std::{path::Path, sync::Arc};
        struct Events(Vec<BanEvent>);
        impl Sink for Events {
            fn event(&mut self, e: BanEvent) {
                self.0.push(e)
            }
            fn malformed(&mut self, _: u64, m: String) {
                panic!("{m}")
            }
        }
        let now = "2026-11-24T12:00:00".parse().unwrap();
        let ctx = ParseCtx {
            path: Arc::from(Path::new("ruleset.txt")),
            reference: now,
            now,
        };
        let mut parser = NftRulesetParser::new(&ctx);
        let mut sink = Events(Vec::new());
        let text = "table ip crowdsec {
            set crowdsec-blacklists {
                type ipv4_addr
                flags timeout
                elements = { 172.70.1.2 timeout 4h expires 3h59m, 192.0.2.7 }
            }
            chain crowdsec-chain {
                type filter hook input priority filter; policy accept;
                ip saddr @crowdsec-blacklists drop
            }
        }";
        for (n, line) in text.lines().enumerate() {
            parser.line(n as u64 + 1, line.as_bytes(), &mut sink);
        }
        parser.finish(&mut sink);
        assert_eq!(sink.0.len(), 2);
        assert_eq!(sink.0[0].net.to_string(), "172.70.1.2/32");
        assert_eq!(sink.0[0].scope, "crowdsec/crowdsec-blacklists");
        assert_eq!(
            sink.0[0].expires.unwrap().to_string(),
            "2026-11-24 15:59:00"
        );
    }
}
