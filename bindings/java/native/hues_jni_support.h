// JNI helpers for the SWIG wrapper: exact UTF-8 <-> Java String conversion and the mapping of
// hues::Error to the Java exception classes of vn.hues.sdk.
#pragma once

#include <jni.h>

#include <string>

namespace hues_jni {

// Java Strings are UTF-16; the SDK carries UTF-8. JNI's *StringUTF* functions use "modified
// UTF-8" (NUL and non-BMP characters differ), so we convert ourselves.
std::string to_utf8(JNIEnv* env, jstring s);
jstring to_jstring(JNIEnv* env, const std::string& utf8);

// Call from a catch (...) block: throws the Java exception that matches the C++ one
// (hues::Error -> vn.hues.sdk.*Exception chosen by type()).
void rethrow_as_java(JNIEnv* env);

}  // namespace hues_jni
