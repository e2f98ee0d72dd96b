"""Progress as an asyncio async iterator, for any progress callback (x-hues-progress): pass a
ProgressStream where a progress function goes (it is one), then iterate it while the call runs::

    progress = hues.ProgressStream()
    upload = hues.Upload(client, "photo", path=path, progress=progress)
    async for p in progress.until(upload.start_async()):
        bar.update(p.uploaded, p.total)

The SDK calls it on its host executor; items reach the iterating loop through
``call_soon_threadsafe``, so the loop's thread never blocks on the SDK.
"""

from __future__ import annotations

import collections
import threading
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Deque, Optional

if TYPE_CHECKING:  # asyncio loads on first use only (import hues stays light)
    import asyncio

__all__ = ["ProgressStream"]


class ProgressStream:
    __slots__ = ("_items", "_lock", "_loop", "_wake")

    def __init__(self) -> None:
        self._items: Deque[Any] = collections.deque()
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._wake: Optional[asyncio.Future[None]] = None

    def __call__(self, progress: Any) -> None:
        with self._lock:
            self._items.append(progress)
            loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._notify)

    def _notify(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    def _pop(self) -> tuple[bool, Any]:
        with self._lock:
            return (True, self._items.popleft()) if self._items else (False, None)

    async def until(self, call: Awaitable[Any]) -> AsyncIterator[Any]:
        """Every progress item until call (a coroutine or future) ends, in order; the call's
        own result or error stays with it (await it after the loop)."""
        import asyncio

        task = asyncio.ensure_future(call)
        loop = asyncio.get_running_loop()
        with self._lock:
            self._loop = loop
        while True:
            ok, item = self._pop()
            if ok:
                yield item
                continue
            if task.done():  # the SDK tells every progress item before the call completes
                return
            self._wake = loop.create_future()
            ok, item = self._pop()
            if ok:
                yield item
                continue
            await asyncio.wait([task, self._wake], return_when=asyncio.FIRST_COMPLETED)

    def __repr__(self) -> str:
        return f"hues.ProgressStream(pending={len(self._items)})"
