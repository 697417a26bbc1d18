"""Cases 31 and 33 (known failures of other MCP servers), their inputs copied into
Tests/RunnerTests/Fixtures/mcp/."""

import json
import threading
from pathlib import Path

from support import FIXTURES, MAX_LINE_BYTES, PACKS, write_config

CASES = FIXTURES / "mcp"
# Case 33's oversized line: 64 MiB, far past ward's 1 MiB cap.
HUGE_LINE_BYTES = 64 << 20
# Peak resident memory allowed while the huge line streams through: the debug
# binary idles near 20 MiB, and a server that buffered the line would pass 64 MiB.
MEMORY_BOUND_KIB = 48 * 1024


def case_lines(name: str) -> list[bytes]:
    return (CASES / name).read_bytes().splitlines(keepends=True)


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_case31_stdout_carries_only_protocol_messages(raw, tmp_path):
    # Extra noise on stderr: debug logging, and a pack whose load warns.
    noisy = tmp_path / "noisy" / "lint"
    noisy.mkdir(parents=True)
    (noisy / "pack.yaml").write_text(
        "pack: lint\nversion: \"1\"\ndescription: Loads with a warning.\nactions:\n"
        "  lint.grep:\n    description: Needle without a double dash.\n"
        "    exec: [\"/bin/grep\", \"{{args.needle}}\", \"/dev/null\"]\n"
        "    args:\n      needle: {type: string, allow_leading_dash: true, required: true}\n")
    config = write_config(tmp_path, packs=[*PACKS, tmp_path / "noisy"])
    ward = raw("--log-level", "debug", config=config)
    for line in case_lines("case31-client.jsonl"):
        ward.send_bytes(line)
    assert ward.recv()["id"] == 1
    reply = ward.recv()
    assert reply["id"] == 2
    text = reply["result"]["content"][0]["text"]
    # Two pipes, so the streams may arrive in either order; each line keeps its label.
    assert sorted(text.split("\n")) == ["err| to-stderr", "out| no-newline", "out| to-stdout"]
    # Concurrent calls: each reply is one whole line, never interleaved.
    for i in range(6):
        ward.send({"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call", "params": {
            "name": "mcp_flood", "arguments": {"n": 40, "reason": "concurrent"}}})
    ids = sorted(ward.recv()["id"] for _ in range(6))
    assert ids == list(range(10, 16))
    ward.close_stdin()
    assert ward.wait() == 0

    # Every stdout line was parsed strictly as it arrived (RawWard fails otherwise).
    stdout = b"".join(ward.raw_lines)
    assert all(json.loads(line)["jsonrpc"] == "2.0" for line in ward.raw_lines)
    assert stdout.endswith(b"\n")
    for child_text in (b"to-stdout", b"to-stderr", b"no-newline"):
        # Only inside the JSON result, never as a line of its own.
        assert child_text + b"\n" not in stdout
    stderr = ward.stderr.decode()
    assert "level=debug" in stderr and 'msg="run started"' in stderr
    assert "warning: actions.lint.grep" in stderr


def test_case33_batches_bad_json_and_huge_lines_get_defined_answers(raw):
    ward = raw()
    for line in case_lines("case33-lines.jsonl"):
        ward.send_bytes(line)
    not_supported = {"jsonrpc": "2.0", "id": None, "error": {
        "code": -32600, "message": "batch requests are not supported"}}
    # No revision negotiated yet, so no batches: one error each, nothing executed.
    assert ward.recv() == not_supported
    empty = ward.recv()
    assert empty["id"] is None and empty["error"]["code"] == -32600
    assert ward.recv() == not_supported
    truncated = ward.recv()
    assert truncated["id"] is None and truncated["error"]["code"] == -32700
    assert ward.recv() == {"jsonrpc": "2.0", "id": 4, "result": {}}

    head = b'{"jsonrpc":"2.0","id":5,"method":"ping","params":{"pad":"'
    chunk = b"x" * (1 << 20)

    def write_huge() -> None:
        ward.send_bytes(head)
        for _ in range(HUGE_LINE_BYTES // len(chunk)):
            ward.send_bytes(chunk)
        ward.send_bytes(b'"}}\n{"jsonrpc":"2.0","id":6,"method":"ping"}\n')

    writer = threading.Thread(target=write_huge)
    writer.start()
    oversized = ward.recv()
    assert oversized["id"] is None and oversized["error"]["code"] == -32600
    assert str(MAX_LINE_BYTES) in oversized["error"]["message"]
    assert ward.recv(timeout=60) == {"jsonrpc": "2.0", "id": 6, "result": {}}
    writer.join()
    assert peak_rss_kib(ward.proc.pid) < MEMORY_BOUND_KIB


def test_case33_batches_are_served_where_the_revision_has_them(raw):
    ward = raw()
    ward.initialize("2025-03-26")
    lines = case_lines("case33-lines.jsonl")
    ward.send_bytes(lines[0])
    replies = ward.recv()
    assert [r["id"] for r in replies] == [1, 2]
    assert replies[0]["result"] == {} and "tools" in replies[1]["result"]
    ward.send_bytes(lines[1])
    assert ward.recv()["error"]["code"] == -32600
    ward.send_bytes(lines[2])  # notifications only: no reply at all
    ward.send_bytes(lines[3])
    assert ward.recv()["error"]["code"] == -32700
    ward.send_bytes(lines[4])
    assert ward.recv() == {"jsonrpc": "2.0", "id": 4, "result": {}}
