"""GET /v1/agencies and GET /v1/reports/{id}/timeline against the spec (every response is
validated against docs/openapi.yaml by the harness)."""

import oidc

SEEDED = {  # code: (name_vi, kind), as the categories route to them, Vietnamese exact
    "HEPCO": ("Công ty CP Môi trường và Công trình đô thị Huế (HEPCO)", "utility"),
    "HUEWACO": ("Công ty CP Cấp nước Thừa Thiên Huế (HUEWACO)", "utility"),
    "PC_TTH": ("Công ty Điện lực Thừa Thiên Huế", "utility"),
    "CA_HUE": ("Công an thành phố Huế", "police"),
    "IOC": ("Trung tâm Giám sát, điều hành đô thị thông minh tỉnh Thừa Thiên Huế", "ioc"),
    "SXD_TTH": ("Sở Xây dựng Thừa Thiên Huế", "department"),
    "STNMT_TTH": ("Sở Tài nguyên và Môi trường Thừa Thiên Huế", "department"),
    "SGTVT_TTH": ("Sở Giao thông vận tải Thừa Thiên Huế", "department"),
    "UBND_PHU_HOI": ("Ủy ban nhân dân phường Phú Hội", "ward"),
    "UBND_DONG_BA": ("Ủy ban nhân dân phường Đông Ba", "ward"),
    "UBND_VINH_NINH": ("Ủy ban nhân dân phường Vĩnh Ninh", "ward"),
}


def all_agencies(api, **params):
    items, cursor, pages = [], None, 0
    while True:
        q = dict(params, **({"cursor": cursor} if cursor else {}))
        page = api.call("GET", "/v1/agencies", params=q, expect=200).body
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            return items, pages


def test_agencies_page_by_code_without_gaps(api):
    items, pages = all_agencies(api, limit=4)
    codes = [a["code"] for a in items]
    assert codes == sorted(codes) and len(set(codes)) == len(codes)
    assert pages >= 4
    one_page, _ = all_agencies(api, limit=100)
    assert [a["code"] for a in one_page] == codes
    by_code = {a["code"]: a for a in items}
    for code, (name_vi, kind) in SEEDED.items():
        assert by_code[code]["name_vi"] == name_vi, code
        assert by_code[code]["kind"] == kind, code
    assert by_code["UBND_PHU_HOI"]["ward"] == "Phú Hội"
    assert "ward" not in by_code["HEPCO"]  # absent, not empty, outside ward committees


def test_every_category_routes_to_a_listed_agency(api, categories):
    items, _ = all_agencies(api)
    codes = {a["code"] for a in items}
    assert {c["agency_code"] for c in categories} <= codes
    names = {a["code"]: a["name_vi"] for a in items}
    for c in categories:
        assert c["agency_name"] == names[c["agency_code"]], c["code"]


def test_agencies_filter_by_kind(api):
    for kind in ("department", "ward", "utility", "police", "ioc"):
        items, _ = all_agencies(api, kind=kind)
        assert items and {a["kind"] for a in items} == {kind}
    everything, _ = all_agencies(api, kind="")  # empty is absent
    assert len(everything) > len(all_agencies(api, kind="ward")[0])


def test_agencies_bad_parameters_name_their_field(api):
    api.call("GET", "/v1/agencies", params={"kind": "bakery"}, expect=400).error("validation_error", "kind")
    api.call("GET", "/v1/agencies", params={"limit": 0}, expect=400).error("validation_error", "limit")
    api.call("GET", "/v1/agencies", params={"limit": "nhiều"}, expect=400).error("validation_error", "limit")
    api.call("GET", "/v1/agencies", params={"cursor": "!!"}, expect=400).error("validation_error", "cursor")
    api.call("GET", "/v1/agencies", key=None, expect=401)


def test_a_new_report_timeline_starts_with_the_citizen(api, new_report):
    created = api.call("POST", "/v1/reports", json_body=new_report(), expect=201).body
    items = api.call("GET", f"/v1/reports/{created['id']}/timeline", expect=200).body["items"]
    assert items == [{"at": created["created_at"], "status": "submitted", "actor_role": "citizen", "actor": "",
                      "note": "", "attachments": []}]  # a partner key's report: no person acted


def test_seeded_reports_have_their_history(api):
    page = api.call("GET", "/v1/reports", params={"status": "in_progress", "limit": 5}, expect=200).body
    for r in page["items"]:
        items = api.call("GET", f"/v1/reports/{r['id']}/timeline", expect=200).body["items"]
        assert items[0]["status"] == "submitted" and items[0]["actor_role"] == "citizen"
        assert items[-1]["status"] == r["status"]
        assert [e["at"] for e in items] == sorted(e["at"] for e in items)


def test_timeline_visibility_follows_the_report(api, new_report):
    an = oidc.user_tokens(api.base, "nguyen.van.an")["access_token"]
    binh = oidc.user_tokens(api.base, "tran.thi.binh")["access_token"]
    created = api.call("POST", "/v1/reports", key=None, json_body=new_report(visibility="private"),
                       headers={"Authorization": "Bearer " + an}, expect=201).body
    path = f"/v1/reports/{created['id']}/timeline"
    api.call("GET", path, key=None, headers={"Authorization": "Bearer " + an}, expect=200)
    api.call("GET", path, key=None, headers={"Authorization": "Bearer " + binh}, expect=404).error("not_found")
    api.call("GET", path, expect=404).error("not_found")
    api.call("GET", "/v1/reports/rpt_khong_ton_tai/timeline", expect=404).error("not_found")


def test_new_paths_answer_405_with_allow(api):
    for method, path in (("POST", "/v1/agencies"), ("DELETE", "/v1/reports/rpt_x/timeline")):
        r = api.call(method, path, expect=405)
        r.error("method_not_allowed")
        assert {m.strip() for m in r.headers["Allow"].split(",")} == {"GET", "HEAD"}
