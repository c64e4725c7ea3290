//! The command that lifts one ban: an argument list, never a shell string, so that no text read
//! from a scanned file can become shell syntax.

use crate::event::Tool;
use crate::formats::csf::{DENY_SCOPE, TEMPBAN_SCOPE};
use crate::formats::fail2ban_client::UNNAMED_JAIL;
use crate::report::Finding;

impl Finding {
    /// The command (program and arguments) that lifts exactly this ban, or why none is given.
    ///
    /// - fail2ban: `fail2ban-client set JAIL unbanip ADDR`, or `fail2ban-client unban ADDR` when
    ///   the source did not name the jail.
    /// - CrowdSec: `cscli decisions delete --ip ADDR` (`--range CIDR` for a network): the
    ///   decisions on that address only.
    /// - CSF: `csf -dr ADDR` for a permanent block (`csf.deny`), `csf -trd ADDR` for a temporary
    ///   one (`csf.tempban`, an lfd block with an end).
    /// - ipset: `ipset del SET ENTRY`: the one entry, never the set.
    ///
    /// A jail or set name holding control characters or bytes that were not valid UTF-8 gives
    /// no command, and so do the tools whose commands are not written yet (the reason says so).
    ///
    /// ```
    /// use cf_ban_audit_core::{Finding, Format, Tool};
    /// let f = Finding::new(
    ///     "172.64.155.20/32".parse().unwrap(),
    ///     "172.64.0.0/13".parse().unwrap(),
    ///     Tool::Fail2ban,
    ///     Format::Fail2banLog,
    ///     "sshd",
    /// );
    /// assert_eq!(f.lift().unwrap(), ["fail2ban-client", "set", "sshd", "unbanip", "172.64.155.20"]);
    /// ```
    pub fn lift(&self) -> Result<Vec<String>, String> {
        let address = self.address_text();
        match self.tool {
            Tool::Fail2ban if self.scope == UNNAMED_JAIL => {
                Ok(argv(&["fail2ban-client", "unban", &address]))
            }
            Tool::Fail2ban if !passable(&self.scope) => Err(format!(
                "the jail name {:?} holds characters that cannot be passed safely",
                self.scope
            )),
            Tool::Fail2ban => Ok(argv(&[
                "fail2ban-client",
                "set",
                &self.scope,
                "unbanip",
                &address,
            ])),
            Tool::Crowdsec => {
                let flag = if self.address.prefix_len() == self.address.max_prefix_len() {
                    "--ip"
                } else {
                    "--range"
                };
                Ok(argv(&["cscli", "decisions", "delete", flag, &address]))
            }
            Tool::Csf => {
                let temporary = self.scope == TEMPBAN_SCOPE
                    || (self.scope != DENY_SCOPE && self.expires.is_some());
                let flag = if temporary { "-trd" } else { "-dr" };
                Ok(argv(&["csf", flag, &address]))
            }
            Tool::Ipset if !passable(&self.scope) => Err(format!(
                "the set name {:?} holds characters that cannot be passed safely",
                self.scope
            )),
            Tool::Ipset => Ok(argv(&["ipset", "del", &self.scope, &address])),
            tool => Err(format!("no lift command is written for {tool} yet")),
        }
    }
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// Text that can go into an argument as it is: no control characters, and no replacement
/// character standing for bytes that were not valid UTF-8.
fn passable(text: &str) -> bool {
    !text.is_empty() && !text.chars().any(|c| c.is_control() || c == '\u{fffd}')
}

#[cfg(test)]
mod tests {
    use crate::{Finding, Format, Tool};

    fn finding(tool: Tool, scope: &str) -> Finding {
        Finding::new(
            "104.16.0.1/32".parse().unwrap(),
            "104.16.0.0/13".parse().unwrap(),
            tool,
            Format::Fail2banBanTimes,
            scope,
        )
    }

    #[test]
    fn an_unnamed_jail_is_lifted_by_address() {
        let f = finding(
            Tool::Fail2ban,
            crate::formats::fail2ban_client::UNNAMED_JAIL,
        );
        assert_eq!(
            f.lift().unwrap(),
            ["fail2ban-client", "unban", "104.16.0.1"]
        );
    }

    #[test]
    fn names_that_cannot_be_passed_give_no_command() {
        for scope in ["ssh\u{fffd}d", "ssh\nd", "x\u{1b}[31m", ""] {
            let err = finding(Tool::Fail2ban, scope).lift().unwrap_err();
            assert!(err.contains("cannot be passed safely"), "{scope:?}: {err}");
        }
        // A jail name with spaces or quotes is one argument, passed as it is.
        assert_eq!(
            finding(Tool::Fail2ban, "my 'jail'").lift().unwrap()[2],
            "my 'jail'"
        );
    }

    #[test]
    fn crowdsec_csf_and_ipset() {
        assert_eq!(
            finding(Tool::Crowdsec, "crowdsecurity/http-probing")
                .lift()
                .unwrap(),
            ["cscli", "decisions", "delete", "--ip", "104.16.0.1"]
        );
        let mut range = finding(Tool::Crowdsec, "manual");
        range.address = "104.16.0.0/24".parse().unwrap();
        assert_eq!(range.lift().unwrap()[3..], ["--range", "104.16.0.0/24"]);
        assert_eq!(
            finding(Tool::Csf, "csf.deny").lift().unwrap(),
            ["csf", "-dr", "104.16.0.1"]
        );
        assert_eq!(finding(Tool::Csf, "csf.tempban").lift().unwrap()[1], "-trd");
        let mut lfd = finding(Tool::Csf, "LF_SSHD");
        assert_eq!(lfd.lift().unwrap()[1], "-dr");
        lfd.expires = Some("2026-11-24T13:00:00".parse().unwrap());
        assert_eq!(lfd.lift().unwrap()[1], "-trd");
        assert_eq!(
            finding(Tool::Ipset, "f2b-sshd").lift().unwrap(),
            ["ipset", "del", "f2b-sshd", "104.16.0.1"]
        );
        assert!(finding(Tool::Ipset, "bad\u{7}set").lift().is_err());
    }

    #[test]
    fn other_tools_say_why_there_is_none() {
        let err = finding(Tool::Iptables, "INPUT").lift().unwrap_err();
        assert!(err.contains("iptables"), "{err}");
    }
}
