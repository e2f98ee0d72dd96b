"""asyncio: coroutines completed on the caller's loop (no thread per call), gather, async
iteration, cancellation, and a clean exit with calls in flight."""
import asyncio
import dataclasses
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import hues
from conftest import DONG_BA, VI_DESCRIPTION, thread_count

pytestmark = pytest.mark.timeout(60)


def test_gather_creates_concurrently(sandbox, category):
    async def main():
        async with sandbox.async_client(timeout=20) as client:
            made = await asyncio.gather(*(
                client.reports.create(category=category, description=f"{VI_DESCRIPTION} #{i}",
                                      location=hues.Location(**DONG_BA))
                for i in range(8)))
            got = await asyncio.gather(*(client.reports.get(r.id) for r in made))
            return made, got

    made, got = asyncio.run(main())
    assert len({r.id for r in made}) == 8
    assert [r.description for r in made] == [f"{VI_DESCRIPTION} #{i}" for i in range(8)]
    assert got == [dataclasses.replace(r, possible_duplicates=None) for r in made]  # hints: create only


def test_async_iteration_pages_like_the_sync_pager(sandbox, client, category):
    async def main():
        async with sandbox.async_client(timeout=20) as ac:
            created = await ac.reports.create(category=category, description=VI_DESCRIPTION,
                                              location=hues.Location(**DONG_BA))
            cats = await ac.reports.categories()
            it = ac.reports.list(category=category, limit=2)
            ids = [r.id async for r in it]
            agencies = [a.code async for a in ac.agencies.list(limit=3)]
            steps = await ac.reports.timeline(created.id)
            return created, cats, ids, it.pages_fetched, agencies, steps

    created, cats, ids, pages, agencies, steps = asyncio.run(main())
    assert any(c.code == category for c in cats)
    assert created.id in ids and len(ids) == len(set(ids))
    n = len(ids)
    assert pages in (-(-n // 2), n // 2 + 1)  # the last page may come back empty
    assert ids == [r.id for r in client.reports.list(category=category, limit=2)]
    assert agencies == [a.code for a in client.agencies.list(limit=3)]
    assert steps[0].status is hues.ReportStatus.SUBMITTED


def test_errors_arrive_through_await(sandbox):
    async def main():
        async with sandbox.async_client(api_key="hk_test_wrong") as bad:
            await bad.reports.categories()

    with pytest.raises(hues.AuthenticationError) as err:
        asyncio.run(main())
    assert err.value.status == 401


def test_a_thousand_gets_from_one_thread_without_a_thread_per_call(sandbox, category):
    """1,000 concurrent gets on one loop in one thread all complete, and the process gains at
    most EXTRA threads over the warmed-up baseline (the SDK's runtime threads are started
    by the warm-up; asyncio and this binding start none per call)."""
    EXTRA = 2
    with sandbox.client() as c:
        ids = [c.reports.create(category=category, description=f"{VI_DESCRIPTION} #{i}",
                                location=hues.Location(**DONG_BA)).id for i in range(10)]
    peak = 0
    stop = threading.Event()

    async def main():
        nonlocal peak
        async with sandbox.async_client(timeout=60) as ac:
            await asyncio.gather(*(ac.reports.get(i) for i in ids))  # warm-up
            baseline = thread_count()
            tasks = [asyncio.ensure_future(ac.reports.get(ids[i % len(ids)])) for i in range(1000)]
            while not all(t.done() for t in tasks):
                peak = max(peak, thread_count())
                await asyncio.sleep(0.005)
            results = [t.result() for t in tasks]
            return baseline, results

    baseline, results = asyncio.run(main())
    stop.set()
    assert len(results) == 1000 and all(isinstance(r, hues.Report) for r in results)
    assert {r.id for r in results} == set(ids)
    print(f"threads: baseline {baseline}, peak with 1,000 in flight {peak}")
    assert peak <= baseline + EXTRA, f"threads grew from {baseline} to {peak}"


def test_cancelling_the_task_aborts_the_call(silent_server):
    url, accepted, conns = silent_server
    client = hues.AsyncClient(base_url=url, api_key="hk_test_x", timeout=30,
                              retry=hues.RetryPolicy(max_attempts=1))

    async def main():
        task = asyncio.ensure_future(client.reports.get("r1"))
        while not accepted.is_set():
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    start = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - start < 10
    # The SDK closed the socket of the cancelled call: the server reads EOF long before the
    # 30 s deadline.
    conn = conns[0]
    conn.settimeout(5)
    while conn.recv(65536):  # the request, then EOF (socket.timeout here fails the test)
        pass
    client.close()


def test_a_token_cancels_an_awaited_call_and_a_cancelled_token_fails_at_once(silent_server, sandbox):
    url, accepted, _ = silent_server
    client = hues.AsyncClient(base_url=url, api_key="hk_test_x", timeout=30,
                              retry=hues.RetryPolicy(max_attempts=1))
    token = hues.CancellationToken()

    async def main():
        task = asyncio.ensure_future(client.reports.get("r1", cancel=token))
        while not accepted.is_set():
            await asyncio.sleep(0.02)
        threading.Timer(0.1, token.cancel).start()  # from another thread
        with pytest.raises(hues.CancelledError):
            await task
        # Already cancelled: the call ends at once, before any I/O.
        with pytest.raises(hues.CancelledError):
            async with sandbox.async_client() as ok:
                await ok.reports.categories(cancel=token)

    start = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - start < 10 and token.cancelled
    client.close()


def test_loops_come_and_go(sandbox):
    # Each asyncio.run makes a new loop; each gets its own completion queue.
    for _ in range(3):
        async def main():
            async with sandbox.async_client() as ac:
                return await ac.reports.categories()
        assert asyncio.run(main())


def test_exit_with_calls_in_flight_is_clean(silent_server, sandbox):
    """A process that exits while calls are in flight (async ones on a loop, blocking ones in
    threads) ends with status 0 and no hang."""
    url, _, _ = silent_server
    script = textwrap.dedent(f"""
        import asyncio, threading, hues
        slow = hues.AsyncClient(base_url={url!r}, api_key="k", timeout=60)
        ok = hues.Client(base_url={sandbox.url!r}, api_key={sandbox.api_key!r})
        def block():
            try:
                hues.Client(base_url={url!r}, api_key="k", timeout=60).reports.get("x")
            except hues.Error:
                pass
        for _ in range(4):
            threading.Thread(target=block, daemon=True).start()
        loop = asyncio.new_event_loop()
        tasks = [loop.create_task(slow.reports.get("r%d" % i)) for i in range(50)]
        tasks += [loop.create_task(hues.AsyncClient(base_url={sandbox.url!r}, api_key={sandbox.api_key!r}).reports.categories())]
        loop.run_until_complete(asyncio.sleep(0.3))
        assert ok.reports.categories()
        print("exiting with calls in flight")
    """)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "exiting with calls in flight" in done.stdout
    assert time.monotonic() - start < 20
