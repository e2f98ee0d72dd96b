"""Reports and agencies against the in-process sandbox over real sockets."""
import dataclasses
import datetime
import random
import unicodedata
import uuid

import pytest

import hues
from conftest import DONG_BA, VI_ADDRESS, VI_DESCRIPTION

pytestmark = pytest.mark.timeout(60)


def test_categories_have_vietnamese_names(client):
    cats = client.reports.categories()
    assert cats and all(isinstance(c, hues.Category) for c in cats)
    assert len({c.code for c in cats}) == len(cats)
    for c in cats:
        assert c.code and c.name_vi and c.agency_code and c.sla_hours > 0
        assert unicodedata.is_normalized("NFC", c.name_vi)
    # Vietnamese names carry diacritics, i.e. text beyond ASCII survives the trip.
    assert any(not c.name_vi.isascii() for c in cats)


def test_create_get_list_round_trip_vietnamese(client, category):
    loc = hues.Location(address=VI_ADDRESS, ward="Đông Ba", **DONG_BA)
    created = client.reports.create(category=category, description=VI_DESCRIPTION, location=loc)
    assert created.id and created.status == "submitted"
    assert created.status is hues.ReportStatus.SUBMITTED
    assert created.description == VI_DESCRIPTION
    assert created.description.encode("utf-8") == VI_DESCRIPTION.encode("utf-8")
    assert unicodedata.is_normalized("NFC", created.description)
    assert (created.location.address, created.location.ward) == (VI_ADDRESS, "Đông Ba")
    assert (created.location.lat, created.location.lon) == (DONG_BA["lat"], DONG_BA["lon"])
    assert created.category == category
    # Timestamps are aware datetimes in UTC, close to now.
    assert isinstance(created.created_at, datetime.datetime)
    assert created.created_at.tzinfo is datetime.timezone.utc
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - created.created_at).total_seconds()) < 300

    fetched = client.reports.get(created.id)
    # Only the create response carries the duplicate hints; otherwise the same value.
    assert isinstance(created.possible_duplicates, list) and fetched.possible_duplicates is None
    assert fetched == dataclasses.replace(created, possible_duplicates=None)

    listed = [r for r in client.reports.list(category=category, limit=100) if r.id == created.id]
    assert listed == [fetched]


def test_text_is_carried_byte_for_byte_not_renormalised(client, category):
    nfd = unicodedata.normalize("NFD", "Ngập nước ở Đập Đá, cầu Trường Tiền")
    assert not unicodedata.is_normalized("NFC", nfd)
    created = client.reports.create(hues.NewReport(category=category, description=nfd,
                                                   location=hues.Location(**DONG_BA)))
    assert client.reports.get(created.id).description == nfd


def test_numbers_round_trip_exactly(client, category):
    rng = random.Random(6)
    for _ in range(20):
        lat, lon = rng.uniform(-90, 90), rng.uniform(-180, 180)
        created = client.reports.create(category=category, description="Tọa độ ngẫu nhiên",
                                        location=hues.Location(lat=lat, lon=lon))
        got = client.reports.get(created.id).location
        assert (got.lat, got.lon) == (lat, lon), (repr(lat), repr(lon), repr(got.lat), repr(got.lon))


def test_create_accepts_a_new_report_a_dict_or_keywords(client, category):
    body = {"category": category, "description": "Rác chưa thu gom ở Vỹ Dạ",
            "location": {"lat": 16.4705, "lon": 107.6010, "ward": "Vỹ Dạ"}}
    a = client.reports.create(hues.NewReport.from_dict(body))
    b = client.reports.create(body)
    c = client.reports.create(category=category, description=body["description"],
                              location=hues.Location(lat=16.4705, lon=107.6010, ward="Vỹ Dạ"))
    assert len({a.id, b.id, c.id}) == 3 and a.location.ward == b.location.ward == c.location.ward == "Vỹ Dạ"
    with pytest.raises(TypeError):
        client.reports.create(body, category=category)
    with pytest.raises(TypeError, match="descripton"):  # a typo is refused, not dropped
        client.reports.create(category=category, descripton="x", location=hues.Location(**DONG_BA))


def test_idempotency_key_makes_a_retried_create_return_the_first_report(client, category):
    key = f"py-{uuid.uuid4()}"
    body = hues.NewReport(category=category, description="Cây đổ trên đường Lê Lợi",
                          location=hues.Location(lat=16.4637, lon=107.5909))
    first = client.reports.create(body, idempotency_key=key)
    again = client.reports.create(body, idempotency_key=key)
    assert again.id == first.id
    changed = dataclasses.replace(body, description="Cây đổ trên đường Hùng Vương")
    with pytest.raises(hues.ConflictError) as err:
        client.reports.create(changed, idempotency_key=key)
    assert err.value.status == 409 and err.value.code == "idempotency_key_reused"


def test_wrong_api_key_raises_authentication_error(sandbox):
    with sandbox.client(api_key="hk_test_wrong_key_0000") as bad:
        with pytest.raises(hues.AuthenticationError) as err:
            bad.reports.categories()
    e = err.value
    assert isinstance(e, hues.ApiError) and isinstance(e, hues.Error)
    assert e.status == 401 and e.http_status == 401 and e.code == "invalid_api_key"
    assert e.request_id and not e.retryable
    assert "hk_test_wrong_key_0000" not in str(e) and "hk_test_wrong_key_0000" not in repr(e)
    assert repr(e).startswith("AuthenticationError: ") and "(status 401, code invalid_api_key, request_id " in repr(e)


def test_validation_error_names_the_field(client, category):
    with pytest.raises(hues.ValidationError) as err:
        client.reports.create(category=category, description=VI_DESCRIPTION,
                              location=hues.Location(lat=123.0, lon=107.59))
    # The SDK checks ranges before sending (status 0); the server would answer 400.
    assert err.value.field == "location.lat" and err.value.code == "validation_error"
    assert err.value.status in (0, 400)
    with pytest.raises(hues.ValidationError) as err:
        client.reports.create(category="no_such_category", description=VI_DESCRIPTION,
                              location=hues.Location(**DONG_BA))
    assert err.value.field == "category"


def test_a_report_without_location_is_refused_not_stored_at_zero(client, category):
    with pytest.raises(hues.ValidationError) as err:
        client.reports.create({"category": category, "description": VI_DESCRIPTION})
    assert err.value.field.startswith("location")
    with pytest.raises(TypeError, match="location"):  # the typed form cannot even say it
        client.reports.create(category=category, description=VI_DESCRIPTION)  # type: ignore[call-overload]


def test_unknown_report_raises_not_found(client):
    with pytest.raises(hues.NotFoundError) as err:
        client.reports.get("does-not-exist")
    assert err.value.status == 404 and err.value.code == "not_found"


def test_auto_paging_walks_every_page_without_duplicates(client, category):
    mine = {client.reports.create(category=category, description=f"Ổ gà số {i} trên đường Tố Hữu",
                                  location=hues.Location(lat=16.455 + i / 1000, lon=107.6)).id
            for i in range(5)}
    pager = client.reports.list(category=category, limit=2)
    ids = [r.id for r in pager]
    assert len(ids) == len(set(ids)), "a report came twice"
    assert mine <= set(ids)
    assert pager.pages_fetched >= 3 and pager.pages_fetched >= len(ids) / 2
    with pytest.raises(StopIteration):
        next(pager)

    # The same walk by hand with cursors gives the same reports in the same order.
    by_hand, cursor = [], None
    while True:
        page = client.reports.list_page(category=category, limit=2, cursor=cursor)
        assert isinstance(page, hues.ReportPage) and len(page.items) <= 2
        by_hand += [r.id for r in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert by_hand == ids
    # The query model works as well as keywords.
    assert [r.id for r in client.reports.list(hues.ReportQuery(category=category, limit=2))] == ids
    with pytest.raises(TypeError):
        client.reports.list(hues.ReportQuery(limit=2), category=category)


def test_filters_are_typed_keywords(client):
    with pytest.raises(TypeError, match="near_lt"):
        client.reports.list(near_lt=16.0)  # type: ignore[call-arg]
    for r in client.reports.list(status=hues.ReportStatus.SUBMITTED, limit=5):
        assert r.status is hues.ReportStatus.SUBMITTED
        break


def test_bad_list_parameter_is_a_validation_error(client):
    with pytest.raises(hues.ValidationError) as err:
        client.reports.list_page(limit=1000)
    assert err.value.field == "limit"


def test_timeline_starts_with_the_submission(client, category):
    created = client.reports.create(category=category, description=VI_DESCRIPTION,
                                    location=hues.Location(**DONG_BA))
    steps = client.reports.timeline(created.id)
    assert steps and all(isinstance(s, hues.TimelineEntry) for s in steps)
    first = steps[0]
    assert first.status is hues.ReportStatus.SUBMITTED and first.actor_role is hues.ActorRole.CITIZEN
    assert first.at.tzinfo is datetime.timezone.utc
    assert abs((first.at - created.created_at).total_seconds()) < 5
    assert [s.at for s in steps] == sorted(s.at for s in steps)
    with pytest.raises(hues.NotFoundError):
        client.reports.timeline("does-not-exist")


def test_agencies_are_paged_and_filtered(client):
    everyone = list(client.agencies.list(limit=100))
    assert everyone and all(isinstance(a, hues.Agency) for a in everyone)
    codes = [a.code for a in everyone]
    assert len(codes) == len(set(codes))
    assert any(not a.name_vi.isascii() for a in everyone)  # Huế's agencies, in Vietnamese
    pager = client.agencies.list(limit=2)
    assert [a.code for a in pager] == codes and pager.pages_fetched >= len(codes) / 2
    # Every category names an agency that the list knows.
    assert {c.agency_code for c in client.reports.categories()} <= set(codes)
    wards = list(client.agencies.list(kind=hues.AgencyKind.WARD))
    assert all(a.kind is hues.AgencyKind.WARD for a in wards)
    assert {a.code for a in wards} == {a.code for a in everyone if a.kind == "ward"}
    with pytest.raises(hues.ValidationError) as err:
        client.agencies.list_page(limit=0)
    assert err.value.field == "limit"


def test_absent_optional_is_none_and_zero_or_empty_is_kept():
    # Agency.ward is optional: absent on the wire is None, "" stays "".
    base = {"code": "A", "name_vi": "Á", "name_en": "A", "kind": "ward", "phone": ""}
    assert hues.Agency.from_dict(base).ward is None
    assert hues.Agency.from_dict(dict(base, ward="")).ward == ""
    assert "ward" not in hues.Agency.from_dict(base).to_dict()
    # IdTokenClaims.nbf is an optional number: absent is None, 0 is 0.
    claims = {"iss": "i", "sub": "s", "aud": "a", "exp": 1, "iat": 1}
    assert hues.IdTokenClaims.from_dict(claims).nbf is None
    assert hues.IdTokenClaims.from_dict(dict(claims, nbf=0)).nbf == 0
    assert hues.IdTokenClaims.from_dict(dict(claims, nbf=0)).to_dict()["nbf"] == 0
    # A field with a default takes it when absent.
    loc = hues.Location.from_dict({"lat": 0.0, "lon": 0.0})
    assert (loc.lat, loc.lon, loc.address) == (0.0, 0.0, "")


def test_agency_ward_absent_vs_present_from_the_sandbox(client):
    agencies = list(client.agencies.list(limit=100))
    # Ward committees carry their ward; city departments have none (absent, not "").
    assert any(a.kind is hues.AgencyKind.WARD and a.ward for a in agencies)
    assert any(a.kind is not hues.AgencyKind.WARD and a.ward is None for a in agencies)


def test_an_unknown_enum_value_from_a_newer_server_decodes(newer_server):
    url, routes = newer_server
    report = {"id": "rpt_1", "category": "street_light", "description": VI_DESCRIPTION,
              "location": {"lat": 16.4726, "lon": 107.5885, "address": "", "ward": ""},
              "anonymous": False, "visibility": "public", "status": "escalated_to_province",
              "agency_code": "QLDT_HUE", "media": [], "created_at": "2025-03-01T08:00:00.123456789Z",
              "updated_at": "2025-03-01T09:30:00Z", "version": 2, "due_at": "2025-03-03T08:00:00Z",
              "overdue": False, "added_later": {"x": 1}}
    routes["GET /v1/reports/rpt_1"] = report
    with hues.Client(base_url=url, api_key="hk_test_x", timeout=10) as c:
        got = c.reports.get("rpt_1")
    assert isinstance(got.status, hues.ReportStatus) and got.status == "escalated_to_province"
    assert not got.status.known and hues.ReportStatus.SUBMITTED.known
    assert got.status.value == "escalated_to_province"
    assert got.to_dict()["status"] == "escalated_to_province"  # re-encoded unchanged
    assert got.created_at == datetime.datetime(2025, 3, 1, 8, 0, 0, 123456, tzinfo=datetime.timezone.utc)
    assert got.description == VI_DESCRIPTION
