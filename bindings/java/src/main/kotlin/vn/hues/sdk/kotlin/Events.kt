package vn.hues.sdk.kotlin

import java.lang.reflect.Proxy
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.receiveAsFlow

/** One call the SDK made on a callback interface: the method's name and its arguments. */
public data class CallbackEvent(val method: String, val args: List<Any?>)

/**
 * Any callback interface whose methods return nothing (an [vn.hues.sdk.OutboxListener]) as a
 * [Flow] of the calls it receives: pass [listener] where the SDK takes one, collect [events].
 * The SDK's thread only queues the event (an unbounded channel); collectors run where they
 * collect. [close] ends the flow.
 *
 *     val stream = eventFlow<OutboxListener>()
 *     val box = outbox { client = c; path = p; listener = stream.listener }
 *     stream.events.collect { ev -> if (ev.method == "delivered") show(ev.args[0] as OutboxItem) }
 */
public class EventFlow<T : Any>(iface: Class<T>) : AutoCloseable {
  private val channel = Channel<CallbackEvent>(Channel.UNLIMITED)

  init {
    require(iface.isInterface && iface.methods.all { it.returnType == Void.TYPE }) {
      "${iface.name} is not a callback interface whose methods return nothing"
    }
  }

  /** The implementation to hand to the SDK. */
  public val listener: T = iface.cast(Proxy.newProxyInstance(iface.classLoader, arrayOf(iface)) { proxy, method, args ->
    when (method.name) {
      "equals" -> proxy === args?.get(0)
      "hashCode" -> System.identityHashCode(proxy)
      "toString" -> "EventFlow<${iface.simpleName}>"
      else -> {
        channel.trySend(CallbackEvent(method.name, args?.toList() ?: emptyList()))
        null
      }
    }
  })

  /** The calls, in the order the SDK made them; one collector takes each. */
  public val events: Flow<CallbackEvent> = channel.receiveAsFlow()

  override fun close() {
    channel.close()
  }
}

/** `eventFlow<OutboxListener>()`: see [EventFlow]. */
public inline fun <reified T : Any> eventFlow(): EventFlow<T> = EventFlow(T::class.java)
