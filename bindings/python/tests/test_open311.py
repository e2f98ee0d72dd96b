"""The Open311 GeoReport v2 facade of the embedded sandbox, by plain HTTP (it is not part of
the SDK): a request posted there is a report the SDK reads back byte for byte, and the SDK's
report shows up in the facade's XML (tests/contract/test_open311.py covers the protocol)."""

import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest

import hues

from conftest import DONG_BA, VI_ADDRESS, VI_DESCRIPTION


def http(sandbox, method, path, form=None):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(sandbox.url + "/open311/v2" + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read()


def test_a_georeport_post_is_a_report_the_sdk_reads(sandbox, client):
    status, ctype, body = http(sandbox, "POST", "/requests.json", {
        "api_key": sandbox.api_key, "service_code": "street_light", "lat": DONG_BA["lat"], "long": DONG_BA["lon"],
        "address_string": VI_ADDRESS, "description": VI_DESCRIPTION, "attribute[light_state]": "off"})
    assert (status, ctype) == (201, "application/json; charset=utf-8")
    rid = json.loads(body)[0]["service_request_id"]
    report = client.reports.get(rid)
    assert report.description.encode() == VI_DESCRIPTION.encode()
    assert report.location.address == VI_ADDRESS and report.category == "street_light"


def test_an_sdk_report_shows_in_the_facade_xml(sandbox, client):
    created = client.reports.create(hues.NewReport(
        category="flooding", description="Ngập sâu ở đường Phan Đình Phùng sau mưa lớn",
        location=hues.Location(lat=16.4610, lon=107.5830, address="Đường Phan Đình Phùng", ward="Vĩnh Ninh")))
    status, ctype, body = http(sandbox, "GET", f"/requests/{created.id}.xml")
    assert (status, ctype) == (200, "text/xml; charset=utf-8")
    root = ET.fromstring(body)
    assert root.tag == "service_requests" and root[0].tag == "request"
    assert root[0].findtext("description") == "Ngập sâu ở đường Phan Đình Phùng sau mưa lớn"
    assert root[0].findtext("status") == "open" and root[0].findtext("service_code") == "flooding"


def test_georeport_errors(sandbox):
    status, _, body = http(sandbox, "POST", "/requests.xml", {"api_key": "hk_sai", "service_code": "street_light"})
    assert status == 403 and ET.fromstring(body).findtext("error/code") == "403"
    status, _, body = http(sandbox, "GET", "/services/ngap_lut.json")
    assert status == 404 and json.loads(body)[0]["code"] == 404


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_list(sandbox, fmt):
    status, _, body = http(sandbox, "GET", f"/services.{fmt}")
    assert status == 200
    codes = ([s["service_code"] for s in json.loads(body)] if fmt == "json"
             else [e.findtext("service_code") for e in ET.fromstring(body)])
    assert "street_light" in codes and "flooding" in codes
