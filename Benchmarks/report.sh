#!/usr/bin/env bash
# Reports and plots, release build:
#   - a closed-loop campaign of RUNS runs (a 4 × 5 fault matrix over
#     dispersed flights of traces/nominal.mcap), then `touchdown report` of
#     its results: generation time (ROUNDS times) and the page's size;
#   - how long headless Chromium takes to open that page, beside an empty one;
#   - `touchdown plot` of a one-hour full-rate trace (reference-descent:
#     IMU 400 Hz, truth and commands 50 Hz, altimeter 20 Hz).
#
# Usage: Benchmarks/report.sh [ROUNDS] [RUNS]   (defaults 3, 10000)
# With RESULTS=FILE, the campaign's results are kept in FILE, and read from
# it when it exists (the campaign takes some minutes).
# The machine is shared: compare figures of one run only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds="${1:-3}"
runs="${2:-10000}"
samples=$(( runs / 20 ))

scripts/system-deps
python="$(scripts/python-env)"
swift build -c release --product touchdown >&2
td="$PWD/.build/release/touchdown"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$@"; }

cat > "$work/c.yaml" <<YAML
name: report-bench
seed: 11
source: {traces: [$PWD/traces/nominal.mcap]}
guidance: {name: reference, settings: {profile: hardened}}
matrix:
  altimeter.latency: [none, 1s, 3s, 6s]
  imu.drop: [none, "10%,burst=10", "30%,burst=10", "45%,burst=25", "60%,burst=25"]
samples: $samples
dispersions:
  initial.altitude: normal(25 km, 200 m)
  vehicle.main_engine_thrust: uniform(390 N, 410 N)
  navigation_error.altitude: normal(0 m, 300 m)
expect: landed
assert: ["touchdown.vertical_speed_mps <= 2", "propellant_kg >= 10"]
limits: {run_timeout: 60 s}
YAML
results="${RESULTS:-$work/r.jsonl}"
if [[ ! -s "$results" ]]; then
    start=$(date +%s.%N)
    "$td" campaign "$work/c.yaml" --jobs 2 --results "$results" > "$work/campaign.txt" 2>&1 || true
    echo "campaign: $(wc -l < "$results") runs in $(seconds "$start" "$(date +%s.%N)") s: $(grep '^campaign' "$work/campaign.txt")"
fi
echo "results file: $(wc -l < "$results") runs, $(stat -c %s "$results") bytes"

for i in $(seq "$rounds"); do
    start=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$work/rss" "$td" report "$results" --out "$work/report.html" --campaign "$work/c.yaml" > /dev/null || true
    echo "report round $i: $(seconds "$start" "$(date +%s.%N)") s, peak memory $(( $(tail -1 "$work/rss") / 1024 )) MiB, $(stat -c %s "$work/report.html") bytes"
done
start=$(date +%s.%N)
"$td" report "$results" --out "$work/noplots.html" --plots 0 > /dev/null || true
echo "report without the three plots (no flights again): $(seconds "$start" "$(date +%s.%N)") s, $(stat -c %s "$work/noplots.html") bytes"

for i in $(seq "$rounds"); do
    "$python" scripts/render-check "$work/report.html" --png "$work/report.png" --baseline \
        --selector charts=svg.chart --selector rows=tr > "$work/render.json"
    "$python" -c "import json,sys; r=json.load(open(sys.argv[1])); print(f'chromium round $i: opened in {r[\"open_s\"]} s, an empty page {r[\"baseline_s\"]} s; console {len(r[\"console_errors\"])}, charts {r[\"counts\"][\"charts\"]}, rows {r[\"counts\"][\"rows\"]}')" "$work/render.json"
done

"$td" trace generate --profile reference-descent --duration-s 3600 --out "$work/hour.mcap" > /dev/null
echo "one-hour trace: $(stat -c %s "$work/hour.mcap") bytes"
for i in $(seq "$rounds"); do
    start=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$work/rss" "$td" plot "$work/hour.mcap" --out "$work/hour.html" > /dev/null
    echo "plot round $i: $(seconds "$start" "$(date +%s.%N)") s, peak memory $(( $(tail -1 "$work/rss") / 1024 )) MiB, $(stat -c %s "$work/hour.html") bytes"
done
