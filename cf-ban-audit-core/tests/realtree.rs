//! A whole tree written by the real programs (`fixtures/realtree/tree`, made by
//! `fixtures/realtree/lab/make-tree.sh`: fail2ban with seven banactions, nginx with ModSecurity
//! 3, Apache with mod_security2 and mod_evasive, sshd through rsyslog, ufw, iptables nft and
//! legacy, ipset, nftables, CrowdSec's Local API and firewall bouncer), scanned whole, against `truth.json`: what the lab did, written by
//! the lab, never by a scan. Every true (tool, scope, address) of a Cloudflare address must be
//! found with its state, and nothing else; a visitor's ban (not Cloudflare) is never a finding.
//! The pairs of `pending.json` are true but read by formats still to come: each must not be
//! found yet, so that the list shrinks when one lands; its `misread` pairs are read by a format
//! of main with another state, which must stay as listed until the reader is fixed.

mod common;

use std::path::{Path, PathBuf};

use cf_ban_audit_core::{cloudflare, Scanner};
use chrono::NaiveDateTime;
use serde_json::Value;

/// One true ban or refusal, as the lab knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pair {
    tool: String,
    /// The jail, rule or file when the lab knows it; `None` matches any scope.
    scope: Option<String>,
    address: String,
    state: String,
    cloudflare: bool,
}

impl Pair {
    fn from_json(v: &Value) -> Pair {
        Pair {
            tool: v["tool"].as_str().expect("tool").to_string(),
            scope: v["scope"].as_str().map(str::to_string),
            address: v["address"].as_str().expect("address").to_string(),
            state: v["state"].as_str().expect("state").to_string(),
            cloudflare: v["cloudflare"].as_bool().unwrap_or(true),
        }
    }

    /// Whether `finding` is about this pair's ban, whatever its state.
    fn names(&self, finding: &Found) -> bool {
        self.tool == finding.tool
            && self.address == finding.address
            && self.scope.as_ref().is_none_or(|s| *s == finding.scope)
    }

    fn key(&self) -> (&str, &str, &str) {
        (&self.tool, &self.address, &self.state)
    }
}

/// A finding of the scan, as compared.
#[derive(Debug, Clone)]
struct Found {
    tool: String,
    scope: String,
    address: String,
    state: String,
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} [{}] {} {}",
            self.tool, self.scope, self.address, self.state
        )
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{path:?}: {e}")))
        .unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn pairs(doc: &Value) -> Vec<Pair> {
    doc["pairs"]
        .as_array()
        .expect("a list of pairs")
        .iter()
        .map(Pair::from_json)
        .collect()
}

/// A copy of the tree with every file last modified at `written` (host local time), as the
/// lab collected it, except the files `mtimes` names (relative path to local time: files whose
/// time is what they say, as mod_evasive's lock files): a checkout's own times say nothing.
fn pinned_copy(
    tree: &Path,
    written: NaiveDateTime,
    mtimes: &Value,
) -> (tempfile::TempDir, PathBuf) {
    use chrono::TimeZone;
    let dir = tempfile::tempdir().unwrap();
    let at = |t: NaiveDateTime| {
        std::time::SystemTime::from(chrono::Local.from_local_datetime(&t).unwrap())
    };
    for entry in walkdir::WalkDir::new(tree) {
        let entry = entry.unwrap();
        let relative = entry.path().strip_prefix(tree).unwrap();
        let to = dir.path().join(relative);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
            let own = mtimes[relative.to_str().unwrap()]
                .as_str()
                .map(|t| t.parse::<NaiveDateTime>().unwrap());
            let file = std::fs::File::options().write(true).open(&to).unwrap();
            file.set_modified(at(own.unwrap_or(written))).unwrap();
        }
    }
    let root = dir.path().to_path_buf();
    (dir, root)
}

#[test]
fn the_real_programs_tree_gives_every_true_pair_with_its_state_and_no_other() {
    let base = common::fixtures().join("realtree");
    let truth = read_json(&base.join("truth.json"));
    let pending_doc = read_json(&base.join("pending.json"));
    let pending = pairs(&pending_doc);
    // True pairs that a format on main reads with another state, and that state.
    let misread: Vec<(Pair, String)> = pending_doc["misread"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|v| {
                    (
                        Pair::from_json(v),
                        v["found_state"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let written: NaiveDateTime = truth["written"].as_str().unwrap().parse().unwrap();
    let now: NaiveDateTime = truth["now"].as_str().unwrap().parse().unwrap();
    let all = pairs(&truth);
    for p in pending.iter().chain(misread.iter().map(|(p, _)| p)) {
        assert!(
            all.contains(p),
            "pending.json lists a pair truth.json does not hold: {p:?}"
        );
    }
    let (_keep, tree) = pinned_copy(&base.join("tree"), written, &truth["mtimes"]);
    let report = Scanner::new(cloudflare::embedded())
        .path(&tree)
        .now(now)
        .scan();
    assert!(
        report.errors.is_empty(),
        "scan errors: {:#?}",
        report.errors
    );
    let json = serde_json::to_value(&report).unwrap();
    let found: Vec<Found> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| Found {
            tool: f["tool"].as_str().unwrap().to_string(),
            scope: f["scope"].as_str().unwrap().to_string(),
            address: f["address"].as_str().unwrap().to_string(),
            state: f["state"].as_str().unwrap().to_string(),
        })
        .collect();

    // The pairs that must be found: Cloudflare's, not pending; those with a scope first, so
    // that one without takes what is left.
    let mut want: Vec<&Pair> = all
        .iter()
        .filter(|p| p.cloudflare && !pending.contains(p) && !misread.iter().any(|(m, _)| m == *p))
        .collect();
    want.sort_by_key(|p| p.scope.is_none());
    let mut used = vec![false; found.len()];
    let (mut missing, mut wrong) = (Vec::new(), Vec::new());
    for p in &want {
        let candidates: Vec<usize> = (0..found.len())
            .filter(|&i| !used[i] && p.names(&found[i]))
            .collect();
        if let Some(&i) = candidates.iter().find(|&&i| found[i].state == p.state) {
            used[i] = true;
        } else if let Some(&i) = candidates.first() {
            used[i] = true;
            wrong.push(format!("{p:?}: found as {}", found[i]));
        } else {
            missing.push(format!("{p:?}"));
        }
    }
    let mut misread_changed = Vec::new();
    for (p, state) in &misread {
        match (0..found.len()).find(|&i| !used[i] && p.names(&found[i])) {
            Some(i) if found[i].state == *state => used[i] = true,
            Some(i) => {
                used[i] = true;
                misread_changed.push(format!(
                    "{p:?} was read as {state}, now as {}: update pending.json",
                    found[i]
                ));
            }
            None => misread_changed.push(format!(
                "{p:?} was read as {state}, now not at all: update pending.json"
            )),
        }
    }
    let mut extra = Vec::new();
    let mut landed = Vec::new();
    for f in found
        .iter()
        .enumerate()
        .filter(|(i, _)| !used[*i])
        .map(|(_, f)| f)
    {
        match pending
            .iter()
            .find(|p| p.names(f) && p.key() == (&*f.tool, &*f.address, &*f.state))
        {
            Some(p) => landed.push(format!(
                "{p:?} is read now ({f}): move it out of pending.json"
            )),
            None => extra.push(f.to_string()),
        }
    }
    let mut failures = Vec::new();
    for (what, list) in [
        ("missing (true pairs not found)", &missing),
        ("extra (findings that are no true pair)", &extra),
        ("wrong state", &wrong),
        ("pending pairs found", &landed),
        ("misread pairs read otherwise", &misread_changed),
    ] {
        if !list.is_empty() {
            failures.push(format!("{what}:\n  {}", list.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} findings, {} pairs expected ({} pending)\n{}",
        found.len(),
        want.len(),
        pending.len(),
        failures.join("\n")
    );
    assert!(want.len() >= 20, "too few pairs: {}", want.len());
}
