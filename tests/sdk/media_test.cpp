// media.get, generated from the spec: a photo uploaded with raw tus HTTP, read through the
// C++ SDK (blocking and async) with its sniffed type, pixel size and digest.
#include <doctest/doctest.h>
#include <hues/hues.h>
#include <hues/testing/sandbox.h>

#include "internal/crypto.h"
#include "test_support.h"
#include "tus_upload.h"

TEST_CASE("media.get reads the media object a tus upload became") {
  hues::Client client(options_for(sandbox().url()));
  const std::string data = hues_test::jpeg_head(320, 200);
  const std::string id = hues_test::tus_upload(sandbox().port(), data, "photo", "X-Api-Key", sandbox().api_key());
  REQUIRE(id.rfind("m_", 0) == 0);
  const hues::MediaObject m = client.media().get(id);
  CHECK(m.id == id);
  CHECK(m.type == "photo");
  CHECK(m.content_type == "image/jpeg");
  CHECK(m.size == static_cast<std::int64_t>(data.size()));
  CHECK(m.width == 320);
  CHECK(m.height == 200);
  CHECK_FALSE(m.duration_ms.has_value());
  CHECK(m.sha256 == hues::internal::to_hex(hues::internal::sha256(data)));
  CHECK(client.media().get_async(id).get().sha256 == m.sha256);
  auto missing = hues_test::catch_error([&] { client.media().get("m_aaaaaaaaaaaaaaaaaaaaaaaa"); });
  CHECK(missing.type() == hues::ErrorType::kNotFound);
}
