package vn.hues.sdk.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import vn.hues.sdk.HuesClient;
import vn.hues.sdk.NotFoundException;
import vn.hues.sdk.model.MediaObject;
import vn.hues.sdk.testing.Sandbox;

/** media.get, generated from the spec: a photo uploaded with raw tus HTTP, read through the SDK. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MediaTest {
  @Test
  void mediaGetReadsWhatAnUploadBecame() throws Exception {
    try (Sandbox sandbox = new Sandbox(); HuesClient client = sandbox.client()) {
      byte[] data = TusUpload.jpeg(640, 480);
      String id = TusUpload.upload(sandbox.url(), data, "photo", "X-Api-Key", sandbox.apiKey());
      MediaObject m = client.media().get(id);
      assertEquals(id, m.getId());
      assertEquals("photo", m.getType().value());
      assertEquals("image/jpeg", m.getContentType());
      assertEquals(data.length, m.getSize());
      assertEquals(640L, m.getWidth().longValue());
      assertEquals(480L, m.getHeight().longValue());
      assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)), m.getSha256());
      assertFalse(m.getLocationRemoved());
      assertEquals(m, client.media().getAsync(id).get(10, TimeUnit.SECONDS));
      assertThrows(NotFoundException.class, () -> client.media().get("m_aaaaaaaaaaaaaaaaaaaaaaaa"));
    }
  }
}
