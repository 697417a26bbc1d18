#!/usr/bin/env bash
# Builds the libFuzzer targets in contrib/fuzz/targets/ against an instrumented Runner.
#
# SwiftPM cannot link a fuzz target without changing Package.swift, so this compiles
# Sources/Runner once with swiftc into a static library (coverage + ASan), then links
# each target file against it with -sanitize=fuzzer,address. Outputs go to
# .build/fuzz/ (kept out of git): bin/<target> and the Runner library.
# Usage: contrib/fuzz/build.sh [target...]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/.build/fuzz
SWIFTC=${SWIFTC:-swiftc}
mkdir -p "$OUT/lib" "$OUT/bin" "$OUT/module-cache"

# The C modules' maps and headers, and the same isolation the package uses.
CFLAGS=()
for m in uv openssl yaml pcre2 jansson wslay; do CFLAGS+=(-I "Sources/CUV/$m"); done
# The comma in -sanitize= is one swiftc argument, not an array separator.
# shellcheck disable=SC2054
COMMON=(-swift-version 6 -default-isolation MainActor -module-cache-path "$OUT/module-cache"
  "${FUZZ_OPT:--O}" -g -sanitize=fuzzer,address -use-ld=lld)
LIBS=(-luv -lssl -lcrypto -lyaml -lpcre2-8 -ljansson -lwslay)

# Rebuild the library only when a Runner source is newer than it.
LIB=$OUT/lib/libRunner.a
# A change of optimisation level needs a rebuild too.
echo "${FUZZ_OPT:--O}" | cmp -s - "$OUT/lib/opt" || { rm -f "$LIB"; echo "${FUZZ_OPT:--O}" >"$OUT/lib/opt"; }
mapfile -t SOURCES < <(find Sources/Runner -name '*.swift' | sort)
if [ ! -f "$LIB" ] || [ -n "$(find Sources/Runner Sources/CUV -newer "$LIB" -print -quit)" ]; then
  echo "fuzz: compiling Runner (${#SOURCES[@]} files, instrumented)"
  rm -f "$LIB"
  "$SWIFTC" "${COMMON[@]}" "${CFLAGS[@]}" -parse-as-library -enable-testing \
    -module-name Runner -emit-module -emit-module-path "$OUT/lib/Runner.swiftmodule" \
    -emit-library -static -o "$LIB" "${SOURCES[@]}"
fi

if [ $# -eq 0 ]; then
  # Target names are plain words (file names of contrib/fuzz/targets/*.swift).
  # shellcheck disable=SC2046
  set -- $(for f in contrib/fuzz/targets/*.swift; do basename "$f" .swift; done)
fi
for t in "$@"; do
  echo "fuzz: linking $t"
  "$SWIFTC" "${COMMON[@]}" "${CFLAGS[@]}" -parse-as-library -I "$OUT/lib" \
    -module-name "Fuzz_${t//-/_}" "contrib/fuzz/targets/$t.swift" \
    contrib/fuzz/targets/common/*.swift "$LIB" "${LIBS[@]}" -o "$OUT/bin/$t"
done
