//! The live state: what the firewall and the ban tools hold right now, read by running their
//! own listing commands. Each command is a fixed program path with fixed arguments, run
//! without a shell, with standard input closed, a time limit and an output cap; nothing read
//! from logs ever becomes an argument.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::formats::Format;

/// One listing command and the format of what it prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveSource {
    /// The program's file name, looked up in [`SYSTEM_DIRS`] only (never `$PATH`).
    pub program: &'static str,
    /// Its fixed arguments.
    pub args: &'static [&'static str],
    /// The format of its output.
    pub format: Format,
}

impl LiveSource {
    /// The command as shown in reports (`live: iptables-save`).
    pub fn label(&self) -> String {
        let mut s = format!("live: {}", self.program);
        for a in self.args {
            s.push(' ');
            s.push_str(a);
        }
        s
    }
}

/// The commands `scan --live` runs, where installed. (fail2ban's firewalld actions ban at
/// runtime only: those bans show in `firewall-cmd` output, never in the XML files.)
pub const LIVE_SOURCES: &[LiveSource] = &[
    LiveSource {
        program: "iptables-save",
        args: &[],
        format: Format::IptablesSave,
    },
    LiveSource {
        program: "ip6tables-save",
        args: &[],
        format: Format::IptablesSave,
    },
    LiveSource {
        program: "ipset",
        args: &["save"],
        format: Format::Ipset,
    },
    // The text form: `nft -j` prints the whole ruleset on one line, which a large ban set
    // makes longer than the line cap; the text form wraps set elements.
    LiveSource {
        program: "nft",
        args: &["list", "ruleset"],
        format: Format::NftRuleset,
    },
    LiveSource {
        program: "fail2ban-client",
        args: &["banned"],
        format: Format::Fail2banBanned,
    },
    LiveSource {
        program: "ufw",
        args: &["status", "verbose"],
        format: Format::UfwStatus,
    },
    LiveSource {
        program: "firewall-cmd",
        args: &["--list-all-zones"],
        format: Format::FirewalldRich,
    },
    LiveSource {
        program: "firewall-cmd",
        args: &["--direct", "--get-all-rules"],
        format: Format::FirewalldRich,
    },
    LiveSource {
        program: "cscli",
        args: &["decisions", "list", "-a", "-o", "json"],
        format: Format::CrowdsecJson,
    },
];

/// Where programs are looked up: root's system directories, not the caller's `$PATH`.
pub const SYSTEM_DIRS: &[&str] = &[
    "/usr/sbin",
    "/sbin",
    "/usr/bin",
    "/bin",
    "/usr/local/sbin",
    "/usr/local/bin",
];

/// How long one command may run.
pub const TIME_LIMIT: Duration = Duration::from_secs(30);

/// The most output read from one command.
pub const OUTPUT_CAP: u64 = 256 * 1024 * 1024;

/// What running one command gave.
#[derive(Debug)]
#[non_exhaustive]
pub enum LiveOutput {
    /// The program is not installed: nothing to read.
    Absent,
    /// It printed this (exit status 0).
    Output(Vec<u8>),
    /// It ran but failed (not running, no permission): what it said.
    Failed(String),
}

/// Finds a program in [`SYSTEM_DIRS`].
pub fn find_program(name: &str) -> Option<PathBuf> {
    SYSTEM_DIRS
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// Runs one listing command.
pub fn run(source: &LiveSource) -> LiveOutput {
    let Some(program) = find_program(source.program) else {
        return LiveOutput::Absent;
    };
    run_program(&program, source.args)
}

fn run_program(program: &Path, args: &[&str]) -> LiveOutput {
    let mut child = match Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return LiveOutput::Failed(format!("could not run {}: {e}", program.display())),
    };
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = (&mut stdout).take(OUTPUT_CAP).read_to_end(&mut out);
        out
    });
    let err_reader = std::thread::spawn(move || {
        let mut err = Vec::new();
        let _ = (&mut stderr).take(64 * 1024).read_to_end(&mut err);
        err
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if start.elapsed() > TIME_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!(
                    "{} took longer than {:?} and was stopped",
                    program.display(),
                    TIME_LIMIT
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Err(e.to_string()),
        }
    };
    let out = reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    match status {
        Ok(s) if s.success() => LiveOutput::Output(out),
        Ok(s) => {
            let said = String::from_utf8_lossy(&err);
            let said = said.lines().next().unwrap_or("").trim();
            LiveOutput::Failed(format!("exited with {s}: {said}"))
        }
        Err(e) => LiveOutput::Failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_programs_are_absent_and_failures_are_reported() {
        let nope = LiveSource {
            program: "cf-ban-audit-no-such-program",
            args: &[],
            format: Format::Ipset,
        };
        assert!(matches!(run(&nope), LiveOutput::Absent));
        match run_program(Path::new("/bin/sh"), &["-c", "echo oops >&2; exit 3"]) {
            LiveOutput::Failed(m) => assert!(m.contains("oops"), "{m}"),
            other => panic!("{other:?}"),
        }
        match run_program(Path::new("/bin/echo"), &["hello"]) {
            LiveOutput::Output(o) => assert_eq!(o, b"hello\n"),
            other => panic!("{other:?}"),
        }
    }
}
