"""Models as Python values: keyword construction, strict types, equality, dicts, repr."""
import copy
import pickle

import pytest

import hues
from conftest import DONG_BA, VI_ADDRESS, VI_DESCRIPTION

pytestmark = pytest.mark.timeout(10)


def test_keyword_constructor_sets_fields_and_nests_models():
    r = hues.NewReport(category="street_light", description=VI_DESCRIPTION,
                       location=dict(DONG_BA, address=VI_ADDRESS, ward="Đông Ba"), media=["m1"])
    assert r.description == VI_DESCRIPTION
    assert isinstance(r.location, hues.Location)
    assert (r.location.lat, r.location.lon, r.location.ward) == (16.4726, 107.5885, "Đông Ba")
    assert r.anonymous is False and r.media == ["m1"]
    # A nested model is a view into its parent, as attribute access suggests.
    r.location.lat = 16.0
    assert r.location.lat == 16.0


def test_unknown_keyword_and_wrong_types_raise_type_error_naming_the_field():
    with pytest.raises(TypeError, match="lng"):
        hues.Location(lat=1.0, lng=2.0)
    with pytest.raises(TypeError, match=r"Location\.lat: expected float, got str"):
        hues.Location(lat="16.47")
    with pytest.raises(TypeError, match=r"NewReport\.location\.lon"):
        hues.NewReport(location={"lat": 1.0, "lon": None})
    with pytest.raises(TypeError, match=r"NewReport\.anonymous: expected bool"):
        hues.NewReport(anonymous="no")  # would silently be True with a lax cast
    with pytest.raises(TypeError, match=r"ReportQuery\.limit: expected int"):
        hues.ReportQuery(limit=2.5)
    with pytest.raises(TypeError, match=r"NewReport\.media\[1\]: expected str"):
        hues.NewReport(media=["a", 2])
    loc = hues.Location()
    with pytest.raises(TypeError, match=r"Location\.ward"):
        loc.ward = 5
    assert loc.ward == ""


def test_equality_to_dict_from_dict_and_copies():
    a = hues.Report(id="r1", description=VI_DESCRIPTION, location=hues.Location(**DONG_BA),
                    media=["x", "y"])
    d = a.to_dict()
    assert d["location"] == {"lat": 16.4726, "lon": 107.5885, "address": "", "ward": ""}
    assert d["media"] == ["x", "y"] and d["description"] == VI_DESCRIPTION
    b = hues.Report.from_dict(d)
    assert a == b and not (a != b)
    b.location.lon = 100.0
    assert a != b
    c = copy.deepcopy(a)
    assert c == a and c is not a
    assert a != "r1"
    with pytest.raises(TypeError):
        hash(a)


def test_fields_follow_the_model_description():
    # __hues_fields__ comes from the X-macro lists; to_dict and the attributes must agree.
    for cls in (hues.AttributeValue, hues.CategoryAttribute, hues.Category, hues.Location,
                hues.NewReport, hues.Report, hues.ReportQuery, hues.ReportPage, hues.ErrorBody):
        names = [name for name, _ in cls.__hues_fields__]
        assert names and list(cls().to_dict()) == names
    assert dict(hues.Report.__hues_fields__)["location"] == "Location"
    assert dict(hues.ReportPage.__hues_fields__)["items"] == "list[Report]"
    assert dict(hues.ReportQuery.__hues_fields__)["limit"] == "int"


def test_repr_shows_vietnamese_text():
    text = repr(hues.Location(lat=16.4698, lon=107.5786, ward="Thuận Lộc"))
    assert text == "Location(lat=16.4698, lon=107.5786, address='', ward='Thuận Lộc')"


def test_errors_keep_their_attributes():
    e = hues.AuthenticationError("bad key", http_status=401, code="invalid_api_key",
                                 request_id="req-1")
    assert "invalid_api_key" in str(e) and "req-1" in str(e)
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is hues.AuthenticationError
    assert (back.http_status, back.code, back.request_id) == (401, "invalid_api_key", "req-1")
    assert issubclass(hues.HuesTimeoutError, TimeoutError)
    assert issubclass(hues.HuesConnectionError, ConnectionError)
    assert issubclass(hues.TlsError, hues.TransportError)
    assert issubclass(hues.NotFoundError, hues.ApiError)


def test_installed_stubs_list_the_model_fields():
    import pathlib
    stub = pathlib.Path(hues.__file__).with_name("_core.pyi").read_text(encoding="utf-8")
    assert "class Report:" in stub and "    description: str" in stub
    assert "    items: list[Report]" in stub
    assert pathlib.Path(hues.__file__).with_name("py.typed").exists()
