package vn.hues.sdk;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import vn.hues.sdk.model.Location;
import vn.hues.sdk.model.NewReport;
import vn.hues.sdk.model.Report;
import vn.hues.sdk.testing.Sandbox;

/**
 * 1,000 concurrent gets started from this one thread with CompletableFuture, in a fresh JVM
 * so that the JVM's own threads can be counted before anything of the SDK is loaded. Prints
 * {@code jvm=<n> runtime=<n> peak=<n> ok=<n>}: the JVM alone, after the SDK and the sandbox are
 * up and one call has completed (the runtime's threads), and the peak with 1,000 in flight.
 */
public final class ThousandInFlight {
  public static void main(String[] args) throws Exception {
    int jvm = Subprocess.threads();
    try (Sandbox sandbox = new Sandbox(); HuesClient client = sandbox.client()) {
      Report r = client.reports().create(NewReport.builder().category("road_damage")
          .description("Ổ gà sâu trên đường Lê Duẩn")
          .location(Location.builder().lat(16.4637).lon(107.5713).build()).build());
      client.reports().getAsync(r.getId()).get(30, TimeUnit.SECONDS);  // warm the async path
      int runtime = Subprocess.threads();
      List<CompletableFuture<Report>> calls = new ArrayList<>(1000);
      int peak = runtime;
      long start = System.nanoTime();
      for (int i = 0; i < 1000; i++) {
        calls.add(client.reports().getAsync(r.getId()));
        if ((i & 63) == 0) peak = Math.max(peak, Subprocess.threads());
      }
      CompletableFuture<Void> all = CompletableFuture.allOf(calls.toArray(new CompletableFuture<?>[0]));
      while (!all.isDone()) {
        peak = Math.max(peak, Subprocess.threads());
        Thread.sleep(2);
      }
      long wallMs = (System.nanoTime() - start) / 1_000_000;
      int ok = 0;
      for (CompletableFuture<Report> f : calls) if (f.get().getId().equals(r.getId())) ok++;
      // SDK threads that delivered completions: attached once each, as daemons.
      long attached = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("hues-sdk")).count();
      boolean daemons = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("hues-sdk"))
          .allMatch(Thread::isDaemon);
      System.out.println("jvm=" + jvm + " runtime=" + runtime + " peak=" + peak + " ok=" + ok
          + " attached=" + attached + " daemons=" + daemons + " wall_ms=" + wallMs + " " + peakRss());
    }
  }

  private static String peakRss() throws java.io.IOException {
    for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) return "peak_rss=" + line.substring(6).trim().replace(" ", "");
    }
    return "";
  }
}
