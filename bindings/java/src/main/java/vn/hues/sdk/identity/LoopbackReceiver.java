package vn.hues.sdk.identity;

import java.time.Duration;
import vn.hues.sdk.internal.NativeCalls;

/**
 * A one-shot HTTP listener on 127.0.0.1 that receives the browser's redirect after sign-in
 * (RFC 8252 section 7.3). Listens on an ephemeral port from construction until close().
 *
 * <pre>{@code
 * try (LoopbackReceiver receiver = new LoopbackReceiver()) {
 *   AuthorizationRequest req = oidc.authorizationRequest(receiver.redirectUri(), "openid profile");
 *   openBrowser(req.getUrl());
 *   TokenSet tokens = oidc.exchangeCode(req, receiver.waitForRedirect(Duration.ofMinutes(5)));
 * }
 * }</pre>
 */
public final class LoopbackReceiver implements AutoCloseable {
  private final vn.hues.sdk.internal.LoopbackReceiver receiver = new vn.hues.sdk.internal.LoopbackReceiver();
  private final NativeCalls calls = new NativeCalls("LoopbackReceiver", Runnable::run, receiver::delete);

  /** {@code http://127.0.0.1:PORT/callback}: register it as the redirect URI. */
  public String redirectUri() {
    return calls.call(receiver::redirectUri);
  }

  /**
   * Waits for the redirect and returns the full URL the browser requested (pass it to
   * exchangeCode); throws {@code TimeoutException} after timeout.
   */
  public String waitForRedirect(Duration timeout) {
    return calls.call(() -> receiver.waitForRedirect(timeout.toMillis()));
  }

  /** Stops listening; waits for a waitForRedirect in progress to end. */
  @Override
  public void close() {
    calls.close();
  }
}
