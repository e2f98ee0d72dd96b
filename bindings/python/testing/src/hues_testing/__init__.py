"""The Hue-S sandbox in-process: a real HTTP and HTTPS server over a real SQLite database,
on ephemeral loopback ports, for tests and demos.

    with hues.testing.Sandbox() as sb:
        client = sb.client()                 # plain HTTP, the seeded test key
        tls_client = sb.client(tls=True)     # HTTPS, trusting the sandbox's development CA

The server is libhues_sandbox, shipped in this distribution (hues-testing) and never in the
SDK's own (hues), which an app ships: loaded with ctypes, it runs on its own threads, so the
GIL plays no part. ``hues.testing`` re-exports this module.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import pathlib
from typing import Any, Dict, Optional, Sequence, Union

from hues._generated.objects import AsyncClient, Client

__all__ = ["Sandbox", "SandboxError"]


class SandboxError(RuntimeError):
    """The sandbox could not start."""


class _Bytes(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(ctypes.c_uint8)), ("len", ctypes.c_size_t)]


_lib: Any = None
_live: Dict[int, None] = {}  # started, not yet stopped: stopped at exit


@atexit.register
def _stop_all() -> None:
    for h in list(_live):
        _live.pop(h, None)
        _lib.hues_sandbox_stop(h)


def _library() -> Any:
    global _lib
    if _lib is None:
        path = os.environ.get("HUES_SANDBOX_LIB") or str(pathlib.Path(__file__).with_name("libhues_sandbox.so"))
        lib = ctypes.CDLL(path)
        lib.hues_sandbox_start.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_uint64),
                                           ctypes.POINTER(_Bytes)]
        lib.hues_sandbox_start.restype = ctypes.c_int
        lib.hues_sandbox_stop.argtypes = [ctypes.c_uint64]
        lib.hues_sandbox_stop.restype = None
        lib.hues_sandbox_bytes_free.argtypes = [ctypes.POINTER(_Bytes)]
        lib.hues_sandbox_bytes_free.restype = None
        _lib = lib
    return _lib


class Sandbox:
    """Started on construction, stopped by stop() or on leaving the ``with`` block.

    ``data_dir`` holds sandbox.db and the development CA; by default a fresh temporary
    directory, removed on stop. ``tls_port=-1`` disables HTTPS. ``tls_names`` are the host
    names and IP addresses the TLS certificate names (another name makes a certificate clients
    connecting to localhost must refuse).
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, tls_port: int = 0,
                 data_dir: Union[str, "os.PathLike[str]", None] = None, threads: int = 2,
                 tls_names: Optional[Sequence[str]] = None) -> None:
        lib = _library()
        config: Dict[str, Any] = {"host": host, "port": port, "tls_port": tls_port, "threads": threads}
        if data_dir is not None:
            config["data_dir"] = os.fspath(data_dir)
        if tls_names is not None:  # the names the TLS certificate carries (default: localhost, 127.0.0.1, ::1)
            config["tls_names"] = list(tls_names)
        payload = json.dumps(config).encode("utf-8")
        handle = ctypes.c_uint64(0)
        info = _Bytes()
        status = lib.hues_sandbox_start(payload, len(payload), ctypes.byref(handle), ctypes.byref(info))
        try:
            text = ctypes.string_at(info.data, info.len).decode("utf-8") if info.data else "{}"
        finally:
            lib.hues_sandbox_bytes_free(ctypes.byref(info))
        d = json.loads(text)
        if status != 0:
            raise SandboxError(d.get("message") or "the sandbox did not start")
        self._handle: Optional[int] = handle.value
        _live[handle.value] = None
        self.url: str = d["url"]
        """``"http://127.0.0.1:PORT"``"""
        self.tls_url: str = d.get("tls_url") or ""
        """``"https://localhost:PORT"``, "" without TLS"""
        self.ca_file: str = d.get("ca_file") or ""
        """PEM of the CA that signed the TLS certificate."""
        self.api_key: str = d["api_key"]
        """The seeded partner test key."""
        self.admin_key: str = d.get("admin_key") or ""
        self.data_dir: str = d.get("data_dir") or ""
        self.port: int = d.get("port") or 0
        self.tls_port: int = d.get("tls_port") or 0

    def client(self, *, tls: bool = False, **kwargs: Any) -> Client:
        """A Client for this sandbox (keywords as for hues.Client, e.g. api_key= to override)."""
        return Client(**self._client_kwargs(tls, kwargs))

    def async_client(self, *, tls: bool = False, **kwargs: Any) -> AsyncClient:
        """An AsyncClient for this sandbox."""
        return AsyncClient(**self._client_kwargs(tls, kwargs))

    def _client_kwargs(self, tls: bool, kwargs: Dict[str, Any]) -> Dict[str, Any]:
        kwargs.setdefault("api_key", self.api_key)
        if tls:
            kwargs.setdefault("ca_file", self.ca_file)
        kwargs["base_url"] = self.tls_url if tls else self.url
        return kwargs

    def stop(self) -> None:
        """Stops serving and closes the database. Idempotent."""
        h, self._handle = self._handle, None
        if h is not None and _live.pop(h, 0) is None:
            _library().hues_sandbox_stop(h)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __del__(self) -> None:
        if getattr(self, "_handle", None) is not None and _lib is not None:
            try:
                self.stop()
            except Exception:
                pass

    def __repr__(self) -> str:
        return f"hues.testing.Sandbox(url={self.url!r}, tls_url={self.tls_url!r})"
