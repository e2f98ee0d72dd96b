// SWIG interface for the C# binding. Generates Hues.Sdk.Native.* (the models public, the
// plumbing internal); the hand-written API in src/ (namespace Hues.Sdk) wraps the plumbing.
// Models come from the X-macros of hues/models.h, which SWIG's preprocessor expands, so they
// are never re-declared here.
%module(directors="1") HuesNative

%{
#include <stdexcept>
#include <utility>
#include "hues/hues.h"
#include "hues/testing/sandbox.h"
%}

%pragma(csharp) moduleclassmodifiers="internal class"

%include <stdint.i>
%include <std_string.i>
%include <std_vector.i>
%include <std_shared_ptr.i>

// ---- Strings: explicit UTF-8 in every direction. P/Invoke's default for `string` is the ANSI
// code page on .NET Framework (UTF-8 only on Mono and .NET Core), which would mangle Vietnamese.
%typemap(imtype,
  inattributes="[global::System.Runtime.InteropServices.MarshalAs(global::System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)]",
  outattributes="[return: global::System.Runtime.InteropServices.MarshalAs(global::System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)]",
  directorinattributes="[global::System.Runtime.InteropServices.MarshalAs(global::System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)]",
  directoroutattributes="[return: global::System.Runtime.InteropServices.MarshalAs(global::System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)]")
  std::string, const std::string &, char *, const char * "string"

// SWIG's string helper (built with -DSWIG_CSHARP_NO_STRING_HELPER), redone with UTF-8: C++
// hands a char* to C#, which returns a runtime-allocated copy that P/Invoke then frees.
%insert(runtime) %{
typedef char *(SWIGSTDCALL *SWIG_CSharpStringHelperCallback)(const char *);
static SWIG_CSharpStringHelperCallback SWIG_csharp_string_callback = NULL;
extern "C" SWIGEXPORT void SWIGSTDCALL SWIGRegisterStringCallback_$module(SWIG_CSharpStringHelperCallback cb) {
  SWIG_csharp_string_callback = cb;
}
%}
%pragma(csharp) imclasscode=%{
  protected class SWIGStringHelper {
    [return: global::System.Runtime.InteropServices.MarshalAs(global::System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)]
    public delegate string SWIGStringDelegate(
        [global::System.Runtime.InteropServices.MarshalAs(global::System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string message);
    static SWIGStringDelegate stringDelegate = new SWIGStringDelegate(CreateString);

    [global::System.Runtime.InteropServices.DllImport("$dllimport", EntryPoint="SWIGRegisterStringCallback_$module")]
    public static extern void SWIGRegisterStringCallback_$module(SWIGStringDelegate stringDelegate);

    static string CreateString(string cString) { return cString; }

    static SWIGStringHelper() { SWIGRegisterStringCallback_$module(stringDelegate); }
  }
  static protected SWIGStringHelper swigStringHelper = new SWIGStringHelper();
%}

// ---- Errors: one handler for every call. A hues::Error becomes the Hues.Sdk exception that
// matches e.type(), with all its details; other C++ exceptions become .NET ones. The C#
// callback only records the exception; the generated code throws it when the call returns.
%insert(runtime) %{
typedef void (SWIGSTDCALL *HuesErrorCallback)(int type, int http_status, const char *code,
    const char *message, const char *request_id, const char *field, int retryable);
static HuesErrorCallback hues_error_callback = NULL;
extern "C" SWIGEXPORT void SWIGSTDCALL HuesRegisterErrorCallback_$module(HuesErrorCallback cb) {
  hues_error_callback = cb;
}
// Negative types are not hues::ErrorType values: see Hues.Sdk.HuesException.FromNative.
static void hues_set_pending(int type, const char *message) {
  hues_error_callback(type, 0, "", message, "", "", 0);
}
%}
%pragma(csharp) imclasscode=%{
  protected class HuesErrorHelper {
    public delegate void HuesErrorDelegate(int type, int httpStatus,
        [global::System.Runtime.InteropServices.MarshalAs(global::System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string code,
        [global::System.Runtime.InteropServices.MarshalAs(global::System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string message,
        [global::System.Runtime.InteropServices.MarshalAs(global::System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string requestId,
        [global::System.Runtime.InteropServices.MarshalAs(global::System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string field,
        int retryable);
    static HuesErrorDelegate errorDelegate = new HuesErrorDelegate(SetPending);

    [global::System.Runtime.InteropServices.DllImport("$dllimport", EntryPoint="HuesRegisterErrorCallback_$module")]
    public static extern void HuesRegisterErrorCallback_$module(HuesErrorDelegate errorDelegate);

    static void SetPending(int type, int httpStatus, string code, string message, string requestId,
                           string field, int retryable) {
      SWIGPendingException.Set(global::Hues.Sdk.HuesException.FromNative(
          type, httpStatus, code, message, requestId, field, retryable != 0));
    }

    static HuesErrorHelper() { HuesRegisterErrorCallback_$module(errorDelegate); }
  }
  static protected HuesErrorHelper huesErrorHelper = new HuesErrorHelper();
%}

%exception {
  try {
    $action
  } catch (const hues::cs::StoreFailure &e) {
    // A C# TokenStore threw: -3 makes a TokenStoreException wrapping that exception (its id
    // travels in the status slot).
    hues_error_callback(-3, e.id, "token_store", e.what(), "", "", 0);
    return $null;
  } catch (const hues::Error &e) {
    hues_error_callback(static_cast<int>(e.type()), e.http_status(), e.code().c_str(),
                        e.message().c_str(), e.request_id().c_str(), e.field().c_str(),
                        e.retryable() ? 1 : 0);
    return $null;
  } catch (const std::invalid_argument &e) {
    hues_set_pending(-2, e.what());
    return $null;
  } catch (const std::exception &e) {
    hues_set_pending(-1, e.what());
    return $null;
  } catch (...) {
    hues_set_pending(-1, "unknown C++ exception");
    return $null;
  }
}

// ---- Lifetime. A proxy for a member (report.Location) or a list element (page.Items[0])
// points into its parent's C++ memory, so it holds a reference that keeps the parent from
// being collected (and freed) while the child is in use.
%typemap(csbody) SWIGTYPE %{
  private global::System.Runtime.InteropServices.HandleRef swigCPtr;
  protected bool swigCMemOwn;
  // The proxy whose C++ object owns this one's memory, when this proxy does not own it.
  internal object swigOwner;

  internal $csclassname(global::System.IntPtr cPtr, bool cMemoryOwn) {
    swigCMemOwn = cMemoryOwn;
    swigCPtr = new global::System.Runtime.InteropServices.HandleRef(this, cPtr);
  }

  internal static global::System.Runtime.InteropServices.HandleRef getCPtr($csclassname obj) {
    return (obj == null) ? new global::System.Runtime.InteropServices.HandleRef(null, global::System.IntPtr.Zero) : obj.swigCPtr;
  }
%}
%typemap(csvarout, excode=SWIGEXCODE2) SWIGTYPE * %{
    get {
      global::System.IntPtr cPtr = $imcall;$excode
      $csclassname ret = (cPtr == global::System.IntPtr.Zero) ? null : new $csclassname(cPtr, $owner);
      if (ret != null) ret.swigOwner = this;
      return ret;
    } %}
%typemap(csout, excode=SWIGEXCODE) SWIGTYPE & {
    $csclassname ret = new $csclassname($imcall, $owner);$excode
    ret.swigOwner = this;
    return ret;
  }

// ---- Lists: IEnumerable<T> with an indexer and Count (IList<string> for strings).
// Elements read through the indexer point into the list and keep it alive (see Lifetime).
namespace hues {
struct AttributeValue; struct CategoryAttribute; struct Category; struct Report;
}
%template(StringVector) std::vector<std::string>;
%template(AttributeValueVector) std::vector<hues::AttributeValue>;
%template(CategoryAttributeVector) std::vector<hues::CategoryAttribute>;
%template(CategoryVector) std::vector<hues::Category>;
%template(ReportVector) std::vector<hues::Report>;

// ---- Names: PascalCase methods and properties (category.NameVi, pager.HasNext());
// enumerators lose their k prefix (LogLevel.Debug, ErrorType.Validation). The lists above
// are instantiated first so they keep SWIG's names, which std_vector.i's C# code calls.
%rename("%(camelcase)s", %$isfunction) "";
%rename("%(camelcase)s", %$isvariable) "";
%rename("%(regex:/^k(.+)$/\\1/)s", %$isenumitem) "";

// ---- Not exposed: transports (a C++ extension point), futures (the C# layer runs async calls
// as Tasks), C++ iteration, C++ exception classes (mapped above instead).
%ignore hues::HttpRequest;
%ignore hues::HttpResponse;
%ignore hues::Headers;
%ignore hues::Transport;
%ignore hues::AttemptContext;
%ignore hues::make_default_transport;
%ignore hues::ClientOptions::transport;
%ignore hues::CancellationToken::add_callback;
%ignore hues::CancellationToken::remove_callback;
%ignore hues::ReportsClient::create_async;
%ignore hues::ReportsClient::get_async;
%ignore hues::ReportsClient::list_page_async;
%ignore hues::Client::options;
%ignore hues::OidcClient::options;
// Credentials authorize requests inside the C++ pipeline only.
%ignore hues::CredentialsProvider::authorize;
%ignore hues::CredentialsProvider::on_unauthorized;
%ignore hues::ClientCredentials::authorize;
%ignore hues::ClientCredentials::on_unauthorized;
%ignore hues::UserCredentials::authorize;
%ignore hues::UserCredentials::on_unauthorized;
%rename(CreateAuthorizationRequest) hues::OidcClient::authorization_request;
%rename(ClientCredentialsGrant) hues::OidcClient::client_credentials;
%ignore hues::Pager::Pager;
%ignore hues::Pager::iterator;
%ignore hues::Pager::begin;
%ignore hues::Pager::end;
%rename("$ignore", %$isclass, regextarget=1) "Error$";  // hues::Error and its subclasses
%ignore hues::throw_error;
%ignore hues::to_string;

// ---- Plumbing the C# API wraps stays internal to Hues.Sdk.dll.
%typemap(csclassmodifiers) hues::Client, hues::ReportsClient, hues::ClientOptions,
  hues::CallOptions, hues::RetryPolicy, hues::CancellationToken, hues::Logger,
  hues::testing::Sandbox, hues::testing::SandboxOptions,
  hues::Pager<hues::Report, hues::ReportPage>, hues::OidcOptions, hues::OidcClient,
  hues::CredentialsProvider, hues::ClientCredentials, hues::UserCredentials, hues::TokenStore,
  hues::LoopbackReceiver, hues::cs::ManagedTokenStore "internal class"
%rename(NativeCancellationToken) hues::CancellationToken;
%rename(NativeTokenStore) hues::TokenStore;
%rename(NativeOidcClient) hues::OidcClient;
%rename(NativeClientCredentials) hues::ClientCredentials;
%rename(NativeUserCredentials) hues::UserCredentials;
%rename(NativeLoopbackReceiver) hues::LoopbackReceiver;
// A director hands C# a TokenSet that lives in C++ only during the call: stores copy it.
%copyctor hues::TokenSet;

// ---- Shared objects. Logger is a director: LoggerBridge (src/HuesClient.cs) subclasses it in
// C# and receives the SDK's log lines.
%shared_ptr(hues::Logger)
%shared_ptr(hues::CancellationToken)
%feature("director") hues::Logger;
%shared_ptr(hues::CredentialsProvider)
%shared_ptr(hues::ClientCredentials)
%shared_ptr(hues::UserCredentials)
%shared_ptr(hues::TokenStore)
%shared_ptr(hues::OidcClient)
%shared_ptr(hues::cs::ManagedTokenStore)
%feature("director") hues::cs::ManagedTokenStore;

%include "hues/error.h"
%include "hues/models.h"
%include "hues/http.h"
%include "hues/options.h"
%include "hues/identity.h"

// ---- Token stores written in C#. TokenStoreBridge (src/Identity/TokenStore.cs) is a director
// of ManagedTokenStore; adapt_token_store wraps it in a hues::TokenStore for the SDK. The
// bridge pins itself with a GCHandle until the adapter, the SDK's only reference, is
// destroyed and calls release(): callbacks never reach a collected object. A C# exception
// cannot cross into C++ frames, so the bridge catches it, reports its id with
// store_failed(), and the adapter throws StoreFailure for the error handler above.
%{
namespace hues { namespace cs {
struct StoreFailure : std::runtime_error {
  StoreFailure(int id, const std::string &what) : std::runtime_error(what), id(id) {}
  int id;
};
static thread_local int pending_store_failure = 0;
}}
%}
%inline %{
namespace hues { namespace cs {
class ManagedTokenStore {
 public:
  virtual ~ManagedTokenStore() = default;
  virtual TokenSet load(const std::string &key) = 0;
  virtual void save(const std::string &key, const TokenSet &tokens) = 0;
  virtual void remove(const std::string &key) = 0;
  virtual void release() = 0;
};
// Called by the bridge, on the thread of the failing callback.
void store_failed(int id) { pending_store_failure = id; }
}}
%}
%{
namespace hues { namespace cs {
class TokenStoreAdapter final : public TokenStore {
 public:
  explicit TokenStoreAdapter(std::shared_ptr<ManagedTokenStore> impl) : impl_(std::move(impl)) {}
  ~TokenStoreAdapter() override { impl_->release(); }
  TokenSet load(const std::string &key) override {
    TokenSet t = impl_->load(key);
    check("load");
    return t;
  }
  void save(const std::string &key, const TokenSet &tokens) override { impl_->save(key, tokens); check("save"); }
  void remove(const std::string &key) override { impl_->remove(key); check("remove"); }

 private:
  static void check(const char *op) {
    if (int id = std::exchange(pending_store_failure, 0))
      throw StoreFailure(id, std::string("the token store's ") + op + " failed");
  }
  std::shared_ptr<ManagedTokenStore> impl_;
};
}}
%}
%inline %{
namespace hues { namespace cs {
std::shared_ptr<TokenStore> adapt_token_store(std::shared_ptr<ManagedTokenStore> impl) {
  return std::make_shared<TokenStoreAdapter>(std::move(impl));
}
}}
%}

%warnfilter(SWIGWARN_PARSE_KEYWORD) hues::internal;  // namespace internal: never wrapped
%include "hues/client.h"
%template(ReportPager) hues::Pager<hues::Report, hues::ReportPage>;
%include "hues/testing/sandbox.h"
