"""Events latency: a report's status change to its webhook delivery and to its SSE event.

    python3 tests/benchmarks/events_bench.py --sandbox build/release/sandbox/hues-sandbox \
        [--transitions 1000]

Starts one sandbox process, creates --transitions public reports (a citizen signed in through
the sandbox's identity provider), then, as a partner (the seeded API key), registers a
webhook endpoint on a receiver started here (every delivery verified with the third-party
`standardwebhooks` package) and opens GET /v1/events with the third-party `httpx-sse`
client. Then, one at a time, the IOC receives each report (submitted -> received, If-Match
its ETag, on one keep-alive connection) and the script waits for both the delivery and the
event before the next one. For each transition it measures, from the moment its HTTP response
arrived:
- (a) the webhook delivery's arrival at the receiver (before verification),
- (b) the SSE event's arrival at the client,
and, as the peer in the same run, the plain round trip of the transition request itself. The
sandbox commits (and wakes the stream and the webhook worker) before it writes the response,
so an event may arrive before the response does: a negative figure. The same two arrivals
counted from the moment the request was sent are printed too.
Prints a Markdown table with median and p99 of each, and each median as a ratio of the peer's;
asserts nothing (figures belong in docs/benchmarks.md, measured on a quiet machine).
"""

from __future__ import annotations

import argparse
import http.server
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import httpx_sse
import requests
from standardwebhooks.webhooks import Webhook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
import lifecycle  # noqa: E402  (sign-in of the seeded people, report creation)

KEY = "hk_test_hue_s_sandbox_0001"
WAIT_S = 10  # one delivery or event later than this is a failure, not a figure


class Arrivals:
    """When each (report id, status) arrived, from the receiver's and the stream's threads."""

    def __init__(self):
        self.at: dict[tuple[str, str], float] = {}
        self.cv = threading.Condition()

    def seen(self, key: tuple[str, str], t: float) -> None:
        with self.cv:
            self.at.setdefault(key, t)
            self.cv.notify_all()

    def wait(self, key: tuple[str, str]) -> float:
        with self.cv:
            if not self.cv.wait_for(lambda: key in self.at, WAIT_S):
                raise RuntimeError(f"{key} did not arrive within {WAIT_S} s")
            return self.at[key]


def start_sandbox(binary: str, data_dir: str) -> tuple[subprocess.Popen, str]:
    p = subprocess.Popen([binary, "--tls-port", "-1", "--data-dir", data_dir], stdout=subprocess.PIPE, text=True)
    for line in p.stdout:
        m = re.search(r"(http://\S+)", line)
        if m:
            threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()  # keep the pipe drained
            return p, m.group(1).rstrip("/")
    raise RuntimeError("the sandbox printed no URL")


def start_receiver(arrivals: Arrivals, secret_box: list[str], failures: list[str]) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            t = time.perf_counter()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            try:
                event = Webhook(secret_box[0]).verify(body, {k.lower(): v for k, v in self.headers.items()})
            except Exception as e:  # noqa: BLE001  (counted and reported, never a figure)
                failures.append(str(e))
                return
            data = event["data"]
            arrivals.seen((data["report_id"], data.get("status", "")), t)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def read_stream(base: str, arrivals: Arrivals, opened: threading.Event, stop: threading.Event) -> None:
    try:
        stream_into(base, arrivals, opened, stop)
    except httpx.HTTPError:
        if not stop.is_set():  # the sandbox going away at the end is not a failure
            raise


def stream_into(base: str, arrivals: Arrivals, opened: threading.Event, stop: threading.Event) -> None:
    with httpx.Client(timeout=httpx.Timeout(30, connect=5)) as c:
        with httpx_sse.connect_sse(c, "GET", base + "/v1/events", headers={"X-Api-Key": KEY}) as source:
            source.response.raise_for_status()
            opened.set()
            for sse in source.iter_sse():
                t = time.perf_counter()
                if stop.is_set():
                    return
                if sse.event == "report.status_changed":
                    data = json.loads(sse.data)
                    arrivals.seen((data["report_id"], data["status"]), t)


def quantiles(xs: list[float]) -> tuple[float, float]:
    s = sorted(xs)
    return statistics.median(s), s[max(0, math.ceil(0.99 * len(s)) - 1)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sandbox", default="build/dev/sandbox/hues-sandbox")
    ap.add_argument("--transitions", type=int, default=1000)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as d:
        proc, base = start_sandbox(args.sandbox, d)
        try:
            return run(base, args.transitions)
        finally:
            proc.terminate()
            proc.wait(10)


def run(base: str, n: int) -> int:
    t_start = time.perf_counter()
    people = lifecycle.People(base)

    class Caller:  # lifecycle's helpers take an Api: this one is plain requests, no spec check
        def __init__(self):
            self.s = requests.Session()

        def call(self, method, path, *, json_body=None, key=None, headers=None, expect=None):
            r = self.s.request(method, base + path, json=json_body, headers=headers, timeout=30)
            if expect is not None and r.status_code != expect:
                raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")
            r.body = r.json() if r.content else None
            return r

    citizen = Caller()
    reports = [lifecycle.new_report(citizen, people, description=f"Đèn đường hỏng số {i} trên đường Lê Lợi")
               for i in range(n)]
    t_made = time.perf_counter()

    delivered, streamed, failures, secret_box = Arrivals(), Arrivals(), [], [""]
    receiver = start_receiver(delivered, secret_box, failures)
    hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/hooks"
    r = requests.post(base + "/v1/webhooks", headers={"X-Api-Key": KEY}, timeout=10,
                      json={"url": hook_url, "event_types": ["report.status_changed"]})
    r.raise_for_status()
    secret_box[0] = r.json()["secret"]
    opened, stop = threading.Event(), threading.Event()
    reader = threading.Thread(target=read_stream, args=(base, streamed, opened, stop), daemon=True)
    reader.start()
    if not opened.wait(10):
        raise RuntimeError("the event stream did not open")

    ioc = requests.Session()
    token = people.headers("ioc")
    rtt, hook, sse, hook_from_start, sse_from_start = [], [], [], [], []
    for rep in reports:
        rid = rep["id"]
        t0 = time.perf_counter()
        resp = ioc.post(f"{base}/v1/reports/{rid}/receive", json={}, timeout=30,
                        headers={**token, "If-Match": '"%d"' % rep["version"]})
        t1 = time.perf_counter()
        if resp.status_code != 200:
            raise RuntimeError(f"receive {rid}: {resp.status_code} {resp.text[:300]}")
        rtt.append(t1 - t0)
        got_hook, got_sse = delivered.wait((rid, "received")), streamed.wait((rid, "received"))
        hook.append(got_hook - t1)
        sse.append(got_sse - t1)
        hook_from_start.append(got_hook - t0)
        sse_from_start.append(got_sse - t0)
    stop.set()
    receiver.shutdown()
    t_end = time.perf_counter()

    peer = statistics.median(rtt)
    print(f"{n} transitions (IOC receive, sequential) on {os.cpu_count()} cores; reports made in "
          f"{t_made - t_start:.1f} s, transitions in {t_end - t_made:.1f} s; webhook signatures refused: {len(failures)}")
    print()
    print("| measure | median | p99 | median / transition round trip |")
    print("| --- | --- | --- | --- |")
    for name, xs in (("transition round trip (peer)", rtt), ("response -> webhook delivery", hook),
                     ("response -> SSE event", sse), ("request sent -> webhook delivery", hook_from_start),
                     ("request sent -> SSE event", sse_from_start)):
        med, p99 = quantiles(xs)
        print(f"| {name} | {med * 1e3:.2f} ms | {p99 * 1e3:.2f} ms | {med / peer:.2f} |")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
