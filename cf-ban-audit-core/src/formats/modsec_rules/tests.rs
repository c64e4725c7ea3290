//! Unit tests of the ModSecurity rule file reader.

use crate::formats::test_support::{run_lines, Collect};
use crate::formats::Format;

fn brief(c: &Collect) -> Vec<(String, String, u64)> {
    c.events
        .iter()
        .map(|e| (e.net.to_string(), e.scope.clone(), e.location.line))
        .collect()
}

#[test]
fn the_fixture_as_apache_enforced_it() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/modsecurity-rules/cf-block.conf"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let c = run_lines(Format::ModsecRules, path, &text);
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
    assert_eq!(
        brief(&c),
        vec![
            ("104.16.5.5/32".into(), "1001".into(), 5),
            ("172.64.0.0/16".into(), "1001".into(), 5),
            ("2606:4700:10::5/128".into(), "1001".into(), 5),
            ("162.158.1.1/32".into(), "1002".into(), 2),
            ("131.0.72.0/22".into(), "1002".into(), 3),
            ("2400:cb00:99::/48".into(), "1002".into(), 4),
            ("198.51.100.200/32".into(), "1002".into(), 5),
            ("108.162.192.0/24".into(), "1003".into(), 14),
            ("198.41.128.7/32".into(), "1004".into(), 17),
        ]
    );
    assert!(c.events[3]
        .location
        .path
        .ends_with("modsecurity-rules/blocked-ips.txt"));
    // block with no SecDefaultAction of the file.
    assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
}

#[test]
fn defaults_phases_removals_and_the_engine() {
    let text = "\
SecDefaultAction \"phase:1,log,auditlog,deny,status:403\"
SecRule REMOTE_ADDR \"@ipMatch 104.16.0.1\" \"id:1,phase:1,block\"
SecRule REMOTE_ADDR \"@ipMatch 104.16.0.2\" \"id:2,phase:1,log\"
SecRule REMOTE_ADDR \"@ipMatch 104.16.0.3\" \"id:3,phase:2,log\"
SecRule REMOTE_ADDR \"@ipMatch 104.16.0.4\" \"id:4,phase:logging,deny\"
SecRule REMOTE_ADDR \"@ipMatch 104.16.0.5\" \"id:5,phase:1,deny,allow\"
SecRule REMOTE_ADDR \"@ipMatch 104.16.0.6\" \"id:6,phase:1,deny\"
SecRule REMOTE_ADDR \"@ipMatch 104.16.0.7\" \"id:7,phase:1,deny\"
SecRule REMOTE_ADDR \"@ipMatch 104.16.0.8, 104.16.0.9\" \"id:8,phase:1,deny\"
SecRuleRemoveById 6-6
";
    let c = run_lines(Format::ModsecRules, "/etc/modsecurity/x.conf", text);
    let got: Vec<String> = c.events.iter().map(|e| e.scope.clone()).collect();
    assert_eq!(got, vec!["1", "2", "7", "8"]);
    // ` 104.16.0.9` (with its space) is refused by ModSecurity.
    assert_eq!(c.malformed.len(), 1, "{:?}", c.malformed);
    let off = format!("{text}SecRuleEngine DetectionOnly\n");
    let c = run_lines(Format::ModsecRules, "/etc/modsecurity/x.conf", &off);
    assert!(c.events.is_empty());
    assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
}

#[test]
fn the_forged_twin_gives_nothing() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/injection/modsecurity-rules/rules.conf"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let c = run_lines(Format::ModsecRules, path, &text);
    assert!(c.events.is_empty(), "{:?}", brief(&c));
    assert!(c.malformed.is_empty(), "{:?}", c.malformed);
}
