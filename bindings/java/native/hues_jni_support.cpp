#include "hues_jni_support.h"

#include <cstdint>
#include <exception>
#include <new>
#include <stdexcept>

#include "hues/error.h"

namespace hues_jni {
namespace {

// Exception classes and their (String message, int status, String code, String requestId,
// String field, boolean retryable) constructors, resolved once in JNI_OnLoad.
struct ExceptionClass {
  jclass cls = nullptr;
  jmethodID ctor = nullptr;
};
constexpr int kErrorTypes = static_cast<int>(hues::ErrorType::kInvalidToken) + 1;
ExceptionClass g_classes[kErrorTypes];
JavaVM* g_vm = nullptr;

const char* java_class_for(hues::ErrorType t) {
  switch (t) {
    case hues::ErrorType::kValidation: return "vn/hues/sdk/ValidationException";
    case hues::ErrorType::kAuthentication: return "vn/hues/sdk/AuthenticationException";
    case hues::ErrorType::kPermissionDenied: return "vn/hues/sdk/PermissionDeniedException";
    case hues::ErrorType::kNotFound: return "vn/hues/sdk/NotFoundException";
    case hues::ErrorType::kConflict: return "vn/hues/sdk/ConflictException";
    case hues::ErrorType::kRateLimited: return "vn/hues/sdk/RateLimitException";
    case hues::ErrorType::kServer: return "vn/hues/sdk/ServerException";
    case hues::ErrorType::kApi: return "vn/hues/sdk/ApiException";
    case hues::ErrorType::kTimeout: return "vn/hues/sdk/TimeoutException";
    case hues::ErrorType::kTls: return "vn/hues/sdk/TlsException";
    case hues::ErrorType::kConnection: return "vn/hues/sdk/ConnectionException";
    case hues::ErrorType::kProtocol: return "vn/hues/sdk/ProtocolException";
    case hues::ErrorType::kCancelled: return "vn/hues/sdk/CancelledException";
    case hues::ErrorType::kOAuth: return "vn/hues/sdk/OAuthException";
    case hues::ErrorType::kInvalidToken: return "vn/hues/sdk/InvalidTokenException";
  }
  return "vn/hues/sdk/HuesException";
}

void throw_plain(JNIEnv* env, const char* cls, const char* message) {
  if (env->ExceptionCheck()) return;
  if (jclass c = env->FindClass(cls)) env->ThrowNew(c, message);
}

void throw_error(JNIEnv* env, const hues::Error& e) {
  const auto index = static_cast<int>(e.type());
  const ExceptionClass* ec = (index >= 0 && index < kErrorTypes) ? &g_classes[index] : nullptr;
  if (!ec || !ec->cls) return throw_plain(env, "java/lang/RuntimeException", e.what());
  jstring message = to_jstring(env, e.message().empty() ? std::string(e.what()) : e.message());
  jstring code = to_jstring(env, e.code());
  jstring request_id = to_jstring(env, e.request_id());
  jstring field = to_jstring(env, e.field());
  if (env->ExceptionCheck()) return;  // out of memory while building the strings
  auto obj = static_cast<jthrowable>(env->NewObject(ec->cls, ec->ctor, message,
      static_cast<jint>(e.http_status()), code, request_id, field,
      static_cast<jboolean>(e.retryable())));
  if (obj) env->Throw(obj);
  env->DeleteLocalRef(message);
  env->DeleteLocalRef(code);
  env->DeleteLocalRef(request_id);
  env->DeleteLocalRef(field);
}

}  // namespace

JavaThrowable::JavaThrowable(JNIEnv* env, jthrowable error)
    : ref_(env->NewGlobalRef(error), [](jobject ref) {
        if (!ref || !g_vm) return;
        JNIEnv* e = nullptr;
        // The last copy may die on a thread the JVM does not know: attach it for the delete.
        bool attached = false;
        if (g_vm->GetEnv(reinterpret_cast<void**>(&e), JNI_VERSION_1_8) != JNI_OK)
          attached = g_vm->AttachCurrentThreadAsDaemon(reinterpret_cast<void**>(&e), nullptr) == JNI_OK;
        if (e) e->DeleteGlobalRef(ref);
        if (attached) g_vm->DetachCurrentThread();
      }) {}

std::string to_utf8(JNIEnv* env, jstring s) {
  std::string out;
  if (!s) return out;
  const jsize n = env->GetStringLength(s);
  const jchar* chars = env->GetStringCritical(s, nullptr);
  if (!chars) return out;
  out.reserve(static_cast<std::size_t>(n));
  for (jsize i = 0; i < n; ++i) {
    std::uint32_t cp = chars[i];
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < n && chars[i + 1] >= 0xDC00 &&
        chars[i + 1] <= 0xDFFF) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (chars[++i] - 0xDC00);
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      cp = 0xFFFD;  // lone surrogate: not encodable in UTF-8
    }
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  env->ReleaseStringCritical(s, chars);
  return out;
}

jstring to_jstring(JNIEnv* env, const std::string& utf8) {
  std::u16string out;
  out.reserve(utf8.size());
  const auto* p = reinterpret_cast<const unsigned char*>(utf8.data());
  const std::size_t n = utf8.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char b = p[i];
    std::uint32_t cp = 0xFFFD;
    std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= n;
    if (ok) {
      cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
      for (std::size_t k = 1; k < len && ok; ++k) {
        ok = (p[i + k] & 0xC0) == 0x80;
        cp = (cp << 6) | (p[i + k] & 0x3F);
      }
      // Reject overlong forms, surrogates and values past U+10FFFF.
      static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = ok && cp >= kMin[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (!ok) {  // invalid byte: one U+FFFD, resynchronise on the next byte
      cp = 0xFFFD;
      len = 1;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += static_cast<char16_t>(0xD800 + (cp >> 10));
      out += static_cast<char16_t>(0xDC00 + (cp & 0x3FF));
    } else {
      out += static_cast<char16_t>(cp);
    }
    i += len;
  }
  return env->NewString(reinterpret_cast<const jchar*>(out.data()), static_cast<jsize>(out.size()));
}

void rethrow_as_java(JNIEnv* env) {
  try {
    throw;
  } catch (const JavaThrowable& e) {
    if (!env->ExceptionCheck() && e.get()) env->Throw(e.get());
  } catch (const hues::Error& e) {
    throw_error(env, e);
  } catch (const std::out_of_range& e) {  // Pager::next past the end
    throw_plain(env, "java/util/NoSuchElementException", e.what());
  } catch (const std::invalid_argument& e) {
    throw_plain(env, "java/lang/IllegalArgumentException", e.what());
  } catch (const std::bad_alloc&) {
    throw_plain(env, "java/lang/OutOfMemoryError", "out of native memory");
  } catch (const std::exception& e) {
    throw_plain(env, "java/lang/RuntimeException", e.what());
  } catch (...) {
    throw_plain(env, "java/lang/RuntimeException", "unknown C++ exception");
  }
}

}  // namespace hues_jni

// Resolves the exception classes with the class loader that loaded this library (the SDK's).
extern "C" JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM* vm, void*) {
  JNIEnv* env = nullptr;
  if (vm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8) != JNI_OK) return JNI_ERR;
  using namespace hues_jni;
  g_vm = vm;
  for (int i = 0; i < kErrorTypes; ++i) {
    jclass local = env->FindClass(java_class_for(static_cast<hues::ErrorType>(i)));
    if (!local) {  // the API classes are missing (raw use of the generated classes)
      env->ExceptionClear();
      continue;
    }
    g_classes[i].cls = static_cast<jclass>(env->NewGlobalRef(local));
    g_classes[i].ctor = env->GetMethodID(local, "<init>",
        "(Ljava/lang/String;ILjava/lang/String;Ljava/lang/String;Ljava/lang/String;Z)V");
    env->DeleteLocalRef(local);
    if (!g_classes[i].ctor) {
      env->ExceptionClear();
      env->DeleteGlobalRef(g_classes[i].cls);
      g_classes[i].cls = nullptr;
    }
  }
  return JNI_VERSION_1_8;
}
