//! The live state: what the firewall and the ban tools hold right now, read by running their
//! own listing commands. Each command is a fixed program path with fixed arguments, run
//! without a shell, with standard input closed, a time limit and an output cap; nothing read
//! from logs ever becomes an argument.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::formats::Format;

/// What the user (never the scanned text) tells the listing commands: where a tool's control
/// socket or configuration is, when not in its default place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveOptions {
    /// fail2ban's socket: `fail2ban-client -s PATH banned`.
    pub fail2ban_socket: Option<PathBuf>,
    /// cscli's configuration: `cscli -c PATH decisions list ...`.
    pub cscli_config: Option<PathBuf>,
}

/// The option of [`LiveOptions`] a listing command takes, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserOption {
    /// None: the command's arguments are all fixed.
    None,
    /// `-s PATH` from [`LiveOptions::fail2ban_socket`].
    Fail2banSocket,
    /// `-c PATH` from [`LiveOptions::cscli_config`].
    CscliConfig,
}

impl UserOption {
    /// The flag (`-s`, `-c`), if the option is one.
    pub fn flag(self) -> Option<&'static str> {
        match self {
            UserOption::None => None,
            UserOption::Fail2banSocket => Some("-s"),
            UserOption::CscliConfig => Some("-c"),
        }
    }

    /// The flag, what it names (for messages) and the path the user gave, when given.
    fn given(self, options: &LiveOptions) -> Option<(&'static str, &'static str, &Path)> {
        match self {
            UserOption::None => None,
            UserOption::Fail2banSocket => options
                .fail2ban_socket
                .as_deref()
                .map(|p| ("-s", "fail2ban socket", p)),
            UserOption::CscliConfig => options
                .cscli_config
                .as_deref()
                .map(|p| ("-c", "cscli configuration", p)),
        }
    }
}

/// One listing command and the format of what it prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveSource {
    /// The program's file name, looked up in [`SYSTEM_DIRS`] only (never `$PATH`).
    pub program: &'static str,
    /// Its fixed arguments.
    pub args: &'static [&'static str],
    /// The option the user may add in front of them.
    pub option: UserOption,
    /// The format of its output.
    pub format: Format,
}

impl LiveSource {
    /// The arguments to run it with: the user's option (flag and path as two arguments,
    /// before the fixed ones, as both programs' parsers take it), then the fixed arguments.
    /// A relative path that begins with `-` gets `./` in front so that it is never read as
    /// a flag.
    pub fn argv(&self, options: &LiveOptions) -> Vec<OsString> {
        let mut argv = Vec::with_capacity(self.args.len() + 2);
        if let Some((flag, _, path)) = self.option.given(options) {
            argv.push(OsString::from(flag));
            if path.as_os_str().as_encoded_bytes().starts_with(b"-") {
                argv.push(Path::new(".").join(path).into_os_string());
            } else {
                argv.push(path.as_os_str().to_os_string());
            }
        }
        argv.extend(self.args.iter().map(OsString::from));
        argv
    }

    /// The command as shown in reports (`live: iptables-save`,
    /// `live: fail2ban-client -s /run/f2b.sock banned`).
    pub fn label(&self, options: &LiveOptions) -> String {
        let mut s = format!("live: {}", self.program);
        for a in self.argv(options) {
            s.push(' ');
            s.push_str(&a.to_string_lossy());
        }
        s
    }

    /// What the user's option named, for messages (`fail2ban socket /run/f2b.sock`).
    pub fn given(&self, options: &LiveOptions) -> Option<String> {
        self.option
            .given(options)
            .map(|(_, what, path)| format!("{what} {}", path.display()))
    }
}

/// The commands `scan --live` runs, where installed. (fail2ban's firewalld actions ban at
/// runtime only: those bans show in `firewall-cmd` output, never in the XML files.)
pub const LIVE_SOURCES: &[LiveSource] = &[
    LiveSource {
        program: "iptables-save",
        args: &[],
        option: UserOption::None,
        format: Format::IptablesSave,
    },
    LiveSource {
        program: "ip6tables-save",
        args: &[],
        option: UserOption::None,
        format: Format::IptablesSave,
    },
    // The legacy tables (x_tables), apart from the nf_tables ones the two above list on
    // Debian: a rule in either applies. Without legacy tables these print nothing.
    LiveSource {
        program: "iptables-legacy-save",
        args: &[],
        option: UserOption::None,
        format: Format::IptablesSave,
    },
    LiveSource {
        program: "ip6tables-legacy-save",
        args: &[],
        option: UserOption::None,
        format: Format::IptablesSave,
    },
    // Every table's routes: fail2ban's `route` action bans with blackhole, unreachable and
    // prohibit routes.
    LiveSource {
        program: "ip",
        args: &["-4", "route", "show", "table", "all"],
        option: UserOption::None,
        format: Format::IpRoute,
    },
    LiveSource {
        program: "ip",
        args: &["-6", "route", "show", "table", "all"],
        option: UserOption::None,
        format: Format::IpRoute,
    },
    LiveSource {
        program: "ipset",
        args: &["save"],
        option: UserOption::None,
        format: Format::Ipset,
    },
    // The text form: `nft -j` prints the whole ruleset on one line, which a large ban set
    // makes longer than the line cap; the text form wraps set elements.
    LiveSource {
        program: "nft",
        args: &["list", "ruleset"],
        option: UserOption::None,
        format: Format::NftRuleset,
    },
    LiveSource {
        program: "fail2ban-client",
        args: &["banned"],
        option: UserOption::Fail2banSocket,
        format: Format::Fail2banBanned,
    },
    LiveSource {
        program: "ufw",
        args: &["status", "verbose"],
        option: UserOption::None,
        format: Format::UfwStatus,
    },
    LiveSource {
        program: "firewall-cmd",
        args: &["--list-all-zones"],
        option: UserOption::None,
        format: Format::FirewalldRich,
    },
    LiveSource {
        program: "firewall-cmd",
        args: &["--direct", "--get-all-rules"],
        option: UserOption::None,
        format: Format::FirewalldRich,
    },
    LiveSource {
        program: "cscli",
        args: &["decisions", "list", "-a", "-o", "json"],
        option: UserOption::CscliConfig,
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

/// The most output read from one command (far above the 1.35 MB `fail2ban-client banned`
/// prints for a jail of 79,000 bans); a longer output is a failed read, an error of the scan.
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

/// Runs one listing command with the user's options.
pub fn run(source: &LiveSource, options: &LiveOptions) -> LiveOutput {
    let Some(program) = find_program(source.program) else {
        return LiveOutput::Absent;
    };
    run_program(&program, &source.argv(options))
}

fn run_program<S: AsRef<std::ffi::OsStr>>(program: &Path, args: &[S]) -> LiveOutput {
    let captured = match capture(program, args, TIME_LIMIT, OUTPUT_CAP, 64 * 1024) {
        Ok(c) => c,
        Err(e) => return LiveOutput::Failed(e),
    };
    if captured.stdout_cut {
        // Cut at the cap (the program, its output no longer read, may have died of it): the
        // bans after the cut are unknown, so the read failed, never a silent part of it.
        return LiveOutput::Failed(format!(
            "{} printed more than {} MiB, the most read from one command: not read",
            program.display(),
            OUTPUT_CAP >> 20
        ));
    }
    if captured.status.success() {
        LiveOutput::Output(captured.stdout)
    } else {
        let said = String::from_utf8_lossy(&captured.stderr);
        let said = said.lines().next().unwrap_or("").trim();
        LiveOutput::Failed(format!("exited with {}: {said}", captured.status))
    }
}

/// What a program run by [`capture`] gave.
#[derive(Debug)]
pub(crate) struct Captured {
    /// How it ended.
    pub status: std::process::ExitStatus,
    /// Its standard output, at most the cap.
    pub stdout: Vec<u8>,
    /// Its standard error, at most its cap.
    pub stderr: Vec<u8>,
    /// Whether the standard output went past the cap (and was cut there).
    pub stdout_cut: bool,
}

/// Runs `program` with `args` the way every command of the library runs: no shell, an empty
/// environment but for `PATH` (the system directories) and `LC_ALL=C`, standard input
/// closed, its own process group (killed whole when the time limit passes, so that a child it
/// started cannot keep the pipes open), both outputs read at once up to their caps. A child
/// it left behind holding its outputs is killed with the group when the time is up, and
/// what was read is kept. Errs when it cannot be started, when it outlives `limit`, when its
/// outputs stay open even after its group was killed, or when waiting fails.
pub(crate) fn capture<S: AsRef<std::ffi::OsStr>>(
    program: &Path,
    args: &[S],
    limit: Duration,
    out_cap: u64,
    err_cap: u64,
) -> Result<Captured, String> {
    capture_with(program, args, limit, (out_cap, err_cap), None)
}

/// What a child runs between `fork` and `exec` (see [`capture_with`]).
pub(crate) type BeforeExec = Box<dyn FnMut() -> std::io::Result<()> + Send + Sync>;

/// [`capture`], with `before_exec` run in the child between `fork` and `exec` (it must only
/// make system calls: no allocation, no lock), for a program that must run in a namespace of
/// its own. The caps are those of standard output and standard error.
pub(crate) fn capture_with<S: AsRef<std::ffi::OsStr>>(
    program: &Path,
    args: &[S],
    limit: Duration,
    (out_cap, err_cap): (u64, u64),
    before_exec: Option<BeforeExec>,
) -> Result<Captured, String> {
    use std::os::unix::process::CommandExt;
    use std::sync::mpsc;

    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(hook) = before_exec {
        // SAFETY: the hook only makes system calls (its contract above).
        unsafe {
            command.pre_exec(hook);
        }
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("could not run {}: {e}", program.display()))?;
    let group = rustix::process::Pid::from_child(&child);
    let kill_group = || {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    };
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let (out_tx, out_rx) = mpsc::channel();
    let (err_tx, err_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        // One byte more than the cap tells an output cut at the cap.
        let _ = (&mut stdout).take(out_cap + 1).read_to_end(&mut out);
        let _ = out_tx.send(out);
    });
    std::thread::spawn(move || {
        let mut err = Vec::new();
        let _ = (&mut stderr).take(err_cap).read_to_end(&mut err);
        let _ = err_tx.send(err);
    });
    let start = Instant::now();
    let too_long = || {
        format!(
            "{} took longer than {:?} and was stopped",
            program.display(),
            limit
        )
    };
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > limit => {
                kill_group();
                let _ = child.kill();
                let _ = child.wait();
                return Err(too_long());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                kill_group();
                let _ = child.kill();
                let _ = child.wait();
                return Err(e.to_string());
            }
        }
    };
    // The outputs end when every process holding the pipes is gone: a child left behind is
    // given the rest of the time, then killed with its group (a reader left blocked by one
    // that escaped the group ends when it does).
    let left = |now: Instant| limit.saturating_sub(now.duration_since(start));
    let wait_for = |rx: &mpsc::Receiver<Vec<u8>>| {
        rx.recv_timeout(left(Instant::now())).or_else(|_| {
            kill_group();
            rx.recv_timeout(Duration::from_millis(200))
        })
    };
    let (Ok(stdout), Ok(stderr)) = (wait_for(&out_rx), wait_for(&err_rx)) else {
        return Err(format!(
            "{} exited, but what it started kept its output open past {:?}",
            program.display(),
            limit
        ));
    };
    let stdout_cut = stdout.len() as u64 > out_cap;
    let mut stdout = stdout;
    stdout.truncate(out_cap as usize);
    Ok(Captured {
        status,
        stdout,
        stderr,
        stdout_cut,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_programs_are_absent_and_failures_are_reported() {
        let nope = LiveSource {
            program: "cf-ban-audit-no-such-program",
            args: &[],
            option: UserOption::None,
            format: Format::Ipset,
        };
        assert!(matches!(
            run(&nope, &LiveOptions::default()),
            LiveOutput::Absent
        ));
        match run_program(Path::new("/bin/sh"), &["-c", "echo oops >&2; exit 3"]) {
            LiveOutput::Failed(m) => assert!(m.contains("oops"), "{m}"),
            other => panic!("{other:?}"),
        }
        match run_program(Path::new("/bin/echo"), &["hello"]) {
            LiveOutput::Output(o) => assert_eq!(o, b"hello\n"),
            other => panic!("{other:?}"),
        }
    }

    fn source(program: &str) -> &'static LiveSource {
        LIVE_SOURCES.iter().find(|s| s.program == program).unwrap()
    }

    fn argv(source: &LiveSource, options: &LiveOptions) -> Vec<String> {
        source
            .argv(options)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn argv_without_options_is_the_fixed_arguments() {
        let none = LiveOptions::default();
        for source in LIVE_SOURCES {
            assert_eq!(argv(source, &none), source.args, "{source:?}");
            assert_eq!(source.given(&none), None);
        }
        assert_eq!(
            source("fail2ban-client").label(&none),
            "live: fail2ban-client banned"
        );
    }

    #[test]
    fn the_fail2ban_socket_and_cscli_config_go_before_the_fixed_arguments() {
        let options = LiveOptions {
            fail2ban_socket: Some(PathBuf::from("/srv/f2b/fail2ban.sock")),
            cscli_config: Some(PathBuf::from("/etc/crowdsec/other.yaml")),
        };
        let f2b = source("fail2ban-client");
        assert_eq!(
            argv(f2b, &options),
            ["-s", "/srv/f2b/fail2ban.sock", "banned"]
        );
        assert_eq!(
            f2b.label(&options),
            "live: fail2ban-client -s /srv/f2b/fail2ban.sock banned"
        );
        assert_eq!(
            f2b.given(&options).unwrap(),
            "fail2ban socket /srv/f2b/fail2ban.sock"
        );
        assert_eq!(
            argv(source("cscli"), &options),
            [
                "-c",
                "/etc/crowdsec/other.yaml",
                "decisions",
                "list",
                "-a",
                "-o",
                "json"
            ]
        );
        // Only the command the option belongs to gets it.
        for other in LIVE_SOURCES
            .iter()
            .filter(|s| !matches!(s.program, "fail2ban-client" | "cscli"))
        {
            assert_eq!(argv(other, &options), other.args, "{other:?}");
        }
    }

    #[test]
    fn a_path_that_looks_like_a_flag_stays_a_path() {
        let options = LiveOptions {
            fail2ban_socket: Some(PathBuf::from("-x.sock")),
            ..LiveOptions::default()
        };
        assert_eq!(
            argv(source("fail2ban-client"), &options),
            ["-s", "./-x.sock", "banned"]
        );
        // Spaces and shell characters are one argument: there is no shell.
        let options = LiveOptions {
            fail2ban_socket: Some(PathBuf::from("/tmp/a b;rm -rf x/f2b.sock")),
            ..LiveOptions::default()
        };
        assert_eq!(
            argv(source("fail2ban-client"), &options),
            ["-s", "/tmp/a b;rm -rf x/f2b.sock", "banned"]
        );
    }
}
