//! `cf-ban-audit fix` adds a web server's real-IP configuration when the scan diagnoses that
//! visitor addresses are not restored: a real nginx (and a real Apache) in the 521 topology's
//! origin namespace, without realip, its access log naming the Cloudflare edge as the client.
//! The plan changes nothing; a new file the server's own check rejects is not written (the
//! tree stays byte-identical): for nginx a planted conflicting `real_ip_header` (`nginx -T`:
//! "is duplicate"), for Apache a main file that no longer includes `conf-enabled` (`apache2ctl
//! -t -D DUMP_INCLUDES` does not name the new file); `--apply --yes` writes the file, the
//! server accepts it and reloads, and a request from the edge with `CF-Connecting-IP` is
//! logged as the visitor; `--undo` removes the file. fail2ban runs beside them with a
//! `jail.local` that already ignores the ranges (the live read asks it; nothing to write).
//! Without root or the programs it prints `SKIP:` (with `CI` set it fails instead).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::*;

/// The visitor behind the edge.
const VISITOR: &str = "203.0.113.7";

/// Every file under `dir` with its bytes (the configuration tree).
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(tree(&path));
        } else {
            files.insert(path.clone(), std::fs::read(&path).unwrap());
        }
    }
    files
}

/// The last client address of an access log.
fn last_client(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines()
        .last()
        .and_then(|l| l.split(' ').next())
        .map(String::from)
}

/// The topology, fail2ban ignoring the ranges, and a directory of the server's own whose
/// name says which server it is (as /var/log/nginx does).
struct Lab {
    // Dropped in this order: fail2ban stops inside its namespace before the namespace goes.
    f2b: Fail2ban,
    topo: Topology,
    dir: tempfile::TempDir,
    elsewhere: TestEnv,
}

impl Lab {
    fn start(what: &str, server: &str, program: &str) -> Option<Lab> {
        let programs = ["ip", program, "curl", "fail2ban-client"];
        require(
            what,
            &programs,
            &format!("apt-get install {program} curl fail2ban"),
        )?;
        let topo = Topology::new(&format!("fr{}", &server[..1]), &[])?;
        let ignoring = run(&["snippet", "fail2ban"]);
        assert_eq!(code(&ignoring), 0, "{}", stderr(&ignoring));
        let f2b = Fail2ban::start_in(what, &topo.origin.0, Fail2banDb::Memory, &[], |_| {
            stdout(&ignoring)
        })?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("cfba-{server}-realip-"))
            .tempdir()
            .unwrap();
        Some(Lab {
            topo,
            f2b,
            dir,
            elsewhere: TestEnv::new(),
        })
    }

    fn prefix(&self) -> &Path {
        self.dir.path()
    }

    /// Requests from the edge with the visitor's header, once the server answers.
    fn requests(&self, n: usize) {
        let url = format!("http://{ORIGIN_V4}/");
        let header = format!("CF-Connecting-IP: {VISITOR}");
        for _ in 0..n {
            let up = wait_until(Duration::from_secs(5), || {
                let (rc, status, _) = self.topo.edge_curl(&url, &["-H", &header]);
                (rc == 0 && status == "200").then_some(())
            });
            assert!(up.is_some(), "the edge reaches {url}");
        }
    }

    /// `fix --CONF_OPTION CONF ... PREFIX EXTRA` in the origin namespace, printed.
    fn fix(&self, conf_option: &str, conf: &Path, extra: &[&str]) -> Output {
        let absent = self.elsewhere.path().join("absent");
        let words = [
            conf.display().to_string(),
            self.f2b.conf().display().to_string(),
            self.f2b.socket().display().to_string(),
            absent.display().to_string(),
            self.prefix().display().to_string(),
        ];
        let [conf, f2b, socket, absent, prefix] = words.each_ref().map(String::as_str);
        let mut args = vec![
            "fix",
            conf_option,
            conf,
            "--fail2ban-config",
            f2b,
            "--fail2ban-socket",
            socket,
            "--csf-dir",
            absent,
            "--btwaf-dir",
            absent,
        ];
        args.extend_from_slice(extra);
        args.push(prefix);
        let out = run_in(&self.topo.origin.0, &args, &[]);
        eprintln!(
            "fix {extra:?}: exit {:?}\n{}{}",
            out.status.code(),
            stdout(&out),
            stderr(&out)
        );
        out
    }

    fn journal(&self, name: &str) -> String {
        self.elsewhere.path().join(name).display().to_string()
    }

    /// Applies the fix: the file written, the server reloaded, the visitor logged; then undoes
    /// it: the tree of `dir` is `before` again.
    fn apply_and_undo(&self, option: &str, conf: &Path, written: &Path, snippet_of: &str) {
        let journal = self.journal("fix.jsonl");
        let applied = self.fix(option, conf, &["--apply", "--yes", "--journal", &journal]);
        assert_eq!(code(&applied), 0, "{}", stdout(&applied));
        let content = std::fs::read_to_string(written).unwrap();
        assert!(
            content.ends_with(&stdout(&run(&["snippet", snippet_of]))),
            "{content}"
        );
        let log = self.prefix().join("access.log");
        let restored = wait_until(Duration::from_secs(10), || {
            self.requests(1);
            (last_client(&log).as_deref() == Some(VISITOR)).then_some(())
        });
        assert!(
            restored.is_some(),
            "after the reload the visitor is logged: {:?}",
            last_client(&log)
        );
        let undo = run(&["fix", "--undo", &journal]);
        assert_eq!(code(&undo), 0, "{}{}", stdout(&undo), stderr(&undo));
        assert!(!written.exists());
    }
}

/// The plan names the write, its check and the reload, and changes nothing.
fn plan_only(lab: &Lab, option: &str, conf: &Path, want: &[String]) {
    let dir = lab.prefix();
    let before = tree(dir);
    let plan = lab.fix(option, conf, &[]);
    assert_eq!(code(&plan), 1);
    let text = stdout(&plan);
    for w in want {
        assert!(text.contains(w.as_str()), "{w:?} in\n{text}");
    }
    assert_eq!(tree(dir), before, "the plan changes nothing");
}

#[test]
fn fix_adds_nginx_realip_checked_by_nginx_reloads_and_undoes() {
    let Some(lab) = Lab::start("fix nginx realip", "nginx", "nginx") else {
        return;
    };
    let prefix = lab.prefix();
    let conf_d = prefix.join("conf.d");
    std::fs::create_dir(&conf_d).unwrap();
    let server = format!(
        "include PREFIX/conf.d/*.conf;\n  server {{ listen {ORIGIN_V4}:80; \
         location / {{ return 200 \"origin\\n\"; }} }}"
    );
    let nginx = Nginx::start(&lab.topo.origin, prefix, &server);
    let conf = prefix.join("nginx.conf");
    let c = conf.display();
    lab.requests(3);
    // Without realip the edge is the client, header or not.
    assert_eq!(
        last_client(&prefix.join("access.log")).as_deref(),
        Some(EDGE_V4)
    );
    let written = conf_d.join("cf-ban-audit-realip.conf");
    plan_only(
        &lab,
        "--nginx-conf",
        &conf,
        &[
            format!("write   {} (new)", written.display()),
            format!("nginx -T -c {c} first"),
            format!("reload  nginx-limit: nginx -c {c} -s reload"),
        ],
    );

    // A conflicting real_ip_header elsewhere: nginx -T rejects the new file, nothing is
    // written and nginx is not reloaded.
    let planted = conf_d.join("00-old-realip.conf");
    std::fs::write(&planted, "real_ip_header X-Real-IP;\n").unwrap();
    let before = tree(&conf_d);
    let journal = lab.journal("rejected.jsonl");
    let rejected = lab.fix(
        "--nginx-conf",
        &conf,
        &["--apply", "--yes", "--journal", &journal],
    );
    assert_eq!(code(&rejected), 1);
    let text = stdout(&rejected);
    assert!(
        text.contains("\"real_ip_header\" directive is duplicate")
            && text.contains("skipped: the configuration was not written"),
        "{text}"
    );
    assert_eq!(tree(&conf_d), before, "the tree is byte-identical");
    std::fs::remove_file(&planted).unwrap();

    let before = tree(&conf_d);
    lab.apply_and_undo("--nginx-conf", &conf, &written, "nginx-realip");
    assert_eq!(tree(&conf_d), before);
    drop(nginx);
}

/// A private Apache (`apache2 -f CONF`), stopped when dropped.
struct Apache {
    conf: PathBuf,
    pid: PathBuf,
}

impl Apache {
    /// The main file of a private Apache under `prefix`, listening on the origin's address,
    /// logging `%a` in the combined layout; `include` adds `IncludeOptional conf-enabled`.
    fn conf_text(prefix: &Path, include: bool) -> String {
        let p = prefix.display();
        let modules = "/usr/lib/apache2/modules";
        format!(
            "ServerRoot {p}\nDefaultRuntimeDir {p}\nPidFile {p}/apache2.pid\nErrorLog {p}/error.log\n\
             ServerName origin\nListen {ORIGIN_V4}:80\n\
             LoadModule mpm_event_module {modules}/mod_mpm_event.so\n\
             LoadModule authz_core_module {modules}/mod_authz_core.so\n\
             LoadModule dir_module {modules}/mod_dir.so\nUser www-data\nGroup www-data\n\
             LogFormat \"%a %l %u %t \\\"%r\\\" %>s %O \\\"%{{Referer}}i\\\" \\\"%{{User-Agent}}i\\\"\" combined\n\
             CustomLog {p}/access.log combined\nDocumentRoot {p}/www\n\
             <Directory {p}/www>\n    Require all granted\n</Directory>\n{}",
            if include {
                "IncludeOptional conf-enabled/*.conf\n"
            } else {
                ""
            }
        )
    }

    fn start(ns: &Netns, prefix: &Path) -> Apache {
        use std::os::unix::fs::PermissionsExt;
        // Apache's children do not run as root: they read the document root.
        std::fs::set_permissions(prefix, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir(prefix.join("www")).unwrap();
        std::fs::write(prefix.join("www/index.html"), "origin\n").unwrap();
        std::fs::create_dir(prefix.join("conf-enabled")).unwrap();
        let conf = prefix.join("apache2.conf");
        std::fs::write(&conf, Apache::conf_text(prefix, true)).unwrap();
        ns.exec(&["apache2", "-f", conf.to_str().unwrap(), "-k", "start"]);
        let apache = Apache {
            conf,
            pid: prefix.join("apache2.pid"),
        };
        assert!(
            wait_until(Duration::from_secs(10), || apache.pid()).is_some(),
            "Apache wrote no pid file"
        );
        apache
    }

    fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(&self.pid).ok()?.trim().parse().ok()
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .output();
            wait_until(Duration::from_secs(5), || {
                (!Path::new(&format!("/proc/{pid}")).exists()).then_some(())
            });
        }
    }
}

#[test]
fn fix_adds_apache_remoteip_checked_by_apache2ctl_reloads_and_undoes() {
    let Some(lab) = Lab::start("fix Apache remoteip", "apache", "apache2") else {
        return;
    };
    if !Path::new("/usr/lib/apache2/modules/mod_remoteip.so").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "required in CI: mod_remoteip"
        );
        skip("fix Apache remoteip: needs mod_remoteip (apt-get install apache2)");
        return;
    }
    let prefix = lab.prefix();
    let apache = Apache::start(&lab.topo.origin, prefix);
    let conf = apache.conf.clone();
    let c = conf.display();
    lab.requests(3);
    assert_eq!(
        last_client(&prefix.join("access.log")).as_deref(),
        Some(EDGE_V4)
    );
    let conf_enabled = prefix.join("conf-enabled");
    let written = conf_enabled.join("cf-ban-audit-remoteip.conf");
    plan_only(
        &lab,
        "--apache-conf",
        &conf,
        &[
            format!("write   {} (new)", written.display()),
            format!("apache2ctl -f {c} -t -D DUMP_INCLUDES first"),
            format!("reload  mod_evasive: apache2ctl -f {c} -k graceful"),
        ],
    );

    // A main file that does not include conf-enabled: Apache would never read the new file,
    // so it is not written.
    let with_include = std::fs::read(&conf).unwrap();
    std::fs::write(&conf, Apache::conf_text(prefix, false)).unwrap();
    let before = tree(prefix);
    let journal = lab.journal("rejected.jsonl");
    let rejected = lab.fix(
        "--apache-conf",
        &conf,
        &["--apply", "--yes", "--journal", &journal],
    );
    assert_eq!(code(&rejected), 1);
    let text = stdout(&rejected);
    assert!(
        text.contains(&format!("does not read {}", written.display()))
            && text.contains("skipped: the configuration was not written"),
        "{text}"
    );
    // The scan and the check write nothing but the logs they read.
    let conf_files = |t: BTreeMap<PathBuf, Vec<u8>>| -> BTreeMap<PathBuf, Vec<u8>> {
        t.into_iter()
            .filter(|(p, _)| !p.ends_with("access.log") && !p.ends_with("error.log"))
            .collect()
    };
    assert_eq!(conf_files(tree(prefix)), conf_files(before));
    std::fs::write(&conf, with_include).unwrap();

    let before = tree(&conf_enabled);
    lab.apply_and_undo("--apache-conf", &conf, &written, "apache-remoteip");
    assert_eq!(tree(&conf_enabled), before);
    drop(apache);
}
