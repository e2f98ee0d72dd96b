package vn.hues.sdk.internal;

import java.util.function.IntConsumer;

/**
 * For the SDK's own layers (Kotlin's Flow): a subscription listener that hands each event on to
 * a queue of its own instead of handling it. {@link vn.hues.sdk.EventSubscription} then does
 * not acknowledge an event when the listener returns; it gives the listener, before the first
 * event, what acknowledges events once its consumer took them, so that queue stays within the
 * stream's max_buffered_events.
 */
public interface DeferredAck {
  /** Called once, before any event: ack.accept(n) says the consumer took n more events. */
  void attach(IntConsumer ack);
}
