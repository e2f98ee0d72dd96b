"""Drives reports through their life over plain HTTP, for the lifecycle tests and the
coverage samples: each role signs in through the sandbox's identity provider."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import oidc

STAFF_AGENCY = "UBND_DONG_BA"  # dongba.staff's agency
PEOPLE = {"citizen": "nguyen.van.an", "other_citizen": "tran.thi.binh", "ioc": "le.ioc", "ioc2": "tran.ioc",
          "staff": "dongba.staff", "other_staff": "hepco.staff"}

# The steps from a new report to each state, as (who, action path, body).
PATHS = {
    "submitted": [],
    "received": [("ioc", "receive", {})],
    "assigned": [("ioc", "receive", {}), ("ioc", "assign", {"agency_code": STAFF_AGENCY})],
    "in_progress": [("ioc", "receive", {}), ("ioc", "assign", {"agency_code": STAFF_AGENCY}),
                    ("staff", "accept", {})],
    "transfer_requested": [("ioc", "receive", {}), ("ioc", "assign", {"agency_code": STAFF_AGENCY}),
                           ("staff", "transfer-request", {"reason": "Không thuộc thẩm quyền của phường"})],
    "responded": [("ioc", "receive", {}), ("ioc", "assign", {"agency_code": STAFF_AGENCY}),
                  ("staff", "accept", {}), ("staff", "respond", {"answer": "Đã xử lý xong."})],
    "returned": [("ioc", "receive", {}), ("ioc", "assign", {"agency_code": STAFF_AGENCY}),
                 ("staff", "accept", {}), ("staff", "respond", {"answer": "Đã xử lý xong."}),
                 ("ioc", "return", {"reason": "Thiếu biên bản"})],
    "resolved": [("ioc", "receive", {}), ("ioc", "assign", {"agency_code": STAFF_AGENCY}),
                 ("staff", "accept", {}), ("staff", "respond", {"answer": "Đã xử lý xong."}),
                 ("ioc", "approve", {})],
    "rated": [("ioc", "receive", {}), ("ioc", "assign", {"agency_code": STAFF_AGENCY}),
              ("staff", "accept", {}), ("staff", "respond", {"answer": "Đã xử lý xong."}),
              ("ioc", "approve", {}), ("citizen", "rating", {"satisfied": True})],
    "rejected": [("ioc", "reject", {"reason": "Không đủ thông tin"})],
}


def bearer(token: str) -> dict:
    return {"Authorization": "Bearer " + token}


class People:
    """Access tokens per role, signed in once (code + PKCE with the demo app)."""

    def __init__(self, base: str):
        self.tokens = {role: oidc.user_tokens(base, user)["access_token"] for role, user in PEOPLE.items()}

    def headers(self, role: str, etag: str | None = None) -> dict:
        h = bearer(self.tokens[role])
        if etag is not None:
            h["If-Match"] = etag
        return h


def new_report(api, people: People, *, anonymous: bool = False, description: str | None = None) -> dict:
    body = {"category": "urban_order",
            "description": description or "Quán nhậu lấn chiếm vỉa hè, mở nhạc lớn sau 22 giờ ở đường Trần Hưng Đạo",
            "location": {"lat": 16.4726, "lon": 107.5885, "address": "Chợ Đông Ba, đường Trần Hưng Đạo",
                         "ward": "Đông Ba"}, "anonymous": anonymous}
    return api.call("POST", "/v1/reports", json_body=body, key=None, headers=people.headers("citizen"),
                    expect=201).body


def step(api, people: People, role: str, rid: str, action: str, body: dict, etag: str | None, expect: int = 200):
    return api.call("POST", f"/v1/reports/{rid}/{action}", json_body=body, key=None,
                    headers=people.headers(role, etag if action != "rating" else None), expect=expect)


def report_in(api, people: People, state: str, **kw) -> tuple[str, str]:
    """A new report driven to state; returns (id, ETag)."""
    r = new_report(api, people, **kw)
    rid, etag = r["id"], '"%d"' % r["version"]
    for role, action, body in PATHS[state]:
        etag = step(api, people, role, rid, action, body, etag).headers["ETag"]
    return rid, etag


def utc(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def last_days(days: int) -> dict:
    """The statistics period of the last `days` days, up to a minute from now."""
    now = datetime.now(timezone.utc)
    return {"from": utc(now - timedelta(days=days)), "to": utc(now + timedelta(minutes=1))}
