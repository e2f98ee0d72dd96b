// hues._native: the Python side of the native boundary (sdk/include/hues/c_api.h), and
// nothing else. It knows no operation, model or object: hues/_runtime.py and the generated
// code drive it with call ids and JSON bytes.
//
// GIL: released around every entry point that may wait or call back into Python (object
// creation may run a Python token store on this very thread); host objects take it on the
// SDK's host thread for the duration of one invoke.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <hues/c_api.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace py = pybind11;

namespace {

std::atomic<bool> g_exiting{false};  // set by shutdown(): no more calls into Python
std::thread::id g_exit_thread;        // the thread that ran shutdown() (it finalizes Python)

std::string_view view(const py::bytes& b) {
  char* data = nullptr;
  Py_ssize_t len = 0;
  PyBytes_AsStringAndSize(b.ptr(), &data, &len);
  return {data, static_cast<std::size_t>(len)};
}
const std::uint8_t* u8(std::string_view s) { return reinterpret_cast<const std::uint8_t*>(s.data()); }

py::bytes take(hues_bytes& b) {
  py::bytes out(reinterpret_cast<const char*>(b.data), b.len);
  hues_bytes_free(&b);
  return out;
}

bool is_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing();
#else
  return _Py_IsFinalizing();
#endif
}

// Blocking without the GIL. A daemon thread that comes back while the interpreter is
// finalizing must not take the GIL again (CPython would end the thread mid-C++-frame).
template <typename F>
auto without_gil(F&& f) {
  PyThreadState* saved = PyEval_SaveThread();
  auto result = f();
  if (g_exiting.load() && is_finalizing() && std::this_thread::get_id() != g_exit_thread) {
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  }
  PyEval_RestoreThread(saved);
  return result;
}

// ---- completion queue for an event loop ----
struct Sink {
  hues_sink* sink = nullptr;
  int fd = -1;
  Sink() { sink = hues_sink_queue(&fd); }
  ~Sink() {
    if (sink) hues_sink_free(sink);
  }
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  struct Item {
    std::uint64_t tag;
    int status;
    std::string data;
  };
  // Runs on the loop's thread (holding the GIL): the SDK copies each completion here, then
  // Python resolves the futures.
  py::list drain(std::size_t max) {
    std::vector<Item> items;
    hues_sink_drain(
        sink,
        [](void* ctx, std::uint64_t tag, int status, const std::uint8_t* data, std::size_t len) {
          static_cast<std::vector<Item>*>(ctx)->push_back(
              {tag, status, std::string(reinterpret_cast<const char*>(data), len)});
        },
        &items, max);
    py::list out(items.size());
    for (std::size_t i = 0; i < items.size(); ++i)
      out[i] = py::make_tuple(items[i].tag, items[i].status, py::bytes(items[i].data));
    return out;
  }
};

// ---- cancellation shared by the calls given one token ----
struct CancelScope {
  std::mutex mu;
  bool cancelled = false;
  std::unordered_set<hues_call> calls;

  void cancel() {
    std::vector<hues_call> todo;
    {
      std::lock_guard<std::mutex> lock(mu);
      cancelled = true;
      todo.assign(calls.begin(), calls.end());
    }
    for (auto c : todo) hues_call_cancel(c);
  }
  void add(hues_call c) {
    bool now;
    {
      std::lock_guard<std::mutex> lock(mu);
      now = cancelled;
      if (!now) calls.insert(c);
    }
    if (now) hues_call_cancel(c);  // a token cancelled before the call
  }
  void discard(hues_call c) {
    std::lock_guard<std::mutex> lock(mu);
    calls.erase(c);
  }
  bool is_cancelled() {
    std::lock_guard<std::mutex> lock(mu);
    return cancelled;
  }
};

// A call given a token that is already cancelled never starts (no I/O, no race with a fast
// completion): it ends at once with this error.
const char* const kCancelledBeforeStart =
    "{\"type\":\"cancelled\",\"message\":\"the call was cancelled before it started\","
    "\"status\":0,\"code\":\"cancelled\",\"retryable\":false}";

// ---- blocking call that a token can cancel: start on a callback sink, then wait ----
struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int status = HUES_ERROR;
  std::string data;
};

hues_sink* wait_sink() {
  static hues_sink* s = hues_sink_callback(
      [](void*, std::uint64_t tag, int status, const std::uint8_t* data, std::size_t len) {
        auto* w = reinterpret_cast<Waiter*>(static_cast<std::uintptr_t>(tag));
        std::lock_guard<std::mutex> lock(w->mu);
        w->status = status;
        w->data.assign(reinterpret_cast<const char*>(data), len);
        w->done = true;
        w->cv.notify_all();
      },
      nullptr);
  return s;
}

// ---- host objects: Python implementations of callback interfaces ----
std::mutex g_hosts_mu;
std::unordered_map<std::uint64_t, py::object*>& hosts() {
  static auto* m = new std::unordered_map<std::uint64_t, py::object*>();  // never destroyed
  return *m;
}
std::atomic<std::uint64_t> g_next_host{1};

void reply_error(std::uint64_t reply, const std::string& message) {
  std::string json = "{\"type\":\"error\",\"message\":\"";
  for (char c : message) {
    if (c == '"' || c == '\\') json += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) json += c;
  }
  json += "\"}";
  hues_reply(reply, HUES_ERROR, u8(json), json.size());
}

void invoke(void*, std::uint64_t host_id, std::int32_t method, const std::uint8_t* args, std::size_t len,
            std::uint64_t reply) {
  if (g_exiting.load() || !Py_IsInitialized()) {
    if (method != HUES_RELEASE) reply_error(reply, "the Python interpreter is exiting");
    return;  // what a released host object held is left to the process's end
  }
  py::gil_scoped_acquire gil;
  py::object* fn = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_hosts_mu);
    auto it = hosts().find(host_id);
    if (it != hosts().end()) {
      fn = it->second;
      if (method == HUES_RELEASE) hosts().erase(it);
    }
  }
  if (method == HUES_RELEASE) {
    delete fn;  // drops the Python object (under the GIL)
    return;
  }
  if (!fn) return reply_error(reply, "no such host object");
  int status = HUES_ERROR;
  std::string data;
  try {
    py::tuple r = (*fn)(method, py::bytes(reinterpret_cast<const char*>(args), len));
    status = r[0].cast<int>();
    data = r[1].cast<std::string>();
  } catch (py::error_already_set& e) {
    return reply_error(reply, e.what());
  } catch (const std::exception& e) {
    return reply_error(reply, e.what());
  }
  hues_reply(reply, status, u8(data), data.size());
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "The native boundary of the Hue-S SDK (hues/c_api.h); used by hues._runtime only.";

  m.def("version", [] { return std::string(hues_version()); });
  m.def("spec_hash", [] { return std::string(hues_spec_hash()); });

  m.def("object_new", [](const std::string& type, const py::bytes& config) -> py::tuple {
    auto cfg = view(config);
    hues_handle h = 0;
    hues_bytes err{nullptr, 0};
    int st = without_gil([&] { return hues_object_new(type.c_str(), u8(cfg), cfg.size(), &h, &err); });
    if (st != HUES_OK) return py::make_tuple(st, take(err));
    return py::make_tuple(st, h);
  });
  m.def("object_release", [](hues_handle h) {
    without_gil([&] {
      hues_object_release(h);
      return 0;
    });
  });

  py::class_<Sink>(m, "Sink")
      .def(py::init<>())
      .def_readonly("fd", &Sink::fd)
      .def("drain", &Sink::drain);

  py::class_<CancelScope>(m, "CancelScope")
      .def(py::init<>())
      .def("cancel", &CancelScope::cancel, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("cancelled", &CancelScope::is_cancelled)
      .def("add", &CancelScope::add, py::call_guard<py::gil_scoped_release>())
      .def("discard", &CancelScope::discard);

  m.def("call_sync", [](hues_handle target, std::uint32_t call_id, const py::bytes& args, const py::bytes& options) {
    auto a = view(args), o = view(options);
    hues_bytes out{nullptr, 0};
    int st = without_gil([&] {
      return hues_call_sync(target, call_id, u8(a), a.size(), u8(o), o.size(), nullptr, &out);
    });
    return py::make_tuple(st, take(out));
  });

  m.def("call_wait", [](hues_handle target, std::uint32_t call_id, const py::bytes& args, const py::bytes& options,
                        CancelScope& scope) -> py::tuple {
    auto a = view(args), o = view(options);
    if (scope.is_cancelled()) return py::make_tuple(static_cast<int>(HUES_ERROR), py::bytes(kCancelledBeforeStart));
    Waiter w;
    without_gil([&] {
      hues_call c = hues_call_start(target, call_id, u8(a), a.size(), u8(o), o.size(), wait_sink(),
                                    static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(&w)));
      scope.add(c);
      std::unique_lock<std::mutex> lock(w.mu);
      w.cv.wait(lock, [&] { return w.done; });
      lock.unlock();
      scope.discard(c);
      return 0;
    });
    return py::make_tuple(w.status, py::bytes(w.data));
  });

  m.def("call_start", [](hues_handle target, std::uint32_t call_id, const py::bytes& args, const py::bytes& options,
                         Sink& sink, std::uint64_t tag) {
    auto a = view(args), o = view(options);
    // Without the GIL: starting may log through a Python logger on another thread.
    return without_gil([&] { return hues_call_start(target, call_id, u8(a), a.size(), u8(o), o.size(), sink.sink, tag); });
  });
  m.def("cancel", [](hues_call c) { hues_call_cancel(c); }, py::call_guard<py::gil_scoped_release>());
  m.def("ack", [](hues_call c, std::uint32_t n) { hues_call_ack(c, n); }, py::call_guard<py::gil_scoped_release>());

  m.def("host_object_new", [](const std::string& interface_name, py::object invoke_fn) -> py::tuple {
    std::uint64_t id = g_next_host++;
    {
      std::lock_guard<std::mutex> lock(g_hosts_mu);
      hosts()[id] = new py::object(std::move(invoke_fn));
    }
    hues_handle h = 0;
    hues_bytes err{nullptr, 0};
    int st = hues_host_object_new(interface_name.c_str(), &invoke, nullptr, id, &h, &err);
    if (st != HUES_OK) {
      py::object* fn = nullptr;
      {
        std::lock_guard<std::mutex> lock(g_hosts_mu);
        auto it = hosts().find(id);
        if (it != hosts().end()) {
          fn = it->second;
          hosts().erase(it);
        }
      }
      delete fn;
      return py::make_tuple(st, take(err));
    }
    return py::make_tuple(st, h);
  });

  m.def("shutdown", [] {
    g_exit_thread = std::this_thread::get_id();
    g_exiting = true;
    without_gil([] {
      hues_shutdown();
      return 0;
    });
  });
}
