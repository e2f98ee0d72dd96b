"""Python idioms over the generated objects, none of them per operation:

- a ``logging.Logger`` or a plain function ``(level, message)`` is accepted wherever the SDK
  takes a hues.Logger; a failing logger never fails the call it logs (its exception goes to
  ``sys.unraisablehook``, as Python reports other exceptions nobody can catch); a
  logging.Logger given without ``log_level`` sets the SDK's level from its own;
- ``hues.Client`` without ``api_key`` or ``credentials`` reads ``HUES_API_KEY``;
- ``hues.events(Interface)``: any callback interface whose methods return nothing (an
  OutboxListener) as an iterator and an async iterator of the calls it receives.
"""

from __future__ import annotations

import os
import collections
import threading
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Deque, Iterator, NamedTuple, Optional, Tuple

if TYPE_CHECKING:
    import asyncio  # imported when an iteration starts: `import hues` stays light

from . import _runtime as _rt
from ._generated.callbacks import Logger
from ._generated.models import LogLevel

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


class LoggingAdapter(Logger):
    """Sends the SDK's lines to a logging.Logger (they never hold credentials)."""

    __slots__ = ("target",)

    def __init__(self, target: Any) -> None:
        self.target = target

    def log(self, level: LogLevel, message: str) -> None:
        try:
            self.target.log(_LEVELS.get(level.value, 20), "%s", message)
        except Exception as e:
            _rt.unraisable(e, self.target, "Exception ignored in a hues logger")


class CallableLogger(Logger):
    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[LogLevel, str], object]) -> None:
        self.fn = fn

    def log(self, level: LogLevel, message: str) -> None:
        try:
            self.fn(level, message)
        except Exception as e:
            _rt.unraisable(e, self.fn, "Exception ignored in a hues logger")


def adapt(value: Any) -> Optional[Logger]:
    if hasattr(value, "isEnabledFor") and hasattr(value, "log"):
        return LoggingAdapter(value)
    if callable(value):
        return CallableLogger(value)
    return None


def level_of(logger: Any) -> LogLevel:
    """The SDK level matching a logging.Logger's effective level, so no line is built in vain."""
    effective = logger.getEffectiveLevel()
    for name, py_level in _LEVELS.items():
        if effective <= py_level:
            return LogLevel(name)
    return LogLevel.ERROR


def client_config(config: Any) -> Any:
    """A Client's config with the idioms above applied."""
    changes: dict[str, Any] = {}
    target = config.logger
    if target is not None and hasattr(target, "getEffectiveLevel") and config.log_level == LogLevel.INFO:
        changes["log_level"] = level_of(target)
    if config.api_key is None and config.credentials is None and os.environ.get("HUES_API_KEY"):
        changes["api_key"] = os.environ["HUES_API_KEY"]
    if not changes:
        return config
    import dataclasses
    return dataclasses.replace(config, **changes)


_rt.register_adapter("Logger", adapt)
_rt.register_config_adapter("Client", client_config)


class Event(NamedTuple):
    """One call the SDK made on a callback interface: the method's name and its arguments."""

    method: str
    args: Tuple[Any, ...]


class EventStream:
    """Base of the classes ``events()`` makes: each method of the interface queues an Event
    (on the SDK's thread, at once) for ``for ev in stream`` / ``async for ev in stream``
    (consumed on the iterating thread, or on the running asyncio loop). ``close()`` ends
    the iterations."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._items: Deque[Optional[Event]] = collections.deque()
        self._waiters: list[Tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def _push(self, item: Optional[Event]) -> None:
        with self._lock:
            self._items.append(item)
            self._lock.notify_all()
            waiters = list(self._waiters)
        for loop, ready in waiters:
            loop.call_soon_threadsafe(ready.set)

    def close(self) -> None:
        self._push(None)

    def _pop(self) -> Tuple[bool, Optional[Event]]:
        with self._lock:
            if not self._items:
                return False, None
            item = self._items[0]
            if item is not None:
                self._items.popleft()
            return True, item  # the end marker stays, for every iteration

    def get(self, timeout: Optional[float] = None) -> Event:
        """The next event; TimeoutError when none comes within timeout seconds."""
        with self._lock:
            if not self._lock.wait_for(lambda: bool(self._items), timeout):
                raise TimeoutError("no event came")
        ok, item = self._pop()
        if item is None:
            raise StopIteration
        return item

    def __iter__(self) -> Iterator[Event]:
        while True:
            try:
                yield self.get()
            except StopIteration:
                return

    async def _aiter(self) -> AsyncIterator[Event]:
        import asyncio

        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        with self._lock:
            self._waiters.append((loop, ready))
        try:
            while True:
                ready.clear()
                ok, item = self._pop()
                if ok:
                    if item is None:
                        return
                    yield item
                    continue
                await ready.wait()
        finally:
            with self._lock:
                self._waiters.remove((loop, ready))

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._aiter()


def events(interface: type) -> Any:
    """An implementation of ``interface`` (a generated callback class whose methods return
    nothing, e.g. hues.OutboxListener) that turns each call into an Event::

        stream = hues.events(hues.OutboxListener)
        outbox = hues.Outbox(client, path, listener=stream)
        async for ev in stream:          # ev.method "delivered" or "failed", ev.args (item,)
            ...
    """
    methods = sorted(getattr(interface, "__abstractmethods__", ()))
    if not methods or not hasattr(interface, "_hues_interface"):
        raise TypeError(f"{interface!r} is not a hues callback interface")

    def make(name: str) -> Callable[..., None]:
        def method(self: EventStream, *args: Any) -> None:
            self._push(Event(name, args))
        method.__name__ = name
        return method

    cls = type(f"{interface.__name__}Events", (EventStream, interface), {m: make(m) for m in methods})
    return cls()
