"""GET /v1/events as Server-Sent Events, read with a third-party SSE client (httpx-sse):
events in commit order with ids and ReportEvent data, visibility per role, Last-Event-ID
resuming across many dropped connections while changes happen, caps and errors, and a
sandbox stopping with streams open."""

from __future__ import annotations

import random
import threading

import httpx
import pytest

import lifecycle
import oidc
import raw_http
from harness import Api, SandboxProcess

httpx_sse = pytest.importorskip("httpx_sse", reason="pip install httpx-sse (scripts/bootstrap.sh)")

READ_TIMEOUT_S = 20  # a heartbeat comes every 15 s: a stream silent this long is broken


@pytest.fixture(scope="module")
def own(sandbox_bin, tmp_path_factory, spec):
    """A sandbox of this module's own: its reports do not crowd the shared one's lists."""
    sb = SandboxProcess(sandbox_bin, str(tmp_path_factory.mktemp("events")))
    a = Api(spec, sb.url, api_key=sb.api_key)
    yield a, lifecycle.People(sb.url)
    a.close()
    sb.stop()


@pytest.fixture
def api(own):
    return own[0]


@pytest.fixture
def people(own):
    return own[1]


def client() -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(READ_TIMEOUT_S, connect=5))


def auth(api: Api, people, role: str | None) -> dict:
    return {"X-Api-Key": api.api_key} if role is None else people.headers(role)


class Stream:
    """One open event stream; events are read on demand (the server buffers the rest)."""

    def __init__(self, api: Api, headers: dict, params: dict | None = None):
        self.http = client()
        self.cm = httpx_sse.connect_sse(self.http, "GET", api.base + "/v1/events", headers=headers, params=params)
        self.source = self.cm.__enter__()
        r = self.source.response
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-store" and r.headers["x-request-id"]
        self.events = self.source.iter_sse()

    def next(self):
        while True:
            sse = next(self.events)
            if sse.data:  # the opening `retry:` carries no data
                return sse

    def until(self, report_id: str, status: str = "submitted") -> list:
        """Every event up to and including the one of report_id reaching status."""
        out = []
        while True:
            sse = self.next()
            out.append(sse)
            d = sse.json()
            if d["report_id"] == report_id and d["status"] == status:
                return out

    def close(self):
        self.cm.__exit__(None, None, None)
        self.http.close()


def marker(api: Api) -> str:
    """A public report every caller sees: reading up to its creation reads all before it."""
    body = {"category": "street_light", "description": "Đèn đường hỏng trên cầu Trường Tiền",
            "location": {"lat": 16.4680, "lon": 107.5880, "address": "Cầu Trường Tiền", "ward": "Phú Hội"}}
    return api.call("POST", "/v1/reports", json_body=body, expect=201).body["id"]


def check_event(spec, sse) -> dict:
    data = sse.json()
    spec.validate(data, spec.schema_ptr("ReportEvent"))
    assert not spec.key_diffs(data, spec.schema_ptr("ReportEvent"))
    assert sse.id == data["id"] and sse.event == data["type"]
    return data


def private_report(api, people, *, anonymous=False) -> dict:
    body = {"category": "urban_order", "description": "Lấn chiếm vỉa hè đường Phan Đình Phùng",
            "location": {"lat": 16.4610, "lon": 107.5920, "address": "Đường Phan Đình Phùng", "ward": "Vĩnh Ninh"},
            "anonymous": anonymous, "visibility": "private"}
    return api.call("POST", "/v1/reports", json_body=body, key=None, headers=people.headers("citizen"),
                    expect=201).body


def test_events_arrive_in_order_with_ids(api, spec, people):
    s = Stream(api, people.headers("ioc"))
    try:
        r = lifecycle.new_report(api, people)
        rid, etag = r["id"], '"1"'
        etag = lifecycle.step(api, people, "ioc", rid, "receive", {"note": "Đã tiếp nhận, chuyển phường Đông Ba"},
                              etag).headers["ETag"]
        lifecycle.step(api, people, "ioc", rid, "assign", {"agency_code": lifecycle.STAFF_AGENCY}, etag)
        end = marker(api)
        got = s.until(end)
    finally:
        s.close()
    datas = [check_event(spec, e) for e in got]
    ids = [d["id"] for d in datas]
    assert len(set(ids)) == len(ids)
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)  # commit order (the sandbox's ids are seqs)
    mine = [d for d in datas if d["report_id"] == rid]
    assert [(d["type"], d["status"], d["version"]) for d in mine] == [
        ("report.created", "submitted", 1), ("report.status_changed", "received", 2),
        ("report.status_changed", "assigned", 3)]
    assert mine[1]["note"] == "Đã tiếp nhận, chuyển phường Đông Ba" and mine[1]["actor_role"] == "ioc"
    assert mine[2]["agency_code"] == lifecycle.STAFF_AGENCY and "agency_code" not in mine[1]
    assert mine[0]["category"] == "urban_order" and mine[0]["actor"]  # the IOC sees the reporter
    # The timeline says the same, in the same order.
    timeline = api.call("GET", f"/v1/reports/{rid}/timeline", key=None, headers=people.headers("ioc"),
                        expect=200).body["items"]
    assert [(t["status"], t["at"], t["note"]) for t in timeline] == [(d["status"], d["at"], d["note"]) for d in mine]


def test_each_role_sees_what_it_may_read(api, spec, people):
    roles = [None, "citizen", "other_citizen", "ioc", "staff", "other_staff"]
    streams = {role: Stream(api, auth(api, people, role)) for role in roles}
    try:
        p = private_report(api, people, anonymous=True)
        rid, etag = p["id"], '"1"'
        for action, body in (("receive", {}), ("assign", {"agency_code": lifecycle.STAFF_AGENCY})):
            etag = lifecycle.step(api, people, "ioc", rid, action, body, etag).headers["ETag"]
        lifecycle.step(api, people, "staff", rid, "accept", {}, etag)
        pub = lifecycle.new_report(api, people, anonymous=True)  # public, anonymous
        end = marker(api)
        seen = {role: [check_event(spec, e) for e in s.until(end)] for role, s in streams.items()}
    finally:
        for s in streams.values():
            s.close()

    def statuses(role, report):
        return [d["status"] for d in seen[role] if d["report_id"] == report]

    everything = ["submitted", "received", "assigned", "in_progress"]
    assert statuses("citizen", rid) == everything  # the reporter
    assert statuses("ioc", rid) == everything
    assert statuses("staff", rid) == ["assigned", "in_progress"]  # from when it was with their agency
    for role in (None, "other_citizen", "other_staff"):
        assert statuses(role, rid) == [], role
    # Anonymous: the reporter's sub for the reporter and the IOC only.
    for role in roles:
        created = [d for d in seen[role] if d["report_id"] == pub["id"]]
        assert len(created) == 1, role
        assert (created[0]["actor"] != "") == (role in ("citizen", "ioc")), (role, created[0])
    # Every stream got the same events of public reports, in the same order.
    public = [d["id"] for d in seen["ioc"] if d["report_id"] != rid]
    for role in roles:
        assert [d["id"] for d in seen[role] if d["report_id"] != rid] == public, role


def test_last_event_id_resumes_without_loss_or_repeat(api, spec, people):
    """Transitions run on another thread while the reader drops its connection after a few
    events, again and again, resuming with Last-Event-ID; it ends with exactly the events an
    unbroken stream got, in the same order."""
    unbroken = Stream(api, people.headers("ioc"))
    first = Stream(api, people.headers("ioc"))
    errors: list[BaseException] = []
    made: list[str] = []

    def produce():
        try:
            for i in range(12):
                rid, _ = lifecycle.report_in(api, people, random.choice(["received", "assigned", "in_progress"]),
                                             description=f"Báo cáo số {i}: cống thoát nước bị tắc ở An Cựu")
                made.append(rid)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    producer = threading.Thread(target=produce)
    producer.start()
    got, drops, stream = [], 0, first
    end = None
    try:
        while True:
            for _ in range(random.randint(1, 3)):
                sse = stream.next()
                got.append(check_event(spec, sse))
                if end and got[-1]["report_id"] == end:
                    break
            if end and got[-1]["report_id"] == end:
                break
            stream.close()  # dropped mid-stream: what the server sent meanwhile is lost here
            drops += 1
            if not producer.is_alive() and end is None:
                producer.join()
                end = marker(api)
            stream = Stream(api, {**people.headers("ioc"), "Last-Event-ID": got[-1]["id"]},
                            params={"since": "0"})  # the header wins over since
        want = [check_event(spec, e)["id"] for e in unbroken.until(end)]
    finally:
        stream.close()
        unbroken.close()
        producer.join()
    assert not errors, errors
    assert drops >= 10
    ids = [d["id"] for d in got]
    assert ids == want, f"{len(ids)} events after {drops} drops, {len(want)} unbroken"
    for rid in made:  # each report: its whole timeline, once
        timeline = api.call("GET", f"/v1/reports/{rid}/timeline", key=None, headers=people.headers("ioc"),
                            expect=200).body["items"]
        assert [d["status"] for d in got if d["report_id"] == rid] == [t["status"] for t in timeline]


def test_since_replays_from_an_id(api, spec, people):
    s = Stream(api, people.headers("ioc"))
    try:
        rid, _ = lifecycle.report_in(api, people, "received")
        end = marker(api)
        live = [check_event(spec, e) for e in s.until(end)]
    finally:
        s.close()
    before = str(int(live[0]["id"]) - 1)
    for params, headers in (({"since": before}, {}), ({}, {"Last-Event-ID": before}),
                            ({"since": "999999999"}, {"Last-Event-ID": before})):
        again = Stream(api, {**people.headers("ioc"), **headers}, params=params)
        try:
            assert [check_event(spec, e)["id"] for e in again.until(end)] == [d["id"] for d in live]
        finally:
            again.close()
    # since=0: from the first event ever (the seed's timelines come first).
    s = Stream(api, people.headers("ioc"), params={"since": "0"})
    try:
        assert s.next().json()["type"] == "report.created"
    finally:
        s.close()


def test_errors_and_caps(api, people):
    api.call("GET", "/v1/events", key=None, expect=401)
    api.call("GET", "/v1/events", key="hk_wrong", expect=401)
    api.call("GET", "/v1/events", params={"since": "abc"}, expect=400).error("validation_error", "since")
    api.call("GET", "/v1/events", headers={"Last-Event-ID": "-1"}, expect=400).error("validation_error",
                                                                                      "Last-Event-ID")
    api.call("GET", "/v1/events", headers={"Last-Event-ID": "99999999999"}, expect=400)
    api.call("GET", "/v1/events", params={"types": "x"}, expect=400).error("validation_error", "types")
    r = api.call("POST", "/v1/events", json_body={}, expect=405)
    assert r.headers["Allow"] == "GET"
    # At most 8 streams per caller: the 9th is 429 with Retry-After; another caller still gets one.
    citizen = people.headers("other_citizen")
    streams = [Stream(api, citizen) for _ in range(8)]
    try:
        r = api.call("GET", "/v1/events", key=None, headers=citizen, expect=429)
        r.error("rate_limited")
        assert int(r.headers["Retry-After"]) >= 1
        Stream(api, people.headers("ioc2")).close()
        streams.pop().close()
        # The server notices the close when it reads the connection's end: wait for that.
        for _ in range(200):
            r = api.call("GET", "/v1/events", key=None, headers=citizen, stream=True)
            if r.status == 200:
                break
            threading.Event().wait(0.05)
        assert r.status == 200
    finally:
        for s in streams:
            s.close()


def test_a_sandbox_stops_with_streams_open(spec, start_sandbox):
    sb = start_sandbox()
    api = Api(spec, sb.url, api_key=sb.api_key)
    streams = [Stream(api, {"X-Api-Key": sb.api_key}, params={"since": "0"}) for _ in range(3)]
    try:
        streams[0].next()
        assert sb.stop() == 0  # SandboxProcess.stop fails if SIGTERM is ignored for 10 s
        for s in streams:  # each stream ends as a whole response does, not broken off
            with pytest.raises(StopIteration):
                while True:
                    s.next()
    finally:
        for s in streams:
            try:
                s.close()
            except httpx.HTTPError:
                pass
        api.close()


def test_stop_ends_each_stream_with_the_last_chunk(start_sandbox):
    """Seen on raw sockets (plain and TLS): at SIGTERM each stream gets the zero-length last
    chunk of its chunked body, then the connection closes (over TLS with close_notify: a
    clean EOF, not a truncation), and the process exits."""
    sb = start_sandbox()
    socks = []
    for base in (sb.url, sb.tls_url):
        s = raw_http.connect(base, timeout=READ_TIMEOUT_S, ca=sb.ca if base.startswith("https") else None)
        s.sendall(raw_http.request_head(base, "GET", "/v1/events?since=0", {"X-Api-Key": sb.api_key}))
        head, rest = raw_http.read_head(s)  # the stream is open
        assert head.startswith(b"HTTP/1.1 200 ") and b"Transfer-Encoding: chunked" in head
        socks.append((s, rest))
    assert sb.stop() == 0  # SandboxProcess.stop fails if SIGTERM is ignored for 10 s: no hang
    for s, rest in socks:
        with s:
            chunks = raw_http.chunks_to_the_end(s, rest)
            assert chunks[-1] == b"" and all(chunks[:-1]), chunks[-3:]
            assert b"".join(chunks).endswith(b"\n\n")  # whole events only


def test_a_revoked_token_stops_listening(api, people):
    """Credentials are checked again before each batch: a stream opened with a token that is
    then revoked ends instead of delivering the next change."""
    tokens = oidc.user_tokens(api.base, "le.ioc")
    s = Stream(api, lifecycle.bearer(tokens["access_token"]))
    try:
        first = marker(api)
        s.until(first)
        r = httpx.post(api.base + "/oauth/revoke", timeout=10, data={
            "client_id": "hues-demo-app", "token": tokens["access_token"]})
        assert r.status_code == 200
        marker(api)
        with pytest.raises((StopIteration, httpx.HTTPError)):
            s.next()
    finally:
        s.close()
    api.call("GET", "/v1/events", key=None, headers=lifecycle.bearer(tokens["access_token"]), expect=401)
