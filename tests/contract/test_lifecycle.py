"""The life of a report over the real binary (issue 8): roles, states, If-Match and 412
races, the timeline, deadlines, anonymity and the rating. Every response is checked against
docs/openapi.yaml by the harness."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import media_files
import pytest

import lifecycle
from lifecycle import STAFF_AGENCY, report_in, step


def get(api, people, role, rid):
    return api.call("GET", f"/v1/reports/{rid}", key=None, headers=people.headers(role), expect=200)


def timeline(api, people, role, rid):
    return api.call("GET", f"/v1/reports/{rid}/timeline", key=None, headers=people.headers(role),
                    expect=200).body["items"]


def test_the_seed_story_answer_returned_for_the_record_then_published_and_rated(api, people):
    text = "Quán nhậu lấn chiếm vỉa hè, mở nhạc lớn sau 22 giờ — đường Trần Hưng Đạo, phường Đông Ba"
    r = lifecycle.new_report(api, people, description=text)
    rid, etag = r["id"], '"1"'
    assert r["version"] == 1 and r["status"] == "submitted" and r["description"] == text
    etag = step(api, people, "ioc", rid, "receive", {}, etag).headers["ETag"]
    etag = step(api, people, "ioc", rid, "assign", {"agency_code": STAFF_AGENCY, "note": "Chuyển UBND phường"},
                etag).headers["ETag"]
    etag = step(api, people, "staff", rid, "accept", {}, etag).headers["ETag"]
    first = "Công an phường đã lập biên bản vi phạm hành chính đối với chủ quán."
    etag = step(api, people, "staff", rid, "respond", {"answer": first}, etag).headers["ETag"]
    reason = "Đề nghị bổ sung biên bản vi phạm hành chính đã lập."
    etag = step(api, people, "ioc", rid, "return", {"reason": reason}, etag).headers["ETag"]
    second = "Gửi kèm biên bản vi phạm hành chính số 12/BB-VPHC."
    record = media_files.upload(api, media_files.pdf("Biên bản 12/BB-VPHC"), "document", key=None,
                                headers=people.headers("staff"))
    res = step(api, people, "staff", rid, "respond", {"answer": second, "attachments": [record]}, etag)
    assert res.body["status"] == "responded" and res.body["answer"] == second
    res = step(api, people, "ioc", rid, "approve", {"note": "Công khai kết quả"}, res.headers["ETag"])
    assert res.body["status"] == "resolved" and res.headers["ETag"] == '"8"' and res.body["version"] == 8
    res = step(api, people, "citizen", rid, "rating", {"satisfied": True, "comment": "Xử lý nhanh, cảm ơn!"}, None)
    assert res.body["status"] == "rated" and res.body["rating"]["comment"] == "Xử lý nhanh, cảm ơn!"
    # Once only.
    step(api, people, "citizen", rid, "rating", {"satisfied": False}, None, expect=409).error("invalid_transition")

    items = timeline(api, people, "citizen", rid)
    assert [e["status"] for e in items] == ["submitted", "received", "assigned", "in_progress", "responded",
                                           "returned", "responded", "resolved", "rated"]
    assert [e["actor_role"] for e in items] == ["citizen", "ioc", "ioc", "agency", "agency", "ioc", "agency",
                                               "ioc", "citizen"]
    subs = {e["actor_role"]: e["actor"] for e in items}
    assert len(set(subs.values())) == 3 and all(subs.values())
    assert items[2]["agency_code"] == STAFF_AGENCY
    assert (items[4]["note"], items[4]["attachments"]) == (first, [])
    assert (items[5]["note"], items[6]["note"], items[6]["attachments"]) == (reason, second, [record])
    # Byte for byte, as sent.
    raw = api.call("GET", f"/v1/reports/{rid}/timeline", key=None, headers=people.headers("ioc")).resp.content
    assert reason.encode("utf-8") in raw and second.encode("utf-8") in raw


def test_a_forbidden_role_is_403_naming_it_and_changes_nothing(api, people):
    rid, etag = report_in(api, people, "submitted")
    for role in ("citizen", "staff"):
        r = step(api, people, role, rid, "receive", {}, etag, expect=403)
        r.error("role_not_allowed")
        assert ("agency" if role == "staff" else "citizen") in r.body["error"]["message"]
    # A partner API key has no role either.
    api.call("POST", f"/v1/reports/{rid}/receive", json_body={}, headers={"If-Match": etag},
             expect=403).error("role_not_allowed")
    rid2, etag2 = report_in(api, people, "assigned")
    r = step(api, people, "other_staff", rid2, "accept", {}, etag2, expect=403)
    assert "another agency" in r.body["error"]["message"]
    step(api, people, "ioc", rid2, "accept", {}, etag2, expect=403)
    step(api, people, "other_citizen", rid2, "rating", {"satisfied": True}, None, expect=403)
    for r_, e_ in ((rid, etag), (rid2, etag2)):
        now = get(api, people, "ioc", r_)
        assert now.headers["ETag"] == e_
    assert len(timeline(api, people, "ioc", rid)) == 1


def test_a_forbidden_state_is_409_naming_it_and_changes_nothing(api, people):
    rid, etag = report_in(api, people, "in_progress")
    for role, action, body in (("ioc", "approve", {}), ("ioc", "receive", {}), ("ioc", "return", {"reason": "x"}),
                               ("staff", "accept", {}), ("citizen", "rating", {"satisfied": True})):
        r = step(api, people, role, rid, action, body, etag, expect=409)
        r.error("invalid_transition")
        assert "in_progress" in r.body["error"]["message"]
    assert get(api, people, "ioc", rid).headers["ETag"] == etag
    assert [e["status"] for e in timeline(api, people, "ioc", rid)][-1] == "in_progress"


def test_if_match_missing_malformed_weak_and_star(api, people):
    rid, etag = report_in(api, people, "submitted")
    h = people.headers("ioc")
    api.call("POST", f"/v1/reports/{rid}/receive", json_body={}, key=None, headers=h,
             expect=428).error("precondition_required")
    for bad in ("7", '"7', "W/"):
        r = api.call("POST", f"/v1/reports/{rid}/receive", json_body={}, key=None,
                     headers={**h, "If-Match": bad}, expect=400)
        assert r.body["error"]["field"] == "If-Match"
    # A weak tag never matches (strong comparison); a list with the current tag does; * always.
    step(api, people, "ioc", rid, "receive", {}, "W/" + etag, expect=412)
    res = step(api, people, "ioc", rid, "receive", {}, '"99", ' + etag)
    assert res.headers["ETag"] == '"2"'
    step(api, people, "ioc", rid, "assign", {"agency_code": STAFF_AGENCY}, "*")


def test_two_racing_transitions_never_both_win(api, people):
    for _ in range(5):
        rid, etag = report_in(api, people, "received")
        results, barrier = [], threading.Barrier(2)

        def go(role, action, body):
            client = type(api)(api.spec, api.base, api.api_key)  # its own connection
            barrier.wait()
            results.append(client.call("POST", f"/v1/reports/{rid}/{action}", json_body=body, key=None,
                                       headers=people.headers(role, etag)))

        threads = [threading.Thread(target=go, args=("ioc", "assign", {"agency_code": STAFF_AGENCY})),
                   threading.Thread(target=go, args=("ioc2", "reject", {"reason": "Trùng lặp"}))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(r.status for r in results)
        assert statuses == [200, 412], statuses
        winner = next(r for r in results if r.status == 200)
        loser = next(r for r in results if r.status == 412)
        loser.error("precondition_failed")
        assert loser.body["current"] == get(api, people, "ioc", rid).body == winner.body
        assert loser.headers["ETag"] == winner.headers["ETag"] == '"3"'
        assert len(timeline(api, people, "ioc", rid)) == 3


def test_stale_etag_is_412_with_the_current_report(api, people):
    rid, etag = report_in(api, people, "received")
    step(api, people, "ioc", rid, "assign", {"agency_code": STAFF_AGENCY}, etag)
    r = step(api, people, "ioc2", rid, "reject", {"reason": "Không rõ"}, etag, expect=412)
    assert r.body["current"]["status"] == "assigned" and r.body["current"]["version"] == 3


def test_duplicate_links_the_original_and_the_reporter_sees_it(api, people):
    original, _ = report_in(api, people, "submitted")
    rid, etag = report_in(api, people, "received")
    step(api, people, "ioc", rid, "duplicate", {"original_id": rid}, etag, expect=400)
    step(api, people, "ioc", rid, "duplicate", {"original_id": "rpt_khong_co"}, etag, expect=400)
    step(api, people, "ioc", rid, "duplicate", {"original_id": original, "note": "Trùng phản ánh trước"}, etag)
    mine = get(api, people, "citizen", rid).body
    assert mine["status"] == "duplicate" and mine["duplicate_of"] == original


def test_transfer_asked_by_the_agency_and_approved_by_the_ioc(api, people):
    rid, etag = report_in(api, people, "transfer_requested")
    bad = step(api, people, "ioc", rid, "transfer-approval", {"agency_code": STAFF_AGENCY}, etag, expect=400)
    assert bad.body["error"]["field"] == "agency_code"
    res = step(api, people, "ioc", rid, "transfer-approval", {"agency_code": "CA_HUE"}, etag)
    assert res.body["status"] == "assigned" and res.body["agency_code"] == "CA_HUE"
    # The old agency can no longer act on it; the new one can.
    step(api, people, "staff", rid, "accept", {}, res.headers["ETag"], expect=403)
    items = timeline(api, people, "ioc", rid)
    assert [e["status"] for e in items][-2:] == ["transfer_requested", "assigned"]
    assert items[-2]["note"] == "Không thuộc thẩm quyền của phường" and items[-1]["agency_code"] == "CA_HUE"


def test_deadline_from_the_category_sla_and_restarted_on_assignment(api, people, categories):
    sla = next(c["sla_hours"] for c in categories if c["code"] == "urban_order")
    r = lifecycle.new_report(api, people)
    parse = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
    assert parse(r["due_at"]) - parse(r["created_at"]) == timedelta(hours=sla)
    assert r["overdue"] is False
    res = step(api, people, "ioc", r["id"], "receive", {}, '"1"')
    res = step(api, people, "ioc", r["id"], "assign", {"agency_code": STAFF_AGENCY}, res.headers["ETag"])
    assert parse(res.body["due_at"]) - parse(res.body["updated_at"]) == timedelta(hours=sla)


def test_seeded_overdue_reports_are_flagged(api):
    items = api.call("GET", "/v1/reports", params={"limit": 100}, expect=200).body["items"]
    open_states = {"submitted", "received", "assigned", "in_progress", "returned", "transfer_requested"}
    now = datetime.utcnow()
    parse = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
    for it in items:
        assert it["overdue"] == (it["status"] in open_states and parse(it["due_at"]) < now), it
    assert any(it["overdue"] for it in items), "the seed has old open reports"


@pytest.mark.parametrize("anonymous", [False, True])
def test_the_agency_never_sees_an_anonymous_reporter(api, people, anonymous):
    rid, etag = report_in(api, people, "in_progress", anonymous=anonymous)
    me = api.call("GET", "/v1/me", key=None, headers=people.headers("citizen"), expect=200).body["sub"]
    staff_view = get(api, people, "staff", rid).body
    staff_timeline = timeline(api, people, "staff", rid)
    lists = api.call("GET", "/v1/reports", params={"limit": 100}, key=None, headers=people.headers("staff"),
                     expect=200)
    listed = next(it for it in lists.body["items"] if it["id"] == rid)
    if anonymous:
        assert "reporter" not in staff_view and "reporter" not in listed
        assert staff_timeline[0]["actor"] == "" and me not in json.dumps([staff_view, listed, staff_timeline])
    else:
        assert staff_view["reporter"] == listed["reporter"] == me and staff_timeline[0]["actor"] == me
    # The reporter and the IOC always see it; a partner key never does.
    assert get(api, people, "citizen", rid).body["reporter"] == me
    assert get(api, people, "ioc", rid).body["reporter"] == me
    assert timeline(api, people, "ioc", rid)[0]["actor"] == me
    assert "reporter" not in api.call("GET", f"/v1/reports/{rid}", expect=200).body


def inbox(api, people, role, code=STAFF_AGENCY, expect=200, **params):
    return api.call("GET", f"/v1/agencies/{code}/inbox", params=params, key=None, headers=people.headers(role),
                    expect=expect)


def test_the_inbox_holds_the_agency_s_open_reports_by_due_time_paged_and_filtered(api, people):
    mine = [report_in(api, people, state)[0] for state in ("assigned", "in_progress", "transfer_requested",
                                                           "returned")]
    done = report_in(api, people, "responded")[0]
    seen, cursor, pages = [], None, 0
    while True:
        page = inbox(api, people, "staff", limit=2, **({"cursor": cursor} if cursor else {})).body
        seen += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    ids = [r["id"] for r in seen]
    assert set(mine) <= set(ids) and done not in ids and len(ids) == len(set(ids)) and pages >= 2
    assert all(r["agency_code"] == STAFF_AGENCY for r in seen)
    assert [(r["due_at"]) for r in seen] == sorted(r["due_at"] for r in seen)
    assert {r["status"] for r in seen} <= {"assigned", "in_progress", "returned", "transfer_requested"}
    late = inbox(api, people, "staff", overdue="true", limit=100).body["items"]
    on_time = inbox(api, people, "staff", overdue="false", limit=100).body["items"]
    assert all(r["overdue"] for r in late) and not any(r["overdue"] for r in on_time)
    assert {r["id"] for r in late} | {r["id"] for r in on_time} == set(ids)
    assert set(mine) <= {r["id"] for r in on_time}  # just assigned: due in sla_hours
    # The IOC sees every inbox; other staff, citizens and partner keys do not.
    assert {r["id"] for r in inbox(api, people, "ioc", limit=100).body["items"]} == set(ids)
    inbox(api, people, "other_staff", expect=403).error("role_not_allowed")
    inbox(api, people, "citizen", expect=403).error("role_not_allowed")
    api.call("GET", f"/v1/agencies/{STAFF_AGENCY}/inbox", expect=403).error("role_not_allowed")
    inbox(api, people, "ioc", code="KHONG_CO", expect=404)
    inbox(api, people, "staff", cursor="!!", expect=400).error("validation_error", "cursor")
    inbox(api, people, "staff", overdue="co", expect=400).error("validation_error", "overdue")


def test_seeded_overdue_reports_lead_the_inbox_of_their_agency(api, people):
    # The seed's old open reports are long past their deadline.
    listed = api.call("GET", "/v1/reports", params={"limit": 100}, expect=200).body["items"]
    late = [r for r in listed if r["overdue"] and r["status"] in ("assigned", "in_progress")]
    assert late, "the seed has old assigned reports"
    agency = late[0]["agency_code"]
    items = api.call("GET", f"/v1/agencies/{agency}/inbox", params={"overdue": "true", "limit": 100}, key=None,
                     headers=people.headers("ioc"), expect=200).body["items"]
    assert {r["id"] for r in late if r["agency_code"] == agency} <= {r["id"] for r in items}
    assert all(r["overdue"] and r["agency_code"] == agency for r in items)


def comments(api, people, role, rid, expect=200):
    return api.call("GET", f"/v1/reports/{rid}/comments", key=None, headers=people.headers(role), expect=expect)


def comment(api, people, role, rid, text, expect=201, **extra):
    return api.call("POST", f"/v1/reports/{rid}/comments", json_body={"text": text, **extra}, key=None,
                    headers=people.headers(role), expect=expect)


@pytest.mark.parametrize("anonymous", [False, True])
def test_comments_between_the_reporter_and_the_agency(api, people, anonymous):
    rid, etag = report_in(api, people, "in_progress", anonymous=anonymous)
    ask = "Khi nào phường xử lý? Quán vẫn mở nhạc đến 1 giờ sáng."
    reply = "Tối nay tổ công tác của phường sẽ kiểm tra, cảm ơn anh/chị đã phản ánh."
    me = api.call("GET", "/v1/me", key=None, headers=people.headers("citizen"), expect=200).body["sub"]
    video = media_files.upload(api, media_files.mp4(), "video", key=None, headers=people.headers("citizen"))
    mine = comment(api, people, "citizen", rid, ask, attachments=[video]).body
    assert (mine["author_role"], mine["author"], mine["text"], mine["attachments"]) == ("citizen", me, ask,
                                                                                      [video])
    theirs = comment(api, people, "staff", rid, reply).body
    assert theirs["author_role"] == "agency" and theirs["author"]
    for role in ("citizen", "ioc", "staff"):
        items = comments(api, people, role, rid).body["items"]
        assert [c["text"] for c in items] == [ask, reply]
        hidden = anonymous and role == "staff"
        assert items[0]["author"] == ("" if hidden else me), role
        assert me not in json.dumps(items) if hidden else True
    raw = comments(api, people, "citizen", rid).resp.content
    assert ask.encode("utf-8") in raw and reply.encode("utf-8") in raw
    # Nobody else takes part; the version does not move.
    for role in ("other_citizen", "other_staff"):
        comments(api, people, role, rid, expect=403).error("role_not_allowed")
        comment(api, people, role, rid, "Xin chào", expect=403).error("role_not_allowed")
    api.call("GET", f"/v1/reports/{rid}/comments", expect=403).error("role_not_allowed")
    comment(api, people, "citizen", rid, "", expect=400).error("validation_error", "text")
    comment(api, people, "citizen", rid, "x", expect=400, attachments=["có dấu"]).error("validation_error",
                                                                                     "attachments[0]")
    assert get(api, people, "ioc", rid).headers["ETag"] == etag


def test_transfer_declined_by_the_ioc_stays_with_the_agency(api, people):
    rid, etag = report_in(api, people, "transfer_requested")
    before = get(api, people, "ioc", rid).body
    bad = step(api, people, "ioc", rid, "transfer-decline", {}, etag, expect=400)
    assert bad.body["error"]["field"] == "reason"
    step(api, people, "staff", rid, "transfer-decline", {"reason": "x"}, etag, expect=403).error("role_not_allowed")
    reason = "Vỉa hè thuộc phường Đông Ba quản lý, đề nghị phường tiếp tục xử lý."
    res = step(api, people, "ioc", rid, "transfer-decline", {"reason": reason}, etag)
    assert res.body["status"] == "in_progress" and res.body["agency_code"] == STAFF_AGENCY
    assert res.body["due_at"] == before["due_at"] and res.headers["ETag"] == '"5"'
    step(api, people, "ioc", rid, "transfer-decline", {"reason": reason}, res.headers["ETag"],
         expect=409).error("invalid_transition")
    items = timeline(api, people, "staff", rid)
    assert [e["status"] for e in items][-2:] == ["transfer_requested", "in_progress"]
    assert items[-1]["actor_role"] == "ioc" and items[-1]["note"] == reason
    # The agency goes on and answers.
    step(api, people, "staff", rid, "respond", {"answer": "Đã xử lý."}, res.headers["ETag"])


STATES = ["submitted", "received", "assigned", "in_progress", "responded", "returned", "resolved", "rated", "rejected",
          "duplicate", "transferred", "transfer_requested"]


def statistics(api, people, params, role="ioc", expect=200):
    return api.call("GET", "/v1/statistics/reports", key=None, params=params, headers=people.headers(role),
                    expect=expect)


def test_statistics_of_a_fresh_period_count_the_reports_made_in_it(api, people):
    import time
    start = int(time.time()) + 1
    while time.time() < start + 0.01:
        time.sleep(0.01)
    period = {"from": lifecycle.utc(datetime.fromtimestamp(start, tz=timezone.utc)),
              "to": lifecycle.utc(datetime.fromtimestamp(start + 3600, tz=timezone.utc))}
    empty = statistics(api, people, period).body
    assert empty["total"] == 0 and empty["by_state"] == {s: 0 for s in STATES} and empty["by_agency"] == []
    assert "median_handling_seconds" not in empty and "satisfaction_rate" not in empty
    made = ["submitted", "rejected", "in_progress", "transfer_requested", "resolved", "rated", "rated"]
    ids = [report_in(api, people, s)[0] for s in made]
    got = statistics(api, people, period).body
    want = {s: made.count(s) for s in STATES}
    assert got["by_state"] == want and got["total"] == len(made) and got["overdue"] == 0
    assert {a["code"]: a["count"] for a in got["by_agency"]} == {STAFF_AGENCY: 5, "UBND_PHUONG": 2}
    assert got["ratings"] == 2 and got["satisfied"] == 2 and got["satisfaction_rate"] == 1.0
    # Resolved within the test: a few seconds at most, as the timelines say.
    spans = []
    for rid in ids:
        items = timeline(api, people, "ioc", rid)
        spans += [datetime.strptime(e["at"], "%Y-%m-%dT%H:%M:%SZ") - datetime.strptime(items[0]["at"], "%Y-%m-%dT%H:%M:%SZ")
                  for e in items if e["status"] == "resolved"]
    spans = sorted(int(s.total_seconds()) for s in spans)
    assert len(spans) == 3 and got["median_handling_seconds"] == spans[1]
    ward = statistics(api, people, {**period, "agency": STAFF_AGENCY}).body
    assert ward["agency"] == STAFF_AGENCY and ward["total"] == 5 and ward["by_state"]["rejected"] == 0
    assert [a["name"] for a in ward["by_agency"]] == ["Ủy ban nhân dân phường Đông Ba"]


def test_statistics_over_the_seed_show_a_city(api, people):
    got = statistics(api, people, lifecycle.last_days(61)).body
    assert got["total"] >= 300 and set(got["by_state"]) == set(STATES)
    assert sum(got["by_state"].values()) == got["total"] == sum(a["count"] for a in got["by_agency"])
    assert got["overdue"] == sum(a["overdue"] for a in got["by_agency"]) > 0
    assert 0.5 < got["satisfaction_rate"] < 1 and got["median_handling_seconds"] > 3600
    counts = [a["count"] for a in got["by_agency"]]
    assert counts == sorted(counts, reverse=True) and len(counts) >= 8


@pytest.mark.parametrize("role,named", [("citizen", "citizen"), ("staff", "agency")])
def test_statistics_are_for_the_ioc(api, people, role, named):
    r = statistics(api, people, lifecycle.last_days(1), role=role, expect=403)
    r.error("role_not_allowed")
    assert "caller: " + named in r.body["error"]["message"]
    r = api.call("GET", "/v1/statistics/reports", params=lifecycle.last_days(1), expect=403)
    assert "partner API key" in r.body["error"]["message"]


@pytest.mark.parametrize("params,field", [
    ({"to": "2026-12-01T00:00:00Z"}, "from"),
    ({"from": "2026-12-01T00:00:00Z"}, "to"),
    ({"from": "hôm qua", "to": "2026-12-01T00:00:00Z"}, "from"),
    ({"from": "2026-02-30T00:00:00Z", "to": "2026-12-01T00:00:00Z"}, "from"),
    ({"from": "2026-12-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, "from"),
    ({"from": "2024-01-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}, "to"),
    ({"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z", "agency": "KHONG_CO"}, "agency"),
])
def test_statistics_refuse_a_bad_period_by_name(api, people, params, field):
    r = statistics(api, people, params, expect=400)
    assert r.body["error"]["code"] == "validation_error" and r.body["error"]["field"] == field
