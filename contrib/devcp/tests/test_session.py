"""A runner's session: hello, what is printed, replacement, acks and the fault switches."""

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosed, ConnectionClosedError

from support import DevCP, hello, receive, runner

FINISHED = {"type": "run.finished", "run": "r-17", "action": "linux.uptime",
            "outcome": "exited", "exit_code": 0, "signal": None, "duration_ms": 5}


def output(frame: int) -> str:
    """A run.output message of one stdout line."""
    line = {"stream": "stdout", "seq": frame, "text": f"line {frame}", "eol": "lf"}
    return json.dumps({"type": "run.output", "run": "r-17", "frame": frame, "lines": [line]})


async def test_prints_connected_and_a_summary_of_the_hello(state_dir):
    async with DevCP.running(state_dir) as devcp:
        async with devcp.dial() as connection:
            await connection.send(hello("web-1"))
            connected = await devcp.expect("connected")
            received = await devcp.expect("received")
    assert connected["runner"] == "web-1"
    assert connected["session"] == "s-web-1"
    assert received["message"] == {
        "type": "hello", "protocol": 1, "session": "s-web-1", "runner": "web-1",
        "version": "0.1.0", "actions": 2, "journal": {"seq": 7, "hash": "9ec2"},
        "in_flight": [], "unacknowledged": [],
    }


async def test_verbose_prints_the_whole_hello(state_dir):
    async with DevCP.running(state_dir, "--verbose") as devcp:
        async with runner(devcp):
            received = await devcp.expect("received")
    assert received["message"] == json.loads(hello("web-1"))


async def test_prints_every_message_from_the_runner_whole(state_dir):
    async with DevCP.running(state_dir) as devcp:
        async with runner(devcp) as connection:
            await connection.send(output(1))
            received = await devcp.expect("received", message=json.loads(output(1)))
    assert received["message"]["lines"][0]["text"] == "line 1"


async def test_reports_a_message_that_is_not_json(state_dir):
    async with DevCP.running(state_dir) as devcp:
        async with runner(devcp) as connection:
            await connection.send("{oops")
            received = await devcp.expect("received", problem="not JSON")
    assert received["text"] == "{oops"


async def test_closes_a_first_message_that_is_not_a_hello_with_1008(state_dir):
    async with DevCP.running(state_dir) as devcp:
        async with devcp.dial() as connection:
            await connection.send(json.dumps({"type": "heartbeat"}))
            with pytest.raises(ConnectionClosed):
                await receive(connection)
            assert connection.close_code == 1008
        await devcp.expect("disconnected", runner=None)


async def test_prints_disconnected_with_the_runners_close_code(state_dir):
    async with DevCP.running(state_dir) as devcp:
        async with runner(devcp) as connection:
            await connection.close(1001, "shutting down")
        event = await devcp.expect("disconnected")
    assert (event["runner"], event["code"], event["reason"]) == ("web-1", 1001, "shutting down")


async def test_newer_session_of_the_same_runner_closes_the_older_with_4000(state_dir):
    async with DevCP.running(state_dir) as devcp:
        async with runner(devcp) as older, runner(devcp) as newer:
            with pytest.raises(ConnectionClosed):
                await receive(older)
            assert older.close_code == 4000
            await devcp.command("cancel r-1")
            assert json.loads(await receive(newer)) == {"type": "cancel", "run": "r-1"}


async def test_sessions_of_other_runners_stay_up(state_dir):
    async with DevCP.running(state_dir) as devcp:
        async with runner(devcp, "web-1") as first, runner(devcp, "web-2"):
            await first.ping()


async def test_acks_every_run_finished(state_dir):
    async with DevCP.running(state_dir) as devcp:
        async with runner(devcp) as connection:
            await connection.send(json.dumps(FINISHED))
            ack = await receive(connection)
    assert json.loads(ack) == {"type": "ack", "runs": ["r-17"]}


async def test_no_auto_ack_leaves_results_unacknowledged(state_dir):
    async with DevCP.running(state_dir, "--no-auto-ack") as devcp:
        async with runner(devcp) as connection:
            await connection.send(json.dumps(FINISHED))
            await devcp.expect("received", message=FINISHED)
            await devcp.command("cancel r-2")
            assert json.loads(await receive(connection))["type"] == "cancel"


async def test_closes_a_message_over_max_message_with_1009(state_dir):
    async with DevCP.running(state_dir, "--max-message", "2048") as devcp:
        async with runner(devcp) as connection:
            await connection.send(json.dumps({"type": "heartbeat", "pad": "x" * 4096}))
            with pytest.raises(ConnectionClosed):
                await receive(connection)
            assert connection.close_code == 1009


async def test_drop_after_output_drops_once_without_a_close_frame(state_dir):
    async with DevCP.running(state_dir, "--drop-after-output", "2") as devcp:
        async with runner(devcp) as connection:
            await connection.send(output(1))
            await connection.send(output(2))
            with pytest.raises(ConnectionClosedError) as closed:
                await receive(connection)
            assert closed.value.rcvd is None
        async with runner(devcp) as connection:
            for frame in (3, 4, 5):
                await connection.send(output(frame))
            await devcp.expect("received", message=json.loads(output(5)))
            await connection.ping()


async def test_slow_reader_stops_reading_after_the_hello(state_dir):
    chunk = json.dumps({"type": "heartbeat", "pad": "x" * (256 << 10)})
    async with DevCP.running(state_dir, "--slow-reader") as devcp:
        async with runner(devcp) as connection:
            with pytest.raises(TimeoutError):
                # Loopback buffers hold a few MiB; 64 MiB can only go if it reads.
                for _ in range(256):
                    async with asyncio.timeout(0.5):
                        await connection.send(chunk)
            connection.transport.abort()
