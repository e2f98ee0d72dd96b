"""The generic runtime under the generated code (hues._generated): nothing here is per
operation, model or object.

- calls: ``call`` (blocking, GIL released in the native module) and ``acall`` (asyncio),
  both by call id with the JSON args the generated code built; pagers over them;
- the event-loop adapter: one native completion queue per asyncio loop, its eventfd
  registered with ``loop.add_reader``; completions resolve futures on the loop's thread;
- SdkObject: an SDK object by handle (created from its config model's JSON);
- host objects: Python implementations of callback interfaces, invoked by the SDK on its
  host threads through one dispatcher;
- the model and open-enum bases, datetimes, seconds, call options, cancellation tokens.
"""

from __future__ import annotations

import atexit
import base64 as _base64
import datetime as _dt
import enum
import itertools
import math
import re
import sys
import threading
from json import JSONEncoder as _JSONEncoder
from json import loads as _loads
from typing import (TYPE_CHECKING, Any, AsyncIterator, Callable, Dict, Generic, Iterator, List, Mapping,
                    Optional, Tuple, Type, TypeVar)

from . import _native
from ._generated import errors as _errors

if TYPE_CHECKING:
    import asyncio

    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**_: object) -> Callable[[Any], Any]:
        return lambda f: f

T = TypeVar("T")
M = TypeVar("M", bound="Model")

_encode = _JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def dumps(value: Any) -> bytes:
    """JSON as the native side reads it: UTF-8 as given (no re-normalisation), the shortest
    round-trip form of every float (Python's repr), no NaN or infinity."""
    return _encode(value).encode("utf-8")


# ---- models ----

class _LazyDataclassFields:
    """``__dataclass_fields__`` built on first use, so that dataclasses.fields, replace and
    asdict work without paying dataclasses' import and class-building cost at import."""

    def __get__(self, obj: object, cls: Type[Model]) -> Dict[str, Any]:
        import dataclasses
        fields: Dict[str, Any] = {}
        ann = cls.__annotations__
        name: str
        for name in cls.__slots__:
            f: Any = dataclasses.field()
            f.name = name
            f.type = ann.get(name, "Any")
            f._field_type = dataclasses._FIELD  # type: ignore[attr-defined]
            f.kw_only = True
            if name in cls._SECRET:
                f.repr = f.compare = False  # test runners drill into compared fields: not secrets
            fields[name] = f
        type.__setattr__(cls, "__dataclass_fields__", fields)
        return fields


@dataclass_transform(kw_only_default=True, frozen_default=True, eq_default=True)
def model(cls: Type[M]) -> Type[M]:
    """Marks a generated model class (type checkers read it as a frozen dataclass)."""
    return cls


class Model:
    """Base of the generated models: frozen, slotted, compared by value."""

    __slots__ = ()
    _SECRET: frozenset[str] = frozenset()
    __dataclass_fields__: Any = _LazyDataclassFields()

    @classmethod
    def _from_json(cls: Type[M], d: Dict[str, Any]) -> M:  # pragma: no cover - generated
        raise NotImplementedError

    def _to_json(self) -> Dict[str, Any]:  # pragma: no cover - generated
        raise NotImplementedError

    @classmethod
    def from_dict(cls: Type[M], data: Mapping[str, Any]) -> M:
        """The model from its wire form (as ``json.loads`` gives it); unknown keys are ignored."""
        try:
            return cls._from_json(dict(data))
        except KeyError as e:
            raise TypeError(f"{cls.__name__}: missing required field {e.args[0]!r}") from None

    def to_dict(self) -> Dict[str, Any]:
        """The wire form (what ``json.dumps`` sends); absent optional fields are left out."""
        return self._to_json()

    def _values(self) -> Tuple[Any, ...]:
        names: Tuple[str, ...] = self.__slots__
        return tuple(getattr(self, n) for n in names)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((self.__class__, self._values()))

    def __repr__(self) -> str:
        secret = self._SECRET
        parts = []
        names: Tuple[str, ...] = self.__slots__
        for n in names:
            v = getattr(self, n)
            parts.append(f"{n}='***'" if n in secret and v is not None else f"{n}={v!r}")
        return f"{self.__class__.__name__}({', '.join(parts)})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{self.__class__.__name__} is frozen: use dataclasses.replace(obj, {name}=...)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{self.__class__.__name__} is frozen")

    def __getstate__(self) -> Tuple[Any, ...]:
        return self._values()

    def __setstate__(self, state: Tuple[Any, ...]) -> None:
        names: Tuple[str, ...] = self.__slots__
        for n, v in zip(names, state):
            object.__setattr__(self, n, v)


class OpenEnum(str, enum.Enum):
    """A str enum that also holds values it does not list (a newer server's): they decode
    to a pseudo-member whose ``value`` is re-encoded unchanged."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        # Cached so the same unknown value is the same object.
        return cls._value2member_map_.setdefault(value, member)

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return str.__format__(str(self), spec)

    @property
    def known(self) -> bool:
        """False for a value this SDK's spec does not list."""
        return self._name_ in type(self).__members__


_DT_RE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


_UTC = _dt.timezone.utc
_FAST_ISO = sys.version_info >= (3, 11)  # fromisoformat reads "Z" since 3.11
_fromisoformat = _dt.datetime.fromisoformat


def parse_datetime(s: str) -> _dt.datetime:
    """RFC 3339 -> an aware datetime in UTC (fractions beyond microseconds are cut)."""
    if _FAST_ISO and s[-1:] == "Z":
        try:
            return _fromisoformat(s)  # the common case, fast; its tzinfo is timezone.utc
        except ValueError:
            pass
    m = _DT_RE.match(s)
    if m is None:
        raise ValueError(f"not an RFC 3339 date-time: {s!r}")
    base, frac, zone = m.groups()
    text = base + ("." + (frac + "000000")[:6] if frac else "") + ("+00:00" if zone == "Z" else zone)
    return _fromisoformat(text).astimezone(_UTC)


def format_datetime(value: _dt.datetime, where: str) -> str:
    if not isinstance(value, _dt.datetime):
        raise TypeError(f"{where}: expected datetime.datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        raise TypeError(f"{where}: a naive datetime is ambiguous; give it a tzinfo (e.g. datetime.timezone.utc)")
    u = value.astimezone(_dt.timezone.utc)
    frac = f".{u.microsecond:06d}".rstrip("0") if u.microsecond else ""
    return u.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


def to_b64(value: Any, where: str) -> str:
    """bytes (the spec's `format: byte`) -> standard base64 inside the JSON boundary."""
    if isinstance(value, str) or not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{where}: expected bytes, got {type(value).__name__}")
    return _base64.b64encode(bytes(value)).decode("ascii")


def from_b64(text: str) -> bytes:
    return _base64.b64decode(text, validate=True)


def ms(seconds: float, name: str) -> int:
    """Seconds (as requests and httpx users write them) -> the core's milliseconds."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{name}: expected seconds as int or float, got {type(seconds).__name__}")
    if not (0 < seconds < math.inf):
        raise _errors.ValidationError(f"{name} must be a positive number of seconds, got {seconds!r}",
                                      code="validation_error", field=name)
    return max(1, round(seconds * 1000))


# ---- call options and cancellation ----

class CallOptions:
    """Per-call overrides of the client's options (durations in seconds)."""

    __slots__ = ("timeout", "attempt_timeout", "max_attempts", "idempotency_key")

    def __init__(self, *, timeout: Optional[float] = None, attempt_timeout: Optional[float] = None,
                 max_attempts: Optional[int] = None, idempotency_key: Optional[str] = None) -> None:
        self.timeout = timeout
        self.attempt_timeout = attempt_timeout
        self.max_attempts = max_attempts
        self.idempotency_key = idempotency_key

    def __repr__(self) -> str:
        return (f"CallOptions(timeout={self.timeout!r}, attempt_timeout={self.attempt_timeout!r}, "
                f"max_attempts={self.max_attempts!r}, idempotency_key={self.idempotency_key!r})")


def call_options(options: Optional[CallOptions], timeout: Optional[float],
                 idempotency_key: Optional[str] = None) -> bytes:
    """The CallOptions JSON of one call (b"" for none, the common case)."""
    if options is None and timeout is None and idempotency_key is None:
        return b""
    d: Dict[str, Any] = {}
    if options is not None:
        if options.timeout is not None:
            d["deadline_ms"] = ms(options.timeout, "timeout")
        if options.attempt_timeout is not None:
            d["attempt_timeout_ms"] = ms(options.attempt_timeout, "attempt_timeout")
        if options.max_attempts is not None:
            d["max_attempts"] = options.max_attempts
        if options.idempotency_key is not None:
            d["idempotency_key"] = options.idempotency_key
    if timeout is not None:
        d["deadline_ms"] = ms(timeout, "timeout")
    if idempotency_key is not None:
        d["idempotency_key"] = idempotency_key
    return dumps(d)


class CancellationToken:
    """Cancels the calls it was given to (``cancel=token``), from any thread; a call given a
    token that is already cancelled ends at once with hues.CancelledError. With asyncio,
    cancelling the awaiting task does the same for that call."""

    __slots__ = ("_scope",)

    def __init__(self) -> None:
        self._scope = _native.CancelScope()

    def cancel(self) -> None:
        self._scope.cancel()

    @property
    def cancelled(self) -> bool:
        return self._scope.cancelled

    def __repr__(self) -> str:
        return f"hues.CancellationToken(cancelled={self.cancelled})"


# ---- objects ----

class _Temps(threading.local):
    handles: Optional[List[int]] = None


_temps = _Temps()


class SdkObject:
    """An object the SDK implements (Client, OidcClient, ...), held by handle. Thread-safe.
    ``close()`` (or leaving a ``with`` block) drops this reference; calls in flight and other
    objects using it keep it alive in the SDK."""

    _hues_type: str = ""
    _hues_interfaces: frozenset[str] = frozenset()
    _handle: int = 0
    _hues_config: Any = None

    def __init__(self, config: Optional[Model]) -> None:
        adapt = _CONFIG_ADAPTERS.get(self._hues_type)
        if adapt is not None and config is not None:
            config = adapt(config)
        self._hues_config = config
        temps: List[int] = []
        _temps.handles = temps
        try:
            payload = dumps(config._to_json()) if config is not None else b"{}"
        finally:
            _temps.handles = None
        try:
            status, value = _native.object_new(self._hues_type, payload)
        finally:
            for h in temps:  # the new object holds its own references
                _native.object_release(h)
        if isinstance(value, bytes):
            raise error(value)
        self._handle = value

    def close(self) -> None:
        h, self._handle = self._handle, 0
        if h:
            _native.object_release(h)

    def __del__(self) -> None:
        h = self.__dict__.get("_handle", 0)
        if h and _native is not None:
            try:
                _native.object_release(h)
            except Exception:  # interpreter shutting down
                pass

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"hues.{type(self).__name__}()"


_CONFIG_ADAPTERS: Dict[str, Callable[[Any], Any]] = {}


def register_config_adapter(object_type: str, adapt: Callable[[Any], Any]) -> None:
    """``adapt(config)`` returns the config an object of ``object_type`` is created with."""
    _CONFIG_ADAPTERS[object_type] = adapt


# ---- host objects (callback interfaces implemented in Python) ----

_CALLBACKS: Dict[str, Tuple[type, Callable[[Any, int, Dict[str, Any]], Any]]] = {}
_ADAPTERS: Dict[str, Callable[[Any], Any]] = {}
_host_errors: Dict[int, BaseException] = {}
_host_error_ids = itertools.count(1)
_HOST_ERROR_RE = re.compile(r" \[hues-host-error (\d+)\]")


def register_callback(cls: type, interface: str, dispatch: Callable[[Any, int, Dict[str, Any]], Any]) -> None:
    _CALLBACKS[interface] = (cls, dispatch)


class FileSource:
    """The one stream adapter (x-hues-byte-source callbacks): a binary file object read from its
    position when given. Offsets count from that position; a ``seekable()`` stream seeks, any
    other is read forward only. ``read`` returns bytes (fewer than asked only at the end of a
    buffered stream; a raw stream may return fewer at any time, and is asked again)."""

    __slots__ = ("_f", "_base", "_seekable")

    def __init__(self, f: Any) -> None:
        self._f = f
        seekable = getattr(f, "seekable", None)
        self._seekable = bool(seekable()) if callable(seekable) else False
        self._base = f.tell() if self._seekable else 0

    def read(self, size: int) -> bytes:
        b = self._f.read(size)
        if b is None:  # a non-blocking raw stream with nothing ready
            raise BlockingIOError("the upload's source is non-blocking and had no bytes ready")
        if not isinstance(b, (bytes, bytearray, memoryview)):
            raise TypeError(f"the upload's source must be a binary stream, read gave {type(b).__name__}")
        return bytes(b)

    def seek(self, offset: int) -> bool:
        if not self._seekable:
            return False
        self._f.seek(self._base + offset)
        return True

    def size(self) -> int:
        if not self._seekable:
            return -1
        here = self._f.tell()
        end = self._f.seek(0, 2)
        self._f.seek(here)
        return int(end) - self._base


def register_adapter(interface: str, adapt: Callable[[Any], Any]) -> None:
    """``adapt(value)`` turns another Python value (a logging.Logger, a function) into an
    implementation of ``interface``, or returns None."""
    _ADAPTERS[interface] = adapt


def handle(value: Any, interface: str, where: str) -> Optional[int]:
    """The handle a config field of ``interface`` carries: an SDK object's own, or a new host
    object for a Python implementation (released once the object being built holds it)."""
    if isinstance(value, SdkObject):
        if interface not in value._hues_interfaces:
            raise TypeError(f"{where}: expected a {interface}, got hues.{type(value).__name__}")
        if not value._handle:
            raise ValueError(f"{where}: that hues.{type(value).__name__} was closed")
        return value._handle
    entry = _CALLBACKS.get(interface)
    impl = value if entry is not None and isinstance(value, entry[0]) else None
    if impl is None and interface in _ADAPTERS:
        impl = _ADAPTERS[interface](value)
    if impl is None or entry is None:
        raise TypeError(f"{where}: expected a {interface}, got {type(value).__name__}")
    temps = _temps.handles
    if temps is None:
        return None  # only objects being created take host objects
    dispatch = entry[1]

    def invoke(method: int, args: bytes) -> Tuple[int, bytes]:
        try:
            return 0, dumps(dispatch(impl, method, _loads(args) if args else {}))
        except BaseException as e:  # noqa: B036 - reaches the waiting caller instead
            key = next(_host_error_ids)
            _host_errors[key] = e
            while len(_host_errors) > 256:  # errors nobody collected (e.g. a logger's)
                _host_errors.pop(next(iter(_host_errors)))
            message = f"{type(e).__name__}: {e} [hues-host-error {key}]"
            return 1, dumps({"type": "error", "message": message})

    status, h = _native.host_object_new(interface, invoke)
    if isinstance(h, bytes):
        raise error(h)
    temps.append(h)
    return h


def unraisable(exc: BaseException, obj: object, message: str) -> None:
    """Reports an exception nobody can receive (a failing logger) like Python does."""
    class _Args:
        exc_type = type(exc)
        exc_value = exc
        exc_traceback = exc.__traceback__
        err_msg = message
        object = obj
    sys.unraisablehook(_Args)  # type: ignore[arg-type]


def error(data: bytes) -> BaseException:
    """The exception for an error JSON; a host callback's own exception when it caused it."""
    e = _errors.error_from_json(data)
    m = _HOST_ERROR_RE.search(e.message)
    if m is not None:
        original = _host_errors.pop(int(m.group(1)), None)
        if original is not None:
            return original
        e.message = e.message[:m.start()]
        e.args = (e.message,)
    return e


# ---- calls ----

def args(path: Dict[str, Any], query: Optional[Model] = None, fields: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """A call's args from its path parameters and its query (a query model, or keywords)."""
    out = dict(path)
    given = {k: v for k, v in fields.items() if v is not None} if fields else {}
    if query is not None:
        if given:
            raise TypeError(f"pass a {type(query).__name__} or its fields as keywords, not both "
                            f"(got {', '.join(given)})")
        out.update(query._to_json())
    else:
        out.update(given)
    return out


def body(cls: Type[M], value: Any, fields: Dict[str, Any]) -> Dict[str, Any]:
    """A request body from a model, its dict or its fields as keywords."""
    if value is None:
        return cls(**fields)._to_json()
    if fields:
        raise TypeError(f"pass a {cls.__name__} or its fields as keywords, not both (got {', '.join(fields)})")
    if isinstance(value, cls):
        return value._to_json()
    if isinstance(value, Mapping):
        return dict(value)  # untyped: sent as given, and the SDK's validator names what is wrong
    raise TypeError(f"expected a {cls.__name__} or a dict, got {type(value).__name__}")


def _decode(decode: Callable[[bytes], T], data: bytes) -> T:
    try:
        return decode(data)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise _errors.ProtocolError(f"the response does not match the spec: {type(e).__name__}: {e}",
                                    code="malformed_response") from e


def call(owner: SdkObject, call_id: int, a: Dict[str, Any], options: bytes,
         decode: Callable[[bytes], T], cancel: Optional[CancellationToken]) -> T:
    """One blocking call; the GIL is released while it waits."""
    payload = dumps(a)
    if cancel is None:
        status, data = _native.call_sync(owner._handle, call_id, payload, options)
    else:
        status, data = _native.call_wait(owner._handle, call_id, payload, options, cancel._scope)
    if status:
        raise error(data)
    return _decode(decode, data)


class _LoopDriver:
    """One native completion queue for one asyncio loop: its eventfd is watched by the loop,
    which drains completions on its own thread and resolves the waiting futures."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.sink = _native.Sink()
        self.pending: Dict[int, asyncio.Future[Tuple[int, bytes]]] = {}
        self.streams: Dict[int, _StreamState[Any]] = {}  # stream calls: many answers per tag
        self.tags = itertools.count(1)
        loop.add_reader(self.sink.fd, self._drain)

    def _drain(self) -> None:
        pending = self.pending
        streams = self.streams
        for tag, status, data in self.sink.drain(4096):
            stream = streams.get(tag)
            if stream is not None:
                if status != _EVENT:
                    del streams[tag]
                stream._push(status, data)
                continue
            fut = pending.pop(tag, None)
            if fut is not None and not fut.done():
                fut.set_result((status, data))


# Keyed weakly by loop: a closed, dropped loop drops its driver, whose queue the SDK frees
# once no call targets it.
_drivers: Any = None
_get_running_loop: Any = None


def _driver() -> Tuple[asyncio.AbstractEventLoop, _LoopDriver]:
    global _drivers, _get_running_loop
    if _drivers is None:  # asyncio and weakref load on the first async call, not at import
        import asyncio
        import weakref
        _get_running_loop = asyncio.get_running_loop
        _drivers = weakref.WeakKeyDictionary()
    loop = _get_running_loop()
    d = _drivers.get(loop)
    if d is None:
        d = _drivers[loop] = _LoopDriver(loop)  # only this loop's thread gets here for it
    return loop, d


async def acall(owner: SdkObject, call_id: int, a: Dict[str, Any], options: bytes,
                decode: Callable[[bytes], T], cancel: Optional[CancellationToken]) -> T:
    """One call completed on the running loop; cancelling the awaiting task cancels it."""
    if cancel is not None and cancel._scope.cancelled:
        raise _errors.CancelledError("the call was cancelled before it started", code="cancelled")
    loop, d = _driver()
    fut = loop.create_future()
    tag = next(d.tags)
    d.pending[tag] = fut
    call = _native.call_start(owner._handle, call_id, dumps(a), options, d.sink, tag)
    if cancel is not None:
        cancel._scope.add(call)
    try:
        status, data = await fut
    except BaseException:
        d.pending.pop(tag, None)
        _native.cancel(call)
        raise
    finally:
        if cancel is not None:
            cancel._scope.discard(call)
    if status:
        raise error(data)
    return _decode(decode, data)


class _Pages(Generic[T]):
    """The state of a walk over a paged call: the current page's items and the next cursor."""

    def __init__(self, owner: SdkObject, call_id: int, a: Dict[str, Any], cursor_key: str, options: bytes,
                 decode: Callable[[bytes], Any], split: Callable[[Any], Tuple[List[T], str]],
                 cancel: Optional[CancellationToken]) -> None:
        self._owner, self._call_id, self._args, self._cursor_key = owner, call_id, a, cursor_key
        self._options, self._decode, self._split, self._cancel = options, decode, split, cancel
        self._items: List[T] = []
        self._index = 0
        self._done = False
        self.pages_fetched = 0
        """How many pages were fetched so far."""

    def _advance(self, page: Any) -> None:
        self.pages_fetched += 1
        items, cursor = self._split(page)
        self._items, self._index = items, 0
        if cursor:
            self._args = dict(self._args, **{self._cursor_key: cursor})
        else:
            self._done = True


class Pager(_Pages[T], Iterator[T]):
    """Every item of a paged call (``for item in client.<service>.list(...)``), fetching the
    next page as the iteration reaches it."""

    def __iter__(self) -> Pager[T]:
        return self

    def __next__(self) -> T:
        while self._index >= len(self._items):
            if self._done:
                raise StopIteration
            self._advance(call(self._owner, self._call_id, self._args, self._options, self._decode,
                               self._cancel))
        item = self._items[self._index]
        self._index += 1
        return item


class AsyncPager(_Pages[T], AsyncIterator[T]):
    """Every item of a paged call (``async for item in aclient.<service>.list(...)``), fetching
    the next page as the iteration reaches it."""

    def __aiter__(self) -> AsyncPager[T]:
        return self

    async def __anext__(self) -> T:
        while self._index >= len(self._items):
            if self._done:
                raise StopAsyncIteration
            self._advance(await acall(self._owner, self._call_id, self._args, self._options, self._decode,
                                      self._cancel))
        item = self._items[self._index]
        self._index += 1
        return item


# ---- subscriptions (x-hues-stream) ----

_EVENT = 2  # HUES_EVENT: one event of a stream call, before its one completion


class _StreamState(Generic[T]):
    """What both iterators share: the events received and not yet taken, the end, the id."""

    def __init__(self, owner: SdkObject, call_id: int, a: Dict[str, Any], decode: Callable[[Dict[str, Any]], T],
                 cancel: Optional[CancellationToken]) -> None:
        import collections
        # "ack": each event counts against the stream's max_buffered_events until _take gives it
        # to the app, so the events waiting here stay within that bound however slow the app is.
        self._owner, self._call_id, self._payload, self._decode = owner, call_id, dumps({**a, "ack": True}), decode
        self._cancel = cancel
        self._items: Any = collections.deque()
        self._end: Optional[Tuple[int, bytes]] = None
        self._call = 0
        self._closed = False
        self._last_event_id: str = a.get("Last-Event-ID") or a.get("since") or ""

    @property
    def last_event_id(self) -> str:
        """The id of the last event this iterator gave ("" before the first, or the id it
        resumed from): keep it to resume after a restart (``last_event_id=``)."""
        return self._last_event_id

    @property
    def buffered(self) -> int:
        """Events received and not yet given by this iterator: at most the stream's
        max_buffered_events (the SDK stops reading the connection beyond it)."""
        return len(self._items)

    def _started(self, call: int) -> None:
        self._call = call
        if self._cancel is not None:
            self._cancel._scope.add(call)
            if self._cancel.cancelled:
                _native.cancel(call)

    def _push(self, status: int, data: bytes) -> None:
        if status == _EVENT:
            if not self._closed:
                self._items.append(data)
        else:
            self._end = (status, data)
            if self._cancel is not None and self._call:
                self._cancel._scope.discard(self._call)

    def _take(self) -> T:
        envelope = _loads(self._items.popleft())
        _native.ack(self._call, 1)
        self._last_event_id = envelope["id"]
        return _decode(lambda _: self._decode(envelope["data"]), b"")

    def _stop(self) -> None:
        """At the end: nothing (closed, or over) or the error that ended it."""
        assert self._end is not None
        status, data = self._end
        if status and not self._closed:
            raise error(data)

    def _close_call(self) -> None:
        self._closed = True
        self._items.clear()
        if self._call:
            _native.cancel(self._call)


class Subscription(_StreamState[T], Iterator[T]):
    """A subscription's events as a blocking iterator (``for event in client.<service>.stream()``),
    over a completion queue of its own: the thread waits in ``select`` with the GIL released.
    It reconnects by itself; close it (``close()``, ``with``) from any thread to stop."""

    def __init__(self, owner: SdkObject, call_id: int, a: Dict[str, Any], decode: Callable[[Dict[str, Any]], T],
                 cancel: Optional[CancellationToken]) -> None:
        _StreamState.__init__(self, owner, call_id, a, decode, cancel)
        self._sink = _native.Sink()
        self._lock = threading.Lock()  # one drainer at a time
        self._started(_native.call_start(owner._handle, call_id, self._payload, b"", self._sink, 1))

    def _pump(self, timeout: Optional[float]) -> None:
        import select
        with self._lock:
            if self._end is not None:
                return
            select.select([self._sink.fd], [], [], timeout)
            for _tag, status, data in self._sink.drain(4096):
                self._push(status, data)

    def __iter__(self) -> Subscription[T]:
        return self

    def __next__(self) -> T:
        while True:
            if self._items:
                return self._take()
            if self._end is not None:
                self._stop()
                raise StopIteration
            self._pump(None)

    def next(self, timeout: Optional[float] = None) -> Optional[T]:
        """The next event, or None when none came within timeout seconds (None: wait)."""
        if not self._items and self._end is None:
            self._pump(timeout)
        if self._items:
            return self._take()
        if self._end is not None:
            self._stop()
            raise StopIteration
        return None

    def close(self) -> None:
        """Stops the subscription at once; no event is given after it. Idempotent."""
        self._close_call()
        if self._lock.acquire(blocking=False):  # else another thread is iterating: it sees the end
            self._lock.release()
            for _ in range(100):
                if self._end is not None:
                    break
                self._pump(0.1)

    def __enter__(self) -> Subscription[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if self.__dict__.get("_call") and self.__dict__.get("_end") is None and _native is not None:
            try:
                _native.cancel(self._call)
            except Exception:  # interpreter shutting down
                pass

    def __repr__(self) -> str:
        return f"hues.Subscription(last_event_id={self._last_event_id!r}, ended={self._end is not None})"


class AsyncSubscription(_StreamState[T], AsyncIterator[T]):
    """A subscription's events as an async iterator (``async for event in aclient.<service>.stream()``),
    completed on the running loop's own completion queue, no thread of its own. It starts at once
    when made inside a running loop (else at the first ``__anext__``) and reconnects by itself;
    ``await aclose()`` (or ``async with``), or cancelling the iterating task, stops it."""

    def __init__(self, owner: SdkObject, call_id: int, a: Dict[str, Any], decode: Callable[[Dict[str, Any]], T],
                 cancel: Optional[CancellationToken]) -> None:
        _StreamState.__init__(self, owner, call_id, a, decode, cancel)
        self._wake: Any = None
        try:
            self._start()
        except RuntimeError:  # no running loop yet
            pass

    def _start(self) -> None:
        loop, d = _driver()
        self._loop = loop
        tag = next(d.tags)
        d.streams[tag] = self
        self._started(_native.call_start(self._owner._handle, self._call_id, self._payload, b"", d.sink, tag))

    def _push(self, status: int, data: bytes) -> None:
        _StreamState._push(self, status, data)
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    def __aiter__(self) -> AsyncSubscription[T]:
        return self

    async def __anext__(self) -> T:
        if not self._call and self._end is None:
            self._start()
        while True:
            if self._items:
                return self._take()
            if self._end is not None:
                self._stop()
                raise StopAsyncIteration
            self._wake = self._loop.create_future()
            try:
                await self._wake
            except BaseException:  # the iterating task was cancelled: so is the subscription
                self._close_call()
                raise

    async def aclose(self) -> None:
        """Stops the subscription at once; no event is given after it. Idempotent."""
        self._close_call()
        if self._call and self._end is None:
            import asyncio
            self._wake = self._loop.create_future()
            try:
                await asyncio.wait_for(asyncio.shield(self._wake), 10)
            except asyncio.TimeoutError:
                pass

    async def __aenter__(self) -> AsyncSubscription[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"hues.AsyncSubscription(last_event_id={self._last_event_id!r}, ended={self._end is not None})"


# ---- process ----

def _check_spec() -> None:
    from ._generated import SPEC_HASH
    native = _native.spec_hash()
    if native != SPEC_HASH:
        raise ImportError(f"hues: the native module was built from spec {native}, the Python code from "
                          f"{SPEC_HASH}; reinstall the package")


_check_spec()
atexit.register(_native.shutdown)
