#!/usr/bin/env bash
# Whole-process comparison on a generated corpus: cf-ban-audit scan (2 threads and 1) against
# `rg -c` of the events' keywords over the same files, `wc -l`, and the admin's grep | grepcidr
# pipeline, with hyperfine; the same cold (page cache dropped before each run) against `cat`
# where the machine lets root drop it; peak memory with GNU time; first the scan's results
# checked against the corpus's ground truth, and last issue #20's targets, each said met or not.
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
rm -f "$RESULTS.times.json" "$RESULTS.cold.json"
cat $ALL > /dev/null
hyperfine -N --warmup 1 --runs 5 --export-markdown "$RESULTS.times.md" --export-json "$RESULTS.times.json" \
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
        --export-markdown "$RESULTS.cold.md" --export-json "$RESULTS.cold.json" \
        -n "cat (cold)" "sh -c \"cat $ALL > /dev/null\"" \
        -n "cf-ban-audit scan (cold, 2 threads)" "$BIN scan -q -j2 $OUT" \
        -i
    cat "$RESULTS.cold.md"
else
    echo "cold cache: not measured (this machine does not let us drop the page cache)"
fi

# 4. Peak memory.
rm -f "$RESULTS.rss"
for j in 2 1; do
    /usr/bin/time -o "$RESULTS.rss" -a -f "%M" $BIN scan -q -j$j "$OUT" || true
    echo "peak RSS: $(tail -1 "$RESULTS.rss") KiB (scan -j$j of all)"
done

# 5. Issue #20's targets, from the runs above (means): on the dense profile the two-thread scan
# at most 3x `rg -c` and one thread at least 1.5 GB/s; on the web-host profile at most 2x `rg -c`;
# cold at most 1.15x `cat`; peak RSS at most 64 MiB.
python3 - "$PROFILE" "$BYTES" "$RESULTS" <<'PY'
import json, os, sys
profile, size, results = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def means(path):
    if not os.path.exists(path):
        return {}
    return {r["command"]: r["mean"] for r in json.load(open(path))["results"]}
warm, cold = means(results + ".times.json"), means(results + ".cold.json")
def line(what, value, limit, ok):
    print(f"target: {what}: {value} (limit {limit}): {'met' if ok else 'NOT met'}")
ratio = warm["cf-ban-audit scan (2 threads)"] / warm["rg -c -z keywords (2 threads)"]
limit = 3.0 if profile == "dense" else 2.0
line("scan -j2 / rg -c", f"{ratio:.2f}x", f"{limit:g}x", ratio <= limit)
if profile == "dense":
    rate = size / warm["cf-ban-audit scan -j1"] / 1e9
    line("scan -j1", f"{rate:.2f} GB/s", "at least 1.5 GB/s", rate >= 1.5)
if cold:
    ratio = cold["cf-ban-audit scan (cold, 2 threads)"] / cold["cat (cold)"]
    line("cold scan / cold cat", f"{ratio:.2f}x", "1.15x", ratio <= 1.15)
else:
    print("target: cold scan / cold cat: not measured here")
peak = max(int(l) for l in open(results + ".rss") if l.strip().isdigit()) / 1024
line("peak RSS", f"{peak:.0f} MiB", "64 MiB", peak <= 64)
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$CF"
