package vn.hues.sdk.kotlin

import java.util.concurrent.TimeUnit
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import vn.hues.sdk.ConflictException
import vn.hues.sdk.PermissionDeniedException
import vn.hues.sdk.PreconditionFailedException
import vn.hues.sdk.identity.SandboxBrowser
import vn.hues.sdk.media.TusUpload
import vn.hues.sdk.model.Report
import vn.hues.sdk.model.ReportStatus
import vn.hues.sdk.testing.Sandbox

/**
 * The seed's story (issue 8) from coroutines, with three roles each signed in through the
 * sandbox's identity provider: answered without the violation record, returned by the IOC,
 * answered with it, approved, published and rated; the agency's inbox as a Flow, the
 * citizen and agency talking in comments, the timeline checked; an anonymous report whose
 * reporter the agency never sees; and two operators racing one step.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LifecycleKotlinTest {
  private lateinit var sandbox: Sandbox
  private lateinit var browser: SandboxBrowser
  private lateinit var oidc: OidcClient

  private val text = "Quán nhậu lấn chiếm vỉa hè, mở nhạc lớn sau 22 giờ — đường Trần Hưng Đạo, phường Đông Ba"
  private val first = "Công an phường đã lập biên bản vi phạm hành chính đối với chủ quán."
  private val reason = "Đề nghị bổ sung biên bản vi phạm hành chính đã lập."
  private val second = "Gửi kèm biên bản vi phạm hành chính số 12/BB-VPHC."

  @BeforeAll
  fun start() {
    sandbox = Sandbox()
    browser = SandboxBrowser(sandbox)
    val tls = sandbox.tlsUrl()
    val ca = sandbox.caFile()
    oidc = oidcClient {
      issuer = tls
      clientId = "hues-demo-app"
      caFile = ca
    }
  }

  @AfterAll
  fun stop() {
    oidc.close()
    sandbox.close()
  }

  private fun etag(r: Report) = "\"${r.version}\""

  /** Code + PKCE from a coroutine: the browser logs in, the loopback receiver gets the redirect. */
  private suspend fun signedIn(username: String): HuesClient {
    val tokens = tokensOf(username)
    val p = oidc
    val credentials = userCredentials { this.oidc = p; store = memoryTokenStore(); key = username; this.tokens = tokens }
    val tls = sandbox.tlsUrl()
    val ca = sandbox.caFile()
    return huesClient { baseUrl = tls; caFile = ca; this.credentials = credentials }
  }

  private suspend fun tokensOf(username: String): vn.hues.sdk.model.TokenSet {
    return loopbackReceiver().use { receiver ->
      val request = oidc.authorizationRequest(receiver.redirectUri(), "openid profile offline_access reports:read reports:write")
      val location = withContext(Dispatchers.IO) { browser.signIn(request.url, username, "approve") }
      val redirected = kotlinx.coroutines.coroutineScope {
        val waiting = async { receiver.wait(10_000) }
        withContext(Dispatchers.IO) { browser.get(location) }
        waiting.await()
      }
      oidc.exchangeCode(request, redirected)
    }
  }

  @Test
  fun `the seed's story with three roles, from coroutines`(): Unit = runBlocking {
    val citizen = signedIn("nguyen.van.an")
    val ioc = signedIn("le.ioc")
    val staff = signedIn("dongba.staff")
    // Attachments are media objects of the caller's: the staff member uploads them (raw tus).
    val bearer = "Bearer " + tokensOf("dongba.staff").accessToken
    val photo = withContext(Dispatchers.IO) {
      TusUpload.upload(sandbox.tlsUrl(), sandbox.caFile(), TusUpload.jpeg(80, 60), "photo", "Authorization", bearer)
    }
    val record = withContext(Dispatchers.IO) {
      TusUpload.upload(sandbox.tlsUrl(), sandbox.caFile(), TusUpload.pdf("Biên bản 12/BB-VPHC"), "document", "Authorization", bearer)
    }
    var r = citizen.reports.create {
      category = "urban_order"
      description = text
      location {
        lat = 16.4726
        lon = 107.5885
        address = "Chợ Đông Ba, đường Trần Hưng Đạo"
        ward = "Đông Ba"
      }
    }
    assertEquals(ReportStatus.SUBMITTED, r.status)
    assertEquals(text, r.description)
    r = ioc.reports.receive(r.id, etag(r)) {}
    r = ioc.reports.assign(r.id, etag(r)) { agencyCode = "UBND_DONG_BA"; note = "Chuyển UBND phường Đông Ba" }
    r = staff.reports.accept(r.id, etag(r)) {}
    val id = r.id

    // The inbox is a Flow that pages by itself (2 a page), most urgent first.
    val inbox = staff.agencies.inbox("UBND_DONG_BA") { limit = 2 }.toList()
    assertEquals(1, inbox.count { it.id == id })
    assertEquals(inbox.map { it.dueAt }.sorted(), inbox.map { it.dueAt })
    assertFalse(staff.agencies.inbox("UBND_DONG_BA") { overdue = true }.map { it.id }.toList().contains(id))

    r = staff.reports.respond(id, etag(r)) { answer = first }
    val ask = "Khi nào phường xử lý? Quán vẫn mở nhạc đến 1 giờ sáng."
    val reply = "Tổ công tác sẽ kiểm tra tối nay."
    citizen.reports.addComment(id) { this.text = ask }
    staff.reports.addComment(id) { this.text = reply; attachments = listOf(photo) }
    val talk = staff.reports.comments(id)
    assertEquals(listOf("citizen" to ask, "agency" to reply), talk.map { it.authorRole.value() to it.text })
    assertEquals(citizen.me().sub, talk[0].author)  // not anonymous: the agency sees who asked
    assertEquals(listOf(photo), talk[1].attachments)

    r = ioc.reports.returnToAgency(id, etag(r)) { this.reason = this@LifecycleKotlinTest.reason }
    assertEquals(ReportStatus.RETURNED, r.status)
    r = staff.reports.respond(id, etag(r)) { answer = second; attachments = listOf(record) }

    val responded = r
    val denied = assertThrows<PermissionDeniedException> { runBlocking { citizen.reports.approve(id, etag(responded)) {} } }
    assertEquals("role_not_allowed", denied.code)
    val stale = assertThrows<ConflictException> { runBlocking { ioc.reports.approve(id, "\"1\"") {} } }
    assertEquals(412, stale.status)
    val current = (stale as PreconditionFailedException).current
    assertEquals(ReportStatus.RESPONDED, current.status)
    assertEquals(responded.version, current.version)

    r = ioc.reports.approve(id, etag(current)) { note = "Công khai kết quả" }
    assertEquals(ReportStatus.RESOLVED, r.status)
    assertEquals(second, r.answer)
    r = citizen.reports.rate(id) { satisfied = true; comment = "Xử lý nhanh, cảm ơn!" }
    assertEquals("rated", r.status.value())
    assertEquals("Xử lý nhanh, cảm ơn!", r.rating.comment)
    val twice = assertThrows<ConflictException> { runBlocking { citizen.reports.rate(id) { satisfied = false } } }
    assertEquals(409 to "invalid_transition", twice.status to twice.code)

    val timeline = citizen.reports.timeline(id)
    assertEquals(listOf("submitted", "received", "assigned", "in_progress", "responded", "returned", "responded",
      "resolved", "rated"), timeline.map { it.status.value() })
    assertEquals(listOf("citizen", "ioc", "ioc", "agency", "agency", "ioc", "agency", "ioc", "citizen"),
      timeline.map { it.actorRole.value() })
    assertEquals(listOf(first, reason, second), listOf(timeline[4].note, timeline[5].note, timeline[6].note))
    assertEquals(listOf(record), timeline[6].attachments)
    assertEquals("UBND_DONG_BA", timeline[2].agencyCode)
    assertEquals(listOf(citizen.me().sub, ioc.me().sub, staff.me().sub),
      listOf(timeline[0].actor, timeline[1].actor, timeline[3].actor))
    listOf(citizen, ioc, staff).forEach { it.close() }
  }

  @Test
  fun `an anonymous report - the agency never sees the reporter`(): Unit = runBlocking {
    val citizen = signedIn("nguyen.van.an")
    val ioc = signedIn("le.ioc")
    val staff = signedIn("dongba.staff")
    val sub = citizen.me().sub
    var r = citizen.reports.create {
      category = "urban_order"
      description = text
      anonymous = true
      location { lat = 16.4726; lon = 107.5885; ward = "Đông Ba" }
    }
    assertEquals(sub, r.reporter)
    r = ioc.reports.receive(r.id, etag(r)) {}
    r = ioc.reports.assign(r.id, etag(r)) { agencyCode = "UBND_DONG_BA" }
    r = staff.reports.accept(r.id, etag(r)) {}
    assertNull(r.reporter)
    val id = r.id
    citizen.reports.addComment(id) { this.text = "Xin giữ kín danh tính giúp tôi." }
    staff.reports.addComment(id) { this.text = "Phường đã ghi nhận." }
    val seen = staff.reports.comments(id)
    assertEquals(listOf("citizen", "agency"), seen.map { it.authorRole.value() })
    assertEquals("", seen[0].author)
    assertEquals(sub, citizen.reports.comments(id)[0].author)
    assertNull(staff.reports.get(id).reporter)
    assertTrue(staff.agencies.inbox("UBND_DONG_BA").filter { it.id == id }.toList().all { it.reporter == null })
    assertFalse(staff.reports.timeline(id).any { it.actor == sub })
    val stale = assertThrows<PreconditionFailedException> { runBlocking { staff.reports.respond(id, "\"1\"") { answer = "x" } } }
    assertNull(stale.current.reporter)
    assertFalse(stale.toString().contains(text))
    listOf(citizen, ioc, staff).forEach { it.close() }
  }

  @Test
  fun `two operators race one step - the loser's error carries the winner's report`(): Unit = runBlocking {
    val citizen = signedIn("nguyen.van.an")
    val le = signedIn("le.ioc")
    val tran = signedIn("tran.ioc")
    val created = citizen.reports.create {
      category = "street_light"
      description = "Đèn đường hỏng trước chợ Đông Ba, đường Trần Hưng Đạo"
      location { lat = 16.4726; lon = 107.5885; ward = "Đông Ba" }
    }
    // Both suspend calls are in flight at once on this one thread.
    val results = listOf(le, tran).map { c ->
      async { runCatching { c.reports.receive(created.id, etag(created)) { note = "nhận" } } }
    }.awaitAll()
    assertEquals(1, results.count { it.isSuccess }, results.toString())
    val won = results.single { it.isSuccess }.getOrThrow()
    val lost = results.single { it.isFailure }.exceptionOrNull()
    assertTrue(lost is PreconditionFailedException, lost.toString())
    lost as PreconditionFailedException
    assertTrue(ConflictException::class.java.isInstance(lost))  // the taxonomy: a stale If-Match is a conflict
    val loser = if (results[0].isFailure) le else tran
    assertEquals(ReportStatus.RECEIVED, won.status)
    val current = lost.current
    assertNotNull(current)
    assertEquals(ReportStatus.RECEIVED to won.version, current.status to current.version)
    assertEquals(created.description, current.description)
    val next = loser.reports.assign(created.id, etag(current)) { agencyCode = "UBND_DONG_BA" }
    assertEquals(ReportStatus.ASSIGNED to won.version + 1, next.status to next.version)
    listOf(citizen, le, tran).forEach { it.close() }
  }
}
