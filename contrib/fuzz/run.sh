#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS, one at a time (the machine's cores are
# shared), from the committed seeds in contrib/fuzz/corpus/<target>/. New inputs go
# to .build/fuzz/corpus/<target>/ and crashes to .build/fuzz/crashes/<target>/, so
# the committed seeds stay small. Prints one summary line per target and exits 1
# when any target crashed.
# Usage: contrib/fuzz/run.sh SECONDS [target...]   (default: every target)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
SECONDS_EACH=${1:?usage: run.sh SECONDS [target...]}
shift
if [ $# -eq 0 ]; then
  # Target names are plain words (file names of contrib/fuzz/targets/*.swift).
  # shellcheck disable=SC2046
  set -- $(for f in contrib/fuzz/targets/*.swift; do basename "$f" .swift; done)
fi
contrib/fuzz/build.sh "$@" 2>&1 | grep -v 'Cannot export local symbol' || exit 1
OUT=.build/fuzz
# Globals built once look leaked to LSan (see lsan.supp). The validator target validates against the repo's example packs.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/contrib/fuzz/lsan.supp:print_suppressions=0}
export WARD_FUZZ_PACKS=${WARD_FUZZ_PACKS:-packs}
failed=()
summary=()
for t in "$@"; do
  mkdir -p "$OUT/corpus/$t" "$OUT/crashes/$t" "$OUT/logs"
  log=$OUT/logs/$t.log
  dict=()
  [ -f "contrib/fuzz/dict/$t.dict" ] && dict=(-dict="contrib/fuzz/dict/$t.dict")
  # 64 KiB inputs reach every line cap and frame length form; 10 s per input and
  # 2 GiB catch hangs and runaway memory long before the machine notices.
  "$OUT/bin/$t" "$OUT/corpus/$t" "contrib/fuzz/corpus/$t" "${dict[@]}" \
    -max_total_time="$SECONDS_EACH" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    ${FUZZ_SEED:+-seed="$FUZZ_SEED"} \
    -artifact_prefix="$OUT/crashes/$t/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  crashes=$(find "$OUT/crashes/$t" -type f | wc -l)
  line="$t: rc=$rc execs=${execs:-?} seconds=$SECONDS_EACH crash_files=$crashes"
  echo "fuzz: $line"
  summary+=("$line")
  if [ $rc -ne 0 ]; then
    failed+=("$t")
    grep -m5 -E 'ERROR|==[0-9]+==|fuzz property|Fatal error|artifact' "$log" | sed 's/^/  /'
  fi
done
printf '%s\n' "${summary[@]}" >"$OUT/summary.txt"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in: ${failed[*]} (inputs under $OUT/crashes/, logs under $OUT/logs/)"
  exit 1
fi
echo "fuzz: no crashes"
