#!/usr/bin/env bash
# libhues exports the C boundary and the public hues:: API only (no Boost, no
# hues::internal, no other library's symbols), and stripped it stays within 4 MiB.
set -euo pipefail
lib=$1
syms=$(nm -DC --defined-only "$lib" | cut -c20-)
bad=$(grep -vE '^(hues::|hues_|typeinfo for hues::|typeinfo name for hues::|vtable for hues::)' <<<"$syms" || true)
internal=$(grep -E 'hues::internal|boost::' <<<"$syms" || true)
if [[ -n $bad || -n $internal ]]; then
  echo "libhues exports symbols outside the public API:"; echo "$bad" "$internal" | head -20; exit 1
fi
grep -q '^hues_call_start$' <<<"$syms" || { echo "the C boundary is not exported"; exit 1; }
grep -q '^hues::Client::Client' <<<"$syms" || { echo "hues::Client is not exported"; exit 1; }
stripped=$(mktemp); trap 'rm -f "$stripped"' EXIT
strip -o "$stripped" "$lib"
size=$(stat -c %s "$stripped")
echo "exports: $(wc -l <<<"$syms") symbols; stripped size: $size bytes"
(( size <= 4 * 1024 * 1024 )) || { echo "stripped libhues is over 4 MiB"; exit 1; }
