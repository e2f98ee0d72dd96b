package vn.hues.sdk.bench;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import vn.hues.sdk.HuesClient;
import vn.hues.sdk.model.Location;
import vn.hues.sdk.model.NewReport;
import vn.hues.sdk.model.Report;
import vn.hues.sdk.testing.Sandbox;

/**
 * The typed GET of one report, keep-alive, decoded into a model: the SDK (JNI, C++ core,
 * generated codec) against the JDK HttpClient + Jackson, same sandbox, alternating rounds,
 * medians. Not a test (no timing assertions); run by hand:
 *   java -cp target/classes:target/test-classes:$(deps) vn.hues.sdk.bench.TypedGetBenchmark [rounds] [calls]
 */
public final class TypedGetBenchmark {
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record LocationDto(double lat, double lon, String address, String ward) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record ReportDto(String id, String category, String description, LocationDto location,
      boolean anonymous, String visibility, String status, String agency_code, List<String> media,
      java.time.Instant created_at, java.time.Instant updated_at) {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    int calls = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
    try (Sandbox sandbox = new Sandbox(); HuesClient sdk = sandbox.client()) {
      Report r = sdk.reports().create(NewReport.builder().category("road_damage")
          .description("Ổ gà sâu trên đường Lê Duẩn").location(Location.builder().lat(16.46).lon(107.57).build()).build());
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      ObjectMapper jackson = new ObjectMapper().findAndRegisterModules()
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
      HttpRequest req = HttpRequest.newBuilder(URI.create(sandbox.url() + "/v1/reports/" + r.getId()))
          .header("X-Api-Key", sandbox.apiKey()).build();
      List<Double> sdkRates = new ArrayList<>();
      List<Double> jdkRates = new ArrayList<>();
      for (int round = 0; round < rounds + 1; round++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
          if (!sdk.reports().get(r.getId()).getId().equals(r.getId())) throw new AssertionError();
        }
        long t1 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
          HttpResponse<byte[]> res = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
          ReportDto dto = jackson.readValue(res.body(), ReportDto.class);
          if (!dto.id().equals(r.getId())) throw new AssertionError();
        }
        long t2 = System.nanoTime();
        if (round == 0) continue;  // warm-up
        sdkRates.add(calls / ((t1 - t0) / 1e9));
        jdkRates.add(calls / ((t2 - t1) / 1e9));
      }
      double sdkMedian = median(sdkRates);
      double jdkMedian = median(jdkRates);
      System.out.printf("sdk %.0f req/s, HttpClient+Jackson %.0f req/s, ratio %.2fx (median of %d rounds of %d)%n",
          sdkMedian, jdkMedian, sdkMedian / jdkMedian, rounds, calls);
    }
  }

  private static double median(List<Double> v) {
    List<Double> s = new ArrayList<>(v);
    Collections.sort(s);
    return s.get(s.size() / 2);
  }
}
