#!/bin/sh
# Runs the debug ward under valgrind's memcheck, for the end-to-end tests:
#   WARD_BINARY=contrib/soak/valgrind-ward.sh swift test --skip-build --filter RunEndToEndTests
# A definite leak or a memory error makes ward exit 99; the report goes to
# $VALGRIND_LOG_DIR (default /tmp) as valgrind-ward.PID.log. Uninitialised-value
# reports are off: PCRE2's JIT code (not built for valgrind) raises them on every match.
here=$(cd "$(dirname "$0")/../.." && pwd)
exec valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --undef-value-errors=no \
  --show-leak-kinds=definite --trace-children=no \
  --log-file="${VALGRIND_LOG_DIR:-/tmp}/valgrind-ward.%p.log" \
  "$here/.build/debug/ward" "$@"
