"""Citizen identity: OpenID Connect sign-in (code + PKCE, device flow), client credentials
and credentials that refresh themselves. The flows run in the C++ core; these classes add
keywords, seconds and asyncio.

    oidc = hues.OidcClient(issuer="https://id.hue-s.vn", client_id="hues-cli")
    device = oidc.start_device_authorization("openid profile reports:write")
    print("Open", device.verification_uri, "and enter", device.user_code)
    tokens = oidc.poll_device_token(device)            # or: await oidc.poll_device_token_async(device)
    user = hues.UserCredentials(oidc, MyKeyringStore(), "citizen", tokens)
    client = hues.Client(base_url="https://api.hue-s.vn", credentials=user)
    print(client.me().name)
"""

from __future__ import annotations

import copy
import os
from typing import Any, Iterable, Optional, Union

from . import _core
from ._client import _AsyncWorkers, _call_options, _client_options, _to_ms
from ._core import (
    AuthorizationRequest,
    CallOptions,
    CancellationToken,
    CitizenProfile,
    DeviceAuthorization,
    IdTokenClaims,
    OidcOptions,
    ProviderMetadata,
    TokenSet,
    TokenStore,
)

__all__ = [
    "ClientCredentials", "FileTokenStore", "LoopbackReceiver", "MemoryTokenStore", "OidcClient",
    "TokenStore", "UserCredentials", "api_key_credentials",
]


def MemoryTokenStore() -> TokenStore:
    """Tokens kept in memory only: lost when the process ends."""
    return _core.make_memory_token_store()


def FileTokenStore(directory: Union[str, os.PathLike]) -> TokenStore:
    """One JSON file per key in ``directory``, created with mode 0600."""
    return _core.make_file_token_store(os.fspath(directory))


def api_key_credentials(api_key: str) -> _core.CredentialsProvider:
    """A partner API key as credentials (what ``hues.Client(api_key=...)`` does)."""
    return _core.api_key_credentials(api_key)


class OidcClient(_AsyncWorkers, _core.OidcClient):
    """A client of an OpenID provider (the sandbox, or the city's identity service).

    >>> oidc = hues.OidcClient(issuer=sb.tls_url, client_id="hues-demo-app", ca_file=sb.ca_file)

    ``client_secret`` only for confidential clients (sent with Basic auth, or in the form with
    ``client_secret_post=True``). ``clock_skew`` and ``refresh_margin`` are seconds. Transport
    keywords are hues.Client's (timeout, ca_file, proxy, logger...). Thread-safe.
    """

    def __init__(self, issuer: Optional[str] = None, client_id: Optional[str] = None, *,
                 client_secret: Optional[str] = None, client_secret_post: Optional[bool] = None,
                 allowed_algorithms: Optional[Iterable[str]] = None,
                 clock_skew: Optional[int] = None, refresh_margin: Optional[int] = None,
                 max_async_workers: int = 8, options: Optional[OidcOptions] = None,
                 **transport: Any) -> None:
        opts = OidcOptions() if options is None else copy.copy(options)
        opts.http = _client_options(opts.http, **transport)
        for field, value in (("issuer", issuer), ("client_id", client_id),
                             ("client_secret", client_secret),
                             ("client_secret_post", client_secret_post),
                             ("clock_skew_seconds", clock_skew),
                             ("refresh_margin_seconds", refresh_margin)):
            if value is not None:
                setattr(opts, field, value)
        if allowed_algorithms is not None:
            opts.allowed_algorithms = list(allowed_algorithms)
        for field in ("issuer", "client_id"):
            if not getattr(opts, field):
                from .errors import ValidationError
                raise ValidationError(f"{field} is required", code="validation_error", field=field)
        super().__init__(opts)
        self._max_async_workers = max_async_workers

    def poll_device_token(self, device: DeviceAuthorization, *, cancel: Optional[CancellationToken] = None,
                          options: Optional[CallOptions] = None) -> TokenSet:
        """Polls until the person approves (returns the tokens), denies (OAuthError
        access_denied), the code expires (OAuthError expired_token) or ``cancel`` fires
        (CancelledError)."""
        return super().poll_device_token(device, _call_options(options, cancel=cancel))

    # asyncio forms: the same calls on this client's worker threads, with the GIL released.
    async def metadata_async(self) -> ProviderMetadata:
        from .aio import run_blocking
        return await run_blocking(self, self.metadata)

    async def authorization_request_async(self, redirect_uri: str, scope: str) -> AuthorizationRequest:
        from .aio import run_blocking
        return await run_blocking(self, self.authorization_request, redirect_uri, scope)

    async def exchange_code_async(self, request: AuthorizationRequest, redirected_to: str) -> TokenSet:
        from .aio import run_blocking
        return await run_blocking(self, self.exchange_code, request, redirected_to)

    async def start_device_authorization_async(self, scope: str) -> DeviceAuthorization:
        from .aio import run_blocking
        return await run_blocking(self, self.start_device_authorization, scope)

    async def poll_device_token_async(self, device: DeviceAuthorization, *,
                                      cancel: Optional[CancellationToken] = None,
                                      options: Optional[CallOptions] = None) -> TokenSet:
        """Cancelling the awaiting task stops the polling too."""
        from .aio import run_call
        return await run_call(self, lambda d, o: _core.OidcClient.poll_device_token(self, d, o),
                              _call_options(options, cancel=cancel), device)

    async def client_credentials_async(self, scope: str = "") -> TokenSet:
        from .aio import run_blocking
        return await run_blocking(self, self.client_credentials, scope)

    async def refresh_async(self, refresh_token: str, scope: str = "") -> TokenSet:
        from .aio import run_blocking
        return await run_blocking(self, self.refresh, refresh_token, scope)

    async def revoke_async(self, token: str, token_type_hint: str = "") -> None:
        from .aio import run_blocking
        return await run_blocking(self, self.revoke, token, token_type_hint)

    async def validate_id_token_async(self, id_token: str, expected_nonce: str = "") -> IdTokenClaims:
        from .aio import run_blocking
        return await run_blocking(self, self.validate_id_token, id_token, expected_nonce)

    async def userinfo_async(self, access_token: str) -> CitizenProfile:
        from .aio import run_blocking
        return await run_blocking(self, self.userinfo, access_token)

    def __repr__(self) -> str:
        o = self.options
        return f"hues.OidcClient(issuer={o.issuer!r}, client_id={o.client_id!r})"


class LoopbackReceiver(_core.LoopbackReceiver):
    """A one-shot listener on 127.0.0.1 for a native app's redirect (RFC 8252): pass
    ``redirect_uri`` to OidcClient.authorization_request(), open the URL in a browser, then
    ``wait()`` returns the URL the browser was redirected to."""

    def wait(self, timeout: float = 300) -> str:  # type: ignore[override]
        """Raises HuesTimeoutError after ``timeout`` seconds."""
        return super().wait(_to_ms(timeout, "timeout"))

    async def wait_async(self, timeout: float = 300) -> str:
        import asyncio
        ms = _to_ms(timeout, "timeout")
        return await asyncio.get_running_loop().run_in_executor(None, _core.LoopbackReceiver.wait, self, ms)

    def __repr__(self) -> str:
        return f"hues.LoopbackReceiver(redirect_uri={self.redirect_uri!r})"


def _oidc(oidc: Any) -> _core.OidcClient:
    if not isinstance(oidc, _core.OidcClient):
        raise TypeError(f"oidc: expected hues.OidcClient, got {type(oidc).__name__}")
    return oidc


class ClientCredentials(_core.ClientCredentials):
    """Client credentials for a partner backend: fetches a token on first use and again
    before it expires. Pass it as ``hues.Client(credentials=...)``."""

    def __init__(self, oidc: OidcClient, scope: str = "") -> None:
        super().__init__(_oidc(oidc), scope)
        self.oidc = oidc

    async def access_token_async(self) -> str:
        from .aio import run_blocking
        return await run_blocking(self.oidc, self.access_token)

    def __repr__(self) -> str:
        return f"hues.ClientCredentials(oidc={self.oidc!r}, fetch_count={self.fetch_count})"


class UserCredentials(_core.UserCredentials):
    """A signed-in person's tokens: refreshed before they expire (one refresh however many
    threads ask) and saved to ``store`` under ``key`` after each change. Without ``tokens``,
    restores what the store holds. ``store`` defaults to memory."""

    def __init__(self, oidc: OidcClient, store: Optional[TokenStore] = None, key: str = "default",
                 tokens: Optional[TokenSet] = None) -> None:
        if store is not None and not isinstance(store, TokenStore):
            raise TypeError(f"store: expected a hues.TokenStore, got {type(store).__name__}")
        super().__init__(_oidc(oidc), store, key, tokens if tokens is not None else TokenSet())
        self.oidc = oidc

    async def tokens_async(self) -> TokenSet:
        from .aio import run_blocking
        return await run_blocking(self.oidc, self.tokens)

    async def sign_out_async(self) -> None:
        from .aio import run_blocking
        return await run_blocking(self.oidc, self.sign_out)

    def __repr__(self) -> str:
        return f"hues.UserCredentials(oidc={self.oidc!r}, signed_in={self.signed_in})"
