"""Input for the `lake` sink tests, and an independent reading of what it wrote.

    lake_check.py generate FILE FIRST COUNT [--specials]
        Appends COUNT JSON lines (ids FIRST..) to FILE.
    lake_check.py check ROOT FORMAT [--s3 ENDPOINT BUCKET PREFIX] [--specials]
        Reads the lake at ROOT (a directory; with --s3, where the objects under
        s3://BUCKET/PREFIX are downloaded to first, with boto3) with DuckDB, and prints a
        JSON report: rows, unique ids, duplicates, rows per partition, column types,
        values that differ from what was sent, files, and leftovers readers could see.

The expected value of every column is a function of the event id, so the check needs
nothing but the ids it finds.
"""

import json
import os
import sys

BASE_MS = 1_709_164_800_000  # 2024-02-29T00:00:00Z
APPS = ["web", "api", "db"]
DAY_MS = 86_400_000


def event(i, specials):
    e = {
        "id": i,
        "app": APPS[i % 3],
        "ts": BASE_MS + (i // 3 % 3) * DAY_MS + i,
        "ms": i * 0.5,
        "ok": i % 2 == 0,
        "msg": f'event {i} "quoted", with a comma',
    }
    if specials:
        if i == 7:
            e["ms"] = "abc"  # does not convert: null, counted
        if i == 11:
            e["app"] = "../../etc"  # must stay inside the lake
        if i == 13:
            del e["ms"]  # missing: null, not counted
    return e


def expected(i, specials):
    e = event(i, specials)
    ms = e.get("ms")
    return {
        "service": e["app"],
        "ms": ms if isinstance(ms, float) else None,
        "ok": e["ok"],
        "at": e["ts"],
        "msg": e["msg"],
    }


def partition_of(i, specials):
    e = event(i, specials)
    day = ["2024-02-29", "2024-03-01", "2024-03-02"][(e["ts"] - BASE_MS) // DAY_MS]
    app = e["app"].replace("/", "_")
    if set(app) == {"."}:
        app = "_" * len(app)
    return f"dt={day}/app={app}"


def generate(path, first, count, specials):
    with open(path, "a") as f:
        for i in range(first, first + count):
            f.write(json.dumps(event(i, specials)) + "\n")


def download(endpoint, bucket, prefix, root):
    import boto3
    from botocore.config import Config

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )
    keys = []
    # Filtered here rather than with Prefix=: moto's signature check fails on a
    # listing whose prefix holds a `/`.
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            if obj["Key"].startswith(prefix + "/"):
                keys.append(obj["Key"])
    for key in keys:
        relative = key[len(prefix):].lstrip("/")
        target = os.path.join(root, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        s3.download_file(bucket, key, target)
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return keys, len(uploads)


def check(root, fmt, specials, s3=None, partition=None):
    import duckdb

    report = {}
    if s3:
        keys, uploads = download(*s3, root)
        report["keys"] = sorted(keys)
        report["incomplete_uploads"] = uploads
    ext = {
        "parquet": ".parquet",
        "ndjson": ".ndjson.zst",
        "ndjson-plain": ".ndjson",
        "csv": ".csv.gz",
    }[fmt]
    files, leftovers = [], []
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if x != "_sluice_staging"]
        for name in names:
            rel = os.path.relpath(os.path.join(d, name), root)
            if name.endswith(ext) and not name.startswith((".", "_")):
                files.append(rel)
            else:
                leftovers.append(rel)
    report["files"] = sorted(files)
    report["leftovers"] = sorted(leftovers)
    if not files:
        report.update(rows=0, unique=0, duplicates=0, partitions={}, types={}, bad=[])
        return report
    glob = os.path.join(root, "**", "*" + ext)
    reader = {
        "parquet": f"read_parquet('{glob}', hive_partitioning = true, filename = true)",
        "ndjson": f"read_json('{glob}', format = 'newline_delimited', hive_partitioning = true, filename = true)",
        "ndjson-plain": f"read_json('{glob}', format = 'newline_delimited', hive_partitioning = true, filename = true)",
        "csv": f"read_csv('{glob}', header = true, hive_partitioning = true, filename = true)",
    }[fmt]
    con = duckdb.connect()
    con.execute(f"create view lake as select * from {reader}")
    report["types"] = {name: ty for name, ty, *_ in con.execute("describe lake").fetchall()}
    # With a partition given, the layout is not Hive-style (no dt= and app= columns).
    hive = "null, null" if partition else "cast(dt as varchar), cast(app as varchar)"
    rows = con.execute(
        f'select id, service, ms, ok, epoch_ms(cast("at" as timestamptz)), msg, {hive} from lake'
    ).fetchall()
    report["rows"] = len(rows)
    ids = [r[0] for r in rows]
    report["unique"] = len(set(ids))
    report["duplicates"] = len(ids) - len(set(ids))
    partitions = {}
    bad = []
    for (i, service, ms, ok, at, msg, dt, app) in rows:
        part = partition or f"dt={dt}/app={app}"
        partitions[part] = partitions.get(part, 0) + 1
        got = {"service": service, "ms": ms, "ok": ok, "at": at, "msg": msg}
        want = expected(i, specials)
        if got != want or (not partition and part != partition_of(i, specials)):
            if len(bad) < 10:
                bad.append({"id": i, "got": got, "want": want, "partition": part})
            else:
                bad.append(i)
    report["partitions"] = partitions
    report["bad"] = bad
    return report


def main():
    args = sys.argv[1:]
    specials = "--specials" in args
    args = [a for a in args if a != "--specials"]
    if args[0] == "generate":
        generate(args[1], int(args[2]), int(args[3]), specials)
    elif args[0] == "check":
        s3, partition = None, None
        if "--partition" in args:
            k = args.index("--partition")
            partition = args[k + 1]
            del args[k : k + 2]
        if "--s3" in args:
            k = args.index("--s3")
            s3 = tuple(args[k + 1 : k + 4])
            args = args[:k]
        print(json.dumps(check(args[1], args[2], specials, s3, partition)))
    else:
        sys.exit(f"unknown command {args[0]}")


if __name__ == "__main__":
    main()
