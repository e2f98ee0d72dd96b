"""C++ target: public models and services, the internal JSON codec, the call table and its
validators (shared with the sandbox). Renders templates/cpp/; see templates for the shapes."""

from __future__ import annotations

import json
import re

from ..render import environment, pascal, snake

# Models kept to their pre-codegen rules: optional fields are plain values (absent ==
# empty) rather than std::optional, and decoding does not insist on required fields.
# identity.cpp, jwt.cpp (which removes "aud" before decoding) and the sandbox's OIDC
# provider use them that way. Follow-up: std::optional and strict decoding with those sites.
PLAIN_OPTIONAL = {"TokenSet", "IdTokenClaims", "TokenResponse", "OAuthErrorBody"}

SCALARS = {"string": "std::string", "int32": "std::int32_t", "int64": "std::int64_t", "double": "double",
           "bool": "bool", "datetime": "std::string", "bytes": "std::string"}

FILES = ["include/hues/models.h", "include/hues/services.h", "include/hues/errors.h", "src/internal/model_codec.h",
         "src/internal/calls.h", "src/internal/host_adapters.h", "src/models_json.cpp", "src/calls.cpp",
         "src/services.cpp", "src/errors.cpp"]

# Passed by value in a C++ signature (everything else by const reference).
BY_VALUE = {"int32", "int64", "double", "bool"}


def cpp_type(t: dict) -> str:
    k = t["kind"]
    if k in SCALARS:
        return SCALARS[k]
    if k in ("enum", "model"):
        return t["name"]
    if k == "array":
        return f"std::vector<{cpp_type(t['items'])}>"
    if k == "map":
        return f"std::map<std::string, {cpp_type(t['values'])}>"
    raise ValueError(f"no C++ type for {t}")


def cpp_string(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid C++ narrow literal here


def cpp_default(f: dict) -> str:
    t, d = f["type"], f["default"]
    k = t["kind"]
    if k == "bool":
        return "true" if d else "false"
    if k in ("int32", "int64"):
        return str(int(d))
    if k == "double":
        return repr(float(d))
    if k in ("string", "datetime"):
        return cpp_string(d)
    if k == "enum":
        return f"{t['name']}({cpp_string(d)})"
    if k == "array":
        return "{" + ", ".join(cpp_string(x) if isinstance(x, str) else str(x) for x in d) + "}"
    raise ValueError(f"no C++ default for {f}")


def const_name(value: str) -> str:
    return "k" + pascal(re.sub(r"[^A-Za-z0-9]+", "_", value))


def comment(text: str, indent: str = "") -> str:
    lines = [ln.rstrip() for ln in (text or "").strip().splitlines()]
    return "\n".join(f"{indent}// {ln}".rstrip() for ln in lines if ln) + ("\n" if lines else "")


def field_shape(model: dict, f: dict) -> str:
    """required | default | optional | plain (optional, but kept a plain value)."""
    if f["required"]:
        return "lenient" if model["name"] in PLAIN_OPTIONAL else "required"
    if f["has_default"]:
        return "default"
    return "plain" if model["name"] in PLAIN_OPTIONAL else "optional"


def field_decl(model: dict, f: dict) -> str:
    t = cpp_type(f["type"])
    shape = field_shape(model, f)
    if shape == "lenient":
        return f"{t} {f['name']}{{}};"
    if shape == "default":
        return f"{t} {f['name']} = {cpp_default(f)};"
    if shape == "optional":
        return f"std::optional<{t}> {f['name']};"
    return f"{t} {f['name']}{{}};"


def by_key_length(fields: list[dict]) -> list[tuple[int, list[dict]]]:
    """A model's fields grouped by the byte length of their JSON key, for a decoder that
    walks the object's members once and dispatches each by length, then by bytes."""
    groups: dict[int, list[dict]] = {}
    for f in fields:
        groups.setdefault(len(f["json"].encode()), []).append(f)
    return sorted(groups.items())


def ordered_models(models: list[dict]) -> list[dict]:
    by_name = {m["name"]: m for m in models}
    out, seen = [], set()

    def deps(t):
        if t["kind"] == "model":
            yield t["name"]
        elif t["kind"] == "array":
            yield from deps(t["items"])

    def visit(m):
        if m["name"] in seen:
            return
        seen.add(m["name"])
        for f in m["fields"]:
            for d in deps(f["type"]):
                if d in by_name:
                    visit(by_name[d])
        out.append(m)

    for m in models:
        visit(m)
    return out


def cpp_regex(pattern: str) -> str:
    return 'R"re(' + pattern + ')re"'


def check_expr(t: dict, cons: dict, enums: dict) -> dict:
    """What the validator template needs to check one value."""
    values = cons.get("enum")
    if t["kind"] == "enum" and values is None:
        values = enums[t["name"]]["values"]
    return {
        "kind": t["kind"], "model": t.get("name") if t["kind"] == "model" else None,
        "minimum": cons.get("minimum"), "maximum": cons.get("maximum"),
        "min_length": cons.get("minLength"), "max_length": cons.get("maxLength"),
        "min_items": cons.get("minItems"), "max_items": cons.get("maxItems"),
        "pattern": cpp_regex(cons["pattern"]) if "pattern" in cons else None,
        "pattern_text": cons.get("pattern"),
        "enum": values, "const": cons.get("const"),
        "items": check_expr(t["items"], cons.get("items", {}), enums) if t["kind"] == "array" else None,
        "values": check_expr(t["values"], {}, enums) if t["kind"] == "map" else None,
    }


def param_type(t: dict) -> str:
    if t["kind"] == "enum":
        return "enum:" + t["name"]
    if t["kind"] == "model":
        return "model:" + t["name"]
    if t["kind"] == "array":
        return "array:" + param_type(t["items"])
    if t["kind"] == "map":
        return "map:" + param_type(t["values"])
    return t["kind"]


class TargetError(Exception):
    pass


def host_error_policy(on_error: str) -> dict:
    """x-hues-on-error as the ErrorType (and code) of each way a host call can fail: it raised
    (failed), it did not answer within the reply timeout (timeout), it answered a value that is
    not the method's result type (invalid). ignore: the adapter swallows all three."""
    if on_error in ("raise", "ignore"):
        return {"ignore": on_error == "ignore",
                "failed": ("kApi", "host_callback_failed"), "timeout": ("kTimeout", "host_callback_timeout"),
                "invalid": ("kValidation", "validation_error")}
    t = const_name(on_error)  # an x-hues-sdk.errors type: hues::ErrorType::k<Type>
    return {"ignore": False, "failed": (t, f"{on_error}_failed"), "timeout": (t, "host_callback_timeout"),
            "invalid": (t, f"{on_error}_failed")}


def callback_view(cb: dict, enums: dict, local_enums: set) -> dict:
    """One x-hues-sdk.callbacks interface as its C++ adapter: each method's override signature
    and how its arguments and result cross (templates/cpp/host_adapters.h.j2)."""
    where = f"x-hues-sdk.callbacks.{cb['name']}"

    def param(t: dict, name: str) -> str:
        # A local enum (LogLevel) is the hand-written enum class of its header: by value too.
        by_value = t["kind"] in BY_VALUE or (t["kind"] == "enum" and t["name"] in local_enums)
        return f"{cpp_type(t)} {name}" if by_value else f"const {cpp_type(t)}& {name}"

    methods = []
    for m in cb["methods"]:
        buffer = m["cpp"]["buffer"]
        params, args = [], []
        for a in m["args"]:
            t = a["type"]
            if a["name"] == buffer:
                params.append(f"std::size_t {a['name']}")
                args.append({"json": a["json"], "expr": f"static_cast<std::int64_t>({a['name']})", "bytes": False,
                             "enum": None})
                continue
            if t["kind"] in ("array", "map") and t.get("items", t.get("values", {})).get("kind") == "bytes":
                raise TargetError(f"{where}.{m['name']}: arrays of bytes are not supported in a callback")
            local = t["kind"] == "enum" and t["name"] in local_enums
            params.append(param(t, a["name"]))
            args.append({"json": a["json"], "expr": a["name"], "bytes": t["kind"] == "bytes",
                         "enum": enums[t["name"]] if local else None})
        if buffer:
            params.insert(0, "char* buf")
        r = m["result"]
        if r is not None and r["kind"] == "enum" and r["name"] in local_enums:
            raise TargetError(f"{where}.{m['name']}: a result of a local enum is not supported")
        if r is None:
            ret, fallback = "void", None
        elif buffer:
            ret, fallback = "std::size_t", '""'
        else:
            ret = cpp_type(r)
            d = m["result_default"]
            fallback = cpp_default({"type": r, "default": d}) if d is not None else f"{ret}{{}}"
        methods.append({"index": m["index"], "name": m["name"], "cpp_name": m["cpp"]["name"], "buffer": buffer,
                        "params": ", ".join(params), "ret": ret, "args": args, "result": r, "fallback": fallback,
                        "where": f"{cb['name']}.{m['name']}"})
    return {"name": cb["name"], "adapter": "Host" + cb["name"], "header": cb["cpp"]["header"],
            "on_error": cb["on_error"], "policy": host_error_policy(cb["on_error"]), "methods": methods,
            "article": "an" if cb["name"][:1] in "AEIOU" else "a"}


def generate(model: dict, out) -> None:
    enums = {e["name"]: e for e in model["enums"]}
    wire_enums = [e for e in model["enums"] if not e["local"]]
    wire_models = ordered_models([m for m in model["models"] if not m["local"]])
    wire_names = {m["name"] for m in wire_models}
    http_calls = [c for c in model["calls"] if c["kind"] == "http"]

    def num(v):
        if v is None:
            return None
        return repr(float(v))

    env = environment("cpp", cpp_type=cpp_type, cpp_string=cpp_string, const_name=const_name,
                      comment=comment, num=num, snake=snake, param_type=param_type)
    env.globals.update(
        field_decl=field_decl, field_shape=field_shape, by_key_length=by_key_length,
        check=lambda t, cons: check_expr(t, cons, enums))

    services = []
    for s in model["services"]:
        methods = []
        for c in s["calls"]:
            rt = c["result_type"]
            methods.append(dict(c, ret=cpp_type(rt) if rt else "void"))
        services.append({"name": s["name"], "class": pascal(s["name"]) + "Client", "calls": methods})

    local_enums = {e["name"] for e in model["enums"] if e["local"]}
    callbacks = [callback_view(cb, enums, local_enums) for cb in model["callbacks"]]
    ctx = dict(spec_version=model["spec_version"], spec_hash=model["spec_hash"], enums=wire_enums,
               models=wire_models, wire_names=wire_names, calls=model["calls"], http_calls=http_calls,
               services=services, all_models={m["name"]: m for m in model["models"]}, errors=model["errors"],
               callbacks=callbacks, callback_headers=sorted({c["header"] for c in callbacks}),
               callback_enums=list({a["enum"]["name"]: a["enum"] for c in callbacks for m in c["methods"]
                                    for a in m["args"] if a["enum"]}.values()))
    for f in FILES:
        out.write(f, env.get_template(f.split("/")[-1] + ".j2").render(**ctx))
