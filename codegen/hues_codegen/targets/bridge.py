"""The native boundary's call table (sdk/src/bridge.cpp includes it): for each IR call, what
the generic executor needs to turn JSON args into an HTTP request or an object method."""

from __future__ import annotations

import json

from ..render import environment


def cstr(value: object) -> str:
    return json.dumps("" if value is None else str(value), ensure_ascii=False)


def generate(ir: dict, out) -> None:
    env = environment("bridge", cstr=cstr)
    out.write("bridge_calls.inc", env.get_template("bridge_calls.inc.j2").render(ir=ir))
