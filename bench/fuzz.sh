#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer) of every parser of outside bytes:
#   syslog     one syslog message, RFC 5424 / 3164 / auto
#   framing    a TCP stream through the octet-counting framer and the line reader
#   http_body  an HTTP source request body (flume_json, ndjson, raw)
#   wal        a file channel segment as recovery reads it
#   flow       a .flow file through parse, check, IR and code generation
#   lake       a `lake` staging file after a crash, read back and encoded into every format
#   aggregate  header text as event times, group keys and function inputs of an aggregate
#   import     a Flume properties file through `sluice import`
#
#   bash bench/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, every target)
#
# Needs a nightly toolchain and cargo-fuzz (installed here if missing). Each target
# starts from the seeds in fuzz/seeds/TARGET (real `logger` output, RFC examples, the
# example flows, a real segment) and keeps its corpus in target/fuzz-corpus/TARGET. A
# crash leaves its input in fuzz/artifacts/TARGET/ and makes the script exit 1.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(syslog framing http_body wal flow hop lake aggregate import)

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo +nightly fuzz build -O >/dev/null 2>&1 || { echo "cargo fuzz build failed" >&2; exit 2; }

printf '%-10s %8s %12s %10s %8s %s\n' target seconds executions "execs/s" coverage result
failed=0
for t in "${targets[@]}"; do
    corpus="target/fuzz-corpus/$t"
    mkdir -p "$corpus"
    cp -n fuzz/seeds/"$t"/* "$corpus"/ 2>/dev/null || true
    log="target/fuzz-corpus/$t.log"
    cargo +nightly fuzz run -O "$t" "$corpus" -- \
        -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1
    status=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
    result="no crash"
    if [ $status -ne 0 ]; then
        result="CRASH (see $log and fuzz/artifacts/$t/)"
        failed=1
    fi
    printf '%-10s %8s %12s %10s %8s %s\n' "$t" "$seconds" "${runs:-?}" \
        "$(( ${runs:-0} / seconds ))" "${cov:-?}" "$result"
done
exit $failed
