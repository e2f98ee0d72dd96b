"""asyncio forms: coroutines, gather, async iteration and task cancellation."""
import asyncio
import time

import pytest

import hues
from conftest import DONG_BA, VI_DESCRIPTION

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
    assert got == made


def test_sync_client_async_methods_and_async_iteration(client, category):
    async def main():
        created = await client.reports.create_async(category=category, description=VI_DESCRIPTION,
                                                    location=hues.Location(**DONG_BA))
        cats = await client.reports.categories_async()
        it = client.reports.list_async(category=category, limit=2)
        ids = [r.id async for r in it]
        return created, cats, ids, it.pages_fetched

    created, cats, ids, pages = asyncio.run(main())
    assert any(c.code == category for c in cats)
    assert created.id in ids and len(ids) == len(set(ids))
    n = len(ids)
    assert pages in (-(-n // 2), n // 2 + 1)  # the last page may come back empty
    sync_ids = [r.id for r in client.reports.list(category=category, limit=2)]
    assert ids == sync_ids


def test_errors_arrive_through_await(sandbox):
    async def main():
        async with sandbox.async_client(api_key="hk_test_wrong") as bad:
            await bad.reports.categories()

    with pytest.raises(hues.AuthenticationError) as err:
        asyncio.run(main())
    assert err.value.http_status == 401


def test_cancelling_the_task_cancels_the_call(silent_server):
    url, accepted = silent_server
    client = hues.AsyncClient(base_url=url, api_key="hk_test_x", timeout=30, max_attempts=1)

    async def main():
        task = asyncio.ensure_future(client.reports.get("r1"))
        while not accepted.is_set():
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    # The worker thread was freed by the cancelled C++ call, not by its 30 s deadline.
    start = time.monotonic()
    client.sync.close()
    assert time.monotonic() - start < 5
