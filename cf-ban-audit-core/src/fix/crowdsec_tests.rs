//! Tests of CrowdSec's steps.

use super::*;
use crate::cloudflare::embedded;
use std::fs;

/// Debian 12's `config.yaml`, its `config_paths` block.
const DEBIAN: &str = "common:
  daemonize: true
  log_dir: /var/log/
config_paths:
  config_dir: /etc/crowdsec/
  data_dir: /var/lib/crowdsec/data/
  hub_dir: /var/lib/crowdsec/hub/ # the hub
crowdsec_service:
  acquisition_path: /etc/crowdsec/acquis.yaml
";

#[test]
fn config_dir_is_read_from_the_config_paths_block_only() {
    assert_eq!(
        config_paths_value(DEBIAN, "config_dir").unwrap().as_deref(),
        Some("/etc/crowdsec/")
    );
    assert_eq!(
        config_paths_value(DEBIAN, "hub_dir").unwrap().as_deref(),
        Some("/var/lib/crowdsec/hub/")
    );
    // Quoted, with a comment; a deeper key of the same name and one in another block are not it.
    let text = "api:\n  config_dir: /nope\nconfig_paths:\n  # x\n  config_dir: \"/srv/cs\" # here\n  nested:\n    config_dir: /deeper\n";
    assert_eq!(
        config_paths_value(text, "config_dir").unwrap().as_deref(),
        Some("/srv/cs")
    );
    assert_eq!(
        config_paths_value("common:\n  a: b\n", "config_dir").unwrap(),
        None
    );
    assert!(config_paths_value("config_paths: {config_dir: /x}\n", "config_dir").is_err());
    assert!(config_paths_value(
        "config_paths:\n  config_dir: /a\n  config_dir: /b\n",
        "config_dir"
    )
    .is_err());
}

/// A CrowdSec configuration directory with `config.yaml` (its `config_dir` line as given) and
/// an enrich stage.
fn lab(config_dir_line: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    let line = config_dir_line.replace("DIR", &dir.path().display().to_string());
    fs::write(&config, format!("config_paths:\n{line}\n  data_dir: /x/\n")).unwrap();
    fs::create_dir_all(dir.path().join("parsers/s02-enrich")).unwrap();
    (dir, config)
}

#[test]
fn the_whitelist_is_planned_checked_by_crowdsec_t_and_its_reload_left_for_a_person() {
    let cf = embedded();
    let (dir, config) = lab("  config_dir: DIR/");
    let (steps, left) = whitelist_steps(&config, &cf).unwrap();
    let path = dir.path().join("parsers/s02-enrich").join(WHITELIST_FILE);
    let Step::WriteConfig {
        tool,
        path: written,
        exists,
        check,
        check_names_file,
        content,
        ..
    } = &steps[0]
    else {
        panic!("{steps:?}")
    };
    assert_eq!((*tool, written, *exists), (Tool::Crowdsec, &path, false));
    assert_eq!(
        check,
        &["crowdsec", "-c", &config.display().to_string(), "-t"]
    );
    assert!(!check_names_file);
    assert!(content.contains("whitelist:\n  reason: \"Cloudflare edge\"\n  cidr:\n"));
    assert!(check::check_text(&path, content, &cf).missing.is_empty());
    // Not the system's configuration: no systemctl reload, a person's.
    assert_eq!(steps.len(), 1);
    assert_eq!(left.len(), 1);
    assert!(left[0].why.contains("reload"), "{left:?}");
    // Once in place, nothing more to do; a stale file is merged.
    fs::write(&path, content).unwrap();
    assert_eq!(
        whitelist_steps(&config, &cf).unwrap(),
        (Vec::new(), Vec::new())
    );
    let stale = "name: local/cf\nwhitelist:\n  reason: cf\n  cidr:\n    - \"173.245.48.0/20\"\n";
    fs::write(&path, stale).unwrap();
    let (steps, _) = whitelist_steps(&config, &cf).unwrap();
    let Step::WriteConfig {
        exists, content, ..
    } = &steps[0]
    else {
        panic!("{steps:?}")
    };
    assert!(*exists);
    assert!(
        content.starts_with("name: local/cf\nwhitelist:\n"),
        "{content}"
    );
    assert!(check::check_text(&path, content, &cf).missing.is_empty());
    // Another whitelist of the stage that applies to every event covers it too; a filtered one
    // does not.
    fs::remove_file(&path).unwrap();
    let other = dir.path().join("parsers/s02-enrich/mine.yaml");
    let all = snippet::crowdsec::generate(&cf);
    fs::write(
        &other,
        format!("filter: \"evt.Meta.service == 'ssh'\"\n{all}"),
    )
    .unwrap();
    assert_eq!(whitelist_steps(&config, &cf).unwrap().0.len(), 1);
    fs::write(&other, &all).unwrap();
    assert_eq!(
        whitelist_steps(&config, &cf).unwrap(),
        (Vec::new(), Vec::new())
    );
}

#[test]
fn a_config_dir_it_cannot_be_sure_of_is_left_for_a_person() {
    let cf = embedded();
    for line in ["  config_dir: ${CS_DIR}/", "  config_dir: etc/crowdsec"] {
        let (_dir, config) = lab(line);
        let (steps, left) = whitelist_steps(&config, &cf).unwrap();
        assert!(steps.is_empty(), "{line}: {steps:?}");
        assert!(
            left[0].why.contains("not a plain absolute path"),
            "{left:?}"
        );
    }
    // The .local patch wins; without config_dir, the configuration's own directory.
    let (dir, config) = lab("  data_dir: /y/");
    assert_eq!(config_dir(&config).unwrap().unwrap(), dir.path());
    fs::write(
        dir.path().join("config.yaml.local"),
        "config_paths:\n  config_dir: /elsewhere/\n",
    )
    .unwrap();
    assert_eq!(
        config_dir(&config).unwrap().unwrap(),
        Path::new("/elsewhere/")
    );
    let (steps, left) = whitelist_steps(&config, &cf).unwrap();
    assert!(steps.is_empty() && left[0].why.contains("/elsewhere/parsers/s02-enrich"));
    assert!(config_dir(&dir.path().join("none.yaml")).is_err());
}

#[test]
fn no_configuration_no_step() {
    let options = PlanOptions {
        crowdsec_config: None,
        ..Default::default()
    };
    if !Path::new(DEFAULT_CONFIG).exists() {
        assert_eq!(
            crowdsec_steps(&options, &embedded()).unwrap(),
            (Vec::new(), Vec::new())
        );
    }
}

fn words(argv: &[String]) -> String {
    argv.join(" ")
}

#[test]
fn the_allowlist_is_created_then_filled_with_what_it_lacks() {
    let cf = embedded();
    let config = Path::new("/etc/crowdsec/config.yaml");
    let (steps, left) = allowlist_steps(config, None, &cf);
    assert!(left.is_empty());
    let all: Vec<String> = cf.nets().iter().map(|n| n.to_string()).collect();
    assert_eq!(
        steps,
        [
            Step::Allow {
                tool: Tool::Crowdsec,
                argv: cscli(
                    config,
                    &[
                        "allowlists",
                        "create",
                        "cloudflare",
                        "-d",
                        "Cloudflare edge (cf-ban-audit)"
                    ]
                ),
                undo: cscli(config, &["allowlists", "delete", "cloudflare"]),
            },
            Step::Allow {
                tool: Tool::Crowdsec,
                argv: [
                    cscli(config, &["allowlists", "add", "cloudflare"]),
                    all.clone(),
                    vec!["-d".into(), "Cloudflare edge".into()]
                ]
                .concat(),
                undo: [cscli(config, &["allowlists", "remove", "cloudflare"]), all].concat(),
            },
        ]
    );
    let Step::Allow { argv, .. } = &steps[1] else {
        unreachable!()
    };
    let line = words(argv);
    assert!(
        line.starts_with("cscli -c /etc/crowdsec/config.yaml allowlists add cloudflare ")
            && line.contains(" 173.245.48.0/20 ")
            && line.contains(" 2400:cb00::/32 ")
            && line.ends_with(" -d Cloudflare edge"),
        "{line}"
    );
    // A list holding some of them: only the rest is added, nothing created.
    let inspect = "name,description,value,comment,expiration,created_at,console_managed\n\
        cloudflare,\"Cloudflare, \"\"edge\"\"\",173.245.48.0/20,,never,2026-12-03T19:00:00Z,false\n\
        cloudflare,\"Cloudflare, \"\"edge\"\"\",103.21.244.0/22,,2026-12-04T19:00:00Z,2026-12-03T19:00:00Z,false\n";
    let held = held_of_inspect(inspect);
    assert_eq!(
        held.nets,
        ["173.245.48.0/20".parse::<ipnet::IpNet>().unwrap()]
    );
    let (steps, _) = allowlist_steps(config, Some(held.clone()), &cf);
    assert_eq!(steps.len(), 1);
    let Step::Allow { argv, undo, .. } = &steps[0] else {
        unreachable!()
    };
    assert!(!argv.contains(&"173.245.48.0/20".to_string()));
    // The one that expires is added again, for good.
    assert!(argv.contains(&"103.21.244.0/22".to_string()));
    assert_eq!(argv.len() - 6 - 2, undo.len() - 6);
    // All there: nothing; managed by the console: a person's.
    let full = Held {
        nets: cf.nets().to_vec(),
        console: false,
    };
    assert_eq!(
        allowlist_steps(config, Some(full), &cf),
        (Vec::new(), Vec::new())
    );
    let console = Held {
        console: true,
        ..held
    };
    let (steps, left) = allowlist_steps(config, Some(console), &cf);
    assert!(
        steps.is_empty() && left[0].why.contains("console"),
        "{left:?}"
    );
    assert_eq!(
        csv_names("name,description,created_at,updated_at,console_managed,size\nother,x,a,b,false,1\ncloudflare,\"a,b\",a,b,false,22\n").collect::<Vec<_>>(),
        ["other", "cloudflare"]
    );
    assert_eq!(
        cscli(Path::new("-odd.yaml"), &["x"]),
        ["cscli", "-c", "./-odd.yaml", "x"]
    );
}

#[test]
fn a_done_allowlist_add_is_what_makes_crowdsec_ignore_the_ranges() {
    use super::super::apply::{verdict, StepOutcome};
    use super::super::plan::Plan;
    let cf = embedded();
    let (steps, _) = allowlist_steps(Path::new("/etc/crowdsec/config.yaml"), None, &cf);
    let plan = Plan {
        ranges: "cf".into(),
        steps: steps.clone(),
        left_for_person: Vec::new(),
        scan_errors: Vec::new(),
    };
    let outcomes: Vec<StepOutcome> = steps
        .iter()
        .map(|s| StepOutcome {
            step: s.clone(),
            outcome: "done".into(),
        })
        .collect();
    let rescan = crate::Report::new(
        None,
        chrono::NaiveDateTime::default(),
        crate::RangesInfo::new("cf", 1, 0),
    );
    let v = verdict(&plan, &outcomes, &rescan, &cf);
    assert_eq!(v.now_ignore.len(), 1, "{v:?}");
    assert_eq!(v.now_ignore[0].path, "allowlist cloudflare");
    // A failed add: nothing ignores, and it is left for a person.
    let mut failed = outcomes.clone();
    failed[1].outcome = "failed: exit status: 1".into();
    let v = verdict(&plan, &failed, &rescan, &cf);
    assert!(v.now_ignore.is_empty());
    assert_eq!(v.left_for_person.len(), 1);
}
