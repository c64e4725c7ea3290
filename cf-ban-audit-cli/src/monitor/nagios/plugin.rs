//! The process side of the plugin: in Nagios mode nothing reaches standard error (messages are
//! held for the long output), a usage error or a panic is an UNKNOWN status line with exit 3,
//! and `-t` ends a run that takes too long with an UNKNOWN line.

use std::ffi::OsString;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Whether the run writes a Nagios status line.
static MODE: AtomicBool = AtomicBool::new(false);
/// Messages said in Nagios mode, for the long output.
static SAID: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// Set once the run writes its output: the timeout no longer applies.
static DONE: Mutex<bool> = Mutex::new(false);

/// Enters Nagios mode: messages are held, a panic is an UNKNOWN status line.
pub fn enter() {
    MODE.store(true, Ordering::SeqCst);
    std::panic::set_hook(Box::new(|info| {
        let mut out = io::stdout().lock();
        let _ = super::unknown(&mut out, &format!("internal error: {info}"), &taken());
        std::process::exit(3);
    }));
}

/// Whether the run is in Nagios mode.
pub fn active() -> bool {
    MODE.load(Ordering::SeqCst)
}

/// In Nagios mode keeps `message` for the long output and returns true; else false (the
/// caller writes it to standard error).
pub fn hold(message: &str) -> bool {
    if !active() {
        return false;
    }
    SAID.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(message.to_string());
    true
}

/// The messages held so far, taken.
pub fn taken() -> Vec<String> {
    std::mem::take(&mut *SAID.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Whether a command line asks for `scan --format nagios` (read before clap, whose errors
/// must then be UNKNOWN status lines too).
pub fn requested(argv: &[OsString]) -> bool {
    let args: Vec<&str> = argv.iter().skip(1).filter_map(|a| a.to_str()).collect();
    args.first() == Some(&"scan")
        && (args.contains(&"--format=nagios")
            || args.windows(2).any(|w| w == ["--format", "nagios"]))
}

/// A command-line error in Nagios mode: its first line as an UNKNOWN status line, the rest as
/// long output, on standard output; returns 3. Help and version are printed as usual (exit 0).
pub fn usage_error(e: &clap::Error) -> u8 {
    let text = e.to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("usage error");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let long: Vec<String> = lines.map(str::to_string).collect();
    let mut out = io::stdout().lock();
    super::unknown(&mut out, &format!("usage: {first}"), &long).unwrap_or(3)
}

/// Ends the process after `seconds` unless [`finish`] was called first: with an UNKNOWN status
/// line and exit 3 in Nagios mode, else a message on standard error and exit 2.
pub fn watchdog(seconds: u64) {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(seconds));
        let done = DONE.lock().unwrap_or_else(|e| e.into_inner());
        if *done {
            return;
        }
        let message = format!("timed out after {seconds} seconds (-t {seconds})");
        if active() {
            let mut out = io::stdout().lock();
            let _ = super::unknown(&mut out, &message, &taken());
            let _ = out.flush();
            std::process::exit(3);
        }
        crate::say(&message);
        std::process::exit(2);
    });
}

/// The run is writing its output: the timeout no longer ends it. (If the timeout fired first,
/// this waits for the process to end.)
pub fn finish() {
    *DONE.lock().unwrap_or_else(|e| e.into_inner()) = true;
}
