package vn.hues.sdk.kotlin

import java.util.UUID
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import vn.hues.sdk.ValidationException
import vn.hues.sdk.model.ReportSort

/** Search as a Flow that pages by itself, sort by due, and duplicate hints, in Kotlin. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SearchKotlinTest : SandboxKotlinTest() {
  private val perM = 1 / 111195.0  // degrees of latitude per metre
  private fun marker() = "mk" + UUID.randomUUID().toString().replace("-", "").take(12)

  private suspend fun create(cat: String, text: String, lat: Double = 16.4726, lon: Double = 107.5885) =
    client.reports.create {
      category = cat
      description = text
      location { this.lat = lat; this.lon = lon; ward = "Đông Ba" }
    }

  @Test
  fun `a Flow of 'den duong hong' pages through every match once`(): Unit = runBlocking {
    val m = marker()
    val lights = listOf("street_light", "power_outage", "flooding").map { create(it, "Đèn đường hỏng $m").id }.toSet()
    val other = create("street_light", "Đèn trang trí tắt $m").id
    val found = client.reports.list { q = "den duong hong $m"; limit = 1 }.toList()
    assertEquals(3, found.size)
    assertEquals(lights, found.map { it.id }.toSet())
    assertTrue(found.all { it.description == "Đèn đường hỏng $m" })  // byte for byte
    val street = client.reports.list { q = "ĐÈN $m"; category = "street_light" }.map { it.id }.toList()
    assertEquals(2, street.size)
    assertTrue(other in street)

    val due = client.reports.list { q = m; sort = ReportSort.DUE; limit = 2 }.toList()
    assertEquals(4, due.size)
    assertEquals(due.sortedBy { it.dueAt }.map { it.dueAt }, due.map { it.dueAt })

    val e = assertThrows<ValidationException> { client.reports.listPage { q = "\"*\"" } }
    assertEquals("q", e.field)
  }

  @Test
  fun `duplicate hints come nearest first, in the create response too`(): Unit = runBlocking {
    val m = marker()
    val lat = 16.591; val lon = 107.721  // away from the seed
    val first = create("road_damage", "Ổ gà sâu trên đường Lê Lợi $m", lat, lon)
    val second = create("road_damage", "Hố ga mất nắp $m", lat + 30 * perM, lon)
    assertEquals(listOf(first.id), second.possibleDuplicates!!.map { it.id })
    create("road_damage", "Xa hơn $m", lat + 80 * perM, lon)
    val hints = client.reports.duplicates { category = "road_damage"; this.lat = lat + 10 * perM; this.lon = lon }
    assertEquals(listOf(first.id, second.id), hints.map { it.id })
    assertEquals(10.0, hints[0].distanceM, 0.3)
    assertEquals("Ổ gà sâu trên đường Lê Lợi $m", hints[0].description)
    assertNull(client.reports.get(second.id).possibleDuplicates)
  }
}
