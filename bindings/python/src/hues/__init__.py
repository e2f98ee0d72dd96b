"""Hue-S SDK for Python: the smart-city services of Huế (citizen reports, identity, ...).

    import hues
    client = hues.Client(base_url="https://api.hue-s.vn", api_key="hk_live_...", timeout=30)
    report = client.reports.create(
        category="street_light",
        description="Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo",
        location=hues.Location(lat=16.4726, lon=107.5885))
    for r in client.reports.list(status=hues.ReportStatus.SUBMITTED):
        print(r.id, r.description)

asyncio: ``hues.AsyncClient`` (same keywords; ``await client.reports.get(id)``,
``async for r in client.reports.list(...)``). Sign-in: hues.OidcClient,
hues.UserCredentials, hues.ClientCredentials, hues.TokenStore. Errors: hues.Error and its
subclasses. In-process sandbox for tests: ``hues.testing.Sandbox``.

Everything per operation, model and error is generated from docs/openapi.yaml into
hues._generated; this package adds the generic runtime (hues._runtime) and idioms.
"""

from __future__ import annotations

from . import _idioms  # noqa: F401  (loggers, HUES_API_KEY)
from ._generated import SPEC_HASH, SPEC_VERSION
from ._generated.callbacks import *  # noqa: F403
from ._generated.errors import *  # noqa: F403
from ._generated.models import *  # noqa: F403
from ._generated.objects import *  # noqa: F403
from ._generated import callbacks as _c, errors as _e, models as _m, objects as _o
from ._generated.errors import ConnectionError as HuesConnectionError
from ._generated.errors import Error as HuesError
from ._generated.errors import TimeoutError as HuesTimeoutError
from ._idioms import Event, EventStream, events
from ._progress import ProgressStream
from ._runtime import AsyncPager, AsyncSubscription, CallOptions, CancellationToken, Pager, Subscription

__version__ = "0.1.0"

# TimeoutError and ConnectionError (hues.TimeoutError, ...) subclass the builtins of the same
# names; `from hues import *` leaves them out so that it cannot shadow the builtins.
__all__ = sorted(
    {n for n in _m.__all__ + _e.__all__ + _c.__all__ + _o.__all__ if n not in ("TimeoutError", "ConnectionError")}
    | {"AsyncPager", "CallOptions", "CancellationToken", "Pager", "HuesError", "HuesTimeoutError",
       "HuesConnectionError", "SPEC_HASH", "SPEC_VERSION", "ProgressStream", "Event", "EventStream", "events",
       "Subscription", "AsyncSubscription"})
del _c, _e, _m, _o


def version() -> str:
    """The C++ core's version, e.g. "0.1.0"."""
    from . import _native
    return _native.version()
