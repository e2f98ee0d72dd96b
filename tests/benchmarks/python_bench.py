"""Python: the typed GET of one report, keep-alive, decoded into a model, against peers.

    python3 tests/benchmarks/python_bench.py --sandbox build/release/sandbox/hues-sandbox

Starts one sandbox process (so its threads never share this interpreter), files one
Vietnamese report, then runs alternating rounds of: hues.Client, requests.Session and
httpx.Client loops (each decodes into a frozen dataclass like hues' own model); 8 threads
sharing one hues.Client against one thread; and, each in a fresh subprocess so peak RSS is
its own, 1,000 concurrent gets from one asyncio task group with hues.AsyncClient and with
httpx.AsyncClient. Prints a Markdown table of medians and ratios (no assertions: figures
belong in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

KEY = "hk_test_hue_s_sandbox_0001"


@dataclasses.dataclass(frozen=True)
class PeerReport:
    """What a hand-written client would decode into (the peers' fair share of the work)."""
    id: str
    category: str
    description: str
    location: dict
    anonymous: bool
    visibility: str
    status: str
    agency_code: str
    media: list
    created_at: str
    updated_at: str
    version: int = 0
    due_at: str = ""
    overdue: bool = False
    duplicate_of: str | None = None
    reporter: str | None = None
    answer: dict | None = None
    rating: dict | None = None
    possible_duplicates: list | None = None


def start_sandbox(binary: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([binary, "--port", "0", "--tls-port", "-1"], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    url = re.search(r"http://[0-9.:]+", line).group(0)
    return proc, url


def create_report(url: str) -> str:
    import requests
    r = requests.post(url + "/v1/reports", headers={"X-Api-Key": KEY}, json={
        "category": "street_light", "description": "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo",
        "location": {"lat": 16.4726, "lon": 107.5885, "address": "Chợ Đông Ba", "ward": "Đông Ba"}})
    r.raise_for_status()
    return r.json()["id"]


def rate(fn, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - t0)


def loops(url: str, rid: str):
    import hues
    import httpx
    import requests
    client = hues.Client(base_url=url, api_key=KEY)
    session = requests.Session()
    session.headers["X-Api-Key"] = KEY
    hx = httpx.Client(headers={"X-Api-Key": KEY})
    target = f"{url}/v1/reports/{rid}"

    def hues_get():
        client.reports.get(rid)

    def requests_get():
        r = session.get(target)
        r.raise_for_status()
        PeerReport(**r.json())

    def httpx_get():
        r = hx.get(target)
        r.raise_for_status()
        PeerReport(**r.json())

    return client, {"hues": hues_get, "requests": requests_get, "httpx": httpx_get}


def threads_rate(client, rid: str, threads: int, per_thread: int) -> float:
    barrier = threading.Barrier(threads + 1)

    def work():
        barrier.wait()
        for _ in range(per_thread):
            client.reports.get(rid)

    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(work) for _ in range(threads)]
        barrier.wait()
        t0 = time.perf_counter()
        for f in futures:
            f.result()
        return threads * per_thread / (time.perf_counter() - t0)


ASYNC_CHILD = r'''
import asyncio, json, os, resource, sys, time
url, rid, which, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
KEY = "hk_test_hue_s_sandbox_0001"
peak_threads = 0
def sample():
    global peak_threads
    peak_threads = max(peak_threads, len(os.listdir("/proc/self/task")))
async def main():
    if which == "hues":
        import hues
        async with hues.AsyncClient(base_url=url, api_key=KEY) as c:
            await c.reports.get(rid)
            t0 = time.perf_counter()
            tasks = [asyncio.ensure_future(c.reports.get(rid)) for _ in range(n)]
            while not all(t.done() for t in tasks):
                sample(); await asyncio.sleep(0.005)
            await asyncio.gather(*tasks)
            return time.perf_counter() - t0
    import httpx
    limits = httpx.Limits(max_connections=8)
    async with httpx.AsyncClient(headers={"X-Api-Key": KEY}, limits=limits, timeout=60) as c:
        await c.get(f"{url}/v1/reports/{rid}")
        async def one():
            r = await c.get(f"{url}/v1/reports/{rid}"); r.raise_for_status(); return r.json()
        t0 = time.perf_counter()
        tasks = [asyncio.ensure_future(one()) for _ in range(n)]
        while not all(t.done() for t in tasks):
            sample(); await asyncio.sleep(0.005)
        await asyncio.gather(*tasks)
        return time.perf_counter() - t0
wall = asyncio.run(main())
print(json.dumps({"wall": wall, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "threads": peak_threads}))
'''


def async_round(url: str, rid: str, which: str, n: int) -> dict:
    out = subprocess.run([sys.executable, "-c", ASYNC_CHILD, url, rid, which, str(n)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def import_time() -> float:
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import hues"], capture_output=True, text=True)
    total = 0
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)", line)
        if m and m.group(2).strip() == "hues":
            total = int(m.group(1))
    return total / 1000.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sandbox", required=True, help="path of the hues-sandbox executable")
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--concurrent", type=int, default=1000)
    args = ap.parse_args()
    proc, url = start_sandbox(args.sandbox)
    try:
        rid = create_report(url)
        client, fns = loops(url, rid)
        for fn in fns.values():
            rate(fn, 200)  # warm up connections and caches
        rates: dict[str, list[float]] = {k: [] for k in fns}
        one, eight = [], []
        for _ in range(args.rounds):
            for name, fn in fns.items():
                rates[name].append(rate(fn, args.iterations))
            one.append(threads_rate(client, rid, 1, args.iterations))
            eight.append(threads_rate(client, rid, 8, args.iterations // 4))
        med = {k: statistics.median(v) for k, v in rates.items()}
        aio = {"hues": [], "httpx": []}
        for _ in range(3):
            for which in aio:
                aio[which].append(async_round(url, rid, which, args.concurrent))
        print(f"| measure | hues | peer | ratio |\n| --- | --- | --- | --- |")
        print(f"| GET/s vs requests.Session | {med['hues']:.0f} | {med['requests']:.0f} | **{med['hues'] / med['requests']:.2f}x** |")
        print(f"| GET/s vs httpx.Client | {med['hues']:.0f} | {med['httpx']:.0f} | **{med['hues'] / med['httpx']:.2f}x** |")
        o, e = statistics.median(one), statistics.median(eight)
        print(f"| GET/s, 8 threads vs 1 thread (one hues.Client) | {e:.0f} | {o:.0f} | **{e / o:.2f}x** |")
        h = sorted(aio["hues"], key=lambda r: r["wall"])[1]
        x = sorted(aio["httpx"], key=lambda r: r["wall"])[1]
        print(f"| {args.concurrent} concurrent asyncio gets, wall s vs httpx.AsyncClient | {h['wall']:.3f} | {x['wall']:.3f} | **{x['wall'] / h['wall']:.2f}x faster** |")
        print(f"| ... peak RSS MiB | {h['rss_kb'] / 1024:.0f} | {x['rss_kb'] / 1024:.0f} | |")
        print(f"| ... peak threads | {h['threads']} | {x['threads']} | |")
        print(f"| `import hues` ms (-X importtime, cumulative) | {import_time():.1f} | | |")
        return 0
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    sys.exit(main())
