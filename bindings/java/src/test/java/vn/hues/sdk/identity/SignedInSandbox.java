package vn.hues.sdk.identity;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The base of the test classes that sign people in: IdentityTest's in-process sandbox (with its
 * OpenID provider and browser) is started before the class and closed after it.
 */
abstract class SignedInSandbox {
  @BeforeAll
  static void startSandbox() throws Exception {
    IdentityTest.start();
  }

  @AfterAll
  static void stopSandbox() {
    IdentityTest.stop();
  }
}
