package vn.hues.sdk.media;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

/**
 * A raw tus 1.0.0 upload (one creation-with-upload POST with the JDK HttpClient), for tests
 * that need real media ids: attachments must name finished media objects of the caller's.
 */
public final class TusUpload {
  private TusUpload() {}

  /** A JPEG's markers up to its first scan (SOI, APP0, SOF0 of width x height), then filler. */
  public static byte[] jpeg(int width, int height) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int[] head = {0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
        0xFF, 0xC0, 0, 11, 8, height >> 8, height & 0xFF, width >> 8, width & 0xFF, 1, 1, 0x11, 0,
        0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0};
    for (int b : head) out.write(b);
    for (int i = out.size(); i < 2000; i++) out.write((i * 13) & 0xFF);
    return out.toByteArray();
  }

  public static byte[] pdf(String text) {
    return ("%PDF-1.7\n% " + text + "\n%%EOF\n").getBytes(StandardCharsets.UTF_8);
  }

  /** The media object's id; authName/authValue: X-Api-Key and the key, or Authorization and "Bearer ...". */
  public static String upload(String baseUrl, byte[] data, String type, String authName, String authValue)
      throws Exception {
    return upload(baseUrl, null, data, type, authName, authValue);
  }

  /** Over HTTPS trusting caFile's CA (a token is good only on the listener that issued it). */
  public static String upload(String baseUrl, String caFile, byte[] data, String type, String authName,
      String authValue) throws Exception {
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
    if (caFile != null) {
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      try (InputStream pem = Files.newInputStream(Path.of(caFile))) {
        int i = 0;
        for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(pem)) {
          trust.setCertificateEntry("ca" + i++, c);
        }
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ssl = SSLContext.getInstance("TLS");
      ssl.init(null, tmf.getTrustManagers(), null);
      builder.sslContext(ssl);
    }
    HttpClient http = builder.build();
    HttpRequest req = HttpRequest.newBuilder(URI.create(baseUrl + "/v1/uploads"))
        .timeout(Duration.ofSeconds(10))
        .header(authName, authValue)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", Integer.toString(data.length))
        .header("Upload-Metadata", "type " + Base64.getEncoder().encodeToString(type.getBytes(StandardCharsets.UTF_8)))
        .header("Content-Type", "application/offset+octet-stream")
        .POST(HttpRequest.BodyPublishers.ofByteArray(data))
        .build();
    HttpResponse<String> res = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (res.statusCode() != 201) throw new IllegalStateException("tus upload: " + res.statusCode() + " " + res.body());
    return res.headers().firstValue("Hues-Media-Id").orElseThrow();
  }
}
