"""A minimal RFC 6455 echo server, written from the RFC with Python's standard
library only, so ward's client is checked against framing code that is not
wslay's and not ward's.

It serves one connection on the socket at fd 0 (the test hands it one end of a
socketpair) and checks the client as strictly as it serves it:
  - the upgrade request must be a GET with Upgrade, Connection, a 16-byte key
    and version 13; otherwise it answers 400 and exits 3;
  - right after the 101 it sends "ready:" + "\u00e6" as two fragments split
    inside the character, with a ping "srv" between them;
  - every client frame must be masked with RSV clear, else it closes with
    4002 and exits 4; each text is echoed back (unmasked, 7/16/64-bit length
    as the size needs);
  - on the client's close it answers with the same code, or with 4001 when
    the pong for its ping never came, and exits 0 (or 5).
"""

import base64
import hashlib
import socket
import struct
import sys

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(opcode, payload, fin=True):
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError("client closed mid-frame")
        data += chunk
    return data


def read_frame(conn):
    b0, b1 = read_exact(conn, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", read_exact(conn, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", read_exact(conn, 8))[0]
    masked = bool(b1 & 0x80)
    key = read_exact(conn, 4) if masked else b"\0\0\0\0"
    body = bytes(c ^ key[i % 4] for i, c in enumerate(read_exact(conn, n)))
    return b0 & 0x80, (b0 >> 4) & 7, b0 & 0x0F, masked, body


def handshake(conn):
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = conn.recv(4096)
        if not chunk:
            raise EOFError("client closed during the upgrade")
        request += chunk
    head, _, rest = request.partition(b"\r\n\r\n")
    lines = head.decode("ascii").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    key = headers.get("sec-websocket-key", "")
    good = (
        lines[0].startswith("GET ")
        and lines[0].endswith(" HTTP/1.1")
        and headers.get("upgrade", "").lower() == "websocket"
        and "upgrade" in headers.get("connection", "").lower()
        and headers.get("sec-websocket-version") == "13"
        and "host" in headers
        and len(base64.b64decode(key, validate=True)) == 16
    )
    if not good or rest:
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        sys.exit(3)
    accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest())
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )


def main():
    conn = socket.socket(fileno=0)
    conn.settimeout(10)
    response = handshake(conn)
    ready = "ready:\u00e6".encode()
    conn.sendall(
        response
        + frame(0x1, ready[:-1], fin=False)
        + frame(0x9, b"srv")
        + frame(0x0, ready[-1:])
    )
    ponged = False
    while True:
        fin, rsv, opcode, masked, body = read_frame(conn)
        if not masked or rsv or not fin:
            conn.sendall(frame(0x8, struct.pack("!H", 4002)))
            sys.exit(4)
        if opcode == 0x1:
            conn.sendall(frame(0x1, body))
        elif opcode == 0xA:
            ponged = ponged or body == b"srv"
        elif opcode == 0x8:
            code = body[:2] if ponged else struct.pack("!H", 4001)
            conn.sendall(frame(0x8, code))
            conn.shutdown(socket.SHUT_WR)
            sys.exit(0 if ponged else 5)


if __name__ == "__main__":
    main()
