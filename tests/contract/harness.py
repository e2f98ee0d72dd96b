"""The sandbox process and a spec-checking HTTP client, shared by the contract tests."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from pathlib import Path

import httpx
import requests

from speccheck import API_KEY, REPO, Spec, check_response

START_TIMEOUT_S = 30
HTTP_TIMEOUT = (5, 30)  # connect, read: no call can hang a test


def find_sandbox_binary() -> Path | None:
    env = os.environ.get("HUES_SANDBOX_BIN")
    if env:
        return Path(env)  # an explicit path that is missing is an error, not a skip
    for cand in [REPO / "build/dev/sandbox/hues-sandbox",
                 *sorted(REPO.glob("build/*/sandbox/hues-sandbox"),
                         key=lambda p: p.stat().st_mtime, reverse=True)]:
        if cand.is_file() and os.access(cand, os.X_OK):
            return cand
    return None


SANDBOX_BIN = find_sandbox_binary()
MISSING_MSG = ("hues-sandbox binary not found (set HUES_SANDBOX_BIN or build it: "
               "cmake --preset dev && cmake --build build/dev --target hues-sandbox); "
               "the sandbox contract tests are SKIPPED")


class SandboxProcess:
    """One hues-sandbox process on ephemeral ports, its URLs read from its stdout."""

    def __init__(self, binary: Path, data_dir: str, args: tuple[str, ...] = ()):
        self.data_dir = data_dir
        self.log: list[str] = []
        self.proc = subprocess.Popen(
            [str(binary), "--port", "0", "--tls-port", "0", "--data-dir", data_dir, *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            text=True, encoding="utf-8", errors="replace")
        lines: queue.Queue[str | None] = queue.Queue()
        # Drains the pipe for the process's whole life so it never blocks on a full pipe.
        threading.Thread(target=self._pump, args=(lines,), daemon=True).start()
        self.url = self.tls_url = self.ca = None
        self.api_key = API_KEY
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (self.url and self.tls_url and self.ca):
            left = deadline - time.monotonic()
            try:
                line = lines.get(timeout=max(left, 0.01)) if left > 0 else None
            except queue.Empty:
                line = None
            if line is None:
                self.stop()
                raise RuntimeError(f"hues-sandbox did not print its URLs within {START_TIMEOUT_S}s "
                                   f"(exit {self.proc.returncode}); output:\n" + "\n".join(self.log))
            self._parse(line)

    def _pump(self, lines: queue.Queue) -> None:
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.log.append(line)
            lines.put(line)
        lines.put(None)

    def _parse(self, line: str) -> None:
        if not line.startswith("hues-sandbox: "):
            return
        value = line[len("hues-sandbox: "):].strip()
        if value.startswith("http://"):
            self.url = value.rstrip("/")
        elif value.startswith("https://"):
            self.tls_url = value.rstrip("/")
        elif value.startswith("ca "):
            self.ca = value[3:].strip()
        elif value.startswith(("api-key ", "api_key ")):
            self.api_key = value.split(None, 1)[1]

    def stop(self, timeout: float = 10) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise RuntimeError(f"hues-sandbox ignored SIGTERM for {timeout}s; killed")
        return self.proc.returncode


class Result:
    def __init__(self, resp, info):
        self.resp, self.status, self.headers = resp, resp.status_code, resp.headers
        self.body, self.template = info["body"], info["template"]
        self.schema = info["schema"]

    def error(self, code: str, field: str | None = None) -> dict:
        err = (self.body or {}).get("error")
        assert err, f"want error {code}, got {self.status} {self.resp.text[:300]!r}"
        assert err["code"] == code, f"want code {code}, got {err}"
        if field is not None:
            assert err.get("field") == field, f"want field {field!r}, got {err}"
        return err


_NO_BODY = object()


class Api:
    """A real third-party HTTP client (requests or httpx) on the sandbox; every response is
    checked against the spec before the test sees it."""

    def __init__(self, spec: Spec, base: str, backend: str = "requests", verify=True,
                 api_key: str = API_KEY):
        self.spec, self.base, self.backend, self.api_key = spec, base, backend, api_key
        self.verify = verify
        if backend == "requests":
            # verify goes on each call: a Session's own is overridden by REQUESTS_CA_BUNDLE.
            self.client = requests.Session()
        else:
            self.client = httpx.Client(verify=verify, timeout=httpx.Timeout(HTTP_TIMEOUT[1],
                                                                            connect=HTTP_TIMEOUT[0]))
        self.seen: set[tuple[str, str | None, int]] = set()

    def close(self):
        self.client.close()

    def call(self, method: str, path: str, *, json_body=_NO_BODY, raw: bytes | None = None,
             content_type: str | None = "application/json", headers: dict | None = None,
             params=None, key: str | None = "default", expect: int | None = None,
             stream: bool = False) -> Result:
        """stream: an endless body (text/event-stream): only the status and headers are read
        and checked, then the connection is closed."""
        h = dict(headers or {})
        key = self.api_key if key == "default" else key
        if key is not None:
            h["X-Api-Key"] = key
        if json_body is not _NO_BODY:
            raw = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        if raw is not None and content_type:
            h["Content-Type"] = content_type
        url = self.base + path
        if self.backend == "requests":
            resp = self.client.request(method, url, data=raw, headers=h, params=params,
                                       timeout=HTTP_TIMEOUT, allow_redirects=False,
                                       verify=self.verify, stream=stream)
        else:
            resp = self.client.request(method, url, content=raw, headers=h, params=params)
        try:
            info = check_response(self.spec, method, path, resp)
        finally:
            if stream:
                resp.close()
        self.seen.add((method, info["template"], resp.status_code))
        res = Result(resp, info)
        if expect is not None:
            assert res.status == expect, (f"{method} {path} {params or ''}: want {expect}, got "
                                          f"{res.status}: {resp.text[:400]!r}")
        return res
