//! Cloud security groups (issue #21): `check` of the vendors' exports in `fixtures/cloud`
//! against the verdict beside each (`NAME.check.json`), forged twins that must change nothing,
//! and the rules each cloud snippet would create, fed back into an export, which `check` must
//! pass.

mod common;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use common::*;

fn cloud_dir() -> PathBuf {
    root().join("fixtures/cloud")
}

/// The exports of `fixtures/cloud`, each with its expected verdict.
fn fixtures() -> Vec<(PathBuf, Value)> {
    let mut out: Vec<(PathBuf, Value)> = std::fs::read_dir(cloud_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.ends_with(".json") && !name.ends_with(".check.json")
        })
        .map(|p| {
            let expected = p.with_file_name(format!(
                "{}.check.json",
                p.file_name().unwrap().to_string_lossy()
            ));
            let text = std::fs::read_to_string(&expected)
                .unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
            (p, serde_json::from_str(&text).unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 10, "{out:?}");
    out
}

/// `check --format json` of one file: (exit status, the file's result).
fn check_json(path: &Path) -> (i32, Value) {
    let o = run(&["check", "--format", "json", path.to_str().unwrap()]);
    let doc = json(&o);
    (code(&o), doc["files"][0].clone())
}

/// The embedded ranges, by family.
fn embedded(which: &str) -> Vec<String> {
    let cf = cf_ban_audit_core::cloudflare::embedded();
    cf.nets()
        .iter()
        .filter(|n| match which {
            "v4" => matches!(n, ipnet::IpNet::V4(_)),
            "v6" => matches!(n, ipnet::IpNet::V6(_)),
            _ => true,
        })
        .map(|n| n.to_string())
        .collect()
}

/// An expected group's ranges: `all`, `v4`, `v6` or a list (`"range"`, or `"range [part
/// part]"` for a part of one).
fn expected_ranges(v: &Value) -> Vec<String> {
    let mut out = match v.as_str() {
        Some(which) => embedded(which),
        None => v
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect(),
    };
    out.sort();
    out
}

/// The (range or part) of the entries of `list` on `port` whose rule starts with `rule`.
fn actual_ranges(list: &Value, port: u64, rule: &str) -> Vec<String> {
    let mut out: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["port"] == port && x["rule"].as_str().unwrap().starts_with(rule))
        .map(|x| {
            let range = x["range"].as_str().unwrap();
            let nets: Vec<&str> = x["nets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect();
            if nets == [range] {
                range.to_string()
            } else {
                format!("{range} [{}]", nets.join(" "))
            }
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_cloud_export_gets_its_expected_verdict() {
    for (path, want) in fixtures() {
        let name = path.display().to_string();
        let (status, got) = check_json(&path);
        assert_eq!(status, want["exit"], "{name}: {got:#}");
        assert_eq!(got["kind"], want["kind"], "{name}");
        let cloud = &got["cloud"];
        for key in ["refused", "unresolved"] {
            let mut counted = 0;
            for group in want[key].as_array().unwrap() {
                let port = group["port"].as_u64().unwrap();
                let rule = group["rule"].as_str().unwrap();
                let want_ranges = expected_ranges(&group["ranges"]);
                assert_eq!(
                    actual_ranges(&cloud[key], port, rule),
                    want_ranges,
                    "{name}: {key} on {port} by {rule}: {cloud:#}"
                );
                counted += want_ranges.len();
            }
            assert_eq!(
                cloud[key].as_array().unwrap().len(),
                counted,
                "{name}: {key} has more than expected: {cloud:#}"
            );
        }
        for note in want["notes"].as_array().unwrap() {
            let note = note.as_str().unwrap();
            assert!(
                cloud["notes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|n| n.as_str().unwrap().contains(note)),
                "{name}: no note with {note:?}: {cloud:#}"
            );
        }
    }
}

/// A description, name or tag holding a CIDR, `Allow`, a priority or a protocol is text: the
/// twin gets exactly its original's verdict.
#[test]
fn forged_twins_change_nothing() {
    let mut twins = 0;
    for (path, _) in fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(original) = name.strip_suffix(".forged.json") else {
            continue;
        };
        twins += 1;
        let (s1, twin) = check_json(&path);
        let (s2, orig) = check_json(&path.with_file_name(format!("{original}.json")));
        assert_eq!(s1, s2, "{name}");
        for key in ["refused", "unresolved", "notes"] {
            assert_eq!(twin["cloud"][key], orig["cloud"][key], "{name}: {key}");
        }
    }
    assert!(twins >= 3);
}

/// Issue #21's Done-when, in the text output: the office-only AWS group names all 22 ranges
/// as refused on 443 (and 80) by "no rule allows", exit 1.
#[test]
fn an_office_only_aws_group_refuses_all_22_ranges_by_no_rule_allows() {
    let path = cloud_dir().join("aws-office-443.json");
    let o = run(&["check", path.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("(aws-security-groups, 2 rules evaluated on TCP): REFUSED"),
        "{text}"
    );
    for port in [80, 443] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("  refused on {port}/tcp by no rule allows")))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(line.contains(": 22 ranges: "), "{line}");
        for range in embedded("all") {
            assert!(line.contains(&range), "{range} not in {line}");
        }
    }
}

#[test]
fn a_damaged_export_is_an_error_naming_the_file() {
    let env = TestEnv::new();
    let whole = std::fs::read_to_string(cloud_dir().join("aws-office-443.json")).unwrap();
    let cut = env.write("sg.json", &whole[..whole.len() / 2]);
    let o = run(&["check", cut.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(
        stderr(&o).contains(&format!(
            "{}: looks like a cloud security group export",
            cut.display()
        )),
        "{}",
        stderr(&o)
    );
    let bad = env.write(
        "gcp.json",
        whole_gcp_with(json!({"IPProtocol": "tcp", "ports": ["80-8O"]})),
    );
    let o = run(&["check", bad.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(
        stderr(&o).contains("gcp-firewall export: allow-web: bad port"),
        "{}",
        stderr(&o)
    );
}

fn whole_gcp_with(entry: Value) -> String {
    json!([{"name": "allow-web", "network": "global/networks/default", "direction": "INGRESS",
        "priority": 1000, "allowed": [entry], "sourceRanges": ["0.0.0.0/0"]}])
    .to_string()
}

/// `snippet TARGET` as the binary prints it.
fn snippet(target: &str) -> String {
    let o = run(&["snippet", target]);
    assert_eq!(code(&o), 0, "{target}: {}", stderr(&o));
    stdout(&o)
}

fn fixture(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(cloud_dir().join(name)).unwrap()).unwrap()
}

/// `check` of an export: exit 0 and every range reaching 80 and 443.
fn assert_ok(env: &TestEnv, name: &str, doc: &Value) {
    let path = env.write(name, serde_json::to_string_pretty(doc).unwrap());
    let (status, got) = check_json(&path);
    assert_eq!(status, 0, "{name}: {got:#}");
    assert!(got["cloud"]["refused"].as_array().unwrap().is_empty());
    assert!(got["cloud"]["unresolved"].as_array().unwrap().is_empty());
}

/// Words of a POSIX shell line with `"..."` and `'...'` quoting (no escapes, no expansions:
/// the snippets' lines need no more).
fn shell_split(line: &str) -> Vec<String> {
    let (mut words, mut cur, mut quote, mut any) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any {
                    words.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(cur);
    }
    words
}

/// The values of each `--flag=value` or `--flag value...` of a command line (a flag's values
/// run to the next flag).
fn flags(words: &[String]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for w in words {
        if let Some(flag) = w.strip_prefix("--") {
            match flag.split_once('=') {
                Some((k, v)) => out.push((k.to_string(), vec![v.to_string()])),
                None => out.push((flag.to_string(), Vec::new())),
            }
        } else if let Some(last) = out.last_mut() {
            last.1.push(w.clone());
        }
    }
    out
}

fn flag<'a>(f: &'a [(String, Vec<String>)], name: &str) -> &'a [String] {
    &f.iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no --{name} in {f:?}"))
        .1
}

/// Issue #21's Done-when: the office-only group plus the permissions `snippet aws-sg` prints
/// (as `authorize-security-group-ingress --ip-permissions` adds them) is OK, whether read as
/// the group or, one rule per source, as the group's rules.
#[test]
fn the_aws_sg_snippet_added_to_the_office_group_is_ok() {
    let env = TestEnv::new();
    let permissions: Value = serde_json::from_str(&snippet("aws-sg")).unwrap();
    let mut sg = fixture("aws-office-443.json");
    let perms = sg["SecurityGroups"][0]["IpPermissions"]
        .as_array_mut()
        .unwrap();
    for p in permissions.as_array().unwrap() {
        let mut p = p.clone();
        for key in [
            "IpRanges",
            "Ipv6Ranges",
            "PrefixListIds",
            "UserIdGroupPairs",
        ] {
            p.as_object_mut()
                .unwrap()
                .entry(key)
                .or_insert_with(|| json!([]));
        }
        perms.push(p);
    }
    assert_ok(&env, "sg.json", &sg);
}

/// The resources of `snippet terraform-aws`, as `describe-security-group-rules` lists what
/// they create, added to the office-only group's rules: OK.
#[test]
fn the_terraform_aws_snippet_added_to_the_office_group_is_ok() {
    let env = TestEnv::new();
    let tf = snippet("terraform-aws");
    let mut doc = fixture("aws-rules-office-443.json");
    let rules = doc["SecurityGroupRules"].as_array_mut().unwrap();
    let mut added = 0;
    let body = hcl::parse(&tf).unwrap_or_else(|e| panic!("not HCL: {e}\n{tf}"));
    let resources = body.blocks().filter(|b| {
        b.identifier() == "resource"
            && b.labels().first().map(|l| l.as_str()) == Some("aws_vpc_security_group_ingress_rule")
    });
    for block in resources {
        // Each attribute as Terraform would read it: a string's value, else the expression.
        let attr = |key: &str| -> Option<String> {
            block
                .body()
                .attributes()
                .find(|a| a.key() == key)
                .map(|a| match a.expr() {
                    hcl::Expression::String(s) => s.clone(),
                    other => hcl::format::to_string(other).unwrap(),
                })
        };
        assert_eq!(
            attr("security_group_id").unwrap(),
            "var.cloudflare_security_group_id"
        );
        assert_eq!(attr("ip_protocol").unwrap(), "tcp");
        let port: u16 = attr("from_port").unwrap().parse().unwrap();
        assert_eq!(attr("to_port").unwrap(), port.to_string());
        let mut rule = json!({"SecurityGroupRuleId": format!("sgr-tf{added}"),
            "GroupId": "sg-0a1b2c3d4e5f60718", "IsEgress": false, "IpProtocol": "tcp",
            "FromPort": port, "ToPort": port});
        match (attr("cidr_ipv4"), attr("cidr_ipv6")) {
            (Some(v4), None) => rule["CidrIpv4"] = json!(v4),
            (None, Some(v6)) => rule["CidrIpv6"] = json!(v6),
            other => panic!("one of cidr_ipv4 and cidr_ipv6: {other:?}"),
        }
        rules.push(rule);
        added += 1;
    }
    assert_eq!(added, 44);
    assert_ok(&env, "rules.json", &doc);
}

/// The rules `snippet gcp-firewall`'s lines create, as the listing shows them, added to the
/// export with a DENY of 0.0.0.0/0 on 80 at priority 900: their priority 100 decides first.
#[test]
fn the_gcp_firewall_snippet_added_to_the_deny_80_export_is_ok() {
    let env = TestEnv::new();
    let mut doc = fixture("gcp-deny-80.json");
    let network = doc[0]["network"].clone();
    let rules = doc.as_array_mut().unwrap();
    let script = snippet("gcp-firewall");
    let mut added = 0;
    for line in script.lines().filter(|l| l.starts_with("gcloud ")) {
        let words = shell_split(line);
        assert_eq!(
            words[..4],
            ["gcloud", "compute", "firewall-rules", "create"]
        );
        let f = flags(&words[5..]);
        assert_eq!(flag(&f, "direction"), ["INGRESS"]);
        assert_eq!(flag(&f, "action"), ["ALLOW"]);
        let allowed: Vec<Value> = flag(&f, "rules")[0]
            .split(',')
            .map(|r| {
                let (proto, port) = r.split_once(':').unwrap();
                json!({"IPProtocol": proto, "ports": [port]})
            })
            .collect();
        let sources: Vec<&str> = flag(&f, "source-ranges")[0].split(',').collect();
        rules.push(
            json!({"name": words[4], "network": network, "direction": "INGRESS",
            "priority": flag(&f, "priority")[0].parse::<u32>().unwrap(), "disabled": false,
            "kind": "compute#firewall", "allowed": allowed, "sourceRanges": sources,
            "description": flag(&f, "description")[0]}),
        );
        added += 1;
    }
    assert_eq!(added, 2);
    assert_ok(&env, "fw.json", &doc);
}

/// The rules `snippet azure-nsg`'s lines create, as `az network nsg rule list` shows them,
/// added to the export whose Cloudflare allow sits below a deny: priorities 100 and 101 decide
/// first.
#[test]
fn the_azure_nsg_snippet_added_to_the_deny_above_allow_export_is_ok() {
    let env = TestEnv::new();
    let mut doc = fixture("azure-deny-above-allow.json");
    let rules = doc.as_array_mut().unwrap();
    let script = snippet("azure-nsg");
    let mut added = 0;
    for line in script.lines().filter(|l| l.starts_with("az ")) {
        let words = shell_split(line);
        assert_eq!(words[..5], ["az", "network", "nsg", "rule", "create"]);
        let f = flags(&words[5..]);
        for (key, value) in [
            ("direction", "Inbound"),
            ("access", "Allow"),
            ("protocol", "Tcp"),
            ("source-port-ranges", "*"),
            ("destination-address-prefixes", "*"),
        ] {
            assert_eq!(flag(&f, key), [value], "{line}");
        }
        rules.push(json!({"name": flag(&f, "name")[0], "priority": flag(&f, "priority")[0].parse::<u32>().unwrap(),
            "access": "Allow", "direction": "Inbound", "protocol": "Tcp",
            "sourceAddressPrefix": null, "sourceAddressPrefixes": flag(&f, "source-address-prefixes"),
            "sourcePortRange": "*", "sourcePortRanges": [], "destinationAddressPrefix": "*",
            "destinationAddressPrefixes": [], "destinationPortRange": null,
            "destinationPortRanges": flag(&f, "destination-port-ranges"),
            "description": flag(&f, "description")[0]}));
        added += 1;
    }
    assert_eq!(added, 2);
    assert_ok(&env, "nsg.json", &doc);
}

/// The aws-sg JSON passes botocore's parameter validator against the EC2 model's
/// `AuthorizeSecurityGroupIngress` input (what the AWS CLI runs before it sends a request).
#[test]
fn the_aws_sg_snippet_passes_botocores_parameter_validator() {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import botocore"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        let why =
            "aws-sg validation: needs python3 and botocore (apt-get install python3-botocore)";
        if std::env::var_os("CI").is_some() {
            panic!("required in CI: {why}");
        }
        skip(why);
        return;
    }
    let env = TestEnv::new();
    let json_path = env.write("perms.json", snippet("aws-sg"));
    let script = r#"
import json, sys
import botocore.session
from botocore.validate import ParamValidator
model = botocore.session.get_session().get_service_model("ec2")
shape = model.operation_model("AuthorizeSecurityGroupIngress").input_shape
params = {"GroupId": "sg-0a1b2c3d4e5f60718", "IpPermissions": json.load(open(sys.argv[1]))}
report = ParamValidator().validate(params, shape)
if report.has_errors():
    print(report.generate_report())
    sys.exit(1)
# A wrong key must fail: the validator is really checking.
bad = dict(params, IpPermissions=[dict(params["IpPermissions"][0], CidrIpv4="1.2.3.0/24")])
sys.exit(0 if ParamValidator().validate(bad, shape).has_errors() else 2)
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, json_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The commented `cloudflare_ip_ranges` variant of the Terraform snippet, uncommented.
fn data_source_variant(tf: &str) -> String {
    let variant: String = tf
        .lines()
        .skip_while(|l| !l.starts_with("# data \"cloudflare_ip_ranges\""))
        .take_while(|l| !l.starts_with("# With provider v4"))
        .map(|l| {
            format!(
                "{}\n",
                l.strip_prefix("# ").unwrap_or(l.trim_start_matches('#'))
            )
        })
        .collect();
    assert!(variant.contains("ipv4_cidrs"), "{variant}");
    variant
}

/// The commented managed-prefix-list variant of the Terraform snippet, uncommented.
fn prefix_list_variant(tf: &str) -> String {
    let variant: String = tf
        .lines()
        .skip_while(|l| !l.starts_with("# Variant: one managed prefix list"))
        .skip_while(|l| !l.starts_with("# resource"))
        .map(|l| {
            format!(
                "{}\n",
                l.strip_prefix("# ").unwrap_or(l.trim_start_matches('#'))
            )
        })
        .collect();
    assert!(variant.contains("aws_ec2_managed_prefix_list"), "{tf}");
    variant
}

/// The prefix-list variant parses as HCL: per address family, one list whose entries are
/// exactly Cloudflare's ranges of that family and whose `max_entries` is their number, and
/// one rule resource for ports 80 and 443 that references it.
#[test]
fn the_terraform_prefix_list_variant_holds_every_range() {
    let variant = prefix_list_variant(&snippet("terraform-aws"));
    let body = hcl::parse(&variant).unwrap_or_else(|e| panic!("not HCL: {e}\n{variant}"));
    let text = |e: &hcl::Expression| match e {
        hcl::Expression::String(s) => s.clone(),
        other => hcl::format::to_string(other).unwrap(),
    };
    let attr = |b: &hcl::Block, key: &str| {
        b.body()
            .attributes()
            .find(|a| a.key() == key)
            .map(|a| text(a.expr()))
            .unwrap_or_else(|| panic!("no {key} in {b:?}"))
    };
    let ranges = cf_ban_audit_core::cloudflare::embedded();
    let mut cidrs = Vec::new();
    let mut referenced = Vec::new();
    for block in body.blocks() {
        let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
        match labels[..] {
            ["aws_ec2_managed_prefix_list", name] => {
                let entries: Vec<String> = block
                    .body()
                    .blocks()
                    .filter(|b| b.identifier() == "entry")
                    .map(|b| attr(b, "cidr"))
                    .collect();
                assert_eq!(attr(block, "max_entries"), entries.len().to_string());
                let family = if name.ends_with("v4") { "IPv4" } else { "IPv6" };
                assert_eq!(attr(block, "address_family"), family);
                cidrs.extend(entries);
            }
            ["aws_vpc_security_group_ingress_rule", _] => {
                let ports: String = attr(block, "for_each").split_whitespace().collect();
                assert_eq!(ports, "{http=80https=443}");
                assert_eq!(attr(block, "from_port"), "each.value");
                referenced.push(attr(block, "prefix_list_id"));
            }
            _ => panic!("unexpected block {labels:?}"),
        }
    }
    let want: Vec<String> = ranges.nets().iter().map(|n| n.to_string()).collect();
    assert_eq!(cidrs, want);
    assert_eq!(
        referenced,
        [
            "aws_ec2_managed_prefix_list.cloudflare_v4.id",
            "aws_ec2_managed_prefix_list.cloudflare_v6.id"
        ]
    );
}

/// The data-source variant parses as HCL: a `cloudflare_ip_ranges` data block and the rule
/// resources that read it (the HCL parser of the hcl-rs crate, always; `terraform fmt`
/// below where Terraform is installed).
#[test]
fn the_terraform_data_source_variant_is_hcl() {
    let variant = data_source_variant(&snippet("terraform-aws"));
    let body = hcl::parse(&variant).unwrap_or_else(|e| panic!("not HCL: {e}\n{variant}"));
    let labels = |b: &hcl::Block| {
        b.labels()
            .iter()
            .map(|l| l.as_str().to_string())
            .collect::<Vec<_>>()
    };
    let blocks: Vec<(String, Vec<String>)> = body
        .blocks()
        .map(|b| (b.identifier().to_string(), labels(b)))
        .collect();
    assert!(
        blocks
            .iter()
            .any(|(id, l)| id == "data"
                && l.first().map(String::as_str) == Some("cloudflare_ip_ranges")),
        "{blocks:?}"
    );
    assert!(
        blocks.iter().any(|(id, l)| id == "resource"
            && l.first().map(String::as_str) == Some("aws_vpc_security_group_ingress_rule")),
        "{blocks:?}"
    );
}

/// The Terraform snippet, and its commented variants uncommented, parse as HCL
/// and are laid out as `terraform fmt` lays them out. Terraform is not a Debian package, so
/// without it this check prints a SKIP line, in CI too.
#[test]
fn the_terraform_aws_snippet_is_terraform_fmt_clean() {
    let terraform = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("terraform"))
            .find(|t| t.is_file())
    });
    let Some(terraform) = terraform else {
        skip("terraform-aws layout: needs terraform on PATH (not a Debian package)");
        return;
    };
    let env = TestEnv::new();
    let tf = snippet("terraform-aws");
    let variant = data_source_variant(&tf);
    let prefix_lists = prefix_list_variant(&tf);
    for (name, text) in [
        ("cloudflare.tf", tf.as_str()),
        ("variant.tf", variant.as_str()),
        ("prefix_lists.tf", prefix_lists.as_str()),
    ] {
        let path = env.write(name, text);
        let out = std::process::Command::new(&terraform)
            .args(["fmt", "-check", "-diff", "-no-color"])
            .arg(&path)
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}{}\n{text}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The rules `snippet alibaba-sg`'s calls create, as DescribeSecurityGroupAttribute lists
/// them: added to the group whose Drop of 80 ties at priority 1, the Drop still wins on 80
/// (a drop wins a tie, and nothing outranks priority 1) and nothing else is refused; without
/// that Drop, OK.
#[test]
fn the_alibaba_sg_snippet_is_ok_unless_a_drop_ties_with_it() {
    let env = TestEnv::new();
    let mut doc = fixture("alibaba-drop-80.json");
    let mut added = Vec::new();
    for line in snippet("alibaba-sg")
        .lines()
        .filter(|l| l.starts_with("aliyun "))
    {
        let line = line.split(" || ").next().unwrap();
        let words = shell_split(line);
        assert_eq!(words[..3], ["aliyun", "ecs", "AuthorizeSecurityGroup"]);
        let f = flags(&words[3..]);
        let one = |k: &str| flag(&f, &format!("Permissions.1.{k}"))[0].clone();
        assert_eq!(
            (one("IpProtocol"), one("Policy")),
            ("tcp".into(), "accept".into())
        );
        let v6 = f.iter().any(|(k, _)| k == "Permissions.1.Ipv6SourceCidrIp");
        let source = |k: &str| {
            if v6 == (k == "Ipv6SourceCidrIp") {
                one(k)
            } else {
                String::new()
            }
        };
        added.push(json!({"SourceGroupId": "", "Policy": "Accept", "Description": one("Description"),
            "Priority": one("Priority").parse::<u32>().unwrap(), "Direction": "ingress",
            "PortRange": one("PortRange"), "IpProtocol": "TCP", "SourcePrefixListId": "",
            "SourceCidrIp": source("SourceCidrIp"), "Ipv6SourceCidrIp": source("Ipv6SourceCidrIp")}));
    }
    assert_eq!(added.len(), 44);
    let perms = doc["Permissions"]["Permission"].as_array_mut().unwrap();
    perms.extend(added);
    let path = env.write("with-drop.json", doc.to_string());
    let (status, got) = check_json(&path);
    assert_eq!(status, 1);
    assert_eq!(
        actual_ranges(&got["cloud"]["refused"], 80, "sgr-bp10000000000000a2"),
        expected_ranges(&json!("v4"))
    );
    assert_eq!(got["cloud"]["refused"].as_array().unwrap().len(), 15);
    let perms = doc["Permissions"]["Permission"].as_array_mut().unwrap();
    perms.retain(|p| p["Policy"] != "Drop");
    assert_ok(&env, "without-drop.json", &doc);
}

/// The policies of `snippet tencent-sg`, inserted before the group's first (PolicyIndex 0):
/// the group that drops all IPv4 after its 443 rule lets every range in.
#[test]
fn the_tencent_sg_snippet_inserted_first_is_ok() {
    let env = TestEnv::new();
    let script = snippet("tencent-sg");
    let line = script.lines().find(|l| l.starts_with("tccli ")).unwrap();
    let words = shell_split(line);
    assert_eq!(words[..3], ["tccli", "vpc", "CreateSecurityGroupPolicies"]);
    let f = flags(&words[3..]);
    let set: Value = serde_json::from_str(&flag(&f, "SecurityGroupPolicySet")[0]).unwrap();
    let new = set["Ingress"].as_array().unwrap();
    assert_eq!(new.len(), 44);
    assert!(new.iter().all(|p| p["PolicyIndex"] == 0));
    let mut doc = fixture("tencent-drop-after-443.json");
    let ingress = doc["SecurityGroupPolicySet"]["Ingress"]
        .as_array_mut()
        .unwrap();
    for p in ingress.iter_mut() {
        p["PolicyIndex"] = json!(p["PolicyIndex"].as_u64().unwrap() + 44);
    }
    for (i, p) in new.iter().enumerate() {
        let mut p = p.clone();
        p["PolicyIndex"] = json!(i);
        ingress.push(p);
    }
    assert_ok(&env, "sg.json", &doc);
}
