package vn.hues.sdk.identity

import java.time.Duration
import java.time.Instant
import java.time.temporal.ChronoUnit
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import vn.hues.sdk.PermissionDeniedException
import vn.hues.sdk.ValidationException
import vn.hues.sdk.kotlin.HuesClient
import vn.hues.sdk.model.Location
import vn.hues.sdk.model.NewReport
import vn.hues.sdk.model.Report

/** The IOC's decline and its statistics from coroutines, each role signed in through the sandbox. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StatisticsKotlinTest {
  @BeforeAll
  fun start() = IdentityTest.start()

  @AfterAll
  fun stop() = IdentityTest.stop()

  private fun etag(r: Report) = "\"${r.version}\""

  @Test
  fun `the IOC declines a transfer and counts a fresh period`(): Unit = runBlocking {
    IdentityTest.oidc("hues-demo-app", "").use { oidc ->
      val citizen = HuesClient(LifecycleTest.signedIn(oidc, "tran.thi.binh"))
      val ioc = HuesClient(LifecycleTest.signedIn(oidc, "tran.ioc"))
      val staff = HuesClient(LifecycleTest.signedIn(oidc, "dongba.staff"))
      val start = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusSeconds(1)
      while (Instant.now().isBefore(start.plusMillis(10))) Thread.sleep(5)
      val end = start.plus(Duration.ofHours(1))
      val none = ioc.statistics.reportStatistics { from = start; to = end; agency = "UBND_DONG_BA" }
      assertEquals(0L, none.total)
      assertNull(none.satisfactionRate)

      val n = NewReport.builder().category("urban_order").description("Biển quảng cáo dựng chắn lối đi trên đường Chi Lăng")
        .location(Location.builder().lat(16.4745).lon(107.5902).address("Đường Chi Lăng").ward("Gia Hội").build()).build()
      var r = citizen.reports.create(n)
      r = ioc.reports.receive(r.id, etag(r)) {}
      r = ioc.reports.assign(r.id, etag(r)) { agencyCode = "UBND_DONG_BA" }
      r = staff.reports.requestTransfer(r.id, etag(r)) { reason = "Đề nghị chuyển UBND phường Gia Hội" }
      val asked = r
      assertEquals("reason", assertThrows<ValidationException> {
        runBlocking { ioc.reports.declineTransfer(asked.id, etag(asked)) { reason = "" } }
      }.field)
      val reason = "Phường Đông Ba đang xử lý đợt cao điểm trên tuyến này, đề nghị tiếp tục."
      r = ioc.reports.declineTransfer(r.id, etag(r)) { this.reason = reason }
      assertEquals("in_progress", r.status.value())
      assertEquals("UBND_DONG_BA", r.agencyCode)
      val last = staff.reports.timeline(r.id).last()
      assertEquals(listOf("in_progress", "ioc", reason), listOf(last.status.value(), last.actorRole.value(), last.note))

      val s = ioc.statistics.reportStatistics { from = start; to = end; agency = "UBND_DONG_BA" }
      assertEquals(1L, s.total)
      assertEquals(1L, s.byState.inProgress)
      assertEquals(listOf("UBND_DONG_BA" to 1L), s.byAgency.map { it.code to it.count })
      assertEquals(0L, s.ratings)
      assertNull(s.satisfactionRate)
      assertNull(s.medianHandlingSeconds)
      assertEquals("role_not_allowed", assertThrows<PermissionDeniedException> {
        runBlocking { citizen.statistics.reportStatistics { from = start; to = end } }
      }.code)
    }
  }
}
