"""The SDK's tus upload against curl, to the same sandbox in the same run.

    python3 tests/benchmarks/upload_bench.py --sandbox build/release/sandbox/hues-sandbox \
        --bench build/release/tests/benchmarks/upload_bench [--size-mib 256] [--rounds 3]

Starts one sandbox process, writes a file of --size-mib MiB (upload_bench --make: an MP4 head,
then pseudo-random bytes), then alternates rounds of:
- the SDK (upload_bench, a fresh process per round: its peak RSS, VmHWM, is its own), with
  --chunk-mib chunks (default 8), each PATCH body read from the file as it is sent, with
  Upload-Checksum: sha256 (--no-checksum: none, as curl sends none);
- curl: the same tus creation (POST), then the file's PATCHes in one curl process with
  keep-alive (`curl -X PATCH -T <part> ... --next ...`). The sandbox takes at most 8 MiB per
  PATCH until streaming request bodies land (issue 9), so curl sends 8 MiB parts too (split
  before the clock starts); once it streams, --curl-chunk-mib 0 sends the whole file in one
  `curl -X PATCH -T`.
Each upload is checked (the server's offset equals the size), then its files are removed from
the sandbox's data directory. That directory is on tmpfs (/dev/shm, removed afterwards) unless
--disk-data-dir: on disk, each 1 GiB upload is fdatasync'ed and its dirty pages are written
back while the next upload runs, which skews the alternated pairs (docs/benchmarks.md). Peak RSS: the SDK peaked at about
47 MiB with 4 MiB chunks while each chunk was a new buffer copied twice on its way out (glibc's
dynamic mmap threshold kept the freed ones in its per-thread arenas); with one reused chunk
buffer per upload, sent without a copy, a 1 GiB upload peaks at about 31 MiB (docs/benchmarks.md). Prints a Markdown table with
medians, the throughput ratio SDK/curl and the SDK's peak RSS; asserts nothing (figures belong
in docs/benchmarks.md, measured on a quiet machine).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

MiB = 1024 * 1024


def start_sandbox(binary: str, data_dir: str) -> tuple[subprocess.Popen, str, str]:
    p = subprocess.Popen([binary, "--tls-port", "-1", "--data-dir", data_dir], stdout=subprocess.PIPE, text=True)
    url = ""
    for line in p.stdout:
        m = re.search(r"(http://\S+)", line)
        if m:
            url = m.group(1)
            break
    key = "hk_test_hue_s_sandbox_0001"
    return p, url, key


def head_offset(url: str, key: str) -> int:
    req = urllib.request.Request(url, method="HEAD", headers={"Tus-Resumable": "1.0.0", "X-Api-Key": key})
    with urllib.request.urlopen(req, timeout=30) as r:
        return int(r.headers["Upload-Offset"])


def create(base: str, key: str, size: int) -> str:
    meta = f"filename {base64.b64encode(b'bench.mp4').decode()},type {base64.b64encode(b'video').decode()}"
    req = urllib.request.Request(base + "/v1/uploads", method="POST", data=b"",
                                 headers={"Tus-Resumable": "1.0.0", "X-Api-Key": key, "Upload-Length": str(size),
                                          "Upload-Metadata": meta})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.headers["Location"]


def clear_uploads(data_dir: str) -> None:
    """Removes the finished uploads' bytes (<id>.bin and the media objects' hard links,
    <media id>.content): on tmpfs they would otherwise hold every round's gigabyte in memory."""
    d = os.path.join(data_dir, "uploads")
    for name in os.listdir(d):
        if name.endswith((".bin", ".content")):
            os.remove(os.path.join(d, name))


def run_sdk(bench: str, base: str, key: str, path: str, chunk: int, checksum: bool) -> dict:
    args = [bench, base, key, path, str(chunk)] + ([] if checksum else ["--no-checksum"])
    out = subprocess.run(args, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout)


def run_curl(base: str, key: str, size: int, parts: list[tuple[int, str]]) -> tuple[float, str]:
    url = create(base, key, size)  # creation is outside the clock for both (the SDK's is inside: conservative)
    args = ["curl", "-sS", "--fail", "-o", "/dev/null"]
    for i, (offset, part) in enumerate(parts):
        if i:
            args.append("--next")
        args += ["-X", "PATCH", "-T", part, "-H", "Tus-Resumable: 1.0.0", "-H", f"X-Api-Key: {key}",
                 "-H", "Content-Type: application/offset+octet-stream", "-H", f"Upload-Offset: {offset}",
                 "-o", "/dev/null", url]
    t0 = time.perf_counter()
    subprocess.run(args, check=True)
    return time.perf_counter() - t0, url


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sandbox", required=True)
    ap.add_argument("--bench", required=True, help="the upload_bench executable (tests/benchmarks)")
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--chunk-mib", type=int, default=8)
    ap.add_argument("--curl-chunk-mib", type=int, default=8, help="0: one PATCH of the whole file")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-checksum", action="store_true", help="the SDK sends no Upload-Checksum (curl sends none)")
    ap.add_argument("--disk-data-dir", action="store_true",
                    help="keep the sandbox's data directory on disk (default: tmpfs, /dev/shm)")
    a = ap.parse_args()
    size = a.size_mib * MiB
    with tempfile.TemporaryDirectory(prefix="hues-upload-bench-") as tmp:
        path = os.path.join(tmp, "bench.mp4")
        # An MP4 head then pseudo-random bytes (the sandbox sniffs video): the tests' helper.
        subprocess.run([a.bench, "--make", path, str(size)], check=True)
        parts: list[tuple[int, str]] = []
        step = a.curl_chunk_mib * MiB or size
        with open(path, "rb") as f:
            for i, off in enumerate(range(0, size, step)):
                part = os.path.join(tmp, f"part{i}")
                with open(part, "wb") as p:
                    p.write(f.read(step))
                parts.append((off, part))
        on_tmpfs = not a.disk_data_dir and os.path.isdir("/dev/shm")
        data_dir = tempfile.mkdtemp(prefix="hues-upload-bench-data-", dir="/dev/shm") if on_tmpfs \
            else os.path.join(tmp, "data")
        sandbox, base, key = start_sandbox(a.sandbox, data_dir)
        try:
            sdk_s, curl_s, hwm = [], [], []
            for _ in range(a.rounds):
                r = run_sdk(a.bench, base, key, path, a.chunk_mib * MiB, not a.no_checksum)
                assert head_offset(r["url"], key) == size
                sdk_s.append(r["seconds"])
                hwm.append(r["vm_hwm_kib"])
                clear_uploads(data_dir)
                s, url = run_curl(base, key, size, parts)
                assert head_offset(url, key) == size
                curl_s.append(s)
                clear_uploads(data_dir)
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=30)
            if on_tmpfs:
                shutil.rmtree(data_dir, ignore_errors=True)
    sdk, curl = statistics.median(sdk_s), statistics.median(curl_s)
    print(f"| upload of {a.size_mib} MiB | median s | MiB/s | peak RSS |")
    print("| --- | --- | --- | --- |")
    print(f"| SDK (C++ core, {a.chunk_mib} MiB chunks) | {sdk:.3f} | {a.size_mib / sdk:.1f} | {max(hwm) / 1024:.1f} MiB |")
    print(f"| curl -X PATCH -T ({'one PATCH' if not a.curl_chunk_mib else f'{a.curl_chunk_mib} MiB parts'}) "
          f"| {curl:.3f} | {a.size_mib / curl:.1f} | |")
    print(f"\nthroughput SDK / curl: {curl / sdk:.2f}x  (rounds: {a.rounds}; sandbox data on "
          f"{'tmpfs' if on_tmpfs else 'disk'}; per round SDK/curl: "
          f"{', '.join(f'{c / s:.2f}' for s, c in zip(sdk_s, curl_s))})", file=sys.stdout)


if __name__ == "__main__":
    main()
