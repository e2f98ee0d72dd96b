"""The spec on its own: valid OpenAPI 3.1, examples that fit their schemas, the same models
as the generated C++ models (codegen/ renders hues/models.h from the spec) and the shape
docs/api-contract.md promises."""

import os
import re
import subprocess
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path

import pytest
from jsonschema.exceptions import ValidationError
from openapi_spec_validator import validate as validate_spec

from speccheck import METHODS, REPO, esc

CONTRACT_MD = REPO / "docs/api-contract.md"
CPP_SCALARS = {"std::string": "string", "double": "number", "std::int64_t": "integer",
               "std::int32_t": "integer", "bool": "boolean"}
# Kept plain (absent == empty) for identity.cpp; see codegen/hues_codegen/targets/cpp.py.
PLAIN_OPTIONAL = {"TokenSet", "IdTokenClaims", "TokenResponse", "OAuthErrorBody"}


@lru_cache(maxsize=None)
def generated_models_h() -> str:
    """hues/models.h as the C++ target renders it now (into a scratch dir, not the build)."""
    out = Path(os.environ.get("PYTEST_TMPDIR", "/tmp")) / f"hues-codegen-cpp-{os.getpid()}"
    env = dict(os.environ, PYTHONPATH=str(REPO / "codegen"))
    subprocess.run([sys.executable, "-m", "hues_codegen", "--spec", str(REPO / "docs/openapi.yaml"),
                    "--target", "cpp", "--out", str(out)], check=True, env=env)
    return (out / "include/hues/models.h").read_text(encoding="utf-8")


def parse_models_h() -> dict[str, list[tuple[str, str, str]]]:
    """{model: [(c++ type, member, shape), ...]} from the generated structs, in order; shape
    is "optional" (std::optional), "default" (initialised to a value) or "plain" ({})."""
    models = {}
    for m in re.finditer(r"^struct (\w+) \{\n(.*?)^\};", generated_models_h(), re.S | re.M):
        fields = []
        for line in m.group(2).splitlines():
            line = line.strip()
            if not line or line.startswith("//") or line.startswith("static "):
                continue
            fm = re.match(r"(.+?) (\w+)(\{\}| = .+)?;$", line)
            assert fm, f"{m.group(1)}: cannot read {line!r}"
            ctype, name, init = fm.groups()
            if ctype.startswith("std::optional<"):
                fields.append((ctype[len("std::optional<"):-1], name, "optional"))
            else:
                fields.append((ctype, name, "plain" if init == "{}" else "default"))
        models[m.group(1)] = fields
    assert len(models) >= 9 and all(models.values()), models
    return models


def closed_sets() -> dict[str, list[str]]:
    """{class: values} of the generated closed-set classes."""
    return {m.group(1): re.findall(r'"([^"]+)"', m.group(2)) for m in re.finditer(
        r"^class (\w+) \{.*?kValues = \{(.*?)\};", generated_models_h(), re.S | re.M)}


def test_spec_is_valid_openapi_3_1(spec):
    assert spec.doc["openapi"] == "3.1.0"
    validate_spec(spec.doc)


def kind(spec, ptr: str) -> str:
    """The C++-comparable type of the schema at ptr: a scalar, array<...> or a model name."""
    node = spec.node(ptr)
    if isinstance(node, dict) and "allOf" in node:  # a model ref narrowed by allOf
        return kind(spec, f"{ptr}/allOf/0")
    if "$ref" in node and node["$ref"].startswith("#/components/schemas/"):
        target, tptr = spec.deref(ptr)
        if target.get("type") == "object":
            return tptr.rsplit("/", 1)[1]
        return kind(spec, tptr)
    if node.get("type") == "array":
        return f"array<{kind(spec, ptr + '/items')}>"
    return node["type"]


def cpp_kind(t: str) -> str:
    t = t.strip()
    if t.startswith("std::vector<"):
        return f"array<{cpp_kind(t[len('std::vector<'):-1])}>"
    if t in closed_sets():
        return "string"  # a closed set is a class over its wire string
    return CPP_SCALARS.get(t, t)


def test_generated_models_are_the_wire_schemas(spec):
    local = {n for n, s in spec.doc["components"]["schemas"].items() if s.get("x-hues-local")}
    assert {"Report", "NewReport", "Agency", "AgencyPage", "Timeline", "TimelineEntry"} <= set(parse_models_h())
    assert not set(parse_models_h()) & local  # SDK-only models are hand-kept in options.h/identity.h


@pytest.mark.parametrize("model", list(parse_models_h()))
def test_schema_matches_generated_models(spec, model):
    fields = parse_models_h()[model]
    ptr = spec.schema_ptr(model)
    schema = spec.node(ptr)
    props = list(schema["properties"])
    assert props == [n for _, n, _ in fields], f"{model}: spec {props} vs models.h {fields}"
    required = set(schema.get("required", []))
    # A query model's fields are all optional: absent means "not sent" (codegen/hues_codegen/ir.py).
    query_models = {op.get("x-hues-query-model") for item in spec.doc["paths"].values()
                    for op in item.values() if isinstance(op, dict)}
    for ctype, name, shape in fields:
        got = kind(spec, f"{ptr}/properties/{esc(name)}")
        assert got == cpp_kind(ctype), f"{model}.{name}: spec {got}, models.h {ctype}"
        prop = spec.node(f"{ptr}/properties/{esc(name)}")
        target = spec.deref(f"{ptr}/properties/{esc(name)}")[0] if "$ref" in prop else prop
        has_default = "default" in prop or "default" in target
        if model in query_models:
            want = "optional"
        elif name in required:
            want = "plain"
        elif has_default:
            want = "default"
        else:
            want = "plain" if model in PLAIN_OPTIONAL else "optional"
        assert shape == want, f"{model}.{name}: {shape} in models.h, the spec makes it {want}"


def test_closed_sets_match_the_spec(spec):
    schemas = spec.doc["components"]["schemas"]
    sets = closed_sets()
    for name, schema in schemas.items():
        if schema.get("type") == "string" and "enum" in schema and not schema.get("x-hues-local"):
            if name in sets:
                assert sets[name] == schema["enum"], name


def test_required_lists(spec):
    s = spec.doc["components"]["schemas"]
    for name in ("AttributeValue", "CategoryAttribute", "Category", "ReportPage"):
        assert set(s[name]["required"]) == set(s[name]["properties"]), name
    # Only what a report may not have yet (a link, an answer, a rating), may not show, or
    # only the create response carries (the duplicate hints) is optional.
    assert set(s["Report"]["properties"]) - set(s["Report"]["required"]) == {
        "duplicate_of", "reporter", "answer", "rating", "possible_duplicates"}
    assert set(s["NewReport"]["required"]) == {"category", "description", "location"}
    assert set(s["Location"]["required"]) == {"lat", "lon"}
    assert set(s["ErrorBody"]["required"]) == {"code", "message", "request_id"}
    assert s["CategoryAttribute"]["properties"]["datatype"]["enum"] == [
        "string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    assert s["ReportStatus"]["enum"] == closed_sets()["ReportStatus"]


def test_error_codes_match_contract_md(spec):
    text = CONTRACT_MD.read_text(encoding="utf-8")
    codes_sentence = text[text.index("Codes:"):text.index("- 429")]
    documented = re.findall(r"`([a-z_]+)`", codes_sentence)
    assert spec.doc["components"]["schemas"]["ErrorCode"]["enum"] == documented


def iter_operations(spec):
    for path, item in spec.doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


IDENTITY_OPS = {("GET", "/.well-known/openid-configuration"), ("GET", "/oauth/jwks"),
                ("GET", "/oauth/authorize"), ("POST", "/oauth/authorize"), ("POST", "/oauth/token"),
                ("POST", "/oauth/device_authorization"), ("POST", "/oauth/revoke"),
                ("GET", "/oauth/userinfo"), ("POST", "/oauth/userinfo"), ("GET", "/device"),
                ("POST", "/device"), ("POST", "/admin/keys/rotate"), ("POST", "/admin/keys/retire")}
LIFECYCLE_OPS = {("POST", "/v1/reports/{id}/" + a) for a in (
    "receive", "assign", "reject", "duplicate", "accept", "respond", "transfer-request", "transfer-approval",
    "approve", "return", "rating", "transfer-decline")} | {("GET", "/v1/agencies/{code}/inbox"),
                                                           ("GET", "/v1/reports/{id}/comments"),
                                                           ("POST", "/v1/reports/{id}/comments"),
                                                           ("GET", "/v1/statistics/reports")}
# The Open311 GeoReport v2 facade: its own error shape, no API key to read, no SDK method.
OPEN311_OPS = {("GET", "/open311/v2/services.{format}"), ("GET", "/open311/v2/services/{service_code}.{format}"),
               ("GET", "/open311/v2/requests.{format}"), ("POST", "/open311/v2/requests.{format}"),
               ("GET", "/open311/v2/requests/{service_request_id}.{format}"),
               ("GET", "/open311/v2/tokens/{token}.{format}")}
SEARCH_OPS = {("GET", "/v1/reports/duplicates")}
# The tus 1.0.0 upload server (tests/contract/test_uploads.py): tus headers, no SDK method yet.
MEDIA_OPS = {("OPTIONS", "/v1/uploads"), ("POST", "/v1/uploads"), ("HEAD", "/v1/uploads/{upload_id}"),
             ("PATCH", "/v1/uploads/{upload_id}"), ("DELETE", "/v1/uploads/{upload_id}")}
# Media objects (tests/contract/test_media.py): media.get is an SDK call, its bytes are not (yet).
MEDIA_OBJECT_OPS = {("GET", "/v1/media/{media_id}"), ("GET", "/v1/media/{media_id}/content")}
# Standard Webhooks endpoints for partners (tests/contract/test_webhooks.py).
WEBHOOK_OPS = {("GET", "/v1/webhooks"), ("POST", "/v1/webhooks"), ("GET", "/v1/webhooks/{endpoint_id}"),
               ("PATCH", "/v1/webhooks/{endpoint_id}"), ("DELETE", "/v1/webhooks/{endpoint_id}"),
               ("POST", "/v1/webhooks/{endpoint_id}/rotate-secret"), ("GET", "/v1/webhooks/{endpoint_id}/deliveries"),
               ("POST", "/v1/webhooks/{endpoint_id}/replay")}
# Server-Sent Events (tests/contract/test_events.py): a text/event-stream, no SDK method yet.
EVENTS_OPS = {("GET", "/v1/events")}
OAUTH_JSON = {"/oauth/token", "/oauth/device_authorization", "/oauth/revoke", "/oauth/userinfo"}


def test_operations_shape(spec):
    ops = {(m.upper(), p) for p, m, _ in iter_operations(spec)}
    assert ops == {("GET", "/healthz"), ("GET", "/v1/categories"), ("POST", "/v1/reports"),
                   ("GET", "/v1/reports"), ("GET", "/v1/reports/{id}"), ("GET", "/v1/reports/{id}/timeline"),
                   ("GET", "/v1/agencies"), ("GET", "/v1/me")} | IDENTITY_OPS | LIFECYCLE_OPS | OPEN311_OPS | SEARCH_OPS | MEDIA_OPS | MEDIA_OBJECT_OPS | WEBHOOK_OPS | EVENTS_OPS
    assert spec.doc["security"] == [{"ApiKey": []}, {"Bearer": []}]
    schemes = spec.doc["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {**schemes["ApiKey"], "type": "apiKey", "in": "header", "name": "X-Api-Key"}
    assert schemes["Bearer"]["type"] == "http" and schemes["Bearer"]["scheme"] == "bearer"
    assert set(schemes["OAuth2"]["flows"]) == {"authorizationCode", "clientCredentials"}
    assert schemes["OpenIdConnect"] == {"type": "openIdConnect",
                                        "openIdConnectUrl": "/.well-known/openid-configuration"}
    urls = [s["url"] for s in spec.doc["servers"]]
    assert urls == ["https://api.hue-s.vn", "http://127.0.0.1:{port}"]
    for path, method, op in iter_operations(spec):
        codes = set(op["responses"])
        assert {"405", "500"} <= codes, (method, path, codes)
        for code in codes:
            node, ptr = spec.deref(f"/paths/{esc(path)}/{method}/responses/{code}")
            assert "X-Request-Id" in node["headers"], (method, path, code)
            if "application/json" not in node.get("content", {}) or code < "400" or code == "500":
                continue
            schema = spec.deref(f"{ptr}/content/application~1json/schema")[1]
            want = ("/components/schemas/Open311Errors" if (method.upper(), path) in OPEN311_OPS
                    else "/components/schemas/OAuthErrorBody" if path in OAUTH_JSON and code != "405"
                    else "/components/schemas/StaleReportError" if code == "412" and (method.upper(), path) not in MEDIA_OPS
                    else "/components/schemas/Error")
            assert schema == want, (method, path, code, schema)
        if (method.upper(), path) in IDENTITY_OPS:
            continue
        if (method.upper(), path) in MEDIA_OPS:
            # tus: every answer but OPTIONS names the protocol version; not generated (yet).
            assert op["tags"] == ["Media"] and "x-hues-service" not in op, (method, path)
            assert (op.get("security") == []) == (method == "options"), (method, path)
            for code in codes:
                node = spec.deref(f"/paths/{esc(path)}/{method}/responses/{code}")[0]
                want = method != "options" and code != "405" and (method != "head" or code == "200")
                assert ("Tus-Resumable" in node["headers"]) == want, (method, path, code)
            if method != "options":
                assert {"401", "412", "500"} <= codes, (method, path, codes)
            continue
        if (method.upper(), path) in OPEN311_OPS:
            # Open to anyone (POST checks the form's api_key: 403); both formats documented;
            # never generated into the SDK.
            assert op.get("security") == [] and "x-hues-service" not in op, (method, path)
            assert {"400", "404"} <= codes and ("403" in codes) == (method == "post"), (method, path, codes)
            ok = spec.deref(f"/paths/{esc(path)}/{method}/responses/{min(codes)}")[0]
            assert set(ok["content"]) == {"application/json", "text/xml"}, (method, path)
            continue
        public = op.get("security") == []
        assert public == (path == "/healthz"), f"{method} {path}: security {op.get('security')}"
        assert "429" in codes, (method, path, codes)
        assert ("401" in codes) != public, (method, path, codes)
        if path.startswith("/v1/"):
            assert "403" in codes or path in ("/v1/categories", "/v1/agencies"), (method, path, codes)
    post = spec.doc["paths"]["/v1/reports"]["post"]
    assert {"201", "400", "409", "413", "415"} <= set(post["responses"])
    assert {"Location", "Idempotent-Replayed"} <= set(post["responses"]["201"]["headers"])
    params = {spec.deref(p["$ref"][1:])[0]["name"] for p in post["parameters"]}
    assert "Idempotency-Key" in params
    listing = spec.doc["paths"]["/v1/reports"]["get"]
    names = {spec.deref(p["$ref"][1:])[0]["name"] for p in listing["parameters"]}
    assert names >= {"status", "category", "near_lat", "near_lon", "radius_m", "limit", "cursor"}
    limit = spec.doc["components"]["parameters"]["Limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 20)


def iter_examples(spec):
    """(schema pointer, example value, where) for every example in the spec."""
    def walk(node, ptr):
        if isinstance(node, dict):
            if "schema" in node and ("example" in node or "examples" in node):
                schema = f"{ptr}/schema"
                if "example" in node:
                    yield schema, node["example"], f"{ptr}/example"
                for name, ex in (node.get("examples") or {}).items():
                    ex_node, ex_ptr = spec.deref(f"{ptr}/examples/{esc(name)}")
                    yield schema, ex_node["value"], ex_ptr
            if ptr.startswith("/components/schemas/") and isinstance(node.get("examples"), list):
                for i, ex in enumerate(node["examples"]):
                    yield ptr, ex, f"{ptr}/examples/{i}"
            for k, v in node.items():
                if k not in ("example", "examples"):
                    yield from walk(v, f"{ptr}/{esc(str(k))}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, f"{ptr}/{i}")
    yield from walk(spec.doc, "")


def test_examples_fit_their_schemas(spec):
    examples = list(iter_examples(spec))
    assert len(examples) >= 15
    for schema_ptr, value, where in examples:
        try:
            spec.validate(value, schema_ptr)
        except ValidationError as e:
            pytest.fail(f"example {where} does not fit {schema_ptr}: {e.message}")


def test_text_is_nfc_and_vietnamese(spec):
    raw = (REPO / "docs/openapi.yaml").read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", raw)
    for word in ("Đông Ba", "Trần Hưng Đạo", "Phan Đình Phùng", "Huế"):
        assert word in raw, word
