"""Categories and reports against the real sandbox: round trips, Vietnamese text,
Idempotency-Key, validation, listing filters and cursor pagination."""

import json
import unicodedata
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
import requests

from harness import Api
from speccheck import check_response, haversine_m

DONG_BA = (16.4726, 107.5885)      # Đông Ba market
DAI_NOI = (16.4698, 107.5786)      # Đại Nội, the Imperial City (~1.1 km from Đông Ba)
TU_DUC = (16.4326, 107.5658)       # Tự Đức tomb (~5 km)
BEN_XE_NAM = (16.4421, 107.6015)   # southern bus station


def create(api, body, **kw):
    return api.call("POST", "/v1/reports", json_body=body, expect=201, **kw)


def walk(api, params, limit):
    """All pages of a listing; returns the pages (lists of reports)."""
    pages, cursor = [], None
    for _ in range(1000):
        p = dict(params, limit=limit, **({"cursor": cursor} if cursor else {}))
        page = api.call("GET", "/v1/reports", params=p, expect=200).body
        assert len(page["items"]) <= limit
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return pages
        assert page["items"], "an empty page must be the last one"
    pytest.fail("pagination did not end")


# -- categories ------------------------------------------------------------------------------

def test_categories(categories):
    codes = [c["code"] for c in categories]
    assert len(codes) == len(set(codes)), "category codes must be unique"
    for c in categories:
        assert c["name_vi"] and c["agency_code"] and c["sla_hours"] > 0, c
        assert unicodedata.is_normalized("NFC", c["name_vi"]), c["name_vi"]
        orders = [a["order"] for a in c["attributes"]]
        assert orders == sorted(orders), f"{c['code']}: attributes not in order"
        for a in c["attributes"]:
            is_list = a["datatype"] in ("singlevaluelist", "multivaluelist")
            assert bool(a["values"]) == is_list, f"{c['code']}.{a['code']}: values vs datatype"
    assert any(not c["name_vi"].isascii() for c in categories), "Vietnamese names expected"
    assert any(a["values"] for c in categories for a in c["attributes"]), \
        "seed at least one list attribute so AttributeValue is exercised"


def test_categories_with_httpx(spec, sandbox, categories):
    api = Api(spec, sandbox.url, backend="httpx", api_key=sandbox.api_key)
    try:
        assert api.call("GET", "/v1/categories", expect=200).body["items"] == categories
    finally:
        api.close()


# -- create and read -------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["requests", "httpx"])
def test_create_and_get_round_trip(spec, sandbox, categories, new_report, backend):
    api = Api(spec, sandbox.url, backend=backend, api_key=sandbox.api_key)
    try:
        cat = categories[-1]
        body = new_report(category=cat["code"], anonymous=True)
        before = datetime.now(timezone.utc).replace(microsecond=0)
        r = create(api, body)
        rep = r.body
        assert r.headers["Location"] == f"/v1/reports/{rep['id']}"
        assert "Idempotent-Replayed" not in r.headers
        for k in ("category", "description", "location", "anonymous", "media"):
            assert rep[k] == body[k], k
        assert rep["status"] == "submitted"
        assert rep["agency_code"] == cat["agency_code"]
        created = datetime.fromisoformat(rep["created_at"].replace("Z", "+00:00"))
        assert abs((created - before).total_seconds()) < 120, "created_at is not now (UTC)"
        assert rep["updated_at"] == rep["created_at"]
        got = api.call("GET", r.headers["Location"], expect=200)
        assert isinstance(rep.pop("possible_duplicates"), list)  # only in the create response
        assert got.body == rep
    finally:
        api.close()


def test_ids_are_distinct(api, new_report):
    ids = {create(api, new_report()).body["id"] for _ in range(5)}
    assert len(ids) == 5


VIETNAMESE = [
    "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo",
    "Ngập sâu 40 cm ở đường Phan Đình Phùng; xe máy chết máy, cần hỗ trợ gấp!",
    "Thủy Xuân – Hương Sơ: cây đổ \"chắn\" đường \\ lối đi 💡🌧️",
    unicodedata.normalize("NFD", "Huế: ổ gà trên cầu Trường Tiền"),  # NFD stays NFD
    "Đ" * 5000,  # 5000 characters, 10000 bytes: the limit counts characters
]


@pytest.mark.parametrize("text", VIETNAMESE, ids=["dong-ba", "punctuation", "escapes-emoji",
                                                  "nfd", "5000-chars"])
def test_vietnamese_round_trip_is_byte_exact(api, new_report, text):
    body = new_report(description=text, location={
        "lat": 16.4698, "lon": 107.5786, "address": "Đại Nội, 23 Tháng 8", "ward": "Thuận Thành"})
    r = create(api, body)
    encoded = json.dumps(text, ensure_ascii=False).encode("utf-8")
    for resp in (r, api.call("GET", f"/v1/reports/{r.body['id']}", expect=200)):
        assert resp.body["description"] == text
        assert resp.body["location"]["address"] == "Đại Nội, 23 Tháng 8"
        # Returned as raw UTF-8 bytes, not \u escapes and not re-normalised.
        assert encoded in resp.resp.content, resp.resp.content[:200]


def test_escaped_json_input_is_stored_as_utf8(api, new_report):
    text = "Rác thải ở bến xe phía Nam"
    raw = json.dumps(new_report(description=text), ensure_ascii=True).encode()
    assert b"\\u" in raw
    r = api.call("POST", "/v1/reports", raw=raw, expect=201)
    assert r.body["description"] == text
    assert text.encode("utf-8") in r.resp.content


def test_content_type_with_charset_is_accepted(api, new_report):
    raw = json.dumps(new_report(), ensure_ascii=False).encode()
    api.call("POST", "/v1/reports", raw=raw, content_type="application/json; charset=utf-8",
             expect=201)


# -- Idempotency-Key -------------------------------------------------------------------------

def test_idempotency_replay_and_conflict(api, new_report):
    key = f"contract-{uuid.uuid4()}"
    desc = f"Đèn tín hiệu giao thông hỏng ở ngã tư Lê Lợi – Hùng Vương {uuid.uuid4().hex[:8]}"
    body = new_report(description=desc)
    first = create(api, body, headers={"Idempotency-Key": key})
    assert first.headers.get("Idempotent-Replayed") is None
    replay = create(api, body, headers={"Idempotency-Key": key})
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.resp.content == first.resp.content, "a replay returns the first body"
    assert replay.headers["Location"] == first.headers["Location"]

    other = dict(body, description=desc + " (sửa)")
    api.call("POST", "/v1/reports", json_body=other, headers={"Idempotency-Key": key},
             expect=409).error("idempotency_key_reused")

    # Only one report was filed, and another key files another one.
    second = create(api, body, headers={"Idempotency-Key": key + "-2"})
    assert second.body["id"] != first.body["id"]
    pages = walk(api, {"category": body["category"]}, 100)
    same = [r["id"] for p in pages for r in p if r["description"] == desc]
    assert sorted(same) == sorted([first.body["id"], second.body["id"]])


def test_idempotency_key_limits(api, new_report):
    create(api, new_report(), headers={"Idempotency-Key": "k" * 255})
    create(api, new_report(), headers={"Idempotency-Key": "a b!~"})  # printable ASCII
    for bad in ("k" * 256, "khóa".encode("utf-8"), b"tab\there"):
        r = api.call("POST", "/v1/reports", json_body=new_report(),
                     headers={"Idempotency-Key": bad}, expect=400)
        err = r.error("validation_error")
        assert err["field"].lower() == "idempotency-key", err


# -- validation ------------------------------------------------------------------------------

def _without(d, *path):
    d = json.loads(json.dumps(d))
    cur = d
    for k in path[:-1]:
        cur = cur[k]
    del cur[path[-1]]
    return d


def _with(d, value, *path):
    d = json.loads(json.dumps(d))
    cur = d
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value
    return d


BAD_BODIES = [  # (id, mutate(body) -> body, accepted fields)
    ("no-category", lambda b: _without(b, "category"), {"category"}),
    ("unknown-category", lambda b: _with(b, "khong_ton_tai", "category"), {"category"}),
    ("category-number", lambda b: _with(b, 7, "category"), {"category"}),
    ("no-description", lambda b: _without(b, "description"), {"description"}),
    ("empty-description", lambda b: _with(b, "", "description"), {"description"}),
    ("5001-chars", lambda b: _with(b, "Đ" * 5001, "description"), {"description"}),
    ("description-array", lambda b: _with(b, ["Đèn"], "description"), {"description"}),
    ("no-location", lambda b: _without(b, "location"), {"location", "location.lat"}),
    ("location-string", lambda b: _with(b, "Đông Ba", "location"), {"location"}),
    ("no-lat", lambda b: _without(b, "location", "lat"), {"location.lat"}),
    ("no-lon", lambda b: _without(b, "location", "lon"), {"location.lon"}),
    ("null-lat", lambda b: _with(b, None, "location", "lat"), {"location.lat"}),
    ("lat-91", lambda b: _with(b, 91, "location", "lat"), {"location.lat"}),
    ("lat-minus-90.5", lambda b: _with(b, -90.5, "location", "lat"), {"location.lat"}),
    ("lon-180.01", lambda b: _with(b, 180.01, "location", "lon"), {"location.lon"}),
    ("lat-string", lambda b: _with(b, "16.47", "location", "lat"), {"location.lat"}),
    ("address-number", lambda b: _with(b, 12, "location", "address"), {"location.address"}),
    ("anonymous-string", lambda b: _with(b, "yes", "anonymous"), {"anonymous"}),
    ("media-string", lambda b: _with(b, "med_1", "media"), {"media"}),
    ("media-item-number", lambda b: _with(b, [1], "media"), {"media", "media[0]", "media.0"}),
]


@pytest.mark.parametrize("mutate,fields", [b[1:] for b in BAD_BODIES], ids=[b[0] for b in BAD_BODIES])
def test_invalid_report_names_the_field(api, new_report, mutate, fields):
    body = mutate(new_report())
    r = api.call("POST", "/v1/reports", json_body=body, expect=400)
    err = r.error("validation_error")
    assert err["field"] in fields, f"want field in {fields}, got {err}"
    assert err["message"]


@pytest.mark.parametrize("raw", [b"{", b"", b"{} x", b"{'category': 1}", b"nul",
                                 b'{"category": "a",}'], ids=repr)
def test_malformed_json(api, raw):
    err = api.call("POST", "/v1/reports", raw=raw, expect=400).error("malformed_json")
    assert "field" not in err


def test_body_not_an_object(api):
    r = api.call("POST", "/v1/reports", raw=b"[1, 2]", expect=400)
    assert r.body["error"]["code"] in ("validation_error", "malformed_json"), r.body


def test_invalid_utf8_is_rejected(api, new_report):
    raw = json.dumps(new_report(description="@@")).encode().replace(b"@@", b"\xc4\x90\xff\xfe")
    r = api.call("POST", "/v1/reports", raw=raw, expect=400)
    err = r.body["error"]
    assert err["code"] == "malformed_json" or err.get("field") == "description", err


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded",
                                   "application/xml"])
def test_unsupported_media_type(api, new_report, ctype):
    raw = json.dumps(new_report(), ensure_ascii=False).encode()
    api.call("POST", "/v1/reports", raw=raw, content_type=ctype,
             expect=415).error("unsupported_media_type")


@pytest.mark.parametrize("backend", ["requests", "httpx"])
@pytest.mark.parametrize("size", [1 << 20, 16 << 20], ids=["1MiB+1", "16MiB"])
def test_payload_too_large(spec, sandbox, new_report, backend, size):
    api = Api(spec, sandbox.url, backend=backend, api_key=sandbox.api_key)
    try:
        api.call("POST", "/v1/reports", raw=_padded(new_report(), size + 1),
                 expect=413).error("payload_too_large")
        api.call("GET", "/healthz", expect=200)  # and the server is still fine
    finally:
        api.close()


def _padded(body: dict, size: int) -> bytes:
    """The JSON of body, padded with whitespace to exactly size bytes (still valid)."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    return raw[:-1] + b" " * (size - len(raw)) + b"}"


def test_one_mebibyte_body_is_accepted(api, new_report):
    raw = _padded(new_report(), 1 << 20)
    assert len(raw) == 1 << 20
    api.call("POST", "/v1/reports", raw=raw, expect=201)


def test_chunked_request_body(api, new_report):
    """HTTP/1.1 bodies without Content-Length (chunked) are read, and limited, the same."""
    def chunks(data):
        for i in range(0, len(data), 1000):
            yield data[i:i + 1000]
    url = api.base + "/v1/reports"
    h = {"X-Api-Key": api.api_key, "Content-Type": "application/json"}
    ok = requests.post(url, data=chunks(json.dumps(new_report(), ensure_ascii=False).encode()),
                       headers=h, timeout=(5, 30))
    assert ok.request.headers.get("Transfer-Encoding") == "chunked"
    check_response(api.spec, "POST", "/v1/reports", ok)
    assert ok.status_code == 201, ok.text
    big = requests.post(url, data=chunks(_padded(new_report(), (1 << 20) + 1)), headers=h,
                        timeout=(5, 30))
    check_response(api.spec, "POST", "/v1/reports", big)
    assert big.status_code == 413, big.text


def test_concurrent_creates_with_one_key_file_one_report(api, new_report):
    key = f"concurrent-{uuid.uuid4()}"
    raw = json.dumps(new_report(description=f"Cột điện nghiêng ở Vỹ Dạ {key}"),
                     ensure_ascii=False).encode()
    h = {"X-Api-Key": api.api_key, "Content-Type": "application/json", "Idempotency-Key": key}

    def post(_):
        with requests.Session() as s:
            return s.post(api.base + "/v1/reports", data=raw, headers=h, timeout=(5, 30))
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(post, range(8)))
    for r in results:
        check_response(api.spec, "POST", "/v1/reports", r)
    assert [r.status_code for r in results] == [201] * 8, [r.text for r in results]
    assert len({r.content for r in results}) == 1, "every call returns the one report"
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in results) == 7


# -- listing ---------------------------------------------------------------------------------

BAD_PARAMS = [
    ({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"limit": -1}, "limit"),
    ({"limit": "abc"}, "limit"), ({"limit": "1.5"}, "limit"), ({"limit": "1e1"}, "limit"),
    ({"category": "khong_ton_tai"}, "category"),
    ({"status": "dang_xu_ly"}, "status"),
    ({"near_lat": 91, "near_lon": 107.5, "radius_m": 100}, "near_lat"),
    ({"near_lat": 16.4, "near_lon": -181, "radius_m": 100}, "near_lon"),
    ({"near_lat": "Huế", "near_lon": 107.5, "radius_m": 100}, "near_lat"),
    ({"near_lat": 16.4, "near_lon": 107.5, "radius_m": -5}, "radius_m"),
    ({"near_lat": 16.4, "near_lon": 107.5, "radius_m": "xa"}, "radius_m"),
    ({"radius_m": 500}, ("near_lat", "near_lon")),
    ({"cursor": "không-phải-cursor"}, "cursor"),
    ({"cursor": "AAAA"}, "cursor"),
]


@pytest.mark.parametrize("params,field", BAD_PARAMS, ids=[str(p) for p, _ in BAD_PARAMS])
def test_invalid_list_parameter_names_it(api, params, field):
    err = api.call("GET", "/v1/reports", params=params, expect=400).error("validation_error")
    assert err["field"] in (field if isinstance(field, tuple) else (field,)), err


def test_limit_bounds_and_default(spec, start_sandbox):
    sb = start_sandbox()
    api = Api(spec, sb.url, api_key=sb.api_key)
    try:
        cat = api.call("GET", "/v1/categories", expect=200).body["items"][0]["code"]
        base = {"category": cat, "location": {"lat": DONG_BA[0], "lon": DONG_BA[1]}}
        total = sum(len(p) for p in walk(api, {}, 100))
        for i in range(max(0, 21 - total)):
            create(api, dict(base, description=f"Phản ánh số {i} ở chợ Đông Ba"))
        assert len(api.call("GET", "/v1/reports", expect=200).body["items"]) == 20
        assert len(api.call("GET", "/v1/reports", params={"limit": 1}, expect=200).body["items"]) == 1
        page = api.call("GET", "/v1/reports", params={"limit": 100}, expect=200).body
        assert len(page["items"]) == min(100, max(total, 21))
    finally:
        api.close()


@pytest.mark.timeout(120)
def test_cursor_pagination(spec, start_sandbox):
    sb = start_sandbox()  # a private sandbox: the page contents are exact
    api = Api(spec, sb.url, api_key=sb.api_key)
    try:
        cat = api.call("GET", "/v1/categories", expect=200).body["items"][0]["code"]
        seeded = [r["id"] for p in walk(api, {}, 100) for r in p]
        ours = []
        for i in range(25):
            ours.append(create(api, {
                "category": cat, "description": f"Rác thải trên đường Lý Thái Tổ, điểm {i}",
                "location": {"lat": 16.475 + i * 1e-4, "lon": 107.575, "ward": "Thuận Lộc"}},
            ).body["id"])
        pages = walk(api, {}, 7)
        ids = [r["id"] for p in pages for r in p]
        assert [len(p) for p in pages[:-1]] == [7] * (len(pages) - 1)
        assert len(ids) == len(set(ids)), "a report appeared on two pages"
        assert ids[:25] == ours[::-1], "newest first"
        assert sorted(ids[25:]) == sorted(seeded)
        times = [r["created_at"] for p in pages for r in p]
        assert times == sorted(times, reverse=True)

        # The cursor is stable: a report created between pages neither shifts nor repeats.
        first = api.call("GET", "/v1/reports", params={"limit": 5}, expect=200).body
        create(api, {"category": cat, "description": "Phản ánh mới giữa hai trang",
                     "location": {"lat": 16.47, "lon": 107.58}})
        nxt = api.call("GET", "/v1/reports", params={"limit": 5, "cursor": first["next_cursor"]},
                       expect=200).body
        assert [r["id"] for r in first["items"] + nxt["items"]] == ids[:10]
    finally:
        api.close()


def test_filters_status_and_category(api, categories, new_report):
    a, b = categories[0]["code"], categories[1]["code"] if len(categories) > 1 else None
    ra = create(api, new_report(category=a)).body["id"]
    for page in walk(api, {"category": a}, 50):
        assert all(r["category"] == a for r in page)
    assert ra in [r["id"] for p in walk(api, {"category": a, "status": "submitted"}, 100) for r in p]
    if b:
        assert ra not in [r["id"] for p in walk(api, {"category": b}, 100) for r in p]
    resolved = walk(api, {"status": "resolved"}, 100)
    assert all(r["status"] == "resolved" for p in resolved for r in p)
    assert ra not in [r["id"] for p in resolved for r in p]
    # An empty value is the same as an absent parameter.
    empty = api.call("GET", "/v1/reports", params={"status": "", "limit": "", "category": ""},
                     expect=200).body
    assert empty == api.call("GET", "/v1/reports", expect=200).body


def test_near_filter_around_dong_ba(api, new_report):
    tag = uuid.uuid4().hex[:8]
    places = {"dong_ba": DONG_BA, "north_89m": (DONG_BA[0] + 0.0008, DONG_BA[1]),
              "dai_noi": DAI_NOI, "tu_duc": TU_DUC, "ben_xe_nam": BEN_XE_NAM}
    made = {}
    for name, (lat, lon) in places.items():
        body = new_report(description=f"Phản ánh gần {name} {tag}",
                          location={"lat": lat, "lon": lon, "address": name, "ward": "Đông Ba"})
        made[create(api, body).body["id"]] = (lat, lon)
    dist = {rid: haversine_m(*DONG_BA, *p) for rid, p in made.items()}
    for radius in (50, 80, 100, 500, 1000, 1500, 6000):
        pages = walk(api, {"near_lat": DONG_BA[0], "near_lon": DONG_BA[1], "radius_m": radius}, 100)
        got = [r for p in pages for r in p]
        for r in got:
            d = haversine_m(*DONG_BA, r["location"]["lat"], r["location"]["lon"])
            assert d <= radius + 0.5, f"{r['id']} is {d:.1f} m away, radius {radius}"
        expect = {rid for rid, d in dist.items() if d <= radius - 0.5}
        assert expect <= {r["id"] for r in got}, f"radius {radius}: missing {expect}"
    assert 1000 < dist[[k for k, v in made.items() if v == DAI_NOI][0]] < 1500


def test_near_filter_combines_with_category(api, categories, new_report):
    if len(categories) < 2:
        pytest.skip("needs two categories")
    a, b = categories[0]["code"], categories[1]["code"]
    rb = create(api, new_report(category=b)).body["id"]
    near = {"near_lat": DONG_BA[0], "near_lon": DONG_BA[1], "radius_m": 200}
    in_a = [r for p in walk(api, dict(near, category=a), 100) for r in p]
    in_b = [r["id"] for p in walk(api, dict(near, category=b), 100) for r in p]
    assert all(r["category"] == a for r in in_a)
    assert rb in in_b and rb not in [r["id"] for r in in_a]

