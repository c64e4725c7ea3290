//! ModSecurity rule files (`/etc/modsecurity/*.conf`, the files `modsecurity_rules_file` and
//! `Include` name): rules that refuse the connecting address with `@ipMatch`,
//! `@ipMatchFromFile` (alias `@ipMatchF`).
//!
//! ```text
//! SecRule REMOTE_ADDR "@ipMatch 104.16.5.5,172.64.0.0/16" "id:1001,phase:1,deny,status:403"
//! SecRule REMOTE_ADDR "@ipMatchFromFile blocked-ips.txt" "id:1002,phase:1,drop"
//! ```
//!
//! # The grammar, as ModSecurity reads it
//!
//! - Lines as Apache reads configuration (`ap_cfg_getline`, `ap_getword_conf`): a line ending
//!   in `\` goes on on the next, a line starting with `#` is a comment, words are separated by
//!   white space and may be quoted with `"` or `'` (a backslash escapes the quote or itself).
//!   Directive names are case-insensitive. libmodsecurity 3's own parser (nginx) reads the
//!   same files alike.
//! - `SecRule VARIABLES OPERATOR [ACTIONS]` (`msre_rule_create` in apache2/re.c): variables are
//!   separated by `|`; the rule tests the connecting address when `REMOTE_ADDR` is one of them
//!   (not `!REMOTE_ADDR`, an exclusion, nor `&REMOTE_ADDR`, a count). An operator starting with
//!   `!` is negated: it holds for every address but the listed ones, so it bans none of them.
//!   Operator names are case-insensitive (`@ipmatch`).
//! - `@ipMatch` takes addresses and CIDRs separated by commas, each parsed strictly
//!   (`ip_tree_from_param`, `TreeAddIP`: no spaces). `@ipMatchFromFile FILE` reads a file
//!   named relative to the rule file's directory (`msre_op_ipmatchFromFile_param_init`); in it
//!   (`ip_tree_from_file`) each line's first run of hex digits, dots, colons and slashes
//!   after leading white space is an entry, and lines starting with `#` are comments. The
//!   file is asked of the scanner ([`Sink::include`]); an `https://` list is not fetched (noted).
//! - Actions (`msre_parse_generic`): `name` or `name:value`, separated by commas, values quoted
//!   with `'`. The disruptive action is the last of `deny`, `drop`, `block`, `allow`, `pass`,
//!   `redirect`, `proxy`; a rule without one takes its phase's `SecDefaultAction`
//!   (ModSecurity's default is `phase:2,log,auditlog,pass`). `block` means that default's
//!   action: a refusal only when a `SecDefaultAction` of this file for the rule's phase denies
//!   or drops (else noted: the default may be set in another file). `deny` and `drop` refuse,
//!   except in phase 5 (logging), which cannot; `allow`, `pass`, `ctl:` exemptions, redirects
//!   and proxying refuse nothing.
//! - Chained rules (`chain`): the starter's actions decide for the whole chain, and each
//!   `@ipMatch` link on `REMOTE_ADDR` of a refusing chain is a ban (for the requests the other
//!   links match).
//! - `SecRuleRemoveById` (ids and `a-b` ranges) later in the file removes a rule, and a file
//!   whose last `SecRuleEngine` is `Off` or `DetectionOnly` refuses nothing (noted).
//!
//! Every ban is an [`Action::Listed`] entry of [`Tool::Modsecurity`] (format
//! [`Format::ModsecRules`]), scope the rule's `id` (or `modsecurity`), at the line of the rule
//! (or of the entry in the file `@ipMatchFromFile` names): it stands while configured.
//!
//! The file is told by its structure: rule lines (`SecRule`, `SecAction`) and nothing but
//! ModSecurity's directives (`Sec…`), `Include` and `<IfModule>` in its head. Rules written
//! inside Apache's own configuration (a `<VirtualHost>`) are not read here.
//!
//! [`Action::Listed`]: crate::event::Action::Listed
//! [`Tool::Modsecurity`]: crate::event::Tool::Modsecurity
//! [`Sink::include`]: super::Sink::include

mod parser;
mod words;

use std::path::Path;

use super::registry::{Detection, FormatDescriptor};
use super::Format;
use crate::event::Tool;

pub use parser::ModsecRulesParser;

// Format constants are named like enum variants, as they are used like them (in `match`
// patterns among others).
#[allow(non_upper_case_globals)]
impl Format {
    /// ModSecurity rule files: `@ipMatch` / `@ipMatchFromFile` rules that refuse addresses.
    pub const ModsecRules: Format = Format::builtin(41, "modsec-rules");
}

/// The ModSecurity rule file descriptor.
pub(crate) const DESCRIPTOR: FormatDescriptor = FormatDescriptor::new(
    Format::ModsecRules,
    &[Tool::Modsecurity],
    "ModSecurity rule files: @ipMatch / @ipMatchFromFile rules that deny or drop",
    |ctx| Box::new(ModsecRulesParser::new(ctx)),
)
.usual_paths(&["/etc/modsecurity", "/etc/nginx/modsec"])
.detected_by(&[Detection::text(307, |path, head| {
    detect(path, head).is_some()
})]);

/// Decides whether a file is a ModSecurity rule file: a `SecRule` or `SecAction` line, and
/// every directive of its head (a line continued with `\` counts as one) is one of
/// ModSecurity's (`Sec…`), `Include`/`IncludeOptional` or `<IfModule …>`/`</IfModule>`.
pub fn detect(_path: &Path, head: &[u8]) -> Option<Format> {
    let mut rules = 0;
    let mut continued = false;
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    if lines.len() > 1 && !head.ends_with(b"\n") {
        lines.pop();
    }
    for raw in lines {
        let line = raw.trim_ascii();
        let was_continued = continued;
        continued = line.ends_with(b"\\");
        if was_continued || line.is_empty() || line.starts_with(b"#") {
            continue;
        }
        let word = line
            .split(|b| b.is_ascii_whitespace())
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match word.as_slice() {
            b"secrule" | b"secaction" => rules += 1,
            b"include" | b"includeoptional" | b"</ifmodule>" => {}
            w if w.starts_with(b"<ifmodule") => {}
            w if w.starts_with(b"sec") && w.len() > 3 && w[3].is_ascii_alphabetic() => {}
            _ => return None,
        }
    }
    (rules > 0).then_some(Format::ModsecRules)
}

#[cfg(test)]
mod tests;

/// Worked examples of this module's items.
#[cfg(test)]
mod examples {
    #[test]
    fn detect() {
        use crate::formats::{modsec_rules, Format};
        use std::path::Path;
        let rules = b"# blocklist\nSecRuleEngine On\nSecRule REMOTE_ADDR \"@ipMatch 104.16.5.5\" \\\n    \"id:1,phase:1,deny\"\n";
        assert_eq!(
            modsec_rules::detect(Path::new("/etc/modsecurity/x.conf"), rules),
            Some(Format::ModsecRules)
        );
        let apache = b"<VirtualHost *:80>\nSecRule REMOTE_ADDR \"@ipMatch 104.16.5.5\" \"id:1,deny\"\n</VirtualHost>\n";
        assert_eq!(
            modsec_rules::detect(Path::new("/tmp/site.conf"), apache),
            None
        );
    }
}
