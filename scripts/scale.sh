#!/usr/bin/env bash
# usage: scripts/scale.sh [SEEDS] [SCENARIO]
#
# Measures what a long sweep costs: peak memory (maximum resident set size,
# from GNU time), wall time, and the size of the page and of the report
# files, for `mqsim run SCENARIO --seeds SEEDS --no-shrink` (default: 2,000
# seeds of scenarios/log-acks1-leader-crash.toml) with a release build.
# Both bounds are checked: at most 300 MB of memory and a 5 MB page.
set -euo pipefail
seeds=${1:-2000}
scenario=${2:-scenarios/log-acks1-leader-crash.toml}
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
cargo build --release --bin mqsim 2>&1 | tail -1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/time -v -o "$out/time.txt" ./target/release/mqsim run "$scenario" \
  --seeds "$seeds" --no-shrink --out "$out/report" >"$out/stdout.txt" 2>&1 || true
tail -3 "$out/stdout.txt"
rss_kb=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$out/time.txt")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$out/time.txt")
size() { stat -c %s "$out/report/$1"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
page=$(size index.html)
echo "seeds:        $seeds of $scenario"
echo "wall:         $wall"
echo "peak memory:  $(mb $((rss_kb * 1024)))"
echo "index.html:   $(mb "$page")"
echo "report.json:  $(mb "$(size report.json)")"
echo "seeds.jsonl:  $(mb "$(size seeds.jsonl)")"
fail=0
[ "$rss_kb" -le $((300 * 1000 * 1000 / 1024)) ] || { echo "FAIL: peak memory over 300 MB"; fail=1; }
[ "$page" -le 5000000 ] || { echo "FAIL: index.html over 5 MB"; fail=1; }
exit $fail
