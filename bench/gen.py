#!/usr/bin/env python3
"""Deterministic benchmark input: web access lines (combined log format) or syslog
lines (RFC 3164), written until the file reaches --size bytes. Same seed, same bytes."""
import argparse
import random


def access_lines(rng):
    ips = [f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(5000)]
    paths = ["/", "/index.html", "/api/v1/items", "/api/v1/items/{n}", "/api/v1/users/{n}/orders",
             "/static/app.{n}.js", "/static/style.css", "/login", "/search?q=item{n}&page={p}",
             "/healthz", "/metrics", "/img/product-{n}.jpg"]
    agents = ["Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
              "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Safari/537.36",
              "curl/8.5.0", "Prometheus/2.48.0", "python-requests/2.31.0",
              "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"]
    methods = ["GET"] * 8 + ["POST", "PUT", "DELETE"]
    statuses = [200] * 20 + [201, 204, 301, 302, 304, 400, 401, 403, 404, 404, 500, 502, 503]
    refs = ["-", "https://shop.example.com/", "https://www.google.com/", "https://shop.example.com/cart"]
    second = 0
    while True:
        second += rng.random() < 0.01
        h, m, s = (second // 3600) % 24, (second // 60) % 60, second % 60
        path = rng.choice(paths).format(n=rng.randrange(100000), p=rng.randrange(1, 20))
        yield (f'{rng.choice(ips)} - - [24/Nov/2026:{h:02}:{m:02}:{s:02} +0000] '
               f'"{rng.choice(methods)} {path} HTTP/1.1" {rng.choice(statuses)} {rng.randrange(100, 60000)} '
               f'"{rng.choice(refs)}" "{rng.choice(agents)}" {rng.random() / 10:.3f}\n')


def syslog_lines(rng):
    hosts = [f"web-{i:02}" for i in range(1, 21)] + [f"db-{i}" for i in range(1, 5)]
    messages = [
        ("sshd", "Accepted publickey for deploy from {ip} port {port} ssh2: ED25519 SHA256:{hex}"),
        ("sshd", "Connection closed by authenticating user root {ip} port {port} [preauth]"),
        ("CRON", "(root) CMD (/usr/local/bin/backup --incremental --target s3://backups/{n})"),
        ("kernel", "[UFW BLOCK] IN=eth0 OUT= SRC={ip} DST=10.0.0.5 LEN=60 PROTO=TCP SPT={port} DPT=22"),
        ("nginx", "upstream timed out (110: Connection timed out) while reading response header from upstream, client: {ip}"),
        ("systemd", "Started Session {n} of user deploy."),
        ("postgres", "LOG:  duration: {ms} ms  statement: SELECT * FROM orders WHERE customer_id = {n}"),
    ]
    months = ["Nov"]
    second = 0
    while True:
        second += rng.random() < 0.01
        h, m, s = (second // 3600) % 24, (second // 60) % 60, second % 60
        app, text = rng.choice(messages)
        ip = f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        body = text.format(ip=ip, port=rng.randrange(1024, 65535), hex=f"{rng.getrandbits(128):032x}",
                           n=rng.randrange(100000), ms=f"{rng.random() * 500:.3f}")
        pri = rng.choice([13, 14, 30, 34, 38, 86, 134])
        yield f"<{pri}>{months[0]} 24 {h:02}:{m:02}:{s:02} {rng.choice(hosts)} {app}[{rng.randrange(100, 32768)}]: {body}\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kind", choices=["access", "syslog"], required=True)
    parser.add_argument("--size", type=int, required=True, help="bytes to write (whole lines)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    lines = access_lines(rng) if args.kind == "access" else syslog_lines(rng)
    written = count = 0
    with open(args.out, "w", buffering=1 << 20) as out:
        chunk = []
        for line in lines:
            chunk.append(line)
            written += len(line)
            count += 1
            if len(chunk) == 10000:
                out.write("".join(chunk))
                chunk.clear()
            if written >= args.size:
                break
        out.write("".join(chunk))
    print(count)


if __name__ == "__main__":
    main()
