//! The grammar layer under the readers: the small pieces of text that several formats share,
//! read from bytes. Readers import from here and never from each other.
//!
//! - [`head`]: the lines of a file's first bytes that detection looks at;
//! - [`quote`]: input text quoted in messages;
//! - [`num`]: digits and English month names;
//! - [`time`]: the timestamps at the start of log lines (Python's `asctime`, BSD syslog,
//!   ISO 8601, ModSecurity's audit time);
//! - [`words`]: command lines split into words as a POSIX shell does;
//! - [`syslog`]: the syslog header `TIMESTAMP HOST TAG[PID]: `;
//! - [`modsec`]: ModSecurity's message grammar (the refusal, the rule-id tags, the
//!   `[client X]` of its Apache error messages) and the verdict an entry's messages give;
//! - [`entry`]: an address entry of a list (an address, a CIDR or an `a-b` range);
//! - [`pieces`]: the whole tokens of a long line handed in pieces;
//! - [`webconf`]: what the readers of Apache and nginx configuration share (the lines they
//!   are detected by, the directories a file lies in, the lines only Apache has, the scope of
//!   entries outside any named context).
//!
//! Nothing here opens files or knows the registry: each function reads the bytes it is given.

pub(crate) mod entry;
pub(crate) mod head;
pub(crate) mod modsec;
pub(crate) mod num;
pub(crate) mod pieces;
pub(crate) mod quote;
pub(crate) mod syslog;
pub(crate) mod time;
pub(crate) mod webconf;
pub(crate) mod words;

/// The scope of every mod_evasive event, in its own files and syslog lines and in Apache's
/// error log (the module has no rules or zones).
pub const MOD_EVASIVE_SCOPE: &str = "mod_evasive";
