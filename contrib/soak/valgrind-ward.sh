#!/bin/sh
# Runs the debug ward under valgrind's memcheck, for the end-to-end tests:
#   WARD_BINARY=contrib/soak/valgrind-ward.sh swift test --skip-build --filter RunEndToEndTests
# A definite leak or a memory error makes ward exit 99; the report goes to
# $VALGRIND_LOG_DIR (default /tmp) as valgrind-ward.PID.log. PCRE2's JIT code is
# not built for valgrind: its uninitialised-value reports are off and its
# deliberate over-reads suppressed (valgrind-pcre2-jit.supp).
here=$(cd "$(dirname "$0")/../.." && pwd)
exec valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --undef-value-errors=no --suppressions="$here/contrib/soak/valgrind-pcre2-jit.supp" \
  --show-leak-kinds=definite --trace-children=no \
  --log-file="${VALGRIND_LOG_DIR:-/tmp}/valgrind-ward.%p.log" \
  "$here/.build/debug/ward" "$@"
