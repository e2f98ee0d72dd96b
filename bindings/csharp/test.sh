#!/usr/bin/env bash
# Builds the C# binding in <build dir> (configuring it first if needed: the generator runs
# as a build step, then the native libraries and the assemblies) and runs its NUnit suite.
# The exit status is nunit-console's: non-zero when a test fails.
#   bash bindings/csharp/test.sh build/csharp [--no-build | --build-only] [extra nunit-console options]
set -euo pipefail
build=${1:?usage: test.sh <build dir> [--no-build] [nunit options]}
shift
here=$(cd "$(dirname "$0")" && pwd)
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$here/../.." -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUES_BUILD_CSHARP=ON \
    -DHUES_BUILD_JAVA=OFF -DHUES_BUILD_TESTS=OFF -DHUES_BUILD_EXAMPLES=OFF -DHUES_BUILD_BENCHMARKS=OFF
elif ! grep -q '^HUES_BUILD_CSHARP:BOOL=ON$' "$build/CMakeCache.txt" || \
     ! grep -q '^HUES_BUILD_SANDBOX:BOOL=ON$' "$build/CMakeCache.txt"; then
  # A build tree configured without this binding (scripts/test.sh's shared one): turn it on.
  cmake -S "$here/../.." -B "$build" -DHUES_BUILD_CSHARP=ON -DHUES_BUILD_SANDBOX=ON
fi
build=$(cd "$build" && pwd)
if [[ ${1:-} == --no-build ]]; then
  shift
else
  export CCACHE_NOHASHDIR=true
  cmake --build "$build" --target hues_csharp_assemblies --parallel "${HUES_JOBS:-2}"
  if [[ ${1:-} == --build-only ]]; then exit 0; fi
fi
bin=$build/csharp/bin
cd "$bin"
# Mono resolves DllImport("hues_csharp") and ("hues_sandbox") through the library path; no
# shadow copies, so the assemblies stay beside the native libraries.
export LD_LIBRARY_PATH="$bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
rm -f TestResult.xml
nunit-console Hues.Sdk.Tests.dll -nologo -noshadow -labels "$@" &
pid=$!
# Mono waits at exit for every SDK thread that ever ran C# code (a logger, a store, a
# completion) and is still alive; hues_shutdown must join them. Should it not, the results
# are complete but the runner never exits: stop it 30 s after it wrote them, and fail.
written=0
while kill -0 "$pid" 2>/dev/null; do
  if ((written == 0)) && [[ -s TestResult.xml ]]; then written=$SECONDS; fi
  if ((written > 0 && SECONDS - written > 30)); then
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "test.sh: nunit-console did not exit 30 s after writing its results (Mono waiting for SDK threads at exit): FAILED" >&2
    exit 3
  fi
  sleep 1
done
wait "$pid"
