#!/usr/bin/env bash
# The demo: ward's main job. Starts the development control plane (TLS on
# loopback, a throwaway CA), starts `ward connect` against it, sends a few
# run requests through it (one read-only, one streaming, one redacted, one
# refused, one timing out), shows what came back, then stops both and shows
# and verifies the journal. Everything lives in a scratch folder, removed at the
# end unless WARD_DEMO_KEEP is set (then its path is printed); no root.
set -uo pipefail

ward=${1:-bin/ward}
python=${2:-.venv/bin/python}
here=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ward-demo.XXXXXX")
devcp_pid='' ward_pid=''
cleanup() {
  [ -n "$ward_pid" ] && kill "$ward_pid" 2>/dev/null
  [ -n "$devcp_pid" ] && kill "$devcp_pid" 2>/dev/null
  wait 2>/dev/null
  if [ -n "${WARD_DEMO_KEEP:-}" ]; then
    printf '\nkept: %s (config.yaml, journal/, ward.log); try:\n' "$scratch"
    printf '  %s --config %s/config.yaml --allow-writable events tail\n' "$ward" "$scratch"
  else
    rm -rf "$scratch"
  fi
}
trap cleanup EXIT

# Bold headings on a terminal only, so a captured log stays plain text.
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s== %s%s\n' "$bold" "$1" "$plain"; }

step "Validate the example packs: ward pack validate packs"
"$ward" --allow-writable pack validate "$here/packs" || exit 1

# What the control plane sends, one command per line (contrib/devcp/README.md).
cat >"$scratch/requests.txt" <<'SCRIPT'
run linux.uptime --reason demo: how long has the host been up --id demo-uptime
wait demo-uptime
run showcase.stream lines=5 --reason demo: output streams line by line --id demo-stream
wait demo-stream
run showcase.secret token=demo-secret-value-42 --reason demo: a secret argument is redacted --id demo-secret
wait demo-secret
run showcase.pattern host='x; rm -rf /' --reason demo: a value outside the declared pattern --id demo-refused
wait demo-refused
run showcase.timeout --opt timeout_s=999 --reason demo: asks for 999 s, gets the maximum --id demo-timeout
wait demo-timeout
run linux.uptime --reason demo: the same run id again is answered, not run --id demo-uptime
sleep 1
SCRIPT

step "Start the development control plane (contrib/devcp) with TLS on loopback"
"$python" "$here/contrib/devcp/ward_devcp.py" --state-dir "$scratch/devcp" \
  --script "$scratch/requests.txt" --exit-after-script \
  >"$scratch/devcp.jsonl" 2>"$scratch/devcp.log" </dev/null &
devcp_pid=$!
for _ in $(seq 1 100); do
  [ -s "$scratch/devcp/endpoint.json" ] && break
  sleep 0.1
done
[ -s "$scratch/devcp/endpoint.json" ] || { cat "$scratch/devcp.log"; exit 1; }
field() { "$python" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" \
  "$scratch/devcp/endpoint.json" "$1"; }

# ward's config: the example packs, a journal in the scratch folder, and the
# control plane devcp just wrote to endpoint.json.
cat >"$scratch/config.yaml" <<YAML
runner:
  id: demo-runner
  labels: {env: demo}
packs: ["$here/packs"]
journal:
  path: $scratch/journal/events.jsonl
limits:
  kill_grace_s: 1
log: {level: info}
control_plane:
  url: $(field url)
  ca_file: $(field ca_file)
  key_file: $(field key_file)
YAML
echo "control plane: $(field url)"

step "Start ward connect; the control plane prints what it sends (->) and receives"
"$ward" --config "$scratch/config.yaml" --allow-writable connect 2>"$scratch/ward.log" &
ward_pid=$!
# Shows devcp's events as they come, until devcp exits after its script.
tail --pid="$devcp_pid" -n +1 -f "$scratch/devcp.jsonl" | python3 "$here/contrib/devcp/show.py"
wait "$devcp_pid"
devcp_pid=''

step "Stop ward with SIGTERM: it drains, closes and exits 0"
kill -TERM "$ward_pid"
wait "$ward_pid"
echo "ward connect exited with $?"
ward_pid=''

step "ward's own log (stderr, one structured line per event)"
grep -v 'level=debug' "$scratch/ward.log" | cut -c1-200

w() { "$ward" --config "$scratch/config.yaml" --allow-writable "$@"; }
step "The journal: newest events (ward events tail --lines 4)"
w events tail --lines 4 | cut -c1-300

step "The journal's hash chain (ward events verify)"
w events verify
