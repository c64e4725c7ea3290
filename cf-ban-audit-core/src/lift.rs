//! The command that lifts one ban: an argument list, never a shell string, so that no text read
//! from a scanned file can become shell syntax.

use crate::event::Tool;
use crate::formats::fail2ban_client::UNNAMED_JAIL;
use crate::report::Finding;

impl Finding {
    /// The command (program and arguments) that lifts exactly this ban, or why none is given.
    ///
    /// fail2ban: `fail2ban-client set JAIL unbanip ADDR`, or `fail2ban-client unban ADDR` when
    /// the source did not name the jail. A scope holding control characters or bytes that were
    /// not valid UTF-8 gives no command. Other tools' commands are not written yet.
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
    fn other_tools_say_why_there_is_none() {
        assert!(finding(Tool::Csf, "csf.deny").lift().is_err());
    }
}
