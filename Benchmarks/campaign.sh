#!/usr/bin/env bash
# Campaign throughput and memory, release build, side by side in one run:
#   closed-loop full descents of traces/nominal.mcap per minute through
#   `touchdown campaign --jobs 1` and `--jobs 2`, against the same runs as
#   separate `touchdown replay` processes (one, then two at a time); the
#   same for open-loop replays of every trace in traces/; and the peak
#   memory of one worker after RUNS_SMALL and after RUNS_LARGE runs of one
#   campaign of RUNS_LARGE runs.
#
# Usage: Benchmarks/campaign.sh [ROUNDS] [RUNS_LARGE]   (defaults 2, 2000)
# Each measurement is repeated ROUNDS times, alternating, and every figure
# printed; the machine is shared, so compare figures of one run only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds="${1:-2}"
large="${2:-2000}"
small=100

scripts/system-deps
swift build -c release --product touchdown >&2
td="$PWD/.build/release/touchdown"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
per_minute() { python3 -c "print(f'{$1 * 60 / ($3 - $2):.0f}')"; }

# 40 closed-loop runs: the nominal trace flown again under 40 altimeter latencies.
latencies="$(python3 -c "print(', '.join(f'{i * 0.025:.3f}s' for i in range(40)))")"
cat > "$work/closed.yaml" <<YAML
name: bench-closed
seed: 1
source: {traces: [$PWD/traces/nominal.mcap]}
guidance: {name: reference, settings: {profile: hardened}}
matrix:
  altimeter.latency: [$latencies]
expect: any
YAML
# Open loop: every trace, under 10 altimeter biases each.
noises="$(python3 -c "print(', '.join(f'+{i}m' for i in range(10)))")"
cat > "$work/open.yaml" <<YAML
name: bench-open
seed: 1
source: {traces: [$PWD/traces/*.mcap]}
mode: open-loop
matrix:
  altimeter.bias: [$noises]
expect: any
YAML

# The same runs as `touchdown replay` command lines, from --list --json.
replay_lines() {
    "$td" campaign "$1" --list --json | python3 -c '
import json, sys, shlex
for line in sys.stdin:
    r = json.loads(line)
    p = r["plan"]
    src = p["source"]["trace"]["path"]
    args = ["replay", src, "--mode", p["mode"], "--expect", "any", "--seed", str(p["seed"])]
    g = p["guidance"]
    if "named" in g:
        args += ["--guidance", g["named"]["name"]] + sum((["--set", s["name"] + "=" + s["value"]] for s in g["named"]["settings"]), [])
    for f in p["faults"]:
        args += ["--fault", f]
    print(" ".join(shlex.quote(a) for a in args))
'
}

measure() {   # NAME CAMPAIGN
    local name="$1" file="$2" n
    n="$("$td" campaign "$file" --list | wc -l)"
    replay_lines "$file" > "$work/$name.cmds"
    for round in $(seq "$rounds"); do
        for jobs in 1 2; do
            local t0 t1
            t0="$(now)"; "$td" campaign "$file" --jobs "$jobs" > /dev/null 2> "$work/err"; t1="$(now)"
            echo "$name campaign --jobs $jobs: $n runs in $(python3 -c "print(f'{$t1 - $t0:.2f}')") s = $(per_minute "$n" "$t0" "$t1") runs/min ($(grep workers: "$work/err"))"
            t0="$(now)"; xargs -P "$jobs" -I{} sh -c "$td {} > /dev/null" < "$work/$name.cmds"; t1="$(now)"
            echo "$name separate replay processes, $jobs at a time: $n runs in $(python3 -c "print(f'{$t1 - $t0:.2f}')") s = $(per_minute "$n" "$t0" "$t1") runs/min"
        done
    done
}

measure closed-loop "$work/closed.yaml"
measure open-loop "$work/open.yaml"

# Memory of one worker after RUNS_SMALL and after RUNS_LARGE open-loop runs of
# the smallest trace, in one campaign of RUNS_LARGE runs (the small figure is
# the shard of RUNS_SMALL of them): every process holds the same campaign, so
# the difference is what the runs themselves leave behind.
cat > "$work/memory.yaml" <<YAML
name: bench-memory
seed: 1
source: {traces: [$PWD/traces/m2-late-altimeter.mcap]}
mode: open-loop
matrix:
  altimeter.bias: [$(python3 -c "print(', '.join(f'+{i * 1e-3:.3f}m' for i in range($large)))")]
expect: any
YAML
"$td" campaign "$work/memory.yaml" --jobs 1 --shard "0/$((large / small))" > /dev/null 2> "$work/err" || true
echo "memory after $small of $large runs: $(grep workers: "$work/err")"
"$td" campaign "$work/memory.yaml" --jobs 1 > /dev/null 2> "$work/err" || true
echo "memory after $large of $large runs: $(grep workers: "$work/err")"
