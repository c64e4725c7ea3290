//! The real `check_by_ssh` (monitoring-plugins-basic) against a real sshd (openssh-server),
//! both in a network namespace of the test's own on loopback: the sshd with its own host key,
//! configuration, authorized key and pid file in a temporary directory, in a private mount
//! namespace (its privilege separation directory on a private `/run`, its `sshd` user added
//! to a private copy of `/etc/passwd` when the host has none). The host's sshd and `/etc/ssh`
//! are never used. Without openssh-server installed, the package `.ci/run` downloads into
//! `/var/cache/cf-ban-audit-lab` is unpacked with `dpkg-deb -x`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::common::*;
use super::{assert_plugin_output, cases, command_line, PLUGINS};

/// Where the sshd listens, inside the namespace.
const PORT: &str = "2222";

/// Where `.ci/run` leaves the package, then apt's cache.
const PACKAGE_DIRS: &[&str] = &["/var/cache/cf-ban-audit-lab", "/var/cache/apt/archives"];

/// The sshd to run: the installed one, else one unpacked from the package into `dir`.
fn sshd(dir: &Path) -> Option<PathBuf> {
    let installed = Path::new("/usr/sbin/sshd");
    if installed.exists() {
        return Some(installed.to_path_buf());
    }
    let deb = PACKAGE_DIRS.iter().find_map(|d| {
        let mut debs: Vec<PathBuf> = std::fs::read_dir(d)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("openssh-server_") && n.ends_with(".deb"))
            })
            .collect();
        debs.sort();
        debs.pop()
    })?;
    let unpacked = dir.join("root");
    let ok = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&unpacked)
        .status()
        .ok()?
        .success();
    let sshd = unpacked.join("usr/sbin/sshd");
    (ok && sshd.exists()).then_some(sshd)
}

/// An sshd in a namespace, stopped when dropped (by its own pid: `ip netns exec`, `unshare`
/// and `sh` each exec the next).
struct Sshd {
    child: Child,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let o = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "cf-ban-audit-test",
            "-f",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(o.status.success(), "ssh-keygen: {}", stderr(&o));
}

fn start_sshd(ns: &Netns, sshd: &Path, dir: &Path) -> Sshd {
    keygen(&dir.join("host_key"));
    keygen(&dir.join("client_key"));
    std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
    let d = dir.display();
    std::fs::write(
        dir.join("sshd_config"),
        format!(
            "Port {PORT}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
             StrictModes no\nLogLevel VERBOSE\n"
        ),
    )
    .unwrap();
    // The privilege separation user, in a private copy of /etc/passwd if the host has none.
    let mut passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let bind_passwd = if passwd.lines().any(|l| l.starts_with("sshd:")) {
        String::new()
    } else {
        passwd
            .push_str("sshd:x:64999:65534:sshd privilege separation:/run/sshd:/usr/sbin/nologin\n");
        std::fs::write(dir.join("passwd"), &passwd).unwrap();
        format!("mount --bind '{d}/passwd' /etc/passwd; ")
    };
    ns.exec(&["ip", "link", "set", "lo", "up"]);
    let script = format!(
        "set -e; mount -t tmpfs -o mode=755 cfba-run /run; mkdir -m 755 /run/sshd; \
         {bind_passwd}exec '{}' -D -e -f '{d}/sshd_config'",
        sshd.display()
    );
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.0,
            "unshare",
            "-m",
            "--propagation",
            "private",
        ])
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Ready when it says it listens (it logs to stderr with -e).
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = String::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(15)) {
            Ok(line) => {
                log.push_str(&line);
                log.push('\n');
                if line.contains(&format!("Server listening on 127.0.0.1 port {PORT}")) {
                    break;
                }
            }
            Err(_) => panic!("sshd did not start:\n{log}"),
        }
    }
    Sshd { child }
}

#[test]
fn check_by_ssh_to_a_loopback_sshd_shows_every_state() {
    let check_by_ssh = Path::new(PLUGINS).join("check_by_ssh");
    let dir = tempfile::tempdir().unwrap();
    let sshd = sshd(dir.path());
    let have_all = check_by_ssh.exists() && sshd.is_some() && have("unshare") && have("ssh-keygen");
    if !have_all {
        let why = "needs check_by_ssh (apt-get install monitoring-plugins-basic) and an sshd \
                   (openssh-server installed, or its .deb in /var/cache/cf-ban-audit-lab)";
        assert!(
            std::env::var_os("CI").is_none() || !is_root(),
            "required in CI: {why}"
        );
        skip(&format!("check_by_ssh test: {why}"));
        return;
    }
    let Some(ns) = Netns::new("nagios-ssh", &["unshare"]) else {
        return;
    };
    let sshd = sshd.unwrap();
    let _server = start_sshd(&ns, &sshd, dir.path());
    let d = dir.path().display();
    for case in cases() {
        let o = Command::new("ip")
            .args(["netns", "exec", &ns.0])
            .arg(&check_by_ssh)
            .args(["-H", "127.0.0.1", "-p", PORT, "-l", "root", "-t", "60"])
            .args(["-i", &format!("{d}/client_key")])
            .args(["-o", "StrictHostKeyChecking=no"])
            .args(["-o", &format!("UserKnownHostsFile={d}/known_hosts")])
            .args([
                "-o",
                "BatchMode=yes",
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "LogLevel=ERROR",
            ])
            .args(["-C", &command_line(&case)])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let out = stdout(&o);
        assert!(
            !out.contains("Remote command execution failed"),
            "{}: {out}{}",
            case.name,
            stderr(&o)
        );
        assert_eq!(code(&o), case.code, "{}: {out}{}", case.name, stderr(&o));
        assert_plugin_output(&case, &out);
    }
}
