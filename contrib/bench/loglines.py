"""Writes the benchmark's input: realistic log lines of mixed lengths, about 1 % of
them carrying something ward's default redaction rules replace.

One 8 MiB block of seeded random lines is written over and over up to the size asked
for, the last line padded so the file has exactly that many bytes; the same seed
gives the same file, so every run of the benchmark streams the same bytes."""

import random
import string
import sys

BLOCK_BYTES = 8 * 1024 * 1024
SECRET_SHARE = 0.01
ALNUM = string.ascii_letters + string.digits

HOSTS = ["web-1", "web-2", "db-1", "cache-3", "worker-7"]
UNITS = ["nginx", "app", "sshd", "cron", "postgres", "kubelet"]
PATHS = ["/api/v1/items", "/api/v1/users", "/healthz", "/static/app.js", "/login", "/metrics"]
WORDS = ("request served upstream timeout retry pool connection closed opened cache miss hit "
         "token_count=3 pass_count=12 tokenizer=bpe max_tokens=9 session started finished "
         "queue depth worker idle busy shard replica leader election term commit").split()


def secret(rng: random.Random) -> str:
    """A phrase one of the default rules redacts; each value is longer than its
    marker, so redaction never makes a line longer."""
    pick = rng.randrange(5)
    token = "".join(rng.choice(ALNUM) for _ in range(40))
    if pick == 0:
        return f"login ok user=alice password={token}"
    if pick == 1:
        return f"calling upstream with Authorization: Bearer {token}"
    if pick == 2:
        return f"cloning with ghp_{token[:36]} as credential"
    if pick == 3:
        return f"config loaded api_key={token}"
    return f"slack notify xoxb-{token[:30]} sent"


def line(rng: random.Random, n: int) -> str:
    host, unit = rng.choice(HOSTS), rng.choice(UNITS)
    stamp = f"2024-05-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:{(n * 7) % 60:02d}.{n % 1000:03d}Z"
    kind = rng.random()
    if kind < SECRET_SHARE:
        body = secret(rng)
    elif kind < 0.55:
        body = (f"{rng.choice(['GET', 'POST', 'PUT'])} {rng.choice(PATHS)}?page={n % 97} "
                f"{rng.choice([200, 200, 200, 304, 404, 500])} {rng.randrange(1, 900)}ms "
                f"ua=\"Mozilla/5.0 (X11; Linux x86_64)\" id={rng.getrandbits(64):016x}")
    elif kind < 0.97:
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 40)))
    else:  # a long line: a stack trace joined, a JSON blob
        body = "trace: " + " <- ".join(f"frame{i} at mod{i}.py:{i * 7}"
                                       for i in range(rng.randrange(20, 120)))
    return f"{stamp} {host} {unit}[{rng.randrange(100, 9999)}]: {body}\n"


def block(seed: int = 6) -> bytes:
    rng = random.Random(seed)
    out, size, n = [], 0, 0
    while size < BLOCK_BYTES:
        text = line(rng, n)
        out.append(text)
        size += len(text)
        n += 1
    return "".join(out).encode()


def write(path: str, total: int) -> None:
    data = block()
    with open(path, "wb") as f:
        left = total
        while left > len(data):
            f.write(data)
            left -= len(data)
        cut = data.rfind(b"\n", 0, left) + 1
        f.write(data[:cut])
        pad = left - cut
        if pad:
            f.write(b"x" * (pad - 1) + b"\n" if pad > 1 else b"\n")


if __name__ == "__main__":
    write(sys.argv[1], int(sys.argv[2]))
