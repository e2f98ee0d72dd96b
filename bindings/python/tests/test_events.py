"""client.events.stream (x-hues-stream, generated): the sandbox's Server-Sent Events as a
blocking iterator and an async iterator, decoded into hues.ReportEvent. Vietnamese notes
round-trip exactly, a saved id resumes with exactly the later events, a relay that cuts the
connection mid-stream several times loses and repeats nothing, close and task cancellation
end it at once, a wrong key ends with AuthenticationError."""

import asyncio
import random
import socket
import threading

import pytest

import hues
from test_lifecycle import etag, signer

pytestmark = pytest.mark.timeout(120)

FAST = dict(initial_backoff=0.01, max_backoff=0.04)  # below the sandbox's retry: 2000
NOTE = "Đã tiếp nhận — chuyển UBND phường Đông Ba xử lý trong ngày"


def new_report(client, category, text="Đèn đường hỏng trước chợ Đông Ba"):
    return client.reports.create(category=category, description=text,
                                 location=hues.Location(lat=16.4726, lon=107.5885, address="Chợ Đông Ba",
                                                        ward="Đông Ba"))


def until(stream, pred):
    """The events of stream up to and including the first that pred accepts."""
    out = []
    for e in stream:
        out.append(e)
        if pred(e):
            return out
    raise AssertionError("the stream ended first")


class CuttingRelay:
    """A TCP relay to the sandbox that cuts both sides (mid-event) after a random few kilobytes
    of the answer, `drops` times, then relays whole."""

    def __init__(self, port, drops):
        self.port, self.left, self.cut = port, drops, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.rng = random.Random(7)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                down, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(down,), daemon=True).start()

    def _pipe(self, down):
        up = socket.create_connection(("127.0.0.1", self.port))
        budget = self.rng.randint(300, 5000) if self.left > 0 else None
        if budget is not None:
            self.left -= 1

        def upward():
            try:
                while data := down.recv(65536):
                    up.sendall(data)
            except OSError:
                pass

        threading.Thread(target=upward, daemon=True).start()
        try:
            while data := up.recv(65536):
                if budget is not None and len(data) >= budget:
                    down.sendall(data[:budget])  # cut mid-event
                    self.cut += 1
                    break
                if budget is not None:
                    budget -= len(data)
                down.sendall(data)
        except OSError:
            pass
        for s in (down, up):  # shutdown wakes the other thread's recv (a close alone would not)
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.listener.close()


def test_events_arrive_decoded_with_vietnamese_notes_and_resume_after_a_saved_id(sandbox, client, category):
    ioc = signer(sandbox)("le.ioc")
    r = new_report(client, category)
    with client.events.stream(since="0", **FAST) as stream:
        created = until(stream, lambda e: e.report_id == r.id)[-1]
        assert created.type == hues.ReportEventType.REPORT_CREATED
        assert (created.status, created.category, created.version) == ("submitted", category, 1)
        ioc.reports.receive(r.id, etag(r), note=NOTE)  # a change while the stream is open
        received = until(stream, lambda e: e.report_id == r.id)[-1]
        assert received.type == hues.ReportEventType.REPORT_STATUS_CHANGED
        assert (received.status, received.note, received.version) == ("received", NOTE, 2)
        assert received.note.encode("utf-8") == NOTE.encode("utf-8")
        assert stream.last_event_id == received.id
    # Resuming after the creation gives exactly what followed it.
    with client.events.stream(last_event_id=created.id, **FAST) as again:
        first = next(again)
        assert first.id == received.id
        assert again.last_event_id == received.id


def test_async_for_with_drops_sees_every_event_once_in_order(sandbox, client, category):
    relay = CuttingRelay(sandbox.port, drops=5)

    async def main():
        async with hues.AsyncClient(base_url=relay.url, api_key=sandbox.api_key) as cut, \
                hues.AsyncClient(base_url=sandbox.url, api_key=sandbox.api_key) as direct:
            marker = new_report(client, category, "Mốc bắt đầu")
            writes = []

            def writer():
                for i in range(40):
                    writes.append(new_report(client, category, f"Sự cố số {i}").id)

            seen = []
            stream = cut.events.stream(since="0", **FAST)  # open (and cut) while the writer runs
            thread = threading.Thread(target=writer)
            thread.start()
            await asyncio.get_running_loop().run_in_executor(None, thread.join)
            last = new_report(client, category, "Mốc kết thúc")
            async for e in stream:
                seen.append(e.id)
                if e.report_id == last.id:
                    break
            await stream.aclose()
            whole = []
            async with direct.events.stream(since="0", **FAST) as unbroken:
                async for e in unbroken:
                    whole.append(e.id)
                    if e.report_id == last.id:
                        break
            assert marker.id and len(writes) == 40
            return seen, whole

    try:
        seen, whole = asyncio.run(asyncio.wait_for(main(), 90))
    finally:
        relay.close()
    assert relay.cut == 5
    assert len(seen) == len(set(seen))
    assert seen == whole


def test_cancelling_the_task_and_close_end_the_stream_at_once(sandbox, client, category):
    async def main():
        async with hues.AsyncClient(base_url=sandbox.url, api_key=sandbox.api_key) as ac:
            stream = ac.events.stream(**FAST)  # from now on: nothing comes unless a report changes

            async def consume():
                async for _ in stream:
                    pass

            task = asyncio.ensure_future(consume())
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.wait_for(stream.aclose(), 10)  # already ending: returns promptly
            with pytest.raises(StopAsyncIteration):
                await stream.__anext__()

    asyncio.run(main())
    stream = client.events.stream(**FAST)
    closer = threading.Timer(0.3, stream.close)  # from another thread, while next() waits
    closer.start()
    assert list(stream) == []
    closer.join()


def test_a_wrong_key_ends_with_authentication_error_and_a_bad_id_is_refused(sandbox, category):
    with hues.Client(base_url=sandbox.url, api_key="hk_test_wrong") as bad:
        with pytest.raises(hues.AuthenticationError) as e:
            next(bad.events.stream(**FAST))
        assert e.value.status == 401
    with hues.Client(base_url=sandbox.url, api_key=sandbox.api_key) as c:
        with pytest.raises(hues.ValidationError) as v:
            next(c.events.stream(last_event_id="not-a-number"))
        assert v.value.field == "Last-Event-ID"


def test_a_small_max_buffered_events_still_delivers_every_event_once_in_order(sandbox, category):
    """Backpressure across the C boundary (StreamOptions.max_buffered_events): with a bound of
    2 the subscription stops reading while the host has not taken its events, and still every
    event arrives exactly once, in order; a bound below 1 is a ValidationError naming it."""
    with hues.Client(base_url=sandbox.url, api_key=sandbox.api_key, timeout=20) as c:
        last = new_report(c, category, "Kiểm tra áp lực ngược").id
        fast = c.events.stream(since="0", **FAST)
        whole = [e.id for e in until(fast, lambda e: e.report_id == last)]
        fast.close()
        slow = c.events.stream(since="0", max_buffered_events=2, **FAST)
        bounded = [e.id for e in until(slow, lambda e: e.report_id == last)]
        slow.close()
        assert bounded == whole and len(set(bounded)) == len(bounded)
        with pytest.raises(hues.ValidationError) as v:
            next(c.events.stream(max_buffered_events=0))
        assert v.value.field == "stream.max_buffered_events"


def test_a_slow_app_holds_at_most_max_buffered_events_in_either_iterator(sandbox, category):
    """The iterators' own queues are bounded too: each event counts against max_buffered_events
    until the iterator gives it to the app (hues_call_ack), so an app that stops taking events
    while many more are due holds at most the bound here, and once it goes on it still gets
    every event once, in order."""
    bound = 3
    with hues.Client(base_url=sandbox.url, api_key=sandbox.api_key, timeout=20) as c:
        last = new_report(c, category, "Kiểm tra hàng đợi có giới hạn").id
        with c.events.stream(since="0", **FAST) as fast:
            whole = [e.id for e in until(fast, lambda e: e.report_id == last)]
        assert len(whole) > 4 * bound  # the seed's story and this test's reports: plenty due

        with c.events.stream(since="0", max_buffered_events=bound, **FAST) as slow:
            ids, peak = [], 0
            for e in slow:
                ids.append(e.id)
                peak = max(peak, slow.buffered)
                if e.report_id == last:
                    break
        assert ids == whole
        assert peak <= bound

    async def main():
        async with hues.AsyncClient(base_url=sandbox.url, api_key=sandbox.api_key) as ac:
            async with ac.events.stream(since="0", max_buffered_events=bound, **FAST) as stream:
                ids = [(await stream.__anext__()).id]
                peak = 0
                for _ in range(20):  # the loop drains the SDK's queue while the app does not take
                    await asyncio.sleep(0.025)
                    peak = max(peak, stream.buffered)
                async for e in stream:
                    ids.append(e.id)
                    peak = max(peak, stream.buffered)
                    if e.report_id == last:
                        break
                return ids, peak

    ids, peak = asyncio.run(asyncio.wait_for(main(), 60))
    assert ids == whole
    assert 1 <= peak <= bound
