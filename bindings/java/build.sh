#!/usr/bin/env bash
# Builds and tests the Java/Kotlin binding from a clean clone:
#   bash bindings/java/build.sh [BUILD_DIR]      (default: build/java, relative to the repo root)
# 1. configures CMake (Java on, nothing else it does not need), 2. generates the Java and
# Kotlin sources from docs/openapi.yaml into BUILD_DIR/java/generated and builds the two JNI
# libraries (hues_jni, hues_sandbox_jni) into BUILD_DIR/java/native, 3. runs `mvn verify`
# (Java and Kotlin tests against the in-process sandbox over real sockets).
# Extra Maven arguments can be passed in MVN_ARGS, e.g. MVN_ARGS="-Dtest=ReportsTest"; extra
# CMake options for the first configure in HUES_CMAKE_ARGS.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-build/java}"
[[ "$build" = /* ]] || build="$root/$build"

export CCACHE_NOHASHDIR=true
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUES_BUILD_JAVA=ON \
    -DHUES_BUILD_CSHARP=OFF -DHUES_BUILD_TESTS=OFF -DHUES_BUILD_EXAMPLES=OFF -DHUES_BUILD_BENCHMARKS=OFF \
    ${HUES_CMAKE_ARGS:-}
elif ! grep -q '^HUES_BUILD_JAVA:BOOL=ON' "$build/CMakeCache.txt"; then
  cmake "$build" -DHUES_BUILD_JAVA=ON
fi
cmake --build "$build" --target hues_java_sources hues_jni hues_sandbox_jni -j "${HUES_JOBS:-2}"

# -ntp rather than -q: -q would also hide Surefire's per-class results and summary.
cd "$here"
mvn -B -ntp ${MVN_ARGS:-} \
  -Dhues.generated="$build/java/generated" -Dhues.native="$build/java/native" verify

# What an app ships has no sandbox in it; the testing jar has it and nothing else.
jar="$(ls target/hues-sdk-*.jar | grep -v -- '-testing.jar$' | head -1)"
testing="$(ls target/hues-sdk-*-testing.jar | head -1)"
if jar tf "$jar" | grep -Eq 'sandbox|/testing/'; then
  echo "FAIL: $jar holds the sandbox"; jar tf "$jar" | grep -E 'sandbox|/testing/'; exit 1
fi
jar tf "$testing" | grep -q 'libhues_sandbox_jni.so' || { echo "FAIL: $testing has no sandbox library"; exit 1; }
if jar tf "$testing" | grep -Eq 'libhues_jni.so|vn/hues/sdk/HuesClient'; then
  echo "FAIL: $testing repeats the SDK"; exit 1
fi
echo "jars: $(basename "$jar") ($(du -k "$jar" | cut -f1) KiB, no sandbox), $(basename "$testing") ($(du -k "$testing" | cut -f1) KiB)"
