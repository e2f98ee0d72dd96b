"""Cross-cutting behaviour against the real sandbox: health, API keys, request ids, unknown
paths and methods, TLS, restart."""

import re
import socket
import ssl
import warnings

import httpx
import pytest
import requests

from harness import Api
from speccheck import Spec

SPEC = Spec()
OPS = SPEC.operations()
# The /v1 calls take the partner key (the identity endpoints authenticate their own ways).
# (tus discovery, OPTIONS /v1/uploads, is open to anyone.)
PROTECTED = [op for op in OPS if op[1].startswith("/v1/") and SPEC.operation(*op).get("security") != []]
RID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def test_healthz_needs_no_key(api):
    r = api.call("GET", "/healthz", key=None, expect=200)
    assert r.body["status"] == "ok"
    api.call("GET", "/healthz", key="hk_test_wrong", expect=200)


@pytest.mark.parametrize("op", PROTECTED, ids=lambda op: f"{op[0]} {op[1]}")
def test_missing_and_invalid_key(api, sample_calls, op):
    call = {k: v for k, v in sample_calls[op].items() if k not in ("key", "headers")}
    if op[1].startswith("/v1/uploads"):  # tus: Tus-Resumable is checked first (412 without it)
        call["headers"] = {"Tus-Resumable": "1.0.0", **{k: v for k, v in sample_calls[op]["headers"].items()
                                                        if k != "Authorization"}}
    def error(r, code):  # a HEAD answer has no body to name the code
        return r.status if op[0] == "HEAD" else r.error(code)
    error(api.call(op[0], key=None, expect=401, **call), "missing_api_key")
    error(api.call(op[0], key="hk_test_hue_s_sandbox_0002", expect=401, **call), "invalid_api_key")
    # One character short: a prefix comparison would wrongly accept it.
    error(api.call(op[0], key=api.api_key[:-1], expect=401, **call), "invalid_api_key")


def test_request_id_echoed_when_sane(api):
    for path, expect in (("/v1/categories", 200), ("/v1/reports/rpt_khong_co", 404)):
        r = api.call("GET", path, headers={"X-Request-Id": "taxi-app.0f3c_9A"}, expect=expect)
        assert r.headers["X-Request-Id"] == "taxi-app.0f3c_9A"
    r = api.call("GET", "/v1/reports/rpt_khong_co", headers={"X-Request-Id": "a" * 128}, expect=404)
    assert r.body["error"]["request_id"] == "a" * 128


@pytest.mark.parametrize("bad", ["a" * 129, "có dấu", "a b", "a/b", "x;y"], ids=repr)
def test_request_id_replaced_when_not_sane(api, bad):
    r = api.call("GET", "/v1/categories",
                 headers={"X-Request-Id": bad.encode("utf-8")}, expect=200)
    rid = r.headers["X-Request-Id"]
    assert rid != bad and RID.match(rid), rid


def test_generated_request_ids_are_unique(api):
    ids = {api.call("GET", "/healthz", expect=200).headers["X-Request-Id"] for _ in range(20)}
    assert len(ids) == 20


@pytest.mark.parametrize("path", ["/v1/khong-ton-tai", "/v2/reports", "/v1/reports/a/b",
                                  "/v1/categories/extra", "/"])
def test_unknown_path_is_404(api, path):
    api.call("GET", path, expect=404).error("not_found")


def test_unknown_report_is_404(api):
    for rid in ("rpt_khong_ton_tai", "%C4%90%C3%B4ng%20Ba", "0", "rpt_" + "x" * 300):
        err = api.call("GET", f"/v1/reports/{rid}", expect=404).error("not_found")
        assert "field" not in err


@pytest.mark.parametrize("path", list(SPEC.doc["paths"]))
def test_methods_outside_the_spec_are_405(api, path):
    """The sandbox serves exactly the spec's methods on each path (so the two stay in step)."""
    declared = {m.upper() for m in SPEC.doc["paths"][path] if m in ("get", "post", "put",
                                                                   "patch", "delete")}
    concrete = path.replace("{id}", "rpt_bat_ky").replace("{format}", "json")
    concrete = re.sub(r"\{[^}]+\}", "bat_ky", concrete)
    for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - declared:
        body = {"json_body": {}} if method in ("POST", "PUT", "PATCH") else {}
        r = api.call(method, concrete, expect=405, **body)
        if path.startswith("/open311/"):  # GeoReport's error shape
            assert r.body == [{"code": 405, "description": r.body[0]["description"]}], r.body
        else:
            r.error("method_not_allowed")
        allowed = {m.strip().upper() for m in r.headers["Allow"].split(",")}
        assert allowed - {"HEAD", "OPTIONS"} == declared, (path, r.headers["Allow"])


# -- TLS -----------------------------------------------------------------------------------

def test_tls_with_the_printed_ca(spec, sandbox):
    api = Api(spec, sandbox.tls_url, verify=sandbox.ca, api_key=sandbox.api_key)
    try:
        api.call("GET", "/healthz", key=None, expect=200)
        body = {"category": api.call("GET", "/v1/categories", expect=200).body["items"][0]["code"],
                "description": "Cây đổ chắn ngang đường Bà Triệu sau bão",
                "location": {"lat": 16.4610, "lon": 107.6010, "address": "Đường Bà Triệu",
                             "ward": "Xuân Phú"}}
        created = api.call("POST", "/v1/reports", json_body=body, expect=201).body
        got = api.call("GET", f"/v1/reports/{created['id']}", expect=200).body
        assert got["description"] == body["description"]
    finally:
        api.close()


def test_tls_with_httpx_and_an_ssl_context(spec, sandbox):
    ctx = ssl.create_default_context(cafile=sandbox.ca)
    api = Api(spec, sandbox.tls_url, backend="httpx", verify=ctx, api_key=sandbox.api_key)
    try:
        assert api.call("GET", "/v1/categories", expect=200).body["items"]
    finally:
        api.close()


def test_tls_fails_without_the_ca(sandbox):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(sandbox.tls_url + "/healthz", timeout=(5, 10))
    with pytest.raises(httpx.ConnectError):
        httpx.get(sandbox.tls_url + "/healthz", timeout=10)


def _tls_connect(sandbox, ctx):
    port = int(sandbox.tls_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            return tls.version(), tls.getpeercert()


def test_tls_certificate_and_version(sandbox):
    version, cert = _tls_connect(sandbox, ssl.create_default_context(cafile=sandbox.ca))
    assert version in ("TLSv1.2", "TLSv1.3")
    names = [v for k, v in cert["subjectAltName"] if k == "DNS"]
    assert "localhost" in names
    # The host name is checked too: the certificate is for localhost, not example.org.
    ctx = ssl.create_default_context(cafile=sandbox.ca)
    port = int(sandbox.tls_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            ctx.wrap_socket(raw, server_hostname="example.org")


def test_tls_1_1_is_refused(sandbox):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(sandbox.ca)
    try:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client offer TLS 1.1 at all
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ValueError, ssl.SSLError) as e:
        pytest.skip(f"this OpenSSL cannot offer TLS 1.1: {e}")
    with pytest.raises(ssl.SSLError) as info:
        _tls_connect(sandbox, ctx)
    if "NO_PROTOCOLS_AVAILABLE" in str(info.value) or "no protocols available" in str(info.value):
        pytest.skip("this OpenSSL cannot offer TLS 1.1, so the server's refusal is untested")
    # The server itself refused: it answered with a protocol_version alert.
    assert "PROTOCOL_VERSION" in str(info.value).upper(), info.value


# -- process -------------------------------------------------------------------------------

@pytest.mark.timeout(90)
def test_restart_keeps_reports_and_ca(spec, start_sandbox):
    first = start_sandbox()
    api = Api(spec, first.url, api_key=first.api_key)
    cat = api.call("GET", "/v1/categories", expect=200).body["items"][0]["code"]
    body = {"category": cat, "description": "Ổ gà lớn trên cầu Phú Xuân, nguy hiểm cho xe máy",
            "location": {"lat": 16.4640, "lon": 107.5830, "address": "Cầu Phú Xuân",
                         "ward": "Phú Hội"}}
    created = api.call("POST", "/v1/reports", json_body=body, expect=201).body
    api.close()
    ca_before = open(first.ca, "rb").read()
    assert first.stop() in (0, -15), "hues-sandbox should exit cleanly on SIGTERM"

    second = start_sandbox(first.data_dir)  # same data directory, new ports
    api = Api(spec, second.url, api_key=second.api_key)
    try:
        again = api.call("GET", f"/v1/reports/{created['id']}", expect=200).body
        created.pop("possible_duplicates")  # only the create response has the duplicate hints
        assert again == created
    finally:
        api.close()
    assert open(second.ca, "rb").read() == ca_before, "the development CA must be reused"
