"""A raw tus 1.0.0 upload (one creation-with-upload POST) over http.client, for tests that
need real media ids before the SDK's own upload client exists."""
import base64
import http.client
import ssl
import struct
from urllib.parse import urlsplit


def jpeg(width, height, size=2000):
    """A JPEG's markers up to its first scan (SOI, APP0, SOF0 of width x height), then filler."""
    out = b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    out += b"\xff\xc0" + struct.pack(">HBHH", 11, 8, height, width) + b"\x01\x01\x11\x00"
    out += b"\xff\xda" + struct.pack(">H", 8) + b"\x01\x01\x00\x00\x3f\x00"
    return out + bytes((i * 13) & 0xFF for i in range(size - len(out)))


def pdf(text="Biên bản vi phạm hành chính"):
    return b"%PDF-1.7\n% " + text.encode() + b"\n%%EOF\n"


def upload(sandbox, data, media_type="photo", *, access_token=None):
    """The media object's id (Hues-Media-Id); the caller is the API key or access_token's.
    A token is sent to the TLS listener: each listener is its own issuer, its tokens good only there."""
    if access_token:
        u = urlsplit(sandbox.tls_url)
        auth = {"Authorization": "Bearer " + access_token}
        conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=10,
                                           context=ssl.create_default_context(cafile=sandbox.ca_file))
    else:
        u = urlsplit(sandbox.url)
        auth = {"X-Api-Key": sandbox.api_key}
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request("POST", "/v1/uploads", body=data, headers={
            **auth, "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
            "Upload-Metadata": "type " + base64.b64encode(media_type.encode()).decode(),
            "Content-Type": "application/offset+octet-stream"})
        res = conn.getresponse()
        body = res.read()
        assert res.status == 201, (res.status, body)
        return res.getheader("Hues-Media-Id")
    finally:
        conn.close()
