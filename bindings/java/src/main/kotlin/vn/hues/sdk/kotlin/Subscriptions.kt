package vn.hues.sdk.kotlin

import java.util.concurrent.CompletionException
import java.util.function.Consumer
import java.util.function.IntConsumer
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import vn.hues.sdk.EventSubscription
import vn.hues.sdk.internal.DeferredAck

/**
 * The listener a subscription flow hands to the SDK: it queues each event for the collector
 * and acknowledges it only once the collector has taken it ([DeferredAck]), so the queue holds
 * at most the stream's maxBufferedEvents however slow the collector. [received] counts the
 * events queued so far.
 */
internal class FlowListener<T> : Consumer<T>, DeferredAck {
  val channel = Channel<T>(Channel.UNLIMITED)  // bounded by the acknowledgements, not by itself
  @Volatile var received = 0L
    private set
  @Volatile private var ack: IntConsumer? = null

  override fun attach(ack: IntConsumer) {
    this.ack = ack
  }

  override fun accept(event: T) {
    received++  // one caller at a time: the subscription's ordered chain
    channel.trySend(event)
  }

  fun taken() {
    ack?.accept(1)
  }
}

/**
 * A subscription (x-hues-stream) as a cold [Flow]: each collection calls [open] with a
 * listener, which starts one [EventSubscription]; its events are emitted in order, each
 * counted against the stream's maxBufferedEvents until the collector has taken it (beyond it
 * the SDK stops reading the connection), the flow completes once the subscription is over and
 * throws the typed exception that ended it. Cancelling the collector closes the subscription.
 */
internal fun <T> subscriptionFlow(open: (Consumer<T>) -> EventSubscription): Flow<T> = flow {
  val listener = FlowListener<T>()
  val subscription = open(listener)
  subscription.done().whenComplete { _, error ->
    if (error == null) {
      listener.channel.close()
    } else {
      listener.channel.close(if (error is CompletionException && error.cause != null) error.cause else error)
    }
  }
  try {
    for (event in listener.channel) {
      emit(event)
      listener.taken()
    }
  } finally {
    subscription.close()
  }
}
