"""Starts the standalone hues-sandbox binary and gives tests a client that checks every
response against docs/openapi.yaml. Run: python3 -m pytest tests/contract"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import requests
from urllib.parse import urlencode

import lifecycle
import media_files
import oidc

from harness import MISSING_MSG, SANDBOX_BIN, Api, SandboxProcess
from speccheck import Spec

TEST_TIMEOUT_S = 60  # per test, unless a test sets its own pytest.mark.timeout


def pytest_report_header(config):
    return f"hues-sandbox: {SANDBOX_BIN or 'NOT FOUND'}"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT_S))


def pytest_terminal_summary(terminalreporter):
    if SANDBOX_BIN is None:
        bar = "!" * 88
        terminalreporter.write_line(f"{bar}\n!! {MISSING_MSG}\n{bar}", red=True, bold=True)


@pytest.fixture(scope="session")
def spec() -> Spec:
    return Spec()


@pytest.fixture(scope="session")
def sandbox_bin() -> Path:
    if SANDBOX_BIN is None:
        print(f"\n\n*** {MISSING_MSG} ***\n", file=sys.stderr)
        pytest.skip(MISSING_MSG)
    if not (SANDBOX_BIN.is_file() and os.access(SANDBOX_BIN, os.X_OK)):
        pytest.fail(f"HUES_SANDBOX_BIN={SANDBOX_BIN} is not an executable file")
    return SANDBOX_BIN


@pytest.fixture
def start_sandbox(sandbox_bin, tmp_path_factory):
    """Factory for private sandboxes (fresh data directory unless one is given)."""
    started: list[SandboxProcess] = []

    def start(data_dir: str | None = None, args: tuple[str, ...] = ()) -> SandboxProcess:
        d = data_dir or str(tmp_path_factory.mktemp("sandbox"))
        sb = SandboxProcess(sandbox_bin, d, args)
        started.append(sb)
        return sb

    yield start
    for sb in started:
        sb.stop()


@pytest.fixture(scope="session")
def sandbox(sandbox_bin):
    d = tempfile.mkdtemp(prefix="hues-contract-")
    sb = SandboxProcess(sandbox_bin, d)
    yield sb
    sb.stop()
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def api(spec, sandbox):
    a = Api(spec, sandbox.url, api_key=sandbox.api_key)
    yield a
    a.close()


@pytest.fixture(scope="session")
def categories(api) -> list[dict]:
    items = api.call("GET", "/v1/categories", expect=200).body["items"]
    assert items, "the sandbox seeds no categories"
    return items


@pytest.fixture
def new_report(categories):
    """Builds a valid NewReport body (Vietnamese text at Đông Ba market by default)."""
    def make(**over) -> dict:
        body = {
            "category": categories[0]["code"],
            "description": "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo",
            "location": {"lat": 16.4726, "lon": 107.5885,
                         "address": "Chợ Đông Ba, đường Trần Hưng Đạo", "ward": "Đông Ba"},
            "anonymous": False,
            "media": [],
        }
        body.update(over)
        return body
    return make


class FreshCall(dict):
    """A sample call that changes what it calls (a transition): fresh() prepares it again."""

    def __init__(self, make):
        super().__init__(make())
        self.make = make

    def fresh(self) -> dict:
        return self.make()


@pytest.fixture(scope="session")
def people(api) -> lifecycle.People:
    return lifecycle.People(api.base)


@pytest.fixture(scope="session")
def sample_calls(api, categories, people):
    """For each operation in the spec, the arguments of one call that should succeed."""
    body = {"category": categories[0]["code"],
            "description": "Rác thải chưa được thu gom trên đường Lê Lợi, gần cầu Trường Tiền",
            "location": {"lat": 16.4665, "lon": 107.5905, "address": "Đường Lê Lợi",
                         "ward": "Vĩnh Ninh"}, "anonymous": True, "media": []}
    rid = api.call("POST", "/v1/reports", json_body=body, expect=201).body["id"]
    mine = lifecycle.report_in(api, people, "submitted")[0]
    # Attachments are media objects of the caller's: a citizen's photo, a staff member's record.
    photo = media_files.upload(api, media_files.jpeg(), key=None, headers=people.headers("citizen"))
    record = media_files.upload(api, media_files.pdf(), "document", key=None, headers=people.headers("staff"))
    form = "application/x-www-form-urlencoded"
    user = oidc.user_tokens(api.base)
    bearer = {"Authorization": "Bearer " + user["access_token"]}
    admin = {"X-Admin-Key": "hadm_test_sandbox_0001"}
    # A sign-in form and its cookie; a wrong password answers 200 and keeps the form alive.
    browser = requests.Session()
    page = browser.get(api.base + "/oauth/authorize", params={
        "response_type": "code", "client_id": "hues-demo-app", "scope": "openid",
        "redirect_uri": "http://127.0.0.1:50999/callback", "code_challenge": oidc.pkce_pair()[1],
        "code_challenge_method": "S256"}, timeout=oidc.TIMEOUT)
    fields = oidc.hidden_inputs(page.text)
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items())}
    wrong = urlencode({**fields, "username": "nguyen.van.an", "password": "sai", "decision": "approve"}).encode()
    device_page = browser.get(api.base + "/device", timeout=oidc.TIMEOUT)
    device_fields = oidc.hidden_inputs(device_page.text)
    device_cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items())}
    device_wrong = urlencode({**device_fields, "user_code": "BCDF-GHJK", "username": "x", "password": "y",
                              "decision": "approve"}).encode()
    rotated = api.call("POST", "/admin/keys/rotate", json_body={"alg": "ES256"}, key=None, headers=admin,
                       expect=200).body["kid"]
    cc = urlencode({"grant_type": "client_credentials", "client_id": "hues-taxi-backend",
                    "client_secret": "taxi-secret-2025"}).encode()
    return {
        ("GET", "/v1/me"): dict(path="/v1/me", key=None, headers=bearer),
        ("GET", "/.well-known/openid-configuration"): dict(path="/.well-known/openid-configuration", key=None),
        ("GET", "/oauth/jwks"): dict(path="/oauth/jwks", key=None),
        ("GET", "/oauth/authorize"): dict(path="/oauth/authorize", key=None, params={
            "response_type": "code", "client_id": "hues-demo-app", "scope": "openid",
            "redirect_uri": "http://127.0.0.1:50999/callback", "code_challenge": oidc.pkce_pair()[1],
            "code_challenge_method": "S256"}),
        ("POST", "/oauth/authorize"): dict(path="/oauth/authorize", key=None, raw=wrong, content_type=form,
                                           headers=cookie),
        ("POST", "/oauth/token"): dict(path="/oauth/token", key=None, raw=cc, content_type=form),
        ("POST", "/oauth/device_authorization"): dict(path="/oauth/device_authorization", key=None,
                                                      raw=b"client_id=hues-cli&scope=openid", content_type=form),
        ("POST", "/oauth/revoke"): dict(path="/oauth/revoke", key=None, content_type=form,
                                        raw=b"client_id=hues-demo-app&token=hat_unknown"),
        ("GET", "/oauth/userinfo"): dict(path="/oauth/userinfo", key=None, headers=bearer),
        ("POST", "/oauth/userinfo"): dict(path="/oauth/userinfo", key=None, headers=bearer),
        ("GET", "/device"): dict(path="/device", key=None, params={"user_code": "BCDF-GHJK"}),
        ("POST", "/device"): dict(path="/device", key=None, raw=device_wrong, content_type=form,
                                  headers=device_cookie),
        ("POST", "/admin/keys/rotate"): dict(path="/admin/keys/rotate", key=None, headers=admin,
                                             json_body={"alg": "RS256"}),
        ("POST", "/admin/keys/retire"): dict(path="/admin/keys/retire", key=None, headers=admin,
                                             json_body={"kid": rotated, "grace_seconds": 3600}),
        ("GET", "/healthz"): dict(path="/healthz"),
        ("GET", "/v1/categories"): dict(path="/v1/categories"),
        ("POST", "/v1/reports"): dict(path="/v1/reports", json_body=body),
        ("GET", "/v1/reports"): dict(path="/v1/reports", params={"limit": 5}),
        ("GET", "/v1/reports/duplicates"): dict(path="/v1/reports/duplicates", params={
            "category": body["category"], "lat": body["location"]["lat"], "lon": body["location"]["lon"]}),
        ("GET", "/v1/reports/{id}"): dict(path=f"/v1/reports/{rid}"),
        ("GET", "/v1/reports/{id}/timeline"): dict(path=f"/v1/reports/{rid}/timeline"),
        ("GET", "/v1/agencies"): dict(path="/v1/agencies", params={"limit": 5}),
        ("GET", "/v1/reports/{id}/comments"): dict(path=f"/v1/reports/{mine}/comments", key=None,
                                                   headers=people.headers("citizen")),
        ("POST", "/v1/reports/{id}/comments"): dict(path=f"/v1/reports/{mine}/comments", key=None,
                                                    headers=people.headers("citizen"),
                                                    json_body={"text": "Xin cập nhật tiến độ", "attachments": [photo]}),
        ("GET", "/v1/agencies/{code}/inbox"): dict(path=f"/v1/agencies/{lifecycle.STAFF_AGENCY}/inbox", key=None,
                                                   params={"limit": 5}, headers=people.headers("staff")),
        **{("POST", "/v1/reports/{id}/" + action): FreshCall(transition(api, people, state, role, action, body))
           for action, state, role, body in (
               ("receive", "submitted", "ioc", {"note": "Đã tiếp nhận"}),
               ("assign", "received", "ioc", {"agency_code": lifecycle.STAFF_AGENCY}),
               ("reject", "received", "ioc", {"reason": "Không đủ thông tin"}),
               ("duplicate", "received", "ioc", {"original_id": rid}),
               ("accept", "assigned", "staff", {}),
               ("respond", "in_progress", "staff", {"answer": "Đã xử lý", "attachments": [record]}),
               ("transfer-request", "in_progress", "staff", {"reason": "Không thuộc thẩm quyền"}),
               ("transfer-approval", "transfer_requested", "ioc", {"agency_code": "CA_HUE"}),
               ("approve", "responded", "ioc", {}),
               ("return", "responded", "ioc", {"reason": "Thiếu biên bản vi phạm hành chính"}),
               ("rating", "resolved", "citizen", {"satisfied": True, "comment": "Cảm ơn"}),
               ("transfer-decline", "transfer_requested", "ioc", {"reason": "Thuộc thẩm quyền của phường"}))},
        ("GET", "/v1/statistics/reports"): dict(path="/v1/statistics/reports", key=None, headers=people.headers("ioc"),
                                                params=lifecycle.last_days(60)),
        **open311_calls(api, categories, rid),
        **media_calls(api),
        **webhook_calls(api),
        **events_calls(),
    }


def media_calls(api) -> dict:
    """The tus upload server's operations (tests/contract/test_uploads.py tests them)."""
    tus = {"Tus-Resumable": "1.0.0"}
    create = {**tus, "Upload-Length": "3", "Upload-Metadata": "type ZG9jdW1lbnQ=,filename YS50eHQ="}

    def fresh_upload() -> str:
        loc = api.call("POST", "/v1/uploads", headers=create, expect=201).headers["Location"]
        return loc[loc.index("/v1/uploads/"):]

    kept = fresh_upload()
    octet = "application/offset+octet-stream"
    medium = media_files.upload(api, media_files.jpeg())
    return {
        ("GET", "/v1/media/{media_id}"): dict(path=f"/v1/media/{medium}"),
        ("GET", "/v1/media/{media_id}/content"): dict(path=f"/v1/media/{medium}/content"),
        ("OPTIONS", "/v1/uploads"): dict(path="/v1/uploads", key=None),
        ("POST", "/v1/uploads"): dict(path="/v1/uploads", headers=create),
        ("HEAD", "/v1/uploads/{upload_id}"): dict(path=kept, headers=tus),
        ("PATCH", "/v1/uploads/{upload_id}"): FreshCall(lambda: dict(
            path=fresh_upload(), raw=b"abc", content_type=octet, headers={**tus, "Upload-Offset": "0"})),
        ("DELETE", "/v1/uploads/{upload_id}"): FreshCall(lambda: dict(path=fresh_upload(), headers=tus)),
    }


def open311_calls(api, categories, rid) -> dict:
    """The Open311 GeoReport v2 facade's operations (tests/contract/test_open311.py tests them)."""
    code = categories[0]["code"]
    form = urlencode({"api_key": api.api_key, "service_code": code, "lat": 16.4726, "long": 107.5885,
                      "description": "Đèn đường hỏng trước chợ Đông Ba",
                      **{f"attribute[{a['code']}]": (a["values"][0]["key"] if a["values"] else "1")
                         for a in categories[0]["attributes"] if a["required"]}}).encode()
    made = api.call("POST", "/open311/v2/requests.json", key=None, raw=form,
                    content_type="application/x-www-form-urlencoded", headers={"Prefer": "respond-async"},
                    expect=201).body[0]
    v2 = "/open311/v2"
    return {
        ("GET", v2 + "/services.{format}"): dict(path=v2 + "/services.json", key=None),
        ("GET", v2 + "/services/{service_code}.{format}"): dict(path=f"{v2}/services/{code}.json", key=None),
        ("GET", v2 + "/requests.{format}"): dict(path=v2 + "/requests.json", key=None, params={"service_code": code}),
        ("POST", v2 + "/requests.{format}"): dict(path=v2 + "/requests.json", key=None, raw=form,
                                                  content_type="application/x-www-form-urlencoded"),
        ("GET", v2 + "/requests/{service_request_id}.{format}"): dict(path=f"{v2}/requests/{rid}.json", key=None),
        ("GET", v2 + "/tokens/{token}.{format}"): dict(path=f"{v2}/tokens/{made['token']}.json", key=None),
    }


def transition(api, people, state, role, action, body):
    def make() -> dict:
        rid, etag = lifecycle.report_in(api, people, state)
        return dict(path=f"/v1/reports/{rid}/{action}", key=None, json_body=body,
                    headers=people.headers(role, None if action == "rating" else etag))
    return make


def webhook_calls(api) -> dict:
    """The webhook endpoints' operations (tests/contract/test_webhooks.py tests them). The
    URL has no listener: the one delivery's attempts fail and are logged, which replay needs."""
    import time
    ep = api.call("POST", "/v1/webhooks", json_body={"url": "http://127.0.0.1:9/none",
                                                     "event_types": ["report.status_changed"]}, expect=201).body
    api.call("POST", "/v1/reports", expect=201, json_body={
        "category": "urban_order", "description": "Biển báo giao thông bị che khuất ở đường Lê Duẩn",
        "location": {"lat": 16.4700, "lon": 107.5800, "address": "Đường Lê Duẩn", "ward": "Phú Thuận"},
        "anonymous": False, "media": []})
    deadline = time.monotonic() + 20
    log = []
    while not log and time.monotonic() < deadline:
        log = api.call("GET", f"/v1/webhooks/{ep['id']}/deliveries", expect=200).body["items"]
        time.sleep(0.02)
    assert log, "the sandbox logged no delivery attempt"

    def fresh_endpoint() -> str:
        return api.call("POST", "/v1/webhooks", json_body={"url": "https://127.0.0.1:9/x",
                                                           "event_types": ["report.commented"]}, expect=201).body["id"]

    base = f"/v1/webhooks/{ep['id']}"
    return {
        ("GET", "/v1/webhooks"): dict(path="/v1/webhooks", params={"limit": 5}),
        ("POST", "/v1/webhooks"): dict(path="/v1/webhooks", json_body={
            "url": "https://127.0.0.1:9/hooks", "event_types": ["report.commented"], "description": "Mẫu"}),
        ("GET", "/v1/webhooks/{endpoint_id}"): dict(path=base),
        ("PATCH", "/v1/webhooks/{endpoint_id}"): dict(path=base, json_body={"description": "Đối tác taxi"}),
        ("DELETE", "/v1/webhooks/{endpoint_id}"): FreshCall(lambda: dict(path="/v1/webhooks/" + fresh_endpoint())),
        ("POST", "/v1/webhooks/{endpoint_id}/rotate-secret"): dict(path=base + "/rotate-secret"),
        ("GET", "/v1/webhooks/{endpoint_id}/deliveries"): dict(path=base + "/deliveries", params={"limit": 5}),
        ("POST", "/v1/webhooks/{endpoint_id}/replay"): dict(path=base + "/replay",
                                                             json_body={"delivery_id": log[-1]["id"]}),
    }


def events_calls() -> dict:
    """GET /v1/events (tests/contract/test_events.py reads the events); only its header here."""
    return {("GET", "/v1/events"): dict(path="/v1/events", params={"since": "0"}, stream=True)}
