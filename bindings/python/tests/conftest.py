import socket
import threading

import pytest

import hues
import hues.testing

# The text every round-trip test sends: Vietnamese with stacked diacritics, in NFC.
VI_DESCRIPTION = "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo"
VI_ADDRESS = "Chợ Đông Ba, 2 Trần Hưng Đạo, phường Đông Ba"
DONG_BA = dict(lat=16.4726, lon=107.5885)


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
    by their deadline (or cancellation). Yields (url, accepted) where accepted is an Event set
    once a client has connected."""
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
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    try:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
    except OSError:
        pass
    listener.close()
    for c in conns:
        c.close()
