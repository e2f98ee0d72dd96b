"""Standard Webhooks from the sandbox (docs/openapi.yaml, tag events): endpoints, signed
deliveries checked by the third-party `standardwebhooks` package, retries with backoff, the
delivery log, replay, secret rotation with its grace, disabled endpoints and visibility.
Receivers are HTTP servers started here on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import queue
import threading
import time
from urllib.parse import urlencode

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

import lifecycle
from harness import Api

WAIT_S = 20  # a condition the worker should reach long before this


class Receiver:
    """Records every POST (headers with lower-case names, raw body) and answers with the
    next queued status (200 once the queue is empty)."""

    def __init__(self):
        self.got: queue.Queue[tuple[dict, bytes]] = queue.Queue()
        self.statuses: list[int] = []
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = rec.statuses.pop(0) if rec.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                rec.got.put(({k.lower(): v for k, v in self.headers.items()}, body))

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/hues?x=1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next(self, timeout: float = WAIT_S) -> tuple[dict, bytes]:
        return self.got.get(timeout=timeout)

    def nothing_within(self, seconds: float) -> bool:
        try:
            self.got.get(timeout=seconds)
            return False
        except queue.Empty:
            return True

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def hooks(spec, start_sandbox):
    """A private sandbox with fast retries, a short rotation grace and 3 attempts."""
    sb = start_sandbox(args=("--webhook-retry-base-ms", "20", "--webhook-max-attempts", "3",
                             "--webhook-secret-grace-seconds", "2", "--webhook-timeout-ms", "3000"))
    api = Api(spec, sb.url, api_key=sb.api_key)
    yield api
    api.close()


def partner_token(api) -> dict:
    """A client-credentials token of the seeded taxi backend (a partner)."""
    r = api.call("POST", "/oauth/token", key=None, content_type="application/x-www-form-urlencoded",
                 raw=urlencode({"grant_type": "client_credentials", "client_id": "hues-taxi-backend",
                                "client_secret": "taxi-secret-2025"}).encode(), expect=200)
    return {"Authorization": "Bearer " + r.body["access_token"]}


def register(api, url: str, types=("report.status_changed",), **kw) -> dict:
    return api.call("POST", "/v1/webhooks", json_body={"url": url, "event_types": list(types), **kw},
                    expect=201).body


def move(api, people, rid: str, etag: str, role: str, action: str, body: dict) -> str:
    return lifecycle.step(api, people, role, rid, action, body, etag).headers["ETag"]


def new_public_report(api, people) -> tuple[str, str]:
    r = lifecycle.new_report(api, people)
    return r["id"], '"%d"' % r["version"]


def verify_with_library(secret: str, headers: dict, body: bytes) -> dict:
    return Webhook(secret).verify(body, headers)


def test_registration_shows_the_secret_once_and_refuses_bad_input(hooks, receiver):
    made = register(hooks, receiver.url, ("report.status_changed", "report.commented"),
                    description="Taxi Huế: trạng thái phản ánh")
    assert made["secret"].startswith("whsec_")
    key = base64.b64decode(made["secret"][6:], validate=True)
    assert 24 <= len(key) <= 64
    assert made["description"] == "Taxi Huế: trạng thái phản ánh" and made["enabled"] is True
    got = hooks.call("GET", f"/v1/webhooks/{made['id']}", expect=200)
    assert "secret" not in got.body and made["secret"] not in got.resp.text
    listed = hooks.call("GET", "/v1/webhooks", params={"limit": 100}, expect=200)
    assert made["id"] in [e["id"] for e in listed.body["items"]] and made["secret"] not in listed.resp.text

    before = hooks.call("GET", "/v1/webhooks", params={"limit": 100}, expect=200).body["items"]
    hooks.call("POST", "/v1/webhooks", json_body={"url": receiver.url, "event_types": ["report.deleted"]},
               expect=400).error("validation_error", "event_types[0]")
    hooks.call("POST", "/v1/webhooks", json_body={"url": "http://partner.example/hook",
                                                  "event_types": ["report.commented"]},
               expect=400).error("validation_error", "url")
    hooks.call("POST", "/v1/webhooks", json_body={"url": "ftp://127.0.0.1/x", "event_types": ["report.commented"]},
               expect=400).error("validation_error", "url")
    hooks.call("POST", "/v1/webhooks", json_body={"url": receiver.url, "event_types": []},
               expect=400).error("validation_error", "event_types")
    hooks.call("PATCH", f"/v1/webhooks/{made['id']}", json_body={"event_types": ["nope"]},
               expect=400).error("validation_error", "event_types[0]")
    assert hooks.call("GET", "/v1/webhooks", params={"limit": 100}, expect=200).body["items"] == before


def test_people_may_not_register_and_partners_see_only_their_own(hooks, receiver):
    people = lifecycle.People(hooks.base)
    for role in ("citizen", "ioc", "staff"):
        hooks.call("POST", "/v1/webhooks", key=None, headers=people.headers(role),
                   json_body={"url": receiver.url, "event_types": ["report.commented"]},
                   expect=403).error("role_not_allowed")
    mine = register(hooks, receiver.url)
    taxi = partner_token(hooks)
    hooks.call("GET", f"/v1/webhooks/{mine['id']}", key=None, headers=taxi, expect=404).error("not_found")
    hooks.call("DELETE", f"/v1/webhooks/{mine['id']}", key=None, headers=taxi, expect=404)
    theirs = hooks.call("POST", "/v1/webhooks", key=None, headers=taxi,
                        json_body={"url": receiver.url, "event_types": ["report.commented"]}, expect=201).body
    assert theirs["id"] not in [e["id"] for e in hooks.call("GET", "/v1/webhooks", expect=200).body["items"]]


def test_list_pages_with_a_cursor(hooks, receiver):
    ids = [register(hooks, receiver.url)["id"] for _ in range(3)]
    seen, cursor = [], ""
    while True:
        page = hooks.call("GET", "/v1/webhooks", params={"limit": 2, **({"cursor": cursor} if cursor else {})},
                          expect=200).body
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids
    hooks.call("GET", "/v1/webhooks", params={"cursor": "zz"}, expect=400).error("validation_error", "cursor")


def test_a_status_change_arrives_signed_and_the_library_verifies_it(hooks, receiver):
    people = lifecycle.People(hooks.base)
    ep = register(hooks, receiver.url)
    rid, etag = new_public_report(hooks, people)
    headers, body = receiver.next()  # "submitted"
    event = verify_with_library(ep["secret"], headers, body)
    assert event == json.loads(body)
    assert event["type"] == "report.status_changed" and event["data"] == {
        "report_id": rid, "status": "submitted", "actor_role": "citizen"}
    assert headers["content-type"] == "application/json"
    assert headers["webhook-signature"].startswith("v1,") and " " not in headers["webhook-signature"]
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 300
    move(hooks, people, rid, etag, "ioc", "receive", {"note": "Đã tiếp nhận"})
    headers2, body2 = receiver.next()
    assert verify_with_library(ep["secret"], headers2, body2)["data"]["status"] == "received"
    assert headers2["webhook-id"] != headers["webhook-id"]
    # The signature covers the exact bytes: one byte changed, and the library refuses it.
    with pytest.raises(WebhookVerificationError):
        verify_with_library(ep["secret"], headers2, body2.replace(b"received", b"rejected"))
    other = "whsec_" + base64.b64encode(b"k" * 32).decode()
    with pytest.raises(WebhookVerificationError):
        verify_with_library(other, headers2, body2)


def test_comments_go_to_endpoints_that_subscribed_to_them(hooks, receiver):
    people = lifecycle.People(hooks.base)
    ep = register(hooks, receiver.url, ("report.commented",))
    rid, _ = lifecycle.report_in(hooks, people, "assigned")
    c = hooks.call("POST", f"/v1/reports/{rid}/comments", key=None, headers=people.headers("citizen"),
                   json_body={"text": "Xin cập nhật tiến độ"}, expect=201).body
    headers, body = receiver.next()  # no status change came before it: only comments subscribed
    event = verify_with_library(ep["secret"], headers, body)
    assert event["type"] == "report.commented"
    assert event["data"] == {"report_id": rid, "actor_role": "citizen", "comment_id": c["id"]}


def test_retries_with_backoff_and_the_log_records_each_attempt(hooks, receiver):
    people = lifecycle.People(hooks.base)
    ep = register(hooks, receiver.url)
    receiver.statuses = [500, 503]
    rid, _ = new_public_report(hooks, people)
    attempts = [receiver.next() for _ in range(3)]
    ids = {h["webhook-id"] for h, _ in attempts}
    assert len(ids) == 1, "every attempt of one message has the same webhook-id"
    for h, b in attempts:  # each attempt is signed afresh, with its own timestamp
        verify_with_library(ep["secret"], h, b)
    log = wait_for(lambda: (lambda d: d if len(d) >= 3 and d[0]["message_state"] == "delivered" else None)(
        hooks.call("GET", f"/v1/webhooks/{ep['id']}/deliveries", expect=200).body["items"]))
    assert [d["attempt"] for d in log] == [3, 2, 1]  # newest first
    assert [d["status_code"] for d in log] == [200, 503, 500]
    assert all(d["message_id"] == ids.pop() for d in log[:1]) and len({d["message_id"] for d in log}) == 1
    assert log[0]["next_attempt_at"] == "" and log[1]["next_attempt_at"] and log[2]["next_attempt_at"]
    assert all(d["error"] == "" and d["latency_ms"] >= 0 and d["event_type"] == "report.status_changed" for d in log)
    # The backoff grows: the second retry was scheduled further out than the first.
    assert log[1]["next_attempt_at"] >= log[2]["next_attempt_at"]
    page = hooks.call("GET", f"/v1/webhooks/{ep['id']}/deliveries", params={"limit": 1}, expect=200).body
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = hooks.call("GET", f"/v1/webhooks/{ep['id']}/deliveries",
                      params={"limit": 10, "cursor": page["next_cursor"]}, expect=200).body["items"]
    assert [d["id"] for d in rest][:2] == [d["id"] for d in log[1:3]]


def test_gives_up_after_the_last_attempt_then_replay_sends_the_same_message(hooks, receiver):
    people = lifecycle.People(hooks.base)
    ep = register(hooks, receiver.url)
    receiver.statuses = [500, 500, 500]
    new_public_report(hooks, people)
    first = [receiver.next() for _ in range(3)]
    log = wait_for(lambda: (lambda d: d if len(d) == 3 and d[0]["message_state"] == "failed" else None)(
        hooks.call("GET", f"/v1/webhooks/{ep['id']}/deliveries", expect=200).body["items"]))
    assert log[0]["next_attempt_at"] == ""
    assert receiver.nothing_within(0.5), "no fourth attempt after max-attempts 3"
    # Replay by message id: the same webhook-id and body, a new round.
    msg = first[0][0]["webhook-id"]
    r = hooks.call("POST", f"/v1/webhooks/{ep['id']}/replay", json_body={"message_id": msg}, expect=202).body
    assert r["id"] == msg and r["state"] == "pending"
    h, b = receiver.next()
    assert h["webhook-id"] == msg and b == first[0][1]
    verify_with_library(ep["secret"], h, b)
    # ... and by one attempt's id.
    hooks.call("POST", f"/v1/webhooks/{ep['id']}/replay", json_body={"delivery_id": log[2]["id"]}, expect=202)
    h2, b2 = receiver.next()
    assert h2["webhook-id"] == msg and b2 == first[0][1]
    hooks.call("POST", f"/v1/webhooks/{ep['id']}/replay", json_body={}, expect=400).error("validation_error")
    hooks.call("POST", f"/v1/webhooks/{ep['id']}/replay", json_body={"message_id": "msg_none"}, expect=404)


def test_rotation_sends_both_signatures_then_only_the_new_one(hooks, receiver):
    people = lifecycle.People(hooks.base)
    ep = register(hooks, receiver.url)
    rid, etag = new_public_report(hooks, people)
    receiver.next()
    rot = hooks.call("POST", f"/v1/webhooks/{ep['id']}/rotate-secret", expect=200).body
    assert rot["secret"] != ep["secret"] and rot["secret"].startswith("whsec_")
    assert rot["secret"] not in hooks.call("GET", f"/v1/webhooks/{ep['id']}", expect=200).resp.text
    etag = move(hooks, people, rid, etag, "ioc", "receive", {})
    h, b = receiver.next()
    sigs = h["webhook-signature"].split(" ")
    assert len(sigs) == 2 and all(s.startswith("v1,") for s in sigs)
    verify_with_library(rot["secret"], h, b)
    verify_with_library(ep["secret"], h, b)
    signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + b
    for secret, sig in ((rot["secret"], sigs[0]), (ep["secret"], sigs[1])):
        mac = hmac.new(base64.b64decode(secret[6:]), signed, hashlib.sha256).digest()
        assert sig == "v1," + base64.b64encode(mac).decode()
    # The grace (2 s here) ends: the old secret signs no more.
    until = rot["previous_expires_at"]
    wait_for(lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) > until or None, timeout=10)
    move(hooks, people, rid, etag, "ioc", "assign", {"agency_code": lifecycle.STAFF_AGENCY})
    h, b = receiver.next()
    assert " " not in h["webhook-signature"]
    verify_with_library(rot["secret"], h, b)
    with pytest.raises(WebhookVerificationError):
        verify_with_library(ep["secret"], h, b)


def test_a_disabled_endpoint_gets_nothing(hooks, receiver):
    people = lifecycle.People(hooks.base)
    off = Receiver()
    try:
        ep = register(hooks, off.url)
        on = register(hooks, receiver.url)
        upd = hooks.call("PATCH", f"/v1/webhooks/{ep['id']}", json_body={"enabled": False}, expect=200).body
        assert upd["enabled"] is False and upd["url"] == off.url
        rid, _ = new_public_report(hooks, people)
        h, b = receiver.next()  # the enabled endpoint got it, so the event was processed
        assert json.loads(b)["data"]["report_id"] == rid
        verify_with_library(on["secret"], h, b)
        assert off.nothing_within(0.5)
        assert hooks.call("GET", f"/v1/webhooks/{ep['id']}/deliveries", expect=200).body["items"] == []
        gone = hooks.call("DELETE", f"/v1/webhooks/{on['id']}", expect=200).body
        assert gone["id"] == on["id"]
        hooks.call("GET", f"/v1/webhooks/{on['id']}", expect=404)
    finally:
        off.close()


def test_partners_hear_only_of_reports_they_may_see(hooks, receiver):
    people = lifecycle.People(hooks.base)
    ep = register(hooks, receiver.url)
    private = hooks.call("POST", "/v1/reports", key=None, headers=people.headers("citizen"), json_body={
        "category": "urban_order", "description": "Phản ánh riêng tư về tiếng ồn ở kiệt 12 Chi Lăng",
        "location": {"lat": 16.4726, "lon": 107.5885, "address": "Kiệt 12 Chi Lăng", "ward": "Phú Hậu"},
        "anonymous": False, "visibility": "private"}, expect=201).body
    public, _ = new_public_report(hooks, people)
    h, b = receiver.next()
    assert json.loads(b)["data"]["report_id"] == public, "the private report's event came first or at all"
    assert receiver.nothing_within(0.5)
    log = hooks.call("GET", f"/v1/webhooks/{ep['id']}/deliveries", expect=200).body["items"]
    assert private["id"] not in json.dumps(log)


def wait_for(probe, timeout: float = WAIT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = probe()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")
