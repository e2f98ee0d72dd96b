"""The spec on its own: valid OpenAPI 3.1, examples that fit their schemas, the same models
as sdk/include/hues/models.h and the shape docs/api-contract.md promises."""

import re
import unicodedata

import pytest
from jsonschema.exceptions import ValidationError
from openapi_spec_validator import validate as validate_spec

from speccheck import METHODS, REPO, esc

MODELS_H = REPO / "sdk/include/hues/models.h"
CONTRACT_MD = REPO / "docs/api-contract.md"
CPP_SCALARS = {"std::string": "string", "double": "number", "std::int64_t": "integer",
               "bool": "boolean"}


def test_spec_is_valid_openapi_3_1(spec):
    assert spec.doc["openapi"] == "3.1.0"
    validate_spec(spec.doc)


def parse_models_h() -> dict[str, list[tuple[str, str]]]:
    """{model: [(c++ type, json name), ...]} from the X-macro field lists, in order."""
    text = MODELS_H.read_text(encoding="utf-8")
    lists = {}
    for m in re.finditer(r"#define (HUES_\w+_FIELDS)\(F\)((?:.*\\\n)*.*)", text):
        body = m.group(2).replace("\\\n", " ")  # an F(...) may wrap over lines
        lists[m.group(1)] = re.findall(r'F\(\s*([^,]+(?:<[^>]*>)?),\s*\w+,\s*"(\w+)"\s*\)', body)
    each = re.search(r"#define HUES_FOR_EACH_MODEL\(M\)((?:.*\\\n)*.*)", text).group(1)
    models = {name: lists[fields] for name, fields in re.findall(r"M\((\w+),\s*(\w+)\)", each)}
    assert len(models) >= 9 and all(models.values()), models
    return models


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
    return CPP_SCALARS.get(t, t)


@pytest.mark.parametrize("model", list(parse_models_h()))
def test_schema_matches_models_h(spec, model):
    fields = parse_models_h()[model]
    ptr = spec.schema_ptr(model)
    props = list(spec.node(ptr)["properties"])
    assert props == [j for _, j in fields], f"{model}: spec {props} vs models.h {fields}"
    for ctype, name in fields:
        got = kind(spec, f"{ptr}/properties/{esc(name)}")
        assert got == cpp_kind(ctype), f"{model}.{name}: spec {got}, models.h {ctype}"


def test_required_lists(spec):
    s = spec.doc["components"]["schemas"]
    for name in ("AttributeValue", "CategoryAttribute", "Category", "Report", "ReportPage"):
        assert set(s[name]["required"]) == set(s[name]["properties"]), name
    assert set(s["NewReport"]["required"]) == {"category", "description", "location"}
    assert set(s["Location"]["required"]) == {"lat", "lon"}
    assert set(s["ErrorBody"]["required"]) == {"code", "message", "request_id"}
    assert s["CategoryAttribute"]["properties"]["datatype"]["enum"] == [
        "string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    statuses = re.search(r"// status: (.*?)\. Times", MODELS_H.read_text(), re.S).group(1)
    assert s["ReportStatus"]["enum"] == re.findall(r"\w+", statuses)


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
OAUTH_JSON = {"/oauth/token", "/oauth/device_authorization", "/oauth/revoke", "/oauth/userinfo"}


def test_operations_shape(spec):
    ops = {(m.upper(), p) for p, m, _ in iter_operations(spec)}
    assert ops == {("GET", "/healthz"), ("GET", "/v1/categories"), ("POST", "/v1/reports"),
                   ("GET", "/v1/reports"), ("GET", "/v1/reports/{id}"), ("GET", "/v1/me")} | IDENTITY_OPS
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
            want = ("/components/schemas/OAuthErrorBody" if path in OAUTH_JSON and code != "405"
                    else "/components/schemas/Error")
            assert schema == want, (method, path, code, schema)
        if (method.upper(), path) in IDENTITY_OPS:
            continue
        public = op.get("security") == []
        assert public == (path == "/healthz"), f"{method} {path}: security {op.get('security')}"
        assert "429" in codes, (method, path, codes)
        assert ("401" in codes) != public, (method, path, codes)
        if path.startswith("/v1/"):
            assert "403" in codes or path == "/v1/categories", (method, path, codes)
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
