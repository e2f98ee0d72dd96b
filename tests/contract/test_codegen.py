"""codegen/ on its own: the C++ call table and the sandbox's route table say what the IR
says, and rendering is deterministic (the build relies on unchanged files keeping their
timestamps)."""

import json
import os
import re
import subprocess
import sys

import pytest

from speccheck import REPO


def run(*args: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(REPO / "codegen"))
    return subprocess.run([sys.executable, "-m", "hues_codegen", "--spec", str(REPO / "docs/openapi.yaml"), *args],
                          check=True, env=env, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def ir():
    return json.loads(run("--target", "ir"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    run("--target", "cpp", "--out", str(out / "cpp"))
    run("--target", "sandbox", "--out", str(out / "sandbox"))
    return out


def pascal(s: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[_\W]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)))


def test_call_ids_follow_the_ir(ir, generated):
    calls_h = (generated / "cpp/src/internal/calls.h").read_text(encoding="utf-8")
    ids = {name: int(v) for name, v in re.findall(r"inline constexpr int k(\w+) = (\d+);", calls_h)}
    want = {pascal(c["service"] if c["kind"] == "http" else c["object"]) + pascal(c["method"]): c["id"]
            for c in ir["calls"]}
    assert ids == want
    assert f"kCallCount = {len(ir['calls'])};" in calls_h


def test_descriptors_carry_method_path_and_flags(ir, generated):
    calls_cpp = (generated / "cpp/src/calls.cpp").read_text(encoding="utf-8")
    table = calls_cpp[calls_cpp.index("const CallDescriptor kCalls"):]
    for c in ir["calls"]:
        if c["kind"] != "http":
            continue
        m = re.search(r"\{" + str(c["id"]) + r", CallKind::kHttp, (.*?)validate_call_" + str(c["id"]) + r",(.*?)\}",
                      table, re.S)
        assert m, c["operation_id"]
        row = m.group(1)
        assert f'"{c["http_method"]}", "{c["path"]}"' in row
        flags = re.findall(r"\b(true|false)\b", row)
        assert flags == [str(c["idempotency_key"]).lower(), str(c["retry_safe"]).lower()], c["operation_id"]
        assert (f'"{c["body"]}"' in row) if c["body"] else row.count("nullptr") >= 1
        assert ("&kPaging" in row) == bool(c["pagination"])
        stream = m.group(2)  # x-hues-stream: its kind, its event model and that model's validator
        if c["stream"]:
            assert f'"{c["stream"]}", "{c["event_model"]}", check_{c["event_model"]}' in " ".join(stream.split())
        else:
            assert stream.split() == ["nullptr,", "nullptr,", "nullptr"]


def test_a_stream_operation_takes_optional_headers_as_keywords_and_others_refuse_them(ir, tmp_path):
    """x-hues-stream (GET /v1/events): Last-Event-ID is an optional header parameter, kept out of
    the positional params; outside a stream call an optional header is refused."""
    stream = next(c for c in ir["calls"] if c.get("stream"))
    assert (stream["operation_id"], stream["stream"], stream["event_model"]) == ("streamEvents", "sse", "ReportEvent")
    assert stream["params"] == [] and [h["json"] for h in stream["optional_headers"]] == ["Last-Event-ID"]
    assert stream["result"] is None and stream["pagination"] is None
    import yaml
    spec = yaml.safe_load((REPO / "docs/openapi.yaml").read_text(encoding="utf-8"))
    del spec["paths"]["/v1/events"]["get"]["x-hues-stream"]
    bad = tmp_path / "openapi.yaml"
    bad.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO / "codegen"))
    res = subprocess.run([sys.executable, "-m", "hues_codegen", "--spec", str(bad), "--target", "ir"],
                         env=env, capture_output=True, text=True)
    assert res.returncode == 2
    assert "Last-Event-ID must be required" in res.stderr


def test_routes_are_the_service_operations(ir, generated):
    routes = (generated / "sandbox/routes.cpp").read_text(encoding="utf-8")
    got = set(re.findall(r'\{"(\w+)", "([^"]+)", RouteHandler::\w+, (\d+),', routes))
    want = {(c["http_method"], c["path"], str(c["id"])) for c in ir["calls"] if c["kind"] == "http"}
    assert got == want


def test_rendering_is_deterministic(generated, tmp_path):
    run("--target", "cpp", "--out", str(tmp_path))
    for f in (generated / "cpp").rglob("*"):
        if f.is_file():
            assert f.read_bytes() == (tmp_path / f.relative_to(generated / "cpp")).read_bytes(), f.name


def test_error_bodies_become_typed_members(ir):
    """x-hues-sdk.errors `body`: the 412's StaleReportError gives PreconditionFailedError a
    typed `current` (a Report), and it is a ConflictError, so catching conflicts still works."""
    by_class = {e["class"]: e for e in ir["errors"]}
    stale = by_class["PreconditionFailedError"]
    assert (stale["base"], stale["type"], stale["status"], stale["body"]) == (
        "ConflictError", "precondition_failed", [412], "StaleReportError")
    assert [(f["name"], f["type"]) for f in stale["fields"]] == [("current", {"kind": "model", "name": "Report"})]
    assert 412 not in by_class["ConflictError"]["status"] and 428 in by_class["ConflictError"]["status"]
    assert all(not e["fields"] for e in ir["errors"] if e["class"] != "PreconditionFailedError")


def test_an_error_response_with_members_no_error_class_declares_is_refused(tmp_path):
    """An error response carrying more than `error` must be an error class's body: else the
    generator would silently drop its members in every language."""
    import yaml
    spec = yaml.safe_load((REPO / "docs/openapi.yaml").read_text(encoding="utf-8"))
    for e in spec["x-hues-sdk"]["errors"]:
        e.pop("body", None)
    bad = tmp_path / "openapi.yaml"
    bad.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO / "codegen"))
    res = subprocess.run([sys.executable, "-m", "hues_codegen", "--spec", str(bad), "--target", "ir"],
                         env=env, capture_output=True, text=True)
    assert res.returncode == 2
    assert "StaleReportError carries more than `error`" in res.stderr and "412" in res.stderr


def callback_indexes_in_cpp(host_adapters: str) -> dict:
    """{interface: {method: index}} as the generated C++ adapters call the host: each call site
    names its interface and method (the `where` of its errors) beside the index it sends."""
    out: dict = {}
    for iface, method, index in re.findall(r'host_detail::result\(kPolicy, "(\w+)\.(\w+)", host_->call\((\d+), ',
                                           host_adapters):
        out.setdefault(iface, {})[method] = int(index)
    return out


def test_every_callback_has_a_generated_cpp_adapter_calling_the_irs_method_indexes(ir, generated):
    """x-hues-sdk.callbacks -> internal/host_adapters.h: one adapter per interface, implementing
    hues::<Interface> with one override per method (by its x-hues-cpp-name), each sending the
    method's IR index; the host-object registry is the same list. A callback declared without an
    adapter, or an index that moved in C++ but not in the IR (or the reverse), fails here."""
    text = (generated / "cpp/src/internal/host_adapters.h").read_text(encoding="utf-8")
    classes = dict(re.findall(r"class Host(\w+) final : public hues::(\w+) \{", text))
    assert classes == {cb["name"]: cb["name"] for cb in ir["callbacks"]}
    assert callback_indexes_in_cpp(text) == {
        cb["name"]: {m["name"]: m["index"] for m in cb["methods"]} for cb in ir["callbacks"]}
    for cb in ir["callbacks"]:
        body = text[text.index(f"class Host{cb['name']} final"):]
        body = body[:body.index("\n};\n")]
        assert re.findall(r"(\w+)\([^)]*\) override \{", body) == [m["cpp"]["name"] for m in cb["methods"]], cb["name"]
    registry = text[text.index("kHostInterfaces[] = {"):]
    assert re.findall(r'"(\w+)",', registry[:registry.index("};")]) == [cb["name"] for cb in ir["callbacks"]]
    # The indexes are the spec's order, 0.., in every interface.
    for cb in ir["callbacks"]:
        assert [m["index"] for m in cb["methods"]] == list(range(len(cb["methods"])))


def test_the_hosts_dispatch_the_same_indexes_as_the_cpp_adapters(ir, generated, tmp_path):
    """The other end of each index: Python's, Java's and C#'s generated dispatchers run the
    method the C++ adapter meant by it."""
    run("--target", "python", "--out", str(tmp_path / "py"))
    run("--target", "csharp", "--out", str(tmp_path / "cs"))
    run("--target", "java", "--out", str(tmp_path / "java"))
    java = next((tmp_path / "java").rglob("CallbackDispatch.java")).read_text(encoding="utf-8")
    cpp = callback_indexes_in_cpp((generated / "cpp/src/internal/host_adapters.h").read_text(encoding="utf-8"))
    py = (tmp_path / "py/hues/_generated/callbacks.py").read_text(encoding="utf-8")
    cs = next((tmp_path / "cs").rglob("Callbacks.cs")).read_text(encoding="utf-8")
    for cb in ir["callbacks"]:
        fn = py[py.index(f"def _{cb['name']}_dispatch("):]
        fn = fn[:fn.index("\n\n")]
        python = {name: int(i) for i, name in re.findall(r"if method == (\d+):\n\s+(?:r = )?o\.(\w+)\(", fn)}
        assert python == cpp[cb["name"]], cb["name"]
        sw = cs[cs.index(f"static void Dispatch{cb['name']}("):]
        sw = sw[:sw.index("\n  }\n")]
        csharp = {name: int(i) for i, name in re.findall(rf'case (\d+): \{{.*?"{cb["name"]}\.(\w+)"', sw)}
        assert csharp and all(cpp[cb["name"]][n] == i for n, i in csharp.items()), cb["name"]
        block = java[java.index(f'case "{cb["name"]}": {{'):]
        block = block[:block.index(f'"{cb["name"]} has no method "')]
        by_java = {name: int(i) for i, name in re.findall(r"case (\d+): \{.*?target\.(\w+)\(", block, re.S)}
        camel = {re.sub(r"_(\w)", lambda g: g.group(1).upper(), n): i for n, i in cpp[cb["name"]].items()}
        assert by_java == camel, cb["name"]


def test_callback_error_policies_and_cpp_shapes_are_declared(ir, generated):
    """x-hues-on-error, x-hues-cpp-buffer and result defaults: what bridge.cpp once hand-coded
    per interface (a failing logger ignored, a token store's every failure a TokenStoreError,
    a source's read into the caller's buffer, size() -1 when the host answers null)."""
    by_name = {cb["name"]: cb for cb in ir["callbacks"]}
    assert {n: cb["on_error"] for n, cb in by_name.items()} == {
        "TokenStore": "token_store", "Logger": "ignore", "UploadStore": "raise", "UploadSource": "raise",
        "UploadProgressListener": "raise", "OutboxListener": "ignore"}
    text = (generated / "cpp/src/internal/host_adapters.h").read_text(encoding="utf-8")
    store = text[text.index("class HostTokenStore final"):]
    policy = " ".join(store[store.index("kPolicy{"):store.index("};")].split())
    assert policy == ('kPolicy{ false, ErrorType::kTokenStore, "token_store_failed", ErrorType::kTokenStore, '
                      '"host_callback_timeout", ErrorType::kTokenStore, "token_store_failed"')
    source = {m["name"]: m for m in by_name["UploadSource"]["methods"]}
    assert source["read"]["cpp"]["buffer"] == "size" and "std::size_t read(char* buf, std::size_t size) override" in text
    assert (source["seek"]["result_default"], source["size"]["result_default"]) == (False, -1)
    assert '"UploadSource.size", v, -1);' in text
    assert "void on_progress(const UploadProgress& progress) override" in text


@pytest.mark.parametrize("edit, message", [
    (lambda cbs: cbs["Logger"].update({"x-hues-on-error": "swallow"}), "x-hues-on-error must be raise, ignore or"),
    (lambda cbs: cbs["TokenStore"].pop("x-hues-cpp-header"), "x-hues-cpp-header must name the header"),
    (lambda cbs: cbs["UploadSource"]["methods"]["seek"].update({"x-hues-cpp-buffer": "offset"}),
     "x-hues-cpp-buffer needs a bytes result"),
])
def test_an_undeclarable_callback_is_refused(tmp_path, edit, message):
    import yaml
    spec = yaml.safe_load((REPO / "docs/openapi.yaml").read_text(encoding="utf-8"))
    edit(spec["x-hues-sdk"]["callbacks"])
    bad = tmp_path / "openapi.yaml"
    bad.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO / "codegen"))
    res = subprocess.run([sys.executable, "-m", "hues_codegen", "--spec", str(bad), "--target", "ir"],
                         env=env, capture_output=True, text=True)
    assert res.returncode == 2 and message in res.stderr, res.stderr
