package vn.hues.sdk.kotlin

import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.TestInstance
import vn.hues.sdk.testing.Sandbox

/** One in-process sandbox and a client on it (the seeded API key) per test class. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SandboxKotlinTest {
  protected lateinit var sandbox: Sandbox
  protected lateinit var client: HuesClient

  @BeforeAll
  fun start() {
    sandbox = Sandbox()
    val url = sandbox.url()
    val key = sandbox.apiKey()
    client = huesClient { baseUrl = url; apiKey = key }
  }

  @AfterAll
  fun stop() {
    client.close()
    sandbox.close()
  }
}
