"""docs/openapi.yaml as a checker: finds the operation a request hits and validates the
response (status declared, required headers, body schema) against the spec itself."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import yaml
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REPO = Path(__file__).resolve().parents[2]
# HUES_OPENAPI points the checks at another copy of the spec (e.g. to try a change).
SPEC_PATH = Path(os.environ.get("HUES_OPENAPI", REPO / "docs" / "openapi.yaml"))
SPEC_URI = "urn:hues:openapi"  # base URI so the spec's "#/components/..." refs resolve
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
API_KEY = "hk_test_hue_s_sandbox_0001"


def esc(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class Spec:
    def __init__(self, path: Path = SPEC_PATH):
        self.doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(self.doc, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(SPEC_URI, resource)
        self._validators: dict[str, OAS31Validator] = {}
        self.templates = [
            (tpl, re.compile("^" + "".join(
                "[^/]+?" if part.startswith("{") else re.escape(part)
                for part in re.split(r"(\{[^/}]+\})", tpl)) + "$"))
            for tpl in self.doc["paths"]
        ]

    # -- pointers -----------------------------------------------------------------------
    def node(self, ptr: str) -> Any:
        cur: Any = self.doc
        for tok in ptr.lstrip("/").split("/") if ptr not in ("", "/") else []:
            tok = tok.replace("~1", "/").replace("~0", "~")
            cur = cur[int(tok)] if isinstance(cur, list) else cur[tok]
        return cur

    def deref(self, ptr: str) -> tuple[Any, str]:
        """Follows $ref chains (local refs only) from ptr; returns the node and its pointer."""
        node = self.node(ptr)
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), f"non-local $ref {ref} at {ptr}"
            ptr = ref[1:]
            node = self.node(ptr)
        return node, ptr

    def operations(self) -> list[tuple[str, str]]:
        return [(m.upper(), p) for p, item in self.doc["paths"].items() for m in item if m in METHODS]

    def template_for(self, path: str) -> str | None:
        path = path.split("?", 1)[0]
        for tpl, rx in self.templates:
            if rx.match(path):
                return tpl
        return None

    def operation(self, method: str, template: str) -> dict | None:
        return self.doc["paths"][template].get(method.lower())

    # -- schema validation ---------------------------------------------------------------
    def validate(self, instance: Any, ptr: str) -> None:
        """Raises jsonschema ValidationError unless instance fits the schema at ptr."""
        v = self._validators.get(ptr)
        if v is None:
            v = OAS31Validator({"$ref": f"{SPEC_URI}#{ptr}"}, registry=self.registry,
                               format_checker=oas31_format_checker)
            self._validators[ptr] = v
        v.validate(instance)

    def schema_ptr(self, name: str) -> str:
        assert name in self.doc["components"]["schemas"], f"no schema {name}"
        return f"/components/schemas/{name}"

    # -- object shapes (for the exact-property-name checks) -------------------------------
    def shape(self, ptr: str) -> tuple[dict[str, str], set[str], str | None]:
        """Properties (name -> schema pointer), required names and items pointer of the schema
        at ptr, merging $ref and allOf."""
        node, ptr = self.deref(ptr)
        props: dict[str, str] = {}
        required: set[str] = set(node.get("required", []))
        items = f"{ptr}/items" if "items" in node else None
        for name in node.get("properties", {}):
            props[name] = f"{ptr}/properties/{esc(name)}"
        for i, _ in enumerate(node.get("allOf", [])):
            p, r, it = self.shape(f"{ptr}/allOf/{i}")
            props.update(p)
            required |= r
            items = items or it
        return props, required, items

    def key_diffs(self, instance: Any, ptr: str, where: str = "$") -> list[str]:
        """Names the JSON members that the schema lacks (extra) or that the schema declares
        as required but the JSON lacks (missing), recursively."""
        props, required, items = self.shape(ptr)
        out: list[str] = []
        if isinstance(instance, dict) and props:
            for k in sorted(set(instance) - set(props)):
                out.append(f"extra member {where}.{k} (not in {ptr})")
            for k in sorted(required - set(instance)):
                out.append(f"missing member {where}.{k} (required by {ptr})")
            for k in sorted(set(instance) & set(props)):
                out += self.key_diffs(instance[k], props[k], f"{where}.{k}")
        elif isinstance(instance, list) and items:
            for i, item in enumerate(instance):
                out += self.key_diffs(item, items, f"{where}[{i}]")
        return out


class ContractError(AssertionError):
    pass


def check_response(spec: Spec, method: str, path: str, resp) -> dict:
    """Validates one response (requests or httpx) against the spec; returns a summary with
    the operation template, the response pointer and the parsed body."""
    status = resp.status_code
    template = spec.template_for(path)
    op = spec.operation(method, template) if template else None
    if template is None:
        resp_ptr = "/components/responses/NotFound"
        if status != 404:
            raise ContractError(f"{method} {path}: no such path in the spec, want 404, got {status}")
    elif op is None:  # the Open311 facade answers in GeoReport's error shape
        resp_ptr = ("/components/responses/Open311MethodNotAllowed" if template.startswith("/open311/")
                    else "/components/responses/MethodNotAllowed")
        if status != 405:
            raise ContractError(f"{method} {path}: method not in the spec, want 405, got {status}")
    else:
        declared = op["responses"]
        key = str(status) if str(status) in declared else "default" if "default" in declared else None
        if key is None:
            raise ContractError(f"{method} {template}: status {status} is not declared "
                                f"(declared: {sorted(declared)}); body: {resp.text[:300]!r}")
        resp_ptr = f"/paths/{esc(template)}/{method.lower()}/responses/{key}"
    rnode, resp_ptr = spec.deref(resp_ptr)

    # Headers: every response carries X-Request-Id; declared required headers must be there.
    for name in rnode.get("headers", {}):
        hnode, hptr = spec.deref(f"{resp_ptr}/headers/{esc(name)}")
        value = resp.headers.get(name)
        if value is None:
            if hnode.get("required"):
                raise ContractError(f"{method} {path} -> {status}: missing header {name}")
            continue
        hschema, _ = spec.deref(f"{hptr}/schema")
        typed: Any = int(value) if hschema.get("type") == "integer" and value.isdigit() else value
        try:
            spec.validate(typed, f"{hptr}/schema")
        except ValidationError as e:
            raise ContractError(f"{method} {path} -> {status}: header {name}={value!r}: {e.message}")
    if "X-Request-Id" not in resp.headers:
        raise ContractError(f"{method} {path} -> {status}: no X-Request-Id")

    body = None
    content = rnode.get("content")
    if content:
        ctype = resp.headers.get("Content-Type", "")
        media = ctype.split(";")[0].strip().lower()
        if media not in content:  # a media range ("image/*", "*/*": a download of any type)
            media = next((k for k in content if k == "*/*" or (k.endswith("/*") and media.startswith(k[:-1]))),
                         media)
        if media not in content:
            raise ContractError(f"{method} {path} -> {status}: Content-Type {ctype!r}, "
                                f"spec has {sorted(content)}")
        if media == "text/event-stream":  # endless: its events are checked by the tests that read them
            return {"template": template, "response": resp_ptr, "schema": None, "body": None}
        if media != "application/json":  # the sign-in pages (text/html)
            return {"template": template, "response": resp_ptr, "schema": None, "body": resp.text}
        try:
            body = json.loads(resp.content.decode("utf-8"))  # strict: UTF-8 JSON only
        except (UnicodeDecodeError, ValueError) as e:
            raise ContractError(f"{method} {path} -> {status}: body is not UTF-8 JSON: {e}")
        schema_ptr = f"{resp_ptr}/content/{esc(media)}/schema"
        try:
            spec.validate(body, schema_ptr)
        except ValidationError as e:
            raise ContractError(f"{method} {path} -> {status}: body does not fit "
                                f"{spec.deref(schema_ptr)[1]}: {e.message} at "
                                f"{'/'.join(map(str, e.absolute_path))}; body: {resp.text[:400]!r}")
        if isinstance(body, dict) and isinstance(body.get("error"), dict):  # not RFC 6749 errors
            rid = body["error"].get("request_id")
            if rid != resp.headers["X-Request-Id"]:
                raise ContractError(f"{method} {path}: error.request_id {rid!r} != "
                                    f"X-Request-Id {resp.headers['X-Request-Id']!r}")
        schema_ptr = spec.deref(schema_ptr)[1]
    else:
        schema_ptr = None
    return {"template": template, "response": resp_ptr, "schema": schema_ptr, "body": body}


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371008.8  # mean Earth radius, as the contract's great-circle distance
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))
