//! What the end-to-end tests share: running the binary, temp trees, network namespaces and a
//! private fail2ban server.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A fresh temp dir to write inputs into, and a way to run the binary.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        p
    }
}

pub fn run(args: &[&str]) -> Output {
    run_stdin(args, None)
}

/// The cache path tests use unless they set their own: never the machine's.
pub const NO_CACHE: &str = "/nonexistent/cf-ban-audit-test/ips.json";

pub fn run_stdin(args: &[&str], stdin: Option<&[u8]>) -> Output {
    run_with(args, stdin, NO_CACHE)
}

pub fn run_with(args: &[&str], stdin: Option<&[u8]>, cache: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cf-ban-audit"))
        .args(args)
        .env("CF_BAN_AUDIT_CACHE", cache)
        .current_dir(root())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

pub fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}
/// A network namespace made for one test, deleted when dropped.
pub struct Netns(pub String);

impl Netns {
    /// A network namespace of this test's own (`cfba-NAME-PID`), removed when dropped; `None`
    /// (with a SKIP notice, or a failure in CI) without root, `ip` or `programs`.
    pub fn new(name: &str, programs: &[&str]) -> Option<Netns> {
        let missing: Vec<&str> = ["ip"]
            .iter()
            .chain(programs)
            .copied()
            .filter(|p| !have(p))
            .collect();
        if !is_root() || !missing.is_empty() {
            let why = format!(
                "needs root and {missing:?} (apt-get install iproute2 iptables ipset nftables)"
            );
            if std::env::var_os("CI").is_some() {
                panic!("required in CI: {why}");
            }
            eprintln!("SKIP: {name} namespace test: {why}");
            return None;
        }
        let ns = Netns(format!("cfba-{name}-{}", std::process::id()));
        let out = Command::new("ip")
            .args(["netns", "add", &ns.0])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        Some(ns)
    }

    pub fn exec(&self, args: &[&str]) {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.0])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false)
}

pub fn have(program: &str) -> bool {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(program).exists())
}
/// A fail2ban server in a private directory, stopped when dropped.
pub struct Fail2ban {
    pub dir: tempfile::TempDir,
}

impl Fail2ban {
    pub fn client(&self, args: &[&str]) -> Output {
        Command::new("fail2ban-client")
            .arg("-c")
            .arg(self.dir.path().join("conf"))
            .args(args)
            .output()
            .unwrap()
    }
}

impl Drop for Fail2ban {
    fn drop(&mut self) {
        let _ = self.client(&["stop"]);
    }
}

impl Fail2ban {
    /// Starts the real fail2ban as root on a copy of the installed configuration (without the
    /// machine's `jail.d`), with its socket, log and an in-memory database in a private
    /// directory and the `jail.local` that `jail_local` writes for that directory; `None`
    /// (with a SKIP notice, or a failure in CI) without root or fail2ban.
    pub fn start(what: &str, jail_local: impl FnOnce(&Path) -> String) -> Option<Fail2ban> {
        if !have("fail2ban-client") || !is_root() {
            let why = "needs root and fail2ban (apt-get install fail2ban)";
            if std::env::var_os("CI").is_some() {
                panic!("required in CI: {why}");
            }
            eprintln!("SKIP: {what}: {why}");
            return None;
        }
        let f2b = Fail2ban {
            dir: tempfile::tempdir().unwrap(),
        };
        let t = f2b.dir.path();
        let conf = t.join("conf");
        let status = Command::new("cp")
            .arg("-r")
            .arg("/etc/fail2ban")
            .arg(&conf)
            .status()
            .unwrap();
        assert!(status.success());
        for entry in std::fs::read_dir(conf.join("jail.d")).unwrap() {
            std::fs::remove_file(entry.unwrap().path()).unwrap();
        }
        let td = t.display();
        std::fs::write(
            conf.join("fail2ban.local"),
            format!(
                "[Definition]\nloglevel = INFO\nlogtarget = {td}/fail2ban.log\nsocket = {td}/f2b.sock\n\
                 pidfile = {td}/f2b.pid\ndbfile = :memory:\n"
            ),
        )
        .unwrap();
        std::fs::write(conf.join("jail.local"), jail_local(t)).unwrap();
        let out = f2b.client(&["start"]);
        assert!(
            out.status.success(),
            "fail2ban start: {}{}",
            stdout(&out),
            stderr(&out)
        );
        std::thread::sleep(std::time::Duration::from_millis(1500));
        Some(f2b)
    }
}
