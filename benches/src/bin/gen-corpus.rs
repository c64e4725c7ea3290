//! `gen-corpus [--profile dense|web-host] OUT SIZE_MB [HOSTS] [SEED]`: writes a deterministic
//! benchmark corpus into OUT and its ground truth into OUT.truth.json (beside it, not inside
//! it). `dense` (the default): a quarter of the lines are events of every format; `web-host`:
//! what a busy Cloudflare-fronted web host holds, mostly access logs and noise.

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut profile = "dense".to_string();
    if args.first().map(String::as_str) == Some("--profile") && args.len() > 1 {
        profile = args.remove(1);
        args.remove(0);
    }
    if args.len() < 2 || !["dense", "web-host"].contains(&profile.as_str()) {
        eprintln!("usage: gen-corpus [--profile dense|web-host] OUT SIZE_MB [HOSTS=16] [SEED=1]");
        std::process::exit(2);
    }
    let out = std::path::PathBuf::from(&args[0]);
    let size: u64 = args[1].parse().expect("SIZE_MB is a number");
    let hosts: u32 = args
        .get(2)
        .map_or(16, |h| h.parse().expect("HOSTS is a number"));
    let seed: u64 = args
        .get(3)
        .map_or(1, |s| s.parse().expect("SEED is a number"));
    let generate = match profile.as_str() {
        "web-host" => cf_ban_audit_benches::generate_web_host,
        _ => cf_ban_audit_benches::generate,
    };
    let truth = generate(&out, size, hosts, seed).expect("corpus written");
    let truth_path = out.with_extension("truth.json");
    cf_ban_audit_benches::write_truth(&truth_path, &truth).expect("truth written");
    eprintln!(
        "{} MiB ({profile}) in {}, {} true (tool, address) pairs in {}",
        size,
        out.display(),
        truth.len(),
        truth_path.display()
    );
}
