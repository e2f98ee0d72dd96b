package vn.hues.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** 1,000 in flight from one thread, and exit with calls in flight, each in a fresh JVM. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConcurrencyTest {
  /**
   * The SDK adds a fixed set of threads (its I/O threads, one delivery thread, its small pool
   * for blocking object methods), the sandbox its own few, the common pool one worker on this
   * 2-core machine: never one per call. With 1,000 in flight the count may exceed the count
   * after the first completed call by at most 4 (pool workers started late), and the whole
   * process by at most 32 threads over the JVM's own.
   */
  static final int LATE_STARTERS = 4;
  static final int RUNTIME_AND_SANDBOX = 32;

  @Test
  void aThousandConcurrentGetsFromOneThreadAddNoThreadPerCall() throws Exception {
    Subprocess p = Subprocess.run(ThousandInFlight.class, 100);
    assertEquals(0, p.exitCode, p.output);
    Matcher m = Pattern.compile("jvm=(\\d+) runtime=(\\d+) peak=(\\d+) ok=(\\d+)").matcher(p.output);
    assertTrue(m.find(), p.output);
    int jvm = Integer.parseInt(m.group(1));
    int runtime = Integer.parseInt(m.group(2));
    int peak = Integer.parseInt(m.group(3));
    assertEquals(1000, Integer.parseInt(m.group(4)), p.output);
    System.out.println("[1000 in flight, Java] " + p.output.trim());
    assertTrue(peak <= runtime + LATE_STARTERS, p.output);
    Matcher a = Pattern.compile("attached=(\\d+) daemons=(\\w+)").matcher(p.output);
    assertTrue(a.find(), p.output);
    assertTrue(Integer.parseInt(a.group(1)) >= 1 && Integer.parseInt(a.group(1)) <= 8, p.output);
    assertEquals("true", a.group(2), p.output);
    assertTrue(peak - jvm <= RUNTIME_AND_SANDBOX, p.output);
  }

  @Test
  void theJvmExitsCleanlyFromMainWithCallsInFlight() throws Exception {
    Subprocess p = Subprocess.run(ExitWithCallsInFlight.class, 60, "return");
    assertTrue(p.output.contains("started 150 calls"), p.output);
    assertEquals(0, p.exitCode, p.output);
  }

  @Test
  void systemExitWithCallsInFlightEndsCleanly() throws Exception {
    Subprocess p = Subprocess.run(ExitWithCallsInFlight.class, 60, "exit");
    assertTrue(p.output.contains("started 150 calls"), p.output);
    assertEquals(0, p.exitCode, p.output);
    assertTrue(!p.output.contains("SIGSEGV") && !p.output.contains("hs_err"), p.output);
  }
}
