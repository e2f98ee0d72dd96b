"""Media objects: the magic-number check of tus uploads, the media object a finished upload
becomes (GET /v1/media/{id}), attaching media to reports, comments and steps, location
removal for anonymous reports, and the download with Range and ETag, checked with our own
client (responses against docs/openapi.yaml) and with third-party ones (requests' plain
Range header, urllib3, curl -r)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest
import requests
import urllib3

import media_files as mf
from lifecycle import report_in, step
from test_uploads import create, head, patch

OCTET = "application/offset+octet-stream"


@pytest.mark.parametrize("kind,data,content_type", [
    ("photo", mf.jpeg(), "image/jpeg"), ("photo", mf.png(), "image/png"), ("photo", mf.webp(), "image/webp"),
    ("photo", mf.padded(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", 200), "image/heic"),
    ("audio", mf.wav(), "audio/wav"), ("audio", mf.padded(b"ID3\x04\0\0\0\0\0\0", 200), "audio/mpeg"),
    ("audio", mf.padded(b"\xff\xfb\x90\x64", 200), "audio/mpeg"), ("audio", mf.padded(b"\xff\xf1\x50\x80", 200), "audio/aac"),
    ("audio", mf.padded(b"OggS\0\x02", 200), "audio/ogg"), ("audio", mf.padded(b"#!AMR\n", 200), "audio/amr"),
    ("audio", mf.mp4(brand=b"M4A "), "audio/mp4"),
    ("video", mf.mp4(), "video/mp4"), ("video", mf.mp4(brand=b"qt  "), "video/quicktime"),
    ("video", mf.mp4(brand=b"3gp5"), "video/3gpp"),
    ("video", mf.padded(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", 200), "video/webm"),
    ("document", mf.pdf(), "application/pdf"),
    ("document", "Biên bản: đường Lê Lợi ngập sâu 40 cm.\n".encode() * 3, "text/plain; charset=utf-8"),
    ("document", mf.padded(b"PK\x03\x04\x14\0\0\0\x08\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x13\0\0\0[Content_Types].xml", 300),
     "application/zip"),
])
def test_each_type_is_recognised(api, kind, data, content_type):
    mid = mf.upload(api, data, kind)
    got = api.call("GET", f"/v1/media/{mid}", expect=200)
    assert (got.body["type"], got.body["content_type"], got.body["size"]) == (kind, content_type, len(data))
    assert got.body["sha256"] == hashlib.sha256(data).hexdigest()
    assert got.headers["ETag"] == f'"{got.body["sha256"]}"'


@pytest.mark.parametrize("kind,data", [
    ("photo", mf.pdf()), ("photo", mf.wav()), ("audio", mf.jpeg()), ("video", mf.wav()), ("video", mf.jpeg()),
    ("document", mf.jpeg()), ("document", b"plain text with a NUL \0 inside" * 3),
    ("document", b"\xff\xfe not UTF-8" * 10),
    # Executables are refused whatever the type.
    ("photo", mf.elf()), ("document", mf.padded(b"MZ\x90\0", 200)), ("video", mf.padded(b"\xcf\xfa\xed\xfe", 200)),
    ("document", b"#!/bin/sh\necho hi\n" * 5), ("audio", b"#! /usr/bin/env python3\n" * 5),
])
def test_other_content_is_refused_by_name(api, kind, data):
    r = mf.upload(api, data, kind, expect=415)
    r.error("media_type_mismatch", "type")
    assert "Location" not in r.headers


def test_the_head_is_checked_on_the_chunk_that_brings_it(api):
    photo = mf.padded(mf.jpeg(), 20_000)
    path, _ = create(api, len(photo), filetype="image/jpeg")
    # A renamed executable: refused as soon as its first bytes arrive, naming filetype.
    patch(api, path, 0, mf.elf(), expect=415).error("media_type_mismatch", "filetype")
    assert head(api, path).headers["Upload-Offset"] == "0"
    patch(api, path, 0, photo[:2])  # too few bytes to decide: kept
    bad = b"\0" + photo[3:5000]  # FF D8 00: not a JPEG after all
    patch(api, path, 2, bad, expect=415)  # the chunk that makes the head a non-photo
    assert head(api, path).headers["Upload-Offset"] == "2"
    r = patch(api, path, 2, photo[2:10_000])
    assert "Hues-Media-Id" not in r.headers and "Hues-Media-Id" not in head(api, path).headers
    r = patch(api, path, 10_000, photo[10_000:])
    mid = r.headers["Hues-Media-Id"]
    assert head(api, path).headers["Hues-Media-Id"] == mid  # a lost answer is found with HEAD
    assert api.call("GET", f"/v1/media/{mid}", expect=200).body["content_url"] == f"/v1/media/{mid}/content"


def test_sizes_and_durations(api):
    cases = [(mf.jpeg(123, 45), "photo", {"width": 123, "height": 45}),
             (mf.png(7, 9), "photo", {"width": 7, "height": 9}),
             (mf.webp(33, 21), "photo", {"width": 33, "height": 21}),
             (mf.wav(2750), "audio", {"duration_ms": 2750}),
             (mf.mp4(61_250), "video", {"duration_ms": 61_250}),
             (mf.pdf(), "document", {})]
    for data, kind, want in cases:
        body = api.call("GET", f"/v1/media/{mf.upload(api, data, kind)}", expect=200).body
        assert {k: body[k] for k in ("width", "height", "duration_ms") if k in body} == want, (kind, body)


def test_visibility_and_attachments(api, people, new_report):
    citizen, other = people.headers("citizen"), people.headers("other_citizen")
    photo = mf.upload(api, mf.jpeg(), key=None, headers=citizen)
    theirs = mf.upload(api, mf.jpeg(), key=None, headers=other)
    # Unattached: the uploader's alone; the owner is shown to the uploader only.
    assert api.call("GET", f"/v1/media/{photo}", key=None, headers=citizen, expect=200).body["owner"].startswith("sub:")
    api.call("GET", f"/v1/media/{photo}", key=None, headers=other, expect=404).error("not_found")
    api.call("GET", f"/v1/media/{photo}/content", key=None, headers=other, expect=404)
    api.call("GET", "/v1/media/m_aaaaaaaaaaaaaaaaaaaaaaaa", expect=404)
    # On create: ids must be finished media of the caller's; else 400 by name, nothing stored.
    before = api.call("GET", "/v1/reports", key=None, headers=citizen, params={"limit": 1}).body["items"]
    for bad, field in (([photo, theirs], "media[1]"), (["m_aaaaaaaaaaaaaaaaaaaaaaaa"], "media[0]")):
        api.call("POST", "/v1/reports", json_body=new_report(media=bad, visibility="private"), key=None,
                 headers=citizen, expect=400).error("validation_error", field)
    assert api.call("GET", "/v1/reports", key=None, headers=citizen, params={"limit": 1}).body["items"] == before
    r = api.call("POST", "/v1/reports", json_body=new_report(media=[photo], visibility="private"), key=None,
                 headers=citizen, expect=201).body
    assert r["media"] == [photo]
    # A private report's photo: its reporter, the IOC and the assigned agency read it; strangers do not.
    assert api.call("GET", f"/v1/media/{photo}", key=None, headers=people.headers("ioc"), expect=200).body.get("owner") is None
    api.call("GET", f"/v1/media/{photo}", key=None, headers=other, expect=404)
    api.call("GET", f"/v1/media/{photo}", expect=404)  # an API key sees public reports only


def test_comment_and_response_attachments(api, people):
    rid, etag = report_in(api, people, "in_progress", anonymous=False)
    staff, citizen = people.headers("staff"), people.headers("citizen")
    record = mf.upload(api, mf.pdf("Biên bản 7/BB"), "document", key=None, headers=staff)
    clip = mf.upload(api, mf.mp4(), "video", key=None, headers=citizen)
    # The staff member's record is not the citizen's to attach.
    api.call("POST", f"/v1/reports/{rid}/comments", json_body={"text": "Video", "attachments": [record]}, key=None,
             headers=citizen, expect=400).error("validation_error", "attachments[0]")
    c = api.call("POST", f"/v1/reports/{rid}/comments", json_body={"text": "Video", "attachments": [clip]}, key=None,
                 headers=citizen, expect=201).body
    assert c["attachments"] == [clip]
    api.call("GET", f"/v1/media/{clip}", key=None, headers=staff, expect=200)
    step(api, people, "staff", rid, "respond", {"answer": "Đã xử lý", "attachments": [clip]}, etag,
         expect=400).error("validation_error", "attachments[0]")
    res = step(api, people, "staff", rid, "respond", {"answer": "Đã xử lý", "attachments": [record]}, etag)
    assert res.body["status"] == "responded"
    assert api.call("GET", f"/v1/media/{record}/content", key=None, headers=citizen, expect=200).resp.content == \
        mf.pdf("Biên bản 7/BB")
    api.call("GET", f"/v1/media/{record}", key=None, headers=people.headers("other_staff"), expect=200)  # public report


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp"])
def test_anonymous_reports_lose_the_photo_location(api, people, new_report, kind):
    citizen = people.headers("citizen")
    data = {"jpeg": lambda: mf.jpeg(gps=True, xmp=True),
            "png": lambda: mf.png(exif_chunk=b"MM\0*\0\0\0\x08\0\0", xmp="<x:xmpmeta>16.47N</x:xmpmeta>"),
            "webp": lambda: mf.webp(gps=True)}[kind]()
    if kind != "png":
        assert mf.gps_of(data)[2] == mf.HUE[2]  # the test file does carry a GPS latitude
    named = mf.upload(api, data, key=None, headers=citizen)
    anon = mf.upload(api, data, key=None, headers=citizen)
    api.call("POST", "/v1/reports", json_body=new_report(media=[named]), key=None, headers=citizen, expect=201)
    api.call("POST", "/v1/reports", json_body=new_report(media=[anon], anonymous=True), key=None, headers=citizen,
             expect=201)
    kept = api.call("GET", f"/v1/media/{named}/content", key=None, headers=citizen, expect=200).resp.content
    assert kept == data  # a named report's photo stays as sent
    got = api.call("GET", f"/v1/media/{anon}", key=None, headers=citizen, expect=200)
    stripped = api.call("GET", f"/v1/media/{anon}/content", key=None, headers=citizen, expect=200)
    raw = stripped.resp.content
    assert got.body["location_removed"] is True and got.body["size"] == len(raw) < len(data)
    assert got.body["sha256"] == hashlib.sha256(raw).hexdigest() and stripped.headers["ETag"] == got.headers["ETag"]
    assert mf.gps_of(raw) == {} and b"xmpmeta" not in raw and b"eXIf" not in raw and b"Exif\0\0" not in raw
    from PIL import Image
    import io
    assert Image.open(io.BytesIO(raw)).size == Image.open(io.BytesIO(data)).size  # still the same picture


def test_download_ranges_and_validators(api):
    data = mf.padded(mf.jpeg(), 10_000)
    mid = mf.upload(api, data)
    url = f"/v1/media/{mid}/content"
    full = api.call("GET", url, expect=200)
    etag = full.headers["ETag"]
    assert full.resp.content == data and full.headers["Accept-Ranges"] == "bytes"
    assert full.headers["Content-Type"] == "image/jpeg" and etag == f'"{hashlib.sha256(data).hexdigest()}"'
    r = api.call("GET", url, headers={"Range": "bytes=100-199"}, expect=206)
    assert r.resp.content == data[100:200] and r.headers["Content-Range"] == "bytes 100-199/10000"
    assert api.call("GET", url, headers={"Range": "bytes=-10"}, expect=206).resp.content == data[-10:]
    assert api.call("GET", url, headers={"Range": "bytes=9990-"}, expect=206).resp.content == data[9990:]
    assert api.call("GET", url, headers={"Range": "bytes=9990-20000"}, expect=206).headers["Content-Range"] == \
        "bytes 9990-9999/10000"
    bad = api.call("GET", url, headers={"Range": "bytes=10000-"}, expect=416)
    assert bad.headers["Content-Range"] == "bytes */10000"
    bad.error("range_not_satisfiable")
    assert api.call("GET", url, headers={"Range": "bytes=0-1,5-6"}, expect=200).resp.content == data  # several: whole
    assert api.call("GET", url, headers={"Range": "lines=1-2"}, expect=200).resp.content == data  # another unit
    api.call("GET", url, headers={"If-None-Match": etag}, expect=304)
    api.call("GET", url, headers={"If-None-Match": f'"x", W/{etag}'}, expect=304)
    assert api.call("GET", url, headers={"If-None-Match": '"other"'}, expect=200).resp.content == data
    assert api.call("GET", url, headers={"Range": "bytes=0-3", "If-Range": etag}, expect=206).resp.content == data[:4]
    assert api.call("GET", url, headers={"Range": "bytes=0-3", "If-Range": '"stale"'}, expect=200).resp.content == data


def test_third_party_clients_read_ranges(api):
    data = mf.padded(mf.pdf(), 50_000)
    mid = mf.upload(api, data, "document")
    url = f"{api.base}/v1/media/{mid}/content"
    key = {"X-Api-Key": api.api_key}
    # requests with a plain Range header
    r = requests.get(url, headers={**key, "Range": "bytes=1000-1999"}, timeout=10)
    assert r.status_code == 206 and r.content == data[1000:2000]
    # urllib3, resuming a download from where it stopped
    http = urllib3.PoolManager()
    first = http.request("GET", url, headers={**key, "Range": "bytes=0-24999"}, timeout=10)
    rest = http.request("GET", url, headers={**key, "Range": "bytes=25000-", "If-Range": first.headers["ETag"]},
                        timeout=10)
    assert (first.status, rest.status) == (206, 206) and first.data + rest.data == data
    assert rest.headers["Content-Range"] == "bytes 25000-49999/50000"
    # curl -r
    curl = shutil.which("curl")
    if curl:
        out = subprocess.run([curl, "-s", "-f", "-r", "40000-40099", "-H", f"X-Api-Key: {api.api_key}", url],
                             capture_output=True, timeout=20, check=True).stdout
        assert out == data[40000:40100]
        full = subprocess.run([curl, "-s", "-f", "-H", f"X-Api-Key: {api.api_key}", url], capture_output=True,
                              timeout=20, check=True).stdout
        assert full == data
