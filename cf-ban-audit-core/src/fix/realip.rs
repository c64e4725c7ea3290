//! The real-IP steps of `fix`: when the scan diagnoses that nginx (or Apache) passes
//! Cloudflare's address on instead of the visitor's (`real-ip-not-restored`), a configuration
//! file that restores it from `CF-Connecting-IP`, trusting only the ranges in use, then the
//! server's reload. Every tool that acts on the address the web server gives it (limit_req,
//! mod_evasive, ModSecurity, btwaf, a fail2ban jail on its log) then sees visitors.
//!
//! - **nginx**: `conf.d/cf-ban-audit-realip.conf` beside the main configuration file
//!   (`--nginx-conf`, default `/etc/nginx/nginx.conf`, whose `http {}` block Debian's package
//!   has include `/etc/nginx/conf.d/*.conf`), holding the `nginx-realip` snippet
//!   (`set_real_ip_from` per range, `real_ip_header CF-Connecting-IP`). Checked by `nginx -T`
//!   (`-c FILE` when named), which prints `# configuration file PATH:` for every file it
//!   reads: the new file must be among them, so a conf.d nginx does not include is never
//!   written. nginx rejects a second `real_ip_header` at the same level ("is duplicate"), so a
//!   conflicting configuration elsewhere leaves the file unwritten, with nginx's words.
//! - **Apache**: `conf-enabled/cf-ban-audit-remoteip.conf` beside the main configuration file
//!   (`--apache-conf`, default `/etc/apache2/apache2.conf`, which Debian's package has
//!   `IncludeOptional conf-enabled/*.conf`), holding `LoadModule remoteip_module` inside
//!   `<IfModule !remoteip_module>` and the `apache-remoteip` snippet. The file is written in
//!   `conf-enabled` itself as a regular file, not in `conf-available` with an `a2enconf`
//!   symlink: a fix writes regular files only (a symlink is one more thing to plant and to
//!   undo), and Apache reads either alike; `a2disconf` does not manage it, `fix --undo`
//!   removes it. Checked by `apache2ctl -t -D DUMP_INCLUDES` (`-f FILE` when named; Debian's
//!   `apache2ctl` passes every argument it does not know to `apache2`, after reading
//!   `/etc/apache2/envvars`), which lists every file Apache reads.
//! - The reload: `systemctl reload nginx` / `apache2` where systemd runs and the server is
//!   the system's (no `--nginx-conf`/`--apache-conf`: the unit runs the default file);
//!   otherwise the server's own signal, `nginx [-c FILE] -s reload` / `apache2ctl [-f FILE] -k
//!   graceful`.
//! - Evidence of no known web server (a log whose path names none) is taken as the named
//!   server's (`--nginx-conf`, `--apache-conf`), or the only one installed; otherwise no
//!   file is written for it.
//! - Nothing is planned when the scan read a real-IP configuration of that server that trusts
//!   every range with a header Cloudflare sets, or when the file is there with the snippet's
//!   content already. A missing main configuration file (or its include directory) is left
//!   for a person, with the snippet to add.

use std::path::{Path, PathBuf};

use super::plan::{read_text, LeftForPerson, PlanOptions, Step};
use crate::diagnose::CONFIG_COMPLETE;
use crate::report::DiagnosisKind;
use crate::snippet::Target;
use crate::{RangeSet, Report, Tool};

/// The name of nginx's file, in `conf.d`.
pub const NGINX_FILE: &str = "cf-ban-audit-realip.conf";
/// The name of Apache's file, in `conf-enabled`.
pub const APACHE_FILE: &str = "cf-ban-audit-remoteip.conf";
/// Where Debian's package puts mod_remoteip.
const REMOTEIP_MODULE: &str = "/usr/lib/apache2/modules/mod_remoteip.so";

/// One web server, as `fix` configures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    Nginx,
    Apache,
}

impl Server {
    /// The name diagnoses give it.
    fn name(self) -> &'static str {
        match self {
            Server::Nginx => "nginx",
            Server::Apache => "apache",
        }
    }

    /// The tool whose bans of Cloudflare its real-IP configuration prevents (nginx's
    /// limit_req, Apache's mod_evasive: the per-address limits of the server itself).
    fn tool(self) -> Tool {
        match self {
            Server::Nginx => Tool::NginxLimit,
            Server::Apache => Tool::ModEvasive,
        }
    }

    /// The snippet it takes.
    fn target(self) -> Target {
        match self {
            Server::Nginx => Target::NginxRealip,
            Server::Apache => Target::ApacheRemoteip,
        }
    }

    /// Its main configuration file, and whether the user named it.
    fn main_conf(self, options: &PlanOptions) -> (PathBuf, bool) {
        let (named, default) = match self {
            Server::Nginx => (&options.nginx_conf, "/etc/nginx/nginx.conf"),
            Server::Apache => (&options.apache_conf, "/etc/apache2/apache2.conf"),
        };
        match named {
            // The check's output names files by absolute path.
            Some(p) => (std::path::absolute(p).unwrap_or_else(|_| p.clone()), true),
            None => (PathBuf::from(default), false),
        }
    }

    /// The directory beside the main file that it includes, and the file `fix` writes there.
    fn file(self, main: &Path) -> (PathBuf, PathBuf) {
        let (dir, name) = match self {
            Server::Nginx => ("conf.d", NGINX_FILE),
            Server::Apache => ("conf-enabled", APACHE_FILE),
        };
        let dir = main.parent().unwrap_or(Path::new("/")).join(dir);
        let file = dir.join(name);
        (dir, file)
    }

    /// The content of the file.
    fn content(self, ranges: &RangeSet) -> String {
        let snippet = self.target().generate(ranges);
        match self {
            Server::Nginx => snippet,
            Server::Apache => format!(
                "# mod_remoteip, unless the server loads it already (a2enmod remoteip).\n\
                 <IfModule !remoteip_module>\n    LoadModule remoteip_module {REMOTEIP_MODULE}\n\
                 </IfModule>\n{snippet}"
            ),
        }
    }

    /// The check that must accept the configuration and name every file it reads.
    fn check(self, main: &Path, named: bool) -> Vec<String> {
        let main = main.display().to_string();
        let words: Vec<&str> = match (self, named) {
            (Server::Nginx, false) => vec!["nginx", "-T"],
            (Server::Nginx, true) => vec!["nginx", "-T", "-c", &main],
            (Server::Apache, false) => vec!["apache2ctl", "-t", "-D", "DUMP_INCLUDES"],
            (Server::Apache, true) => {
                vec!["apache2ctl", "-f", &main, "-t", "-D", "DUMP_INCLUDES"]
            }
        };
        words.into_iter().map(String::from).collect()
    }

    /// The reload: systemd's for the system's server, else the server's own.
    fn reload(self, main: &Path, named: bool) -> Vec<String> {
        let main = main.display().to_string();
        let systemd = Path::new("/run/systemd/system").is_dir();
        let words: Vec<&str> = match (self, named, systemd) {
            (Server::Nginx, false, true) => vec!["systemctl", "reload", "nginx"],
            (Server::Apache, false, true) => vec!["systemctl", "reload", "apache2"],
            (Server::Nginx, false, false) => vec!["nginx", "-s", "reload"],
            (Server::Apache, false, false) => vec!["apache2ctl", "graceful"],
            (Server::Nginx, true, _) => vec!["nginx", "-c", &main, "-s", "reload"],
            // `apache2ctl graceful` takes no other argument: with `-f` it hands the words
            // to `apache2`, which takes `-k graceful`.
            (Server::Apache, true, _) => vec!["apache2ctl", "-f", &main, "-k", "graceful"],
        };
        words.into_iter().map(String::from).collect()
    }
}

/// What the diagnoses say about `server`: whether its addresses are not restored, and the
/// evidence lines about its real-IP configuration (a configuration that needs a look).
fn diagnosed(report: &Report, server: Server) -> (bool, bool, Vec<String>) {
    let mut not_restored = false;
    let mut complete = false;
    let mut config_lines = Vec::new();
    for d in &report.diagnoses {
        let subject = d.subject.split(':').next().unwrap_or("");
        // A subject of no known server ("web server"): the evidence did not say which.
        if subject != server.name() && subject != "web server" {
            continue;
        }
        match d.kind {
            DiagnosisKind::RealIpNotRestored => {
                not_restored = true;
                config_lines.extend(
                    d.evidence
                        .iter()
                        .filter(|e| e.contains("real-IP configuration ("))
                        .cloned(),
                );
            }
            DiagnosisKind::RealIpRestored if subject == server.name() => {
                complete |= d.evidence.iter().any(|e| e.contains(CONFIG_COMPLETE));
            }
            _ => {}
        }
    }
    (not_restored, complete, config_lines)
}

/// Whether `server` is the one web server whose main configuration file is there, and none
/// is named.
fn only_installed(server: Server, options: &PlanOptions) -> bool {
    let none_named = options.nginx_conf.is_none() && options.apache_conf.is_none();
    let installed = |s: Server| s.main_conf(options).0.is_file();
    let other = match server {
        Server::Nginx => Server::Apache,
        Server::Apache => Server::Nginx,
    };
    none_named && installed(server) && !installed(other)
}

/// The real-IP steps for `report`: per web server whose visitor addresses are not restored,
/// the write of its real-IP file and its reload, or what is left for a person.
///
/// Errors name a file that could not be read.
pub(crate) fn realip_steps(
    report: &Report,
    options: &PlanOptions,
    ranges: &RangeSet,
) -> Result<(Vec<Step>, Vec<LeftForPerson>), String> {
    let mut steps = Vec::new();
    let mut left = Vec::new();
    for server in [Server::Nginx, Server::Apache] {
        let (not_restored, complete, config_lines) = diagnosed(report, server);
        if !not_restored || complete {
            continue;
        }
        let (main, named) = server.main_conf(options);
        let (dir, path) = server.file(&main);
        let unknown = report
            .diagnoses
            .iter()
            .all(|d| d.subject.split(':').next() != Some(server.name()));
        // Evidence of no known server: only the server named, or the only one installed.
        if unknown && !named && !only_installed(server, options) {
            continue;
        }
        if !main.is_file() || !dir.is_dir() {
            // Evidence of no known server does not make a missing one worth a word.
            if !unknown {
                left.push(LeftForPerson {
                    tool: server.tool(),
                    scope: None,
                    address: None,
                    why: format!(
                        "{} does not restore visitor addresses, and {} is not there: add the \
                         snippet where {} reads it (or name its configuration with --{}-conf \
                         FILE)",
                        server.name(),
                        if main.is_file() { &dir } else { &main }.display(),
                        server.name(),
                        server.name()
                    ),
                    command: Some(format!("cf-ban-audit snippet {}", server.target().name())),
                });
            }
            continue;
        }
        let content = server.content(ranges);
        let (existing, exists) = read_text(&path)?;
        if exists && existing == content {
            continue;
        }
        let mut warnings: Vec<String> = config_lines
            .into_iter()
            .map(|line| {
                format!(
                    "{line}; a second {} at the same level is rejected by the check: merge the \
                     ranges into that file instead (cf-ban-audit snippet {})",
                    match server {
                        Server::Nginx => "real_ip_header",
                        Server::Apache => "RemoteIPHeader",
                    },
                    server.target().name()
                )
            })
            .collect();
        if unknown {
            warnings.push(format!(
                "the evidence does not say which web server it is about; {} is installed here",
                server.name()
            ));
        }
        steps.push(Step::WriteConfig {
            tool: server.tool(),
            exists,
            purpose: format!(
                "the Cloudflare ranges as trusted proxies, the visitor address from \
                 CF-Connecting-IP ({} {})",
                server.name(),
                match server {
                    Server::Nginx => "realip",
                    Server::Apache => "mod_remoteip",
                }
            ),
            check: server.check(&main, named),
            check_names_file: true,
            warnings,
            content,
            path,
        });
        steps.push(Step::Reload {
            tool: server.tool(),
            argv: server.reload(&main, named),
        });
    }
    Ok((steps, left))
}

#[cfg(test)]
#[path = "realip_tests.rs"]
mod tests;
