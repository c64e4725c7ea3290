//! Forged-line attacks: lines built as the real programs write them when an attacker puts
//! crafted text into a request, a header or a user name (escaped as the program escapes it),
//! next to a genuine ban that must still be found. Lines marked "real capture" were written by
//! nginx 1.22.1, Apache 2.4.71 with ModSecurity 2.9.7 and mod_lua (Debian 12 packages) for
//! this test; only the client addresses and the rule file path were changed afterwards.
//!
//! The tests that end in `_limit` document what the programs make impossible to tell apart:
//! they assert what happens, so a change of behaviour is noticed.

use cf_ban_audit_core::{cloudflare, BanState, Scanner, Tool};
use chrono::NaiveDateTime;

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
