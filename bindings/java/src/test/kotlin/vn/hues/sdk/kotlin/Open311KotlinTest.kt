package vn.hues.sdk.kotlin

import java.net.URI
import java.net.URLEncoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration
import java.util.concurrent.TimeUnit
import javax.xml.parsers.DocumentBuilderFactory
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout

/**
 * The sandbox's Open311 GeoReport v2 facade by plain HTTP from Kotlin (it is not part of the
 * SDK): a request posted there is a report the suspend API reads back byte for byte.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Open311KotlinTest : SandboxKotlinTest() {
  private val http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()
  private val text = "Cây phượng gãy cành lớn trên đường Lê Duẩn, gần cửa Thượng Tứ vào Đại Nội"

  @Test
  fun `a GeoReport post is a report the Kotlin API reads`(): Unit = runBlocking {
    val form = mapOf(
      "api_key" to sandbox.apiKey(), "service_code" to "fallen_tree", "lat" to "16.4698", "long" to "107.5786",
      "description" to text, "attribute[blocking_road]" to "yes",
    ).entries.joinToString("&") { (k, v) -> URLEncoder.encode(k, Charsets.UTF_8) + "=" + URLEncoder.encode(v, Charsets.UTF_8) }
    val req = HttpRequest.newBuilder(URI.create(sandbox.url() + "/open311/v2/requests.xml"))
      .timeout(Duration.ofSeconds(20))
      .header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
      .POST(HttpRequest.BodyPublishers.ofString(form)).build()
    val res = http.send(req, HttpResponse.BodyHandlers.ofInputStream())
    assertEquals(201, res.statusCode())
    val root = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(res.body()).documentElement
    assertEquals("service_requests", root.tagName)
    val id = root.getElementsByTagName("service_request_id").item(0).textContent
    val report = client.reports.get(id)
    assertEquals(text, report.description)
    assertEquals("fallen_tree", report.category)
  }
}
