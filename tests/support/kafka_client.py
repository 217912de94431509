"""An independent Kafka client for the tests (kafka-python): produces numbered records
and consumes a topic, reporting what arrived.

    produce BOOTSTRAP TOPIC FIRST COUNT [single]
                                             records `id 00000042` with headers
                                             id=<n> and origin=kafka-python, key k<n%16>;
                                             `single`: one record per record batch
    consume BOOTSTRAP TOPIC EXPECT IDLE_SECS  reads the whole topic (its own group) until
                                             EXPECT distinct ids arrived, or nothing came
                                             for IDLE_SECS; prints a JSON report
    raw BOOTSTRAP TOPIC HEX_VALUE HEX_HEADER  produces one record with these bytes
                                             (a value `x*N` is N bytes `x`)
"""

import json
import sys
import time
import uuid

from kafka import KafkaConsumer, KafkaProducer


def produce(bootstrap, topic, first, count, batching):
    # `single`: one record per record batch. tansu 0.6 cannot fetch from an offset
    # inside a batch (kafka-python gets the next batch, skipping records; librdkafka
    # gets nothing), and a group resumed after a crash starts at any offset.
    single = batching == "single"
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all",
                             linger_ms=0 if single else 5,
                             batch_size=0 if single else 16384, retries=10,
                             max_in_flight_requests_per_connection=5 if single else 1)
    futures = []
    for i in range(first, first + count):
        futures.append(producer.send(
            topic,
            value=b"id %08d" % i,
            key=b"k%d" % (i % 16),
            headers=[("id", str(i).encode()), ("origin", b"kafka-python")],
        ))
        if len(futures) >= 5000:
            for f in futures:
                f.get(timeout=60)
            futures.clear()
    for f in futures:
        f.get(timeout=60)
    producer.flush()
    producer.close()


def consume(bootstrap, topic, expect, idle):
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap,
                             group_id="check-" + uuid.uuid4().hex,
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             consumer_timeout_ms=int(idle * 1000))
    seen = set()
    total = 0
    bad = []
    header_mismatch = 0
    for record in consumer:
        total += 1
        value = record.value or b""
        try:
            text = value.decode()
            n = int(text[3:]) if text.startswith("id ") and len(text) == 11 else None
        except (UnicodeDecodeError, ValueError):
            n = None
        if n is None:
            if len(bad) < 5:
                bad.append(repr(value[:40]))
            continue
        headers = {k: v for k, v in (record.headers or [])}
        if headers.get("id") != str(n).encode() or headers.get("origin") != b"kafka-python":
            header_mismatch += 1
        seen.add(n)
        if len(seen) >= expect:
            break
    consumer.close()
    print(json.dumps({"unique": len(seen), "total": total, "duplicates": total - len(seen) - len(bad),
                      "bad": bad, "header_mismatch": header_mismatch,
                      "min": min(seen) if seen else None, "max": max(seen) if seen else None}))


def raw(bootstrap, topic, value_hex, header_hex):
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all",
                             max_request_size=64 * 1024 * 1024)
    if value_hex.startswith("x*"):
        value = b"x" * int(value_hex[2:])
    else:
        value = bytes.fromhex(value_hex)
    producer.send(topic, value=value,
                  headers=[("raw", bytes.fromhex(header_hex))]).get(timeout=60)
    producer.close()


def main():
    command, bootstrap, topic = sys.argv[1:4]
    if command == "produce":
        produce(bootstrap, topic, int(sys.argv[4]), int(sys.argv[5]),
                sys.argv[6] if len(sys.argv) > 6 else "batched")
    elif command == "consume":
        consume(bootstrap, topic, int(sys.argv[4]), float(sys.argv[5]))
    elif command == "raw":
        raw(bootstrap, topic, sys.argv[4], sys.argv[5])
    else:
        sys.exit("unknown command " + command)


if __name__ == "__main__":
    time.sleep(0)
    main()
