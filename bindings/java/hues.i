// SWIG interface for the Java binding. Generates vn.hues.sdk.internal.*; the public API in
// src/main/java/vn/hues/sdk wraps it. Models come from the X-macros of hues/models.h, which
// SWIG's preprocessor expands like a C++ compiler, so they are never re-declared here.
%module(directors="1") HuesNative

%{
#include "hues/hues.h"
#include "hues/testing/sandbox.h"
#include "internal/json_codec.h"
#include "hues_jni_support.h"
%}

// Any use of a generated class loads the native library first (from the jar, once).
%pragma(java) jniclasscode=%{
  static {
    vn.hues.sdk.NativeLoader.load();
  }
%}
%pragma(java) moduleclassmodifiers="final class"

%include <stdint.i>
%include <std_string.i>
%include <std_vector.i>
%include <std_shared_ptr.i>
%include <enums.swg>

// ---- Strings: exact UTF-8. JNI's *StringUTF* calls use "modified UTF-8", which mangles NUL
// and characters outside the BMP, so the conversion is ours (hues_jni_support.cpp).
namespace std {
%typemap(in) string %{
  if (!$input) { SWIG_JavaThrowException(jenv, SWIG_JavaNullPointerException, "null string"); return $null; }
  $1 = hues_jni::to_utf8(jenv, $input); %}
%typemap(in) const string & ($*1_ltype temp) %{
  if (!$input) { SWIG_JavaThrowException(jenv, SWIG_JavaNullPointerException, "null string"); return $null; }
  temp = hues_jni::to_utf8(jenv, $input);
  $1 = &temp; %}
%typemap(out) string %{ $result = hues_jni::to_jstring(jenv, $1); %}
%typemap(out) const string & %{ $result = hues_jni::to_jstring(jenv, *$1); %}
%typemap(directorin, descriptor="Ljava/lang/String;") const string & %{
  $input = hues_jni::to_jstring(jenv, $1);
  Swig::LocalRefGuard $1_refguard(jenv, $input); %}
}

// ---- Errors: every C++ exception becomes the matching vn.hues.sdk exception (by type()).
%exception {
  try {
    $action
  } catch (...) {
    hues_jni::rethrow_as_java(jenv);
    return $null;
  }
}

// ---- Value semantics. Getters and list elements return copies owned by Java: SWIG's default
// (a pointer into the parent) dangles once the parent proxy is collected, e.g. in
// reports.listPage(q).getItems().get(0).
%naturalvar;
%copyctor;
%typemap(out) const SWIGTYPE & %{ *($1_ltype *)&$result = new $*1_ltype(*$1); %}
%typemap(javaout) const SWIGTYPE & { return new $javaclassname($jnicall, true); }

// ---- Names: lowerCamelCase methods; fields become getX()/setX().
%rename("%(lowercamelcase)s", %$isfunction) "";
%rename("%(lowercamelcase)s", %$ismember, %$isvariable) "";
// Object.wait(long) is final in Java.
%rename(waitForRedirect) hues::LoopbackReceiver::wait;
%rename(DEBUG) hues::LogLevel::kDebug;
%rename(INFO) hues::LogLevel::kInfo;
%rename(WARNING) hues::LogLevel::kWarning;
%rename(ERROR) hues::LogLevel::kError;

// ---- Not exposed: transports (C++ extension point), futures (the Java layer runs async calls
// on an executor), C++ iteration.
%ignore hues::HttpRequest;
%ignore hues::HttpResponse;
%ignore hues::Transport;
%ignore hues::AttemptContext;
%ignore hues::make_default_transport;
%ignore hues::ClientOptions::transport;
%ignore hues::CancellationToken::add_callback;
%ignore hues::CancellationToken::remove_callback;
%ignore hues::ReportsClient::create_async;
%ignore hues::ReportsClient::get_async;
%ignore hues::ReportsClient::list_page_async;
%ignore hues::Pager::Pager;
%ignore hues::Pager::iterator;
%ignore hues::Pager::begin;
%ignore hues::Pager::end;
%feature("copyctor", "0") hues::CancellationToken;
%feature("copyctor", "0") hues::Logger;
%feature("copyctor", "0") hues::testing::Sandbox;
// Credentials providers work inside the C++ pipeline (HttpRequest is not exposed); Java only
// creates them and hands them to ClientOptions.
%ignore hues::CredentialsProvider::authorize;
%ignore hues::CredentialsProvider::on_unauthorized;
%ignore hues::ClientCredentials::authorize;
%ignore hues::ClientCredentials::on_unauthorized;
%ignore hues::UserCredentials::authorize;
%ignore hues::UserCredentials::on_unauthorized;
%feature("copyctor", "0") hues::CredentialsProvider;
%feature("copyctor", "0") hues::ClientCredentials;
%feature("copyctor", "0") hues::UserCredentials;
%feature("copyctor", "0") hues::OidcClient;
%feature("copyctor", "0") hues::LoopbackReceiver;
%feature("copyctor", "0") hues::TokenStore;

// ---- Shared objects. Logger is a director: a Java subclass receives the SDK's log lines.
%shared_ptr(hues::Logger)
%shared_ptr(hues::CancellationToken)
%shared_ptr(hues::CredentialsProvider)
%shared_ptr(hues::ClientCredentials)
%shared_ptr(hues::UserCredentials)
%shared_ptr(hues::OidcClient)
%shared_ptr(hues::TokenStore)
%feature("director") hues::Logger;
// TokenStore is a director too: apps keep tokens where they like (Android keystore, a file).
%feature("director") hues::TokenStore;

// A Java exception thrown by a director method travels through C++ as JavaThrowable (a global
// reference) and is rethrown to the Java caller as the same object: never lost, never a crash.
%feature("director:except") %{
  if (jthrowable $error = jenv->ExceptionOccurred()) {
    jenv->ExceptionClear();
    throw hues_jni::JavaThrowable(jenv, $error);
  }
%}

// ---- Lists are java.util.List implementations (AbstractList + RandomAccess).
namespace hues {
struct AttributeValue; struct CategoryAttribute; struct Category; struct Report;
}
%template(StringList) std::vector<std::string>;
%template(AttributeValueList) std::vector<hues::AttributeValue>;
%template(CategoryAttributeList) std::vector<hues::CategoryAttribute>;
%template(CategoryList) std::vector<hues::Category>;
%template(ReportList) std::vector<hues::Report>;

%include "hues/models.h"
%include "hues/http.h"
%include "hues/options.h"
%include "hues/identity.h"

// Every model prints as its JSON and compares by value (generated from HUES_FOR_EACH_MODEL).
%define HUES_SWIG_MODEL_EXTRAS(Model)
%extend hues::Model {
  std::string toJson() const { return hues::internal::to_json_string(*$self); }
  %proxycode %{
  @Override public String toString() { return toJson(); }
  @Override public boolean equals(Object o) {
    return o != null && o.getClass() == getClass() && toJson().equals(o.toString());
  }
  @Override public int hashCode() { return toJson().hashCode(); }
  %}
}
%enddef
#define HUES_SWIG_MODEL(Model, FIELDS) HUES_SWIG_MODEL_EXTRAS(Model)
HUES_FOR_EACH_MODEL(HUES_SWIG_MODEL)

// The pager is a java.util.Iterator<Report>; next() past the end throws NoSuchElementException.
%typemap(javainterfaces) hues::Pager<hues::Report, hues::ReportPage> "java.util.Iterator<Report>"
%include "hues/client.h"
%template(ReportPager) hues::Pager<hues::Report, hues::ReportPage>;

%include "hues/testing/sandbox.h"
