#!/usr/bin/env bash
# Set-up, build, then every test in every language. Each runner prints its own summary;
# every suite runs even when an earlier one failed, and the exit status reports them all.
source "$(dirname "$0")/common.sh"
build_cpp

failed=()
suite() {
  local name="$1"; shift
  echo; echo "=== $name ==="
  if "$@"; then echo "=== $name: passed ==="; else echo "=== $name: FAILED ==="; failed+=("$name"); fi
}

suite "C++ (ctest)" ctest --preset "$PRESET"
suite "Python (pytest)" bash -c 'python3 -m pip install -q ./bindings/python ./bindings/python/testing && python3 -m pytest -q bindings/python/tests'
suite "Contract (pytest)" env HUES_SANDBOX_BIN="$BUILD_DIR/sandbox/hues-sandbox" python3 -m pytest -q tests/contract
suite "Java and Kotlin (Maven Surefire)" bash bindings/java/build.sh "$BUILD_DIR"
suite "C# (NUnit on Mono)" bash bindings/csharp/test.sh "$BUILD_DIR"

echo
if ((${#failed[@]})); then echo "FAILED: ${failed[*]}"; exit 1; fi
echo "All suites passed."
