#!/usr/bin/env bash
# Peak RSS and CPU of an http_to_file agent fed by curl, with a chosen number of
# parallel senders: the by-hand measurements of bench/RESULTS.md's http_to_file notes.
#
#   bash bench/http_rss.sh AGENT [SENDERS]
#
# AGENT is built from bench/flows/http_to_file.flow (bench/run.sh leaves one in
# target/bench/agents/http_to_file); its input is the NDJSON bodies bench.py wrote to
# target/bench/http/. Extra environment (e.g. MIMALLOC_SHOW_STATS=1) passes through.
set -euo pipefail
agent=$(realpath "$1")
senders=${2:-4}
root=$(cd "$(dirname "$0")/.." && pwd)
bodies=("$root"/target/bench/http/*.ndjson)
[ -e "${bodies[0]}" ] || { echo "no bodies in target/bench/http: run bench/run.sh --only http_to_file first" >&2; exit 2; }
work=$(mktemp -d /tmp/http_rss.XXXX)
trap 'rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
metrics=$((port + 1))
BIND=127.0.0.1:$port OUT_DIR=$work/out METRICS=127.0.0.1:$metrics \
    /usr/bin/time -f "%M KiB peak RSS, %U s user, %S s system, %e s" -o "$work/time" \
    "$agent" --log-level error 2>"$work/err" &
timer=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$metrics/metrics" && break; sleep 0.1; done
i=0
for body in "${bodies[@]}"; do
    [ $i -gt 0 ] && echo next
    printf 'url = "http://127.0.0.1:%s/"\ndata-binary = "@%s"\n' "$port" "$body"
    printf 'header = "Content-Type: application/x-ndjson"\noutput = "%s/resp/%s"\ncreate-dirs\nretry = 100\n' "$work" "$i"
    i=$((i + 1))
done >"$work/curl.conf"
expected=$(cat "${bodies[@]}" | wc -l)
curl -s --no-progress-meter --parallel --parallel-max "$senders" -K "$work/curl.conf" || echo "some requests failed" >&2
for _ in $(seq 600); do
    written=$(curl -s "http://127.0.0.1:$metrics/metrics" |
        awk '/^sluice_sink_drain_successes_total\{component="out"/ {print $2}' || true)
    [ "${written:-0}" -ge "$expected" ] && break
    sleep 0.1
done
[ "${written:-0}" -ge "$expected" ] || echo "unfinished: ${written:-0} of $expected events written" >&2
# The agent is /usr/bin/time's child.
pkill -INT -P "$timer" || kill "$timer"
wait "$timer" || true
cat "$work/time"
grep -v '^$' "$work/err" || true
