"""The Open311 GeoReport v2 facade (/open311/v2/) over plain HTTP: every method in XML and
JSON, the element names and roots of the GeoReport v2 text, its filters, errors and status
codes, and that a request posted here is a real report, seen the same way through /v1."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

import lifecycle
from speccheck import REPO

V2 = "/open311/v2"
FORM = "application/x-www-form-urlencoded"
DONG_BA = (16.4726, 107.5885)
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
ATTRIBUTE_FIELDS = ["variable", "code", "datatype", "required", "datatype_description", "order", "description", "values"]
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "lat", "long", "media_url"]
HUE = timezone(timedelta(hours=7))
CLOSED = {"resolved", "rated", "rejected", "duplicate"}


def get(api, path, expect=200, **params):
    return api.call("GET", V2 + path, key=None, params=params or None, expect=expect)


def xml_of(res) -> ET.Element:
    assert res.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert res.resp.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(res.resp.content)


def json_of(res):
    assert res.headers["Content-Type"] == "application/json; charset=utf-8"
    return res.body


def post(api, fields: dict, fmt="json", expect=201, headers=None, query=""):
    return api.call("POST", f"{V2}/requests.{fmt}{query}", key=None, raw=urlencode(fields, doseq=True).encode(),
                    content_type=FORM, headers=headers, expect=expect)


def w3c(s: str) -> datetime:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", s), s
    return datetime.fromisoformat(s)


def rfc3339(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def errors_json(res, status: int, *words: str) -> str:
    assert res.status == status
    body = json_of(res)
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}, body
    assert body[0]["code"] == status
    for w in words:
        assert w in body[0]["description"], body
    return body[0]["description"]


def errors_xml(res, status: int, *words: str) -> str:
    assert res.status == status
    root = xml_of(res)
    assert root.tag == "errors" and [e.tag for e in root] == ["error"]
    assert [c.tag for c in root[0]] == ["code", "description"]
    assert root[0].findtext("code") == str(status)
    for w in words:
        assert w in root[0].findtext("description")
    return root[0].findtext("description")


@pytest.fixture(scope="module")
def street_light(api):
    return next(c for c in api.call("GET", "/v1/categories", expect=200).body["items"] if c["code"] == "street_light")


def light_form(api, **over) -> dict:
    f = {"api_key": api.api_key, "service_code": "street_light", "lat": DONG_BA[0], "long": DONG_BA[1],
         "address_string": "Chợ Đông Ba, đường Trần Hưng Đạo",
         "description": "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo",
         "attribute[light_state]": "flickering", "attribute[pole_number]": "TĐ-12/3"}
    f.update(over)
    return {k: v for k, v in f.items() if v is not None}


def count_requests(api, code: str) -> int:
    return len(get(api, "/requests.json", service_code=code).body)


# ---- services ---------------------------------------------------------------------------
def test_service_list_in_both_formats_is_our_categories(api, categories):
    services = json_of(get(api, "/services.json"))
    assert [s["service_code"] for s in services] == [c["code"] for c in categories]
    for s, c in zip(services, categories):
        assert list(s) == SERVICE_FIELDS
        assert (s["service_name"], s["description"], s["group"]) == (c["name_vi"], c["description"], c["group"])
        assert s["metadata"] is bool(c["attributes"]) and s["type"] == "realtime"
        assert c["name_en"] in s["keywords"]
    root = xml_of(get(api, "/services.xml"))
    assert root.tag == "services" and {e.tag for e in root} == {"service"}
    assert [[f.tag for f in e] for e in root] == [SERVICE_FIELDS] * len(categories)
    assert [e.findtext("service_name") for e in root] == [c["name_vi"] for c in categories]  # UTF-8 intact
    assert [e.findtext("metadata") for e in root] == [str(bool(c["attributes"])).lower() for c in categories]


def test_service_definition_in_both_formats(api, categories):
    for c in categories:
        d = json_of(get(api, f"/services/{c['code']}.json"))
        assert list(d) == ["service_code", "attributes"] and d["service_code"] == c["code"]
        assert len(d["attributes"]) == len(c["attributes"])
        for a, want in zip(d["attributes"], c["attributes"]):
            assert list(a) == ATTRIBUTE_FIELDS and a["variable"] is True
            assert (a["code"], a["datatype"], a["required"], a["order"], a["description"]) == (
                want["code"], want["datatype"], want["required"], want["order"], want["description"])
            assert a["values"] == [{"key": v["key"], "name": v["name"]} for v in want["values"]]
            assert a["datatype_description"]
        root = xml_of(get(api, f"/services/{c['code']}.xml"))
        assert root.tag == "service_definition" and [e.tag for e in root] == ["service_code", "attributes"]
        attrs = root.find("attributes")
        assert [e.tag for e in attrs] == ["attribute"] * len(c["attributes"])
        for e, want in zip(attrs, c["attributes"]):
            assert [f.tag for f in e] == ATTRIBUTE_FIELDS
            assert e.findtext("required") == str(want["required"]).lower()
            assert [(v.findtext("key"), v.findtext("name")) for v in e.find("values")] == [
                (v["key"], v["name"]) for v in want["values"]]
            assert all(v.tag == "value" for v in e.find("values"))


def test_unknown_service_and_format_are_404(api):
    errors_json(get(api, "/services/ngap_lut.json", expect=404), 404, "ngap_lut")
    errors_xml(get(api, "/services/ngap_lut.xml", expect=404), 404, "ngap_lut")
    errors_xml(get(api, "/services.csv", expect=404), 404, "format")
    api.call("GET", "/open311/v3/services.xml", key=None, expect=404).error("not_found")  # not GeoReport v2


def test_jurisdiction_id(api):
    assert get(api, "/services.json", jurisdiction_id="hue.gov.vn").body == get(api, "/services.json").body
    assert get(api, "/services.json", jurisdiction_id="").body == get(api, "/services.json").body  # empty = absent
    for path in ("/services.json", "/services/street_light.json", "/requests.json", "/tokens/tok_x.json"):
        errors_json(get(api, path, expect=404, jurisdiction_id="sfgov.org"), 404, "sfgov.org")
    errors_xml(get(api, "/requests.xml", expect=404, jurisdiction_id="danang.gov.vn"), 404, "danang.gov.vn")
    before = count_requests(api, "street_light")
    errors_json(post(api, light_form(api, jurisdiction_id="sfgov.org"), expect=404), 404, "jurisdiction_id")
    assert count_requests(api, "street_light") == before
    post(api, light_form(api, jurisdiction_id="hue.gov.vn"))


# ---- POST and GET one -----------------------------------------------------------------------
def test_post_creates_a_real_report_seen_through_v1_and_open311(api, street_light):
    description = "Đèn đường hỏng, chập chờn cả đêm trước chợ Đông Ba\r\nCột số TĐ-12/3 <gần> cổng & bến xe"
    res = post(api, light_form(api, description=description, media_url="https://anh.example.vn/den-hong.jpg",
                               email="an@example.vn", first_name="An", last_name="Nguyễn Văn", phone="0905000001"))
    created = json_of(res)
    assert len(created) == 1 and list(created[0]) == ["service_request_id", "service_notice", "account_id"]
    rid = created[0]["service_request_id"]
    assert created[0]["account_id"] is None and street_light["agency_name"] in created[0]["service_notice"]
    assert res.headers["Location"] == f"{V2}/requests/{rid}.json"

    report = api.call("GET", f"/v1/reports/{rid}", expect=200).body
    assert report["description"].encode() == description.encode()  # byte for byte, CR LF kept
    assert (report["category"], report["status"], report["visibility"]) == ("street_light", "submitted", "public")
    assert (report["location"]["lat"], report["location"]["lon"]) == DONG_BA
    assert report["location"]["address"] == "Chợ Đông Ba, đường Trần Hưng Đạo"
    assert report["agency_code"] == street_light["agency_code"]
    timeline = api.call("GET", f"/v1/reports/{rid}/timeline", expect=200).body["items"]
    assert [e["status"] for e in timeline] == ["submitted"]

    [req] = json_of(get(api, f"/requests/{rid}.json"))
    assert list(req) == REQUEST_FIELDS
    assert (req["service_request_id"], req["status"], req["service_code"]) == (rid, "open", "street_light")
    assert req["description"] == description and req["service_name"] == street_light["name_vi"]
    assert req["agency_responsible"] == street_light["agency_name"]
    assert req["media_url"] == "https://anh.example.vn/den-hong.jpg"
    assert (req["lat"], req["long"]) == DONG_BA
    assert w3c(req["requested_datetime"]) == rfc3339(report["created_at"])
    assert w3c(req["updated_datetime"]) == rfc3339(report["updated_at"])
    assert w3c(req["expected_datetime"]) == rfc3339(report["due_at"])
    assert w3c(req["expected_datetime"]) - w3c(req["requested_datetime"]) == timedelta(hours=street_light["sla_hours"])
    text = get(api, f"/requests/{rid}.json").resp.text
    assert "an@example.vn" not in text and "0905000001" not in text  # the submitter's contact is not published

    root = xml_of(get(api, f"/requests/{rid}.xml"))
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"]
    assert [f.tag for f in root[0]] == REQUEST_FIELDS
    assert root[0].findtext("description") == description  # escaped, and the CR survives XML
    assert root[0].findtext("status") == "open" and float(root[0].findtext("lat")) == DONG_BA[0]


def test_post_answers_in_xml(api):
    res = post(api, light_form(api), fmt="xml")
    root = xml_of(res)
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"]
    assert [f.tag for f in root[0]] == ["service_request_id", "service_notice", "account_id"]
    rid = root[0].findtext("service_request_id")
    assert res.headers["Location"] == f"{V2}/requests/{rid}.xml"
    api.call("GET", f"/v1/reports/{rid}", expect=200)


def test_post_with_attribute_lists_and_datetimes(api):
    form = [("api_key", api.api_key), ("service_code", "traffic_violation"), ("lat", "16.4421"),
            ("long", "107.6015"), ("description", "Xe khách dừng đón trả khách sai quy định trước Bến xe phía Nam"),
            ("attribute[violation][]", "illegal_parking"), ("attribute[violation][]", "wrong_way"),
            ("attribute[occurred_at]", "2026-11-28T07:45:00+07:00"), ("attribute[plate_number]", "75A-123.45")]
    res = api.call("POST", f"{V2}/requests.json", key=None, raw=urlencode(form).encode(), content_type=FORM,
                   expect=201)
    api.call("GET", f"/v1/reports/{res.body[0]['service_request_id']}", expect=200)


def test_address_string_alone_locates_a_known_place(api):
    res = post(api, light_form(api, lat=None, long=None, address_string="Cổng chính chợ Đông Ba, Huế"))
    report = api.call("GET", f"/v1/reports/{res.body[0]['service_request_id']}", expect=200).body
    assert (report["location"]["lat"], report["location"]["lon"]) == DONG_BA
    assert report["location"]["address"] == "Cổng chính chợ Đông Ba, Huế"
    res = post(api, light_form(api, lat=None, long=None, address_string="gan lang tu duc"))  # no diacritics
    report = api.call("GET", f"/v1/reports/{res.body[0]['service_request_id']}", expect=200).body
    assert (report["location"]["lat"], report["location"]["lon"]) == (16.4326, 107.5658)


@pytest.mark.parametrize("over,status,words", [
    ({"api_key": None}, 403, ["api_key"]),
    ({"api_key": "hk_sai"}, 403, ["api_key"]),
    ({"service_code": None}, 400, ["service_code"]),
    ({"service_code": "ngap_lut"}, 404, ["ngap_lut"]),
    ({"lat": None, "long": None, "address_string": None}, 400, ["location"]),
    ({"long": None}, 400, ["long"]),
    ({"lat": "mười sáu"}, 400, ["lat"]),
    ({"lat": 96.5}, 400, ["lat", "90"]),
    ({"long": 190}, 400, ["long"]),
    ({"lat": None, "long": None, "address_string": "Một nơi nào đó"}, 400, ["address_string"]),
    ({"lat": None, "long": None, "address_string": None, "address_id": "545483"}, 400, ["address_id"]),
    ({"description": None}, 400, ["description"]),
    ({"description": "đ" * 5001}, 400, ["description"]),
    ({"attribute[light_state]": None}, 400, ["attribute[light_state]", "required"]),
    ({"attribute[light_state]": "burning"}, 400, ["attribute[light_state]", "off"]),
    ({"attribute[pole_number]": "TĐ-12\nTĐ-13"}, 400, ["attribute[pole_number]"]),
    ({"attribute[mau_den]": "vàng"}, 400, ["attribute[mau_den]"]),
    ({"media_url": "javascript:alert(1)"}, 400, ["media_url"]),
])
def test_bad_posts_are_errors_that_create_nothing(api, over, status, words):
    before = count_requests(api, "street_light")
    errors_json(post(api, light_form(api, **over), expect=status), status, *words)
    errors_xml(post(api, light_form(api, **over), fmt="xml", expect=status), status, *words)
    assert count_requests(api, "street_light") == before


def test_bad_attribute_datatypes(api):
    flooding = {"api_key": api.api_key, "service_code": "flooding", "lat": 16.4720, "long": 107.5990,
                "description": "Nước ngập ở Đập Đá"}
    errors_json(post(api, {**flooding, "attribute[water_depth_cm]": "sâu"}, expect=400), 400, "water_depth_cm")
    errors_json(post(api, {**flooding, "attribute[water_depth_cm]": "40", "attribute[observed_at]": "hôm qua"},
                     expect=400), 400, "observed_at")
    post(api, {**flooding, "attribute[water_depth_cm]": "40.5", "attribute[observed_at]": "2026-11-28T06:00:00Z"})


def test_post_needs_a_form_body(api):
    res = api.call("POST", f"{V2}/requests.json", key=None, json_body={"service_code": "street_light"}, expect=400)
    errors_json(res, 400, "application/x-www-form-urlencoded")


def test_method_not_allowed(api):
    res = api.call("DELETE", f"{V2}/requests.json", key=None, expect=405)
    errors_json(res, 405)
    assert res.headers["Allow"] == "GET, HEAD, POST"
    assert api.call("POST", f"{V2}/services.xml", key=None, raw=b"", content_type=FORM, expect=405).headers[
        "Allow"] == "GET, HEAD"


def test_unknown_request_is_404(api):
    errors_json(get(api, "/requests/rpt_khong_ton_tai.json", expect=404), 404, "rpt_khong_ton_tai")
    errors_xml(get(api, "/requests/rpt_khong_ton_tai.xml", expect=404), 404, "rpt_khong_ton_tai")


# ---- tokens -----------------------------------------------------------------------------------
def test_token_flow_with_prefer_respond_async(api):
    res = post(api, light_form(api), headers={"Prefer": "respond-async"})
    assert res.headers["Preference-Applied"] == "respond-async"
    assert list(res.body[0]) == ["token", "service_notice", "account_id"]
    token = res.body[0]["token"]
    [t] = json_of(get(api, f"/tokens/{token}.json"))
    assert t["token"] == token
    root = xml_of(get(api, f"/tokens/{token}.xml"))
    assert root.tag == "service_requests" and [f.tag for f in root[0]] == ["service_request_id", "token"]
    assert root[0].findtext("service_request_id") == t["service_request_id"]
    assert api.call("GET", f"/v1/reports/{t['service_request_id']}", expect=200).body["status"] == "submitted"
    errors_json(get(api, "/tokens/tok_khong_co.json", expect=404), 404, "tok_khong_co")
    errors_xml(get(api, "/tokens/tok_khong_co.xml", expect=404), 404)


# ---- GET requests: filters --------------------------------------------------------------------
def test_list_defaults_newest_first_within_90_days(api):
    reqs = json_of(get(api, "/requests.json"))
    assert reqs and all(list(r) == REQUEST_FIELDS for r in reqs)
    times = [w3c(r["requested_datetime"]) for r in reqs]
    assert times == sorted(times, reverse=True)
    assert min(times) >= datetime.now(timezone.utc) - timedelta(days=90, minutes=5)
    assert len(reqs) <= 1000
    root = xml_of(get(api, "/requests.xml"))
    assert root.tag == "service_requests" and [r.findtext("service_request_id") for r in root] == [
        r["service_request_id"] for r in reqs]


def test_status_and_service_code_filters(api, people):
    v1 = {r["id"]: r for r in api.call("GET", "/v1/reports", params={"limit": 100}, expect=200).body["items"]}
    closed = json_of(get(api, "/requests.json", status="closed"))
    opened = json_of(get(api, "/requests.json", status="open"))
    both = json_of(get(api, "/requests.json", status="open,closed"))
    assert closed and opened
    assert {r["status"] for r in closed} == {"closed"} and {r["status"] for r in opened} == {"open"}
    assert {r["service_request_id"] for r in both} == {r["service_request_id"] for r in closed + opened}
    for r in closed + opened:
        if r["service_request_id"] in v1:
            assert (v1[r["service_request_id"]]["status"] in CLOSED) == (r["status"] == "closed")
    flooding = json_of(get(api, "/requests.json", service_code="flooding"))
    assert flooding and {r["service_code"] for r in flooding} == {"flooding"}
    two = json_of(get(api, "/requests.json", service_code="flooding,noise"))
    assert {r["service_code"] for r in two} == {"flooding", "noise"}
    errors_json(get(api, "/requests.json", expect=400, status="pending"), 400, "pending")
    errors_json(get(api, "/requests.json", expect=404, service_code="ngap_lut"), 404, "ngap_lut")


def test_service_request_id_list_overrides_other_filters(api):
    a = post(api, light_form(api)).body[0]["service_request_id"]
    b = post(api, light_form(api)).body[0]["service_request_id"]
    got = json_of(get(api, "/requests.json", service_request_id=f"{a},{b},rpt_khong_ton_tai",
                      status="closed", service_code="noise", end_date="2020-01-01T00:00:00Z"))
    assert {r["service_request_id"] for r in got} == {a, b}
    root = xml_of(get(api, "/requests.xml", service_request_id=f"{a}, {b}"))
    assert {r.findtext("service_request_id") for r in root} == {a, b}


def test_date_window(api):
    rid = post(api, light_form(api)).body[0]["service_request_id"]
    created = w3c(get(api, f"/requests/{rid}.json").body[0]["requested_datetime"])

    def ids(**params):
        return {r["service_request_id"] for r in get(api, "/requests.json", service_code="street_light", **params).body}

    def fmt(t: datetime, tz=timezone.utc) -> str:
        return t.astimezone(tz).isoformat()

    assert rid in ids(start_date=fmt(created), end_date=fmt(created))
    assert rid in ids(start_date=fmt(created, HUE), end_date=fmt(created, timezone(timedelta(hours=-8))))
    assert rid in ids(start_date=fmt(created - timedelta(minutes=1)).replace("+00:00", "Z"))
    assert rid not in ids(start_date=fmt(created + timedelta(seconds=1)))
    assert rid not in ids(end_date=fmt(created - timedelta(seconds=1), HUE))
    assert rid in ids(end_date=fmt(created + timedelta(days=1)))  # 90 days back from end_date
    assert rid not in ids(start_date=fmt(created - timedelta(days=120)))  # 90 days on from start_date
    assert rid in ids(start_date=created.astimezone(HUE).date().isoformat())  # a bare date: midnight in Huế
    assert rid in ids(start_date=fmt(created, HUE).replace("+", " "))  # an unencoded '+' arrives as a space
    for bad in ("hôm qua", "2026-11-28T10:00:00", "2026-02-30T00:00:00Z", "2026-11-28 10:00", "1764300000"):
        errors_json(get(api, "/requests.json", expect=400, start_date=bad), 400, "start_date")
    errors_xml(get(api, "/requests.xml", expect=400, end_date="28/11/2026"), 400, "end_date")
    errors_json(get(api, "/requests.json", expect=400, start_date="2026-01-01T00:00:00Z",
                    end_date="2026-06-01T00:00:00Z"), 400, "90 days")
    errors_json(get(api, "/requests.json", expect=400, start_date="2026-06-01T00:00:00Z",
                    end_date="2026-05-01T00:00:00Z"), 400, "start_date")


# ---- who sees what ----------------------------------------------------------------------------
def test_private_reports_never_leak_and_anonymous_ones_name_nobody(api, people):
    body = {"category": "street_light", "description": "Đèn hỏng trong hẻm nhà tôi (riêng tư)",
            "location": {"lat": DONG_BA[0], "lon": DONG_BA[1]}, "visibility": "private"}
    private = api.call("POST", "/v1/reports", json_body=body, key=None, headers=people.headers("citizen"),
                       expect=201).body["id"]
    errors_json(get(api, f"/requests/{private}.json", expect=404), 404)
    assert get(api, "/requests.json", service_request_id=private).body == []
    assert private not in get(api, "/requests.json", service_code="street_light").resp.text
    mine = api.call("POST", "/v1/reports", json_body=dict(body, visibility="public", anonymous=True), key=None,
                    headers=people.headers("citizen"), expect=201).body
    sub = api.call("GET", f"/v1/reports/{mine['id']}", key=None, headers=people.headers("citizen"),
                   expect=200).body["reporter"]
    for fmt in ("json", "xml"):
        text = get(api, f"/requests/{mine['id']}.{fmt}").resp.text
        assert mine["id"] in text and sub not in text and "reporter" not in text


def test_status_notes_and_agency_follow_the_life_of_a_report(api, people):
    rid, etag = lifecycle.report_in(api, people, "submitted")
    lifecycle.step(api, people, "ioc", rid, "receive", {"note": "IOC đã tiếp nhận, chuyển phường Đông Ba"}, etag)
    [r] = get(api, f"/requests/{rid}.json").body
    assert (r["status"], r["status_notes"]) == ("open", "IOC đã tiếp nhận, chuyển phường Đông Ba")
    rid, _ = lifecycle.report_in(api, people, "resolved")
    [r] = get(api, f"/requests/{rid}.json").body
    assert (r["status"], r["status_notes"]) == ("closed", "Đã xử lý xong.")
    assert r["agency_responsible"] == "Ủy ban nhân dân phường Đông Ba"
    assert w3c(r["updated_datetime"]) >= w3c(r["requested_datetime"])
    root = xml_of(get(api, f"/requests/{rid}.xml"))
    assert root[0].findtext("agency_responsible") == "Ủy ban nhân dân phường Đông Ba"
    rid, _ = lifecycle.report_in(api, people, "rejected")
    [r] = get(api, f"/requests/{rid}.json").body
    assert (r["status"], r["status_notes"]) == ("closed", "Không đủ thông tin")
    rid, _ = lifecycle.report_in(api, people, "returned")
    [r] = get(api, f"/requests/{rid}.json").body
    assert (r["status"], r["status_notes"]) == ("open", "Thiếu biên bản")


# ---- the facade stays out of the SDK; a third-party Open311 client works --------------------------
def test_open311_operations_are_not_generated_into_the_sdk(tmp_path):
    import os
    env = dict(os.environ, PYTHONPATH=str(REPO / "codegen"))
    subprocess.run([sys.executable, "-m", "hues_codegen", "--spec", str(REPO / "docs/openapi.yaml"),
                    "--target", "python", "--out", str(tmp_path)], check=True, env=env)
    generated = "\n".join(p.read_text(encoding="utf-8") for p in tmp_path.rglob("*.py"))
    assert "open311_" not in generated.lower() and "Open311Request" not in generated


def test_the_georeport_client_library_reads_the_facade(api, sandbox):
    georeport = pytest.importorskip("georeport", reason="the third-party Open311 client (pip install georeport)")
    rid = post(api, light_form(api)).body[0]["service_request_id"]
    for fmt in ("json", "xml"):
        client = georeport.GeoReport(sandbox.url + V2, jurisdiction="hue.gov.vn", output_format=fmt)
        services = client.get_service_list()
        assert "street_light" in [s["service_code"] for s in services]
        definition = client.get_service_definition("street_light")
        assert definition["service_code"] == "street_light"
        one = client.get_service_request(rid)
        assert one["service_request_id"] == rid and one["description"].startswith("Đèn đường hỏng")
        listed = client.get_service_requests(service_code="street_light", status="open")
        listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one element is not a list
        assert rid in [r["service_request_id"] for r in listed]
