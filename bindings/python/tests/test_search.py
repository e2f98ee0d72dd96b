"""Search for reports and duplicate hints through the generated SDK, against the in-process
sandbox over real sockets. Each test filters on a marker word of its own, so seeded reports
change nothing."""
import datetime
import uuid

import pytest

import hues

pytestmark = pytest.mark.timeout(60)

PER_M = 1 / 111195.0  # degrees of latitude per metre


def marker() -> str:
    return "mk" + uuid.uuid4().hex[:12]


def create(client, category, text, lat=16.4726, lon=107.5885):
    return client.reports.create(category=category, description=text,
                                 location=hues.Location(lat=lat, lon=lon, ward="Đông Ba"))


def test_search_den_duong_hong_auto_pages_and_filters(client):
    m = marker()
    lights = {create(client, cat, f"Đèn đường hỏng {m}").id for cat in ("street_light", "power_outage", "flooding")}
    other = create(client, "street_light", f"Đèn trang trí tắt {m}").id

    pager = client.reports.list(q=f"den duong hong {m}", limit=1)
    found = [r for r in pager]
    assert {r.id for r in found} == lights and len(found) == 3  # three pages, each report once
    assert all(r.description == f"Đèn đường hỏng {m}" for r in found)  # byte for byte
    assert {r.id for r in client.reports.list(q=f"DUONG {m}")} == lights
    assert {r.id for r in client.reports.list(q=f"đèn {m}", category="street_light")} == {other} | (
        lights & {r.id for r in client.reports.list(q=m, category="street_light")})
    assert {r.id for r in client.reports.list(hues.ReportQuery(q=f"den {m}", ward="Đông Ba", agency="PC_TTH"))} == {
        r.id for r in found if r.category == "power_outage"}
    # A period: everything created from an hour ago, nothing before.
    hour_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    assert {r.id for r in client.reports.list(q=m, created_from=hour_ago)} == lights | {other}
    assert not list(client.reports.list(q=m, created_to=hour_ago))


def test_sort_by_due_pages_in_deadline_order(client):
    m = marker()
    made = [create(client, cat, f"Báo cáo {i} {m}") for i, cat in
            enumerate(["street_light", "power_outage", "flooding", "street_light", "power_outage"])]
    order = {r.id: i for i, r in enumerate(made)}
    due = list(client.reports.list(q=m, sort=hues.ReportSort.DUE, limit=2))
    assert sorted(order) == sorted(r.id for r in due)
    assert [(r.due_at, order[r.id]) for r in due] == sorted((r.due_at, order[r.id]) for r in due)
    newest = [r.id for r in client.reports.list(q=m, sort="newest", limit=2)]
    assert newest == [r.id for r in reversed(made)]


def test_bad_values_name_the_parameter(client):
    with pytest.raises(hues.ValidationError) as err:
        client.reports.list_page(sort="oldest")
    assert err.value.field == "sort"
    with pytest.raises(hues.ValidationError) as err:
        client.reports.list_page(agency="NO_SUCH_AGENCY")
    assert err.value.field == "agency" and err.value.status == 400
    with pytest.raises(hues.ValidationError) as err:
        client.reports.list_page(q="***")
    assert err.value.field == "q" and err.value.status == 400


def test_duplicate_hints(client):
    m = marker()
    lat, lon = 16.587, 107.717  # away from the seed
    first = create(client, "road_damage", f"Ổ gà sâu trên đường Lê Lợi {m}", lat, lon)
    assert first.possible_duplicates == []
    second = create(client, "road_damage", f"Hố ga mất nắp {m}", lat + 30 * PER_M, lon)
    assert [h.id for h in second.possible_duplicates] == [first.id]
    create(client, "road_damage", f"Xa hơn {m}", lat + 80 * PER_M, lon)
    create(client, "noise", f"Ồn ào {m}", lat, lon)

    hints = client.reports.duplicates(category="road_damage", lat=lat + 10 * PER_M, lon=lon)
    assert [h.id for h in hints] == [first.id, second.id]
    assert all(isinstance(h, hues.DuplicateHint) for h in hints)
    assert hints[0].distance_m == pytest.approx(10, abs=0.3)
    assert hints[1].distance_m == pytest.approx(20, abs=0.3)
    assert hints[0].description == f"Ổ gà sâu trên đường Lê Lợi {m}"
    assert hints[0].status is hues.ReportStatus.SUBMITTED
    assert client.reports.get(second.id).possible_duplicates is None
    with pytest.raises(hues.ValidationError) as err:
        client.reports.duplicates(lat=lat, lon=lon)
    assert err.value.field == "category"
