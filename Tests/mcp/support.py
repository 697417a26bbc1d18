"""Test support for `ward mcp`: where the binary is, a scratch config, a raw
line-level client for protocol edge cases, and /proc helpers to watch a run's
processes. Nothing here reads ../shared: every input lives in the repository.
"""

import json
import os
import queue
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests" / "RunnerTests" / "Fixtures"
PACKS = [FIXTURES / "e2e" / "packs", FIXTURES / "mcp" / "packs"]
# Generous for a busy two-core CI machine, yet short enough that a hang fails fast.
REPLY_TIMEOUT_S = 10
# Whole-test deadline for the SDK tests: above any single wait.
TEST_TIMEOUT_S = 30
# ward's documented cap on one message (LineFramer.defaultMaxLineBytes).
MAX_LINE_BYTES = 1 << 20
# A child environment like the one a client gives: no WARD_* variables.
BASE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8"}


def ward_binary() -> str:
    """$WARD_BINARY, else the debug build (`make test` builds it first)."""
    if os.environ.get("WARD_BINARY"):
        return os.environ["WARD_BINARY"]
    debug = REPO / ".build" / "debug" / "ward"
    if debug.exists():
        return str(debug)
    bin_path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=REPO, check=True,
                              capture_output=True, text=True).stdout.strip()
    return str(Path(bin_path) / "ward")


def write_config(folder: Path, packs: list[Path] | None = None, extra: str = "") -> Path:
    """A config naming the test packs, with the journal under `folder`."""
    pack_list = ", ".join(json.dumps(str(p)) for p in (packs or PACKS))
    config = folder / "config.yaml"
    config.write_text(
        "runner:\n  id: mcp-test\n"
        f"packs: [{pack_list}]\n"
        "journal:\n  path: ./journal/events.jsonl\n"
        "limits:\n  kill_grace_s: 1\n" + extra)
    config.chmod(0o644)
    return config


def journal(folder: Path) -> list[dict]:
    """The journal's events, parsed."""
    path = folder / "journal" / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def wait_for(predicate, timeout: float = REPLY_TIMEOUT_S, what: str = "condition"):
    """Polls `predicate` until it returns something truthy, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def proc_stat(pid: int) -> tuple[int, int, str] | None:
    """(ppid, pgrp, state) of `pid`, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[2]), fields[0]


def alive(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie."""
    stat = proc_stat(pid)
    return stat is not None and stat[2] != "Z"


def descendants(root: int) -> list[int]:
    """Every live process below `root`, by parentage."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := proc_stat(int(entry))) and stat[2] != "Z":
            children.setdefault(stat[0], []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def group_members(pgrp: int) -> list[int]:
    """Live processes in process group `pgrp`."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := proc_stat(int(entry))) and stat[1] == pgrp \
                and stat[2] != "Z":
            members.append(int(entry))
    return members


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def sleeper_group(ward_pid: int) -> int:
    """The process group of the `sleep 300` run under `ward_pid`, once it runs."""
    def find():
        for pid in descendants(ward_pid):
            if cmdline(pid)[:2] == ["sleep", "300"] and (stat := proc_stat(pid)):
                return stat[1]
        return None
    return wait_for(find, what="the run's sleep process")


class RawWard:
    """`ward mcp` on pipes, spoken to line by line. Every stdout line is parsed
    strictly as it arrives; a line that is not a JSON-RPC 2.0 message fails the test."""

    def __init__(self, config: Path, *flags: str) -> None:
        self.proc = subprocess.Popen(
            [ward_binary(), "--config", str(config), *flags, "mcp"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=BASE_ENV, cwd=config.parent)
        self.messages: queue.Queue = queue.Queue()
        self.raw_lines: list[bytes] = []
        self.stderr = bytearray()
        self._threads = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for t in self._threads:
            t.start()

    def _read_stdout(self) -> None:
        for line in self.proc.stdout:
            self.raw_lines.append(line)
            try:
                message = json.loads(line)
                assert line.endswith(b"\n") and line.count(b"\n") == 1
                assert (message.get("jsonrpc") == "2.0" if isinstance(message, dict)
                        else all(m.get("jsonrpc") == "2.0" for m in message))
            except Exception as e:  # noqa: BLE001 - reported to the test
                message = AssertionError(f"not a JSON-RPC line on stdout: {line[:200]!r} ({e})")
            self.messages.put(message)
        self.messages.put(EOFError("stdout closed"))

    def _read_stderr(self) -> None:
        for chunk in iter(lambda: self.proc.stderr.read1(65536), b""):
            self.stderr += chunk

    def send_bytes(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: object) -> None:
        self.send_bytes(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    def recv(self, timeout: float = REPLY_TIMEOUT_S) -> dict | list:
        """The next message; notifications (progress) are skipped."""
        while True:
            try:
                message = self.messages.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError("no reply from ward mcp") from None
            if isinstance(message, Exception):
                raise message
            if isinstance(message, dict) and "method" in message:
                continue
            return message

    def request(self, id_: object, method: str, params: dict | None = None) -> dict:
        message = {"jsonrpc": "2.0", "id": id_, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.recv()

    def initialize(self, version: str = "2025-11-25") -> dict:
        reply = self.request(0, "initialize", {
            "protocolVersion": version, "capabilities": {},
            "clientInfo": {"name": "raw-test", "version": "1.0"}})
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return reply

    def close_stdin(self) -> None:
        self.proc.stdin.close()

    def wait(self, timeout: float = REPLY_TIMEOUT_S) -> int:
        code = self.proc.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout)
        return code

    def stop(self) -> None:
        """Ends the process however the test went."""
        if self.proc.poll() is None:
            with_suppressed(self.proc.stdin.close)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def with_suppressed(action) -> None:
    try:
        action()
    except OSError:
        pass

