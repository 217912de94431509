"""The aggregates of tests/e2e/aggregate.flow, computed independently of Sluice.

Reads the JSON lines the test fed the agent, in order, and prints one JSON object per
(window, host) with the exact values: a per-minute tumbling window by event time, with
30 s of allowed lateness judged against the latest event time seen before each event.
"""
import json
import sys
from datetime import datetime

WINDOW = 60_000
LATENESS = 30_000


def event_time(value):
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return None
    return None


def number(value):
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if x == x and abs(x) != float("inf") else None


def main(path):
    windows = {}
    latest = None
    late = invalid_times = 0
    for line in open(path):
        record = json.loads(line)
        t = event_time(record.get("ts"))
        if t is None:
            invalid_times += 1
            continue
        start = t // WINDOW * WINDOW
        if latest is not None and start + WINDOW + LATENESS <= latest:
            late += 1
            continue
        latest = t if latest is None else max(latest, t)
        w = windows.setdefault((start, record.get("host", "")), [])
        w.append((t, record))
    out = []
    for (start, host), events in sorted(windows.items()):
        def numbers(field, convert):
            values = [convert(e[1].get(field)) for e in events]
            return [v for v in values if v is not None]

        def as_int(v):
            try:
                return int(str(v))
            except ValueError:
                return None

        byte_values = numbers("bytes", as_int)
        ms = numbers("ms", number)
        ms_sorted = sorted(ms)
        first = min(events, key=lambda e: e[0])  # earliest time; the first such on a tie
        last = max(reversed(events), key=lambda e: e[0])  # latest; the last such on a tie
        paths = {}
        for e in events:
            paths[e[1]["path"]] = paths.get(e[1]["path"], 0) + 1
        out.append({
            "window_start": start,
            "window_end": start + WINDOW,
            "host": host,
            "requests": len(events),
            "bytes": sum(byte_values),
            "fastest": min(ms) if ms else None,
            "slowest": max(ms) if ms else None,
            "mean_ms": sum(ms) / len(ms) if ms else None,
            "p90_ms": ms_sorted[int(0.9 * (len(ms_sorted) - 1))] if ms else None,
            "users": len({e[1]["user"] for e in events}),
            "first_path": first[1]["path"],
            "last_path": last[1]["path"],
            "path_counts": paths,
        })
    print(json.dumps({"windows": out, "late": late, "invalid_times": invalid_times}))


main(sys.argv[1])
