//! Every snippet loaded by the real program where Debian ships it: nginx -t, apache2 -t (with
//! mod_remoteip, mod_authz_host, mod_security2 and mod_evasive), nft -c, ipset restore and the
//! iptables script (both inside a network namespace this test makes). YAML and JSON snippets
//! are parsed back; btwaf's JSON files are loaded by Lua with cjson (what btwaf runs on) in
//! loops shaped like btwaf's loader and matchers. Skipped with a notice where a program (or
//! root) is absent; required in CI.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cf_ban_audit_core::cloudflare;
use cf_ban_audit_core::snippet::Target;

fn which(program: &str) -> Option<PathBuf> {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(program))
        .find(|p| p.exists())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn nginx_test(body_http: &str, body_location: &str) {
    let Some(nginx) = common::need(
        which("nginx"),
        "nginx not installed (apt-get install nginx)",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    std::fs::write(dir.path().join("http.conf"), body_http).unwrap();
    std::fs::write(dir.path().join("location.conf"), body_location).unwrap();
    let conf = format!(
        "pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n  include {d}/http.conf;\n  \
         client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;\n  \
         uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n  access_log off;\n  \
         server {{ listen 127.0.0.1:18099; location / {{ include {d}/location.conf; return 204; }} }}\n}}\n"
    );
    let conf_path = dir.path().join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let out = Command::new(nginx)
        .arg("-t")
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&conf_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "nginx -t failed:\n{}", text(&out));
    assert!(text(&out).contains("syntax is ok"), "{}", text(&out));
}

#[test]
fn nginx_loads_realip_and_allow() {
    let cf = cloudflare::embedded();
    nginx_test(
        &Target::NginxRealip.generate(&cf),
        &Target::NginxAllow.generate(&cf),
    );
    // The merge of an older realip file loads too, with its warning comments.
    let merged = Target::NginxRealip
        .merge(
            "set_real_ip_from 104.16.0.0/12;\nset_real_ip_from 199.27.128.0/21;\n",
            &cf,
        )
        .unwrap();
    assert_eq!(
        merged.matches("\n# cf-ban-audit: warning: ").count(),
        2,
        "{merged}"
    );
    nginx_test(&merged, "");
}

#[test]
fn apache_loads_remoteip_allow_modsecurity_and_evasive() {
    let Some(apache) = common::need(
        which("apache2"),
        "apache2 not installed (apt-get install apache2)",
    ) else {
        return;
    };
    let m = Path::new("/usr/lib/apache2/modules");
    let wanted = ["mod_security2.so", "mod_evasive20.so"];
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|f| !m.join(f).exists())
        .collect();
    if common::need(missing.is_empty().then_some(()), &format!("apache modules {missing:?} (apt-get install libapache2-mod-security2 libapache2-mod-evasive)")).is_none() {
        return;
    }
    let cf = cloudflare::embedded();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    for (name, body) in [
        ("remoteip.conf", Target::ApacheRemoteip.generate(&cf)),
        ("allow.conf", Target::ApacheAllow.generate(&cf)),
        ("modsecurity.conf", Target::Modsecurity.generate(&cf)),
        ("evasive.conf", Target::ModEvasive.generate(&cf)),
    ] {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    let conf = format!(
        "ServerRoot {d}\nServerName localhost\nListen 127.0.0.1:18098\nPidFile {d}/httpd.pid\n\
         ErrorLog {d}/error.log\n\
         LoadModule mpm_event_module {m}/mod_mpm_event.so\n\
         LoadModule authz_core_module {m}/mod_authz_core.so\n\
         LoadModule authz_host_module {m}/mod_authz_host.so\n\
         LoadModule remoteip_module {m}/mod_remoteip.so\n\
         LoadModule unique_id_module {m}/mod_unique_id.so\n\
         LoadModule security2_module {m}/mod_security2.so\n\
         LoadModule evasive20_module {m}/mod_evasive20.so\n\
         SecRuleEngine On\nSecDataDir {d}\nSecTmpDir {d}\n\
         Include {d}/remoteip.conf\nInclude {d}/modsecurity.conf\nInclude {d}/evasive.conf\n\
         <Location />\nInclude {d}/allow.conf\n</Location>\n",
        m = m.display()
    );
    let conf_path = dir.path().join("httpd.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let out = Command::new(apache)
        .arg("-t")
        .arg("-f")
        .arg(&conf_path)
        .env("APACHE_RUN_DIR", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "apache2 -t failed:\n{}", text(&out));
    assert!(text(&out).contains("Syntax OK"), "{}", text(&out));
}

/// A network namespace made for one test, deleted when dropped.
struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Option<Netns> {
        let missing: Vec<&str> = ["ip", "iptables", "ip6tables", "ipset", "nft"]
            .into_iter()
            .filter(|p| which(p).is_none())
            .collect();
        let ok = is_root() && missing.is_empty();
        common::need(
            ok.then_some(()),
            &format!("root and {missing:?} (apt-get install iproute2 iptables ipset nftables)"),
        )?;
        let name = format!("cfba-{tag}-{}", std::process::id());
        let out = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        Some(Netns(name))
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        use std::io::Write;
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.0])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

#[test]
fn nft_checks_and_loads_the_nftables_snippet() {
    let Some(ns) = Netns::new("nft") else { return };
    let cf = cloudflare::embedded();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), Target::Nftables.generate(&cf)).unwrap();
    let path = file.path().to_str().unwrap();
    let out = ns.run(&["nft", "-c", "-f", path], None);
    assert!(out.status.success(), "nft -c failed:\n{}", text(&out));
    // Loading twice works (re-loadable) and the sets hold every range.
    for _ in 0..2 {
        let out = ns.run(&["nft", "-f", path], None);
        assert!(out.status.success(), "nft -f failed:\n{}", text(&out));
    }
    let listed = text(&ns.run(&["nft", "list", "table", "inet", "cloudflare"], None));
    for net in cf.nets() {
        assert!(
            listed.contains(&net.to_string()),
            "{net} missing:\n{listed}"
        );
    }
}

#[test]
fn ipset_restores_the_ipset_snippet_twice() {
    let Some(ns) = Netns::new("ipset") else {
        return;
    };
    let cf = cloudflare::embedded();
    let input = Target::Ipset.generate(&cf);
    for _ in 0..2 {
        let out = ns.run(&["ipset", "restore"], Some(&input));
        assert!(
            out.status.success(),
            "ipset restore failed:\n{}",
            text(&out)
        );
    }
    let saved = text(&ns.run(&["ipset", "save"], None));
    for net in cf.nets() {
        assert_eq!(
            saved.matches(&format!(" {net}")).count(),
            1,
            "{net}:\n{saved}"
        );
    }
}

#[test]
fn iptables_script_runs_twice_and_leaves_one_jump() {
    let Some(ns) = Netns::new("ipt") else { return };
    let cf = cloudflare::embedded();
    let script = Target::Iptables.generate(&cf);
    for _ in 0..2 {
        let out = ns.run(&["sh", "-s"], Some(&script));
        assert!(out.status.success(), "script failed:\n{}", text(&out));
    }
    let v4 = text(&ns.run(&["iptables-save"], None));
    let v6 = text(&ns.run(&["ip6tables-save"], None));
    assert_eq!(v4.matches("-A INPUT -j CLOUDFLARE").count(), 1, "{v4}");
    assert_eq!(v6.matches("-A INPUT -j CLOUDFLARE").count(), 1, "{v6}");
    for net in cf.v4_nets() {
        assert_eq!(v4.matches(&format!("-s {net} ")).count(), 1, "{net}:\n{v4}");
    }
    for net in cf.v6_nets() {
        assert_eq!(v6.matches(&format!("-s {net} ")).count(), 1, "{net}:\n{v6}");
    }
}

/// The three files of the btwaf snippet: `ip_white.json` with octets, with integers, and
/// `ip_white_v6.json`, each the line after its `# /www/server/btwaf/rule/...` heading.
fn btwaf_files(cf: &cf_ban_audit_core::RangeSet) -> [String; 3] {
    let text = Target::Btwaf.generate(cf);
    let lines: Vec<&str> = text.lines().collect();
    let after = |heading: &str| {
        let i = lines.iter().position(|l| l.starts_with(heading)).unwrap();
        lines[i + 1].to_string()
    };
    [
        after("# /www/server/btwaf/rule/ip_white.json (older"),
        after("# /www/server/btwaf/rule/ip_white.json (newer"),
        after("# /www/server/btwaf/rule/ip_white_v6.json"),
    ]
}

#[test]
fn yaml_and_json_snippets_parse_back() {
    let cf = cloudflare::embedded();
    let yaml = yaml_rust2::YamlLoader::load_from_str(&Target::Crowdsec.generate(&cf)).unwrap();
    let cidrs = yaml[0]["whitelist"]["cidr"].as_vec().unwrap();
    assert_eq!(cidrs.len(), 22);
    assert_eq!(yaml[0]["name"].as_str(), Some("local/cloudflare-whitelist"));
    let merged = Target::Crowdsec
        .merge(
            "name: local/cf\nwhitelist:\n  reason: \"cf\"\n  cidr:\n    - \"104.16.0.0/13\"\n  ip:\n    - \"127.0.0.1\"\n",
            &cf,
        )
        .unwrap();
    let yaml = yaml_rust2::YamlLoader::load_from_str(&merged).unwrap();
    assert_eq!(
        yaml[0]["whitelist"]["cidr"].as_vec().unwrap().len(),
        22,
        "{merged}"
    );
    assert_eq!(
        yaml[0]["whitelist"]["ip"].as_vec().unwrap().len(),
        1,
        "{merged}"
    );
    let [octets, integers, v6] = btwaf_files(&cf);
    let v4: serde_json::Value = serde_json::from_str(&octets).unwrap();
    assert_eq!(v4.as_array().unwrap().len(), 15);
    let ints: serde_json::Value = serde_json::from_str(&integers).unwrap();
    assert!(ints
        .as_array()
        .unwrap()
        .contains(&serde_json::json!([2918526976u32, 2918531071u32])));
    let v6: serde_json::Value = serde_json::from_str(&v6).unwrap();
    assert_eq!(v6.as_array().unwrap().len(), 7);
    assert!(v6
        .as_array()
        .unwrap()
        .iter()
        .all(|item| item[0].is_string()));
    // A merged whitelist with a stale item and its warning comment still parses.
    let merged = Target::Crowdsec
        .merge(
            "name: local/cf\nwhitelist:\n  reason: \"cf\"\n  cidr:\n    - \"199.27.128.0/21\"\n",
            &cf,
        )
        .unwrap();
    assert!(merged.contains("# cf-ban-audit: warning: stale entry 199.27.128.0/21"));
    let yaml = yaml_rust2::YamlLoader::load_from_str(&merged).unwrap();
    assert_eq!(
        yaml[0]["whitelist"]["cidr"].as_vec().unwrap().len(),
        23,
        "{merged}"
    );
}

/// A Lua interpreter with cjson (LuaJIT is what btwaf runs on; Debian's lua5.x with
/// lua-cjson reads JSON the same way).
fn lua_with_cjson() -> Option<PathBuf> {
    ["luajit", "lua5.4", "lua5.3", "lua5.1", "lua"]
        .iter()
        .filter_map(|p| which(p))
        .find(|lua| {
            Command::new(lua)
                .args(["-e", "require 'cjson'"])
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// Loads the three btwaf files as btwaf does: `ip_white_v6.json` item by item taking `v[1]`
/// (btwaf 9.5.8's `init.lua`), and answers for each probe address whether the integer
/// `ip_white.json` holds it (`start <= ip <= end`, as `compare_ip2`) and whether the octet
/// one does (octet by octet, as the old `compare_ip` with `is_min`/`is_max`).
const BTWAF_LUA: &str = r#"
local cjson = require "cjson"
local function load(path)
  local f = assert(io.open(path, "r"))
  local body = f:read("*a")
  f:close()
  return cjson.decode(body)
end

local v6 = {}
for _, v in ipairs(load(arg[1])) do
  table.insert(v6, v[1])
end
for _, cidr in ipairs(v6) do print("v6 " .. cidr) end

local ints = load(arg[2])
local octets = load(arg[3])
local function not_below(ip, low)
  for i = 1, 4 do
    if ip[i] > low[i] then return true end
    if ip[i] < low[i] then return false end
  end
  return true
end
local function not_above(ip, high)
  for i = 1, 4 do
    if ip[i] < high[i] then return true end
    if ip[i] > high[i] then return false end
  end
  return true
end
for i = 4, #arg do
  local a, b, c, d = arg[i]:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  local ip = { tonumber(a), tonumber(b), tonumber(c), tonumber(d) }
  local n = ((ip[1] * 256 + ip[2]) * 256 + ip[3]) * 256 + ip[4]
  local in_ints, in_octets = false, false
  for _, r in ipairs(ints) do
    if r[1] <= n and n <= r[2] then in_ints = true end
  end
  for _, r in ipairs(octets) do
    if not_below(ip, r[1]) and not_above(ip, r[2]) then in_octets = true end
  end
  print("v4 " .. arg[i] .. " " .. tostring(in_ints) .. " " .. tostring(in_octets))
end
"#;

#[test]
fn btwaf_files_load_in_btwaf_shaped_lua() {
    let Some(lua) = common::need(
        lua_with_cjson(),
        "Lua with cjson not installed (apt-get install lua5.4 lua-cjson)",
    ) else {
        return;
    };
    let cf = cloudflare::embedded();
    let [octets, integers, v6] = btwaf_files(&cf);
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        path
    };
    let script = write("check.lua", BTWAF_LUA);
    let v6_path = write("ip_white_v6.json", &v6);
    let int_path = write("ip_white_int.json", &integers);
    let oct_path = write("ip_white_oct.json", &octets);
    // Every range's first and last address is in both IPv4 files; addresses next to them and
    // elsewhere are in neither.
    let mut probes: Vec<(String, bool)> = Vec::new();
    for net in cf.v4_nets() {
        let ipnet::IpNet::V4(v4) = net else { continue };
        let (first, last) = (u32::from(v4.network()), u32::from(v4.broadcast()));
        for (ip, inside) in [
            (first, true),
            (last, true),
            (first - 1, false),
            (last + 1, false),
        ] {
            let ip = std::net::Ipv4Addr::from(ip);
            probes.push((ip.to_string(), inside || cf.contains(ip.into())));
        }
    }
    probes.push(("8.8.8.8".to_string(), false));
    let out = Command::new(&lua)
        .arg(&script)
        .args([&v6_path, &int_path, &oct_path])
        .args(probes.iter().map(|(ip, _)| ip))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let loaded_v6: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("v6 "))
        .collect();
    let expected_v6: Vec<String> = cf.v6_nets().map(|n| n.to_string()).collect();
    assert_eq!(loaded_v6, expected_v6, "{}", lua.display());
    let answers: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("v4 "))
        .collect();
    assert_eq!(answers.len(), probes.len(), "{stdout}");
    for ((ip, inside), answer) in probes.iter().zip(&answers) {
        assert_eq!(*answer, format!("{ip} {inside} {inside}"), "{ip}");
    }
    // The layout written before (a flat list of strings) loads no IPv6 range at all.
    let flat = write("flat_v6.json", r#"["2400:cb00::/32","2606:4700::/32"]"#);
    let out = Command::new(&lua)
        .arg(&script)
        .args([&flat, &int_path, &oct_path])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("v6 "));
}

#[test]
fn every_target_holds_every_range_in_its_encoding() {
    let cf = cloudflare::embedded();
    for target in Target::ALL {
        let s = target.generate(&cf);
        match target {
            Target::ModEvasive => {
                assert_eq!(
                    s.lines()
                        .filter(|l| l.trim_start().starts_with("DOSWhitelist "))
                        .count(),
                    346
                )
            }
            Target::Btwaf => {
                assert!(s.contains("[2918526976,2918531071]") && s.contains("\"2c0f:f248::/32\""))
            }
            // Hestia's firewall filters IPv4 only: every IPv4 range, no IPv6 one.
            Target::Hestia => {
                for net in cf.nets() {
                    assert_eq!(
                        s.contains(&net.to_string()),
                        net.addr().is_ipv4(),
                        "hestia: {net}"
                    );
                }
            }
            _ => {
                for net in cf.nets() {
                    assert!(
                        s.contains(&net.to_string()),
                        "{}: {net} missing",
                        target.name()
                    );
                }
            }
        }
        if target.can_merge() {
            let once = target.merge("", &cf).unwrap();
            assert_eq!(
                target.merge(&once, &cf).unwrap(),
                once,
                "{} merge not idempotent",
                target.name()
            );
        }
    }
}
