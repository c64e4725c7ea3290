//! Forged-line attacks: lines built as the real programs write them when an attacker puts
//! crafted text into a request, a header or a user name (escaped as the program escapes it),
//! next to a genuine ban that must still be found. Lines marked "real capture" were written by
//! nginx 1.22.1, Apache 2.4.71 with ModSecurity 2.9.7 and mod_lua (Debian 12 packages) for
//! this test; only the client addresses and the rule file path were changed afterwards.
//!
//! The tests that end in `_limit` document what the programs make impossible to tell apart:
//! they assert what happens, so a change of behaviour is noticed.

use cf_ban_audit_core::{cloudflare, BanState, Format, Scanner, Tool};
use chrono::NaiveDateTime;

/// The report of a scan of `fixtures/DIR` (a directory or a file), as of the fixtures' time.
fn scan_fixtures(dir: &str) -> cf_ban_audit_core::Report {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let now: NaiveDateTime = "2026-11-24T12:00:00".parse().unwrap();
    Scanner::new(cloudflare::embedded())
        .path(root.join(dir))
        .now(now)
        .threads(1)
        .scan()
}

/// (address, tool, scope, active), sorted.
type Found = Vec<(String, Tool, String, bool)>;

/// Writes `files` into a fresh directory and scans it, as the CLI does.
fn scan(files: &[(&str, &str)]) -> Found {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let now: NaiveDateTime = "2026-11-24T12:00:00".parse().unwrap();
    let report = Scanner::new(cloudflare::embedded())
        .path(dir.path())
        .now(now)
        .threads(1)
        .scan();
    let mut found: Found = report
        .findings
        .iter()
        // In force or possibly so: a forged line must neither add such a ban nor hide one.
        .map(|f| {
            let in_force = matches!(f.state, BanState::Active | BanState::Unconfirmed);
            (f.address_text(), f.tool, f.scope.clone(), in_force)
        })
        .collect();
    found.sort_by(|a, b| (&a.0, &a.2).cmp(&(&b.0, &b.2)));
    found
}

fn one(address: &str, tool: Tool, scope: &str, active: bool) -> (String, Tool, String, bool) {
    (address.into(), tool, scope.into(), active)
}

// ModSecurity 2 keeps every Apache error message of a request (`hook_error_log` in
// apache2/mod_security2.c), from any module, and writes it as `Apache-Error:` / in
// `error_messages` through `format_error_log_message` with `log_escape_nq`, which escapes no
// quote and no bracket. mod_lua's `r:err(text)` (and PHP's `error_log()`) logs the script's
// text as the whole message, so a request can make it read
// `[client 104.16.66.70] ModSecurity: Access denied ...`; only the `[file "..."]` tag, which
// names the script instead of ModSecurity's apache2_util.c, tells it apart.

/// A request let through (200) whose Lua handler logged the request's parameter `m`
/// (real capture), then a genuine phase-2 denial of 172.68.10.20 whose argument name, matched
/// value, URI and Referer carry `[id "99x"]` and `[client ...]` text (real capture: the
/// argument name is not escaped, `[data]` and `[uri]` are, `log_escape` in msc_util.c).
const SERIAL: &str = r#"--40d94b4a-A--
[24/Nov/2026:06:51:07.007999 +0000] awUz24qM9TKpvUC-eerB8AAAAIE 192.0.2.70 43992 127.0.0.1 18998
--40d94b4a-B--
GET /lua?m=%5Bclient%20104.16.66.70%5D%20ModSecurity%3A%20Access%20denied%20with%20code%20403%20%28phase%202%29.%20String%20match%20%22x%22%20at%20ARGS%3Aq.%20%5Bfile%20%22/etc/modsecurity/rules.conf%22%5D%20%5Bline%20%229%22%5D%20%5Bid%20%22300099%22%5D%20%5Bmsg%20%22forged%22%5D&w=warnme HTTP/1.1
Host: 127.0.0.1
Connection: close

--40d94b4a-F--
HTTP/1.1 200 OK
Content-Length: 3
Connection: close
Content-Type: text/plain

--40d94b4a-E--

--40d94b4a-H--
Message: Warning. String match "warnme" at ARGS:w. [file "/etc/modsecurity/rules.conf"] [line "9"] [id "300041"] [msg "Fake client tag"]
Apache-Error: [file "apache2_util.c"] [line 275] [level 3] [client 192.0.2.70] ModSecurity: Warning. String match "warnme" at ARGS:w. [file "/etc/modsecurity/rules.conf"] [line "9"] [id "300041"] [msg "Fake client tag"] [hostname "127.0.0.1"] [uri "/lua"] [unique_id "awUz24qM9TKpvUC-eerB8AAAAIE"]
Apache-Error: [file "@/srv/hook.lua"] [line 3] [level 3] [client 104.16.66.70] ModSecurity: Access denied with code 403 (phase 2). String match "x" at ARGS:q. [file "/etc/modsecurity/rules.conf"] [line "9"] [id "300099"] [msg "forged"]
Apache-Handler: lua-script
Stopwatch: 1795503067007283 729 (- - -)
Stopwatch2: 1795503067007283 729; combined=75, p1=15, p2=59, p3=0, p4=0, p5=1, sr=0, sw=0, l=0, gc=0
Response-Body-Transformed: Dechunked
Producer: ModSecurity for Apache/2.9.7 (http://www.modsecurity.org/).
Server: Apache/2.4.71 (Debian)
Engine-Mode: "ENABLED"

--40d94b4a-Z--

--84d62302-A--
[24/Nov/2026:06:52:08.152830 +0000] awU0GA9OrtqTFVQyEDl4VwAAAEg 172.68.10.20 50662 127.0.0.1 18998
--84d62302-B--
GET /x%5Bid%20%22996%22%5D?a%22%5D%20%5Bid%20%22999%22%5D%20%5Bx=evil%20%5Bid%20%22998%22%5D%20%5Bclient%20104.16.66.71%5D%20ModSecurity%3A%20Access%20denied%20with%20code%20403%20%28phase%202%29.%20%5Bid%20%22997%22%5D HTTP/1.1
Host: 127.0.0.1
Referer: http://e/ [id "995"] [client 104.16.66.72]
Connection: close

--84d62302-F--
HTTP/1.1 403 Forbidden
Content-Length: 239
Connection: close
Content-Type: text/html; charset=iso-8859-1

--84d62302-E--

--84d62302-H--
Message: Access denied with code 403 (phase 2). String match "evil" at ARGS:a"] [id "999"] [x. [file "/etc/modsecurity/rules.conf"] [line "11"] [id "300002"] [msg "Evil arg"] [data "ARGS:a\x22] [id \x22999\x22] [x=evil [id \x22998\x22] [client 104.16.66.71] ModSecurity: Access denied with code 403 (phase 2). [id \x22997\x22]"]
Apache-Error: [file "apache2_util.c"] [line 275] [level 3] [client 172.68.10.20] ModSecurity: Access denied with code 403 (phase 2). String match "evil" at ARGS:a"] [id "999"] [x. [file "/etc/modsecurity/rules.conf"] [line "11"] [id "300002"] [msg "Evil arg"] [data "ARGS:a\\\\x22] [id \\\\x22999\\\\x22] [x=evil [id \\\\x22998\\\\x22] [client 104.16.66.71] ModSecurity: Access denied with code 403 (phase 2). [id \\\\x22997\\\\x22]"] [hostname "127.0.0.1"] [uri "/x[id \\\\"996\\\\"]"] [unique_id "awU0GA9OrtqTFVQyEDl4VwAAAEg"]
Action: Intercepted (phase 2)
Stopwatch: 1795503128152370 482 (- - -)
Stopwatch2: 1795503128152370 482; combined=23, p1=13, p2=8, p3=0, p4=0, p5=2, sr=0, sw=0, l=0, gc=0
Response-Body-Transformed: Dechunked
Producer: ModSecurity for Apache/2.9.7 (http://www.modsecurity.org/).
Server: Apache/2.4.71 (Debian)
Engine-Mode: "ENABLED"

--84d62302-Z--

"#;

#[test]
fn modsec2_serial_script_message_is_not_a_denial() {
    assert_eq!(
        scan(&[("modsec_audit.log", SERIAL)]),
        vec![one("172.68.10.20", Tool::Modsecurity, "300002", false)]
    );
}

/// The same two requests in the JSON format (`SecAuditLogFormat JSON`, real capture).
const JSON: &str = concat!(
    r#"{"transaction":{"time":"24/Nov/2026:06:52:15.062921 +0000","transaction_id":"awU0H_bZvqUSP4p7eeI2SgAAAAA","remote_address":"192.0.2.73","remote_port":48152,"local_address":"127.0.0.1","local_port":18998},"request":{"request_line":"GET /lua?m=%5Bclient%20104.16.66.73%5D%20ModSecurity%3A%20Access%20denied%20with%20code%20403%20%28phase%202%29.%20String%20match%20%22x%22%20at%20ARGS%3Aq.%20%5Bfile%20%22/etc/modsecurity/rules.conf%22%5D%20%5Bline%20%229%22%5D%20%5Bid%20%22300099%22%5D%20%5Bmsg%20%22forged%22%5D&w=warnme HTTP/1.1","headers":{"Host":"127.0.0.1","Connection":"close"}},"response":{"protocol":"HTTP/1.1","status":200,"headers":{"Content-Length":"3","Connection":"close","Content-Type":"text/plain"},"body":""},"audit_data":{"messages":["Warning. String match \"warnme\" at ARGS:w. [file \"/etc/modsecurity/rules.conf\"] [line \"10\"] [id \"300041\"] [msg \"Fake client tag\"]"],"error_messages":["[file \"apache2_util.c\"] [line 275] [level 3] [client 192.0.2.73] ModSecurity: Warning. String match \"warnme\" at ARGS:w. [file \"/etc/modsecurity/rules.conf\"] [line \"10\"] [id \"300041\"] [msg \"Fake client tag\"] [hostname \"127.0.0.1\"] [uri \"/lua\"] [unique_id \"awU0H_bZvqUSP4p7eeI2SgAAAAA\"]","[file \"@/srv/hook.lua\"] [line 3] [level 3] [client 104.16.66.73] ModSecurity: Access denied with code 403 (phase 2). String match \"x\" at ARGS:q. [file \"/etc/modsecurity/rules.conf\"] [line \"9\"] [id \"300099\"] [msg \"forged\"]"],"handler":"lua-script","stopwatch":{"p1":33,"p2":150,"p3":1,"p4":0,"p5":2,"sr":0,"sw":0,"l":0,"gc":0},"response_body_dechunked":true,"producer":"ModSecurity for Apache/2.9.7 (http://www.modsecurity.org/)","server":"Apache/2.4.71 (Debian)","engine_mode":"ENABLED"}}"#,
    "\n",
    r#"{"transaction":{"time":"24/Nov/2026:06:52:15.067273 +0000","transaction_id":"awU0H_bZvqUSP4p7eeI2SwAAAAE","remote_address":"173.245.60.33","remote_port":48162,"local_address":"127.0.0.1","local_port":18998},"request":{"request_line":"GET /wp-login.php HTTP/1.1","headers":{"Host":"127.0.0.1","Connection":"close"}},"response":{"protocol":"HTTP/1.1","status":403,"headers":{"Content-Length":"239","Connection":"close","Content-Type":"text/html; charset=iso-8859-1"},"body":""},"audit_data":{"messages":["Access denied with code 403 (phase 1). String match \"/wp-login.php\" at REQUEST_URI. [file \"/etc/modsecurity/rules.conf\"] [line \"11\"] [id \"300001\"] [msg \"WordPress login probe\"]"],"error_messages":["[file \"apache2_util.c\"] [line 275] [level 3] [client 173.245.60.33] ModSecurity: Access denied with code 403 (phase 1). String match \"/wp-login.php\" at REQUEST_URI. [file \"/etc/modsecurity/rules.conf\"] [line \"11\"] [id \"300001\"] [msg \"WordPress login probe\"] [hostname \"127.0.0.1\"] [uri \"/wp-login.php\"] [unique_id \"awU0H_bZvqUSP4p7eeI2SwAAAAE\"]"],"action":{"intercepted":true,"phase":1,"message":"String match \"/wp-login.php\" at REQUEST_URI."},"stopwatch":{"p1":28,"p2":0,"p3":0,"p4":0,"p5":2,"sr":0,"sw":0,"l":0,"gc":0},"response_body_dechunked":true,"producer":"ModSecurity for Apache/2.9.7 (http://www.modsecurity.org/)","server":"Apache/2.4.71 (Debian)","engine_mode":"ENABLED"}}"#,
    "\n",
);

#[test]
fn modsec2_json_script_message_is_not_a_denial() {
    assert_eq!(
        scan(&[("modsec_audit.json", JSON)]),
        vec![one("173.245.60.33", Tool::Modsecurity, "300001", false)]
    );
}

/// Apache's error log (server/log.c `do_errorlog_default`): the module is named by Apache, so
/// a script's message under `[lua:error]` cannot pass for ModSecurity's, and a line naming no
/// module (`[:error]`, modules built without APLOG_USE_MODULE, such as PHP 5) whose two client
/// tags disagree is not read. The genuine denial keeps its rule (`[id "..."]` tags in the
/// unescaped argument name come before ModSecurity's own id; `ap_escape_errorlog_item`
/// doubles the backslashes of `[data]` and `[uri]`; the Referer is cut).
const APACHE_ERROR: &str = concat!(
    // real capture
    r#"[Tue Nov 24 06:51:07.007864 2026] [lua:error] [pid 10583:tid 10629] [client 192.0.2.70:43992] [client 104.16.66.70] ModSecurity: Access denied with code 403 (phase 2). String match "x" at ARGS:q. [file "/etc/modsecurity/rules.conf"] [line "9"] [id "300099"] [msg "forged"]"#,
    "\n",
    r#"[Tue Nov 24 06:51:07.100000 2026] [:error] [pid 10583] [client 192.0.2.71:43993] [client 104.16.66.74] ModSecurity: Access denied with code 403 (phase 2). [id "300098"]"#,
    "\n",
    r#"[Tue Nov 24 06:51:07.200000 2026] [lua:error] [pid 10583:tid 10629] [client 192.0.2.72:43994] client denied by server configuration: /var/www/html/"#,
    "\n",
    // real capture
    r#"[Tue Nov 24 06:52:08.152628 2026] [security2:error] [pid 11075:tid 11088] [client 172.68.10.20:50662] [client 172.68.10.20] ModSecurity: Access denied with code 403 (phase 2). String match "evil" at ARGS:a"] [id "999"] [x. [file "/etc/modsecurity/rules.conf"] [line "11"] [id "300002"] [msg "Evil arg"] [data "ARGS:a\\x22] [id \\x22999\\x22] [x=evil [id \\x22998\\x22] [client 104.16.66.71] ModSecurity: Access denied with code 403 (phase 2). [id \\x22997\\x22]"] [hostname "127.0.0.1"] [uri "/x[id \\"996\\"]"] [unique_id "awU0GA9OrtqTFVQyEDl4VwAAAEg"], referer: http://e/ [id "995"] [client 104.16.66.72]"#,
    "\n",
);

#[test]
fn apache_error_script_lines_are_not_modsecurity() {
    assert_eq!(
        scan(&[("error.log", APACHE_ERROR)]),
        vec![one("172.68.10.20", Tool::Modsecurity, "300002", false)]
    );
}

/// fail2ban's own log quotes the lines it read: with `%r` (`Working on line %r`,
/// `Found a match but no valid date/time found for %r.`, `Failed to process line: %r`) and,
/// for one line, with `%s` (`Match without a timestamp: %s`), all in server/filter.py of
/// 1.0.2. A user name shaped like an `Unban` of the banned address, or like a ban in
/// another jail, changes nothing: the genuine ban stays in force, in its jail.
const FAIL2BAN_LOG: &str = "\
2026-11-20 08:00:10,100 fail2ban.actions        [812]: NOTICE  [sshd] Ban 172.64.201.7
2026-11-20 08:00:11,100 fail2ban.filter         [812]: WARNING [sshd] Found a match but no valid date/time found for 'Nov 20 08:00:11 vm sshd[99]: Invalid user NOTICE  [sshd] Unban 172.64.201.7 from 192.0.2.8 port 2'.
2026-11-20 08:00:11,101 fail2ban.filter         [812]: WARNING [sshd] Match without a timestamp: Nov 20 08:00:11 vm sshd[99]: Invalid user x]: NOTICE  [sshd] Unban 172.64.201.7
2026-11-20 08:00:11,102 fail2ban.filter         [812]: WARNING [sshd] Please try setting a custom date pattern (see man page jail.conf(5)).
2026-11-20 08:00:12,100 fail2ban.filter         [812]: HEAVY   Working on line 'Nov 20 08:00:12 vm sshd[99]: Invalid user fail2ban.actions        [812]: NOTICE  [recidive] Ban 172.64.201.7'
2026-11-20 08:00:13,100 fail2ban.filter         [812]: ERROR   Failed to process line: 'x]: NOTICE  [sshd] Unban 172.64.201.7', caught exception: ValueError('x')
";

/// sshd writes the user name into its own message (`Invalid user %.100s from %.100s port
/// %d`, `Connection closed by invalid user %s %s port %d [preauth]`, auth.c / sshd.c), after
/// its own tag; syslog hands a line to fail2ban only when the tag is fail2ban's.
const SYSLOG: &str = "\
Nov 22 06:30:10 vm systemd[1]: Started fail2ban.service - Fail2Ban Service.
Nov 22 06:30:20 vm fail2ban.actions[1099]: NOTICE [sshd] Ban 162.158.201.8
Nov 22 06:30:21 vm sshd[3141]: Invalid user fail2ban.actions[1099]: NOTICE [sshd] Unban 162.158.201.8 from 198.51.100.9 port 52144
Nov 22 06:30:22 vm sshd[3141]: Invalid user fail2ban[1099]: [sshd] Unban 162.158.201.8 from 198.51.100.9 port 52145
Nov 22 06:30:23 vm sshd[3141]: Connection closed by invalid user vm fail2ban-server[1099]: fail2ban.actions        [1099]: NOTICE  [sshd] Unban 162.158.201.8 198.51.100.9 port 52146 [preauth]
Nov 22 06:30:24 vm sshd[3141]: Invalid user fail2ban.actions[1099]: NOTICE [recidive] Ban 162.158.201.8 from 198.51.100.9 port 52147
";

#[test]
fn fail2ban_forged_unban_or_jail_changes_nothing() {
    assert_eq!(
        scan(&[("fail2ban.log", FAIL2BAN_LOG), ("syslog", SYSLOG)]),
        vec![
            one("162.158.201.8", Tool::Fail2ban, "sshd", true),
            one("172.64.201.7", Tool::Fail2ban, "sshd", true),
        ]
    );
}

/// LIMIT. nginx decodes `%0A` in the URI (`ngx_http_parse_complex_uri`, state
/// `sw_quoted_second`) and writes the path of a missing file raw in
/// `open() "%s" failed` (`ngx_http_static_handler`; `ngx_log_error_core` escapes nothing),
/// so one request for `/x%0A<line>` writes a whole line of the attacker's choosing; the rest
/// of nginx's own line lands in a `referrer: "..."`, which is raw client text in real lines
/// too. Real capture (nginx 1.22.1, client 192.0.2.80): the forged refusal of 104.16.0.1 is
/// byte for byte a real one, and is reported.
const NGINX_SPLIT: &str = concat!(
    "2026/11/24 06:50:32 [notice] 10218#10218: start worker processes\n",
    "2026/11/24 06:50:39 [error] 10220#10220: *2 open() \"/var/www/html/x\n",
    r#"2026/11/24 04:15:30 [error] 1#1: *5 limiting requests, excess: 1.000 by zone "req_api", client: 104.16.0.1, server: www.example.com, request: "GET /api/ HTTP/1.1", host: "www.example.com", referrer: "" failed (2: No such file or directory), client: 192.0.2.80, server: www.example.com, request: "GET /x%0A2026/11/24%2004:15:30%20[error]%201%231:%20*5%20limiting%20requests,%20excess:%201.000%20by%20zone%20%22req_api%22,%20client:%20104.16.0.1,%20server:%20www.example.com,%20request:%20%22GET%20/api/%20HTTP/1.1%22,%20host:%20%22www.example.com%22,%20referrer:%20%22 HTTP/1.1", host: "www.example.com""#,
    "\n",
    r#"2026/11/24 06:50:40 [error] 10220#10220: *3 limiting requests, excess: 1.980 by zone "req_api", client: 2606:4700:130::99, server: www.example.com, request: "GET /api/ HTTP/1.1", host: "www.example.com""#,
    "\n",
);

#[test]
fn nginx_decoded_newline_in_uri_forges_a_whole_line_limit() {
    assert_eq!(
        scan(&[("error.log", NGINX_SPLIT)]),
        vec![
            // forged by 192.0.2.80: cannot be told from a real line
            one("104.16.0.1", Tool::NginxLimit, "req_api", false),
            one("2606:4700:130::99", Tool::NginxLimit, "req_api", false),
        ]
    );
}

/// LIMIT. libmodsecurity 3 (`RuleMessage::log`, rule_message.cc) writes the matched value
/// unescaped before its own `[file "..."] [line "..."] [id "..."]` (`toHexIfNeeded` escapes
/// only non-printable bytes), and `[msg]`, `[data]` and `[uri]` after them are unescaped too:
/// a value carrying a complete run names another rule. The address, ModSecurity's
/// `[client X]` that opens the message, stays the genuine one.
const NGINX_V3: &str = concat!(
    "2026/11/24 04:15:19 [notice] 24596#24596: nginx/1.22.1\n",
    r#"2026/11/24 04:15:33 [error] 24599#24599: *23 [client 172.64.33.2] ModSecurity: Access denied with code 403 (phase 2). Matched "Operator `Rx' with parameter `(?i)union\s+select' against variable `ARGS:q' (Value: `1 union select 2' ) [file "/etc/nginx/modsec/x.conf"] [line "1"] [id "999"] [client 104.16.66.90]' ) [file "/etc/nginx/modsec/rules.conf"] [line "6"] [id "100002"] [rev ""] [msg "SQL injection"] [data "Matched ARGS:q"] [severity "0"] [ver ""] [maturity "0"] [accuracy "0"] [hostname "127.0.0.1"] [uri "/"] [unique_id "179549376761.577831"] [ref "o0,16v4,62"], client: 172.64.33.2, server: shop.example.net, request: "GET /?q=1%20union%20select%202'%20)%20[file%20%22/etc/nginx/modsec/x.conf%22]%20[line%20%221%22]%20[id%20%22999%22]%20[client%20104.16.66.90] HTTP/1.1", host: "127.0.0.1:18192""#,
    "\n",
);

#[test]
fn nginx_modsecurity_v3_rule_id_is_best_effort_limit() {
    assert_eq!(
        scan(&[("error.log", NGINX_V3)]),
        // the genuine client, under the rule id the request forged (100002 is the real one)
        vec![one("172.64.33.2", Tool::Modsecurity, "999", false)]
    );
}

// Issue 15, "detection that one line flips". The lines below marked "real capture" were
// written by Python 3's logging module, systemd-journald 252 / journalctl and fail2ban 1.0.2
// (fixtures/injection/lab/make-journal-fixtures.sh; the whole files are fixtures); the dates
// of fail2ban's and the journal's lines were moved to 2026-11-24 for the scan's clock.

/// A web application's log (real capture: Python's logging with the `asctime` fail2ban uses)
/// where one logged user name holds a line break and a line of fail2ban's file form. The
/// file is mostly the application's lines: it is no fail2ban log, and its one fail2ban-shaped
/// line is never read. Beside it, fail2ban's own log (real capture) is read exactly.
const APP_LOG_ASCTIME: &str = "\
2026-12-03 13:06:22,302 INFO webapp.asctime: login failed for user alice
2026-12-03 13:06:22,302 INFO webapp.asctime: login failed for user bob
2026-12-03 13:06:22,302 INFO webapp.asctime: login failed for user x
2026-12-03 13:06:22,301 fail2ban.actions        [812]: NOTICE  [sshd] Ban 104.16.66.204
2026-12-03 13:06:22,302 INFO webapp.asctime: login failed for user carol
2026-12-03 13:06:22,302 INFO webapp.asctime: login failed for user dave
";

/// The same with logging's default format and a syslog line of fail2ban's logger.
const APP_LOG_DEFAULT: &str = "\
INFO:webapp.default:login failed for user alice
INFO:webapp.default:login failed for user bob
INFO:webapp.default:login failed for user x
Nov 22 06:30:20 vm fail2ban.actions[1099]: NOTICE [sshd] Ban 104.16.66.205
INFO:webapp.default:login failed for user carol
INFO:webapp.default:login failed for user dave
";

/// fail2ban 1.0.2's own log (real capture, shortened): a ban still in force at the scan.
const FAIL2BAN_REAL: &str = "\
2026-11-24 03:05:42,702 fail2ban.server         [14021]: INFO    Starting Fail2ban v1.0.2
2026-11-24 03:05:42,743 fail2ban.jail           [14021]: INFO    Creating new jail 'lab-auth'
2026-11-24 03:05:42,752 fail2ban.jail           [14021]: INFO    Jail 'lab-auth' started
2026-11-24 03:05:42,948 fail2ban.filter         [14021]: INFO    [lab-auth] Found 104.16.77.1 - 2026-11-24 03:05:42
2026-11-24 03:05:42,980 fail2ban.actions        [14021]: NOTICE  [lab-auth] Ban 104.16.77.1
";

#[test]
fn one_fail2ban_or_syslog_line_does_not_make_an_application_log_fail2bans() {
    assert_eq!(
        scan(&[
            ("app.log", APP_LOG_ASCTIME),
            ("app-default.log", APP_LOG_DEFAULT),
            ("fail2ban.log", FAIL2BAN_REAL),
        ]),
        vec![one("104.16.77.1", Tool::Fail2ban, "lab-auth", true)]
    );
}

/// `journalctl --no-hostname` (real capture): fail2ban's own lines (logtarget = SYSLOG, tag
/// fail2ban.actions; logtarget = STDOUT under the journal, tag fail2ban-server), then an
/// application (tag myapp) that printed request values with line breaks, each kept by the
/// journal as a line of myapp. Without a host the tag is the first token; read as if a host
/// came first, `myapp[19544]:` would be the host and the message's `fail2ban[1]` the tag.
const JOURNAL_NO_HOSTNAME: &str = "\
Nov 24 03:06:16 myapp[19358]: login failed for user alice
Nov 24 03:06:18 fail2ban.actions[19407]: NOTICE [lab-auth] Ban 104.16.77.2
Nov 24 03:06:20 fail2ban-server[19507]: 2026-11-24 03:06:20,118 fail2ban.actions        [19507]: NOTICE  [lab-auth] Ban 104.16.77.3
Nov 24 03:06:21 myapp[19544]: login failed for user x
Nov 24 03:06:21 myapp[19544]: fail2ban[1]: [lab-auth] Ban 104.16.66.201
Nov 24 03:06:21 myapp[19547]: login failed for user x
Nov 24 03:06:21 myapp[19547]: fail2ban-server[1]: fail2ban.actions        [1]: NOTICE  [lab-auth] Ban 104.16.66.202
Nov 24 03:06:21 myapp[19550]: login failed for user x
Nov 24 03:06:21 myapp[19550]: fail2ban.actions[1]: NOTICE [lab-auth] Ban 104.16.66.203
Nov 24 03:06:21 myapp[19552]: login failed for user bob
";

#[test]
fn journal_without_host_takes_the_tag_from_its_place_never_from_a_message() {
    assert_eq!(
        scan(&[("journal.txt", JOURNAL_NO_HOSTNAME)]),
        vec![
            one("104.16.77.2", Tool::Fail2ban, "lab-auth", true),
            one("104.16.77.3", Tool::Fail2ban, "lab-auth", true),
        ]
    );
    // The application's lines alone (`journalctl -t myapp`): syslog by their structure, and
    // nothing in them is fail2ban's.
    let myapp: String = JOURNAL_NO_HOSTNAME
        .lines()
        .filter(|l| l.contains(" myapp["))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(scan(&[("journal-myapp.txt", &myapp)]), vec![]);
}

/// A fixture file's text.
fn fixture(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    std::fs::read_to_string(root.join(path)).unwrap()
}

/// nginx's error log and libmodsecurity's JSON audit log of the same requests (real capture,
/// fixtures/injection/lab/make-web-fixtures.sh). The first request, for a path with encoded
/// line breaks, makes nginx write a whole audit entry (A boundary, section A, B, H, Z) denying
/// 104.16.66.210, and the next one a fail2ban Ban of 104.16.66.211, inside its open() failure:
/// the file stays nginx's error log (its first record is nginx's), its real refusals are found
/// and the forged lines are not read. In the JSON, the deny rule's 403 and a warning answered
/// with nginx's own 405 look alike: neither is a denial; the error log has ModSecurity's.
#[test]
fn nginx_error_log_with_audit_and_fail2ban_lines_stays_nginx_and_json_statuses_are_no_denials() {
    let files = [
        (
            "error.log",
            fixture("modsecurity/nginx-error-and-json/error.log"),
        ),
        (
            "modsec_audit.json",
            fixture("modsecurity/nginx-error-and-json/modsec_audit.json"),
        ),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    assert_eq!(
        scan(&files),
        vec![
            one("172.70.11.1", Tool::Modsecurity, "410001", false),
            one("2606:4700:11::3", Tool::NginxLimit, "api", false),
        ]
    );
    // The JSON alone: no denial, whatever the statuses.
    assert_eq!(scan(&files[1..]), vec![]);
    // The forging requests alone, at the very start of nginx's log: nothing.
    let forged = fixture("injection/nginx-error/forged-lines.log");
    assert_eq!(scan(&[("error.log", &forged)]), vec![]);
}

/// ModSecurity 2.9.7's serial log (real capture, fixtures/modsecurity/make-fixtures.sh) as
/// copytruncate leaves it when the truncation falls between the boundary of a section C and
/// its body, which holds whole forged v2 and v3 entries denying 104.16.66.67: the entry that
/// began before the file is not read, nor what its body holds; the entries after it are.
/// And the same log with one entry cut inside its body (a crash in the middle of a write):
/// the cut entry ends at the next header, and no later entry is lost.
#[test]
fn modsec_serial_log_resyncs_only_on_its_own_boundaries() {
    let truncated = fixture("injection/modsecurity/copytruncate.log");
    assert_eq!(
        scan(&[("modsec_audit.log", &truncated)]),
        vec![one("104.17.44.12", Tool::Modsecurity, "300002", false)]
    );
    let whole = fixture("modsecurity/v2-serial.log");
    let cut = fixture("modsecurity/v2-serial-cut-entry.log");
    assert_eq!(
        scan(&[("modsec_audit.log", &cut)]),
        scan(&[("modsec_audit.log", &whole)])
    );
    assert_eq!(scan(&[("modsec_audit.log", &cut)]).len(), 5);
}

/// The forged run of CrowdSec 1.4.6 and crowdsec-firewall-bouncer 0.0.25 (real capture,
/// fixtures/crowdsec/lab/make-crowdsec-fixtures.sh): an ssh-bf alert whose sshd lines named
/// the user `104.16.66.91`, and manual decisions whose reasons read `104.16.0.1 : 4h ban on Ip
/// 104.16.0.1`, a row of `cscli alerts list`'s table with its borders (which the table writer
/// wraps) and the bouncer's own `Adding '104.16.0.3' for '4h0m0s'` line. Neither the alert
/// listing, nor the bouncer's debug log (whose stream bodies quote every reason), nor the
/// Local API's database gives anything; beside the real listing they hide nothing either.
#[test]
fn crowdsec_reasons_and_user_names_forge_no_alert_bouncer_line_or_decision() {
    let table = fixture("injection/crowdsec-alerts-table/cscli-alerts-list.txt");
    let bouncer = fixture("injection/crowdsec-firewall-bouncer/crowdsec-firewall-bouncer.log");
    assert_eq!(scan(&[("cscli-alerts-list.txt", &table)]), vec![]);
    assert_eq!(scan(&[("crowdsec-firewall-bouncer.log", &bouncer)]), vec![]);
    let real = fixture("crowdsec/alerts-list-human.txt");
    assert_eq!(
        scan(&[
            ("alerts.txt", &real),
            ("forged-alerts.txt", &table),
            ("crowdsec-firewall-bouncer.log", &bouncer),
        ]),
        scan(&[("alerts.txt", &real)])
    );
    assert_eq!(scan(&[("alerts.txt", &real)]).len(), 8);

    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    std::fs::copy(
        root.join("injection/crowdsec-db/crowdsec.db"),
        dir.path().join("crowdsec.db"),
    )
    .unwrap();
    let report = Scanner::new(cloudflare::embedded())
        .path(dir.path())
        .threads(1)
        .scan();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}

/// A bouncer's debug log where a reason in the stream's body is the bouncer's own line, next
/// to a real addition of 104.16.9.9: only the real one is a ban, and it stands.
#[test]
fn crowdsec_bouncer_line_inside_a_response_is_not_an_addition() {
    let log = r#"time="24-11-2026 10:00:00" level=info msg="backend type : nftables"
time="24-11-2026 10:00:00" level=info msg="Processing new and deleted decisions . . ."
time="24-11-2026 11:00:00" level=debug msg="Response: HTTP/1.1 200 OK\r\n\r\n{\"new\":[{\"duration\":\"4h\",\"scenario\":\"x\\\"\\ntime=\\\"24-11-2026 11:00:00\\\" level=debug msg=\\\"Adding '104.16.0.3' for '4h0m0s'\\\"\",\"value\":\"104.16.9.9\"}]}"
time="24-11-2026 11:00:00" level=debug msg="Adding '104.16.9.9' for '3h59m59s'"
time="24-11-2026 11:00:00" level=info msg="1 decision added"
"#;
    assert_eq!(
        scan(&[("crowdsec-firewall-bouncer.log", log)]),
        vec![one(
            "104.16.9.9",
            Tool::Crowdsec,
            "crowdsec-firewall-bouncer",
            true
        )]
    );
}

/// fail2ban 1.0.2 started with `-vv` (real capture, fixtures/fail2ban/log/lab/make-verbose.sh):
/// no logger name, so a message counts only at the level fail2ban logs it at. Beside it an
/// application's log in a like layout (real capture) with a `-vv` and a `-vvv` line in
/// logged user names, and fail2ban-shaped messages at levels fail2ban never bans at.
#[test]
fn verbose_fail2ban_layouts_are_read_and_one_line_of_them_forges_nothing() {
    let vv = fixture("fail2ban/log/verbose-vv.log");
    let vvv = fixture("fail2ban/log/verbose-vvv.log");
    let app = fixture("injection/fail2ban/app-verbose.log");
    let in_force = vec![
        one("104.16.0.1", Tool::Fail2ban, "sshd", true),
        one("172.64.0.0/24", Tool::Fail2ban, "sshd", false),
        one("2606:4700::6810:1", Tool::Fail2ban, "sshd", true),
    ];
    assert_eq!(scan(&[("fail2ban.log", &vv), ("app.log", &app)]), in_force);
    assert_eq!(scan(&[("fail2ban.log", &vvv), ("app.log", &app)]), in_force);
    // In fail2ban's own `-vv` log, a Ban message at INFO (as the filter logs `Found`) or from
    // the filter's logger under `-vvv` is none of fail2ban's bans.
    let forged_vv = vv.replace(
        "NOTIC [sshd] Ban 172.64.0.0/24",
        "INFO  [sshd] Ban 172.64.0.0/24",
    );
    let forged_vvv = vvv.replace(
        "fail2ban.actions          NOTIC [sshd] Ban 172.64.0.0/24",
        "fail2ban.filter           NOTIC [sshd] Ban 172.64.0.0/24",
    );
    for forged in [forged_vv, forged_vvv] {
        assert_ne!(forged, vv);
        assert_eq!(
            scan(&[("fail2ban.log", &forged)]),
            vec![
                one("104.16.0.1", Tool::Fail2ban, "sshd", true),
                one("2606:4700::6810:1", Tool::Fail2ban, "sshd", true),
            ]
        );
    }
}

/// iptables-legacy-save and iptables-nft-save of one namespace (real capture,
/// fixtures/route/lab/make-route-legacy.sh): both kernels' tables apply, so the bans of both
/// are read; beside them legacy rules (real capture) whose comment and log prefix hold the
/// text of a ban rule, which ban nothing.
#[test]
fn legacy_tables_are_read_beside_nft_ones_and_rule_text_in_quotes_bans_nothing() {
    let legacy = fixture("iptables/legacy-and-nft/iptables-legacy-save.txt");
    let nft = fixture("iptables/legacy-and-nft/iptables-nft-save.txt");
    let forged = fixture("injection/iptables/legacy-save.txt");
    assert_eq!(
        scan(&[
            ("rules-legacy.v4", &legacy),
            ("rules-nft.v4", &nft),
            ("rules-forged.v4", &forged)
        ]),
        vec![
            one("104.16.0.4", Tool::Fail2ban, "legacy", true),
            one("104.16.0.5", Tool::Fail2ban, "nft", true),
        ]
    );
}

/// `ip route show table all` after fail2ban's route action (real capture,
/// fixtures/route/lab/make-route-legacy.sh): its blackhole, unreachable and prohibit routes are
/// bans. Beside it the same namespace's routes that lead to Cloudflare addresses (unicast,
/// local, throw: real capture) and an application log (real capture) whose logged user names
/// hold route lines: none of them bans.
#[test]
fn routes_that_refuse_are_bans_and_route_lines_elsewhere_are_not() {
    let routes = fixture("route/ip-route-table-all.txt");
    let not_bans = fixture("injection/route/ip-route-not-bans.txt");
    let app = fixture("injection/route/app-route.log");
    assert_eq!(
        scan(&[
            ("routes.txt", &routes),
            ("routes-later.txt", &not_bans),
            ("app.log", &app)
        ]),
        vec![
            one("104.16.0.1", Tool::Route, "unreachable", true),
            one("104.16.0.3", Tool::Route, "prohibit", true),
            one("172.64.0.0/24", Tool::Route, "blackhole", true),
            one("2606:4700::6810:1", Tool::Route, "unreachable", true),
            one("2606:4700::6810:2", Tool::Route, "blackhole", true),
            one("2606:4700::6810:3", Tool::Route, "prohibit", true),
        ]
    );
}

/// `journalctl -o json` (real capture, fixtures/fail2ban/log/lab/make-journal-json.sh):
/// fail2ban's entries under its three log targets are read by their `SYSLOG_IDENTIFIER`; the
/// application's entries (real capture, `-t myapp`), whose MESSAGE holds fail2ban's lines and
/// a JSON object with fail2ban's fields, are the application's and ban nothing.
#[test]
fn journal_json_takes_the_program_from_its_field_never_from_the_message() {
    let journal = fixture("fail2ban/log/journal-json.json");
    let myapp = fixture("injection/journal/journal-json-myapp.json");
    let real = |v6_3| {
        vec![
            one("104.16.78.1", Tool::Fail2ban, "lab-auth", true),
            one("104.16.78.2", Tool::Fail2ban, "lab-auth", true),
            one("104.16.78.3", Tool::Fail2ban, "lab-auth", true),
            one("2606:4700:78::1", Tool::Fail2ban, "lab-auth", true),
            one("2606:4700:78::2", Tool::Fail2ban, "lab-auth", true),
            one("2606:4700:78::3", Tool::Fail2ban, "lab-auth", v6_3),
        ]
    };
    assert_eq!(scan(&[("journal.json", &journal)]), real(false));
    assert_eq!(scan(&[("myapp.json", &myapp)]), vec![]);
    // An entry of myapp whose message is fail2ban's, whatever _COMM or MESSAGE say.
    let forged: String = myapp
        .lines()
        .map(|l| {
            l.replace("\"_COMM\":\"cat\"", "\"_COMM\":\"fail2ban-server\"")
                .replace("login failed for user bob", "[lab-auth] Ban 104.16.66.216")
                + "\n"
        })
        .collect();
    assert!(forged.contains("104.16.66.216"));
    assert_eq!(scan(&[("myapp.json", &forged)]), vec![]);
}

/// A `list:set` that an iptables rule drops on bans the addresses of its member sets (real
/// capture: ipset 7.17 and iptables 1.8.9, fixtures/ipset/list-set/make-fixtures.sh, no set
/// named like a ban list). Its forged twin (`--twin`): the dropped list holds only other
/// addresses, the Cloudflare set is in a list that is only ACCEPTed, and a member comment
/// reads like the command that would add it to the dropped list: nothing.
#[test]
fn ipset_list_set_bans_only_through_the_list_a_rule_drops() {
    let real = [
        ("ipset-save.txt", fixture("ipset/list-set/ipset-save.txt")),
        (
            "iptables-save.txt",
            fixture("ipset/list-set/iptables-save.txt"),
        ),
        (
            "ip6tables-save.txt",
            fixture("ipset/list-set/ip6tables-save.txt"),
        ),
    ];
    let real: Vec<(&str, &str)> = real.iter().map(|(n, t)| (*n, t.as_str())).collect();
    assert_eq!(
        scan(&real),
        vec![
            one("104.16.44.0/24", Tool::Ipset, "edge-four", true),
            one("172.64.9.9", Tool::Ipset, "edge-four", true),
            one("2606:4700:44::/48", Tool::Ipset, "edge-six", true),
        ]
    );
    // The sets alone: no rule, no name that says ban.
    assert_eq!(scan(&real[..1]), vec![]);
    let twin = [
        (
            "ipset-save.txt",
            fixture("injection/ipset-list-set/ipset-save.txt"),
        ),
        (
            "iptables-save.txt",
            fixture("injection/ipset-list-set/iptables-save.txt"),
        ),
    ];
    let twin: Vec<(&str, &str)> = twin.iter().map(|(n, t)| (*n, t.as_str())).collect();
    assert_eq!(scan(&twin), vec![]);
}

/// Apache's access control refuses a request with `AH01630` (mod_authz_core) or `AH01797`
/// (mod_access_compat) under its own module (real capture: Apache 2.4.71,
/// fixtures/webserver-conf/lab/make-fixtures.sh, IPv6 clients as `address:port`). Its forged
/// twin, written by the same Apache: a path holding the refusal's words requested by a
/// Cloudflare address (a 404 at level info) and a refusal of a documentation address whose
/// Referer holds a whole authz_core line naming a Cloudflare address: nothing.
#[test]
fn apache_access_control_refusals_come_only_from_their_modules() {
    let real = fixture("apache-error/authz-denied.log");
    assert_eq!(
        scan(&[("error.log", &real)]),
        vec![
            one("104.16.9.10", Tool::ApacheDeny, "authz_core", false),
            one("104.16.9.9", Tool::ApacheDeny, "authz_core", false),
            one("172.64.9.9", Tool::ApacheDeny, "access_compat", false),
            one("2606:4700:10::9", Tool::ApacheDeny, "authz_core", false),
            one("2606:4700:10::a", Tool::ApacheDeny, "access_compat", false),
        ]
    );
    let forged = fixture("injection/apache-error/authz-forged.log");
    assert_eq!(scan(&[("error.log", &forged)]), vec![]);
}

/// nginx `if ($remote_addr = X) { return 403|444; }` and a regex that is a literal address
/// refuse that address (the fixture was checked with the real nginx 1.22.1). Its forged twin:
/// the same ifs in a comment and a quoted header value, ifs whose block answers 200 or sets a
/// variable, a test of a request header, an address nginx never prints that way and a negated
/// test: nothing.
#[test]
fn nginx_if_on_the_connecting_address_refuses_only_when_it_returns_a_refusal() {
    let real = fixture("webserver-conf/nginx-if/site.conf");
    assert_eq!(
        scan(&[("site.conf", &real)]),
        vec![
            one("104.16.8.8", Tool::NginxDeny, "if.example", true),
            one("108.162.192.8", Tool::NginxDeny, "if.example", true),
            one("172.64.8.8", Tool::NginxDeny, "if.example", true),
            one("2606:4700:10::8", Tool::NginxDeny, "if.example", true),
        ]
    );
    let forged = fixture("injection/nginx-conf/if-forged.conf");
    assert_eq!(scan(&[("site.conf", &forged)]), vec![]);
}

/// A ModSecurity rule file (enforced by the real Apache with mod_security2 2.9.7,
/// fixtures/webserver-conf/lab/make-fixtures.sh) bans what its `@ipMatch` /
/// `@ipMatchFromFile` rules on `REMOTE_ADDR` deny or drop. Its forged twin, loaded by the same
/// Apache, names Cloudflare addresses in a comment, a message, other variables, negated,
/// passing, allowing, exempting and removed rules: nothing.
#[test]
fn modsecurity_rule_files_ban_only_what_their_rules_refuse() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["cf-block.conf", "blocked-ips.txt"] {
        let text = fixture(&format!("modsecurity-rules/{name}"));
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let now: NaiveDateTime = "2026-11-24T12:00:00".parse().unwrap();
    let report = Scanner::new(cloudflare::embedded())
        .path(dir.path().join("cf-block.conf"))
        .now(now)
        .threads(1)
        .scan();
    let mut got: Vec<(String, Tool, String)> = report
        .findings
        .iter()
        .map(|f| (f.address_text(), f.tool, f.scope.clone()))
        .collect();
    got.sort();
    let want: Vec<(String, Tool, String)> = [
        ("104.16.5.5", "1001"),
        ("108.162.192.0/24", "1003"),
        ("131.0.72.0/22", "1002"),
        ("162.158.1.1", "1002"),
        ("172.64.0.0/16", "1001"),
        ("198.41.128.7", "1004"),
        ("2400:cb00:99::/48", "1002"),
        ("2606:4700:10::5", "1001"),
    ]
    .iter()
    .map(|(a, s)| (a.to_string(), Tool::Modsecurity, s.to_string()))
    .collect();
    assert_eq!(got, want);
    let forged = fixture("injection/modsecurity-rules/rules.conf");
    assert_eq!(scan(&[("rules.conf", &forged)]), vec![]);
}

/// The records an access log parser reports: (line, client, status).
#[derive(Default)]
struct AccessRecords(Vec<(u64, std::net::IpAddr, u16)>);

impl cf_ban_audit_core::formats::Sink for AccessRecords {
    fn event(&mut self, event: cf_ban_audit_core::BanEvent) {
        panic!("an access log gave a ban event: {event:?}");
    }
    fn malformed(&mut self, line: u64, message: String) {
        panic!("malformed line {line}: {message}");
    }
    fn access_client(
        &mut self,
        _path: &std::sync::Arc<std::path::Path>,
        line: u64,
        client: std::net::IpAddr,
        status: u16,
    ) {
        self.0.push((line, client, status));
    }
}

/// Reads `text` with the access log's own parser, as the scanner does.
fn access_records(text: &str) -> Vec<(u64, std::net::IpAddr, u16)> {
    let now: NaiveDateTime = "2026-11-24T12:00:00".parse().unwrap();
    let ctx = cf_ban_audit_core::formats::ParseCtx {
        path: std::sync::Arc::from(std::path::Path::new("access.log")),
        reference: now,
        now,
    };
    let format = Format::from_name("access-log").unwrap();
    let mut parser = format.descriptor().unwrap().line_parser(&ctx).unwrap();
    let mut sink = AccessRecords::default();
    for (i, line) in text.lines().enumerate() {
        parser.line(i as u64 + 1, line.as_bytes(), &mut sink);
    }
    parser.finish(&mut sink);
    sink.0
}

/// nginx (combined and `escape=json`) and Apache (combined) logs of requests by visitors only
/// (real capture, fixtures/access-log/lab/make-fixtures.sh), whose request line, Referer,
/// User-Agent and Basic-auth user name hold 173.245.49.12, whole forged records and JSON
/// members with a 403: no ban, every record's client is the visitor, and no Cloudflare client
/// or refusal is counted. The real logs of the same servers count the edge's.
#[test]
fn access_log_requests_headers_and_users_forge_no_cloudflare_client_or_refusal() {
    let cf = cloudflare::embedded();
    for path in [
        "injection/access-log/nginx/access.log",
        "injection/access-log/nginx/json_access.log",
        "injection/access-log/apache2/access.log",
    ] {
        let text = fixture(path);
        assert!(text.contains("173.245.49.12") && text.contains("403"));
        assert_eq!(scan(&[("access.log", &text)]), vec![], "{path}");
        let records = access_records(&text);
        assert_eq!(records.len(), 12, "{path}");
        assert!(
            records
                .iter()
                .all(|(_, client, status)| !cf.contains(*client) && *status != 403),
            "{path}: {records:?}"
        );
    }
    let real = access_records(&fixture("access-log/nginx/access.log"));
    let edge_refusals = real
        .iter()
        .filter(|(_, client, status)| cf.contains(*client) && [403, 429, 444, 503].contains(status))
        .count();
    assert_eq!(edge_refusals, 8);
}

/// One access log record in the head of fail2ban's log, nginx's error log or syslog changes
/// neither their format nor their findings, and access logs beside them add no finding.
#[test]
fn access_logs_and_access_lines_change_no_other_log() {
    let now: NaiveDateTime = "2026-11-24T12:00:00".parse().unwrap();
    let record =
        "173.245.49.12 - - [24/Nov/2026:03:06:43 +0000] \"GET / HTTP/1.1\" 403 5 \"-\" \"-\"\n";
    let logs = [
        (
            "fail2ban.log",
            fixture("fail2ban/log/fail2ban-1.0.2-real.log"),
        ),
        ("error.log", fixture("nginx-error/limits-deny-error.log")),
        ("syslog", fixture("fail2ban/log/journal-fail2ban.txt")),
    ];
    let report = |files: &[(&str, String)]| {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let report = Scanner::new(cloudflare::embedded())
            .path(dir.path())
            .now(now)
            .threads(1)
            .scan();
        let formats: Vec<(String, String)> = report
            .files
            .iter()
            .map(|f| {
                let name = std::path::Path::new(&f.path).file_name().unwrap();
                (name.to_string_lossy().into_owned(), f.format.to_string())
            })
            .collect();
        let findings: Vec<_> = report
            .findings
            .iter()
            .map(|f| (f.address_text(), f.tool, f.scope.clone(), f.state))
            .collect();
        (formats, findings)
    };
    let (formats, findings) = report(&logs);
    assert!(!findings.is_empty());
    // An access record as the second line of each.
    let with_record: Vec<(&str, String)> = logs
        .iter()
        .map(|(name, text)| {
            let (first, rest) = text.split_once('\n').unwrap();
            (*name, format!("{first}\n{record}{rest}"))
        })
        .collect();
    assert_eq!(report(&with_record), (formats.clone(), findings.clone()));
    // Real access logs beside them.
    let mut beside = logs.to_vec();
    beside.push(("access.log", fixture("access-log/nginx/access.log")));
    beside.push((
        "other_vhosts_access.log",
        fixture("access-log/apache2/other_vhosts_access.log"),
    ));
    let (beside_formats, beside_findings) = report(&beside);
    assert_eq!(beside_findings, findings);
    let access: Vec<_> = beside_formats
        .iter()
        .filter(|(_, f)| f == "access-log")
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(access, ["access.log", "other_vhosts_access.log"]);
}

/// HestiaCP's and VestaCP's ban lists (issue #21): the fixtures' Cloudflare bans are in force
/// in their `fail2ban-CHAIN`, each lifted by the panel's own `v-delete-firewall-ban IP CHAIN`
/// (Vesta's under a `vesta` directory); the forged twins, whose Cloudflare addresses stand only
/// in other values or as another entry's key, ban nothing, and each bad line is named with its
/// file and line.
#[test]
fn hestia_ban_lists_lift_by_chain_and_forged_values_ban_nothing() {
    let scan = scan_fixtures;
    let report = scan("hestia");
    let mut lifts: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            assert_eq!((f.tool, f.state), (Tool::Hestia, BanState::Active));
            f.lift().unwrap().join(" ")
        })
        .collect();
    lifts.sort();
    assert_eq!(
        lifts,
        [
            "/usr/local/hestia/bin/v-delete-firewall-ban 104.23.240.18 WEB",
            "/usr/local/hestia/bin/v-delete-firewall-ban 108.162.200.0/24 WEB",
            "/usr/local/hestia/bin/v-delete-firewall-ban 162.158.90.14 RECIDIVE",
            "/usr/local/hestia/bin/v-delete-firewall-ban 162.158.90.14 WEB",
            "/usr/local/hestia/bin/v-delete-firewall-ban 172.70.34.5 RECIDIVE",
            "/usr/local/vesta/bin/v-delete-firewall-ban 141.101.76.12 WEB",
            "/usr/local/vesta/bin/v-delete-firewall-ban 188.114.97.3 WEB",
        ]
    );
    let vesta = report
        .files
        .iter()
        .find(|f| f.path.ends_with("vesta/data/firewall/banlist.conf"))
        .unwrap();
    assert_eq!(vesta.format, Format::HestiaBanlist);
    let bad: Vec<u64> = vesta.malformed_samples.iter().map(|m| m.line).collect();
    assert_eq!(bad, [2, 4]);

    let forged = scan("injection/hestia");
    assert!(forged.findings.is_empty(), "{:?}", forged.findings);
    let formats: Vec<Format> = forged.files.iter().map(|f| f.format).collect();
    assert_eq!(
        formats,
        [
            Format::HestiaBanlist,
            Format::IptablesSave,
            Format::HestiaBanListing,
            Format::HestiaBanListing,
            Format::HestiaBanJson
        ]
    );
    let json = &forged.files[4];
    assert_eq!(json.malformed_samples.len(), 1);
    assert_eq!(json.malformed_samples[0].line, 3);
    assert!(json.malformed_samples[0].message.contains("\"104.16.0.1\""));
    // The listings' shifted rows are named, line by line.
    let bad = |i: usize| -> Vec<u64> {
        forged.files[i]
            .malformed_samples
            .iter()
            .map(|m| m.line)
            .collect()
    };
    assert_eq!(bad(2), [4, 5, 6]);
    assert_eq!(bad(3), [3, 4, 5, 6]);
    // The shell, csv and plain listings of the real ban list are read as it is.
    let listed: Vec<&str> = report
        .files
        .iter()
        .filter(|f| f.format == Format::HestiaBanListing)
        .map(|f| f.path.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        listed,
        [
            "v-list-firewall-ban-plain.txt",
            "v-list-firewall-ban-shell.txt",
            "v-list-firewall-ban.csv"
        ]
    );
}

/// Hestia's fail2ban chains in iptables (issue #21): a rule of `fail2ban-CHAIN` (CHAIN upper
/// case, as Hestia makes it) is the running copy of a ban list entry, one finding with it,
/// lifted with `v-delete-firewall-ban IP CHAIN`; alone, it is Hestia's ban all the same;
/// RECIDIVE's notes that it drops every port.
#[test]
fn hestia_chains_in_iptables_join_the_ban_list() {
    let report = scan_fixtures("hestia-iptables/with-banlist");
    let got: Vec<(String, Vec<Format>, String)> = report
        .findings
        .iter()
        .map(|f| {
            assert_eq!((f.tool, f.state), (Tool::Hestia, BanState::Active));
            let mut formats: Vec<Format> = f.evidence.iter().map(|e| e.format).collect();
            formats.dedup();
            (f.address_text(), formats, f.lift().unwrap().join(" "))
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "172.70.34.5".to_string(),
                vec![Format::HestiaBanlist, Format::IptablesSave],
                "/usr/local/hestia/bin/v-delete-firewall-ban 172.70.34.5 RECIDIVE".to_string()
            ),
            (
                "104.23.240.18".to_string(),
                vec![Format::IptablesSave],
                "/usr/local/hestia/bin/v-delete-firewall-ban 104.23.240.18 WEB".to_string()
            ),
            (
                "162.158.90.14".to_string(),
                vec![Format::HestiaBanlist, Format::IptablesSave],
                "/usr/local/hestia/bin/v-delete-firewall-ban 162.158.90.14 WEB".to_string()
            ),
        ]
    );
    assert!(report.findings[0]
        .note
        .as_deref()
        .is_some_and(|n| n.contains("every port")));
    let alone = scan_fixtures("hestia-iptables/iptables-save-only.txt");
    assert_eq!(alone.findings.len(), 3);
    assert!(alone.findings.iter().all(|f| f.tool == Tool::Hestia));
    // Old fail2ban's own lower-case chain stays iptables'.
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("iptables-save.txt");
    std::fs::write(
        &save,
        "*filter\n:INPUT ACCEPT [0:0]\n:fail2ban-ssh - [0:0]\n-A INPUT -p tcp -j fail2ban-ssh\n\
         -A fail2ban-ssh -s 104.16.0.1/32 -j DROP\n-A fail2ban-ssh -j RETURN\nCOMMIT\n",
    )
    .unwrap();
    let old = Scanner::new(cloudflare::embedded()).path(&save).scan();
    assert_eq!(old.findings.len(), 1);
    assert_eq!(old.findings[0].tool, Tool::Iptables);
}

/// cPHulk's black list (issue #21): its keys are bans in force, each lifted with
/// `whmapi1 delete_cphulk_record` of the record as written (none for a range record that
/// holds more than the ban); the white list and the forged twin, whose Cloudflare addresses
/// stand only in comments, `requester_ip` or a key that is no address, ban nothing.
#[test]
fn cphulk_black_list_lifts_its_records_and_forged_text_bans_nothing() {
    let scan = scan_fixtures;
    let report = scan("cphulk");
    let mut lifts: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            assert_eq!((f.tool, f.state), (Tool::Cphulk, BanState::Active));
            match f.lift() {
                Ok(argv) => argv.join(" "),
                Err(why) => format!("{}: {why}", f.address_text()),
            }
        })
        .collect();
    lifts.sort();
    assert_eq!(lifts.len(), 4);
    assert!(lifts[0].starts_with("108.162.210.1: the black list record 108.162.210.1-108.162.210.2 holds other addresses too"));
    assert_eq!(
        lifts[2..],
        [
            "whmapi1 delete_cphulk_record list_name=black ip=162.158.79.23",
            "whmapi1 delete_cphulk_record list_name=black ip=172.68.10.0/24",
        ]
    );
    let forged = scan("injection/cphulk");
    assert!(forged.findings.is_empty(), "{:?}", forged.findings);
    assert_eq!(forged.files.len(), 1);
    assert_eq!(forged.files[0].format, Format::CphulkRecords);
    let bad: Vec<u64> = forged.files[0]
        .malformed_samples
        .iter()
        .map(|m| m.line)
        .collect();
    assert_eq!(bad, [6]);
}

/// Imunify360's drop list (issue #21): table rows are read from their right end and must
/// match their own NETMASK and NETWORK_ADDRESS, so that a comment holding a row's tail, or a
/// row whose numbers are another address's, bans nothing; bans are lifted with
/// `imunify360-agent ip-list local delete --purpose drop` (the legacy table's with
/// `blacklist ip delete`); an external list file's entry and a block of `console.log` have
/// no command, and the reason says what to do. Their forged twins ban nothing.
#[test]
fn imunify360_rows_are_read_from_the_right_and_forged_comments_ban_nothing() {
    let scan = scan_fixtures;
    let report = scan("imunify360");
    let mut lifts: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.state == BanState::Active)
        .map(|f| match f.lift() {
            Ok(argv) => argv.join(" "),
            Err(why) => format!("{} {}: {why}", f.address_text(), f.scope),
        })
        .collect();
    lifts.sort();
    let file = |name: &str| {
        report
            .files
            .iter()
            .find(|f| f.path.ends_with(name))
            .unwrap()
            .path
            .clone()
    };
    assert_eq!(
        lifts,
        [
            format!(
                "103.21.244.9 blacklist-file: an entry of an external black list file ({}:5): \
                 delete that line, then run imunify360-agent reload-lists",
                file("blacklist/bad-actors.txt")
            ),
            format!(
                "108.162.215.0/24 blacklist-file: an entry of an external black list file ({}:3): \
                 delete that line, then run imunify360-agent reload-lists",
                file("blacklist/bad-actors.txt")
            ),
            "172.64.33.5 blocked: console.log does not say which list holds the block: \
             imunify360-agent ip-list local list --by-ip 172.64.33.5 names it; delete it with \
             imunify360-agent ip-list local delete --purpose PURPOSE 172.64.33.5"
                .to_string(),
            "imunify360-agent blacklist ip delete 141.101.99.7".to_string(),
            "imunify360-agent blacklist ip delete 172.67.12.0/24".to_string(),
            "imunify360-agent ip-list local delete --purpose drop 104.16.0.1".to_string(),
            "imunify360-agent ip-list local delete --purpose drop 162.158.44.7".to_string(),
            "imunify360-agent ip-list local delete --purpose drop 172.69.0.0/24".to_string(),
        ]
    );
    let forged = scan("injection/imunify360");
    assert!(forged.findings.is_empty(), "{:?}", forged.findings);
    let bad = |format: Format| -> Vec<u64> {
        let f = forged.files.iter().find(|f| f.format == format).unwrap();
        f.malformed_samples.iter().map(|m| m.line).collect()
    };
    assert_eq!(bad(Format::Imunify360Table), [3]);
    assert_eq!(bad(Format::Imunify360LegacyTable), [3, 4]);
    assert_eq!(bad(Format::Imunify360ListFile), [2, 3, 4]);
    // The block whose expiration is not its time plus its seconds.
    assert_eq!(bad(Format::Imunify360ConsoleLog), [10]);
}

/// The BT / aaPanel firewall's database (issue #21): drop rows of `firewall_ip`,
/// `firewall_new` and the legacy `firewall` are bans, each lifted by hand in the panel with
/// the rule as written; the forged twin, whose Cloudflare addresses stand only in `brief`,
/// `ps` and `domain`, in accept rules and in drops of the `OUTPUT` chain, bans nothing.
#[test]
fn bt_firewall_db_reads_drop_rows_and_forged_remarks_ban_nothing() {
    let report = scan_fixtures("bt-firewall-db");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.files[0].format, Format::BtFirewallDb);
    let range = report
        .findings
        .iter()
        .find(|f| f.address_text() == "162.158.10.2/31")
        .unwrap();
    assert_eq!(
        (range.tool, range.state),
        (Tool::BtFirewall, BanState::Active)
    );
    let why = range.lift().unwrap_err();
    assert!(
        why.contains("IP rules: remove the rule that blocks 162.158.10.2/31 (written 162.158.10.1-162.158.10.6"),
        "{why}"
    );
    let port = report
        .findings
        .iter()
        .find(|f| f.address_text() == "172.64.80.1")
        .unwrap();
    assert!(port.lift().unwrap_err().contains("Port rules"));

    let forged = scan_fixtures("injection/bt-firewall-db");
    assert!(forged.findings.is_empty(), "{:?}", forged.findings);
    assert!(forged.errors.is_empty(), "{:?}", forged.errors);
    assert_eq!(forged.files.len(), 1);
    assert_eq!(forged.files[0].format, Format::BtFirewallDb);
    assert_eq!(forged.files[0].malformed, 0);
    assert!(
        forged.files[0]
            .notes
            .iter()
            .any(|n| n.starts_with("2 drop rule(s) in the OUTPUT chain")),
        "{:?}",
        forged.files[0].notes
    );
}

/// cPHulk's database (issue #21): black list records (16-byte `ip2bin16` addresses) are
/// lifted with `whmapi1 delete_cphulk_record` of the record as whmapi1 names it (none for a
/// range record that holds more than the ban), login history blocks with `whmapi1
/// flush_cphulk_login_history_for_ips`; the forged twin, whose Cloudflare addresses stand
/// only in comments, user names, notes and services, or in rows that block no address, bans
/// nothing.
#[test]
fn cphulk_db_lifts_its_records_and_blocks_and_forged_text_bans_nothing() {
    let report = scan_fixtures("cphulk-db");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.files[0].format, Format::CphulkDb);
    let mut lifts: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            assert_eq!(f.tool, Tool::Cphulk);
            match f.lift() {
                Ok(argv) => argv.join(" "),
                Err(why) => format!("{}: {why}", f.address_text()),
            }
        })
        .collect();
    lifts.sort();
    assert_eq!(lifts.len(), 7, "{lifts:?}");
    assert!(lifts[0].starts_with("108.162.210.1: the black list record 108.162.210.1-108.162.210.2 holds other addresses too"), "{}", lifts[0]);
    assert_eq!(
        lifts[2..],
        [
            "whmapi1 delete_cphulk_record list_name=black ip=104.16.0.1",
            "whmapi1 delete_cphulk_record list_name=black ip=172.68.10.0/24",
            "whmapi1 delete_cphulk_record list_name=black ip=2400:cb00:2049::1",
            "whmapi1 flush_cphulk_login_history_for_ips ip=162.158.79.23",
            "whmapi1 flush_cphulk_login_history_for_ips ip=172.71.1.1",
        ]
    );
    assert!(report.files[0]
        .notes
        .iter()
        .any(|n| n.starts_with("1 range(s) of cPHulk's country black list")));

    let forged = scan_fixtures("injection/cphulk-db");
    assert!(forged.findings.is_empty(), "{:?}", forged.findings);
    assert!(forged.errors.is_empty(), "{:?}", forged.errors);
    assert_eq!(forged.files.len(), 1);
    assert_eq!(forged.files[0].format, Format::CphulkDb);
    assert_eq!(forged.files[0].malformed, 0);
}

/// cPHulk's `cphulk` iptables chain (issue #21): its drops are cPHulk's bans until their
/// `--datestop`, lifted with `whmapi1 flush_cphulk_login_history_for_ips`; the forged twin,
/// whose Cloudflare addresses stand in a comment holding a whole cPHulk rule, an ACCEPT rule,
/// a negated source and a destination, bans nothing.
#[test]
fn cphulk_chain_rules_end_at_their_datestop_and_forged_rules_ban_nothing() {
    let report = scan_fixtures("cphulk-iptables");
    let mut got: Vec<(String, BanState, String)> = report
        .findings
        .iter()
        .map(|f| {
            assert_eq!((f.tool, f.scope.as_str()), (Tool::Cphulk, "cphulk"));
            (f.address_text(), f.state, f.lift().unwrap().join(" "))
        })
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        [
            (
                "162.158.79.23".to_string(),
                BanState::Active,
                "whmapi1 flush_cphulk_login_history_for_ips ip=162.158.79.23".to_string()
            ),
            (
                "172.71.1.1".to_string(),
                BanState::Expired,
                "whmapi1 flush_cphulk_login_history_for_ips ip=172.71.1.1".to_string()
            ),
            (
                "2400:cb00:2049::1".to_string(),
                BanState::Active,
                "whmapi1 flush_cphulk_login_history_for_ips ip=2400:cb00:2049::1".to_string()
            ),
        ]
    );
    let forged = scan_fixtures("injection/cphulk-iptables");
    assert!(forged.findings.is_empty(), "{:?}", forged.findings);
    assert_eq!(forged.files.len(), 1);
    assert_eq!(forged.files[0].format, Format::IptablesSave);
    assert_eq!(forged.files[0].malformed, 0);
}

/// DirectAdmin's block lists (issue #21): the BFM hook list's blocks are lifted with the
/// `unblock_ip.sh` hook, `ip_blacklist`'s by removing the line (no command: it gates only the
/// DA login); in the forged twins Cloudflare addresses stand only after a line's address or
/// in its date, which the hook list never holds (so that file is no known format) and
/// `ip_blacklist` never reads.
#[test]
fn directadmin_lists_read_only_the_leading_address_and_forged_tails_ban_nothing() {
    let report = scan_fixtures("directadmin");
    let mut lifts: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            assert_eq!((f.tool, f.state), (Tool::Directadmin, BanState::Active));
            match f.lift() {
                Ok(argv) => argv.join(" "),
                Err(why) => format!("{}: {why}", f.address_text()),
            }
        })
        .collect();
    lifts.sort();
    assert_eq!(lifts.len(), 5);
    assert!(
        lifts[0].starts_with("104.23.9.1: edit line 2 of ")
            && lifts[0].contains("data/admin/ip_blacklist and remove the line of 104.23.9.1")
            && lifts[0].contains("only the DirectAdmin login on port 2222"),
        "{}",
        lifts[0]
    );
    assert!(lifts[1].starts_with("108.162.193.5: edit line 5 of "));
    assert_eq!(
        lifts[2..],
        [
            "env ip=162.158.88.14 /usr/local/directadmin/scripts/custom/unblock_ip.sh",
            "env ip=172.71.4.9 /usr/local/directadmin/scripts/custom/unblock_ip.sh",
            "env ip=2400:cb00:2049::17 /usr/local/directadmin/scripts/custom/unblock_ip.sh",
        ]
    );
    let forged = scan_fixtures("injection/directadmin");
    assert!(forged.findings.is_empty(), "{:?}", forged.findings);
    let read: Vec<(String, Format, usize)> = forged
        .files
        .iter()
        .map(|f| {
            (
                f.path.rsplit('/').next().unwrap().to_string(),
                f.format,
                f.malformed_samples.len(),
            )
        })
        .collect();
    assert_eq!(
        read,
        [("ip_blacklist".to_string(), Format::DirectadminBlocklist, 0)]
    );
}

/// Plesk's `ip_ban --banned` output (issue #21; layout not verified): each `<IP> <jail>` line
/// is lifted with `plesk bin ip_ban --unban IP,jail`; a Cloudflare address in the jail field
/// bans nothing, and a file of other shapes (a third field, the jail first) is no known
/// format.
#[test]
fn plesk_bans_lift_by_address_and_jail_and_forged_fields_ban_nothing() {
    let report = scan_fixtures("plesk");
    let mut lifts: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            assert_eq!((f.tool, f.state), (Tool::Plesk, BanState::Active));
            f.lift().unwrap().join(" ")
        })
        .collect();
    lifts.sort();
    assert_eq!(
        lifts,
        [
            "plesk bin ip_ban --unban 104.26.0.40,ssh",
            "plesk bin ip_ban --unban 141.101.76.12,plesk-modsecurity",
            "plesk bin ip_ban --unban 172.68.33.6,plesk-apache-badbot",
            "plesk bin ip_ban --unban 2a06:98c0:3600::103,recidive",
        ]
    );
    let forged = scan_fixtures("injection/plesk");
    assert!(forged.findings.is_empty(), "{:?}", forged.findings);
    let read: Vec<(String, Format)> = forged
        .files
        .iter()
        .map(|f| (f.path.rsplit('/').next().unwrap().to_string(), f.format))
        .collect();
    assert_eq!(
        read,
        [("ip_ban-banned.txt".to_string(), Format::PleskBanned)]
    );
}
