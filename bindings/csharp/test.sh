#!/usr/bin/env bash
# Builds the C# binding in <build dir> (configuring it first if needed) and runs its
# NUnit suite. The exit status is nunit-console's: non-zero when a test fails.
#   bindings/csharp/test.sh build/cs-helper [--no-build] [extra nunit-console options]
set -euo pipefail
build=${1:?usage: test.sh <build dir> [--no-build] [nunit options]}
shift
here=$(cd "$(dirname "$0")" && pwd)
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$here/../.." -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUES_BUILD_CSHARP=ON \
    -DHUES_BUILD_JAVA=OFF -DHUES_BUILD_TESTS=OFF -DHUES_BUILD_EXAMPLES=OFF -DHUES_BUILD_BENCHMARKS=OFF
fi
build=$(cd "$build" && pwd)
if [[ ${1:-} == --no-build ]]; then
  shift
else
  export CCACHE_NOHASHDIR=true
  cmake --build "$build" --target hues_csharp_assemblies --parallel "${HUES_JOBS:-2}"
fi
bin=$build/csharp/bin
cd "$bin"
# Mono resolves DllImport("hues_csharp") through the library path; no shadow copies, so the
# assemblies stay beside libhues_csharp.so.
export LD_LIBRARY_PATH="$bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec nunit-console Hues.Sdk.Tests.dll -nologo -noshadow -labels "$@"
