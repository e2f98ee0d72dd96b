"""The sandbox as a tus 1.0.0 server at /v1/uploads: core protocol, creation,
creation-with-upload, creation-defer-length, termination, checksum and expiration, over plain
HTTP (responses are checked against docs/openapi.yaml), and a third-party tus client (tuspy)
uploading in chunks. tuspy (1.1) cannot upload a stream of unknown length (it always sends
Upload-Length), so creation-defer-length is checked over raw HTTP the way tusd behaves: the
length on the PATCH that knows it, 400 for a changed one.
PATCH bodies stream to disk: one PATCH of 64 MiB in bounded memory, a dropped connection
keeping what arrived, a newer PATCH taking over a stalled one."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import requests

import raw_http
from harness import Api
from media_files import jpeg, mp4, padded, wav


def video(n: int) -> bytes:
    """n bytes that sniff as the video they are declared as: an MP4 head, then random bytes."""
    head = mp4()
    return head + os.urandom(n - len(head))

TUS = {"Tus-Resumable": "1.0.0"}
OCTET = "application/offset+octet-stream"
MiB = 1024 * 1024


def meta(**pairs: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


def create(api: Api, length: int, *, key="default", headers=None, body: bytes | None = None,
           expect: int | None = 201, content_type=OCTET, **pairs) -> tuple[str, object]:
    h = {**TUS, "Upload-Length": str(length), "Upload-Metadata": meta(**(pairs or {"type": "document"})),
         **(headers or {})}
    r = api.call("POST", "/v1/uploads", headers=h, key=key, raw=body, content_type=content_type if body else None,
                 expect=expect)
    path = r.headers.get("Location", "")
    return (path[path.index("/v1/uploads/"):] if path else ""), r


def patch(api: Api, path: str, offset: int, data: bytes, *, headers=None, key="default", expect=204,
          content_type=OCTET):
    return api.call("PATCH", path, raw=data, content_type=content_type, key=key,
                    headers={**TUS, "Upload-Offset": str(offset), **(headers or {})}, expect=expect)


def head(api: Api, path: str, *, key="default", headers=None, expect=200):
    return api.call("HEAD", path, headers={**TUS, **(headers or {})}, key=key, expect=expect)


def digest(algo: str, data: bytes) -> str:
    return f"{algo} {base64.b64encode(hashlib.new(algo, data).digest()).decode()}"


def stored(data_dir: str, path: str) -> bytes:
    return (Path(data_dir) / "uploads" / (path.rsplit("/", 1)[1] + ".bin")).read_bytes()


def test_options_advertises_the_server(api):
    r = api.call("OPTIONS", "/v1/uploads", key=None, expect=204)
    assert r.headers["Tus-Version"] == "1.0.0"
    assert set(r.headers["Tus-Extension"].split(",")) == {
        "creation", "creation-with-upload", "creation-defer-length", "termination", "checksum", "expiration"}
    assert r.headers["Tus-Checksum-Algorithm"] == "sha1,sha256"
    assert int(r.headers["Tus-Max-Size"]) == 2 * 1024 * MiB
    assert "Tus-Resumable" not in r.headers


def test_create_patch_head_in_chunks(api, sandbox):
    data = padded(jpeg(), 300_000)  # a real JPEG head: the server sniffs the first chunk
    path, r = create(api, len(data), type="photo", filename="ảnh cầu Trường Tiền.jpg")
    assert r.headers["Location"].startswith(sandbox.url + "/v1/uploads/upl_")
    assert r.headers["Upload-Offset"] == "0" and r.headers["Tus-Resumable"] == "1.0.0"
    expires = parsedate_to_datetime(r.headers["Upload-Expires"])
    assert expires.timestamp() > time.time() + 3600
    h = head(api, path)
    assert (h.headers["Upload-Offset"], h.headers["Upload-Length"]) == ("0", str(len(data)))
    assert h.headers["Cache-Control"] == "no-store" and h.headers["Tus-Resumable"] == "1.0.0"
    assert "Upload-Defer-Length" not in h.headers
    # The metadata comes back as given, the Vietnamese file name byte for byte.
    pairs = dict(p.split(" ") for p in h.headers["Upload-Metadata"].split(","))
    assert base64.b64decode(pairs["filename"]).decode() == "ảnh cầu Trường Tiền.jpg"
    r = patch(api, path, 0, data[:100_000])
    assert r.headers["Upload-Offset"] == "100000" and "Upload-Expires" in r.headers
    assert "Content-Length" not in r.headers  # a 204 has none (RFC 9110 section 8.6)
    assert head(api, path).headers["Upload-Offset"] == "100000"  # HEAD after a partial PATCH
    # A wrong offset is 409 and stores nothing.
    patch(api, path, 0, data[:10], expect=409).error("offset_mismatch")
    patch(api, path, 200_000, data[200_000:], expect=409)
    assert head(api, path).headers["Upload-Offset"] == "100000"
    r = patch(api, path, 100_000, data[100_000:])
    assert r.headers["Upload-Offset"] == str(len(data)) and "Upload-Expires" not in r.headers
    assert stored(sandbox.data_dir, path) == data
    # Complete: a PATCH of nothing at the end is fine, a byte more is 413.
    patch(api, path, len(data), b"")
    patch(api, path, len(data), b"x", expect=413).error("payload_too_large")


def test_files_are_private(api, sandbox):
    path, _ = create(api, 4)
    patch(api, path, 0, b"abcd")
    f = Path(sandbox.data_dir) / "uploads" / (path.rsplit("/", 1)[1] + ".bin")
    assert f.stat().st_mode & 0o777 == 0o600
    assert f.parent.stat().st_mode & 0o777 == 0o700
    assert f.with_suffix(".meta").stat().st_mode & 0o777 == 0o600


def test_creation_with_upload(api, sandbox):
    data = b"%PDF-1.7 bien ban"
    path, r = create(api, len(data) + 5, body=data, type="document",
                     headers={"Upload-Checksum": digest("sha256", data)})
    assert r.headers["Upload-Offset"] == str(len(data))
    assert head(api, path).headers["Upload-Offset"] == str(len(data))
    patch(api, path, len(data), b"12345")
    assert stored(sandbox.data_dir, path) == data + b"12345"
    # A wrong checksum on the first chunk creates nothing; a body past Upload-Length is 413.
    _, r = create(api, 100, body=b"abc", headers={"Upload-Checksum": digest("sha1", b"abd")}, expect=460)
    assert "Location" not in r.headers and r.resp.reason == "Checksum Mismatch"
    create(api, 2, body=b"abc", expect=413)
    create(api, 3, body=b"abc", content_type="application/json", expect=415)


def test_checksum_mismatch_discards_the_chunk(api, sandbox):
    data = padded(wav(100), 64_000)
    path, _ = create(api, len(data), type="audio")
    patch(api, path, 0, data[:32_000], headers={"Upload-Checksum": digest("sha1", data[:32_000])})
    bad = patch(api, path, 32_000, data[32_000:], headers={"Upload-Checksum": digest("sha256", b"other")},
                expect=460)
    bad.error("checksum_mismatch")
    assert bad.headers["Tus-Resumable"] == "1.0.0"
    assert head(api, path).headers["Upload-Offset"] == "32000"  # nothing of it was kept
    patch(api, path, 32_000, data[32_000:], headers={"Upload-Checksum": digest("md5", data[32_000:])},
          expect=400).error("validation_error")
    patch(api, path, 32_000, data[32_000:], headers={"Upload-Checksum": "sha256 %%%"}, expect=400)
    patch(api, path, 32_000, data[32_000:], headers={"Upload-Checksum": digest("sha1", data[:10])[:-4]},
          expect=400)
    assert head(api, path).headers["Upload-Offset"] == "32000"
    # The same offset again, with the right digest, goes through.
    r = patch(api, path, 32_000, data[32_000:], headers={"Upload-Checksum": digest("sha256", data[32_000:])})
    assert r.headers["Upload-Offset"] == str(len(data))
    assert stored(sandbox.data_dir, path) == data


def test_limits_per_media_type(api):
    create(api, 25 * MiB, type="photo")
    create(api, 25 * MiB + 1, type="photo", expect=413)[1].error("payload_too_large")
    create(api, 50 * MiB + 1, type="document", expect=413)
    create(api, 200 * MiB, type="audio")
    create(api, 200 * MiB + 1, filetype="audio/mpeg", expect=413)
    create(api, 2 * 1024 * MiB, filetype="video/mp4", filename="clip.mp4")
    create(api, 2 * 1024 * MiB + 1, type="video", expect=413)


def test_a_patch_may_carry_more_than_8_mib(api):
    """PATCH bodies stream to disk: their limit is the upload's length; a creation-with-upload
    body is read whole and stays at most 8 MiB."""
    path, _ = create(api, 10 * MiB, type="video")
    patch(api, path, 0, padded(mp4(), 8 * MiB + 1))
    assert head(api, path).headers["Upload-Offset"] == str(8 * MiB + 1)
    r = requests.post(api.base + "/v1/uploads", data=b"\0" * (8 * MiB + 1), timeout=30, headers={
        **TUS, "X-Api-Key": api.api_key, "Content-Type": OCTET, "Upload-Length": str(9 * MiB),
        "Upload-Metadata": meta(type="video")})
    assert r.status_code == 413 and r.headers["Tus-Resumable"] == "1.0.0"


def test_a_body_past_upload_length_is_413_and_discarded(api, sandbox):
    path, _ = create(api, 10)
    patch(api, path, 0, b"abc")
    # Content-Length past the length: refused before a byte is read.
    patch(api, path, 3, b"x" * 8, expect=413).error("payload_too_large")
    # A chunked body (no Content-Length) going past it: refused once it does; nothing kept.
    r = requests.patch(api.base + path, data=iter([b"defg", b"hijklmnop"]), timeout=30, headers={
        **TUS, "X-Api-Key": api.api_key, "Content-Type": OCTET, "Upload-Offset": "3"})
    assert r.status_code == 413, r.text
    assert head(api, path).headers["Upload-Offset"] == "3"
    patch(api, path, 3, b"defghij")
    assert stored(sandbox.data_dir, path) == b"abcdefghij"


def sandbox_pid_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_one_patch_uploads_64_mib_in_bounded_memory(spec, start_sandbox, tmp_path):
    """The whole upload in one PATCH, as curl -X PATCH -T file does; the sandbox's peak
    resident memory grows by far less than the body (its pieces are 256 KiB)."""
    sb = start_sandbox()
    api = Api(spec, sb.url, api_key=sb.api_key)
    try:
        f = tmp_path / "clip.mp4"
        size = 64 * MiB
        with f.open("wb") as out:
            out.write(video(MiB))  # an MP4 head: the sandbox sniffs what is declared video
            for _ in range(size // MiB - 1):
                out.write(os.urandom(MiB))
        path, _ = create(api, size, type="video")
        patch(api, path, 0, b"")  # warm: the first requests' allocations are not the body's
        before = sandbox_pid_hwm_kib(sb.proc.pid)
        with f.open("rb") as body:
            r = requests.patch(api.base + path, data=body, timeout=120, headers={
                **TUS, "X-Api-Key": api.api_key, "Content-Type": OCTET, "Upload-Offset": "0",
                "Upload-Checksum": "sha256 " + base64.b64encode(hashlib.sha256(f.read_bytes()).digest()).decode()})
        assert r.status_code == 204, r.text
        after = sandbox_pid_hwm_kib(sb.proc.pid)
        assert r.headers["Upload-Offset"] == str(size)
        assert after - before < 16 * 1024, f"VmHWM {before} -> {after} KiB for a 64 MiB body"
        assert hashlib.sha256(stored(sb.data_dir, path)).digest() == hashlib.sha256(f.read_bytes()).digest()
    finally:
        api.close()


def raw_patch_then_drop(base: str, path: str, key: str, offset: int, declared: int, data: bytes,
                        extra: dict | None = None) -> None:
    """A PATCH declaring `declared` bytes that sends only `data`, then closes its side."""
    import socket
    with raw_http.connect(base) as s:
        s.sendall(raw_http.request_head(base, "PATCH", path, {
            **TUS, "X-Api-Key": key, "Upload-Offset": offset, "Content-Type": OCTET, "Content-Length": declared,
            **(extra or {})}) + data)
        s.shutdown(socket.SHUT_WR)  # the client gives up mid-body


def wait_offset(api: Api, path: str, want: str) -> str:
    """HEAD until the server has seen the connection end (it commits then), within 10 s."""
    deadline = time.monotonic() + 10
    while True:
        got = head(api, path).headers["Upload-Offset"]
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def test_a_dropped_patch_keeps_what_arrived_and_resumes(api, sandbox):
    data = video(3 * MiB)
    path, _ = create(api, len(data), type="video")
    raw_patch_then_drop(api.base, path, api.api_key, 0, len(data), data[:1_000_003])
    assert wait_offset(api, path, "1000003") == "1000003"
    patch(api, path, 0, data, expect=409)  # the offset moved
    patch(api, path, 1_000_003, data[1_000_003:])
    assert stored(sandbox.data_dir, path) == data
    # With Upload-Checksum an incomplete chunk cannot be verified: none of it is kept.
    path, _ = create(api, len(data), type="video")
    raw_patch_then_drop(api.base, path, api.api_key, 0, len(data), data[:500_000],
                        {"Upload-Checksum": f"sha256 {digest('sha256', data)}"})
    time.sleep(0.3)  # no offset to wait for: it must stay 0 (a later PATCH proves the commit ran)
    patch(api, path, 0, data[:10])
    assert head(api, path).headers["Upload-Offset"] == "10"


def test_a_newer_patch_takes_over_a_stalled_one(api, sandbox):
    """A client whose connection died unseen resumes: HEAD shows the offset before the stalled
    PATCH, and a PATCH at it takes over; the stalled one keeps nothing."""
    data = video(2 * MiB)
    path, _ = create(api, len(data), type="video")
    with raw_http.connect(api.base) as stalled:
        stalled.sendall(raw_http.request_head(api.base, "PATCH", path, {
            **TUS, "X-Api-Key": api.api_key, "Upload-Offset": 0, "Content-Type": OCTET,
            "Content-Length": len(data)}) + data[:MiB])
        time.sleep(0.3)  # let the server write what it got (it may not: the offset is 0 either way)
        assert head(api, path).headers["Upload-Offset"] == "0"
        patch(api, path, 0, data)
        stalled.sendall(b"\xff" * 1024)  # the old PATCH's next piece: refused, nothing written
        answer, _ = raw_http.read_head(stalled)
        assert answer.startswith(b"HTTP/1.1 409 "), answer[:200]
    assert head(api, path).headers["Upload-Offset"] == str(len(data))
    assert stored(sandbox.data_dir, path) == data


def test_bad_requests_change_nothing(api):
    path, _ = create(api, 10)
    patch(api, path, 0, b"abc", content_type="application/octet-stream", expect=415).error("unsupported_media_type")
    patch(api, path, 0, b"abc", content_type=None, expect=415)
    api.call("PATCH", path, raw=b"abc", content_type=OCTET, headers=TUS, expect=400).error("validation_error")
    patch(api, path, -1, b"abc", expect=400)
    assert head(api, path).headers["Upload-Offset"] == "0"
    # Creation needs a length (or Upload-Defer-Length: 1) and a media type.
    api.call("POST", "/v1/uploads", headers={**TUS, "Upload-Metadata": meta(type="photo")}, expect=400)
    api.call("POST", "/v1/uploads", headers={**TUS, "Upload-Defer-Length": "1"}, expect=400)
    create(api, 10, filename="a.bin", expect=400)[1].error("validation_error")
    create(api, 10, type="executable", expect=400)
    create(api, 10, headers={"Upload-Metadata": "type !!!"}, expect=400)
    create(api, 10, headers={"Upload-Length": "ten"}, expect=400)


def test_tus_version_is_required(api):
    path, _ = create(api, 10)
    for h in ({}, {"Tus-Resumable": "0.2.2"}):
        r = api.call("HEAD", path, headers=h, expect=412)
        assert r.headers["Tus-Version"] == "1.0.0" and r.headers["Tus-Resumable"] == "1.0.0"
        r = api.call("PATCH", path, raw=b"abc", content_type=OCTET, headers={**h, "Upload-Offset": "0"}, expect=412)
        assert r.headers["Tus-Version"] == "1.0.0"
        r = api.call("POST", "/v1/uploads", headers={**h, "Upload-Length": "3", "Upload-Metadata": meta(type="photo")},
                     expect=412)
        r.error("unsupported_tus_version")
    assert head(api, path).headers["Upload-Offset"] == "0"


def test_authentication_and_ownership(api, people):
    api.call("POST", "/v1/uploads", key=None, headers={**TUS, "Upload-Length": "3",
                                                       "Upload-Metadata": meta(type="photo")}, expect=401)
    path, _ = create(api, 10)
    head(api, path, key=None, expect=401)
    citizen = people.headers("citizen")
    # Another caller's upload does not exist for them.
    head(api, path, key=None, headers=citizen, expect=404)
    patch(api, path, 0, b"abc", key=None, headers=citizen, expect=404).error("not_found")
    api.call("DELETE", path, key=None, headers={**TUS, **citizen}, expect=404)
    assert head(api, path).headers["Upload-Offset"] == "0"
    # A citizen's own upload works with their token, and is hidden from the API key.
    mine, _ = create(api, 3, key=None, headers=citizen, type="document")
    patch(api, mine, 0, b"abc", key=None, headers=citizen)
    head(api, mine, expect=404)
    assert head(api, mine, key=None, headers=citizen).headers["Upload-Offset"] == "3"
    head(api, "/v1/uploads/upl_aaaaaaaaaaaaaaaaaaaaaaaa", expect=404)
    head(api, "/v1/uploads/..%2Fsandbox.db", expect=404)


def test_a_stranger_is_answered_before_sending_a_chunk(sandbox):
    """Bodies may be large (a PATCH streams up to 2 GiB): the body of a PATCH or POST without valid credentials is never
    read. The 401 arrives while the declared 8 MiB have not been sent, and the connection closes."""
    for method, target in (("PATCH", "/v1/uploads/upl_aaaaaaaaaaaaaaaaaaaaaaaa"), ("POST", "/v1/uploads")):
        with raw_http.connect(sandbox.url) as s:
            s.sendall(raw_http.request_head(sandbox.url, method, target, {
                **TUS, "Upload-Offset": 0, "Upload-Length": 8 * MiB, "Upload-Metadata": meta(type="video"),
                "Content-Type": OCTET, "X-Api-Key": "not-a-key", "Content-Length": 8 * MiB}))
            s.sendall(b"x" * 1024)  # a first kilobyte of the 8 MiB, then nothing
            head_, _ = raw_http.read_head(s)  # a server reading the body first would time this out
            assert head_.startswith(b"HTTP/1.1 401 "), head_
            assert b"connection: close" in head_.lower() and b"tus-resumable: 1.0.0" in head_.lower()


def test_termination(api, sandbox):
    path, _ = create(api, 10)
    patch(api, path, 0, b"abc")
    r = api.call("DELETE", path, headers=TUS, expect=204)
    assert r.headers["Tus-Resumable"] == "1.0.0"
    head(api, path, expect=404)
    patch(api, path, 3, b"abc", expect=404)
    api.call("DELETE", path, headers=TUS, expect=404)
    assert not (Path(sandbox.data_dir) / "uploads" / (path.rsplit("/", 1)[1] + ".bin")).exists()
    r = api.call("GET", path, headers=TUS, expect=405)
    assert set(r.headers["Allow"].split(", ")) == {"HEAD", "PATCH", "DELETE", "OPTIONS"}


def test_expired_uploads_are_gone(spec, start_sandbox):
    sb = start_sandbox(args=("--upload-ttl-seconds", "2"))
    api = Api(spec, sb.url, api_key=sb.api_key)
    try:
        path, r = create(api, 10)
        left = parsedate_to_datetime(r.headers["Upload-Expires"]).timestamp() - time.time()
        assert -1 < left <= 2.5, left
        patch(api, path, 0, b"abc")
        done, _ = create(api, 3)
        patch(api, done, 0, b"abc")  # a finished upload does not expire
        time.sleep(3.2)
        head(api, path, expect=410)
        patch(api, path, 3, b"def", expect=410).error("gone")
        assert head(api, done).headers["Upload-Offset"] == "3"
    finally:
        api.close()


def test_resumes_after_a_restart(spec, start_sandbox, tmp_path):
    data = padded(mp4(), 200_000)
    sb = start_sandbox(str(tmp_path / "d"))
    api = Api(spec, sb.url, api_key=sb.api_key)
    path, _ = create(api, len(data), type="video")
    patch(api, path, 0, data[:70_000])
    api.close()
    sb.stop()
    sb2 = start_sandbox(str(tmp_path / "d"))
    api = Api(spec, sb2.url, api_key=sb2.api_key)
    try:
        assert head(api, path).headers["Upload-Offset"] == "70000"
        patch(api, path, 70_000, data[70_000:])
        assert head(api, path).headers["Upload-Offset"] == str(len(data))
        assert stored(sb2.data_dir, path) == data
    finally:
        api.close()


def test_tuspy_uploads_in_chunks(api, sandbox, tmp_path):
    tusclient = pytest.importorskip("tusclient.client", reason="pip install tuspy (scripts/bootstrap.sh)")
    data = padded(mp4(), 5 * MiB + 12345)
    f = tmp_path / "phóng sự.mp4"
    f.write_bytes(data)
    client = tusclient.TusClient(sandbox.url + "/v1/uploads", headers={"X-Api-Key": api.api_key})
    up = client.uploader(str(f), chunk_size=MiB, metadata={"type": "video", "filename": f.name},
                         upload_checksum=True)
    chunks = 0
    while up.offset < len(data):
        up.upload_chunk()
        chunks += 1
    assert chunks == 6
    assert re.fullmatch(re.escape(sandbox.url) + r"/v1/uploads/upl_[a-z2-7]{24}", up.url)
    path = up.url[len(sandbox.url):]
    assert head(api, path).headers["Upload-Offset"] == str(len(data))
    assert hashlib.sha256(stored(sandbox.data_dir, path)).hexdigest() == hashlib.sha256(data).hexdigest()
    # tuspy resumes from the server's offset: a fresh uploader on the same URL finds it done.
    again = client.uploader(str(f), url=up.url, chunk_size=MiB)
    assert again.get_offset() == len(data)


def test_tuspy_uploads_in_one_large_chunk(api, sandbox, tmp_path):
    """tuspy with a chunk larger than the file: one PATCH of 24 MiB (it was 8 MiB at most)."""
    tusclient = pytest.importorskip("tusclient.client", reason="pip install tuspy (scripts/bootstrap.sh)")
    data = video(24 * MiB + 7)
    f = tmp_path / "video.mp4"
    f.write_bytes(data)
    client = tusclient.TusClient(sandbox.url + "/v1/uploads", headers={"X-Api-Key": api.api_key})
    up = client.uploader(str(f), chunk_size=64 * MiB, metadata={"type": "video", "filename": f.name},
                         upload_checksum=True)
    up.upload_chunk()
    assert up.offset == len(data)
    path = up.url[len(sandbox.url):]
    assert head(api, path).headers["Upload-Offset"] == str(len(data))
    assert stored(sandbox.data_dir, path) == data


def create_deferred(api: Api, *, body: bytes | None = None, expect: int | None = 201, headers=None, **pairs):
    h = {**TUS, "Upload-Defer-Length": "1", "Upload-Metadata": meta(**(pairs or {"type": "document"})),
         **(headers or {})}
    r = api.call("POST", "/v1/uploads", headers=h, raw=body, content_type=OCTET if body else None, expect=expect)
    path = r.headers.get("Location", "")
    return (path[path.index("/v1/uploads/"):] if path else ""), r


def test_defer_length_creation_needs_exactly_upload_defer_length_1(api):
    for v in ("0", "2", "true"):
        create_deferred(api, headers={"Upload-Defer-Length": v}, expect=400)[1].error("validation_error")
    create_deferred(api, headers={"Upload-Length": "10"}, expect=400)  # both
    api.call("POST", "/v1/uploads", headers={**TUS, "Upload-Metadata": meta(type="document")},
             expect=400).error("validation_error")  # neither


def test_defer_length_upload_declares_its_length_with_the_last_chunk(api, sandbox):
    data = padded(jpeg(), 200_000)
    path, r = create_deferred(api, type="photo", filename="ảnh đê.jpg")
    assert r.headers["Upload-Offset"] == "0" and "Upload-Expires" in r.headers
    h = head(api, path)
    assert h.headers["Upload-Defer-Length"] == "1" and "Upload-Length" not in h.headers
    patch(api, path, 0, data[:120_000])
    h = head(api, path)
    assert (h.headers["Upload-Offset"], h.headers["Upload-Defer-Length"]) == ("120000", "1")
    # Below the offset 400, over the photo limit 413: the length stays deferred.
    patch(api, path, 120_000, data[120_000:], headers={"Upload-Length": "119999"}, expect=400)
    patch(api, path, 120_000, data[120_000:], headers={"Upload-Length": str(25 * MiB + 1)},
          expect=413).error("payload_too_large")
    assert head(api, path).headers["Upload-Defer-Length"] == "1"
    r = patch(api, path, 120_000, data[120_000:], headers={"Upload-Length": str(len(data))})
    assert r.headers["Upload-Offset"] == str(len(data)) and "Upload-Expires" not in r.headers
    media_id = r.headers["Hues-Media-Id"]
    h = head(api, path)
    assert h.headers["Upload-Length"] == str(len(data)) and "Upload-Defer-Length" not in h.headers
    assert h.headers["Hues-Media-Id"] == media_id
    m = api.call("GET", f"/v1/media/{media_id}").body
    assert m["content_type"] == "image/jpeg" and m["size"] == len(data)
    assert m["sha256"] == hashlib.sha256(data).hexdigest()
    assert stored(sandbox.data_dir, path) == data
    # Once set the length cannot change; the same value is no change.
    patch(api, path, len(data), b"", headers={"Upload-Length": str(len(data) + 1)},
          expect=400).error("validation_error")
    patch(api, path, len(data), b"", headers={"Upload-Length": str(len(data))})


def test_defer_length_on_an_empty_patch_after_every_byte(api, sandbox):
    data = padded(wav(300), 50_000)
    path, r = create_deferred(api, type="audio", body=data[:10_000])
    assert r.headers["Upload-Offset"] == "10000"
    r = patch(api, path, 10_000, data[10_000:], headers={"Upload-Checksum": digest("sha256", data[10_000:])})
    assert "Hues-Media-Id" not in r.headers  # every byte, but the length is still unknown
    r = patch(api, path, len(data), b"", headers={"Upload-Length": str(len(data))})
    assert r.headers["Upload-Offset"] == str(len(data))
    m = api.call("GET", f"/v1/media/{r.headers['Hues-Media-Id']}").body
    assert m["content_type"] == "audio/wav" and m["duration_ms"] == 300
    assert m["sha256"] == hashlib.sha256(data).hexdigest()


def test_defer_length_a_chunk_that_does_not_count_leaves_it_deferred(api):
    data = padded(mp4(), 40_000)
    path, _ = create_deferred(api, type="video")
    patch(api, path, 0, data, headers={"Upload-Length": str(len(data)), "Upload-Checksum": digest("sha1", b"x")},
          expect=460)
    patch(api, path, 0, padded(jpeg(), 40_000), headers={"Upload-Length": "40000"}, expect=415)
    h = head(api, path)
    assert (h.headers["Upload-Offset"], h.headers["Upload-Defer-Length"]) == ("0", "1")
    patch(api, path, 0, data, headers={"Upload-Length": str(len(data))})


def test_defer_length_the_type_limit_bounds_the_bytes(api, sandbox):
    """While the length is unknown, the photo limit (25 MiB) is what a PATCH may not pass."""
    data = padded(jpeg(), 25 * MiB - 10)
    path, _ = create_deferred(api, type="photo")
    patch(api, path, 0, data)
    patch(api, path, len(data), b"x" * 11, expect=413).error("payload_too_large")  # Content-Length
    r = requests.patch(api.base + path, data=iter([b"y" * 6, b"z" * 6]), timeout=30, headers={
        **TUS, "X-Api-Key": api.api_key, "Content-Type": OCTET, "Upload-Offset": str(len(data))})
    assert r.status_code == 413, r.text  # chunked, found once it goes past: none of it kept
    h = head(api, path)
    assert (h.headers["Upload-Offset"], h.headers["Upload-Defer-Length"]) == (str(len(data)), "1")
    r = patch(api, path, len(data), b"w" * 10, headers={"Upload-Length": str(25 * MiB)})
    assert r.headers["Upload-Offset"] == str(25 * MiB) and "Hues-Media-Id" in r.headers
    assert hashlib.sha256(stored(sandbox.data_dir, path)).digest() == hashlib.sha256(data + b"w" * 10).digest()


def test_defer_length_upload_survives_a_restart(spec, start_sandbox, tmp_path):
    data = padded(jpeg(), 30_000)
    sb = start_sandbox(str(tmp_path / "d"))
    api = Api(spec, sb.url, api_key=sb.api_key)
    path, _ = create_deferred(api, type="photo", body=data[:5_000])
    api.close()
    sb.stop()
    sb2 = start_sandbox(str(tmp_path / "d"))
    api = Api(spec, sb2.url, api_key=sb2.api_key)
    try:
        h = head(api, path)
        assert (h.headers["Upload-Offset"], h.headers["Upload-Defer-Length"]) == ("5000", "1")
        r = patch(api, path, 5_000, data[5_000:], headers={"Upload-Length": str(len(data))})
        assert "Hues-Media-Id" in r.headers
        assert stored(sb2.data_dir, path) == data
    finally:
        api.close()
