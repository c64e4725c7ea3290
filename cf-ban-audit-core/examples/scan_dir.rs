//! Scans a directory for bans of Cloudflare addresses and prints the findings, one a line.
//!
//! ```sh
//! cargo run -p cf-ban-audit-core --example scan_dir -- /var/log
//! ```

use cf_ban_audit_core::{cloudflare, Scanner};

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/var/log".to_string());
    let report = Scanner::new(cloudflare::embedded())
        .ranges_source(cloudflare::embedded_source())
        .path(&dir)
        .scan();
    for f in &report.findings {
        let place = f
            .locations
            .last()
            .map(|l| l.to_string())
            .unwrap_or_default();
        let state = if f.active { "active" } else { "lifted" };
        println!(
            "{state} {} {} {} ({}) {place}",
            f.tool,
            f.scope,
            f.address_text(),
            f.range
        );
    }
    for e in &report.errors {
        eprintln!("error: {}", e.message);
    }
    std::process::exit(i32::from(!report.findings.is_empty()));
}
