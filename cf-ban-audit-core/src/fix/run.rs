//! Running a program for a fix (the fourth safety rule): a fixed argument list, the
//! program from the system directories only (never `$PATH`, never the current directory, so
//! a planted `fail2ban-client` is never run as root), no shell (an argument is one argument,
//! whatever characters it holds), standard input closed (a program asking a question must
//! not hang a fix), a timeout after which it is killed with what it started, and its output
//! read up to a cap. Nothing read from a log becomes an argument except a parsed address and
//! a validated name: that is the caller's part.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::FixError;

/// The only directories a program is taken from.
pub const PROGRAM_DIRS: &[&str] = &["/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/// The most read of each of a program's outputs.
pub const OUTPUT_CAP: u64 = 16 * 1024 * 1024;

/// The most of a failed program's standard error kept in its error.
const SAID_CAP: usize = 4096;

/// The first `max` bytes of `text` (cut at a character), with `…` when cut.
fn first_chars(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Whether `name` is a program's bare file name: letters, digits, `.`, `_`, `+`, `-`, not
/// beginning with `.` or `-` (a shell string such as `iptables -F` is not one).
fn bare_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['.', '-'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'))
}

/// The absolute path of `argv0`: a bare name looked up in [`PROGRAM_DIRS`], or an absolute
/// path in one of them.
pub fn resolve_program(argv0: &str) -> Result<PathBuf, String> {
    if argv0.contains('/') {
        let path = Path::new(argv0);
        let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str()))
        else {
            return Err(format!("{argv0:?} is not a program's path"));
        };
        if !path.is_absolute() || !PROGRAM_DIRS.iter().any(|d| Path::new(d) == dir) {
            return Err(format!(
                "{argv0:?} is not in the system directories ({})",
                PROGRAM_DIRS.join(", ")
            ));
        }
        if !bare_name(name) {
            return Err(format!("{argv0:?} is not a program's path"));
        }
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(format!("{argv0} is not installed"))
        };
    }
    if !bare_name(argv0) {
        return Err(format!(
            "{argv0:?} is not a program's name (a fix runs a program with its arguments, never a shell string)"
        ));
    }
    PROGRAM_DIRS
        .iter()
        .map(|d| Path::new(d).join(argv0))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{argv0} is not installed in {}", PROGRAM_DIRS.join(", ")))
}

/// Runs a program with a fixed argument list: `argv[0]` is a bare name resolved to an
/// absolute path in `/usr/sbin`, `/usr/bin`, `/sbin`, `/bin` only (an `argv[0]` with a slash
/// must be absolute and in those directories), no shell, standard input null, a timeout
/// (killed after it), output captured (at most [`OUTPUT_CAP`] of each). Errs
/// ([`FixError::Program`]) when not found, on the timeout, on output past the cap, or on a
/// non-zero exit (with its standard error).
pub fn run_program(argv: &[String], timeout: Duration) -> Result<std::process::Output, FixError> {
    run_program_with(argv, timeout, None)
}

/// [`run_program`], with `before_exec` run in the child before the program starts (see
/// [`crate::live::capture_with`]).
pub(crate) fn run_program_with(
    argv: &[String],
    timeout: Duration,
    before_exec: Option<crate::live::BeforeExec>,
) -> Result<std::process::Output, FixError> {
    let fail = |why: String| FixError::Program {
        argv: argv.to_vec(),
        why,
    };
    let Some(argv0) = argv.first() else {
        return Err(fail("no program to run".to_string()));
    };
    let program = resolve_program(argv0).map_err(fail)?;
    let captured = crate::live::capture_with(
        &program,
        &argv[1..],
        timeout,
        (OUTPUT_CAP, OUTPUT_CAP),
        before_exec,
    )
    .map_err(fail)?;
    if captured.stdout_cut {
        return Err(fail(format!(
            "printed more than {} MiB, the most read",
            OUTPUT_CAP >> 20
        )));
    }
    if !captured.status.success() {
        let said = String::from_utf8_lossy(&captured.stderr);
        return Err(fail(format!(
            "exited with {}: {}",
            captured.status,
            first_chars(said.trim(), SAID_CAP)
        )));
    }
    Ok(std::process::Output {
        status: captured.status,
        stdout: captured.stdout,
        stderr: captured.stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn echo_prints_its_arguments_without_a_shell() {
        let out = run_program(
            &argv(&["/bin/echo", "a;b", "$(id)"]),
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(out.stdout, b"a;b $(id)\n");
        let out = run_program(&argv(&["echo", "hi"]), Duration::from_secs(5)).unwrap();
        assert_eq!(out.stdout, b"hi\n");
    }

    #[test]
    fn shell_strings_relative_and_foreign_programs_are_refused() {
        for bad in [
            "echo hi",
            "iptables -F; rm -rf /",
            "./echo",
            "bin/echo",
            "../bin/echo",
            "/tmp/echo",
            "/usr/local/bin/echo",
            "/bin/../tmp/echo",
            "-echo",
            "",
        ] {
            let err = run_program(&argv(&[bad]), Duration::from_secs(5)).unwrap_err();
            assert!(matches!(err, FixError::Program { .. }), "{bad}: {err}");
        }
        assert!(run_program(&[], Duration::from_secs(1)).is_err());
        let err =
            run_program(&argv(&["cf-ban-audit-no-such"]), Duration::from_secs(1)).unwrap_err();
        assert!(err.to_string().contains("not installed"), "{err}");
    }

    #[test]
    fn a_slow_program_is_stopped_at_the_timeout() {
        let start = std::time::Instant::now();
        let err = run_program(&argv(&["sleep", "5"]), Duration::from_millis(200)).unwrap_err();
        assert!(err.to_string().contains("took longer"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn a_failure_says_what_the_program_said() {
        let err = run_program(
            &argv(&["sh", "-c", "echo broken config >&2; exit 3"]),
            Duration::from_secs(5),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("broken config") && text.contains('3'),
            "{text}"
        );
        let err = run_program(
            &argv(&[
                "sh",
                "-c",
                "head -c 100000 /dev/zero | tr '\\0' x >&2; exit 1",
            ]),
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert!(err.to_string().len() < SAID_CAP + 200);
        assert_eq!(first_chars("ééé", 3), "é…");
    }

    #[test]
    fn a_child_left_holding_the_output_is_killed_with_its_group() {
        // The shell exits at once; its background sleep keeps the pipe open until the time
        // is up, then is killed, and the shell's own output is what it printed.
        let start = std::time::Instant::now();
        let out = run_program(
            &argv(&["sh", "-c", "sleep 30 & echo started"]),
            Duration::from_millis(300),
        )
        .unwrap();
        assert_eq!(out.stdout, b"started\n");
        assert!(start.elapsed() < Duration::from_secs(5));
        // Killed with its group on a timeout too: the outputs end at once.
        let start = std::time::Instant::now();
        let err = run_program(
            &argv(&["sh", "-c", "sleep 30 & sleep 30"]),
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(err.to_string().contains("took longer"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn an_absolute_path_in_the_system_directories_runs() {
        assert_eq!(resolve_program("/bin/sh").unwrap(), Path::new("/bin/sh"));
        assert!(resolve_program("sh").unwrap().is_absolute());
        assert!(resolve_program("/bin/cf-ban-audit-no-such").is_err());
    }
}
