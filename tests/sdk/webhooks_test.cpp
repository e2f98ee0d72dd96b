// hues::WebhookVerifier: Standard Webhooks verification over the exact bytes, and a real
// delivery from the in-process sandbox (its worker POSTs to a receiver started here).
#include <doctest/doctest.h>

#include <hues/client.h>
#include <hues/services.h>
#include <hues/webhooks.h>

#include <chrono>
#include <future>

#include "fault_server.h"
#include "internal/crypto.h"
#include "test_support.h"

namespace {

using Headers = std::map<std::string, std::string>;

const std::string kSecret = "whsec_" + hues::internal::base64_encode(std::string(32, '\x2a'));
const std::string kOther = "whsec_" + hues::internal::base64_encode(std::string(32, '\x07'));
const std::string kBody =
    R"({"type":"report.status_changed","timestamp":"2026-11-28T09:16:16Z","data":{"report_id":"rpt_1","status":"received","actor_role":"ioc"}})";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string sign(const std::string& secret, const std::string& id, std::int64_t ts, const std::string& body) {
  const auto key = hues::internal::try_base64_decode(secret.substr(6));
  REQUIRE(key);
  return "v1," + hues::internal::base64_encode(
                     hues::internal::hmac_sha256(*key, id + "." + std::to_string(ts) + "." + body));
}

Headers signed_headers(const std::string& secret, const std::string& id, std::int64_t ts, const std::string& body) {
  return {{"Webhook-Id", id}, {"WEBHOOK-TIMESTAMP", std::to_string(ts)}, {"webhook-signature", sign(secret, id, ts, body)}};
}

std::string refused(const hues::WebhookVerifier& v, const std::string& body, const Headers& h) {
  try {
    v.verify(body, h);
  } catch (const hues::WebhookVerificationError& e) {
    CHECK(e.type() == hues::ErrorType::kWebhookVerification);
    return e.code();
  }
  FAIL("verify accepted it");
  return "";
}

}  // namespace

TEST_CASE("webhook verifier: a valid delivery, with header names in any case, gives the typed event") {
  hues::WebhookVerifier v({{kSecret}});
  const auto event = v.verify(kBody, signed_headers(kSecret, "msg_1", unix_now(), kBody));
  CHECK(event.type == hues::WebhookEventType::kReportStatusChanged);
  CHECK(event.data.report_id == "rpt_1");
  REQUIRE(event.data.status);
  CHECK(event.data.status->str() == "received");
}

TEST_CASE("webhook verifier: tampered bodies, wrong secrets, old and future timestamps, replays are refused") {
  hues::WebhookVerifier v({{kSecret}, 300});
  const auto now = unix_now();
  std::string tampered = kBody;
  tampered.replace(tampered.find("received"), 8, "rejected");
  CHECK(refused(v, tampered, signed_headers(kSecret, "msg_t", now, kBody)) == "no_matching_signature");
  CHECK(refused(v, kBody + " ", signed_headers(kSecret, "msg_t", now, kBody)) == "no_matching_signature");
  CHECK(refused(v, kBody, signed_headers(kOther, "msg_w", now, kBody)) == "no_matching_signature");
  CHECK(refused(v, kBody, signed_headers(kSecret, "msg_o", now - 301, kBody)) == "timestamp_too_old");
  CHECK(refused(v, kBody, signed_headers(kSecret, "msg_f", now + 301, kBody)) == "timestamp_too_new");
  CHECK_NOTHROW(v.verify(kBody, signed_headers(kSecret, "msg_edge", now - 290, kBody)));
  auto h = signed_headers(kSecret, "msg_r", now, kBody);
  CHECK_NOTHROW(v.verify(kBody, h));
  CHECK(refused(v, kBody, h) == "replayed");
  // The same id re-signed with a fresh timestamp is a replay within the window too.
  CHECK(refused(v, kBody, signed_headers(kSecret, "msg_r", now + 1, kBody)) == "replayed");
  // A failed check does not spend the id: the genuine message still passes afterwards.
  CHECK(refused(v, kBody, signed_headers(kOther, "msg_later", now, kBody)) == "no_matching_signature");
  CHECK_NOTHROW(v.verify(kBody, signed_headers(kSecret, "msg_later", now, kBody)));
  Headers missing = signed_headers(kSecret, "msg_m", now, kBody);
  missing.erase("webhook-signature");
  CHECK(refused(v, kBody, missing) == "missing_header");
  Headers bad_ts = signed_headers(kSecret, "msg_b", now, kBody);
  bad_ts["WEBHOOK-TIMESTAMP"] = "12.5";
  CHECK(refused(v, kBody, bad_ts) == "invalid_header");
  const std::string not_event = R"({"hello":"world"})";
  CHECK(refused(v, not_event, signed_headers(kSecret, "msg_p", now, not_event)) == "invalid_payload");
}

TEST_CASE("webhook verifier: two signatures with one valid pass; the window bounds the seen ids") {
  const auto now = unix_now();
  hues::WebhookVerifier v({{kSecret}, 60});
  auto h = signed_headers(kSecret, "msg_2", now, kBody);
  h["webhook-signature"] = sign(kOther, "msg_2", now, kBody) + " v1a,bm90LWVkMjU1MTk= " + h["webhook-signature"];
  CHECK_NOTHROW(v.verify(kBody, h));
  // Both secrets configured (a rotation's grace): a message signed by either passes.
  hues::WebhookVerifier both({{kOther, kSecret.substr(6)}});
  CHECK_NOTHROW(both.verify(kBody, signed_headers(kSecret, "msg_3", now, kBody)));
  CHECK_NOTHROW(both.verify(kBody, signed_headers(kOther, "msg_4", now, kBody)));
  // After the window the id is forgotten, and an old copy fails on its timestamp instead.
  const auto hh = signed_headers(kSecret, "msg_5", now, kBody);
  CHECK_NOTHROW(v.verify_at(kBody, hh, now));
  CHECK_THROWS_AS(v.verify_at(kBody, hh, now + 30), hues::WebhookVerificationError);
  try {
    v.verify_at(kBody, hh, now + 200);
    FAIL("accepted");
  } catch (const hues::WebhookVerificationError& e) {
    CHECK(e.code() == "timestamp_too_old");
  }
}

TEST_CASE("webhook verifier: bad secrets are a ValidationError naming the field, without the secret") {
  auto e = hues_test::catch_error([] { hues::WebhookVerifier({{kSecret, "whsec_not base64!"}}); });
  CHECK(e.type() == hues::ErrorType::kValidation);
  CHECK(e.field() == "secrets[1]");
  CHECK(std::string(e.what()).find("not base64!") == std::string::npos);
  CHECK(hues_test::catch_error([] { hues::WebhookVerifier({}); }).field() == "secret");
  CHECK(hues_test::catch_error([] { hues::WebhookVerifier({{kSecret}, 0}); }).field() == "tolerance_seconds");
}

TEST_CASE("webhook verifier: a real delivery from the sandbox verifies") {
  std::promise<std::string> got;
  std::atomic<bool> once{false};
  hues_test::FaultServer receiver([&](int fd, int) {
    const std::string msg = hues_test::read_message(fd);
    hues_test::send_all(fd, hues_test::http_response(200, ""));
    ::close(fd);
    if (!msg.empty() && !once.exchange(true)) got.set_value(msg);
  });
  hues::Client client(options_for(sandbox().url()));
  hues::NewWebhookEndpoint n;
  n.url = receiver.url() + "/hooks";
  n.event_types = {hues::WebhookEventType::kReportStatusChanged};
  const auto endpoint = client.webhooks().create_endpoint(n);
  hues::NewReport r;
  r.category = client.reports().categories().at(0).code;
  r.description = "Cây đổ chắn ngang đường Lê Lợi sau bão";
  r.location.lat = 16.4665;
  r.location.lon = 107.5905;
  r.location.address = "Đường Lê Lợi";
  r.location.ward = "Vĩnh Ninh";
  const auto report = client.reports().create(r);

  auto future = got.get_future();
  REQUIRE(future.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  const std::string msg = future.get();
  const auto split = msg.find("\r\n\r\n");
  const std::string body = msg.substr(split + 4);
  Headers headers;
  std::string head = msg.substr(0, split);
  for (std::size_t pos = head.find("\r\n"); pos != std::string::npos;) {
    const std::size_t next = head.find("\r\n", pos + 2);
    const std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    const auto colon = line.find(':');
    if (colon != std::string::npos) headers[line.substr(0, colon)] = line.substr(line.find_first_not_of(' ', colon + 1));
    pos = next;
  }
  hues::WebhookVerifier v({{endpoint.secret}});
  const auto event = v.verify(body, headers);
  CHECK(event.data.report_id == report.id);
  CHECK(event.type == hues::WebhookEventType::kReportStatusChanged);
  CHECK(refused(v, body, headers) == "replayed");
  client.webhooks().delete_endpoint(endpoint.id);
}
