package vn.hues.sdk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.w3c.dom.Element;
import vn.hues.sdk.model.Location;
import vn.hues.sdk.model.NewReport;
import vn.hues.sdk.model.Report;

/**
 * The sandbox's Open311 GeoReport v2 facade by plain HTTP (the JDK's HttpClient; it is not
 * part of the SDK), against what the SDK reads and writes (tests/contract/test_open311.py
 * covers the protocol).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Open311Test extends SandboxTest {
  static final String DESCRIPTION = "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo";
  static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  static HttpResponse<byte[]> get(String path) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(sandbox.url() + "/open311/v2" + path))
        .timeout(Duration.ofSeconds(20)).GET().build();
    return http.send(req, HttpResponse.BodyHandlers.ofByteArray());
  }

  static HttpResponse<byte[]> post(String path, Map<String, String> form) throws Exception {
    String body = form.entrySet().stream()
        .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
            + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
    HttpRequest req = HttpRequest.newBuilder(URI.create(sandbox.url() + "/open311/v2" + path))
        .timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build();
    return http.send(req, HttpResponse.BodyHandlers.ofByteArray());
  }

  static Element xml(byte[] body) throws Exception {
    return DocumentBuilderFactory.newInstance().newDocumentBuilder()
        .parse(new ByteArrayInputStream(body)).getDocumentElement();
  }

  static String child(Element e, String name) {
    return e.getElementsByTagName(name).item(0).getTextContent();
  }

  @Test
  void aGeoReportPostIsAReportTheSdkReads() throws Exception {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("api_key", sandbox.apiKey());
    form.put("service_code", "street_light");
    form.put("lat", "16.4726");
    form.put("long", "107.5885");
    form.put("description", DESCRIPTION);
    form.put("attribute[light_state]", "off");
    HttpResponse<byte[]> res = post("/requests.xml", form);
    assertEquals(201, res.statusCode());
    assertEquals("text/xml; charset=utf-8", res.headers().firstValue("Content-Type").orElse(""));
    Element root = xml(res.body());
    assertEquals("service_requests", root.getTagName());
    String id = child(root, "service_request_id");
    Report report = client.reports().get(id);
    assertArrayEquals(DESCRIPTION.getBytes(StandardCharsets.UTF_8), report.getDescription().getBytes(StandardCharsets.UTF_8));
    assertEquals("street_light", report.getCategory());
  }

  @Test
  void anSdkReportShowsInTheFacadeJson() throws Exception {
    Report created = client.reports().create(NewReport.builder()
        .category("flooding").description("Ngập sâu ở đường Phan Đình Phùng sau mưa lớn")
        .location(Location.builder().lat(16.4610).lon(107.5830).address("Đường Phan Đình Phùng").build())
        .build());
    HttpResponse<byte[]> res = get("/requests/" + created.getId() + ".json");
    assertEquals(200, res.statusCode());
    JsonNode request = new ObjectMapper().readTree(res.body()).get(0);
    assertEquals(created.getId(), request.get("service_request_id").asText());
    assertEquals("Ngập sâu ở đường Phan Đình Phùng sau mưa lớn", request.get("description").asText());
    assertEquals("open", request.get("status").asText());
  }

  @Test
  void errorsInTheGeoReportShape() throws Exception {
    HttpResponse<byte[]> res = post("/requests.json", Map.of("api_key", "hk_sai", "service_code", "street_light"));
    assertEquals(403, res.statusCode());
    assertEquals(403, new ObjectMapper().readTree(res.body()).get(0).get("code").asInt());
    res = get("/services/ngap_lut.xml");
    assertEquals(404, res.statusCode());
    assertEquals("404", child(xml(res.body()), "code"));
  }
}
