"""Small real files for upload tests: each starts with its format's true header (and the
images decode), so the sandbox's sniffing and probing see what a phone would send."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

GPS_IFD = 0x8825
HUE = {1: "N", 2: (16.0, 28.0, 12.5), 3: "E", 4: (107.0, 35.0, 20.0)}  # Đông Ba market


def jpeg(width: int = 40, height: int = 30, *, gps: bool = False, xmp: bool = False) -> bytes:
    """A JPEG from Pillow, with an Exif GPS IFD (and an XMP packet) when asked."""
    exif = Image.Exif()
    exif[0x010F] = "Hue-S test camera"
    if gps:
        exif.get_ifd(GPS_IFD).update(HUE)
    out = io.BytesIO()
    extra = {"xmp": b'<x:xmpmeta xmlns:x="adobe:ns:meta/">exif:GPSLatitude 16,28N</x:xmpmeta>'} if xmp else {}
    Image.new("RGB", (width, height), (180, 40, 40)).save(out, "JPEG", exif=exif, **extra)
    return out.getvalue()


def png(width: int = 5, height: int = 4, *, exif_chunk: bytes = b"", xmp: str = "") -> bytes:
    """A PNG written chunk by chunk (grey pixels), optionally with an eXIf chunk and XMP iTXt."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\0" + b"\x80" * width for _ in range(height))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    if exif_chunk:
        out += chunk(b"eXIf", exif_chunk)
    if xmp:
        out += chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + xmp.encode())
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def webp(width: int = 12, height: int = 8, *, gps: bool = False) -> bytes:
    exif = Image.Exif()
    if gps:
        exif.get_ifd(GPS_IFD).update(HUE)
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, "WEBP", exif=exif.tobytes() if gps else b"")
    return out.getvalue()


def gps_of(data: bytes) -> dict:
    """The GPS IFD Pillow reads from an image ({} when there is none)."""
    return dict(Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD))


def pdf(text: str = "Biên bản vi phạm") -> bytes:
    body = text.encode()
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Type /Catalog>> endobj\n% " + body + b"\n%%EOF\n"


def wav(ms: int = 1500, rate: int = 8000) -> bytes:
    """PCM mono 16-bit: ms milliseconds of silence."""
    data = b"\0\0" * (rate * ms // 1000)
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return (b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE" + b"fmt " +
            struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data)


def mp4(ms: int = 2500, *, brand: bytes = b"isom", mdat: int = 1000) -> bytes:
    """ftyp, a mdat of mdat bytes, then moov with its mvhd (timescale 1000): moov last, as
    many cameras write it."""
    def box(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", 8 + len(data)) + kind + data
    mvhd = box(b"mvhd", b"\0\0\0\0" + struct.pack(">IIII", 0, 0, 1000, ms) + b"\0" * 80)
    return box(b"ftyp", brand + b"\0\0\0\0" + brand + b"mp41") + box(b"mdat", b"\x11" * mdat) + box(b"moov", mvhd)


def elf() -> bytes:
    return b"\x7fELF\x02\x01\x01\0" + b"\0" * 56


def padded(head: bytes, size: int) -> bytes:
    """head followed by filler up to size bytes (for uploads of a given length)."""
    return head + bytes((i * 7) & 0xFF for i in range(max(0, size - len(head))))


def upload(api, data: bytes, media_type: str = "photo", *, key="default", headers=None, expect: int = 201,
           **meta_pairs: str):
    """One creation-with-upload POST of data (tus); the media object's id (Hues-Media-Id) when
    expect is 201, else the response."""
    import base64
    pairs = {"type": media_type, **meta_pairs}
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())
    r = api.call("POST", "/v1/uploads", raw=data, content_type="application/offset+octet-stream", key=key,
                 headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)), "Upload-Metadata": meta,
                          **(headers or {})}, expect=expect)
    return r.headers["Hues-Media-Id"] if expect == 201 else r
