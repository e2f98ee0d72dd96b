"""Java target: models (vn.hues.sdk.model), the codec and call table (vn.hues.sdk.internal),
services, objects, callback interfaces and the exception hierarchy (vn.hues.sdk).

Everything per operation, model, object, callback and error is rendered here from the IR;
the hand-written runtime in bindings/java/src/main/java is generic (JNI glue, JSON, futures,
host-object bridge). See bindings/java/README.md."""

from __future__ import annotations

import json
from typing import Any

from .. import render

PKG = "vn.hues.sdk"
MODEL_PKG = "vn.hues.sdk.model"
INTERNAL_PKG = "vn.hues.sdk.internal"

JAVA_KEYWORDS = set("""abstract assert boolean break byte case catch char class const continue default do
double else enum extends final finally float for goto if implements import instanceof int interface long
native new package private protected public return short static strictfp super switch synchronized this
throw throws transient try void volatile while var record yield true false null""".split())

# Models the hand-written runtime owns (not reachable in the IR today; see README).
SKIPPED_MODELS = {"CallOptions"}


def ident(name: str) -> str:
    c = render.camel(name)
    return c + "_" if c in JAVA_KEYWORDS else c


def error_class(cls: str) -> str:
    """IR error class -> Java exception name: Error -> HuesException, XError -> XException."""
    if cls == "Error":
        return "HuesException"
    return (cls[:-5] if cls.endswith("Error") else cls) + "Exception"


class Ctx(render.IrIndex):
    def __init__(self, ir: dict):
        super().__init__(ir, skip=frozenset(SKIPPED_MODELS))

    # ---- names ----
    def object_class(self, name: str) -> str:
        return "HuesClient" if name == "Client" else render.pascal(name)

    def iface_type(self, iface: str) -> str:
        if iface in self.objects:
            return f"{PKG}.{self.object_class(iface)}"
        return f"{PKG}.{render.pascal(iface)}"

    # ---- types ----
    def jtype(self, t: dict, boxed: bool = False) -> str:
        k = t["kind"]
        prim = {"int32": ("int", "Integer"), "int64": ("long", "Long"), "double": ("double", "Double"),
                "bool": ("boolean", "Boolean")}
        if k in prim:
            return prim[k][1 if boxed else 0]
        if k == "string":
            return "String"
        if k == "datetime":
            return "java.time.Instant"
        if k == "enum":
            return f"{MODEL_PKG}.{t['name']}"
        if k == "model":
            return f"{MODEL_PKG}.{t['name']}"
        if k == "array":
            return f"java.util.List<{self.jtype(t['items'], True)}>"
        if k == "bytes":
            return "byte[]"
        if k == "map":
            return f"java.util.Map<String, {self.jtype(t['values'], True)}>"
        if k == "handle":
            return self.iface_type(t["interface"])
        raise ValueError(k)

    def is_primitive(self, t: dict) -> bool:
        return t["kind"] in ("int32", "int64", "double", "bool")

    def field_type(self, f: dict) -> str:
        """The model's own field type: primitive when always present, boxed when absent is possible."""
        always = (f["required"] or f["has_default"]) and not f["nullable"]
        return self.jtype(f["type"], boxed=not always)

    def always_present(self, f: dict) -> bool:
        return (f["required"] or f["has_default"]) and not f["nullable"]

    # ---- codec expressions ----
    def decode(self, t: dict, v: str, d: int = 0) -> str:
        k = t["kind"]
        if k == "string":
            return f"Json.str({v})"
        if k == "int32":
            return f"Json.i32({v})"
        if k == "int64":
            return f"Json.i64({v})"
        if k == "double":
            return f"Json.f64({v})"
        if k == "bool":
            return f"Json.bool({v})"
        if k == "datetime":
            return f"Json.instant({v})"
        if k == "enum":
            return f"{MODEL_PKG}.{t['name']}.of(Json.str({v}))"
        if k == "model":
            return f"decode{t['name']}({v})"
        if k == "array":
            return f"Json.list({v}, x{d} -> {self.decode(t['items'], f'x{d}', d + 1)})"
        if k == "bytes":
            return f"Json.bytes({v})"
        if k == "map":
            return f"Json.dict({v}, x{d} -> {self.decode(t['values'], f'x{d}', d + 1)})"
        if k == "handle":
            return "null /* handles do not come back */"
        raise ValueError(k)

    def encode(self, t: dict, v: str, d: int = 0) -> str:
        k = t["kind"]
        if k in ("string", "int32", "int64", "double", "bool"):
            return v
        if k == "datetime":
            return f"Json.instant({v})"
        if k == "enum":
            return f"{v}.value()"
        if k == "model":
            return f"encode({v}, handles)"
        if k == "array":
            return f"Json.map({v}, x{d} -> {self.encode(t['items'], f'x{d}', d + 1)})"
        if k == "bytes":
            return f"Json.bytes({v})"
        if k == "map":
            return f"Json.encodeDict({v}, x{d} -> {self.encode(t['values'], f'x{d}', d + 1)})"
        if k == "handle":
            return f"handles.handle({v}, \"{t['interface']}\")"
        raise ValueError(k)

    def literal(self, t: dict, value: Any) -> str:
        k = t["kind"]
        if value is None:
            return "null"
        if k == "string":
            return json.dumps(value, ensure_ascii=False)
        if k == "int32":
            return str(int(value))
        if k == "int64":
            return f"{int(value)}L"
        if k == "double":
            return repr(float(value))
        if k == "bool":
            return "true" if value else "false"
        if k == "enum":
            return f"{MODEL_PKG}.{t['name']}.of({json.dumps(value)})"
        if k == "array":
            return "java.util.List.of(" + ", ".join(self.literal(t["items"], x) for x in value) + ")"
        if k == "datetime":
            return f"java.time.Instant.parse({json.dumps(value)})"
        raise ValueError(f"no literal for {k}")

    def javadoc(self, text: str, indent: str = "  ") -> str:
        text = (text or "").strip().replace("*/", "*&#47;")
        if not text:
            return ""
        lines = text.splitlines()
        if len(lines) == 1:
            return f"{indent}/** {lines[0]} */"
        return f"{indent}/**\n" + "".join((f"{indent} * {ln}" if ln.strip() else f"{indent} *") + "\n" for ln in lines) + f"{indent} */"

    # ---- calls ----
    def result_type(self, c: dict) -> str:
        if c["kind"] == "http":
            rt = c["result_type"]
        else:
            rt = c["result"]
        return "Void" if rt is None else self.jtype(rt, boxed=True)

    def result_decoder(self, c: dict) -> str:
        """A Decoder lambda over the parsed result JSON (ModelCodec and Json statically imported)."""
        rt = c["result_type"] if c["kind"] == "http" else c["result"]
        if rt is None:
            return "j -> null"
        if c["kind"] == "http" and c["result_field"]:
            return "j -> " + self.decode(rt, f"Json.field(j, \"{c['result_field']}\")")
        return "j -> " + self.decode(rt, "j")

    def http_signature(self, c: dict) -> dict:
        """Parameters of a service method: path params positional, then the query model or body."""
        params = [(self.jtype(p["type"]), ident(p["name"]), p) for p in c["params"]]
        extra = None
        if c["query_model"]:
            extra = (f"{MODEL_PKG}.{c['query_model']}", "query")
        elif c["body"]:
            extra = (f"{MODEL_PKG}.{c['body']}", "body")
        decl = [f"{t} {n}" for t, n, _ in params]
        names = [n for _, n, _ in params]
        if extra:
            decl.append(f"{extra[0]} {extra[1]}")
            names.append(extra[1])
        return {"decl": decl, "names": names, "path": params, "extra": extra}

    def args_code(self, c: dict, indent: str) -> str:
        lines = [f"{indent}java.util.Map<String, Object> args = new java.util.LinkedHashMap<>();"]
        for p in c["params"]:
            lines.append(f"{indent}args.put(\"{p['json']}\", java.util.Objects.requireNonNull({ident(p['name'])}, \"{p['name']}\"));")
        if c["query_model"]:
            lines.append(f"{indent}if (query != null) args.putAll(encode(query, handles));")
        elif c["body"]:
            lines.append(f"{indent}args.put(\"body\", encode(java.util.Objects.requireNonNull(body, \"body\"), handles));")
        return "\n".join(lines)

    def method_args_code(self, c: dict, indent: str) -> str:
        lines = [f"{indent}java.util.Map<String, Object> args = new java.util.LinkedHashMap<>();"]
        for a in c["args"]:
            n = ident(a["name"])
            if self.is_primitive(a["type"]):
                lines.append(f"{indent}args.put(\"{a['json']}\", {n});")
            else:
                lines.append(f"{indent}if ({n} != null) args.put(\"{a['json']}\", {self.encode(a['type'], n)});")
        return "\n".join(lines)


def generate(ir: dict, out: render.Output) -> None:
    ctx = Ctx(ir)
    env = render.environment("java", jtype=ctx.jtype, ident=ident, error_class=error_class,
                             field_type=ctx.field_type, javadoc=ctx.javadoc, literal=ctx.literal,
                             decode=ctx.decode, encode=ctx.encode, object_class=ctx.object_class,
                             iface_type=ctx.iface_type, result_type=ctx.result_type,
                             result_decoder=ctx.result_decoder, http_signature=ctx.http_signature,
                             args_code=ctx.args_code, method_args_code=ctx.method_args_code,
                             tojson=lambda v: json.dumps(v, ensure_ascii=False))
    env.globals.update(ctx=ctx, ir=ir, always_present=ctx.always_present, is_primitive=ctx.is_primitive,
                       pascal=render.pascal,
                       byte_source_interfaces={cb["name"] for cb in ir["callbacks"] if cb.get("byte_source")})

    def emit(template: str, path: str, **kw: Any) -> None:
        out.write(path, env.get_template(template).render(**kw))

    base = "vn/hues/sdk"
    for m in ctx.models.values():
        emit("model.java.j2", f"{base}/model/{m['name']}.java", m=m)
    for e in ctx.enums.values():
        emit("enum.java.j2", f"{base}/model/{e['name']}.java", e=e)
    emit("codec.java.j2", f"{base}/internal/ModelCodec.java", models=list(ctx.models.values()))
    errors = ir["errors"]
    by_class = {e["class"]: e for e in errors}
    for e in errors:
        emit("error.java.j2", f"{base}/{error_class(e['class'])}.java", e=e,
             base_class=error_class(e["base"]) if e["base"] else None)
    emit("errors.java.j2", f"{base}/internal/ErrorMapper.java", errors=errors, by_class=by_class)
    client_calls = [c for s in ir["services"] if s["name"] == "client" for c in s["calls"]]
    services = [s for s in ir["services"] if s["name"] != "client"]
    for s in services:
        emit("service.java.j2", f"{base}/{render.pascal(s['name'])}Service.java", s=s)
    callback_names = set(ctx.callbacks)
    implemented = {o["implements"] for o in ir["objects"] if o["implements"]}
    for iface in sorted(implemented - callback_names - set(ctx.objects)):
        emit("interface.java.j2", f"{base}/{render.pascal(iface)}.java", name=iface,
             implementers=[o["name"] for o in ir["objects"] if o["implements"] == iface])
    for o in ir["objects"]:
        emit("object.java.j2", f"{base}/{ctx.object_class(o['name'])}.java", o=o,
             config=ctx.models.get(o["config"]) if o["config"] else None,
             services=services if o["name"] == "Client" else [],
             client_calls=client_calls if o["name"] == "Client" else [],
             callback=ctx.callbacks.get(o["implements"] or ""))
    for cb in ir["callbacks"]:
        emit("callback.java.j2", f"{base}/{render.pascal(cb['name'])}.java", cb=cb)
    emit("callbacks.java.j2", f"{base}/internal/CallbackDispatch.java", callbacks=ir["callbacks"])
    emit("spec.java.j2", f"{base}/internal/Spec.java")
    prune(out)


def prune(out: render.Output) -> None:
    """Removes generated files of this target that the spec no longer produces."""
    written = {p.resolve() for p in out.written}
    for path in out.root.rglob("*"):
        if path.is_file() and path.suffix in (".java", ".kt") and path.resolve() not in written:
            path.unlink()
