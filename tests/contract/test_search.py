"""Search for reports and duplicate hints over plain HTTP, every response checked against
docs/openapi.yaml: full-text search that ignores Vietnamese diacritics and case, filters,
both sorts paged to the end, cursors bound to their sort and filters, bad values, and the
duplicates operation and create field. Each test filters on a marker word of its own, so
seeded reports (however many) change nothing."""

import uuid

import pytest

import lifecycle

PER_M = 1 / 111195.0  # degrees of latitude per metre


def marker() -> str:
    return "mk" + uuid.uuid4().hex[:12]


def create(api, description, category="street_light", lat=16.4726, lon=107.5885, **loc):
    body = {"category": category, "description": description,
            "location": {"lat": lat, "lon": lon, **loc}}
    return api.call("POST", "/v1/reports", json_body=body, expect=201).body


def walk(api, params, limit=2, headers=None, key="default"):
    """Every page of a listing, in order; checks page sizes and that no report repeats."""
    out, cursor = [], None
    for _ in range(1000):
        p = dict(params, limit=limit, **({"cursor": cursor} if cursor else {}))
        page = api.call("GET", "/v1/reports", params=p, headers=headers, key=key, expect=200).body
        assert len(page["items"]) <= limit
        out += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            ids = [r["id"] for r in out]
            assert len(ids) == len(set(ids)), "a report came twice"
            return out
        assert len(page["items"]) == limit
    pytest.fail("pagination did not end")


def ids(api, **params):
    return {r["id"] for r in walk(api, params, limit=100)}


def test_full_text_search_ignores_diacritics_and_case(api):
    m = marker()
    light = create(api, f"Đèn đường hỏng {m}", address="Số 5 Lê Lợi", ward="Vĩnh Ninh")["id"]
    road = create(api, f"Ổ gà giữa đường {m}", category="road_damage")["id"]
    for q, want in [("duong", {light, road}), ("den duong hong", {light}), ("DUONG", {light, road}),
                    ("đường", {light, road}), ("ĐÈN ĐƯỜNG HỎNG", {light}), ("o ga", {road}),
                    ("le loi", {light}), ("vinh ninh", {light}), ("duon", set()), ("den ga", set())]:
        assert ids(api, q=f"{q} {m}") == want, q


def test_fts_syntax_in_the_query_is_plain_words(api):
    m = marker()
    rid = create(api, f"Đèn đường hỏng {m}")["id"]
    for q, want in [(f'"{m}"', {rid}), (f"{m}*", {rid}), (f"-{m}", {rid}), (f"{m} OR zzzqq", set()),
                    (f"NEAR({m} den)", set()), (f"description:{m}", set()), (f"{m}') OR 1=1 --", set())]:
        assert ids(api, q=q) == want, q
    for q in ['"', "***", "-", ")(*"]:
        err = api.call("GET", "/v1/reports", params={"q": q}, expect=400).body["error"]
        assert (err["code"], err["field"]) == ("validation_error", "q")


def test_filters_alone_and_combined(api, people):
    m = marker()
    a = create(api, f"a {m}", ward="Đông Ba")["id"]
    b = create(api, f"b {m}", category="power_outage", ward="Đông Ba")["id"]
    c = create(api, f"c {m}", ward="Vỹ Dạ", lat=16.47, lon=107.60)["id"]
    lifecycle.step(api, people, "ioc", c, "receive", {}, "*")
    for params, want in [({}, {a, b, c}), ({"status": "received"}, {c}), ({"category": "power_outage"}, {b}),
                         ({"agency": "QLDT_HUE"}, {a, c}), ({"ward": "Đông Ba"}, {a, b}), ({"ward": "Dong Ba"}, set()),
                         ({"overdue": "false"}, {a, b, c}), ({"overdue": "true"}, set()),
                         ({"near_lat": 16.4726, "near_lon": 107.5885, "radius_m": 100}, {a, b}),
                         ({"ward": "Đông Ba", "agency": "PC_TTH", "status": "submitted"}, {b}),
                         ({"created_from": "2020-01-01T00:00:00Z", "created_to": "2099-01-01T00:00:00Z"}, {a, b, c}),
                         ({"created_to": "2020-01-01T00:00:00Z"}, set()), ({"created_from": "2099-01-01T00:00:00Z"}, set())]:
        assert ids(api, q=m, **params) == want, params
        assert ids(api, q=m, sort="due", **params) == want, params
    for r in walk(api, {"overdue": "true"}, limit=100, headers=people.headers("ioc"), key=None):
        assert r["overdue"] is True


def test_both_sorts_page_through_each_report_once_in_order(api):
    m = marker()
    # Categories with different deadlines, so the due order is not the creation order.
    made = [create(api, f"Báo cáo {i} {m}", category=cat)
            for i, cat in enumerate(["street_light", "power_outage", "flooding", "street_light", "power_outage"])]
    order = {r["id"]: i for i, r in enumerate(made)}
    newest = [r["id"] for r in walk(api, {"q": m}, limit=2)]
    assert newest == [r["id"] for r in reversed(made)]
    due = walk(api, {"q": m, "sort": "due"}, limit=2)
    assert sorted(r["id"] for r in due) == sorted(order)
    assert [(r["due_at"], order[r["id"]]) for r in due] == sorted((r["due_at"], order[r["id"]]) for r in due)
    # Over everything the caller may see, too.
    rows = walk(api, {"sort": "due"}, limit=50)
    assert [r["due_at"] for r in rows] == sorted(r["due_at"] for r in rows)
    assert {r["id"] for r in rows} == {r["id"] for r in walk(api, {}, limit=50)}


def test_a_cursor_belongs_to_its_sort_and_filters(api):
    m = marker()
    for i in range(3):
        create(api, f"Đèn {i} {m}")
    newest = api.call("GET", "/v1/reports", params={"q": m, "limit": 1}, expect=200).body["next_cursor"]
    due = api.call("GET", "/v1/reports", params={"q": m, "limit": 1, "sort": "due"}, expect=200).body["next_cursor"]
    assert newest and due
    for params in [{"q": m, "sort": "due", "cursor": newest}, {"q": m, "cursor": due}, {"cursor": newest},
                   {"q": m, "ward": "Đông Ba", "cursor": newest}, {"cursor": "bm90IGEgY3Vyc29y"}]:
        err = api.call("GET", "/v1/reports", params=params, expect=400).body["error"]
        assert (err["code"], err["field"]) == ("validation_error", "cursor"), params


@pytest.mark.parametrize("params,field", [
    ({"created_from": "yesterday"}, "created_from"),
    ({"created_from": "2026-11-28T09:16:16+07:00"}, "created_from"),
    ({"created_to": "2026-02-30T00:00:00Z"}, "created_to"),
    ({"created_from": "2026-02-02T00:00:00Z", "created_to": "2026-02-01T00:00:00Z"}, "created_to"),
    ({"sort": "oldest"}, "sort"),
    ({"overdue": "1"}, "overdue"),
    ({"agency": "NO_SUCH"}, "agency"),
    ({"radius_m": 50}, "near_lat"),
    ({"ward": "x" * 101}, "ward"),
    ({"q": "x" * 201}, "q"),
])
def test_bad_values_name_the_parameter(api, params, field):
    err = api.call("GET", "/v1/reports", params=params, expect=400).body["error"]
    assert (err["code"], err["field"]) == ("validation_error", field)


def test_duplicate_hints(api, people):
    m = marker()
    lat, lon = 16.59, 107.72  # away from the seed
    near = create(api, f"Đèn hỏng {m}", lat=lat, lon=lon)["id"]
    at20 = create(api, f"Đèn hỏng 20 m {m}", lat=lat + 20 * PER_M, lon=lon)["id"]
    create(api, f"Đèn hỏng 70 m {m}", lat=lat + 70 * PER_M, lon=lon)
    create(api, f"Cây đổ {m}", category="fallen_tree", lat=lat, lon=lon)
    closed = create(api, f"Đã từ chối {m}", lat=lat, lon=lon)["id"]
    lifecycle.step(api, people, "ioc", closed, "reject", {"reason": "Trùng"}, "*")
    private = api.call("POST", "/v1/reports", key=None, headers=people.headers("citizen"), json_body={
        "category": "street_light", "description": f"Riêng tư {m}", "visibility": "private",
        "location": {"lat": lat, "lon": lon}}, expect=201).body["id"]

    items = api.call("GET", "/v1/reports/duplicates", params={"category": "street_light", "lat": lat, "lon": lon},
                     expect=200).body["items"]
    assert [h["id"] for h in items] == [near, at20]  # the private one is not the API key's to see
    assert items[0]["distance_m"] == pytest.approx(0, abs=0.1)
    assert items[1]["distance_m"] == pytest.approx(20, abs=0.5)
    assert all("reporter" not in h for h in items)
    mine = api.call("GET", "/v1/reports/duplicates", params={"category": "street_light", "lat": lat, "lon": lon},
                    key=None, headers=people.headers("citizen"), expect=200).body["items"]
    assert [h["id"] for h in mine] == [private, near, at20]  # nearest first, then newest

    created = create(api, f"Lại đèn hỏng {m}", lat=lat + 2 * PER_M, lon=lon)
    assert [h["id"] for h in created["possible_duplicates"]] == [near, at20]
    got = api.call("GET", f"/v1/reports/{created['id']}", expect=200).body
    assert "possible_duplicates" not in got
    assert {k: v for k, v in created.items() if k != "possible_duplicates"} == got
    for params, field in [({"lat": lat, "lon": lon}, "category"), ({"category": "street_light", "lon": lon}, "lat"),
                          ({"category": "street_light", "lat": lat}, "lon"), ({"category": "x", "lat": 1, "lon": 2}, "category")]:
        err = api.call("GET", "/v1/reports/duplicates", params=params, expect=400).body["error"]
        assert err["field"] == field
