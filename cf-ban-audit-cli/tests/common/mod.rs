//! What the end-to-end tests share: running the binary, temp trees, network namespaces and a
//! private fail2ban server.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub mod crowdsec;

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
        // Times are written in UTC from the host's local time: the same on every machine.
        .env("TZ", "UTC")
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
            skip(&format!("{name} namespace test: {why}"));
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

/// Prints `SKIP: notice` on standard error past the test harness's capture (it captures
/// `eprintln!` only), so that `cargo test` shows every skipped check without `--nocapture`.
pub fn skip(notice: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "SKIP: {notice}");
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
/// Runs the binary inside network namespace `ns` (`ip netns exec`), with the test cache and
/// these extra environment variables.
pub fn run_in(ns: &str, args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new("ip")
        .args(["netns", "exec", ns, env!("CARGO_BIN_EXE_cf-ban-audit")])
        .args(args)
        .env("CF_BAN_AUDIT_CACHE", NO_CACHE)
        .envs(envs.iter().copied())
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Where a private fail2ban keeps its bans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fail2banDb {
    /// `dbfile = :memory:`: nothing on disk.
    Memory,
    /// `dbfile = DIR/fail2ban.sqlite3`: the database is evidence to scan.
    File,
}

/// A fail2ban server in a private directory, stopped when dropped.
pub struct Fail2ban {
    pub dir: tempfile::TempDir,
    /// The network namespace it runs in (its client runs there too), if any.
    pub netns: Option<String>,
}

impl Fail2ban {
    pub fn client(&self, args: &[&str]) -> Output {
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "fail2ban-client"]);
                c
            }
            None => Command::new("fail2ban-client"),
        };
        cmd.arg("-c")
            .arg(self.conf())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Its configuration directory (`-c`).
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("conf")
    }

    /// Its socket (`-s`).
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("f2b.sock")
    }

    /// Its log.
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("fail2ban.log")
    }

    /// Its database, when it has a file ([`Fail2banDb::File`]).
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("fail2ban.sqlite3")
    }

    /// The log as it stands (empty when not written yet).
    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.log()).unwrap_or_default()).into_owned()
    }

    /// Polls the log until it holds `needle`; the whole log, or `None` after `timeout`.
    pub fn wait_for_log(&self, needle: &str, timeout: std::time::Duration) -> Option<String> {
        wait_until(timeout, || {
            let text = self.log_text();
            text.contains(needle).then_some(text)
        })
    }
}

/// Calls `f` every 100 ms until it gives `Some`, or `None` after `timeout`.
pub fn wait_until<T>(timeout: std::time::Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

impl Drop for Fail2ban {
    fn drop(&mut self) {
        let _ = self.client(&["stop"]);
    }
}

/// `None` (with a SKIP notice, or a failure in CI) unless this runs as root and every one of
/// `programs` is installed.
pub fn require(what: &str, programs: &[&str], install: &str) -> Option<()> {
    let missing: Vec<&str> = programs.iter().copied().filter(|p| !have(p)).collect();
    let root = is_root();
    let why = match (root, missing.is_empty()) {
        (true, true) => return Some(()),
        (false, true) => "needs root".to_string(),
        (true, false) => format!("needs {missing:?} ({install})"),
        (false, false) => format!("needs root and {missing:?} ({install})"),
    };
    if std::env::var_os("CI").is_some() {
        panic!("required in CI: {what}: {why}");
    }
    skip(&format!("{what}: {why}"));
    None
}

impl Fail2ban {
    /// Starts the real fail2ban as root on a copy of the installed configuration (without the
    /// machine's `jail.d`), with its socket, log and an in-memory database in a private
    /// directory and the `jail.local` that `jail_local` writes for that directory; `None`
    /// (with a SKIP notice, or a failure in CI) without root or fail2ban.
    pub fn start(what: &str, jail_local: impl FnOnce(&Path) -> String) -> Option<Fail2ban> {
        let f2b = Fail2ban::launch(what, None, Fail2banDb::Memory, jail_local)?;
        std::thread::sleep(std::time::Duration::from_millis(1500));
        Some(f2b)
    }

    /// Starts the real fail2ban inside network namespace `ns` (`ip netns exec NS
    /// fail2ban-client -c DIR -x start`), as [`Fail2ban::start`] does otherwise, with its
    /// database `db`; returns once the log says every jail in `jails` started.
    pub fn start_in(
        what: &str,
        ns: &str,
        db: Fail2banDb,
        jails: &[&str],
        jail_local: impl FnOnce(&Path) -> String,
    ) -> Option<Fail2ban> {
        let f2b = Fail2ban::launch(what, Some(ns), db, jail_local)?;
        for jail in jails {
            let started = format!("Jail '{jail}' started");
            if f2b
                .wait_for_log(&started, std::time::Duration::from_secs(20))
                .is_none()
            {
                panic!("{what}: no {started:?} in the log:\n{}", f2b.log_text());
            }
        }
        Some(f2b)
    }

    fn launch(
        what: &str,
        ns: Option<&str>,
        db: Fail2banDb,
        jail_local: impl FnOnce(&Path) -> String,
    ) -> Option<Fail2ban> {
        require(what, &["fail2ban-client"], "apt-get install fail2ban")?;
        let f2b = Fail2ban {
            dir: tempfile::tempdir().unwrap(),
            netns: ns.map(String::from),
        };
        let t = f2b.dir.path();
        let conf = f2b.conf();
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
        let dbfile = match db {
            Fail2banDb::Memory => ":memory:".to_string(),
            Fail2banDb::File => f2b.db().display().to_string(),
        };
        std::fs::write(
            conf.join("fail2ban.local"),
            format!(
                "[Definition]\nloglevel = INFO\nlogtarget = {log}\nsocket = {sock}\n\
                 pidfile = {td}/f2b.pid\ndbfile = {dbfile}\n",
                log = f2b.log().display(),
                sock = f2b.socket().display(),
                td = t.display()
            ),
        )
        .unwrap();
        std::fs::write(conf.join("jail.local"), jail_local(t)).unwrap();
        let out = if ns.is_some() {
            f2b.client(&["-x", "start"])
        } else {
            f2b.client(&["start"])
        };
        assert!(
            out.status.success(),
            "fail2ban start: {}{}\n{}",
            stdout(&out),
            stderr(&out),
            f2b.log_text()
        );
        Some(f2b)
    }
}

/// The edge's Cloudflare address in the 521 topology.
pub const EDGE_V4: &str = "173.245.49.12";
/// The origin's address in the 521 topology.
pub const ORIGIN_V4: &str = "198.51.100.10";

/// LAB.md's 521 topology: an edge namespace holding a Cloudflare address ([`EDGE_V4`], its
/// default route on the link) and an origin namespace ([`ORIGIN_V4`], routing only to the
/// edge), joined by a veth pair; both deleted when dropped.
pub struct Topology {
    pub edge: Netns,
    pub origin: Netns,
}

impl Topology {
    /// The two namespaces (`cfba-NAME-edge-PID`, `cfba-NAME-origin-PID`), wired; `None` (with a
    /// SKIP notice, or a failure in CI) without root, `ip` or `programs`.
    pub fn new(name: &str, programs: &[&str]) -> Option<Topology> {
        let edge = Netns::new(&format!("{name}-edge"), programs)?;
        let origin = Netns::new(&format!("{name}-origin"), programs)?;
        let out = Command::new("ip")
            .args(["link", "add", "eth0", "netns", &edge.0, "type", "veth"])
            .args(["peer", "name", "eth0", "netns", &origin.0])
            .output()
            .unwrap();
        assert!(out.status.success(), "veth: {}", stderr(&out));
        for ns in [&edge, &origin] {
            ns.exec(&["ip", "link", "set", "lo", "up"]);
            ns.exec(&["ip", "link", "set", "eth0", "up"]);
        }
        edge.exec(&["ip", "addr", "add", &format!("{EDGE_V4}/32"), "dev", "eth0"]);
        edge.exec(&[
            "ip", "route", "add", "default", "dev", "eth0", "src", EDGE_V4,
        ]);
        origin.exec(&[
            "ip",
            "addr",
            "add",
            &format!("{ORIGIN_V4}/24"),
            "dev",
            "eth0",
        ]);
        // A route to the edge only, not a default route: with one, the resolver's queries go
        // to the edge and time out, and fail2ban's first ignore check (`ignoreself` resolves
        // the host's own names, IPv6 included) stalls 12 s after each start or reload.
        origin.exec(&[
            "ip",
            "route",
            "add",
            &format!("{EDGE_V4}/32"),
            "dev",
            "eth0",
        ]);
        Some(Topology { edge, origin })
    }

    /// `curl URL` from the edge (5 s limit, body discarded): curl's exit status and the HTTP
    /// status it printed (`000` when there was no answer), and what it said on stderr.
    pub fn edge_curl(&self, url: &str, extra: &[&str]) -> (i32, String, String) {
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.edge.0,
                "curl",
                "-sS",
                "-o",
                "/dev/null",
            ])
            .args(["-w", "%{http_code}", "--max-time", "5"])
            .args(extra)
            .arg(url)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            stdout(&out),
            stderr(&out).trim().to_string(),
        )
    }
}

/// nginx in a namespace, with everything it writes under its prefix; stopped (`kill -QUIT`)
/// when dropped.
pub struct Nginx {
    pub prefix: PathBuf,
}

impl Nginx {
    /// Starts nginx in `ns` with `prefix` as its prefix (pid, logs, temp paths there) and
    /// `http` as the body of its `http` block (which may use `PREFIX` for the prefix).
    /// The error log is `PREFIX/error.log` at level `info`, the access log `PREFIX/access.log`.
    pub fn start(ns: &Netns, prefix: &Path, http: &str) -> Nginx {
        let p = prefix.display().to_string();
        std::fs::create_dir_all(prefix.join("tmp")).unwrap();
        let conf = format!(
            "user root;\nworker_processes 1;\npid {p}/nginx.pid;\nerror_log {p}/error.log info;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log {p}/access.log;\n  default_type text/plain;\n\
             client_body_temp_path {p}/tmp/body;\n  proxy_temp_path {p}/tmp/proxy;\n\
             fastcgi_temp_path {p}/tmp/fastcgi;\n  uwsgi_temp_path {p}/tmp/uwsgi;\n\
             scgi_temp_path {p}/tmp/scgi;\n{}\n}}\n",
            http.replace("PREFIX", &p)
        );
        std::fs::write(prefix.join("nginx.conf"), conf).unwrap();
        let conf = format!("{p}/nginx.conf");
        let err = format!("{p}/error.log");
        ns.exec(&["nginx", "-p", &p, "-c", &conf, "-e", &err]);
        let nginx = Nginx {
            prefix: prefix.to_path_buf(),
        };
        assert!(
            wait_until(std::time::Duration::from_secs(10), || nginx.pid()).is_some(),
            "nginx wrote no pid file"
        );
        nginx
    }

    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.prefix.join("nginx.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    pub fn error_log(&self) -> PathBuf {
        self.prefix.join("error.log")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill")
                .args(["-QUIT", &pid.to_string()])
                .output();
            wait_until(std::time::Duration::from_secs(5), || {
                (!Path::new(&format!("/proc/{pid}")).exists()).then_some(())
            });
        }
    }
}

/// The 521 lab's start: root and the programs it needs (`firewall` among them), the
/// [`Topology`] (`cfba-NAME-...`), and a directory `PREFIX-...` for its files, kept when
/// `CF_BAN_AUDIT_LAB_KEEP` is set; `None` (with a SKIP notice, or a failure in CI) without
/// them.
pub fn lab_start(
    what: &str,
    firewall: &str,
    name: &str,
    prefix: &str,
) -> Option<(Topology, tempfile::TempDir, bool)> {
    require(
        what,
        &["ip", "nginx", "fail2ban-client", "curl", firewall],
        "apt-get install iproute2 nginx fail2ban curl iptables nftables",
    )?;
    let topo = Topology::new(name, &[])?;
    let keep = std::env::var_os("CF_BAN_AUDIT_LAB_KEEP").is_some();
    let mut dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    dir.disable_cleanup(keep);
    Some((topo, dir, keep))
}

impl Netns {
    /// Creates ipset `set` of `kind` (`hash:ip`, `hash:net`) holding `members`, and an
    /// iptables rule that drops what it holds.
    pub fn ipset_drop(&self, set: &str, kind: &str, members: &[&str]) {
        self.exec(&["ipset", "create", set, kind]);
        for m in members {
            self.exec(&["ipset", "add", set, m]);
        }
        self.exec(&[
            "iptables",
            "-A",
            "INPUT",
            "-m",
            "set",
            "--match-set",
            set,
            "src",
            "-j",
            "DROP",
        ]);
    }
}
