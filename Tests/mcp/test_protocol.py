"""Raw protocol edge cases of `ward mcp`, written line by line on its stdin."""

import json
import socket
import subprocess
import time
from pathlib import Path

from support import (BASE_ENV, MAX_LINE_BYTES, alive, group_members, journal, sleeper_group,
                     wait_for, ward_binary)

ECHO_CALL = {"name": "e2e_echo", "arguments": {"message": "hi", "reason": "protocol test"}}


def test_notification_gets_no_reply(raw):
    ward = raw()
    ward.initialize()
    ward.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    ward.send({"jsonrpc": "2.0", "method": "notifications/whatever", "params": {"x": 1}})
    # Replies come in order, so anything sent for the notifications would come first.
    assert ward.request(1, "ping") == {"jsonrpc": "2.0", "id": 1, "result": {}}


def test_string_and_zero_ids_are_echoed_exactly(raw):
    ward = raw()
    assert ward.initialize()["id"] == 0
    assert ward.request("abc", "ping")["id"] == "abc"
    assert ward.request("", "ping")["id"] == ""
    assert ward.request(-7, "ping")["id"] == -7
    assert b'"id":0,' in ward.raw_lines[0]
    assert b'"id":"abc"' in ward.raw_lines[1]


def test_null_and_fractional_ids_are_invalid_requests(raw):
    ward = raw()
    for bad in (None, 1.5, True):
        reply = ward.request(bad, "ping")
        assert reply["id"] is None
        assert reply["error"]["code"] == -32600


def test_unknown_method_is_method_not_found(raw):
    ward = raw()
    ward.initialize()
    reply = ward.request(5, "resources/list")
    assert reply["id"] == 5 and reply["error"]["code"] == -32601


def test_server_discover_is_method_not_found_so_clients_fall_back(raw):
    ward = raw()
    reply = ward.request(1, "server/discover", {"_meta": {}})
    assert reply["error"]["code"] == -32601
    assert ward.initialize()["result"]["protocolVersion"] == "2025-11-25"


def test_request_before_initialize_is_refused_but_ping_works(raw):
    ward = raw()
    assert ward.request(1, "ping")["result"] == {}
    reply = ward.request(2, "tools/list")
    assert reply["id"] == 2 and reply["error"]["code"] == -32600
    assert "initialize" in reply["error"]["message"]
    reply = ward.request(3, "tools/call", ECHO_CALL)
    assert reply["error"]["code"] == -32600
    ward.initialize()
    assert "tools" in ward.request(4, "tools/list")["result"]


def test_second_initialize_is_refused(raw):
    ward = raw()
    ward.initialize()
    reply = ward.request(9, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {}})
    assert reply["error"]["code"] == -32600


def test_version_negotiation_answers_the_clients_or_the_newest(raw):
    for asked, answered in [("2024-11-05", "2024-11-05"), ("2025-03-26", "2025-03-26"),
                            ("2025-06-18", "2025-06-18"), ("2025-11-25", "2025-11-25"),
                            ("2026-07-28", "2025-11-25"), ("1999-01-01", "2025-11-25")]:
        ward = raw()
        assert ward.initialize(asked)["result"]["protocolVersion"] == answered


def test_malformed_json_is_a_parse_error_and_the_server_stays_up(raw):
    ward = raw()
    ward.send_bytes(b'{"jsonrpc":"2.0","id":1,"method":\n')
    reply = ward.recv()
    assert reply["id"] is None and reply["error"]["code"] == -32700
    assert ward.request(2, "ping")["result"] == {}


def test_invalid_utf8_is_a_parse_error_and_the_server_stays_up(raw):
    ward = raw()
    ward.send_bytes(b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\xff\xfe"}}\n')
    reply = ward.recv()
    assert reply["id"] is None and reply["error"]["code"] == -32700
    assert ward.request(2, "ping")["result"] == {}


def test_batch_is_refused_whole_where_the_revision_has_none(raw, scratch):
    ward = raw()
    ward.initialize("2025-06-18")
    ward.send([{"jsonrpc": "2.0", "id": 1, "method": "ping"},
               {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": ECHO_CALL}])
    assert ward.recv() == {"jsonrpc": "2.0", "id": None, "error": {
        "code": -32600, "message": "batch requests are not supported"}}
    assert ward.request(3, "ping")["result"] == {}
    assert journal(scratch) == []  # the batched call never ran


def test_batch_is_served_in_a_2025_03_26_session(raw):
    ward = raw()
    ward.initialize("2025-03-26")
    ward.send([{"jsonrpc": "2.0", "id": 1, "method": "ping"},
               {"jsonrpc": "2.0", "method": "notifications/initialized"},
               {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": ECHO_CALL},
               {"jsonrpc": "2.0", "id": 3, "method": "nope"}])
    replies = ward.recv()
    assert [r["id"] for r in replies] == [1, 2, 3]
    assert replies[0]["result"] == {}
    assert "out| hi" in replies[1]["result"]["content"][0]["text"]
    assert replies[2]["error"]["code"] == -32601
    ward.send([{"jsonrpc": "2.0", "method": "notifications/initialized"}])
    assert ward.request(4, "ping")["id"] == 4  # the notification-only batch got nothing


def test_empty_batch_is_one_invalid_request(raw):
    ward = raw()
    ward.initialize("2025-03-26")
    ward.send_bytes(b"[]\n")
    assert ward.recv() == {"jsonrpc": "2.0", "id": None, "error": {
        "code": -32600, "message": "an empty batch is not a request"}}


def test_line_over_the_cap_gets_an_error_and_reading_goes_on(raw):
    ward = raw()
    ward.initialize()
    pad = "x" * (2 * MAX_LINE_BYTES)
    ward.send_bytes(json.dumps({"jsonrpc": "2.0", "id": 5, "method": "ping",
                                "params": {"pad": pad}}).encode() + b"\n")
    reply = ward.recv()
    assert reply["id"] is None and reply["error"]["code"] == -32600
    assert str(MAX_LINE_BYTES) in reply["error"]["message"]
    assert ward.request(6, "ping") == {"jsonrpc": "2.0", "id": 6, "result": {}}


def test_line_just_under_the_cap_is_served(raw):
    ward = raw()
    head = b'{"jsonrpc":"2.0","id":7,"method":"ping","params":{"pad":"'
    tail = b'"}}'
    pad = b"y" * (MAX_LINE_BYTES - len(head) - len(tail))
    ward.send_bytes(head + pad + tail + b"\n")
    assert ward.recv() == {"jsonrpc": "2.0", "id": 7, "result": {}}


def test_crlf_and_blank_lines_are_accepted(raw):
    ward = raw()
    ward.send_bytes(b'\n\r\n{"jsonrpc":"2.0","id":1,"method":"ping"}\r\n')
    assert ward.recv() == {"jsonrpc": "2.0", "id": 1, "result": {}}


def test_unknown_tool_is_invalid_params(raw, scratch):
    ward = raw()
    ward.initialize()
    reply = ward.request(1, "tools/call", {"name": "e2e_nope", "arguments": {"reason": "x"}})
    assert reply["error"]["code"] == -32602
    assert "e2e_nope" in reply["error"]["message"]
    reply = ward.request(2, "tools/call", {"name": "e2e.echo", "arguments": {"reason": "x"}})
    assert reply["error"]["code"] == -32602
    refused = [e for e in journal(scratch) if e["event"] == "refused"]
    assert [e["action"] for e in refused] == ["e2e.nope"]  # a dotted name is no tool at all
    # A dry run of a tool that does not exist is the same protocol error.
    reply = ward.request(3, "tools/call", {"name": "e2e_nope",
                                           "arguments": {"reason": "x", "dry_run": True}})
    assert reply["error"]["code"] == -32602


def test_malformed_reason_and_options_name_the_field(raw):
    ward = raw()
    ward.initialize()
    reply = ward.request(1, "tools/call", {"name": "e2e_echo", "arguments": {
        "message": "x", "reason": 42, "options": []}})
    result = reply["result"]
    assert result["isError"] is True
    fields = [e["field"] for e in result["structuredContent"]["errors"]]
    assert fields == ["reason", "options"]


def test_arguments_must_be_an_object(raw):
    ward = raw()
    ward.initialize()
    reply = ward.request(1, "tools/call", {"name": "e2e_echo", "arguments": ["x"]})
    assert reply["error"]["code"] == -32602


def test_request_id_in_flight_cannot_be_reused(raw):
    ward = raw()
    ward.initialize()
    call = {"name": "mcp_sleep", "arguments": {"reason": "hold the id"}}
    ward.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call})
    reply = ward.request(1, "tools/call", ECHO_CALL)
    assert reply["error"]["code"] == -32600
    ward.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}})
    assert ward.request(2, "ping")["id"] == 2


def test_cancelled_call_gets_no_reply_at_all(raw, scratch):
    # The run's end comes after the cancel; its reply must be dropped, not sent
    # as a bare `null` line (RawWard fails the next recv on any line that is
    # not a JSON-RPC message).
    ward = raw()
    ward.initialize()
    ward.send({"jsonrpc": "2.0", "id": "c-1", "method": "tools/call",
               "params": {"name": "mcp_sleep", "arguments": {"reason": "cancel, no reply"}}})
    group = sleeper_group(ward.proc.pid)
    ward.send({"jsonrpc": "2.0", "method": "notifications/cancelled",
               "params": {"requestId": "c-1"}})
    deadline = time.monotonic() + 10
    while not [e for e in journal(scratch) if e["event"] == "finished"]:
        assert time.monotonic() < deadline, "the cancelled run never finished"
        time.sleep(0.05)
    assert group_members(group) == []
    assert ward.request(2, "ping") == {"jsonrpc": "2.0", "id": 2, "result": {}}
    ward.close_stdin()
    assert ward.wait() == 0
    assert [json.loads(line).get("id") for line in ward.raw_lines] == [0, 2]


def test_stdin_closed_mid_call_kills_the_run_and_exits_cleanly(raw, scratch):
    ward = raw()
    ward.initialize()
    ward.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
               "params": {"name": "mcp_sleep", "arguments": {"reason": "closed mid call"}}})
    group = sleeper_group(ward.proc.pid)
    ward.close_stdin()
    assert ward.wait() == 0
    assert group_members(group) == []
    reply = ward.recv()
    assert reply["id"] == 1
    assert reply["result"]["structuredContent"]["outcome"] == "cancelled"
    finished = [e for e in journal(scratch) if e["event"] == "finished"]
    assert [e["outcome"] for e in finished] == ["cancelled"]


def test_sigterm_stops_the_runs_and_exits_cleanly(raw, scratch):
    ward = raw()
    ward.initialize()
    ward.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
               "params": {"name": "mcp_sleep", "arguments": {"reason": "terminated"}}})
    group = sleeper_group(ward.proc.pid)
    ward.proc.terminate()
    assert ward.wait() == 0
    assert group_members(group) == []
    assert [e["outcome"] for e in journal(scratch) if e["event"] == "finished"] == ["cancelled"]


def test_stdin_that_is_not_a_pipe_fails_clearly(scratch):
    config = str(scratch / "config.yaml")
    (scratch / "input.jsonl").write_text('{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
    for source in ("/dev/null", str(scratch / "input.jsonl")):
        with open(source, "rb") as stdin:
            out = subprocess.run([ward_binary(), "--config", config, "mcp"], stdin=stdin,
                                 capture_output=True, env=BASE_ENV, timeout=10)
        assert out.returncode == 2
        assert out.stdout == b""
        assert b"stdin is a" in out.stderr and b"docs/mcp.md" in out.stderr
    assert not (scratch / "journal").exists()  # refused before anything was opened


def test_help_describes_the_command():
    out = subprocess.run([ward_binary(), "mcp", "--help"], capture_output=True, text=True,
                         env=BASE_ENV, timeout=10)
    assert out.returncode == 0
    assert out.stdout.startswith("Usage: ward mcp")


def test_progress_token_gets_increasing_notifications(raw):
    ward = raw()
    ward.initialize()
    ward.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "mcp_ticker", "arguments": {"n": 4, "reason": "progress"},
        "_meta": {"progressToken": "tok-1"}}})
    notes = []
    while True:
        message = ward.messages.get(timeout=10)
        if "method" not in message:
            break
        assert message["method"] == "notifications/progress"
        assert message["params"]["progressToken"] == "tok-1"
        notes.append(message["params"]["progress"])
    assert message["id"] == 1 and not message["result"]["isError"]
    assert len(notes) >= 2
    assert notes == sorted(set(notes))  # strictly increasing


def test_only_protocol_lines_reach_stdout_while_a_run_is_alive(raw):
    ward = raw("--log-level", "debug")
    ward.initialize()
    ward.request(1, "tools/call", {"name": "mcp_ticker", "arguments": {"n": 2, "reason": "x"}})
    assert alive(ward.proc.pid)
    wait_for(lambda: b"run finished" in ward.stderr, what="the run's log line on stderr")
    assert all(json.loads(line)["jsonrpc"] == "2.0" for line in ward.raw_lines)


def test_journal_records_origin_and_requester(raw, scratch: Path):
    ward = raw()
    ward.initialize()
    reply = ward.request(1, "tools/call", ECHO_CALL)
    assert reply["result"]["isError"] is False
    started = [e for e in journal(scratch) if e["event"] == "started"][0]
    assert started["origin"] == "mcp"
    assert started["requester"] == "raw-test/1.0"
    assert started["run"].startswith("mcp-")
    assert started["reason"] == "protocol test"


def test_a_socket_pair_works_like_pipes(scratch):
    # Node's child_process (and so many MCP clients) connects stdio with a socket pair.
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen([ward_binary(), "--config", str(scratch / "config.yaml"), "mcp"],
                            stdin=theirs, stdout=theirs, stderr=subprocess.DEVNULL,
                            env=BASE_ENV, cwd=scratch)
    theirs.close()
    try:
        ours.settimeout(10)
        stream = ours.makefile("rwb")
        stream.write(b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
        stream.flush()
        assert json.loads(stream.readline()) == {"jsonrpc": "2.0", "id": 1, "result": {}}
        ours.shutdown(socket.SHUT_WR)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        ours.close()
