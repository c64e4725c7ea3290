//! Unit tests of the jail configuration reader: the Debian fixture, fail2ban's parser rules on
//! literal files, durations and `ignoreip` entries with the answers fail2ban 1.0.2 gives (and,
//! where it is installed, checked against it), and hostile bytes.

use super::duration::{eval, str2seconds, Num};
use super::load::MAX_FILE;
use super::*;
use std::path::Path;
use std::process::Command;

/// The files as `load` gives them, from literal text.
fn files(list: &[(&str, &str)]) -> Vec<(PathBuf, Vec<u8>)> {
    list.iter()
        .map(|(p, t)| (PathBuf::from(p), t.as_bytes().to_vec()))
        .collect()
}

/// The configuration of literal files, in the order given.
fn config(list: &[(&str, &str)]) -> JailConfig {
    JailConfig::read(&files(list))
}

/// One `jail.local`.
fn local(text: &str) -> JailConfig {
    config(&[("/etc/fail2ban/jail.local", text)])
}

/// A network from its text.
fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

/// Networks from their text.
fn nets(list: &[&str]) -> Vec<IpNet> {
    list.iter().map(|s| net(s)).collect()
}

/// `fixtures/fail2ban/config/etc-fail2ban`: a Debian `/etc/fail2ban` (jail files only).
fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/fail2ban/config/etc-fail2ban")
}

/// The 1-based line of `line` in a fixture file.
fn line_of(file: &str, line: &str) -> u64 {
    let text = std::fs::read_to_string(fixture_dir().join(file)).unwrap();
    1 + text.lines().position(|l| l == line).expect(line) as u64
}

/// A known length of `s` seconds.
fn secs(s: u64) -> Option<BanLength> {
    Some(BanLength::Seconds(s))
}

/// The messages of the malformed lines, with their line numbers.
fn problems(c: &JailConfig) -> Vec<(u64, String)> {
    c.malformed()
        .iter()
        .map(|(_, l, m)| (*l, m.clone()))
        .collect()
}

#[test]
fn the_fixture_loads_in_fail2bans_order() {
    let loaded = load(&fixture_dir()).unwrap();
    let names: Vec<String> = loaded
        .iter()
        .map(|(p, _)| p.strip_prefix(fixture_dir()).unwrap().display().to_string())
        .collect();
    assert_eq!(
        names,
        ["jail.conf", "jail.d/defaults-debian.conf", "jail.local"]
    );
}

#[test]
fn the_fixture_jails() {
    let c = JailConfig::read(&load(&fixture_dir()).unwrap());
    assert!(c.malformed().is_empty(), "{:?}", c.malformed());
    let names: Vec<&str> = c.jails().iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["sshd", "nginx-http-auth", "recidive"]);

    let sshd = c.jail("sshd").unwrap();
    assert!(sshd.enabled && sshd.ignoreself && sshd.ignorecommand.is_none());
    assert_eq!(sshd.bantime, secs(600));
    let source = sshd.bantime_source.as_ref().unwrap();
    assert_eq!(source.path, fixture_dir().join("jail.conf"));
    assert_eq!(source.line, line_of("jail.conf", "bantime  = 10m"));
    assert_eq!(
        sshd.ignoreip,
        nets(&["127.0.0.0/8", "::1/128", "104.16.0.0/13", "2606:4700::/32"])
    );
    assert!(sshd.increment.is_none() && sshd.longest_ban() == secs(600));

    let nginx = c.jail("nginx-http-auth").unwrap();
    assert_eq!(nginx.bantime, secs(86_400), "`; a day` is a comment");
    assert_eq!(
        nginx.ignoreip,
        nets(&["127.0.0.0/8", "::1/128", "104.16.0.0/13", "172.64.0.0/13"])
    );
    assert_eq!(nginx.ignore_hosts, ["monitor.example.net"]);

    let recidive = c.jail("recidive").unwrap();
    assert!(recidive.enabled);
    assert_eq!(recidive.bantime, secs(3600));
    assert_eq!(
        recidive.bantime_source.as_ref().unwrap().line,
        line_of("jail.local", "bantime = 1h")
    );
    let inc = recidive.increment.as_ref().unwrap();
    assert_eq!(inc.maxtime, Some(604_800.0));
    assert_eq!(recidive.longest_ban(), secs(604_800));
    assert_eq!(recidive.may_still_hold(604_799), Some(true));
    assert_eq!(recidive.may_still_hold(604_800), Some(false));
    assert_eq!(
        recidive.ignoreip,
        nets(&["127.0.0.0/8", "::1/128", "104.16.0.0/13"])
    );

    // jail.conf's [INCLUDES] is noted, not followed.
    assert_eq!(c.notes().len(), 1, "{:?}", c.notes());
    assert!(c.notes()[0].2.starts_with("before = paths-debian.conf"));
    assert!(c.jail("INCLUDES").is_none() && c.jail("DEFAULT").is_none());
}

#[test]
fn later_files_win_and_a_jails_own_key_beats_default() {
    let c = config(&[
        (
            "jail.conf",
            "[DEFAULT]\nbantime = 10m\n[sshd]\nbantime = 5m\n[postfix]\n[dovecot]\n",
        ),
        ("jail.d/a.conf", "[postfix]\nbantime = 20m\n"),
        ("jail.d/b.conf", "[postfix]\nbantime = 30m\n"),
        (
            "jail.local",
            "[DEFAULT]\nbantime = 1h\n[dovecot]\nbantime = 2h\n",
        ),
        ("jail.d/z.local", "[dovecot]\nbantime = 3h\n"),
    ]);
    let get = |name: &str| c.jail(name).unwrap();
    assert_eq!(
        get("sshd").bantime,
        secs(300),
        "its own key, not DEFAULT's later one"
    );
    assert_eq!(get("postfix").bantime, secs(1800));
    let source = get("postfix").bantime_source.clone().unwrap();
    assert_eq!(
        (source.path, source.line),
        (PathBuf::from("jail.d/b.conf"), 2)
    );
    assert_eq!(get("dovecot").bantime, secs(3 * 3600));
    // Neither sets it: DEFAULT from the last file that sets it.
    let c = config(&[
        ("jail.conf", "[DEFAULT]\nbantime = 10m\n[x]\n"),
        ("jail.local", "[DEFAULT]\nbantime = 1h\n"),
    ]);
    assert_eq!(c.jail("x").unwrap().bantime, secs(3600));
    // No file sets it: the server's 600 s, without a source.
    let c = local("[x]\nenabled = true\n");
    assert_eq!(c.jail("x").unwrap().bantime, secs(DEFAULT_BANTIME));
    assert!(c.jail("x").unwrap().bantime_source.is_none());
}

#[test]
fn the_loader_orders_skips_and_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let missing = load(d).unwrap_err();
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    assert!(
        missing.to_string().contains("no jail.conf or jail.local"),
        "{missing}"
    );
    std::fs::create_dir(d.join("jail.d")).unwrap();
    std::fs::create_dir(d.join("jail.d/dir.conf")).unwrap();
    for name in [
        "jail.local",
        "jail.d/b.local",
        "jail.d/a.local",
        "jail.d/z.conf",
        "jail.d/.hidden.conf",
        "jail.d/x.conf~",
    ] {
        std::fs::write(d.join(name), format!("# {name}\n")).unwrap();
    }
    let names = |v: Vec<(PathBuf, Vec<u8>)>| -> Vec<String> {
        v.iter()
            .map(|(p, _)| p.strip_prefix(d).unwrap().display().to_string())
            .collect()
    };
    // jail.local alone is enough.
    assert_eq!(
        names(load(d).unwrap()),
        [
            "jail.d/z.conf",
            "jail.local",
            "jail.d/a.local",
            "jail.d/b.local"
        ]
    );
    std::fs::write(d.join("jail.conf"), "").unwrap();
    assert_eq!(names(load(d).unwrap())[0], "jail.conf");
    // A file over the cap is an error naming it.
    let big = vec![b'#'; MAX_FILE as usize + 1];
    std::fs::write(d.join("jail.d/a.local"), big).unwrap();
    let e = load(d).unwrap_err();
    assert!(
        e.to_string().contains("a.local") && e.to_string().contains("4 MiB"),
        "{e}"
    );
}

#[test]
fn interpolation_in_a_section_from_default_and_across_sections() {
    let c = local(
        "[DEFAULT]\nlong = 2h\nbantime = %(long)s\nbase = 127.0.0.1/8\n\
         ignoreip = %(base)s %(extra)s\nextra =\n\
         [a]\nlong = 3h\nextra = 104.16.0.0/13\n\
         [b]\nbantime = %(default/long)s\nignorecommand = /bin/check %(__name__)s 100%% <ip>\n\
         [c]\nignoreip = %(a/extra)s %(b/extra)s\n",
    );
    assert!(c.malformed().is_empty(), "{:?}", c.malformed());
    let a = c.jail("a").unwrap();
    // A DEFAULT value is read in the jail that uses it: `long` of [a].
    assert_eq!(a.bantime, secs(3 * 3600));
    assert_eq!(a.ignoreip, nets(&["127.0.0.0/8", "104.16.0.0/13"]));
    let b = c.jail("b").unwrap();
    assert_eq!(b.bantime, secs(2 * 3600));
    assert_eq!(b.ignorecommand.as_deref(), Some("/bin/check b 100% <ip>"));
    // [b] has no `extra` of its own: DEFAULT's (empty) stands in.
    assert_eq!(c.jail("c").unwrap().ignoreip, nets(&["104.16.0.0/13"]));
    // Neither [b] nor DEFAULT has it: an error, even when the asking section has the key.
    let c = local("[b]\n[d]\nignoreip = %(b/missing)s\nmissing = 192.0.2.1\n");
    assert!(
        problems(&c)[0].1.contains("%(b/missing)s is not set"),
        "{:?}",
        c.malformed()
    );
}

#[test]
fn interpolation_errors_name_file_and_line() {
    let c = local(
        "[a]\nenabled = true\nbantime = %(nope)s\n[b]\nbantime = 1h %x\n\
         [c]\nbantime = %(bantime)s\n",
    );
    let p = problems(&c);
    assert_eq!(p.len(), 3, "{p:?}");
    assert_eq!(p[0].0, 3);
    assert!(
        p[0].1.contains("%(nope)s is not set in the jail"),
        "{}",
        p[0].1
    );
    assert_eq!(p[1].0, 5);
    assert!(p[1].1.contains("neither %% nor %(name)s"), "{}", p[1].1);
    assert_eq!(p[2].0, 7);
    assert!(p[2].1.contains("levels of %(...)s"), "{}", p[2].1);
    assert!(c
        .malformed()
        .iter()
        .all(|(path, _, _)| path == Path::new("/etc/fail2ban/jail.local")));
    for j in c.jails() {
        assert_eq!((j.bantime, j.longest_ban()), (None, None), "{}", j.name);
    }
}

#[test]
fn known_is_the_value_before_this_files_override() {
    let c = config(&[
        (
            "jail.conf",
            "[DEFAULT]\nignoreip = 127.0.0.1/8\n[sshd]\nignoreip = 192.0.2.1\n[web]\n",
        ),
        (
            "jail.local",
            "[DEFAULT]\nignoreip = ::1\n[sshd]\nignoreip = %(known/ignoreip)s 104.16.0.0/13\n\
             [web]\nignoreip = %(known/ignoreip)s 2606:4700::/32\n\
             [new]\nignoreip = %(known/ignoreip)s 192.0.2.9\n",
        ),
    ]);
    assert!(c.malformed().is_empty(), "{:?}", c.malformed());
    // sshd had its own list before jail.local.
    assert_eq!(
        c.jail("sshd").unwrap().ignoreip,
        nets(&["192.0.2.1/32", "104.16.0.0/13"])
    );
    // web had none: DEFAULT's (the final one) stands in.
    assert_eq!(
        c.jail("web").unwrap().ignoreip,
        nets(&["::1/128", "2606:4700::/32"])
    );
    assert_eq!(
        c.jail("new").unwrap().ignoreip,
        nets(&["::1/128", "192.0.2.9/32"])
    );

    // Over three files the chain refers to itself: fail2ban 1.0.2 fails with "Recursion limit
    // exceeded in value substitution" (checked with fail2ban-client -d).
    let c = config(&[
        ("jail.conf", "[a]\nignoreip = 1.2.3.4\n"),
        ("jail.local", "[a]\nignoreip = %(known/ignoreip)s 9.9.9.9\n"),
        (
            "jail.d/z.local",
            "[a]\nignoreip = %(known/ignoreip)s 8.8.8.8\n",
        ),
    ]);
    let (path, line, message) = &c.malformed()[0];
    assert_eq!((path.to_str().unwrap(), *line), ("jail.d/z.local", 2));
    assert!(message.contains("levels"), "{message}");
    assert!(c.jail("a").unwrap().ignoreip.is_empty());
}

#[test]
fn continuation_lines_and_comments() {
    let c = local(
        "[DEFAULT]\r\n\
         ignoreip = 127.0.0.1/8\r\n\
         \t::1\r\n\
         \r\n\
         # a comment in the list; the list goes on\r\n\
         ; another\r\n\
         \x20   104.16.0.0/13 ; Cloudflare\r\n\
         \x20   172.64.0.0/13 # this is not a comment\r\n\
         bantime: 1h\r\
         [a]\n\
         BanTime = 2h\n\
         [A] ignored text after the header\n\
         \x20ENABLED=True\n",
    );
    assert!(c.malformed().is_empty(), "{:?}", c.malformed());
    let a = c.jail("a").unwrap();
    assert_eq!(
        a.ignoreip,
        nets(&["127.0.0.0/8", "::1/128", "104.16.0.0/13", "172.64.0.0/13"])
    );
    assert_eq!(a.ignore_hosts, ["#", "this", "is", "not", "a", "comment"]);
    assert_eq!(a.bantime, secs(7200), "keys compare in lower case");
    assert!(!a.enabled);
    // Section names are compared as written; the indented `ENABLED=True` is a key of [A]
    // because no key came before it there.
    let big_a = c.jail("A").unwrap();
    assert!(big_a.enabled);
    assert_eq!(big_a.bantime, secs(3600));

    // A line indented less than its key's continuation but deeper than the key still
    // continues; one at the key's depth is a new key.
    let c = local("[j]\n  ignoreip = 192.0.2.1\n        192.0.2.2\n   192.0.2.3\n  bantime = 1d\n");
    let j = c.jail("j").unwrap();
    assert_eq!(
        j.ignoreip,
        nets(&["192.0.2.1/32", "192.0.2.2/32", "192.0.2.3/32"])
    );
    assert_eq!(j.bantime, secs(86_400));

    // `[DEFAULT]` is case-sensitive; `NAME?COND` sections add to NAME.
    let c = local("[default]\nbantime = 1h\n[sshd]\n[sshd?family=inet6]\nbantime = 2h\n");
    assert_eq!(c.jail("default").unwrap().bantime, secs(3600));
    assert_eq!(c.jail("sshd").unwrap().bantime, secs(600));
    assert!(c.jail("sshd?family=inet6").is_none());
}

#[test]
fn lines_fail2ban_refuses_are_reported_and_reading_goes_on() {
    let c = local(
        "\u{feff}bantime = 1h\n[a]\nbantime = 1h\nnot a key\n= 5\n[a]\nbantime = 2h\n\
         [DEFAULT]\nx = 1\n[DEFAULT]\nx = 2\n",
    );
    let p = problems(&c);
    let lines: Vec<u64> = p.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [1, 1, 4, 5, 6, 7, 11], "{p:?}");
    assert!(p[0].1.contains("byte order mark") && p[1].1.contains("before the first [section]"));
    assert!(p[4].1.contains("[a] appears twice") && p[5].1.contains("bantime is set twice"));
    assert!(p
        .iter()
        .all(|(_, m)| m.ends_with("fail2ban refuses the configuration")));
    assert_eq!(c.jail("a").unwrap().bantime, secs(7200));

    // A file that is not UTF-8 is skipped whole, as fail2ban skips it.
    let c = JailConfig::read(&[
        (PathBuf::from("jail.conf"), b"[a]\nbantime = 1h\n".to_vec()),
        (
            PathBuf::from("jail.local"),
            b"[a]\n\nbantime = 2h \xff\n".to_vec(),
        ),
    ]);
    assert_eq!(c.jail("a").unwrap().bantime, secs(3600));
    assert_eq!(
        problems(&c),
        [(3, "not UTF-8: fail2ban skips this whole file".to_string())]
    );
}

#[test]
fn a_malformed_bantime_names_its_file_and_line() {
    let c = config(&[
        (
            "/etc/fail2ban/jail.conf",
            "[DEFAULT]\nbantime = 10m\n[sshd]\n[web]\n",
        ),
        (
            "/etc/fail2ban/jail.local",
            "[sshd]\nenabled = true\n\nbantime = 1 hour and a half\n",
        ),
    ]);
    let (path, line, message) = &c.malformed()[0];
    assert_eq!(path, Path::new("/etc/fail2ban/jail.local"));
    assert_eq!(*line, 4);
    assert!(
        message.starts_with("bantime = \"1 hour and a half\": not a duration fail2ban reads"),
        "{message}"
    );
    let sshd = c.jail("sshd").unwrap();
    assert_eq!(
        (sshd.bantime, sshd.longest_ban(), sshd.may_still_hold(1)),
        (None, None, None)
    );
    assert_eq!(sshd.bantime_source.as_ref().unwrap().line, 4);
    assert_eq!(c.jail("web").unwrap().bantime, secs(600));
    // One bad DEFAULT value is reported once, not once per jail.
    let c = local("[DEFAULT]\nbantime = soon\n[a]\n[b]\n[c]\n");
    assert_eq!(c.malformed().len(), 1);
}

/// `MyTime.str2seconds` of fail2ban 1.0.2: the value, or `None` where it raises.
const DURATIONS: &[(&str, Option<f64>)] = &[
    ("600", Some(600.0)),
    ("10m", Some(600.0)),
    ("1h 30m", Some(5400.0)),
    ("1h30m", Some(5400.0)),
    ("1d", Some(86400.0)),
    ("1w", Some(604_800.0)),
    ("1mo", Some(2_629_800.0)),
    ("1y", Some(31_557_600.0)),
    ("-1", Some(-1.0)),
    ("1 2 3", None),
    ("1h\n30m", Some(5400.0)),
    ("1h\n+30m", None),
    ("(1h\n+30m)", Some(5400.0)),
    ("3600*24", Some(86400.0)),
    ("1.5h", Some(5400.0)),
    ("2**10", Some(1024.0)),
    ("1year-6mo", Some(15_778_800.0)),
    ("6 months", Some(15_778_800.0)),
    ("1 h", Some(3600.0)),
    ("10 M", Some(600.0)),
    ("5min", Some(300.0)),
    ("0600", None),
    ("1e3", None),
    ("1e+3", Some(1000.0)),
    ("1_000", Some(1000.0)),
    ("1__0", None),
    ("1day1h", Some(90000.0)),
    ("1dd", Some(86400.0)),
    ("1da", Some(86400.0)),
    ("1hh", Some(3600.0)),
    ("1 mon", Some(2_629_800.0)),
    (".5h", Some(1800.0)),
    ("1sec", Some(1.0)),
    ("1se", Some(1.0)),
    ("1 w e", None),
    ("( 1h )", Some(3600.0)),
    ("1h+(2m)", Some(3720.0)),
    ("1m30s", Some(90.0)),
    ("-1.5", Some(-1.5)),
    ("1d/0", None),
    ("10 ** 2", Some(100.0)),
    ("7//2", Some(3.0)),
    ("-7//2", Some(-4.0)),
    ("-7%3", Some(2.0)),
    ("7%-3", Some(-2.0)),
    ("-7.5%2", Some(0.5)),
    ("7.5//2", Some(3.0)),
    ("1hours", Some(3600.0)),
    ("1 weeks", Some(604_800.0)),
    ("1wk", None),
    ("1minutes", Some(60.0)),
    ("1mi", Some(60.0)),
    ("1yr", None),
    ("2 * 1h", Some(7200.0)),
    ("1h 30", Some(3630.0)),
    ("3 m 2", Some(182.0)),
    ("1h,30m", None),
    ("1.h", None),
    ("1h # one hour", Some(3600.0)),
    ("1h # c\n 30m", None),
    ("1h ;x", None),
    ("2**-1", Some(0.5)),
    ("-2**2", Some(-4.0)),
    ("2 ** 3 ** 2", Some(512.0)),
    ("--5", Some(5.0)),
    ("(1)(2)", None),
    ("1D", Some(86400.0)),
    ("1MO", Some(2_629_800.0)),
    ("1Hour", Some(3600.0)),
    ("1d 12h", Some(129_600.0)),
    ("10%0", None),
    ("(-8)**0.5", None),
    ("4**0.5", Some(2.0)),
    ("", None),
    ("1h)", None),
    ("((1h)", None),
    ("True", None),
];

#[test]
fn durations_read_as_fail2ban_reads_them() {
    for &(text, want) in DURATIONS {
        let got = str2seconds(text).ok().map(Num::as_f64);
        assert_eq!(got, want, "{text:?}");
    }
    assert_eq!(eval("1").unwrap(), Num::Int(1));
    assert_eq!(eval("1/2").unwrap(), Num::Float(0.5));
    assert!(eval(&"(".repeat(10_000)).is_err() && eval(&"-".repeat(10_000)).is_err());
    assert!(eval("99999999999999999999999999999999999999999").is_err());
}

#[test]
fn bantime_values_become_lengths() {
    let length = |v: &str| {
        local(&format!("[j]\nbantime = {v}\n"))
            .jail("j")
            .unwrap()
            .bantime
    };
    assert_eq!(length("-1"), Some(BanLength::Permanent));
    assert_eq!(
        length("-1.5"),
        Some(BanLength::Permanent),
        "int(-1.5) is -1"
    );
    assert_eq!(length("-5"), secs(0));
    assert_eq!(length("1.9"), secs(1));
    assert_eq!(length("1mo"), secs(2_629_800));
    assert_eq!(length("2**62*8"), secs(u64::MAX));
    assert_eq!(length("1 hour # or so"), secs(3600));
}

/// `IPAddr` of fail2ban 1.0.2 (`server/ipdns.py`) on each entry: its text as fail2ban prints
/// it, `host:NAME` for a name, or `None` where it raises.
const ENTRIES: &[(&str, Option<&str>)] = &[
    ("1.2.3.4", Some("1.2.3.4/32")),
    ("1.2.3.4\t5.6.7.8", Some("host:1.2.3.4\t5.6.7.8")),
    ("::ffff:104.16.0.0/109", Some("::ffff:104.16.0.0/109")),
    ("1.2.3.4/foo.bar", Some("0.0.0.0/0")),
    ("[2606:4700::1]", Some("2606:4700::1/128")),
    ("x.example/24", Some("host:x.example")),
    ("::ffff:1.2.3.4", Some("1.2.3.4/32")),
    ("1.2.3.4/33", Some("1.2.3.4/32")),
    ("1.2.3.4/255.255.0.0", Some("1.2.0.0/16")),
    ("1.2.3.4/ffff:ffff::", Some("1.2.3.4/32")),
    ("01.2.3.4", Some("host:01.2.3.4")),
    ("1.2.3.4/+8", Some("1.0.0.0/8")),
    ("1.2.3.4/-1", Some("1.2.3.4/32")),
    ("2606:4700::/ffff:ffff::", Some("2606:4700::/32")),
    ("1.2.3.4/0.0.0.0", Some("0.0.0.0/0")),
    ("1.2.3.4/255.255.255.255", Some("1.2.3.4/32")),
    ("1.2.3.4/255.0.255.0", None),
    ("1.2.3.4/", None),
    ("1.2.3.4/8/9", None),
    ("1.2.3.4/1_6", Some("1.2.0.0/16")),
    ("[1.2.3.4/8]", Some("1.0.0.0/8")),
    ("1.2.3.4/::ffff:255.255.0.0", Some("1.2.0.0/16")),
    ("::ffff:1.2.3.4/128", Some("::ffff:1.2.3.4/128")),
    ("0:0:0:0:0:ffff:1.2.3.4", Some("1.2.3.4/32")),
    ("::1.2.3.4", Some("::1.2.3.4/128")),
    ("monitor.example.net", Some("host:monitor.example.net")),
    ("[]", Some("host:[]")),
];

/// An entry as the table writes it.
fn entry_text(e: &IgnoreEntry) -> Option<String> {
    match e {
        IgnoreEntry::Net(n) => Some(n.to_string()),
        IgnoreEntry::Host(h) => Some(format!("host:{h}")),
        IgnoreEntry::Inert(_) | IgnoreEntry::Refused(_) => None,
    }
}

/// Whether two entries as the table writes them are the same: networks compared as networks
/// (`::1.2.3.4` and `::102:304` are one address).
fn same_entry(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => match (a.parse::<IpNet>(), b.parse::<IpNet>()) {
            (Ok(x), Ok(y)) => x.trunc() == y.trunc(),
            _ => a == b,
        },
        (a, b) => a == b,
    }
}

#[test]
fn ignoreip_entries_read_as_fail2ban_reads_them() {
    for &(entry, want) in ENTRIES {
        let got = entry_text(&parse_ignore_entry(entry));
        assert!(
            same_entry(got.as_deref(), want),
            "{entry:?} read as {got:?}"
        );
    }
    assert!(matches!(
        parse_ignore_entry("1.2.3.4/-2"),
        IgnoreEntry::Inert(_)
    ));
    let words: Vec<&str> = splitwords(" 1.2.3.4,5.6.7.8\n\n 9.9.9.9 ,, a\tb ").collect();
    assert_eq!(words, ["1.2.3.4", "5.6.7.8", "9.9.9.9", "a\tb"]);
}

#[test]
fn fail2ban_stops_at_the_first_refused_entry() {
    let c =
        local("[j]\nignoreip = 192.0.2.1 198.51.100.0/255.0.255.0 104.16.0.0/13\n          x/-3\n");
    let j = c.jail("j").unwrap();
    assert_eq!(j.ignoreip, nets(&["192.0.2.1/32"]));
    let (_, line, message) = &c.malformed()[0];
    assert_eq!(*line, 2);
    assert!(
        message.contains("\"198.51.100.0/255.0.255.0\"") && message.contains("not ignored"),
        "{message}"
    );
}

#[test]
fn ignores_addresses_and_whole_networks_only() {
    let c = local(
        "[j]\nignoreip = 104.16.0.0/13 104.24.0.0/14 2606:4700::/32 ::ffff:172.64.0.0/109 \
         cf.example\n",
    );
    let j = c.jail("j").unwrap();
    assert!(j.ignores(&net("104.16.0.1/32")));
    assert!(j.ignores(&net("104.27.255.255/32")), "in the second range");
    assert!(j.ignores(&net("104.20.0.0/16")), "inside");
    assert!(j.ignores(&net("104.16.0.0/13")) && j.ignores(&net("104.20.0.0/14")));
    assert!(j.ignores(&net("104.16.0.0/13")));
    // Two adjacent ranges cover what spans both.
    assert!(j.ignores(&net("104.23.0.0/16")) && !j.ignores(&net("104.16.0.0/12")));
    assert!(!j.ignores(&net("104.0.0.0/8")), "overlapping");
    assert!(
        !j.ignores(&net("104.28.0.0/16")) && !j.ignores(&net("192.0.2.1/32")),
        "outside"
    );
    assert!(
        j.ignores(&net("::ffff:104.16.0.1/128")),
        "mapped address as IPv4"
    );
    assert!(j.ignores(&net("2606:4700:10::/48")) && !j.ignores(&net("2606::/16")));
    // A mapped network with a prefix stays IPv6 in fail2ban: no IPv4 address matches it.
    assert!(!j.ignores(&net("172.64.0.1/32")));
    // Host names are not resolved.
    assert_eq!(j.ignore_hosts, ["cf.example"]);
    let adjacent = local("[j]\nignoreip = 104.16.0.0/13 104.24.0.0/13\n");
    assert!(adjacent.jail("j").unwrap().ignores(&net("104.16.0.0/12")));
    let all = local("[j]\nignoreip = 0.0.0.0/0 ::/0\n");
    let all = all.jail("j").unwrap();
    assert!(all.ignores(&net("255.255.255.255/32")) && all.ignores(&net("::/0")));
    assert!(!local("[j]\n")
        .jail("j")
        .unwrap()
        .ignores(&net("104.16.0.1/32")));
}

#[test]
fn flags_are_true_only_as_fail2ban_spells_true() {
    let enabled = |v: &str| {
        local(&format!("[j]\nenabled = {v}\n"))
            .jail("j")
            .unwrap()
            .enabled
    };
    for v in ["true", "True", "YES", "on", "1"] {
        assert!(enabled(v), "{v}");
    }
    for v in ["true # on", "y", "enabled", "", "0", "false"] {
        assert!(!enabled(v), "{v}");
    }
    assert!(enabled("true ; inline comment"));
    let c = local("[j]\nignoreself = false\nignorecommand = /bin/x <ip>\n[k]\n");
    assert!(!c.jail("j").unwrap().ignoreself && c.jail("k").unwrap().ignoreself);
    assert_eq!(
        c.jail("j").unwrap().ignorecommand.as_deref(),
        Some("/bin/x <ip>")
    );
}

#[test]
fn the_longest_ban_with_increment() {
    // `[DEFAULT]`'s bantime, so that a jail can set its own.
    let longest = |extra: &str| {
        let c = local(&format!(
            "[DEFAULT]\nbantime = 1h\n[j]\nbantime.increment = true\n{extra}"
        ));
        assert!(c.malformed().is_empty(), "{:?}", c.malformed());
        c.jail("j").unwrap().longest_ban()
    };
    assert_eq!(longest("bantime.maxtime = 1w\n"), secs(604_800));
    assert_eq!(
        longest("bantime.maxtime = 5m\n"),
        secs(3600),
        "the first ban is never cut"
    );
    assert_eq!(
        longest(""),
        secs(3600 << 20),
        "the default formula stops at 2^20"
    );
    assert_eq!(longest("bantime.factor = 2\n"), secs(3600 << 21));
    assert_eq!(
        longest("bantime.formula = ban.Time * 3\n"),
        Some(BanLength::Unbounded)
    );
    assert_eq!(
        longest("bantime.formula = ban.Time * 3\nbantime.maxtime = 2d\n"),
        secs(2 * 86_400)
    );
    assert_eq!(longest("bantime.multipliers = 1 2 4 8\n"), secs(8 * 3600));
    assert_eq!(
        longest("bantime.multipliers = 100 2\n"),
        secs(2 * 3600),
        "index 0 is never used"
    );
    assert_eq!(
        longest("bantime.multipliers = 1 2\nbantime.maxtime = 1h30m\nbantime.rndtime = 10m\n"),
        secs(5400 + 600)
    );
    assert_eq!(
        longest("bantime.maxtime = -1\n"),
        Some(BanLength::Permanent)
    );
    assert_eq!(
        longest("bantime.maxtime =\n"),
        secs(3600 << 20),
        "empty is unset"
    );
    assert_eq!(longest("bantime = -1\n"), Some(BanLength::Permanent));
    assert_eq!(longest("bantime = 0\n"), secs(0));

    let c = local(
        "[j]\nbantime.increment = true\nbantime.multipliers = 1  2\nbantime.maxtime = soon\n",
    );
    assert_eq!(c.malformed().len(), 2, "{:?}", c.malformed());
    assert_eq!(
        c.jail("j").unwrap().longest_ban(),
        Some(BanLength::Unbounded)
    );
    // Off: the parameters do not count.
    let c = local("[j]\nbantime.increment = false\nbantime.maxtime = 1w\n");
    assert_eq!(c.jail("j").unwrap().longest_ban(), secs(600));
}

#[test]
fn cf_ban_audits_own_ignorecommand_is_recognised() {
    let own = |cmd: &str| {
        local(&format!("[j]\nignorecommand = {cmd}\n"))
            .jail("j")
            .unwrap()
            .ignores_by_command_cloudflare()
    };
    for cmd in [
        "/usr/local/bin/cf-ban-audit contains <ip>",
        "cf-ban-audit contains <ip>",
        "/opt/cf-ban-audit contains --ranges /etc/extra.txt \"<ip>\"",
        "/usr/bin/cf-ban-audit contains --ranges=/etc/extra.txt <ip> # Cloudflare",
    ] {
        assert!(own(cmd), "{cmd}");
    }
    for cmd in [
        "",
        "/usr/local/bin/cf-ban-audit contains --no-cloudflare <ip>",
        "/usr/local/bin/cf-ban-audit contains <ip> 192.0.2.1",
        "/usr/local/bin/cf-ban-audit contains <ip> || true",
        "/usr/local/bin/cf-ban-audit contains <ip>; exit 0",
        "/usr/local/bin/cf-ban-audit-old contains <ip>",
        "$(which cf-ban-audit) contains <ip>",
        "cf-ban-audit check <ip>",
        "cf-ban-audit contains",
    ] {
        assert!(!own(cmd), "{cmd}");
    }
}

use crate::formats::test_support::Rng;

#[test]
fn no_input_panics() {
    let pieces: &[&[u8]] = &[
        b"[",
        b"]",
        b"[DEFAULT]",
        b"[sshd]",
        b"[INCLUDES]",
        b"[a?b]",
        b"\n",
        b"\r",
        b"\r\n",
        b" ",
        b"\t",
        b"=",
        b":",
        b"#",
        b";",
        b" ;",
        b"%",
        b"%%",
        b"%(",
        b")s",
        b"%(known/ignoreip)s",
        b"%(default/bantime)s",
        b"%(sshd/x)s",
        b"%(__name__)s",
        b"%(bantime)s",
        b"bantime",
        b"bantime.increment = true",
        b"bantime.maxtime",
        b"bantime.multipliers = 1 2",
        b"bantime.factor",
        b"bantime.formula",
        b"ignoreip",
        b"enabled",
        b"ignorecommand",
        b"1h",
        b"-1",
        b"**",
        b"//",
        b"(",
        b")",
        b"1e+3",
        b"0x1",
        b"1.",
        b"104.16.0.0/13",
        b"::ffff:1.2.3.4",
        b"/255.0.0.0",
        b"/ffff::",
        b"[::1]",
        b"\xff",
        b"\xef\xbb\xbf",
        b"\xc3\xa9",
        b"\x1c",
        b"\xc2\xa0",
        b"9999999999999999999999999",
        b"\0",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let fixture = load(&fixture_dir()).unwrap();
    for round in 0..3000 {
        let mut list = Vec::new();
        for f in 0..1 + rng.below(3) {
            let mut bytes = Vec::new();
            if round % 3 == 0 {
                // A real file, bytes spliced.
                bytes = fixture[rng.below(fixture.len())].1.clone();
                for _ in 0..1 + rng.below(8) {
                    let at = rng.below(bytes.len() + 1);
                    let piece = pieces[rng.below(pieces.len())];
                    bytes.splice(at..at, piece.iter().copied());
                }
            } else if round % 3 == 1 {
                for _ in 0..rng.below(200) {
                    bytes.push(rng.next() as u8);
                }
            } else {
                for _ in 0..rng.below(60) {
                    bytes.extend_from_slice(pieces[rng.below(pieces.len())]);
                }
            }
            list.push((PathBuf::from(format!("f{f}")), bytes));
        }
        let c = JailConfig::read(&list);
        for j in c.jails() {
            let _ = (
                j.longest_ban(),
                j.may_still_hold(1),
                j.ignores_by_command_cloudflare(),
            );
            let _ = (j.ignores(&net("104.16.0.1/32")), j.ignores(&net("::/0")));
        }
        let _ = (c.malformed(), c.notes(), c.jail("sshd"));
    }
    for _ in 0..3000 {
        let text: String = (0..rng.below(30))
            .map(|_| char::from(b"0123456789 .+-*/%()#\nehmdwsyoEx_"[rng.below(30)]))
            .collect();
        let _ = str2seconds(&text);
        let entry: String = (0..rng.below(30))
            .map(|_| char::from(b"0123456789abcdef.:/[]-+_ x"[rng.below(26)]))
            .collect();
        let _ = parse_ignore_entry(&entry);
    }
}

// ---------------------------------------------------------------------------------------------
// Against the installed fail2ban
// ---------------------------------------------------------------------------------------------

/// `what`, or `None` with a SKIP notice; a failure when `CI` is set.
fn need<T>(what: Option<T>, notice: &str) -> Option<T> {
    if what.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("required in CI: {notice}");
        }
        crate::test_skip(notice);
    }
    what
}

/// A program in `PATH`.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Copies a directory tree.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else if path.is_file() {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// `fail2ban-client -c DIR -d` on the fixture (beside the installed filters, actions and
/// path files, which its jails need): the bantime, increment, maxtime and ignoreip fail2ban
/// sets for each jail it starts are the ones read here.
#[test]
fn fail2ban_client_reads_the_fixture_the_same_way() {
    let client = which("fail2ban-client").filter(|_| Path::new("/etc/fail2ban/filter.d").is_dir());
    let Some(client) = need(
        client,
        "fail2ban-client not installed (apt-get install fail2ban)",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    std::fs::create_dir(&conf).unwrap();
    for name in ["filter.d", "action.d"] {
        copy_tree(&Path::new("/etc/fail2ban").join(name), &conf.join(name));
    }
    for entry in std::fs::read_dir("/etc/fail2ban").unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("paths-") || name == "fail2ban.conf" {
            std::fs::copy(&path, conf.join(&name)).unwrap();
        }
    }
    copy_tree(&fixture_dir(), &conf);
    let out = Command::new(client)
        .arg("-c")
        .arg(&conf)
        .arg("-d")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("ERROR"),
        "{stderr}"
    );

    // ['set', 'sshd', 'addignoreip', '127.0.0.1/8', '::1', ...]: the values hold no quotes.
    let mut set: std::collections::BTreeMap<(String, String), Vec<String>> = Default::default();
    let mut started = Vec::new();
    for line in stdout.lines() {
        let quoted: Vec<String> = line
            .split('\'')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        if line.starts_with("['add', ") {
            started.push(quoted[1].clone());
        } else if line.starts_with("['set', ") && quoted.len() >= 3 {
            let mut values = quoted[3..].to_vec();
            if line.ends_with(", True]") {
                values.push("True".to_string());
            }
            set.insert((quoted[1].clone(), quoted[2].clone()), values);
        }
    }
    let c = JailConfig::read(&load(&fixture_dir()).unwrap());
    let enabled: Vec<&str> = c
        .jails()
        .iter()
        .filter(|j| j.enabled)
        .map(|j| j.name.as_str())
        .collect();
    assert_eq!(started, enabled);
    for jail in ["sshd", "nginx-http-auth", "recidive"] {
        let mine = c.jail(jail).unwrap();
        let get = |key: &str| {
            set.get(&(jail.to_string(), key.to_string()))
                .cloned()
                .unwrap_or_default()
        };
        let bantime = get("bantime");
        let theirs = str2seconds(&bantime[0])
            .ok()
            .and_then(|n| bantime_of(n).ok());
        assert_eq!(
            theirs, mine.bantime,
            "{jail}: fail2ban sets bantime {bantime:?}"
        );
        let (mut nets, mut hosts) = (Vec::new(), Vec::new());
        for entry in get("addignoreip") {
            match parse_ignore_entry(&entry) {
                IgnoreEntry::Net(n) => nets.push(n),
                IgnoreEntry::Host(h) => hosts.push(h.to_string()),
                other => panic!("{jail}: {entry}: {other:?}"),
            }
        }
        assert_eq!(
            (&nets, &hosts),
            (&mine.ignoreip, &mine.ignore_hosts),
            "{jail}"
        );
        assert_eq!(
            get("bantime.increment") == ["True"],
            mine.increment.is_some(),
            "{jail}"
        );
        let maxtime = get("bantime.maxtime")
            .first()
            .and_then(|m| str2seconds(m).ok())
            .map(Num::as_f64);
        assert_eq!(
            maxtime,
            mine.increment.as_ref().and_then(|i| i.maxtime),
            "{jail}"
        );
    }
    assert_eq!(
        set[&("recidive".to_string(), "bantime.maxtime".to_string())],
        ["1w"]
    );
}

/// Python with fail2ban's modules (the interpreter `fail2ban-client` runs with).
fn fail2ban_python() -> Option<PathBuf> {
    let client = std::fs::read_to_string(which("fail2ban-client")?).ok()?;
    let python = PathBuf::from(client.lines().next()?.strip_prefix("#!")?.trim());
    let ok = Command::new(&python)
        .args(["-c", "import fail2ban.server.mytime"])
        .output();
    ok.is_ok_and(|o| o.status.success()).then_some(python)
}

/// The duration and entry tables above, run through fail2ban's own `MyTime.str2seconds` and
/// `IPAddr`.
#[test]
fn the_tables_agree_with_fail2bans_own_code() {
    let Some(python) = need(
        fail2ban_python(),
        "fail2ban's Python modules not installed (apt-get install fail2ban)",
    ) else {
        return;
    };
    let script = r#"
import json, sys, warnings
warnings.simplefilter("ignore")
from fail2ban.server.mytime import MyTime
from fail2ban.server.ipdns import IPAddr
durations, entries = json.load(sys.stdin)
out = [[], []]
for d in durations:
    try:
        v = MyTime.str2seconds(d)
        out[0].append(float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None)
    except Exception:
        out[0].append(None)
for e in entries:
    try:
        ip = IPAddr(e)
        if not ip.isValid:
            out[1].append("host:" + ip.raw)
        else:
            out[1].append("%s/%d" % (str(ip).split("/")[0], min(ip.plen, 32 if ip.isIPv4 else 128)))
    except Exception:
        out[1].append(None)
json.dump(out, sys.stdout)
"#;
    let input = serde_json::json!([
        DURATIONS.iter().map(|d| d.0).collect::<Vec<_>>(),
        ENTRIES.iter().map(|e| e.0).collect::<Vec<_>>(),
    ]);
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let (durations, entries): (Vec<Option<f64>>, Vec<Option<String>>) =
        serde_json::from_slice(&out.stdout).unwrap();
    for (&(text, want), got) in DURATIONS.iter().zip(durations) {
        assert_eq!(got, want, "fail2ban's str2seconds({text:?})");
    }
    for (&(entry, want), got) in ENTRIES.iter().zip(entries) {
        assert!(
            same_entry(got.as_deref(), want),
            "fail2ban's IPAddr({entry:?}) is {got:?}"
        );
    }
}
