"""asyncio forms of the client.

Each call runs the C++ call (which releases the GIL) on the client's worker threads and
awaits it without blocking the event loop. Cancelling the awaiting task cancels the C++
call too, through its CancellationToken, so no socket is left busy for a task nobody awaits.

    async with hues.AsyncClient(base_url=sb.url, api_key=sb.api_key) as client:
        report = await client.reports.create(category=..., description=..., location=...)
        async for r in client.reports.list(limit=50):
            ...
"""

from __future__ import annotations

import asyncio
import copy
from collections import deque
from typing import Any, AsyncIterator, Callable, Deque, Optional, TypeVar, Union

from . import _core
from ._client import Client
from ._core import CallOptions, CancellationToken, Category, NewReport, Report, ReportPage, ReportQuery

__all__ = ["AsyncClient", "AsyncReports", "ReportAsyncIterator", "run_blocking", "run_call"]

T = TypeVar("T")


async def run_call(client: Any, fn: Callable[..., T], options: CallOptions, *args: Any) -> T:
    """Awaits fn(*args, options) run on the client's executor; cancelling the awaiting task
    cancels the call (through options.cancel, created here when the caller gave none)."""
    token = options.cancel
    if token is None:
        options = copy.copy(options)
        token = options.cancel = CancellationToken()
    future = asyncio.get_running_loop().run_in_executor(client._executor(), fn, *args, options)
    try:
        return await future
    except asyncio.CancelledError:
        token.cancel()
        raise


async def run_blocking(owner: Any, fn: Callable[..., T], *args: Any) -> T:
    """Awaits fn(*args) on owner's executor, for calls without a CancellationToken: a
    cancelled task stops waiting while the call ends by its own deadline."""
    return await asyncio.get_running_loop().run_in_executor(owner._executor(), fn, *args)


class ReportAsyncIterator:
    """Every report of a query, newest first; pages are fetched as the iteration goes."""

    def __init__(self, client: Client, core: _core.ReportsClient, query: ReportQuery,
                 options: CallOptions) -> None:
        self._client = client
        self._core = core
        self._query = query
        self._options = options
        self._items: Deque[Report] = deque()
        self._last_page = False
        self.pages_fetched = 0

    def __aiter__(self) -> "ReportAsyncIterator":
        return self

    async def __anext__(self) -> Report:
        while not self._items:
            if self._last_page:
                raise StopAsyncIteration
            page = await run_call(self._client, self._core.list_page, self._options, self._query)
            self.pages_fetched += 1
            self._items.extend(page.items)
            self._query.cursor = page.next_cursor
            self._last_page = not page.next_cursor
        return self._items.popleft()


class AsyncReports:
    """Citizen reports with coroutine methods; see hues.Reports for the arguments."""

    def __init__(self, reports: Any) -> None:
        self._reports = reports

    async def categories(self, **call: Any) -> list[Category]:
        return await self._reports.categories_async(**call)

    async def create(self, report: Union[NewReport, dict, None] = None, /, **kwargs: Any) -> Report:
        return await self._reports.create_async(report, **kwargs)

    async def get(self, id: str, /, **call: Any) -> Report:
        return await self._reports.get_async(id, **call)

    async def list_page(self, query: Union[ReportQuery, dict, None] = None, /,
                        **kwargs: Any) -> ReportPage:
        return await self._reports.list_page_async(query, **kwargs)

    def list(self, query: Union[ReportQuery, dict, None] = None, /,
             **kwargs: Any) -> AsyncIterator[Report]:
        return self._reports.list_async(query, **kwargs)


class AsyncClient:
    """hues.Client with coroutine methods. Takes the same keywords as hues.Client;
    ``max_async_workers`` bounds how many calls run at once."""

    def __init__(self, base_url: Optional[str] = None, api_key: Optional[str] = None,
                 **kwargs: Any) -> None:
        self.sync = Client(base_url, api_key, **kwargs)
        self.reports = AsyncReports(self.sync.reports)

    @property
    def options(self) -> _core.ClientOptions:
        return self.sync.options

    async def me(self, **call: Any) -> _core.CitizenProfile:
        return await self.sync.me_async(**call)

    async def close(self) -> None:
        # Joining the worker threads blocks, so it happens off the event loop.
        await asyncio.get_running_loop().run_in_executor(None, self.sync.close)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"hues.AsyncClient(base_url={self.options.base_url!r})"
