"""ward's benchmarks (issue 6): streaming throughput, redaction, dispatch latency,
memory and start-up, each beside what an operator would otherwise use (the raw pipe,
OpenSSH on loopback), measured in the same run.

Usage: bench.py WARD_BINARY OUT_DIR    (make bench runs it; see docs/benchmarks.md)

Every figure is the median of several repetitions with min and max; every
comparison is a ratio taken pair by pair inside one repetition. The control plane
is contrib/bench/sink.c (compiled here with gcc), a C websocket server that is not
the bottleneck: its own ceiling is measured first. Everything runs on loopback in a
scratch folder; sshd is a private one on a high port with throwaway keys."""

import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
import loglines  # noqa: E402

GIB = 1 << 30
MIB = 1 << 20
# Repetitions: enough for a median with honest min/max on a shared 2-core machine.
REPS = int(os.environ.get("BENCH_REPS", "5"))
STREAM_BYTES = int(os.environ.get("BENCH_STREAM_MIB", "1024")) * MIB
DISPATCH_RUNS = int(os.environ.get("BENCH_DISPATCH_RUNS", "1000"))
# A fresh ssh connection costs 50-200 ms; 30 of them give a stable median.
SSH_FRESH_RUNS = int(os.environ.get("BENCH_SSH_FRESH_RUNS", "30"))
SSH_MUX_RUNS = int(os.environ.get("BENCH_SSH_MUX_RUNS", "200"))
# The slow consumer reads at this rate: well below ward's throughput, so
# backpressure is engaged for the whole stream.
SLOW_MBPS = float(os.environ.get("BENCH_SLOW_MBPS", "25"))
CONCURRENT = 16
CONCURRENT_BYTES = 64 * MIB
CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(*parts):
    print("bench:", *parts, file=sys.stderr, flush=True)


def summary(values):
    values = list(values)
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_of(pid):
    """utime+stime of pid and of its reaped children, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLK


def status_kb(pid, key):
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith(key + ":"):
            return int(row.split()[1])
    return 0


def rollup_kb(pid):
    """Totals of /proc/PID/smaps_rollup in KiB: Rss, Pss, Private_Dirty, ..."""
    out = {}
    for row in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = row.split(":", 1)
        out[key] = int(value.split()[0])
    return out


def children_of(pid):
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                out.append(int(d.name))
    return out


def wait_file(path, timeout=20.0, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and path.stat().st_size > 0:
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited before writing {path}")
        time.sleep(0.01)
    raise RuntimeError(f"timed out waiting for {path}")


class Bench:
    def __init__(self, ward, out):
        self.ward = str(Path(ward).resolve())
        self.out = Path(out)
        self.scratch = Path(tempfile.mkdtemp(prefix="ward-bench."))
        self.results = {}
        self.sshd = None
        self.session = 0

    # ---- setup ----
    def setup(self):
        s = self.scratch
        log("scratch", s)
        self.sink_bin = s / "ward-sink"
        subprocess.run(["gcc", "-O2", "-Wall", "-o", self.sink_bin, HERE / "sink.c", "-lssl",
                        "-lcrypto"], check=True)
        self.make_certs()
        self.data = s / "lines.log"
        loglines.write(str(self.data), STREAM_BYTES)
        self.small = s / "lines-64m.log"
        loglines.write(str(self.small), CONCURRENT_BYTES)
        subprocess.run(["cat", self.data], stdout=subprocess.DEVNULL, check=True)  # page cache
        (s / "runner.key").write_text("bench-runner-key-0123456789abcdef\n")
        os.chmod(s / "runner.key", 0o600)
        self.start_sshd()

    def make_certs(self):
        s = self.scratch
        cnf = s / "openssl.cnf"
        cnf.write_text("[req]\ndistinguished_name = dn\n[dn]\n[ca]\n"
                       "basicConstraints = critical,CA:true\nkeyUsage = critical,keyCertSign\n"
                       "[server]\nbasicConstraints = critical,CA:false\n"
                       "keyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\n"
                       "subjectAltName = IP:127.0.0.1,DNS:localhost\n")
        key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        q = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": True}
        subprocess.run(["openssl", "req", "-x509", "-config", cnf, "-extensions", "ca", *key,
                        "-keyout", s / "ca.key", "-out", s / "ca.pem", "-days", "7",
                        "-subj", "/CN=ward-bench-ca"], **q)
        subprocess.run(["openssl", "req", "-new", "-config", cnf, *key, "-keyout",
                        s / "server.key", "-out", s / "server.csr", "-subj", "/CN=127.0.0.1"], **q)
        subprocess.run(["openssl", "x509", "-req", "-in", s / "server.csr", "-CA", s / "ca.pem",
                        "-CAkey", s / "ca.key", "-CAcreateserial", "-days", "7", "-extfile", cnf,
                        "-extensions", "server", "-out", s / "server.pem"], **q)

    def start_sshd(self):
        s = self.scratch
        q = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": True}
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", s / "host_key"], **q)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", s / "client_key"],
                       **q)
        shutil.copy(s / "client_key.pub", s / "authorized_keys")
        self.ssh_port = free_port()
        (s / "sshd_config").write_text(
            f"Port {self.ssh_port}\nListenAddress 127.0.0.1\nHostKey {s}/host_key\n"
            f"AuthorizedKeysFile {s}/authorized_keys\nPidFile {s}/sshd.pid\nUsePAM no\n"
            "StrictModes no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nAcceptEnv SHLVL\nLogLevel ERROR\n"
            "MaxSessions 64\nMaxStartups 64\n")
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation folder
        self.sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", s / "sshd_config", "-E",
                                      s / "sshd.log"])
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.ssh_port), 0.2).close()
                break
            except OSError:
                time.sleep(0.02)
        self.ssh_base = ["ssh", "-F", "/dev/null", "-T", "-p", str(self.ssh_port), "-i",
                         str(s / "client_key"), "-o", "BatchMode=yes",
                         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                         "-o", "LogLevel=ERROR",
                         # bash skips ~/.bashrc for ssh commands when SHLVL is set
                         # (PLATFORM.md: root's rc file costs over 100 ms per command).
                         "-o", "SetEnv=SHLVL=1"]
        out = subprocess.run(self.ssh_base + ["127.0.0.1", "echo", "ok"], capture_output=True,
                             text=True, timeout=30)
        if out.stdout.strip() != "ok":
            raise RuntimeError(f"ssh to the private sshd failed: {out.stderr}")

    def stop(self):
        if self.sshd:
            self.sshd.terminate()
            self.sshd.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)

    # ---- ward and the sink ----
    def config(self, name, port, packs=None, extra_rules=0, ca=True):
        s = self.scratch
        packs = packs if packs is not None else [str(REPO / "packs"), str(HERE / "packs")]
        rules = ""
        if extra_rules:
            rules = "redaction:\n  rules:\n" + "".join(
                f"    - {{id: extra-{i}, pattern: 'EXTRA{i:02d}-[0-9a-f]{{24}}'}}\n"
                for i in range(extra_rules))
        cp = (f"control_plane:\n  url: wss://127.0.0.1:{port}\n"
              + (f"  ca_file: {s}/ca.pem\n" if ca else "")
              + f"  key_file: {s}/runner.key\n  backoff_base_ms: 5\n  backoff_cap_ms: 50\n"
              + "  backoff_reset_ms: 1\n")
        path = s / f"{name}.yaml"
        path.write_text(
            "runner: {id: bench}\n" f"packs: {json.dumps(packs)}\n"
            f"journal: {{path: {s}/journal-{name}/events.jsonl, rotate_bytes: 67108864}}\n"
            "limits:\n  max_concurrent_runs: 16\n"
            "  ceilings: {timeout_s: 3600, max_output_bytes: 1073741824, "
            "max_output_lines: 100000000}\n" + rules + "log: {level: warn}\n" + cp)
        return path

    def start_ward(self, config):
        return subprocess.Popen([self.ward, "--config", config, "--allow-writable", "connect"],
                                stdin=subprocess.DEVNULL, stderr=open(self.scratch / "ward.log",
                                                                      "ab"))

    def stop_ward(self, proc):
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def sink(self, port, mode, *options, sample_pid=None, sample_every=0.1):
        """Runs the sink for one scenario; returns its result and, when asked,
        the samples of sample_pid's resident size (KiB) taken meanwhile."""
        s = self.scratch
        ready = s / "sink.ready"
        ready.unlink(missing_ok=True)
        self.session += 1
        proc = subprocess.Popen([self.sink_bin, "serve", str(port), s / "server.pem",
                                 s / "server.key", mode, "--ready", ready, "--id-prefix",
                                 f"{mode}{self.session}", *map(str, options)],
                                stdout=open(s / "sink.out", "w"))
        samples = []
        while proc.poll() is None:
            if sample_pid:
                try:
                    samples.append(status_kb(sample_pid, "VmRSS"))
                except OSError:
                    pass
            time.sleep(sample_every)
        # A file, not a pipe: a thousand runs' results would fill a pipe
        # that nobody reads until the sink exits.
        out = (s / "sink.out").read_text()
        if proc.returncode != 0:
            raise RuntimeError(f"sink failed in {mode}: {out}")
        try:
            return json.loads(out), samples
        except ValueError:
            raise RuntimeError(f"sink output is not JSON: {out[:2000]!r}")

    # ---- 0. the sink's own ceiling ----
    def sink_ceiling(self):
        s = self.scratch
        rows = []
        for _ in range(REPS):
            out = subprocess.run([self.sink_bin, "ceiling", s / "server.pem", s / "server.key",
                                  s / "ca.pem", str(STREAM_BYTES // MIB)], capture_output=True,
                                 text=True, check=True)
            rows.append(json.loads(out.stdout))
        self.results["sink_ceiling"] = {
            "wire_mb_s": summary(r["mb_per_s"] for r in rows),
            "sink_cpu_s_per_gib_wire": summary(r["sink_cpu_s"] * GIB / r["recv_bytes"]
                                               for r in rows),
            "cipher": rows[0]["cipher"]}
        log("sink ceiling", self.results["sink_ceiling"]["wire_mb_s"])

    # ---- 1. streaming throughput ----
    def timed(self, argv, **kw):
        t0 = time.monotonic()
        r0 = os.times()
        subprocess.run(argv, check=True, **kw)
        r1 = os.times()
        wall = time.monotonic() - t0
        return wall, (r1.children_user - r0.children_user) + (r1.children_system
                                                             - r0.children_system)

    def raw_pipe(self):
        return self.timed(["sh", "-c", f"cat {self.data} | cat >/dev/null"])

    def ssh_cat(self, cipher):
        extra = ["-c", cipher] if cipher else []
        c0 = cpu_of(self.sshd.pid)
        wall, client = self.timed(self.ssh_base + extra + ["127.0.0.1", "cat", str(self.data)],
                                  stdout=subprocess.DEVNULL)
        time.sleep(0.05)  # sshd reaps its session child, which reaped cat
        return wall, client, cpu_of(self.sshd.pid) - c0

    def throughput(self):
        port = free_port()
        ward = self.start_ward(self.config("stream", port))
        rows = []
        try:
            for rep in range(REPS):
                row = {}
                row["raw_wall"], row["raw_cpu"] = self.raw_pipe()
                w, c, srv = self.ssh_cat(None)
                row.update(ssh_wall=w, ssh_client_cpu=c, ssh_server_cpu=srv)
                w, c, srv = self.ssh_cat("aes128-gcm@openssh.com")
                row.update(aes_wall=w, aes_client_cpu=c, aes_server_cpu=srv)
                c0 = cpu_of(ward.pid)
                res, _ = self.sink(port, "stream", "--action", "bench.cat", "--args",
                                   json.dumps({"path": str(self.data)}))
                run = res["runs"][0]
                if run["outcome"] != "exited":
                    raise RuntimeError(f"ward stream run: {run}")
                row.update(ward_wall=run["latency_ms"] / 1e3, ward_cpu=cpu_of(ward.pid) - c0,
                           sink_cpu=res["sink_cpu_s"], wire_bytes=res["recv_bytes"],
                           counts=run["counts"], sink_lines=run["lines"])
                rows.append(row)
                log(f"throughput rep {rep + 1}: raw {STREAM_BYTES / row['raw_wall'] / 1e6:.0f}"
                    f" ssh {STREAM_BYTES / row['ssh_wall'] / 1e6:.0f}"
                    f" aes {STREAM_BYTES / row['aes_wall'] / 1e6:.0f}"
                    f" ward {STREAM_BYTES / row['ward_wall'] / 1e6:.0f} MB/s")
        finally:
            self.stop_ward(ward)
        mbs = lambda k: summary(STREAM_BYTES / r[k] / 1e6 for r in rows)  # noqa: E731
        per_gib = lambda f: summary(f(r) * GIB / STREAM_BYTES for r in rows)  # noqa: E731
        self.results["throughput"] = {
            "bytes": STREAM_BYTES,
            "mb_s": {"raw_pipe": mbs("raw_wall"), "ssh_default": mbs("ssh_wall"),
                     "ssh_aes128_gcm": mbs("aes_wall"), "ward": mbs("ward_wall")},
            "cpu_s_per_gib": {
                "raw_pipe": per_gib(lambda r: r["raw_cpu"]),
                "ssh_default": per_gib(lambda r: r["ssh_client_cpu"] + r["ssh_server_cpu"]),
                "ssh_aes128_gcm": per_gib(lambda r: r["aes_client_cpu"] + r["aes_server_cpu"]),
                "ward": per_gib(lambda r: r["ward_cpu"]),
                "ward_plus_sink": per_gib(lambda r: r["ward_cpu"] + r["sink_cpu"])},
            "ratio": {"ward_over_ssh_default": summary(r["ssh_wall"] / r["ward_wall"]
                                                       for r in rows),
                      "ward_over_ssh_aes128_gcm": summary(r["aes_wall"] / r["ward_wall"]
                                                          for r in rows),
                      "ward_over_raw_pipe": summary(r["raw_wall"] / r["ward_wall"]
                                                    for r in rows)},
            "wire_bytes": summary(r["wire_bytes"] for r in rows),
            "ward_counts": rows[-1]["counts"],
            "sink_lines": rows[-1]["sink_lines"],
        }

    # ---- 2. redaction: the local pipeline without TLS ----
    def redaction(self):
        """The redaction stage alone (`ward redact`: split + redact + write, nothing
        else) with the default rules and with 20 extra config rules, then the whole
        local pipeline (`ward action run`: plus the journal and printing)."""
        rows = []
        port = free_port()
        configs = {"default": self.config("redact0", port),
                   "extra20": self.config("redact20", port, extra_rules=20)}
        for _ in range(REPS):
            row = {}
            for name, cfg in configs.items():
                with open(self.data, "rb") as data:
                    row["stage_" + name] = self.timed(
                        [self.ward, "--config", cfg, "--allow-writable", "redact"],
                        stdin=data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                row[name] = self.timed([self.ward, "--config", cfg, "--allow-writable", "action",
                                        "run", "bench.cat", "--stream", "--arg",
                                        f"path={self.data}", "--reason",
                                        "bench"], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            row["raw"] = self.raw_pipe()
            rows.append(row)
        keys = ("stage_default", "stage_extra20", "default", "extra20")
        self.results["redaction_local"] = {
            "note": "stage_*: ward redact < FILE > /dev/null (line splitting, redaction, "
                    "writing); the others: ward action run bench.cat > /dev/null (plus the "
                    "journal and printing); no TLS",
            "mb_s": {k: summary(STREAM_BYTES / r[k][0] / 1e6 for r in rows)
                     for k in keys + ("raw",)},
            "cpu_s_per_gib": {k: summary(r[k][1] * GIB / STREAM_BYTES for r in rows)
                              for k in keys},
            "ratio_extra20_over_default": summary(r["default"][0] / r["extra20"][0]
                                                  for r in rows),
            "ratio_stage_extra20_over_default": summary(
                r["stage_default"][0] / r["stage_extra20"][0] for r in rows)}
        log("redaction", self.results["redaction_local"]["mb_s"])

    # ---- 3. dispatch latency ----
    def ssh_true_times(self, n, extra):
        out = []
        for _ in range(n):
            t0 = time.monotonic()
            subprocess.run(self.ssh_base + extra + ["127.0.0.1", "true"], check=True)
            out.append((time.monotonic() - t0) * 1e3)
        return out

    def dispatch(self):
        port = free_port()
        ward = self.start_ward(self.config("dispatch", port))
        mux = ["-o", "ControlMaster=auto", "-o", f"ControlPath={self.scratch}/mux-%C",
               "-o", "ControlPersist=120"]
        subprocess.run(self.ssh_base + mux + ["127.0.0.1", "true"], check=True)
        reps = max(3, REPS // 2 + 1)
        rows = []
        try:
            for rep in range(reps):
                seq, _ = self.sink(port, "latency", "--action", "bench.true", "--runs",
                                   DISPATCH_RUNS)
                lat = sorted(r["latency_ms"] for r in seq["runs"])
                bad = [r for r in seq["runs"] if r["outcome"] != "exited"]
                if bad:
                    raise RuntimeError(f"dispatch runs failed: {bad[:3]}")
                par, _ = self.sink(port, "parallel", "--action", "bench.true", "--runs",
                                   DISPATCH_RUNS, "--inflight", 16)
                fresh = sorted(self.ssh_true_times(SSH_FRESH_RUNS, []))
                muxed = sorted(self.ssh_true_times(SSH_MUX_RUNS, mux))
                row = {"ward_p50": pct(lat, 50), "ward_p99": pct(lat, 99),
                       "ward_parallel_runs_s": DISPATCH_RUNS / par["wall_s"],
                       "ssh_fresh_p50": pct(fresh, 50), "ssh_fresh_p99": pct(fresh, 99),
                       "ssh_mux_p50": pct(muxed, 50), "ssh_mux_p99": pct(muxed, 99)}
                rows.append(row)
                log(f"dispatch rep {rep + 1}:", {k: round(v, 2) for k, v in row.items()})
        finally:
            self.stop_ward(ward)
            subprocess.run(self.ssh_base + mux + ["-O", "exit", "127.0.0.1"],
                           stderr=subprocess.DEVNULL)
        self.results["dispatch"] = {
            "runs": DISPATCH_RUNS, "ssh_fresh_runs": SSH_FRESH_RUNS,
            "ssh_mux_runs": SSH_MUX_RUNS,
            **{k: summary(r[k] for r in rows) for k in rows[0]},
            "ratio": {"ssh_fresh_over_ward_p50": summary(r["ssh_fresh_p50"] / r["ward_p50"]
                                                         for r in rows),
                      "ssh_mux_over_ward_p50": summary(r["ssh_mux_p50"] / r["ward_p50"]
                                                       for r in rows)}}

    # ---- 4. memory ----
    def smaps_breakdown(self, pid):
        """Resident KiB per mapping name: the binary, each library, heap, anon."""
        parts, name = {}, None
        for row in Path(f"/proc/{pid}/smaps").read_text().splitlines():
            head = row.split()
            if len(head) >= 5 and "-" in head[0] and not row.startswith(("Rss", "Pss")):
                name = head[5] if len(head) > 5 else "[anon]"
                name = Path(name).name if name.startswith("/") else name
            elif row.startswith("Rss:"):
                parts[name] = parts.get(name, 0) + int(head[1])
        return dict(sorted(parts.items(), key=lambda kv: -kv[1]))

    def idle_rss(self, name, packs=None, ca=True):
        port = free_port()
        ward = self.start_ward(self.config(name, port, packs=packs, ca=ca))
        s = self.scratch
        try:
            proc = subprocess.Popen([self.sink_bin, "serve", str(port), s / "server.pem",
                                     s / "server.key", "idle", "--runs", "0", "--idle-ms", "3000"],
                                    stdout=subprocess.PIPE, text=True)
            time.sleep(2.5)
            rss, hwm = status_kb(ward.pid, "VmRSS"), status_kb(ward.pid, "VmHWM")
            parts = self.smaps_breakdown(ward.pid)
            parts["rollup"] = rollup_kb(ward.pid)
            proc.wait(10)
        finally:
            self.stop_ward(ward)
        return rss, hwm, parts

    def memory(self):
        rows = []
        for _ in range(REPS):
            rss, hwm, parts = self.idle_rss("idle", packs=[str(REPO / "packs")])
            nopacks, _, _ = self.idle_rss("idle-nopacks", packs=[])
            rows.append({"idle": rss, "idle_hwm": hwm, "idle_no_packs": nopacks,
                         "pss": parts["rollup"]["Pss"],
                         "private_dirty": parts["rollup"]["Private_Dirty"], "parts": parts})
        # The CA store: ward without ca_file trusts the system store. The sink's
        # certificate is not in it, so ward never connects; its RSS after the
        # attempt still shows what loading the store costs.
        system_store = []
        for _ in range(3):
            port = free_port()
            ward = self.start_ward(self.config("idle-system-ca", port, packs=[], ca=False))
            s = self.scratch
            proc = subprocess.Popen([self.sink_bin, "serve", str(port), s / "server.pem",
                                     s / "server.key", "idle", "--runs", "0"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(2.0)
            system_store.append(status_kb(ward.pid, "VmRSS"))
            proc.kill()
            proc.wait()
            self.stop_ward(ward)
        # Peak while streaming the whole file to a consumer reading slowly.
        slow = []
        for _ in range(max(1, REPS // 2)):
            port = free_port()
            ward = self.start_ward(self.config("slow", port))
            try:
                res, samples = self.sink(port, "slow", "--action", "bench.cat", "--args",
                                         json.dumps({"path": str(self.data)}), "--read-rate",
                                         SLOW_MBPS, sample_pid=ward.pid, sample_every=0.2)
                hwm = status_kb(ward.pid, "VmHWM")
            finally:
                self.stop_ward(ward)
            tenth = max(1, len(samples) // 10)
            slow.append({"hwm": hwm, "first_tenth_max": max(samples[:tenth]),
                         "last_tenth_max": max(samples[-tenth:]), "samples": len(samples),
                         "wall_s": res["wall_s"]})
        # Peak with 16 streaming runs at once.
        conc = []
        for _ in range(max(1, REPS // 2)):
            port = free_port()
            ward = self.start_ward(self.config("concurrent", port))
            try:
                res, _ = self.sink(port, "concurrent", "--action", "bench.cat", "--args",
                                   json.dumps({"path": str(self.small)}), "--runs", CONCURRENT,
                                   "--inflight", CONCURRENT)
                conc.append(status_kb(ward.pid, "VmHWM"))
            finally:
                self.stop_ward(ward)
        sshd = [self.sshd_session_rss() for _ in range(3)]
        sshd_rollup = [rollup_kb(self.sshd.pid) for _ in range(3)]
        self.results["memory_kib"] = {
            "ward_idle": summary(r["idle"] for r in rows),
            "ward_idle_hwm": summary(r["idle_hwm"] for r in rows),
            "ward_idle_no_packs": summary(r["idle_no_packs"] for r in rows),
            "ward_idle_system_ca_store_no_packs": summary(system_store),
            "ward_idle_breakdown": rows[-1]["parts"],
            "ward_idle_pss": summary(r["pss"] for r in rows),
            "ward_idle_private_dirty": summary(r["private_dirty"] for r in rows),
            "sshd_listener_pss": summary(r["Pss"] for r in sshd_rollup),
            "sshd_listener_private_dirty": summary(r["Private_Dirty"] for r in sshd_rollup),
            "ward_slow_consumer_peak": summary(r["hwm"] for r in slow),
            "ward_slow_consumer_first_tenth": summary(r["first_tenth_max"] for r in slow),
            "ward_slow_consumer_last_tenth": summary(r["last_tenth_max"] for r in slow),
            "slow_consumer_mb_s": SLOW_MBPS,
            "slow_consumer_wall_s": summary(r["wall_s"] for r in slow),
            "ward_16_streams_peak": summary(conc),
            "sshd_listener": summary(s["listener"] for s in sshd),
            "sshd_session": summary(s["session"] for s in sshd),
            "sshd_session_processes": sshd[-1]["processes"],
        }
        log("memory", {k: v for k, v in self.results["memory_kib"].items()
                       if k != "ward_idle_breakdown"})

    def sshd_session_rss(self):
        """Resident KiB of the idle sshd and of one session's sshd processes."""
        proc = subprocess.Popen(self.ssh_base + ["127.0.0.1", "sleep", "3"])
        time.sleep(1.5)
        session, count = 0, 0
        for child in children_of(self.sshd.pid):
            for pid in [child] + children_of(child):
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
                if comm == "sshd":
                    session += status_kb(pid, "VmRSS")
                    count += 1
        listener = status_kb(self.sshd.pid, "VmRSS")
        proc.wait()
        return {"listener": listener, "session": session, "processes": count}

    # ---- 5. start-up ----
    def startup(self):
        gen = self.scratch / "gen-packs" / "gen"
        gen.mkdir(parents=True)
        actions = "".join(
            f"  gen.a{i:04d}:\n    description: Generated action {i}.\n    read_only: true\n"
            f"    exec: [\"/bin/echo\", \"{{{{args.word}}}}\"]\n"
            f"    args:\n      word: {{type: string, pattern: '[a-z]{{1,16}}', default: x}}\n"
            for i in range(1000))
        (gen / "pack.yaml").write_text(f"pack: gen\nversion: \"1.0.0\"\n"
                                       f"description: 1,000 generated actions.\nactions:\n"
                                       + actions)
        port = free_port()
        cases = {"example_packs": self.config("state-examples", port,
                                              packs=[str(REPO / "packs")]),
                 "generated_1000": self.config("state-gen", port,
                                               packs=[str(gen.parent)])}
        rows = {k: [] for k in cases}
        for _ in range(max(20, REPS * 4)):
            for name, cfg in cases.items():
                t0 = time.monotonic()
                subprocess.run([self.ward, "--config", cfg, "--allow-writable", "state"],
                               stdout=subprocess.DEVNULL, check=True)
                rows[name].append((time.monotonic() - t0) * 1e3)
        self.results["startup_ms"] = {k: summary(v) for k, v in rows.items()}
        log("startup", self.results["startup_ms"])

    # ---- profile: where ward spends a stream's CPU (run only when named) ----
    def profile(self):
        port = free_port()
        cfg = self.config("profile", port)
        data = self.scratch / "perf.data"
        self.out.mkdir(parents=True, exist_ok=True)
        ward = subprocess.Popen(["perf", "record", "-q", "-F", "999", "-g", "-o", data, "--",
                                 self.ward, "--config", cfg, "--allow-writable", "connect"],
                                stderr=subprocess.DEVNULL)
        try:
            res, _ = self.sink(port, "stream", "--action", "bench.cat", "--args",
                               json.dumps({"path": str(self.data)}))
        finally:
            ward.send_signal(signal.SIGINT)
            ward.wait(30)
        report = subprocess.run(["perf", "report", "-i", data, "--no-children", "--percent-limit",
                                 "0.7", "--sort", "dso,symbol", "-g", "none"],
                                capture_output=True, text=True).stdout
        (self.out / "benchmarks-profile.txt").write_text(report)
        self.results["profile"] = {"wall_s": res["wall_s"], "bytes": STREAM_BYTES}
        log("profile written to", self.out / "benchmarks-profile.txt")

    # ---- the whole run ----
    def machine(self):
        cpu = "unknown"
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
        ver = subprocess.run([self.ward, "version"], capture_output=True, text=True).stdout
        ssh = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
        ossl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout
        return {"cpu": cpu, "cores": os.cpu_count(),
                "memory_gib": round(os.sysconf("SC_PHYS_PAGES") * PAGE / GIB, 1),
                "kernel": platform.release(), "os": Path("/etc/debian_version").read_text()
                .strip(), "ward": ver.strip(), "openssh": ssh, "openssl": ossl.strip(),
                "reps": REPS, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}

    def save(self):
        """Writes the results so far into benchmarks.json; a partial run
        (BENCH_STEPS) keeps the other steps' latest figures."""
        self.out.mkdir(parents=True, exist_ok=True)
        saved = self.out / "benchmarks.json"
        merged = json.loads(saved.read_text()) if saved.exists() else {}
        merged.update(self.results)
        saved.write_text(json.dumps(merged, indent=2) + "\n")
        return merged

    def run(self, only):
        self.setup()
        self.results["machine"] = self.machine()
        steps = [("ceiling", self.sink_ceiling), ("startup", self.startup),
                 ("throughput", self.throughput), ("dispatch", self.dispatch),
                 ("memory", self.memory), ("redaction", self.redaction),
                 ("profile", self.profile)]
        for name, step in steps:
            if (not only and name != "profile") or name in only:
                log("==", name)
                step()
                self.save()
        merged = self.save()
        import report
        table = report.table(merged)
        print(table)
        report.chart(merged, self.out / "benchmarks.png")
        report.update_doc(self.out / "benchmarks.md", table, merged["machine"])


def pct(sorted_values, p):
    k = (len(sorted_values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


if __name__ == "__main__":
    bench = Bench(sys.argv[1], sys.argv[2])
    try:
        bench.run(set(sys.argv[3:]))
    finally:
        bench.stop()
