/* The native boundary every language binding uses: a handful of C entry points.
 *
 * A binding never binds a C++ class or a model. It creates objects by type name with a JSON
 * config, starts calls by number (the call ids docs/openapi.yaml's generator assigns) with
 * JSON arguments, and receives each completion once, as JSON bytes, where it asked: a
 * callback on an SDK host thread, or a queue its own event loop drains. Models are encoded
 * and decoded by generated code on each side, so nothing per operation is written here.
 * See docs/architecture.md.
 *
 * Encodings (all UTF-8 JSON):
 * - object config: the object's config model (x-hues-sdk.objects.*.config), "{}" if none.
 *   Fields of type x-hues-handle carry a hues_handle as a JSON integer.
 * - call args: a JSON object. HTTP operations: path and query parameters by their wire
 *   names (absent = not sent); the request body goes in `body`, the JSON of the body model.
 *   Object methods: the method's args by name.
 * - call options: the CallOptions model, or empty for none.
 * - result: HTTP operations: the response body as the server sent it (the operation's
 *   2xx schema). Object methods: the JSON of the result type, `null` when none.
 * - error: {"type": <x-hues-sdk.errors type>, "message", "status", "code", "request_id",
 *   "field", "retryable", "body"?}; status 0 when no HTTP response was received; "body" is
 *   the error response's JSON object (at most 64 KiB) when it had one: bindings decode the
 *   typed members of x-hues-sdk.errors `body` classes from it (PreconditionFailedError.current).
 */
#ifndef HUES_C_API_H
#define HUES_C_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define HUES_C_EXPORT __declspec(dllexport)
#else
#define HUES_C_EXPORT __attribute__((visibility("default")))
#endif

/* HUES_EVENT: one event of a stream call (x-hues-stream), delivered to the call's sink with its
 * tag before the call's one completion; data = {"id", "type", "data": the event's JSON}. A stream
 * call's completion is HUES_OK (null) once cancelled (the host's close) or over, HUES_ERROR with
 * the error that ended it. Its args may carry "stream": the StreamOptions model. */
enum { HUES_OK = 0, HUES_ERROR = 1, HUES_EVENT = 2 };

typedef uint64_t hues_handle; /* an SDK object or a host object; 0 is none */
typedef uint64_t hues_call;   /* a started call; never reused; 0 is none */

/* Bytes the SDK allocated; the receiver frees them with hues_bytes_free. */
typedef struct hues_bytes {
  uint8_t* data;
  size_t len;
} hues_bytes;
HUES_C_EXPORT void hues_bytes_free(hues_bytes* bytes);

HUES_C_EXPORT const char* hues_version(void);
/* The hash of the spec libhues was generated from; generated bindings refuse to load
 * against a library built from another spec. */
HUES_C_EXPORT const char* hues_spec_hash(void);

/* ---- objects ---- */
/* Creates an object of `type` (an x-hues-sdk object name: "Client", "OidcClient", ...).
 * On failure returns HUES_ERROR and fills *error (error JSON). */
HUES_C_EXPORT int hues_object_new(const char* type, const uint8_t* config, size_t config_len,
                                  hues_handle* out, hues_bytes* error);
/* Drops the caller's reference. Calls in flight keep what they use alive. */
HUES_C_EXPORT void hues_object_release(hues_handle handle);

/* ---- completions ---- */
/* data is valid only during the call. status is HUES_OK (data = result) or HUES_ERROR
 * (data = error JSON), or HUES_EVENT for a stream call's events. */
typedef void (*hues_completion_fn)(void* context, uint64_t tag, int status, const uint8_t* data,
                                   size_t len);
typedef struct hues_sink hues_sink;
/* Completions run fn on an SDK host thread: never an I/O thread, never under an SDK lock. */
HUES_C_EXPORT hues_sink* hues_sink_callback(hues_completion_fn fn, void* context);
/* Completions wait in a queue; *fd (an eventfd) becomes readable while any wait, so an event
 * loop (asyncio's add_reader) can drain them on its own thread. */
HUES_C_EXPORT hues_sink* hues_sink_queue(int* fd);
/* Runs fn on the calling thread for up to max queued completions; returns how many ran. */
HUES_C_EXPORT size_t hues_sink_drain(hues_sink* sink, hues_completion_fn fn, void* context, size_t max);
/* Frees the sink once no started call still targets it. */
HUES_C_EXPORT void hues_sink_free(hues_sink* sink);

/* ---- calls ---- */
/* Starts call `call_id` on `target` (a Client for HTTP operations, else the method's object).
 * Never blocks on the network. The completion reaches sink exactly once with `tag`, even
 * when the start itself fails (bad args: a validation error naming the field). */
HUES_C_EXPORT hues_call hues_call_start(hues_handle target, uint32_t call_id, const uint8_t* args,
                                        size_t args_len, const uint8_t* options, size_t options_len,
                                        hues_sink* sink, uint64_t tag);
/* Aborts the call's I/O; its completion then carries a "cancelled" error (or its result, if it
 * had already finished). Harmless after completion and when repeated. */
HUES_C_EXPORT void hues_call_cancel(hues_call call);
/* A stream call whose args carry "ack": true counts each of its events as waiting until the host
 * acknowledges it here (n events at once), instead of once its sink handed the event on: at most
 * StreamOptions.max_buffered_events wait unacknowledged, then the SDK stops reading the stream
 * until acknowledgements free half of them. A host whose own queue feeds a slower consumer (an
 * iterator, a coroutine, an executor) acknowledges as its app takes each event, so that queue
 * stays bounded too. Harmless for other calls, after completion and beyond what was delivered. */
HUES_C_EXPORT void hues_call_ack(hues_call call, uint32_t n);
/* Start-then-wait on the same machinery. *started (may be null) receives the call's id before
 * waiting, so another thread can cancel it. Returns HUES_OK with the result in *out, or
 * HUES_ERROR with the error JSON in *out. */
HUES_C_EXPORT int hues_call_sync(hues_handle target, uint32_t call_id, const uint8_t* args,
                                 size_t args_len, const uint8_t* options, size_t options_len,
                                 hues_call* started, hues_bytes* out);

/* ---- host objects: interfaces an app implements in its own language ---- */
/* The SDK invokes method `method` (its index in x-hues-sdk.callbacks.<interface>.methods)
 * with the args JSON object, on an SDK host thread, never under an SDK lock. The host answers
 * exactly once with hues_reply(reply, ...), during the invoke or later from any thread:
 * HUES_OK with the result JSON (`null` when none) or HUES_ERROR with {"type", "message"}.
 * method == HUES_RELEASE means the SDK dropped its last reference: free host_id's state
 * (no reply). */
#define HUES_RELEASE (-1)
typedef void (*hues_invoke_fn)(void* context, uint64_t host_id, int32_t method, const uint8_t* args,
                               size_t args_len, uint64_t reply);
HUES_C_EXPORT int hues_host_object_new(const char* interface_name, hues_invoke_fn invoke, void* context,
                                       uint64_t host_id, hues_handle* out, hues_bytes* error);
HUES_C_EXPORT void hues_reply(uint64_t reply, int status, const uint8_t* data, size_t len);

/* ---- process ---- */
/* Cancels calls in flight (their completions run, cancelled), then stops and joins the SDK's
 * threads. Idempotent; later calls fail with a "cancelled" error. Hosts call it at exit. */
HUES_C_EXPORT void hues_shutdown(void);

#ifdef __cplusplus
}
#endif

#endif /* HUES_C_API_H */
