"""Errors raised by the Hue-S SDK.

One class per hues::ErrorType of the C++ core (the binding raises them). Every error carries
``http_status`` (0 when no response arrived), the server's or SDK's ``code``, the
``request_id`` to quote to Hue-S support, the ``field`` a validation error is about
(``"location.lat"``) and whether a retry may help (``retryable``).
"""

from __future__ import annotations

import builtins

__all__ = [
    "HuesError",
    "ApiError",
    "ValidationError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "ServerError",
    "TransportError",
    "HuesTimeoutError",
    "TlsError",
    "HuesConnectionError",
    "ProtocolError",
    "CancelledError",
    "OAuthError",
    "InvalidTokenError",
]


class HuesError(Exception):
    """Base class of every error the SDK raises."""

    def __init__(
        self,
        message: str = "",
        *,
        http_status: int = 0,
        code: str = "",
        request_id: str = "",
        field: str = "",
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.code = code
        self.request_id = request_id
        self.field = field
        self.retryable = retryable

    def __str__(self) -> str:
        details = [
            f"{name}={value}"
            for name, value in (
                ("http_status", self.http_status),
                ("code", self.code),
                ("field", self.field),
                ("request_id", self.request_id),
            )
            if value
        ]
        return f"{self.message} ({', '.join(details)})" if details else self.message

    def __reduce__(self):  # keeps the attributes across pickling (process pools)
        return (
            _rebuild,
            (type(self), self.message, self.http_status, self.code, self.request_id,
             self.field, self.retryable),
        )


def _rebuild(cls, message, http_status, code, request_id, field, retryable):
    return cls(message, http_status=http_status, code=code, request_id=request_id,
               field=field, retryable=retryable)


class ApiError(HuesError):
    """The server answered with an error status."""


class ValidationError(ApiError):
    """400/422, or options rejected by the SDK before sending; see ``field``."""


class AuthenticationError(ApiError):
    """401: missing or wrong credentials."""


class PermissionDeniedError(ApiError):
    """403."""


class NotFoundError(ApiError):
    """404."""


class ConflictError(ApiError):
    """409, e.g. an Idempotency-Key reused with another body."""


class RateLimitError(ApiError):
    """429 (after the SDK's own retries, which honour Retry-After)."""


class ServerError(ApiError):
    """5xx."""


class TransportError(HuesError):
    """No usable response arrived."""


# Prefixed so that `from hues import *` cannot shadow the builtins; they still subclass them,
# so `except TimeoutError` and `except ConnectionError` catch the SDK's errors too.
class HuesTimeoutError(TransportError, builtins.TimeoutError):
    """A connect, attempt or overall deadline passed."""


class TlsError(TransportError):
    """The TLS handshake or certificate verification failed."""


class HuesConnectionError(TransportError, builtins.ConnectionError):
    """Connection refused or reset, or a DNS or proxy failure."""


class ProtocolError(TransportError):
    """A malformed, truncated or oversized response."""


class CancelledError(HuesError):
    """The call was cancelled through its CancellationToken."""


class OAuthError(ApiError):
    """An OAuth 2.0 error answer; ``code`` is the OAuth error (invalid_grant, access_denied...)."""


class InvalidTokenError(HuesError):
    """A token failed validation; ``code`` names the check (signature, exp, aud, nonce, state...)."""
