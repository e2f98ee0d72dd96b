"""hues.Upload (a tus 1.0.0 client) against the sandbox over real sockets: chunked upload with
progress, the stored bytes, pause and resume, cancel, a dropped connection (a relay that
resets once), a process killed with SIGKILL mid-upload and resumed by another from the file
store, and bad input (typed errors, nothing stored)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import hues

MiB = 1024 * 1024


FTYP = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2"


def make_file(path: Path, size: int, seed: int) -> bytes:
    data = hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1)
    data = bytes(b ^ (i * 7 & 0xFF) for i, b in enumerate(data[:size])) if size <= 2 * MiB else data[:size]
    data = (FTYP + data[len(FTYP):])[:size]  # an MP4 head: the sandbox sniffs what is declared video
    path.write_bytes(data)
    return data


def stored(sandbox, url: str) -> bytes:
    return (Path(sandbox.data_dir) / "uploads" / (url.rsplit("/", 1)[1] + ".bin")).read_bytes()


class DictStore(hues.UploadStore):
    """An UploadStore written in Python, counting its writes."""

    def __init__(self):
        self.records: dict[str, hues.UploadRecord] = {}
        self.saves = 0
        self.threads: set[str] = set()

    def load(self, key):
        self.threads.add(threading.current_thread().name)
        return self.records.get(key)

    def save(self, key, record):
        self.saves += 1
        self.records[key] = record

    def remove(self, key):
        self.records.pop(key, None)


def test_upload_in_chunks_with_progress_and_python_store(sandbox, client, tmp_path):
    path = tmp_path / "ảnh-ngập-nước.mp4"
    data = make_file(path, 5 * MiB + 333, 1)
    seen: list[hues.UploadProgress] = []
    threads: set[int] = set()

    def progress(p: hues.UploadProgress) -> None:
        threads.add(threading.get_ident())
        seen.append(p)

    store = DictStore()
    up = hues.Upload(client, hues.UploadMediaType.VIDEO, path=str(path), chunk_size=1 * MiB, progress=progress, store=store)
    r = up.start()
    assert r.complete and not r.resumed
    assert r.size == len(data) == r.offset
    offsets = [p.uploaded for p in seen]
    assert len(offsets) >= 6
    assert offsets == sorted(set(offsets))  # strictly increasing
    assert offsets[-1] == len(data) and all(p.total == len(data) for p in seen)
    assert threading.get_ident() not in threads  # the SDK's host executor, not the caller
    assert hashlib.sha256(stored(sandbox, r.url)).digest() == hashlib.sha256(data).digest()
    assert store.saves == 1 and store.records == {}  # kept while running, forgotten when done


def test_pause_then_resume(sandbox, client, tmp_path):
    path = tmp_path / "v.mp4"
    data = make_file(path, 4 * MiB, 2)
    store = hues.MemoryUploadStore()
    holder: list[hues.Upload] = []

    def progress(p):
        if MiB <= p.uploaded < p.total:
            holder[0].pause()

    up = hues.Upload(client, "video", path=str(path), chunk_size=512 * 1024, progress=progress, store=store)
    holder.append(up)
    first = up.start()
    assert not first.complete and MiB <= first.offset < first.size
    holder[0] = hues.Upload(client, "video", path=str(path), store=store)  # a new object, the same store
    second = holder[0].start()
    assert second.complete and second.resumed and second.url == first.url
    assert stored(sandbox, second.url) == data


def test_cancel_keeps_the_url_then_terminate_forgets_it(sandbox, client, tmp_path):
    path = tmp_path / "c.mp4"
    make_file(path, 4 * MiB, 3)
    store = DictStore()
    token = hues.CancellationToken()

    def progress(p):
        if p.uploaded > 0:
            token.cancel()

    up = hues.Upload(client, "video", path=str(path), chunk_size=512 * 1024, progress=progress, store=store)
    with pytest.raises(hues.CancelledError):
        up.start(cancel=token)
    assert len(store.records) == 1
    url = next(iter(store.records.values())).url
    up.terminate()
    assert store.records == {}
    assert head_status(url, sandbox.api_key) == 404  # DELETEd (the sandbox advertises termination)


def head_status(url: str, key: str) -> int:
    """The status of a HEAD of url, over a plain socket."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    path = "/" + url.split("//")[1].split("/", 1)[1]
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(f"HEAD {path} HTTP/1.1\r\nHost: {host}\r\nTus-Resumable: 1.0.0\r\nX-Api-Key: {key}\r\nConnection: close\r\n\r\n".encode())
        return int(s.recv(4096).split(b" ")[1])


def test_async_start_and_async_iterator_of_progress(sandbox, client, tmp_path):
    path = tmp_path / "a.mp3"
    data = make_file(path, 3 * MiB, 4)

    async def main():
        progress = hues.ProgressStream()
        up = hues.Upload(client, "video", path=str(path), chunk_size=1 * MiB, progress=progress)
        task = asyncio.ensure_future(up.start_async())
        seen = [p.uploaded async for p in progress.until(task)]
        return await task, seen

    r, seen = asyncio.run(main())
    assert r.complete and stored(sandbox, r.url) == data
    assert seen and seen[-1] == len(data) and seen == sorted(seen)


class ResettingRelay:
    """A TCP relay to the sandbox that resets both sides once, after `drop_after` bytes went
    upstream; it points the sandbox's Location headers at itself."""

    def __init__(self, sandbox, drop_after: int):
        self.sandbox, self.drop_after = sandbox, drop_after
        self.forwarded, self.dropped = 0, False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.pipe, args=(c,), daemon=True).start()

    def pipe(self, c):
        u = socket.create_connection(("127.0.0.1", self.sandbox.port))

        def down():
            try:
                while b := u.recv(65536):
                    c.sendall(b.replace(f"{self.sandbox.url}/v1/uploads/".encode(), f"{self.url}/v1/uploads/".encode()))
            except OSError:
                pass
            finally:
                c.close()

        threading.Thread(target=down, daemon=True).start()
        try:
            while b := c.recv(65536):
                self.forwarded += len(b)
                if not self.dropped and self.forwarded > self.drop_after:
                    self.dropped = True
                    for s in (c, u):
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                        s.close()
                    return
                u.sendall(b)
        except OSError:
            pass
        finally:
            u.close()

    def close(self):
        self.listener.close()


def test_retry_after_a_dropped_connection_resumes_from_the_server_offset(sandbox, tmp_path):
    path = tmp_path / "d.mp4"
    data = make_file(path, 6 * MiB, 5)
    relay = ResettingRelay(sandbox, 2 * MiB + 50000)
    try:
        with hues.Client(base_url=relay.url, api_key=sandbox.api_key, timeout=30) as c:
            up = hues.Upload(c, "video", path=str(path), chunk_size=1 * MiB, retry_backoff=0.01)
            r = up.start()
        assert relay.dropped
        assert r.complete and stored(sandbox, r.url) == data
    finally:
        relay.close()


CHILD = r"""
import sys, hues
base, key, path, store = sys.argv[1:5]
with hues.Client(base_url=base, api_key=key, timeout=30) as c:
    up = hues.Upload(c, "video", path=path, chunk_size=256 * 1024, store=hues.FileUploadStore(store),
                     progress=lambda p: print("progress", p.uploaded, p.total, flush=True))
    r = up.start()
    print("done", r.url, r.size, int(r.resumed), flush=True)
"""


def test_sigkill_mid_upload_then_another_process_resumes_from_the_file_store(sandbox, tmp_path):
    path = tmp_path / "k.mp4"
    data = make_file(path, 6 * MiB, 6)
    store_dir = tmp_path / "store"
    args = [sys.executable, "-c", CHILD, sandbox.url, sandbox.api_key, str(path), str(store_dir)]
    first = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    seen = 0
    for line in first.stdout:
        assert line.startswith("progress "), line
        seen = int(line.split()[1])
        if seen >= MiB:
            break
    first.send_signal(signal.SIGKILL)
    assert first.wait(timeout=30) == -signal.SIGKILL
    assert seen < len(data)
    assert len(list(store_dir.glob("*.json"))) == 1
    second = subprocess.run(args, stdout=subprocess.PIPE, text=True, timeout=120)
    assert second.returncode == 0
    lines = second.stdout.splitlines()
    assert int(lines[0].split()[1]) >= seen  # went on from the server's offset
    _, url, size, resumed = lines[-1].split()
    assert int(size) == len(data) and resumed == "1"
    assert stored(sandbox, url) == data
    assert list(store_dir.glob("*.json")) == []


def test_bad_input_is_typed_and_stores_nothing(sandbox, client, tmp_path):
    store = DictStore()
    with pytest.raises(hues.ValidationError) as e:
        hues.Upload(client, "photo", path=str(tmp_path / "missing.jpg"), store=store).start()
    assert e.value.field == "path" and e.value.code == "file_not_found"
    with pytest.raises(hues.ValidationError) as e:
        hues.Upload(client, "photo", path=str(tmp_path), store=store).start()
    assert e.value.field == "path" and e.value.code == "not_a_file"
    if os.geteuid() != 0:  # root reads a mode-000 file anyway
        secret = tmp_path / "secret.jpg"
        secret.write_bytes(b"x")
        secret.chmod(0)
        with pytest.raises(hues.ValidationError) as e:
            hues.Upload(client, "photo", path=str(secret), store=store).start()
        assert e.value.field == "path" and e.value.code == "file_unreadable"
    huge = tmp_path / "huge.jpg"
    with open(huge, "wb") as f:
        f.truncate(26 * MiB)  # over the photo limit (25 MiB): the server's 413
    with pytest.raises(hues.ValidationError) as e:
        hues.Upload(client, "photo", path=str(huge), store=store).start()
    assert e.value.field == "path" and e.value.code == "payload_too_large" and e.value.status == 413
    with pytest.raises(hues.ValidationError) as e:
        hues.Upload(client, "picture", path=str(huge))
    assert e.value.field == "media_type"
    assert store.saves == 0 and store.records == {}


# ---- upload from a stream (a binary file object) ----


class ForwardOnly(io.RawIOBase):
    """A non-seekable binary stream (a pipe, a socket, a camera's encoder), counting its reads."""

    def __init__(self, data: bytes):
        self._data, self._pos, self.bytes_read, self.largest = data, 0, 0, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = min(len(b), len(self._data) - self._pos)
        b[:n] = self._data[self._pos:self._pos + n]
        self._pos += n
        self.bytes_read += n
        self.largest = max(self.largest, len(b))
        return n


def test_upload_from_a_binary_file_object_seekable_or_not(sandbox, client, tmp_path):
    data = make_file(tmp_path / "s.mp4", 3 * MiB + 777, 21)
    with open(tmp_path / "s.mp4", "rb") as f:  # a seekable io.BufferedReader
        r = hues.Upload(client, "video", source=f, chunk_size=1 * MiB).start()
    assert r.complete and r.size == len(data)
    assert client.media.get(r.media_id).sha256 == hashlib.sha256(data).hexdigest()
    stream = ForwardOnly(data)
    r = hues.Upload(client, "video", source=io.BufferedReader(stream), size=len(data), chunk_size=1 * MiB).start()
    assert r.complete and r.size == len(data)
    assert client.media.get(r.media_id).sha256 == hashlib.sha256(data).hexdigest()


def test_a_non_seekable_stream_resends_the_held_chunk_after_a_drop(sandbox, tmp_path):
    data = make_file(tmp_path / "n.mp4", 5 * MiB + 99, 31)
    relay = ResettingRelay(sandbox, 2 * MiB + 300000)
    try:
        stream = ForwardOnly(data)
        with hues.Client(base_url=relay.url, api_key=sandbox.api_key, timeout=30) as c:
            up = hues.Upload(c, "video", source=stream, size=len(data), chunk_size=1 * MiB, retry_backoff=0.01)
            r = up.start()
        assert relay.dropped
        assert r.complete and stored(sandbox, r.url) == data
        assert stream.bytes_read == len(data)  # never read twice: the chunk in flight was resent from memory
        assert stream.largest <= 1 * MiB  # bounded pieces across the boundary
    finally:
        relay.close()


@pytest.mark.parametrize("size", [3 * MiB + 777, 2 * MiB])  # a short last chunk; an exact multiple
def test_a_pipe_of_unknown_length_uploads_with_upload_defer_length(sandbox, client, tmp_path, size):
    """os.pipe()'s read end: no size, no seek. The sandbox advertises creation-defer-length, so
    the SDK creates with Upload-Defer-Length: 1 and declares the length on the PATCH that finds
    the end (the last chunk, or an empty PATCH after a whole one)."""
    data = make_file(tmp_path / "p.mp4", size, 51)
    r_fd, w_fd = os.pipe()

    def feed():
        with open(w_fd, "wb") as w:
            for i in range(0, len(data), 64 * 1024):
                w.write(data[i:i + 64 * 1024])

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    with open(r_fd, "rb", buffering=0) as pipe:
        r = hues.Upload(client, "video", source=pipe, chunk_size=1 * MiB).start()
    writer.join(10)
    assert r.complete and r.size == len(data) and r.offset == len(data)
    assert stored(sandbox, r.url) == data
    assert client.media.get(r.media_id).sha256 == hashlib.sha256(data).hexdigest()


class NoDeferServer:
    """A tus server's discovery without creation-defer-length (OPTIONS only: nothing else is
    reached by an upload that cannot start)."""

    def __init__(self):
        import http.server

        class H(http.server.BaseHTTPRequestHandler):
            def do_OPTIONS(self):
                self.send_response(204)
                self.send_header("Tus-Version", "1.0.0")
                self.send_header("Tus-Extension", "creation,termination,checksum")
                self.send_header("Tus-Checksum-Algorithm", "sha256")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_a_stream_of_unknown_length_needs_defer_length_or_size(sandbox, client):
    server = NoDeferServer()
    try:
        with hues.Client(base_url=server.url, api_key=sandbox.api_key, timeout=10) as c:
            with pytest.raises(hues.ValidationError) as e:
                hues.Upload(c, "video", source=ForwardOnly(FTYP + bytes(1000))).start()
        assert e.value.field == "source" and e.value.code == "length_required"
    finally:
        server.close()
    with pytest.raises(hues.ValidationError) as e:
        hues.Upload(client, "video")
    assert e.value.field == "path"


def test_a_streams_fingerprint_resumes_it_in_a_new_upload(sandbox, client, tmp_path):
    data = make_file(tmp_path / "f.mp4", 2 * MiB, 41)
    store = hues.FileUploadStore(str(tmp_path / "store"))
    holder = []

    def pause_at_1mib(p):
        if 1 * MiB <= p.uploaded < p.total:
            holder[0].pause()

    holder.append(hues.Upload(client, "video", source=ForwardOnly(data), size=len(data), fingerprint="roll/IMG_1",
                              chunk_size=512 * 1024, store=store, progress=pause_at_1mib))
    first = holder[0].start()
    assert not first.complete
    again = hues.Upload(client, "video", source=ForwardOnly(data), size=len(data), fingerprint="roll/IMG_1",
                        store=store).start()
    assert again.complete and again.resumed and again.url == first.url
    assert stored(sandbox, again.url) == data
