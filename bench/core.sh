#!/usr/bin/env bash
# Benchmarks of the code generation issue: build times, binary size, and seq -> null /
# seq -> file_roll throughput, with coreutils `seq > file` as the same-run baseline.
# Usage: bash bench/core.sh   (run from the workspace root; takes a few minutes)
#        SECTIONS=hop bash bench/core.sh   (only what the agent-to-agent hop costs to build)
#        SECTIONS=brokers bash bench/core.sh   (only what the kafka and nats sinks cost)
#        SECTIONS=lake bash bench/core.sh   (only what the lake sink costs: parquet, object_store)
#        SECTIONS=components bash bench/core.sh   (rebuilding after editing a user's component)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-10000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build -q --release -p sluice-compiler
sluice=target/release/sluice
SECTIONS=${SECTIONS:-all}

# What a sink's dependencies cost an agent's build: the same flow with a `tcp` sink
# (the baseline) and with the sink measured, each from an empty cache (cold) and again
# after editing the flow (warm). The hop links prost, lz4_flex and zstd's C library;
# `kafka` builds librdkafka from C; `nats` links async-nats; `lake` links parquet (no
# arrow) and object_store with its HTTP client.
sink_params() {
    case "$1" in
        tcp | sluice) echo 'addr = "127.0.0.1:9"' ;;
        kafka) echo 'brokers = ["127.0.0.1:9"], topic = "t"' ;;
        nats) echo 'url = "nats://127.0.0.1:9", subject = "s"' ;;
        lake) echo 'url = "/tmp/sluice-bench-lake"' ;;
    esac
}
build_cost() {
    echo "## build cost of the $* sink(s) (vs a tcp sink)"
    for kind in tcp "$@"; do
        printf 'source in = stdin\nchannel buf = memory { capacity = 10_000 }\nsink out = %s { %s }\nflow in -> buf -> out\n' "$kind" "$(sink_params "$kind")" > "$work/$kind.flow"
        export SLUICE_CACHE_DIR="$work/cache-$kind"
        start=$(date +%s.%N); $sluice build "$work/$kind.flow" -o "$work/$kind" 2>/dev/null; end=$(date +%s.%N)
        cold=$(echo "$end - $start" | bc)
        sed -i 's/10_000/10_001/' "$work/$kind.flow"
        start=$(date +%s.%N); $sluice build "$work/$kind.flow" -o "$work/$kind" 2>/dev/null; end=$(date +%s.%N)
        warm=$(echo "$end - $start" | bc)
        echo "$kind sink: cold build ${cold} s, warm rebuild ${warm} s, stripped binary $(stat -c %s "$work/$kind") bytes"
    done
}
# What a user's component costs to rebuild: a flow whose sink is a crate made by `sluice
# new component`, built cold, then rebuilt after editing the flow and after editing the
# component's source; beside the same flow with the built-in `logger` sink (the
# baseline), edited the same way.
component_cost() {
    echo "## rebuild after editing a user's component (vs a built-in sink)"
    export SLUICE_CACHE_DIR="$work/cache-components"
    $sluice new component --role sink --kind shout "$work/shout" >/dev/null
    for kind in logger shout; do
        use=""; [ "$kind" = shout ] && use='use "./shout"'
        printf '%s\nsource in = stdin\nchannel buf = memory { capacity = 10_000 }\nsink out = %s\nflow in -> buf -> out\n' "$use" "$kind" > "$work/$kind.flow"
        start=$(date +%s.%N); $sluice build "$work/$kind.flow" -o "$work/$kind-agent" 2>/dev/null; end=$(date +%s.%N)
        cold=$(echo "$end - $start" | bc)
        sed -i 's/10_000/10_001/' "$work/$kind.flow"
        start=$(date +%s.%N); $sluice build "$work/$kind.flow" -o "$work/$kind-agent" 2>/dev/null; end=$(date +%s.%N)
        flow_edit=$(echo "$end - $start" | bc)
        line="$kind sink: cold build ${cold} s, warm rebuild after editing the flow ${flow_edit} s"
        if [ "$kind" = shout ]; then
            sed -i 's/Text written before each body./Text written before each line./; s/self.out.write_all(b"\\n")?;/self.out.write_all(b"\\n")?; \/\/ edited/' "$work/shout/src/lib.rs"
            start=$(date +%s.%N); $sluice build "$work/$kind.flow" -o "$work/$kind-agent" 2>/dev/null; end=$(date +%s.%N)
            line="$line, after editing the component $(echo "$end - $start" | bc) s"
        fi
        echo "$line"
    done
}
if [ "$SECTIONS" = components ]; then
    component_cost
    exit 0
fi
if [ "$SECTIONS" = hop ]; then
    build_cost sluice
    exit 0
fi
if [ "$SECTIONS" = lake ]; then
    build_cost lake
    exit 0
fi
if [ "$SECTIONS" = brokers ]; then
    build_cost kafka nats
    exit 0
fi

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

build_cost sluice kafka nats lake
component_cost
