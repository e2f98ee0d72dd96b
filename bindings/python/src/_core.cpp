// hues._core: the pybind11 binding of the C++ SDK. The Pythonic surface (keyword
// constructors, errors, asyncio) lives in the pure-Python package around it.
#include <pybind11/native_enum.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <mutex>
#include <optional>
#include <type_traits>

#include "hues/hues.h"
#include "hues/testing/sandbox.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace {

// Adds copy.copy()/copy.deepcopy() support to a bound value type.
template <typename T, typename Cls>
Cls copyable(Cls cls) {
  return cls.def("__copy__", [](const T& self) { return T(self); })
      .def("__deepcopy__", [](const T& self, py::handle) { return T(self); });
}

// ---- Models, walked through the X-macro field lists of hues/models.h -------------------

// ModelInfo<M>::members(f) calls f("field", &M::field) for every field of model M.
template <typename T>
struct ModelInfo {
  static constexpr bool is_model = false;
};
#define HUES_PY_MEMBER(type, name, json) f(#name, &Self::name);
#define HUES_PY_MODEL_INFO(Model, FIELDS)                                  \
  template <>                                                              \
  struct ModelInfo<hues::Model> {                                          \
    using Self = hues::Model;                                              \
    static constexpr bool is_model = true;                                 \
    static constexpr const char* name = #Model;                            \
    template <typename F>                                                  \
    static void members(F&& f) { FIELDS(HUES_PY_MEMBER) }                  \
  };
HUES_FOR_EACH_MODEL(HUES_PY_MODEL_INFO)
#undef HUES_PY_MODEL_INFO
#undef HUES_PY_MEMBER

template <typename T>
struct is_vector : std::false_type {};
template <typename T>
struct is_vector<std::vector<T>> : std::true_type {};

template <typename M, typename P>
using field_t = std::remove_cv_t<std::remove_reference_t<decltype(std::declval<M&>().*std::declval<P>())>>;

// The Python type of a field, as written in the generated stubs ("list[Report]").
template <typename T>
std::string py_type_name() {
  if constexpr (std::is_same_v<T, std::string>) return "str";
  else if constexpr (std::is_same_v<T, bool>) return "bool";
  else if constexpr (std::is_integral_v<T>) return "int";
  else if constexpr (std::is_floating_point_v<T>) return "float";
  else if constexpr (ModelInfo<T>::is_model) return ModelInfo<T>::name;
  else return "list[" + py_type_name<typename T::value_type>() + "]";
}

[[noreturn]] void wrong_type(const std::string& path, const std::string& expected, py::handle v) {
  throw py::type_error(path + ": expected " + expected + ", got " +
                       py::str(py::type::handle_of(v).attr("__name__")).cast<std::string>());
}

template <typename T>
T model_from_mapping(py::handle mapping, const std::string& path);

// Strict Python -> C++ conversion: no silent str->bool or float->int; dicts and lists
// build nested models, so NewReport(location={"lat": ..., "lon": ...}) works.
template <typename T>
T from_py(py::handle v, const std::string& path) {
  PyObject* o = v.ptr();
  if constexpr (std::is_same_v<T, bool>) {
    if (!PyBool_Check(o)) wrong_type(path, "bool", v);
    return o == Py_True;
  } else if constexpr (std::is_integral_v<T>) {
    if (!PyLong_Check(o) || PyBool_Check(o)) wrong_type(path, "int", v);
    return v.cast<T>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!PyFloat_Check(o) && (!PyLong_Check(o) || PyBool_Check(o))) wrong_type(path, "float", v);
    return v.cast<T>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!PyUnicode_Check(o)) wrong_type(path, "str", v);
    return v.cast<std::string>();
  } else if constexpr (is_vector<T>::value) {
    if (PyUnicode_Check(o) || PyBytes_Check(o) || PyDict_Check(o) || !py::isinstance<py::iterable>(v))
      wrong_type(path, py_type_name<T>(), v);
    T out;
    for (py::handle item : v)
      out.push_back(from_py<typename T::value_type>(item, path + "[" + std::to_string(out.size()) + "]"));
    return out;
  } else {
    static_assert(ModelInfo<T>::is_model);
    if (py::isinstance<T>(v)) return v.cast<T>();
    if (PyDict_Check(o)) return model_from_mapping<T>(v, path);
    wrong_type(path, py_type_name<T>(), v);
  }
}

template <typename T>
T model_from_mapping(py::handle mapping, const std::string& path) {
  T model{};
  for (auto item : py::reinterpret_borrow<py::dict>(mapping)) {
    std::string key = py::str(item.first);
    bool known = false;
    ModelInfo<T>::members([&](const char* name, auto member) {
      if (known || key != name) return;
      known = true;
      model.*member = from_py<field_t<T, decltype(member)>>(item.second, path + "." + name);
    });
    if (!known)
      throw py::type_error(path + "() got an unexpected keyword argument '" + key + "'");
  }
  return model;
}

template <typename T>
py::object to_py(const T& v) {
  if constexpr (ModelInfo<T>::is_model) {
    py::dict d;
    ModelInfo<T>::members([&](const char* name, auto member) { d[name] = to_py(v.*member); });
    return std::move(d);
  } else if constexpr (is_vector<T>::value) {
    py::list l;
    for (const auto& item : v) l.append(to_py(item));
    return std::move(l);
  } else {
    return py::cast(v);
  }
}

template <typename T>
bool equal(const T& a, const T& b) {
  if constexpr (ModelInfo<T>::is_model) {
    bool same = true;
    ModelInfo<T>::members([&](const char*, auto member) { same = same && equal(a.*member, b.*member); });
    return same;
  } else if constexpr (is_vector<T>::value) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!equal(a[i], b[i])) return false;
    return true;
  } else {
    return a == b;
  }
}

// Fields whose values are credentials: repr() shows only whether they are set.
bool is_secret_field(const std::string& field) {
  for (const char* f : {"access_token", "refresh_token", "id_token", "device_code", "client_secret", "code_verifier"})
    if (field == f) return true;
  return false;
}

std::string masked_repr(py::handle value) {
  return py::len(value) == 0 ? "''" : "'***'";
}

template <typename T>
void bind_model(py::module_& m) {
  const char* name = ModelInfo<T>::name;
  py::class_<T> cls(m, name);
  cls.def(py::init([name](const py::kwargs& kw) { return model_from_mapping<T>(kw, name); }))
      .def_static("from_dict", [name](const py::dict& d) { return model_from_mapping<T>(d, name); })
      .def("to_dict", [](const T& self) { return to_py(self); })
      .def("__eq__",
           [](const T& self, py::handle other) -> py::object {
             if (!py::isinstance<T>(other)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
             return py::bool_(equal(self, other.cast<const T&>()));
           })
      .def("__repr__", [name](py::handle self) {
        std::string out = std::string(name) + "(";
        const char* sep = "";
        ModelInfo<T>::members([&](const char* field, auto) {
          py::object v = self.attr(field);
          out += sep + std::string(field) + "=" +
                 (is_secret_field(field) ? masked_repr(v) : py::repr(v).cast<std::string>());
          sep = ", ";
        });
        return out + ")";
      });
  copyable<T>(cls);
  cls.attr("__hash__") = py::none();  // mutable value objects

  py::list fields;
  ModelInfo<T>::members([&](const char* field, auto member) {
    using F = field_t<T, decltype(member)>;
    fields.append(py::make_tuple(field, py_type_name<F>()));
    // A nested model is returned by reference (loc = report.location; loc.lat = 1 edits the
    // report); scalars and lists are copies, so no Python object points into a vector.
    constexpr auto policy = ModelInfo<F>::is_model ? py::return_value_policy::reference_internal
                                                   : py::return_value_policy::copy;
    cls.def_property(
        field, [member](const T& self) -> const F& { return self.*member; },
        [member, name, field](T& self, py::handle v) {
          self.*member = from_py<F>(v, std::string(name) + "." + field);
        },
        policy);
  });
  cls.attr("__hues_fields__") = py::tuple(fields);
}

// ---- GIL and lifetime helpers ------------------------------------------------------------

// Objects that own SDK threads or sockets are destroyed with the GIL released: their
// destructors join threads that may be waiting for the GIL to call a Python logger.
template <typename T, typename... Args>
std::shared_ptr<T> make_gil_safe(Args&&... args) {
  return std::shared_ptr<T>(new T(std::forward<Args>(args)...), [](T* p) {
    std::optional<py::gil_scoped_release> nogil;
    if (PyGILState_Check()) nogil.emplace();
    delete p;
  });
}

bool interpreter_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing();
#else
  return _Py_IsFinalizing();
#endif
}

// Lets Python subclasses of hues.Logger receive log lines from any SDK thread.
class PyLogger : public hues::Logger, public py::trampoline_self_life_support {
 public:
  void log(hues::LogLevel level, const std::string& message) override {
    if (interpreter_finalizing()) return;
    py::gil_scoped_acquire gil;
    try {
      PYBIND11_OVERRIDE_PURE(void, hues::Logger, log, level, message);
    } catch (py::error_already_set& e) {
      // A failing logger must not fail the call it is logging.
      e.discard_as_unraisable("hues.Logger.log");
    } catch (const std::exception&) {
    }
  }
};

// Lets Python subclasses of hues.TokenStore keep a user's tokens. The SDK calls it from any
// thread, so each call takes the GIL; the Python exception of a failing store propagates to
// the caller of the SDK method that needed the store.
class PyTokenStore : public hues::TokenStore, public py::trampoline_self_life_support {
 public:
  hues::TokenSet load(const std::string& key) override {
    py::gil_scoped_acquire gil;
    py::object r = call("load", key);
    // None (or an empty TokenSet) means "nothing saved"; a dict is accepted like everywhere.
    return r.is_none() ? hues::TokenSet{} : from_py<hues::TokenSet>(r, "TokenStore.load()");
  }
  void save(const std::string& key, const hues::TokenSet& tokens) override {
    py::gil_scoped_acquire gil;
    call("save", key, tokens);
  }
  void remove(const std::string& key) override {
    py::gil_scoped_acquire gil;
    call("remove", key);
  }

 private:
  template <typename... A>
  py::object call(const char* name, A&&... args) {
    py::function f = py::get_override(static_cast<const hues::TokenStore*>(this), name);
    if (!f) throw py::type_error(std::string("hues.TokenStore subclasses must implement ") + name + "()");
    return f(std::forward<A>(args)...);
  }
};

// A pager guarded by a mutex, since Python threads may share one while the GIL is released.
struct PyReportPager {
  explicit PyReportPager(hues::ReportPager p) : pager(std::move(p)) {}
  hues::ReportPager pager;
  std::mutex mu;

  std::optional<hues::Report> next() {
    py::gil_scoped_release nogil;  // may fetch a page over the network
    std::lock_guard<std::mutex> lock(mu);
    if (!pager.has_next()) return std::nullopt;
    return pager.next();
  }
};

// ---- Errors ------------------------------------------------------------------------------

// The class in hues.errors that mirrors each hues::ErrorType.
const char* error_class_name(hues::ErrorType type) {
  using T = hues::ErrorType;
  switch (type) {
    case T::kValidation: return "ValidationError";
    case T::kAuthentication: return "AuthenticationError";
    case T::kPermissionDenied: return "PermissionDeniedError";
    case T::kNotFound: return "NotFoundError";
    case T::kConflict: return "ConflictError";
    case T::kRateLimited: return "RateLimitError";
    case T::kServer: return "ServerError";
    case T::kApi: return "ApiError";
    case T::kTimeout: return "HuesTimeoutError";
    case T::kTls: return "TlsError";
    case T::kConnection: return "HuesConnectionError";
    case T::kProtocol: return "ProtocolError";
    case T::kCancelled: return "CancelledError";
    case T::kOAuth: return "OAuthError";
    case T::kInvalidToken: return "InvalidTokenError";
  }
  return "HuesError";
}

void translate_errors(std::exception_ptr p) {
  if (!p) return;
  try {
    std::rethrow_exception(p);
  } catch (const hues::Error& e) {
    py::object cls = py::module_::import("hues.errors").attr(error_class_name(e.type()));
    py::object exc = cls(e.message(), "http_status"_a = e.http_status(), "code"_a = e.code(),
                         "request_id"_a = e.request_id(), "field"_a = e.field(),
                         "retryable"_a = e.retryable());
    PyErr_SetObject(cls.ptr(), exc.ptr());
  }
}

// ---- Identity (hues/identity.h) ------------------------------------------------------------

// A const getter run with the GIL released (properties take no call_guard).
template <typename T, typename R>
auto without_gil(R (T::*getter)() const) {
  return [getter](const T& self) {
    py::gil_scoped_release nogil;
    return (self.*getter)();
  };
}

// Every call that may reach the network, wait for a browser or take a credentials mutex runs
// with the GIL released: a Python TokenStore or logger called from inside needs it.
void bind_identity(py::module_& m) {
  const auto release_gil = py::call_guard<py::gil_scoped_release>();

  py::class_<hues::TokenStore, PyTokenStore, py::smart_holder>(m, "TokenStore")
      .def(py::init<>())
      .def("load", &hues::TokenStore::load, "key"_a, release_gil)
      .def("save", &hues::TokenStore::save, "key"_a, "tokens"_a, release_gil)
      .def("remove", &hues::TokenStore::remove, "key"_a, release_gil);
  m.def("make_memory_token_store", &hues::make_memory_token_store);
  m.def("make_file_token_store", &hues::make_file_token_store, "directory"_a);

  using hues::OidcOptions;
  copyable<OidcOptions>(py::class_<OidcOptions>(m, "OidcOptions"))
      .def(py::init<>())
      .def_readwrite("issuer", &OidcOptions::issuer)
      .def_readwrite("client_id", &OidcOptions::client_id)
      .def_readwrite("client_secret", &OidcOptions::client_secret)
      .def_readwrite("client_secret_post", &OidcOptions::client_secret_post)
      .def_readwrite("http", &OidcOptions::http)
      .def_readwrite("allowed_algorithms", &OidcOptions::allowed_algorithms)
      .def_readwrite("clock_skew_seconds", &OidcOptions::clock_skew_seconds)
      .def_readwrite("refresh_margin_seconds", &OidcOptions::refresh_margin_seconds)
      .def("__repr__", [](const OidcOptions& o) {
        return "OidcOptions(issuer=" + py::repr(py::str(o.issuer)).cast<std::string>() +
               ", client_id=" + py::repr(py::str(o.client_id)).cast<std::string>() +
               ", client_secret=" + (o.client_secret.empty() ? "''" : "'***'") + ")";
      });

  using hues::AuthorizationRequest;
  copyable<AuthorizationRequest>(py::class_<AuthorizationRequest>(m, "AuthorizationRequest"))
      .def(py::init<>())
      .def_readwrite("url", &AuthorizationRequest::url)
      .def_readwrite("redirect_uri", &AuthorizationRequest::redirect_uri)
      .def_readwrite("state", &AuthorizationRequest::state)
      .def_readwrite("nonce", &AuthorizationRequest::nonce)
      .def_readwrite("code_verifier", &AuthorizationRequest::code_verifier)
      .def("__repr__", [](const AuthorizationRequest& r) {
        return "AuthorizationRequest(url=" + py::repr(py::str(r.url)).cast<std::string>() +
               ", redirect_uri=" + py::repr(py::str(r.redirect_uri)).cast<std::string>() + ")";
      });

  py::class_<hues::LoopbackReceiver>(m, "LoopbackReceiver")
      .def(py::init<>())
      .def_property_readonly("redirect_uri", &hues::LoopbackReceiver::redirect_uri)
      .def("wait", &hues::LoopbackReceiver::wait, "timeout_ms"_a, release_gil);

  using hues::OidcClient;
  py::class_<OidcClient, py::smart_holder>(m, "OidcClient")
      .def(py::init([](OidcOptions o) {
             py::gil_scoped_release nogil;
             return make_gil_safe<OidcClient>(std::move(o));
           }),
           "options"_a)
      .def_property_readonly("options", [](const OidcClient& c) { return c.options(); })
      .def("metadata", &OidcClient::metadata, release_gil)
      .def("authorization_request", &OidcClient::authorization_request, "redirect_uri"_a, "scope"_a, release_gil)
      .def("exchange_code", &OidcClient::exchange_code, "request"_a, "redirected_to"_a, release_gil)
      .def("start_device_authorization", &OidcClient::start_device_authorization, "scope"_a, release_gil)
      .def("poll_device_token", &OidcClient::poll_device_token, "device"_a, "options"_a = hues::CallOptions(),
           release_gil)
      .def("client_credentials", &OidcClient::client_credentials, "scope"_a = "", release_gil)
      .def("refresh", &OidcClient::refresh, "refresh_token"_a, "scope"_a = "", release_gil)
      .def("revoke", &OidcClient::revoke, "token"_a, "token_type_hint"_a = "", release_gil)
      .def("validate_id_token", &OidcClient::validate_id_token, "id_token"_a, "expected_nonce"_a = "", release_gil)
      .def("userinfo", &OidcClient::userinfo, "access_token"_a, release_gil);

  using hues::ClientCredentials;
  py::class_<ClientCredentials, hues::CredentialsProvider, py::smart_holder>(m, "ClientCredentials")
      .def(py::init<std::shared_ptr<OidcClient>, std::string>(), "oidc"_a.none(false), "scope"_a = "")
      .def("access_token", &ClientCredentials::access_token, release_gil)
      .def_property_readonly("fetch_count", without_gil(&ClientCredentials::fetch_count));

  using hues::UserCredentials;
  py::class_<UserCredentials, hues::CredentialsProvider, py::smart_holder>(m, "UserCredentials")
      .def(py::init<std::shared_ptr<OidcClient>, std::shared_ptr<hues::TokenStore>, std::string, hues::TokenSet>(),
           "oidc"_a.none(false), "store"_a, "key"_a, "tokens"_a = hues::TokenSet())
      .def("tokens", &UserCredentials::tokens, release_gil)
      .def_property_readonly("refresh_count", without_gil(&UserCredentials::refresh_count))
      .def_property_readonly("signed_in", without_gil(&UserCredentials::signed_in))
      .def("sign_out", &UserCredentials::sign_out, release_gil);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "Hue-S SDK core (C++), bound with pybind11. Use the `hues` package instead.";
  py::register_exception_translator(&translate_errors);

#define HUES_PY_BIND_MODEL(Model, FIELDS) bind_model<hues::Model>(m);
  HUES_FOR_EACH_MODEL(HUES_PY_BIND_MODEL)
#undef HUES_PY_BIND_MODEL

  py::native_enum<hues::LogLevel>(m, "LogLevel", "enum.IntEnum")
      .value("DEBUG", hues::LogLevel::kDebug)
      .value("INFO", hues::LogLevel::kInfo)
      .value("WARNING", hues::LogLevel::kWarning)
      .value("ERROR", hues::LogLevel::kError)
      .finalize();

  py::class_<hues::Logger, PyLogger, py::smart_holder>(m, "Logger")
      .def(py::init<>())
      .def("log", &hues::Logger::log, "level"_a, "message"_a);

  py::class_<hues::CancellationToken, std::shared_ptr<hues::CancellationToken>>(m, "CancellationToken")
      .def(py::init<>())
      .def("cancel", &hues::CancellationToken::cancel, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("cancelled", &hues::CancellationToken::cancelled);

  copyable<hues::RetryPolicy>(py::class_<hues::RetryPolicy>(m, "RetryPolicy"))
      .def(py::init<>())
      .def_readwrite("max_attempts", &hues::RetryPolicy::max_attempts)
      .def_readwrite("initial_backoff_ms", &hues::RetryPolicy::initial_backoff_ms)
      .def_readwrite("max_backoff_ms", &hues::RetryPolicy::max_backoff_ms)
      .def_readwrite("multiplier", &hues::RetryPolicy::multiplier);

  // Credentials objects are created in C++ and shared with every client that uses them.
  py::class_<hues::CredentialsProvider, py::smart_holder>(m, "CredentialsProvider");
  m.def("api_key_credentials", &hues::api_key_credentials, "api_key"_a);

  copyable<hues::ClientOptions>(py::class_<hues::ClientOptions>(m, "ClientOptions"))
      .def(py::init<>())
      .def_readwrite("base_url", &hues::ClientOptions::base_url)
      .def_readwrite("api_key", &hues::ClientOptions::api_key)
      .def_readwrite("connect_timeout_ms", &hues::ClientOptions::connect_timeout_ms)
      .def_readwrite("attempt_timeout_ms", &hues::ClientOptions::attempt_timeout_ms)
      .def_readwrite("deadline_ms", &hues::ClientOptions::deadline_ms)
      .def_readwrite("retry", &hues::ClientOptions::retry)
      .def_readwrite("ca_file", &hues::ClientOptions::ca_file)
      .def_readwrite("proxy", &hues::ClientOptions::proxy)
      .def_readwrite("user_agent", &hues::ClientOptions::user_agent)
      .def_readwrite("credentials", &hues::ClientOptions::credentials)
      .def_readwrite("logger", &hues::ClientOptions::logger)
      .def_readwrite("log_level", &hues::ClientOptions::log_level)
      .def_readwrite("max_connections_per_host", &hues::ClientOptions::max_connections_per_host)
      .def_readwrite("max_response_bytes", &hues::ClientOptions::max_response_bytes)
      .def("__repr__", [](const hues::ClientOptions& o) {
        // Never show the key itself, only whether one is set.
        return "ClientOptions(base_url=" + py::repr(py::str(o.base_url)).cast<std::string>() +
               ", api_key=" + (o.api_key.empty() ? "''" : "'***'") +
               (o.credentials ? ", credentials=set" : "") + ")";
      });

  copyable<hues::CallOptions>(py::class_<hues::CallOptions>(m, "CallOptions"))
      .def(py::init<>())
      .def_readwrite("attempt_timeout_ms", &hues::CallOptions::attempt_timeout_ms)
      .def_readwrite("deadline_ms", &hues::CallOptions::deadline_ms)
      .def_readwrite("max_attempts", &hues::CallOptions::max_attempts)
      .def_readwrite("idempotency_key", &hues::CallOptions::idempotency_key)
      .def_readwrite("cancel", &hues::CallOptions::cancel);

  py::class_<PyReportPager, std::shared_ptr<PyReportPager>>(m, "ReportPager")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__",
           [](PyReportPager& p) {
             auto r = p.next();
             if (!r) throw py::stop_iteration();
             return std::move(*r);
           })
      .def("has_next",
           [](PyReportPager& p) {
             std::lock_guard<std::mutex> lock(p.mu);
             return p.pager.has_next();
           },
           py::call_guard<py::gil_scoped_release>())
      .def("next",
           [](PyReportPager& p) {
             std::lock_guard<std::mutex> lock(p.mu);
             return p.pager.next();
           },
           py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("pages_fetched", [](PyReportPager& p) {
        std::lock_guard<std::mutex> lock(p.mu);
        return p.pager.pages_fetched();
      });

  using hues::ReportsClient;
  const auto release_gil = py::call_guard<py::gil_scoped_release>();
  py::class_<ReportsClient, std::shared_ptr<ReportsClient>>(m, "ReportsClient")
      .def("categories", &ReportsClient::categories, "options"_a = hues::CallOptions(), release_gil)
      .def("create", &ReportsClient::create, "report"_a, "options"_a = hues::CallOptions(), release_gil)
      .def("get", &ReportsClient::get, "id"_a, "options"_a = hues::CallOptions(), release_gil)
      .def("list_page", &ReportsClient::list_page, "query"_a = hues::ReportQuery(),
           "options"_a = hues::CallOptions(), release_gil)
      .def("list",
           [](const ReportsClient& r, const hues::ReportQuery& q, const hues::CallOptions& o) {
             return make_gil_safe<PyReportPager>(r.list(q, o));
           },
           "query"_a = hues::ReportQuery(), "options"_a = hues::CallOptions(), release_gil);

  py::class_<hues::Client, std::shared_ptr<hues::Client>>(m, "Client")
      .def(py::init([](hues::ClientOptions o) {
             py::gil_scoped_release nogil;  // may start threads that log through Python
             return make_gil_safe<hues::Client>(std::move(o));
           }),
           "options"_a)
      .def("reports", [](const hues::Client& c) { return make_gil_safe<ReportsClient>(c.reports()); })
      .def("me", &hues::Client::me, "options"_a = hues::CallOptions(), release_gil)
      .def_property_readonly("options", [](const hues::Client& c) { return c.options(); })
      .def_static("version", &hues::Client::version);

  bind_identity(m);

  using hues::testing::Sandbox;
  using hues::testing::SandboxOptions;
  copyable<SandboxOptions>(py::class_<SandboxOptions>(m, "SandboxOptions"))
      .def(py::init<>())
      .def_readwrite("host", &SandboxOptions::host)
      .def_readwrite("port", &SandboxOptions::port)
      .def_readwrite("tls_port", &SandboxOptions::tls_port)
      .def_readwrite("data_dir", &SandboxOptions::data_dir)
      .def_readwrite("threads", &SandboxOptions::threads);

  py::class_<Sandbox, std::shared_ptr<Sandbox>>(m, "Sandbox")
      .def(py::init([](SandboxOptions o) {
             py::gil_scoped_release nogil;  // starting binds ports and opens the database
             return make_gil_safe<Sandbox>(std::move(o));
           }),
           "options"_a = SandboxOptions())
      .def_property_readonly("url", &Sandbox::url)
      .def_property_readonly("tls_url", &Sandbox::tls_url)
      .def_property_readonly("ca_file", &Sandbox::ca_file)
      .def_property_readonly("api_key", &Sandbox::api_key)
      .def_property_readonly("data_dir", &Sandbox::data_dir)
      .def_property_readonly("port", &Sandbox::port)
      .def_property_readonly("tls_port", &Sandbox::tls_port)
      .def("stop", &Sandbox::stop, release_gil);
}
