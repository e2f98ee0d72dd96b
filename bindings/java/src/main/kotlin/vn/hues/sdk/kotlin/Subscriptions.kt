package vn.hues.sdk.kotlin

import java.util.concurrent.CompletionException
import java.util.function.Consumer
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import vn.hues.sdk.EventSubscription

/**
 * A subscription (x-hues-stream) as a cold [Flow]: each collection calls [open] with a
 * listener, which starts one [EventSubscription]; its events are emitted in order (an
 * unbounded buffer: the SDK never waits for the collector), the flow completes once the
 * subscription is over and throws the typed exception that ended it. Cancelling the collector
 * closes the subscription.
 */
internal fun <T> subscriptionFlow(open: (Consumer<T>) -> EventSubscription): Flow<T> = callbackFlow {
  val subscription = open(Consumer { event -> trySend(event) })
  subscription.done().whenComplete { _, error ->
    if (error == null) {
      channel.close()
    } else {
      channel.close(if (error is CompletionException && error.cause != null) error.cause else error)
    }
  }
  awaitClose { subscription.close() }
}.buffer(Channel.UNLIMITED)
