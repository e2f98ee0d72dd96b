"""Models as Python values: frozen dataclasses generated from the spec, open enums,
datetimes, secrets masked, errors in one format."""
import copy
import dataclasses
import datetime
import pickle
import typing

import pytest

import hues
from conftest import DONG_BA, VI_ADDRESS, VI_DESCRIPTION

pytestmark = pytest.mark.timeout(10)


def test_keyword_constructor_sets_fields_and_nests_models():
    r = hues.NewReport(category="street_light", description=VI_DESCRIPTION,
                       location=hues.Location(address=VI_ADDRESS, ward="Đông Ba", **DONG_BA), media=["m1"])
    assert r.description == VI_DESCRIPTION
    assert isinstance(r.location, hues.Location)
    assert (r.location.lat, r.location.lon, r.location.ward) == (16.4726, 107.5885, "Đông Ba")
    assert r.anonymous is False and r.media == ["m1"] and r.visibility is hues.Visibility.PUBLIC
    # From the wire form, nested dicts become models.
    d = hues.NewReport.from_dict({"category": "c", "description": "d", "location": dict(DONG_BA)})
    assert isinstance(d.location, hues.Location) and d.location.address == "" and d.media == []


def test_models_are_frozen_values():
    loc = hues.Location(**DONG_BA)
    with pytest.raises(AttributeError, match="frozen"):
        loc.lat = 16.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del loc.lat  # type: ignore[misc]
    moved = dataclasses.replace(loc, lat=16.0)
    assert (moved.lat, loc.lat) == (16.0, 16.4726)
    assert dataclasses.is_dataclass(hues.Report) and dataclasses.is_dataclass(loc)
    assert not hasattr(loc, "__dict__")  # slotted
    assert hash(loc) == hash(hues.Location(**DONG_BA))
    assert {loc, hues.Location(**DONG_BA)} == {loc}


def test_unknown_keyword_and_missing_field_raise_type_error_naming_it():
    with pytest.raises(TypeError, match="lng"):
        hues.Location(lat=1.0, lng=2.0)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="lon"):
        hues.Location(lat=1.0)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="location"):
        hues.NewReport.from_dict({"category": "c", "description": "d"})
    with pytest.raises(TypeError):
        hues.Location(16.4, 107.5)  # type: ignore[misc]  # keyword-only


def test_equality_to_dict_from_dict_and_copies():
    when = datetime.datetime(2025, 3, 1, 8, 0, 0, tzinfo=datetime.timezone.utc)
    a = hues.Report(id="r1", category="street_light", description=VI_DESCRIPTION,
                    location=hues.Location(**DONG_BA), anonymous=False, status="submitted",
                    agency_code="QLDT_HUE", media=["x", "y"], created_at=when, updated_at=when,
                    version=1, due_at=when, overdue=False)
    d = a.to_dict()
    assert d["location"] == {"lat": 16.4726, "lon": 107.5885, "address": "", "ward": ""}
    assert d["media"] == ["x", "y"] and d["description"] == VI_DESCRIPTION
    assert d["created_at"] == "2025-03-01T08:00:00Z" and d["status"] == "submitted"
    b = hues.Report.from_dict(d)
    assert a == b and not (a != b)
    assert a != dataclasses.replace(b, location=dataclasses.replace(b.location, lon=100.0))
    c = copy.deepcopy(a)
    assert c == a and c is not a and c.location is not a.location
    assert pickle.loads(pickle.dumps(a)) == a
    assert a != "r1"
    with pytest.raises(TypeError):
        hash(a)  # holds a list
    assert dataclasses.asdict(a)["location"]["lat"] == 16.4726


def test_fields_follow_the_spec_with_docstrings():
    names = [f.name for f in dataclasses.fields(hues.Report)]
    assert names == ["id", "category", "description", "location", "anonymous", "visibility", "status",
                     "agency_code", "media", "created_at", "updated_at", "version", "due_at", "overdue",
                     "duplicate_of", "reporter", "answer", "rating", "possible_duplicates"]
    for cls in (hues.AttributeValue, hues.CategoryAttribute, hues.Category, hues.Location, hues.NewReport,
                hues.Report, hues.ReportQuery, hues.ReportPage, hues.ErrorBody, hues.Agency, hues.TimelineEntry):
        assert cls.__doc__ and [f.name for f in dataclasses.fields(cls)]
    hints = typing.get_type_hints(hues.Report)
    assert hints["created_at"] is datetime.datetime and hints["status"] is hues.ReportStatus
    assert hints["location"] is hues.Location
    assert typing.get_type_hints(hues.Agency)["ward"] == typing.Optional[str]
    assert "phản ánh" in hues.Report.__doc__
    assert hues.Client.__doc__ and hues.AsyncClient.__doc__ and hues.Reports.get.__doc__


def test_repr_shows_vietnamese_text():
    text = repr(hues.Location(lat=16.4698, lon=107.5786, ward="Thuận Lộc"))
    assert text == "Location(lat=16.4698, lon=107.5786, address='', ward='Thuận Lộc')"


def test_secrets_never_appear_in_repr_str_or_comparison_dumps():
    tokens = hues.TokenSet(access_token="hat_SECRET_A", refresh_token="hrt_SECRET_R", id_token="eyJ.SECRET.I",
                           scope="openid", expires_at=5)
    auth = hues.AuthorizationRequest(url="https://id/x", redirect_uri="http://127.0.0.1/cb",
                                     state="STATE_SECRET", nonce="NONCE_SECRET", code_verifier="VERIFIER_SECRET")
    device = hues.DeviceAuthorization(device_code="DEVICE_SECRET", user_code="BCDF-GHJK",
                                      verification_uri="https://id/device", verification_uri_complete="",
                                      expires_in=600, interval=5)
    opts = hues.ClientOptions(base_url="http://x", api_key="hk_live_SECRET", proxy="http://u:PW_SECRET@p:1")
    oidc_opts = hues.OidcOptions(issuer="https://id", client_id="app", client_secret="CLIENT_SECRET")
    for value in (tokens, auth, device, opts, oidc_opts, [tokens], {"t": tokens}):
        for text in (repr(value), str(value), f"{value}"):
            assert "SECRET" not in text, text
    assert "access_token='***'" in repr(tokens) and "scope='openid'" in repr(tokens)
    assert repr(hues.TokenSet()) == ("TokenSet(access_token=None, refresh_token=None, id_token=None, "
                                     "scope=None, expires_at=None)")
    # Test runners drill into compared dataclass fields: secret fields are not offered.
    assert {f.name for f in dataclasses.fields(hues.TokenSet) if f.compare} == {"scope", "expires_at"}
    # Equality still compares them.
    assert tokens != dataclasses.replace(tokens, access_token="other")


def test_open_enums_keep_unknown_values():
    s = hues.ReportStatus("escalated_to_province")
    assert isinstance(s, hues.ReportStatus) and isinstance(s, str)
    assert s == "escalated_to_province" and s.value == "escalated_to_province" and not s.known
    assert hues.ReportStatus("escalated_to_province") is s
    assert s not in list(hues.ReportStatus)  # the listed members stay the spec's
    assert str(hues.ReportStatus.IN_PROGRESS) == "in_progress" and f"{hues.ReportStatus.RATED}" == "rated"
    assert hues.ReportStatus("submitted") is hues.ReportStatus.SUBMITTED
    r = hues.TimelineEntry.from_dict({"at": "2025-01-01T00:00:00Z", "status": "new_state",
                                      "actor_role": "robot", "actor": "", "note": "", "attachments": []})
    assert r.status == "new_state" and r.actor_role == "robot"
    assert r.to_dict() == {"at": "2025-01-01T00:00:00Z", "status": "new_state", "actor_role": "robot", "actor": "",
                           "note": "", "attachments": []}


def test_datetimes_are_aware_utc():
    e = hues.TimelineEntry.from_dict({"at": "2025-01-01T07:00:00.5+07:00", "status": "submitted",
                                      "actor_role": "citizen", "actor": "", "note": "", "attachments": []})
    assert e.at == datetime.datetime(2025, 1, 1, 0, 0, 0, 500000, tzinfo=datetime.timezone.utc)
    assert e.at.tzinfo is datetime.timezone.utc
    assert e.to_dict()["at"] == "2025-01-01T00:00:00.5Z"
    naive = hues.TimelineEntry(at=datetime.datetime(2025, 1, 1), status="submitted", actor_role="citizen", actor="",
                               note="", attachments=[])
    with pytest.raises(TypeError, match="naive"):
        naive.to_dict()


def test_errors_keep_their_attributes_and_print_one_format():
    e = hues.NotFoundError("no such report", status=404, code="not_found", request_id="req_1", field="id")
    assert repr(e) == "NotFoundError: no such report (status 404, code not_found, request_id req_1, field id)"
    assert str(e) == "no such report (status 404, code not_found, request_id req_1, field id)"
    assert repr(hues.CancelledError("call cancelled")) == "CancelledError: call cancelled"
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is hues.NotFoundError
    assert (back.status, back.code, back.request_id, back.field) == (404, "not_found", "req_1", "id")
    assert hues.RateLimitError("slow down").retryable and not hues.NotFoundError("x").retryable
    assert issubclass(hues.HuesTimeoutError, TimeoutError) and hues.HuesTimeoutError is hues.TimeoutError
    assert issubclass(hues.HuesConnectionError, ConnectionError)
    assert issubclass(hues.TlsError, hues.TransportError)
    assert issubclass(hues.NotFoundError, hues.ApiError) and hues.HuesError is hues.Error
    assert hues.NotFoundError.__module__ == "hues"


def test_error_json_maps_by_type_then_status():
    from hues._generated.errors import error_from_json
    assert type(error_from_json(b'{"type":"not_found","message":"m","status":404}')) is hues.NotFoundError
    # An unknown type from a newer core: by status, then ApiError / Error.
    assert type(error_from_json(b'{"type":"teapot","message":"m","status":429}')) is hues.RateLimitError
    assert type(error_from_json(b'{"type":"teapot","message":"m","status":418}')) is hues.ApiError
    assert type(error_from_json(b'{"type":"teapot","message":"m","status":0}')) is hues.Error


def test_star_import_does_not_shadow_builtins():
    ns: dict = {}
    exec("from hues import *", ns)
    assert "TimeoutError" not in ns and "ConnectionError" not in ns
    assert "Client" in ns and "AsyncClient" in ns and "Report" in ns
