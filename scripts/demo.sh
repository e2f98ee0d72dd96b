#!/usr/bin/env bash
# Set-up, build, then the demo against the sandbox embedded in the demo's own process.
source "$(dirname "$0")/common.sh"
build_cpp --target hues-demo
echo
"$BUILD_DIR/examples/cpp/hues-demo"
