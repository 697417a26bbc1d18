#!/usr/bin/env python3
"""ward's development control plane: the server end of docs/wire-protocol.md.

It listens with TLS on loopback, takes one runner key, prints what runners send as
JSON lines on stdout and sends what stdin or a script tells it to. Demos and ward's
integration tests use it as a real peer; it is not a control plane to deploy (no
persistence, no policy, one shared key). contrib/devcp/README.md has the details.
"""

import argparse
import asyncio
import dataclasses
import hmac
import http
import json
import logging
import math
import os
import re
import secrets
import shlex
import signal
import ssl
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed, ProtocolError
from websockets.frames import Close
from websockets.http11 import Request, Response

PATH = "/v1/runner"
SUBPROTOCOL = "ward.v1"

# The protocol's bound on one message; a larger one is closed with 1009.
MAX_MESSAGE_BYTES = 1 << 20
# Longest command line read from stdin: room for a raw message well over
# MAX_MESSAGE_BYTES, so oversize messages can be sent to test the runner's bound.
MAX_COMMAND_BYTES = 16 << 20
# Time a client gets to finish the websocket upgrade once TLS is up.
OPEN_TIMEOUT_S = 10
# The runner sends hello "at once"; a connection silent for this long is closed.
HELLO_TIMEOUT_S = 10
# A throwaway CA for development: long enough never to expire under a demo.
CERT_DAYS = 3650
# Close code for a session replaced by a newer one with the same runner id: an
# application code (4000-4999), so the runner sees a deliberate, non-error close
# it can tell apart from its own protocol failures, and reconnects as after any close.
REPLACED_CODE = 4000
# Close code for a first message that is not a hello (RFC 6455: policy violation).
NOT_HELLO_CODE = 1008
# RFC 6455: a control frame carries at most 125 bytes, two of them the close code.
MAX_CLOSE_REASON_BYTES = 123

RUN_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
INTEGER = re.compile(r"-?[0-9]+")

EXIT_SETUP_FAILED = 1
EXIT_USAGE = 2

# openssl settings for the throwaway CA and its server certificate, so that the
# system's openssl.cnf plays no part (-subj overrides [dn]). The server names are
# the ones a local runner dials: the certificate must match the URL's host.
OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = ward devcp
[ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1{extra_names}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

log = logging.getLogger("devcp")


class SetupError(Exception):
    """The state folder, the certificates or the key could not be prepared."""


class CommandError(ValueError):
    """A command line (from stdin or a script) that cannot be carried out."""


def note(level: int, message: str, **fields: object) -> None:
    """Logs a constant message for humans, with its changing data as key=value."""
    parts = [message, *(f"{key}={value}" for key, value in fields.items())]
    log.log(level, "%s", " ".join(parts))


def encode(value: object) -> str:
    """Compact JSON, as sent on the wire and printed on stdout."""
    return json.dumps(value, separators=(",", ":"))


def emit(event: str, **fields: object) -> None:
    """Prints one event as a JSON line on stdout."""
    print(encode({"event": event, **fields}), flush=True)


# State folder: certificates and the runner key.


@dataclasses.dataclass(frozen=True)
class State:
    """The files in the state folder that the server and a runner need."""

    ca_file: Path
    ca_key_file: Path
    cert_file: Path
    cert_key_file: Path
    key_file: Path
    endpoint_file: Path


def prepare_state(folder: Path, key_file: Path | None, cert_ips: list[str] = ()) -> State:
    """Creates what is missing in `folder` (CA, certificate, runner key), reusing the rest."""
    folder = folder.resolve()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    state = State(
        ca_file=folder / "ca.pem",
        ca_key_file=folder / "ca.key",
        cert_file=folder / "server.pem",
        cert_key_file=folder / "server.key",
        key_file=key_file.resolve() if key_file else folder / "runner.key",
        endpoint_file=folder / "endpoint.json",
    )
    ensure_certificates(folder, state, cert_ips)
    if key_file is None:
        ensure_runner_key(state.key_file)
    return state


def ensure_certificates(folder: Path, state: State, cert_ips: list[str] = ()) -> None:
    """Makes a CA and a server certificate for the loopback names, unless both exist."""
    if not (state.ca_file.exists() and state.ca_key_file.exists()):
        with tempfile.TemporaryDirectory(dir=folder) as work:
            make_ca(Path(work))
            install(Path(work), folder, ["ca.pem", "ca.key"])
        note(logging.INFO, "created a CA", file=state.ca_file)
        state.cert_file.unlink(missing_ok=True)
    if not (state.cert_file.exists() and state.cert_key_file.exists()):
        with tempfile.TemporaryDirectory(dir=folder) as work:
            make_server_certificate(Path(work), state.ca_file, state.ca_key_file, cert_ips)
            install(Path(work), folder, ["server.pem", "server.key"])
        note(logging.INFO, "created a server certificate", file=state.cert_file)


def make_ca(work: Path) -> None:
    """Writes a self-signed CA (ca.pem, ca.key) into `work`."""
    config = write_openssl_config(work)
    openssl(
        "req", "-x509", "-config", config, "-extensions", "ca", *new_key_arguments(),
        "-keyout", work / "ca.key", "-out", work / "ca.pem", "-days", CERT_DAYS,
        "-subj", "/CN=ward devcp throwaway CA",
    )


def make_server_certificate(work: Path, ca_file: Path, ca_key: Path,
                            cert_ips: list[str] = ()) -> None:
    """Writes server.pem and server.key into `work`, signed by the CA, naming the
    loopback names and `cert_ips`."""
    config = write_openssl_config(work, cert_ips)
    request = work / "server.csr"
    openssl(
        "req", "-new", "-config", config, *new_key_arguments(),
        "-keyout", work / "server.key", "-out", request, "-subj", "/CN=localhost",
    )
    openssl(
        "x509", "-req", "-in", request, "-CA", ca_file, "-CAkey", ca_key,
        "-set_serial", secrets.randbits(63), "-days", CERT_DAYS,
        "-extfile", config, "-extensions", "server", "-out", work / "server.pem",
    )


def new_key_arguments() -> list[str]:
    """openssl req arguments for a fresh, unencrypted P-256 key."""
    return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc"]


def write_openssl_config(work: Path, cert_ips: list[str] = ()) -> Path:
    """Writes OPENSSL_CONFIG into `work`, so the system's openssl.cnf plays no part."""
    path = work / "openssl.cnf"
    path.write_text(OPENSSL_CONFIG.format(extra_names="".join(f", IP:{ip}" for ip in cert_ips)))
    return path


def openssl(*arguments: object) -> None:
    """Runs the openssl command line; its chatter is shown only when it fails."""
    command = ["openssl", *map(str, arguments)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        raise SetupError(f"cannot run openssl: {error}") from error
    if result.returncode != 0:
        raise SetupError(f"openssl {arguments[0]} failed: {result.stderr.strip()}")


def install(work: Path, folder: Path, names: list[str]) -> None:
    """Moves finished files from `work` into `folder`, keys readable by the owner only."""
    for name in names:
        if name.endswith(".key"):
            os.chmod(work / name, 0o600)
        os.replace(work / name, folder / name)


def ensure_runner_key(path: Path) -> None:
    """Writes a random runner key to `path` (mode 0600) unless one is there."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_urlsafe(32))
    note(logging.INFO, "created a runner key", file=path)


def read_runner_key(path: Path) -> str:
    """The key in `path`, without the surrounding whitespace an editor or echo adds."""
    try:
        key = path.read_text().strip()
    except (OSError, UnicodeDecodeError) as error:
        raise SetupError(f"cannot read the runner key {str(path)!r}: {error}") from error
    if not key:
        raise SetupError(f"the runner key file {str(path)!r} is empty")
    return key


# Commands: one per line, from stdin or a script.


@dataclasses.dataclass(frozen=True)
class Command:
    """One parsed command line.

    `verb` is `send` (text is the message; run is set when it is a `run`), `wait`
    (run), `sleep` (seconds), `drop` or `close` (code, reason).
    """

    verb: str
    text: str = ""
    run: str | None = None
    seconds: float = 0.0
    code: int = 0
    reason: str = ""


def parse_command(line: str, new_run_id: Callable[[], str]) -> Command | None:
    """The command on `line`, or None for a blank line or a `#` comment."""
    line = line.rstrip("\r\n")
    if line.lstrip().startswith("{"):
        return Command("send", text=line)
    try:
        words = shlex.split(line, comments=True)
    except ValueError as error:
        raise CommandError(str(error)) from error
    if not words:
        return None
    verb, rest = words[0], words[1:]
    parser = COMMANDS.get(verb)
    if parser is None:
        raise CommandError(f"unknown command {verb!r}")
    return parser(rest, new_run_id)


def parse_run(words: list[str], new_run_id: Callable[[], str]) -> Command:
    """`run ACTION [k=v ...] [--opt k=v ...] [--raw-json OBJECT] --reason TEXT [--id ID]`."""
    if not words or words[0].startswith("--"):
        raise CommandError("run needs an action name")
    action, args, options = words[0], {}, {}
    raw_args = reason = run_id = None
    for flag, value in run_fields(words[1:]):
        if flag is None or flag == "--opt":
            key, typed_value = parse_pair(value)
            (args if flag is None else options)[key] = typed_value
        elif flag == "--raw-json":
            raw_args = parse_raw_args(value)
        elif flag == "--id":
            run_id = value
        else:
            reason = value

    if reason is None:
        raise CommandError("run needs --reason TEXT")
    if raw_args is not None and args:
        raise CommandError("--raw-json replaces the k=v arguments; give one or the other")
    run_id = new_run_id() if run_id is None else run_id
    if not RUN_ID.fullmatch(run_id):
        raise CommandError(f"run id {run_id!r} is not 1 to 128 of [A-Za-z0-9._:-]")
    args_text = encode(args) if raw_args is None else raw_args
    return Command("send", text=run_text(run_id, action, args_text, options, reason),
                   run=run_id)


def run_fields(words: list[str]) -> Iterator[tuple[str | None, str]]:
    """The parts of a run command after the action, as (flag, value); an argument
    `k=v` comes as (None, "k=v"). The reason runs to the next --flag, unquoted."""
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--reason":
            end = next((i for i, w in enumerate(words) if i > index and w.startswith("--")),
                       len(words))
            if end == index + 1:
                raise CommandError("--reason needs a text")
            yield word, " ".join(words[index + 1:end])
            index = end
        elif word in ("--opt", "--id", "--raw-json"):
            if index + 1 == len(words):
                raise CommandError(f"{word} needs a value")
            yield word, words[index + 1]
            index += 2
        elif word.startswith("--"):
            raise CommandError(f"unknown run option {word!r}")
        else:
            yield None, word
            index += 1


def run_text(run_id: str, action: str, args_text: str, options: dict, reason: str) -> str:
    """A `run` message with its members in the protocol's order; `args_text` is
    spliced in as given, so --raw-json numbers such as 10.0 reach the runner as written."""
    members = [
        ("type", encode("run")), ("run", encode(run_id)), ("action", encode(action)),
        ("args", args_text), ("options", encode(options)), ("reason", encode(reason)),
    ]
    return "{" + ",".join(f"{encode(name)}:{value}" for name, value in members) + "}"


def parse_pair(word: str) -> tuple[str, object]:
    """`k=v` as a key and a typed value: integer, boolean, or else string."""
    key, equals, value = word.partition("=")
    if not equals or not key:
        raise CommandError(f"expected k=v, got {word!r}")
    if INTEGER.fullmatch(value):
        return key, int(value)
    if value in ("true", "false"):
        return key, value == "true"
    return key, value


def parse_raw_args(text: str) -> str:
    """The `--raw-json` text, checked to be one JSON object and kept exactly as written."""
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise CommandError(f"--raw-json is not JSON: {error}") from error
    if not isinstance(value, dict):
        raise CommandError("--raw-json must be a JSON object")
    return text


def parse_cancel(words: list[str], _: Callable[[], str]) -> Command:
    """`cancel ID`."""
    if len(words) != 1:
        raise CommandError("cancel takes one run id")
    return Command("send", text=encode({"type": "cancel", "run": words[0]}))


def parse_ack(words: list[str], _: Callable[[], str]) -> Command:
    """`ack ID...`."""
    if not words:
        raise CommandError("ack takes one or more run ids")
    return Command("send", text=encode({"type": "ack", "runs": words}))


def parse_wait(words: list[str], _: Callable[[], str]) -> Command:
    """`wait ID`: until that run is finished or refused."""
    if len(words) != 1:
        raise CommandError("wait takes one run id")
    return Command("wait", run=words[0])


def parse_sleep(words: list[str], _: Callable[[], str]) -> Command:
    """`sleep SECONDS`."""
    try:
        seconds = float(words[0]) if len(words) == 1 else math.nan
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= 0):
        raise CommandError("sleep takes one number of seconds")
    return Command("sleep", seconds=seconds)


def parse_drop(words: list[str], _: Callable[[], str]) -> Command:
    """`drop`: close the TCP connection with no close frame."""
    if words:
        raise CommandError("drop takes no arguments")
    return Command("drop")


def parse_close(words: list[str], _: Callable[[], str]) -> Command:
    """`close CODE [REASON]`, with a code websockets allows on the wire."""
    if not words or not INTEGER.fullmatch(words[0]):
        raise CommandError("close takes a code and an optional reason")
    code, reason = int(words[0]), " ".join(words[1:])
    if len(reason.encode()) > MAX_CLOSE_REASON_BYTES:
        raise CommandError(f"a close reason is at most {MAX_CLOSE_REASON_BYTES} bytes")
    try:
        Close(code, reason).check()
    except ProtocolError as error:
        raise CommandError(f"close code {code} cannot be sent: {error}") from error
    return Command("close", code=code, reason=reason)


COMMANDS: dict[str, Callable[[list[str], Callable[[], str]], Command]] = {
    "run": parse_run, "cancel": parse_cancel, "ack": parse_ack, "wait": parse_wait,
    "sleep": parse_sleep, "drop": parse_drop, "close": parse_close,
}


def load_script(path: Path, new_run_id: Callable[[], str]) -> list[Command]:
    """Every command in a script file; the first bad line is a `file:line: message` error."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"{path}: cannot read the script: {error}") from error
    commands = []
    for number, line in enumerate(lines, start=1):
        try:
            command = parse_command(line, new_run_id)
        except CommandError as error:
            raise CommandError(f"{path}:{number}: {error}") from error
        if command is not None:
            commands.append(command)
    return commands


def run_id_generator() -> Callable[[], str]:
    """Run ids `r-PREFIX-N`, with a prefix random per process: the runner's journal
    never executes an id twice, so ids must not repeat across restarts."""
    prefix, count = secrets.token_hex(3), 0

    def next_id() -> str:
        nonlocal count
        count += 1
        return f"r-{prefix}-{count}"

    return next_id


# Messages from the runner.


def parse_message(text: str | bytes) -> tuple[dict | None, dict]:
    """A received frame as (message, event fields): message is None when it is no
    JSON object, and the fields then say what was wrong with it."""
    if isinstance(text, bytes):
        return None, {"problem": "binary frame", "bytes": len(text)}
    try:
        message = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None, {"problem": "not JSON", "text": text}
    if not isinstance(message, dict):
        return None, {"problem": "not a JSON object", "text": text}
    return message, {"message": message}


def hello_runner_id(message: dict | None) -> str | None:
    """The runner id of a hello, or None if `message` is not a usable hello."""
    if message is None or message.get("type") != "hello":
        return None
    runner = message.get("runner")
    runner_id = runner.get("id") if isinstance(runner, dict) else None
    return runner_id if isinstance(runner_id, str) and runner_id else None


def hello_summary(hello: dict) -> dict:
    """The parts of a hello worth a line: who, which version, how many actions, the head."""
    runner = hello.get("runner")
    runner = runner if isinstance(runner, dict) else {}
    state = hello.get("state")
    actions = state.get("actions") if isinstance(state, dict) else None
    return {
        "type": "hello",
        "protocol": hello.get("protocol"),
        "session": hello.get("session"),
        "runner": runner.get("id"),
        "version": runner.get("version"),
        "actions": len(actions) if isinstance(actions, list) else None,
        "journal": hello.get("journal"),
        "in_flight": hello.get("in_flight"),
        "unacknowledged": hello.get("unacknowledged"),
    }


def output_summary(message: dict) -> dict:
    """A run.output without its text: how many lines and text bytes it carried."""
    lines = message.get("lines") if isinstance(message.get("lines"), list) else []
    texts = [line.get("text", "") for line in lines if isinstance(line, dict)]
    return {"type": "run.output", "run": message.get("run"), "frame": message.get("frame"),
            "lines": len(texts), "text_bytes": sum(len(t.encode()) for t in texts),
            "last_seq": lines[-1].get("seq") if lines and isinstance(lines[-1], dict) else None}


def sent_fields(text: str) -> dict:
    """Event fields for a sent message: parsed when it is JSON, else the raw text."""
    try:
        return {"message": json.loads(text)}
    except (json.JSONDecodeError, RecursionError):
        return {"text": text}


def peer_name(connection: ServerConnection) -> str:
    """The runner's address as host:port, IPv6 in brackets."""
    address = connection.remote_address
    if not address:
        return "unknown"
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# The server.


class ControlPlane:
    """The server side: sessions by runner id, the runs awaited, the fault switches."""

    def __init__(self, options: argparse.Namespace, key: str) -> None:
        self.options = options
        self.key = key
        self.started = time.monotonic()
        # Newest last: commands go to the session that said hello most recently.
        self.sessions: dict[str, ServerConnection] = {}
        # Ids of runs that got run.finished or run.refused, in any session.
        self.finished: set[str] = set()
        self.changed = asyncio.Condition()
        self.stopping = asyncio.Event()
        self.outputs_before_drop: int | None = options.drop_after_output
        self.tasks: set[asyncio.Task] = set()

    async def check_request(self, connection: ServerConnection,
                            request: Request) -> Response | None:
        """Answers the upgrade request: None accepts it, a Response refuses it."""
        if self.options.never_upgrade:
            await self.hold(connection)
            # Sent only when the server stops; a client that left gets nothing.
            return connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "Stopping\n")
        remaining = self.options.refuse_for - (time.monotonic() - self.started)
        if remaining > 0:
            response = self.refuse(connection, request, http.HTTPStatus.SERVICE_UNAVAILABLE)
            response.headers["Retry-After"] = str(math.ceil(remaining))
            return response
        if request.path.partition("?")[0] != PATH:
            return self.refuse(connection, request, http.HTTPStatus.NOT_FOUND)
        if not self.authorized(request):
            response = self.refuse(connection, request, http.HTTPStatus.UNAUTHORIZED)
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        return None

    async def hold(self, connection: ServerConnection) -> None:
        """Waits, without answering, until the client leaves or the server stops."""
        waits = [asyncio.create_task(self.stopping.wait()),
                 asyncio.create_task(connection.wait_closed())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()

    def refuse(self, connection: ServerConnection, request: Request,
               status: http.HTTPStatus) -> Response:
        """A plain-text refusal, reported as a `rejected` event."""
        emit("rejected", status=status.value, path=request.path, peer=peer_name(connection))
        return connection.respond(status, f"{status.phrase}\n")

    def authorized(self, request: Request) -> bool:
        """Whether the request carries exactly one `Authorization: Bearer` with the key."""
        values = request.headers.get_all("Authorization")
        if len(values) != 1:
            return False
        scheme, _, token = values[0].partition(" ")
        # Compared in constant time, so the key cannot be guessed byte by byte.
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self.key.encode())

    async def handle(self, connection: ServerConnection) -> None:
        """Serves one upgraded connection from its hello to its close."""
        runner_id = None
        try:
            runner_id = await self.greet(connection)
            if runner_id is not None and self.options.slow_reader:
                # Nothing more is read, so the runner's send buffer fills up. A close
                # from the runner goes unread too: only a stop ends such a session.
                connection.transport.pause_reading()
                await self.hold(connection)
                connection.transport.abort()
            elif runner_id is not None:
                async for text in connection:
                    await self.receive(connection, text)
                    if self.options.read_delay:
                        await asyncio.sleep(self.options.read_delay)
        except ConnectionClosed:
            pass
        finally:
            await self.forget(runner_id, connection)
            emit("disconnected", runner=runner_id, code=connection.close_code,
                 reason=connection.close_reason)

    async def greet(self, connection: ServerConnection) -> str | None:
        """Reads the hello and makes this the runner's session; None if it was no hello."""
        try:
            async with asyncio.timeout(HELLO_TIMEOUT_S):
                text = await connection.recv()
        except TimeoutError:
            await connection.close(NOT_HELLO_CODE, "no hello")
            return None
        message, fields = parse_message(text)
        runner_id = hello_runner_id(message)
        if runner_id is None:
            emit("received", **fields)
            await connection.close(NOT_HELLO_CODE, "expected hello")
            return None

        await self.adopt(runner_id, connection)
        emit("connected", runner=runner_id, session=message.get("session"),
             peer=peer_name(connection))
        emit("received", message=message if self.options.verbose else hello_summary(message))
        note(logging.INFO, "runner connected", runner=runner_id, peer=peer_name(connection))
        return runner_id

    async def adopt(self, runner_id: str, connection: ServerConnection) -> None:
        """Makes `connection` the session of `runner_id`, closing any older one."""
        older = self.sessions.pop(runner_id, None)
        self.sessions[runner_id] = connection
        if older is not None:
            note(logging.WARNING, "session replaced by a newer one", runner=runner_id)
            self.spawn(older.close(REPLACED_CODE, "replaced by a newer session"))
        async with self.changed:
            self.changed.notify_all()

    async def forget(self, runner_id: str | None, connection: ServerConnection) -> None:
        """Drops `connection` from the sessions, unless a newer one replaced it."""
        if runner_id is not None and self.sessions.get(runner_id) is connection:
            del self.sessions[runner_id]
            note(logging.INFO, "runner disconnected", runner=runner_id)
            async with self.changed:
                self.changed.notify_all()

    async def receive(self, connection: ServerConnection, text: str | bytes) -> None:
        """Prints one message from the runner and does what it calls for."""
        message, fields = parse_message(text)
        if message is not None and message.get("type") == "hello" and not self.options.verbose:
            fields = {"message": hello_summary(message)}
        elif (message is not None and message.get("type") == "run.output"
              and self.options.summarize_output):
            fields = {"message": output_summary(message)}
        emit("received", **fields)
        if message is None:
            return

        kind, run_id = message.get("type"), message.get("run")
        if kind == "run.output":
            self.count_output(connection)
        elif kind in ("run.finished", "run.refused") and isinstance(run_id, str):
            if kind == "run.finished" and not self.options.no_auto_ack:
                await self.send(connection, encode({"type": "ack", "runs": [run_id]}))
            self.finished.add(run_id)
            async with self.changed:
                self.changed.notify_all()

    def count_output(self, connection: ServerConnection) -> None:
        """Counts a run.output towards --drop-after-output and drops the link at N, once."""
        if self.outputs_before_drop is None:
            return
        self.outputs_before_drop -= 1
        if self.outputs_before_drop == 0:
            self.outputs_before_drop = None
            note(logging.INFO, "dropping the connection", flag="--drop-after-output")
            connection.transport.abort()

    async def send(self, connection: ServerConnection, text: str) -> None:
        """Sends one text frame and prints it as a `sent` event."""
        await connection.send(text)
        emit("sent", **sent_fields(text))

    async def execute(self, command: Command) -> None:
        """Carries out one command, waiting for a runner when it needs one."""
        if command.verb == "sleep":
            await asyncio.sleep(command.seconds)
            return
        if command.verb == "wait":
            await self.until(lambda: command.run in self.finished)
            return
        while True:
            connection = await self.current()
            try:
                if command.verb == "send":
                    await self.send(connection, command.text)
                elif command.verb == "drop":
                    connection.transport.abort()
                else:
                    await connection.close(command.code, command.reason)
                return
            except ConnectionClosed:
                note(logging.WARNING, "runner left before the command went out")
                await self.until(lambda: connection not in self.sessions.values())

    async def current(self) -> ServerConnection:
        """The newest session, once there is one."""
        if not self.sessions:
            note(logging.INFO, "waiting for a runner")
        await self.until(lambda: self.sessions)
        return next(reversed(self.sessions.values()))

    async def until(self, predicate: Callable[[], object]) -> None:
        """Waits until `predicate` holds; checked after every change of sessions or runs."""
        async with self.changed:
            await self.changed.wait_for(predicate)

    async def run_script(self, commands: list[Command]) -> None:
        """Runs the script's commands in order, then stops if --exit-after-script says so."""
        sent = set()
        for command in commands:
            await self.execute(command)
            if command.verb == "send" and command.run is not None:
                sent.add(command.run)
        if self.options.exit_after_script:
            await self.until(lambda: sent <= self.finished)
            note(logging.INFO, "script done and its runs finished; stopping")
            self.stopping.set()

    async def run_stdin(self, new_run_id: Callable[[], str]) -> None:
        """Runs commands from stdin as they come; a bad line is reported and skipped."""
        async for line in stdin_lines():
            try:
                command = parse_command(line, new_run_id)
            except CommandError as error:
                note(logging.ERROR, "command refused", error=repr(str(error)))
                continue
            if command is not None:
                await self.execute(command)

    def stop_on_failure(self, task: asyncio.Task) -> None:
        """Stops the server when a command task died of a bug, rather than run on deaf;
        the exception is raised once the server has closed."""
        if not task.cancelled() and task.exception() is not None:
            self.stopping.set()

    def spawn(self, coroutine) -> None:
        """Runs `coroutine` in the background, keeping a reference until it ends."""
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


async def stdin_lines() -> AsyncIterator[str]:
    """Lines from stdin; none when it is closed. EOF ends the commands, not the server."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or sys.stdin.isatty()):
        # epoll refuses regular files and /dev/null, and reading them never blocks.
        for line in sys.stdin:
            yield line
        return
    reader = asyncio.StreamReader(limit=MAX_COMMAND_BYTES)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while True:
            try:
                line = await reader.readline()
            except ValueError:
                # Over MAX_COMMAND_BYTES: that much is dropped, and the rest of the
                # line is read as the next command, which is then most likely refused.
                note(logging.ERROR, "command line too long; skipped", limit=MAX_COMMAND_BYTES)
                continue
            if not line:
                return
            yield line.decode("utf-8", errors="replace")
    finally:
        # asyncio made the descriptor non-blocking, and a terminal shares it with the
        # shell. A pipe at its end may already be closed: then there is nothing to reset.
        try:
            os.set_blocking(sys.stdin.fileno(), True)
        except (OSError, ValueError):
            pass
        transport.close()


def endpoint_url(host: str, port: int) -> str:
    """The URL a runner dials, IPv6 hosts in brackets."""
    return f"wss://{f'[{host}]' if ':' in host else host}:{port}{PATH}"


def write_endpoint(state: State, url: str) -> dict:
    """Writes endpoint.json atomically, so a reader never sees half of it."""
    endpoint = {"url": url, "ca_file": str(state.ca_file), "key_file": str(state.key_file)}
    partial = state.endpoint_file.with_suffix(".json.partial")
    partial.write_text(encode(endpoint) + "\n")
    os.replace(partial, state.endpoint_file)
    return endpoint


def tls_context(state: State) -> ssl.SSLContext:
    """Server TLS: 1.2 or newer, as the protocol requires, with the generated certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(state.cert_file, state.cert_key_file)
    return context


async def serve_until_stopped(options: argparse.Namespace, state: State, key: str,
                              script: list[Command], new_run_id: Callable[[], str]) -> None:
    """Listens, runs the script and stdin, and returns once asked to stop."""
    plane = ControlPlane(options, key)
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, plane.stopping.set)

    async with serve(
        plane.handle, options.host, options.port, ssl=tls_context(state),
        process_request=plane.check_request, subprotocols=[SUBPROTOCOL],
        max_size=options.max_message,
        # The protocol names no extension; without permessage-deflate the size bounds
        # apply to the bytes on the wire, as they do in ward.
        compression=None,
        # Liveness is the runner's job (it pings; websockets answers with pongs).
        # Pinging from here too would also close --slow-reader sessions early,
        # so it happens only when asked for (--ping-interval), with a pong
        # allowed up to 5 s.
        ping_interval=options.ping_interval, ping_timeout=5 if options.ping_interval else None,
        open_timeout=None if options.never_upgrade else OPEN_TIMEOUT_S,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        endpoint = write_endpoint(state, endpoint_url(options.host, port))
        emit("listening", **endpoint)
        note(logging.INFO, "listening", url=endpoint["url"])
        tasks = [asyncio.create_task(plane.run_script(script)),
                 asyncio.create_task(plane.run_stdin(new_run_id))]
        for task in tasks:
            task.add_done_callback(plane.stop_on_failure)
        await plane.stopping.wait()
        for task in tasks:
            task.cancel()
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(result, Exception):
                raise result


def parse_options(argv: list[str] | None) -> argparse.Namespace:
    """The command line; see README.md for what each flag is for."""
    parser = argparse.ArgumentParser(
        prog="ward_devcp.py", description="ward's development control plane (not for production).")
    parser.add_argument("--state-dir", type=Path, required=True,
                        help="folder for the CA, certificate, runner key and endpoint.json")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=non_negative(int), default=0,
                        help="port to listen on; 0 picks a free one")
    parser.add_argument("--key-file", type=Path, help="runner key to accept "
                        "(default: STATE_DIR/runner.key, created on first use)")
    parser.add_argument("--script", type=Path, help="file of commands to run once connected")
    parser.add_argument("--exit-after-script", action="store_true",
                        help="exit once the script is done and its runs have finished")
    parser.add_argument("--verbose", action="store_true", help="print every hello whole")
    parser.add_argument("--no-auto-ack", action="store_true",
                        help="do not ack run.finished results")
    parser.add_argument("--refuse-for", type=non_negative(float), default=0.0, metavar="SECONDS",
                        help="answer 503 with Retry-After for this long after start")
    parser.add_argument("--never-upgrade", action="store_true",
                        help="accept TCP and TLS but never answer the upgrade request")
    parser.add_argument("--drop-after-output", type=positive_int, metavar="N",
                        help="drop the connection after N run.output messages, once")
    parser.add_argument("--slow-reader", action="store_true",
                        help="stop reading from each connection after its hello")
    parser.add_argument("--cert-ip", action="append", default=[], metavar="ADDR",
                        help="also name ADDR in the server certificate (when it is made)")
    parser.add_argument("--ping-interval", type=non_negative(float), default=None,
                        metavar="SECONDS", help="ping each runner this often (default: never)")
    parser.add_argument("--read-delay", type=non_negative(float), default=0.0, metavar="SECONDS",
                        help="pause this long after each message read from a runner")
    parser.add_argument("--summarize-output", action="store_true",
                        help="print each run.output as counts, not its lines")
    parser.add_argument("--max-message", type=positive_int, default=MAX_MESSAGE_BYTES,
                        metavar="BYTES", help="largest message taken; larger closes with 1009")
    options = parser.parse_args(argv)
    if options.exit_after_script and options.script is None:
        parser.error("--exit-after-script needs --script")
    return options


def non_negative(kind: type) -> Callable[[str], float]:
    """An argparse type: a number of `kind` that is zero or more."""
    def convert(text: str) -> float:
        value = kind(text)
        if not (math.isfinite(value) and value >= 0):
            raise argparse.ArgumentTypeError(f"{text!r} is not zero or more")
        return value
    return convert


def positive_int(text: str) -> int:
    """An argparse type: an integer of one or more."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not one or more")
    return value


def main(argv: list[str] | None = None) -> int:
    """Runs the development control plane; returns the exit code."""
    options = parse_options(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="devcp: %(levelname)s %(message)s")
    # websockets logs every refused upgrade at info; the `rejected` event says it once.
    logging.getLogger("websockets").setLevel(logging.WARNING)
    new_run_id = run_id_generator()
    try:
        script = load_script(options.script, new_run_id) if options.script else []
    except CommandError as error:
        note(logging.ERROR, "script refused", error=repr(str(error)))
        return EXIT_USAGE
    try:
        state = prepare_state(options.state_dir, options.key_file, options.cert_ip)
        key = read_runner_key(state.key_file)
        asyncio.run(serve_until_stopped(options, state, key, script, new_run_id))
    except (SetupError, OSError, ssl.SSLError) as error:
        note(logging.ERROR, "cannot start", error=repr(str(error)))
        return EXIT_SETUP_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
