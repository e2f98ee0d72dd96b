// Kotlin layer over the Java API: suspend functions (cancellation reaches the native call),
// Sequences for auto-paging and DSL builders that set the SWIG models' own properties.
@file:JvmName("HuesKt")

package vn.hues.sdk.kotlin

import java.util.concurrent.CompletableFuture
import java.util.concurrent.CompletionException
import kotlin.coroutines.cancellation.CancellationException
import kotlinx.coroutines.suspendCancellableCoroutine
import vn.hues.sdk.HuesClient
import vn.hues.sdk.ReportsService
import vn.hues.sdk.internal.StringList

@DslMarker
annotation class HuesDsl

/** `huesClient { baseUrl(url); apiKey(key) }` */
fun huesClient(block: HuesClient.Builder.() -> Unit): HuesClient =
    HuesClient.builder().apply(block).build()

/**
 * `newReport { category = "den_duong"; description = "…"; location { lat = 16.47; lon = 107.59 } }`
 * The receiver is the model itself, so every field of hues/models.h is a property here.
 */
fun newReport(block: NewReport.() -> Unit): NewReport = NewReport().apply(block)

/** Sets the location; getters return copies, so build it and assign it whole. */
fun NewReport.location(block: Location.() -> Unit) {
  location = Location().apply(block)
}

fun NewReport.media(vararg ids: String) {
  media = StringList(ids.toList())
}

fun reportQuery(block: ReportQuery.() -> Unit): ReportQuery = ReportQuery().apply(block)

fun callOptions(block: CallOptions.() -> Unit): CallOptions = CallOptions().apply(block)

/** Every matching report, newest first, fetching pages lazily as the sequence is consumed. */
fun ReportsService.sequence(query: ReportQuery = ReportQuery(), options: CallOptions? = null): Sequence<Report> =
    list(query, options).asSequence()

fun ReportsService.sequence(block: ReportQuery.() -> Unit): Sequence<Report> = sequence(reportQuery(block))

/** Creates a report built by the DSL, suspending instead of blocking the thread. */
suspend fun ReportsService.create(options: CallOptions? = null, block: NewReport.() -> Unit): Report =
    awaitCreate(newReport(block), options)

suspend fun ReportsService.awaitCreate(report: NewReport, options: CallOptions? = null): Report =
    createAsync(report, options).awaitCancellable()

suspend fun ReportsService.awaitGet(id: String, options: CallOptions? = null): Report =
    getAsync(id, options).awaitCancellable()

suspend fun ReportsService.awaitListPage(query: ReportQuery, options: CallOptions? = null): ReportPage =
    listPageAsync(query, options).awaitCancellable()

suspend fun ReportsService.awaitCategories(options: CallOptions? = null): List<Category> =
    categoriesAsync(options).awaitCancellable()

/** The signed-in person's profile (needs user credentials). */
suspend fun HuesClient.awaitMe(options: CallOptions? = null): CitizenProfile =
    meAsync(options).awaitCancellable()

/**
 * Awaits the future; cancelling the coroutine cancels the future, which cancels the native
 * call through its CancellationToken (see HuesClient.async). SDK errors are rethrown as-is.
 */
internal suspend fun <T> CompletableFuture<T>.awaitCancellable(): T =
    suspendCancellableCoroutine { cont ->
      whenComplete { value, error ->
        // Ignored when the coroutine was already cancelled.
        cont.resumeWith(if (error == null) Result.success(value) else Result.failure(unwrap(error)))
      }
      cont.invokeOnCancellation { cancel(true) }
    }

private fun unwrap(e: Throwable): Throwable = when {
  e is CompletionException && e.cause != null -> e.cause!!
  e is java.util.concurrent.CancellationException -> CancellationException(e.message)
  else -> e
}
