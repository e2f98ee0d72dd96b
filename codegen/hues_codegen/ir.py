"""docs/openapi.yaml -> the intermediate representation every target renders.

The IR is plain data (dicts and lists, JSON-serialisable: `python3 -m hues_codegen --target
ir` prints it). Targets never read the spec themselves, so the spec's shapes are understood
in one place. Shapes:

type    {"kind": "string" | "int32" | "int64" | "double" | "bool" | "datetime" | "bytes"}
        bytes: `type: string` with `format: byte` (or `binary`, or `contentEncoding: base64`):
        raw bytes in every language, standard padded base64 inside the JSON boundary.
        {"kind": "map", "values": type}: `type: object` with `additionalProperties` and no
        `properties`: string keys (a dict, Map, IReadOnlyDictionary).
        {"kind": "enum", "name": E}   {"kind": "model", "name": M}
        {"kind": "array", "items": type}   {"kind": "handle", "interface": I}
field   {"name", "json", "type", "required", "nullable", "optional", "default", "secret",
         "doc", "constraints": {minimum, maximum, minLength, maxLength, pattern, enum,
         minItems, maxItems, items: the items' constraints}}
        required: always present on the wire; optional: may be absent (then the language
        type is optional/nullable unless a default exists: "has_default").
model   {"name", "doc", "fields", "local", "secret_fields"}
enum    {"name", "doc", "values", "local"}   (open: decoders keep unknown values)
call    one entry point of the native boundary, numbered by "id":
        HTTP operation: {"id", "kind": "http", "service", "method", "operation_id",
          "http_method", "path", "path_params": [field], "header_params": [field],
          "params": [field] (path then required header parameters: the positional arguments of a call),
          "optional_headers": [field] (optional header parameters, keywords: x-hues-stream calls only),
          "stream": "sse"|None (x-hues-stream: a subscription; no result, events of "event_model"),
          "event_model": model-name|None (x-hues-event-data: what each event's data decodes to),
          "query_params": [field],
          "query_model", "body": model-name|None, "result": model-name|None,
          "result_field", "result_type", "pagination", "idempotency_key", "retry_safe", "doc"}
        object method: {"id", "kind": "method", "object", "method", "args": [field],
          "result": type|None, "doc"}
object  {"name", "doc", "config", "implements", "methods": [call]}
callback{"name", "doc", "methods": [{"index", "name", "args": [field], "result", "result_default",
          "doc", "cpp": {"name", "buffer"}}], "on_error", "cpp": {"header"}, "progress", "byte_source"}
        index: the method's number at the boundary (its order in the spec), what every host's
        dispatcher and the C++ adapter agree on. on_error (x-hues-on-error): "raise", "ignore",
        or an error `type`: what a failing, silent or ill-answering host becomes on the C++
        side. result_default: the result schema's `default` (a null answer), else None.
        cpp: x-hues-cpp-header (where hues::<name> is declared), x-hues-cpp-name (the C++
        method name), x-hues-cpp-buffer (a bytes result read into a caller's buffer whose
        capacity is that argument).
error   {"class", "base", "type", "status": [int], "codes": [str], "retryable", "doc",
         "body": schema-name|None, "fields": [field]}
        body: the schema of the error's response body; fields: its properties other than
        `error` (PreconditionFailedError.current), typed members of the class in every language.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

REF_PREFIX = "#/components/schemas/"
CONSTRAINT_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
                   "maxLength", "pattern", "enum", "minItems", "maxItems", "const")


# Headers the SDK itself sets on every call (or per call, x-hues-idempotency-key).
SDK_HEADERS = ("X-Request-Id", "Idempotency-Key")


class SpecError(Exception):
    pass


class Builder:
    def __init__(self, doc: dict[str, Any]):
        self.doc = doc
        self.schemas: dict[str, Any] = doc["components"]["schemas"]
        self.parameters: dict[str, Any] = doc["components"].get("parameters", {})
        self.sdk: dict[str, Any] = doc.get("x-hues-sdk", {})
        self.models: dict[str, dict] = {}
        self.enums: dict[str, dict] = {}
        self._pending: list[str] = []

    # ---- types ----
    def ref_name(self, schema: dict) -> str | None:
        ref = schema.get("$ref")
        if ref is None:
            return None
        if not ref.startswith(REF_PREFIX):
            raise SpecError(f"unsupported $ref {ref}")
        return ref[len(REF_PREFIX):]

    def type_of(self, schema: dict, where: str) -> dict:
        if "x-hues-handle" in schema:
            return {"kind": "handle", "interface": schema["x-hues-handle"]}
        name = self.ref_name(schema)
        if name is None and "allOf" in schema:
            refs = [s for s in schema["allOf"] if "$ref" in s]
            if len(refs) != 1:
                raise SpecError(f"{where}: allOf needs exactly one $ref")
            name = self.ref_name(refs[0])
        if name is not None:
            target = self.schemas[name]
            if target.get("type") == "object" or "properties" in target:
                self.use_model(name)
                return {"kind": "model", "name": name}
            if target.get("type") == "string" and "enum" in target:
                self.use_enum(name)
                return {"kind": "enum", "name": name}
            if target.get("format") == "date-time":
                return {"kind": "datetime"}
            return self.type_of(target, f"{where} -> {name}")
        if "anyOf" in schema or "oneOf" in schema:
            return {"kind": "string"}  # only ErrorBody.code today: a code of one of several sets
        t = schema.get("type")
        if isinstance(t, list):
            t = next(x for x in t if x != "null")
        if t == "string" and (schema.get("format") in ("byte", "binary") or schema.get("contentEncoding") == "base64"):
            return {"kind": "bytes"}
        if t == "object" and isinstance(schema.get("additionalProperties"), dict) and not schema.get("properties"):
            return {"kind": "map", "values": self.type_of(schema["additionalProperties"], where + "{}")}
        if t == "string" or (t is None and "const" in schema and isinstance(schema["const"], str)):
            return {"kind": "datetime"} if schema.get("format") == "date-time" else {"kind": "string"}
        if t == "integer":
            return {"kind": "int32" if schema.get("format") == "int32" else "int64"}
        if t == "number":
            return {"kind": "double"}
        if t == "boolean":
            return {"kind": "bool"}
        if t == "array":
            return {"kind": "array", "items": self.type_of(schema.get("items", {}), where + "[]")}
        raise SpecError(f"{where}: cannot map schema {schema}")

    def constraints(self, schema: dict) -> dict:
        out = {k: schema[k] for k in CONSTRAINT_KEYS if k in schema}
        name = self.ref_name(schema)
        if name and self.schemas[name].get("type") != "object":
            out = {**{k: self.schemas[name][k] for k in CONSTRAINT_KEYS if k in self.schemas[name]}, **out}
        for part in schema.get("allOf", []):
            if "$ref" not in part:
                out.update({k: part[k] for k in CONSTRAINT_KEYS if k in part})
        if isinstance(schema.get("items"), dict):  # an array's items have their own (media ids)
            items = self.constraints(schema["items"])
            if items:
                out["items"] = items
        return out

    def field(self, name: str, schema: dict, required: bool, where: str, *, json_name: str | None = None,
              force_optional: bool = False) -> dict:
        t = self.type_of(schema, f"{where}.{name}")
        nullable = isinstance(schema.get("type"), list) and "null" in schema["type"]
        default = schema.get("default")
        target = self.schemas.get(self.ref_name(schema) or "", {})
        if default is None and "default" in target:
            default = target["default"]
        if force_optional:
            required, default = False, None
        return {
            "name": name,
            "json": json_name or name,
            "type": t,
            "required": bool(required),
            "optional": not required,
            "has_default": default is not None,
            "default": default,
            "nullable": nullable,
            "secret": bool(schema.get("x-hues-secret", False)),
            "doc": (schema.get("description") or target.get("description") or "").strip(),
            "constraints": self.constraints(schema),
        }

    # ---- models and enums, collected by reachability ----
    def use_model(self, name: str) -> None:
        if name not in self.models and name not in self._pending:
            self._pending.append(name)
            schema = self.schemas[name]
            required = set(schema.get("required", []))
            model = {"name": name, "doc": (schema.get("description") or "").strip(),
                     "local": bool(schema.get("x-hues-local", False)), "fields": []}
            self.models[name] = model
            for fname, fschema in schema.get("properties", {}).items():
                model["fields"].append(self.field(fname, fschema, fname in required, name))
            model["secret_fields"] = [f["name"] for f in model["fields"] if f["secret"]]

    def use_enum(self, name: str) -> None:
        if name not in self.enums:
            schema = self.schemas[name]
            self.enums[name] = {"name": name, "doc": (schema.get("description") or "").strip(),
                                "values": list(schema["enum"]), "local": bool(schema.get("x-hues-local", False)),
                                "default": schema.get("default")}

    def parameter(self, p: dict) -> dict:
        if "$ref" in p:
            p = self.parameters[p["$ref"].split("/")[-1]]
        return p

    # ---- calls ----
    def http_calls(self) -> list[dict]:
        calls = []
        for path, item in self.doc["paths"].items():
            for http_method, op in item.items():
                if not isinstance(op, dict) or "x-hues-service" not in op:
                    continue
                where = op["operationId"]
                params = [self.parameter(p) for p in item.get("parameters", []) + op.get("parameters", [])]
                path_params = [self.field(p["name"], p["schema"], True, where) for p in params if p["in"] == "path"]
                for f in path_params:
                    f["doc"] = (self.parameter_doc(params, f["name"]) or f["doc"])
                # Header parameters the SDK sends itself (X-Request-Id, Idempotency-Key) are not
                # arguments; any other `in: header` parameter is (If-Match -> if_match).
                # x-hues-stream (sse): the operation is a subscription (see `stream` below).
                stream = op.get("x-hues-stream")
                if stream is not None and stream != "sse":
                    raise SpecError(f"{where}: x-hues-stream must be sse")
                header_params, optional_headers = [], []
                for p in params:
                    if p["in"] != "header" or p["name"] in SDK_HEADERS:
                        continue
                    required = bool(p.get("required"))
                    if not required and not stream:
                        raise SpecError(f"{where}: header parameter {p['name']} must be required (optional ones "
                                        "are generated for x-hues-stream operations only)")
                    f = self.field(p["name"].lower().replace("-", "_"), p["schema"], required,
                                   where, json_name=p["name"])
                    f["doc"] = (p.get("description") or f["doc"]).strip()
                    header_params.append(f)
                    if not required:
                        optional_headers.append(f)
                query_params = [self.field(p["name"], p["schema"], False, where, force_optional=True)
                                for p in params if p["in"] == "query"]
                for f in query_params:
                    f["doc"] = (self.parameter_doc(params, f["name"]) or f["doc"])
                query_model = op.get("x-hues-query-model")
                if query_model:
                    self.use_model(query_model)
                    names = [f["json"] for f in self.models[query_model]["fields"]]
                    if names != [f["json"] for f in query_params]:
                        raise SpecError(f"{where}: query model {query_model} fields {names} differ from "
                                        f"parameters {[f['json'] for f in query_params]}")
                    # In a query model every field is optional: absent means "not sent".
                    for f in self.models[query_model]["fields"]:
                        f.update(required=False, optional=True, has_default=False, default=None)
                elif query_params:
                    raise SpecError(f"{where}: query parameters need x-hues-query-model")
                body = None
                rb = op.get("requestBody")
                if rb:
                    schema = rb["content"]["application/json"]["schema"]
                    body = self.ref_name(schema)
                    self.use_model(body)
                result = None
                event_model = None
                if stream:
                    event_model = self.ref_name(op.get("x-hues-event-data") or {})
                    if not event_model:
                        raise SpecError(f"{where}: x-hues-stream needs x-hues-event-data (a $ref to the event model)")
                    self.use_model(event_model)
                    self.use_model("StreamOptions")
                for status, resp in ({} if stream else op["responses"]).items():
                    if "$ref" in resp:  # a shared response (components/responses)
                        resp = self.doc["components"]["responses"][resp["$ref"].split("/")[-1]]
                    if status.startswith("2"):
                        content = resp.get("content", {}).get("application/json")
                        if content:
                            result = self.ref_name(content["schema"])
                            self.use_model(result)
                        break
                result_field = op.get("x-hues-result-field")
                result_type = {"kind": "model", "name": result} if result else None
                if result_field:
                    fld = next(f for f in self.models[result]["fields"] if f["json"] == result_field)
                    result_type = fld["type"]
                pagination = op.get("x-hues-pagination")
                if pagination:
                    page = self.models[result]
                    items = next(f for f in page["fields"] if f["json"] == pagination["items"])
                    pagination = dict(pagination, item_model=items["type"]["items"]["name"], page_model=result)
                calls.append({
                    "kind": "http", "service": op["x-hues-service"], "method": op["x-hues-method"],
                    "operation_id": op["operationId"], "http_method": http_method.upper(), "path": path,
                    "path_params": path_params, "header_params": header_params,
                    "params": path_params + [f for f in header_params if f["required"]],
                    "optional_headers": optional_headers, "stream": stream, "event_model": event_model,
                    "query_params": query_params, "query_model": query_model,
                    "body": body, "result": result, "result_field": result_field, "result_type": result_type,
                    "pagination": pagination,
                    "idempotency_key": bool(op.get("x-hues-idempotency-key", False)),
                    "retry_safe": http_method.upper() in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
                    or bool(op.get("x-hues-idempotency-key", False)),
                    "summary": op.get("summary", ""),
                    "doc": (op.get("description") or op.get("summary") or "").strip(),
                })
        return calls

    def parameter_doc(self, params: list[dict], name: str) -> str:
        for p in params:
            if p["name"] == name:
                return (p.get("description") or "").strip()
        return ""

    def method_fields(self, args: dict, where: str) -> list[dict]:
        return [self.field(n, s, "default" not in s, where) for n, s in (args or {}).items()]

    def objects(self) -> list[dict]:
        out = []
        for name, obj in self.sdk.get("objects", {}).items():
            config = obj.get("config")
            if config:
                self.use_model(config)
            methods = []
            for mname, m in (obj.get("methods") or {}).items():
                methods.append({
                    "kind": "method", "object": name, "method": mname,
                    "args": self.method_fields(m.get("args"), f"{name}.{mname}"),
                    "result": self.type_of(m["result"], f"{name}.{mname}") if m.get("result") else None,
                    "result_secret": bool((m.get("result") or {}).get("x-hues-secret", False)),
                    "doc": (m.get("doc") or "").strip(),
                })
            out.append({"name": name, "doc": (obj.get("doc") or "").strip(), "config": config,
                        "implements": obj.get("implements"), "methods": methods})
        return out

    def callbacks(self) -> list[dict]:
        out = []
        for name, cb in self.sdk.get("callbacks", {}).items():
            methods = []
            for i, (mname, m) in enumerate((cb.get("methods") or {}).items()):
                where = f"x-hues-sdk.callbacks.{name}.{mname}"
                args = self.method_fields(m.get("args"), f"{name}.{mname}")
                result = self.type_of(m["result"], f"{name}.{mname}") if m.get("result") else None
                buffer = m.get("x-hues-cpp-buffer")
                if buffer is not None:
                    arg = next((a for a in args if a["name"] == buffer), None)
                    if (result or {}).get("kind") != "bytes" or arg is None or arg["type"]["kind"] != "int64":
                        raise SpecError(f"{where}: x-hues-cpp-buffer needs a bytes result and an int64 argument "
                                        f"named {buffer}")
                methods.append({"index": i, "name": mname, "args": args, "result": result,
                                "result_default": (m.get("result") or {}).get("default"),
                                "doc": (m.get("doc") or "").strip(),
                                "cpp": {"name": m.get("x-hues-cpp-name", mname), "buffer": buffer}})
            on_error = cb.get("x-hues-on-error", "raise")
            if on_error not in ("raise", "ignore") and on_error not in {e["type"] for e in self.sdk.get("errors", [])}:
                raise SpecError(f"x-hues-sdk.callbacks.{name}: x-hues-on-error must be raise, ignore or an "
                                f"x-hues-sdk.errors type, not {on_error}")
            if not cb.get("x-hues-cpp-header"):
                raise SpecError(f"x-hues-sdk.callbacks.{name}: x-hues-cpp-header must name the header declaring "
                                f"hues::{name} (the C++ interface the generated adapter implements)")
            # x-hues-progress: the model this one-method listener reports; each language also
            # accepts its progress idiom for it (a Python callable, a C# IProgress<T>, ...).
            # x-hues-byte-source: a byte stream (read(size) -> bytes, seek(offset) -> bool, size() -> int64);
            # each language also accepts its own stream type for it (a binary file object, an
            # InputStream, a System.IO.Stream), wrapped by its runtime's one stream adapter.
            byte_source = bool(cb.get("x-hues-byte-source"))
            if byte_source:
                shape = {m["name"]: ([a["type"]["kind"] for a in m["args"]], (m["result"] or {}).get("kind"))
                         for m in methods}
                want = {"read": (["int64"], "bytes"), "seek": (["int64"], "bool"), "size": ([], "int64")}
                if shape != want:
                    raise SpecError(f"x-hues-sdk.callbacks.{name}: x-hues-byte-source needs exactly {want}, got {shape}")
            out.append({"name": name, "doc": (cb.get("doc") or "").strip(), "methods": methods,
                        "progress": cb.get("x-hues-progress"), "byte_source": byte_source,
                        "on_error": on_error, "cpp": {"header": cb["x-hues-cpp-header"]}})
        return out

    def errors(self) -> list[dict]:
        out = []
        for e in self.sdk.get("errors", []):
            body = e.get("body")
            fields = []
            if body is not None:
                schema = self.schemas.get(body)
                if schema is None or "error" not in schema.get("properties", {}):
                    raise SpecError(f"x-hues-sdk.errors {e['class']}: body {body} is not an error schema "
                                    "(an object with `error`)")
                required = set(schema.get("required", []))
                for fname, fschema in schema["properties"].items():
                    if fname != "error":
                        fields.append(self.field(fname, fschema, fname in required, f"{e['class']}.body"))
            out.append({"class": e["class"], "base": e.get("base"), "type": e["type"],
                        "status": list(e.get("status", [])), "codes": list(e.get("codes", [])),
                        "retryable": bool(e.get("retryable", False)), "doc": e.get("doc", ""),
                        "body": body, "fields": fields})
        self.check_error_bodies(out)
        return out

    def check_error_bodies(self, errors: list[dict]) -> None:
        """An error response that carries more than `error` must be an error class's body, and
        that class must be the one its status maps to: else the extra fields would be lost."""
        by_status = {s: e for e in errors for s in e["status"]}
        responses = self.doc["components"].get("responses", {})
        for path, item in self.doc["paths"].items():
            for http_method, op in item.items():
                if not isinstance(op, dict) or "x-hues-service" not in op:
                    continue
                for status, resp in op.get("responses", {}).items():
                    if "$ref" in resp:
                        resp = responses[resp["$ref"].split("/")[-1]]
                    if status.startswith("2"):
                        continue
                    content = resp.get("content", {}).get("application/json")
                    name = self.ref_name(content["schema"]) if content else None
                    props = self.schemas.get(name or "", {}).get("properties", {})
                    if not set(props) - {"error"}:
                        continue
                    e = by_status.get(int(status)) if status.isdigit() else None
                    if e is None or e["body"] != name:
                        raise SpecError(f"{op['operationId']}: the {status} response {name} carries more than "
                                        f"`error`; declare it as the body of the error class of status {status}")


def build(spec_path: Path) -> dict:
    raw = spec_path.read_bytes()
    doc = yaml.safe_load(raw.decode("utf-8"))
    b = Builder(doc)
    http = b.http_calls()
    objects = b.objects()
    callbacks = b.callbacks()
    errors = b.errors()  # before the models are listed: a body's fields may reach new models
    b.use_model("ErrorBody")
    # Wire models the SDK reads from operations without x-hues-service (the OAuth endpoints).
    for name in ("TokenResponse", "OAuthErrorBody"):
        if name in b.schemas:
            b.use_model(name)
    calls = []
    for c in http:
        calls.append(c)
    for o in objects:
        calls.extend(o["methods"])
    for i, c in enumerate(calls):
        c["id"] = i
    services: dict[str, dict] = {}
    for c in http:
        services.setdefault(c["service"], {"name": c["service"], "calls": []})["calls"].append(c)
    # Handles name an interface: an object's own name, or what it implements.
    interfaces = sorted({o["name"] for o in objects} | {o["implements"] for o in objects if o["implements"]}
                        | {c["name"] for c in callbacks})
    return {
        "spec_version": doc["info"]["version"],
        "spec_hash": hashlib.sha256(raw).hexdigest()[:16],
        "models": list(b.models.values()),
        "enums": list(b.enums.values()),
        "calls": calls,
        "services": list(services.values()),
        "objects": objects,
        "callbacks": callbacks,
        "interfaces": interfaces,
        "errors": errors,
    }
