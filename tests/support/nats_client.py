"""An independent NATS JetStream client for the tests (nats-py).

    stream URL NAME SUBJECT              creates a stream capturing SUBJECT
    publish URL SUBJECT FIRST COUNT      messages `id 00000042` with headers id=<n> and
                                         origin=nats-py, each acknowledged by the stream
    consume URL STREAM EXPECT IDLE_SECS  reads the whole stream until EXPECT distinct
                                         ids arrived, or nothing came for IDLE_SECS;
                                         prints a JSON report
"""

import asyncio
import json
import sys

import nats
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig


async def stream(url, name, subject):
    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=name, subjects=[subject]))
    await nc.close()


async def publish(url, subject, first, count):
    nc = await nats.connect(url)
    js = nc.jetstream()
    window = []
    for i in range(first, first + count):
        headers = {"id": str(i), "origin": "nats-py"}
        window.append(js.publish(subject, b"id %08d" % i, headers=headers, timeout=30))
        if len(window) >= 500:
            await asyncio.gather(*window)
            window.clear()
    await asyncio.gather(*window)
    await nc.close()


async def consume(url, name, expect, idle):
    nc = await nats.connect(url)
    js = nc.jetstream()
    sub = await js.pull_subscribe("", durable=None, stream=name,
                                  config=ConsumerConfig(ack_policy=AckPolicy.NONE))
    seen, total, bad, mismatch = set(), 0, [], 0
    while len(seen) < expect:
        try:
            msgs = await sub.fetch(1000, timeout=idle)
        except nats.errors.TimeoutError:
            break
        for m in msgs:
            total += 1
            text = m.data.decode(errors="replace")
            if not (text.startswith("id ") and len(text) == 11):
                if len(bad) < 5:
                    bad.append(text[:40])
                continue
            n = int(text[3:])
            h = m.headers or {}
            if h.get("id") != str(n) or h.get("origin") != "nats-py":
                mismatch += 1
            seen.add(n)
    await nc.close()
    print(json.dumps({"unique": len(seen), "total": total, "duplicates": total - len(seen) - len(bad),
                      "bad": bad, "header_mismatch": mismatch}))


def main():
    command, url = sys.argv[1:3]
    args = sys.argv[3:]
    if command == "stream":
        asyncio.run(stream(url, args[0], args[1]))
    elif command == "publish":
        asyncio.run(publish(url, args[0], int(args[1]), int(args[2])))
    elif command == "consume":
        asyncio.run(consume(url, args[0], int(args[1]), float(args[2])))
    else:
        sys.exit("unknown command " + command)


if __name__ == "__main__":
    main()
