"""`ward mcp` driven by the official MCP Python SDK's stdio client: a real client
that nobody on this project wrote."""

import json
import os
import subprocess
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp_types import Implementation

from support import (BASE_ENV, REPO, TEST_TIMEOUT_S, cmdline, group_members, journal,
                     proc_stat, sleeper_group, wait_for, ward_binary, write_config)

pytestmark = pytest.mark.anyio

CLIENT = Implementation(name="sdk-test", version="2.3")


def client(config: Path, mode: str = "legacy") -> Client:
    """An SDK client that starts `ward --config CONFIG mcp` itself, as an agent would."""
    params = StdioServerParameters(command=ward_binary(), args=["--config", str(config), "mcp"],
                                   env=BASE_ENV, cwd=str(config.parent))
    return Client(params, mode=mode, client_info=CLIENT, read_timeout_seconds=TEST_TIMEOUT_S)


def ward_pid(config: Path) -> int:
    """The `ward mcp` process this test's client started on `config`."""
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := proc_stat(int(entry))) and stat[0] == os.getpid() \
                and str(config) in cmdline(int(entry)) and stat[2] != "Z":
            return int(entry)
    raise AssertionError("no ward child process")


async def test_initialize_negotiates_the_newest_handshake_revision(scratch):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with client(scratch / "config.yaml") as c:
            assert c.protocol_version == "2025-11-25"
            assert c.server_info.name == "ward"
            assert c.server_capabilities.tools is not None
            await c.send_ping()


async def test_default_auto_mode_falls_back_from_discover_to_initialize(scratch):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with client(scratch / "config.yaml", mode="auto") as c:
            assert c.protocol_version == "2025-11-25"
            tools = await c.list_tools()
            assert any(t.name == "e2e_echo" for t in tools.tools)


async def test_tools_list_has_the_generated_schema(scratch):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with client(scratch / "config.yaml") as c:
            tools = {t.name: t for t in (await c.list_tools()).tools}
    assert "e2e_region" in tools and "mcp_ticker" in tools and "chatty" in tools
    region = tools["e2e_region"]
    assert region.title == "e2e.region"
    assert region.description == "Enum and pattern arguments."
    schema = region.input_schema
    assert schema["type"] == "object"
    assert schema["required"] == ["region", "reason"]
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    assert props["region"] == {"type": "string", "enum": ["se", "no", "dk"]}
    assert props["host"] == {"type": "string", "maxLength": 64, "pattern": "^(?:[a-z0-9.-]+)$",
                             "default": "localhost"}
    assert props["reason"]["type"] == "string" and props["reason"]["maxLength"] == 1024
    assert props["options"]["properties"] == {}
    assert "timeout_s 30" in props["options"]["description"]

    count = tools["e2e_count"].input_schema["properties"]
    assert count["n"] == {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 3}
    lines = count["options"]["properties"]["max_output_lines"]
    assert (lines["minimum"], lines["maximum"], lines["default"]) == (1, 1000, 100)
    sleep = tools["e2e_sleep"].input_schema["properties"]["options"]["properties"]
    assert (sleep["timeout_s"]["minimum"], sleep["timeout_s"]["maximum"]) == (1, 3)

    assert tools["e2e_echo"].annotations.read_only_hint is True
    assert tools["e2e_region"].annotations.read_only_hint is False
    secret = tools["e2e_secret"].input_schema["properties"]["token"]
    assert "Secret" in secret["description"] and "default" not in secret


async def test_tools_list_pages_through_every_tool(tmp_path):
    pack = tmp_path / "packs" / "many"
    pack.mkdir(parents=True)
    actions = "".join(f"  many.a{i:03d}:\n    description: Action {i}.\n"
                      f"    exec: [\"/bin/true\"]\n" for i in range(230))
    (pack / "pack.yaml").write_text(
        "pack: many\nversion: \"1\"\ndescription: Many actions.\nactions:\n" + actions)
    config = write_config(tmp_path, packs=[tmp_path / "packs"])
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with client(config) as c:
            names, cursor, pages = [], None, 0
            while True:
                page = await c.list_tools(cursor=cursor)
                names += [t.name for t in page.tools]
                pages += 1
                cursor = page.next_cursor
                if cursor is None:
                    break
    assert pages == 3
    assert names == sorted(f"many_a{i:03d}" for i in range(230))


async def test_valid_call_returns_labelled_output_and_structured_result(scratch):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with client(scratch / "config.yaml") as c:
            result = await c.call_tool("e2e_region", {"region": "no", "reason": "sdk test"})
    assert result.is_error is False
    assert result.content[0].text == "out| no localhost"
    assert "exited 0" in result.content[1].text
    structured = result.structured_content
    assert structured["outcome"] == "exited" and structured["exit_code"] == 0
    assert structured["counts"]["stdout"]["lines"] == 1
    assert structured["argv"] == ["/bin/echo", "no", "localhost"]
    started = [e for e in journal(scratch) if e["event"] == "started"]
    assert [(e["origin"], e["requester"], e["reason"]) for e in started] == [
        ("mcp", "sdk-test/2.3", "sdk test")]
    assert structured["journal"]["seq"] == journal(scratch)[-1]["seq"]


async def test_bad_arguments_come_back_as_a_tool_error_naming_each(scratch):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with client(scratch / "config.yaml") as c:
            result = await c.call_tool("e2e_region", {
                "region": "fi", "host": "Bad Host", "extra": 1, "reason": "sdk test"})
    assert result.is_error is True
    text = result.content[0].text
    for field in ("args.region", "args.host", "args.extra"):
        assert field in text
    errors = result.structured_content["errors"]
    assert sorted(e["field"] for e in errors) == ["args.extra", "args.host", "args.region"]
    assert result.structured_content["code"] == "invalid_request"
    events = journal(scratch)
    assert [e["event"] for e in events] == ["refused"]  # journaled, and nothing ran


async def test_dry_run_shows_the_argv_the_call_would_run_and_runs_nothing(scratch):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with client(scratch / "config.yaml") as c:
            tools = {t.name: t for t in (await c.list_tools()).tools}
            assert tools["e2e_region"].input_schema["properties"]["dry_run"]["type"] == "boolean"
            plan = await c.call_tool("e2e_region", {"region": "dk", "reason": "plan",
                                                    "dry_run": True})
            bad = await c.call_tool("e2e_region", {"region": "fi", "reason": "plan",
                                                   "dry_run": True})
            run = await c.call_tool("e2e_region", {"region": "dk", "reason": "run"})
    assert plan.is_error is False
    assert "nothing ran" in plan.content[0].text
    assert plan.structured_content["outcome"] == "planned"
    assert plan.structured_content["argv"] == run.structured_content["argv"]
    assert bad.is_error is True and "args.region" in bad.content[0].text
    events = journal(scratch)
    assert [(e["event"], e.get("outcome")) for e in events] == [
        ("planned", "planned"), ("planned", "refused"), ("started", None),
        ("finished", "exited")]


async def test_single_run_action_is_refused_while_another_process_holds_it(scratch):
    holder = subprocess.Popen(
        [ward_binary(), "--config", str(scratch / "config.yaml"), "action", "run", "e2e.single",
         "--arg", "seconds=30", "--run-id", "cli-holder", "--reason", "holds the slot"],
        env=BASE_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: any(e["event"] == "started" for e in journal(scratch)),
                 what="the holder's started event")
        with anyio.fail_after(TEST_TIMEOUT_S):
            async with client(scratch / "config.yaml") as c:
                result = await c.call_tool("e2e_single", {"seconds": 1, "reason": "second"})
        assert result.is_error is True
        assert result.structured_content["code"] == "busy"
        assert "cli-holder" in result.content[0].text
    finally:
        holder.terminate()
        holder.wait()


async def test_missing_reason_is_refused_by_the_engine(scratch):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with client(scratch / "config.yaml") as c:
            result = await c.call_tool("e2e_echo", {"message": "hi"})
    assert result.is_error is True
    assert [e["field"] for e in result.structured_content["errors"]] == ["reason"]


async def test_output_is_redacted_and_the_secret_never_echoed(scratch):
    token = "s3cr3t-token-value"
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with client(scratch / "config.yaml") as c:
            result = await c.call_tool("mcp_secret", {"token": token, "reason": "redaction"})
    text = result.content[0].text
    assert token not in str(result.model_dump())
    assert "[REDACTED:arg.token]" in text and "[REDACTED:mcp-ticket]" in text
    assert token not in (scratch / "journal" / "events.jsonl").read_text()


async def test_output_past_the_cap_is_cut_with_a_note(scratch):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with client(scratch / "config.yaml") as c:
            result = await c.call_tool("mcp_flood", {"n": 1000, "reason": "cap"})
    lines = result.content[0].text.split("\n")
    assert lines[0] == "out| 1"
    assert any(line.startswith("[ward: output cap reached:") for line in lines)
    assert lines[-1] == "out| 1000"  # the tail still arrives
    assert result.structured_content["counts"]["cap_reached"] is True


async def test_cancelled_call_kills_the_process_group(scratch):
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with client(scratch / "config.yaml") as c:
            async with anyio.create_task_group() as tg:
                tg.start_soon(c.call_tool, "mcp_sleep", {"reason": "cancel me"})
                group = await anyio.to_thread.run_sync(
                    sleeper_group, ward_pid(scratch / "config.yaml"))
                tg.cancel_scope.cancel()
            while group_members(group):
                await anyio.sleep(0.05)
            # The session goes on after a cancel.
            await c.send_ping()
            while not [e for e in journal(scratch) if e["event"] == "finished"]:
                await anyio.sleep(0.05)
    finished = [e for e in journal(scratch) if e["event"] == "finished"]
    assert [e["outcome"] for e in finished] == ["cancelled"]


async def test_progress_callback_sees_a_streaming_call(scratch):
    seen: list[float] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append(value)

    with anyio.fail_after(TEST_TIMEOUT_S):
        async with client(scratch / "config.yaml") as c:
            result = await c.call_tool("mcp_ticker", {"n": 5, "reason": "progress"},
                                       progress_callback=progress)
    assert result.is_error is False
    assert result.content[0].text.split("\n")[-1] == "out| tick 5"
    assert len(seen) >= 2
    assert seen == sorted(set(seen))


async def test_older_revisions_work_with_their_own_shapes(scratch, raw):
    ward = raw()
    ward.initialize("2024-11-05")
    tools = ward.request(1, "tools/list")["result"]["tools"]
    assert all("annotations" not in t and "title" not in t for t in tools)
    result = ward.request(2, "tools/call", {"name": "e2e_echo", "arguments": {
        "message": "old", "reason": "old revision"}})["result"]
    assert "structuredContent" not in result
    assert result["content"][0]["text"] == "out| old"


async def test_linux_core_read_only_actions_are_annotated_as_the_pack_declares(tmp_path):
    config = write_config(tmp_path, packs=[REPO / "packs" / "linux-core"])
    state = json.loads(subprocess.run(
        [ward_binary(), "--config", str(config), "state", "--compact"], capture_output=True,
        env=BASE_ENV, check=True, timeout=10).stdout)
    declared = {a["name"].replace(".", "_"): a["read_only"] for a in state["actions"]}
    assert any(declared.values())
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with client(config) as c:
            tools = (await c.list_tools()).tools
    assert {t.name: t.annotations.read_only_hint for t in tools} == declared
