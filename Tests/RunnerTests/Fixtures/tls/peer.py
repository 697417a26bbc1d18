"""Real network peers for ward's TCP and TLS tests (standard library only).

Each mode listens on a free loopback port, prints "port N" first, serves one
connection (the proxy: one tunnel), prints what it saw as "event ..." lines
and exits. A watchdog ends the process if a test never connects.

  tcp-echo                       echo plain TCP until EOF
  greeter                        send "hello from target\\n", then echo
  silent                         accept, never send; report when the client closes
  tls-echo CERT KEY              TLS echo; at the client's close_notify, unwrap()
  tls-close CERT KEY             send "bye", then close_notify (unwrap)
  tls-truncate CERT KEY          send "bye", then close TCP without close_notify
  tls-stall CERT KEY             finish the handshake, then never read
  proxy                          HTTP CONNECT proxy (asyncio)

Options: --host H (default 127.0.0.1), --slow (small receive buffer, slow
reads), --tls11 (offer only TLS 1.1), --status N (proxy answers N instead
of tunnelling), --auth B64 (proxy checks Proxy-Authorization: Basic B64),
--combine (proxy sends the target's first bytes in the same write as its 200).
"""

import argparse
import asyncio
import hashlib
import signal
import socket
import ssl
import sys
import time
import warnings

WATCHDOG_SECONDS = 60
STALL_SECONDS = 10


def event(text):
    print("event " + text, flush=True)


def listen(host):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server = socket.socket(family, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return server


def start(server, host, slow=False):
    if slow:
        # Inherited by the accepted socket: the client meets backpressure.
        server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    server.bind((host, 0))
    server.listen(8)
    print("port %d" % server.getsockname()[1], flush=True)


def echo(conn, slow):
    digest = hashlib.sha256()
    total = 0
    while True:
        data = conn.recv(4096 if slow else 65536)
        if not data:
            break
        total += len(data)
        digest.update(data)
        conn.sendall(data)
        if slow:
            time.sleep(0.002)
    event("received %d sha256=%s" % (total, digest.hexdigest()))


def tls_context(args):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    if args.tls11:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            context.minimum_version = ssl.TLSVersion.TLSv1_1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
        # OpenSSL 3 allows TLS 1.1 only at security level 0.
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def serve_tls(args):
    server = listen(args.host)
    start(server, args.host, args.slow)
    raw, _ = server.accept()
    try:
        conn = tls_context(args).wrap_socket(
            raw, server_side=True, suppress_ragged_eofs=False)
    except (ssl.SSLError, OSError) as error:
        event("handshake failed: %s" % error)
        return
    event("handshake %s" % conn.version())
    if args.mode == "tls-echo":
        try:
            echo(conn, args.slow)
            event("close_notify received")
        except ssl.SSLEOFError as error:
            event("unclean end: %s" % error)
            return
        except OSError as error:
            event("read failed: %s" % error)
            return
        try:
            conn.unwrap()
            event("unwrap ok")
        except (ssl.SSLError, OSError) as error:
            event("unwrap failed: %s" % error)
    elif args.mode == "tls-close":
        conn.sendall(b"bye")
        try:
            conn.unwrap()
            event("unwrap ok")
        except (ssl.SSLError, OSError) as error:
            event("unwrap failed: %s" % error)
    elif args.mode == "tls-stall":
        time.sleep(STALL_SECONDS)
    elif args.mode == "tls-truncate":
        conn.sendall(b"bye")
        # SSLSocket.shutdown drops the TLS layer first: no close_notify.
        conn.shutdown(socket.SHUT_RDWR)
        event("closed without close_notify")
    conn.close()


def serve_plain(args):
    server = listen(args.host)
    start(server, args.host, args.slow)
    conn, _ = server.accept()
    if args.mode == "greeter":
        conn.sendall(b"hello from target\n")
    if args.mode == "silent":
        while conn.recv(65536):
            pass
        event("client closed")
    else:
        echo(conn, args.slow)
    conn.close()


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        try:
            writer.write_eof()
        except OSError:
            pass


async def proxy(args):
    done = asyncio.Event()

    async def handle(reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            event("request " + lines[0])
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            event("host " + headers.get("host", "-"))
            auth = headers.get("proxy-authorization")
            if args.auth is not None:
                ok = auth == "Basic " + args.auth
                event("auth " + ("ok" if ok else "wrong" if auth else "missing"))
                if not ok:
                    writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                                 b"Proxy-Authenticate: Basic realm=\"ward test\"\r\n"
                                 b"Content-Length: 0\r\n\r\n")
                    await writer.drain()
                    writer.close()
                    return
            if args.status:
                writer.write(b"HTTP/1.1 %d Refused By Test\r\nContent-Length: 0\r\n\r\n"
                             % args.status)
                await writer.drain()
                writer.close()
                return
            target = lines[0].split(" ")[1]
            host, _, port = target.rpartition(":")
            up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
            answer = b"HTTP/1.1 200 Connection established\r\n\r\n"
            if args.combine:
                answer += await up_reader.read(65536)
            writer.write(answer)
            await writer.drain()
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
            event("tunnel closed")
        finally:
            done.set()

    server = await asyncio.start_server(handle, args.host, 0)
    print("port %d" % server.sockets[0].getsockname()[1], flush=True)
    await done.wait()
    server.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode")
    parser.add_argument("cert", nargs="?")
    parser.add_argument("key", nargs="?")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--slow", action="store_true")
    parser.add_argument("--tls11", action="store_true")
    parser.add_argument("--status", type=int, default=0)
    parser.add_argument("--auth")
    parser.add_argument("--combine", action="store_true")
    args = parser.parse_args()
    signal.alarm(WATCHDOG_SECONDS)
    if args.mode == "proxy":
        asyncio.run(proxy(args))
    elif args.mode.startswith("tls-"):
        serve_tls(args)
    else:
        serve_plain(args)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
