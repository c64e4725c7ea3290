//! `gen-corpus OUT SIZE_MB [HOSTS] [SEED]`: writes a deterministic benchmark corpus into OUT and
//! its ground truth into OUT.truth.json (beside it, not inside it).

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: gen-corpus OUT SIZE_MB [HOSTS=16] [SEED=1]");
        std::process::exit(2);
    }
    let out = std::path::PathBuf::from(&args[1]);
    let size: u64 = args[2].parse().expect("SIZE_MB is a number");
    let hosts: u32 = args
        .get(3)
        .map_or(16, |h| h.parse().expect("HOSTS is a number"));
    let seed: u64 = args
        .get(4)
        .map_or(1, |s| s.parse().expect("SEED is a number"));
    let truth = cf_ban_audit_benches::generate(&out, size, hosts, seed).expect("corpus written");
    let truth_path = out.with_extension("truth.json");
    cf_ban_audit_benches::write_truth(&truth_path, &truth).expect("truth written");
    eprintln!(
        "{} MiB in {}, {} true (tool, address) pairs in {}",
        size,
        out.display(),
        truth.len(),
        truth_path.display()
    );
}
