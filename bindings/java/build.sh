#!/usr/bin/env bash
# Builds the JNI library with CMake, then the jar with Maven, running the Java and Kotlin tests.
#   bindings/java/build.sh [BUILD_DIR]      (default: build/dev, relative to the repo root)
# Extra Maven arguments can be passed in MVN_ARGS, e.g. MVN_ARGS="-Dtest=ReportsTest".
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-build/dev}"
[[ "$build" = /* ]] || build="$root/$build"

export CCACHE_NOHASHDIR=true
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUES_BUILD_JAVA=ON
elif ! grep -q '^HUES_BUILD_JAVA:BOOL=ON' "$build/CMakeCache.txt"; then
  cmake "$build" -DHUES_BUILD_JAVA=ON
fi
cmake --build "$build" --target hues_jni -j "${HUES_JOBS:-2}"

# -ntp rather than -q: -q would also hide Surefire's per-class results and summary.
cd "$here"
mvn -B -ntp ${MVN_ARGS:-} \
  -Dhues.generated="$build/java/src" -Dhues.native="$build/java/native" verify
