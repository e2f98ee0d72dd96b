"""The logging hook: Python loggers receive the SDK's lines, which never hold the key."""
import logging
import sys
import threading

import pytest

import hues

pytestmark = pytest.mark.timeout(60)


class Collect(hues.Logger):
    def __init__(self):
        super().__init__()
        self.lines = []
        self.threads = set()

    def log(self, level, message):
        self.lines.append((level, message))
        self.threads.add(threading.get_ident())


def test_python_logger_receives_lines_without_the_api_key(sandbox, category):
    sink = Collect()
    with sandbox.client(logger=sink, log_level=hues.LogLevel.DEBUG) as c:
        c.reports.categories()
        c.reports.create(category=category, description="Mất điện ở An Cựu",
                         location=hues.Location(lat=16.455, lon=107.598))
    wrong = "hk_test_wrong_key_for_logs"
    with sandbox.client(api_key=wrong, logger=sink, log_level=hues.LogLevel.DEBUG) as c:
        with pytest.raises(hues.AuthenticationError):
            c.reports.categories()
    assert sink.lines, "the logger received nothing"
    assert all(isinstance(level, hues.LogLevel) and isinstance(m, str) for level, m in sink.lines)
    for _, message in sink.lines:
        assert sandbox.api_key not in message and wrong not in message
    # Host callbacks run on an SDK thread, not the caller's.
    assert threading.get_ident() not in sink.threads


def test_async_calls_log_through_a_python_logger(sandbox):
    import asyncio
    sink = Collect()

    async def main():
        async with sandbox.async_client(logger=sink, log_level=hues.LogLevel.DEBUG) as ac:
            await asyncio.gather(*(ac.reports.categories() for _ in range(20)))

    asyncio.run(main())
    assert sink.lines and all(sandbox.api_key not in m for _, m in sink.lines)


def test_logger_lives_as_long_as_the_client_needs_it(sandbox):
    sink = Collect()
    c = sandbox.client(logger=sink, log_level=hues.LogLevel.DEBUG)
    lines = sink.lines
    del sink  # the client keeps the Python object (and its state) alive
    c.reports.categories()
    assert lines


def test_standard_logging_logger_and_callables(sandbox, caplog):
    log = logging.getLogger("hues-test")
    with caplog.at_level(logging.DEBUG, logger="hues-test"):
        sandbox.client(logger=log).reports.categories()
    assert any(r.name == "hues-test" for r in caplog.records)
    assert all(sandbox.api_key not in r.getMessage() for r in caplog.records)

    seen = []
    sandbox.client(logger=lambda level, msg: seen.append(msg),
                   log_level=hues.LogLevel.DEBUG).reports.categories()
    assert seen and all(sandbox.api_key not in m for m in seen)


def test_logger_objects_that_raise_do_not_fail_the_call(sandbox):
    class Broken(hues.Logger):
        def log(self, level, message):
            raise RuntimeError("logger broke")

    assert sandbox.client(logger=Broken(), log_level=hues.LogLevel.DEBUG).reports.categories()


def test_an_object_that_is_not_a_logger_is_refused(sandbox):
    with pytest.raises(TypeError, match="logger"):
        sandbox.client(logger=42)


def test_a_failing_logger_does_not_fail_the_call(sandbox, monkeypatch):
    def boom(level, msg):
        raise RuntimeError("logger broke")

    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    cats = sandbox.client(logger=boom, log_level=hues.LogLevel.DEBUG).reports.categories()
    assert cats
    assert reported and isinstance(reported[0].exc_value, RuntimeError)
