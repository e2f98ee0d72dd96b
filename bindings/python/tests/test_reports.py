"""Reports against the in-process sandbox over real sockets."""
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
    assert created.description == VI_DESCRIPTION
    assert created.description.encode("utf-8") == VI_DESCRIPTION.encode("utf-8")
    assert unicodedata.is_normalized("NFC", created.description)
    assert (created.location.address, created.location.ward) == (VI_ADDRESS, "Đông Ba")
    assert (created.location.lat, created.location.lon) == (DONG_BA["lat"], DONG_BA["lon"])
    assert created.category == category and created.created_at.endswith("Z")

    fetched = client.reports.get(created.id)
    assert fetched == created

    listed = [r for r in client.reports.list(category=category, limit=100) if r.id == created.id]
    assert listed == [created]


def test_text_is_carried_byte_for_byte_not_renormalised(client, category):
    nfd = unicodedata.normalize("NFD", "Ngập nước ở Đập Đá, cầu Trường Tiền")
    assert not unicodedata.is_normalized("NFC", nfd)
    created = client.reports.create(hues.NewReport(category=category, description=nfd,
                                                   location=hues.Location(**DONG_BA)))
    assert client.reports.get(created.id).description == nfd


def test_create_accepts_a_new_report_or_a_dict(client, category):
    body = {"category": category, "description": "Rác chưa thu gom ở Vỹ Dạ",
            "location": {"lat": 16.4705, "lon": 107.6010, "ward": "Vỹ Dạ"}}
    a = client.reports.create(hues.NewReport.from_dict(body))
    b = client.reports.create(body)
    assert a.id != b.id and a.location.ward == b.location.ward == "Vỹ Dạ"
    with pytest.raises(TypeError):
        client.reports.create(body, category=category)


def test_idempotency_key_makes_a_retried_create_return_the_first_report(client, category):
    key = f"py-{uuid.uuid4()}"
    body = hues.NewReport(category=category, description="Cây đổ trên đường Lê Lợi",
                          location=hues.Location(lat=16.4637, lon=107.5909))
    first = client.reports.create(body, idempotency_key=key)
    again = client.reports.create(body, idempotency_key=key)
    assert again.id == first.id
    body.description = "Cây đổ trên đường Hùng Vương"
    with pytest.raises(hues.ConflictError) as err:
        client.reports.create(body, idempotency_key=key)
    assert err.value.http_status == 409 and err.value.code == "idempotency_key_reused"


def test_wrong_api_key_raises_authentication_error(sandbox):
    with sandbox.client(api_key="hk_test_wrong_key_0000") as bad:
        with pytest.raises(hues.AuthenticationError) as err:
            bad.reports.categories()
    e = err.value
    assert isinstance(e, hues.ApiError) and isinstance(e, hues.HuesError)
    assert e.http_status == 401 and e.code == "invalid_api_key"
    assert e.request_id and not e.retryable
    assert "hk_test_wrong_key_0000" not in str(e)


def test_validation_error_names_the_field(client, category):
    with pytest.raises(hues.ValidationError) as err:
        client.reports.create(category=category, description=VI_DESCRIPTION,
                              location=hues.Location(lat=123.0, lon=107.59))
    # The SDK checks ranges before sending (status 0); the server would answer 400.
    assert err.value.field == "location.lat" and err.value.code == "validation_error"
    assert err.value.http_status in (0, 400)
    with pytest.raises(hues.ValidationError) as err:
        client.reports.create(category="no_such_category", description=VI_DESCRIPTION,
                              location=hues.Location(**DONG_BA))
    assert err.value.field == "category"


def test_unknown_report_raises_not_found(client):
    with pytest.raises(hues.NotFoundError) as err:
        client.reports.get("does-not-exist")
    assert err.value.http_status == 404 and err.value.code == "not_found"


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
    by_hand, cursor = [], ""
    while True:
        page = client.reports.list_page(category=category, limit=2, cursor=cursor)
        assert len(page.items) <= 2
        by_hand += [r.id for r in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert by_hand == ids


def test_bad_list_parameter_is_a_validation_error(client):
    with pytest.raises(hues.ValidationError) as err:
        client.reports.list_page(limit=1000)
    assert err.value.field == "limit"
