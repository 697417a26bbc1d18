"""Test support: ward_devcp.py as a real subprocess, and a websocket client that plays
the runner against it over TLS verified with the generated CA. `DevCP.running` kills
the subprocess however the test ends.
"""

import asyncio
import contextlib
import json
import ssl
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from websockets.asyncio.client import connect

HERE = Path(__file__).resolve().parent
SCRIPT = HERE.parent / "ward_devcp.py"
PATH = "/v1/runner"
SUBPROTOCOL = "ward.v1"
# Generous for a busy two-core CI machine, yet short enough that a hang fails fast.
EVENT_TIMEOUT_S = 5
# Whole-test deadline: above any single wait, far below the suite's 30 s budget.
TEST_TIMEOUT_S = 15
# How long the subprocess gets to exit after SIGTERM before it is killed.
STOP_TIMEOUT_S = 5
# Stdout lines can carry a whole message, up to the protocol's 1 MiB and more.
STDOUT_LIMIT = 16 << 20


def hello(runner_id: str = "web-1", **members: object) -> str:
    """A hello as ward sends it, with a state document of two actions."""
    message = {
        "type": "hello", "protocol": 1, "session": f"s-{runner_id}",
        "runner": {"id": runner_id, "version": "0.1.0", "hostname": runner_id, "labels": {}},
        "journal": {"seq": 7, "hash": "9ec2"}, "in_flight": [], "unacknowledged": [],
        "state": {"schema": 1, "actions": [{"name": "linux.uptime"}, {"name": "linux.journal"}]},
    }
    message.update(members)
    return json.dumps(message)


class DevCP:
    """A running ward_devcp.py: its stdout events, its stdin, and its endpoint."""

    def __init__(self, process: asyncio.subprocess.Process, state_dir: Path) -> None:
        self.process = process
        self.state_dir = state_dir
        self.events: list[dict] = []
        self.endpoint: dict = {}

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, state_dir: Path, *flags: str) -> AsyncIterator["DevCP"]:
        """Starts the control plane, waits until it listens, and stops it afterwards;
        a test that leaves it running also checks that SIGTERM stops it cleanly."""
        process = await start(state_dir, *flags)
        devcp = cls(process, state_dir)
        try:
            listening = await devcp.expect("listening")
            devcp.endpoint = {k: listening[k] for k in ("url", "ca_file", "key_file")}
            yield devcp
        finally:
            code = await devcp.stop()
        assert code == 0, f"devcp exited with {code}"

    @property
    def key(self) -> str:
        """The runner key the control plane accepts."""
        return Path(self.endpoint["key_file"]).read_text().strip()

    async def expect(self, event: str, timeout: float = EVENT_TIMEOUT_S,
                     **fields: object) -> dict:
        """The next event named `event` whose `fields` match; earlier ones are skipped."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    line = await self.process.stdout.readline()
                    if not line:
                        raise AssertionError(f"devcp exited before a {event} event")
                    record = json.loads(line)
                    self.events.append(record)
                    if record["event"] == event and all(
                            record.get(name) == value for name, value in fields.items()):
                        return record
        except TimeoutError:
            raise AssertionError(
                f"no {event} event {fields} within {timeout} s; last: {self.events[-5:]}"
            ) from None

    async def command(self, line: str) -> None:
        """Types one command line on the control plane's stdin."""
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    def tls(self) -> ssl.SSLContext:
        """Client TLS that trusts only the generated CA and checks the host name."""
        return ssl.create_default_context(cafile=self.endpoint["ca_file"])

    def dial(self, path: str = PATH, key: str | None = None, headers: dict | None = None,
             **options: object) -> connect:
        """A websocket connection as a runner opens it; `headers` replaces the key's."""
        url = self.endpoint["url"].removesuffix(PATH) + path
        if headers is None:
            headers = {"Authorization": f"Bearer {self.key if key is None else key}"}
        options.setdefault("open_timeout", EVENT_TIMEOUT_S)
        options.setdefault("close_timeout", 1)
        options.setdefault("subprotocols", [SUBPROTOCOL])
        return connect(url, ssl=self.tls(), additional_headers=headers, **options)

    async def stop(self) -> int:
        """Ends the subprocess (SIGTERM, then SIGKILL) and returns its exit code."""
        if self.process.returncode is None:
            self.process.terminate()
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
                return -9
        return self.process.returncode


async def start(state_dir: Path, *flags: str) -> asyncio.subprocess.Process:
    """ward_devcp.py with `flags`; stderr goes to the test's captured output."""
    return await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), "--state-dir", str(state_dir), *flags,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=STDOUT_LIMIT)


@contextlib.asynccontextmanager
async def runner(devcp: DevCP, runner_id: str = "web-1", **options: object):
    """A connection that has said hello and whose hello the control plane printed."""
    async with devcp.dial(**options) as connection:
        await connection.send(hello(runner_id))
        await devcp.expect("connected", runner=runner_id)
        yield connection


async def receive(connection, timeout: float = EVENT_TIMEOUT_S) -> str:
    """The next text frame from the control plane, within `timeout`."""
    async with asyncio.timeout(timeout):
        return await connection.recv()
