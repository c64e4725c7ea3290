#!/usr/bin/env bash
# Whole-process comparison on a generated corpus: cf-ban-audit scan against `cat | wc -l` and
# the admin's grep | grepcidr pipeline, with hyperfine; peak memory with GNU time; and the
# scan's results checked against the corpus's ground truth. `wc -l FILES` is timed too: on
# virtual machines the pipe of `cat | wc -l` can cost more than reading the files.
#
#   benches/compare.sh [SIZE_MB=1024] [HOSTS=16]
#
# Needs: hyperfine grepcidr time python3 (apt-get install -y hyperfine grepcidr time python3).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-1024}
HOSTS=${2:-16}
OUT=benches/corpus-out/corpus-${SIZE}
BIN=target/release/cf-ban-audit

cargo build --release -p cf-ban-audit-cli -p cf-ban-audit-benches
if [ ! -d "$OUT" ]; then
    target/release/gen-corpus "$OUT" "$SIZE" "$HOSTS" 1
fi
F2B=$(find "$OUT" -name fail2ban.log | sort | tr "\n" " ")
ALL=$(find "$OUT" -type f | sort | tr "\n" " ")
BYTES=$(cat $ALL | wc -c)
F2B_BYTES=$(cat $F2B | wc -c)
echo "corpus: $OUT, $((BYTES / 1048576)) MiB in $(echo "$ALL" | wc -w) files; fail2ban part $((F2B_BYTES / 1048576)) MiB"

# The pipeline admins run today (Cloudflare's list as grepcidr patterns).
CF=$(mktemp); $BIN ranges | grep -v '^#' > "$CF"

# 1. Correctness first: every true (tool, address) pair, and nothing else that is Cloudflare's.
$BIN scan --format jsonl "$OUT" > benches/corpus-out/findings.jsonl || true
python3 - "$OUT.truth.json" benches/corpus-out/findings.jsonl <<'PY'
import json, sys
truth = {tuple(p) for p in json.load(open(sys.argv[1]))["pairs"]}
# Each source as it named its tool (a fail2ban ban's f2b-* ipset is ipset's word).
got = {((e.get("object") or f["tool"]).split(" ")[0], f["address"])
       for f in map(json.loads, open(sys.argv[2])) if f["record"] == "finding"
       for e in f["evidence"] if e["events"] > 0}
missing, extra = truth - got, got - truth
print(f"results: {len(got)} (tool, address) pairs; missing {len(missing)}, unexpected {len(extra)}")
for p in sorted(missing)[:10]: print("  missing", p)
for p in sorted(extra)[:10]: print("  unexpected", p)
sys.exit(1 if missing or extra else 0)
PY

# 2. Time.
cat $ALL > /dev/null   # warm the page cache
hyperfine --warmup 1 --runs 5 --export-markdown benches/corpus-out/times.md \
    -n "cat | wc -l (all)" "cat $ALL | wc -l" \
    -n "wc -l (all, no pipe)" "wc -l $ALL" \
    -n "cf-ban-audit scan (all)" "$BIN scan -q $OUT; true" \
    -n "grep | grepcidr (fail2ban part)" "grep -hoE ' Ban [0-9a-f.:]+' $F2B | cut -c6- | grepcidr -f $CF | sort -u > /dev/null" \
    -n "cf-ban-audit scan (fail2ban part)" "$BIN scan -q --source fail2ban $F2B; true"
cat benches/corpus-out/times.md

# 3. Peak memory.
/usr/bin/time -f "peak RSS: %M KiB (scan of all, %e s)" $BIN scan -q "$OUT" || true
rm -f "$CF"
