package vn.hues.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import vn.hues.sdk.model.ActorRole;
import vn.hues.sdk.model.Agency;
import vn.hues.sdk.model.AgencyKind;
import vn.hues.sdk.model.AgencyPage;
import vn.hues.sdk.model.AgencyQuery;
import vn.hues.sdk.model.Location;
import vn.hues.sdk.model.NewReport;
import vn.hues.sdk.model.Report;
import vn.hues.sdk.model.ReportStatus;
import vn.hues.sdk.model.TimelineEntry;

/** The two operations added spec-first (zero hand-written lines): agencies.list, reports.timeline. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AgenciesAndTimelineTest extends SandboxTest {

  @Test
  void agenciesAreTheRealHueOnesInVietnamese() {
    List<Agency> all = client.agencies().list().stream().collect(Collectors.toList());
    Agency qldt = all.stream().filter(a -> a.getCode().equals("QLDT_HUE")).findFirst().orElseThrow();
    assertEquals("Phòng Quản lý đô thị thành phố Huế", qldt.getNameVi());
    assertTrue(qldt.getKind().isKnown(), qldt.toString());
    // Every category's agency is listed.
    List<String> codes = all.stream().map(Agency::getCode).collect(Collectors.toList());
    for (var c : client.reports().categories()) assertTrue(codes.contains(c.getAgencyCode()), c.getAgencyCode());
  }

  @Test
  void agenciesAutoPageEachOnce() throws Exception {
    AgencyQuery two = AgencyQuery.builder().limit(2).build();
    AgencyPage first = client.agencies().listPage(two);
    assertEquals(2, first.getItems().size());
    assertFalse(first.getNextCursor().isEmpty());
    List<String> paged = new ArrayList<>();
    for (Agency a : client.agencies().list(two)) paged.add(a.getCode());
    List<String> all = client.agencies().listPage(AgencyQuery.builder().limit(100L).build()).getItems()
        .stream().map(Agency::getCode).collect(Collectors.toList());
    assertEquals(all, paged);
    assertEquals(paged.size(), new HashSet<>(paged).size(), "duplicates in " + paged);
    assertEquals(first, client.agencies().listPageAsync(two).get(10, TimeUnit.SECONDS));
  }

  @Test
  void agenciesFilterByKind() {
    List<Agency> wards = client.agencies().list(AgencyQuery.builder().kind(AgencyKind.WARD).build())
        .stream().collect(Collectors.toList());
    assertFalse(wards.isEmpty());
    assertTrue(wards.stream().allMatch(a -> a.getKind().equals(AgencyKind.WARD)), wards.toString());
  }

  @Test
  void badInputIsAValidationErrorNamingTheField() {
    ValidationException e = assertThrows(ValidationException.class,
        () -> client.agencies().listPage(AgencyQuery.builder().limit(0L).build()));
    assertEquals("limit", e.getField());
    ValidationException kind = assertThrows(ValidationException.class,
        () -> client.agencies().listPage(AgencyQuery.builder().kind(AgencyKind.of("castle")).build()));
    assertEquals("kind", kind.getField());
  }

  @Test
  void aNewReportsTimelineStartsWithItsSubmission() throws Exception {
    Report r = client.reports().create(NewReport.builder().category("street_light")
        .description("Đèn đường tắt cả đêm ở đường Nguyễn Huệ")
        .location(Location.builder().lat(16.4619).lon(107.5870).build()).build());
    List<TimelineEntry> timeline = client.reports().timeline(r.getId());
    assertFalse(timeline.isEmpty());
    TimelineEntry first = timeline.get(0);
    assertEquals(ReportStatus.SUBMITTED, first.getStatus());
    assertEquals(ActorRole.CITIZEN, first.getActorRole());
    assertEquals(r.getCreatedAt(), first.getAt());
    assertEquals(timeline, client.reports().timelineAsync(r.getId()).get(10, TimeUnit.SECONDS));
    assertThrows(NotFoundException.class, () -> client.reports().timeline("rp_does_not_exist"));
  }
}
