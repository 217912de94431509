#!/usr/bin/env bash
# Benchmarks of the code generation issue: build times, binary size, and seq -> null /
# seq -> file_roll throughput, with coreutils `seq > file` as the same-run baseline.
# Usage: bash bench/core.sh   (run from the workspace root; takes a few minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-10000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build -q --release -p sluice-compiler
sluice=target/release/sluice

echo "## build times (quickstart)"
export SLUICE_CACHE_DIR="$work/cache"
start=$(date +%s.%N); $sluice build flows/quickstart.flow -o "$work/quickstart" 2>/dev/null; end=$(date +%s.%N)
echo "cold build: $(echo "$end - $start" | bc) s"
sed 's/count = 20/count = 21/' flows/quickstart.flow > "$work/quickstart.flow"
start=$(date +%s.%N); $sluice build "$work/quickstart.flow" -o "$work/quickstart2" 2>/dev/null; end=$(date +%s.%N)
echo "warm rebuild after editing the flow: $(echo "$end - $start" | bc) s"
echo "stripped binary: $(stat -c %s "$work/quickstart") bytes"

echo "## throughput ($EVENTS events)"
$sluice build bench/seq_null.flow -o "$work/seq_null" 2>/dev/null
$sluice build bench/seq_file.flow -o "$work/seq_file" 2>/dev/null
t() { /usr/bin/time -f "%e %U %S %M" "$@" 2>&1 >/dev/null | tail -1; }
read -r e u s m < <(EVENTS=$EVENTS t "$work/seq_null" --log-level error)
echo "seq -> null: ${e}s wall, $(echo "$EVENTS / $e" | bc) events/s, cpu ${u}+${s}s, peak RSS ${m} KiB"
mkdir -p "$work/out"
read -r e u s m < <(OUT_DIR="$work/out" EVENTS=$EVENTS t "$work/seq_file" --log-level error)
bytes=$(cat "$work"/out/* | wc -c)
echo "seq -> file_roll: ${e}s wall, $(echo "$bytes / $e / 1048576" | bc -l | cut -c1-6) MiB/s ($bytes bytes), cpu ${u}+${s}s, peak RSS ${m} KiB"
read -r e u s m < <(t sh -c "seq 0 $((EVENTS - 1)) > $work/baseline")
echo "baseline coreutils seq > file: ${e}s wall, $(echo "$bytes / $e / 1048576" | bc -l | cut -c1-6) MiB/s"
