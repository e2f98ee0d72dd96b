# Shared by demo.sh and test.sh: set-up, then the C++ build with the given preset.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PRESET="${HUES_PRESET:-dev}"
BUILD_DIR="$ROOT/build/$PRESET"
export CCACHE_NOHASHDIR=true CCACHE_BASEDIR="$ROOT"
JOBS="$(nproc)"

bash scripts/bootstrap.sh
build_cpp() {
  cmake --preset "$PRESET" >/dev/null
  cmake --build --preset "$PRESET" -j "$JOBS" "$@"
}
