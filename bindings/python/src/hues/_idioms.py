"""Python idioms over the generated objects, none of them per operation:

- a ``logging.Logger`` or a plain function ``(level, message)`` is accepted wherever the SDK
  takes a hues.Logger; a failing logger never fails the call it logs (its exception goes to
  ``sys.unraisablehook``, as Python reports other exceptions nobody can catch); a
  logging.Logger given without ``log_level`` sets the SDK's level from its own;
- ``hues.Client`` without ``api_key`` or ``credentials`` reads ``HUES_API_KEY``.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Optional

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
