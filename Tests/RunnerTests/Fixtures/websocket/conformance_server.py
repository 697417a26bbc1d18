"""A websocket conformance server for ward's client: TLS on loopback, frames
crafted byte by byte, one case per connection. Python standard library only.

    conformance_server.py --cert server.pem --key server.key [--host H]
                          [--port N] [--exit-on-stdin-eof] [--list]

It prints "port N" first, then serves connections (each on its own thread)
until it is killed, or has been idle for IDLE_EXIT_SECONDS, or (with
--exit-on-stdin-eof) its stdin ends, which is how a test run that dies
takes the server with it. --list prints the case names and exits.

The case is chosen by the request path: GET /case/<name> (a query string is
ignored); any other path is answered 404, a malformed upgrade 400. The server
does its side of the upgrade itself: it checks the request (GET, HTTP/1.1,
Upgrade, Connection, version 13, a 16-byte Sec-WebSocket-Key), answers with
the Sec-WebSocket-Accept, and chooses "ward.v1" when the client offers it.

Then it writes the case's steps, each write its own TLS record and TCP
segment (WRITE_GAP_SECONDS apart), and watches the client for REPLY_SECONDS
more. Text messages from the client (ward's runner opens with `hello`) are
recorded and otherwise ignored. A close from the client is answered with the
same code unless the server already sent a close or the case says not to.
The server never closes TCP first after a close handshake: in every case the
client must drop the connection itself.

For each connection it prints ONE JSON line on stdout:
  {"case": NAME, "path": PATH, "status": 101, "subprotocol": "ward.v1",
   "client_frames": [{"opcode": 10, "fin": true, "rsv": 0, "masked": true,
                      "length": 0, "payload_hex": "", "close_code": null,
                      "close_reason": null}, ...],
   "client_close_notify": true, "client_closed_tcp": true,
   "unsent_writes": 0, "error": null}
client_frames is everything the client sent after the upgrade, until it
closed or REPLY_SECONDS passed. client_close_notify: the client ended TLS
with close_notify; client_closed_tcp: the client ended TCP (FIN or reset).
unsent_writes counts case writes skipped because the client had already
closed (the fail-fast and oversized-header cases stop early on purpose).
"""

import argparse
import base64
import hashlib
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SUBPROTOCOL = "ward.v1"
# Exit after this long with no connection: a test that forgot the server
# does not leave it running for ever, yet a person trying cases by hand
# with `ward connect` has two minutes between attempts.
IDLE_EXIT_SECONDS = 120
# How long the client is watched after the case's last write: ward's
# default close timeout is 5 s, so a client that waits that long for a
# reply it will never get is still seen dropping the connection.
REPLY_SECONDS = 5
# Pause between the case's writes, so each goes out as its own TLS record
# and TCP segment and the client really reads the frames in pieces.
WRITE_GAP_SECONDS = 0.01
# Largest upgrade request read; ward's is a few hundred bytes.
MAX_REQUEST_BYTES = 16384
# ward's default cap on an incoming message (WebSocketConfiguration
# .defaultMaxMessageBytes); the length cases sit on either side of it.
MESSAGE_CAP = 1 << 20
# How long the drop cases wait for the client's first message (ward's
# `hello`, sent right after the upgrade) so it cannot cross the server's end
# of TLS: application data after a close_notify fails the TLS shutdown.
FIRST_FRAME_SECONDS = 1
# Payload bytes shown per client frame in the report; ward's frames are
# small, and a longer one is summarised by its length.
PAYLOAD_HEX_LIMIT = 256

OUTPUT_LOCK = threading.Lock()
ACTIVITY = {"connections": 0, "last": time.monotonic()}
ACTIVITY_LOCK = threading.Lock()


# Frames as a server writes them ---------------------------------------------

def header(opcode, length, fin=True, rsv=0, masked=False, form=None):
    """A frame header announcing `length` payload bytes; `form` forces the
    7-, 16- or 64-bit length encoding (None: the shortest, as RFC 6455
    section 5.2 requires)."""
    out = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mask_bit = 0x80 if masked else 0
    if form is None:
        form = 7 if length < 126 else 16 if length < 65536 else 64
    if form == 7:
        return out + bytes([mask_bit | length])
    if form == 16:
        return out + bytes([mask_bit | 126]) + struct.pack("!H", length)
    return out + bytes([mask_bit | 127]) + struct.pack("!Q", length)


def frame(opcode, payload=b"", fin=True, rsv=0, form=None):
    """A whole unmasked frame."""
    return header(opcode, len(payload), fin, rsv, False, form) + payload


class Close(bytes):
    """Bytes holding a close frame: once written, the server has closed."""


def close(code=None, reason=b""):
    """A close frame with `code` (none when None) and `reason`."""
    body = b"" if code is None else struct.pack("!H", code) + reason
    return Close(frame(0x8, body))


def hx(text):
    """Bytes from hex like "81 02 c3 28"."""
    return bytes.fromhex(text)


def pattern(n):
    """`n` bytes of ASCII digits: "0123456789" repeated."""
    return (b"0123456789" * (n // 10 + 1))[:n]


class Watch:
    """A step that reads the client for up to `seconds`, or until it sends a
    close (`until="close"`: the case's remaining writes are then skipped) or
    its first frame (`until="frame"`)."""

    def __init__(self, seconds, until="close"):
        self.seconds = seconds
        self.until = until


class Drop:
    """A step that ends the connection without a websocket close: with
    `close_notify`, TLS ends cleanly; without, TCP ends under TLS."""

    def __init__(self, close_notify):
        self.close_notify = close_notify


class Case:
    """The steps the server takes, and whether it answers a client close."""

    def __init__(self, steps, answer_close=True):
        self.steps = steps
        self.answer_close = answer_close


# Every case ends with this close unless it has a close of its own, so a
# client that wrongly accepts a bad frame still ends, and says so.
DONE = close(1000, b"case done")

CASES = {}


def case(name, *steps, answer_close=True):
    CASES[name] = Case(list(steps), answer_close)


def utf8_split_across_writes():
    # Case 15 V2: one frame, written as 7 then 3 bytes.
    whole = hx("81 08 c3 a6 c3 b8 c3 a5 c3 a6")
    return [whole[:7], whole[7:]]


# A run request split inside "é" (c3 | a9): case 15's run-request variant.
RUN_REQUEST = ('{"type":"run","run":"r-utf8","action":"demo.echo",'
               '"args":{"comment":"caf\u00e9"},"reason":"case 15"}').encode()
RUN_SPLIT = RUN_REQUEST.index(b"\xc3") + 1

# Case 13: fragments and control frames between them (section 5.4, 5.5).
case("fragmented-text", frame(0x1, b"Hel", fin=False), frame(0x0, b"lo, ", fin=False),
     frame(0x0, b"world"), DONE)
case("ping-between-fragments", hx("01 02 61 62"), hx("89 00"), hx("80 02 63 64"), DONE)
case("pong-and-ping-between-fragments", hx("01 01 61"), hx("8a 00"), hx("89 03 70 69 6e"),
     hx("80 01 62"), DONE)
case("ping-payload-125", frame(0x9, pattern(125)), DONE)
case("fragmented-ping", hx("09 00"), DONE)
case("continuation-without-start", hx("80 01 78"), DONE)
case("text-inside-fragmented", hx("01 01 61"), hx("81 01 62"), DONE)
case("control-payload-126", frame(0x9, pattern(126)), DONE)

# Case 14: masks, reserved bits and opcodes (sections 5.1, 5.2), binary.
case("masked-text", hx("81 82 11 22 33 44 79 4b"), DONE)
case("masked-close", Close(hx("88 82 03 e8 00 00 00 00")))
for bit in (1, 2, 3):
    case("rsv%d" % bit, frame(0x1, b"hi", rsv=1 << (3 - bit)), DONE)
for op in (3, 4, 5, 6, 7):
    case("opcode-%d" % op, frame(op, b"x"), DONE)
for op in (11, 12, 13, 14, 15):
    case("opcode-%d" % op, frame(op), DONE)
case("binary", frame(0x2, b"\x00\x01\x02"), DONE)

# Case 14: the close handshake (sections 5.5.1, 7.1, 7.4).
for code in (1000, 1001, 3000, 4999):
    case("close-%d" % code, close(code))
case("close-empty", close())
for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000):
    case("close-bad-%d" % code, close(code))
case("close-one-byte", Close(hx("88 01 03")))
case("close-reason-invalid-utf8", Close(hx("88 04 03 e8 c3 28")))
# The client starts these two: the server answers it, or never does.
case("close-answered")
case("close-unanswered", answer_close=False)
case("drop-tcp", Watch(FIRST_FRAME_SECONDS, until="frame"), Drop(close_notify=False))
case("drop-tls", Watch(FIRST_FRAME_SECONDS, until="frame"), Drop(close_notify=True))

# Case 15: UTF-8 validated across fragments and reads (sections 5.6, 8.1).
case("utf8-split-valid", hx("01 03 c3 a6 c3"), hx("80 05 b8 c3 a5 c3 a6"), DONE)
case("utf8-split-across-writes", *utf8_split_across_writes(), DONE)
case("utf8-split-4-byte", hx("01 07 31 32 33 34 35 f4 8f"), hx("80 07 bf bf 31 32 33 34 35"),
     DONE)
case("utf8-run-request-split", frame(0x1, RUN_REQUEST[:RUN_SPLIT], fin=False),
     frame(0x0, RUN_REQUEST[RUN_SPLIT:]), DONE)
case("utf8-invalid", hx("81 02 c3 28"), DONE)
case("utf8-split-invalid", hx("01 03 c3 a6 c3"), hx("80 01 28"), DONE)
case("utf8-truncated", hx("01 01 c3"), hx("80 00"), DONE)
case("utf8-overlong", hx("81 02 c0 af"), DONE)
case("utf8-surrogate", hx("81 03 ed a0 80"), DONE)
case("utf8-fail-fast", hx("01 03 61 c3 28"), Watch(REPLY_SECONDS), hx("80 01 62"), DONE)

# Lengths at the encoding boundaries and the size cap (section 5.2).
for n in (125, 126, 65535, 65536):
    case("length-%d" % n, frame(0x1, pattern(n)), DONE)
case("length-at-cap", frame(0x1, pattern(MESSAGE_CAP)), DONE)
case("length-not-minimal", frame(0x1, b"hi", form=16), DONE)
case("length-top-bit", header(0x1, 1 << 63), DONE)
case("over-cap-header", header(0x1, MESSAGE_CAP + 1), Watch(REPLY_SECONDS),
     pattern(MESSAGE_CAP + 1), DONE)
case("over-cap-fragments", frame(0x1, pattern(MESSAGE_CAP // 2), fin=False),
     frame(0x0, pattern(MESSAGE_CAP // 2), fin=False), frame(0x0, b"x"), DONE)


# Reading the client -----------------------------------------------------------

class ClientFrames:
    """Splits the client's bytes into frames and records each."""

    def __init__(self):
        self.buffer = b""
        self.frames = []

    def feed(self, data):
        """Adds bytes; returns the frames they completed."""
        self.buffer += data
        done = []
        while True:
            parsed = self.parse_one()
            if parsed is None:
                return done
            self.frames.append(parsed)
            done.append(parsed)

    def parse_one(self):
        b = self.buffer
        if len(b) < 2:
            return None
        n = b[1] & 0x7F
        at = 2
        if n == 126:
            if len(b) < 4:
                return None
            n = struct.unpack("!H", b[2:4])[0]
            at = 4
        elif n == 127:
            if len(b) < 10:
                return None
            n = struct.unpack("!Q", b[2:10])[0]
            at = 10
        masked = bool(b[1] & 0x80)
        key = b"\0\0\0\0"
        if masked:
            if len(b) < at + 4:
                return None
            key = b[at:at + 4]
            at += 4
        if len(b) < at + n:
            return None
        body = bytes(c ^ key[i % 4] for i, c in enumerate(b[at:at + n]))
        self.buffer = b[at + n:]
        opcode = b[0] & 0x0F
        code = struct.unpack("!H", body[:2])[0] if opcode == 0x8 and n >= 2 else None
        reason = body[2:].decode("utf-8", "replace") if code is not None else None
        return {
            "opcode": opcode, "fin": bool(b[0] & 0x80), "rsv": (b[0] >> 4) & 7,
            "masked": masked, "length": n, "payload_hex": body[:PAYLOAD_HEX_LIMIT].hex(),
            "close_code": code, "close_reason": reason,
        }


class Connection:
    """One client connection running one case."""

    def __init__(self, conn, report):
        self.conn = conn
        self.report = report
        self.frames = ClientFrames()
        self.report["client_frames"] = self.frames.frames
        self.server_closed = False
        self.client_closed = False
        self.tls_ended = False
        self.answer_close = True

    def write(self, data):
        self.conn.sendall(data)
        if isinstance(data, Close):
            self.server_closed = True

    def got(self, data):
        for f in self.frames.feed(data):
            if f["opcode"] != 0x8:
                continue
            self.client_closed = True
            if self.answer_close and not self.server_closed:
                self.write(close(f["close_code"]))

    def watch(self, seconds, until=None):
        """Reads the client until it ends TLS, or for `seconds`, or until it
        sends a close (`until="close"`) or any frame (`until="frame"`)."""
        deadline = time.monotonic() + seconds
        while not self.tls_ended:
            if until == "close" and self.client_closed:
                return
            if until == "frame" and self.frames.frames:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.conn.settimeout(left)
            try:
                data = self.conn.recv(65536)
            except socket.timeout:
                return
            except ssl.SSLEOFError:
                # TCP ended without close_notify.
                self.tls_ended = True
                self.report["client_closed_tcp"] = True
                return
            except ConnectionResetError:
                self.tls_ended = True
                self.report["client_closed_tcp"] = True
                return
            if not data:
                self.tls_ended = True
                self.report["client_close_notify"] = True
                return
            self.got(data)

    def wait_for_fin(self, raw, seconds):
        """After TLS ended: reads the bare socket until the client's FIN."""
        raw.settimeout(seconds)
        try:
            while True:
                if not socket.socket.recv(raw, 65536):
                    self.report["client_closed_tcp"] = True
                    return
        except socket.timeout:
            return
        except OSError:
            self.report["client_closed_tcp"] = True

    def drop(self, step):
        if step.close_notify:
            # unwrap sends close_notify and waits for the client's.
            self.conn.settimeout(REPLY_SECONDS)
            raw = self.conn.unwrap()
            self.tls_ended = True
            self.report["client_close_notify"] = True
            self.wait_for_fin(raw, REPLY_SECONDS)
        else:
            # The socket's own shutdown, under TLS: a FIN with no
            # close_notify, while TLS records can still be read.
            socket.socket.shutdown(self.conn, socket.SHUT_WR)
            self.watch(REPLY_SECONDS)
            if self.report["client_close_notify"]:
                self.wait_for_fin(self.conn, REPLY_SECONDS)

    def run(self, case):
        self.answer_close = case.answer_close
        steps = list(case.steps)
        while steps:
            step = steps.pop(0)
            if isinstance(step, Watch):
                self.watch(step.seconds, step.until)
                if self.client_closed or self.tls_ended:
                    self.report["unsent_writes"] = sum(
                        1 for s in steps if isinstance(s, bytes))
                    break
            elif isinstance(step, Drop):
                self.drop(step)
                return
            else:
                self.write(step)
                time.sleep(WRITE_GAP_SECONDS)
        self.watch(REPLY_SECONDS)
        if self.tls_ended and self.report["client_close_notify"]:
            # Answer the client's close_notify, then wait for its FIN.
            try:
                self.conn.settimeout(REPLY_SECONDS)
                raw = self.conn.unwrap()
            except (ssl.SSLError, OSError):
                raw = self.conn
            self.wait_for_fin(raw, REPLY_SECONDS)


# The upgrade ------------------------------------------------------------------

def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > MAX_REQUEST_BYTES:
            return None, b""
        chunk = conn.recv(4096)
        if not chunk:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def upgrade(conn, report):
    """Answers the upgrade; returns (case, bytes after the request) or None."""
    head, rest = read_request(conn)
    if head is None:
        report["error"] = "no complete upgrade request"
        return None
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())

    def one(name):
        values = headers.get(name, [])
        return values[0] if len(values) == 1 else ""

    path = parts[1] if len(parts) == 3 else ""
    report["path"] = path
    name = path.split("?", 1)[0]
    name = name[len("/case/"):] if name.startswith("/case/") else None
    report["case"] = name
    try:
        key_ok = len(base64.b64decode(one("sec-websocket-key"), validate=True)) == 16
    except ValueError:
        key_ok = False
    good = (
        len(parts) == 3 and parts[0] == "GET" and parts[2] == "HTTP/1.1"
        and one("upgrade").lower() == "websocket"
        and "upgrade" in [t.strip().lower() for t in one("connection").split(",")]
        and one("sec-websocket-version") == "13"
        and one("host") != ""
        and key_ok
    )
    if not good:
        report["status"] = 400
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                     b"Connection: close\r\n\r\n")
        return None
    if name not in CASES:
        report["status"] = 404
        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                     b"Connection: close\r\n\r\n")
        return None
    accept = base64.b64encode(hashlib.sha1(one("sec-websocket-key").encode() + GUID).digest())
    response = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n")
    offered = [p.strip() for v in headers.get("sec-websocket-protocol", []) for p in v.split(",")]
    if SUBPROTOCOL in offered:
        report["subprotocol"] = SUBPROTOCOL
        response += b"Sec-WebSocket-Protocol: " + SUBPROTOCOL.encode() + b"\r\n"
    conn.sendall(response + b"\r\n")
    report["status"] = 101
    return CASES[name], rest


# Serving ----------------------------------------------------------------------

def serve(raw, context):
    report = {
        "case": None, "path": None, "status": None, "subprotocol": None,
        "client_frames": [], "client_close_notify": False, "client_closed_tcp": False,
        "unsent_writes": 0, "error": None,
    }
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    raw.settimeout(REPLY_SECONDS)
    conn = None
    try:
        conn = context.wrap_socket(raw, server_side=True, suppress_ragged_eofs=False)
        chosen = upgrade(conn, report)
        if chosen is not None:
            which, rest = chosen
            connection = Connection(conn, report)
            if rest:
                connection.got(rest)
            connection.run(which)
    except (OSError, ssl.SSLError, ValueError) as error:
        report["error"] = "%s: %s" % (type(error).__name__, error)
    finally:
        try:
            (conn or raw).close()
        except OSError:
            pass
        with OUTPUT_LOCK:
            print(json.dumps(report), flush=True)
        with ACTIVITY_LOCK:
            ACTIVITY["connections"] -= 1
            ACTIVITY["last"] = time.monotonic()


def watchdog():
    while True:
        time.sleep(1)
        with ACTIVITY_LOCK:
            idle = ACTIVITY["connections"] == 0 and (
                time.monotonic() - ACTIVITY["last"] > IDLE_EXIT_SECONDS)
        if idle:
            os._exit(0)


def exit_on_stdin_eof():
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


def main():
    parser = argparse.ArgumentParser(description="websocket conformance server for ward")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    parser.add_argument("--list", action="store_true", help="print the case names and exit")
    args = parser.parse_args()
    if args.list:
        print("\n".join(CASES))
        return
    if not args.cert or not args.key:
        parser.error("--cert and --key are required")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    server = socket.socket(family, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((args.host, args.port))
    server.listen(16)
    print("port %d" % server.getsockname()[1], flush=True)

    threading.Thread(target=watchdog, daemon=True).start()
    if args.exit_on_stdin_eof:
        threading.Thread(target=exit_on_stdin_eof, daemon=True).start()
    while True:
        raw, _ = server.accept()
        with ACTIVITY_LOCK:
            ACTIVITY["connections"] += 1
            ACTIVITY["last"] = time.monotonic()
        threading.Thread(target=serve, args=(raw, context), daemon=True).start()


if __name__ == "__main__":
    main()
