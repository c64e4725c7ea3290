#!/usr/bin/env bash
# Builds the Debian package: the release binary, its manual pages (gzipped, as Debian ships
# them) and its bash, zsh and fish completions, then `cargo deb` with the metadata of
# cf-ban-audit-cli/Cargo.toml. Prints the path of the .deb.
#
#   contrib/debian/build-deb.sh        # needs cargo-deb: cargo install --locked cargo-deb
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -p cf-ban-audit-cli
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release/cf-ban-audit
ASSETS=$TARGET/release/deb-assets
rm -rf "$ASSETS"
mkdir -p "$ASSETS/man" "$ASSETS/completions"
"$BIN" man --dir "$ASSETS/man"
gzip -9n "$ASSETS"/man/*.1
"$BIN" completions bash > "$ASSETS/completions/cf-ban-audit"
"$BIN" completions zsh > "$ASSETS/completions/_cf-ban-audit"
"$BIN" completions fish > "$ASSETS/completions/cf-ban-audit.fish"
cargo deb -p cf-ban-audit-cli --no-build --no-strip
