#!/usr/bin/env bash
# Live capture rate on loopback, release build: `touchdown rig emulate` streams
# the whole nominal descent (about 58,000 CCSDS packets) to `touchdown record
# --udp` at rising speed-ups, and each round prints the rate sent, the packets
# captured and lost, and the receiver's CPU time. The highest rate with no loss
# is the figure; the machine is shared, so compare figures of one run only.
#
# Usage: Benchmarks/capture.sh [RATE_X...]   (default: 250 500 1000 2000 4000 0; 0 = as fast as possible)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/system-deps
swift build -c release --product touchdown >&2
td="$PWD/.build/release/touchdown"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rates=("$@")
[[ ${#rates[@]} -gt 0 ]] || rates=(250 500 1000 2000 4000 0)

for rate in "${rates[@]}"; do
    "$td" record --udp 127.0.0.1:0 --map fixtures/rig/ccsds.yaml --out "$work/cap.mcap" > "$work/record.out" 2> "$work/record.err" &
    recorder=$!
    until grep -q "listening on" "$work/record.err" 2>/dev/null; do sleep 0.05; done
    port="$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/record.err")"
    start=$(date +%s.%N)
    "$td" rig emulate --scenario fixtures/scenarios/nominal.yaml --udp "127.0.0.1:$port" --map fixtures/rig/ccsds.yaml --rate-x "$rate" > "$work/emulate.out"
    end=$(date +%s.%N)
    sleep 0.5
    kill -INT "$recorder"
    wait "$recorder"
    sent="$(sed -n 's/^sent \([0-9]*\) packets.*/\1/p' "$work/emulate.out")"
    captured="$(sed -n 's/^captured \([0-9]*\) packets.*/\1/p' "$work/record.out")"
    cpu="$(sed -n 's/.*receiver CPU \([0-9.]*\) s.*/\1/p' "$work/record.out")"
    python3 - "$rate" "$sent" "$captured" "$cpu" "$start" "$end" <<'PY'
import sys
rate, sent, captured, cpu, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
# The emulator flies the descent (about 0.2 s) before it sends; the rate is over the whole run, so it is a floor.
print(f"rate-x {rate:>5}: sent {sent} packets in {end - start:.2f} s (>= {sent / (end - start):,.0f} packets/s), "
      f"captured {captured}, lost {sent - captured}, receiver CPU {cpu:.2f} s")
PY
done
