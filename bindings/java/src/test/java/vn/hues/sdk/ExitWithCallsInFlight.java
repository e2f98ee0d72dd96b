package vn.hues.sdk;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import vn.hues.sdk.model.RetryPolicy;
import vn.hues.sdk.testing.Sandbox;

/**
 * Starts calls that cannot finish (a server that never answers) and some that can (the
 * sandbox), then leaves main ("return") or calls System.exit(0) ("exit") with them in flight.
 */
public final class ExitWithCallsInFlight {
  public static void main(String[] args) throws Exception {
    Sandbox sandbox = new Sandbox();
    ServerSocket stall = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
    HuesClient real = sandbox.client();
    HuesClient stalled = HuesClient.builder().baseUrl("http://127.0.0.1:" + stall.getLocalPort())
        .apiKey("hk_test_x").attemptTimeout(Duration.ofSeconds(60))
        .retry(RetryPolicy.builder().maxAttempts(1).build()).build();
    List<CompletableFuture<?>> calls = new ArrayList<>();
    for (int i = 0; i < 100; i++) calls.add(real.reports().categoriesAsync());
    for (int i = 0; i < 50; i++) calls.add(stalled.reports().getAsync("rp_" + i));
    Thread.sleep(200);
    System.out.println("started " + calls.size() + " calls");
    if (args.length > 0 && args[0].equals("exit")) System.exit(0);
    // "return": main ends; only daemon threads are left, so the JVM exits.
  }
}
