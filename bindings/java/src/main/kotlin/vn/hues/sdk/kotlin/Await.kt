package vn.hues.sdk.kotlin

import java.util.concurrent.CompletableFuture
import java.util.concurrent.CompletionException
import java.util.concurrent.ExecutionException
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException
import kotlinx.coroutines.suspendCancellableCoroutine

/**
 * Awaits a call's future without blocking a thread. The future completes on the SDK
 * object's executor (never an SDK thread) and the coroutine resumes on its own dispatcher.
 * Cancelling the coroutine cancels the future, which aborts the native call.
 */
internal suspend fun <T> CompletableFuture<T>.awaitCall(): T = suspendCancellableCoroutine { cont ->
  whenComplete { value, error ->
    if (error == null) {
      @Suppress("UNCHECKED_CAST")
      cont.resume(value as T)
    } else {
      val cause = if ((error is CompletionException || error is ExecutionException) && error.cause != null) error.cause!! else error
      cont.resumeWithException(cause)
    }
  }
  cont.invokeOnCancellation { cancel(true) }
}
