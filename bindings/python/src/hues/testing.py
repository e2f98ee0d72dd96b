"""The Hue-S sandbox in-process, for tests and demos: ``hues.testing.Sandbox``.

The sandbox is not part of the SDK an app ships: it is its own distribution, hues-testing
(module hues_testing, with the sandbox library), which this module re-exports when it is
installed beside hues.

    with hues.testing.Sandbox() as sb:
        client = sb.client()
"""

try:
    from hues_testing import Sandbox, SandboxError
except ImportError as e:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "hues.testing needs the hues-testing distribution (the in-process sandbox, kept out of the "
        "SDK an app ships); install it beside hues") from e

__all__ = ["Sandbox", "SandboxError"]
