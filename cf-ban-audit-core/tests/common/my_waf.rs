//! A format of the tests' own, registered through `Scanner::format` as an embedder would:
//! `MYWAF 1` on the first line, then `BLOCK <address>` lines.

use std::path::Path;
use std::sync::Arc;

use cf_ban_audit_core::formats::{Detection, FormatDescriptor, LineParser, ParseCtx, Sink};
use cf_ban_audit_core::{Action, BanEvent, Format, Location, Tool};

/// The format's identifier.
pub const MY_WAF_FORMAT: Format = Format::custom("my-waf");

/// Its descriptor: detected by its first line at rank 150, read line by line (in chunks when
/// large, as its lines are independent).
pub const MY_WAF: FormatDescriptor = FormatDescriptor::new(
    MY_WAF_FORMAT,
    &[Tool::List],
    "my WAF's block list",
    |ctx: &ParseCtx| {
        Box::new(MyWaf {
            path: ctx.path.clone(),
        })
    },
)
.chunkable()
.detected_by(&[Detection::text(150, |_, head| {
    head.starts_with(b"MYWAF 1\n")
})]);

/// The parser: each `BLOCK <address>` is a listed ban, any other `BLOCK` line malformed.
pub struct MyWaf {
    pub path: Arc<Path>,
}

impl LineParser for MyWaf {
    fn line(&mut self, lineno: u64, line: &[u8], sink: &mut dyn Sink) {
        let Some(rest) = line.strip_prefix(b"BLOCK ") else {
            return;
        };
        let text = String::from_utf8_lossy(rest);
        let Ok(ip) = text.parse::<std::net::IpAddr>() else {
            sink.malformed(lineno, format!("not an address: {text}"));
            return;
        };
        sink.event(BanEvent::new(
            ip.into(),
            Tool::List,
            MY_WAF_FORMAT,
            "my-waf",
            Action::Listed,
            Location::new(self.path.clone(), lineno),
        ));
    }
}
