package vn.hues.sdk;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import vn.hues.sdk.testing.Sandbox;

/** One in-process sandbox and a client on it (the seeded API key) per test class. */
abstract class SandboxTest {
  static Sandbox sandbox;
  static HuesClient client;

  @BeforeAll
  static void start() {
    sandbox = new Sandbox();
    client = sandbox.client();
  }

  @AfterAll
  static void stop() {
    client.close();
    sandbox.close();
  }
}
