"""The Pythonic client: keyword options in seconds, models from keywords or dicts."""

from __future__ import annotations

import copy
import math
import os
import threading
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Optional, Union

from . import _core
from ._core import (
    CallOptions,
    CancellationToken,
    Category,
    CitizenProfile,
    ClientOptions,
    Logger,
    LogLevel,
    NewReport,
    Report,
    ReportPage,
    ReportPager,
    ReportQuery,
    RetryPolicy,
)
from .errors import ValidationError

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

__all__ = ["Client", "Reports"]  # plus helpers shared with hues.identity

_NO_CALL_OPTIONS = CallOptions()


def _to_ms(seconds: float, name: str) -> int:
    """Seconds (as users of requests/httpx write them) to the core's milliseconds."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{name}: expected seconds as int or float, got {type(seconds).__name__}")
    if not (0 < seconds < math.inf):
        raise ValidationError(f"{name} must be a positive number of seconds, got {seconds!r}",
                              code="validation_error", field=name)
    return max(1, round(seconds * 1000))


def _call_options(
    options: Optional[CallOptions] = None,
    *,
    timeout: Optional[float] = None,
    attempt_timeout: Optional[float] = None,
    max_attempts: Optional[int] = None,
    idempotency_key: Optional[str] = None,
    cancel: Optional[CancellationToken] = None,
) -> CallOptions:
    """Per-call options: ``timeout`` is the whole call's deadline in seconds, across retries.
    Returns a shared default when nothing is set: callers copy before changing it."""
    if options is None and timeout is None and attempt_timeout is None and max_attempts is None \
            and idempotency_key is None and cancel is None:
        return _NO_CALL_OPTIONS
    opts = copy.copy(options) if options is not None else CallOptions()
    if timeout is not None:
        opts.deadline_ms = _to_ms(timeout, "timeout")
    if attempt_timeout is not None:
        opts.attempt_timeout_ms = _to_ms(attempt_timeout, "attempt_timeout")
    if max_attempts is not None:
        opts.max_attempts = max_attempts
    if idempotency_key is not None:
        opts.idempotency_key = idempotency_key
    if cancel is not None:
        opts.cancel = cancel
    return opts


def _model(cls: Any, value: Any, fields: dict) -> Any:
    """A model from an instance, a dict or keyword fields (unknown names raise TypeError)."""
    if value is None:
        return cls(**fields)
    if fields:
        raise TypeError(f"pass a {cls.__name__} or its fields as keywords, not both")
    if isinstance(value, dict):
        return cls.from_dict(value)
    if not isinstance(value, cls):
        raise TypeError(f"expected {cls.__name__} or dict, got {type(value).__name__}")
    return value


class _LoggingAdapter(Logger):
    """Sends the SDK's lines to a `logging.Logger` (or anything with .log(level, msg))."""

    _LEVELS = {LogLevel.DEBUG: 10, LogLevel.INFO: 20, LogLevel.WARNING: 30, LogLevel.ERROR: 40}

    def __init__(self, target: Any) -> None:
        super().__init__()
        self.target = target

    def log(self, level: LogLevel, message: str) -> None:
        self.target.log(self._LEVELS.get(level, 20), "%s", message)


class _CallbackLogger(Logger):
    def __init__(self, fn: Callable[[LogLevel, str], Any]) -> None:
        super().__init__()
        self.fn = fn

    def log(self, level: LogLevel, message: str) -> None:
        self.fn(level, message)


def _as_logger(obj: Any) -> Optional[Logger]:
    if obj is None or isinstance(obj, Logger):
        return obj
    if hasattr(obj, "isEnabledFor") and hasattr(obj, "log"):
        return _LoggingAdapter(obj)
    if callable(obj):
        return _CallbackLogger(obj)
    raise TypeError("logger: expected a hues.Logger, a logging.Logger or a callable(level, message)")


def _level_of(logger: Any) -> LogLevel:
    """The SDK level matching a logging.Logger's effective level, so no line is built in vain."""
    level = logger.getEffectiveLevel()
    for sdk_level, py_level in _LoggingAdapter._LEVELS.items():
        if level <= py_level:
            return sdk_level
    return LogLevel.ERROR



def _client_options(
    options: Optional[ClientOptions] = None,
    *,
    timeout: Optional[float] = None,
    connect_timeout: Optional[float] = None,
    attempt_timeout: Optional[float] = None,
    max_attempts: Optional[int] = None,
    retry: Optional[RetryPolicy] = None,
    ca_file: Optional[Union[str, os.PathLike]] = None,
    proxy: Optional[str] = None,
    user_agent: Optional[str] = None,
    logger: Any = None,
    log_level: Optional[LogLevel] = None,
    max_connections_per_host: Optional[int] = None,
    max_response_bytes: Optional[int] = None,
) -> ClientOptions:
    """Transport options from keywords (durations in seconds) over a copy of ``options``;
    shared by hues.Client and hues.OidcClient."""
    opts = copy.copy(options) if options is not None else ClientOptions()
    for field, value, name in (("deadline_ms", timeout, "timeout"),
                               ("connect_timeout_ms", connect_timeout, "connect_timeout"),
                               ("attempt_timeout_ms", attempt_timeout, "attempt_timeout")):
        if value is not None:
            setattr(opts, field, _to_ms(value, name))
    if retry is not None:
        opts.retry = retry
    if max_attempts is not None:
        opts.retry.max_attempts = max_attempts
    if ca_file is not None:
        opts.ca_file = os.fspath(ca_file)
    if proxy is not None:
        opts.proxy = proxy
    if user_agent is not None:
        opts.user_agent = user_agent
    if logger is not None:
        opts.logger = _as_logger(logger)
        if log_level is None and isinstance(opts.logger, _LoggingAdapter):
            log_level = _level_of(logger)
    if log_level is not None:
        opts.log_level = LogLevel(log_level)
    if max_connections_per_host is not None:
        opts.max_connections_per_host = max_connections_per_host
    if max_response_bytes is not None:
        opts.max_response_bytes = max_response_bytes
    return opts


class _AsyncWorkers:
    """The threads that run an object's ``*_async`` calls (created on first use)."""

    _max_async_workers = 32

    def _executor(self) -> "ThreadPoolExecutor":
        lock = self.__dict__.setdefault("_pool_lock", threading.Lock())
        with lock:
            if self.__dict__.get("_pool") is None:
                from concurrent.futures import ThreadPoolExecutor
                self._pool = ThreadPoolExecutor(self._max_async_workers, thread_name_prefix="hues")
            return self._pool

    def close(self) -> None:
        """Stops the asyncio worker threads (connections close when the object is freed)."""
        with self.__dict__.setdefault("_pool_lock", threading.Lock()):
            pool, self._pool = self.__dict__.get("_pool"), None
        if pool is not None:
            pool.shutdown(wait=True)

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Reports:
    """Citizen reports (phản ánh hiện trường): categories, create, get, list.

    Every method takes per-call keywords: ``timeout`` (the call's deadline in seconds,
    across retries), ``cancel`` (a CancellationToken) and ``options`` (a CallOptions). Each has an ``*_async`` twin to ``await``.
    """

    def __init__(self, core: _core.ReportsClient, client: "Client") -> None:
        self._core = core
        self._client = client

    def categories(self, *, options: Optional[CallOptions] = None, timeout: Optional[float] = None,
                   cancel: Optional[CancellationToken] = None) -> list[Category]:
        return self._core.categories(_call_options(options, timeout=timeout, cancel=cancel))

    def create(self, report: Union[NewReport, dict, None] = None, /, *,
               options: Optional[CallOptions] = None, timeout: Optional[float] = None,
               cancel: Optional[CancellationToken] = None, idempotency_key: Optional[str] = None,
               **fields: Any) -> Report:
        """Creates a report from a NewReport or its fields: category=, description=,
        location=hues.Location(lat=, lon=) ... Retries never create it twice."""
        return self._core.create(
            _model(NewReport, report, fields),
            _call_options(options, timeout=timeout, cancel=cancel, idempotency_key=idempotency_key))

    def get(self, id: str, /, *, options: Optional[CallOptions] = None,
            timeout: Optional[float] = None, cancel: Optional[CancellationToken] = None) -> Report:
        return self._core.get(id, _call_options(options, timeout=timeout, cancel=cancel))

    def list_page(self, query: Union[ReportQuery, dict, None] = None, /, *,
                  options: Optional[CallOptions] = None, timeout: Optional[float] = None,
                  cancel: Optional[CancellationToken] = None, **filters: Any) -> ReportPage:
        """One page; pass ``cursor=page.next_cursor`` for the next one."""
        return self._core.list_page(_model(ReportQuery, query, filters),
                                    _call_options(options, timeout=timeout, cancel=cancel))

    def list(self, query: Union[ReportQuery, dict, None] = None, /, *,
             options: Optional[CallOptions] = None, timeout: Optional[float] = None,
             cancel: Optional[CancellationToken] = None, **filters: Any) -> ReportPager:
        """Every matching report, newest first, fetching pages as the iteration goes."""
        return self._core.list(_model(ReportQuery, query, filters),
                               _call_options(options, timeout=timeout, cancel=cancel))

    # asyncio forms: the same calls, run with the GIL released on the client's executor.
    async def categories_async(self, *, options: Optional[CallOptions] = None,
                               timeout: Optional[float] = None,
                               cancel: Optional[CancellationToken] = None) -> list[Category]:
        from .aio import run_call
        return await run_call(self._client, self._core.categories,
                              _call_options(options, timeout=timeout, cancel=cancel))

    async def create_async(self, report: Union[NewReport, dict, None] = None, /, *,
                           options: Optional[CallOptions] = None, timeout: Optional[float] = None,
                           cancel: Optional[CancellationToken] = None,
                           idempotency_key: Optional[str] = None, **fields: Any) -> Report:
        from .aio import run_call
        return await run_call(
            self._client, self._core.create,
            _call_options(options, timeout=timeout, cancel=cancel, idempotency_key=idempotency_key),
            _model(NewReport, report, fields))

    async def get_async(self, id: str, /, *, options: Optional[CallOptions] = None,
                        timeout: Optional[float] = None,
                        cancel: Optional[CancellationToken] = None) -> Report:
        from .aio import run_call
        return await run_call(self._client, self._core.get,
                              _call_options(options, timeout=timeout, cancel=cancel), id)

    async def list_page_async(self, query: Union[ReportQuery, dict, None] = None, /, *,
                              options: Optional[CallOptions] = None,
                              timeout: Optional[float] = None,
                              cancel: Optional[CancellationToken] = None,
                              **filters: Any) -> ReportPage:
        from .aio import run_call
        return await run_call(self._client, self._core.list_page,
                              _call_options(options, timeout=timeout, cancel=cancel),
                              _model(ReportQuery, query, filters))

    def list_async(self, query: Union[ReportQuery, dict, None] = None, /, *,
                   options: Optional[CallOptions] = None, timeout: Optional[float] = None,
                   cancel: Optional[CancellationToken] = None,
                   **filters: Any) -> AsyncIterator[Report]:
        """``async for report in client.reports.list_async(status="submitted"): ...``"""
        from .aio import ReportAsyncIterator
        return ReportAsyncIterator(self._client, self._core,
                                   copy.copy(_model(ReportQuery, query, filters)),
                                   _call_options(options, timeout=timeout, cancel=cancel))


class Client(_AsyncWorkers):
    """A Hue-S client. Thread-safe; share one per process (it pools connections).

    >>> client = hues.Client(base_url="https://api.hue-s.vn", api_key="hk_live_...", timeout=30)
    >>> for c in client.reports.categories(): print(c.name_vi)

    Durations are seconds. ``api_key`` defaults to the HUES_API_KEY environment variable.
    ``credentials`` (hues.ClientCredentials, hues.UserCredentials) replaces the API key.
    Transport keywords: timeout, connect_timeout, attempt_timeout, max_attempts, retry,
    ca_file, proxy, user_agent, logger, log_level, max_connections_per_host,
    max_response_bytes. ``logger`` is a hues.Logger, a logging.Logger or a
    callable(level, message); the SDK never passes it credentials. ``options`` (a
    ClientOptions) is the base the keywords override.
    """

    def __init__(
        self,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        credentials: Optional[_core.CredentialsProvider] = None,
        max_async_workers: int = 32,
        options: Optional[ClientOptions] = None,
        **transport: Any,
    ) -> None:
        opts = _client_options(options, **transport)
        if base_url is not None:
            opts.base_url = base_url
        if api_key is not None:
            opts.api_key = api_key
        elif not opts.api_key:
            opts.api_key = os.environ.get("HUES_API_KEY", "")
        if credentials is not None:
            if not isinstance(credentials, _core.CredentialsProvider):
                raise TypeError("credentials: expected hues.ClientCredentials, hues.UserCredentials or "
                                f"another hues.CredentialsProvider, got {type(credentials).__name__}")
            opts.credentials = credentials

        self._core = _core.Client(opts)
        self.reports = Reports(self._core.reports(), self)
        self._max_async_workers = max_async_workers

    @property
    def options(self) -> ClientOptions:
        """A copy of the options in effect."""
        return self._core.options

    @staticmethod
    def version() -> str:
        """The C++ core's version, e.g. "0.1.0"."""
        return _core.Client.version()

    def me(self, *, options: Optional[CallOptions] = None, timeout: Optional[float] = None,
           cancel: Optional[CancellationToken] = None) -> CitizenProfile:
        """The signed-in person's profile (needs ``credentials=hues.UserCredentials(...)``)."""
        return self._core.me(_call_options(options, timeout=timeout, cancel=cancel))

    async def me_async(self, *, options: Optional[CallOptions] = None,
                       timeout: Optional[float] = None,
                       cancel: Optional[CancellationToken] = None) -> CitizenProfile:
        from .aio import run_call
        return await run_call(self, self._core.me, _call_options(options, timeout=timeout, cancel=cancel))

    def __repr__(self) -> str:
        return f"hues.Client(base_url={self._core.options.base_url!r})"
