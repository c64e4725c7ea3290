#!/usr/bin/env bash
# Whole-process comparison on a generated corpus: cf-ban-audit scan (2 threads and 1) against
# `rg -c` of the events' keywords over the same files, `wc -l`, and the admin's grep | grepcidr
# pipeline, with hyperfine; the same cold (page cache dropped before each run) against `cat`
# where the machine lets root drop it; peak memory with GNU time; first the scan's results
# checked against the corpus's ground truth, and last issue #20's targets, each said met or not,
# from rounds that run the compared commands side by side.
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

# 5. The targets' ratios in pairs: hyperfine runs each command's runs together, and this
# machine's speed drifts between them (by up to 15% a minute apart), so each target is taken
# from rounds run side by side, the commands of a round one after the other (in turns first),
# a warm round after a `cat` of the files, a cold one after the page cache is dropped: the
# median of the rounds' ratios, with their range.
python3 - "$PROFILE" "$BYTES" "$RESULTS" "$BIN" "$OUT" "$KEYWORDS" "$ALL" <<'PY'
import os, statistics, subprocess, sys, time
profile, size, results, binary, out, keywords, files = sys.argv[1:8]
size = int(size)
def took(command):
    start = time.perf_counter()
    subprocess.run(command, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start
def drop():
    try:
        subprocess.run("sync", check=True)
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3")
        return True
    except OSError:
        return False
scan2, scan1 = f"{binary} scan -q -j2 {out}", f"{binary} scan -q -j1 {out}"
rg, cat = f"rg -j2 -c -z {keywords} {files}", f"cat {files} > /dev/null"
def line(what, value, limit, ok):
    print(f"target: {what}: {value} (limit {limit}): {'met' if ok else 'NOT met'}")
def summary(values, unit):
    return f"{statistics.median(values):.2f}{unit} ({min(values):.2f}{unit} to {max(values):.2f}{unit})"
ROUNDS = 11
ratios, ones = [], []
for i in range(ROUNDS):
    took(cat)
    if i % 2:
        r = took(rg); s = took(scan2)
    else:
        s = took(scan2); r = took(rg)
    ratios.append(s / r)
    took(cat)
    ones.append(size / took(scan1) / 1e9)
limit = 3.0 if profile == "dense" else 2.0
print(f"paired warm rounds: {ROUNDS}, each after a cat of the files")
ratio = statistics.median(ratios)
line("scan -j2 / rg -c", summary(ratios, "x"), f"{limit:g}x", ratio <= limit)
if profile == "dense":
    rate = statistics.median(ones)
    line("scan -j1", summary(ones, " GB/s"), "at least 1.5 GB/s", rate >= 1.5)
if drop():
    colds = []
    for i in range(5):
        drop(); c = took(cat)
        drop(); s = took(scan2)
        colds.append(s / c)
    ratio = statistics.median(colds)
    print("paired cold rounds: 5, the page cache dropped before each command")
    line("cold scan / cold cat", summary(colds, "x"), "1.15x", ratio <= 1.15)
else:
    print("target: cold scan / cold cat: not measured here (the page cache cannot be dropped)")
peak = max(int(l) for l in open(results + ".rss") if l.strip().isdigit()) / 1024
line("peak RSS", f"{peak:.0f} MiB", "64 MiB", peak <= 64)
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$CF"
