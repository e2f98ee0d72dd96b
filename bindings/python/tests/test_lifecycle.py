"""The seed's story (issue 8) with three roles, each signed in through the sandbox's
identity provider: the agency answers a public-order report without the violation record,
the IOC returns it, the agency answers again with the record attached, the IOC approves,
the report is published and the citizen rates it."""
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import hues
from test_identity import Browser, DictStore, oidc_for, sign_in_with_pkce, user_client
from tus_upload import jpeg, pdf, upload

pytestmark = pytest.mark.timeout(120)

TEXT = "Quán nhậu lấn chiếm vỉa hè, mở nhạc lớn sau 22 giờ — đường Trần Hưng Đạo, phường Đông Ba"
FIRST = "Công an phường đã lập biên bản vi phạm hành chính đối với chủ quán."
REASON = "Đề nghị bổ sung biên bản vi phạm hành chính đã lập."
SECOND = "Gửi kèm biên bản vi phạm hành chính số 12/BB-VPHC."


def etag(report):
    return f'"{report.version}"'


def signer(sandbox):
    """signed_in(username): a client for username, signed in through the sandbox's provider."""
    oidc = oidc_for(sandbox, "hues-demo-app")

    def signed_in(username):
        tokens = sign_in_with_pkce(sandbox, Browser(sandbox.ca_file), oidc, username)
        return user_client(sandbox, hues.UserCredentials(oidc, DictStore(), key=username, tokens=tokens))

    return signed_in


def test_the_seed_story_with_three_roles(sandbox):
    signed_in = signer(sandbox)
    citizen, ioc, staff = signed_in("nguyen.van.an"), signed_in("le.ioc"), signed_in("dongba.staff")
    r = citizen.reports.create(category="urban_order", description=TEXT,
                               location=hues.Location(lat=16.4726, lon=107.5885,
                                                      address="Chợ Đông Ba, đường Trần Hưng Đạo", ward="Đông Ba"))
    assert (r.status, r.version, r.description) == ("submitted", 1, TEXT)
    r = ioc.reports.receive(r.id, etag(r))
    r = ioc.reports.assign(r.id, etag(r), agency_code="UBND_DONG_BA", note="Chuyển UBND phường Đông Ba")
    r = staff.reports.accept(r.id, etag(r))
    inbox = list(staff.agencies.inbox("UBND_DONG_BA", limit=2))  # the generated pager follows next_cursor
    assert [x.id for x in inbox].count(r.id) == 1
    assert [x.due_at for x in inbox] == sorted(x.due_at for x in inbox)
    assert r.id not in [x.id for x in staff.agencies.inbox("UBND_DONG_BA", overdue=True)]  # just assigned
    r = staff.reports.respond(r.id, etag(r), answer=FIRST)
    ask = "Khi nào phường xử lý? Quán vẫn mở nhạc đến 1 giờ sáng."
    citizen.reports.add_comment(r.id, text=ask)
    # Attachments are media objects of the caller's, uploaded with the staff member's token.
    staff_token = sign_in_with_pkce(sandbox, Browser(sandbox.ca_file), oidc_for(sandbox, "hues-demo-app"),
                                    "dongba.staff").access_token
    photo = upload(sandbox, jpeg(80, 60), access_token=staff_token)
    record = upload(sandbox, pdf("Biên bản 12/BB-VPHC"), "document", access_token=staff_token)
    staff.reports.add_comment(r.id, hues.NewComment(text="Tổ công tác sẽ kiểm tra tối nay.", attachments=[photo]))
    talk = staff.reports.comments(r.id)
    assert [(c.author_role, c.text) for c in talk] == [("citizen", ask), ("agency", "Tổ công tác sẽ kiểm tra tối nay.")]
    assert talk[0].author == citizen.me().sub and talk[1].attachments == [photo]  # not anonymous: shown
    r = ioc.reports.return_to_agency(r.id, etag(r), reason=REASON)
    assert r.status == "returned"
    r = staff.reports.respond(r.id, etag(r), hues.AgencyAnswer(answer=SECOND, attachments=[record]))

    with pytest.raises(hues.PermissionDeniedError) as denied:
        citizen.reports.approve(r.id, etag(r))
    assert denied.value.code == "role_not_allowed"
    with pytest.raises(hues.ConflictError) as stale:
        ioc.reports.approve(r.id, '"1"')
    assert (stale.value.status, stale.value.code) == (412, "precondition_failed")
    assert isinstance(stale.value, hues.PreconditionFailedError)
    assert (stale.value.current.status, stale.value.current.version) == ("responded", r.version)
    with pytest.raises(hues.ValidationError) as bad:  # refused by the SDK before sending
        ioc.reports.approve(r.id, etag(r), attachments=["có dấu"])
    assert bad.value.field == "attachments[0]"

    r = ioc.reports.approve(r.id, etag(r), note="Công khai kết quả")
    assert (r.status, r.answer) == ("resolved", SECOND)
    r = citizen.reports.rate(r.id, satisfied=True, comment="Xử lý nhanh, cảm ơn!")
    assert r.status == "rated" and r.rating.satisfied and r.rating.comment == "Xử lý nhanh, cảm ơn!"
    with pytest.raises(hues.ConflictError) as twice:
        citizen.reports.rate(r.id, satisfied=False)
    assert (twice.value.status, twice.value.code) == (409, "invalid_transition")

    timeline = citizen.reports.timeline(r.id)
    assert [e.status for e in timeline] == ["submitted", "received", "assigned", "in_progress", "responded",
                                            "returned", "responded", "resolved", "rated"]
    assert [e.actor_role for e in timeline] == ["citizen", "ioc", "ioc", "agency", "agency", "ioc", "agency",
                                                "ioc", "citizen"]
    assert [timeline[i].note for i in (4, 5, 6)] == [FIRST, REASON, SECOND]
    assert timeline[6].attachments == [record] and timeline[2].agency_code == "UBND_DONG_BA"
    assert (timeline[0].actor, timeline[1].actor, timeline[3].actor) == (
        citizen.me().sub, ioc.me().sub, staff.me().sub)


def test_two_operators_race_one_step_the_loser_gets_the_winners_report(sandbox):
    """Two IOC operators take one report in with one ETag: exactly one wins; the loser's
    PreconditionFailedError (a ConflictError) holds the report as the winner left it, and its
    version is the ETag the loser decides again with."""
    signed_in = signer(sandbox)
    citizen, le, tran = signed_in("nguyen.van.an"), signed_in("le.ioc"), signed_in("tran.ioc")
    text = "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo"
    created = citizen.reports.create(category="street_light", description=text,
                                     location=hues.Location(lat=16.4726, lon=107.5885, ward="Đông Ba"))
    barrier = threading.Barrier(2)

    def take_in(client, note):
        barrier.wait()
        try:
            return client.reports.receive(created.id, etag(created), note=note)
        except hues.ConflictError as e:  # the subclass is caught by its base
            return e

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(take_in, (le, tran), ("Lê nhận", "Trần nhận")))
    won = [x for x in results if isinstance(x, hues.Report)]
    lost = [x for x in results if isinstance(x, hues.Error)]
    assert len(won) == 1 and len(lost) == 1, results
    won, lost = won[0], lost[0]
    loser = (le, tran)[results.index(lost)]
    assert type(lost) is hues.PreconditionFailedError
    assert (lost.status, lost.code, lost.type) == (412, "precondition_failed", "precondition_failed")
    assert (won.status, won.version) == ("received", created.version + 1)
    current = lost.current
    assert isinstance(current, hues.Report)
    assert (current.id, current.status, current.version, current.description) == (
        created.id, "received", won.version, text)
    assert lost.current is current  # decoded once
    # The printed forms stay one short line: no report in them.
    assert text not in str(lost) and text not in repr(lost) and len(repr(lost)) < 200
    assert repr(lost).startswith("PreconditionFailedError: ")
    # Pickled (a process pool, say) it keeps its current report.
    again = pickle.loads(pickle.dumps(lost))
    assert type(again) is hues.PreconditionFailedError and again.current == current
    # The loser decides again from what it was handed, without another read.
    r = loser.reports.assign(created.id, etag(current), agency_code="UBND_DONG_BA", note="Chuyển UBND phường Đông Ba")
    assert (r.status, r.version) == ("assigned", won.version + 1)
    # A 412 that carried no report (a proxy's) is still the class, with current None.
    assert hues.PreconditionFailedError("HTTP 412", status=412).current is None


def test_an_anonymous_report_hides_the_reporter_from_the_agency(sandbox):
    """Citizen and agency talk about an anonymous report; the agency never sees who reported
    it: not in the report, its inbox, its comments, its timeline, nor a 412's current report."""
    signed_in = signer(sandbox)
    citizen, ioc, staff = signed_in("nguyen.van.an"), signed_in("le.ioc"), signed_in("dongba.staff")
    sub = citizen.me().sub
    r = citizen.reports.create(category="urban_order", description=TEXT, anonymous=True,
                               location=hues.Location(lat=16.4726, lon=107.5885, ward="Đông Ba"))
    assert r.anonymous and r.reporter == sub  # the reporter sees their own
    r = ioc.reports.receive(r.id, etag(r))
    assert r.reporter == sub  # and so does the IOC
    r = ioc.reports.assign(r.id, etag(r), agency_code="UBND_DONG_BA")
    r = staff.reports.accept(r.id, etag(r))
    assert r.reporter is None
    ask, reply = "Tôi không muốn lộ danh tính, mong phường xử lý sớm.", "Phường đã ghi nhận, sẽ kiểm tra trong tuần."
    citizen.reports.add_comment(r.id, text=ask)
    staff.reports.add_comment(r.id, text=reply)
    seen = staff.reports.comments(r.id)
    assert [(c.author_role, c.author, c.text) for c in seen] == [("citizen", "", ask), ("agency", staff.me().sub, reply)]
    assert citizen.reports.comments(r.id)[0].author == sub  # the reporter still sees it
    assert staff.reports.get(r.id).reporter is None
    assert [x.reporter for x in staff.agencies.inbox("UBND_DONG_BA") if x.id == r.id] == [None]
    assert sub not in [e.actor for e in staff.reports.timeline(r.id)]
    assert citizen.reports.timeline(r.id)[0].actor == sub
    with pytest.raises(hues.PreconditionFailedError) as stale:
        staff.reports.respond(r.id, '"1"', answer=reply)
    assert stale.value.current.status == "in_progress" and stale.value.current.reporter is None
    assert TEXT not in repr(stale.value)


def test_the_ioc_declines_a_transfer_and_counts_a_fresh_period(sandbox):
    import datetime as dt
    import time

    signed_in = signer(sandbox)
    citizen, ioc, staff = signed_in("tran.thi.binh"), signed_in("tran.ioc"), signed_in("dongba.staff")
    start = int(time.time()) + 1  # the next whole second: what came before is outside the period
    while time.time() < start + 0.01:
        time.sleep(0.01)
    period = dict(from_=dt.datetime.fromtimestamp(start, dt.timezone.utc),
                  to=dt.datetime.fromtimestamp(start + 3600, dt.timezone.utc), agency="UBND_DONG_BA")
    none = ioc.statistics.report_statistics(**period)
    assert (none.total, none.by_agency, none.median_handling_seconds, none.satisfaction_rate) == (0, [], None, None)

    def routed():
        r = citizen.reports.create(category="urban_order", description="Quán cà phê bày bàn ghế kín vỉa hè đường Chi Lăng",
                                   location=hues.Location(lat=16.4745, lon=107.5902, address="Đường Chi Lăng",
                                                          ward="Gia Hội"))
        r = ioc.reports.receive(r.id, etag(r))
        return ioc.reports.assign(r.id, etag(r), agency_code="UBND_DONG_BA")

    kept = routed()
    kept = staff.reports.request_transfer(kept.id, etag(kept), reason="Địa bàn phường Gia Hội, đề nghị chuyển")
    with pytest.raises(hues.PermissionDeniedError):
        staff.reports.decline_transfer(kept.id, etag(kept), reason="x")
    with pytest.raises(hues.ValidationError) as bad:
        ioc.reports.decline_transfer(kept.id, etag(kept), reason="")
    assert bad.value.field == "reason"
    reason = "Phường Đông Ba đang chủ trì đợt ra quân, đề nghị tiếp tục xử lý."
    kept = ioc.reports.decline_transfer(kept.id, etag(kept), reason=reason)
    assert (kept.status, kept.agency_code) == ("in_progress", "UBND_DONG_BA")
    last = staff.reports.timeline(kept.id)[-1]
    assert (last.status, last.actor_role, last.note, last.actor) == ("in_progress", "ioc", reason, ioc.me().sub)

    done = routed()
    done = staff.reports.accept(done.id, etag(done))
    done = staff.reports.respond(done.id, etag(done), answer="Đã yêu cầu thu dọn bàn ghế.")
    done = ioc.reports.approve(done.id, etag(done))
    done = citizen.reports.rate(done.id, satisfied=True, comment="Vỉa hè đã thông thoáng.")

    s = ioc.statistics.report_statistics(**period)
    assert (s.total, s.by_state.in_progress, s.by_state.rated, s.by_state.submitted) == (2, 1, 1, 0)
    assert [(a.code, a.name, a.count, a.overdue) for a in s.by_agency] == [
        ("UBND_DONG_BA", "Ủy ban nhân dân phường Đông Ba", 2, 0)]
    assert (s.ratings, s.satisfied, s.satisfaction_rate, s.overdue, s.agency) == (1, 1, 1.0, 0, "UBND_DONG_BA")
    timeline = ioc.reports.timeline(done.id)
    assert s.median_handling_seconds == int((timeline[-2].at - timeline[0].at).total_seconds())

    with pytest.raises(hues.PermissionDeniedError) as denied:
        citizen.statistics.report_statistics(**period)
    assert denied.value.code == "role_not_allowed"
    with pytest.raises(hues.ValidationError) as reversed_:
        ioc.statistics.report_statistics(from_=period["to"], to=period["from_"])
    assert (reversed_.value.status, reversed_.value.field) == (400, "from")
