//! The fail2ban snippets checked against the real fail2ban: the generated fragment and merged
//! `jail.local` files are loaded with `fail2ban-client -c DIR -d` (a copy of `/etc/fail2ban`
//! with the file under test as `jail.local`), and the `addignoreip` commands it prints must hold
//! every Cloudflare range next to the entries that were there before.
//!
//! `fixtures/fail2ban/snippet/jail.local.before` is merged and compared byte for byte with
//! `jail.local.expected` (set `CF_BAN_AUDIT_BLESS=1` to rewrite the expected file after a
//! deliberate change, then review the diff). Without `fail2ban-client` the fail2ban tests
//! print a SKIP notice, and fail when `CI` is set.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use cf_ban_audit_core::{cloudflare, RangeSet};

/// The fail2ban snippet as `cf-ban-audit snippet fail2ban [--existing]` writes it.
mod fail2ban {
    use cf_ban_audit_core::snippet::Target;
    use cf_ban_audit_core::RangeSet;

    pub use cf_ban_audit_core::snippet::jails_overriding;

    pub fn generate(ranges: &RangeSet) -> String {
        Target::Fail2ban.generate(ranges)
    }

    pub fn merge(existing: &str, ranges: &RangeSet) -> String {
        Target::Fail2ban
            .merge(existing, ranges)
            .expect("fail2ban merges")
    }
}

/// The jails of the fixture; all are enabled by it.
const FIXTURE_JAILS: &[&str] = &[
    "sshd",
    "nginx-http-auth",
    "nginx-limit-req",
    "postfix",
    "recidive",
];

fn snippet_dir() -> PathBuf {
    common::fixtures().join("fail2ban").join("snippet")
}

fn read(name: &str) -> String {
    let path = snippet_dir().join(name);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn cf() -> RangeSet {
    cloudflare::embedded()
}

fn cf_strings() -> Vec<String> {
    cf().nets().iter().map(|n| n.to_string()).collect()
}

#[test]
fn merged_fixture_matches_expected_bytes() {
    let merged = fail2ban::merge(&read("jail.local.before"), &cf());
    if std::env::var_os("CF_BAN_AUDIT_BLESS").is_some() {
        fs::write(snippet_dir().join("jail.local.expected"), &merged).unwrap();
    }
    let expected = read("jail.local.expected");
    assert!(
        merged == expected,
        "merge differs from jail.local.expected:\n{merged}"
    );
}

#[test]
fn merged_fixture_is_idempotent_and_keeps_every_line() {
    let before = read("jail.local.before");
    let merged = fail2ban::merge(&before, &cf());
    assert_eq!(fail2ban::merge(&merged, &cf()), merged);
    // Every line of the original is there, in order.
    let mut rest = merged.lines();
    for line in before.lines() {
        assert!(rest.any(|l| l == line), "lost or moved: {line:?}");
    }
    // Only the missing ranges were added: 131.0.72.0/22 and the IPv6 ones, with the warning
    // about the retired 199.27.128.0/21 the file keeps.
    let added = merged.lines().count() - before.lines().count();
    assert_eq!(
        added,
        1 + 1 + 1 + 7 + 1 + 22,
        "in [DEFAULT]: a marker line, a warning, 131.0.72.0/22 and 7 IPv6 ranges; \
         in [postfix], which sets its own list: a marker line and every range"
    );
    assert!(
        merged.contains("\n# cf-ban-audit: warning: stale entry 199.27.128.0/21: "),
        "{merged}"
    );
}

#[test]
fn fixture_jail_with_its_own_list_is_named() {
    assert_eq!(
        fail2ban::jails_overriding(&read("jail.local.before"), &cf()),
        ["postfix"]
    );
    assert!(
        fail2ban::jails_overriding(&read("jail.local.expected"), &cf()).is_empty(),
        "the merge extends [postfix]'s own list"
    );
}

/// A scratch copy of the installed fail2ban configuration.
struct Fail2ban {
    dir: tempfile::TempDir,
}

/// The installed fail2ban, or `None` (with a SKIP notice; a failure in CI).
fn fail2ban() -> Option<Fail2ban> {
    let installed = Command::new("fail2ban-client")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        && Path::new("/etc/fail2ban/jail.conf").is_file();
    common::need(
        installed.then_some(()),
        "fail2ban-client not installed (apt-get install fail2ban)",
    )?;
    let dir = tempfile::tempdir().unwrap();
    copy_config(
        Path::new("/etc/fail2ban"),
        dir.path().join("conf").as_path(),
    );
    fs::write(dir.path().join("test.log"), "").unwrap();
    Some(Fail2ban { dir })
}

/// Copies the stock configuration without the machine's own `jail.local` and `jail.d/`.
fn copy_config(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let target = to.join(&name);
        let path = entry.path();
        if name == "jail.local" {
            continue;
        }
        if name == "jail.d" {
            fs::create_dir_all(&target).unwrap();
        } else if path.is_dir() {
            copy_config(&path, &target);
        } else if path.is_file() {
            fs::copy(&path, &target).unwrap();
        }
    }
}

impl Fail2ban {
    fn conf(&self) -> PathBuf {
        self.dir.path().join("conf")
    }

    /// Loads `jail_local` with `jails` enabled on a scratch log (polling backend) and returns
    /// the `addignoreip` entries fail2ban sets for each jail.
    fn ignoreip(&self, jail_local: &str, jails: &[&str]) -> BTreeMap<String, Vec<String>> {
        self.load(jail_local, None, jails).0
    }

    /// [`Fail2ban::ignoreip`] with a `jail.d/NAME` file too (none when `None`), and each jail's
    /// `ignorecommand` as the server would get it.
    fn load(
        &self,
        jail_local: &str,
        fragment: Option<(&str, &str)>,
        jails: &[&str],
    ) -> (BTreeMap<String, Vec<String>>, BTreeMap<String, String>) {
        let conf = self.conf();
        fs::write(conf.join("jail.local"), jail_local).unwrap();
        for entry in fs::read_dir(conf.join("jail.d")).unwrap() {
            fs::remove_file(entry.unwrap().path()).unwrap();
        }
        if let Some((name, text)) = fragment {
            fs::write(conf.join("jail.d").join(name), text).unwrap();
        }
        let log = self.dir.path().join("test.log");
        let mut enable = String::new();
        for jail in jails {
            enable.push_str(&format!(
                "[{jail}]\nenabled = true\nbackend = polling\nlogpath = {}\n\n",
                log.display()
            ));
        }
        // jail.d/*.local is read after jail.local; it only enables jails, ignoreip stays.
        fs::write(
            conf.join("jail.d").join("zz-cf-ban-audit-test.local"),
            enable,
        )
        .unwrap();
        let out = Command::new("fail2ban-client")
            .arg("-c")
            .arg(&conf)
            .arg("-d")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !stderr.contains("ERROR"),
            "fail2ban-client -d failed ({}):\n{stderr}\n--- jail.local\n{jail_local}",
            out.status
        );
        let mut found = BTreeMap::new();
        let mut commands = BTreeMap::new();
        for line in stdout.lines() {
            // ['set', 'sshd', 'addignoreip', '127.0.0.1/8', '::1', ...]
            if !line.starts_with("['set', ") {
                continue;
            }
            let quoted: Vec<String> = line
                .split('\'')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect();
            match quoted.as_slice() {
                [_, jail, key, entries @ ..] if key == "addignoreip" => {
                    found.insert(jail.clone(), entries.to_vec());
                }
                [_, jail, key, command] if key == "ignorecommand" => {
                    commands.insert(jail.clone(), command.clone());
                }
                _ => {}
            }
        }
        for jail in jails {
            assert!(
                stdout.contains(&format!("['add', '{jail}',")),
                "jail {jail} not loaded:\n{stdout}"
            );
        }
        (found, commands)
    }
}

fn assert_holds(entries: &[String], want: &[String], what: &str) {
    let missing: Vec<&String> = want.iter().filter(|w| !entries.contains(w)).collect();
    assert!(
        missing.is_empty(),
        "{what}: missing {missing:?} in {entries:?}"
    );
}

#[test]
fn generated_snippet_loads_in_fail2ban() {
    let Some(f2b) = fail2ban() else { return };
    let got = f2b.ignoreip(&fail2ban::generate(&cf()), &["sshd", "nginx-http-auth"]);
    let mut want = vec!["127.0.0.1/8".to_string(), "::1".to_string()];
    want.extend(cf_strings());
    assert_eq!(want.len(), 24);
    assert_eq!(got.get("sshd"), Some(&want));
    assert_eq!(got.get("nginx-http-auth"), Some(&want));
}

#[test]
fn merged_fixture_loads_in_fail2ban() {
    let Some(f2b) = fail2ban() else { return };
    let old: Vec<String> = [
        "127.0.0.1/8",
        "::1",
        "192.0.2.10",
        "monitor.example.net",
        "office.example.com",
        "199.27.128.0/21",
        "104.16.0.0/13",
    ]
    .map(String::from)
    .to_vec();

    // Before: the IPv4 list lacks 131.0.72.0/22 and all of IPv6.
    let before = f2b.ignoreip(&read("jail.local.before"), FIXTURE_JAILS);
    assert_holds(&before["sshd"], &old, "before, sshd");
    assert!(!before["sshd"].contains(&"131.0.72.0/22".to_string()));

    let got = f2b.ignoreip(&read("jail.local.expected"), FIXTURE_JAILS);
    for jail in ["sshd", "nginx-http-auth", "recidive", "nginx-limit-req"] {
        let entries = &got[jail];
        assert_holds(entries, &cf_strings(), jail);
        assert_holds(entries, &old, jail);
        // The inline comment stayed a comment; nothing was duplicated.
        assert!(
            !entries
                .iter()
                .any(|e| e.contains("loopback") || e.starts_with(';')),
            "{entries:?}"
        );
        let mut unique = entries.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            entries.len(),
            "{jail}: duplicates in {entries:?}"
        );
        if jail != "nginx-limit-req" {
            assert_eq!(
                entries, &got["sshd"],
                "{jail} and sshd share [DEFAULT]'s list"
            );
        }
    }
    // %(known/ignoreip)s took the merged [DEFAULT] list along.
    assert_eq!(
        got["nginx-limit-req"].last().map(String::as_str),
        Some("198.51.100.0/24")
    );
    assert_eq!(
        got["nginx-limit-req"][..got["nginx-limit-req"].len() - 1],
        got["sshd"][..]
    );
    // The jail with its own list keeps its entries, first, and has the ranges after them.
    assert_eq!(got["postfix"][..3], ["127.0.0.1/8", "::1", "192.0.2.25"]);
    assert_eq!(got["postfix"][3..], cf_strings()[..]);
}

#[test]
fn hash_line_inside_a_value_does_not_end_it() {
    let Some(f2b) = fail2ban() else { return };
    let text = "[DEFAULT]\n\
                ignoreip = 127.0.0.1/8\n\
                # a comment at column 0\n\
                \x20          192.0.2.1\n\
                \x20   # an indented comment\n\
                \n\
                \x20          192.0.2.2 # not a comment\n\
                bantime = 1h\n";
    let got = f2b.ignoreip(text, &["sshd"]);
    assert_eq!(
        got["sshd"],
        [
            "127.0.0.1/8",
            "192.0.2.1",
            "192.0.2.2",
            "#",
            "not",
            "a",
            "comment"
        ]
    );
}

#[test]
fn tricky_merges_load_in_fail2ban() {
    let Some(f2b) = fail2ban() else { return };
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "crlf, no final newline",
            "[DEFAULT]\r\nignoreip = 127.0.0.1/8 ::1\r\n           10.0.0.0/8\r\n\r\n[sshd]\r\nport = 2222",
            &["127.0.0.1/8", "::1", "10.0.0.0/8"],
        ),
        (
            "lone cr",
            "[DEFAULT]\rignoreip = 127.0.0.1/8\r\t10.0.0.0/8\rbantime = 1h\r",
            &["127.0.0.1/8", "10.0.0.0/8"],
        ),
        (
            "tabs and an inline comment",
            "[DEFAULT]\n\tbantime\t= 1h\nignoreip\t=\t127.0.0.1/8 ; local\n\t\t192.0.2.1 ; office\n",
            &["127.0.0.1/8", "192.0.2.1"],
        ),
        (
            "byte order mark",
            "\u{feff}[DEFAULT]\nignoreip = 127.0.0.1/8 gw.example.net\n",
            &["127.0.0.1/8", "gw.example.net"],
        ),
        (
            "hash comments inside the value",
            "[DEFAULT]\nignoreip = 127.0.0.1/8\n# office\n           192.0.2.1\n    # end\n\n# next\nbantime = 1h\n",
            &["127.0.0.1/8", "192.0.2.1"],
        ),
        (
            "stale list with 104.16.0.0/12",
            "[DEFAULT]\nIgnoreIP: 127.0.0.1/8, 104.16.0.0/12, 199.27.128.0/21\n",
            &["127.0.0.1/8", "104.16.0.0/12", "199.27.128.0/21"],
        ),
        (
            "no [DEFAULT]",
            "# jail.local\n\n# ssh\n[sshd]\nport = 2222\n",
            &["127.0.0.1/8", "::1"],
        ),
        (
            "[DEFAULT] without ignoreip, indented options",
            "[DEFAULT]\n  bantime = 1h\n  findtime = 10m\n\n[sshd]\nport = 2222\n",
            &["127.0.0.1/8", "::1"],
        ),
        ("empty file", "", &["127.0.0.1/8", "::1"]),
    ];
    for (name, input, old) in cases {
        let merged = fail2ban::merge(input, &cf());
        assert_eq!(
            fail2ban::merge(&merged, &cf()),
            merged,
            "{name}: not idempotent"
        );
        let got = f2b.ignoreip(&merged, &["sshd"]);
        let entries = got
            .get("sshd")
            .unwrap_or_else(|| panic!("{name}: no ignoreip:\n{merged}"));
        let old: Vec<String> = old.iter().map(|s| s.to_string()).collect();
        assert_holds(entries, &old, name);
        let covered: RangeSet = entries.iter().filter_map(|e| e.parse().ok()).collect();
        let uncovered: Vec<String> = cf()
            .nets()
            .iter()
            .filter(|n| !covered.covers(n))
            .map(|n| n.to_string())
            .collect();
        assert!(
            uncovered.is_empty(),
            "{name}: {uncovered:?} not ignored; entries {entries:?}"
        );
        assert!(
            !entries
                .iter()
                .any(|e| e.starts_with(';') || e == "local" || e == "office"),
            "{name}: {entries:?}"
        );
    }
}

/// Reads pairs `N.in`/`N.out` with fail2ban's own parser class (raw values, no includes) and
/// checks each merge whose input fail2ban accepts (after dropping a BOM): the output loads,
/// every other option of every section is unchanged, the old entries of `[DEFAULT]`'s and of
/// each jail's own `ignoreip` come first and in order, and the ranges are covered (in a jail
/// whose list takes `[DEFAULT]`'s along, by `[DEFAULT]`'s). Prints `checked N bad M`.
const PARSER_CHECK: &str = r#"
import sys, os, re, ipaddress
from fail2ban.client.configparserinc import SafeConfigParserWithIncludes as P
d, ranges = sys.argv[1], [ipaddress.ip_network(r) for r in sys.argv[2:]]
def load(path):
    p = P()
    try:
        p.read(path, get_includes=False)
    except Exception:
        return None
    return p
def entries(v):
    return [e for e in re.split(r'[\s,]+', v or '') if e]
def covered(es, r):
    for e in es:
        try:
            n = ipaddress.ip_network(e, strict=False)
        except ValueError:
            continue
        if n.version == r.version and r.subnet_of(n):
            return True
    return False
checked = bad = 0
for name in sorted(f for f in os.listdir(d) if f.endswith('.in')):
    stem = os.path.join(d, name[:-3])
    src = open(stem + '.in', encoding='utf-8', newline='').read()
    with open(stem + '.nobom', 'w', encoding='utf-8', newline='') as f:
        f.write(src.lstrip('\ufeff'))
    before, after = load(stem + '.nobom'), load(stem + '.out')
    if before is None:
        continue
    checked += 1
    problem = None
    if after is None:
        problem = 'the output does not load'
    else:
        d1, d2 = dict(before._defaults), dict(after._defaults)
        old, new = entries(d1.pop('ignoreip', None)), entries(d2.pop('ignoreip', None))
        s1 = {k: dict(v) for k, v in before._sections.items()}
        s2 = {k: dict(v) for k, v in after._sections.items()}
        # Each jail's own ignoreip (not [INCLUDES]'s) is extended like [DEFAULT]'s, unless it
        # takes [DEFAULT]'s along.
        jails = []
        for k in s1:
            if k != 'INCLUDES' and 'ignoreip' in s1[k] and k in s2:
                jails.append((k, entries(s1[k].pop('ignoreip')), s2[k].pop('ignoreip', None)))
        if d1 != d2 or s1 != s2:
            problem = 'other options changed'
        elif new[:len(old)] != old and not (not old and new[:2] == ['127.0.0.1/8', '::1']):
            problem = 'old entries not kept: %r -> %r' % (old, new)
        elif not all(covered(new, r) for r in ranges):
            problem = 'ranges not covered: %r' % new
        for k, jold, jnew in jails:
            if problem:
                break
            jnew = entries(jnew)
            inherits = any(w in ('%(default/ignoreip)s', '%(known/ignoreip)s') for w in jold)
            if jnew[:len(jold)] != jold:
                problem = '[%s] old entries not kept: %r -> %r' % (k, jold, jnew)
            elif not inherits and not all(covered(jnew, r) for r in ranges):
                problem = '[%s] ranges not covered: %r' % (k, jnew)
    if problem:
        bad += 1
        if bad <= 5:
            print('%s: %s' % (stem, problem))
print('checked %d bad %d' % (checked, bad))
"#;

/// The Python that runs fail2ban-client (its `#!` line), which can import fail2ban.
fn fail2ban_python() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let client = std::env::split_paths(&path)
        .map(|d| d.join("fail2ban-client"))
        .find(|p| p.is_file())?;
    let text = fs::read_to_string(client).ok()?;
    let shebang = text.lines().next()?.strip_prefix("#!")?.trim();
    let mut words = shebang.split_whitespace();
    let first = words.next()?;
    // `#!/usr/bin/env python3` names the interpreter second.
    let python = if first.ends_with("/env") {
        words.next()?
    } else {
        first
    };
    Some(PathBuf::from(python))
}

#[test]
fn merges_agree_with_fail2bans_own_parser() {
    let Some(_f2b) = fail2ban() else { return };
    let python = fail2ban_python().expect("the interpreter of fail2ban-client");
    let lines = [
        "[DEFAULT]",
        "[sshd]",
        "[default]",
        "[INCLUDES]",
        "ignoreip = 127.0.0.1/8",
        "IgnoreIP: 10.0.0.0/8, 104.16.0.0/13",
        "ignoreip =",
        "ignoreip = 104.16.0.0/12 ; cf",
        "bantime = 1h",
        "findtime: 10m ; x",
        "# comment",
        "; comment",
        "",
        "  ",
        "10.1.0.0/16",
        "2606:4700::/32 # x",
        "host.example ; y",
        "104.24.0.0/14,2606:4700::/32",
        "maxretry = 3",
        "before = paths-debian.conf",
    ];
    let indents = ["", "", "", " ", "  ", "\t", "           ", "\t\t"];
    let eols = ["\n", "\n", "\n", "\r\n", "\r"];
    let nets = ["104.16.0.0/13", "104.24.0.0/14", "2606:4700::/32"];
    let ranges: RangeSet = nets
        .iter()
        .map(|s| s.parse::<ipnet::IpNet>().unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for case in 0..4000 {
        let mut text = String::new();
        if next(20) == 0 {
            text.push('\u{feff}');
        }
        let eol = eols[next(eols.len())];
        if next(5) != 0 {
            text.push_str(["# head", "[sshd]", "[DEFAULT]", ""][next(4)]);
            text.push_str(eol);
        }
        let count = next(10);
        for i in 0..count {
            let line = lines[next(lines.len())];
            let indent = if line.starts_with('[') && next(4) != 0 {
                ""
            } else {
                indents[next(indents.len())]
            };
            text.push_str(indent);
            text.push_str(line);
            if i + 1 < count || next(3) != 0 {
                text.push_str(if next(10) == 0 {
                    eols[next(eols.len())]
                } else {
                    eol
                });
            }
        }
        let merged = fail2ban::merge(&text, &ranges);
        assert_eq!(
            fail2ban::merge(&merged, &ranges),
            merged,
            "not idempotent: {text:?}"
        );
        fs::write(dir.path().join(format!("{case}.in")), &text).unwrap();
        fs::write(dir.path().join(format!("{case}.out")), &merged).unwrap();
    }
    let out = Command::new(&python)
        .arg("-c")
        .arg(PARSER_CHECK)
        .arg(dir.path())
        .args(nets)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = stdout.lines().last().unwrap_or("");
    let numbers: Vec<usize> = summary.split(' ').filter_map(|w| w.parse().ok()).collect();
    assert!(
        matches!(numbers[..], [checked, 0] if checked >= 1000),
        "fail2ban's parser disagrees:\n{stdout}"
    );
}

/// `snippet fail2ban --existing` inputs of every shape: `[DEFAULT]` or not, with or without
/// `ignoreip`, jails with their own list on one line or continued over several, comments
/// (`;` inline, `#` lines inside a value), `%(known/ignoreip)s` and `%(default/ignoreip)s`,
/// `ignorecommand`, CRLF, `jail.d` files. Sections are stock jails, so fail2ban can start them.
/// The inputs, shared with the merge's unit tests.
const MERGE_INPUTS: &str = include_str!("../../fixtures/fail2ban/snippet/merge-inputs.json");

/// [`MERGE_INPUTS`] as (file name, text) pairs.
fn merge_inputs() -> Vec<(String, String)> {
    serde_json::from_str(MERGE_INPUTS).unwrap()
}

/// An `ignoreip` entry as check lists it: a network (an address as its host network), or
/// `None` for a host name.
fn as_net(entry: &str) -> Option<String> {
    if let Ok(net) = entry.parse::<ipnet::IpNet>() {
        return Some(net.trunc().to_string());
    }
    entry
        .parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| ipnet::IpNet::from(ip).to_string())
}

/// Every output of `snippet fail2ban --existing` passes `check`, and the real fail2ban reads
/// each jail's `ignoreip` (and `ignorecommand`) as check does: the same networks in the same
/// order, the same host names, cf-ban-audit's `contains` where check counts it.
#[test]
fn check_of_every_merge_is_ok_and_fail2ban_reads_it_the_same() {
    use cf_ban_audit_core::check;
    use cf_ban_audit_core::snippet::{MergeOptions, Target};
    let Some(f2b) = fail2ban() else { return };
    let cf = cf();
    for (name, input) in &merge_inputs() {
        let path = Path::new("/etc/fail2ban").join(name);
        let options = MergeOptions::for_path(&path);
        let merged = Target::Fail2ban.merge_with(input, &cf, options).unwrap();
        let r = check::check_text(&path, &merged, &cf);
        assert!(!r.has_gaps(), "{name} {input:?} gave\n{merged}\n{r:#?}");
        let jails: Vec<&str> = r
            .jails
            .iter()
            .map(|j| j.name.as_str())
            .filter(|n| *n != "DEFAULT")
            .collect();
        let enable: Vec<&str> = if jails.is_empty() {
            vec!["sshd"]
        } else {
            jails.clone()
        };
        let (ignoreip, commands) = if options.fragment {
            // jail.local's [DEFAULT] as check takes it for a jail.d file: every range.
            let all: Vec<String> = cf_strings();
            let jail_local = format!("[DEFAULT]\nignoreip = {}\n", all.join(" "));
            let file = name.trim_start_matches("jail.d/");
            f2b.load(&jail_local, Some((file, &merged)), &enable)
        } else {
            f2b.load(&merged, None, &enable)
        };
        let mut model = r.jails.clone();
        if jails.is_empty() {
            // Only [DEFAULT]: sshd has what [DEFAULT] has.
            model.iter_mut().for_each(|j| j.name = "sshd".to_string());
        }
        for jail in model.iter().filter(|j| enable.contains(&j.name.as_str())) {
            let got = ignoreip.get(&jail.name).cloned().unwrap_or_default();
            let nets: Vec<String> = got.iter().filter_map(|e| as_net(e)).collect();
            let hosts: Vec<String> = got
                .iter()
                .filter(|e| as_net(e).is_none())
                .cloned()
                .collect();
            assert_eq!(nets, jail.ignoreip, "{name} [{}]:\n{merged}", jail.name);
            assert_eq!(hosts, jail.ignore_hosts, "{name} [{}]", jail.name);
            let command = commands.get(&jail.name);
            if jail.ignorecommand_contains {
                assert!(
                    command.is_some_and(|c| c.contains("cf-ban-audit contains <ip>")),
                    "{name} [{}]: {command:?}",
                    jail.name
                );
            } else {
                assert!(
                    !command.is_some_and(|c| c.contains("cf-ban-audit")),
                    "{name} [{}]: {command:?}",
                    jail.name
                );
            }
        }
    }
}
