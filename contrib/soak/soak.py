#!/usr/bin/env python3
"""Soak ward connect against the development control plane.

Sends N runs (mixed actions, some refused on purpose) through devcp to one
`ward connect`, keeps a few in flight, drops the link every so often, samples
ward's resident memory and open descriptors from /proc, and checks at the end
that every run was answered, nothing ran twice, and the journal verifies.

Writes samples.csv, summary.json and (when matplotlib is there) soak.png to
--out. Exit status 0 when every check held, 1 otherwise.
"""

import argparse
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests" / "RunnerTests" / "Fixtures"
DEVCP = REPO / "contrib" / "devcp" / "ward_devcp.py"

# The mix: (weight, devcp run command without --id). One in ten is refused by
# validation (a leading dash), so refusals are soaked as well as runs.
MIX = [
    (4, "run e2e.echo message=soak --reason soak"),
    (2, "run cloud.lines n=5 pause=0 --reason soak"),
    (1, "run e2e.count n=50 --reason soak"),
    (1, "run e2e.printf what=builtins --reason soak"),
    (1, "run e2e.region region=no --reason soak"),
    (1, "run e2e.echo message=-rf --reason soak"),
]
# Runs kept in flight at once; ward's limit is set above it so none is busy.
WINDOW = 6
MAX_CONCURRENT = 8
# A run not answered within this many seconds counts as lost.
ANSWER_TIMEOUT_S = 60


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=100_000)
    p.add_argument("--drop-every", type=int, default=1000, help="drop the link every N runs")
    p.add_argument("--sample-every", type=int, default=200, help="sample /proc every N runs")
    p.add_argument("--ward", default=str(REPO / ".build" / "debug" / "ward"))
    p.add_argument("--python", default=sys.executable, help="python with websockets, for devcp")
    p.add_argument("--out", type=Path, default=Path("soak-out"))
    return p.parse_args()


def copy_packs(dest):
    """Copies the fixture packs with modes ward's file-trust check accepts."""
    for name in ("cloud", "e2e"):
        shutil.copytree(FIXTURES / name / "packs", dest / name)
    for root, dirs, files in os.walk(dest):
        for d in dirs:
            os.chmod(Path(root) / d, 0o755)
        for f in files:
            os.chmod(Path(root) / f, 0o644)


class DevCP:
    """devcp as a child: commands on stdin, JSON events from stdout."""

    def __init__(self, python, state):
        self.proc = subprocess.Popen(
            [python, str(DEVCP), "--state-dir", str(state), "--summarize-output"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.buf = b""
        os.set_blocking(self.proc.stdout.fileno(), False)

    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def events(self, timeout):
        """Yields the events printed within `timeout` seconds."""
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if ready:
            chunk = self.proc.stdout.read()
            if chunk:
                self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        for line in lines:
            try:
                yield json.loads(line)
            except ValueError:
                continue

    def wait_for(self, name, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.events(0.2):
                if e.get("event") == name:
                    return e
        raise SystemExit(f"soak: devcp never printed {name}")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def sample(pid):
    """ward's (VmRSS KiB, open descriptors)."""
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def chart(samples, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("soak: matplotlib missing, no chart (pip install -r contrib/soak/requirements.txt)")
        return False
    runs = [s[0] for s in samples]
    fig, ax1 = plt.subplots(figsize=(9, 4.5))
    ax1.plot(runs, [s[2] / 1024 for s in samples], color="tab:blue", label="resident memory")
    ax1.set_xlabel("runs answered")
    ax1.set_ylabel("VmRSS (MiB)", color="tab:blue")
    ax1.set_ylim(bottom=0)
    ax2 = ax1.twinx()
    ax2.plot(runs, [s[3] for s in samples], color="tab:orange", label="open descriptors")
    ax2.set_ylabel("open descriptors", color="tab:orange")
    ax2.set_ylim(bottom=0)
    ax1.set_title(f"ward connect soak: {runs[-1]} runs, link dropped periodically")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def main():
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ward-soak."))
    packs = work / "packs"
    copy_packs(packs)
    cp = DevCP(args.python, work / "cp")
    listening = cp.wait_for("listening")
    config = work / "config.yaml"
    config.write_text(f"""runner:
  id: soak
packs: ["{packs / 'cloud'}", "{packs / 'e2e'}"]
journal:
  path: {work}/journal/events.jsonl
limits:
  kill_grace_s: 1
  max_concurrent_runs: {MAX_CONCURRENT}
  ceilings: {{max_output_bytes: 1073741824, max_output_lines: 100000000}}
log:
  level: warn
control_plane:
  url: {listening['url']}
  ca_file: {listening['ca_file']}
  key_file: {listening['key_file']}
  backoff_base_ms: 50
  backoff_cap_ms: 400
""")
    log = open(work / "ward.log", "wb")
    ward = subprocess.Popen([args.ward, "--config", str(config), "connect"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
    cp.wait_for("connected")

    commands = [c for w, c in MIX for _ in range(w)]
    answers = {}  # run id -> number of results received
    finished_types = {}
    sent = {}  # run id -> time sent
    in_flight = set()
    acknowledged = set()  # runs ward accepted or refused: it has them
    request_of = {}  # run id -> the devcp command that asked for it
    resent = 0
    samples = []
    drops = 0
    next_id = 0
    started = time.monotonic()
    last_answer = time.monotonic()
    while len(answers) < args.runs:
        while len(in_flight) < WINDOW and next_id < args.runs:
            rid = f"soak-{next_id}"
            request_of[rid] = f"{commands[next_id % len(commands)]} --id {rid}"
            cp.send(request_of[rid])
            sent[rid] = time.monotonic()
            in_flight.add(rid)
            next_id += 1
        for e in cp.events(0.5):
            if e.get("event") == "connected":
                # As a control plane must: a request sent into a link that died
                # may never have reached ward; ask again with the same id (ward
                # runs an id at most once, and answers a repeat from its journal).
                for rid in sorted(in_flight - acknowledged):
                    cp.send(request_of[rid])
                    resent += 1
                continue
            if e.get("event") != "received":
                continue
            m = e.get("message", {})
            if m.get("type") in ("run.accepted", "run.refused"):
                acknowledged.add(m.get("run"))
            if m.get("type") not in ("run.finished", "run.refused"):
                continue
            rid = m.get("run")
            first = rid not in answers
            answers[rid] = answers.get(rid, 0) + 1
            finished_types.setdefault(m.get("outcome") or m.get("code"), 0)
            if first:
                finished_types[m.get("outcome") or m.get("code")] += 1
                in_flight.discard(rid)
                last_answer = time.monotonic()
                n = len(answers)
                if n % args.sample_every == 0:
                    rss, fds = sample(ward.pid)
                    samples.append((n, round(time.monotonic() - started, 1), rss, fds))
                if args.drop_every and n % args.drop_every == 0:
                    cp.send("drop")
                    drops += 1
        if time.monotonic() - last_answer > ANSWER_TIMEOUT_S:
            print(f"soak: no answer for {ANSWER_TIMEOUT_S} s; in flight: {sorted(in_flight)[:10]}")
            break
        if ward.poll() is not None:
            print(f"soak: ward exited with {ward.returncode}")
            break
    elapsed = time.monotonic() - started

    ward.terminate()
    ward_status = ward.wait(timeout=30)
    cp.stop()
    verify = subprocess.run([args.ward, "--config", str(config), "events", "verify", "--json"],
                            capture_output=True, text=True)
    journal_lines = sum(1 for _ in open(work / "journal" / "events.jsonl"))
    repeated = sum(1 for c in answers.values() if c > 1)
    with open(args.out / "samples.csv", "w") as f:
        f.write("runs,seconds,rss_kib,open_fds\n")
        for s in samples:
            f.write(",".join(map(str, s)) + "\n")
    first, last = (samples[0], samples[-1]) if samples else ((0, 0, 0, 0),) * 2
    summary = {
        "runs_requested": args.runs,
        "runs_answered": len(answers),
        "results_resent_after_drop": repeated,
        "requests_resent_after_drop": resent,
        "outcomes": finished_types,
        "drops": drops,
        "seconds": round(elapsed, 1),
        "rss_kib_first_sample": first[2],
        "rss_kib_last_sample": last[2],
        "rss_kib_max": max((s[2] for s in samples), default=0),
        "fds_first_sample": first[3],
        "fds_last_sample": last[3],
        "fds_max": max((s[3] for s in samples), default=0),
        "journal_lines": journal_lines,
        "journal_verify_status": verify.returncode,
        "ward_exit_status": ward_status,
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    chart(samples, args.out / "soak.png") if samples else None
    print(json.dumps(summary, indent=2))
    ok = (len(answers) == args.runs and verify.returncode == 0 and ward_status == 0
          and last[3] <= first[3] + 2)
    if not ok:
        print(f"soak: FAILED (work folder kept: {work}); ward log tail:")
        print((work / "ward.log").read_text()[-2000:])
        return 1
    shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
