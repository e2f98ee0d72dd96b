package vn.hues.sdk;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a main class of the test class path in a fresh JVM (for exit and thread-count tests). */
final class Subprocess {
  final int exitCode;
  final String output;

  private Subprocess(int exitCode, String output) {
    this.exitCode = exitCode;
    this.output = output;
  }

  static Subprocess run(Class<?> main, long timeoutSeconds, String... args) throws Exception {
    String cp = System.getProperty("hues.test.classpath", "") + File.pathSeparator
        + System.getProperty("java.class.path");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(cp);
    cmd.add(main.getName());
    for (String a : args) cmd.add(a);
    Path log = Files.createTempFile("hues-subprocess", ".log");
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError(main.getSimpleName() + " hung; output:\n"
            + Files.readString(log, StandardCharsets.UTF_8));
      }
      return new Subprocess(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(log);
    }
  }

  /** The count of threads of this process, from /proc/self/task. */
  static int threads() {
    String[] tasks = new File("/proc/self/task").list();
    return tasks == null ? -1 : tasks.length;
  }
}
