package vn.hues.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import vn.hues.sdk.model.DuplicateHint;
import vn.hues.sdk.model.DuplicateQuery;
import vn.hues.sdk.model.Location;
import vn.hues.sdk.model.NewReport;
import vn.hues.sdk.model.Report;
import vn.hues.sdk.model.ReportQuery;
import vn.hues.sdk.model.ReportSort;
import vn.hues.sdk.model.ReportStatus;

/**
 * Search (auto-paging, filters, sort by due) and duplicate hints against an in-process sandbox.
 * Each test filters on a marker word of its own, so seeded reports change nothing.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SearchTest extends SandboxTest {
  static final double PER_M = 1 / 111195.0;  // degrees of latitude per metre

  static String marker() {
    return "mk" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  }

  static Report create(String category, String text, double lat, double lon) {
    return client.reports().create(NewReport.builder().category(category).description(text)
        .location(Location.builder().lat(lat).lon(lon).ward("Đông Ba").build()).build());
  }

  static Set<String> ids(ReportQuery q) {
    return client.reports().list(q).stream().map(Report::getId).collect(Collectors.toSet());
  }

  @Test
  void denDuongHongFindsDenDuongHongAcrossPages() {
    String m = marker();
    Set<String> lights = new HashSet<>();
    for (String cat : List.of("street_light", "power_outage", "flooding")) {
      lights.add(create(cat, "Đèn đường hỏng " + m, 16.4726, 107.5885).getId());
    }
    String other = create("street_light", "Đèn trang trí tắt " + m, 16.4726, 107.5885).getId();

    List<Report> found = new ArrayList<>();
    for (Report r : client.reports().list(ReportQuery.builder().q("den duong hong " + m).limit(1L).build())) {
      found.add(r);
      assertEquals("Đèn đường hỏng " + m, r.getDescription());  // byte for byte
    }
    assertEquals(3, found.size());  // three pages of one, each report once
    assertEquals(lights, found.stream().map(Report::getId).collect(Collectors.toSet()));
    assertEquals(lights, ids(ReportQuery.builder().q("DUONG " + m).build()));
    Set<String> street = ids(ReportQuery.builder().q("đèn " + m).category("street_light").build());
    assertEquals(2, street.size());
    assertTrue(street.contains(other));
  }

  @Test
  void sortByDuePagesInDeadlineOrder() {
    String m = marker();
    List<String> made = new ArrayList<>();
    for (String cat : List.of("street_light", "power_outage", "flooding", "street_light")) {
      made.add(create(cat, "Báo cáo " + m, 16.4726, 107.5885).getId());
    }
    List<Report> due = new ArrayList<>();
    client.reports().list(ReportQuery.builder().q(m).sort(ReportSort.DUE).limit(2L).build()).forEach(due::add);
    assertEquals(new HashSet<>(made), due.stream().map(Report::getId).collect(Collectors.toSet()));
    for (int i = 1; i < due.size(); i++) {
      Report a = due.get(i - 1), b = due.get(i);
      int c = a.getDueAt().compareTo(b.getDueAt());
      assertTrue(c < 0 || (c == 0 && made.indexOf(a.getId()) < made.indexOf(b.getId())), a + " before " + b);
    }
    List<String> newest = new ArrayList<>();
    client.reports().list(ReportQuery.builder().q(m).limit(3L).build()).forEach(r -> newest.add(r.getId()));
    List<String> reversed = new ArrayList<>(made);
    java.util.Collections.reverse(reversed);
    assertEquals(reversed, newest);
  }

  @Test
  void aBadValueNamesItsParameter() {
    ValidationException e = assertThrows(ValidationException.class,
        () -> client.reports().listPage(ReportQuery.builder().agency("NO_SUCH_AGENCY").build()));
    assertEquals("agency", e.getField());
    e = assertThrows(ValidationException.class,
        () -> client.reports().listPage(ReportQuery.builder().q("***").build()));
    assertEquals("q", e.getField());
  }

  @Test
  void duplicateHintsNearestFirstInTheOperationAndTheCreateResponse() {
    String m = marker();
    double lat = 16.589, lon = 107.719;  // away from the seed
    Report first = create("road_damage", "Ổ gà sâu trên đường Lê Lợi " + m, lat, lon);
    assertEquals(List.of(), first.getPossibleDuplicates());
    Report second = create("road_damage", "Hố ga mất nắp " + m, lat + 30 * PER_M, lon);
    assertEquals(List.of(first.getId()),
        second.getPossibleDuplicates().stream().map(DuplicateHint::getId).collect(Collectors.toList()));
    create("road_damage", "Xa hơn " + m, lat + 80 * PER_M, lon);
    create("noise", "Ồn ào " + m, lat, lon);

    List<DuplicateHint> hints = client.reports().duplicates(
        DuplicateQuery.builder().category("road_damage").lat(lat + 10 * PER_M).lon(lon).build());
    assertEquals(List.of(first.getId(), second.getId()),
        hints.stream().map(DuplicateHint::getId).collect(Collectors.toList()));
    assertEquals(10, hints.get(0).getDistanceM(), 0.3);
    assertEquals(20, hints.get(1).getDistanceM(), 0.3);
    assertEquals("Ổ gà sâu trên đường Lê Lợi " + m, hints.get(0).getDescription());
    assertEquals(ReportStatus.SUBMITTED, hints.get(0).getStatus());
    assertNull(client.reports().get(second.getId()).getPossibleDuplicates());
    ValidationException e = assertThrows(ValidationException.class,
        () -> client.reports().duplicates(DuplicateQuery.builder().lat(lat).lon(lon).build()));
    assertEquals("category", e.getField());
  }
}
