//! The identifier of a file format: a leaf that the model ([`crate::event`], [`crate::report`])
//! imports without importing the readers.
//!
//! A [`Format`] is a name and a display rank. The formats cf-ban-audit reads declare theirs in
//! their own modules (`Format::Fail2banLog` lives in `formats/fail2ban_log.rs`) and describe
//! themselves with a [`FormatDescriptor`](crate::formats::FormatDescriptor); an embedder makes
//! one of its own with [`Format::custom`] and registers it through
//! [`Scanner::format`](crate::Scanner::format).

use std::fmt;

/// A file format cf-ban-audit reads, known by its name (`fail2ban-log`, `nftables`, ...).
///
/// Formats order by their place in the registry (the order `cf-ban-audit formats` lists them
/// in), custom formats after the built-in ones.
///
/// ```
/// use cf_ban_audit_core::Format;
/// assert_eq!(Format::Fail2banLog.name(), "fail2ban-log");
/// assert!(Format::Fail2banLog < Format::Syslog);
/// let mine = Format::custom("my-waf-log");
/// assert_eq!(mine.to_string(), "my-waf-log");
/// assert!(Format::PlainList < mine);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Format {
    rank: u16,
    name: &'static str,
}

impl Format {
    /// The rank of every custom format: after the built-in ones.
    const CUSTOM_RANK: u16 = u16::MAX;

    /// A built-in format at `rank` in the registry's display order.
    pub(crate) const fn builtin(rank: u16, name: &'static str) -> Format {
        Format { rank, name }
    }

    /// A format defined outside this crate, under `name` (which must differ from every
    /// built-in format's name for [`Scanner::format`](crate::Scanner::format) to take it).
    pub const fn custom(name: &'static str) -> Format {
        Format {
            rank: Self::CUSTOM_RANK,
            name,
        }
    }

    /// The name used in reports (`fail2ban-log`, ...).
    pub const fn name(self) -> &'static str {
        self.name
    }

    /// Whether this format is one of cf-ban-audit's own.
    pub const fn is_builtin(self) -> bool {
        self.rank != Self::CUSTOM_RANK
    }

    /// Its place in the registry's display order (built-in formats only).
    #[cfg(test)]
    pub(crate) const fn rank(self) -> u16 {
        self.rank
    }
}

impl fmt::Debug for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Format({})", self.name)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl serde::Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}
