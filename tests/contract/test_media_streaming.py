"""Media downloads streamed from the file, without a size cap: a 72 MiB video (sparse, but
marked at every MiB so a misplaced piece shows) read whole with requests (over HTTP and
HTTPS) and curl, and by a Range past 64 MiB with urllib3, with the right sha256 while the
sandbox's peak resident memory grows by less than 16 MiB; a reader that stalls and resumes
gets every byte; one stalled past the write deadline is dropped; readers that leave
mid-download leave no descriptor behind and the sandbox goes on serving."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import time

import pytest
import requests
import urllib3

import media_files as mf
import raw_http
from harness import Api, SandboxProcess
from test_uploads import MiB, OCTET, TUS, create, sandbox_pid_hwm_kib

SIZE = 72 * MiB
WRITE_TIMEOUT_MS = 2000  # the sandbox's write deadline here: a reader silent this long is dropped


class Big:
    def __init__(self, sb: SandboxProcess, api: Api, path: str, url: str):
        self.sb, self.api, self.path, self.url = sb, api, path, url
        self.key = {"X-Api-Key": api.api_key}

    def sha(self, first: int = 0, last: int = SIZE - 1) -> str:
        h = hashlib.sha256()
        with open(self.path, "rb") as f:
            f.seek(first)
            left = last - first + 1
            while left:
                piece = f.read(min(left, 4 * MiB))
                h.update(piece)
                left -= len(piece)
        return h.hexdigest()


def sparse_video(path: str, size: int) -> None:
    """An MP4 head (the sandbox sniffs a video), holes, and the index of each MiB at its start."""
    with open(path, "wb") as f:
        f.write(mf.mp4())
        for i in range(1, size // MiB):
            f.seek(i * MiB)
            f.write(b"MiB#%08d" % i)
        f.truncate(size)


@pytest.fixture(scope="module")
def big(sandbox_bin, spec, tmp_path_factory):
    sb = SandboxProcess(sandbox_bin, str(tmp_path_factory.mktemp("streaming")),
                        ("--write-timeout-ms", str(WRITE_TIMEOUT_MS)))
    api = Api(spec, sb.url, api_key=sb.api_key)
    path = str(tmp_path_factory.mktemp("video") / "big.mp4")
    sparse_video(path, SIZE)
    upload, _ = create(api, SIZE, type="video")
    with open(path, "rb") as body:
        r = requests.patch(api.base + upload, data=body, timeout=120, headers={
            **TUS, "X-Api-Key": api.api_key, "Content-Type": OCTET, "Upload-Offset": "0"})
    assert r.status_code == 204, r.text
    b = Big(sb, api, path, f"/v1/media/{r.headers['Hues-Media-Id']}/content")
    yield b
    api.close()
    sb.stop()


def sha_of(chunks) -> tuple[str, int]:
    h, n = hashlib.sha256(), 0
    for c in chunks:
        h.update(c)
        n += len(c)
    return h.hexdigest(), n


def test_whole_and_ranges_past_64_mib_in_bounded_memory(big):
    base, tls = big.sb.url + big.url, big.sb.tls_url + big.url
    with requests.Session() as s:
        # Warm: the first responses' allocations (TLS buffers, a piece buffer) are not the body's.
        for url in (base, tls):
            s.get(url, headers={**big.key, "Range": "bytes=0-99"}, verify=big.sb.ca, timeout=30).raise_for_status()
        before = sandbox_pid_hwm_kib(big.sb.proc.pid)
        for url in (base, tls):  # whole, 200, with Content-Length, over HTTP then HTTPS
            with s.get(url, headers=big.key, verify=big.sb.ca, timeout=60, stream=True) as r:
                assert r.status_code == 200 and r.headers["Content-Length"] == str(SIZE)
                assert sha_of(r.iter_content(MiB)) == (big.sha(), SIZE), url
        # The same keep-alive connection answers on after a streamed body.
        assert s.get(base, headers={**big.key, "Range": "bytes=10-19"}, timeout=10).content == \
            open(big.path, "rb").read(20)[10:]
    # urllib3: a Range wholly past 64 MiB, and one across it.
    http = urllib3.PoolManager()
    for first, last in ((64 * MiB + 5, SIZE - 1), (60 * MiB, 70 * MiB + 3)):
        r = http.request("GET", base, headers={**big.key, "Range": f"bytes={first}-{last}"}, preload_content=False,
                         timeout=60)
        assert r.status == 206 and r.headers["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
        assert sha_of(r.stream(MiB)) == (big.sha(first, last), last - first + 1)
        r.release_conn()
    curl = shutil.which("curl")
    if curl:
        out = subprocess.run(f"{curl} -s -f -H 'X-Api-Key: {big.api.api_key}' '{base}' | sha256sum", shell=True,
                             capture_output=True, timeout=60, check=True, text=True).stdout.split()[0]
        assert out == big.sha()
    after = sandbox_pid_hwm_kib(big.sb.proc.pid)
    assert after - before < 16 * 1024, f"VmHWM {before} -> {after} KiB for {SIZE >> 20} MiB responses"


def raw_get(big: Big, extra: dict | None = None) -> socket.socket:
    """A GET of the whole video on a socket that stops the server's writes soon when not read."""
    s = raw_http.connect(big.sb.url, timeout=20, rcvbuf=64 * 1024)
    s.sendall(raw_http.request_head(big.sb.url, "GET", big.url, {**big.key, **(extra or {})}))
    return s


def test_a_reader_that_stalls_then_resumes_gets_every_byte(big):
    with raw_get(big, {"Connection": "close"}) as s:
        head, rest = raw_http.read_head(s)
        assert head.startswith(b"HTTP/1.1 200 ") and f"Content-Length: {SIZE}".encode() in head
        time.sleep(WRITE_TIMEOUT_MS / 1000 / 2)  # the server's writes wait meanwhile
        h, n = hashlib.sha256(rest), len(rest)
        while piece := s.recv(1 << 20):
            h.update(piece)
            n += len(piece)
        assert (h.hexdigest(), n) == (big.sha(), SIZE)


def test_a_reader_stalled_past_the_write_deadline_is_dropped(big):
    with raw_get(big) as s:
        raw_http.read_head(s)
        time.sleep(3 * WRITE_TIMEOUT_MS / 1000)
        n, ended = 0, False
        try:
            while piece := s.recv(1 << 20):
                n += len(piece)
            ended = True  # EOF
        except ConnectionResetError:
            ended = True
        assert ended and n < SIZE // 2  # what the buffers held, then the end
    assert requests.get(big.sb.url + "/healthz", timeout=10).status_code == 200


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_readers_that_leave_mid_download_leak_nothing(big):
    pid = big.sb.proc.pid
    baseline = open_fds(pid)
    for i in range(20):
        s = raw_get(big)
        raw_http.read_head(s)
        s.recv(100_000)
        if i % 2:  # half of them reset the connection, half close it with unread bytes
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        s.close()
    deadline = time.monotonic() + 10
    while open_fds(pid) > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    assert open_fds(pid) <= baseline  # every socket and every file of those responses is closed
    r = requests.get(big.sb.url + big.url, headers={**big.key, "Range": f"bytes={SIZE - 4096}-"}, timeout=10)
    assert r.status_code == 206 and hashlib.sha256(r.content).hexdigest() == big.sha(SIZE - 4096)
