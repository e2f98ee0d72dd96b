#!/usr/bin/env bash
# Builds the binding (as test.sh does) and runs the C# benchmark: Hues.Sdk's typed GET
# against Mono's HttpClient + DataContractJsonSerializer, then 1,000 concurrent GetAsync.
#   bash bindings/csharp/bench.sh <build dir> [requests per round] [rounds]
set -euo pipefail
build=${1:?usage: bench.sh <build dir> [requests per round] [rounds]}
shift
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/test.sh" "$build" --build-only
build=$(cd "$build" && pwd)
bin=$build/csharp/bin
cd "$bin"
export LD_LIBRARY_PATH="$bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec mono --optimize=all Bench.exe "$@"
