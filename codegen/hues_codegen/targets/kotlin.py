"""Kotlin target: a coroutine layer over the generated Java classes (package vn.hues.sdk.kotlin).

Per IR object a wrapper class with a `suspend fun` for every call (the Java ...Async future
awaited with cancellation), per service the same, `Flow` for paged calls, and per model a
DSL builder (`newReport { location { lat = ...} }`). The Java models, enums and exceptions
are used as they are."""

from __future__ import annotations

from typing import Any

from .. import render
from .java import Ctx, SKIPPED_MODELS, ident as java_ident, prune

KOTLIN_KEYWORDS = set("""as break class continue do else false for fun if in interface is null object package
return super this throw true try typealias typeof val var when while""".split())


def kident(name: str) -> str:
    c = render.camel(name)
    return f"`{c}`" if c in KOTLIN_KEYWORDS else c


class KCtx:
    def __init__(self, ir: dict):
        self.j = Ctx(ir)
        self.ir = ir

    def ktype(self, t: dict, dsl: bool = False) -> str:
        k = t["kind"]
        simple = {"string": "String", "int32": "Int", "int64": "Long", "double": "Double", "bool": "Boolean",
                  "datetime": "java.time.Instant"}
        if k in simple:
            return simple[k]
        if k in ("enum", "model"):
            return f"vn.hues.sdk.model.{t['name']}"
        if k == "array":
            return f"List<{self.ktype(t['items'])}>"
        if k == "bytes":
            return "ByteArray"
        if k == "map":
            return f"Map<String, {self.ktype(t['values'])}>"
        if k == "handle":
            iface = t["interface"]
            if dsl and iface in self.j.objects:
                return self.j.object_class(iface)  # the Kotlin wrapper
            return self.j.iface_type(iface)
        raise ValueError(k)

    def kdefault(self, t: dict, value: Any) -> str:
        lit = self.j.literal(t, value)
        k = t["kind"]
        if k == "int64":
            return lit  # 300000L is valid Kotlin
        if k == "array":
            return "listOf(" + ", ".join(self.kdefault(t["items"], x) for x in value) + ")"
        return lit

    def result(self, c: dict) -> str:
        rt = c["result_type"] if c["kind"] == "http" else c["result"]
        return "Unit" if rt is None else self.ktype(rt)

    def kdoc(self, text: str, indent: str = "  ") -> str:
        return self.j.javadoc(text, indent)


def generate(ir: dict, out: render.Output) -> None:
    k = KCtx(ir)
    env = render.environment("kotlin", ktype=k.ktype, kident=kident, jident=java_ident, kdefault=k.kdefault,
                             kresult=k.result, kdoc=k.kdoc, object_class=k.j.object_class,
                             iface_type=k.j.iface_type)
    models = [m for m in ir["models"] if m["name"] not in SKIPPED_MODELS]
    services = [s for s in ir["services"] if s["name"] != "client"]
    client_calls = [c for s in ir["services"] if s["name"] == "client" for c in s["calls"]]
    env.globals.update(ir=ir, objects={o["name"]: o for o in ir["objects"]}, pascal=render.pascal,
                       callbacks={c["name"] for c in ir["callbacks"]},
                       progress_callbacks=[c for c in ir["callbacks"] if c.get("progress")],
                       byte_source_interfaces={c["name"] for c in ir["callbacks"] if c.get("byte_source")})
    out.write("vn/hues/sdk/kotlin/Models.kt", env.get_template("models.kt.j2").render(models=models))
    out.write("vn/hues/sdk/kotlin/Services.kt", env.get_template("services.kt.j2").render(
        services=services, objects=ir["objects"], client_calls=client_calls,
        models={m["name"]: m for m in models}))
    prune(out)
