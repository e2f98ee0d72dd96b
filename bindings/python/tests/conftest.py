import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import hues
import hues.testing

# The text every round-trip test sends: Vietnamese with stacked diacritics, in NFC.
VI_DESCRIPTION = "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo"
VI_ADDRESS = "Chợ Đông Ba, 2 Trần Hưng Đạo, phường Đông Ba"
DONG_BA = dict(lat=16.4726, lon=107.5885)


def thread_count() -> int:
    """The process's threads, as the kernel counts them."""
    return len(os.listdir("/proc/self/task"))


@pytest.fixture(scope="session")
def sandbox():
    with hues.testing.Sandbox() as sb:
        yield sb


@pytest.fixture
def client(sandbox):
    with sandbox.client(timeout=20) as c:
        yield c


@pytest.fixture(scope="session")
def category(sandbox):
    return sandbox.client().reports.categories()[0].code


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers: calls to it can only end
    by their deadline (or cancellation). Yields (url, accepted, conns): accepted is an Event
    set once a client has connected, conns the accepted sockets."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = threading.Event()
    conns = []

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conns.append(conn)
            accepted.set()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted, conns
    try:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
    except OSError:
        pass
    listener.close()
    for c in conns:
        c.close()


@pytest.fixture
def newer_server():
    """A real HTTP server on loopback standing in for a newer Hue-S server: it answers with
    the JSON bodies the test gives it (values this SDK's spec does not know yet).
    Yields (url, routes): routes maps "GET /path" to a JSON-able body."""
    routes = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = routes.get(f"GET {self.path}")
            data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else b"{}"
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Request-Id", "req_newer_server")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", routes
    server.shutdown()
    server.server_close()
