#!/usr/bin/env python3
"""Sluice benchmark suite: each scenario against its physical ceiling and against rsyslog
and syslog-ng, all in one run on one machine. Run it through `bench/run.sh`, which
installs the tools; this script writes bench/RESULTS.md.

Every run reports wall-clock throughput (MB/s, events/s), CPU-seconds (user+sys) per GiB
of input and peak RSS, measured with /usr/bin/time around each process. Throughput is
timed from the moment the input is offered until the last byte or event has arrived.
"""
import argparse
import datetime
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
GIB = 1 << 30


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, limit=30):
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port}")


def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def dir_size(path):
    return sum(file_size(p) for p in Path(path).glob("*") if p.is_file())


def metric(port, name):
    """A counter from a Sluice agent's Prometheus endpoint (0 until it is up)."""
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(name):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


class Timed:
    """A process run under /usr/bin/time, for its CPU time and peak RSS."""

    def __init__(self, cmd, env=None, cwd=None):
        self.stats = Path(f"/tmp/sluice-bench-time-{os.getpid()}-{id(self)}")
        self.proc = subprocess.Popen(
            ["/usr/bin/time", "-f", "%e %U %S %M", "-o", str(self.stats), *cmd],
            env={**os.environ, **(env or {})}, cwd=cwd,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def stop(self, sig=signal.SIGTERM):
        """Signals the measured process (the child of `time`) and returns
        (cpu_seconds, peak_rss_kib)."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            for pid in children.read_text().split():
                os.kill(int(pid), sig)
        except OSError:
            pass
        return self.wait()

    def wait(self, limit=120):
        self.proc.wait(timeout=limit)
        _, user, system, rss = self.stats.read_text().split()[-4:]
        self.stats.unlink()
        return float(user) + float(system), int(rss)


def until(done, limit, what):
    deadline = time.time() + limit
    while not done():
        if time.time() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Suite:
    def __init__(self, args):
        self.args = args
        self.work = Path(args.work)
        self.rows = []
        self.sluice = ROOT / "target/release/sluice"
        self.agents = {}
        self.rsyslogd = Path(args.rsyslog_root) / "usr/sbin/rsyslogd"
        self.rsyslog_modules = Path(args.rsyslog_root) / "usr/lib/x86_64-linux-gnu/rsyslog"
        self.peers_on = not args.skip_peers
        self.digests = {}

    # --- inputs -----------------------------------------------------------------------
    def prepare_inputs(self):
        self.work.mkdir(parents=True, exist_ok=True)
        size = self.args.size_mib << 20
        self.inputs = {}
        for kind in ("access", "syslog"):
            path = self.work / f"{kind}-{self.args.size_mib}MiB.log"
            count_file = path.with_suffix(".count")
            if not path.exists() or not count_file.exists():
                log(f"generating {path.name} ...")
                out = subprocess.run(
                    [sys.executable, BENCH / "gen.py", "--kind", kind, "--size", str(size), "--out", path],
                    check=True, capture_output=True, text=True)
                count_file.write_text(out.stdout.strip())
            self.inputs[kind] = (path, int(count_file.read_text()))
        # The TCP senders each send one part, split on line boundaries.
        path, _ = self.inputs["syslog"]
        self.parts = []
        senders = self.args.senders
        data_len = file_size(path)
        with open(path, "rb") as f:
            start = 0
            for i in range(senders):
                end = data_len if i == senders - 1 else (data_len * (i + 1)) // senders
                f.seek(end)
                end += len(f.readline()) if end < data_len else 0
                part = self.work / f"syslog.part{i}"
                f.seek(start)
                with open(part, "wb") as out:
                    remaining = end - start
                    while remaining:
                        chunk = f.read(min(remaining, 1 << 22))
                        out.write(chunk)
                        remaining -= len(chunk)
                self.parts.append(part)
                start = end
        # ndjson request bodies for the http scenario: ~1 MiB each.
        path, _ = self.inputs["access"]
        self.http_bodies = []
        bodies = self.work / "http"
        if bodies.exists():
            shutil.rmtree(bodies)
        bodies.mkdir()
        import json
        with open(path, encoding="utf-8") as f:
            n, buf, size = 0, [], 0
            for line in f:
                buf.append(json.dumps({"line": line.rstrip("\n")}) + "\n")
                size += len(buf[-1])
                if size >= 1 << 20:
                    p = bodies / f"{n:05}.ndjson"
                    p.write_text("".join(buf))
                    self.http_bodies.append(p)
                    n, buf, size = n + 1, [], 0
            if buf:
                p = bodies / f"{n:05}.ndjson"
                p.write_text("".join(buf))
                self.http_bodies.append(p)

    def fresh(self, name):
        """An empty directory for the next run. Earlier runs' output is deleted and the
        disk synced first, so no run pays for writing back another's dirty pages."""
        run = self.work / "run"
        if run.exists():
            shutil.rmtree(run)
        os.sync()
        d = run / name
        d.mkdir(parents=True)
        return d

    def agent(self, name):
        if name not in self.agents:
            out = self.work / "agents" / name
            out.parent.mkdir(parents=True, exist_ok=True)
            log(f"building bench/flows/{name}.flow ...")
            subprocess.run([self.sluice, "build", BENCH / "flows" / f"{name}.flow", "-o", out],
                           check=True, capture_output=True,
                           env={**os.environ, "SLUICE_CACHE_DIR": str(ROOT / "target/sluice-cache"),
                                "SLUICE_TARGET_DIR": str(ROOT / "target/agents")})
            self.agents[name] = out
        return self.agents[name]

    def record(self, scenario, system, input_bytes, events, seconds, cpu, rss, note="", check="–"):
        row = dict(scenario=scenario, system=system, bytes=input_bytes, events=events,
                   seconds=seconds, cpu=cpu, rss=rss, note=note, check=check)
        self.rows.append(row)
        log(f"  {system:28} {input_bytes / seconds / 1e6:9.1f} MB/s {events / seconds:12.0f} ev/s "
            f"cpu {cpu:6.2f}s rss {rss / 1024:7.1f} MiB  output {check}")

    def verify(self, kind, outputs):
        """Compares the output files' lines with the input's (as multisets): `ok`, or
        what differs: lost, duplicated or altered lines. Not timed."""
        if kind not in self.digests:
            self.digests[kind] = line_digest([self.inputs[kind][0]])
        want_n, want_sum = self.digests[kind]
        files = [p for p in outputs if p.is_file()]
        n, total = line_digest(files)
        if (n, total) == (want_n, want_sum):
            return "ok"
        distinct = set()
        for p in files:
            with open(p, "rb") as f:
                distinct.update(hash(line) for line in f)
        return f"**MISMATCH**: {n} lines for {want_n} input lines, {n - len(distinct)} duplicates"

    # --- runners ----------------------------------------------------------------------
    def run_file_pipeline(self, scenario, system, cmd, out_done, env=None, cwd=None, note="",
                          outputs=None):
        """A process that reads the input file and writes output; done when out_done().
        `outputs()` lists the files whose lines must be the input's lines."""
        path, events = self.inputs["access"]
        start = time.time()
        proc = Timed(cmd, env=env, cwd=cwd)
        until(out_done, self.args.timeout, f"{scenario}/{system}")
        seconds = time.time() - start
        cpu, rss = proc.stop()
        check = self.verify("access", outputs()) if outputs else "count"
        self.record(scenario, system, file_size(path), events, seconds, cpu, rss, note, check)

    def cat_baseline(self, scenario):
        path, events = self.inputs["access"]
        out = self.fresh(f"{scenario}-cat") / "out"
        start = time.time()
        p = Timed(["sh", "-c", f"cat '{path}' > '{out}'"])
        cpu, rss = p.wait()
        self.record(scenario, "ceiling: cat", file_size(path), events, time.time() - start, cpu, rss,
                    check=self.verify("access", [out]))

    def rsyslog_conf(self, d, inputs, template="raw"):
        conf = d / "rsyslog.conf"
        conf.write_text(f'''global(workDirectory="{d}" maxMessageSize="64k")
template(name="raw" type="string" string="%rawmsg%\\n")
{inputs}
ruleset(name="r") {{ action(type="omfile" file="{d}/out.log" template="{template}") }}
''')
        return [str(self.rsyslogd), "-n", "-f", str(conf), "-i", str(d / "pid"), "-M", str(self.rsyslog_modules)]

    def syslog_ng_conf(self, d, source):
        conf = d / "syslog-ng.conf"
        conf.write_text(f'''@version: 3.38
options {{ log-msg-size(65536); stats-freq(0); }};
source s {{ {source} }};
destination d {{ file("{d}/out.log" template("${{MESSAGE}}\\n")); }};
log {{ source(s); destination(d); }};
''')
        return ["syslog-ng", "-F", "--no-caps", "-f", str(conf), "-R", str(d / "persist"),
                "-p", str(d / "pid"), "-c", str(d / "ctl")]

    def file_peers(self, scenario):
        if not self.peers_on:
            return
        path, _ = self.inputs["access"]
        want = file_size(path)
        d = self.fresh(f"{scenario}-rsyslog")
        cmd = self.rsyslog_conf(d, f'module(load="imfile")\ninput(type="imfile" File="{path}" Tag="b" ruleset="r")')
        self.run_file_pipeline(scenario, "rsyslog (imfile→omfile)", cmd,
                               lambda: file_size(d / "out.log") >= want,
                               outputs=lambda: [d / "out.log"])
        d2 = self.fresh(f"{scenario}-syslog-ng")
        cmd = self.syslog_ng_conf(d2, f'file("{path}" flags(no-parse) follow-freq(1) log-iw-size(10000) log-fetch-limit(1000));')
        self.run_file_pipeline(scenario, "syslog-ng (file→file)", cmd,
                               lambda: file_size(d2 / "out.log") >= want,
                               outputs=lambda: [d2 / "out.log"])

    def sluice_systems(self, flow):
        """This build's agent for `flow` and, with --baseline-agents, an earlier build of
        the same flow, measured in the same run (before/after): (row label, path)."""
        systems = [("sluice", self.agent(flow))]
        if self.args.baseline_agents and (Path(self.args.baseline_agents) / flow).exists():
            systems.append((f"sluice, {self.args.baseline_label}", Path(self.args.baseline_agents) / flow))
        return systems

    def sluice_file(self, scenario, flow, done_bytes=None, done_events=None, extra=None):
        for system, agent in self.sluice_systems(flow):
            path, _ = self.inputs["access"]
            d = self.fresh(f"{scenario}-sluice")
            port = free_port()
            env = {"INPUT": str(path), "POSITIONS": str(d / "positions.json"), "OUT_DIR": str(d / "out"),
                   "METRICS": f"127.0.0.1:{port}", "WAL": str(d / "wal"), **(extra or {})}
            if done_bytes is not None:
                done = lambda d=d: dir_size(d / "out") >= done_bytes
            else:
                done = lambda port=port: metric(
                    port, 'sluice_sink_drain_successes_total{component="out"') >= done_events
            outputs = (lambda d=d: files_in(d / "out")) if done_bytes is not None else None
            self.run_file_pipeline(scenario, system, [str(agent), "--log-level", "error"], done, env=env,
                                   outputs=outputs)

    def scenario_file_to_file(self):
        log("file_to_file")
        path, _ = self.inputs["access"]
        self.cat_baseline("file_to_file")
        self.sluice_file("file_to_file", "file_to_file", done_bytes=file_size(path))
        self.file_peers("file_to_file")

    def scenario_durable(self):
        log("durable")
        path, _ = self.inputs["access"]
        self.cat_baseline("durable")
        self.dd_ceiling()
        self.sluice_file("durable", "durable", done_bytes=file_size(path))
        if not self.peers_on:
            return
        # Peers with their own durable queues: rsyslog's disk queue on the action,
        # syslog-ng's reliable disk buffer needs a network destination, so it is left out.
        d = self.fresh("durable-rsyslog")
        want = file_size(path)
        conf = d / "rsyslog.conf"
        conf.write_text(f'''global(workDirectory="{d}" maxMessageSize="64k")
template(name="raw" type="string" string="%rawmsg%\\n")
module(load="imfile")
input(type="imfile" File="{path}" Tag="b" ruleset="r")
ruleset(name="r") {{ action(type="omfile" file="{d}/out.log" template="raw"
    queue.type="Disk" queue.filename="q" queue.syncqueuefiles="off" queue.maxdiskspace="8g") }}
''')
        cmd = [str(self.rsyslogd), "-n", "-f", str(conf), "-i", str(d / "pid"), "-M", str(self.rsyslog_modules)]
        self.run_file_pipeline("durable", "rsyslog (disk queue)", cmd,
                               lambda: file_size(d / "out.log") >= want,
                               outputs=lambda: [d / "out.log"],
                               note="queue files not synced: with queue.syncqueuefiles=on it "
                                    "moved about 1 MB/s in a trial, too slow to include")

    def scenario_regex_parse(self):
        log("regex_parse")
        path, _ = self.inputs["access"]
        expected = sum(1 for line in open(path, encoding="utf-8")
                       if re.match(r'^\S+ \S+ \S+ \[[^\]]+\] "\S+ \S+ [^"]*" ([45]\d\d) ', line))
        self.cat_baseline("regex_parse")
        self.regex_ceiling()
        self.sluice_file("regex_parse", "regex_parse", done_events=expected)
        if not self.peers_on:
            return
        # The peers parse with a regex each and keep the same lines.
        d = self.fresh("regex_parse-rsyslog")
        conf = d / "rsyslog.conf"
        # The flow's five-group regex in POSIX ERE (rsyslog's dialect: no \S, \d); rsyslog
        # extracts one group per re_extract call, so it runs the regex once per group.
        ere = '^([^ ]+) [^ ]+ [^ ]+ \\\\[[^]]+\\\\] "([^ ]+) ([^ ]+) [^"]*" ([0-9]{3}) ([0-9]+)'
        fields = ["client", "method", "path", "status", "bytes"]
        sets = "\n".join(f"    set $!{name} = re_extract($rawmsg, '{ere}', 0, {i + 1}, \"\");"
                         for i, name in enumerate(fields))
        props = "\n".join(
            f'    constant(value="{"{" if i == 0 else ","}\\"{name}\\":\\"") '
            f'property(name="$!{name}" format="json") constant(value="\\"")'
            for i, name in enumerate(fields))
        conf.write_text(f"""global(workDirectory="{d}" maxMessageSize="64k")
template(name="json" type="list") {{
{props}
    constant(value=",\\"line\\":\\"") property(name="rawmsg" format="json")
    constant(value="\\"}}\\n")
}}
module(load="imfile")
input(type="imfile" File="{path}" Tag="b" ruleset="r")
ruleset(name="r") {{
{sets}
    if $!status >= "400" then {{
        action(type="omfile" file="{d}/out.log" template="json")
    }}
}}
""")
        cmd = [str(self.rsyslogd), "-n", "-f", str(conf), "-i", str(d / "pid"), "-M", str(self.rsyslog_modules)]
        lines_done = lambda p: (lambda c=LineCounter(p): c.count() >= expected)
        self.run_file_pipeline("regex_parse", "rsyslog (re_extract)", cmd, lines_done(d / "out.log"),
                               note="the same five-group regex, one re_extract call per group")
        d2 = self.fresh("regex_parse-syslog-ng")
        conf = d2 / "syslog-ng.conf"
        conf.write_text(f'''@version: 3.38
options {{ log-msg-size(65536); stats-freq(0); }};
source s {{ file("{path}" flags(no-parse) follow-freq(1) log-iw-size(10000) log-fetch-limit(1000)); }};
parser p {{ regexp-parser(patterns('^(?<client>\\S+) \\S+ \\S+ \\[[^\\]]+\\] "(?<method>\\S+) (?<path>\\S+) [^"]*" (?<status>\\d{{3}}) (?<bytes>\\d+)') prefix(".a.")); }};
filter f {{ "${{.a.status}}" ge "400" }};
destination d {{ file("{d2}/out.log" template("$(format-json --scope nv-pairs --key .a.* line=$MESSAGE)\\n")); }};
log {{ source(s); parser(p); filter(f); destination(d); }};
''')
        cmd = ["syslog-ng", "-F", "--no-caps", "-f", str(conf), "-R", str(d2 / "persist"),
               "-p", str(d2 / "pid"), "-c", str(d2 / "ctl")]
        self.run_file_pipeline("regex_parse", "syslog-ng (regexp-parser)", cmd, lines_done(d2 / "out.log"))

    def regex_ceiling(self):
        """ripgrep running the flow's five-group regex over every line and writing the
        groups of each match: what a dedicated regex engine does with the same work."""
        path, events = self.inputs["access"]
        out = self.fresh("regex_parse-rg") / "out"
        regex = r'^(\S+) \S+ \S+ \[[^\]]+\] "(\S+) (\S+) [^"]*" (\d{3}) (\d+)'
        start = time.time()
        p = Timed(["sh", "-c", f"rg --no-config -N -o -r '$1 $2 $3 $4 $5' '{regex}' '{path}' > '{out}'"])
        cpu, rss = p.wait()
        self.record("regex_parse", "ceiling: ripgrep", file_size(path), events, time.time() - start,
                    cpu, rss, note="same regex, every line, the five groups written",
                    check=f"{count_lines(out)} matches")
        # The match alone, without the groups: what the regex engine's fast path costs.
        start = time.time()
        p = Timed(["sh", "-c", f"rg --no-config -c '{regex}' '{path}' > '{out}'"])
        cpu, rss = p.wait()
        self.record("regex_parse", "ripgrep, match only (-c)", file_size(path), events,
                    time.time() - start, cpu, rss, note="same regex, no groups extracted",
                    check=f"{out.read_text().strip()} matches")

    def dd_ceiling(self):
        """The disk's own rate for the same bytes: written and flushed to disk once."""
        path, events = self.inputs["access"]
        out = self.fresh("durable-dd") / "out"
        start = time.time()
        p = Timed(["dd", f"if={path}", f"of={out}", "bs=1M", "conv=fdatasync", "status=none"])
        cpu, rss = p.wait()
        self.record("durable", "ceiling: dd conv=fdatasync", file_size(path), events,
                    time.time() - start, cpu, rss, note="sequential write of the input, one fdatasync",
                    check=self.verify("access", [out]))

    def scenario_aggregate(self):
        """Parse -> per-minute aggregate (10 and 100,000 groups) beside the same parse
        writing every event, and cat: what the analysis costs on top of parsing."""
        log("aggregate")
        path, lines = self.inputs["access"]
        self.cat_baseline("aggregate")
        for flow, system in (("aggregate_none", "sluice: parse, no aggregate"),
                             ("aggregate_10", "sluice: aggregate, 10 groups"),
                             ("aggregate_100k", "sluice: aggregate, 100,000 groups")):
            d = self.fresh(f"{flow}-sluice")
            port = free_port()
            env = {"INPUT": str(path), "POSITIONS": str(d / "positions.json"),
                   "OUT_DIR": str(d / "out"), "METRICS": f"127.0.0.1:{port}"}
            if flow == "aggregate_none":
                done = lambda: metric(port, 'sluice_sink_drain_successes_total{component="out"') >= lines
            else:
                # Every line absorbed into the aggregate (its windows close later).
                done = lambda: metric(port, 'sluice_source_events_accepted_total{component="logs"') >= lines
            self.run_file_pipeline("aggregate", system, [str(self.agent(flow)), "--log-level", "error"],
                                   done, env=env)

    def tcp_send(self, port):
        """Starts one socat sender per part; returns the processes."""
        return [subprocess.Popen(["socat", "-u", f"FILE:{part}", f"TCP:127.0.0.1:{port}"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for part in self.parts]

    def run_tcp(self, scenario, system, cmd, port, done, env=None, note="", outputs=None):
        path, events = self.inputs["syslog"]
        proc = Timed(cmd, env=env)
        wait_port(port)
        start = time.time()
        senders = self.tcp_send(port)
        until(done, self.args.timeout, f"{scenario}/{system}")
        seconds = time.time() - start
        for s in senders:
            s.wait()
        cpu, rss = proc.stop()
        check = self.verify("syslog", outputs()) if outputs else "count"
        self.record(scenario, system, file_size(path), events, seconds, cpu, rss, note, check)

    @staticmethod
    def receiver(d, count_only=False):
        """A TCP receiver that keeps each connection's bytes whole, in a file of its own
        under `d` (`count_only`: only their number, written when the connection ends).
        Returns (port, command)."""
        d.mkdir(parents=True, exist_ok=True)
        port = free_port()
        target = f"wc -c > {d}/count.$$" if count_only else f"cat > {d}/conn.$$"
        return port, ["socat", "-u", "-b", "262144",
                      f"TCP-LISTEN:{port},reuseaddr,fork,bind=127.0.0.1", f"SYSTEM:{target}"]

    @staticmethod
    def counted(d):
        """The bytes the connections of a `count_only` receiver delivered, once they ended."""
        total = 0
        for p in Path(d).glob("count.*"):
            try:
                total += int(p.read_text().strip() or 0)
            except (OSError, ValueError):
                pass
        return total

    def socat_ceiling(self, scenario, relay):
        """socat, timed until the last byte reached the far end: straight into a receiver
        that counts bytes, or (`relay`) through a socat relay into one writing files."""
        path, events = self.inputs["syslog"]
        want = file_size(path)
        d = self.fresh(scenario + "-socat")
        recv = d / "recv"
        port, sink_cmd = self.receiver(recv, count_only=not relay)
        procs = [Timed(sink_cmd)]
        target = port
        if relay:
            relay_port = free_port()
            procs.append(Timed(["socat", f"TCP-LISTEN:{relay_port},reuseaddr,fork,bind=127.0.0.1",
                                f"TCP:127.0.0.1:{port}"]))
            target = relay_port
            wait_port(port)
        wait_port(target)
        start = time.time()
        senders = self.tcp_send(target)
        if relay:
            done = lambda: dir_size(recv) >= want
        else:
            done = lambda: self.counted(recv) >= want
        until(done, self.args.timeout, f"{scenario}/socat")
        seconds = time.time() - start
        for s in senders:
            s.wait()
        cpu = rss = 0
        for p in procs:
            c, r = p.stop()
            cpu, rss = cpu + c, max(rss, r)
        label = "ceiling: socat relay" if relay else "ceiling: socat"
        check = self.verify("syslog", files_in(recv)) if relay else f"{self.counted(recv)} bytes"
        self.record(scenario, label, want, events, seconds, cpu, rss,
                    note="relay, then a receiver writing one file per connection" if relay
                    else "socket copy to a byte counter", check=check)

    def tcp_peers(self, scenario):
        if not self.peers_on:
            return
        path, _ = self.inputs["syslog"]
        want = file_size(path)
        d = self.fresh(f"{scenario}-rsyslog")
        port = free_port()
        cmd = self.rsyslog_conf(d, f'module(load="imptcp")\ninput(type="imptcp" port="{port}" address="127.0.0.1" ruleset="r")')
        job = "writes a file" if scenario != "tcp_to_null" else \
            "different job: writes a file (Sluice and the ceiling discard)"
        self.run_tcp(scenario, "rsyslog (imptcp→omfile)", cmd, port,
                     lambda: file_size(d / "out.log") >= want, note=job,
                     outputs=lambda: [d / "out.log"])
        d2 = self.fresh(f"{scenario}-syslog-ng")
        port = free_port()
        cmd = self.syslog_ng_conf(d2, f'network(ip(127.0.0.1) port({port}) transport(tcp) flags(no-parse) '
                                      f'max-connections(64) log-iw-size(100000) log-fetch-limit(1000));')
        self.run_tcp(scenario, "syslog-ng (network→file)", cmd, port,
                     lambda: file_size(d2 / "out.log") >= want, note=job,
                     outputs=lambda: [d2 / "out.log"])

    def scenario_tcp_to_null(self):
        log("tcp_to_null")
        _, events = self.inputs["syslog"]
        self.socat_ceiling("tcp_to_null", relay=False)
        for system, agent in self.sluice_systems("tcp_to_null"):
            port, mport = free_port(), free_port()
            env = {"BIND": f"127.0.0.1:{port}", "METRICS": f"127.0.0.1:{mport}"}
            self.run_tcp("tcp_to_null", system, [str(agent), "--log-level", "error"], port,
                         lambda mport=mport: metric(
                             mport, 'sluice_sink_drain_successes_total{component="discard"') >= events,
                         env=env)
        self.tcp_peers("tcp_to_null")

    def scenario_tcp_to_tcp(self):
        log("tcp_to_tcp")
        path, _ = self.inputs["syslog"]
        want = file_size(path)
        self.socat_ceiling("tcp_to_tcp", relay=True)
        for system, agent in self.sluice_systems("tcp_to_tcp"):
            d = self.fresh("tcp_to_tcp-sluice")
            down, receiver_cmd = self.receiver(d / "recv")
            receiver = subprocess.Popen(receiver_cmd, stderr=subprocess.DEVNULL)
            wait_port(down)
            port = free_port()
            env = {"BIND": f"127.0.0.1:{port}", "DOWNSTREAM": f"127.0.0.1:{down}",
                   "METRICS": f"127.0.0.1:{free_port()}"}
            self.run_tcp("tcp_to_tcp", system, [str(agent), "--log-level", "error"], port,
                         lambda d=d: dir_size(d / "recv") >= want, env=env,
                         note="downstream: a receiver writing one file per connection",
                         outputs=lambda d=d: files_in(d / "recv"))
            receiver.kill()
            receiver.wait()
        self.tcp_peers("tcp_to_tcp")

    def scenario_agent_to_agent(self):
        """Edge agent (netcat -> sluice sink) -> collector agent (sluice source -> file),
        for each wire compression, against a socat relay writing a file. CPU is reported
        per side, in seconds per GiB of input."""
        log("agent_to_agent")
        path, events = self.inputs["syslog"]
        want = file_size(path)
        gib = want / (1 << 30)
        self.socat_ceiling("agent_to_agent", relay=True)
        for compression in ("none", "lz4", "zstd"):
            d = self.fresh(f"agent_to_agent-{compression}")
            cport, cmetrics = free_port(), free_port()
            collector = Timed([str(self.agent("agent_to_agent_collector")), "--log-level", "error"],
                              env={"BIND": f"127.0.0.1:{cport}", "METRICS": f"127.0.0.1:{cmetrics}",
                                   "OUT_DIR": str(d / "out")})
            wait_port(cport)
            eport = free_port()
            edge = Timed([str(self.agent("agent_to_agent_edge")), "--log-level", "error"],
                         env={"BIND": f"127.0.0.1:{eport}", "COLLECTOR": f"127.0.0.1:{cport}",
                              "METRICS": f"127.0.0.1:{free_port()}", "COMPRESSION": compression})
            wait_port(eport)
            start = time.time()
            senders = self.tcp_send(eport)
            until(lambda: metric(cmetrics, 'sluice_sink_drain_successes_total{component="out"') >= events,
                  self.args.timeout, f"agent_to_agent/{compression}")
            seconds = time.time() - start
            for s in senders:
                s.wait()
            edge_cpu, edge_rss = edge.stop()
            collector_cpu, collector_rss = collector.stop()
            self.record("agent_to_agent", f"sluice → sluice ({compression})", want, events, seconds,
                        edge_cpu + collector_cpu, max(edge_rss, collector_rss),
                        check=self.verify("syslog", files_in(d / "out")),
                        note=f"CPU s/GiB: edge {edge_cpu / gib:.1f}, collector {collector_cpu / gib:.1f}; "
                             f"peak RSS KiB: edge {edge_rss}, collector {collector_rss}")

    def scenario_http_to_file(self):
        log("http_to_file")
        path, events = self.inputs["access"]
        body_bytes = sum(file_size(b) for b in self.http_bodies)
        for system, agent in self.sluice_systems("http_to_file"):
            d = self.fresh("http_to_file-sluice")
            port, mport = free_port(), free_port()
            env = {"BIND": f"127.0.0.1:{port}", "OUT_DIR": str(d / "out"), "METRICS": f"127.0.0.1:{mport}"}
            proc = Timed([str(agent), "--log-level", "error"], env=env)
            wait_port(port)
            config = d / "curl.conf"
            with open(config, "w") as f:
                for i, body in enumerate(self.http_bodies):
                    if i:
                        f.write("next\n")
                    # A full channel answers 503 with Retry-After, which curl's `retry` honours
                    # (retrying needs a real file to rewrite, not /dev/null).
                    f.write(f'url = "http://127.0.0.1:{port}/"\ndata-binary = "@{body}"\n'
                            f'header = "Content-Type: application/x-ndjson"\noutput = "{d}/responses/{i}"\n'
                            'create-dirs\nretry = 100\n')
            start = time.time()
            subprocess.run(["curl", "-s", "--parallel", "--parallel-max", str(self.args.senders), "-K", str(config)],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            until(lambda mport=mport: metric(mport, 'sluice_sink_drain_successes_total{component="out"') >= events,
                  self.args.timeout, "http_to_file")
            seconds = time.time() - start
            cpu, rss = proc.stop()
            self.record("http_to_file", system, body_bytes, events, seconds, cpu, rss,
                        note=f"curl --parallel, {len(self.http_bodies)} ndjson bodies of ~1 MiB")
        start = time.time()
        c = Timed(["sh", "-c", f"cat {d.parent.parent}/http/*.ndjson > {d}/cat.out"])
        cpu, rss = c.wait()
        self.record("http_to_file", "ceiling: cat", body_bytes, events, time.time() - start, cpu, rss,
                    note="no peer: neither rsyslog nor syslog-ng in Debian has an HTTP input")

    # --- Kafka (tansu broker, kafka-python as the independent client) ----------------
    def kafka_broker(self, name):
        """A tansu broker with records in memory, and the topics of the scenarios."""
        d = self.fresh(name)
        port = free_port()
        url = f"tcp://127.0.0.1:{port}"
        broker = subprocess.Popen(["tansu", "broker", "--listener-url", url, "--advertised-listener-url", url,
                                   "--storage-engine", "memory://tansu/"], cwd=d,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port)
        for topic in ("bench-in", "bench-out"):
            subprocess.run(["tansu", "topic", "create", topic, "--broker", url, "--partitions", "3"],
                           check=True, stdout=subprocess.DEVNULL)
        return broker, f"127.0.0.1:{port}", d

    @staticmethod
    def cpu_of(pid):
        """User + system CPU seconds a process has used so far."""
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kafka_lines(self):
        """The first --kafka-events lines of the access log, as a file of their own."""
        path, _ = self.inputs["access"]
        out = self.work / f"access-{self.args.kafka_events}.log"
        if not out.exists():
            with open(path, "rb") as src, open(out, "wb") as dst:
                for _, line in zip(range(self.args.kafka_events), src):
                    dst.write(line)
        return out

    def kafka_python(self, script, *args):
        """Runs a kafka-python snippet under /usr/bin/time; returns (seconds, cpu, rss)."""
        start = time.time()
        p = Timed([sys.executable, "-c", script, *args])
        cpu, rss = p.wait(limit=self.args.timeout)
        return time.time() - start, cpu, rss

    PRODUCE = """
import sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], acks="all", linger_ms=5, batch_size=262144,
                  compression_type="lz4")
with open(sys.argv[3], "rb") as f:
    for line in f:
        p.send(sys.argv[2], line.rstrip(b"\\n"))
p.flush()
"""
    CONSUME = """
import sys
from kafka import KafkaConsumer
c = KafkaConsumer(sys.argv[2], bootstrap_servers=sys.argv[1], group_id="baseline",
                  auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=10000,
                  max_partition_fetch_bytes=8388608)
n, want = 0, int(sys.argv[3])
for _ in c:
    n += 1
    if n >= want:
        break
assert n >= want, n
"""

    def scenario_kafka_to_kafka(self):
        """kafka source -> kafka sink through one broker. The same-run baseline is
        kafka-python, an independent client, only reading the same records. The agent's
        CPU and the broker's are reported apart."""
        log("kafka_to_kafka")
        lines = self.kafka_lines()
        events, size = self.args.kafka_events, file_size(lines)
        # Each agent reads from the start as group "bench": a fresh broker apiece.
        for i, (system, agent_path) in enumerate(self.sluice_systems("kafka_to_kafka")):
            broker, brokers, d = self.kafka_broker("kafka_to_kafka")
            try:
                self.kafka_python(self.PRODUCE, brokers, "bench-in", str(lines))
                if i == 0:
                    seconds, cpu, rss = self.kafka_python(self.CONSUME, brokers, "bench-in", str(events))
                    self.record("kafka_to_kafka", "baseline: kafka-python consumer", size, events, seconds,
                                cpu, rss, note="reads the input topic only")
                mport = free_port()
                broker_cpu = self.cpu_of(broker.pid)
                start = time.time()
                agent = Timed([str(agent_path), "--log-level", "error"],
                              env={"BROKERS": brokers, "METRICS": f"127.0.0.1:{mport}"})
                until(lambda: metric(mport, 'sluice_sink_drain_successes_total{component="out"') >= events,
                      self.args.timeout, "kafka_to_kafka")
                seconds = time.time() - start
                broker_cpu = self.cpu_of(broker.pid) - broker_cpu
                cpu, rss = agent.stop()
                self.record("kafka_to_kafka", f"{system} (kafka → kafka)", size, events, seconds, cpu, rss,
                            note=f"broker (tansu) CPU during the run: {broker_cpu:.1f} s")
            finally:
                broker.kill()
                broker.wait()

    def scenario_file_to_kafka(self):
        """taildir -> kafka sink. The same-run baseline is kafka-python producing the same
        lines (batched, lz4, acks=all). The agent's CPU and the broker's are apart."""
        log("file_to_kafka")
        lines = self.kafka_lines()
        events, size = self.args.kafka_events, file_size(lines)
        broker, brokers, d = self.kafka_broker("file_to_kafka")
        try:
            broker_cpu = self.cpu_of(broker.pid)
            seconds, cpu, rss = self.kafka_python(self.PRODUCE, brokers, "bench-in", str(lines))
            self.record("file_to_kafka", "baseline: kafka-python producer", size, events, seconds, cpu, rss,
                        note=f"broker CPU {self.cpu_of(broker.pid) - broker_cpu:.1f} s")
            mport = free_port()
            broker_cpu = self.cpu_of(broker.pid)
            start = time.time()
            agent = Timed([str(self.agent("file_to_kafka")), "--log-level", "error"],
                          env={"BROKERS": brokers, "METRICS": f"127.0.0.1:{mport}", "INPUT": str(lines),
                               "POSITIONS": str(d / "positions.json")})
            until(lambda: metric(mport, 'sluice_sink_drain_successes_total{component="out"') >= events,
                  self.args.timeout, "file_to_kafka")
            seconds = time.time() - start
            broker_cpu = self.cpu_of(broker.pid) - broker_cpu
            cpu, rss = agent.stop()
            self.record("file_to_kafka", "sluice (taildir → kafka)", size, events, seconds, cpu, rss,
                        note=f"broker (tansu) CPU during the run: {broker_cpu:.1f} s")
        finally:
            broker.kill()
            broker.wait()

    def lake_scenario(self, scenario, flow, ext, duckdb_copy):
        """taildir -> lake. Ceiling: the zstd tool compressing the same input (level 3,
        one thread) in the same run; peer: DuckDB turning the same lines into the same
        file format. The note gives output bytes per input byte."""
        log(scenario)
        path, events = self.inputs["access"]
        size = file_size(path)
        d = self.fresh(f"{scenario}-zstd")
        start = time.time()
        p = Timed(["sh", "-c", f"zstd -q -3 -T1 -c '{path}' > '{d}/out.zst'"])
        cpu, rss = p.wait()
        self.record(scenario, "ceiling: zstd -3", size, events, time.time() - start, cpu, rss,
                    note=f"output/input {file_size(d / 'out.zst') / size:.3f}")
        d = self.fresh(f"{scenario}-sluice")
        port = free_port()
        staging = d / "staging"
        env = {"INPUT": str(path), "POSITIONS": str(d / "positions.json"), "OUT_DIR": str(d / "out"),
               "METRICS": f"127.0.0.1:{port}", "STAGING": str(staging)}

        def done():
            published = metric(port, 'sluice_sink_drain_successes_total{component="out"') >= events
            return published and staging.exists() and not any(staging.glob("*.stg"))
        self.run_file_pipeline(scenario, "sluice", [str(self.agent(flow)), "--log-level", "error"],
                               done, env=env)
        out_bytes = sum(f.stat().st_size for f in (d / "out").rglob("*" + ext))
        self.rows[-1]["note"] = f"output/input {out_bytes / size:.3f}"
        if not self.peers_on:
            return
        try:
            import duckdb  # noqa: F401
        except ImportError:
            log("  (duckdb not installed for python3: peer skipped)")
            return
        d = self.fresh(f"{scenario}-duckdb")
        out = d / ("out" + ext)
        sql = duckdb_copy.format(input=path, out=out)
        start = time.time()
        p = Timed([sys.executable, "-c", "import duckdb, sys; duckdb.connect().execute(sys.argv[1])", sql])
        cpu, rss = p.wait(limit=self.args.timeout)
        self.record(scenario, "DuckDB (lines → file)", size, events, time.time() - start, cpu, rss,
                    note=f"output/input {file_size(out) / size:.3f}; all cores")

    def scenario_file_to_parquet(self):
        self.lake_scenario(
            "file_to_parquet", "file_to_parquet", ".parquet",
            "COPY (SELECT now() AS at, line FROM read_csv('{input}', columns = {{'line': 'VARCHAR'}}, "
            "delim = '\x01', quote = '', escape = '', header = false)) "
            "TO '{out}' (FORMAT parquet, COMPRESSION zstd)")

    def scenario_file_to_ndjson_zstd(self):
        self.lake_scenario(
            "file_to_ndjson_zstd", "file_to_ndjson_zstd", ".ndjson.zst",
            "COPY (SELECT line AS body FROM read_csv('{input}', columns = {{'line': 'VARCHAR'}}, "
            "delim = '\x01', quote = '', escape = '', header = false)) "
            "TO '{out}' (FORMAT json, COMPRESSION zstd)")

    # --- report -----------------------------------------------------------------------
    def write_results(self):
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip()
        cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                          if l.startswith("model name")), platform.processor())
        mem = next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))
        versions = {
            "rsyslog": first_line([str(self.rsyslogd), "-v"]).split(" compiled")[0].rstrip(","),
            "syslog-ng": first_line(["syslog-ng", "--version"]),
            "socat": first_line(["socat", "-V"], pick="socat version"),
        }
        out = [
            "# Benchmark results",
            "",
            f"Generated by `bash bench/run.sh` (input {self.args.size_mib} MiB per scenario, "
            f"{self.args.senders} parallel senders, every system the median of "
            f"{self.args.repeat} runs) on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
            f"commit `{commit}`.",
            "",
            f"- Machine: {os.cpu_count()} CPUs ({cpu_model}), {int(mem) // 1024} MiB RAM, "
            f"{platform.system()} {platform.release()}",
            f"- Peers: {versions['rsyslog']}; {versions['syslog-ng']}; {versions['socat']}",
            "- MB/s and events/s: input size / wall time, from offering the input to the last "
            "event arriving. CPU s/GiB: user+sys of the measured processes per GiB of input. "
            "RSS: peak resident set.",
            "- Ratios: `vs ceiling` is throughput relative to the scenario's ceiling, measured in the "
            "same run (higher is better). `Sluice CPU advantage` is that peer's CPU-seconds per GiB "
            "divided by Sluice's: 10× means Sluice needs a tenth of the CPU for the same work.",
            "",
        ]
        for scenario in dict.fromkeys(r["scenario"] for r in self.rows):
            rows = median_rows([r for r in self.rows if r["scenario"] == scenario])
            ceiling = next((r for r in rows if r["system"].startswith("ceiling")), None)
            sluice = next((r for r in rows if r["system"] == "sluice"), None)
            out += [f"## {scenario}", "",
                    "| system | MB/s | events/s | CPU s/GiB | peak RSS MiB | vs ceiling | Sluice CPU advantage | runs (time spread) | output | note |",
                    "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
            for r in rows:
                mbs = r["bytes"] / r["seconds"] / 1e6
                evs = r["events"] / r["seconds"]
                cpu_gib = r["cpu"] / (r["bytes"] / GIB)
                vs = f"{mbs / (ceiling['bytes'] / ceiling['seconds'] / 1e6):.2f}" if ceiling else "–"
                adv = "–"
                if sluice and r is not sluice and not r["system"].startswith("ceiling") and sluice["cpu"] > 0:
                    adv = f"{(r['cpu'] / r['bytes']) / (sluice['cpu'] / sluice['bytes']):.2f}×"
                out.append(f"| {r['system']} | {mbs:.1f} | {evs:,.0f} | {cpu_gib:.2f} | {r['rss'] / 1024:.1f} "
                           f"| {vs} | {adv} | {r['spread']} | {r['check']} | {r['note']} |")
            out.append("")
        out += self.extra_lines
        Path(self.args.results).write_text("\n".join(out) + "\n")
        log(f"wrote {self.args.results}")

    def quickstart_footprint(self):
        """Stripped size of the quickstart agent, and the RSS of its flow idle and loaded.

        The quickstart flow stops after 20 events, so RSS is measured on two variants
        of it: `seq` at one event a second (idle), and `seq` unbounded (loaded: every
        event through `set`, `filter` and `logger`, as fast as it goes)."""
        env = {**os.environ, "SLUICE_CACHE_DIR": str(ROOT / "target/sluice-cache"),
               "SLUICE_TARGET_DIR": str(ROOT / "target/agents")}
        flow = (ROOT / "flows/quickstart.flow").read_text()
        variants = {
            "quickstart": flow,
            "quickstart_idle": flow.replace("count = 20", "rate = 1"),
            "quickstart_loaded": flow.replace("    count = 20\n", ""),
        }
        built = {}
        for name, text in variants.items():
            src = self.work / f"{name}.flow"
            src.write_text(text)
            built[name] = self.work / "agents" / name
            subprocess.run([self.sluice, "build", src, "-o", built[name]], check=True,
                           capture_output=True, env=env)

        def rss_after(agent, seconds):
            proc = subprocess.Popen([agent, "--log-level", "error"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, cwd=self.fresh("quickstart"))
            time.sleep(seconds)
            status = Path(f"/proc/{proc.pid}/status").read_text()
            field = lambda key: int(next(l.split()[1] for l in status.splitlines() if l.startswith(key)))
            current, peak = field("VmRSS"), field("VmHWM")
            proc.kill()
            proc.wait()
            return current, peak

        idle, _ = rss_after(built["quickstart_idle"], 3)
        _, loaded = rss_after(built["quickstart_loaded"], 5)
        self.extra_lines = [
            "## Footprint",
            "",
            f"- quickstart agent, stripped binary: {file_size(built['quickstart']) / 1024:.0f} KiB",
            f"- quickstart flow idle (`seq` at 1 event/s), RSS after 3 s: {idle / 1024:.1f} MiB",
            f"- quickstart flow loaded (`seq` unbounded through `set`, `filter`, `logger` to /dev/null), "
            f"peak RSS over 5 s: {loaded / 1024:.1f} MiB",
            "- loaded RSS of each benchmark agent: the `peak RSS` column above",
            "",
        ]


def median_rows(rows):
    """One row per system, in first-seen order: the run with the median wall time, with
    the number of runs and the spread of their times ((max - min) / median), and the
    output check of every run (a mismatch in any run is shown)."""
    out = []
    for system in dict.fromkeys(r["system"] for r in rows):
        runs = sorted((r for r in rows if r["system"] == system), key=lambda r: r["seconds"])
        median = dict(runs[len(runs) // 2])
        spread = (runs[-1]["seconds"] - runs[0]["seconds"]) / median["seconds"] if median["seconds"] else 0
        median["spread"] = f"{len(runs)} (±{spread * 50:.0f}%)" if len(runs) > 1 else "1"
        bad = [r["check"] for r in runs if "MISMATCH" in r["check"]]
        if bad:
            median["check"] = bad[0]
        out.append(median)
    return out


class LineCounter:
    """Counts the lines of a file while it is written, reading only the bytes added since
    the last call (a completion check must not compete with the system it measures)."""

    def __init__(self, path):
        self.path, self.offset, self.lines = Path(path), 0, 0

    def count(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    self.lines += chunk.count(b"\n")
                    self.offset += len(chunk)
        except OSError:
            pass
        return self.lines


MASK = (1 << 64) - 1


def line_digest(paths):
    """(lines, sum of the lines' hashes mod 2^64): equal for two sets of files exactly
    when they hold the same lines, in any order, each as many times (with overwhelming
    probability: the hash is SipHash, keyed per process, so only one process compares)."""
    n = total = 0
    for p in paths:
        with open(p, "rb") as f:
            for line in f:
                if not line.endswith(b"\n"):
                    line += b"\n"
                n += 1
                total = (total + hash(line)) & MASK
    return n, total


def files_in(d):
    return sorted(p for p in Path(d).rglob("*") if p.is_file())


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except OSError:
        return 0


def first_line(cmd, pick=None):
    try:
        text = subprocess.run(cmd, capture_output=True, text=True).stdout + ""
    except OSError:
        return f"{cmd[0]} missing"
    lines = [l for l in text.splitlines() if l.strip()]
    if pick:
        lines = [l for l in lines if pick in l] or lines
    return lines[0].strip() if lines else cmd[0]


SCENARIOS = ["file_to_file", "tcp_to_null", "tcp_to_tcp", "regex_parse", "http_to_file", "durable",
             "agent_to_agent", "kafka_to_kafka", "file_to_kafka", "file_to_parquet",
             "file_to_ndjson_zstd", "aggregate"]

# Scenarios whose agents are not one flow named after them.
AGENTS = {"agent_to_agent": ["agent_to_agent_edge", "agent_to_agent_collector"],
          "aggregate": ["aggregate_none", "aggregate_10", "aggregate_100k"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024, help="input size per scenario (default 1024)")
    parser.add_argument("--senders", type=int, default=4, help="parallel TCP/HTTP senders (default 4)")
    parser.add_argument("--only", nargs="*", choices=SCENARIOS, help="run only these scenarios")
    parser.add_argument("--work", default=str(ROOT / "target/bench"), help="scratch directory")
    parser.add_argument("--rsyslog-root", default=str(ROOT / "target/bench/rsyslog"),
                        help="where run.sh unpacked rsyslog")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per run before giving up")
    parser.add_argument("--kafka-events", type=int, default=500_000,
                        help="records per Kafka scenario (default 500000; kafka-python produces them)")
    parser.add_argument("--skip-peers", action="store_true", help="measure Sluice and the ceilings only")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of Sluice and the ceilings per scenario; the median is reported (default 3)")
    parser.add_argument("--results", default=str(BENCH / "RESULTS.md"), help="where to write the table")
    parser.add_argument("--baseline-agents", help="a directory of agents built from bench/flows by an earlier "
                        "sluice; the file, TCP and HTTP scenarios run them too, as another row (before/after in one run)")
    parser.add_argument("--baseline-label", default="earlier build", help="row label for --baseline-agents")
    args = parser.parse_args()
    suite = Suite(args)
    # Build every agent before measuring anything, so no run shares the machine with
    # a compiler.
    for name in args.only or SCENARIOS:
        for flow in AGENTS.get(name, [name]):
            suite.agent(flow)
    suite.prepare_inputs()
    for name in args.only or SCENARIOS:
        for _ in range(args.repeat):
            # Peers run as often as Sluice, so their spread is known too.
            suite.peers_on = not args.skip_peers
            getattr(suite, f"scenario_{name}")()
    suite.quickstart_footprint()
    suite.write_results()


if __name__ == "__main__":
    main()
