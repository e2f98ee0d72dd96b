"""Hue-S SDK for Python: the smart-city services of Huế (citizen reports and more).

    import hues
    client = hues.Client(base_url="https://api.hue-s.vn", api_key="hk_live_...", timeout=30)
    report = client.reports.create(
        category="street_light",
        description="Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo",
        location=hues.Location(lat=16.4726, lon=107.5885))
    for r in client.reports.list(status="submitted"):
        print(r.id, r.description)

Sign-in (OpenID Connect): hues.OidcClient, hues.UserCredentials, hues.ClientCredentials,
hues.TokenStore (see hues.identity).

Errors are hues.HuesError subclasses (see hues.errors). asyncio: hues.AsyncClient, or the
``*_async`` methods. In-process sandbox for tests: hues.testing.Sandbox.
"""

from __future__ import annotations

from typing import Any

from ._core import (
    AttributeValue,
    CallOptions,
    CancellationToken,
    AuthorizationRequest,
    Category,
    CategoryAttribute,
    CitizenProfile,
    ClientOptions,
    CredentialsProvider,
    DeviceAuthorization,
    ErrorBody,
    IdTokenClaims,
    Location,
    Logger,
    LogLevel,
    NewReport,
    OidcOptions,
    ProviderMetadata,
    Report,
    ReportPage,
    ReportPager,
    ReportQuery,
    RetryPolicy,
    TokenSet,
)
from ._client import Client, Reports
from .identity import (
    ClientCredentials,
    FileTokenStore,
    LoopbackReceiver,
    MemoryTokenStore,
    OidcClient,
    TokenStore,
    UserCredentials,
    api_key_credentials,
)
from .errors import (
    ApiError,
    AuthenticationError,
    CancelledError,
    ConflictError,
    HuesConnectionError,
    HuesError,
    HuesTimeoutError,
    InvalidTokenError,
    NotFoundError,
    OAuthError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ServerError,
    TlsError,
    TransportError,
    ValidationError,
)

__version__ = "0.1.0"

__all__ = [
    "AsyncClient", "AttributeValue", "CallOptions", "CancellationToken", "Category",
    "CategoryAttribute", "Client", "ClientOptions", "ErrorBody", "Location", "Logger", "LogLevel",
    "NewReport", "Report", "ReportPage", "ReportPager", "ReportQuery", "Reports", "RetryPolicy",
    # identity
    "AuthorizationRequest", "CitizenProfile", "ClientCredentials", "CredentialsProvider",
    "DeviceAuthorization", "FileTokenStore", "IdTokenClaims", "LoopbackReceiver",
    "MemoryTokenStore", "OidcClient", "OidcOptions", "ProviderMetadata", "TokenSet",
    "TokenStore", "UserCredentials", "api_key_credentials",
    "ApiError", "AuthenticationError", "CancelledError", "ConflictError", "HuesConnectionError",
    "HuesError", "HuesTimeoutError", "InvalidTokenError", "NotFoundError", "OAuthError",
    "PermissionDeniedError", "ProtocolError", "RateLimitError", "ServerError", "TlsError",
    "TransportError", "ValidationError",
]


def __getattr__(name: str) -> Any:
    # asyncio and the sandbox load on first use, keeping `import hues` fast.
    if name == "AsyncClient":
        from .aio import AsyncClient
        return AsyncClient
    if name in ("aio", "testing"):
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'hues' has no attribute {name!r}")
