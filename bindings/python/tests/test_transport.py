"""TLS, deadlines, the GIL, cancellation tokens and option checking."""
import threading
import time

import pytest

import hues

pytestmark = pytest.mark.timeout(60)


def test_tls_with_the_sandbox_ca_works(sandbox):
    assert sandbox.tls_url.startswith("https://")
    with sandbox.client(tls=True) as c:
        assert c.reports.categories()


def test_tls_without_the_ca_is_refused(sandbox):
    # The system store does not trust the sandbox's development CA: verification must fail.
    with hues.Client(base_url=sandbox.tls_url, api_key=sandbox.api_key, timeout=10) as c:
        with pytest.raises(hues.TlsError) as err:
            c.reports.categories()
    assert isinstance(err.value, hues.TransportError) and err.value.status == 0


def test_a_certificate_for_other_names_is_refused():
    # A CA the client trusts, but a certificate for other names: refused by host name and by
    # IP address alike (switching verification of either off would let these through).
    import hues.testing
    with hues.testing.Sandbox(tls_names=["reports.other-city.example", "10.9.8.7"]) as other:
        for url in (other.tls_url, f"https://127.0.0.1:{other.tls_port}"):
            with hues.Client(base_url=url, api_key=other.api_key, ca_file=other.ca_file, timeout=10) as c:
                with pytest.raises(hues.TlsError) as err:
                    c.reports.categories()
            assert err.value.code == "certificate_verify_failed" and "mismatch" in str(err.value), url
            assert not err.value.retryable


def test_gil_is_released_while_a_call_blocks(silent_server):
    url, accepted, _ = silent_server
    client = hues.Client(base_url=url, api_key="hk_test_x", timeout=2, retry=hues.RetryPolicy(max_attempts=1))
    outcome = {}

    def call():
        start = time.monotonic()
        try:
            client.reports.get("r1")
        except hues.Error as e:
            outcome["error"] = e
        outcome["elapsed"] = time.monotonic() - start

    worker = threading.Thread(target=call)
    worker.start()
    assert accepted.wait(5), "the client never connected"
    # This thread runs Python while the worker is inside the C++ call. Were the GIL held
    # there, we could only get here after the call had ended.
    spins = 0
    until = time.monotonic() + 0.3
    while time.monotonic() < until:
        spins += 1
    assert worker.is_alive(), "the call ended before this thread could run"
    assert spins > 1000
    worker.join(15)
    assert not worker.is_alive()
    e = outcome["error"]
    assert isinstance(e, hues.TimeoutError) and isinstance(e, TimeoutError)
    assert e.status == 0 and e.retryable
    assert 1.5 <= outcome["elapsed"] < 10


def test_per_call_timeout_overrides_the_client(silent_server):
    url, _, _ = silent_server
    client = hues.Client(base_url=url, api_key="hk_test_x", timeout=30, retry=hues.RetryPolicy(max_attempts=1))
    start = time.monotonic()
    with pytest.raises(hues.TimeoutError):
        client.reports.get("r1", timeout=0.5)
    with pytest.raises(hues.TimeoutError):
        client.reports.get("r1", options=hues.CallOptions(timeout=0.5))
    assert time.monotonic() - start < 10


def test_cancellation_token_ends_a_blocked_call(silent_server):
    url, accepted, _ = silent_server
    client = hues.Client(base_url=url, api_key="hk_test_x", timeout=30)
    token = hues.CancellationToken()
    threading.Thread(target=lambda: (accepted.wait(5), time.sleep(0.2), token.cancel())).start()
    start = time.monotonic()
    with pytest.raises(hues.CancelledError):
        client.reports.categories(cancel=token)
    assert time.monotonic() - start < 10 and token.cancelled


def test_a_token_cancelled_before_the_call_fails_it_at_once(sandbox):
    token = hues.CancellationToken()
    token.cancel()
    with sandbox.client() as c:
        start = time.monotonic()
        with pytest.raises(hues.CancelledError):
            c.reports.categories(cancel=token)
        pager = c.reports.list(limit=1, cancel=token)
        with pytest.raises(hues.CancelledError):
            next(pager)
        assert time.monotonic() - start < 5
        assert c.reports.categories()  # the client itself is fine


def test_connection_refused_is_a_connection_error():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    c = hues.Client(base_url=f"http://127.0.0.1:{port}", api_key="k", timeout=5, retry=hues.RetryPolicy(max_attempts=1))
    with pytest.raises(hues.ConnectionError) as err:
        c.reports.categories()
    assert isinstance(err.value, ConnectionError) and isinstance(err.value, hues.HuesConnectionError)


def test_bad_options_are_rejected_with_the_field():
    with pytest.raises(hues.ValidationError) as err:
        hues.Client(base_url="ftp://example.invalid", api_key="k")
    assert err.value.field == "base_url"
    with pytest.raises(hues.ValidationError) as err:
        hues.Client(base_url="http://127.0.0.1:1", timeout=-1)
    assert err.value.field == "timeout"
    with pytest.raises(hues.ValidationError) as err:
        hues.Client(base_url="http://127.0.0.1:1", max_connections_per_host=0)
    assert err.value.field == "max_connections_per_host"
    with pytest.raises(TypeError):
        hues.Client(base_url="http://127.0.0.1:1", timeout="5")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        hues.Client(base_url="http://127.0.0.1:1", no_such_option=1)  # type: ignore[call-arg]


def test_options_keywords_map_to_client_options():
    c = hues.Client(base_url="http://127.0.0.1:1", api_key="hk_secret_key_123", timeout=2.5,
                    connect_timeout=0.5, retry=hues.RetryPolicy(max_attempts=2), user_agent="pytest")
    o = c.options
    assert isinstance(o, hues.ClientOptions)
    assert (o.deadline_ms, o.connect_timeout_ms, o.retry and o.retry.max_attempts) == (2500, 500, 2)
    assert o.user_agent == "pytest" and o.api_key == "hk_secret_key_123"
    assert "hk_secret_key_123" not in repr(o) and "hk_secret_key_123" not in repr(c)
    assert hues.version()


def test_a_closed_client_refuses_calls(sandbox):
    c = sandbox.client()
    c.close()
    with pytest.raises(hues.Error):
        c.reports.categories()
