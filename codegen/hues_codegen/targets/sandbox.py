"""Sandbox target: the route table (method + path template -> handler) of the sandbox's
HTTP API. Validation is not generated here: the sandbox links the C++ target's call table
and validators, the same ones the SDK uses."""

from __future__ import annotations

from ..render import environment, pascal

FILES = ["routes.h", "routes.cpp"]


def generate(model: dict, out) -> None:
    http = [c for c in model["calls"] if c["kind"] == "http"]
    paths: dict[str, list[str]] = {}
    for c in http:
        paths.setdefault(c["path"], []).append(c["http_method"])
    allow = {}
    for path, methods in paths.items():
        ms = set(methods) | ({"HEAD"} if "GET" in methods else set())
        order = ["GET", "HEAD"] + sorted(m for m in ms if m not in ("GET", "HEAD"))
        allow[path] = ", ".join(m for m in order if m in ms)
    routes = [dict(c, handler="k" + pascal(c["operation_id"]),
                   segments=[s for s in c["path"].split("/") if s], allow=allow[c["path"]]) for c in http]
    # A literal segment wins over a parameter (/v1/reports/duplicates before /v1/reports/{id}):
    # the sandbox takes the first route that matches.
    routes.sort(key=lambda r: [s.startswith("{") for s in r["segments"]])
    env = environment("sandbox")
    for f in FILES:
        out.write(f, env.get_template(f + ".j2").render(routes=routes, spec_hash=model["spec_hash"]))
