"""Commands from stdin and from a script, as the runner receives them."""

import asyncio
import json
import re
import sys

import pytest
from websockets.exceptions import ConnectionClosed, ConnectionClosedError

from support import EVENT_TIMEOUT_S, SCRIPT, DevCP, receive, runner


async def test_run_command_sends_a_typed_run_message(state_dir):
    async with DevCP.running(state_dir) as devcp:
        async with runner(devcp) as connection:
            await devcp.command(
                "run linux.journal unit=ssh.service lines=20 follow=false --opt timeout_s=600 "
                "--reason ticket OPS-123: why did ssh restart --id r-17")
            text = await receive(connection)
            sent = await devcp.expect("sent")
    assert text == (
        '{"type":"run","run":"r-17","action":"linux.journal",'
        '"args":{"unit":"ssh.service","lines":20,"follow":false},"options":{"timeout_s":600},'
        '"reason":"ticket OPS-123: why did ssh restart"}')
    assert sent["message"] == json.loads(text)


async def test_run_command_gives_each_run_a_new_id(state_dir):
    async with DevCP.running(state_dir) as devcp:
        async with runner(devcp) as connection:
            await devcp.command("run linux.uptime --reason one")
            await devcp.command("run linux.uptime --reason two")
            first = json.loads(await receive(connection))["run"]
            second = json.loads(await receive(connection))["run"]
    assert re.fullmatch(r"r-[0-9a-f]{6}-1", first)
    assert second == first.removesuffix("1") + "2"


async def test_raw_json_args_reach_the_runner_as_written(state_dir):
    async with DevCP.running(state_dir) as devcp:
        async with runner(devcp) as connection:
            await devcp.command("""run showcase.count --raw-json '{"n":10.0}' --reason typing""")
            text = await receive(connection)
    assert '"args":{"n":10.0},' in text


async def test_raw_line_is_sent_as_is(state_dir):
    line = '{"type": "plan",  "run": "r-9", "future": [1.50]}'
    async with DevCP.running(state_dir) as devcp:
        async with runner(devcp) as connection:
            await devcp.command(line)
            assert await receive(connection) == line


async def test_raw_line_that_is_not_json_is_sent_as_is(state_dir):
    async with DevCP.running(state_dir) as devcp:
        async with runner(devcp) as connection:
            await devcp.command('{"type": "run", "run": ')
            assert await receive(connection) == '{"type": "run", "run": '
            assert (await devcp.expect("sent"))["text"] == '{"type": "run", "run": '


async def test_cancel_and_ack_commands_send_their_messages(state_dir):
    async with DevCP.running(state_dir) as devcp:
        async with runner(devcp) as connection:
            await devcp.command("cancel r-17")
            await devcp.command("ack r-17 r-18")
            assert json.loads(await receive(connection)) == {"type": "cancel", "run": "r-17"}
            assert json.loads(await receive(connection)) == {"type": "ack",
                                                             "runs": ["r-17", "r-18"]}


async def test_close_command_closes_with_its_code_and_reason(state_dir):
    async with DevCP.running(state_dir) as devcp:
        async with runner(devcp) as connection:
            await devcp.command("close 4001 maintenance window")
            with pytest.raises(ConnectionClosed):
                await receive(connection)
            assert (connection.close_code, connection.close_reason) == (
                4001, "maintenance window")
        await devcp.expect("disconnected", code=4001)


async def test_drop_command_closes_without_a_close_frame(state_dir):
    async with DevCP.running(state_dir) as devcp:
        async with runner(devcp) as connection:
            await devcp.command("drop")
            with pytest.raises(ConnectionClosedError) as closed:
                await receive(connection)
            assert closed.value.rcvd is None
        await devcp.expect("disconnected", code=1006)


async def test_commands_wait_for_a_runner(state_dir):
    async with DevCP.running(state_dir) as devcp:
        await devcp.command("cancel r-1")
        async with runner(devcp) as connection:
            assert json.loads(await receive(connection)) == {"type": "cancel", "run": "r-1"}


async def test_bad_command_is_skipped(state_dir):
    async with DevCP.running(state_dir) as devcp:
        async with runner(devcp) as connection:
            await devcp.command("frobnicate r-1")
            await devcp.command("cancel r-2")
            assert json.loads(await receive(connection))["run"] == "r-2"


async def test_script_waits_for_its_runs_and_exits_when_they_finished(state_dir, tmp_path):
    script = tmp_path / "script.txt"
    script.write_text(
        "# two runs, the second only once the first finished\n"
        "run linux.uptime --reason first --id r-1\n"
        "wait r-1\n"
        "run linux.disk-usage --reason second --id r-2\n")
    async with DevCP.running(state_dir, "--script", str(script), "--exit-after-script") as devcp:
        async with runner(devcp) as connection:
            assert json.loads(await receive(connection))["run"] == "r-1"
            with pytest.raises(TimeoutError):
                await receive(connection, timeout=0.3)
            await connection.send(json.dumps({"type": "run.finished", "run": "r-1"}))
            assert json.loads(await receive(connection)) == {"type": "ack", "runs": ["r-1"]}
            assert json.loads(await receive(connection))["run"] == "r-2"
            await connection.send(json.dumps({"type": "run.refused", "run": "r-2"}))
            with pytest.raises(ConnectionClosed):
                await receive(connection)
            assert connection.close_code == 1001
        async with asyncio.timeout(EVENT_TIMEOUT_S):
            assert await devcp.process.wait() == 0


async def test_bad_script_line_is_reported_with_its_line_number(state_dir, tmp_path):
    script = tmp_path / "script.txt"
    script.write_text("run linux.uptime --reason ok\nrun linux.uptime\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), "--state-dir", str(state_dir), "--script", str(script),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        async with asyncio.timeout(EVENT_TIMEOUT_S):
            stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 2
    assert stdout == b""
    assert f"{script}:2: run needs --reason TEXT" in stderr.decode()


async def test_end_of_piped_stdin_keeps_serving(state_dir):
    async with DevCP.running(state_dir) as devcp:
        devcp.process.stdin.close()
        await asyncio.sleep(1.0)
        assert devcp.process.returncode is None
        async with runner(devcp) as connection:
            await connection.ping()
