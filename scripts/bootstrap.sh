#!/usr/bin/env bash
# Installs everything the build and the tests need, idempotently: a second run on a ready
# machine only checks and returns in seconds. Uses apt (Debian 12), pip and Maven.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev
  doctest-dev
  mono-mcs mono-runtime libmono-system-core4.0-cil libmono-system-net-http4.0-cil mono-devel
  nunit-console libnunit-cil-dev
  default-jdk-headless maven
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
PY_PACKAGES=(pytest pytest-timeout scikit-build-core pybind11 jinja2 mypy openapi-schema-validator openapi-spec-validator pyyaml requests httpx authlib georeport tuspy pillow standardwebhooks)
PY_PACKAGES+=(httpx-sse)  # tests/contract/test_events.py: a third-party SSE client
if ! "$PY" - "${PY_PACKAGES[@]}" <<'PYEOF'
import importlib.metadata, sys
missing = []
for name in sys.argv[1:]:
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        missing.append(name)
sys.exit(1 if missing else 0)
PYEOF
then
  echo "bootstrap: pip installing Python packages"
  "$PY" -m pip install -q "${PY_PACKAGES[@]}"
fi
# tusd, a third-party tus 1.0 server (a Go module) that the SDK's upload tests also upload to,
# into build/tools/ (tests/sdk/upload_test.cpp finds it there, or at $HUES_TUSD).
TUSD_VERSION=v2.9.1
if command -v go >/dev/null && [[ ! -x build/tools/tusd ]]; then
  echo "bootstrap: go installing tusd $TUSD_VERSION"
  mkdir -p build/tools
  # Only a test needs it (it skips without it, saying so): a failed fetch must not stop the set-up.
  GOBIN="$PWD/build/tools" GOFLAGS=-buildvcs=false go install "github.com/tus/tusd/v2/cmd/tusd@$TUSD_VERSION" ||
    echo "bootstrap: tusd could not be installed; the upload test against it will skip" >&2
fi
echo "bootstrap: ready"
