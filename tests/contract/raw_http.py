"""HTTP/1.1 on a bare socket, for the tests that need what a client library hides: a body cut
off mid-way, a reader that stalls, the framing of a chunked body, the bytes after a response."""

from __future__ import annotations

import socket
import ssl
from urllib.parse import urlsplit


def connect(base: str, *, timeout: float = 10, rcvbuf: int | None = None, ca: str | None = None) -> socket.socket:
    """A socket to base's host and port; rcvbuf: a small receive buffer (no autotuning), so that
    not reading stops the server's writes soon; ca: TLS, verified against it (a truncated close
    raises instead of reading as the end)."""
    u = urlsplit(base)
    s = socket.socket(socket.AF_INET6 if ":" in (u.hostname or "") else socket.AF_INET)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((u.hostname, u.port))
    if ca:
        s = ssl.create_default_context(cafile=ca).wrap_socket(s, server_hostname=u.hostname, suppress_ragged_eofs=False)
    return s


def request_head(base: str, method: str, target: str, headers: dict) -> bytes:
    """A request's line and header section (its body, if any, to follow)."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {urlsplit(base).netloc}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_head(s: socket.socket) -> tuple[bytes, bytes]:
    """The response's status line and header section, and what came after them."""
    got = b""
    while b"\r\n\r\n" not in got:
        piece = s.recv(65536)
        assert piece, got
        got += piece
    head, _, rest = got.partition(b"\r\n\r\n")
    return head, rest


def chunks_to_the_end(s: socket.socket, body: bytes = b"") -> list[bytes]:
    """The chunks of a chunked body (the last one b""), read until the server closes; body: what
    of it came with the head (read_head)."""
    while piece := s.recv(65536):
        body += piece
    chunks = []
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        chunks.append(body[:size])
        assert body[size:size + 2] == b"\r\n", body[:size + 2]
        body = body[size + 2:]
    return chunks
