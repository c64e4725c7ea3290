#!/usr/bin/env bash
# Whole-process comparison on a generated corpus: cf-ban-audit scan (2 threads and 1) against
# `rg -c` of the events' keywords over the same files, `wc -l`, and the admin's grep | grepcidr
# pipeline, with hyperfine; the same cold (page cache dropped before each run) against `cat`
# where the machine lets root drop it; peak memory with GNU time; and first the scan's results
# checked against the corpus's ground truth.
#
#   benches/compare.sh [SIZE_MB=1024] [HOSTS=16] [PROFILE=dense]
#
# PROFILE: `dense` (a quarter of the lines are events, every format) or `web-host` (what a busy
# Cloudflare-fronted web host holds: mostly access logs and noise, rotated and gzipped files,
# few events). Needs: hyperfine ripgrep grepcidr time python3 (apt-get install -y hyperfine
# ripgrep grepcidr time python3).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-1024}
HOSTS=${2:-16}
PROFILE=${3:-dense}
OUT=benches/corpus-out/${PROFILE}-${SIZE}
RESULTS=benches/corpus-out/${PROFILE}-${SIZE}
BIN=target/release/cf-ban-audit

cargo build --release -p cf-ban-audit-cli -p cf-ban-audit-benches
if [ ! -d "$OUT" ]; then
    target/release/gen-corpus --profile "$PROFILE" "$OUT" "$SIZE" "$HOSTS" 1
fi
F2B=$(find "$OUT" -name fail2ban.log | sort | tr "\n" " ")
ALL=$(find "$OUT" -type f | sort | tr "\n" " ")
BYTES=$(cat $ALL | wc -c)
F2B_BYTES=$(cat $F2B | wc -c)
echo "corpus ($PROFILE): $OUT, $((BYTES / 1048576)) MiB on disk in $(echo "$ALL" | wc -w) files; fail2ban part $((F2B_BYTES / 1048576)) MiB"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# The pipeline admins run today (Cloudflare's list as grepcidr patterns), and the keywords of
# every event the scan reads (a compressed file searched decompressed, as the scan reads it).
CF=$(mktemp); $BIN ranges | grep -v '^#' > "$CF"
KEYWORDS="-e ' Ban ' -e 'limiting ' -e 'access forbidden' -e 'ModSecurity: Access' -e 'client denied' -e 'Blacklisting address'"

# 1. Correctness first: every true (tool, address) pair, and nothing else that is Cloudflare's.
$BIN scan --format jsonl "$OUT" > "$RESULTS.findings.jsonl" || true
python3 - "$OUT.truth.json" "$RESULTS.findings.jsonl" <<'PY'
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

# 2. Time, warm page cache.
cat $ALL > /dev/null
hyperfine -N --warmup 1 --runs 5 --export-markdown "$RESULTS.times.md" \
    -n "cf-ban-audit scan (2 threads)" "$BIN scan -q -j2 $OUT" \
    -n "cf-ban-audit scan -j1" "$BIN scan -q -j1 $OUT" \
    -n "rg -c -z keywords (2 threads)" "sh -c \"rg -j2 -c -z $KEYWORDS $ALL > /dev/null; true\"" \
    -n "wc -l (all)" "wc -l $ALL" \
    -n "grep | grepcidr (fail2ban part)" "sh -c \"grep -hoE ' Ban [0-9a-f.:]+' $F2B | cut -c6- | grepcidr -f $CF | sort -u > /dev/null\"" \
    -i
cat "$RESULTS.times.md"

# 3. Time, cold page cache: only where root may drop it.
if [ -w /proc/sys/vm/drop_caches ] && (sync && echo 3 > /proc/sys/vm/drop_caches) 2>/dev/null; then
    hyperfine -N --runs 3 --prepare "sh -c 'sync; echo 3 > /proc/sys/vm/drop_caches'" \
        --export-markdown "$RESULTS.cold.md" \
        -n "cat (cold)" "sh -c \"cat $ALL > /dev/null\"" \
        -n "cf-ban-audit scan (cold, 2 threads)" "$BIN scan -q -j2 $OUT" \
        -i
    cat "$RESULTS.cold.md"
else
    echo "cold cache: not measured (this machine does not let us drop the page cache)"
fi

# 4. Peak memory.
for j in 2 1; do
    /usr/bin/time -f "peak RSS: %M KiB (scan -j$j of all, %e s)" $BIN scan -q -j$j "$OUT" || true
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$CF"
