// The JNI glue of the Java/Kotlin binding: one small function per entry point of
// sdk/include/hues/c_api.h, plus the two upcalls (completions, host-object invokes) into
// vn.hues.sdk.internal.Native. Nothing here knows an operation or a model: calls go by id
// with JSON bytes. Hand-written rather than SWIG: the boundary is a dozen C functions over
// byte arrays, and SWIG cannot turn C function-pointer callbacks into Java upcalls anyway.
//
// Threads: completions and invokes arrive on SDK host threads. Each is attached to the JVM
// once, as a daemon (so it never keeps the JVM alive), and detached when the thread exits.
#include <jni.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "hues/c_api.h"

namespace {

JavaVM* g_vm = nullptr;
jclass g_native = nullptr;       // vn.hues.sdk.internal.Native (global ref)
jmethodID g_complete = nullptr;  // static void complete(long, int, byte[])
jmethodID g_invoke = nullptr;    // static void invoke(long, int, byte[], long)
hues_sink* g_sink = nullptr;
std::once_flag g_sink_once;

// Set once the exit hook's hues_shutdown() has returned: the JVM is going away, and a thread
// that attached or called into it now would block for ever (and with it whoever joins that
// thread from a C++ destructor at exit). Late completions and invokes are dropped instead.
std::atomic<bool> g_exiting{false};
std::atomic<int> g_upcalls{0};  // threads inside on_complete / on_invoke

// Counts an upcall in progress; refuses once the JVM is exiting.
class Upcall {
 public:
  Upcall() : ok_(true) {
    g_upcalls.fetch_add(1);
    if (g_exiting.load()) ok_ = false;
  }
  ~Upcall() { g_upcalls.fetch_sub(1); }
  Upcall(const Upcall&) = delete;
  Upcall& operator=(const Upcall&) = delete;
  bool ok() const { return ok_; }

 private:
  bool ok_;
};

// Attaches the current (SDK) thread once and detaches it when the thread ends.
struct Attachment {
  JNIEnv* env = nullptr;
  bool attached_here = false;
  ~Attachment() {
    if (attached_here && g_vm != nullptr && !g_exiting.load()) g_vm->DetachCurrentThread();
  }
};
thread_local Attachment t_attachment;

JNIEnv* env_for_this_thread() {
  if (t_attachment.env != nullptr) return t_attachment.env;
  JNIEnv* env = nullptr;
  if (g_vm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8) == JNI_OK) return env;  // a Java thread
  JavaVMAttachArgs args{JNI_VERSION_1_8, const_cast<char*>("hues-sdk"), nullptr};
  if (g_vm->AttachCurrentThreadAsDaemon(reinterpret_cast<void**>(&env), &args) != JNI_OK) return nullptr;
  t_attachment.env = env;
  t_attachment.attached_here = true;
  return env;
}

jbyteArray to_java(JNIEnv* env, const uint8_t* data, size_t len) {
  jbyteArray a = env->NewByteArray(static_cast<jsize>(len));
  if (a != nullptr && len > 0) env->SetByteArrayRegion(a, 0, static_cast<jsize>(len), reinterpret_cast<const jbyte*>(data));
  return a;
}

// A Java byte[] viewed as bytes for the duration of a native call.
class Bytes {
 public:
  Bytes(JNIEnv* env, jbyteArray a) : env_(env), a_(a) {
    if (a != nullptr) {
      len_ = static_cast<size_t>(env->GetArrayLength(a));
      data_ = reinterpret_cast<uint8_t*>(env->GetByteArrayElements(a, nullptr));
    }
  }
  ~Bytes() {
    if (data_ != nullptr) env_->ReleaseByteArrayElements(a_, reinterpret_cast<jbyte*>(data_), JNI_ABORT);
  }
  Bytes(const Bytes&) = delete;
  Bytes& operator=(const Bytes&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return len_; }

 private:
  JNIEnv* env_;
  jbyteArray a_;
  uint8_t* data_ = nullptr;
  size_t len_ = 0;
};

std::string utf(JNIEnv* env, jstring s) {
  // Type and interface names are ASCII, where modified UTF-8 is plain UTF-8.
  const char* c = env->GetStringUTFChars(s, nullptr);
  std::string out(c == nullptr ? "" : c);
  if (c != nullptr) env->ReleaseStringUTFChars(s, c);
  return out;
}

void store_error(JNIEnv* env, jobjectArray out, hues_bytes* error) {
  jbyteArray a = to_java(env, error->data, error->len);
  hues_bytes_free(error);
  if (out != nullptr && a != nullptr) env->SetObjectArrayElement(out, 0, a);
}

void clear_pending_exception(JNIEnv* env) {
  if (env->ExceptionCheck()) {
    env->ExceptionDescribe();
    env->ExceptionClear();
  }
}

void on_complete(void*, uint64_t tag, int status, const uint8_t* data, size_t len) {
  Upcall upcall;
  if (!upcall.ok()) return;
  JNIEnv* env = env_for_this_thread();
  if (env == nullptr) return;
  jbyteArray bytes = to_java(env, data, len);
  env->CallStaticVoidMethod(g_native, g_complete, static_cast<jlong>(tag), static_cast<jint>(status), bytes);
  clear_pending_exception(env);
  if (bytes != nullptr) env->DeleteLocalRef(bytes);
}

void on_invoke(void*, uint64_t host_id, int32_t method, const uint8_t* args, size_t len, uint64_t reply) {
  Upcall upcall;
  JNIEnv* env = upcall.ok() ? env_for_this_thread() : nullptr;
  if (env == nullptr) {
    if (method != HUES_RELEASE) {
      static const char kError[] = R"({"type":"cancelled","message":"the JVM is exiting"})";
      hues_reply(reply, HUES_ERROR, reinterpret_cast<const uint8_t*>(kError), sizeof kError - 1);
    }
    return;
  }
  jbyteArray bytes = args == nullptr ? nullptr : to_java(env, args, len);
  env->CallStaticVoidMethod(g_native, g_invoke, static_cast<jlong>(host_id), static_cast<jint>(method), bytes,
                            static_cast<jlong>(reply));
  clear_pending_exception(env);
  if (bytes != nullptr) env->DeleteLocalRef(bytes);
}

hues_sink* sink() {
  std::call_once(g_sink_once, [] { g_sink = hues_sink_callback(on_complete, nullptr); });
  return g_sink;
}

}  // namespace

extern "C" {

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM* vm, void*) {
  g_vm = vm;
  JNIEnv* env = nullptr;
  if (vm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8) != JNI_OK) return JNI_ERR;
  jclass local = env->FindClass("vn/hues/sdk/internal/Native");
  if (local == nullptr) return JNI_ERR;
  g_native = static_cast<jclass>(env->NewGlobalRef(local));
  env->DeleteLocalRef(local);
  g_complete = env->GetStaticMethodID(g_native, "complete", "(JI[B)V");
  g_invoke = env->GetStaticMethodID(g_native, "invoke", "(JI[BJ)V");
  if (g_complete == nullptr || g_invoke == nullptr) return JNI_ERR;
  return JNI_VERSION_1_8;
}

JNIEXPORT jstring JNICALL Java_vn_hues_sdk_internal_Native_version(JNIEnv* env, jclass) {
  return env->NewStringUTF(hues_version());
}

JNIEXPORT jstring JNICALL Java_vn_hues_sdk_internal_Native_specHash(JNIEnv* env, jclass) {
  return env->NewStringUTF(hues_spec_hash());
}

JNIEXPORT jlong JNICALL Java_vn_hues_sdk_internal_Native_objectNew(JNIEnv* env, jclass, jstring type,
                                                                    jbyteArray config, jobjectArray error) {
  std::string t = utf(env, type);
  hues_handle out = 0;
  hues_bytes err{nullptr, 0};
  int rc;
  {
    Bytes cfg(env, config);
    rc = hues_object_new(t.c_str(), cfg.data(), cfg.size(), &out, &err);
  }
  if (rc != HUES_OK) {
    store_error(env, error, &err);
    return 0;
  }
  return static_cast<jlong>(out);
}

JNIEXPORT void JNICALL Java_vn_hues_sdk_internal_Native_objectRelease(JNIEnv*, jclass, jlong handle) {
  hues_object_release(static_cast<hues_handle>(handle));
}

JNIEXPORT jlong JNICALL Java_vn_hues_sdk_internal_Native_callStart(JNIEnv* env, jclass, jlong target, jint call_id,
                                                                    jbyteArray args, jbyteArray options, jlong tag) {
  Bytes a(env, args);
  Bytes o(env, options);
  return static_cast<jlong>(hues_call_start(static_cast<hues_handle>(target), static_cast<uint32_t>(call_id), a.data(),
                                            a.size(), o.data(), o.size(), sink(), static_cast<uint64_t>(tag)));
}

JNIEXPORT void JNICALL Java_vn_hues_sdk_internal_Native_callCancel(JNIEnv*, jclass, jlong call) {
  hues_call_cancel(static_cast<hues_call>(call));
}

JNIEXPORT void JNICALL Java_vn_hues_sdk_internal_Native_callAck(JNIEnv*, jclass, jlong call, jint n) {
  if (n > 0) hues_call_ack(static_cast<hues_call>(call), static_cast<uint32_t>(n));
}

JNIEXPORT jlong JNICALL Java_vn_hues_sdk_internal_Native_hostObjectNew(JNIEnv* env, jclass, jstring iface,
                                                                        jlong host_id, jobjectArray error) {
  std::string name = utf(env, iface);
  hues_handle out = 0;
  hues_bytes err{nullptr, 0};
  if (hues_host_object_new(name.c_str(), on_invoke, nullptr, static_cast<uint64_t>(host_id), &out, &err) != HUES_OK) {
    store_error(env, error, &err);
    return 0;
  }
  return static_cast<jlong>(out);
}

JNIEXPORT void JNICALL Java_vn_hues_sdk_internal_Native_reply(JNIEnv* env, jclass, jlong reply, jint status,
                                                               jbyteArray data) {
  Bytes d(env, data);
  hues_reply(static_cast<uint64_t>(reply), status, d.data(), d.size());
}

JNIEXPORT void JNICALL Java_vn_hues_sdk_internal_Native_shutdown(JNIEnv*, jclass) {
  hues_shutdown();
}

JNIEXPORT void JNICALL Java_vn_hues_sdk_internal_Native_shutdownAtExit(JNIEnv*, jclass) {
  hues_shutdown();
  // From here on no SDK thread enters the JVM; wait (briefly) for those already inside, so
  // that none is caught attaching or calling in while the JVM is destroyed.
  g_exiting.store(true);
  for (int i = 0; i < 2000 && g_upcalls.load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

}  // extern "C"
