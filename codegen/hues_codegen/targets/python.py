"""Python target: the package hues._generated (models, errors, callbacks, objects, services,
the sync Client and the AsyncClient), rendered from the IR into the build tree.

Everything per operation, model, object, callback and error is rendered here; the
hand-written runtime (bindings/python/src/hues/_runtime.py) and the native module
(_native.cpp) are generic. Models are rendered as expanded frozen, slotted dataclasses (the
methods @dataclass would write, written out here) so that `import hues` stays fast; the
runtime gives them `__dataclass_fields__` on first use (dataclasses.fields/replace/asdict).

Idioms decided here, for every object and call:
- durations: a field or argument `<x>_ms` is the keyword `<x>` in seconds (float);
  `deadline_ms` is `timeout`;
- enum parameters take the enum or its string; unknown values decode (open enums);
- path parameters are positional; query fields, body fields and call options keyword-only;
- handle fields accept the SDK objects that implement the interface, or a Python object
  implementing the callback interface (plus the IDIOM_HANDLE_TYPES extras).
"""

from __future__ import annotations

import keyword
import re
from typing import Any

from .. import render

# Keywords every call takes; a spec field of one of these names would be ambiguous.
CALL_KEYWORDS = ("timeout", "cancel", "options", "idempotency_key")
# Extra Python types a handle field of an interface accepts (adapted by the runtime).
IDIOM_HANDLE_TYPES = {"Logger": ["_logging.Logger", "Callable[[LogLevel, str], object]"]}
# IR error classes that also subclass a Python builtin of the same meaning.
BUILTIN_ERROR_BASES = {"TimeoutError": "builtins.TimeoutError", "ConnectionError": "builtins.ConnectionError"}
# Durations: `<x>_ms` -> keyword `<x>` in seconds; these get another name.
SECONDS_ALIASES = {"deadline_ms": "timeout", "timeout_ms": "timeout"}
# Models the hand-written runtime owns (CallOptions: seconds and a cancellation token).
SKIPPED_MODELS = {"CallOptions"}


class TargetError(Exception):
    pass


def ident(name: str) -> str:
    n = render.snake(name)
    return n + "_" if keyword.iskeyword(n) or n in ("self", "cls") else n


def member_name(value: str) -> str:
    n = re.sub(r"[^A-Za-z0-9]+", "_", value).strip("_").upper() or "EMPTY"
    return "_" + n if n[0].isdigit() else n


def doc_text(text: str, indent: str) -> str:
    """A docstring body: text re-indented, backslashes and triple quotes made safe."""
    text = (text or "").strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = text.splitlines() or [""]
    out = [lines[0]] + [(indent + ln) if ln.strip() else "" for ln in lines[1:]]
    return "\n".join(out)


def pylit(v: Any) -> str:
    if isinstance(v, bool):
        return "True" if v else "False"
    if v is None:
        return "None"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(pylit(x) for x in v) + "]"
    raise TargetError(f"cannot render default {v!r}")


class Ctx(render.IrIndex):
    def __init__(self, ir: dict):
        super().__init__(ir, skip=frozenset(SKIPPED_MODELS))

    # ---- handles ----
    def implementers(self, iface: str) -> list[str]:
        """Python classes a handle of `iface` accepts: SDK objects, then the callback class."""
        out = [o["name"] for o in self.ir["objects"] if o["name"] == iface or o["implements"] == iface]
        if iface in self.callbacks:
            out.append(iface)
        return out

    def handle_alias(self, iface: str) -> str:
        return f"{iface}Like"

    # ---- types ----
    def ann(self, t: dict) -> str:
        """The stored (attribute / result) type."""
        k = t["kind"]
        if k == "string":
            return "str"
        if k in ("int32", "int64"):
            return "int"
        if k == "double":
            return "float"
        if k == "bool":
            return "bool"
        if k == "datetime":
            return "_dt.datetime"
        if k in ("enum", "model"):
            return t["name"]
        if k == "array":
            return f"List[{self.ann(t['items'])}]"
        if k == "bytes":
            return "bytes"
        if k == "map":
            return f"Dict[str, {self.ann(t['values'])}]"
        if k == "handle":
            return self.handle_alias(t["interface"])
        raise TargetError(f"type {t}")

    def param_ann(self, t: dict) -> str:
        """What a parameter accepts: enums also as strings, arrays as any sequence."""
        k = t["kind"]
        if k == "enum":
            return f"Union[{t['name']}, str]"
        if k == "double":
            return "float"
        if k == "array":
            return f"Sequence[{self.param_ann(t['items'])}]"
        if k == "map":
            return f"Mapping[str, {self.param_ann(t['values'])}]"
        return self.ann(t)

    def dec(self, t: dict, expr: str) -> str:
        """JSON value -> stored value."""
        k = t["kind"]
        if k in ("string", "int32", "int64", "bool"):
            return expr
        if k == "double":
            return f"float({expr})"
        if k == "datetime":
            return f"_rt.parse_datetime({expr})"
        if k == "enum":
            return f"{t['name']}({expr})"
        if k == "model":
            return f"{t['name']}._from_json({expr})"
        if k == "array":
            inner = self.dec(t["items"], "_x")
            return expr if inner == "_x" else f"[{inner} for _x in {expr}]"
        if k == "bytes":
            return f"_rt.from_b64({expr})"
        if k == "map":
            inner = self.dec(t["values"], "_x")
            return f"dict({expr})" if inner == "_x" else f"{{_k: {inner} for _k, _x in {expr}.items()}}"
        if k == "handle":
            return "None"  # handles never come back from the native side
        raise TargetError(f"type {t}")

    def enc(self, t: dict, expr: str, where: str) -> str:
        """Stored (or parameter) value -> JSON value."""
        k = t["kind"]
        if k in ("string", "int32", "int64", "bool", "double", "enum"):
            return expr  # str-based enums are strings to json.dumps
        if k == "datetime":
            return f"_rt.format_datetime({expr}, {where!r})"
        if k == "model":
            return f"{expr}._to_json()"
        if k == "array":
            inner = self.enc(t["items"], "_x", where)
            return f"list({expr})" if inner == "_x" else f"[{inner} for _x in {expr}]"
        if k == "bytes":
            return f"_rt.to_b64({expr}, {where!r})"
        if k == "map":  # header names and the like: str keys, each value encoded
            inner = self.enc(t["values"], "_x", where)
            return f"{{str(_k): {inner} for _k, _x in {expr}.items()}}"
        if k == "handle":
            return f"_rt.handle({expr}, {t['interface']!r}, {where!r})"
        raise TargetError(f"type {t}")

    def conv(self, t: dict, expr: str) -> str:
        """Parameter value -> stored value (enums from strings, sequences to lists)."""
        k = t["kind"]
        if k == "enum":
            return f"{t['name']}({expr})"
        if k == "array":
            inner = self.conv(t["items"], "_x")
            return f"list({expr})" if inner == "_x" else f"[{inner} for _x in {expr}]"
        if k == "bytes":
            return f"bytes({expr})"
        if k == "map":
            inner = self.conv(t["values"], "_x")
            return f"dict({expr})" if inner == "_x" else f"{{_k: {inner} for _k, _x in {expr}.items()}}"
        return expr

    # ---- models ----
    def model_view(self, m: dict) -> dict:
        fields = []
        for f in m["fields"]:
            name = ident(f["name"])
            t = f["type"]
            stored = self.ann(t)
            param = self.param_ann(t)
            maybe_none = (f["optional"] and not f["has_default"]) or f["nullable"]
            if maybe_none:
                stored_ann = f"Optional[{stored}]"
                param_ann = f"Optional[{param}]"
            else:
                stored_ann, param_ann = stored, param
            default = None
            if f["has_default"]:
                dv = f["default"]
                if t["kind"] == "enum":
                    e = self.enums[t["name"]]
                    default = f"{t['name']}.{member_name(dv)}" if dv in e["values"] else pylit(dv)
                elif t["kind"] == "array":
                    # A fresh list per instance: the signature says None, the body fills in.
                    default = "None"
                    param_ann = f"Optional[{param}]"
                else:
                    default = pylit(dv)
            elif f["optional"] or f["nullable"]:
                default = "None" if maybe_none else None
            # __init__: parameter -> stored value
            conv = self.conv(t, name)
            if f["has_default"] and t["kind"] == "array":
                init = f"{pylit(f['default'])} if {name} is None else {conv}"
            elif maybe_none and conv != name:
                init = f"None if {name} is None else {conv}"
            else:
                init = conv
            # _from_json: JSON -> stored value
            key = f["json"]
            d_expr = self.dec(t, "_v")
            if t["kind"] == "handle":
                from_json, from_pre = "None", None  # handles never come back from the native side
            elif f["required"] and not f["nullable"]:
                from_json = self.dec(t, f"d[{key!r}]")
                from_pre = None
            elif f["has_default"]:
                if d_expr == "_v":
                    from_json = f"d.get({key!r}, {pylit(f['default'])})"
                    from_pre = None
                else:
                    fallback = default if t["kind"] != "array" else pylit(f["default"])
                    from_pre = f"_v = d.get({key!r})"
                    from_json = f"{fallback} if _v is None else {d_expr}"
            else:
                if d_expr == "_v":
                    from_json = f"d.get({key!r})"
                    from_pre = None
                else:
                    from_pre = f"_v = d.get({key!r})"
                    from_json = f"None if _v is None else {d_expr}"
            # _to_json: stored -> JSON (absent optionals are left out)
            to_expr = self.enc(t, f"self.{name}", f"{m['name']}.{f['name']}")
            fields.append({
                "name": name, "json": key, "stored_ann": stored_ann, "param_ann": param_ann,
                "default": default, "init": init, "from_json": from_json, "from_pre": from_pre,
                "to_json": to_expr, "omit_none": maybe_none, "doc": f["doc"], "secret": f["secret"],
                "field": f,
            })
        # Keyword-only __init__: required parameters first is not needed, but reads better.
        return {"name": m["name"], "doc": m["doc"] or f"The {m['name']} model.", "fields": fields,
                "secret": [f["name"] for f in fields if f["secret"]]}

    # ---- calls ----
    def seconds_name(self, name: str) -> str | None:
        if name in SECONDS_ALIASES:
            return SECONDS_ALIASES[name]
        if name.endswith("_ms"):
            return name[:-3]
        return None

    def check_names(self, names: list[str], where: str) -> None:
        for n in names:
            if n in CALL_KEYWORDS:
                raise TargetError(f"{where}: parameter {n!r} clashes with a call keyword {CALL_KEYWORDS}")
        if len(set(names)) != len(names):
            raise TargetError(f"{where}: duplicate parameter names {names}")

    def result_view(self, rtype: dict | None, result_field: str | None) -> dict:
        if rtype is None:
            return {"ann": "None", "decode": "None"}
        if result_field:
            inner = self.dec(rtype, f"_loads(b)[{result_field!r}]")
        else:
            inner = self.dec(rtype, "_loads(b)")
        return {"ann": self.ann(rtype), "decode": inner}

    def http_view(self, c: dict) -> dict:
        where = f"{c['service']}.{c['method']}"
        path = []
        for p in c["params"]:
            path.append({"name": ident(p["name"]), "json": p["json"], "ann": self.param_ann(p["type"]),
                         "enc": self.enc(p["type"], ident(p["name"]), p["name"]), "doc": p["doc"]})
        query = []
        qmodel = c["query_model"]
        if qmodel:
            for f in self.models[qmodel]["fields"]:
                qn = ident(f["name"])
                enc = self.enc(f["type"], qn, f["name"])
                query.append({"name": qn, "json": f["json"], "ann": f"Optional[{self.param_ann(f['type'])}]",
                              "enc": qn if enc == qn else f"(None if {qn} is None else {enc})", "doc": f["doc"]})
        body = None
        if c["body"]:
            bm = self.model_view(self.models[c["body"]])
            body = {"model": c["body"], "fields": bm["fields"]}
        names = [p["name"] for p in path] + [q["name"] for q in query] + \
            ([f["name"] for f in body["fields"]] if body else [])
        self.check_names(names, where)
        result = self.result_view(c["result_type"], c["result_field"])
        page = None
        if c["pagination"]:
            pg = c["pagination"]
            if not qmodel or pg["cursor"] not in [f["json"] for f in self.models[qmodel]["fields"]]:
                raise TargetError(f"{where}: pagination needs the cursor in the query model")
            page = {"item": pg["item_model"], "page": pg["page_model"], "cursor": pg["cursor"],
                    "items_attr": ident(pg["items"]), "next": ident(pg["next"])}
        stream = None
        if c["stream"]:
            # A subscription: query and optional header parameters as keywords, then the
            # StreamOptions fields (durations in seconds); it returns an event iterator.
            headers = [{"name": ident(h["name"]), "json": h["json"], "ann": f"Optional[{self.param_ann(h['type'])}]",
                        "doc": h["doc"]} for h in c["optional_headers"]]
            opts = []
            for f in self.models["StreamOptions"]["fields"]:
                secs = self.seconds_name(f["name"])
                opts.append({"name": ident(secs or f["name"]), "json": f["json"], "doc": f["doc"],
                             "default": repr(f["default"] / 1000) if secs else pylit(f["default"]),
                             "enc": f"_rt.ms({ident(secs)}, {ident(secs)!r})" if secs else ident(f["name"])})
            self.check_names(names + [h["name"] for h in headers] + [o["name"] for o in opts], where)
            stream = {"event": c["event_model"], "headers": headers, "options": opts}
        return {"id": c["id"], "name": ident(c["method"]), "doc": c["doc"] or c.get("summary", ""),
                "stream": stream,
                "path": path, "query": query, "query_model": qmodel, "body": body, "result": result,
                "page": page, "idempotency_key": c["idempotency_key"],
                "http": f"{c['http_method']} {c['path']}"}

    def method_view(self, c: dict) -> dict:
        where = f"{c['object']}.{c['method']}"
        args = []
        for a in c["args"]:
            secs = self.seconds_name(a["name"]) if a["type"]["kind"] in ("int32", "int64") else None
            name = ident(secs or a["name"])
            if secs:
                ann = "float"
                default = repr(a["default"] / 1000) if a["has_default"] else None
                enc = f"_rt.ms({name}, {name!r})"
            else:
                ann = self.param_ann(a["type"])
                default = None
                if a["has_default"]:
                    default = pylit(a["default"])
                elif a["optional"]:
                    default = "None"
                    ann = f"Optional[{ann}]"
                enc = self.enc(a["type"], name, a["name"])
            args.append({"name": name, "json": a["json"], "ann": ann, "default": default, "enc": enc,
                         "omit_none": default == "None", "doc": a["doc"]})
        names = [a["name"] for a in args]
        # An argument that is itself a duration named timeout replaces the call's keyword.
        call_timeout = "timeout" not in names
        self.check_names([n for n in names if call_timeout or n != "timeout"], where)
        return {"id": c["id"], "name": ident(c["method"]), "doc": c["doc"], "args": args,
                "call_timeout": call_timeout,
                "result": self.result_view(c["result"], None)}

    # ---- objects ----
    def config_params(self, model_name: str | None) -> list[dict]:
        """Constructor parameters from an object's config model. Fields before the first one
        with a default (or the first optional handle) are positional; the rest keyword-only."""
        if not model_name:
            return []
        m = self.models[model_name]
        out = []
        positional = True
        for f in m["fields"]:
            t = f["type"]
            if f["has_default"] or (t["kind"] == "handle" and f["optional"]) or t["kind"] == "model":
                positional = False
            secs = self.seconds_name(f["name"]) if t["kind"] in ("int32", "int64") else None
            name = ident(secs or f["name"])
            maybe_none = (f["optional"] and not f["has_default"]) or f["nullable"]
            if secs:
                ann = "float"
                if f["has_default"]:
                    default = repr(f["default"] / 1000)
                    value = f"_rt.ms({name}, {name!r})"
                else:
                    ann, default = "Optional[float]", "None"
                    value = f"None if {name} is None else _rt.ms({name}, {name!r})"
            else:
                ann = self.param_ann(t)
                if t["kind"] == "array" and f["has_default"]:
                    ann, default = f"Optional[{ann}]", "None"
                    value = name  # the model's __init__ fills in the default
                elif f["has_default"]:
                    if t["kind"] == "enum":
                        e = self.enums[t["name"]]
                        dv = f["default"]
                        default = f"{t['name']}.{member_name(dv)}" if dv in e["values"] else pylit(dv)
                    else:
                        default = pylit(f["default"])
                    value = name
                elif maybe_none:
                    ann, default = f"Optional[{ann}]", "None"
                    value = name
                else:
                    default = None
                    value = name
            out.append({"name": name, "field": ident(f["name"]), "ann": ann, "default": default,
                        "value": value, "positional": positional and default is None,
                        "doc": f["doc"]})
            if default is not None:
                positional = False
        names = [p["name"] for p in out]
        if len(set(names)) != len(names):
            raise TargetError(f"{model_name}: duplicate constructor parameters {names}")
        return out

    def object_view(self, o: dict) -> dict:
        interfaces = sorted({o["name"]} | ({o["implements"]} if o["implements"] else set()))
        return {"name": o["name"], "doc": o["doc"], "config": o["config"],
                "params": self.config_params(o["config"]),
                "methods": [self.method_view(m) for m in o["methods"]],
                "interfaces": interfaces}

    def callback_view(self, cb: dict) -> dict:
        methods = []
        for m in cb["methods"]:
            args = [{"name": ident(a["name"]), "json": a["json"], "ann": self.ann(a["type"]),
                     "dec": self.dec(a["type"], f"a[{a['json']!r}]"), "doc": a["doc"]} for a in m["args"]]
            r = m["result"]
            if r is None:
                result = {"ann": "None", "enc": None, "check": None}
            elif r["kind"] == "model":
                all_optional = all(not f["required"] for f in self.models[r["name"]]["fields"])
                result = {"ann": f"Optional[{r['name']}]", "enc": "r._to_json()", "check": r["name"],
                          "none": "{}" if all_optional else "None"}
            else:
                result = {"ann": self.ann(r), "enc": self.enc(r, "r", f"{cb['name']}.{m['name']}"),
                          "check": None}
            methods.append({"index": m["index"], "name": ident(m["name"]), "doc": m["doc"],
                            "args": args, "result": result})
        return {"name": cb["name"], "doc": cb["doc"], "methods": methods, "progress": cb.get("progress"),
                "byte_source": cb.get("byte_source", False)}

    def error_view(self) -> list[dict]:
        out = []
        for e in self.ir["errors"]:
            bases = [e["base"]] if e["base"] else ["Exception"]
            if e["class"] in BUILTIN_ERROR_BASES:
                bases.append(BUILTIN_ERROR_BASES[e["class"]])
            fields = [{"name": ident(f["name"]), "json": f["json"], "ann": self.ann(f["type"]),
                       "dec": self.dec(f["type"], "v"), "doc": f["doc"], "imports": sorted(self.names_in(f["type"]))}
                      for f in e["fields"]]
            out.append({"class": e["class"], "bases": ", ".join(bases), "type": e["type"],
                        "status": e["status"], "retryable": e["retryable"], "doc": e["doc"], "fields": fields})
        return out

    def names_in(self, t: dict) -> set:
        """The models and enums a type's decoder names (imported where it runs)."""
        if t["kind"] in ("model", "enum"):
            return {t["name"]}
        if t["kind"] == "array":
            return self.names_in(t["items"])
        if t["kind"] == "map":
            return self.names_in(t["values"])
        return set()


def generate(ir: dict, out: Any) -> None:
    ctx = Ctx(ir)
    env = render.environment("python", doc=doc_text, pylit=pylit)
    models = [ctx.model_view(m) for m in ctx.models.values()]
    enums = [{"name": e["name"], "doc": e["doc"] or f"The {e['name']} values.",
              "members": [(member_name(v), v) for v in e["values"]]} for e in ir["enums"]]
    objects = [ctx.object_view(o) for o in ir["objects"]]
    callbacks = [ctx.callback_view(cb) for cb in ir["callbacks"]]
    handles = {}
    for iface in ir["interfaces"]:
        classes = ctx.implementers(iface) + IDIOM_HANDLE_TYPES.get(iface, [])
        # x-hues-progress: a plain function of the progress model is accepted too.
        progress = next((cb.get("progress") for cb in ir["callbacks"] if cb["name"] == iface), None)
        if progress:
            classes.append(f"Callable[[{progress}], object]")
        # x-hues-byte-source: a binary file object (io.BufferedIOBase, io.RawIOBase, a socket's makefile("rb")).
        if any(cb["name"] == iface and cb.get("byte_source") for cb in ir["callbacks"]):
            classes.append("BinaryIO")
        if classes:
            handles[iface] = classes
    services = []
    client_calls = []
    for s in ir["services"]:
        calls = [ctx.http_view(c) for c in s["calls"]]
        if s["name"] == "client":
            client_calls = calls
        else:
            services.append({"name": s["name"], "attr": ident(s["name"]), "cls": render.pascal(s["name"]),
                             "calls": calls})
    client = next(o for o in objects if o["name"] == "Client")
    others = [o for o in objects if o["name"] != "Client"]
    common = dict(ir=ir, models=models, enums=enums, objects=others, client=client, callbacks=callbacks,
                  services=services, client_calls=client_calls, handles=handles,
                  errors=ctx.error_view(), spec_hash=ir["spec_hash"], spec_version=ir["spec_version"],
                  model_names=[m["name"] for m in models], enum_names=[e["name"] for e in enums],
                  api_error=next(e["class"] for e in ir["errors"] if e["type"] == "api"),
                  base_error=next(e["class"] for e in ir["errors"] if not e["base"]))
    for name in ("__init__", "models", "errors", "callbacks", "objects"):
        text = env.get_template(f"{name}.py.j2").render(**common)
        out.write(f"hues/_generated/{name}.py", text)
