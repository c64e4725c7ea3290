//! The plain list's reader: ranges as blocks, detection, ban lists against allow and
//! unknown ones, and runs of lines read as lines are.

use super::*;
use crate::addr::range_nets;
use crate::formats::test_support::{ctx, Collect};

fn run(path: &str, text: &str) -> Collect {
    let mut p = PlainListParser::new(&ctx(path));
    let mut sink = Collect::default();
    for (i, line) in text.lines().enumerate() {
        p.line(i as u64 + 1, line.as_bytes(), &mut sink);
    }
    p.finish(&mut sink);
    sink
}

#[test]
fn ranges_split_into_minimal_blocks() {
    let nets = range_nets(
        "173.245.48.5".parse().unwrap(),
        "173.245.48.20".parse().unwrap(),
    )
    .unwrap();
    let text: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
    assert_eq!(
        text,
        [
            "173.245.48.5/32",
            "173.245.48.6/31",
            "173.245.48.8/29",
            "173.245.48.16/30",
            "173.245.48.20/32"
        ]
    );
    let all = range_nets(
        "0.0.0.0".parse().unwrap(),
        "255.255.255.255".parse().unwrap(),
    );
    assert_eq!(all.unwrap()[0].to_string(), "0.0.0.0/0");
    let one = range_nets(
        "2606:4700::1".parse().unwrap(),
        "2606:4700::1".parse().unwrap(),
    );
    assert_eq!(one.unwrap()[0].to_string(), "2606:4700::1/128");
    assert!(range_nets("192.0.2.1".parse().unwrap(), "2001:db8::1".parse().unwrap()).is_none());
    // the worst case stays small
    let worst = range_nets(
        "::1".parse().unwrap(),
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe".parse().unwrap(),
    );
    assert_eq!(worst.unwrap().len(), 254);
}

#[test]
fn detection_needs_nearly_all_lines_to_be_addresses() {
    let p = Path::new("x");
    assert_eq!(detect(p, b"104.16.0.1\n"), Some(Format::PlainList));
    assert_eq!(
        detect(p, b"\xef\xbb\xbf104.16.0.1\r\n2606:4700::/32\r\n"),
        Some(Format::PlainList)
    );
    assert_eq!(detect(p, b"# nothing\n\n"), None);
    assert_eq!(detect(p, b""), None);
    // csf.ignore: an address and two Include lines
    assert_eq!(
        detect(
            p,
            b"127.0.0.1\n\nInclude /etc/csf/cpanel.comodo.ignore\nInclude /etc/csf/cpanel.ignore\n"
        ),
        None
    );
    // fail2ban's ignoreip test file: host names among addresses
    assert_eq!(detect(p, b"test-local-net ; x\ntest-subnet-a, test-subnet-b ; y\n192.0.2.200, 2001:0db8::00c8 # 2 IPs\n"), None);
    // a cut last line is not judged
    let mut head = b"104.16.0.1\n".repeat(5);
    head.extend_from_slice(b"104.16.");
    assert_eq!(detect(p, &head), Some(Format::PlainList));
    // a log line is not a list
    assert_eq!(
        detect(
            p,
            b"104.16.0.1 - - [24/Nov/2026:03:06:43 +0000] \"GET / HTTP/1.1\" 200\n"
        ),
        None
    );
}

#[test]
fn a_ban_list_gives_one_event_per_entry() {
    let s = run(
        "/etc/nginx/blocklist.txt",
        "# bad ones\n104.16.0.1\n\n198.51.100.0-198.51.100.255 ; a range\n2606:4700::/32, 203.0.113.9\nbad.example\n#104.17.0.1\n",
    );
    let nets: Vec<String> = s.events.iter().map(|e| e.net.to_string()).collect();
    assert_eq!(
        nets,
        [
            "104.16.0.1/32",
            "198.51.100.0/24",
            "2606:4700::/32",
            "203.0.113.9/32"
        ]
    );
    assert!(s
        .events
        .iter()
        .all(|e| e.scope == "blocklist.txt" && e.action == Action::Listed && e.tool == Tool::List));
    assert_eq!(s.events[1].location.line, 4);
    assert_eq!(s.malformed_lines(), [6]);
    assert!(s.notes.is_empty());
}

#[test]
fn allow_and_unknown_lists_only_give_notes() {
    let allow = run(
        "/etc/nginx/cloudflare-ips-v4",
        "173.245.48.0/20\n103.21.244.0/22\n",
    );
    assert!(allow.events.is_empty());
    assert_eq!(allow.notes, ["allow list: 2 entries"]);
    let unknown = run("/srv/data/ips.txt", "104.16.0.1\n104.16.0.2\n104.16.0.3\n");
    assert!(unknown.events.is_empty());
    assert_eq!(unknown.notes, ["list of unknown purpose: 3 entries"]);
    let ignore = run("/etc/fail2ban/f2b-ignoreip.list", "104.16.0.1\n");
    assert!(ignore.events.is_empty());
    assert_eq!(ignore.notes, ["allow list: 1 entries"]);
}

/// A random list: bare addresses of both families (some Cloudflare's), near misses
/// (leading zeros, four digits, 256), CIDRs, ranges, several entries a line, comments,
/// blank lines, host names, CRLF, NULs at a line's start, and a last line with no end.
fn random_list(rng: &mut crate::formats::test_support::Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(400) {
        let (a, b) = (rng.below(256), rng.below(256));
        let line = match rng.below(16) {
            0..=5 => format!("{}.{}.{}.{}", [45, 104, 80][rng.below(3)], 16 + a % 8, b, a),
            6 => format!("2001:db8:{a:x}::{b:x}"),
            7 => format!("2606:4700:{a:x}::{b:x}"),
            8 => format!("0{a}.1.2.3"),
            9 => format!("104.{}.{b}.{a}", [16, 256, 1000][rng.below(3)]),
            10 => format!("104.16.{a}.0/{}", 16 + b % 20),
            11 => format!("104.16.0.{a} - 104.16.1.{b}"),
            12 => format!("  45.1.2.{a}, 104.16.3.{b} # two"),
            13 => format!("104.16.9.{a}#no space"),
            14 => ["", "# a comment", ";", "host.example", "   "][rng.below(5)].to_string(),
            _ => format!("::ffff:104.16.{a}.{b}"),
        };
        if rng.below(10) == 0 {
            out.extend_from_slice(b"\0\0");
        }
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(if rng.below(6) == 0 { b"\r\n" } else { b"\n" });
    }
    if rng.below(3) == 0 {
        out.extend_from_slice(b"104.16.7.7");
    }
    out
}

/// Read in runs of lines ([`LineParser::block`], each line's bare address counted without
/// a call a line), a list gives what it gives read line by line: the same events kept, the
/// others counted, the same malformed lines and notes, whatever the reads' sizes.
#[test]
fn blocks_read_as_lines_do() {
    use crate::formats::test_support::{feed_as, feed_blocks, Rng};
    use crate::formats::LongLines;
    fn counted(net: &IpNet) -> bool {
        let cloudflare: [IpNet; 2] = [
            "104.16.0.0/13".parse().unwrap(),
            "2606:4700::/32".parse().unwrap(),
        ];
        !cloudflare
            .iter()
            .any(|c| c.contains(net) || net.contains(c))
    }
    let seen = |c: &Collect| -> Vec<(IpNet, u64, String)> {
        c.events
            .iter()
            .filter(|e| !counted(&e.net))
            .map(|e| (e.net, e.location.line, e.scope.clone()))
            .collect()
    };
    let long = LongLines::Pieces(MAX_LIST_LINE);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut kept, mut fast) = (0, 0);
    for round in 0..300 {
        let mut data = random_list(&mut rng);
        if round == 7 {
            // One line longer than a piece, then more lines.
            let long_line = "45.1.2.3 104.16.0.1 ".repeat(crate::MAX_LINE / 10);
            data.extend_from_slice(format!("\n{long_line}\n104.16.0.9\n").as_bytes());
        }
        for path in ["/etc/nginx/banned-ips.txt", "/srv/lists/ips.txt"] {
            let mut by_line = Collect::default();
            feed_as(
                &mut PlainListParser::new(&ctx(path)),
                long,
                &data,
                &mut by_line,
            );
            let ban = path.contains("banned");
            // (Reads of a byte or a few, where the data is small.)
            let steps: &[usize] = if data.len() < 1 << 16 {
                &[1, 7, 4096, usize::MAX]
            } else {
                &[4096, usize::MAX]
            };
            for &step in steps {
                let mut by_block = Collect::default();
                let mut parser = PlainListParser::new(&ctx(path));
                let count = feed_blocks(&mut parser, long, &data, step, counted, &mut by_block);
                let what = format!("round {round}, {path}, step {step}");
                assert_eq!(seen(&by_block), seen(&by_line), "{what}");
                // The entries counted, and those of lines read whole (which the test's
                // sink collects), are all the others.
                let others = |c: &Collect| c.events.iter().filter(|e| counted(&e.net)).count();
                assert_eq!(
                    count + others(&by_block) as u64,
                    others(&by_line) as u64,
                    "{what}"
                );
                fast += count;
                assert_eq!(by_block.malformed, by_line.malformed, "{what}");
                assert_eq!(by_block.cuts, by_line.cuts, "{what}");
                assert_eq!(by_block.notes, by_line.notes, "{what}");
                kept += usize::from(ban) * by_block.events.len();
            }
        }
    }
    // The lists did hold Cloudflare addresses, kept as events, and others, counted
    // without a line's sink.
    assert!(kept > 1000 && fast > 1000, "{kept} {fast}");
}
