#!/usr/bin/env bash
# File channel against the memory channel, in the same run: seq -> channel -> null with
# a 120-byte body, batch sizes 100 and 1000, and the file channel with
# fsync = "every_commit" and fsync = 100ms.
# Usage: bash bench/channel.sh   (from the workspace root; EVENTS=… to change the count)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-5000000}
work=$(mktemp -d -p "${BENCH_DIR:-$PWD/target}")
trap 'rm -rf "$work"' EXIT
cargo build -q --release -p sluice-compiler
sluice=target/release/sluice
export SLUICE_CACHE_DIR=$PWD/target/sluice-cache SLUICE_TARGET_DIR=$PWD/target/agents
body=$(printf '127.0.0.1 - - [24/Nov/2026:10:00:00 +0000] "GET /api/v1/items?page=2 HTTP/1.1" 200 5123 "-" "curl/8.5.0" 0.004%8s' '')

flow() { # name batch channel-block
    cat > "$work/$1.flow" <<FLOW
source numbers = seq {
    count = env("EVENTS")
    body = "${body//\"/\\\"}"
    batch_size = $2
}

channel buf = $3

sink discard = null {
    batch_size = $2
}

flow numbers -> buf -> discard
FLOW
    out=$($sluice build "$work/$1.flow" -o "$work/$1" 2>&1) || { echo "$out"; exit 1; }
}

printf '| channel | batch | events/s | MB/s | CPU s (user+sys) | peak RSS |\n|---|---|---|---|---|---|\n'
for batch in 100 1000; do
    flow mem_$batch $batch "memory { capacity = 100_000, transaction_capacity = $batch }"
    flow fc_$batch $batch "file { dir = env(\"WAL\"), transaction_capacity = $batch }"
    flow fi_$batch $batch "file { dir = env(\"WAL\"), transaction_capacity = $batch, fsync = 100ms }"
    for variant in "mem_$batch:memory" "fc_$batch:file, every_commit" "fi_$batch:file, fsync 100ms"; do
        name=${variant%%:*} label=${variant#*:}
        rm -rf "$work/wal"
        read -r e u s m < <(EVENTS=$EVENTS WAL="$work/wal" /usr/bin/time -f "%e %U %S %M" \
            "$work/$name" --log-level error 2>&1 >/dev/null | tail -1)
        rate=$(echo "$EVENTS / $e" | bc)
        mbs=$(echo "$EVENTS * ${#body} / $e / 1000000" | bc -l | cut -c1-6)
        echo "| $label | $batch | $rate | $mbs | $(echo "$u + $s" | bc) | ${m} KiB |"
    done
done
