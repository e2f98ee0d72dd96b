"""hues.WebhookVerifier (generated from x-hues-sdk.objects; the C++ core verifies): valid,
tampered, wrong secret, old and future timestamps, replay, two signatures, secrets never
printed; a message signed by the third-party `standardwebhooks` library, and a real delivery
from the sandbox."""

import asyncio
import base64
import datetime as dt
import http.server
import json
import queue
import threading
import time

import pytest
from standardwebhooks.webhooks import Webhook

import hues

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
OTHER = "whsec_" + base64.b64encode(b"\x07" * 32).decode()
BODY = json.dumps({"type": "report.status_changed", "timestamp": "2026-11-28T09:16:16Z",
                   "data": {"report_id": "rpt_huế", "status": "received", "actor_role": "ioc"}},
                  ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signed(secret: str, msg_id: str, body: bytes = BODY, at: dt.datetime | None = None) -> dict:
    """Headers as the third-party library signs them."""
    at = at or dt.datetime.now(dt.timezone.utc)
    sig = Webhook(secret).sign(msg_id, at, body.decode("utf-8"))
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": sig}


def code_of(verifier, body, headers) -> str:
    with pytest.raises(hues.WebhookVerificationError) as e:
        verifier.verify(body, headers)
    assert isinstance(e.value, hues.HuesError)
    return e.value.code


def test_a_message_signed_by_the_standardwebhooks_library_verifies():
    v = hues.WebhookVerifier(secret=SECRET)
    headers = {k.upper(): val for k, val in signed(SECRET, "msg_lib1").items()}  # any case
    event = v.verify(BODY, headers)
    assert isinstance(event, hues.WebhookEvent)
    assert event.type == hues.WebhookEventType.REPORT_STATUS_CHANGED
    assert event.data.report_id == "rpt_huế" and event.data.status == "received"


def test_tampered_wrong_secret_old_future_and_replayed_are_refused():
    v = hues.WebhookVerifier(secret=SECRET, tolerance_seconds=300)
    now = dt.datetime.now(dt.timezone.utc)
    assert code_of(v, BODY.replace(b"received", b"rejected"), signed(SECRET, "msg_t")) == "no_matching_signature"
    assert code_of(v, bytearray(BODY) + b"\n", signed(SECRET, "msg_t")) == "no_matching_signature"
    assert code_of(v, BODY, signed(OTHER, "msg_w")) == "no_matching_signature"
    assert code_of(v, BODY, signed(SECRET, "msg_o", at=now - dt.timedelta(seconds=301))) == "timestamp_too_old"
    assert code_of(v, BODY, signed(SECRET, "msg_f", at=now + dt.timedelta(seconds=301))) == "timestamp_too_new"
    h = signed(SECRET, "msg_r")
    v.verify(BODY, h)
    assert code_of(v, BODY, h) == "replayed"
    assert code_of(v, BODY, {"webhook-id": "x", "webhook-timestamp": "1"}) == "missing_header"
    with pytest.raises(TypeError):
        v.verify(BODY.decode(), signed(SECRET, "msg_s"))  # the raw bytes, never a re-encoded str


def test_two_signatures_with_one_valid_and_both_secrets_during_a_rotation():
    v = hues.WebhookVerifier(secret=SECRET)
    h = signed(SECRET, "msg_2")
    h["webhook-signature"] = signed(OTHER, "msg_2")["webhook-signature"] + " " + h["webhook-signature"]
    assert v.verify(BODY, h).data.report_id == "rpt_huế"
    both = hues.WebhookVerifier(secrets=[SECRET, OTHER])
    both.verify(BODY, signed(OTHER, "msg_3"))
    both.verify(BODY, signed(SECRET, "msg_4"))


def test_secrets_are_never_printed_and_a_bad_one_names_its_field():
    v = hues.WebhookVerifier(secret=SECRET, secrets=[OTHER])
    for text in (repr(v), str(v), repr(v.options), str(v.options)):
        assert SECRET not in text and SECRET[6:20] not in text and OTHER[6:20] not in text
    with pytest.raises(hues.ValidationError) as e:
        hues.WebhookVerifier(secrets=[SECRET, "whsec_không phải base64"])
    assert e.value.field == "secrets[1]" and "không phải" not in str(e.value)


def test_verify_async():
    v = hues.WebhookVerifier(secret=SECRET)

    async def main():
        return await v.verify_async(BODY, signed(SECRET, "msg_a"))

    assert asyncio.run(main()).data.status == "received"


def test_a_real_delivery_from_the_sandbox_verifies(sandbox):
    got: "queue.Queue[tuple[dict, bytes]]" = queue.Queue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()
            got.put((dict(self.headers.items()), body))

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = sandbox.client(timeout=20)
        endpoint = client.webhooks.create_endpoint(
            url=f"http://127.0.0.1:{server.server_address[1]}/hooks", event_types=["report.status_changed"])
        assert endpoint.secret not in repr(endpoint)
        report = client.reports.create(category=client.reports.categories()[0].code,
                                       description="Ổ gà lớn trên đường Hùng Vương",
                                       location=hues.Location(lat=16.4610, lon=107.5950, address="Hùng Vương",
                                                              ward="Phú Nhuận"))
        headers, body = got.get(timeout=20)
        verifier = hues.WebhookVerifier(secret=endpoint.secret)
        event = verifier.verify(body, headers)
        assert event.data.report_id == report.id and event.type == "report.status_changed"
        assert Webhook(endpoint.secret).verify(body, headers)["data"]["report_id"] == report.id
        with pytest.raises(hues.WebhookVerificationError):
            verifier.verify(body, headers)  # the same delivery again: a replay
        client.webhooks.delete_endpoint(endpoint.id)
    finally:
        server.shutdown()
        server.server_close()
