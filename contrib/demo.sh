#!/usr/bin/env bash
# The local demo: validate the example packs, print state, run a few actions
# (one streaming, one refused, one timing out, one redacted), then tail and
# verify the journal. Everything happens in a scratch folder; no root needed.
set -uo pipefail

ward=${1:-bin/ward}
here=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ward-demo.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# A config of the demo's own, so its journal lives in the scratch folder.
cat >"$scratch/config.yaml" <<YAML
runner:
  id: demo-runner
  labels: {env: demo}
packs: ["$here/packs"]
journal:
  path: $scratch/journal/events.jsonl
limits:
  kill_grace_s: 1
YAML

w() { "$ward" --config "$scratch/config.yaml" --allow-writable "$@"; }
# Bold headings on a terminal only, so a captured log stays plain text.
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() {
  printf '\n%s== %s%s\n$ ward' "$bold" "$1" "$plain"
  shift
  printf ' %q' "$@"
  printf '\n'
}

step "Validate the example packs" pack validate "$here/packs"
w pack validate "$here/packs" || exit 1

step "What this runner advertises (first lines of ward state)" state
w state | head -n 40
echo "  ..."

step "List the actions" action list
w action list

step "A read-only action" action run linux.uptime --reason "demo: how long has the host been up"
w action run linux.uptime --reason "demo: how long has the host been up"

step "Streaming output, line by line as it is printed" action run showcase.stream --arg lines=5 --stream --reason "demo: streaming"
w action run showcase.stream --arg lines=5 --stream --reason "demo: streaming"

step "Redaction of a secret argument" action run showcase.secret --arg token=demo-secret-value-42 --reason "demo: redaction"
w action run showcase.secret --arg token=demo-secret-value-42 --reason "demo: redaction"

step "Redaction by the built-in rules" action run showcase.fake-secrets --reason "demo: built-in rules"
w action run showcase.fake-secrets --reason "demo: built-in rules"

step "A refusal: a value that does not match the declared pattern" action run showcase.pattern --arg host='x; rm -rf /' --reason "demo: refusal"
w action run showcase.pattern --arg host='x; rm -rf /' --reason "demo: refusal"
echo "(exit code $?)"

step "Clamping and a timeout: ask for 999 s, get the action's maximum, and be killed" action run showcase.timeout --opt timeout_s=999 --reason "demo: timeout"
w action run showcase.timeout --opt timeout_s=999 --reason "demo: timeout"
echo "(exit code $?)"

step "The journal: newest events (one hash-chained JSON object per line)" events tail --lines 4
w events tail --lines 4

step "The journal's hash chain" events verify
w events verify
