// JNI helpers for the SWIG wrapper: exact UTF-8 <-> Java String conversion and the mapping of
// hues::Error to the Java exception classes of vn.hues.sdk.
#pragma once

#include <jni.h>

#include <exception>
#include <memory>
#include <string>

namespace hues_jni {

// Java Strings are UTF-16; the SDK carries UTF-8. JNI's *StringUTF* functions use "modified
// UTF-8" (NUL and non-BMP characters differ), so we convert ourselves.
std::string to_utf8(JNIEnv* env, jstring s);
jstring to_jstring(JNIEnv* env, const std::string& utf8);

// A Java exception thrown by a director method (TokenStore, Logger) on its way back through
// C++. Holds a global reference, so it may cross threads (an async call's worker) and be
// rethrown to the Java caller as the very same object.
class JavaThrowable : public std::exception {
 public:
  JavaThrowable(JNIEnv* env, jthrowable error);
  const char* what() const noexcept override { return "Java exception in a callback"; }
  jthrowable get() const { return static_cast<jthrowable>(ref_.get()); }

 private:
  std::shared_ptr<_jobject> ref_;  // deleted with DeleteGlobalRef on whichever thread
};

// Call from a catch (...) block: throws the Java exception that matches the C++ one
// (hues::Error -> vn.hues.sdk.*Exception chosen by type()).
void rethrow_as_java(JNIEnv* env);

}  // namespace hues_jni
