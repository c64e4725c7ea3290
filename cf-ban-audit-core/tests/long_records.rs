//! Records longer than a MiB, in the shapes the real programs write them, made at size here
//! (never committed): `fail2ban-client banned` and `status` of a jail with 79,000 bans (one
//! line of 1.1–1.35 MB), a CrowdSec decision stream saved on one line, an nft set whose
//! `elements = { ... }` is one 1.5 MB line, a ModSecurity JSON entry over a MiB, a blocklist
//! on one line longer than the detection head. Each is read whole, from its file and from
//! standard input (the path of `--live` output too): every ban, the last one included, and
//! no error.

use std::io::Read;
use std::net::Ipv4Addr;
use std::path::Path;

use cf_ban_audit_core::{cloudflare, BanState, Format, Report, Scanner};

/// `n` distinct Cloudflare addresses: 104.16.0.1, 104.16.0.2, ... (inside 104.16.0.0/13).
fn cf_addresses(n: usize) -> Vec<String> {
    let base = u32::from(Ipv4Addr::new(104, 16, 0, 1));
    (0..n as u32)
        .map(|i| Ipv4Addr::from(base + i).to_string())
        .collect()
}

fn now() -> chrono::NaiveDateTime {
    "2026-11-24T12:00:00".parse().unwrap()
}

fn scanner() -> Scanner {
    Scanner::new(cloudflare::embedded()).now(now())
}

/// A reader that hands over at most 4000 bytes a read, as a pipe does.
struct Pipe(Vec<u8>, usize);

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(4000).min(self.0.len() - self.1);
        buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
        self.1 += n;
        Ok(n)
    }
}

/// The reports of `bytes` as the file `name`, as standard input given whole (how `--live`
/// output is read: `scan_input`), and as standard input streamed through a pipe.
fn reports(name: &str, bytes: &[u8]) -> Vec<(&'static str, Report)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    vec![
        ("file", scanner().path(&path).scan()),
        ("stdin bytes", scanner().stdin_bytes(bytes.to_vec()).scan()),
        (
            "stdin pipe",
            scanner().stdin(Pipe(bytes.to_vec(), 0)).scan(),
        ),
    ]
}

/// Asserts that `report` read `format` without error and found exactly `addresses` (in any
/// order), each in `state`.
fn assert_every_ban(
    how: &str,
    report: &Report,
    format: Format,
    addresses: &[String],
    state: BanState,
) {
    assert!(report.errors.is_empty(), "{how}: {:?}", report.errors);
    assert_eq!(report.files.len(), 1, "{how}: {:?}", report.files);
    assert_eq!(report.files[0].format, format, "{how}");
    assert_eq!(report.files[0].malformed, 0, "{how}: {:?}", report.files[0]);
    assert_eq!(report.findings.len(), addresses.len(), "{how}");
    let found: std::collections::HashSet<String> =
        report.findings.iter().map(|f| f.address_text()).collect();
    let last = addresses.last().unwrap();
    assert!(found.contains(last), "{how}: the last ban {last} is found");
    assert!(addresses.iter().all(|a| found.contains(a)), "{how}");
    assert!(report.findings.iter().all(|f| f.state == state), "{how}");
}

#[test]
fn fail2ban_client_banned_of_79000_bans_on_one_line() {
    let sshd = cf_addresses(79_000);
    // As fail2ban 1.0.2 prints it: the repr of a list of {jail: [address, ...]} dicts.
    let quoted: Vec<String> = sshd.iter().map(|a| format!("'{a}'")).collect();
    let text = format!(
        "[{{'sshd': [{}]}}, {{'recidive': ['198.51.100.7', '172.64.155.20']}}]\n",
        quoted.join(", ")
    );
    assert!(
        text.len() > 1_100_000 && text.len() < 1_400_000,
        "{}",
        text.len()
    );
    let mut all = sshd.clone();
    all.push("172.64.155.20".into());
    for (how, report) in reports("fail2ban-client-banned.txt", text.as_bytes()) {
        assert_every_ban(how, &report, Format::Fail2banBanned, &all, BanState::Active);
        assert_eq!(report.files[0].events, 79_002, "{how}");
        assert_eq!(report.files[0].lines, 1, "{how}");
        let last = report
            .findings
            .iter()
            .find(|f| f.address_text() == "104.17.52.152")
            .expect("the last address of sshd");
        assert_eq!(last.scope, "sshd");
    }
    assert_eq!(sshd.last().unwrap(), "104.17.52.152");
}

#[test]
fn fail2ban_client_status_of_79000_bans_on_one_line() {
    let sshd = cf_addresses(79_000);
    let text = format!(
        "Status for the jail: sshd\n|- Filter\n|  |- Currently failed:\t3\n|  |- Total failed:\t91234\n\
         |  `- File list:\t/var/log/auth.log\n`- Actions\n   |- Currently banned:\t79000\n\
         |  |- Total banned:\t80211\n   `- Banned IP list:\t{}\n",
        sshd.join(" ")
    );
    assert!(text.len() > 1_100_000, "{}", text.len());
    for (how, report) in reports("fail2ban-client-status-sshd.txt", text.as_bytes()) {
        assert_every_ban(
            how,
            &report,
            Format::Fail2banStatus,
            &sshd,
            BanState::Active,
        );
        let last = report
            .findings
            .iter()
            .find(|f| f.address_text() == *sshd.last().unwrap())
            .unwrap();
        assert_eq!((last.scope.as_str(), last.locations[0].line), ("sshd", 9));
    }
}

#[test]
fn crowdsec_decision_stream_saved_on_one_line() {
    let values = cf_addresses(12_000);
    let decisions: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                r#"{{"duration":"3h59m12.5s","id":{},"origin":"crowdsec","scenario":"crowdsecurity/http-probing","scope":"Ip","type":"ban","uuid":"0b5f33a4-0a3e-4b6a-9d0c-{:012}","value":"{v}"}}"#,
                i + 1,
                i
            )
        })
        .collect();
    let text = format!(r#"{{"deleted":null,"new":[{}]}}"#, decisions.join(","));
    assert!(text.len() > 2 << 20, "{}", text.len());
    for (how, report) in reports("crowdsec-decisions-stream.json", text.as_bytes()) {
        assert_every_ban(
            how,
            &report,
            Format::CrowdsecJson,
            &values,
            BanState::Active,
        );
    }
}

#[test]
fn nft_set_whose_elements_are_one_line_of_one_and_a_half_mb() {
    let members = cf_addresses(110_000);
    let text = format!(
        "table inet f2b-table {{\n\tset addr-set-sshd {{\n\t\ttype ipv4_addr\n\t\telements = {{ {} }}\n\t}}\n\n\
         \tchain f2b-chain {{\n\t\ttype filter hook input priority filter - 1; policy accept;\n\
         \t\ttcp dport 22 ip saddr @addr-set-sshd reject with icmp port-unreachable\n\t}}\n}}\n",
        members.join(", ")
    );
    assert!(text.len() > 1_500_000, "{}", text.len());
    for (how, report) in reports("nft-list-ruleset.txt", text.as_bytes()) {
        assert_every_ban(how, &report, Format::NftRuleset, &members, BanState::Active);
        assert!(
            report.findings.iter().all(|f| f.scope == "sshd"),
            "fail2ban's set of jail sshd"
        );
    }
    // The same as a script loads it: `add element` with the set on one line.
    let script = format!(
        "#!/usr/sbin/nft -f\nadd table ip blocks\nadd set ip blocks bad {{ type ipv4_addr; }}\n\
         add element ip blocks bad {{ {} }}\nadd chain ip blocks in {{ type filter hook input priority 0; }}\n\
         add rule ip blocks in ip saddr @bad drop\n",
        members.join(",")
    );
    for (how, report) in reports("blocks.nft", script.as_bytes()) {
        assert_every_ban(how, &report, Format::NftRuleset, &members, BanState::Active);
    }
}

#[test]
fn modsecurity_json_entries_over_a_mib() {
    // ModSecurity 2.9.7's JSON entry of a denial (the fixture's first line, written by Apache
    // with mod_security2), its request body (part C, logged as `request.body`) grown to 3 MB.
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/modsecurity/v2-serial.json");
    let fixture = std::fs::read_to_string(fixture).unwrap();
    let first = fixture.lines().next().unwrap();
    assert!(first.contains("[client 172.69.7.80]"));
    let body = "a=".to_string() + &"x%20union%20select%201".repeat(150_000);
    let v2 = first.replacen(
        r#""request":{"#,
        &format!(r#""request":{{"body":["{body}"],"#),
        1,
    );
    // libmodsecurity 3's entry of the same size: read whole, and (as its JSON never says
    // whether it refused) counted in the file's note.
    let v3 = |client: &str, id: &str| {
        format!(
            r#"{{"transaction":{{"client_ip":"{client}","time_stamp":"Tue Nov 24 04:07:41 2026","server_id":"0a7c","client_port":0,"host_ip":"127.0.0.1","host_port":80,"unique_id":"{id}","request":{{"method":"POST","http_version":1.1,"uri":"/search","headers":{{"Host":"example.com","Content-Type":"application/x-www-form-urlencoded"}},"body":"{body}"}},"response":{{"http_code":403,"headers":{{"Server":"nginx"}}}},"producer":{{"modsecurity":"ModSecurity v3.0.9 (Linux)","connector":"ModSecurity-nginx v1.0.3","secrules_engine":"Enabled","components":[]}},"messages":[{{"message":"SQL injection attempt","details":{{"ruleId":"400002","data":"Matched ARGS:a","severity":"0"}}}}]}}}}"#
        )
    };
    let text = format!("{v2}\n");
    assert!(text.len() > 3 << 20);
    let expect = vec!["172.69.7.80".to_string()];
    for (how, report) in reports("modsec_audit.json", text.as_bytes()) {
        assert_every_ban(how, &report, Format::ModsecJson, &expect, BanState::Denied);
    }
    let text = format!(
        "{}\n{}\n",
        v3("172.69.7.80", "1.1"),
        v3("104.17.44.12", "1.2")
    );
    assert!(text.len() > 6 << 20);
    for (how, report) in reports("modsec_audit.json", text.as_bytes()) {
        assert!(report.errors.is_empty(), "{how}: {:?}", report.errors);
        assert_eq!(report.files[0].format, Format::ModsecJson, "{how}");
        assert_eq!(report.files[0].malformed, 0, "{how}");
        assert!(
            report.files[0].notes[0]
                .starts_with("2 libmodsecurity JSON entries (the first on line 1)"),
            "{how}: {:?}",
            report.files[0].notes
        );
    }
}

#[test]
fn a_blocklist_on_one_line_longer_than_the_detection_head() {
    // A blocklist exported on one line: documentation addresses, then a Cloudflare one near
    // the end, far past the 8 KiB the format is detected from (the head cuts a token).
    for (filler, sep) in [(1_500, " "), (200_000, ", ")] {
        let mut entries: Vec<String> = (0..filler)
            .map(|i| {
                format!(
                    "{}.{}.{}.{}",
                    [192, 198, 203][i % 3],
                    [0, 51, 0][i % 3],
                    [2, 100, 113][i % 3],
                    i % 250 + 1
                )
            })
            .collect();
        entries.push("104.16.248.249".into());
        entries.push("198.51.100.77".into());
        let text = entries.join(sep) + "\n";
        assert!(text.len() > 8 * 1024);
        let head = &text.as_bytes()[..8 * 1024];
        assert!(
            !head.ends_with(b" ") && !head.ends_with(b","),
            "the head cuts a token"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blocklist.txt");
        std::fs::write(&path, &text).unwrap();
        let report = scanner().path(&path).scan();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(
            report.files.len(),
            1,
            "detected as a list: {:?}",
            report.files
        );
        assert_eq!(report.files[0].format, Format::PlainList);
        assert_eq!(report.files[0].events, filler as u64 + 2);
        let found: Vec<String> = report.findings.iter().map(|f| f.address_text()).collect();
        assert_eq!(found, ["104.16.248.249"]);
        // From standard input it is a list of unknown purpose (no name says it bans), read
        // whole all the same.
        let report = scanner().stdin(Pipe(text.clone().into_bytes(), 0)).scan();
        assert_eq!(
            report.files[0].notes,
            [format!("list of unknown purpose: {} entries", filler + 2)]
        );
    }
}

/// `n` distinct addresses of 198.18.0.0/15 (benchmarking, never Cloudflare's).
fn other_addresses(n: usize) -> Vec<String> {
    let base = u32::from(Ipv4Addr::new(198, 18, 0, 1));
    (0..n as u32)
        .map(|i| Ipv4Addr::from(base + i).to_string())
        .collect()
}

#[test]
fn a_cloudflare_address_last_on_a_line_of_one_and_a_half_mb_is_found() {
    // 110,000 addresses that are not Cloudflare's, then one that is, as the line's LAST
    // element, far past the 1 MiB where lines used to be cut.
    let mut members = other_addresses(110_000);
    members.push("172.64.155.20".into());
    let cf = vec!["172.64.155.20".to_string()];
    let nft = format!(
        "table inet f2b-table {{\n\tset addr-set-sshd {{\n\t\ttype ipv4_addr\n\t\telements = {{ {} }}\n\t}}\n\n\
         \tchain f2b-chain {{\n\t\ttype filter hook input priority filter - 1; policy accept;\n\
         \t\ttcp dport 22 ip saddr @addr-set-sshd reject with icmp port-unreachable\n\t}}\n}}\n",
        members.join(", ")
    );
    let status = format!(
        "Status for the jail: sshd\n|- Filter\n|  |- Currently failed:\t0\n|  |- Total failed:\t0\n\
         |  `- File list:\t/var/log/auth.log\n`- Actions\n   |- Currently banned:\t110001\n\
         |  |- Total banned:\t110001\n   `- Banned IP list:\t{}",
        members.join(" ")
    );
    let list = members.join(" ");
    for (name, text, format) in [
        ("nft-list-ruleset.txt", nft, Format::NftRuleset),
        (
            "fail2ban-client-status-sshd.txt",
            status,
            Format::Fail2banStatus,
        ),
        ("blocklist.txt", list, Format::PlainList),
    ] {
        assert!(text.len() > 1_500_000, "{name}: {}", text.len());
        for (how, report) in reports(name, text.as_bytes()) {
            if format == Format::PlainList && how != "file" {
                // From standard input no name says the list bans.
                continue;
            }
            let how = format!("{name} {how}");
            assert_every_ban(&how, &report, format, &cf, BanState::Active);
        }
    }
}

#[test]
fn live_output_of_two_mb_is_read_whole() {
    // `--live` reads a program's output with `scan_input`, the path standard input takes:
    // 2 MB of `fail2ban-client banned` output, read whole.
    let sshd = cf_addresses(130_000);
    let quoted: Vec<String> = sshd.iter().map(|a| format!("'{a}'")).collect();
    let text = format!("[{{'sshd': [{}]}}]\n", quoted.join(", "));
    assert!(text.len() > 2_000_000);
    let report = scanner().stdin_bytes(text.into_bytes()).scan();
    assert_every_ban(
        "live",
        &report,
        Format::Fail2banBanned,
        &sshd,
        BanState::Active,
    );
}

#[test]
fn a_line_of_a_format_read_whole_past_its_limit_is_an_error_naming_the_line() {
    // fail2ban's log is read whole a line, up to 1 MiB: a line longer than that is cut, the
    // ban before the cut is read, and the cut is an error naming the file and line.
    let mut text = String::from(
        "2026-11-24 03:06:40,100 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 198.51.100.7\n",
    );
    text.push_str("2026-11-24 03:06:43,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 172.64.155.20 ");
    text.push_str(&"x".repeat(3 << 20));
    text.push_str("\n2026-11-24 03:06:44,833 fail2ban.actions        [15521]: NOTICE  [sshd] Ban 104.16.0.9\n");
    for (how, report) in reports("fail2ban.log", text.as_bytes()) {
        assert_eq!(report.errors.len(), 1, "{how}: {:?}", report.errors);
        let e = &report.errors[0];
        let path = if how == "file" { "fail2ban.log" } else { "-" };
        assert!(
            Path::new(e.path.as_deref().unwrap()).ends_with(path),
            "{how}: {e:?}"
        );
        assert!(
            e.message
                .contains(":2: line longer than 1 MiB, the most a fail2ban-log line may be"),
            "{how}: {e:?}"
        );
        let found: Vec<String> = report.findings.iter().map(|f| f.address_text()).collect();
        assert!(
            found.contains(&"104.16.0.9".to_string()),
            "{how}: the next line is read"
        );
        assert_eq!(report.files[0].lines, 3, "{how}");
    }
}
