"""The Hue-S sandbox in-process: a real HTTP and HTTPS server over a real SQLite database,
on ephemeral loopback ports, for tests and demos.

    with hues.testing.Sandbox() as sb:
        client = sb.client()                 # plain HTTP, the seeded test key
        tls_client = sb.client(tls=True)     # HTTPS, trusting the sandbox's development CA
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Union

from . import _core
from ._client import Client

if TYPE_CHECKING:
    from .aio import AsyncClient

__all__ = ["Sandbox"]


class Sandbox:
    """Started on construction, stopped by stop() or on leaving the ``with`` block.

    ``data_dir`` holds sandbox.db and the development CA; by default a fresh temporary
    directory, removed on stop. ``tls_port=-1`` disables HTTPS.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, tls_port: int = 0,
                 data_dir: Union[str, os.PathLike, None] = None, threads: int = 2) -> None:
        opts = _core.SandboxOptions()
        opts.host, opts.port, opts.tls_port, opts.threads = host, port, tls_port, threads
        if data_dir is not None:
            opts.data_dir = os.fspath(data_dir)
        self._core = _core.Sandbox(opts)

    url = property(lambda self: self._core.url, doc='"http://127.0.0.1:PORT"')
    tls_url = property(lambda self: self._core.tls_url, doc='"https://localhost:PORT", "" without TLS')
    ca_file = property(lambda self: self._core.ca_file, doc="PEM of the CA that signed the TLS certificate")
    api_key = property(lambda self: self._core.api_key, doc="the seeded partner test key")
    data_dir = property(lambda self: self._core.data_dir)
    port = property(lambda self: self._core.port)
    tls_port = property(lambda self: self._core.tls_port)

    def client(self, *, tls: bool = False, **kwargs: Any) -> Client:
        """A Client for this sandbox (keywords as for hues.Client, e.g. api_key= to override)."""
        return Client(**self._client_kwargs(tls, kwargs))

    def async_client(self, *, tls: bool = False, **kwargs: Any) -> "AsyncClient":
        from .aio import AsyncClient
        return AsyncClient(**self._client_kwargs(tls, kwargs))

    def _client_kwargs(self, tls: bool, kwargs: dict) -> dict:
        kwargs.setdefault("api_key", self.api_key)
        if tls:
            kwargs.setdefault("ca_file", self.ca_file)
        kwargs["base_url"] = self.tls_url if tls else self.url
        return kwargs

    def stop(self) -> None:
        """Stops serving and closes the database. Idempotent."""
        self._core.stop()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"hues.testing.Sandbox(url={self.url!r}, tls_url={self.tls_url!r})"
