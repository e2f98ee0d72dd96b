"""C# target: the IR into Hues.Sdk's generated sources (namespace Hues.Sdk).

Emits Spec.cs (spec version and hash), Enums.cs (open enums as sealed classes: unknown wire
values are kept in Value and re-encoded unchanged), Models.cs (sealed immutable classes:
constructor with named optional parameters, With<Field> copies, Equals/GetHashCode,
ToString masking secrets, JSON encode/decode over the runtime's JsonNode/JsonWriter),
Errors.cs (HuesException and the IR hierarchy, the error-JSON mapper), Services.cs (one
class per IR service, sync + Task forms, auto-paging), Objects.cs (HuesClient and the other
x-hues-sdk objects, their methods by call id) and Callbacks.cs (an interface per callback
and the dispatcher the one generic host-object bridge calls).

The hand-written runtime (bindings/csharp/src/Runtime) knows no operation and no model.
"""

from __future__ import annotations

import json
import re

from .. import render
from ..render import camel, environment, pascal, snake

KEYWORDS = set("""abstract as base bool break byte case catch char checked class const continue
decimal default delegate do double else enum event explicit extern false finally fixed float for
foreach goto if implicit in int interface internal is lock long namespace new null object operator
out override params private protected public readonly ref return sbyte sealed short sizeof
stackalloc static string struct switch this throw true try typeof uint ulong unchecked unsafe
ushort using virtual void volatile while""".split())

VALUE_KINDS = {"int32": "int", "int64": "long", "double": "double", "bool": "bool", "datetime": "DateTimeOffset"}
# C# names that would hide System types every user imports.
ERROR_RENAMES = {"Error": "HuesException", "TimeoutError": "HuesTimeoutException"}
OBJECT_RENAMES = {"Client": "HuesClient"}
# Members every model has; a field with one of these names gets a suffix.
RESERVED_MEMBERS = {"Encode", "EncodeFields", "Decode", "ToJson", "FromJson", "Equals", "GetHashCode", "ToString",
                    "GetType", "MemberwiseClone"}


class Ctx(render.IrIndex):
    def __init__(self, ir: dict):
        super().__init__(ir, skip=frozenset({"CallOptions"}))  # the runtime's own CallOptions
        self.error_types = {e["type"] for e in ir["errors"]}

    # ---- names ----
    @staticmethod
    def ident(name: str) -> str:
        n = camel(name)
        return "@" + n if n in KEYWORDS else n

    @staticmethod
    def prop(field: dict, owner: str) -> str:
        p = pascal(field["name"])
        if p == owner or p in RESERVED_MEMBERS:
            p += "Value"
        return p

    @staticmethod
    def object_class(name: str) -> str:
        return OBJECT_RENAMES.get(name, name)

    @staticmethod
    def error_class(name: str) -> str:
        if name in ERROR_RENAMES:
            return ERROR_RENAMES[name]
        return (name[:-5] if name.endswith("Error") else name) + "Exception"

    def handle_type(self, iface: str) -> str:
        if iface in self.objects:
            return self.object_class(iface)
        if iface in self.callbacks:
            progress = self.callbacks[iface].get("progress")
            # x-hues-progress: the handle is .NET's own IProgress<T> (Progress<T>, any IProgress<T>).
            if self.callbacks[iface].get("byte_source"):
                # x-hues-byte-source: the handle is a System.IO.Stream, wrapped by the runtime's StreamSource.
                return "System.IO.Stream"
            return f"IProgress<{progress}>" if progress else "I" + iface
        return iface  # an abstract base class of the objects implementing it

    # ---- types ----
    def cs(self, t: dict) -> str:
        k = t["kind"]
        if k in VALUE_KINDS:
            return VALUE_KINDS[k]
        if k == "string":
            return "string"
        if k in ("enum", "model"):
            return t["name"]
        if k == "array":
            return f"IReadOnlyList<{self.cs(t['items'])}>"
        if k == "bytes":
            return "byte[]"
        if k == "map":
            return f"IReadOnlyDictionary<string, {self.cs(t['values'])}>"
        if k == "handle":
            return self.handle_type(t["interface"])
        raise ValueError(f"unsupported type {t}")

    @staticmethod
    def is_value(t: dict) -> bool:
        return t["kind"] in VALUE_KINDS

    def nullable(self, t: dict) -> str:
        return self.cs(t) + ("?" if self.is_value(t) else "")

    def dec(self, t: dict, depth: int = 0) -> str:
        """A Func<JsonNode, string, T> expression."""
        k = t["kind"]
        simple = {"string": "Codec.String", "int64": "Codec.Long", "int32": "Codec.Int", "double": "Codec.Double",
                  "bool": "Codec.Bool", "datetime": "Codec.DateTime"}
        if k in simple:
            return simple[k]
        if k in ("enum", "model"):
            return f"global::Hues.Sdk.{t['name']}.Decode"
        if k == "array":
            n, a = f"n{depth}", f"a{depth}"
            return f"({n}, {a}) => Codec.List<{self.cs(t['items'])}>({n}, {a}, {self.dec(t['items'], depth + 1)})"
        if k == "bytes":
            return "Codec.Bytes"
        if k == "map":
            n, a = f"n{depth}", f"a{depth}"
            return f"({n}, {a}) => Codec.Dict<{self.cs(t['values'])}>({n}, {a}, {self.dec(t['values'], depth + 1)})"
        if k == "handle":
            return f"Codec.NoHandle<{self.cs(t)}>"
        raise ValueError(f"unsupported type {t}")

    def enc(self, t: dict, v: str, w: str = "w", depth: int = 0) -> str:
        """A statement writing value v (not null) to writer w."""
        k = t["kind"]
        simple = {"string": "String", "int64": "Long", "int32": "Int", "double": "Double", "bool": "Bool",
                  "datetime": "DateTime"}
        if k in simple:
            return f"{w}.{simple[k]}({v});"
        if k == "enum":
            return f"{w}.String({v}.Value);"
        if k == "model":
            return f"{v}.Encode({w});"
        if k == "array":
            ww, x = f"w{depth}", f"x{depth}"
            inner = self.enc(t["items"], x, ww, depth + 1)
            return f"Codec.WriteList({w}, {v}, ({ww}, {x}) => {{ {inner} }});"
        if k == "bytes":
            return f"{w}.String(System.Convert.ToBase64String({v}));"
        if k == "map":
            ww, x = f"w{depth}", f"x{depth}"
            inner = self.enc(t["values"], x, ww, depth + 1)
            return f"Codec.WriteDict({w}, {v}, ({ww}, {x}) => {{ {inner} }});"
        if k == "handle":
            return f'Codec.WriteHandle({w}, {v}, "{t["interface"]}");'
        raise ValueError(f"unsupported type {t}")

    def literal(self, t: dict, value) -> str:
        k = t["kind"]
        if k == "string":
            return json.dumps(value, ensure_ascii=False)
        if k == "bool":
            return "true" if value else "false"
        if k == "int64":
            return f"{int(value)}L"
        if k == "int32":
            return f"{int(value)}"
        if k == "double":
            r = repr(float(value))
            return r if any(c in r for c in ".eE") else r + ".0"
        if k == "enum":
            return f"global::Hues.Sdk.{t['name']}.{enum_member(value)}"
        if k == "array":
            items = ", ".join(self.literal(t["items"], x) for x in value)
            return f"Codec.Freeze(new {self.cs(t['items'])}[] {{ {items} }})"
        raise ValueError(f"no literal for {t} = {value!r}")

    # ---- fields ----
    def field(self, f: dict, owner: str, src: str = "n", at: str = "at") -> dict:
        t = f["type"]
        has_default = f["has_default"]
        # The property is nullable when the value may be absent (and has no default) or null.
        prop_nullable = (f["optional"] and not has_default) or f["nullable"]
        prop_type = self.nullable(t) if prop_nullable else self.cs(t)
        param_type = self.nullable(t) if (prop_nullable or has_default) else self.cs(t)
        param = self.ident(f["name"])
        p = self.prop(f, owner)
        required_param = not (prop_nullable or has_default)
        if has_default:
            lit = self.literal(t, f["default"])
            assign = f"{param} ?? {lit}"
        else:
            assign = param
        null_check = required_param and not self.is_value(t)
        if self.is_value(t) and prop_nullable:
            value = f"{p}.Value"
        else:
            value = p
        enc = self.enc(t, value)
        if f["nullable"]:
            encode = f'w.Name("{f["json"]}"); if ({p} == null) w.Null(); else {{ {enc} }}'
        elif prop_nullable:
            encode = f'if ({p} != null) {{ w.Name("{f["json"]}"); {enc} }}'
        else:
            encode = f'w.Name("{f["json"]}"); {enc}'
        if required_param:
            decode = f'Codec.Req<{self.cs(t)}>({src}, "{f["json"]}", {at}, {self.dec(t)})'
        elif self.is_value(t):
            decode = f'Codec.Val<{self.cs(t)}>({src}, "{f["json"]}", {at}, {self.dec(t)})'
        else:
            decode = f'Codec.Ref<{self.cs(t)}>({src}, "{f["json"]}", {at}, {self.dec(t)})'
        if t["kind"] == "array":
            eq = f"Codec.ListEquals({p}, other.{p})"
            hash_ = f"Codec.ListHash({p})"
        else:
            eq = f"EqualityComparer<{prop_type}>.Default.Equals({p}, other.{p})"
            hash_ = f"Codec.Hash({p})"
        if t["kind"] == "array":
            store = f"Codec.Freeze({assign})"
        else:
            store = assign
        show = f"Codec.Secret({p})" if f["secret"] else f"Codec.Show({p})"
        return {
            "f": f, "prop": p, "param": param, "prop_type": prop_type, "param_type": param_type,
            "required_param": required_param, "null_check": null_check, "store": store, "encode": encode,
            "decode": decode, "eq": eq, "hash": hash_, "show": show, "doc": xml(f["doc"]),
        }

    def model(self, m: dict) -> dict:
        fields = [self.field(f, m["name"]) for f in m["fields"]]
        ordered = [f for f in fields if f["required_param"]] + [f for f in fields if not f["required_param"]]
        params = ", ".join(f"{f['param_type']} {f['param']}" + ("" if f["required_param"] else " = null")
                           for f in ordered)
        return {"name": m["name"], "doc": xml(m["doc"]), "fields": fields, "ordered": ordered, "params": params,
                "local": m["local"]}

    def ctor_args(self, model: dict, override: dict | None = None) -> str:
        """Named constructor arguments copying this instance, with overrides {param: expr}."""
        override = override or {}
        return ", ".join(f"{f['param']}: {override.get(f['param'], f['prop'])}" for f in model["fields"])

    # ---- calls ----
    def stream_call(self, c: dict, target: str) -> dict:
        """A subscription (x-hues-stream): an IObservable of its events (Runtime/Subscriptions.cs)."""
        params, args = [], []
        for p in c["params"]:
            params.append(f"{self.cs(p['type'])} {self.ident(p['name'])}")
            args.append(f'w.Name("{p["json"]}"); {self.enc(p["type"], self.ident(p["name"]))}')
        if c["query_model"]:
            params.append(f"{c['query_model']} query = null")
            args.append("if (query != null) query.EncodeFields(w);")
        for h in c["optional_headers"]:
            n = self.ident(h["name"])
            params.append(f"string {n} = null")
            args.append(f'if ({n} != null) {{ w.Name("{h["json"]}"); w.String({n}); }}')
        params.append("StreamOptions stream = null")
        args.append('if (stream != null) { w.Name("stream"); stream.Encode(w); }')
        args.append('w.Name("ack"); w.Bool(true);')  # EventStream acknowledges each event (hues_call_ack)
        params.append("CancellationToken cancellationToken = default(CancellationToken)")
        resume = " ?? ".join([self.ident(h["name"]) for h in c["optional_headers"]] + ["null"])
        ev = c["event_model"]
        return {"kind": "stream", "name": pascal(c["method"]), "doc": xml(c["doc"]), "event": ev,
                "params": ", ".join(params),
                "body": f"return new EventStream<{ev}>({target}, {c['id']}, w => {{ w.BeginObject(); " + " ".join(args) +
                        f" w.EndObject(); }}, n => global::Hues.Sdk.{ev}.Decode(n, \"{ev}\"), {resume}, cancellationToken);"}

    def http_call(self, c: dict, target: str) -> list[dict]:
        """The methods of one HTTP operation: [sync, async] (+ paged forms)."""
        if c["stream"]:
            return [self.stream_call(c, target)]
        params, args = [], []
        for p in c["params"]:
            params.append(f"{self.cs(p['type'])} {self.ident(p['name'])}")
            args.append(f'w.Name("{p["json"]}"); {self.enc(p["type"], self.ident(p["name"]))}')
        checks = [f'if ({self.ident(p["name"])} == null) throw new ArgumentNullException("{self.ident(p["name"])}");'
                  for p in c["params"] if not self.is_value(p["type"])]
        if c["body"]:
            params.append(f"{c['body']} body")
            args.append('w.Name("body"); body.Encode(w);')
            checks.append('if (body == null) throw new ArgumentNullException("body");')
        if c["query_model"]:
            params.append(f"{c['query_model']} query = null")
            args.append("if (query != null) query.EncodeFields(w);")
        elif c["query_params"]:
            raise ValueError(f"{c['operation_id']}: query parameters without a query model")
        params_sync = ", ".join(params + ["CancellationToken cancellationToken = default(CancellationToken)",
                                          "CallOptions options = null"])
        argl = "w => { w.BeginObject(); " + " ".join(args) + " w.EndObject(); }"
        if c["result_field"]:
            result_model = self.models[c["result"]]
            fld = next(f for f in result_model["fields"] if f["json"] == c["result_field"])
            rtype = self.cs(c["result_type"])
            decode = f'n => global::Hues.Sdk.{c["result"]}.Decode(n, "{c["result"]}").{self.prop(fld, c["result"])}'
        elif c["result"]:
            rtype = c["result"]
            decode = f'n => global::Hues.Sdk.{c["result"]}.Decode(n, "{c["result"]}")'
        else:
            rtype = None
            decode = "n => (object)null"
        base = pascal(c["method"])
        out = []
        name = base + ("Page" if c["pagination"] else "")
        out.append(self.method(name, c, target, params_sync, checks, argl, decode, rtype))
        if c["pagination"]:
            pg = c["pagination"]
            page = self.models[pg["page_model"]]
            items = next(f for f in page["fields"] if f["json"] == pg["items"])
            nxt = next(f for f in page["fields"] if f["json"] == pg["next"])
            qm = self.models[c["query_model"]]
            cursor = next(f for f in qm["fields"] if f["json"] == pg["cursor"])
            cprop = self.prop(cursor, qm["name"])
            fwd = ", ".join([self.ident(p["name"]) for p in c["params"]] + (["body"] if c["body"] else []))
            fwd = (fwd + ", " if fwd else "")
            item = pg["item_model"]
            ip, np_ = self.prop(items, page["name"]), self.prop(nxt, page["name"])
            out.append({
                "kind": "pager", "name": base, "item": item, "page": page["name"], "params": params_sync,
                "doc": xml(c["doc"]) + " Every item, page after page (fetched as the loop reaches them).",
                "sync": f"return Paging.Items<{page['name']}, {item}>(query == null ? null : query.{cprop}, "
                        f"cursor => {name}({fwd}(query ?? new global::Hues.Sdk.{qm['name']}()).With{cprop}(cursor), cancellationToken, options), "
                        f"p => p.{ip}, p => p.{np_});",
                "async": f"return Paging.Async<{page['name']}, {item}>(query == null ? null : query.{cprop}, "
                         f"(cursor, ct) => {name}Async({fwd}(query ?? new global::Hues.Sdk.{qm['name']}()).With{cprop}(cursor), ct, options), "
                         f"p => p.{ip}, p => p.{np_}, cancellationToken);",
            })
        return out

    def method(self, name: str, c: dict, target: str, params: str, checks: list[str], argl: str, decode: str,
               rtype: str | None, options: str = "options") -> dict:
        cid = c["id"]
        if rtype is None:
            sync = f"Calls.Sync<object>({target}, {cid}, {argl}, {options}, cancellationToken, {decode});"
            asyn = f"return Calls.Async<object>({target}, {cid}, {argl}, {options}, cancellationToken, {decode});"
        else:
            sync = f"return Calls.Sync<{rtype}>({target}, {cid}, {argl}, {options}, cancellationToken, {decode});"
            asyn = f"return Calls.Async<{rtype}>({target}, {cid}, {argl}, {options}, cancellationToken, {decode});"
        return {"kind": "call", "name": name, "params": params, "checks": checks, "rtype": rtype or "void",
                "task": f"Task<{rtype}>" if rtype else "Task", "sync": sync, "async": asyn,
                "doc": xml(c["doc"]), "id": cid}

    def object_method(self, c: dict) -> dict:
        required = [a for a in c["args"] if a["required"] and not a["has_default"]]
        rest = [a for a in c["args"] if a not in required]
        params, args, checks = [], [], []
        for a in required:
            params.append(f"{self.cs(a['type'])} {self.ident(a['name'])}")
            if not self.is_value(a["type"]):
                checks.append(f'if ({self.ident(a["name"])} == null) throw new ArgumentNullException("{self.ident(a["name"])}");')
            args.append(f'w.Name("{a["json"]}"); {self.enc(a["type"], self.ident(a["name"]))}')
        for a in rest:
            n = self.ident(a["name"])
            if a["has_default"]:
                params.append(f"{self.cs(a['type'])} {n} = {self.const_literal(a['type'], a['default'])}")
                args.append(f'w.Name("{a["json"]}"); {self.enc(a["type"], n)}' if self.is_value(a["type"]) else
                            f'if ({n} != null) {{ w.Name("{a["json"]}"); {self.enc(a["type"], n)} }}')
            else:
                params.append(f"{self.nullable(a['type'])} {n} = null")
                v = f"{n}.Value" if self.is_value(a["type"]) else n
                args.append(f'if ({n} != null) {{ w.Name("{a["json"]}"); {self.enc(a["type"], v)} }}')
        params.append("CancellationToken cancellationToken = default(CancellationToken)")
        argl = "w => { w.BeginObject(); " + " ".join(args) + " w.EndObject(); }"
        r = c["result"]
        if r is None:
            rtype, decode = None, "n => (object)null"
        else:
            rtype = self.cs(r)
            decode = f'n => Codec.Decode<{rtype}>(n, "{c["object"]}.{c["method"]}", {self.dec(r)})'
        return self.method(pascal(c["method"]), c, "this", ", ".join(params), checks, argl, decode, rtype,
                           options="null")

    def const_literal(self, t: dict, value) -> str:
        """A compile-time constant for an optional parameter's default."""
        if t["kind"] in ("string", "bool", "int64", "int32", "double"):
            return self.literal(t, value)
        if t["kind"] in ("array", "map") and not value:
            return "null"  # an empty list or map: null is sent as nothing (the SDK's default)
        raise ValueError(f"no constant default for {t}")

    def callback(self, cb: dict) -> dict:
        methods = []
        for m in cb["methods"]:
            params, decs = [], []
            where = f"{cb['name']}.{m['name']}"
            for a in m["args"]:
                fd = self.field(a, cb["name"], src="args", at=json.dumps(where))
                t = a["type"]
                params.append(f"{self.cs(t)} {self.ident(a['name'])}")
                d = fd["decode"]
                if a["has_default"]:
                    d = f"{d} ?? {self.literal(t, a['default'])}"
                decs.append(d)
            call = f"t.{'Report' if cb.get('progress') else pascal(m['name'])}({', '.join(decs)})"
            r = m["result"]
            if r is None:
                body = f"{call};"
            else:
                if r["kind"] == "model":
                    # A null model result is the empty model ("none" for a TokenStore's load).
                    body = f"var r = {call}; if (r == null) result.BeginObject().EndObject(); else {{ {self.enc(r, 'r', 'result')} }}"
                elif self.is_value(r):
                    body = f"var r = {call}; {self.enc(r, 'r', 'result')}"
                else:
                    body = f"var r = {call}; if (r == null) result.Null(); else {{ {self.enc(r, 'r', 'result')} }}"
            methods.append({"index": m["index"], "name": pascal(m["name"]), "params": ", ".join(params),
                            "rtype": self.cs(r) if r else "void", "body": body, "doc": xml(m["doc"]),
                            "arg_types": [self.cs(a["type"]) for a in m["args"]],
                            "arg_names": [self.ident(a["name"]) for a in m["args"]]})
        etype = snake(cb["name"])
        byte_source = cb.get("byte_source", False)
        return {"name": cb["name"], "iface": self.handle_type(cb["name"]), "doc": xml(cb["doc"]), "methods": methods,
                "error_type": etype if etype in self.error_types else "error", "progress": cb.get("progress"),
                "byte_source": byte_source, "target": "StreamSource" if byte_source else self.handle_type(cb["name"]),
                # Every method returns nothing: the interface also gets a class of C# events.
                "void_only": all(m["result"] is None for m in cb["methods"])}


def enum_member(value: str) -> str:
    p = pascal(value)
    if not p or not p[0].isalpha():
        p = "V" + p
    if p in ("Value", "Values", "IsKnown", "FromValue", "Decode"):
        p += "Value"
    return p


def xml(text: str) -> str:
    text = (text or "").strip().replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"\s+", " ", text)


def generate(ir: dict, out) -> None:
    ctx = Ctx(ir)
    env = environment("csharp")
    models = [ctx.model(m) for m in ctx.models.values()]
    enums = [{"name": e["name"], "doc": xml(e["doc"]),
              "members": [{"value": v, "member": enum_member(v)} for v in e["values"]]} for e in ir["enums"]]

    errors = []
    for e in ir["errors"]:
        cls = ctx.error_class(e["class"])
        fields = [{"prop": ctx.prop(f, cls), "param": ctx.ident(f["name"]), "json": f["json"],
                   "type": ctx.nullable(f["type"]), "dec": ctx.dec(f["type"]), "doc": xml(f["doc"])}
                  for f in e["fields"]]
        errors.append({"cls": cls, "base": ctx.error_class(e["base"]) if e["base"] else None,
                       "type": e["type"], "status": e["status"], "retryable": "true" if e["retryable"] else "false",
                       "doc": xml(e["doc"]), "fields": fields})
    by_status = {}
    for e in errors:
        for s in e["status"]:
            by_status.setdefault(s, e)
    api = next((e["cls"] for e in errors if e["type"] == "api"), errors[0]["cls"])
    root = next(e["cls"] for e in errors if e["base"] is None)

    services = []
    client_methods = []
    for s in ir["services"]:
        methods = []
        for c in s["calls"]:
            methods.extend(ctx.http_call(c, "this" if s["name"] == "client" else "client"))
        if s["name"] == "client":
            client_methods = methods
        else:
            services.append({"name": pascal(s["name"]) + "Service", "prop": pascal(s["name"]), "methods": methods})

    callback_names = set(ctx.callbacks)
    interfaces = []
    for iface in ir["interfaces"]:
        if iface in ctx.objects or iface in callback_names:
            continue
        interfaces.append({"name": iface})
    objects = []
    for o in ir["objects"]:
        cls = ctx.object_class(o["name"])
        base, explicit = "HuesObject", None
        if o["implements"]:
            if o["implements"] in callback_names:
                explicit = ctx.callback(ctx.callbacks[o["implements"]])
            else:
                base = o["implements"]
        cfg = ctx.model(ctx.models[o["config"]]) if o["config"] else None
        objects.append({
            "name": o["name"], "cls": cls, "base": base, "explicit": explicit, "doc": xml(o["doc"]),
            "config": cfg,
            "config_args": ", ".join(f"{f['param']}: {f['param']}" for f in cfg["fields"]) if cfg else "",
            "methods": [ctx.object_method(m) for m in o["methods"]],
            "services": services if o["name"] == "Client" else [],
            "client_methods": client_methods if o["name"] == "Client" else [],
        })
    callbacks = [ctx.callback(cb) for cb in ir["callbacks"]]

    common = dict(ir=ir, ctx=ctx)
    out.write("Spec.cs", env.get_template("Spec.cs.j2").render(**common))
    out.write("Enums.cs", env.get_template("Enums.cs.j2").render(enums=enums, **common))
    out.write("Models.cs", env.get_template("Models.cs.j2").render(models=models, **common))
    out.write("Errors.cs", env.get_template("Errors.cs.j2").render(
        errors=errors, by_status=sorted(by_status.items()), api=api, root=root, **common))
    out.write("Services.cs", env.get_template("Services.cs.j2").render(services=services, **common))
    out.write("Objects.cs", env.get_template("Objects.cs.j2").render(objects=objects, interfaces=interfaces, **common))
    out.write("Callbacks.cs", env.get_template("Callbacks.cs.j2").render(callbacks=callbacks, **common))
