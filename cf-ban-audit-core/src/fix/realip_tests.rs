//! Tests of the real-IP steps.

use super::*;
use crate::cloudflare::embedded;
use crate::report::Diagnosis;
use crate::RangesInfo;

fn report(diagnoses: &[(DiagnosisKind, &str, &str)]) -> Report {
    let mut r = Report::new(
        None,
        chrono::NaiveDateTime::default(),
        RangesInfo::new("cf", 1, 1),
    );
    r.diagnoses = diagnoses
        .iter()
        .map(|(kind, subject, evidence)| {
            Diagnosis::new(*kind, *subject, vec![evidence.to_string()], "fix")
        })
        .collect();
    r
}

const NOT: DiagnosisKind = DiagnosisKind::RealIpNotRestored;

/// A main configuration file `name` with its include directory `sub`, in a new directory.
fn tree(name: &str, sub: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join(name);
    std::fs::write(&main, "# main\n").unwrap();
    std::fs::create_dir(dir.path().join(sub)).unwrap();
    (dir, main)
}

fn nginx_options(main: &Path) -> PlanOptions {
    PlanOptions {
        nginx_conf: Some(main.to_path_buf()),
        ..Default::default()
    }
}

#[test]
fn nginx_gets_the_realip_snippet_checked_by_nginx_t_then_a_reload() {
    let cf = embedded();
    let (dir, main) = tree("nginx.conf", "conf.d");
    let r = report(&[(
        NOT,
        "nginx",
        "access.log: 3 of 3 clients are Cloudflare edges",
    )]);
    let (steps, left) = realip_steps(&r, &nginx_options(&main), &cf).unwrap();
    assert!(left.is_empty(), "{left:?}");
    let [Step::WriteConfig {
        tool,
        path,
        exists,
        check,
        check_names_file,
        content,
        ..
    }, Step::Reload { argv, .. }] = steps.as_slice()
    else {
        panic!("{steps:?}")
    };
    assert_eq!(*tool, Tool::NginxLimit);
    assert_eq!(path, &dir.path().join("conf.d").join(NGINX_FILE));
    assert!(!exists && *check_names_file);
    assert_eq!(content, &Target::NginxRealip.generate(&cf));
    let main_text = main.display().to_string();
    assert_eq!(check, &["nginx", "-T", "-c", main_text.as_str()]);
    assert_eq!(argv, &["nginx", "-c", main_text.as_str(), "-s", "reload"]);
    // Once there with that content, nothing more to do.
    std::fs::write(path, content).unwrap();
    assert!(realip_steps(&r, &nginx_options(&main), &cf)
        .unwrap()
        .0
        .is_empty());
}

#[test]
fn a_configuration_that_trusts_every_range_needs_nothing() {
    let cf = embedded();
    let (_dir, main) = tree("nginx.conf", "conf.d");
    let complete =
        format!("nginx real-IP configuration (/etc/nginx/conf.d/cf.conf) {CONFIG_COMPLETE}");
    let r = report(&[
        (NOT, "nginx: /var/log/nginx/access.log", "old records"),
        (
            DiagnosisKind::RealIpRestored,
            "nginx: /etc/nginx/conf.d/cf.conf",
            &complete,
        ),
    ]);
    let (steps, left) = realip_steps(&r, &nginx_options(&main), &cf).unwrap();
    assert!(steps.is_empty() && left.is_empty(), "{steps:?} {left:?}");
    // Restored addresses alone say nothing about the configuration: no diagnosis, no step.
    let r = report(&[(DiagnosisKind::RealIpRestored, "nginx", "peer and client")]);
    assert!(realip_steps(&r, &nginx_options(&main), &cf)
        .unwrap()
        .0
        .is_empty());
}

#[test]
fn a_configuration_with_problems_is_named_in_a_warning() {
    let cf = embedded();
    let (_dir, main) = tree("nginx.conf", "conf.d");
    let r = report(&[(
        NOT,
        "nginx",
        "nginx real-IP configuration (/etc/nginx/conf.d/old.conf): real_ip_header x-real-ip: ...",
    )]);
    let (steps, _) = realip_steps(&r, &nginx_options(&main), &cf).unwrap();
    let Step::WriteConfig { warnings, .. } = &steps[0] else {
        panic!("{steps:?}")
    };
    assert!(warnings[0].contains("old.conf"), "{warnings:?}");
    assert!(
        warnings[0].contains("a second real_ip_header"),
        "{warnings:?}"
    );
}

#[test]
fn a_missing_configuration_is_left_for_a_person_with_the_snippet() {
    let cf = embedded();
    let dir = tempfile::tempdir().unwrap();
    let options = PlanOptions {
        nginx_conf: Some(dir.path().join("nginx.conf")),
        apache_conf: Some(dir.path().join("apache2.conf")),
        ..Default::default()
    };
    let r = report(&[(NOT, "nginx", "e"), (NOT, "apache", "e")]);
    let (steps, left) = realip_steps(&r, &options, &cf).unwrap();
    assert!(steps.is_empty(), "{steps:?}");
    let commands: Vec<Option<&str>> = left.iter().map(|l| l.command.as_deref()).collect();
    assert_eq!(
        commands,
        [
            Some("cf-ban-audit snippet nginx-realip"),
            Some("cf-ban-audit snippet apache-remoteip")
        ]
    );
    assert!(left[0].why.contains("nginx.conf is not there"), "{left:?}");
    // The main file without its include directory.
    std::fs::write(dir.path().join("nginx.conf"), "").unwrap();
    let (_, left) = realip_steps(&r, &options, &cf).unwrap();
    assert!(left[0].why.contains("conf.d is not there"), "{left:?}");
}

#[test]
fn apache_gets_mod_remoteip_loaded_and_checked_by_dump_includes() {
    let cf = embedded();
    let (dir, main) = tree("apache2.conf", "conf-enabled");
    let options = PlanOptions {
        apache_conf: Some(main.clone()),
        ..Default::default()
    };
    // Evidence of no known server is the named server's.
    let r = report(&[(NOT, "web server", "e")]);
    let (steps, left) = realip_steps(&r, &options, &cf).unwrap();
    assert!(left.is_empty(), "{left:?}");
    let [Step::WriteConfig {
        tool,
        path,
        check,
        content,
        warnings,
        ..
    }, Step::Reload { argv, .. }] = steps.as_slice()
    else {
        panic!("{steps:?}")
    };
    assert_eq!(*tool, Tool::ModEvasive);
    assert_eq!(path, &dir.path().join("conf-enabled").join(APACHE_FILE));
    assert!(content.starts_with("# mod_remoteip"), "{content}");
    assert!(content.contains("<IfModule !remoteip_module>\n    LoadModule remoteip_module "));
    assert!(content.ends_with(&Target::ApacheRemoteip.generate(&cf)));
    let m = main.display().to_string();
    assert_eq!(
        check,
        &["apache2ctl", "-f", m.as_str(), "-t", "-D", "DUMP_INCLUDES"]
    );
    assert_eq!(argv, &["apache2ctl", "-f", m.as_str(), "-k", "graceful"]);
    assert!(warnings[0].contains("which web server"), "{warnings:?}");
}

#[test]
fn a_planned_realip_file_is_the_prevention_of_the_servers_own_bans() {
    let cf = embedded();
    let (_dir, main) = tree("nginx.conf", "conf.d");
    let mut r = report(&[(NOT, "nginx", "e")]);
    let mut f = crate::Finding::new(
        "173.245.49.12/32".parse().unwrap(),
        "173.245.48.0/20".parse().unwrap(),
        Tool::NginxLimit,
        crate::Format::NginxError,
        "zone",
    );
    f.active = true;
    r.findings.push(f);
    let p = super::super::plan::plan(&r, &cf, &nginx_options(&main)).unwrap();
    assert!(p.steps.iter().any(|s| matches!(
        s,
        Step::WriteConfig {
            tool: Tool::NginxLimit,
            ..
        }
    )));
    // The ban itself (no lift command) is left; no "add the snippet" beside the write.
    assert!(
        p.left_for_person
            .iter()
            .all(|l| l.address.is_some() && l.command.is_none()),
        "{:?}",
        p.left_for_person
    );
}
