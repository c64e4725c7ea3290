//! A real CrowdSec 1.4.6 for the tests, never installed on the host: Debian's .deb (put in
//! `/var/cache/cf-ban-audit-lab` by `.ci/run`, which downloads it only) unpacked with `dpkg-deb -x` into a private
//! root, run with a private `config.yaml` (no Central API, its Local API on 127.0.0.1 inside
//! the test's network namespace, a sqlite database and every file in a temporary directory),
//! as LAB.md's CrowdSec section and `fixtures/crowdsec/lab/make-crowdsec-fixtures.sh` run it.
//!
//! cf-ban-audit runs `cscli` and `crowdsec` only from the system directories, so
//! [`Crowdsec::run_in`] runs the binary in a private mount namespace whose `/usr/bin` is an
//! overlay of the unpacked binaries on the host's (nothing outside that namespace sees it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use super::{have, is_root, root, wait_until, Netns, NO_CACHE};

/// Where `.ci/run` leaves the package (`apt-get download` there: apt's own cache is emptied
/// after every dpkg run on images with Docker's `docker-clean` hook), then apt's cache.
const PACKAGE_DIRS: &[&str] = &["/var/cache/cf-ban-audit-lab", "/var/cache/apt/archives"];

/// The package's file, named by `CF_BAN_AUDIT_CROWDSEC_DEB`, else the newest `crowdsec_*.deb`
/// in [`PACKAGE_DIRS`].
pub fn crowdsec_deb() -> Option<PathBuf> {
    if let Some(deb) = std::env::var_os("CF_BAN_AUDIT_CROWDSEC_DEB") {
        return Some(PathBuf::from(deb)).filter(|p| p.is_file());
    }
    PACKAGE_DIRS.iter().find_map(|dir| {
        let mut debs: Vec<PathBuf> = std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("crowdsec_") && n.ends_with(".deb"))
            })
            .collect();
        debs.sort();
        debs.pop()
    })
}

/// A CrowdSec Local API running in a network namespace, stopped when dropped.
pub struct Crowdsec {
    /// Everything: `root` (the unpacked package), `etc`, `data`, `log`, `hub`.
    pub dir: tempfile::TempDir,
    /// The network namespace it runs in.
    pub netns: String,
    /// Its Local API, once started.
    child: Option<Child>,
}

/// The Local API's address inside the namespace.
const LISTEN: &str = "127.0.0.1:18080";

impl Crowdsec {
    /// Unpacks the package and starts its Local API (`crowdsec -no-cs`) in `ns`, with a
    /// machine's credentials for `cscli`; `None` (with a SKIP notice, or a failure when `CI` is
    /// set) without root, `dpkg-deb`, `unshare` or the package.
    pub fn start(ns: &Netns) -> Option<Crowdsec> {
        let deb = crowdsec_deb();
        let missing: Vec<&str> = ["dpkg-deb", "unshare", "mount", "mknod"]
            .into_iter()
            .filter(|p| !have(p))
            .collect();
        if deb.is_none() || !missing.is_empty() || !is_root() {
            let mut needs = Vec::new();
            if !is_root() {
                needs.push("root".to_string());
            }
            if !missing.is_empty() {
                needs.push(format!("{missing:?}"));
            }
            if deb.is_none() {
                needs.push(format!(
                    "CrowdSec's .deb in {PACKAGE_DIRS:?} or CF_BAN_AUDIT_CROWDSEC_DEB (cd \
                     /var/cache/cf-ban-audit-lab && apt-get download crowdsec; it is never \
                     installed)"
                ));
            }
            let why = format!("needs {}", needs.join(" and "));
            if std::env::var_os("CI").is_some() {
                panic!("required in CI: CrowdSec: {why}");
            }
            super::skip(&format!("CrowdSec test: {why}"));
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let r = d.join("root");
        let out = Command::new("dpkg-deb")
            .arg("-x")
            .arg(deb.unwrap())
            .arg(&r)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let etc = d.join("etc");
        for sub in ["parsers/s02-enrich", "scenarios"] {
            std::fs::create_dir_all(etc.join(sub)).unwrap();
        }
        for sub in ["data", "log", "hub"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        for f in ["profiles.yaml", "simulation.yaml"] {
            std::fs::copy(r.join("etc/crowdsec").join(f), etc.join(f)).unwrap();
        }
        std::os::unix::fs::symlink(r.join("etc/crowdsec/patterns"), etc.join("patterns")).unwrap();
        let hub = r.join("usr/share/crowdsec/hub");
        for item in [
            "blockers",
            "collections",
            "parsers",
            "postoverflows",
            "scenarios",
            ".index.json",
        ] {
            std::os::unix::fs::symlink(hub.join(item), d.join("hub").join(item)).unwrap();
        }
        // The enrich stage as the package sets it up: the hub's own parsers, linked.
        std::os::unix::fs::symlink(
            hub.join("parsers/s02-enrich/crowdsecurity/dateparse-enrich.yaml"),
            etc.join("parsers/s02-enrich/dateparse-enrich.yaml"),
        )
        .unwrap();
        std::fs::write(d.join("log/auth.log"), "").unwrap();
        std::fs::write(
            etc.join("acquis.yaml"),
            format!(
                "filenames:\n  - {}\nlabels:\n  type: syslog\n",
                d.join("log/auth.log").display()
            ),
        )
        .unwrap();
        std::fs::write(etc.join("local_api_credentials.yaml"), "").unwrap();
        let (e, p) = (etc.display(), d.display());
        std::fs::write(
            etc.join("config.yaml"),
            format!(
                "common:
  daemonize: false
  log_media: file
  log_level: info
  log_dir: {p}/log/
  working_dir: .
config_paths:
  config_dir: {e}/
  data_dir: {p}/data/
  simulation_path: {e}/simulation.yaml
  hub_dir: {p}/hub/
  index_path: {p}/hub/.index.json
  notification_dir: {e}/notifications/
  plugin_dir: {p}/root/usr/lib/crowdsec/plugins/
crowdsec_service:
  acquisition_path: {e}/acquis.yaml
  parser_routines: 1
cscli:
  output: human
db_config:
  log_level: info
  type: sqlite
  db_path: {p}/data/crowdsec.db
api:
  client:
    insecure_skip_verify: false
    credentials_path: {e}/local_api_credentials.yaml
  server:
    log_level: info
    listen_uri: {LISTEN}
    profiles_path: {e}/profiles.yaml
    trusted_ips:
      - 127.0.0.1
prometheus:
  enabled: false
"
            ),
        )
        .unwrap();
        // fail2ban-client (installed for the other tests) hidden in the overlay: this
        // namespace is a host where CrowdSec is the ban tool.
        std::fs::create_dir(d.join("hide")).unwrap();
        let out = Command::new("mknod")
            .arg(d.join("hide/fail2ban-client"))
            .args(["c", "0", "0"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let log = std::fs::File::create(d.join("log/crowdsec-stdout.txt")).unwrap();
        ns.exec(&["ip", "link", "set", "lo", "up"]);
        let mut cs = Crowdsec {
            dir,
            netns: ns.0.clone(),
            child: None,
        };
        let credentials = cs.etc().join("local_api_credentials.yaml");
        let out = cs.cscli(&[
            "machines",
            "add",
            "cfba-test",
            "--password",
            "cfbapassword1234",
            "-f",
            credentials.to_str().unwrap(),
            "-u",
            &format!("http://{LISTEN}/"),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let child = Command::new("ip")
            .args(["netns", "exec", &cs.netns])
            .arg(cs.bin("crowdsec"))
            .arg("-c")
            .arg(cs.config())
            .arg("-no-cs")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        cs.child = Some(child);
        let up = wait_until(Duration::from_secs(15), || {
            cs.cscli(&["lapi", "status"]).status.success().then_some(())
        });
        assert!(
            up.is_some(),
            "the Local API did not start: {}",
            std::fs::read_to_string(cs.dir.path().join("log/crowdsec.log")).unwrap_or_default()
        );
        Some(cs)
    }

    /// A program of the unpacked package.
    pub fn bin(&self, name: &str) -> PathBuf {
        self.dir.path().join("root/usr/bin").join(name)
    }

    /// Its `config.yaml`.
    pub fn config(&self) -> PathBuf {
        self.etc().join("config.yaml")
    }

    /// Its `config_dir`.
    pub fn etc(&self) -> PathBuf {
        self.dir.path().join("etc")
    }

    /// `cscli -c CONFIG ARGS...` in the namespace.
    pub fn cscli(&self, args: &[&str]) -> Output {
        self.in_netns(
            &self.bin("cscli"),
            &[&["-c", self.config().to_str().unwrap()], args].concat(),
        )
    }

    /// `crowdsec -c CONFIG -t` in the namespace: whether it accepts the configuration as it is.
    pub fn test_config(&self) -> Output {
        self.in_netns(
            &self.bin("crowdsec"),
            &["-c", self.config().to_str().unwrap(), "-t"],
        )
    }

    fn in_netns(&self, program: &Path, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.netns])
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// `cscli decision add ...ARGS --type ban --duration 4h`.
    pub fn ban(&self, args: &[&str]) {
        let out = self.cscli(
            &[
                &["decisions", "add"],
                args,
                &["--type", "ban", "--duration", "4h", "--reason", "cfba test"],
            ]
            .concat(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The values of the decisions in force (`Ip:ADDR`, `Range:CIDR`), sorted.
    pub fn decisions(&self) -> Vec<String> {
        let out = self.cscli(&["decisions", "list", "-a", "-o", "json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let alerts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut values: Vec<String> = alerts
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|a| a["decisions"].as_array().cloned().unwrap_or_default())
            .map(|d| {
                format!(
                    "{}:{}",
                    d["scope"].as_str().unwrap(),
                    d["value"].as_str().unwrap()
                )
            })
            .collect();
        values.sort();
        values
    }

    /// Every file under the configuration directory with its content (a symlink as its
    /// target), to compare before and after.
    pub fn tree(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let path = e.unwrap().path();
                let meta = std::fs::symlink_metadata(&path).unwrap();
                if meta.is_dir() {
                    walk(&path, out);
                } else if meta.file_type().is_symlink() {
                    let target = std::fs::read_link(&path).unwrap();
                    out.insert(path, target.into_os_string().into_encoded_bytes());
                } else {
                    out.insert(path.clone(), std::fs::read(&path).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.etc(), &mut out);
        out
    }

    /// Runs the cf-ban-audit binary in the namespace, in a private mount namespace whose
    /// `/usr/bin` holds the package's `cscli` and `crowdsec` over the host's (and no
    /// `fail2ban-client`).
    pub fn run_in(&self, args: &[&str]) -> Output {
        let lower = format!(
            "lowerdir={}:{}:/usr/bin",
            self.dir.path().join("root/usr/bin").display(),
            self.dir.path().join("hide").display()
        );
        Command::new("ip")
            .args(["netns", "exec", &self.netns])
            .args(["unshare", "--mount", "--propagation", "private", "sh", "-c"])
            .arg("mount -t overlay cfba-crowdsec -o \"$1\" /usr/bin && shift && exec \"$@\"")
            .args(["sh", &lower, env!("CARGO_BIN_EXE_cf-ban-audit")])
            .args(args)
            .env("CF_BAN_AUDIT_CACHE", NO_CACHE)
            .current_dir(root())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

impl Drop for Crowdsec {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
